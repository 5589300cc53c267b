"""Calendars backed by the ``exchange_calendars`` package (optional dependency)."""

from __future__ import annotations

import bisect
import datetime as _dt
import sys
from types import MappingProxyType
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ._parse import DAY, MAX_DATE, MIN_DATE, NAT, DateLike, parse_date, parse_tz
from .calendar import Calendar
from .table import SessionTable, _periods, coverage

__all__ = ["ExchangeCalendar"]

_US_DAY = 86400 * 10**6


class ExchangeCalendar(Calendar):
    """A :class:`Calendar` backed by an ``exchange_calendars`` calendar (see
    :meth:`Calendar.from_exchange_calendars`)."""

    def __init__(self, name: str, start: Optional[DateLike] = None, end: Optional[DateLike] = None) -> None:
        try:
            import exchange_calendars as xcals
        except ImportError:
            raise ImportError(
                "tradekernels.Calendar.from_exchange_calendars needs the optional dependency "
                "exchange_calendars (pip install exchange_calendars)"
            ) from None
        self._xcals = xcals
        self.name = name
        cls = _factory(xcals, name)
        self._lo, self._hi = lo, hi = _bounds(xcals, name, cls)
        where = f"tradekernels.Calendar.from_exchange_calendars({name!r})"
        s = parse_date(start, "start", where) if start is not None else None
        e = parse_date(end, "end", where) if end is not None else None
        for what, v in (("start", s), ("end", e)):
            if v is not None and not lo <= v <= hi:
                raise ValueError(
                    f"{where}: {what} {v} is outside the dates it can cover, {lo} .. {hi} "
                    "(exchange_calendars' bounds for this calendar, within the datetime64[ns] range)"
                )
        if s is not None and e is not None and s > e:
            raise ValueError(f"{where}: start {s} is after end {e}")
        if (s is None) != (e is None) and cls is not None:  # one side given: the other is the default
            ds, de = _default(cls, "default_start"), _default(cls, "default_end")
            if s is not None and de is not None and s > de:
                raise ValueError(
                    f"{where}: start {s} is after exchange_calendars' default end {de}; pass end= as well"
                )
            if e is not None and ds is not None and e < ds:
                raise ValueError(
                    f"{where}: end {e} is before exchange_calendars' default start {ds}; pass start= as well"
                )
        # One extra day each side: sessions labelled by their close date.
        xc = self._get(
            s and max(s - DAY, lo), e and min(e + DAY, hi), f"{where} with start={start!r}, end={end!r}"
        )
        labels, opens, closes, bs, be = _arrays(xc)
        tz = parse_tz(str(xc.tz))
        # The wall-clock model is informational: the most common local open / close and the
        # weekdays that have sessions (a 24-hour market opens and closes at the same time).
        self.tz = tz
        self.open = _local_time_mode(opens, tz)
        self.close = _local_time_mode(closes, tz)
        self.overnight = self.close <= self.open
        wd = np.unique((labels.astype(np.int64) + 3) % 7)  # 1970-01-01 was a Thursday
        self.weekdays = frozenset(int(w) for w in wd)
        self.holidays = frozenset()
        self.early_closes = MappingProxyType({})
        self.late_opens = MappingProxyType({})
        self.breaks = ()
        first = s if s is not None else xc.first_session.date() + DAY
        last = e if e is not None else xc.last_session.date() - DAY
        self._table = self._from_arrays(labels, opens, closes, bs, be, first, last)
        self._frozen = True

    def _get(self, s: Optional[_dt.date], e: Optional[_dt.date], what: str) -> Any:
        kw = {k: v.isoformat() for k, v in (("start", s), ("end", e)) if v is not None}
        try:
            return self._xcals.get_calendar(self.name, **kw)
        except self._xcals.errors.InvalidCalendarName:
            raise
        except ValueError as exc:
            raise ValueError(f"{what}: exchange_calendars refused the range ({exc})") from exc

    def _from_arrays(
        self,
        labels: np.ndarray,
        opens: np.ndarray,
        closes: np.ndarray,
        bs: np.ndarray,
        be: np.ndarray,
        first: _dt.date,
        last: _dt.date,
    ) -> SessionTable:
        has = (bs != NAT) & (be != NAT)
        rows = np.flatnonzero(has)
        breaks = np.stack([bs[has], be[has], rows], axis=1) if rows.size else np.empty((0, 3), np.int64)
        lo_hi = coverage(first, last, self.tz)
        t = SessionTable.from_rows(labels, opens, closes, breaks, first, last, *lo_hi)
        self._src = _Source(labels, opens, closes, bs, be)  # exchange_calendars' data (the reference)
        return t

    def replace(self, **changes: Any) -> Calendar:
        raise TypeError(
            "tradekernels.Calendar.replace: an exchange_calendars calendar has no rules to replace"
        )

    def __reduce__(self) -> Any:
        t = self._table
        if t is None:  # pragma: no cover - the constructor always builds a table
            return (ExchangeCalendar, (self.name,))
        return (_restore, (self.name, t.first, t.last))

    def _build(self, first: _dt.date, last: _dt.date) -> SessionTable:
        # One exchange_calendars calendar for the whole range: its cost hardly depends on the
        # range (2024 alone costs about what 1999-2027 does), so reading only the missing
        # dates would save nothing, and Calendar.table's whole years miss both sides anyway.
        s, e = max(first - DAY, self._lo), min(last + DAY, self._hi)
        what = f"tradekernels.Calendar.from_exchange_calendars({self.name!r}): extending to {first} .. {last}"
        return self._from_arrays(*_arrays(self._get(s, e, what)), first, last)

    def spec(self) -> Dict[str, Any]:
        return {"exchange_calendars": self.name}

    def _identity(self) -> Tuple[Any, ...]:
        # exchange_calendars' sessions of that name, whatever range the table covers
        return (self.name,)

    def __repr__(self) -> str:
        t = self._table
        rng = f"{t.first}..{t.last}" if t is not None else "not built"
        return f"Calendar.from_exchange_calendars({self.name!r}) [{rng}]"

    def _reference_find(self, ts: int) -> Optional[Tuple[_dt.date, int]]:
        """(label, open ns) of the session containing ``ts`` in exchange_calendars' own
        session data (the reference for these calendars), or None."""
        labels, opens, closes, breaks = self._src.lists()
        i = bisect.bisect_right(opens, ts) - 1
        if ts == NAT or i < 0 or ts >= closes[i] or any(s <= ts < e for s, e in breaks[i]):
            return None
        return labels[i], opens[i]


