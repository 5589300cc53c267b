"""The thin public API (pandas in / pandas out, dtype rules, out=, axis=) and the raw ufunc objects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tradekernels as tk
from conftest import (
    FLOAT_DTYPES,
    assert_outputs_same,
    assert_same,
    golden_case,
    kernel_params,
    native,
    reference_apply,
    registry_kernel,
)
from tradekernels import ufuncs
from tradekernels._registry import KERNELS


def api(kernel):
    return getattr(tk, kernel.name)


def _prices(rng, n=50, nan_at=(3, 17, 18)):
    x = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.03, n))
    x[list(nan_at)] = np.nan
    return x


def _as_outputs(res):
    if isinstance(res, tk.Episode):
        return tuple(np.asarray(v) for v in res)
    return (np.asarray(res),)


# --------------------------------------------------------------------------
# Public surface
# --------------------------------------------------------------------------


@kernel_params()
def test_every_registry_kernel_is_public(kernel):
    assert callable(getattr(tk, kernel.name))
    assert kernel.name in tk.__all__
    assert isinstance(getattr(ufuncs, kernel.name), np.ufunc)


@kernel_params()
def test_raw_ufunc_matches_registry_row(kernel):
    uf = getattr(ufuncs, kernel.name)
    assert isinstance(uf, np.ufunc)
    assert uf.__name__ == kernel.name
    assert uf.nin == 1 and uf.nout == len(kernel.outputs)
    core_out = "(n)" if kernel.scan else "()"
    assert uf.signature == "(n)->" + ",".join([core_out] * len(kernel.outputs))
    kind_char = {"f": None, "i": np.dtype(np.int64).char}
    expected_types = []
    for fchar in ("f", "d"):  # float32 loop first, then float64
        outs = "".join(fchar if kind == "f" else kind_char["i"] for kind in kernel.outputs)
        expected_types.append(f"{fchar}->{outs}")
    assert uf.types == expected_types
    assert f"tradekernels.scans.reference.{kernel.name}" in uf.__doc__


@kernel_params()
def test_for_path_builds_fresh_ufuncs(kernel):
    for path in ufuncs.available_paths():
        table = ufuncs.for_path(path)
        uf = table[kernel.name]
        assert isinstance(uf, np.ufunc) and uf.signature == getattr(ufuncs, kernel.name).signature
        assert uf is not getattr(ufuncs, kernel.name)
        with pytest.raises(TypeError):
            table[kernel.name] = None  # read-only mapping
    assert {k.name for k in KERNELS} <= set(ufuncs.for_path("scalar"))


# --------------------------------------------------------------------------
# ndarray / list inputs and dtypes
# --------------------------------------------------------------------------


@kernel_params()
def test_ndarray_results_equal_raw_ufunc(kernel, rng):
    x = np.stack([_prices(rng), _prices(rng)])
    res = _as_outputs(api(kernel)(x))
    assert_outputs_same(res, native(kernel, x), 0, kernel.name)
    one = api(kernel)(x[0])
    if not kernel.scan:  # 1-D reductions give scalars, not 0-d arrays
        for v in one if isinstance(one, tuple) else (one,):
            assert np.ndim(v) == 0 and not isinstance(v, np.ndarray)


@kernel_params()
@pytest.mark.parametrize(
    "values",
    [
        [1, 3, 2, 5, 4],
        [True, False, True, True],
        np.array([5, 1, 7], dtype=np.int32),
        np.array([5, 1, 7], dtype=np.uint8),
    ],
    ids=["list-int", "list-bool", "int32", "uint8"],
)
def test_lists_ints_bools_compute_as_float64(kernel, values):
    res = _as_outputs(api(kernel)(values))
    x64 = np.asarray(values).astype(np.float64)
    assert_outputs_same(res, reference_apply(kernel, x64), kernel.ulps, kernel.name)
    for r, kind in zip(res, kernel.outputs):
        assert r.dtype == (np.float64 if kind == "f" else np.int64)


def test_float_outputs_of_int_input_are_float64():
    assert tk.drawdown([1, 2, 1]).dtype == np.float64
    assert tk.simple_returns(np.array([1, 2], dtype=np.uint8)).dtype == np.float64  # not the float32 loop
    assert tk.underwater_bars([1, 2, 1]).dtype == np.int64


@kernel_params()
def test_float32_stays_float32_and_float16_becomes_float32(kernel, rng):
    x = _prices(rng).astype(np.float32)
    for arr in (x, x.astype(np.float16)):
        res = _as_outputs(api(kernel)(arr))
        expected = reference_apply(kernel, arr.astype(np.float32))
        assert_outputs_same(res, expected, kernel.ulps, f"{kernel.name} {arr.dtype}")
        for r, kind in zip(res, kernel.outputs):
            assert r.dtype == (np.float32 if kind == "f" else np.int64)


def test_longdouble_is_computed_as_float64():
    x = np.array([1.0, 2.0, 1.5], dtype=np.longdouble)
    assert_same(tk.drawdown(x), tk.drawdown(x.astype(np.float64)))


# --------------------------------------------------------------------------
# pandas Series
# --------------------------------------------------------------------------


@kernel_params()
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
def test_series_in_series_out(kernel, dtype, rng):
    idx = pd.date_range("2024-01-01", periods=50, freq="B", name="date")
    s = pd.Series(_prices(rng).astype(dtype), index=idx, name="ACME")
    res = api(kernel)(s)
    expected = reference_apply(kernel, s.to_numpy())
    if kernel.scan:
        assert isinstance(res, pd.Series)
        assert res.index is s.index or res.index.equals(s.index)
        assert res.index.name == "date" and res.name == "ACME"
        assert res.dtype == (s.dtype if kernel.outputs[0] == "f" else np.int64)
        assert_outputs_same((res.to_numpy(),), expected, kernel.ulps, kernel.name)
    elif len(kernel.outputs) == 1:
        assert np.ndim(res) == 0 and not isinstance(res, pd.Series)
        assert_same(np.asarray(res), expected[0], kernel.ulps, kernel.name)
    else:
        assert isinstance(res, tk.Episode)
        assert_outputs_same(_as_outputs(res), expected, kernel.ulps, kernel.name)


def test_drawdown_episode_of_series_is_an_episode():
    s = pd.Series([100.0, 120.0, 90.0, 80.0, 100.0, 121.0, 115.0], index=list("abcdefg"))
    ep = tk.drawdown_episode(s)
    assert isinstance(ep, tk.Episode) and ep._fields == ("peak", "trough", "recovery", "depth")
    assert (int(ep.peak), int(ep.trough), int(ep.recovery)) == (1, 3, 5)  # positional, not labels
    assert_same(np.asarray(ep.depth), np.asarray(80.0 / 120.0 - 1.0))


@kernel_params()
@pytest.mark.parametrize("dtype", ["Float64", "Int64", "Float32"])
def test_nullable_dtypes_with_na(kernel, dtype):
    values = [100.0, 110.0, None, 90.0, 95.0, 120.0, None, 80.0]
    s = pd.Series(values, dtype=dtype, name="n", index=range(10, 18))
    res = api(kernel)(s)
    fdt = np.float32 if dtype == "Float32" else np.float64  # Float32 stays float32
    plain = np.array([np.nan if v is None else v for v in values], dtype=fdt)
    expected = reference_apply(kernel, plain)  # NA is NaN (more dtypes: test_input_kinds.py)
    got = (res.to_numpy(),) if kernel.scan else _as_outputs(res)
    assert_outputs_same(got, expected, kernel.ulps, f"{kernel.name} {dtype}")
    if kernel.scan:
        assert list(res.index) == list(range(10, 18)) and res.name == "n"


# --------------------------------------------------------------------------
# pandas formulas, bit for bit
# --------------------------------------------------------------------------


def _series_with_gaps(rng):
    s = pd.Series(_prices(rng, 300, nan_at=(0, 5, 6, 7, 150, 299)), index=pd.RangeIndex(300))
    s.iloc[40] = s.iloc[39]  # an exact retest
    return s


def test_simple_returns_equal_pandas_pct_change(rng):
    s = _series_with_gaps(rng)
    assert_same(tk.simple_returns(s).to_numpy(), s.pct_change(fill_method=None).to_numpy())


def test_drawdown_equals_pandas_cummax_formula(rng):
    s = _series_with_gaps(rng)
    assert_same(tk.drawdown(s).to_numpy(), (s / s.cummax() - 1).to_numpy())


def test_cumulative_returns_equal_pandas_cumprod(rng):
    r = pd.Series(rng.normal(0.0, 0.02, 300))
    r.iloc[[0, 10, 11, 200]] = np.nan
    r.iloc[250] = -1.0
    expected = ((1 + r.fillna(0)).cumprod() - 1).to_numpy()
    assert_same(tk.cumulative_returns(r).to_numpy(), expected)
    assert expected[-1] == -1.0  # the -1 return wiped the product out


def test_log_returns_equal_numpy_log_of_ratio(rng):
    s = _series_with_gaps(rng)
    expected = np.log((s / s.shift(1)).to_numpy())
    assert_same(tk.log_returns(s).to_numpy(), expected, ulps=registry_kernel("log_returns").ulps)


def test_pandas_formulas_on_dataframe(rng):
    df = pd.DataFrame({c: _series_with_gaps(rng) for c in ("a", "b", "c")})
    assert_same(tk.drawdown(df).to_numpy(), (df / df.cummax() - 1).to_numpy())
    assert_same(tk.simple_returns(df).to_numpy(), df.pct_change(fill_method=None).to_numpy())
    assert_same(tk.max_drawdown(df).to_numpy(), (df / df.cummax() - 1).min().to_numpy())


# --------------------------------------------------------------------------
# DataFrame
# --------------------------------------------------------------------------


@pytest.fixture
def frame(rng):
    idx = pd.date_range("2024-01-01", periods=40, freq="D", name="t")
    cols = pd.Index(["AAA", "BBB", "CCC"], name="sym")
    data = np.column_stack([_prices(rng, 40, nan_at=(i,)) for i in range(3)])
    return pd.DataFrame(data, index=idx, columns=cols)


@kernel_params()
def test_dataframe_columnwise(kernel, frame):
    res = api(kernel)(frame)
    expected = reference_apply(kernel, frame.to_numpy(), axis=0)
    if kernel.scan:
        assert isinstance(res, pd.DataFrame)
        assert res.index.equals(frame.index) and res.columns.equals(frame.columns)
        assert res.index.name == "t" and res.columns.name == "sym"
        assert_outputs_same((res.to_numpy(),), expected, kernel.ulps, kernel.name)
        # column-wise means: the same as the kernel on each column alone
        for c in frame.columns:
            assert_same(res[c].to_numpy(), api(kernel)(frame[c]).to_numpy())
    elif len(kernel.outputs) == 1:
        assert isinstance(res, pd.Series)
        assert res.index.equals(frame.columns) and res.name == kernel.name
        assert_same(res.to_numpy(), expected[0], kernel.ulps, kernel.name)
    else:
        assert isinstance(res, pd.DataFrame)
        assert list(res.columns) == list(tk.Episode._fields)
        assert res.index.equals(frame.columns)
        got = tuple(res[f].to_numpy() for f in tk.Episode._fields)
        assert_outputs_same(got, expected, kernel.ulps, kernel.name)


@kernel_params()
@pytest.mark.parametrize("axis", [1, "columns"])
def test_dataframe_axis1(kernel, frame, axis):
    res = api(kernel)(frame, axis=axis)
    expected = reference_apply(kernel, frame.to_numpy(), axis=1)
    if kernel.scan:
        assert res.index.equals(frame.index) and res.columns.equals(frame.columns)
        assert_outputs_same((res.to_numpy(),), expected, kernel.ulps, kernel.name)
    elif len(kernel.outputs) == 1:
        assert isinstance(res, pd.Series) and res.index.equals(frame.index)
        assert_same(res.to_numpy(), expected[0], kernel.ulps, kernel.name)
    else:
        assert res.index.equals(frame.index)
        assert_outputs_same(tuple(res[f].to_numpy() for f in tk.Episode._fields), expected, kernel.ulps)


def test_dataframe_axis_names_and_default(frame):
    assert_same(tk.drawdown(frame, axis="index").to_numpy(), tk.drawdown(frame).to_numpy())
    assert_same(tk.drawdown(frame, axis=0).to_numpy(), tk.drawdown(frame).to_numpy())


def test_max_drawdown_of_dataframe_is_series_by_column(frame):
    res = tk.max_drawdown(frame)
    assert isinstance(res, pd.Series) and list(res.index) == ["AAA", "BBB", "CCC"]
    for c in frame.columns:
        assert_same(np.asarray(res[c]), np.asarray(tk.max_drawdown(frame[c])))


def test_mixed_dtype_dataframe_computes_as_float64():
    df = pd.DataFrame({"i": [1, 3, 2], "f": [1.0, 0.5, 2.0], "f32": np.array([3, 1, 2], dtype=np.float32)})
    res = tk.drawdown(df)
    assert (res.dtypes == np.float64).all()
    assert_same(res.to_numpy(), tk.drawdown(df.to_numpy(dtype=np.float64), axis=0))


# --------------------------------------------------------------------------
# out= and axis=
# --------------------------------------------------------------------------


@kernel_params()
def test_out_is_filled_and_returned(kernel, rng):
    x = np.stack([_prices(rng), _prices(rng)])
    expected = native(kernel, x)
    outs = tuple(np.full_like(e, -7) for e in expected)
    res = api(kernel)(x, out=outs if len(outs) > 1 else outs[0])
    got = tuple(res) if isinstance(res, tuple) else (res,)
    for g, o in zip(got, outs):
        assert g is o
    assert_outputs_same(outs, expected, 0, kernel.name)


@kernel_params()
def test_out_on_series_fills_out(kernel, rng):
    s = pd.Series(_prices(rng))
    expected = native(kernel, s.to_numpy())
    outs = tuple(np.full_like(e, -7) for e in expected)
    api(kernel)(s, out=outs if len(outs) > 1 else outs[0])
    assert_outputs_same(outs, expected, 0, kernel.name)


@kernel_params()
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2, -3])
def test_axis_and_broadcasting_over_leading_axes(kernel, axis, rng):
    x = _prices(rng, 2 * 3 * 11, nan_at=(5, 40)).reshape(2, 3, 11)
    res = _as_outputs(api(kernel)(x, axis=axis))
    expected = reference_apply(kernel, x, axis=axis)
    assert_outputs_same(res, expected, kernel.ulps, f"{kernel.name} axis={axis}")
    assert_outputs_same(native(kernel, x, axis=axis), expected, kernel.ulps, f"raw {kernel.name} axis={axis}")
    # same as moving the axis to the end by hand
    moved = _as_outputs(api(kernel)(np.moveaxis(x, axis, -1).copy()))
    if kernel.scan:
        moved = tuple(np.moveaxis(m, -1, axis) for m in moved)
    assert_outputs_same(res, moved, 0, kernel.name)


@kernel_params()
def test_numpy_integer_axis(kernel, rng):
    x = np.stack([_prices(rng), _prices(rng)])
    assert_outputs_same(_as_outputs(api(kernel)(x, axis=np.int64(0))), _as_outputs(api(kernel)(x, axis=0)))


@kernel_params()
def test_memmap_input(kernel, tmp_path):
    x, expected = golden_case(kernel, "random_walk_2000")
    path = tmp_path / "prices.f8"
    mm = np.memmap(path, dtype=np.float64, mode="w+", shape=x.shape)
    mm[:] = x
    mm.flush()
    del mm
    ro = np.memmap(path, dtype=np.float64, mode="r", shape=x.shape)
    assert not ro.flags.writeable
    res = _as_outputs(api(kernel)(ro))
    assert_outputs_same(tuple(np.asarray(r) for r in res), expected, kernel.ulps, f"{kernel.name} memmap")
    assert_outputs_same(
        native(kernel, ro[::3]), reference_apply(kernel, x[::3]), kernel.ulps, "strided memmap"
    )
    del ro


def test_paths_fall_back_to_the_best_lower_cores():
    """A kernel without cores of its own for a path runs the best lower path's
    that the CPU runs: on avx512 the session kernels keep their AVX2 cores (not
    scalar); the emulated path (any CPU) falls back to scalar, unless the kernel has cores
    for it (its avx512 source against SIMDe, or, declared alone, the fills kernels' SSE2
    cores)."""
    from tradekernels import _core, _registry

    rows = {u["name"]: u for u in _core.kernels()}
    simd = {name: [p for p in u["simd"].split(",") if p] for name, u in rows.items()}
    assert any(simd[n] == ["avx2"] for n in simd), "expected kernels with AVX2 cores only (sessions)"
    fallback = {"scalar": None, "avx2": "scalar", "avx512": "avx2", "avx512_emu": "scalar"}
    own = {"avx512_emu": "avx512"}  # compiled from the avx512 sources
    for path in ufuncs.available_paths():
        got = _core.core_paths(path)
        assert set(got) == set(rows)
        for name, used in got.items():
            want = path
            while want != "scalar" and want not in simd[name] and own.get(want) not in simd[name]:
                want = fallback[want]
            assert used == want, (name, path, used)
    assert set(_registry.KERNELS[0].simd) >= {"avx2", "avx512"}
    assert simd["bar_index"] == ["avx2", "avx512_emu"]


# --------------------------------------------------------------------------
# pandas / polars in and out without copies (the API overhead item)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", [k.name for k in KERNELS if k.scan])
def test_frame_and_series_are_neither_copied_in_nor_out(name, rng):
    """A float64 frame reaches the ufunc as a view of its block; the result wraps the
    ufunc's output (here an out=) without a copy, a frame's result as one block."""
    from tradekernels import _api

    df = pd.DataFrame(100.0 + rng.random((60, 5)).cumsum(axis=0))
    arr, _, _ = _api.prepare(name, df, None)
    assert np.shares_memory(arr, df.to_numpy())
    out = np.empty((60, 5), dtype=np.int64 if name == "underwater_bars" else np.float64, order="F")
    res = getattr(tk, name)(df, out=out)
    assert isinstance(res, pd.DataFrame) and np.shares_memory(res.to_numpy(), out)
    assert list(res.index) == list(df.index) and list(res.columns) == list(df.columns)
    fresh = getattr(tk, name)(df).to_numpy()
    assert fresh.flags.f_contiguous  # column-major, as the input: one block
    s = pd.Series(df[0].to_numpy().copy(), index=pd.RangeIndex(10, 70), name="px")
    o = np.empty(60, dtype=out.dtype)
    r = getattr(tk, name)(s, out=o)
    assert np.shares_memory(r.to_numpy(), o) and r.name == "px" and r.index.equals(s.index)


def test_polars_series_in_and_out_without_a_copy(rng):
    pl = pytest.importorskip("polars")
    x = 100.0 + rng.random(80).cumsum()
    s = pl.Series("px", x)
    o = np.empty(80)
    r = tk.drawdown(s, out=o)
    assert isinstance(r, pl.Series) and r.name == "px" and np.shares_memory(r.to_numpy(), o)
