"""Scans: returns and drawdowns along a time axis (C: ``src/scans/``).

The public functions (``api``, generated from ``src/scans/kernels.toml``),
the pure-Python twins (``reference``), the golden cases (``golden``) and
the dask adapter (``dask``).  Every scan takes ``state=`` and has a live
stream (:mod:`tradekernels.stream`).
"""

from .api import *  # noqa: F401,F403
from .api import __all__  # noqa: F401
