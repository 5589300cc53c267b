"""tk.stream.Order: one working order, bar by bar.

Its fill (the update that fills it and the price) must be ``fill_orders(bars, 0, side,
kind, price, limit, expiry=bars - 1)`` on the bars fed, bit for bit, for every kind
(including a stop-limit triggered without a fill), NaN bars, gaps and zero prices;
after the fill, or past its last live bar, it answers None.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tradekernels as tk


def _bars(rng, n, zeros):
    c = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, n))
    o = np.concatenate([[100.0], c[:-1]])[:n] * (1.0 + rng.normal(0.0, 0.01, n) * (rng.random(n) < 0.3))
    h = np.maximum(o, c) * (1.0 + 0.01 * rng.random(n))
    lo = np.minimum(o, c) * (1.0 - 0.01 * rng.random(n))
    bars = [np.round(v, 1) for v in (o, h, lo, c)]
    bars[int(rng.integers(0, 4))][rng.random(n) < 0.1] = np.nan
    if zeros:
        z = rng.random(n) < 0.1
        for b in bars:
            b[z] = rng.choice([0.0, -0.0], int(z.sum()))
    return tuple(bars)


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(0, 60),
    seed=st.integers(0, 2**32 - 1),
    side=st.sampled_from([1, -1]),
    kind=st.sampled_from(["market", "limit", "stop", "stop_limit"]),
    off=st.sampled_from([0.9, 0.97, 1.0, 1.03, 1.1]),
    loff=st.sampled_from([0.95, 1.0, 1.05]),
    bars_live=st.one_of(st.none(), st.integers(0, 70)),
    zeros=st.booleans(),
)
def test_live_order_equals_fill_orders(n, seed, side, kind, off, loff, bars_live, zeros):
    rng = np.random.default_rng(seed)
    bars = _bars(rng, n, zeros)
    price = 100.0 * off
    limit = price * loff if kind == "stop_limit" else None
    expiry = -1 if bars_live is None else bars_live - 1
    if bars_live == 0:
        expiry = -2  # never live ("any expiry < start other than -1")
    want = tk.fill_orders(bars, 0, side, kind, price, limit, expiry) if n else None
    o = tk.stream.Order(side, kind, price, limit, bars=bars_live)
    got = [o.update(*(b[i] for b in bars)) for i in range(n)]
    hits = [i for i, g in enumerate(got) if g is not None]
    assert len(hits) <= 1 and o.seen == n
    if n == 0:
        assert o.fill_index == -1 and math.isnan(o.fill_price)
        return
    assert o.fill_index == int(want.fill_index) == (hits[0] if hits else -1)
    assert np.float64(o.fill_price).tobytes() == np.float64(want.fill_price).tobytes()
    if hits:
        assert np.float64(got[hits[0]]).tobytes() == np.float64(want.fill_price).tobytes() and o.done


def test_stop_limit_by_hand():
    # buy stop 105 limit 104: bar 1 gaps up to 106 (trigger at the open 106 > limit: no
    # fill, a limit order at 104 from bar 2 on); bar 2 trades down to 103: filled at 104
    o = tk.stream.Order(1, tk.OrderKind.STOP_LIMIT, 105.0, 104.0)
    assert o.update(100, 101, 99, 100) is None and not o.converted
    assert o.update(106, 107, 105.5, 106) is None and o.converted
    assert o.update(105, 105, 103, 104) == 104.0
    assert (o.fill_index, o.done) == (2, True)
    assert o.update(90, 90, 90, 90) is None and o.fill_index == 2
    assert "filled at 104.0" in repr(o)


def test_expiry_and_bad_arguments():
    o = tk.stream.Order(1, "limit", 90.0, bars=2)
    assert o.update(100, 101, 99, 100) is None and o.update(100, 101, 99, 100) is None
    assert o.done and o.update(80, 80, 80, 80) is None and o.fill_index == -1
    with pytest.raises(ValueError, match="side"):
        tk.stream.Order(0, "limit", 90.0)
    with pytest.raises(ValueError, match="kind"):
        tk.stream.Order(1, "iceberg", 90.0)
    with pytest.raises(ValueError, match="limit"):
        tk.stream.Order(1, "stop_limit", 90.0)
    with pytest.raises(ValueError, match="bars"):
        tk.stream.Order(1, "limit", 90.0, bars=-1)
    with pytest.raises(TypeError):
        tk.stream.Order(1, "limit", 90.0).update(1.0, 2.0, 3.0)
    with pytest.raises(TypeError):
        tk.stream.Order(1, "limit", 90.0).update("a", 2.0, 3.0, 4.0)


def test_live_argument_errors_name_the_live_class():
    """Errors of the batch checks the live classes share name the class, not the batch function."""
    with pytest.raises(ValueError, match=r"^tradekernels\.stream\.Order: unknown order kind 'lim'"):
        tk.stream.Order(1, "lim", 99.0)
    with pytest.raises(TypeError, match=r"^tradekernels\.stream\.Order: kind must be"):
        tk.stream.Order(1, True, 99.0)
    with pytest.raises(ValueError, match=r"^tradekernels\.stream\.SignalTrades: side must be"):
        tk.stream.SignalTrades(2)
    with pytest.raises(ValueError, match=r"^tradekernels\.stream\.SignalTrades: same_bar"):
        tk.stream.SignalTrades(1, same_bar="never")
