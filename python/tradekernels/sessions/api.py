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
:mod:`tradekernels.reference_sessions`; in short:

* in session: ``open <= ts < close`` (open inclusive, close exclusive) and
  not inside a break ``[start, end)`` (a break is not part of the session);
* overnight sessions (``close <= open``) open on a listed weekday and close
  the next calendar day; they belong to (are labelled by) the day they open,
  and holidays / early closes / late opens are keyed by that day.

Timestamp input (every function): NumPy ``datetime64`` of any unit (read in
place: the kernels compare them with the table scaled to their unit, bounds
rounded up, which is exact; values outside the ns range raise OverflowError), integers (int64
nanoseconds since the UTC epoch), a pandas ``DatetimeIndex`` or datetime
Series (tz-aware: converted to UTC; tz-naive: taken to be UTC -- as are
naive NumPy datetimes), or a scalar of any of these kinds (also
``datetime.datetime``: aware or naive-UTC).  NaT (and the int64 minimum)
is never in a session: False / -1.  Floats, bools, strings, timedeltas and
objects raise TypeError.  Output: NumPy arrays of the input's shape
(``session_start`` runs along the last axis); pandas in -> a pandas Series
out, indexed by the DatetimeIndex or by the Series' own index.

**Sorted input.**  ``assume_sorted=True`` (``session_mask``, ``session_index``,
``session_label``, ``session_start``) promises that the timestamps are
sorted ascending along the last axis (NaT, if any, all first or all last):
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
gives the stable label (datetime64[D]) directly.
"""

from __future__ import annotations

import datetime as _dt
import re
import sys
import zoneinfo
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from .. import _backend, ufuncs
from . import reference as _ref

__all__ = [
    "Calendar",
    "SessionTable",
    "session_mask",
    "session_index",
    "session_label",
    "session_start",
    "minutes_into_session",
]

_NAT = np.iinfo(np.int64).min
_DAY = _dt.timedelta(days=1)
# The local dates a table can cover (int64 ns spans 1677-09-21 .. 2262-04-11
# UTC); a table reaching one of them covers every timestamp beyond it, and
# sessions whose open / close do not fit in int64 ns are left out.
_MIN_DATE = _dt.date(1677, 9, 22)
_MAX_DATE = _dt.date(2262, 4, 11)

TimeLike = Union[_dt.time, str]
DateLike = Union[_dt.date, str, np.datetime64]


# --------------------------------------------------------------------------
# Calendar fields
# --------------------------------------------------------------------------

_TIME_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")


def _time(v: Any, what: str) -> _dt.time:
    if isinstance(v, _dt.datetime):
        raise TypeError(f"Calendar: {what} must be a datetime.time or 'HH:MM', got a datetime {v!r}")
    if isinstance(v, _dt.time):
        if v.tzinfo is not None:
            raise ValueError(f"Calendar: {what} must be a local wall-clock time without tzinfo, got {v!r}")
        return v.replace(fold=0)
    if isinstance(v, str):
        m = _TIME_RE.match(v)
        if m is None:
            raise ValueError(f"Calendar: {what} must look like 'HH:MM' or 'HH:MM:SS', got {v!r}")
        h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
        try:
            return _dt.time(h, mi, s)
        except ValueError:
            raise ValueError(f"Calendar: {what} is not a valid time of day: {v!r}") from None
    raise TypeError(f"Calendar: {what} must be a datetime.time or 'HH:MM', got {type(v).__name__}")


def _date(v: Any, what: str) -> _dt.date:
    if isinstance(v, _dt.datetime):
        if v.time() != _dt.time(0) or v.tzinfo is not None:
            raise ValueError(f"Calendar: {what} must be a date, got the date-time {v!r}")
        return v.date()
    if isinstance(v, _dt.date):
        return v
    if isinstance(v, np.datetime64):
        if np.isnat(v):
            raise ValueError(f"Calendar: {what} must be a date, got NaT")
        return _date(v.astype("datetime64[D]").item(), what)
    if isinstance(v, str):
        try:
            return _dt.date.fromisoformat(v.strip())
        except ValueError:
            raise ValueError(f"Calendar: {what} must be an ISO date 'YYYY-MM-DD', got {v!r}") from None
    ts_type = getattr(sys.modules.get("pandas"), "Timestamp", None)
    if ts_type is not None and isinstance(v, ts_type):
        return _date(v.to_pydatetime(), what)
    raise TypeError(f"Calendar: {what} must be a date, got {type(v).__name__}")


def _tz(tz: Any) -> zoneinfo.ZoneInfo:
    if isinstance(tz, zoneinfo.ZoneInfo):
        return tz
    if not isinstance(tz, str):
        name = getattr(tz, "key", None) or getattr(tz, "zone", None)
        if not isinstance(name, str):
            raise TypeError(f"Calendar: tz must be an IANA time zone name, got {tz!r}")
        tz = name
    try:
        return zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"Calendar: unknown time zone {tz!r} (expected an IANA name such as "
                         "'America/New_York')") from None


def _rel(t: _dt.time, origin: _dt.time) -> float:
    """Seconds from ``origin`` forward to ``t`` on a 24-hour clock, in [0, 86400)."""
    return (_ref._sec(t) - _ref._sec(origin)) % 86400.0


# --------------------------------------------------------------------------
# The session table
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SessionTable:
    """The sessions of a calendar as UTC nanosecond intervals (read-only arrays).

    Row ``i`` is the session labelled ``labels[i]`` (the local date it opens
    on), in force on ``[opens[i], closes[i])`` minus its breaks; rows are
    sorted and do not overlap.  ``break_starts`` / ``break_ends`` are all
    breaks of all sessions, sorted (``break_rows`` gives each break's
    session row).  The table is complete for timestamps ``lo <= ts <= hi``
    (inclusive: UTC ns): local dates ``first`` .. ``last`` of the calendar's
    time zone.
    """

    labels: np.ndarray  # datetime64[D]
    opens: np.ndarray  # int64 ns
    closes: np.ndarray
    break_starts: np.ndarray
    break_ends: np.ndarray
    break_rows: np.ndarray
    first: _dt.date
    last: _dt.date
    lo: int
    hi: int
    _scaled: Dict[int, Tuple[Any, ...]] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.opens)

    def _kernel_args(self, step: int = 1) -> Tuple[Any, ...]:
        """(opens, closes, break_starts, break_ends, lo, hi) for timestamps counted in
        units of ``step`` ns.  t * step >= x exactly when t >= ceil(x / step), so every
        bound rounds up (hi, inclusive, rounds down): the answers are the exact ones."""
        if step == 1:
            return self.opens, self.closes, self.break_starts, self.break_ends, self.lo, self.hi
        got = self._scaled.get(step)
        if got is None:
            def up(a: np.ndarray) -> np.ndarray:
                r = -((-a) // step)
                r.setflags(write=False)
                return r

            got = (up(self.opens), up(self.closes), up(self.break_starts), up(self.break_ends),
                   -((-self.lo) // step), self.hi // step)
            self._scaled[step] = got
        return got

    def covers(self, first: _dt.date, last: _dt.date) -> bool:
        return self.first <= first and last <= self.last

    @staticmethod
    def from_rows(labels: Sequence[_dt.date], opens: Sequence[int], closes: Sequence[int],
                  breaks: Sequence[Tuple[int, int, int]], first: _dt.date, last: _dt.date,
                  lo: int, hi: int) -> "SessionTable":
        def ro(a: np.ndarray) -> np.ndarray:
            a.setflags(write=False)
            return a

        i64 = np.int64
        b = np.array(breaks, dtype=i64).reshape(-1, 3)
        t = SessionTable(
            labels=ro(np.array(labels, dtype="datetime64[D]").reshape(-1)),
            opens=ro(np.array(opens, dtype=i64).reshape(-1)),
            closes=ro(np.array(closes, dtype=i64).reshape(-1)),
            break_starts=ro(np.ascontiguousarray(b[:, 0])),
            break_ends=ro(np.ascontiguousarray(b[:, 1])),
            break_rows=ro(np.ascontiguousarray(b[:, 2])),
            first=first, last=last, lo=int(lo), hi=int(hi),
        )
        t._check()
        return t

    def _check(self) -> None:
        o, c, bs, be = self.opens, self.closes, self.break_starts, self.break_ends
        if len(o) != len(c) or len(o) != len(self.labels):
            raise ValueError("SessionTable: labels, opens and closes differ in length")
        if np.any(o >= c) or np.any(c[:-1] > o[1:]):
            raise ValueError("SessionTable: sessions must be non-empty, sorted and non-overlapping")
        if np.any(bs >= be) or np.any(be[:-1] > bs[1:]):
            raise ValueError("SessionTable: breaks must be non-empty, sorted and non-overlapping")
        r = self.break_rows
        if len(r) and (np.any(bs < o[r]) or np.any(be > c[r])):
            raise ValueError("SessionTable: a break lies outside its session")


def _clamp_date(d: _dt.date) -> _dt.date:
    return min(max(d, _MIN_DATE), _MAX_DATE)


def _coverage(first: _dt.date, last: _dt.date, tz: Any) -> Tuple[int, int]:
    """[lo, hi] (inclusive): UTC ns of local midnight starting ``first``, and 1 ns before ``last`` ends."""
    lo = _ref.wall_to_utc_ns(_dt.datetime.combine(first, _dt.time(0)), tz)
    hi = _ref.wall_to_utc_ns(_dt.datetime.combine(last + _DAY, _dt.time(0)), tz)
    lo = _NAT + 1 if first <= _MIN_DATE else max(lo, _NAT + 1)
    hi = 2**63 - 1 if last >= _MAX_DATE else min(hi - 1, 2**63 - 1)
    return lo, hi


class Calendar:
    """Trading sessions in local wall-clock time of an IANA time zone.

    Parameters
    ----------
    tz:
        IANA time zone name (``zoneinfo``), e.g. ``"America/New_York"``.
        Unknown names raise ValueError.
    open, close:
        Regular session open and close, ``datetime.time`` or ``"HH:MM"``
        (``"HH:MM:SS"``).  ``close < open`` makes the session overnight:
        it opens on the listed weekday and closes the next calendar day.
        ``open == close`` raises ValueError.
    weekdays:
        Days on which a session opens (Monday = 0 ... Sunday = 6).
    holidays:
        Dates on which no session opens (``datetime.date`` or ISO strings).
    early_closes, late_opens:
        ``{date: time}`` for individual sessions (keyed by the session's
        opening date); the time must lie inside the regular session.  A
        break is clipped to the shortened session.  Entries for non-trading
        dates are ignored.
    breaks:
        ``[(start, end), ...]`` wall-clock breaks inside every session
        (e.g. a lunch break); a break outside the session raises ValueError.

    See :mod:`tradekernels.sessions` and
    :mod:`tradekernels.reference_sessions` for the exact semantics.  The
    session table (:meth:`table`) is built lazily and cached; a Calendar is
    safe to share between threads (a rebuild swaps in a new table).
    """

    def __init__(self, tz: Any, open: TimeLike, close: TimeLike,
                 weekdays: Iterable[int] = (0, 1, 2, 3, 4),
                 holidays: Iterable[DateLike] = (),
                 early_closes: Optional[Mapping[DateLike, TimeLike]] = None,
                 late_opens: Optional[Mapping[DateLike, TimeLike]] = None,
                 breaks: Iterable[Tuple[TimeLike, TimeLike]] = ()) -> None:
        self.tz = _tz(tz)
        self.open = _time(open, "open")
        self.close = _time(close, "close")
        if self.close == self.open:
            raise ValueError(f"Calendar: open and close are both {self.open}; a session must have a "
                             "length (for a 24-hour market use e.g. 17:00 -> 16:59)")
        span = _rel(self.close, self.open)
        self.overnight = self.close < self.open

        wd = set()
        for w in weekdays:
            if isinstance(w, bool) or not isinstance(w, (int, np.integer)) or not 0 <= int(w) <= 6:
                raise ValueError(f"Calendar: weekdays must be integers 0 (Monday) .. 6 (Sunday), got {w!r}")
            wd.add(int(w))
        self.weekdays = frozenset(wd)
        if isinstance(holidays, (str, _dt.date)):
            raise TypeError("Calendar: holidays must be a collection of dates, not a single date")
        self.holidays = frozenset(_date(h, "holiday") for h in holidays)

        def in_session(t: _dt.time, lo_ok: bool, hi_ok: bool) -> bool:
            r = _rel(t, self.open)
            return (r > 0 or lo_ok) and (r < span or (hi_ok and r == span))

        self.early_closes: Dict[_dt.date, _dt.time] = {}
        for d, t in dict(early_closes or {}).items():
            dd, tt = _date(d, "early_closes key"), _time(t, f"early close on {d}")
            if not in_session(tt, False, True):
                raise ValueError(f"Calendar: early close {tt} on {dd} is not inside the regular session "
                                 f"{self.open}-{self.close}")
            self.early_closes[dd] = tt
        self.late_opens: Dict[_dt.date, _dt.time] = {}
        for d, t in dict(late_opens or {}).items():
            dd, tt = _date(d, "late_opens key"), _time(t, f"late open on {d}")
            if not in_session(tt, True, False):
                raise ValueError(f"Calendar: late open {tt} on {dd} is not inside the regular session "
                                 f"{self.open}-{self.close}")
            ec = self.early_closes.get(dd)
            if ec is not None and _rel(tt, self.open) >= _rel(ec, self.open):
                raise ValueError(f"Calendar: late open {tt} on {dd} is not before its early close {ec}")
            self.late_opens[dd] = tt

        brk = []
        for item in breaks:
            try:
                s, e = item
            except (TypeError, ValueError):
                raise TypeError(f"Calendar: breaks must be (start, end) pairs, got {item!r}") from None
            s, e = _time(s, "break start"), _time(e, "break end")
            rs, re_ = _rel(s, self.open), _rel(e, self.open)
            if not (rs < re_ <= span):
                raise ValueError(f"Calendar: break {s}-{e} is not inside the session {self.open}-{self.close}")
            brk.append((rs, s, e, re_))
        brk.sort()
        for a, b in zip(brk, brk[1:]):
            if b[0] < a[3]:
                raise ValueError(f"Calendar: breaks {a[1]}-{a[2]} and {b[1]}-{b[2]} overlap")
        self.breaks: Tuple[Tuple[_dt.time, _dt.time], ...] = tuple((s, e) for _, s, e, _ in brk)
        self._table: Optional[SessionTable] = None

    # -- model ---------------------------------------------------------------

    def spec(self) -> Dict[str, Any]:
        """The calendar as a JSON-able dict (``Calendar(**spec)`` rebuilds it)."""
        iso = _dt.date.isoformat
        return {
            "tz": self.tz.key,
            "open": self.open.isoformat(),
            "close": self.close.isoformat(),
            "weekdays": sorted(self.weekdays),
            "holidays": sorted(iso(d) for d in self.holidays),
            "early_closes": {iso(d): t.isoformat() for d, t in sorted(self.early_closes.items())},
            "late_opens": {iso(d): t.isoformat() for d, t in sorted(self.late_opens.items())},
            "breaks": [[s.isoformat(), e.isoformat()] for s, e in self.breaks],
        }

    def __repr__(self) -> str:
        kind = "overnight" if self.overnight else "day"
        return (f"Calendar({self.tz.key!r}, {self.open.isoformat()!r}, {self.close.isoformat()!r}, "
                f"{kind}, weekdays={sorted(self.weekdays)}, {len(self.holidays)} holidays, "
                f"{len(self.early_closes)} early closes, {len(self.late_opens)} late opens, "
                f"breaks={[(s.isoformat(), e.isoformat()) for s, e in self.breaks]})")

    # -- table ---------------------------------------------------------------

    def _build(self, first: _dt.date, last: _dt.date) -> SessionTable:
        """The table for local dates first..last (sessions labelled first-1 .. last)."""
        tz = self.tz
        labels, opens, closes, breaks = [], [], [], []
        d = first - _DAY
        while d <= last:
            wt = _ref.session_wall_times(d, self)
            if wt is not None:
                op, cl, brk = wt
                o, c = _ref.wall_to_utc_ns(op, tz), _ref.wall_to_utc_ns(cl, tz)
                if _NAT < o and c <= 2**63 - 1:
                    row = len(opens)
                    labels.append(d)
                    opens.append(o)
                    closes.append(c)
                    for bs, be in brk:
                        breaks.append((_ref.wall_to_utc_ns(bs, tz), _ref.wall_to_utc_ns(be, tz), row))
            d += _DAY
        return SessionTable.from_rows(labels, opens, closes, breaks, first, last,
                                      *_coverage(first, last, tz))

    def table(self, start: Optional[DateLike] = None, end: Optional[DateLike] = None) -> SessionTable:
        """The cached session table, first extended to cover local dates ``start`` .. ``end``.

        With no arguments: the current table (built for the current year if
        there is none yet).  Extending rebuilds the whole table for the
        union of the ranges, rounded out to whole years.
        """
        t = self._table
        if start is None and end is None and t is not None:
            return t
        today = _dt.date.today()
        first = _date(start, "start") if start is not None else (t.first if t else today)
        last = _date(end, "end") if end is not None else (t.last if t else today)
        if first > last:
            raise ValueError(f"Calendar.table: start {first} is after end {last}")
        if t is not None and t.covers(first, last):
            return t
        if t is not None:
            first, last = min(first, t.first), max(last, t.last)
        first = _clamp_date(_dt.date(first.year, 1, 1))
        last = _clamp_date(_dt.date(last.year, 12, 31))
        t = self._build(first, last)
        self._table = t
        return t

    def _extend_for(self, ns: np.ndarray) -> SessionTable:
        """Extend the table to cover every non-NaT timestamp of ``ns`` (int64 UTC ns)."""
        valid = ns[ns != _NAT]
        if valid.size == 0:
            return self.table()
        day = lambda v: (_ref._EPOCH + _dt.timedelta(microseconds=int(v) // 1000)).date()  # noqa: E731
        lo, hi = day(valid.min()), day(valid.max())
        # Local dates are within a day of UTC dates.
        return self.table(_clamp_date(lo - _DAY), _clamp_date(hi + _DAY))

    # -- constructors ----------------------------------------------------------

    @classmethod
    def from_exchange_calendars(cls, name: str, start: Optional[DateLike] = None,
                                end: Optional[DateLike] = None) -> "Calendar":
        """A calendar whose session table comes from the ``exchange_calendars`` package.

        The table is that calendar's own opens, closes and breaks for
        ``start`` .. ``end`` (its defaults when None), so labels are
        exchange_calendars' session labels.  Extending beyond that range
        builds a new exchange_calendars calendar for the wider range
        (clipped to its bounds; dates beyond them have no sessions).  The
        wall-clock model fields (``open``, ``close``, ...) are the
        calendar's most common regular times and are informational only:
        the reference twin does not apply to these calendars
        (exchange_calendars itself is their reference).  Requires
        ``pip install exchange_calendars``.
        """
        return ExchangeCalendar(name, start, end)


class ExchangeCalendar(Calendar):
    """A :class:`Calendar` backed by an ``exchange_calendars`` calendar (see
    :meth:`Calendar.from_exchange_calendars`)."""

    def __init__(self, name: str, start: Optional[DateLike] = None, end: Optional[DateLike] = None) -> None:
        try:
            import exchange_calendars as xcals
        except ImportError:
            raise ImportError("Calendar.from_exchange_calendars needs the optional dependency "
                              "exchange_calendars (pip install exchange_calendars)") from None
        self._xcals = xcals
        self.name = name
        kw = {}
        if start is not None:
            kw["start"] = _date(start, "start").isoformat()
        if end is not None:
            kw["end"] = _date(end, "end").isoformat()
        if kw:  # one extra day each side: sessions labelled by their close date
            bmin, bmax = self._bounds(xcals, name)
            s = _date(start, "start") - _DAY if start is not None else None
            e = _date(end, "end") + _DAY if end is not None else None
            kw = {k: v for k, v in (("start", s and max(s, bmin)), ("end", e and min(e, bmax))) if v}
            kw = {k: v.isoformat() for k, v in kw.items()}
        xc = xcals.get_calendar(name, **kw)
        local_o = xc.opens.dt.tz_convert(xc.tz)
        local_c = xc.closes.dt.tz_convert(xc.tz)
        super().__init__(str(xc.tz), local_o.dt.time.mode().iloc[0], local_c.dt.time.mode().iloc[0])
        first = _date(start, "start") if start is not None else xc.first_session.date() + _DAY
        last = _date(end, "end") if end is not None else xc.last_session.date() - _DAY
        self._table = self._from_xcals(xc, first, last)

    @staticmethod
    def _bounds(xcals: Any, name: str) -> Tuple[_dt.date, _dt.date]:
        cls = type(xcals.get_calendar(name))
        bmin, bmax = cls.bound_min(), cls.bound_max()
        return (bmin.date() if bmin is not None else _MIN_DATE,
                bmax.date() if bmax is not None else _MAX_DATE)

    def _from_xcals(self, xc: Any, first: _dt.date, last: _dt.date) -> SessionTable:
        pd = sys.modules["pandas"]
        ns = lambda s: np.asarray(pd.DatetimeIndex(s).as_unit("ns").asi8, dtype=np.int64)  # noqa: E731
        labels = xc.sessions.to_numpy().astype("datetime64[D]")
        opens, closes = ns(xc.opens), ns(xc.closes)
        bs, be = ns(xc.break_starts), ns(xc.break_ends)
        has = (bs != _NAT) & (be != _NAT)
        rows = np.flatnonzero(has)
        breaks = np.stack([bs[has], be[has], rows], axis=1) if rows.size else np.empty((0, 3), np.int64)
        return SessionTable.from_rows(labels, opens, closes, breaks, first, last,
                                      *_coverage(first, last, self.tz))

    def _build(self, first: _dt.date, last: _dt.date) -> SessionTable:
        bmin, bmax = self._bounds(self._xcals, self.name)
        s, e = max(first - _DAY, bmin), min(last + _DAY, bmax)
        xc = self._xcals.get_calendar(self.name, start=s.isoformat(), end=e.isoformat())
        return self._from_xcals(xc, first, last)

    def spec(self) -> Dict[str, Any]:
        return {"exchange_calendars": self.name}

    def __repr__(self) -> str:
        t = self._table
        rng = f"{t.first}..{t.last}" if t is not None else "not built"
        return f"Calendar.from_exchange_calendars({self.name!r}) [{rng}]"


# --------------------------------------------------------------------------
# Timestamp input
# --------------------------------------------------------------------------


# Timestamps travel as (int64 counts, ns per count): a datetime64[us] array
# or DatetimeIndex is read in place, and the session table is scaled to its
# unit instead (SessionTable._kernel_args), which is exact.


_STEP: Dict[np.dtype, int] = {}  # datetime64 dtype -> ns per count (s .. ns units)


def _stamps(a: np.ndarray, name: str) -> Tuple[np.ndarray, int]:
    """(int64 counts, ns per count) of a datetime64 array; no copy for s .. ns units."""
    if not a.dtype.isnative:  # (a view of swapped bytes would be garbage)
        a = a.astype(a.dtype.newbyteorder("="))
    step = _STEP.get(a.dtype)
    if step is not None:
        return a.view(np.int64), step
    unit, count = np.datetime_data(a.dtype)
    if unit == "generic":
        raise TypeError(f"tradekernels.{name}: datetime64 without a unit is not supported")
    if unit in ("Y", "M"):
        return _stamps(a.astype("datetime64[D]"), name)
    if unit in ("ps", "fs", "as"):
        # Finer than ns: floor to ns (exact within the int64 range of ns).
        return a.astype("datetime64[ns]").view(np.int64), 1
    step = _STEP[a.dtype] = int(np.timedelta64(count, unit) // np.timedelta64(1, "ns"))
    return a.view(np.int64), step


def _ns_range(vals: np.ndarray, step: int, name: str) -> Optional[Tuple[int, int]]:
    """UTC ns of the earliest and latest non-NaT timestamp (None: there are none).

    Raises OverflowError when they lie outside the datetime64[ns] range.
    """
    if vals.size == 0:
        return None
    lo, hi = int(vals.min()), int(vals.max())
    if lo == _NAT:
        if hi == _NAT:
            return None
        lo = int(vals[vals != _NAT].min())
    if lo * step <= _NAT or hi * step > 2**63 - 1:
        raise OverflowError(f"tradekernels.{name}: timestamps outside the datetime64[ns] range "
                            "(years 1677..2262)")
    return lo * step, hi * step


def _to_ns(vals: np.ndarray, step: int, name: str) -> np.ndarray:
    """The timestamps as int64 UTC ns (NaT kept)."""
    if step == 1:
        return vals
    if _ns_range(vals, step, name) is None:
        return np.full(vals.shape, _NAT, dtype=np.int64)
    out = np.multiply(vals, step, dtype=np.int64)  # exact (range checked); NaT wraps, reset:
    np.copyto(out, _NAT, where=vals == _NAT)
    return out


def _timestamps(x: Any, name: str) -> Tuple[np.ndarray, int, Any]:
    """(int64 counts, ns per count, pandas index to wrap the result in or None)."""
    pd = sys.modules.get("pandas")
    if pd is not None:
        if isinstance(x, pd.DatetimeIndex):
            return (*_pandas_stamps(x, name), (x, None, True))
        if isinstance(x, pd.Series):
            if not isinstance(x.dtype, pd.DatetimeTZDtype) and x.dtype.kind != "M":
                raise TypeError(f"tradekernels.{name}: expected a datetime Series, got dtype {x.dtype}")
            return (*_pandas_stamps(pd.DatetimeIndex(x), name), (x.index, x.name, False))
        if isinstance(x, pd.Index) and not isinstance(x, pd.DatetimeIndex):
            raise TypeError(f"tradekernels.{name}: expected a DatetimeIndex, got {type(x).__name__} "
                            f"of dtype {x.dtype}")
        if x is pd.NaT:
            return np.array(_NAT, dtype=np.int64), 1, None
        if isinstance(x, pd.Timestamp):
            v, step = _pandas_stamps(pd.DatetimeIndex([x]), name)
            return v.reshape(()), step, None
    if isinstance(x, _dt.datetime):
        u = x if x.tzinfo is not None else x.replace(tzinfo=_dt.timezone.utc)
        return np.array(_ref._utc_ns(u.astimezone(_dt.timezone.utc)), dtype=np.int64), 1, None
    a = np.asarray(x)
    kind = a.dtype.kind
    if kind == "M":
        return (*_stamps(a, name), None)
    if kind in "iu":
        if kind == "u" and a.size and a.dtype.itemsize >= 8 and int(a.max()) > 2**63 - 1:
            raise OverflowError(f"tradekernels.{name}: integer timestamps beyond int64 nanoseconds")
        return a.astype(np.int64, copy=False), 1, None
    raise TypeError(f"tradekernels.{name}: expected timestamps (datetime64, int64 epoch nanoseconds, "
                    f"pandas DatetimeIndex / Series), got dtype {a.dtype}")


def _pandas_stamps(idx: Any, name: str) -> Tuple[np.ndarray, int]:
    # asi8: the UTC epoch integers in the index's unit, tz-aware or not (no copy)
    return _stamps(np.asarray(idx.asi8).view(f"datetime64[{idx.unit}]"), name)


def _wrap(res: np.ndarray, meta: Any, name: str) -> Any:
    if meta is None:
        return res if res.ndim else res[()]
    index, sname, from_index = meta
    pd = sys.modules["pandas"]
    return pd.Series(res, index=index, name=name if from_index else sname, copy=False)


# --------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------

_REF = {
    "session_mask": _ref.session_mask,
    "session_index": None,  # labels -> rows, see _reference
    "session_start": _ref.session_start,
    "minutes_into_session": _ref.minutes_into_session,
}


_SORTED = {"session_mask", "session_index", "session_start"}  # kernels with a sorted-input variant


def _is_sorted(x: Any, assume_sorted: bool) -> bool:
    """The caller's promise, or pandas' cached monotonicity of a DatetimeIndex."""
    if not isinstance(assume_sorted, (bool, np.bool_)):
        raise TypeError(f"assume_sorted must be a bool, got {type(assume_sorted).__name__}")
    if assume_sorted:
        return True
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(x, pd.DatetimeIndex) and bool(x.is_monotonic_increasing)


def _native(name: str, vals: np.ndarray, step: int, cal: Calendar,
            sorted_: bool = False) -> Tuple[np.ndarray, SessionTable]:
    uf = getattr(ufuncs, name + "_sorted" if sorted_ and name in _SORTED else name)
    a = vals if vals.ndim else vals.reshape(1)
    if name == "minutes_into_session" and step != 1:
        a, step = _to_ns(a, step, name), 1  # its arithmetic is in ns
    for _ in range(3):
        if cal._table is None:
            r = _ns_range(a, step, name)
            t = cal._extend_for(np.array(r if r is not None else (), dtype=np.int64))
        else:
            t = cal.table()
        res, outside = uf(a, *t._kernel_args(step))
        if not (outside.any() if outside.ndim else outside):  # (a scalar count: no reduction)
            return (res if vals.ndim else res.reshape(())), t
        r = _ns_range(a, step, name)  # OverflowError beyond the ns range
        cal._extend_for(np.array(r if r is not None else (), dtype=np.int64))
    raise RuntimeError(f"tradekernels.{name}: the session table could not be extended to cover the "
                       "timestamps")  # pragma: no cover - table always reaches the int64 range


def _reference(name: str, ns: np.ndarray, cal: Calendar, t: SessionTable) -> np.ndarray:
    dtype = bool if name in ("session_mask", "session_start") else np.int64
    if ns.size == 0:
        return np.empty(ns.shape, dtype=dtype)
    a = ns.reshape(-1, ns.shape[-1]) if ns.ndim else ns.reshape(1, 1)
    out = np.empty(a.shape, dtype=dtype)
    rows = {d: i for i, d in enumerate(t.labels.astype(object))}
    for r in range(a.shape[0]):
        ts = [int(v) for v in a[r]]
        if name == "session_index":
            out[r] = [rows[d] if d is not None else -1 for d in _ref.session_label(ts, cal)]
        else:
            out[r] = _REF[name](ts, cal)
    return out.reshape(ns.shape)


def _compute(name: str, x: Any, cal: Calendar, assume_sorted: bool) -> Tuple[np.ndarray, np.ndarray, int, Any]:
    """(result array, timestamps as counts, ns per count, pandas wrapping) of one kernel."""
    if not isinstance(cal, Calendar):
        raise TypeError(f"tradekernels.{name}: cal must be a tradekernels.Calendar, got {type(cal).__name__}")
    sorted_ = _is_sorted(x, assume_sorted)
    vals, step, meta = _timestamps(x, name)
    mode = _backend.get_backend()
    if mode == "native" or isinstance(cal, ExchangeCalendar):
        res, _ = _native(name, vals, step, cal, sorted_)
    else:
        nat, t = _native(name, vals, step, cal, sorted_)  # also builds / extends the table
        ns = _to_ns(vals, step, name)
        ref = _reference(name, ns, cal, t)
        if mode == "shadow":
            bad = np.flatnonzero(np.asarray(nat != ref).reshape(-1))
            if bad.size:
                i = np.unravel_index(int(bad[0]), ns.shape)
                raise _backend.ShadowMismatch(name, 0, tuple(int(k) for k in i), nat[i].item(), ref[i].item())
        res = ref
    return res, vals, step, meta


def _run(name: str, x: Any, cal: Calendar, assume_sorted: bool = False) -> Any:
    res, _, _, meta = _compute(name, x, cal, assume_sorted)
    return _wrap(res, meta, name)


def session_mask(ts: Any, cal: Calendar, *, assume_sorted: bool = False) -> Any:
    """True where ``ts`` is inside a trading session of ``cal`` (bool).

    Open inclusive, close exclusive; timestamps inside a break are outside
    (False); NaT is False.  ``assume_sorted=True``: the caller promises
    sorted timestamps (see "Sorted input" in :mod:`tradekernels.sessions`).
    Semantics:
    :func:`tradekernels.reference_sessions.session_mask`; input / output
    conventions and table extension: :mod:`tradekernels.sessions`.
    """
    return _run("session_mask", ts, cal, assume_sorted)


def session_index(ts: Any, cal: Calendar, *, assume_sorted: bool = False) -> Any:
    """Row of ``cal.table()`` of the session containing ``ts`` (int64), -1 outside (and NaT).

    Rows are numbered in time order; ``cal.table().labels[row]`` is the
    session's label (its opening local date).  Rows are renumbered when
    the table is extended towards the past, so use them with the table as
    it is right after the call, or use :func:`session_label`.
    """
    return _run("session_index", ts, cal, assume_sorted)


def session_label(ts: Any, cal: Calendar, *, assume_sorted: bool = False) -> Any:
    """Label (opening local date, datetime64[D]) of the session containing ``ts``; NaT outside.

    Semantics: :func:`tradekernels.reference_sessions.session_label`.
    """
    if not isinstance(cal, Calendar):
        raise TypeError(f"tradekernels.session_label: cal must be a tradekernels.Calendar, got "
                        f"{type(cal).__name__}")
    sorted_ = _is_sorted(ts, assume_sorted)
    vals, step, meta = _timestamps(ts, "session_label")
    if _backend.get_backend() != "native" and not isinstance(cal, ExchangeCalendar):
        idx = np.asarray(_run("session_index", _to_ns(vals, step, "session_label"), cal, sorted_))
    else:
        idx, _ = _native("session_index", vals, step, cal, sorted_)
    t = cal.table()
    lab = np.concatenate([t.labels, np.array(["NaT"], dtype="datetime64[D]")])
    return _wrap(lab[idx], meta, "session_label")


def session_start(ts: Any, cal: Calendar, *, assume_sorted: bool = False, state: Any = None,
                  return_state: bool = False) -> Any:
    """True at the first timestamp of each session in a sorted series (bool; along the last axis).

    Precisely: an in-session timestamp whose session differs from that of
    the previous in-session timestamp (out-of-session timestamps and NaT are
    False and are skipped).  Semantics:
    :func:`tradekernels.reference_sessions.session_start`.

    Chunks: ``state`` is the label (datetime64[D], NaT for none; one per
    series for 2-D input) of the session of the last in-session timestamp
    before this chunk; with ``return_state=True`` the call returns
    ``(result, state)`` for the next chunk, so chunked calls concatenate to
    the whole-series answer.  (The other session kernels answer each
    timestamp on its own and need no state.)
    """
    if state is None and not return_state:
        return _run("session_start", ts, cal, assume_sorted)
    res, vals, step, meta = _compute("session_start", ts, cal, assume_sorted)
    res = np.array(res, dtype=bool)  # its own (writable) copy
    new = _carry_start(res, vals, step, cal, state)
    out = _wrap(res, meta, "session_start")
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
        st = np.broadcast_to(np.asarray(state if state is not None else np.datetime64("NaT"),
                                        dtype="datetime64[D]"), lead).reshape(-1)
    except (TypeError, ValueError) as e:
        raise ValueError(f"tradekernels.session_start: state must be session labels (datetime64[D]) "
                         f"broadcastable to {lead}") from e
    rows = np.flatnonzero(r2.any(axis=1))
    new = st.copy()
    if rows.size == 0:  # no start in this chunk: the carried labels stay
        return new.reshape(lead) if lead else new[0]
    first = np.argmax(r2[rows], axis=1)
    last = n - 1 - np.argmax(r2[rows, ::-1], axis=1)

    def labels(cols: np.ndarray) -> np.ndarray:
        return np.asarray(session_label(_to_ns(v2[rows, cols], step, "session_start"), cal),
                          dtype="datetime64[D]").reshape(-1)

    same = labels(first) == st[rows]
    r2[rows[same], first[same]] = False
    new[rows] = labels(last)
    return new.reshape(lead) if lead else new[0]


def minutes_into_session(ts: Any, cal: Calendar) -> Any:
    """Whole minutes (floor) since the open of the session containing ``ts`` (int64), -1 outside.

    Elapsed real time: breaks and DST changes inside a session are counted
    as they happen.  Semantics:
    :func:`tradekernels.reference_sessions.minutes_into_session`.
    """
    return _run("minutes_into_session", ts, cal)
