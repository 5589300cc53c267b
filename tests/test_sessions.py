"""Session kernels: golden files, exchange_calendars cross-check, native vs twin, API, bad input."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tradekernels as tk
from tradekernels import reference_sessions as ref
from tradekernels import ufuncs

pd = pytest.importorskip("pandas")

GOLDEN = Path(__file__).parent / "golden" / "sessions"
NAT = np.iinfo(np.int64).min
MIN = 60 * 10**9
KERNELS = ("session_mask", "session_index", "session_start", "minutes_into_session")
SORTED_KERNELS = ("session_mask", "session_index", "session_start")  # have a *_sorted variant


def ns(s: str) -> int:
    return int(np.datetime64(s, "ns").astype(np.int64))


def ny() -> tk.Calendar:
    return tk.Calendar(
        "America/New_York",
        "09:30",
        "16:00",
        holidays=["2024-07-04"],
        early_closes={"2024-07-03": "13:00"},
        late_opens={"2024-03-11": "10:30"},
    )


def tokyo() -> tk.Calendar:
    return tk.Calendar(
        "Asia/Tokyo",
        "09:00",
        "15:00",
        breaks=[("11:30", "12:30")],
        holidays=["2024-01-01"],
        late_opens={"2024-01-04": "12:00"},
    )


def cme() -> tk.Calendar:
    return tk.Calendar(
        "America/Chicago",
        "17:00",
        "16:00",
        weekdays=(6, 0, 1, 2, 3),
        holidays=["2024-07-04"],
        early_closes={"2024-07-03": "12:00"},
        breaks=[("02:00", "02:30")],
    )


CALS = {"ny": ny, "tokyo": tokyo, "cme": cme}


def twin(name: str, ts: np.ndarray, cal: tk.Calendar) -> np.ndarray:
    """The twin's answer; session_index as labels -> rows of the current table."""
    lst = [int(v) for v in ts]
    if name == "session_index":
        rows = {d: i for i, d in enumerate(cal.table().labels.astype(object))}
        return np.array([rows[d] if d is not None else -1 for d in ref.session_label(lst, cal)])
    return np.array(getattr(ref, name)(lst, cal))


# --------------------------------------------------------------------------
# Golden files (written by tools/make_golden.py from the twin: tradekernels.sessions.golden)
# --------------------------------------------------------------------------

GOLDEN_FILES = sorted(GOLDEN.glob("*.npz"))


def test_golden_files_exist():
    assert {p.stem for p in GOLDEN_FILES} == {"nyse", "tokyo_lunch", "cme_overnight"}


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.stem)
def test_golden(path):
    g = np.load(path)
    cal = tk.Calendar(**json.loads(str(g["calendar"])))
    sets = sorted(k[:-3] for k in g.files if k.endswith("_ts"))
    assert len(sets) >= 3
    for s in sets:
        ts = g[f"{s}_ts"]
        np.testing.assert_array_equal(tk.session_mask(ts, cal), g[f"{s}_mask"], err_msg=s)
        np.testing.assert_array_equal(tk.session_label(ts, cal), g[f"{s}_label"], err_msg=s)
        np.testing.assert_array_equal(tk.session_start(ts, cal), g[f"{s}_start"], err_msg=s)
        np.testing.assert_array_equal(tk.minutes_into_session(ts, cal), g[f"{s}_minutes"], err_msg=s)
        idx = tk.session_index(ts, cal)
        lab = np.where(idx >= 0, cal.table().labels[idx], np.datetime64("NaT", "D"))
        np.testing.assert_array_equal(lab, g[f"{s}_label"], err_msg=s)
        # The sorted path (where the set is sorted; NaT sorts first as int64).
        if np.all(ts[1:] >= ts[:-1]):
            for k in ("mask", "start"):
                np.testing.assert_array_equal(
                    getattr(tk, f"session_{k}")(ts, cal, assume_sorted=True),
                    g[f"{s}_{k}"],
                    err_msg=f"{s} sorted {k}",
                )
            np.testing.assert_array_equal(
                tk.session_label(ts, cal, assume_sorted=True), g[f"{s}_label"], err_msg=f"{s} sorted label"
            )
        # Unsorted input: the elementwise answers do not depend on order.
        perm = np.random.default_rng(0).permutation(len(ts))
        np.testing.assert_array_equal(tk.session_mask(ts[perm], cal), g[f"{s}_mask"][perm])
        np.testing.assert_array_equal(tk.minutes_into_session(ts[perm], cal), g[f"{s}_minutes"][perm])
        # Same answers through pandas (tz-aware, other zone) and datetime64[us].
        if s.startswith("minute"):
            dti = pd.DatetimeIndex(ts.view("datetime64[ns]"), tz="UTC").tz_convert("Europe/Paris")
            out = tk.session_mask(dti, cal)
            assert isinstance(out, pd.Series) and out.index is dti
            np.testing.assert_array_equal(out.to_numpy(), g[f"{s}_mask"])
            us = ts.view("datetime64[ns]").astype("datetime64[us]")
            np.testing.assert_array_equal(tk.session_mask(us, cal), g[f"{s}_mask"])


def test_golden_has_dst_and_break_cases():
    g = np.load(GOLDEN / "cme_overnight.npz")
    mask = g["minute_2024-03-06_mask"]
    # 2024-03-10 DST change inside the Sunday-evening session: 02:00-02:30 break is at
    # wall time, so at 07:00-07:30 UTC before the change and ... the session runs on.
    assert mask.any() and (~mask).any()
    g = np.load(GOLDEN / "tokyo_lunch.npz")
    s = "minute_2023-12-28"
    lab, start = g[f"{s}_label"], g[f"{s}_start"]
    # one start per session even with the lunch break
    assert start.sum() == len(np.unique(lab[~np.isnat(lab)]))


# --------------------------------------------------------------------------
# Cross-check with exchange_calendars (XNYS, every minute 2000-2030)
# --------------------------------------------------------------------------


# exchange_calendars itself triggers pandas 3 deprecation warnings.
_XC_WARN = pytest.mark.filterwarnings("ignore:.*values returning an ndarray:DeprecationWarning")


