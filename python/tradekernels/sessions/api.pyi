import datetime as _dt
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt
import pandas as pd
import zoneinfo

TimeLike = Union[_dt.time, str]
DateLike = Union[_dt.date, str, np.datetime64]
_TS = Union[npt.ArrayLike, _dt.datetime, pd.Timestamp]

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
    def from_rows(labels: Sequence[_dt.date], opens: Sequence[int], closes: Sequence[int],
                  breaks: Sequence[Tuple[int, int, int]], first: _dt.date, last: _dt.date,
                  lo: int, hi: int) -> SessionTable: ...

class Calendar:
    tz: zoneinfo.ZoneInfo
    open: _dt.time
    close: _dt.time
    overnight: bool
    weekdays: frozenset[int]
    holidays: frozenset[_dt.date]
    early_closes: Dict[_dt.date, _dt.time]
    late_opens: Dict[_dt.date, _dt.time]
    breaks: Tuple[Tuple[_dt.time, _dt.time], ...]
    def __init__(self, tz: Any, open: TimeLike, close: TimeLike, weekdays: Iterable[int] = ...,
                 holidays: Iterable[DateLike] = ..., early_closes: Optional[Mapping[DateLike, TimeLike]] = ...,
                 late_opens: Optional[Mapping[DateLike, TimeLike]] = ...,
                 breaks: Iterable[Tuple[TimeLike, TimeLike]] = ...) -> None: ...
    def spec(self) -> Dict[str, Any]: ...
    def table(self, start: Optional[DateLike] = ..., end: Optional[DateLike] = ...) -> SessionTable: ...
    @classmethod
    def from_exchange_calendars(cls, name: str, start: Optional[DateLike] = ...,
                                end: Optional[DateLike] = ...) -> Calendar: ...

class ExchangeCalendar(Calendar):
    name: str
    def __init__(self, name: str, start: Optional[DateLike] = ..., end: Optional[DateLike] = ...) -> None: ...

# pandas in -> pd.Series out; arrays -> arrays; scalars -> NumPy scalars.
def session_mask(ts: _TS, cal: Calendar, *, assume_sorted: bool = ...) -> Any: ...
def session_index(ts: _TS, cal: Calendar, *, assume_sorted: bool = ...) -> Any: ...
def session_label(ts: _TS, cal: Calendar, *, assume_sorted: bool = ...) -> Any: ...
def session_start(ts: _TS, cal: Calendar, *, assume_sorted: bool = ..., state: Any = ...,
                  return_state: bool = ...) -> Any: ...
def minutes_into_session(ts: _TS, cal: Calendar) -> Any: ...
