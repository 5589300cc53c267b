"""States a user hands back: hand-made, tampered or unpickled ones.

Every ``state=`` (batch chunks, live objects) and every pickle is input: a field out of
its range must be a ValueError, never an int64 wrap, a signed overflow in C (UBSan
aborts the sanitizer run), a read of freed memory or an O(window) build before the
check.  Each case here was found by a fuzzing campaign over tampered states.
"""

from __future__ import annotations

import numpy as np
import pytest

import tradekernels as tk
from tradekernels import _core, _state, stream

BARS = tuple(np.full(4, v) for v in (100.0, 101.0, 99.0, 100.0))
ENTRIES = np.array([True, False, False, False])
EXITS = np.array([False, False, True, False])


# --------------------------------------------------------------------------
# live objects
# --------------------------------------------------------------------------


def test_signal_trades_state_out_of_range_is_refused():
    st = stream.SignalTrades().state
    opened = st._replace(
        seen=5,
        phase=np.array(1, np.int8),
        entry_idx=np.array(2),
        entry_price=np.array(10.0),
        ref=np.array(10.0),
        stop=np.array(9.0),
        last_close=np.array(10.0),
    )
    stream.SignalTrades(sl_stop=0.1, state=opened).update(10.0, 11.0, 8.0, 10.0)  # a valid one
    bad = [
        st._replace(seen=2**63 - 1),  # seen++ would overflow
        st._replace(seen=2**53 + 1),
        opened._replace(entry_idx=np.array(-(2**63))),  # t - entry would overflow
        opened._replace(entry_idx=np.array(5)),  # not a bar seen
        opened._replace(entry_idx=np.array(-1)),  # a trade without an entry
        st._replace(entry_idx=np.array(0)),  # flat with an entry
    ]
    for s in bad:
        with pytest.raises(ValueError, match="SignalTrades"):
            stream.SignalTrades(sl_stop=0.1, state=s)


def test_a_state_list_shrunk_while_it_is_read():
    """An item's __float__ clears the list being read: the C reader works on a copy."""
    lst: list = []

    class Evil:
        def __float__(self):
            lst.clear()
            return 1.0

    for make in (
        lambda: _core.DrawdownEpisode(lst),
        lambda: _core.RollingMaxDrawdown(3, 1, lst),
    ):
        lst[:] = [Evil()] + [1.0] * 8
        try:
            make()
        except (ValueError, TypeError):
            pass


def test_session_clock_keeps_its_own_labels():
    """The bound labels are the core's own: the caller's list shrinking changes nothing."""
    c = stream.SessionClock(tk.Calendar("America/New_York", "09:30", "16:00"))
    labels = [np.datetime64("2024-01-02", "D")]
    z = lambda *v: np.array(v, dtype=np.int64)
    c._bind(z(0), z(100), z(), z(), z(), z(19724), labels, -(2**62), 2**62)
    labels.clear()
    assert c.update(5).label == np.datetime64("2024-01-02", "D")
    # an open at INT64_MIN: minutes since it are exact, with no signed overflow
    c._bind(z(-(2**63)), z(2**62), z(), z(), z(), z(0), [np.datetime64(0, "D")], -(2**62), 2**62)
    assert c.update(2**62 - 1).minutes == (2**62 - 1 + 2**63) // (60 * 10**9)


# --------------------------------------------------------------------------
# tk.State: a rolling state's name carries its window
# --------------------------------------------------------------------------


def test_a_huge_window_in_a_state_name_is_checked_before_any_layout(monkeypatch):
    """``State("rolling_max_drawdown/<window>", values)`` (what unpickling calls) checks the
    values' length against the window without building the window's field names."""

    build = _state.rolling_layout

    def no_build(window):
        assert window < 1000, f"built the layout of window {window}"
        return build(window)

    monkeypatch.setattr(_state, "rolling_layout", no_build)
    for w in (10**7, 10**15, 2**64):
        with pytest.raises(ValueError, match=f"{w} fields .*'x1', ..., 'x{w - 1}'"):
            tk.State(f"rolling_max_drawdown/{w}", [0.0, 1.0])
        with pytest.raises(ValueError, match=f"{w} fields"):
            _state.as_state_vector(f"rolling_max_drawdown/{w}", [0.0, 1.0])
    with pytest.raises(ValueError, match="8 fields"):  # with a NaN policy's fields
        tk.State("rolling_max_drawdown/7@ffill", np.zeros(3))
    with pytest.raises(ValueError, match=r"10003 fields \('seen', 'x1', ..., 'x9999', 'zr_prev', 'zr_prod'"):
        tk.State("rolling_max_drawdown/10000@zero_return", np.zeros(3))
    monkeypatch.undo()
    s = tk.State("rolling_max_drawdown/3@ffill", [0.0, 1.0, 2.0, 3.0])
    assert s.fields == ("seen", "x1", "x2", "fill_last")
    with pytest.raises(ValueError, match="kernel"):
        tk.State("rolling_max_drawdown/03", [0.0, 1.0, 2.0])


