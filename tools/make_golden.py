#!/usr/bin/env python
"""Write the golden files of every family (the ONLY producer of tests/golden/).

    python tools/make_golden.py            # writes tests/golden/**.npz
    python tools/make_golden.py --check    # exit 1 if a file is stale or unknown

Each family package has a ``golden`` module whose ``files()`` returns
``{path under tests/golden: bytes}``, built from its reference twin only
(the C code is never called).  Review the diff and commit the ``.npz`` files
with the change that made them necessary.
"""

from __future__ import annotations

import argparse
import importlib
import io
import sys
import zipfile
from pathlib import Path
from typing import Dict, Optional, Tuple

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GOLDEN_DIR = ROOT / "tests" / "golden"
sys.path.insert(0, str(ROOT / "tools"))
import kernelspec  # noqa: E402


def build_all() -> Dict[str, bytes]:
    """Every golden file of every family that has a ``golden`` module."""
    files: Dict[str, bytes] = {}
    for fam in kernelspec.FAMILIES:
        try:
            mod = importlib.import_module(f"tradekernels.{fam}.golden")
        except ModuleNotFoundError as e:
            if e.name != f"tradekernels.{fam}.golden":
                raise
            continue
        files.update(mod.files())
    return files


def npz_contents(b: bytes) -> Dict[str, Tuple[str, Tuple[int, ...], bytes]]:
    """An .npz file's arrays as ``{name: (dtype, shape, raw bytes)}``.  The zip container
    itself differs between Python / NumPy versions (zip64 fields, header versions) while
    the arrays do not: files are compared by this."""
    with np.load(io.BytesIO(b), allow_pickle=False) as z:
        return {k: (z[k].dtype.str, z[k].shape, z[k].tobytes()) for k in z.files}


def same_npz(a: bytes, b: bytes) -> bool:
    """The same bytes, or two .npz files of the same arrays (False for a file that is no .npz)."""
    if a == b:
        return True
    try:
        return npz_contents(a) == npz_contents(b)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile):
        return False


def main(argv=None, files: Optional[Dict[str, bytes]] = None) -> int:
    """The command line; ``files`` (tests only): what :func:`build_all` made, not built again."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only verify that the files on disk are up to date")
    ap.add_argument("--out-dir", type=Path, default=GOLDEN_DIR, help="where to write (default tests/golden)")
    args = ap.parse_args(argv)
    if files is None:
        files = build_all()
    out_dir: Path = args.out_dir
    # the folders the families write (tests/golden itself: the scans) hold only their files
    folders = {str(Path(n).parent) for n in files}
    on_disk = (
        {
            str(p.relative_to(out_dir))
            for p in out_dir.rglob("*.npz")
            if str(p.relative_to(out_dir).parent) in folders
        }
        if out_dir.is_dir()
        else set()
    )
    if args.check:
        stale = [
            n
            for n, b in files.items()
            if not (out_dir / n).is_file() or not same_npz((out_dir / n).read_bytes(), b)
        ]
        extra = sorted(on_disk - set(files))
        for n in stale:
            print(f"stale or missing: {out_dir / n}")
        for n in extra:
            print(f"not produced by any family: {out_dir / n}")
        return 1 if stale or extra else 0
    for n, b in files.items():
        if (out_dir / n).is_file() and same_npz((out_dir / n).read_bytes(), b):
            continue  # the same arrays: not rewritten (another Python writes another zip)
        (out_dir / n).parent.mkdir(parents=True, exist_ok=True)
        (out_dir / n).write_bytes(b)
        print(f"wrote {out_dir / n} ({len(b)} bytes)")
    for n in sorted(on_disk - set(files)):
        print(f"warning: {out_dir / n} is not produced by any family (stale?)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
