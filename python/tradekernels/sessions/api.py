"""Trading sessions: :class:`Calendar` and the session kernels.

A :class:`Calendar` describes sessions as local wall-clock times in an IANA
time zone.  On first use for a range of dates it builds (and caches) a
:class:`SessionTable`: sorted int64 arrays of the sessions' UTC open / close
instants (nanoseconds) and of their break intervals, correct across DST
changes.  The C kernels (:data:`tradekernels.ufuncs.session_mask` etc.) only
read that table: per timestamp they find the session by a galloping search
from the previous timestamp's session (O(1) per timestamp for sorted input,
O(log sessions) otherwise).

The exact semantics (weekdays, holidays, early closes / late opens,
overnight sessions, breaks, DST gaps) are those of the pure-Python twin
:mod:`tradekernels.sessions.reference`; in short:

* in session: ``open <= ts < close`` (open inclusive, close exclusive) and
  not inside a break ``[start, end)`` (a break is not part of the session);
* overnight sessions (``close <= open``; ``close == open``: 24 hours) open
  on a listed weekday and close the next calendar day; they belong to (are labelled by) the day they open,
  and holidays / early closes / late opens are keyed by that day;
* a wall-clock boundary inside a DST gap (or a skipped date) takes effect
  at the first instant after the gap (pandas' ``shift_forward``), one in a
  repeated hour at its first occurrence (``fold=0``); a break or session of
  zero length is dropped (:mod:`tradekernels.sessions.table`).

Timestamp input (every function): NumPy ``datetime64`` of any unit (read in
place: the kernels compare them with the table scaled to their unit, bounds
rounded up, which is exact; values outside the ns range raise OverflowError), integers (epoch
counts in ``unit=`` ``"ns"`` (default), ``"us"``, ``"ms"`` or ``"s"``: pandas 3's ``asi8``
is microseconds, so pass ``unit="us"`` or the DatetimeIndex itself), a pandas ``DatetimeIndex`` or datetime
Series (tz-aware: converted to UTC; tz-naive: taken to be UTC -- as are
naive NumPy datetimes), an integer Series (epoch counts in ``unit=``, as
integer arrays; NumPy, nullable ``Int64`` or pyarrow integers, NA read as
NaT), a DataFrame of such columns (one column per series, time down the
rows; the columns may differ in kind, zone and unit), or a scalar of any
of these kinds (also ``datetime.datetime``: aware or naive-UTC).  NaT (and
the int64 minimum) is never in a session: False / -1.  Floats, bools,
strings, timedeltas and objects raise TypeError.  Output: NumPy arrays of
the input's shape (``session_start`` runs along ``axis``: by default the
last axis of an array, down each column of a DataFrame, as the scans);
pandas in -> pandas out: a Series indexed by the DatetimeIndex or by the
Series' own index, a DataFrame with the input's index and columns.

**Sorted input.**  ``assume_sorted=True`` (``session_mask``, ``session_index``,
``session_label``, ``session_start``) promises that the timestamps are
sorted ascending along the time axis (the last axis of an array, down each
column of a DataFrame, ``session_start``'s ``axis``; NaT, if any, all first or all last):
the kernel then searches each session's bounds in them and fills the runs in
between, reading O(sessions x log n) timestamps instead of all n.  As with
``numpy.searchsorted`` or ``numpy.isin(..., assume_unique=True)``, a broken
promise gives unspecified answers (never a crash or an out-of-bounds
access).  A pandas ``DatetimeIndex`` takes this path by itself when its
``is_monotonic_increasing`` (computed once and cached by pandas) is True.
Without the promise the kernels still run fastest on sorted input: blocks
of timestamps checked non-decreasing are answered by their two ends.

**Range.**  Timestamps outside the dates the table covers make the calendar
extend itself: it rebuilds the table for the union of the old range and the
new timestamps (rounded out to whole years) and runs again.  Rows of the
table are therefore renumbered when it grows towards the past:
:func:`session_index` returns rows of the table as it is *after* the call
(``cal.table().labels[row]`` is the session's label); :func:`session_label`
gives the stable label (datetime64[D]) directly.  Every call computes on
one immutable table snapshot from start to end (safe while another thread
extends the table).
"""

from __future__ import annotations

import datetime as _dt
import sys
from typing import Any, Callable, List, Optional, Tuple

import numpy as np

from .. import _backend, ufuncs
from . import reference as _ref
from ._stamps import _Frame, _ns_range, _timestamps, _to_ns, _wrap
from .calendar import Calendar
from .table import SessionTable

__all__ = [
    "session_mask",
    "session_index",
    "session_label",
    "session_start",
    "minutes_into_session",
]