@pytest.fixture(scope="module")
def xnys():
    xcals = pytest.importorskip("exchange_calendars")
    return xcals.get_calendar("XNYS", start="2000-01-01", end="2030-12-31")


@_XC_WARN
def test_xnys_every_minute_2000_2030(xnys):
    tz = "America/New_York"
    s = xnys.sessions
    holidays = [d.date() for d in pd.bdate_range("2000-01-01", "2030-12-31").difference(s)]
    lc = xnys.closes.dt.tz_convert(tz).dt.time
    lo = xnys.opens.dt.tz_convert(tz).dt.time
    cal = tk.Calendar(
        tz,
        "09:30",
        "16:00",
        holidays=holidays,
        early_closes={d.date(): t for d, t in zip(s, lc) if t != dt.time(16)},
        late_opens={d.date(): t for d, t in zip(s, lo) if t != dt.time(9, 30)},
    )
    every = np.arange(ns("2000-01-01"), ns("2031-01-01"), MIN, dtype=np.int64)
    mask = tk.session_mask(every, cal)
    xminutes = xnys.minutes.as_unit("ns").asi8
    np.testing.assert_array_equal(every[mask], xminutes)  # same minutes, nothing more
    labels = tk.session_label(xminutes, cal)
    want = xnys.minutes_to_sessions(xnys.minutes).to_numpy().astype("datetime64[D]")
    np.testing.assert_array_equal(labels, want)
    # the same via session_index rows
    rows = tk.session_index(xminutes, cal)
    np.testing.assert_array_equal(cal.table().labels[rows], want)
    # minute_to_session on a sample of scalars (the per-minute API)
    for m in xminutes[:: len(xminutes) // 50]:
        t = pd.Timestamp(int(m), tz="UTC")
        assert np.datetime64(xnys.minute_to_session(t).date(), "D") == tk.session_label(t, cal)
    # Calendar.from_exchange_calendars: its table gives the same mask
    xcal = tk.Calendar.from_exchange_calendars("XNYS", "2000-01-01", "2030-12-31")
    np.testing.assert_array_equal(tk.session_mask(every, xcal), mask)


@_XC_WARN
def test_from_exchange_calendars_extends(xnys):
    xcal = tk.Calendar.from_exchange_calendars("XNYS", "2020-01-01", "2020-12-31")
    ts = np.array([ns("2021-03-15T14:00"), ns("2019-03-15T14:00"), ns("2021-03-13T14:00")])
    np.testing.assert_array_equal(tk.session_mask(ts, xcal), [True, True, False])
    assert xcal.table().first <= dt.date(2019, 1, 1) and xcal.table().last >= dt.date(2021, 12, 31)
    assert "XNYS" in repr(xcal)


# --------------------------------------------------------------------------
# Native vs twin on random timestamps (hypothesis)
# --------------------------------------------------------------------------

_LO, _HI = ns("1995-01-01"), ns("2035-01-01")


@settings(max_examples=30)
@given(
    cal=st.sampled_from(sorted(CALS)),
    ts=st.lists(st.one_of(st.integers(_LO, _HI), st.just(NAT)), min_size=1, max_size=60),
    sort=st.booleans(),
)
def test_native_matches_twin(cal, ts, sort):
    c = CALS[cal]()
    a = np.array(sorted(ts) if sort else ts, dtype=np.int64)
    for name in KERNELS:
        got = getattr(tk, name)(a, c)
        np.testing.assert_array_equal(got, twin(name, a, c), err_msg=name)


@settings(max_examples=25)
@given(
    cal=st.sampled_from(sorted(CALS)),
    start=st.integers(_LO, _HI),
    steps=st.lists(st.integers(0, 6 * 3600 * 10**9), min_size=1, max_size=80),
)
def test_native_matches_twin_sorted_walk(cal, start, steps):
    """Sorted series with random gaps (the cursor's fast path and its seeks)."""
    c = CALS[cal]()
    a = start + np.cumsum(np.array(steps, dtype=np.int64))
    with tk.backend("shadow"):
        for name in KERNELS:
            getattr(tk, name)(a, c)


_TZS = ["Asia/Tokyo", "Europe/London", "Australia/Sydney", "America/Sao_Paulo", "Asia/Kolkata"]


@st.composite
def calendars(draw):
    """Random calendars; boundaries avoid 00:00-04:00 (no repeated-hour boundaries)."""
    tz = draw(st.sampled_from(_TZS))
    mins = st.integers(4 * 60, 24 * 60 - 1)
    o = draw(mins)
    c = o if draw(st.integers(0, 7)) == 0 else draw(mins)  # o == c: a 24-hour session
    t = lambda m: dt.time(m // 60, m % 60)  # noqa: E731
    span = (c - o) % 1440 or 1440
    breaks = []
    if draw(st.booleans()) and span > 30:
        a = draw(st.integers(1, span - 2))
        b = draw(st.integers(a + 1, span - 1))
        breaks = [(t((o + a) % 1440), t((o + b) % 1440))]
        if any(4 * 60 > (o + x) % 1440 for x in (a, b)):
            breaks = []
    wd = draw(st.sets(st.integers(0, 6), min_size=1))
    return tk.Calendar(tz, t(o), t(c), weekdays=wd, breaks=breaks)


@settings(max_examples=25)
@given(cal=calendars(), ts=st.lists(st.integers(ns("2015-01-01"), ns("2030-01-01")), min_size=1, max_size=40))
def test_random_calendars_match_twin(cal, ts):
    a = np.sort(np.array(ts, dtype=np.int64))
    with tk.backend("shadow"):
        for name in KERNELS:
            getattr(tk, name)(a, cal)
            getattr(tk, name)(a[::-1].copy(), cal)


def test_dst_gap_boundary():
    """An open at 02:30 New York: on the spring-forward day it opens when the gap ends (03:00 EDT)."""
    cal = tk.Calendar("America/New_York", "02:30", "05:00", weekdays=range(7))
    day = np.arange(ns("2024-03-10T05:00"), ns("2024-03-10T10:00"), MIN)
    m = tk.session_mask(day, cal)
    assert day[m][0] == ns("2024-03-10T07:00")  # 03:00 EDT
    assert day[m][-1] == ns("2024-03-10T08:59")  # 04:59 EDT
    np.testing.assert_array_equal(m, ref.session_mask([int(v) for v in day], cal))
    np.testing.assert_array_equal(tk.minutes_into_session(day, cal)[m][:2], [0, 1])


def test_24_hour_sessions():
    """open == close: each session runs 24 hours of wall time and closes where the next one
    opens, across a DST change (23 real hours); the close is the next session's open."""
    cal = tk.Calendar("America/Chicago", "17:00", "17:00", weekdays=(6, 0, 1, 2, 3))  # Sun-Thu opens
    assert cal.overnight and cal.spec()["close"] == "17:00:00"
    t = cal.table("2024-03-01", "2024-03-31")
    sun = list(t.labels.astype(object)).index(dt.date(2024, 3, 10))
    assert t.opens[sun] == ns("2024-03-10T22:00") and t.closes[sun] == ns("2024-03-11T22:00")  # CDT
    assert t.closes[sun - 1] == ns("2024-03-08T23:00")  # Thursday's session: to Friday 17:00 CST
    assert t.closes[sun] == t.opens[sun + 1]
    b = int(t.closes[sun])
    got = tk.session_label(np.array([b - 1, b, ns("2024-03-09T12:00")]), cal)
    assert got.tolist() == [dt.date(2024, 3, 10), dt.date(2024, 3, 11), None]
    assert tk.minutes_into_session(np.array([b - 1]), cal).tolist() == [24 * 60 - 1]
    edges = np.concatenate([t.opens, t.closes])
    both = np.sort(np.concatenate([edges - 1, edges, edges + 1]))
    with tk.backend("shadow"):
        for name in KERNELS:
            getattr(tk, name)(both, cal)
    early = cal.replace(early_closes={"2024-03-12": "12:00"}, breaks=[("16:00", "16:30")])
    with tk.backend("shadow"):
        for name in KERNELS:
            getattr(tk, name)(np.arange(ns("2024-03-01"), ns("2024-04-01"), 7 * MIN), early)


@_XC_WARN
def test_24_hour_rules_equal_cmes():
    """The rule calendar of a 24-hour market gives exchange_calendars' CMES mask on weeks
    without holidays (CMES labels a session by its close date, the rules by the open date)."""
    pytest.importorskip("exchange_calendars")
    cmes = tk.Calendar.from_exchange_calendars("CMES", "2024-02-26", "2024-03-24")
    rules = tk.Calendar("America/Chicago", "17:00", "17:00", weekdays=(6, 0, 1, 2, 3))
    every = np.arange(ns("2024-03-03T00:00"), ns("2024-03-23T00:00"), MIN)
    np.testing.assert_array_equal(tk.session_mask(every, rules), tk.session_mask(every, cmes))


def test_overnight_session_across_dst():
    cal = cme()
    # Sunday 2024-03-10 17:00 CDT open; the 02:00 DST change was earlier that day.
    # Saturday night 2024-11-02 -> no session (Saturday not listed); Sunday 11-03 17:00 CST.
    o = ns("2024-03-10T22:00")  # 17:00 CDT
    assert tk.session_mask(np.array([o - 1, o]), cal).tolist() == [False, True]
    o = ns("2024-11-03T23:00")  # 17:00 CST
    assert tk.session_mask(np.array([o - 1, o]), cal).tolist() == [False, True]
    # Thursday 2024-03-07 opens 17:00 CST, closes Friday 16:00 CST; break 02:00-02:30 CST
    ts = np.array(
        [
            ns("2024-03-07T23:00"),
            ns("2024-03-08T08:00"),
            ns("2024-03-08T08:30"),
            ns("2024-03-08T21:59"),
            ns("2024-03-08T22:00"),
            ns("2024-03-08T23:00"),
        ]
    )
    assert tk.session_mask(ts, cal).tolist() == [True, False, True, True, False, False]
    assert tk.minutes_into_session(ts, cal).tolist() == [0, -1, 570, 1379, -1, -1]
    lab = tk.session_label(ts, cal)
    assert lab[0] == np.datetime64("2024-03-07") and np.isnat(lab[-1])


# --------------------------------------------------------------------------
# API
# --------------------------------------------------------------------------


def test_units_nat_and_scalars():
    cal = ny()
    base = np.array(
        ["2024-03-12T13:29:59", "2024-03-12T13:30", "2024-03-12T19:59:59", "2024-03-12T20:00", "NaT"],
        dtype="datetime64[s]",
    )
    want = [False, True, True, False, False]
    for unit in ("s", "ms", "us", "ns"):
        assert tk.session_mask(base.astype(f"datetime64[{unit}]"), cal).tolist() == want
    assert tk.session_mask(base.astype("datetime64[ns]").view(np.int64), cal).tolist() == want
    assert tk.session_index(base[4:], cal).tolist() == [-1]
    assert tk.minutes_into_session(base, cal).tolist() == [-1, 0, 389, -1, -1]
    assert tk.session_mask(np.datetime64("2024-03-12T14:00"), cal) is np.True_
    assert tk.session_mask(pd.Timestamp("2024-03-12 10:00", tz="America/New_York"), cal) is np.True_
    assert tk.session_mask(pd.NaT, cal) is np.False_
    assert tk.session_mask(dt.datetime(2024, 3, 12, 14, 0), cal) is np.True_  # naive = UTC
    assert tk.minutes_into_session(dt.datetime(2024, 3, 12, 10, 5, tzinfo=cal.tz), cal) == 35
    assert isinstance(tk.session_index(ns("2024-03-12T14:00"), cal), np.integer)


def test_pandas_in_pandas_out():
    cal = ny()
    idx = pd.date_range("2024-03-11 09:00", periods=600, freq="min", tz="America/New_York")
    m = tk.session_mask(idx, cal)
    assert isinstance(m, pd.Series) and m.index.equals(idx) and m.dtype == bool
    assert m.name == "session_mask"
    assert m.sum() == 330  # late open 10:30 on 2024-03-11
    naive = idx.tz_convert("UTC").tz_localize(None)  # naive means UTC
    np.testing.assert_array_equal(tk.session_mask(naive, cal).to_numpy(), m.to_numpy())
    s = pd.Series(idx, index=pd.RangeIndex(100, 700), name="t")
    out = tk.minutes_into_session(s, cal)
    assert out.index.equals(s.index) and out.name == "t" and out.iloc[90] == 0
    lab = tk.session_label(s, cal)
    assert lab.iloc[90] == pd.Timestamp("2024-03-11")
    st_ = tk.session_start(idx, cal)
    assert st_.sum() == 1 and st_.index[st_.to_numpy()][0] == pd.Timestamp("2024-03-11 10:30", tz=cal.tz)
    # non-native byte order (datetime64 and int64) is converted, not viewed
    big = idx.tz_convert("UTC").tz_localize(None).to_numpy().astype("datetime64[ns]")
    for a in (big.astype(">M8[ns]"), big.astype(">M8[s]"), big.view(np.int64).astype(">i8")):
        np.testing.assert_array_equal(tk.session_mask(a, cal), m.to_numpy(), err_msg=str(a.dtype))
    # other units (taken zero-copy as UTC integers, then cast to ns), aware and naive
    for unit in ("s", "ms", "us"):
        for ix in (idx.as_unit(unit), naive.as_unit(unit), idx.as_unit(unit).tz_convert("Asia/Tokyo")):
            np.testing.assert_array_equal(tk.session_mask(ix, cal).to_numpy(), m.to_numpy(), err_msg=unit)
            np.testing.assert_array_equal(tk.session_mask(pd.Series(ix), cal).to_numpy(), m.to_numpy())


def test_session_start_and_breaks():
    cal = tokyo()
    ts = np.arange(ns("2024-03-04T00:00"), ns("2024-03-06T00:00"), MIN)  # Mon, Tue (UTC+9)
    start = tk.session_start(ts, cal)
    assert start.sum() == 2
    assert ts[start].tolist() == [ns("2024-03-04T00:00"), ns("2024-03-05T00:00")]
    m = tk.session_mask(ts, cal)
    assert m.sum() == 2 * 300  # 6 h minus the 1 h lunch
    mins = tk.minutes_into_session(ts, cal)
    assert mins[ts == ns("2024-03-04T03:29")] == -1  # 12:29 JST: lunch (break end exclusive) ...
    assert mins[ts == ns("2024-03-04T03:30")] == 210  # ... 12:30 counts from 09:00
    # 2-D input: session_start runs along the last axis, row by row
    two = np.stack([ts[:1440], ts[1440:]])
    np.testing.assert_array_equal(tk.session_start(two, cal).sum(axis=1), [1, 1])
    np.testing.assert_array_equal(tk.session_mask(two, cal), m.reshape(2, -1))
    # late open inside the break: trading starts when the break ends
    ts = np.arange(ns("2024-01-04T00:00"), ns("2024-01-04T07:00"), MIN)
    first = ts[tk.session_start(ts, cal)]
    assert first.tolist() == [ns("2024-01-04T03:30")]
    assert tk.minutes_into_session(first, cal).tolist() == [30]


def test_breaks_that_touch_are_one_longer_break():
    """Two breaks where one ends as the next starts do not overlap: the calendar is valid
    and its mask is that of the single break they make (native and twin, shadow)."""
    two = tk.Calendar("America/New_York", "09:30", "16:00", breaks=[("11:00", "12:00"), ("12:00", "13:00")])
    one = tk.Calendar("America/New_York", "09:30", "16:00", breaks=[("11:00", "13:00")])
    ts = np.array([ns(f"2024-03-05T{hm}") for hm in ("15:59", "16:00", "16:59", "17:00", "18:00")])  # EST
    with tk.backend("shadow"):
        got = {k: getattr(tk, k)(ts, two) for k in KERNELS}
    assert got["session_mask"].tolist() == [True, False, False, False, True]
    for k in KERNELS:
        np.testing.assert_array_equal(got[k], getattr(tk, k)(ts, one), err_msg=k)


def test_sub_second_open_keeps_its_microseconds():
    """A datetime.time with microseconds: the table and the twin both open at 09:30:00.5."""
    cal = tk.Calendar("UTC", dt.time(9, 30, 0, 500000), "16:00", breaks=[(dt.time(12, 0, 0, 250), "12:30")])
    ts = np.array(
        [
            "2024-03-05T09:30:00.25",
            "2024-03-05T09:30:00.5",
            "2024-03-05T12:00:00.000249",
            "2024-03-05T12:00:00.00025",
        ],
        dtype="datetime64[ns]",
    )
    assert tk.session_mask(ts, cal).tolist() == [False, True, True, False]
    with tk.backend("shadow"):
        for k in KERNELS:
            getattr(tk, k)(ts, cal)


def test_table_extends_and_labels_are_stable():
    cal = ny()
    a = np.array([ns("2024-03-12T14:00")])
    tk.session_mask(a, cal)
    t1 = cal.table()
    assert t1.first == dt.date(2024, 1, 1) or t1.first <= dt.date(2024, 3, 11)
    b = np.array([ns("2001-03-13T15:00"), ns("2024-03-12T14:00"), ns("2040-03-13T15:00")])
    idx = tk.session_index(b, cal)
    t2 = cal.table()
    assert t2.first <= dt.date(2001, 3, 13) and t2.last >= dt.date(2040, 3, 13)
    assert t2.labels[idx].tolist() == [dt.date(2001, 3, 13), dt.date(2024, 3, 12), dt.date(2040, 3, 13)]
    assert tk.session_label(a, cal)[0] == np.datetime64("2024-03-12")
    # the table is sorted, read-only int64
    assert np.all(np.diff(t2.opens) > 0) and np.all(t2.opens < t2.closes)
    with pytest.raises(ValueError):
        t2.opens[0] = 0
    # extremes of int64 (near 1677 / 2262) do not crash
    ext = np.array([NAT + 1, np.iinfo(np.int64).max, 0], dtype=np.int64)
    assert tk.session_mask(ext, cal).tolist() == [False, False, False]


def test_raw_ufuncs_any_table_in_bounds():
    """The raw ufuncs never read out of bounds, whatever the table (no validation there)."""
    rng = np.random.default_rng(1)
    for path in ufuncs.available_paths():
        u = ufuncs.for_path(path)
        for _ in range(50):
            s, b = rng.integers(0, 6, 2)
            tab = [
                rng.integers(-50, 50, s),
                rng.integers(-50, 50, s),
                rng.integers(-50, 50, b),
                rng.integers(-50, 50, b),
            ]
            if s and rng.random() < 0.2:
                tab[0][rng.integers(0, s)] = NAT  # malformed: NaT in the table
            ts = rng.integers(-60, 60, 200)
            for name in KERNELS + tuple(k + "_sorted" for k in SORTED_KERNELS):
                x = np.sort(ts) if name.endswith("_sorted") else ts
                r, out = u[name](x, *tab, -40, 40)
                assert r.shape == x.shape and out == np.sum((x < -40) | (x > 40))
                if name.endswith("_sorted"):  # and unsorted (a broken promise): in bounds
                    assert u[name](ts, *tab, -40, 40)[0].shape == ts.shape
        # empty table, strided and 2-D ts
        ts = np.arange(0, 400, dtype=np.int64).reshape(4, 100)[:, ::3]
        e = np.empty(0, np.int64)
        r, out = u["session_mask"](ts, e, e, e, e, 0, 1000)
        assert not r.any() and out.tolist() == [0] * 4


def test_simd_paths_agree():
    cal = tokyo()
    ts = np.arange(ns("2023-12-20"), ns("2024-01-20"), 17 * 10**9, dtype=np.int64)
    ts[::977] = NAT
    t = cal.table("2023-01-01", "2024-12-31")
    args = (t.opens, t.closes, t.break_starts, t.break_ends, t.lo, t.hi)
    res = {p: [ufuncs.for_path(p)[k](ts, *args)[0] for k in KERNELS] for p in ufuncs.available_paths()}
    for p, r in res.items():
        for k, a, b in zip(KERNELS, r, res["scalar"]):
            np.testing.assert_array_equal(a, b, err_msg=f"{p} {k}")
    np.testing.assert_array_equal(
        res["scalar"][0], twin("session_mask", ts[:5000], cal).tolist() + res["scalar"][0][5000:].tolist()
    )


@st.composite
def mutated_grids(draw):
    """Long sorted minute / second grids (the AVX2 block path) with local damage:
    NaT, swapped neighbours, duplicates, far-away values, out-of-table values."""
    step = draw(st.sampled_from([10**9, 7 * 10**9, MIN, 3 * MIN]))
    start = draw(st.integers(ns("2023-12-01"), ns("2024-02-01")))
    if draw(st.booleans()):
        start -= start % step  # on the grid: timestamps exactly at opens and closes
    n = draw(st.integers(1, 3000))
    a = start + step * np.arange(n, dtype=np.int64)
    for _ in range(draw(st.integers(0, 6))):
        i = draw(st.integers(0, n - 1))
        kind = draw(st.sampled_from(["nat", "swap", "dup", "far", "outside"]))
        if kind == "nat":
            a[i] = NAT
        elif kind == "swap" and i + 1 < n:
            a[i], a[i + 1] = a[i + 1], a[i]
        elif kind == "dup" and i + 1 < n:
            a[i + 1] = a[i]
        elif kind == "far":
            a[i] = ns("2024-01-15") + draw(st.integers(-(10**15), 10**15))
        elif kind == "outside":
            a[i] = draw(st.sampled_from([ns("1990-01-01"), ns("2040-01-01")]))
    return a


@settings(max_examples=60)
@given(cal=st.sampled_from(sorted(CALS)), a=mutated_grids(), off=st.integers(0, 31))
def test_block_path_matches_scalar_on_damaged_grids(cal, a, off):
    """Every SIMD path equals the scalar path (raw ufuncs, fixed table), also at an
    unaligned start; the twin agrees on a sample."""
    c = CALS[cal]()
    t = c.table("2023-06-01", "2024-06-30")
    args = (t.opens, t.closes, t.break_starts, t.break_ends, t.lo, t.hi)
    a = a[off:]
    want = {k: ufuncs.for_path("scalar")[k](a, *args) for k in KERNELS}
    for p in ufuncs.available_paths():
        for k in KERNELS:
            got = ufuncs.for_path(p)[k](a, *args)
            np.testing.assert_array_equal(got[0], want[k][0], err_msg=f"{p} {k}")
            assert got[1] == want[k][1] == np.sum((a != NAT) & ((a < t.lo) | (a > t.hi)))
    sample = np.unique(np.linspace(0, max(len(a) - 1, 0), 40).astype(int))[: len(a)]
    inside = a[sample][(a[sample] == NAT) | ((a[sample] >= t.lo) & (a[sample] <= t.hi))]
    np.testing.assert_array_equal(
        want["session_mask"][0][sample][np.isin(a[sample], inside)], twin("session_mask", inside, c)
    )


def test_block_path_every_alignment():
    """Minute and second grids on whole minutes (timestamps exactly at opens, closes, breaks)
    started at each of 64 offsets, so every boundary falls at every block position."""
    for cal in CALS.values():
        c = cal()
        t = c.table("2024-03-01", "2024-03-31")
        args = (t.opens, t.closes, t.break_starts, t.break_ends, t.lo, t.hi)
        for step in (MIN, 15 * 10**9):
            a = np.arange(ns("2024-03-07"), ns("2024-03-12"), step, dtype=np.int64)  # DST on 03-10
            for off in range(64):
                for k in KERNELS:
                    want = ufuncs.for_path("scalar")[k](a[off:], *args)[0]
                    for p in ufuncs.available_paths():
                        np.testing.assert_array_equal(
                            ufuncs.for_path(p)[k](a[off:], *args)[0], want, err_msg=f"{p} {k} {off}"
                        )


@st.composite
def sorted_series(draw):
    """Sorted timestamps: regular grids (the exact-guess case), random gaps, duplicates,
    NaT runs at the start (int64 order) or the end (datetime64 order), values outside the table."""
    kind = draw(st.sampled_from(["grid", "gaps", "random"]))
    n = draw(st.integers(0, 2500))
    start = draw(st.integers(ns("2023-11-01"), ns("2024-04-01")))
    if kind == "grid":
        step = draw(st.sampled_from([10**9, 30 * 10**9, MIN, 5 * MIN, 3600 * 10**9]))
        if draw(st.booleans()):
            start -= start % step
        a = start + step * np.arange(n, dtype=np.int64)
    elif kind == "gaps":
        gaps = draw(st.lists(st.integers(0, 8 * 3600 * 10**9), min_size=n, max_size=n))
        a = start + np.cumsum(np.array(gaps, dtype=np.int64))
    else:
        a = np.sort(
            np.array(
                draw(st.lists(st.integers(ns("2022-01-01"), ns("2026-01-01")), min_size=n, max_size=n)),
                dtype=np.int64,
            )
        )
    if n and draw(st.booleans()):  # duplicates
        i = draw(st.integers(0, n - 1))
        a[i : i + draw(st.integers(1, 50))] = a[i]
    a = np.sort(a)
    lead, trail = draw(st.integers(0, 5)), draw(st.integers(0, 5))
    if draw(st.booleans()):
        trail = 0
    else:
        lead = 0
    return np.concatenate([np.full(lead, NAT), a, np.full(trail, NAT)]).astype(np.int64)


@settings(max_examples=120)
@given(
    cal=st.one_of(st.sampled_from(sorted(CALS)).map(lambda k: CALS[k]()), calendars()),
    a=sorted_series(),
    rows=st.booleans(),
)
def test_sorted_path_equals_general(cal, a, rows):
    """The sorted kernels equal the general ones (raw ufuncs, same table, outside count too)."""
    t = cal.table("2023-06-01", "2024-06-30")
    args = (t.opens, t.closes, t.break_starts, t.break_ends, t.lo, t.hi)
    if rows:  # 2-D: one sorted series per row, strided
        a = np.stack([np.where(a == NAT, NAT, a + off) for off in (0, 7 * MIN, -13 * 3600 * 10**9)])
        a = np.asfortranarray(a)
    for k in SORTED_KERNELS:
        want = getattr(ufuncs, k)(a, *args)
        got = getattr(ufuncs, k + "_sorted")(a, *args)
        np.testing.assert_array_equal(got[0], want[0], err_msg=k)
        np.testing.assert_array_equal(got[1], want[1], err_msg=k)


@settings(max_examples=60)
@given(a=mutated_grids(), cal=st.sampled_from(sorted(CALS)))
def test_sorted_path_unsorted_input_stays_in_bounds(a, cal):
    """A broken promise: answers unspecified, but shapes / dtypes right and memory safe
    (the sanitizer run of the suite checks the accesses)."""
    c = CALS[cal]()
    t = c.table("2023-06-01", "2024-06-30")
    b = np.random.default_rng(len(a)).permutation(a)
    for k in SORTED_KERNELS:
        for x in (a, b, b[::-2]):
            r, out = getattr(ufuncs, k + "_sorted")(
                x, t.opens, t.closes, t.break_starts, t.break_ends, t.lo, t.hi
            )
            assert r.shape == x.shape and out >= 0


def test_sorted_api_and_datetimeindex_auto():
    cal = tokyo()
    ts = np.arange(ns("2023-12-28"), ns("2024-01-10"), MIN, dtype=np.int64)
    for k in SORTED_KERNELS + ("session_label",):
        want = getattr(tk, k)(ts, cal)
        np.testing.assert_array_equal(getattr(tk, k)(ts, cal, assume_sorted=True), want, err_msg=k)
        with tk.backend("shadow"):  # native sorted path vs the twin
            getattr(tk, k)(ts[::7], cal, assume_sorted=True)
    dti = pd.DatetimeIndex(ts.view("datetime64[ns]"), tz="UTC").tz_convert("Asia/Tokyo")
    assert dti.is_monotonic_increasing
    out = tk.session_mask(dti, cal)
    assert out.index is dti
    np.testing.assert_array_equal(out.to_numpy(), tk.session_mask(ts, cal))
    # a DatetimeIndex that is not monotonic (or has NaT) takes the general path: still right
    rev = dti[::-1]
    np.testing.assert_array_equal(tk.session_mask(rev, cal).to_numpy(), tk.session_mask(ts, cal)[::-1])
    with_nat = pd.DatetimeIndex(np.concatenate([ts[:100], [NAT]]).view("datetime64[ns]"))
    assert not with_nat.is_monotonic_increasing
    np.testing.assert_array_equal(
        tk.session_mask(with_nat, cal).to_numpy(), tk.session_mask(np.concatenate([ts[:100], [NAT]]), cal)
    )
    # table extension works on the sorted path too
    far = np.arange(ns("2031-01-06"), ns("2031-01-08"), MIN, dtype=np.int64)
    np.testing.assert_array_equal(tk.session_mask(far, cal, assume_sorted=True), tk.session_mask(far, cal))
    with pytest.raises(TypeError, match="assume_sorted"):
        tk.session_mask(ts, cal, assume_sorted="yes")


_UNITS = ["s", "ms", "us", "m", "h", "D", "W", "10s", "15m"]


@settings(max_examples=80)
@given(
    cal=st.one_of(st.sampled_from(sorted(CALS)).map(lambda k: CALS[k]()), calendars()),
    unit=st.sampled_from(_UNITS),
    sort=st.booleans(),
    ts=st.lists(
        st.one_of(st.integers(ns("2023-10-01"), ns("2024-05-01")), st.just(NAT)), min_size=0, max_size=300
    ),
    grid=st.booleans(),
)
def test_units_read_in_place_match_ns(cal, unit, sort, ts, grid):
    """Timestamps in a coarser unit are read in place against the table scaled to that unit
    (bounds rounded up): every kernel, both paths, equals the same instants in ns."""
    x = np.array(ts, dtype=np.int64).view("datetime64[ns]").astype(f"datetime64[{unit}]")
    if grid:  # 3000 consecutive units from a session-day morning: boundaries hit exactly
        start = np.datetime64("2024-03-08T08:57", "ns").astype(x.dtype)
        x = np.concatenate([start + np.arange(3000), x])
    if sort:
        x = np.sort(x)  # datetime64 order: NaT last
    want_ns = x.astype("datetime64[ns]")
    for k in KERNELS:
        want = getattr(tk, k)(want_ns, cal)
        np.testing.assert_array_equal(getattr(tk, k)(x, cal), want, err_msg=f"{k} {unit}")
        if sort and k in SORTED_KERNELS:
            np.testing.assert_array_equal(
                getattr(tk, k)(x, cal, assume_sorted=True), want, err_msg=f"{k} {unit} sorted"
            )
    np.testing.assert_array_equal(tk.session_label(x, cal), tk.session_label(want_ns, cal))


@settings(max_examples=60)
@given(cal=st.sampled_from(sorted(CALS)), a=sorted_series(), data=st.data(), rows=st.booleans())
def test_session_start_in_chunks_equals_whole(cal, a, data, rows):
    """Chunks carried with state= / return_state=True concatenate to the whole answer,
    for any cut points (empty chunks too), 1-D and 2-D, with or without the promise."""
    c = CALS[cal]()
    x = np.stack([a, np.where(a == NAT, NAT, a + 5 * 3600 * 10**9)]) if rows else a
    n = x.shape[-1]
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=6)))
    promise = data.draw(st.booleans())
    want = tk.session_start(x, c)
    state, outs = None, []
    for part in np.split(x, cuts, axis=-1):
        got, state = tk.session_start(part, c, state=state, return_state=True, assume_sorted=promise)
        outs.append(got)
    np.testing.assert_array_equal(np.concatenate(outs, axis=-1), want)
    # the final state is the label of the last start's session
    last = tk.session_start(x, c, return_state=True)[1]
    np.testing.assert_array_equal(np.asarray(state, dtype="datetime64[D]"), last)


