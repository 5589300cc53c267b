"""Input the scans API must not mishandle, as classes (hardening round 2, item 5).

* Missing values in every container the API takes (numpy masked arrays, pandas NA in any
  nullable or pyarrow dtype, polars null) are NaN for the kernels; a masked array in gives
  a masked array out (scans: the input's mask; reductions: plain values).
* The compute dtype follows the *logical* dtype of the input, whatever holds it: float32
  (``float32``, ``Float32``, ``float[pyarrow]``, ``halffloat[pyarrow]``, masked float32)
  stays float32; every other real dtype computes as float64.
* ``out=`` must be real and hold the result under NumPy's "safe" casting, else a TypeError
  naming ``out``; on every backend.
"""

from __future__ import annotations

import numpy as np
import pytest

import tradekernels as tk
from conftest import assert_outputs_same, assert_same, kernel_params, reference_apply
from tradekernels._registry import KERNELS

pd = pytest.importorskip("pandas")

BACKENDS = ["native", "reference", "shadow"]


def _outs(res):
    return tuple(np.asarray(r) for r in res) if isinstance(res, tuple) else (np.asarray(res),)


def _call(kernel, x, **kw):
    with np.errstate(all="ignore"):
        return getattr(tk, kernel.name)(x, **kw)


def _prices(rng, shape):
    return 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.03, shape), axis=-1)


# --------------------------------------------------------------------------
# numpy masked arrays
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
@pytest.mark.parametrize("shape, axis", [((40,), -1), ((3, 40), -1), ((40, 3), 0)])
@kernel_params()
def test_masked_entries_are_nan(kernel, mode, dtype, shape, axis, rng):
    data = np.moveaxis(_prices(rng, np.moveaxis(np.empty(shape), axis, -1).shape), -1, axis).astype(dtype)
    bar5 = tuple(5 if d == axis % len(shape) else slice(None) for d in range(len(shape)))
    data[bar5] = 10**6  # garbage under the mask
    mask = rng.random(shape) < 0.2
    mask[bar5] = True
    x = np.ma.masked_array(data, mask=mask)
    fdt = np.float32 if dtype == np.float32 else np.float64
    plain = np.where(mask, np.nan, data.astype(fdt))
    with tk.backend(mode):
        res = _call(kernel, x, axis=axis)
    want = reference_apply(kernel, plain, axis=axis)
    if kernel.scan:
        assert isinstance(res, np.ma.MaskedArray), type(res)
        np.testing.assert_array_equal(np.ma.getmaskarray(res), mask)
        assert_outputs_same((np.ma.getdata(res),), want, kernel.ulps, kernel.name)
    else:  # reductions: plain values
        assert not any(isinstance(r, np.ma.MaskedArray) for r in (res if isinstance(res, tuple) else (res,)))
        assert_outputs_same(_outs(res), want, kernel.ulps, kernel.name)


def test_masked_array_of_the_issue():
    x = np.ma.masked_array([100.0, 1e9, 90.0, 95.0], mask=[0, 1, 0, 0])
    assert tk.max_drawdown(x) == pytest.approx(-0.1)
    dd = tk.drawdown(x)
    assert dd.mask.tolist() == [False, True, False, False]
    assert dd[2] == pytest.approx(-0.1)


@kernel_params([k for k in KERNELS if k.scan])
def test_masked_array_with_state_and_out(kernel, rng):
    x = np.ma.masked_array(_prices(rng, (2, 30)), mask=rng.random((2, 30)) < 0.3)
    full = _call(kernel, x)
    a, st = _call(kernel, x[:, :12], return_state=True)
    b = _call(kernel, x[:, 12:], state=st)
    np.testing.assert_array_equal(np.ma.concatenate([a, b], axis=1).mask, x.mask)
    np.testing.assert_array_equal(np.ma.concatenate([a, b], axis=1).data, full.data)
    # a state that adds series: the mask broadcasts with the result
    r = _call(kernel, x, state=tk.State.initial(kernel.name, (3, 2)))
    assert r.shape == (3, 2, 30) and (r.mask == x.mask).all()
    # out=: a plain out is filled and returned masked; a masked out gets the mask
    o = np.empty(x.shape, dtype=full.dtype)
    r = _call(kernel, x, out=o)
    assert isinstance(r, np.ma.MaskedArray) and np.shares_memory(r, o) and (r.mask == x.mask).all()
    mo = np.ma.masked_array(np.zeros(x.shape, full.dtype), mask=True)
    r = _call(kernel, x.data, out=mo)  # plain input: nothing is masked
    assert r is mo and not mo.mask.any()
    np.testing.assert_array_equal(mo.data, _call(kernel, x.data))


# --------------------------------------------------------------------------
# pandas extension dtypes: missing -> NaN, compute dtype from the logical dtype
# --------------------------------------------------------------------------

