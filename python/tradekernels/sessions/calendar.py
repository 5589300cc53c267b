"""The :class:`Calendar`: trading sessions as wall-clock rules in an IANA time zone."""

from __future__ import annotations

import datetime as _dt
import threading
from types import MappingProxyType
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple

import numpy as np

from . import table as _table
from ._parse import (
    DAY,
    NAT,
    DateLike,
    TimeLike,
    check_date_range,
    clamp_date,
    parse_date,
    parse_time,
    parse_tz,
    rel_us,
)
from .table import SessionTable

__all__ = ["Calendar"]

_EPOCH = _dt.datetime(1970, 1, 1)
_DAY_US = 86400 * 10**6
_EXTEND = threading.Lock()


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
        ``close == open`` makes it a 24-hour session, closing at that time
        the next calendar day (where the next session, if any, opens).
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
    :mod:`tradekernels.sessions.reference` for the exact semantics.  The
    session table (:meth:`table`) is built lazily and cached; a Calendar is
    safe to share between threads (a rebuild swaps in a new immutable
    table; every kernel call uses one table snapshot from start to end).

    Calendars compare (and hash) by value: two calendars are equal when
    their time zone key, open, close, weekdays, holidays, early closes, late
    opens and breaks are (a Calendar is immutable); the cached table is not
    part of it.  Calendars from :meth:`from_exchange_calendars` are equal
    when built for the same calendar name, whatever their table's range.
    """

    def __init__(
        self,
        tz: Any,
        open: TimeLike,
        close: TimeLike,
        weekdays: Iterable[int] = (0, 1, 2, 3, 4),
        holidays: Iterable[DateLike] = (),
        early_closes: Optional[Mapping[DateLike, TimeLike]] = None,
        late_opens: Optional[Mapping[DateLike, TimeLike]] = None,
        breaks: Iterable[Tuple[TimeLike, TimeLike]] = (),
    ) -> None:
        self.tz = parse_tz(tz)
        self.open = parse_time(open, "open")
        self.close = parse_time(close, "close")
        span = rel_us(self.close, self.open) or _DAY_US  # open == close: 24 hours
        self.overnight = self.close <= self.open

        wd = set()
        for w in weekdays:
            if isinstance(w, bool) or not isinstance(w, (int, np.integer)) or not 0 <= int(w) <= 6:
                raise ValueError(
                    f"tradekernels.Calendar: weekdays must be integers 0 (Monday) .. 6 (Sunday), got {w!r}"
                )
            wd.add(int(w))
        self.weekdays = frozenset(wd)
        if isinstance(holidays, (str, _dt.date)):
            raise TypeError(
                "tradekernels.Calendar: holidays must be a collection of dates, not a single date"
            )
        self.holidays = frozenset(parse_date(h, "holidays (each entry)") for h in holidays)

        def in_session(t: _dt.time, lo_ok: bool, hi_ok: bool) -> bool:
            r = rel_us(t, self.open)
            return (r > 0 or lo_ok) and (r < span or (hi_ok and r == span))

        ecs: Dict[_dt.date, _dt.time] = {}
        for d, t in dict(early_closes or {}).items():
            dd = parse_date(d, "early_closes (each key)")
            tt = parse_time(t, f"early_closes[{dd}]")
            if not in_session(tt, False, True):
                raise ValueError(
                    f"tradekernels.Calendar: early close {tt} on {dd} is not inside the regular session "
                    f"{self.open}-{self.close}"
                )
            ecs[dd] = tt
        self.early_closes: Mapping[_dt.date, _dt.time] = MappingProxyType(ecs)
        los: Dict[_dt.date, _dt.time] = {}
        for d, t in dict(late_opens or {}).items():
            dd = parse_date(d, "late_opens (each key)")
            tt = parse_time(t, f"late_opens[{dd}]")
            if not in_session(tt, True, False):
                raise ValueError(
                    f"tradekernels.Calendar: late open {tt} on {dd} is not inside the regular session "
                    f"{self.open}-{self.close}"
                )
            ec = self.early_closes.get(dd)
            if ec is not None and rel_us(tt, self.open) >= rel_us(ec, self.open):
                raise ValueError(
                    f"tradekernels.Calendar: late open {tt} on {dd} is not before its early close {ec}"
                )
            los[dd] = tt
        self.late_opens: Mapping[_dt.date, _dt.time] = MappingProxyType(los)

        brk = []
        for item in breaks:
            try:
                s, e = item
            except (TypeError, ValueError):
                raise TypeError(
                    f"tradekernels.Calendar: breaks must be (start, end) pairs, got {item!r}"
                ) from None
            s, e = parse_time(s, "breaks (a start)"), parse_time(e, "breaks (an end)")
            rs, re_ = rel_us(s, self.open), rel_us(e, self.open)
            if not (rs < re_ <= span):
                raise ValueError(
                    f"tradekernels.Calendar: break {s}-{e} is not inside the session {self.open}-{self.close}"
                )
            brk.append((rs, s, e, re_))
        brk.sort()
        for a, b in zip(brk, brk[1:]):
            if b[0] < a[3]:
                raise ValueError(f"tradekernels.Calendar: breaks {a[1]}-{a[2]} and {b[1]}-{b[2]} overlap")
        self.breaks: Tuple[Tuple[_dt.time, _dt.time], ...] = tuple((s, e) for _, s, e, _ in brk)
        self._table: Optional[SessionTable] = None
        self._frozen = True

    # -- immutability ------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_") and getattr(self, "_frozen", False):
            raise AttributeError(f"Calendar is immutable: cal.replace({name}=...) returns a changed copy")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Calendar is immutable")

    def replace(self, **changes: Any) -> Calendar:
        """A new Calendar with the given fields (the arguments of ``Calendar(...)``) changed."""
        return Calendar(**{**self.spec(), **changes})

    def __reduce__(self) -> Any:
        return (_from_spec, (self.spec(),))  # the table is rebuilt on first use

    # -- value equality ------------------------------------------------------------

    def _identity(self) -> Tuple[Any, ...]:
        """What defines the sessions: the zone's key, open / close, weekdays, holidays, early
        closes, late opens and breaks (the cached table and its range do not count)."""
        return (
            self.tz.key if self.tz.key is not None else self.tz,  # (a zone read from a file: itself)
            self.open,
            self.close,
            self.weekdays,
            self.holidays,
            frozenset(self.early_closes.items()),
            frozenset(self.late_opens.items()),
            self.breaks,
        )

    def _eq_key(self) -> Tuple[Any, ...]:
        key = self.__dict__.get("_key")
        if key is None:  # computed once (the fields never change; a race computes equal keys)
            key = self._key = (type(self), self._identity())
        return key

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Calendar):
            return NotImplemented
        return self is other or self._eq_key() == other._eq_key()

    def __hash__(self) -> int:
        return hash(self._eq_key())

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
        return (
            f"Calendar({self.tz.key!r}, {self.open.isoformat()!r}, {self.close.isoformat()!r}, "
            f"{kind}, weekdays={sorted(self.weekdays)}, {len(self.holidays)} holidays, "
            f"{len(self.early_closes)} early closes, {len(self.late_opens)} late opens, "
            f"breaks={[(s.isoformat(), e.isoformat()) for s, e in self.breaks]})"
        )

    # -- table ---------------------------------------------------------------

    def _build(self, first: _dt.date, last: _dt.date) -> SessionTable:
        """The table for local dates first..last (sessions labelled first-1 .. last)."""
        return _table.build(self, first, last)

    def table(self, start: Optional[DateLike] = None, end: Optional[DateLike] = None) -> SessionTable:
        """The cached session table, first extended to cover local dates ``start`` .. ``end``.

        With no arguments: the current table (built for the current year if
        there is none yet).  Extending rebuilds the whole table for the
        union of the ranges, rounded out to whole years.  ``start`` / ``end``
        outside 1677-09-22 .. 2262-04-11 (the datetime64[ns] dates) raise
        ValueError.
        """
        t = self._table
        if start is None and end is None and t is not None:
            return t
        today = _dt.date.today()
        first = _table_date(start, "start") if start is not None else (t.first if t else today)
        last = _table_date(end, "end") if end is not None else (t.last if t else today)
        if first > last:
            raise ValueError(f"tradekernels.Calendar.table: start {first} is after end {last}")
        if t is not None and t.covers(first, last):
            return t
        with _EXTEND:  # one extension at a time, so the cached table only ever grows
            t = self._table
            if t is not None and t.covers(first, last):
                return t
            if t is not None:
                first, last = min(first, t.first), max(last, t.last)
            t = self._build(clamp_date(_dt.date(first.year, 1, 1)), clamp_date(_dt.date(last.year, 12, 31)))
            self._table = t  # tables are immutable: readers keep the snapshot they took
            return t

    def _extend_for(self, ns: np.ndarray) -> SessionTable:
        """Extend the table to cover every non-NaT timestamp of ``ns`` (int64 UTC ns)."""
        valid = ns[ns != NAT]
        if valid.size == 0:
            return self.table()
        day = lambda v: (_EPOCH + _dt.timedelta(microseconds=int(v) // 1000)).date()  # noqa: E731
        lo, hi = day(valid.min()), day(valid.max())
        # Local dates are within a day of UTC dates.
        return self.table(clamp_date(lo - DAY), clamp_date(hi + DAY))

    # -- constructors ----------------------------------------------------------

    @classmethod
    def from_exchange_calendars(
        cls, name: str, start: Optional[DateLike] = None, end: Optional[DateLike] = None
    ) -> Calendar:
        """A calendar whose session table comes from the ``exchange_calendars`` package.

        The table is that calendar's own opens, closes and breaks for
        ``start`` .. ``end`` (its defaults when None), so labels are
        exchange_calendars' session labels.  24-hour markets (``"CMES"``,
        ``"24/7"``, ``"24/5"``: each session closes as the next one opens)
        are read the same way; a timestamp at a close that is the next open
        belongs to the next session.  ``start`` / ``end`` must lie within
        the calendar's bounds (``bound_min`` / ``bound_max``) and the
        datetime64[ns] dates 1677-09-22 .. 2262-04-11, else ValueError.
        Extending beyond the range builds a new exchange_calendars calendar
        for the wider range (clipped to its bounds; dates beyond them have
        no sessions): pass ``start`` / ``end`` to pay for one build only.
        The wall-clock model fields (``tz``, ``open``, ``close``,
        ``weekdays``) are the calendar's zone, most common local open and
        close (equal for a 24-hour market) and the weekdays with sessions;
        they are informational only: the reference twin does not apply to
        these calendars (exchange_calendars' own session data is their
        reference).  Requires ``pip install exchange_calendars``.
        """
        from .xcals import ExchangeCalendar

        return ExchangeCalendar(name, start, end)


def _table_date(v: DateLike, what: str) -> _dt.date:
    return check_date_range(
        parse_date(v, what, "tradekernels.Calendar.table"), what, "tradekernels.Calendar.table"
    )


def _from_spec(spec: Dict[str, Any]) -> Calendar:
    return Calendar(**spec)
