"""Order fills against OHLC bars: :class:`BarIndex` and :func:`fill_orders`.

The exact semantics (live bars, NaN bars, prices, the stop-limit trigger-bar
assumption) are those of :func:`tradekernels.reference.fill_order`, the naive
pure-Python scan.  In short:

* market: the open of the first fillable bar at or after ``start``;
* limit ``L``: buy at the first bar with ``low <= L``, price
  ``min(open, L)``; sell at ``high >= L``, price ``max(open, L)``;
* stop ``S``: buy at ``high >= S``, price ``max(open, S)``; sell at
  ``low <= S``, price ``min(open, S)``;
* stop-limit: triggers like a stop; fills on the trigger bar only at the
  trigger price and only if that price satisfies the limit, otherwise it is a
  limit order from the next bar on;
* bars with a NaN price never fill (missing values are NaN: the masked entries of a
  numpy masked array, pandas NA, polars null); ``expiry`` is the last live bar (-1 =
  good till cancelled); an order whose ``start`` is outside ``[0, n)`` or
  whose ``expiry < start`` never fills (``fill_index`` -1, ``fill_price``
  NaN) -- it is not an error.

:class:`BarIndex` is built once per bar series (in C, one pass): suffix
minima of the low / maxima of the high and per-block (64 bars) and
per-super-block (4096 bars) summaries.  :func:`fill_orders` uses it to answer
an order that can never fill in O(1) and to skip whole blocks that the
order's price band does not cross, so it costs little more than the bars it
actually has to look at; the answer is always identical to the naive scan
(:data:`tradekernels.ufuncs.fill_orders_naive` in C, the reference in Python).
The raw :data:`tradekernels.ufuncs.fill_orders` takes the orders as a 1-D core
dimension (see :class:`BarIndex`); ``fill_orders_naive`` keeps scalar orders
``(n),(n),(n),(n),(),(),(),(),(),()->(),()``.
"""

from __future__ import annotations

import enum
import math
import sys
from typing import Any, NamedTuple, Tuple

import numpy as np

from .. import _backend, _core, ufuncs
from . import reference

__all__ = [
    "OrderKind",
    "BarIndex",
    "Fills",
    "FillState",
    "fill_orders",
    "ExitReason",
    "Exits",
    "ExitState",
    "exit_orders",
    "TRADE_DTYPE",
    "trades_from_signals",
    "SignalState",
]


class OrderKind(enum.IntEnum):
    """Order kinds; ``fill_orders`` also accepts their lower-case names."""

    MARKET = reference.MARKET
    LIMIT = reference.LIMIT
    STOP = reference.STOP
    STOP_LIMIT = reference.STOP_LIMIT


_KIND_BY_NAME = {k.name.lower(): int(k) for k in OrderKind}
_KIND_NAMES = ", ".join(repr(k) for k in _KIND_BY_NAME)


class Fills(NamedTuple):
    """Result of :func:`fill_orders`: int64 bar indices (-1: no fill) and float64 prices (NaN: no fill)."""

    fill_index: Any
    fill_price: Any


def _field_equal(a: Any, b: Any) -> bool:
    """One field of two chunk states: equal shapes and values, NaN (NaT) equal to NaN."""
    if a is None or b is None:
        return a is b
    pd = sys.modules.get("pandas")
    if pd is not None and (isinstance(a, pd.Index) or isinstance(b, pd.Index)):  # (entry / last times)
        return isinstance(a, pd.Index) and isinstance(b, pd.Index) and a.equals(b)
    x, y = np.asarray(a), np.asarray(b)
    if x.shape != y.shape:
        return False
    with np.errstate(invalid="ignore"):
        same = x == y
        if x.dtype.kind in "fc" and y.dtype.kind in "fc":
            same = same | (np.isnan(x) & np.isnan(y))
    return bool(np.all(same))


def _states_equal(a: Any, b: Any) -> Any:
    """``a == b`` for two chunk states of one class: every field equal (:func:`_field_equal`)."""
    if type(a) is not type(b):
        return NotImplemented
    return all(_field_equal(x, y) for x, y in zip(a, b))


def _states_differ(a: Any, b: Any) -> Any:
    eq = _states_equal(a, b)
    return eq if eq is NotImplemented else not eq


class FillState(NamedTuple):
    """Where :func:`fill_orders` stands after the bars seen so far (``state=`` for bars that
    arrive in chunks).  Arrays of the orders' broadcast shape:

    * ``seen``: bars seen (the next chunk's first bar is bar ``seen``);
    * ``phase``: 0 live as given, 1 a stop-limit whose stop triggered without a fill (a limit
      order at its ``limit`` from bar ``resume`` on), 2 done (filled, or can never fill);
    * ``resume``: for phase 1, the first bar of the limit order (-1 otherwise);
    * ``fill_index``, ``fill_price``: the fills so far (-1 / NaN: none yet).

    Chunk states (FillState, :class:`ExitState`, :class:`SignalState`) compare by value, as
    :class:`tradekernels.State` does: equal when every field has the same shape and values,
    NaN (NaT) equal to NaN, so two identical calls and a pickle round trip give equal
    states.  They are unhashable (their fields are arrays).
    """

    seen: int
    phase: np.ndarray
    resume: np.ndarray
    fill_index: np.ndarray
    fill_price: np.ndarray

    __eq__ = _states_equal  # type: ignore[assignment]
    __ne__ = _states_differ  # type: ignore[assignment]
    __hash__ = None  # type: ignore[assignment]


_LIVE, _CONVERTED, _DONE = 0, 1, 2


def _err(msg: str) -> str:
    return f"tradekernels.fill_orders: {msg}"


def _bar_array(name: str, values: Any) -> np.ndarray:
    """One bar column as float64 (not copied when it already is), missing values NaN in every container
    the scans API takes (masked entries of a numpy masked array, pandas NA, polars null):
    a bar with a NaN price never fills."""
    from .. import _api  # (imports the scans family, which imports this module's package)

    pd, pl = sys.modules.get("pandas"), sys.modules.get("polars")
    if pd is not None and isinstance(values, pd.DataFrame):  # (its rows are bars: never symbols x time)
        raise TypeError(
            f"tradekernels.BarIndex: {name} is a DataFrame; DataFrames of one price each (rows: bars, "
            "columns: symbols) go in a dict {'open': df, 'high': df, 'low': df, 'close': df}"
        )
    if pd is not None and isinstance(values, pd.Series):
        values = _api.pandas_values(pd, values)
    elif pl is not None and isinstance(values, pl.Series):
        values = (
            values.cast(pl.Float64).to_numpy()
            if values.dtype.is_numeric() or values.dtype == pl.Boolean
            else values.to_numpy()
        )
    values, _ = _api.masked_values(values)
    a = np.asarray(values)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"tradekernels.BarIndex: {name} must hold real numbers, got dtype {a.dtype}")
    if a.ndim not in (1, 2):
        raise ValueError(
            f"tradekernels.BarIndex: {name} must be 1-D (one bar series) or 2-D "
            f"(symbols x time), got shape {a.shape}"
        )
    return a.astype(np.float64, copy=False)


