"""Pure-Python reference twin of the order fills: the definition of their result.

``fill_order`` scans the bars one by one with plain loops; the C kernels
(the indexed search and the naive scan) must agree with it exactly.  The
order kinds are the C module's constants (``tradekernels._core.ORDER_KINDS``).
"""

from __future__ import annotations

import math
from typing import List, Sequence, Tuple

from .._core import FILL_BLOCK, FILL_GROUP, FILL_SUPER, ORDER_KINDS

__all__: List[str] = []

_NAN = math.nan
_INF = math.inf

# --------------------------------------------------------------------------
# Order fills
# --------------------------------------------------------------------------

#: Order kinds (the values of :class:`tradekernels.OrderKind`), from the C module.
MARKET, LIMIT, STOP, STOP_LIMIT = (ORDER_KINDS[k] for k in ("market", "limit", "stop", "stop_limit"))

__all__ += ["MARKET", "LIMIT", "STOP", "STOP_LIMIT", "fill_order", "fill_orders"]


def fill_order(
    open: Sequence[float],
    high: Sequence[float],
    low: Sequence[float],
    close: Sequence[float],
    start: int,
    side: int,
    kind: int,
    price: float,
    limit: float,
    expiry: int,
) -> Tuple[int, float]:
    """The first fill ``(fill_index, fill_price)`` of one order; ``(-1, NaN)`` if none.

    Bars ``0 .. n-1`` are given by ``open, high, low, close`` (equal lengths).

    * **Live bars.**  The order is live on bars ``start .. last`` with
      ``last = n - 1`` if ``expiry == -1`` (good till cancelled), else
      ``last = min(expiry, n - 1)`` (the expiry bar itself is live).  It never
      fills if ``start`` is outside ``[0, n)`` or ``last < start`` (so any
      ``expiry < start`` other than -1, e.g. -2, means "never").
    * **Fillable bars.**  A bar with a NaN in any of its four prices never
      fills anything (time passes; the order stays live).  Other bars are
      used as they are (no check that ``low <= open <= high``; infinities
      compare as usual).
    * ``side`` is +1 (buy) or -1 (sell), ``kind`` one of :data:`MARKET`,
      :data:`LIMIT`, :data:`STOP`, :data:`STOP_LIMIT`; any other value never
      fills (the public API raises instead).
    * "The first bar" below always means the first fillable live bar
      ``i >= start`` (``i <= last``) meeting the condition.  A NaN ``price``
      (or ``limit``) never meets a condition.
    * **market**: the first bar; price ``open[i]``.  (With a fillable bar at
      ``start`` that is ``open[start]``.)  ``price`` / ``limit`` are ignored.
    * **buy limit** ``L = price``: the first bar with ``low[i] <= L``; price
      ``open[i] if open[i] < L else L`` (a gap down fills at the open).
      **sell limit**: ``high[i] >= L``; price ``open[i] if open[i] > L else L``.
    * **buy stop** ``S = price``: the first bar with ``high[i] >= S``; price
      ``open[i] if open[i] > S else S`` (a gap up fills at the open).
      **sell stop**: ``low[i] <= S``; price ``open[i] if open[i] < S else S``.
    * **stop-limit** (stop ``S = price``, limit ``L = limit``): the stop
      triggers on bar ``t``, found and priced as the stop order above
      (trigger price ``p``).  *Trigger-bar assumption*: within bar ``t`` only
      the trigger price ``p`` is known to trade after the trigger (the order
      of the bar's high and low is unknown), so the order fills on bar ``t``
      at ``p`` if ``p`` satisfies the limit (buy ``p <= L``, sell
      ``p >= L``), and otherwise it becomes a plain limit order ``L`` from bar
      ``t + 1`` on (same rules as a limit order, same ``last``).
    """
    n = len(open)
    assert len(high) == n and len(low) == n and len(close) == n
    last = n - 1 if expiry == -1 else min(expiry, n - 1)
    if not (0 <= start < n) or last < start or side not in (1, -1):
        return -1, _NAN
    buy = side == 1

    def first(a: int, below: bool, x: float) -> int:
        """First fillable bar in [a, last] with low <= x (below) or high >= x."""
        for i in range(a, last + 1):
            o, h, lo, c = open[i], high[i], low[i], close[i]
            if o != o or h != h or lo != lo or c != c:
                continue
            if (lo <= x) if below else (h >= x):
                return i
        return -1

    def better_low(o: float, x: float) -> float:
        return o if o < x else x

    def better_high(o: float, x: float) -> float:
        return o if o > x else x

    if kind == MARKET:
        i = first(start, True, _INF)
        return (i, open[i]) if i >= 0 else (-1, _NAN)
    if kind == LIMIT:
        i = first(start, buy, price)
        if i < 0:
            return -1, _NAN
        return i, (better_low if buy else better_high)(open[i], price)
    if kind == STOP:
        i = first(start, not buy, price)
        if i < 0:
            return -1, _NAN
        return i, (better_high if buy else better_low)(open[i], price)
    if kind == STOP_LIMIT:
        t = first(start, not buy, price)
        if t < 0:
            return -1, _NAN
        p = (better_high if buy else better_low)(open[t], price)
        if (p <= limit) if buy else (p >= limit):
            return t, p
        i = first(t + 1, buy, limit)
        if i < 0:
            return -1, _NAN
        return i, (better_low if buy else better_high)(open[i], limit)
    return -1, _NAN


