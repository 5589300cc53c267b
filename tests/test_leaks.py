"""Memory and reference-count safety: many calls, on success and error paths.

A leak of even one object or buffer per call shows up as heap / traced-memory
growth over 10^5 calls.  Thresholds are far below what such a leak would
cost (10^5 leaked float arrays of 10 elements would be > 10 MB) and far above
allocator noise.

The heap is measured by what the allocators count as in use (glibc's
``mallinfo2`` plus Python's allocated blocks), not by RSS: RSS also moves with
page faults, trimming, transparent huge pages and memory pressure from other
processes, so it can flake on a loaded machine.  RSS is the fallback where
``mallinfo2`` does not exist (not glibc).
"""

import ctypes
import gc
import os
import resource
import sys
import tracemalloc

import numpy as np
import pytest

import tradekernels as tk
from tradekernels import _registry, ufuncs

KERNELS = _registry.KERNELS
# ASan keeps freed memory in quarantine, so RSS grows by design under it.
rss_test = pytest.mark.skipif(
    bool(os.environ.get("TK_SANITIZE")),
    reason="heap and RSS are not meaningful under AddressSanitizer (quarantine)",
)
X = np.array([100.0, 101.0, np.nan, 99.0, 102.0, 98.0, 97.5, 103.0, 0.0, 104.0])
BAD_INPUTS = [np.array(["a", "b"]), np.array([1 + 2j]), np.float64(3.0), np.array([object()])]


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (f, ctypes.c_size_t)
        for f in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _mallinfo2():
    try:
        fn = ctypes.CDLL(None).mallinfo2
    except (AttributeError, OSError):
        return None
    fn.restype = _Mallinfo2
    return fn


_MALLINFO2 = _mallinfo2()


def _heap_bytes() -> int:
    """Bytes in use: malloc'd (NumPy buffers, large objects) plus Python's small-object
    blocks (as 64 bytes each, a rough size; a leak of one per call is what matters)."""
    if _MALLINFO2 is None:
        return _rss_bytes()
    m = _MALLINFO2()
    return m.uordblks + m.hblkhd + 64 * sys.getallocatedblocks()


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: peak RSS is the best we have
        scale = 1 if sys.platform == "darwin" else 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def _hammer(fn, n):
    for _ in range(n):
        fn()


