"""The kernels over dask arrays chunked along time (optional: ``pip install tradekernels[dask]``).

Two ways to use tradekernels with dask:

* **Time axis in one chunk** (symbols × time, chunked by symbol): the raw
  gufuncs work directly, ``tradekernels.ufuncs.drawdown(x)`` on a dask array
  goes through NumPy's ``__array_ufunc__`` to ``dask.array.apply_gufunc``
  (one kernel call per block, GIL released, any scheduler).
* **Time axis in several chunks**: the functions of this module, named like
  the top-level kernels, carry each series' state from chunk to chunk
  (:mod:`tradekernels._state`) so the result equals the in-memory one
  **bit for bit**, whatever the chunking::

      import tradekernels.dask as tkd
      dd = tkd.drawdown(x)            # x: dask array, time on the last axis
      mdd = tkd.max_drawdown(x).compute()

How each kernel is split (exactness always wins over parallelism):

=====================  ===============================================================
kernel                 plan
=====================  ===============================================================
simple/log_returns     parallel: chunk ``j`` starts from the last value of the last
                       non-empty chunk before it (a slice, no pass over the data)
drawdown               two-pass: (1) each chunk's peak (a read-only ``max_drawdown``
                       pass, in parallel); the carried peak of chunk ``j`` is the
                       fold ``p = s if s > p else p`` over the earlier chunks'
                       peaks, which is exact (it is the kernel's own peak rule);
                       (2) each chunk's drawdown from its carried peak, in parallel
max_drawdown           the same two passes; pass 2 gives each chunk's
                       ``(best, seen)`` from the carried peak; the final result
                       folds them with ``d < best`` (exact: a minimum, and
                       drawdowns are never -0.0)
cumulative_returns     sequential carry of the running product chunk to chunk
                       (a product of chunk products would round differently)
underwater_bars        sequential carry of ``(peak, count)``
drawdown_episode       sequential carry of the 9-field state (global indices,
                       recovery search across chunks)
ulcer_index            sequential carry of ``(peak, sumsq, count)`` (a sum of
                       per-chunk sums would round differently); ``ddof`` from the
                       last state, with the in-memory function's formula
rolling_max_drawdown   parallel: each chunk with the last ``window - 1`` bars
                       before it (from as many earlier chunks as that takes)
drawdowns (records)    sequential carry of the episode state; an episode is
                       reported in the chunk where it recovers, the active one by
                       the last chunk; one block of records per block of series
=====================  ===============================================================

NaN policy (``nan=`` of drawdown, max_drawdown, ulcer_index, rolling_max_drawdown,
drawdowns): a pre-pass gives the policy's prices chunk by chunk from each chunk's
carry (:func:`tradekernels._api.apply_nan_policy_chunk`, as the top-level chunked
calls), and the plans above run on them: ``"ffill"`` in parallel, ``"zero_return"``
in sequence with each series' first price found first (over all its chunks), so that
a leading chunk without a price gives the batch result.

Sessions (any chunking; timestamps as datetime64, or integer epochs of ``unit=``):
``session_mask``, ``session_label`` and ``minutes_into_session`` answer each
timestamp on its own (one task per block); ``session_start`` takes two
passes: (1) the label of each chunk's last session start, in parallel;
(2) each chunk from the label carried over the earlier chunks (the
``state=`` of :func:`tradekernels.session_start`), in parallel.
(``session_index`` is left out: its rows depend on the range of the table
each worker has built; ``session_label`` is the stable answer.)

Order fills: :func:`fill_orders` takes the orders as dask arrays (any
chunking; they broadcast like the in-memory function's) and the bars in
memory: the :class:`~tradekernels.BarIndex` is built once, stored once in
the graph and shared by one task per block of orders; :func:`exit_orders`
does the same for positions (stop loss / trailing stop / take profit exits).
With the bars as a tuple of dask arrays chunked along time, both instead run
the time chunks in order (chunked calls, each from the previous chunk's
state), all orders in one chunk.
:func:`trades_from_signals` takes the bars and signals as dask arrays chunked
along time (and symbols): each block of series runs its time chunks in order,
each from the previous chunk's :class:`~tradekernels.SignalState`, blocks of
series in parallel; one block of records per block of series.

"Sequential" means chunk ``j`` of a series waits for chunk ``j-1``'s state
(a tiny array); different series (chunks of the other axes) still run in
parallel.  Inputs: dask arrays (NumPy arrays are wrapped in one chunk);
float32 stays float32, ints and bools compute as float64.  ``axis`` picks
the time axis (None, the default: the last).  Every function takes the
parameters of its top-level twin (same names, kinds and defaults) but
``out=``, ``state=``, ``return_state=`` (no meaning on a lazy array: the state
is carried here) and ``drawdowns``' ``style=`` (pandas frames);
``trades_from_signals`` names its first parameter ``bars`` (the four bar
arrays, never a :class:`~tradekernels.BarIndex`).  Scans return a dask array chunked like the
input; ``max_drawdown`` one value per series; ``drawdown_episode`` an
:class:`~tradekernels.Episode` of four dask arrays.
"""

from __future__ import annotations

from .fills.dask import exit_orders, fill_orders, trades_from_signals
from .scans.dask import *  # noqa: F401,F403 - one function per scan kernel
from .scans.dask import __all__ as _scans_all
from .sessions.dask import minutes_into_session, session_label, session_mask, session_start

__all__ = list(_scans_all) + [
    "session_mask",
    "session_label",
    "minutes_into_session",
    "session_start",
    "fill_orders",
    "exit_orders",
    "trades_from_signals",
]
