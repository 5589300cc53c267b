"""Carried states field by field against the reference twins.

The chunked-state tests elsewhere compare the *outputs* of chunked runs; a state field
that no output of the same call reads (``drawdown_episode``'s ``best_peak`` after a new
high: ``[100, 80, 110]``) can be wrong there and go unnoticed until a later chunk.  Here
every field of the state a native call returns (raw ``<name>_state`` gufuncs of every SIMD
path, float64 and float32 input, and the public ``state=`` API) must equal, bit for bit,
the state of the pure-Python chunk twin (``reference.<name>_chunk``), at every split of
random series into two chunks and at random multi-chunk cuts.

The initial states are checked against values written out from the documented semantics
(``tests/expected_states.py``): the kernel table, ``State.initial``, the twins' ``START``
and, through the plain gufuncs (which start from the C's own initial state, not from the
table), the C kernels.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from expected_states import INITIAL_STATES, same_float
from hostile_layouts import call, same_bits
from hypothesis import given
from hypothesis import strategies as st

import tradekernels as tk
from conftest import first_difference, kernel_params, path_ufuncs
from tradekernels import State, ufuncs
from tradekernels._registry import KERNELS
from tradekernels.scans import reference

PATHS = ufuncs.available_paths()
STATEFUL = [k for k in KERNELS if k.state_fields]
DTYPES = (np.float64, np.float32)

# prices with ties, zero / negative / infinite values and NaN, and near-ties of 100
VALUES = [100.0, 80.0, 110.0, 90.0, 100.0, 120.0, 0.0, -0.0, -5.0, math.inf, -math.inf, math.nan]
VALUES += [math.nextafter(100.0, 0.0), math.nextafter(100.0, math.inf), 50.0, 1e-300]


@st.composite
def series(draw, max_n: int = 40) -> np.ndarray:
    n = draw(st.integers(0, max_n))
    pool = st.one_of(
        st.sampled_from(VALUES),
        st.floats(1.0, 200.0),
        st.floats(allow_nan=True, allow_infinity=True, width=32),
    )
    return np.array(draw(st.lists(pool, min_size=n, max_size=n)), dtype=np.float64)


def _twin(kernel, x: np.ndarray, state: list) -> tuple:
    """(outputs as arrays of the native dtypes, state list) of the chunk twin."""
    outs, new = kernel.chunk_reference(x.tolist(), list(state))
    fdt = np.dtype(x.dtype.char)
    res = []
    for kind, o in zip(kernel.outputs, outs):
        dt = fdt if kind == "f" else np.dtype(np.int64)
        with np.errstate(over="ignore"):
            res.append(np.asarray(o, dtype=np.float64).astype(dt) if kind == "f" else np.asarray(o, dtype=dt))
    return tuple(res), [float(v) for v in new]


def _fields_differ(kernel, got: np.ndarray, want: list) -> list:
    return [
        f"{f}: native {g!r}, twin {w!r}"
        for f, g, w in zip(kernel.state_fields, got.tolist(), want)
        if not same_float(g, w)
    ]


def _check_chunks(kernel, x: np.ndarray, cuts: list, what: str) -> None:
    """Chunks of x at ``cuts``: every path's outputs and every state field equal the twin's."""
    bounds = [0] + sorted(cuts) + [x.size]
    chunks = [x[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    start = [float(v) for v in INITIAL_STATES[kernel.name].values()]
    twin_steps = []
    tw = start
    for c in chunks:
        outs, tw = _twin(kernel, c, tw)
        twin_steps.append((outs, tw))
    for path in PATHS:
        uf = path_ufuncs(path)[kernel.name + "_state"]
        s = np.array(start)
        for j, (c, (touts, tw)) in enumerate(zip(chunks, twin_steps)):
            res = call(uf, [c, s])
            outs, s = res[:-1], res[-1]
            bad = _fields_differ(kernel, s, tw)
            assert not bad, f"{what} [{path}] chunk {j} of {cuts}: state {bad}"
            for o, (g, w) in enumerate(zip(outs, touts)):
                # the twin to the declared ulps (log_returns: NumPy's log vs math.log)
                ok = same_bits(g, w) if kernel.ulps == 0 else first_difference(g, w, kernel.ulps) is None
                assert ok, f"{what} [{path}] chunk {j} of {cuts}: output {o}: {g!r} vs {w!r}"


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@kernel_params(STATEFUL)
@given(x=series())
def test_every_state_field_equals_the_twin_at_every_split(kernel, dtype, x):
    x = x.astype(dtype)
    for cut in range(x.size + 1):
        _check_chunks(kernel, x, [cut], kernel.name)


@kernel_params(STATEFUL)
@given(x=series(max_n=200), data=st.data())
def test_every_state_field_equals_the_twin_at_random_cuts(kernel, x, data):
    cuts = data.draw(st.lists(st.integers(0, x.size), max_size=6))
    _check_chunks(kernel, x, cuts, kernel.name)


@kernel_params(STATEFUL)
@given(x=series(max_n=60), data=st.data())
def test_api_state_objects_equal_the_twin(kernel, x, data):
    """The public ``state=`` / ``return_state=True`` path: the State after each chunk has
    the twin's fields (and names)."""
    cut = data.draw(st.integers(0, x.size))
    fn = getattr(tk, kernel.name)
    s = None
    tw = [float(v) for v in INITIAL_STATES[kernel.name].values()]
    for c in (x[:cut], x[cut:]):
        _, s = fn(c, state=s, return_state=True)
        _, tw = _twin(kernel, c, tw)
        assert isinstance(s, State) and s.fields == tuple(INITIAL_STATES[kernel.name])
        bad = _fields_differ(kernel, s.values, tw)
        assert not bad, bad


