"""The scan kernels over dask arrays chunked along time (``tradekernels.dask``).

One function per declared scan kernel, named like the top-level kernel; the
plans are in :mod:`tradekernels.dask`.
"""

from __future__ import annotations

import inspect
import operator
from typing import Any, Dict, Optional, Tuple

import numpy as np

from .. import _registry, ufuncs
from .._api import (
    NAN_POLICIES,
    NAN_POLICY_KERNELS,
    Episode,
    apply_nan_policy_chunk,
    check_ddof,
    ulcer_ddof,
    window_args,
)
from .._dask import _array, _as_dask, _da, _dask_base, _lead_shape, gather_records, record_chains
from .._state import POLICY_LAYOUTS

__all__ = [k.name for k in _registry.KERNELS] + ["rolling_max_drawdown", "drawdowns"]

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


def _last_value(block: np.ndarray, before: Optional[np.ndarray] = None) -> Optional[np.ndarray]:
    """The last bar of ``block``, or ``before`` (the last bar before it) when it is empty."""
    if block.shape[-1] == 0:
        return before
    return block[..., -1:].astype(np.float64)


def _returns_block(name: str, block: np.ndarray, prev: Optional[np.ndarray]) -> np.ndarray:
    return _step(name, block, prev)[0]


# --------------------------------------------------------------------------
# The NaN policy (nan=): the prices the kernels see, chunk by chunk
# --------------------------------------------------------------------------
#
# The one place the dask functions apply nan= (drawdown, max_drawdown, ulcer_index,
# rolling_max_drawdown, drawdowns): the policy's prices, a dask array chunked like the
# input, computed with tradekernels._api.apply_nan_policy_chunk -- the function the
# top-level chunked calls use (state "<kernel>@<policy>") -- from each chunk's carry;
# the kernels' plans then run on those prices unchanged.  Chunks of the policy's
# prices, concatenated, are the batch prices (apply_nan_policy) bit for bit, so every
# result equals tk.<name>(x.compute(), nan=...).


def _policy_block(name: str, nan: str, block: np.ndarray, carry: np.ndarray, first_known: bool) -> tuple:
    """``(prices, carry after the chunk)`` of one chunk (time last)."""
    return apply_nan_policy_chunk(name, block, -1, nan, carry, first_known)


def _policy_carry0(nan: str, lead: Tuple[int, ...]) -> np.ndarray:
    return np.broadcast_to(np.array(POLICY_LAYOUTS[nan][1]), lead + (len(POLICY_LAYOUTS[nan][1]),))


def _ffill_last(name: str, block: np.ndarray) -> np.ndarray:
    """ffill: the chunk's last price (NaN: none), its carry from an empty one."""
    return _policy_block(name, "ffill", block, _policy_carry0("ffill", block.shape[:-1]), False)[1]


def _ffill_carry(lead: Tuple[int, ...], *lasts: np.ndarray) -> np.ndarray:
    """ffill: the last price before a chunk, from the earlier chunks' last prices (exact:
    values are copied)."""
    p = np.full(lead + (1,), np.nan)
    for s in lasts:
        p = np.where(np.isnan(s), p, s)
    return p


def _zr_first(block: np.ndarray) -> Optional[np.ndarray]:
    """zero_return: the chunk's first price, or its first bar when it has none (None: empty)."""
    if block.shape[-1] == 0:
        return None
    x = block.astype(np.float64)
    return np.take_along_axis(x, np.argmax(~np.isnan(x), axis=-1)[..., None], axis=-1)


def _zr_carry0(lead: Tuple[int, ...], *firsts: Optional[np.ndarray]) -> np.ndarray:
    """zero_return: the first chunk's carry, holding the series' first price ``x0`` found over
    all its chunks (as the batch's ``argmax``: the first price, or the series' first bar
    when it has none), so that a leading chunk without a price takes it as the batch does."""
    p: Optional[np.ndarray] = None
    for s in firsts:
        if s is not None:
            p = s if p is None else np.where(np.isnan(p) & ~np.isnan(s), s, p)
    c = np.array(_policy_carry0("zero_return", lead))
    if p is not None:
        c[..., 2:3] = p
    return c


