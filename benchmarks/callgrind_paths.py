"""Callgrind driver: one kernel call on fixed inputs, for A/B instruction counts.

Run under callgrind with collection limited to the kernel's core (any path's)::

    valgrind --tool=callgrind --toggle-collect='tk_exit_orders_f64*' \\
        python benchmarks/callgrind_paths.py exits        # exit_orders, trailing 2 %
    valgrind --tool=callgrind --toggle-collect='tk_bar_index_f64*' \\
        python benchmarks/callgrind_paths.py barindex     # BarIndex 2-D build
    valgrind --tool=callgrind --toggle-collect='tk_drawdowns_collect' \\
        python benchmarks/callgrind_paths.py drawdowns    # drawdowns records

* ``exits``: ``ufuncs.exit_orders`` with a prebuilt BarIndex, trailing stop 2 % over
  2·10⁵ bars and 2·10⁴ sorted long entries (inputs as ``bench_exits.py``: ``make_bars``
  seed 42, ``make_positions`` seed 2000).
* ``barindex``: ``tradekernels.BarIndex`` over 500 × 2520 daily bars (as ``bench_exits.py``
  ``run_signals``).
* ``drawdowns``: ``tradekernels.drawdowns`` over the closes of the same 500 × 2520 bars.

(Under valgrind the CPU reports no AVX-512, so the process-wide path is ``avx2`` there.)
``--path P`` runs the kernel on SIMD path ``P`` (``tk.ufuncs.for_path``; drawdowns: the
``path`` argument of ``_core.drawdowns``) instead of the process-wide ``tk.ufuncs.simd_path``.
Nothing is timed; the instruction counts are the evidence (deterministic, same inputs).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

import tradekernels
from tradekernels import ufuncs as tku

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_exits import make_positions  # noqa: E402
from bench_fills import make_bars  # noqa: E402


def exits(path: str | None) -> None:
    o, h, l, c = make_bars(200_000)
    idx = tradekernels.BarIndex(o, h, l, c)  # outside the collected core
    a = idx.arrays
    pos = make_positions(c, 20_000, float("nan"), 0.02, float("nan"), seed=2000)
    out = (np.empty(20_000, np.int64), np.empty(20_000), np.empty(20_000, np.int64))
    (tku.for_path(path)["exit_orders"] if path else tku.exit_orders)(a[0], idx.close, *a[1:], *pos, out=out)
    print("exits:", int(out[0].sum()), float(np.nansum(out[1])), int(out[2].sum()))


def _bars_2d():
    per = [make_bars(2520, seed=100 + s, vol=0.02) for s in range(500)]
    return tuple(np.stack([p[j] for p in per]) for j in range(4))


def barindex(path: str | None) -> None:
    o, h, l, c = _bars_2d()
    if path is None:
        idx = tradekernels.BarIndex(o, h, l, c)
        outs = idx.arrays
    else:
        outs = tku.for_path(path)["bar_index"](o, h, l, c)
    print("barindex:", sum(float(np.nansum(x)) for x in outs))


def drawdowns(path: str | None) -> None:
    from tradekernels import _core
    from tradekernels.scans.records import RECORD_DTYPE

    c = _bars_2d()[3]
    if path is None:
        rec = tradekernels.drawdowns(c)
    else:
        rec = _core.drawdowns(c, RECORD_DTYPE, None, True, path)
    print("drawdowns:", len(rec), float(rec["depth"].sum()))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["exits", "barindex", "drawdowns"])
    p.add_argument("--path", default=None, help="SIMD path (default: tk.ufuncs.simd_path)")
    args = p.parse_args(argv)
    print("simd_path:", tku.simd_path, "run on:", args.path or tku.simd_path)
    {"exits": exits, "barindex": barindex, "drawdowns": drawdowns}[args.mode](args.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