def fill_orders(
    open: Sequence[float],
    high: Sequence[float],
    low: Sequence[float],
    close: Sequence[float],
    start: Sequence[int],
    side: Sequence[int],
    kind: Sequence[int],
    price: Sequence[float],
    limit: Sequence[float],
    expiry: Sequence[int],
) -> Tuple[List[int], List[float]]:
    """:func:`fill_order` for each order: the order fields are equal-length
    sequences (already broadcast); returns ``(fill_indices, fill_prices)``."""
    idx: List[int] = []
    px: List[float] = []
    for order in zip(start, side, kind, price, limit, expiry):
        i, p = fill_order(open, high, low, close, *order)
        idx.append(i)
        px.append(p)
    return idx, px


__all__ += ["bar_index"]


def bar_index(
    open: Sequence[float], high: Sequence[float], low: Sequence[float], close: Sequence[float]
) -> Tuple[List[float], ...]:
    """The search summaries that let ``fill_orders`` skip bars (``ufuncs.bar_index``).

    A bar is fillable iff none of its four prices is NaN.  Returns, in the
    order of the bar inputs of ``ufuncs.fill_orders`` (eleven), then close:
    ``open`` (a copy), ``fill_low, fill_high`` (low / high on fillable bars,
    NaN on the others), the min low / max high of each group of
    ``FILL_GROUP`` bars, of each block of ``FILL_BLOCK`` bars, of the bars
    from each block's first to the last (``suffix_min_low``,
    ``suffix_max_high``: one per block), of each super block of
    ``FILL_SUPER`` bars (``tradekernels._core`` constants), and ``close`` (a
    copy); a range without a fillable bar gives NaN.  These only decide what
    the search may skip, so the fills equal the bar-by-bar scan
    :func:`fill_order` whatever they are.
    """
    n = len(open)
    ok = [not any(v != v for v in (open[i], high[i], low[i], close[i])) for i in range(n)]
    fl = [low[i] if ok[i] else _NAN for i in range(n)]
    fh = [high[i] if ok[i] else _NAN for i in range(n)]

    def lo(vals: Sequence[float]) -> float:
        good = [v for v in vals if v == v]
        return min(good) if good else _NAN

    def hi(vals: Sequence[float]) -> float:
        good = [v for v in vals if v == v]
        return max(good) if good else _NAN

    out: List[List[float]] = [list(open), fl, fh]
    for size in (FILL_GROUP, FILL_BLOCK):
        out.append([lo(fl[a : a + size]) for a in range(0, n, size)])
        out.append([hi(fh[a : a + size]) for a in range(0, n, size)])
    out.append([lo(fl[a:]) for a in range(0, n, FILL_BLOCK)])
    out.append([hi(fh[a:]) for a in range(0, n, FILL_BLOCK)])
    out.append([lo(fl[a : a + FILL_SUPER]) for a in range(0, n, FILL_SUPER)])
    out.append([hi(fh[a : a + FILL_SUPER]) for a in range(0, n, FILL_SUPER)])
    out.append(list(close))
    return tuple(out)


