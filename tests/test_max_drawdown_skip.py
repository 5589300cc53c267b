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

A block that does set a new peak ``p1`` is bounded before any division: with ``m`` the
smallest bar since the last flush (the skipped blocks' and this block's), every drawdown of
those bars is at least ``lb = m / p1 - 1`` (``m >= 0``) or ``m / p - 1`` (``m < 0``); when the
best so far is ``<= lb`` and something has been seen, the block only moves the peak.  The
``*_bound_*`` tests put the deciding bar on each side of that bound (the quotient one ulp
below / at / above the best, a negative bar before the new peak, a deep bar in an earlier
skipped block, a state with nothing seen), at every 8-byte offset (the SIMD cores step single
bars up to an aligned address first, so each offset moves the block boundaries).
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


def _at_offsets(x: np.ndarray):
    """``x`` copied to each of the 8 float64 offsets of a 64-byte line."""
    buf = np.empty(len(x) + 8)
    for off in range(8):
        v = buf[off : off + len(x)]
        v[:] = x
        yield v


def _event_series(event: list, before: float, after: float, at: int = 400, n: int = 900) -> np.ndarray:
    """``before`` bars, the ``event`` bars from index ``at``, then ``after`` bars."""
    x = np.full(n, before)
    x[at + len(event) :] = after
    x[at : at + len(event)] = event
    return x


def _edge_below(p1: float, best: float) -> float:
    """The largest bar whose drawdown from peak p1 is below ``best`` (the rounding edge)."""
    m = p1 * (1.0 + best)
    while m / p1 - 1.0 < best:
        m = math.nextafter(m, INF)
    while m / p1 - 1.0 >= best:
        m = math.nextafter(m, -INF)
    return m


M_EDGE = _edge_below(200.0, -0.5)


@pytest.mark.parametrize("at", [400, 445, 511, 512])
@pytest.mark.parametrize(
    "m, want",
    [
        (M_EDGE, M_EDGE / 200.0 - 1.0),  # the largest bar whose drawdown is below the best
        (math.nextafter(M_EDGE, INF), -0.5),  # the next one: exactly the best, nothing changes
        (100.0, -0.5),
    ],
)
def test_bound_new_peak_then_its_minimum(at, m, want):
    """A new peak p1 = 200 and, right after it (same block), a bar m whose drawdown
    m / 200 - 1 sits at the best -0.5 of the state: bounded by p1, not by the old peak
    (m / 100 - 1 is near 0, far above the best)."""
    assert want < -0.5 if m == M_EDGE else want == -0.5
    x = _event_series([200.0, m], before=90.0, after=190.0, at=at)
    assert reference.max_drawdown_chunk(x.tolist(), [100.0, -0.5, 1.0])[0][0] == want
    for v in _at_offsets(x):
        _check(v, [100.0, -0.5, 1.0])


@pytest.mark.parametrize("at", [400, 445, 511, 512])
def test_bound_negative_bar_before_the_new_peak(at):
    """A negative bar -10 at the old peak 100, then a new peak 200 (same block): its drawdown
    is -10 / 100 - 1 = -1.1, below the best -1.06; bounded by p1 (-10 / 200 - 1 = -1.05)
    the block would be skipped."""
    x = _event_series([-10.0, 200.0], before=90.0, after=190.0, at=at)
    assert reference.max_drawdown_chunk(x.tolist(), [100.0, -1.06, 1.0])[0][0] == -1.1
    for v in _at_offsets(x):
        _check(v, [100.0, -1.06, 1.0])
        _check(np.r_[100.0, v[:-1]], [-INF, -1.06, 1.0])


@pytest.mark.parametrize("gap", [150, 300, 600])
def test_bound_deep_bar_in_a_skipped_block(gap):
    """A bar 30 (drawdown -0.7) blocks before a new peak 200 amid bars whose drawdowns are
    above the best -0.6 (90 / 200 - 1 = -0.55): the bound takes segmin (the skipped blocks'
    minimum) with this block's, so the block with the new peak is not skipped and -0.7 is
    flushed at the old peak."""
    x = _event_series([200.0], before=90.0, after=190.0, at=700)
    x[700 - gap] = 30.0
    assert reference.max_drawdown_chunk(x.tolist(), [100.0, -0.6, 1.0])[0][0] == 30.0 / 100.0 - 1.0
    for v in _at_offsets(x):
        _check(v, [100.0, -0.6, 1.0])
        _check(np.r_[100.0, v[:-1]], [-INF, -0.6, 1.0])


