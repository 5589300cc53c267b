"""Hostile-input matrix: every public kernel against odd but legal (and illegal) input.

Expected behaviour per case (documented here, checked below):

* legal real input of any layout (empty, length 1, all-NaN, +-inf, zero and
  negative prices, subnormals, int/bool/uint, big-endian, non-contiguous,
  negative strides, unaligned, read-only, memmap, 2-D along either axis,
  zero-stride broadcast views): the result equals the pure-Python reference
  within the kernel's tolerance -- checked through the ``shadow`` backend,
  which raises ShadowMismatch otherwise;
* ``out=`` aliasing or overlapping the input: the same result as without
  aliasing (NumPy copies overlapping operands of gufuncs; the kernels also
  carry the previous value in a register);
* object / string / complex / datetime / timedelta input: TypeError naming
  the dtype; 0-d input: ValueError.
"""

from __future__ import annotations

import numpy as np
import pytest

import tradekernels as tk
from tradekernels import ufuncs
from tradekernels._registry import KERNELS

RNG = np.random.default_rng(7)
WALK = 100.0 * np.cumprod(1.0 + RNG.normal(0.0, 0.02, 257))


def _unaligned(a: np.ndarray) -> np.ndarray:
    buf = np.zeros(a.nbytes + 1, dtype=np.uint8)
    out = np.frombuffer(buf.data, dtype=a.dtype, count=a.size, offset=1)
    out[...] = a
    assert not out.flags.aligned
    return out


def _readonly(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    a.setflags(write=False)
    return a


def _memmap(a: np.ndarray, tmp_path) -> np.ndarray:
    path = tmp_path / "prices.bin"
    a.tofile(path)
    return np.memmap(path, dtype=a.dtype, mode="r", shape=a.shape)


LEGAL = {
    "empty": lambda: np.array([], dtype=np.float64),
    "length-1": lambda: np.array([42.0]),
    "all-nan": lambda: np.full(33, np.nan),
    "inf": lambda: np.array([1.0, np.inf, 2.0, -np.inf, np.inf, 3.0, np.nan, np.inf]),
    "zeros": lambda: np.array([0.0, 0.0, 1.0, 0.0, -0.0, 2.0, 0.0]),
    "negative": lambda: np.array([-1.0, -2.0, -0.5, 3.0, -4.0, 1.0, -1e300]),
    "subnormal": lambda: np.array([5e-324, 1e-310, 2e-320, 1e-300, 4e-323, 0.0, 1e-308]),
    "huge": lambda: np.array([1e308, 1.7e308, 1e-308, 1.7976931348623157e308, 1.0]),
    "int64": lambda: np.array([100, 101, 99, 103, 0, 98], dtype=np.int64),
    "uint8": lambda: np.array([10, 11, 9, 255, 0, 1], dtype=np.uint8),
    "bool": lambda: np.array([True, False, True, True]),
    "python-list": lambda: [100, 101.5, 99, float("nan"), 102],
    "float16": lambda: WALK[:40].astype(np.float16),
    "float32": lambda: WALK.astype(np.float32),
    "big-endian-f8": lambda: WALK.astype(">f8"),
    "big-endian-f4": lambda: WALK.astype(">f4"),
    "strided": lambda: WALK[::3],
    "negative-stride": lambda: WALK[::-1],
    "negative-stride-2": lambda: WALK[::-7],
    "unaligned": lambda: _unaligned(WALK),
    "read-only": lambda: _readonly(WALK),
    "2-D-C": lambda: np.vstack([WALK, WALK[::-1], WALK * 3]),
    "2-D-F": lambda: np.asfortranarray(np.vstack([WALK, WALK[::-1]])),
    "2-D-transposed": lambda: np.vstack([WALK, WALK[::-1]]).T,
    "zero-stride": lambda: np.broadcast_to(np.float64(7.0), (3, 50)),
    "nan-runs": lambda: np.where(RNG.random(257) < 0.3, np.nan, WALK),
}


@pytest.mark.parametrize("case", sorted(LEGAL))
@pytest.mark.parametrize("kernel", KERNELS, ids=[k.name for k in KERNELS])
def test_legal_input_matches_reference(kernel, case):
    fn = getattr(tk, kernel.name)
    x = LEGAL[case]()
    axes = (-1, 0) if np.ndim(x) == 2 else (-1,)
    for axis in axes:
        with tk.backend("shadow"):
            res = fn(x, axis=axis)
        first = res[0] if isinstance(res, tuple) else res
        if kernel.scan:
            assert np.shape(first) == np.shape(x)


@pytest.mark.parametrize("kernel", KERNELS, ids=[k.name for k in KERNELS])
def test_memmap_input(kernel, tmp_path):
    fn = getattr(tk, kernel.name)
    with tk.backend("shadow"):
        fn(_memmap(WALK, tmp_path))


@pytest.mark.parametrize("kernel", [k for k in KERNELS if k.scan], ids=lambda k: k.name)
@pytest.mark.parametrize("shift", [0, 1, -1, 5])
def test_out_aliasing_input(kernel, shift):
    uf = getattr(ufuncs, kernel.name)
    dtype = np.int64 if kernel.outputs[0] == "i" else np.float64
    if dtype == np.int64 and shift == 0:
        pytest.skip("int64 output cannot alias float64 input in place")
    n = 203  # not a multiple of 8: the SIMD loops' tails (AVX-512: 8 lanes) alias too
    buf = np.zeros(n + 10, dtype=np.float64)
    src = buf[5 : 5 + n]
    src[...] = WALK[:n]
    expected = uf(src.copy())
    if dtype == np.int64:
        out = np.zeros(n + 10, dtype=np.int64)[5 + shift : 5 + shift + n]
        uf(src, out=out)
        np.testing.assert_array_equal(out, expected)
        return
    out = buf[5 + shift : 5 + shift + n]
    uf(src, out=out)
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("kernel", [k for k in KERNELS if not k.scan], ids=lambda k: k.name)
def test_huge_zero_stride_reduction_uses_no_memory(kernel):
    """10^8 bars as a zero-stride view: constant prices have no drawdown."""
    uf = getattr(ufuncs, kernel.name)
    x = np.broadcast_to(np.float64(5.0), (100_000_000,))
    res = uf(x)
    depth = res[-1] if isinstance(res, tuple) else res
    assert depth == 0.0


@pytest.mark.parametrize(
    "bad",
    [
        np.array(["1.0", "2.0"]),
        np.array([b"1", b"2"]),
        np.array([1 + 1j, 2 + 0j]),
        np.array([object(), 1.0], dtype=object),
        np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]"),
        np.array([1, 2], dtype="timedelta64[s]"),
        np.zeros(3, dtype=[("a", "f8")]),
    ],
    ids=["str", "bytes", "complex", "object", "datetime", "timedelta", "structured"],
)
@pytest.mark.parametrize("kernel", KERNELS, ids=[k.name for k in KERNELS])
def test_illegal_dtypes_raise_type_error(kernel, bad):
    with pytest.raises(TypeError, match="dtype"):
        getattr(tk, kernel.name)(bad)
    with pytest.raises(TypeError):
        getattr(ufuncs, kernel.name)(bad)


