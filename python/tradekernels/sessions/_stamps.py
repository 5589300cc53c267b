"""Timestamp input of the session functions: (int64 counts, ns per count) read in place,
and the pandas wrapping of results.

Timestamps travel as (int64 counts, ns per count): a datetime64[us] array
or DatetimeIndex is read in place, and the session table is scaled to its
unit instead (SessionTable._kernel_args), which is exact.  A DataFrame is
read column by column (each column as a Series: datetime, tz-aware or
integer) into one (rows, columns) array, time down the rows as pandas has it.
"""

from __future__ import annotations

import datetime as _dt
import sys
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

import numpy as np

from ._parse import NAT as _NAT

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def _utc_ns(u: _dt.datetime) -> int:
    return ((u - _EPOCH) // _dt.timedelta(microseconds=1)) * 1000


_STEP: Dict[np.dtype, int] = {}  # datetime64 dtype -> ns per count (s .. ns units)


def _stamps(a: np.ndarray, name: str) -> Tuple[np.ndarray, int]:
    """(int64 counts, ns per count) of a datetime64 array; no copy for s .. ns units."""
    if not a.dtype.isnative:  # (a view of swapped bytes would be garbage)
        a = a.astype(a.dtype.newbyteorder("="))
    step = _STEP.get(a.dtype)
    if step is not None:
        return a.view(np.int64), step
    unit, count = np.datetime_data(a.dtype)
    if unit == "generic":
        raise TypeError(f"tradekernels.{name}: datetime64 without a unit is not supported")
    if unit in ("Y", "M"):
        return _stamps(a.astype("datetime64[D]"), name)
    if unit in ("ps", "fs", "as"):
        # Finer than ns: floor to ns (exact within the int64 range of ns).
        return a.astype("datetime64[ns]").view(np.int64), 1
    step = _STEP[a.dtype] = int(np.timedelta64(count, unit) // np.timedelta64(1, "ns"))  # type: ignore[call-overload]
    return a.view(np.int64), step


def _ns_range(vals: np.ndarray, step: int, name: str) -> Optional[Tuple[int, int]]:
    """UTC ns of the earliest and latest non-NaT timestamp (None: there are none).

    Raises OverflowError when they lie outside the datetime64[ns] range.
    """
    if vals.size == 0:
        return None
    lo, hi = int(vals.min()), int(vals.max())
    if lo == _NAT:
        if hi == _NAT:
            return None
        lo = int(vals[vals != _NAT].min())
    if lo * step <= _NAT or hi * step > 2**63 - 1:
        raise OverflowError(
            f"tradekernels.{name}: timestamps outside the datetime64[ns] range (years 1677..2262)"
        )
    return lo * step, hi * step


def _to_ns(vals: np.ndarray, step: int, name: str) -> np.ndarray:
    """The timestamps as int64 UTC ns (NaT kept)."""
    if step == 1:
        return vals
    if _ns_range(vals, step, name) is None:
        return np.full(vals.shape, _NAT, dtype=np.int64)
    out = np.array(np.multiply(vals, step, dtype=np.int64))  # exact (range checked); NaT wraps:
    np.copyto(out, _NAT, where=vals == _NAT)
    return out


# unit= of integer timestamps -> ns per count
UNITS = {"ns": 1, "us": 10**3, "ms": 10**6, "s": 10**9}


def _timestamps(x: Any, name: str, unit: str = "ns") -> Tuple[np.ndarray, int, Any]:
    """(int64 counts, ns per count, pandas index to wrap the result in or None).

    ``unit`` is the unit of integer input (epoch counts); other input carries its own."""
    step = UNITS.get(unit) if isinstance(unit, str) else None
    if step is None:
        raise ValueError(f"tradekernels.{name}: unit must be one of {', '.join(UNITS)}, got {unit!r}")
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(x, pd.DataFrame):
        return _frame_stamps(pd, x, name, unit)
    got = _timestamps_of(x, name)
    if got[0].dtype.kind in "iu" and got[1] == 0:  # integers: counts of unit
        return got[0], step, got[2]
    if unit != "ns":
        raise ValueError(
            f"tradekernels.{name}: unit={unit!r} applies to integer timestamps only; "
            "datetime input carries its own unit"
        )
    return got


def _timestamps_of(x: Any, name: str) -> Tuple[np.ndarray, int, Any]:
    """As _timestamps; integer input with ns per count 0 (to be set from unit=)."""
    pd = sys.modules.get("pandas")
    if pd is not None:
        if isinstance(x, pd.DatetimeIndex):
            return (*_pandas_stamps(x, name), (x, None, True))
        if isinstance(x, pd.Series):
            kind = _series_kind(pd, x)
            if kind == "M":
                return (*_pandas_stamps(pd.DatetimeIndex(x), name), (x.index, x.name, False))
            if kind == "i":  # epoch counts, as an integer array (NA: NaT)
                return _series_ints(x, name), 0, (x.index, x.name, False)
            raise TypeError(
                f"tradekernels.{name}: expected a datetime or integer Series, got dtype {x.dtype}"
            )
        if isinstance(x, pd.Index) and not isinstance(x, pd.DatetimeIndex):
            raise TypeError(
                f"tradekernels.{name}: expected a DatetimeIndex, got {type(x).__name__} of dtype {x.dtype}"
            )
        if x is pd.NaT:
            return np.array(_NAT, dtype=np.int64), 1, None
        if isinstance(x, pd.Timestamp):
            v, step = _pandas_stamps(pd.DatetimeIndex([x]), name)
            return v.reshape(()), step, None
    if isinstance(x, _dt.datetime):
        u = x if x.tzinfo is not None else x.replace(tzinfo=_dt.timezone.utc)
        try:
            ns = _utc_ns(u.astimezone(_dt.timezone.utc))
        except OverflowError:  # datetime.min / max: the UTC shift leaves datetime's range
            ns = None
        if ns is None or not _NAT < ns < 2**63:
            raise OverflowError(
                f"tradekernels.{name}: {x!r} is outside the datetime64[ns] range (years 1677..2262)"
            )
        return np.array(ns, dtype=np.int64), 1, None
    a = np.asarray(x)
    kind = a.dtype.kind
    if kind == "M":
        return (*_stamps(a, name), None)
    if kind in "iu":
        return _int_counts(a, name), 0, None
    raise TypeError(
        f"tradekernels.{name}: expected timestamps (datetime64, int64 epoch nanoseconds, "
        f"pandas DatetimeIndex / Series), got dtype {a.dtype}"
    )


def _series_kind(pd: Any, x: Any) -> str:
    """The kind of a Series' timestamps: "M" datetime (tz-aware or not), "i" integer (NumPy,
    nullable or pyarrow integers; not bools), "" neither."""
    dt = x.dtype
    if isinstance(dt, pd.DatetimeTZDtype) or dt.kind == "M":
        return "M"
    return "i" if dt.kind in "iu" else ""


def _series_ints(x: Any, name: str) -> np.ndarray:
    """An integer Series' values as int64 counts (checked as an integer array is); NA -> NaT."""
    dt = x.dtype
    if isinstance(dt, np.dtype):
        return _int_counts(x.to_numpy(), name)
    na = np.asarray(x.isna(), dtype=bool)
    vals = _int_counts(x.to_numpy(dtype=dt.numpy_dtype, na_value=0), name)
    return np.where(na, np.int64(_NAT), vals) if na.any() else vals


def _int_counts(a: np.ndarray, name: str) -> np.ndarray:
    if a.dtype.kind == "u" and a.size and a.dtype.itemsize >= 8 and int(a.max()) > 2**63 - 1:
        raise OverflowError(f"tradekernels.{name}: integer timestamps beyond int64 nanoseconds")
    return a.astype(np.int64, copy=False)


class _Frame(NamedTuple):
    """How to give a result back as a DataFrame (its rows are the input's rows)."""

    index: Any
    columns: Any


def _frame_stamps(pd: Any, x: Any, name: str, unit: str) -> Tuple[np.ndarray, int, Any]:
    """A DataFrame's columns (each a Series of timestamps) as one (rows, columns) int64 array,
    a transposed view of (columns, rows) rows: time is contiguous down each column."""
    cols: List[Tuple[np.ndarray, int]] = []
    for j in range(x.shape[1]):  # by position: column labels may repeat
        col = x.iloc[:, j]
        if not _series_kind(pd, col):
            raise TypeError(
                f"tradekernels.{name}: column {x.columns[j]!r}: expected a datetime or integer "
                f"Series, got dtype {col.dtype}"
            )
        v, step, _ = _timestamps(col, name, unit)
        cols.append((v, step))
    steps = {s for _, s in cols}
    if len(steps) > 1:  # columns of several units: all in ns
        cols = [(_to_ns(v, s, name), 1) for v, s in cols]
    step = cols[0][1] if cols else 1
    vals = np.stack([v for v, _ in cols]) if cols else np.empty((0, x.shape[0]), dtype=np.int64)
    return vals.T, step, _Frame(x.index, x.columns)


def _pandas_stamps(idx: Any, name: str) -> Tuple[np.ndarray, int]:
    # asi8: the UTC epoch integers in the index's unit, tz-aware or not (no copy)
    return _stamps(np.asarray(idx.asi8).view(f"datetime64[{idx.unit}]"), name)


def _wrap(res: np.ndarray, meta: Any, name: str) -> Any:
    if meta is None:
        return res if res.ndim else res[()]
    pd = sys.modules["pandas"]
    if isinstance(meta, _Frame):
        return pd.DataFrame(res, index=meta.index, columns=meta.columns, copy=False)
    index, sname, from_index = meta
    return pd.Series(res, index=index, name=name if from_index else sname, copy=False)