_EXT = [
    ("Float32", np.float32),
    ("Float64", np.float64),
    ("Int64", np.int64),
    ("Int8", np.int8),
    ("UInt64", np.uint64),
    ("boolean", np.bool_),
]
_ARROW = [
    ("float[pyarrow]", np.float32),
    ("halffloat[pyarrow]", np.float16),
    ("double[pyarrow]", np.float64),
    ("int64[pyarrow]", np.int64),
    ("bool[pyarrow]", np.bool_),
]


def _ext_params():
    out = list(_EXT)
    try:
        import pyarrow  # noqa: F401

        out += _ARROW
    except ImportError:  # pragma: no cover
        pass
    return out


@pytest.mark.parametrize("dtype, numpy_dtype", _ext_params(), ids=[d for d, _ in _ext_params()])
@kernel_params()
def test_pandas_extension_dtypes(kernel, dtype, numpy_dtype):
    if np.dtype(numpy_dtype).kind == "b":
        values = [True, None, False, True, True, None, False, True]
    else:
        values = [100, 110, None, 90, 95, 120, None, 80]
    s = pd.Series(values, dtype=dtype, name="n", index=range(10, 18))
    fdt = (
        np.float32
        if np.dtype(numpy_dtype).kind == "f" and np.dtype(numpy_dtype).itemsize <= 4
        else np.float64
    )
    plain = np.array([np.nan if v is None else float(v) for v in values], dtype=fdt)
    want = reference_apply(kernel, plain)
    res = _call(kernel, s)
    if kernel.scan:
        assert isinstance(res, pd.Series) and res.name == "n" and list(res.index) == list(range(10, 18))
        assert res.dtype == want[0].dtype, f"{dtype}: {res.dtype}"
        got = (res.to_numpy(),)
    else:
        got = _outs(res)
    assert_outputs_same(got, want, kernel.ulps, f"{kernel.name} {dtype}")
    # in a DataFrame, alone and beside a float32 column: the frame's common dtype
    df = pd.DataFrame({"a": s, "b": np.linspace(1.0, 2.0, 8, dtype=np.float32)})
    r = _call(kernel, df)
    common = np.result_type(np.dtype(numpy_dtype), np.float32)
    expect = np.float32 if common == np.float32 else np.float64
    if kernel.scan:
        out_dt = np.dtype(expect) if kernel.outputs[0] == "f" else np.dtype(np.int64)
        assert list(r.dtypes) == [out_dt] * 2, f"{dtype}: {list(r.dtypes)}"
        assert_outputs_same(
            (r["a"].to_numpy(),),
            reference_apply(kernel, plain.astype(expect)),
            kernel.ulps,
            f"{kernel.name} {dtype} in a frame",
        )


@pytest.mark.parametrize("dtype", [pl_dt for pl_dt in ("Float32", "Float64", "Int64")])
def test_polars_nulls_keep_the_logical_dtype(dtype):
    pl = pytest.importorskip("polars")
    s = pl.Series("p", [100, None, 90, 95], dtype=getattr(pl, dtype), strict=False)
    r = tk.drawdown(s)
    assert r.dtype == (pl.Float32 if dtype == "Float32" else pl.Float64)
    assert r.null_count() == 0 and np.isnan(r.to_numpy()[1])


# --------------------------------------------------------------------------
# out=: only dtypes that hold the result
# --------------------------------------------------------------------------

_OUT_DTYPES = [np.dtype(c) for c in "?bhilqBHILQefdgFD"]


@pytest.mark.parametrize("mode", BACKENDS)
@pytest.mark.parametrize("in_dtype", [np.float64, np.float32])
@kernel_params()
def test_out_dtype_must_hold_the_result(kernel, mode, in_dtype, rng):
    x = _prices(rng, (2, 20)).astype(in_dtype)
    want = _outs(_call(kernel, x))
    for j, w in enumerate(want):
        for dt in _OUT_DTYPES:
            outs = [np.empty(v.shape, v.dtype) for v in want]
            outs[j] = np.empty(w.shape, dt)
            out = tuple(outs) if len(outs) > 1 else outs[0]
            with tk.backend(mode):
                if np.can_cast(w.dtype, dt, "safe") and dt.kind != "c":
                    res = _call(kernel, x, out=out)
                    got = _outs(res)
                    assert got[j] is outs[j] or np.shares_memory(got[j], outs[j])
                    if kernel.ulps and dt.kind == "f":  # want is native; the twin agrees to the ulps
                        np.testing.assert_array_equal(got[j], got[j].astype(w.dtype).astype(dt))
                        assert_same(got[j].astype(w.dtype), w, kernel.ulps, f"{mode} {dt}")
                    else:
                        np.testing.assert_array_equal(got[j], w.astype(dt))
                else:
                    name = "out=" if len(outs) == 1 else f"out[{j}]"
                    with pytest.raises(
                        TypeError,
                        match=rf"{kernel.name}: {name.replace('[', '.').replace(']', '.')} "
                        rf"has dtype {dt}.*cannot hold the result",
                    ):
                        _call(kernel, x, out=out)
                    with pytest.raises(TypeError, match="cannot hold the result"):
                        _call(kernel, x, out=out, return_state=True)