@pytest.mark.parametrize("kernel", KERNELS, ids=[k.name for k in KERNELS])
def test_zero_dim_is_value_error(kernel):
    with pytest.raises(ValueError):
        getattr(tk, kernel.name)(np.float64(1.0))
    with pytest.raises(ValueError):
        getattr(ufuncs, kernel.name)(np.float64(1.0))


# --- order fills ------------------------------------------------------------


def _bars(n=300):
    close = WALK[:n] if n <= WALK.size else 100 * np.cumprod(1 + RNG.normal(0, 0.01, n))
    open_ = np.r_[close[0], close[:-1]]
    return open_, np.maximum(open_, close) * 1.001, np.minimum(open_, close) * 0.999, close


@pytest.mark.parametrize(
    "layout", ["strided", "reversed", "big-endian", "unaligned", "read-only", "nan-bars"]
)
def test_fills_odd_bar_layouts_match_reference(layout):
    o, h, l, c = _bars(200)
    conv = {
        "strided": lambda a: np.repeat(a, 2)[::2],
        "reversed": lambda a: a[::-1].copy()[::-1],
        "big-endian": lambda a: a.astype(">f8"),
        "unaligned": _unaligned,
        "read-only": _readonly,
        "nan-bars": lambda a: np.where(np.arange(a.size) % 7 == 3, np.nan, a),
    }[layout]
    bars = tuple(conv(a) for a in (o, h, l, c))
    starts = np.arange(0, 200, 9)
    with tk.backend("shadow"):
        tk.fill_orders(bars, starts, 1, "limit", c[starts] * 0.98)
        tk.fill_orders(bars, starts, -1, "stop", c[starts] * 0.97)
        tk.fill_orders(bars, starts, 1, "stop_limit", c[starts] * 1.01, limit=c[starts] * 1.02)


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        (dict(side=2), ValueError),
        (dict(kind="iceberg"), ValueError),
        (dict(kind=1.5), (TypeError, ValueError)),
        (dict(start="a"), TypeError),
        (dict(price="x"), TypeError),
        (dict(start=np.array([0, 1, 2]), price=np.array([1.0, 2.0])), ValueError),
    ],
)
def test_fills_bad_orders_raise(kwargs, exc):
    args = dict(start=0, side=1, kind="limit", price=90.0)
    args.update(kwargs)
    with pytest.raises(exc):
        tk.fill_orders(_bars(50), **args)


