"""Backtesting: a signal-driven backtest with commissions and slippage, fill
simulation for market/limit/stop/stop-limit orders on OHLC bars, slippage
models and position accounting. Everything is computed by the Rust core; this
module converts arguments and results.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Optional, Union

import numpy as np

from ._core import PyrtValueError, aligned, as_f64_array, check, f64_ptr, ffi, lib, struct_dtype
from ._handle import Handle

__all__ = [
    "BacktestConfig",
    "BacktestResults",
    "backtest_strategy",
    "simulate_fills",
    "calculate_slippage",
    "Position",
    "TRADE_DTYPE",
    "ORDER_DTYPE",
    "FILL_DTYPE",
    "BUY",
    "SELL",
    "MARKET",
    "LIMIT",
    "STOP",
    "STOP_LIMIT",
]

#: Order sides, as ``OrderRequest.Side`` in proto/messages.proto.
BUY: int = lib.PYRT_ORDER_SIDE_BUY
SELL: int = lib.PYRT_ORDER_SIDE_SELL
#: Order types, as ``OrderRequest.OrderType`` in proto/messages.proto.
MARKET: int = lib.PYRT_ORDER_TYPE_MARKET
LIMIT: int = lib.PYRT_ORDER_TYPE_LIMIT
STOP: int = lib.PYRT_ORDER_TYPE_STOP
STOP_LIMIT: int = lib.PYRT_ORDER_TYPE_STOP_LIMIT


#: One row per round trip (C: PyrtTrade, 64 bytes; "return" is C's trade_return).
TRADE_DTYPE: np.dtype = struct_dtype(
    "PyrtTrade",
    [
        ("entry_index", "entry_index", "<u8"),
        ("exit_index", "exit_index", "<u8"),
        ("side", "side", "<i4"),
        ("quantity", "quantity", "<f8"),
        ("entry_price", "entry_price", "<f8"),
        ("exit_price", "exit_price", "<f8"),
        ("pnl", "pnl", "<f8"),
        ("return", "trade_return", "<f8"),
    ],
)

#: An order for `simulate_fills` (C: PyrtOrder, 40 bytes).
ORDER_DTYPE: np.dtype = struct_dtype(
    "PyrtOrder",
    [
        ("submit_index", "submit_index", "<u8"),
        ("side", "side", "<i4"),
        ("order_type", "order_type", "<i4"),
        ("quantity", "quantity", "<f8"),
        ("limit_price", "limit_price", "<f8"),
        ("stop_price", "stop_price", "<f8"),
    ],
)

#: A fill from `simulate_fills` (C: PyrtFill, 40 bytes).
FILL_DTYPE: np.dtype = struct_dtype(
    "PyrtFill",
    [
        ("order_index", "order_index", "<u8"),
        ("bar_index", "bar_index", "<u8"),
        ("price", "price", "<f8"),
        ("quantity", "quantity", "<f8"),
        ("commission", "commission", "<f8"),
    ],
)

_CONFIG_FIELDS = ("initial_capital", "commission", "slippage_bps", "position_size", "allow_short", "periods_per_year",
                  "commission_rate", "fill_at", "stop_loss", "take_profit", "trailing_stop")
_FILL_AT = {"close": lib.PYRT_FILL_AT_CLOSE, "next_open": lib.PYRT_FILL_AT_NEXT_OPEN}
_FILL_AT_NAMES = {code: name for name, code in _FILL_AT.items()}
_STOPS = ("stop_loss", "take_profit", "trailing_stop")


def _number(value: Any, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise PyrtValueError(f"{name}: expected a number, got {value!r}") from None


def _stop(value: Any, name: str) -> float:
    """None -> 0 (the C struct's "no stop"); otherwise a fraction > 0."""
    if value is None:
        return 0.0
    x = _number(value, name)
    if not x > 0:
        raise PyrtValueError(f"{name}: must be a fraction > 0, or None for no stop, got {value!r}")
    return x


class BacktestConfig:
    """Settings of `backtest_strategy`, validated by the core on every change.

    Parameters
    ----------
    initial_capital : float
        Starting cash, > 0.
    commission : float
        Fixed cost paid once per fill, >= 0.
    slippage_bps : float
        Buys fill at ``p * (1 + slippage_bps / 1e4)``, sells at
        ``p * (1 - slippage_bps / 1e4)``; in [0, 10000).
    position_size : float
        Share of the cash an opening trade commits (costs included), in (0, 1].
    allow_short : bool
        When true a -1 signal opens a short; otherwise it only closes a long.
    periods_per_year : float
        Annualisation factor of the Sharpe ratio, > 0.
    commission_rate : float
        A fraction of each fill's notional (0.001 = 0.1%), paid on top of
        ``commission``; in [0, 1).
    fill_at : {"close", "next_open"}
        ``"close"``: a signal fills at its own bar's close. ``"next_open"``:
        at the next bar's open (`backtest_strategy` then needs ``open``).
    stop_loss, take_profit, trailing_stop : float or None
        Fractions > 0 of the entry fill price (of the best price since the
        entry for ``trailing_stop``); None = no such exit. Any of them needs
        ``high`` and ``low``.

    Raises ``ValueError`` naming the field when a value is out of its domain.
    """

    __slots__ = ("_struct",)

    def __init__(
        self,
        initial_capital: float = 100_000.0,
        commission: float = 0.0,
        slippage_bps: float = 0.0,
        position_size: float = 1.0,
        allow_short: bool = False,
        periods_per_year: float = 252,
        commission_rate: float = 0.0,
        fill_at: str = "close",
        stop_loss: Optional[float] = None,
        take_profit: Optional[float] = None,
        trailing_stop: Optional[float] = None,
    ) -> None:
        struct = ffi.new("PyrtBacktestConfig *")
        struct.initial_capital = _number(initial_capital, "initial_capital")
        struct.commission = _number(commission, "commission")
        struct.slippage_bps = _number(slippage_bps, "slippage_bps")
        struct.position_size = _number(position_size, "position_size")
        struct.periods_per_year = _number(periods_per_year, "periods_per_year")
        struct.allow_short = bool(allow_short)
        struct.commission_rate = _number(commission_rate, "commission_rate")
        if not isinstance(fill_at, str) or fill_at not in _FILL_AT:
            raise PyrtValueError(f"fill_at: must be 'close' or 'next_open', got {fill_at!r}")
        struct.fill_at = _FILL_AT[fill_at]
        struct.stop_loss = _stop(stop_loss, "stop_loss")
        struct.take_profit = _stop(take_profit, "take_profit")
        struct.trailing_stop = _stop(trailing_stop, "trailing_stop")
        check(lib.pyrt_backtest_config_validate(struct))
        object.__setattr__(self, "_struct", struct)

    def __getattr__(self, name: str) -> Any:
        if name in _CONFIG_FIELDS:
            value = getattr(object.__getattribute__(self, "_struct"), name)
            if name == "fill_at":
                return _FILL_AT_NAMES[value]
            if name in _STOPS:
                return None if value == 0 else value
            return value
        raise AttributeError(f"'BacktestConfig' object has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in _CONFIG_FIELDS:
            raise AttributeError(f"'BacktestConfig' object has no attribute '{name}'")
        # Validate a copy first, so a refused value leaves the config as it was.
        fields = {field: getattr(self, field) for field in _CONFIG_FIELDS}
        fields[name] = value
        object.__setattr__(self, "_struct", BacktestConfig(**fields)._struct)

    def __reduce__(self) -> tuple:
        return (BacktestConfig, tuple(getattr(self, f) for f in _CONFIG_FIELDS))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BacktestConfig):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in _CONFIG_FIELDS)

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in _CONFIG_FIELDS)
        return f"BacktestConfig({inner})"


