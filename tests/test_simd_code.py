"""The hand-written SSE2 code outside the scans' per-path cores follows the SIMD path.

Three pieces of SSE2: the drawdowns records' inside-episode scan (``records.c``; AVX2 too),
the BarIndex build's two-bars-a-step groups and the exits' branch-free fold of eight values
(``fills.c``: ``tk_bi_group_rows_sse2``, ``tk_best8_sse2``).  The scalar path runs their
portable loops, the other paths the SIMD code (``_core.simd_code(path)``); every path gives
the twin's bits.  Here: the code each path runs, the process-wide path reaching the public
functions, and BarIndex / exit_orders / trades_from_signals on every path this CPU runs with
adversarial data (tied signed zeros, NaN, infinities, every start offset in a group / block).
The drawdowns records on every path: ``test_drawdowns_simd.py``.
"""

from __future__ import annotations

import platform

import numpy as np
import pytest

import tradekernels as tk
from conftest import assert_bits_identical
from tradekernels import _core, ufuncs
from tradekernels.fills import BarIndex, reference
from tradekernels.scans.records import RECORD_DTYPE

PATHS = ufuncs.available_paths()
#: SSE2 is compiled where the compiler targets it: every x86-64 build
SSE2 = platform.machine().lower() in {"x86_64", "amd64"}
FILLS = ("bar_index", "exit_orders", "trades_from_signals")


def _has(path: str) -> bool:
    return path in PATHS


def test_each_path_runs_its_code():
    """scalar: the portable loops everywhere; avx512_emu (the same code on any CPU): SSE2;
    avx2 / avx512: the AVX2 drawdowns scan (the CPU has AVX2) and the fills' SSE2.  The
    fills kernels have their own cores for avx2 and avx512_emu (avx512 runs avx2's)."""
    sse2 = "sse2" if SSE2 else "scalar"
    want = {
        "scalar": ("scalar", "scalar", "scalar"),
        "avx512_emu": (sse2, sse2, "avx512_emu"),
        "avx2": ("avx2", sse2, "avx2"),
        "avx512": ("avx2" if _has("avx2") else sse2, sse2, "avx2"),
    }
    assert "scalar" in PATHS
    for p in PATHS:
        code, cores = _core.simd_code(p), _core.core_paths(p)
        dd, fills, core = want[p]
        assert code == {"drawdowns": dd, **{k: fills for k in FILLS}}, p
        assert {k: cores[k] for k in FILLS} == {k: core for k in FILLS}, p
    with pytest.raises(ValueError, match="unknown SIMD path"):
        _core.simd_code("sse2")


def test_the_public_functions_use_the_process_wide_path(monkeypatch):
    """tk.drawdowns (and the live Drawdowns' extend) pass tk.ufuncs.simd_path (read at each
    call) to the records; the fills functions call the ufuncs of tk.ufuncs, made for that path at import."""
    seen = []
    real = _core.drawdowns

    def spy(*args):
        seen.append(args[4])
        return real(*args)

    monkeypatch.setattr(_core, "drawdowns", spy)
    for p in PATHS:
        monkeypatch.setattr(ufuncs, "simd_path", p)
        tk.drawdowns([3.0, 1.0, 2.0, 4.0])
        tk.stream.Drawdowns().extend([3.0, 1.0, 2.0])  # the batch code, from a state
        assert seen[-2:] == [p, p]
    monkeypatch.undo()
    for k in FILLS:  # the module's ufuncs are those of the import-time path
        assert getattr(ufuncs, k).__name__ == k
    assert _core.drawdowns(np.array([[1.0, 0.5]]), RECORD_DTYPE, None, True, ufuncs.simd_path).size == 1


# --------------------------------------------------------------------------
# BarIndex on every path
# --------------------------------------------------------------------------


