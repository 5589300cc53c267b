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
* numpy masked arrays (and lists holding them or ``np.ma.masked``): masked
  entries are NaN for the kernels, as pandas NA and polars null are; a scan
  returns a masked array with the input's mask, a reduction plain values.
* dtypes: float32 stays float32 (float16 becomes float32); float64 and
  every integer or bool dtype compute as float64 -- by the logical dtype,
  so pandas ``Float32`` / ``float[pyarrow]`` and masked float32 stay float32,
  ``Int64`` / ``boolean`` with NA compute as float64.  Complex, string,
  object and datetime inputs raise TypeError.
* ``out=``: real arrays of exactly the result's shape whose dtype holds the
  result under NumPy's "safe" casting (else TypeError / ValueError naming
  ``out``); the raw ufuncs keep NumPy's rules.
* carried state: every kernel takes ``state=`` (None: start of the series,
  or the :class:`~tradekernels.State` returned by a previous call) and
  ``return_state=True`` returns ``(result, state)``; running a series in
  chunks this way gives, concatenated, bit for bit the batch result (see
  :mod:`tradekernels._state` for the state layouts).  The state's lead shape
  (one state per series) and the input's (its shape without the time axis)
  broadcast by NumPy's rules, on every backend: the result has the broadcast
  lead shape, and a scan's time axis keeps its position counted from the end
  (``x`` (4, n) with a state of lead shape (3, 4): (3, 4, n)).  pandas and
  polars input keep their labels, so there the state may not add series.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

import numpy as np

from . import _backend, _registry
from . import ufuncs as _ufuncs
from ._state import POLICY_LAYOUTS, State, as_state_vector

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


