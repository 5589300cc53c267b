"""DST exact to the nanosecond: boundaries in gaps, repeated hours, 30-minute shifts and
skipped dates; the native table against the independent twin on random calendars."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tradekernels as tk
from tradekernels.sessions import reference as ref

NAT = np.iinfo(np.int64).min
KERNELS = ("session_mask", "session_index", "session_label", "session_start", "minutes_into_session")


def ns(s: str) -> int:
    return int(np.datetime64(s, "ns").astype(np.int64))


def mask(cal: tk.Calendar, *ts: int) -> list:
    return tk.session_mask(np.array(ts, dtype=np.int64), cal).tolist()


def both(cal: tk.Calendar, ts: np.ndarray) -> None:
    """Every kernel, native against the twin (shadow raises on the first difference)."""
    srt = np.sort(ts)
    with tk.backend("shadow"):
        for k in KERNELS:
            getattr(tk, k)(ts, cal)
            getattr(tk, k)(srt, cal, **({} if k == "minutes_into_session" else {"assume_sorted": True}))


def test_open_in_gap_is_the_gap_end():
    """The reproducer: 02:10 does not exist on 2024-03-10 in New York; the session opens at
    03:00 EDT = 07:00 UTC exactly (was 0.82 s late)."""
    cal = tk.Calendar("America/New_York", "02:10", "16:00", weekdays=range(7))
    t = ns("2024-03-10T07:00")
    assert mask(cal, t - 1, t) == [False, True]
    assert tk.session_mask(np.array(["2024-03-10T07:00"], "M8[ns]"), cal).tolist() == [True]
    assert tk.minutes_into_session(np.array([t, t + 60 * 10**9 - 1, t + 60 * 10**9]), cal).tolist() == [
        0,
        0,
        1,
    ]
    assert ref.wall_to_utc_ns(dt.datetime(2024, 3, 10, 2, 10), cal.tz) == t
    assert t in cal.table("2024-03-10", "2024-03-10").opens
    both(cal, np.array([t - 1, t, t + 1, ns("2024-03-11T06:10") - 1, ns("2024-03-11T06:10")]))


def test_close_and_break_in_gap():
    """A close inside the gap ends the session at the gap end; a break wholly inside the gap
    is dropped (the calendar stays usable, also for June)."""
    cal = tk.Calendar("America/New_York", "00:00", "23:00", weekdays=range(7), breaks=[("02:00", "02:30")])
    assert mask(cal, ns("2024-06-10T06:10"), ns("2024-06-10T06:00") - 1, ns("2024-06-10T06:30")) == [
        False,
        True,
        True,
    ]
    t = ns("2024-03-10T07:00")  # 02:00 EST == 03:00 EDT: the break is empty, the session runs on
    assert mask(cal, t - 1, t, t + 1) == [True, True, True]
    table = cal.table("2024-03-01", "2024-03-31")
    assert len(table.break_starts) == len(table) - 1  # all but the one in the gap
    close_in_gap = tk.Calendar("America/New_York", "01:00", "02:30", weekdays=range(7))
    assert mask(close_in_gap, t - 1, t) == [True, False]
    empty = tk.Calendar("America/New_York", "02:05", "02:55", weekdays=range(7))
    assert mask(empty, t - 1, t, t + 1) == [False, False, False]
    assert dt.date(2024, 3, 10) not in empty.table("2024-03-01", "2024-03-31").labels.astype(object)
    for c in (cal, close_in_gap, empty):
        both(c, np.array([t - 1, t, t + 1, ns("2024-03-10T06:00") - 1, ns("2024-03-10T06:00")]))


def test_repeated_hour_first_occurrence():
    """01:30 on 2024-11-03 New York happens twice: the boundary is the first (05:30 UTC)."""
    cal = tk.Calendar("America/New_York", "01:30", "16:00", weekdays=range(7))
    first, second = ns("2024-11-03T05:30"), ns("2024-11-03T06:30")
    assert mask(cal, first - 1, first, second - 1, second) == [False, True, True, True]
    closing = tk.Calendar("America/New_York", "20:00", "01:30", weekdays=range(7))
    assert mask(closing, first - 1, first, second) == [True, False, False]
    both(cal, np.array([first - 1, first, first + 1, second - 1, second]))
    both(closing, np.array([first - 1, first, first + 1, second - 1, second]))


def test_thirty_minute_shift():
    """Lord Howe Island moves its clocks by 30 minutes (02:00 -> 02:30 on 2024-10-06)."""
    cal = tk.Calendar("Australia/Lord_Howe", "02:05", "10:00", weekdays=range(7), breaks=[("02:10", "02:20")])
    t = ns("2024-10-05T15:30")  # 02:00 +10:30 == 02:30 +11
    assert mask(cal, t - 1, t) == [False, True]
    back = ns("2024-04-06T14:45")  # 01:45 +11, then 01:30..02:00 again at +10:30
    both(cal, np.array([t - 1, t, t + 1, back - 1, back, back + 30 * 60 * 10**9]))


def test_skipped_date_apia():
    """Pacific/Apia skipped 2011-12-30: that session is empty, its neighbours are whole."""
    cal = tk.Calendar("Pacific/Apia", "09:00", "16:00", weekdays=range(7))
    labels = cal.table("2011-12-01", "2012-01-31").labels.astype(object)
    assert dt.date(2011, 12, 30) not in labels and dt.date(2011, 12, 31) in labels
    jump = ns("2011-12-30T10:00")  # 2011-12-29 24:00 -10 == 2011-12-31 00:00 +14
    assert tk.session_label(np.array([ns("2011-12-29T19:00"), ns("2011-12-30T19:00")]), cal).tolist() == [
        dt.date(2011, 12, 29),
        dt.date(2011, 12, 31),
    ]
    all_day = tk.Calendar("Pacific/Apia", "00:00", "23:59", weekdays=range(7))
    assert mask(all_day, jump - 1, jump) == [False, True]  # 12-29 closed at 23:59; 12-31 opens at the jump
    both(cal, np.array([jump - 1, jump, jump + 1, ns("2011-12-30T19:00") - 1, ns("2011-12-30T19:00")]))
    both(all_day, np.array([jump - 1, jump, jump + 1, ns("2011-12-30T09:59") - 1]))


# --------------------------------------------------------------------------
# Random calendars in random zones, timestamps near every transition
# --------------------------------------------------------------------------

_ZONES = sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC")


def _offset(tz: zoneinfo.ZoneInfo, s: int) -> dt.timedelta:
    return dt.datetime.fromtimestamp(s, tz).utcoffset()  # type: ignore[return-value]


def _transitions(tz: zoneinfo.ZoneInfo, year: int) -> list:
    """UTC seconds of the zone's offset changes in ``year`` (6-hour scan, then halving)."""
    a = int(dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc).timestamp())
    out = []
    for s in range(a, a + 366 * 86400, 6 * 3600):
        if _offset(tz, s) != _offset(tz, s + 6 * 3600):
            lo, hi = s, s + 6 * 3600
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if _offset(tz, mid) == _offset(tz, s) else (lo, mid)
            out.append(hi)
    return out


