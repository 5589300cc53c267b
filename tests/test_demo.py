"""The demo (``python -m tradekernels demo``), the CLI and the embedded dataset."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

import tradekernels as tk  # noqa: E402
from tradekernels import _demo, datasets  # noqa: E402
from tradekernels.__main__ import main  # noqa: E402


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("TRADEKERNELS_BACKEND", None)
    return subprocess.run(
        [sys.executable, "-m", "tradekernels", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


# --------------------------------------------------------------------------
# Dataset


def test_dataset_is_deterministic():
    a = datasets.synthetic_closes(40, 500)
    b = datasets.synthetic_closes(40, 500)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert np.array_equal(a.to_numpy().view(np.int64), b.to_numpy().view(np.int64))
    assert a.attrs == b.attrs
    c = datasets.synthetic_closes(40, 500, seed=1)
    assert not a.equals(c)


def test_dataset_shape_index_and_columns():
    df = datasets.synthetic_closes(20, 300)
    assert df.shape == (300, 20)
    assert isinstance(df.index, pd.DatetimeIndex)
    assert df.index[0] == pd.Timestamp("2015-01-02")
    assert df.index.equals(pd.bdate_range("2015-01-02", periods=300, name="date"))
    assert list(df.columns) == [f"SYM{i:03d}" for i in range(20)]
    assert (df.dtypes == np.float64).all()
    values = df.to_numpy()
    assert (values[~np.isnan(values)] > 0).all()
    assert list(datasets.synthetic_closes(1001, 5).columns[[0, -1]]) == ["SYM0000", "SYM1000"]


@pytest.mark.parametrize("n_symbols, n_days", [(500, 2520), (20, 300), (3, 10)])
def test_dataset_nan_features(n_symbols, n_days):
    df = datasets.synthetic_closes(n_symbols, n_days)
    late, susp, halved = (df.attrs[k] for k in ("late_listings", "suspensions", "halved"))
    assert len(halved) == 1
    assert len(late) == max(1, n_symbols // 50)
    assert 1 <= len(susp) <= max(1, n_symbols // 100)
    # Roles never overlap.
    assert len(set(late) | set(susp) | set(halved)) == len(late) + len(susp) + len(halved)

    # Late listings: a leading NaN run, then no NaN at all.
    for sym, first in late.items():
        s = df[sym]
        assert first > df.index[0]
        assert s.loc[:first].iloc[:-1].isna().all()
        assert s.loc[first:].notna().all()

    # Suspensions: interior NaN runs exactly where documented.
    for sym, runs in susp.items():
        s = df[sym]
        expected = pd.Series(False, index=df.index)
        for a, b in runs:
            assert df.index[0] < a <= b < df.index[-1]
            expected.loc[a:b] = True
        assert s.isna().equals(expected.rename(sym))

    # Every other symbol has no NaN.
    plain = [c for c in df.columns if c not in late and c not in susp]
    assert df[plain].notna().all().all()

    # The halver: exactly half in one day, never back to its old high.
    ((sym, day),) = halved.items()
    s = df[sym]
    h = df.index.get_loc(day)
    assert s.iloc[h] == s.iloc[h - 1] * 0.5
    old_peak = s.iloc[:h].max()
    assert (s.iloc[h:] <= 0.9 * old_peak).all()
    assert tk.max_drawdown(s) <= -0.5
    assert tk.drawdown(s).iloc[-1] < 0


def test_dataset_full_size_has_the_documented_counts():
    df = datasets.synthetic_closes()
    assert df.shape == (2520, 500)
    assert list(df.columns[[0, -1]]) == ["SYM000", "SYM499"]
    assert len(df.attrs["late_listings"]) == 10
    assert len(df.attrs["suspensions"]) == 5
    assert df.isna().to_numpy().sum() > 0


def test_dataset_rejects_bad_sizes():
    with pytest.raises(ValueError):
        datasets.synthetic_closes(0, 100)
    with pytest.raises(ValueError):
        datasets.synthetic_closes(5, 1)


def test_dataset_without_pandas_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes "import pandas" fail
    with pytest.raises(ImportError, match=r"pip install tradekernels\[pandas\]"):
        datasets.synthetic_closes(5, 10)


# --------------------------------------------------------------------------
# Demo, in-process


@pytest.fixture(scope="module")
def small_demo():
    return _demo.run_demo(n_symbols=20, n_days=300, repeat=1)


def test_demo_reports_a_match(small_demo):
    res = small_demo
    assert res["match"] is True
    assert all(c["ok"] for c in res["checks"]), [c for c in res["checks"] if not c["ok"]]
    labels = {(c["what"], c["label"]) for c in res["checks"]}
    for what in ("pandas", "python"):
        for label in ("simple returns", "log returns", "cumulative returns", "drawdown", "max drawdown"):
            assert (what, label) in labels
    assert ("pandas", "session mask (1 year)") in labels
    assert ("python", "limit-order fills") in labels
    assert ("one call", "trades: 10 chunks, live") in labels
    assert res["signals"]["n"] > 20 and res["signals"]["live_symbols"] == 20
    assert res["sessions"]["n"] == 366 * 1440 and 0 < res["sessions"]["in_session"] < res["sessions"]["n"]
    assert res["fills"]["n"] == 20 * 60 and 0 < res["fills"]["filled"] < res["fills"]["n"]
    assert res["n_symbols"] == 20 and res["n_days"] == 300 and res["bars"] == 6000
    assert res["simd_path"] == tk.simd_path
    assert res["backend"] == tk.get_backend()
    assert res["timings"]["pandas"]["total"] > 0
    assert res["timings"]["tradekernels"]["total"] > 0


def test_demo_worst_symbols(small_demo):
    df = datasets.synthetic_closes(20, 300)
    mdd = df.apply(lambda s: (s / s.cummax() - 1).min())
    expected = list(mdd.sort_values(kind="stable").index[:5])
    rows = small_demo["worst"]
    assert [r["symbol"] for r in rows] == expected
    for r in rows:
        assert r["max_drawdown"] == mdd[r["symbol"]]
        assert r["peak"] <= r["trough"]
        assert r["recovery"] is None or r["recovery"] > r["trough"]


def test_demo_report_text(small_demo):
    text = _demo.format_report(small_demo)
    assert "RESULT: MATCH" in text
    assert f"SIMD path: {tk.simd_path}" in text
    assert f"backend: {tk.get_backend()}" in text
    assert "speedup" in text and "bars/s" in text
    assert "Worst 5 symbols" in text
    assert "tradekernels.session_mask" in text and "tradekernels.fill_orders" in text
    assert "MISMATCH" not in text


def test_demo_detects_a_mismatch():
    a = pd.DataFrame({"x": [np.nan, 1.0, 2.0]})
    assert _demo._compare_frames(a, a.copy(), 0)["ok"]
    b = a.copy()
    b.iloc[2, 0] = np.nextafter(2.0, 3.0)
    assert not _demo._compare_frames(a, b, 0)["ok"]
    assert _demo._compare_frames(a, b, 1)["ok"]  # 1 ulp apart
    c = a.copy()
    c.iloc[2, 0] = np.nan
    assert not _demo._compare_frames(a, c, 1)["ok"]  # NaN where a has a number
    d = a.copy()
    d.iloc[1, 0] = -0.0
    e = a.copy()
    e.iloc[1, 0] = 0.0
    assert not _demo._compare_frames(d, e, 0)["ok"]  # bit-exact: -0.0 is not 0.0
    assert not _demo._compare_frames(a, a.rename(columns={"x": "y"}), 0)["ok"]


@pytest.mark.parametrize("broken", ["chunks", "live"])
def test_demo_signal_part_detects_a_difference(monkeypatch, broken):
    """The three-way signal check fails when the chunked or the live trades differ."""
    df = datasets.synthetic_closes(8, 200)
    assert _demo._signals_part(df, 1)["check"]["ok"]
    if broken == "chunks":
        real = _demo.trades_from_signals

        def shifted(*a, **kw):
            out = real(*a, **kw)
            rec = out[0] if isinstance(out, tuple) else out
            if kw.get("state") is not None and len(rec):
                rec["exit_price"][0] = np.nextafter(rec["exit_price"][0], np.inf)
            return out

        monkeypatch.setattr(_demo, "trades_from_signals", shifted)
    else:

        class Late(tk.stream.SignalTrades):
            __slots__ = ()

            def mark(self):
                return None  # the open trade at the end is lost

        monkeypatch.setattr(_demo.stream, "SignalTrades", Late)
    check = _demo._signals_part(df, 1)["check"]
    assert not check["ok"] and broken in check["problem"]


def test_main_exit_code_on_mismatch(monkeypatch, capsys):
    real = _demo.run_demo

    def broken(**kwargs):
        res = real(**kwargs)
        res["checks"][0] = dict(res["checks"][0], ok=False, problem="injected")
        res["match"] = False
        return res

    monkeypatch.setattr(_demo, "run_demo", broken)
    assert main(["demo", "--symbols", "5", "--days", "60", "--repeat", "1"]) == 1
    assert "MISMATCH" in capsys.readouterr().out


def test_main_in_process(capsys):
    assert main(["demo", "--symbols", "6", "--days", "80", "--repeat", "1"]) == 0
    assert "RESULT: MATCH" in capsys.readouterr().out
    assert main(["info"]) == 0
    assert tk.__version__ in capsys.readouterr().out


# --------------------------------------------------------------------------
# CLI, in a subprocess


def test_cli_demo_subprocess():
    proc = _run_cli("demo", "--symbols", "10", "--days", "200")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "RESULT: MATCH" in proc.stdout
    assert "10 symbols x 200 business days" in proc.stdout
    assert "Warning" not in proc.stderr, proc.stderr


def test_cli_info_subprocess():
    proc = _run_cli("info")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert f"tradekernels {tk.__version__}" in out
    assert tk.simd_path in out
    assert ", ".join(tk.ufuncs.available_paths()) in out
    assert np.__version__ in out
    assert "backend:" in out


def test_cli_usage_errors():
    assert _run_cli().returncode == 2
    assert _run_cli("demo", "--symbols", "0").returncode == 2
    assert _run_cli("demo", "--days", "1").returncode == 2
