"""Threads: every kernel call big enough releases the GIL (also where NumPy's gufunc
machinery would keep it: few outer iterations over long rows), and calls from several
threads at once give the single-thread answers."""

from __future__ import annotations

import sys
import threading
import time
from typing import Callable, List

import numpy as np
import pytest

import tradekernels as tk
from tradekernels import ufuncs

#: core lengths of the GIL probes: zero-stride views, so a call costs time (tens to hundreds of
#: milliseconds) but no memory; the probe retries with the next length only if it saw nothing
LENGTHS = (2**25, 2**26, 2**27)


def _ran_during(call: Callable[[], object]) -> bool:
    """True when another Python thread executed bytecode while ``call`` ran in this thread.

    Scheduler-proof in the "held" direction: the switch interval is made huge, so the only
    way the other thread can run between ``phase = "call"`` and ``phase = "after"`` is this
    thread releasing the GIL (a call that holds it always gives False, however long it runs).
    In the "released" direction the other thread, already waiting for the GIL, only has to
    be scheduled once while the call runs (tens of milliseconds or more; see LENGTHS), not
    within a few milliseconds as a timing-based check needs.
    """
    phase = ["before"]
    seen: List[str] = []
    ready = threading.Event()

    def other() -> None:
        ready.set()
        while phase[0] == "before":
            time.sleep(0)  # hands the GIL back to the main thread (no forced switches)
        seen.append(phase[0])

    old = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)  # no forced GIL hand-over while the test runs
    th = threading.Thread(target=other)
    try:
        th.start()
        ready.wait()
        phase[0] = "call"
        call()
        phase[0] = "after"
    finally:
        phase[0] = "after"
        th.join()
        sys.setswitchinterval(old)
    return seen == ["call"]


def _calls(n: int) -> dict:
    """The probes, over ``n`` core elements of zero-stride views (outputs too: a
    writable zero-stride ``out=``)."""
    x = np.broadcast_to(np.float64(100.0), (n,))
    row = x.reshape(1, n)
    out = np.lib.stride_tricks.as_strided(np.empty(1), (n,), (0,))
    cal = tk.Calendar("America/New_York", "09:30", "16:00")
    t = cal.table("2019-01-01", "2021-12-31")
    ts = np.broadcast_to(np.int64(1_577_836_800 * 10**9 + 15 * 3600 * 10**9), (n,))
    mask = np.lib.stride_tricks.as_strided(np.empty(1, bool), (n,), (0,))
    tab = (t.opens, t.closes, t.break_starts, t.break_ends, t.lo, t.hi)
    return {
        # (n)->() over one row: NumPy's machinery keeps the GIL for so few outer iterations
        "max_drawdown (1, n)": lambda: ufuncs.max_drawdown(row),
        "drawdown_episode (1, n)": lambda: ufuncs.drawdown_episode(row),
        "drawdown (n,)": lambda: ufuncs.drawdown(x, out=out),
        "tk.max_drawdown (n,)": lambda: tk.max_drawdown(x),
        "session_mask (n,)": lambda: ufuncs.session_mask(ts, *tab, out=(mask, None)),
    }


PROBES = sorted(_calls(1))


@pytest.mark.parametrize("name", PROBES)
def test_long_calls_release_the_gil(name):
    # a longer call only if the other thread was not scheduled during a shorter one
    assert any(_ran_during(_calls(n)[name]) for n in LENGTHS), f"{name} held the GIL"


def test_gil_probe_sees_a_held_gil():
    """The probe's "held" answer, for code that keeps the GIL for a long time: Python
    bytecode, and kernel calls below the release threshold (8192 core elements) over one
    row, where NumPy keeps the GIL too."""
    row = np.linspace(100.0, 50.0, 1000).reshape(1, 1000)
    assert not _ran_during(lambda: sum(range(3_000_000)))
    assert not _ran_during(lambda: [ufuncs.max_drawdown(row) for _ in range(20_000)])


def test_concurrent_calls_match_single_thread():
    rng = np.random.default_rng(5)
    arrays: List[np.ndarray] = [
        100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, shape))
        # (600, 30): NumPy itself releases the GIL (> 500 outer iterations) and the
        # loop must see that it does not hold it while another thread may
        for shape in [(3, 50), (1, 9000), (40, 700), (2, 20000), (7,), (600, 30)]
    ]
    for a in arrays[:3]:
        a.reshape(-1)[::37] = np.nan
    names = [
        "simple_returns",
        "log_returns",
        "cumulative_returns",
        "drawdown",
        "max_drawdown",
        "underwater_bars",
        "drawdown_episode",
    ]
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
