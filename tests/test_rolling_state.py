"""rolling_max_drawdown with state= (chunks) and tk.stream.RollingMaxDrawdown (live).

The state (``State("rolling_max_drawdown/<window>")``) holds the bars seen and
the last ``window - 1`` prices; chunks concatenated, a stream's updates, and a
stream continued from a batch state all give the batch result bit for bit,
on positive prices (the O(1) summaries) and on NaN, zero, negative and
infinite prices (the naive recomputation), with every min_periods.
"""

from __future__ import annotations

import gc
import pickle
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tradekernels as tk
from tradekernels.stream import RollingMaxDrawdown

SPECIALS = (np.nan, 0.0, -0.0, -2.0, np.inf, -np.inf, 1e-310)


@st.composite
def cases(draw):
    n = draw(st.integers(0, 70), label="n")
    w = draw(st.integers(1, 15), label="window")
    mp = draw(st.integers(0, w), label="min_periods")
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))
    x = 100.0 * np.cumprod(1.0 + rng.normal(0.0, draw(st.sampled_from([0.01, 0.1])), n))
    kind = draw(st.sampled_from(["positive", "nan", "special", "ties"]), label="kind")
    if kind == "nan":
        x[rng.random(n) < 0.2] = np.nan
    elif kind == "special":
        m = rng.random(n) < 0.1
        x[m] = rng.choice(SPECIALS, int(m.sum()))
    elif kind == "ties":
        x = np.round(x / 10.0) * 10.0
    inner = draw(st.lists(st.integers(0, n), max_size=4), label="cuts")
    return x, w, mp, [0] + sorted(inner) + [n]


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


@settings(max_examples=150, deadline=None)
@given(c=cases())
def test_chunked_equals_batch(c):
    x, w, mp, cuts = c
    with np.errstate(all="ignore"):
        batch = tk.rolling_max_drawdown(x, w, min_periods=mp)
        s, parts = None, []
        for a, b in zip(cuts[:-1], cuts[1:]):
            r, s = tk.rolling_max_drawdown(x[a:b], w, min_periods=mp, state=s, return_state=True)
            parts.append(r)
    assert _same(np.concatenate(parts), batch), f"cuts {cuts}"
    assert s.kernel == f"rolling_max_drawdown/{w}" and s.seen == len(x)


@settings(max_examples=150, deadline=None)
@given(c=cases())
def test_stream_equals_batch(c):
    x, w, mp, cuts = c
    with np.errstate(all="ignore"):
        batch = tk.rolling_max_drawdown(x, w, min_periods=mp)
        live = RollingMaxDrawdown(w, mp)
        got = np.array([live.update(v) for v in x], dtype=np.float64)
        assert _same(got, batch)
        assert live.state == tk.rolling_max_drawdown(x, w, min_periods=mp, return_state=True)[1]
        # continued from a batch state, and the other way round
        k = cuts[len(cuts) // 2]
        _, s = tk.rolling_max_drawdown(x[:k], w, min_periods=mp, return_state=True)
        live = RollingMaxDrawdown(w, mp, state=s)
        assert _same(np.array([live.update(v) for v in x[k:]], dtype=np.float64), batch[k:])
        live = RollingMaxDrawdown(w, mp)
        for v in x[:k]:
            live.update(v)
        assert _same(live.extend(x[k:]), batch[k:])
        assert RollingMaxDrawdown(w, mp, state=live.state).state == live.state  # the state round-trips


def test_float32_chunks_and_2d():
    rng = np.random.default_rng(5)
    x = (100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, (3, 50)), axis=-1)).astype(np.float32)
    x[0, 7] = np.nan
    batch = tk.rolling_max_drawdown(x, 9, min_periods=3)
    r1, s = tk.rolling_max_drawdown(x[:, :20], 9, min_periods=3, return_state=True)
    r2 = tk.rolling_max_drawdown(x[:, 20:], 9, min_periods=3, state=s)
    assert _same(np.concatenate([r1, r2], axis=-1), batch)
    # axis=0 (time first) with the same state
    r1t, s = tk.rolling_max_drawdown(x[:, :20].T, 9, min_periods=3, axis=0, return_state=True)
    r2t = tk.rolling_max_drawdown(x[:, 20:].T, 9, min_periods=3, axis=0, state=s)
    assert _same(np.concatenate([r1t, r2t], axis=0), batch.T)


