"""Golden files: native kernels, reference twins and SIMD paths against tests/golden/*.npz.

The golden files are produced only by ``python tools/make_golden.py`` from
the reference twins.  Here:

* the native float64 kernels must reproduce them (within the registry's ulps),
* the native float32 kernels must reproduce the float32 expectations (the twin
  run on the float32-cast input, rounded once to float32),
* the twins themselves must still reproduce them, bit for bit (changing a twin
  without regenerating fails),
* every SIMD path must give the scalar path's bits, on every golden case and
  on random data (lengths 0..40 and 10_000, contiguous and strided).
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

from conftest import (
    FAST_PATHS,
    GOLDEN_DIR,
    MAKE_GOLDEN,
    all_golden_params,
    as_tuple,
    assert_bits_identical,
    assert_outputs_same,
    assert_same,
    first_difference,
    golden,
    golden_case,
    golden_cases,
    kernel_params,
    native,
    path_ufuncs,
    reference_apply,
)
from tradekernels import _core, ufuncs
from tradekernels._registry import KERNELS, WINDOWED
from tradekernels.scans import golden as scans_golden

GOLDEN = all_golden_params()

REQUIRED_CASES = {
    "empty",
    "len1",
    "len2",
    "nan_run_middle",
    "leading_nan",
    "all_nan",
    "pos_inf",
    "neg_inf",
    "zero_prices",
    "zero_prev_price",
    "negative_prices",
    "new_peak_at_last_bar",
    "never_recovered",
    "recovered",
    "exact_retest_of_peak",
    "flat",
    "monotonic_increasing",
    "returns_minus1_and_nan",
    "random_walk_2000",
    "matrix_5x300",
    *(f"len{n:02d}_walk" for n in range(7, 18)),
}

paths_param = pytest.mark.parametrize(
    "path",
    FAST_PATHS or [pytest.param("none", marks=pytest.mark.skip(reason="only the scalar path on this CPU"))],
)


def _load_make_golden():
    if not MAKE_GOLDEN.is_file():
        pytest.skip("tools/make_golden.py is not in this checkout")
    spec = importlib.util.spec_from_file_location("make_golden", MAKE_GOLDEN)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# --------------------------------------------------------------------------
# The files themselves
# --------------------------------------------------------------------------


def test_one_golden_file_per_registry_kernel():
    on_disk = {p.stem for p in GOLDEN_DIR.glob("*.npz")}
    assert on_disk == {k.name for k in KERNELS + WINDOWED}, "run `python tools/make_golden.py`"


@kernel_params()
def test_golden_file_layout(kernel):
    g = golden(kernel.name)
    assert str(g["kernel"]) == kernel.name
    cases = golden_cases(kernel.name)
    assert REQUIRED_CASES <= set(cases), sorted(REQUIRED_CASES - set(cases))
    assert len(set(cases)) == len(cases)
    expected_keys = ["kernel", "cases"]
    for c in cases:
        expected_keys.append(f"{c}__x")
        expected_keys += [f"{c}__out{j}" for j in range(len(kernel.outputs))]
        expected_keys += [f"{c}__f32out{j}" for j in range(len(kernel.outputs))]
    assert list(g) == expected_keys
    for c in cases:
        x = g[f"{c}__x"]
        assert x.dtype == np.float64 and x.ndim >= 1
        for j, kind in enumerate(kernel.outputs):
            for tag in ("out", "f32out"):
                o = g[f"{c}__{tag}{j}"]
                assert o.dtype == (np.float64 if kind == "f" else np.int64), (c, tag, j, o.dtype)
                assert o.shape == (x.shape if kernel.scan else x.shape[:-1]), (c, tag, j, o.shape)
                if kind == "f" and tag == "f32out":
                    with np.errstate(over="ignore"):
                        assert_same(
                            o.astype(np.float32).astype(np.float64), o, what=f"{c}: not float32 values"
                        )


def test_golden_cases_cover_block_sizes_and_2d():
    cases = golden_cases(KERNELS[0].name)
    g = golden(KERNELS[0].name)
    lengths = {g[f"{c}__x"].shape[-1] for c in cases}
    assert {0, 1, 2} | set(range(7, 18)) <= lengths
    assert g["matrix_5x300__x"].shape == (5, 300)
    assert g["random_walk_2000__x"].shape == (2000,)


def test_golden_arrays_are_what_the_generator_makes():
    """The committed files equal a fresh run of the generator (inputs, outputs, key order)."""
    cases = scans_golden.build_cases()
    for k in KERNELS:
        fresh = scans_golden.build_arrays(k, cases)
        stored = golden(k.name)
        assert list(fresh) == list(stored), f"{k.name}: keys differ; run `python tools/make_golden.py`"
        for key, arr in fresh.items():
            if arr.dtype.kind in "fi":
                assert_bits_identical(stored[key], arr, what=f"{k.name}:{key} (regenerate golden files?)")
            else:
                assert stored[key].tolist() == arr.tolist(), key


# The generator runs the pure-Python twins only (seconds per build): built once for the two
# tests below, and not under the sanitizers (no C code runs; .ci/run's `make_golden.py --check`
# and the plain suite cover it).
_python_only = pytest.mark.skipif(
    bool(os.environ.get("TK_SANITIZE")), reason="the golden generator runs no C code (pure-Python twins)"
)


@pytest.fixture(scope="module")
def built_golden():
    return _load_make_golden().build_all()


@_python_only
def test_generator_is_byte_deterministic(tmp_path, built_golden):
    mg = _load_make_golden()
    first = built_golden
    second = mg.build_all()
    assert first == second
    assert {f"{k.name}.npz" for k in KERNELS + WINDOWED} <= set(first)
    # main() writes exactly these bytes, and --check accepts what it wrote, refuses a stale
    # or a missing file (the files built once above: each build takes seconds)
    assert mg.main(["--out-dir", str(tmp_path)], files=first) == 0
    assert {str(p.relative_to(tmp_path)): p.read_bytes() for p in tmp_path.rglob("*.npz")} == first
    assert mg.main(["--check", "--out-dir", str(tmp_path)], files=first) == 0
    # the same arrays in another zip container (another Python writes other zip headers):
    # fresh, and not rewritten; one bit changed: stale
    f0 = tmp_path / f"{KERNELS[0].name}.npz"
    with np.load(f0) as z:
        arrays = {k: z[k] for k in z.files}
    np.savez_compressed(f0, **arrays)
    other = f0.read_bytes()
    assert other != first[f0.name]
    assert mg.main(["--check", "--out-dir", str(tmp_path)], files=first) == 0
    assert mg.main(["--out-dir", str(tmp_path)], files=first) == 0 and f0.read_bytes() == other
    k0 = next(k for k, v in arrays.items() if v.dtype.kind == "f" and v.size)
    arrays[k0] = arrays[k0].copy()
    arrays[k0].view(np.uint8)[0] ^= 1
    np.savez(f0, **arrays)
    assert mg.main(["--check", "--out-dir", str(tmp_path)], files=first) == 1
    (tmp_path / f"{KERNELS[0].name}.npz").write_bytes(b"stale")
    assert mg.main(["--check", "--out-dir", str(tmp_path)], files=first) == 1
    (tmp_path / f"{KERNELS[0].name}.npz").unlink()
    assert mg.main(["--check", "--out-dir", str(tmp_path)], files=first) == 1


@_python_only
def test_committed_golden_files_are_fresh(built_golden):
    """``tools/make_golden.py --check`` on tests/golden itself: every family's file is
    what its generator (the twin alone) makes, and no file is left over."""
    assert _load_make_golden().main(["--check"], files=built_golden) == 0


# --------------------------------------------------------------------------
# Native and reference against the golden values
# --------------------------------------------------------------------------


@pytest.mark.parametrize("kernel, case", GOLDEN)
def test_native_float64_matches_golden(kernel, case):
    x, expected = golden_case(kernel, case)
    assert_outputs_same(native(kernel, x), expected, kernel.ulps, f"{kernel.name}[{case}] float64")


@pytest.mark.parametrize("kernel, case", GOLDEN)
def test_native_float32_matches_golden(kernel, case):
    x, expected = golden_case(kernel, case, f32=True)
    with np.errstate(over="ignore"):
        x32 = x.astype(np.float32)
    assert_outputs_same(native(kernel, x32), expected, kernel.ulps, f"{kernel.name}[{case}] float32")


@pytest.mark.parametrize("kernel, case", GOLDEN)
def test_reference_twin_matches_golden(kernel, case):
    """Editing a twin without regenerating the golden files fails here."""
    x, expected = golden_case(kernel, case)
    assert_outputs_same(reference_apply(kernel, x), expected, 0, f"twin {kernel.name}[{case}]")
    x, expected32 = golden_case(kernel, case, f32=True)
    with np.errstate(over="ignore"):
        x32 = x.astype(np.float32)
    assert_outputs_same(reference_apply(kernel, x32), expected32, 0, f"twin {kernel.name}[{case}] float32")


@kernel_params()
def test_native_matches_golden_along_axis0(kernel):
    """The 2-D golden case, transposed and run with axis=0 (outer loop over columns)."""
    x, expected = golden_case(kernel, "matrix_5x300")
    got = native(kernel, np.asfortranarray(x.T), axis=0)
    if kernel.scan:
        expected = tuple(e.T for e in expected)
    assert_outputs_same(got, expected, kernel.ulps, f"{kernel.name}[matrix_5x300.T, axis=0]")


# --------------------------------------------------------------------------
# SIMD paths give the scalar path's bits
# --------------------------------------------------------------------------


def test_available_paths():
    paths = ufuncs.available_paths()
    assert paths[0] == "scalar"
    assert len(set(paths)) == len(paths)
    assert set(paths) <= {"scalar", "avx2", "avx512", "avx512_emu"}
    # simde-py is a build requirement: the emulated AVX-512 path is always there
    assert "avx512_emu" in paths
    assert paths.index("avx512_emu") == 1  # scalar, emulated, then native paths fastest last
    assert ufuncs.simd_path in paths


@paths_param
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kernel, case", GOLDEN)
def test_simd_path_matches_scalar_on_golden(path, dtype, kernel, case):
    x, _ = golden_case(kernel, case)
    with np.errstate(over="ignore"):
        x = x.astype(dtype)
    for j, (a, b) in enumerate(zip(native(kernel, x, path=path), native(kernel, x, path="scalar"))):
        assert_bits_identical(a, b, f"{kernel.name}[{case}] {np.dtype(dtype)} {path} vs scalar, output {j}")


_SPECIALS = np.array([np.nan, 0.0, -0.0, np.inf, -np.inf, 1.0, -1.0, 2.0, 100.0, 5e-324])


def _random_series(rng, n: int, style: int) -> np.ndarray:
    if style == 0:  # geometric walk with NaN gaps
        x = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, n))
        x[rng.random(n) < 0.05] = np.nan
    elif style == 1:  # small integers: many exact ties and retests of the peak
        x = np.round(rng.normal(0.0, 3.0, n))
    elif style == 2:  # anything goes
        x = rng.normal(0.0, 10.0, n)
        m = rng.random(n) < 0.3
        x[m] = rng.choice(_SPECIALS, int(m.sum()))
    else:  # runs of one value (whole SIMD blocks without a new peak), specials included
        values = np.concatenate([_SPECIALS, rng.normal(0.0, 10.0, 6)])
        lengths = rng.integers(1, 70, size=max(1, n // 8))
        x = np.repeat(rng.choice(values, lengths.size), lengths)[:n]
        x = np.concatenate([x, np.full(n - x.size, 1.0)])
    return x


def _layouts(x: np.ndarray):
    """Contiguous, positive-strided, negative-strided and offset views with the same values."""
    n = x.shape[-1]
    yield "contiguous", np.ascontiguousarray(x)
    buf = np.full(x.shape[:-1] + (3 * n + 1,), -7.0, dtype=x.dtype)
    buf[..., 1::3] = x
    yield "stride3", buf[..., 1::3]
    rev = np.ascontiguousarray(x[..., ::-1])
    yield "reversed", rev[..., ::-1]
    off = np.empty(x.shape[:-1] + (n + 1,), dtype=x.dtype)
    off[..., 1:] = x
    yield "offset1", off[..., 1:]


def _check_paths_agree(kernel, path, x, what):
    ref = native(kernel, np.ascontiguousarray(x), path="scalar")
    for name, view in _layouts(x):
        for p in (path, "scalar"):
            got = native(kernel, view, path=p)
            for j, (a, b) in enumerate(zip(got, ref)):
                assert_bits_identical(a, b, f"{kernel.name} {what} {name} {p}, output {j}")
    if kernel.scan:
        # strided output for contiguous input: the fast path must fall back correctly
        for j in range(len(kernel.outputs)):
            out_buf = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), dtype=ref[j].dtype)
            res = native(kernel, np.ascontiguousarray(x), path=path, out=(out_buf[..., ::2],))
            assert_bits_identical(res[j], ref[j], f"{kernel.name} {what} strided out")


@paths_param
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@kernel_params()
def test_simd_path_matches_scalar_random_short(path, dtype, kernel):
    rng = np.random.default_rng(1234)
    for n in range(0, 41):
        for style in range(4):
            with np.errstate(over="ignore"):
                x = _random_series(rng, n, style).astype(dtype)
            _check_paths_agree(kernel, path, x, f"n={n} style={style} {np.dtype(dtype)}")


@paths_param
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@kernel_params()
def test_simd_path_matches_scalar_random_long(path, dtype, kernel):
    rng = np.random.default_rng(99)
    for style in range(4):
        with np.errstate(over="ignore"):
            x = _random_series(rng, 10_000, style).astype(dtype)
        _check_paths_agree(kernel, path, x, f"n=10000 style={style} {np.dtype(dtype)}")
    # 2-D: the outer loop hands the core function one row after another
    with np.errstate(over="ignore"):
        x2 = np.stack([_random_series(rng, 1_003, s) for s in (0, 1, 2, 0)]).astype(dtype)
    _check_paths_agree(kernel, path, x2, f"2-D {np.dtype(dtype)}")


# --------------------------------------------------------------------------
# The comparison helpers can fail (every assertion above depends on them)
# --------------------------------------------------------------------------


def test_comparison_helpers_detect_differences():
    one = np.array([1.0, np.nan, 0.0])
    assert first_difference(one, one.copy()) is None
    nudged = one.copy()
    nudged[0] = np.nextafter(1.0, 2.0)
    assert first_difference(nudged, one)[0] == (0,)
    assert first_difference(nudged, one, ulps=1) is None
    nudged[0] = np.nextafter(nudged[0], 2.0)
    assert first_difference(nudged, one, ulps=1)[0] == (0,)
    signed = one.copy()
    signed[2] = -0.0
    assert first_difference(signed, one)[0] == (2,)
    assert first_difference(np.array([0.0, np.nan]), np.array([np.nan, np.nan]))[0] == (0,)
    assert first_difference(np.array([np.inf]), np.array([np.finfo(float).max]), ulps=5)[0] == (0,)
    assert first_difference(np.array([3, 4]), np.array([3, 5]))[0] == (1,)
    with pytest.raises(AssertionError, match="dtype"):
        assert_same(one.astype(np.float32), one)
    with pytest.raises(AssertionError, match="index"):
        assert_outputs_same((np.array([1, 2]),), (np.array([1, 3]),))
    payload = np.array([np.nan])
    other = payload.view(np.uint64) ^ np.uint64(1)
    assert_same(other.view(np.float64), payload)  # NaN == NaN
    with pytest.raises(AssertionError, match="bits differ"):
        assert_bits_identical(other.view(np.float64), payload)


# --------------------------------------------------------------------------
# Large outputs (the fast paths switch to streaming stores) and FP flags
# --------------------------------------------------------------------------

#: past the streaming-store threshold (half the detected last-level cache), odd tail
# Past the streaming threshold: the large tests' ufuncs stream from STREAM_MIN bytes on
# (ufuncs.for_path(path, stream_min_bytes=)), so LARGE_N does not follow the machine's cache
# (a VM reporting a 480 MiB L3 made it 31 million elements).
STREAM_MIN = 1 << 19
LARGE_N = STREAM_MIN // 8 * 2 + 13


def _sysfs_llc_bytes():
    """The largest data/unified cache of CPU 0 as Linux reports it, or None."""
    import glob

    best = None
    for d in glob.glob("/sys/devices/system/cpu/cpu0/cache/index*"):
        try:
            with open(f"{d}/type") as f:
                if f.read().strip() == "Instruction":
                    continue
            with open(f"{d}/size") as f:
                size = f.read().strip()
        except OSError:
            continue
        mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(size[-1:], 1)
        size = int(size.rstrip("KMG")) * mult
        best = size if best is None or size > best else best
    return best


def test_a_streaming_threshold_can_be_given():
    """``for_path(path, stream_min_bytes=)``: the threshold the large tests use (0: the
    detected one); below 4096 bytes refused."""
    assert len(ufuncs.for_path("scalar", stream_min_bytes=STREAM_MIN)) == len(ufuncs.for_path("scalar"))
    for bad in (1, 4095, -1):
        with pytest.raises(ValueError, match="stream_min"):
            ufuncs.for_path("scalar", stream_min_bytes=bad)


def test_stream_threshold_follows_the_detected_cache():
    """Streaming stores start at half the last-level cache (input + output no
    longer fit), detected at run time, not at a fixed n."""
    llc = _sysfs_llc_bytes()
    if llc is None:
        pytest.skip("no /sys cache information")
    assert _core.stream_min_bytes() == max(1 << 20, llc // 2 + 1)


@pytest.fixture(scope="module")
def large_walk():
    rng = np.random.default_rng(77)
    x = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.01, LARGE_N))
    x[rng.random(LARGE_N) < 0.001] = np.nan
    return x


@paths_param
@kernel_params()
def test_simd_path_matches_scalar_large(path, kernel, large_walk):
    """Past the streaming threshold: misaligned outputs (head loop before aligned streaming
    stores) and in place."""
    x = large_walk
    ref = native(kernel, x, path="scalar")
    got = native(kernel, x, path=path, stream_min_bytes=STREAM_MIN)
    for j, (a, b) in enumerate(zip(got, ref)):
        assert_bits_identical(a, b, f"{kernel.name} n={LARGE_N} output {j}")
    if not kernel.scan:
        return
    for r in ref:
        for offset in range(8):  # output start 0, 8, ..., 56 bytes past an allocation
            buf = np.zeros(LARGE_N + 8, dtype=r.dtype)
            out = buf[offset : offset + LARGE_N]
            native(kernel, x, path=path, stream_min_bytes=STREAM_MIN, out=(out,))
            assert_bits_identical(out, r, f"{kernel.name} out offset {offset}")
        if r.dtype == x.dtype:
            y = x.copy()
            native(kernel, y, path=path, stream_min_bytes=STREAM_MIN, out=(y,))
            assert_bits_identical(y, r, f"{kernel.name} in place")


@pytest.mark.parametrize("path", ufuncs.available_paths())
@kernel_params()
def test_kernels_never_set_numpy_fp_warnings(path, kernel):
    """0/0, x/0, inf/inf and log(0) happen inside the kernels but must not reach np.errstate."""
    for case in golden_cases(kernel.name):
        x, _ = golden_case(kernel, case)
        with np.errstate(over="ignore"):
            x32 = x.astype(np.float32)
        for arr in (x, x32, x[..., ::-1]):
            with np.errstate(all="raise"):
                res = as_tuple(path_ufuncs(path)[kernel.name](arr))  # no errstate("ignore") here
            assert len(res) == len(kernel.outputs)


def test_fp_warning_check_can_fail():
    """Guard for the test above: plain NumPy division by zero does raise under errstate."""
    with pytest.raises(FloatingPointError):
        with np.errstate(all="raise"):
            np.array([1.0]) / np.array([0.0])
