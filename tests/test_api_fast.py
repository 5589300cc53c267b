"""The public functions' fast road (``tradekernels._api.fast``: float input, no ``out=`` /
``state=`` / NaN policy, the native backend): the same results as the general road
(``_api.call``), bit for bit and label for label, and neither input nor output copied."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tradekernels as tk
from conftest import FLOAT_DTYPES, assert_bits_identical, kernel_params
from tradekernels import _api, ufuncs
from tradekernels._registry import KERNELS


def _prices(rng, shape, dtype=np.float64):
    x = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.03, shape), axis=0)
    x.flat[[3, 17, 18]] = np.nan
    return x.astype(dtype)


def _general(kernel, x, **kw):
    """The general road (what every call took before the fast one)."""
    with np.errstate(all="ignore"):
        return _api.call(kernel.name, x, kw.pop("axis", None), None, **kw)


def _fast(kernel, x, **kw):
    with np.errstate(all="ignore"):
        return getattr(tk, kernel.name)(x, **kw)


def _assert_same_result(got, want):
    """Same kind, labels, names, dtypes and bits."""
    assert type(got) is type(want), (type(got), type(want))
    if isinstance(want, pd.DataFrame):
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        assert got.columns.dtype == want.columns.dtype and got.columns.names == want.columns.names
        assert got.index.names == want.index.names
        for c in want.columns:
            assert_bits_identical(got[c].to_numpy(), want[c].to_numpy(), str(c))
    elif isinstance(want, pd.Series):
        pd.testing.assert_series_equal(got, want, check_exact=True)
        assert got.name == want.name and got.index.names == want.index.names
        assert_bits_identical(got.to_numpy(), want.to_numpy())
    elif isinstance(want, tuple):  # Episode
        assert got._fields == want._fields
        for g, w in zip(got, want):
            assert type(g) is type(w)
            assert_bits_identical(g, w)
    elif type(want).__module__.startswith("polars"):
        assert got.name == want.name and got.dtype == want.dtype
        assert_bits_identical(got.to_numpy(), want.to_numpy())
    else:  # ndarray or NumPy scalar
        assert_bits_identical(got, want)


@kernel_params()
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
def test_fast_road_equals_general_road_on_pandas(kernel, dtype, rng):
    idx = pd.date_range("2024-01-01", periods=40, freq="D", name="t")
    cols = pd.Index(["AAA", "BBB", "CCC"], name="sym")
    df = pd.DataFrame(_prices(rng, (40, 3), dtype), index=idx, columns=cols)
    assert df._mgr.nblocks == 1  # the frame the fast road takes
    _assert_same_result(_fast(kernel, df), _general(kernel, df))
    _assert_same_result(_fast(kernel, df, axis=0), _general(kernel, df))
    s = pd.Series(_prices(rng, 50, dtype), index=pd.RangeIndex(10, 60, name="bar"), name="ACME")
    _assert_same_result(_fast(kernel, s), _general(kernel, s))
    # reordered / sliced columns (still one block) and an empty frame
    sub = df[["CCC", "AAA"]].iloc[5:]
    assert sub._mgr.nblocks == 1
    _assert_same_result(_fast(kernel, sub), _general(kernel, sub))
    for empty in (df.iloc[:0], df.iloc[:, :0], pd.DataFrame(np.empty((4, 0), dtype))):
        _assert_same_result(_fast(kernel, empty), _general(kernel, empty))


@kernel_params()
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
def test_fast_road_equals_general_road_on_arrays(kernel, dtype, rng):
    x = _prices(rng, (30, 4), dtype)
    for a in (x, x.T, x[:, 1], np.asfortranarray(x), x[::2, ::-1]):
        _assert_same_result(_fast(kernel, a), _general(kernel, a))
        _assert_same_result(_fast(kernel, a, axis=0), _general(kernel, a, axis=0))


@kernel_params()
@pytest.mark.parametrize("dtype", ["Float64", "Float32"])
def test_fast_road_equals_general_road_on_polars(kernel, dtype, rng):
    pl = pytest.importorskip("polars")
    x = _prices(rng, 50)
    s = pl.Series("px", x, dtype=getattr(pl, dtype))
    _assert_same_result(_fast(kernel, s), _general(kernel, s))
    with_null = pl.Series("px", [100.0, None, 90.0, 95.0, None, 120.0], dtype=getattr(pl, dtype))
    _assert_same_result(_fast(kernel, with_null), _general(kernel, with_null))


class _Spy:
    """Stands for ``ufuncs.<name>``: records what the kernel got and gave."""

    def __init__(self, uf):
        self.uf, self.calls = uf, []

    def __call__(self, x, **kw):
        res = self.uf(x, **kw)
        self.calls.append((x, kw, res))
        return res


@pytest.fixture
def spy(monkeypatch):
    """``spy(name)``: the ufunc replaced by a :class:`_Spy`; the general road and pandas'
    public constructors are barred (they raise), so the call must take the fast road
    (build the inputs first)."""

    def bar(*args, **kw):
        raise AssertionError("the general road or a public pandas constructor was taken")

    def make(name):
        s = _Spy(getattr(ufuncs, name))
        monkeypatch.setattr(ufuncs, name, s)
        monkeypatch.setattr(_api, "prepare", bar)
        # the results are built by pandas' internal constructors (the public ones cost
        # several times more right after a kernel): a fallback to them would go unseen
        # (a pandas without them, which _pandas_kit finds, takes the public ones)
        if _api._pandas_kit(pd):
            monkeypatch.setattr(pd.Series, "__init__", bar)
            monkeypatch.setattr(pd.DataFrame, "__init__", bar)
        return s

    return make


def _outputs(call):
    """The arrays the kernel wrote (its out= or what it returned)."""
    x, kw, res = call
    return tuple(kw["out"]) if "out" in kw else (res if isinstance(res, tuple) else (res,))


@pytest.mark.parametrize("name", [k.name for k in KERNELS])
def test_fast_road_copies_neither_input_nor_output(name, spy, rng):
    """The frame's block reaches the kernel as a view, the Series' values as they are,
    and the result wraps the kernel's outputs without a copy: a scan's frame as one
    block, a reduction's Series, an episode frame's columns."""
    k = next(k for k in KERNELS if k.name == name)
    df = pd.DataFrame(_prices(rng, (60, 5)), columns=list("abcde"))
    ser = pd.Series(df["a"].to_numpy().copy(), index=pd.RangeIndex(5, 65), name="px")
    s = spy(name)
    with np.errstate(all="ignore"):
        res = getattr(tk, name)(df)
    (call,) = s.calls
    assert np.shares_memory(call[0], df.to_numpy()) and call[1].get("axis") == 0
    outs = _outputs(call)
    if k.scan:
        assert isinstance(res, pd.DataFrame) and res._mgr.nblocks == 1
        assert np.shares_memory(res.to_numpy(), outs[0])
    elif len(outs) == 1:
        assert isinstance(res, pd.Series) and np.shares_memory(res.to_numpy(), outs[0])
        assert res.index is df.columns and res.name == name
    else:
        assert isinstance(res, pd.DataFrame) and res._mgr.nblocks == 2  # int64 and float
        for field, o in zip(tk.Episode._fields, outs):
            assert np.shares_memory(res[field].to_numpy(), o), field
    with np.errstate(all="ignore"):
        r = getattr(tk, name)(ser)
    call = s.calls[-1]
    assert np.shares_memory(call[0], ser.to_numpy())
    if k.scan:
        assert np.shares_memory(r.to_numpy(), _outputs(call)[0])
        assert r.index is ser.index and r.name == "px"


def test_fast_road_copies_no_polars_series(spy, rng):
    pl = pytest.importorskip("polars")
    x = pl.Series("px", 100.0 + rng.random(80).cumsum())
    s = spy("drawdown")
    r = tk.drawdown(x)
    (call,) = s.calls
    assert np.shares_memory(call[0], x.to_numpy())
    assert isinstance(r, pl.Series) and r.name == "px" and np.shares_memory(r.to_numpy(), call[2])


def test_episode_frames_do_not_share_their_columns_index(rng):
    """The episode frame's columns are a view of one cached Index: renaming one frame's
    columns (which pandas does in place) must not rename another's."""
    df = pd.DataFrame(_prices(rng, (30, 3)))
    a, b = tk.drawdown_episode(df), tk.drawdown_episode(df)
    assert a.columns is not b.columns
    a.columns.name = "field"
    assert b.columns.name is None and tk.drawdown_episode(df).columns.name is None
    c = _general(next(k for k in KERNELS if k.name == "drawdown_episode"), df)
    assert c.columns.name is None and list(c.columns) == list(tk.Episode._fields)


