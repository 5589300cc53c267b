"""The drawdown family's NaN policy ``nan="skip" | "ffill" | "zero_return"``.

One pre-pass (``tradekernels._api.apply_nan_policy``) against its twin
(``tradekernels.scans.reference.apply_nan_policy``), the five kernels that take
it against their twins on the policy's prices, the issue's example, and the
peers each policy reproduces (pandas / quantstats, empyrical / vectorbt) where
they are installed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tradekernels as tk
from tradekernels._api import NAN_POLICIES, apply_nan_policy
from tradekernels.scans import reference as R
from tradekernels.scans.records import _reference_records

EXAMPLE = [100.0, 110.0, np.nan, 90.0, np.nan, 120.0, 100.0]
ULP1 = np.spacing(1.0)  # 2**-52


def _bits_equal(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    na, nb = np.isnan(a), np.isnan(b)
    u = f"u{a.itemsize}"
    return bool(np.array_equal(na, nb) and np.array_equal(a.view(u)[~na], b.view(u)[~nb]))


def test_the_issue_example():
    d = {p: tk.drawdown(EXAMPLE, nan=p) for p in NAN_POLICIES}
    q, r = 90.0 / 110.0 - 1.0, 100.0 / 120.0 - 1.0
    assert np.array_equal(d["skip"], [0, 0, np.nan, q, np.nan, 0, r], equal_nan=True)
    # ffill: the NaN at bar 2 takes 110 (a peak: 0), the one at bar 4 takes 90
    assert np.array_equal(d["ffill"], [0, 0, 0, q, q, 0, r])
    # zero_return: the returns into and out of each NaN are 0: the 90 and the 120 are lost
    z = d["zero_return"]
    assert np.array_equal(z[:6], [0.0] * 6) and z[6] == pytest.approx(-1 / 6, abs=2 * ULP1)
    assert tk.max_drawdown(EXAMPLE, nan="ffill") == q and tk.max_drawdown(EXAMPLE) == q
    assert len(tk.drawdowns(EXAMPLE, nan="zero_return")) == 1


@pytest.mark.parametrize("nan", NAN_POLICIES)
def test_prepass_is_its_twin_on_the_example(nan):
    got = apply_nan_policy("t", np.array(EXAMPLE), -1, nan)
    assert _bits_equal(got, np.array(R.apply_nan_policy(EXAMPLE, nan)))


_vals = st.one_of(
    st.floats(0.5, 500.0), st.integers(1, 9).map(float), st.sampled_from([np.nan, np.nan, 0.0, np.inf, -1.0])
)


@settings(max_examples=150, deadline=None)
@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(0, 40)), elements=_vals),
    st.sampled_from(NAN_POLICIES),
    st.booleans(),
    st.booleans(),
)
def test_prepass_and_kernels_equal_the_twins(x, nan, f32, transpose):
    if f32:
        x = x.astype(np.float32)
    lanes = [R.apply_nan_policy(row.tolist(), nan) for row in x]
    with np.errstate(all="ignore"):
        want = np.array(lanes, dtype=np.float64).reshape(x.shape).astype(x.dtype)
    arr, ax = (np.ascontiguousarray(x.T), 0) if transpose else (x, -1)
    got = apply_nan_policy("t", arr, ax, nan)
    assert _bits_equal(np.moveaxis(got, ax, -1), want)
    # the five kernels see exactly the policy's prices
    assert _bits_equal(np.moveaxis(tk.drawdown(arr, axis=ax, nan=nan), ax, -1), tk.drawdown(want))
    assert _bits_equal(tk.max_drawdown(arr, axis=ax, nan=nan), tk.max_drawdown(want))
    assert _bits_equal(tk.ulcer_index(arr, axis=ax, nan=nan, ddof=1), tk.ulcer_index(want, ddof=1))
    assert _bits_equal(
        np.moveaxis(tk.rolling_max_drawdown(arr, 5, min_periods=1, axis=ax, nan=nan), ax, -1),
        tk.rolling_max_drawdown(want, 5, min_periods=1),
    )
    got_rec = tk.drawdowns(arr, axis=ax, nan=nan)
    want_rec = _reference_records(want.astype(np.float64))  # the policy's prices in x's type
    for f in ("col", "peak_idx", "valley_idx", "end_idx", "status"):
        assert np.array_equal(got_rec[f], want_rec[f]), f
    if not f32:
        for f in ("peak_val", "valley_val", "end_val", "depth"):
            assert np.array_equal(got_rec[f], want_rec[f], equal_nan=True), f


def test_state_and_bad_policy_raise():
    with pytest.raises(ValueError, match="nan must be one of"):
        tk.drawdown(EXAMPLE, nan="drop")
    with pytest.raises(ValueError, match="nan must be one of"):
        tk.drawdown(EXAMPLE, nan="drop", return_state=True)
    # the stateful policies carry their own fields (tests/test_nan_policy_state.py)
    assert tk.drawdown(EXAMPLE, nan="ffill", return_state=True)[1].kernel == "drawdown@ffill"
    assert tk.ulcer_index(EXAMPLE, nan="zero_return", ddof=1, return_state=True)[1].kernel == (
        "ulcer_index@zero_return"
    )
    assert tk.drawdown(EXAMPLE, nan="skip", return_state=True)[1].kernel == "drawdown"


def test_pandas_objects_keep_their_labels():
    idx = pd.bdate_range("2024-01-01", periods=7)
    df = pd.DataFrame({"a": EXAMPLE, "b": EXAMPLE[::-1]}, index=idx)
    got = tk.drawdown(df, nan="ffill")
    assert got.index.equals(idx) and list(got.columns) == ["a", "b"]
    want = df.ffill() / df.ffill().cummax() - 1.0
    assert _bits_equal(got.to_numpy(), want.to_numpy())
    u = tk.ulcer_index(df, nan="ffill", ddof=1)
    assert list(u.index) == ["a", "b"]


# --------------------------------------------------------------------------
# The peers each policy reproduces
# --------------------------------------------------------------------------


def _gappy(seed: int, n: int = 300) -> pd.Series:
    rng = np.random.default_rng(seed)
    x = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, n)))
    x[1:][rng.random(n - 1) < 0.1] = np.nan  # interior gaps; the first price is there
    return pd.Series(x, index=pd.bdate_range("2018-01-01", periods=n))


@pytest.mark.parametrize("seed", range(5))
def test_ffill_is_pandas_and_quantstats_bit_for_bit(seed):
    s = _gappy(seed)
    got = tk.drawdown(s, nan="ffill").to_numpy()
    assert _bits_equal(got, (s.ffill() / s.ffill().cummax() - 1.0).to_numpy())
    qs_stats = pytest.importorskip("quantstats.stats")
    assert _bits_equal(got, qs_stats.to_drawdown_series(s).to_numpy())


@pytest.mark.parametrize("seed", range(5))
def test_zero_return_is_empyrical_and_vectorbt_to_rounding(seed):
    """empyrical and vectorbt compute the drawdown from returns as (c - max) / max,
    tradekernels as c / max - 1: within 1 ulp of 1 (empyrical) and 2 (vectorbt)."""
    s = _gappy(seed)
    r = s.pct_change(fill_method=None)
    ours = tk.max_drawdown(s, nan="zero_return")
    ep = pytest.importorskip("empyrical")
    assert abs(ours - ep.max_drawdown(r)) <= ULP1
    try:
        import vectorbt  # noqa: F401
    except ImportError:
        return
    theirs = r.vbt.returns.drawdown(
        engine="numba"
    ).to_numpy()  # the numba engine (vectorbt-rust rounds otherwise)
    assert np.nanmax(np.abs(tk.drawdown(s, nan="zero_return").to_numpy() - theirs)) <= 2 * ULP1
