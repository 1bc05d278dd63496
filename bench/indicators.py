"""Times pyrt's indicators against TA-Lib 0.8 and pandas in one run.

Best of several repeats (at 1,000,000 points spread over three rounds that
time every function in turn, `best_in_rounds`); prints ratios anchor/pyrt
(above 1: pyrt is faster)
and pyrt's time over its memory-traffic floor: the time np.copy takes to move
the bytes the indicator must read and write, (inputs + outputs) x 8 bytes x n
(a copy reads one array and writes one, so the floor of ATR, three inputs and
one output, is two copies). At 1,000,000 points it also times a plain pass
with the indicator's own traffic and no arithmetic (bench/memory_pass.c,
compiled with `cc`: read the same inputs, write the same freshly allocated
outputs, one add per value) and prints pyrt's time over it: a copy's floor
assumes its arrays stay in the caches, which three outputs of 8 MB each and
their input do not. The CPU level the kernels ran at (PYRT_CPU) is printed on
every row. Asserts nothing.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import tempfile
import timeit

import numpy as np
import pandas as pd
import talib
import talib.stream as ta_stream

import pyrt
import pyrt.talib
from pyrt._core import ffi, lib

LEVEL = ffi.string(lib.pyrt_cpu_level()).decode()
HERE = os.path.dirname(os.path.abspath(__file__))


def memory_pass_library() -> ctypes.CDLL:
    """bench/memory_pass.c, compiled into a temporary folder and loaded."""
    folder = tempfile.mkdtemp(prefix="pyrt-bench-")
    path = os.path.join(folder, "memory_pass.so")
    subprocess.run(["cc", "-O3", "-shared", "-fPIC", os.path.join(HERE, "memory_pass.c"), "-o", path], check=True)
    return ctypes.CDLL(path)


def plain_pass(passes: ctypes.CDLL, inputs: list, outputs: int):
    """A call that reads `inputs` and writes `outputs` new arrays (one
    (k, n) array when there are several, as pyrt returns them)."""
    n = len(inputs[0])
    ptr = ctypes.c_void_p
    args = [ptr(a.ctypes.data) for a in inputs]
    fn = {(1, 1): passes.pass_1_1, (1, 3): passes.pass_1_3, (3, 1): passes.pass_3_1}[(len(inputs), outputs)]
    shape = (outputs, n) if outputs > 1 else n

    def run():
        out = np.empty(shape)
        rows = [ptr(r.ctypes.data) for r in out] if outputs > 1 else [ptr(out.ctypes.data)]
        fn(*args, *rows, ctypes.c_size_t(n))
        return out
    return run

def best(fn, number: int, repeat: int = 7) -> float:
    """Best time per call, in seconds. Short calls are timed in many short
    repeats (a millisecond or less each): on a shared machine the best of
    those is a repeat that no other process interrupted."""
    if number > 200:
        number, repeat = 200, repeat * number // 200
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def best_in_rounds(fns: dict, number: int, repeat: int, rounds: int) -> dict:
    """`best` of each of `fns`, its repeats spread over `rounds` rounds that
    time every function in turn: a slow stretch of the machine (another
    process on the CPU, lasting seconds) then spoils one round of a
    function's repeats, not all of them."""
    times = {key: float("inf") for key in fns}
    for _ in range(rounds):
        for key, (fn, calls) in fns.items():
            times[key] = min(times[key], best(fn, calls, max(1, repeat // rounds)))
    return times


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:9.2f} us"
    return f"{seconds * 1e3:9.3f} ms"


def batch_table(n: int, passes: ctypes.CDLL | None = None) -> None:
    rng = np.random.default_rng(42)
    close = 100 + np.cumsum(rng.standard_normal(n))
    high = close + np.abs(rng.standard_normal(n))
    low = close - np.abs(rng.standard_normal(n))
    # Long calls: more repeats, since each one is a single chance to run
    # without another process in the way.
    number, repeat = (2000, 7) if n <= 10_000 else (5, 21)
    s = pd.Series(close)
    cases = [
        # name, pyrt, TA-Lib, pandas, inputs, outputs
        ("sma(20)", lambda: pyrt.sma(close, 20), lambda: talib.SMA(close, 20),
         lambda: s.rolling(20).mean().to_numpy(), [close], 1),
        ("ema(12)", lambda: pyrt.ema(close, 12), lambda: talib.EMA(close, 12),
         lambda: s.ewm(span=12, adjust=False).mean().to_numpy(), [close], 1),
        ("rsi(14)", lambda: pyrt.rsi(close, 14), lambda: talib.RSI(close, 14), None, [close], 1),
        ("macd(12,26,9)", lambda: pyrt.macd(close), lambda: talib.MACD(close), None, [close], 3),
        ("bollinger(20,2)", lambda: pyrt.bollinger_bands(close, 20, 2.0), lambda: talib.BBANDS(close, 20, 2, 2),
         lambda: (s.rolling(20).mean() + 2 * s.rolling(20).std(ddof=0)).to_numpy(), [close], 3),
        ("atr(14)", lambda: pyrt.atr(high, low, close, 14), lambda: talib.ATR(high, low, close, 14), None,
         [high, low, close], 1),
    ]
    fns = {"copy": (lambda: np.copy(close), number)}
    for name, ours, ta, pd_fn, inputs, outputs in cases:
        fns[name, "pyrt"] = (ours, number)
        fns[name, "ta"] = (ta, number)
        if pd_fn:
            fns[name, "pd"] = (pd_fn, max(1, number // 10))
        if passes is not None:
            fns[name, "pass"] = (plain_pass(passes, inputs, outputs), number)
    # Rounds for the long calls only: a short call's many short repeats
    # already get past a slow stretch, and timed between other functions'
    # calls its allocations would measure the heap they left behind.
    times = best_in_rounds(fns, number, repeat, rounds=3 if n > 10_000 else 1)
    t_copy = times["copy"]
    print(f"\n== batch, {n:,} points (np.copy: {fmt(t_copy).strip()}) ==")
    print(f"{'indicator':<16}{'pyrt':>13}{'TA-Lib':>13}{'TA/pyrt':>9}{'pandas':>13}{'pd/pyrt':>9}"
          f"{'floor':>13}{'pyrt/floor':>11}{'pass':>13}{'pyrt/pass':>10}  level")
    for name, ours, ta, pd_fn, inputs, outputs in cases:
        t_ours, t_ta, t_pd = times[name, "pyrt"], times[name, "ta"], times.get((name, "pd"))
        pd_cols = f"{fmt(t_pd):>13}{t_pd / t_ours:>8.1f}x" if t_pd else f"{'-':>13}{'-':>9}"
        t_floor = t_copy * (len(inputs) + outputs) / 2
        if passes is not None:
            t_pass = times[name, "pass"]
            pass_cols = f"{fmt(t_pass):>13}{t_ours / t_pass:>9.2f}x"
        else:
            pass_cols = f"{'-':>13}{'-':>10}"
        print(f"{name:<16}{fmt(t_ours):>13}{fmt(t_ta):>13}{t_ta / t_ours:>8.2f}x{pd_cols}"
              f"{fmt(t_floor):>13}{t_ours / t_floor:>10.2f}x{pass_cols}  {LEVEL}")


def window_table() -> None:
    close = 100 + np.cumsum(np.random.default_rng(1).standard_normal(1_000_000))
    print("\n== cost against the window, 1,000,000 points ==")
    cases = [("sma", pyrt.sma), ("bollinger", lambda x, w: pyrt.bollinger_bands(x, w, 2.0))]
    fns = {(name, w): ((lambda fn=fn, w=w: fn(close, w)), 5) for name, fn in cases for w in (20, 2000)}
    times = best_in_rounds(fns, 5, 21, rounds=3)
    for name, _ in cases:
        t20, t2000 = times[name, 20], times[name, 2000]
        print(f"{name:<10} window 20: {fmt(t20)}   window 2000: {fmt(t2000)}   ratio {t2000 / t20:.2f}")


def call_cost() -> None:
    """The fixed cost of a call: on 10 points the core has almost nothing to
    do, so what a call costs there is argument checks, output allocation and
    the call itself."""
    close = 100 + np.cumsum(np.random.default_rng(2).standard_normal(1000))
    short = close[:10].copy()
    print("\n== cost of a call: sma(5) on 10 and on 1,000 points ==")
    print(f"{'':<18}{'10 points':>12}{'1,000 points':>14}")
    for name, fn in [("pyrt.sma", pyrt.sma), ("pyrt.talib.SMA", pyrt.talib.SMA), ("talib.SMA", talib.SMA)]:
        t_short = best(lambda: fn(short, 5), 20000)
        t_long = best(lambda: fn(close, 5), 20000)
        print(f"{name:<18}{fmt(t_short):>12}{fmt(t_long):>14}")


def streaming_table() -> None:
    rng = np.random.default_rng(3)
    close = 100 + np.cumsum(rng.standard_normal(2000))
    high, low = close + 1.0, close - 1.0
    hist = close[:200]
    ticks = 100_000
    cases = [
        ("SMA(20)", pyrt.stream.SMA(20), ta_stream.SMA(hist, 20), 1),
        ("EMA(12)", pyrt.stream.EMA(12), ta_stream.EMA(hist, 12), 1),
        ("RSI(14)", pyrt.stream.RSI(14), ta_stream.RSI(hist, 14), 1),
        ("MACD", pyrt.stream.MACD(), ta_stream.MACD(hist, 12, 26, 9), 1),
        ("Bollinger", pyrt.stream.BollingerBands(20, 2.0), ta_stream.BBANDS(hist, 20, 2.0, 2.0), 1),
        ("ATR(14)", pyrt.stream.ATR(14), ta_stream.ATR(high[:200], low[:200], hist, 14), 3),
    ]
    print("\n== streaming .update() per tick from Python ==")
    print(f"{'indicator':<12}{'pyrt':>12}{'talib.stream':>14}{'ratio':>8}")
    for name, ours, theirs, arity in cases:
        ours.update_many(hist) if arity == 1 else ours.update_many(high[:200], low[:200], hist)
        if arity == 1:
            u1, u2 = ours.update, theirs.update
            t_ours = best(lambda: u1(100.5), ticks)
            t_ta = best(lambda: u2(100.5), ticks)
        else:
            u1, u2 = ours.update, theirs.update
            t_ours = best(lambda: u1(101.0, 99.0, 100.5), ticks)
            t_ta = best(lambda: u2(101.0, 99.0, 100.5), ticks)
        print(f"{name:<12}{fmt(t_ours):>12}{fmt(t_ta):>14}{t_ta / t_ours:>7.2f}x")


if __name__ == "__main__":
    print(f"pyrt {pyrt.__version__} (kernels at CPU level {LEVEL}), "
          f"TA-Lib {talib.__version__} (C {talib.__ta_version__.decode().split()[0]}), "
          f"pandas {pd.__version__}, numpy {np.__version__}")
    batch_table(1_000)
    batch_table(1_000_000, memory_pass_library())
    window_table()
    call_cost()
    streaming_table()
