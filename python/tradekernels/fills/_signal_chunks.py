"""trades_from_signals over bars that arrive in chunks (``state=`` / ``return_state=True``).

One chunk (bars ``seen .. seen + n - 1``) from a :class:`SignalState`, in two steps:

1. **The trade carried in.**  A row in a trade goes on as the position it is at the
   chunk's first bar (:func:`tradekernels.fills.api._exit_chunk`'s conversion: entered
   there at its trailing reference, checked from that bar, its levels as absolute
   prices and its trailing fraction as ``tsl_stop``), with the first exit signal of
   the chunk as its expiry, through the exit kernel; so are the rows whose
   ``price="open"`` entry signal was on the last bar seen (entered at this chunk's
   first open, as a new position).  A ``price="open"`` exit signal on the last bar
   seen closes the trade at this chunk's first open.
2. **The trades after it.**  The signal kernel over the chunk, each row's entry
   signals masked before the bar where the scan goes on (the bar after the carried
   trade's exit, or its exit bar with ``reenter`` / ``price="open"``).

The kernel treats the chunk's last bar as the last bar of all; unless the call is the
last (``final``), its answers there are corrected: a trade it closes with reason END
is carried (its levels set from its entry price, its trailing reference folded over
the bars after its entry), and with ``price="open"`` an exit signal on the last bar
(of a trade still open) or an entry signal there (of a row not in a trade) waits for
the next chunk's first open.  Everything else depends only on bars up to its own, so
after the last chunk the trades equal one call over all the bars, bit for bit
(``tests/test_signals_chunks.py``).
"""

from __future__ import annotations

from typing import Any, Tuple

import numpy as np

from . import reference
from .api import (
    BarIndex,
    SignalState,
    _carry_ref,
    _chunk_seen,
    _levels,
    _run_exits,
    _signal_entry_prices,
    _signal_trades,
    _state_int,
    _terr,
)

_FLAT, _OPEN, _ENTER_AT_OPEN, _EXIT_AT_OPEN = 0, 1, 2, 3


def _start_state(rows: int) -> list:
    nan = np.full(rows, np.nan)
    return [
        np.zeros(rows, dtype=np.int8),
        np.full(rows, -1, dtype=np.int64),
        *(nan.copy() for _ in range(6)),
        None,
        None,
    ]


def _read_state(state: Any, lead: Tuple[int, ...], rows: int) -> Tuple[int, list]:
    seen = _chunk_seen(state, SignalState, lead, _terr, "bar series", slice(1, 9))
    if any(t is not None and len(t) != rows for t in state[9:]):
        raise ValueError(_terr(f"the state's entry_time / last_time must hold {rows} labels"))
    phase = _state_int(state, "phase", _FLAT, _EXIT_AT_OPEN, _terr).astype(np.int8).reshape(rows)
    entry = _state_int(state, "entry_idx", -1, seen - 1, _terr).reshape(rows)
    in_trade = (phase == _OPEN) | (phase == _EXIT_AT_OPEN)
    if (in_trade != (entry >= 0)).any():
        raise ValueError(_terr("state.entry_idx must be a bar seen (phase 1, 3) or -1 (phase 0, 2)"))
    arrays = [
        phase,
        entry,
        *(np.array(a, dtype=np.float64).reshape(rows) for a in state[3:9]),
        state.entry_time,
        state.last_time,
    ]
    return seen, arrays


