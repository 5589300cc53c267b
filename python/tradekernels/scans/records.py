"""``tradekernels.drawdowns``: every drawdown episode as records.

The records are built in C (``_core.drawdowns``, ``src/scans/records.c``):
one pass per series into a growing buffer, no Python loop per episode.  The
inside-an-episode scan follows the process-wide SIMD path
(:data:`tradekernels.ufuncs.simd_path`, read at each call): the scalar path
runs the plain loop, ``avx512_emu`` the SSE2 scan, ``avx2`` / ``avx512`` the
AVX2 scan (``_core.simd_code(path)["drawdowns"]``); the records are the same.
Semantics: :func:`tradekernels.scans.reference.drawdowns`.
"""

from __future__ import annotations

import sys
from typing import Any, Optional, Tuple

import numpy as np

from .. import _backend, _core, ufuncs
from .._api import apply_nan_policy, join_policy_state, prepare, split_policy_state
from .._state import as_state_vector
from . import reference

__all__ = ["drawdowns", "RECORD_DTYPE", "RECORD_DTYPE_F32"]

_I, _F = np.dtype(np.int64), np.dtype(np.float64)
_INDEX = ("col", "peak_idx", "valley_idx", "end_idx")
_VALUES = ("peak_val", "valley_val", "end_val", "depth")
_COUNTS = ("status", "decline_bars", "recovery_bars", "duration_bars")
FIELDS = _INDEX + _VALUES + _COUNTS

#: The records of float64 input (the C layout, ``src/scans/records.c``).
RECORD_DTYPE = np.dtype([(f, _I) for f in _INDEX] + [(f, _F) for f in _VALUES] + [(f, _I) for f in _COUNTS])
#: The records of float32 input: values in float32 (depth rounded once).
RECORD_DTYPE_F32 = np.dtype(
    [(f, _I) for f in _INDEX] + [(f, np.float32) for f in _VALUES] + [(f, _I) for f in _COUNTS]
)

_STYLES = (None, "records", "quantstats")


def _reference_records(a2: np.ndarray, state: Optional[np.ndarray] = None, final: bool = True) -> Any:
    """The twin's records of every row of ``a2`` (and, given ``state``, the new
    state, as ``(records, state)``)."""
    rows, new = [], []
    for c in range(a2.shape[0]):
        st = reference.DRAWDOWNS_START if state is None else state[c].tolist()
        recs, s = reference.drawdowns_chunk(a2[c].tolist(), st, final)
        rows += [(c,) + r for r in recs]
        new.append(s)
    rec = np.array(rows, dtype=RECORD_DTYPE) if rows else np.empty(0, RECORD_DTYPE)
    if state is None:
        return rec
    return rec, np.array(new, dtype=np.float64).reshape(state.shape)


def _check(nat: Any, ref: Any) -> None:
    (nat, nst), (ref, rst) = nat, ref
    _backend.compare("drawdowns", [nat[f] for f in FIELDS] + [nst], [ref[f] for f in FIELDS] + [rst])


