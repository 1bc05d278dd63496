"""Parameter sweeps: built-in signal generators and `grid`, which backtests
every (series, parameter combination) pair in the Rust core on all cores
(the GIL is released), or across a Dask cluster.

Signal rules (a comparison with a warming-up NaN is false, so no signal is
emitted before an indicator is defined):

- ``sma_cross`` / ``ema_cross`` (parameters ``fast``, ``slow``): 1 at bar i
  when the fast average crosses above the slow one
  (``fast[i-1] <= slow[i-1]`` and ``fast[i] > slow[i]``), -1 when it crosses
  below (``fast[i-1] >= slow[i-1]`` and ``fast[i] < slow[i]``), else 0. Any
  pair is allowed: fast > slow is the mirrored strategy, fast == slow never
  trades.
- ``price_sma_cross`` (``window``), the specification's demo rule: 1 when
  ``sma[i-1] < price[i-1]`` and ``sma[i] >= price[i]``, -1 when
  ``sma[i-1] > price[i-1]`` and ``sma[i] <= price[i]``.
- ``rsi_threshold`` (``window``, ``lower``, ``upper``): 1 while RSI < lower,
  -1 while RSI > upper; 0 <= lower < upper <= 100.
- ``bollinger_reversion`` (``window``, ``num_std``): 1 while the price is
  below the lower band, -1 while it is above the upper band.

Signals are targets for `pyrt.backtest_strategy`: with ``allow_short=False`` a
-1 means "be flat".
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

from ._core import PyrtValueError, aligned, as_f64_array, check, f64_ptr, ffi, lib, struct_dtype
from .backtest import BacktestConfig

__all__ = [
    "STRATEGIES",
    "SweepResult",
    "grid",
    "signals",
    "sma_cross",
    "ema_cross",
    "rsi_threshold",
    "bollinger_reversion",
    "price_sma_cross",
]

#: Strategy name -> (C constant, parameter names in order).
STRATEGIES: dict[str, tuple[int, tuple[str, ...]]] = {
    "sma_cross": (lib.PYRT_STRATEGY_SMA_CROSS, ("fast", "slow")),
    "ema_cross": (lib.PYRT_STRATEGY_EMA_CROSS, ("fast", "slow")),
    "rsi_threshold": (lib.PYRT_STRATEGY_RSI_THRESHOLD, ("window", "lower", "upper")),
    "bollinger_reversion": (lib.PYRT_STRATEGY_BOLLINGER_REVERSION, ("window", "num_std")),
    "price_sma_cross": (lib.PYRT_STRATEGY_PRICE_SMA_CROSS, ("window",)),
}

#: Parameters that are window lengths: whole numbers, shown as integers.
_WINDOW_PARAMS = frozenset({"fast", "slow", "window"})

_STAT_FIELDS = ("total_return", "sharpe_ratio", "max_drawdown", "win_rate", "num_trades", "final_equity")


def _strategy(name: str) -> tuple[int, tuple[str, ...]]:
    try:
        return STRATEGIES[name]
    except (KeyError, TypeError):
        raise PyrtValueError(f"strategy: unknown strategy {name!r}; expected one of {sorted(STRATEGIES)}") from None


def signals(prices: Any, strategy: str, **params: float) -> np.ndarray:
    """Target signals (int32, one per bar) of a built-in strategy.

    Parameters
    ----------
    prices : 1-D array-like
        Prices, one per bar.
    strategy : str
        One of `STRATEGIES`.
    **params : float
        The strategy's parameters by name (see the module docstring).

    Returns
    -------
    ndarray of int32 with values 1, -1 or 0.
    """
    code, names = _strategy(strategy)
    missing = [n for n in names if n not in params]
    extra = [n for n in params if n not in names]
    if missing or extra:
        raise PyrtValueError(f"params: {strategy} takes {', '.join(names)}; missing {missing}, unexpected {extra}")
    values = np.array([params[n] for n in names], dtype=np.float64)
    array = as_f64_array(prices, "prices")
    out = np.empty(len(array), dtype=np.int32)
    check(
        lib.pyrt_strategy_signals(
            code, f64_ptr(array), len(array), f64_ptr(values), len(values), ffi.from_buffer("int32_t[]", out)
        )
    )
    return out


def sma_cross(prices: Any, fast: int, slow: int) -> np.ndarray:
    """Fast/slow SMA crossing signals: 1 where fast crosses above slow, -1 below."""
    return signals(prices, "sma_cross", fast=fast, slow=slow)


def ema_cross(prices: Any, fast: int, slow: int) -> np.ndarray:
    """Fast/slow EMA crossing signals: 1 where fast crosses above slow, -1 below."""
    return signals(prices, "ema_cross", fast=fast, slow=slow)


def rsi_threshold(prices: Any, window: int = 14, lower: float = 30.0, upper: float = 70.0) -> np.ndarray:
    """1 while RSI(window) < lower, -1 while it is > upper, else 0."""
    return signals(prices, "rsi_threshold", window=window, lower=lower, upper=upper)


def bollinger_reversion(prices: Any, window: int = 20, num_std: float = 2.0) -> np.ndarray:
    """1 while the price is below the lower band, -1 while above the upper band."""
    return signals(prices, "bollinger_reversion", window=window, num_std=num_std)


def price_sma_cross(prices: Any, window: int = 20) -> np.ndarray:
    """The specification's demo rule: the SMA(window) crossing the price."""
    return signals(prices, "price_sma_cross", window=window)


