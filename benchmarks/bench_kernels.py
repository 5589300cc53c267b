#!/usr/bin/env python
"""Benchmark the tradekernels gufuncs against NumPy, pandas, numba and pure Python.

Protocol (see benchmarks/README.md and ../shared/README.md):

* every ratio is taken within this one run (absolute times on shared 2-core
  machines move from run to run, ratios much less);
* input: a seeded geometric random walk, float64,
  ``rng = np.random.default_rng(42); prices = 100 * cumprod(1 + N(5e-5, 0.01))`` (the drift
  5e-5 = sigma^2 / 2 keeps the log price driftless: without it the walk falls as
  exp(-sigma^2 n / 2) and half of a 3e7 series is subnormal, which measures microcode assists
  on CPUs that take them, not the kernels);
  ``cumulative_returns`` gets the simple returns of that walk (``r[0]`` NaN);
* per (kernel, n): one warm-up call of every implementation (numba compiles
  there), then ``--repeat`` rounds; in each round every implementation is
  timed once, in a rotating order, so drift hits all of them alike; a sample
  is the mean of ``loops`` back-to-back calls (``loops`` chosen so that one
  sample lasts >= ``--min-time``); the figure is the median sample;
* ``out=`` is preallocated (and touched) wherever the implementation allows;
* ``gc`` is disabled while timing; ``time.perf_counter`` is the clock;
* nothing is asserted about times.

Usage::

    python benchmarks/bench_kernels.py                 # n = 1e6 and 1e7, 5 repeats
    python benchmarks/bench_kernels.py --quick         # smoke run, n = 1e5, 3 repeats
    python benchmarks/bench_kernels.py --kernels drawdown,max_drawdown --json /tmp/b.json
    python benchmarks/bench_kernels.py --kernels drawdown,max_drawdown,simple_returns \
        --sizes 1e5,1e6,1e7,3e7 --no-peers            # every SIMD path at its floor
    python benchmarks/bench_kernels.py --api-only      # only the API overhead table

API overhead (after the kernel table; ``--no-api`` skips it): per scan kernel,
the public function on a pandas DataFrame of 2520 bars x 500 symbols (one
float64 block, column-major in NumPy terms) / the raw ufunc with ``axis=0``
on the same values, and on a 10**6 pandas Series (and a polars Series) / the
raw ufunc on its values; both sides allocate their output.  Timed like the
kernels: interleaved, median of ``--repeat`` samples.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import statistics
import sys
import time
from typing import Any, Callable, Dict, List, Tuple

import numpy as np

import tradekernels
from tradekernels import reference
from tradekernels import ufuncs as tku

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import machine_info  # noqa: E402

try:
    import pandas as pd
except Exception:  # pragma: no cover - optional competitor
    pd = None

try:
    import polars as pl
except Exception:  # pragma: no cover - optional
    pl = None

try:
    import numba
    from numba import njit
except Exception:  # pragma: no cover - optional competitor
    numba = None
    njit = None

KERNELS = [
    "simple_returns",
    "log_returns",
    "cumulative_returns",
    "drawdown",
    "max_drawdown",
    "drawdown_episode",
    "underwater_bars",
    "max_drawdown_duration",
]
# Reductions ((n)->() core signature) are compared with a read-only pass
# (np.max); scans ((n)->(n)) with the floor max(copy floor, division floor):
# np.copyto and np.divide(a, b, out=) of the same size (in cache a correctly
# rounded division per element cannot be avoided, so the copy floor alone is
# not reachable there).
REDUCTIONS = {"max_drawdown", "drawdown_episode", "max_drawdown_duration"}

PY_N = 10**5  # elements given to the pure-Python reference twin, scaled to n

TK = "tradekernels"  # label prefix of the auto-path row (completed at runtime)
TK_SCALAR = "tradekernels[scalar]"
NUMPY = "numpy"
PANDAS = "pandas"
NUMBA = "numba"
PYTHON = "python (scaled)"
COPY = "copy floor"
DIVF = "division floor"
MAXP = "np.max pass"
FLOOR = "max(copy, division)"
TK_ALLOC = "tradekernels (alloc)"
NUMPY_ALLOC = "numpy (alloc)"
#: kernels of the per-path floor table (the ones with SIMD paths)
PATH_TABLE_KERNELS = ("drawdown", "max_drawdown", "simple_returns")


# --------------------------------------------------------------------------
# input
# --------------------------------------------------------------------------


def make_prices(n: int) -> np.ndarray:
    rng = np.random.default_rng(42)
    return 100.0 * np.cumprod(1.0 + rng.normal(5e-5, 0.01, n))


def np_simple_returns(x: np.ndarray, o: np.ndarray) -> np.ndarray:
    o[0] = np.nan
    np.divide(x[1:], x[:-1], out=o[1:])
    np.subtract(o[1:], 1.0, out=o[1:])
    return o


# --------------------------------------------------------------------------
# numba loops (mirror tradekernels.reference; IEEE division via error_model)
# --------------------------------------------------------------------------

NUMBA_FUNCS: Dict[str, Callable] = {}
if njit is not None:
    _jit = njit(cache=False, error_model="numpy", nogil=True)

    @_jit
    def _nb_simple_returns(x, out):
        prev = np.nan
        for i in range(x.shape[0]):
            v = x[i]
            out[i] = v / prev - 1.0
            prev = v
        return out

    @_jit
    def _nb_log_returns(x, out):
        prev = np.nan
        for i in range(x.shape[0]):
            v = x[i]
            out[i] = np.log(v / prev)
            prev = v
        return out

    @_jit
    def _nb_cumulative_returns(r, out):
        prod = 1.0
        for i in range(r.shape[0]):
            v = r[i]
            if v == v:
                prod *= 1.0 + v
            out[i] = prod - 1.0
        return out

    @_jit
    def _nb_drawdown(x, out):
        peak = -np.inf
        for i in range(x.shape[0]):
            v = x[i]
            if v > peak:
                peak = v
            out[i] = v / peak - 1.0
        return out

    @_jit
    def _nb_max_drawdown(x):
        peak = -np.inf
        best = np.nan
        for i in range(x.shape[0]):
            v = x[i]
            if v > peak:
                peak = v
            d = v / peak - 1.0
            if d == d and not (best <= d):
                best = d
        return best

    @_jit
    def _nb_drawdown_episode(x):
        peak = -np.inf
        peak_i = -1
        best = np.nan
        best_peak = 0.0
        best_peak_i = -1
        trough_i = -1
        recovery_i = -1
        n = x.shape[0]
        for i in range(n):
            v = x[i]
            if v >= peak:
                peak_i = i
                if v > peak:
                    peak = v
            d = v / peak - 1.0
            if d == d and not (best <= d):
                best = d
                trough_i = i
                best_peak_i = peak_i
                best_peak = peak
        if best == best and best < 0.0:
            for j in range(trough_i + 1, n):
                if x[j] >= best_peak:
                    recovery_i = j
                    break
        else:
            best_peak_i = -1
            trough_i = -1
        return best_peak_i, trough_i, recovery_i, best

    @_jit
    def _nb_underwater_bars(x, out):
        peak = -np.inf
        count = -1
        for i in range(x.shape[0]):
            v = x[i]
            if v >= peak:
                peak = v
                count = 0
            elif count >= 0:
                count += 1
            out[i] = count
        return out

    @_jit
    def _nb_max_drawdown_duration(x):
        peak = -np.inf
        count = -1
        best = -1
        for i in range(x.shape[0]):
            v = x[i]
            if v >= peak:
                peak = v
                count = 0
            elif count >= 0:
                count += 1
            if count > best:
                best = count
        return best

    NUMBA_FUNCS = {
        "simple_returns": _nb_simple_returns,
        "log_returns": _nb_log_returns,
        "cumulative_returns": _nb_cumulative_returns,
        "drawdown": _nb_drawdown,
        "max_drawdown": _nb_max_drawdown,
        "drawdown_episode": _nb_drawdown_episode,
        "underwater_bars": _nb_underwater_bars,
        "max_drawdown_duration": _nb_max_drawdown_duration,
    }


# --------------------------------------------------------------------------
# implementations per kernel
# --------------------------------------------------------------------------


def _out_for(kernel: str, n: int) -> Any:
    """A preallocated, touched ``out=`` for a tradekernels call."""
    if kernel == "max_drawdown":
        return np.zeros(())
    if kernel == "drawdown_episode":
        return (np.zeros((), np.int64), np.zeros((), np.int64), np.zeros((), np.int64), np.zeros(()))
    if kernel == "underwater_bars":
        return np.zeros(n, np.int64)
    if kernel == "max_drawdown_duration":
        return np.zeros((), np.int64)
    return np.zeros(n)


def path_label(path: str) -> str:
    return f"{TK}[{path}]"


def build_impls(
    kernel: str, x: np.ndarray, tk_label: str, path_ufuncs: Dict[str, Dict[str, np.ufunc]], peers: bool = True
) -> Tuple[List[Tuple[str, Callable[[], Any], float]], Callable]:
    """Return ``[(label, fn, scale)]`` and a function giving the Python check input.

    ``fn()`` runs one call; its time is multiplied by ``scale`` (1 except for
    the pure-Python twin, which runs on the first PY_N elements).
    """
    n = x.shape[0]
    impls: List[Tuple[str, Callable[[], Any], float]] = []

    uf = getattr(tku, kernel)
    o_tk = _out_for(kernel, n)
    impls.append((tk_label, lambda: uf(x, out=o_tk), 1.0))
    # one row per other SIMD path (scalar, avx2, avx512, ...)
    for path, ufs in path_ufuncs.items():
        if path_label(path) == tk_label:
            continue
        o_p = _out_for(kernel, n)
        impls.append((path_label(path), (lambda u, o: lambda: u(x, out=o))(ufs[kernel], o_p), 1.0))

    # ---- floors on the same array ----
    o_cp = np.zeros(n)
    y = np.flip(x).copy()
    o_dv = np.zeros(n)
    floors = [
        (COPY, lambda: np.copyto(o_cp, x), 1.0),
        (DIVF, lambda: np.divide(x, y, out=o_dv), 1.0),
        (MAXP, lambda: np.max(x), 1.0),
    ]
    m = min(n, PY_N)

    def tk_on_prefix():
        return uf(x[:m])

    if not peers:
        return impls + floors, tk_on_prefix

    # ---- NumPy composites (preallocated buffers where the API allows) ----
    o_np = np.zeros(n)
    if kernel == "simple_returns":

        def f_np():
            return np_simple_returns(x, o_np)
    elif kernel == "log_returns":

        def f_np():
            o_np[0] = np.nan
            np.divide(x[1:], x[:-1], out=o_np[1:])
            np.log(o_np[1:], out=o_np[1:])
            return o_np
    elif kernel == "cumulative_returns":

        def f_np():
            np.add(x, 1.0, out=o_np)
            np.copyto(o_np, 1.0, where=np.isnan(o_np))  # NaN return -> 0
            np.cumprod(o_np, out=o_np)
            np.subtract(o_np, 1.0, out=o_np)
            return o_np
    elif kernel == "drawdown":

        def f_np():
            np.maximum.accumulate(x, out=o_np)
            np.divide(x, o_np, out=o_np)
            np.subtract(o_np, 1.0, out=o_np)
            return o_np
    elif kernel == "max_drawdown":

        def f_np():
            np.maximum.accumulate(x, out=o_np)
            np.divide(x, o_np, out=o_np)
            np.subtract(o_np, 1.0, out=o_np)
            return o_np.min()
    elif kernel == "drawdown_episode":
        # argmin of the drawdown; peak = last index <= trough at the running
        # max; recovery = first index after the trough back at the peak price.
        def f_np():
            cm = np.maximum.accumulate(x, out=o_np)
            dd = x / cm - 1.0
            t = int(np.argmin(dd))
            depth = float(dd[t])
            if not depth < 0.0:
                return -1, -1, -1, depth
            pp = cm[t]
            p = t - int(np.argmax(x[t::-1] >= pp))
            rest = x[t + 1 :] >= pp
            j = int(np.argmax(rest)) if rest.size else 0
            rec = t + 1 + j if rest.size and rest[j] else -1
            return p, t, rec, depth
    elif kernel == "underwater_bars":
        idx = np.arange(n, dtype=np.int64)
        o_np_i = np.zeros(n, np.int64)

        def f_np():
            cm = np.maximum.accumulate(x, out=o_np)
            at_peak = x >= cm
            np.multiply(idx, at_peak, out=o_np_i)  # idx where at a peak, else 0
            np.maximum.accumulate(o_np_i, out=o_np_i)  # last peak index so far
            np.subtract(idx, o_np_i, out=o_np_i)
            return o_np_i
    elif kernel == "max_drawdown_duration":  # the underwater composite, then its max
        idx_d = np.arange(n, dtype=np.int64)
        o_np_d = np.zeros(n, np.int64)

        def f_np():
            cm = np.maximum.accumulate(x, out=o_np)
            np.multiply(idx_d, x >= cm, out=o_np_d)
            np.maximum.accumulate(o_np_d, out=o_np_d)
            np.subtract(idx_d, o_np_d, out=o_np_d)
            return int(o_np_d.max())
    else:  # pragma: no cover
        raise KeyError(kernel)
    impls.append((NUMPY, f_np, 1.0))
    if kernel == "log_returns":
        # both allocating their output (the composite allocates the ratios too)
        impls.append((TK_ALLOC, lambda: uf(x), 1.0))
        impls.append((NUMPY_ALLOC, lambda: np.log(x[1:] / x[:-1]), 1.0))

    # ---- pandas idioms ----
    if pd is not None:
        s = pd.Series(x)
        if kernel == "simple_returns":

            def f_pd():
                return s.pct_change(fill_method=None)
        elif kernel == "log_returns":

            def f_pd():
                return np.log(s / s.shift())
        elif kernel == "cumulative_returns":

            def f_pd():
                return (1 + s.fillna(0)).cumprod() - 1
        elif kernel == "drawdown":

            def f_pd():
                return s / s.cummax() - 1
        elif kernel == "max_drawdown":

            def f_pd():
                return (s / s.cummax() - 1).min()
        elif kernel == "drawdown_episode":
            # empyrical get_max_drawdown_underwater idiom
            def f_pd():
                uw = s / s.cummax() - 1
                valley = uw.idxmin()
                head = uw.loc[:valley]
                peak = head[head == 0].index[-1]
                tail = uw.loc[valley:]
                rec = tail[tail == 0].index
                return int(peak), int(valley), int(rec[0]) if len(rec) else -1, float(uw[valley])
        elif kernel == "underwater_bars":

            def f_pd():
                at_peak = s >= s.cummax()
                return s.groupby(at_peak.cumsum()).cumcount()
        elif kernel == "max_drawdown_duration":

            def f_pd():
                at_peak = s >= s.cummax()
                return int(s.groupby(at_peak.cumsum()).cumcount().max())

        impls.append((PANDAS, f_pd, 1.0))

    # ---- numba ----
    if kernel in NUMBA_FUNCS:
        nb = NUMBA_FUNCS[kernel]
        if kernel in REDUCTIONS:

            def f_nb():
                return nb(x)
        else:
            o_nb = _out_for(kernel, n)

            def f_nb():
                return nb(x, o_nb)

        impls.append((NUMBA, f_nb, 1.0))

    # ---- pure-Python reference twin on the first PY_N elements ----
    xs = x[:m].tolist()
    ref = getattr(reference, kernel)
    impls.append((PYTHON, lambda: ref(xs), n / m))

    return impls + floors, tk_on_prefix


# --------------------------------------------------------------------------
# agreement checks (outside timing)
# --------------------------------------------------------------------------


def _as_array(res: Any) -> Any:
    if pd is not None and isinstance(res, pd.Series):
        return res.to_numpy()
    if isinstance(res, tuple):
        return tuple(float(np.asarray(v)) for v in res)
    if isinstance(res, list):
        return np.asarray(res, dtype=float)
    return np.asarray(res)


def compare(ref: Any, got: Any) -> str:
    ref = _as_array(ref)
    got = _as_array(got)
    if isinstance(ref, tuple) or isinstance(got, tuple):
        if not (isinstance(ref, tuple) and isinstance(got, tuple)) or len(ref) != len(got):
            return "DIFFERS (shape)"
        r = np.array(ref, float)
        g = np.array(got, float)
    else:
        r = np.asarray(ref, float)
        g = np.asarray(got, float)
    if r.shape != g.shape:
        return f"DIFFERS (shape {g.shape} vs {r.shape})"
    if np.array_equal(r, g, equal_nan=True):
        return "exact"
    if np.allclose(r, g, equal_nan=True):
        with np.errstate(invalid="ignore"):
            d = np.abs(r - g)
        d = d[np.isfinite(d)]
        mx = float(d.max()) if d.size else 0.0
        return f"close (max |diff| {mx:.2g})"
    nan_mismatch = int(np.sum(np.isnan(r) != np.isnan(g)))
    with np.errstate(invalid="ignore"):
        bad = ~np.isclose(r, g, equal_nan=True)
    return f"DIFFERS ({int(bad.sum())} of {r.size} elements, {nan_mismatch} NaN mismatches)"


# --------------------------------------------------------------------------
# timing
# --------------------------------------------------------------------------


#: the clock of every sample: ``time.perf_counter`` (wall), or with ``--cpu-time``
#: ``time.thread_time`` (this thread's CPU time: on a loaded machine the time the
#: scheduler gives to other processes is left out)
CLOCK: List[Callable[[], float]] = [time.perf_counter]


def time_impls(impls, repeat: int, min_time: float) -> Dict[str, Dict[str, Any]]:
    """Interleaved timing; returns ``{label: {median_s, min_s, loops, samples}}``."""
    clock = CLOCK[0]
    loops: Dict[str, int] = {}
    gc.collect()
    gc.disable()
    try:
        # calibration call (after the warm-up done by the caller)
        for label, fn, _ in impls:
            t0 = clock()
            fn()
            dt = clock() - t0
            loops[label] = max(1, int(math.ceil(min_time / dt))) if dt > 0 else 1000
        samples: Dict[str, List[float]] = {label: [] for label, _, _ in impls}
        k = len(impls)
        for rep in range(repeat):
            order = impls[rep % k :] + impls[: rep % k]
            for label, fn, scale in order:
                nl = loops[label]
                t0 = clock()
                for _ in range(nl):
                    fn()
                dt = (clock() - t0) / nl
                samples[label].append(dt * scale)
    finally:
        gc.enable()
    return {
        label: {
            "median_s": statistics.median(v),
            "min_s": min(v),
            "loops": loops[label],
            "samples_s": v,
        }
        for label, v in samples.items()
    }


# --------------------------------------------------------------------------
# API overhead: the public functions (pandas / polars in and out) vs the raw ufunc
# --------------------------------------------------------------------------

API_BARS, API_SYMBOLS, API_SERIES_N = 2520, 500, 10**6
API_WINDOW = 21  # rolling_max_drawdown's window


def _api_calls(name: str, df: Any, s: Any, ps: Any) -> Dict[str, Callable[[], Any]]:
    """The contenders of one kernel: the raw ufunc on the frame's values (``axis=0``)
    and on the Series' values, the public function on the frame, the Series and the
    polars Series.  Every call allocates its output."""
    v, sv = df.to_numpy(), s.to_numpy()
    uf = getattr(tku, name)
    f = getattr(tradekernels, name)
    calls: Dict[str, Callable[[], Any]] = {}
    if name == "rolling_max_drawdown":
        w = np.int64(API_WINDOW)
        calls["raw frame"] = lambda: uf(v, w, w, axes=[(0,), (), (), (0,)])
        calls["raw series"] = lambda: uf(sv, w, w)
        calls["pandas frame"] = lambda: f(df, API_WINDOW)
        calls["pandas series"] = lambda: f(s, API_WINDOW)
        if ps is not None:
            calls["polars series"] = lambda: f(ps, API_WINDOW)
        return calls
    calls["raw frame"] = lambda: uf(v, axis=0)
    calls["raw series"] = lambda: uf(sv)
    calls["pandas frame"] = lambda: f(df)
    calls["pandas series"] = lambda: f(s)
    if ps is not None:
        calls["polars series"] = lambda: f(ps)
    return calls


def _fixed_cost(calls: Dict[str, Callable[[], Any]], repeat: int) -> Dict[str, float]:
    """Seconds per call of each contender on tiny input (the fixed cost of a call: its
    Python work), the minimum over ``repeat`` interleaved samples of 200 calls each
    (on tiny input the minimum is steady where a median of full calls is not)."""
    best = {label: math.inf for label in calls}
    clock = CLOCK[0]
    for _ in range(repeat):
        for label, fn in calls.items():
            t0 = clock()
            for _ in range(200):
                fn()
            best[label] = min(best[label], (clock() - t0) / 200)
    return best


def api_overhead(repeat: int, min_time: float) -> List[Dict[str, Any]]:
    """Time every scan kernel's public function against its raw ufunc (see the module
    docstring); print the ratios and return them as rows.

    Two measures per contender: the ratio of the medians of full calls (interleaved,
    as the kernel table), and the fixed cost of the public function (its Python
    work, ``+us``: the difference of the minimum times on a frame of 4 bars x 500
    symbols and on a 4-bar Series), which on a loaded machine is the steadier of
    the two."""
    from tradekernels import _registry

    if pd is None:
        print("API overhead: pandas is not installed, skipped")
        return []
    rng = np.random.default_rng(42)
    vals = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.01, (API_BARS, API_SYMBOLS)), axis=0)
    df = pd.DataFrame(vals)  # pandas keeps one float64 block: column-major values
    s = pd.Series(make_prices(API_SERIES_N))
    ps = pl.Series("price", s.to_numpy()) if pl is not None else None
    tiny_df = pd.DataFrame(vals[:4])
    tiny_s = pd.Series(s.to_numpy()[:4])
    tiny_ps = pl.Series("price", tiny_s.to_numpy()) if pl is not None else None
    names = [k.name for k in _registry.KERNELS if k.family == "scans"] + [k.name for k in _registry.WINDOWED]
    print()
    print(
        f"API overhead (public function / raw ufunc on the same values, both allocating; "
        f"frame {API_BARS} bars x {API_SYMBOLS} symbols, one float64 block, raw: axis=0; "
        f"series n = {API_SERIES_N:.0e}; target <= 1.10x)"
    )
    head = f"  {'kernel':<22} {'raw frame ms':>12} {'pandas frame':>12} {'+us':>5}"
    head += f" {'raw series ms':>13} {'pandas series':>13} {'+us':>5}"
    head += f" {'polars series':>13} {'+us':>5}" if ps is not None else ""
    print(head)
    rows: List[Dict[str, Any]] = []
    with np.errstate(all="ignore"):
        for name in names:
            calls = _api_calls(name, df, s, ps)
            impls = [(label, fn, 1.0) for label, fn in calls.items()]
            for _, fn, _ in impls:  # warm-up
                fn()
            t = {label: r["median_s"] for label, r in time_impls(impls, repeat, min_time).items()}
            tiny = _fixed_cost(_api_calls(name, tiny_df, tiny_s, tiny_ps), repeat)
            fixed = {
                "pandas frame": tiny["pandas frame"] - tiny["raw frame"],
                "pandas series": tiny["pandas series"] - tiny["raw series"],
            }
            if ps is not None:
                fixed["polars series"] = tiny["polars series"] - tiny["raw series"]
            ratios = {
                "pandas frame": t["pandas frame"] / t["raw frame"],
                "pandas series": t["pandas series"] / t["raw series"],
            }
            if ps is not None:
                ratios["polars series"] = t["polars series"] / t["raw series"]
            line = (
                f"  {name:<22} {t['raw frame'] * 1e3:>12.3f} {ratios['pandas frame']:>11.2f}x "
                f"{fixed['pandas frame'] * 1e6:>5.0f} "
                f"{t['raw series'] * 1e3:>13.3f} {ratios['pandas series']:>12.2f}x "
                f"{fixed['pandas series'] * 1e6:>5.0f}"
            )
            if ps is not None:
                line += f" {ratios['polars series']:>12.2f}x {fixed['polars series'] * 1e6:>5.0f}"
            print(line, flush=True)
            rows.append(
                {
                    "kernel": name,
                    "median_s": t,
                    "ratio_vs_raw": ratios,
                    "fixed_cost_s": fixed,
                    "raw_plus_fixed_ratio": {
                        c: (t[c.replace("pandas", "raw").replace("polars", "raw")] + fixed[c])
                        / t[c.replace("pandas", "raw").replace("polars", "raw")]
                        for c in fixed
                    },
                }
            )
            gc.collect()
    worst = max((r["ratio_vs_raw"][c], r["kernel"], c) for r in rows for c in r["ratio_vs_raw"])
    print(f"  worst ratio of medians: {worst[1]} {worst[2]} {worst[0]:.2f}x (target <= 1.10x)")
    worst = max((v, r["kernel"], c) for r in rows for c, v in r["raw_plus_fixed_ratio"].items())
    print(f"  worst (raw + fixed cost) / raw: {worst[1]} {worst[2]} {worst[0]:.2f}x (target <= 1.10x)")
    return rows


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--sizes",
        default="1e6,1e7",
        help="comma-separated n (floats allowed: 1e6,1e7) [default: %(default)s]",
    )
    p.add_argument("--repeat", type=int, default=5, help="timed rounds [default: 5]")
    p.add_argument(
        "--min-time",
        type=float,
        default=0.005,
        help="minimum seconds per sample; short calls are looped [default: %(default)s]",
    )
    p.add_argument("--json", metavar="PATH", help="write all rows and machine info to PATH")
    p.add_argument("--quick", action="store_true", help="smoke run: n=1e5, 3 repeats")
    p.add_argument("--kernels", help="comma-separated subset of: " + ",".join(KERNELS))
    p.add_argument(
        "--paths",
        help="comma-separated SIMD paths to time, one row each [default: every native path this CPU runs]",
    )
    p.add_argument(
        "--cpu-time",
        action="store_true",
        help="time with this thread's CPU time (time.thread_time) instead of the wall clock "
        "(time.perf_counter): steadier on a loaded machine",
    )
    p.add_argument("--no-api", action="store_true", help="skip the API overhead table")
    p.add_argument("--api-only", action="store_true", help="only the API overhead table")
    p.add_argument(
        "--no-peers",
        action="store_true",
        help="time only the tradekernels paths and the floors (no NumPy, pandas, numba, pure Python)",
    )
    a = p.parse_args(argv)
    if a.quick:
        a.sizes = "1e5"
        a.repeat = 3
    a.sizes = [int(float(s)) for s in a.sizes.split(",") if s.strip()]
    avail = tku.available_paths()
    if a.paths:
        a.paths = [q.strip() for q in a.paths.split(",") if q.strip()]
        bad = [q for q in a.paths if q not in avail]
        if bad:
            p.error(f"path(s) {bad} not available; this CPU runs {avail}")
    else:
        a.paths = [q for q in avail if not q.endswith("_emu")]
    if any(n < 2 for n in a.sizes):
        p.error("sizes must be >= 2")
    if a.repeat < 1:
        p.error("--repeat must be >= 1")
    if a.kernels:
        ks = [k.strip() for k in a.kernels.split(",") if k.strip()]
        bad = [k for k in ks if k not in KERNELS]
        if bad:
            p.error(f"unknown kernel(s) {bad}; choose from {KERNELS}")
        a.kernels = [k for k in KERNELS if k in ks]
    else:
        a.kernels = list(KERNELS)
    return a


def fmt_n(n: int) -> str:
    e = int(round(math.log10(n)))
    return f"1e{e}" if 10**e == n else str(n)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.cpu_time:
        CLOCK[0] = time.thread_time
    info = machine_info()
    tk_label = path_label(tku.simd_path)
    path_ufuncs = {q: dict(tku.for_path(q)) for q in args.paths}

    print(
        f"tradekernels {info['tradekernels']} ({info['tradekernels_commit']}), "
        f"simd path {info['simd_path']} (available {info['available_paths']})"
    )
    print(f"numpy {info['numpy']}, pandas {info['pandas']}, numba {info['numba']}, python {info['python']}")
    simd_flags = [f for f in info["cpu_flags"] if f.startswith(("avx", "fma", "sse4"))]
    print(
        f"cpu flags (SIMD): {' '.join(simd_flags)}; streaming stores from "
        f"{info['stream_min_bytes']} B of output"
    )
    print(
        f"cpu: {info['cpu_model']}, nproc {info['nproc']}; "
        f"_core sha256 {info['tradekernels_core_sha256_16']} (built {info['tradekernels_core_mtime']})"
    )
    print(
        f"sizes {[fmt_n(n) for n in args.sizes]}, repeat {args.repeat}, "
        f"median after 1 warm-up, min sample {args.min_time * 1e3:g} ms, "
        f"clock {'time.thread_time (CPU)' if args.cpu_time else 'time.perf_counter (wall)'}"
        + ("  [--quick: smoke run, not a measurement]" if args.quick else "")
    )
    print()

    rows: List[Dict[str, Any]] = []
    t_start = time.perf_counter()

    hdr = (
        f"{'kernel':<19} {'n':>4} {'impl':<21} {'ns/elem':>9} {'median ms':>10} "
        f"{'x tk':>8} {'/floor':>7}  check"
    )
    print(hdr)
    print("-" * len(hdr))

    for n in [] if args.api_only else args.sizes:
        prices = make_prices(n)
        rets = np_simple_returns(prices, np.empty(n))
        for kernel in args.kernels:
            x = rets if kernel == "cumulative_returns" else prices
            impls, tk_prefix = build_impls(kernel, x, tk_label, path_ufuncs, not args.no_peers)

            # warm-up (numba compiles here) + agreement check, outside timing
            checks: Dict[str, str] = {}
            ref_full = None
            for label, fn, _ in impls:
                res = fn()
                if label == NUMPY_ALLOC:  # r[0] is NaN in tradekernels, absent here
                    res = np.concatenate(([np.nan], res))
                if label == tk_label:
                    ref_full = _as_array(res)
                    ref_full = tuple(ref_full) if isinstance(ref_full, tuple) else np.array(ref_full)
                    checks[label] = "-"
                elif label in (COPY, DIVF, MAXP):
                    checks[label] = "-"
                elif label == PYTHON:
                    checks[label] = compare(tk_prefix(), res) + f" (first {min(n, PY_N)})"
                else:
                    checks[label] = compare(ref_full, res)
                del res
            del ref_full

            timing = time_impls(impls, args.repeat, args.min_time)
            tk_t = timing[tk_label]["median_s"]
            cp_t = timing[COPY]["median_s"]
            dv_t = timing[DIVF]["median_s"]
            mx_t = timing[MAXP]["median_s"]
            floor_name = MAXP if kernel in REDUCTIONS else FLOOR
            floor_t = mx_t if kernel in REDUCTIONS else max(cp_t, dv_t)
            for label, _, _ in impls:
                t = timing[label]["median_s"]
                row = {
                    "kernel": kernel,
                    "n": n,
                    "impl": label,
                    "median_s": t,
                    "min_s": timing[label]["min_s"],
                    "samples_s": timing[label]["samples_s"],
                    "loops": timing[label]["loops"],
                    "ns_per_elem": t / n * 1e9,
                    "ratio_vs_tradekernels": t / tk_t,
                    "floor": floor_name,
                    "ratio_vs_floor": t / floor_t,
                    "ratio_vs_copy_floor": t / cp_t,
                    "ratio_vs_division_floor": t / dv_t,
                    "ratio_vs_max_pass": t / mx_t,
                    "scaled_from_n": min(n, PY_N) if label == PYTHON else None,
                    "check_vs_tradekernels": checks[label],
                }
                rows.append(row)
                print(
                    f"{kernel:<19} {fmt_n(n):>4} {label:<21} {row['ns_per_elem']:>9.3f} "
                    f"{t * 1e3:>10.3f} {row['ratio_vs_tradekernels']:>7.2f}x "
                    f"{row['ratio_vs_floor']:>6.2f}x  {checks[label]}",
                    flush=True,
                )
            print(f"{'':<19} {'':>4} {'(floor for /floor: ' + floor_name + ')'}")
            del impls, x
            gc.collect()
        del prices, rets
        gc.collect()

    wall = time.perf_counter() - t_start

    # ---- summary of the key targets at the largest n ----
    n_sum = 10**7 if 10**7 in args.sizes else max(args.sizes)

    def get(kernel, impl, field="median_s", n=None):
        n = n_sum if n is None else n
        for r in rows:
            if r["kernel"] == kernel and r["n"] == n and r["impl"] == impl:
                return r[field]
        if impl == FLOOR:
            c, d = get(kernel, COPY, n=n), get(kernel, DIVF, n=n)
            return None if c is None or d is None else max(c, d)
        return None

    # ---- every SIMD path at its floor, every n ----
    path_table: List[Dict[str, Any]] = []
    table_kernels = [k for k in PATH_TABLE_KERNELS if k in args.kernels]
    if table_kernels and not args.api_only:
        print()
        print(
            "SIMD paths at their floor (tradekernels / floor; scans: max(copy floor, division floor), "
            "reductions: np.max pass); 'vs scalar' = path / scalar path"
        )
        head = f"  {'kernel':<15} {'n':>6} {'floor':<20}" + "".join(
            f" {q:>10} {'vs scalar':>9}" for q in args.paths
        )
        print(head)
        for kernel in table_kernels:
            for n in args.sizes:
                fl_name = MAXP if kernel in REDUCTIONS else FLOOR
                fl_t = get(kernel, fl_name, n=n)
                sc_t = get(kernel, path_label("scalar"), n=n) if "scalar" in args.paths else None
                line = f"  {kernel:<15} {fmt_n(n):>6} {fl_name:<20}"
                for q in args.paths:
                    t = get(kernel, path_label(q), n=n)
                    if t is None or fl_t is None:
                        line += f" {'-':>10} {'-':>9}"
                        continue
                    vs = t / sc_t if sc_t else None
                    line += f" {t / fl_t:>9.2f}x" + (f" {vs:>8.2f}x" if vs is not None else f" {'-':>9}")
                    path_table.append(
                        {
                            "kernel": kernel,
                            "n": n,
                            "path": q,
                            "floor": fl_name,
                            "ratio_vs_floor": t / fl_t,
                            "ratio_vs_scalar": vs,
                            "copy_floor_s": get(kernel, COPY, n=n),
                            "division_floor_s": get(kernel, DIVF, n=n),
                            "max_pass_s": get(kernel, MAXP, n=n),
                            "median_s": t,
                        }
                    )
                print(line)

    targets = [
        ("drawdown", FLOOR, 1.0, "drawdown        tradekernels / max(copy, division)"),
        ("max_drawdown", MAXP, 1.0, "max_drawdown    tradekernels / np.max pass"),
        ("simple_returns", FLOOR, 1.2, "simple_returns  tradekernels / max(copy, division)"),
    ]
    summary: List[Dict[str, Any]] = []
    print()
    print(f"summary at n = {fmt_n(n_sum)} (ratios from this run)")
    for kernel, floor, target, text in targets:
        tk_t = get(kernel, tk_label)
        fl_t = get(kernel, floor)
        if tk_t is None or fl_t is None:
            continue
        ratio = tk_t / fl_t
        status = "within target" if ratio <= target else "ABOVE target"
        print(f"  {text:<52} {ratio:6.2f}x   (target <= {target:.1f}x: {status})")
        summary.append(
            {
                "kernel": kernel,
                "n": n_sum,
                "what": f"tradekernels / {floor}",
                "ratio": ratio,
                "target": target,
                "within_target": ratio <= target,
            }
        )
    for num, den, text in (
        (NUMPY, tk_label, "log_returns     numpy / tradekernels, out="),
        (NUMPY_ALLOC, TK_ALLOC, "log_returns     numpy / tradekernels, allocating"),
    ):
        a, b = get("log_returns", num), get("log_returns", den)
        if a is None or b is None:
            continue
        status = "within target" if a / b >= 1.0 else "BELOW target"
        print(f"  {text:<52} {a / b:6.2f}x   (target >= 1.0x: {status})")
        summary.append(
            {"kernel": "log_returns", "n": n_sum, "what": f"{num} / {den}", "ratio": a / b, "target_min": 1.0}
        )
    for kernel, impl in (
        ("drawdown", NUMPY),
        ("drawdown", TK_SCALAR),
        ("drawdown", PANDAS),
        ("drawdown", NUMBA),
        ("max_drawdown", NUMPY),
        ("simple_returns", NUMPY),
    ):
        t = get(kernel, impl)
        tk_t = get(kernel, tk_label)
        if t is None or tk_t is None:
            continue
        text = f"{kernel:<15} {impl} / tradekernels"
        print(f"  {text:<52} {t / tk_t:6.2f}x   (how many times slower)")
        summary.append({"kernel": kernel, "n": n_sum, "what": f"{impl} / tradekernels", "ratio": t / tk_t})
    api_rows = [] if args.no_api else api_overhead(args.repeat, args.min_time)
    print(f"\nwall time of the measurements: {wall:.1f} s (API overhead table not included)")

    if args.json:
        doc = {
            "machine": info,
            "settings": {
                "sizes": args.sizes,
                "repeat": args.repeat,
                "min_time_s": args.min_time,
                "quick": args.quick,
                "clock": "thread_time" if args.cpu_time else "perf_counter",
                "kernels": args.kernels,
                "python_prefix_n": PY_N,
                "input": "100*cumprod(1+N(0,0.01)), default_rng(42), float64; "
                "cumulative_returns gets its simple returns",
            },
            "rows": rows,
            "summary": summary,
            "path_table": path_table,
            "api_overhead": api_rows,
            "wall_s": wall,
        }
        with open(args.json, "w") as fh:
            json.dump(doc, fh, indent=1)
        print(f"wrote {len(rows)} kernel rows and {len(api_rows)} API overhead rows to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