def test_underwater_bars_into_int8_is_refused():
    x = np.concatenate([[2.0], np.ones(300)])
    with pytest.raises(TypeError, match=r"underwater_bars: out= has dtype int8.*int64"):
        tk.underwater_bars(x, out=np.empty(301, np.int8))


@pytest.mark.parametrize("mode", BACKENDS)
@pytest.mark.parametrize("state", [None, "initial", "wide"])
@kernel_params()
def test_out_must_have_the_result_shape(kernel, mode, state):
    """out= is never broadcast to (the raw ufuncs keep NumPy's rule): a bigger or smaller
    out= is a ValueError on every backend, with or without a state."""
    x = np.linspace(100.0, 90.0, 12).reshape(3, 4)
    kw = {} if state is None else {"return_state": True}
    if state == "wide":
        kw["state"] = tk.State.initial(kernel.name, (2, 3))
    res = _outs(_call(kernel, x, **kw)[0] if kw else _call(kernel, x))
    for extra in [(2,), ()]:
        outs = [np.empty(extra + r.shape, r.dtype) for r in res]
        if not extra:
            outs[0] = np.empty(res[0].shape[1:], res[0].dtype)
        out = tuple(outs) if len(outs) > 1 else outs[0]
        with tk.backend(mode), pytest.raises(ValueError, match="has shape .* the result has shape"):
            _call(kernel, x, out=out, **kw)
    outs = [np.empty(r.shape, r.dtype) for r in res]
    with tk.backend(mode):
        got = _call(kernel, x, out=tuple(outs) if len(outs) > 1 else outs[0], **kw)
    got = _outs(got[0] if kw else got)
    for g, r in zip(got, res):
        np.testing.assert_array_equal(g, r)


def test_out_must_be_arrays_of_the_right_count():
    with pytest.raises(TypeError, match="out= must be an array or a tuple of arrays, got a list"):
        tk.drawdown(np.ones(3), out=[0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="out= needs 4 arrays, got 2"):
        tk.drawdown_episode(np.ones(3), out=(np.empty((), np.int64),) * 2)


# --------------------------------------------------------------------------
# fills: missing bars never fill; order lists may be empty
# --------------------------------------------------------------------------


def _bars(rng, n):
    c = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.01, n))
    o = np.r_[100.0, c[:-1]]
    h = np.maximum(o, c) * (1.0 + 0.01 * rng.random(n))
    lo = np.minimum(o, c) * (1.0 - 0.01 * rng.random(n))
    return [np.round(v * 4) / 4 for v in (o, h, lo, c)]


def _containers(bars, masks):
    """The same bars with missing entries, in every container the API takes."""
    pl = pytest.importorskip("polars")
    masked = [np.ma.masked_array(b, mask=m) for b, m in zip(bars, masks)]
    nullable = [pd.Series(np.where(m, np.nan, b)).astype("Float64").mask(m) for b, m in zip(bars, masks)]
    out = {
        "masked": lambda: tk.BarIndex(*masked),
        "masked float32": lambda: tk.BarIndex(*(b.astype(np.float32) for b in masked)),
        "Float64 NA": lambda: tk.BarIndex(*nullable),
        "from_frame Float64 NA": lambda: tk.BarIndex.from_frame(
            pd.DataFrame(dict(zip(("open", "high", "low", "close"), nullable)))
        ),
        "from_frame dict of masked": lambda: tk.BarIndex.from_frame(
            dict(zip(("open", "high", "low", "close"), masked))
        ),
        "polars null": lambda: tk.BarIndex(
            *(pl.Series(np.where(m, np.nan, b)).fill_nan(None) for b, m in zip(bars, masks))
        ),
    }
    return out


