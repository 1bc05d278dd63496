"""Technical indicators over whole arrays, computed by the Rust core exactly
as TA-Lib 0.8 (C library 0.8.1, through the `talib` package) computes them
with its defaults: values within 1e-9 and the same NaN positions.

Every function takes any 1-D array-like of numbers (lists, any dtype, strided
or reversed views: converted once to contiguous float64) and returns float64
arrays of the input's length, NaN where the indicator is not yet defined.

NaN handling follows `talib`: leading NaNs are skipped (the lookback counts
from the first non-NaN value); a NaN or infinity inside the data propagates
the way TA-Lib's own arithmetic propagates it (see the README).
"""

from __future__ import annotations

import operator
from typing import Any, Tuple

import numpy as np

from . import _batch
from ._core import PyrtError, PyrtValueError, as_f64_array, shown

__all__ = ["sma", "ema", "rsi", "macd", "bollinger_bands", "atr"]

# Every call runs in pyrt/_batch.c, which reads float64 arrays in place,
# allocates the outputs, calls the core (pyrt_sma, ...) and raises its
# error. It takes `int` periods and an `int` or `float` num_std as they are
# and returns None for any other argument: the function then converts its
# arguments here (lists, other dtypes and layouts, NumPy scalars) and calls
# it again. The values (periods against the series, finiteness) are the
# core's to check either way.
_sma = _batch.sma
_ema = _batch.ema
_rsi = _batch.rsi
_macd = _batch.macd
_bbands = _batch.bollinger_bands
_atr = _batch.atr

_BOOLS = (bool, np.bool_)
_SIZE_LIMIT = 2**64  # the C size_t a period crosses as


def _period(value: Any, name: str) -> int:
    """A period as an `int` the C size_t holds (its value is the core's to
    check); anything else is a ValueError naming `name`."""
    if value.__class__ in _BOOLS:
        raise PyrtValueError(f"{name}: must be an integer of at least 1, not a boolean, got {shown(value)}")
    try:
        number = operator.index(value)
    except TypeError:
        raise PyrtValueError(f"{name}: must be an integer of at least 1, got {shown(value)}") from None
    if number < 0:
        raise PyrtValueError(f"{name}: must be an integer of at least 1, got {shown(value)}")
    if number >= _SIZE_LIMIT:
        raise PyrtValueError(f"{name}: too large, got {shown(value)}")
    return number


def _number(value: Any, name: str) -> float:
    """A float for a C double parameter (its finiteness is the core's to
    check); anything else is a ValueError naming `name`."""
    if value.__class__ in _BOOLS:
        raise PyrtValueError(f"{name}: must be a finite number, not a boolean, got {shown(value)}")
    if not isinstance(value, (int, float, np.integer, np.floating)):
        raise PyrtValueError(f"{name}: must be a finite number, got {shown(value)}")
    try:
        return float(value)
    except OverflowError:
        raise PyrtValueError(f"{name}: must be a finite number, got {shown(value)}") from None


def _checked(out: Any) -> Any:
    """The compiled call's result on converted arguments, never None."""
    if out is None:  # pragma: no cover - the converted arguments are what the compiled call takes
        raise PyrtError("pyrt: the compiled call refused converted arguments")
    return out


def sma(prices: Any, window: int) -> np.ndarray:
    """Simple moving average.

    Parameters:
        prices: 1-D array-like of prices.
        window: number of values averaged (1 <= window <= len(prices)).

    Returns:
        float64 array of len(prices); the first `window - 1` values (after any
        leading NaNs) are NaN.
    """
    out = _sma(prices, window)
    if out is None:
        out = _checked(_sma(as_f64_array(prices, "prices"), _period(window, "window")))
    return out


def ema(prices: Any, window: int) -> np.ndarray:
    """Exponential moving average, k = 2 / (window + 1), seeded with the simple
    average of the first `window` values (TA-Lib's EMA).

    Parameters:
        prices: 1-D array-like of prices.
        window: period (1 <= window <= len(prices)).

    Returns:
        float64 array of len(prices); the first `window - 1` values (after any
        leading NaNs) are NaN.
    """
    out = _ema(prices, window)
    if out is None:
        out = _checked(_ema(as_f64_array(prices, "prices"), _period(window, "window")))
    return out


def rsi(prices: Any, window: int = 14) -> np.ndarray:
    """Relative strength index with Wilder smoothing (TA-Lib's RSI).

    Parameters:
        prices: 1-D array-like of prices.
        window: period (1 <= window <= len(prices)).

    Returns:
        float64 array of len(prices) with values in [0, 100]; the first
        `window` values (after any leading NaNs) are NaN.
    """
    out = _rsi(prices, window)
    if out is None:
        out = _checked(_rsi(as_f64_array(prices, "prices"), _period(window, "window")))
    return out


def macd(
    prices: Any, fast_period: int = 12, slow_period: int = 26, signal_period: int = 9
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MACD with TA-Lib's alignment: macd = EMA(fast) - EMA(slow), signal =
    EMA(signal_period) of macd, histogram = macd - signal.

    Parameters:
        prices: 1-D array-like of prices.
        fast_period: fast EMA period (1 <= fast_period <= slow_period).
        slow_period: slow EMA period (<= len(prices)).
        signal_period: signal EMA period (<= len(prices)).

    Returns:
        (macd, signal, histogram), float64 arrays of len(prices); the first
        `slow_period + signal_period - 2` values of all three (after any
        leading NaNs) are NaN.
    """
    out = _macd(prices, fast_period, slow_period, signal_period)
    if out is None:
        x = as_f64_array(prices, "prices")
        periods = (_period(fast_period, "fast_period"), _period(slow_period, "slow_period"),
                   _period(signal_period, "signal_period"))
        out = _checked(_macd(x, *periods))
    return out


def bollinger_bands(prices: Any, window: int = 20, num_std: float = 2.0) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bollinger bands: middle = SMA(window), upper/lower = middle ± num_std ×
    population standard deviation of the window (TA-Lib's BBANDS with an SMA).

    Parameters:
        prices: 1-D array-like of prices.
        window: period (1 <= window <= len(prices)).
        num_std: band width in standard deviations (finite).

    Returns:
        (upper, middle, lower), float64 arrays of len(prices); the first
        `window - 1` values (after any leading NaNs) are NaN.
    """
    out = _bbands(prices, window, num_std)
    if out is None:
        x = as_f64_array(prices, "prices")
        out = _checked(_bbands(x, _period(window, "window"), _number(num_std, "num_std")))
    return out


def atr(high: Any, low: Any, close: Any, window: int = 14) -> np.ndarray:
    """Average true range with Wilder smoothing (TA-Lib's ATR).

    Parameters:
        high, low, close: 1-D array-likes of the bars, all of one length.
        window: period (1 <= window <= len(close)).

    Returns:
        float64 array of len(close); the first `window` values (after any
        leading bars where high, low or close is NaN) are NaN.
    """
    out = _atr(high, low, close, window)
    if out is None:
        bars = (as_f64_array(high, "high"), as_f64_array(low, "low"), as_f64_array(close, "close"))
        out = _checked(_atr(*bars, _period(window, "window")))
    return out
