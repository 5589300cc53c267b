"""Calendars backed by the ``exchange_calendars`` package (optional dependency)."""

from __future__ import annotations

import bisect
import datetime as _dt
import sys
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ._parse import DAY, MAX_DATE, MIN_DATE, NAT, DateLike, parse_date
from .calendar import Calendar
from .table import SessionTable, coverage

__all__ = ["ExchangeCalendar"]


class ExchangeCalendar(Calendar):
    """A :class:`Calendar` backed by an ``exchange_calendars`` calendar (see
    :meth:`Calendar.from_exchange_calendars`)."""

    def __init__(self, name: str, start: Optional[DateLike] = None, end: Optional[DateLike] = None) -> None:
        try:
            import exchange_calendars as xcals
        except ImportError:
            raise ImportError(
                "Calendar.from_exchange_calendars needs the optional dependency "
                "exchange_calendars (pip install exchange_calendars)"
            ) from None
        self._xcals = xcals
        self.name = name
        kw = {}
        if start is not None:
            kw["start"] = parse_date(start, "start").isoformat()
        if end is not None:
            kw["end"] = parse_date(end, "end").isoformat()
        if kw:  # one extra day each side: sessions labelled by their close date
            bmin, bmax = self._bounds(xcals, name)
            s = parse_date(start, "start") - DAY if start is not None else None
            e = parse_date(end, "end") + DAY if end is not None else None
            kw = {k: v for k, v in (("start", s and max(s, bmin)), ("end", e and min(e, bmax))) if v}
            kw = {k: v.isoformat() for k, v in kw.items()}
        xc = xcals.get_calendar(name, **kw)
        local_o = xc.opens.dt.tz_convert(xc.tz)
        local_c = xc.closes.dt.tz_convert(xc.tz)
        super().__init__(str(xc.tz), local_o.dt.time.mode().iloc[0], local_c.dt.time.mode().iloc[0])
        first = parse_date(start, "start") if start is not None else xc.first_session.date() + DAY
        last = parse_date(end, "end") if end is not None else xc.last_session.date() - DAY
        self._table = self._from_xcals(xc, first, last)

    @staticmethod
    def _bounds(xcals: Any, name: str) -> Tuple[_dt.date, _dt.date]:
        cls = type(xcals.get_calendar(name))
        bmin, bmax = cls.bound_min(), cls.bound_max()
        return (bmin.date() if bmin is not None else MIN_DATE, bmax.date() if bmax is not None else MAX_DATE)

    def _from_xcals(self, xc: Any, first: _dt.date, last: _dt.date) -> SessionTable:
        pd = sys.modules["pandas"]
        ns = lambda s: np.asarray(pd.DatetimeIndex(s).as_unit("ns").asi8, dtype=np.int64)  # noqa: E731
        labels = xc.sessions.to_numpy().astype("datetime64[D]")
        opens, closes = ns(xc.opens), ns(xc.closes)
        bs, be = ns(xc.break_starts), ns(xc.break_ends)
        has = (bs != NAT) & (be != NAT)
        rows = np.flatnonzero(has)
        breaks = np.stack([bs[has], be[has], rows], axis=1) if rows.size else np.empty((0, 3), np.int64)
        self._src = _source(labels, opens, closes, bs, be)
        return SessionTable.from_rows(
            labels, opens, closes, breaks, first, last, *coverage(first, last, self.tz)
        )

    def replace(self, **changes: Any) -> Calendar:
        raise TypeError("Calendar.replace: an exchange_calendars calendar has no rules to replace")

    def __reduce__(self) -> Any:
        t = self._table
        return (ExchangeCalendar, (self.name,) + ((t.first, t.last) if t is not None else ()))

    def _build(self, first: _dt.date, last: _dt.date) -> SessionTable:
        bmin, bmax = self._bounds(self._xcals, self.name)
        s, e = max(first - DAY, bmin), min(last + DAY, bmax)
        xc = self._xcals.get_calendar(self.name, start=s.isoformat(), end=e.isoformat())
        return self._from_xcals(xc, first, last)

    def spec(self) -> Dict[str, Any]:
        return {"exchange_calendars": self.name}

    def __repr__(self) -> str:
        t = self._table
        rng = f"{t.first}..{t.last}" if t is not None else "not built"
        return f"Calendar.from_exchange_calendars({self.name!r}) [{rng}]"

    def _reference_find(self, ts: int) -> Optional[Tuple[_dt.date, int]]:
        """(label, open ns) of the session containing ``ts`` in exchange_calendars' own
        session data (the reference for these calendars), or None."""
        labels, opens, closes, breaks = self._src
        i = bisect.bisect_right(opens, ts) - 1
        if ts == NAT or i < 0 or ts >= closes[i] or any(s <= ts < e for s, e in breaks[i]):
            return None
        return labels[i], opens[i]


def _source(
    labels: np.ndarray, opens: np.ndarray, closes: np.ndarray, bs: np.ndarray, be: np.ndarray
) -> Tuple[List[_dt.date], List[int], List[int], List[List[Tuple[int, int]]]]:
    """exchange_calendars' sessions as Python lists (for :meth:`ExchangeCalendar._reference_find`)."""
    brk = [[(int(s), int(e))] if s != NAT and e != NAT else [] for s, e in zip(bs, be)]
    return labels.astype(object).tolist(), [int(v) for v in opens], [int(v) for v in closes], brk
