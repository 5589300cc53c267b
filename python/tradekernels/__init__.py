"""tradekernels: native-speed trading kernels as NumPy generalized ufuncs.

Public functions take arrays, lists or pandas objects (see :mod:`tradekernels._api`
for the conversion rules); the raw ufuncs are in :mod:`tradekernels.ufuncs`
and the pure-Python definitions of every kernel in :mod:`tradekernels.reference`.
"""

from . import reference, ufuncs
from ._api import (
    Episode,
    cumulative_returns,
    drawdown,
    drawdown_episode,
    log_returns,
    max_drawdown,
    simple_returns,
    underwater_bars,
)
from ._backend import BACKENDS, ShadowMismatch, backend, get_backend, set_backend
from ._state import State
from . import stream  # live (tick by tick) kernels
from .ufuncs import simd_path
from .fills import BarIndex, Fills, OrderKind, fill_orders
from .sessions import (
    Calendar,
    SessionTable,
    minutes_into_session,
    session_index,
    session_label,
    session_mask,
    session_start,
)

__version__ = "0.1.0"

__all__ = [
    "BACKENDS",
    "Episode",
    "State",
    "stream",
    "ShadowMismatch",
    "backend",
    "cumulative_returns",
    "drawdown",
    "drawdown_episode",
    "get_backend",
    "log_returns",
    "max_drawdown",
    "reference",
    "set_backend",
    "simd_path",
    "simple_returns",
    "ufuncs",
    "underwater_bars",
    "BarIndex",
    "Fills",
    "OrderKind",
    "fill_orders",
    "Calendar",
    "SessionTable",
    "minutes_into_session",
    "session_index",
    "session_label",
    "session_mask",
    "session_start",
]