def _top(rec: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` deepest records per ``col``, deepest first (ties: earlier peak;
    NaN depths last): :func:`tradekernels.scans.reference.top_drawdowns`."""
    if len(rec) == 0:
        return rec
    depth = rec["depth"]
    nan = np.isnan(depth)
    order = np.lexsort((rec["peak_idx"], np.where(nan, 0.0, depth), nan, rec["col"]))
    r = rec[order]
    cols = r["col"]
    first = np.searchsorted(cols, cols, side="left")  # position of each col's first record
    rank = np.arange(len(r)) - first
    return r[rank < k]


def drawdowns(
    x: Any,
    *,
    axis: Any = None,
    top: Optional[int] = None,
    style: Optional[str] = None,
    nan: str = "skip",
    state: Any = None,
    return_state: bool = False,
) -> Any:
    """Every drawdown episode of a price (or equity) series, as records.

    Fields: ``col`` (the series' position for 2-D input; 0 for 1-D),
    ``peak_idx``, ``valley_idx``, ``end_idx`` (-1 while active), ``peak_val``,
    ``valley_val``, ``end_val`` (the last price if active), ``depth``
    (``valley_val / peak_val - 1``), ``status`` (0 active, 1 recovered, as
    vectorbt's ``DrawdownStatus``), ``decline_bars``, ``recovery_bars`` (-1 if
    active) and ``duration_bars``.  Semantics (NaN bars, ties, zero and
    negative prices): :func:`tradekernels.scans.reference.drawdowns`.
    Bit-exact.

    * Arrays: a 1-D structured array (:data:`RECORD_DTYPE`; float32 input
      gives :data:`RECORD_DTYPE_F32`), series by series (``col``; leading
      axes flattened in C order), episodes in order of their peak.
    * ``top=k``: the ``k`` deepest episodes of each series, deepest first
      (equal depths: earlier peak first).
    * pandas Series / DataFrame: a DataFrame of the same fields (plus
      ``column``, the label of the series, for a DataFrame).  With a
      DatetimeIndex it also has ``peak_time``, ``valley_time``, ``end_time``
      (NaT if active) and the Timedelta durations ``decline``, ``recovery``
      (NaT if active) and ``duration`` (to the last bar if active).
    * ``style="quantstats"`` (pandas input): quantstats ``drawdown_details``'
      columns ``start``, ``valley``, ``end``, ``days``, ``max drawdown``.
      Conventions there differ: ``start`` is the first bar *below* the peak
      (here the bar after ``peak_idx``, on series without NaN); ``end`` is the
      last bar before the recovery (an active episode ends at the last bar);
      ``days`` counts calendar days ``end - start + 1``; the depth is in
      percent.  quantstats computes the drawdown from returns (the
      compounded price), so its depths agree to rounding only; its
      ``99% max drawdown`` column (an outlier-trimmed depth) is not given.
    * ``state=`` / ``return_state=True``: chunks.  With ``return_state=True``
      a call reports the episodes that recover in its chunk and returns
      ``(records, state)``; the episode still open is carried in the state
      and reported once, where it recovers, or (as active) by the last call,
      made without ``return_state``.  Indices are global; the records of
      all calls, concatenated, are the batch result (``top`` and
      ``style`` apply per call).
    * Live: :class:`tradekernels.stream.Drawdowns` (``update(price)``
      returns the episode that price recovers, or None).
    * ``nan=``: the NaN policy, ``"skip"`` (default), ``"ffill"`` or
      ``"zero_return"`` (:func:`tradekernels._api.apply_nan_policy`; the
      records are then those of the filled / rebuilt prices; with
      ``state=`` the policy's carry is part of the state,
      :func:`tradekernels._api.apply_nan_policy_chunk`).
    """
    if style not in _STYLES:
        raise ValueError(f"tradekernels.drawdowns: style must be one of {_STYLES}, got {style!r}")
    _check_top(top)
    rec, new_state, dtype, ax, n, ctx = _records64(x, axis, nan, state, return_state)
    if top is not None:
        rec = _top(rec, int(top))
    result = _form(_as_input_dtype(rec, dtype), ax, n, style, ctx)
    return (result, new_state) if return_state else result


def _check_top(top: Any) -> None:
    if top is not None:
        if isinstance(top, bool) or not isinstance(top, (int, np.integer)):
            raise TypeError(f"tradekernels.drawdowns: top must be an integer or None, got {top!r}")
        if top < 0:
            raise ValueError(f"tradekernels.drawdowns: top must be >= 0, got {top}")


def _as_input_dtype(rec: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """float32 input's records in float32 (each value rounded once, after ``top``)."""
    if dtype != np.float32:
        return rec
    with np.errstate(over="ignore"):  # a depth beyond float32's range rounds to -inf
        return rec.astype(RECORD_DTYPE_F32)


def _records64(x: Any, axis: Any, nan: str, state: Any, return_state: bool) -> Tuple[Any, ...]:
    """The float64 records of :func:`drawdowns` (before ``top``, the float32 cast and the
    framing) and the new state (None unless ``return_state``), with the input's dtype,
    time axis, length and pandas context."""
    arr, ax, ctx = prepare("drawdowns", x, axis)
    carry = None
    if state is None and not return_state:
        arr = apply_nan_policy("drawdowns", arr, ax, nan)
        st0 = as_state_vector("drawdowns", None)
    else:
        arr, st0, carry = split_policy_state("drawdowns", arr, ax, nan, state)
    if not -arr.ndim <= ax < arr.ndim:
        raise np.exceptions.AxisError(ax, arr.ndim)
    a = np.moveaxis(arr, ax, -1)
    a2 = a if a.ndim == 2 else a.reshape(int(np.prod(a.shape[:-1])), a.shape[-1])
    lead = a.shape[:-1]
    st0 = np.ascontiguousarray(np.broadcast_to(st0, lead + st0.shape[-1:]), dtype=np.float64)
    st2 = st0.reshape(a2.shape[0], st0.shape[-1])
    final = not return_state

    def native() -> Any:
        st = st2.copy()
        return _core.drawdowns(a2, RECORD_DTYPE, st, final, ufuncs.simd_path), st

    rec, st_out = _backend.dispatch(native, lambda: _reference_records(a2, st2, final), _check)
    new_state = None
    if return_state:
        new_state = join_policy_state("drawdowns", nan, st_out.reshape(lead + st_out.shape[-1:]), carry)
    return rec, new_state, arr.dtype, ax, a.shape[-1], ctx


def _form(rec: np.ndarray, ax: int, n: int, style: Optional[str], ctx: Any) -> Any:
    """The records as the kind of input :func:`prepare` saw (and ``style``)."""
    frame, series = ctx[0], ctx[1]
    if frame is None and series is None:
        if style == "quantstats":
            raise TypeError("tradekernels.drawdowns: style='quantstats' needs a pandas Series or DataFrame")
        return rec
    pd = sys.modules["pandas"]
    if frame is not None:
        times = frame.index if ax == 0 else frame.columns
        labels = frame.columns if ax == 0 else frame.index
    else:
        times, labels = series.index, None
    if style == "quantstats":
        return _quantstats(pd, rec, times, labels, n)
    df = pd.DataFrame({f: rec[f] for f in FIELDS})
    if labels is not None:
        df.insert(1, "column", np.asarray(labels, dtype=object)[rec["col"]] if len(rec) else [])
    if isinstance(times, pd.DatetimeIndex):
        _add_times(pd, df, rec, times)
    return df


def _at(pd: Any, times: Any, idx: np.ndarray) -> Any:
    """``times[idx]`` with NaT where ``idx`` is -1."""
    if len(idx) == 0:
        return pd.DatetimeIndex([], dtype=times.dtype)
    return times[np.where(idx >= 0, idx, 0)].where(idx >= 0)


def _add_times(pd: Any, df: Any, rec: np.ndarray, times: Any) -> None:
    peak = _at(pd, times, rec["peak_idx"])
    valley = _at(pd, times, rec["valley_idx"])
    end = _at(pd, times, rec["end_idx"])
    last = times[-1] if len(times) else pd.NaT
    df["peak_time"] = peak
    df["valley_time"] = valley
    df["end_time"] = end
    df["decline"] = valley - peak
    df["recovery"] = end - valley
    df["duration"] = end.where(rec["end_idx"] >= 0, last) - peak if len(rec) else pd.TimedeltaIndex([])


def _quantstats(pd: Any, rec: np.ndarray, times: Any, labels: Any, n: int) -> Any:
    """quantstats ``drawdown_details`` columns (see :func:`drawdowns`)."""
    start_i = rec["peak_idx"] + 1
    end_i = np.where(rec["end_idx"] >= 0, rec["end_idx"] - 1, n - 1)
    start = times[start_i] if len(rec) else times[:0]
    valley = times[rec["valley_idx"]] if len(rec) else times[:0]
    end = times[end_i] if len(rec) else times[:0]
    if isinstance(times, pd.DatetimeIndex):
        days = np.asarray((end - start).days) + 1
    else:
        days = end_i - start_i + 1
    df = pd.DataFrame(
        {
            "start": start,
            "valley": valley,
            "end": end,
            "days": days,
            "max drawdown": np.asarray(rec["depth"], dtype=np.float64) * 100.0,
        }
    )
    if labels is not None:
        df.insert(0, "column", np.asarray(labels, dtype=object)[rec["col"]] if len(rec) else [])
    return df