class SweepResult(np.ndarray):
    """A structured array, one row per (series, combination): ``series``, the
    strategy's parameters, then ``total_return``, ``sharpe_ratio``,
    ``max_drawdown``, ``win_rate``, ``num_trades`` and ``final_equity``."""

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame({name: np.asarray(self[name]) for name in self.dtype.names})


def _as_prices_matrix(prices: Any, name: str = "prices") -> np.ndarray:
    array = np.asarray(prices)
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2:
        raise PyrtValueError(f"{name}: expected a 1-D series or a 2-D series x time array, got {array.ndim}-D")
    try:
        return aligned(np.ascontiguousarray(array, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise PyrtValueError(f"{name}: expected numbers ({exc})") from None


def _combinations(names: Sequence[str], params: Mapping[str, Any]) -> np.ndarray:
    if not isinstance(params, Mapping):
        raise PyrtValueError("params: expected a dict of parameter name -> list of values")
    missing = [n for n in names if n not in params]
    extra = [n for n in params if n not in names]
    if missing or extra:
        raise PyrtValueError(f"params: the strategy takes {', '.join(names)}; missing {missing}, unexpected {extra}")
    axes = []
    for n in names:
        values = params[n]
        values = [values] if np.isscalar(values) else list(values)
        if not values:
            raise PyrtValueError(f"params: {n} has no values")
        try:
            axes.append([float(v) for v in values])
        except (TypeError, ValueError):
            raise PyrtValueError(f"params: {n} must hold numbers, got {values!r}") from None
    return np.array(list(itertools.product(*axes)), dtype=np.float64).reshape(-1, len(names))


def _run_grid(bars: tuple, code: int, combos: np.ndarray, config: BacktestConfig, threads: int) -> np.ndarray:
    """One call into the core: rows as the C struct PyrtSweepRow. `bars` is
    (closes, opens, highs, lows), each a series x time matrix or None."""
    # Arrays unpickled on a Dask worker may sit at any byte offset.
    matrix, *extra = (None if m is None else aligned(m) for m in bars)
    combos = aligned(np.ascontiguousarray(combos))
    n_series, n_bars = matrix.shape
    rows = np.empty(n_series * len(combos), dtype=_ROW_DTYPE)
    check(
        lib.pyrt_sweep_grid(
            f64_ptr(matrix.reshape(-1)),
            *(ffi.NULL if m is None else f64_ptr(m.reshape(-1)) for m in extra),
            n_series,
            n_bars,
            code,
            f64_ptr(combos.reshape(-1)),
            combos.shape[1],
            len(combos),
            config._struct,
            threads,
            ffi.cast("PyrtSweepRow *", ffi.from_buffer(rows)),
        )
    )
    return rows


#: One row as the core writes it (C: PyrtSweepRow).
_ROW_DTYPE = struct_dtype(
    "PyrtSweepRow",
    [(f, f, fmt) for f, fmt in zip(("series", "combination") + _STAT_FIELDS,
                                   ("<u8", "<u8", "<f8", "<f8", "<f8", "<f8", "<u8", "<f8"))],
)


def _chunk_task(bars: tuple, code: int, combos: np.ndarray, start: int, config: BacktestConfig) -> np.ndarray:
    """What a Dask worker runs: one chunk of combinations on all its cores,
    combination indices shifted back to the whole grid's."""
    rows = _run_grid(bars, code, combos, config, 0)
    rows["combination"] += np.uint64(start)
    return rows


def grid(
    prices: Any,
    strategy: str,
    params: Mapping[str, Any],
    config: Optional[BacktestConfig] = None,
    *,
    open: Any = None,
    high: Any = None,
    low: Any = None,
    threads: Optional[int] = None,
    client: Any = None,
    chunks: Optional[int] = None,
    progress: Optional[Callable[[int, int], None]] = None,
) -> SweepResult:
    """Backtests `strategy` for every combination of `params` on every series.

    Parameters
    ----------
    prices : array-like, 1-D (one series) or 2-D (series x time)
        Prices; a 2-D array is used as C-contiguous float64 (copied once if not).
    strategy : str
        A built-in strategy: ``sma_cross``, ``ema_cross``, ``rsi_threshold``,
        ``bollinger_reversion`` or ``price_sma_cross``.
    params : dict of str -> list of numbers
        Values of each of the strategy's parameters; the grid is their
        cartesian product, in `itertools.product` order.
    config : BacktestConfig, optional
        The backtest settings (defaults to ``BacktestConfig()``), new fields
        included: ``fill_at="next_open"`` needs ``open``, any stop needs
        ``high`` and ``low``.
    open, high, low : array-like, optional
        The bars' opens, highs and lows, each of the shape of ``prices``.
    threads : int, optional
        Threads of the in-process run (default: all cores).
    client : dask.distributed.Client, optional
        Run on a Dask cluster instead: the combinations are split into
        `chunks` pieces (default: two per worker), shipped to the workers
        (which must have pyrt installed), and the rows gathered in order.
    chunks : int, optional
        How many pieces to split the combinations into (with `client`, or to
        report `progress` in-process).
    progress : callable(done, total), optional
        Called after each piece in-process, with combinations done so far.

    Returns
    -------
    SweepResult
        One row per (series, combination), series-major: ``series``, the
        parameters, ``total_return``, ``sharpe_ratio``, ``max_drawdown``,
        ``win_rate``, ``num_trades``, ``final_equity``. Every row equals
        `pyrt.backtest_strategy` on that series with that combination's
        signals. ``.to_pandas()`` gives a DataFrame.

    Raises
    ------
    ValueError
        Unknown strategy, bad parameter names or values (the message names the
        parameter and the combination), prices that are not 1-D or 2-D.
    """
    code, names = _strategy(strategy)
    matrix = _as_prices_matrix(prices)
    extra = []
    for values, name in ((open, "open"), (high, "high"), (low, "low")):
        if values is None:
            extra.append(None)
            continue
        m = _as_prices_matrix(values, name)
        if m.shape != matrix.shape:
            raise PyrtValueError(f"{name}: shape {m.shape} differs from the shape of prices {matrix.shape}")
        extra.append(m)
    bars = (matrix, *extra)
    combos = _combinations(names, params)
    if config is None:
        config = BacktestConfig()
    if not isinstance(config, BacktestConfig):
        raise PyrtValueError(f"config: expected a pyrt.BacktestConfig, got {type(config).__name__}")
    if threads is None:
        threads = 0
    if isinstance(threads, bool) or not (isinstance(threads, (int, np.integer)) and threads >= 0):
        raise PyrtValueError(f"threads: expected a whole number >= 0, got {threads!r}")
    if threads > lib.PYRT_SWEEP_MAX_THREADS:
        raise PyrtValueError(f"threads: at most {lib.PYRT_SWEEP_MAX_THREADS} (0 = one per core), got {threads}")
    n_combos = len(combos)
    if chunks is not None and not (isinstance(chunks, (int, np.integer)) and chunks >= 1):
        raise PyrtValueError(f"chunks: expected a whole number >= 1, got {chunks!r}")

    if client is not None:
        n_chunks = chunks or 2 * max(1, len(client.scheduler_info().get("workers", {})))
        bounds = np.linspace(0, n_combos, min(n_chunks, n_combos) + 1).astype(int)
        # Check every combination here first, so a bad one fails fast and locally.
        check(lib.pyrt_sweep_check_params(code, f64_ptr(combos.reshape(-1)), combos.shape[1], n_combos, matrix.shape[1]))
        bars_future = client.scatter(bars, broadcast=True)
        futures = [
            client.submit(_chunk_task, bars_future, code, combos[a:b], int(a), config, pure=False)
            for a, b in zip(bounds[:-1], bounds[1:])
            if b > a
        ]
        pieces = client.gather(futures)
    else:
        n_chunks = chunks or 1
        bounds = np.linspace(0, n_combos, min(n_chunks, n_combos) + 1).astype(int)
        pieces = []
        for a, b in zip(bounds[:-1], bounds[1:]):
            if b == a:
                continue
            piece = _run_grid(bars, code, combos[a:b], config, threads)
            piece["combination"] += np.uint64(a)
            pieces.append(piece)
            if progress is not None:
                progress(int(b), n_combos)
    rows = np.concatenate(pieces)
    rows = rows[np.lexsort((rows["combination"], rows["series"]))]

    dtype = np.dtype(
        [("series", "<i8")]
        + [(n, "<i8" if n in _WINDOW_PARAMS else "<f8") for n in names]
        + [(f, "<i8" if f == "num_trades" else "<f8") for f in _STAT_FIELDS]
    )
    result = np.empty(len(rows), dtype=dtype)
    result["series"] = rows["series"]
    for j, n in enumerate(names):
        result[n] = combos[rows["combination"].astype(np.intp), j]
    for f in _STAT_FIELDS:
        result[f] = rows[f]
    return result.view(SweepResult)
