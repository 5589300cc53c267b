"""tk.stream.SessionClock: the session kernels one timestamp at a time.

Each tick must be the batch answers for that timestamp (``session_mask``,
``session_label``, ``session_start`` in the order given, ``minutes_into_session``),
on random calendars (DST zones, overnight sessions, breaks, holidays, early closes,
late opens) at their boundaries +-1 ns, sorted and unsorted, with NaT; its state must
be ``session_start``'s, so either continues the other.
"""

from __future__ import annotations

import datetime as dt
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sessions import CALS
from test_sessions_dst import zone_calendars

import tradekernels as tk

NAT = np.iinfo(np.int64).min


def _ticks(clock, ts):
    return [clock.update(int(t)) for t in ts]


def _check(cal, ts, state=None):
    ticks = _ticks(tk.stream.SessionClock(cal, state=state), ts)
    a = np.asarray(ts, dtype=np.int64)
    assert [t.in_session for t in ticks] == tk.session_mask(a, cal).tolist()
    lab = tk.session_label(a, cal)
    got = np.array([t.label for t in ticks], dtype="datetime64[D]")
    assert np.array_equal(got, lab.astype("datetime64[D]"), equal_nan=True)
    assert [t.minutes for t in ticks] == tk.minutes_into_session(a, cal).tolist()
    first = tk.session_start(a, cal) if state is None else tk.session_start(a, cal, state=state)
    assert [t.first for t in ticks] == np.asarray(first).tolist()


def _boundaries(cal, year, data, k=40):
    table = cal.table(f"{year}-01-01", f"{year}-12-31")
    edges = np.concatenate([table.opens, table.closes, table.break_starts, table.break_ends]).tolist()
    pts = data.draw(st.lists(st.sampled_from(edges), max_size=k)) if edges else []
    ts = [p + d for p in pts for d in (-1, 0, 1)]
    lo = int(np.datetime64(f"{year}-01-01", "ns").astype(np.int64))
    ts += data.draw(st.lists(st.integers(lo, lo + 365 * 86400 * 10**9), max_size=20))
    return ts


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cy=zone_calendars(), data=st.data())
def test_live_equals_batch_on_random_calendars(cy, data):
    cal, year = cy
    ts = _boundaries(cal, year, data) + [NAT]
    a = np.sort(np.array(ts, dtype=np.int64))
    _check(cal, a)
    _check(cal, a[::-1])
    _check(cal, np.array(data.draw(st.permutations(ts)), dtype=np.int64))


@pytest.mark.parametrize("name", sorted(CALS))
def test_live_equals_batch_on_minute_bars_and_states_continue(name):
    cal = CALS[name]()
    ts = np.arange(
        np.datetime64("2024-03-06T00:00", "ns"),
        np.datetime64("2024-03-14T00:00", "ns"),
        np.timedelta64(7, "m"),
    ).view(np.int64)
    _check(cal, ts)
    # a batch call's state continues live, the stream's state continues a batch call
    cut = len(ts) // 3
    _, st_ = tk.session_start(ts[:cut], cal, return_state=True)
    _check(cal, ts[cut:], state=st_)
    clock = tk.stream.SessionClock(cal)
    _ticks(clock, ts[:cut])
    assert clock.state == st_
    rest = tk.session_start(ts[cut:], cal, state=clock.state)
    assert np.array_equal(rest, tk.session_start(ts, cal)[cut:])
    # extend: the batch kernel from the stream's state
    clock2 = pickle.loads(pickle.dumps(clock))
    assert np.array_equal(clock2.extend(ts[cut:]), rest)
    labels = tk.session_label(ts, cal).astype("datetime64[D]")
    assert clock2.state == labels[~np.isnat(labels)][-1]


