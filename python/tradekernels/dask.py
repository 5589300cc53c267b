"""The kernels over dask arrays chunked along time (optional: ``pip install tradekernels[dask]``).

Two ways to use tradekernels with dask:

* **Time axis in one chunk** (symbols × time, chunked by symbol): the raw
  gufuncs work directly, ``tradekernels.ufuncs.drawdown(x)`` on a dask array
  goes through NumPy's ``__array_ufunc__`` to ``dask.array.apply_gufunc``
  (one kernel call per block, GIL released, any scheduler).
* **Time axis in several chunks**: the functions of this module, named like
  the top-level kernels, carry each series' state from chunk to chunk
  (:mod:`tradekernels._state`) so the result equals the in-memory one
  **bit for bit**, whatever the chunking::

      import tradekernels.dask as tkd
      dd = tkd.drawdown(x)            # x: dask array, time on the last axis
      mdd = tkd.max_drawdown(x).compute()

How each kernel is split (exactness always wins over parallelism):

=====================  ===============================================================
kernel                 plan
=====================  ===============================================================
simple/log_returns     parallel: chunk ``j`` starts from the last value of the last
                       non-empty chunk before it (a slice, no pass over the data)
drawdown               two-pass: (1) each chunk's peak (a read-only ``max_drawdown``
                       pass, in parallel); the carried peak of chunk ``j`` is the
                       fold ``p = s if s > p else p`` over the earlier chunks'
                       peaks, which is exact (it is the kernel's own peak rule);
                       (2) each chunk's drawdown from its carried peak, in parallel
max_drawdown           the same two passes; pass 2 gives each chunk's
                       ``(best, seen)`` from the carried peak; the final result
                       folds them with ``d < best`` (exact: a minimum, and
                       drawdowns are never -0.0)
cumulative_returns     sequential carry of the running product chunk to chunk
                       (a product of chunk products would round differently)
underwater_bars        sequential carry of ``(peak, count)``
drawdown_episode       sequential carry of the 9-field state (global indices,
                       recovery search across chunks)
=====================  ===============================================================

Sessions (any chunking; timestamps as datetime64 or int64 UTC ns):
``session_mask``, ``session_label`` and ``minutes_into_session`` answer each
timestamp on its own (one task per block); ``session_start`` takes two
passes: (1) the label of each chunk's last session start, in parallel;
(2) each chunk from the label carried over the earlier chunks (the
``state=`` of :func:`tradekernels.session_start`), in parallel.
(``session_index`` is left out: its rows depend on the range of the table
each worker has built; ``session_label`` is the stable answer.)

Order fills: :func:`fill_orders` takes the orders as dask arrays (any
chunking; they broadcast like the in-memory function's) and the bars in
memory: the :class:`~tradekernels.BarIndex` is built once, stored once in
the graph and shared by one task per block of orders.

"Sequential" means chunk ``j`` of a series waits for chunk ``j-1``'s state
(a tiny array); different series (chunks of the other axes) still run in
parallel.  Inputs: dask arrays (NumPy arrays are wrapped in one chunk);
float32 stays float32, ints and bools compute as float64.  ``axis`` picks
the time axis (default -1).  Scans return a dask array chunked like the
input; ``max_drawdown`` one value per series; ``drawdown_episode`` an
:class:`~tradekernels.Episode` of four dask arrays.
"""

from __future__ import annotations

import importlib
import operator
from typing import Any, Dict, Optional, Tuple

import numpy as np

from . import _registry, ufuncs
from .fills import api as _fills
from ._api import Episode

__all__ = [
    "simple_returns",
    "log_returns",
    "cumulative_returns",
    "drawdown",
    "max_drawdown",
    "drawdown_episode",
    "underwater_bars",
    "session_mask",
    "session_label",
    "minutes_into_session",
    "session_start",
    "fill_orders",
]

# This module is called ``tradekernels.dask``: import the real dask by its
# absolute name through importlib, never with a (shadowable) plain import.
_da = importlib.import_module("dask.array")
_hlg = importlib.import_module("dask.highlevelgraph")
_dask_base = importlib.import_module("dask.base")

_PARALLEL_RETURNS = {"simple_returns", "log_returns"}
_PEAK_TWO_PASS = {"drawdown", "max_drawdown"}

# --------------------------------------------------------------------------
# Block tasks (plain functions of NumPy arrays: run on any worker)
# --------------------------------------------------------------------------


def _default_state(name: str, lead: Tuple[int, ...]) -> np.ndarray:
    k = _registry.get(name)
    return np.broadcast_to(np.array(k.state_default, dtype=np.float64), lead + (k.state_len,))


def _step(name: str, block: np.ndarray, state: Optional[np.ndarray]) -> tuple:
    """One chunk from ``state`` (None: the default); returns (*outputs, state)."""
    if state is None:
        state = _default_state(name, block.shape[:-1])
    with np.errstate(all="ignore"):
        return tuple(getattr(ufuncs, name + "_state")(block, state))