def test_state_checks_and_pickle():
    x = np.array([100.0, 90.0, 95.0, 80.0])
    _, s = tk.rolling_max_drawdown(x, 3, return_state=True)
    assert s.fields == ("seen", "x1", "x2") and s.seen == 4 and (s.x1, s.x2) == (95.0, 80.0)
    with pytest.raises(ValueError, match="state"):
        tk.rolling_max_drawdown(x, 4, state=s)  # another window
    with pytest.raises(ValueError, match="state"):
        tk.rolling_max_drawdown(x, 3, state=tk.State.initial("drawdown"))
    live = RollingMaxDrawdown(3, 1)
    for v in x:
        live.update(v)
    clone = pickle.loads(pickle.dumps(live))
    assert clone.update(70.0) == live.update(70.0)
    live.reset()
    assert np.isnan(RollingMaxDrawdown(3).update(1.0)) and live.update(5.0) == 0.0
    with pytest.raises(ValueError, match="window"):
        RollingMaxDrawdown(0)
    with pytest.raises(ValueError, match="min_periods"):
        RollingMaxDrawdown(3, 4)
    for bad in (float("inf"), 2.5, True, "2"):  # the batch function's rules: an integer
        with pytest.raises(TypeError, match="min_periods must be an integer"):
            RollingMaxDrawdown(3, bad)
        with pytest.raises(TypeError, match="min_periods must be an integer"):
            tk.rolling_max_drawdown(np.ones(4), 3, min_periods=bad)
    with pytest.raises(TypeError, match="window must be an integer"):
        RollingMaxDrawdown(3.0)


def test_rolling_layout_names_are_canonical():
    """The window in a rolling layout name is a canonical integer >= 1: 'rolling_max_drawdown/05'
    names no layout (mutation check: state-rolling-window-leading-zero)."""
    assert tk.State("rolling_max_drawdown/5", [0.0] + [np.nan] * 4).fields[0] == "seen"
    for bad in ("05", "0", "-1", "+5", "5.0", "x", "", " 5"):
        with pytest.raises(ValueError, match="kernel with a carried state"):
            tk.State(f"rolling_max_drawdown/{bad}", [0.0] + [np.nan] * 4)


def test_nan_policy_with_state():
    x = np.array([100.0, np.nan, 90.0, np.nan, 120.0, 100.0, np.nan, 95.0])
    for nan in ("ffill", "zero_return"):
        batch = tk.rolling_max_drawdown(x, 3, min_periods=1, nan=nan)
        r1, s = tk.rolling_max_drawdown(x[:4], 3, min_periods=1, nan=nan, return_state=True)
        r2 = tk.rolling_max_drawdown(x[4:], 3, min_periods=1, nan=nan, state=s)
        assert _same(np.concatenate([r1, r2]), batch), nan
        assert s.kernel == f"rolling_max_drawdown/3@{nan}"


# --- the C stream: its ring, its allocations, its own argument checks ---------------------------


