"""tradekernels.drawdowns: every drawdown episode as records.

Golden records from the twin (``tests/golden/records/drawdowns.npz``), native
against twin on generated input (1-D, 2-D, strided, float32, NaN / inf /
zeros), metamorphic relations, the pandas forms, and the peers (vectorbt,
quantstats) where they are installed.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tradekernels as tk
from conftest import GOLDEN_DIR
from tradekernels.scans import golden as scans_golden
from tradekernels.scans import reference as R
from tradekernels.scans.records import FIELDS, RECORD_DTYPE, RECORD_DTYPE_F32, _reference_records

GOLDEN = GOLDEN_DIR / "records" / "drawdowns.npz"


def _golden():
    with np.load(GOLDEN, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


G = _golden()
CASES = [str(c) for c in G["cases"]]


def assert_records_equal(a: np.ndarray, b: np.ndarray, what: str = "") -> None:
    """Field for field, bit for bit (NaN equals NaN, -0.0 differs from 0.0)."""
    assert a.dtype == b.dtype, (what, a.dtype, b.dtype)
    assert a.shape == b.shape, (what, a.shape, b.shape, a, b)
    for f in a.dtype.names:
        x, y = a[f], b[f]
        if x.dtype.kind == "f":
            x, y = x.view(f"u{x.itemsize}"), y.view(f"u{y.itemsize}")
            nan = np.isnan(a[f]) & np.isnan(b[f])
            x, y = x[~nan], y[~nan]
        assert np.array_equal(x, y), (what, f, a, b)


# --------------------------------------------------------------------------
# Golden
# --------------------------------------------------------------------------


def test_golden_file_is_what_the_generator_makes():
    fresh = scans_golden.build_records_arrays(scans_golden.build_cases())
    assert list(fresh) == list(G)
    for k, v in fresh.items():
        if v.dtype.names:
            assert_records_equal(v, G[k], k)
        else:
            assert np.array_equal(v, G[k], equal_nan=v.dtype.kind == "f"), k


@pytest.mark.parametrize("case", CASES)
def test_native_matches_golden(case):
    x = G[f"{case}__x"]
    assert_records_equal(tk.drawdowns(x), G[f"{case}__rec"], case)
    with np.errstate(over="ignore"):
        x32 = x.astype(np.float32)
    assert_records_equal(tk.drawdowns(x32), G[f"{case}__f32rec"], case)


@pytest.mark.parametrize("case", ["nan_run_middle", "exact_retest_of_peak", "matrix_5x300", "pos_inf"])
def test_reference_backend_matches_golden(case):
    x = G[f"{case}__x"]
    with tk.backend("reference"):
        assert_records_equal(tk.drawdowns(x), G[f"{case}__rec"], case)
    with tk.backend("shadow"):
        assert_records_equal(tk.drawdowns(x), G[f"{case}__rec"], case)


def test_the_issue_example():
    r = tk.drawdowns([100, 110, np.nan, 90, np.nan, 120, 100])
    assert r.dtype == RECORD_DTYPE
    assert r.tolist() == [
        (0, 1, 3, 5, 110.0, 90.0, 120.0, 90.0 / 110.0 - 1.0, 1, 2, 2, 4),
        (0, 5, 6, -1, 120.0, 100.0, 100.0, 100.0 / 120.0 - 1.0, 0, 1, -1, 1),
    ]


# --------------------------------------------------------------------------
# Native against the twin on generated input
# --------------------------------------------------------------------------

_special = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, 100.0])
_values = st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.integers(1, 20).map(float), _special)


def _twin(x2: np.ndarray) -> np.ndarray:
    rec = _reference_records(np.ascontiguousarray(x2))
    with np.errstate(over="ignore"):
        return rec.astype(RECORD_DTYPE_F32) if x2.dtype == np.float32 else rec


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(np.float64, st.integers(0, 60), elements=_values), st.booleans())
def test_native_equals_twin_1d(x, f32):
    if f32:
        with np.errstate(over="ignore"):
            x = x.astype(np.float32)
    assert_records_equal(tk.drawdowns(x), _twin(x[None, :]))


@settings(max_examples=100, deadline=None)
@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(0, 40)), elements=_values),
    st.booleans(),
    st.integers(0, 3),
)
def test_native_equals_twin_2d_and_strided(x, f32, layout):
    if f32:
        with np.errstate(over="ignore"):
            x = x.astype(np.float32)
    if layout == 0:
        got, lanes = tk.drawdowns(x), x
    elif layout == 1:  # time on axis 0 of a C-ordered array: strided lanes
        xt = np.ascontiguousarray(x.T)
        got, lanes = tk.drawdowns(xt, axis=0), x
    elif layout == 2:  # negative strides
        got, lanes = tk.drawdowns(x[::-1, ::-1]), x[::-1, ::-1]
    else:  # every other bar of a wider array
        wide = np.repeat(x, 2, axis=1)
        got, lanes = tk.drawdowns(wide[:, ::2]), x
    assert_records_equal(got, _twin(lanes))


def test_3d_input_numbers_series_in_c_order():
    rng = np.random.default_rng(5)
    x = 100 + np.cumsum(rng.normal(size=(2, 3, 200)), axis=-1)
    assert_records_equal(tk.drawdowns(x), _twin(x.reshape(6, 200)))


# --------------------------------------------------------------------------
# Metamorphic relations
# --------------------------------------------------------------------------

_prices = hnp.arrays(
    np.float64, st.integers(1, 80), elements=st.one_of(st.floats(0.5, 200.0), st.integers(1, 12).map(float))
)


@settings(max_examples=100, deadline=None)
@given(_prices, st.sampled_from([0.25, 2.0, 1024.0, 2.0**-20]))
def test_scaling_prices_leaves_records_unchanged(x, c):
    """Scaling by a power of two is exact: every index, depth and status is the same."""
    a, b = tk.drawdowns(x), tk.drawdowns(x * c)
    for f in FIELDS:
        want = a[f] * c if f in ("peak_val", "valley_val", "end_val") else a[f]
        assert np.array_equal(b[f], want), f


@settings(max_examples=100, deadline=None)
@given(_prices, st.floats(0.0, 10.0))
def test_a_new_all_time_high_closes_the_active_episode_only(x, up):
    a = tk.drawdowns(x)
    hi = float(np.max(x)) + up
    b = tk.drawdowns(np.append(x, hi))
    if len(a) and a["status"][-1] == 0:
        assert len(b) == len(a)
        assert_records_equal(b[:-1], a[:-1])
        last = b[-1]
        assert (last["status"], last["end_idx"], last["end_val"]) == (1, len(x), hi)
        assert last["recovery_bars"] == len(x) - last["valley_idx"]
        assert last["duration_bars"] == len(x) - last["peak_idx"]
        for f in ("peak_idx", "valley_idx", "peak_val", "valley_val", "depth", "decline_bars"):
            assert last[f] == a[-1][f], f
    else:
        assert_records_equal(b, a)


@settings(max_examples=150, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.integers(0, 60),
        elements=st.one_of(st.integers(1, 1000).map(lambda v: v / 8.0), st.just(np.nan)),
    )
)
def test_top1_equals_drawdown_episode(x):
    """Positive prices on a 1/8 grid (no two prices below a peak have quotients
    that round to the same drawdown: the valley is then the trough)."""
    ep = tk.drawdown_episode(x)
    top = tk.drawdowns(x, top=1)
    if ep.peak < 0:
        assert len(top) == 0
    else:
        assert len(top) == 1
        r = top[0]
        assert (r["peak_idx"], r["valley_idx"], r["end_idx"]) == (ep.peak, ep.trough, ep.recovery)
        assert r["depth"] == ep.depth


@settings(max_examples=100, deadline=None)
@given(
    hnp.arrays(
        np.float64, st.tuples(st.integers(1, 4), st.integers(0, 50)), elements=st.integers(1, 8).map(float)
    ),
    st.integers(0, 4),
)
def test_top_k_is_the_twins_order(x, k):
    got = tk.drawdowns(x, top=k)
    want = [(c,) + r for c in range(x.shape[0]) for r in R.top_drawdowns(R.drawdowns(x[c].tolist()), k)]
    assert_records_equal(got, np.array(want, dtype=RECORD_DTYPE) if want else np.empty(0, RECORD_DTYPE))


def test_top_orders_by_depth_then_earlier_peak():
    x = [100, 50, 100, 200, 100, 200, 300, 270, 300]  # depths -0.5, -0.5, -0.1
    r = tk.drawdowns(x, top=3)
    assert r["peak_idx"].tolist() == [0, 3, 6]
    assert tk.drawdowns(x, top=0).shape == (0,)


# --------------------------------------------------------------------------
# pandas forms
# --------------------------------------------------------------------------


def test_series_with_datetimeindex_gives_timestamps_and_timedeltas():
    idx = pd.date_range("2024-01-01", periods=7, freq="D")
    df = tk.drawdowns(pd.Series([100, 110, np.nan, 90, np.nan, 120, 100], index=idx))
    assert df["peak_idx"].tolist() == [1, 5]
    assert df["peak_time"].tolist() == [idx[1], idx[5]]
    assert df["valley_time"].tolist() == [idx[3], idx[6]]
    assert df["end_time"].iloc[0] == idx[5] and pd.isna(df["end_time"].iloc[1])
    assert df["decline"].tolist() == [pd.Timedelta(days=2), pd.Timedelta(days=1)]
    assert df["recovery"].iloc[0] == pd.Timedelta(days=2) and pd.isna(df["recovery"].iloc[1])
    assert df["duration"].tolist() == [pd.Timedelta(days=4), pd.Timedelta(days=1)]


def test_dataframe_labels_the_columns():
    idx = pd.RangeIndex(6)
    frame = pd.DataFrame({"a": [1.0, 2, 1, 3, 2, 2], "b": [5.0, 4, 6, 6, 1, 7]}, index=idx)
    df = tk.drawdowns(frame)
    assert df["column"].tolist() == ["a", "a", "b", "b"]
    assert df["col"].tolist() == [0, 0, 1, 1]
    assert "peak_time" not in df
    assert_records_equal(
        np.array(list(df[list(FIELDS)].itertuples(index=False)), dtype=RECORD_DTYPE),
        tk.drawdowns(frame.to_numpy(), axis=0),
    )


def test_dataframe_along_axis_1_takes_the_times_from_the_columns():
    """A frame with its dates on the columns, along axis=1: the records of its transpose
    along axis 0 (times, Timedelta durations, quantstats' dates and days)."""
    idx = pd.date_range("2024-01-01", periods=6, freq="D")
    frame = pd.DataFrame({"a": [1.0, 2, 1, 3, 2, 2], "b": [5.0, 4, 6, 6, 1, 7]}, index=idx)
    want = tk.drawdowns(frame)
    assert "peak_time" in want and len(want) == 4
    pd.testing.assert_frame_equal(tk.drawdowns(frame.T, axis=1), want)
    pd.testing.assert_frame_equal(
        tk.drawdowns(frame.T, axis=1, style="quantstats"), tk.drawdowns(frame, style="quantstats")
    )


def test_quantstats_style_follows_its_conventions():
    """quantstats ``drawdown_details``' conventions (as the drawdowns docstring states them,
    quantstats itself is not needed): start = the first bar below the peak, end = the last
    bar before the recovery (the last bar if active), days = calendar days end - start + 1,
    the depth in percent."""
    # Thu 1, Fri 2, Mon 5, Tue 6, Wed 7, Thu 8, Fri 9, Mon 12 January 2015
    idx = pd.bdate_range("2015-01-01", periods=8)
    x = [1.0, 2.0, 1.5, 1.0, 1.5, 2.5, 2.0, 2.25]
    df = tk.drawdowns(pd.Series(x, index=idx), style="quantstats")
    assert list(df.columns) == ["start", "valley", "end", "days", "max drawdown"]
    day = pd.Timestamp
    assert df["start"].tolist() == [day("2015-01-05"), day("2015-01-09")]
    assert df["valley"].tolist() == [day("2015-01-06"), day("2015-01-09")]
    assert df["end"].tolist() == [day("2015-01-07"), day("2015-01-12")]  # active: the last bar
    assert df["days"].tolist() == [3, 4]  # Mon..Wed; Fri..Mon across the weekend
    np.testing.assert_allclose(df["max drawdown"], [-50.0, -20.0], rtol=1e-15)
    # without dates, days count bars
    plain = tk.drawdowns(pd.Series(x), style="quantstats")
    assert plain["start"].tolist() == [2, 6] and plain["end"].tolist() == [4, 7]
    assert plain["days"].tolist() == [3, 2]


def test_bad_arguments():
    with pytest.raises(ValueError, match="style"):
        tk.drawdowns([1.0, 2.0], style="vbt")
    with pytest.raises(ValueError, match="top"):
        tk.drawdowns([1.0, 2.0], top=-1)
    with pytest.raises(TypeError, match="top"):
        tk.drawdowns([1.0, 2.0], top=1.5)
    with pytest.raises(TypeError, match="quantstats"):
        tk.drawdowns([1.0, 2.0], style="quantstats")
    with pytest.raises(TypeError):
        tk.drawdowns(["a", "b"])


# --------------------------------------------------------------------------
# Peers, where installed
# --------------------------------------------------------------------------


def _walks(seed: int, n: int = 400, m: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, (n, m)), axis=0))
    x[::37] = np.round(x[::37])  # some retests of round prices
    return x


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_agrees_with_vectorbt_records(seed):
    vbt = pytest.importorskip("vectorbt")
    x = _walks(seed)
    theirs = pd.DataFrame(x).vbt.drawdowns.values
    ours = tk.drawdowns(x, axis=0)
    assert len(ours) == len(theirs)
    for f in ("col", "peak_idx", "valley_idx", "peak_val", "valley_val", "end_val", "status"):
        assert np.array_equal(ours[f], theirs[f]), f
    active = ours["status"] == 0
    assert np.array_equal(ours["end_idx"][~active], theirs["end_idx"][~active])
    assert (theirs["end_idx"][active] == x.shape[0] - 1).all()  # vectorbt: the last bar
    assert vbt is not None


