"""The raw kernels as :class:`numpy.ufunc` objects (generalized ufuncs).

They follow NumPy conventions exactly: ``out=``, ``axis=``, broadcasting
over leading axes, any strides; the GIL is released while they run.  So
``out=`` casts by NumPy's "same_kind" rule (int64 counts into an int8 ``out=``
wrap silently) and may broadcast the call; the public functions
(``tradekernels.underwater_bars(..., out=)``...) refuse such an ``out=``.  One
ufunc per row of the C table (``src/<family>/kernels.toml``, listed by
:data:`tradekernels._registry.UFUNCS`): the scans (and their ``*_state``
variants) have float32 and float64 loops (other real dtypes are cast by
NumPy's rules); the fills kernels (``bar_index``, ``fill_orders``,
``fill_orders_naive``) are float64 with int64 order fields; the session
kernels take int64 timestamps.

The SIMD path is chosen once, at import: the fastest one this CPU supports,
or the one named by the environment variable ``TRADEKERNELS_SIMD``
(``auto``, ``scalar``, ``avx2``, ``avx512`` or ``avx512_emu``; a value naming no
path this CPU can run warns and falls back to ``auto``).  Every path gives
identical bits.
:func:`for_path` builds a separate set of ufuncs for a given path.

The code each path runs (a kernel's declared ``simd`` paths have cores of their
own, ``_core.core_paths(path)``; the hand-written SSE2 outside the scans' cores
is named by ``_core.simd_code(path)``):

* ``scalar``: portable C loops only, no hand-written SIMD (the compiler may
  still vectorise them): the scans' scalar cores, the plain loop of the
  ``drawdowns`` records' inside-episode scan, BarIndex's bar-by-bar build and
  the exits' scalar fold of eight values.
* ``avx2``: the AVX2 cores of the kernels that declare them (the scans
  ``simple_returns``, ``log_returns``, ``drawdown``, ``max_drawdown``,
  ``max_drawdown_duration`` and their ``_state`` variants, the session
  kernels), the AVX2 inside-episode scan of ``drawdowns``, and the SSE2
  code of ``bar_index`` (two bars a step), ``exit_orders`` and
  ``trades_from_signals`` (the trailing search's branch-free fold).
* ``avx512``: the AVX-512 cores where declared, elsewhere ``avx2``'s (the
  session and fills kernels; ``drawdowns``: the AVX2 scan).
* ``avx512_emu`` (a test path, never chosen by ``auto``): the AVX-512 cores
  compiled against SIMDe, on any CPU; the fills kernels' SSE2 code; the SSE2
  inside-episode scan of ``drawdowns`` (x86-64's baseline, so this path runs
  the same code on every CPU, and the SSE2 scan is tested on AVX2 machines);
  the scalar cores elsewhere.

``tradekernels.drawdowns`` (not a ufunc) reads :data:`simd_path` at each call;
the public fills functions call this module's ufuncs.
"""

from __future__ import annotations

import os
import warnings
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


def for_path(path: str, *, stream_min_bytes: int = 0) -> Mapping[str, np.ufunc]:
    """A fresh ``{name: ufunc}`` mapping whose loops use SIMD ``path``.

    ``stream_min_bytes`` (> 0, at least 4096) replaces the streaming threshold detected
    from the cache (:func:`tradekernels._core.stream_min_bytes`: outputs from that size on
    are written with non-temporal stores) in these ufuncs; the tests use it to reach the
    streaming stores with small arrays.  Raises ValueError for an unknown path or one this
    CPU cannot run.
    """
    return MappingProxyType(_core.make_ufuncs(path, int(stream_min_bytes)))


def _default_path() -> str:
    """``TRADEKERNELS_SIMD`` (case and spaces ignored), or the fastest path for "auto", ""
    and, with a RuntimeWarning naming the variable and the valid values, for any value
    that names no path this CPU can run (a bad environment must not break the import)."""
    raw = os.environ.get("TRADEKERNELS_SIMD", "")
    requested = raw.strip().lower() or "auto"
    paths = available_paths()
    fastest = [p for p in paths if not p.endswith("_emu")][-1]  # auto never picks an emulated path
    if requested == "auto":
        return fastest
    try:
        _core.make_ufuncs(requested)
    except (ValueError, TypeError) as e:
        warnings.warn(
            f"TRADEKERNELS_SIMD={raw!r} is ignored ({e}); valid values on this CPU: "
            f"{', '.join(['auto'] + paths)}; using 'auto' ({fastest!r})",
            RuntimeWarning,
            stacklevel=2,
        )
        return fastest
    return requested


simd_path: str = _default_path()
globals().update(for_path(simd_path))
