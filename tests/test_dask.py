"""dask: raw gufuncs on symbol-chunked arrays; tradekernels.dask on time-chunked arrays.

Every result must equal the in-memory kernel bit for bit.  Skips cleanly
without dask; the LocalCluster test is marked ``distributed`` (deselect with
``-m "not distributed"``) and skips without dask.distributed.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

import tradekernels as tk  # noqa: E402
import tradekernels.dask as tkd  # noqa: E402
from conftest import assert_bits_identical, kernel_params  # noqa: E402
from tradekernels import ufuncs  # noqa: E402
from tradekernels._registry import KERNELS  # noqa: E402

NAMES = [k.name for k in KERNELS]


def _prices(rng, shape, dtype=np.float64):
    x = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.03, shape), axis=-1)
    x[rng.random(shape) < 0.05] = np.nan
    x[rng.random(shape) < 0.01] = 0.0
    x[rng.random(shape) < 0.01] = np.inf
    return x.astype(dtype)


def _compute(res, scheduler="threads"):
    with dask.config.set(scheduler=scheduler):
        if isinstance(res, tuple):
            return tuple(np.asarray(r) for r in dask.compute(*res))
        return (np.asarray(res.compute()),)


def _expected(name, x, **kw):
    with np.errstate(all="ignore"):
        r = getattr(tk, name)(x, **kw)
    return tuple(np.asarray(v) for v in r) if isinstance(r, tuple) else (np.asarray(r),)


def _assert_all(got, want, what):
    assert len(got) == len(want)
    for j, (a, e) in enumerate(zip(got, want)):
        assert a.dtype == e.dtype, f"{what} output {j}: {a.dtype} != {e.dtype}"
        assert_bits_identical(a, e, f"{what} output {j}")


# --------------------------------------------------------------------------
# Raw gufuncs: time axis in one chunk (NumPy __array_ufunc__ -> apply_gufunc)
# --------------------------------------------------------------------------


@kernel_params()
def test_raw_gufunc_on_symbol_chunked_dask_array(kernel, rng):
    x = _prices(rng, (10, 500))
    d = da.from_array(x, chunks=(3, -1))
    res = getattr(ufuncs, kernel.name)(d)
    res = res if isinstance(res, tuple) else (res,)
    assert all(isinstance(r, da.Array) for r in res)
    with np.errstate(all="ignore"):
        want = getattr(ufuncs, kernel.name)(x)
    want = want if isinstance(want, tuple) else (want,)
    _assert_all(_compute(tuple(res)), want, f"raw {kernel.name}")


# --------------------------------------------------------------------------
# tradekernels.dask: time-chunked arrays
# --------------------------------------------------------------------------


@st.composite
def chunkings(draw, n):
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=5)))
    b = [0] + cuts + [n]
    return tuple(hi - lo for lo, hi in zip(b[:-1], b[1:]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_time_chunked_equals_in_memory(name, dtype, data, rng):
    n = data.draw(st.integers(1, 300))
    x = _prices(rng, (4, n), dtype)
    tchunks = data.draw(chunkings(n))
    d = da.from_array(x, chunks=((1, 3), tchunks))
    got = _compute(getattr(tkd, name)(d))
    _assert_all(got, _expected(name, x), f"{name} chunks {tchunks}")


@pytest.mark.parametrize("name", NAMES)
def test_time_axis_0_and_1d_and_numpy_input(name, rng):
    x = _prices(rng, (700, 3))
    d = da.from_array(x, chunks=(123, 2))
    _assert_all(_compute(getattr(tkd, name)(d, axis=0)), _expected(name, x, axis=0), f"{name} axis=0")
    x1 = x[:, 0]
    _assert_all(
        _compute(getattr(tkd, name)(da.from_array(x1, chunks=50))), _expected(name, x1), f"{name} 1-d"
    )
    _assert_all(_compute(getattr(tkd, name)(x1)), _expected(name, x1), f"{name} numpy in")
    xi = (np.arange(40) % 7).astype(np.int32)  # ints compute as float64
    _assert_all(_compute(getattr(tkd, name)(da.from_array(xi, chunks=9))), _expected(name, xi), f"{name} int")


def test_lazy_results_and_errors(rng):
    d = da.from_array(_prices(rng, (2, 50)), chunks=(1, 10))
    r = tkd.drawdown(d)
    assert isinstance(r, da.Array) and r.chunks == d.chunks and r.dtype == np.float64
    ep = tkd.drawdown_episode(d)
    assert isinstance(ep, tk.Episode) and ep.peak.dtype == np.int64 and ep.depth.shape == (2,)
    u = tkd.underwater_bars(d)
    assert u.dtype == np.int64
    # graphs pickle (what a distributed scheduler ships)
    pickle.loads(pickle.dumps(r.__dask_graph__()))
    with pytest.raises(TypeError):
        tkd.drawdown(da.from_array(np.array(["a", "b"])))
    with pytest.raises(np.exceptions.AxisError):
        tkd.drawdown(d, axis=2)
    # same input, same names (deterministic tokens); different kernels differ
    assert tkd.drawdown(d).name == r.name and tkd.cumulative_returns(d).name != r.name


def test_sync_scheduler(rng):
    x = _prices(rng, (3, 200))
    d = da.from_array(x, chunks=(2, 33))
    for name in NAMES:
        _assert_all(_compute(getattr(tkd, name)(d), "sync"), _expected(name, x), name)


@pytest.mark.distributed
def test_local_cluster_processes(rng):
    distributed = pytest.importorskip("distributed")
    x = _prices(rng, (6, 2_000))
    # generous start/connect timeouts: spawning worker processes on a loaded machine may take
    # longer than distributed's defaults, which would fail the test by timing alone
    with (
        dask.config.set(
            {
                "distributed.comm.timeouts.connect": "300s",
                "distributed.comm.timeouts.tcp": "300s",
                "distributed.deploy.lost-worker-timeout": "300s",
            }
        ),
        distributed.LocalCluster(
            processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None, timeout=300
        ) as cluster,
        distributed.Client(cluster, timeout=300) as client,
    ):
        # raw gufunc, symbol-chunked
        raw = client.compute(ufuncs.drawdown(da.from_array(x, chunks=(2, -1)))).result()
        assert_bits_identical(raw, tk.drawdown(x), "raw drawdown on LocalCluster")
        # time-chunked, every kernel
        d = da.from_array(x, chunks=(3, 300))
        for name in NAMES:
            r = getattr(tkd, name)(d)
            futs = client.compute(list(r) if isinstance(r, tuple) else [r])
            got = tuple(np.asarray(f.result()) for f in futs)
            _assert_all(got, _expected(name, x), f"{name} on LocalCluster")
        # sessions: the calendar travels to the worker processes
        cal = _tokyo()
        ts = _stamps(np.random.default_rng(2), (4, 900))
        dt = da.from_array(ts, chunks=(2, 128))
        for name in SESSIONS:
            got = client.compute(getattr(tkd, name)(dt, cal)).result()
            np.testing.assert_array_equal(got, getattr(tk, name)(ts, cal), err_msg=f"{name} on LocalCluster")
        # fills: the bar index is shipped once, orders in blocks
        bars, orders = _bars_and_orders(np.random.default_rng(3))
        want = tk.fill_orders(bars, **orders)
        got = tkd.fill_orders(bars, **{k: da.from_array(v, chunks=128) for k, v in orders.items()})
        gi, gp = client.compute(list(got), sync=True)
        np.testing.assert_array_equal(gi, want.fill_index)
        np.testing.assert_array_equal(gp, want.fill_price)


# --------------------------------------------------------------------------
# Sessions over dask arrays
# --------------------------------------------------------------------------

SESSIONS = ("session_mask", "session_label", "minutes_into_session", "session_start")


def _tokyo():
    return tk.Calendar("Asia/Tokyo", "09:00", "15:00", breaks=[("11:30", "12:30")], holidays=["2024-01-08"])


def _stamps(rng, shape):
    start = np.datetime64("2024-01-03T20:00", "ns").astype(np.int64)
    ts = start + np.cumsum(rng.integers(0, 40, shape) * 60 * 10**9, axis=-1)
    ts[rng.random(shape) < 0.01] = np.iinfo(np.int64).min
    return ts.view("datetime64[ns]")


@pytest.mark.parametrize("chunks", [(2, 37), (1, 500), (3, 1), (-1, 250)])
def test_sessions_time_chunked_equal_in_memory(chunks, rng):
    cal = _tokyo()
    x = _stamps(rng, (3, 1000))
    d = da.from_array(x, chunks=chunks)
    for name in SESSIONS:
        got = getattr(tkd, name)(d, cal).compute(scheduler="threads")
        np.testing.assert_array_equal(got, getattr(tk, name)(x, cal), err_msg=f"{name} {chunks}")


def test_sessions_dask_axis_sync_and_errors(rng):
    cal = _tokyo()
    x = _stamps(rng, (2, 600))
    d = da.from_array(x.T.copy(), chunks=(77, 1))  # time on axis 0
    got = tkd.session_start(d, cal, axis=0).compute(scheduler="sync")
    np.testing.assert_array_equal(got, tk.session_start(x, cal).T)
    with pytest.raises(TypeError, match="timestamps"):
        tkd.session_mask(da.from_array(np.zeros(4)), cal)
    with pytest.raises(TypeError, match="Calendar"):
        tkd.session_start(d, "XNYS")
    pickle.loads(pickle.dumps(tkd.session_start(d, cal, axis=0).__dask_graph__()))


# --------------------------------------------------------------------------
# Order fills over dask arrays of orders
# --------------------------------------------------------------------------


def _bars_and_orders(rng, n_bars=3000, n_orders=700):
    c = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.01, n_bars))
    o = np.concatenate([[100.0], c[:-1]])
    h = np.maximum(o, c) * (1 + rng.random(n_bars) * 0.005)
    lo = np.minimum(o, c) * (1 - rng.random(n_bars) * 0.005)
    o[rng.random(n_bars) < 0.01] = np.nan
    orders = dict(
        start=rng.integers(-5, n_bars + 5, n_orders),
        side=rng.choice([1, -1], n_orders),
        kind=rng.integers(0, 4, n_orders),
        price=c[np.clip(rng.integers(0, n_bars, n_orders), 0, n_bars - 1)]
        * (1 + rng.normal(0, 0.02, n_orders)),
        limit=c[rng.integers(0, n_bars, n_orders)],
        expiry=rng.integers(-2, n_bars, n_orders),
    )
    return (o, h, lo, c), orders


@pytest.mark.parametrize("chunk", [1, 64, 700])
def test_fill_orders_dask_equals_in_memory(chunk, rng):
    bars, orders = _bars_and_orders(rng)
    want = tk.fill_orders(bars, **orders)
    d = {k: da.from_array(v, chunks=chunk) for k, v in orders.items()}
    d["price"] = orders["price"]  # NumPy and dask arguments mix and broadcast
    got = tkd.fill_orders(tk.BarIndex(*bars), **d)
    gi, gp = dask.compute(*got, scheduler="threads")
    np.testing.assert_array_equal(gi, want.fill_index)
    np.testing.assert_array_equal(gp, want.fill_price)
    # broadcasting: one order template over a 2-D block of starts, string kinds in NumPy form
    starts = da.from_array(np.arange(0, 3000, 7).reshape(-1, 3)[:100], chunks=(16, 2))
    got = tkd.fill_orders(bars, starts, 1, "limit", 95.0)
    want = tk.fill_orders(bars, np.asarray(starts), 1, "limit", 95.0)
    np.testing.assert_array_equal(got.fill_index.compute(), want.fill_index)
    np.testing.assert_array_equal(got.fill_price.compute(), want.fill_price)


def test_fill_orders_dask_errors(rng):
    bars, orders = _bars_and_orders(rng, 100, 10)
    with pytest.raises(ValueError, match="broadcast"):
        tkd.fill_orders(bars, np.arange(3), 1, "limit", np.ones(4))
    lazy = tkd.fill_orders(
        bars,
        da.from_array(np.arange(10), chunks=5),
        1,
        da.from_array(np.full(10, int(tk.OrderKind.STOP_LIMIT)), chunks=5),
        100.0,
    )
    with pytest.raises(ValueError, match="limit"):
        lazy.fill_index.compute()


@pytest.mark.parametrize("chunk", [1, 50, 700])
def test_exit_orders_dask_equals_in_memory(chunk, rng):
    """Positions as dask arrays (NumPy and scalars mixed in) give the in-memory exits, on the
    threaded scheduler; 2-D bars with col; None entry prices (the entry bar's close)."""
    bars, _ = _bars_and_orders(rng)
    n = len(bars[0])
    m = 600
    pos = dict(
        entry_idx=rng.integers(0, n, m),
        sl_stop=np.where(rng.random(m) < 0.3, np.nan, rng.uniform(0.005, 0.05, m)),
        tsl_stop=np.where(rng.random(m) < 0.5, np.nan, rng.uniform(0.005, 0.05, m)),
        tp_stop=rng.uniform(0.01, 0.1, m),
        side=rng.choice([-1, 1], m),
        expiry=np.full(m, -1),
    )
    want = tk.exit_orders(bars, **pos, same_bar="open", slippage=0.001)
    d = {k: da.from_array(v, chunks=chunk) for k, v in pos.items()}
    d["side"] = pos["side"]  # NumPy and dask arguments mix and broadcast
    got = tkd.exit_orders(tk.BarIndex(*bars), **d, same_bar="open", slippage=0.001)
    assert isinstance(got, tk.Exits) and isinstance(got.exit_idx, da.Array)
    res = dask.compute(*got, scheduler="threads")
    for g, w in zip(res, want):
        np.testing.assert_array_equal(g, w)
    assert (want.reason != 0).mean() > 0.5  # exits happen
    # 2-D bars (3 series): col per position, explicit entry prices
    bars2 = tuple(np.stack([b, b[::-1], b * 1.1]) for b in bars)
    col = rng.integers(0, 3, m)
    ep = 100 + rng.normal(0, 1, m)
    want2 = tk.exit_orders(bars2, pos["entry_idx"], ep, 1, tp_stop=0.02, sl_stop=0.02, col=col)
    got2 = tkd.exit_orders(
        bars2,
        da.from_array(pos["entry_idx"], chunks=chunk),
        da.from_array(ep, chunks=chunk),
        1,
        tp_stop=0.02,
        sl_stop=0.02,
        col=da.from_array(col, chunks=chunk),
    )
    for g, w in zip(dask.compute(*got2, scheduler="threads"), want2):
        np.testing.assert_array_equal(g, w)


def test_exit_orders_dask_errors(rng):
    bars, _ = _bars_and_orders(rng, 100, 10)
    with pytest.raises(ValueError, match="broadcast"):
        tkd.exit_orders(bars, np.arange(3), None, 1, sl_stop=np.ones(4))
    with pytest.raises(ValueError, match="same_bar"):
        tkd.exit_orders(bars, np.arange(3), same_bar="nope")
    lazy = tkd.exit_orders(bars, da.from_array(np.array([1, 500]), chunks=1), sl_stop=0.1)
    with pytest.raises(IndexError, match="out of range"):
        lazy.exit_idx.compute(scheduler="threads")


# --------------------------------------------------------------------------
# fills and exits with the bars in time chunks: a chain of chunked calls
# --------------------------------------------------------------------------


@pytest.mark.parametrize("tchunk", [13, 97, 1000, 3000])
def test_fill_orders_with_bars_in_time_chunks(tchunk, rng):
    bars, orders = _bars_and_orders(rng)
    dbars = tuple(da.from_array(b, chunks=tchunk) for b in bars)
    want = tk.fill_orders(bars, **orders)
    got = tkd.fill_orders(dbars, **orders)
    gi, gp = dask.compute(*got, scheduler="threads")
    np.testing.assert_array_equal(gi, want.fill_index)
    assert gp.tobytes() == np.asarray(want.fill_price).tobytes()
    # orders as dask arrays too, no limit prices (no stop-limit orders), a scalar order
    no_sl = {k: v for k, v in orders.items() if k != "limit"}
    no_sl["kind"] = np.where(orders["kind"] == 3, 1, orders["kind"])
    d = {k: da.from_array(v, chunks=100) for k, v in no_sl.items()}
    want = tk.fill_orders(bars, **no_sl)
    got = dask.compute(*tkd.fill_orders(dbars, **d))
    np.testing.assert_array_equal(got[0], want.fill_index)
    one = tkd.fill_orders(dbars, 5, 1, "limit", 95.0)
    assert int(one.fill_index.compute()) == int(tk.fill_orders(bars, 5, 1, "limit", 95.0).fill_index)
    with pytest.raises(ValueError, match="limit"):  # raised when the chain computes, as in memory
        tkd.fill_orders(dbars, 5, 1, "stop_limit", 95.0).fill_index.compute()


@pytest.mark.parametrize("tchunk", [13, 250, 3000])
def test_exit_orders_with_bars_in_time_chunks(tchunk, rng):
    bars, _ = _bars_and_orders(rng)
    n, m = len(bars[0]), 400
    pos = dict(
        entry_idx=rng.integers(0, n, m),
        sl_stop=np.where(rng.random(m) < 0.3, np.nan, rng.uniform(0.005, 0.05, m)),
        tsl_stop=np.where(rng.random(m) < 0.5, np.nan, rng.uniform(0.005, 0.05, m)),
        tp_stop=rng.uniform(0.01, 0.1, m),
        side=rng.choice([-1, 1], m),
    )
    want = tk.exit_orders(bars, **pos, same_bar="open", entry_at="open")
    dbars = tuple(da.from_array(b, chunks=tchunk) for b in bars)
    got = dask.compute(*tkd.exit_orders(dbars, **pos, same_bar="open", entry_at="open"), scheduler="threads")
    for g, w in zip(got, want):
        assert np.asarray(g).tobytes() == np.asarray(w).tobytes()
    # 2-D bars (3 series, chunked along both axes: the series are put in one chunk) with col
    bars2 = tuple(np.stack([b, b[::-1], b * 1.1]) for b in bars)
    col = rng.integers(0, 3, m)
    want2 = tk.exit_orders(bars2, pos["entry_idx"], None, 1, tp_stop=0.02, tsl_stop=0.03, col=col)
    d2 = tuple(da.from_array(b, chunks=(2, tchunk)) for b in bars2)
    got2 = dask.compute(
        *tkd.exit_orders(
            d2, da.from_array(pos["entry_idx"], chunks=50), None, 1, tp_stop=0.02, tsl_stop=0.03, col=col
        )
    )
    for g, w in zip(got2, want2):
        assert np.asarray(g).tobytes() == np.asarray(w).tobytes()
    with pytest.raises(ValueError, match="shape"):
        tkd.exit_orders((dbars[0], bars[1][:10], bars[2], bars[3]), 0)


# --------------------------------------------------------------------------
# trades_from_signals: time chunks in order, each from the previous one's SignalState
# --------------------------------------------------------------------------


def _signal_bars(rng, n, rows=None):
    shape = (n,) if rows is None else (rows, n)
    c = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, shape), axis=-1)
    o = np.concatenate([np.full(shape[:-1] + (1,), 100.0), c[..., :-1]], axis=-1)[..., :n]
    h, lo = np.maximum(o, c) * 1.004, np.minimum(o, c) * 0.996
    c[rng.random(shape) < 0.03] = np.nan
    return (o, h, lo, c), rng.random(shape) < 0.1, rng.random(shape) < 0.05


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(0, 300),
    rows=st.sampled_from([None, 1, 5]),
    tchunk=st.integers(1, 120),
    rchunk=st.integers(1, 5),
    price=st.sampled_from(["close", "open"]),
    reenter=st.booleans(),
    seed=st.integers(0, 2**31),
)
def test_trades_from_signals_dask_equals_in_memory(n, rows, tchunk, rchunk, price, reenter, seed):
    rng = np.random.default_rng(seed)
    bars, ent, ext = _signal_bars(rng, n, rows)
    kw = dict(
        price=price, sl_stop=0.03, tsl_stop=0.02, tp_stop=0.05, slippage=0.001, reenter_on_exit_bar=reenter
    )
    want = tk.trades_from_signals(bars, ent, ext, **kw)
    chunks = tchunk if rows is None else (rchunk, tchunk)
    got = tkd.trades_from_signals(tuple(da.from_array(b, chunks=chunks) for b in bars), ent, ext, **kw)
    assert isinstance(got, da.Array) and got.dtype == tk.fills.TRADE_DTYPE
    res = got.compute(scheduler="threads")
    assert res.tobytes() == want.tobytes()


