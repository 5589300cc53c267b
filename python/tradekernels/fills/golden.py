"""Golden cases of the order fills: ``tests/golden/fills/fills.npz`` (written
only by ``python tools/make_golden.py``; ``--check`` tells whether it is stale).

The expected outputs come from the pure-Python naive scan
:func:`tradekernels.fills.reference.fill_orders`; the C code is never called
here.

Keys, in this fixed order: ``cases`` (1-d unicode), then for every case
``<case>__open, __high, __low, __close`` (float64 bars), ``__start, __side,
__kind`` (int64), ``__price, __limit`` (float64), ``__expiry`` (int64), the
orders as equal-length 1-d arrays, and the expected ``__fill_index`` (int64)
and ``__fill_price`` (float64).

Determinism: inputs use only :class:`random.Random` and basic IEEE
arithmetic; ``np.savez`` writes members with a fixed timestamp, so two runs
give byte-identical files (checked on every build).
"""

from __future__ import annotations

import io
import math
import random
from typing import Dict, List, Tuple

import numpy as np

NAN = math.nan
INF = math.inf
M, L, S, SL = 0, 1, 2, 3  # market, limit, stop, stop-limit

Bars = Tuple[List[float], List[float], List[float], List[float]]
Order = Tuple[int, int, int, float, float, int]  # start, side, kind, price, limit, expiry


def _ohlc(
    seed: int, n: int, start: float = 100.0, vol: float = 0.01, grid: float = 0.25, gap_every: int = 0
) -> Bars:
    """A seeded OHLC random walk on a price grid (exact touches are common)."""
    rng = random.Random(seed)
    o, h, lo, c = [], [], [], []
    prev = start
    for i in range(n):
        op = prev
        if gap_every and i % gap_every == gap_every - 1:
            op = prev * (1.0 + (rng.random() - 0.5) * 8.0 * vol)
        z = sum(rng.random() for _ in range(12)) - 6.0
        cl = op * (1.0 + vol * z)
        hi = max(op, cl) * (1.0 + vol * rng.random())
        lw = min(op, cl) * (1.0 - vol * rng.random())
        r = [float(round(v / grid) * grid) for v in (op, hi, lw, cl)]
        r[1] = max(r)
        r[2] = min(r)
        o.append(r[0]), h.append(r[1]), lo.append(r[2]), c.append(r[3])
        prev = cl
    return o, h, lo, c


def _all_kinds(start: int, price: float, limit: float, expiry: int = -1) -> List[Order]:
    return [(start, side, kind, price, limit, expiry) for side in (1, -1) for kind in (M, L, S, SL)]


