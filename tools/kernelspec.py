"""Reads the kernel declarations (``src/<family>/kernels.toml``).

Each kernel is declared once, there: name, signature, loop types, SIMD
paths with their own core, carried state, live stream, reference twin,
tolerance and a one-line doc.  ``tools/gen_table.py`` writes the C ufunc
table from them at build time; the Python registry reads the same facts back
from the C module (``tradekernels._core.kernels()``), so the two cannot
drift apart.  This module only parses and derives (the ``<name>_state``
variant of every kernel with a state); it imports nothing of the package.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (build requirement tomli)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
#: family folders, in table order
FAMILIES = ("scans", "fills", "sessions")
#: NumPy type numbers and core-name suffixes of the declared type names
TYPES = {"f32": "NPY_FLOAT", "f64": "NPY_DOUBLE", "i64": "NPY_INT64", "bool": "NPY_BOOL"}
KEYS = {"signature", "loops", "simd", "state", "stream", "reference", "ulps", "doc", "dims"}


@dataclass(frozen=True)
class Ufunc:
    """One ufunc of the table (a declared kernel or its derived ``_state`` variant)."""

    name: str
    family: str
    signature: str
    loops: Tuple[Tuple[str, ...], ...]  # per loop: the type name of every argument
    nin: int
    nout: int
    simd: Tuple[str, ...]
    state_fields: Tuple[str, ...]
    state_default: Tuple[float, ...]
    stream: str
    reference: str
    ulps: int
    doc: str
    dims: str
    base: str = ""  # for a _state variant: the declared kernel
    cores: Dict[str, Tuple[str, ...]] = field(default_factory=dict)  # path -> core per loop


def _split_sig(sig: str) -> Tuple[int, int]:
    ins, outs = sig.replace(" ", "").split("->")
    return len(re.findall(r"\(", ins)), len(re.findall(r"\(", outs))


def _loop(text: str, nin: int, nout: int, where: str) -> Tuple[str, ...]:
    ins, outs = text.split("->")
    args = tuple(t.strip() for t in ins.split(",")) + tuple(t.strip() for t in outs.split(","))
    if len(args) != nin + nout or any(t not in TYPES for t in args):
        raise ValueError(f"{where}: loop {text!r} must give {nin} + {nout} types from {sorted(TYPES)}")
    return args


#: paths whose kernel sources are compiled a second time against SIMDe: a
#: kernel with cores for the key also has cores for the emulated path
EMULATED = {"avx512": "avx512_emu"}


def _cores(name: str, loops, simd) -> Dict[str, Tuple[str, ...]]:
    scalar = tuple(f"tk_{name}_{lp[0]}" for lp in loops)
    cores = {"scalar": scalar}
    for path in simd:
        cores[path] = scalar[:-1] + (f"{scalar[-1]}_{path}",)
        if path in EMULATED:
            cores[EMULATED[path]] = scalar[:-1] + (f"{scalar[-1]}_{EMULATED[path]}",)
    return cores


def _state_variant(k: Ufunc) -> Ufunc:
    ins, outs = k.signature.replace(" ", "").split("->")
    first, rest = ins.split(")", 1)
    sig = f"{first}),(k){rest}->{outs},(k)"
    loops = tuple(lp[:1] + ("f64",) + lp[1 : k.nin] + lp[k.nin :] + ("f64",) for lp in k.loops)
    fields = ", ".join(k.state_fields)
    return Ufunc(
        name=f"{k.name}_state",
        family=k.family,
        signature=sig,
        loops=loops,
        nin=k.nin + 1,
        nout=k.nout + 1,
        simd=k.simd,
        state_fields=k.state_fields,
        state_default=k.state_default,
        stream="",
        reference=k.reference,
        ulps=k.ulps,
        doc=f"{k.name} from a carried state [{fields}]; also returns the final state.",
        dims="tk_state_dims",
        base=k.name,
        cores=_cores(f"{k.name}_state", loops, k.simd),
    )


def load(families=FAMILIES, src: Path = SRC) -> List[Ufunc]:
    """Every ufunc of the table, declared kernels first (in file order), then their
    ``_state`` variants."""
    declared: List[Ufunc] = []
    for fam in families:
        path = src / fam / "kernels.toml"
        with open(path, "rb") as f:
            spec = tomllib.load(f)
        for name, row in spec.items():
            where = f"{path.name} [{name}]"
            unknown = set(row) - KEYS
            if unknown:
                raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
            nin, nout = _split_sig(row["signature"])
            loops = tuple(_loop(t, nin, nout, where) for t in row["loops"])
            state = row.get("state", {})
            simd = tuple(row.get("simd", ()))
            declared.append(
                Ufunc(
                    name=name,
                    family=fam,
                    signature=row["signature"].replace(" ", ""),
                    loops=loops,
                    nin=nin,
                    nout=nout,
                    simd=simd,
                    state_fields=tuple(state),
                    state_default=tuple(float(v) for v in state.values()),
                    stream=row.get("stream", ""),
                    reference=row["reference"],
                    ulps=int(row["ulps"]),
                    doc=row["doc"],
                    dims=row.get("dims", ""),
                    cores=_cores(name, loops, simd),
                )
            )
    return declared + [_state_variant(k) for k in declared if k.state_fields]


def c_double(v: float) -> str:
    if math.isnan(v):
        return "NAN"
    if math.isinf(v):
        return "INFINITY" if v > 0 else "-INFINITY"
    return repr(float(v))
