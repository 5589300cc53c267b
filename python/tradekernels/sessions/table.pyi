import datetime as _dt
from typing import Any, Sequence, Tuple

import numpy as np

__all__ = ["SessionTable", "build", "coverage", "local_to_utc_ns", "wall_to_utc_us"]

class SessionTable:
    labels: np.ndarray
    opens: np.ndarray
    closes: np.ndarray
    break_starts: np.ndarray
    break_ends: np.ndarray
    break_rows: np.ndarray
    first: _dt.date
    last: _dt.date
    lo: int
    hi: int
    def __len__(self) -> int: ...
    def covers(self, first: _dt.date, last: _dt.date) -> bool: ...
    @staticmethod
    def from_rows(
        labels: Sequence[_dt.date],
        opens: Sequence[int],
        closes: Sequence[int],
        breaks: Sequence[Tuple[int, int, int]],
        first: _dt.date,
        last: _dt.date,
        lo: int,
        hi: int,
    ) -> SessionTable: ...

def wall_to_utc_us(wall: np.ndarray, tz: Any) -> np.ndarray: ...
def local_to_utc_ns(local_ns: int, tz: Any) -> int: ...
def coverage(first: _dt.date, last: _dt.date, tz: Any) -> Tuple[int, int]: ...
def build(cal: Any, first: _dt.date, last: _dt.date) -> SessionTable: ...