def _random_orders(seed: int, bars: Bars, count: int, grid: float = 0.25) -> List[Order]:
    """Orders priced at bar prices +- a few grid steps (touches and near misses)."""
    rng = random.Random(seed)
    o, h, lo, c = bars
    n = len(o)
    orders = []
    for _ in range(count):
        start = rng.randrange(-2, n + 2)
        ref = [v for v in (o[min(max(start, 0), n - 1)],) if v == v] or [100.0]
        price = ref[0] + grid * rng.randrange(-40, 41)
        limit = price + grid * rng.randrange(-8, 9)
        r = rng.random()
        expiry = (
            -1
            if r < 0.5
            else (start + rng.randrange(-2, max(3, n // 3)) if r < 0.95 else rng.randrange(-3, 0))
        )
        orders.append((start, rng.choice((1, -1)), rng.randrange(4), price, limit, expiry))
    return orders


def build_cases() -> Dict[str, Tuple[Bars, List[Order]]]:
    c: Dict[str, Tuple[Bars, List[Order]]] = {}

    # Gap opens: bar 1 opens below the buy limit / above the buy stop.
    bars = (
        [100.0, 95.0, 97.0, 103.0],
        [101.0, 96.0, 99.0, 106.0],
        [99.0, 94.0, 96.0, 102.0],
        [100.0, 95.5, 98.0, 105.0],
    )
    c["gap_open"] = (
        bars,
        [
            (0, 1, L, 98.0, NAN, -1),  # gap down through the buy limit: open 95
            (0, -1, S, 98.0, NAN, -1),  # gap down through the sell stop: open 95
            (2, 1, S, 100.0, NAN, -1),  # gap up through the buy stop: open 103
            (2, -1, L, 100.0, NAN, -1),  # gap up through the sell limit: open 103
            (0, 1, SL, 96.5, 97.5, -1),  # stop-limit triggered on a gap-up open above the limit
            (1, 1, SL, 96.5, 97.5, -1),  # trigger at the stop, limit satisfied on the trigger bar
            (0, -1, SL, 98.0, 96.0, -1),  # sell stop gaps to 95 < limit 96: waits for high >= 96
        ],
    )

    # Exact touches: low == limit, high == stop, both directions.
    bars = (
        [10.0, 10.0, 10.0, 10.0],
        [10.5, 11.0, 10.5, 12.0],
        [9.5, 9.0, 9.5, 8.0],
        [10.0, 10.0, 10.0, 10.0],
    )
    c["touch_exact"] = (
        bars,
        [
            (0, 1, L, 9.0, NAN, -1),
            (0, -1, L, 11.0, NAN, -1),
            (0, 1, S, 11.0, NAN, -1),
            (0, -1, S, 9.0, NAN, -1),
            (0, 1, L, 10.0, NAN, -1),
            (0, -1, L, 10.0, NAN, -1),  # limit at the open
            (0, 1, L, 8.0, NAN, -1),
            (0, -1, S, 8.0, NAN, -1),  # touched on the last bar
            (0, 1, SL, 11.0, 11.0, -1),
            (0, -1, SL, 9.0, 9.0, -1),
            (0, 1, SL, 10.5, 10.0, -1),  # trigger 10.5 > limit 10 -> later bar with low <= 10
        ],
    )

    # Never fills: prices out of reach, NaN prices, no fillable bar.
    bars = _ohlc(3, 40, grid=0.25)
    hi, lo = max(bars[1]), min(bars[2])
    c["never_fill"] = (
        bars,
        [
            (0, 1, L, lo - 1.0, NAN, -1),
            (0, -1, L, hi + 1.0, NAN, -1),
            (0, 1, S, hi + 1.0, NAN, -1),
            (0, -1, S, lo - 1.0, NAN, -1),
            (0, 1, L, NAN, NAN, -1),
            (0, 1, S, NAN, NAN, -1),
            (0, 1, SL, hi + 1.0, hi + 2.0, -1),
            (0, 1, SL, NAN, 100.0, -1),
            (0, 1, SL, bars[0][5], NAN, -1),  # triggers, NaN limit never fills
            (20, 1, L, -INF, NAN, -1),
            (20, -1, L, INF, NAN, -1),
        ],
    )

    # Expiry on the fill bar (fills) and one bar before it (never).
    bars = ([10.0] * 6, [10.5, 10.5, 10.5, 12.0, 10.5, 10.5], [9.5, 9.5, 9.5, 8.0, 9.5, 9.5], [10.0] * 6)
    c["expiry_on_fill_bar"] = (
        bars,
        [
            (0, 1, L, 8.5, NAN, 3),
            (0, 1, L, 8.5, NAN, 2),
            (0, -1, S, 8.5, NAN, 3),
            (0, -1, S, 8.5, NAN, 2),
            (0, 1, S, 11.0, NAN, 3),
            (0, -1, L, 11.0, NAN, 2),
            (3, 1, M, NAN, NAN, 3),
            (0, 1, SL, 11.0, 9.0, 3),
            (0, 1, SL, 11.0, 9.0, 4),  # trigger bar 3; limit fill needs a bar after
            (0, 1, L, 8.5, NAN, 99),  # expiry past the end
        ],
    )

    # NaN bars: a NaN in any price makes the bar unfillable (orders wait).
    nanb = _ohlc(5, 12, grid=0.25)
    o, h, lo, cl = (list(v) for v in nanb)
    for j, arr in enumerate((o, h, lo, cl)):
        arr[2 + 2 * j] = NAN
    lo[1] = min(x for x in lo if x == x) - 5.0  # a deep low on fillable bar 1
    h[2] = max(x for x in h if x == x) + 5.0  # a high spike on bar 2, which has a NaN open
    o[10] = o[11] = h[10] = h[11] = lo[10] = lo[11] = cl[10] = cl[11] = NAN  # all-NaN tail
    bars = (o, h, lo, cl)
    orders = []
    for s in range(12):
        orders += [(s, 1, M, NAN, NAN, -1), (s, 1, L, lo[1], NAN, -1), (s, -1, L, h[2], NAN, -1)]
    orders += _random_orders(55, bars, 40)
    c["nan_bars"] = (bars, orders)

    # Start at the last bar (and just outside).
    bars = _ohlc(7, 9, grid=0.25)
    n = 9
    last_o, last_h, last_l = bars[0][-1], bars[1][-1], bars[2][-1]
    orders = _all_kinds(n - 1, last_o, last_o)
    orders += [
        (n - 1, 1, L, last_l, NAN, -1),
        (n - 1, -1, L, last_h, NAN, -1),
        (n - 1, 1, S, last_h, NAN, n - 1),
        (n - 1, 1, L, last_l - 0.25, NAN, -1),
    ]
    orders += _all_kinds(n, last_o, last_o)
    c["start_last_bar"] = (bars, orders)

    # Out of range: start < 0, start >= n, expiry < start (but not -1).
    bars = _ohlc(9, 10, grid=0.25)
    p = bars[0][3]
    c["out_of_range"] = (
        bars,
        _all_kinds(-1, p, p)
        + _all_kinds(10, p, p)
        + _all_kinds(5, p, p, 4)
        + _all_kinds(5, p, p, -2)
        + _all_kinds(0, p, p, 10**12)
        + _all_kinds(0, p, p, 0),
    )

    # Empty bar series.
    c["no_bars"] = (([], [], [], []), _all_kinds(0, 100.0, 100.0))

    # Random walks: small, with gaps, and long enough for several super blocks.
    bars = _ohlc(11, 300, vol=0.01, grid=0.25, gap_every=17)
    c["random_300"] = (bars, _random_orders(12, bars, 300))
    long = _ohlc(13, 9000, vol=0.002, grid=0.05, gap_every=101)
    o, h, lo, cl = (list(v) for v in long)
    for i in list(range(4000, 4300)) + list(range(8190, 8200)):
        (o, h, lo, cl)[i % 4][i] = NAN
    long = (o, h, lo, cl)
    c["random_9000_blocks"] = (long, _random_orders(14, long, 150, grid=0.05))
    return c


def build_arrays() -> Dict[str, np.ndarray]:
    from . import reference

    cases = build_cases()
    arrays: Dict[str, np.ndarray] = {"cases": np.array(list(cases))}
    for name, (bars, orders) in cases.items():
        for key, v in zip(("open", "high", "low", "close"), bars):
            arrays[f"{name}__{key}"] = np.asarray(v, dtype=np.float64)
        cols = list(zip(*orders))
        for key, v, dt in zip(
            ("start", "side", "kind", "price", "limit", "expiry"),
            cols,
            (np.int64, np.int64, np.int64, np.float64, np.float64, np.int64),
        ):
            arrays[f"{name}__{key}"] = np.asarray(v, dtype=dt)
        fi, fp = reference.fill_orders(*bars, *cols)
        arrays[f"{name}__fill_index"] = np.asarray(fi, dtype=np.int64)
        arrays[f"{name}__fill_price"] = np.asarray(fp, dtype=np.float64)
    return arrays


def golden_bytes(arrays: Dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def files() -> Dict[str, bytes]:
    """``{path under tests/golden: file bytes}``."""
    data = golden_bytes(build_arrays())
    if golden_bytes(build_arrays()) != data:
        raise RuntimeError("fills golden data is not deterministic")
    return {"fills/fills.npz": data}