def test_a_rolling_state_field_is_read_without_building_the_layout(monkeypatch):
    """``state.x5`` of a large-window state finds its column from the name alone, and every
    field of small windows (with and without a NaN policy) reads the column ``fields`` names."""
    for kernel, w in (("rolling_max_drawdown/4", 4), ("rolling_max_drawdown/3@zero_return", 3)):
        s = tk.State.initial(kernel)
        s = tk.State(kernel, np.arange(float(len(s.fields))))
        for j, f in enumerate(s.fields):
            assert getattr(s, f) == j, (kernel, f)
        for bad in ("x0", f"x{w}", "x01", "x-1", "x", "fill_last", "peak", "x١"):
            with pytest.raises(AttributeError, match="no field"):
                getattr(s, bad)
    w = 10**6
    v = np.arange(float(w + 1))
    monkeypatch.setattr(_state, "rolling_layout", lambda window: pytest.fail(f"built window {window}"))
    s = tk.State(f"rolling_max_drawdown/{w}@ffill", v)
    assert (s.seen, s.x1, s.x999999, s.fill_last) == (0.0, 1.0, 999999.0, float(w))
    with pytest.raises(
        AttributeError, match=r"no field 'x1000000' \(fields: \('seen', 'x1', ..., 'x999999', 'fill_last'\)"
    ):
        _ = s.x1000000


def test_rolling_state_count_beyond_2_53_is_refused():
    x = np.arange(1.0, 9.0)
    _, st = tk.rolling_max_drawdown(x, 3, return_state=True)
    for seen in (2.0**60, np.inf, -1.0, 1.5):
        v = st.values.copy()
        v[..., 0] = seen
        with pytest.raises(ValueError, match="bar count"):
            tk.rolling_max_drawdown(x, 3, state=tk.State(st.kernel, v))


# --------------------------------------------------------------------------
# batch chunk states: fill_orders, exit_orders, trades_from_signals
# --------------------------------------------------------------------------


def _fill_state():
    return tk.fill_orders(tuple(b[:1] for b in BARS), 0, 1, "limit", 99.0, return_state=True)[1]


def _exit_state():
    return tk.exit_orders(tuple(b[:1] for b in BARS), 0, sl_stop=0.5, return_state=True)[1]


def _signal_state():
    return tk.trades_from_signals(tuple(b[:1] for b in BARS), ENTRIES[:1], EXITS[:1], return_state=True)[1]


@pytest.mark.parametrize(
    "make, field, value",
    [
        (_fill_state, "seen", 2**63 - 1),
        (_fill_state, "phase", np.array(9, np.int8)),
        (_fill_state, "fill_index", np.array(1.5)),
        (_fill_state, "fill_index", np.array(np.nan)),
        (_fill_state, "fill_index", np.array(7)),  # a bar not seen yet
        (_fill_state, "resume", np.array(9)),
        (_exit_state, "seen", 2**63 - 1),
        (_exit_state, "phase", np.array(5, np.int8)),
        (_exit_state, "phase", np.array(257)),  # 1 after an int8 cast
        (_exit_state, "exit_idx", np.array(np.nan)),
        (_exit_state, "reason", np.array(99)),
        (_signal_state, "seen", 2**63 - 1),
        (_signal_state, "phase", np.array(4, np.int8)),
        (_signal_state, "entry_idx", np.array(-5)),
        (_signal_state, "entry_idx", np.array(3)),  # a bar not seen yet
    ],
)
def test_chunk_state_fields_out_of_range_are_refused(make, field, value):
    st = make()
    bad = st._replace(**{field: value})
    call = {
        _fill_state: lambda s: tk.fill_orders(BARS, 0, 1, "limit", 99.0, state=s),
        _exit_state: lambda s: tk.exit_orders(BARS, 0, sl_stop=0.5, state=s),
        _signal_state: lambda s: tk.trades_from_signals(BARS, ENTRIES, EXITS, state=s),
    }[make]
    call(st)  # the untouched state continues
    with pytest.raises(ValueError, match=field):
        call(bad)


def test_signal_state_entry_must_agree_with_its_phase():
    st = _signal_state()  # an entry signal on the only bar: an open trade (or one to enter)
    flat = st._replace(phase=np.array(0, np.int8), entry_idx=np.array(-1))
    tk.trades_from_signals(BARS, ENTRIES, EXITS, state=flat)
    for bad in (
        flat._replace(entry_idx=np.array(0)),  # flat, with an entry
        flat._replace(phase=np.array(1, np.int8)),  # open, without one
    ):
        with pytest.raises(ValueError, match="entry_idx"):
            tk.trades_from_signals(BARS, ENTRIES, EXITS, state=bad)
