"""The fills family under threads, and the immutability of :class:`BarIndex` that makes
sharing one safe.

Many threads call ``fill_orders``, ``exit_orders``, ``trades_from_signals`` (1-D and 2-D
bars), the raw ufuncs of every SIMD path and ``BarIndex`` itself on shared bars, one
shared ``BarIndex`` and shared order arrays, while another thread tries to change the
shared index (every attempt must fail); every answer equals the single-thread one.
Deterministic: a barrier starts the threads, no timing is measured or assumed.
"""

from __future__ import annotations

import copy
import pickle
import threading
from typing import Any, Callable, Dict, List

import numpy as np
import pytest
from hostile_layouts import same_bits

import tradekernels as tk
from tradekernels import ufuncs

THREADS = 6
REPEATS = 8


def _bars(n: int, seed: int):
    rng = np.random.default_rng(seed)
    c = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.003, n))
    o = np.r_[100.0, c[:-1]]
    h = np.maximum(o, c) * (1.0 + 0.002 * rng.random(n))
    lo = np.minimum(o, c) * (1.0 - 0.002 * rng.random(n))
    bars = [np.round(v / 0.01) * 0.01 for v in (o, h, lo, c)]
    bars[2][rng.random(n) < 0.002] = np.nan
    return bars


def _index_arrays(idx: tk.BarIndex) -> List[np.ndarray]:
    return list(idx.arrays) + list(idx.bars)


def _flatten(res: Any) -> List[np.ndarray]:
    if isinstance(res, tk.BarIndex):
        return _index_arrays(res)
    if isinstance(res, tuple):
        return [np.asarray(r) for r in res]
    a = np.asarray(res)
    return [np.ascontiguousarray(a).view(np.uint8)] if a.dtype.names else [a]


def _setup():
    n = 20_000
    bars = _bars(n, 1)
    for b in bars:
        b.flags.writeable = False
    idx = tk.BarIndex(*bars)
    rows = [_bars(5000, s) for s in (2, 3, 4)]
    idx2 = tk.BarIndex(*[np.stack([r[j] for r in rows]) for j in range(4)])
    rng = np.random.default_rng(9)
    m = 3000
    start = rng.integers(0, n, m)
    price = bars[3][start] * (1.0 + rng.choice([-0.02, -0.005, 0.005, 0.02], m))
    side = rng.choice([-1, 1], m)
    kind = rng.integers(0, 4, m)
    limit = price * 1.001
    col = rng.integers(0, 3, m)
    entries, exits = rng.random(n) < 0.01, rng.random(n) < 0.01
    for a in (start, price, side, kind, limit, col, entries, exits):
        a.flags.writeable = False
    calls: Dict[str, Callable[[], Any]] = {
        "fill_orders": lambda: tk.fill_orders(idx, start, side, kind, price, limit),
        # other orders of the same count: calls sharing scratch space would mix answers
        "fill_orders/b": lambda: tk.fill_orders(idx, start[::-1], -side, kind, price * 0.99, limit * 0.99),
        "exit_orders/b": lambda: tk.exit_orders(idx, start[::-1], side=-side, sl_stop=0.02, tp_stop=0.01),
        "fill_orders/2d": lambda: tk.fill_orders(idx2, start % 5000, side, kind, price, limit, col=col),
        "exit_orders": lambda: tk.exit_orders(
            idx, start, side=side, sl_stop=0.01, tsl_stop=0.02, tp_stop=0.03
        ),
        "exit_orders/2d": lambda: tk.exit_orders(idx2, start % 5000, side=side, sl_stop=0.01, col=col),
        "trades": lambda: tk.trades_from_signals(idx, entries, exits, sl_stop=0.01, tp_stop=0.02),
        "trades/2d": lambda: tk.trades_from_signals(
            idx2, np.stack([entries[:5000]] * 3), np.stack([exits[:5000]] * 3), tsl_stop=0.01
        ),
        "BarIndex": lambda: tk.BarIndex(*bars),
    }
    for path in ufuncs.available_paths():
        u = ufuncs.for_path(path)
        calls[f"fill_orders[{path}]"] = lambda u=u: u["fill_orders"](
            *idx.arrays, start, side, kind, price, limit, np.full(m, -1)
        )
        calls[f"bar_index[{path}]"] = lambda u=u: u["bar_index"](*bars)
    return idx, bars, calls


