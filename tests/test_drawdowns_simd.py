"""drawdowns' inside-episode scans: SSE2 and AVX2 (``_core.drawdowns``'s ``avx2`` argument).

The AVX2 scan walks an episode 32 bars a block: a vertical max finds the block holding the
recovery, the other blocks fold their minimum, and the block of the last strictly lower
minimum is where the valley's first bar is looked for.  Series are drawn from a few values
so that episodes are long (over several blocks), lows are tied across blocks (the valley is
the *first* bar at the minimum), recoveries fall anywhere in a block, and NaN / signed-zero
/ infinite bars sit next to them; chunks carry the state.  Both scans must give the twin's
records and state bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekernels import _core
from tradekernels.scans import reference
from tradekernels.scans.records import RECORD_DTYPE

VALUES = [5.0, 4.0, 3.0, 3.0, 2.0, 2.0, 2.5, 4.5, 1.0, 0.0, -0.0, math.nan, math.inf]


def _has_avx2() -> bool:
    try:
        _core.drawdowns(np.zeros((1, 1)), RECORD_DTYPE, None, True, 1)
    except ValueError:
        return False
    return True


SCANS = [0, 1] if _has_avx2() else [0]


def _twin(x: np.ndarray, state: np.ndarray, final: bool) -> tuple[list[tuple], list[float]]:
    recs, new = reference.drawdowns_chunk(list(x), list(state), final)
    return recs, list(new)


def _same(a: float, b: float) -> bool:
    """Equal bits (NaN equals NaN; the sign of a zero counts)."""
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b and math.copysign(1, a) == math.copysign(1, b)


def _check(x: np.ndarray, state: np.ndarray, final: bool) -> None:
    want, want_state = _twin(x, state, final)
    for scan in SCANS:
        st_ = state.reshape(1, -1).copy()
        got = _core.drawdowns(x.reshape(1, -1), RECORD_DTYPE, st_, final, scan)
        rows = [tuple(r)[1:] for r in got.tolist()]
        assert len(rows) == len(want), scan
        for g, w in zip(rows, want):
            assert len(g) == len(w)
            assert all(_same(a, b) for a, b in zip(g, w)), (scan, g, w)
        np.testing.assert_array_equal(st_[0], np.array(want_state), err_msg=str(scan))


@st.composite
def series(draw) -> np.ndarray:
    """Runs of values (long flat stretches make long, tied episodes)."""
    runs = draw(st.lists(st.tuples(st.sampled_from(VALUES), st.integers(1, 40)), max_size=12))
    return np.array([v for v, k in runs for _ in range(k)], dtype=np.float64)


@settings(max_examples=300, deadline=None)
@given(x=series())
def test_both_scans_equal_the_twin(x: np.ndarray) -> None:
    _check(x, np.array(reference.DRAWDOWNS_START, dtype=np.float64), True)


@settings(max_examples=200, deadline=None)
@given(x=series(), cut=st.integers(0, 400))
def test_both_scans_in_chunks(x: np.ndarray, cut: int) -> None:
    cut = min(cut, len(x))
    s0 = np.array(reference.DRAWDOWNS_START, dtype=np.float64)
    _, mid = _twin(x[:cut], s0, False)
    _check(x[:cut], s0, False)
    _check(x[cut:], np.array(mid, dtype=np.float64), True)


@pytest.mark.parametrize("scan", SCANS)
def test_a_tied_low_in_a_later_block_is_not_the_valley(scan: int) -> None:
    """The minimum first reached in one block and reached again in later blocks."""
    for first in range(1, 100, 7):
        for again in range(first + 1, 190, 11):
            x = np.full(200, 3.0)
            x[0] = 10.0
            x[first] = 1.0
            x[again] = 1.0
            x[-1] = 11.0
            st_ = np.array([reference.DRAWDOWNS_START], dtype=np.float64)
            got = _core.drawdowns(x.reshape(1, -1), RECORD_DTYPE, st_, True, scan)
            assert len(got) == 1 and got["valley_idx"][0] == first, (first, again)
