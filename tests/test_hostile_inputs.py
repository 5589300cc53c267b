"""Array and argument inputs a fuzzing campaign (under ASan + UBSan) found mishandled.

Each case is a layout or an argument the rest of the suite did not try: a misaligned
buffer for the records kernel (not a ufunc, so NumPy aligns nothing for it), ``out=`` the
input itself for the rolling kernel (NumPy copies no exact alias), dask chunks of unknown
size, a window whose carried state cannot exist, and a few arguments whose error was an
internal one.
"""

from __future__ import annotations

import numpy as np
import pytest

import tradekernels as tk
from conftest import assert_bits_identical
from tradekernels import ufuncs

WALK = np.array([3.0, 1.0, 2.0, 0.5, 4.0, 3.5, 5.0, 1.0, 2.5, 6.0] * 7)


def _misaligned(a: np.ndarray) -> np.ndarray:
    """The values of ``a`` in a buffer one byte off the float64 alignment."""
    m = np.frombuffer(b"\0" + a.tobytes(), dtype=a.dtype, offset=1).reshape(a.shape)
    assert m.ctypes.data % a.dtype.alignment != 0
    return m


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_drawdowns_of_a_misaligned_buffer(dtype):
    """tk.drawdowns reads a misaligned row through its byte loads (a double * cast there is
    undefined behaviour: UBSan aborts), with the records of the aligned copy."""
    for x in (WALK.astype(dtype), np.vstack([WALK, WALK[::-1]]).astype(dtype)):
        got = tk.drawdowns(_misaligned(x))
        assert got.tobytes() == tk.drawdowns(x).tobytes()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("window", [1, 3, 8, 200])
def test_rolling_max_drawdown_in_place(dtype, window):
    """out= the input itself: each window still sees the prices, not the results written
    over them (the public function and the raw gufunc, 1-D and 2-D, NaN bars too)."""
    p = WALK.astype(dtype)
    p2 = np.vstack([p, p[::-1]])
    p2[1, 5] = np.nan
    for a in (p, p2):
        want = tk.rolling_max_drawdown(a, window, min_periods=1)
        x = a.copy()
        assert tk.rolling_max_drawdown(x, window, min_periods=1, out=x) is x
        assert_bits_identical(x, want)
        x = a.copy()
        ufuncs.rolling_max_drawdown(x, window, 1, out=x)
        assert_bits_identical(x, want)


def test_dask_chunks_of_unknown_size():
    """After boolean indexing the time chunks have unknown (NaN) sizes: the returns carry
    the previous price through every chunk; rolling_max_drawdown asks for the sizes."""
    da = pytest.importorskip("dask.array")
    tkd = pytest.importorskip("tradekernels.dask")
    p = np.arange(1.0, 13.0)
    p[[2, 7]] = -1.0  # dropped below: chunks of 2 and 3 bars, unknown to dask
    x = da.from_array(p, chunks=3)
    x = x[x > 0]
    assert any(c != c for c in x.chunks[-1])
    kept = p[p > 0]
    for f in ("simple_returns", "log_returns", "drawdown", "cumulative_returns"):
        assert_bits_identical(getattr(tkd, f)(x).compute(), getattr(tk, f)(kept))
    empty_chunk = da.from_array(np.concatenate([p[:3], p[3:3], p[3:]]), chunks=3)
    y = da.concatenate([empty_chunk[:3], empty_chunk[3:3], empty_chunk[3:]])
    assert_bits_identical(tkd.simple_returns(y).compute(), tk.simple_returns(p))
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        tkd.rolling_max_drawdown(x, 5)
    x.compute_chunk_sizes()
    assert_bits_identical(tkd.rolling_max_drawdown(x, 5).compute(), tk.rolling_max_drawdown(kept, 5))


def test_rolling_state_of_a_huge_window():
    """The carried state of a window holds window - 1 prices: built as floats (a window of
    10**6 on a short series is fine), an impossible one is a clear error, not a hang."""
    x = np.arange(1.0, 20.0)
    r, st = tk.rolling_max_drawdown(x, 10**6, min_periods=1, return_state=True)
    assert_bits_identical(r, tk.rolling_max_drawdown(x, 10**6, min_periods=1))
    assert st.values.shape == (10**6,) and st.values[0] == len(x)
    with pytest.raises((ValueError, MemoryError)):
        tk.rolling_max_drawdown(x, 2**62, return_state=True)


def test_ulcer_index_ddof_checks_out():
    """ddof != 0 takes its own road: out= is still checked as everywhere else."""
    x = np.array([3.0, 1.0, 2.0, 4.0])
    o = np.zeros(())
    assert tk.ulcer_index(x, ddof=1, out=o) is o and o == tk.ulcer_index(x, ddof=1)
    for ddof in (0, 1):
        with pytest.raises(ValueError, match="out"):
            tk.ulcer_index(x, ddof=ddof, out=np.zeros(5))
        with pytest.raises(TypeError, match="out"):
            tk.ulcer_index(x, ddof=ddof, out=np.zeros((), np.float32))


def test_arguments_whose_error_was_internal():
    with pytest.raises(ValueError, match="unknown time zone"):
        tk.Calendar("America", "09:30", "16:00")  # a directory of the zone database
    with pytest.raises(ValueError, match="unknown time zone"):
        tk.Calendar("A" * 5000, "09:30", "16:00")  # a name too long for the file system
    with pytest.raises(TypeError, match="window must be an integer"):
        tk.rolling_max_drawdown(np.ones(5), None)
    with pytest.raises(ValueError, match="window must fit in int64"):
        tk.rolling_max_drawdown(np.ones(5), 2**63)


def test_more_arguments_whose_error_was_unclear():
    import datetime as dt

    cal = tk.Calendar("UTC", "09:30", "16:00")
    for v in (dt.datetime.min, dt.datetime.max, dt.datetime(1500, 1, 1, tzinfo=dt.timezone.utc)):
        with pytest.raises(OverflowError, match="outside the datetime64"):
            tk.session_mask(v, cal)
    assert tk.session_mask(dt.datetime(2024, 3, 8, 10), cal)
    # a holiday / early close date with a time of day: refused as a datetime one is
    # (a datetime64 one was cut to its date)
    for v in (
        np.datetime64("2024-07-04T12:00"),
        np.datetime64("2024-07-04T00:00:00.000000001"),
        dt.datetime(2024, 7, 4, 12),
    ):
        with pytest.raises(ValueError, match="must be a date"):
            tk.Calendar("UTC", "09:30", "16:00", holidays=[v])
    for v in (np.datetime64("2024-07-04T00:00", "ns"), np.datetime64("2024-07", "M"), "2024-07-04"):
        tk.Calendar("UTC", "09:30", "16:00", holidays=[v])
    b = np.linspace(1.0, 2.0, 10)
    with pytest.raises(ValueError, match="price must be"):
        tk.trades_from_signals((b, b, b, b), np.arange(10) % 3 == 0, np.arange(10) % 3 == 1, price=b)
    pl = pytest.importorskip("polars")
    if not hasattr(pl, "Int128"):
        return
    try:
        s = pl.Series("a", [1, 2], dtype=pl.Int128)
    except Exception:
        pytest.skip("this polars builds no Int128 Series")
    try:
        s.to_numpy()
    except Exception:  # polars' own error type: tradekernels names the dtype instead
        with pytest.raises(TypeError, match="cannot read values of dtype Int128"):
            tk.drawdown(s)
