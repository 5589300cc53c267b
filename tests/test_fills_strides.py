"""Fills kernels on hostile memory layouts, every argument, every SIMD path.

``bar_index``, ``fill_orders``, ``fill_orders_naive``, ``exit_orders``,
``exit_orders_naive`` and ``trades_from_signals`` get each argument as a zero-stride
(``np.broadcast_to``), negative-stride, strided and odd-stride (a field of a packed
structured array: unaligned, stride ``itemsize + 1``) view, on its core axis and on the
outer loop axis, and every output as such an ``out=``: the answers equal those of
contiguous copies of the same values on the same path.  The contiguous answers equal the
pure-Python twin, and the public functions (``BarIndex`` 1-D and 2-D, ``fill_orders``,
``exit_orders``, ``trades_from_signals``) with bars in every layout equal the twin
(``shadow`` backend).  No layout may crash the process.
"""

from __future__ import annotations

import numpy as np
import pytest
from hostile_layouts import LAYOUTS, call, check_ufunc_layouts, contiguous, layout, same_bits, views_of

import tradekernels as tk
from conftest import path_ufuncs
from tradekernels import ufuncs
from tradekernels.fills import reference

PATHS = ufuncs.available_paths()
N = 5000  # > 4096: two super blocks, 79 blocks


def _bars(n: int = N, seed: int = 2):
    rng = np.random.default_rng(seed)
    c = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.004, n))
    o = np.r_[100.0, c[:-1]]
    h = np.maximum(o, c) * (1.0 + 0.003 * rng.random(n))
    lo = np.minimum(o, c) * (1.0 - 0.003 * rng.random(n))
    bars = [np.round(v / 0.05) * 0.05 for v in (o, h, lo, c)]
    bars[1][100:130] = np.nan  # unfillable bars
    bars[2][3000:3004] = np.nan
    return bars


def _orders(bars, m: int = 48, seed: int = 4):
    rng = np.random.default_rng(seed)
    n = bars[0].size
    start = rng.integers(-1, n + 1, m)
    ref = bars[3][np.clip(start, 0, n - 1)]
    price = ref * (1.0 + rng.choice([-0.05, -0.01, -0.002, 0.002, 0.01, 0.05], m))
    limit = price * (1.0 + rng.choice([-0.01, 0.0, 0.01], m))
    expiry = np.where(rng.random(m) < 0.5, -1, start + rng.integers(0, 2000, m))
    return [
        start.astype(np.int64),
        rng.choice([-1, 1], m).astype(np.int64),
        rng.integers(0, 4, m).astype(np.int64),
        price,
        limit,
        expiry.astype(np.int64),
    ]


def _positions(bars, m: int = 48, seed: int = 5):
    rng = np.random.default_rng(seed)
    n = bars[0].size
    entry = rng.integers(0, n, m)

    def pick(vals):
        return np.asarray(vals)[rng.integers(0, len(vals), m)]

    return [
        entry.astype(np.int64),
        np.nan_to_num(bars[3][entry], nan=100.0),
        pick([-1, 1]).astype(np.int64),
        pick([np.nan, 0.01, 0.05]),
        pick([np.nan, 0.02]),
        pick([np.nan, 0.03, 0.1]),
        pick([0, 1]).astype(np.int64),
        np.full(m, np.nan),
        np.full(m, np.nan),
        pick([0, 1, 2]).astype(np.int64),
        pick([0, 1]).astype(np.int64),
        np.where(rng.random(m) < 0.5, -1, entry + rng.integers(0, 1500, m)).astype(np.int64),
        pick([0.0, 0.001]),
    ]


def _index(bars):
    return tk.BarIndex(*bars)


def _signals(n: int = N, seed: int = 6):
    rng = np.random.default_rng(seed)
    return rng.random(n) < 0.01, rng.random(n) < 0.01


TRADE_PARAMS = [
    np.int64(1),
    np.float64(0.02),
    np.float64(np.nan),
    np.float64(0.03),
    np.int64(0),
    np.int64(0),
    np.float64(0.001),
    np.int64(1),
    np.int64(0),  # price_at: the close
]