_SORTED = {"session_mask", "session_index", "session_start"}  # kernels with a sorted-input variant
_NAT_D = np.datetime64("NaT", "D")


def _is_sorted(x: Any, assume_sorted: bool) -> bool:
    """The caller's promise, or pandas' cached monotonicity of a DatetimeIndex."""
    if not isinstance(assume_sorted, (bool, np.bool_)):
        raise TypeError(f"assume_sorted must be a bool, got {type(assume_sorted).__name__}")
    if assume_sorted:
        return True
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(x, pd.DatetimeIndex) and bool(x.is_monotonic_increasing)


def _check_cal(cal: Any, name: str) -> None:
    if not isinstance(cal, Calendar):
        raise TypeError(f"tradekernels.{name}: cal must be a tradekernels.Calendar, got {type(cal).__name__}")


# --------------------------------------------------------------------------
# Native: the C kernels on one table snapshot
# --------------------------------------------------------------------------


def _native(
    name: str, vals: np.ndarray, step: int, cal: Calendar, sorted_: bool = False
) -> Tuple[np.ndarray, SessionTable]:
    """(result, the table it was computed on): one immutable snapshot per call."""
    uf = getattr(ufuncs, name + "_sorted" if sorted_ and name in _SORTED else name)
    a = vals if vals.ndim else vals.reshape(1)
    if name == "minutes_into_session" and step != 1:
        a, step = _to_ns(a, step, name), 1  # its arithmetic is in ns
    t = cal._table
    for _ in range(3):
        if t is None:
            r = _ns_range(a, step, name)
            t = cal._extend_for(np.array(r if r is not None else (), dtype=np.int64))
        res, outside = uf(a, *t._kernel_args(step))
        if not (outside.any() if outside.ndim else outside):  # (a scalar count: no reduction)
            return (res if vals.ndim else res.reshape(())), t
        r = _ns_range(a, step, name)  # OverflowError beyond the ns range
        t = cal._extend_for(np.array(r if r is not None else (), dtype=np.int64))
    raise RuntimeError(
        f"tradekernels.{name}: the session table could not be extended to cover the timestamps"
    )  # pragma: no cover - table always reaches the int64 range


def _labels(idx: np.ndarray, t: SessionTable) -> np.ndarray:
    """Session rows of table ``t`` -> labels (datetime64[D], NaT for -1)."""
    return np.concatenate([t.labels, np.array([_NAT_D])])[idx]


# --------------------------------------------------------------------------
# Reference: per timestamp, from the calendar's rules (the twin) or, for an
# exchange_calendars calendar, from exchange_calendars' own session data
# --------------------------------------------------------------------------


def _finder(cal: Calendar, ns: np.ndarray) -> Callable[[int], Optional[Tuple[_dt.date, int]]]:
    """ts -> (label, open ns) or None."""
    ref = getattr(cal, "_reference_find", None)
    if ref is None:
        return lambda t: _ref.find(t, cal)
    cal._extend_for(ns)  # exchange_calendars' data for the range
    return ref


def _reference(name: str, ns: np.ndarray, cal: Calendar) -> np.ndarray:
    """The twin's answer (session_index: as labels, datetime64[D]) for int64 ns of any shape."""
    dtype = {"session_mask": bool, "session_start": bool, "session_index": "datetime64[D]"}.get(
        name, np.int64
    )
    if ns.size == 0:
        return np.empty(ns.shape, dtype=dtype)
    find = _finder(cal, ns)

    def lane(ts: List[int]) -> List[Any]:
        got = [find(t) for t in ts]
        if name == "session_mask":
            return [g is not None for g in got]
        if name == "session_index":
            return [np.datetime64(g[0], "D") if g is not None else _NAT_D for g in got]
        if name == "minutes_into_session":
            return [(t - g[1]) // _ref.NS_PER_MINUTE if g is not None else -1 for t, g in zip(ts, got)]
        out, prev = [], None  # session_start
        for g in got:
            out.append(g is not None and g[0] != prev)
            prev = g[0] if g is not None else prev
        return out

    a = ns if ns.ndim else ns.reshape(1)
    return _backend.lanes(lane, [a], [dtype], [0])[0].reshape(ns.shape)


def _rows_of(labels: np.ndarray, t: SessionTable) -> np.ndarray:
    """Labels -> rows of table ``t`` (-1 for NaT); the table covers them."""
    rows = np.searchsorted(t.labels, labels)
    return np.where(np.isnat(labels), -1, rows).astype(np.int64)


# --------------------------------------------------------------------------
# One call through the backend layer
# --------------------------------------------------------------------------


def _time_axis(name: str, axis: Any, ndim: int, frame: bool) -> int:
    """The time axis as a non-negative index: ``axis`` of the scans' convention (None: the
    last axis of an array, the rows of a DataFrame: axis 0 / "index"; 1 / "columns")."""
    if frame:
        if axis is None or isinstance(axis, str):
            axis = {None: 0, "index": 0, "columns": 1}.get(axis, axis)
        if (
            not isinstance(axis, (int, np.integer))
            or isinstance(axis, (bool, np.bool_))
            or axis not in (0, 1)
        ):
            raise ValueError(f"tradekernels.{name}: axis for a DataFrame must be 0 or 1, got {axis!r}")
        return int(axis)
    if axis is None:
        return max(ndim, 1) - 1
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, (bool, np.bool_)):
        raise TypeError(f"tradekernels.{name}: axis must be an integer, got {axis!r}")
    nd = max(ndim, 1)  # a scalar is a series of one
    if not -nd <= axis < nd:
        raise np.exceptions.AxisError(int(axis), nd, f"tradekernels.{name}")
    return int(axis) % nd


