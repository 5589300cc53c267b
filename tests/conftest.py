"""Shared fixtures and helpers for the tradekernels test suite.

Everything here is driven by :data:`tradekernels._registry.KERNELS` (the scan
kernels, read from the C table that ``src/scans/kernels.toml`` declares): a new
declared scan with its twin and golden file (``python tools/make_golden.py``)
is picked up by every parametrised test.

Hypothesis profiles (``HYPOTHESIS_PROFILE`` environment variable):

* ``default``: modest example counts, the whole suite stays well under a
  minute on 2 cores;
* ``ci``: more examples (``.ci/run`` sets it);
* ``dev``: very few examples, for quick edit-test loops.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from tradekernels import ufuncs
from tradekernels._backend import lanes
from tradekernels._registry import KERNELS, Kernel

# --------------------------------------------------------------------------
# Hypothesis profiles
# --------------------------------------------------------------------------

_COMMON = dict(
    deadline=None,  # C calls are fast, the Python reference is not: no flaky timing
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile("default", max_examples=40, **_COMMON)
settings.register_profile("ci", max_examples=150, **_COMMON)
settings.register_profile("dev", max_examples=10, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# --------------------------------------------------------------------------
# Paths, registry views
# --------------------------------------------------------------------------

TESTS_DIR = Path(__file__).resolve().parent
ROOT = TESTS_DIR.parent
GOLDEN_DIR = TESTS_DIR / "golden"
MAKE_GOLDEN = ROOT / "tools" / "make_golden.py"

KERNEL_IDS = [k.name for k in KERNELS]
SCAN_KERNELS = [k for k in KERNELS if k.scan]
REDUCTION_KERNELS = [k for k in KERNELS if not k.scan]
FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))

#: SIMD paths other than the scalar one that this CPU can run (may be empty).
#: Includes the emulated AVX-512 path (SIMDe), which every CPU runs.
FAST_PATHS = [p for p in ufuncs.available_paths() if p != "scalar"]
#: The paths that run on this CPU's own instructions (no emulation), slowest first.
NATIVE_PATHS = [p for p in ufuncs.available_paths() if not p.endswith("_emu")]


def kernel_params(kernels: Sequence[Kernel] = KERNELS):
    """``pytest.mark.parametrize`` arguments for a list of registry rows."""
    return pytest.mark.parametrize("kernel", list(kernels), ids=[k.name for k in kernels])


def registry_kernel(name: str) -> Kernel:
    """A kernel by name, for the kernel-specific (metamorphic / API) tests."""
    for k in KERNELS:
        if k.name == name:
            return k
    pytest.fail(f"kernel {name!r} is not in tradekernels._registry.KERNELS")


# --------------------------------------------------------------------------
# Running kernels
# --------------------------------------------------------------------------


def as_tuple(res) -> Tuple[np.ndarray, ...]:
    return tuple(np.asarray(r) for r in res) if isinstance(res, tuple) else (np.asarray(res),)


def run_ufunc(uf: np.ufunc, x, **kw) -> Tuple[np.ndarray, ...]:
    """Call a raw gufunc (floating-point warnings silenced: inf/NaN are data here)."""
    with np.errstate(all="ignore"):
        return as_tuple(uf(x, **kw))


def native(
    kernel: Kernel, x, path: Optional[str] = None, stream_min_bytes: int = 0, **kw
) -> Tuple[np.ndarray, ...]:
    """The native ufunc of ``kernel`` (default SIMD path, or ``path``, with the streaming
    threshold ``stream_min_bytes`` when > 0) on ``x``."""
    uf = getattr(ufuncs, kernel.name) if path is None else path_ufuncs(path, stream_min_bytes)[kernel.name]
    return run_ufunc(uf, x, **kw)


@functools.cache
def path_ufuncs(path: str, stream_min_bytes: int = 0):
    return ufuncs.for_path(path, stream_min_bytes=stream_min_bytes)


def out_dtype(kind: str, float_dtype) -> np.dtype:
    return np.dtype(float_dtype).newbyteorder("=") if kind == "f" else np.dtype(np.int64)


def reference_apply(kernel: Kernel, x, axis: int = -1) -> Tuple[np.ndarray, ...]:
    """``kernel.reference`` run on every lane of ``x`` along ``axis`` (the one lane
    runner, ``tradekernels._backend.lanes``, called directly, not through the
    ``reference`` backend under test).

    Float outputs have the (native-order) dtype of ``x`` (the twin computes in
    double, the result is rounded once), index outputs are int64.
    """
    x = np.asarray(x)
    fdt = out_dtype("f", x.dtype)
    a = np.moveaxis(x, axis, -1)
    dtypes = [out_dtype(kind, fdt) for kind in kernel.outputs]
    outs = lanes(kernel.reference, [a], dtypes, [0 if kernel.scan else None] * len(dtypes))
    if kernel.scan:
        outs = [np.moveaxis(o, -1, axis) for o in outs]
    return tuple(outs)


# --------------------------------------------------------------------------
# Exact comparison helpers
# --------------------------------------------------------------------------


def _uint_view(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    return a.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize])


def first_difference(actual, expected, ulps: int = 0) -> Optional[Tuple[Tuple[int, ...], object, object]]:
    """The first index where ``actual`` and ``expected`` differ, or None.

    Floats: NaN equals NaN (any payload); otherwise with ``ulps == 0`` the bits
    must be identical (so +0 and -0 differ), with ``ulps > 0`` finite values
    may differ by ``ulps`` units in the last place of the larger magnitude in
    the array's own dtype; infinities must match exactly.  Ints: equality.
    """
    a, e = np.asarray(actual), np.asarray(expected)
    assert a.shape == e.shape, f"shape {a.shape} != expected {e.shape}"
    if a.dtype.kind == "f":
        assert e.dtype.kind == "f"
        an, en = np.isnan(a), np.isnan(e)
        same = an & en
        if a.dtype == e.dtype:
            same |= ~an & ~en & (_uint_view(a) == _uint_view(e)).reshape(a.shape)
        else:
            same |= ~an & ~en & (a == e)
        if ulps:
            with np.errstate(invalid="ignore", over="ignore"):
                fin = np.isfinite(a) & np.isfinite(e)
                big = np.maximum(np.abs(a), np.abs(e)).astype(a.dtype)
                tol = ulps * np.spacing(big).astype(np.float64)
                same |= fin & (np.abs(a.astype(np.float64) - e.astype(np.float64)) <= tol)
    else:
        same = a == e
    if same.all():
        return None
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmin(same)), same.shape)) if a.ndim else ()
    return idx, a[idx], e[idx]


def assert_same(actual, expected, ulps: int = 0, what: str = "") -> None:
    """Dtype, shape and values equal (see :func:`first_difference`)."""
    a, e = np.asarray(actual), np.asarray(expected)
    assert a.dtype == e.dtype, f"{what}: dtype {a.dtype} != expected {e.dtype}"
    assert a.shape == e.shape, f"{what}: shape {a.shape} != expected {e.shape}"
    diff = first_difference(a, e, ulps)
    if diff is not None:
        idx, av, ev = diff
        raise AssertionError(
            f"{what}: first difference at index {idx}: got {av!r}, expected {ev!r} (tolerance {ulps} ulp)"
        )


def assert_outputs_same(actual: Sequence, expected: Sequence, ulps: int = 0, what: str = "") -> None:
    assert len(actual) == len(expected), f"{what}: {len(actual)} outputs, expected {len(expected)}"
    for j, (a, e) in enumerate(zip(actual, expected)):
        assert_same(a, e, ulps if np.asarray(e).dtype.kind == "f" else 0, f"{what} output {j}")


def assert_bits_identical(actual, expected, what: str = "") -> None:
    """Raw bit patterns equal, NaN payloads and zero signs included."""
    a, e = np.asarray(actual), np.asarray(expected)
    assert a.dtype == e.dtype and a.shape == e.shape, f"{what}: {a.dtype}{a.shape} vs {e.dtype}{e.shape}"
    if a.dtype.kind == "f":
        same = (_uint_view(a) == _uint_view(e)).reshape(a.shape)
    else:
        same = a == e
    if not same.all():
        idx = tuple(int(i) for i in np.unravel_index(int(np.argmin(same)), same.shape)) if a.ndim else ()
        raise AssertionError(f"{what}: bits differ first at index {idx}: {a[idx]!r} vs {e[idx]!r}")


# --------------------------------------------------------------------------
# Golden files
# --------------------------------------------------------------------------


@functools.cache
def npz_contents(src) -> Dict[str, Tuple[str, Tuple[int, ...], bytes]]:
    """An .npz file's (path or bytes) arrays as ``{name: (dtype, shape, raw bytes)}``: golden
    files are compared by their arrays, not by the zip container around them (which
    differs between Python versions).  ``tools/make_golden.py`` has the same function."""
    import io

    with np.load(io.BytesIO(src) if isinstance(src, bytes) else src, allow_pickle=False) as z:
        return {k: (z[k].dtype.str, z[k].shape, z[k].tobytes()) for k in z.files}


def golden(name: str) -> Dict[str, np.ndarray]:
    """All arrays of ``tests/golden/<name>.npz`` (loaded without pickle), read-only: the file
    is read once per session (thousands of test items read each file) and no test may
    change what the next one reads."""
    path = GOLDEN_DIR / f"{name}.npz"
    if not path.is_file():
        pytest.fail(f"missing golden file {path}; run `python tools/make_golden.py`")
    return dict(_golden_arrays(path))


@functools.cache
def _golden_arrays(path: Path) -> Tuple[Tuple[str, np.ndarray], ...]:
    with np.load(path, allow_pickle=False) as z:
        items = tuple((key, z[key]) for key in z.files)
    for _, a in items:
        a.flags.writeable = False
    return items


def golden_cases(name: str) -> Tuple[str, ...]:
    return tuple(str(c) for c in golden(name)["cases"])


def golden_case(kernel: Kernel, case: str, f32: bool = False) -> Tuple[np.ndarray, Tuple[np.ndarray, ...]]:
    """(float64 input, expected outputs) for one case; ``f32``: the float32 expectations."""
    g = golden(kernel.name)
    tag = "f32out" if f32 else "out"
    outs = []
    for j, kind in enumerate(kernel.outputs):
        o = g[f"{case}__{tag}{j}"]
        if kind == "f" and f32:
            o = o.astype(np.float32)  # exact: the file holds float32 values
        outs.append(o)
    return g[f"{case}__x"], tuple(outs)


def all_golden_params(kernels: Sequence[Kernel] = KERNELS):
    """(kernel, case) pairs for every case of every golden file."""
    params = []
    for k in kernels:
        path = GOLDEN_DIR / f"{k.name}.npz"
        if not path.is_file():
            params.append(pytest.param(k, "<missing>", id=f"{k.name}-MISSING"))
            continue
        for c in golden_cases(k.name):
            params.append(pytest.param(k, c, id=f"{k.name}-{c}"))
    return params


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------


@pytest.fixture
def rng():
    return np.random.default_rng(20240601)


@pytest.fixture(autouse=True)
def _restore_backend():
    """A test that switches the backend (set_backend) cannot leak it into the next test."""
    import tradekernels

    before = tradekernels.get_backend()
    yield
    if tradekernels.get_backend() != before:
        tradekernels.set_backend(before)


def pytest_configure(config):
    # tests/test_dask.py: the LocalCluster(processes=True) test; deselect with -m "not distributed"
    config.addinivalue_line("markers", "distributed: starts a dask.distributed LocalCluster (a few seconds)")