def _raw_args(name: str) -> list:
    bars = _bars()
    idx = _index(bars)
    a = list(idx.arrays)
    if name == "bar_index":
        return bars
    if name == "fill_orders":
        return a + _orders(bars)
    if name == "exit_orders":
        return [a[0], idx.close] + a[1:] + _positions(bars)
    if name == "trades_from_signals":
        ent, ext = _signals()
        return [a[0], idx.close] + a[1:] + [ent, ext] + TRADE_PARAMS
    raise AssertionError(name)


@pytest.mark.parametrize("name", ["bar_index", "fill_orders", "exit_orders", "trades_from_signals"])
def test_every_argument_in_every_layout_on_every_path(name):
    args = _raw_args(name)
    for path in PATHS:
        check_ufunc_layouts(path_ufuncs(path)[name], args, f"{name}[{path}]", rows=2)


@pytest.mark.parametrize("name", ["fill_orders_naive", "exit_orders_naive"])
def test_naive_every_argument_in_every_layout_on_every_path(name):
    """The naive scans take one order per call (scalar order fields): the layouts of the
    bars, and of the orders along the outer loop axis, for several orders."""
    bars = _bars(1500)
    fields = _orders(bars, 6) if name == "fill_orders_naive" else _positions(bars, 6)
    for j in range(6):
        args = list(bars) + [f[j] for f in fields]
        for path in PATHS:
            check_ufunc_layouts(path_ufuncs(path)[name], args, f"{name}[{path}] order {j}", rows=2)


def _fills_twin(bars, orders):
    fi, fp = reference.fill_orders(*(b.tolist() for b in bars), *(o.tolist() for o in orders))
    return np.asarray(fi, dtype=np.int64), np.asarray(fp, dtype=np.float64)


def test_contiguous_raw_answers_equal_the_twin():
    """The base of the layout comparisons: the contiguous raw answers are the twin's."""
    bars = _bars()
    orders = _orders(bars)
    want = _fills_twin(bars, orders)
    pos = _positions(bars)
    xi, xp, xr = reference.exit_orders(*(b.tolist() for b in bars), *(p.tolist() for p in pos))
    want_x = (np.asarray(xi, np.int64), np.asarray(xp), np.asarray(xr, np.int64))
    ent, ext = _signals()
    params = [p.item() for p in TRADE_PARAMS]
    want_t = tuple(
        np.asarray(r, dtype=d)
        for r, d in zip(
            reference.trades_from_signals(*(b.tolist() for b in bars), ent.tolist(), ext.tolist(), *params),
            (np.int64, np.float64, np.int64),
        )
    )
    for path in PATHS:
        u = path_ufuncs(path)
        for g, w in zip(call(u["fill_orders"], _raw_args("fill_orders")), want):
            assert same_bits(g, w), f"fill_orders[{path}]"
        for g, w in zip(call(u["exit_orders"], _raw_args("exit_orders")), want_x):
            assert same_bits(g, w), f"exit_orders[{path}]"
        for g, w in zip(call(u["trades_from_signals"], _raw_args("trades_from_signals")), want_t):
            assert same_bits(g, w), f"trades_from_signals[{path}]"


# --------------------------------------------------------------------------
# Public functions: bars and orders in every layout, against the twin
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", LAYOUTS)
def test_api_bars_in_every_layout_match_the_twin(name):
    bars = [layout(b, name) for b in _bars(1200)]
    orders = _orders([np.array(b) for b in bars], 40)
    pos = _positions([np.array(b) for b in bars], 30)
    idx = tk.BarIndex(*bars)
    ref_idx = tk.BarIndex(*contiguous(bars))
    for g, w in zip(idx.arrays + idx.bars, ref_idx.arrays + ref_idx.bars):
        assert same_bits(g, w)
    ent, ext = _signals(1200)
    with tk.backend("shadow"):  # native vs twin: ShadowMismatch on any difference
        for b in (idx, tuple(bars)):
            tk.fill_orders(b, *[layout(o, name) if name != "zero" else o for o in orders])
            tk.exit_orders(
                b,
                layout(pos[0], "negative"),
                side=layout(pos[2], "odd"),
                sl_stop=layout(pos[3], "strided"),
                tsl_stop=pos[4],
                tp_stop=layout(pos[5], "negative"),
                expiry=layout(np.full(30, -1, np.int64), "zero"),
            )
            tk.trades_from_signals(b, layout(ent, name), layout(ext, "negative"), sl_stop=0.02, tp_stop=0.03)


