"""Sessions kernels on odd memory layouts: zero-stride (broadcast), negative-stride and
odd-stride (not a multiple of 8 bytes) views of every argument, raw gufuncs and API.

The answers depend on the values only, never on the layout; the process must not die
(a zero stride once divided by zero in the table search)."""

from __future__ import annotations

import numpy as np
import pytest

import tradekernels as tk
from tradekernels import ufuncs

RAW = (
    "session_mask",
    "session_index",
    "session_start",
    "minutes_into_session",
    "session_mask_sorted",
    "session_index_sorted",
    "session_start_sorted",
)
API = ("session_mask", "session_index", "session_label", "session_start", "minutes_into_session")
NY = tk.Calendar("America/New_York", "09:30", "16:00", breaks=[("12:00", "12:30")])


def _table():
    t = NY.table("2024-01-01", "2024-12-31")
    return [t.opens, t.closes, t.break_starts, t.break_ends]


def _odd_stride(a: np.ndarray) -> np.ndarray:
    """The same int64 values at a stride of 9 bytes (unaligned, not a multiple of 8)."""
    buf = np.zeros(a.size * 9 + 1, dtype=np.uint8)
    v = np.lib.stride_tricks.as_strided(buf[1:], shape=(a.size, 8), strides=(9, 1))
    v[...] = a.astype("<i8").view(np.uint8).reshape(-1, 8)
    return np.ndarray((a.size,), dtype="<i8", buffer=buf, offset=1, strides=(9,))


def _layouts(a: np.ndarray):
    """(name, view) pairs holding the values of ``a``; zero stride for constant arrays only."""
    yield "negative", a[::-1].copy()[::-1]
    if a.size:
        yield "odd", _odd_stride(a)


def _ts_sorted():
    return np.arange(
        np.datetime64("2024-03-08T13:00", "ns"),
        np.datetime64("2024-03-12T00:00", "ns"),
        np.timedelta64(7, "m"),
    ).view(np.int64)


@pytest.mark.parametrize("path", ufuncs.available_paths())
@pytest.mark.parametrize("name", RAW)
@pytest.mark.parametrize("arg", range(5))
@pytest.mark.parametrize("pick", [0, 0.5, -1])
def test_raw_zero_stride_argument(path, name, arg, pick):
    """A broadcast (stride 0) argument gives the answers of its contiguous copy."""
    args = [_ts_sorted()] + _table() + [np.int64(np.iinfo(np.int64).min + 1), np.int64(2**63 - 1)]
    n = args[arg].size
    args[arg] = np.broadcast_to(args[arg][int(pick * n) if pick != -1 else -1], (n,))
    uf = ufuncs.for_path(path)[name]
    got = uf(*args)
    want = uf(*[np.array(a, copy=True) for a in args])
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("path", ufuncs.available_paths())
@pytest.mark.parametrize("name", RAW)
@pytest.mark.parametrize("arg", range(5))
@pytest.mark.parametrize("layout", ["negative", "odd"])
def test_raw_negative_and_odd_stride_argument(path, name, arg, layout):
    args = [_ts_sorted()] + _table() + [np.int64(np.iinfo(np.int64).min + 1), np.int64(2**63 - 1)]
    uf = ufuncs.for_path(path)[name]
    want = uf(*args)
    args[arg] = dict(_layouts(args[arg]))[layout]
    got = uf(*args)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("path", ufuncs.available_paths())
@pytest.mark.parametrize("name", RAW)
def test_raw_zero_stride_2d_broadcast(path, name):
    """2-D: every row the same broadcast timestamp, and the table broadcast too."""
    tab = _table()
    ts = np.broadcast_to(np.int64(_ts_sorted()[40]), (3, 50))
    uf = ufuncs.for_path(path)[name]
    got = uf(ts, *[np.broadcast_to(a[:1], a.shape) for a in tab], np.int64(-(2**62)), np.int64(2**62))
    want = uf(
        ts.copy(), *[np.broadcast_to(a[:1], a.shape).copy() for a in tab], np.int64(-(2**62)), np.int64(2**62)
    )
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("sorted_", [False, True])
@pytest.mark.parametrize("name", API)
@pytest.mark.parametrize("when", ["2024-03-08T15:00", "2024-03-08T12:10", "2024-03-09T15:00", "NaT"])
def test_api_zero_stride_timestamps(name, sorted_, when):
    """The reproducer of the SIGFPE: constant (so sorted) broadcast timestamps, 1-D and 2-D."""
    for shape in [(100,), (3, 40)]:
        ts = np.broadcast_to(np.datetime64(when, "ns"), shape)
        kw = {} if name == "minutes_into_session" else {"assume_sorted": sorted_}
        got = getattr(tk, name)(ts, NY, **kw)
        want = getattr(tk, name)(ts.copy(), NY, **kw)
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("sorted_", [False, True])
@pytest.mark.parametrize("name", API)
@pytest.mark.parametrize("layout", ["negative", "odd"])
def test_api_negative_and_odd_stride_timestamps(name, sorted_, layout):
    ts = _ts_sorted()
    view = dict(_layouts(ts))[layout].view("datetime64[ns]")
    kw = {} if name == "minutes_into_session" else {"assume_sorted": sorted_}
    np.testing.assert_array_equal(
        getattr(tk, name)(view, NY, **kw), getattr(tk, name)(ts.view("datetime64[ns]"), NY, **kw)
    )