def _policy_prices(name: str, x: Any, nan: Any) -> Any:
    """``x`` (time last) as the prices the kernels see under the NaN policy ``nan``."""
    if nan == "skip" or nan is None:
        return x
    if not isinstance(nan, str) or nan not in NAN_POLICIES:
        raise ValueError(f"tradekernels.dask.{name}: nan must be one of {NAN_POLICIES}, got {nan!r}")
    token = _dask_base.tokenize("nan", nan, x)
    pre = f"tk-nan-{nan.replace('_', '-')}"
    out = f"{pre}-{token}"
    dsk: Dict[Any, Any] = {}
    for block in np.ndindex(*x.numblocks[:-1]):
        L: Tuple[Any, ...] = tuple(int(i) for i in block)
        lead = _lead_shape(x, L)
        keys = [(x.name,) + L + (j,) for j in range(x.numblocks[-1])]
        if nan == "ffill":  # parallel: each chunk from the last price of the chunks before it
            lasts: list = []
            for j, xkey in enumerate(keys):
                carry = (f"{pre}-carry-{token}",) + L + (j,)
                dsk[carry] = (_ffill_carry, lead) + tuple(lasts)
                last = (f"{pre}-last-{token}",) + L + (j,)
                dsk[last] = (_ffill_last, name, xkey)
                lasts.append(last)
                step = (f"{pre}-step-{token}",) + L + (j,)
                dsk[step] = (_policy_block, name, nan, xkey, carry, False)
                dsk[(out,) + L + (j,)] = (operator.getitem, step, 0)
        else:  # zero_return: the running product goes chunk to chunk in sequence (exact)
            firsts = []
            for j, xkey in enumerate(keys):
                first = (f"{pre}-first-{token}",) + L + (j,)
                dsk[first] = (_zr_first, xkey)
                firsts.append(first)
            carry = (f"{pre}-carry-{token}",) + L
            dsk[carry] = (_zr_carry0, lead) + tuple(firsts)
            for j, xkey in enumerate(keys):
                step = (f"{pre}-step-{token}",) + L + (j,)
                dsk[step] = (_policy_block, name, nan, xkey, carry, True)
                dsk[(out,) + L + (j,)] = (operator.getitem, step, 0)
                carry = (f"{pre}-next-{token}",) + L + (j,)
                dsk[carry] = (operator.getitem, step, 1)
    return _array(dsk, out, x, x.chunks, x.dtype)


# --------------------------------------------------------------------------
# The plans
# --------------------------------------------------------------------------


def _ulcer_ddof(ddof: int, dtype: np.dtype, state: np.ndarray) -> np.ndarray:
    """ulcer_index with ``ddof`` from the last chunk's state, as in memory."""
    return np.asarray(ulcer_ddof(state[..., 1], state[..., 2], ddof).astype(dtype))


def _run(kname: str, x: Any, axis: Any, nan: Any = "skip", ddof: int = 0) -> Any:
    k = _registry.get(kname)
    x, ax = _as_dask(kname, x, axis)
    x = _policy_prices(kname, x, nan)
    token = _dask_base.tokenize(kname, x, ddof)
    pre = f"tk-{kname.replace('_', '-')}"
    lead_blocks = x.numblocks[:-1]
    ntime = x.numblocks[-1]
    fdtype = x.dtype
    dsk: Dict[Any, Any] = {}
    out_names = [f"{pre}-out{j}-{token}" for j in range(len(k.outputs))]

    for block in np.ndindex(*lead_blocks):
        L: Tuple[Any, ...] = tuple(int(i) for i in block)
        lead = _lead_shape(x, L)
        xkey = lambda j, L=L: (x.name,) + L + (j,)  # noqa: E731
        if kname in _PARALLEL_RETURNS:
            # prev: the last bar before chunk j, chained through the chunks that may be
            # empty (a size 0, or NaN: unknown, e.g. after boolean indexing)
            prev: Any = None
            for j in range(ntime):
                dsk[(out_names[0],) + L + (j,)] = (_returns_block, kname, xkey(j), prev)
                if not x.chunks[-1][j] == 0:
                    key = (f"{pre}-prev-{token}",) + L + (j,)
                    dsk[key] = (_last_value, xkey(j), prev)
                    prev = key
        elif kname in _PEAK_TWO_PASS:
            peaks: list = []
            partials: list = []
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
            state: Any = None
            step: Any = None
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
                if ddof:  # ulcer_index: the in-memory formula on the final state
                    dsk[(out_names[0],) + L] = (_ulcer_ddof, ddof, fdtype, state)

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


