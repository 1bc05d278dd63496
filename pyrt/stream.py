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

from ._core import PyrtError, PyrtValueError
from .talib._runner import RECORDS, Stream

__all__ = ["SMA", "EMA", "RSI", "MACD", "BollingerBands", "ATR"]

_INDEX = {r.name: r.index for r in RECORDS}


class _Native(Stream):
    """A catalog stream under pyrt's argument names: an error about an
    argument names it as pyrt's signature does (`window`, `prices`), not as
    TA-Lib's (`timeperiod`, `real`)."""

    __slots__ = ()
    _names: dict = {}

    def _renamed(self, error: PyrtError) -> PyrtError:
        catalog_name, _, rest = str(error).partition(":")
        names = {"real": "prices", **self._names}
        if catalog_name in names and rest:
            return type(error)(f"{names[catalog_name]}:{rest}", error.status)
        return error

    def _new(self, params: tuple) -> None:
        try:
            super()._new(params)
        except PyrtError as error:
            raise self._renamed(error) from None

    def update_many(self, *inputs: Any) -> Any:
        try:
            return super().update_many(*inputs)
        except PyrtError as error:
            raise self._renamed(error) from None


class SMA(_Native):
    """Streaming simple moving average, equal to `pyrt.sma` on the same series."""

    __slots__ = ()
    _index = _INDEX["SMA"]
    _names = {"timeperiod": "window"}

    def __init__(self, window: int) -> None:
        """Parameters: window, number of values averaged (1 to 100000)."""
        self._new((window,))


class EMA(_Native):
    """Streaming exponential moving average, equal to `pyrt.ema`."""

    __slots__ = ()
    _index = _INDEX["EMA"]
    _names = {"timeperiod": "window"}

    def __init__(self, window: int) -> None:
        """Parameters: window, the EMA period (1 to 100000)."""
        self._new((window,))


class RSI(_Native):
    """Streaming RSI (Wilder), equal to `pyrt.rsi`."""

    __slots__ = ()
    _index = _INDEX["RSI"]
    _names = {"timeperiod": "window"}

    def __init__(self, window: int = 14) -> None:
        """Parameters: window, the RSI period (2 to 100000)."""
        self._new((window,))


class MACD(_Native):
    """Streaming MACD, equal to `pyrt.macd`; `update` returns (macd, signal, histogram)."""

    __slots__ = ()
    _index = _INDEX["MACD"]
    _names = {"fastperiod": "fast_period", "slowperiod": "slow_period", "signalperiod": "signal_period"}

    def __init__(self, fast_period: int = 12, slow_period: int = 26, signal_period: int = 9) -> None:
        """Parameters: fast_period, slow_period (2 to 100000, fast_period <=
        slow_period), signal_period (1 to 100000)."""
        if isinstance(fast_period, int) and isinstance(slow_period, int) and fast_period > slow_period:
            raise PyrtValueError(f"fast_period: must not exceed slow_period ({slow_period}), got {fast_period}")
        self._new((fast_period, slow_period, signal_period))


class BollingerBands(_Native):
    """Streaming Bollinger bands, equal to `pyrt.bollinger_bands`; `update`
    returns (upper, middle, lower)."""

    __slots__ = ()
    _index = _INDEX["BBANDS"]
    _names = {"timeperiod": "window", "nbdevup": "num_std", "nbdevdn": "num_std"}

    def __init__(self, window: int = 20, num_std: float = 2.0) -> None:
        """Parameters: window (2 to 100000); num_std, the band width in
        population standard deviations (finite)."""
        self._new((window, num_std, num_std, 0))


class ATR(_Native):
    """Streaming ATR (Wilder), equal to `pyrt.atr`; `update(high, low, close)`."""

    __slots__ = ()
    _index = _INDEX["ATR"]
    _names = {"timeperiod": "window"}

    def __init__(self, window: int = 14) -> None:
        """Parameters: window, the ATR period (1 to 100000)."""
        self._new((window,))

