"""Backtest and risk benchmarks: pyrt against vectorbt and NumPy, in one run.

Backtest: pyrt.backtest_strategy (equity curve, trade log and statistics)
against vectorbt's Portfolio.from_signals with the same fixed fee, slippage,
sizing and initial cash, plus its total_return, sharpe_ratio and max_drawdown,
at 1,000 and 1,000,000 bars; then the same with next-open fills, a stop
loss, a take profit, a trailing stop and percentage fees (against
from_signals with sl_stop, sl_trail and tp_stop), and the report, `stats()`,
against backtesting.py's `compute_stats` on the same trades. Risk: each pyrt metric at 1,000,000 returns
against NumPy's own computation of the same quantity (quantile, mean, std, ...).

Times are the best of several repeats, after a warm-up run (vectorbt's numba
functions compile on first use), in CPU time of this process: on a machine
shared with other work, wall time measures the neighbours more than the code
(every contender here runs on one thread). Nothing is asserted: this prints
a table.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

import pyrt


def best_time(fn, repeats: int, number: int = 1) -> float:
    """Best CPU time of `number` calls, over `repeats` repeats, per call (seconds)."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(number):
            fn()
        best = min(best, (time.process_time() - start) / number)
    return best


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:9.1f} us"
    return f"{seconds * 1e3:9.2f} ms"


def make_data(n: int, seed: int = 42):
    rng = np.random.default_rng(seed)
    prices = 100 + np.cumsum(rng.standard_normal(n) * 0.5)
    prices = prices - min(prices.min(), 0) + 10.0
    # Sparse crossing-like signals: about one entry or exit every 20 bars.
    signals = np.zeros(n, dtype=np.int32)
    events = rng.random(n) < 0.05
    signals[events] = rng.choice(np.array([-1, 1], dtype=np.int32), events.sum())
    return prices, signals


def bench_backtest() -> None:
    try:
        import pandas as pd
        import vectorbt as vbt
    except ImportError as exc:  # a bench-only dependency: `make bench` installs it
        print(f"vectorbt is not installed ({exc}); run `make bench`.")
        return
    capital, commission, slippage_bps, size = 100_000.0, 1.0, 5.0, 0.95
    config = pyrt.BacktestConfig(initial_capital=capital, commission=commission, slippage_bps=slippage_bps,
                                 position_size=size)
    print("backtest: pyrt.backtest_strategy vs vectorbt Portfolio.from_signals + total_return/sharpe/max_drawdown")
    print(f"{'bars':>10} {'pyrt':>12} {'vectorbt':>12} {'speed-up':>9}   pyrt bars/s")
    for n, repeats, number in ((1_000, 7, 200), (1_000_000, 5, 1)):
        prices, signals = make_data(n)
        close = pd.Series(prices, index=pd.date_range("2000-01-01", periods=n, freq="min"))
        entries = pd.Series(signals == 1, index=close.index)
        exits = pd.Series(signals == -1, index=close.index)

        def run_pyrt():
            result = pyrt.backtest_strategy(prices, signals, config)
            return result.equity_curve, result.trades, result.sharpe_ratio

        def run_vectorbt():
            pf = vbt.Portfolio.from_signals(close, entries, exits, init_cash=capital, fixed_fees=commission,
                                            slippage=slippage_bps / 1e4, size=size, size_type="percent", freq="1D")
            return pf.total_return(), pf.sharpe_ratio(), pf.max_drawdown()

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_pyrt = best_time(run_pyrt, repeats, number)
            t_vbt = best_time(run_vectorbt, repeats, max(1, number // 20))
        print(f"{n:>10,} {fmt(t_pyrt):>12} {fmt(t_vbt):>12} {t_vbt / t_pyrt:>8.1f}x   {n / t_pyrt:,.0f}")


def make_ohlc(n: int, seed: int = 42):
    rng = np.random.default_rng(seed)
    close = 100 * np.cumprod(1 + rng.normal(0, 0.01, n))
    open_ = np.r_[close[0], close[:-1]] * (1 + rng.normal(0, 0.002, n))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.006, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.006, n))
    signals = np.zeros(n, dtype=np.int32)
    events = rng.random(n) < 0.05
    signals[events] = rng.choice(np.array([-1, 1], dtype=np.int32), events.sum())
    return open_, high, low, close, signals


