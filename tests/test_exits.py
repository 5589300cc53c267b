"""Exits: exit_orders (skipping C over a BarIndex), exit_orders_naive (C scan)
and the pure-Python twin (tradekernels.fills.reference.exit_order) must agree
exactly; the twin's rules are pinned by the golden cases
(tests/golden/fills/exits.npz, from tradekernels.fills.golden) and, where
vectorbt is installed, cross-checked against its numba stop generator.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tradekernels as tk
from conftest import GOLDEN_DIR, assert_bits_identical
from tradekernels import _core, ufuncs
from tradekernels.fills import BarIndex, ExitReason, exit_orders, reference
from tradekernels.fills import golden as fills_golden

GOLDEN = GOLDEN_DIR / "fills" / "exits.npz"
KEYS = fills_golden.EXIT_KEYS
BAR_KEYS = ("open", "high", "low", "close")
_INT = {"entry_idx", "side", "sl_trail", "same_bar", "entry_at", "expiry"}


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


def _native(bars, pos, uf=None):
    idx = BarIndex(*bars)
    a = idx.arrays
    uf = ufuncs.exit_orders if uf is None else uf
    return uf(a[0], idx.close, *a[1:], *pos)


def _naive(bars, pos, uf=None):
    uf = ufuncs.exit_orders_naive if uf is None else uf
    return uf(*(np.asarray(b, dtype=np.float64) for b in bars), *pos)


def _reference(bars, pos):
    b = [np.asarray(v, dtype=np.float64).tolist() for v in bars]
    xi, xp, xr = reference.exit_orders(*b, *(np.asarray(v).tolist() for v in pos))
    return np.asarray(xi, dtype=np.int64), np.asarray(xp, dtype=np.float64), np.asarray(xr, dtype=np.int64)


def _same(got, exp, what):
    for j, name in enumerate(("exit_idx", "exit_price", "reason")):
        assert_bits_identical(np.asarray(got[j]), np.asarray(exp[j]), f"{what} {name}")


# --------------------------------------------------------------------------
# Golden cases
# --------------------------------------------------------------------------


@pytest.mark.parametrize("case", _golden_cases())
def test_golden(case):
    g = _load_golden()
    bars = [g[f"{case}__{k}"] for k in BAR_KEYS]
    pos = [g[f"{case}__{k}"] for k in KEYS]
    exp = (g[f"{case}__exit_idx"], g[f"{case}__exit_price"], g[f"{case}__reason"])
    _same(_reference(bars, pos), exp, f"{case} twin")
    _same(_native(bars, pos), exp, f"{case} skip")
    _same(_naive(bars, pos), exp, f"{case} naive")
    # the public API, one call per (same_bar, entry_at) pair (they are scalars there)
    d = dict(zip(KEYS, pos))
    names_sb = {v: k for k, v in _core.SAME_BAR.items()}
    names_at = {v: k for k, v in _core.ENTRY_AT.items()}
    for sb in np.unique(d["same_bar"]):
        for at in np.unique(d["entry_at"]):
            sel = (d["same_bar"] == sb) & (d["entry_at"] == at)
            if not sel.any():
                continue
            kw = {
                k: d[k][sel]
                for k in ("sl_stop", "tsl_stop", "tp_stop", "sl_price", "tp_price", "expiry", "slippage")
            }
            got = exit_orders(
                tuple(bars),
                d["entry_idx"][sel],
                d["entry_price"][sel],
                d["side"][sel],
                sl_trail=d["sl_trail"][sel].astype(bool),
                same_bar=names_sb[int(sb)],
                entry_at=names_at[int(at)],
                **kw,
            )
            _same(got, tuple(e[sel] for e in exp), f"{case} api[{names_sb[int(sb)]}, {names_at[int(at)]}]")


def test_golden_required_cases():
    required = {
        "exit_gaps",
        "exit_same_bar",
        "exit_nan_bars",
        "exit_trailing",
        "exit_trailing_blocks",
        "exit_last_bar",
        "exit_expiry",
    }
    assert required <= set(_golden_cases())


def test_golden_rules_by_hand():
    """A few golden answers stated independently of the twin (the rules in its docstring)."""
    g = _load_golden()
    xi, xp, xr = (g[f"exit_same_bar__{k}"] for k in ("exit_idx", "exit_price", "reason"))
    # bar 1: open 104, high 106, low 94; long SL 95 / TP 105 (entry bar 0, close entry)
    assert (xi[0], xp[0], xr[0]) == (1, 95.0, ExitReason.SL)  # "stop": the stop (vectorbt)
    assert (xi[2], xp[2], xr[2]) == (1, 105.0, ExitReason.TP)  # "take"
    assert (xi[4], xp[4], xr[4]) == (1, 105.0, ExitReason.TP)  # "open": 104 is nearer 105
    # "open" with the open exactly halfway between the levels: the stop (long and short)
    assert (xi[-2], xp[-2], xr[-2]) == (1, 102.0, ExitReason.SL)
    assert (xi[-1], xp[-1], xr[-1]) == (1, 106.0, ExitReason.SL)
    xi, xp, xr = (g[f"exit_gaps__{k}"] for k in ("exit_idx", "exit_price", "reason"))
    assert (xi[0], xp[0], xr[0]) == (1, 90.0, ExitReason.SL)  # gap through the stop: the open
    assert (xi[2], xp[2], xr[2]) == (3, 115.0, ExitReason.TP)  # gap through the target: the open
    xi, xp, xr = (g[f"exit_trailing__{k}"] for k in ("exit_idx", "exit_price", "reason"))
    # highs 101, 110, 109: the check on bar 2 uses the peak 110 of bar 1: 110 * 0.95 = 104.5
    assert (xi[0], xp[0], xr[0]) == (2, 110.0 * 0.95, ExitReason.TSL)
    xi, xp, xr = (g[f"exit_expiry__{k}"] for k in ("exit_idx", "exit_price", "reason"))
    assert (xi[2], xp[2], xr[2]) == (2, 101.0, ExitReason.EXPIRY)


def test_shared_constants_come_from_c():
    assert {r.name.lower(): int(r) for r in ExitReason} == _core.EXIT_REASONS
    assert (reference.SAME_BAR_STOP, reference.SAME_BAR_TAKE, reference.SAME_BAR_OPEN) == tuple(
        _core.SAME_BAR[k] for k in ("stop", "take", "open")
    )
    assert (reference.ENTRY_AT_CLOSE, reference.ENTRY_AT_OPEN) == (
        _core.ENTRY_AT["close"],
        _core.ENTRY_AT["open"],
    )


# --------------------------------------------------------------------------
# Random bars and positions: skipping C == naive C == twin
# --------------------------------------------------------------------------


def _ohlc_np(rng, n, vol=0.01, grid=0.05, nan_frac=0.0, nan_runs=0, gap=0.1, drift=0.0):
    r = rng.normal(drift, vol, n)
    c = 100.0 * np.cumprod(1.0 + r)
    o = np.r_[100.0, c[:-1]] * (1.0 + rng.normal(0.0, 2 * vol, n) * (rng.random(n) < gap))
    h = np.maximum(o, c) * (1.0 + vol * rng.random(n))
    lo = np.minimum(o, c) * (1.0 - vol * rng.random(n))
    bars = [np.round(v / grid) * grid for v in (o, h, lo, c)]
    if nan_frac:
        for b in bars:
            b[rng.random(n) < nan_frac / 4] = np.nan
    for _ in range(nan_runs):
        a = int(rng.integers(0, max(n, 1)))
        bars[int(rng.integers(0, 4))][a : a + int(rng.integers(1, 5000))] = np.nan
    return bars


def _positions(rng, bars, k, fracs=(0.0, 0.001, 0.005, 0.02, 0.1)):
    n = len(bars[0])
    e = rng.integers(0, n, k)
    price = np.where(np.isnan(bars[3][e]), 100.0, bars[3][e])
    price[rng.random(k) < 0.02] = np.nan

    def frac(p_none):
        v = rng.choice(np.array(fracs), k)
        v[rng.random(k) < p_none] = np.nan
        return v

    u = rng.random(k)
    expiry = np.where(u < 0.6, -1, np.where(u < 0.95, e + rng.integers(0, max(2, n), k), n + 5))
    lvl = price * rng.choice(np.array([0.9, 0.97, 0.99, 1.01, 1.03, 1.1]), k)
    return [
        e.astype(np.int64),
        price,
        rng.choice(np.array([1, -1]), k).astype(np.int64),
        frac(0.3),
        frac(0.5),
        frac(0.3),
        (rng.random(k) < 0.3).astype(np.int64),
        np.where(rng.random(k) < 0.8, np.nan, lvl),
        np.where(rng.random(k) < 0.8, np.nan, lvl[::-1]),
        rng.integers(0, 3, k).astype(np.int64),
        rng.integers(0, 2, k).astype(np.int64),
        expiry.astype(np.int64),
        np.where(rng.random(k) < 0.7, 0.0, 0.001),
    ]


@settings(max_examples=60)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 200),
    nan_frac=st.sampled_from([0.0, 0.05, 0.3, 1.0]),
    vol=st.sampled_from([0.002, 0.01, 0.05]),
)
def test_random_small_vs_reference(seed, n, nan_frac, vol):
    rng = np.random.default_rng(seed)
    bars = _ohlc_np(rng, n, vol=vol, nan_frac=nan_frac)
    pos = _positions(rng, bars, 40)
    exp = _reference(bars, pos)
    _same(_native(bars, pos), exp, "skip")
    _same(_naive(bars, pos), exp, "naive")


@settings(max_examples=10)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(4000, 13000), nan_runs=st.integers(0, 3))
def test_random_blocks_vs_reference(seed, n, nan_runs):
    """Long enough for several 64-bar blocks and 4096-bar super blocks."""
    rng = np.random.default_rng(seed)
    bars = _ohlc_np(rng, n, vol=0.002, nan_runs=nan_runs)
    pos = _positions(rng, bars, 25, fracs=(0.0, 0.005, 0.02, 0.05, 0.3))
    exp = _reference(bars, pos)
    _same(_native(bars, pos), exp, "skip")
    _same(_naive(bars, pos), exp, "naive")


@pytest.mark.parametrize("drift", [0.0, 3e-4, -3e-4])
@pytest.mark.parametrize("dist", [0.0, 0.0005, 0.002, 0.01, 0.03, 0.1, 0.3, 0.9, 1.5])
def test_skip_vs_naive_at_many_stop_distances(dist, drift):
    """Fixed bands and trailing stops (long and short, every policy) at one distance, on
    flat and trending bars (a trend moves trailing stops across skipped (super) blocks)."""
    rng = np.random.default_rng(int(dist * 1e4) + 1)
    n = 40_000
    bars = _ohlc_np(rng, n, vol=0.002, grid=0.01, nan_frac=0.01, nan_runs=2, drift=drift)
    k = 4000
    pos = _positions(rng, bars, k)
    d = np.full(k, dist)
    for j in (3, 4, 5):  # sl, tsl, tp: the distance, or absent
        pos[j] = np.where(rng.random(k) < 0.4, np.nan, d)
    got = _native(bars, pos)
    _same(got, _naive(bars, pos), f"skip vs naive at {dist}")
    if 0.002 <= dist <= 0.1 and not drift:
        assert 0.1 < np.mean(got[2] != ExitReason.NONE) < 0.995  # exits and misses both exercised


def test_strided_and_stacked_bars():
    """Non-contiguous, reversed and stacked (2-D) bars give the per-series answer."""
    rng = np.random.default_rng(3)
    n = 5000
    series = [_ohlc_np(rng, n, vol=0.004, nan_runs=1) for _ in range(3)]
    pos = _positions(rng, series[0], 300)
    stacked = [np.stack([s[j] for s in series]) for j in range(4)]  # (3, n)
    idx = ufuncs.bar_index(*stacked)
    got = ufuncs.exit_orders(idx[0], stacked[3], *idx[1:11], *pos)
    assert got[0].shape == (3, 300)
    for k, s in enumerate(series):
        exp = _naive(s, pos)
        _same(tuple(g[k] for g in got), exp, f"stack {k}")
        buf = np.full((4, 2 * n), np.nan)
        views = [buf[j, ::2] for j in range(4)]
        for v, b in zip(views, s):
            v[...] = b
        _same(_naive(views, pos), exp, f"strided naive {k}")
        rev = [np.ascontiguousarray(b[::-1])[::-1] for b in s]
        _same(_native(rev, pos), exp, f"reversed {k}")
        # strided positions
        pos2 = [np.repeat(p, 2)[::2] for p in pos]
        _same(_native(s, pos2), exp, f"strided positions {k}")


def test_public_api_shapes_backends_and_defaults():
    rng = np.random.default_rng(5)
    bars = _ohlc_np(rng, 3000, vol=0.004)
    idx = BarIndex(*bars)
    e = rng.integers(0, 3000, (4, 25))
    tp = np.tile([0.01, 0.03, 0.05, np.nan, 0.1], 5)  # broadcast against (4, 25)
    x = exit_orders(idx, e, side=-1, sl_stop=0.02, tp_stop=tp)
    assert x.exit_idx.shape == x.exit_price.shape == x.reason.shape == (4, 25)
    assert x.exit_idx.dtype == np.int64 and x.reason.dtype == np.int64
    with tk.backend("reference"):
        r = exit_orders(idx, e, side=-1, sl_stop=0.02, tp_stop=tp)
    _same(x, r, "reference backend")
    with tk.backend("shadow"):
        exit_orders(idx, e, tsl_stop=0.01, same_bar="open", entry_at="open")
    # scalar in, scalars out; entry_price None = the close (or open) of the entry bar
    s = exit_orders(bars, 10, sl_stop=0.01)
    assert np.ndim(s.exit_idx) == 0
    assert exit_orders(bars, 10, bars[3][10], sl_stop=0.01) == s
    so = exit_orders(bars, 10, sl_stop=0.01, entry_at="open")
    assert so == exit_orders(bars, 10, bars[0][10], sl_stop=0.01, entry_at="open")
    # no stops at all: never exits; expiry: the close of the expiry bar
    assert exit_orders(bars, 10).reason == ExitReason.NONE
    z = exit_orders(bars, 10, expiry=20)
    assert (z.exit_idx, z.exit_price, z.reason) == (20, bars[3][20], ExitReason.EXPIRY)


def test_shadow_raises_on_a_planted_divergence(monkeypatch):
    bars = _ohlc_np(np.random.default_rng(9), 500, vol=0.01)

    right = reference.exit_order

    def wrong(*args):
        i, p, r = right(*args)
        return i, p * 1.0000001 if i >= 0 else p, r

    monkeypatch.setattr(reference, "exit_order", wrong)
    with tk.backend("shadow"), pytest.raises(tk.ShadowMismatch):
        exit_orders(bars, np.arange(0, 400, 7), sl_stop=0.01, tp_stop=0.01)


# --------------------------------------------------------------------------
# Bad input: clear exceptions, never a crash
# --------------------------------------------------------------------------


def _bars(n=50):
    return _ohlc_np(np.random.default_rng(1), n)


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        (dict(entry_idx=50), IndexError),
        (dict(entry_idx=[0, -1]), IndexError),
        (dict(entry_idx=1.5), TypeError),
        (dict(entry_idx=["a"]), TypeError),
        (dict(side=0), ValueError),
        (dict(side="long"), TypeError),
        (dict(sl_stop=-0.01), ValueError),
        (dict(tsl_stop=[0.01, -1.0]), ValueError),
        (dict(tp_stop="x"), TypeError),
        (dict(sl_price=["a"]), TypeError),
        (dict(sl_trail=[0.5]), TypeError),
        (dict(same_bar="first"), ValueError),
        (dict(same_bar=0), ValueError),
        (dict(entry_at="mid"), ValueError),
        (dict(expiry=2, entry_idx=5), ValueError),
        (dict(expiry=1.0), TypeError),
        (dict(slippage=1.0), ValueError),
        (dict(slippage=-0.1), ValueError),
        (dict(entry_idx=[1, 2, 3], sl_stop=[0.1, 0.2]), ValueError),
        (dict(entry_price=np.array(["a"])), TypeError),
    ],
)
def test_bad_positions_raise(kwargs, exc):
    args = dict(entry_idx=5)
    args.update(kwargs)
    with pytest.raises(exc, match="exit_orders"):
        exit_orders(_bars(), **args)


def test_bad_bars_raise():
    b = _bars()
    with pytest.raises(ValueError):
        exit_orders((b[0], b[1], b[2]), 0, sl_stop=0.1)
    with pytest.raises(ValueError):
        exit_orders((b[0], b[1][:-1], b[2], b[3]), 0, sl_stop=0.1)
    with pytest.raises(TypeError):
        exit_orders((b[0].astype(str), b[1], b[2], b[3]), 0, sl_stop=0.1)
    with pytest.raises(TypeError):
        exit_orders(42, 0)
    e = np.empty(0)
    with pytest.raises(IndexError):
        exit_orders((e, e, e, e), 0, sl_stop=0.1)
    got = exit_orders((e, e, e, e), np.empty(0, dtype=np.int64), sl_stop=0.1)
    assert got.exit_idx.shape == (0,)


def test_raw_ufuncs_reject_bad_sizes_and_survive_hostile_values():
    b = _bars(300)
    idx = BarIndex(*b)
    a = idx.arrays
    k = 7
    pos = [
        np.array([-5, 0, 299, 300, 10**15, 5, 5]),
        np.full(k, 100.0),
        np.array([1, -1, 1, 2, 1, 0, 1]),
        np.full(k, 0.01),
        np.full(k, np.inf),
        np.full(k, -np.inf),
        np.array([0, 1, 2, -1, 0, 0, 0]),
        np.full(k, np.nan),
        np.full(k, np.nan),
        np.array([0, 1, 2, 9, -3, 0, 0]),
        np.array([0, 1, 5, -1, 0, 0, 0]),
        np.array([-1, -1, 10**15, -7, -2, 4, 5]),
        np.full(k, np.nan),
    ]
    pos = [np.asarray(p, dtype=np.int64 if KEYS[j] in _INT else np.float64) for j, p in enumerate(pos)]
    _same(_native(b, pos), _naive(b, pos), "hostile values")
    _same(_native(b, pos), _reference(b, pos), "hostile values vs twin")
    with pytest.raises(ValueError, match="exit_orders"):  # block summaries of the wrong length
        ufuncs.exit_orders(a[0], idx.close, *a[1:5], *(x[:-1] for x in a[5:9]), a[9], a[10], *pos)
    with pytest.raises(TypeError):  # wrong dtype (float entry index) cannot be cast safely
        ufuncs.exit_orders_naive(*b, 1.5, 100.0, 1, 0.1, np.nan, np.nan, 0, np.nan, np.nan, 0, 0, -1, 0.0)


# --------------------------------------------------------------------------
# 2-D bars (symbols x time): one BarIndex, a col per order
# --------------------------------------------------------------------------


def _ohlc_2d(rng, rows, n, nan_frac=0.0):
    per = [_ohlc_np(rng, n, vol=0.004, nan_frac=nan_frac) for _ in range(rows)]
    return [np.stack([p[j] for p in per]) for j in range(4)]


def test_bar_index_2d_rows_equal_1d():
    rng = np.random.default_rng(21)
    bars = _ohlc_2d(rng, 5, 4200, nan_frac=0.02)
    idx = BarIndex(*bars)
    assert (idx.symbols, idx.n) == (5, 4200) and idx.block_min_low.shape == (5, 66)
    for r in range(5):
        one = BarIndex(*(b[r] for b in bars))
        for a, b in zip(idx.arrays, one.arrays):
            assert_bits_identical(np.ascontiguousarray(a[r]), np.ascontiguousarray(b), f"row {r}")


@settings(max_examples=25)
@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(1, 6),
    n=st.integers(1, 300),
    skew=st.booleans(),
    nan_frac=st.sampled_from([0.0, 0.1]),
)
def test_random_2d_vs_reference(seed, rows, n, skew, nan_frac):
    rng = np.random.default_rng(seed)
    bars = _ohlc_2d(rng, rows, n, nan_frac)
    idx = BarIndex(*bars)
    k = 60
    col = np.where(rng.random(k) < 0.9, 0, rng.integers(0, rows, k)) if skew else rng.integers(0, rows, k)
    e = rng.integers(0, n, k)
    kw = dict(
        side=rng.choice(np.array([1, -1]), k),
        sl_stop=rng.choice(np.array([np.nan, 0.005, 0.02]), k),
        tsl_stop=rng.choice(np.array([np.nan, 0.01, 0.05]), k),
        tp_stop=rng.choice(np.array([np.nan, 0.01]), k),
        col=col,
    )
    got = exit_orders(idx, e, **kw)
    with tk.backend("reference"):
        exp = exit_orders(idx, e, **kw)
    _same(got, exp, "2-D exits")
    # and row by row through 1-D bars
    for j in range(0, k, 7):
        one = exit_orders(
            tuple(b[col[j]] for b in bars), e[j], **{a: v[j] for a, v in kw.items() if a != "col"}
        )
        _same(tuple(np.asarray(g[j]) for g in got), tuple(np.asarray(x) for x in one), f"2-D row {col[j]}")
    fills = tk.fill_orders(idx, e, kw["side"], "limit", bars[3][col, e] * 0.99, col=col)
    with tk.backend("reference"):
        fexp = tk.fill_orders(idx, e, kw["side"], "limit", bars[3][col, e] * 0.99, col=col)
    _same(tuple(fills) + (np.zeros(k, np.int64),), tuple(fexp) + (np.zeros(k, np.int64),), "2-D fills")


def test_2d_uneven_rows_take_the_per_row_path():
    """Almost all orders on one row of many: answered one row at a time, same result."""
    rng = np.random.default_rng(22)
    bars = _ohlc_2d(rng, 60, 500)
    idx = BarIndex(*bars)
    k = 400
    col = np.where(np.arange(k) < 390, 17, rng.integers(0, 60, k))
    e = rng.integers(0, 500, k)
    got = exit_orders(idx, e, sl_stop=0.01, tp_stop=0.01, col=col)
    with tk.backend("reference"):
        exp = exit_orders(idx, e, sl_stop=0.01, tp_stop=0.01, col=col)
    _same(got, exp, "uneven rows")


def test_2d_bad_col_raises():
    bars = _ohlc_2d(np.random.default_rng(23), 3, 50)
    idx = BarIndex(*bars)
    with pytest.raises(ValueError, match="col="):
        exit_orders(idx, 5, sl_stop=0.01)
    with pytest.raises(IndexError, match="col"):
        exit_orders(idx, 5, sl_stop=0.01, col=3)
    with pytest.raises(IndexError, match="col"):
        tk.fill_orders(idx, 5, 1, "limit", 100.0, col=[0, -1])
    with pytest.raises(TypeError, match="col"):
        tk.fill_orders(idx, 5, 1, "limit", 100.0, col=0.5)
    with pytest.raises(ValueError, match="col"):
        exit_orders(idx, [1, 2, 3], 100.0, sl_stop=0.01, col=[0, 1])
    with pytest.raises(ValueError, match="shape"):
        BarIndex(bars[0], bars[1][:2], bars[2], bars[3])
    with pytest.raises(ValueError, match="2-D"):
        BarIndex(*(b[None] for b in bars))


# --------------------------------------------------------------------------
# trades_from_signals
# --------------------------------------------------------------------------


def _trades_twin(
    bars,
    entries,
    exits,
    side=1,
    sl=np.nan,
    tsl=np.nan,
    tp=np.nan,
    trail=0,
    same=0,
    slip=0.0,
    reenter=0,
    price_at=0,
):
    return reference.trades_from_signals(
        *(np.asarray(b).tolist() for b in bars),
        list(entries),
        list(exits),
        side,
        sl,
        tsl,
        tp,
        trail,
        same,
        slip,
        reenter,
        price_at,
    )


TRADES_GOLDEN = GOLDEN_DIR / "fills" / "trades.npz"


def _trade_cases():
    if not TRADES_GOLDEN.is_file():
        return ["<missing>"]
    with np.load(TRADES_GOLDEN, allow_pickle=False) as z:
        return [str(c) for c in z["cases"]]


@pytest.mark.parametrize("case", _trade_cases())
def test_trades_golden(case):
    """The per-bar exits of the twin (golden) equal the raw kernel's and the public
    function's trade records, 1-D and 2-D."""
    if not TRADES_GOLDEN.is_file():
        pytest.fail(f"missing {TRADES_GOLDEN}; run `python tools/make_golden.py`")
    with np.load(TRADES_GOLDEN, allow_pickle=False) as z:
        g = {k[len(case) + 2 :]: z[k] for k in z.files if k.startswith(case + "__")}
    bars = [g[k] for k in BAR_KEYS]
    params = [g[k][()] for k in fills_golden.TRADE_PARAMS]
    exp = (g["exit_idx"], g["exit_price"], g["reason"])
    idx = BarIndex(*bars)
    a = idx.arrays
    raw = ufuncs.trades_from_signals(a[0], idx.close, *a[1:], g["entries"], g["exits"], *params)
    _same(raw, exp, f"{case} raw kernel")
    side, sl, tsl, tp, trail, same, slip, reenter, price_at = params
    names_sb = {v: k for k, v in _core.SAME_BAR.items()}
    names_at = {v: k for k, v in _core.ENTRY_AT.items()}
    for mode in ("native", "reference"):
        with tk.backend(mode):
            t = tk.trades_from_signals(
                tuple(bars),
                g["entries"],
                g["exits"],
                side=int(side),
                sl_stop=sl,
                tsl_stop=tsl,
                tp_stop=tp,
                sl_trail=bool(trail),
                same_bar=names_sb[int(same)],
                slippage=slip,
                reenter_on_exit_bar=bool(reenter),
                price=names_at[int(price_at)],
            )
        xi = np.atleast_2d(exp[0])
        rows, entry = np.nonzero(xi >= 0)
        assert t["col"].tolist() == rows.tolist() and t["entry_idx"].tolist() == entry.tolist(), mode
        for field, e in zip(("exit_idx", "exit_price", "exit_reason"), exp):
            assert_bits_identical(t[field], np.atleast_2d(e)[rows, entry], f"{case} {mode} {field}")


