"""tradekernels.plot: both pictures render to PNG with the Agg backend (skipped
without matplotlib), label dates, shade the right periods; the demo's --plot."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

mpl = pytest.importorskip("matplotlib")
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import tradekernels as tk  # noqa: E402
from tradekernels import plot  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def _closes() -> pd.Series:
    rng = np.random.default_rng(3)
    x = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, 600)))
    x[50:53] = np.nan
    return pd.Series(x, index=pd.bdate_range("2021-01-01", periods=600), name="XYZ")


def _render(fig: Figure, path) -> bytes:
    FigureCanvasAgg(fig)
    fig.savefig(path, format="png")
    return path.read_bytes()


def test_underwater_renders_with_dates(tmp_path):
    s = _closes()
    fig = plot.underwater(s)
    assert isinstance(fig, Figure)
    assert _render(fig, tmp_path / "u.png").startswith(PNG)
    ax = fig.axes[0]
    FigureCanvasAgg(fig).draw()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert any("2021" in t or "2022" in t or "2023" in t for t in labels), labels
    y = ax.lines[0].get_ydata()
    assert np.array_equal(y, tk.drawdown(s).to_numpy() * 100.0, equal_nan=True)
    assert "XYZ" in ax.get_title()


def test_drawdown_periods_shades_the_top_episodes(tmp_path):
    s = _closes()
    fig = plot.drawdown_periods(s, top=3)
    assert _render(fig, tmp_path / "p.png").startswith(PNG)
    ax = fig.axes[0]
    rec = tk.drawdowns(s, top=3)
    spans = [p for p in ax.patches if type(p).__name__ in ("Rectangle", "Polygon")]
    assert len(spans) == len(rec) == 3
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    for j, d in enumerate(rec["depth"]):
        assert texts[j].startswith(f"{j + 1}: {d * 100:.1f}%")
    first = spans[0].get_x() if hasattr(spans[0], "get_x") else spans[0].get_xy()[0][0]
    import matplotlib.dates as mdates

    assert mdates.num2date(first).date() == s.index[int(rec["peak_idx"][0])].date()


def test_plots_take_a_one_column_frame_an_array_and_an_axes(tmp_path):
    s = _closes()
    fig = Figure()
    ax = fig.add_subplot()
    assert plot.underwater(s.to_frame(), ax=ax) is fig
    assert isinstance(plot.drawdown_periods(s.to_numpy(), top=2), Figure)
    with pytest.raises(ValueError, match="one column"):
        plot.underwater(pd.concat([s, s], axis=1))


def test_import_tradekernels_does_not_import_matplotlib():
    code = "import sys, tradekernels; assert 'matplotlib' not in sys.modules; tradekernels.plot; print('ok')"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.stdout.strip() == "ok", r.stderr


def test_demo_writes_a_png_of_the_worst_symbol(tmp_path):
    out = tmp_path / "worst.png"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "tradekernels",
            "demo",
            "--symbols",
            "20",
            "--days",
            "300",
            "--repeat",
            "1",
            "--plot",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert out.read_bytes().startswith(PNG)
    from tradekernels.datasets import synthetic_closes

    worst = tk.max_drawdown(synthetic_closes(20, 300)).idxmin()
    assert f"worst symbol: {worst}" in r.stdout