class BacktestResults:
    """The outcome of `backtest_strategy`.

    Attributes
    ----------
    total_return : float
        ``final_equity / initial_capital - 1``.
    sharpe_ratio : float
        Mean / std (ddof=1) of the equity curve's simple returns, times
        ``sqrt(periods_per_year)``; 0.0 when that std is 0. (``stats()``
        reports backtesting.py's Sharpe Ratio, which is another number.)
    max_drawdown : float
        Largest fall from the running peak of the equity curve, a positive fraction.
    win_rate : float
        Share of round trips with pnl > 0 (0.0 without trades).
    num_trades : int
        Number of round trips.
    final_equity : float
        ``equity_curve[-1]``: the cash after the forced close of a position
        still open at the last bar.
    equity_curve : numpy.ndarray or pandas.Series
        float64, one value per bar: cash + signed quantity * close after the
        bar's fills; a Series on the prices' index when ``prices`` was a Series.
    trades : numpy.ndarray
        Structured array of `TRADE_DTYPE`, one row per round trip.
    """

    __slots__ = ("total_return", "sharpe_ratio", "max_drawdown", "win_rate", "num_trades", "final_equity",
                 "equity_curve", "trades", "config", "_close", "_open", "_high", "_low", "_index")

    def __init__(self, summary: Any, equity_curve: Any, trades: np.ndarray, *, config: Optional[BacktestConfig] = None,
                 close: Optional[np.ndarray] = None, open: Optional[np.ndarray] = None,
                 high: Optional[np.ndarray] = None, low: Optional[np.ndarray] = None, index: Any = None) -> None:
        self.total_return: float = summary.total_return
        self.sharpe_ratio: float = summary.sharpe_ratio
        self.max_drawdown: float = summary.max_drawdown
        self.win_rate: float = summary.win_rate
        self.num_trades: int = int(summary.num_trades)
        self.final_equity: float = summary.final_equity
        self.equity_curve: Any = equity_curve
        self.trades: np.ndarray = trades
        self.config = config
        self._close, self._open, self._high, self._low, self._index = close, open, high, low, index

    def stats(self) -> Any:
        """backtesting.py 0.6.6's statistics of this run (computed by the core).

        A pandas Series with backtesting.py's keys (``Start`` ... ``Kelly
        Criterion``) and values by its ``compute_stats`` definitions applied
        to this run's equity curve, closes and trades: ``Return [%]`` runs
        from ``equity_curve[0]`` (after bar 0's fills) to the last value, a
        trade's return is its ``return`` field (net of costs), and with a
        DatetimeIndex the annualised figures use calendar days (252 or 365
        a year, or weeks, months, years for data at those steps) and
        durations are Timedeltas (of the wall clock: a timezone-aware index
        is measured in its local time, so DST shifts do not count, unlike
        backtesting.py on such an index). Without one, durations count bars, Return
        (Ann.) is 0 and Volatility, CAGR, Sharpe and Sortino are NaN, as in
        backtesting.py (which then has no CAGR key at all). One deliberate
        difference: when only the last bar is below its peak, backtesting.py
        reports that drawdown (a fraction) as the drawdown durations; pyrt
        reports NaN (NaT), as there is no drawdown period. Needs pandas.
        """
        from ._backtest_report import stats

        return stats(self)

    def trades_frame(self) -> Any:
        """The round trips as a pandas DataFrame: ``EntryBar``, ``ExitBar``,
        ``EntryTime``, ``ExitTime`` (index values; bar numbers without an
        index), ``Size`` (signed: < 0 for shorts), ``EntryPrice``,
        ``ExitPrice`` (fill prices), ``PnL`` (net of costs), ``ReturnPct``
        (a fraction, as backtesting.py's) and ``Duration``."""
        from ._backtest_report import trades_frame

        return trades_frame(self)

    def plot(self, filename: Optional[str] = None) -> Any:
        """Price with entries and exits (long entries ▲ green, short entries ▼
        red, exits ✕ coloured by the trade's outcome), equity, and drawdown,
        in one matplotlib figure (``pip install pyrt[plot]``).

        Parameters
        ----------
        filename : str, optional
            Where to save the figure (any format matplotlib knows by the
            extension, e.g. ``.png``, ``.svg``, ``.pdf``).

        Returns
        -------
        matplotlib.figure.Figure
        """
        from ._backtest_report import plot

        return plot(self, filename)

    def __repr__(self) -> str:
        return (
            f"BacktestResults(return={self.total_return * 100:.2f}%, sharpe={self.sharpe_ratio:.2f}, "
            f"max_dd={self.max_drawdown * 100:.2f}%, trades={self.num_trades})"
        )


