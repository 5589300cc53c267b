"""Order fills and exits over dask arrays of orders / positions (``tradekernels.dask.fill_orders``,
``tradekernels.dask.exit_orders``)."""

from __future__ import annotations

import operator
from typing import Any, Dict

import numpy as np

from .. import _core, _dask
from .._dask import _da, _dask_base, _hlg, record_chains
from . import api as _fills
from . import reference

__all__ = ["fill_orders", "exit_orders", "trades_from_signals"]


# --------------------------------------------------------------------------
# Bars in time chunks: one chain of chunked calls (state=) over the chunks
# --------------------------------------------------------------------------


def _time_chunked_bars(bars: Any, fn: str) -> Any:
    """The four bars as dask arrays when ``bars`` is a tuple ``(open, high, low, close)`` holding
    a dask array (the bars in time chunks; the series, for 2-D bars, in one chunk), else None."""
    if not isinstance(bars, (tuple, list)) or not any(isinstance(b, _da.Array) for b in bars):
        return None
    if len(bars) != 4:
        raise TypeError(f"tradekernels.dask.{fn}: bars must be a tuple (open, high, low, close)")
    parts = [b if isinstance(b, _da.Array) else _da.from_array(np.asarray(b), chunks=-1) for b in bars]
    shape = parts[0].shape
    if any(p.shape != shape for p in parts) or len(shape) not in (1, 2):
        raise ValueError(
            f"tradekernels.dask.{fn}: open, high, low and close must have one shape, 1-D or 2-D "
            f"(symbols x time), got {[p.shape for p in parts]}"
        )
    chunks = ((shape[0],),) * (len(shape) - 1) + (parts[0].chunks[-1],)
    return [p.astype(np.float64).rechunk(chunks) for p in parts]


def _time_step(fn: Any, kw: Dict[str, Any], prev: Any, orders: tuple, o, h, lo, c) -> tuple:
    """One time chunk: ``(results, state)`` of the chunked call from the previous chunk's state."""
    res, st = fn((o, h, lo, c), *orders, **kw, state=None if prev is None else prev[1], return_state=True)
    return tuple(np.asarray(r) for r in res), st


def _time_chain(name: str, fn: Any, kw: Dict[str, Any], bars: list, orders: list, dtypes: tuple) -> list:
    """Dask arrays of ``fn``'s results (the orders' shape, one chunk) after a chain of
    chunked calls over the bars' time chunks, each from the previous one's state."""
    orders = [p.rechunk(-1) for p in orders]
    token = _dask_base.tokenize(name, kw, *bars, *orders)
    steps, outs = f"tk-{name}-time-{token}", [f"tk-{name}-{i}-{token}" for i in range(len(dtypes))]
    lead = (0,) * (bars[0].ndim - 1)
    okeys = tuple((p.name,) + (0,) * p.ndim for p in orders)
    dsk: Dict[Any, Any] = {}
    times = bars[0].numblocks[-1]
    for j in range(times):
        prev = (steps, j - 1) if j else None
        blocks = tuple((b.name,) + lead + (j,) for b in bars)
        dsk[(steps, j)] = (_time_step, fn, kw, prev, (tuple, list(okeys))) + blocks
    last = (steps, times - 1)
    shape = orders[0].shape
    res = []
    for i, (nm, dtype) in enumerate(zip(outs, dtypes)):
        d = dict(dsk)
        d[(nm,) + (0,) * len(shape)] = (operator.getitem, (operator.getitem, last, 0), i)
        graph = _hlg.HighLevelGraph.from_collections(nm, d, dependencies=bars + orders)
        res.append(_da.Array(graph, nm, chunks=tuple((n,) for n in shape), dtype=dtype))
    return res


# --------------------------------------------------------------------------
# Order fills
# --------------------------------------------------------------------------


def _fill_orders_timed(bars: Any, start, side, kind, price, limit, expiry, col, **kw: Any) -> Any:
    # bool placeholders: no limit prices / rows given (a bool is never valid for either)
    lim = None if limit.dtype == bool else limit
    row = None if col.dtype == bool else col
    return _fills.fill_orders(bars, start, side, kind, price, lim, expiry, col=row, **kw)


