"""Order fills over dask arrays of orders (``tradekernels.dask.fill_orders``)."""

from __future__ import annotations

import operator
from typing import Any, Dict

import numpy as np

from .._dask import _da, _dask_base, _hlg
from . import api as _fills

__all__ = ["fill_orders"]


# --------------------------------------------------------------------------
# Order fills
# --------------------------------------------------------------------------


def _fill_block(idx: Any, start, side, kind, price, limit, expiry) -> tuple:
    lim = None if limit.dtype == bool else limit  # bool placeholder: no limit prices given
    f = _fills.fill_orders(idx, start, side, kind, price, lim, expiry)
    return np.asarray(f.fill_index), np.asarray(f.fill_price)


def fill_orders(
    bars_or_index: Any, start: Any, side: Any, kind: Any, price: Any, limit: Any = None, expiry: Any = -1
) -> Any:
    """:func:`tradekernels.fill_orders` for orders held in dask arrays (one task per block).

    ``bars_or_index`` as for the in-memory function (the bar index is built
    here, once).  ``kind`` may be strings only in NumPy / scalar form (dask
    arrays of kinds hold :class:`~tradekernels.OrderKind` codes).  Returns
    :class:`~tradekernels.Fills` of two dask arrays of the broadcast shape;
    errors in the order values (bad side, stop-limit without a limit) are
    raised when the blocks compute.
    """
    idx = _fills._as_index(bars_or_index)

    def arr(v: Any) -> Any:
        return v if isinstance(v, _da.Array) else _da.from_array(np.asarray(v), chunks=-1)

    kind = kind if isinstance(kind, _da.Array) else _fills._kind_array(kind)
    lim = np.zeros((), dtype=bool) if limit is None else limit
    parts = [arr(v) for v in (start, side, kind, price, lim, expiry)]
    try:
        parts = list(_da.broadcast_arrays(*parts))
    except ValueError:
        raise ValueError(
            "tradekernels.dask.fill_orders: the order arguments do not broadcast against each other"
        ) from None
    chunks = parts[0].chunks
    parts = [p.rechunk(chunks) for p in parts]
    token = _dask_base.tokenize("fill_orders", idx.arrays, *parts)
    bars_key = f"tk-fill-bars-{token}"
    tuples, names = f"tk-fill-{token}", (f"tk-fill-index-{token}", f"tk-fill-price-{token}")
    dsk: Dict[Any, Any] = {bars_key: idx}
    for b in np.ndindex(*parts[0].numblocks):
        b = tuple(int(i) for i in b)
        dsk[(tuples,) + b] = (_fill_block, bars_key) + tuple((p.name,) + b for p in parts)
        for o, name in enumerate(names):
            dsk[(name,) + b] = (operator.getitem, (tuples,) + b, o)
    out = []
    for name, dtype in zip(names, (np.int64, np.float64)):
        graph = _hlg.HighLevelGraph.from_collections(name, dsk, dependencies=parts)
        out.append(_da.Array(graph, name, chunks=chunks, dtype=dtype))
    return _fills.Fills(*out)
