"""The scan kernels' public functions, generated from their declarations.

One function per kernel of the scans family (``src/scans/kernels.toml``):
``name(x, *, axis=None, out=None, state=None, return_state=False)``, with
the conversion rules of :mod:`tradekernels._api` (arrays, pandas, polars in;
the same kind out).  The first parameter is named as in the twin
(``tradekernels.scans.reference.<name>``), whose docstring states the exact
semantics.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, Tuple

import numpy as np

from .. import _backend, _registry, ufuncs
from .._api import (
    NAN_POLICY_KERNELS,
    Episode,
    _normalize_out,
    apply_nan_policy,
    call,
    check_ddof,
    fast,
    finish,
    join_policy_state,
    prepare,
    split_policy_state,
    ulcer_ddof,
    window_args,
)
from .records import drawdowns

__all__ = (
    ["Episode"] + [k.name for k in _registry.KERNELS] + [k.name for k in _registry.WINDOWED] + ["drawdowns"]
)

_STATE_DOC = """

    ``state=``: None (start of the series) or the :class:`tradekernels.State`
    returned by the previous call on the preceding chunk; ``return_state=True``
    returns ``(result, state)``.  Chunked calls give, concatenated, the batch
    result bit for bit."""


def _tolerance(k: _registry.Kernel) -> str:
    return "Bit-exact." if k.ulps == 0 else f"Within {k.ulps} ulp."


# The common call (no out= / state= / policy) first tries the fast path
# (tradekernels._api.fast: None when it does not apply); _K is the kernel's
# (name, scan, number of outputs).
_TEMPLATE = """
def {name}({arg}: Any, *, axis: Any = None, out: Any = None, state: Any = None,
        return_state: bool = False) -> Any:
    if out is None and state is None and not return_state:
        res = fast(_K, {arg}, axis)
        if res is not None:
            return res
    return call({name!r}, {arg}, axis, out, state, return_state)
"""

# The drawdown family also takes the NaN policy (tradekernels._api.apply_nan_policy).
_TEMPLATE_NAN = """
def {name}({arg}: Any, *, axis: Any = None, out: Any = None, state: Any = None,
        return_state: bool = False, nan: str = "skip") -> Any:
    if out is None and state is None and not return_state and nan == "skip":
        res = fast(_K, {arg}, axis)
        if res is not None:
            return res
    return call({name!r}, {arg}, axis, out, state, return_state, nan)