def _peak(block: np.ndarray) -> np.ndarray:
    """The chunk's running peak from -inf (the max_drawdown pass, no output array)."""
    return _step("max_drawdown", block, None)[1][..., 0]


def _carry_peak(lead: Tuple[int, ...], *peaks: np.ndarray) -> np.ndarray:
    p = np.full(lead, -np.inf)
    for s in peaks:
        p = np.where(s > p, s, p)  # the kernels' own rule: move only on a strictly greater peak
    return p


def _drawdown_from_peak(block: np.ndarray, peak: np.ndarray) -> np.ndarray:
    return _step("drawdown", block, peak[..., None])[0]


def _mdd_partial(block: np.ndarray, peak: np.ndarray) -> np.ndarray:
    st = np.empty(peak.shape + (3,))
    st[..., 0], st[..., 1], st[..., 2] = peak, np.inf, 0.0
    return _step("max_drawdown", block, st)[1]


def _mdd_final(dtype: np.dtype, *partials: np.ndarray) -> np.ndarray:
    best = np.full(partials[0].shape[:-1], np.inf)
    seen = np.zeros(best.shape, dtype=bool)
    for p in partials:
        b = p[..., 1]
        best = np.where(b < best, b, best)
        seen |= p[..., 2] != 0.0
    return np.where(seen, best, np.nan).astype(dtype)


def _last_value(block: np.ndarray) -> np.ndarray:
    return block[..., -1:].astype(np.float64)


def _returns_block(name: str, block: np.ndarray, prev: Optional[np.ndarray]) -> np.ndarray:
    return _step(name, block, prev)[0]


# --------------------------------------------------------------------------
# Graph building
# --------------------------------------------------------------------------


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


def _run(kname: str, x: Any, axis: int) -> Any:
    k = _registry.get(kname)
    x, ax = _as_dask(kname, x, axis)
    token = _dask_base.tokenize(kname, x)
    pre = f"tk-{kname.replace('_', '-')}"
    lead_blocks = x.numblocks[:-1]
    ntime = x.numblocks[-1]
    fdtype = x.dtype
    dsk: Dict[Any, Any] = {}
    out_names = [f"{pre}-out{j}-{token}" for j in range(len(k.outputs))]

    for L in np.ndindex(*lead_blocks):
        L = tuple(int(i) for i in L)
        lead = _lead_shape(x, L)
        xkey = lambda j: (x.name,) + L + (j,)  # noqa: E731
        if kname in _PARALLEL_RETURNS:
            last_nonempty = None
            for j in range(ntime):
                prev = None
                if last_nonempty is not None:
                    prev = (f"{pre}-prev-{token}",) + L + (last_nonempty,)
                    dsk[prev] = (_last_value, xkey(last_nonempty))
                dsk[(out_names[0],) + L + (j,)] = (_returns_block, kname, xkey(j), prev)
                if x.chunks[-1][j] > 0:
                    last_nonempty = j
        elif kname in _PEAK_TWO_PASS:
            peaks = []
            partials = []
            for j in range(ntime):
                carried = (f"{pre}-carry-{token}",) + L + (j,)
                dsk[carried] = (_carry_peak, lead) + tuple(peaks)
                pk = (f"{pre}-peak-{token}",) + L + (j,)
                dsk[pk] = (_peak, xkey(j))
                peaks.append(pk)
                if kname == "drawdown":
                    dsk[(out_names[0],) + L + (j,)] = (_drawdown_from_peak, xkey(j), carried)
                else:
                    part = (f"{pre}-part-{token}",) + L + (j,)
                    dsk[part] = (_mdd_partial, xkey(j), carried)
                    partials.append(part)
            if kname == "max_drawdown":
                dsk[(out_names[0],) + L] = (_mdd_final, fdtype) + tuple(partials)
        else:  # sequential carry
            state = None
            for j in range(ntime):
                step = (f"{pre}-step-{token}",) + L + (j,)
                dsk[step] = (_step, kname, xkey(j), state)
                state = (f"{pre}-state-{token}",) + L + (j,)
                dsk[state] = (operator.getitem, step, len(k.outputs))
                if k.scan:
                    dsk[(out_names[0],) + L + (j,)] = (operator.getitem, step, 0)
            if not k.scan:
                if ntime == 0:  # pragma: no cover - dask always has >= 1 block
                    raise ValueError("empty dask array")
                for o, oname in enumerate(out_names):
                    dsk[(oname,) + L] = (operator.getitem, step, o)

    def dtype_of(kind: str):
        return fdtype if kind == "f" else np.dtype(np.int64)

    if k.scan:
        res = _array(dsk, out_names[0], x, x.chunks, dtype_of(k.outputs[0]))
        return _da.moveaxis(res, -1, ax)
    outs = [_array(dsk, n, x, x.chunks[:-1], dtype_of(kind)) for n, kind in zip(out_names, k.outputs)]
    return outs[0] if len(outs) == 1 else Episode(*outs)


