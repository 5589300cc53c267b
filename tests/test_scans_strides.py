"""Scans kernels on hostile memory layouts, every argument, every SIMD path.

Every ufunc of the scans family (the declared kernels, their ``<name>_state`` gufuncs and
``rolling_max_drawdown``) gets each argument as a zero-stride (``np.broadcast_to``),
negative-stride, strided and odd-stride (a field of a packed structured array: unaligned,
stride ``itemsize + 1``) view, on its core axis and on the outer loop axis, and every output
as such an ``out=``: the answers equal those of contiguous copies of the same values on the
same path, which equal the reference twin (checked here too, on the contiguous input).  The
SIMD cores take their own loop only for unit strides, so a layout case compares the SIMD
algorithm with the scalar fallback.  The module-level ``drawdowns`` records, the public
functions (``state=`` as an array in every layout) and the streams' ``extend`` get the same
layouts against the twin.  No layout may crash the process (a zero stride once divided by
zero in the sessions family).
"""

from __future__ import annotations

import numpy as np
import pytest
from hostile_layouts import LAYOUTS, call, check_ufunc_layouts, layout, same_bits, views_of

import tradekernels as tk
from conftest import first_difference, path_ufuncs, reference_apply
from tradekernels import _backend, _registry, stream, ufuncs
from tradekernels.scans import reference
from tradekernels.scans.records import _reference_records

PATHS = ufuncs.available_paths()
SCAN_UFUNCS = [k for k in _registry.UFUNCS if k.family == "scans"]
DTYPES = (np.float64, np.float32)


def _series(n: int = 300, seed: int = 11) -> np.ndarray:
    """An early peak, a long stretch below it (the max_drawdown division-free blocks), a
    NaN run, a new peak late, ties with the peak."""
    rng = np.random.default_rng(seed)
    x = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.01, n))
    x[0] = x.max() * 1.05
    x[40:45] = np.nan
    x[77] = x[0]  # a tie with the peak
    x[n - 40] = x[0] * 1.2  # a new peak after the skipped blocks
    return x


def _args(k: _registry.Kernel, dtype) -> list:
    x = _series().astype(dtype)
    if k.name == "rolling_max_drawdown":
        return [x, np.int64(20), np.int64(5)]
    if k.base:  # a realistic carried state: the one after a prefix
        base = _registry.get(k.base)
        start = np.array(base.state_default, dtype=np.float64)
        prefix = (_series(seed=3)[:57] * 1.1).astype(dtype)
        st = call(path_ufuncs("scalar")[k.name], [prefix, start])[-1]
        return [x, st]
    return [x]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("k", SCAN_UFUNCS, ids=[k.name for k in SCAN_UFUNCS])
def test_every_argument_in_every_layout_on_every_path(k, dtype):
    args = _args(k, dtype)
    for path in PATHS:
        check_ufunc_layouts(path_ufuncs(path)[k.name], args, f"{k.name}[{path}]")


def _twin(k: _registry.Kernel, args: list) -> tuple:
    """The reference twin's outputs for the raw ufunc ``k`` on ``args`` (1-D)."""
    x = args[0]
    fdt = np.dtype(x.dtype.char)
    if k.name == "rolling_max_drawdown":
        r = reference.rolling_max_drawdown(x.tolist(), int(args[1]), int(args[2]))
        return (np.asarray(r, dtype=np.float64).astype(fdt),)
    if k.base:
        base = _registry.get(k.base)
        outs, st = _backend._run_state_reference(base, x, -1, None, np.asarray(args[1]))
        return tuple(outs) + (st,)
    return reference_apply(k, x)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("k", SCAN_UFUNCS, ids=[k.name for k in SCAN_UFUNCS])
def test_layouts_equal_the_twin(k, dtype):
    """Each value-preserving layout of each argument, on every path, equals the twin."""
    args = _args(k, dtype)
    want = _twin(k, args)
    for path in PATHS:
        uf = path_ufuncs(path)[k.name]
        for i, a in enumerate(args):
            if np.ndim(a) == 0:
                continue
            for name, view in views_of(a).items():
                new = list(args)
                new[i] = view
                for j, (g, w) in enumerate(zip(call(uf, new), want)):
                    # the twin to the declared ulps (log_returns: NumPy's log vs math.log)
                    ok = same_bits(g, w) if k.ulps == 0 else first_difference(g, w, k.ulps) is None
                    assert ok, f"{k.name}[{path}] argument {i} {name}: output {j}"


