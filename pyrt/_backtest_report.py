"""The backtest report in pandas and matplotlib: `stats()` (numbers from the
core's `pyrt_backtest_stats`), `trades_frame()` and `plot()` of a
`BacktestResults`. pandas and matplotlib are imported only here, when a
report is asked for."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ._core import PyrtValueError, check, f64_ptr, ffi, lib

#: backtesting.py's keys, in its order, with the C field of each.
STATS_KEYS = (
    ("Exposure Time [%]", "exposure_time_pct"),
    ("Equity Final [$]", "equity_final"),
    ("Equity Peak [$]", "equity_peak"),
    ("Return [%]", "return_pct"),
    ("Buy & Hold Return [%]", "buy_hold_return_pct"),
    ("Return (Ann.) [%]", "return_ann_pct"),
    ("Volatility (Ann.) [%]", "volatility_ann_pct"),
    ("CAGR [%]", "cagr_pct"),
    ("Sharpe Ratio", "sharpe_ratio"),
    ("Sortino Ratio", "sortino_ratio"),
    ("Calmar Ratio", "calmar_ratio"),
    ("Alpha [%]", "alpha_pct"),
    ("Beta", "beta"),
    ("Max. Drawdown [%]", "max_drawdown_pct"),
    ("Avg. Drawdown [%]", "avg_drawdown_pct"),
    ("Max. Drawdown Duration", "max_drawdown_duration"),
    ("Avg. Drawdown Duration", "avg_drawdown_duration"),
    ("# Trades", "num_trades"),
    ("Win Rate [%]", "win_rate_pct"),
    ("Best Trade [%]", "best_trade_pct"),
    ("Worst Trade [%]", "worst_trade_pct"),
    ("Avg. Trade [%]", "avg_trade_pct"),
    ("Max. Trade Duration", "max_trade_duration"),
    ("Avg. Trade Duration", "avg_trade_duration"),
    ("Profit Factor", "profit_factor"),
    ("Expectancy [%]", "expectancy_pct"),
    ("SQN", "sqn"),
    ("Kelly Criterion", "kelly_criterion"),
)

_DURATIONS = frozenset({"max_drawdown_duration", "avg_drawdown_duration", "max_trade_duration", "avg_trade_duration"})


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is in every test environment
        raise ImportError("pyrt: the backtest report needs pandas (pip install pandas)") from None
    return pd


def _index_values(index: Any, n: int) -> tuple[Any, int, Any]:
    """(int64 values for the core or None, their kind, the labels to show)."""
    pd = _pandas()
    if index is None:
        return None, lib.PYRT_INDEX_NUMBERS, pd.RangeIndex(n)
    if isinstance(index, pd.DatetimeIndex):
        # Calendar periods are those of the wall clock the data is in.
        local = index.tz_localize(None) if index.tz is not None else index
        if local.hasnans:
            raise PyrtValueError("index: the prices' DatetimeIndex holds NaT")
        values = np.ascontiguousarray(local.as_unit("ns").asi8, dtype=np.int64)
        return values, lib.PYRT_INDEX_DATETIME_NS, index
    if pd.api.types.is_integer_dtype(index.dtype):
        return np.ascontiguousarray(index.to_numpy(dtype=np.int64)), lib.PYRT_INDEX_NUMBERS, index
    # Other labels (strings, floats): durations count bars.
    return None, lib.PYRT_INDEX_NUMBERS, index


def stats(results: Any) -> Any:
    pd = _pandas()
    equity = np.ascontiguousarray(np.asarray(results.equity_curve, dtype=np.float64))
    close = results._close
    n = len(equity)
    values, kind, labels = _index_values(results._index, n)
    trades = results.trades
    out = ffi.new("PyrtBacktestStats *")
    check(lib.pyrt_backtest_stats(
        f64_ptr(equity), f64_ptr(close), n,
        ffi.NULL if values is None else ffi.from_buffer("int64_t[]", values), kind,
        ffi.from_buffer("PyrtTrade[]", trades) if len(trades) else ffi.NULL, len(trades), out,
    ))
    datetime = kind == lib.PYRT_INDEX_DATETIME_NS

    def duration(x: float) -> Any:
        if datetime:
            return pd.NaT if np.isnan(x) else pd.Timedelta(int(round(x)), unit="ns")
        return x

    s: dict[str, Any] = {"Start": labels[0], "End": labels[-1]}
    if datetime:
        # Wall-clock time, as every other duration here: a timezone-aware
        # index is measured on its local clock (DST shifts do not count).
        s["Duration"] = pd.Timedelta(int(out.duration), unit="ns")
    else:
        s["Duration"] = labels[-1] - labels[0] if values is not None or isinstance(labels, pd.RangeIndex) else out.duration
    for key, field in STATS_KEYS:
        value = getattr(out, field)
        if field in _DURATIONS:
            value = duration(value)
        elif field == "num_trades":
            value = int(value)
        s[key] = value
    return pd.Series(s, dtype=object, name="Stats")


def trades_frame(results: Any) -> Any:
    pd = _pandas()
    t = results.trades
    entry = t["entry_index"].astype(np.int64)
    exit_ = t["exit_index"].astype(np.int64)
    index = results._index
    labels = pd.RangeIndex(len(results._close)) if index is None else index
    entry_time = labels[entry]
    exit_time = labels[exit_]
    try:
        duration = np.asarray(exit_time) - np.asarray(entry_time)
    except TypeError:  # labels that do not subtract (strings): count bars
        duration = exit_ - entry
    return pd.DataFrame({
        "EntryBar": entry,
        "ExitBar": exit_,
        "EntryTime": entry_time,
        "ExitTime": exit_time,
        "Size": t["side"] * t["quantity"],
        "EntryPrice": t["entry_price"],
        "ExitPrice": t["exit_price"],
        "PnL": t["pnl"],
        "ReturnPct": t["return"],
        "Duration": duration,
    })


def plot(results: Any, filename: Optional[str] = None) -> Any:
    try:
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
        from matplotlib.ticker import FuncFormatter
    except ImportError:
        raise ImportError("pyrt: results.plot() needs matplotlib (pip install pyrt[plot])") from None
    close = results._close
    n = len(close)
    index = results._index
    x = np.arange(n) if index is None else np.asarray(index)
    equity = np.asarray(results.equity_curve, dtype=np.float64)
    peak = np.maximum.accumulate(equity)
    drawdown = (equity / peak - 1.0) * 100.0
    t = results.trades
    entry = t["entry_index"].astype(np.intp)
    exit_ = t["exit_index"].astype(np.intp)
    longs = t["side"] > 0
    wins = t["pnl"] > 0

    fig = Figure(figsize=(12, 8), layout="constrained")
    grid = fig.add_gridspec(3, 1, height_ratios=[3, 1.6, 1])
    ax_price = fig.add_subplot(grid[0])
    ax_equity = fig.add_subplot(grid[1], sharex=ax_price)
    ax_dd = fig.add_subplot(grid[2], sharex=ax_price)

    ax_price.plot(x, close, color="#2b2b2b", linewidth=1.0, label="close")
    green, red = "#1a9850", "#d73027"
    # A thin line from each entry to its exit, in the colour of its outcome.
    for k in range(len(t)):
        ax_price.plot([x[entry[k]], x[exit_[k]]], [t["entry_price"][k], t["exit_price"][k]],
                      color=green if wins[k] else red, linewidth=1.2, alpha=0.6)
    # Markers shrink as trades crowd; exits go under entries, since a flip
    # exits and enters on the same bar.
    size = 70.0 if len(t) < 50 else 40.0 if len(t) < 200 else 20.0
    edge = dict(edgecolor="black", linewidth=0.5)
    ax_price.scatter(x[exit_[wins]], t["exit_price"][wins], marker="X", s=size * 0.6, color=green, zorder=3, **edge)
    ax_price.scatter(x[exit_[~wins]], t["exit_price"][~wins], marker="X", s=size * 0.6, color=red, zorder=3, **edge)
    ax_price.scatter(x[entry[longs]], t["entry_price"][longs], marker="^", s=size, color=green, zorder=4, **edge)
    ax_price.scatter(x[entry[~longs]], t["entry_price"][~longs], marker="v", s=size, color=red, zorder=4, **edge)
    legend = [
        Line2D([], [], color="#2b2b2b", linewidth=1.0, label="close"),
        Line2D([], [], marker="^", linestyle="", markersize=8, markerfacecolor=green, markeredgecolor="black",
               label=f"long entry ({int(longs.sum())})"),
        Line2D([], [], marker="v", linestyle="", markersize=8, markerfacecolor=red, markeredgecolor="black",
               label=f"short entry ({int((~longs).sum())})"),
        Line2D([], [], marker="X", linestyle="", markersize=8, markerfacecolor=green, markeredgecolor="black",
               label="exit, winning trade"),
        Line2D([], [], marker="X", linestyle="", markersize=8, markerfacecolor=red, markeredgecolor="black",
               label="exit, losing trade"),
    ]
    ax_price.legend(handles=legend, loc="upper left", fontsize=9, framealpha=0.9, ncol=5)
    ax_price.set_ylabel("price")
    ax_price.margins(x=0.01)
    ax_price.grid(alpha=0.3)

    initial = results.config.initial_capital if results.config is not None else equity[0]
    ax_equity.plot(x, equity, color="#3366cc", linewidth=1.2)
    ax_equity.axhline(initial, color="grey", linewidth=0.8, linestyle="--")
    ax_equity.fill_between(x, initial, equity, where=equity >= initial, color="#3366cc", alpha=0.12, interpolate=True)
    ax_equity.fill_between(x, initial, equity, where=equity < initial, color=red, alpha=0.12, interpolate=True)
    ax_equity.set_ylabel("equity")
    ax_equity.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax_equity.grid(alpha=0.3)

    ax_dd.fill_between(x, drawdown, 0.0, color=red, alpha=0.35, linewidth=0)
    ax_dd.plot(x, drawdown, color=red, linewidth=0.8)
    worst = int(np.argmin(drawdown))
    ax_dd.annotate(f"max {drawdown[worst]:.1f}%", (x[worst], drawdown[worst]), textcoords="offset points",
                   xytext=(8, 8), fontsize=9, color="black",
                   bbox=dict(boxstyle="round,pad=0.2", facecolor="white", edgecolor="none", alpha=0.8))
    ax_dd.set_ylabel("drawdown [%]")
    ax_dd.grid(alpha=0.3)
    for ax in (ax_price, ax_equity):
        ax.tick_params(labelbottom=False)

    fig.suptitle(
        f"return {results.total_return * 100:+.2f}%   ·   Sharpe {results.sharpe_ratio:.2f}   ·   "
        f"max drawdown {results.max_drawdown * 100:.2f}%   ·   {results.num_trades} trades   ·   "
        f"win rate {results.win_rate * 100:.0f}%",
        fontsize=12,
    )
    if filename is not None:
        fig.savefig(filename, dpi=110)
    return fig
