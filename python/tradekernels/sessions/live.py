"""Live session answers, one timestamp at a time: :class:`tradekernels.stream.SessionClock`."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .. import _core
from ._parse import NAT
from ._stamps import UNITS, _stamps, _timestamps_of
from .calendar import Calendar

__all__ = ["SessionClock", "SessionTick"]

_NS_MIN = 60 * 10**9
_NAT_D = np.datetime64("NaT", "D")


class SessionTick(NamedTuple):
    """What :meth:`SessionClock.update` answers for one timestamp."""

    #: inside a session (``session_mask``)
    in_session: bool
    #: the first in-session timestamp of its session (``session_start``)
    first: bool
    #: the session's label, its opening local date (``session_label``; NaT outside)
    label: np.datetime64
    #: whole minutes since the session's open (``minutes_into_session``; -1 outside)
    minutes: int


class SessionClock(_core.SessionClock):
    """Live :func:`~tradekernels.session_mask`, :func:`~tradekernels.session_label`,
    :func:`~tradekernels.session_start` and :func:`~tradekernels.minutes_into_session` of
    one stream of timestamps.

    ``SessionClock(cal, *, state=None, unit="ns")``; ``update(ts)`` takes one timestamp
    (``datetime64`` of any unit, a pandas ``Timestamp``, an aware ``datetime`` or an
    integer count of ``unit`` since the epoch, UTC; NaT / None is outside every session)
    and returns a :class:`SessionTick` ``(in_session, first, label, minutes)``: the four
    batch answers for it, bit for bit (``first`` follows ``session_start``'s rule in the
    order given: an in-session timestamp whose session differs from the previous
    in-session one).  ``.state`` is the label of the last in-session timestamp's session
    (``datetime64[D]``, NaT for none), the ``state=`` of :func:`~tradekernels.session_start`
    and of this class, so a batch call and the stream continue each other.

    The calendar's cached session table is read (and extended, as the batch functions
    extend it, for a timestamp beyond it).  A C object: the session of the previous
    timestamp is checked first (O(1) for a stream in time order), else a binary search
    over the table's rows; ~0.1 µs per update for an integer or ``datetime64[s..ns]``
    timestamp (``benchmarks/bench_stream.py``), the other kinds go through the Python
    parser.  Not thread-safe.
    """

    __slots__ = ("cal", "_table")

    def __init__(self, cal: Calendar, *, state: Any = None, unit: str = "ns") -> None:
        if not isinstance(cal, Calendar):
            raise TypeError(f"SessionClock: cal must be a tradekernels.Calendar, got {type(cal).__name__}")
        step = UNITS.get(unit) if isinstance(unit, str) else None
        if step is None:
            raise ValueError(f"SessionClock: unit must be one of {', '.join(UNITS)}, got {unit!r}")
        prev = NAT
        if state is not None:
            s = np.asarray(state)
            if s.shape != () or s.dtype.kind != "M":
                raise ValueError(
                    "SessionClock: state must be one session label (datetime64[D], NaT for none), "
                    f"got {state!r}"
                )
            prev = int(s.astype("datetime64[D]").view(np.int64))
        super().__init__(SessionTick, _OUTSIDE, step, prev)
        self.cal = cal
        self._table: Any = None

    def _load(self, ns: int) -> None:
        """Bind the calendar's table, extended to cover ``ns`` (UTC ns)."""
        t = self.cal._extend_for(np.array([ns], dtype=np.int64))
        self._table = t
        self._bind(
            *(t.opens, t.closes, t.break_starts, t.break_ends, t.break_rows, t.labels.view(np.int64)),
            list(t.labels),
            t.lo,
            t.hi,
        )

    def _ns(self, ts: Any) -> int:
        """UTC ns of a timestamp the C fast path does not take (NAT for none)."""
        if type(ts) is int:
            if ts == NAT:
                return NAT
            ns = ts * self._step
        elif ts is None or (isinstance(ts, np.datetime64) and np.isnat(ts)):
            return NAT
        elif type(ts) is np.datetime64:
            vals, step = _stamps(np.asarray(ts), "SessionClock")
            ns = int(vals) * step
        else:
            vals, step, _ = _timestamps_of(ts, "SessionClock")
            if np.ndim(vals) != 0:
                raise ValueError("SessionClock.update: one timestamp at a time (extend() for arrays)")
            if int(vals) == NAT:
                return NAT
            ns = int(vals) * (step or self._step)
        if not NAT < ns < 2**63:
            raise OverflowError(
                "SessionClock: a timestamp outside the datetime64[ns] range (years 1677..2262)"
            )
        return ns

    @property
    def state(self) -> np.datetime64:
        """The label of the last in-session timestamp's session (NaT for none)."""
        return _NAT_D if self._prev == NAT else np.datetime64(self._prev, "D")

    def extend(self, ts: Any) -> np.ndarray:
        """Many timestamps at once: ``session_start`` of them from the current state (the
        batch kernel); the state moves on past them."""
        from .api import session_start

        out, st = session_start(ts, self.cal, state=self.state, return_state=True, unit=self._unit())
        self._prev = NAT if np.isnat(st) else int(np.asarray(st).view(np.int64))
        return out

    def _unit(self) -> str:
        return next(k for k, v in UNITS.items() if v == self._step)

    def __reduce__(self) -> Any:
        return (_clock, (self.cal, self.state, self._unit()))

    def __repr__(self) -> str:
        return f"tradekernels.stream.SessionClock({self.cal!r}, state={self.state})"


_OUTSIDE = SessionTick(False, False, _NAT_D, -1)


def _clock(cal: Calendar, state: Any, unit: str) -> SessionClock:
    return SessionClock(cal, state=state, unit=unit)