def _fill_block(idx: Any, *orders: np.ndarray) -> tuple:
    f = _fill_orders_timed(idx, *orders)
    return np.asarray(f.fill_index), np.asarray(f.fill_price)


def fill_orders(
    bars_or_index: Any,
    start: Any,
    side: Any,
    kind: Any,
    price: Any,
    limit: Any = None,
    expiry: Any = -1,
    *,
    col: Any = None,
) -> Any:
    """:func:`tradekernels.fill_orders` for orders held in dask arrays (one task per block).

    ``bars_or_index`` as for the in-memory function (the bar index is built
    here, once), or a tuple ``(open, high, low, close)`` of dask arrays chunked
    along time: then the time chunks run in order, each a chunked call
    (``state=``) from the previous chunk's :class:`~tradekernels.FillState`, with
    all the orders (in one chunk), and the fills are those of one in-memory call.
    ``kind`` may be strings only in NumPy / scalar form (dask
    arrays of kinds hold :class:`~tradekernels.OrderKind` codes).  ``col``: the row of
    each order for 2-D bars (symbols x time), an order argument like the others.  Returns
    :class:`~tradekernels.Fills` of two dask arrays of the broadcast shape;
    errors in the order values (bad side, stop-limit without a limit) are
    raised when the blocks compute.
    """
    timed = _time_chunked_bars(bars_or_index, "fill_orders")
    idx = None if timed is not None else _fills._as_index(bars_or_index)

    def arr(v: Any) -> Any:
        return v if isinstance(v, _da.Array) else _da.from_array(np.asarray(v), chunks=-1)

    kind = kind if isinstance(kind, _da.Array) else _fills._kind_array(kind)
    lim = np.zeros((), dtype=bool) if limit is None else limit
    row = np.zeros((), dtype=bool) if col is None else col
    parts = [arr(v) for v in (start, side, kind, price, lim, expiry, row)]
    try:
        parts = list(_da.broadcast_arrays(*parts))
    except ValueError:
        raise ValueError(
            "tradekernels.dask.fill_orders: the order arguments do not broadcast against each other"
        ) from None
    chunks = parts[0].chunks
    parts = [p.rechunk(chunks) for p in parts]
    if timed is not None:
        fills = _time_chain("fill_orders", _fill_orders_timed, {}, timed, parts, (np.int64, np.float64))
        return _fills.Fills(*fills)
    assert idx is not None
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


# --------------------------------------------------------------------------
# Exits
# --------------------------------------------------------------------------

#: the position arguments of exit_orders that may be arrays (dask or NumPy), in block order:
#: the twin's fields but the two string policies (same_bar, entry_at: scalars), then the row
_EXIT_ARRAYS = tuple(f for f in reference.EXIT_FIELDS if f not in ("same_bar", "entry_at")) + ("col",)
#: arguments whose None means something else than NaN: a bool 0-d placeholder stands for
#: None (a bool entry price or row is never valid, the in-memory function refuses them)
_EXIT_NONE = ("entry_price", "col")


def _exit_orders_timed(bars: Any, *blocks: np.ndarray, **scalars: Any) -> Any:
    """exit_orders with the position arguments in block order (_EXIT_ARRAYS)."""
    kw: Dict[str, Any] = dict(zip(_EXIT_ARRAYS, blocks))
    for k in _EXIT_NONE:
        if kw[k].dtype == bool:
            kw[k] = None
    return _fills.exit_orders(
        bars, kw.pop("entry_idx"), kw.pop("entry_price"), kw.pop("side"), **kw, **scalars
    )


def _exit_block(idx: Any, scalars: Dict[str, Any], *blocks: np.ndarray) -> tuple:
    e = _exit_orders_timed(idx, *blocks, **scalars)
    return np.asarray(e.exit_idx), np.asarray(e.exit_price), np.asarray(e.reason)


