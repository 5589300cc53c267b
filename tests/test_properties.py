"""Property tests: native ufuncs against the reference twins on random inputs.

Every kernel of the registry, float64 and float32, 1-D to 3-D along any
axis, any strides (reversed, strided, offset, Fortran order), big-endian and
read-only inputs, NaN / inf / zero / negative values, lengths 0 and 1, with
and without ``out=`` (including ``out`` aliasing the input).  Tolerance: the
registry's ``ulps`` (0 = identical bits, NaN == NaN).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conftest import (
    FLOAT_DTYPES,
    assert_bits_identical,
    assert_outputs_same,
    kernel_params,
    native,
    reference_apply,
    run_ufunc,
)
from tradekernels import ufuncs

SPECIALS = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, -1.0, 2.0, 0.5]


def elements(dtype):
    width = 32 if np.dtype(dtype) == np.float32 else 64
    return st.one_of(
        st.sampled_from(SPECIALS),
        st.integers(-3, 12).map(float),  # small integers: ties and exact retests of the peak
        st.floats(min_value=0.015625, max_value=1e4, width=width),  # price-like
        st.floats(allow_nan=True, allow_infinity=True, width=width),  # anything, subnormals included
    )


def float_arrays(dtype, shape):
    return hnp.arrays(dtype, shape, elements=elements(dtype))


@st.composite
def arranged(draw, a: np.ndarray, allow_byteswap: bool = True, allow_readonly: bool = True):
    """A view with the same values as ``a`` but another memory layout.

    Per axis a step of 1, 2, 3, -1 or -2 inside a larger buffer at a random
    offset; optionally Fortran-ordered buffer, big-endian dtype, read-only.
    """
    dtype = a.dtype
    if allow_byteswap and draw(st.booleans()):
        dtype = dtype.newbyteorder(">" if dtype.byteorder in "=<" else "<")
    steps = [draw(st.sampled_from([1, 1, 2, 3, -1, -2])) for _ in range(a.ndim)]
    offsets = [draw(st.integers(0, 2)) for _ in range(a.ndim)]
    big_shape = tuple(n * abs(s) + o + 1 for n, s, o in zip(a.shape, steps, offsets))
    order = "F" if a.ndim > 1 and draw(st.booleans()) else "C"
    big = np.full(big_shape, 7777.0, dtype=dtype, order=order)
    index = [slice(o, o + n * abs(s), abs(s)) for n, s, o in zip(a.shape, steps, offsets)]
    view = big[tuple(index)]
    view = view[tuple(slice(None, None, -1) if s < 0 else slice(None) for s in steps)]
    view[...] = a
    if allow_readonly and draw(st.booleans()):
        view.setflags(write=False)
    assert view.shape == a.shape
    assert np.array_equal(view, a, equal_nan=True)
    return view


def _snapshot(x: np.ndarray) -> np.ndarray:
    return np.array(x, dtype=x.dtype.newbyteorder("="), copy=True)


# --------------------------------------------------------------------------
# Native == reference
# --------------------------------------------------------------------------


@kernel_params()
@given(data=st.data())
def test_native_matches_reference_1d(kernel, data):
    dtype = data.draw(st.sampled_from(FLOAT_DTYPES), label="dtype")
    n = data.draw(st.integers(0, 48), label="n")
    a = data.draw(float_arrays(dtype, n), label="values")
    x = data.draw(arranged(a), label="layout")
    before = _snapshot(x)
    got = native(kernel, x)
    assert_outputs_same(got, reference_apply(kernel, a), kernel.ulps, f"{kernel.name} 1-D {x.dtype}")
    assert_bits_identical(_snapshot(x), before, "input was modified")


@kernel_params()
@given(data=st.data())
def test_native_matches_reference_nd_any_axis(kernel, data):
    dtype = data.draw(st.sampled_from(FLOAT_DTYPES), label="dtype")
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=0, max_side=6), label="shape")
    shape = shape[:-1] + (data.draw(st.integers(0, 24), label="n"),)
    a = data.draw(float_arrays(dtype, shape), label="values")
    axis = data.draw(st.integers(-a.ndim, a.ndim - 1), label="axis")
    x = data.draw(arranged(a), label="layout")
    got = native(kernel, x, axis=axis)
    assert_outputs_same(got, reference_apply(kernel, a, axis=axis), kernel.ulps, f"{kernel.name} axis={axis}")


@kernel_params()
@given(data=st.data())
def test_real_non_float_inputs_follow_numpy_casting(kernel, data):
    """Other real dtypes go to the first loop they cast to safely: float32 (bool, uint8,
    float16) or float64 (int32, int64).  (The thin API instead makes every int float64.)"""
    kind = data.draw(st.sampled_from(["int64", "int32", "uint8", "bool", "float16"]), label="dtype")
    n = data.draw(st.integers(0, 30), label="n")
    if kind == "bool":
        a = data.draw(hnp.arrays(np.bool_, n), label="values")
    elif kind == "float16":
        a = data.draw(hnp.arrays(np.float16, n, elements=st.floats(width=16)), label="values")
    else:
        info = np.iinfo(kind)
        a = data.draw(
            hnp.arrays(kind, n, elements=st.integers(max(info.min, -1000), min(info.max, 1000))),
            label="values",
        )
    expect_dtype = np.float32 if np.can_cast(a.dtype, np.float32, "safe") else np.float64
    assert (expect_dtype == np.float32) == (kind in ("bool", "uint8", "float16"))
    got = native(kernel, a)
    assert_outputs_same(
        got, reference_apply(kernel, a.astype(expect_dtype)), kernel.ulps, f"{kernel.name} {kind}"
    )


@st.composite
def run_arrays(draw, dtype):
    """Long arrays made of runs (a value repeated, or a short pattern repeated):
    whole SIMD blocks with no new peak, long zero / inf / NaN stretches."""
    runs = draw(
        st.lists(
            st.tuples(st.lists(elements(dtype), min_size=1, max_size=3), st.integers(1, 80)),
            min_size=0,
            max_size=6,
        ),
        label="runs",
    )
    parts = [np.tile(np.array(pattern, dtype=dtype), reps) for pattern, reps in runs]
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


@kernel_params()
@given(data=st.data())
def test_native_matches_reference_long_runs(kernel, data):
    dtype = data.draw(st.sampled_from(FLOAT_DTYPES), label="dtype")
    a = data.draw(run_arrays(dtype), label="values")
    expected = reference_apply(kernel, a)
    for path in ufuncs.available_paths():
        got = native(kernel, a, path=path)
        assert_outputs_same(got, expected, kernel.ulps, f"{kernel.name} runs n={a.size} {path}")


# --------------------------------------------------------------------------
# out=
# --------------------------------------------------------------------------


def _out_buffers(data, kernel, expected, strided: bool):
    outs = []
    for e in expected:
        if strided and e.ndim:
            big = np.full(tuple(2 * s + 1 for s in e.shape), 0, dtype=e.dtype)
            o = big[tuple(slice(1, None, 2) for _ in e.shape)]
        else:
            o = np.empty(e.shape, dtype=e.dtype)
        o[...] = -12345 if e.dtype.kind == "i" else np.nan
        outs.append(o)
    return tuple(outs)


@kernel_params()
@given(data=st.data())
def test_out_is_filled_and_returned(kernel, data):
    dtype = data.draw(st.sampled_from(FLOAT_DTYPES), label="dtype")
    ndim = data.draw(st.integers(1, 2), label="ndim")
    shape = (data.draw(st.integers(1, 4)),) * (ndim - 1) + (data.draw(st.integers(0, 30), label="n"),)
    a = data.draw(float_arrays(dtype, shape), label="values")
    axis = data.draw(st.integers(-ndim, ndim - 1), label="axis")
    x = data.draw(arranged(a), label="layout")
    expected = reference_apply(kernel, a, axis=axis)
    outs = _out_buffers(data, kernel, expected, strided=data.draw(st.booleans(), label="strided out"))
    uf = getattr(ufuncs, kernel.name)
    with np.errstate(all="ignore"):
        res = uf(x, axis=axis, out=outs if len(outs) > 1 else outs[0])
    res = res if isinstance(res, tuple) else (res,)
    assert len(res) == len(outs)
    for r, o in zip(res, outs):
        assert r is o
    assert_outputs_same(outs, expected, kernel.ulps, f"{kernel.name} out=")


@kernel_params()
@given(data=st.data())
def test_out_aliasing_the_input_gives_the_unaliased_result(kernel, data):
    """``out`` sharing memory with the input (in place, a reinterpreting view, a column)."""
    # float32 input can only share memory with float32 outputs
    dtypes = [d for d in FLOAT_DTYPES if d == np.float64 or "f" in kernel.outputs]
    dtype = data.draw(st.sampled_from(dtypes), label="dtype")
    ndim = data.draw(st.integers(1, 2), label="ndim")
    shape = (data.draw(st.integers(1, 4)),) * (ndim - 1) + (data.draw(st.integers(1, 40), label="n"),)
    a = data.draw(float_arrays(dtype, shape), label="values")
    expected = native(kernel, a.copy())
    assert_outputs_same(expected, reference_apply(kernel, a), kernel.ulps, kernel.name)

    x = a.copy()
    outs = []
    aliased = False
    for e in expected:
        if kernel.scan and e.dtype == x.dtype:
            outs.append(x)  # in place
            aliased = True
        elif kernel.scan and e.dtype.itemsize == x.dtype.itemsize:
            outs.append(x.view(e.dtype))  # int64 output over float64 input memory
            aliased = True
        elif not kernel.scan and e.dtype.itemsize == x.dtype.itemsize and not aliased:
            outs.append(x[..., 0].view(e.dtype))  # reduction written over the first bar
            aliased = True
        else:
            outs.append(np.empty_like(e))
    assert aliased, "the test must alias at least one output"
    uf = getattr(ufuncs, kernel.name)
    with np.errstate(all="ignore"):
        res = uf(x, out=tuple(outs) if len(outs) > 1 else outs[0])
    res = res if isinstance(res, tuple) else (res,)
    for j, (r, e) in enumerate(zip(res, expected)):
        assert_bits_identical(np.array(r, copy=True), e, f"{kernel.name} aliased out, output {j}")


# --------------------------------------------------------------------------
# Threads: the GIL is released, results must not interfere
# --------------------------------------------------------------------------


@kernel_params()
def test_concurrent_calls_from_threads(kernel):
    rng = np.random.default_rng(5)
    xs = [100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, (8, 5_000)), axis=1) for _ in range(8)]
    expected = [native(kernel, x) for x in xs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda x: native(kernel, x), xs * 3))
    for i, got in enumerate(results):
        for j, (g, e) in enumerate(zip(got, expected[i % len(xs)])):
            assert_bits_identical(g, e, f"{kernel.name} thread result {i}, output {j}")


@kernel_params()
def test_length_zero_and_one_lanes(kernel):
    """Explicit edge shapes (hypothesis finds them too, but not necessarily every run)."""
    for shape in [(0,), (1,), (3, 0), (0, 5), (2, 1), (0, 0)]:
        for dtype in FLOAT_DTYPES:
            a = np.full(shape, 3.0, dtype=dtype)
            got = run_ufunc(getattr(ufuncs, kernel.name), a)
            assert_outputs_same(got, reference_apply(kernel, a), 0, f"{kernel.name} shape {shape} {dtype}")
