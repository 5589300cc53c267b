"""The thin public API's input normaliser: array-likes and pandas objects in, the same kind out.

* ndarray / list: the kernel runs along ``axis`` (default -1, the NumPy
  gufunc convention: rows are symbols, columns are bars).
* pandas Series: the result is a Series with the same index and name.
* pandas DataFrame: the kernel runs down each column (``axis=0``, time is
  the index; ``axis=1`` runs along rows); index and columns are kept.
* polars Series (optional dependency): the result is a polars Series with
  the same name (reductions: a scalar / :class:`Episode`).  The values are
  taken with ``Series.to_numpy()`` (zero-copy when polars allows: a numeric
  Series without nulls); **nulls become NaN** and follow the kernels' NaN
  rules, so the output holds NaN, never null.
* dtypes: float32 stays float32 (float16 becomes float32); float64 and
  every integer or bool dtype compute as float64.  Complex, string, object
  and datetime inputs raise TypeError.
* carried state: every kernel takes ``state=`` (None: start of the series,
  or the :class:`~tradekernels.State` returned by a previous call) and
  ``return_state=True`` returns ``(result, state)``; running a series in
  chunks this way gives, concatenated, bit for bit the batch result (see
  :mod:`tradekernels._state` for the state layouts).
"""

from __future__ import annotations

import sys
from typing import Any, NamedTuple, Optional, Tuple

import numpy as np

from . import _backend, _registry
from ._state import State, as_state_vector

__all__ = ["Episode", "State", "call", "prepare", "finish", "NAN_POLICIES", "apply_nan_policy"]

#: The NaN policies of the drawdown family (``nan=``); see :func:`apply_nan_policy`.
NAN_POLICIES = ("skip", "ffill", "zero_return")
#: The kernels that take ``nan=``.
NAN_POLICY_KERNELS = ("drawdown", "max_drawdown", "drawdowns", "rolling_max_drawdown", "ulcer_index")


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


def _polars_values(name: str, pl: Any, x: Any) -> Any:
    """A polars Series as a NumPy array (nulls become NaN; zero-copy when polars allows)."""
    if not (x.dtype.is_numeric() or x.dtype == pl.Boolean):
        raise TypeError(f"tradekernels.{name}: expected a numeric polars Series, got dtype {x.dtype}")
    if x.dtype == pl.Boolean or (x.dtype.is_integer() and x.null_count()):
        x = x.cast(pl.Float64)
    return x.to_numpy()


def prepare(name: str, x: Any, axis: Any) -> Tuple[np.ndarray, int, Tuple[Any, ...]]:
    """``x`` as a float array, the time axis, and what :func:`finish` needs to give
    the result back as the kind of ``x`` (the conversion rules above)."""
    pd = sys.modules.get("pandas")
    pl = sys.modules.get("polars")
    frame = series = pseries = None
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
    elif pl is not None and isinstance(x, pl.Series):
        pseries = x
        axis = -1 if axis is None else axis
        arr = _float_array(name, _polars_values(name, pl, x))
    elif pl is not None and isinstance(x, (pl.DataFrame, pl.LazyFrame)):
        raise TypeError(
            f"tradekernels.{name}: polars DataFrames are not taken whole; apply the kernel per "
            f"column, e.g. df.select(pl.all().map_batches(tradekernels.{name}))"
        )
    else:
        axis = -1 if axis is None else axis
        arr = _float_array(name, x)
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"tradekernels.{name}: axis must be an integer, got {axis!r}")
    return arr, int(axis), (frame, series, pseries, pd, pl)