def test_session_start_state_pandas_and_errors():
    c = tokyo()
    idx = pd.date_range("2024-01-04 08:00", periods=2000, freq="min", tz="Asia/Tokyo")
    whole = tk.session_start(idx, c)
    a, st_ = tk.session_start(idx[:300], c, return_state=True)  # 08:00-13:00, late open 12:00
    b, st2 = tk.session_start(idx[300:], c, state=st_, return_state=True)
    assert isinstance(a, pd.Series) and b.index.equals(idx[300:])
    np.testing.assert_array_equal(np.concatenate([a.to_numpy(), b.to_numpy()]), whole.to_numpy())
    assert st_ == np.datetime64("2024-01-04") and st2 == np.datetime64("2024-01-05")
    # a state from another session leaves the first start in place
    c1 = tk.session_start(idx[300:], c, state=np.datetime64("2023-12-29"))
    assert c1.to_numpy().sum() == b.to_numpy().sum() + 1
    with pytest.raises(ValueError, match="state"):
        tk.session_start(
            np.zeros((2, 3), dtype=np.int64), c, state=np.array(["2024-01-01"] * 3, dtype="datetime64[D]")
        )


def test_spec_round_trip_and_repr():
    for make in CALS.values():
        c = make()
        c2 = tk.Calendar(**json.loads(json.dumps(c.spec())))
        assert c2.spec() == c.spec()
        assert c.tz.key in repr(c)
    assert cme().overnight and not ny().overnight


