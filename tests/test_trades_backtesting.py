"""trades_from_signals against backtesting.py (a peer; skipped where it is not installed).

The README states two backtesting.py conventions: ``reenter_on_exit_bar=True`` re-enters on
an entry signal at the exit bar (its ``next()`` sees the position closed by a stop on that
bar and buys again), and ``same_bar="stop"`` takes the stop when a bar reaches both stop and
target (it places the stop order first).  Here a backtesting.py Strategy trades the same
signals with the same rule (a bar with both signals has neither) and its closed trades must
equal ours: entry / exit bar and price, exactly.

* ``price="close"``: ``Backtest(trade_on_close=True)``, stops given as prices from the
  signal bar's close (our fractions of the entry price);
* ``price="open"``: ``Backtest(trade_on_close=False)``, no stops (backtesting.py's stop
  prices must be known when the order is placed, before the entry open);
* backtesting.py calls ``next()`` from the second bar on, so no signal is put on bar 0; the
  trade still open at the end is left out (``finalize_trades=False``; ours reports it END).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tradekernels as tk

bt = pytest.importorskip("backtesting")
pd = pytest.importorskip("pandas")


def _bars(seed, n):
    rng = np.random.default_rng(seed)
    c = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, n))
    o = np.concatenate([[100.0], c[:-1]]) * (1.0 + rng.normal(0.0, 0.01, n) * (rng.random(n) < 0.3))
    h = np.maximum(o, c) * (1.0 + 0.01 * rng.random(n))
    lo = np.minimum(o, c) * (1.0 - 0.01 * rng.random(n))
    ent, ext = rng.random(n) < 0.15, rng.random(n) < 0.08
    ent[0] = False
    return tuple(np.round(v, 2) for v in (o, h, lo, c)), ent, ext


def _peer_trades(bars, ent, ext, side, sl, tp, on_close):
    o, h, lo, c = bars
    df = pd.DataFrame(
        {"Open": o, "High": h, "Low": lo, "Close": c},
        index=pd.date_range("2020-01-01", periods=len(o), freq="D"),
    )
    E, X = ent & ~ext, ext & ~ent

    class Signals(bt.Strategy):
        def init(self):
            pass

        def next(self):
            i = len(self.data) - 1
            if self.position and X[i]:
                self.position.close()
            elif not self.position and E[i]:
                kw = {}
                if on_close:  # stops as prices from the entry (this bar's close)
                    p = self.data.Close[-1]
                    if sl is not None:
                        kw["sl"] = p * (1.0 - sl) if side == 1 else p * (1.0 + sl)
                    if tp is not None:
                        kw["tp"] = p * (1.0 + tp) if side == 1 else p * (1.0 - tp)
                (self.buy if side == 1 else self.sell)(size=1, **kw)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = bt.Backtest(
            df, Signals, cash=1e9, commission=0, trade_on_close=on_close, finalize_trades=False
        ).run()
    t = run._trades
    return sorted(
        (int(a), int(b), float(p), float(q))
        for a, b, p, q in zip(t.EntryBar, t.ExitBar, t.EntryPrice, t.ExitPrice)
    )


def _ours(rec):
    return [
        (int(r["entry_idx"]), int(r["exit_idx"]), float(r["entry_price"]), float(r["exit_price"]))
        for r in rec
        if r["exit_reason"] != tk.ExitReason.END
    ]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("side", [1, -1])
@pytest.mark.parametrize("sl, tp", [(0.03, 0.05), (None, 0.04), (0.02, None), (None, None)])
def test_close_with_stops_and_reentry_equal_backtesting(seed, side, sl, tp):
    bars, ent, ext = _bars(seed, 300)
    ours = tk.trades_from_signals(bars, ent, ext, side=side, sl_stop=sl, tp_stop=tp, reenter_on_exit_bar=True)
    got = _ours(ours)
    assert len(got) > 5
    assert got == _peer_trades(bars, ent, ext, side, sl, tp, on_close=True)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("side", [1, -1])
def test_next_open_equal_backtesting(seed, side):
    bars, ent, ext = _bars(seed, 300)
    got = _ours(tk.trades_from_signals(bars, ent, ext, side=side, price="open"))
    assert len(got) > 5
    assert got == _peer_trades(bars, ent, ext, side, None, None, on_close=False)


@pytest.mark.parametrize("side", [1, -1])
def test_stop_and_target_on_one_bar_take_the_stop_as_backtesting(side):
    # in at bar 1's close (100); bar 2 reaches both 95 and 105: the stop wins
    o = np.full(5, 100.0)
    h = np.array([101.0, 101.0, 110.0, 101.0, 101.0])
    lo = np.array([99.0, 99.0, 90.0, 99.0, 99.0])
    ent = np.array([0, 1, 0, 0, 0], dtype=bool)
    none = np.zeros(5, dtype=bool)
    got = _ours(tk.trades_from_signals((o, h, lo, o), ent, side=side, sl_stop=0.05, tp_stop=0.05))
    assert got == [(1, 2, 100.0, 95.0 if side == 1 else 105.0)]
    assert got == _peer_trades((o, h, lo, o), ent, none, side, 0.05, 0.05, on_close=True)
