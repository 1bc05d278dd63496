"""pyrt: a trading-analytics core in Rust, reached through one C ABI.

Indicators (batch and streaming), backtesting, risk metrics, a shared-memory
ring for market data and ZeroMQ + protobuf messaging. Every function takes
NumPy arrays (or any 1-D array-like) and hands their memory straight to the
Rust core; calls release the GIL.
"""

import os as _os

from ._core import PyrtError, ffi, lib, LIBRARY_PATH
from . import ipc
from .indicators import atr, bollinger_bands, ema, macd, rsi, sma
from . import stream
from . import talib
from .backtest import (BUY, FILL_DTYPE, LIMIT, MARKET, ORDER_DTYPE, SELL, STOP, STOP_LIMIT, TRADE_DTYPE,
                       BacktestConfig, BacktestResults, Position, backtest_strategy, calculate_slippage,
                       simulate_fills)
from . import sweep
from .risk import (calculate_cvar, calculate_max_drawdown, calculate_sharpe, calculate_sortino, calculate_var,
                   position_size)
from . import messaging

__version__: str = ffi.string(lib.pyrt_version()).decode("ascii")


def get_include() -> str:
    """The folder holding `pyrt.h`, for compiling C or C++ against this pyrt."""
    return _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "include")


def get_library_path() -> str:
    """The path of the bundled shared library (libpyrt.so) to link or load."""
    return LIBRARY_PATH


def get_library_dir() -> str:
    """The folder holding the bundled shared library, for `-L` (then `-lpyrt`)
    or a run-time path; `get_include()` gives the matching headers."""
    return os.path.dirname(LIBRARY_PATH)


__all__ = ["__version__", "get_include", "get_library_path", "get_library_dir", "PyrtError", "ipc"]
__all__ += ["sma", "ema", "rsi", "macd", "bollinger_bands", "atr", "stream", "talib"]
__all__ += ["BacktestConfig", "BacktestResults", "backtest_strategy", "simulate_fills", "calculate_slippage",
            "Position", "TRADE_DTYPE", "ORDER_DTYPE", "FILL_DTYPE", "BUY", "SELL", "MARKET", "LIMIT", "STOP",
            "STOP_LIMIT"]
__all__ += ["calculate_var", "calculate_cvar", "calculate_sharpe", "calculate_sortino", "calculate_max_drawdown",
            "position_size"]
__all__ += ["messaging"]
__all__ += ["sweep"]
