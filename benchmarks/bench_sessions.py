#!/usr/bin/env python
"""Benchmark the session kernels on the New York equity calendar.

Setup: ``--n`` (10^7) one-minute timestamps from 2005-01-03 00:00 UTC
(about 19 years), int64 UTC nanoseconds (a DatetimeIndex for pandas).  The
calendar is 09:30-16:00 America/New_York with the XNYS holidays, early
closes and late opens taken from ``exchange_calendars`` when it is installed
(a plain weekday calendar otherwise).

Rows (ns per timestamp, and each row's time / tradekernels session_mask time):

* ``tradekernels session_mask`` (and ``session_index``, ``session_start``,
  ``minutes_into_session``, ``session_mask unsorted`` on a random
  permutation, ``session_mask datetime64[s]`` including the unit cast):
  the public functions on the int64 array with the table already built
  (no promise of order: every timestamp is read);
* ``session_mask assume_sorted`` (the caller's promise) and ``session_mask
  DatetimeIndex`` (the pandas pipeline's own UTC input, ns and us units;
  pandas caches its ``is_monotonic_increasing``, computed in the warm-up
  call): the sorted path, which reads only the timestamps around session
  bounds;
* ``numpy per-day table``: ``searchsorted`` of the timestamps in the
  table's session opens, then ``ts < closes[i]`` (the same table);
* ``pandas pipeline``: ``tz_convert`` to New York, minute of day, weekday
  and ``isin`` of the holidays (ignores early closes and late opens -- its
  ``N DIFFER`` are those minutes -- so it is a lower bound
  on a complete pandas answer); at most ``--pandas-n`` timestamps (default:
  all), time scaled per timestamp;
* ``exchange_calendars is_trading_minute``: a Python loop over the first
  ``--xcals-n`` (2*10^4) timestamps, time scaled per timestamp
  (exchange_calendars has no vectorised mask for arbitrary minutes).

Every competitor's mask is compared with tradekernels on the timestamps it
ran on (``exact`` or ``N DIFFER``).  Table building (Calendar model for 2004
- 2025 and ``exchange_calendars.get_calendar`` for the same range) is timed
separately.  Times: ``time.perf_counter``, gc disabled, median of
``--repeat`` rounds (pandas: ``--pandas-repeat``, exchange_calendars: one).
Targets (reported, never asserted, for the int64 row and the DatetimeIndex
row): >= 150x faster than the pandas pipeline, >= 5x faster than the numpy
per-day table.

**Set-up** (printed first; ``--setup-only`` prints only this): what a user pays
before the first answer, interleaved (every contender once per round, ``--setup-repeat``
rounds, median; the first round is the cold one -- the first call in the process, which
also reads the zone's data and imports what it needs -- reported apart, not in the median):

* ``Calendar(...) + table 10 years``: the New York model (XNYS holidays, early
  closes, late opens of 2015-2024) constructed and its table built for 2015-2024;
* ``Calendar(...) + first session_mask``: a fresh calendar and the mask of one
  year of minutes (2024), which builds the table it needs; ``session_mask
  (table built)``: the same mask again;
* ``exchange_calendars.get_calendar("XNYS")`` (its cache cleared each time, so
  it builds the calendar) against ``Calendar.from_exchange_calendars("XNYS")``
  (which calls it) alone and with its first mask of 2024; the same with
  ``start, end`` = 2015-2024; and the first mask of 2000, outside the default
  range, which builds a second exchange_calendars calendar.

Targets (issue 15, item 3): the 10-year table <= 10 ms; from_exchange_calendars
<= 2x get_calendar (with and without its first mask).

Usage::

    python benchmarks/bench_sessions.py
    python benchmarks/bench_sessions.py --n 1e6 --json /tmp/sessions.json
    python benchmarks/bench_sessions.py --setup-only
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import os
import platform
import statistics
import sys
import time
from typing import Any, Callable, Dict, List, Optional

import numpy as np

import tradekernels as tk

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import machine_info  # noqa: E402

try:
    import pandas as pd
except Exception:  # pragma: no cover
    pd = None
try:
    import exchange_calendars as xcals
except Exception:  # pragma: no cover
    xcals = None

NS_MIN = 60_000_000_000
START = np.datetime64("2005-01-03T00:00", "ns")
TARGETS = {"pandas pipeline": 150.0, "numpy per-day table": 5.0}


def timed(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm-up
    gc.disable()
    try:
        ts = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
    finally:
        gc.enable()
    return statistics.median(ts)


def ny_model(first: str, last: str) -> Dict[str, Any]:
    """Arguments of the New York Calendar (XNYS exceptions when exchange_calendars is there)."""
    kw: Dict[str, Any] = dict(tz="America/New_York", open="09:30", close="16:00")
    if xcals is None:
        return kw
    xc = xcals.get_calendar("XNYS", start=first, end=last)
    tz = "America/New_York"
    sessions = xc.sessions
    days = pd.bdate_range(first, last)
    kw["holidays"] = [d.date() for d in days.difference(sessions)]
    lo = xc.opens.dt.tz_convert(tz)
    lc = xc.closes.dt.tz_convert(tz)
    kw["early_closes"] = {d.date(): t for d, t in zip(sessions, lc.dt.time) if t != _dt.time(16)}
    kw["late_opens"] = {d.date(): t for d, t in zip(sessions, lo.dt.time) if t != _dt.time(9, 30)}
    return kw


def machine() -> Dict[str, Any]:
    """The shared record (``_machine.py``: CPU model and flags, versions, load; the machine
    is shared, figures move with the load), with the keys this script's report reads."""
    info = machine_info()
    info["cpu"] = info["cpu_model"]
    return info