def _plan(name: str) -> str:
    if name in _PARALLEL_RETURNS:
        return "parallel: each chunk starts from the previous chunk's last value"
    if name in _PEAK_TWO_PASS:
        return "two parallel passes: chunk peaks, then each chunk from the carried peak"
    return "the carried state goes chunk to chunk in sequence (exact), parallel across series"


_NAN_DOC = (
    '  ``nan=``: the NaN policy of the top-level function (``"skip"``, ``"ffill"``, '
    "``\"zero_return\"``); the policy's prices are computed chunk by chunk from each chunk's "
    'carry (:func:`tradekernels._api.apply_nan_policy_chunk`; ``"ffill"`` in parallel, '
    '``"zero_return"`` in sequence, with the series\' first price found first, so that '
    "leading chunks without a price give the batch result)."
)

# Written from a template, as tradekernels.scans.api writes the top-level wrappers, so that
# the parameters are named as the top-level function's (the first as in the twin).
_TEMPLATE = """
def {name}({arg}: Any, *, axis: Any = None) -> Any:
    return _run({name!r}, {arg}, axis)
"""

_TEMPLATE_NAN = """
def {name}({arg}: Any, *, axis: Any = None, nan: str = "skip") -> Any:
    return _run({name!r}, {arg}, axis, nan)
"""


def _public(k: Any) -> Any:
    """The dask twin of scan kernel ``k`` (one per declared scan kernel)."""
    arg = next(iter(inspect.signature(k.reference).parameters))
    ns: Dict[str, Any] = {"Any": Any, "_run": _run}
    nan = k.name in NAN_POLICY_KERNELS
    exec((_TEMPLATE_NAN if nan else _TEMPLATE).format(name=k.name, arg=arg), ns)  # noqa: S102 - names come from the C table
    fn = ns[k.name]
    fn.__module__ = __name__
    fn.__doc__ = (
        f":func:`tradekernels.{k.name}` of a dask array chunked along time ({_plan(k.name)}); "
        "equal to the in-memory result bit for bit.  ``axis``: the time axis (None: the last)."
        + (_NAN_DOC if nan else "")
    )
    return fn


globals().update({k.name: _public(k) for k in _registry.KERNELS})


def ulcer_index(x: Any, *, ddof: int = 0, axis: Any = None, nan: str = "skip") -> Any:
    """:func:`tradekernels.ulcer_index` of a dask array chunked along time (the state
    ``(peak, sumsq, count)`` goes chunk to chunk in sequence, exact; parallel across
    series); equal to the in-memory result bit for bit.  ``ddof``: as in memory, applied
    to the last chunk's state with the same IEEE operations (``N - ddof <= 0`` gives NaN).
    ``axis``: the time axis (None: the last)."""
    check_ddof("tradekernels.dask.ulcer_index", ddof)
    return _run("ulcer_index", x, axis, nan, int(ddof))


ulcer_index.__doc__ = (ulcer_index.__doc__ or "") + _NAN_DOC


# --------------------------------------------------------------------------
# rolling_max_drawdown: each chunk with the last window - 1 bars before it
# --------------------------------------------------------------------------


def _rolling_block(window: int, min_periods: int, cut: int, *blocks: np.ndarray) -> np.ndarray:
    """rolling_max_drawdown of the last block, its windows reaching back into the bars of the
    blocks before it (their last ``cut`` bars in all, cut <= window - 1)."""
    x = np.concatenate(blocks, axis=-1) if len(blocks) > 1 else blocks[0]
    x = x[..., x.shape[-1] - blocks[-1].shape[-1] - cut :]
    with np.errstate(all="ignore"):
        out = ufuncs.rolling_max_drawdown(x, window, min_periods)
    return out[..., cut:]


