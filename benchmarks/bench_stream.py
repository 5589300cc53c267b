#!/usr/bin/env python
"""Live streams and threads: per-tick cost of tradekernels.stream, and GIL-free scaling.

Part 1 - per-tick cost (ns per update) of

* ``tradekernels.stream.<Kernel>().update(x)`` (bound method, one C call),
* the same kernel as a NumPy ufunc call on a 1-element array (the raw
  ``<name>_state`` gufunc with preallocated ``out=``: the cheapest way to
  tick a batch kernel),
* a pure-Python object with the same update rule (``__slots__`` class).

Every implementation consumes the same seeded random walk and their outputs
are checked equal (bit for bit) before timing.  Target: stream <= 100 ns per
update and below both alternatives.

Part 1c / 1d - the live signal backtest (``SignalTrades``) and the live session clock
(``SessionClock``) against ticking their batch functions with ``state=`` (and, for the
clock, the pure-Python twin), each checked against one batch call.

Part 2 - threads: a symbols x bars array; one thread over all symbols versus
two threads over two halves (``threading``, one worker pinned per CPU; the
gufuncs release the GIL), 1 and 2 thread samples interleaved, each sample repeating the call ``--reps``
times: (a) ``--symbols`` (200) x 2520 bars, whose input and output stay in the
shared L3 cache, (b) 2000 x 2520 bars (38 MiB: bound by the memory bandwidth,
which one core nearly saturates here).  NumPy rows for contrast:
``np.log`` (releases the GIL) and ``np.maximum.accumulate`` along the rows
(NumPy keeps the GIL for accumulations).  Plus a direct check that the GIL is
released (a Python counter thread keeps running during a gufunc call).
Reported, never asserted.

Protocol: median of ``--repeat`` samples, ``gc`` disabled while timing,
``time.perf_counter``.  Usage::

    python benchmarks/bench_stream.py [--ticks 200000] [--repeat 7] [--symbols 200] [--quick]
"""

from __future__ import annotations

import argparse
import collections
import gc
import math
import os
import platform
import statistics
import threading
import time
from typing import Callable, Deque, List

import numpy as np

import tradekernels as tk
from tradekernels import stream, ufuncs

# --------------------------------------------------------------------------
# pure-Python updaters (same rules as tradekernels.reference)
# --------------------------------------------------------------------------


class PyDrawdown:
    __slots__ = ("peak",)

    def __init__(self) -> None:
        self.peak = -math.inf

    def update(self, v: float) -> float:
        if v > self.peak:
            self.peak = v
        return v / self.peak - 1.0


class PySimpleReturns:
    __slots__ = ("prev",)

    def __init__(self) -> None:
        self.prev = math.nan

    def update(self, v: float) -> float:
        r = v / self.prev - 1.0
        self.prev = v
        return r


class PyMaxDrawdown:
    __slots__ = ("peak", "best", "seen")

    def __init__(self) -> None:
        self.peak, self.best, self.seen = -math.inf, math.inf, False

    def update(self, v: float) -> float:
        if v > self.peak:
            self.peak = v
        d = v / self.peak - 1.0
        if d < self.best:
            self.best = d
        self.seen = self.seen or d == d
        return self.best if self.seen else math.nan


class PyCumulativeReturns:
    __slots__ = ("prod",)

    def __init__(self) -> None:
        self.prod = 1.0

    def update(self, v: float) -> float:
        if v == v:
            self.prod *= 1.0 + v
        return self.prod - 1.0


class UfuncTicker:
    """A kernel ticked through its ``<name>_state`` gufunc on 1-element arrays."""

    def __init__(self, name: str) -> None:
        k = tk._registry.get(name)
        self.uf = getattr(ufuncs, name + "_state")
        self.x = np.empty(1)
        self.state = np.array(k.state_default, dtype=np.float64)
        self.out = np.empty(1) if k.scan else np.empty(())
        self.args = (self.out, self.state)

    def update(self, v: float) -> float:
        self.x[0] = v
        self.uf(self.x, self.state, out=self.args)
        return float(self.out[0] if self.out.ndim else self.out)


