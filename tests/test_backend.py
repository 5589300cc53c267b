"""Backends (native / reference / shadow), the environment variables read at import, SIMD selection."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import threading

import numpy as np
import pandas as pd
import pytest

import tradekernels as tk
from conftest import (
    FAST_PATHS,
    NATIVE_PATHS,
    assert_outputs_same,
    assert_same,
    golden_case,
    kernel_params,
    native,
    reference_apply,
)
from tradekernels import _backend, _registry, ufuncs


def _outputs(res):
    return tuple(np.asarray(v) for v in res) if isinstance(res, tuple) else (np.asarray(res),)


def _python(code: str, **env_overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEKERNELS_")}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def _sample(rng):
    x = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.03, (3, 64)), axis=1)
    x[0, 5] = np.nan
    x[1, :3] = np.nan
    x[2, 40] = x[2, :40].max()  # exact retest
    return x


# --------------------------------------------------------------------------
# Switching
# --------------------------------------------------------------------------


def test_backends_constant():
    assert tk.BACKENDS == ("native", "reference", "shadow")


def test_set_and_get_backend():
    start = tk.get_backend()
    try:
        for name in tk.BACKENDS:
            tk.set_backend(name)
            assert tk.get_backend() == name
        tk.set_backend("  Reference ")  # trimmed, case-insensitive
        assert tk.get_backend() == "reference"
    finally:
        tk.set_backend(start)


def test_backend_context_manager_restores():
    tk.set_backend("native")
    with tk.backend("reference"):
        assert tk.get_backend() == "reference"
        with tk.backend("shadow"):
            assert tk.get_backend() == "shadow"
        assert tk.get_backend() == "reference"
    assert tk.get_backend() == "native"


def test_backend_context_manager_restores_on_error():
    tk.set_backend("native")
    with pytest.raises(ZeroDivisionError):
        with tk.backend("shadow"):
            1 / 0  # noqa: B018
    assert tk.get_backend() == "native"


@pytest.mark.parametrize("bad", ["nope", "", "native2", None, 3])
def test_invalid_backend_name(bad):
    tk.set_backend("native")
    with pytest.raises(ValueError, match="backend"):
        tk.set_backend(bad)
    with pytest.raises(ValueError, match="backend"):
        with tk.backend(bad):
            pass  # pragma: no cover
    assert tk.get_backend() == "native"


def test_backend_is_per_thread():
    tk.set_backend("native")
    seen = {}

    def worker():
        tk.set_backend("reference")
        seen["thread"] = tk.get_backend()

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen["thread"] == "reference"
    assert tk.get_backend() == "native"


# --------------------------------------------------------------------------
# TRADEKERNELS_BACKEND at import
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["native", "reference", "shadow", "SHADOW"])
def test_env_var_selects_backend_at_import(name):
    r = _python("import tradekernels as tk; print(tk.get_backend())", TRADEKERNELS_BACKEND=name)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == name.lower()


def test_env_var_unset_or_empty_means_native():
    assert _python("import tradekernels as tk; print(tk.get_backend())").stdout.strip() == "native"
    r = _python("import tradekernels as tk; print(tk.get_backend())", TRADEKERNELS_BACKEND="")
    assert r.stdout.strip() == "native", r.stderr


def test_env_var_backend_is_used():
    code = (
        "import tradekernels as tk, tradekernels.ufuncs as u\n"
        "u.drawdown = None  # the native ufunc must not be needed\n"
        "print(tk.drawdown([1.0, 2.0, 1.0]).tolist())\n"
    )
    r = _python(code, TRADEKERNELS_BACKEND="reference")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[0.0, 0.0, -0.5]"
    r = _python(code, TRADEKERNELS_BACKEND="native")
    assert r.returncode != 0 and "TypeError" in r.stderr  # native does call the (removed) ufunc


def test_invalid_env_var_warns_and_falls_back():
    """An unknown TRADEKERNELS_BACKEND does not break the import: a warning names
    the variable and the valid values, and the backend is native."""
    r = _python("import tradekernels as tk; print(tk.get_backend())", TRADEKERNELS_BACKEND="turbo")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "native"
    assert "RuntimeWarning" in r.stderr and "TRADEKERNELS_BACKEND='turbo'" in r.stderr
    assert "native, reference, shadow" in r.stderr


# --------------------------------------------------------------------------
# reference backend == native
# --------------------------------------------------------------------------


@kernel_params()
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("axis", [-1, 0])
def test_reference_backend_equals_native(kernel, dtype, axis, rng):
    x = _sample(rng).astype(dtype)
    fn = getattr(tk, kernel.name)
    nat = _outputs(fn(x, axis=axis))
    with (
        tk.backend("reference"),
        np.errstate(over="ignore"),
    ):  # see test_reference_backend_float32_overflow_warning
        ref = _outputs(fn(x, axis=axis))
    assert_outputs_same(ref, nat, kernel.ulps, f"{kernel.name} reference vs native")
    assert_outputs_same(ref, reference_apply(kernel, x, axis=axis), 0, f"{kernel.name} reference backend")


@kernel_params()
def test_reference_backend_on_golden_and_pandas(kernel):
    x, expected = golden_case(kernel, "matrix_5x300")
    with tk.backend("reference"):
        got = _outputs(getattr(tk, kernel.name)(x))
        frame = getattr(tk, kernel.name)(pd.DataFrame(x.T))
    assert_outputs_same(got, expected, 0, kernel.name)
    nat_frame = getattr(tk, kernel.name)(pd.DataFrame(x.T))
    assert type(frame) is type(nat_frame)
    exact = kernel.ulps == 0  # else labels and dtypes here, the values to the ulps below
    if isinstance(frame, pd.DataFrame):
        pd.testing.assert_frame_equal(frame, nat_frame, check_exact=exact)
    else:
        pd.testing.assert_series_equal(frame, nat_frame, check_exact=exact)
    assert_same(frame.to_numpy(), nat_frame.to_numpy(), kernel.ulps, kernel.name)


@kernel_params()
def test_reference_backend_fills_out(kernel, rng):
    x = _sample(rng)
    expected = native(kernel, x)
    outs = tuple(np.full_like(e, -3) for e in expected)
    with tk.backend("reference"):
        res = getattr(tk, kernel.name)(x, out=outs if len(outs) > 1 else outs[0])
    for r, o in zip(res if isinstance(res, tuple) else (res,), outs):
        assert r is o
    assert_outputs_same(outs, expected, kernel.ulps, kernel.name)


@pytest.mark.parametrize("name", ["reference", "shadow"])
def test_reference_backend_float32_overflow_is_silent(name):
    import warnings

    x = np.array([1e30, 1e30, 1e30], dtype=np.float32)  # (1 + 1e30)**2 overflows float32
    expected = tk.cumulative_returns(x)
    assert np.isinf(expected[-1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with tk.backend(name):
            got = tk.cumulative_returns(x)
    assert_outputs_same((got,), (expected,))


# --------------------------------------------------------------------------
# shadow backend
# --------------------------------------------------------------------------


@kernel_params()
def test_shadow_passes_when_native_is_right(kernel, rng):
    x = _sample(rng)
    with tk.backend("shadow"):
        got = _outputs(getattr(tk, kernel.name)(x))
        got0 = _outputs(getattr(tk, kernel.name)(x, axis=0))
    assert_outputs_same(got, native(kernel, x), 0, kernel.name)
    assert_outputs_same(got0, native(kernel, x, axis=0), 0, kernel.name)


def _wrong(uf, output: int, index, delta_ulps: int):
    """A stand-in for ``uf`` whose output ``output`` is off at ``index``."""

    def fn(x, **kw):
        res = uf(x, **kw)
        outs = list(res) if isinstance(res, tuple) else [res]
        o = outs[output]
        if o.dtype.kind == "f":
            v = o[index]
            for _ in range(delta_ulps):
                v = np.nextafter(v, np.inf)
            o[index] = v
        else:
            o[index] += delta_ulps
        return tuple(outs) if isinstance(res, tuple) else outs[0]

    return fn


@kernel_params()
def test_shadow_reports_kernel_output_and_first_index(kernel, rng, monkeypatch):
    x = _sample(rng)
    uf = getattr(ufuncs, kernel.name)
    j = len(kernel.outputs) - 1
    index = (1, 7) if kernel.scan else (1,)
    monkeypatch.setattr(ufuncs, kernel.name, _wrong(uf, j, index, kernel.ulps + 2))
    with tk.backend("shadow"), pytest.raises(tk.ShadowMismatch) as info:
        getattr(tk, kernel.name)(x)
    err = info.value
    assert isinstance(err, AssertionError)
    assert err.kernel == kernel.name and err.output == j and err.index == index
    assert kernel.name in str(err) and str(index) in str(err)
    assert err.native != err.reference
    # the same wrong ufunc goes unnoticed by the native backend
    with tk.backend("native"):
        getattr(tk, kernel.name)(x)


@kernel_params([k for k in _registry.KERNELS if k.ulps > 0])
def test_shadow_tolerates_the_registry_ulps(kernel, rng, monkeypatch):
    x = _sample(rng)
    index = (1, 7) if kernel.scan else (1,)
    j = kernel.outputs.index("f")
    monkeypatch.setattr(ufuncs, kernel.name, _wrong(getattr(ufuncs, kernel.name), j, index, kernel.ulps))
    with tk.backend("shadow"):
        getattr(tk, kernel.name)(x)  # within tolerance: no error


def test_shadow_reports_the_first_of_several_differences(rng, monkeypatch):
    x = _sample(rng)[0]
    real = ufuncs.drawdown

    def wrong(a, **kw):
        r = real(a, **kw)
        r[[9, 30, 50]] -= 0.25
        return r

    monkeypatch.setattr(ufuncs, "drawdown", wrong)
    with tk.backend("shadow"), pytest.raises(tk.ShadowMismatch) as info:
        tk.drawdown(x)
    assert info.value.kernel == "drawdown" and info.value.index == (9,)


@kernel_params()
def test_shadow_detects_a_wrong_reference(kernel, rng, monkeypatch):
    """Patching the registry's twin (instead of the ufunc) is caught just the same."""
    x = _sample(rng)
    twin = kernel.chunk_reference

    def wrong_twin(values, state):
        outs, st = twin(values, state)
        if kernel.scan:
            r = list(outs[0])
            r[4] = r[4] + 1 if isinstance(r[4], int) else 123.0
            return (r,) + tuple(outs[1:]), st
        r = list(outs)
        r[0] = r[0] + 1 if isinstance(r[0], int) else 123.0
        return tuple(r), st

    monkeypatch.setattr(
        importlib.import_module(f"tradekernels.{kernel.family}.reference"),
        kernel.reference_name + "_chunk",
        wrong_twin,
    )
    with tk.backend("shadow"), pytest.raises(tk.ShadowMismatch) as info:
        getattr(tk, kernel.name)(x)
    assert info.value.kernel == kernel.name and info.value.output == 0
    assert info.value.index == ((0, 4) if kernel.scan else (0,))
    # and the reference backend now returns the wrong values
    with tk.backend("reference"):
        ref = _outputs(getattr(tk, kernel.name)(x))
    assert ref[0][info.value.index] != native(kernel, x)[0][info.value.index]


