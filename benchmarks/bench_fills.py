#!/usr/bin/env python
"""Benchmark order fills: BarIndex + skipping kernel vs naive scans (C, numba, Python).

Setup (seeded, ``np.random.default_rng(42)``): ``--bars`` bars (10^6) of a
geometric random walk OHLC (0.1 % per-bar volatility, open = previous close,
high / low beyond open and close by a random fraction of a bar's volatility);
``--orders`` (10^5) good-till-cancelled limit orders per distance, start bar
uniform in ``[0, n)``, side +1 / -1 at random, limit price at ``d`` below
(buy) / above (sell) the open of the start bar, ``d`` in 0.1 %, 1 %, 5 %,
20 %.

Rows per distance:

* ``tradekernels``: ``ufuncs.fill_orders`` with a prebuilt BarIndex, all orders
  in one call (they are the kernel's core dimension ``(o)``, so it prefetches
  the start bars of the orders ahead), ``out=`` preallocated;
* ``naive C``: ``ufuncs.fill_orders_naive`` (the same C code without the
  index) on the first orders, as many as fit in ``--budget`` seconds (at
  least 100), time scaled per order;
* ``numba naive``: an ``@njit`` loop mirroring the reference scan (compiled
  in a warm-up call), subset as for naive C;
* ``python (scaled)``: ``tradekernels.reference.fill_order`` on as many
  orders as fit in ``--budget`` seconds (at least 3), time scaled per order.

Every subset row is checked against the tradekernels answers for the same
orders (``exact`` or ``DIFFERS``).  Times: ``time.perf_counter``, ``gc``
disabled, ``--repeat`` rounds in rotating order, median reported (Python: one
round).  Building the BarIndex is timed separately.  Nothing is asserted.

Usage::

    python benchmarks/bench_fills.py                  # 1e6 bars, 1e5 orders
    python benchmarks/bench_fills.py --quick          # 1e5 bars, 1e4 orders
    python benchmarks/bench_fills.py --json /tmp/fills.json
"""

from __future__ import annotations

import argparse
import gc
import json
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
from _machine import machine_info as _machine_info  # noqa: E402

try:
    import numba
    from numba import njit
except Exception:  # pragma: no cover - optional competitor
    numba = None
    njit = None

DISTANCES = (0.001, 0.01, 0.05, 0.20)
TARGETS = {  # distance -> (row, minimum speed-up of tradekernels)
    0.001: [("naive C", 5.0)],
    0.01: [("naive C", 20.0)],
    0.05: [("naive C", 50.0), ("numba naive", 100.0)],
}
PYTHON_TARGET = 1000.0


def make_bars(n: int, seed: int = 42, vol: float = 0.001) -> Tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.cumprod(1.0 + rng.normal(0.0, vol, n))
    open_ = np.r_[100.0, close[:-1]]
    high = np.maximum(open_, close) * (1.0 + vol * rng.random(n))
    low = np.minimum(open_, close) * (1.0 - vol * rng.random(n))
    return open_, high, low, close


def make_orders(open_: np.ndarray, m: int, d: float, seed: int) -> Tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    n = len(open_)
    start = rng.integers(0, n, m).astype(np.int64)
    side = rng.choice(np.array([-1, 1], dtype=np.int64), m)
    kind = np.full(m, int(tradekernels.OrderKind.LIMIT), dtype=np.int64)
    price = open_[start] * (1.0 - side * d)
    limit = np.full(m, np.nan)
    expiry = np.full(m, -1, dtype=np.int64)
    return start, side, kind, price, limit, expiry


# --------------------------------------------------------------------------
# numba naive scan (mirrors tradekernels.reference.fill_order)
# --------------------------------------------------------------------------


def _numba_kernel():
    if njit is None:
        return None

    @njit(cache=False)
    def first(o, h, l, c, a, last, below, x):
        # the price test first, then fillability (NaN-free bar): as cheap as the naive C scan
        if below:
            for i in range(a, last + 1):
                if l[i] <= x and o[i] == o[i] and h[i] == h[i] and c[i] == c[i]:
                    return i
        else:
            for i in range(a, last + 1):
                if h[i] >= x and o[i] == o[i] and l[i] == l[i] and c[i] == c[i]:
                    return i
        return -1

    @njit(cache=False)
    def fill(o, h, l, c, start, side, kind, price, limit, expiry, out_i, out_p):
        n = o.shape[0]
        for k in range(start.shape[0]):
            out_i[k] = -1
            out_p[k] = np.nan
            s, sd, kd, p, lim, e = start[k], side[k], kind[k], price[k], limit[k], expiry[k]
            last = n - 1 if (e == -1 or e >= n) else e
            if s < 0 or s >= n or last < s or (sd != 1 and sd != -1):
                continue
            buy = sd == 1
            if kd == 0:
                i = first(o, h, l, c, s, last, True, np.inf)
                if i >= 0:
                    out_i[k] = i
                    out_p[k] = o[i]
            elif kd == 1:
                i = first(o, h, l, c, s, last, buy, p)
                if i >= 0:
                    out_i[k] = i
                    out_p[k] = (o[i] if o[i] < p else p) if buy else (o[i] if o[i] > p else p)
            elif kd == 2:
                i = first(o, h, l, c, s, last, not buy, p)
                if i >= 0:
                    out_i[k] = i
                    out_p[k] = (o[i] if o[i] > p else p) if buy else (o[i] if o[i] < p else p)
            elif kd == 3:
                t = first(o, h, l, c, s, last, not buy, p)
                if t < 0:
                    continue
                tp = (o[t] if o[t] > p else p) if buy else (o[t] if o[t] < p else p)
                if (tp <= lim) if buy else (tp >= lim):
                    out_i[k] = t
                    out_p[k] = tp
                    continue
                i = first(o, h, l, c, t + 1, last, buy, lim)
                if i >= 0:
                    out_i[k] = i
                    out_p[k] = (o[i] if o[i] < lim else lim) if buy else (o[i] if o[i] > lim else lim)

    return fill


