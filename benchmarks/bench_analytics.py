#!/usr/bin/env python
"""Benchmark the drawdown analytics: rolling_max_drawdown, ulcer_index and drawdowns.

Protocol (as bench_kernels.py, smaller): seeded geometric random walk
(``rng = np.random.default_rng(42); 100 * cumprod(1 + N(0, 0.01))``), float64;
one warm-up call per implementation (numba compiles there); ``--repeat``
rounds, each timing every implementation once in the same order; a sample is
the mean of as many back-to-back calls as fill ``--min-time``; the figure is
the median sample.  Ratios are within this one run.  Nothing is asserted.

* ``rolling_max_drawdown`` at windows 20, 252, 2520 on 500 x 2520 and 1 x 1e7:
  the gufunc (``out=`` preallocated) vs a numba naive per-window loop (the
  twin: per bar, the max drawdown of its window from scratch, O(window)).
  The naive loop is timed on the first ``--naive-rows`` rows (500 x 2520) or
  the first ``--naive-n`` bars (1 x 1e7) and scaled linearly (it is linear in
  the bars for a fixed window); its output there is checked bit for bit
  against the gufunc's.
* ``ulcer_index`` on the same shapes vs two floors: ``np.max`` (one read-only
  pass) and the division floor, a numba loop ``s += x[i] / p`` (one division
  and one dependent addition per bar, what an exact left-to-right sum of
  per-bar quotients costs at least); also a numba twin of the kernel.

* ``drawdowns`` (every episode as records) on the same shapes vs vectorbt's
  ``get_drawdowns_nb`` (numba; given ``x.T``, its best layout: each series
  contiguous) and quantstats ``drawdown_details`` (a Python loop over
  periods, given the drawdown series; timed on the first
  ``--qs-rows`` rows or ``--qs-n`` bars and scaled linearly), where
  installed.  The record counts are checked equal to vectorbt's.

Usage::

    python benchmarks/bench_analytics.py             # all rows
    python benchmarks/bench_analytics.py --only drawdowns
    python benchmarks/bench_analytics.py --quick     # smaller, fewer repeats
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from typing import Any, Callable, Dict, List, Tuple

import numpy as np

from tradekernels import ufuncs as tku

try:
    from numba import njit
except Exception:  # pragma: no cover - optional competitor
    njit = None


def walk(shape: Tuple[int, ...]) -> np.ndarray:
    rng = np.random.default_rng(42)
    return 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.01, shape), axis=-1)


if njit is not None:

    @njit(error_model="numpy", cache=False)
    def _naive_rmdd_row(x, w, out):
        n = x.shape[0]
        for i in range(n):
            s = i - w + 1 if i >= w else 0
            peak = -np.inf
            best = np.inf
            seen = False
            cnt = 0
            for j in range(s, i + 1):
                v = x[j]
                if v == v:
                    cnt += 1
                if v > peak:
                    peak = v
                d = v / peak - 1.0
                if d < best:
                    best = d
                if d == d:
                    seen = True
            out[i] = best if (seen and cnt >= 1) else np.nan

    @njit(error_model="numpy", cache=False)
    def naive_rmdd(x, w, out):
        for r in range(x.shape[0]):
            _naive_rmdd_row(x[r], w, out[r])

    @njit(error_model="numpy", cache=False)
    def nb_ulcer(x, out):
        for r in range(x.shape[0]):
            peak = -np.inf
            ss = 0.0
            c = 0.0
            for i in range(x.shape[1]):
                v = x[r, i]
                if v > peak:
                    peak = v
                d = v / peak - 1.0
                if d == d:
                    ss += d * d
                    c += 1.0
            out[r] = np.sqrt(ss / c) if c > 0 else np.nan

    @njit(error_model="numpy", cache=False)
    def div_floor(x, out):
        for r in range(x.shape[0]):
            p = x[r, 0]
            s = 0.0
            for i in range(x.shape[1]):
                s += x[r, i] / p
            out[r] = s


def timeit(fns: Dict[str, Callable[[], object]], repeat: int, min_time: float) -> Dict[str, float]:
    for f in fns.values():
        f()  # warm-up
    loops = {}
    for k, f in fns.items():
        t0 = time.perf_counter()
        f()
        dt = time.perf_counter() - t0
        loops[k] = max(1, int(min_time / max(dt, 1e-9)))
    samples: Dict[str, List[float]] = {k: [] for k in fns}
    gc.disable()
    try:
        for _ in range(repeat):
            for k, f in fns.items():
                t0 = time.perf_counter()
                for _ in range(loops[k]):
                    f()
                samples[k].append((time.perf_counter() - t0) / loops[k])
    finally:
        gc.enable()
    return {k: statistics.median(v) for k, v in samples.items()}


def bench_drawdowns(x: np.ndarray, args: argparse.Namespace) -> None:
    import tradekernels as tk

    n_el = x.size
    fns: Dict[str, Callable[[], object]] = {"tradekernels": lambda: tk.drawdowns(x)}
    scales: Dict[str, float] = {}
    try:
        from vectorbt.generic import nb as vbt_nb
    except Exception:  # pragma: no cover - optional competitor
        vbt_nb = None
    xt = x.T  # (time, series), each series contiguous
    if vbt_nb is not None:
        fns["vectorbt get_drawdowns_nb"] = lambda: vbt_nb.get_drawdowns_nb(xt)
    vbt_rs = _vbt_rust()
    if vbt_rs is not None:
        fns["vectorbt-rust get_drawdowns_rs"] = lambda: vbt_rs.generic.get_drawdowns_rs(xt)
    try:
        import pandas as pd
        import quantstats.stats as qs
    except Exception:  # pragma: no cover - optional competitor
        qs = None
    if qs is not None:
        xs = x[: args.qs_rows] if x.shape[0] > 1 else x[:, : args.qs_n]
        idx = pd.bdate_range("1990-01-01", periods=xs.shape[1])
        dd = pd.DataFrame(tku.drawdown(xs).T, index=idx)
        scales["quantstats drawdown_details (scaled)"] = x.size / xs.size
        fns["quantstats drawdown_details (scaled)"] = lambda: [qs.drawdown_details(dd[c]) for c in dd.columns]
    t = timeit(fns, max(1, args.repeat if qs is None else min(args.repeat, 3)), args.min_time)
    for k, sc in scales.items():
        t[k] *= sc
    n_tk = len(tk.drawdowns(x))
    checks = {}
    if vbt_nb is not None:
        checks["vectorbt get_drawdowns_nb"] = len(vbt_nb.get_drawdowns_nb(xt)) == n_tk
    if vbt_rs is not None:
        checks["vectorbt-rust get_drawdowns_rs"] = len(vbt_rs.generic.get_drawdowns_rs(xt)) == n_tk
    base = t["tradekernels"]
    for k, v in t.items():
        print(
            f"{'drawdowns':22} {str(x.shape):>11} {'-':>6} {k:28} {v / n_el * 1e9:9.2f} {v * 1e3:10.2f} "
            f"{v / base:8.1f}x"
            + (("  same count" if checks[k] else "  COUNT DIFFERS") if k in checks else "")
        )


def _vbt_rust() -> Any:
    """vectorbt-rust's module, or None where it is not installed (optional peer)."""
    try:
        import vectorbt_rust
        import vectorbt_rust.generic  # noqa: F401
        import vectorbt_rust.returns  # noqa: F401
    except Exception:  # pragma: no cover - optional competitor
        return None
    return vectorbt_rust