@pytest.mark.parametrize("ulps", [0, 2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compare_nan_equals_nan_only(dtype, ulps):
    """compare's contract: NaN matches NaN, and nothing else (either side)."""
    nan_first, number = np.array([1.0, np.nan, 1.0], dtype=dtype), np.array([1.0, 0.5, 1.0], dtype=dtype)
    _backend.compare("k", [nan_first], [nan_first.copy()], ulps)
    for nat, ref in ((nan_first, number), (number, nan_first)):
        with pytest.raises(tk.ShadowMismatch) as info:
            _backend.compare("k", [nat], [ref], ulps)
        assert info.value.index == (1,)


@kernel_params([k for k in _registry.KERNELS if k.outputs[0] == "f"])
def test_shadow_detects_a_nan_where_the_other_has_a_number(kernel, rng, monkeypatch):
    """A twin giving NaN where native has a number is a mismatch; so is the converse."""
    x = _sample(rng)
    index = (0, 4) if kernel.scan else (0,)
    assert not np.isnan(native(kernel, x)[0][index])
    twin = kernel.chunk_reference

    def nan_twin(values, state):
        outs, st = twin(values, state)
        if kernel.scan:
            r = list(outs[0])
            r[4] = float("nan")
            return (r,) + tuple(outs[1:]), st
        return (float("nan"),) + tuple(outs[1:]), st

    module = importlib.import_module(f"tradekernels.{kernel.family}.reference")
    with monkeypatch.context() as m:
        m.setattr(module, kernel.reference_name + "_chunk", nan_twin)
        with tk.backend("shadow"), pytest.raises(tk.ShadowMismatch) as info:
            getattr(tk, kernel.name)(x)
    assert info.value.output == 0 and info.value.index == index
    uf = getattr(ufuncs, kernel.name)

    def nan_native(*a, **kw):
        res = uf(*a, **kw)
        outs = list(res) if isinstance(res, tuple) else [res]
        outs[0][index] = np.nan
        return tuple(outs) if isinstance(res, tuple) else outs[0]

    monkeypatch.setattr(ufuncs, kernel.name, nan_native)
    with tk.backend("shadow"), pytest.raises(tk.ShadowMismatch) as info:
        getattr(tk, kernel.name)(x)
    assert info.value.output == 0 and info.value.index == index


def test_shadow_handles_nan_inf_and_float32(rng):
    x = np.array([np.nan, 0.0, 5.0, 0.0, -1.0, np.inf, 3.0, -np.inf, np.nan, 2.0], dtype=np.float32)
    with tk.backend("shadow"):
        for k in _registry.KERNELS:
            got = _outputs(getattr(tk, k.name)(x))
            assert_outputs_same(got, native(k, x), 0, k.name)


# --------------------------------------------------------------------------
# TRADEKERNELS_SIMD
# --------------------------------------------------------------------------

_SIMD_PROBE = (
    "import numpy as np, tradekernels as tk\n"
    "from tradekernels import ufuncs\n"
    "print(tk.simd_path, ufuncs.simd_path, ufuncs.drawdown(np.array([1.0, 2.0, 1.0])).tolist())\n"
)


@pytest.mark.parametrize("path", ufuncs.available_paths())
def test_simd_env_var_selects_path(path):
    r = _python(_SIMD_PROBE, TRADEKERNELS_SIMD=path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [path, path, "[0.0,", "0.0,", "-0.5]"]
    r = _python(_SIMD_PROBE, TRADEKERNELS_SIMD=f" {path.upper()} ")
    assert r.stdout.split()[:2] == [path, path], r.stderr


@pytest.mark.parametrize("value", ["auto", ""])
def test_simd_auto_is_the_fastest_path(value):
    r = _python(_SIMD_PROBE, TRADEKERNELS_SIMD=value)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == NATIVE_PATHS[-1]


def test_auto_never_picks_the_emulated_path():
    assert NATIVE_PATHS and not any(p.endswith("_emu") for p in NATIVE_PATHS)
    assert not ufuncs.simd_path.endswith("_emu") or os.environ.get("TRADEKERNELS_SIMD")


@pytest.mark.parametrize("value", ["nonsense", "sse", "avx2 avx2", "scalar,avx2", "\u00e9"])
def test_simd_env_var_invalid_warns_and_falls_back(value):
    """Any value naming no path this CPU can run: the import works, warns once naming the
    variable, the value and the valid values, and uses the default (fastest) path."""
    r = _python("import warnings\nwarnings.simplefilter('always')\n" + _SIMD_PROBE, TRADEKERNELS_SIMD=value)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [ufuncs.available_paths()[-1]] * 2 + ["[0.0,", "0.0,", "-0.5]"]
    assert r.stderr.count("RuntimeWarning") == 1, r.stderr
    assert f"TRADEKERNELS_SIMD={value!r}" in r.stderr
    assert "auto, " + ", ".join(ufuncs.available_paths()) in r.stderr


@pytest.mark.skipif("avx2" in ufuncs.available_paths(), reason="this CPU has AVX2")
def test_simd_env_var_unsupported_path_warns():  # pragma: no cover - only on CPUs without AVX2
    r = _python("import tradekernels", TRADEKERNELS_SIMD="avx2")
    assert r.returncode == 0 and "not supported" in r.stderr and "TRADEKERNELS_SIMD" in r.stderr


def test_simd_path_default_in_this_process():
    expected = os.environ.get("TRADEKERNELS_SIMD", "auto").strip().lower() or "auto"
    if expected == "auto":
        expected = NATIVE_PATHS[-1]
    assert tk.simd_path == ufuncs.simd_path == expected
    if FAST_PATHS and expected != "scalar":
        assert tk.simd_path in FAST_PATHS
