"""trades_from_signals over bars that arrive in chunks (``state=``, ``return_state=True``).

The calls with ``return_state=True`` report the trades that close in their chunk; the
last call (``state=`` without ``return_state``) also reports the trade still open,
reason END.  The records of all calls, concatenated, must equal one call over all the
bars bit for bit, whatever the cuts (empty chunks, one-bar chunks, a trade carried over
several chunks, signals and ``price="open"`` orders on a chunk's last bar), for every
rule (stops, trailing stops, reentry, slippage, fees, both sides, NaN bars, signed
zeros), on 1-D and 2-D bars, DataFrames, and with the native and the reference backends.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_exits_chunks import _bars as _walk

import tradekernels as tk


def _bars(rng, n, rows=None, zeros=False):
    """Random OHLC walks (NaN prices, and signed zeros with ``zeros``), 3 % daily moves."""
    return _walk(rng, n, rows, zeros, vol=0.03)


def _concat(parts):
    """The records of all calls in one call's order (series, then entry: a trade is
    reported by the call where it closes, so 2-D series interleave across calls)."""
    rec = np.concatenate(parts) if parts else np.empty(0, dtype=tk.fills.TRADE_DTYPE)
    return rec[np.lexsort((rec["entry_idx"], rec["col"]))]


def _run_chunks(bars, entries, exits, cuts, final_empty=False, **kw):
    """Calls over bars[cuts[i]:cuts[i+1]]; the last one without return_state (or, with
    final_empty, an extra empty chunk closes)."""
    st_, parts = None, []
    spans = list(zip(cuts[:-1], cuts[1:]))
    for i, (a, b) in enumerate(spans):
        chunk = tuple(x[..., a:b] for x in bars)
        sig = (entries[..., a:b], None if exits is None else exits[..., a:b])
        if i == len(spans) - 1 and not final_empty:
            parts.append(tk.trades_from_signals(chunk, *sig, **kw, state=st_))
            return _concat(parts)
        got, st_ = tk.trades_from_signals(chunk, *sig, **kw, state=st_, return_state=True)
        assert st_.seen == b
        parts.append(got)
    empty = tuple(x[..., :0] for x in bars)
    sig = (entries[..., :0], None if exits is None else exits[..., :0])
    parts.append(tk.trades_from_signals(empty, *sig, **kw, state=st_))
    return _concat(parts)


def _same(a, b):
    assert a.dtype == b.dtype and len(a) == len(b)
    for f in a.dtype.names:
        x, y = a[f], b[f]
        if x.dtype.kind == "f":
            x, y = x.view(np.int64), y.view(np.int64)
        assert np.array_equal(x, y), f


_STOPS = st.sampled_from([None, 0.0, 0.01, 0.03, 0.1])


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(0, 120),
    seed=st.integers(0, 2**32 - 1),
    cuts=st.lists(st.integers(0, 120), max_size=6),
    two_d=st.booleans(),
    zeros=st.booleans(),
    p_entry=st.sampled_from([0.05, 0.3, 0.9]),
    p_exit=st.sampled_from([0.0, 0.05, 0.3]),
    price=st.sampled_from(["close", "open"]),
    side=st.sampled_from([1, -1]),
    sl_stop=_STOPS,
    tsl_stop=_STOPS,
    tp_stop=_STOPS,
    sl_trail=st.booleans(),
    same_bar=st.sampled_from(["stop", "take", "open"]),
    slippage=st.sampled_from([0.0, 0.001]),
    fees=st.sampled_from([0.0, 0.002]),
    reenter=st.booleans(),
    final_empty=st.booleans(),
)
def test_chunks_equal_one_call(
    n,
    seed,
    cuts,
    two_d,
    zeros,
    p_entry,
    p_exit,
    price,
    side,
    sl_stop,
    tsl_stop,
    tp_stop,
    sl_trail,
    same_bar,
    slippage,
    fees,
    reenter,
    final_empty,
):
    rng = np.random.default_rng(seed)
    rows = 3 if two_d else None
    bars = _bars(rng, n, rows, zeros)
    shape = bars[0].shape
    entries = rng.random(shape) < p_entry
    exits = None if p_exit == 0.0 else rng.random(shape) < p_exit
    kw = dict(
        price=price,
        side=side,
        sl_stop=sl_stop,
        tsl_stop=tsl_stop,
        tp_stop=tp_stop,
        sl_trail=sl_trail,
        same_bar=same_bar,
        slippage=slippage,
        fees=fees,
        reenter_on_exit_bar=reenter,
    )
    cuts = [0] + sorted(min(c, n) for c in cuts) + [n]
    batch = tk.trades_from_signals(bars, entries, exits, **kw)
    _same(_run_chunks(bars, entries, exits, cuts, final_empty, **kw), batch)


@pytest.mark.parametrize("price", ["close", "open"])
def test_every_cut_of_a_long_series(price):
    # one series, every single cut point and one-bar chunks: each boundary in turn falls
    # inside a trade, on its entry bar, on its exit bar, on a signal, on a NaN bar
    rng = np.random.default_rng(3)
    bars = _bars(rng, 60, zeros=True)
    entries, exits = rng.random(60) < 0.3, rng.random(60) < 0.15
    kw = dict(price=price, sl_stop=0.02, tsl_stop=0.03, tp_stop=0.05, slippage=0.001, fees=0.001)
    batch = tk.trades_from_signals(bars, entries, exits, **kw)
    assert len(batch) > 5 and {int(r) for r in batch["exit_reason"]} >= {1, 2, 5}
    for c in range(61):
        _same(_run_chunks(bars, entries, exits, [0, c, 60], **kw), batch)
    _same(_run_chunks(bars, entries, exits, list(range(61)), **kw), batch)
    _same(_run_chunks(bars, entries, exits, list(range(61)), final_empty=True, **kw), batch)


def test_chunks_with_the_reference_backend():
    rng = np.random.default_rng(11)
    bars = _bars(rng, 80, rows=2, zeros=True)
    entries, exits = rng.random((2, 80)) < 0.2, rng.random((2, 80)) < 0.1
    for price in ("close", "open"):
        kw = dict(price=price, tsl_stop=0.02, tp_stop=0.04)
        batch = tk.trades_from_signals(bars, entries, exits, **kw)
        with tk.backend("reference"):
            got = _run_chunks(bars, entries, exits, [0, 30, 31, 79, 80], **kw)
        _same(got, batch)


def test_a_trade_carried_over_chunks_and_orders_at_the_next_open():
    # entry signal on bar 1, exit signal on bar 5; cut after bar 1 and after bar 5
    o = np.array([10.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0])
    h, lo, c = o + 0.5, o - 0.5, o + 0.2
    ent = np.zeros(8, dtype=bool)
    ext = np.zeros(8, dtype=bool)
    ent[1], ext[5] = True, True
    bars = (o, h, lo, c)
    # at the close: in at bar 1's close, out at bar 5's close
    first, st_ = tk.trades_from_signals(tuple(x[:2] for x in bars), ent[:2], ext[:2], return_state=True)
    assert len(first) == 0 and int(st_.phase) == 1 and int(st_.entry_idx) == 1
    assert float(st_.entry_price) == c[1] and float(st_.last_close) == c[1]
    rest = tk.trades_from_signals(tuple(x[2:] for x in bars), ent[2:], ext[2:], state=st_)
    assert [
        (int(t["entry_idx"]), float(t["entry_price"]), int(t["exit_idx"]), float(t["exit_price"]))
        for t in rest
    ] == [(1, c[1], 5, c[5])]
    # at the open: the entry signal on the chunk's last bar (1) fills at bar 2's open, the
    # exit signal on the last bar of the next chunk (5) at bar 6's open
    kw = dict(price="open")
    _, s1 = tk.trades_from_signals(tuple(x[:2] for x in bars), ent[:2], ext[:2], **kw, return_state=True)
    assert int(s1.phase) == 2
    got, s2 = tk.trades_from_signals(
        tuple(x[2:6] for x in bars), ent[2:6], ext[2:6], **kw, state=s1, return_state=True
    )
    assert len(got) == 0 and int(s2.phase) == 3 and int(s2.entry_idx) == 2
    last = tk.trades_from_signals(tuple(x[6:] for x in bars), ent[6:], ext[6:], **kw, state=s2)
    t = last[0]
    assert (int(t["entry_idx"]), float(t["entry_price"]), int(t["exit_idx"]), float(t["exit_price"])) == (
        2,
        o[2],
        6,
        o[6],
    )
    assert int(t["exit_reason"]) == tk.ExitReason.SIGNAL
    # an exit signal on the very last bar acts on nothing: the trade ends there (END)
    end = tk.trades_from_signals(tuple(x[:0] for x in bars), ent[:0], ext[:0], **kw, state=s2)
    assert (int(end[0]["exit_idx"]), float(end[0]["exit_price"]), int(end[0]["exit_reason"])) == (
        5,
        c[5],
        tk.ExitReason.END,
    )


def test_state_pickles_and_bad_states_raise():
    bars = tuple(np.full((2, 4), 100.0) for _ in range(4))
    ent = np.ones((2, 4), dtype=bool)
    _, st_ = tk.trades_from_signals(bars, ent, return_state=True)
    assert isinstance(st_, tk.SignalState) and st_.phase.shape == (2,) and st_.seen == 4
    st2 = pickle.loads(pickle.dumps(st_))
    _same(tk.trades_from_signals(bars, ent, state=st2), tk.trades_from_signals(bars, ent, state=st_))
    with pytest.raises(TypeError, match="SignalState"):
        tk.trades_from_signals(bars, ent, state=tk.State.initial("drawdown"))
    with pytest.raises(ValueError, match="shape"):
        tk.trades_from_signals(tuple(b[0] for b in bars), ent[0], state=st_)
    with pytest.raises(ValueError, match="seen"):
        tk.trades_from_signals(bars, ent, state=st_._replace(seen=-1))
    with pytest.raises(ValueError, match="phase"):
        tk.trades_from_signals(bars, ent, state=st_._replace(phase=np.array([0, 7], dtype=np.int8)))


def test_dataframes_in_chunks_keep_entry_times():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(8)
    n = 50
    bars = _bars(rng, n)
    t = pd.date_range("2024-01-01", periods=n, freq="D", tz="America/New_York")
    df = pd.DataFrame(dict(zip(("open", "high", "low", "close"), bars)), index=t)
    entries = pd.Series(rng.random(n) < 0.2, index=t)
    exits = pd.Series(rng.random(n) < 0.1, index=t)
    kw = dict(tsl_stop=0.03)
    batch = tk.trades_from_signals(df, entries, exits, **kw)
    st_, parts = None, []
    for a, b in ((0, 17), (17, 17), (17, 40)):
        got, st_ = tk.trades_from_signals(
            df.iloc[a:b], entries.iloc[a:b], exits.iloc[a:b], **kw, state=st_, return_state=True
        )
        parts.append(got)
    parts.append(tk.trades_from_signals(df.iloc[40:], entries.iloc[40:], exits.iloc[40:], **kw, state=st_))
    got = pd.concat(parts, ignore_index=True)
    pd.testing.assert_frame_equal(got, batch)
    # dict of DataFrames (symbols as columns), the last call on an empty chunk
    frames = {
        k: pd.DataFrame(np.stack([v, v[::-1]], axis=1), index=t, columns=["A", "B"])
        for k, v in zip(("open", "high", "low", "close"), bars)
    }
    ent2 = pd.DataFrame(np.stack([entries.values, exits.values], axis=1), index=t, columns=["A", "B"])
    batch = tk.trades_from_signals(frames, ent2, **kw)
    st_, parts = None, []
    for a, b in ((0, 25), (25, 50)):
        got, st_ = tk.trades_from_signals(
            {k: f.iloc[a:b] for k, f in frames.items()}, ent2.iloc[a:b], **kw, state=st_, return_state=True
        )
        parts.append(got)
    parts.append(
        tk.trades_from_signals({k: f.iloc[:0] for k, f in frames.items()}, ent2.iloc[:0], **kw, state=st_)
    )
    got = pd.concat(parts, ignore_index=True).sort_values(["col", "entry_idx"], ignore_index=True)
    pd.testing.assert_frame_equal(got, batch)


def test_dataframe_chunk_after_a_state_without_times_leaves_the_entry_time_missing():
    # a state from array bars carries no times: the carried trade's entry time is NaT in the
    # next DataFrame chunk, never a label of that chunk
    pd = pytest.importorskip("pandas")
    o = np.array([10.0, 10.0, 11.0, 12.0, 13.0, 14.0])
    bars = (o, o + 0.5, o - 0.5, o + 0.2)
    ent = np.array([0, 1, 0, 0, 0, 0], dtype=bool)
    ext = np.array([0, 0, 0, 0, 1, 0], dtype=bool)
    _, st_ = tk.trades_from_signals(tuple(b[:3] for b in bars), ent[:3], ext[:3], return_state=True)
    t = pd.date_range("2024-01-04", periods=3, freq="D", tz="UTC")
    df = pd.DataFrame(dict(zip(("open", "high", "low", "close"), (b[3:] for b in bars))), index=t)
    got, st2 = tk.trades_from_signals(df, ent[3:], ext[3:], state=st_, return_state=True)
    assert list(got["entry_idx"]) == [1] and list(got["exit_idx"]) == [4]
    assert pd.isna(got["entry_time"].iloc[0]) and got["exit_time"].iloc[0] == t[1]
    assert isinstance(got["entry_time"].dtype, pd.DatetimeTZDtype)
    assert len(st2.entry_time) == 1 and len(st2.last_time) == 1 and st2.last_time[0] == t[-1]
    # 2-D: a first DataFrame call (no state) keeps one label per series
    frames = {
        k: pd.DataFrame(
            np.stack([b[:4], b[:4]], axis=1), index=t.append(t[-1:] + pd.Timedelta("1D")), columns=["A", "B"]
        )
        for k, b in zip(("open", "high", "low", "close"), bars)
    }
    ent2 = pd.DataFrame(np.stack([ent[:4], ent[:4]], axis=1), index=frames["open"].index, columns=["A", "B"])
    _, st3 = tk.trades_from_signals(frames, ent2, return_state=True)
    assert len(st3.entry_time) == 2 and (st3.entry_time == frames["open"].index[1]).all()


def test_the_state_compares_by_value_with_nan_equal_to_nan():
    """Two identical calls, and a pickle round trip, give equal states although a series
    not in a trade holds NaN levels (and, for DataFrame bars, NaT times); a different
    state is unequal; unhashable."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(4)
    bars = _bars(rng, 40, rows=3)
    ent = rng.random((3, 40)) < 0.2
    kw = dict(sl_stop=0.02)
    _, st1 = tk.trades_from_signals(bars, ent, **kw, return_state=True)
    _, st2 = tk.trades_from_signals(bars, ent, **kw, return_state=True)
    assert np.isnan(st1.stop).any()
    assert st1 == st2 and not st1 != st2
    assert pickle.loads(pickle.dumps(st1)) == st1
    _, other = tk.trades_from_signals(tuple(b[:, :39] for b in bars), ent[:, :39], **kw, return_state=True)
    assert st1 != other and not st1 == other
    with pytest.raises(TypeError, match="unhashable"):
        hash(st1)
    t = pd.date_range("2024-01-01", periods=40, freq="D")
    frames = {
        k: pd.DataFrame(b.T, index=t, columns=["A", "B", "C"])
        for k, b in zip(("open", "high", "low", "close"), bars)
    }
    _, st3 = tk.trades_from_signals(frames, ent.T, **kw, return_state=True)
    assert pd.isna(st3.entry_time).any()
    assert st3 == pickle.loads(pickle.dumps(st3)) and st3 != st1
