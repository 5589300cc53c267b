"""Cross-checks against vectorbt-rust (an optional peer: skipped where it is not installed).

* ``get_drawdowns_rs`` (records from prices): field by field equal to
  ``tk.drawdowns`` on positive series without NaN (vectorbt ends an active
  episode at the last bar; tradekernels says -1);
* ``rolling_max_drawdown_rs`` (from returns): its window of ``w`` returns is
  the window of the ``w`` prices after the first one's base, so on full
  windows it is ``tk.rolling_max_drawdown`` one bar later, to the rounding of
  the compounded returns.
"""

from __future__ import annotations

import numpy as np
import pytest

import tradekernels as tk

vr = pytest.importorskip("vectorbt_rust")


def _walks(seed: int, n: int = 400, m: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, (n, m)), axis=0))
    x[::37] = np.round(x[::37])  # some retests of round prices
    return x


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_records_equal_vectorbt_rust(seed):
    x = _walks(seed)  # (time, series): vectorbt's layout
    theirs = vr.generic.get_drawdowns_rs(x)
    ours = tk.drawdowns(x, axis=0)
    assert len(ours) == len(theirs) > 0
    for f in ("col", "peak_idx", "valley_idx", "peak_val", "valley_val", "end_val", "status"):
        assert np.array_equal(ours[f], theirs[f]), f
    active = ours["status"] == 0
    assert np.array_equal(ours["end_idx"][~active], theirs["end_idx"][~active])
    assert (theirs["end_idx"][active] == x.shape[0] - 1).all()


@pytest.mark.parametrize("window", [2, 5, 20, 63])
@pytest.mark.parametrize("seed", [1, 2])
def test_rolling_close_to_vectorbt_rust(seed, window):
    x = _walks(seed, n=300, m=3)
    r = np.ascontiguousarray(x[1:] / x[:-1] - 1.0)  # r[j] is the return into bar j + 1
    theirs = vr.returns.rolling_max_drawdown_rs(r, window, 1)
    ours = tk.rolling_max_drawdown(x, window, min_periods=1, axis=0)
    # their window r[i-w+1 .. i] is the prices x[i-w+2 .. i+1]: ours at bar i + 1
    a, b = ours[window:], theirs[window - 1 :]
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert (a < 0).any()  # windows with a drawdown were compared