@pytest.mark.parametrize("seed", [1, 2])
def test_agrees_with_quantstats_drawdown_details(seed):
    qs_stats = pytest.importorskip("quantstats.stats")
    x = _walks(seed, m=1)[:, 0]
    idx = pd.bdate_range("2015-01-01", periods=len(x))
    s = pd.Series(x, index=idx)
    theirs = qs_stats.drawdown_details(tk.drawdown(s))
    ours = tk.drawdowns(s, style="quantstats")
    assert len(ours) == len(theirs)
    for c in ("start", "valley", "end"):
        assert ours[c].dt.strftime("%Y-%m-%d").tolist() == theirs[c].tolist(), c
    assert ours["days"].tolist() == theirs["days"].tolist()
    assert np.allclose(ours["max drawdown"], theirs["max drawdown"], rtol=1e-12, atol=0)


# --------------------------------------------------------------------------
# Chunks: state= / return_state=True
# --------------------------------------------------------------------------


def _chunked(x: np.ndarray, cuts, **kw) -> np.ndarray:
    st, parts = None, []
    bounds = [0] + sorted(cuts) + [x.shape[-1]]
    for a, b in zip(bounds[:-2], bounds[1:-1]):
        r, st = tk.drawdowns(x[..., a:b], state=st, return_state=True, **kw)
        parts.append(r)
    parts.append(tk.drawdowns(x[..., bounds[-2] :], state=st, **kw))
    out = np.concatenate(parts)
    return out[np.argsort(out["col"], kind="stable")]  # chunk by chunk -> series by series


