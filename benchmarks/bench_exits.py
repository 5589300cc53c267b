#!/usr/bin/env python
"""Benchmark exits: exit_orders (BarIndex + skipping kernel) vs naive scans (C, vectorbt numba, Python).

Setup (seeded, ``np.random.default_rng(42)``): ``--bars`` bars (10^6) of a
geometric random walk OHLC (0.1 % per-bar volatility, open = previous close,
high / low beyond open and close by a random fraction of a bar's volatility),
as in ``bench_fills.py``; ``--entries`` (10^5) long positions entered at the
close of a bar drawn uniformly from ``[0, n)``.  Scenarios: trailing stop 2 %,
trailing stop 10 %, fixed SL 5 % / TP 10 %.

Rows per scenario:

* ``tradekernels``: ``ufuncs.exit_orders`` with a prebuilt BarIndex, all
  positions in one call, ``out=`` preallocated;
* ``naive C``: ``ufuncs.exit_orders_naive`` (the same C code without the
  index) on the first positions, as many as fit in ``--budget`` seconds (at
  least 100), time scaled per position;
* ``vectorbt numba`` / ``vectorbt rust``: vectorbt's ``generate_ohlc_stop_ex``
  (the function under ``generate_ohlc_stop_exits``) with ``engine="numba"`` and,
  where vectorbt-rust is installed, ``engine="rust"``; one column, the subset's
  entries, ``wait=1``, ``until_next=False`` so every entry is followed to its own
  exit, ``pick_first=True``; compiled in a warm-up call; subset as for naive C;
  checked as the set of exit bars (entries that exit on one bar share it);
* ``python (scaled)``: ``tradekernels.fills.reference.exit_order`` (one call per
  position on plain lists, the same work as the kernel) on positions drawn at
  random from all entries, as many as fit in ``--budget`` seconds (at least 3),
  time scaled.

The subsets of the naive rows are ``k`` positions spread evenly over all the
entries.

Signal backtest (``--symbols`` 500 x ``--days`` 2520 daily bars, the same walk
per symbol, entry probability 5 %, no exit signals, SL 5 % / TP 10 %, long):

* ``trades_from_signals``: ``tk.trades_from_signals`` on a prebuilt 2-D
  BarIndex (records out), and ``+ BarIndex build`` including the build;
* ``vectorbt from_signals numba`` / ``rust``: ``vbt.Portfolio.from_signals(close,
  entries, open=, high=, low=, sl_stop=, tp_stop=, engine=)`` (compiled in a
  warm-up call) followed by ``.trades.records`` (checked: same trades); the rust
  row only where vectorbt-rust is installed;
* ``BarIndex 2-D build`` vs ``copy floor``: ``np.copyto`` of the four arrays into
  preallocated ones, and ``copy to new arrays`` (``x.copy()``: fresh memory,
  whose page faults the index pays too).

Times: ``time.perf_counter`` (``--clock cpu``: ``time.process_time``), ``gc`` disabled, ``--repeat`` rounds in
rotating order, median reported (Python: one round).  Nothing is asserted.

Usage::

    python benchmarks/bench_exits.py                  # 1e6 bars, 1e5 entries
    python benchmarks/bench_exits.py --quick          # 1e5 bars, 1e4 entries
    python benchmarks/bench_exits.py --json /tmp/exits.json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import sys
import time
from typing import Any, Callable, Dict, List, Tuple

import numpy as np

import tradekernels
from tradekernels import ufuncs as tku
from tradekernels.fills import reference

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_fills import _subset_size, machine_info, make_bars  # noqa: E402

#: the clock of every timing (``--clock``): wall time (``time.perf_counter``) or the CPU
#: time of the process (``time.process_time``; every contender is single-threaded, so on a
#: loaded machine this leaves out the time other processes take the core away)
CLOCK: Callable[[], float] = time.perf_counter


def _time(fn: Callable[[], Any]) -> float:
    gc_was = gc.isenabled()
    gc.disable()
    try:
        t0 = CLOCK()
        fn()
        return CLOCK() - t0
    finally:
        if gc_was:
            gc.enable()


try:
    import vectorbt as vbt
    from vectorbt.signals.dispatch import generate_ohlc_stop_ex
except Exception:  # pragma: no cover - optional competitor
    vbt = None
    generate_ohlc_stop_ex = None
try:  # vectorbt's Rust engine (optional: rows only where it is installed)
    from vectorbt._engine import is_rust_available

    HAS_RUST = vbt is not None and bool(is_rust_available())
except Exception:  # pragma: no cover - optional competitor
    HAS_RUST = False
#: vectorbt engines measured (each a row): numba always, rust where installed
ENGINES = ["numba"] + (["rust"] if HAS_RUST else [])

NAN = float("nan")
#: name -> (sl_stop, tsl_stop, tp_stop)
SCENARIOS = {
    "trailing 2%": (NAN, 0.02, NAN),
    "trailing 10%": (NAN, 0.10, NAN),
    "SL 5% / TP 10%": (0.05, NAN, 0.10),
}
TARGETS = {"vectorbt numba": 20.0, "vectorbt rust": 20.0, "python (scaled)": 1000.0}


def make_positions(
    close: np.ndarray, m: int, sl: float, tsl: float, tp: float, seed: int
) -> Tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    n = len(close)
    e = np.sort(rng.integers(0, n, m)).astype(np.int64)
    full = lambda v, dt=np.float64: np.full(m, v, dtype=dt)  # noqa: E731
    return (
        e,
        close[e].copy(),
        full(1, np.int64),
        full(sl),
        full(tsl),
        full(tp),
        full(0, np.int64),
        full(NAN),
        full(NAN),
        full(0, np.int64),
        full(0, np.int64),
        full(-1, np.int64),
        full(0.0),
    )


def run(args) -> Dict[str, Any]:
    n, m = int(float(args.bars)), int(float(args.entries))
    o, h, l, c = make_bars(n)
    idx = tradekernels.BarIndex(o, h, l, c)
    a = idx.arrays
    bar_args = (a[0], idx.close, *a[1:])
    py_bars = [v.tolist() for v in (o, h, l, c)]
    rows: List[Dict[str, Any]] = []
    for si, (name, (sl, tsl, tp)) in enumerate(SCENARIOS.items()):
        pos = make_positions(c, m, sl, tsl, tp, seed=2000 + si)
        out = (np.empty(m, np.int64), np.empty(m), np.empty(m, np.int64))

        def tk_all():
            tku.exit_orders(*bar_args, *pos, out=out)

        tk_all()
        ref = tuple(x.copy() for x in out)
        k = _subset_size(
            lambda k: tku.exit_orders_naive(o, h, l, c, *(p[:k] for p in pos)), m, args.budget, 100
        )
        # the subset: k positions spread evenly over all entries (not the first k, whose
        # entry bars are the earliest), the same for every contender
        pick = np.linspace(0, m - 1, k).round().astype(np.int64)
        sub = tuple(p[pick] for p in pos)
        nv = (np.empty(k, np.int64), np.empty(k), np.empty(k, np.int64))
        impls: Dict[str, Tuple[Callable[[], Any], int]] = {
            "tradekernels": (tk_all, m),
            "naive C": (lambda: tku.exit_orders_naive(o, h, l, c, *sub, out=nv), k),
        }
        tku.exit_orders_naive(o, h, l, c, *sub, out=nv)
        checks = {
            "tradekernels": "exact",
            "naive C": "exact"
            if all(np.array_equal(x, r[pick], equal_nan=True) for x, r in zip(nv, ref))
            else "DIFFERS",
        }
        for engine in ENGINES if generate_ohlc_stop_ex is not None else []:
            ent = np.zeros((n, 1), dtype=bool)
            ent[sub[0], 0] = True
            h2, l2, c2 = h[:, None], l[:, None], c[:, None]
            po, to = np.full((n, 1), np.nan), np.full((n, 1), -1, dtype=np.int64)
            sl_v = NAN if np.isnan(sl) and np.isnan(tsl) else (tsl if np.isnan(sl) else sl)

            def vbt_run(engine=engine, ent=ent, po=po, to=to, sl_v=sl_v):
                return generate_ohlc_stop_ex(
                    ent,
                    c2,
                    h2,
                    l2,
                    c2,
                    po,
                    to,
                    np.asarray(sl_v),
                    np.asarray(not np.isnan(tsl)),
                    np.asarray(tp),
                    np.asarray(False),
                    True,
                    1,
                    False,
                    False,
                    True,
                    True,
                    engine=engine,
                )

            ex = vbt_run()  # compiles (numba)
            got_k = ref[0][pick]
            ours = np.unique(got_k[got_k >= 0])
            checks[f"vectorbt {engine}"] = (
                "exact" if np.array_equal(np.flatnonzero(ex[:, 0]), ours) else "DIFFERS"
            )
            impls[f"vectorbt {engine}"] = (vbt_run, k)
        samples: Dict[str, List[float]] = {nm: [] for nm in impls}
        names = list(impls)
        for r in range(args.repeat):
            for nm in names[r % len(names) :] + names[: r % len(names)]:
                fn, cnt = impls[nm]
                samples[nm].append(_time(fn) / cnt)
        # pure Python, one position at a time until the budget is spent
        # (the same work as the C kernel: one exit_order call per position, on plain lists,
        # positions in a random order over all entries, until the budget is spent)
        order_py = np.random.default_rng(3000 + si).permutation(m)
        cols = [p.tolist() for p in pos]
        got, t_py, j = [], 0.0, 0
        gc.disable()
        try:
            while j < m and (j < 3 or t_py < args.budget):
                q = int(order_py[j])
                t0 = CLOCK()
                got.append(reference.exit_order(*py_bars, *(col[q] for col in cols)))
                t_py += CLOCK() - t0
                j += 1
        finally:
            gc.enable()
        py = [np.array([g[q] for g in got]) for q in range(3)]
        done = order_py[:j]
        checks["python (scaled)"] = (
            "exact" if all(np.array_equal(x, r[done], equal_nan=True) for x, r in zip(py, ref)) else "DIFFERS"
        )
        per = {nm: statistics.median(v) for nm, v in samples.items()}
        per["python (scaled)"] = t_py / j
        timed = {nm: impls[nm][1] for nm in impls}
        timed["python (scaled)"] = j
        exited = ref[0] >= 0
        mean_bars = float(np.mean(ref[0][exited] - pos[0][exited])) if exited.any() else NAN
        for nm, t in per.items():
            rows.append(
                {
                    "scenario": name,
                    "impl": nm,
                    "ns_per_entry": t * 1e9,
                    "entries_timed": timed[nm],
                    "x_slower_than_tk": t / per["tradekernels"],
                    "check": checks[nm],
                    "samples_s_per_entry": samples.get(nm, [t]),
                    "exit_rate": float(exited.mean()),
                    "mean_bars_held": mean_bars,
                }
            )
    return {
        "bars": n,
        "entries": m,
        "clock": args.clock,
        "repeat": args.repeat,
        "rows": rows,
        "machine": machine_info(),
        "signals": run_signals(args),
    }


def run_signals_only(args) -> Dict[str, Any]:
    """The signal backtest section alone (``--signals-only``)."""
    return {"rows": [], "machine": machine_info(), "signals": run_signals(args), "clock": args.clock}


def run_signals(args) -> Dict[str, Any]:
    S, T = int(args.symbols), int(args.days)
    rng = np.random.default_rng(7)
    per = [make_bars(T, seed=100 + s, vol=0.02) for s in range(S)]
    o, h, l, c = (np.stack([p[j] for p in per]) for j in range(4))  # (symbols, time)
    ent = rng.random((S, T)) < 0.05
    kw = dict(sl_stop=0.05, tp_stop=0.10)
    idx = tradekernels.BarIndex(o, h, l, c)
    outs = [np.empty((S, T)) for _ in range(4)]
    impls: Dict[str, Callable[[], Any]] = {
        "trades_from_signals": lambda: tradekernels.trades_from_signals(idx, ent, **kw),
        "+ BarIndex build": lambda: tradekernels.trades_from_signals(
            tradekernels.BarIndex(o, h, l, c), ent, **kw
        ),
        "BarIndex 2-D build": lambda: tradekernels.BarIndex(o, h, l, c),
        "copy floor (4 arrays)": lambda: [np.copyto(d, x) for d, x in zip(outs, (o, h, l, c))],
        "copy to new arrays": lambda: [x.copy() for x in (o, h, l, c)],
    }
    ours = impls["trades_from_signals"]()
    check = {}
    if vbt is not None:
        import pandas as pd

        frames = [pd.DataFrame(x.T) for x in (c, o, h, l)]
        ent_f = pd.DataFrame(ent.T)

        for engine in ENGINES:

            def vbt_run(engine=engine):
                pf = vbt.Portfolio.from_signals(
                    frames[0], ent_f, open=frames[1], high=frames[2], low=frames[3], engine=engine, **kw
                )
                return pf.trades.records

            rec = vbt_run()  # compiles (numba)
            same = (
                len(rec) == len(ours)
                and np.array_equal(rec["exit_idx"].to_numpy(), ours["exit_idx"])
                and np.allclose(rec["exit_price"].to_numpy(), ours["exit_price"], rtol=1e-12)
            )
            check[f"vectorbt from_signals {engine}"] = "exact" if same else "DIFFERS"
            impls[f"vectorbt from_signals {engine}"] = vbt_run
    samples: Dict[str, List[float]] = {nm: [] for nm in impls}
    sys_s: Dict[str, List[float]] = {nm: [] for nm in impls}
    faults: Dict[str, List[int]] = {nm: [] for nm in impls}
    names = list(impls)
    for r in range(args.repeat):
        for nm in names[r % len(names) :] + names[: r % len(names)]:
            u0 = resource.getrusage(resource.RUSAGE_SELF)
            samples[nm].append(_time(impls[nm]))
            u1 = resource.getrusage(resource.RUSAGE_SELF)
            sys_s[nm].append(u1.ru_stime - u0.ru_stime)
            faults[nm].append(u1.ru_minflt - u0.ru_minflt)
    med = {nm: statistics.median(v) for nm, v in samples.items()}
    return {
        "symbols": S,
        "days": T,
        # kernel time spent on the call (page faults: zeroing / compacting fresh memory) and
        # the page faults, per row: where a fresh BarIndex's extra cost goes
        "median_sys_s": {nm: statistics.median(v) for nm, v in sys_s.items()},
        "median_faults": {nm: statistics.median(v) for nm, v in faults.items()},
        "trades": int(len(ours)),
        "median_s": med,
        "check": check,
        "samples_s": samples,
    }


def report(res: Dict[str, Any]) -> str:
    lines = (
        []
        if not res["rows"]
        else [
            f"exits: {res['bars']:,} bars, {res['entries']:,} long entries per scenario, "
            f"{res['repeat']} rounds, {res['clock']} clock; CPU {res['machine']['cpu']}",
            "",
            f"{'scenario':<16} {'impl':<16} {'ns/entry':>12} {'x tk':>10} {'entries':>8} {'check':>7} "
            f"{'exit rate':>9} {'mean bars':>10}",
        ]
    )
    for r in res["rows"]:
        lines.append(
            f"{r['scenario']:<16} {r['impl']:<16} {r['ns_per_entry']:>12.1f} {r['x_slower_than_tk']:>10.1f} "
            f"{r['entries_timed']:>8} {r['check']:>7} {r['exit_rate']:>9.3f} {r['mean_bars_held']:>10.0f}"
        )
    sg = res["signals"]
    med = sg["median_s"]
    tk_t = med["trades_from_signals"]
    lines += [
        "",
        f"signal backtest: {sg['symbols']} symbols x {sg['days']} days, entry prob 5 %, SL 5 % / TP 10 %, "
        f"{sg['trades']:,} trades",
        f"{'impl':<30} {'ms':>10} {'x trades_from_signals':>22} {'check':>8} {'sys ms':>8} {'faults':>8}",
    ]
    for nm, t in med.items():
        lines.append(
            f"{nm:<30} {t * 1e3:>10.2f} {t / tk_t:>22.2f} {sg['check'].get(nm, ''):>8} "
            f"{sg['median_sys_s'][nm] * 1e3:>8.1f} {sg['median_faults'][nm]:>8.0f}"
        )
    b, f, fn = med["BarIndex 2-D build"], med["copy floor (4 arrays)"], med["copy to new arrays"]
    lines.append(
        f"BarIndex 2-D build / copy floor of the four arrays: {b / f:.2f}x into preallocated arrays, "
        f"{b / fn:.2f}x into new arrays (page faults included, as for the index) (target <= 2x: "
        f"{'met' if b / f <= 2 else 'NOT met'} / {'met' if b / fn <= 2 else 'NOT met'})"
    )
    for nm in med:
        if nm.startswith("vectorbt from_signals"):
            x = med[nm] / tk_t
            lines.append(
                f"{nm} / trades_from_signals: {x:.1f}x (target >= 10x: {'met' if x >= 10 else 'NOT met'})"
            )
    lines += ["", "targets (tradekernels speed-up; reported, not asserted):"]
    for r in res["rows"]:
        goal = TARGETS.get(r["impl"])
        if goal is not None and r["scenario"].startswith("trailing"):
            x = r["x_slower_than_tk"]
            lines.append(
                f"  {r['scenario']} vs {r['impl']}: >= {goal:.0f}x  got {x:.1f}x  "
                f"{'met' if x >= goal else 'NOT met'}"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bars", default="1e6")
    ap.add_argument("--entries", default="1e5")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--budget",
        type=float,
        default=1.0,
        help="seconds per scenario for choosing the naive subsets / running Python (default 1)",
    )
    ap.add_argument("--symbols", type=int, default=500)
    ap.add_argument("--days", type=int, default=2520)
    ap.add_argument(
        "--quick", action="store_true", help="1e5 bars, 1e4 entries, 3 rounds, 0.3 s budget, 50 symbols"
    )
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument("--signals-only", action="store_true", help="only the signal backtest section")
    ap.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall: time.perf_counter (default); cpu: time.process_time (steadier on a loaded machine)",
    )
    args = ap.parse_args(argv)
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.quick:
        args.bars, args.entries, args.repeat, args.budget, args.symbols = "1e5", "1e4", 3, 0.3, 50
    res = run_signals_only(args) if args.signals_only else run(args)
    print(report(res))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