def test_trades_golden_required_cases():
    required = {
        "trades_in_position_ignored",
        "trades_exit_signals",
        "trades_sl_tp",
        "trades_trailing",
        "trades_sl_trail",
        "trades_end",
        "trades_end_reenter",
        "trades_short_slippage",
        "trades_reenter_no",
        "trades_reenter_yes",
        "trades_nan_bars_blocks",
        "trades_2d",
        "trades_open_exit_signals",
        "trades_open_tp_last_bar_signal",
        "trades_open_entry_bar_stop",
        "trades_open_walk",
        "trades_open_nan_bars_blocks",
        "trades_open_2d",
    }
    assert required <= set(_trade_cases())
    with np.load(TRADES_GOLDEN, allow_pickle=False) as z:
        reasons = set(np.concatenate([z[f"{c}__reason"].ravel() for c in z["cases"]]).tolist())
        assert z["trades_2d__entries"].ndim == 2
    # every reason a trade can end with appears
    assert {ExitReason.SIGNAL, ExitReason.SL, ExitReason.TSL, ExitReason.TP, ExitReason.END} <= reasons


def test_trades_by_hand():
    # bars: flat at 100 except bar 3 (low 90) and bar 6 (high 120)
    o = np.full(9, 100.0)
    h = np.array([101, 101, 101, 101, 101, 101, 120, 101, 101.0])
    lo = np.array([99, 99, 99, 90, 99, 99, 99, 99, 99.0])
    c = np.full(9, 100.0)
    ent = np.array([1, 1, 0, 1, 0, 1, 0, 0, 1], bool)
    ext = np.array([0, 1, 0, 0, 0, 0, 0, 1, 1], bool)
    t = tk.trades_from_signals((o, h, lo, c), ent, ext, sl_stop=0.05)
    # bar 1 has both signals: neither; entry 0 -> stop on bar 3 at 95; the entry on bar 3 (the exit bar) is
    # ignored; entry 5 -> exit signal on bar 7; bar 8 has both signals: no entry
    assert t["entry_idx"].tolist() == [0, 5] and t["exit_idx"].tolist() == [3, 7]
    assert t["exit_reason"].tolist() == [ExitReason.SL, ExitReason.SIGNAL]
    assert t["exit_price"].tolist() == [95.0, 100.0] and t["duration_bars"].tolist() == [3, 2]
    r = tk.trades_from_signals((o, h, lo, c), ent, ext, sl_stop=0.05, reenter_on_exit_bar=True)
    assert r["entry_idx"].tolist() == [0, 3] and r["exit_idx"].tolist() == [
        3,
        7,
    ]  # re-enters on bar 3, holds to 7
    e = tk.trades_from_signals((o, h, lo, c), ent, None, tp_stop=0.1)  # entries 1, 3, 5 are in the position
    assert e["exit_reason"].tolist() == [ExitReason.TP, ExitReason.END]  # the last one is still open
    assert e["exit_idx"].tolist() == [6, 8] and e["exit_price"].tolist() == [110.00000000000001, 100.0]