def _signals_array(signals: Any, length: int) -> np.ndarray:
    """Signals as contiguous int32, refusing (not wrapping or truncating) any
    value that is not -1, 0 or 1. NaN (what ``shift(1)`` leaves) means 0, keep.
    Booleans are refused: a mask is not a target."""
    array = np.asarray(signals)
    if array.dtype == object:
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            raise PyrtValueError("signals: expected integers -1, 0 or 1, got objects that are not numbers") from None
    if array.ndim != 1:
        raise PyrtValueError(f"signals: expected a 1-D array, got {array.ndim}-D with shape {array.shape}")
    if len(array) != length:
        raise PyrtValueError(f"signals: length {len(array)} differs from the length of prices ({length})")
    if array.dtype.kind == "b":
        raise PyrtValueError(
            "signals: a boolean array is not a target; pass integers 1 (be long), -1 (be short, or flat "
            "without allow_short) and 0 (keep), e.g. np.where(mask, 1, -1)"
        )
    if array.dtype == np.int32:
        return aligned(np.ascontiguousarray(array))
    if array.dtype.kind not in "iuf":
        raise PyrtValueError(f"signals: expected integers -1, 0 or 1, got dtype {array.dtype}")
    if array.dtype.kind == "f":
        array = np.where(np.isnan(array), 0.0, array)
    valid = (array == -1) | (array == 0) | (array == 1)
    if not valid.all():
        index = int(np.argmin(valid))
        raise PyrtValueError(f"signals: must be -1, 0 or 1, got {array[index].item()!r} at index {index}")
    return array.astype(np.int32)


