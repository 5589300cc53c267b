"""Session functions on pandas containers and the Calendar's value equality: a DataFrame of
timestamps (one column per series, time down the rows) runs down each column and comes back
as a DataFrame; ``session_start(axis=)`` as the scans and ``tkd.session_start``; integer and
nullable-integer Series are epoch counts (``unit=``) as integer arrays are; equal Calendars
compare and hash equal."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import tradekernels as tk

pd = pytest.importorskip("pandas")

MIN = 60 * 10**9
ELEMENTWISE = ("session_mask", "session_index", "session_label", "minutes_into_session")
ALL = ELEMENTWISE + ("session_start",)


def ny() -> tk.Calendar:
    return tk.Calendar("America/New_York", "09:30", "16:00", holidays=["2024-07-04"])


def _frame() -> pd.DataFrame:
    """Three series of minutes over two sessions, in three kinds of column (naive = UTC,
    tz-aware in another zone, another unit) and with NaT."""
    a = pd.date_range("2024-01-02 14:00", periods=2000, freq="min")  # naive: UTC
    b = (a + pd.Timedelta("7min")).tz_localize("UTC").tz_convert("Asia/Tokyo")
    c = pd.Series(a - pd.Timedelta("3h")).dt.as_unit("s")
    c.iloc[[0, 1, 1999]] = pd.NaT  # (all first or all last: assume_sorted holds)
    return pd.DataFrame({"a": a, "b": b, "c": c.to_numpy()}, index=pd.RangeIndex(10, 2010, name="bar"))


# ---------------------------------------------------------------------------------------------
# 1. session_start on a DataFrame runs down each column; axis=
# ---------------------------------------------------------------------------------------------


def test_session_start_on_a_dataframe_runs_down_each_column():
    ts = pd.date_range("2024-01-02 14:30", periods=3, freq="30min")
    df = pd.DataFrame({"a": ts, "b": ts})
    cal = tk.Calendar("America/New_York", "09:30", "16:00")
    got = tk.session_start(df, cal)
    assert isinstance(got, pd.DataFrame)
    assert got.index.equals(df.index) and got.columns.equals(df.columns)
    assert got.to_numpy().tolist() == [[True, True], [False, False], [False, False]]


@pytest.mark.parametrize("sorted_", [False, True])
def test_session_start_frame_equals_each_column(sorted_):
    cal, df = ny(), _frame()
    got = tk.session_start(df, cal, assume_sorted=sorted_)
    for col in df.columns:
        want = tk.session_start(df[col], cal)
        np.testing.assert_array_equal(got[col].to_numpy(), want.to_numpy(), err_msg=col)
    assert got.to_numpy().sum() == 6  # two sessions in each column
    # axis=0 / "index" is the default; axis=1 / "columns" runs along the rows (time across)
    pd.testing.assert_frame_equal(tk.session_start(df, cal, axis="index"), got)
    tall = pd.DataFrame({"a": df["a"], "b": df["a"] + pd.Timedelta("7min")})  # one dtype: .T keeps it
    want = tk.session_start(tall, cal)
    pd.testing.assert_frame_equal(tk.session_start(tall.T, cal, axis=1), want.T)
    pd.testing.assert_frame_equal(tk.session_start(tall.T, cal, axis="columns"), want.T)


def test_session_start_axis_on_arrays_matches_dask_and_the_default():
    cal = ny()
    x = np.stack([_frame()["a"].to_numpy(), _frame()["a"].to_numpy() + np.timedelta64(5, "h")])  # (2, n)
    want = tk.session_start(x, cal)  # default: the last axis
    np.testing.assert_array_equal(tk.session_start(x, cal, axis=-1), want)
    np.testing.assert_array_equal(tk.session_start(x, cal, axis=1), want)
    np.testing.assert_array_equal(tk.session_start(x.T, cal, axis=0), want.T)
    np.testing.assert_array_equal(tk.session_start(x.T, cal, axis=-2), want.T)
    x3 = np.stack([x, x[::-1]])  # (2, 2, n) -> time on axis 1
    np.testing.assert_array_equal(
        tk.session_start(np.moveaxis(x3, -1, 1), cal, axis=1), np.moveaxis(tk.session_start(x3, cal), -1, 1)
    )
    da = pytest.importorskip("dask.array")
    import tradekernels.dask as tkd

    d = da.from_array(x.T, chunks=(300, 1))
    np.testing.assert_array_equal(
        tkd.session_start(d, cal, axis=0).compute(scheduler="sync"), tk.session_start(x.T, cal, axis=0)
    )
    # a scalar is a series of one: axis None, 0 or -1
    t = np.datetime64("2024-01-02T14:30")
    assert tk.session_start(t, cal) is np.True_ and tk.session_start(t, cal, axis=0) is np.True_


@pytest.mark.parametrize("frame", [False, True])
def test_session_start_state_along_axis_0(frame):
    """Chunks cut along the time axis (the rows) carry one label per column."""
    cal, df = ny(), _frame()
    x = df if frame else df[["a", "c"]].to_numpy()
    want = tk.session_start(x, cal, axis=0)
    st, parts = None, []
    for lo, hi in ((0, 0), (0, 700), (700, 1100), (1100, 2000)):
        got, st = tk.session_start(x[lo:hi], cal, axis=0, state=st, return_state=True)
        parts.append(got)
        assert st.shape == (x.shape[1],)
    whole = pd.concat(parts) if frame else np.concatenate(parts, axis=0)
    if frame:
        pd.testing.assert_frame_equal(whole, want)
    else:
        np.testing.assert_array_equal(whole, want)
    np.testing.assert_array_equal(st, tk.session_start(x, cal, axis=0, return_state=True)[1])
    assert (st == np.datetime64("2024-01-03")).all()


def test_session_start_axis_errors():
    cal, df = ny(), _frame()
    x = df[["a"]].to_numpy()
    with pytest.raises(np.exceptions.AxisError, match=r"^tradekernels\.session_start: axis 2"):
        tk.session_start(x, cal, axis=2)
    with pytest.raises(TypeError, match=r"^tradekernels\.session_start: axis must be an integer"):
        tk.session_start(x, cal, axis="index")
    with pytest.raises(TypeError, match=r"^tradekernels\.session_start: axis must be an integer"):
        tk.session_start(x, cal, axis=True)
    with pytest.raises(
        ValueError, match=r"^tradekernels\.session_start: axis for a DataFrame must be 0 or 1"
    ):
        tk.session_start(df, cal, axis=-1)
    with pytest.raises(np.exceptions.AxisError, match=r"^tradekernels\.session_start: axis 1"):
        tk.session_start(df["a"], cal, axis=1)
    with pytest.raises(ValueError, match=r"^tradekernels\.session_start: state"):
        tk.session_start(x, cal, axis=0, state=np.array(["2024-01-01"] * 3, dtype="datetime64[D]"))


# ---------------------------------------------------------------------------------------------
# 2. DataFrame in -> DataFrame out (every session function)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("sorted_", [False, True])
def test_dataframe_in_dataframe_out(name, sorted_):
    cal, df = ny(), _frame()
    got = getattr(tk, name)(df, cal, **({"assume_sorted": sorted_} if name != "minutes_into_session" else {}))
    assert isinstance(got, pd.DataFrame), type(got)
    assert got.index.equals(df.index) and got.columns.equals(df.columns)
    assert got.index.name == "bar"
    for col in df.columns:
        want = getattr(tk, name)(df[col], cal)
        np.testing.assert_array_equal(got[col].to_numpy(), want.to_numpy(), err_msg=f"{name} {col}")
        assert got[col].dtype == want.dtype


def test_dataframe_edge_shapes_and_kinds():
    cal, df = ny(), _frame()
    empty = tk.session_mask(df.iloc[:, :0], cal)  # no columns
    assert isinstance(empty, pd.DataFrame) and empty.shape == (2000, 0) and empty.index.equals(df.index)
    rows0 = tk.session_start(df.iloc[:0], cal)  # no rows
    assert isinstance(rows0, pd.DataFrame) and rows0.shape == (0, 3)
    dup = pd.DataFrame(df[["a", "a"]].to_numpy(), columns=["x", "x"])  # duplicate labels: by position
    assert tk.session_start(dup, cal).to_numpy().sum() == 4
    with pytest.raises(TypeError, match=r"^tradekernels\.session_mask: column 'f': expected a datetime"):
        tk.session_mask(df.assign(f=1.5), cal)
    with pytest.raises(TypeError, match=r"^tradekernels\.session_label: column 'b': expected a datetime"):
        tk.session_label(df.assign(b=True), cal)


# ---------------------------------------------------------------------------------------------
# 3. Integer Series (and nullable Int64) are epoch counts, as integer arrays
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_integer_series_are_epoch_counts(name):
    cal = ny()
    idx = pd.date_range("2024-01-02 14:00", periods=900, freq="min").as_unit("ns")
    s = pd.Series(idx, index=pd.RangeIndex(5, 905), name="t")
    want = getattr(tk, name)(s, cal)
    f = getattr(tk, name)
    for unit, ints in (("ns", idx.asi8), ("us", idx.as_unit("us").asi8), ("s", idx.as_unit("s").asi8)):
        for dtype in ("int64", "Int64", "int64[pyarrow]" if _has_pyarrow() else "int64"):
            si = pd.Series(ints, index=s.index, name="t", dtype=dtype)
            got = f(si, cal, unit=unit)
            assert isinstance(got, pd.Series) and got.index.equals(s.index) and got.name == "t"
            np.testing.assert_array_equal(got.to_numpy(), want.to_numpy(), err_msg=f"{unit} {dtype}")
            np.testing.assert_array_equal(got.to_numpy(), f(np.asarray(ints), cal, unit=unit))
    s32 = pd.Series((idx.asi8 // 10**9).astype(np.int32), index=s.index)  # int32 seconds
    np.testing.assert_array_equal(f(s32, cal, unit="s").to_numpy(), want.to_numpy())


@pytest.mark.parametrize("name", ALL)
def test_nullable_integer_na_is_nat(name):
    cal = ny()
    idx = pd.date_range("2024-01-02 14:00", periods=600, freq="min").as_unit("ns")
    holes = [0, 30, 31, 200, 599]
    dt_nat = pd.Series(idx).copy()
    dt_nat.iloc[holes] = pd.NaT
    ints = pd.Series(idx.asi8, dtype="Int64")
    ints.iloc[holes] = pd.NA
    f = getattr(tk, name)
    want = f(dt_nat, cal)
    got = f(ints, cal)
    assert isinstance(got, pd.Series) and got.index.equals(ints.index)
    np.testing.assert_array_equal(got.to_numpy(), want.to_numpy())
    assert ints.isna().sum() == len(holes)  # the input is not written to
    all_na = pd.Series([pd.NA] * 3, dtype="Int64")
    np.testing.assert_array_equal(f(all_na, cal).to_numpy(), f(pd.Series([pd.NaT] * 3, dtype="M8[ns]"), cal))
    frame = pd.DataFrame({"i": ints, "d": dt_nat})  # integer and datetime columns together
    np.testing.assert_array_equal(f(frame, cal)["i"].to_numpy(), want.to_numpy())


def test_integer_series_errors():
    cal = ny()
    with pytest.raises(
        TypeError, match=r"^tradekernels\.session_mask: expected a datetime or integer Series"
    ):
        tk.session_mask(pd.Series([1.0]), cal)
    with pytest.raises(
        TypeError, match=r"^tradekernels\.session_mask: expected a datetime or integer Series"
    ):
        tk.session_mask(pd.Series([True, False]), cal)
    with pytest.raises(
        TypeError, match=r"^tradekernels\.session_mask: expected a datetime or integer Series"
    ):
        tk.session_mask(pd.Series([True, None], dtype="boolean"), cal)
    with pytest.raises(ValueError, match=r"^tradekernels\.session_mask: unit must be one of"):
        tk.session_mask(pd.Series([1, 2]), cal, unit="h")
    with pytest.raises(OverflowError, match=r"^tradekernels\.session_mask: integer timestamps beyond"):
        tk.session_mask(pd.Series([2**64 - 1], dtype="UInt64"), cal)


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# 4. Calendar value equality
# ---------------------------------------------------------------------------------------------

_SPEC = dict(
    tz="America/New_York",
    open="09:30",
    close="16:00",
    weekdays=(0, 1, 2, 3, 4),
    holidays=["2024-07-04", "2024-12-25"],
    early_closes={"2024-07-03": "13:00"},
    late_opens={"2024-03-11": "10:30"},
    breaks=[("12:00", "12:30")],
)


def test_equal_calendars_compare_and_hash_equal():
    a, b = tk.Calendar(**_SPEC), tk.Calendar(**_SPEC)
    assert a == b and not (a != b) and hash(a) == hash(b)
    assert tk.Calendar("UTC", "09:00", "16:00") == tk.Calendar("UTC", "09:00", "16:00")
    # the same values spelled otherwise: order, strings vs objects, duplicates
    import datetime as dt

    c = tk.Calendar(
        "America/New_York",
        dt.time(9, 30),
        "16:00:00",
        weekdays=[4, 3, 2, 1, 0, 0],
        holidays=[dt.date(2024, 12, 25), "2024-07-04", "2024-07-04"],
        early_closes={dt.date(2024, 7, 3): dt.time(13)},
        late_opens={"2024-03-11": "10:30"},
        breaks=[("12:00", "12:30")],
    )
    assert c == a and hash(c) == hash(a)
    assert len({a, b, c}) == 1 and {a: 1}[b] == 1
    assert a.replace() == a and a.replace() is not a
    assert pickle.loads(pickle.dumps(a)) == a
    assert tk.Calendar(**a.spec()) == a


@pytest.mark.parametrize(
    "change",
    [
        {"tz": "America/Chicago"},
        {"tz": "US/Eastern"},  # the same rules under another key: the key defines the calendar
        {"open": "09:31"},
        {"close": "15:59"},
        {"weekdays": (0, 1, 2, 3)},
        {"holidays": ["2024-07-04"]},
        {"early_closes": {"2024-07-03": "13:30"}},
        {"early_closes": {}},
        {"late_opens": {"2024-03-12": "10:30"}},
        {"breaks": []},
        {"breaks": [("12:00", "12:15")]},
    ],
    ids=lambda d: next(iter(d)),
)
def test_calendars_differing_in_one_field_are_not_equal(change):
    a, b = tk.Calendar(**_SPEC), tk.Calendar(**{**_SPEC, **change})
    assert a != b and not (a == b)
    assert len({a, b}) == 2


def test_calendar_equality_with_other_types_and_tables():
    a = tk.Calendar(**_SPEC)
    assert a != "America/New_York" and a != a.spec() and a is not None
    assert (a == object()) is False
    b = tk.Calendar(**_SPEC)
    # equal calendars keep their own table caches, and answer alike whatever their ranges
    a.table("2000-01-01", "2001-01-01")
    assert b._table is None or b._table is not a._table
    ts = pd.date_range("2024-07-02 13:00", periods=3000, freq="min")
    by_cal = {a: tk.session_label(ts, a)}
    np.testing.assert_array_equal(by_cal[b].to_numpy(), tk.session_label(ts, b).to_numpy())
    assert a.table().first.year == 2000 and b.table().first.year == 2024


def test_exchange_calendars_equality():
    pytest.importorskip("exchange_calendars")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        x1 = tk.Calendar.from_exchange_calendars("XNYS", "2024-01-01", "2024-03-31")
        x2 = tk.Calendar.from_exchange_calendars(
            "XNYS", "2024-01-01", "2024-06-30"
        )  # its table's range differs
        cmes = tk.Calendar.from_exchange_calendars("CMES", "2024-01-01", "2024-03-31")
        back = pickle.loads(pickle.dumps(x1))
    assert x1 == x2 and hash(x1) == hash(x2) and back == x1
    assert x1 != cmes
    plain = tk.Calendar(x1.tz, x1.open, x1.close, weekdays=x1.weekdays)  # the informational model
    assert x1 != plain and plain != x1
