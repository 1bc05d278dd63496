"""Streaming indicators: opaque Rust state updated one tick at a time.

Feeding a series through a streaming object, in one call or in any chunks,
gives the batch function's result (within 1e-12 of the series' largest
magnitude, same NaN positions). Each object saves its state to a versioned
byte string (`to_bytes()`) that `from_bytes()` restores here or, through
`pyrt_<name>_load`, in C or C++, so a strategy warmed up in Python resumes
elsewhere without replaying history.

An object may be used from one thread at a time.

Speed: `SMA`, `EMA`, `RSI` and `ATR` give each object an `update` that is the
C entry point bound to the object's handle (a bound method of the compiled
cffi function), so a tick costs one C call and no Python frame.
"""

from __future__ import annotations

from types import MethodType
from typing import Any, Callable, Tuple, Type, TypeVar

import numpy as np

from ._core import PyrtValueError, as_f64_array, check, ffi, lib
from .indicators import _bad_float, _bad_integer

__all__ = ["SMA", "EMA", "RSI", "MACD", "BollingerBands", "ATR"]

_from_buffer = ffi.from_buffer
_empty = np.empty
_S = TypeVar("_S", bound="_Stream")
# The per-tick entry points, looked up once.
_sma_update = lib.pyrt_sma_update
_ema_update = lib.pyrt_ema_update
_rsi_update = lib.pyrt_rsi_update
_macd_update = lib.pyrt_macd_update
_bollinger_update = lib.pyrt_bollinger_update
_atr_update = lib.pyrt_atr_update


class _Stream:
    """Shared handle plumbing: creation, save and load."""

    __slots__ = ("_handle",)
    _name = ""  # C prefix: pyrt_<name>_...
    _ctype = ""  # opaque C type

    def _adopt(self, raw: Any) -> None:
        self._handle = ffi.gc(raw, getattr(lib, f"pyrt_{self._name}_free"))

    def to_bytes(self) -> bytes:
        """The state as a versioned byte string (magic b"PYRT", format
        version, kind, fields little-endian, FNV-1a checksum), restorable
        with `from_bytes` or `pyrt_<name>_load` in C.

        Returns:
            The saved state.
        """
        save = getattr(lib, f"pyrt_{self._name}_save")
        written = ffi.new("size_t *")
        status = save(self._handle, ffi.NULL, 0, written)
        if status != lib.PYRT_BUFFER_TOO_SMALL:
            check(status)
        buf = ffi.new("uint8_t[]", written[0])
        check(save(self._handle, buf, written[0], written))
        return bytes(ffi.buffer(buf, written[0]))

    @classmethod
    def from_bytes(cls: Type[_S], data: bytes) -> _S:
        """Restores an object saved by `to_bytes` (here or in another language).

        Parameters:
            data: the saved state.

        Returns:
            A new object that continues exactly where the saved one stood.

        Raises:
            PyrtStateError (a ValueError): bytes that are not a saved state of
            this indicator (bad magic, checksum, version or kind, truncated,
            inconsistent).
        """
        try:
            view = ffi.from_buffer("uint8_t[]", data)
        except TypeError:
            raise PyrtValueError(f"data: expected bytes, got {type(data).__name__}") from None
        out = ffi.new(f"{cls._ctype} **")
        check(getattr(lib, f"pyrt_{cls._name}_load")(view, len(view), out))
        obj = cls.__new__(cls)
        obj._adopt(out[0])
        return obj


class _BoundStream(_Stream):
    """A stream whose `update` returns one float: the C function itself,
    bound to the handle (it keeps the handle alive while it exists)."""

    __slots__ = ()
    _update: Any = None  # the compiled `pyrt_<name>_update`

    def _adopt(self, raw: Any) -> None:
        super()._adopt(raw)
        self.update = MethodType(self._update, self._handle)  # type: ignore[misc]


class _PriceStream(_BoundStream):
    """A bound stream fed one price at a time (SMA, EMA, RSI)."""

    __slots__ = ()
    _update_many: Any = None  # the compiled `pyrt_<name>_update_many`

    def update_many(self, prices: Any) -> np.ndarray:
        """Takes an array of prices; returns what the batch function
        (`pyrt.<name>`) returns for them, continuing from the current state.

        Parameters:
            prices: 1-D array-like of prices.

        Returns:
            float64 array of the prices' length.
        """
        x = as_f64_array(prices, "prices")
        out = _empty(x.shape[0])
        check(self._update_many(self._handle, _from_buffer("double[]", x), x.shape[0], _from_buffer("double[]", out)))
        return out


