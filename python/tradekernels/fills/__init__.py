"""Order fills: limit / stop orders over OHLC bars (C: ``src/fills/``).

:func:`fill_orders` and :class:`BarIndex` (``api``), the pure-Python twin
(``reference``), the golden cases (``golden``) and the dask adapter
(``dask``).
"""

from .api import (
    TRADE_DTYPE,
    BarIndex,
    ExitReason,
    Exits,
    ExitState,
    Fills,
    FillState,
    OrderKind,
    SignalState,
    exit_orders,
    fill_orders,
    trades_from_signals,
)

__all__ = [
    "BarIndex",
    "ExitReason",
    "Exits",
    "ExitState",
    "SignalState",
    "Fills",
    "FillState",
    "OrderKind",
    "TRADE_DTYPE",
    "exit_orders",
    "fill_orders",
    "trades_from_signals",
]
