"""max_drawdown's division-free blocks (AVX2, AVX-512 and its emulation).

The SIMD cores skip the divisions of a block (64 / 128 bars) that sets no new peak while
the carried peak ``p`` is finite and positive (``0 < p < inf``): the block only folds its
minimum into ``segmin``, divided once (``segmin / p - 1``) when the peak next moves or at
the end (``flush``: only when some lane saw a value, ``segmin < inf``).  That is exact only
because ``v -> v / p - 1`` is monotone for such ``p``.  Each part of that condition is
exercised here, on every path, against the twin, with series built to sit on its edges:
values exactly at / one ulp around the peak (ties are not new peaks, one ulp above is),
values whose quotient rounds to the current worst, zero / negative / infinite peaks (where
the skip must not happen), NaN blocks, and carried states with any ``peak`` / ``best`` /
``seen`` (a state seen = 0 with a finite peak: a block of NaN must leave it unseen).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from expected_states import same_float
from hostile_layouts import call
from hypothesis import given
from hypothesis import strategies as st

from conftest import path_ufuncs
from tradekernels import ufuncs
from tradekernels.scans import reference

PATHS = ufuncs.available_paths()
INF, NAN = math.inf, math.nan
PEAKS = [100.0, 1.0, 5e-324, 1e-300, 1.7976931348623157e308, 0.0, -0.0, -100.0, INF, -INF, NAN]


def _near(p: float, draw) -> float:
    """A value on an edge of the skip condition for peak ``p``."""
    kind = draw(st.sampled_from(["tie", "below", "above", "frac", "special", "any"]))
    if kind == "tie":
        return p
    if kind == "below":
        return math.nextafter(p, -INF)
    if kind == "above":
        return math.nextafter(p, INF)
    if kind == "frac":
        return p * draw(st.sampled_from([0.5, 0.9, 0.99, 0.999999, 1e-300, 0.0, -1.0]))
    if kind == "special":
        return draw(st.sampled_from([0.0, -0.0, -1.0, INF, -INF, NAN, 5e-324]))
    return draw(st.floats(allow_nan=True, allow_infinity=True))


@st.composite
def skip_series(draw) -> np.ndarray:
    """A peak first, then blocks of values around / below it; some blocks NaN; a few
    values on the edges (ties, one ulp, quotient ties with the worst so far)."""
    p = draw(st.sampled_from(PEAKS))
    n = draw(st.integers(130, 700))
    fill = draw(st.sampled_from(["below", "tie", "nan", "mixed"]))
    base = abs(p) if p == p and p not in (0.0, INF) else 100.0
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if fill == "below":
        x = base * (0.5 + 0.4 * rng.random(n))
    elif fill == "tie":
        x = np.full(n, p)
    elif fill == "nan":
        x = np.full(n, NAN)
    else:
        x = np.where(rng.random(n) < 0.3, NAN, base * (0.5 + 0.4 * rng.random(n)))
    x[0] = p
    for _ in range(draw(st.integers(0, 8))):
        x[draw(st.integers(0, n - 1))] = _near(p, draw)
    if draw(st.booleans()):  # a worst value w and its neighbours whose quotients round to w's
        w = float(np.nanmin(np.where(x < base, x, np.nan))) if np.any(x < base) else base * 0.5
        for d in (-2, -1, 1, 2):
            v = w
            for _ in range(abs(d)):
                v = math.nextafter(v, INF if d > 0 else -INF)
            x[draw(st.integers(1, n - 1))] = v
    if draw(st.booleans()):  # a NaN tail after the last 128-bar block: no scalar tail
        x[(n // 128) * 128 :] = NAN  # that would repeat (and so hide) a block's minimum
    if draw(st.booleans()):  # whole blocks of NaN, at block boundaries
        b = draw(st.sampled_from([64, 128]))
        k = draw(st.integers(0, max(0, n // b - 1)))
        x[k * b : (k + 1) * b] = NAN
    return x


state_fields = st.one_of(st.sampled_from(PEAKS + [0.5, -0.5, -1.0, 2.0]), st.floats(allow_nan=True))


def _twin(x: np.ndarray, state) -> tuple:
    (r,), s = reference.max_drawdown_chunk(x.tolist(), list(state))
    return r, s


def _check(x: np.ndarray, state) -> None:
    want_plain = reference.max_drawdown(x.tolist())
    want, want_state = _twin(x, state)
    for path in PATHS:
        u = path_ufuncs(path)
        (got,) = call(u["max_drawdown"], [x])
        assert same_float(float(got), want_plain), f"[{path}] plain: {float(got)!r} vs twin {want_plain!r}"
        r, s = call(u["max_drawdown_state"], [x, np.asarray(state, dtype=np.float64)])
        assert same_float(float(r), want), f"[{path}] state {state}: {float(r)!r} vs twin {want!r}"
        assert all(same_float(a, b) for a, b in zip(s.tolist(), want_state)), (path, s, want_state)


@given(x=skip_series())
def test_skip_edges_against_the_twin(x):
    _check(x, [-INF, INF, 0.0])


@given(x=skip_series(), peak=state_fields, best=state_fields, seen=st.sampled_from([0.0, 1.0]))
def test_skip_edges_from_any_state(x, peak, best, seen):
    """From a carried state: a finite positive peak is already set at the first block, so
    the skip starts at once (also for a state with nothing seen yet)."""
    _check(x, [peak, best, seen])


@pytest.mark.parametrize(
    "peak, values, seen",
    [
        (100.0, [NAN], 0.0),  # only NaN after the peak: stays unseen (result NaN)
        (100.0, [NAN], 1.0),
        (100.0, [100.0], 0.0),  # ties with the peak: drawdown 0, seen
        (100.0, [math.nextafter(100.0, INF)], 0.0),  # one ulp above: a new peak
        (100.0, [math.nextafter(100.0, -INF)], 0.0),  # one ulp below: the smallest drawdown
        (0.0, [0.0, -1.0], 0.0),  # zero peak: no skip (0/0 NaN, -1/0 -inf)
        (0.0, [0.0], 0.0),
        (-0.0, [0.0, NAN, -0.0], 0.0),  # (-0.0 > 0 is false too)
        # negative peak: not monotone, no skip (a period of 3: every SIMD lane sees each)
        (-100.0, [-150.0, -120.0, -130.0], 0.0),
        (INF, [5.0, -INF], 0.0),  # infinite peak: 5/inf - 1 = -1, -inf/inf NaN
        (INF, [-INF], 0.0),
        (5e-324, [0.0, 5e-324], 0.0),  # subnormal peak: 0/p - 1 = -1
        (1e-300, [1e-310], 0.0),
    ],
)
def test_skip_edge_cases(peak, values, seen):
    """Each edge filling whole blocks (the skip path), from the state and from a first bar."""
    for n in (64, 128, 300, 1000):
        x = np.resize(np.array(values), n)
        _check(x, [peak, INF, seen])
        _check(np.r_[peak, x], [-INF, INF, 0.0])
        # only whole blocks hold the values (the rest NaN): no scalar tail to repeat them
        x[(n // 128) * 128 :] = NAN
        _check(x, [peak, INF, seen])
        _check(np.r_[peak, x[:-1]], [-INF, INF, 0.0])