@settings(max_examples=120, deadline=None)
@given(
    w=st.sampled_from([15, 16, 17, 31, 32, 33, 63, 100, 129]),
    mp=st.integers(0, 3),
    kind=st.sampled_from(["positive", "special"]),
    n=st.integers(0, 400),
    k=st.integers(0, 400),
    seed=st.integers(0, 2**32 - 1),
)
def test_stream_ring_grows_and_wraps(w, mp, kind, n, k, seed):
    """Windows past the ring's first 16 slots: it grows by doubling up to the window, then wraps;
    a stream restored from a state at any point (before, at and after the window fills) holds
    the state's prices in the right slots."""
    rng = np.random.default_rng(seed)
    x = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.05, n))
    if kind == "special":
        m = rng.random(n) < 0.03
        x[m] = rng.choice(SPECIALS, int(m.sum()))
    k = min(k, n)
    with np.errstate(all="ignore"):
        batch, final = tk.rolling_max_drawdown(x, w, min_periods=mp, return_state=True)
        live = RollingMaxDrawdown(w, mp)
        assert _same(np.array([live.update(v) for v in x], dtype=np.float64), batch)
        assert live.state == final and live.seen == n
        _, s = tk.rolling_max_drawdown(x[:k], w, min_periods=mp, return_state=True)
        live = RollingMaxDrawdown(w, mp, state=s)
        assert live.state == s
        assert _same(np.array([live.update(v) for v in x[k:]], dtype=np.float64), batch[k:])
        assert live.state == final


def test_stream_huge_window_allocates_as_bars_come():
    """The ring grows with the bars: a window of 2**40 bars costs nothing up front."""
    x = 100.0 * np.cumprod(1.0 + np.random.default_rng(3).normal(0.0, 0.02, 300))
    live = RollingMaxDrawdown(2**40, 1)
    got = np.array([live.update(v) for v in x])
    assert _same(got, tk.rolling_max_drawdown(x, 2**40, min_periods=1))
    assert live.window == 2**40 and live.min_periods == 1 and live.seen == 300


def test_stream_core_type_checks_its_own_arguments():
    """The C type, called directly (not through tk.stream), refuses what it cannot use
    with a Python exception and is left unusable, never half-initialised."""
    from tradekernels import _core

    raw = _core.RollingMaxDrawdown.__new__(_core.RollingMaxDrawdown)
    with pytest.raises(RuntimeError, match="__init__"):
        raw.update(1.0)
    with pytest.raises(RuntimeError, match="__init__"):
        _ = raw.state_vector
    for args in [(0, 0), (3, 4), (3, -1), (-5, 0)]:
        with pytest.raises(ValueError, match="window"):
            _core.RollingMaxDrawdown(*args)
    for seen in (1.5, -1.0, np.nan, np.inf, 2.0**60):
        bad = [seen, 1.0, 2.0]
        with pytest.raises(ValueError, match="whole number"):
            _core.RollingMaxDrawdown(3, 1, bad)
    with pytest.raises(ValueError, match="length 3"):
        _core.RollingMaxDrawdown(3, 1, [1.0, 2.0])
    with pytest.raises(TypeError):
        _core.RollingMaxDrawdown(3, 1, [2.0, "a", 1.0])
    with pytest.raises(TypeError):
        _core.RollingMaxDrawdown(3, 1, 5.0)
    live = _core.RollingMaxDrawdown(3, 1)
    with pytest.raises(TypeError, match="[Rr]eal number|float"):
        live.update("1.0")
    with pytest.raises(TypeError):
        live.__init__(3, 1, [2.0, "a", 1.0])
    with pytest.raises(RuntimeError, match="__init__"):
        live.update(1.0)  # a failed re-initialisation leaves it unusable, not half-restored


def test_stream_memory_is_given_back():
    """Ring and summaries are freed by reset, re-initialisation and deallocation
    (PyMem, so tracemalloc sees them)."""
    x = (100.0 * np.cumprod(1.0 + np.random.default_rng(4).normal(0.0, 0.02, 600))).tolist()

    def churn():
        live = RollingMaxDrawdown(200, 1)
        for v in x:
            live.update(v)
        live.reset()
        for v in x[:300]:
            live.update(v)
        RollingMaxDrawdown(200, 1, state=live.state)

    churn()
    gc.collect()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        for _ in range(200):
            churn()
        gc.collect()
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert end - start < 64 * 1024  # a leak would be >= 200 x 200 x 32 bytes
