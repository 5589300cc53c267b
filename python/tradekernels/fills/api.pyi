import enum
from typing import Any, Literal, NamedTuple, Optional, Sequence, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

__all__ = [
    "OrderKind",
    "BarIndex",
    "Fills",
    "FillState",
    "fill_orders",
    "ExitReason",
    "Exits",
    "ExitState",
    "exit_orders",
    "TRADE_DTYPE",
    "trades_from_signals",
    "SignalState",
]

class OrderKind(enum.IntEnum):
    MARKET = 0
    LIMIT = 1
    STOP = 2
    STOP_LIMIT = 3

class Fills(NamedTuple):
    fill_index: Any
    fill_price: Any

class FillState(NamedTuple):
    seen: int
    phase: np.ndarray
    resume: np.ndarray
    fill_index: np.ndarray
    fill_price: np.ndarray
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...

class BarIndex:
    GROUP: int
    BLOCK: int
    SUPER: int
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    fill_low: np.ndarray
    fill_high: np.ndarray
    group_min_low: np.ndarray
    group_max_high: np.ndarray
    block_min_low: np.ndarray
    block_max_high: np.ndarray
    suffix_min_low: np.ndarray
    suffix_max_high: np.ndarray
    super_min_low: np.ndarray
    super_max_high: np.ndarray
    def __init__(
        self, open: npt.ArrayLike, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike
    ) -> None: ...
    @classmethod
    def from_frame(cls, frame: Any) -> BarIndex: ...
    @property
    def n(self) -> int: ...
    @property
    def symbols(self) -> int: ...
    def __len__(self) -> int: ...
    @property
    def arrays(self) -> Tuple[np.ndarray, ...]: ...
    @property
    def bars(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]: ...

_Kind = Union[str, int, OrderKind, Sequence[Union[str, int, OrderKind]], npt.ArrayLike]

@overload
def fill_orders(
    bars_or_index: Union[BarIndex, Sequence[npt.ArrayLike], Any],
    start: npt.ArrayLike,
    side: npt.ArrayLike,
    kind: _Kind,
    price: npt.ArrayLike,
    limit: Optional[npt.ArrayLike] = ...,
    expiry: npt.ArrayLike = ...,
    *,
    col: Optional[npt.ArrayLike] = ...,
    state: Optional[FillState] = ...,
    return_state: Literal[False] = ...,
) -> Fills: ...
@overload
def fill_orders(
    bars_or_index: Union[BarIndex, Sequence[npt.ArrayLike], Any],
    start: npt.ArrayLike,
    side: npt.ArrayLike,
    kind: _Kind,
    price: npt.ArrayLike,
    limit: Optional[npt.ArrayLike] = ...,
    expiry: npt.ArrayLike = ...,
    *,
    col: Optional[npt.ArrayLike] = ...,
    state: Optional[FillState] = ...,
    return_state: Literal[True],
) -> Tuple[Fills, FillState]: ...

class ExitReason(enum.IntEnum):
    NONE = 0
    SL = 1
    TSL = 2
    TP = 3
    EXPIRY = 4
    SIGNAL = 5
    END = 6

class Exits(NamedTuple):
    exit_idx: Any
    exit_price: Any
    reason: Any

class ExitState(NamedTuple):
    seen: int
    phase: np.ndarray
    ref: np.ndarray
    stop: np.ndarray
    target: np.ndarray
    frac: np.ndarray
    exit_idx: np.ndarray
    exit_price: np.ndarray
    reason: np.ndarray
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...

@overload
def exit_orders(
    bars_or_index: Union[BarIndex, Sequence[npt.ArrayLike], Any],
    entry_idx: npt.ArrayLike,
    entry_price: Optional[npt.ArrayLike] = ...,
    side: npt.ArrayLike = ...,
    *,
    sl_stop: Optional[npt.ArrayLike] = ...,
    tsl_stop: Optional[npt.ArrayLike] = ...,
    tp_stop: Optional[npt.ArrayLike] = ...,
    sl_trail: npt.ArrayLike = ...,
    sl_price: Optional[npt.ArrayLike] = ...,
    tp_price: Optional[npt.ArrayLike] = ...,
    same_bar: str = ...,
    entry_at: str = ...,
    expiry: npt.ArrayLike = ...,
    slippage: npt.ArrayLike = ...,
    col: Optional[npt.ArrayLike] = ...,
    state: Optional[ExitState] = ...,
    return_state: Literal[False] = ...,
) -> Exits: ...
@overload
def exit_orders(
    bars_or_index: Union[BarIndex, Sequence[npt.ArrayLike], Any],
    entry_idx: npt.ArrayLike,
    entry_price: Optional[npt.ArrayLike] = ...,
    side: npt.ArrayLike = ...,
    *,
    sl_stop: Optional[npt.ArrayLike] = ...,
    tsl_stop: Optional[npt.ArrayLike] = ...,
    tp_stop: Optional[npt.ArrayLike] = ...,
    sl_trail: npt.ArrayLike = ...,
    sl_price: Optional[npt.ArrayLike] = ...,
    tp_price: Optional[npt.ArrayLike] = ...,
    same_bar: str = ...,
    entry_at: str = ...,
    expiry: npt.ArrayLike = ...,
    slippage: npt.ArrayLike = ...,
    col: Optional[npt.ArrayLike] = ...,
    state: Optional[ExitState] = ...,
    return_state: Literal[True],
) -> Tuple[Exits, ExitState]: ...

