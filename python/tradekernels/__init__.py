"""tradekernels: native-speed trading kernels as NumPy generalized ufuncs.

Four families, each a C folder ``src/<family>/`` and a package here:
:mod:`~tradekernels.scans` (returns, drawdowns), :mod:`~tradekernels.fills`
(order fills), :mod:`~tradekernels.sessions` (exchange sessions).  Public
functions take arrays, lists or pandas objects (see :mod:`tradekernels._api`
for the conversion rules); the raw ufuncs are in :mod:`tradekernels.ufuncs`,
the pure-Python twins that define every result in
``tradekernels.<family>.reference``, live objects in :mod:`tradekernels.stream`
and dask adapters in :mod:`tradekernels.dask` (imported on first use).
"""

from typing import Any

from . import reference, stream, ufuncs
from ._backend import BACKENDS, ShadowMismatch, backend, get_backend, set_backend
from ._state import State
from .fills import (
    BarIndex,
    ExitReason,
    Exits,
    ExitState,
    Fills,
    FillState,
    OrderKind,
    SignalState,
    exit_orders,
    fill_orders,
    trades_from_signals,
)
from .scans import *  # noqa: F401,F403 - one function per scan kernel
from .scans import __all__ as _scans_all
from .ufuncs import simd_path

__version__ = "0.1.0"

#: the sessions family's public names: its package (the calendar, zoneinfo) is
#: imported on first use of one of them
_SESSIONS = (
    "Calendar",
    "SessionTable",
    "minutes_into_session",
    "session_index",
    "session_label",
    "session_mask",
    "session_start",
)


__all__ = [
    "BACKENDS",
    "State",
    "stream",
    "ShadowMismatch",
    "backend",
    "get_backend",
    "reference",
    "set_backend",
    "simd_path",
    "ufuncs",
    "BarIndex",
    "Fills",
    "FillState",
    "OrderKind",
    "fill_orders",
    "ExitReason",
    "Exits",
    "ExitState",
    "SignalState",
    "exit_orders",
    "trades_from_signals",
    *_SESSIONS,
    *_scans_all,
]


def __getattr__(name: str) -> Any:
    """``tradekernels.dask``, ``tradekernels.plot`` and the sessions family
    (``tradekernels.sessions``, ``Calendar``, ``session_mask``, ...) are
    imported on first use (PEP 562), so that ``import tradekernels`` stays
    cheap and never imports dask or matplotlib."""
    if name in ("dask", "plot", "sessions"):
        import importlib

        return importlib.import_module("." + name, __name__)
    if name in _SESSIONS:
        from . import sessions

        value = getattr(sessions, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tradekernels' has no attribute {name!r}")
