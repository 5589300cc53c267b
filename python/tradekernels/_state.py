"""Carried state of the scan kernels: :class:`State` and the pure-Python stepping twins.

Every scan kernel (``simple_returns``, ``log_returns``, ``cumulative_returns``,
``drawdown``, ``underwater_bars``, ``max_drawdown``, ``drawdown_episode``) can
start from a state and return its final state, so that a series processed in
chunks gives, concatenated, bit for bit the batch result::

    state = None
    for chunk in chunks:
        out, state = tradekernels.drawdown(chunk, state=state, return_state=True)

For ``max_drawdown`` / ``drawdown_episode`` the result of a chunk call is the
result for everything seen so far; ``drawdown_episode``'s indices are global
(counted from the first bar of the first chunk).

A :class:`State` is a small float64 array of shape ``lead + (k,)`` (``lead``
is the input's shape without its time axis: ``()`` for one series, ``(m,)``
for ``m`` symbols; more generally, any lead shape that broadcasts with the
input's, see :mod:`tradekernels._api`) plus the kernel name.  It is picklable and compares by
value.  Layouts (field: default before the first bar):

=====================  ==========================================================
kernel                 fields
=====================  ==========================================================
simple/log_returns     ``prev`` (NaN): the last value seen (NaN included)
cumulative_returns     ``prod`` (1.0): the running product of ``1 + r``
drawdown               ``peak`` (-inf): the running peak
underwater_bars        ``peak`` (-inf), ``count`` (-1)
max_drawdown           ``peak`` (-inf), ``best`` (+inf), ``seen`` (0 / 1)
drawdown_episode       ``peak`` (-inf), ``peak_i`` (-1), ``best`` (+inf),
                       ``best_peak`` (0), ``best_peak_i`` (-1), ``trough_i`` (-1),
                       ``recovery_i`` (-1), ``seen`` (0), ``n`` (0: bars seen)
=====================  ==========================================================

``rolling_max_drawdown(x, window)`` carries ``"rolling_max_drawdown/<window>"``
(:func:`rolling_layout`: the bars seen and the last ``window - 1`` prices).
With ``nan="ffill"`` or ``nan="zero_return"`` the state is that of
``"<kernel>@<policy>"``: the kernel's fields, then the policy's carry
(:data:`POLICY_LAYOUTS`).

Indices and counts are stored as float64 (exact below 2**53).  The state
is always float64, also for float32 input (float32 values are exact in
float64).  A state vector that no kernel produced gives unspecified (but
safe) results.

The pure-Python twins of the stateful kernels are
``tradekernels.reference.<kernel>_chunk(x, state) -> (outputs, state)``
(:data:`PY_RUNNERS`), which the plain reference functions call with the
default state.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import numpy as np

from . import _registry

__all__ = ["State", "as_state_vector", "PY_RUNNERS", "POLICY_LAYOUTS", "rolling_layout"]


#: Carried states of kernels that are not ufuncs (no registry row):
#: ``name -> (fields, defaults)``.
EXTRA_LAYOUTS: Dict[str, Tuple[Tuple[str, ...], Tuple[float, ...]]] = {
    "drawdowns": (
        ("peak", "valley", "last", "peak_i", "valley_i", "n", "in_dd"),
        (-np.inf, 0.0, np.nan, -1.0, -1.0, 0.0, 0.0),
    ),
}


#: The carry of a stateful NaN policy (``nan="ffill"`` / ``"zero_return"``,
#: :func:`tradekernels._api.apply_nan_policy_chunk`), appended to the
#: kernel's fields in the state ``"<kernel>@<policy>"``: ffill carries the
#: last non-NaN price; zero_return the last price (NaN included), the running
#: product of ``1 + r`` and the first non-NaN price (NaN until one is seen).
POLICY_LAYOUTS: Dict[str, Tuple[Tuple[str, ...], Tuple[float, ...]]] = {
    "ffill": (("fill_last",), (np.nan,)),
    "zero_return": (("zr_prev", "zr_prod", "zr_first"), (np.nan, 1.0, np.nan)),
}


ROLLING = "rolling_max_drawdown"


def rolling_layout(window: int) -> Tuple[Tuple[str, ...], Tuple[float, ...]]:
    """The state of ``rolling_max_drawdown`` with ``window`` (kernel name
    ``"rolling_max_drawdown/<window>"``): ``seen``, the bars seen so far, then
    the last ``window - 1`` prices ``x1 .. x<window-1>`` (oldest first; NaN
    where fewer bars have been seen): all that the next windows need."""
    return ("seen",) + tuple(f"x{j}" for j in range(1, window)), (0.0,) + (np.nan,) * (window - 1)


def _split_policy(kernel: Any) -> Tuple[Any, Optional[str]]:
    """``"<kernel>@<policy>"`` as (kernel, policy); anything else as (kernel, None)."""
    if isinstance(kernel, str) and "@" in kernel:
        base, _, policy = kernel.partition("@")
        if policy in POLICY_LAYOUTS and "@" not in base:
            return base, policy
    return kernel, None


def _rolling_window(kernel: Any) -> Optional[int]:
    """The window of a ``"rolling_max_drawdown/<window>"`` state name, else None."""
    if isinstance(kernel, str) and kernel.startswith(ROLLING + "/"):
        w = kernel[len(ROLLING) + 1 :]
        if w.isascii() and w.isdigit() and int(w) >= 1 and str(int(w)) == w:
            return int(w)
    return None


def _nfields(kernel: Any) -> int:
    """``len(_layout(kernel)[0])`` in O(1) for a rolling state: a kernel name read from a
    pickle must not cost O(window) before the values are checked against it."""
    base, policy = _split_policy(kernel)
    w = _rolling_window(base)
    n = w if w is not None else len(_layout(base)[0])
    return n + (len(POLICY_LAYOUTS[policy][0]) if policy else 0)


def _fields_text(kernel: Any, n: int) -> str:
    """The fields for an error message (a rolling state's ``window`` of them elided)."""
    base, policy = _split_policy(kernel)
    w = _rolling_window(base)
    if n <= 12 or w is None:
        return str(_layout(kernel)[0])
    tail = "".join(f", {f!r}" for f in POLICY_LAYOUTS[policy][0]) if policy else ""
    return f"('seen', 'x1', ..., 'x{w - 1}'{tail})"


def _field_index(kernel: Any, name: str) -> Optional[int]:
    """The position of field ``name`` in ``kernel``'s state, or None; O(1) for a rolling
    state (whose ``window`` field names are not built for one lookup)."""
    base, policy = _split_policy(kernel)
    w = _rolling_window(base)
    if w is None:
        fields = _layout(kernel)[0]
        return fields.index(name) if name in fields else None
    if name == "seen":
        return 0
    digits = name[1:]
    if name[:1] == "x" and digits.isascii() and digits.isdigit() and str(int(digits)) == digits:
        j = int(digits)
        return j if 1 <= j < w else None
    extra = POLICY_LAYOUTS[policy][0] if policy else ()
    return w + extra.index(name) if name in extra else None


def _layout(kernel: Any) -> Tuple[Tuple[str, ...], Tuple[float, ...]]:
    """(fields, defaults) of ``kernel``'s state; ValueError naming the valid kernels."""
    base, policy = _split_policy(kernel)
    if policy is not None:
        f, d = _layout(base)
        pf, pd_ = POLICY_LAYOUTS[policy]
        return f + pf, d + pd_
    if isinstance(kernel, str) and kernel in EXTRA_LAYOUTS:
        return EXTRA_LAYOUTS[kernel]
    w = _rolling_window(kernel)
    if w is not None:
        return rolling_layout(w)
    names = [k.name for k in _registry.KERNELS if k.state_fields]
    if not isinstance(kernel, str) or kernel not in names:
        raise ValueError(
            f"tradekernels.State: kernel must be the name of a kernel with a carried state "
            f"({', '.join(names + list(EXTRA_LAYOUTS))}), got {kernel!r}"
        )
    k = _registry.get(kernel)
    return k.state_fields, tuple(k.state_default)


class State:
    """The carried state of one scan kernel (see :mod:`tradekernels._state`).

    ``State(kernel, values)``: ``values`` is a float64 array of shape
    ``lead + (k,)``; fields are readable by name (``state.peak``) and as a
    dict (:meth:`as_dict`).  ``State.initial(kernel, lead)`` is the state
    before the first bar; ``state[i]`` selects series ``i``.
    """

    __slots__ = ("kernel", "values")
    kernel: str
    values: np.ndarray

    def __init__(self, kernel: str, values: Any) -> None:
        k = _nfields(kernel)
        v = np.array(values, dtype=np.float64)  # always a private copy
        if v.ndim == 0 or v.shape[-1] != k:
            raise ValueError(
                f"tradekernels.State: a {kernel} state has {k} fields "
                f"{_fields_text(kernel, k)}, got values of shape {v.shape}"
            )
        v.flags.writeable = False
        object.__setattr__(self, "kernel", kernel)
        object.__setattr__(self, "values", v)

    @classmethod
    def initial(cls, kernel: str, lead: Tuple[int, ...] = ()) -> State:
        fields, default = _layout(kernel)
        return cls(kernel, np.broadcast_to(np.array(default), tuple(lead) + (len(fields),)))

    @property
    def fields(self) -> Tuple[str, ...]:
        return _layout(self.kernel)[0]

    @property
    def shape(self) -> Tuple[int, ...]:
        """The lead shape (one state per series)."""
        return self.values.shape[:-1]

    def as_dict(self) -> Dict[str, Any]:
        return {f: self._field(j) for j, f in enumerate(self.fields)}

    def _field(self, j: int) -> Any:
        v = self.values[..., j]
        return v.item() if v.ndim == 0 else v

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in State.__slots__:
            raise AttributeError(name)
        kernel = object.__getattribute__(self, "kernel")
        j = _field_index(kernel, name)
        if j is not None:
            return self._field(j)
        n = _nfields(kernel)
        raise AttributeError(f"{kernel} state has no field {name!r} (fields: {_fields_text(kernel, n)})")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("tradekernels.State is immutable")

    def __getitem__(self, idx: Any) -> State:
        if not self.shape:
            raise IndexError("a single-series state cannot be indexed")
        idx = idx if isinstance(idx, tuple) else (idx,)
        return State(self.kernel, self.values[idx + (Ellipsis, slice(None))])

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("a single-series state has no len()")
        return self.shape[0]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, State):
            return NotImplemented
        a, b = self.values, other.values
        return (
            self.kernel == other.kernel
            and a.shape == b.shape
            and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))
        )

    __hash__ = None  # type: ignore[assignment]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """The values (read-only; ``np.array(state)`` copies them)."""
        v = self.values if dtype is None else self.values.astype(dtype, copy=False)
        return v.copy() if copy and v is self.values else v

    def __reduce__(self):
        return (State, (self.kernel, np.array(self.values)))

    def __repr__(self) -> str:
        if not self.shape:
            body = ", ".join(f"{f}={v!r}" for f, v in self.as_dict().items())
        else:
            body = f"shape={self.shape}"
        return f"State({self.kernel!r}, {body})"


