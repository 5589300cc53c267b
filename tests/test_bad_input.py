"""Bad input gives a clear Python exception, never a crash or a silent wrong answer."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import tradekernels as tk
from conftest import kernel_params
from tradekernels import _registry, ufuncs

BAD_DTYPES = {
    "object": np.array([1.0, 2.0, 3.0], dtype=object),
    "string": np.array(["1.0", "2.0"]),
    "bytes": np.array([b"1", b"2"]),
    "complex": np.array([1 + 0j, 2 + 0j]),
    "datetime64": np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]"),
    "timedelta64": np.array([1, 2], dtype="timedelta64[s]"),
}


def api(kernel):
    return getattr(tk, kernel.name)


@kernel_params()
@pytest.mark.parametrize("what", list(BAD_DTYPES))
def test_api_rejects_non_real_dtypes(kernel, what):
    x = BAD_DTYPES[what]
    with pytest.raises(TypeError) as info:
        api(kernel)(x)
    msg = str(info.value)
    assert f"tradekernels.{kernel.name}" in msg and str(x.dtype) in msg
    assert "expected real numbers" in msg


@kernel_params()
@pytest.mark.parametrize("what", ["object", "string", "complex", "datetime64"])
def test_api_rejects_non_real_pandas(kernel, what):
    s = pd.Series(BAD_DTYPES[what])
    with pytest.raises(TypeError, match=f"tradekernels.{kernel.name}"):
        api(kernel)(s)
    with pytest.raises(TypeError, match=f"tradekernels.{kernel.name}"):
        api(kernel)(pd.DataFrame({"a": s, "b": s}))


@kernel_params()
def test_api_rejects_python_lists_of_strings_and_none(kernel):
    with pytest.raises(TypeError):
        api(kernel)(["a", "b"])
    with pytest.raises(TypeError):
        api(kernel)([1.0, None, 2.0])  # object dtype: None is not NaN here


@kernel_params()
@pytest.mark.parametrize("what", ["object", "string", "complex", "datetime64"])
def test_raw_ufunc_raises_numpy_type_error(kernel, what):
    x = BAD_DTYPES[what]
    with pytest.raises(TypeError, match="not supported for the input types"):
        getattr(ufuncs, kernel.name)(x)


@kernel_params()
@pytest.mark.parametrize(
    "x", [np.float64(3.0), 3.0, np.array(2.0), True], ids=["np.float64", "float", "0-d", "bool"]
)
def test_zero_dim_input_is_value_error(kernel, x):
    with pytest.raises(ValueError, match="at least 1 dimension"):
        api(kernel)(x)
    with pytest.raises(ValueError, match="enough dimensions"):
        getattr(ufuncs, kernel.name)(x)


@kernel_params()
def test_mismatched_out_shape(kernel):
    x = np.ones((2, 5))
    shapes = [(2, 4), (5,), (3, 5)] if kernel.scan else [(3,), (2, 5), ()]
    for shape in shapes:
        outs = tuple(
            np.empty(shape, dtype=np.float64 if kind == "f" else np.int64) for kind in kernel.outputs
        )
        out = outs if len(outs) > 1 else outs[0]
        with pytest.raises(ValueError):
            api(kernel)(x, out=out)
        with pytest.raises(ValueError):
            getattr(ufuncs, kernel.name)(x, out=out)


@kernel_params()
def test_wrong_number_of_outs(kernel):
    x = np.ones(5)
    shape = (5,) if kernel.scan else ()
    too_many = tuple(np.empty(shape) for _ in range(len(kernel.outputs) + 1))
    with pytest.raises((ValueError, TypeError)):
        getattr(ufuncs, kernel.name)(x, out=too_many)


@kernel_params()
def test_wrong_out_dtype(kernel):
    """A float result cannot go to an int out; nor any result to a bool/str out."""
    x = np.array([1.0, 2.0, 1.5])
    shape = (3,) if kernel.scan else ()
    for j, kind in enumerate(kernel.outputs):
        for bad in [np.int64, np.bool_] if kind == "f" else [np.bool_]:  # int64 -> int8 is same_kind
            outs = [np.empty(shape, dtype=np.float64 if k == "f" else np.int64) for k in kernel.outputs]
            outs[j] = np.empty(shape, dtype=bad)
            out = tuple(outs) if len(outs) > 1 else outs[0]
            with pytest.raises(TypeError, match="Cannot cast"):
                getattr(ufuncs, kernel.name)(x, out=out)
            with pytest.raises(TypeError):
                api(kernel)(x, out=out)


@kernel_params()
def test_read_only_out(kernel):
    x = np.array([1.0, 2.0, 1.5])
    shape = (3,) if kernel.scan else ()
    outs = tuple(np.empty(shape, dtype=np.float64 if k == "f" else np.int64) for k in kernel.outputs)
    for o in outs:
        o.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        getattr(ufuncs, kernel.name)(x, out=outs if len(outs) > 1 else outs[0])
    with pytest.raises(ValueError, match=f"tradekernels.{kernel.name}: out.* is read-only"):
        api(kernel)(x, out=outs if len(outs) > 1 else outs[0])


@pytest.mark.parametrize("stateful", [False, True])
def test_out_rules_of_the_hand_written_wrappers(stateful):
    """``rolling_max_drawdown`` (also with ``state=`` / ``return_state=True``) and
    ``ulcer_index(ddof != 0)`` check ``out=`` as every wrapper does: "safe" dtype, the exact
    shape, writeable; a TypeError / ValueError naming the function, nothing written."""
    x = np.arange(1.0, 11.0).reshape(2, 5)
    kw = {}
    if stateful:
        kw["state"] = tk.rolling_max_drawdown(x, 3, return_state=True)[1]
    ro = np.zeros((2, 5))
    ro.flags.writeable = False
    for o, err, msg in (
        (np.zeros((2, 5), np.float32), TypeError, "dtype float32"),
        (np.zeros((2, 5), np.int8), TypeError, "dtype int8"),
        (np.zeros((5, 2)), ValueError, r"shape \(5, 2\)"),
        (np.zeros((1, 2, 5)), ValueError, r"shape \(1, 2, 5\)"),
        (ro, ValueError, "read-only"),
    ):
        with pytest.raises(err, match=f"tradekernels.rolling_max_drawdown: out= .*{msg}"):
            tk.rolling_max_drawdown(x, 3, out=o, **kw)
        assert not o.any()
    o = np.zeros((2, 5))
    assert tk.rolling_max_drawdown(x, 3, out=o, **kw) is o
    for ddof in (1, 2):
        for o, err in (
            (np.zeros(2, np.float32), TypeError),
            (np.zeros(3), ValueError),
            (ro[:, 0], ValueError),
        ):
            with pytest.raises(err, match="tradekernels.ulcer_index: out="):
                tk.ulcer_index(x, ddof=ddof, out=o)


@pytest.mark.parametrize("ddof", [0, 1])
def test_ulcer_index_out_gives_the_same_kind_of_result_whatever_ddof(ddof):
    """``out=`` is filled and returned for arrays, wrapped (no copy) for a DataFrame:
    as the ``ddof=0`` kernel call does, also with ``ddof=1``."""
    df = pd.DataFrame({"a": [1.0, 2, 1.5, 3, 2.5], "b": [2.0, 1, 3, 2, 4]})
    o = np.zeros(2)
    r = tk.ulcer_index(df, ddof=ddof, out=o)
    assert isinstance(r, pd.Series) and list(r.index) == ["a", "b"] and np.shares_memory(r.to_numpy(), o)
    assert o.tolist() == tk.ulcer_index(df, ddof=ddof).tolist()
    o2 = np.zeros(2)
    assert tk.ulcer_index(df.to_numpy().T, ddof=ddof, out=o2) is o2 and o2.tolist() == o.tolist()


@kernel_params()
@pytest.mark.parametrize("axis", [2, -3, 5])
def test_axis_out_of_range(kernel, axis):
    x = np.ones((2, 4))
    with pytest.raises(np.exceptions.AxisError):
        api(kernel)(x, axis=axis)
    with pytest.raises(np.exceptions.AxisError):
        getattr(ufuncs, kernel.name)(x, axis=axis)
    with tk.backend("reference"), pytest.raises(np.exceptions.AxisError):
        api(kernel)(x, axis=axis)


@kernel_params()
@pytest.mark.parametrize("axis", [1.0, "0", (0,), True])
def test_non_integer_axis(kernel, axis):
    with pytest.raises((TypeError, ValueError)):
        api(kernel)(np.ones((2, 4)), axis=axis)


@kernel_params()
@pytest.mark.parametrize("axis", [2, -1, 3, "rows"])
def test_dataframe_axis_must_be_0_or_1(kernel, axis):
    df = pd.DataFrame({"a": [1.0, 2.0], "b": [2.0, 1.0]})
    with pytest.raises(ValueError, match="axis for a DataFrame must be 0 or 1"):
        api(kernel)(df, axis=axis)


def test_for_path_rejects_unknown_paths():
    with pytest.raises(ValueError, match="unknown SIMD path 'nonsense'"):
        ufuncs.for_path("nonsense")
    with pytest.raises(ValueError):
        ufuncs.for_path("")
    with pytest.raises(ValueError):
        ufuncs.for_path("AVX2")  # exact names only here (the env var is case-insensitive)
    with pytest.raises(TypeError):
        ufuncs.for_path(2)
    with pytest.raises((TypeError, ValueError)):
        ufuncs.for_path(None)


def test_bad_calls_in_a_subprocess_do_not_crash_the_interpreter():
    """The same bad calls in a fresh interpreter (so a segfault cannot hide as a skipped test)."""
    code = textwrap.dedent(
        """
        import numpy as np, tradekernels as tk
        from tradekernels import ufuncs, _registry
        bad = [np.array(["a"]), np.array([1j]), np.array([object()]), np.array(1.0),
               np.array(["2024-01-01"], dtype="M8[D]"), np.ones((2, 3))]
        n = 0
        for k in _registry.KERNELS:
            for f in (getattr(tk, k.name), getattr(ufuncs, k.name)):
                for x in bad:
                    outs = ({"out": np.empty(4)}, {"out": np.empty((2, 3), dtype=np.int8)})
                    for kw in ({}, {"axis": 7}) + outs:
                        try:
                            f(x, **kw)
                        except (TypeError, ValueError):
                            n += 1
                        else:
                            pass
        for p in ("nonsense", "", "avx1024", "AVX512"):
            try:
                ufuncs.for_path(p)
            except ValueError:
                n += 1
        print("survived", n)
        """
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, (r.returncode, r.stderr[-2000:])
    n = int(r.stdout.split()[-1])
    assert n >= len(_registry.KERNELS) * 2 * 5 * 4 + 3  # every call with a bad input raised


STATEFUL = [k for k in _registry.KERNELS if k.state_fields]


@pytest.mark.parametrize("kernel", STATEFUL, ids=[k.name for k in STATEFUL])
def test_raw_state_gufunc_rejects_a_state_of_the_wrong_length(kernel):
    """The <name>_state gufuncs check the state's length themselves (the Python State
    check never reaches them): too short and too long are ValueErrors (mutation check:
    core-state-length-lax)."""
    g = getattr(ufuncs, kernel.name + "_state")
    k = len(kernel.state_fields)
    for n in (k - 1, k + 1, k + 7):
        if n < 1:
            continue
        with pytest.raises(ValueError, match=f"must have length {k}"):
            g(np.array([1.0, 2.0, 1.5]), np.zeros(n))


@kernel_params()
def test_errors_name_the_function(kernel):
    """An axis out of range, a ragged list and a state of the wrong kind: the error names
    the function (AxisError with its prefix; TypeError for a state that is no State or
    array -- a dict, a string, another family's state -- as the fills family does)."""
    name = kernel.name
    with pytest.raises(np.exceptions.AxisError, match=f"^tradekernels.{name}: axis 2 is out of bounds"):
        api(kernel)(np.ones((2, 3)), axis=2)
    with pytest.raises(ValueError, match=f"^tradekernels.{name}: the input is not an array of numbers"):
        api(kernel)([[1.0, 2.0], [3.0]])
    if kernel.state_fields:
        bars = tuple(np.ones(4) for _ in range(4))
        fill_state = tk.fill_orders(bars, 0, 1, "limit", 0.5, return_state=True)[1]
        for bad in ({"peak": 1.0}, "peak", fill_state, 1.0):
            with pytest.raises(TypeError, match=f"^tradekernels.{name}: state must be"):
                api(kernel)(np.ones(3), state=bad)
        with pytest.raises(TypeError, match=f"^tradekernels.{name}: the state's fields must be numbers"):
            api(kernel)(np.ones(3), state=np.array(["a"] * len(kernel.state_fields)))
        with pytest.raises(ValueError, match=f"^tradekernels.{name}: got the state of 'drawdowns'"):
            api(kernel)(np.ones(3), state=tk.State.initial("drawdowns"))


def test_a_state_reads_as_its_values():
    """``np.asarray(state)`` is the float64 values (read-only), not an object array of States."""
    _, st = tk.drawdown(np.ones((2, 3)), return_state=True)
    a = np.asarray(st)
    assert a.dtype == np.float64 and a.shape == (2, 1) and not a.flags.writeable
    assert np.array(st).flags.writeable and np.asarray(st, dtype=np.float32).dtype == np.float32
    assert np.array_equal(np.asarray(st[1]), st.values[1])


def test_a_series_takes_axis_index():
    s = pd.Series([1.0, 2.0, 1.5])
    pd.testing.assert_series_equal(tk.drawdown(s, axis="index"), tk.drawdown(s))
    assert tk.max_drawdown(s, axis=0) == tk.max_drawdown(s, axis="index")


def test_out_as_a_list_is_refused_as_numpy_does():
    x = np.array([1.0, 2.0, 1.5])
    outs = [np.empty((), np.int64) for _ in range(3)] + [np.empty(())]
    with pytest.raises(TypeError, match="^tradekernels.drawdown_episode: out= must be an array or a tuple"):
        tk.drawdown_episode(x, out=outs)
    with pytest.raises(TypeError, match="^tradekernels.drawdown: out= must be an array or a tuple"):
        tk.drawdown(x, out=[np.empty(3)])
    assert tk.drawdown_episode(x, out=tuple(outs))[3] is outs[3]
