#!/usr/bin/env python3
"""Mutation check: plant each realistic bug of ``tools/mutants.toml`` and see the tests catch it.

For every selected mutant: replace its ``old`` text (which must occur exactly once in its
file) by ``new``, rebuild the installed package incrementally when the file is part of it
(``src/`` or ``python/``), run the mutant's pytest selection, and restore the file, always.
A mutant is *caught* when the selection fails, *survived* when it passes, *not compiled*
when the rebuild fails (listed apart: that is not a catch), *timeout* when the selection runs
past ``--timeout`` (counted as caught: a hang is a failure), and *equivalent* mutants
(``equivalent = true``: no test can tell them apart, the description says why) are run and
reported apart.  Before the mutants, each distinct selection runs once on the unmutated code
and must pass (``--no-baseline`` skips that).  Hypothesis runs with a fixed seed and a
fresh example database per run, so a result does not depend on the runs before it.

    python tools/mutants.py                 # every mutant (~N minutes, see CONTRIBUTING.md)
    python tools/mutants.py --only id1,id2  # some of them
    python tools/mutants.py --list          # the catalogue

Standard library only.  Refuses to start when a file it would mutate has uncommitted changes
(``git status --porcelain``): the restore writes back the committed text it read.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "tools" / "mutants.toml"
BUILD = [
    "-m",
    "pip",
    "install",
    "-q",
    "--no-deps",
    "--no-build-isolation",
    "-Cbuild-dir=build/mut",
    "-Ccmake.define.TK_WERROR=ON",
    ".",
]
PYTEST = ["-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "--hypothesis-seed=0"]
#: files whose change needs a rebuild (the venv holds a non-editable install)
PACKAGE_DIRS = ("src/", "python/")
REQUIRED = ("id", "file", "old", "new", "description", "tests")
OPTIONAL = ("equivalent",)


@dataclass
class Mutant:
    id: str
    file: str
    old: str
    new: str
    description: str
    tests: List[str]
    equivalent: bool = False
    result: str = ""
    seconds: float = 0.0
    detail: str = field(default="", repr=False)

    @property
    def needs_build(self) -> bool:
        return self.file.startswith(PACKAGE_DIRS)


def load(path: Path = CATALOGUE) -> List[Mutant]:
    """The catalogue's entries; ValueError naming the entry when one is malformed
    (a missing or unknown key, a wrong type, a duplicate id, ``old == new``)."""
    with open(path, "rb") as f:
        data = tomllib.load(f)
    extra = set(data) - {"mutant"}
    if extra:
        raise ValueError(f"{path.name}: unknown top-level keys {sorted(extra)} (expected [[mutant]] tables)")
    out: List[Mutant] = []
    seen = set()
    for j, e in enumerate(data.get("mutant", [])):
        where = f"{path.name}: mutant #{j + 1} ({e.get('id', '?')})"
        missing = [k for k in REQUIRED if k not in e]
        unknown = [k for k in e if k not in REQUIRED + OPTIONAL]
        if missing or unknown:
            raise ValueError(f"{where}: missing keys {missing}, unknown keys {unknown}")
        for k in ("id", "file", "old", "new", "description"):
            if not isinstance(e[k], str) or not e[k] and k != "new":
                raise ValueError(f"{where}: {k} must be a non-empty string")
        tests = e["tests"]
        if not isinstance(tests, list) or not tests or not all(isinstance(t, str) and t for t in tests):
            raise ValueError(f"{where}: tests must be a non-empty list of pytest arguments")
        if not isinstance(e.get("equivalent", False), bool):
            raise ValueError(f"{where}: equivalent must be true or false")
        if e["old"] == e["new"]:
            raise ValueError(f"{where}: old and new are the same text")
        if "\n" in e["description"]:
            raise ValueError(f"{where}: the description is one line")
        if e["id"] in seen:
            raise ValueError(f"{where}: duplicate id")
        seen.add(e["id"])
        out.append(Mutant(**{k: e[k] for k in REQUIRED + OPTIONAL if k in e}))
    return out


def occurrences(m: Mutant, root: Path = ROOT) -> int:
    """How many times the mutant's ``old`` text occurs in its file (it must be exactly once)."""
    return (root / m.file).read_text(encoding="utf-8").count(m.old)


def check(mutants: Sequence[Mutant], root: Path = ROOT) -> List[str]:
    """Problems that stop a run: a file that does not exist, an ``old`` not exactly once,
    a test path that does not exist."""
    errors = []
    for m in mutants:
        p = root / m.file
        if not p.is_file():
            errors.append(f"{m.id}: no file {m.file}")
            continue
        n = occurrences(m, root)
        if n != 1:
            errors.append(f"{m.id}: `old` occurs {n} times in {m.file} (must be exactly once)")
        for t in m.tests:
            if not t.startswith("-") and t.startswith("tests/") and not (root / t.split("::")[0]).exists():
                errors.append(f"{m.id}: no test file {t}")
    return errors


def _run(cmd: List[str], timeout: Optional[float], env: Optional[Dict[str, str]] = None) -> Tuple[int, str]:
    """(return code, the output's tail); -1 on a timeout."""
    try:
        p = subprocess.run(
            cmd,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            env=env,
        )
    except subprocess.TimeoutExpired as e:
        out = e.stdout if isinstance(e.stdout, str) else (e.stdout or b"").decode(errors="replace")
        return -1, out[-2000:]
    return p.returncode, p.stdout[-2000:]


def build() -> Tuple[int, str]:
    return _run([sys.executable, *BUILD], timeout=1800)


