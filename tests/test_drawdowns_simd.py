"""drawdowns' inside-episode scans: one per SIMD path (``_core.drawdowns``'s ``path``).

The scalar path runs the plain loop, ``avx512_emu`` the SSE2 scan (8 bars a block),
``avx2`` / ``avx512`` the AVX2 scan (``_core.simd_code(path)["drawdowns"]``).  The AVX2 scan
walks an episode 32 bars a block: a vertical max finds the block holding the
recovery, the other blocks fold their minimum, and the block of the last strictly lower
minimum is where the valley's first bar is looked for.  Series are drawn from a few values
so that episodes are long (over several blocks), lows are tied across blocks (the valley is
the *first* bar at the minimum), recoveries fall anywhere in a block, and NaN / signed-zero
/ infinite bars sit next to them; chunks carry the state.  Every path this CPU runs must give
the twin's records and state bit for bit (float32 too, though it never takes a block scan).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekernels import _core, ufuncs
from tradekernels.scans import reference
from tradekernels.scans.records import RECORD_DTYPE

VALUES = [5.0, 4.0, 3.0, 3.0, 2.0, 2.0, 2.5, 4.5, 1.0, 0.0, -0.0, math.nan, math.inf]


#: every SIMD path this CPU runs: scalar, avx512_emu (SSE2 scan), avx2 / avx512 (AVX2 scan)
SCANS = ufuncs.available_paths()


def _twin(x: np.ndarray, state: np.ndarray, final: bool) -> tuple[list[tuple], list[float]]:
    with np.errstate(divide="ignore", invalid="ignore"):  # depth at a peak of 0.0
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
        for xs in (x, x.astype(np.float32)):  # VALUES are exact in float32
            st_ = state.reshape(1, -1).copy()
            got = _core.drawdowns(xs.reshape(1, -1), RECORD_DTYPE, st_, final, scan)
            rows = [tuple(r)[1:] for r in got.tolist()]
            assert len(rows) == len(want), scan
            for g, w in zip(rows, want):
                assert len(g) == len(w)
                assert all(_same(a, b) for a, b in zip(g, w)), (scan, xs.dtype, g, w)
            np.testing.assert_array_equal(st_[0], np.array(want_state), err_msg=f"{scan} {xs.dtype}")


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
def test_a_tied_low_in_a_later_block_is_not_the_valley(scan: str) -> None:
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


def _episode_rows(peak: float, low: float, back: float) -> np.ndarray:
    """One row per (start, recovery offset, low offset): bars before the episode's peak at
    `start`, then bars inside it (a low tied twice, NaN next to the first low and before the
    recovery), the recovery `back` (compares >= peak) at every offset 1..69 after the peak,
    across the 8-bar SSE2 and 32-bar AVX2 blocks, then a tail."""
    rows = []
    for start in range(0, 9):
        for rec in range(1, 70):
            for lo_at in sorted({1, 2, rec // 2, rec - 1} - {0}):
                x = np.full(8 + 75, np.nan)
                x[:start] = peak - 2.0 if np.isfinite(peak) else 1.0
                x[start] = peak
                inside = x[start + 1 : start + rec]
                inside[:] = low + 1.0 if np.isfinite(low) else 0.0
                inside[1::5] = np.nan
                if lo_at < rec:
                    inside[lo_at - 1] = low
                    # the tie (not the valley; +0.0 after a low of -0.0)
                    inside[(lo_at + rec) // 2 - 1 :: 9] = 0.0 if low == 0 else low
                    if lo_at < rec - 1:
                        inside[lo_at] = np.nan
                x[start + rec] = back
                x[start + rec + 1 :] = -3.0
                rows.append(x)
    return np.array(rows)


@pytest.mark.parametrize(
    "peak, low, back",
    [
        (0.0, -2.0, -0.0),  # recovery at -0.0 >= 0.0: the end value keeps its sign
        (-0.0, -2.0, 0.0),
        (math.inf, 1.0, math.inf),  # an infinite peak, recovered only by +inf
        (5.0, -math.inf, 5.0),  # an infinite low (the valley), depth -inf
        (5.0, -0.0, 6.0),  # a low of -0.0 tied with +0.0 later
    ],
)
def test_every_recovery_and_low_offset_on_every_path(peak: float, low: float, back: float) -> None:
    """Episodes starting at each of 9 offsets, recovered 1..69 bars after their peak (so at
    every position of an 8-bar and a 32-bar block, and with a block scan of 0..8 blocks), with
    a first low and a later tie, NaN bars and signed zero / infinite prices: every path's
    records and state equal the twin's (rows of one 2-D call, each from the start state)."""
    x = _episode_rows(peak, low, back)
    want, want_state = [], []
    for c, row in enumerate(x):
        recs, st_ = _twin(row, np.array(reference.DRAWDOWNS_START, dtype=np.float64), True)
        want += [(c,) + tuple(r) for r in recs]
        want_state.append(st_)
    for scan in SCANS:
        st_ = np.tile(np.array(reference.DRAWDOWNS_START, dtype=np.float64), (len(x), 1))
        got = [tuple(r) for r in _core.drawdowns(x, RECORD_DTYPE, st_, True, scan).tolist()]
        assert len(got) == len(want), scan
        bad = [(g, w) for g, w in zip(got, want) if not all(_same(a, b) for a, b in zip(g, w))]
        assert not bad, (scan, len(bad), bad[:3])
        np.testing.assert_array_equal(st_, np.array(want_state), err_msg=scan)


def test_the_path_argument():
    """``path`` names a SIMD path this CPU runs (default: the fastest native one); the
    records are the same on each; a bad one is refused."""
    x = np.array([[3.0, 1.0, 2.0, 4.0, 0.5]])
    want = _core.drawdowns(x, RECORD_DTYPE, None, True, "scalar")
    assert len(want) == 2
    assert _core.drawdowns(x, RECORD_DTYPE).tolist() == want.tolist()
    assert _core.drawdowns(x, RECORD_DTYPE, None, True, None).tolist() == want.tolist()
    for p in SCANS:
        assert _core.drawdowns(x, RECORD_DTYPE, None, True, p).tolist() == want.tolist()
    with pytest.raises(ValueError, match="unknown SIMD path"):
        _core.drawdowns(x, RECORD_DTYPE, None, True, "sse2")
    with pytest.raises(TypeError):
        _core.drawdowns(x, RECORD_DTYPE, None, True, 1)
