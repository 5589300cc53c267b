"""Drawdown analytics: rolling_max_drawdown and ulcer_index (issue 12, items 3 and 4).

``ulcer_index`` is a single-series kernel (``_registry.KERNELS``): the
registry-parametrised tests (golden, state, properties, dask, leaks, bad
input, backends) run it; here only its ``ddof`` (applied in the wrapper).

``rolling_max_drawdown`` has a second input (the window) and so is not in
``KERNELS`` (``_registry.WINDOWED``): the parametrised tests call twins with
one argument and the generic wrapper.  Its own tests are here: golden file,
native vs the naive twin (hypothesis; float64 / float32; positive prices
with NaN, where exactness is proved in ``src/scans/rolling.inc.h``, and any
value, where the native kernel falls back to the naive loop), 2-D, strided,
axis, pandas ``rolling`` semantics, argument checks, and a cost that does not
grow with the window.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tradekernels as tk
from conftest import assert_same, golden, golden_cases
from tradekernels import ufuncs
from tradekernels._registry import WINDOWED, get
from tradekernels.scans import reference as R

RMDD = get("rolling_max_drawdown")
DTYPES = [np.float64, np.float32]


def _twin(x: np.ndarray, window: int, mp) -> np.ndarray:
    """The naive twin lane by lane (last axis), rounded once to x's dtype."""
    out = np.empty(x.shape, dtype=x.dtype)
    for idx in np.ndindex(*x.shape[:-1]):
        r = R.rolling_max_drawdown([float(v) for v in x[idx]], window, mp)
        with np.errstate(over="ignore"):
            out[idx] = np.asarray(r, dtype=np.float64).astype(x.dtype)
    return out


def _native(x, window, mp=None, **kw):
    with np.errstate(all="ignore"):
        return tk.rolling_max_drawdown(x, window, min_periods=mp, **kw)