@pytest.mark.parametrize("k", SCAN_UFUNCS, ids=[k.name for k in SCAN_UFUNCS])
def test_zero_stride_long_input_on_every_path(k):
    """A broadcast price (stride 0) long enough for every SIMD block: a constant series
    (no drawdown) and a constant NaN series, 2-D broadcast over rows too."""
    for v in (5.0, np.nan, 0.0, -3.0, np.inf):
        args = _args(k, np.float64)
        args[0] = np.broadcast_to(np.float64(v), (5000,))
        for path in PATHS:
            uf = path_ufuncs(path)[k.name]
            want = call(uf, [np.array(a) for a in args])
            for j, (g, w) in enumerate(zip(call(uf, args), want)):
                assert same_bits(g, w), f"{k.name}[{path}] value {v}: output {j}"
            two = [np.broadcast_to(a, (3,) + np.shape(a)) for a in args]
            for g, w in zip(call(uf, two), want):
                assert same_bits(g, np.broadcast_to(w, (3,) + w.shape)), f"{k.name}[{path}] 2-D"


# --------------------------------------------------------------------------
# The public functions, drawdowns records, streams
# --------------------------------------------------------------------------

SINGLE = [k for k in _registry.KERNELS]


@pytest.mark.parametrize("name", LAYOUTS)
@pytest.mark.parametrize("k", SINGLE, ids=[k.name for k in SINGLE])
def test_api_layouts_of_x_and_state(k, name):
    """``tk.<name>(x, state=array)`` with x and the state array in each layout: the
    answers (and final state) equal those of contiguous copies; value-preserving layouts
    equal the twin."""
    fn = getattr(tk, k.name)
    x = _series()
    _, s0 = fn(x[:50] * 1.1, return_state=True)
    xv, sv = layout(x, name), layout(s0.values, name)
    for xa, sa in ((xv, s0.values), (x, sv), (xv, sv)):
        got, gst = fn(xa, state=sa, return_state=True)
        want, wst = fn(np.array(xa), state=np.array(sa), return_state=True)
        for g, w in zip(
            got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)
        ):
            assert same_bits(np.asarray(g), np.asarray(w)), k.name
        assert gst == wst
    if name != "zero":
        with tk.backend("shadow"):  # native vs twin, ShadowMismatch on a difference
            fn(xv, state=sv, return_state=True)
            fn(np.vstack([x, x[::-1]])[:, ::-1].T, axis=0)


@pytest.mark.parametrize("name", LAYOUTS)
def test_windowed_api_layouts(name):
    x = layout(_series(), name)
    want = tk.rolling_max_drawdown(np.array(x), 20, min_periods=3)
    assert same_bits(tk.rolling_max_drawdown(x, 20, min_periods=3), want)
    with tk.backend("shadow"):
        tk.rolling_max_drawdown(x, 20, min_periods=3)
        tk.ulcer_index(x, ddof=1)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("name", LAYOUTS)
def test_drawdowns_records_layouts(name, dtype):
    """_core.drawdowns reads the rows at their own (any) strides, unaligned included:
    the records equal the twin's, 1-D and 2-D (rows in each layout too)."""
    x = _series().astype(dtype)
    for a in (layout(x, name), np.stack([x, x * 0.5, x[::-1]])):
        for arr in (a, layout(a, name) if a.ndim == 2 else a):
            rec = tk.drawdowns(arr)
            a2 = np.asarray(arr, dtype=np.float64).reshape(-1, arr.shape[-1])
            ref = _reference_records(np.array(a2), None, True)
            want = ref if dtype == np.float64 else ref.astype(rec.dtype)
            assert rec.dtype == want.dtype and len(rec) == len(want)
            for f in rec.dtype.names:
                assert same_bits(rec[f], want[f]), f
    # the raw module function on views it gets directly (no copy on the way)
    from tradekernels import _core
    from tradekernels.scans.records import RECORD_DTYPE

    for view in (layout(np.stack([x, x]), name), layout(np.stack([x, x]), name).T.copy().T):
        got = _core.drawdowns(view, RECORD_DTYPE)
        want = _core.drawdowns(np.ascontiguousarray(view), RECORD_DTYPE)
        assert got.tobytes() == want.tobytes()


