"""Order fills: BarIndex + fill_orders (skipping C), fill_orders_naive (C scan)
and the pure-Python reference scan must agree exactly.

Golden cases come from tradekernels.fills.golden (python tools/make_golden.py) (tests/golden/fills/fills.npz).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tradekernels as tk
from conftest import GOLDEN_DIR, assert_bits_identical, npz_contents
from tradekernels import reference, ufuncs
from tradekernels.fills import BarIndex, OrderKind, fill_orders

GOLDEN = GOLDEN_DIR / "fills" / "fills.npz"
ORDER_KEYS = ("start", "side", "kind", "price", "limit", "expiry")
BAR_KEYS = ("open", "high", "low", "close")


def _load_golden():
    if not GOLDEN.is_file():
        pytest.fail(f"missing {GOLDEN}; run `python tools/make_golden.py`")
    with np.load(GOLDEN, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _golden_cases():
    if not GOLDEN.is_file():
        return ["<missing>"]
    with np.load(GOLDEN, allow_pickle=False) as z:
        return [str(c) for c in z["cases"]]


def _native(bars, orders, uf=None):
    """Skipping kernel via a BarIndex."""
    idx = BarIndex(*bars)
    uf = ufuncs.fill_orders if uf is None else uf
    return uf(*idx.arrays, *orders)


def _naive(bars, orders, uf=None):
    uf = ufuncs.fill_orders_naive if uf is None else uf
    return uf(*(np.asarray(b, dtype=np.float64) for b in bars), *orders)


def _reference(bars, orders):
    b = [np.asarray(v, dtype=np.float64).tolist() for v in bars]
    cols = [np.asarray(v).tolist() for v in orders]
    fi, fp = reference.fill_orders(*b, *cols)
    return np.asarray(fi, dtype=np.int64), np.asarray(fp, dtype=np.float64)


def _with_expiry_edges(bars, orders):
    """``orders`` plus, for each order the twin fills when good till cancelled, two copies
    expiring exactly on its fill bar (it fills there: the expiry bar is live) and on the
    bar before (it never fills); so an off-by-one in the expiry shows."""
    gtc = list(orders)
    gtc[5] = np.full_like(orders[5], -1)
    fi, _ = _reference(bars, gtc)
    hit = fi >= 0
    on = [a[hit] for a in gtc]
    on[5] = fi[hit]
    before = [a[hit] for a in gtc]
    before[5] = fi[hit] - 1
    before[5][before[5] == -1] = -2  # (-1 would mean "never expires")
    return [np.concatenate(parts) for parts in zip(orders, on, before)]


def _same(got, exp, what):
    assert_bits_identical(np.asarray(got[0]), np.asarray(exp[0]), what + " fill_index")
    a, e = np.asarray(got[1]), np.asarray(exp[1])
    assert a.dtype == e.dtype == np.float64 and a.shape == e.shape
    both_nan = np.isnan(a) & np.isnan(e)
    same = both_nan | (a.view(np.uint64) == e.view(np.uint64))
    if not same.all():
        i = int(np.argmin(same.ravel()))
        raise AssertionError(f"{what} fill_price differs at {i}: {a.ravel()[i]!r} vs {e.ravel()[i]!r}")


# --------------------------------------------------------------------------
# Golden files
# --------------------------------------------------------------------------


@pytest.mark.parametrize("case", _golden_cases())
def test_golden(case):
    g = _load_golden()
    bars = [g[f"{case}__{k}"] for k in BAR_KEYS]
    orders = [g[f"{case}__{k}"] for k in ORDER_KEYS]
    exp = (g[f"{case}__fill_index"], g[f"{case}__fill_price"])
    _same(_native(bars, orders), exp, f"{case} skip")
    for path in ufuncs.available_paths():
        u = ufuncs.for_path(path)
        _same(_native(bars, orders, u["fill_orders"]), exp, f"{case} skip[{path}]")
        _same(_naive(bars, orders, u["fill_orders_naive"]), exp, f"{case} naive[{path}]")
    # the public API (kind as names) gives the same
    names = np.array(["market", "limit", "stop", "stop_limit"])[orders[2]]
    side = orders[1]
    got = fill_orders(tuple(bars), orders[0], side, names, orders[3], orders[4], orders[5])
    _same(got, exp, f"{case} api")


def test_golden_required_cases():
    required = {
        "gap_open",
        "touch_exact",
        "never_fill",
        "expiry_on_fill_bar",
        "nan_bars",
        "start_last_bar",
        "out_of_range",
    }
    assert required <= set(_golden_cases())


def test_golden_file_is_up_to_date():
    """The generator (reference only) reproduces the arrays on disk bit for bit."""
    from tradekernels.fills import golden as fills_golden

    files = fills_golden.files()
    for name in ("fills", "exits"):
        got, want = (
            npz_contents(files[f"fills/{name}.npz"]),
            npz_contents(GOLDEN.parent.joinpath(f"{name}.npz")),
        )
        assert got == want, "run `python tools/make_golden.py`"


# --------------------------------------------------------------------------
# Random bars and orders: skipping C == naive C == reference
# --------------------------------------------------------------------------


def _ohlc_np(rng, n, vol=0.01, grid=0.25, nan_frac=0.0, nan_runs=0):
    r = rng.normal(0.0, vol, n)
    c = 100.0 * np.cumprod(1.0 + r)
    o = np.r_[100.0, c[:-1]] * (1.0 + rng.normal(0.0, vol / 4, n) * (rng.random(n) < 0.1))
    h = np.maximum(o, c) * (1.0 + vol * rng.random(n))
    lo = np.minimum(o, c) * (1.0 - vol * rng.random(n))
    bars = [np.round(v / grid) * grid for v in (o, h, lo, c)]
    if nan_frac:
        for b in bars:
            b[rng.random(n) < nan_frac / 4] = np.nan
    for _ in range(nan_runs):
        a = int(rng.integers(0, max(n, 1)))
        ln = int(rng.integers(1, 5000))
        bars[int(rng.integers(0, 4))][a : a + ln] = np.nan
    return bars


def _orders_np(rng, bars, m, grid=0.25, spread=40):
    o = bars[0]
    n = len(o)
    start = rng.integers(-2, n + 2, m)
    ref = o[np.clip(start, 0, max(n - 1, 0))] if n else np.full(m, 100.0)
    ref = np.where(np.isnan(ref), 100.0, ref)
    price = ref + grid * rng.integers(-spread, spread + 1, m)
    limit = price + grid * rng.integers(-8, 9, m)
    u = rng.random(m)
    expiry = np.where(
        u < 0.5, -1, np.where(u < 0.95, start + rng.integers(-2, max(3, n // 2), m), rng.integers(-3, 0, m))
    )
    side = rng.choice(np.array([-1, 1]), m)
    kind = rng.integers(0, 4, m)
    price[rng.random(m) < 0.02] = np.nan
    return [
        start.astype(np.int64),
        side.astype(np.int64),
        kind.astype(np.int64),
        price,
        limit,
        expiry.astype(np.int64),
    ]


@settings(max_examples=60)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 200),
    nan_frac=st.sampled_from([0.0, 0.05, 0.3, 1.0]),
    vol=st.sampled_from([0.002, 0.01, 0.05]),
)
def test_random_small_vs_reference(seed, n, nan_frac, vol):
    rng = np.random.default_rng(seed)
    bars = _ohlc_np(rng, n, vol=vol, nan_frac=nan_frac)
    orders = _orders_np(rng, bars, 40)
    exp = _reference(bars, orders)
    _same(_native(bars, orders), exp, "skip")
    _same(_naive(bars, orders), exp, "naive")


@settings(max_examples=10)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(4000, 13000), nan_runs=st.integers(0, 3))
def test_random_blocks_vs_reference(seed, n, nan_runs):
    """Long enough for several 64-bar blocks and 4096-bar super blocks."""
    rng = np.random.default_rng(seed)
    bars = _ohlc_np(rng, n, vol=0.003, grid=0.05, nan_runs=nan_runs)
    orders = _orders_np(rng, bars, 25, grid=0.05, spread=200)
    exp = _reference(bars, orders)
    _same(_native(bars, orders), exp, "skip")
    _same(_naive(bars, orders), exp, "naive")


def test_skip_vs_naive_1e5_orders():
    rng = np.random.default_rng(7)
    n = 30_000
    bars = _ohlc_np(rng, n, vol=0.002, grid=0.01, nan_frac=0.01, nan_runs=3)
    m = 100_000
    orders = _orders_np(rng, bars, m, grid=0.01, spread=1)
    # limit distances 0.1 % .. 20 % of the start price, both signs
    ref = np.where(
        np.isnan(bars[0][np.clip(orders[0], 0, n - 1)]), 100.0, bars[0][np.clip(orders[0], 0, n - 1)]
    )
    dist = rng.choice(np.array([0.001, 0.01, 0.05, 0.2]), m) * rng.choice(np.array([-1.0, 1.0]), m)
    orders[3] = ref * (1.0 + dist)
    orders[4] = orders[3] * (1.0 + rng.choice(np.array([-0.01, 0.0, 0.01]), m))
    got = _native(bars, orders)
    exp = _naive(bars, orders)
    _same(got, exp, "skip vs naive")
    assert 0.2 < np.mean(got[0] >= 0) < 0.98  # both fills and misses are exercised
    # The two C kernels share tk_fill_one (pricing, expiry): the oracle is the twin, on a
    # sample of the orders (every kind, side, fills and misses; the twin is pure Python)
    pick = np.random.default_rng(8).choice(m, 300, replace=False)
    sample = _with_expiry_edges(bars, [o[pick] for o in orders])
    exp = _reference(bars, sample)
    _same(_native(bars, sample), exp, "skip vs twin (sample)")
    _same(_naive(bars, sample), exp, "naive vs twin (sample)")


def test_strided_and_stacked_bars():
    """Non-contiguous, reversed and stacked (2-D) bars give the per-series answer."""
    rng = np.random.default_rng(3)
    n = 5000
    series = [_ohlc_np(rng, n, vol=0.004, grid=0.05, nan_runs=1) for _ in range(3)]
    orders = _with_expiry_edges(series[0], _orders_np(rng, series[0], 200, grid=0.05, spread=100))
    stacked = [np.stack([s[j] for s in series]) for j in range(4)]  # (3, n)
    idx = ufuncs.bar_index(*stacked)[:11]  # (the twelfth output, close, is not a search input)
    fi, fp = ufuncs.fill_orders(*idx, *orders)  # (3,) loop x (o,) core
    assert fi.shape == (3, orders[0].size) and orders[0].size > 300
    for k, s in enumerate(series):
        twin = _reference(s, orders)  # the oracle (the C kernels share tk_fill_one)
        _same((fi[k], fp[k]), twin, f"stack {k}")
        # strided views of a bigger buffer
        buf = np.full((4, 2 * n), np.nan)
        for j in range(4):
            buf[j, ::2] = s[j]
        views = [buf[j, ::2] for j in range(4)]
        _same(_naive(views, orders), twin, f"strided naive {k}")
        _same(ufuncs.fill_orders(*ufuncs.bar_index(*views)[:11], *orders), twin, "strided")
    # reversed (negative strides) bars are a different series: compare with its own twin
    rev = [b[::-1] for b in series[0]]
    twin = _reference([b.copy() for b in rev], orders)
    _same(ufuncs.fill_orders(*ufuncs.bar_index(*rev)[:11], *orders), twin, "reversed")
    _same(_naive(rev, orders), twin, "reversed naive")


def test_raw_orders_core_dimension():
    """Raw fill_orders: the orders are a 1-D core dimension (o); leading dims broadcast
    (stacked bar series, per-series order sets); order arrays of different lengths are a
    ValueError, never a read out of bounds."""
    rng = np.random.default_rng(11)
    n = 9000
    series = [_ohlc_np(rng, n, vol=0.004, grid=0.05, nan_runs=1) for _ in range(2)]
    stacked = [np.stack([s[j] for s in series]) for j in range(4)]  # (2, n)
    idx = ufuncs.bar_index(*stacked)[:11]
    per = [_orders_np(rng, s, 300, grid=0.05, spread=100) for s in series]
    orders2 = [np.stack([p[j] for p in per]) for j in range(6)]  # (2, 300): own orders per series
    fi, fp = ufuncs.fill_orders(*idx, *orders2)
    assert fi.shape == fp.shape == (2, 300) and fi.dtype == np.int64
    for k, s in enumerate(series):
        _same((fi[k], fp[k]), _reference(s, per[k]), f"series {k}")
        _same((fi[k], fp[k]), _native(s, per[k]), f"series {k} alone")
    # one order set broadcast over the two series, outputs given with out=
    oi, op = np.empty((2, 300), np.int64), np.empty((2, 300))
    ufuncs.fill_orders(*idx, *per[0], out=(oi, op))
    twin0 = _reference(series[0], per[0])
    for k, s in enumerate(series):
        _same((oi[k], op[k]), twin0 if k == 0 else _reference(s, per[0]), f"broadcast orders {k}")
    # non-contiguous order arrays and zero orders
    strided = [np.repeat(a, 2)[::2] for a in per[0]]
    _same(ufuncs.fill_orders(*BarIndex(*series[0]).arrays, *strided), twin0, "strided orders")
    z = ufuncs.fill_orders(*BarIndex(*series[0]).arrays, *(a[:0] for a in per[0]))
    assert z[0].shape == (0,)
    # order arrays of mismatched lengths
    a = BarIndex(*series[0]).arrays
    for j in range(6):
        bad = list(per[0])
        bad[j] = bad[j][:-1]
        with pytest.raises(ValueError):
            ufuncs.fill_orders(*a, *bad)
    with pytest.raises(ValueError):  # out of the wrong length
        ufuncs.fill_orders(*a, *per[0], out=(np.empty(299, np.int64), np.empty(299)))
    with pytest.raises(ValueError):  # scalar orders: the core dimension is missing
        ufuncs.fill_orders(*a, 0, 1, 1, 9.0, np.nan, -1)


def test_bar_index_summaries():
    rng = np.random.default_rng(5)
    n = 9000
    bars = _ohlc_np(rng, n, vol=0.003, nan_frac=0.05, nan_runs=2)
    ix = BarIndex(*bars)
    ok = ~np.isnan(np.stack(bars)).any(axis=0)
    fl = np.where(ok, bars[2], np.nan)
    fh = np.where(ok, bars[1], np.nan)
    assert_bits_identical(ix.fill_low, fl)
    assert_bits_identical(ix.fill_high, fh)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            sufmin = np.array([np.nanmin(fl[i:]) for i in range(0, n, 64)])
            sufmax = np.array([np.nanmax(fh[i:]) for i in range(0, n, 64)])
            grp = np.array([np.nanmax(fh[i : i + 8]) for i in range(0, n, 8)])
            blk = np.array([np.nanmin(fl[i : i + 64]) for i in range(0, n, 64)])
            sup = np.array([np.nanmax(fh[i : i + 4096]) for i in range(0, n, 4096)])
    np.testing.assert_array_equal(ix.suffix_min_low, sufmin)
    np.testing.assert_array_equal(ix.suffix_max_high, sufmax)
    np.testing.assert_array_equal(ix.group_max_high, grp)
    np.testing.assert_array_equal(ix.block_min_low, blk)
    np.testing.assert_array_equal(ix.super_max_high, sup)
    for name, size in (("group", 8), ("block", 64), ("suffix", 64), ("super", 4096)):
        assert getattr(ix, f"{name}_min_low").shape == (math.ceil(n / size),), name
    assert_bits_identical(ix.close, bars[3])
    assert ix.fill_low.ctypes.data % 64 == 0  # rows of 32 bytes from a cache line's start
    assert len(ix) == ix.n == n and not ix.open.flags.writeable


def test_raw_kernel_invalid_side_or_kind_never_fills():
    bars = [np.full(5, 10.0), np.full(5, 11.0), np.full(5, 9.0), np.full(5, 10.0)]
    orders = [
        np.zeros(4, np.int64),
        np.array([0, 2, 1, 1]),
        np.array([0, 0, 4, -1]),
        np.full(4, 10.0),
        np.full(4, 10.0),
        np.full(4, -1),
    ]
    for fi, fp in (_native(bars, orders), _naive(bars, orders), _reference(bars, orders)):
        assert (np.asarray(fi) == -1).all() and np.isnan(fp).all()


# --------------------------------------------------------------------------
# The public API
# --------------------------------------------------------------------------

BARS = ([10.0, 10.0, 10.0, 10.0], [10.5, 11.0, 10.5, 12.0], [9.5, 9.0, 9.5, 8.0], [10.0, 10.0, 10.0, 10.0])


def test_api_kinds_broadcast_and_scalars():
    ix = BarIndex(*BARS)
    r = fill_orders(ix, 0, 1, "limit", 9.0)
    assert isinstance(r, tk.Fills) and r.fill_index == 1 and r.fill_price == 9.0
    assert np.ndim(r.fill_index) == 0
    a = fill_orders(ix, [[0], [2]], [1, -1], ["limit", OrderKind.STOP], [9.0, 9.0], expiry=-1)
    assert a.fill_index.shape == (2, 2) and a.fill_index.dtype == np.int64
    assert a.fill_index.tolist() == [[1, 1], [3, 3]]
    b = fill_orders(ix, np.array([[0], [2]]), np.array([1, -1]), np.array([1, 2]), np.array([9.0, 9.0]))
    _same(b, a, "ints vs names")
    c = fill_orders(ix, [[0], [2]], [1, -1], np.array(["LIMIT", "stop"]), 9.0)
    _same(c, a, "case-insensitive names")
    m = fill_orders(BARS, 1, -1, OrderKind.MARKET, np.nan)
    assert (m.fill_index, m.fill_price) == (1, 10.0)
    sl = fill_orders(ix, 0, 1, "stop_limit", 10.5, limit=10.0)
    assert (sl.fill_index, sl.fill_price) == (1, 10.0)
    never = fill_orders(ix, [4, -1, 2], 1, "market", 0.0, expiry=[-1, -1, 1])
    assert never.fill_index.tolist() == [-1, -1, -1] and np.isnan(never.fill_price).all()


def test_api_dataframe_and_backends():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(dict(zip(BAR_KEYS, BARS)))
    rng = np.random.default_rng(1)
    start = rng.integers(0, 4, 50)
    side = rng.choice([-1, 1], 50)
    kind = rng.integers(0, 4, 50)
    price = 9.0 + 0.5 * rng.integers(0, 7, 50)
    native = fill_orders(df, start, side, kind, price, limit=price + 0.5)
    for be in ("reference", "shadow"):
        with tk.backend(be):
            _same(fill_orders(df, start, side, kind, price, limit=price + 0.5), native, be)
    with tk.backend("reference"):
        r = fill_orders(df, 0, 1, "limit", 9.0)
        assert np.ndim(r.fill_index) == 0 and r.fill_index == 1


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(kind="foo"), ValueError, "unknown order kind 'foo'"),
        (dict(kind=7), ValueError, "unknown order kind 7"),
        (dict(kind=["limit", "bogus"]), ValueError, "unknown order kind 'bogus'"),
        (dict(kind=1.5), TypeError, "kind"),
        (dict(side=0), ValueError, r"side must be \+1 \(buy\) or -1 \(sell\)"),
        (dict(side=[1, 2]), ValueError, "side must be"),
        (dict(side="buy"), TypeError, "side"),
        (dict(start=0.5), TypeError, "start must be integers"),
        (dict(expiry=2.0), TypeError, "expiry must be integers"),
        (dict(price="10"), TypeError, "price must be real numbers"),
        (dict(kind="stop_limit"), ValueError, "need a limit price"),
        (dict(start=[0, 1, 2], side=[1, -1]), ValueError, "do not broadcast"),
    ],
)
def test_api_bad_orders(kwargs, exc, match):
    args = dict(start=0, side=1, kind="limit", price=9.0)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        fill_orders(BARS, **args)


def test_api_bad_bars():
    o, h, lo, c = (np.asarray(b) for b in BARS)
    with pytest.raises(ValueError, match="same length"):
        BarIndex(o, h, lo[:-1], c)
    with pytest.raises(ValueError, match="same length"):
        fill_orders((o, h[:2], lo, c), 0, 1, "limit", 9.0)
    with pytest.raises(TypeError, match="real numbers"):
        BarIndex(o.astype(str), h, lo, c)
    with pytest.raises(TypeError, match="real numbers"):
        BarIndex(o.astype(complex), h, lo, c)
    with pytest.raises(ValueError, match="same length"):  # 2-D bars are symbols x time, all four
        BarIndex(np.stack([o, o]), h, lo, c)
    with pytest.raises(ValueError, match="1-D"):
        BarIndex(*(np.stack([[b]]) for b in (o, h, lo, c)))
    with pytest.raises(ValueError, match=r"\(open, high, low, close\)"):
        fill_orders((o, h, lo), 0, 1, "limit", 9.0)
    with pytest.raises(TypeError, match="BarIndex"):
        fill_orders(o, 0, 1, "limit", 9.0)
    with pytest.raises(ValueError, match="columns"):
        BarIndex.from_frame({"open": o})


def test_raw_ufuncs_bad_input():
    o, h, lo, c = (np.asarray(b) for b in BARS)
    ix = BarIndex(o, h, lo, c)
    order = (0, 1, 1, 9.0, np.nan, -1)
    order1 = tuple(np.atleast_1d(v) for v in order)  # fill_orders: the orders are a core dimension
    # mismatched summary lengths: ValueError from process_core_dims, never a read out of bounds
    a = list(ix.arrays)
    msg = "group, block and super-block summaries must have lengths"
    with pytest.raises(ValueError, match=msg):  # blocks (and suffixes) one too long
        ufuncs.fill_orders(*a[:5], *(np.r_[x, 1.0] for x in a[5:9]), *a[9:], *order1)
    with pytest.raises(ValueError, match=msg):  # groups one too long
        ufuncs.fill_orders(*a[:3], np.r_[a[3], 1.0], np.r_[a[4], 1.0], *a[5:], *order1)
    with pytest.raises(ValueError, match=msg):
        ufuncs.fill_orders(*a[:9], a[9][:0], a[10][:0], *order1)
    big = [np.arange(10_000.0)] * 4
    bi = ufuncs.bar_index(*big)
    with pytest.raises(ValueError):  # summaries of another series (other n)
        ufuncs.fill_orders(o, *a[1:3], *bi[3:11], *order1)
    with pytest.raises(ValueError):  # bars of different lengths: the signature rejects it
        ufuncs.fill_orders_naive(o, h[:2], lo, c, *order)
    with pytest.raises(TypeError):  # float start cannot be cast to int64 safely
        ufuncs.fill_orders_naive(o, h, lo, c, 0.5, 1, 1, 9.0, np.nan, -1)
    with pytest.raises(TypeError):
        ufuncs.fill_orders_naive(o.astype(complex), h, lo, c, *order)
    outs = [np.empty(4) for _ in range(3)] + [np.empty(1)] * 2 + [np.empty(2) for _ in range(4)]
    outs += [np.empty(1), np.empty(1), np.empty(4)]
    with pytest.raises(ValueError, match=msg):
        ufuncs.bar_index(o, h, lo, c, out=tuple(outs))
    outs[5:9] = [np.empty(1) for _ in range(4)]
    ufuncs.bar_index(o, h, lo, c, out=tuple(outs))  # right sizes: fine
    assert outs[5][0] == 8.0 and outs[10][0] == 12.0
    # float32 bars are cast (safely) to float64
    r32 = ufuncs.fill_orders_naive(*(b.astype(np.float32) for b in (o, h, lo, c)), *order)
    assert r32[0] == 1


def test_empty_and_zero_orders():
    ix = BarIndex([], [], [], [])
    assert ix.block_min_low.shape == (0,)
    r = fill_orders(ix, 0, 1, "market", 1.0)
    assert r.fill_index == -1 and math.isnan(r.fill_price)
    r = fill_orders(BARS, np.zeros(0, np.int64), 1, "limit", 9.0)
    assert r.fill_index.shape == (0,)


@pytest.mark.parametrize("n", [0, 1, 63, 64, 65, 4097, 9000])
def test_bar_index_equals_its_twin(n):
    """The summaries the search skips by are exactly those of the pure-Python twin."""
    from tradekernels.fills import reference as fills_ref

    rng = np.random.default_rng(n)
    c = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    o = c * (1 + rng.normal(0, 0.002, n))
    h, lo = np.maximum(o, c) * 1.003, np.minimum(o, c) * 0.997
    for a in (o, h, lo, c):
        a[rng.random(n) < 0.02] = np.nan
    nat = ufuncs.bar_index(o, h, lo, c)
    ref = fills_ref.bar_index(o.tolist(), h.tolist(), lo.tolist(), c.tolist())
    for j, (a, b) in enumerate(zip(nat, ref)):
        assert np.array_equal(a, np.asarray(b, dtype=np.float64), equal_nan=True), j


def test_bar_index_mixed_strides_equal_contiguous():
    """The one-pass build has a path for BarIndex's layout (inputs of one stride, per-bar
    outputs of one stride) and a general one: inputs and outputs of different strides
    (negative too) give the same bits as contiguous arrays."""
    rng = np.random.default_rng(8)
    n = 4300
    c = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    o = c * (1 + rng.normal(0, 0.002, n))
    h, lo = np.maximum(o, c) * 1.003, np.minimum(o, c) * 0.997
    for a in (o, h, lo, c):
        a[rng.random(n) < 0.02] = np.nan
    want = ufuncs.bar_index(o, h, lo, c)
    views = []
    for k, b in zip((1, 2, 3, -1), (o, h, lo, c)):
        buf = np.full(abs(k) * n, 7.0)
        v = buf[::k] if k > 0 else buf[::-1]
        v[...] = b
        views.append(v)
    outs = [np.full(s_ * n, 7.0)[::s_] for s_ in (1, 2, 3)]
    outs += [np.empty_like(a) for a in want[3:11]]
    outs.append(np.full(n, 7.0)[::-1])
    got = ufuncs.bar_index(*views, out=tuple(outs))
    for j, (g, w) in enumerate(zip(got, want)):
        assert_bits_identical(np.ascontiguousarray(g), w, f"output {j}")


def test_bar_index_keeps_the_first_of_equal_extremes():
    """-0.0 and 0.0 compare equal: every summary holds the first of them in bar order (the
    twin's min() / max()), on BarIndex's rows (the two-bars-a-step group path) and on
    separate contiguous outputs (the bar-by-bar path); NaN bars never count."""
    rng = np.random.default_rng(17)
    n = 64 * 3 + 5
    lo = rng.choice([0.0, -0.0, 1.0], n)
    hi = rng.choice([0.0, -0.0, -1.0], n)
    o, c = np.ones(n), np.ones(n)
    o[rng.random(n) < 0.1] = np.nan
    twin = reference.bar_index(*(b.tolist() for b in (o, hi, lo, c)))
    ix = BarIndex(o, hi, lo, c)
    raw = ufuncs.bar_index(o, hi, lo, c)
    for j, name in enumerate(BarIndex._SUMMARIES):
        want = np.asarray(twin[j], dtype=np.float64)
        assert_bits_identical(getattr(ix, name), want, name)
        assert_bits_identical(raw[j], want, f"raw {name}")


def test_search_from_after_a_crossing_in_its_block():
    """The O(1) "never" test reads the suffix of the start's block, which also holds the
    block's bars before the start: a crossing there is never reported, does not stop the
    search from finding a later one, and with none later the answer is "never"."""
    n = 64 * 70
    o, c = np.full(n, 100.0), np.full(n, 100.0)
    h, lo = np.full(n, 100.5), np.full(n, 99.5)
    lo[70] = 90.0  # block 1, before every start below
    starts = np.arange(71, 128)
    for later, want in ((None, -1), (100, 100), (130, 130), (4200, 4200)):
        lo2 = lo.copy()
        if later is not None:
            lo2[later] = 90.0
        ix = BarIndex(o, h, lo2, c)
        expect = np.where(starts <= (later if later is not None else -1), want, -1)
        r = fill_orders(ix, starts, 1, "limit", 95.0)
        np.testing.assert_array_equal(r.fill_index, expect, f"fills, later dip at {later}")
        naive = ufuncs.fill_orders_naive(o, h, lo2, c, starts, 1, 1, 95.0, np.nan, -1)[0]
        np.testing.assert_array_equal(naive, expect)
        # exits: entered at the close, so checked from the next bar on
        expect = np.where(starts < (later if later is not None else -1), want, -1)
        for kw in ({"sl_price": 95.0}, {"tsl_stop": 0.05}, {"sl_stop": 0.05, "tp_stop": 0.5}):
            ex = tk.exit_orders(ix, starts, 100.0, **kw)
            np.testing.assert_array_equal(ex[0], expect, f"exits {kw}, later dip at {later}")


def test_shadow_raises_on_a_planted_divergence(monkeypatch):
    """The shadow backend compares the fills with the twin: a twin that disagrees on one
    order's price is caught (and the reference backend returns the twin's answer)."""
    from tradekernels.fills import reference as fills_ref

    bars = tuple(_ohlc_np(np.random.default_rng(7), 300))
    starts = np.arange(0, 300, 30)
    price = bars[3][starts]  # ignored by market orders, which fill at the start bar's open
    twin = fills_ref.fill_orders

    def wrong(*args):
        fi, fp = twin(*args)
        return fi, [p + 1.0 if j == 2 else p for j, p in enumerate(fp)]

    monkeypatch.setattr(fills_ref, "fill_orders", wrong)
    native = tk.fill_orders(bars, starts, 1, "market", price)
    assert native.fill_price[2] == bars[0][60]
    with tk.backend("shadow"), pytest.raises(tk.ShadowMismatch) as info:
        tk.fill_orders(bars, starts, 1, "market", price)
    assert (info.value.kernel, info.value.output, info.value.index) == ("fill_orders", 1, (2,))
    with tk.backend("reference"):
        assert tk.fill_orders(bars, starts, 1, "market", price).fill_price[2] == native.fill_price[2] + 1.0


def test_dict_of_dataframes_is_bars_by_symbols():
    """{"open": df, ...} with rows = bars and columns = symbols (trades_from_signals' layout)
    is the 2-D bars (symbols x time) of the transposed frames, for BarIndex.from_frame,
    fill_orders and exit_orders alike (it was read as time x symbols: transposed)."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(11)
    rows, n = 3, 40
    c = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, (rows, n)), axis=1)
    o = np.concatenate([c[:, :1], c[:, :-1]], axis=1)
    bars = (o, np.maximum(o, c) * 1.005, np.minimum(o, c) * 0.995, c)
    times = pd.date_range("2024-01-01", periods=n, freq="D")
    frames = {k: pd.DataFrame(b.T, index=times, columns=["A", "B", "C"]) for k, b in zip(BAR_KEYS, bars)}
    want = BarIndex(*bars)
    got = BarIndex.from_frame(frames)
    assert (got.symbols, got.n) == (rows, n)
    for a, b in zip(got.arrays + (got.close,), want.arrays + (want.close,)):
        assert_bits_identical(a, b, "BarIndex.from_frame(dict of DataFrames)")
    m = 50
    start, col = rng.integers(0, n, m), rng.integers(0, rows, m)
    side, price = rng.choice([1, -1], m), c[col, start] * (1.0 + rng.normal(0.0, 0.03, m))
    f_got = fill_orders(frames, start, side, "limit", price, col=col)
    f_want = fill_orders(want, start, side, "limit", price, col=col)
    np.testing.assert_array_equal(f_got.fill_index, f_want.fill_index)
    assert_bits_identical(f_got.fill_price, f_want.fill_price, "fill_orders(dict of DataFrames)")
    x_got = tk.exit_orders(frames, start, side=side, sl_stop=0.02, tp_stop=0.03, col=col)
    x_want = tk.exit_orders(want, start, side=side, sl_stop=0.02, tp_stop=0.03, col=col)
    for a, b in zip(x_got, x_want):
        assert_bits_identical(a, b, "exit_orders(dict of DataFrames)")
    with pytest.raises(IndexError, match="col 3 is out of range for 3 bar series"):
        fill_orders(frames, 0, 1, "limit", 99.0, col=3)
    with pytest.raises(ValueError, match=r"^tradekernels\.fill_orders: .*index and columns"):
        fill_orders({**frames, "low": frames["low"].iloc[::-1]}, 0, 1, "limit", 99.0, col=0)
    with pytest.raises(ValueError, match=r"^tradekernels\.BarIndex: .*index and columns"):
        BarIndex.from_frame({**frames, "high": frames["high"][["C", "B", "A"]]})
    with pytest.raises(TypeError, match=r"^tradekernels\.BarIndex: open is a DataFrame"):
        tk.exit_orders({**frames, "close": bars[3]}, 0, col=0)  # a dict mixing frames and arrays
    with pytest.raises(TypeError, match=r"^tradekernels\.BarIndex: open is a DataFrame"):
        BarIndex(*frames.values())  # (frames are bars x symbols: never read as symbols x time)
