from contextlib import AbstractContextManager
from typing import Any, Literal, NamedTuple, Optional, Tuple, TypeVar, Union, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import reference as reference
from . import ufuncs as ufuncs
from . import stream as stream
from ._state import State as State

__version__: str
BACKENDS: Tuple[str, ...]
simd_path: str

_Axis = Optional[Union[int, str]]
_Arr = TypeVar("_Arr", bound=np.ndarray)

class ShadowMismatch(AssertionError):
    kernel: str
    output: int
    index: Tuple[int, ...]
    native: object
    reference: object

class Episode(NamedTuple):
    peak: Any
    trough: Any
    recovery: Any
    depth: Any

def set_backend(name: str) -> None: ...
def get_backend() -> str: ...
def backend(name: str) -> AbstractContextManager[None]: ...

# Scan kernels: same shape out as in; Series -> Series, DataFrame -> DataFrame.
# return_state=True returns (result, State) for chunked processing.
@overload
def simple_returns(x: pd.Series, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
                   return_state: Literal[False] = ...) -> pd.Series: ...
@overload
def simple_returns(x: pd.DataFrame, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
                   return_state: Literal[False] = ...) -> pd.DataFrame: ...
@overload
def simple_returns(x: npt.ArrayLike, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
                   return_state: Literal[False] = ...) -> np.ndarray: ...
@overload
def simple_returns(x: Any, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
                   return_state: Literal[True]) -> Tuple[Any, State]: ...
@overload
def log_returns(x: pd.Series, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
                return_state: Literal[False] = ...) -> pd.Series: ...
@overload
def log_returns(x: pd.DataFrame, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
                return_state: Literal[False] = ...) -> pd.DataFrame: ...
@overload
def log_returns(x: npt.ArrayLike, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
                return_state: Literal[False] = ...) -> np.ndarray: ...
@overload
def log_returns(x: Any, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
                return_state: Literal[True]) -> Tuple[Any, State]: ...
@overload
def cumulative_returns(r: pd.Series, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
                       return_state: Literal[False] = ...) -> pd.Series: ...
@overload
def cumulative_returns(r: pd.DataFrame, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
                       return_state: Literal[False] = ...) -> pd.DataFrame: ...
@overload
def cumulative_returns(r: npt.ArrayLike, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
                       return_state: Literal[False] = ...) -> np.ndarray: ...
@overload
def cumulative_returns(r: Any, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
                       return_state: Literal[True]) -> Tuple[Any, State]: ...
@overload
def drawdown(x: pd.Series, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
             return_state: Literal[False] = ...) -> pd.Series: ...
@overload
def drawdown(x: pd.DataFrame, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
             return_state: Literal[False] = ...) -> pd.DataFrame: ...
@overload
def drawdown(x: npt.ArrayLike, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
             return_state: Literal[False] = ...) -> np.ndarray: ...
@overload
def drawdown(x: Any, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
             return_state: Literal[True]) -> Tuple[Any, State]: ...
@overload
def underwater_bars(x: pd.Series, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
                    return_state: Literal[False] = ...) -> pd.Series: ...
@overload
def underwater_bars(x: pd.DataFrame, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
                    return_state: Literal[False] = ...) -> pd.DataFrame: ...
@overload
def underwater_bars(x: npt.ArrayLike, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
                    return_state: Literal[False] = ...) -> np.ndarray: ...
@overload
def underwater_bars(x: Any, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
                    return_state: Literal[True]) -> Tuple[Any, State]: ...

# Reductions: a scalar for 1-D input, one value per column for a DataFrame.
@overload
def max_drawdown(x: pd.DataFrame, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
                 return_state: Literal[False] = ...) -> pd.Series: ...
@overload
def max_drawdown(x: npt.ArrayLike, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
                 return_state: Literal[False] = ...) -> Any: ...
@overload
def max_drawdown(x: Any, *, axis: _Axis = ..., out: Optional[np.ndarray] = ..., state: Optional[State] = ...,
                 return_state: Literal[True]) -> Tuple[Any, State]: ...
@overload
def drawdown_episode(x: pd.DataFrame, *, axis: _Axis = ..., out: Optional[Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = ...,
                     state: Optional[State] = ...,
                     return_state: Literal[False] = ...) -> pd.DataFrame: ...
@overload
def drawdown_episode(x: npt.ArrayLike, *, axis: _Axis = ..., out: Optional[Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = ...,
                     state: Optional[State] = ...,
                     return_state: Literal[False] = ...) -> Episode: ...
@overload
def drawdown_episode(x: Any, *, axis: _Axis = ..., out: Optional[Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = ...,
                     state: Optional[State] = ...,
                     return_state: Literal[True]) -> Tuple[Any, State]: ...
@overload
def ulcer_index(x: pd.DataFrame, *, ddof: int = ..., axis: _Axis = ..., out: Optional[np.ndarray] = ...,
                state: Optional[State] = ..., return_state: Literal[False] = ...) -> pd.Series: ...
@overload
def ulcer_index(x: npt.ArrayLike, *, ddof: int = ..., axis: _Axis = ..., out: Optional[np.ndarray] = ...,
                state: Optional[State] = ..., return_state: Literal[False] = ...) -> Any: ...
@overload
def ulcer_index(x: Any, *, ddof: int = ..., axis: _Axis = ..., out: Optional[np.ndarray] = ...,
                state: Optional[State] = ..., return_state: Literal[True]) -> Tuple[Any, State]: ...

# Windowed scans: same shape out as in.
@overload
def rolling_max_drawdown(x: pd.Series, window: int, *, min_periods: Optional[int] = ..., axis: _Axis = ...,
                         out: Optional[np.ndarray] = ...) -> pd.Series: ...
@overload
def rolling_max_drawdown(x: pd.DataFrame, window: int, *, min_periods: Optional[int] = ..., axis: _Axis = ...,
                         out: Optional[np.ndarray] = ...) -> pd.DataFrame: ...
@overload
def rolling_max_drawdown(x: npt.ArrayLike, window: int, *, min_periods: Optional[int] = ..., axis: _Axis = ...,
                         out: Optional[np.ndarray] = ...) -> np.ndarray: ...

# Order fills (tradekernels.fills)
from .fills import BarIndex as BarIndex, Fills as Fills, OrderKind as OrderKind, fill_orders as fill_orders

# Trading sessions (tradekernels.sessions)
from .sessions import (
    Calendar as Calendar,
    SessionTable as SessionTable,
    minutes_into_session as minutes_into_session,
    session_index as session_index,
    session_label as session_label,
    session_mask as session_mask,
    session_start as session_start,
)