def exit_orders(
    bars_or_index: Any,
    entry_idx: Any,
    entry_price: Any = None,
    side: Any = 1,
    *,
    sl_stop: Any = None,
    tsl_stop: Any = None,
    tp_stop: Any = None,
    sl_trail: Any = False,
    sl_price: Any = None,
    tp_price: Any = None,
    same_bar: str = "stop",
    entry_at: str = "close",
    expiry: Any = -1,
    slippage: Any = 0.0,
    col: Any = None,
) -> Any:
    """:func:`tradekernels.exit_orders` for positions held in dask arrays (one task per block).

    ``bars_or_index`` as for the in-memory function: the :class:`~tradekernels.BarIndex`
    is built here, once, and stored once in the graph (every block's task shares it).
    Or a tuple ``(open, high, low, close)`` of dask arrays chunked along time: then the
    time chunks run in order, each a chunked call from the previous chunk's
    :class:`~tradekernels.ExitState`, with all the positions (in one chunk), and the exits
    are those of one in-memory call.
    The position arguments (``entry_idx`` .. ``slippage``, ``col``) may be dask arrays
    (any chunking), NumPy arrays or scalars; they broadcast like the in-memory
    function's.  ``same_bar`` / ``entry_at`` are names, as there.  Returns
    :class:`~tradekernels.Exits` of three dask arrays of the broadcast shape; errors in
    the position values (an entry bar out of range, a bad side) are raised when the
    blocks compute.
    """
    timed = _time_chunked_bars(bars_or_index, "exit_orders")
    idx = None if timed is not None else _fills._as_index(bars_or_index, "exit_orders")
    for name, v, codes in (
        ("same_bar", same_bar, _core.SAME_BAR),
        ("entry_at", entry_at, _core.ENTRY_AT),
    ):
        _fills._choice(name, v, codes)  # a bad name raises now, not at compute

    def arr(name: str, v: Any) -> Any:
        if isinstance(v, _da.Array):
            return v
        if v is None:
            v = np.zeros((), dtype=bool) if name in _EXIT_NONE else np.nan
        return _da.from_array(np.asarray(v), chunks=-1)

    values = (
        entry_idx,
        entry_price,
        side,
        sl_stop,
        tsl_stop,
        tp_stop,
        sl_trail,
        sl_price,
        tp_price,
        expiry,
        slippage,
        col,
    )
    parts = [arr(nm, v) for nm, v in zip(_EXIT_ARRAYS, values)]
    try:
        parts = list(_da.broadcast_arrays(*parts))
    except ValueError:
        raise ValueError(
            "tradekernels.dask.exit_orders: the position arguments do not broadcast against each other"
        ) from None
    chunks = parts[0].chunks
    parts = [p.rechunk(chunks) for p in parts]
    scalars = {"same_bar": same_bar, "entry_at": entry_at}
    if timed is not None:
        dtypes = (np.int64, np.float64, np.int64)
        return _fills.Exits(*_time_chain("exit_orders", _exit_orders_timed, scalars, timed, parts, dtypes))
    assert idx is not None
    token = _dask_base.tokenize("exit_orders", idx.arrays, idx.close, scalars, *parts)
    bars_key = f"tk-exit-bars-{token}"
    tuples = f"tk-exit-{token}"
    names = (f"tk-exit-index-{token}", f"tk-exit-price-{token}", f"tk-exit-reason-{token}")
    dsk: Dict[Any, Any] = {bars_key: idx}
    for b in np.ndindex(*parts[0].numblocks):
        b = tuple(int(i) for i in b)
        dsk[(tuples,) + b] = (_exit_block, bars_key, scalars) + tuple((p.name,) + b for p in parts)
        for o, name in enumerate(names):
            dsk[(name,) + b] = (operator.getitem, (tuples,) + b, o)
    out = []
    for name, dtype in zip(names, (np.int64, np.float64, np.int64)):
        graph = _hlg.HighLevelGraph.from_collections(name, dsk, dependencies=parts)
        out.append(_da.Array(graph, name, chunks=chunks, dtype=dtype))
    return _fills.Exits(*out)