def run_tests(tests: List[str], timeout: float) -> Tuple[int, str]:
    with tempfile.TemporaryDirectory(prefix="tk-mut-hyp-") as d:
        env = dict(os.environ, HYPOTHESIS_STORAGE_DIRECTORY=d)
        return _run([sys.executable, *PYTEST, *tests], timeout=timeout, env=env)


def dirty(files: Sequence[str]) -> List[str]:
    p = subprocess.run(
        ["git", "status", "--porcelain", "--", *sorted(set(files))],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return [line for line in p.stdout.splitlines() if line.strip()]


def run_one(m: Mutant, timeout: float, verbose: bool) -> None:
    path = ROOT / m.file
    original = path.read_bytes()
    text = original.decode("utf-8")
    t0 = time.monotonic()
    try:
        if text.count(m.old) != 1:
            m.result, m.detail = "error", f"`old` occurs {text.count(m.old)} times"
            return
        path.write_bytes(text.replace(m.old, m.new, 1).encode("utf-8"))
        if m.needs_build:
            rc, out = build()
            if rc != 0:
                m.result, m.detail = "not compiled", out
                return
        rc, out = run_tests(m.tests, timeout)
        m.detail = out
        if rc == -1:
            m.result = "timeout"
        elif rc == 0:
            m.result = "survived"
        elif rc in (1, 2) or rc < 0 or rc > 128:  # failed, collection error, or a crash (signal)
            m.result = "caught"
        else:  # 3 internal error, 4 usage error, 5 no tests collected: the selection is wrong
            m.result = f"error (pytest rc {rc})"
    finally:
        path.write_bytes(original)
        m.seconds = time.monotonic() - t0
        if (verbose and m.result in ("survived", "not compiled")) or m.result.startswith("error"):
            print(m.detail, file=sys.stderr)


def table(mutants: Sequence[Mutant]) -> str:
    w = max([len(m.id) for m in mutants] + [2])
    rows = [f"{'id':<{w}}  {'result':<17} {'s':>5}  description"]
    for m in mutants:
        res = m.result + (" (equiv.)" if m.equivalent else "")
        rows.append(f"{m.id:<{w}}  {res:<17} {m.seconds:5.0f}  {m.description}")
    return "\n".join(rows)


def summary(mutants: Sequence[Mutant]) -> str:
    real = [m for m in mutants if not m.equivalent]
    compiled = [m for m in real if m.result in ("caught", "survived", "timeout")]
    caught = [m for m in compiled if m.result in ("caught", "timeout")]
    lines = [f"caught {len(caught)} of {len(compiled)}"]
    surv = [m.id for m in compiled if m.result == "survived"]
    if surv:
        lines.append(f"survived: {', '.join(surv)}")
    nc = [m.id for m in real if m.result == "not compiled"]
    if nc:
        lines.append(f"not compiled (not counted): {', '.join(nc)}")
    err = [m.id for m in real if m.result.startswith("error")]
    if err:
        lines.append(f"errors (not counted): {', '.join(err)}")
    eq = [m for m in mutants if m.equivalent]
    if eq:
        lines.append(f"equivalent (not counted): {len(eq)}: " + ", ".join(f"{m.id} [{m.result}]" for m in eq))
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="comma-separated mutant ids")
    ap.add_argument("--list", action="store_true", help="list the catalogue and exit")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per test run (default 600)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the selections' unmutated runs")
    ap.add_argument("-v", "--verbose", action="store_true", help="print the output of survivors")
    args = ap.parse_args(argv)

    mutants = load()
    if args.only:
        want = [s.strip() for s in args.only.split(",") if s.strip()]
        ids = {m.id for m in mutants}
        unknown = [s for s in want if s not in ids]
        if unknown:
            print(f"unknown mutant ids: {', '.join(unknown)}", file=sys.stderr)
            return 2
        mutants = [m for m in mutants if m.id in want]
    if args.list:
        for m in mutants:
            eq = " [equivalent]" if m.equivalent else ""
            print(f"{m.id:<34} {m.file:<40} {' '.join(m.tests)}{eq}\n    {m.description}")
        print(f"{len(mutants)} mutants")
        return 0
    errors = check(mutants)
    if errors:
        print("the catalogue does not match the code:\n  " + "\n  ".join(errors), file=sys.stderr)
        return 2
    d = dirty([m.file for m in mutants])
    if d:
        print(
            "refusing to start: files to mutate have uncommitted changes (commit or stash):\n  "
            + "\n  ".join(d),
            file=sys.stderr,
        )
        return 2

    t_start = time.monotonic()
    built = False
    try:
        if any(m.needs_build for m in mutants):
            rc, out = build()
            built = True
            if rc != 0:
                print(f"the unmutated code does not build:\n{out}", file=sys.stderr)
                return 2
        if not args.no_baseline:
            for sel in dict.fromkeys(tuple(m.tests) for m in mutants):
                rc, out = run_tests(list(sel), args.timeout)
                if rc != 0:
                    print(f"baseline: {' '.join(sel)} fails on the unmutated code:\n{out}", file=sys.stderr)
                    return 2
            print(f"baseline: every selection passes ({time.monotonic() - t_start:.0f} s)", flush=True)
        for k, m in enumerate(mutants, 1):
            run_one(m, args.timeout, args.verbose)
            built = built or m.needs_build
            print(f"[{k}/{len(mutants)}] {m.id}: {m.result} ({m.seconds:.0f} s)", flush=True)
    finally:
        if built:  # the installed package back to the unmutated code
            rc, out = build()
            if rc != 0:
                print(f"the final clean rebuild failed:\n{out}", file=sys.stderr)
    print()
    print(table(mutants))
    print()
    print(summary(mutants))
    print(f"total {time.monotonic() - t_start:.0f} s")
    bad = [m for m in mutants if not m.equivalent and m.result != "caught" and m.result != "timeout"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
