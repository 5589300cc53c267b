"""Pure-Python reference twin of the session kernels: the definition of their results.

Everything here works one timestamp at a time with :mod:`datetime` and
:mod:`zoneinfo` and never looks at the calendar's session table, so that it
is obviously right; it shares no code with the table builder
(:mod:`tradekernels.sessions.table`, which converts wall times through the
zone's transition data instead).  The C kernels read that table and must
agree exactly (golden files, hypothesis tests, the ``shadow`` backend).
``cal`` is a :class:`tradekernels.Calendar`; only its validated
fields are used: ``tz`` (a ZoneInfo), ``open``, ``close`` (datetime.time),
``weekdays``, ``holidays`` (frozensets), ``early_closes``, ``late_opens``
(dicts date -> time) and ``breaks`` (a tuple of (start, end) times).

Timestamps are Python ints, nanoseconds since 1970-01-01 UTC (naive
timestamps are UTC); ``NAT`` (the int64 minimum, NumPy's NaT) is no time at
all and is never in a session.

**Sessions.**  A session opens on each local calendar date ``d`` whose
weekday (Monday = 0) is in ``weekdays`` and that is not in ``holidays``.
It is labelled ``d`` and its boundaries are local wall-clock times
(:func:`session_wall_times`):

* open: ``late_opens.get(d, open)`` on ``d``;
* close: ``early_closes.get(d, close)``; on ``d`` for a day session
  (``open < close``), on ``d + 1`` for an overnight session
  (``close <= open``, e.g. futures 17:00 -> 16:00 next day, Sun-Thu opens;
  ``close == open`` is a 24-hour session, closing where the next one opens);
* breaks ``[start, end)``, clipped to the (possibly late / early) session
  and dropped when nothing is left.

Every wall time ``t`` of session ``d`` lies on ``d`` if ``t >= open`` (the
regular open) and on ``d + 1`` otherwise (only possible for overnight
sessions), except that a close lies on ``d`` only if ``close > open`` (so the
close of a 24-hour session is on ``d + 1``); the calendar rejects early closes, late opens and breaks outside
the regular session.  Holidays, early closes and late opens are keyed by the
session's label (the date it opens).

**Membership.**  A wall-clock boundary ``b`` of a session takes effect at the
first instant whose local wall time in ``cal.tz`` is at or after ``b``
(:func:`wall_to_utc_ns`): its only instant for an ordinary wall time, its
first occurrence in a repeated hour (``fold=0``), and the end of the gap for
a wall time in a DST gap or on a skipped date (pandas'
``nonexistent="shift_forward"``).  Timestamp ``ts`` is in session ``d`` when
``open <= ts < close`` (open inclusive, close exclusive) for these instants
and ``ts`` is in none of its breaks (``start <= ts < end``; a break is not
part of the session).  A break or session of zero length (inside a gap)
contains nothing.

Sessions never overlap (one per date, at most 24 h long, the next one opens
at or after this one's close), so a timestamp is in at most one session.
"""

from __future__ import annotations

import datetime as _dt
import functools
from typing import Any, List, Optional, Sequence, Tuple

__all__ = [
    "NAT",
    "NS_PER_MINUTE",
    "wall_to_utc_ns",
    "session_wall_times",
    "find",
    "session_of",
    "session_mask",
    "session_label",
    "session_start",
    "minutes_into_session",
]

NAT = -(2**63)
NS_PER_MINUTE = 60 * 10**9
_UTC = _dt.timezone.utc
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_UTC)
_US = _dt.timedelta(microseconds=1)
_DAY = _dt.timedelta(days=1)


def _sec(t: _dt.time) -> float:
    return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6