def _pandas_index(values: Any) -> Any:
    """The index of a pandas Series (None for anything else), without
    importing pandas when the caller has not."""
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(values, pd.Series):
        return values.index
    return None


def _optional_series(values: Any, name: str, length: int) -> Optional[np.ndarray]:
    if values is None:
        return None
    array = as_f64_array(values, name)
    if len(array) != length:
        raise PyrtValueError(f"{name}: length {len(array)} differs from the length of prices ({length})")
    return array


def _ptr_or_null(array: Optional[np.ndarray]) -> Any:
    return ffi.NULL if array is None else f64_ptr(array)


def backtest_strategy(prices: Any, signals: Any, config: Optional[BacktestConfig] = None, *,
                      open: Any = None, high: Any = None, low: Any = None) -> BacktestResults:
    """Runs a signal-driven backtest.

    Signals are targets: 1 = be long, -1 = be short when ``config.allow_short``
    (otherwise: be flat), 0 = keep what you hold. NaN counts as 0 (keep), so
    ``signals.shift(1)`` works as it is; booleans are refused (a mask is no
    target: use ``np.where(mask, 1, -1)``).

    Each bar i, in this order:

    1. ``fill_at="next_open"``: the target of signal i-1 fills at ``open[i]``
       (a signal on the last bar never fills).
    2. Stops of the open position (from the bar after an entry at a close,
       from the same bar for an entry at an open). Long: stop =
       ``max(entry*(1-stop_loss), best*(1-trailing_stop))``, target =
       ``entry*(1+take_profit)``, entry the entry fill price, best the
       highest high since the entry (starting at the entry fill, updated
       after each bar's checks). If ``open <= stop``: exit at the open;
       elif ``open >= target``: exit at the open; elif ``low <= stop``: exit
       at the stop; elif ``high >= target``: exit at the target. Shorts
       mirror it (best = lowest low). Stop exits pay slippage, target exits
       (limits) do not. Without ``open``, a bar opens at the previous close
       clipped into its low-high range.
    3. ``fill_at="close"``: signal i acts at ``close[i]``.
    4. ``equity_curve[i] = cash + signed quantity * close[i]``.

    Buys fill at ``p*(1+slippage_bps/1e4)``, sells at ``p*(1-slippage_bps/1e4)``;
    each fill pays ``commission + commission_rate * quantity * fill``. An
    opening trade buys (or sells short) ``(cash*position_size - commission) /
    (fill*(1+commission_rate))`` units, none when that is <= 0. A reversing
    signal closes, then opens, at the same price. A position open after the
    last bar is closed at the last close (with slippage and costs) and counts.

    Parameters
    ----------
    prices : array-like of float, or pandas.Series
        The closes, finite and > 0. A Series makes ``equity_curve`` a Series
        on its index, and its index the report's and the plot's.
    signals : array-like of int (or float with NaN)
        -1, 0 or 1 per bar, same length as ``prices``.
    config : BacktestConfig, optional
        Defaults to ``BacktestConfig()``.
    open, high, low : array-like of float, optional
        The bars' opens, highs and lows: ``fill_at="next_open"`` needs
        ``open``, any stop needs ``high`` and ``low``. Given series must be
        finite, > 0, and ``low <= open, close <= high``.

    Returns
    -------
    BacktestResults
        Statistics, the equity curve, the trade log, ``stats()``,
        ``trades_frame()`` and ``plot()``.

    Raises
    ------
    ValueError
        Naming the argument: empty or non-positive prices, signals outside
        {-1, 0, 1} or boolean, lengths that differ, a series the
        configuration needs but did not get, inconsistent bars.
    """
    if config is None:
        config = BacktestConfig()
    elif not isinstance(config, BacktestConfig):
        raise PyrtValueError(f"config: expected a BacktestConfig, got {type(config).__name__}")
    index = _pandas_index(prices)
    prices = as_f64_array(prices, "prices")
    n = len(prices)
    signals = _signals_array(signals, n)
    bars = [_optional_series(values, name, n) for values, name in ((open, "open"), (high, "high"), (low, "low"))]
    equity = np.empty(n, dtype=np.float64)
    out = ffi.new("PyrtBacktestResult **")
    check(lib.pyrt_backtest_run(f64_ptr(prices), *(_ptr_or_null(b) for b in bars),
                                ffi.from_buffer("int32_t[]", signals), n,
                                object.__getattribute__(config, "_struct"), f64_ptr(equity), out))
    handle = out[0]
    try:
        summary = ffi.new("PyrtBacktestSummary *")
        check(lib.pyrt_backtest_result_summary(handle, summary))
        count = lib.pyrt_backtest_result_num_trades(handle)
        trades = np.empty(count, dtype=TRADE_DTYPE)
        written = ffi.new("size_t *")
        check(lib.pyrt_backtest_result_trades(handle, ffi.from_buffer("PyrtTrade[]", trades), count, written))
    finally:
        lib.pyrt_backtest_result_free(handle)
    curve: Any = equity
    if index is not None:
        curve = sys.modules["pandas"].Series(equity, index=index, name="Equity")
    return BacktestResults(summary, curve, trades, config=config, close=prices, open=bars[0], high=bars[1],
                           low=bars[2], index=index)


