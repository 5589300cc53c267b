"""The raw kernels as :class:`numpy.ufunc` objects (generalized ufuncs).

They follow NumPy conventions exactly: ``out=``, ``axis=``, broadcasting
over leading axes, any strides; the GIL is released while they run.  One
ufunc per row of the C table (``src/<family>/kernels.toml``, listed by
:data:`tradekernels._registry.UFUNCS`): the scans (and their ``*_state``
variants) have float32 and float64 loops (other real dtypes are cast by
NumPy's rules); the fills kernels (``bar_index``, ``fill_orders``,
``fill_orders_naive``) are float64 with int64 order fields; the session
kernels take int64 timestamps.

The SIMD path is chosen once, at import: the fastest one this CPU supports,
or the one named by the environment variable ``TRADEKERNELS_SIMD``
(``scalar``, ``avx2``, ``avx512`` or ``avx512_emu``).  Every path gives
identical bits.
:func:`for_path` builds a separate set of ufuncs for a given path.
"""

from __future__ import annotations

import os
from types import MappingProxyType
from typing import Mapping

import numpy as np

from . import _core, _registry

__all__ = ["simd_path", "available_paths", "for_path"] + [k.name for k in _registry.UFUNCS]


def available_paths() -> list[str]:
    """SIMD paths this CPU can run: ``scalar`` (always there), ``avx512_emu``
    (the AVX-512 kernels compiled against SIMDe: the AVX-512 algorithm on any
    CPU, for tests), then the native paths (``avx2``, ``avx512``), fastest last."""
    return list(_core.available_paths())


def for_path(path: str) -> Mapping[str, np.ufunc]:
    """A fresh ``{name: ufunc}`` mapping whose loops use SIMD ``path``.

    Raises ValueError for an unknown path or one this CPU cannot run.
    """
    return MappingProxyType(_core.make_ufuncs(path))


def _default_path() -> str:
    requested = os.environ.get("TRADEKERNELS_SIMD", "auto").strip().lower() or "auto"
    if requested == "auto":  # the fastest native path, never an emulated one
        return [p for p in available_paths() if not p.endswith("_emu")][-1]
    return requested


simd_path: str = _default_path()
globals().update(for_path(simd_path))