# --------------------------------------------------------------------------
# drawdown_episode: the cases behind the "wrong best_peak carried" bug
# --------------------------------------------------------------------------

EPISODE_CASES = {
    # a new high after the trough: best_peak stays the trough's peak (100), not 110
    (100.0, 80.0, 110.0): dict(
        peak=110.0,
        peak_i=2.0,
        best=80.0 / 100.0 - 1.0,
        best_peak=100.0,
        best_peak_i=0.0,
        trough_i=1.0,
        recovery_i=2.0,
        seen=1.0,
        n=3.0,
    ),
    # a tie with the peak moves peak_i, not the episode's peak
    (100.0, 80.0, 100.0, 90.0): dict(
        peak=100.0,
        peak_i=2.0,
        best=80.0 / 100.0 - 1.0,
        best_peak=100.0,
        best_peak_i=0.0,
        trough_i=1.0,
        recovery_i=2.0,
        seen=1.0,
        n=4.0,
    ),
    # a deeper trough under a later peak replaces the episode; no recovery yet
    (100.0, 90.0, 120.0, 60.0, 110.0): dict(
        peak=120.0,
        peak_i=2.0,
        best=60.0 / 120.0 - 1.0,
        best_peak=120.0,
        best_peak_i=2.0,
        trough_i=3.0,
        recovery_i=-1.0,
        seen=1.0,
        n=5.0,
    ),
    # NaN bars count as bars (global indices) but are never seen
    (math.nan, math.nan): dict(INITIAL_STATES["drawdown_episode"], n=2.0),
}


@pytest.mark.parametrize("case", list(EPISODE_CASES), ids=lambda c: "-".join(f"{v:g}" for v in c))
def test_drawdown_episode_state_fields(case):
    """The state written out by hand; native (every path, every split, the API, the
    stream) and the twin must all give it."""
    want = EPISODE_CASES[case]
    k = next(k for k in STATEFUL if k.name == "drawdown_episode")
    x = np.array(case)
    _, tw = _twin(k, x, list(INITIAL_STATES[k.name].values()))
    assert all(same_float(a, b) for a, b in zip(tw, want.values())), ("twin", tw)
    for cut in range(x.size + 1):
        _check_chunks(k, x, [cut], "drawdown_episode")
    _, s = tk.drawdown_episode(x, return_state=True)
    assert all(same_float(s.as_dict()[f], v) for f, v in want.items()), s
    live = tk.stream.DrawdownEpisode()
    for v in case:
        live.update(v)
    assert all(same_float(live.state.as_dict()[f], v) for f, v in want.items()), live.state


def test_drawdown_episode_best_peak_changes_the_next_chunk():
    """Why best_peak matters: after [100, 80, 110] a chunk [105] recovers nothing new, but a
    state claiming best_peak 110 would move the recovery; and [90, 100] recovers at bar 4."""
    _, s = tk.drawdown_episode([100.0, 80.0, 110.0], return_state=True)
    ep = tk.drawdown_episode([90.0, 70.0, 100.0], state=s)
    assert tuple(ep) == (2, 4, -1, 70.0 / 110.0 - 1.0)
    _, s = tk.drawdown_episode([100.0, 80.0, 95.0], return_state=True)
    ep = tk.drawdown_episode([99.0, 100.0], state=s)
    assert tuple(ep) == (0, 1, 4, 80.0 / 100.0 - 1.0)


# --------------------------------------------------------------------------
# Initial states
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(INITIAL_STATES))
def test_initial_state_is_the_documented_one(name):
    """Table defaults, State.initial and the twins' START all equal the values written
    out in tests/expected_states.py."""
    want = INITIAL_STATES[name]
    s0 = State.initial(name)
    assert s0.fields == tuple(want)
    assert all(same_float(a, b) for a, b in zip(s0.values.tolist(), want.values()))
    start = reference.DRAWDOWNS_START if name == "drawdowns" else reference.START[name]
    assert all(same_float(a, b) for a, b in zip(start, want.values()))
    if name != "drawdowns":
        k = next(k for k in STATEFUL if k.name == name)
        assert all(same_float(a, b) for a, b in zip(k.state_default, want.values()))


@kernel_params(STATEFUL)
@given(x=series(max_n=300))
def test_c_initial_state_is_the_documented_one(kernel, x):
    """The plain gufuncs start from the C's own initial state (tk_<name>_init, not the
    table): their outputs equal the <name>_state gufunc's from the documented state, on
    every path; and an empty chunk returns that state unchanged."""
    start = np.array(list(INITIAL_STATES[kernel.name].values()))
    for path in PATHS:
        u = path_ufuncs(path)
        plain = call(u[kernel.name], [x])
        res = call(u[kernel.name + "_state"], [x, start])
        for o, (g, w) in enumerate(zip(plain, res[:-1])):
            assert same_bits(g, w), f"[{path}] output {o}"
        empty = call(u[kernel.name + "_state"], [x[:0], start])[-1]
        assert all(same_float(a, b) for a, b in zip(empty.tolist(), start.tolist()))