def _orders_array(orders: Any) -> np.ndarray:
    """Any structured array (or sequence of tuples) with ORDER_DTYPE's field
    names -> a contiguous ORDER_DTYPE array; integer fields must fit exactly."""
    if isinstance(orders, np.ndarray) and orders.dtype == ORDER_DTYPE:
        if orders.ndim != 1:
            raise PyrtValueError(f"orders: expected a 1-D array, got shape {orders.shape}")
        return aligned(np.ascontiguousarray(orders))
    if not isinstance(orders, np.ndarray) or orders.dtype.names is None:
        try:
            return np.ascontiguousarray(np.asarray(orders, dtype=ORDER_DTYPE)).reshape(-1)
        except (TypeError, ValueError, OverflowError) as exc:
            raise PyrtValueError(f"orders: expected a structured array with fields {ORDER_DTYPE.names} ({exc})") from None
    missing = [name for name in ORDER_DTYPE.names if name not in orders.dtype.names]
    if missing:
        raise PyrtValueError(f"orders: missing field(s) {missing}")
    if orders.ndim != 1:
        raise PyrtValueError(f"orders: expected a 1-D array, got shape {orders.shape}")
    converted = np.zeros(len(orders), dtype=ORDER_DTYPE)
    for name in ORDER_DTYPE.names:
        source = orders[name]
        converted[name] = source
        if not np.array_equal(converted[name], source):
            index = int(np.argmax(converted[name] != source))
            raise PyrtValueError(f"orders: order {index}: {name} {source[index].item()!r} does not fit {ORDER_DTYPE[name]}")
    return converted