def test_drawdowns_dask_top_ties_are_broken_on_float64_depths():
    # two episodes whose float64 depths differ (-0.3158603780.., -0.3158603937..) but round to
    # one float32 depth: the deeper one (the later peak) is the top one, as in memory, though
    # their float32 records tie (and a tie would put the earlier peak first)
    f = np.float32
    x = np.array(
        [f(174.1554), f(119.14661), f(174.1554), f(132.43906) * 2, f(90.606804) * 2, f(132.43906) * 2],
        dtype=np.float32,
    )
    both = tk.drawdowns(x)
    assert both["depth"][0] == both["depth"][1]
    want = tk.drawdowns(x, top=1)
    assert int(want["peak_idx"][0]) == 3
    got = tkd.drawdowns(da.from_array(x, chunks=2), top=1).compute()
    assert got.tobytes() == want.tobytes()
    with pytest.raises(ValueError, match="top"):
        tkd.drawdowns(da.from_array(x, chunks=2), top=-1)


def test_trades_from_signals_dask_errors(rng):
    bars, ent, ext = _signal_bars(rng, 50)
    with pytest.raises(ValueError, match="price"):
        tkd.trades_from_signals(bars, ent, price="mid")
    with pytest.raises(TypeError, match="unexpected keyword"):
        tkd.trades_from_signals(bars, ent, sl=0.1)
    with pytest.raises(ValueError, match="shape"):
        tkd.trades_from_signals(bars, ent[:10])
    with pytest.raises(TypeError, match="tuple"):
        tkd.trades_from_signals(bars[0], ent)
    none = tkd.trades_from_signals(tuple(da.from_array(b, chunks=7) for b in bars), ent, tp_stop=0.01)
    assert none.compute().tobytes() == tk.trades_from_signals(bars, ent, tp_stop=0.01).tobytes()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(0, 200),
    lead=st.sampled_from([(), (3,), (2, 3)]),
    tchunk=st.integers(1, 80),
    rchunk=st.integers(1, 3),
    f32=st.booleans(),
    nan=st.sampled_from(["skip", "ffill", "zero_return"]),
    seed=st.integers(0, 2**31),
)
def test_drawdowns_dask_equals_in_memory(n, lead, tchunk, rchunk, f32, nan, seed):
    rng = np.random.default_rng(seed)
    x = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.03, lead + (n,)), axis=-1)
    x[rng.random(x.shape) < 0.05] = np.nan
    x = x.astype(np.float32) if f32 else x
    want = tk.drawdowns(x, nan=nan)
    dx = da.from_array(x, chunks=tuple(min(rchunk, d) or 1 for d in lead) + (tchunk,))
    got = tkd.drawdowns(dx, nan=nan)
    assert isinstance(got, da.Array) and got.dtype == want.dtype
    # with zero_return, a series whose first chunk has no price too (dask finds the series'
    # first price before the chain: test_nan_policy_time_chunked_equals_in_memory)
    res = got.compute(scheduler="threads")
    assert res.tobytes() == want.tobytes()
    # top=k: chosen on the float64 depths, then rounded, as in memory
    for k in (0, 1, 3):
        assert (
            tkd.drawdowns(dx, nan=nan, top=k).compute().tobytes() == tk.drawdowns(x, nan=nan, top=k).tobytes()
        )
    # the time axis first (axis=0)
    if lead:
        xt = np.moveaxis(x, -1, 0)
        got0 = tkd.drawdowns(da.from_array(xt, chunks=(tchunk,) + xt.shape[1:]), axis=0, nan=nan)
        assert got0.compute().tobytes() == tk.drawdowns(xt, axis=0, nan=nan).tobytes()


