"""Trading sessions: exchange calendars and session masks (C: ``src/sessions/``).

:class:`Calendar` and the session functions (``api``), the independent
pure-Python twin (``reference``), the golden cases and the dask adapter.
"""

from .api import (
    Calendar,
    SessionTable,
    minutes_into_session,
    session_index,
    session_label,
    session_mask,
    session_start,
)

__all__ = [
    "Calendar",
    "SessionTable",
    "minutes_into_session",
    "session_index",
    "session_label",
    "session_mask",
    "session_start",
]
