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


def _as_dask(name: str, x: Any, axis: Any):
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


def _time_last(name: str, x: Any, axis: Any):
    """(x with the time axis moved last, the time axis as a non-negative index); ``axis``
    None is the default axis, the last one (as for in-memory arrays)."""
    if axis is None:
        axis = -1
    if x.ndim == 0:
        raise ValueError(f"tradekernels.dask.{name}: expected at least 1 dimension (the time axis)")
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"tradekernels.dask.{name}: axis must be an integer, got {axis!r}")
    ax = int(axis) + x.ndim if axis < 0 else int(axis)
    if not 0 <= ax < x.ndim:
        raise np.exceptions.AxisError(int(axis), x.ndim, msg_prefix=f"tradekernels.dask.{name}")
    return _da.moveaxis(x, ax, -1), ax


def _lead_shape(x, lead_idx: Tuple[int, ...]) -> Tuple[int, ...]:
    return tuple(x.chunks[d][i] for d, i in enumerate(lead_idx))


def _array(dsk: Dict, name: str, x, chunks, dtype) -> Any:
    graph = _hlg.HighLevelGraph.from_collections(name, dsk, dependencies=[x])
    return _da.Array(graph, name, chunks=chunks, dtype=dtype)


def record_chains(
    name: str,
    token: str,
    parts: list,
    step: Any,
    step_args: tuple,
    gather: Any,
    gather_args: tuple,
    dtype: Any,
) -> Any:
    """Records over arrays chunked along time (last axis) and series (first axis; any axes
    between in one chunk): per block of series, a chain of tasks
    ``step(*step_args, final, prev, *blocks)`` over its time chunks in order (``prev``: the
    previous task's ``(records, state)``, None first; ``final`` on the last chunk), then
    ``gather(row0, *gather_args, *chain)`` (``row0``: the block's first series, C order).
    Returns a 1-D dask array with one block of records (of unknown length) per block of series."""
    x = parts[0]
    row_blocks = x.numblocks[0] if x.ndim > 1 else 1
    row_size = int(np.prod(x.shape[1:-1])) if x.ndim > 1 else 1
    times = x.numblocks[-1]
    steps, out = f"tk-{name}-step-{token}", f"tk-{name}-{token}"
    dsk: Dict[Any, Any] = {}
    row0 = 0
    for rb in range(row_blocks):
        lead = (rb,) + (0,) * (x.ndim - 2) if x.ndim > 1 else ()
        for j in range(times):
            prev = (steps, rb, j - 1) if j else None
            blocks = tuple((p.name,) + lead + (j,) for p in parts)
            dsk[(steps, rb, j)] = (step, *step_args, j == times - 1, prev) + blocks
        dsk[(out, rb)] = (gather, row0, *gather_args) + tuple((steps, rb, j) for j in range(times))
        row0 += x.chunks[0][rb] * row_size if x.ndim > 1 else 0
    graph = _hlg.HighLevelGraph.from_collections(out, dsk, dependencies=parts)
    return _da.Array(graph, out, chunks=((np.nan,) * row_blocks,), dtype=dtype)


def gather_records(row0: int, *chain: tuple) -> np.ndarray:
    """The records of one block's chain, series by series (``col`` from ``row0``); a series'
    records close in order, so a stable sort by ``col`` keeps each series' order."""
    rec = np.concatenate([s[0] for s in chain])
    rec["col"] += row0
    return rec[np.argsort(rec["col"], kind="stable")]
