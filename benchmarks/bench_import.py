"""Cold start: how much ``import tradekernels`` costs over ``import numpy``.

    python benchmarks/bench_import.py [--repeat 15] [--json PATH]

Each sample is a fresh interpreter (``python -c "import numpy"`` and
``python -c "import tradekernels"``, interleaved); the figure is the median
wall time of each and their difference.  ``import tradekernels`` never
imports pandas, polars or dask (``tk.dask`` is imported on first use).
Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time


def _one(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--json", metavar="PATH")
    a = ap.parse_args(argv)
    base, tk = [], []
    _one("import tradekernels")  # warm the file cache
    for _ in range(a.repeat):
        base.append(_one("import numpy"))
        tk.append(_one("import tradekernels"))
    mb, mt = statistics.median(base), statistics.median(tk)
    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, tradekernels; print(sorted(m for m in ('pandas', 'polars', "
            "'dask') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"CPU: {platform.processor() or platform.machine()}  ({a.repeat} interleaved samples, median)")
    print(f"python -c 'import numpy'         {mb * 1e3:8.1f} ms")
    print(f"python -c 'import tradekernels'  {mt * 1e3:8.1f} ms")
    print(f"tradekernels over numpy          {(mt - mb) * 1e3:8.1f} ms   (target <= 15 ms)")
    print(f"heavy modules imported by 'import tradekernels': {heavy}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"numpy_s": mb, "tradekernels_s": mt, "over_numpy_s": mt - mb, "heavy": heavy}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