@settings(max_examples=40)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 400),
    rows=st.sampled_from([None, 3]),
    p_entry=st.sampled_from([0.02, 0.2]),
    p_exit=st.sampled_from([0.0, 0.05]),
    nan_frac=st.sampled_from([0.0, 0.1]),
)
def test_trades_random_vs_twin(seed, n, rows, p_entry, p_exit, nan_frac):
    rng = np.random.default_rng(seed)
    bars = _ohlc_np(rng, n, nan_frac=nan_frac) if rows is None else _ohlc_2d(rng, rows, n, nan_frac)
    shape = bars[0].shape
    ent, ext = rng.random(shape) < p_entry, rng.random(shape) < p_exit
    kw = dict(
        side=int(rng.choice([1, -1])),
        sl_stop=float(rng.choice([np.nan, 0.01, 0.03])),
        tsl_stop=float(rng.choice([np.nan, 0.005, 0.02])),
        tp_stop=float(rng.choice([np.nan, 0.02])),
        sl_trail=bool(rng.random() < 0.3),
        same_bar=str(rng.choice(["stop", "take", "open"])),
        slippage=float(rng.choice([0.0, 0.001])),
        fees=0.001,
        reenter_on_exit_bar=bool(rng.random() < 0.5),
        price=str(rng.choice(["close", "open"])),
    )
    kw = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in kw.items()}
    got = tk.trades_from_signals(BarIndex(*bars), ent, ext, **kw)
    with tk.backend("reference"):
        exp = tk.trades_from_signals(BarIndex(*bars), ent, ext, **kw)
    assert got.dtype == exp.dtype == tk.fills.TRADE_DTYPE
    for f in got.dtype.names:
        assert_bits_identical(got[f], exp[f], f)
    # the raw kernel (skipping) equals the twin on every row, including bars with no trade
    for r in [()] if rows is None else [(i,) for i in range(rows)]:
        twin = _trades_twin(
            [b[r] for b in bars],
            ent[r],
            ext[r],
            kw["side"],
            *(np.nan if kw[k] is None else kw[k] for k in ("sl_stop", "tsl_stop", "tp_stop")),
            int(kw["sl_trail"]),
            _core.SAME_BAR[kw["same_bar"]],
            kw["slippage"],
            int(kw["reenter_on_exit_bar"]),
            _core.ENTRY_AT[kw["price"]],
        )
        sel = got[got["col"] == (r[0] if r else 0)]
        assert sel["entry_idx"].tolist() == [i for i, x in enumerate(twin[0]) if x >= 0]