@st.composite
def positive_series(draw, max_n: int = 80):
    """Positive prices (random walks, ties on a grid, subnormal and huge values) with NaN."""
    n = draw(st.integers(0, max_n))
    kind = draw(st.sampled_from(["walk", "grid", "any"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "walk":
        x = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.05, n))
    elif kind == "grid":
        x = rng.integers(1, 6, n).astype(np.float64)  # many exact ties and retests
    else:
        x = np.array(
            draw(
                st.lists(
                    st.one_of(
                        st.floats(min_value=5e-324, max_value=1e308),
                        st.sampled_from([5e-324, 1e-310, 1.0, 2.0, 1.7e308]),
                    ),
                    min_size=n,
                    max_size=n,
                )
            )
        )
    x[rng.random(n) < draw(st.sampled_from([0.0, 0.1, 0.5]))] = np.nan
    return x


windows = st.one_of(st.sampled_from([1, 2, 3]), st.integers(1, 100), st.just(10**12))


def _mp(draw, window):
    return draw(st.one_of(st.none(), st.integers(0, min(window, 100))))


# --------------------------------------------------------------------------
# Golden file
# --------------------------------------------------------------------------


def _golden_params():
    g = golden("rolling_max_drawdown")
    return [
        (c, int(w), int(m))
        for c in golden_cases("rolling_max_drawdown")
        for w, m in zip(g["windows"], g["min_periods"])
    ]


@pytest.mark.parametrize("case, window, mp", _golden_params())
def test_rolling_golden(case, window, mp):
    g = golden("rolling_max_drawdown")
    x = g[f"{case}__x"]
    tag = f"{case}__w{window}_mp{'none' if mp < 0 else mp}"
    mpv = None if mp < 0 else mp
    assert_same(_native(x, window, mpv), g[f"{tag}__out0"], 0, f"{tag} f64")
    with np.errstate(over="ignore"):
        x32 = x.astype(np.float32)
    assert_same(_native(x32, window, mpv), g[f"{tag}__f32out0"].astype(np.float32), 0, f"{tag} f32")
    # the twin still gives the file (the file is the twin's, not the kernel's)
    assert_same(_twin(x, window, mpv), g[f"{tag}__out0"], 0, f"{tag} twin")


def test_windowed_registry():
    assert [k.name for k in WINDOWED] == ["rolling_max_drawdown"]
    assert RMDD.nin == 3 and RMDD.scan and not RMDD.single_series
    assert "rolling_max_drawdown" not in [k.name for k in tk._registry.KERNELS]


# --------------------------------------------------------------------------
# Native == naive twin
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@given(data=st.data())
def test_rolling_positive_bit_equal_to_naive(dtype, data):
    """The O(1) path (no fallback on positive prices) equals the naive recomputation."""
    x = data.draw(positive_series(), label="x")
    with np.errstate(over="ignore", under="ignore"):
        x = x.astype(dtype)
    x = np.where(x > 0, x, np.nan) if dtype is np.float32 else x  # float32 underflow to 0 is "bad"
    w = data.draw(windows, label="window")
    mp = _mp(data.draw, w)
    assert_same(_native(x, w, mp), _twin(x, w, mp), 0, f"w={w} mp={mp}")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@given(data=st.data())
def test_rolling_any_values_equal_to_naive(dtype, data):
    """Zero, negative, infinite prices and -0.0: the native kernel matches the twin too."""
    n = data.draw(st.integers(0, 60), label="n")
    vals = st.one_of(
        st.sampled_from([0.0, -0.0, math.nan, math.inf, -math.inf, -1.0, 1.0, 2.0, 5e-324]),
        st.floats(allow_nan=True, allow_infinity=True),
        st.floats(min_value=50.0, max_value=150.0),
    )
    x = np.array(data.draw(st.lists(vals, min_size=n, max_size=n), label="x"), dtype=np.float64)
    with np.errstate(over="ignore"):
        x = x.astype(dtype)
    w = data.draw(windows, label="window")
    mp = _mp(data.draw, w)
    assert_same(_native(x, w, mp), _twin(x, w, mp), 0, f"w={w} mp={mp}")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@given(data=st.data())
def test_rolling_2d_strided_and_axis(dtype, data):
    m = data.draw(st.integers(1, 4), label="m")
    n = data.draw(st.integers(0, 40), label="n")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    big = (100.0 * np.cumprod(1.0 + rng.normal(0, 0.05, (2 * m, 3 * n + 1)), axis=1)).astype(dtype)
    big[rng.random(big.shape) < 0.1] = np.nan
    if data.draw(st.booleans(), label="zeros"):
        big[rng.random(big.shape) < 0.05] = 0.0
    x = big[::2, ::-3][:, :n]  # non-contiguous, negative stride along time
    w = data.draw(windows, label="window")
    mp = _mp(data.draw, w)
    expected = _twin(np.ascontiguousarray(x), w, mp)
    assert_same(_native(x, w, mp), expected, 0, "axis -1")
    assert_same(_native(x.T, w, mp, axis=0), expected.T, 0, "axis 0")
    out = np.full(x.shape[::-1], 7.0, dtype=dtype).T  # a strided out=
    res = _native(x, w, mp, out=out)
    assert res is out
    assert_same(out, expected, 0, "out=")


def test_raw_ufunc_broadcasts_windows_per_row(rng):
    x = 100.0 * np.cumprod(1.0 + rng.normal(0, 0.03, (3, 500)), axis=1)
    w = np.array([1, 20, 10**9], dtype=np.int64)
    mp = np.array([0, 5, 1], dtype=np.int64)
    got = ufuncs.rolling_max_drawdown(x, w, mp)
    for i in range(3):
        assert_same(got[i], _twin(x[i], int(w[i]), int(mp[i])), 0, f"row {i}")
    # window < 1 in the raw ufunc (the wrapper raises): NaN everywhere
    assert np.isnan(ufuncs.rolling_max_drawdown(x[0], 0, 0)).all()
    assert np.isnan(ufuncs.rolling_max_drawdown(x[0], -5, 0)).all()


# --------------------------------------------------------------------------
# pandas semantics, wrapper
# --------------------------------------------------------------------------


@pytest.mark.parametrize("window, mp", [(1, None), (5, None), (5, 2), (5, 0), (40, 3), (1000, 1)])
def test_rolling_matches_pandas_rolling_apply(window, mp, rng):
    pd = pytest.importorskip("pandas")
    x = 100.0 * np.cumprod(1.0 + rng.normal(0, 0.03, 300))
    x[rng.random(300) < 0.2] = np.nan
    x[:7] = np.nan
    s = pd.Series(x, index=pd.date_range("2020-01-01", periods=300), name="px")
    want = s.rolling(window, min_periods=mp).apply(lambda a: R.max_drawdown(list(a)), raw=True)
    got = tk.rolling_max_drawdown(s, window, min_periods=mp)
    assert isinstance(got, pd.Series) and got.name == "px" and got.index.equals(s.index)
    assert_same(got.to_numpy(), want.to_numpy(), 0, "pandas rolling")
    df = pd.DataFrame({"a": x, "b": x[::-1]}, index=s.index)
    gdf = tk.rolling_max_drawdown(df, window, min_periods=mp)
    assert isinstance(gdf, pd.DataFrame) and gdf.columns.tolist() == ["a", "b"]
    assert_same(gdf["a"].to_numpy(), want.to_numpy(), 0, "DataFrame column")


def test_rolling_wrapper_checks():
    x = [1.0, 2.0, 3.0]
    for bad in (0, -1):
        with pytest.raises(ValueError, match="window"):
            tk.rolling_max_drawdown(x, bad)
    with pytest.raises(ValueError, match="min_periods"):
        tk.rolling_max_drawdown(x, 2, min_periods=3)
    with pytest.raises(ValueError, match="min_periods"):
        tk.rolling_max_drawdown(x, 2, min_periods=-1)
    for bad in (True, 2.0, "2"):
        with pytest.raises(TypeError):
            tk.rolling_max_drawdown(x, bad)
    with pytest.raises(np.exceptions.AxisError):
        tk.rolling_max_drawdown(x, 2, axis=1)
    assert tk.rolling_max_drawdown([], 3).shape == (0,)


@pytest.mark.parametrize("mode", ["reference", "shadow"])
def test_rolling_backends(mode, rng):
    x = 100.0 * np.cumprod(1.0 + rng.normal(0, 0.03, (2, 60)), axis=1)
    with tk.backend(mode):
        got = tk.rolling_max_drawdown(x, 7, min_periods=2)
    assert_same(got, _twin(x, 7, 2), 0, mode)


# --------------------------------------------------------------------------
# ulcer_index: ddof (the wrapper), chunked with ddof, quantstats' N - 1
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@given(data=st.data())
def test_ulcer_ddof_equals_twin(dtype, data):
    n = data.draw(st.integers(0, 40), label="n")
    vals = st.one_of(
        st.sampled_from([0.0, math.nan, math.inf, -1.0, 1.0, 2.0]), st.floats(min_value=50.0, max_value=150.0)
    )
    rows = [data.draw(st.lists(vals, min_size=n, max_size=n), label=f"row{i}") for i in range(2)]
    x = np.array(rows, dtype=np.float64).astype(dtype)
    ddof = data.draw(st.integers(0, 3), label="ddof")
    with np.errstate(all="ignore"):
        got = tk.ulcer_index(x, ddof=ddof)
        one = tk.ulcer_index(x[0], ddof=ddof)
    want = np.array([R.ulcer_index([float(v) for v in r], ddof) for r in x]).astype(dtype)
    assert_same(got, want, 0, f"ddof={ddof}")
    assert_same(np.asarray(one), want[0], 0, "1-D")
    # chunked with ddof: the last chunk's result is the whole series'
    cut = data.draw(st.integers(0, n), label="cut")
    with np.errstate(all="ignore"):
        _, s = tk.ulcer_index(x[:, :cut], ddof=ddof, return_state=True)
        last, _ = tk.ulcer_index(x[:, cut:], ddof=ddof, state=s, return_state=True)
    assert_same(last, want, 0, "chunked")


def test_ulcer_ddof1_is_quantstats_formula(rng):
    pd = pytest.importorskip("pandas")
    r = pd.Series(rng.normal(0.0005, 0.01, 1000))
    prices = (1 + r).cumprod()
    dd = prices / prices.cummax() - 1  # quantstats to_drawdown_series, up to rounding
    qs = math.sqrt((dd**2).sum() / (r.shape[0] - 1))
    assert tk.ulcer_index(prices, ddof=1) == pytest.approx(qs, rel=1e-12)
    assert tk.ulcer_index(prices) == pytest.approx(math.sqrt((dd**2).sum() / 1000), rel=1e-12)


def test_ulcer_wrapper_kinds():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [100.0, 90.0, 95.0, 110.0], "b": [1.0, 2.0, 1.0, np.nan]})
    got = tk.ulcer_index(df, ddof=1)
    assert isinstance(got, pd.Series) and got.index.tolist() == ["a", "b"]
    assert got["a"] == R.ulcer_index([100.0, 90.0, 95.0, 110.0], 1)
    out = np.empty(2)
    assert tk.ulcer_index(df.to_numpy().T, ddof=1, out=out) is out
    assert np.isnan(tk.ulcer_index([100.0], ddof=1))  # N - ddof = 0
    with pytest.raises(TypeError):
        tk.ulcer_index([1.0], ddof=1.5)