class BarIndex:
    """Search summaries of one OHLC bar series, built once and reused for any number of orders.

    ``BarIndex(open, high, low, close)``: four 1-D real arrays of one length
    ``n``, or four 2-D arrays of one
    shape ``(symbols, n)`` (one bar series per row; the summaries get the same
    leading axis and are built for all rows by one C call; the public
    functions then take a ``col`` per order, the row it trades).  The summary arrays, built
    by :data:`tradekernels.ufuncs.bar_index` in C:

    * ``fill_low`` / ``fill_high`` (n): low / high of the fillable bars (no
      NaN price), NaN on the other bars;
    * ``group_min_low`` / ``group_max_high`` (``ceil(n / 8)``),
      ``block_min_low`` / ``block_max_high`` (``ceil(n / 64)``) and
      ``super_min_low`` / ``super_max_high`` (``ceil(n / 4096)``): min of
      ``fill_low`` / max of ``fill_high`` over each group of 8 / block of 64 /
      super block of 4096 bars;
    * ``suffix_min_low`` / ``suffix_max_high`` (``ceil(n / 64)``): the same
      over the bars from each block's first to the last (an order whose
      suffix cannot fill is answered in O(1)).

    Summaries ignore unfillable bars and are NaN for a range without a
    fillable bar.  The index keeps no reference to the arrays it was built
    from: :attr:`open` and :attr:`close` are the copies the C pass writes,
    :attr:`high` / :attr:`low` are ``fill_high`` / ``fill_low`` (NaN on a
    bar with any NaN price; every kernel and twin skips such a bar whole, so
    this is the same series to them); all are read-only.  The four per-bar
    arrays are column views of one ``(n, 4)`` buffer (32 bytes a bar,
    aligned to the cache line), so they are not contiguous: one bar's data
    shares a cache line, which is what a search from a random start bar
    needs; nothing else is stored per bar, so building the index writes as
    many bytes per bar as a copy of the four arrays.  :attr:`arrays` are the
    first eleven inputs of :data:`tradekernels.ufuncs.fill_orders`, whose
    signature is
    ``(n),(n),(n),(g),(g),(m),(m),(m),(m),(k),(k),(o),(o),(o),(o),(o),(o)->(o),(o)``:
    the six order arrays (start, side, kind, price, limit, expiry; int64,
    int64, int64, float64, float64, int64) are 1-D of one length ``o`` (a core
    dimension, not broadcast against each other; :func:`fill_orders` does
    that), so the C loop sees all orders of a bar series at once and
    prefetches the start bars of the orders ahead of the one it answers.
    Leading dimensions broadcast as usual (e.g. stacked bar series).

    A BarIndex is immutable: its attributes cannot be set or deleted and every array
    it holds is read-only, so threads may share one and every call sees one
    consistent snapshot of it.  It pickles (and copies) by rebuilding from the bars.
    """

    GROUP = _core.FILL_GROUP
    BLOCK = _core.FILL_BLOCK
    SUPER = _core.FILL_SUPER
    #: the outputs of ``ufuncs.bar_index``, in its order: the first eleven are
    #: :attr:`arrays`, the bar inputs of ``ufuncs.fill_orders``
    _SUMMARIES = (
        "open",
        "fill_low",
        "fill_high",
        "group_min_low",
        "group_max_high",
        "block_min_low",
        "block_max_high",
        "suffix_min_low",
        "suffix_max_high",
        "super_min_low",
        "super_max_high",
        "close",
    )
    __slots__ = _SUMMARIES + ("high", "low")

    def __init__(self, open: Any, high: Any, low: Any, close: Any) -> None:
        bars = [
            _bar_array(nm, v) for nm, v in zip(("open", "high", "low", "close"), (open, high, low, close))
        ]
        shapes = {nm: b.shape for nm, b in zip(("open", "high", "low", "close"), bars)}
        if len(set(shapes.values())) != 1:
            raise ValueError(
                "tradekernels.BarIndex: open, high, low and close must have the same "
                f"length (1-D) / shape (2-D), got {shapes}"
            )
        # The four per-bar arrays (fill_low, fill_high, open, close) are stored
        # interleaved, 32 bytes per bar from a 64-byte boundary, so a random
        # start costs one cache miss, not four; the kernels take any strides.
        # The summaries are small and contiguous.  2-D bars (symbols x time):
        # one row per symbol, all rows built by one ufunc call (its outer loop
        # runs over the rows in C).
        lead, n = bars[0].shape[:-1], bars[0].shape[-1]
        size = int(np.prod(lead, dtype=np.int64)) * n * 4
        raw = np.empty(size + 8, dtype=np.float64)
        skip = (-raw.ctypes.data % 64) // 8
        per_bar = raw[skip : skip + size].reshape(lead + (n, 4))
        sums = [
            np.empty((2,) + lead + (-(-n // size_),), dtype=np.float64)
            for size_ in (self.GROUP, self.BLOCK, self.BLOCK, self.SUPER)
        ]
        # One C pass writes every per-bar column and the summaries.
        outs = (
            per_bar[..., 2],
            per_bar[..., 0],
            per_bar[..., 1],
            *(s[j] for s in sums for j in (0, 1)),
            per_bar[..., 3],
        )
        with np.errstate(all="ignore"):
            summaries = ufuncs.bar_index(*bars, out=outs)
        for a in (raw, per_bar, *sums, *summaries):  # (views made before: each one)
            a.flags.writeable = False
        _set = object.__setattr__  # (frozen: __setattr__ refuses)
        for name, a in zip(self._SUMMARIES, summaries):
            _set(self, name, a)
        _set(self, "high", self.fill_high)
        _set(self, "low", self.fill_low)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"tradekernels.BarIndex is immutable (cannot set {name!r}); build a new one")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"tradekernels.BarIndex is immutable (cannot delete {name!r})")

    def __reduce__(self) -> Tuple[Any, Tuple[np.ndarray, ...]]:
        return (BarIndex, (self.open, self.high, self.low, self.close))

    @classmethod
    def from_frame(cls, frame: Any) -> BarIndex:
        """From a pandas or polars DataFrame (or a mapping) with columns ``open, high, low,
        close`` (one bar series), or a dict ``{"open": df, "high": df, "low": df, "close": df}``
        of pandas DataFrames of one index (rows: the bars) and one set of columns (the
        symbols): the 2-D bars (symbols x time) of the transposed frames, ``col`` = the
        column's position."""
        framed = _dict_of_frames(frame, "BarIndex")
        if framed is not None:
            return cls(*framed[2])
        expected = "tradekernels.BarIndex: expected columns 'open', 'high', 'low', 'close'"
        names = frame if isinstance(frame, dict) else getattr(frame, "columns", None)
        missing = [] if names is None else [c for c in _OHLC if c not in names]
        if missing:  # (pandas, polars, a dict: one error, never the container's own)
            raise ValueError(f"{expected} (missing {', '.join(map(repr, missing))})")
        try:
            cols = [frame[c] for c in _OHLC]
        except (KeyError, TypeError, IndexError) as e:
            raise ValueError(f"{expected} ({e!r})") from None
        return cls(*cols)

    @property
    def n(self) -> int:
        """Number of bars (per symbol for 2-D bars)."""
        return int(self.open.shape[-1])

    @property
    def symbols(self) -> int:
        """Number of bar series: rows of 2-D bars (``col`` ranges over them); 1 for 1-D bars."""
        return int(self.open.shape[0]) if self.open.ndim == 2 else 1

    def __len__(self) -> int:
        return len(self.open)

    @property
    def arrays(self) -> Tuple[np.ndarray, ...]:
        """``(open, fill_low, fill_high, group_min_low, group_max_high, block_min_low,
        block_max_high, suffix_min_low, suffix_max_high, super_min_low, super_max_high)``:
        the bar inputs of ``ufuncs.fill_orders``."""
        return tuple(getattr(self, nm) for nm in self._SUMMARIES[:-1])

    @property
    def bars(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(open, high, low, close)``: the inputs of ``ufuncs.fill_orders_naive``."""
        return (self.open, self.high, self.low, self.close)

    def __repr__(self) -> str:
        if self.open.ndim == 1:
            return f"BarIndex(n={self.n})"
        return f"BarIndex(symbols={self.symbols}, n={self.n})"


def _as_index(bars_or_index: Any, fn: str = "fill_orders") -> BarIndex:
    """The BarIndex of the bars given to the public function ``fn`` (named in its errors)."""
    if isinstance(bars_or_index, BarIndex):
        return bars_or_index
    if isinstance(bars_or_index, (tuple, list)):
        if len(bars_or_index) != 4:
            raise ValueError(
                f"tradekernels.{fn}: bars must be (open, high, low, close), "
                f"got a sequence of {len(bars_or_index)}"
            )
        return BarIndex(*bars_or_index)
    framed = _dict_of_frames(bars_or_index, fn)
    if framed is not None:
        return BarIndex(*framed[2])
    if hasattr(bars_or_index, "columns") or isinstance(bars_or_index, dict):
        return BarIndex.from_frame(bars_or_index)
    raise TypeError(
        f"tradekernels.{fn}: expected a BarIndex, an (open, high, low, close) tuple, a DataFrame "
        f"or a dict of DataFrames, got {type(bars_or_index).__name__}"
    )


def _unmasked(name: str, values: Any) -> Any:
    """An integer order field: a masked array without masked entries is its data; masked
    entries are refused (integers have no NaN for "missing")."""
    if isinstance(values, np.ma.MaskedArray):
        if np.ma.getmaskarray(values).any():
            raise ValueError(
                _err(
                    f"{name} has masked entries; every order needs its {name} "
                    "(leave the masked orders out instead)"
                )
            )
        return np.ma.getdata(values)
    return values


def _int_array(name: str, values: Any) -> np.ndarray:
    values = _unmasked(name, values)
    if (
        isinstance(values, (int, np.integer))
        and not isinstance(values, (bool, np.bool_))
        and -(2**63) <= values < 2**63
    ):
        return np.asarray(values, dtype=np.int64)  # the common scalar: no array checks
    a = np.asarray(values)
    if a.size == 0 and a.dtype.kind in "biuf":  # [] is float64 to NumPy: no orders
        return a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise TypeError(_err(f"{name} must be integers (bar indices), got dtype {a.dtype}"))
    if a.dtype == np.uint64 and a.size and int(a.max()) > np.iinfo(np.int64).max:
        raise ValueError(_err(f"{name} does not fit in int64"))
    return a.astype(np.int64, copy=False)


def _float_array(name: str, values: Any) -> np.ndarray:
    if isinstance(values, (float, np.floating)):
        return np.asarray(values, dtype=np.float64)
    from .. import _api

    values, _ = _api.masked_values(values)  # a masked price is NaN: the order never fills
    a = np.asarray(values)
    if a.dtype.kind not in "biuf":
        raise TypeError(_err(f"{name} must be real numbers, got dtype {a.dtype}"))
    return a.astype(np.float64, copy=False)


def _side_array(values: Any) -> np.ndarray:
    values = _unmasked("side", values)
    if (
        isinstance(values, (int, np.integer))
        and not isinstance(values, (bool, np.bool_))
        and values in (1, -1)
    ):
        return np.asarray(values, dtype=np.int64)
    a = np.asarray(values)
    if a.size == 0 and a.dtype.kind in "biuf":  # [] is float64 to NumPy: no orders
        return a.astype(np.int64)
    if a.dtype.kind not in "iuf":
        raise TypeError(_err(f"side must be +1 (buy) or -1 (sell) as numbers, got dtype {a.dtype}"))
    ok = (a == 1) | (a == -1)
    if not np.all(ok):
        bad = a[~ok] if a.ndim else a
        raise ValueError(_err(f"side must be +1 (buy) or -1 (sell), got {np.ravel(bad)[0].item()!r}"))
    return a.astype(np.int64)


def _kind_code(v: Any, fn: str = "tradekernels.fill_orders") -> int:
    """An order kind (name or OrderKind) as its code; errors name ``fn``."""
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{fn}: kind must be an order kind name or OrderKind, got {v!r}")
    if isinstance(v, (int, np.integer)):
        if not 0 <= int(v) <= 3:
            raise ValueError(f"{fn}: unknown order kind {int(v)} (expected an OrderKind value 0..3)")
        return int(v)
    if isinstance(v, (str, np.str_)):
        key = str(v).strip().lower().replace("-", "_")
        if key not in _KIND_BY_NAME:
            raise ValueError(f"{fn}: unknown order kind {str(v)!r} (expected one of {_KIND_NAMES})")
        return _KIND_BY_NAME[key]
    raise TypeError(f"{fn}: kind must be an order kind name or OrderKind, got {type(v).__name__}")


def _kind_array(values: Any) -> np.ndarray:
    values = _unmasked("kind", values)
    if isinstance(values, (str, int, np.integer, np.str_)):
        return np.asarray(_kind_code(values), dtype=np.int64)
    if isinstance(values, (list, tuple)):
        a = np.asarray(values, dtype=object)  # names and OrderKind may be mixed
        if a.dtype.kind == "O" and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in a.flat
        ):
            a = a.astype(np.int64)
    else:
        a = np.asarray(values)
    if a.size == 0 and a.dtype.kind in "biufO":  # [] is float64 to NumPy: no orders
        return a.astype(np.int64)
    if a.dtype.kind in "iu":
        if a.size and (a.min() < 0 or a.max() > 3):
            bad = a[(a < 0) | (a > 3)]
            raise ValueError(
                _err(f"unknown order kind {int(np.ravel(bad)[0])} (expected an OrderKind value 0..3)")
            )
        return a.astype(np.int64)
    if a.dtype.kind in "US":
        uniq, inv = np.unique(a, return_inverse=True)
        codes = np.array(
            [_kind_code(u.decode() if isinstance(u, bytes) else u) for u in uniq], dtype=np.int64
        )
        return codes[inv].reshape(a.shape)
    if a.dtype.kind == "O":
        cache: dict = {}
        out = np.empty(a.shape, dtype=np.int64)
        flat = out.reshape(-1)
        for j, v in enumerate(a.flat):
            key = (type(v), v)
            if key not in cache:
                cache[key] = _kind_code(v.decode() if isinstance(v, bytes) else v)
            flat[j] = cache[key]
        return out
    raise TypeError(_err(f"kind must be order kind names or OrderKind values, got dtype {a.dtype}"))


def fill_orders(
    bars_or_index: Any,
    start: Any,
    side: Any,
    kind: Any,
    price: Any,
    limit: Any = None,
    expiry: Any = -1,
    *,
    col: Any = None,
    state: Any = None,
    return_state: bool = False,
) -> Any:
    """First fill of every order: ``(fill_index, fill_price)``.

    ``bars_or_index``: a :class:`BarIndex` (build it once and reuse it), a
    tuple ``(open, high, low, close)``, or a DataFrame or dict of DataFrames as
    :meth:`BarIndex.from_frame` reads them.  The order arguments broadcast against each other:

    * ``start`` (integers): first live bar;
    * ``side``: +1 buy, -1 sell (anything else raises ValueError);
    * ``kind``: ``"market"``, ``"limit"``, ``"stop"``, ``"stop_limit"``
      (scalar or array) or :class:`OrderKind` values;
    * ``price``: the limit price (limit) or the stop price (stop, stop-limit),
      ignored for market orders;
    * ``limit``: the limit price of stop-limit orders (required if there are
      any; otherwise ignored);
    * ``expiry`` (integers): last live bar, -1 = good till cancelled;
    * ``col`` (integers, keyword): with 2-D bars (symbols x time), the row
      (bar series) of every order; required there, ignored (must be 0) for 1-D bars.

    Empty order lists (``start=[]``, ...) give empty fills.  A masked ``price`` /
    ``limit`` entry is NaN (such a limit or stop order never fills); masked entries in
    the integer fields are a ValueError.

    Returns :class:`Fills` ``(fill_index, fill_price)``: int64 and float64 of
    the broadcast shape (numpy scalars for scalar orders); -1 / NaN where the
    order never fills.  Semantics: :func:`tradekernels.fills.reference.fill_order`.
    Honours the backend switch (``reference`` runs the pure-Python scan,
    ``shadow`` runs both and raises :class:`tradekernels.ShadowMismatch` on a
    difference).

    **Bars in chunks** (``state=``, ``return_state=True``): pass the same orders
    with every chunk of bars (``start``, ``expiry`` and the returned
    ``fill_index`` count bars from the first chunk), ``state=None`` with the
    first and the returned :class:`FillState` with the next; with
    ``return_state=True`` each call returns ``(fills so far, state)``.  After
    the last chunk the fills equal one call over all the bars, for every order
    kind (a stop-limit whose stop triggers in one chunk goes on as a limit
    order in the next).
    """
    if state is not None or return_state:
        fills, new = _fill_chunk(bars_or_index, start, side, kind, price, limit, expiry, col, state)
        return (fills, new) if return_state else fills
    idx = _as_index(bars_or_index)
    start_a = _int_array("start", start)
    expiry_a = _int_array("expiry", expiry)
    side_a = _side_array(side)
    kind_a = _kind_array(kind)
    price_a = _float_array("price", price)
    if limit is None:
        if (
            (int(kind_a) == OrderKind.STOP_LIMIT)
            if kind_a.ndim == 0
            else bool((kind_a == OrderKind.STOP_LIMIT).any())
        ):
            raise ValueError(_err("stop_limit orders need a limit price (limit=...)"))
        limit_a = np.asarray(np.nan)
    else:
        limit_a = _float_array("limit", limit)
    order = (start_a, side_a, kind_a, price_a, limit_a, expiry_a)
    shapes = {a.shape for a in order if a.ndim}
    try:  # (the common case, arrays of one shape and scalars, without NumPy's helper)
        shape = (
            (shapes.pop() if shapes else ())
            if len(shapes) <= 1
            else np.broadcast_shapes(*(a.shape for a in order))
        )
    except ValueError:
        raise ValueError(
            _err(
                "the order arguments do not broadcast against each other: "
                f"start {start_a.shape}, side {side_a.shape}, kind {kind_a.shape}, "
                f"price {price_a.shape}, limit {limit_a.shape}, expiry {expiry_a.shape}"
            )
        ) from None
    cols = _col_array(idx, col, shape, "fill_orders")
    return _backend.dispatch(
        lambda: _native_fills(idx, order, shape, cols),
        lambda: _reference_fills(idx, order, shape, cols),
        lambda nat, ref: _backend.compare("fill_orders", nat, ref),
    )


_MAX_SEEN = 2**53


def _state_int(state: Any, name: str, lo: int, hi: int, err: Any) -> np.ndarray:
    """The integer field ``name`` of a chunk state as int64, refused (ValueError) unless every
    entry is a whole number in ``[lo, hi]``: no NaN, fraction or int8 wrap-around on the
    cast, and no phase or index that no call returns."""
    a = np.asarray(getattr(state, name))
    with np.errstate(invalid="ignore"):
        ok = a.dtype.kind in "iu" or (a.dtype.kind == "f" and bool((a == np.floor(a)).all()))
        ok = ok and bool(((a >= lo) & (a <= hi)).all())
    if not ok:
        raise ValueError(err(f"state.{name} must hold whole numbers in [{lo}, {hi}], got {a!r}"))
    return a.astype(np.int64)


def _chunk_seen(
    state: Any, cls: type, shape: Tuple[int, ...], err: Any, what: str, arrays: slice = slice(1, None)
) -> int:
    """The bars seen by a chunk state (FillState / ExitState / SignalState) of ``what`` of
    ``shape``; ``arrays``: its fields of that shape (default: all after ``seen``)."""
    if not isinstance(state, cls):
        raise TypeError(
            err(f"state must be the {cls.__name__} of an earlier call, got {type(state).__name__}")
        )
    seen = state.seen
    # (bounded: seen + n and the global indices are int64, as the scan states' counts)
    if isinstance(seen, bool) or not isinstance(seen, (int, np.integer)) or not 0 <= seen <= _MAX_SEEN:
        raise ValueError(err(f"state.seen must be an integer in [0, 2**53], got {seen!r}"))
    if any(np.shape(a) != shape for a in state[arrays]):
        msg = f"the state is for {what} of shape {np.shape(state[1])}, these have shape {shape}"
        raise ValueError(err(msg))
    return int(seen)


def _fill_chunk(
    bars_or_index: Any,
    start: Any,
    side: Any,
    kind: Any,
    price: Any,
    limit: Any,
    expiry: Any,
    col: Any,
    state: Any,
) -> Tuple[Fills, FillState]:
    """fill_orders over one chunk of bars, from ``state`` (see fill_orders).

    The chunk's bars are bars ``seen .. seen + n - 1``; an order live before the
    chunk and not filled is live from the chunk's first bar, with its expiry moved
    by ``seen`` (an expiry before the chunk: never); a stop-limit that has
    triggered without a fill is searched as the limit order it became
    (reference.fill_order: "a plain limit order L from bar t + 1 on").  The orders
    still live after the search that are stop-limits are searched again as plain
    stops, for the trigger bar t.  Every search is a fill_orders call (so the
    backend switch holds)."""
    idx = _as_index(bars_or_index)
    n = idx.n
    first = None
    if state is None:  # (checks the orders)
        first = fill_orders(idx, start, side, kind, price, limit, expiry, col=col)
    start_a = _int_array("start", start)
    expiry_a = _int_array("expiry", expiry)
    kind_a = _kind_array(kind)
    price_a = _float_array("price", price)
    limit_a = np.asarray(np.nan) if limit is None else _float_array("limit", limit)
    try:
        shape = np.broadcast_shapes(
            *(np.shape(a) for a in (start_a, side, kind_a, price_a, limit_a, expiry_a))
        )
    except ValueError:
        fill_orders(idx, start, side, kind, price, limit, expiry, col=col)  # raises the usual error
        raise
    if state is None:
        seen = 0
        phase = np.where(np.broadcast_to(start_a, shape) < 0, _DONE, _LIVE).astype(np.int8)
        resume = np.full(shape, -1, dtype=np.int64)
        fi = np.full(shape, -1, dtype=np.int64)
        fp = np.full(shape, np.nan)
    else:
        seen = _chunk_seen(state, FillState, shape, _err, "orders")
        phase = _state_int(state, "phase", _LIVE, _DONE, _err).astype(np.int8)
        resume = _state_int(state, "resume", -1, seen, _err)
        fi = _state_int(state, "fill_index", -1, seen - 1, _err)
        fp = np.asarray(state.fill_price, dtype=np.float64)
    if first is None:  # (the first chunk's search is `first` itself)
        conv = phase == _CONVERTED
        s = np.where(conv, resume, np.broadcast_to(start_a, shape)) - seen
        s = np.where(phase == _DONE, n, np.maximum(s, 0))  # (bar n: never)
        e = expiry_a - seen
        e = np.where(expiry_a == -1, -1, np.where(e < 0, -2, e))
        k = np.where(conv, int(OrderKind.LIMIT), np.broadcast_to(kind_a, shape))
        p = np.where(conv, np.broadcast_to(limit_a, shape), np.broadcast_to(price_a, shape))
        got = fill_orders(idx, s, side, k, p, limit_a, e, col=col)
    else:
        s, e, got = np.broadcast_to(start_a, shape), expiry_a, first
        seen = 0
    ci, cp = np.asarray(got.fill_index), np.asarray(got.fill_price)
    filled = (ci >= 0) & (phase != _DONE)
    fi = np.where(filled, ci + seen, fi)
    fp = np.where(filled, cp, fp)
    phase = np.where(filled, _DONE, phase).astype(np.int8)
    pending_sl = (phase == _LIVE) & (np.broadcast_to(kind_a, shape) == OrderKind.STOP_LIMIT)
    if pending_sl.any():
        t = np.asarray(fill_orders(idx, np.where(pending_sl, s, n), side, "stop", price, None, e, col=col)[0])
        trig = pending_sl & (t >= 0)
        resume = np.where(trig, t + 1 + seen, resume)
        phase = np.where(trig, _CONVERTED, phase).astype(np.int8)
    new = FillState(seen + n, phase, resume, fi, fp)
    out = Fills(fi[()], fp[()]) if not shape else Fills(fi, fp)
    return out, new


def _native_fills(
    idx: BarIndex, order: Tuple[np.ndarray, ...], shape: Tuple[int, ...], cols: Any = None
) -> Fills:
    # The raw kernel takes the orders as a core dimension (o): broadcast them,
    # flatten to 1-D contiguous, one call, reshape back.  Seeing all orders at
    # once lets the C loop prefetch the start bars of later orders.
    size = math.prod(shape)

    def flat1(a: np.ndarray) -> np.ndarray:  # 1-D contiguous of the broadcast shape, cheaply
        if a.shape == shape:
            return np.ascontiguousarray(a).reshape(-1)
        if a.ndim == 0:
            return np.full(size, a[()], dtype=a.dtype)
        return np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1)

    flat = tuple(flat1(a) for a in order)
    if cols is not None:
        fi, fp = _run_by_col(ufuncs.fill_orders, idx.arrays, flat, cols, (-1, 1, 0, np.nan, np.nan, -1))
    else:
        with np.errstate(all="ignore"):
            fi, fp = ufuncs.fill_orders(*idx.arrays, *flat)
    fi, fp = fi.reshape(shape), fp.reshape(shape)
    if not shape:
        fi, fp = fi[()], fp[()]
    return Fills(fi, fp)


def _rows_reference(idx: BarIndex, twin: Any, flat_cols: list, cols: Any, nout: int) -> list:
    """``twin(bars..., fields...)`` per order, on the order's row of 2-D bars (or the 1-D bars)."""
    if cols is None:
        return list(twin(*(a.tolist() for a in idx.bars), *flat_cols))
    outs: list = [[None] * len(cols) for _ in range(nout)]
    for row in np.unique(cols):
        sel = np.flatnonzero(cols == row)
        res = twin(*(a[row].tolist() for a in idx.bars), *([c[j] for j in sel] for c in flat_cols))
        for o, r in zip(outs, res):
            for j, v in zip(sel, r):
                o[j] = v
    return outs


def _reference_fills(
    idx: BarIndex, order: Tuple[np.ndarray, ...], shape: Tuple[int, ...], cols: Any = None
) -> Fills:
    flat_cols = [np.broadcast_to(a, shape).ravel().tolist() for a in order]
    ri, rp = _rows_reference(idx, reference.fill_orders, flat_cols, cols, 2)
    fi = np.asarray(ri, dtype=np.int64).reshape(shape)
    fp = np.asarray(rp, dtype=np.float64).reshape(shape)
    if not shape:
        return Fills(fi[()], fp[()])
    return Fills(fi, fp)


# --------------------------------------------------------------------------
# Exits
# --------------------------------------------------------------------------


class ExitReason(enum.IntEnum):
    """Why :func:`exit_orders` closed a position (codes from the C module)."""

    NONE = reference.EXIT_NONE
    SL = reference.EXIT_SL
    TSL = reference.EXIT_TSL
    TP = reference.EXIT_TP
    EXPIRY = reference.EXIT_EXPIRY
    SIGNAL = reference.EXIT_SIGNAL  # trades_from_signals: an exit signal
    END = reference.EXIT_END  # trades_from_signals: still open at the last bar


class Exits(NamedTuple):
    """Result of :func:`exit_orders`: int64 bar indices (-1: none), float64 prices (NaN: none)
    and int64 :class:`ExitReason` codes."""

    exit_idx: Any
    exit_price: Any
    reason: Any


def _xerr(msg: str) -> str:
    return f"tradekernels.exit_orders: {msg}"


def _as_exit(convert: Any, *args: Any) -> np.ndarray:
    """A fill_orders argument converter, with its errors naming exit_orders."""
    try:
        return convert(*args)
    except (TypeError, ValueError) as err:
        msg = str(err).replace("fill_orders", "exit_orders")
        msg = msg.replace("(buy)", "(long)").replace("(sell)", "(short)")
        raise type(err)(msg) from None


def _stop_array(name: str, values: Any) -> np.ndarray:
    """A stop fraction or level (None -> NaN, absent)."""
    if values is None:
        return np.asarray(np.nan)
    a = np.asarray(values)
    if a.dtype.kind not in "biuf":
        raise TypeError(_xerr(f"{name} must be real numbers (or None), got dtype {a.dtype}"))
    return a.astype(np.float64, copy=False)


def _fraction_array(name: str, values: Any) -> np.ndarray:
    a = _stop_array(name, values)
    with np.errstate(invalid="ignore"):
        bad = a < 0
    if bad.any():
        raise ValueError(
            _xerr(
                f"{name} is a fraction of the price and must be >= 0 (NaN / None: none), "
                f"got {np.ravel(a[bad] if a.ndim else a)[0].item()!r}"
            )
        )
    return a


def _trail_array(sl_trail: Any) -> np.ndarray:
    trail = np.asarray(sl_trail)
    if trail.dtype.kind not in "biu":
        raise TypeError(_xerr(f"sl_trail must be booleans, got dtype {trail.dtype}"))
    return (trail != 0).astype(np.int64)


def _slippage_array(slippage: Any) -> np.ndarray:
    slip = _fraction_array("slippage", slippage)
    if bool((slip >= 1).any()) or bool(np.isnan(slip).any()):
        raise ValueError(_xerr("slippage must be a fraction in [0, 1)"))
    return slip


def _choice(name: str, value: Any, codes: dict, fn: str = "tradekernels.exit_orders") -> int:
    if not isinstance(value, (str, np.str_)) or str(value).lower() not in codes:
        raise ValueError(f"{fn}: {name} must be one of {', '.join(repr(k) for k in codes)}, got {value!r}")
    return int(codes[str(value).lower()])


def exit_orders(
    bars_or_index: Any,
    entry_idx: Any,
    entry_price: Any = None,
    side: Any = 1,
    *,
    sl_stop: Any = None,
    tsl_stop: Any = None,
    tp_stop: Any = None,
    sl_trail: Any = False,
    sl_price: Any = None,
    tp_price: Any = None,
    same_bar: str = "stop",
    entry_at: str = "close",
    expiry: Any = -1,
    slippage: Any = 0.0,
    col: Any = None,
    state: Any = None,
    return_state: bool = False,
) -> Any:
    """The exit of every position: ``(exit_idx, exit_price, reason)``.

    ``bars_or_index``: a :class:`BarIndex` (build it once and reuse it), a
    tuple ``(open, high, low, close)``, or a DataFrame or dict of DataFrames as
    :meth:`BarIndex.from_frame` reads them.  The position arguments broadcast against each other:

    * ``entry_idx`` (integers in ``[0, n)``): the entry bar;
    * ``entry_price``: the entry price (None: the entry bar's close, or its
      open with ``entry_at="open"``);
    * ``side``: +1 long, -1 short;
    * ``sl_stop``, ``tp_stop``: stop loss / take profit as fractions of the
      entry price (vectorbt's convention: 0.05 = 5 %); ``tsl_stop``: a trailing
      stop, a fraction below the best price since entry; ``sl_trail=True``
      makes ``sl_stop`` trail (vectorbt's boolean); ``sl_price`` /
      ``tp_price``: absolute levels.  None or NaN: absent.  Fractions >= 0.
    * ``same_bar``: ``"stop"`` (default; vectorbt and backtesting.py),
      ``"take"`` or ``"open"`` -- which level wins on a bar that reaches both;
    * ``entry_at``: ``"close"`` (default; the entry bar is not checked) or
      ``"open"`` (its high and low are checked too);
    * ``expiry`` (integers): last bar checked; a position not stopped by then
      exits at its close (reason ``EXPIRY``); -1: never;
    * ``slippage``: a fraction in ``[0, 1)`` applied against the trader on
      stop and target exits;
    * ``col`` (integers): with 2-D bars (symbols x time), the row (bar
      series) of every position; required there.

    Returns :class:`Exits` (int64, float64, int64 :class:`ExitReason` codes)
    of the broadcast shape; -1 / NaN / ``NONE`` where the position is never
    closed.  The exact rules (gaps, NaN bars, when a trailing stop moves,
    the same-bar policies) are those of
    :func:`tradekernels.fills.reference.exit_order`.  The C kernel skips
    blocks of bars whose band cannot be crossed and answers positions that
    can never exit in O(1); the result is identical to the bar-by-bar scan.
    Honours the backend switch (``reference``, ``shadow``).

    **Bars in chunks** (``state=``, ``return_state=True``): pass the same
    positions with every chunk of bars (``entry_idx``, ``expiry`` and the
    returned ``exit_idx`` count bars from the first chunk; an ``entry_idx``
    beyond the bars seen so far is a position not entered yet), ``state=None``
    with the first chunk and the returned :class:`ExitState` with the next;
    with ``return_state=True`` each call returns ``(exits so far, state)``.
    After the last chunk the exits equal one call over all the bars (a
    position whose entry never comes stays ``-1`` / ``NONE`` instead of
    raising IndexError).
    """
    if state is not None or return_state:
        res = _exit_chunk(
            bars_or_index,
            entry_idx,
            entry_price,
            side,
            (sl_stop, tsl_stop, tp_stop, sl_trail, sl_price, tp_price),
            same_bar,
            entry_at,
            expiry,
            slippage,
            col,
            state,
        )
        return res if return_state else res[0]
    idx = _as_index(bars_or_index, "exit_orders")
    n = idx.n
    e = _as_exit(_int_array, "entry_idx", entry_idx)
    if e.size and (e.min() < 0 or e.max() >= n):
        bad = e[(e < 0) | (e >= n)] if e.ndim else e
        raise IndexError(_xerr(f"entry_idx {int(np.ravel(bad)[0])} is out of range for {n} bars"))
    same = _choice("same_bar", same_bar, _core.SAME_BAR)
    at = _choice("entry_at", entry_at, _core.ENTRY_AT)
    if entry_price is None:
        src = idx.open if at == reference.ENTRY_AT_OPEN else idx.close
        if src.ndim == 2:
            c2 = _as_exit(_int_array, "col", 0 if col is None else col)
            if c2.size and (int(c2.min()) < 0 or int(c2.max()) >= idx.symbols):
                raise IndexError(_xerr(f"col is out of range for {idx.symbols} bar series"))
            price = src[c2, e] if n else np.full(np.broadcast_shapes(e.shape, c2.shape), np.nan)
        else:
            price = src[e] if n else np.full(e.shape, np.nan)
    else:
        price = _stop_array("entry_price", entry_price)
    side_a = _as_exit(_side_array, side)
    trail = _trail_array(sl_trail)
    ex = _as_exit(_int_array, "expiry", expiry)
    with np.errstate(invalid="ignore"):
        if ex.size and bool(
            (
                (ex != -1)
                & (
                    ex < np.broadcast_to(e, np.broadcast_shapes(e.shape, ex.shape))
                    if e.ndim or ex.ndim
                    else ex < e
                )
            ).any()
        ):
            raise ValueError(_xerr("expiry must be -1 (never) or >= entry_idx"))
    slip = _slippage_array(slippage)
    order = (
        e,
        price,
        side_a,
        _fraction_array("sl_stop", sl_stop),
        _fraction_array("tsl_stop", tsl_stop),
        _fraction_array("tp_stop", tp_stop),
        trail,
        _stop_array("sl_price", sl_price),
        _stop_array("tp_price", tp_price),
        np.asarray(same, dtype=np.int64),
        np.asarray(at, dtype=np.int64),
        ex,
        slip,
    )
    try:
        shape = np.broadcast_shapes(*(a.shape for a in order))
    except ValueError:
        shapes = ", ".join(f"{nm} {a.shape}" for nm, a in zip(reference.EXIT_FIELDS, order))
        msg = f"the position arguments do not broadcast against each other: {shapes}"
        raise ValueError(_xerr(msg)) from None
    cols = _col_array(idx, col, shape, "exit_orders")
    return _run_exits(idx, order, shape, cols)


def _run_exits(idx: BarIndex, order: Tuple[np.ndarray, ...], shape: Tuple[int, ...], cols: Any) -> Exits:
    return _backend.dispatch(
        lambda: _native_exits(idx, order, shape, cols),
        lambda: _reference_exits(idx, order, shape, cols),
        lambda nat, ref: _backend.compare("exit_orders", nat, ref),
    )


class ExitState(NamedTuple):
    """Where :func:`exit_orders` stands after the bars seen so far (``state=`` for bars that
    arrive in chunks).  Arrays of the positions' broadcast shape:

    * ``seen``: bars seen (the next chunk's first bar is bar ``seen``);
    * ``phase``: 0 not entered yet, 1 open, 2 closed (exited or expired);
    * ``ref``: an open position's best price through the last bar checked (the high for a
      long, the low for a short; the trailing stop's reference);
    * ``stop``, ``target``, ``frac``: its fixed stop level, target level and trailing
      fraction (NaN: none), set from the entry price when it enters;
    * ``exit_idx``, ``exit_price``, ``reason``: the exits so far (-1 / NaN / ``NONE``).

    Compares by value, NaN equal to NaN, and is unhashable, as :class:`FillState`.
    """

    seen: int
    phase: np.ndarray
    ref: np.ndarray
    stop: np.ndarray
    target: np.ndarray
    frac: np.ndarray
    exit_idx: np.ndarray
    exit_price: np.ndarray
    reason: np.ndarray

    __eq__ = _states_equal  # type: ignore[assignment]
    __ne__ = _states_differ  # type: ignore[assignment]
    __hash__ = None  # type: ignore[assignment]


def _nmin_a(acc: np.ndarray, v: np.ndarray) -> np.ndarray:
    """reference._nmin, element-wise."""
    with np.errstate(invalid="ignore"):
        return np.where((v == v) & np.logical_not(acc <= v), v, acc)


def _nmax_a(acc: np.ndarray, v: np.ndarray) -> np.ndarray:
    """reference._nmax, element-wise."""
    with np.errstate(invalid="ignore"):
        return np.where((v == v) & ~(acc >= v), v, acc)


def _levels(P: Any, lng: Any, sl: Any, tsl: Any, tp: Any, trail: Any, slp: Any, tpp: Any) -> Tuple[Any, ...]:
    """``(stop, target, frac)`` of positions entered at ``P``: the levels reference.exit_order
    sets at the entry (fixed stop: the better of ``sl`` from ``P`` and ``sl_price``;
    target: the nearer of ``tp`` and ``tp_price``; trailing fraction: ``tsl``, or the
    nearer of ``tsl`` and ``sl`` when ``sl`` trails), element-wise."""
    with np.errstate(invalid="ignore"):
        sl_frac = np.where(trail != 0, np.nan, sl)
        up, down = P * (1.0 - sl_frac), P * (1.0 + sl_frac)
        stop = np.where(lng, _nmax_a(up, slp), _nmin_a(down, slp))
        tup, tdown = P * (1.0 + tp), P * (1.0 - tp)
        target = np.where(lng, _nmin_a(tup, tpp), _nmax_a(tdown, tpp))
        frac = np.where(trail != 0, _nmin_a(tsl, sl), tsl)
    return stop, target, frac


def _exit_chunk(
    bars_or_index: Any,
    entry_idx: Any,
    entry_price: Any,
    side: Any,
    stops: Tuple[Any, ...],
    same_bar: Any,
    entry_at: Any,
    expiry: Any,
    slippage: Any,
    col: Any,
    state: Any,
) -> Tuple[Exits, ExitState]:
    """exit_orders over one chunk of bars (bars ``seen .. seen + n - 1``), from ``state``.

    Positions entering in the chunk are searched as given; an open position is
    searched as the position it is at the chunk's first bar: entered there at its
    reference price ``ref``, checked from that bar (``entry_at="open"``), with its
    levels passed as absolute prices (``sl_price`` = its stop, ``tp_price`` = its
    target, no fractional stops) and its trailing fraction as ``tsl_stop``.  By
    reference.exit_order that position has the same levels, the same trailing
    reference (``ref`` and then the better of it and each checked bar) and so the
    same exit.  After the search the reference of a position still open moves to
    the best usable bar it checked (the first of equal ones, as the twin's
    strict comparison keeps)."""
    sl_stop, tsl_stop, tp_stop, sl_trail, sl_price, tp_price = stops
    idx = _as_index(bars_or_index, "exit_orders")
    n = idx.n
    e = _as_exit(_int_array, "entry_idx", entry_idx)
    if e.size and e.min() < 0:
        raise IndexError(_xerr(f"entry_idx {int(e.min())} is out of range (negative)"))
    same = _choice("same_bar", same_bar, _core.SAME_BAR)
    at = _choice("entry_at", entry_at, _core.ENTRY_AT)
    side_a = _as_exit(_side_array, side)
    trail = _trail_array(sl_trail)
    ex = _as_exit(_int_array, "expiry", expiry)
    slip = _slippage_array(slippage)
    sl = _fraction_array("sl_stop", sl_stop)
    tsl = _fraction_array("tsl_stop", tsl_stop)
    tp = _fraction_array("tp_stop", tp_stop)
    slp = _stop_array("sl_price", sl_price)
    tpp = _stop_array("tp_price", tp_price)
    given = None if entry_price is None else _stop_array("entry_price", entry_price)
    fields = [e, side_a, sl, tsl, tp, trail, slp, tpp, ex, slip] + ([] if given is None else [given])
    try:
        shape = np.broadcast_shapes(*(a.shape for a in fields))
    except ValueError:
        msg = "the position arguments do not broadcast against each other: " + ", ".join(
            str(a.shape) for a in fields
        )
        raise ValueError(_xerr(msg)) from None
    e, side_a, sl, tsl, tp, trail, slp, tpp, ex, slip = (
        np.broadcast_to(a, shape).ravel() for a in fields[:10]
    )
    if bool(((ex != -1) & (ex < e)).any()):
        raise ValueError(_xerr("expiry must be -1 (never) or >= entry_idx"))
    cols = _col_array(idx, col, shape, "exit_orders")
    m = e.size
    if state is None:
        seen = 0
        phase = np.zeros(m, dtype=np.int8)
        ref, stop, target, frac = (np.full(m, np.nan) for _ in range(4))
        xi, xp, xr = np.full(m, -1, dtype=np.int64), np.full(m, np.nan), np.zeros(m, dtype=np.int64)
    else:
        seen = _chunk_seen(state, ExitState, shape, _xerr, "positions")
        phase = _state_int(state, "phase", 0, 2, _xerr).astype(np.int8).ravel()
        ref, stop, target, frac, xp = (
            np.array(a, dtype=np.float64).ravel()
            for a in (state.ref, state.stop, state.target, state.frac, state.exit_price)
        )
        xi = _state_int(state, "exit_idx", -1, seen - 1, _xerr).ravel()
        xr = _state_int(state, "reason", reference.EXIT_NONE, reference.EXIT_EXPIRY, _xerr).ravel()
    rel = e - seen
    new = (phase == 0) & (rel >= 0) & (rel < n)
    carried = phase == 1
    if n and bool(new.any()):
        k = np.flatnonzero(new)
        if given is None:
            src = idx.open if at == reference.ENTRY_AT_OPEN else idx.close
            P = src[cols[k], rel[k]] if cols is not None else src[..., rel[k]].reshape(-1)
        else:
            P = np.broadcast_to(given, shape).ravel()[k]
        stop[k], target[k], frac[k] = _levels(
            P, side_a[k] == 1, sl[k], tsl[k], tp[k], trail[k], slp[k], tpp[k]
        )
        ref[k] = P
    live = np.flatnonzero((new | carried) if n else np.zeros(m, dtype=bool))
    if live.size:
        nw, cr = new[live], carried[live]
        nan = np.full(live.size, np.nan)
        e_l = np.where(nw, rel[live], 0)
        ex_l = ex[live] - seen
        ex_l = np.where((ex[live] == -1) | (ex_l >= n), -1, ex_l)
        order = (
            e_l,
            ref[live],
            side_a[live],
            np.where(cr, nan, sl[live]),
            np.where(cr, frac[live], tsl[live]),
            np.where(cr, nan, tp[live]),
            np.where(cr, 0, trail[live]),
            np.where(cr, stop[live], slp[live]),
            np.where(cr, target[live], tpp[live]),
            np.full(live.size, same, dtype=np.int64),
            np.where(cr, reference.ENTRY_AT_OPEN, at).astype(np.int64),
            ex_l,
            slip[live],
        )
        got = _run_exits(idx, order, (live.size,), None if cols is None else cols[live])
        ri, rp, rr = (np.asarray(a) for a in got)
        done = ri >= 0
        xi[live[done]] = ri[done] + seen
        xp[live[done]] = rp[done]
        xr[live[done]] = rr[done]
        phase[live] = np.where(done, 2, 1)
        still = ~done
        if still.any():
            first = np.where(nw, e_l + (at == reference.ENTRY_AT_CLOSE), 0)[still]
            pos = live[still]
            ref[pos] = _carry_ref(idx, None if cols is None else cols[pos], first, ref[pos], side_a[pos] == 1)
    new_state = ExitState(
        seen + n,
        *(a.reshape(shape) for a in (phase, ref, stop, target, frac, xi, xp, xr)),
    )
    return _shape_exits((xi, xp, xr), shape), new_state


def _carry_ref(idx: BarIndex, cols: Any, first: np.ndarray, ref: np.ndarray, lng: np.ndarray) -> np.ndarray:
    """The trailing reference of open positions after the chunk: from ``ref``, each usable
    bar ``j >= first`` (no NaN price) replaces it if its high is strictly higher (long) / its
    low strictly lower (short) -- reference.exit_order's update -- so the result is the
    best of ``ref`` and the bars' suffix best, and of equal bars the first (which decides
    the sign of a zero: those rare positions are folded bar by bar)."""
    h, lo = idx.high, idx.low  # (NaN on a bar with a NaN price: BarIndex's fill_high / fill_low)
    n = h.shape[-1]
    pad = [(0, 0)] * (h.ndim - 1) + [(0, 1)]
    hi = np.pad(np.where(np.isnan(h), -np.inf, h), pad, constant_values=-np.inf)
    lw = np.pad(np.where(np.isnan(lo), np.inf, lo), pad, constant_values=np.inf)
    best_hi = np.maximum.accumulate(hi[..., ::-1], axis=-1)[..., ::-1]
    best_lo = np.minimum.accumulate(lw[..., ::-1], axis=-1)[..., ::-1]
    if cols is None:
        cand = np.where(lng, best_hi.reshape(-1)[first], best_lo.reshape(-1)[first])
    else:
        cand = np.where(lng, best_hi[cols, first], best_lo[cols, first])
    with np.errstate(invalid="ignore"):
        better = np.where(lng, cand > ref, cand < ref)
    out = np.where(better, cand, ref)
    for k in np.flatnonzero(better & (cand == 0)):  # the first zero bar decides the sign
        vals = (hi if lng[k] else lw)[..., :n] if cols is None else (hi if lng[k] else lw)[cols[k], :n]
        j = int(first[k]) + int(np.flatnonzero(vals.reshape(-1)[first[k] :] == 0)[0])
        out[k] = vals.reshape(-1)[j]
    return out


def _flat(order: Tuple[np.ndarray, ...], shape: Tuple[int, ...]) -> Tuple[np.ndarray, ...]:
    size = math.prod(shape)

    def flat1(a: np.ndarray) -> np.ndarray:
        if a.shape == shape:
            return np.ascontiguousarray(a).reshape(-1)
        if a.ndim == 0:
            return np.full(size, a[()], dtype=a.dtype)
        return np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1)

    return tuple(flat1(a) for a in order)


def _shape_exits(res: Tuple[np.ndarray, ...], shape: Tuple[int, ...]) -> Exits:
    out = [np.asarray(r).reshape(shape) for r in res]
    if not shape:
        return Exits(out[0][()], out[1][()], out[2][()])
    return Exits(*out)


def _native_exits(
    idx: BarIndex, order: Tuple[np.ndarray, ...], shape: Tuple[int, ...], cols: Any = None
) -> Exits:
    a = idx.arrays  # open, fill_low, fill_high, the eight summaries
    bar_arrays = (a[0], idx.close, *a[1:])
    if cols is not None:
        pad = (-1, np.nan, 1, np.nan, np.nan, np.nan, 0, np.nan, np.nan, 0, 0, -1, 0.0)
        res = _run_by_col(ufuncs.exit_orders, bar_arrays, _flat(order, shape), cols, pad)
        return _shape_exits(res, shape)
    with np.errstate(all="ignore"):
        res = ufuncs.exit_orders(*bar_arrays, *_flat(order, shape))
    return _shape_exits(res, shape)


def _reference_exits(
    idx: BarIndex, order: Tuple[np.ndarray, ...], shape: Tuple[int, ...], cols: Any = None
) -> Exits:
    flat_cols = [np.broadcast_to(x, shape).ravel().tolist() for x in order]
    ri, rp, rr = _rows_reference(idx, reference.exit_orders, flat_cols, cols, 3)
    return _shape_exits(
        (np.asarray(ri, dtype=np.int64), np.asarray(rp, dtype=np.float64), np.asarray(rr, dtype=np.int64)),
        shape,
    )


# --------------------------------------------------------------------------
# 2-D bars: one row per order, by the ufunc's broadcasting over the rows
# --------------------------------------------------------------------------


def _col_array(idx: BarIndex, col: Any, shape: Tuple[int, ...], fn: str) -> Any:
    """``col`` broadcast to ``shape`` as flat int64 (None for 1-D bars without col)."""
    if col is None:
        if idx.open.ndim == 2:
            raise ValueError(
                f"tradekernels.{fn}: 2-D bars (symbols x time) need col= (the row of every order)"
            )
        return None
    c = np.asarray(col)
    if c.dtype.kind not in "iu":
        raise TypeError(f"tradekernels.{fn}: col must be integers (row numbers), got dtype {c.dtype}")
    rows = idx.symbols
    if c.size and (int(c.min()) < 0 or int(c.max()) >= rows):
        bad = c[(c < 0) | (c >= rows)] if c.ndim else c
        raise IndexError(
            f"tradekernels.{fn}: col {int(np.ravel(bad)[0])} is out of range for {rows} bar series"
        )
    if idx.open.ndim == 1:
        return None  # every col is 0
    try:
        return np.ascontiguousarray(np.broadcast_to(c, shape), dtype=np.int64).reshape(-1)
    except ValueError:
        msg = f"col {c.shape} does not broadcast against the orders {shape}"
        raise ValueError(f"tradekernels.{fn}: {msg}") from None


def _run_by_col(
    uf: Any,
    bar_arrays: Tuple[np.ndarray, ...],
    flat: Tuple[np.ndarray, ...],
    col: np.ndarray,
    pad: Tuple[Any, ...],
) -> Tuple[np.ndarray, ...]:
    """Run a per-row ufunc (bars ``(S, .)``, orders as a core dimension) on flat orders with a row each.

    The orders are grouped by row into an ``(S, o_max)`` block padded with
    ``pad`` (an order that never fills / exits), so one call answers all rows;
    when the rows are very uneven, one call per row with orders instead."""
    size = col.size
    rows = bar_arrays[0].shape[0]
    counts = np.bincount(col, minlength=rows)
    omax = int(counts.max()) if size else 0
    perm = np.argsort(col, kind="stable")
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    cs = col[perm]
    with np.errstate(all="ignore"):
        if rows * omax <= 2 * size + 4096:
            slot = np.arange(size) - starts[cs]
            padded = []
            for a, p in zip(flat, pad):
                b = np.full((rows, omax), p, dtype=a.dtype)
                b[cs, slot] = a[perm]
                padded.append(b)
            res = uf(*bar_arrays, *padded)
            res = res if isinstance(res, tuple) else (res,)
            outs = []
            for r in res:
                o = np.empty(size, dtype=r.dtype)
                o[perm] = r[cs, slot]
                outs.append(o)
            return tuple(outs)
        outs = None
        for row in np.flatnonzero(counts):
            sel = perm[starts[row] : starts[row] + counts[row]]
            res = uf(*(b[row] for b in bar_arrays), *(a[sel] for a in flat))
            res = res if isinstance(res, tuple) else (res,)
            if outs is None:
                outs = [np.empty(size, dtype=r.dtype) for r in res]
            for o, r in zip(outs, res):
                o[sel] = r
        return tuple(outs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Signal backtests
# --------------------------------------------------------------------------

#: The trade records of :func:`trades_from_signals` (a NumPy structured array).
TRADE_DTYPE = np.dtype(
    [
        ("col", np.int64),
        ("entry_idx", np.int64),
        ("entry_price", np.float64),
        ("exit_idx", np.int64),
        ("exit_price", np.float64),
        ("exit_reason", np.int64),
        ("return", np.float64),
        ("duration_bars", np.int64),
    ]
)


def _terr(msg: str) -> str:
    return f"tradekernels.trades_from_signals: {msg}"


def _signal_values(name: str, values: Any) -> Any:
    """The values of a pandas / polars signal container: those of a boolean dtype (NumPy
    bool, nullable ``boolean``, ``bool[pyarrow]``, polars Boolean) as NumPy bools, a missing
    value refused (ValueError: no guess at what NA means); other dtypes as they are (refused
    by :func:`_signal_array`).  Anything else is returned unchanged."""
    pd, pl = sys.modules.get("pandas"), sys.modules.get("polars")
    if pd is not None and isinstance(values, (pd.Series, pd.DataFrame, pd.api.extensions.ExtensionArray)):
        dtypes = list(values.dtypes) if isinstance(values, pd.DataFrame) else [values.dtype]
        if not dtypes or not all(pd.api.types.is_bool_dtype(d) for d in dtypes):
            return values.to_numpy()
        missing = bool(np.asarray(pd.isna(values)).any())
    elif pl is not None and isinstance(values, pl.Series):
        if values.dtype != pl.Boolean:
            return values.to_numpy()
        missing = values.null_count() > 0
    else:
        return values
    if missing:
        raise ValueError(
            _terr(f"{name} has missing values (NA / null); a signal is True or False: fill them first")
        )
    return (
        values.to_numpy() if pl is not None and isinstance(values, pl.Series) else values.to_numpy(dtype=bool)
    )


def _signal_array(name: str, values: Any, shape: Tuple[int, ...]) -> np.ndarray:
    a = np.asarray(values)
    if a.dtype != np.bool_:
        raise TypeError(_terr(f"{name} must be booleans, got dtype {a.dtype}"))
    if a.shape != shape:
        raise ValueError(_terr(f"{name} must have the shape of the bars {shape}, got {a.shape}"))
    return a


def _scalar_stop(name: str, v: Any, fn: str = "tradekernels.trades_from_signals") -> float:
    if v is None:
        return math.nan
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{fn}: {name} must be a number or None, got {type(v).__name__}")
    if not float(v) >= 0 and not math.isnan(float(v)):
        raise ValueError(f"{fn}: {name} must be >= 0, got {v!r}")
    return float(v)


def _signal_params(
    side: Any,
    price: Any,
    sl_stop: Any,
    tsl_stop: Any,
    tp_stop: Any,
    sl_trail: Any,
    same_bar: Any,
    slippage: Any,
    fees: Any,
    reenter_on_exit_bar: Any,
    fn: str = "tradekernels.trades_from_signals",
) -> Tuple[Tuple[Any, ...], float]:
    """The checked parameters of a signal backtest: the kernel's ``(side, sl, tsl, tp,
    sl_trail, same_bar, slippage, reenter, price_at)`` and the fee; errors name ``fn``."""
    if not isinstance(price, str) or price not in ("close", "open"):  # (an array: no `in`)
        raise ValueError(
            f"{fn}: price must be 'close' (orders at the signal bar's close) or 'open' (at the next "
            f"bar's open), got {price!r}"
        )
    if isinstance(side, (bool, np.bool_)) or side not in (1, -1):
        raise ValueError(f"{fn}: side must be +1 (long) or -1 (short), got {side!r}")
    sl, tsl, tp = (
        _scalar_stop(nm, v, fn)
        for nm, v in (("sl_stop", sl_stop), ("tsl_stop", tsl_stop), ("tp_stop", tp_stop))
    )
    slip, fee = _scalar_stop("slippage", slippage, fn), _scalar_stop("fees", fees, fn)
    if math.isnan(slip) or slip >= 1 or math.isnan(fee):
        raise ValueError(f"{fn}: slippage must be a fraction in [0, 1) and fees a number >= 0")
    same = _choice("same_bar", same_bar, _core.SAME_BAR, fn)
    params = (
        int(side),
        sl,
        tsl,
        tp,
        int(bool(sl_trail)),
        same,
        slip,
        int(bool(reenter_on_exit_bar)),
        _core.ENTRY_AT[price],
    )
    return params, fee


def trades_from_signals(
    bars_or_index: Any,
    entries: Any,
    exits: Any = None,
    *,
    side: int = 1,
    price: str = "close",
    sl_stop: Any = None,
    tsl_stop: Any = None,
    tp_stop: Any = None,
    sl_trail: bool = False,
    same_bar: str = "stop",
    slippage: float = 0.0,
    fees: float = 0.0,
    reenter_on_exit_bar: bool = False,
    state: Any = None,
    return_state: bool = False,
) -> Any:
    """Trades of a signal backtest: one position at a time per bar series, entries and exits
    from boolean signals, stops as in :func:`exit_orders`.

    ``bars_or_index``: a :class:`BarIndex` (1-D bars, or 2-D symbols x time),
    a tuple ``(open, high, low, close)``, or a DataFrame or dict
    ``{"open": df, "high": df, "low": df, "close": df}`` of DataFrames as
    :meth:`BarIndex.from_frame` reads them (the frames' index: the bars'
    timestamps; their columns: the symbols);
    ``entries`` / ``exits``: booleans of the bars' shape (``exits=None``: none;
    NumPy bool, or a pandas / polars boolean dtype such as the nullable ``"boolean"``:
    a missing value there is a ValueError, fill it first; integers are refused);
    with a dict of DataFrames, DataFrames of the same index and columns (or
    arrays of their ``(bars, symbols)`` shape).
    ``price="close"`` (default): orders at the close of the signal bar;
    ``price="open"``: at the open of the next bar (a signal is known at the
    close; the entry bar's own high and low then count for the stops).  Trades
    leave at the first of their stops and the next exit signal.  The exact
    rules (conflicting signals, the order of stops and signals, signals on
    the exit bar, slippage, the end) are those of
    :func:`tradekernels.fills.reference.trades_from_signals`; with
    ``slippage=fees=0`` and ``reenter_on_exit_bar=False`` the trades equal
    vectorbt's ``Portfolio.from_signals(close, entries, exits, open=, high=,
    low=, sl_stop=, tp_stop=, sl_trail=)`` trade records (entry / exit bar
    and price).  ``reenter_on_exit_bar=True`` re-enters on an entry signal at
    the exit bar, as backtesting.py does.  The stops (``sl_stop``, ``tsl_stop``,
    ``tp_stop``) are one number each for every symbol (per-position stops:
    :func:`exit_orders`, whose arguments broadcast).

    The C kernel jumps from trade to trade: the exit is the skipping stop
    search (blocks whose band is not crossed cost O(1)), cut short by an exit
    signal found by a byte scan up to the stop bar; the next entry is a byte
    scan from the exit.  Each signal byte is read at most once and the price
    bars only where the stop search needs them, so beyond one pass over the
    signals (about a byte per bar) the cost grows with the number of trades.

    Returns a structured array of :data:`TRADE_DTYPE` (``col``, ``entry_idx``,
    ``entry_price``, ``exit_idx``, ``exit_price``, ``exit_reason`` (an
    :class:`ExitReason` code: SIGNAL, SL, TSL, TP or END), ``return`` (after
    fees on both sides and slippage), ``duration_bars``), sorted by col and
    entry; a pandas DataFrame (with ``entry_time`` / ``exit_time`` from the index)
    when the bars are a pandas DataFrame, and also a ``symbol`` column (the column
    name of the trade's series) when they are a dict of DataFrames.  A polars
    DataFrame has no index: its trades are the structured array (as
    :func:`fill_orders` / :func:`exit_orders` return NumPy for it).

    Bars in chunks: ``trades, st = trades_from_signals(chunk, entries, exits, ...,
    state=st, return_state=True)`` (``st=None`` first; the same parameters each
    call) reports the trades that close in the chunk, with global bar indices; the
    trade still open is carried in the :class:`SignalState` (entry, levels,
    trailing reference; with ``price="open"`` an order placed on the chunk's last
    bar) and reported once, where it closes, or with reason END by the last call,
    made with ``state=`` and without ``return_state`` (an empty chunk will do).
    The records of all calls, concatenated, are those of one call over all the
    bars, bit for bit.
    """
    framed = _dict_of_frames(bars_or_index, "trades_from_signals")
    pd = sys.modules.get("pandas")  # (a polars frame has no index: records, as for arrays)
    frame = bars_or_index if pd is not None and isinstance(bars_or_index, pd.DataFrame) else None
    if framed is not None:  # {"open": df, ...}: columns are symbols, rows are bars
        idx = BarIndex(*framed[2])
        entries = _frame_signals("entries", entries, framed)
        exits = None if exits is None else _frame_signals("exits", exits, framed)
    else:
        idx = _as_index(bars_or_index, "trades_from_signals")
    shape = idx.open.shape
    ent = _signal_array("entries", _signal_values("entries", entries), shape)
    ext = (
        np.zeros(shape, dtype=bool)
        if exits is None
        else _signal_array("exits", _signal_values("exits", exits), shape)
    )
    params, fee = _signal_params(
        side, price, sl_stop, tsl_stop, tp_stop, sl_trail, same_bar, slippage, fees, reenter_on_exit_bar
    )

    if return_state or state is not None:
        from ._signal_chunks import signals_chunk  # (imports this module)

        trades, new_state = signals_chunk(idx, ent, ext, params, state, not return_state)
    else:
        flat, xi, xp, xr = _signal_trades(idx, ent, ext, params)
        T = shape[-1]
        col, entry = np.divmod(flat, T) if T else (flat, flat)
        trades = (col, entry, _signal_entry_prices(idx, col, entry, params), xi, xp, xr)
        new_state = None
    rec = _trade_records(trades, params[0], fee)
    if frame is not None or framed is not None:
        index = frame.index if framed is None else framed[0]
        columns = None if framed is None else framed[1]
        rec, new_state = _trade_frame(rec, index, columns, state, new_state)
    return rec if not return_state else (rec, new_state)


def _signal_trades(
    idx: BarIndex, ent: np.ndarray, ext: np.ndarray, params: Tuple[Any, ...]
) -> Tuple[np.ndarray, ...]:
    """The trades of the signal kernel over all of ``idx``'s bars as ``(flat, exit_idx,
    exit_price, reason)``: ``flat`` the entry bars' positions in the ``(rows, T)`` grid,
    in order (a trade open at the last bar has reason END)."""
    shape = idx.open.shape
    rows2 = shape[0] if len(shape) == 2 else 1
    T = shape[-1]

    def sparse(xi: np.ndarray, xp: np.ndarray, xr: np.ndarray, r0: int) -> Tuple[np.ndarray, ...]:
        """The trades of dense per-bar outputs of rows r0.. (2-D: (R, T)): flat bar positions
        in the whole (rows, T) grid, exit index / price / reason."""
        f = np.flatnonzero(xi.reshape(-1) >= 0)
        return (f + r0 * T, xi.reshape(-1)[f], xp.reshape(-1)[f], xr.reshape(-1)[f])

    def native() -> Tuple[np.ndarray, ...]:
        a = idx.arrays
        if len(shape) == 1:
            with np.errstate(all="ignore"):
                return sparse(*ufuncs.trades_from_signals(a[0], idx.close, *a[1:], ent, ext, *params), 0)
        # Rows in chunks of about 2**18 bars into one reused scratch output: the dense
        # per-bar outputs stay in cache and their pages are touched once per call.
        step = max(1, min(rows2, (1 << 18) // max(T, 1)))
        scratch = (np.empty((step, T), np.int64), np.empty((step, T)), np.empty((step, T), np.int64))
        parts = []
        for r0 in range(0, rows2, step):
            r1 = min(r0 + step, rows2)
            out = tuple(x[: r1 - r0] for x in scratch)
            with np.errstate(all="ignore"):
                ufuncs.trades_from_signals(
                    a[0][r0:r1],
                    idx.close[r0:r1],
                    *(x[r0:r1] for x in a[1:]),
                    ent[r0:r1],
                    ext[r0:r1],
                    *params,
                    out=out,
                )
            parts.append(sparse(*out, r0))
        if not parts:
            return sparse(*(np.empty((0, T), d) for d in (np.int64, np.float64, np.int64)), 0)
        return tuple(np.concatenate(p) for p in zip(*parts))

    def ref() -> Tuple[np.ndarray, ...]:
        outs = [np.empty(shape, np.int64), np.empty(shape), np.empty(shape, np.int64)]
        rows = [()] if len(shape) == 1 else [(r,) for r in range(shape[0])]
        for r in rows:
            res = reference.trades_from_signals(
                *(b[r].tolist() for b in idx.bars), ent[r].tolist(), ext[r].tolist(), *params
            )
            for o, v in zip(outs, res):
                o[r] = v
        return sparse(*outs, 0)

    return _backend.dispatch(native, ref, lambda nat, rf: _backend.compare("trades_from_signals", nat, rf))


def _signal_entry_prices(
    idx: BarIndex, col: np.ndarray, entry: np.ndarray, params: Tuple[Any, ...]
) -> np.ndarray:
    """The entry prices of trades entered on bars ``entry`` of rows ``col``: the close (or, with
    ``price="open"``, the open) moved against the trader by the slippage."""
    side, slip, price_at = params[0], params[6], params[8]
    src = idx.open if price_at == reference.ENTRY_AT_OPEN else idx.close
    level = src[col, entry] if src.ndim == 2 else src[entry]  # (a strided view: indexed, not flattened)
    return level * (1.0 + slip) if side == 1 else level * (1.0 - slip)


class SignalState(NamedTuple):
    """Where :func:`trades_from_signals` stands after the bars seen so far (``state=`` for
    bars that arrive in chunks).  One value per bar series (0-d arrays for 1-D bars,
    ``(symbols,)`` for 2-D):

    * ``seen``: bars seen (the next chunk's first bar is bar ``seen``);
    * ``phase``: 0 not in a trade, 1 in a trade, 2 not in a trade with an entry at the
      next bar's open (``price="open"``: an entry signal on the last bar seen), 3 in a
      trade that exits at the next bar's open (an exit signal on the last bar seen);
    * ``entry_idx``, ``entry_price``: the open trade's entry bar and price (-1 / NaN);
    * ``ref``, ``stop``, ``target``, ``frac``: its trailing reference (the best usable
      high, for a long, or low, for a short, through the last bar seen), fixed stop level,
      target level and trailing fraction (NaN: none), as in :class:`ExitState`;
    * ``last_close``: the close of the last bar seen (where a trade still open when the
      bars end is marked, reason END);
    * ``entry_time``, ``last_time``: for DataFrame bars, pandas Indexes of one label per
      bar series: the open trade's entry time and the last bar's time (None for arrays).

    Compares by value, NaN (NaT) equal to NaN, and is unhashable, as :class:`FillState`.
    """

    seen: int
    phase: np.ndarray
    entry_idx: np.ndarray
    entry_price: np.ndarray
    ref: np.ndarray
    stop: np.ndarray
    target: np.ndarray
    frac: np.ndarray
    last_close: np.ndarray
    entry_time: Any
    last_time: Any

    __eq__ = _states_equal  # type: ignore[assignment]
    __ne__ = _states_differ  # type: ignore[assignment]
    __hash__ = None  # type: ignore[assignment]


def _trade_records(trades: Tuple[np.ndarray, ...], side: int, fee: float) -> np.ndarray:
    """TRADE_DTYPE records of ``(col, entry_idx, entry_price, exit_idx, exit_price, reason)``."""
    col, entry, entry_price, xi, xp, xr = trades
    rec = np.empty(len(col), dtype=TRADE_DTYPE)
    rec["col"] = col
    rec["entry_idx"] = entry
    rec["entry_price"] = entry_price
    rec["exit_idx"] = xi
    rec["exit_price"] = xp
    rec["exit_reason"] = xr
    cost = rec["entry_price"] * (1.0 + fee)
    gross = (rec["exit_price"] - rec["entry_price"]) * side
    with np.errstate(all="ignore"):
        rec["return"] = (gross - fee * (rec["entry_price"] + rec["exit_price"])) / cost
    rec["duration_bars"] = rec["exit_idx"] - rec["entry_idx"]
    return rec


def _trade_frame(rec: np.ndarray, index: Any, columns: Any, state: Any, new_state: Any) -> Tuple[Any, Any]:
    """The records as a DataFrame with ``entry_time`` / ``exit_time`` from the bars' ``index``
    (and ``symbol`` from ``columns``).  In chunks the indices are global: a trade entered
    in an earlier chunk takes its entry time from ``state.entry_time`` (and a trade closed
    by the last call of an empty chunk its exit time from ``state.last_time``), each a
    pandas Index of one label per bar series; the new state keeps the entry times of the
    trades still open and the last bar's time."""
    import pandas as pd

    seen = 0 if state is None else int(state.seen)
    n = len(index)
    some = new_state if new_state is not None else state
    rows = 1 if some is None else int(np.size(some.phase))  # (bar series)
    # times before this chunk that the state does not hold (a state from array bars or
    # from tk.stream.SignalTrades): missing (NaT), never a label of this chunk
    missing = (
        pd.DatetimeIndex([pd.NaT] * rows, tz=index.tz).as_unit(index.unit)
        if isinstance(index, pd.DatetimeIndex)
        else pd.Index([None] * rows, dtype=object)
    )

    def at(local: np.ndarray, carried: Any) -> Any:
        if not (local < 0).any():
            return index.take(local)
        labels = index.append(missing if carried is None else carried)
        return labels.take(np.where(local >= 0, local, n + rec["col"]))

    df = pd.DataFrame(rec)
    df.insert(2, "entry_time", at(rec["entry_idx"] - seen, None if state is None else state.entry_time))
    df.insert(5, "exit_time", at(rec["exit_idx"] - seen, None if state is None else state.last_time))
    if columns is not None:
        df.insert(1, "symbol", np.asarray(columns, dtype=object)[rec["col"]])
    if new_state is not None:
        e = np.asarray(new_state.entry_idx).reshape(rows) - seen
        old_e = None if state is None else state.entry_time
        lab = index.append(missing if old_e is None else old_e)
        entry_time = lab.take(np.where(e >= 0, e, n + np.arange(rows)))
        old_l = None if state is None else state.last_time
        last_time = index.take(np.full(rows, n - 1)) if n else (missing if old_l is None else old_l)
        new_state = new_state._replace(entry_time=entry_time, last_time=last_time)
    return df, new_state


_OHLC = ("open", "high", "low", "close")


def _dict_of_frames(bars: Any, fn: str) -> Any:
    """``(index, columns, (open, high, low, close) as (symbols, time) float64)`` when ``bars``
    is a dict of the four names to pandas DataFrames (rows: bars, columns: symbols) of one
    index and one set of columns; None for any other bars.  The one reader of this layout
    (BarIndex.from_frame, fill_orders, exit_orders, trades_from_signals); errors name
    ``tradekernels.<fn>``."""
    pd = sys.modules.get("pandas")
    if (
        pd is None
        or not isinstance(bars, dict)
        or not all(isinstance(bars.get(k), pd.DataFrame) for k in _OHLC)
    ):
        return None
    first = bars["open"]
    for k in _OHLC[1:]:
        f = bars[k]
        if not (f.index.equals(first.index) and f.columns.equals(first.columns)):
            raise ValueError(
                f"tradekernels.{fn}: bars['{k}'] must have the index and columns of bars['open'] "
                "(one bar grid)"
            )
    arrays = tuple(bars[k].to_numpy(dtype=np.float64, na_value=np.nan).T for k in _OHLC)
    return first.index, first.columns, arrays


def _frame_signals(name: str, values: Any, framed: Any) -> np.ndarray:
    """Signals for dict-of-DataFrames bars: a DataFrame of the bars' index and columns, or
    an array of their (bars, symbols) shape; returned as (symbols, time)."""
    pd = sys.modules.get("pandas")
    index, columns = framed[0], framed[1]
    if pd is not None and isinstance(values, pd.DataFrame):
        if not (values.index.equals(index) and values.columns.equals(columns)):
            raise ValueError(_terr(f"{name} must have the index and columns of the bar DataFrames"))
    a = np.asarray(_signal_values(name, values))
    if a.shape != (len(index), len(columns)):
        raise ValueError(
            _terr(
                f"{name} must have the bars' shape {(len(index), len(columns))} "
                f"(bars x symbols), got {a.shape}"
            )
        )
    return a.T
