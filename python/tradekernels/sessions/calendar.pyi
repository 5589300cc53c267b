import datetime as _dt
import zoneinfo
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple, Union

import numpy as np

from .table import SessionTable

TimeLike = Union[_dt.time, str]
DateLike = Union[_dt.date, str, np.datetime64]

__all__ = ["Calendar"]

class Calendar:
    tz: zoneinfo.ZoneInfo
    open: _dt.time
    close: _dt.time
    overnight: bool
    weekdays: frozenset[int]
    holidays: frozenset[_dt.date]
    early_closes: Mapping[_dt.date, _dt.time]
    late_opens: Mapping[_dt.date, _dt.time]
    breaks: Tuple[Tuple[_dt.time, _dt.time], ...]
    def __init__(
        self,
        tz: Any,
        open: TimeLike,
        close: TimeLike,
        weekdays: Iterable[int] = ...,
        holidays: Iterable[DateLike] = ...,
        early_closes: Optional[Mapping[DateLike, TimeLike]] = ...,
        late_opens: Optional[Mapping[DateLike, TimeLike]] = ...,
        breaks: Iterable[Tuple[TimeLike, TimeLike]] = ...,
    ) -> None: ...
    def spec(self) -> Dict[str, Any]: ...
    # value equality: zone key, open / close, weekdays, holidays, early closes, late opens, breaks
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    def replace(self, **changes: Any) -> Calendar: ...
    def table(self, start: Optional[DateLike] = ..., end: Optional[DateLike] = ...) -> SessionTable: ...
    def _extend_for(self, ns: np.ndarray) -> SessionTable: ...
    @classmethod
    def from_exchange_calendars(
        cls, name: str, start: Optional[DateLike] = ..., end: Optional[DateLike] = ...
    ) -> Calendar: ...