def bench_stops_and_report() -> None:
    try:
        import pandas as pd
        import vectorbt as vbt
    except ImportError as exc:
        print(f"vectorbt is not installed ({exc}); run `make bench`.")
        return
    stop, target, trail, fee, slip, size = 0.02, 0.04, 0.03, 0.001, 5.0, 0.95
    config = pyrt.BacktestConfig(commission_rate=fee, slippage_bps=slip, position_size=size, fill_at="next_open",
                                 stop_loss=stop, take_profit=target, trailing_stop=trail)
    print()
    print("backtest with next-open fills, stop loss + take profit + trailing stop, 0.1% fees:")
    print("pyrt.backtest_strategy vs vectorbt Portfolio.from_signals(sl_stop, tp_stop, sl_trail) + its statistics")
    print(f"{'bars':>10} {'pyrt':>12} {'vectorbt':>12} {'speed-up':>9}   pyrt trades / vectorbt trades")
    runs = {}
    for n, repeats, number in ((1_000, 7, 100), (1_000_000, 3, 1)):
        open_, high, low, close, signals = make_ohlc(n)
        index = pd.date_range("2000-01-03", periods=n, freq="min")
        c = pd.Series(close, index=index)
        # vectorbt fills a signal at the `price` of its own bar: signals moved
        # one bar later and price = open give next-open fills.
        entries = pd.Series(np.r_[False, signals[:-1] == 1], index=index)
        exits = pd.Series(np.r_[False, signals[:-1] == -1], index=index)
        o, h, lo = (pd.Series(x, index=index) for x in (open_, high, low))

        def run_pyrt():
            result = pyrt.backtest_strategy(close, signals, config, open=open_, high=high, low=low)
            return result

        def run_vectorbt():
            # vectorbt has one stop-loss level that is either fixed or
            # trailing; the trailing one is the comparable work per bar.
            pf = vbt.Portfolio.from_signals(c, entries, exits, open=o, high=h, low=lo, price=o, sl_stop=trail,
                                            sl_trail=True, tp_stop=target, init_cash=100_000.0, fees=fee,
                                            slippage=slip / 1e4, size=size, size_type="percent", freq="1D")
            return pf, pf.total_return(), pf.sharpe_ratio(), pf.max_drawdown()

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_pyrt = best_time(run_pyrt, repeats, number)
            t_vbt = best_time(run_vectorbt, repeats, max(1, number // 20))
            vbt_trades = run_vectorbt()[0].trades.count()
        result = run_pyrt()
        runs[n] = (signals, pd.DataFrame({"Open": open_, "High": high, "Low": low, "Close": close}, index=index))
        print(f"{n:>10,} {fmt(t_pyrt):>12} {fmt(t_vbt):>12} {t_vbt / t_pyrt:>8.1f}x   "
              f"{result.num_trades} / {vbt_trades}")

    try:
        from backtesting._stats import compute_stats
    except ImportError as exc:
        print(f"backtesting.py is not installed ({exc}); run `make deps`.")
        return
    print()
    print("report: results.stats() vs backtesting.py compute_stats on the same equity curve and trades")
    print(f"{'bars':>10} {'pyrt':>12} {'backtesting':>12} {'speed-up':>9}")
    for n, (signals, frame) in runs.items():
        # A Series of closes gives the report its datetimes.
        results = pyrt.backtest_strategy(frame.Close, signals, config, open=frame.Open.to_numpy(),
                                         high=frame.High.to_numpy(), low=frame.Low.to_numpy())
        trades = results.trades_frame()
        equity = np.asarray(results.equity_curve, dtype=float)
        repeats, number = (7, 20) if n <= 1_000 else (3, 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_pyrt = best_time(results.stats, repeats, number)
            t_bt = best_time(lambda: compute_stats(trades, equity, frame, None), repeats, max(1, number // 10))
        print(f"{n:>10,} {fmt(t_pyrt):>12} {fmt(t_bt):>12} {t_bt / t_pyrt:>8.1f}x")


def bench_risk() -> None:
    n = 1_000_000
    r = np.random.default_rng(7).standard_t(4, n) * 0.01
    equity = 100 * np.cumprod(1 + r)
    q = 0.05

    def numpy_cvar():
        k = int((n - 1) * q)
        return np.partition(r, k)[: k + 1].mean()

    def numpy_cornish_fisher():
        mu = r.mean()
        d = r - mu
        d2 = d * d
        m2 = d2.mean()
        return mu, r.std(ddof=1), (d2 * d).mean() / m2**1.5, (d2 * d2).mean() / m2**2

    def numpy_sortino():
        downside = np.minimum(r, 0.0)
        return r.mean() * 252 / (np.sqrt(np.mean(downside * downside)) * np.sqrt(252))

    def numpy_drawdown():
        peak = np.maximum.accumulate(equity)
        return np.max((peak - equity) / peak)

    cases = [
        ("VaR historical", lambda: pyrt.calculate_var(r, 0.95), lambda: np.quantile(r, q), "np.quantile"),
        ("VaR parametric", lambda: pyrt.calculate_var(r, 0.95, "parametric"),
         lambda: (r.mean(), r.std(ddof=1)), "mean + std"),
        ("VaR cornish_fisher", lambda: pyrt.calculate_var(r, 0.95, "cornish_fisher"), numpy_cornish_fisher,
         "mean, std, moments"),
        ("CVaR", lambda: pyrt.calculate_cvar(r, 0.95), numpy_cvar, "np.partition + mean"),
        ("Sharpe", lambda: pyrt.calculate_sharpe(r), lambda: r.mean() / r.std(ddof=1), "mean / std"),
        ("Sortino", lambda: pyrt.calculate_sortino(r), numpy_sortino, "NumPy expression"),
        ("max drawdown", lambda: pyrt.calculate_max_drawdown(equity), numpy_drawdown, "maximum.accumulate"),
    ]
    print()
    print(f"risk at {n:,} returns: pyrt vs NumPy computing the same quantity")
    print(f"{'metric':<20} {'pyrt':>12} {'numpy':>12} {'speed-up':>9}   numpy anchor")
    for name, ours, theirs, anchor in cases:
        t_ours = best_time(ours, 7)
        t_theirs = best_time(theirs, 7)
        print(f"{name:<20} {fmt(t_ours):>12} {fmt(t_theirs):>12} {t_theirs / t_ours:>8.1f}x   {anchor}")


if __name__ == "__main__":
    import sys

    if "--risk-only" not in sys.argv:
        bench_backtest()
        bench_stops_and_report()
    bench_risk()
