"""The kernel declarations (src/<family>/kernels.toml) and what is built from them.

Every kernel is declared once; the C table is generated from the declarations
at build time and the Python registry is read from the C table.  These tests
fail when the built module, the registry, the ufuncs or the stubs drift from
the declarations (a stale build, a generator bug, a hand edit).
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tradekernels as tk
from tradekernels import _core, _registry, ufuncs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import kernelspec  # noqa: E402

DECLARED = kernelspec.load()
_NUMPY = {"f32": np.float32, "f64": np.float64, "i64": np.int64, "bool": np.bool_}


def test_c_table_equals_the_declarations():
    """Row for row, the C module's table is what the declarations say."""
    table = _core.kernels()
    assert [d["name"] for d in table] == [k.name for k in DECLARED]
    for d, k in zip(table, DECLARED):
        assert d["family"] == k.family and d["signature"] == k.signature, k.name
        assert (d["nin"], d["nout"]) == (k.nin, k.nout), k.name
        want = tuple(tuple(np.dtype(_NUMPY[t]).num for t in lp) for lp in k.loops)
        assert d["loops"] == want, k.name
        assert tuple(p for p in d["simd"].split(",") if p) == k.simd, k.name
        assert d["state_fields"] == k.state_fields, k.name
        assert np.array_equal(d["state_default"], k.state_default, equal_nan=True), k.name
        assert (d["reference"], d["ulps"], d["stream"], d["base"]) == (k.reference, k.ulps, k.stream, k.base)
        assert d["doc"].startswith(k.doc), k.name


def test_registry_is_the_c_table():
    assert [k.name for k in _registry.UFUNCS] == [d["name"] for d in _core.kernels()]
    assert _registry.KERNELS + _registry.WINDOWED == _registry.family("scans")
    assert all(k.nin == 1 for k in _registry.KERNELS) and all(k.nin > 1 for k in _registry.WINDOWED)
    assert {k.family for k in _registry.DECLARED} == set(kernelspec.FAMILIES)


@pytest.mark.parametrize("k", _registry.UFUNCS, ids=lambda k: k.name)
def test_every_row_is_a_ufunc_with_its_loops(k):
    uf = getattr(ufuncs, k.name)
    assert isinstance(uf, np.ufunc) and uf.__name__ == k.name
    assert (uf.nin, uf.nout, uf.signature) == (k.nin, k.nout, k.signature)
    assert uf.types == [
        "".join(d.char for d in lp[: k.nin]) + "->" + "".join(d.char for d in lp[k.nin :]) for lp in k.loops
    ]
    for path in ufuncs.available_paths():
        assert ufuncs.for_path(path)[k.name].types == uf.types


@pytest.mark.parametrize("k", _registry.DECLARED, ids=lambda k: k.name)
def test_every_reference_twin_exists(k):
    twin = k.reference
    assert callable(twin) and twin.__doc__, f"{k.family}.reference.{k.reference_name} needs a docstring"
    if k.state_fields:
        assert callable(k.chunk_reference)


def test_state_variants_are_derived():
    for k in _registry.DECLARED:
        if not k.state_fields:
            continue
        s = _registry.get(k.name + "_state")
        assert (s.base, s.state_fields, s.nin, s.nout) == (k.name, k.state_fields, k.nin + 1, k.nout + 1)
        assert np.array_equal(tk.State.initial(k.name).values, k.state_default, equal_nan=True)


def test_streams_and_wrappers_follow_the_declarations():
    for k in _registry.KERNELS:
        assert getattr(tk, k.name).__module__ == "tradekernels"
        if k.stream:
            assert getattr(tk.stream, k.stream).kernel == k.name
            assert issubclass(getattr(tk.stream, k.stream), getattr(_core, k.stream))


def test_shared_constants_come_from_c():
    assert {k.name.lower(): int(k) for k in tk.OrderKind} == _core.ORDER_KINDS
    fills_ref = importlib.import_module("tradekernels.fills.reference")
    assert (fills_ref.MARKET, fills_ref.LIMIT, fills_ref.STOP, fills_ref.STOP_LIMIT) == tuple(
        _core.ORDER_KINDS[n] for n in ("market", "limit", "stop", "stop_limit")
    )


def test_stubs_are_generated_from_the_declarations():
    r = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_stubs.py"), "--check"], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_import_is_lazy_about_dask():
    code = "import sys, tradekernels as tk; assert 'dask' not in sys.modules; tk.dask.drawdown; print('ok')"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if "ModuleNotFoundError" in r.stderr and "dask" in r.stderr:
        pytest.skip("dask is not installed")
    assert r.stdout.strip() == "ok", r.stderr
