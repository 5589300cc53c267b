"""polars Series in -> polars Series out (nulls become NaN); skips without polars."""

from __future__ import annotations

import numpy as np
import pytest

pl = pytest.importorskip("polars")

import tradekernels as tk  # noqa: E402
from conftest import assert_bits_identical, kernel_params  # noqa: E402


def _prices(rng, n=300):
    return 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, n))


@kernel_params()
@pytest.mark.parametrize("dtype", [pl.Float64, pl.Float32])
def test_series_round_trip(kernel, dtype, rng):
    x = _prices(rng)
    s = pl.Series("px", x).cast(dtype)
    res = getattr(tk, kernel.name)(s)
    xn = s.to_numpy()
    with np.errstate(all="ignore"):
        want = getattr(tk, kernel.name)(xn)
    if kernel.scan:
        assert isinstance(res, pl.Series) and res.name == "px" and len(res) == len(s)
        assert res.null_count() == 0
        assert_bits_identical(res.to_numpy(), want, kernel.name)
        if kernel.outputs[0] == "f":
            assert res.dtype == dtype
        else:
            assert res.dtype == pl.Int64
    else:
        assert type(res) is type(want)
        for a, b in zip(
            np.atleast_1d(np.asarray(tuple(res) if isinstance(res, tuple) else res)),
            np.atleast_1d(np.asarray(tuple(want) if isinstance(want, tuple) else want)),
        ):
            assert_bits_identical(np.float64(a), np.float64(b), kernel.name)


@kernel_params()
def test_nulls_become_nan(kernel):
    s = pl.Series("x", [100.0, None, 90.0, 110.0, None, 80.0])
    x = np.array([100.0, np.nan, 90.0, 110.0, np.nan, 80.0])
    res = getattr(tk, kernel.name)(s)
    with np.errstate(all="ignore"):
        want = getattr(tk, kernel.name)(x)
    if kernel.scan:
        assert_bits_identical(res.to_numpy(), want, kernel.name)
    else:
        assert str(res) == str(want)
    # integer series with nulls compute as float64 with NaN
    si = pl.Series("i", [3, None, 2, 5], dtype=pl.Int32)
    with np.errstate(all="ignore"):
        want_i = getattr(tk, kernel.name)(np.array([3.0, np.nan, 2.0, 5.0]))
    got_i = getattr(tk, kernel.name)(si)
    if kernel.scan:
        assert_bits_identical(got_i.to_numpy(), want_i, kernel.name)


def test_state_and_chunks_with_polars(rng):
    s = pl.Series("px", _prices(rng))
    a, st = tk.drawdown(s[:100], return_state=True)
    b, st = tk.drawdown(s[100:], state=st, return_state=True)
    assert_bits_identical(pl.concat([a, b]).to_numpy(), tk.drawdown(s).to_numpy(), "chunked polars")
    assert tk.max_drawdown(s) == tk.max_drawdown(s.to_numpy())


def test_zero_copy_input_and_bad_input():
    s = pl.Series("x", np.arange(1.0, 11.0))
    assert s.to_numpy().base is not None or not s.to_numpy().flags.owndata  # polars hands out a view
    with pytest.raises(TypeError):
        tk.drawdown(pl.Series("s", ["a", "b"]))
    with pytest.raises(TypeError, match="per column"):
        tk.drawdown(pl.DataFrame({"a": [1.0, 2.0]}))
    # map_batches per column works
    df = pl.DataFrame({"a": [1.0, 2.0, 1.5], "b": [3.0, 1.0, 4.0]})
    out = df.select(pl.all().map_batches(tk.drawdown))
    np.testing.assert_array_equal(out["b"].to_numpy(), tk.drawdown(np.array([3.0, 1.0, 4.0])))
    assert tk.underwater_bars(pl.Series("b", [True, False, True])).to_list() == [0, 1, 0]


def test_a_decimal_series_is_read_as_float64():
    """polars Decimal (numeric to polars, no NumPy dtype): each value rounded to float64 once,
    nulls NaN, as the same Series cast to Float64."""
    s = pl.Series("d", ["1.50", "2.25", None, "1.75"]).str.to_decimal()
    got = tk.drawdown(s)
    assert isinstance(got, pl.Series) and got.name == "d"
    np.testing.assert_array_equal(got.to_numpy(), tk.drawdown(s.cast(pl.Float64)).to_numpy())


def _ohlc(rng, n):
    c = _prices(rng, n)
    o = np.r_[c[0], c[:-1]]
    return (o, np.maximum(o, c) * 1.004, np.minimum(o, c) * 0.996, c)


def test_signal_backtest_of_a_polars_frame_equals_the_arrays(rng):
    """A polars DataFrame of open/high/low/close is 1-D bars, as fill_orders and exit_orders
    read it; it has no index (no times), so trades_from_signals returns the records of the
    arrays (TRADE_DTYPE), as fill_orders / exit_orders return NumPy for it."""
    n = 200
    bars = _ohlc(rng, n)
    frame = pl.DataFrame(dict(zip(("open", "high", "low", "close"), bars)))
    ent, ext = rng.random(n) < 0.1, rng.random(n) < 0.05
    kw = dict(sl_stop=0.02, tp_stop=0.04)
    want = tk.trades_from_signals(bars, ent, ext, **kw)
    for entries, exits in ((ent, ext), (pl.Series("e", ent), pl.Series("x", ext))):
        got = tk.trades_from_signals(frame, entries, exits, **kw)
        assert isinstance(got, np.ndarray) and got.dtype == tk.fills.TRADE_DTYPE and len(got) > 3
        assert got.tobytes() == want.tobytes()
    got, st_ = tk.trades_from_signals(frame[:120], ent[:120], ext[:120], **kw, return_state=True)
    rest = tk.trades_from_signals(frame[120:], ent[120:], ext[120:], **kw, state=st_)
    assert np.concatenate([got, rest]).tobytes() == want.tobytes()
    assert st_.entry_time is None and st_.last_time is None  # (no times: as for arrays)
    for a, b in zip(
        tk.fill_orders(frame, 3, 1, "limit", bars[3][3] * 0.98),
        tk.fill_orders(bars, 3, 1, "limit", bars[3][3] * 0.98),
    ):
        assert_bits_identical(np.asarray(a), np.asarray(b), "fill_orders(polars frame)")
    for a, b in zip(tk.exit_orders(frame, 3, sl_stop=0.02), tk.exit_orders(bars, 3, sl_stop=0.02)):
        assert_bits_identical(np.asarray(a), np.asarray(b), "exit_orders(polars frame)")


def test_a_polars_frame_without_an_ohlc_column_is_the_named_value_error(rng):
    frame = pl.DataFrame(dict(zip(("open", "high", "low", "close"), _ohlc(rng, 20)))).drop("low")
    ent = np.zeros(20, dtype=bool)
    for call in (
        lambda: tk.BarIndex.from_frame(frame),
        lambda: tk.fill_orders(frame, 0, 1, "limit", 99.0),
        lambda: tk.exit_orders(frame, 0, sl_stop=0.02),
        lambda: tk.trades_from_signals(frame, ent, sl_stop=0.02),
    ):
        with pytest.raises(
            ValueError,
            match=r"^tradekernels\.BarIndex: expected columns 'open', 'high', 'low', 'close'.*'low'",
        ):
            call()
    pytest.importorskip("pandas")
    with pytest.raises(
        ValueError, match=r"^tradekernels\.BarIndex: expected columns 'open', 'high', 'low', 'close'.*'low'"
    ):
        tk.BarIndex.from_frame(frame.to_pandas())
