"""Pure-Python reference twin of the order fills: the definition of their result.

``fill_order`` scans the bars one by one with plain loops; the C kernels
(the indexed search and the naive scan) must agree with it exactly.  The
order kinds are the C module's constants (``tradekernels._core.ORDER_KINDS``).
"""

from __future__ import annotations

import math
from typing import List, Sequence, Tuple

from .._core import FILL_BLOCK, FILL_SUPER, ORDER_KINDS

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

    A bar is fillable iff none of its four prices is NaN.  Returns
    ``fill_low, fill_high`` (low / high on fillable bars, NaN on the others),
    ``suffix_min_low, suffix_max_high`` (over bars ``[i, n)``), and the min low /
    max high of each block of ``FILL_BLOCK`` bars and of each super block of
    ``FILL_SUPER`` bars (``tradekernels._core`` constants); a range without a
    fillable bar gives NaN.  These only decide what the search may skip, so
    the fills equal the bar-by-bar scan :func:`fill_order` whatever they are.
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

    suffix_lo = [lo(fl[i:]) for i in range(n)]
    suffix_hi = [hi(fh[i:]) for i in range(n)]
    blocks = [(lo(fl[a : a + FILL_BLOCK]), hi(fh[a : a + FILL_BLOCK])) for a in range(0, n, FILL_BLOCK)]
    supers = [(lo(fl[a : a + FILL_SUPER]), hi(fh[a : a + FILL_SUPER])) for a in range(0, n, FILL_SUPER)]
    return (
        fl,
        fh,
        suffix_lo,
        suffix_hi,
        [b[0] for b in blocks],
        [b[1] for b in blocks],
        [s[0] for s in supers],
        [s[1] for s in supers],
    )