@st.composite
def zone_calendars(draw):
    tz = draw(st.sampled_from(_ZONES))
    m = st.integers(0, 24 * 60 - 1)
    o = draw(m)
    c = o if draw(st.integers(0, 7)) == 0 else draw(m)  # o == c: a 24-hour session
    t = lambda x: dt.time(x // 60, x % 60)  # noqa: E731
    span = (c - o) % 1440 or 1440
    breaks = []
    if span > 2 and draw(st.booleans()):
        a = draw(st.integers(1, span - 2))
        b = draw(st.integers(a + 1, span - 1))
        breaks = [(t((o + a) % 1440), t((o + b) % 1440))]
    year = draw(st.integers(1970, 2037))
    days = st.dates(dt.date(year, 1, 1), dt.date(year, 12, 31))
    holidays = draw(st.lists(days, max_size=8))
    early = {
        d: t((o + draw(st.integers(1, min(span, 1439)))) % 1440) for d in draw(st.lists(days, max_size=8))
    }
    late = {
        d: t((o + draw(st.integers(0, span - 1))) % 1440)
        for d in draw(st.lists(days, max_size=8))
        if d not in early
    }
    cal = tk.Calendar(
        tz,
        t(o),
        t(c),
        weekdays=draw(st.sets(st.integers(0, 6), min_size=1)),
        holidays=holidays,
        early_closes=early,
        late_opens=late,
        breaks=breaks,
    )
    return cal, year


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cy=zone_calendars(), data=st.data())
def test_random_zone_calendars_match_twin(cy, data):
    cal, year = cy
    trans = _transitions(cal.tz, year)
    table = cal.table(f"{year}-01-01", f"{year}-12-31")
    edges = np.concatenate([table.opens, table.closes, table.break_starts, table.break_ends])
    pts = [T * 10**9 for T in trans[:4]]
    for T in pts[:]:  # session boundaries within two days of each transition
        pts += edges[np.abs(edges - T) < 2 * 86400 * 10**9].tolist()[:12]
    if not pts:  # no transition this year: boundaries anywhere
        pts = data.draw(st.lists(st.sampled_from(edges.tolist()), max_size=8)) if len(edges) else []
    ts = [p + d for p in pts for d in (-1, 0, 1)]
    lo = int(np.datetime64(f"{year}-01-01", "ns").astype(np.int64))
    ts += data.draw(st.lists(st.integers(lo, lo + 365 * 86400 * 10**9), max_size=10))
    a = np.sort(np.array(ts + [NAT], dtype=np.int64))
    both(cal, a)
    both(cal, a[::-1].copy())


