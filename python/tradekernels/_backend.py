"""Backend switch: ``native`` (C), ``reference`` (pure Python) or ``shadow``.

``shadow`` runs both, compares them within the kernel's tolerance and
raises :class:`ShadowMismatch` on the first difference.  The backend comes
from ``TRADEKERNELS_BACKEND`` at import, and can be changed per context
with :func:`set_backend` or ``with backend(...):`` (a context variable, so
threads and asyncio tasks do not see each other's changes).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from typing import Iterator, Optional, Sequence, Tuple

import numpy as np

from . import ufuncs
from ._registry import Kernel

__all__ = ["BACKENDS", "ShadowMismatch", "set_backend", "get_backend", "backend", "run", "run_state"]

BACKENDS = ("native", "reference", "shadow")


class ShadowMismatch(AssertionError):
    """Native and reference results differ by more than the kernel's tolerance."""

    def __init__(self, kernel: str, output: int, index: Tuple[int, ...], native: object,
                 reference: object) -> None:
        self.kernel, self.output, self.index = kernel, output, index
        self.native, self.reference = native, reference
        super().__init__(
            f"shadow mismatch in {kernel} (output {output}) at index {index}: "
            f"native={native!r}, reference={reference!r}"
        )


def _check(name: str) -> str:
    name = str(name).strip().lower()
    if name not in BACKENDS:
        raise ValueError(f"unknown tradekernels backend {name!r}; expected one of {BACKENDS}")
    return name


_current: contextvars.ContextVar[str] = contextvars.ContextVar(
    "tradekernels_backend", default=_check(os.environ.get("TRADEKERNELS_BACKEND", "native") or "native")
)


def set_backend(name: str) -> None:
    """Use backend ``name`` ('native', 'reference' or 'shadow') from now on in this context."""
    _current.set(_check(name))


def get_backend() -> str:
    """The backend in force in this context."""
    return _current.get()


@contextlib.contextmanager
def backend(name: str) -> Iterator[None]:
    """``with backend("shadow"): ...`` uses that backend inside the block only."""
    token = _current.set(_check(name))
    try:
        yield
    finally:
        _current.reset(token)


def _as_tuple(res: object) -> Tuple[np.ndarray, ...]:
    return tuple(np.asarray(r) for r in res) if isinstance(res, tuple) else (np.asarray(res),)


def _run_reference(k: Kernel, arr: np.ndarray, axis: int, out: Optional[Sequence[np.ndarray]]):
    """The reference twin from the state before the first bar (final state dropped)."""
    start = np.asarray(k.state_default, dtype=np.float64)
    return _run_state_reference(k, arr, axis, out, start)[0]


def _first_mismatch(nat: np.ndarray, ref: np.ndarray, ulps: int) -> Optional[Tuple[int, ...]]:
    if nat.dtype.kind != "f":
        bad = nat != ref
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            same = (nat == ref) | (np.isnan(nat) & np.isnan(ref))
            if ulps:
                scale = np.maximum(np.abs(nat), np.abs(ref)).astype(nat.dtype)
                same |= np.abs(nat.astype(np.float64) - ref) <= ulps * np.spacing(scale).astype(np.float64)
        bad = ~same
    if not bad.any():
        return None
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), bad.shape))


def run(k: Kernel, arr: np.ndarray, axis: int, out) -> Tuple[np.ndarray, ...]:
    """Run kernel ``k`` on a prepared float array with the current backend."""
    mode = _current.get()
    if mode == "reference":
        return _run_reference(k, arr, axis, out)
    ref = _run_reference(k, arr, axis, None) if mode == "shadow" else None
    uf = getattr(ufuncs, k.name)
    res = _as_tuple(uf(arr, axis=axis, out=out) if out is not None else uf(arr, axis=axis))
    if ref is not None:
        for j, (nat, rv) in enumerate(zip(res, ref)):
            idx = _first_mismatch(nat, rv, k.ulps)
            if idx is not None:
                raise ShadowMismatch(k.name, j, idx, nat[idx].item(), rv[idx].item())
    return res


# --------------------------------------------------------------------------
# Carried state: the <name>_state gufuncs and their pure-Python twins
# --------------------------------------------------------------------------

def _state_axes(k: Kernel, axis: int) -> list:
    """``axes=`` for the ``<name>_state`` gufunc: time on ``axis``, state last."""
    if k.scan:
        return [(axis,), (-1,), (axis,), (-1,)]
    return [(axis,), (-1,)] + [()] * len(k.outputs) + [(-1,)]


def _run_state_reference(k: Kernel, arr: np.ndarray, axis: int, out, state: np.ndarray):
    runner = k.chunk_reference
    a = np.moveaxis(arr, axis, -1)
    lead = np.broadcast_shapes(a.shape[:-1], state.shape[:-1])
    a = np.broadcast_to(a, lead + a.shape[-1:])
    st = np.broadcast_to(state, lead + state.shape[-1:])
    n = a.shape[-1]
    fdtype = np.dtype(arr.dtype.char)
    shape = lead + (n,) if k.scan else lead
    res = [np.empty(shape, dtype=fdtype if kind == "f" else np.int64) for kind in k.outputs]
    st_out = np.empty(st.shape, dtype=np.float64)
    for idx in np.ndindex(*lead):
        r, s = runner(a[idx].tolist(), st[idx].tolist())
        with np.errstate(over="ignore"):  # float32 rounding to inf, as the native kernels do
            for j, v in enumerate(r):
                res[j][idx] = v
        st_out[idx] = s
    if k.scan:
        res = [np.moveaxis(r, -1, axis) for r in res]
    if out is not None:
        for o, r in zip(out, res):
            np.copyto(o, r, casting="same_kind")
        res = list(out)
    return tuple(res), st_out


def run_state(k: Kernel, arr: np.ndarray, axis: int, out, state: np.ndarray):
    """Run kernel ``k`` from the carried ``state`` (float64, ``(..., k)``) with the
    current backend; returns ``(outputs, final_state)``."""
    mode = _current.get()
    if mode == "reference":
        return _run_state_reference(k, arr, axis, out, state)
    ref = _run_state_reference(k, arr, axis, None, state) if mode == "shadow" else None
    ax = axis + arr.ndim if axis < 0 else axis
    if not 0 <= ax < arr.ndim:
        raise np.exceptions.AxisError(axis, arr.ndim)
    uf = getattr(ufuncs, k.name + "_state")
    nout = len(k.outputs)
    full_out = (tuple(out) if out is not None else (None,) * nout) + (None,)
    with np.errstate(all="ignore"):
        res = _as_tuple(uf(arr, state, out=full_out, axes=_state_axes(k, ax)))
    outs, st_out = res[:nout], res[nout]
    if ref is not None:
        for j, (nat, rv) in enumerate(zip(outs + (st_out,), ref[0] + (ref[1],))):
            idx = _first_mismatch(nat, rv, k.ulps if j < nout else 0)
            if idx is not None:
                raise ShadowMismatch(k.name, j, idx, nat[idx].item(), rv[idx].item())
    return outs, st_out