def as_state_vector(kernel: str, state: Any) -> np.ndarray:
    """``state`` (None, a :class:`State` of this kernel, or an array of shape
    ``(..., k)``) as a float64 array ``(..., k)``."""
    if state is None:
        base, policy = _split_policy(kernel)
        w = _rolling_window(base)
        if w is not None:  # window floats, without window Python objects (the layout's names)
            v = np.full(_nfields(kernel), np.nan)
            v[0] = 0.0
            if policy:
                v[w:] = POLICY_LAYOUTS[policy][1]
            return v
        return np.array(_layout(kernel)[1], dtype=np.float64)
    k = _nfields(kernel)
    if isinstance(state, State):
        if state.kernel != kernel:
            raise ValueError(
                f"tradekernels.{kernel}: got the state of {state.kernel!r}; pass the state "
                f"returned by tradekernels.{kernel}(..., return_state=True)"
            )
        return state.values
    if not (isinstance(state, np.ndarray) or type(state) in (list, tuple)):  # not a FillState (a tuple)
        raise TypeError(
            f"tradekernels.{kernel}: state must be the tradekernels.State an earlier call returned "
            f"(return_state=True) or an array of its fields, got {type(state).__name__}"
        )
    try:
        v = np.asarray(state, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"tradekernels.{kernel}: the state's fields must be numbers ({e})") from None
    if v.ndim == 0 or v.shape[-1] != k:
        raise ValueError(
            f"tradekernels.{kernel}: the state must be a tradekernels.State or an array whose last "
            f"axis has the {k} fields {_fields_text(kernel, k)}, got shape {v.shape}"
        )
    return v


#: pure-Python stateful twins, ``name -> reference.<name>_chunk``
PY_RUNNERS = {k.name: k.chunk_reference for k in _registry.KERNELS}
