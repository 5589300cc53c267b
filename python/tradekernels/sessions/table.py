"""The session table of a :class:`~tradekernels.Calendar`: sorted UTC ns intervals,
built from the calendar's rules with exact time-zone arithmetic.

Wall-clock boundaries map to instants by one rule (pandas'
``nonexistent="shift_forward"``, ``ambiguous`` = first occurrence):

* a wall time that exists once: its instant;
* a wall time in a repeated hour (clocks set back): its first occurrence (``fold=0``);
* a wall time in a gap (clocks set forward, or a skipped date): the first instant
  after the gap, i.e. the transition itself.

Equivalently: the first instant whose local wall time is at or after the boundary.  The
UTC offset is constant between two of the zone's transitions, so a whole array of wall
times converts with one NumPy pass (:func:`wall_to_utc_us`): the transition instants
come from the zone's TZif data (the listed transitions and the rule after them), the
offset of each period from ``zoneinfo`` itself; integers throughout, so every boundary
is exact to the nanosecond (no search).  A break that collapses to zero length (inside
a gap) is dropped; so is a whole session.

This module shares nothing with the reference twin (:mod:`.reference`) except
argument parsing (:mod:`._parse`).
"""

from __future__ import annotations

import bisect
import datetime as _dt
import functools
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Sequence, Tuple

import numpy as np

from ._parse import DAY, MAX_DATE, MIN_DATE, NAT, rel_us, time_us

__all__ = ["SessionTable", "build", "coverage", "local_to_utc_ns", "wall_to_utc_us"]