@settings(max_examples=150, deadline=None)
@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(0, 50)), elements=_values),
    st.lists(st.integers(0, 50), max_size=4),
    st.booleans(),
)
def test_chunked_equals_batch(x, cuts, f32):
    if f32:
        with np.errstate(over="ignore"):
            x = x.astype(np.float32)
    cuts = [min(c, x.shape[1]) for c in cuts]
    assert_records_equal(_chunked(x, cuts), tk.drawdowns(x))
    with tk.backend("reference"):
        assert_records_equal(_chunked(x, cuts), tk.drawdowns(x))


def _chunked_frames(obj, cuts, roundtrip, **kw):
    """``tk.drawdowns`` of a pandas object cut along its rows, the frames concatenated in
    series order (and the state pickled between chunks when ``roundtrip``)."""
    st, parts = None, []
    bounds = [0] + sorted(cuts) + [len(obj)]
    for a, b in zip(bounds[:-2], bounds[1:-1]):
        r, st = tk.drawdowns(obj.iloc[a:b], state=st, return_state=True, **kw)
        st = pickle.loads(pickle.dumps(st)) if roundtrip else st
        parts.append(r)
    parts.append(tk.drawdowns(obj.iloc[bounds[-2] :], state=st, **kw))
    out = pd.concat(parts, ignore_index=True)
    key = "column" if "column" in out else None
    return out if key is None else out.sort_values(key, kind="stable").reset_index(drop=True)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(np.float64, st.tuples(st.integers(0, 40), st.integers(1, 3)), elements=_values),
    st.lists(st.integers(0, 40), max_size=4),
    st.sampled_from(["D", "datetime_tz", "range", "str"]),
    st.sampled_from([None, "quantstats"]),
    st.sampled_from(["skip", "ffill"]),
    st.booleans(),
)
def test_pandas_chunks_name_the_same_bars_as_one_call(x, cuts, kind, style, nan, roundtrip):
    """Chunks of a pandas Series / DataFrame give the one-call frame: the index labels
    (times, Timedelta durations, quantstats' start / valley / end and days) of bars in
    earlier chunks come from the state (:class:`tradekernels.scans.records.LabelledState`)."""
    n = x.shape[0]
    index = {
        "D": pd.date_range("2024-01-01", periods=n, freq="D"),
        "datetime_tz": pd.date_range("2024-03-09 20:00", periods=n, freq="7h", tz="America/New_York"),
        "range": pd.RangeIndex(100, 100 + 3 * n, 3),
        "str": pd.Index([f"b{i}" for i in range(n)]),
    }[kind]
    if style == "quantstats" and kind == "str":
        return  # quantstats' days need numbers or times
    cuts = [min(c, n) for c in cuts]
    df = pd.DataFrame(x, index=index, columns=[f"s{j}" for j in range(x.shape[1])])
    for obj in (df, df["s0"]):
        batch = tk.drawdowns(obj, style=style, nan=nan)
        key = "column" if "column" in batch else None
        batch = batch if key is None else batch.sort_values(key, kind="stable").reset_index(drop=True)
        pd.testing.assert_frame_equal(_chunked_frames(obj, cuts, roundtrip, style=style, nan=nan), batch)