def simulate_fills(
    orders: Any,
    open: Any,
    high: Any,
    low: Any,
    close: Any,
    *,
    slippage_bps: float = 0.0,
    commission: float = 0.0,
) -> np.ndarray:
    """Simulates orders on OHLC bars.

    Rules:

    - an order is live from the bar after ``submit_index`` and stays live
      until it fills; it fills whole, at most once (volume is not modelled);
    - MARKET fills at the first live bar's open;
    - LIMIT: a buy fills when ``low <= limit`` at ``min(open, limit)`` (a bar
      that opens through the limit fills at the better open); a sell fills
      when ``high >= limit`` at ``max(open, limit)``;
    - STOP: a buy triggers when ``high >= stop`` and fills at
      ``max(open, stop)``; a sell when ``low <= stop`` at ``min(open, stop)``;
    - STOP_LIMIT: becomes a limit order when its stop triggers. On the
      trigger bar it fills only if the trigger price (``max(open, stop)`` for a
      buy, ``min(open, stop)`` for a sell) is within the limit, at that
      price; otherwise it waits for the next bars as a plain limit order
      (the path inside a bar is unknown, so no fill is assumed after the trigger);
    - slippage applies to MARKET and STOP fills (``price * (1 ± slippage_bps/1e4)``,
      worse for the taker), not to LIMIT or STOP_LIMIT fills;
    - every fill pays ``commission``.

    Parameters
    ----------
    orders : structured array
        Fields of `ORDER_DTYPE`: submit_index, side (BUY/SELL), order_type
        (MARKET/LIMIT/STOP/STOP_LIMIT), quantity, limit_price, stop_price.
    open, high, low, close : array-like of float
        The bars; same length, finite, > 0, ``low <= open, close <= high``.
    slippage_bps : float
        In [0, 10000).
    commission : float
        Per fill, >= 0.

    Returns
    -------
    numpy.ndarray
        Structured array of `FILL_DTYPE` (order_index, bar_index, price,
        quantity, commission), ordered by bar then order index; orders that
        never fill have no row.
    """
    orders = _orders_array(orders)
    bars = [as_f64_array(series, name) for series, name in ((open, "open"), (high, "high"), (low, "low"), (close, "close"))]
    n = len(bars[0])
    for series, name in zip(bars[1:], ("high", "low", "close")):
        if len(series) != n:
            raise PyrtValueError(f"{name}: length {len(series)} differs from the length of open ({n})")
    fills = np.empty(len(orders), dtype=FILL_DTYPE)
    count = ffi.new("size_t *")
    check(lib.pyrt_simulate_fills(
        ffi.from_buffer("PyrtOrder[]", orders), len(orders),
        *(f64_ptr(series) for series in bars), n,
        _number(slippage_bps, "slippage_bps"), _number(commission, "commission"),
        ffi.from_buffer("PyrtFill[]", fills), len(fills), count,
    ))
    return fills[: count[0]]


_SIDE_NAMES = {"buy": BUY, "sell": SELL}


def _side_codes(side: Any) -> np.ndarray:
    """Sides as int32 codes: BUY/SELL integers or the strings "buy"/"sell"."""
    array = np.asarray(side)
    if array.dtype.kind in "US":
        lowered = np.char.lower(array.astype(str))
        valid = np.isin(lowered, list(_SIDE_NAMES))
        if not valid.all():
            raise PyrtValueError(f"side: must be 'buy' or 'sell' (or BUY=0 / SELL=1), got {array.flat[int(np.argmin(valid))].item()!r}")
        return np.where(lowered == "buy", BUY, SELL).astype(np.int32)
    if array.dtype.kind not in "iu":
        raise PyrtValueError(f"side: expected BUY (0), SELL (1), 'buy' or 'sell', got dtype {array.dtype}")
    valid = (array == BUY) | (array == SELL)
    if not np.all(valid):
        raise PyrtValueError(f"side: must be BUY (0) or SELL (1), got {array.flat[int(np.argmin(valid))].item()!r}")
    return array.astype(np.int32)


def _side_code(side: Union[int, str]) -> int:
    if isinstance(side, str):
        try:
            return _SIDE_NAMES[side.lower()]
        except KeyError:
            raise PyrtValueError(f"side: must be 'buy' or 'sell' (or BUY=0 / SELL=1), got {side!r}") from None
    if isinstance(side, (bool, np.bool_)) or not isinstance(side, (int, np.integer)):
        raise PyrtValueError(f"side: expected BUY (0), SELL (1), 'buy' or 'sell', got {side!r}")
    if int(side) not in (BUY, SELL):
        raise PyrtValueError(f"side: must be BUY (0) or SELL (1), got {side!r}")
    return int(side)


