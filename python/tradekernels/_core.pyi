from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np
from typing_extensions import disjoint_base

ORDER_KINDS: Dict[str, int]
FILL_GROUP: int
FILL_BLOCK: int
FILL_SUPER: int
EXIT_REASONS: Dict[str, int]
SAME_BAR: Dict[str, int]
ENTRY_AT: Dict[str, int]

def make_ufuncs(path: str, stream_min: int = 0, /) -> Dict[str, np.ufunc]: ...
def available_paths() -> list[str]: ...
def core_paths(path: str, /) -> Dict[str, str]: ...
def stream_min_bytes() -> int: ...
def drawdowns(
    x: np.ndarray,
    dtype: Any,
    state: Optional[np.ndarray] = ...,
    final: bool = ...,
    path: Optional[str] = ...,
    /,
) -> np.ndarray: ...
def simd_code(path: str, /) -> Dict[str, str]: ...
def kernels() -> Tuple[Dict[str, Any], ...]: ...

class _Stream:
    def __init__(self, state: Optional[Sequence[float]] = ...) -> None: ...
    def update(self, x: float, /) -> Any: ...
    @property
    def state_vector(self) -> Tuple[float, ...]: ...

@disjoint_base
class SimpleReturns(_Stream): ...

@disjoint_base
class LogReturns(_Stream): ...

@disjoint_base
class CumulativeReturns(_Stream): ...

@disjoint_base
class Drawdown(_Stream): ...

@disjoint_base
class UnderwaterBars(_Stream):
    @property
    def value(self) -> int: ...

@disjoint_base
class MaxDrawdown(_Stream):
    @property
    def value(self) -> float: ...

@disjoint_base
class DrawdownEpisode(_Stream):
    @property
    def episode(self) -> Tuple[int, int, int, float]: ...

@disjoint_base
class MaxDrawdownDuration(_Stream):
    @property
    def value(self) -> int: ...

@disjoint_base
class UlcerIndex(_Stream): ...

@disjoint_base
class Bracket:
    def __init__(
        self,
        entry_price: float,
        side: int = ...,
        *,
        sl_stop: Optional[float] = ...,
        tsl_stop: Optional[float] = ...,
        tp_stop: Optional[float] = ...,
        sl_trail: bool = ...,
        same_bar: str = ...,
        sl_price: Optional[float] = ...,
        tp_price: Optional[float] = ...,
        slippage: float = ...,
    ) -> None: ...
    def update(
        self, open: float, high: float, low: float, close: float, /
    ) -> Optional[Tuple[float, int]]: ...
    @property
    def closed(self) -> bool: ...
    @property
    def reference(self) -> float: ...

@disjoint_base
class Order:
    def __init__(
        self, side: int, kind: int, price: float = ..., limit: float = ..., *, bars: int = ...
    ) -> None: ...
    def update(self, open: float, high: float, low: float, close: float, /) -> Optional[float]: ...
    @property
    def fill_index(self) -> int: ...
    @property
    def fill_price(self) -> float: ...
    @property
    def seen(self) -> int: ...
    @property
    def converted(self) -> bool: ...
    @property
    def done(self) -> bool: ...

@disjoint_base
class SignalTrades:
    def __init__(
        self,
        side: int,
        sl: float,
        tsl: float,
        tp: float,
        trail: bool,
        same_bar: int,
        slip: float,
        fee: float,
        reenter: bool,
        at_open: bool,
    ) -> None: ...
    def update(
        self, open: float, high: float, low: float, close: float, /, entry: Any = ..., exit: Any = ...
    ) -> Optional[tuple]: ...
    def mark(self) -> Optional[tuple]: ...
    def _load(
        self,
        seen: int,
        phase: int,
        entry_idx: int,
        entry_price: float,
        ref: float,
        stop: float,
        target: float,
        frac: float,
        last_close: float,
        /,
    ) -> None: ...
    @property
    def phase(self) -> int: ...
    @property
    def seen(self) -> int: ...
    @property
    def entry_idx(self) -> int: ...
    @property
    def entry_price(self) -> float: ...
    @property
    def reference(self) -> float: ...
    @property
    def last_close(self) -> float: ...

@disjoint_base
class Drawdowns(_Stream):
    def update(self, x: float, /) -> Optional[Tuple[Any, ...]]: ...  # type: ignore[override]
    @property
    def active(self) -> Optional[Tuple[Any, ...]]: ...

@disjoint_base
class RollingMaxDrawdown:
    def __init__(self, window: int, min_periods: int, state: Optional[Sequence[float]] = ...) -> None: ...
    def update(self, x: float, /) -> float: ...
    @property
    def state_vector(self) -> Tuple[float, ...]: ...
    @property
    def window(self) -> int: ...
    @property
    def min_periods(self) -> int: ...
    @property
    def seen(self) -> int: ...

@disjoint_base
class SessionClock:
    def __init__(self, tick: type, outside: tuple, step: int, prev: int, /) -> None: ...
    def update(self, ts: Any, /) -> Any: ...
    def _bind(
        self,
        opens: np.ndarray,
        closes: np.ndarray,
        break_starts: np.ndarray,
        break_ends: np.ndarray,
        break_rows: np.ndarray,
        days: np.ndarray,
        labels: list,
        lo: int,
        hi: int,
        /,
    ) -> None: ...
    _prev: int
    @property
    def _step(self) -> int: ...
