"""One row per kernel: the ufunc, its reference twin and its tolerance.

The thin API, the backends and the test suite are all driven by this
table, so adding a kernel means one C loop, one C table row, one reference
function and one row here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Tuple

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


KERNELS: Tuple[Kernel, ...] = (
    Kernel("simple_returns", True, ("f",), 0, reference.simple_returns),
    Kernel("log_returns", True, ("f",), 1, reference.log_returns),
    Kernel("cumulative_returns", True, ("f",), 0, reference.cumulative_returns),
    Kernel("drawdown", True, ("f",), 0, reference.drawdown),
    Kernel("max_drawdown", False, ("f",), 0, reference.max_drawdown),
    Kernel("drawdown_episode", False, ("i", "i", "i", "f"), 0, reference.drawdown_episode),
    Kernel("underwater_bars", True, ("i",), 0, reference.underwater_bars),
)

_BY_NAME = {k.name: k for k in KERNELS}


def get(name: str) -> Kernel:
    return _BY_NAME[name]