@pytest.mark.parametrize("unit, k", [("ns", 1), ("us", 10**3), ("ms", 10**6), ("s", 10**9)])
def test_extend_reads_integers_in_the_clocks_unit(unit, k):
    cal = CALS["ny"]()
    ts = np.arange(
        np.datetime64("2024-03-08T14:00", "ns"),
        np.datetime64("2024-03-08T22:00", "ns"),
        np.timedelta64(30, "m"),
    )
    want, state = tk.session_start(ts, cal, return_state=True)
    assert want.tolist()[:3] == [False, True, False]
    clock = tk.stream.SessionClock(cal, unit=unit)
    np.testing.assert_array_equal(clock.extend(ts.view(np.int64) // k), want)
    assert clock.state == state


def test_timestamp_kinds_and_units():
    cal = CALS["ny"]()
    t = np.datetime64("2024-03-08T15:00:00", "ns")
    want = tk.stream.SessionClock(cal).update(t)
    assert want.in_session and want.minutes == 30 and want.first
    import pandas as pd

    for v in (
        t.astype("datetime64[s]"),
        t.astype("datetime64[ms]"),
        t.astype("datetime64[us]"),
        t.astype("datetime64[m]"),  # units the C fast path leaves to the Python parser
        np.datetime64(int(t.view(np.int64)) // 10**9 // 2, "2s"),
        pd.Timestamp(t).tz_localize("UTC").tz_convert("Asia/Tokyo"),
        dt.datetime(2024, 3, 8, 10, 0, tzinfo=__import__("zoneinfo").ZoneInfo("America/New_York")),
        int(t.view(np.int64)),
        np.int64(t.view(np.int64)),
    ):
        assert tk.stream.SessionClock(cal).update(v) == want, v
    assert tk.stream.SessionClock(cal, unit="s").update(int(t.view(np.int64)) // 10**9) == want
    assert tk.stream.SessionClock(cal, unit="ms").update(int(t.view(np.int64)) // 10**6) == want
    # only integers are read in the clock's unit: every other kind carries its own
    kinds = (
        t.astype("datetime64[s]"),
        t.astype("datetime64[us]"),
        t.astype("datetime64[m]"),
        pd.Timestamp(t).tz_localize("UTC").tz_convert("Asia/Tokyo"),
        pd.Timestamp("2024-03-08 15:00", tz="UTC"),  # its own unit (us in pandas 3)
        dt.datetime(2024, 3, 8, 10, 0, tzinfo=__import__("zoneinfo").ZoneInfo("America/New_York")),
    )
    for u, k in (("s", 10**9), ("ms", 10**6), ("us", 10**3)):
        for v in kinds + (int(t.view(np.int64)) // k, np.int64(t.view(np.int64) // k)):
            assert tk.stream.SessionClock(cal, unit=u).update(v) == want, (u, v)
    assert type(want) is tk.stream.SessionTick and want._fields[0] == "in_session"
    # each unit scales exactly: one ns / us / ms / s before the open is outside
    o = np.datetime64("2024-03-08T14:30:00", "ns")
    for u in ("ns", "us", "ms", "s"):
        assert tk.stream.SessionClock(cal).update(o.astype(f"datetime64[{u}]")).minutes == 0
        assert not tk.stream.SessionClock(cal).update(o.astype(f"datetime64[{u}]") - 1).in_session
    off = tk.stream.SessionClock(cal)
    for v in (None, np.datetime64("NaT"), pd.NaT, NAT):
        tick = off.update(v)
        assert not tick.in_session and tick.minutes == -1 and np.isnat(tick.label)
    assert np.isnat(off.state)


def test_bad_arguments_raise():
    cal = CALS["ny"]()
    with pytest.raises(TypeError, match="Calendar"):
        tk.stream.SessionClock("XNYS")
    with pytest.raises(ValueError, match="unit"):
        tk.stream.SessionClock(cal, unit="h")
    with pytest.raises(ValueError, match="state"):
        tk.stream.SessionClock(cal, state=np.array(["2024-01-02", "2024-01-03"], dtype="datetime64[D]"))
    c = tk.stream.SessionClock(cal)
    with pytest.raises(TypeError):
        c.update("2024-03-08 15:00")
    with pytest.raises(ValueError, match="one timestamp"):
        c.update(np.array([1, 2], dtype="datetime64[ns]"))
    with pytest.raises(OverflowError):
        tk.stream.SessionClock(cal, unit="s").update(10**12)
    for v in (2**63, -(2**63) - 1, 2**70, np.datetime64(10**12, "s"), np.datetime64(-(10**15), "ms")):
        with pytest.raises(OverflowError):
            c.update(v)
    assert c.update(NAT + 1).in_session is False  # the first valid ns: before any table


def test_the_c_core_checks_what_it_is_given():
    """The C core reads only a table it has checked (1-D contiguous int64 columns of
    consistent lengths); a failed bind keeps the old table; a table that does not cover
    the timestamp is an error, not a read out of range."""
    cal = CALS["tokyo"]()  # a lunch break: no column is empty
    c = tk.stream.SessionClock(cal)
    t = np.datetime64("2024-03-08T01:00:00", "ns")
    want = c.update(t)
    assert want.in_session
    tab = c._table
    assert len(tab.break_starts) > 0
    cols = [
        tab.opens,
        tab.closes,
        tab.break_starts,
        tab.break_ends,
        tab.break_rows,
        tab.labels.view(np.int64),
    ]
    bad = [
        (TypeError, lambda k: cols[k].astype(np.float64)),
        (TypeError, lambda k: np.repeat(cols[k], 2)[::2]),
        (TypeError, lambda k: cols[k].reshape(1, -1)),
        (TypeError, lambda k: cols[k].astype(">i8")),
        (TypeError, lambda k: list(cols[k])),
        (ValueError, lambda k: cols[k][1:]),
    ]
    for err, make in bad:
        for k in (0, 1, 5) if err is ValueError else range(6):
            args = cols[:k] + [make(k)] + cols[k + 1 :]
            with pytest.raises(err):
                c._bind(*args, list(tab.labels), tab.lo, tab.hi)
    with pytest.raises(ValueError):
        c._bind(*cols, list(tab.labels)[1:], tab.lo, tab.hi)
    with pytest.raises(ValueError):  # breaks: three columns of one length
        c._bind(*cols[:4], cols[4][:0], cols[5], list(tab.labels), tab.lo, tab.hi)
    with pytest.raises(TypeError):
        c._bind(*cols, tuple(tab.labels), tab.lo, tab.hi)
    assert c.update(t) == want._replace(first=False)  # still the old table
    # an empty table is read in bounds: everything outside
    e = np.empty(0, np.int64)
    c._bind(e, e, e, e, e, e, [], tab.lo, tab.hi)
    assert not c.update(t).in_session

    class Stuck(tk.stream.SessionClock):
        __slots__ = ()

        def _load(self, ns):
            pass  # binds nothing

    with pytest.raises(RuntimeError, match="cover"):
        Stuck(cal).update(t)
    with pytest.raises(RuntimeError, match="not initialised"):
        tk.stream.SessionClock.__new__(tk.stream.SessionClock).update(0)
    with pytest.raises(TypeError):
        tk._core.SessionClock(int, (1, 2, 3, 4), 1, 0)
    with pytest.raises(ValueError):
        tk._core.SessionClock(tk.stream.SessionTick, want, 0, 0)
