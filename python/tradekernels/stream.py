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
``MaxDrawdownDuration`` the longest underwater run so far (int; ``.value``)
``UlcerIndex``         the ulcer index (``ddof=0``) so far
``Drawdowns``          the episode this price recovers (a record tuple)
                       or None; ``.active`` is the open one
``RollingMaxDrawdown`` the max drawdown of the window ending at ``x``
                       (``RollingMaxDrawdown(window, min_periods)``)
=====================  =================================================

* Streams compute in float64: ``x`` is anything ``float()`` accepts
  (a NumPy float32 scalar is widened exactly, so a float32 series gives the
  float64 batch result of its values).
* ``update`` allocates nothing itself (the float it returns comes from
  CPython's free list; ``RollingMaxDrawdown`` grows its ring of prices until
  ``window`` have come); it takes ~20-35 ns including a Python loop
  (``benchmarks/bench_stream.py``).
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

from . import _api, _core, _registry
from ._state import State, as_state_vector

__all__ = [k.stream for k in _registry.KERNELS if k.stream] + ["Bracket"]


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


class _EpisodeMixin:
    __slots__ = ()

    @property
    def episode(self) -> _api.Episode:
        """``Episode(peak, trough, recovery, depth)`` of everything seen so far."""
        return _api.Episode(*super().episode)  # type: ignore[misc]


#: kernel -> extra base class of its stream (beyond the C type's own getters)
_EXTRA = {"drawdown_episode": _EpisodeMixin}


def _make(k: _registry.Kernel) -> type:
    """The stream class of kernel ``k`` (declared by its ``stream`` field)."""
    bases = (_StreamMixin,) + ((_EXTRA[k.name],) if k.name in _EXTRA else ()) + (getattr(_core, k.stream),)
    doc = (
        f"Live :func:`tradekernels.{k.name}`: ``{k.stream}(state=None)``; ``update(x)`` returns "
        f"what the batch kernel gives for that bar.  {k.doc.split(chr(10))[0]}"
    )
    return type(k.stream, bases, {"__slots__": (), "kernel": k.name, "__doc__": doc, "__module__": __name__})


_CLASSES = {k.stream: _make(k) for k in _registry.KERNELS if k.stream}
globals().update(_CLASSES)


class Bracket(_core.Bracket):
    """Live exits of one open position (the fills family, not a scan).

    ``Bracket(entry_price, side=1, *, sl_stop=None, tsl_stop=None, tp_stop=None, sl_trail=False,
    same_bar="stop", sl_price=None, tp_price=None, slippage=0.0)``, created after the entry bar;
    ``update(open, high, low, close)`` returns None, or ``(exit_price, reason)`` (an
    :class:`tradekernels.ExitReason` code) on the bar the position exits, and None after that.  A
    bar with a NaN price changes nothing.  The C step is the batch kernels' own, so the answers
    equal ``tradekernels.exit_orders(..., entry_at="close")`` on the same bars (rules:
    :func:`tradekernels.fills.reference.exit_order`).  O(1) per bar.
    """

    __slots__ = ()


class Drawdowns(_StreamMixin, _core.Drawdowns):  # type: ignore[misc]
    """Live :func:`tradekernels.drawdowns`: ``Drawdowns(state=None)``;
    ``update(price)`` returns the episode this price recovers, as a tuple of
    the record fields (``tradekernels.scans.reference.DRAWDOWN_FIELDS``:
    ``peak_idx, valley_idx, end_idx, peak_val, valley_val, end_val, depth,
    status, decline_bars, recovery_bars, duration_bars``), or None;
    ``.active`` is the open episode (``end_idx`` -1) or None.  Indices count
    from the first update (or go on from ``state``).  The episodes
    returned, then ``.active``, are the batch records of the prices seen."""

    __slots__ = ()
    kernel = "drawdowns"

    def extend(self, values: Any) -> Any:
        """Feed many prices at once (the batch C code, from the current state);
        returns the records of the episodes they recover (a structured array)."""
        from .scans.records import drawdowns

        rec, st = drawdowns(np.asarray(values, dtype=np.float64), state=self.state, return_state=True)
        _core.Drawdowns.__init__(self, _vector(self.kernel, st))
        return rec


__all__ = __all__ + ["Drawdowns"]


class RollingMaxDrawdown(_core.RollingMaxDrawdown):
    """Live :func:`tradekernels.rolling_max_drawdown`: ``RollingMaxDrawdown(window,
    min_periods=None, state=None)``; ``update(price)`` returns the max drawdown of
    the window ending at that price, bit for bit the batch result for that bar.

    The general loop of the C kernel (src/scans/rolling.inc.h: segment
    summaries, a window holding a zero, negative or infinite price recomputed
    naively) over a ring of the last ``window`` prices, in C: O(1) amortised per
    update on positive prices, no allocation once ``window`` prices have come.
    ``.state`` is the batch state (``State("rolling_max_drawdown/<window>")``: the
    bars seen and the last ``window - 1`` prices), so a stream can continue a
    batch call and the other way round.  Computes in float64.  Not thread-safe.
    """

    __slots__ = ()

    def __init__(self, window: int, min_periods: Any = None, state: Any = None) -> None:
        if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
            raise ValueError(f"RollingMaxDrawdown: window must be an integer >= 1, got {window!r}")
        mp = int(window) if min_periods is None else int(min_periods)
        if not 0 <= mp <= window:
            raise ValueError(f"RollingMaxDrawdown: min_periods must be in [0, window], got {min_periods}")
        vec = None
        if state is not None:
            v = as_state_vector(f"rolling_max_drawdown/{int(window)}", state)
            if v.ndim != 1:
                raise ValueError(
                    f"RollingMaxDrawdown: expected the state of one series, got shape {v.shape[:-1]}"
                )
            vec = v.tolist()
        super().__init__(int(window), mp, vec)

    @property
    def state(self) -> State:
        """The batch state after the last update."""
        return State(f"rolling_max_drawdown/{self.window}", self.state_vector)

    def extend(self, values: Any) -> np.ndarray:
        """Feed many prices at once (the batch C kernel, from the current state)."""
        from .scans.api import rolling_max_drawdown

        out, st = rolling_max_drawdown(
            np.asarray(values, dtype=np.float64),
            self.window,
            min_periods=self.min_periods,
            state=self.state,
            return_state=True,
        )
        _core.RollingMaxDrawdown.__init__(self, self.window, self.min_periods, st.values.tolist())
        return out

    def reset(self) -> None:
        """Back to the state before the first price."""
        _core.RollingMaxDrawdown.__init__(self, self.window, self.min_periods)

    def __reduce__(self):
        return (type(self), (self.window, self.min_periods, self.state))

    def __repr__(self) -> str:
        return f"tradekernels.stream.RollingMaxDrawdown({self.window}, {self.min_periods}, seen={self.seen})"


__all__ = __all__ + ["RollingMaxDrawdown"]
