"""tk.stream.SignalTrades: the live signal backtest of one bar series.

The trades ``update`` returns, then ``mark()``, must be the batch records of the bars
seen, bit for bit, for every rule; its ``.state`` must be the batch call's state after
the same bars (so either can continue the other), and ``extend`` / pickling keep it.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_signals_chunks import _STOPS, _bars, _same

import tradekernels as tk
from tradekernels.fills import TRADE_DTYPE

_KW = dict(
    price=st.sampled_from(["close", "open"]),
    side=st.sampled_from([1, -1]),
    sl_stop=_STOPS,
    tsl_stop=_STOPS,
    tp_stop=_STOPS,
    sl_trail=st.booleans(),
    same_bar=st.sampled_from(["stop", "take", "open"]),
    slippage=st.sampled_from([0.0, 0.001]),
    fees=st.sampled_from([0.0, 0.002]),
    reenter_on_exit_bar=st.booleans(),
)


def _signals(rng, n, p_entry, p_exit):
    return rng.random(n) < p_entry, rng.random(n) < p_exit


def _live(s, bars, entries, exits, a=0, b=None):
    b = len(bars[0]) if b is None else b
    out = []
    for i in range(a, b):
        r = s.update(bars[0][i], bars[1][i], bars[2][i], bars[3][i], entries[i], exits[i])
        if r is not None:
            out.append(r)
    return out


def _records(rows):
    return np.array(rows, dtype=TRADE_DTYPE) if rows else np.empty(0, dtype=TRADE_DTYPE)


def _same_state(a, b):
    assert a.seen == b.seen
    for f in a._fields[1:9]:
        x, y = np.asarray(getattr(a, f)), np.asarray(getattr(b, f))
        assert x.dtype == y.dtype and x.shape == y.shape == (), f
        if x.dtype.kind == "f":
            x, y = x.view(np.int64), y.view(np.int64)
        assert np.array_equal(x, y), f


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(0, 100),
    seed=st.integers(0, 2**32 - 1),
    cut=st.integers(0, 100),
    zeros=st.booleans(),
    p_entry=st.sampled_from([0.05, 0.3, 0.9]),
    p_exit=st.sampled_from([0.0, 0.05, 0.3]),
    **_KW,
)
def test_live_equals_batch_and_states_agree(n, seed, cut, zeros, p_entry, p_exit, **kw):
    rng = np.random.default_rng(seed)
    bars = _bars(rng, n, zeros=zeros)
    entries, exits = _signals(rng, n, p_entry, p_exit)
    batch = tk.trades_from_signals(bars, entries, exits, **kw)
    s = tk.stream.SignalTrades(**kw)
    rows = _live(s, bars, entries, exits)
    m = s.mark()
    _same(_records(rows + ([m] if m is not None else [])), batch)
    m2 = s.mark()  # marking changes nothing
    assert (m is None) == (m2 is None) and (m is None or _same(_records([m]), _records([m2])) is None)
    # the state after the first `cut` bars is the batch call's, and each continues the other
    cut = min(cut, n)
    head = tuple(x[:cut] for x in bars)
    first, st_ = tk.trades_from_signals(head, entries[:cut], exits[:cut], **kw, return_state=True)
    s2 = tk.stream.SignalTrades(**kw)
    _same(_records(_live(s2, bars, entries, exits, 0, cut)), first)
    _same_state(s2.state, st_)
    s3 = tk.stream.SignalTrades(**kw, state=st_)  # batch history, then live
    rest = _live(s3, bars, entries, exits, cut, n)
    m3 = s3.mark()
    _same(_records([tuple(r) for r in first] + rest + ([m3] if m3 is not None else [])), batch)
    tail = tk.trades_from_signals(  # live history, then batch
        tuple(x[cut:] for x in bars), entries[cut:], exits[cut:], **kw, state=s2.state
    )
    _same(np.concatenate([first, tail]), batch)


def test_extend_pickle_and_repr():
    rng = np.random.default_rng(4)
    bars = _bars(rng, 80)
    entries, exits = _signals(rng, 80, 0.2, 0.1)
    kw = dict(price="open", tsl_stop=0.02, tp_stop=0.05, fees=0.001)
    batch = tk.trades_from_signals(bars, entries, exits, **kw)
    s = tk.stream.SignalTrades(**kw)
    got = [s.extend(*(x[:30] for x in bars), entries[:30], exits[:30])]
    s = pickle.loads(pickle.dumps(s))
    got.append(_records(_live(s, bars, entries, exits, 30, 80)))
    m = s.mark()
    got.append(_records([m] if m is not None else []))
    _same(np.concatenate(got), batch)
    assert "SignalTrades(seen=80" in repr(s)


def test_by_hand():
    # long at bar 1's close (100), take profit 10 % on bar 3 (high 111): out at 110
    s = tk.stream.SignalTrades(tp_stop=0.1)
    assert s.update(100, 101, 99, 100) is None
    assert s.update(100, 101, 99, 100, entry=True) is None
    assert s.update(100, 105, 99, 104) is None
    col, e, p, x, px, why, ret, dur = s.update(104, 111, 103, 108)
    assert (col, e, p, x, px, why, dur) == (0, 1, 100.0, 3, 110.00000000000001, tk.ExitReason.TP, 2)
    assert s.mark() is None and int(s.state.phase) == 0


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="price"):
        tk.stream.SignalTrades(price="mid")
    with pytest.raises(ValueError, match="side"):
        tk.stream.SignalTrades(side=0)
    with pytest.raises(TypeError, match="SignalState"):
        tk.stream.SignalTrades(state=tk.State.initial("drawdown"))
    bars = tuple(np.full((2, 3), 100.0) for _ in range(4))
    _, st2 = tk.trades_from_signals(bars, np.ones((2, 3), dtype=bool), return_state=True)
    with pytest.raises(ValueError, match="one bar series"):
        tk.stream.SignalTrades(state=st2)
    s = tk.stream.SignalTrades()
    with pytest.raises((TypeError, ValueError)):
        s.update("x", 1, 1, 1)
    with pytest.raises(TypeError, match="4 to 6"):
        s.update(1.0, 1.0, 1.0)
    with pytest.raises(TypeError, match="keyword"):
        s.update(1.0, 1.0, 1.0, 1.0, enter=True)
    with pytest.raises(TypeError, match="keyword"):
        s.update(1.0, 1.0, 1.0, 1.0, True, entry=True)

    class Bad:
        def __bool__(self):
            raise RuntimeError("no truth")

    with pytest.raises(RuntimeError, match="no truth"):
        s.update(1.0, 1.0, 1.0, 1.0, Bad())
    assert s.seen == 0  # a refused bar changes nothing