def test_reference_backend():
    cal = tokyo()
    ts = np.arange(ns("2024-03-04T00:00"), ns("2024-03-04T08:00"), 7 * MIN)
    with tk.backend("reference"):
        r = {k: getattr(tk, k)(ts, cal) for k in KERNELS}
    for k in KERNELS:
        np.testing.assert_array_equal(r[k], getattr(tk, k)(ts, cal))


# --------------------------------------------------------------------------
# Bad input: clear errors, never a crash
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(tz="Mars/Olympus_Mons"), ValueError, "unknown time zone"),
        (dict(tz="../etc/passwd"), ValueError, "unknown time zone"),
        (dict(tz=5), TypeError, "tz"),
        (dict(breaks=[("08:00", "09:00")]), ValueError, "not inside the session"),
        (dict(breaks=[("15:30", "16:30")]), ValueError, "not inside the session"),
        (dict(breaks=[("12:00", "11:00")]), ValueError, "not inside the session"),
        (dict(breaks=[("11:00", "12:00"), ("11:30", "12:30")]), ValueError, "overlap"),
        (dict(breaks=["11:00"]), TypeError, "pairs"),
        (dict(open="25:00"), ValueError, "not a valid time"),
        (dict(open="9.30"), ValueError, "HH:MM"),
        (dict(open=9.5), TypeError, "datetime.time"),
        (dict(close="09:30", early_closes={"2024-07-03": "09:30"}), ValueError, "early close"),
        (dict(close="09:30", breaks=[("12:00", "09:30")]), ValueError, "not inside the session"),
        (dict(early_closes={"2024-07-03": "17:00"}), ValueError, "early close"),
        (dict(late_opens={"2024-07-03": "08:00"}), ValueError, "late open"),
        (dict(weekdays=[7]), ValueError, "weekdays"),
        (dict(holidays=["2024-13-01"]), ValueError, "ISO date"),
        (dict(holidays="2024-07-04"), TypeError, "collection"),
    ],
)
def test_bad_calendar(kwargs, exc, match):
    args = dict(tz="America/New_York", open="09:30", close="16:00")
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        tk.Calendar(**args)