@pytest.mark.parametrize("name", LAYOUTS)
def test_api_2d_bar_index_in_every_layout_matches_the_twin(name):
    """2-D BarIndex (symbols x time) from bars in each layout on the time axis, and on
    the symbol axis (rows reversed / strided / broadcast)."""
    rows = [_bars(900, seed=s) for s in range(3)]
    bars2 = [np.stack([r[j] for r in rows]) for j in range(4)]
    for variant in (
        [layout(b, name) for b in bars2],
        [np.swapaxes(layout(np.swapaxes(b, 0, 1), name), 0, 1) for b in bars2],
    ):
        idx = tk.BarIndex(*variant)
        ref = tk.BarIndex(*contiguous(variant))
        for g, w in zip(idx.arrays + idx.bars, ref.arrays + ref.bars):
            assert same_bits(g, w)
        orders = _orders([np.array(b[0]) for b in variant], 30)
        col = np.arange(30) % 3
        ent, ext = _signals(900)
        with tk.backend("shadow"):
            tk.fill_orders(idx, *orders, col=col)
            tk.exit_orders(idx, orders[0].clip(0, 899), side=orders[1], sl_stop=0.01, tp_stop=0.02, col=col)
            tk.trades_from_signals(idx, np.stack([ent] * 3), np.stack([ext] * 3), sl_stop=0.02)


def test_bar_index_views_of_every_kind():
    """bar_index on each value-preserving view of each bar column equals the twin's summaries."""
    bars = _bars(700)
    twin = reference.bar_index(*(b.tolist() for b in bars))
    assert len(twin) == 12
    for j in range(4):
        for vname, v in views_of(bars[j]).items():
            b = list(bars)
            b[j] = v
            for path in PATHS:
                got = call(path_ufuncs(path)["bar_index"], b)
                for t, (g, w) in enumerate(zip(got, twin)):
                    assert same_bits(g, np.asarray(w, dtype=np.float64)), f"column {j} {vname} [{path}] {t}"


def test_block_counts_are_set_or_checked_per_kernel():
    """The one core-dims hook of the fills kernels: bar_index sets g = ceil(n/8),
    m = ceil(n/64) and k = ceil(n/4096) (or checks those of its out=); the search kernels
    check the summaries they are given; each error names its kernel."""
    for n in (0, 1, 8, 9, 64, 65, 4096, 4097):
        bars = [np.ones(n)] * 4
        res = ufuncs.bar_index(*bars)
        want = [-(-n // 8)] * 2 + [-(-n // 64)] * 4 + [-(-n // 4096)] * 2
        assert [r.shape[-1] for r in res[3:11]] == want
    bars = _bars(700)
    for g, m, k in ((88, 11, 2), (88, 10, 1), (87, 11, 1)):  # (right: 88, 11, 1)
        sizes = [g] * 2 + [m] * 4 + [k] * 2
        with pytest.raises(ValueError, match="^bar_index: for 700 bars"):
            ufuncs.bar_index(*bars, out=tuple(np.empty(s) for s in [700] * 3 + sizes + [700]))
    for name in ("fill_orders", "exit_orders", "trades_from_signals"):
        args = _raw_args(name)
        # (with n = 5000: g = 625, m = 79, k = 2; drop one group, one block, one super block)
        j0 = 3 if name == "fill_orders" else 4
        for j, width in ((j0, 2), (j0 + 2, 4), (j0 + 6, 2)):  # (blocks and suffixes share m)
            bad = list(args)
            for t in range(j, j + width):
                bad[t] = bad[t][:-1]
            with pytest.raises(ValueError, match=f"^{name}: for {N} bars the group, block and super-block"):
                ufuncs.for_path("scalar")[name](*bad)
