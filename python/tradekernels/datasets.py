"""Embedded, deterministic demo data (generated in-package, nothing is downloaded).

:func:`synthetic_closes` builds a panel of daily closing prices that looks
enough like real equity data to exercise every edge the kernels handle:
per-symbol drift and volatility, prices rounded to cents (so running peaks
get retested exactly), late listings, trading suspensions and one symbol
that halves and never gets back to its old high.

pandas is an optional dependency of tradekernels; this module imports it
only when a dataset is requested.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["synthetic_closes"]

_START = "2015-01-02"


def _require_pandas() -> Any:
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - exercised only without pandas
        raise ImportError(
            "tradekernels.datasets needs pandas, an optional dependency: pip install tradekernels[pandas]"
        ) from exc
    return pd


def synthetic_closes(n_symbols: int = 500, n_days: int = 2520, seed: int = 20261124) -> Any:
    """Daily closes of ``n_symbols`` synthetic stocks over ``n_days`` business days.

    The result is a ``pandas.DataFrame`` of float64 prices:

    * **index**: a business-day ``DatetimeIndex`` starting 2015-01-02
      (``pandas.bdate_range``, no holidays), named ``"date"``;
    * **columns**: ``"SYM000"``, ``"SYM001"``, ... (zero-padded to at least
      three digits), named ``"symbol"``;
    * **prices**: geometric random walks (Gaussian log returns) with a
      per-symbol daily drift and volatility and a log-uniform starting price
      between 5 and 500, rounded to cents with a floor of 0.01 (prices are
      always > 0, so no return is infinite).

    Deliberate irregularities, one symbol per role (roles never overlap):

    * **late listings** (``max(1, n_symbols // 50)`` symbols): NaN for a
      leading run of 10%-60% of the days, then trading normally;
    * **suspensions** (``max(1, n_symbols // 100)`` symbols): one to three
      interior runs of NaN, each 3-30 days long (shorter on short panels),
      with valid prices before and after every run;
    * **halver** (one symbol): its close halves exactly in one day somewhere
      in the middle third of the period, and every later close stays at or
      below 90% of the previous running peak, so that drawdown never
      recovers (its maximum drawdown is at most -50%).

    Small panels get as many of these roles as there are symbols, in the
    order halver, late listings, suspensions.  Which symbols (and days) play
    which role is recorded in ``df.attrs``: ``"halved"`` (``{symbol: date}``
    of the halving day), ``"late_listings"`` (``{symbol: first date}``) and
    ``"suspensions"`` (``{symbol: [(first NaN date, last NaN date), ...]}``).

    The data depends only on the arguments: the same call always returns the
    same values, bit for bit, on every platform (NumPy's ``PCG64``
    generator and float64 arithmetic only).

    Raises ImportError (with the install hint ``pip install
    tradekernels[pandas]``) if pandas is missing, and ValueError for
    ``n_symbols < 1`` or ``n_days < 2``.
    """
    pd = _require_pandas()
    n_symbols, n_days = int(n_symbols), int(n_days)
    if n_symbols < 1:
        raise ValueError(f"n_symbols must be >= 1, got {n_symbols}")
    if n_days < 2:
        raise ValueError(f"n_days must be >= 2, got {n_days}")

    rng = np.random.default_rng(seed)
    index = pd.bdate_range(_START, periods=n_days, name="date")
    width = max(3, len(str(n_symbols - 1)))
    columns = pd.Index([f"SYM{i:0{width}d}" for i in range(n_symbols)], name="symbol")

    # Per-symbol parameters (annualised drift -5%..+15%, vol 15%..45%).
    drift = rng.uniform(-0.05, 0.15, n_symbols) / 252.0
    vol = rng.uniform(0.15, 0.45, n_symbols) / np.sqrt(252.0)
    start = np.exp(rng.uniform(np.log(5.0), np.log(500.0), n_symbols))
    shocks = rng.standard_normal((n_days, n_symbols))
    log_ret = (drift - 0.5 * vol**2) + vol * shocks
    log_ret[0] = 0.0
    log_px = np.log(start) + np.cumsum(log_ret, axis=0)
    prices = np.maximum(np.round(np.exp(log_px), 2), 0.01)

    # Roles: a fixed random permutation of the symbols, halver first.
    order = rng.permutation(n_symbols)
    n_late = max(1, n_symbols // 50)
    n_susp = max(1, n_symbols // 100)
    halver = order[:1]
    late = order[1 : 1 + n_late]
    susp = order[1 + n_late : 1 + n_late + n_susp]

    halved = {}
    for j in halver:
        # A calm walk (no drift, 20% vol) so the halving dominates the picture.
        calm = 0.20 / np.sqrt(252.0)
        walk = np.cumsum(-0.5 * calm**2 + calm * shocks[:, j])
        walk -= walk[0]
        col = np.maximum(np.round(start[j] * np.exp(walk), 2), 0.01)
        h = int(rng.integers(n_days // 3, max(n_days // 3 + 1, (2 * n_days) // 3)))
        h = min(max(h, 1), n_days - 1)
        peak = col[:h].max()
        after = col[h - 1] * 0.5 * np.exp(walk[h:] - walk[h])
        cap = np.floor(0.9 * peak * 100.0) / 100.0
        col[h:] = np.minimum(np.maximum(np.round(after, 2), 0.01), cap)
        col[h] = col[h - 1] * 0.5  # not rounded: exactly half the previous close
        prices[:, j] = col
        halved[columns[j]] = index[h]

    late_listings = {}
    for j in late:
        lo, hi = max(1, n_days // 10), max(2, (6 * n_days) // 10)
        first = int(rng.integers(lo, hi))
        prices[:first, j] = np.nan
        late_listings[columns[j]] = index[first]

    suspensions = {}
    max_len = max(1, min(30, n_days // 20))
    for j in susp:
        runs = []
        n_runs = int(rng.integers(1, 4))
        # Split the interior into n_runs equal slots, one gap per slot, so
        # gaps never touch each other or either end of the series.
        edges = np.linspace(1, n_days - 1, n_runs + 1).astype(int)
        for a, b in zip(edges[:-1], edges[1:]):
            room = b - a - 2  # keep a valid price on each side within the slot
            if room < 1:
                continue
            longest = min(max_len, room)
            length = int(rng.integers(min(3, longest), longest + 1))
            first = int(rng.integers(a + 1, b - length))
            prices[first : first + length, j] = np.nan
            runs.append((index[first], index[first + length - 1]))
        if runs:
            suspensions[columns[j]] = runs

    df = pd.DataFrame(prices, index=index, columns=columns)
    df.attrs.update(
        halved=halved,
        late_listings=late_listings,
        suspensions=suspensions,
        seed=seed,
    )
    return df