def compute_dtype(dtype: Any) -> Optional[np.dtype]:
    """The float dtype a kernel computes in for input of (NumPy) ``dtype``: float32 for
    float16/float32, float64 for the other real dtypes; None for anything else."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return np.dtype(np.float32) if dtype.itemsize <= 4 else np.dtype(np.float64)
    if dtype.kind in "biu":
        return np.dtype(np.float64)
    return None


def _float_array(name: str, values: Any) -> np.ndarray:
    try:
        a = np.asarray(values)
    except ValueError as e:  # a ragged nested sequence
        raise ValueError(f"tradekernels.{name}: the input is not an array of numbers ({e})") from None
    dtype = compute_dtype(a.dtype)
    if dtype is None:
        raise TypeError(
            f"tradekernels.{name}: expected real numbers (float, int or bool), got dtype {a.dtype}"
        )
    if a.dtype != dtype:
        a = a.astype(dtype)
    if a.ndim == 0:
        raise ValueError(f"tradekernels.{name}: expected at least 1 dimension (the time axis), got a scalar")
    return a


def _holds_masked(seq: Any) -> bool:
    return any(
        isinstance(v, np.ma.MaskedArray) or (isinstance(v, (list, tuple)) and _holds_masked(v)) for v in seq
    )


def _masked_from_nested(seq: Any) -> np.ma.MaskedArray:
    """A (nested) list holding masked arrays or ``np.ma.masked`` as one masked array, bottom-up
    (``np.ma.asarray`` loses the masks below the first level, and warns)."""
    items = []
    for v in seq:
        if v is np.ma.masked:
            v = np.ma.masked_array(np.nan, mask=True)
        elif isinstance(v, (list, tuple)) and _holds_masked(v):
            v = _masked_from_nested(v)
        items.append(v)
    return np.ma.stack(items)


def masked_values(values: Any) -> Tuple[Any, Optional[np.ndarray]]:
    """A numpy masked array as ``(data with masked entries NaN, mask)``; other input as
    ``(values, None)``.  The data keeps the float dtype :func:`compute_dtype` gives."""
    if isinstance(values, (list, tuple)) and _holds_masked(values):
        values = _masked_from_nested(values)  # rows that are masked arrays, np.ma.masked entries
    if not isinstance(values, np.ma.MaskedArray):
        return values, None
    mask = np.ma.getmaskarray(values)
    data = np.ma.getdata(values)
    dtype = compute_dtype(data.dtype)
    if dtype is None:  # let the caller's dtype check name it
        return data, mask
    data = data.astype(dtype, copy=True)
    data[mask] = np.nan
    return data, mask


def pandas_values(pd: Any, obj: Any) -> Any:
    """The values of a Series/DataFrame as a NumPy array, missing values (NA, None, NaN)
    as NaN.  Extension dtypes (nullable ``Float32``/``Int64``/``boolean``, ``float[pyarrow]``
    ...) convert to the float dtype of their NumPy counterpart (:func:`compute_dtype`), so
    ``Float32`` and ``float[pyarrow]`` stay float32 as float32 does."""
    if isinstance(obj, pd.Series) and isinstance(obj.dtype, np.dtype):
        return obj.to_numpy()  # a NumPy dtype: its values, no copy
    if isinstance(obj, pd.DataFrame):
        # No per-column work for the common frame: its values (a view of a
        # single block, no copy) are already real numbers.  Only frames whose
        # values come out otherwise (object: extension columns holding NA)
        # take the per-column dtype path below.
        values = obj.to_numpy()
        if values.dtype.kind in "biuf":
            return values
    dtypes = [obj.dtype] if isinstance(obj, pd.Series) else list(obj.dtypes)
    ext_type = pd.api.extensions.ExtensionDtype
    if not any(isinstance(d, ext_type) for d in dtypes):
        return obj.to_numpy()
    np_dtypes = []
    for d in dtypes:
        nd = getattr(d, "numpy_dtype", d) if isinstance(d, ext_type) else d
        if isinstance(d, pd.SparseDtype):
            nd = d.subtype
        try:
            nd = np.dtype(nd)
        except TypeError:
            return obj.to_numpy()  # not numeric: the dtype check names it
        if compute_dtype(nd) is None:
            return obj.to_numpy()
        np_dtypes.append(nd)
    return obj.to_numpy(dtype=compute_dtype(np.result_type(*np_dtypes)), na_value=np.nan)


def _normalize_out(
    name: str, k: Any, arr: np.ndarray, axis: int, out: Any, state: Optional[np.ndarray]
) -> Optional[Tuple[np.ndarray, ...]]:
    """``out=`` as a tuple of ndarrays (a masked array's data), each of a real dtype able to
    hold its output under NumPy's "safe" casting (int64 counts do not go into int8, float64
    not into float32): a TypeError naming the argument otherwise; and of exactly the
    result's shape (ValueError).  (The raw ufuncs keep NumPy's own rules: "same_kind"
    casting, and an ``out=`` with more leading dimensions broadcasts the call.)"""
    if out is None:
        return None
    ax = axis + arr.ndim if axis < 0 else axis
    if not 0 <= ax < arr.ndim:
        raise np.exceptions.AxisError(axis, arr.ndim, msg_prefix=f"tradekernels.{name}")
    lead = arr.shape[:ax] + arr.shape[ax + 1 :]
    if state is not None:
        lead = _backend.state_lead(name, arr, axis, state)
    if k.scan:  # the time axis at its position from the end
        pos = len(lead) + 1 + (ax - arr.ndim)
        shape = lead[:pos] + (arr.shape[ax],) + lead[pos:]
    else:
        shape = lead
    if isinstance(out, list):  # NumPy's rule: several outputs go in a tuple
        raise TypeError(f"tradekernels.{name}: out= must be an array or a tuple of arrays, got a list")
    outs = tuple(out) if isinstance(out, tuple) else (out,)
    if len(outs) != len(k.outputs):
        raise ValueError(f"tradekernels.{name}: out= needs {len(k.outputs)} arrays, got {len(outs)}")
    res: List[Any] = []
    for j, (o, kind) in enumerate(zip(outs, k.outputs)):
        label = "out=" if len(outs) == 1 else f"out[{j}]"
        if o is None and len(outs) > 1:  # NumPy's "allocate this one"
            res.append(None)
            continue
        if not isinstance(o, np.ndarray):
            raise TypeError(f"tradekernels.{name}: {label} must be a NumPy array, got {type(o).__name__}")
        want = arr.dtype if kind == "f" else np.dtype(np.int64 if kind == "i" else np.bool_)
        if o.dtype.kind not in "biuf" or not np.can_cast(want, o.dtype, "safe"):
            raise TypeError(
                f"tradekernels.{name}: {label} has dtype {o.dtype}, which cannot hold the result "
                f"(dtype {want}) without loss; pass an array of dtype {want}"
            )
        if o.shape != shape:
            raise ValueError(
                f"tradekernels.{name}: {label} has shape {o.shape}, the result has shape {shape}"
            )
        if not o.flags.writeable:
            raise ValueError(f"tradekernels.{name}: {label} is read-only")
        res.append(np.ma.getdata(o))
    return tuple(res)


def _polars_values(name: str, pl: Any, x: Any) -> Any:
    """A polars Series as a NumPy array (nulls become NaN; zero-copy when polars allows)."""
    if not (x.dtype.is_numeric() or x.dtype == pl.Boolean):
        raise TypeError(f"tradekernels.{name}: expected a numeric polars Series, got dtype {x.dtype}")
    if x.dtype == pl.Boolean or x.dtype == pl.Decimal or (x.dtype.is_integer() and x.null_count()):
        x = x.cast(pl.Float64)  # (Decimal: NumPy has no such dtype; each value rounded once)
    return x.to_numpy()


def _read_values(name: str, x: Any, read: Any) -> np.ndarray:
    """``read()`` (the NumPy values of a pandas / polars object) as a float array; a dtype
    the container cannot give as numbers (a pyarrow dictionary, polars Int128: their own
    exception types) is a TypeError naming it."""
    try:
        values = read()
    except (TypeError, ValueError):
        raise
    except Exception as e:
        dtypes = getattr(x, "dtypes", None) if not hasattr(x, "dtype") else x.dtype
        raise TypeError(
            f"tradekernels.{name}: cannot read values of dtype {dtypes} as numbers ({type(e).__name__}: {e})"
        ) from e
    return _float_array(name, values)


def prepare(name: str, x: Any, axis: Any) -> Tuple[np.ndarray, int, Tuple[Any, ...]]:
    """``x`` as a float array, the time axis, and what :func:`finish` needs to give
    the result back as the kind of ``x`` (the conversion rules above)."""
    pd = sys.modules.get("pandas")
    pl = sys.modules.get("polars")
    frame = series = pseries = mask = None
    if pd is not None and isinstance(x, pd.DataFrame):
        frame = x
        axis = {None: 0, 0: 0, 1: 1, "index": 0, "columns": 1}.get(axis, axis)
        if axis not in (0, 1):
            raise ValueError(f"tradekernels.{name}: axis for a DataFrame must be 0 or 1, got {axis!r}")
        arr = _read_values(name, x, lambda: pandas_values(pd, x))
    elif pd is not None and isinstance(x, pd.Series):
        series = x
        axis = -1 if axis is None or axis == "index" else axis  # pandas' name of a Series' one axis
        arr = _read_values(name, x, lambda: pandas_values(pd, x))
    elif pl is not None and isinstance(x, pl.Series):
        pseries = x
        axis = -1 if axis is None else axis
        arr = _read_values(name, x, lambda: _polars_values(name, pl, x))
    elif pl is not None and isinstance(x, (pl.DataFrame, pl.LazyFrame)):
        raise TypeError(
            f"tradekernels.{name}: polars DataFrames are not taken whole; apply the kernel per "
            f"column, e.g. df.select(pl.all().map_batches(tradekernels.{name}))"
        )
    else:
        axis = -1 if axis is None else axis
        data, mask = masked_values(x)
        arr = _float_array(name, data)
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"tradekernels.{name}: axis must be an integer, got {axis!r}")
    if arr.ndim and not -arr.ndim <= axis < arr.ndim:
        raise np.exceptions.AxisError(int(axis), arr.ndim, msg_prefix=f"tradekernels.{name}")
    return arr, int(axis), (frame, series, pseries, pd, pl, mask)


def ulcer_ddof(sumsq: Any, count: Any, ddof: int) -> np.ndarray:
    """``ulcer_index`` with ``ddof != 0`` from its state's ``sumsq`` and ``count``
    (arrays or floats): ``sqrt(sumsq / (count - ddof))``, one subtraction, one
    division and one ``sqrt`` in float64 (IEEE, so bit-exact), NaN where
    ``count - ddof <= 0``.  The one formula of :func:`tradekernels.ulcer_index`
    and of ``tradekernels.stream.UlcerIndex(ddof=)``."""
    m = count - float(ddof)
    with np.errstate(all="ignore"):
        return np.where(m > 0, np.sqrt(sumsq / np.where(m > 0, m, 1.0)), np.nan)


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
        raise ValueError(
            f"tradekernels.{name}: nan={nan!r} with state= / return_state= goes through "
            "apply_nan_policy_chunk (the policy's carry is part of the state)"
        )
    ax = axis + arr.ndim if axis < 0 else axis
    if not 0 <= ax < arr.ndim:
        raise np.exceptions.AxisError(axis, arr.ndim, msg_prefix=f"tradekernels.{name}")
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


def apply_nan_policy_chunk(
    name: str, arr: np.ndarray, axis: int, nan: str, carry: np.ndarray, first_known: bool = False
) -> Tuple[np.ndarray, np.ndarray]:
    """:func:`apply_nan_policy` on one chunk of a series, from the policy's
    ``carry`` (float64, ``lead + (k,)`` broadcasting with the input's lanes;
    layouts: :data:`tradekernels._state.POLICY_LAYOUTS`): ``(prices, carry
    after the chunk)``.  The chunks' prices, concatenated, are the batch
    prices bit for bit (twin:
    :func:`tradekernels.scans.reference.apply_nan_policy_chunk`):

    * ``"ffill"``: a NaN takes the last non-NaN price, looked for in the
      carry before the chunk (values are copied);
    * ``"zero_return"``: the return of the chunk's first bar is taken against
      the carried last price, the product continues from the carried one
      (the same multiplications in the same order as ``numpy.cumprod`` over
      the whole series) and ``x0`` is the carried first price, or the chunk's
      first non-NaN one.  In the batch a bar before the first price is
      ``x0 * 1``, with ``x0`` found later: a chunk of a series that has had
      no price yet and has none either cannot be given, and raises
      ValueError (drop the leading NaN bars, or use ``nan="ffill"``) --
      unless ``first_known``: the caller has seen the whole series and put its
      first price (the batch's ``x0``; for an all-NaN series its first bar)
      in the carry, which is then taken as it is (``tradekernels.dask``).
    """
    if nan not in POLICY_LAYOUTS:
        raise ValueError(f"tradekernels.{name}: nan must be one of {NAN_POLICIES}, got {nan!r}")
    ax = axis + arr.ndim if axis < 0 else axis
    if not 0 <= ax < arr.ndim:
        raise np.exceptions.AxisError(axis, arr.ndim, msg_prefix=f"tradekernels.{name}")
    a = np.moveaxis(arr, ax, -1)
    n = a.shape[-1]
    lead = a.shape[:-1]
    try:
        c = np.broadcast_to(carry, lead + carry.shape[-1:]).astype(np.float64)
    except ValueError:
        raise ValueError(
            f"tradekernels.{name}: with nan={nan!r} the state (lead shape {carry.shape[:-1]}) must "
            f"broadcast to the input's series {lead}"
        ) from None
    if nan == "ffill":
        ext = np.concatenate([c[..., :1], a.astype(np.float64)], axis=-1)
        valid = ~np.isnan(ext)
        pos = np.where(valid, np.arange(n + 1), 0)
        np.maximum.accumulate(pos, axis=-1, out=pos)
        filled = np.take_along_axis(ext, pos, axis=-1)
        out = filled[..., 1:].astype(arr.dtype)
        new = filled[..., -1:].copy()
    else:
        x = a.astype(np.float64)
        prev, prod, first = c[..., 0:1], c[..., 1:2], c[..., 2:3]
        valid = ~np.isnan(x)
        has = valid.any(axis=-1, keepdims=True)
        chunk_first = np.take_along_axis(x, np.argmax(valid, axis=-1)[..., None], axis=-1) if n else prev
        x0 = first if first_known else np.where(np.isnan(first), np.where(has, chunk_first, np.nan), first)
        if n and not first_known and np.isnan(x0).any():
            raise ValueError(
                f"tradekernels.{name}: nan='zero_return' with state=: a chunk of a series that has had "
                "no price yet has none either (its bars take the first price, still to come); drop "
                "the leading NaN bars, or use nan='ffill'"
            )
        g = np.empty(lead + (n + 1,))
        g[..., :1] = prod
        with np.errstate(all="ignore"):  # IEEE results (inf, NaN), as the kernels
            r = x / np.concatenate([prev, x[..., :-1]], axis=-1) - 1.0
            np.add(np.where(np.isnan(r), 0.0, r), 1.0, out=g[..., 1:])
            np.cumprod(g, axis=-1, out=g)
            out = (g[..., 1:] * x0).astype(arr.dtype)
        last = x[..., -1:] if n else prev
        new = np.concatenate([last, g[..., -1:], x0], axis=-1)
    return np.moveaxis(out, -1, ax), new


def split_policy_state(
    name: str, arr: np.ndarray, axis: int, nan: str, state: Any
) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """A stateful call's NaN policy: ``(prices, the kernel's part of the state,
    the policy's carry after the chunk)``; for ``"skip"`` the carry is None and
    the state the kernel's own."""
    if nan == "skip" or nan is None:
        return arr, as_state_vector(name, state), None
    if nan not in NAN_POLICIES:
        raise ValueError(f"tradekernels.{name}: nan must be one of {NAN_POLICIES}, got {nan!r}")
    full = as_state_vector(f"{name}@{nan}", state)
    kp = full.shape[-1] - len(POLICY_LAYOUTS[nan][0])
    prices, carry = apply_nan_policy_chunk(name, arr, axis, nan, full[..., kp:])
    return prices, full[..., :kp], carry


def join_policy_state(name: str, nan: str, kernel_state: np.ndarray, carry: Optional[np.ndarray]) -> State:
    """The state to return: the kernel's, then the policy's carry (if any)."""
    if carry is None:
        return State(name, kernel_state)
    lead = np.broadcast_shapes(kernel_state.shape[:-1], carry.shape[:-1])
    ks = np.broadcast_to(kernel_state, lead + kernel_state.shape[-1:])
    cs = np.broadcast_to(carry, lead + carry.shape[-1:])
    return State(f"{name}@{nan}", np.concatenate([ks, cs], axis=-1))


def finish(name: str, res: Tuple[np.ndarray, ...], axis: int, out: Any, ctx: Tuple[Any, ...]) -> Any:
    """The outputs ``res`` of kernel ``name`` as the kind of input :func:`prepare` saw."""
    k = _registry.get(name)
    frame, series, pseries, pd, pl, mask = ctx
    if mask is not None or (
        frame is None
        and series is None
        and pseries is None
        and any(isinstance(o, np.ma.MaskedArray) for o in (out if isinstance(out, tuple) else (out,)))
    ):
        return _wrap_masked(k, res, out, mask)
    return _wrap(k, name, res, axis, out, frame, series, pseries, pd, pl)


def call(
    name: str, x: Any, axis: Any, out: Any, state: Any = None, return_state: bool = False, nan: str = "skip"
) -> Any:
    """Run scan kernel ``name`` on ``x`` (the conversion rules above, then the NaN
    policy ``nan``); the one entry of every generated wrapper."""
    k = _registry.get(name)
    arr, axis, ctx = prepare(name, x, axis)
    carry = None
    if state is None and not return_state:
        arr = apply_nan_policy(name, arr, axis, nan)
        sv = None
    else:
        arr, sv, carry = split_policy_state(name, arr, axis, nan, state)
    outs = _normalize_out(name, k, arr, axis, out, sv)
    if sv is None:
        res = _backend.run(k, arr, axis, outs)
        new_state = None
    else:
        if ctx[0] is not None or ctx[1] is not None or ctx[2] is not None:
            _same_series(name, arr, axis, sv)
        res, st = _backend.run_state(k, arr, axis, outs, sv)
        new_state = join_policy_state(name, nan, st, carry)
    result = finish(name, res, axis, out, ctx)
    return (result, new_state) if return_state else result


# --------------------------------------------------------------------------
# The fast path: the common call (float input, no out= / state= / NaN policy,
# the native backend) without the general machinery
# --------------------------------------------------------------------------
#
# A public function on a frame of 500 columns costs what the kernel costs plus
# its Python work, and right after a kernel that has streamed 10 MB through the
# caches every line of that work runs cold (pandas' public constructors cost
# 5x their warm time there).  So the common call takes the shortest road: one
# type lookup, the block's values as they are (a float64/float32 frame of one
# block is column-major: its transpose is a view), the ufunc, and the result
# wrapped without a copy by pandas' internal constructors (:func:`_series`,
# :func:`_frame`, :func:`_episode_frame`) or polars' (:func:`_polars_series`).
# Every other call -- and every input this road does not take exactly as
# :func:`prepare` would -- returns None here and goes through :func:`call`.
# The results are those :func:`call` gives, labels, names, dtypes and bits
# (tests/test_api_fast.py compares the two roads).  On the 500-column frame
# this took max_drawdown's overhead from ~1.12x of the raw ufunc to ~1.05x.

_F8, _F4 = np.dtype(np.float64), np.dtype(np.float32)
#: the ufuncs by name, read at each call (so that ``ufuncs.<name>`` stays the one used)
_UF = vars(_ufuncs)
_backend_mode = _backend._current.get


def fast(k: Tuple[str, bool, int], x: Any, axis: Any) -> Any:
    """Kernel ``k`` (``(name, scan, number of outputs)``) on ``x`` along the default axis
    (or a frame's ``axis=0``) when ``x`` is a float64/float32 ndarray, pandas frame of one
    NumPy block or Series, or polars Series, under the native backend; None otherwise
    (the caller then takes :func:`call`)."""
    handler = _FAST.get(type(x))
    if handler is None:
        handler = _learn(type(x))
        if handler is None:
            return None
    if _backend_mode() != "native":
        return None
    return handler(k, x, axis)


def _fast_array(k: Tuple[str, bool, int], x: np.ndarray, axis: Any) -> Any:
    dt = x.dtype
    if (dt is not _F8 and dt is not _F4) or not x.ndim:
        return None
    if axis is None:
        axis = -1
    elif type(axis) is not int or not -x.ndim <= axis < x.ndim:  # call() names the error
        return None
    r = _UF[k[0]](x, axis=axis)
    return Episode(*r) if k[2] > 1 else r


def _fast_frame(k: Tuple[str, bool, int], x: Any, axis: Any) -> Any:
    if axis is not None and (type(axis) is not int or axis != 0):
        return None
    try:
        blocks = x._mgr.blocks
    except AttributeError:  # pragma: no cover - a pandas without a block manager
        return None
    if len(blocks) != 1:
        return None
    v = blocks[0].values  # (columns, rows): what DataFrame.to_numpy() transposes
    if type(v) is not np.ndarray:
        return None
    dt = v.dtype
    if dt is not _F8 and dt is not _F4:
        return None
    pd = sys.modules["pandas"]
    if k[2] > 1:  # drawdown_episode: its int64 outputs written into one block's rows
        n = v.shape[0]
        ints, depth = np.empty((3, n), dtype=np.int64), np.empty(n, dtype=dt)
        _UF[k[0]](v.T, axis=0, out=(ints[0], ints[1], ints[2], depth))
        return _episode_frame(pd, ints, depth, x.columns)
    r = _UF[k[0]](v.T, axis=0)
    if k[1]:
        return _frame(pd, r, x.index, x.columns)
    return _series(pd, r, x.columns, k[0])


def _fast_series(k: Tuple[str, bool, int], x: Any, axis: Any) -> Any:
    if axis is not None:
        return None
    try:
        v = x._mgr.blocks[0].values  # what Series.to_numpy() gives for a NumPy dtype
    except (AttributeError, IndexError):  # pragma: no cover - a pandas without a block manager
        return None
    if type(v) is not np.ndarray:
        return None
    dt = v.dtype
    if dt is not _F8 and dt is not _F4:
        return None
    r = _UF[k[0]](v, axis=-1)
    if k[1]:
        return _series(sys.modules["pandas"], r, x.index, x.name)
    return Episode(*r) if k[2] > 1 else r


def _fast_polars(k: Tuple[str, bool, int], x: Any, axis: Any) -> Any:
    t = type(x.dtype)
    if axis is not None or (t is not _PL_FLOATS[0] and t is not _PL_FLOATS[1]):
        return None
    r = _UF[k[0]](x.to_numpy(), axis=-1)  # nulls become NaN, as _polars_values gives
    if k[1]:
        return _polars_series(sys.modules["polars"], x.name, r)
    return Episode(*r) if k[2] > 1 else r


#: the fast path's input types (pandas' and polars' added once seen: :func:`_learn`)
_FAST: Dict[type, Callable[[Tuple[str, bool, int], Any, Any], Any]] = {np.ndarray: _fast_array}
_PL_FLOATS: Tuple[type, ...] = ()


def _learn(t: type) -> Optional[Callable[[Tuple[str, bool, int], Any, Any], Any]]:
    """The fast path's handler for input type ``t`` (exactly pandas' DataFrame or Series,
    or polars' Series, when those are imported), registered; None for any other type."""
    global _PL_FLOATS
    pd = sys.modules.get("pandas")
    if pd is not None and t is getattr(pd, "DataFrame", None):
        _FAST[t] = _fast_frame
    elif pd is not None and t is getattr(pd, "Series", None):
        _FAST[t] = _fast_series
    else:
        pl = sys.modules.get("polars")
        if pl is None or t is not getattr(pl, "Series", None):
            return None
        _PL_FLOATS = (type(pl.Float64()), type(pl.Float32()))
        _FAST[t] = _fast_polars
    return _FAST[t]


def _wrap_masked(k: Any, res: Tuple[np.ndarray, ...], out: Any, mask: Optional[np.ndarray]) -> Any:
    """Masked-array input: a scan returns a masked array with the input's mask (broadcast
    to the result, which a state may widen); a reduction returns plain values (masked
    entries counted as NaN).  A masked ``out=`` gets that mask (or none) and is returned."""
    outs = tuple(out) if isinstance(out, tuple) else (out,) * len(res)
    wrapped: List[Any] = []
    for r, o in zip(res, outs):
        m = np.broadcast_to(mask, r.shape) if (mask is not None and k.scan) else False
        if isinstance(o, np.ma.MaskedArray):
            o.mask = m
            wrapped.append(o)
        elif k.scan:
            wrapped.append(np.ma.masked_array(r, mask=np.array(m, dtype=bool, copy=True)))
        else:
            wrapped.append(r if (o is not None or r.ndim) else r[()])
    if k.scan or len(wrapped) == 1:
        return wrapped[0]
    return Episode(*wrapped)


def _same_series(name: str, arr: np.ndarray, axis: int, state: np.ndarray) -> None:
    """pandas / polars results keep the input's labels, so a state may not add series."""
    lead = _backend.state_lead(name, arr, axis, state)
    ax = axis % arr.ndim
    lead_x = arr.shape[:ax] + arr.shape[ax + 1 :]
    if lead != lead_x:
        raise ValueError(
            f"tradekernels.{name}: a state of lead shape {state.shape[:-1]} would give {lead} series, "
            f"but this pandas / polars input has {lead_x}; pass one state, or one per series"
        )


def _pandas_kit(pd: Any) -> Any:
    """pandas' internal constructors, looked up once: ``(BlockPlacement, new_block,
    new_block_2d, BlockManager, SingleBlockManager, Series._from_mgr,
    DataFrame._from_mgr)``, or False for a pandas without them (then the public
    constructors are used)."""
    kit = _KIT.get("pandas")
    if kit is None:
        try:
            internals = pd.core.internals
            kit = (
                pd._libs.internals.BlockPlacement,
                internals.blocks.new_block,
                internals.blocks.new_block_2d,
                internals.BlockManager,
                internals.SingleBlockManager,
                pd.Series._from_mgr,
                pd.DataFrame._from_mgr,
            )
        except AttributeError:  # pragma: no cover - a pandas without them
            kit = False
        _KIT["pandas"] = kit
    return kit


#: cached lookups (:func:`_pandas_kit`, :func:`_episode_columns`, :func:`_polars_series`)
_KIT: Dict[str, Any] = {}


def _series(pd: Any, values: np.ndarray, index: Any, name: Any) -> Any:
    """``pd.Series(values, index=index, name=name, copy=False)``: a Series wrapping the 1-D
    ``values`` (no copy), built by pandas' own internal constructors (a block, its
    manager, then ``Series._from_mgr``, as pandas' methods build their results) where
    this pandas has them.  Right after a kernel that has streamed the caches every
    line of Python costs: this is ~2 us hot / ~17 us cold, the public constructor
    ~8 us / ~45 us, and setting ``.name`` through the property (which validates it
    and looks it up in the index) ~10 us cold; ``name`` is an existing Series' name
    or a kernel's, both hashable.  Any other pandas takes the public constructor."""
    kit = _KIT.get("pandas") or _pandas_kit(pd)
    if kit:
        try:
            block = kit[1](values, kit[0](slice(0, len(values))), ndim=1)
            res = kit[5](kit[4](block, index), axes=[index])
            object.__setattr__(res, "_name", name)  # as pandas' __finalize__ sets it
            return res
        except (AttributeError, TypeError):  # pragma: no cover - a pandas without them
            pass
    return pd.Series(values, index=index, name=name, copy=False)


def _frame(pd: Any, values: np.ndarray, index: Any, columns: Any) -> Any:
    """``pd.DataFrame(values, index=index, columns=columns, copy=False)`` for a 2-D float
    ``values``: one block wrapping it (no copy; its transpose is the block's values, so a
    column-major ``values`` is a C-contiguous block), built by pandas' internal
    constructors (as pandas' methods build their results) where this pandas has them:
    ~7 us instead of ~17 us, and less Python work right after a kernel that has just
    streamed the caches.  Any other pandas takes the public constructor."""
    kit = _KIT.get("pandas") or _pandas_kit(pd)
    if kit:
        try:
            block = kit[2](values.T, placement=kit[0](slice(0, values.shape[1])))
            axes = [columns, index]
            return kit[6](kit[3]((block,), axes, verify_integrity=False), axes=axes)
        except (AttributeError, TypeError):  # pragma: no cover - a pandas without them
            pass
    return pd.DataFrame(values, index=index, columns=columns, copy=False)


def _episode_frame(pd: Any, ints: np.ndarray, depth: np.ndarray, labels: Any) -> Any:
    """The episodes of a frame's columns as a DataFrame, one column per :class:`Episode`
    field, index ``labels``: ``ints`` (int64, (3, n): peak, trough, recovery) and
    ``depth`` (float, (n,)) become its two blocks without a copy (the consolidated
    frame ``pd.DataFrame(dict)`` gives), built as :func:`_frame`; else the public
    constructor."""
    kit = _KIT.get("pandas") or _pandas_kit(pd)
    if kit:
        try:
            bp, nb2 = kit[0], kit[2]
            blocks = (nb2(ints, placement=bp(slice(0, 3))), nb2(depth[None], placement=bp(slice(3, 4))))
            axes = [_episode_columns(pd), labels]
            return kit[6](kit[3](blocks, axes, verify_integrity=False), axes=axes)
        except (AttributeError, TypeError):  # pragma: no cover - a pandas without them
            pass
    return pd.DataFrame(dict(zip(Episode._fields, (*ints, depth))), index=labels, copy=False)


def _episode_columns(pd: Any) -> Any:
    """The columns of an episode frame: ``pd.Index`` of the field names, as
    ``pd.DataFrame(dict)`` gives them.  Building it infers its dtype (~25 us); so it is
    built once, and each frame gets a view of it (a new Index object sharing the
    immutable values: renaming one frame's columns touches no other)."""
    cols = _KIT.get("episode_columns")
    if cols is None:
        cols = _KIT["episode_columns"] = pd.Index(Episode._fields)
    return cols.view()


def _polars_series(pl: Any, name: str, values: np.ndarray) -> Any:
    """``pl.Series(name, values)`` for a 1-D result: zero-copy, and for an aligned
    C-contiguous float64 / float32 / int64 array (every fresh kernel output) built as
    that constructor builds it -- ``PySeries.new_f64(name, values, nan_to_null=False)``
    (``new_f32``; ``new_i64(name, values, strict=True)``), then ``Series._from_pyseries``
    -- without its dispatch on the kind of ``values``: ~8 us instead of ~35 us right
    after a kernel that has streamed the caches.  Anything else (an ``out=`` of another
    layout or dtype, a polars without them) takes the public constructor."""
    kit: Any = _KIT.get("polars")
    if kit is None:
        try:
            ps = type(pl.Series("", np.empty(0))._s)
            kit = (
                pl.Series._from_pyseries,
                {_F8: (ps.new_f64, False), _F4: (ps.new_f32, False), np.dtype(np.int64): (ps.new_i64, True)},
            )
        except AttributeError:  # pragma: no cover - a polars without them
            kit = False
        _KIT["polars"] = kit
    if kit and values.ndim == 1 and values.flags.c_contiguous and values.flags.aligned:
        new = kit[1].get(values.dtype)
        if new is not None:
            try:
                return kit[0](new[0](name, values, new[1]))
            except (AttributeError, TypeError):  # pragma: no cover - a polars without them
                pass
    return pl.Series(name, values)


def _wrap(k, name, res, axis, out, frame, series, pseries, pd, pl) -> Any:
    # The results are fresh arrays (or the caller's out=): pandas may wrap them
    # without the defensive copy it makes of ndarray input by default.  A frame's
    # scan result has the layout of its values (NumPy allocates the gufunc output
    # with the core axis contiguous, so axis=0 gives column-major): pandas keeps it
    # as one block.
    if frame is not None:
        if k.scan:
            return _frame(pd, res[0], frame.index, frame.columns)
        labels = frame.columns if axis == 0 else frame.index
        if len(res) == 1:
            return _series(pd, res[0], labels, name)
        return _episode_frame(pd, np.stack(res[:3]), res[3], labels)
    if series is not None:
        if k.scan:
            return _series(pd, res[0], series.index, series.name)
        return res[0][()] if len(res) == 1 else Episode(*(r[()] for r in res))
    if pseries is not None:
        if k.scan:
            return _polars_series(pl, pseries.name, res[0])
        return res[0][()] if len(res) == 1 else Episode(*(r[()] for r in res))
    if k.scan or len(res) == 1:
        return res[0] if (out is not None or res[0].ndim) else res[0][()]
    return Episode(*(r if (out is not None or r.ndim) else r[()] for r in res))


def check_ddof(fn: str, ddof: Any) -> None:
    """``ddof`` of :func:`tradekernels.ulcer_index` must be an integer (``fn``: the
    function's full name)."""
    if isinstance(ddof, bool) or not isinstance(ddof, (int, np.integer)):
        raise TypeError(f"{fn}: ddof must be an integer, got {ddof!r}")


def window_args(name: str, window: Any, min_periods: Any) -> Tuple[int, int]:
    """``(window, min_periods)`` checked: integers, window >= 1, 0 <= min_periods <= window
    (default window)."""
    for what, v in (("window", window), ("min_periods", min_periods)):
        if (v is not None or what == "window") and (
            isinstance(v, bool) or not isinstance(v, (int, np.integer))
        ):
            raise TypeError(f"tradekernels.{name}: {what} must be an integer, got {v!r}")
    if window < 1:
        raise ValueError(f"tradekernels.{name}: window must be >= 1, got {window}")
    if window > np.iinfo(np.int64).max:
        raise ValueError(f"tradekernels.{name}: window must fit in int64, got {window}")
    mp = int(window) if min_periods is None else int(min_periods)
    if not 0 <= mp <= window:
        raise ValueError(f"tradekernels.{name}: min_periods must be in [0, window], got {min_periods}")
    return int(window), mp