def _compute(
    name: str, x: Any, cal: Calendar, assume_sorted: bool, unit: str = "ns", axis: Any = None
) -> Tuple[np.ndarray, np.ndarray, int, Any, int]:
    """(result array, timestamps as counts, ns per count, pandas wrapping, time axis) of one
    kernel; the result and the counts have the time axis last (:func:`_finish` puts it back).

    ``session_index`` and ``session_label`` are compared as labels (rows depend on the
    table's range); ``session_label`` is ``session_index`` read through its own snapshot."""
    _check_cal(cal, name)
    sorted_ = _is_sorted(x, assume_sorted)
    vals, step, meta = _timestamps(x, name, unit)
    ax = _time_axis(name, axis, vals.ndim, isinstance(meta, _Frame))
    if vals.ndim > 1 and ax != vals.ndim - 1:
        vals = np.moveaxis(vals, ax, -1)  # a view; the kernels read strided input
    kernel = "session_index" if name == "session_label" else name
    by_label = kernel == "session_index"

    def native() -> Tuple[np.ndarray, Optional[SessionTable]]:
        return _native(kernel, vals, step, cal, sorted_)

    def reference() -> Tuple[np.ndarray, Optional[SessionTable]]:
        """(answer, None), or for session_index (rows, the table they number)."""
        ns = _to_ns(vals, step, name)
        res = _reference(kernel, ns, cal)  # session_index: labels
        if name != "session_index":
            return res, None
        t = cal._extend_for(ns)  # a table covering the labels
        return _rows_of(res, t), t

    def labels(r: Tuple[np.ndarray, Optional[SessionTable]]) -> np.ndarray:
        return r[0] if r[1] is None else _labels(r[0], r[1])

    def check(nat: Tuple[np.ndarray, Any], ref: Tuple[np.ndarray, Any]) -> None:
        if by_label:  # as labels (rows depend on the table's range), int64: NaT == NaT
            _backend.compare(name, [labels(nat).view(np.int64)], [labels(ref).view(np.int64)], 0)
        else:
            _backend.compare(name, [nat[0]], [ref[0]], 0)

    got = _backend.dispatch(native, reference, check)
    return (labels(got) if name == "session_label" else got[0]), vals, step, meta, ax


def _finish(res: np.ndarray, ax: int, meta: Any, name: str) -> Any:
    """A result with the time axis last, back at ``ax`` and as the input's kind."""
    if res.ndim > 1 and ax != res.ndim - 1:
        res = np.moveaxis(res, -1, ax)
    return _wrap(res, meta, name)


def _run(
    name: str, x: Any, cal: Calendar, assume_sorted: bool = False, unit: str = "ns", axis: Any = None
) -> Any:
    res, _, _, meta, ax = _compute(name, x, cal, assume_sorted, unit, axis)
    return _finish(res, ax, meta, name)


def session_mask(ts: Any, cal: Calendar, *, assume_sorted: bool = False, unit: str = "ns") -> Any:
    """True where ``ts`` is inside a trading session of ``cal`` (bool).

    Open inclusive, close exclusive; timestamps inside a break are outside
    (False); NaT is False.  ``assume_sorted=True``: the caller promises
    sorted timestamps (see "Sorted input" in :mod:`tradekernels.sessions`).
    Semantics:
    :func:`tradekernels.sessions.reference.session_mask`; input / output
    conventions and table extension: :mod:`tradekernels.sessions.api`.
    """
    return _run("session_mask", ts, cal, assume_sorted, unit)