# --------------------------------------------------------------------------
# Exits: stop loss / trailing stop / take profit after an entry
# --------------------------------------------------------------------------

from .._core import ENTRY_AT, EXIT_REASONS, SAME_BAR  # noqa: E402

#: Exit reasons (the values of :class:`tradekernels.ExitReason`), from the C module.
EXIT_NONE, EXIT_SL, EXIT_TSL, EXIT_TP, EXIT_EXPIRY, EXIT_SIGNAL, EXIT_END = (
    EXIT_REASONS[k] for k in ("none", "sl", "tsl", "tp", "expiry", "signal", "end")
)
#: ``same_bar`` policies and ``entry_at`` codes, from the C module.
SAME_BAR_STOP, SAME_BAR_TAKE, SAME_BAR_OPEN = (SAME_BAR[k] for k in ("stop", "take", "open"))
ENTRY_AT_CLOSE, ENTRY_AT_OPEN = ENTRY_AT["close"], ENTRY_AT["open"]

__all__ += [
    "EXIT_NONE",
    "EXIT_SL",
    "EXIT_TSL",
    "EXIT_TP",
    "EXIT_EXPIRY",
    "EXIT_SIGNAL",
    "EXIT_END",
    "trades_from_signals",
    "SAME_BAR_STOP",
    "SAME_BAR_TAKE",
    "SAME_BAR_OPEN",
    "ENTRY_AT_CLOSE",
    "ENTRY_AT_OPEN",
    "exit_order",
    "exit_orders",
]


#: The position fields of :func:`exit_order` after the bars, in its argument order (and that
#: of ``ufuncs.exit_orders``); the integer ones in :data:`EXIT_INT_FIELDS`.  Written once,
#: here: the public API's messages and the golden files take them from this tuple.
EXIT_FIELDS = (
    "entry_idx",
    "entry_price",
    "side",
    "sl_stop",
    "tsl_stop",
    "tp_stop",
    "sl_trail",
    "sl_price",
    "tp_price",
    "same_bar",
    "entry_at",
    "expiry",
    "slippage",
)
EXIT_INT_FIELDS = frozenset({"entry_idx", "side", "sl_trail", "same_bar", "entry_at", "expiry"})
__all__ += ["EXIT_FIELDS", "EXIT_INT_FIELDS"]


def _nmin(acc: float, v: float) -> float:
    """NaN-ignoring min: ``v`` unless it is NaN or ``acc <= v`` (NaN = absent)."""
    return v if (v == v and not (acc <= v)) else acc


def _nmax(acc: float, v: float) -> float:
    """NaN-ignoring max: ``v`` unless it is NaN or ``acc >= v``."""
    return v if (v == v and not (acc >= v)) else acc


