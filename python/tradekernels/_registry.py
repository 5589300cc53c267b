"""One row per kernel: the ufunc, its reference twin and its tolerance.

The thin API, the backends and the test suite are all driven by this
table, so adding a kernel means one C loop, one C table row, one reference
function and one row here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Tuple

from . import reference

__all__ = ["Kernel", "KERNELS", "get"]


@dataclass(frozen=True)
class Kernel:
    name: str
    #: True for (n)->(n) kernels, False for reductions (n)->()...
    scan: bool
    #: kind of each output: "f" (input float dtype) or "i" (int64)
    outputs: Tuple[str, ...]
    #: allowed difference to the reference, in units in the last place
    ulps: int
    reference: Callable
    #: names of the carried-state fields (the float64 state vector of the
    #: ``<name>_state`` gufunc and of :class:`tradekernels.State`), in order
    state_fields: Tuple[str, ...] = ()
    #: the state before the first bar (what ``state=None`` means)
    state_default: Tuple[float, ...] = ()
    #: the reference twin from a carried state: ``(x, state) -> (outputs, state)``
    #: (``reference.<name>_chunk``; ``reference(x)`` is it from ``state_default``)
    chunk_reference: Optional[Callable] = None

    @property
    def state_len(self) -> int:
        return len(self.state_fields)


_START = reference.START
_EPISODE_FIELDS = ("peak", "peak_i", "best", "best_peak", "best_peak_i", "trough_i", "recovery_i",
                   "seen", "n")

KERNELS: Tuple[Kernel, ...] = (
    Kernel("simple_returns", True, ("f",), 0, reference.simple_returns,
           state_fields=("prev",), state_default=_START["simple_returns"],
           chunk_reference=reference.simple_returns_chunk),
    Kernel("log_returns", True, ("f",), 1, reference.log_returns,
           state_fields=("prev",), state_default=_START["log_returns"],
           chunk_reference=reference.log_returns_chunk),
    Kernel("cumulative_returns", True, ("f",), 0, reference.cumulative_returns,
           state_fields=("prod",), state_default=_START["cumulative_returns"],
           chunk_reference=reference.cumulative_returns_chunk),
    Kernel("drawdown", True, ("f",), 0, reference.drawdown,
           state_fields=("peak",), state_default=_START["drawdown"],
           chunk_reference=reference.drawdown_chunk),
    Kernel("max_drawdown", False, ("f",), 0, reference.max_drawdown,
           state_fields=("peak", "best", "seen"), state_default=_START["max_drawdown"],
           chunk_reference=reference.max_drawdown_chunk),
    Kernel("drawdown_episode", False, ("i", "i", "i", "f"), 0, reference.drawdown_episode,
           state_fields=_EPISODE_FIELDS,
           state_default=_START["drawdown_episode"],
           chunk_reference=reference.drawdown_episode_chunk),
    Kernel("underwater_bars", True, ("i",), 0, reference.underwater_bars,
           state_fields=("peak", "count"), state_default=_START["underwater_bars"],
           chunk_reference=reference.underwater_bars_chunk),
)

_BY_NAME = {k.name: k for k in KERNELS}


def get(name: str) -> Kernel:
    return _BY_NAME[name]