def test_many_threads_share_one_bar_index():
    idx, bars, calls = _setup()
    snapshot = [a.copy() for a in _index_arrays(idx)]
    # (copies: a result must not be an array a later call may write into)
    want = {name: [a.copy() for a in _flatten(c())] for name, c in calls.items()}
    names = sorted(calls)
    errors: List[str] = []
    barrier = threading.Barrier(THREADS + 1)

    def work(seed: int) -> None:
        order = np.random.default_rng(seed).permutation(len(names))
        barrier.wait()
        for _ in range(REPEATS):
            for j in order:
                try:
                    got = _flatten(calls[names[j]]())
                except Exception as e:  # noqa: BLE001 - reported below
                    errors.append(f"{names[j]}: {e!r}")
                    continue
                if len(got) != len(want[names[j]]) or not all(
                    same_bits(g, w) for g, w in zip(got, want[names[j]])
                ):
                    errors.append(names[j])

    def vandal() -> None:
        """Tries to change the shared index while the others read it: every attempt fails."""
        barrier.wait()
        for _ in range(200):
            for name in ("open", "close", "fill_low", "block_min_low", "super_max_high", "_open_rec"):
                try:
                    setattr(idx, name, np.zeros(3))
                    errors.append(f"set {name}")
                except AttributeError:
                    pass
            for a in _index_arrays(idx):
                try:
                    a[0] = -1.0
                    errors.append("wrote into an array of the index")
                except ValueError:
                    pass

    threads = [threading.Thread(target=work, args=(s,)) for s in range(THREADS)]
    threads.append(threading.Thread(target=vandal))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, sorted(set(errors))[:10]
    for a, b in zip(_index_arrays(idx), snapshot):
        assert same_bits(a, b)


# --------------------------------------------------------------------------
# BarIndex is immutable
# --------------------------------------------------------------------------

FIELDS = (
    "open",
    "high",
    "low",
    "close",
    "fill_low",
    "fill_high",
    "suffix_min_low",
    "suffix_max_high",
    "block_min_low",
    "block_max_high",
    "super_min_low",
    "super_max_high",
)


@pytest.mark.parametrize("shape", [(300,), (3, 300)], ids=["1-D", "2-D"])
def test_bar_index_is_immutable(shape):
    bars = [np.asarray(b).reshape(shape) for b in _bars(int(np.prod(shape)), 5)]
    idx = tk.BarIndex(*bars)
    for name in FIELDS + ("_open_rec", "n", "nonsense"):
        with pytest.raises(AttributeError, match="immutable"):
            setattr(idx, name, np.zeros(3))
    for name in FIELDS:
        with pytest.raises(AttributeError, match="immutable"):
            delattr(idx, name)
    arrays = [getattr(idx, f) for f in FIELDS] + _index_arrays(idx)
    for a in arrays:
        assert not a.flags.writeable
        with pytest.raises(ValueError):
            a[..., 0] = 1.0
        with pytest.raises(ValueError):
            a.flags.writeable = True  # a view of a read-only base cannot be made writable
    # the caller's arrays are copied: changing them later changes nothing
    mine = [np.array(b) for b in bars]
    idx2 = tk.BarIndex(*mine)
    before = [a.copy() for a in _index_arrays(idx2)]
    for b in mine:
        b[...] = 1.0
    for a, b in zip(_index_arrays(idx2), before):
        assert same_bits(a, b)


def test_bar_index_pickles_and_copies():
    idx = tk.BarIndex(*_bars(5000, 6))
    for other in (pickle.loads(pickle.dumps(idx)), copy.copy(idx), copy.deepcopy(idx)):
        assert isinstance(other, tk.BarIndex)
        for a, b in zip(_index_arrays(other), _index_arrays(idx)):
            assert same_bits(a, b) and not a.flags.writeable
        with pytest.raises(AttributeError):
            other.open = None
