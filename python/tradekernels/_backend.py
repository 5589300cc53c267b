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
import warnings
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple, TypeVar

import numpy as np

from . import ufuncs
from ._registry import Kernel

__all__ = [
    "BACKENDS",
    "ShadowMismatch",
    "set_backend",
    "get_backend",
    "backend",
    "dispatch",
    "compare",
    "lanes",
    "run",
    "run_state",
]

T = TypeVar("T")

BACKENDS = ("native", "reference", "shadow")


class ShadowMismatch(AssertionError):
    """Native and reference results differ by more than the kernel's tolerance."""

    def __init__(
        self, kernel: str, output: int, index: Tuple[int, ...], native: object, reference: object
    ) -> None:
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


def _from_env() -> str:
    """``TRADEKERNELS_BACKEND``, or "native" (with a warning) when it names no backend."""
    raw = os.environ.get("TRADEKERNELS_BACKEND", "")
    name = raw.strip().lower() or "native"
    if name not in BACKENDS:
        warnings.warn(
            f"TRADEKERNELS_BACKEND={raw!r} is not one of {', '.join(BACKENDS)}; using 'native'",
            RuntimeWarning,
            stacklevel=2,
        )
        return "native"
    return name


_current: contextvars.ContextVar[str] = contextvars.ContextVar(
    "tradekernels_backend",
    default=_from_env(),  # noqa: B039 - a str
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


# --------------------------------------------------------------------------
# The one backend layer: every family's public function goes through dispatch
# --------------------------------------------------------------------------


def dispatch(native: Callable[[], T], reference: Callable[[], T], check: Callable[[T, T], None]) -> T:
    """Run one kernel call under the current backend.

    ``native()`` and ``reference()`` compute the call's result with the C kernel
    and with the pure-Python twin; ``check(native_result, reference_result)``
    raises :class:`ShadowMismatch` where they differ (usually :func:`compare`).
    ``shadow`` runs both (native first: it may build caches the twin must not
    rely on) and returns the native result.
    """
    mode = _current.get()
    if mode == "native":
        return native()
    if mode == "reference":
        return reference()
    nat = native()
    check(nat, reference())
    return nat


def compare(kernel: str, native: Sequence[Any], reference: Sequence[Any], ulps: int = 0) -> None:
    """Raise :class:`ShadowMismatch` at the first element where output ``j`` of
    ``native`` and ``reference`` differ by more than ``ulps`` units in the last
    place (NaN equals NaN; integers and bools exactly)."""
    for j, (nat, ref) in enumerate(zip(native, reference)):
        nat, ref = np.asarray(nat), np.asarray(ref)
        if nat.shape != ref.shape:
            raise ShadowMismatch(kernel, j, (), f"shape {nat.shape}", f"shape {ref.shape}")
        idx = _first_mismatch(nat, ref, ulps)
        if idx is not None:
            raise ShadowMismatch(kernel, j, idx, nat[idx].item(), ref[idx].item())


def lanes(
    fn: Callable[..., Any], arrays: Sequence[np.ndarray], dtypes: Sequence[Any], core: Sequence[Optional[int]]
) -> List[np.ndarray]:
    """The one lane runner: ``fn`` on every lane of ``arrays`` (broadcast over their
    leading axes; core dimension last), as Python lists.

    ``fn(*lists)`` returns one value per output (a tuple when there are several);
    output ``j`` has dtype ``dtypes[j]`` and, unless ``core[j]`` is None, the core
    length of input ``core[j]`` as its last axis.  Floats are rounded once to the
    output dtype.
    """
    lead = np.broadcast_shapes(*(a.shape[:-1] for a in arrays))
    arrs = [np.broadcast_to(a, lead + a.shape[-1:]) for a in arrays]
    outs = [np.empty(lead + (() if c is None else arrs[c].shape[-1:]), dtype=d) for d, c in zip(dtypes, core)]
    for idx in np.ndindex(*lead):
        r = fn(*(a[idx].tolist() for a in arrs))
        r = r if isinstance(r, tuple) and len(outs) > 1 else (r,)
        with np.errstate(over="ignore"):  # float32 rounding to inf, as the native kernels do
            for o, v in zip(outs, r):
                o[idx] = v
    return outs


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
                # ulps of the coarser dtype: an out= wider than the kernel's float type
                # (longdouble) holds the result of the kernel's precision
                coarse = nat.dtype
                if ref.dtype.kind == "f" and np.finfo(ref.dtype).eps > np.finfo(nat.dtype).eps:
                    coarse = ref.dtype
                scale = np.maximum(np.abs(nat), np.abs(ref)).astype(coarse)
                same |= np.abs(nat.astype(np.float64) - ref) <= ulps * np.spacing(scale).astype(np.float64)
        bad = ~same
    if not bad.any():
        return None
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), bad.shape))


