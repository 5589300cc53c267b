"""Trading sessions: exchange calendars and session masks (C: ``src/sessions/``).

Modules: ``_parse`` (times, dates, zones), ``table`` (:class:`SessionTable`
and building it from a calendar's rules, exact across DST), ``calendar``
(:class:`Calendar`), ``xcals`` (calendars from exchange_calendars),
``_stamps`` (timestamp input), ``api`` (the session functions, through the
backend layer), ``reference`` (the independent pure-Python twin),
``golden`` (the golden cases) and ``dask`` (the dask adapter).
"""

from .api import (
    minutes_into_session,
    session_index,
    session_label,
    session_mask,
    session_start,
)
from .calendar import Calendar
from .table import SessionTable
from .xcals import ExchangeCalendar

__all__ = [
    "Calendar",
    "ExchangeCalendar",
    "SessionTable",
    "minutes_into_session",
    "session_index",
    "session_label",
    "session_mask",
    "session_start",
]
