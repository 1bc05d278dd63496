"""Arrays shared by the catalog's tests and the compiled call paths' tests:
a random OHLCV walk, bit-for-bit equality, and the input forms that must
leave the fast path (strided, misaligned)."""

from __future__ import annotations

import numpy as np


def ohlcv(n: int, seed: int = 11) -> dict:
    """A random OHLCV walk: high >= max(open, close), low <= min(open, close);
    also under the catalog's input names `real`, `real0`, `real1`."""
    rng = np.random.default_rng(seed)
    close = 100.0 + np.cumsum(rng.normal(0.0, 1.0, n))
    open_ = close + rng.normal(0.0, 0.5, n)
    high = np.maximum(open_, close) + rng.uniform(0.0, 1.0, n)
    low = np.minimum(open_, close) - rng.uniform(0.0, 1.0, n)
    volume = rng.uniform(1e3, 1e5, n).round()
    return {"open": open_, "high": high, "low": low, "close": close, "volume": volume,
            "real": close, "real0": close, "real1": open_}


def as_tuple(result) -> tuple:
    return result if isinstance(result, tuple) else (result,)


def assert_identical(a, b) -> None:
    """The same float64 arrays bit for bit (NaN payloads included)."""
    a, b = as_tuple(a), as_tuple(b)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert type(x) is np.ndarray and type(y) is np.ndarray
        assert x.dtype == y.dtype == np.float64 and x.shape == y.shape
        assert x.tobytes() == y.tobytes()


def strided(x: np.ndarray) -> np.ndarray:
    """`x`'s values in a view with a stride of two elements."""
    wide = np.empty(2 * x.shape[0])
    wide[::2] = x
    view = wide[::2]
    assert x.shape[0] <= 1 or not view.flags.c_contiguous
    return view


def misaligned(x: np.ndarray) -> np.ndarray:
    """`x`'s values at an address that is not a multiple of 8."""
    raw = np.zeros(x.nbytes + 1, dtype=np.uint8)
    view = raw[1:].view(np.float64)
    view[:] = x
    assert view.flags.c_contiguous and (x.shape[0] == 0 or not view.flags.aligned)
    return view
