"""exit_orders against vectorbt (optional: skipped when vectorbt is not installed).

The conventions under which the two agree (stated in
tradekernels.fills.reference.exit_order): entry at the close of the signal bar
(``entry_at="close"``), stops checked from the next bar, the stop loss first on
a bar that reaches both levels (``same_bar="stop"``), a gap through a level
exits at the open, a trailing ``sl_stop`` (``sl_trail=True``) checked against
the best high through the previous bar.  Bars here have no NaN (vectorbt fills
missing prices from the close; exit_orders skips such bars).  Prices are
compared to 1e-12 relative: vectorbt's trade records store size-weighted
averages of the fill prices, which can differ from the fill price in the last
bit; indices and stop types must be equal.
"""

from __future__ import annotations

import numpy as np
import pytest

import tradekernels as tk
from tradekernels.fills import ExitReason

vbt = pytest.importorskip("vectorbt")
pd = pytest.importorskip("pandas")

CONFIGS = [
    dict(sl_stop=0.03, tp_stop=0.05),
    dict(sl_stop=0.03, sl_trail=True),
    dict(sl_stop=0.02, sl_trail=True, tp_stop=0.04),
    dict(tp_stop=0.02),
    dict(sl_stop=0.0, tp_stop=0.0),
    dict(sl_stop=0.01, tp_stop=0.01),
]


def _random_ohlc(seed, n, m):
    rng = np.random.default_rng(seed)
    c = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.01, (n, m)), axis=0)
    gaps = 1 + rng.normal(0, 0.01, (n, m)) * (rng.random((n, m)) < 0.2)
    o = np.vstack([np.full((1, m), 100.0), c[:-1]]) * gaps
    h = np.maximum(o, c) * (1.0 + 0.01 * rng.random((n, m)))
    lo = np.minimum(o, c) * (1.0 - 0.01 * rng.random((n, m)))
    return [np.round(x, 2) for x in (o, h, lo, c)], rng


def _ours(bars, e, side, kw):
    o, h, lo, c = bars
    m = len(e)
    xi, xp, xr = np.empty(m, np.int64), np.empty(m), np.empty(m, np.int64)
    for j in range(m):
        x = tk.exit_orders((o[:, j], h[:, j], lo[:, j], c[:, j]), e[j], side=side, **kw)
        xi[j], xp[j], xr[j] = x
    return xi, xp, xr


