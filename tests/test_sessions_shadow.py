"""The shadow backend for sessions compares native with the reference and raises on a planted
divergence: for rule calendars (the twin) and exchange_calendars calendars (their own data)."""

from __future__ import annotations

import os

import numpy as np
import pytest

import tradekernels as tk
from tradekernels.sessions import reference as ref

MIN = 60 * 10**9
KERNELS = ("session_mask", "session_index", "session_label", "session_start", "minutes_into_session")


def ns(s: str) -> int:
    return int(np.datetime64(s, "ns").astype(np.int64))


TS = np.arange(ns("2024-03-07T13:00"), ns("2024-03-09T00:00"), MIN // 2, dtype=np.int64)


def _late_by_a_minute(find):
    """The reference with every session's first minute missing."""

    def wrong(*args):  # (t, cal), or (calendar, t) for the exchange_calendars method
        f = find(*args)
        t = args[0] if isinstance(args[0], int) else args[1]
        return None if f is None or t - f[1] < MIN else f

    return wrong


def _open_a_minute_early(find):
    """The reference counting minutes from one minute before the open (minutes only)."""

    def wrong(t, *cal):
        f = find(t, *cal)
        return None if f is None else (f[0], f[1] - MIN)

    return wrong


@pytest.mark.parametrize("kernel", KERNELS)
def test_shadow_agrees_then_raises_on_a_planted_divergence(kernel, monkeypatch):
    cal = tk.Calendar("America/New_York", "09:30", "16:00")
    with tk.backend("shadow"):
        native = getattr(tk, kernel)(TS, cal)
    np.testing.assert_array_equal(native, getattr(tk, kernel)(TS, cal))
    monkeypatch.setattr(ref, "find", _late_by_a_minute(ref.find))
    with tk.backend("shadow"), pytest.raises(tk.ShadowMismatch, match=kernel):
        getattr(tk, kernel)(TS, cal)
    with tk.backend("reference"):  # the planted twin is what reference answers
        assert not np.array_equal(getattr(tk, kernel)(TS, cal), native)


@pytest.mark.parametrize("kernel", KERNELS)
def test_shadow_with_a_break(kernel):
    """A lunch break: the timestamps after it belong to the same session (one start a day)."""
    cal = tk.Calendar("America/New_York", "09:30", "16:00", breaks=[("12:00", "13:00")])
    with tk.backend("shadow"):
        got = getattr(tk, kernel)(TS, cal)
    np.testing.assert_array_equal(got, getattr(tk, kernel)(TS, cal))
    if kernel == "session_start":
        assert got.sum() == 2


def test_shadow_minutes_compare_values(monkeypatch):
    cal = tk.Calendar("America/New_York", "09:30", "16:00")
    monkeypatch.setattr(ref, "find", _open_a_minute_early(ref.find))
    with tk.backend("shadow"), pytest.raises(tk.ShadowMismatch, match="minutes_into_session"):
        tk.minutes_into_session(TS, cal)
    with tk.backend("shadow"):
        tk.session_mask(TS, cal)  # membership unchanged: no mismatch


_XC_WARN = pytest.mark.filterwarnings("ignore:.*values returning an ndarray:DeprecationWarning")


@_XC_WARN
@pytest.mark.parametrize("kernel", KERNELS)
def test_shadow_for_exchange_calendars(kernel, monkeypatch):
    pytest.importorskip("exchange_calendars")
    from tradekernels.sessions.xcals import ExchangeCalendar

    cal = tk.Calendar.from_exchange_calendars("XNYS", "2024-01-01", "2024-12-31")
    with tk.backend("shadow"):
        native = getattr(tk, kernel)(TS, cal)
    with tk.backend("reference"):
        np.testing.assert_array_equal(getattr(tk, kernel)(TS, cal), native)
    if kernel == "session_mask":  # pickles (dask process clusters) by name and range
        import pickle

        np.testing.assert_array_equal(getattr(tk, kernel)(TS, pickle.loads(pickle.dumps(cal))), native)
    late = _late_by_a_minute(ExchangeCalendar._reference_find)
    monkeypatch.setattr(ExchangeCalendar, "_reference_find", lambda self, t: late(self, t))
    with tk.backend("shadow"), pytest.raises(tk.ShadowMismatch, match=kernel):
        getattr(tk, kernel)(TS, cal)


# --------------------------------------------------------------------------
# Golden files are the twin's current answers; calendars are immutable
# --------------------------------------------------------------------------


@pytest.mark.skipif(
    bool(os.environ.get("TK_SANITIZE")), reason="the session twin and its golden check run no C code"
)
def test_golden_files_are_the_twins_answers(tmp_path):
    import shutil
    from pathlib import Path

    from tradekernels.sessions import golden

    here = Path(__file__).parent / "golden" / "sessions"
    assert golden.stale(here) == []  # `python tools/make_golden.py --check`
    for p in here.glob("*.npz"):
        shutil.copy(p, tmp_path / p.name)
    with np.load(tmp_path / "nyse.npz") as g:
        data = dict(g)
    data["irregular_minutes"][7] += 1
    np.savez_compressed(tmp_path / "nyse.npz", **data)
    assert golden.stale(tmp_path) == [f"{tmp_path / 'nyse.npz'}: irregular_minutes"]


def test_calendar_is_immutable_replace_returns_a_new_one():
    import pickle

    cal = tk.Calendar("America/New_York", "09:30", "16:00", early_closes={"2024-07-03": "13:00"})
    before = tk.session_mask(np.array([ns("2024-07-03T18:00"), ns("2024-07-04T15:00")]), cal).tolist()
    for name, value in [("open", "10:00"), ("holidays", frozenset()), ("tz", "UTC")]:
        with pytest.raises(AttributeError, match="immutable"):
            setattr(cal, name, value)
    with pytest.raises(TypeError):
        cal.early_closes[ns("2024-07-05")] = "12:00"  # type: ignore[index]
    later = cal.replace(holidays=["2024-07-04"], open="10:00")
    assert later is not cal and later.open.hour == 10 and cal.open.hour == 9
    assert later.early_closes == cal.early_closes
    ts = np.array([ns("2024-07-03T18:00"), ns("2024-07-04T15:00")])
    assert tk.session_mask(ts, later).tolist() == [False, False]
    assert tk.session_mask(ts, cal).tolist() == before == [False, True]
    back = pickle.loads(pickle.dumps(cal))
    assert back.spec() == cal.spec() and tk.session_mask(ts, back).tolist() == before


def test_unit_of_integer_timestamps():
    cal = tk.Calendar("America/New_York", "09:30", "16:00")
    d = np.arange(
        np.datetime64("2024-03-08T14:29:59.999999"),
        np.datetime64("2024-03-08T14:31"),
        np.timedelta64(250, "ms"),
    )
    for unit in ("ns", "us", "ms", "s"):
        x = d.astype(f"datetime64[{unit}]")
        for k in KERNELS:
            np.testing.assert_array_equal(
                getattr(tk, k)(x.view(np.int64), cal, unit=unit),
                getattr(tk, k)(x, cal),
                err_msg=f"{k} {unit}",
            )
    us = d.astype("datetime64[us]").view(np.int64)
    right = tk.session_mask(us, cal, unit="us")
    assert not right[0] and right[1:].all()  # 09:29:59.999999 EST, then 09:30 onwards
    assert tk.session_mask(us, cal).all()  # read as ns: 1970-01-20 13:58 EST, a wrong answer
    with pytest.raises(ValueError, match="unit"):
        tk.session_mask(us, cal, unit="minutes")
    with pytest.raises(ValueError, match="integer timestamps only"):
        tk.session_mask(d, cal, unit="us")
    with pytest.raises(OverflowError):
        tk.session_mask(np.array([2**62]), cal, unit="s")


@pytest.mark.parametrize("backend", ["reference", "shadow"])
def test_scalars_of_any_unit_on_every_backend(backend):
    cal = tk.Calendar("America/New_York", "09:30", "16:00")
    t = np.datetime64("2024-03-12T14:00", "s")
    with tk.backend(backend):
        assert tk.session_mask(t, cal) is np.True_
        assert tk.minutes_into_session(t, cal) == 30
        assert tk.session_label(t, cal) == np.datetime64("2024-03-12")
        assert tk.session_mask(np.datetime64("NaT", "s"), cal) is np.False_
