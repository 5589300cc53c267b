"""Argument parsing for calendars: times of day, dates, time zones (shared by the
table builder and the reference twin; nothing else is shared between them)."""

from __future__ import annotations

import datetime as _dt
import re
import sys
import zoneinfo
from typing import Any, Union

import numpy as np

NAT = np.iinfo(np.int64).min
DAY = _dt.timedelta(days=1)
# The local dates a table can cover (int64 ns spans 1677-09-21 .. 2262-04-11
# UTC); a table reaching one of them covers every timestamp beyond it, and
# sessions whose open / close do not fit in int64 ns are left out.
MIN_DATE = _dt.date(1677, 9, 22)
MAX_DATE = _dt.date(2262, 4, 11)

TimeLike = Union[_dt.time, str]
DateLike = Union[_dt.date, str, np.datetime64]

_TIME_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")


_TIMES = "a datetime.time or an 'HH:MM' / 'HH:MM:SS' string"
_DATES = "a datetime.date, an ISO date string 'YYYY-MM-DD', a numpy.datetime64 or a pandas.Timestamp"


def _is_nat(v: Any) -> bool:
    """pandas' NaT (a datetime subclass), a NaT Timestamp, or a numpy NaT."""
    if isinstance(v, np.datetime64):
        return bool(np.isnat(v))
    pd = sys.modules.get("pandas")
    return pd is not None and v is pd.NaT


def parse_time(v: Any, what: str, where: str = "tradekernels.Calendar") -> _dt.time:
    """A wall-clock time of day; errors name ``what`` (the argument) and what is allowed."""
    if _is_nat(v):
        raise ValueError(f"{where}: {what} must be {_TIMES}, got NaT")
    if isinstance(v, _dt.datetime):
        raise TypeError(f"{where}: {what} must be {_TIMES}, got the date-time {v!r}")
    if isinstance(v, _dt.time):
        if v.tzinfo is not None:
            raise ValueError(f"{where}: {what} must be a local wall-clock time without tzinfo, got {v!r}")
        return v.replace(fold=0)
    if isinstance(v, str):
        m = _TIME_RE.match(v)
        if m is None:
            raise ValueError(f"{where}: {what} must be {_TIMES}, got {v!r}")
        h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
        try:
            return _dt.time(h, mi, s)
        except ValueError:
            raise ValueError(f"{where}: {what} is not a valid time of day: {v!r}") from None
    raise TypeError(f"{where}: {what} must be {_TIMES}, got {type(v).__name__}")


def parse_date(v: Any, what: str, where: str = "tradekernels.Calendar") -> _dt.date:
    """A local date; errors name ``what`` (the argument) and what is allowed."""
    if _is_nat(v):
        raise ValueError(f"{where}: {what} must be {_DATES}, got NaT")
    if isinstance(v, _dt.datetime):
        if v.time() != _dt.time(0) or v.tzinfo is not None:
            raise ValueError(f"{where}: {what} must be a date, got the date-time {v!r}")
        return v.date()
    if isinstance(v, _dt.date):
        return v
    if isinstance(v, np.datetime64):
        if v.astype("datetime64[D]") != v:  # a time of day: refused, as for a datetime
            raise ValueError(f"{where}: {what} must be a date, got the date-time {v!r}")
        d = v.astype("datetime64[D]").item()
        if not isinstance(d, _dt.date):  # beyond years 1 .. 9999
            raise ValueError(f"{where}: {what} {v} is outside the years 1 .. 9999")
        return d
    if isinstance(v, str):
        try:
            return _dt.date.fromisoformat(v.strip())
        except ValueError:
            raise ValueError(f"{where}: {what} must be {_DATES}, got {v!r}") from None
    ts_type = getattr(sys.modules.get("pandas"), "Timestamp", None)
    if ts_type is not None and isinstance(v, ts_type):
        return parse_date(v.to_pydatetime(), what, where)
    raise TypeError(f"{where}: {what} must be {_DATES}, got {type(v).__name__}")


def check_date_range(d: _dt.date, what: str, where: str) -> _dt.date:
    """``d`` if a session table can cover it (MIN_DATE .. MAX_DATE), else ValueError."""
    if not MIN_DATE <= d <= MAX_DATE:
        raise ValueError(
            f"{where}: {what} {d} is outside the dates a session table can cover, "
            f"{MIN_DATE} .. {MAX_DATE} (the datetime64[ns] range)"
        )
    return d


def parse_tz(tz: Any) -> zoneinfo.ZoneInfo:
    if isinstance(tz, zoneinfo.ZoneInfo):
        return tz
    if not isinstance(tz, str):
        name = getattr(tz, "key", None) or getattr(tz, "zone", None)
        if not isinstance(name, str):
            raise TypeError(f"tradekernels.Calendar: tz must be an IANA time zone name, got {tz!r}")
        tz = name
    try:
        return zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory, a name too long
        raise ValueError(
            f"tradekernels.Calendar: unknown time zone {tz!r} "
            "(expected an IANA name such as 'America/New_York')"
        ) from None


def time_us(t: _dt.time) -> int:
    """Microseconds since midnight."""
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 10**6 + t.microsecond


def rel_us(t: _dt.time, origin: _dt.time) -> int:
    """Microseconds from ``origin`` forward to ``t`` on a 24-hour clock, in [0, 86400e6)."""
    return (time_us(t) - time_us(origin)) % (86400 * 10**6)


def clamp_date(d: _dt.date) -> _dt.date:
    return min(max(d, MIN_DATE), MAX_DATE)