def test_a_plain_state_on_pandas_names_earlier_bars_nat():
    """A ``tk.State`` (no labels: from an array call, or built by hand) passed to a pandas
    call: the bars before the chunk are unknown there, NaT, never another bar's time."""
    idx = pd.date_range("2024-01-01", periods=6)
    s = pd.Series([100.0, 90.0, 80.0, 95.0, 101.0, 99.0], index=idx)
    _, st = tk.drawdowns(s.to_numpy()[:3], return_state=True)
    r = tk.drawdowns(s.iloc[3:], state=st)
    assert r["peak_time"].isna().tolist() == [True, False]
    assert r["valley_time"].isna().tolist() == [True, False]
    assert r["end_time"].tolist()[0] == idx[4]
    _, lst = tk.drawdowns(s.iloc[:3], return_state=True)
    assert type(lst).__name__ == "LabelledState" and lst != st and st != lst
    assert lst == pickle.loads(pickle.dumps(lst))
    _, two = tk.drawdowns(pd.DataFrame({"a": s, "b": s}).iloc[:3], return_state=True)
    assert two[1] == lst and two[0].labels.tolist() == lst.labels.tolist()
    assert tk.drawdowns(s.iloc[3:], state=lst)["peak_time"].tolist() == [idx[0], idx[4]]


