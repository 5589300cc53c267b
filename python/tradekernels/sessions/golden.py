"""Golden cases of the sessions family: calendars, timestamp sets and the twin's answers.

Each file ``tests/golden/sessions/<name>.npz`` holds one calendar (its spec
as JSON in ``calendar``) and timestamp sets (``<set>_ts``, int64 UTC ns, NaT
included) with the twin's answers: ``<set>_mask`` (bool), ``<set>_label``
(datetime64[D], NaT outside), ``<set>_start`` (bool) and ``<set>_minutes``
(int64).  Sets: ``minute_*`` one-minute series over windows that contain the
DST changes (and holidays / early closes), ``irregular`` random sorted
timestamps with random nanoseconds over several years plus NaT and exact
boundaries.  Written by ``tools/make_golden.py`` (``--check``: only
compare).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import numpy as np

from . import reference as ref
from .calendar import Calendar

NAT = np.iinfo(np.int64).min

CALENDARS = {
    "nyse": Calendar(
        "America/New_York",
        "09:30",
        "16:00",
        holidays=[
            "2023-01-02",
            "2023-01-16",
            "2023-02-20",
            "2023-04-07",
            "2023-05-29",
            "2023-06-19",
            "2023-07-04",
            "2023-09-04",
            "2023-11-23",
            "2023-12-25",
            "2024-01-01",
            "2024-01-15",
            "2024-02-19",
            "2024-03-29",
            "2024-05-27",
            "2024-06-19",
            "2024-07-04",
            "2024-09-02",
            "2024-11-28",
            "2024-12-25",
        ],
        early_closes={
            "2023-07-03": "13:00",
            "2023-11-24": "13:00",
            "2024-07-03": "13:00",
            "2024-11-29": "13:00",
            "2024-12-24": "13:00",
        },
        late_opens={"2024-03-11": "10:30"},
    ),
    "tokyo_lunch": Calendar(
        "Asia/Tokyo",
        "09:00",
        "15:00",
        breaks=[("11:30", "12:30")],
        holidays=["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-08"],
        early_closes={"2024-12-30": "11:00"},  # clips the break away
        late_opens={"2024-01-04": "12:00"},  # inside the break: the break is clipped away
    ),
    "cme_overnight": Calendar(
        "America/Chicago",
        "17:00",
        "16:00",
        weekdays=(6, 0, 1, 2, 3),
        holidays=["2024-07-04", "2024-12-25"],
        early_closes={"2024-07-03": "12:00", "2024-11-27": "12:15"},
        breaks=[("02:00", "02:30")],  # over the DST changes (02:00 local)
    ),
}

# One-minute windows (UTC) per calendar: DST changes, holidays, early closes.
WINDOWS = {
    "nyse": [
        ("2024-03-06", "2024-03-16"),
        ("2023-10-30", "2023-11-08"),
        ("2024-06-28", "2024-07-08"),
        ("2024-11-25", "2024-12-03"),
    ],
    "tokyo_lunch": [("2023-12-28", "2024-01-10"), ("2024-12-26", "2025-01-02")],
    "cme_overnight": [
        ("2024-03-06", "2024-03-14"),
        ("2024-10-31", "2024-11-07"),
        ("2024-07-01", "2024-07-09"),
        ("2024-11-25", "2024-11-30"),
    ],
}


def ns(s: str) -> int:
    return int(np.datetime64(s, "ns").astype(np.int64))


def irregular(cal: Calendar, rng: np.random.Generator) -> np.ndarray:
    lo, hi = ns("2022-06-01"), ns("2025-06-01")
    ts = np.sort(rng.integers(lo, hi, 6000, dtype=np.int64))
    # exact boundaries (and 1 ns either side) of a few sessions
    t = cal.table("2023-01-01", "2024-12-31")
    pick = rng.choice(len(t), 40, replace=False)
    edges = np.concatenate([t.opens[pick], t.closes[pick], t.break_starts, t.break_ends])[:200]
    extra = np.concatenate([edges - 1, edges, edges + 1])
    ts = np.sort(np.concatenate([ts, extra]))
    ts[rng.choice(len(ts), 25, replace=False)] = NAT
    return ts


def answers(ts: np.ndarray, cal: Calendar) -> dict:
    lst = [int(v) for v in ts]
    labels = ref.session_label(lst, cal)
    return {
        "mask": np.array(ref.session_mask(lst, cal), dtype=bool),
        "label": np.array(
            [np.datetime64(d, "D") if d is not None else np.datetime64("NaT", "D") for d in labels],
            dtype="datetime64[D]",
        ),
        "start": np.array(ref.session_start(lst, cal), dtype=bool),
        "minutes": np.array(ref.minutes_into_session(lst, cal), dtype=np.int64),
    }


def cases() -> Iterator[Tuple[str, Dict[str, np.ndarray]]]:
    """(file stem, arrays of the file) for every golden file, from the twin."""
    rng = np.random.default_rng(20240310)
    for name, cal in CALENDARS.items():
        data = {"calendar": np.array(json.dumps(cal.spec()))}
        sets = {}
        for a, b in WINDOWS[name]:
            sets[f"minute_{a}"] = np.arange(ns(a), ns(b), 60 * 10**9, dtype=np.int64)
        sets["irregular"] = irregular(cal, rng)
        for sname, ts in sets.items():
            data[f"{sname}_ts"] = ts
            for k, v in answers(ts, cal).items():
                data[f"{sname}_{k}"] = v
        yield name, data


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return bool(
        np.array_equal(a.view(np.int64), b.view(np.int64)) if a.dtype.kind == "M" else np.array_equal(a, b)
    )


def stale(out: Path) -> List[str]:
    """Files under ``out`` whose arrays differ from what :func:`cases` gives now."""
    bad = []
    for name, data in cases():
        path = out / f"{name}.npz"
        if not path.exists():
            bad.append(f"{path}: missing")
            continue
        with np.load(path) as g:
            if sorted(g.files) != sorted(data):
                bad.append(f"{path}: other arrays")
            else:
                bad += [f"{path}: {k}" for k in data if not _same(g[k], data[k])]
    return bad


def files() -> Dict[str, bytes]:
    """``{path under tests/golden: file bytes}`` (``python tools/make_golden.py``)."""
    import io

    out = {}
    for name, data in cases():
        buf = io.BytesIO()
        np.savez_compressed(buf, **data)
        out[f"sessions/{name}.npz"] = buf.getvalue()
    return out
