"""Streaming versions of pyrt's six indicators: `SMA`, `EMA`, `RSI`, `MACD`,
`BollingerBands`, `ATR`, with the batch functions' parameter names.

Each is a catalog stream (the same object as `pyrt.talib.stream.SMA`, ...,
built empty instead of from history): `update(x)` takes one value
(`ATR.update(high, low, close)`) and returns a float, or for `MACD` and
`BollingerBands` a tuple in the batch function's output order; it refuses a
value that is not finite (ValueError) and leaves the stream as it was.
`update_many(...)` takes the batch function's arrays and returns what it
returns, continuing from the current state; NaN inside the data propagates
there as in the batch function. Feeding a series in one call or in any chunks
gives the batch result (within 1e-12 of the series' largest magnitude, same
NaN positions).

Parameters follow TA-Lib's valid ranges (RSI, MACD's fast and slow periods
and the Bollinger window at least 2). `to_bytes()` saves a self-describing
state that `from_bytes()` restores here, `pyrt_stream_load` in C, or the Go,
Java and Node bindings. A stream may be shared between threads (calls are
serialized), `close()`d from any thread, and copied with `copy.copy` (an
independent stream).
"""

from __future__ import annotations

from typing import Any

from ._core import PyrtValueError
from .talib._runner import RECORDS, Stream

__all__ = ["SMA", "EMA", "RSI", "MACD", "BollingerBands", "ATR"]

_INDEX = {r.name: r.index for r in RECORDS}


class SMA(Stream):
    """Streaming simple moving average, equal to `pyrt.sma` on the same series."""

    __slots__ = ()
    _index = _INDEX["SMA"]

    def __init__(self, window: int) -> None:
        """Parameters: window, number of values averaged (1 to 100000)."""
        self._new((window,))


class EMA(Stream):
    """Streaming exponential moving average, equal to `pyrt.ema`."""

    __slots__ = ()
    _index = _INDEX["EMA"]

    def __init__(self, window: int) -> None:
        """Parameters: window, the EMA period (1 to 100000)."""
        self._new((window,))


class RSI(Stream):
    """Streaming RSI (Wilder), equal to `pyrt.rsi`."""

    __slots__ = ()
    _index = _INDEX["RSI"]

    def __init__(self, window: int = 14) -> None:
        """Parameters: window, the RSI period (2 to 100000)."""
        self._new((window,))


class MACD(Stream):
    """Streaming MACD, equal to `pyrt.macd`; `update` returns (macd, signal, histogram)."""

    __slots__ = ()
    _index = _INDEX["MACD"]

    def __init__(self, fast_period: int = 12, slow_period: int = 26, signal_period: int = 9) -> None:
        """Parameters: fast_period, slow_period (2 to 100000, fast_period <=
        slow_period), signal_period (1 to 100000)."""
        if isinstance(fast_period, int) and isinstance(slow_period, int) and fast_period > slow_period:
            raise PyrtValueError(f"fast_period: must not exceed slow_period ({slow_period}), got {fast_period}")
        self._new((fast_period, slow_period, signal_period))


class BollingerBands(Stream):
    """Streaming Bollinger bands, equal to `pyrt.bollinger_bands`; `update`
    returns (upper, middle, lower)."""

    __slots__ = ()
    _index = _INDEX["BBANDS"]

    def __init__(self, window: int = 20, num_std: float = 2.0) -> None:
        """Parameters: window (2 to 100000); num_std, the band width in
        population standard deviations (finite)."""
        self._new((window, num_std, num_std, 0))


class ATR(Stream):
    """Streaming ATR (Wilder), equal to `pyrt.atr`; `update(high, low, close)`."""

    __slots__ = ()
    _index = _INDEX["ATR"]

    def __init__(self, window: int = 14) -> None:
        """Parameters: window, the ATR period (1 to 100000)."""
        self._new((window,))

