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

from typing import Any, Tuple

import numpy as np

from . import _batch
from ._core import PyrtValueError, as_f64_array, check, ffi, lib

__all__ = ["sma", "ema", "rsi", "macd", "bollinger_bands", "atr"]

# Each function first offers its arguments to its compiled common case
# (pyrt/_batch.c): float64 arrays the core can read in place and `int` (and,
# for num_std, `float`) parameters, in one C call that allocates the outputs,
# calls the core and raises its error. It returns None for anything else, and
# the function then converts its arguments here and calls the core through
# cffi. Both paths call the same C function, so values and errors are the
# core's either way.
_fast_sma = _batch.sma
_fast_ema = _batch.ema
_fast_rsi = _batch.rsi
_fast_macd = _batch.macd
_fast_bbands = _batch.bollinger_bands
_fast_atr = _batch.atr

_from_buffer = ffi.from_buffer
_empty = np.empty
_sma = lib.pyrt_sma
_ema = lib.pyrt_ema
_rsi = lib.pyrt_rsi
_macd = lib.pyrt_macd
_bbands = lib.pyrt_bollinger_bands
_atr = lib.pyrt_atr


def _bad_integer(**named: Any) -> PyrtValueError:
    """The error for a period that is not a non-negative integer (cffi
    refuses it before the core can name it)."""
    for name, value in named.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            return PyrtValueError(f"{name}: must be an integer of at least 1, got {value!r}")
        if value >= 2**63:
            return PyrtValueError(f"{name}: too large, got {value!r}")
    name = next(iter(named))
    return PyrtValueError(f"{name}: must be an integer of at least 1, got {named[name]!r}")


_BOOLS = (bool, np.bool_)


def _refuse_bool(**named: Any) -> None:
    """A boolean is an integer to cffi; as a period it is a mistake."""
    for name, value in named.items():
        if value.__class__ in _BOOLS:
            what = "a finite number" if name == "num_std" else "an integer of at least 1"
            raise PyrtValueError(f"{name}: must be {what}, not a boolean, got {value!r}")


def _takes_double(value: Any) -> bool:
    """Whether cffi passes `value` as a C double: a number a double holds
    (an int beyond its range is refused with OverflowError)."""
    if not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    try:
        float(value)
    except OverflowError:
        return False
    return True


def _bad_float(name: str, value: Any) -> PyrtValueError:
    return PyrtValueError(f"{name}: must be a finite number, got {value!r}")


def sma(prices: Any, window: int) -> np.ndarray:
    """Simple moving average.

    Parameters:
        prices: 1-D array-like of prices.
        window: number of values averaged (1 <= window <= len(prices)).

    Returns:
        float64 array of len(prices); the first `window - 1` values (after any
        leading NaNs) are NaN.
    """
    out = _fast_sma(prices, window)
    if out is not None:
        return out
    if window.__class__ in _BOOLS:
        _refuse_bool(window=window)
    x = as_f64_array(prices, "prices")
    n = len(x)
    out = _empty(n)
    try:
        status = _sma(_from_buffer("double[]", x), n, window, _from_buffer("double[]", out))
    except (OverflowError, TypeError):
        raise _bad_integer(window=window) from None
    if status:
        check(status)
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
    out = _fast_ema(prices, window)
    if out is not None:
        return out
    if window.__class__ in _BOOLS:
        _refuse_bool(window=window)
    x = as_f64_array(prices, "prices")
    n = len(x)
    out = _empty(n)
    try:
        status = _ema(_from_buffer("double[]", x), n, window, _from_buffer("double[]", out))
    except (OverflowError, TypeError):
        raise _bad_integer(window=window) from None
    if status:
        check(status)
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
    out = _fast_rsi(prices, window)
    if out is not None:
        return out
    if window.__class__ in _BOOLS:
        _refuse_bool(window=window)
    x = as_f64_array(prices, "prices")
    n = len(x)
    out = _empty(n)
    try:
        status = _rsi(_from_buffer("double[]", x), n, window, _from_buffer("double[]", out))
    except (OverflowError, TypeError):
        raise _bad_integer(window=window) from None
    if status:
        check(status)
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
    out = _fast_macd(prices, fast_period, slow_period, signal_period)
    if out is not None:
        return out
    if fast_period.__class__ in _BOOLS or slow_period.__class__ in _BOOLS or signal_period.__class__ in _BOOLS:
        _refuse_bool(fast_period=fast_period, slow_period=slow_period, signal_period=signal_period)
    x = as_f64_array(prices, "prices")
    n = len(x)
    # One allocation; each row is a C-contiguous array of its own.
    out = _empty((3, n))
    p = _from_buffer("double[]", out)
    try:
        status = _macd(_from_buffer("double[]", x), n, fast_period, slow_period, signal_period, p, p + n, p + 2 * n)
    except (OverflowError, TypeError):
        raise _bad_integer(fast_period=fast_period, slow_period=slow_period, signal_period=signal_period) from None
    if status:
        check(status)
    # Indexing the rows costs a third of unpacking the 2-D array by iteration.
    return out[0], out[1], out[2]


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
    out = _fast_bbands(prices, window, num_std)
    if out is not None:
        return out
    if window.__class__ in _BOOLS or num_std.__class__ in _BOOLS:
        _refuse_bool(window=window, num_std=num_std)
    x = as_f64_array(prices, "prices")
    n = len(x)
    out = _empty((3, n))
    p = _from_buffer("double[]", out)
    try:
        status = _bbands(_from_buffer("double[]", x), n, window, num_std, p, p + n, p + 2 * n)
    except (OverflowError, TypeError):
        if not _takes_double(num_std):
            raise _bad_float("num_std", num_std) from None
        raise _bad_integer(window=window) from None
    if status:
        check(status)
    return out[0], out[1], out[2]


def atr(high: Any, low: Any, close: Any, window: int = 14) -> np.ndarray:
    """Average true range with Wilder smoothing (TA-Lib's ATR).

    Parameters:
        high, low, close: 1-D array-likes of the bars, all of one length.
        window: period (1 <= window <= len(close)).

    Returns:
        float64 array of len(close); the first `window` values (after any
        leading bars where high, low or close is NaN) are NaN.
    """
    out = _fast_atr(high, low, close, window)
    if out is not None:
        return out
    if window.__class__ in _BOOLS:
        _refuse_bool(window=window)
    h = as_f64_array(high, "high")
    lo = as_f64_array(low, "low")
    c = as_f64_array(close, "close")
    out = _empty(len(c))
    try:
        status = _atr(
            _from_buffer("double[]", h), len(h), _from_buffer("double[]", lo), len(lo),
            _from_buffer("double[]", c), len(c), window, _from_buffer("double[]", out),
        )
    except (OverflowError, TypeError):
        raise _bad_integer(window=window) from None
    if status:
        check(status)
    return out
