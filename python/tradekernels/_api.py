"""The thin public API: array-likes and pandas objects in, the same kind out.

* ndarray / list: the kernel runs along ``axis`` (default -1, the NumPy
  gufunc convention: rows are symbols, columns are bars).
* pandas Series: the result is a Series with the same index and name.
* pandas DataFrame: the kernel runs down each column (``axis=0``, time is
  the index; ``axis=1`` runs along rows); index and columns are kept.
* dtypes: float32 stays float32 (float16 becomes float32); float64 and
  every integer or bool dtype compute as float64.  Complex, string, object
  and datetime inputs raise TypeError.
"""

from __future__ import annotations

import sys
from typing import Any, NamedTuple, Optional, Tuple

import numpy as np

from . import _backend, _registry

__all__ = [
    "Episode",
    "simple_returns",
    "log_returns",
    "cumulative_returns",
    "drawdown",
    "max_drawdown",
    "drawdown_episode",
    "underwater_bars",
]


class Episode(NamedTuple):
    """Result of :func:`drawdown_episode`: positional indices and the depth."""

    peak: Any
    trough: Any
    recovery: Any
    depth: Any


def _float_array(name: str, values: Any) -> np.ndarray:
    a = np.asarray(values)
    kind = a.dtype.kind
    if kind == "f":
        if a.dtype.itemsize < 4:
            a = a.astype(np.float32)
        elif a.dtype.itemsize > 8:
            a = a.astype(np.float64)
    elif kind in "biu":
        a = a.astype(np.float64)
    else:
        raise TypeError(
            f"tradekernels.{name}: expected real numbers (float, int or bool), got dtype {a.dtype}"
        )
    if a.ndim == 0:
        raise ValueError(f"tradekernels.{name}: expected at least 1 dimension (the time axis), got a scalar")
    return a


def _pandas_values(pd: Any, obj: Any) -> Any:
    """The values of a Series/DataFrame, with nullable (masked) dtypes as float64 + NaN."""
    dtypes = [obj.dtype] if isinstance(obj, pd.Series) else list(obj.dtypes)
    if any(isinstance(d, pd.api.extensions.ExtensionDtype) and d.kind in "biuf" for d in dtypes):
        return obj.to_numpy(dtype=np.float64, na_value=np.nan)
    return obj.to_numpy()


def _normalize_out(out: Any) -> Optional[Tuple[np.ndarray, ...]]:
    if out is None:
        return None
    return tuple(out) if isinstance(out, tuple) else (out,)


def _call(name: str, x: Any, axis: Any, out: Any) -> Any:
    k = _registry.get(name)
    pd = sys.modules.get("pandas")
    frame = series = None
    if pd is not None and isinstance(x, pd.DataFrame):
        frame = x
        axis = {None: 0, 0: 0, 1: 1, "index": 0, "columns": 1}.get(axis, axis)
        if axis not in (0, 1):
            raise ValueError(f"tradekernels.{name}: axis for a DataFrame must be 0 or 1, got {axis!r}")
        arr = _float_array(name, _pandas_values(pd, x))
    elif pd is not None and isinstance(x, pd.Series):
        series = x
        axis = -1 if axis is None else axis
        arr = _float_array(name, _pandas_values(pd, x))
    else:
        axis = -1 if axis is None else axis
        arr = _float_array(name, x)
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"tradekernels.{name}: axis must be an integer, got {axis!r}")
    res = _backend.run(k, arr, int(axis), _normalize_out(out))
    if frame is not None:
        if k.scan:
            return pd.DataFrame(res[0], index=frame.index, columns=frame.columns)
        labels = frame.columns if axis == 0 else frame.index
        if len(res) == 1:
            return pd.Series(res[0], index=labels, name=name)
        return pd.DataFrame(dict(zip(Episode._fields, res)), index=labels)
    if series is not None:
        if k.scan:
            return pd.Series(res[0], index=series.index, name=series.name)
        return res[0][()] if len(res) == 1 else Episode(*(r[()] for r in res))
    if k.scan or len(res) == 1:
        return res[0] if (out is not None or res[0].ndim) else res[0][()]
    return Episode(*(r if r.ndim else r[()] for r in res))


def simple_returns(x: Any, *, axis: Any = None, out: Any = None) -> Any:
    """Simple returns ``x[i] / x[i-1] - 1`` along the time axis (first element NaN).

    Semantics: :func:`tradekernels.reference.simple_returns` (pandas
    ``pct_change(fill_method=None)``).  Bit-exact.
    """
    return _call("simple_returns", x, axis, out)


def log_returns(x: Any, *, axis: Any = None, out: Any = None) -> Any:
    """Log returns ``log(x[i] / x[i-1])`` along the time axis (first element NaN).

    Semantics: :func:`tradekernels.reference.log_returns`.  Within 1 ulp.
    """
    return _call("log_returns", x, axis, out)


def cumulative_returns(r: Any, *, axis: Any = None, out: Any = None) -> Any:
    """Compounded returns ``prod(1 + r) - 1`` of a return series; NaN returns count as 0.

    Semantics: :func:`tradekernels.reference.cumulative_returns` (empyrical
    ``cum_returns``).  Bit-exact.
    """
    return _call("cumulative_returns", r, axis, out)


def drawdown(x: Any, *, axis: Any = None, out: Any = None) -> Any:
    """Drawdown ``x / running_max(x) - 1`` of a price series; NaN stays NaN.

    Semantics: :func:`tradekernels.reference.drawdown` (pandas
    ``s / s.cummax() - 1``).  Bit-exact.
    """
    return _call("drawdown", x, axis, out)


def max_drawdown(x: Any, *, axis: Any = None, out: Any = None) -> Any:
    """Maximum drawdown (a number <= 0) of a price series; NaN ignored, all-NaN gives NaN.

    Semantics: :func:`tradekernels.reference.max_drawdown`.  Bit-exact.
    A DataFrame gives a Series indexed by its columns.
    """
    return _call("max_drawdown", x, axis, out)


def drawdown_episode(x: Any, *, axis: Any = None, out: Any = None) -> Any:
    """Peak, trough and recovery positions (int, -1 if none) and depth of the maximum drawdown.

    Semantics: :func:`tradekernels.reference.drawdown_episode`.  Returns an
    :class:`Episode`; a DataFrame gives a DataFrame with one row per column.
    """
    return _call("drawdown_episode", x, axis, out)


def underwater_bars(x: Any, *, axis: Any = None, out: Any = None) -> Any:
    """Bars since the price was last at or above its running peak (int64, -1 before any price).

    Semantics: :func:`tradekernels.reference.underwater_bars`.
    """
    return _call("underwater_bars", x, axis, out)
