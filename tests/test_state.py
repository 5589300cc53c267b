"""Carried state: chunked runs equal the batch run bit for bit.

* every scan kernel, float64 and float32, random chunkings (hypothesis), with
  NaN / inf / zeros / negative values, through the public API and through
  the raw ``<name>_state`` gufuncs on every SIMD path (contiguous and strided);
* reductions: the result of each chunk call is the result for everything seen
  so far (drawdown_episode: global indices);
* the default state reproduces the stateless kernels (golden cases, every path);
* State objects: pickling, fields, errors; the pure-Python twins (reference and
  shadow backends) agree with the native kernels.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from expected_states import INITIAL_STATES, same_float
from hypothesis import given
from hypothesis import strategies as st

import tradekernels as tk
from conftest import (
    FAST_PATHS,
    all_golden_params,
    as_tuple,
    assert_bits_identical,
    assert_outputs_same,
    golden_case,
    kernel_params,
    path_ufuncs,
    reference_apply,
)
from tradekernels import State, ufuncs
from tradekernels._registry import KERNELS
from tradekernels._state import PY_RUNNERS, as_state_vector

ALL_PATHS = ["scalar"] + FAST_PATHS
DTYPES = [np.float64, np.float32]
SPECIALS = [0.0, -0.0, math.nan, math.inf, -math.inf, 1.0, -1.0, 2.0, 100.0, 5e-324]

values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(SPECIALS),
    st.floats(min_value=50.0, max_value=150.0),
)


@st.composite
def series_and_cuts(draw, max_n: int = 60):
    """A series (a random walk or anything with specials) and sorted cut points."""
    n = draw(st.integers(0, max_n))
    if draw(st.booleans()):
        x = np.array(draw(st.lists(values, min_size=n, max_size=n)), dtype=np.float64)
    else:
        seed = draw(st.integers(0, 2**32 - 1))
        rng = np.random.default_rng(seed)
        x = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.05, n))
        x[rng.random(n) < 0.1] = np.nan
        x[rng.random(n) < 0.05] = 0.0
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=6)))
    return x, cuts


def _chunks(x: np.ndarray, cuts):
    bounds = [0] + list(cuts) + [x.shape[-1]]
    return [x[..., a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def _call(kernel, x, **kw):
    with np.errstate(all="ignore"):
        return getattr(tk, kernel.name)(x, **kw)


def _cast(x, dtype):
    with np.errstate(over="ignore"):
        return x.astype(dtype)


def _outputs(kernel, res):
    """API result -> tuple of arrays (Episode fields as arrays)."""
    if isinstance(res, tuple):
        return tuple(np.asarray(r) for r in res)
    return (np.asarray(res),)


def _expected_dtype(kernel, j, dtype):
    return np.dtype(dtype) if kernel.outputs[j] == "f" else np.dtype(np.int64)


def _fix_dtypes(kernel, outs, dtype):
    return tuple(np.asarray(o, dtype=_expected_dtype(kernel, j, dtype)) for j, o in enumerate(outs))


# --------------------------------------------------------------------------
# Public API: chunked == batch
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@kernel_params()
@given(data=series_and_cuts())
def test_chunked_api_equals_batch(kernel, dtype, data):
    x, cuts = data
    x = _cast(x, dtype)
    batch = _fix_dtypes(kernel, _outputs(kernel, _call(kernel, x)), dtype)
    state = None
    pieces = []
    seen = 0
    for c in _chunks(x, cuts):
        res, state = _call(kernel, c, state=state, return_state=True)
        assert isinstance(state, State) and state.kernel == kernel.name and state.shape == ()
        seen += c.shape[-1]
        outs = _fix_dtypes(kernel, _outputs(kernel, res), dtype)
        if kernel.scan:
            pieces.append(outs[0])
        else:
            # the result for everything seen so far, global indices
            prefix = _fix_dtypes(kernel, _outputs(kernel, _call(kernel, x[:seen])), dtype)
            for j, (a, e) in enumerate(zip(outs, prefix)):
                assert_bits_identical(a, e, f"{kernel.name} prefix {seen} output {j}")
    if kernel.scan:
        got = np.concatenate(pieces) if pieces else batch[0][:0]
        assert_bits_identical(got, batch[0], f"{kernel.name} chunks {cuts}")
    elif state is not None:
        for j, (a, e) in enumerate(zip(outs, batch)):
            assert_bits_identical(a, e, f"{kernel.name} final output {j}")
    # the final state equals the batch call's state
    _, batch_state = _call(kernel, x, return_state=True)
    if state is None:
        state = State.initial(kernel.name)
    assert state == batch_state


# --------------------------------------------------------------------------
# Raw gufuncs on every SIMD path, contiguous and strided
# --------------------------------------------------------------------------


def _state_call(uf, kernel, x, s, out=None):
    with np.errstate(all="ignore"):
        if out is None:
            res = as_tuple(uf(x, s))
        else:
            res = as_tuple(uf(x, s, out=out))
    return res[:-1], res[-1]


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@kernel_params()
@given(data=series_and_cuts(max_n=80), strided=st.booleans())
def test_chunked_raw_state_gufuncs_every_path(kernel, dtype, path, data, strided):
    x, cuts = data
    x = _cast(x, dtype)
    ufs = path_ufuncs(path)
    plain, stateful = ufs[kernel.name], ufs[kernel.name + "_state"]
    with np.errstate(all="ignore"):
        batch = as_tuple(path_ufuncs("scalar")[kernel.name](x))
    s = np.array(kernel.state_default)
    pieces = []
    for c in _chunks(x, cuts):
        if strided:
            buf = np.full(2 * c.shape[-1], -3.0, dtype=dtype)
            buf[::2] = c
            c = buf[::2]
        outs, s = _state_call(stateful, kernel, c, s)
        pieces.append(outs)
    if kernel.scan:
        got = np.concatenate([p[0] for p in pieces]) if pieces else batch[0][:0]
        assert_bits_identical(got, batch[0], f"{kernel.name} {path} cuts {cuts}")
    else:
        for j, (a, e) in enumerate(zip(pieces[-1], batch)):
            assert_bits_identical(a, e, f"{kernel.name} {path} output {j}")
    # plain == default-state on this path
    with np.errstate(all="ignore"):
        plain_res = as_tuple(plain(x))
    for a, e in zip(plain_res, batch):
        assert_bits_identical(a, e, f"{kernel.name} {path} plain vs scalar")


@pytest.mark.parametrize("path", ALL_PATHS)
@kernel_params()
def test_long_chunked_run_on_fast_path(kernel, path, rng):
    """Long chunks (past the AVX2 blocks and skip logic), odd cut points."""
    n = 20_000
    x = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.01, n))
    x[rng.random(n) < 0.001] = np.nan
    ufs = path_ufuncs(path)
    with np.errstate(all="ignore"):
        batch = as_tuple(path_ufuncs("scalar")[kernel.name](x))
    for cuts in ([1], [7, 8, 9, 4003], [4096, 12_345], list(range(0, n, 997))):
        s = np.array(kernel.state_default)
        pieces = []
        for c in _chunks(x, cuts):
            outs, s = _state_call(ufs[kernel.name + "_state"], kernel, c, s)
            pieces.append(outs)
        if kernel.scan:
            assert_bits_identical(np.concatenate([p[0] for p in pieces]), batch[0], f"{kernel.name} {path}")
        else:
            for j, (a, e) in enumerate(zip(pieces[-1], batch)):
                assert_bits_identical(a, e, f"{kernel.name} {path} output {j}")


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize("kernel, case", all_golden_params())
def test_default_state_equals_stateless_on_golden(kernel, case, path):
    x, expected = golden_case(kernel, case)
    ufs = path_ufuncs(path)
    for dtype in DTYPES:
        xd = _cast(x, dtype)
        with np.errstate(all="ignore"):
            plain = as_tuple(ufs[kernel.name](xd))
        outs, s = _state_call(ufs[kernel.name + "_state"], kernel, xd, np.array(kernel.state_default))
        assert s.shape == xd.shape[:-1] + (kernel.state_len,) and s.dtype == np.float64
        for j, (a, e) in enumerate(zip(outs, plain)):
            assert_bits_identical(a, e, f"{kernel.name}[{case}] {np.dtype(dtype)} {path} output {j}")


def test_drawdown_episode_golden_unchanged():
    """The single-pass episode keeps the committed golden results."""
    k = tk._registry.get("drawdown_episode")
    for p in all_golden_params([k]):
        kernel, case = p.values
        x, expected = golden_case(kernel, case)
        with np.errstate(all="ignore"):
            assert_outputs_same(as_tuple(ufuncs.drawdown_episode(x)), expected, 0, case)


# --------------------------------------------------------------------------
# Many series: one state per symbol, DataFrame, axis
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@kernel_params()
def test_matrix_chunked_along_time(kernel, dtype, rng):
    x = _cast(100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.03, (5, 301)), axis=1), dtype)
    x[rng.random(x.shape) < 0.05] = np.nan
    batch = _outputs(kernel, _call(kernel, x))
    for axis, xx in ((-1, x), (0, np.asfortranarray(x.T))):
        state, pieces = None, []
        for a, b in ((0, 17), (17, 17), (17, 200), (200, 301)):
            c = xx[:, a:b] if axis == -1 else xx[a:b]
            res, state = _call(kernel, c, axis=axis, state=state, return_state=True)
            assert state.shape == (5,)
            pieces.append(_outputs(kernel, res))
        if kernel.scan:
            got = np.concatenate([p[0] for p in pieces], axis=axis)
            assert_bits_identical(got if axis == -1 else got.T, batch[0], f"{kernel.name} axis={axis}")
        else:
            for j, (a, e) in enumerate(zip(pieces[-1], batch)):
                assert_bits_identical(a, e, f"{kernel.name} axis={axis} output {j}")
        # one series' state is state[i]
        if kernel.scan:
            r1, s1 = _call(kernel, x[2], return_state=True)
            assert s1 == _call(kernel, x, return_state=True)[1][2]


@kernel_params()
def test_dataframe_chunked_by_rows(kernel, rng):
    pd = pytest.importorskip("pandas")
    x = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.03, (200, 3)), axis=0)
    df = pd.DataFrame(x, columns=["a", "b", "c"])
    batch = _call(kernel, df)
    top, st1 = _call(kernel, df.iloc[:77], return_state=True)
    bottom, st2 = _call(kernel, df.iloc[77:], state=st1, return_state=True)
    assert st1.shape == (3,)
    if kernel.scan:
        pd.testing.assert_frame_equal(pd.concat([top, bottom]), batch)
    elif isinstance(batch, pd.DataFrame):
        pd.testing.assert_frame_equal(bottom, batch)
    else:
        pd.testing.assert_series_equal(bottom, batch)


def test_state_broadcasts_over_symbols():
    x = np.array([[1.0, 2.0, 1.0], [4.0, 3.0, 5.0]])
    out, st_ = tk.drawdown(x, state=[3.0], return_state=True)  # one state for both rows
    assert st_.shape == (2,)
    np.testing.assert_array_equal(out, [[1 / 3 - 1, 2 / 3 - 1, 1 / 3 - 1], [0.0, 3 / 4 - 1, 0.0]])
    np.testing.assert_array_equal(st_.peak, [3.0, 5.0])


def test_out_with_state():
    x = np.array([1.0, 3.0, 2.0])
    o = np.empty(3)
    res, s = tk.drawdown(x, out=o, state=None, return_state=True)
    assert res is o and s.peak == 3.0
    ep, s = tk.drawdown_episode(x, return_state=True)
    assert tuple(ep) == (1, 2, -1, 2 / 3 - 1)


def test_out_when_the_state_adds_series():
    """A state with lead shape (3,) on a 1-D series gives 3 series: out= has the result's
    shape, the time axis last (mutation check: api-out-time-axis-position)."""
    x = np.array([1.0, 3.0, 2.0, 4.0])
    st0 = State("drawdown", [[0.5], [2.0], [5.0]])
    want = tk.drawdown(x, state=st0)
    assert want.shape == (3, 4)
    o = np.empty((3, 4))
    got = tk.drawdown(x, state=st0, out=o)
    assert got is o
    np.testing.assert_array_equal(o, want)
    o2 = np.empty((3, 4, 1))
    x2 = x[:, None]  # time on axis 0 of a (4, 1) input: 3 states x 1 series
    st2 = State("drawdown", [[[0.5]], [[2.0]], [[5.0]]])
    got2 = tk.drawdown(x2, axis=0, state=st2, out=o2)
    np.testing.assert_array_equal(got2, tk.drawdown(x2, axis=0, state=st2))


# --------------------------------------------------------------------------
# drawdown_episode: global indices across chunks
# --------------------------------------------------------------------------


def test_episode_indices_are_global():
    x = np.array([5.0, 4.0, 6.0, 3.0, 2.5, 4.0, 6.5, 1.0, 7.0])
    st_ = None
    eps = []
    for c in (x[:2], x[2:5], x[5:7], x[7:]):
        ep, st_ = tk.drawdown_episode(c, state=st_, return_state=True)
        eps.append(tuple(ep))
    assert eps[-1] == tuple(tk.drawdown_episode(x))
    assert eps[-1][:3] == (6, 7, 8)
    assert eps[1][:3] == (2, 4, -1)
    assert eps[2][:3] == (2, 4, 6)
    assert st_.n == 9


# --------------------------------------------------------------------------
# State objects
# --------------------------------------------------------------------------


@kernel_params()
def test_state_object(kernel):
    s0 = State.initial(kernel.name)
    assert s0.fields == kernel.state_fields and s0.shape == ()
    # the documented initial values (tests/expected_states.py, written out there, not
    # read from the kernel table State.initial is built from)
    want = INITIAL_STATES[kernel.name]
    assert s0.fields == tuple(want), "field names / order"
    assert all(same_float(a, b) for a, b in zip(s0.values.tolist(), want.values())), (s0, want)
    _, s = _call(kernel, np.array([1.0, 2.0, 1.5, np.nan]), return_state=True)
    assert pickle.loads(pickle.dumps(s)) == s
    d = s.as_dict()
    assert list(d) == list(kernel.state_fields)
    for f in kernel.state_fields:
        assert getattr(s, f) == d[f] or (d[f] != d[f])
    assert kernel.name in repr(s)
    with pytest.raises(AttributeError):
        s.values = None
    with pytest.raises(AttributeError):
        s.nonsense  # noqa: B018
    many = State.initial(kernel.name, (4, 2))
    assert many.shape == (4, 2) and many[1].shape == (2,) and many[1, 0] == s0 and len(many) == 4
    m2 = pickle.loads(pickle.dumps(many))
    assert m2 == many and m2.values.shape == (4, 2, kernel.state_len)
    # plain vectors are accepted too
    np.testing.assert_array_equal(as_state_vector(kernel.name, s.values), s.values)


def test_state_errors():
    _, s = tk.drawdown([1.0, 2.0], return_state=True)
    with pytest.raises(ValueError, match="state of 'drawdown'"):
        tk.max_drawdown([1.0], state=s)
    with pytest.raises(ValueError, match="fields"):
        tk.max_drawdown([1.0], state=[1.0, 2.0])
    with pytest.raises(ValueError, match="length 3"):
        ufuncs.max_drawdown_state(np.ones(3), np.ones(2))
    with pytest.raises(ValueError):
        State("drawdown", [1.0, 2.0])
    for bad in ("nonsense", "bar_index", "session_mask", "drawdown_state", "", None, 3):
        # a ValueError naming the valid kernels (was a bare KeyError)
        with pytest.raises(ValueError, match=r"kernel with a carried state \(.*max_drawdown.*\), got"):
            State(bad, [1.0])
        with pytest.raises(ValueError, match="kernel with a carried state"):
            State.initial(bad)
    with pytest.raises(IndexError):
        s[0]
    assert (s == 3) is False


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 1e300, -1e300])
def test_garbage_state_is_safe(bad):
    """A state no kernel produced gives unspecified but safe results (no crash, no UB)."""
    for k in KERNELS:
        uf = ufuncs.for_path("scalar")[k.name + "_state"]
        with np.errstate(all="ignore"):
            uf(np.array([1.0, np.nan, 2.0]), np.full(k.state_len, bad))


# --------------------------------------------------------------------------
# Any state vector: every SIMD path gives the scalar path's bits
# --------------------------------------------------------------------------

STATE_KERNELS = [k for k in KERNELS if k.state_fields]
STATE_SPECIALS = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, -1.0, 90.0, 100.0, 1e308, 5e-324]
state_values = st.one_of(st.sampled_from(STATE_SPECIALS), st.floats(allow_nan=True, allow_infinity=True))


@st.composite
def level_series(draw, max_n: int = 400):
    """A long constant series (past the SIMD blocks and their division-free
    skips) with a few planted values."""
    n = draw(st.integers(0, max_n))
    x = np.full(n, draw(st.sampled_from([90.0, 1.0, 0.0, -0.0, -90.0, math.nan, math.inf])))
    for _ in range(draw(st.integers(0, 4)) if n else 0):
        x[draw(st.integers(0, n - 1))] = draw(values)
    return x


def _paths_agree_on_state(kernel, x, state):
    """Every path's outputs and final state equal the scalar path's, bit for bit."""
    for dtype in DTYPES:
        xd = _cast(x, dtype)
        with np.errstate(all="ignore"):
            want = as_tuple(path_ufuncs("scalar")[kernel.name + "_state"](xd, state))
        for path in FAST_PATHS:
            with np.errstate(all="ignore"):
                got = as_tuple(path_ufuncs(path)[kernel.name + "_state"](xd, state))
            for j, (a, e) in enumerate(zip(got, want)):
                assert_bits_identical(
                    a,
                    e,
                    f"{kernel.name}_state {path} {np.dtype(dtype)} state {state.tolist()} "
                    f"n={x.size}, output {j}",
                )


@kernel_params(STATE_KERNELS)
@given(x=st.one_of(level_series(), series_and_cuts(max_n=300).map(lambda d: d[0])), data=st.data())
def test_every_path_agrees_on_any_state(kernel, x, data):
    """Any float64 state vector (NaN, inf, zeros of either sign in any field),
    not only one a kernel produced: every path gives the scalar bits."""
    state = np.array(data.draw(st.lists(state_values, min_size=kernel.state_len, max_size=kernel.state_len)))
    _paths_agree_on_state(kernel, x, state)


@kernel_params([k for k in STATE_KERNELS if k.state_len <= 3])
def test_every_path_agrees_on_every_special_state(kernel, rng):
    """Deterministic companion: every combination of special field values
    (e.g. max_drawdown_state(np.full(200, 90.0), [100, nan, 1]) once gave -0.1
    on AVX2 and NaN on scalar)."""
    import itertools

    walk = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.01, 300))
    holes = walk.copy()
    holes[::37] = np.nan
    series = [np.full(200, 90.0), np.full(300, 110.0), walk, holes]
    specials = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, 100.0]
    for combo in itertools.product(specials, repeat=kernel.state_len):
        for x in series:
            _paths_agree_on_state(kernel, x, np.array(combo))


# --------------------------------------------------------------------------
# Pure-Python twins, reference and shadow backends
# --------------------------------------------------------------------------


@kernel_params()
@given(data=series_and_cuts(max_n=40))
def test_python_twins_chunked_equal_reference(kernel, data):
    x, cuts = data
    expected = reference_apply(kernel, x)
    s = list(kernel.state_default)
    pieces = []
    for c in _chunks(x, cuts):
        r, s = PY_RUNNERS[kernel.name](c.tolist(), s)
        pieces.append(r)
    if kernel.scan:
        got = np.array([v for p in pieces for v in p[0]], dtype=expected[0].dtype)
        assert_outputs_same((got,), expected, kernel.ulps, kernel.name)
    else:
        got = tuple(np.asarray(v, dtype=e.dtype) for v, e in zip(pieces[-1], expected))
        assert_outputs_same(got, expected, 0, kernel.name)


@pytest.mark.parametrize("mode", ["reference", "shadow"])
@kernel_params()
def test_backends_with_state(kernel, mode, rng):
    x = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.03, (2, 120)), axis=1)
    x[0, 5] = np.nan
    native_res = []
    st_n = None
    for c in (x[:, :50], x[:, 50:]):
        r, st_n = _call(kernel, c, state=st_n, return_state=True)
        native_res.append(_outputs(kernel, r))
    with tk.backend(mode):
        st_r = None
        for c, nat in zip((x[:, :50], x[:, 50:]), native_res):
            r, st_r = _call(kernel, c, state=st_r, return_state=True)
            assert_outputs_same(_outputs(kernel, r), nat, kernel.ulps, f"{kernel.name} {mode}")
    if kernel.ulps == 0:
        assert st_r == st_n


# --------------------------------------------------------------------------
# State lead shapes: broadcast with the input's, the same on every backend
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["native", "reference", "shadow"])
@pytest.mark.parametrize(
    "axis, lead", [(-1, (3, 4)), (1, (3, 4)), (0, (3, 5)), (-1, (3, 1)), (-1, (2, 1, 4)), (0, (1,))]
)
@kernel_params()
def test_state_lead_shape_broadcasts_on_every_backend(kernel, mode, axis, lead, rng):
    """Rule: the state's lead shape and the input's (without the time axis) broadcast; the
    result has the broadcast lead shape, a scan's time axis at its position from the end.
    Each result lane equals the one-series call from that lane's state."""
    x = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.03, (4, 5)), axis=1)
    x[1, 2] = np.nan
    xs = np.moveaxis(x, axis, -1)  # (series, time)
    _, st1 = _call(kernel, xs[:, :2], return_state=True)  # real (non-default) states
    base = np.broadcast_to(st1.values, (max(xs.shape[0], lead[-1]), kernel.state_len))
    sv = np.broadcast_to(base[: lead[-1]], lead + (kernel.state_len,)).copy()
    sv[..., 0] += np.arange(int(np.prod(lead))).reshape(lead)  # every lane its own state
    with tk.backend(mode):
        res, st = _call(kernel, x, axis=axis, state=State(kernel.name, sv), return_state=True)
    outs = _outputs(kernel, res)
    blead = np.broadcast_shapes(lead, xs.shape[:1])
    assert st.shape == blead
    for o in outs:
        assert o.shape == (blead[:-1] + (x.shape[0], x.shape[1]) if kernel.scan else blead), mode
    xb = np.broadcast_to(xs, blead + xs.shape[-1:])
    svb = np.broadcast_to(sv, blead + sv.shape[-1:])
    for idx in np.ndindex(*blead):
        r, s = _call(kernel, xb[idx], state=State(kernel.name, svb[idx]), return_state=True)
        want = _outputs(kernel, r)
        if kernel.scan:
            got = (np.moveaxis(outs[0], axis % x.ndim - x.ndim, -1)[idx],)
        else:
            got = tuple(o[idx] for o in outs)
        assert_outputs_same(got, want, kernel.ulps, f"{kernel.name} {mode} {idx}")
        assert st[idx] == s


@pytest.mark.parametrize("mode", ["native", "reference", "shadow"])
def test_state_lead_shape_that_does_not_broadcast(mode):
    x = np.ones((4, 5))
    with tk.backend(mode):
        for name in ("drawdown", "max_drawdown", "drawdown_episode"):
            with pytest.raises(ValueError, match=r"lead shape \(2,\)\) does not broadcast .* \(4,\)"):
                getattr(tk, name)(x, state=State.initial(name, (2,)))


def test_state_may_not_add_series_to_pandas():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(np.ones((5, 3)))
    with pytest.raises(ValueError, match=r"would give \(2, 3\) series"):
        tk.drawdown(df, state=State.initial("drawdown", (2, 3)))
    with pytest.raises(ValueError, match=r"would give \(4,\) series"):
        tk.max_drawdown(pd.Series(np.ones(5)), state=State.initial("max_drawdown", (4,)))
    # one state, or one per column, are fine
    assert tk.drawdown(df, state=State.initial("drawdown", (3,))).shape == (5, 3)
    assert tk.drawdown(df, state=State.initial("drawdown")).shape == (5, 3)
