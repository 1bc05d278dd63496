"""A strategy written for TA-Lib, run unchanged on pyrt.talib.

`signals(ta, open_, high, low, close, volume)` is ordinary TA-Lib code: a
trend filter (ADX, +DI/-DI), a momentum trigger (RSI, STOCH, MACD histogram),
a volatility stop (ATR, BBANDS). It is called once with `import talib` and
once with `import pyrt.talib`, on the same bars, and the two results are
compared: every indicator within 1e-9 and the same signals.

Run: python examples/talib_strategy.py
"""

import numpy as np
import talib

import pyrt.talib


def signals(ta, open_, high, low, close, volume):
    adx = ta.ADX(high, low, close, timeperiod=14)
    plus_di = ta.PLUS_DI(high, low, close, timeperiod=14)
    minus_di = ta.MINUS_DI(high, low, close, timeperiod=14)
    rsi = ta.RSI(close, timeperiod=14)
    slowk, slowd = ta.STOCH(high, low, close, fastk_period=14, slowk_period=3, slowd_period=3)
    macd, macdsignal, macdhist = ta.MACD(close, fastperiod=12, slowperiod=26, signalperiod=9)
    upper, middle, lower = ta.BBANDS(close, timeperiod=20, nbdevup=2.0, nbdevdn=2.0)
    atr = ta.ATR(high, low, close, timeperiod=14)
    ema = ta.EMA(close, timeperiod=50)
    mfi = ta.MFI(high, low, close, volume, timeperiod=14)

    trending = (adx > 20) & (close > ema)
    long_entry = trending & (plus_di > minus_di) & (rsi < 70) & (slowk > slowd) & (macdhist > 0) & (mfi < 80)
    long_exit = (close < ema - 2 * atr) | (close > upper) | (rsi > 75)
    target = np.where(long_entry, 1, np.where(long_exit, -1, 0))
    return target, {"ADX": adx, "PLUS_DI": plus_di, "MINUS_DI": minus_di, "RSI": rsi, "slowk": slowk, "slowd": slowd,
                    "MACD hist": macdhist, "BBANDS upper": upper, "BBANDS lower": lower, "ATR": atr, "EMA": ema,
                    "MFI": mfi, "middle": middle, "macd": macd, "macdsignal": macdsignal}


def bars(n=2000, seed=7):
    rng = np.random.default_rng(seed)
    close = 100.0 + np.cumsum(rng.normal(0.0, 1.0, n))
    open_ = close + rng.normal(0.0, 0.5, n)
    high = np.maximum(open_, close) + rng.uniform(0.0, 1.0, n)
    low = np.minimum(open_, close) - rng.uniform(0.0, 1.0, n)
    volume = rng.uniform(1e3, 1e5, n).round()
    return open_, high, low, close, volume


def main():
    data = bars()
    theirs, their_lines = signals(talib, *data)
    ours, our_lines = signals(pyrt.talib, *data)
    print(f"{'indicator':<14}{'max |pyrt - talib|':>20}  same NaN positions")
    for name in their_lines:
        a, b = our_lines[name], their_lines[name]
        same_nan = bool(np.array_equal(np.isnan(a), np.isnan(b)))
        diff = float(np.nanmax(np.abs(a - b))) if np.isfinite(b).any() else 0.0
        print(f"{name:<14}{diff:>20.3g}  {same_nan}")
        assert same_nan and diff <= 1e-9 * max(1.0, float(np.nanmax(np.abs(b))))
    assert np.array_equal(ours, theirs)
    print(f"signals: {int((ours != 0).sum())} of {len(ours)} bars, identical with talib and pyrt.talib")


if __name__ == "__main__":
    main()
