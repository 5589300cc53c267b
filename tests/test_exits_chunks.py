"""exit_orders over bars that arrive in chunks (``state=``, ``return_state=True``).

The same positions with every chunk; ``entry_idx`` / ``expiry`` / ``exit_idx``
count bars from the first chunk.  After the last chunk the exits must equal one
call over all the bars, bit for bit: an open position goes on with its levels
and its trailing reference (the best usable bar so far, the first of equal ones,
which decides the sign of a zero price), entries may fall in any chunk (or on its
last bar, with entry at the close), expiries in a later chunk, on 1-D and 2-D
bars, with the native and the reference backends.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tradekernels as tk
from tradekernels.fills import ExitState


def _bars(rng, n, rows=None, zeros=False, vol=0.02):
    shape = (n,) if rows is None else (rows, n)
    c = 100.0 * np.cumprod(1.0 + rng.normal(0.0, vol, shape), axis=-1)
    o = np.concatenate([np.full(shape[:-1] + (1,), 100.0), c[..., :-1]], axis=-1)
    o = o * (1.0 + rng.normal(0.0, 0.01, shape) * (rng.random(shape) < 0.2))
    h = np.maximum(o, c) * (1.0 + 0.01 * rng.random(shape))
    lo = np.minimum(o, c) * (1.0 - 0.01 * rng.random(shape))
    bars = [np.round(v, 1) for v in (o, h, lo, c)]
    bars[int(rng.integers(0, 4))][rng.random(shape) < 0.05] = np.nan
    if zeros:  # prices at zero, of both signs: ties whose first decides the sign of a level
        z = rng.random(shape) < 0.1
        for b in bars:
            b[z] = rng.choice([0.0, -0.0], int(z.sum()))
    return tuple(bars)


def _positions(rng, n, k, close):
    e = rng.integers(0, max(n, 1), k)
    u = rng.random(k)
    expiry = np.where(u < 0.6, -1, e + rng.integers(0, max(2, n), k))

    def frac(p_none):
        v = rng.choice(np.array([0.0, 0.005, 0.02, 0.1]), k)
        v[rng.random(k) < p_none] = np.nan
        return v

    ref = np.nan_to_num(close[..., e].reshape(-1)[:k] if close.ndim == 1 else close[0, e], nan=100.0)
    lvl = ref * rng.choice(np.array([0.9, 0.97, 1.03, 1.1]), k)
    return dict(
        entry_idx=e,
        entry_price=None if rng.random() < 0.5 else np.where(rng.random(k) < 0.05, np.nan, ref),
        side=rng.choice([1, -1], k),
        sl_stop=frac(0.3),
        tsl_stop=frac(0.5),
        tp_stop=frac(0.3),
        sl_trail=rng.random(k) < 0.3,
        sl_price=np.where(rng.random(k) < 0.8, np.nan, lvl),
        tp_price=np.where(rng.random(k) < 0.8, np.nan, lvl[::-1]),
        expiry=expiry,
        slippage=np.where(rng.random(k) < 0.7, 0.0, 0.001),
    )


def _run_chunks(bars, pos, cuts, **kw):
    st_, out = None, None
    for a, b in zip(cuts[:-1], cuts[1:]):
        chunk = tuple(x[..., a:b] for x in bars)
        out, st_ = tk.exit_orders(chunk, **pos, **kw, state=st_, return_state=True)
        assert st_.seen == b
    return out, st_


def _same(a, b):
    assert np.array_equal(a.exit_idx, b.exit_idx)
    assert np.array_equal(np.asarray(a.exit_price).view(np.int64), np.asarray(b.exit_price).view(np.int64))
    assert np.array_equal(a.reason, b.reason)


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(0, 150),
    k=st.integers(0, 60),
    seed=st.integers(0, 2**32 - 1),
    cuts=st.lists(st.integers(0, 150), max_size=5),
    two_d=st.booleans(),
    zeros=st.booleans(),
    same_bar=st.sampled_from(["stop", "take", "open"]),
    entry_at=st.sampled_from(["close", "open"]),
)
def test_chunks_equal_one_call(n, k, seed, cuts, two_d, zeros, same_bar, entry_at):
    rng = np.random.default_rng(seed)
    rows = 3 if two_d else None
    bars = _bars(rng, n, rows, zeros)
    if n == 0:
        k = 0
    pos = _positions(rng, n, k, bars[3])
    if two_d:
        pos["col"] = rng.integers(0, 3, k)
    kw = dict(same_bar=same_bar, entry_at=entry_at)
    cuts = [0] + sorted(min(c, n) for c in cuts) + [n]
    batch = tk.exit_orders(bars, **pos, **kw)
    got, st_ = _run_chunks(bars, pos, cuts, **kw)
    _same(got, batch)
    assert np.all((st_.phase == 2) == (batch.exit_idx >= 0))


def test_chunks_with_the_reference_backend():
    rng = np.random.default_rng(11)
    bars = _bars(rng, 90, zeros=True)
    pos = _positions(rng, 90, 150, bars[3])
    batch = tk.exit_orders(bars, **pos)
    with tk.backend("reference"):
        got, _ = _run_chunks(bars, pos, [0, 30, 31, 60, 90])
    _same(got, batch)


def test_trailing_reference_carries_over_the_chunk_boundary():
    # long, trailing 10 % from 100: the high of 120 on bar 2 (chunk 1) moves the stop to 108;
    # bar 4 (chunk 2) trades down to 107: out at 108 -- not at 90, the level from the entry price
    o = np.array([100.0, 101.0, 115.0, 112.0, 110.0])
    h = np.array([101.0, 105.0, 120.0, 113.0, 111.0])
    lo = np.array([99.0, 100.0, 114.0, 109.0, 107.0])
    c = np.array([100.0, 104.0, 116.0, 110.0, 108.0])
    batch = tk.exit_orders((o, h, lo, c), 0, tsl_stop=0.1)
    assert (int(batch.exit_idx), float(batch.exit_price), int(batch.reason)) == (4, 108.0, tk.ExitReason.TSL)
    got, st_ = _run_chunks((o, h, lo, c), dict(entry_idx=0, tsl_stop=0.1), [0, 3, 5])
    _same(got, batch)
    _, st3 = tk.exit_orders((o[:3], h[:3], lo[:3], c[:3]), 0, tsl_stop=0.1, return_state=True)
    assert (int(st3.phase), float(st3.ref), float(st3.frac)) == (1, 120.0, 0.1)


def test_signed_zero_reference_is_the_first_of_equal_bars():
    # a long from -1 with a 50 % trailing stop: bar 1's high -0.0 becomes the reference; bar 2's
    # high 0.0 equals it (an inconsistent bar, low 5, so the stop is not reached) and must not
    # replace it; bar 3 gaps through the stop -0.0 * 0.5 and exits at the stop: -0.0, which the
    # reference carried over a chunk boundary must keep
    o = np.array([-1.0, -0.0, 0.0, 1.0])
    h = np.array([-1.0, -0.0, 0.0, 1.0])
    lo = np.array([-1.0, -0.0, 5.0, -1.0])
    c = np.array([-1.0, -0.0, 0.0, 0.0])
    pos = dict(entry_idx=0, entry_price=-1.0, side=1, tsl_stop=0.5)
    batch = tk.exit_orders((o, h, lo, c), **pos)
    assert int(batch.exit_idx) == 3 and float(batch.exit_price) == 0.0 and np.signbit(batch.exit_price)
    for cuts in ([0, 3, 4], [0, 2, 4], [0, 1, 3, 4], [0, 1, 2, 3, 4]):
        got, _ = _run_chunks((o, h, lo, c), pos, cuts)
        _same(got, batch)
    _, st3 = tk.exit_orders((o[:3], h[:3], lo[:3], c[:3]), **pos, return_state=True)
    assert float(st3.ref) == 0.0 and np.signbit(st3.ref)


def test_entry_on_the_last_bar_of_a_chunk_and_expiry_in_a_later_one():
    rng = np.random.default_rng(5)
    bars = _bars(rng, 40)
    for entry_at in ("close", "open"):
        pos = dict(entry_idx=[9, 9, 10, 0], tsl_stop=[0.02, np.nan, 0.05, np.nan], expiry=[25, 9, -1, 33])
        batch = tk.exit_orders(bars, **pos, entry_at=entry_at)
        got, _ = _run_chunks(bars, pos, [0, 10, 20, 40], entry_at=entry_at)
        _same(got, batch)


def test_scalar_positions_pickle_and_entries_not_yet_come():
    o = h = lo = c = np.array([100.0, 100.0, 80.0, 70.0])
    ex, st_ = tk.exit_orders((o[:2], h[:2], lo[:2], c[:2]), 3, 100.0, sl_stop=0.1, return_state=True)
    assert np.ndim(ex.exit_idx) == 0 and int(ex.exit_idx) == -1 and int(st_.phase) == 0
    st2 = pickle.loads(pickle.dumps(st_))
    ex = tk.exit_orders((o[2:], h[2:], lo[2:], c[2:]), 3, 100.0, sl_stop=0.1, state=st2)
    assert isinstance(ex, tk.Exits) and int(ex.exit_idx) == -1  # entered on the last bar: open
    ex, st3 = tk.exit_orders((o[:3], h[:3], lo[:3], c[:3]), 1, 100.0, sl_stop=0.1, return_state=True)
    assert (int(ex.exit_idx), float(ex.exit_price), int(st3.phase)) == (2, 80.0, 2)


def test_bad_states_and_positions_raise():
    bars = tuple(np.full(4, 100.0) for _ in range(4))
    _, st_ = tk.exit_orders(bars, [0, 1], sl_stop=0.1, return_state=True)
    with pytest.raises(TypeError, match="ExitState"):
        tk.exit_orders(bars, [0, 1], sl_stop=0.1, state=tk.State.initial("drawdown"))
    with pytest.raises(ValueError, match="shape"):
        tk.exit_orders(bars, [0, 1, 2], sl_stop=0.1, state=st_)
    with pytest.raises(ValueError, match="seen"):
        tk.exit_orders(bars, [0, 1], sl_stop=0.1, state=st_._replace(seen=-2))
    with pytest.raises(IndexError, match="entry_idx"):
        tk.exit_orders(bars, [-1, 1], sl_stop=0.1, return_state=True)
    with pytest.raises(ValueError, match="expiry"):
        tk.exit_orders(bars, [2, 1], sl_stop=0.1, expiry=[1, -1], return_state=True)
    with pytest.raises(ValueError, match="broadcast"):
        tk.exit_orders(bars, [0, 1], side=[1, 1, -1], return_state=True)
    assert isinstance(st_, ExitState) and st_.phase.dtype == np.int8


def test_a_bar_with_a_nan_open_or_close_does_not_move_the_carried_reference():
    # bar 1 has a NaN open (so it checks nothing and moves nothing) and the highest high; the
    # stop that decides the exit is 10 % under 102 (bar 2), not under 130
    for nan_field in (0, 3):
        bars = [
            np.array([100.0, 100.0, 101.0, 100.0, 95.0]),
            np.array([101.0, 130.0, 102.0, 101.0, 96.0]),
            np.array([99.0, 99.0, 100.0, 99.0, 90.0]),
            np.array([100.0, 100.0, 101.0, 100.0, 95.0]),
        ]
        bars[nan_field][1] = np.nan
        batch = tk.exit_orders(tuple(bars), 0, tsl_stop=0.1)
        assert (int(batch.exit_idx), float(batch.exit_price)) == (4, 102.0 * 0.9)
        for cuts in ([0, 2, 5], [0, 1, 2, 5]):
            got, _ = _run_chunks(tuple(bars), dict(entry_idx=0, tsl_stop=0.1), cuts)
            _same(got, batch)


def test_the_state_compares_by_value_with_nan_equal_to_nan():
    """Two identical calls, and a pickle round trip, give equal states although levels are
    NaN (absent stops, positions not entered); a different state is unequal; unhashable."""
    rng = np.random.default_rng(4)
    bars = _bars(rng, 30)
    pos = _positions(rng, 30, 20, bars[3])
    _, st1 = tk.exit_orders(tuple(b[:20] for b in bars), **pos, return_state=True)
    _, st2 = tk.exit_orders(tuple(b[:20] for b in bars), **pos, return_state=True)
    assert np.isnan(st1.stop).any()
    assert st1 == st2 and not st1 != st2
    assert pickle.loads(pickle.dumps(st1)) == st1
    _, other = tk.exit_orders(tuple(b[:19] for b in bars), **pos, return_state=True)
    assert st1 != other and not st1 == other
    with pytest.raises(TypeError, match="unhashable"):
        hash(st1)
