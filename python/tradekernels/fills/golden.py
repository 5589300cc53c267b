"""Golden cases of the order fills: ``tests/golden/fills/fills.npz``, of the
exits: ``tests/golden/fills/exits.npz`` (build_exit_cases; keys ``cases``, the
bars, the 13 position fields of ``EXIT_KEYS`` and ``__exit_idx``,
``__exit_price``, ``__reason``) and of the signal backtests:
``tests/golden/fills/trades.npz`` (build_trade_arrays) (all written
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

from . import reference

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
        z = 0.0
        for _ in range(12):  # left to right: sum() rounds differently since Python 3.12
            z += rng.random()
        z -= 6.0
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
    exits = golden_bytes(build_exit_arrays())
    if golden_bytes(build_exit_arrays()) != exits:
        raise RuntimeError("exits golden data is not deterministic")
    trades = golden_bytes(build_trade_arrays())
    if golden_bytes(build_trade_arrays()) != trades:
        raise RuntimeError("trades golden data is not deterministic")
    return {"fills/fills.npz": data, "fills/exits.npz": exits, "fills/trades.npz": trades}


# --------------------------------------------------------------------------
# Exits: tests/golden/fills/exits.npz (from reference.exit_orders)
# --------------------------------------------------------------------------

#: position fields, in the order of reference.exit_order / ufuncs.exit_orders (the twin's list)
EXIT_KEYS = reference.EXIT_FIELDS
_EXIT_INT = reference.EXIT_INT_FIELDS
STOP_, TAKE_, OPEN_ = 0, 1, 2  # same_bar (reference.SAME_BAR_*)
CLOSE_AT, OPEN_AT = 0, 1  # entry_at


def _pos(
    e: int,
    p: float,
    side: int = 1,
    sl: float = NAN,
    tsl: float = NAN,
    tp: float = NAN,
    trail: int = 0,
    sl_price: float = NAN,
    tp_price: float = NAN,
    same: int = STOP_,
    at: int = CLOSE_AT,
    expiry: int = -1,
    slip: float = 0.0,
) -> tuple:
    return (e, p, side, sl, tsl, tp, trail, sl_price, tp_price, same, at, expiry, slip)


def _every_policy(*args, **kw) -> List[tuple]:
    return [
        _pos(*args, **{**kw, "same": s, "at": a}) for s in (STOP_, TAKE_, OPEN_) for a in (CLOSE_AT, OPEN_AT)
    ]


def _random_positions(seed: int, bars: Bars, count: int) -> List[tuple]:
    rng = random.Random(seed)
    n = len(bars[0])
    out = []
    for _ in range(count):
        e = rng.randrange(n)
        p = bars[3][e] if bars[3][e] == bars[3][e] else 100.0

        def frac(p_none: float, choices: Tuple[float, ...]) -> float:
            return NAN if rng.random() < p_none else rng.choice(choices)

        r = rng.random()
        expiry = -1 if r < 0.6 else e + rng.randrange(0, max(2, n // 2))
        out.append(
            _pos(
                e,
                p,
                rng.choice((1, -1)),
                frac(0.3, (0.0, 0.002, 0.01, 0.03)),
                frac(0.5, (0.0, 0.003, 0.01, 0.05)),
                frac(0.3, (0.002, 0.01, 0.05)),
                int(rng.random() < 0.3),
                NAN if rng.random() < 0.85 else p * 0.97,
                NAN if rng.random() < 0.85 else p * 1.03,
                rng.randrange(3),
                rng.randrange(2),
                expiry,
                0.0 if rng.random() < 0.7 else 0.001,
            )
        )
    return out


def build_exit_cases() -> Dict[str, Tuple[Bars, List[tuple]]]:
    c: Dict[str, Tuple[Bars, List[tuple]]] = {}

    # Gaps: bar 1 opens below the long stop (exit at the open), bar 3 above the target.
    bars = (
        [100.0, 90.0, 100.0, 115.0],
        [101.0, 92.0, 101.0, 116.0],
        [99.0, 89.0, 99.0, 114.0],
        [100.0, 91.0, 100.0, 115.0],
    )
    c["exit_gaps"] = (
        bars,
        [
            _pos(0, 100.0, sl=0.05),  # long: gap through 95 -> open 90
            _pos(0, 100.0, -1, tp=0.05),  # short target 95 gapped through -> open 90
            _pos(2, 100.0, tp=0.10),  # long target 110 gapped -> open 115
            _pos(2, 100.0, -1, sl=0.10),  # short stop 110 gapped -> open 115
            _pos(0, 100.0, sl=0.05, slip=0.01),  # with slippage against the long
            _pos(2, 100.0, -1, sl=0.10, slip=0.01),  # and against the short
            _pos(0, 100.0, sl_price=95.0, tp_price=105.0),
        ],
    )

    # Same-bar ties: bar 1 reaches both 95 and 105; its open is nearer one or the other.
    bars = (
        [100.0, 104.0, 96.0, 100.0, 93.0, 107.0],
        [100.5, 106.0, 106.0, 100.5, 106.0, 108.0],
        [99.5, 94.0, 94.0, 99.5, 92.0, 94.0],
        [100.0, 100.0, 100.0, 100.0, 100.0, 100.0],
    )
    ties = []
    for e in (0, 1, 3, 4):
        ties += _every_policy(e, 100.0, sl=0.05, tp=0.05)
        ties += _every_policy(e, 100.0, -1, sl=0.05, tp=0.05)
        ties += _every_policy(e, 100.0, tsl=0.05, tp=0.05)
    ties += _every_policy(0, 100.0, sl=0.05, tp=0.05, slip=0.002)
    ties += [
        _pos(0, 100.0, sl=0.04, tp=0.04, same=OPEN_),  # open 104 == target: distance 0
        _pos(0, 100.0, sl_price=102.0, tp_price=106.0, same=OPEN_),  # open 104 halfway: the stop
        _pos(0, 100.0, -1, sl_price=106.0, tp_price=102.0, same=OPEN_),
    ]
    c["exit_same_bar"] = (bars, ties)

    # Exact touches: low == stop, high == target.
    bars = ([100.0, 100.0, 100.0], [101.0, 110.0, 101.0], [99.0, 95.0, 99.0], [100.0, 100.0, 100.0])
    c["exit_touch"] = (
        bars,
        [
            _pos(0, 100.0, sl=0.05),
            _pos(0, 100.0, tp=0.10),
            _pos(0, 100.0, -1, sl=0.10),
            _pos(0, 100.0, -1, tp=0.05),
            _pos(0, 100.0, sl=0.0),
            _pos(0, 100.0, tsl=0.0),
        ],
    )

    # NaN bars: skipped, they neither exit nor move the trailing stop.
    bars = (
        [100.0, 100.0, NAN, 100.0, 100.0, 100.0],
        [101.0, 101.0, 130.0, NAN, 101.0, 101.0],
        [99.0, 99.0, 80.0, 90.0, 99.0, 85.0],
        [100.0, 100.0, 100.0, 100.0, NAN, 100.0],
    )
    c["exit_nan_bars"] = (
        bars,
        _every_policy(0, 100.0, sl=0.1, tp=0.2)
        + _every_policy(0, 100.0, tsl=0.1)
        + [
            _pos(0, 100.0, sl=0.5, expiry=4),
            _pos(0, 100.0, sl=0.5, expiry=2),
            _pos(1, NAN, sl=0.05, tsl=0.05, tp=0.05),
            _pos(1, NAN, sl_price=90.0),
        ],
    )

    # Trailing timing: the stop uses the peak through the previous bar; the bar's own high moves it after.
    bars = (
        [100.0, 101.0, 108.0, 106.0, 100.0],
        [101.0, 110.0, 109.0, 107.0, 101.0],
        [99.0, 100.0, 104.0, 103.5, 90.0],
        [100.0, 108.0, 106.0, 104.0, 95.0],
    )
    c["exit_trailing"] = (
        bars,
        _every_policy(0, 100.0, tsl=0.05)
        + _every_policy(0, 100.0, sl=0.05, trail=1)
        + [
            _pos(0, 100.0, sl=0.02, tsl=0.05),
            _pos(0, 100.0, sl=0.10, tsl=0.05, trail=1),
            _pos(0, 100.0, sl_price=99.5, tsl=0.05),
            _pos(0, 100.0, -1, tsl=0.05),
            _pos(0, 100.0, tsl=0.06, tp=0.09),
            _pos(0, 100.0, tsl=2.0),
        ],
    )

    # Trailing stops across block (64) and super-block (4096) boundaries: slow trends
    # with pullbacks near the boundaries.
    n = 9000
    o, h, lo, cl = [], [], [], []
    for i in range(n):
        base = 100.0 + 0.002 * i
        dip = 3.0 if i in (63, 64, 4095, 4096, 4160, 8191, 8192) else 0.0
        o.append(base), h.append(base + 0.5), lo.append(base - 0.5 - dip), cl.append(base)
    for i in (4100, 4101, 8000):
        o[i] = NAN
    h[2000] = 125.0  # a peak inside super block 0 that no later bar exceeds: a skipped super
    lo[8600] = 0.4 * cl[8600]  # block must carry it; one deep spike: far trailing stops exit here
    bars = (o, h, lo, cl)
    pos = []
    for e in (0, 1, 62, 63, 100, 4000, 4094, 4095, 4097, 8100, 8190, n - 1):
        for t in (0.02, 0.03, 0.05, 0.2, 0.5):
            pos.append(_pos(e, cl[e], tsl=t))
            pos.append(_pos(e, cl[e], sl=t, trail=1, tp=0.6, at=OPEN_AT))
        pos.append(_pos(e, cl[e], -1, tsl=0.05))
        pos.append(_pos(e, cl[e], tsl=0.05, expiry=min(e + 70, n - 1)))
    c["exit_trailing_blocks"] = (bars, pos)

    # Entries at the last bar, expiry on the entry bar and past the end.
    bars = _ohlc(21, 8, grid=0.25)
    last = 7
    p = bars[3][last]
    c["exit_last_bar"] = (
        bars,
        _every_policy(last, p, sl=0.0, tp=0.0)
        + [
            _pos(last, p, sl=0.01, expiry=last),
            _pos(last, p, sl=0.01, expiry=last + 5),
            _pos(last, bars[0][last], sl_price=bars[2][last], at=OPEN_AT),
            _pos(6, bars[3][6], sl=0.0, tp=0.0),
            _pos(last, p, tsl=0.0, at=OPEN_AT, expiry=last),
        ],
    )

    # Expiry: exits at the close of the expiry bar unless stopped on or before it.
    bars = (
        [100.0] * 6,
        [101.0, 101.0, 101.0, 106.0, 101.0, 101.0],
        [99.0, 99.0, 99.0, 94.0, 99.0, 99.0],
        [100.0, 100.5, 101.0, 100.0, 99.5, 100.0],
    )
    c["exit_expiry"] = (
        bars,
        [_pos(0, 100.0, sl=0.05, expiry=x) for x in (0, 1, 2, 3, 4, 5, 6, 10**12)]
        + [
            _pos(0, 100.0, tp=0.05, expiry=2, at=OPEN_AT),
            _pos(3, 100.0, sl=0.05, expiry=3),
            _pos(3, 100.0, sl=0.05, expiry=3, at=OPEN_AT),
            _pos(1, 100.0, expiry=4),
        ],
    )

    # Random walks: small, with gaps, and over several super blocks with NaN runs.
    bars = _ohlc(23, 400, vol=0.01, grid=0.25, gap_every=13)
    c["exit_random_400"] = (bars, _random_positions(24, bars, 400))
    long = _ohlc(25, 9000, vol=0.002, grid=0.05, gap_every=97)
    o, h, lo, cl = (list(v) for v in long)
    for i in list(range(4090, 4200)) + list(range(6000, 6004)):
        (o, h, lo, cl)[i % 4][i] = NAN
    long = (o, h, lo, cl)
    c["exit_random_9000_blocks"] = (long, _random_positions(26, long, 200))
    return c


def build_exit_arrays() -> Dict[str, np.ndarray]:
    cases = build_exit_cases()
    arrays: Dict[str, np.ndarray] = {"cases": np.array(list(cases))}
    for name, (bars, pos) in cases.items():
        for key, v in zip(("open", "high", "low", "close"), bars):
            arrays[f"{name}__{key}"] = np.asarray(v, dtype=np.float64)
        cols = list(zip(*pos))
        for key, v in zip(EXIT_KEYS, cols):
            arrays[f"{name}__{key}"] = np.asarray(v, dtype=np.int64 if key in _EXIT_INT else np.float64)
        xi, xp, xr = reference.exit_orders(*bars, *cols)
        arrays[f"{name}__exit_idx"] = np.asarray(xi, dtype=np.int64)
        arrays[f"{name}__exit_price"] = np.asarray(xp, dtype=np.float64)
        arrays[f"{name}__reason"] = np.asarray(xr, dtype=np.int64)
    return arrays


# --------------------------------------------------------------------------
# Signal backtests: tests/golden/fills/trades.npz (from reference.trades_from_signals)
# --------------------------------------------------------------------------

#: the scalar parameters of reference.trades_from_signals after the signals, in its order
TRADE_PARAMS = (
    "side",
    "sl_stop",
    "tsl_stop",
    "tp_stop",
    "sl_trail",
    "same_bar",
    "slippage",
    "reenter",
    "price_at",
)
_TRADE_INT = {"side", "sl_trail", "same_bar", "reenter", "price_at"}
#: one case: bars (rows of (open, high, low, close) lists: 1 row for 1-D bars), entries,
#: exits (rows of 0/1 lists), the parameters, and whether the bars are 2-D
TradeCase = Tuple[List[Bars], List[List[int]], List[List[int]], tuple, bool]


def _tparams(
    side: int = 1,
    sl: float = NAN,
    tsl: float = NAN,
    tp: float = NAN,
    trail: int = 0,
    same: int = STOP_,
    slip: float = 0.0,
    reenter: int = 0,
    at: int = CLOSE_AT,
) -> tuple:
    return (side, sl, tsl, tp, trail, same, slip, reenter, at)


def _signals(seed: int, n: int, p: float) -> List[int]:
    rng = random.Random(seed)
    return [1 if rng.random() < p else 0 for _ in range(n)]


def build_trade_cases() -> Dict[str, TradeCase]:
    """Signal backtest cases: every rule of the twin's docstring (entries while in a position
    ignored, conflicting signals, exit signals after the stops, SL / TP / trailing, the
    end of the data, slippage, re-entry on the exit bar both ways, 2-D bars)."""
    c: Dict[str, TradeCase] = {}
    # flat at 100 except bar 3 (low 90) and bar 6 (high 120)
    o = [100.0] * 9
    h = [101.0, 101.0, 101.0, 101.0, 101.0, 101.0, 120.0, 101.0, 101.0]
    lo = [99.0, 99.0, 99.0, 90.0, 99.0, 99.0, 99.0, 99.0, 99.0]
    cl = [100.0] * 9
    hand = (o, h, lo, cl)
    ent = [1, 1, 0, 1, 0, 1, 0, 0, 1]
    ext = [0, 1, 0, 0, 0, 0, 0, 1, 1]
    none = [0] * 9
    c["trades_in_position_ignored"] = ([hand], [ent], [none], _tparams(tp=0.1), False)
    c["trades_exit_signals"] = ([hand], [ent], [ext], _tparams(sl=0.05), False)
    c["trades_stop_before_signal"] = (
        [hand],
        [[1, 0, 0, 0, 0, 0, 0, 0, 0]],
        [[0, 0, 0, 1, 0, 0, 0, 0, 0]],
        _tparams(sl=0.05),
        False,
    )
    c["trades_end"] = ([hand], [[0, 0, 0, 0, 1, 0, 0, 0, 0]], [none], _tparams(), False)
    # still open at the end, an entry signal on the last bar: no second trade there (reenter too)
    c["trades_end_reenter"] = ([hand], [[0, 0, 0, 0, 1, 0, 0, 0, 1]], [none], _tparams(reenter=1), False)
    c["trades_reenter_no"] = ([hand], [ent], [ext], _tparams(sl=0.05, reenter=0), False)
    c["trades_reenter_yes"] = ([hand], [ent], [ext], _tparams(sl=0.05, reenter=1), False)
    c["trades_short_slippage"] = ([hand], [ent], [ext], _tparams(side=-1, sl=0.15, tp=0.05, slip=0.01), False)
    walk = _ohlc(41, 600, vol=0.01, grid=0.25, gap_every=17)
    e600, x600 = _signals(42, 600, 0.08), _signals(43, 600, 0.03)
    c["trades_sl_tp"] = ([walk], [e600], [x600], _tparams(sl=0.03, tp=0.05), False)
    c["trades_trailing"] = ([walk], [e600], [x600], _tparams(tsl=0.02, tp=0.08), False)
    c["trades_sl_trail"] = ([walk], [e600], [x600], _tparams(sl=0.02, trail=1, same=OPEN_), False)
    c["trades_same_bar_take"] = ([walk], [e600], [x600], _tparams(sl=0.01, tp=0.01, same=TAKE_), False)
    c["trades_slippage_reenter"] = (
        [walk],
        [e600],
        [x600],
        _tparams(sl=0.03, tp=0.05, slip=0.002, reenter=1),
        False,
    )
    # price="open": orders at the next bar's open (entry bar's range checked; exit signal
    # on the last bar acts on nothing; entries from the exit bar on)
    last_x = [0, 0, 0, 0, 0, 0, 0, 0, 1]
    c["trades_open_exit_signals"] = ([hand], [ent], [ext], _tparams(sl=0.05, at=OPEN_AT), False)
    c["trades_open_tp_last_bar_signal"] = ([hand], [ent], [last_x], _tparams(tp=0.1, at=OPEN_AT), False)
    c["trades_open_entry_bar_stop"] = (
        [hand],
        [[0, 0, 1, 0, 0, 0, 0, 0, 0]],
        [none],
        _tparams(sl=0.05, at=OPEN_AT),
        False,
    )
    c["trades_open_walk"] = (
        [walk],
        [e600],
        [x600],
        _tparams(sl=0.03, tsl=0.02, tp=0.05, same=OPEN_, slip=0.001, at=OPEN_AT),
        False,
    )
    c["trades_open_short_reenter"] = (
        [walk],
        [e600],
        [x600],
        _tparams(side=-1, sl=0.03, tp=0.04, reenter=1, at=OPEN_AT),
        False,
    )
    # NaN bars (no entry at a NaN close; NaN bars check nothing) over block boundaries
    o2, h2, l2, c2 = (list(v) for v in _ohlc(44, 5000, vol=0.004, grid=0.05, gap_every=101))
    for i in list(range(60, 70)) + list(range(4090, 4100)) + [128, 129, 4999]:
        (o2, h2, l2, c2)[i % 4][i] = NAN
    c2[200] = NAN
    o2[201] = NAN  # (price="open": the signal on bar 200 finds no open to enter at)
    nanw = (o2, h2, l2, c2)
    e5k = _signals(45, 5000, 0.02)
    e5k[200] = 1
    x5k = _signals(46, 5000, 0.002)
    c["trades_nan_bars_blocks"] = ([nanw], [e5k], [x5k], _tparams(tsl=0.03), False)
    c["trades_open_nan_bars_blocks"] = ([nanw], [e5k], [x5k], _tparams(tsl=0.03, at=OPEN_AT), False)
    # 2-D: three bar series, their own signals
    rows = [_ohlc(50 + r, 300, vol=0.01, grid=0.25, gap_every=11) for r in range(3)]
    c["trades_2d"] = (
        rows,
        [_signals(60 + r, 300, 0.1) for r in range(3)],
        [_signals(70 + r, 300, 0.04) for r in range(3)],
        _tparams(sl=0.04, tp=0.06, slip=0.001),
        True,
    )
    c["trades_open_2d"] = (
        c["trades_2d"][0],
        c["trades_2d"][1],
        c["trades_2d"][2],
        _tparams(tsl=0.03, at=OPEN_AT),
        True,
    )
    return c


def build_trade_arrays() -> Dict[str, np.ndarray]:
    """Keys: ``cases``, then per case ``<case>__open, __high, __low, __close`` (float64,
    1-D or (rows, n)), ``__entries, __exits`` (bool, the same shape), one key per
    :data:`TRADE_PARAMS` name (0-d), and the expected per-bar ``__exit_idx`` (int64),
    ``__exit_price`` (float64), ``__reason`` (int64) of the twin."""
    cases = build_trade_cases()
    arrays: Dict[str, np.ndarray] = {"cases": np.array(list(cases))}
    for name, (rows, ents, exts, params, two_d) in cases.items():
        outs: List[List[list]] = [[], [], []]
        for bars, en, ex in zip(rows, ents, exts):
            res = reference.trades_from_signals(*bars, en, ex, *params)
            for acc, r in zip(outs, res):
                acc.append(r)

        def shaped(v: list, dtype: type, two_d: bool = two_d) -> np.ndarray:
            a = np.asarray(v, dtype=dtype)
            return a if two_d else a[0]

        for j, key in enumerate(("open", "high", "low", "close")):
            arrays[f"{name}__{key}"] = shaped([b[j] for b in rows], np.float64)
        arrays[f"{name}__entries"] = shaped(ents, bool)
        arrays[f"{name}__exits"] = shaped(exts, bool)
        for key, v in zip(TRADE_PARAMS, params):
            arrays[f"{name}__{key}"] = np.asarray(v, dtype=np.int64 if key in _TRADE_INT else np.float64)
        arrays[f"{name}__exit_idx"] = shaped(outs[0], np.int64)
        arrays[f"{name}__exit_price"] = shaped(outs[1], np.float64)
        arrays[f"{name}__reason"] = shaped(outs[2], np.int64)
    return arrays