_SLIPPAGE_MODELS = {"bps": lib.PYRT_SLIPPAGE_BPS, "sqrt": lib.PYRT_SLIPPAGE_SQUARE_ROOT,
                    "square_root": lib.PYRT_SLIPPAGE_SQUARE_ROOT}


def calculate_slippage(
    price: Any,
    quantity: Any,
    side: Any,
    *,
    model: str = "bps",
    slippage_bps: float = 0.0,
    coefficient: float = 1.0,
    volatility: Optional[float] = None,
    daily_volume: Optional[float] = None,
) -> Union[float, np.ndarray]:
    """The execution price after slippage: higher than ``price`` for buys,
    lower for sells.

    Parameters
    ----------
    price, quantity : float or array-like
        Price (> 0) and size (>= 0); broadcast together with ``side``.
    side : BUY / SELL, "buy" / "sell", or an array of them
    model : {"bps", "square_root"}
        ``"bps"``: ``price * (1 ± slippage_bps / 1e4)``.
        ``"square_root"`` (alias ``"sqrt"``): market impact
        ``coefficient * volatility * sqrt(quantity / daily_volume)`` as a
        fraction of the price, ``price * (1 ± impact)``.
    slippage_bps : float
        Bps model, in [0, 10000).
    coefficient : float
        Square-root model, >= 0 (about 1 in the empirical square-root law).
    volatility : float
        Square-root model, required: daily volatility of returns (a fraction).
    daily_volume : float
        Square-root model, required: volume traded per day, > 0.

    Returns
    -------
    float or numpy.ndarray
        A float when every input is a scalar, otherwise a float64 array of the broadcast shape.
    """
    if model not in _SLIPPAGE_MODELS:
        raise PyrtValueError(f"model: must be 'bps' or 'square_root', got {model!r}")
    kind = _SLIPPAGE_MODELS[model]
    params = ffi.new("PyrtSlippageModel *")
    params.kind = kind
    params.slippage_bps = _number(slippage_bps, "slippage_bps")
    params.coefficient = _number(coefficient, "coefficient")
    if kind == lib.PYRT_SLIPPAGE_SQUARE_ROOT:
        if volatility is None:
            raise PyrtValueError("volatility: required by the square_root model")
        if daily_volume is None:
            raise PyrtValueError("daily_volume: required by the square_root model")
        params.volatility = _number(volatility, "volatility")
        params.daily_volume = _number(daily_volume, "daily_volume")
    scalar = all(np.ndim(x) == 0 for x in (price, quantity, side))
    arrays = []
    for value, name in ((price, "price"), (quantity, "quantity")):
        try:
            arrays.append(np.asarray(value, dtype=np.float64))
        except (TypeError, ValueError):
            raise PyrtValueError(f"{name}: expected numbers, got {value!r}") from None
    arrays.append(_side_codes(side))
    try:
        price_b, quantity_b, side_b = np.broadcast_arrays(*arrays)
    except ValueError as exc:
        raise PyrtValueError(f"price: cannot broadcast price, quantity and side together ({exc})") from None
    shape = price_b.shape
    prices = aligned(np.ascontiguousarray(price_b, dtype=np.float64).reshape(-1))
    quantities = aligned(np.ascontiguousarray(quantity_b, dtype=np.float64).reshape(-1))
    sides = aligned(np.ascontiguousarray(side_b, dtype=np.int32).reshape(-1))
    out = np.empty(prices.size, dtype=np.float64)
    check(lib.pyrt_calculate_slippage(f64_ptr(prices), f64_ptr(quantities), ffi.from_buffer("int32_t[]", sides),
                                      prices.size, params, f64_ptr(out)))
    return float(out[0]) if scalar else out.reshape(shape)