def apply_nan_policy(name: str, arr: np.ndarray, axis: int, nan: str, stateful: bool = False) -> np.ndarray:
    """The drawdown family's NaN policy, as an exact pre-pass on the prices
    ``arr`` (time on ``axis``); the kernels then run unchanged.  The twin of
    each policy is :func:`tradekernels.scans.reference.apply_nan_policy`.

    * ``"skip"`` (default): ``arr`` itself.  NaN bars give NaN drawdowns and
      are skipped by the reductions (pandas ``x / x.cummax() - 1``; vectorbt
      on prices).
    * ``"ffill"``: every NaN takes the last non-NaN price before it (leading
      NaNs stay NaN): quantstats / ffn, which forward-fill prices.  Values
      are copied, so this is exact.
    * ``"zero_return"``: the price rebuilt from its simple returns with NaN
      returns counted as 0 (empyrical ``cum_returns`` / vectorbt from
      returns): ``y = x0 * cumprod(1 + r)``, ``r[i] = x[i] / x[i-1] - 1``
      (NaN when either price is NaN, then 0; ``r[0] = 0``), ``x0`` the first
      non-NaN price, computed in float64 and rounded once to the input's
      type.  A price after a NaN is lost (its return is NaN).  All-NaN lanes
      stay NaN.
    """
    if nan == "skip" or nan is None:
        return arr
    if nan not in NAN_POLICIES:
        raise ValueError(f"tradekernels.{name}: nan must be one of {NAN_POLICIES}, got {nan!r}")
    if stateful:
        raise ValueError(f"tradekernels.{name}: nan={nan!r} does not take state= / return_state= "
                         "(a chunk would need the previous chunk's last price); use nan='skip'")
    ax = axis + arr.ndim if axis < 0 else axis
    if not 0 <= ax < arr.ndim:
        raise np.exceptions.AxisError(axis, arr.ndim)
    a = np.moveaxis(arr, ax, -1)
    n = a.shape[-1]
    if n == 0:
        return arr
    valid = ~np.isnan(a)
    if nan == "ffill":
        pos = np.where(valid, np.arange(n), 0)
        np.maximum.accumulate(pos, axis=-1, out=pos)
        out = np.take_along_axis(a, pos, axis=-1)
    else:
        x = a.astype(np.float64)
        first = np.take_along_axis(x, np.argmax(valid, axis=-1)[..., None], axis=-1)
        g = np.empty_like(x)
        g[..., 0] = 1.0
        with np.errstate(all="ignore"):  # IEEE results (inf, NaN), as the kernels
            r = x[..., 1:] / x[..., :-1] - 1.0
            np.add(np.where(np.isnan(r), 0.0, r), 1.0, out=g[..., 1:])
            np.cumprod(g, axis=-1, out=g)
            out = (g * first).astype(arr.dtype)
    return np.moveaxis(out, -1, ax)


def finish(name: str, res: Tuple[np.ndarray, ...], axis: int, out: Any, ctx: Tuple[Any, ...]) -> Any:
    """The outputs ``res`` of kernel ``name`` as the kind of input :func:`prepare` saw."""
    return _wrap(_registry.get(name), name, res, axis, out, *ctx)


def call(name: str, x: Any, axis: Any, out: Any, state: Any = None, return_state: bool = False,
         nan: str = "skip") -> Any:
    """Run scan kernel ``name`` on ``x`` (the conversion rules above, then the NaN
    policy ``nan``); the one entry of every generated wrapper."""
    k = _registry.get(name)
    arr, axis, ctx = prepare(name, x, axis)
    arr = apply_nan_policy(name, arr, axis, nan, state is not None or return_state)
    if state is None and not return_state:
        res = _backend.run(k, arr, axis, _normalize_out(out))
        new_state = None
    else:
        res, st = _backend.run_state(k, arr, axis, _normalize_out(out), as_state_vector(name, state))
        new_state = State(name, st)
    result = _wrap(k, name, res, axis, out, *ctx)
    return (result, new_state) if return_state else result


def _wrap(k, name, res, axis, out, frame, series, pseries, pd, pl) -> Any:
    # The results are fresh arrays (or the caller's out=): pandas may wrap them
    # without the defensive copy it makes of ndarray input by default.
    if frame is not None:
        if k.scan:
            return pd.DataFrame(res[0], index=frame.index, columns=frame.columns, copy=False)
        labels = frame.columns if axis == 0 else frame.index
        if len(res) == 1:
            return pd.Series(res[0], index=labels, name=name, copy=False)
        return pd.DataFrame(dict(zip(Episode._fields, res)), index=labels)
    if series is not None:
        if k.scan:
            return pd.Series(res[0], index=series.index, name=series.name, copy=False)
        return res[0][()] if len(res) == 1 else Episode(*(r[()] for r in res))
    if pseries is not None:
        if k.scan:
            return pl.Series(pseries.name, res[0])
        return res[0][()] if len(res) == 1 else Episode(*(r[()] for r in res))
    if k.scan or len(res) == 1:
        return res[0] if (out is not None or res[0].ndim) else res[0][()]
    return Episode(*(r if r.ndim else r[()] for r in res))