@pytest.mark.parametrize("name", LAYOUTS)
@pytest.mark.parametrize("cls", [k.stream for k in _registry.KERNELS if k.stream] + ["Drawdowns"])
def test_stream_extend_layouts(cls, name):
    """``stream.<cls>().extend(view)`` equals ``extend`` of a contiguous copy, and the
    state after it too."""
    x = layout(_series(), name)
    a, b = getattr(stream, cls)(), getattr(stream, cls)()
    a.update(120.0)
    b.update(120.0)
    ra, rb = a.extend(x), b.extend(np.array(x))
    if isinstance(ra, np.ndarray) and ra.dtype.names:
        assert ra.tobytes() == rb.tobytes()
    else:
        for g, w in zip(ra if isinstance(ra, tuple) else (ra,), rb if isinstance(rb, tuple) else (rb,)):
            assert same_bits(np.asarray(g), np.asarray(w))
    assert a.state == b.state


def test_raw_drawdowns_refuses_byte_swapped_input():
    """_core.drawdowns reads the array's memory itself (not through a ufunc, which would
    convert): a non-native byte order is a TypeError, not byte-swapped prices.  (The
    public tk.drawdowns converts first.)"""
    from tradekernels import _core
    from tradekernels.scans.records import RECORD_DTYPE

    x = np.array([[100.0, 80.0, 110.0, 90.0, 120.0]])
    for swapped in (x.astype(">f8"), x.astype(">f4")):
        with pytest.raises(TypeError, match="byte order"):
            _core.drawdowns(swapped, RECORD_DTYPE)
        assert (
            tk.drawdowns(swapped[0]).tobytes()
            == tk.drawdowns(x[0]).astype(tk.drawdowns(swapped[0]).dtype).tobytes()
        )
    state = np.zeros((1, 7), dtype=">f8")
    with pytest.raises(ValueError, match="native byte order"):
        _core.drawdowns(x, RECORD_DTYPE, state)


# --------------------------------------------------------------------------
# log_returns: the direct path (ratios and NumPy's log in place in out=)
# --------------------------------------------------------------------------


def _aligned_zeros(n: int, offset: int) -> np.ndarray:
    """n float64 zeros starting ``offset`` elements past a 64-byte boundary."""
    base = np.zeros(n + 16)
    start = (-base.ctypes.data % 64) // 8
    assert (base.ctypes.data + 8 * start) % 64 == 0
    return base[start + offset : start + offset + n]


@pytest.mark.parametrize("path", PATHS)
def test_log_returns_direct_output_at_every_alignment(path):
    """A contiguous float64 ``out=`` apart from x takes the ratios and NumPy's log in
    place, in 32-bar blocks, the log one block behind the divisions; at each 8-byte
    offset within a 64-byte line, and at lengths around the blocks (and the buffered
    path's 512-bar blocks), it equals (bits, and the state) the same ``out=`` at a
    stride, which goes through the 64-byte-aligned stack buffer."""
    rng = np.random.default_rng(17)
    x = np.concatenate(
        [
            100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.01, 600)),
            rng.integers(1, 0x7FF0000000000000, size=600, dtype=np.int64).view(np.float64),
            np.array([0.0, 1.0, np.inf, 2.0, np.nan, 3.0, -1.0, 5e-324, 1.0]),
        ]
    )
    uf = path_ufuncs(path)["log_returns"]
    ufs = path_ufuncs(path)["log_returns_state"]
    for n in (1, 2, 7, 8, 9, 31, 32, 33, 63, 64, 65, 100, 511, 512, 513, 1025, len(x)):
        xs = x[-n:]
        want = np.zeros(2 * n)[::2]
        uf(xs, out=want)
        want_st = ufs(xs, np.array([7.0]), out=(np.zeros(2 * n)[::2], np.zeros(1)))
        for off in range(8):
            got = _aligned_zeros(n, off)
            uf(xs, out=got)
            assert same_bits(got, want), f"log_returns[{path}] n={n} offset {8 * off} B"
            got_st = ufs(xs, np.array([7.0]), out=(_aligned_zeros(n, off), np.zeros(1)))
            for g, w in zip(got_st, want_st):
                assert same_bits(g, w), f"log_returns_state[{path}] n={n} offset {8 * off} B"