def _index_on(path: str, bars) -> BarIndex:
    """BarIndex (its row layout: the SSE2 group build) made by ``path``'s bar_index."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ufuncs, "bar_index", ufuncs.for_path(path)["bar_index"])
        return BarIndex(*bars)


def _adversarial_bars(rng, shape, zeros=True):
    """Lows / highs drawn from signed zeros, +-1 and +-inf (ties of -0.0 / 0.0 in a group),
    NaN in each of the four prices on some bars."""
    pool = [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf] if zeros else [1.0, 2.0, np.inf, -np.inf]
    lo = rng.choice(pool, shape)
    hi = rng.choice(pool, shape)
    o, c = np.ones(shape), np.ones(shape)
    for a in (o, hi, lo, c):
        a[rng.random(shape) < 0.04] = np.nan
    return o, hi, lo, c


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("seed", range(6))
def test_bar_index_on_every_path(path, seed):
    """BarIndex's layout (whole groups two bars a step on SIMD paths, bar by bar on scalar)
    and plain outputs (bar by bar): the twin's bits on every path, including a partial last
    group, an all-NaN group, ties of signed zeros and infinities; 1-D and 2-D."""
    rng = np.random.default_rng(seed)
    n = 64 * 3 + 8 * 2 + 5
    bars = _adversarial_bars(rng, (3, n))
    bars[0][0, 16:24] = np.nan  # a group without a usable bar
    u = ufuncs.for_path(path)["bar_index"]
    for row in range(3):
        one = tuple(b[row] for b in bars)
        twin = reference.bar_index(*(b.tolist() for b in one))
        want = [np.asarray(t, dtype=np.float64) for t in twin]
        ix = _index_on(path, one)
        for j, name in enumerate(BarIndex._SUMMARIES):
            assert_bits_identical(getattr(ix, name), want[j], f"{path} BarIndex {name}")
        for j, got in enumerate(u(*one)):
            assert_bits_identical(got, want[j], f"{path} raw {j}")
    ix2 = _index_on(path, bars)
    for row in range(3):
        twin = reference.bar_index(*(b[row].tolist() for b in bars))
        for j, name in enumerate(BarIndex._SUMMARIES):
            assert_bits_identical(getattr(ix2, name)[row], np.asarray(twin[j]), f"{path} 2-D {name}")


@pytest.mark.parametrize("path", PATHS)
def test_bar_index_keeps_the_first_of_tied_zeros_at_every_offset(path):
    """In each group, a -0.0 low / 0.0 high at offset t and the other zero at a later offset
    (every pair of offsets): the group and block summaries hold the first, on every path."""
    pairs = [(t, s) for t in range(8) for s in range(t + 1, 8)]
    n = 8 * len(pairs)
    lo, hi = np.full(n, 5.0), np.full(n, -5.0)
    for g, (t, s) in enumerate(pairs):
        z = (-0.0, 0.0) if g % 2 else (0.0, -0.0)
        lo[8 * g + t], lo[8 * g + s] = z
        hi[8 * g + t], hi[8 * g + s] = z[::-1]
    o, c = np.ones(n), np.ones(n)
    twin = reference.bar_index(*(b.tolist() for b in (o, hi, lo, c)))
    ix = _index_on(path, (o, hi, lo, c))
    for j, name in enumerate(BarIndex._SUMMARIES):
        assert_bits_identical(getattr(ix, name), np.asarray(twin[j], dtype=np.float64), f"{path} {name}")


# --------------------------------------------------------------------------
# exits (the trailing search's fold of eight values) on every path
# --------------------------------------------------------------------------


def _exits_on(path, bars, pos):
    ix = _index_on(path, bars)
    a = ix.arrays
    return ufuncs.for_path(path)["exit_orders"](a[0], ix.close, *a[1:], *pos)


def _exits_twin(bars, pos):
    b = [np.asarray(v, dtype=np.float64).tolist() for v in bars]
    xi, xp, xr = reference.exit_orders(*b, *(np.asarray(v).tolist() for v in pos))
    return np.asarray(xi, dtype=np.int64), np.asarray(xp, dtype=np.float64), np.asarray(xr, dtype=np.int64)


def _same(got, exp, what):
    for j, name in enumerate(("exit_idx", "exit_price", "reason")):
        assert_bits_identical(np.asarray(got[j]), np.asarray(exp[j]), f"{what} {name}")


def _trailing(m, side, entries, price):
    full = lambda v, dt=np.float64: np.full(m, v, dtype=dt)  # noqa: E731
    return (
        entries,
        full(price),
        full(side, np.int64),
        full(np.nan),
        full(0.5),
        full(np.nan),
        full(0, np.int64),
        full(np.nan),
        full(np.nan),
        full(0, np.int64),
        full(0, np.int64),
        full(-1, np.int64),
        full(0.0),
    )


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("side", [1, -1])
@pytest.mark.parametrize("seed", range(6))
def test_trailing_reference_on_every_path(path, side, seed):
    """As test_exits' tied-signed-zeros case, on every path and with unusable (NaN) bars, an
    all-NaN group and infinite extremes that never win: entries at the close of every bar of
    block 0 (the search starts at every offset of a group and of the block), block 0 ruled out
    by its summary, so the reference over the rest of the block is the fold of eight values
    (bars to the group's end, then the later groups); the exit at bar 64's open 0 carries the
    reference's sign."""
    rng = np.random.default_rng(seed)
    n, m, sgn = 130, 64, float(side)
    pos = _trailing(m, side, np.arange(m, dtype=np.int64), -sgn)
    while True:  # until the exits carry both signs (deterministic per seed)
        ext = rng.choice(np.array([0.0, -0.0, -5.0, -np.inf]), size=n) * sgn
        far = np.full(n, 1.0 * sgn)
        o = np.full(n, 7.0 * sgn)
        o[rng.random(n) < 0.15] = np.nan  # unusable bars: NaN fill_low / fill_high
        o[40:48] = np.nan  # a group without a usable bar: NaN summaries
        hi, lo = (ext, far) if side == 1 else (far, ext)
        c = np.full(n, 7.0 * sgn)
        o[64], c[64] = 0.0, 0.0
        if side == 1:
            lo[64:] = -2.0
        else:
            hi[64:] = 2.0
        bars = (o, hi, lo, c)
        want = _exits_twin(bars, pos)
        if np.signbit(want[1]).any() and (~np.signbit(want[1])).any():
            break
    assert (want[0] == 64).all()
    _same(_exits_on(path, bars, pos), want, f"{path} exits")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("side", [1, -1])
def test_trailing_reference_best_at_every_offset(path, side):
    """One new best (a peak of 3 among highs of 1 for a long; a trough of 1 among lows of 2
    for a short) at every bar of block 0, the search starting at every third bar before it,
    unusable (NaN) bars at the start of every group and right after the best: block 0 is
    ruled out by its summary, so the reference after it is the fold of eight values, and the
    exit at bar 70 (price: the level, the best * 0.5 / * 1.5) shows it, on every path."""
    n = 200
    for best in range(1, 64):
        for start in range(0, best, 3):  # entered at the close, before the best
            o = np.full(n, 1.0)
            o[0:64:8] = np.nan
            o[best + 1] = np.nan
            o[best] = 1.0
            o[70] = 2.0 if side == 1 else 1.0
            if side == 1:  # levels <= 3 * 0.5 = 1.5: no low of block 0 reaches them
                hi, lo = np.full(n, 1.0), np.full(n, 1.6)
                hi[best] = 3.0
                lo[70:] = 1.2
                price = 1.0
            else:  # levels >= 1 * 1.5: no high of block 0 reaches them
                hi, lo = np.full(n, 1.4), np.full(n, 2.0)
                lo[best] = 1.0
                hi[70:] = 1.8
                price = 2.0
            pos = _trailing(1, side, np.array([start], dtype=np.int64), price)
            bars = (o, hi, lo, np.full(n, 1.0))
            want = _exits_twin(bars, pos)
            assert want[0][0] == 70 and want[1][0] == 1.5, (best, start, want)
            _same(_exits_on(path, bars, pos), want, f"{path} best {best} start {start}")


@pytest.mark.parametrize("path", PATHS)
def test_trades_from_signals_on_every_path(path):
    """trades_from_signals (the same search per trade) with tied signed zeros and NaN bars:
    the twin's exits on every path."""
    rng = np.random.default_rng(5)
    n = 600
    c = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    o = c * (1 + rng.normal(0, 0.002, n))
    h, lo = np.maximum(o, c) * 1.004, np.minimum(o, c) * 0.996
    o[rng.random(n) < 0.03] = np.nan
    ent = rng.random(n) < 0.1
    ext = rng.random(n) < 0.02
    ix = _index_on(path, (o, h, lo, c))
    a = ix.arrays
    params = (1, np.nan, 0.02, 0.05, 0, 0, 0.0, 0, 0)
    got = ufuncs.for_path(path)["trades_from_signals"](a[0], ix.close, *a[1:], ent, ext, *params)
    twin = reference.trades_from_signals(*(b.tolist() for b in (o, h, lo, c)), list(ent), list(ext), *params)
    want = (np.asarray(twin[0], np.int64), np.asarray(twin[1], np.float64), np.asarray(twin[2], np.int64))
    _same(got, want, f"{path} trades")
