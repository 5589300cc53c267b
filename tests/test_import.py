"""Cold start: ``import tradekernels`` loads none of the heavy optional libraries.

pandas, polars, dask, matplotlib and exchange_calendars are imported where
they are used (``tradekernels._api`` finds pandas / polars in ``sys.modules``
only; ``tradekernels.dask`` and ``tradekernels.plot`` are imported on first
use).  The import time itself is measured by ``benchmarks/bench_import.py``
(no timing here); this test checks, deterministically, what a fresh
interpreter has loaded after ``import tradekernels``.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pandas", "polars", "dask", "matplotlib", "exchange_calendars", "pyarrow", "numba", "scipy")

_CODE = f"""
import json, sys
import tradekernels
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
print(json.dumps(loaded))
"""


def test_import_tradekernels_loads_no_heavy_library():
    out = subprocess.run([sys.executable, "-c", _CODE], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded == [], f"import tradekernels imported {loaded}"


def test_the_check_sees_an_imported_library():
    """The probe itself works: a library imported before tradekernels is reported."""
    code = "import pandas\n" + _CODE
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pandas" in json.loads(out.stdout.strip().splitlines()[-1])


def test_the_sessions_family_is_imported_on_first_use():
    """``tradekernels.sessions`` (the calendar, zoneinfo) loads when one of its names is
    first used, and ``tk.Calendar`` / ``from tradekernels import session_mask`` work."""
    code = (
        "import sys, tradekernels as tk\n"
        "before = 'tradekernels.sessions' in sys.modules\n"
        "from tradekernels import session_mask\n"
        "print(before, 'tradekernels.sessions' in sys.modules, tk.Calendar.__name__, session_mask.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "Calendar", "session_mask"]