# --------------------------------------------------------------------------
# timing
# --------------------------------------------------------------------------


def _time(fn: Callable[[], Any]) -> float:
    gc_was = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0
    finally:
        if gc_was:
            gc.enable()


def _subset_size(fn: Callable[[int], Any], total: int, budget: float, lo: int) -> int:
    """Largest k (doubling from lo) whose fn(k) takes about <= budget seconds."""
    k = min(lo, total)
    while k < total:
        t = _time(lambda: fn(k))
        if t * 2 > budget:
            break
        k = min(total, k * 2 if t * 4 < budget else int(k * budget / max(t, 1e-9) * 0.8) or k + 1)
    return k


def _check(a_i, a_p, b_i, b_p) -> str:
    same = np.array_equal(a_i, b_i) and np.array_equal(a_p, b_p, equal_nan=True)
    return "exact" if same else "DIFFERS"


def machine_info() -> Dict[str, Any]:
    """The shared record (``_machine.py``), with the keys this script's report reads."""
    info = _machine_info()
    info["cpu"] = info["cpu_model"]
    return info


def run(args) -> Dict[str, Any]:
    n, m = int(float(args.bars)), int(float(args.orders))
    bars = make_bars(n)
    o, h, l, c = bars

    # BarIndex build
    build_s = []
    for _ in range(args.repeat):
        build_s.append(_time(lambda: tradekernels.BarIndex(o, h, l, c)))
    idx = tradekernels.BarIndex(o, h, l, c)
    bar_arrays = idx.arrays
    raw_build = []
    outs = tuple(np.empty_like(getattr(idx, nm)) for nm in idx._SUMMARIES)  # (contiguous)
    for _ in range(args.repeat):
        raw_build.append(_time(lambda: tku.bar_index(o, h, l, c, out=outs)))

    numba_fill = _numba_kernel()
    py_bars = [v.tolist() for v in bars]
    rows: List[Dict[str, Any]] = []

    for di, d in enumerate(DISTANCES):
        order = make_orders(o, m, d, seed=1000 + di)
        out_i = np.empty(m, dtype=np.int64)
        out_p = np.empty(m)

        def tk_all():
            tku.fill_orders(*bar_arrays, *order, out=(out_i, out_p))

        # reference answers for the whole set
        tk_all()
        ref_i, ref_p = out_i.copy(), out_p.copy()
        k_naive = _subset_size(
            lambda k: tku.fill_orders_naive(o, h, l, c, *(a[:k] for a in order)), m, args.budget, 100
        )
        nv_i, nv_p = np.empty(k_naive, np.int64), np.empty(k_naive)
        sub = tuple(a[:k_naive] for a in order)
        impls: Dict[str, Tuple[Callable[[], Any], int]] = {
            "tradekernels": (tk_all, m),
            "naive C": (lambda: tku.fill_orders_naive(o, h, l, c, *sub, out=(nv_i, nv_p)), k_naive),
        }
        checks = {"tradekernels": "exact"}
        tku.fill_orders_naive(o, h, l, c, *sub, out=(nv_i, nv_p))
        checks["naive C"] = _check(nv_i, nv_p, ref_i[:k_naive], ref_p[:k_naive])
        if numba_fill is not None:
            nb_i, nb_p = np.empty(k_naive, np.int64), np.empty(k_naive)
            numba_fill(o, h, l, c, *(a[:10] for a in sub), nb_i[:10], nb_p[:10])  # compile
            numba_fill(o, h, l, c, *sub, nb_i, nb_p)
            checks["numba naive"] = _check(nb_i, nb_p, ref_i[:k_naive], ref_p[:k_naive])
            impls["numba naive"] = (lambda: numba_fill(o, h, l, c, *sub, nb_i, nb_p), k_naive)

        samples: Dict[str, List[float]] = {k: [] for k in impls}
        names = list(impls)
        for r in range(args.repeat):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                fn, k = impls[name]
                samples[name].append(_time(fn) / k)

        # pure Python: one order at a time until the budget is spent
        py_i, py_p, t_py = [], [], 0.0
        cols = [a.tolist() for a in order]
        j = 0
        gc.disable()
        try:
            while j < m and (j < 3 or t_py < args.budget):
                t0 = time.perf_counter()
                fi, fp = reference.fill_order(*py_bars, *(col[j] for col in cols))
                t_py += time.perf_counter() - t0
                py_i.append(fi)
                py_p.append(fp)
                j += 1
        finally:
            gc.enable()
        checks["python (scaled)"] = _check(np.array(py_i, np.int64), np.array(py_p), ref_i[:j], ref_p[:j])

        per_order = {k: statistics.median(v) for k, v in samples.items()}
        per_order["python (scaled)"] = t_py / j
        timed = {k: impls[k][1] for k in impls}
        timed["python (scaled)"] = j
        filled = ref_i >= 0
        start = order[0]
        mean_wait = float(np.mean(ref_i[filled] - start[filled])) if filled.any() else float("nan")
        tk_t = per_order["tradekernels"]
        for name, t in per_order.items():
            rows.append(
                {
                    "distance": d,
                    "impl": name,
                    "ns_per_order": t * 1e9,
                    "orders_timed": timed[name],
                    "x_slower_than_tk": t / tk_t,
                    "check": checks[name],
                    "samples_s_per_order": samples.get(name, [t]),
                    "fill_rate": float(filled.mean()),
                    "mean_bars_to_fill": mean_wait,
                }
            )
    return {
        "bars": n,
        "orders": m,
        "repeat": args.repeat,
        "bar_index_build": {
            "median_s": statistics.median(build_s),
            "raw_ufunc_median_s": statistics.median(raw_build),
            "ns_per_bar": statistics.median(build_s) / n * 1e9,
            "raw_ns_per_bar": statistics.median(raw_build) / n * 1e9,
        },
        "rows": rows,
        "machine": machine_info(),
    }