_NS_DAY = 86400 * 10**9
_EPOCH_ORD = _dt.date(1970, 1, 1).toordinal()
_EPOCH_NAIVE = _dt.datetime(1970, 1, 1)
_I64_MAX = 2**63 - 1


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

            got = (
                up(self.opens),
                up(self.closes),
                up(self.break_starts),
                up(self.break_ends),
                -((-self.lo) // step),
                self.hi // step,
            )
            self._scaled[step] = got  # (a race stores equal tuples: harmless)
        return got

    def covers(self, first: _dt.date, last: _dt.date) -> bool:
        return self.first <= first and last <= self.last

    @staticmethod
    def from_rows(
        labels: Sequence[_dt.date],
        opens: Sequence[int],
        closes: Sequence[int],
        breaks: Sequence[Tuple[int, int, int]],
        first: _dt.date,
        last: _dt.date,
        lo: int,
        hi: int,
    ) -> SessionTable:
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
            first=first,
            last=last,
            lo=int(lo),
            hi=int(hi),
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


# --------------------------------------------------------------------------
# Exact local wall time -> UTC, one NumPy pass per array
# --------------------------------------------------------------------------

_US_DAY = 86400 * 10**6
_I64_MIN = -(2**63)
# The int64 us values whose ns (x 1000) fit int64 and are not NaT.
_US_LO = -((2**63 - 1) // 1000)
_US_HI = (2**63 - 1) // 1000


@functools.cache
def _transitions(key: str) -> Tuple[List[int], Any]:
    """(UTC seconds of the zone's listed transitions, the rule after them or None),
    from the stdlib's pure-Python reading of the same TZif data zoneinfo uses."""
    from zoneinfo import _zoneinfo  # the pure-Python twin of the C ZoneInfo

    z = _zoneinfo.ZoneInfo.no_cache(key)
    after = z._tz_after if isinstance(z._tz_after, _zoneinfo._TZStr) else None
    return list(z._trans_utc), after


def _year_start_s(y: int) -> int:
    return (_dt.date(y, 1, 1).toordinal() - _EPOCH_ORD) * 86400


def _breakpoints(key: str, lo: int, hi: int) -> List[int]:
    """UTC seconds in (lo, hi] at which the zone's UTC offset may change.

    Between two consecutive breakpoints zoneinfo's UTC -> local mapping has one
    offset: the listed transitions (in force from their instant on); after the last
    one, the zone's rule, which zoneinfo evaluates per UTC year (its DST start and
    end in UTC, the year's first second, and the second after the last listed
    transition)."""
    listed, rule = _transitions(key)
    out = listed[bisect.bisect_right(listed, lo) : bisect.bisect_right(listed, hi)]
    if rule is not None and (not listed or hi > listed[-1]):
        floor = listed[-1] if listed else lo - 1
        std, dst = int(rule.std.utcoff.total_seconds()), int(rule.dst.utcoff.total_seconds())
        y0 = max((_EPOCH_NAIVE + _dt.timedelta(seconds=max(lo, floor))).year - 1, _dt.MINYEAR)
        y1 = min((_EPOCH_NAIVE + _dt.timedelta(seconds=hi)).year + 1, _dt.MAXYEAR)
        extra = [floor + 1]
        for y in range(y0, y1 + 1):
            s, e = rule.transitions(y)  # local seconds: DST starts (in std), ends (in dst)
            extra += [int(s) - std, int(e) - dst, _year_start_s(y)]
        out = sorted(set(out).union(t for t in extra if lo < t <= hi and t > floor))
    return out


def _periods(tz: Any, lo: int, hi: int) -> Tuple[np.ndarray, np.ndarray]:
    """(starts, offsets), int64 us: the periods of constant UTC offset covering UTC
    seconds lo..hi (the first period reaches back to -inf).  The offsets are read from
    ``tz`` itself (zoneinfo's own UTC -> local mapping) at every breakpoint."""
    at = [lo] + _breakpoints(tz.key, lo, hi)
    us = _dt.timedelta(microseconds=1)
    offs = [_dt.datetime.fromtimestamp(t, tz).utcoffset() // us for t in at]  # type: ignore[operator]
    keep = [0] + [i for i in range(1, len(at)) if offs[i] != offs[i - 1]]
    starts = np.array([at[i] * 10**6 for i in keep], dtype=np.int64)
    starts[0] = _I64_MIN
    return starts, np.array([offs[i] for i in keep], dtype=np.int64)


def wall_to_utc_us(wall: np.ndarray, tz: Any) -> np.ndarray:
    """UTC us of local wall times ``wall`` (int64 us since 1970-01-01 local) in ``tz``:
    each one's instant, its first occurrence, or the end of the gap it lies in.

    That is the first instant ``u`` whose wall time ``u + offset(u)`` is at or after
    ``wall`` (module docstring).  On a period ``[T_k, T_k+1)`` of constant offset
    ``o_k`` the wall times run over ``[T_k + o_k, T_k+1 + o_k)``; the first period
    whose wall times reach past ``wall`` (a running maximum of their ends, searched
    once per array) holds the answer, ``max(T_k, wall - o_k)``: ``wall - o_k`` when
    the wall time exists there, else ``T_k``, the end of the gap.  One NumPy add per
    period instead of a zoneinfo call per wall time; exact (integers throughout)."""
    w = np.asarray(wall, dtype=np.int64)
    if w.size == 0:
        return w.copy()
    lo = int(w.min()) // 10**6 - 2 * 86400  # offsets are under a day: 2 days of margin
    hi = -(-int(w.max()) // 10**6) + 2 * 86400
    starts, offs = _periods(tz, lo, hi)
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:] + offs[:-1]  # the wall time at which each period ends
    ends[-1] = _I64_MAX
    k = np.searchsorted(np.maximum.accumulate(ends), w, side="right")
    return np.maximum(w - offs[k], starts[k])


def local_to_utc_ns(local_ns: int, tz: Any) -> int:
    """UTC ns of the wall time ``local_ns`` (ns since 1970-01-01 local, whole us) in ``tz``:
    its instant, its first occurrence, or the end of the gap it lies in (module docstring)."""
    return int(wall_to_utc_us(np.array([local_ns // 1000], dtype=np.int64), tz)[0]) * 1000


# --------------------------------------------------------------------------
# Building a table from a calendar's rules
# --------------------------------------------------------------------------


def _midnight_ns(d: _dt.date) -> int:
    return (d.toordinal() - _EPOCH_ORD) * _NS_DAY


def coverage(first: _dt.date, last: _dt.date, tz: Any) -> Tuple[int, int]:
    """[lo, hi] (inclusive): UTC ns of local midnight starting ``first``, and 1 ns before ``last`` ends."""
    lo = NAT + 1 if first <= MIN_DATE else max(local_to_utc_ns(_midnight_ns(first), tz), NAT + 1)
    hi = _I64_MAX if last >= MAX_DATE else local_to_utc_ns(_midnight_ns(last + DAY), tz) - 1
    return lo, hi


def _days(dates: Any) -> np.ndarray:
    """Dates -> int64 days since 1970-01-01, sorted."""
    return np.sort(np.array(sorted(dates), dtype="datetime64[D]").astype(np.int64).reshape(-1))


def _override(
    days: np.ndarray, exceptions: Mapping[_dt.date, _dt.time], origin: _dt.time, into: np.ndarray
) -> None:
    """into[i] = rel_us(exceptions[day i], origin) for the sessions that have an exception."""
    if not exceptions:
        return
    keys = np.array(list(exceptions), dtype="datetime64[D]").astype(np.int64)
    vals = np.array([rel_us(t, origin) for t in exceptions.values()], dtype=np.int64)
    pos = np.minimum(np.searchsorted(days, keys), max(len(days) - 1, 0))
    hit = days[pos] == keys if len(days) else np.zeros(len(keys), bool)
    into[pos[hit]] = vals[hit]


def build(cal: Any, first: _dt.date, last: _dt.date) -> SessionTable:
    """The table of ``cal``'s rules for local dates first..last (sessions labelled first-1 .. last).

    Vectorised: the session days are a NumPy range filtered by weekday and holiday;
    a wall time ``t`` of session ``d`` lies ``rel_us(t, open)`` after the regular open
    on ``d``; every wall time converts to UTC in one :func:`wall_to_utc_us` pass."""
    d0 = (first - DAY).toordinal() - _EPOCH_ORD
    days = np.arange(d0, last.toordinal() - _EPOCH_ORD + 1, dtype=np.int64)
    keep = np.isin((days + 3) % 7, np.array(sorted(cal.weekdays), dtype=np.int64))  # 1970-01-01: Thursday
    if cal.holidays:
        keep &= ~np.isin(days, _days(cal.holidays))
    days = days[keep]
    n = len(days)
    base = days * _US_DAY + time_us(cal.open)  # the regular open, local us
    op_rel = np.zeros(n, dtype=np.int64)
    cl_rel = np.full(n, rel_us(cal.close, cal.open) or _US_DAY, dtype=np.int64)  # close == open: 24 h
    _override(days, cal.late_opens, cal.open, op_rel)
    _override(days, cal.early_closes, cal.open, cl_rel)
    op, cl = base + op_rel, base + cl_rel
    walls = [op, cl]
    for s, e in cal.breaks:  # clipped to the (late / early) session
        walls += [np.maximum(base + rel_us(s, cal.open), op), np.minimum(base + rel_us(e, cal.open), cl)]
    utc = wall_to_utc_us(np.concatenate(walls), cal.tz).reshape(len(walls), n)
    o, c = utc[0], utc[1]
    ok = (o < c) & (o >= _US_LO) & (c <= _US_HI)  # empty (inside a gap) or beyond int64 ns: dropped
    rows = np.cumsum(ok) - 1
    bs_all, be_all, br_all = [], [], []
    for j in range(len(cal.breaks)):
        bs, be = utc[2 + 2 * j], utc[3 + 2 * j]
        b_ok = ok & (walls[2 + 2 * j] < walls[3 + 2 * j]) & (bs < be)  # a break inside a gap is empty
        bs_all.append(bs[b_ok])
        be_all.append(be[b_ok])
        br_all.append(rows[b_ok])
    if bs_all:
        bs, be, br = np.concatenate(bs_all), np.concatenate(be_all), np.concatenate(br_all)
        order = np.lexsort((bs, br))
        breaks = np.stack([bs[order] * 1000, be[order] * 1000, br[order]], axis=1)
    else:
        breaks = np.empty((0, 3), dtype=np.int64)
    return SessionTable.from_rows(
        days[ok].astype("datetime64[D]"),
        o[ok] * 1000,
        c[ok] * 1000,
        breaks,
        first,
        last,
        *coverage(first, last, cal.tz),
    )