_DATES = r"a datetime\.date, an ISO date string 'YYYY-MM-DD', a numpy\.datetime64 or a pandas\.Timestamp"
_TIMES = r"a datetime\.time or an 'HH:MM' / 'HH:MM:SS' string"
_NATS = [pd.NaT, pd.Timestamp("NaT"), np.datetime64("NaT"), np.datetime64("NaT", "ns")]


@pytest.mark.parametrize(
    "nat", _NATS, ids=["pd.NaT", "Timestamp(NaT)", "datetime64(NaT)", "datetime64[ns](NaT)"]
)
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (lambda x: dict(holidays=["2024-07-04", x]), r"holidays \(each entry\) must be " + _DATES),
        (lambda x: dict(early_closes={x: "13:00"}), r"early_closes \(each key\) must be " + _DATES),
        (lambda x: dict(late_opens={x: "10:30"}), r"late_opens \(each key\) must be " + _DATES),
        (lambda x: dict(early_closes={"2024-07-03": x}), r"early_closes\[2024-07-03\] must be " + _TIMES),
        (lambda x: dict(late_opens={"2024-07-03": x}), r"late_opens\[2024-07-03\] must be " + _TIMES),
        (lambda x: dict(open=x), "open must be " + _TIMES),
        (lambda x: dict(close=x), "close must be " + _TIMES),
        (lambda x: dict(breaks=[(x, "12:00")]), r"breaks \(a start\) must be " + _TIMES),
        (lambda x: dict(breaks=[("11:00", x)]), r"breaks \(an end\) must be " + _TIMES),
    ],
)
def test_nat_in_calendar_arguments(nat, kwargs, match):
    """NaT anywhere a date or time goes: a ValueError naming the argument, what is allowed,
    and that it got NaT (pandas' NaT is a datetime: it used to fail in NaTType.time())."""
    args = dict(tz="America/New_York", open="09:30", close="16:00")
    args.update(kwargs(nat))
    with pytest.raises(ValueError, match=r"^tradekernels.Calendar: " + match + ", got NaT$"):
        tk.Calendar(**args)