def _restore(name: str, first: _dt.date, last: _dt.date) -> ExchangeCalendar:
    """Unpickle: the calendar for first..last (a table extended beyond exchange_calendars'
    bounds covers dates it has no sessions for: built within them, then extended)."""
    import exchange_calendars as xcals

    lo, hi = _bounds(xcals, name, _factory(xcals, name))
    cal = ExchangeCalendar(name, min(max(first, lo), hi), max(min(last, hi), lo))
    if first < lo or last > hi:  # (rare: a second exchange_calendars build)
        cal.table(first, last)
    return cal


def _factory(xcals: Any, name: str) -> Any:
    """The calendar class exchange_calendars builds for ``name`` (None: not a factory)."""
    d = getattr(getattr(xcals, "calendar_utils", None), "global_calendar_dispatcher", None)
    try:
        return d._calendar_factories.get(d.resolve_alias(name))  # type: ignore[union-attr]
    except xcals.errors.InvalidCalendarName:
        raise
    except Exception:  # pragma: no cover - another exchange_calendars layout
        return None


def _bounds(xcals: Any, name: str, cls: Any) -> Tuple[_dt.date, _dt.date]:
    """The local dates a table can cover: exchange_calendars' bounds within the ns range."""
    if cls is None:  # a registered instance, or an unknown layout: ask for the calendar itself
        cls = type(xcals.get_calendar(name))
    bmin, bmax = cls.bound_min(), cls.bound_max()
    lo = max(bmin.date(), MIN_DATE) if bmin is not None else MIN_DATE
    hi = min(bmax.date(), MAX_DATE) if bmax is not None else MAX_DATE
    return lo, hi


def _default(cls: Any, what: str) -> Optional[_dt.date]:
    f = getattr(cls, what, None)
    try:
        return f().date() if f is not None else None
    except Exception:  # pragma: no cover - another exchange_calendars layout
        return None


def _arrays(xc: Any) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(labels datetime64[D], opens, closes, break starts, break ends as int64 UTC ns; NaT: none)."""
    pd = sys.modules["pandas"]
    ns = lambda s: np.asarray(pd.DatetimeIndex(s).as_unit("ns").asi8, dtype=np.int64)  # noqa: E731
    labels = xc.sessions.to_numpy().astype("datetime64[D]")
    return labels, ns(xc.opens), ns(xc.closes), ns(xc.break_starts), ns(xc.break_ends)


def _local_time_mode(utc_ns: np.ndarray, tz: Any) -> _dt.time:
    """The most common local time of day of the instants ``utc_ns`` in ``tz`` (ties: the earliest)."""
    if utc_ns.size == 0:
        return _dt.time(0)
    us = utc_ns // 1000
    starts, offs = _periods(tz, int(us.min()) // 10**6, int(us.max()) // 10**6 + 1)
    tod = (us + offs[np.searchsorted(starts, us, side="right") - 1]) % _US_DAY
    vals, counts = np.unique(tod, return_counts=True)
    t = int(vals[np.argmax(counts)])
    return (_dt.datetime.min + _dt.timedelta(microseconds=t)).time()


class _Source:
    """exchange_calendars' sessions, as Python lists on first use (for
    :meth:`ExchangeCalendar._reference_find`); one object per table build, swapped whole."""

    def __init__(self, *arrays: np.ndarray) -> None:
        self.arrays = arrays  # (labels, opens, closes, break starts, break ends)
        self._lists: Optional[Tuple[List[_dt.date], List[int], List[int], List[List[Tuple[int, int]]]]] = None

    def lists(self) -> Tuple[List[_dt.date], List[int], List[int], List[List[Tuple[int, int]]]]:
        got = self._lists
        if got is None:  # (a race builds equal lists: harmless)
            labels, opens, closes, bs, be = self.arrays
            brk = [[(int(s), int(e))] if s != NAT and e != NAT else [] for s, e in zip(bs, be)]
            got = self._lists = (
                labels.astype(object).tolist(),
                [int(v) for v in opens],
                [int(v) for v in closes],
                brk,
            )
        return got
