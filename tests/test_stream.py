"""Live stream objects: tick-by-tick outputs equal the batch kernels bit for bit."""

from __future__ import annotations

import gc
import math
import pickle
import sys
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tradekernels as tk
from conftest import assert_bits_identical
from tradekernels import _core, stream

CLASSES = {
    "simple_returns": stream.SimpleReturns,
    "log_returns": stream.LogReturns,
    "cumulative_returns": stream.CumulativeReturns,
    "drawdown": stream.Drawdown,
    "underwater_bars": stream.UnderwaterBars,
    "max_drawdown": stream.MaxDrawdown,
    "drawdown_episode": stream.DrawdownEpisode,
    "ulcer_index": stream.UlcerIndex,
}
SCANS = ["simple_returns", "log_returns", "cumulative_returns", "drawdown", "underwater_bars"]
params = pytest.mark.parametrize("name", list(CLASSES))

values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, math.nan, math.inf, -math.inf, 1.0, -1.0, 100.0]),
    st.floats(min_value=50.0, max_value=150.0),
)


def _batch(name, x):
    with np.errstate(all="ignore"):
        return getattr(tk, name)(x)


def _ticks(name, x, s=None):
    s = CLASSES[name]() if s is None else s
    out = [s.update(v) for v in x]
    return s, out


def _check_against_batch(name, x, s, out):
    if name in SCANS:
        dtype = np.int64 if name == "underwater_bars" else np.float64
        assert_bits_identical(np.array(out, dtype=dtype).reshape(len(x)), _batch(name, x), name)
    else:
        # the output after tick i is the batch result on x[:i+1]
        for i in range(len(x)):
            want = _batch(name, x[: i + 1])
            want = want.depth if name == "drawdown_episode" else want
            assert_bits_identical(np.float64(out[i]), np.float64(want), f"{name} tick {i}")
        if name == "drawdown_episode" and len(x):
            got, want = s.episode, _batch(name, x)
            assert tuple(got)[:3] == tuple(want)[:3]
            assert_bits_identical(np.float64(got.depth), np.float64(want.depth), name)
        if name == "max_drawdown" and len(x):
            assert_bits_identical(np.float64(s.value), np.float64(_batch(name, x)), name)


@params
@given(xs=st.lists(values, max_size=60))
def test_ticks_equal_batch(name, xs):
    x = np.array(xs, dtype=np.float64)
    s, out = _ticks(name, x)
    _check_against_batch(name, x, s, out)
    with np.errstate(all="ignore"):
        assert s.state == getattr(tk, name)(x, return_state=True)[1]


@params
def test_ticks_equal_batch_random_walk(name, rng):
    x = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, 3000))
    x[rng.random(3000) < 0.02] = np.nan
    s, out = _ticks(name, x if name in SCANS else x[:300])
    _check_against_batch(name, x if name in SCANS else x[:300], s, out)


@params
def test_float32_ticks_equal_float64_batch_of_the_values(name, rng):
    x32 = (100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, 200))).astype(np.float32)
    s, out = _ticks(name, list(x32))  # numpy float32 scalars, widened exactly
    _check_against_batch(name, x32.astype(np.float64), s, out)


@params
def test_stream_and_batch_share_state(name, rng):
    x = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, 500))
    with np.errstate(all="ignore"):
        full, full_state = getattr(tk, name)(x, return_state=True)
        # history in bulk, then live
        _, st1 = getattr(tk, name)(x[:321], return_state=True)
    s = CLASSES[name](state=st1)
    out = [s.update(v) for v in x[321:]]
    assert s.state == full_state
    if name in SCANS:
        assert_bits_identical(np.array(out, dtype=full.dtype), full[321:], name)
    # live, then batch from the stream's state
    s2, _ = _ticks(name, x[:100])
    with np.errstate(all="ignore"):
        res, st2 = getattr(tk, name)(x[100:], state=s2.state, return_state=True)
    assert st2 == full_state
    # extend == batch catch-up
    s3 = CLASSES[name]()
    s3.update(x[0])
    got = s3.extend(x[1:])
    assert s3.state == full_state
    if name in SCANS:
        assert_bits_identical(np.asarray(got), full[1:], name)