@pytest.mark.parametrize(
    "args, exc, match",
    [
        (("2300-01-01",), ValueError, r"start 2300-01-01 is outside the dates a session table can cover, "),
        ((None, "2300-01-01"), ValueError, r"end 2300-01-01 is outside .* 1677-09-22 \.\. 2262-04-11"),
        (("1600-01-01", "2024-01-01"), ValueError, r"start 1600-01-01 is outside"),
        (
            (np.datetime64("300000-01-01"),),
            ValueError,
            r"start 300000-01-01 is outside the years 1 \.\. 9999",
        ),
        ((pd.NaT,), ValueError, "start must be " + _DATES + ", got NaT"),
        (("2024-01-01", np.datetime64("NaT")), ValueError, "end must be " + _DATES + ", got NaT"),
        ((1.5,), TypeError, "start must be " + _DATES + ", got float"),
    ],
)
def test_table_range_errors(args, exc, match):
    """Calendar.table(start, end) outside the datetime64[ns] dates: an error, not a silent clamp."""
    with pytest.raises(exc, match=r"^tradekernels\.Calendar\.table: " + match):
        ny().table(*args)
    assert len(ny().table("1677-09-22", "1677-12-31")) > 0  # the range's own ends are fine
    assert len(ny().table("2262-01-01", "2262-04-11")) > 0