def test_fills_bad_bars_raise():
    o, h, l, c = _bars(50)
    with pytest.raises(ValueError):
        tk.BarIndex(o, h, l, c[:-1])
    with pytest.raises(TypeError):
        tk.BarIndex(o.astype(complex), h, l, c)
    with pytest.raises((TypeError, ValueError)):
        tk.BarIndex(o.astype(str), h, l, c)


def test_fills_empty_bars_never_fill():
    e = np.array([], dtype=np.float64)
    fi, fp = tk.fill_orders((e, e, e, e), [0, 3], 1, "market", 1.0)
    assert list(fi) == [-1, -1] and np.isnan(fp).all()


# --- sessions ---------------------------------------------------------------

NY = tk.Calendar("America/New_York", "09:30", "16:00")
TS = np.arange(np.datetime64("2024-03-08T00:00"), np.datetime64("2024-03-12T00:00"), np.timedelta64(17, "m"))


@pytest.mark.parametrize(
    "layout",
    [
        "reversed",
        "strided",
        "read-only",
        "unaligned",
        "big-endian",
        "with-nat",
        "unit-s",
        "unit-us",
        "int64-ns",
        "empty",
        "2-D",
    ],
)
@pytest.mark.parametrize("fn", ["session_mask", "session_index", "minutes_into_session"])
def test_sessions_odd_timestamp_layouts_match_reference(fn, layout):
    ns = TS.astype("datetime64[ns]")
    x = {
        "reversed": lambda: ns[::-1],
        "strided": lambda: ns[::3],
        "read-only": lambda: _readonly(ns),
        "unaligned": lambda: _unaligned(ns.view(np.int64)).view("datetime64[ns]"),
        "big-endian": lambda: ns.view(np.int64).astype(">i8"),
        "with-nat": lambda: np.where(np.arange(ns.size) % 5 == 0, np.datetime64("NaT"), ns),
        "unit-s": lambda: ns.astype("datetime64[s]"),
        "unit-us": lambda: ns.astype("datetime64[us]"),
        "int64-ns": lambda: ns.view(np.int64),
        "empty": lambda: ns[:0],
        "2-D": lambda: ns[: (ns.size // 2) * 2].reshape(2, -1),
    }[layout]()
    native = getattr(tk, fn)(x, NY)
    with tk.backend("reference"):
        ref = getattr(tk, fn)(x, NY)
    np.testing.assert_array_equal(native, ref)


@pytest.mark.parametrize(
    "bad",
    [
        np.array([1.5, 2.5]),
        np.array(["2024-01-01"]),
        np.array([1, 2], dtype="timedelta64[s]"),
        np.array([True]),
        np.array([object()], dtype=object),
    ],
    ids=["float", "str", "timedelta", "bool", "object"],
)
def test_sessions_bad_timestamps_raise_type_error(bad):
    with pytest.raises(TypeError):
        tk.session_mask(bad, NY)


def test_sessions_bad_calendars_raise():
    with pytest.raises(ValueError):
        tk.Calendar("Mars/Olympus_Mons", "09:30", "16:00")
    with pytest.raises(ValueError):
        tk.Calendar("America/New_York", "09:30", "16:00", breaks=[("17:00", "18:00")])
    with pytest.raises(ValueError):  # (open == close is a 24-hour session: an early close at the open is not)
        tk.Calendar("America/New_York", "09:30", "09:30", early_closes={"2024-07-03": "09:30"})
