"""The demo behind ``python -m tradekernels demo``.

It runs the same analysis three ways on :func:`tradekernels.datasets.synthetic_closes`:

* **pandas**: the idiomatic vectorised pipeline (``pct_change``,
  ``np.log(df / df.shift())``, ``(1 + r.fillna(0)).cumprod() - 1``,
  ``df / df.cummax() - 1``, ``dd.min()``) on the whole panel;
* **tradekernels**: the same results from the C kernels;
* **pure Python**: the plain-loop reference twins
  (:mod:`tradekernels.reference`) on one symbol, to show the scale of an
  interpreted loop.

It checks that all three agree (bit for bit, NaN equal to NaN; log returns
within 1 ulp), times pandas and tradekernels (best of ``repeat``), and
reports the five symbols with the worst maximum drawdown.

Two more families, each checked and timed the same way:

* **sessions**: a year of one-minute UTC timestamps (2023-07-01 ..
  2024-06-30) on a New York 09:30-16:00 calendar with that year's NYSE
  holidays: the pandas ``tz_convert`` + minute-of-day + weekday + holiday
  ``isin`` mask against :func:`tradekernels.session_mask`;
* **order fills**: GTC buy limits 3 / 10 / 25 % below the close on 20 days
  per symbol (OHLC bars derived from the closes, one
  :class:`~tradekernels.BarIndex` per symbol built once), the pure-Python
  bar-by-bar scan (:func:`tradekernels.reference.fill_order`, on the first
  10 symbols, time scaled) against :func:`tradekernels.fill_orders`.
"""

from __future__ import annotations

import platform
import time
from typing import Any, Callable, Dict, List, Tuple

import numpy as np

from . import _backend, reference, stream, ufuncs
from .datasets import _require_pandas, synthetic_closes
from .fills import TRADE_DTYPE, BarIndex, fill_orders, trades_from_signals
from .scans import (
    cumulative_returns,
    drawdown,
    drawdown_episode,
    log_returns,
    max_drawdown,
    simple_returns,
)
from .sessions import Calendar, session_mask

__all__ = ["run_demo", "format_report", "print_report"]

# (key, label, tolerance in ulps); the order of the report.
_SERIES_CHECKS = [
    ("simple_returns", "simple returns", 0),
    ("log_returns", "log returns", 1),
    ("cumulative_returns", "cumulative returns", 0),
    ("drawdown", "drawdown", 0),
    ("max_drawdown", "max drawdown", 0),
]
_STEPS = [key for key, _, _ in _SERIES_CHECKS] + ["episode"]
_STEP_LABELS = dict((k, label) for k, label, _ in _SERIES_CHECKS)
_STEP_LABELS["episode"] = "worst-symbol episode"


# --------------------------------------------------------------------------
# The three pipelines.  Each returns {step: result} and {step: seconds}.


def _pandas_episode(s: Any, dd: Any) -> Tuple[int, int, int, float]:
    """Drawdown episode of one price Series from pandas operations (positions)."""
    depth = float(dd.min())
    if not depth < 0.0:  # no drawdown, or no valid price at all
        return -1, -1, -1, depth
    trough = int(dd.reset_index(drop=True).idxmin())  # first position of the minimum
    at_peak = (s >= s.cummax()).to_numpy()  # at or above the running peak
    peak = int(np.flatnonzero(at_peak[: trough + 1])[-1])
    after = (s.iloc[trough + 1 :] >= s.iloc[peak]).to_numpy()
    recovery = trough + 1 + int(after.argmax()) if after.any() else -1
    return peak, trough, recovery, depth


def _pandas_pipeline(df: Any) -> Tuple[Dict[str, Any], Dict[str, float]]:
    t: Dict[str, float] = {}
    out: Dict[str, Any] = {}
    clock = time.perf_counter
    t0 = clock()
    out["simple_returns"] = r = df.pct_change(fill_method=None)
    t1 = clock()
    out["log_returns"] = np.log(df / df.shift())
    t2 = clock()
    out["cumulative_returns"] = (1 + r.fillna(0)).cumprod() - 1
    t3 = clock()
    out["drawdown"] = dd = df / df.cummax() - 1
    t4 = clock()
    out["max_drawdown"] = mdd = dd.min()
    t5 = clock()
    worst = mdd.idxmin()
    out["worst"] = worst
    out["episode"] = _pandas_episode(df[worst], dd[worst])
    t6 = clock()
    for key, a, b in zip(_STEPS, (t0, t1, t2, t3, t4, t5), (t1, t2, t3, t4, t5, t6)):
        t[key] = b - a
    return out, t


