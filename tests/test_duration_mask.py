"""max_drawdown_duration's mask blocks (AVX2, AVX-512 and its emulation).

The SIMD cores count a block of bars that holds a bar at (or above) the peak from the
mask of its reset bars (``tk_max_drawdown_duration_mask`` in ``tk_scan.h``): the run
before the first reset, the gaps between resets (looked at only while ``best`` is smaller
than the block allows), the run after the last one, and the last reset bar as the new
peak.  Series are drawn from a few values so that resets, ties, gaps of every length and
NaN / signed-zero / infinite bars are dense, at lengths that leave every tail (whole
vectors and single bars), and from carried states (``count`` -1 or counting, any
``best``).  Every path must give the twin's result and state bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import path_ufuncs
from tradekernels import ufuncs
from tradekernels.scans import reference

PATHS = ufuncs.available_paths()
VALUES = [1.0, 2.0, 3.0, 2.5, 0.0, -0.0, -1.0, math.inf, -math.inf, math.nan]

series = st.lists(st.sampled_from(VALUES), max_size=140)


def _state(peak: float, count: int, best: int) -> np.ndarray:
    return np.array([peak, float(count), float(best)])


@settings(max_examples=300, deadline=None)
@given(x=series)
def test_every_path_equals_the_twin(x: list[float]) -> None:
    a = np.array(x, dtype=np.float64)
    want = reference.max_drawdown_duration(x)
    for path in PATHS:
        got = path_ufuncs(path)["max_drawdown_duration"](a)
        assert int(got) == want, (path, x)


@settings(max_examples=300, deadline=None)
@given(
    x=series,
    peak=st.sampled_from([-math.inf, 0.0, 1.0, 2.0, 3.0, math.inf, math.nan]),
    count=st.integers(-1, 40),
    best=st.integers(-1, 40),
)
def test_every_path_from_a_carried_state(x: list[float], peak: float, count: int, best: int) -> None:
    a = np.array(x, dtype=np.float64)
    s0 = _state(peak, count, max(best, count))
    (want,), want_state = reference.max_drawdown_duration_chunk(x, list(s0))
    for path in PATHS:
        got, state = path_ufuncs(path)["max_drawdown_duration_state"](a, s0)
        assert int(got) == want, (path, x)
        np.testing.assert_array_equal(state, np.array(want_state, dtype=np.float64), err_msg=path)
        assert [math.copysign(1.0, v) for v in state] == [math.copysign(1.0, v) for v in want_state]


def test_gaps_inside_one_block_after_shorter_runs() -> None:
    """The longest run sits between two resets of one block, after a shorter run set best."""
    for pre in (0, 1, 5, 6, 7, 12, 29):
        head = [10.0] + [9.0] * pre  # best = pre once the next reset comes
        for gap in range(pre + 1, 31):
            for start in range(0, 40):
                x = head + [10.0] * start + [10.0] + [9.5] * gap + [10.0]
                x += [11.0 + j for j in range(40)]
                want = reference.max_drawdown_duration(x)
                assert want == gap
                a = np.array(x)
                for path in PATHS:
                    got = int(path_ufuncs(path)["max_drawdown_duration"](a))
                    assert got == want, (path, pre, gap, start)


def test_leading_nan_blocks_before_the_first_price() -> None:
    """NaN bars before any price leave the count at -1 (no peak yet), however many
    32-bar blocks they fill: runs of every length around the blocks, then a drawdown,
    and all-NaN series; plain and from the default state."""
    tail = [5.0, 4.0, 3.0, 6.0, 2.0]
    for lead in list(range(0, 70)) + [95, 96, 97, 128, 200]:
        for x in ([math.nan] * lead + tail, [math.nan] * lead):
            want = reference.max_drawdown_duration(x)
            a = np.array(x, dtype=np.float64)
            for path in PATHS:
                u = path_ufuncs(path)
                assert int(u["max_drawdown_duration"](a)) == want, (path, lead, len(x))
                (want_s,), want_state = reference.max_drawdown_duration_chunk(x, [-math.inf, -1.0, -1.0])
                got, state = u["max_drawdown_duration_state"](a, _state(-math.inf, -1, -1))
                assert int(got) == want_s == want, (path, lead, len(x))
                np.testing.assert_array_equal(state, np.array(want_state), err_msg=f"{path} {lead}")


def test_skipped_blocks_from_a_state_without_a_count() -> None:
    """The skip loops pass whole blocks below the peak; from a state whose count is -1
    (no kernel makes one with a finite or NaN peak, but every path must still give the
    twin's bits) the skipped bars are not counted (mutation check:
    avx512-duration-skip-before-first)."""
    for peak in (3.0, math.inf, math.nan):
        for best in (-1, 0, 7):
            for n in (31, 32, 33, 63, 64, 65, 100, 130):
                for x in ([1.0] * n, [1.0] * n + [4.0, 2.0, 2.0]):
                    s0 = _state(peak, -1, best)
                    (want,), want_state = reference.max_drawdown_duration_chunk(x, list(s0))
                    a = np.array(x, dtype=np.float64)
                    for path in PATHS:
                        got, state = path_ufuncs(path)["max_drawdown_duration_state"](a, s0)
                        assert int(got) == want, (path, peak, best, len(x))
                        np.testing.assert_array_equal(state, np.array(want_state), err_msg=path)
