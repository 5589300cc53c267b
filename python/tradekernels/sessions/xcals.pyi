from typing import Optional

from .calendar import Calendar, DateLike

class ExchangeCalendar(Calendar):
    name: str
    def __init__(self, name: str, start: Optional[DateLike] = ..., end: Optional[DateLike] = ...) -> None: ...