@pytest.mark.parametrize("kw", CONFIGS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
@pytest.mark.parametrize("direction, side", [("longonly", 1), ("shortonly", -1)])
def test_exits_equal_vectorbt_from_signals(kw, direction, side):
    """One entry per column, no exit signals: vectorbt's trade exits == exit_orders."""
    n, m = 400, 50
    bars, rng = _random_ohlc(11, n, m)
    o, h, lo, c = bars
    e = rng.integers(0, n - 1, m)
    entries = np.zeros((n, m), dtype=bool)
    entries[e, np.arange(m)] = True
    pf = vbt.Portfolio.from_signals(
        pd.DataFrame(c),
        pd.DataFrame(entries),
        False,
        open=pd.DataFrame(o),
        high=pd.DataFrame(h),
        low=pd.DataFrame(lo),
        direction=direction,
        **kw,
    )
    want_i, want_p = np.full(m, -1), np.full(m, np.nan)
    for r in pf.trades.records.to_dict("records"):
        assert r["entry_idx"] == e[r["col"]]
        if r["status"] == 1:  # closed
            want_i[r["col"]], want_p[r["col"]] = r["exit_idx"], r["exit_price"]
    xi, xp, _ = _ours(bars, e, side, kw)
    np.testing.assert_array_equal(xi, want_i)
    np.testing.assert_allclose(xp, want_p, rtol=1e-12, atol=0)
    assert (xi >= 0).sum() >= m // 2  # exits are exercised


@pytest.mark.parametrize("kw", CONFIGS[:3], ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
@pytest.mark.parametrize("side", [1, -1])
def test_exit_bars_and_types_equal_vectorbt_ohlc_stop_generator(kw, side):
    """vectorbt's numba generate_ohlc_stop_ex_nb (entry price = the signal bar's close,
    wait=1, first exit): same exit bars and stop types.  (Its stop price is the level
    even on a gap, so prices are not compared.)"""
    from vectorbt.signals.enums import StopType
    from vectorbt.signals.nb import generate_ohlc_stop_ex_nb

    n, m = 400, 50
    bars, rng = _random_ohlc(12, n, m)
    o, h, lo, c = bars
    e = rng.integers(0, n - 1, m)
    entries = np.zeros((n, m), dtype=bool)
    entries[e, np.arange(m)] = True
    price_out = np.full((n, m), np.nan)
    type_out = np.full((n, m), -1, dtype=np.int64)
    exits = generate_ohlc_stop_ex_nb(
        entries,
        c,
        h,
        lo,
        c,
        price_out,
        type_out,
        kw.get("sl_stop", np.nan),
        kw.get("sl_trail", False),
        kw.get("tp_stop", np.nan),
        side == -1,
        True,
        1,
        False,
        False,
        True,
        True,
    )  # is_open_safe, wait, until_next, skip_until_exit, pick_first, flex_2d
    want_i = np.array([int(np.flatnonzero(exits[:, j])[0]) if exits[:, j].any() else -1 for j in range(m)])
    xi, _, xr = _ours(bars, e, side, kw)
    np.testing.assert_array_equal(xi, want_i)
    codes = {
        StopType.StopLoss: ExitReason.SL,
        StopType.TrailStop: ExitReason.TSL,
        StopType.TakeProfit: ExitReason.TP,
    }
    want_r = np.array(
        [codes[int(type_out[i, j])] if i >= 0 else ExitReason.NONE for j, i in enumerate(want_i)]
    )
    np.testing.assert_array_equal(xr, want_r)


@pytest.mark.parametrize(
    "kw", CONFIGS + [dict()], ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "none"
)
@pytest.mark.parametrize("with_exits", [False, True])
@pytest.mark.parametrize("direction, side", [("longonly", 1), ("shortonly", -1)])
def test_trades_equal_vectorbt_from_signals(kw, with_exits, direction, side):
    """Random OHLC and signals (2-D): the trade records equal vectorbt's (col, entry / exit bar and price)."""
    n, m = 500, 30
    bars, rng = _random_ohlc(13, n, m)
    o, h, lo, c = bars
    entries = rng.random((n, m)) < 0.05
    exits = rng.random((n, m)) < 0.04 if with_exits else np.zeros((n, m), dtype=bool)
    pf = vbt.Portfolio.from_signals(
        pd.DataFrame(c),
        pd.DataFrame(entries),
        pd.DataFrame(exits),
        open=pd.DataFrame(o),
        high=pd.DataFrame(h),
        low=pd.DataFrame(lo),
        direction=direction,
        **kw,
    )
    want = pf.trades.records.sort_values(["col", "entry_idx"])
    got = tk.trades_from_signals(tk.BarIndex(o.T, h.T, lo.T, c.T), entries.T, exits.T, side=side, **kw)
    assert len(got) == len(want) > 20
    for f in ("col", "entry_idx", "exit_idx"):
        np.testing.assert_array_equal(got[f], want[f].to_numpy(), err_msg=f)
    for f in ("entry_price", "exit_price", "return"):
        np.testing.assert_allclose(got[f], want[f].to_numpy(), rtol=1e-9, atol=1e-12, err_msg=f)


@pytest.mark.parametrize("direction, side", [("longonly", 1), ("shortonly", -1)])
def test_trades_at_next_open_equal_vectorbt_shifted_signals(direction, side):
    """price="open" is vectorbt's from_signals(entries.shift(1), exits.shift(1), price=open):
    with signals only (no stops, whose entry-bar rule differs: ours checks the entry bar's
    range, vectorbt from the bar after), the same trades."""
    n, m = 500, 30
    bars, rng = _random_ohlc(17, n, m)
    o, h, lo, c = bars
    entries = rng.random((n, m)) < 0.05
    exits = rng.random((n, m)) < 0.04
    shift = lambda a: np.vstack([np.zeros((1, m), dtype=bool), a[:-1]])  # noqa: E731
    pf = vbt.Portfolio.from_signals(
        pd.DataFrame(c),
        pd.DataFrame(shift(entries)),
        pd.DataFrame(shift(exits)),
        price=pd.DataFrame(o),
        open=pd.DataFrame(o),
        high=pd.DataFrame(h),
        low=pd.DataFrame(lo),
        direction=direction,
    )
    want = pf.trades.records.sort_values(["col", "entry_idx"])
    got = tk.trades_from_signals(
        tk.BarIndex(o.T, h.T, lo.T, c.T), entries.T, exits.T, side=side, price="open"
    )
    assert len(got) == len(want) > 20
    for f in ("col", "entry_idx", "exit_idx"):
        np.testing.assert_array_equal(got[f], want[f].to_numpy(), err_msg=f)
    for f in ("entry_price", "exit_price", "return"):
        np.testing.assert_allclose(got[f], want[f].to_numpy(), rtol=1e-9, atol=1e-12, err_msg=f)
