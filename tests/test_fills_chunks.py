"""fill_orders over bars that arrive in chunks (``state=``, ``return_state=True``).

The same orders with every chunk; ``start`` / ``expiry`` / ``fill_index`` count
bars from the first chunk.  After the last chunk the fills must equal one call
over all the bars, bit for bit, for every order kind, on 1-D and 2-D bars, with
the native and the reference backends: a stop-limit whose stop triggers in one
chunk without a fill goes on as a limit order in the next, an expiry before a
chunk means "never" there (not "good till cancelled"), and an order with a
negative start never fills.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tradekernels as tk
from tradekernels.fills import FillState, OrderKind


def _bars(rng, n, rows=None):
    shape = (n,) if rows is None else (rows, n)
    c = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, shape), axis=-1)
    o = np.concatenate([c[..., :1], c[..., :-1]], axis=-1) * (1.0 + rng.normal(0.0, 0.01, shape))
    h = np.maximum(o, c) * (1.0 + np.abs(rng.normal(0.0, 0.01, shape)))
    lo = np.minimum(o, c) * (1.0 - np.abs(rng.normal(0.0, 0.01, shape)))
    bad = rng.random(shape) < 0.05
    h[bad] = np.nan  # unusable bars: time passes, nothing fills
    return o, h, lo, c


def _orders(rng, n, m, close):
    start = rng.integers(-3, n + 3, m)
    side = rng.choice([1, -1], m)
    kind = rng.integers(0, 4, m)
    ref = close[..., np.clip(start, 0, max(n - 1, 0))] if n else np.full(m, 100.0)
    price = ref * (1.0 + rng.normal(0.0, 0.04, m))
    limit = price * (1.0 + rng.normal(0.0, 0.02, m))
    expiry = np.where(rng.random(m) < 0.3, -1, start + rng.integers(-3, n // 2 + 2, m))
    expiry[rng.random(m) < 0.05] = -2
    return start, side, kind, price, limit, expiry


def _run_chunks(bars, orders, cuts, col=None):
    st_ = None
    out = None
    for a, b in zip(cuts[:-1], cuts[1:]):
        chunk = tuple(x[..., a:b] for x in bars)
        out, st_ = tk.fill_orders(chunk, *orders, col=col, state=st_, return_state=True)
        assert st_.seen == b
    return out, st_


def _same(a, b):
    assert np.array_equal(a.fill_index, b.fill_index)
    assert np.array_equal(np.asarray(a.fill_price).view(np.int64), np.asarray(b.fill_price).view(np.int64))


@settings(max_examples=120, deadline=None)
@given(
    n=st.integers(0, 120),
    m=st.integers(0, 60),
    seed=st.integers(0, 2**32 - 1),
    cuts=st.lists(st.integers(0, 120), max_size=5),
    two_d=st.booleans(),
)
def test_chunks_equal_one_call(n, m, seed, cuts, two_d):
    rng = np.random.default_rng(seed)
    rows = 3 if two_d else None
    bars = _bars(rng, n, rows)
    col = rng.integers(0, 3, m) if two_d else None
    close = bars[3][0] if two_d else bars[3]
    orders = _orders(rng, n, m, close)
    cuts = [0] + sorted(min(c, n) for c in cuts) + [n]
    batch = tk.fill_orders(bars, *orders, col=col)
    got, st_ = _run_chunks(bars, orders, cuts, col)
    _same(got, batch)
    # the state's own account: done orders hold their fill, converted stop-limits resume later
    assert np.array_equal(st_.fill_index, batch.fill_index)
    assert np.all((st_.phase == 2) | (batch.fill_index < 0))
    assert np.all(st_.resume[st_.phase == 1] >= 1)
    assert np.all(np.asarray(orders[2])[st_.resume >= 0] == OrderKind.STOP_LIMIT)


def test_chunks_with_the_reference_backend():
    rng = np.random.default_rng(7)
    bars = _bars(rng, 80)
    orders = _orders(rng, 80, 200, bars[3])
    batch = tk.fill_orders(bars, *orders)
    with tk.backend("reference"):
        got, _ = _run_chunks(bars, orders, [0, 13, 14, 50, 80])
    _same(got, batch)


def test_stop_limit_triggered_at_a_chunk_end_fills_as_a_limit_in_the_next():
    # buy stop-limit: stop 105, limit 104.  Bar 1 gaps to 106 (trigger price 106 > limit: no
    # fill on the trigger bar); bar 2 trades down to 103: a limit fill at 104.
    o = np.array([100.0, 106.0, 105.0, 101.0])
    h = np.array([101.0, 107.0, 105.5, 102.0])
    lo = np.array([99.0, 105.5, 103.0, 100.0])
    c = np.array([100.5, 106.5, 104.0, 101.5])
    orders = (0, 1, "stop_limit", 105.0, 104.0, -1)
    batch = tk.fill_orders((o, h, lo, c), *orders)
    assert (int(batch.fill_index), float(batch.fill_price)) == (2, 104.0)
    for cuts in ([0, 2, 4], [0, 1, 2, 3, 4], [0, 2, 2, 4]):
        got, _ = _run_chunks((o, h, lo, c), orders, cuts)
        assert (int(got.fill_index), float(got.fill_price)) == (2, 104.0), cuts
    _, st_ = tk.fill_orders((o[:2], h[:2], lo[:2], c[:2]), *orders, return_state=True)
    assert (int(st_.phase), int(st_.resume), int(st_.fill_index)) == (1, 2, -1)
    # an untriggered stop-limit is not converted, and a limit does not fill before the trigger
    _, st0 = tk.fill_orders((o[:1], h[:1], lo[:1], c[:1]), *orders, return_state=True)
    assert (int(st0.phase), int(st0.resume)) == (0, -1)


def test_expiry_before_a_chunk_is_never_not_good_till_cancelled():
    o = h = lo = c = np.array([100.0, 100.0, 100.0, 90.0, 90.0])
    bars = (o, h, lo, c)
    for expiry in (1, 2, 3):  # bar 2's chunk ends at 2: expiry - seen is -1 for expiry 2
        orders = (0, 1, "limit", 95.0, None, expiry)
        batch = tk.fill_orders(bars, *orders)
        got, _ = _run_chunks(bars, orders, [0, 3, 5])
        assert int(got.fill_index) == int(batch.fill_index) == (3 if expiry >= 3 else -1), expiry


def test_negative_start_never_fills_in_any_chunk():
    o = h = lo = c = np.full(6, 100.0)
    got, st_ = _run_chunks((o, h, lo, c), ([-1, 0, 2], 1, "market", np.nan, None, -1), [0, 1, 3, 6])
    assert got.fill_index.tolist() == [-1, 0, 2] and st_.phase.tolist() == [2, 2, 2]


def test_scalar_orders_give_scalars_and_the_state_pickles():
    o = h = lo = c = np.array([100.0, 101.0, 99.0])
    f, st_ = tk.fill_orders((o[:1], h[:1], lo[:1], c[:1]), 1, 1, "market", np.nan, return_state=True)
    assert np.ndim(f.fill_index) == 0 and int(f.fill_index) == -1
    st2 = pickle.loads(pickle.dumps(st_))
    f = tk.fill_orders((o[1:], h[1:], lo[1:], c[1:]), 1, 1, "market", np.nan, state=st2)
    assert isinstance(f, tk.Fills) and (int(f.fill_index), float(f.fill_price)) == (1, 101.0)


def test_bad_states_raise():
    bars = tuple(np.full(4, 100.0) for _ in range(4))
    orders = ([0, 1], 1, "limit", 100.0, None, -1)
    _, st_ = tk.fill_orders(bars, *orders, return_state=True)
    with pytest.raises(TypeError, match="FillState"):
        tk.fill_orders(bars, *orders, state=tk.State.initial("drawdown"))
    with pytest.raises(ValueError, match="shape"):
        tk.fill_orders(bars, [0, 1, 2], 1, "limit", 100.0, state=st_)
    with pytest.raises(ValueError, match="seen"):
        tk.fill_orders(bars, *orders, state=st_._replace(seen=-1))
    with pytest.raises(ValueError, match="broadcast"):
        tk.fill_orders(bars, [0, 1], [1, 1, 1], "limit", 100.0, state=st_)
    assert isinstance(st_, FillState) and st_.phase.dtype == np.int8
    assert OrderKind.STOP_LIMIT == 3


def test_the_state_compares_by_value_with_nan_equal_to_nan():
    """Two identical calls, and a pickle round trip, give equal states although unfilled
    orders hold NaN prices (as tk.State compares); a different state is unequal; unhashable."""
    rng = np.random.default_rng(4)
    bars = _bars(rng, 30)
    orders = _orders(rng, 30, 20, bars[3])
    _, st1 = tk.fill_orders(bars, *orders, return_state=True)
    _, st2 = tk.fill_orders(bars, *orders, return_state=True)
    assert np.isnan(st1.fill_price).any()
    assert st1 == st2 and not st1 != st2
    assert pickle.loads(pickle.dumps(st1)) == st1
    _, other = tk.fill_orders(tuple(b[:29] for b in bars), *orders, return_state=True)
    assert st1 != other and not st1 == other
    assert st1 != st1._replace(fill_price=np.where(np.isnan(st1.fill_price), 0.0, st1.fill_price))
    with pytest.raises(TypeError, match="unhashable"):
        hash(st1)