FAMILIES = [
    ("drawdown", stream.Drawdown, PyDrawdown),
    ("simple_returns", stream.SimpleReturns, PySimpleReturns),
    ("max_drawdown", stream.MaxDrawdown, PyMaxDrawdown),
    ("cumulative_returns", stream.CumulativeReturns, PyCumulativeReturns),
]


def _time_updates(update: Callable[[float], object], xs: List[float], repeat: int) -> float:
    """Median ns per update over ``repeat`` passes of ``xs``."""
    samples = []
    for _ in range(repeat):
        gc.disable()
        t0 = time.perf_counter()
        for v in xs:
            update(v)
        t1 = time.perf_counter()
        gc.enable()
        samples.append((t1 - t0) / len(xs) * 1e9)
    return statistics.median(samples)


def _loop_overhead(xs: List[float], repeat: int) -> float:
    return _time_updates(lambda v: v, xs, repeat)  # a one-argument Python call, for scale


def bench_ticks(n: int, repeat: int) -> None:
    rng = np.random.default_rng(42)
    walk = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.01, n))
    rets = np.concatenate([[np.nan], walk[1:] / walk[:-1] - 1.0])
    print(f"Part 1: per-tick cost, {n} ticks per sample, median of {repeat}")
    print(
        f"{'kernel':<20}{'stream (C)':>12}{'1-elem ufunc':>14}{'pure Python':>13}"
        f"{'ufunc/stream':>14}{'py/stream':>11}  check"
    )
    print("-" * 92)
    for name, cls, pycls in FAMILIES:
        data = rets if name == "cumulative_returns" else walk
        xs = data.tolist()
        # correctness first: identical outputs on the first 20_000 ticks
        m = min(len(xs), 20_000)
        a, b, c = cls(), UfuncTicker(name), pycls()
        ra = [a.update(v) for v in xs[:m]]
        rb = [b.update(v) for v in xs[:m]]
        rc = [c.update(v) for v in xs[:m]]
        same = np.array_equal(ra, rb, equal_nan=True) and np.array_equal(ra, rc, equal_nan=True)
        batch = getattr(tk, name)(data[:m])
        if np.ndim(batch):
            same = same and np.array_equal(np.array(ra), batch, equal_nan=True)
        t_stream = _time_updates(cls().update, xs, repeat)
        t_ufunc = _time_updates(UfuncTicker(name).update, xs[: max(n // 10, 1000)], repeat)
        t_py = _time_updates(pycls().update, xs, repeat)
        print(
            f"{name:<20}{t_stream:>10.1f}ns{t_ufunc:>12.1f}ns{t_py:>11.1f}ns"
            f"{t_ufunc / t_stream:>13.1f}x{t_py / t_stream:>10.1f}x  {'exact' if same else 'MISMATCH'}"
        )
    bench_rolling(walk, repeat)
    base = _loop_overhead(walk.tolist(), repeat)
    print(
        f"(for scale: a Python for-loop calling a one-argument lambda: {base:.1f} ns per item;"
        f" all figures include the loop)"
    )
    print("target: stream <= 100 ns per update and below both alternatives\n")


class PyRollingMaxDrawdown:
    """The window kept in a deque, its max drawdown recomputed per update (O(window))."""

    __slots__ = ("win",)

    def __init__(self, window: int) -> None:
        self.win: Deque[float] = collections.deque(maxlen=window)

    def update(self, v: float) -> float:
        self.win.append(v)
        peak, best = -math.inf, math.inf
        for p in self.win:
            if p > peak:
                peak = p
            d = p / peak - 1.0
            if d < best:
                best = d
        return best if len(self.win) == self.win.maxlen else math.nan


def bench_rolling(walk: np.ndarray, repeat: int, window: int = 252) -> None:
    """stream.RollingMaxDrawdown against the batch kernel ticked with state= on one price
    (the cheapest way without a stream) and the naive deque."""
    xs = walk.tolist()
    m = min(len(xs), 5_000)
    live, py = stream.RollingMaxDrawdown(window), PyRollingMaxDrawdown(window)
    ra = [live.update(v) for v in xs[:m]]
    rc = [py.update(v) for v in xs[:m]]
    same = np.array_equal(ra, tk.rolling_max_drawdown(walk[:m], window), equal_nan=True)
    same = same and np.array_equal(ra, rc, equal_nan=True)
    state = [None]

    def batch_tick(v: float) -> float:
        out, state[0] = tk.rolling_max_drawdown(np.array([v]), window, state=state[0], return_state=True)
        return float(out[0])

    t_stream = _time_updates(stream.RollingMaxDrawdown(window).update, xs, repeat)
    t_batch = _time_updates(batch_tick, xs[: max(len(xs) // 100, 500)], repeat)
    t_py = _time_updates(PyRollingMaxDrawdown(window).update, xs[: max(len(xs) // 20, 2000)], repeat)
    name = f"rolling_mdd/{window}"
    print(
        f"{name:<20}{t_stream:>10.1f}ns{t_batch:>12.1f}ns{t_py:>11.1f}ns"
        f"{t_batch / t_stream:>13.1f}x{t_py / t_stream:>10.1f}x  {'exact' if same else 'MISMATCH'}"
    )
    print("(rolling_mdd: the middle column ticks tk.rolling_max_drawdown(state=) on one price;")
    print(" pure Python recomputes the window from a deque)")


def _run_threads(
    fn: Callable[[np.ndarray, np.ndarray], None], x: np.ndarray, out: np.ndarray, nthreads: int, reps: int = 1
) -> float:
    """Seconds for ``nthreads`` worker threads, each over its share of the symbols, each
    pinned to its own CPU where the OS allows (unpinned, Linux at times wakes both
    GIL-sharing workers on one vCPU and leaves them there: a bimodal 1x / 2x)."""
    parts = np.array_split(np.arange(x.shape[0]), nthreads)
    slices = [slice(int(p[0]), int(p[-1]) + 1) for p in parts if len(p)]
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    barrier = threading.Barrier(len(slices) + 1)

    def work(i: int, s: slice) -> None:
        if len(cpus) >= len(slices):
            os.sched_setaffinity(0, {cpus[i]})  # Linux: pins the calling thread only
        xs, os_ = x[s], out[s]
        barrier.wait()
        for _ in range(reps):
            fn(xs, os_)

    threads = [threading.Thread(target=work, args=(i, s)) for i, s in enumerate(slices)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def gil_check(repeat: int) -> None:
    """A pure-Python counter thread keeps running while the main thread is inside a gufunc call
    (it would stop dead if the call held the GIL)."""
    x = 100.0 * np.cumprod(1.0 + np.random.default_rng(3).normal(0.0, 0.01, (500, 2520)), axis=1)
    out = np.empty_like(x)
    count = [0]
    stop = [False]

    def counter() -> None:
        while not stop[0]:
            count[0] += 1

    def rate(action: Callable[[], None]) -> float:
        c0, t0 = count[0], time.perf_counter()
        action()
        return (count[0] - c0) / (time.perf_counter() - t0)

    th = threading.Thread(target=counter)
    th.start()
    try:
        time.sleep(0.02)
        busy = statistics.median(
            rate(lambda: [ufuncs.log_returns(x, out=out) for _ in range(3)]) for _ in range(repeat)
        )
        idle = statistics.median(rate(lambda: time.sleep(0.05)) for _ in range(repeat))
    finally:
        stop[0] = True
        th.join()
    print(
        f"GIL check: a Python counter thread runs at {busy / idle:.0%} of its idle rate while the "
        f"main thread is inside tk.ufuncs.log_returns (0% would mean the GIL is held)\n"
    )


def bench_threads(symbols: int, bars: int, repeat: int, reps: int = 1) -> List[float]:
    rng = np.random.default_rng(7)
    x = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.01, (symbols, bars)), axis=1)
    out = np.empty_like(x)
    out_i = np.empty(x.shape, dtype=np.int64)
    out_r = np.empty(symbols)
    sc = ufuncs.for_path("scalar")
    kernels = {  # name: (function(a, out), preallocated out)
        "simple_returns": (ufuncs.simple_returns, out),
        "log_returns": (ufuncs.log_returns, out),
        "cumulative_returns": (ufuncs.cumulative_returns, out),
        "drawdown": (ufuncs.drawdown, out),
        "drawdown[scalar]": (sc["drawdown"], out),
        "underwater_bars": (ufuncs.underwater_bars, out_i),
        "max_drawdown": (ufuncs.max_drawdown, out_r),
        "max_drawdown[scalar]": (sc["max_drawdown"], out_r),
        "numpy: np.log": (np.log, out),
        "numpy: np.maximum.accumulate": (lambda a, out: np.maximum.accumulate(a, axis=-1, out=out), out),
    }
    print(
        f"threads: {symbols} symbols x {bars} bars float64 ({x.nbytes / 2**20:.1f} MiB), "
        f"{reps} call(s) per sample, 1 thread over all vs 2 threads over halves, "
        f"interleaved, median of {repeat}; nproc {os.cpu_count()}"
    )
    print(f"{'kernel':<30}{'1 thread ms':>12}{'2 threads ms':>14}{'speed-up':>10}")
    print("-" * 66)
    ups = []
    for name, (uf, o) in kernels.items():

        def fn(a: np.ndarray, oo: np.ndarray, uf=uf) -> None:
            uf(a, out=oo)

        fn(x, o)  # warm-up, touches out
        one, two = [], []
        for _ in range(repeat):
            one.append(_run_threads(fn, x, o, 1, reps))
            two.append(_run_threads(fn, x, o, 2, reps))
        t1, t2 = statistics.median(one), statistics.median(two)
        if not name.startswith("numpy"):
            ups.append(t1 / t2)
        print(f"{name:<30}{t1 * 1e3:>12.2f}{t2 * 1e3:>14.2f}{t1 / t2:>9.2f}x")
    print()
    return ups


def bench_signals(n: int, repeat: int) -> None:
    """stream.SignalTrades (one bar and its signals per update) against ticking
    tk.trades_from_signals(state=) on one-bar chunks; both checked against one batch call."""
    rng = np.random.default_rng(7)
    c = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.01, n))
    o = np.concatenate([[100.0], c[:-1]])
    h, lo = np.maximum(o, c) * 1.002, np.minimum(o, c) * 0.998
    ent, ext = rng.random(n) < 0.05, rng.random(n) < 0.02
    kw = dict(sl_stop=0.03, tsl_stop=0.02, tp_stop=0.05)
    bars = [list(zip(*(v.tolist() for v in (o, h, lo, c)), ent.tolist(), ext.tolist()))]
    print(f"Part 1c: live signal backtest, {n} bars (SL 3 %, trailing 2 %, TP 5 %), median of {repeat}")
    for price in ("close", "open"):
        live = stream.SignalTrades(price=price, **kw)
        rows = [r for b in bars[0] if (r := live.update(*b)) is not None]
        m = live.mark()
        got = np.array(rows + ([m] if m else []), dtype=tk.fills.TRADE_DTYPE)
        batch = tk.trades_from_signals((o, h, lo, c), ent, ext, price=price, **kw)
        same = got.tobytes() == batch.tobytes()
        st = [None]

        def batch_tick(b: tuple, price: str = price) -> None:
            one = tuple(np.array([v]) for v in b[:4])
            _, st[0] = tk.trades_from_signals(
                one, np.array([b[4]]), np.array([b[5]]), price=price, **kw, state=st[0], return_state=True
            )

        upd = stream.SignalTrades(price=price, **kw).update
        t_live = _time_updates(lambda b, u=upd: u(*b), bars[0], repeat)
        t_batch = _time_updates(batch_tick, bars[0][: max(n // 100, 200)], max(repeat // 2, 1))
        print(
            f"signals price={price:<6}{t_live:>10.1f}ns per bar; "
            f"one-bar batch chunks {t_batch / 1e3:>8.1f}us "
            f"({t_batch / t_live:.0f}x)  {'exact' if same else 'MISMATCH'}"
        )
    print()


def bench_clock(n: int, repeat: int) -> None:
    """stream.SessionClock (one timestamp per update) against ticking the batch
    tk.session_start(state=) on one-element arrays and the pure-Python twin's
    ``find`` (tradekernels.sessions.reference); checked against the batch calls."""
    from tradekernels.sessions import reference as ref

    cal = tk.Calendar("America/New_York", "09:30", "16:00", breaks=[("12:00", "12:15")])
    start = np.datetime64("2024-01-02T00:00", "ns")
    ts = np.arange(start, start + np.timedelta64(n, "m"), np.timedelta64(1, "m")).view(np.int64)
    shuffled = np.random.default_rng(3).permutation(ts)
    share = tk.session_mask(ts, cal).mean()
    print(
        f"Part 1d: live session clock, {n} one-minute timestamps (NY, a lunch break; "
        f"{share:.0%} in session), median of {repeat}"
    )
    for what, a in (("ints, in order", ts), ("ints, shuffled", shuffled), ("datetime64[ns]", ts)):
        xs = a.tolist() if what.startswith("ints") else list(a.astype("datetime64[ns]"))
        clock = stream.SessionClock(cal)
        ticks = [clock.update(t) for t in xs]
        same = (
            [t.in_session for t in ticks] == tk.session_mask(a, cal).tolist()
            and [t.first for t in ticks] == tk.session_start(a, cal).tolist()
            and [t.minutes for t in ticks] == tk.minutes_into_session(a, cal).tolist()
        )
        t_live = _time_updates(stream.SessionClock(cal).update, xs, repeat)
        row = f"SessionClock {what:<16}{t_live:>8.1f}ns per update"
        if what == "ints, in order":
            st = [None]

            def batch_tick(t: int) -> None:
                _, st[0] = tk.session_start(np.array([t]), cal, state=st[0], return_state=True)

            few = xs[: max(n // 100, 200)]
            t_batch = _time_updates(batch_tick, few, max(repeat // 2, 1))
            t_ref = _time_updates(lambda t: ref.find(t, cal), few, max(repeat // 2, 1))
            row += f"; one-element batch {t_batch / 1e3:.1f}us ({t_batch / t_live:.0f}x)"
            row += f", pure Python {t_ref / 1e3:.1f}us ({t_ref / t_live:.0f}x)"
        print(f"{row}  {'exact' if same else 'MISMATCH'}")
    print()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ticks", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--symbols", type=int, default=200, help="symbols in the cache-resident case")
    p.add_argument("--bars", type=int, default=2520)
    p.add_argument("--reps", type=int, default=40, help="calls per sample in the cache-resident case")
    p.add_argument("--quick", action="store_true", help="smoke run")
    a = p.parse_args(argv)
    if a.quick:
        a.ticks, a.repeat, a.symbols, a.reps = 20_000, 3, 24, 5
    print(
        f"tradekernels {tk.__version__}, simd {tk.simd_path}, numpy {np.__version__}, "
        f"python {platform.python_version()}, {platform.machine()}\n"
    )
    t0 = time.perf_counter()
    bench_ticks(a.ticks, a.repeat)
    bench_signals(a.ticks, a.repeat)
    bench_clock(a.ticks, a.repeat)
    print("Part 2: two threads over two halves of a symbols array (GIL released in the gufuncs)")
    gil_check(a.repeat)
    print("2a - cache-resident (input and output fit the shared L3 cache):")
    ups = bench_threads(a.symbols, a.bars, max(a.repeat, 9), reps=a.reps)
    print(
        f"target >= 1.7x for every tradekernels row: lowest {min(ups):.2f}x "
        f"({'met' if min(ups) >= 1.7 else 'NOT met'})\n"
    )
    print("2b - large array (beyond the caches; one core nearly saturates the memory bandwidth):")
    bench_threads(10 * a.symbols, a.bars, a.repeat)
    print(f"\nwall time: {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