# --------------------------------------------------------------------------
# Signal backtests
# --------------------------------------------------------------------------


def _signal_step(kw: Dict[str, Any], final: bool, prev: Any, o, h, lo, c, ent, ext) -> tuple:
    """One time chunk of one block of series: ``(records, state)`` from the previous chunk's."""
    state = None if prev is None else prev[1]
    if final:
        return _fills.trades_from_signals((o, h, lo, c), ent, ext, **kw, state=state), None
    return _fills.trades_from_signals((o, h, lo, c), ent, ext, **kw, state=state, return_state=True)


def trades_from_signals(
    bars: Any,
    entries: Any,
    exits: Any = None,
    *,
    side: int = 1,
    price: str = "close",
    sl_stop: Any = None,
    tsl_stop: Any = None,
    tp_stop: Any = None,
    sl_trail: bool = False,
    same_bar: str = "stop",
    slippage: float = 0.0,
    fees: float = 0.0,
    reenter_on_exit_bar: bool = False,
) -> Any:
    """:func:`tradekernels.trades_from_signals` over dask arrays chunked along time.

    ``bars``: a tuple ``(open, high, low, close)`` of dask (or NumPy) arrays, 1-D or
    2-D (symbols x time), any chunking (all four and the signals are rechunked like
    ``open``); ``entries`` / ``exits``: booleans of that shape.  Keywords: those of
    the in-memory function (but ``state=`` / ``return_state=``: the chunks carry the state
    here).  Each block of series runs its time chunks in order, each
    from the previous one's :class:`~tradekernels.SignalState` (a trade carried over
    a chunk boundary closes where it closes), so the records equal the in-memory
    call's bit for bit; blocks of series run in parallel.  Returns a 1-D dask array of
    :data:`~tradekernels.fills.TRADE_DTYPE` records with one block (of unknown length)
    per block of series, sorted by ``col`` and entry like the in-memory records.
    """
    kw = dict(
        side=side,
        price=price,
        sl_stop=sl_stop,
        tsl_stop=tsl_stop,
        tp_stop=tp_stop,
        sl_trail=sl_trail,
        same_bar=same_bar,
        slippage=slippage,
        fees=fees,
        reenter_on_exit_bar=reenter_on_exit_bar,
    )
    _fills._signal_params(**kw)  # raise now

    def arr(v: Any, dtype: Any) -> Any:
        a = v if isinstance(v, _da.Array) else _da.from_array(np.asarray(v), chunks=-1)
        return a.astype(dtype) if a.dtype != dtype else a

    if not isinstance(bars, (tuple, list)) or len(bars) != 4:
        raise TypeError(
            "tradekernels.dask.trades_from_signals: bars must be a tuple (open, high, low, close)"
        )
    parts = [arr(b, np.float64) for b in bars]
    if any(p.dtype.kind != "f" for p in parts):
        raise TypeError("tradekernels.dask.trades_from_signals: the bars must be real numbers")
    shape = parts[0].shape
    if parts[0].ndim not in (1, 2):
        raise ValueError(
            "tradekernels.dask.trades_from_signals: the bars must be 1-D or 2-D (symbols x time), "
            f"got shape {shape}"
        )
    none = _da.zeros(shape, dtype=bool, chunks=parts[0].chunks)
    sig = [arr(entries, bool), none if exits is None else arr(exits, bool)]
    for name, a in zip(("high", "low", "close", "entries", "exits"), parts[1:] + sig):
        if a.shape != shape:
            raise ValueError(
                f"tradekernels.dask.trades_from_signals: {name} must have the shape of open {shape}, "
                f"got {a.shape}"
            )
    chunks = parts[0].chunks
    parts = [p.rechunk(chunks) for p in parts + sig]
    token = _dask_base.tokenize("trades_from_signals", kw, *parts)
    return record_chains(
        "signals", token, parts, _signal_step, (kw,), _dask.gather_records, (), _fills.TRADE_DTYPE
    )
