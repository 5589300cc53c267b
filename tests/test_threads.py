"""Threads: every kernel call big enough releases the GIL (also where NumPy's gufunc
machinery would keep it: few outer iterations over long rows), and calls from several
threads at once give the single-thread answers."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Callable, List

import numpy as np
import pytest

import tradekernels as tk
from tradekernels import ufuncs

N = 2_000_000  # well above the loop's release threshold (8192 core elements)


def _counter_progress(call: Callable[[], object]) -> int:
    """How far a pure-Python counter thread gets while ``call`` runs in this thread.

    The switch interval is made long (0.5 s, far beyond the call), so while this thread
    holds the GIL the counter cannot run at all; it advances during the call only if the
    call released the GIL.
    """
    count = [0]
    stop = [False]
    started = threading.Event()

    def counter() -> None:
        started.set()
        while not stop[0]:
            count[0] += 1

    old = sys.getswitchinterval()
    sys.setswitchinterval(0.5)
    th = threading.Thread(target=counter)
    try:
        th.start()
        started.wait()
        c0 = count[0]
        call()
        return count[0] - c0
    finally:
        stop[0] = True
        th.join()
        sys.setswitchinterval(old)


def _calls() -> dict:
    x = 100.0 * np.cumprod(1.0 + np.random.default_rng(0).normal(0.0, 0.01, N))
    row = x.reshape(1, N)
    cal = tk.Calendar("America/New_York", "09:30", "16:00")
    t = cal.table("2019-01-01", "2021-12-31")
    ts = np.int64(1_577_836_800 * 10**9) + np.arange(N, dtype=np.int64) * 60 * 10**9 // 2
    tab = (t.opens, t.closes, t.break_starts, t.break_ends, t.lo, t.hi)
    return {
        # (n)->() over one row: NumPy's machinery keeps the GIL for so few outer iterations
        "max_drawdown (1, n)": lambda: ufuncs.max_drawdown(row),
        "drawdown_episode (1, n)": lambda: ufuncs.drawdown_episode(row),
        "drawdown (n,)": lambda: ufuncs.drawdown(x),
        "tk.max_drawdown (n,)": lambda: tk.max_drawdown(x),
        "session_mask (n,)": lambda: ufuncs.session_mask(ts, *tab),
    }


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two CPUs for the counter to run alongside")
@pytest.mark.parametrize("name", sorted(_calls()))
def test_long_calls_release_the_gil(name):
    call = _calls()[name]
    call()  # warm-up (page faults, table build)

    def repeated():
        # The counter needs one wake-up while a call runs: on a loaded machine the OS may
        # not schedule it within one short (SIMD) call, so repeat calls for 0.1 s, well
        # below the 0.5 s switch interval that would hand it the GIL anyway.
        end = time.perf_counter() + 0.1
        while time.perf_counter() < end:
            call()

    assert any(_counter_progress(repeated) > 0 for _ in range(3)), f"{name} held the GIL"


def test_concurrent_calls_match_single_thread():
    rng = np.random.default_rng(5)
    arrays: List[np.ndarray] = [
        100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, shape))
        # (600, 30): NumPy itself releases the GIL (> 500 outer iterations) and the
        # loop must see that it does not hold it while another thread may
        for shape in [(3, 50), (1, 9000), (40, 700), (2, 20000), (7,), (600, 30)]
    ]
    for a in arrays[:3]:
        a.reshape(-1)[:: 37] = np.nan
    names = ["simple_returns", "log_returns", "cumulative_returns", "drawdown", "max_drawdown",
             "underwater_bars", "drawdown_episode"]
    want = {(k, i): getattr(tk, k)(a) for k in names for i, a in enumerate(arrays)}
    errors: List[str] = []

    def work(seed: int) -> None:
        order = np.random.default_rng(seed).permutation(len(want))
        keys = list(want)
        for _ in range(3):
            for j in order:
                k, i = keys[j]
                got = getattr(tk, k)(arrays[i])
                parts = zip(got, want[k, i]) if k == "drawdown_episode" else [(got, want[k, i])]
                if not all(np.array_equal(g, w, equal_nan=True) for g, w in parts):
                    errors.append(f"{k} on array {i}")

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