def signals_chunk(
    idx: BarIndex,
    ent: np.ndarray,
    ext: np.ndarray,
    params: Tuple[Any, ...],
    state: Any,
    final: bool,
) -> Tuple[Tuple[np.ndarray, ...], Any]:
    """The trades that close in this chunk (all that remain open too, with reason END,
    when ``final``) as ``(col, entry_idx, entry_price, exit_idx, exit_price, reason)``
    with global bar indices, sorted by col and entry; and the new :class:`SignalState`
    (None when ``final``)."""
    side, sl, tsl, tp, trail, same, slip, reenter, price_at = params
    at_open = price_at == reference.ENTRY_AT_OPEN
    shape = idx.open.shape
    lead = shape[:-1]
    rows = shape[0] if len(shape) == 2 else 1
    n = shape[-1]
    two_d = len(shape) == 2
    if state is None:
        seen, st = 0, _start_state(rows)
    else:
        seen, st = _read_state(state, lead, rows)
    phase, entry_idx, entry_price, ref, stop, target, frac, last_close, entry_time, last_time = st
    lng = side == 1
    OPN, CLS = idx.open.reshape(rows, n), idx.close.reshape(rows, n)
    E = (ent & ~ext).reshape(rows, n)  # the signals that count (a bar with both has neither)
    X = (ext & ~ent).reshape(rows, n)
    out: list = []  # (col, entry_idx, entry_price, exit_idx, exit_price, reason) parts

    def close_at(r: np.ndarray, xi: np.ndarray, xp: np.ndarray, why: Any) -> None:
        out.append((r, entry_idx[r].copy(), entry_price[r].copy(), xi, xp, np.broadcast_to(why, r.shape)))
        phase[r] = _FLAT
        entry_idx[r] = -1
        entry_price[r] = ref[r] = stop[r] = target[r] = frac[r] = np.nan

    def signal_price(level: np.ndarray) -> np.ndarray:
        return level * (1.0 - slip) if lng else level * (1.0 + slip)

    start = np.full(rows, n, dtype=np.int64)  # the bar of each row where the entry scan goes on
    start[phase == _FLAT] = 0
    if n == 0:
        if final:  # the bars ended with the last chunk: a trade still open is marked there
            r = np.flatnonzero((phase == _OPEN) | (phase == _EXIT_AT_OPEN))
            close_at(r, np.full(r.size, seen - 1), last_close[r], reference.EXIT_END)
    else:
        # 1. the trade carried in (and the price="open" orders of the last bar seen)
        r = np.flatnonzero(phase == _EXIT_AT_OPEN)
        close_at(r, np.full(r.size, seen), signal_price(OPN[r, 0]), reference.EXIT_SIGNAL)
        start[r] = 0
        r = np.flatnonzero(phase == _ENTER_AT_OPEN)
        go = r[OPN[r, 0] == OPN[r, 0]]  # no entry at a NaN open: the scan goes on from this bar
        phase[r], start[r] = _FLAT, 0
        fresh = np.zeros(rows, dtype=bool)
        if go.size:
            fresh[go] = True
            phase[go], start[go] = _OPEN, n
            entry_idx[go] = seen
            entry_price[go] = ref[go] = OPN[go, 0] * (1.0 + slip) if lng else OPN[go, 0] * (1.0 - slip)
            stop[go], target[go], frac[go] = _levels(entry_price[go], lng, sl, tsl, tp, trail, np.nan, np.nan)
        r = np.flatnonzero(phase == _OPEN)
        if r.size:
            lim = n - 1 if (at_open and final) else n  # an exit signal on the very last bar acts on nothing
            has = X[r, :lim].any(axis=1)
            x = np.where(has, X[r, :lim].argmax(axis=1) if lim else 0, -1)
            fr = fresh[r]
            nan = np.full(r.size, np.nan)
            order = (
                np.zeros(r.size, dtype=np.int64),
                ref[r],
                np.full(r.size, side, dtype=np.int64),
                np.where(fr, sl, nan),
                np.where(fr, tsl, frac[r]),
                np.where(fr, tp, nan),
                np.where(fr, trail, 0).astype(np.int64),
                np.where(fr, nan, stop[r]),
                np.where(fr, nan, target[r]),
                np.full(r.size, same, dtype=np.int64),
                np.full(r.size, reference.ENTRY_AT_OPEN, dtype=np.int64),
                x,
                np.full(r.size, slip),
            )
            ri, rp, rr = (np.asarray(a) for a in _run_exits(idx, order, (r.size,), r if two_d else None))
            sig = rr == reference.EXIT_EXPIRY
            if at_open:  # the exit signal's order fills at the next open
                wait = sig & (x == n - 1)
                phase[r[wait]] = _EXIT_AT_OPEN
                sig &= ~wait
                xs = x[sig] + 1
                close_at(r[sig], seen + xs, signal_price(OPN[r[sig], xs]), reference.EXIT_SIGNAL)
                start[r[sig]] = xs
            else:
                xs = x[sig]
                close_at(r[sig], seen + xs, signal_price(CLS[r[sig], xs]), reference.EXIT_SIGNAL)
                start[r[sig]] = xs + (0 if reenter else 1)
            stopped = (ri >= 0) & ~sig & (rr != reference.EXIT_EXPIRY)
            close_at(r[stopped], seen + ri[stopped], rp[stopped], rr[stopped])
            start[r[stopped]] = ri[stopped] + (0 if (reenter or at_open) else 1)
            still = rr == reference.EXIT_NONE
            if final:
                close_at(
                    r[still],
                    np.full(int(still.sum()), seen + n - 1),
                    CLS[r[still], n - 1],
                    reference.EXIT_END,
                )
            elif still.any():
                k = r[still]
                ref[k] = _carry_ref(
                    idx, k if two_d else None, np.zeros(k.size, dtype=np.int64), ref[k], np.full(k.size, lng)
                )
        # 2. the trades after it: the kernel over the chunk from each row's start bar
        live = start < n
        if live.any():
            scan = np.arange(n) >= start[:, None]
            ent_b = (ent.reshape(rows, n) & scan).reshape(shape)
            flat, xi, xp, xr = _signal_trades(idx, ent_b, ext, params)
            col, e = np.divmod(flat, n)
            end = xr == reference.EXIT_END
            keep = ~end if not final else np.ones(len(flat), dtype=bool)
            P = _signal_entry_prices(idx, col, e, params)
            out.append((col[keep], seen + e[keep], P[keep], seen + xi[keep], xp[keep], xr[keep]))
            if not final and end.any():  # open at the chunk's end: carried
                k, ek = col[end], e[end]
                phase[k] = _OPEN
                entry_idx[k] = seen + ek
                entry_price[k] = ref[k] = P[end]
                stop[k], target[k], frac[k] = _levels(P[end], lng, sl, tsl, tp, trail, np.nan, np.nan)
                first = ek + (0 if at_open else 1)
                ref[k] = _carry_ref(idx, k if two_d else None, first, ref[k], np.full(k.size, lng))
                if at_open:
                    phase[k[X[k, n - 1]]] = _EXIT_AT_OPEN
            if at_open and not final:  # an entry signal on the last bar: at the next open
                phase[live & (phase == _FLAT) & E[:, n - 1]] = _ENTER_AT_OPEN
        last_close = CLS[:, n - 1].copy()
    dtypes = (np.int64, np.int64, np.float64, np.int64, np.float64, np.int64)
    trades = [
        np.concatenate([np.asarray(p[f], dtype=d).reshape(-1) for p in out]) if out else np.empty(0, d)
        for f, d in enumerate(dtypes)
    ]
    order_ = np.lexsort((trades[1], trades[0]))
    trades = [t[order_] for t in trades]
    if final:
        return tuple(trades), None
    new = SignalState(
        seen + n,
        phase.reshape(lead),
        entry_idx.reshape(lead),
        entry_price.reshape(lead),
        ref.reshape(lead),
        stop.reshape(lead),
        target.reshape(lead),
        frac.reshape(lead),
        last_close.reshape(lead),
        entry_time,
        last_time,
    )
    return tuple(trades), new
