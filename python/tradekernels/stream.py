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
``UlcerIndex``         the ulcer index so far (``UlcerIndex(ddof=0)``)
``Drawdowns``          the episode this price recovers (a record tuple)
                       or None; ``.active`` is the open one
``RollingMaxDrawdown`` the max drawdown of the window ending at ``x``
                       (``RollingMaxDrawdown(window, min_periods)``)
``Bracket``            ``update(open, high, low, close)``: the exit of
                       one open position, ``(price, reason)`` or None
``Order``              ``update(open, high, low, close)``: the fill
                       price of one working order on the bar it fills
                       (``Order(side, kind, price, limit, bars=)``) or None
``SignalTrades``       ``update(open, high, low, close, entry, exit)``:
                       the trade of a signal backtest closing on that
                       bar (``trades_from_signals``' record) or None
``SessionClock``       ``update(ts)``: ``SessionTick(in_session, first,
                       label, minutes)`` of a calendar (``SessionClock(cal)``)
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
* The drawdown family's streams (``Drawdown``, ``MaxDrawdown``,
  ``UlcerIndex``, ``RollingMaxDrawdown``, ``Drawdowns``) take the batch NaN
  policy, ``nan="skip" | "ffill" | "zero_return"``
  (:func:`tradekernels._api.apply_nan_policy`), and ``UlcerIndex`` the batch
  ``ddof``: each update gives the batch call on the prices so far
  (``tk.drawdown(prices, nan="ffill")[-1]``, ``tk.ulcer_index(prices,
  ddof=1)``) bit for bit, and ``.state`` is the chunked batch state
  (``State("<kernel>@<policy>")``: the kernel's fields, then the policy's
  carry), so ``state=``, pickles and ``extend`` keep the policy.  The policy
  runs per update in Python around the C step (one bar of
  :func:`tradekernels._api.apply_nan_policy_chunk`: ~0.2-0.3 us per update;
  ``ddof != 0`` ~4 us, NumPy's formula on the state); the default
  (``nan="skip"``, ``ddof=0``) is the C update alone.  With
  ``nan="zero_return"`` a NaN before the first price raises ValueError and
  changes nothing, as the chunked batch call on that bar does (in the batch
  that bar takes the first price, still to come): drop the leading NaN bars,
  or use ``nan="ffill"``.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Optional

import numpy as np

from . import _api, _core, _registry
from ._state import POLICY_LAYOUTS, State, as_state_vector

__all__ = [k.stream for k in _registry.KERNELS if k.stream] + ["Bracket"]


def _vector(kernel: str, state: Any) -> Optional[tuple]:
    if state is None:
        return None
    v = as_state_vector(kernel, state)
    if v.ndim != 1:
        raise ValueError(f"{kernel} stream: expected the state of one series, got shape {v.shape[:-1]}")
    return tuple(float(f) for f in v)


def _one_series(obj: Any, values: Any) -> None:
    """``extend``'s values are one series (1-D): the stream's state is that of one."""
    if np.ndim(values) != 1:
        raise ValueError(
            f"tradekernels.stream.{type(obj).__name__}.extend: expected the values of one series "
            f"(1-D), got shape {np.shape(values)}"
        )


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
        _one_series(self, values)
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


def _nan_arg(cls: str, nan: Any) -> str:
    """The ``nan=`` argument of a live class (the batch rules: None is ``"skip"``)."""
    if nan is None:
        return "skip"
    if not isinstance(nan, str) or nan not in _api.NAN_POLICIES:
        raise ValueError(f"tradekernels.stream.{cls}: nan must be one of {_api.NAN_POLICIES}, got {nan!r}")
    return nan


def _wants_policy(kw: Any) -> bool:
    """Whether the keywords of a drawdown-family stream need the Python step (:class:`_Policy`)."""
    nan, ddof = kw.get("nan", "skip"), kw.get("ddof", 0)
    return not (nan is None or (isinstance(nan, str) and nan == "skip")) or type(ddof) is not int or ddof != 0


def _restore(cls: type, args: tuple, kw: dict) -> Any:
    """Unpickles a stream made with keywords (``nan=``, ``ddof=``)."""
    return cls(*args, **kw)


class _NanStream(_StreamMixin):
    """The streams of the kernels that take ``nan=`` (:data:`tradekernels._api.NAN_POLICY_KERNELS`).

    ``nan="skip"`` (default) and ``ddof=0`` make an object of the class itself: its
    ``update`` is the C type's, with no Python step per value.  ``nan="ffill"`` /
    ``"zero_return"`` (or ``UlcerIndex(ddof=k)``, ``k != 0``) make an object of the
    class's policy subclass (:func:`_policy_class`), which runs the policy's step
    (and the ``ddof`` formula) in Python around the C update.  The hooks
    ``_sname`` (the state's kernel name), ``_load`` (the C state from the
    kernel's fields), ``_args`` and ``_batch`` are the class's own.
    """

    __slots__ = ()
    _nan = "skip"  # the policy subclass keeps these three in slots
    _ddof = 0
    _carry: Any = ()

    def __new__(cls, *args: Any, **kw: Any) -> Any:
        if not issubclass(cls, _Policy) and _wants_policy(kw):
            cls = _policy_class(cls)
        return super().__new__(cls)

    def __init__(self, state: Any = None, *, nan: str = "skip") -> None:
        self._start(state, _nan_arg(type(self).__name__, nan), 0)

    def _sname(self) -> str:
        return self.kernel

    def _load(self, vec: Optional[tuple]) -> None:
        super(_StreamMixin, self).__init__(vec)  # type: ignore[call-arg]

    def _args(self) -> tuple:
        return ()

    def _batch(self, values: Any, state: State) -> Any:
        data, mask = _api.masked_values(values)  # masked entries are NaN, as pandas NA
        data = np.asarray(data, dtype=np.float64)
        arg = data if mask is None else np.ma.masked_array(data, mask=mask)
        if self._ddof:
            from .scans.api import ulcer_index

            return ulcer_index(arg, ddof=self._ddof, state=state, return_state=True, nan=self._nan)
        return _api.call(self.kernel, arg, None, None, state=state, return_state=True, nan=self._nan)

    def _kw(self) -> dict:
        """The keywords that make this stream again (none for the defaults)."""
        kw: dict = {} if self._nan == "skip" else {"nan": self._nan}
        if self._ddof:
            kw["ddof"] = self._ddof
        return kw

    def _start(self, state: Any, nan: str, ddof: int) -> None:
        if nan != "skip" or ddof:
            raise TypeError(
                f"tradekernels.stream.{type(self).__name__}: nan= and ddof= choose the object's "
                "class when it is made; make a new one"
            )
        self._load(_vector(self._sname(), state))

    @property
    def state(self) -> State:
        """The carried state after the last update (a :class:`tradekernels.State`; with a
        NaN policy ``"<kernel>@<policy>"``, the kernel's fields then the policy's carry)."""
        name = self._sname()
        if self._nan == "skip":
            return State(name, self.state_vector)  # type: ignore[attr-defined]
        return State(f"{name}@{self._nan}", self.state_vector + tuple(self._carry))  # type: ignore[attr-defined]

    def extend(self, values: Any) -> Any:
        """Feed many values at once (the batch C kernel, from the current state, with the
        stream's ``nan=`` / ``ddof=``); returns what the batch call returns (an array for
        scans, the result so far for reductions; a masked array in gives a masked array for
        scans)."""
        _one_series(self, values)
        out, st = self._batch(values, self.state)
        self._start(st, self._nan, self._ddof)
        return out

    def reset(self) -> None:
        """Back to the state before the first value (the same ``nan=`` / ``ddof=``)."""
        self._start(None, self._nan, self._ddof)

    def __reduce__(self):
        kw = self._kw()
        args = self._args() + (self.state,)
        if not kw:
            return (type(self), args)
        return (_restore, (type(self)._public, args, kw))  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        kw = "".join(f", {k}={v!r}" for k, v in self._kw().items())
        return f"tradekernels.stream.{type(self).__name__}({self.state!r}{kw})"


class _Policy:
    """The step of a NaN policy (and of ``UlcerIndex``'s ``ddof``) around the C update.

    Mixed in first by :func:`_policy_class`'s subclasses, whose slots ``_nan``,
    ``_ddof`` and ``_carry`` (the policy's carry, a list:
    :data:`tradekernels._state.POLICY_LAYOUTS`) it reads.  One ``update`` is one
    bar of :func:`tradekernels._api.apply_nan_policy_chunk` (the same IEEE
    operations in the same order, twin
    :func:`tradekernels.scans.reference.apply_nan_policy_chunk`), then the C
    step on that price, then for ``ddof != 0`` :func:`tradekernels._api.ulcer_ddof`
    on the state: the batch result on the prices so far, bit for bit.
    """

    __slots__ = ()

    def _start(self, state: Any, nan: str, ddof: int) -> None:
        name = self._sname()  # type: ignore[attr-defined]
        k = len(POLICY_LAYOUTS[nan][0]) if nan != "skip" else 0
        full = _vector(f"{name}@{nan}" if k else name, state)
        if full is None:
            vec, carry = None, (POLICY_LAYOUTS[nan][1] if k else ())
        else:
            vec, carry = full[: len(full) - k], full[len(full) - k :]
        self._load(vec)  # type: ignore[attr-defined]
        self._nan, self._ddof, self._carry = nan, ddof, [float(c) for c in carry]

    def update(self, x: Any) -> Any:
        """update(x): the batch result for the prices so far, under the stream's ``nan=``
        (and ``ddof=``)."""
        nan = self._nan  # type: ignore[attr-defined]
        if nan == "skip":
            v = x
        else:
            # x as the C update reads it (PyFloat_AsDouble: a str is a TypeError), before
            # the carry moves; ldexp(x, 0) == x
            v = x if type(x) is float else math.ldexp(x, 0)
            c = self._carry  # type: ignore[attr-defined]
            if nan == "ffill":
                if v == v:
                    c[0] = v
                else:
                    v = c[0]
            else:
                v = self._zero_return(v, c)
        out = super().update(v)  # type: ignore[misc]
        if self._ddof:  # type: ignore[attr-defined]
            sv = self.state_vector  # type: ignore[attr-defined]
            out = float(_api.ulcer_ddof(sv[1], sv[2], self._ddof))  # type: ignore[attr-defined]
        return out

    def _zero_return(self, v: float, c: list) -> float:
        """One bar of ``nan="zero_return"``: ``x0 * prod(1 + r)``, ``r`` this bar's simple
        return (NaN as 0) against the carried last price."""
        prev, prod, first = c
        if first != first:  # no price yet
            if v != v:
                raise ValueError(
                    f"tradekernels.stream.{type(self).__name__}: nan='zero_return': a NaN before the "
                    "first price cannot be given yet (the batch gives it the first price, still to "
                    "come: tradekernels._api.apply_nan_policy_chunk); drop the leading NaN bars, or "
                    "use nan='ffill'"
                )
            first = v
        try:
            r = v / prev - 1.0
        except ZeroDivisionError:  # IEEE, as NumPy: x / +-0 is +-inf, NaN for 0 / 0 and NaN / 0
            q = math.nan if v == 0.0 or v != v else math.copysign(math.inf, v) * math.copysign(1.0, prev)
            r = q - 1.0
        if r != r:
            r = 0.0
        prod = prod * (1.0 + r)
        c[0], c[1], c[2] = v, prod, first
        return prod * first


def _policy_class(cls: type) -> type:
    """The subclass of ``cls`` that ``nan="ffill"`` / ``"zero_return"`` / ``ddof != 0``
    make (same name; ``isinstance(obj, cls)`` holds), made once per class."""
    live = cls.__dict__.get("_policy")
    if live is None:
        ns = {
            "__slots__": ("_nan", "_ddof", "_carry"),
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
            "_public": cls,
        }
        live = type(cls.__name__, (_Policy, cls), ns)
        type.__setattr__(cls, "_policy", live)
    return live


class _DdofMixin:
    """``UlcerIndex(state=None, *, ddof=0, nan="skip")``: the batch ``ddof``."""

    __slots__ = ()

    def __init__(self, state: Any = None, *, ddof: int = 0, nan: str = "skip") -> None:
        if isinstance(ddof, bool) or not isinstance(ddof, (int, np.integer)):
            raise TypeError(
                f"tradekernels.stream.{type(self).__name__}: ddof must be an integer, got {ddof!r}"
            )
        self._start(state, _nan_arg(type(self).__name__, nan), int(ddof))  # type: ignore[attr-defined]


#: kernel -> extra base classes of its stream, before the mixin (beyond the C type's own getters)
_EXTRA = {"drawdown_episode": (_EpisodeMixin,), "ulcer_index": (_DdofMixin,)}


def _make(k: _registry.Kernel) -> type:
    """The stream class of kernel ``k`` (declared by its ``stream`` field)."""
    mixin = _NanStream if k.name in _api.NAN_POLICY_KERNELS else _StreamMixin
    bases = _EXTRA.get(k.name, ()) + (mixin, getattr(_core, k.stream))
    if k.name == "ulcer_index":
        sig, same = "state=None, *, ddof=0, nan='skip'", " (the same ``ddof=`` and ``nan=``)"
    elif mixin is _NanStream:
        sig, same = "state=None, *, nan='skip'", " (the same ``nan=``)"
    else:
        sig, same = "state=None", ""
    doc = (
        f"Live :func:`tradekernels.{k.name}`: ``{k.stream}({sig})``; ``update(x)`` returns "
        f"what the batch kernel gives for that bar{same}.  {k.doc.split(chr(10))[0]}"
    )
    return type(k.stream, bases, {"__slots__": (), "kernel": k.name, "__doc__": doc, "__module__": __name__})


_CLASSES = {k.stream: _make(k) for k in _registry.KERNELS if k.stream}
globals().update(_CLASSES)
for _c in _CLASSES.values():
    if issubclass(_c, _NanStream):
        _policy_class(_c)  # made at import: one policy class per stream class, whatever the threads


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


class Order(_core.Order):
    """Live :func:`tradekernels.fill_orders` of one order (the fills family, not a scan).

    ``Order(side, kind, price=None, limit=None, *, bars=None)``, created before its first
    live bar: ``side`` +1 buy / -1 sell, ``kind`` an :class:`~tradekernels.OrderKind` or
    its name (``"market"``, ``"limit"``, ``"stop"``, ``"stop_limit"``), ``price`` the
    limit or stop price, ``limit`` a stop-limit's limit, ``bars`` the number of bars it
    stays live (None: good till cancelled).  ``update(open, high, low, close)`` returns
    the fill price on the bar the order fills, else None (and None after that);
    ``fill_index`` (the update that filled it, -1 none), ``fill_price``, ``converted``
    (a stop-limit triggered without a fill: a limit order since), ``done``, ``seen``.
    The C step is the batch kernels' own, over one bar, so the fills equal
    ``tradekernels.fill_orders(bars, 0, side, kind, price, limit, expiry=bars - 1)`` on
    the bars fed (rules: :func:`tradekernels.fills.reference.fill_order`).  O(1) per bar.
    """

    __slots__ = ()

    def __init__(
        self, side: Any, kind: Any, price: Any = None, limit: Any = None, *, bars: Any = None
    ) -> None:
        from .fills import api

        if isinstance(side, (bool, np.bool_)) or side not in (1, -1):
            raise ValueError(f"tradekernels.stream.Order: side must be +1 (buy) or -1 (sell), got {side!r}")
        code = api._kind_code(kind, "tradekernels.stream.Order")
        p = math.nan if price is None else float(price)
        lim = math.nan if limit is None else float(limit)
        if code == int(api.OrderKind.STOP_LIMIT) and math.isnan(lim):
            raise ValueError("tradekernels.stream.Order: stop_limit orders need a limit price (limit=...)")
        if bars is not None and (
            isinstance(bars, bool) or not isinstance(bars, (int, np.integer)) or bars < 0
        ):
            raise ValueError(f"tradekernels.stream.Order: bars must be an integer >= 0 or None, got {bars!r}")
        super().__init__(int(side), code, p, lim, bars=-1 if bars is None else int(bars))

    def __repr__(self) -> str:
        state = (
            f"filled at {self.fill_price} on update {self.fill_index}"
            if self.fill_index >= 0
            else ("done" if self.done else "working")
        )
        return f"tradekernels.stream.Order(seen={self.seen}, {state})"


__all__ = __all__ + ["Order"]


class Drawdowns(_NanStream, _core.Drawdowns):  # type: ignore[misc]
    """Live :func:`tradekernels.drawdowns`: ``Drawdowns(state=None, *, nan="skip")``;
    ``update(price)`` returns the episode this price recovers, as a tuple of
    the record fields (``tradekernels.scans.reference.DRAWDOWN_FIELDS``:
    ``peak_idx, valley_idx, end_idx, peak_val, valley_val, end_val, depth,
    status, decline_bars, recovery_bars, duration_bars``), or None;
    ``.active`` is the open episode (``end_idx`` -1) or None.  Indices count
    from the first update (or go on from ``state``).  The episodes
    returned, then ``.active``, are the batch records of the prices seen
    (``tradekernels.drawdowns(prices, nan=nan)``: ``nan=`` is the batch NaN
    policy, see the module doc)."""

    __slots__ = ()
    kernel = "drawdowns"

    def _batch(self, values: Any, state: State) -> Any:
        from .scans.records import drawdowns

        return drawdowns(np.asarray(values, dtype=np.float64), state=state, return_state=True, nan=self._nan)

    def extend(self, values: Any) -> Any:
        """Feed many prices at once (the batch C code, from the current state);
        returns the records of the episodes they recover (a structured array)."""
        return super().extend(values)


__all__ = __all__ + ["Drawdowns"]


class RollingMaxDrawdown(_NanStream, _core.RollingMaxDrawdown):  # type: ignore[misc]
    """Live :func:`tradekernels.rolling_max_drawdown`: ``RollingMaxDrawdown(window,
    min_periods=None, state=None, *, nan="skip")``; ``update(price)`` returns the max
    drawdown of the window ending at that price, bit for bit the batch result for that
    bar (``nan=``: the batch NaN policy, see the module doc).

    The general loop of the C kernel (src/scans/rolling.inc.h: segment
    summaries, a window holding a zero, negative or infinite price recomputed
    naively) over a ring of the last ``window`` prices, in C: O(1) amortised per
    update on positive prices, no allocation once ``window`` prices have come.
    ``.state`` is the batch state (``State("rolling_max_drawdown/<window>")``: the
    bars seen and the last ``window - 1`` prices; ``"rolling_max_drawdown/<window>@<policy>"``
    with a NaN policy), so a stream can continue a batch call and the other way round.
    Computes in float64.  Not thread-safe.
    """

    __slots__ = ()
    kernel = "rolling_max_drawdown"

    def __init__(self, window: int, min_periods: Any = None, state: Any = None, *, nan: str = "skip") -> None:
        window, mp = _api.window_args("stream.RollingMaxDrawdown", window, min_periods)  # the batch rules
        nan = _nan_arg("RollingMaxDrawdown", nan)
        _core.RollingMaxDrawdown.__init__(self, int(window), mp)
        self._start(state, nan, 0)

    def _sname(self) -> str:
        return f"rolling_max_drawdown/{self.window}"

    def _load(self, vec: Optional[tuple]) -> None:
        _core.RollingMaxDrawdown.__init__(self, self.window, self.min_periods, vec)

    def _args(self) -> tuple:
        return (self.window, self.min_periods)

    def _batch(self, values: Any, state: State) -> Any:
        from .scans.api import rolling_max_drawdown

        return rolling_max_drawdown(
            np.asarray(values, dtype=np.float64),
            self.window,
            min_periods=self.min_periods,
            state=state,
            return_state=True,
            nan=self._nan,
        )

    def extend(self, values: Any) -> np.ndarray:
        """Feed many prices at once (the batch C kernel, from the current state)."""
        return super().extend(values)

    def __repr__(self) -> str:
        kw = "".join(f", {k}={v!r}" for k, v in self._kw().items())
        head = f"tradekernels.stream.RollingMaxDrawdown({self.window}, {self.min_periods}"
        return f"{head}, seen={self.seen}{kw})"


__all__ = __all__ + ["RollingMaxDrawdown"]


def _bracket(
    entry_price: float,
    side: int = 1,
    *,
    sl_stop: Optional[float] = None,
    tsl_stop: Optional[float] = None,
    tp_stop: Optional[float] = None,
    sl_trail: bool = False,
    same_bar: str = "stop",
    sl_price: Optional[float] = None,
    tp_price: Optional[float] = None,
    slippage: float = 0.0,
) -> None:
    """Bracket's signature (its __init__ is the C type's)."""


def _signature_of_init(cls: type) -> inspect.Signature:
    sig = inspect.signature(cls.__init__)  # type: ignore[misc]
    return sig.replace(parameters=list(sig.parameters.values())[1:])


# inspect.signature(cls): the constructor's parameters (a _NanStream's __new__ takes *args,
# **kw to pick the policy subclass; Bracket's __init__ is C).
for _c in list(_CLASSES.values()) + [Drawdowns, RollingMaxDrawdown]:
    _c.__signature__ = _signature_of_init(_c)  # type: ignore[attr-defined]
Bracket.__signature__ = inspect.signature(_bracket)  # type: ignore[attr-defined]
_policy_class(Drawdowns)
_policy_class(RollingMaxDrawdown)


class SignalTrades(_core.SignalTrades):
    """Live :func:`tradekernels.trades_from_signals` of one bar series.

    ``SignalTrades(side=1, *, price="close", sl_stop=None, tsl_stop=None, tp_stop=None,
    sl_trail=False, same_bar="stop", slippage=0.0, fees=0.0, reenter_on_exit_bar=False,
    state=None)`` (the batch function's parameters); ``update(open, high, low, close,
    entry=False, exit=False)`` applies one bar and its signals and returns the trade that
    closes on it, as a tuple of the :data:`~tradekernels.fills.TRADE_DTYPE` fields (``col``
    0), or None.  ``mark()`` is the trade still open as the batch reports it when the bars
    end here (reason END), or None; it changes nothing.  The trades returned, then
    ``mark()``, are the batch records of the bars seen, bit for bit (rules:
    :func:`tradekernels.fills.reference.trades_from_signals`): a C object whose open
    position takes each bar through the kernels' own bar step (as :class:`Bracket`).

    ``.state`` is the :class:`~tradekernels.SignalState` after the last bar (a batch
    call's ``state=``), and ``state=`` starts from one (a batch call's, with
    ``return_state=True``), so history can be run in bulk and continued live;
    ``extend(open, high, low, close, entries, exits)`` runs the batch kernel on arrays
    from the current state and returns their closed trades (records).  O(1) per bar,
    ~50 ns including a Python loop (``benchmarks/bench_stream.py``).  Not thread-safe.
    """

    __slots__ = ("_kw",)

    def __init__(
        self,
        side: int = 1,
        *,
        price: str = "close",
        sl_stop: Any = None,
        tsl_stop: Any = None,
        tp_stop: Any = None,
        sl_trail: bool = False,
        same_bar: str = "stop",
        slippage: float = 0.0,
        fees: float = 0.0,
        reenter_on_exit_bar: bool = False,
        state: Any = None,
    ) -> None:
        from .fills import api

        p, fee = api._signal_params(
            side,
            price,
            sl_stop,
            tsl_stop,
            tp_stop,
            sl_trail,
            same_bar,
            slippage,
            fees,
            reenter_on_exit_bar,
            "tradekernels.stream.SignalTrades",
        )
        super().__init__(p[0], p[1], p[2], p[3], bool(p[4]), p[5], p[6], fee, bool(p[7]), price == "open")
        self._kw = dict(
            side=p[0],
            price=price,
            sl_stop=p[1],
            tsl_stop=p[2],
            tp_stop=p[3],
            sl_trail=bool(p[4]),
            same_bar=same_bar,
            slippage=p[6],
            fees=fee,
            reenter_on_exit_bar=bool(p[7]),
        )
        if state is not None:
            self._set_state(state)

    def _set_state(self, state: Any) -> None:
        from .fills import SignalState

        if not isinstance(state, SignalState):
            raise TypeError(f"SignalTrades: state must be a SignalState, got {type(state).__name__}")
        if np.ndim(state.phase) != 0:
            raise ValueError(
                f"SignalTrades: expected the state of one bar series, got shape {np.shape(state.phase)}"
            )
        self._load(
            int(state.seen),
            int(state.phase),
            int(state.entry_idx),
            *(float(v) for v in state[3:9]),
        )

    @property
    def state(self) -> Any:
        """The :class:`~tradekernels.SignalState` after the last bar."""
        from .fills import SignalState, api

        k = self._kw
        nan = math.nan
        if self.phase in (1, 3):
            lv = api._levels(
                np.float64(self.entry_price),
                k["side"] == 1,
                k["sl_stop"],
                k["tsl_stop"],
                k["tp_stop"],
                int(k["sl_trail"]),
                nan,
                nan,
            )
            stop, target, frac = (float(v) for v in lv)
            ref = self.reference
        else:
            stop = target = frac = ref = nan
        values = (self.phase, self.entry_idx, self.entry_price, ref, stop, target, frac, self.last_close)
        dtypes = (np.int8, np.int64) + (np.float64,) * 6
        return SignalState(self.seen, *(np.array(v, dtype=d) for v, d in zip(values, dtypes)), None, None)

    def extend(
        self, open: Any, high: Any, low: Any, close: Any, entries: Any, exits: Any = None
    ) -> np.ndarray:
        """Feed many bars at once (the batch kernels, from the current state); returns the
        records of the trades that close on them."""
        from .fills import trades_from_signals

        bars = tuple(np.asarray(v, dtype=np.float64) for v in (open, high, low, close))
        ent = np.asarray(entries, dtype=bool)
        ext = None if exits is None else np.asarray(exits, dtype=bool)
        rec, st = trades_from_signals(bars, ent, ext, **self._kw, state=self.state, return_state=True)
        self._set_state(st)
        return rec

    def __reduce__(self) -> Any:
        return (_signal_trades, (self._kw, self.state))

    def __repr__(self) -> str:
        where = {0: "flat", 1: "in a trade", 2: "entering at the next open", 3: "exiting at the next open"}
        return f"tradekernels.stream.SignalTrades(seen={self.seen}, {where[self.phase]})"


def _signal_trades(kwargs: dict, state: Any) -> SignalTrades:
    return SignalTrades(**kwargs, state=state)


__all__ = __all__ + ["SignalTrades"]


__all__ = __all__ + ["SessionClock"]  # noqa: F822 - module __getattr__ below


def __getattr__(name: str) -> Any:
    """The sessions family's live class, imported on first use (as the family itself:
    ``import tradekernels`` does not load the calendars)."""
    if name in ("SessionClock", "SessionTick"):
        from .sessions import live

        value = getattr(live, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tradekernels.stream' has no attribute {name!r}")