def test_trades_dataframe_in_and_out():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(31)
    bars = _ohlc_np(rng, 300)
    ix = pd.date_range("2024-01-01", periods=300, freq="D")
    df = pd.DataFrame(dict(zip(BAR_KEYS, bars)), index=ix)
    ent = pd.Series(rng.random(300) < 0.05, index=ix)
    t = tk.trades_from_signals(df, ent, sl_stop=0.02, tp_stop=0.02)
    assert isinstance(t, pd.DataFrame) and len(t) > 3
    assert (t["entry_time"] == ix[t["entry_idx"]]).all() and (t["exit_time"] == ix[t["exit_idx"]]).all()


def test_trades_dict_of_dataframes():
    """{"open": df, ...} with symbols as columns: the trades of the 2-D arrays, with the
    symbol names and timestamps; signals as aligned DataFrames or (bars, symbols) arrays."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(31)
    bars = _ohlc_2d(rng, 3, 500, nan_frac=0.02)  # (symbols, time)
    ent = rng.random((3, 500)) < 0.08
    ext = rng.random((3, 500)) < 0.02
    times = pd.date_range("2020-01-01", periods=500, freq="D")
    names = ["AAA", "BBB", "CCC"]
    frames = {k: pd.DataFrame(b.T, index=times, columns=names) for k, b in zip(BAR_KEYS, bars)}
    kw = dict(sl_stop=0.03, tp_stop=0.05)
    want = tk.trades_from_signals(BarIndex(*bars), ent, ext, **kw)
    got = tk.trades_from_signals(
        frames,
        pd.DataFrame(ent.T, index=times, columns=names),
        pd.DataFrame(ext.T, index=times, columns=names),
        **kw,
    )
    assert isinstance(got, pd.DataFrame) and len(got) == len(want) > 10
    for f in want.dtype.names:
        np.testing.assert_array_equal(got[f].to_numpy(), want[f], err_msg=f)
    assert got["symbol"].tolist() == [names[c] for c in want["col"]]
    assert (got["entry_time"] == times[want["entry_idx"]]).all()
    assert (got["exit_time"] == times[want["exit_idx"]]).all()
    arr = tk.trades_from_signals(frames, ent.T, ext.T, **kw)  # arrays in the frames' layout
    np.testing.assert_array_equal(arr["exit_price"].to_numpy(), want["exit_price"])
    with pytest.raises(ValueError, match="index and columns"):
        tk.trades_from_signals({**frames, "low": frames["low"].iloc[::-1]}, ent.T, **kw)
    with pytest.raises(ValueError, match="index and columns"):
        tk.trades_from_signals(frames, pd.DataFrame(ent.T, index=times, columns=["x", "y", "z"]), **kw)
    with pytest.raises(ValueError, match="shape"):
        tk.trades_from_signals(frames, ent, **kw)  # (symbols, time): not the frames' layout


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        (dict(entries=np.zeros(50)), TypeError),
        (dict(entries=np.zeros(49, bool)), ValueError),
        (dict(exits=np.zeros((2, 50), bool)), ValueError),
        (dict(side=0), ValueError),
        (dict(side=True), ValueError),
        (dict(price="vwap"), ValueError),
        (dict(sl_stop=-0.1), ValueError),
        (dict(tp_stop="x"), TypeError),
        (dict(slippage=1.5), ValueError),
        (dict(same_bar="never"), ValueError),
    ],
)
def test_trades_bad_input_raises(kwargs, exc):
    args = dict(entries=np.zeros(50, bool))
    args.update(kwargs)
    with pytest.raises(exc, match="trades_from_signals"):
        tk.trades_from_signals(_bars(), **args)


def test_trades_raw_kernel_strided_signals_and_hostile_params():
    rng = np.random.default_rng(41)
    b = _bars(3000)
    idx = BarIndex(*b)
    a = idx.arrays
    ent, ext = rng.random(6000) < 0.1, rng.random(6000) < 0.05
    for at in (0, 1):  # price_at: the close, the next open
        want = _trades_twin(b, ent[::2], ext[::2], 1, 0.01, np.nan, 0.02, 0, 0, 0.0, 1, at)
        got = ufuncs.trades_from_signals(
            a[0], idx.close, *a[1:], ent[::2], ext[::2], 1, 0.01, np.nan, 0.02, 0, 0, 0.0, 1, at
        )
        _same(got, tuple(np.asarray(w) for w in want), f"strided signals, price_at {at}")
    for side in (0, 2, -7):  # not a side: no trades, no crash
        res = ufuncs.trades_from_signals(
            a[0], idx.close, *a[1:], ent[::2], ext[::2], side, 0.01, np.nan, 0.02, 0, 0, 0.0, 1, 0
        )
        assert (res[0] == -1).all()


# --------------------------------------------------------------------------
# Live: tradekernels.stream.Bracket
# --------------------------------------------------------------------------


@settings(max_examples=30)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 300), nan_frac=st.sampled_from([0.0, 0.1]))
def test_bracket_stream_equals_exit_orders(seed, n, nan_frac):
    rng = np.random.default_rng(seed)
    bars = _ohlc_np(rng, n, nan_frac=nan_frac)
    idx = BarIndex(*bars)
    rows = list(zip(*(b.tolist() for b in bars)))
    for _ in range(12):
        e = int(rng.integers(0, n))
        p = float(bars[3][e]) if bars[3][e] == bars[3][e] else 100.0
        kw = dict(
            sl_stop=rng.choice([None, 0.0, 0.01, 0.03]),
            tsl_stop=rng.choice([None, 0.005, 0.02]),
            tp_stop=rng.choice([None, 0.01, 0.05]),
            sl_trail=bool(rng.random() < 0.3),
            same_bar=str(rng.choice(["stop", "take", "open"])),
            sl_price=rng.choice([None, p * 0.97]),
            tp_price=rng.choice([None, p * 1.03]),
            slippage=float(rng.choice([0.0, 0.001])),
        )
        side = int(rng.choice([1, -1]))
        want = exit_orders(idx, e, p, side, **kw)
        br = tk.stream.Bracket(p, side, **kw)
        got = (-1, np.nan, int(ExitReason.NONE))
        for i in range(e + 1, n):
            r = br.update(*rows[i])
            if r is not None:
                got = (i, r[0], r[1])
                break
        if got[0] >= 0:
            assert br.closed and br.update(*rows[-1]) is None  # closed: nothing more
        _same(tuple(np.asarray(g) for g in got), tuple(np.asarray(w) for w in want), f"bracket {kw}")


def test_bracket_bad_arguments_raise():
    with pytest.raises(ValueError, match="side"):
        tk.stream.Bracket(100.0, 0, sl_stop=0.1)
    with pytest.raises(ValueError, match="same_bar"):
        tk.stream.Bracket(100.0, same_bar="first")
    with pytest.raises(ValueError, match=">= 0"):
        tk.stream.Bracket(100.0, sl_stop=-0.1)
    with pytest.raises(TypeError):
        tk.stream.Bracket(100.0, tp_stop="x")
    with pytest.raises(TypeError):
        tk.stream.Bracket("100")
    b = tk.stream.Bracket(100.0, sl_stop=0.1)
    with pytest.raises(TypeError):
        b.update(1.0, 2.0, 3.0)
    with pytest.raises(TypeError):
        b.update(1.0, 2.0, 3.0, "x")
    assert b.update(np.nan, 200.0, 1.0, 100.0) is None and not b.closed  # NaN bar: nothing
    assert b.update(100.0, 101.0, 80.0, 90.0) == (90.0, ExitReason.SL) and b.closed


@pytest.mark.parametrize("trail", [dict(tsl_stop=1.0), dict(sl_stop=1.0, sl_trail=True), dict(tsl_stop=1.5)])
@pytest.mark.parametrize("peak", [np.inf, 10.0])
def test_full_trail_with_an_infinite_peak_later_in_the_block(trail, peak):
    """A 100 % trail (level = peak * 0) exits on a low <= 0 while the peak is finite; an
    infinite high later in the same block makes the block's bound inf * 0 = NaN, which must
    not let the search skip the block (the twin exits at the zero low)."""
    n = 300
    o, h, lo, c = (np.ones(n) for _ in range(4))
    lo[70] = 0.0 if trail.get("tsl_stop", 1.0) <= 1.0 else -0.6
    h[100] = peak
    bars = (o, h, lo, c)
    for start in (0, 64, 65):
        got = exit_orders(bars, start, 1.0, **trail)
        with tk.backend("reference"):
            want = exit_orders(bars, start, 1.0, **trail)
        assert [np.asarray(g).tolist() for g in got] == [np.asarray(w).tolist() for w in want], start
        if start < 70:
            assert int(got.exit_idx) == 70


@pytest.mark.parametrize("side", [1, -1])
@pytest.mark.parametrize("seed", range(4))
def test_trailing_reference_keeps_the_first_of_tied_signed_zeros(side, seed):
    """The reference over the rest of the start block (the block's summary ruled an exit out)
    is folded out of order (a tree over the bars to the group's end, then the later groups):
    its value must be the twin's left-to-right one, the first of tied +0.0 / -0.0 peaks. The
    exit price then carries its sign (open 0, level = peak * fac)."""
    rng = np.random.default_rng(seed)
    n, m, sgn = 130, 63, float(side)
    e = np.arange(m, dtype=np.int64)
    full = lambda v, dt=np.float64: np.full(m, v, dtype=dt)  # noqa: E731
    pos = (
        e,
        full(-sgn),
        full(side, np.int64),
        full(np.nan),
        full(0.5),
        full(np.nan),
        full(0, np.int64),
        full(np.nan),
        full(np.nan),
        full(0, np.int64),
        full(0, np.int64),
        full(-1, np.int64),
        full(0.0),
    )
    while True:  # until the exits carry both signs (deterministic per seed)
        # block 0: no exit (lows above every level for a long; the mirror for a short),
        # extremes from {+-0, -5} so that a peak is a tie of signed zeros; bar 64 exits at
        # the open 0
        ext = rng.choice(np.array([0.0, -0.0, -5.0]), size=n) * sgn
        far = np.full(n, 1.0 * sgn)
        o = np.full(n, 7.0 * sgn)
        hi, lo = (ext, far) if side == 1 else (far, ext)
        c = o.copy()
        o[64], c[64] = 0.0, 0.0
        if side == 1:
            lo[64:] = -2.0
        else:
            hi[64:] = 2.0
        bars = (o, hi, lo, c)
        want = _reference(bars, pos)
        if np.signbit(want[1]).any() and (~np.signbit(want[1])).any():
            break
    assert (want[0] == 64).all()
    _same(_native(bars, pos), want, "skipping")
    _same(_naive(bars, pos), want, "naive")


def test_trades_nullable_boolean_signals():
    """pandas "boolean" signals (Series or DataFrame) without NA are booleans; an NA is a
    ValueError naming the parameter (never a guess)."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(8)
    bars = _ohlc_np(rng, 300)
    ix = pd.date_range("2024-01-01", periods=300, freq="D")
    df = pd.DataFrame(dict(zip(BAR_KEYS, bars)), index=ix)
    ent, ext = rng.random(300) < 0.05, rng.random(300) < 0.02
    kw = dict(sl_stop=0.02, tp_stop=0.02)
    want = tk.trades_from_signals(df, pd.Series(ent, index=ix), pd.Series(ext, index=ix), **kw)
    got = tk.trades_from_signals(
        df, pd.Series(ent, index=ix, dtype="boolean"), pd.Series(ext, index=ix, dtype="boolean"), **kw
    )
    pd.testing.assert_frame_equal(got, want)
    frames = {
        k: pd.DataFrame(np.stack([b, b[::-1]], axis=1), index=ix, columns=["A", "B"])
        for k, b in zip(BAR_KEYS, bars)
    }
    ent2 = pd.DataFrame(np.stack([ent, ext], axis=1), index=ix, columns=["A", "B"])
    want = tk.trades_from_signals(frames, ent2, ent2[::-1].set_axis(ix), **kw)
    got = tk.trades_from_signals(
        frames, ent2.astype("boolean"), ent2[::-1].set_axis(ix).astype("boolean"), **kw
    )
    pd.testing.assert_frame_equal(got, want)
    with pytest.raises(ValueError, match=r"^tradekernels\.trades_from_signals: exits .*NA"):
        tk.trades_from_signals(df, ent, pd.Series(ext, index=ix, dtype="boolean").mask(ix == ix[5]), **kw)
    with pytest.raises(ValueError, match=r"^tradekernels\.trades_from_signals: entries .*NA"):
        tk.trades_from_signals(frames, ent2.astype("boolean").mask(ent2), **kw)
