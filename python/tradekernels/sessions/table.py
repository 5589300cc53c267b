"""The session table of a :class:`~tradekernels.Calendar`: sorted UTC ns intervals,
built from the calendar's rules with exact time-zone arithmetic.

Wall-clock boundaries map to instants by one rule (pandas'
``nonexistent="shift_forward"``, ``ambiguous`` = first occurrence):

* a wall time that exists once: its instant;
* a wall time in a repeated hour (clocks set back): its first occurrence (``fold=0``);
* a wall time in a gap (clocks set forward, or a skipped date): the first instant
  after the gap, i.e. the transition itself.

Offsets come from ``zoneinfo`` (PEP 495 ``fold``: 0 reads a wall time with the offset
in force before a transition, 1 after); the transition instant of a gap comes from the
zone's transition data, so every boundary is exact to the nanosecond (no search).  A
break that collapses to zero length (inside a gap) is dropped; so is a whole session.

This module shares nothing with the reference twin (:mod:`.reference`) except
argument parsing (:mod:`._parse`).
"""

from __future__ import annotations

import bisect
import datetime as _dt
import functools
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ._parse import DAY, MAX_DATE, MIN_DATE, NAT, rel_us, time_us

__all__ = ["SessionTable", "build", "coverage", "local_to_utc_ns"]

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
# Exact local wall time -> UTC
# --------------------------------------------------------------------------


@functools.cache
def _transitions(key: str) -> Tuple[List[int], Any]:
    """(UTC seconds of the zone's listed transitions, the rule after them or None),
    from the stdlib's pure-Python reading of the same TZif data zoneinfo uses."""
    from zoneinfo import _zoneinfo  # the pure-Python twin of the C ZoneInfo

    z = _zoneinfo.ZoneInfo.no_cache(key)
    after = z._tz_after if isinstance(z._tz_after, _zoneinfo._TZStr) else None
    return list(z._trans_utc), after


def _gap_end(tz: Any, a: int, b: int) -> int:
    """The UTC ns of the transition T with a < T <= b (a gap: nothing else can be there)."""
    listed, rule = _transitions(tz.key)
    cands = [s * 10**9 for s in listed[bisect.bisect_right(listed, a // 10**9 - 1) :] if a < s * 10**9 <= b][
        :1
    ]
    if rule is not None and not cands:
        std, dst = rule.std.utcoff.total_seconds(), rule.dst.utcoff.total_seconds()
        y0 = (_EPOCH_NAIVE + _dt.timedelta(microseconds=a // 1000)).year
        for y in range(y0 - 1, y0 + 2):
            s, e = rule.transitions(y)  # local seconds: DST starts (in std), ends (in dst)
            for t in (int(s - std), int(e - dst)):
                if a < t * 10**9 <= b and (not listed or t > listed[-1]):
                    cands.append(t * 10**9)
    if not cands:  # pragma: no cover - zoneinfo found a gap, so its data has the transition
        raise RuntimeError(f"no transition of {tz.key} in a gap ({a}, {b}]")
    return min(cands)


def local_to_utc_ns(local_ns: int, tz: Any) -> int:
    """UTC ns of the wall time ``local_ns`` (ns since 1970-01-01 local, whole us) in ``tz``:
    its instant, its first occurrence, or the end of the gap it lies in (module docstring)."""
    w = (_EPOCH_NAIVE + _dt.timedelta(microseconds=local_ns // 1000)).replace(tzinfo=tz)
    off0 = w.utcoffset() // _dt.timedelta(microseconds=1) * 1000  # type: ignore[operator]
    off1 = w.replace(fold=1).utcoffset() // _dt.timedelta(microseconds=1) * 1000  # type: ignore[operator]
    if off0 >= off1:  # once (equal), or repeated: fold=0 is the first occurrence
        return local_ns - off0
    return _gap_end(tz, local_ns - off1, local_ns - off0)  # T + off0 <= wall < T + off1


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


def _rows(cal: Any, d: _dt.date) -> Optional[Tuple[int, int, List[Tuple[int, int]]]]:
    """(open, close, [(break start, break end)]) of session ``d`` as local ns, or None.

    A wall time ``t`` of the session lies ``rel_us(t, open)`` after the regular open on ``d``."""
    if d.weekday() not in cal.weekdays or d in cal.holidays:
        return None
    base = _midnight_ns(d) + time_us(cal.open) * 1000

    def at(t: _dt.time) -> int:
        return base + rel_us(t, cal.open) * 1000

    op = at(cal.late_opens.get(d, cal.open))
    cl = at(cal.early_closes.get(d, cal.close))
    brk = [(max(at(s), op), min(at(e), cl)) for s, e in cal.breaks]
    return op, cl, [(s, e) for s, e in brk if s < e]


def build(cal: Any, first: _dt.date, last: _dt.date) -> SessionTable:
    """The table of ``cal``'s rules for local dates first..last (sessions labelled first-1 .. last)."""
    tz = cal.tz
    labels: List[_dt.date] = []
    opens: List[int] = []
    closes: List[int] = []
    breaks: List[Tuple[int, int, int]] = []
    d = first - DAY
    while d <= last:
        r = _rows(cal, d)
        d += DAY
        if r is None:
            continue
        op, cl, brk = r
        o, c = local_to_utc_ns(op, tz), local_to_utc_ns(cl, tz)
        if not (NAT < o < c <= _I64_MAX):
            continue  # empty (inside a gap) or beyond int64 ns
        row = len(opens)
        labels.append(d - DAY)
        opens.append(o)
        closes.append(c)
        for s, e in brk:
            bs, be = local_to_utc_ns(s, tz), local_to_utc_ns(e, tz)
            if bs < be:  # a break inside a gap is empty: dropped
                breaks.append((bs, be, row))
    return SessionTable.from_rows(labels, opens, closes, breaks, first, last, *coverage(first, last, tz))
