"""Shared dask machinery of the family adapters (``<family>/dask.py``).

The module imports the real dask by its absolute name through importlib:
``tradekernels.dask`` must never shadow it.
"""

from __future__ import annotations

import importlib
from typing import Any, Dict, Tuple

import numpy as np

_da = importlib.import_module("dask.array")
_hlg = importlib.import_module("dask.highlevelgraph")
_dask_base = importlib.import_module("dask.base")


def _as_dask(name: str, x: Any, axis: int):
    if not isinstance(x, _da.Array):
        x = _da.from_array(np.asarray(x), chunks=-1)
    kind = x.dtype.kind
    if kind == "f":
        if x.dtype.itemsize < 4:
            x = x.astype(np.float32)
        elif x.dtype.itemsize > 8:
            x = x.astype(np.float64)
        elif not x.dtype.isnative:
            x = x.astype(x.dtype.newbyteorder("="))
    elif kind in "biu":
        x = x.astype(np.float64)
    else:
        raise TypeError(f"tradekernels.dask.{name}: expected real numbers, got dtype {x.dtype}")
    return _time_last(name, x, axis)


def _time_last(name: str, x: Any, axis: int):
    """(x with the time axis moved last, the time axis as a non-negative index)."""
    if x.ndim == 0:
        raise ValueError(f"tradekernels.dask.{name}: expected at least 1 dimension (the time axis)")
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"tradekernels.dask.{name}: axis must be an integer, got {axis!r}")
    ax = int(axis) + x.ndim if axis < 0 else int(axis)
    if not 0 <= ax < x.ndim:
        raise np.exceptions.AxisError(axis, x.ndim)
    return _da.moveaxis(x, ax, -1), ax


def _lead_shape(x, lead_idx: Tuple[int, ...]) -> Tuple[int, ...]:
    return tuple(x.chunks[d][i] for d, i in enumerate(lead_idx))


def _array(dsk: Dict, name: str, x, chunks, dtype) -> Any:
    graph = _hlg.HighLevelGraph.from_collections(name, dsk, dependencies=[x])
    return _da.Array(graph, name, chunks=chunks, dtype=dtype)
