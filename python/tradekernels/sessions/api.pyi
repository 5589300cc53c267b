import datetime as _dt
from typing import Any, Union

import numpy.typing as npt
import pandas as pd

from .calendar import Calendar

__all__ = ["session_mask", "session_index", "session_label", "session_start", "minutes_into_session"]

_TS = Union[npt.ArrayLike, _dt.datetime, pd.Timestamp, pd.DataFrame]

# pandas in -> pandas out (Series -> pd.Series, DataFrame -> pd.DataFrame); arrays -> arrays;
# scalars -> NumPy scalars.
def session_mask(ts: _TS, cal: Calendar, *, assume_sorted: bool = ..., unit: str = ...) -> Any: ...
def session_index(ts: _TS, cal: Calendar, *, assume_sorted: bool = ..., unit: str = ...) -> Any: ...
def session_label(ts: _TS, cal: Calendar, *, assume_sorted: bool = ..., unit: str = ...) -> Any: ...
def session_start(
    ts: _TS,
    cal: Calendar,
    *,
    axis: Any = ...,
    assume_sorted: bool = ...,
    state: Any = ...,
    return_state: bool = ...,
    unit: str = ...,
) -> Any: ...
def minutes_into_session(ts: _TS, cal: Calendar, *, unit: str = ...) -> Any: ...