def _tk_pipeline(df: Any) -> Tuple[Dict[str, Any], Dict[str, float]]:
    t: Dict[str, float] = {}
    out: Dict[str, Any] = {}
    clock = time.perf_counter
    t0 = clock()
    out["simple_returns"] = r = simple_returns(df)
    t1 = clock()
    out["log_returns"] = log_returns(df)
    t2 = clock()
    out["cumulative_returns"] = cumulative_returns(r)
    t3 = clock()
    out["drawdown"] = drawdown(df)
    t4 = clock()
    out["max_drawdown"] = mdd = max_drawdown(df)
    t5 = clock()
    worst = mdd.idxmin()
    out["worst"] = worst
    out["episode"] = tuple(drawdown_episode(df[worst]))
    t6 = clock()
    for key, a, b in zip(_STEPS, (t0, t1, t2, t3, t4, t5), (t1, t2, t3, t4, t5, t6)):
        t[key] = b - a
    return out, t


def _python_pipeline(column: Any) -> Tuple[Dict[str, Any], Dict[str, float]]:
    """The pure-Python reference loops over one price column (a pandas Series)."""
    t: Dict[str, float] = {}
    out: Dict[str, Any] = {}
    clock = time.perf_counter
    t0 = clock()
    x = column.tolist()
    out["simple_returns"] = r = reference.simple_returns(x)
    t1 = clock()
    out["log_returns"] = reference.log_returns(x)
    t2 = clock()
    out["cumulative_returns"] = reference.cumulative_returns(r)
    t3 = clock()
    out["drawdown"] = reference.drawdown(x)
    t4 = clock()
    out["max_drawdown"] = reference.max_drawdown(x)
    t5 = clock()
    out["episode"] = reference.drawdown_episode(x)
    t6 = clock()
    for key, a, b in zip(_STEPS, (t0, t1, t2, t3, t4, t5), (t1, t2, t3, t4, t5, t6)):
        t[key] = b - a
    return out, t


def _best_of(
    repeat: int, fn: Callable[[Any], Tuple[Dict[str, Any], Dict[str, float]]], arg: Any
) -> Tuple[Dict[str, Any], Dict[str, float], float]:
    """Run ``fn(arg)`` ``repeat`` times; the last result, best time per step and in total."""
    best_steps: Dict[str, float] = {}
    best_total = float("inf")
    result: Dict[str, Any] = {}
    for _ in range(max(1, repeat)):
        result, steps = fn(arg)
        best_total = min(best_total, sum(steps.values()))
        for k, v in steps.items():
            best_steps[k] = min(best_steps.get(k, v), v)
    return result, best_steps, best_total


# --------------------------------------------------------------------------
# Comparisons.


def _ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """ULPs between float64 values of the same sign (inf where the signs differ)."""
    ia = a.view(np.int64)
    ib = b.view(np.int64)
    same_sign = (ia < 0) == (ib < 0)
    with np.errstate(over="ignore"):
        d = np.abs(ia - ib).astype(np.float64)
    return np.where(same_sign, d, np.inf)


