"""The mutation catalogue (tools/mutants.toml) stays in sync with the code.

Fast (no build, no test run): every entry is well-formed, its ``old`` text occurs
exactly once in its file (so a planted bug lands where it was written, and an edit
of the code that moves it fails here, in CI, rather than in the slow mutation run),
and its test selection names test files that exist.  The mutation run itself is
``python tools/mutants.py`` (CONTRIBUTING.md, "Mutation check")."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "mutants.py"


def _load_tool():
    spec = importlib.util.spec_from_file_location("tk_mutants_tool", TOOL)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look the module up by name
    spec.loader.exec_module(mod)
    return mod


mutants = _load_tool()
CATALOGUE = mutants.load()


def test_catalogue_is_well_formed_and_covers_every_family():
    assert len(CATALOGUE) >= 40
    ids = [m.id for m in CATALOGUE]
    assert len(ids) == len(set(ids))
    files = {m.file for m in CATALOGUE}
    for wanted in (
        "src/scans/tk_scan.h",
        "src/scans/drawdown.inc.h",
        "src/scans/returns.inc.h",
        "src/scans/drawdown_avx2.c",
        "src/scans/drawdown_avx512.c",
        "src/scans/records.c",
        "src/scans/rolling.inc.h",
        "src/scans/stream.c",
        "src/sessions/sessions.c",
        "src/fills/fills.c",
        "src/core/module.c",
        "python/tradekernels/_api.py",
        "python/tradekernels/stream.py",
    ):
        assert wanted in files, f"no mutant in {wanted}"
    for m in CATALOGUE:
        assert m.old != m.new and m.description.strip() and m.tests, m.id
        assert any(t.startswith("tests/") for t in m.tests), f"{m.id}: selection names no test file"


@pytest.mark.parametrize("m", CATALOGUE, ids=lambda m: m.id)
def test_old_text_occurs_exactly_once(m):
    assert mutants.occurrences(m) == 1, (
        f"{m.id}: its `old` text must occur exactly once in {m.file}; the code changed: "
        "update the entry in tools/mutants.toml (same bug, the new text)"
    )


def test_check_reports_no_problem():
    assert mutants.check(CATALOGUE) == []


def test_malformed_entries_are_rejected(tmp_path):
    good = (
        '[[mutant]]\nid = "a"\nfile = "f"\nold = "x"\nnew = "y"\ndescription = "d"\ntests = ["tests/t.py"]\n'
    )
    p = tmp_path / "m.toml"
    p.write_text(good)
    assert [m.id for m in mutants.load(p)] == ["a"]
    for bad in (
        good.replace('new = "y"', 'new = "x"'),  # no change
        good.replace('tests = ["tests/t.py"]', "tests = []"),  # no selection
        good.replace('description = "d"', 'descr = "d"'),  # missing / unknown key
        good + good,  # duplicate id
        good + "equivalent = 1\n",  # not a bool
    ):
        p.write_text(bad)
        with pytest.raises(ValueError):
            mutants.load(p)
    p.write_text(good)
    (m,) = mutants.load(p)
    (tmp_path / "f").write_text("x")
    assert mutants.check([m], root=tmp_path) == ["a: no test file tests/t.py"]
    (tmp_path / "f").write_text("x x")
    assert "occurs 2 times" in mutants.check([m], root=tmp_path)[0]
