"""Drawdown pictures (optional: ``pip install tradekernels[plot]``, matplotlib).

* :func:`underwater`: the drawdown area chart (``tradekernels.drawdown``, in
  percent, below zero).
* :func:`drawdown_periods`: the price with the ``top`` deepest drawdown
  episodes shaded (``tradekernels.drawdowns(x, top=top)``), from the peak to
  the recovery (to the last bar for an active one).

Both take a pandas Series (a DataFrame column; a one-column DataFrame is
taken as its column) or a 1-D array, label the time axis with the dates of
a DatetimeIndex (otherwise the index or bar numbers), and return a
:class:`matplotlib.figure.Figure`.  They use matplotlib's object API, never
``pyplot``: no global figure state, any backend (the tests render with
Agg).  ``ax=`` draws into an existing Axes and returns its figure.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from .scans.api import drawdown
from .scans.records import drawdowns

__all__ = ["underwater", "drawdown_periods"]


def _matplotlib() -> Any:
    try:
        import matplotlib  # noqa: F401
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise ImportError("tradekernels.plot needs matplotlib: pip install tradekernels[plot]") from exc
    return Figure


def _series(x: Any) -> Tuple[np.ndarray, Any, str]:
    """(values as float64, x-axis positions, name) of a Series / column / 1-D array."""
    pd: Any = None
    try:
        import pandas

        pd = pandas
    except ImportError:  # pragma: no cover
        pass
    if pd is not None and isinstance(x, pd.DataFrame):
        if x.shape[1] != 1:
            raise ValueError(
                f"tradekernels.plot: pass one column (a Series), got a DataFrame of {x.shape[1]} columns"
            )
        x = x.iloc[:, 0]
    if pd is not None and isinstance(x, pd.Series):
        idx = x.index
        pos = idx.to_pydatetime() if isinstance(idx, pd.DatetimeIndex) else np.asarray(idx)
        return x.to_numpy(dtype=np.float64, na_value=np.nan), pos, "" if x.name is None else str(x.name)
    v = np.asarray(x, dtype=np.float64)
    if v.ndim != 1:
        raise ValueError(f"tradekernels.plot: expected one series (1-D), got shape {v.shape}")
    return v, np.arange(len(v)), ""


def _axes(ax: Any, figsize: Tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    Figure = _matplotlib()
    fig = Figure(figsize=figsize, layout="constrained")
    return fig.add_subplot()


def _dates(ax: Any, pos: Any) -> None:
    if len(pos) and not isinstance(pos[0], (int, float, np.integer, np.floating)):
        import matplotlib.dates as mdates

        loc = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))


def underwater(x: Any, *, ax: Any = None, nan: str = "skip", title: Optional[str] = None) -> Any:
    """The drawdown of ``x`` (percent) as an area below zero; returns the Figure."""
    v, pos, name = _series(x)
    d = drawdown(v, nan=nan) * 100.0
    ax = _axes(ax, (10.0, 3.0))
    ax.fill_between(pos, d, 0.0, where=~np.isnan(d), color="tab:red", alpha=0.35, linewidth=0)
    ax.plot(pos, d, color="tab:red", linewidth=0.8)
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.set_ylabel("drawdown (%)")
    ax.set_title(title if title is not None else f"Underwater {name}".strip())
    _dates(ax, pos)
    return ax.figure


def drawdown_periods(
    x: Any, top: int = 5, *, ax: Any = None, nan: str = "skip", title: Optional[str] = None
) -> Any:
    """The price of ``x`` with its ``top`` deepest drawdown episodes shaded (peak to
    recovery, or to the last bar if active) and labelled with their depth; returns
    the Figure."""
    v, pos, name = _series(x)
    rec = drawdowns(v, top=top, nan=nan)
    ax = _axes(ax, (10.0, 4.0))
    ax.plot(pos, v, color="tab:blue", linewidth=0.9)
    colors = ("tab:red", "tab:orange", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")
    last = len(v) - 1
    for j, r in enumerate(rec):
        end = int(r["end_idx"]) if r["end_idx"] >= 0 else last
        ax.axvspan(
            pos[int(r["peak_idx"])],
            pos[end],
            color=colors[j % len(colors)],
            alpha=0.2,
            linewidth=0,
            label=f"{j + 1}: {float(r['depth']) * 100.0:.1f}%" + ("" if r["status"] else " (active)"),
        )
    if len(rec):
        ax.legend(loc="best", fontsize="small", title=f"top {len(rec)} drawdowns")
    ax.set_ylabel("price")
    ax.set_title(title if title is not None else f"Drawdown periods {name}".strip())
    _dates(ax, pos)
    return ax.figure
