from typing import Mapping

import numpy as np

simd_path: str
simple_returns: np.ufunc
log_returns: np.ufunc
cumulative_returns: np.ufunc
drawdown: np.ufunc
max_drawdown: np.ufunc
drawdown_episode: np.ufunc
underwater_bars: np.ufunc
ulcer_index: np.ufunc
rolling_max_drawdown: np.ufunc
bar_index: np.ufunc
fill_orders: np.ufunc
fill_orders_naive: np.ufunc
simple_returns_state: np.ufunc
log_returns_state: np.ufunc
cumulative_returns_state: np.ufunc
drawdown_state: np.ufunc
max_drawdown_state: np.ufunc
drawdown_episode_state: np.ufunc
underwater_bars_state: np.ufunc
ulcer_index_state: np.ufunc
session_mask: np.ufunc
session_index: np.ufunc
session_start: np.ufunc
minutes_into_session: np.ufunc
session_mask_sorted: np.ufunc
session_index_sorted: np.ufunc
session_start_sorted: np.ufunc

def available_paths() -> list[str]: ...
def for_path(path: str) -> Mapping[str, np.ufunc]: ...