def run(k: Kernel, arr: np.ndarray, axis: int, out) -> Tuple[np.ndarray, ...]:
    """Run scan kernel ``k`` on a prepared float array with the current backend."""
    uf = getattr(ufuncs, k.name)
    return dispatch(
        lambda: _as_tuple(uf(arr, axis=axis, out=out) if out is not None else uf(arr, axis=axis)),
        lambda: _run_reference(k, arr, axis, out if _current.get() == "reference" else None),
        lambda nat, ref: compare(k.name, nat, ref, k.ulps),
    )


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
    assert runner is not None, f"{k.name} has no carried state"
    fdtype = np.dtype(arr.dtype.char)
    kinds = k.outputs
    dtypes = [fdtype if kind == "f" else np.int64 for kind in kinds] + [np.float64]

    def lane(x: list, st: list) -> tuple:
        r, s = runner(x, st)
        return tuple(r) + (s,)

    a = np.moveaxis(arr, axis, -1)
    res = lanes(lane, [a, state], dtypes, [0 if k.scan else None] * len(kinds) + [1])
    outs, st_out = res[:-1], res[-1]
    if k.scan:
        outs = [np.moveaxis(r, -1, axis) for r in outs]
    if out is not None:
        for o, r in zip(out, outs):
            if o is None:  # NumPy's "allocate this one"
                continue
            np.copyto(o, r, casting="same_kind")
        outs = [r if o is None else o for o, r in zip(out, outs)]
    return tuple(outs), st_out


def state_lead(name: str, arr: np.ndarray, axis: int, state: np.ndarray) -> Tuple[int, ...]:
    """The result's lead shape for ``state`` on ``arr``: the input's shape without the time
    ``axis`` and the state's shape without its field axis, broadcast (NumPy rules: aligned
    from the right); ValueError naming both when they do not broadcast."""
    ax = axis + arr.ndim if axis < 0 else axis
    if not 0 <= ax < arr.ndim:
        raise np.exceptions.AxisError(axis, arr.ndim, msg_prefix=f"tradekernels.{name}")
    lead_x = arr.shape[:ax] + arr.shape[ax + 1 :]
    try:
        return np.broadcast_shapes(lead_x, state.shape[:-1])
    except ValueError:
        raise ValueError(
            f"tradekernels.{name}: the state (one per series, lead shape {state.shape[:-1]}) does "
            f"not broadcast with the input's series (its shape without the time axis: {lead_x})"
        ) from None


def run_state(k: Kernel, arr: np.ndarray, axis: int, out, state: np.ndarray):
    """Run kernel ``k`` from the carried ``state`` (float64, ``(..., k)``) with the
    current backend; returns ``(outputs, final_state)``.

    Series and states broadcast (:func:`state_lead`); a scan's time axis keeps its
    position counted from the end (``axis - x.ndim``), so extra leading dimensions
    from the state come first, on every backend."""
    state_lead(k.name, arr, axis, state)
    ax = (axis + arr.ndim if axis < 0 else axis) - arr.ndim  # negative: from the end
    uf = getattr(ufuncs, k.name + "_state")
    nout = len(k.outputs)

    def native():
        full_out = (tuple(out) if out is not None else (None,) * nout) + (None,)
        with np.errstate(all="ignore"):
            res = _as_tuple(uf(arr, state, out=full_out, axes=_state_axes(k, ax)))
        return res[:nout], res[nout]

    def check(nat, ref):  # the final state is output number nout
        compare(k.name, nat[0] + (nat[1],), ref[0] + (ref[1],), k.ulps)

    return dispatch(
        native,
        lambda: _run_state_reference(k, arr, ax, out if _current.get() == "reference" else None, state),
        check,
    )