def report(res: Dict[str, Any]) -> str:
    b = res["bar_index_build"]
    lines = [
        f"order fills: {res['bars']:,} bars, {res['orders']:,} GTC limit orders per distance, "
        f"{res['repeat']} rounds, SIMD path {res['machine']['simd_path']}",
        f"BarIndex build: {b['median_s'] * 1e3:.2f} ms ({b['ns_per_bar']:.2f} ns/bar, incl. copies); "
        f"raw ufuncs.bar_index with out=: {b['raw_ufunc_median_s'] * 1e3:.2f} ms "
        f"({b['raw_ns_per_bar']:.2f} ns/bar)",
        "",
        f"{'distance':>8} {'impl':<16} {'ns/order':>12} {'x tk':>10} {'orders':>8} {'check':>7} "
        f"{'fill rate':>9} {'mean bars':>10}",
    ]
    for r in res["rows"]:
        lines.append(
            f"{r['distance'] * 100:>7.1f}% {r['impl']:<16} {r['ns_per_order']:>12.1f} "
            f"{r['x_slower_than_tk']:>10.1f} "
            f"{r['orders_timed']:>8} {r['check']:>7} {r['fill_rate']:>9.3f} {r['mean_bars_to_fill']:>10.0f}"
        )
    lines += ["", "targets (tradekernels speed-up; reported, not asserted):"]
    by = {(r["distance"], r["impl"]): r for r in res["rows"]}
    for d, targets in TARGETS.items():
        for impl, goal in targets:
            r = by.get((d, impl))
            if r is None:
                lines.append(f"  {d * 100:.1f}% vs {impl}: >= {goal:.0f}x  (not run)")
                continue
            x = r["x_slower_than_tk"]
            lines.append(
                f"  {d * 100:.1f}% vs {impl}: >= {goal:.0f}x  got {x:.1f}x  "
                f"{'met' if x >= goal else 'NOT met'}"
            )
    for d in DISTANCES:
        r = by.get((d, "python (scaled)"))
        x = r["x_slower_than_tk"]
        lines.append(
            f"  {d * 100:.1f}% vs python: >= {PYTHON_TARGET:.0f}x  got {x:.0f}x  "
            f"{'met' if x >= PYTHON_TARGET else 'NOT met'}"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bars", default="1e6")
    ap.add_argument("--orders", default="1e5")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--budget",
        type=float,
        default=1.0,
        help="seconds per distance for choosing the naive subset / running Python (default 1)",
    )
    ap.add_argument("--quick", action="store_true", help="1e5 bars, 1e4 orders, 3 rounds, 0.3 s budget")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    if args.quick:
        args.bars, args.orders, args.repeat, args.budget = "1e5", "1e4", 3, 0.3
    res = run(args)
    print(report(res))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