"""

_NAN_DOC = """

    ``nan=``: the NaN policy, ``"skip"`` (default: NaN bars give NaN and are
    skipped), ``"ffill"`` (quantstats / ffn) or ``"zero_return"`` (empyrical /
    vectorbt from returns): :func:`tradekernels._api.apply_nan_policy`.  With
    ``state=`` / ``return_state=True`` the policy's carry (the last price, and
    for ``"zero_return"`` the running product and first price) is part of the
    state (``State("<kernel>@<policy>")``), and chunks still give the batch
    result: :func:`tradekernels._api.apply_nan_policy_chunk`."""


def _make(k: _registry.Kernel) -> Callable[..., Any]:
    """``k``'s wrapper: a plain function (written from a template, as
    :mod:`dataclasses` writes ``__init__``), so it costs one call and
    introspects like a hand-written one."""
    arg = next(iter(inspect.signature(k.reference).parameters))
    ns: Dict[str, Any] = {"Any": Any, "call": call, "fast": fast, "_K": (k.name, k.scan, len(k.outputs))}
    nan = k.name in NAN_POLICY_KERNELS
    exec((_TEMPLATE_NAN if nan else _TEMPLATE).format(name=k.name, arg=arg), ns)  # noqa: S102 - names come from the C table
    fn = ns[k.name]
    fn.__module__ = "tradekernels"
    fn._generated = True  # (tools/gen_stubs.py writes its overloads)
    fn.__doc__ = (
        f"{k.doc.split(chr(10) * 2)[0]}\n\n    Semantics: :func:`tradekernels.scans.reference."
        f"{k.reference_name}`.  {_tolerance(k)}" + _STATE_DOC + (_NAN_DOC if nan else "")
    )
    return fn


# One generic wrapper per single-series kernel (_registry.KERNELS); kernels with
# a second input (_registry.WINDOWED) have the explicit wrappers below.
_FUNCS: Dict[str, Callable[..., Any]] = {k.name: _make(k) for k in _registry.KERNELS}
globals().update(_FUNCS)

_ulcer_generic = _FUNCS["ulcer_index"]


def ulcer_index(
    x: Any,
    *,
    ddof: int = 0,
    axis: Any = None,
    out: Any = None,
    state: Any = None,
    return_state: bool = False,
    nan: str = "skip",
) -> Any:
    """Ulcer index ``sqrt(sum(drawdown**2) / (N - ddof))`` over the non-NaN drawdowns.

    Semantics: :func:`tradekernels.scans.reference.ulcer_index` (``ddof=1``
    matches quantstats' ``N - 1``).  Bit-exact.  The kernel
    (``tradekernels.ufuncs.ulcer_index``) computes ``ddof=0``; another ``ddof``
    is applied here from the final state's ``sumsq`` and ``count`` with the
    same IEEE operations (one division, one ``sqrt``, one rounding to the
    input's float type), so it stays bit-exact.  ``N - ddof <= 0`` gives NaN.
    ``nan=``: the NaN policy (:func:`tradekernels._api.apply_nan_policy`).
    """
    check_ddof("tradekernels.ulcer_index", ddof)
    if ddof == 0:
        return _ulcer_generic(x, axis=axis, out=out, state=state, return_state=return_state, nan=nan)
    arr, ax, ctx = prepare("ulcer_index", x, axis)
    outs = None
    if out is not None:  # the out= rules of every public function (dtype, exact shape)
        sv_o = None if state is None else split_policy_state("ulcer_index", arr, ax, nan, state)[1]
        outs = _normalize_out("ulcer_index", _registry.get("ulcer_index"), arr, ax, out, sv_o)
    if nan != "skip" and state is None and not return_state:  # the batch policy (no carry to keep)
        x = apply_nan_policy("ulcer_index", arr, ax, nan)
        nan = "skip"
    else:
        x = arr
    _, st = _ulcer_generic(x, axis=ax, state=state, return_state=True, nan=nan)
    vals = np.asarray(ulcer_ddof(st.values[..., 1], st.values[..., 2], ddof).astype(arr.dtype))
    if outs is not None:
        np.copyto(outs[0], vals)
        vals = outs[0]
    result = finish("ulcer_index", (vals,), ax, out, ctx)
    return (result, st) if return_state else result


def rolling_max_drawdown(
    x: Any,
    window: int,
    *,
    min_periods: Any = None,
    axis: Any = None,
    out: Any = None,
    nan: str = "skip",
    state: Any = None,
    return_state: bool = False,
) -> Any:
    """Max drawdown inside each trailing window of ``window`` bars.

    pandas ``rolling(window, min_periods)`` alignment: ``r[i]`` covers bars
    ``i - window + 1 .. i``; NaN unless the window holds at least
    ``min_periods`` (default ``window``) non-NaN bars.  Semantics:
    :func:`tradekernels.scans.reference.rolling_max_drawdown`.  Bit-exact
    (also on zero, negative and infinite prices).  O(1) amortised per bar
    whatever the window on positive prices; a window holding a zero, negative
    or infinite price is recomputed (O(window)).

    ``window`` and ``min_periods`` are one integer each for every series (the raw
    gufunc ``tradekernels.ufuncs.rolling_max_drawdown(x, window, min_periods)``
    broadcasts per-series windows).

    ``state=`` / ``return_state=True``: chunks.  The state
    (``State("rolling_max_drawdown/<window>")``,
    :func:`tradekernels._state.rolling_layout`) holds the number of bars seen
    and the last ``window - 1`` prices: a chunk is computed as the batch over
    those prices then the chunk (the windows of its bars are the batch
    windows), so the chunks' results, concatenated, are the batch result.
    The window must be the state's.  Live: :class:`tradekernels.stream.
    RollingMaxDrawdown`.  ``nan=``: the NaN policy (with ``state=``, its
    carry is part of the state, as for ``drawdown``).
    """
    name = "rolling_max_drawdown"
    k = _registry.get(name)
    window, mp = window_args(name, window, min_periods)
    arr, ax, ctx = prepare(name, x, axis)
    ax_n = ax + arr.ndim if ax < 0 else ax
    if not 0 <= ax_n < arr.ndim:
        raise np.exceptions.AxisError(ax, arr.ndim, msg_prefix=f"tradekernels.{name}")
    if state is None and not return_state:
        arr = apply_nan_policy(name, arr, ax_n, nan)
        return finish(name, _rolling_batch(k, arr, ax_n, out, window, mp), ax, out, ctx)
    sname = f"{name}/{int(window)}"
    arr, sv, carry = split_policy_state(sname, arr, ax_n, nan, state)
    a = np.moveaxis(arr, ax_n, -1)
    lead, n = a.shape[:-1], a.shape[-1]
    try:
        sv = np.broadcast_to(sv, lead + sv.shape[-1:])
    except ValueError:
        raise ValueError(
            f"tradekernels.{name}: the state (lead shape {sv.shape[:-1]}) must broadcast to the input's "
            f"series {lead}"
        ) from None
    outs = _normalize_out(name, k, arr, ax_n, out, None)  # the batch call's out= rules
    seen = np.unique(sv[..., 0])
    if seen.size > 1:
        raise ValueError(f"tradekernels.{name}: the series of one state must have seen as many bars")
    s0 = float(seen[0]) if seen.size else 0.0
    if not (0 <= s0 <= 2.0**53 and s0 == int(s0)):
        raise ValueError(f"tradekernels.{name}: the state's bar count must be a whole number >= 0, got {s0}")
    head = int(min(s0, window - 1))
    ext = np.concatenate([sv[..., sv.shape[-1] - head :].astype(arr.dtype), a], axis=-1)
    res = _rolling_batch(k, ext, ext.ndim - 1, None, window, mp)[0][..., head:]
    r = np.moveaxis(res, -1, ax_n)
    if outs is not None:
        np.copyto(outs[0], r)
        r = outs[0]
    result = finish(name, (r,), ax, out, ctx)
    pad = np.full(lead + (window - 1 - head,), np.nan)
    full = np.concatenate([pad, ext.astype(np.float64)], axis=-1)
    new = np.concatenate([np.full(lead + (1,), s0 + n), full[..., full.shape[-1] - (window - 1) :]], axis=-1)
    return (result, join_policy_state(sname, nan, new, carry)) if return_state else result


def _rolling_batch(k: Any, arr: np.ndarray, ax_n: int, out: Any, window: int, mp: int) -> Tuple[np.ndarray]:
    """The gufunc (or the twin, per the backend) on ``arr`` along ``ax_n``."""
    name = k.name
    outs = _normalize_out(name, k, arr, ax_n, out, None)
    uf = getattr(ufuncs, name)
    w, m = np.int64(window), np.int64(mp)

    def native():
        kw = {"axes": [(ax_n,), (), (), (ax_n,)]}
        if outs is not None:
            kw["out"] = outs
        with np.errstate(all="ignore"):
            return (uf(arr, w, m, **kw),)

    def reference():
        a = np.moveaxis(arr, ax_n, -1)
        res = _backend.lanes(lambda v: k.reference(v, window, mp), [a], [np.dtype(arr.dtype.char)], [0])
        r = np.moveaxis(res[0], -1, ax_n)
        if outs is not None and _backend.get_backend() == "reference":
            np.copyto(outs[0], r, casting="same_kind")
            return (outs[0],)
        return (r,)

    return _backend.dispatch(native, reference, lambda p, q: _backend.compare(name, p, q, k.ulps))


ulcer_index.__doc__ = (ulcer_index.__doc__ or "") + _STATE_DOC
ulcer_index.__module__ = rolling_max_drawdown.__module__ = drawdowns.__module__ = "tradekernels"