def bench_duration(x: np.ndarray, args: argparse.Namespace) -> None:
    """max_drawdown_duration vs a read-only pass (np.max) on the same array."""
    res = np.empty(x.shape[0], dtype=np.int64)
    fns: Dict[str, Callable[[], object]] = {
        "tradekernels": lambda: tku.max_drawdown_duration(x, out=res),
        "np.max pass": lambda: np.max(x, axis=-1),
    }
    t = timeit(fns, args.repeat, args.min_time)
    for k, v in t.items():
        print(
            f"{'max_drawdown_duration':22} {str(x.shape):>11} {'-':>6} {k:28} {v / x.size * 1e9:9.2f} "
            f"{v * 1e3:10.2f} {v / t['np.max pass']:8.2f}x read pass"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.02)
    ap.add_argument("--naive-rows", type=int, default=20, help="rows of 500x2520 given to the naive loop")
    ap.add_argument("--naive-n", type=int, default=200_000, help="bars of 1x1e7 given to the naive loop")
    ap.add_argument("--qs-rows", type=int, default=5, help="rows of 500x2520 given to quantstats")
    ap.add_argument("--qs-n", type=int, default=100_000, help="bars of 1x1e7 given to quantstats")
    ap.add_argument("--only", choices=("all", "rolling", "ulcer", "drawdowns", "duration"), default="all")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    shapes = [(500, 2520), (1, 10**7)]
    if args.quick:
        args.repeat, shapes = 3, [(500, 2520), (1, 10**6)]
    print(f"{'kernel':22} {'shape':>11} {'window':>6} {'impl':28} {'ns/elem':>9} {'ms':>10} {'ratio':>9}")
    for shape in shapes:
        x = walk(shape)
        n_el = x.size
        out = np.empty_like(x)
        if args.only in ("all", "drawdowns"):
            bench_drawdowns(x, args)
        if args.only in ("all", "duration"):
            bench_duration(x, args)
        vbt_rs = _vbt_rust()
        for w in (20, 252, 2520) if args.only in ("all", "rolling") else ():
            w64, mp = np.int64(w), np.int64(1)
            fns = {"tradekernels": lambda: tku.rolling_max_drawdown(x, w64, mp, out=out)}
            scale = 1.0
            if njit is not None:
                xs = x[: args.naive_rows] if shape[0] > 1 else x[:, : args.naive_n]
                outs = np.empty_like(xs)
                scale = x.size / xs.size
                fns["numba naive (scaled)"] = lambda: naive_rmdd(xs, w, outs)
            if vbt_rs is not None:  # from returns (its convention), on the naive loop's bars, scaled
                xr = x[: args.naive_rows] if shape[0] > 1 else x[:, : args.naive_n]
                rt = np.ascontiguousarray((xr[:, 1:] / xr[:, :-1] - 1.0).T)
                rs_scale = x.size / rt.size
                rs_roll = vbt_rs.returns.rolling_max_drawdown_rs
                fns["vectorbt-rust rolling (scaled)"] = lambda: rs_roll(rt, w, 1)
            t = timeit(fns, args.repeat, args.min_time)
            if vbt_rs is not None:
                t["vectorbt-rust rolling (scaled)"] *= rs_scale
            if njit is not None:
                t["numba naive (scaled)"] *= scale
                tku.rolling_max_drawdown(x, w64, mp, out=out)
                same = np.array_equal(outs, out[: outs.shape[0], : outs.shape[1]], equal_nan=True)
                check = "exact" if same else "DIFFERS"
            else:
                check = "-"
            base = t["tradekernels"]
            for k, v in t.items():
                print(
                    f"{'rolling_max_drawdown':22} {str(shape):>11} {w:>6} {k:28} "
                    f"{v / n_el * 1e9:9.2f} {v * 1e3:10.2f} {v / base:8.1f}x"
                    + (f"  {check}" if k.startswith("numba") else "")
                )
        if args.only not in ("all", "ulcer"):
            continue
        res = np.empty(shape[0])
        fns = {
            "tradekernels": lambda: tku.ulcer_index(x, out=res),
            "np.max pass": lambda: np.max(x, axis=-1),
        }
        if njit is not None:
            r2 = np.empty(shape[0])
            r3 = np.empty(shape[0])
            fns["division floor (numba)"] = lambda: div_floor(x, r2)
            fns["numba twin"] = lambda: nb_ulcer(x, r3)
        t = timeit(fns, args.repeat, args.min_time)
        floor = max(t["np.max pass"], t.get("division floor (numba)", 0.0))
        for k, v in t.items():
            print(
                f"{'ulcer_index':22} {str(shape):>11} {'-':>6} {k:28} {v / n_el * 1e9:9.2f} "
                f"{v * 1e3:10.2f} {v / floor:8.2f}x floor"
            )
        if njit is not None:
            nb_ulcer(x, r3)
            print(
                f"   ulcer numba twin vs tradekernels: "
                f"{'exact' if np.array_equal(r3, tku.ulcer_index(x)) else 'DIFFERS'}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