def session_index(ts: Any, cal: Calendar, *, assume_sorted: bool = False, unit: str = "ns") -> Any:
    """Row of ``cal.table()`` of the session containing ``ts`` (int64), -1 outside (and NaT).

    Rows are numbered in time order; ``cal.table().labels[row]`` is the
    session's label (its opening local date).  Rows are renumbered when
    the table is extended towards the past, so use them with the table as
    it is right after the call, or use :func:`session_label`.
    """
    return _run("session_index", ts, cal, assume_sorted, unit)


def session_label(ts: Any, cal: Calendar, *, assume_sorted: bool = False, unit: str = "ns") -> Any:
    """Label (opening local date, datetime64[D]) of the session containing ``ts``; NaT outside.

    Semantics: :func:`tradekernels.sessions.reference.session_label`.
    """
    return _run("session_label", ts, cal, assume_sorted, unit)


def session_start(
    ts: Any,
    cal: Calendar,
    *,
    axis: Any = None,
    assume_sorted: bool = False,
    state: Any = None,
    return_state: bool = False,
    unit: str = "ns",
) -> Any:
    """True at the first timestamp of each session in a sorted series (bool; along ``axis``).

    Precisely: an in-session timestamp whose session differs from that of
    the previous in-session timestamp (out-of-session timestamps and NaT are
    False and are skipped).  Semantics:
    :func:`tradekernels.sessions.reference.session_start`.

    ``axis`` is the time axis, as for the scans and
    :func:`tradekernels.dask.session_start`: for arrays the last axis by
    default (rows are series); for a DataFrame down each column (``0`` /
    ``"index"``, the default: one column per series, time down the rows) or
    along each row (``1`` / ``"columns"``).  ``assume_sorted=True``
    promises sorted timestamps along it.

    Chunks (cut along ``axis``): ``state`` is the label (datetime64[D], NaT
    for none; one per series -- the input's shape without ``axis`` -- for 2-D
    input or a DataFrame) of the session of the last in-session timestamp
    before this chunk; with ``return_state=True`` the call returns
    ``(result, state)`` for the next chunk, so chunked calls concatenate to
    the whole-series answer.  (The other session kernels answer each
    timestamp on its own and need no state.)
    """
    if state is None and not return_state:
        return _run("session_start", ts, cal, assume_sorted, unit, axis)
    res, vals, step, meta, ax = _compute("session_start", ts, cal, assume_sorted, unit, axis)
    res = np.array(res, dtype=bool)  # its own (writable) copy
    new = _carry_start(res, vals, step, cal, state)
    out = _finish(res, ax, meta, "session_start")
    return (out, new) if return_state else out


def _carry_start(res: np.ndarray, vals: np.ndarray, step: int, cal: Calendar, state: Any) -> Any:
    """Clear the first start of each series when it continues the carried session
    (in place); the label of each series' last start (or the carried one) is the new state."""
    n = res.shape[-1] if res.ndim else 1
    lead = res.shape[:-1] if res.ndim else ()
    rows_n = int(np.prod(lead, dtype=np.int64))
    r2 = res.reshape(rows_n, n)
    v2 = np.asarray(vals).reshape(rows_n, n)
    try:
        st = np.broadcast_to(
            np.asarray(state if state is not None else np.datetime64("NaT", "D"), dtype="datetime64[D]"), lead
        ).reshape(-1)
    except (TypeError, ValueError) as e:
        raise ValueError(
            f"tradekernels.session_start: state must be session labels (datetime64[D]) "
            f"broadcastable to {lead}"
        ) from e
    rows = np.flatnonzero(r2.any(axis=1))
    new = st.copy()
    if rows.size == 0:  # no start in this chunk: the carried labels stay
        return new.reshape(lead) if lead else new[0]
    first = np.argmax(r2[rows], axis=1)
    last = n - 1 - np.argmax(r2[rows, ::-1], axis=1)

    def labels(cols: np.ndarray) -> np.ndarray:
        return np.asarray(
            session_label(_to_ns(v2[rows, cols], step, "session_start"), cal), dtype="datetime64[D]"
        ).reshape(-1)

    same = labels(first) == st[rows]
    r2[rows[same], first[same]] = False
    new[rows] = labels(last)
    return new.reshape(lead) if lead else new[0]


def minutes_into_session(ts: Any, cal: Calendar, *, unit: str = "ns") -> Any:
    """Whole minutes (floor) since the open of the session containing ``ts`` (int64), -1 outside.

    Elapsed real time: breaks and DST changes inside a session are counted
    as they happen.  Semantics:
    :func:`tradekernels.sessions.reference.minutes_into_session`.
    """
    return _run("minutes_into_session", ts, cal, unit=unit)