def _utc_ns(u: _dt.datetime) -> int:
    return ((u - _EPOCH) // _US) * 1000


def _local_wall(u: _dt.datetime, tz: Any) -> _dt.datetime:
    return u.astimezone(tz).replace(tzinfo=None)


def _wall_at(ns: int, tz: Any) -> _dt.datetime:
    # Flooring to microseconds is exact here: wall times and zone transitions
    # are whole microseconds, so floor(ts) >= b  <=>  ts >= b.
    return _local_wall(_EPOCH + _dt.timedelta(microseconds=ns // 1000), tz)


@functools.lru_cache(maxsize=1 << 16)  # a pure function of its arguments; sessions repeat them
def wall_to_utc_ns(wall: _dt.datetime, tz: Any) -> int:
    """UTC nanoseconds of the first instant whose local wall time in ``tz`` is at or after ``wall``.

    ``wall`` is a naive local date-time.  For an ordinary wall time this is
    its only instant; for an ambiguous one (fall-back repeat) its first
    occurrence; for one inside a DST gap, the instant the gap ends.  The two
    readings of ``wall`` (PEP 495 ``fold`` 0 and 1) bracket that instant; in
    a gap it is found by halving the integer nanoseconds between them
    (exact; slow is fine here).
    """
    c = [_utc_ns(wall.replace(tzinfo=tz, fold=f).astimezone(_UTC)) for f in (0, 1)]
    lo, hi = min(c), max(c)
    if lo == hi or _wall_at(lo, tz) >= wall:
        return lo  # the wall time exists: its (first) reading
    while hi - lo > 1:  # wall(lo) < wall <= wall(hi), non-decreasing in between
        mid = (lo + hi) // 2
        if _wall_at(mid, tz) >= wall:
            hi = mid
        else:
            lo = mid
    return hi


def _at(d: _dt.date, t: _dt.time, cal: Any) -> _dt.datetime:
    """Naive local date-time of wall time ``t`` of the session labelled ``d``."""
    day = d if t >= cal.open else d + _DAY
    return _dt.datetime.combine(day, t)


def session_wall_times(
    d: _dt.date, cal: Any
) -> Optional[Tuple[_dt.datetime, _dt.datetime, List[Tuple[_dt.datetime, _dt.datetime]]]]:
    """(open, close, breaks) of the session labelled ``d`` as naive local date-times, or None.

    None when ``d`` is not a trading day (weekday not in ``cal.weekdays`` or
    ``d`` in ``cal.holidays``).  See the module docstring for the rules.
    """
    if d.weekday() not in cal.weekdays or d in cal.holidays:
        return None
    op = _at(d, cal.late_opens.get(d, cal.open), cal)
    c = cal.early_closes.get(d, cal.close)
    cl = _dt.datetime.combine(d if c > cal.open else d + _DAY, c)
    brk = []
    for s, e in cal.breaks:
        bs, be = max(_at(d, s, cal), op), min(_at(d, e, cal), cl)
        if bs < be:
            brk.append((bs, be))
    return op, cl, brk


def find(ts: int, cal: Any) -> Optional[Tuple[_dt.date, int]]:
    """(label, UTC ns of the open) of the session containing ``ts``, or None (also for NaT)."""
    if ts == NAT:
        return None
    tz = cal.tz
    w = _wall_at(ts, tz).date()
    for d in (w + _DAY, w, w - _DAY, w - 2 * _DAY):  # every label that can contain ts
        wt = session_wall_times(d, cal)
        if wt is None:
            continue
        op, cl, brk = wt
        o = wall_to_utc_ns(op, tz)
        if o <= ts < wall_to_utc_ns(cl, tz) and not any(
            wall_to_utc_ns(bs, tz) <= ts < wall_to_utc_ns(be, tz) for bs, be in brk
        ):
            return d, o
    return None


def session_of(ts: int, cal: Any) -> Optional[_dt.date]:
    """Label (opening date) of the session containing ``ts``, or None (also for NaT)."""
    f = find(ts, cal)
    return f[0] if f is not None else None


def session_mask(ts: Sequence[int], cal: Any) -> List[bool]:
    """True where the timestamp is inside a session (open inclusive, close exclusive, breaks excluded)."""
    return [session_of(t, cal) is not None for t in ts]


def session_label(ts: Sequence[int], cal: Any) -> List[Optional[_dt.date]]:
    """The label (opening local date) of each timestamp's session, None outside a session.

    The native ``session_index`` is the row of this session in the
    calendar's table (``table.labels[row]`` is this label), -1 for None.
    """
    return [session_of(t, cal) for t in ts]


def session_start(ts: Sequence[int], cal: Any) -> List[bool]:
    """True at an in-session timestamp whose session differs from that of the previous in-session timestamp.

    Timestamps outside sessions (and NaT) are False and do not reset
    anything: for a sorted series this marks exactly the first timestamp of
    each session present (a break does not start a new session).  For
    unsorted input the rule is applied in the given order.
    """
    out = []
    prev = None
    for t in ts:
        d = session_of(t, cal)
        out.append(d is not None and d != prev)
        if d is not None:
            prev = d
    return out


def minutes_into_session(ts: Sequence[int], cal: Any) -> List[int]:
    """Whole minutes (floor) of elapsed time since the session's open, -1 outside a session.

    Elapsed real time (UTC), so a DST change inside an overnight session
    counts its true length; time spent in a break is counted.
    """
    out = []
    for t in ts:
        f = find(t, cal)
        out.append(-1 if f is None else (t - f[1]) // NS_PER_MINUTE)
    return out
