"""The raw kernels as :class:`numpy.ufunc` objects (generalized ufuncs).

They follow NumPy conventions exactly: ``out=``, ``axis=``, broadcasting
over leading axes, any strides; the GIL is released while they run.  The
returns / drawdown kernels (and their ``*_state`` variants) have float32
and float64 loops (other real dtypes are cast by NumPy's rules); the fills
kernels (``bar_index``, ``fill_orders``, ``fill_orders_naive``) are float64
with int64 order fields; the session kernels take int64 epoch nanoseconds.

The SIMD path is chosen once, at import: the fastest one this CPU supports,
or the one named by the environment variable ``TRADEKERNELS_SIMD``
(``scalar`` or ``avx2``).  Every path gives identical bits.
:func:`for_path` builds a separate set of ufuncs for a given path.
"""

from __future__ import annotations

import os
from types import MappingProxyType
from typing import Mapping

import numpy as np

from . import _core

__all__ = [
    "simple_returns",
    "log_returns",
    "cumulative_returns",
    "drawdown",
    "max_drawdown",
    "drawdown_episode",
    "underwater_bars",
    "bar_index",
    "fill_orders",
    "fill_orders_naive",
    "session_mask",
    "session_index",
    "session_start",
    "minutes_into_session",
    "session_mask_sorted",
    "session_index_sorted",
    "session_start_sorted",
    "simple_returns_state",
    "log_returns_state",
    "cumulative_returns_state",
    "drawdown_state",
    "max_drawdown_state",
    "drawdown_episode_state",
    "underwater_bars_state",
    "simd_path",
    "available_paths",
    "for_path",
]


def available_paths() -> list[str]:
    """SIMD paths this CPU can run, slowest first (``scalar`` is always there)."""
    return list(_core.available_paths())


def for_path(path: str) -> Mapping[str, np.ufunc]:
    """A fresh ``{name: ufunc}`` mapping whose loops use SIMD ``path``.

    Raises ValueError for an unknown path or one this CPU cannot run.
    """
    return MappingProxyType(_core.make_ufuncs(path))


def _default_path() -> str:
    requested = os.environ.get("TRADEKERNELS_SIMD", "auto").strip().lower() or "auto"
    if requested == "auto":
        return available_paths()[-1]
    return requested


simd_path: str = _default_path()
_ufuncs = for_path(simd_path)

simple_returns: np.ufunc = _ufuncs["simple_returns"]
log_returns: np.ufunc = _ufuncs["log_returns"]
cumulative_returns: np.ufunc = _ufuncs["cumulative_returns"]
drawdown: np.ufunc = _ufuncs["drawdown"]
max_drawdown: np.ufunc = _ufuncs["max_drawdown"]
drawdown_episode: np.ufunc = _ufuncs["drawdown_episode"]
underwater_bars: np.ufunc = _ufuncs["underwater_bars"]
bar_index: np.ufunc = _ufuncs["bar_index"]
fill_orders: np.ufunc = _ufuncs["fill_orders"]
fill_orders_naive: np.ufunc = _ufuncs["fill_orders_naive"]
# Carried-state variants (n),(k)->...,(k): see tradekernels._state for the layouts.
simple_returns_state: np.ufunc = _ufuncs["simple_returns_state"]
log_returns_state: np.ufunc = _ufuncs["log_returns_state"]
cumulative_returns_state: np.ufunc = _ufuncs["cumulative_returns_state"]
drawdown_state: np.ufunc = _ufuncs["drawdown_state"]
max_drawdown_state: np.ufunc = _ufuncs["max_drawdown_state"]
drawdown_episode_state: np.ufunc = _ufuncs["drawdown_episode_state"]
underwater_bars_state: np.ufunc = _ufuncs["underwater_bars_state"]
session_mask: np.ufunc = _ufuncs["session_mask"]
session_index: np.ufunc = _ufuncs["session_index"]
session_start: np.ufunc = _ufuncs["session_start"]
minutes_into_session: np.ufunc = _ufuncs["minutes_into_session"]
# Sorted-input variants (same signature): search the session bounds, fill the runs.
session_mask_sorted: np.ufunc = _ufuncs["session_mask_sorted"]
session_index_sorted: np.ufunc = _ufuncs["session_index_sorted"]
session_start_sorted: np.ufunc = _ufuncs["session_start_sorted"]