def test_table_builder_shares_no_code_with_the_twin():
    """The table side imports nothing from the twin (only argument parsing is shared)."""
    import ast
    import importlib

    for mod in ("table", "calendar", "xcals", "_stamps", "_parse"):
        src = importlib.import_module(f"tradekernels.sessions.{mod}").__file__
        tree = ast.parse(open(src, encoding="utf-8").read())
        names = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        names |= {
            a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names
        }
        assert not any("reference" in n for n in names), (mod, names)


# (Not Australia/Lord_Howe: pandas 3.1 shifts its 30-minute gap forward by a whole hour,
# 02:10 -> 03:00, past the gap's end at 02:30; test_thirty_minute_shift covers it.)
@pytest.mark.parametrize(
    "zone,year",
    [
        ("America/New_York", 2024),
        ("Europe/Berlin", 2024),
        ("Pacific/Apia", 2011),
        ("America/Santiago", 2023),
        ("Asia/Beirut", 2023),
        ("Europe/London", 2024),
    ],
)
@pytest.mark.parametrize("hhmm", ["00:00", "00:30", "01:30", "02:10", "02:45", "23:59"])
def test_opens_equal_pandas_shift_forward_first_occurrence(zone, year, hhmm):
    """A third oracle: pandas' tz_localize(nonexistent="shift_forward", ambiguous=True) gives
    every open of the table (these zones' DST is positive: ambiguous=True is the first reading)."""
    pd = pytest.importorskip("pandas")
    cal = tk.Calendar(zone, hhmm, "23:59:59" if hhmm != "23:59" else "23:59:30", weekdays=range(7))
    t = cal.table(f"{year}-01-01", f"{year}-12-31")
    walls = pd.DatetimeIndex(t.labels.astype("datetime64[ns]")) + pd.Timedelta(hhmm + ":00")
    want = walls.tz_localize(zone, nonexistent="shift_forward", ambiguous=np.ones(len(walls), bool))
    np.testing.assert_array_equal(t.opens, want.as_unit("ns").asi8)


# --------------------------------------------------------------------------
# The vectorised wall -> UTC conversion of the table builder, against the twin
# --------------------------------------------------------------------------

_US = 10**6
_SAMPLE_ZONES = sorted(
    set(_ZONES[::7])
    | {"America/New_York", "Pacific/Apia", "Australia/Lord_Howe", "America/Santiago", "Africa/Casablanca"}
    | {"America/Juneau", "Asia/Kolkata", "Antarctica/Troll", "Europe/Dublin", "UTC"}
)


@pytest.mark.parametrize("zone", _SAMPLE_ZONES)
def test_wall_to_utc_us_equals_twin_near_every_transition(zone):
    """table.wall_to_utc_us (one NumPy pass per array: periods of constant offset) equals the
    twin's per-wall-time wall_to_utc_ns to the nanosecond, at and around the wall times where
    the zone's offset changes: listed transitions (1677-2037) and the rule's transitions far
    ahead (2040-2260), each read with the offsets before and after it, +-1 us, +-30 min, +-1 h."""
    from tradekernels.sessions.table import wall_to_utc_us

    tz = zoneinfo.ZoneInfo(zone)
    lo, hi = (
        int(np.datetime64("1678-01-01", "s").astype(int)),
        int(np.datetime64("2261-01-01", "s").astype(int)),
    )
    scan = [T for y in (1890, 1942, 1971, 1996, 2011, 2024, 2045, 2150, 2259) for T in _transitions(tz, y)]
    groups = []
    for T in scan:
        for off in {_offset(tz, T - 1), _offset(tz, T)}:
            w = (T + int(off.total_seconds())) * _US
            groups.append([w + d for d in (-1, 0, 1, -1800 * _US, 1800 * _US, -3600 * _US, 3600 * _US)])
    rng = np.random.default_rng(len(zone))
    walls = [w for g in groups for w in g] + rng.integers(lo * _US, hi * _US, 40).tolist()
    got = wall_to_utc_us(np.array(walls, dtype=np.int64), tz)
    epoch = dt.datetime(1970, 1, 1)
    want = [ref.wall_to_utc_ns(epoch + dt.timedelta(microseconds=w), tz) for w in walls]
    assert (got * 1000).tolist() == want
    # each group alone too: the array's own range then starts right at a transition
    by_wall = dict(zip(walls, want))
    for g in groups:
        assert (wall_to_utc_us(np.array(g, dtype=np.int64), tz) * 1000).tolist() == [by_wall[w] for w in g]
    assert got.shape == (len(walls),) and wall_to_utc_us(np.array([], dtype=np.int64), tz).shape == (0,)