def test_fast_road_declines_what_it_does_not_take_exactly(rng):
    """Input the fast road would not convert as ``prepare`` does goes the general road,
    and so keeps its rules: subclasses, other dtypes, several blocks, axis spelled
    otherwise, out= / state= / NaN policies, other backends."""

    class MyFrame(pd.DataFrame):
        pass

    x = _prices(rng, (20, 3))
    k = ("drawdown", True, 1)
    for declined in (
        (MyFrame(x), None),
        (pd.DataFrame(x.astype(np.float16)), None),
        (pd.DataFrame({"a": x[:, 0], "b": x[:, 1].astype(np.float32)}), None),
        (pd.DataFrame(x), "index"),
        (pd.DataFrame(x), 1),
        (pd.DataFrame(x), 0.0),
        (pd.Series(x[:, 0]), 0),
        (pd.Series(x[:, 0], dtype="Float64"), None),
        (pd.Series(np.arange(20)), None),
        (np.arange(20), None),
        (x, np.int64(0)),
        (np.ma.masked_invalid(x), None),
        (np.float64(1.0), None),
        (list(x[:, 0]), None),
    ):
        assert _api.fast(k, *declined) is None, declined
    assert _api.fast(k, x, None) is not None
    with tk.backend("reference"):
        assert _api.fast(k, x, None) is None
    with tk.backend("shadow"):
        assert _api.fast(k, pd.DataFrame(x), None) is None


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", ">f8", "int32", "bool"])
@pytest.mark.parametrize("layout", ["contiguous", "strided", "empty"])
def test_polars_result_series_is_the_public_constructors(dtype, layout, monkeypatch):
    """``_polars_series`` (a kernel output as a polars Series, without the public
    constructor's dispatch) gives what ``pl.Series(name, values)`` gives, NaN as NaN
    (not null), and wraps a contiguous output without a copy -- and for the kernels'
    output dtypes without the public constructor."""
    pl = pytest.importorskip("polars")
    base = np.array([1.5, np.nan, -0.0, np.inf, 3.25, 7.0, -2.0, 0.5]) if "f" in dtype else np.arange(-3, 5)
    values = base.astype(dtype)
    values = {"contiguous": values, "strided": values[::2], "empty": values[:0]}[layout]
    try:
        want = pl.Series("px", values)
    except TypeError:  # polars < 2 on NumPy 2 takes no non-native byte order (nor does the helper)
        assert not values.dtype.isnative
        pytest.skip("this polars builds no Series from a non-native byte order")
    _api._polars_series(pl, "", np.zeros(1))  # looks the constructors up
    if _api._KIT["polars"] and layout != "strided" and dtype in ("float64", "float32", "int64"):

        def bar(*args, **kw):
            raise AssertionError("the public constructor was used")

        monkeypatch.setattr(pl.Series, "__init__", bar)
    got = _api._polars_series(pl, "px", values)
    monkeypatch.undo()
    assert isinstance(got, pl.Series) and got.name == want.name and got.dtype == want.dtype
    assert got.null_count() == want.null_count() == 0 and len(got) == len(want)
    assert_bits_identical(got.to_numpy(), want.to_numpy())
    if layout == "contiguous" and dtype in ("float64", "float32", "int64"):
        assert np.shares_memory(got.to_numpy(), values)
