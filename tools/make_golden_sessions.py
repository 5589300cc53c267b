#!/usr/bin/env python
"""Write tests/golden/sessions/*.npz from the twin (cases: tradekernels.sessions.golden).

    python tools/make_golden_sessions.py            # write
    python tools/make_golden_sessions.py --check    # exit 1 if a file is stale
"""

from __future__ import annotations

import sys
from pathlib import Path

from tradekernels.sessions import golden

OUT = Path(__file__).resolve().parent.parent / "tests" / "golden" / "sessions"

if __name__ == "__main__":
    if "--check" in sys.argv[1:]:
        bad = golden.stale(OUT)
        print("\n".join(bad) or "golden files up to date")
        sys.exit(1 if bad else 0)
    golden.write(OUT)
