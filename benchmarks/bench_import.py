"""Cold start: how much ``import tradekernels`` costs over ``import numpy``.

    python benchmarks/bench_import.py [--repeat 15] [--json PATH]

Each sample is a fresh interpreter (``python -c "import numpy"`` and
``python -c "import tradekernels"``, interleaved); the figure is the median
wall time of each and their difference, and the median CPU time (user +
system of the child process, from ``os.wait4``: on a loaded machine the wall
time also counts the time the scheduler gave to other processes).  Also the
median ``-X importtime`` cumulative time of the ``tradekernels`` package
itself (imported after numpy) and its largest self times.
``import tradekernels`` never imports pandas, polars, dask, matplotlib or
exchange_calendars (tests/test_import.py checks it).  Prints a table;
asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from typing import List, Tuple


def _one(code: str) -> Tuple[float, float]:
    """(wall, CPU) seconds of a fresh interpreter running ``code``."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code])
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, code)
    return wall, usage.ru_utime + usage.ru_stime


def _importtime() -> Tuple[float, List[Tuple[int, str]]]:
    """``-X importtime`` of ``import tradekernels`` after ``import numpy``: the package's
    cumulative seconds and the (self microseconds, module) of everything it imported."""
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import numpy; import tradekernels"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr.splitlines()
    start = max(i for i, line in enumerate(err) if line.rstrip().endswith("| numpy"))
    rows = []
    total = 0.0
    for line in err[start + 1 :]:
        if not line.startswith("import time:"):
            continue
        self_us, cum_us, name = line[len("import time:") :].split("|")
        rows.append((int(self_us), name.strip()))
        if name.strip() == "tradekernels":
            total = int(cum_us) / 1e6
    return total, sorted(rows, reverse=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--json", metavar="PATH")
    a = ap.parse_args(argv)
    base, tk, imp = [], [], []
    _one("import tradekernels")  # warm the file cache
    for _ in range(a.repeat):
        base.append(_one("import numpy"))
        tk.append(_one("import tradekernels"))
        imp.append(_importtime())
    mb, mt = statistics.median(b[0] for b in base), statistics.median(t[0] for t in tk)
    cb, ct = statistics.median(b[1] for b in base), statistics.median(t[1] for t in tk)
    it = statistics.median(i[0] for i in imp)
    top = min(imp, key=lambda i: abs(i[0] - it))[1][:6]
    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, tradekernels; print(sorted(m for m in ('pandas', 'polars', "
            "'dask', 'matplotlib', 'exchange_calendars') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"CPU: {platform.processor() or platform.machine()}  ({a.repeat} interleaved samples, median)")
    print(f"load average: {' '.join(open('/proc/loadavg').read().split()[:3])}")
    print(f"{'':33} {'wall':>9} {'CPU':>9}")
    print(f"python -c 'import numpy'          {mb * 1e3:6.1f} ms {cb * 1e3:6.1f} ms")
    print(f"python -c 'import tradekernels'   {mt * 1e3:6.1f} ms {ct * 1e3:6.1f} ms")
    over = f"{(mt - mb) * 1e3:6.1f} ms {(ct - cb) * 1e3:6.1f} ms"
    print(f"tradekernels over numpy           {over}   (target <= 15 ms)")
    print(f"-X importtime of tradekernels after numpy: {it * 1e3:.1f} ms; largest self times:")
    for us, name in top:
        print(f"    {us / 1e3:6.2f} ms  {name}")
    print(f"heavy modules imported by 'import tradekernels': {heavy}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(
                {
                    "numpy_s": mb,
                    "tradekernels_s": mt,
                    "over_numpy_s": mt - mb,
                    "numpy_cpu_s": cb,
                    "tradekernels_cpu_s": ct,
                    "over_numpy_cpu_s": ct - cb,
                    "importtime_tradekernels_s": it,
                    "heavy": heavy,
                },
                f,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
