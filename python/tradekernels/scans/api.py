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
from typing import Any, Callable, Dict

from .. import _registry
from .._api import Episode, call

__all__ = ["Episode"] + [k.name for k in _registry.KERNELS]

_STATE_DOC = """

    ``state=``: None (start of the series) or the :class:`tradekernels.State`
    returned by the previous call on the preceding chunk; ``return_state=True``
    returns ``(result, state)``.  Chunked calls give, concatenated, the batch
    result bit for bit."""


def _tolerance(k: _registry.Kernel) -> str:
    return "Bit-exact." if k.ulps == 0 else f"Within {k.ulps} ulp."


_TEMPLATE = """
def {name}({arg}: Any, *, axis: Any = None, out: Any = None, state: Any = None,
        return_state: bool = False) -> Any:
    return call({name!r}, {arg}, axis, out, state, return_state)
"""


def _make(k: _registry.Kernel) -> Callable[..., Any]:
    """``k``'s wrapper: a plain function (written from a template, as
    :mod:`dataclasses` writes ``__init__``), so it costs one call and
    introspects like a hand-written one."""
    arg = next(iter(inspect.signature(k.reference).parameters))
    ns: Dict[str, Any] = {"Any": Any, "call": call}
    exec(_TEMPLATE.format(name=k.name, arg=arg), ns)  # noqa: S102 - names come from the C table
    fn = ns[k.name]
    fn.__module__ = "tradekernels"
    fn.__doc__ = (
        f"{k.doc.split(chr(10) * 2)[0]}\n\n    Semantics: :func:`tradekernels.scans.reference."
        f"{k.reference_name}`.  {_tolerance(k)}" + _STATE_DOC
    )
    return fn


_FUNCS: Dict[str, Callable[..., Any]] = {k.name: _make(k) for k in _registry.KERNELS}
globals().update(_FUNCS)