class _TripleStream(_Stream):
    """A stream fed one price at a time whose results are three series
    (MACD, BollingerBands), in the batch function's output order."""

    __slots__ = ()
    _update_many: Any = None  # the compiled `pyrt_<name>_update_many`

    def update_many(self, prices: Any) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Takes an array of prices; returns what the batch function
        (`pyrt.macd`, `pyrt.bollinger_bands`) returns for them, continuing
        from the current state.

        Parameters:
            prices: 1-D array-like of prices.

        Returns:
            Three float64 arrays of the prices' length.
        """
        x = as_f64_array(prices, "prices")
        n = x.shape[0]
        first, second, third = _empty(n), _empty(n), _empty(n)
        check(self._update_many(
            self._handle, _from_buffer("double[]", x), n,
            _from_buffer("double[]", first), _from_buffer("double[]", second), _from_buffer("double[]", third)))
        return first, second, third


def _new(stream: _Stream, make: Any, *args: Any) -> None:
    out = ffi.new(f"{stream._ctype} **")
    check(make(*args, out))
    stream._adopt(out[0])


class SMA(_PriceStream):
    """Streaming simple moving average, equal to `pyrt.sma` on the same series."""

    __slots__ = {
        "update": (
            "Takes one price; returns the SMA (NaN while warming up).\n\n"
            "Parameters:\n"
            "    price: the next price.\n\n"
            "Returns:\n"
            "    The indicator value after this price."
        ),
    }
    update: Callable[[float], float]
    _update = _sma_update
    _update_many = lib.pyrt_sma_update_many
    _name, _ctype = "sma", "PyrtSma"

    def __init__(self, window: int) -> None:
        """Parameters:
            window: number of values averaged (>= 1).
        """
        try:
            _new(self, lib.pyrt_sma_new, window)
        except (OverflowError, TypeError):
            raise _bad_integer(window=window) from None



class EMA(_PriceStream):
    """Streaming exponential moving average, equal to `pyrt.ema`."""

    __slots__ = {
        "update": (
            "Takes one price; returns the EMA (NaN while warming up).\n\n"
            "Parameters:\n"
            "    price: the next price.\n\n"
            "Returns:\n"
            "    The indicator value after this price."
        ),
    }
    update: Callable[[float], float]
    _update = _ema_update
    _update_many = lib.pyrt_ema_update_many
    _name, _ctype = "ema", "PyrtEma"

    def __init__(self, window: int) -> None:
        """Parameters:
            window: EMA period (>= 1).
        """
        try:
            _new(self, lib.pyrt_ema_new, window)
        except (OverflowError, TypeError):
            raise _bad_integer(window=window) from None



class RSI(_PriceStream):
    """Streaming RSI (Wilder), equal to `pyrt.rsi`."""

    __slots__ = {
        "update": (
            "Takes one price; returns the RSI (NaN while warming up).\n\n"
            "Parameters:\n"
            "    price: the next price.\n\n"
            "Returns:\n"
            "    The indicator value after this price."
        ),
    }
    update: Callable[[float], float]
    _update = _rsi_update
    _update_many = lib.pyrt_rsi_update_many
    _name, _ctype = "rsi", "PyrtRsi"

    def __init__(self, window: int = 14) -> None:
        """Parameters:
            window: RSI period (>= 1).
        """
        try:
            _new(self, lib.pyrt_rsi_new, window)
        except (OverflowError, TypeError):
            raise _bad_integer(window=window) from None



class MACD(_TripleStream):
    """Streaming MACD, equal to `pyrt.macd`."""

    __slots__ = ()
    _name, _ctype = "macd", "PyrtMacd"
    _update_many = lib.pyrt_macd_update_many

    def __init__(self, fast_period: int = 12, slow_period: int = 26, signal_period: int = 9) -> None:
        """Parameters:
            fast_period, slow_period, signal_period: EMA periods (>= 1,
            fast_period <= slow_period).
        """
        try:
            _new(self, lib.pyrt_macd_new, fast_period, slow_period, signal_period)
        except (OverflowError, TypeError):
            raise _bad_integer(fast_period=fast_period, slow_period=slow_period, signal_period=signal_period) from None

    def update(self, price: float) -> Tuple[float, float, float]:
        """Takes one price; returns (macd, signal, histogram), NaNs while warming up."""
        r = _macd_update(self._handle, price)
        return (r.macd, r.signal, r.histogram)


class BollingerBands(_TripleStream):
    """Streaming Bollinger bands, equal to `pyrt.bollinger_bands`."""

    __slots__ = ()
    _name, _ctype = "bollinger", "PyrtBollinger"
    _update_many = lib.pyrt_bollinger_update_many

    def __init__(self, window: int = 20, num_std: float = 2.0) -> None:
        """Parameters:
            window: period (>= 1).
            num_std: band width in standard deviations (finite).
        """
        try:
            _new(self, lib.pyrt_bollinger_new, window, num_std)
        except (OverflowError, TypeError):
            if not isinstance(num_std, (int, float, np.integer, np.floating)):
                raise _bad_float("num_std", num_std) from None
            raise _bad_integer(window=window) from None

    def update(self, price: float) -> Tuple[float, float, float]:
        """Takes one price; returns (upper, middle, lower), NaNs while warming up."""
        r = _bollinger_update(self._handle, price)
        return (r.upper, r.middle, r.lower)


class ATR(_BoundStream):
    """Streaming ATR (Wilder), equal to `pyrt.atr`."""

    __slots__ = {
        "update": (
            "Takes one bar; returns the ATR (NaN while warming up).\n\n"
            "Parameters:\n"
            "    high, low, close: the next bar.\n\n"
            "Returns:\n"
            "    The ATR after this bar."
        ),
    }
    update: Callable[[float, float, float], float]
    _update = _atr_update
    _name, _ctype = "atr", "PyrtAtr"

    def __init__(self, window: int = 14) -> None:
        """Parameters:
            window: ATR period (>= 1).
        """
        try:
            _new(self, lib.pyrt_atr_new, window)
        except (OverflowError, TypeError):
            raise _bad_integer(window=window) from None

    def update_many(self, high: Any, low: Any, close: Any) -> np.ndarray:
        """Takes arrays of bars; returns what `pyrt.atr` returns for them."""
        h = as_f64_array(high, "high")
        lo = as_f64_array(low, "low")
        c = as_f64_array(close, "close")
        n = c.shape[0]
        if h.shape[0] != n or lo.shape[0] != n:
            bad = "high" if h.shape[0] != n else "low"
            raise PyrtValueError(f"{bad}: has {(h if bad == 'high' else lo).shape[0]} values but close has {n}")
        out = _empty(n)
        check(lib.pyrt_atr_update_many(
            self._handle, _from_buffer("double[]", h), _from_buffer("double[]", lo), _from_buffer("double[]", c), n,
            _from_buffer("double[]", out)))
        return out
