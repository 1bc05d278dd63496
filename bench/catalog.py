"""Times every catalog function against TA-Lib (the `talib` package) at 1,000
and 1,000,000 points in one run, with each function's default parameters.

Prints, per function and size: pyrt's time, TA-Lib's, TA-Lib / pyrt (above 1:
pyrt is faster), and pyrt's time over its memory-traffic floor: the time
`np.copy` needs to move the same bytes, `(inputs + outputs) x 8 bytes x n`
(one np.copy of an n-array moves 2 x 8 x n bytes). Asserts nothing.
"""

from __future__ import annotations

import sys
import timeit

import numpy as np
import talib

import pyrt
import pyrt.talib as pt


def best(fn, number: int, repeat: int = 5) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def fmt(seconds: float) -> str:
    return f"{seconds * 1e6:9.2f} us" if seconds < 1e-3 else f"{seconds * 1e3:9.3f} ms"


def ohlcv(n: int) -> dict:
    rng = np.random.default_rng(42)
    close = 100.0 + np.cumsum(rng.normal(0.0, 1.0, n))
    open_ = close + rng.normal(0.0, 0.5, n)
    high = np.maximum(open_, close) + rng.uniform(0.0, 1.0, n)
    low = np.minimum(open_, close) - rng.uniform(0.0, 1.0, n)
    volume = rng.uniform(1e3, 1e5, n).round()
    return {"open": open_, "high": high, "low": low, "close": close, "volume": volume, "real": close}


def table(n: int, names: list) -> list:
    data = ohlcv(n)
    number = 500 if n <= 10_000 else 3
    t_copy = best(lambda: np.copy(data["close"]), number)
    print(f"\n== {n:,} points (np.copy of one array: {fmt(t_copy).strip()}) ==")
    print(f"{'function':<12}{'pyrt':>13}{'TA-Lib':>13}{'TA/pyrt':>9}{'pyrt/floor':>12}")
    rows = []
    for name in names:
        record = pt._runner.RECORDS[pt.get_functions().index(name)]
        args = [data.get(x, data["close"]) for x in record.inputs]
        ours, theirs = getattr(pt, name), getattr(talib, name)
        t_ours = best(lambda: ours(*args), number)
        t_ta = best(lambda: theirs(*args), number)
        floor = t_copy * (len(record.inputs) + len(record.outputs)) / 2
        rows.append((name, n, t_ta / t_ours, t_ours / floor))
        print(f"{name:<12}{fmt(t_ours):>13}{fmt(t_ta):>13}{t_ta / t_ours:>8.2f}x{t_ours / floor:>11.2f}x")
    return rows


if __name__ == "__main__":
    names = sys.argv[1:] or pt.get_functions()
    from pyrt._core import ffi, lib

    print(f"pyrt {pyrt.__version__} (kernels at CPU level {ffi.string(lib.pyrt_cpu_level()).decode()}), TA-Lib {talib.__version__} (C {talib.__ta_version__.decode().split()[0]}), "
          f"numpy {np.__version__}; {len(names)} functions, default parameters")
    rows = table(1_000, names) + table(1_000_000, names)
    slower = [f"{name} at {n:,} ({ratio:.2f}x)" for name, n, ratio, _ in rows if ratio < 1.0]
    above = [f"{name} at {n:,} ({floor:.1f}x)" for name, n, _, floor in rows if n >= 1_000_000 and floor > 2.0]
    print("\nslower than TA-Lib: " + (", ".join(slower) or "none"))
    print("above 2x the memory floor at 1,000,000 points: " + (", ".join(above) or "none"))