def test_an_episode_spanning_chunks_is_reported_once_where_it_recovers():
    x = np.array([100.0, 90.0, 80.0, 95.0, 101.0, 99.0])
    r1, s1 = tk.drawdowns(x[:3], return_state=True)
    assert len(r1) == 0 and s1.in_dd == 1.0 and s1.n == 3.0
    r2, s2 = tk.drawdowns(x[3:5], state=s1, return_state=True)
    assert r2.tolist() == [(0, 0, 2, 4, 100.0, 80.0, 101.0, 80.0 / 100.0 - 1.0, 1, 2, 2, 4)]
    r3 = tk.drawdowns(x[5:], state=s2)
    assert r3.tolist() == [(0, 4, 5, -1, 101.0, 99.0, 99.0, 99.0 / 101.0 - 1.0, 0, 1, -1, 1)]
    with pytest.raises(ValueError, match="drawdowns"):
        tk.drawdowns(x, state=tk.State.initial("drawdown"))


# --------------------------------------------------------------------------
# Live: tk.stream.Drawdowns
# --------------------------------------------------------------------------


def _as_records(rows) -> np.ndarray:
    if not rows:
        return np.empty(0, RECORD_DTYPE)
    return np.array([(0,) + tuple(r) for r in rows], dtype=RECORD_DTYPE)


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(np.float64, st.integers(0, 60), elements=_values), st.integers(0, 60))
def test_stream_equals_batch(x, cut):
    s = tk.stream.Drawdowns()
    got = [r for r in (s.update(v) for v in x.tolist()) if r is not None]
    if s.active is not None:
        got.append(s.active)
    assert_records_equal(_as_records(got), tk.drawdowns(x))
    # bulk history (two extends), a pickled copy, then live ticks: the same records
    t = tk.stream.Drawdowns()
    cut = min(cut, len(x))
    got = [tuple(r)[1:] for r in t.extend(x[: cut // 2])]
    got += [tuple(r)[1:] for r in t.extend(x[cut // 2 : cut])]
    t = pickle.loads(pickle.dumps(t))
    got += [r for r in (t.update(v) for v in x[cut:].tolist()) if r is not None]
    if t.active is not None:
        got.append(t.active)
    assert_records_equal(_as_records(got), tk.drawdowns(x))


def test_stream_update_returns_the_episode_that_just_recovered():
    s = tk.stream.Drawdowns()
    assert [s.update(v) for v in (100.0, 90.0, 95.0)] == [None, None, None]
    assert s.active == (0, 1, -1, 100.0, 90.0, 95.0, 90.0 / 100.0 - 1.0, 0, 1, -1, 2)
    assert s.update(100.0) == (0, 1, 3, 100.0, 90.0, 100.0, 90.0 / 100.0 - 1.0, 1, 1, 2, 3)
    assert s.active is None and s.update(101.0) is None
    assert s.state == tk.drawdowns([100.0, 90.0, 95.0, 100.0, 101.0], return_state=True)[1]