@pytest.mark.parametrize(
    "bad",
    [
        np.array([1.5, 2.5]),
        np.array([True, False]),
        np.array(["2024-01-01"]),
        np.array([1, 2], dtype="timedelta64[ns]"),
        np.array([object()]),
        np.array(["2024-01-01"], dtype="datetime64"),  # has a unit (D) -> fine, checked below
        1.5,
    ],
)
def test_bad_timestamps(bad):
    cal = ny()
    if isinstance(bad, np.ndarray) and bad.dtype.kind == "M":
        assert tk.session_mask(bad, cal).tolist() == [False]
        return
    for name in KERNELS + ("session_label",):
        with pytest.raises(TypeError, match="expected"):
            getattr(tk, name)(bad, cal)


def test_bad_other():
    cal = ny()
    with pytest.raises(TypeError, match="Calendar"):
        tk.session_mask(np.array([0]), "XNYS")
    with pytest.raises(TypeError, match="DatetimeIndex"):
        tk.session_mask(pd.Index([1.0, 2.0]), cal)
    with pytest.raises(TypeError, match="datetime or integer Series"):
        tk.session_mask(pd.Series([1.0]), cal)
    with pytest.raises(OverflowError, match="range"):
        tk.session_mask(np.array(["2300-01-01"], dtype="datetime64[s]"), cal)
    with pytest.raises(ValueError, match="after"):
        cal.table("2024-02-01", "2024-01-01")


