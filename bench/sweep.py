"""Parameter-sweep benchmark: a 1,000-combination sma_cross grid on 100,000
bars, pyrt.sweep.grid against vectorbt in one run, and pyrt on one core
against all cores.

vectorbt does the same work: both moving averages for every combination
(`vbt.MA.run` with one column per combination), the crossings
(`ma_crossed_above` / `ma_crossed_below`), `Portfolio.from_signals` with the
same fee, slippage and sizing, and total_return / sharpe_ratio / max_drawdown
of every column. pyrt computes its full statistics row per combination.
Times are the best of a few repeats after a warm-up (numba compiles on first
use). Nothing is asserted: this prints a table.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np

import pyrt
from pyrt import sweep


def best_time(fn, repeats: int) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    rng = np.random.default_rng(42)
    prices = 100 + np.cumsum(rng.standard_normal(args.bars) * 0.5)
    prices = prices - min(prices.min(), 0) + 10.0
    fasts = list(range(2, 42, 2))  # 20 values
    slows = list(range(20, 220, 4))  # 50 values
    n_combos = len(fasts) * len(slows)
    capital, commission, slippage_bps, size = 100_000.0, 1.0, 5.0, 0.95
    config = pyrt.BacktestConfig(initial_capital=capital, commission=commission, slippage_bps=slippage_bps,
                                 position_size=size)
    params = {"fast": fasts, "slow": slows}
    cores = os.cpu_count() or 1

    t_one = best_time(lambda: sweep.grid(prices, "sma_cross", params, config, threads=1), args.repeats)
    t_all = best_time(lambda: sweep.grid(prices, "sma_cross", params, config), args.repeats)

    print(f"sma_cross grid: {n_combos} combinations x {args.bars:,} bars ({n_combos * args.bars / 1e6:.0f} M bar-steps)")
    print(f"{'run':<34} {'time':>10} {'M bars/s':>10} {'ratio':>10}")
    print(f"{'pyrt, 1 thread':<34} {t_one:9.3f}s {n_combos * args.bars / t_one / 1e6:10.1f} {'1.00x':>10}")
    print(f"{f'pyrt, all cores ({cores})':<34} {t_all:9.3f}s {n_combos * args.bars / t_all / 1e6:10.1f} "
          f"{t_one / t_all:9.2f}x  (scaling, ideal {cores}x)")

    try:
        import pandas as pd
        import vectorbt as vbt
    except ImportError as exc:
        print(f"vectorbt is not installed ({exc}); run `make bench`.")
        return
    close = pd.Series(prices, index=pd.date_range("2000-01-01", periods=args.bars, freq="min"))
    fast_windows = [f for f in fasts for _ in slows]
    slow_windows = [s for _ in fasts for s in slows]

    def run_vectorbt(lo: int, hi: int):
        fast_ma = vbt.MA.run(close, fast_windows[lo:hi], short_name="fast")
        slow_ma = vbt.MA.run(close, slow_windows[lo:hi], short_name="slow")
        entries = fast_ma.ma_crossed_above(slow_ma)
        exits = fast_ma.ma_crossed_below(slow_ma)
        pf = vbt.Portfolio.from_signals(close, entries, exits, init_cash=capital, fixed_fees=commission,
                                        slippage=slippage_bps / 1e4, size=size, size_type="percent", freq="1D")
        return pf.total_return(), pf.sharpe_ratio(), pf.max_drawdown()

    # All 1,000 columns at once need more memory than this machine has (the
    # process is killed); vectorbt runs the grid in chunks of CHUNK columns and
    # the chunk times are added up.
    chunk = 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_vectorbt(0, 2)  # numba compiles on first use
        t_vbt = 0.0
        for lo in range(0, n_combos, chunk):
            start = time.perf_counter()
            run_vectorbt(lo, min(lo + chunk, n_combos))
            t_vbt += time.perf_counter() - start
    label = f"vectorbt, {chunk} columns a chunk"
    print(f"{label:<34} {t_vbt:9.3f}s {n_combos * args.bars / t_vbt / 1e6:10.1f}")
    print(f"speed-up of pyrt (all cores) over vectorbt: {t_vbt / t_all:.1f}x (target >= 20x); "
          f"pyrt on 1 thread: {t_vbt / t_one:.1f}x")


if __name__ == "__main__":
    main()