# --------------------------------------------------------------------------
# rolling_max_drawdown: each chunk with the window's head from the chunks before it
# --------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 80),
    window=st.integers(1, 30),
    mp=st.integers(0, 30),
    cuts=st.lists(st.integers(1, 80), min_size=0, max_size=6),
    seed=st.integers(0, 2**32 - 1),
    f32=st.booleans(),
)
def test_rolling_max_drawdown_time_chunked_equals_in_memory(n, window, mp, cuts, seed, f32):
    """Chunks shorter and longer than the window (a head spans several chunks), empty ones,
    specials (NaN, 0, inf: the naive recomputation), float32, min_periods."""
    rng = np.random.default_rng(seed)
    x = _prices(rng, (2, n), np.float32 if f32 else np.float64)
    mp = min(mp, window)
    bounds = sorted({min(c, n) for c in cuts} | {0, n})
    chunks = tuple(b - a for a, b in zip(bounds[:-1], bounds[1:]))
    res = tkd.rolling_max_drawdown(da.from_array(x, chunks=(1, chunks)), window, min_periods=mp)
    _assert_all(_compute(res), _expected("rolling_max_drawdown", x, window=window, min_periods=mp), "rmdd")


def test_rolling_max_drawdown_dask_axis_and_checks():
    rng = np.random.default_rng(3)
    x = _prices(rng, (40, 3))
    res = tkd.rolling_max_drawdown(da.from_array(x, chunks=(7, 3)), 9, axis=0)
    _assert_all(_compute(res), _expected("rolling_max_drawdown", x, window=9, axis=0), "axis 0")
    with pytest.raises(ValueError, match="window"):
        tkd.rolling_max_drawdown(da.from_array(x), 0)
    with pytest.raises(TypeError, match="min_periods"):
        tkd.rolling_max_drawdown(da.from_array(x), 3, min_periods=1.5)
    assert "rolling_max_drawdown" in tkd.__all__