@params
def test_pickle_reset_repr(name):
    s, _ = _ticks(name, [100.0, 90.0, 95.0, 120.0, 80.0])
    s2 = pickle.loads(pickle.dumps(s))
    assert type(s2) is type(s) and s2.state == s.state
    assert s2.update(70.0) == s.update(70.0)
    assert type(s).__name__ in repr(s)
    s.reset()
    assert s.state == tk.State.initial(name)


@params
def test_bad_input(name):
    s = CLASSES[name]()
    with pytest.raises(TypeError):
        s.update("1.0")
    with pytest.raises(TypeError):
        s.update(None)
    with pytest.raises(ValueError):
        CLASSES[name](state=[1.0] * 20)
    with pytest.raises(ValueError, match="state of"):
        CLASSES[name](state=tk.State.initial("drawdown" if name != "drawdown" else "max_drawdown"))
    with pytest.raises(ValueError, match="one series"):
        CLASSES[name](state=tk.State.initial(name, (2,)))
    s.update(1)  # ints and numpy scalars are accepted
    s.update(np.float32(2.5))
    s.update(True)


@params
def test_no_allocation_per_tick(name):
    s = CLASSES[name]()
    upd = s.update
    xs = [100.0 + (i % 17) - (i % 5) * 0.5 for i in range(20_000)]
    for v in xs[:100]:
        upd(v)
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for v in xs:
            upd(v)
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 4096


def test_episode_from_state_continues_global_indices():
    x = [5.0, 4.0, 6.0, 3.0, 2.5, 4.0, 6.5, 1.0, 7.0]
    _, st1 = tk.drawdown_episode(np.array(x[:4]), return_state=True)
    s = stream.DrawdownEpisode(state=st1)
    for v in x[4:]:
        s.update(v)
    assert tuple(s.episode) == tuple(tk.drawdown_episode(np.array(x)))
    assert isinstance(s.episode, tk.Episode)


@params
def test_c_type_checks_the_state_length_and_keeps_no_reference(name):
    """The C stream types (under the Python classes, which check a State first) check the
    length of a raw state sequence themselves, and hold no reference to it afterwards
    (mutation check: stream-state-length-lax, stream-state-seq-leak)."""
    base = getattr(_core, CLASSES[name].__name__)
    good = tuple(CLASSES[name]().state.as_dict().values())
    for bad in (good + (0.0,), good[:-1], good * 3):
        with pytest.raises(ValueError, match="length"):
            base(bad)
    for seq in (good, list(good)):
        gc.collect()
        before = sys.getrefcount(seq)
        for _ in range(100):
            base(seq).update(1.0)
        gc.collect()
        assert sys.getrefcount(seq) == before


@pytest.mark.parametrize("cls", ["Drawdown", "MaxDrawdown", "SimpleReturns", "UlcerIndex"])
def test_extend_takes_one_series(cls):
    """``extend`` of 2-D values (or a scalar) names the values, not the state; the stream is
    unchanged."""
    s = getattr(tk.stream, cls)()
    s.update(1.0)
    before = s.state
    for bad in (np.ones((2, 2)), 3.0):
        with pytest.raises(
            ValueError, match=rf"^tradekernels.stream.{cls}.extend: expected the values of one series"
        ):
            s.extend(bad)
    assert s.state == before


def test_every_live_class_has_its_constructor_signature():
    """inspect.signature of each live class names its parameters (not ``*args, **kw``, and not
    'no signature found' for the C-backed Bracket), and a call with those names works."""
    import inspect

    for name in tk.stream.__all__:
        cls = getattr(tk.stream, name)
        if not isinstance(cls, type):
            continue
        params = inspect.signature(cls).parameters
        assert not any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params.values()), name
    assert list(inspect.signature(tk.stream.Bracket).parameters)[:2] == ["entry_price", "side"]
    assert list(inspect.signature(tk.stream.Drawdown).parameters) == ["state", "nan"]
    assert list(inspect.signature(tk.stream.UlcerIndex).parameters) == ["state", "ddof", "nan"]
    assert list(inspect.signature(tk.stream.RollingMaxDrawdown).parameters)[:2] == ["window", "min_periods"]
    b = tk.stream.Bracket(entry_price=100.0, side=1, sl_stop=0.1, same_bar="open", slippage=0.0)
    assert b.update(100.0, 101.0, 89.0, 95.0) is not None