def exit_order(
    open: Sequence[float],
    high: Sequence[float],
    low: Sequence[float],
    close: Sequence[float],
    entry_idx: int,
    entry_price: float,
    side: int,
    sl_stop: float,
    tsl_stop: float,
    tp_stop: float,
    sl_trail: int,
    sl_price: float,
    tp_price: float,
    same_bar: int,
    entry_at: int,
    expiry: int,
    slippage: float,
) -> Tuple[int, float, int]:
    """The exit ``(exit_idx, exit_price, reason)`` of one position; ``(-1, NaN, EXIT_NONE)`` if none.

    A position entered on bar ``e = entry_idx`` at ``P = entry_price``, long
    (``side`` +1) or short (-1), is closed by the first of its stop loss,
    trailing stop and take profit that the bars reach.  A NaN stop argument
    means "absent"; any subset may be given.

    * **Invalid positions.**  ``e`` outside ``[0, n)``, ``side`` not +-1 or an
      ``expiry`` other than -1 below ``e``: ``(-1, NaN, EXIT_NONE)`` (the
      public API raises on these instead).
    * **Checked bars.**  ``entry_at == ENTRY_AT_CLOSE`` (vectorbt's
      convention: the entry fills at the close of its bar): bars ``e + 1 ..
      last``; ``ENTRY_AT_OPEN`` (filled at the open): bars ``e .. last``, the
      entry bar's high and low are checked too.  ``last = expiry`` if
      ``0 <= expiry < n`` (expiry is the last bar checked), else ``n - 1``.
    * **NaN bars.**  A bar with a NaN in any of its four prices is skipped
      entirely: it checks nothing and does not move a trailing stop (vectorbt
      instead fills a missing open/high/low from the close).
    * **Levels** (long; a short mirrors every inequality, ``1 - x`` <-> ``1 + x``,
      higher <-> lower):

      - fixed stop ``S = nmax(P * (1 - sl_stop), sl_price)`` (the higher, i.e.
        tighter, of the two given; NaN-ignoring, exactly ``_nmax``), where
        ``sl_stop`` is dropped (NaN) when ``sl_trail``;
      - target ``T = nmin(P * (1 + tp_stop), tp_price)`` (the nearer);
      - trailing fraction ``f = tsl_stop``, or with ``sl_trail``
        ``f = nmin(tsl_stop, sl_stop)`` (vectorbt's ``sl_trail=True`` makes
        ``sl_stop`` itself trail; with both, the tighter fraction);
      - trailing level on a bar ``peak * (1 - f)``, where ``peak`` starts at
        ``P`` and, **after** each checked usable bar that did not exit, becomes
        ``high`` if ``high > peak``.  So a bar is checked against the best high
        through the previous bar (the entry bar's high counts only with
        ``ENTRY_AT_OPEN``, after its own check; the open never moves it) --
        vectorbt's rule.  A NaN ``P`` gives NaN levels (never reached).
      - the stop on a bar is the trailing level if it is strictly higher than
        ``S`` (or ``S`` is absent): reason ``EXIT_TSL``; otherwise ``S``:
        reason ``EXIT_SL``.
    * **Reached.**  The stop when ``low <= stop``, the target when
      ``high >= T`` (a NaN level never is).
    * **Prices, gaps.**  A stop exit is at ``open if open < stop else stop``
      and a target exit at ``open if open > T else T``: a bar that opens
      beyond a level exits at the open.
    * **Same bar** (both reached on one bar; ``same_bar``):

      - ``SAME_BAR_STOP`` (default, pessimistic): the stop.  This is
        vectorbt's rule (it checks the stop loss first, even when the bar
        opened beyond the target) and backtesting.py's (it places the stop
        order before the take-profit order, so an ambiguous bar hits the stop);
      - ``SAME_BAR_TAKE`` (optimistic): the target, even on a gap through the stop;
      - ``SAME_BAR_OPEN``: the level nearer the bar's open is taken as hit
        first: the stop iff ``open - stop <= T - open`` (ties: the stop), which
        also resolves gaps (an open beyond a level is nearest to it).
    * **Slippage.**  Stop and target exits (``EXIT_SL``, ``EXIT_TSL``,
      ``EXIT_TP``) are moved against the trader: ``price * (1 - slippage)``
      for a long, ``price * (1 + slippage)`` for a short.
    * **Expiry.**  With ``0 <= expiry < n`` and no exit on bars up to
      ``expiry``: ``(expiry, close[expiry], EXIT_EXPIRY)`` (no slippage; the
      close may be NaN on a NaN bar).  ``expiry == -1`` or ``>= n``: a position
      never reached stays open: ``(-1, NaN, EXIT_NONE)``.
    """
    n = len(open)
    assert len(high) == n and len(low) == n and len(close) == n
    e = entry_idx
    if not (0 <= e < n) or side not in (1, -1) or (expiry != -1 and expiry < e):
        return -1, _NAN, EXIT_NONE
    has_expiry = expiry != -1 and expiry < n
    last = expiry if has_expiry else n - 1
    first = e if entry_at == ENTRY_AT_OPEN else e + 1
    lng = side == 1
    P = entry_price
    sl_frac = _NAN if sl_trail else sl_stop
    if lng:
        fixed = _nmax(P * (1.0 - sl_frac), sl_price)
        target = _nmin(P * (1.0 + tp_stop), tp_price)
    else:
        fixed = _nmin(P * (1.0 + sl_frac), sl_price)
        target = _nmax(P * (1.0 - tp_stop), tp_price)
    f = _nmin(tsl_stop, sl_stop) if sl_trail else tsl_stop
    fac = 1.0 - f if lng else 1.0 + f
    ref = P  # peak (long) / trough (short) through the previous checked bar
    for i in range(first, last + 1):
        o, h, lo, c = open[i], high[i], low[i], close[i]
        if o != o or h != h or lo != lo or c != c:
            continue
        t = ref * fac
        trailing = t == t and (fixed != fixed or (t > fixed if lng else t < fixed))
        stop = t if trailing else fixed
        hs = lo <= stop if lng else h >= stop
        ht = h >= target if lng else lo <= target
        if hs or ht:
            take_stop = hs
            if hs and ht:
                if same_bar == SAME_BAR_TAKE:
                    take_stop = False
                elif same_bar == SAME_BAR_OPEN:
                    take_stop = (o - stop) <= (target - o) if lng else (stop - o) <= (o - target)
            if take_stop:
                px = (o if o < stop else stop) if lng else (o if o > stop else stop)
                why = EXIT_TSL if trailing else EXIT_SL
            else:
                px = (o if o > target else target) if lng else (o if o < target else target)
                why = EXIT_TP
            px = px * (1.0 - slippage) if lng else px * (1.0 + slippage)
            return i, px, why
        if lng:
            if h > ref:
                ref = h
        elif lo < ref:
            ref = lo
    if has_expiry:
        return last, close[last], EXIT_EXPIRY
    return -1, _NAN, EXIT_NONE


