"""The session functions over dask arrays (see :mod:`tradekernels.dask`; re-exported there).

``session_mask``, ``session_label`` and ``minutes_into_session`` answer each
timestamp on its own (one task per block); ``session_start`` takes two
passes: (1) the label of each chunk's last session start, in parallel;
(2) each chunk from the label carried over the earlier chunks (the
``state=`` of :func:`tradekernels.session_start`), in parallel.
"""

from __future__ import annotations

from typing import Any, Dict, Tuple

import numpy as np

from .._dask import _array, _da, _dask_base, _lead_shape, _time_last
from . import api as _sessions
from .calendar import Calendar

__all__ = ["session_mask", "session_label", "minutes_into_session", "session_start"]


def _as_dask_ts(name: str, x: Any, axis: Any, cal: Any, kw: Dict[str, Any]):
    """(the timestamps with time last, the time axis); ``kw``: the keywords of the in-memory
    function (``unit=``, ``assume_sorted=``), checked here, before anything computes, by
    the in-memory function itself on an empty array of the input's dtype."""
    if not isinstance(cal, Calendar):
        raise TypeError(f"tradekernels.dask.{name}: cal must be a tradekernels.Calendar")
    if not isinstance(x, _da.Array):
        x = _da.from_array(np.asarray(x), chunks=-1)
    if x.dtype.kind not in "Miu":
        raise TypeError(
            f"tradekernels.dask.{name}: expected timestamps (datetime64, or integer epoch counts of "
            f"unit=), got dtype {x.dtype}"
        )
    getattr(_sessions, name)(np.empty(0, dtype=x.dtype), cal, **kw)
    return _time_last(name, x, axis)


def _ses_block(block: np.ndarray, name: str, cal: Any, kw: Dict[str, Any]) -> np.ndarray:
    return np.asarray(getattr(_sessions, name)(block, cal, **kw))


def _elementwise(name: str, x: Any, cal: Any, dtype: Any, **kw: Any) -> Any:
    x, _ = _as_dask_ts(name, x, -1, cal, kw)
    return x.map_blocks(_ses_block, name, cal, kw, dtype=dtype)


def _last_start(block: np.ndarray, cal: Any, kw: Dict[str, Any]) -> np.ndarray:
    """Label of the session of each series' last start in the chunk (NaT: none)."""
    return _sessions.session_start(block, cal, return_state=True, **kw)[1]


def _carry_label(lead: Tuple[int, ...], *labels: np.ndarray) -> np.ndarray:
    p = np.full(lead, np.datetime64("NaT", "D"), dtype="datetime64[D]")
    for lab in labels:
        p = np.where(np.isnat(lab), p, lab)
    return p


def _start_block(block: np.ndarray, cal: Any, kw: Dict[str, Any], carried: np.ndarray) -> np.ndarray:
    return np.asarray(_sessions.session_start(block, cal, state=carried, return_state=True, **kw)[0])


_KW_DOC = """

    ``unit=``: the unit of integer epoch counts (``"ns"``, ``"us"``, ``"ms"``, ``"s"``) and,
    where the in-memory function takes it, ``assume_sorted=``: passed to the in-memory
    function, which each task calls (a promise of sorted timestamps holds for every block
    of them); checked before anything computes."""


def session_mask(ts: Any, cal: Calendar, *, assume_sorted: bool = False, unit: str = "ns") -> Any:
    """:func:`tradekernels.session_mask` of a dask array of timestamps (one task per block)."""
    return _elementwise("session_mask", ts, cal, bool, assume_sorted=assume_sorted, unit=unit)


def session_label(ts: Any, cal: Calendar, *, assume_sorted: bool = False, unit: str = "ns") -> Any:
    """:func:`tradekernels.session_label` of a dask array of timestamps (one task per block)."""
    return _elementwise(
        "session_label", ts, cal, np.dtype("datetime64[D]"), assume_sorted=assume_sorted, unit=unit
    )


def minutes_into_session(ts: Any, cal: Calendar, *, unit: str = "ns") -> Any:
    """:func:`tradekernels.minutes_into_session` of a dask array of timestamps (one task per block)."""
    return _elementwise("minutes_into_session", ts, cal, np.int64, unit=unit)


def session_start(
    ts: Any, cal: Calendar, *, axis: Any = None, assume_sorted: bool = False, unit: str = "ns"
) -> Any:
    """:func:`tradekernels.session_start` of a dask array chunked along time (two parallel
    passes); ``axis``: the time axis (None: the last)."""
    kw = {"assume_sorted": assume_sorted, "unit": unit}
    x, ax = _as_dask_ts("session_start", ts, axis, cal, kw)
    token = _dask_base.tokenize("session_start", x, cal.spec(), kw)
    pre = "tk-session-start"
    out = f"{pre}-out-{token}"
    dsk: Dict[Any, Any] = {}
    for L in np.ndindex(*x.numblocks[:-1]):
        L = tuple(int(i) for i in L)
        lead = _lead_shape(x, L)
        lasts = []
        for j in range(x.numblocks[-1]):
            xkey = (x.name,) + L + (j,)
            carried = (f"{pre}-carry-{token}",) + L + (j,)
            dsk[carried] = (_carry_label, lead) + tuple(lasts)
            last = (f"{pre}-last-{token}",) + L + (j,)
            dsk[last] = (_last_start, xkey, cal, kw)
            lasts.append(last)
            dsk[(out,) + L + (j,)] = (_start_block, xkey, cal, kw, carried)
    res = _array(dsk, out, x, x.chunks, bool)
    return _da.moveaxis(res, -1, ax)


for _f in (session_mask, session_label, minutes_into_session, session_start):
    _f.__doc__ = (_f.__doc__ or "") + _KW_DOC
