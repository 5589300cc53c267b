"""The pure-Python reference twins of every family, in one namespace.

Each family keeps its twin beside its API: :mod:`tradekernels.scans.reference`,
:mod:`tradekernels.fills.reference`, :mod:`tradekernels.sessions.reference`.
This module re-exports the scans and fills twins under their own names (the
sessions twin is :mod:`tradekernels.reference_sessions`).
"""

from .fills.reference import *  # noqa: F401,F403
from .fills.reference import __all__ as _fills_all
from .scans.reference import *  # noqa: F401,F403
from .scans.reference import START  # noqa: F401
from .scans.reference import __all__ as _scans_all

__all__ = list(_scans_all) + list(_fills_all)