# --------------------------------------------------------------------------
# The keywords of the top-level twins: nan=, ddof=, unit=, axis=None, names
# --------------------------------------------------------------------------

POLICY_NAMES = ("drawdown", "max_drawdown", "ulcer_index", "rolling_max_drawdown", "drawdowns")


def _policy_prices(rng, rows, n, lead_nan, dtype):
    """Prices with NaN bars, zeros and inf, each series starting with ``lead_nan[i]`` NaN
    bars (so a first chunk, or several, may have no price: the zero_return corner) and
    an all-NaN series when ``lead_nan[i] >= n``; a run of NaN bars inside each series (so
    a chunk may have no price after chunks that had: the carry crosses it)."""
    x = _prices(rng, (rows, n), np.float64)
    x[rng.random(x.shape) < 0.1] = np.nan
    for i, k in enumerate(lead_nan):
        x[i, :k] = np.nan
        a = int(rng.integers(0, n))
        x[i, a : a + int(rng.integers(0, n // 2 + 1))] = np.nan
    return x.astype(dtype)


def _policy_call(mod, name, x, **kw):
    if name == "rolling_max_drawdown":
        return mod.rolling_max_drawdown(x, 5, min_periods=2, **kw)
    return getattr(mod, name)(x, **kw)


def _policy_result(mod, name, x, **kw):
    with np.errstate(all="ignore"):
        r = _policy_call(mod, name, x, **kw)
    if mod is tkd:
        r = r.compute(scheduler="threads")
    return np.asarray(r)


@pytest.mark.parametrize("name", POLICY_NAMES)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_nan_policy_time_chunked_equals_in_memory(name, data):
    """nan= on the dask drawdown family: any chunking along time and series, leading NaN
    runs spanning chunks and all-NaN series (zero_return: the in-memory batch result, no
    ValueError), float32; equal to tk.<name>(x, nan=) bit for bit."""
    rows = data.draw(st.integers(1, 4), label="rows")
    n = data.draw(st.integers(1, 60), label="n")
    lead_nan = data.draw(st.lists(st.integers(0, n + 2), min_size=rows, max_size=rows), label="lead")
    dtype = data.draw(st.sampled_from([np.float64, np.float32]), label="dtype")
    nan = data.draw(st.sampled_from(["ffill", "zero_return", "skip"]), label="nan")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = _policy_prices(rng, rows, n, lead_nan, dtype)
    chunks = (data.draw(chunkings(rows), label="rchunks"), data.draw(chunkings(n), label="tchunks"))
    d = da.from_array(x, chunks=chunks)
    want = _policy_result(tk, name, x, nan=nan)
    got = _policy_result(tkd, name, d, nan=nan)
    if name == "drawdowns":
        assert got.tobytes() == want.tobytes(), f"drawdowns nan={nan} chunks {chunks}"
    else:
        _assert_all((got,), (want,), f"{name} nan={nan} chunks {chunks}")
    # the time axis first, and a bad policy refused before anything computes, as in memory
    xt = np.ascontiguousarray(x.T)
    got0 = _policy_result(tkd, name, da.from_array(xt, chunks=chunks[::-1]), nan=nan, axis=0)
    want0 = _policy_result(tk, name, xt, nan=nan, axis=0)
    assert got0.tobytes() == want0.tobytes(), f"{name} nan={nan} axis=0"
    with pytest.raises(ValueError, match="nan must be one of"):
        _policy_call(tkd, name, d, nan="bfill")


@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_ulcer_index_ddof_time_chunked_equals_in_memory(data):
    """ddof= on tkd.ulcer_index: from the final state's sumsq and count, as in memory (N - ddof
    <= 0 gives NaN), with the NaN policies; bit for bit for every chunking."""
    rows = data.draw(st.integers(1, 4), label="rows")
    n = data.draw(st.integers(1, 40), label="n")
    lead_nan = data.draw(st.lists(st.integers(0, n + 1), min_size=rows, max_size=rows), label="lead")
    dtype = data.draw(st.sampled_from([np.float64, np.float32]), label="dtype")
    ddof = data.draw(st.sampled_from([0, 1, 2, 5, np.int64(1)]), label="ddof")
    nan = data.draw(st.sampled_from(["skip", "ffill", "zero_return"]), label="nan")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = _policy_prices(rng, rows, n, lead_nan, dtype)
    chunks = (data.draw(chunkings(rows), label="rchunks"), data.draw(chunkings(n), label="tchunks"))
    got = _policy_result(tkd, "ulcer_index", da.from_array(x, chunks=chunks), ddof=ddof, nan=nan)
    want = _policy_result(tk, "ulcer_index", x, ddof=ddof, nan=nan)
    _assert_all((got,), (want,), f"ulcer_index ddof={ddof} nan={nan} chunks {chunks}")
    for bad in (1.0, True, "1"):
        with pytest.raises(TypeError, match="ddof"):
            tkd.ulcer_index(da.from_array(x), ddof=bad)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    unit=st.sampled_from(["ns", "us", "ms", "s"]),
    rchunk=st.integers(1, 3),
    tchunk=st.integers(13, 400),  # (chunks of one bar: test_sessions_time_chunked_equal_in_memory)
    sort=st.booleans(),
    seed=st.integers(0, 2**31),
)
def test_sessions_dask_unit_and_assume_sorted(unit, rchunk, tchunk, sort, seed):
    """unit= (integer epochs in us / ms / s) and assume_sorted= pass through to the in-memory
    functions: equal to tk.<name>(ts, cal, unit=...) for every chunking."""
    cal = _tokyo()
    per = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}[unit]
    ts = _stamps(np.random.default_rng(seed), (3, 400)).view(np.int64)
    ts = np.where(ts == np.iinfo(np.int64).min, ts, ts // per)
    if sort:
        ts = np.sort(ts, axis=-1)
    d = da.from_array(ts, chunks=(rchunk, tchunk))
    for name in SESSIONS:
        kw = {"unit": unit}
        if sort and name != "minutes_into_session":
            kw["assume_sorted"] = True
        got = getattr(tkd, name)(d, cal, **kw).compute(scheduler="threads")
        np.testing.assert_array_equal(got, getattr(tk, name)(ts, cal, **kw), err_msg=f"{name} {unit}")
    with pytest.raises(ValueError, match="unit must be one of"):
        tkd.session_mask(d, cal, unit="D")
    with pytest.raises(ValueError, match="integer timestamps only"):
        tkd.session_start(da.from_array(ts.view("datetime64[ns]")), cal, unit="us")


def _axis_call(mod, name, x, **kw):
    if name == "rolling_max_drawdown":
        return mod.rolling_max_drawdown(x, 4, **kw)
    if name in SESSIONS:
        return getattr(mod, name)(x, _tokyo(), **kw)
    return getattr(mod, name)(x, **kw)


@pytest.mark.parametrize("name", NAMES + ["rolling_max_drawdown", "drawdowns", "session_start"])
def test_axis_none_is_the_default_axis(name, rng):
    """axis=None means the default axis (the last one), as for the in-memory functions."""
    x = _stamps(rng, (3, 90)) if name in SESSIONS else _prices(rng, (3, 90))
    d = da.from_array(x, chunks=(2, 25))
    got = _axis_call(tkd, name, d, axis=None)
    got = tuple(got) if isinstance(got, tuple) else (got,)
    with np.errstate(all="ignore"):
        want = _axis_call(tk, name, x, axis=None)
    want = tuple(want) if isinstance(want, tuple) else (want,)
    for g, w in zip(dask.compute(*got, scheduler="threads"), want):
        assert np.asarray(g).tobytes() == np.asarray(w).tobytes(), name


#: Parameters of a top-level function its dask twin does not take, with the reason.
#: Nothing else may differ: names, kinds (positional / keyword-only) and defaults.
DASK_LEAVES_OUT = {
    "out": "results are new lazy dask arrays; there is no buffer to write into",
    "state": "the dask functions carry the state between chunks themselves",
    "return_state": "the dask functions carry the state between chunks themselves",
    "style": "drawdowns: style='quantstats' frames need pandas input; dask gives records",
}


#: Parameters named otherwise on dask, with the reason.
DASK_RENAMES = {
    # tkd.trades_from_signals takes the four bar arrays (chunked along time), never a BarIndex
    ("trades_from_signals", "bars_or_index"): "bars",
}


def test_dask_signatures_match_the_top_level_twins():
    import inspect

    for name in tkd.__all__:
        want = inspect.signature(getattr(tk, name)).parameters
        got = inspect.signature(getattr(tkd, name)).parameters
        kept = [
            (DASK_RENAMES.get((name, p.name), p.name), p.kind, p.default)
            for p in want.values()
            if p.name not in DASK_LEAVES_OUT
        ]
        assert [(p.name, p.kind, p.default) for p in got.values()] == kept, (
            f"tradekernels.dask.{name}{inspect.signature(getattr(tkd, name))} vs tradekernels.{name}"
        )


@pytest.mark.parametrize("tchunk", [None, 7, 300])
def test_fill_orders_dask_col_with_2d_bars(tchunk, rng):
    """col= (the row of each order for 2-D bars), a dask order argument like the others; the
    bars in memory or in time chunks; equal to the in-memory fills."""
    bars, orders = _bars_and_orders(rng, 300, 200)
    bars2 = tuple(np.stack([b, b[::-1], b * 1.1]) for b in bars)
    col = rng.integers(0, 3, 200)
    want = tk.fill_orders(bars2, **orders, col=col)
    d = {k: da.from_array(v, chunks=64) for k, v in orders.items()}
    b = bars2 if tchunk is None else tuple(da.from_array(v, chunks=(3, tchunk)) for v in bars2)
    got = dask.compute(*tkd.fill_orders(b, **d, col=da.from_array(col, chunks=50)), scheduler="threads")
    for g, w in zip(got, want):
        assert np.asarray(g).tobytes() == np.asarray(w).tobytes()
