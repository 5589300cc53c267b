"""The kernel registry, read from the C module's table.

Every kernel is declared once, in ``src/<family>/kernels.toml``; the build
turns the declarations into the C ufunc table, and this module builds its
:class:`Kernel` rows from that table (``_core.kernels()``), so the C module
and the registry cannot disagree.  The thin API (``scans.api``), the
backends, the streams, the stubs (``tools/gen_stubs.py``) and the tests
are all driven from here.

* :data:`UFUNCS` - every ufunc of the table, ``<name>_state`` variants included;
* :data:`DECLARED` - the declared kernels of every family;
* :data:`KERNELS` - the scan family kernels of one series (one input:
  ``state=`` / streams / dask), whose public wrappers are generated from their
  rows and which every registry-parametrised test runs;
* :data:`WINDOWED` - the scan kernels with more inputs than the series (a
  window, ...): explicit wrappers in ``scans.api``, their own tests.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from . import _core

__all__ = ["Kernel", "UFUNCS", "DECLARED", "KERNELS", "WINDOWED", "get", "family"]


@dataclass(frozen=True)
class Kernel:
    """One row of the C table (see ``src/scans/kernels.toml`` for the fields)."""

    name: str
    family: str
    signature: str
    nin: int
    nout: int
    #: per loop, the NumPy dtype of every argument
    loops: Tuple[Tuple[np.dtype, ...], ...]
    #: SIMD paths with their own cores
    simd: Tuple[str, ...]
    #: allowed difference to the reference, in units in the last place
    ulps: int
    doc: str
    #: the twin's name in ``tradekernels.<family>.reference``
    reference_name: str
    #: class name in :mod:`tradekernels.stream`, or ""
    stream: str
    #: names of the carried-state fields (the float64 state vector of the
    #: ``<name>_state`` gufunc and of :class:`tradekernels.State`), in order
    state_fields: Tuple[str, ...]
    #: the state before the first bar (what ``state=None`` means)
    state_default: Tuple[float, ...]
    #: for a ``<name>_state`` variant: the declared kernel, else ""
    base: str = ""

    @property
    def state_len(self) -> int:
        return len(self.state_fields)

    @property
    def single_series(self) -> bool:
        """True when the only input is the series (signature ``(n)->...``): the
        generic wrapper, ``state=``, the twin's one-argument call apply."""
        return self.nin == 1

    @property
    def scan(self) -> bool:
        """True when the outputs have the input's core dimension ((n)->(n))."""
        ins, outs = self.signature.split("->")
        return outs.startswith(ins.split(",")[0])

    @property
    def outputs(self) -> Tuple[str, ...]:
        """Kind of each output: "f" (the input's float dtype), "i" (int64) or "b" (bool)."""
        last = self.loops[-1][self.nin :]
        return tuple("f" if d.kind == "f" else d.kind for d in last)

    @property
    def reference(self) -> Callable[..., Any]:
        """The pure-Python twin (``tradekernels.<family>.reference.<name>``)."""
        mod = importlib.import_module(f"tradekernels.{self.family}.reference")
        return getattr(mod, self.reference_name)

    @property
    def chunk_reference(self) -> Optional[Callable[..., Any]]:
        """The twin from a carried state, ``(x, state) -> (outputs, state)``
        (``reference.<name>_chunk``), for kernels with a state."""
        if not self.state_fields:
            return None
        mod = importlib.import_module(f"tradekernels.{self.family}.reference")
        return getattr(mod, self.reference_name + "_chunk")


#: NumPy type number -> dtype (the C table stores type numbers)
_DTYPES = {np.dtype(c).num: np.dtype(c) for c in np.typecodes["All"] if c not in "Mm"}


def _row(d: Dict[str, Any]) -> Kernel:
    return Kernel(
        name=d["name"],
        family=d["family"],
        signature=d["signature"],
        nin=d["nin"],
        nout=d["nout"],
        loops=tuple(tuple(_DTYPES[t] for t in lp) for lp in d["loops"]),
        simd=tuple(p for p in d["simd"].split(",") if p),
        ulps=d["ulps"],
        doc=d["doc"],
        reference_name=d["reference"],
        stream=d["stream"],
        state_fields=tuple(d["state_fields"]),
        state_default=tuple(d["state_default"]),
        base=d["base"],
    )


UFUNCS: Tuple[Kernel, ...] = tuple(_row(d) for d in _core.kernels())
DECLARED: Tuple[Kernel, ...] = tuple(k for k in UFUNCS if not k.base)
KERNELS: Tuple[Kernel, ...] = tuple(k for k in DECLARED if k.family == "scans" and k.single_series)
WINDOWED: Tuple[Kernel, ...] = tuple(k for k in DECLARED if k.family == "scans" and not k.single_series)

_BY_NAME = {k.name: k for k in UFUNCS}


def get(name: str) -> Kernel:
    """The row of ufunc ``name``."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"tradekernels: no kernel named {name!r}") from None


def family(name: str) -> Tuple[Kernel, ...]:
    """The declared kernels of one family."""
    return tuple(k for k in DECLARED if k.family == name)