def _fresh_xcals() -> None:
    """Drop exchange_calendars' cache of built calendars, so get_calendar builds again."""
    disp = getattr(getattr(xcals, "calendar_utils", None), "global_calendar_dispatcher", None)
    cache = getattr(disp, "_factory_output_cache", None)
    if cache is not None:
        cache.clear()


SETUP_TARGETS = {
    "Calendar(...) + table 10 years": ("abs", 0.010),
    "from_exchange_calendars('XNYS')": ("ratio", 2.0),
    "from_exchange_calendars('XNYS') + first session_mask": ("ratio", 2.0),
    "from_exchange_calendars('XNYS', 10 years)": ("ratio", 2.0),
    "from_exchange_calendars('XNYS', 10 years) + first session_mask": ("ratio", 2.0),
}


def setup_section(repeat: int) -> Dict[str, Any]:
    """Time the set-up a user pays (see the module docstring), interleaved; print a table."""
    first, last = "2015-01-01", "2024-12-31"
    kw = ny_model(first, last)
    year = np.arange(
        np.datetime64("2024-01-01T00:00", "ns"),
        np.datetime64("2025-01-01T00:00", "ns"),
        np.timedelta64(1, "m"),
    )
    old = np.arange(
        np.datetime64("2000-01-01T00:00", "ns"),
        np.datetime64("2001-01-01T00:00", "ns"),
        np.timedelta64(1, "m"),
    )
    built: List[tk.Calendar] = []

    def again() -> Any:
        if not built:  # (in the cold round)
            built.append(tk.Calendar(**kw))
        return tk.session_mask(year, built[0])

    cases: List[tuple] = [  # (name, fn, baseline name or None); the first one runs cold
        ("Calendar(...) + table 10 years", lambda: tk.Calendar(**kw).table(first, last), None),
        ("Calendar(...) + first session_mask", lambda: tk.session_mask(year, tk.Calendar(**kw)), None),
        ("session_mask (table built)", again, None),
    ]
    if xcals is not None:
        g, g10 = "get_calendar('XNYS')", "get_calendar('XNYS', 10 years)"

        def fx(*args: str, mask: Optional[np.ndarray] = None) -> Callable[[], Any]:
            def run() -> Any:
                _fresh_xcals()
                cal = tk.Calendar.from_exchange_calendars("XNYS", *args)
                return cal if mask is None else tk.session_mask(mask, cal)

            return run

        cases += [
            (g, lambda: (_fresh_xcals(), xcals.get_calendar("XNYS")), None),
            ("from_exchange_calendars('XNYS')", fx(), g),
            ("from_exchange_calendars('XNYS') + first session_mask", fx(mask=year), g),
            ("from_exchange_calendars('XNYS') + first mask of 2000", fx(mask=old), g),
            (g10, lambda: (_fresh_xcals(), xcals.get_calendar("XNYS", start=first, end=last)), None),
            ("from_exchange_calendars('XNYS', 10 years)", fx(first, last), g10),
            (
                "from_exchange_calendars('XNYS', 10 years) + first session_mask",
                fx(first, last, mask=year),
                g10,
            ),
        ]
    times: Dict[str, List[float]] = {c[0]: [] for c in cases}
    load0 = machine()["loadavg"]
    gc.disable()
    try:
        for _ in range(repeat + 1):  # round 0: cold
            for name, fn, _base in cases:
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    finally:
        gc.enable()
    info = machine()
    rows = []
    med = {k: statistics.median(v[1:]) for k, v in times.items()}
    for name, _fn, base in cases:
        r: Dict[str, Any] = {"what": name, "ms": med[name] * 1e3, "cold_ms": times[name][0] * 1e3}
        if base is not None:
            r["vs"], r["ratio"] = base, med[name] / med[base]
        kind = SETUP_TARGETS.get(name)
        if kind is not None:
            want = kind[1]
            got = r["ratio"] if kind[0] == "ratio" else med[name]
            r["target"], r["met"] = want, got <= want
        rows.append(r)
    print(
        f"set-up: interleaved, median of {repeat} rounds (+1 cold round); cpu {info['cpu']}, "
        f"nproc {info['nproc']}, loadavg {load0} -> {info['loadavg']} (shared machine: under load)"
    )
    print(f"{'what':<64} {'ms':>9} {'cold ms':>9} {'ratio':>7}  vs / target")
    for r in rows:
        ratio = f"{r['ratio']:7.2f}" if "ratio" in r else " " * 7
        note = r.get("vs", "")
        if "target" in r:
            want = f"{r['target']:g}x" if "ratio" in r else f"{r['target'] * 1e3:g} ms"
            note += f"{'; ' if note else ''}target <= {want}: {'met' if r['met'] else 'NOT met'}"
        print(f"{r['what']:<64} {r['ms']:9.2f} {r['cold_ms']:9.2f} {ratio}  {note}")
    print()
    return {"rows": rows, "repeat": repeat, "machine": info, "loadavg_before": load0}


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=float, default=1e7)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--pandas-n", type=float, default=0, help="pandas subset (0: all)")
    ap.add_argument("--pandas-repeat", type=int, default=2)
    ap.add_argument("--xcals-n", type=float, default=2e4)
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument("--setup-repeat", type=int, default=7)
    ap.add_argument("--setup-only", action="store_true", help="only the set-up section")
    a = ap.parse_args(argv)
    n = int(a.n)
    setup = setup_section(a.setup_repeat)
    if a.setup_only:
        if a.json:
            with open(a.json, "w") as fh:
                json.dump({"setup": setup, "python": sys.version}, fh, indent=2)
        return 0

    ts = START.view(np.int64) + np.arange(n, dtype=np.int64) * NS_MIN
    end = np.datetime64(int(ts[-1]), "ns").astype("datetime64[D]").item()
    first, last = "2004-01-01", f"{end.year + 1}-12-31"

    # ---- table building ------------------------------------------------------
    builds = []
    kw = ny_model(first, last)
    t0 = time.perf_counter()
    cal = tk.Calendar(**kw)
    table = cal.table(first, last)
    builds.append(("Calendar model table", time.perf_counter() - t0, len(table)))
    if xcals is not None:
        cls = type(xcals.get_calendar("XNYS"))
        t0 = time.perf_counter()
        xc = cls(start=first, end=last)  # a fresh instance (get_calendar caches)
        builds.append(("exchange_calendars XNYS(start, end)", time.perf_counter() - t0, len(xc.sessions)))
        t0 = time.perf_counter()
        xcal = tk.Calendar.from_exchange_calendars("XNYS", first, last)  # get_calendar may be cached
        builds.append(("Calendar.from_exchange_calendars", time.perf_counter() - t0, len(xcal.table())))

    ref_mask = tk.session_mask(ts, cal)
    rows: List[Dict[str, Any]] = []

    def row(name: str, sec: float, count: int, mask: Optional[np.ndarray], idx: Any = None) -> None:
        check = ""
        if mask is not None:
            want = ref_mask if idx is None else ref_mask[idx]
            bad = int(np.count_nonzero(np.asarray(mask) != want))
            check = "exact" if bad == 0 else f"{bad} DIFFER"
        rows.append({"impl": name, "ns_per_ts": sec / count * 1e9, "n": count, "check": check})

    # ---- tradekernels ----------------------------------------------------------
    for name in ("session_mask", "session_index", "session_start", "minutes_into_session"):
        f = getattr(tk, name)
        sec = timed(lambda: f(ts, cal), a.repeat)
        row(f"tradekernels {name}", sec, n, f(ts, cal) if name == "session_mask" else None)
    sec = timed(lambda: tk.session_mask(ts, cal, assume_sorted=True), a.repeat)
    row("tradekernels session_mask assume_sorted", sec, n, tk.session_mask(ts, cal, assume_sorted=True))
    for name in ("session_index", "session_start"):  # the other sorted kernels (checked vs no promise)
        f = getattr(tk, name)
        sec = timed(lambda: f(ts, cal, assume_sorted=True), a.repeat)
        same = np.array_equal(f(ts, cal, assume_sorted=True), f(ts, cal))
        rows.append(
            {
                "impl": f"tradekernels {name} assume_sorted",
                "ns_per_ts": sec / n * 1e9,
                "n": n,
                "check": "exact" if same else "DIFFER",
            }
        )
    if pd is not None:  # the pandas pipeline's own input; its monotonic flag is cached by pandas
        dti = pd.DatetimeIndex(ts.view("datetime64[ns]"), tz="UTC")
        sec = timed(lambda: tk.session_mask(dti, cal), a.repeat)
        row("tradekernels session_mask DatetimeIndex", sec, n, tk.session_mask(dti, cal).to_numpy())
        dti = dti.as_unit("us")  # pandas 3's default unit: read in place, table scaled
        sec = timed(lambda: tk.session_mask(dti, cal), a.repeat)
        row("tradekernels session_mask DatetimeIndex[us]", sec, n, tk.session_mask(dti, cal).to_numpy())
        del dti
    perm = np.random.default_rng(0).permutation(n)
    tsp = ts[perm]
    sec = timed(lambda: tk.session_mask(tsp, cal), max(1, a.repeat // 2))
    row("tradekernels session_mask unsorted", sec, n, tk.session_mask(tsp, cal), perm)
    ts_s = ts.astype("datetime64[ns]").astype("datetime64[s]")
    sec = timed(lambda: tk.session_mask(ts_s, cal), a.repeat)
    row("tradekernels session_mask datetime64[s]", sec, n, tk.session_mask(ts_s, cal))

    # ---- numpy per-day table -------------------------------------------------
    opens, closes = table.opens, table.closes

    def np_lookup() -> np.ndarray:
        i = np.searchsorted(opens, ts, side="right") - 1
        return (i >= 0) & (ts < closes[np.maximum(i, 0)])

    row("numpy per-day table", timed(np_lookup, a.repeat), n, np_lookup())

    # ---- pandas pipeline -----------------------------------------------------
    if pd is not None:
        m = n if a.pandas_n <= 0 else min(n, int(a.pandas_n))
        idx = pd.DatetimeIndex(ts[:m].view("datetime64[ns]"), tz="UTC")
        hol = pd.DatetimeIndex(sorted(cal.holidays))

        def pandas_pipeline() -> np.ndarray:
            local = idx.tz_convert("America/New_York").tz_localize(None)
            mod = local.hour * 60 + local.minute
            wd = local.day_of_week
            day = local.normalize()
            return np.asarray((wd < 5) & (mod >= 570) & (mod < 960) & ~day.isin(hol))

        sec = timed(pandas_pipeline, a.pandas_repeat)
        row("pandas pipeline", sec, m, pandas_pipeline(), slice(0, m))
        del idx

    # ---- exchange_calendars ------------------------------------------------------
    if xcals is not None:
        k = min(n, int(a.xcals_n))
        sub = pd.DatetimeIndex(ts[:k].view("datetime64[ns]"), tz="UTC")
        t0 = time.perf_counter()
        got = np.array([xc.is_trading_minute(t) for t in sub])
        sec = time.perf_counter() - t0
        row("exchange_calendars is_trading_minute", sec, k, got, slice(0, k))

    # ---- report ------------------------------------------------------------
    base = rows[0]["ns_per_ts"]
    print(
        f"session kernels, NY calendar, n = {n:,} one-minute timestamps "
        f"({np.datetime64(int(ts[0]), 'ns').astype('datetime64[m]')} .. "
        f"{np.datetime64(int(ts[-1]), 'ns').astype('datetime64[m]')}), SIMD {tk.simd_path}, "
        f"python {platform.python_version()}, numpy {np.__version__}"
        + (f", pandas {pd.__version__}" if pd is not None else "")
        + (f", exchange_calendars {xcals.__version__}" if xcals is not None else "")
    )
    print()
    print(f"{'impl':<46} {'n':>11} {'ns/ts':>10} {'x tk mask':>10}  check")
    for r in rows:
        r["ratio"] = r["ns_per_ts"] / base
        print(f"{r['impl']:<46} {r['n']:>11,} {r['ns_per_ts']:>10.2f} {r['ratio']:>10.1f}  {r['check']}")
    print()
    print(f"{'table build':<46} {'sessions':>11} {'seconds':>10}")
    for name, sec, cnt in builds:
        print(f"{name:<46} {cnt:>11,} {sec:>10.3f}")
    print()
    targets = []
    by = {r["impl"]: r for r in rows}
    for mine in ("tradekernels session_mask", "tradekernels session_mask DatetimeIndex"):
        if mine not in by:
            continue
        for name, want in TARGETS.items():
            if name in by:
                ratio = by[name]["ns_per_ts"] / by[mine]["ns_per_ts"]
                ok = ratio >= want
                targets.append({"tk": mine, "vs": name, "target": want, "speedup": ratio, "met": ok})
                print(
                    f"target: {mine} >= {want:g}x faster than {name}: {ratio:.1f}x "
                    f"({'met' if ok else 'NOT met'})"
                )
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(
                {
                    "n": n,
                    "simd": tk.simd_path,
                    "rows": rows,
                    "builds": [{"what": w, "seconds": s, "sessions": c} for w, s, c in builds],
                    "targets": targets,
                    "setup": setup,
                    "python": sys.version,
                },
                fh,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