# --------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------


def simple_returns(x: Any, *, axis: int = -1) -> Any:
    """:func:`tradekernels.simple_returns` of a dask array chunked along time (parallel)."""
    return _run("simple_returns", x, axis)


def log_returns(x: Any, *, axis: int = -1) -> Any:
    """:func:`tradekernels.log_returns` of a dask array chunked along time (parallel)."""
    return _run("log_returns", x, axis)


def cumulative_returns(r: Any, *, axis: int = -1) -> Any:
    """:func:`tradekernels.cumulative_returns` of a dask array chunked along time
    (the running product is carried chunk to chunk, sequentially: exact)."""
    return _run("cumulative_returns", r, axis)


def drawdown(x: Any, *, axis: int = -1) -> Any:
    """:func:`tradekernels.drawdown` of a dask array chunked along time (two parallel passes)."""
    return _run("drawdown", x, axis)


def max_drawdown(x: Any, *, axis: int = -1) -> Any:
    """:func:`tradekernels.max_drawdown` of a dask array chunked along time (two parallel
    passes and a fold); one value per series."""
    return _run("max_drawdown", x, axis)


def drawdown_episode(x: Any, *, axis: int = -1) -> Any:
    """:func:`tradekernels.drawdown_episode` of a dask array chunked along time (state
    carried chunk to chunk); an :class:`~tradekernels.Episode` of dask arrays."""
    return _run("drawdown_episode", x, axis)


def underwater_bars(x: Any, *, axis: int = -1) -> Any:
    """:func:`tradekernels.underwater_bars` of a dask array chunked along time (state
    carried chunk to chunk)."""
    return _run("underwater_bars", x, axis)



# --------------------------------------------------------------------------
# Order fills
# --------------------------------------------------------------------------


def _fill_block(idx: Any, start, side, kind, price, limit, expiry) -> tuple:
    lim = None if limit.dtype == bool else limit  # bool placeholder: no limit prices given
    f = _fills.fill_orders(idx, start, side, kind, price, lim, expiry)
    return np.asarray(f.fill_index), np.asarray(f.fill_price)


def fill_orders(bars_or_index: Any, start: Any, side: Any, kind: Any, price: Any,
                limit: Any = None, expiry: Any = -1) -> Any:
    """:func:`tradekernels.fill_orders` for orders held in dask arrays (one task per block).

    ``bars_or_index`` as for the in-memory function (the bar index is built
    here, once).  ``kind`` may be strings only in NumPy / scalar form (dask
    arrays of kinds hold :class:`~tradekernels.OrderKind` codes).  Returns
    :class:`~tradekernels.Fills` of two dask arrays of the broadcast shape;
    errors in the order values (bad side, stop-limit without a limit) are
    raised when the blocks compute.
    """
    idx = _fills._as_index(bars_or_index)

    def arr(v: Any) -> Any:
        return v if isinstance(v, _da.Array) else _da.from_array(np.asarray(v), chunks=-1)

    kind = kind if isinstance(kind, _da.Array) else _fills._kind_array(kind)
    lim = np.zeros((), dtype=bool) if limit is None else limit
    parts = [arr(v) for v in (start, side, kind, price, lim, expiry)]
    try:
        parts = list(_da.broadcast_arrays(*parts))
    except ValueError:
        raise ValueError("tradekernels.dask.fill_orders: the order arguments do not broadcast "
                         "against each other") from None
    chunks = parts[0].chunks
    parts = [p.rechunk(chunks) for p in parts]
    token = _dask_base.tokenize("fill_orders", idx.arrays, *parts)
    bars_key = f"tk-fill-bars-{token}"
    tuples, names = f"tk-fill-{token}", (f"tk-fill-index-{token}", f"tk-fill-price-{token}")
    dsk: Dict[Any, Any] = {bars_key: idx}
    for b in np.ndindex(*parts[0].numblocks):
        b = tuple(int(i) for i in b)
        dsk[(tuples,) + b] = (_fill_block, bars_key) + tuple((p.name,) + b for p in parts)
        for o, name in enumerate(names):
            dsk[(name,) + b] = (operator.getitem, (tuples,) + b, o)
    out = []
    for name, dtype in zip(names, (np.int64, np.float64)):
        graph = _hlg.HighLevelGraph.from_collections(name, dsk, dependencies=parts)
        out.append(_da.Array(graph, name, chunks=chunks, dtype=dtype))
    return _fills.Fills(*out)


# Sessions: the adapter lives with its family (imported last: it uses the helpers above).
from .sessions.dask import minutes_into_session, session_label, session_mask, session_start  # noqa: E402
