"""Live (tick by tick) kernels: C objects updated in O(1) per value.

Each class holds one kernel's carried state (see :mod:`tradekernels._state`)
and ``update(x)`` applies the very step function the batch C loop uses, so
the sequence of ``update`` results equals the batch kernel bit for bit::

    dd = tradekernels.stream.Drawdown()
    for price in feed:
        d = dd.update(price)          # == tradekernels.drawdown(prices so far)[-1]

=====================  =================================================
class                  ``update(x)`` returns
=====================  =================================================
``SimpleReturns``      ``x / prev - 1`` (float)
``LogReturns``         ``log(x / prev)``
``CumulativeReturns``  ``prod(1 + r) - 1`` (``x`` is a return)
``Drawdown``           ``x / peak - 1``
``UnderwaterBars``     bars since the last bar at or above the peak (int)
``MaxDrawdown``        the maximum drawdown so far (also ``.value``)
``DrawdownEpisode``    the depth so far; ``.episode`` is the
                       :class:`~tradekernels.Episode` so far (indices count
                       from the first update, or go on from ``state``)
=====================  =================================================

* Streams compute in float64: ``x`` is anything ``float()`` accepts
  (a NumPy float32 scalar is widened exactly, so a float32 series gives the
  float64 batch result of its values).
* ``update`` allocates nothing itself (the float it returns comes from
  CPython's free list); it takes ~25 ns including a Python loop (``benchmarks/bench_stream.py``).
* ``.state`` is the :class:`~tradekernels.State` after the last update; it
  can seed a batch call (``tk.drawdown(chunk, state=s.state)``) and a
  stream can start from a batch call's state (``Drawdown(state=st)``), so
  history can be computed in bulk and then continued live.
* ``extend(values)`` runs the batch kernel on an array from the current
  state (fast catch-up) and returns its result.
* Streams pickle (their state) and are not thread-safe (one per thread,
  or a lock).
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _api, _core
from ._state import State, as_state_vector

__all__ = [
    "SimpleReturns",
    "LogReturns",
    "CumulativeReturns",
    "Drawdown",
    "UnderwaterBars",
    "MaxDrawdown",
    "DrawdownEpisode",
]


def _vector(kernel: str, state: Any) -> Optional[tuple]:
    if state is None:
        return None
    v = as_state_vector(kernel, state)
    if v.ndim != 1:
        raise ValueError(f"{kernel} stream: expected the state of one series, got shape {v.shape[:-1]}")
    return tuple(float(f) for f in v)


class _StreamMixin:
    __slots__ = ()
    kernel: str = ""

    def __init__(self, state: Any = None) -> None:
        super().__init__(_vector(self.kernel, state))  # type: ignore[call-arg]

    @property
    def state(self) -> State:
        """The carried state after the last update (a :class:`tradekernels.State`)."""
        return State(self.kernel, self.state_vector)  # type: ignore[attr-defined]

    def extend(self, values: Any) -> Any:
        """Feed many values at once (the batch C kernel, from the current state);
        returns what the batch call returns (an array for scans, the result so far
        for reductions; a masked array in gives a masked array for scans)."""
        data, mask = _api.masked_values(values)  # masked entries are NaN, as pandas NA
        data = np.asarray(data, dtype=np.float64)
        arg = data if mask is None else np.ma.masked_array(data, mask=mask)
        out, st = _api.call(self.kernel, arg, None, None, state=self.state, return_state=True)
        super().__init__(_vector(self.kernel, st))  # type: ignore[call-arg]
        return out

    def reset(self) -> None:
        """Back to the state before the first value."""
        super().__init__(None)  # type: ignore[call-arg]

    def __reduce__(self):
        return (type(self), (self.state,))

    def __repr__(self) -> str:
        return f"tradekernels.stream.{type(self).__name__}({self.state!r})"


class SimpleReturns(_StreamMixin, _core.SimpleReturns):
    """Live :func:`tradekernels.simple_returns`: ``update(price) -> price / prev - 1``."""

    __slots__ = ()
    kernel = "simple_returns"


class LogReturns(_StreamMixin, _core.LogReturns):
    """Live :func:`tradekernels.log_returns`: ``update(price) -> log(price / prev)``."""

    __slots__ = ()
    kernel = "log_returns"


class CumulativeReturns(_StreamMixin, _core.CumulativeReturns):
    """Live :func:`tradekernels.cumulative_returns`: ``update(r) -> prod(1 + r) - 1``."""

    __slots__ = ()
    kernel = "cumulative_returns"


class Drawdown(_StreamMixin, _core.Drawdown):
    """Live :func:`tradekernels.drawdown`: ``update(price) -> price / peak - 1``."""

    __slots__ = ()
    kernel = "drawdown"


class UnderwaterBars(_StreamMixin, _core.UnderwaterBars):
    """Live :func:`tradekernels.underwater_bars`: ``update(price) -> int``; ``.value``."""

    __slots__ = ()
    kernel = "underwater_bars"


class MaxDrawdown(_StreamMixin, _core.MaxDrawdown):
    """Live :func:`tradekernels.max_drawdown`: ``update(price)`` -> the maximum
    drawdown so far (NaN before any valid price); ``.value`` reads it."""

    __slots__ = ()
    kernel = "max_drawdown"


class DrawdownEpisode(_StreamMixin, _core.DrawdownEpisode):
    """Live :func:`tradekernels.drawdown_episode`: ``update(price)`` -> the depth
    so far; ``.episode`` -> ``Episode(peak, trough, recovery, depth)`` so far."""

    __slots__ = ()
    kernel = "drawdown_episode"

    @property
    def episode(self) -> _api.Episode:  # type: ignore[override]
        return _api.Episode(*super().episode)  # type: ignore[misc]
