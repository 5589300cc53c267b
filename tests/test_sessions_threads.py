"""Sessions under threads: every call computes on one table snapshot, so answers equal the
single-thread ones while other threads extend (renumber) the calendar's table."""

from __future__ import annotations

import threading

import numpy as np

import tradekernels as tk

MIN = 60 * 10**9


def ns(s: str) -> int:
    return int(np.datetime64(s, "ns").astype(np.int64))


def _probe() -> np.ndarray:
    """A week of 7-minute bars, NaT among them (sorted where NaT is first)."""
    a = np.arange(ns("2024-03-04T13:00"), ns("2024-03-11T00:00"), 7 * MIN, dtype=np.int64)
    a[::97] = np.iinfo(np.int64).min
    return a


def _answers(cal: tk.Calendar, a: np.ndarray) -> dict:
    return {
        "label": tk.session_label(a, cal),
        "label_sorted": tk.session_label(np.sort(a), cal, assume_sorted=True),
        "mask": tk.session_mask(a, cal),
        "minutes": tk.minutes_into_session(a, cal),
        "start_state": tk.session_start(
            a[200:], cal, state=tk.session_start(a[:200], cal, return_state=True)[1]
        ),
    }


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind == "M":
        a, b = a.view(np.int64), b.view(np.int64)
    return a.shape == b.shape and bool(np.array_equal(a, b))


def test_calls_use_one_table_snapshot_while_others_extend_it():
    a = _probe()
    want = _answers(tk.Calendar("America/New_York", "09:30", "16:00", breaks=[("12:00", "12:15")]), a)
    for _rep in range(2):
        cal = tk.Calendar("America/New_York", "09:30", "16:00", breaks=[("12:00", "12:15")])
        cal.table("2024-01-01", "2024-12-31")
        stop = threading.Event()
        errors: list = []

        def reader() -> None:
            while not stop.is_set():
                got = _answers(cal, a)
                for k in ("label", "label_sorted", "mask", "minutes", "start_state"):
                    if not _same(got[k], want[k]):
                        errors.append(k)

        def extender() -> None:
            try:  # earlier and earlier years: each extension renumbers every row
                for y in range(2023, 2005, -1):
                    tk.session_mask(np.array([ns(f"{y}-06-03T15:00")]), cal)
            finally:
                stop.set()

        threads = [threading.Thread(target=reader) for _ in range(3)] + [threading.Thread(target=extender)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, sorted(set(errors))
        assert cal.table().first.year <= 2006
        for k in ("label", "mask", "minutes", "start_state"):
            assert _same(_answers(cal, a)[k], want[k])
