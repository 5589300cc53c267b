from typing import Optional

from .calendar import Calendar, DateLike

__all__ = ["ExchangeCalendar"]

class ExchangeCalendar(Calendar):
    name: str
    def __init__(self, name: str, start: Optional[DateLike] = ..., end: Optional[DateLike] = ...) -> None: ...
