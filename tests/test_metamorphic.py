"""Metamorphic relations between kernels and between inputs.

These do not use the reference twins: they check relations any correct
implementation satisfies (scale invariance, prefix property, new highs,
returns/compounding round trip, episode consistency).

Notation: ``eps = 2**-52`` (float64 machine epsilon), ``u = eps / 2`` (unit
roundoff: one correctly rounded operation has relative error <= u).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conftest import (
    FLOAT_DTYPES,
    SCAN_KERNELS,
    assert_bits_identical,
    assert_same,
    golden_case,
    kernel_params,
    native,
    registry_kernel,
)

EPS = float(np.finfo(np.float64).eps)

DRAWDOWN = registry_kernel("drawdown")
MAX_DRAWDOWN = registry_kernel("max_drawdown")
EPISODE = registry_kernel("drawdown_episode")
UNDERWATER = registry_kernel("underwater_bars")
SIMPLE = registry_kernel("simple_returns")
LOG = registry_kernel("log_returns")
CUMULATIVE = registry_kernel("cumulative_returns")

#: kernels whose input is a price series (scale-free in the price unit)
PRICE_KERNELS = [SIMPLE, LOG, DRAWDOWN, MAX_DRAWDOWN, EPISODE, UNDERWATER]


def one(kernel, x, **kw):
    r = native(kernel, x, **kw)
    return r[0] if len(r) == 1 else r


def prices(min_len=0, max_len=60, nan=True, zero_neg=False):
    """Price series in [2**-10, 1e6] (no over/underflow when scaled by 2**+-20)."""
    el = st.floats(min_value=2.0**-10, max_value=1e6)
    extra = []
    if nan:
        extra.append(st.just(math.nan))
    if zero_neg:
        extra += [st.just(0.0), st.floats(min_value=-1e6, max_value=-(2.0**-10))]
    if extra:
        el = st.one_of(el, el, *extra)
    return hnp.arrays(np.float64, st.integers(min_len, max_len), elements=el)


def any_values(dtype=np.float64, max_len=50):
    width = 32 if np.dtype(dtype) == np.float32 else 64
    el = st.one_of(
        st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, 2.0, -1.0]),
        st.integers(-3, 10).map(float),
        st.floats(allow_nan=True, allow_infinity=True, width=width),
    )
    return hnp.arrays(dtype, st.integers(0, max_len), elements=el)


# --------------------------------------------------------------------------
# Scaling prices by k > 0
# --------------------------------------------------------------------------


@kernel_params(PRICE_KERNELS)
@given(x=prices(zero_neg=True), e=st.integers(-20, 20))
def test_power_of_two_scaling_is_bit_exact(kernel, x, e):
    """k = 2**e scales every price exactly, so every ratio, comparison and index is unchanged."""
    k = 2.0**e
    for j, (a, b) in enumerate(zip(native(kernel, x * k), native(kernel, x))):
        assert_bits_identical(a, b, f"{kernel.name}(x * 2**{e}) output {j}")


@given(x=prices(min_len=1), k=st.floats(min_value=1e-3, max_value=1e3))
def test_general_scaling_within_a_few_ulps(x, k):
    """Any k > 0 changes drawdown / returns by a few ulps of the price ratio at most.

    ``fl(k*a) / fl(k*b)`` is the true ratio ``q`` times at most three rounding
    factors (1 + u), the unscaled one has one, so the ratios differ by at most
    ``4u|q| = 2 eps |q|``; the final ``- 1`` adds at most half an ulp of each
    result.  Stated tolerance: ``|d_k - d| <= 4 eps max(|q|, 1)`` for simple
    returns and drawdown (``q = d + 1``), and ``4 eps + 2 ulp`` for log returns.
    """
    xk = x * k
    assume(np.all(np.isfinite(xk[~np.isnan(x)])))
    for kern in (SIMPLE, DRAWDOWN):
        d0, dk = one(kern, x), one(kern, xk)
        assert np.array_equal(np.isnan(d0), np.isnan(dk)), kern.name
        tol = 4 * EPS * np.maximum(np.abs(d0 + 1.0), 1.0)
        with np.errstate(invalid="ignore"):
            bad = np.abs(dk - d0) > tol
        assert not np.any(bad), (kern.name, np.flatnonzero(bad)[:5], d0[bad][:5], dk[bad][:5])
    l0, lk = one(LOG, x), one(LOG, xk)
    assert np.array_equal(np.isnan(l0), np.isnan(lk))
    tol = 4 * EPS + 2 * np.spacing(np.abs(np.nan_to_num(l0)))
    with np.errstate(invalid="ignore"):
        assert not np.any(np.abs(lk - l0) > tol)
    m0, mk = one(MAX_DRAWDOWN, x), one(MAX_DRAWDOWN, xk)
    if np.isnan(m0):
        assert np.isnan(mk)
    else:
        assert abs(mk - m0) <= 4 * EPS, (m0, mk)  # drawdowns of positive prices are in (-1, 0]


def test_scaling_golden_random_walk():
    x, _ = golden_case(DRAWDOWN, "random_walk_2000")
    for kern in (SIMPLE, LOG, DRAWDOWN, MAX_DRAWDOWN, EPISODE, UNDERWATER):
        for j, (a, b) in enumerate(zip(native(kern, x * 1024.0), native(kern, x))):
            assert_bits_identical(a, b, f"{kern.name} walk * 1024, output {j}")
    d0, d3 = one(DRAWDOWN, x), one(DRAWDOWN, x * 3.0)
    assert np.max(np.abs(d3 - d0)) <= 4 * EPS
    assert not np.array_equal(d3, d0)  # k = 3 really is inexact: the tolerance above is exercised


# --------------------------------------------------------------------------
# New all-time high at the end
# --------------------------------------------------------------------------


@given(x=prices(max_len=60), bump=st.floats(min_value=1.0001, max_value=10.0))
def test_appending_a_new_high_ends_the_drawdown(x, bump):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nanmax of all-NaN
        top = np.nanmax(x) if x.size else np.nan
    new_high = 1.0 if np.isnan(top) else top * bump
    assert not (new_high <= top)
    y = np.append(x, new_high)
    n = x.size

    dd = one(DRAWDOWN, y)
    assert_same(dd[-1], np.float64(0.0), what="drawdown at the new high")
    assert_same(dd[:-1], one(DRAWDOWN, x), what="earlier drawdowns unchanged")
    uw = one(UNDERWATER, y)
    assert uw[-1] == 0
    assert_same(uw[:-1], one(UNDERWATER, x), what="earlier underwater bars unchanged")

    m_old, m_new = one(MAX_DRAWDOWN, x), one(MAX_DRAWDOWN, y)
    assert_same(m_new, np.float64(0.0) if np.isnan(m_old) else m_old, what="max drawdown")

    old, new = one(EPISODE, x), one(EPISODE, y)
    assert (int(new[0]), int(new[1])) == (int(old[0]), int(old[1]))
    assert_same(new[3], m_new, what="episode depth")
    if int(old[1]) >= 0 and int(old[2]) == -1:
        assert int(new[2]) == n, "a never-recovered drawdown recovers at the new high"
    else:
        assert int(new[2]) == int(old[2])


# --------------------------------------------------------------------------
# Prefix property of the scan kernels, and of the reduction
# --------------------------------------------------------------------------


@kernel_params(SCAN_KERNELS)
@given(data=st.data())
def test_scan_prefix_property(kernel, data):
    """kernel(x[:m]) == kernel(x)[:m] for every m (no look-ahead), on every SIMD tail length."""
    dtype = data.draw(st.sampled_from(FLOAT_DTYPES), label="dtype")
    x = data.draw(any_values(dtype), label="x")
    full = native(kernel, x)
    for m in range(x.size + 1):
        for j, (a, b) in enumerate(zip(native(kernel, x[:m].copy()), full)):
            assert_bits_identical(a, b[:m], f"{kernel.name} prefix m={m} output {j}")


@given(data=st.data())
def test_max_drawdown_is_nanmin_of_drawdown(data):
    dtype = data.draw(st.sampled_from(FLOAT_DTYPES), label="dtype")
    x = data.draw(any_values(dtype), label="x")
    dd = one(DRAWDOWN, x)
    for m in range(x.size + 1):
        got = one(MAX_DRAWDOWN, x[:m].copy())
        valid = dd[:m][~np.isnan(dd[:m])]
        expected = np.min(valid) if valid.size else np.array(np.nan, dtype=dtype)[()]
        assert_same(got, expected, what=f"max_drawdown(x[:{m}])")


def test_max_drawdown_is_nanmin_of_drawdown_2d_golden():
    x, _ = golden_case(DRAWDOWN, "matrix_5x300")
    dd = one(DRAWDOWN, x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanmin(dd, axis=-1)
    assert_same(one(MAX_DRAWDOWN, x), expected, what="max_drawdown rows")
    assert_same(one(MAX_DRAWDOWN, x.T, axis=0), expected, what="max_drawdown axis=0")


# --------------------------------------------------------------------------
# Returns round trip
# --------------------------------------------------------------------------


def _check_round_trip(x):
    """cumulative_returns(simple_returns(x))[i] ~ x[i]/x[0] - 1 for positive x.

    Bar k multiplies the product by ``1 + (fl(q) - 1)`` with ``q = x[k]/x[k-1]``:
    the division, the ``- 1`` and the ``1 +`` cost at most ``u (1 + max(1, 1/q))``
    relative (for ``q < 1`` the ``- 1`` loses ``1/q`` in relative precision),
    the multiplication one more ``u``.  Relative errors of a product add up, so
    the product is within ``eps * S_i`` relative of ``x[i]/x[0]``, with
    ``S_i = sum_{k<=i} (1 + max(1, x[k-1]/x[k]))`` (eps = 2u: slack for the
    second-order terms), and the direct formula and the final ``- 1`` add at most
    ``2 eps max(x[i]/x[0], 1)``.  Stated tolerance:
    ``|c[i] - (x[i]/x[0] - 1)| <= eps * (x[i]/x[0] * S_i + 2 max(x[i]/x[0], 1))``.
    """
    c = one(CUMULATIVE, one(SIMPLE, x))
    direct = x / x[0] - 1.0
    ratio = x / x[0]
    steps = np.concatenate([[0.0], 1.0 + np.maximum(1.0, x[:-1] / x[1:])])
    tol = EPS * (ratio * np.cumsum(steps) + 2.0 * np.maximum(ratio, 1.0))
    err = np.abs(c - direct)
    assert np.all(err <= tol), (np.flatnonzero(err > tol)[:5], err[err > tol][:5], tol[err > tol][:5])
    return err


@given(x=hnp.arrays(np.float64, st.integers(1, 200), elements=st.floats(min_value=0.5, max_value=200.0)))
def test_cumulative_of_simple_returns_recovers_the_price_ratio(x):
    _check_round_trip(x)


def test_cumulative_of_simple_returns_golden_walk():
    x, _ = golden_case(SIMPLE, "random_walk_2000")
    err = _check_round_trip(x)
    # a real random walk stays far inside the worst-case bound: O(sqrt(n)) ulps, not O(n)
    assert err.max() <= 200 * EPS * np.max(x / x[0])


def test_cumulative_returns_nan_counts_as_zero():
    r = np.array([0.1, np.nan, 0.2, np.nan, np.nan, -0.5])
    c = one(CUMULATIVE, r)
    c0 = one(CUMULATIVE, np.nan_to_num(r, nan=0.0))
    assert_same(c, c0, what="NaN return == zero return")


# --------------------------------------------------------------------------
# drawdown_episode consistency
# --------------------------------------------------------------------------


def _check_episode(x):
    peak, trough, recovery, depth = (v[()] for v in native(EPISODE, x))
    peak, trough, recovery = int(peak), int(trough), int(recovery)
    dd, uw, mdd = one(DRAWDOWN, x), one(UNDERWATER, x), one(MAX_DRAWDOWN, x)
    assert_same(depth, mdd, what="depth == max_drawdown")
    if trough < 0:
        assert peak == -1 and recovery == -1
        assert np.isnan(depth) or depth >= 0
        return
    assert depth < 0
    assert 0 <= peak <= trough < x.size
    assert_same(dd[trough], depth, what="drawdown at the trough")
    earlier = dd[:trough]
    assert not np.any(earlier[~np.isnan(earlier)] <= depth), "trough is the first bar at the depth"
    assert trough - peak == uw[trough], (peak, trough, uw[trough])
    peak_price = x[peak]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert peak_price == np.nanmax(x[: trough + 1]), "peak is at the running maximum"
    after = x[trough + 1 :] if recovery == -1 else x[trough + 1 : recovery]
    assert not np.any(after >= peak_price), "an earlier bar already recovered"
    if recovery != -1:
        assert trough < recovery < x.size
        assert x[recovery] >= peak_price, "recovery price >= peak price"
        assert uw[recovery] == 0


@given(x=prices(max_len=80))
def test_drawdown_episode_consistency_prices(x):
    _check_episode(x)


@given(x=any_values())
def test_drawdown_episode_consistency_any_values(x):
    """Zero / negative / infinite prices: the depth, trough and recovery relations still hold."""
    peak, trough, recovery, depth = (int(v) if i < 3 else v for i, v in enumerate(native(EPISODE, x)))
    assert_same(np.asarray(depth), np.asarray(one(MAX_DRAWDOWN, x)), what="depth == max_drawdown")
    if trough >= 0:
        assert peak <= trough
        assert trough - peak == one(UNDERWATER, x)[trough]
        assert_same(one(DRAWDOWN, x)[trough], np.asarray(depth), what="drawdown at trough")
        if recovery >= 0:
            assert recovery > trough and x[recovery] >= x[peak]
    else:
        assert peak == recovery == -1


def test_drawdown_episode_consistency_golden_cases():
    for case in (
        "random_walk_2000",
        "recovered",
        "never_recovered",
        "exact_retest_of_peak",
        "nan_run_middle",
        "leading_nan",
        "two_drawdowns_equal_depth",
        "new_peak_at_last_bar",
    ):
        x, _ = golden_case(EPISODE, case)
        _check_episode(x)
    x, _ = golden_case(EPISODE, "random_walk_2000")
    peak, trough, recovery, depth = native(EPISODE, x)
    assert depth < -0.05 and trough > peak  # the walk has a real drawdown: the checks above bit
