"""exchange_calendars calendars: 24-hour markets (sessions that span midnight or whole days)
agree with exchange_calendars' own ``is_open_on_minute`` / ``minute_to_session`` on random
minutes and at every boundary, and the native table agrees with their reference data;
argument errors of ``Calendar.from_exchange_calendars`` name the argument and what is allowed."""

from __future__ import annotations

import datetime as dt
import pickle

import numpy as np
import pytest

import tradekernels as tk

pd = pytest.importorskip("pandas")
xcals = pytest.importorskip("exchange_calendars")

MIN = 60 * 10**9
KERNELS = ("session_mask", "session_index", "session_label", "session_start", "minutes_into_session")
# exchange_calendars itself triggers pandas 3 deprecation warnings.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def ns(s: str) -> int:
    return int(np.datetime64(s, "ns").astype(np.int64))


def _minutes(xc, cal: tk.Calendar, seed: int) -> np.ndarray:
    """Random minutes of the range, and every boundary of 40 random sessions +-1 minute."""
    rng = np.random.default_rng(seed)
    t = cal.table()
    lo, hi = max(t.lo, int(t.opens[0])), min(t.hi, int(t.closes[-1]))
    pts = [rng.integers(lo // MIN, hi // MIN, 300) * MIN]
    rows = rng.choice(len(t), 40, replace=False)
    edges = np.concatenate([t.opens[rows], t.closes[rows]])
    pts += [edges + d * MIN for d in (-1, 0, 1)]
    pts += [t.break_starts + d * MIN for d in (-1, 0, 1)] + [t.break_ends + d * MIN for d in (-1, 0, 1)]
    m = np.unique(np.concatenate(pts))
    return m[(m >= lo) & (m <= hi)]


@pytest.mark.parametrize("name", ["CMES", "24/7", "24/5", "XHKG", "XNYS"])
def test_agrees_with_exchange_calendars_minutes(name):
    """Mask = is_open_on_minute, label = minute_to_session for open minutes (exchange_calendars'
    own answers, not its session arrays): 24-hour markets whose sessions close where the
    next one opens, across midnight and weekends, and two markets with breaks / DST."""
    cal = tk.Calendar.from_exchange_calendars(name, "2019-06-01", "2024-06-30")
    xc = xcals.get_calendar(name, start="2019-05-01", end="2024-07-31")
    m = _minutes(xc, cal, seed=sum(map(ord, name)))
    stamps = pd.DatetimeIndex(m.view("datetime64[ns]"), tz="UTC")
    want = np.array([xc.is_open_on_minute(s) for s in stamps])
    np.testing.assert_array_equal(tk.session_mask(m, cal), want)
    assert want.any() and (name in ("24/7",) or not want.all())
    labels = tk.session_label(m[want], cal)
    xl = [xc.minute_to_session(s).to_datetime64() for s in stamps[want]]
    np.testing.assert_array_equal(labels, np.array(xl).astype("datetime64[D]"))


@pytest.mark.parametrize("name", ["CMES", "24/7", "24/5"])
def test_24_hour_native_equals_reference(name):
    """Every kernel, native against the reference (exchange_calendars' session data, shadow
    backend), at each boundary +-1 ns, where one session closes as the next opens."""
    cal = tk.Calendar.from_exchange_calendars(name, "2024-01-01", "2024-12-31")
    t = cal.table()
    assert np.any(t.closes[:-1] == t.opens[1:])  # contiguous sessions: the case at hand
    rng = np.random.default_rng(len(name))
    edges = np.concatenate([t.opens, t.closes])
    ts = np.concatenate([edges + d for d in (-1, 0, 1)] + [rng.integers(t.lo, t.hi, 500)])
    ts = np.sort(ts[(ts >= t.lo) & (ts <= t.hi)])
    with tk.backend("shadow"):
        for k in KERNELS:
            getattr(tk, k)(ts, cal)
            getattr(tk, k)(ts[::-1].copy(), cal)
    # a close that is the next open belongs to the next session
    i = int(np.flatnonzero(t.closes[:-1] == t.opens[1:])[0])
    assert tk.session_label(np.array([t.closes[i] - 1, t.closes[i]]), cal).tolist() == [
        t.labels[i].item(),
        t.labels[i + 1].item(),
    ]


def test_break_edges_native_equals_reference():
    """A market with a lunch break (XHKG): every kernel, native against the reference (shadow),
    at each break start and end +-1 ns; at the break's start it is closed, as
    exchange_calendars' is_open_on_minute says, and open again at its end."""
    cal = tk.Calendar.from_exchange_calendars("XHKG", "2024-01-01", "2024-03-31")
    t = cal.table()
    has = t.break_starts != np.iinfo(np.int64).min
    bs, be = t.break_starts[has], t.break_ends[has]
    assert len(bs) > 20
    ts = np.sort(np.concatenate([e + d for e in (bs, be) for d in (-1, 0, 1)]))
    with tk.backend("shadow"):
        for k in KERNELS:
            getattr(tk, k)(ts, cal)
            getattr(tk, k)(ts[::-1].copy(), cal)
    xc = xcals.get_calendar("XHKG", start="2023-12-01", end="2024-04-30")
    edge = np.array([bs[0] - MIN, bs[0], be[0] - MIN, be[0]])
    want = [xc.is_open_on_minute(s) for s in pd.DatetimeIndex(edge.view("datetime64[ns]"), tz="UTC")]
    assert want == [True, False, False, True]
    with tk.backend("reference"):
        assert tk.session_mask(edge, cal).tolist() == want
    assert tk.session_mask(edge, cal).tolist() == want


def test_24_hour_model_and_pickle():
    """The informational wall-clock model of a 24-hour market: open == close."""
    cal = tk.Calendar.from_exchange_calendars("CMES", "2024-03-01", "2024-03-31")
    assert (cal.tz.key, cal.open, cal.close, cal.overnight) == (
        "America/Chicago",
        dt.time(17),
        dt.time(17),
        True,
    )
    assert cal.weekdays == frozenset(range(5))
    assert tk.Calendar.from_exchange_calendars("24/7", "2024-03-01", "2024-03-31").weekdays == frozenset(
        range(7)
    )
    back = pickle.loads(pickle.dumps(cal))
    m = np.arange(ns("2024-03-01"), ns("2024-04-01"), 7 * MIN)
    np.testing.assert_array_equal(tk.session_mask(m, back), tk.session_mask(m, cal))


def test_extends_24_hour():
    cal = tk.Calendar.from_exchange_calendars("24/5", "2024-03-01", "2024-03-31")
    got = tk.session_mask(np.array([ns("2025-06-02T03:00"), ns("2025-06-01T03:00")]), cal)  # Mon, Sun
    assert got.tolist() == [True, False]


# --------------------------------------------------------------------------
# Errors name the argument and what is allowed
# --------------------------------------------------------------------------

_DATES = "datetime.date, an ISO date string 'YYYY-MM-DD', a numpy.datetime64 or a pandas.Timestamp"


@pytest.mark.parametrize(
    "args, match",
    [
        (
            ("XNYS", "2300-01-01"),
            r"start 2300-01-01 is outside the dates it can cover, 1677-09-22 \.\. 2262-04-11",
        ),
        (("XNYS", "2300-01-01", "2301-01-01"), r"start 2300-01-01 is outside"),
        (("XNYS", "2024-01-01", "2300-01-01"), r"end 2300-01-01 is outside"),
        (("XNYS", None, "1500-01-01"), r"end 1500-01-01 is outside"),
        (("CMES", "1600-01-01", "1700-01-01"), r"start 1600-01-01 is outside"),
        (
            ("XHKG", "1950-01-01", "1960-06-01"),
            r"start 1950-01-01 is outside the dates it can cover, 1960-01-01",
        ),
        (
            ("XHKG", "2024-01-01", "2050-06-01"),
            r"end 2050-06-01 is outside the dates it can cover, 1960-01-01 \.\. 2049-12-31",
        ),
        (("XNYS", "2024-05-01", "2024-01-01"), r"start 2024-05-01 is after end 2024-01-01"),
        (("XNYS", "2200-01-01"), r"start 2200-01-01 is after exchange_calendars' default end .*pass end="),
        (
            ("XNYS", None, "1900-01-01"),
            r"end 1900-01-01 is before exchange_calendars' default start .*pass start=",
        ),
        (("XNYS", pd.NaT), "start must be a " + _DATES + ", got NaT"),
        (("XNYS", np.datetime64("NaT"), "2024-01-01"), "start must be a .*, got NaT"),
        (("XNYS", "2024-01-01", pd.Timestamp("NaT")), "end must be a .*, got NaT"),
        (("XNYS", "2024-02-30"), "start must be a .*ISO date.*got '2024-02-30'"),
    ],
)
def test_from_exchange_calendars_errors(args, match):
    with pytest.raises(
        ValueError, match=r"Calendar\.from_exchange_calendars\('(XNYS|CMES|XHKG)'\): " + match
    ) as e:
        tk.Calendar.from_exchange_calendars(*args)
    assert "parsed as" not in str(e.value)  # not exchange_calendars' message about shifted dates


def test_from_exchange_calendars_edges_of_its_bounds():
    """The bounds themselves are allowed (the extra day each side is clipped to them)."""
    cal = tk.Calendar.from_exchange_calendars("XHKG", "1960-01-01", "1960-01-31")
    assert cal.table().first == dt.date(1960, 1, 1)
    with pytest.raises(xcals.errors.InvalidCalendarName):
        tk.Calendar.from_exchange_calendars("NOPE")


@pytest.mark.parametrize("name", ["XNYS", "XHKG", "CMES", "24/5"])
def test_extended_table_equals_one_built_for_the_range(name):
    """Extending (both sides) gives the table built for the whole range at once (rows,
    breaks, coverage), and native still equals the reference there."""
    cal = tk.Calendar.from_exchange_calendars(name, "2020-03-10", "2020-09-20")
    tk.session_mask(np.array([ns("2022-06-15T03:00"), ns("2018-06-15T03:00")]), cal)
    got = cal.table()
    assert (got.first, got.last) == (dt.date(2018, 1, 1), dt.date(2022, 12, 31))
    want = tk.Calendar.from_exchange_calendars(name, got.first, got.last).table()
    for f in ("labels", "opens", "closes", "break_starts", "break_ends", "break_rows", "lo", "hi"):
        np.testing.assert_array_equal(getattr(got, f), getattr(want, f), err_msg=f)
    with tk.backend("shadow"):
        for k in KERNELS:
            getattr(tk, k)(
                np.sort(np.concatenate([got.opens, got.closes, got.opens - 1, got.closes - 1])), cal
            )


def test_pickle_after_extending_beyond_the_bounds():
    """A table extended past exchange_calendars' bounds (XHKG: from 1960) pickles: the copy
    covers the same dates and answers the same."""
    cal = tk.Calendar.from_exchange_calendars("XHKG", "1960-02-01", "1960-12-31")
    day = np.arange(ns("1960-06-01"), ns("1960-06-02"), 5 * MIN)
    ts = np.concatenate([[ns("1950-06-01T03:00")], day])
    want = tk.session_mask(ts, cal)
    assert cal.table().first == dt.date(1950, 1, 1) and not want[0] and want[1:].any()
    back = pickle.loads(pickle.dumps(cal))
    assert (back.table().first, back.table().last) == (cal.table().first, cal.table().last)
    np.testing.assert_array_equal(tk.session_mask(ts, back), want)
    plain = pickle.loads(
        pickle.dumps(tk.Calendar.from_exchange_calendars("XHKG", "2024-01-01", "2024-03-31"))
    )
    assert (plain.table().first, plain.table().last) == (dt.date(2024, 1, 1), dt.date(2024, 3, 31))
