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
from .._state import State, as_state_vector
from . import reference

__all__ = ["drawdowns", "RECORD_DTYPE", "RECORD_DTYPE_F32", "LabelledState"]

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
    rec, new_state, dtype, ax, _, ctx, before, after = _records64(x, axis, nan, state, return_state)
    line = _Timeline.of(ctx, ax, before, state)
    if line is not None and new_state is not None:
        labels = line.carry(after).reshape(new_state.shape + (4,))
        new_state = LabelledState(new_state.kernel, new_state.values, labels)
    if top is not None:
        rec = _top(rec, int(top))
    result = _form(_as_input_dtype(rec, dtype), ax, style, ctx, line)
    return (result, new_state) if return_state else result


# The drawdowns state's fields (EXTRA_LAYOUTS["drawdowns"]) that place a series in time.
_PEAK_I, _VALLEY_I, _SEEN = 3, 4, 5


class LabelledState(State):
    """The state of :func:`drawdowns` on pandas input: a :class:`~tradekernels.State`
    that also carries ``labels``, the index labels of the earlier bars the next chunk's
    records can name (an object array, shape ``lead + (4,)``: the open episode's peak,
    the bar after it, its valley, and the last bar seen; None where there is none).  A
    plain ``State`` passed to a pandas call names those bars NaT (None)."""

    __slots__ = ("labels",)
    labels: np.ndarray

    def __init__(self, kernel: str, values: Any, labels: Any) -> None:
        super().__init__(kernel, values)
        lab = np.array(labels, dtype=object)
        if lab.shape != self.values.shape[:-1] + (4,):
            raise ValueError(
                f"tradekernels.drawdowns: a state's labels have shape lead + (4,) = "
                f"{self.values.shape[:-1] + (4,)}, got {lab.shape}"
            )
        lab.flags.writeable = False
        object.__setattr__(self, "labels", lab)

    def __getitem__(self, idx: Any) -> State:
        if not self.shape:
            raise IndexError("a single-series state cannot be indexed")
        idx = idx if isinstance(idx, tuple) else (idx,)
        sel = idx + (Ellipsis, slice(None))
        return LabelledState(self.kernel, self.values[sel], self.labels[sel])

    def __eq__(self, other: object) -> bool:
        same = State.__eq__(self, other)
        if same is not True:
            return same
        a, b = self.labels, getattr(other, "labels", None)
        if b is None or a.shape != b.shape:
            return False
        return all(_same_label(p, q) for p, q in zip(a.ravel().tolist(), b.ravel().tolist()))

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self):
        return (LabelledState, (self.kernel, np.array(self.values), np.array(self.labels)))


def _same_label(p: Any, q: Any) -> bool:
    if p is None or q is None:
        return p is None and q is None
    return bool(p == q) or (p != p and q != q)