def rolling_max_drawdown(
    x: Any, window: int, *, min_periods: Any = None, axis: Any = None, nan: str = "skip"
) -> Any:
    """:func:`tradekernels.rolling_max_drawdown` of a dask array chunked along time; equal
    to the in-memory result bit for bit.  Parallel: each chunk is computed with the last
    ``window - 1`` bars before it (from as many earlier chunks as that takes), since the
    result at a bar depends on its window's bars only.  ``axis``: the time axis (None: the
    last)."""
    w, mp = window_args("rolling_max_drawdown", window, min_periods)
    x, ax = _as_dask("rolling_max_drawdown", x, axis)
    token = _dask_base.tokenize("rolling_max_drawdown", x, w, mp)
    name = f"tk-rolling-max-drawdown-{token}"
    sizes = x.chunks[-1]
    if any(s != s for s in sizes):
        raise ValueError(
            "tradekernels.dask.rolling_max_drawdown: the time axis has chunks of unknown size "
            "(e.g. after boolean indexing); call x.compute_chunk_sizes() first"
        )
    x = _policy_prices("rolling_max_drawdown", x, nan)
    dsk: Dict[Any, Any] = {}
    for block in np.ndindex(*x.numblocks[:-1]):
        L = tuple(int(i) for i in block)
        for j in range(len(sizes)):
            need, first = max(w - 1, 0), j
            while first > 0 and need > 0:  # the earlier chunks holding the window's head
                first -= 1
                need -= sizes[first]
            cut = min(max(w - 1, 0), sum(sizes[first:j]))
            keys = tuple((x.name,) + L + (i,) for i in range(first, j + 1))
            dsk[(name,) + L + (j,)] = (_rolling_block, w, mp, cut) + keys
    res = _array(dsk, name, x, x.chunks, x.dtype)
    return _da.moveaxis(res, -1, ax)


rolling_max_drawdown.__doc__ = (rolling_max_drawdown.__doc__ or "") + _NAN_DOC


# --------------------------------------------------------------------------
# drawdowns (records): time chunks in order, each from the previous one's state
# --------------------------------------------------------------------------


def _records_step(final: bool, prev: Any, block: np.ndarray) -> tuple:
    """One time chunk of one block of series (the NaN policy's prices): ``(float64 records,
    state)`` from the previous chunk's state (the records of the last chunk include the
    active episodes)."""
    from .records import _records64

    state = None if prev is None else prev[1]
    rec, new_state = _records64(block, -1, "skip", state, not final)[:2]
    return rec, new_state


def _records_gather(row0: int, top: Optional[int], f32: bool, *steps: tuple) -> np.ndarray:
    """The records of one block of series (rows from ``row0``), series by series; ``top``
    and the float32 cast applied last, on the float64 records, as in memory."""
    from .records import _as_input_dtype, _top

    rec = gather_records(row0, *steps)
    if top is not None:
        rec = _top(rec, top)
    return _as_input_dtype(rec, np.dtype(np.float32 if f32 else np.float64))


def drawdowns(x: Any, *, axis: Any = None, top: Optional[int] = None, nan: str = "skip") -> Any:
    """:func:`tradekernels.drawdowns` of a dask array chunked along time (and series).

    Each block of series runs its time chunks in order, each call from the previous
    one's state (an episode is reported once, in the chunk where it recovers; the last
    chunk reports the active one), blocks of series in parallel.  Leading axes are
    flattened in C order as in memory (axes after the first are rechunked to one chunk,
    so the blocks follow that order).  Returns a 1-D dask array of
    :data:`~tradekernels.scans.records.RECORD_DTYPE` records (``RECORD_DTYPE_F32`` for
    float32), one block (of unknown length) per block of series: the in-memory records
    byte for byte; ``top=k``: the ``k`` deepest episodes of each series, deepest first, as
    in memory (``style=`` is not taken here).  ``axis``: the time axis (None: the last).
    """
    from .records import RECORD_DTYPE, RECORD_DTYPE_F32, _check_top

    _check_top(top)
    x, _ = _as_dask("drawdowns", x, axis)
    x = _policy_prices("drawdowns", x, nan)
    if x.ndim > 2:
        x = x.rechunk({d: -1 for d in range(1, x.ndim - 1)})
    token = _dask_base.tokenize("drawdowns", x, top)
    dtype = RECORD_DTYPE_F32 if x.dtype == np.float32 else RECORD_DTYPE
    k = None if top is None else int(top)
    return record_chains(
        "drawdowns", token, [x], _records_step, (), _records_gather, (k, x.dtype == np.float32), dtype
    )


drawdowns.__doc__ = (drawdowns.__doc__ or "") + _NAN_DOC