class Position(Handle):
    """A position in one symbol: signed quantity, average entry price,
    realized and unrealized P&L (the fields of ``PositionSnapshot`` in
    proto/messages.proto).

    Fills that add to the position average the entry price by size; fills
    against it realize ``closed * (price - avg_entry_price)`` (sign-adjusted
    for shorts); a fill larger than the position closes it and opens the
    remainder the other way at the fill price. Every commission is
    subtracted from ``realized_pnl`` when it is paid (opening fills
    included), so ``realized_pnl`` is net of fees. After each fill the
    position is marked at the fill price.

    Threads: one position may be shared; fills and marks from several
    threads are applied one at a time (none is lost). `close()` from any
    thread waits for a call in progress; later calls raise ValueError
    ("position: is closed"). `copy.copy`/`copy.deepcopy` raise TypeError.

    Parameters
    ----------
    symbol : str
        A non-empty name (at most 1024 bytes, no NUL).
    """

    __slots__ = ("_symbol",)
    _close_fn = lib.pyrt_position_close
    _free_fn = lib.pyrt_position_free

    def __init__(self, symbol: str) -> None:
        if not isinstance(symbol, str):
            raise PyrtValueError(f"symbol: expected a str, got {type(symbol).__name__}")
        if "\0" in symbol:
            raise PyrtValueError("symbol: must not contain NUL characters")
        out = ffi.new("PyrtPosition **")
        check(lib.pyrt_position_new(symbol.encode("utf-8"), out))
        self._adopt(out[0])
        self._symbol = symbol

    def _live(self) -> Any:
        return self._ptr

    @staticmethod
    def _now_us(timestamp_us: Optional[int]) -> int:
        return time.time_ns() // 1000 if timestamp_us is None else int(timestamp_us)

    def apply_fill(self, side: Union[int, str], quantity: float, price: float, commission: float = 0.0, *,
                   timestamp_us: Optional[int] = None) -> None:
        """Books one fill.

        Parameters
        ----------
        side : BUY / SELL or "buy" / "sell"
        quantity : float
            > 0.
        price : float
            > 0.
        commission : float
            >= 0, subtracted from ``realized_pnl``.
        timestamp_us : int, optional
            Stored as ``last_update_us``; defaults to the current time.
        """
        check(lib.pyrt_position_apply_fill(self._live(), _side_code(side), _number(quantity, "quantity"),
                                           _number(price, "price"), _number(commission, "commission"),
                                           self._now_us(timestamp_us)))

    def mark(self, price: float, *, timestamp_us: Optional[int] = None) -> None:
        """Sets ``current_price`` and ``unrealized_pnl = quantity * (price - avg_entry_price)``.

        Parameters
        ----------
        price : float
            > 0.
        timestamp_us : int, optional
            Stored as ``last_update_us``; defaults to the current time.
        """
        check(lib.pyrt_position_mark(self._live(), _number(price, "price"), self._now_us(timestamp_us)))

    def _snapshot(self) -> Any:
        snapshot = ffi.new("PyrtPositionSnapshot *")
        check(lib.pyrt_position_snapshot(self._live(), snapshot))
        return snapshot

    @property
    def symbol(self) -> str:
        """The position's symbol."""
        return self._symbol

    @property
    def quantity(self) -> float:
        """Signed quantity: > 0 long, < 0 short, 0 flat."""
        return self._snapshot().quantity

    @property
    def avg_entry_price(self) -> float:
        """Size-weighted average entry price (0.0 when flat)."""
        return self._snapshot().avg_entry_price

    @property
    def current_price(self) -> float:
        """Last fill or mark price (0.0 before any)."""
        return self._snapshot().current_price

    @property
    def realized_pnl(self) -> float:
        """P&L of the closed quantity, net of every commission paid."""
        return self._snapshot().realized_pnl

    @property
    def unrealized_pnl(self) -> float:
        """``quantity * (current_price - avg_entry_price)``."""
        return self._snapshot().unrealized_pnl

    @property
    def last_update_us(self) -> int:
        """Timestamp of the last fill or mark, in microseconds."""
        return int(self._snapshot().last_update_us)

    def __repr__(self) -> str:
        if self.closed:
            return f"Position(symbol={self._symbol!r}, closed)"
        s = self._snapshot()
        return (f"Position(symbol={self._symbol!r}, quantity={s.quantity!r}, avg_entry_price={s.avg_entry_price!r}, "
                f"realized_pnl={s.realized_pnl!r}, unrealized_pnl={s.unrealized_pnl!r})")