class _Timeline:
    """Global bar index -> index label, for one pandas call: the chunk's own labels
    (``times``, the bars from ``seen`` on, per series) and, before the chunk, the bars
    the state carries (:class:`LabelledState`); None (NaT) for -1 and for a bar no one
    knows."""

    def __init__(self, times: Any, before: np.ndarray, labels: Optional[np.ndarray]) -> None:
        self.times = times
        self.seen = before[:, _SEEN].astype(np.int64)
        self.peak = before[:, _PEAK_I].astype(np.int64)
        self.valley = before[:, _VALLEY_I].astype(np.int64)
        self.labels = labels  # (S, 4) object, or None

    @classmethod
    def of(cls, ctx: Any, ax: int, before: np.ndarray, state: Any) -> Optional[_Timeline]:
        frame, series = ctx[0], ctx[1]
        if frame is None and series is None:
            return None
        times = series.index if frame is None else (frame.index if ax == 0 else frame.columns)
        labels = None
        if isinstance(state, LabelledState):
            labels = np.asarray(state.labels, dtype=object).reshape(before.shape[0], 4)
        return cls(times, before, labels)

    def at(self, g: np.ndarray, col: np.ndarray) -> Any:
        """The labels of bars ``g`` of series ``col``, an Index of the times' dtype."""
        pd = sys.modules["pandas"]
        g = np.asarray(g, dtype=np.int64)
        local = g - self.seen[col]
        n = len(self.times)
        inside = (g >= 0) & (local >= 0) & (local < n)
        early = (g >= 0) & (local < 0)
        if not early.any() and n:
            return self.times[np.where(inside, local, 0)].where(inside)
        vals = np.full(len(g), None, dtype=object)
        if inside.any():
            vals[inside] = np.asarray(self.times[local[inside]], dtype=object)
        if self.labels is not None and early.any():
            c, gi = col[early], g[early]
            known = [self.peak[c], self.peak[c] + 1, self.valley[c], self.seen[c] - 1]
            got = np.full(len(gi), None, dtype=object)
            for j in (3, 2, 1, 0):  # the first match wins (the peak before the bar after it)
                hit = (gi == known[j]) & (known[j] >= 0)
                got[hit] = self.labels[c[hit], j]
            vals[early] = got
        if isinstance(self.times, pd.DatetimeIndex):
            return pd.DatetimeIndex(vals, dtype=self.times.dtype)
        return pd.Index(vals, dtype=self.times.dtype if not (vals == None).any() else object)  # noqa: E711

    def last(self, col: np.ndarray) -> np.ndarray:
        """The global index of each series' last bar so far (after this chunk)."""
        return self.seen[col] + len(self.times) - 1

    def carry(self, after: np.ndarray) -> np.ndarray:
        """The labels a :class:`LabelledState` carries after this chunk (state ``after``)."""
        cols = np.arange(after.shape[0])
        peak = after[:, _PEAK_I].astype(np.int64)
        seen = after[:, _SEEN].astype(np.int64)
        nxt = np.where((peak >= 0) & (peak + 1 < seen), peak + 1, -1)
        idx = [peak, nxt, after[:, _VALLEY_I].astype(np.int64), seen - 1]
        out = np.full((after.shape[0], 4), None, dtype=object)
        for j, g in enumerate(idx):
            lab = self.at(g, cols)
            out[:, j] = [None if v is None or v != v else v for v in lab.tolist()]
        return out


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
        raise np.exceptions.AxisError(ax, arr.ndim, msg_prefix="tradekernels.drawdowns")
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
    return rec, new_state, arr.dtype, ax, a.shape[-1], ctx, st2, st_out


def _form(rec: np.ndarray, ax: int, style: Optional[str], ctx: Any, line: Optional[_Timeline]) -> Any:
    """The records as the kind of input :func:`prepare` saw (and ``style``); ``line``
    names the bars of pandas input."""
    frame = ctx[0]
    if line is None:
        if style == "quantstats":
            raise TypeError("tradekernels.drawdowns: style='quantstats' needs a pandas Series or DataFrame")
        return rec
    pd = sys.modules["pandas"]
    labels = None if frame is None else (frame.columns if ax == 0 else frame.index)
    if style == "quantstats":
        return _quantstats(pd, rec, line, labels)
    df = pd.DataFrame({f: rec[f] for f in FIELDS})
    if labels is not None:
        df.insert(1, "column", labels.take(rec["col"]))  # the labels' own dtype, also when empty
    if isinstance(line.times, pd.DatetimeIndex):
        _add_times(pd, df, rec, line)
    return df


def _add_times(pd: Any, df: Any, rec: np.ndarray, line: _Timeline) -> None:
    col = rec["col"]
    peak = line.at(rec["peak_idx"], col)
    valley = line.at(rec["valley_idx"], col)
    end = line.at(rec["end_idx"], col)
    last = line.at(line.last(col), col)
    df["peak_time"] = peak
    df["valley_time"] = valley
    df["end_time"] = end
    df["decline"] = valley - peak
    df["recovery"] = end - valley
    df["duration"] = end.where(rec["end_idx"] >= 0, last) - peak


def _quantstats(pd: Any, rec: np.ndarray, line: _Timeline, labels: Any) -> Any:
    """quantstats ``drawdown_details`` columns (see :func:`drawdowns`)."""
    col = rec["col"]
    start_i = rec["peak_idx"] + 1
    end_i = np.where(rec["end_idx"] >= 0, rec["end_idx"] - 1, line.last(col))
    start = line.at(start_i, col)
    valley = line.at(rec["valley_idx"], col)
    end = line.at(end_i, col)
    if isinstance(line.times, pd.DatetimeIndex):
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
        df.insert(0, "column", labels.take(rec["col"]))
    return df