def _compare_values(a: Any, b: Any, ulps: int) -> Dict[str, Any]:
    """Compare two float arrays: NaN must match NaN, the rest bit-exact or within ``ulps``."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    info: Dict[str, Any] = {
        "n": int(a.size),
        "ok": False,
        "max_ulp": None,
        "n_diff": None,
        "n_nan": None,
        "problem": None,
    }
    if a.shape != b.shape:
        info["problem"] = f"shapes differ: {a.shape} vs {b.shape}"
        return info
    a = np.ascontiguousarray(a).ravel()
    b = np.ascontiguousarray(b).ravel()
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    info["n_nan"] = int(nan_a.sum())
    if not np.array_equal(nan_a, nan_b):
        i = int(np.flatnonzero(nan_a != nan_b)[0])
        info["problem"] = f"NaN positions differ (first at flat index {i}: {a[i]!r} vs {b[i]!r})"
        return info
    va, vb = a[~nan_a], b[~nan_b]
    same_bits = va.view(np.int64) == vb.view(np.int64)
    info["n_diff"] = int((~same_bits).sum())
    if info["n_diff"] == 0:
        info["max_ulp"] = 0
        info["ok"] = True
        return info
    dist = _ulp_distance(va[~same_bits], vb[~same_bits])
    # inf vs inf of the same sign has identical bits, so any difference
    # involving an infinity shows up as a distance > 1 or a sign change.
    info["max_ulp"] = float(dist.max())
    if ulps == 0 or not info["max_ulp"] <= ulps:
        i = int(np.flatnonzero(~same_bits)[0])
        info["problem"] = (
            f"{info['n_diff']} values differ, max {info['max_ulp']:g} ulp (first: {va[i]!r} vs {vb[i]!r})"
        )
        return info
    info["ok"] = True
    return info


def _same_labels(a: Any, b: Any) -> str:
    if type(a) is not type(b):
        return f"types differ: {type(a).__name__} vs {type(b).__name__}"
    if not a.index.equals(b.index):
        return "indexes differ"
    if hasattr(a, "columns") and not a.columns.equals(b.columns):
        return "columns differ"
    if a.shape != b.shape:
        return f"shapes differ: {a.shape} vs {b.shape}"
    return ""


def _compare_frames(a: Any, b: Any, ulps: int) -> Dict[str, Any]:
    problem = _same_labels(a, b)
    if problem:
        return {
            "n": int(np.size(a)),
            "ok": False,
            "max_ulp": None,
            "n_diff": None,
            "n_nan": None,
            "problem": problem,
        }
    return _compare_values(a.to_numpy(), b.to_numpy(), ulps)


def _compare_episodes(a: Tuple[Any, ...], b: Tuple[Any, ...]) -> Dict[str, Any]:
    ints_a = tuple(int(v) for v in a[:3])
    ints_b = tuple(int(v) for v in b[:3])
    depth = _compare_values([a[3]], [b[3]], 0)
    ok = ints_a == ints_b and depth["ok"]
    problem = None if ok else f"episodes differ: {tuple(a)} vs {tuple(b)}"
    return {
        "n": 4,
        "ok": ok,
        "max_ulp": 0 if ok else None,
        "n_diff": 0 if ok else None,
        "n_nan": 0,
        "problem": problem,
    }


# --------------------------------------------------------------------------
# The demo.


def _episode_row(df: Any, symbol: str, ep: Any, peak_close: float) -> Dict[str, Any]:
    peak, trough, recovery, depth = (int(ep[0]), int(ep[1]), int(ep[2]), float(ep[3]))
    idx = df.index

    def day(i: int) -> Any:
        return idx[i] if i >= 0 else None

    return {
        "symbol": symbol,
        "max_drawdown": depth,
        "peak": day(peak),
        "trough": day(trough),
        "recovery": day(recovery),
        "peak_close": peak_close,
        "trough_close": float(df[symbol].iloc[trough]) if trough >= 0 else float("nan"),
        "bars_down": trough - peak if trough >= 0 else None,
        "bars_to_recover": recovery - trough if recovery >= 0 else None,
    }


# NYSE full-day holidays 2023-07-01 .. 2024-06-30 (early closes left out: the
# pandas one-liner below does not model them either).
_NY_HOLIDAYS = [
    "2023-07-04",
    "2023-09-04",
    "2023-11-23",
    "2023-12-25",
    "2024-01-01",
    "2024-01-15",
    "2024-02-19",
    "2024-03-29",
    "2024-05-27",
    "2024-06-19",
]


def _best_time(repeat: int, fn: Callable[[], Any]) -> Tuple[Any, float]:
    best, out = float("inf"), None
    for _ in range(max(1, int(repeat))):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def _sessions_part(pd: Any, repeat: int) -> Dict[str, Any]:
    """Session mask of a year of minutes: pandas pipeline vs tradekernels."""
    idx = pd.date_range("2023-07-01", "2024-07-01", freq="min", inclusive="left", tz="UTC")
    cal = Calendar("America/New_York", "09:30", "16:00", holidays=_NY_HOLIDAYS)
    hol = pd.DatetimeIndex(_NY_HOLIDAYS)

    def with_pandas() -> np.ndarray:
        local = idx.tz_convert("America/New_York").tz_localize(None)
        mod = local.hour * 60 + local.minute
        return np.asarray((local.day_of_week < 5) & (mod >= 570) & (mod < 960) & ~local.normalize().isin(hol))

    session_mask(idx[:10], cal)  # builds the calendar's table (timed apart)
    t0 = time.perf_counter()
    cal.table("2023-06-01", "2024-07-31")
    t_table = time.perf_counter() - t0
    want, t_pd = _best_time(repeat, with_pandas)
    got, t_tk = _best_time(repeat, lambda: session_mask(idx, cal).to_numpy())
    n_diff = int(np.count_nonzero(want != got))
    return {
        "n": len(idx),
        "in_session": int(got.sum()),
        "pandas": t_pd,
        "tradekernels": t_tk,
        "table": t_table,
        "check": {
            "n": len(idx),
            "ok": n_diff == 0,
            "max_ulp": 0,
            "n_diff": n_diff,
            "n_nan": 0,
            "problem": None if n_diff == 0 else f"{n_diff} timestamps differ",
        },
    }


def _fills_part(df: Any, repeat: int) -> Dict[str, Any]:
    """GTC buy limits 3 / 10 / 25 % below the close on 20 days per symbol: the
    pure-Python scan (first symbols, scaled) vs tradekernels (one call per symbol)."""
    rng = np.random.default_rng(11)
    closes = df.to_numpy()
    n_days, n_sym = closes.shape
    opens = np.vstack([closes[:1], closes[:-1]])
    wig = 1.0 + 0.01 * rng.random(closes.shape)
    highs, lows = np.fmax(opens, closes) * wig, np.fmin(opens, closes) / wig
    days = np.unique(np.linspace(0, max(n_days - 2, 0), 20).astype(np.int64))
    starts = np.repeat(days + 1, 3)
    depth = np.tile([0.97, 0.90, 0.75], len(days))
    limits = [closes[starts - 1, j] * depth for j in range(n_sym)]  # NaN close: never fills
    t0 = time.perf_counter()
    index = [BarIndex(opens[:, j], highs[:, j], lows[:, j], closes[:, j]) for j in range(n_sym)]
    t_index = time.perf_counter() - t0

    got, t_tk = _best_time(
        repeat, lambda: [fill_orders(index[j], starts, 1, "limit", limits[j]) for j in range(n_sym)]
    )
    k = min(n_sym, 10)

    def with_python() -> List[Tuple[List[int], List[float]]]:
        out = []
        for j in range(k):
            o, h, lo, c = (a[:, j].tolist() for a in (opens, highs, lows, closes))
            res = [
                reference.fill_order(o, h, lo, c, int(st), 1, reference.LIMIT, float(x), float("nan"), -1)
                for st, x in zip(starts, limits[j])
            ]
            out.append(([r[0] for r in res], [r[1] for r in res]))
        return out

    want, t_py = _best_time(1, with_python)
    n_diff = 0
    for (wi, wp), g in zip(want, got):
        n_diff += int(np.count_nonzero(np.asarray(wi) != g.fill_index))
        wp, gp = np.asarray(wp), np.asarray(g.fill_price)
        n_diff += int(np.count_nonzero((wp != gp) & ~(np.isnan(wp) & np.isnan(gp))))
    n = n_sym * len(starts)
    filled = sum(int(np.count_nonzero(g.fill_index >= 0)) for g in got)
    return {
        "n": n,
        "filled": filled,
        "python": t_py * n_sym / k,
        "python_symbols": k,
        "tradekernels": t_tk,
        "index": t_index,
        "check": {
            "n": k * len(starts),
            "ok": n_diff == 0,
            "max_ulp": 0,
            "n_diff": n_diff,
            "n_nan": 0,
            "problem": None if n_diff == 0 else f"{n_diff} fills differ",
        },
    }


def _signals_part(df: Any, repeat: int) -> Dict[str, Any]:
    """A signal backtest (5 % entry / 2 % exit signals a day, SL 5 %, trailing 8 %, TP 15 %)
    over every symbol three ways: one call, the bars in 10 chunks (``state=``), and bar by
    bar live (``tk.stream.SignalTrades``, first symbols); the three must give the same trades."""
    rng = np.random.default_rng(13)
    closes = df.to_numpy().T.copy()  # (symbols, days)
    n_sym, n_days = closes.shape
    opens = np.hstack([closes[:, :1], closes[:, :-1]])
    wig = 1.0 + 0.01 * rng.random(closes.shape)
    bars = (opens, np.fmax(opens, closes) * wig, np.fmin(opens, closes) / wig, closes)
    ent, ext = rng.random(closes.shape) < 0.05, rng.random(closes.shape) < 0.02
    kw: Dict[str, Any] = dict(sl_stop=0.05, tsl_stop=0.08, tp_stop=0.15)
    one, t_one = _best_time(repeat, lambda: trades_from_signals(bars, ent, ext, **kw))
    cuts = np.linspace(0, n_days, 11).astype(np.int64)

    def in_chunks() -> np.ndarray:
        st, parts = None, []
        for a, b in zip(cuts[:-1], cuts[1:]):
            sl = slice(int(a), int(b))
            chunk = tuple(x[:, sl] for x in bars)
            if b == n_days:
                parts.append(trades_from_signals(chunk, ent[:, sl], ext[:, sl], **kw, state=st))
            else:
                rec, st = trades_from_signals(
                    chunk, ent[:, sl], ext[:, sl], **kw, state=st, return_state=True
                )
                parts.append(rec)
        rec = np.concatenate(parts)
        return rec[np.lexsort((rec["entry_idx"], rec["col"]))]

    chunked, t_chunks = _best_time(repeat, in_chunks)
    k = min(n_sym, 20)
    rows = [tuple(x[:k].tolist() for x in bars) + (ent[:k].tolist(), ext[:k].tolist())]

    def live() -> np.ndarray:
        out = []
        o, h, lo, c, en, ex = rows[0]
        for j in range(k):
            s = stream.SignalTrades(**kw)
            up = s.update
            for t in range(n_days):
                r = up(o[j][t], h[j][t], lo[j][t], c[j][t], en[j][t], ex[j][t])
                if r is not None:
                    out.append((j,) + r[1:])
            m = s.mark()
            if m is not None:
                out.append((j,) + m[1:])
        return np.array(out, dtype=TRADE_DTYPE) if out else np.empty(0, TRADE_DTYPE)

    lived, t_live = _best_time(repeat, live)
    first_k = one[one["col"] < k]
    same_chunks = chunked.tobytes() == one.tobytes()
    same_live = lived.tobytes() == first_k.tobytes()
    problem = None
    if not same_chunks:
        problem = "the trades in 10 chunks differ from one call"
    elif not same_live:
        problem = "the live trades differ from one call"
    return {
        "n": len(one),
        "bars": n_sym * n_days,
        "one_call": t_one,
        "chunks": t_chunks,
        "live": t_live,
        "live_symbols": k,
        "live_bars": k * n_days,
        "check": {
            "n": len(one),
            "ok": same_chunks and same_live,
            "max_ulp": 0,
            "n_diff": 0,
            "n_nan": 0,
            "problem": problem,
        },
    }


def plot_worst(path: Any, n_symbols: int = 500, n_days: int = 2520, top: int = 5) -> str:
    """Write a PNG of the symbol with the worst maximum drawdown of the demo's
    dataset to ``path``: its ``top`` drawdown periods above its underwater
    chart (:mod:`tradekernels.plot`).  Returns the symbol."""
    from matplotlib.figure import Figure

    from . import plot

    df = synthetic_closes(n_symbols, n_days)
    worst = str(max_drawdown(df).idxmin())
    fig = Figure(figsize=(10.0, 6.5), layout="constrained")
    top_ax, bottom_ax = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    plot.drawdown_periods(df[worst], top=top, ax=top_ax, title=f"{worst}: top {top} drawdowns")
    plot.underwater(df[worst], ax=bottom_ax, title="")
    fig.savefig(path, format="png", dpi=100)
    return worst


def run_demo(n_symbols: int = 500, n_days: int = 2520, repeat: int = 3) -> Dict[str, Any]:
    """Run the demo and return its results as a dict (see :func:`format_report`).

    Keys: ``match`` (bool, everything agreed), ``checks`` (one entry per
    comparison), ``timings`` (seconds, best of ``repeat``), ``worst``
    (the five worst symbols by maximum drawdown with their episodes) and
    the environment (``simd_path``, ``backend``, versions).  Nothing is
    printed; :func:`print_report` formats the dict.
    """
    pd = _require_pandas()
    t0 = time.perf_counter()
    df = synthetic_closes(n_symbols, n_days)
    t_data = time.perf_counter() - t0
    n_symbols, n_days = df.shape[1], df.shape[0]
    bars = n_symbols * n_days

    pd_out, pd_steps, pd_total = _best_of(repeat, _pandas_pipeline, df)
    tk_out, tk_steps, tk_total = _best_of(repeat, _tk_pipeline, df)

    checks: List[Dict[str, Any]] = []

    def record(what: str, label: str, tol: int, info: Dict[str, Any]) -> None:
        checks.append(dict(info, what=what, label=label, tol=tol))

    # (1) pandas vs tradekernels on the whole panel.
    for key, label, tol in _SERIES_CHECKS:
        record("pandas", label, tol, _compare_frames(pd_out[key], tk_out[key], tol))
    same_worst = pd_out["worst"] == tk_out["worst"]
    ep = (
        _compare_episodes(pd_out["episode"], tk_out["episode"])
        if same_worst
        else {
            "n": 1,
            "ok": False,
            "max_ulp": None,
            "n_diff": None,
            "n_nan": 0,
            "problem": f"worst symbol differs: {pd_out['worst']} vs {tk_out['worst']}",
        }
    )
    record("pandas", f"episode of {tk_out['worst']}", 0, ep)

    # (2) pure-Python loops vs tradekernels on the worst symbol's column.
    worst = tk_out["worst"]
    col = df[worst]
    py_out, py_steps, py_total = _best_of(repeat, _python_pipeline, col)
    for key, label, tol in _SERIES_CHECKS:
        mine = tk_out[key]
        tk_col = mine[worst] if key == "max_drawdown" else mine[worst].to_numpy()
        record("python", label, tol, _compare_values(py_out[key], tk_col, tol))
    record("python", f"episode of {worst}", 0, _compare_episodes(py_out["episode"], tk_out["episode"]))

    # (3) The five worst symbols: episodes from tradekernels, cross-checked
    #     against the pandas formulation.
    mdd = tk_out["max_drawdown"]
    worst5 = mdd.sort_values(kind="stable").index[:5]
    episodes = drawdown_episode(df[worst5])
    rows = []
    all_same = True
    for sym in worst5:
        ep_tk = tuple(episodes.loc[sym])
        ep_pd = _pandas_episode(df[sym], pd_out["drawdown"][sym])
        all_same &= _compare_episodes(ep_pd, ep_tk)["ok"]
        peak_close = float(df[sym].iloc[int(ep_tk[0])]) if int(ep_tk[0]) >= 0 else float("nan")
        rows.append(_episode_row(df, sym, ep_tk, peak_close))
    record(
        "pandas",
        "worst-5 episodes",
        0,
        {
            "n": len(rows),
            "ok": bool(all_same),
            "max_ulp": 0,
            "n_diff": 0,
            "n_nan": 0,
            "problem": None if all_same else "an episode differs",
        },
    )

    # (4) Sessions and (5) order fills.
    ses = _sessions_part(pd, repeat)
    record("pandas", "session mask (1 year)", 0, ses["check"])
    fil = _fills_part(df, repeat)
    record("python", "limit-order fills", 0, fil["check"])
    sig = _signals_part(df, repeat)
    record("one call", "trades: 10 chunks, live", 0, sig["check"])

    match = all(c["ok"] for c in checks)
    feats = df.attrs
    return {
        "match": match,
        "n_symbols": n_symbols,
        "n_days": n_days,
        "bars": bars,
        "repeat": max(1, int(repeat)),
        "first_day": df.index[0],
        "last_day": df.index[-1],
        "n_nan_prices": int(df.isna().to_numpy().sum()),
        "dataset_seconds": t_data,
        "features": {
            "halved": dict(feats.get("halved", {})),
            "late_listings": dict(feats.get("late_listings", {})),
            "suspensions": dict(feats.get("suspensions", {})),
        },
        "simd_path": ufuncs.simd_path,
        "available_paths": ufuncs.available_paths(),
        "backend": _backend.get_backend(),
        "numpy_version": np.__version__,
        "pandas_version": pd.__version__,
        "python_version": platform.python_version(),
        "timings": {
            "pandas": {"total": pd_total, **pd_steps},
            "tradekernels": {"total": tk_total, **tk_steps},
            "python_one_symbol": {"total": py_total, **py_steps},
        },
        "python_symbol": worst,
        "speedup": pd_total / tk_total if tk_total > 0 else float("inf"),
        "checks": checks,
        "worst": rows,
        "sessions": {k: v for k, v in ses.items() if k != "check"},
        "fills": {k: v for k, v in fil.items() if k != "check"},
        "signals": {k: v for k, v in sig.items() if k != "check"},
    }


# --------------------------------------------------------------------------
# Report.


def _ms(seconds: float) -> str:
    if seconds >= 1.0:
        return f"{seconds:8.2f} s "
    return f"{seconds * 1e3:8.2f} ms"


def _rate(bars: float, seconds: float) -> str:
    if seconds <= 0:
        return "inf"
    r = bars / seconds
    if r >= 1e9:
        return f"{r / 1e9:.2f} G bars/s"
    if r >= 1e6:
        return f"{r / 1e6:.1f} M bars/s"
    return f"{r / 1e3:.0f} k bars/s"


def _date(d: Any) -> str:
    return "never" if d is None else d.strftime("%Y-%m-%d")


def format_report(res: Dict[str, Any]) -> str:
    """The text report of a :func:`run_demo` result."""
    lines: List[str] = []
    add = lines.append
    bars = res["bars"]
    add(
        f"tradekernels demo: {res['n_symbols']:,} symbols x {res['n_days']:,} business days "
        f"= {bars:,} bars ({_date(res['first_day'])} .. {_date(res['last_day'])})"
    )
    add(
        f"  SIMD path: {res['simd_path']} (available: {', '.join(res['available_paths'])})"
        f"   backend: {res['backend']}"
    )
    add(f"  Python {res['python_version']}, numpy {res['numpy_version']}, pandas {res['pandas_version']}")
    f = res["features"]
    n_gaps = sum(len(v) for v in f["suspensions"].values())
    halved = ", ".join(f"{s} on {_date(d)}" for s, d in f["halved"].items()) or "none"
    add(
        f"  data: synthetic_closes(), generated in {res['dataset_seconds'] * 1e3:.0f} ms; "
        f"{res['n_nan_prices']:,} NaN prices: {len(f['late_listings'])} late listings, "
        f"{n_gaps} suspensions in {len(f['suspensions'])} symbols; halved: {halved}"
    )
    add("")

    tp, tt = res["timings"]["pandas"], res["timings"]["tradekernels"]
    add(f"Timings (best of {res['repeat']})")
    add(f"  {'step':<22} {'pandas':>11} {'tradekernels':>13} {'speedup':>9}")
    for key in _STEPS:
        sp = tp[key] / tt[key] if tt[key] > 0 else float("inf")
        add(f"  {_STEP_LABELS[key]:<22} {_ms(tp[key]):>11} {_ms(tt[key]):>13} {sp:8.1f}x")
    add(f"  {'total':<22} {_ms(tp['total']):>11} {_ms(tt['total']):>13} {res['speedup']:8.1f}x")
    add(f"  {'throughput':<22} {_rate(bars, tp['total']):>11}   {_rate(bars, tt['total']):>11}")
    py = res["timings"]["python_one_symbol"]
    add(
        f"  pure-Python loops (tradekernels.reference) on one symbol, {res['python_symbol']}: "
        f"{_ms(py['total']).strip()} for {res['n_days']:,} bars = {_rate(res['n_days'], py['total'])}"
    )
    add(
        f"    -> ~{_ms(py['total'] * res['n_symbols']).strip()} for all {res['n_symbols']:,} "
        f"symbols, {py['total'] * res['n_symbols'] / tt['total']:,.0f}x slower than tradekernels"
    )
    add("")

    ses, fil = res["sessions"], res["fills"]
    add(
        f"Sessions: {ses['n']:,} one-minute UTC timestamps (2023-07-01 .. 2024-06-30), New York "
        f"09:30-16:00 with {len(_NY_HOLIDAYS)} holidays; {ses['in_session']:,} in session"
    )
    add(
        f"  pandas tz_convert pipeline {_ms(ses['pandas'])}   tradekernels.session_mask "
        f"{_ms(ses['tradekernels'])}   {ses['pandas'] / max(ses['tradekernels'], 1e-12):,.0f}x"
        f"   (calendar table, once: {_ms(ses['table']).strip()})"
    )
    add(
        f"Order fills: {fil['n']:,} GTC buy limits 3/10/25% below the close on 20 days per "
        f"symbol, {fil['filled']:,} filled"
    )
    add(
        f"  pure-Python bar scan       {_ms(fil['python'])}   tradekernels.fill_orders   "
        f"{_ms(fil['tradekernels'])}   {fil['python'] / max(fil['tradekernels'], 1e-12):,.0f}x"
        f"   (Python: {fil['python_symbols']} symbols, scaled; BarIndex per symbol, once: "
        f"{_ms(fil['index']).strip()})"
    )
    sg = res["signals"]
    add(
        f"Signal backtest: {sg['bars']:,} bars, SL 5% / trailing 8% / TP 15%, {sg['n']:,} trades; "
        f"one call {_ms(sg['one_call']).strip()}, in 10 chunks (state=) {_ms(sg['chunks']).strip()}, "
        f"live (tk.stream.SignalTrades) {sg['live'] / max(sg['live_bars'], 1) * 1e9:.0f} ns/bar "
        f"({sg['live_symbols']} symbols)"
    )
    add("")

    add("Checks (NaN == NaN; bit-exact unless a tolerance is given)")
    for c in res["checks"]:
        who = {"pandas": "pandas  ", "one call": "1 call  "}.get(c["what"], "Python  ")
        if c["ok"]:
            if c["tol"] and c["n_diff"]:
                verdict = (
                    f"OK within {c['tol']} ulp ({c['n_diff']:,} of {c['n']:,} values "
                    f"1 ulp apart, the rest bit-identical)"
                )
            elif c["tol"]:
                verdict = "OK, bit-identical (tolerance 1 ulp)"
            else:
                verdict = "OK, bit-identical"
        else:
            verdict = f"MISMATCH: {c['problem']}"
        extra = f"  [{c['n']:,} values, {c['n_nan']:,} NaN]" if c["ok"] and c["n"] > 10 else ""
        add(f"  {who}vs tradekernels  {c['label']:<24} {verdict}{extra}")
    add("")

    add("Worst 5 symbols by maximum drawdown")
    add(
        f"  {'symbol':<8} {'max dd':>8} {'peak':>11} {'close':>9} {'trough':>11} {'close':>9} "
        f"{'recovery':>11} {'bars down':>10} {'to recover':>11}"
    )
    for r in res["worst"]:
        to_rec = "-" if r["bars_to_recover"] is None else f"{r['bars_to_recover']:,}"
        down = "-" if r["bars_down"] is None else f"{r['bars_down']:,}"
        add(
            f"  {r['symbol']:<8} {r['max_drawdown'] * 100:7.2f}% {_date(r['peak']):>11} "
            f"{r['peak_close']:9.2f} {_date(r['trough']):>11} {r['trough_close']:9.2f} "
            f"{_date(r['recovery']):>11} {down:>10} {to_rec:>11}"
        )
    add("")
    if res["match"]:
        sp = res["speedup"]
        pace = f"{sp:.1f}x faster than" if sp >= 1 else f"{1 / sp:.1f}x slower than"
        add(
            f"RESULT: MATCH - tradekernels reproduced pandas and the pure-Python loops exactly, "
            f"{pace} pandas."
        )
    else:
        bad = [c["label"] for c in res["checks"] if not c["ok"]]
        add(f"RESULT: MISMATCH in {', '.join(bad)}")
    return "\n".join(lines)


def print_report(res: Dict[str, Any]) -> None:
    """Print :func:`format_report` of ``res``."""
    print(format_report(res), flush=True)