def test_early_close_on_a_non_session_date_changes_no_session():
    """An early close listed for a holiday or a weekend moves no other session's close
    (mutation check: ses-early-close-on-non-session)."""
    cal = tk.Calendar(
        "America/New_York",
        "09:30",
        "16:00",
        holidays=["2024-07-04"],
        early_closes={"2024-07-04": "13:00", "2024-07-06": "12:00", "2024-07-03": "13:00"},
    )
    t = cal.table("2024-01-01", "2024-12-31")
    rows = {d: i for i, d in enumerate(t.labels.astype(object))}
    for day, close in (("2024-07-03", "17:00"), ("2024-07-05", "20:00"), ("2024-07-08", "20:00")):
        assert t.closes[rows[dt.date.fromisoformat(day)]] == ns(f"{day}T{close}"), day  # UTC (EDT + 4 h)
    ts = np.arange(ns("2024-07-01"), ns("2024-07-10"), 7 * MIN, dtype=np.int64)
    np.testing.assert_array_equal(tk.session_mask(ts, cal), twin("session_mask", ts, cal))


def test_table_holds_the_overnight_session_begun_the_day_before_its_first_date():
    """A table for local dates first..last holds the session labelled first - 1, which an
    overnight calendar opens the evening before ``first`` and closes on it: timestamps
    from ``lo`` on are answered by the table alone (mutation check: ses-overnight-previous-day)."""
    cal = cme()
    t = cal.table("2024-01-01", "2024-12-31")
    assert t.first == dt.date(2024, 1, 1) and t.labels[0] == np.datetime64("2023-12-31")
    ts = np.arange(t.lo, t.lo + 30 * 3600 * 10**9, 11 * MIN, dtype=np.int64)
    args = (t.opens, t.closes, t.break_starts, t.break_ends, t.lo, t.hi)
    mask, outside = ufuncs.session_mask(ts, *args)
    assert outside == 0 and mask[: 2 * 60 // 11].all()  # Monday 00:00 .. 02:00 Chicago (then a break)
    np.testing.assert_array_equal(mask, twin("session_mask", ts, cal))
