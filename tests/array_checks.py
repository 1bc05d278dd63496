"""Array checks shared by the tests of the compiled call paths: bit-for-bit
equality, and the input forms that must leave the fast path (strided,
misaligned)."""

from __future__ import annotations

import numpy as np


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