TRADE_DTYPE: np.dtype

class SignalState(NamedTuple):
    seen: int
    phase: np.ndarray
    entry_idx: np.ndarray
    entry_price: np.ndarray
    ref: np.ndarray
    stop: np.ndarray
    target: np.ndarray
    frac: np.ndarray
    last_close: np.ndarray
    entry_time: Any
    last_time: Any
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...

@overload
def trades_from_signals(
    bars_or_index: Union[BarIndex, Sequence[npt.ArrayLike], Any],
    entries: npt.ArrayLike,
    exits: Optional[npt.ArrayLike] = ...,
    *,
    side: int = ...,
    price: str = ...,
    sl_stop: Optional[float] = ...,
    tsl_stop: Optional[float] = ...,
    tp_stop: Optional[float] = ...,
    sl_trail: bool = ...,
    same_bar: str = ...,
    slippage: float = ...,
    fees: float = ...,
    reenter_on_exit_bar: bool = ...,
    state: Optional[SignalState] = ...,
    return_state: Literal[False] = ...,
) -> Any: ...
@overload
def trades_from_signals(
    bars_or_index: Union[BarIndex, Sequence[npt.ArrayLike], Any],
    entries: npt.ArrayLike,
    exits: Optional[npt.ArrayLike] = ...,
    *,
    side: int = ...,
    price: str = ...,
    sl_stop: Optional[float] = ...,
    tsl_stop: Optional[float] = ...,
    tp_stop: Optional[float] = ...,
    sl_trail: bool = ...,
    same_bar: str = ...,
    slippage: float = ...,
    fees: float = ...,
    reenter_on_exit_bar: bool = ...,
    state: Optional[SignalState] = ...,
    return_state: Literal[True],
) -> Tuple[Any, SignalState]: ...

# used by tradekernels.dask
def _signal_params(
    side: Any,
    price: Any,
    sl_stop: Any,
    tsl_stop: Any,
    tp_stop: Any,
    sl_trail: Any,
    same_bar: Any,
    slippage: Any,
    fees: Any,
    reenter_on_exit_bar: Any,
    fn: str = ...,
) -> Tuple[Tuple[Any, ...], float]: ...
def _as_index(bars_or_index: Any, fn: str = ...) -> BarIndex: ...
def _kind_array(values: Any) -> np.ndarray: ...
def _choice(name: str, value: Any, codes: dict, fn: str = ...) -> int: ...

# used by tradekernels.fills._signal_chunks
def _terr(msg: str) -> str: ...
def _state_int(state: Any, name: str, lo: int, hi: int, err: Any) -> np.ndarray: ...
def _chunk_seen(
    state: Any, cls: type, shape: Tuple[int, ...], err: Any, what: str, arrays: slice = ...
) -> int: ...
def _levels(
    P: Any, lng: Any, sl: Any, tsl: Any, tp: Any, trail: Any, slp: Any, tpp: Any
) -> Tuple[Any, ...]: ...
def _run_exits(idx: BarIndex, order: Tuple[np.ndarray, ...], shape: Tuple[int, ...], cols: Any) -> Exits: ...
def _carry_ref(
    idx: BarIndex, cols: Any, first: np.ndarray, ref: np.ndarray, lng: np.ndarray
) -> np.ndarray: ...
def _signal_trades(
    idx: BarIndex, ent: np.ndarray, ext: np.ndarray, params: Tuple[Any, ...]
) -> Tuple[np.ndarray, ...]: ...
def _signal_entry_prices(
    idx: BarIndex, col: np.ndarray, entry: np.ndarray, params: Tuple[Any, ...]
) -> np.ndarray: ...
