"""pyrt demo (the specification's section 1.6): indicators on a seed-42
random walk, an SMA-crossing signal, and the Rust-vs-pandas timing of 1000
calls of sma(prices, 20), extended with TA-Lib; then a pandas backtest with
next-open fills, stops and percentage fees, its statistics (backtesting.py's
report) and its plot, saved to build/demo_backtest.png."""

import os
import time

import numpy as np
import pandas as pd

import pyrt

# Generate sample data
np.random.seed(42)
prices = 100 + np.cumsum(np.random.randn(1000) * 2)

# Calculate technical indicators using the Rust core
sma_20 = pyrt.sma(prices, window=20)
ema_12 = pyrt.ema(prices, window=12)
rsi_14 = pyrt.rsi(prices, window=14)
macd_line, signal_line, histogram = pyrt.macd(prices, fast_period=12, slow_period=26, signal_period=9)
upper, middle, lower = pyrt.bollinger_bands(prices, window=20, num_std=2.0)

print(f"pyrt {pyrt.__version__}: indicators on {len(prices)} prices (seed-42 random walk)")
print(f"  last price      {prices[-1]:10.4f}")
print(f"  sma_20          {sma_20[-1]:10.4f}   (first value at index {np.argmax(~np.isnan(sma_20))})")
print(f"  ema_12          {ema_12[-1]:10.4f}   (first value at index {np.argmax(~np.isnan(ema_12))})")
print(f"  rsi_14          {rsi_14[-1]:10.4f}   (first value at index {np.argmax(~np.isnan(rsi_14))})")
print(f"  macd            {macd_line[-1]:10.4f}   signal {signal_line[-1]:.4f}   histogram {histogram[-1]:.4f}")
print(f"  bollinger(20,2) upper {upper[-1]:.4f}   middle {middle[-1]:.4f}   lower {lower[-1]:.4f}")

# Generate simple signals (SMA crossover), exactly as in the specification
signals = np.zeros(len(prices), dtype=np.int32)
for i in range(1, len(prices)):
    if sma_20[i - 1] < prices[i - 1] and sma_20[i] >= prices[i]:
        signals[i] = 1  # Buy
    elif sma_20[i - 1] > prices[i - 1] and sma_20[i] <= prices[i]:
        signals[i] = -1  # Sell

print(f"\nSMA-crossing signals: {int((signals == 1).sum())} buys, {int((signals == -1).sum())} sells "
      f"(first at index {int(np.argmax(signals != 0))})")

# ---- BACKTEST SECTION -------------------------------------------------------
# Run the backtest in the Rust core, with the specification's settings
config = pyrt.BacktestConfig(
    initial_capital=100000.0,
    commission=1.0,
    slippage_bps=5.0,
    position_size=0.95,
)

results = pyrt.backtest_strategy(prices, signals, config)

print("\nBacktest Results:")
print(f"  {results!r}")
print(f"  Total Return: {results.total_return * 100:.2f}%")
print(f"  Sharpe Ratio: {results.sharpe_ratio:.2f}")
print(f"  Max Drawdown: {results.max_drawdown * 100:.2f}%")
print(f"  Win Rate: {results.win_rate * 100:.2f}%")
print(f"  Number of Trades: {results.num_trades}")
print(f"  Final Equity: ${results.final_equity:,.2f}")

returns = np.diff(results.equity_curve) / results.equity_curve[:-1]
print(f"  Daily VaR 95% (historical) of the equity curve: {pyrt.calculate_var(returns, 0.95) * 100:.2f}%")
# ---- END BACKTEST SECTION ---------------------------------------------------

# ---- REPORT: a pandas run with next-open fills, stops and fees ----------------
# The walk on business days, with bars around it: each bar opens at the
# previous close plus a small gap and ranges a little beyond open and close.
rng = np.random.default_rng(42)
close = pd.Series(prices, index=pd.bdate_range("2022-01-03", periods=len(prices)), name="close")
open_ = close.shift(1).fillna(close.iloc[0]) + rng.normal(0, 0.5, len(close))
high = np.maximum(open_, close) + rng.uniform(0, 1.5, len(close))
low = np.minimum(open_, close) - rng.uniform(0, 1.5, len(close))
trend = np.sign(pd.Series(pyrt.ema(prices, 10) - pyrt.ema(prices, 40), index=close.index))
report_config = pyrt.BacktestConfig(allow_short=True, commission_rate=0.001, slippage_bps=2.0,
                                    fill_at="next_open", stop_loss=0.04, take_profit=0.12, trailing_stop=0.06)
run = pyrt.backtest_strategy(close, trend.diff().ne(0) * trend, report_config, open=open_, high=high, low=low)
print(f"\nEMA(10/40) trend, long and short, next-open fills, 4% stop, 12% target, 6% trailing stop, 0.1% fees:")
print(run.stats().to_string())
plot_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "demo_backtest.png")
os.makedirs(os.path.dirname(plot_path), exist_ok=True)
try:
    run.plot(plot_path)
    print(f"  plot saved to {os.path.normpath(plot_path)}")
except ImportError as exc:  # matplotlib is the optional pyrt[plot] extra
    print(f"  no plot: {exc}")

# Benchmark: Rust vs Python (and TA-Lib), 1000 iterations of sma(prices, 20)


def python_sma(prices, window):
    return pd.Series(prices).rolling(window).mean().values


def timed(fn, iterations=1000, repeats=5):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(iterations):
            fn()
        best = min(best, time.perf_counter() - start)
    return best


rust_time = timed(lambda: pyrt.sma(prices, 20))
python_time = timed(lambda: python_sma(prices, 20))
rows = [("Rust (pyrt)", rust_time), ("Python (pandas)", python_time)]
try:
    import talib

    rows.append(("TA-Lib", timed(lambda: talib.SMA(prices, 20))))
except ImportError:  # TA-Lib is a test dependency, not a runtime one
    pass

print("\nPerformance Comparison (1000 iterations of sma(prices, 20), best of 5):")
print(f"  {'implementation':<16}{'total':>10}{'per call':>12}{'vs Rust':>10}")
for name, seconds in rows:
    print(f"  {name:<16}{seconds:>9.4f}s{seconds / 1000 * 1e6:>9.2f} us{seconds / rust_time:>9.1f}x")
print(f"  Speedup over pandas: {python_time / rust_time:.2f}x")