@pytest.mark.parametrize("mode", BACKENDS)
def test_bar_index_missing_bars_are_nan_and_never_fill(mode, rng):
    n = 300
    bars = _bars(rng, n)
    garbage = [b.copy() for b in bars]
    masks = [rng.random(n) < 0.1 for _ in bars]
    for g, m in zip(garbage, masks):
        g[m] = np.where(rng.random(int(m.sum())) < 0.5, -1e9, 1e9)  # would fill everything
    masks[0][40:60] = True  # a run of missing opens
    plain = tk.BarIndex(*(np.where(m, np.nan, b) for b, m in zip(bars, masks)))
    missing = np.any(masks, axis=0)
    m = 500
    start = rng.integers(0, n, m)
    side = rng.choice([-1, 1], m)
    kind = rng.integers(0, 4, m)
    price = 100.0 + rng.normal(0, 5, m)
    with tk.backend(mode):
        want = tk.fill_orders(plain, start, side, kind, price, limit=price + 1)
    assert not missing[want.fill_index[want.fill_index >= 0]].any()
    for what, make in _containers(garbage, masks).items():
        bi = make()
        for a, b in zip(bi.bars, plain.bars):
            if what == "masked float32":
                b = b.astype(np.float32).astype(np.float64)
            np.testing.assert_array_equal(a, b, err_msg=what)
        if what == "masked float32":
            continue
        with tk.backend(mode):
            got = tk.fill_orders(bi, start, side, kind, price, limit=price + 1)
        np.testing.assert_array_equal(got.fill_index, want.fill_index, err_msg=what)
        np.testing.assert_array_equal(got.fill_price, want.fill_price, err_msg=what)


@pytest.mark.parametrize("mode", BACKENDS)
def test_empty_order_lists_give_empty_fills(mode, rng):
    bi = tk.BarIndex(*_bars(rng, 50))
    empties = [[], (), np.array([]), np.array([], np.int64), np.ma.masked_array([])]
    with tk.backend(mode):
        for e in empties:
            for kw in (
                dict(start=e, side=e, kind=e, price=e),
                dict(start=e, side=1, kind="limit", price=e),
                dict(start=e, side=e, kind=[], price=100.0, limit=e, expiry=e),
                dict(start=0, side=1, kind="stop_limit", price=e, limit=e),
            ):
                fi, fp = tk.fill_orders(bi, **kw)
                assert fi.shape == fp.shape == (0,) and fi.dtype == np.int64 and fp.dtype == np.float64


def test_masked_order_fields(rng):
    bi = tk.BarIndex(*_bars(rng, 50))
    mask = [False, True, False]
    for field in ("start", "side", "kind", "expiry"):
        kw = dict(
            start=np.array([0, 1, 2]),
            side=np.array([1, 1, 1]),
            kind=np.array([0, 0, 0]),
            price=100.0,
            expiry=np.array([-1, -1, -1]),
        )
        kw[field] = np.ma.masked_array(kw[field], mask=mask)
        with pytest.raises(ValueError, match=f"{field} has masked entries"):
            tk.fill_orders(bi, **kw)
        kw[field] = np.ma.masked_array(kw[field].data)  # nothing masked: fine
        assert tk.fill_orders(bi, **kw).fill_index.shape == (3,)
    # a masked price is NaN: a limit order without a price never fills
    fi, fp = tk.fill_orders(bi, [0, 0], 1, "limit", np.ma.masked_array([1e9, 1e9], mask=[False, True]))
    assert fi.tolist() == [0, -1] and np.isnan(fp[1])


@pytest.mark.parametrize(
    "name", ["SimpleReturns", "Drawdown", "UnderwaterBars", "MaxDrawdown", "DrawdownEpisode"]
)
def test_stream_extend_with_masked_values(name, rng):
    x = np.ma.masked_array(_prices(rng, 30), mask=rng.random(30) < 0.3)
    x.data[x.mask] = 1e9
    a, b = getattr(tk.stream, name)(), getattr(tk.stream, name)()
    got = a.extend(x)
    want = b.extend(np.where(x.mask, np.nan, x.data))
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ma.MaskedArray) and (got.mask == x.mask).all()
        np.testing.assert_array_equal(got.data, want)
    else:
        np.testing.assert_array_equal(np.asarray(got, dtype=float), np.asarray(want, dtype=float))
    assert a.state == b.state


@pytest.mark.parametrize("mode", BACKENDS)
def test_lists_holding_masked_values(mode):
    rows = [np.ma.masked_array([100.0, 1e9, 90.0], mask=[0, 1, 0]), [np.ma.masked, 120.0, 60.0]]
    with tk.backend(mode):
        dd = tk.drawdown(rows)
        mdd = tk.max_drawdown(rows)
        one = tk.drawdown([100.0, np.ma.masked, 90.0])
    assert isinstance(dd, np.ma.MaskedArray)
    assert dd.mask.tolist() == [[False, True, False], [True, False, False]]
    np.testing.assert_array_equal(dd.data, tk.drawdown([[100.0, np.nan, 90.0], [np.nan, 120.0, 60.0]]))
    np.testing.assert_array_equal(mdd, [90.0 / 100.0 - 1.0, 60.0 / 120.0 - 1.0])
    assert one.mask.tolist() == [False, True, False] and one[2] == pytest.approx(-0.1)