def exit_orders(
    open: Sequence[float],
    high: Sequence[float],
    low: Sequence[float],
    close: Sequence[float],
    *orders: Sequence,
) -> Tuple[List[int], List[float], List[int]]:
    """:func:`exit_order` for each position: the 13 order fields (``entry_idx``
    .. ``slippage``) are equal-length sequences (already broadcast); returns
    ``(exit_indices, exit_prices, reasons)``."""
    idx: List[int] = []
    px: List[float] = []
    why: List[int] = []
    for order in zip(*orders):
        i, p, r = exit_order(open, high, low, close, *order)
        idx.append(i)
        px.append(p)
        why.append(r)
    return idx, px, why


def trades_from_signals(
    open: Sequence[float],
    high: Sequence[float],
    low: Sequence[float],
    close: Sequence[float],
    entries: Sequence[bool],
    exits: Sequence[bool],
    side: int,
    sl_stop: float,
    tsl_stop: float,
    tp_stop: float,
    sl_trail: int,
    same_bar: int,
    slippage: float,
    reenter: int,
    price_at: int = ENTRY_AT_CLOSE,
) -> Tuple[List[int], List[float], List[int]]:
    """A signal backtest of one bar series: per bar, the exit ``(exit_idx, exit_price, reason)``
    of the trade entered on that bar, ``(-1, NaN, EXIT_NONE)`` on bars where none enters.

    ``price_at == ENTRY_AT_CLOSE`` (``price="close"``, vectorbt's default) acts on a
    signal at the close of its bar; ``ENTRY_AT_OPEN`` (``price="open"``) at the open of
    the **next** bar (the signal is known at the close; vectorbt's equivalent is
    ``from_signals(entries.shift(1), exits.shift(1), price=open)``).  The rules below are
    for the close; at the open they change as stated in the **At the open** item.

    * **Conflicts.**  A bar with both an entry and an exit signal has
      neither (vectorbt's default ``conflict_mode="ignore"``).  ``entries`` /
      ``exits``: truthy values are signals.
    * **One position at a time.**  Scanning from bar 0, the next bar ``e``
      with an entry signal and a non-NaN close opens a trade (side ``side``)
      at ``close[e]`` moved against the trader by the slippage
      (``close * (1 + slippage)`` for a long, ``1 - slippage`` for a short):
      the entry price ``P``.  Entry signals while in the position are ignored.
    * **Exit.**  The first of: the stops of :func:`exit_order` (``P``,
      ``sl_stop``, ``tsl_stop``, ``tp_stop``, ``sl_trail``, ``same_bar``,
      ``entry_at = ENTRY_AT_CLOSE``, ``slippage``; no absolute levels) checked
      on bars ``e + 1 ..``, and the first exit signal ``x > e``, where the stops
      are checked on bar ``x`` first (vectorbt: a stop comes before a signal):
      a signal exit is ``(x, close[x]`` moved against the trader by the
      slippage, ``EXIT_SIGNAL)``.  A position never closed is reported as
      ``(n - 1, close[n - 1], EXIT_END)`` (no slippage: marked, not traded).
    * **Next trade.**  Entry signals on the exit bar are ignored (vectorbt);
      with ``reenter`` (backtesting.py's behaviour) an entry signal on the exit
      bar opens the next trade at that bar's close.  A trade still open at the
      end (``EXIT_END``) has no next trade: an entry signal on the last bar does
      not open a second one there, with ``reenter`` either.
    * **At the open** (``price_at == ENTRY_AT_OPEN``).  An entry signal on bar ``s``
      (none on the last bar: there is no next bar) opens the trade on bar ``e = s + 1``
      at ``open[e]`` (moved by the slippage as above; no entry when ``open[e]`` is NaN:
      the scan goes on from ``s + 1``).  The stops are those of :func:`exit_order` with
      ``entry_at = ENTRY_AT_OPEN``: bar ``e``'s own high and low are checked (the
      position is open from its open), and its high moves a trailing stop after the
      check.  The first exit signal ``x >= e`` with ``x < n - 1`` closes the trade at the
      next open: the stops are checked through bar ``x``, then ``(x + 1, open[x + 1]``
      moved by the slippage, ``EXIT_SIGNAL)``.  An exit signal on the last bar acts on
      nothing.  The next trade comes from an entry signal on a bar ``>= exit_idx`` (its
      order acts at the following open, after the exit; ``reenter`` changes nothing).
    """
    n = len(open)
    idx: List[int] = [-1] * n
    px: List[float] = [_NAN] * n
    why: List[int] = [EXIT_NONE] * n
    if side not in (1, -1):
        return idx, px, why
    ent = [bool(entries[i]) and not bool(exits[i]) for i in range(n)]
    ext = [bool(exits[i]) and not bool(entries[i]) for i in range(n)]
    lng = side == 1
    at_open = price_at == ENTRY_AT_OPEN
    i = 0
    while i < n:
        if not at_open:
            if not ent[i] or close[i] != close[i]:
                i += 1
                continue
            sg = e = i
            P = close[e] * (1.0 + slippage) if lng else close[e] * (1.0 - slippage)
            x = next((j for j in range(e + 1, n) if ext[j]), n)
        else:
            if not ent[i] or i + 1 >= n or open[i + 1] != open[i + 1]:
                i += 1
                continue
            sg, e = i, i + 1
            P = open[e] * (1.0 + slippage) if lng else open[e] * (1.0 - slippage)
            x = next((j for j in range(e, n - 1) if ext[j]), n)
        xi, xp, xr = exit_order(
            open,
            high,
            low,
            close,
            e,
            P,
            side,
            sl_stop,
            tsl_stop,
            tp_stop,
            sl_trail,
            _NAN,
            _NAN,
            same_bar,
            ENTRY_AT_OPEN if at_open else ENTRY_AT_CLOSE,
            x if x < n else -1,
            slippage,
        )
        if xr == EXIT_EXPIRY:
            xi, xr = (x + 1 if at_open else x), EXIT_SIGNAL
            level = open[xi] if at_open else close[x]
            xp = level * (1.0 - slippage) if lng else level * (1.0 + slippage)
        elif xr == EXIT_NONE:
            xi, xp, xr = n - 1, close[n - 1], EXIT_END
        idx[e], px[e], why[e] = xi, xp, xr
        if xr == EXIT_END:
            break
        i = max(xi + (0 if (reenter or at_open) else 1), sg + 1)
    return idx, px, why