@pytest.mark.parametrize("k", [1, 5, 40])
def test_bound_nothing_seen_yet(k):
    """A state with a peak but nothing seen (best -1 from the state), NaN bars, then k bars
    below the peak and a new peak, then NaN: the block must be stepped, so that it is
    seen (result -1, not NaN)."""
    x = np.full(900, NAN)
    x[400 : 400 + k] = 90.0
    x[400 + k] = 200.0
    assert reference.max_drawdown_chunk(x.tolist(), [100.0, -1.0, 0.0])[0][0] == -1.0
    for v in _at_offsets(x):
        _check(v, [100.0, -1.0, 0.0])


@pytest.mark.parametrize("best, want", [(-0.96, -1.0), (-1.0, -1.0), (-1.5, -1.5), (-INF, -INF)])
def test_bound_infinite_new_peak(best, want):
    """A new peak +inf: the bars after it draw down x / inf - 1 = -1 (NaN for +-inf), which
    the bound m / inf - 1 = -1 covers (bounded by the old peak, 5 / 100 - 1 = -0.95, a best
    of -0.96 would skip the block).  Once skipped (best <= -1), the blocks at peak +inf,
    -inf and finite bars in them, cannot lower the best.  The blocks after the one with
    +inf have a -inf in every SIMD lane (their minimum's drawdown is NaN) and the scalar
    tail is NaN, so only the block with +inf gives the -1."""
    x = np.full(1200, 90.0)
    x[400:402] = [INF, 5.0]  # the rest of its block (ending by 519 at any offset): 90
    x[520:1100] = np.resize([-INF] * 8 + [3.0] * 8, 580)
    x[1100:] = NAN
    assert reference.max_drawdown_chunk(x.tolist(), [100.0, best, 1.0])[0][0] == want
    for v in _at_offsets(x):
        _check(v, [100.0, best, 1.0])


@st.composite
def bound_series(draw) -> tuple:
    """A state (finite positive peak, a best, seen or not), then runs of bars below a
    peak that sometimes rises inside a run; bars on the edges of the bound: drawdowns a few
    ulps around the best for the current peak (after a new peak: bounded by it) or for the
    one before it, negative / zero / NaN / infinite bars."""
    p = draw(st.sampled_from([100.0, 1.0, 1e-300, 5e-324, 1e300]))
    best = draw(st.sampled_from([-0.5, -0.9, -0.999, 0.0, -1.0, -1.5, -INF]))
    seen = draw(st.sampled_from([1.0, 1.0, 0.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    peak, parts = p, []
    for _ in range(draw(st.integers(1, 8))):
        part = peak * (0.95 + 0.04 * rng.random(draw(st.integers(1, 300))))
        j = draw(st.integers(0, len(part) - 1))
        kind = draw(st.sampled_from(["plain", "peak", "peak+edge", "edge+peak", "edge", "neg", "special"]))
        old = peak
        if "peak" in kind:
            peak = min(peak * draw(st.sampled_from([1.0000001, 1.5, 2.0, 1e10])), 1.7976931348623157e308)
            part[j] = peak
            part[j + 1 :] = peak * (0.95 + 0.04 * rng.random(len(part) - j - 1))
        if "edge" in kind and -1.0 < best <= 0.0:
            q, at = (old, j - 1) if kind == "edge+peak" else (peak, j + 1 if kind == "peak+edge" else j)
            v = _edge_below(q, best)
            for _ in range(draw(st.integers(0, 2))):
                v = math.nextafter(v, draw(st.sampled_from([INF, -INF])))
            part[min(max(at, 0), len(part) - 1)] = v
        if kind == "neg":
            part[j] = -draw(st.sampled_from([1.0, 0.5, 1e-300])) * peak
        if kind == "special":
            part[j] = draw(st.sampled_from([0.0, -0.0, NAN, INF, -INF, 5e-324]))
        parts.append(part)
    return np.concatenate(parts), [p, best, seen]


@given(case=bound_series())
def test_bound_edges_against_the_twin(case):
    x, state = case
    for v in _at_offsets(x):
        _check(v, state)
