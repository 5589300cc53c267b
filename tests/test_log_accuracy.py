"""log_returns is within its declared ulps of ``math.log`` of the ratio, on 10**7 ratios.

The kernel takes NumPy's vectorised float64 log (see the twin's docstring,
``tradekernels.scans.reference.log_returns``), not ``math.log``: this test
checks the declared bound on the machine that runs it, over ratios from the
whole float64 range (subnormal and huge ratios, overflow to ``inf`` and
underflow to 0), ratios near 1 (where the log is small and a wrong ratio
would show as many ulps) and ratios of exactly 1.
"""

from __future__ import annotations

import math

import numpy as np

from conftest import assert_same, registry_kernel
from tradekernels import ufuncs

N = 10**7


def _alternate(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.empty(len(a) + len(b))
    out[0::2], out[1::2] = a, b
    return out


def _prices(rng: np.random.Generator) -> np.ndarray:
    """N + 1 positive prices whose consecutive ratios cover every kind of ratio."""
    q = N // 8
    parts = [
        # any positive finite double (uniform bit patterns: every exponent,
        # subnormals included): ratios from subnormal to overflowing
        rng.integers(1, 0x7FF0000000000000, size=3 * q, dtype=np.int64).view(np.float64),
        # a random walk: ratios near 1 (|log| ~ 1e-2 .. 1e-7)
        100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.01, size=2 * q)),
        100.0 * np.cumprod(1.0 + rng.normal(0.0, 1e-7, size=q)),
        # prices in [1, 2) alternating with subnormal prices: subnormal
        # ratios, then huge (or overflowing) ones
        _alternate(1.0 + rng.random(q // 2), rng.integers(1, 1 << 52, size=q // 2).view(np.float64)),
    ]
    # repeated prices: ratios of exactly 1
    parts.append(np.repeat(rng.uniform(1.0, 1000.0, size=(N + 1 - sum(len(p) for p in parts) + 1) // 2), 2))
    return np.concatenate(parts)[: N + 1]


def _math_log(r: np.ndarray) -> np.ndarray:
    """``math.log`` of every (positive, finite) ratio, a million at a time."""
    out = np.empty_like(r)
    step = 10**6
    for i in range(0, len(r), step):
        out[i : i + step] = np.fromiter(map(math.log, r[i : i + step].tolist()), np.float64)
    return out


def test_log_returns_within_declared_ulps_of_math_log_on_1e7_ratios(rng):
    x = _prices(rng)
    assert len(x) == N + 1 and (x > 0).all()
    got = ufuncs.log_returns(x)[1:]
    with np.errstate(over="ignore", under="ignore"):
        r = x[1:] / x[:-1]
    # the ratios cover what the bound must hold for
    assert (r == 1.0).sum() > N // 20
    assert ((r > 0) & (r < np.finfo(np.float64).tiny)).sum() > N // 100  # subnormal
    assert (r > 1e300).sum() > N // 100 and (r == np.inf).any() and (r == 0.0).any()
    assert ((np.abs(r - 1.0) < 1e-6) & (r != 1.0)).sum() > N // 20
    fin = (r > 0) & (r < np.inf)
    assert_same(got[fin], _math_log(r[fin]), ulps=registry_kernel("log_returns").ulps, what="log_returns")
    # overflowing / underflowing ratios follow log's special values
    assert (got[r == np.inf] == np.inf).all() and (got[r == 0.0] == -np.inf).all()
