"""The state before the first bar of every stateful scan kernel, written out here from
each kernel's documented semantics (tradekernels._state, the twins' docstrings), NOT read
from the kernel table: tests compare the table, ``State.initial``, the twins' ``START``
and the C kernels' own initial states against it.

* returns: no previous price yet (``prev`` NaN, so the first return is NaN);
* cumulative_returns: the empty product 1;
* the drawdown family: no peak yet (``-inf``: any price is a new peak); no best
  drawdown yet (``+inf``: any drawdown is better), nothing seen (0);
* underwater_bars / max_drawdown_duration: no count yet (-1: before the first price);
* ulcer_index: an empty sum of squares and count (0, 0);
* drawdown_episode: no peak, no indices (-1), no best drawdown (``+inf``), its peak
  price 0 (unused until seen), nothing seen, 0 bars so far;
* drawdowns (records): no peak, valley 0, no last price (NaN), no indices, 0 bars,
  not in an episode.
"""

from __future__ import annotations

import math

INF, NAN = math.inf, math.nan

INITIAL_STATES = {
    "simple_returns": {"prev": NAN},
    "log_returns": {"prev": NAN},
    "cumulative_returns": {"prod": 1.0},
    "drawdown": {"peak": -INF},
    "underwater_bars": {"peak": -INF, "count": -1.0},
    "max_drawdown_duration": {"peak": -INF, "count": -1.0, "best": -1.0},
    "max_drawdown": {"peak": -INF, "best": INF, "seen": 0.0},
    "ulcer_index": {"peak": -INF, "sumsq": 0.0, "count": 0.0},
    "drawdown_episode": {
        "peak": -INF,
        "peak_i": -1.0,
        "best": INF,
        "best_peak": 0.0,
        "best_peak_i": -1.0,
        "trough_i": -1.0,
        "recovery_i": -1.0,
        "seen": 0.0,
        "n": 0.0,
    },
    "drawdowns": {
        "peak": -INF,
        "valley": 0.0,
        "last": NAN,
        "peak_i": -1.0,
        "valley_i": -1.0,
        "n": 0.0,
        "in_dd": 0.0,
    },
}


def same_float(a: float, b: float) -> bool:
    """Equal bits, NaN equal to NaN (any payload)."""
    if a != a or b != b:
        return a != a and b != b
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