def _growth(fn, n):
    _hammer(fn, n // 10)  # warm caches, free lists, hypothesis-free steady state
    gc.collect()
    before = _heap_bytes()
    _hammer(fn, n)
    gc.collect()
    return _heap_bytes() - before


@rss_test
def test_heap_measure_sees_a_leak():
    """The measure itself: one leaked 10-element array per call over 2*10^4 calls is seen
    (> 1 MB), and no leak is not."""
    kept = []
    assert _growth(lambda: kept.append(ufuncs.drawdown(X)), 20_000) > 2**20
    assert _growth(lambda: ufuncs.drawdown(X), 20_000) < 2**16


@rss_test
@pytest.mark.parametrize("k", KERNELS, ids=lambda k: k.name)
def test_raw_ufunc_heap_flat(k):
    uf = getattr(ufuncs, k.name)
    x2 = np.vstack([X, X[::-1]]).astype(np.float32)

    def call():
        uf(X)
        uf(x2, axis=0)

    assert _growth(call, 100_000) < 4 * 2**20


@pytest.mark.parametrize("k", KERNELS, ids=lambda k: k.name)
def test_api_and_error_paths_traced_memory_flat(k):
    fn = getattr(tk, k.name)
    uf = getattr(ufuncs, k.name)
    wrong_out = np.empty(3)

    def call():
        fn(X)
        fn([1, 2, 3])
        for bad in BAD_INPUTS:
            with pytest.raises((TypeError, ValueError)):
                fn(bad)
        with pytest.raises((TypeError, ValueError)):
            uf(X, out=wrong_out) if k.scan else uf(X, axis=3)

    _hammer(call, 500)
    gc.collect()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        _hammer(call, 5_000)
        gc.collect()
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert end - start < 256 * 1024


def test_make_ufuncs_refcounts():
    """make_ufuncs hands out ufuncs owned only by the returned dict."""
    from tradekernels import _core

    d = _core.make_ufuncs("scalar")
    for name in list(d):
        # references: the dict and getrefcount's argument
        rc = sys.getrefcount(d[name])
        assert rc == 2, name
    rc = sys.getrefcount(d)
    assert rc == 2
    del d
    if os.environ.get("TK_SANITIZE"):
        return
    gc.collect()
    before = _heap_bytes()
    for _ in range(2_000):
        _core.make_ufuncs("scalar")
    gc.collect()
    assert _heap_bytes() - before < 4 * 2**20


@pytest.mark.parametrize(
    "name",
    [
        "SimpleReturns",
        "LogReturns",
        "CumulativeReturns",
        "Drawdown",
        "UnderwaterBars",
        "MaxDrawdown",
        "DrawdownEpisode",
    ],
)
def test_stream_objects_release_their_type(name):
    """Live stream objects (heap types, subclassed in Python) give back the
    type reference they hold when they die, and updates do not leak."""
    cls = getattr(tk.stream, name)
    gc.collect()
    before = sys.getrefcount(cls)
    for _ in range(20_000):
        s = cls()
        s.update(1.0)
        s.update(0.5)
        del s
    gc.collect()
    after = sys.getrefcount(cls)
    assert after == before


@pytest.mark.parametrize(
    "make, bar",
    [
        (lambda: tk.stream.Bracket(100.0, sl_stop=0.5, tsl_stop=0.1), (100.0, 101.0, 99.0, 100.0)),
        (lambda: tk.stream.Order(1, "stop_limit", 100.5, 100.0), (100.0, 101.0, 99.0, 100.0)),
        (lambda: tk.stream.Order(-1, "limit", 200.0, bars=1), (100.0, 101.0, 99.0, 100.0)),
        (lambda: tk.stream.SignalTrades(tp_stop=0.005), (100.0, 101.0, 99.0, 100.0, True)),
        (lambda: tk.stream.SignalTrades(price="open"), (100.0, 101.0, 99.0, 100.0, True, False)),
    ],
    ids=["Bracket", "Order-stop-limit", "Order-expired", "SignalTrades", "SignalTrades-open"],
)
def test_fills_live_objects_release_their_type(make, bar):
    """The fills family's live objects (Bracket, Order; heap types subclassed in Python)
    give back their type reference when they die; updates and errors do not leak."""
    cls = type(make())
    base = cls.__mro__[1]
    gc.collect()
    before = sys.getrefcount(cls), sys.getrefcount(base)
    for _ in range(20_000):
        s = make()
        s.update(*bar)
        s.update(*bar)
        with pytest.raises(TypeError):
            s.update("x", 1.0, 1.0, 1.0)
        if isinstance(s, tk.stream.SignalTrades):
            s.mark()
        del s
    gc.collect()
    assert (sys.getrefcount(cls), sys.getrefcount(base)) == before


def test_session_clock_releases_what_it_holds():
    """SessionClock (a GC heap type subclassed in Python) gives back its type, the tick
    class and the bound table when it dies; ticks, rebinding and errors do not leak."""
    from tradekernels.sessions.live import SessionTick

    cal = tk.Calendar("America/New_York", "09:30", "16:00")
    t0 = int(np.datetime64("2024-03-08T15:00", "ns").view(np.int64))
    clock = tk.stream.SessionClock(cal)
    clock.update(t0)
    table = clock._table
    cls = type(clock)
    base = cls.__mro__[1]
    del clock
    gc.collect()
    refs = lambda: tuple(sys.getrefcount(o) for o in (cls, base, SessionTick, table.opens, table.labels))
    before = refs()
    for k in range(5_000):
        c = tk.stream.SessionClock(cal)
        c.update(t0 + k * 60 * 10**9)
        c.update(np.datetime64(t0, "ns"))
        c.update(t0 - 10**13)  # outside: the shared tick
        with pytest.raises(TypeError):
            c.update("x")
        with pytest.raises(ValueError):
            c._bind(*(table.opens,) * 6, [], 0, 1)
        del c
    gc.collect()
    assert refs() == before
