"""`import pyrt.talib as talib`: a drop-in for the `talib` package
(ta-lib-python 0.8.2, TA-Lib C 0.8.1) on the functions pyrt's catalog holds.

- `pyrt.talib.NAME(*inputs, **params)`: TA-Lib's function names, positional
  input order, parameter names, defaults and output order; any 1-D
  array-like of numbers in, float64 arrays out (a tuple for several
  outputs); a pandas Series among the inputs gives Series out on its index.
  Values equal TA-Lib's within 1e-9 of the series' scale, with the same NaN
  positions: leading bars that are NaN in any input are skipped, a series
  no longer than the lookback gives all-NaN outputs (not an error).
- Parameters outside TA-Lib's valid ranges are ValueErrors naming the
  parameter; so are booleans and non-numbers. MA types (`matype` and the
  `*_matype` parameters): 0 SMA, 1 EMA, 2 WMA, 3 DEMA, 4 TEMA, 5 TRIMA,
  6 KAMA, 8 T3; 7 (MAMA) is refused until MAMA is in the catalog.
- `get_functions()` and `get_function_groups()` list what pyrt implements,
  in TA-Lib's groups; `pyrt.talib.stream.NAME(*history, **params)` are the
  streams (see `pyrt.talib.stream`).

Where pyrt differs from `talib`: input arrays of different lengths, a
non-numeric input or a parameter out of range raise ValueError (talib raises
a bare Exception); polars Series are not recognised (convert with
`to_numpy()`).
"""

from __future__ import annotations

from ._functions import *  # noqa: F401,F403
from ._functions import __all__ as _function_names
from ._runner import RECORDS, InsufficientHistory
from . import stream

__all__ = list(_function_names) + ["get_functions", "get_function_groups", "InsufficientHistory", "stream"]


def get_functions() -> list:
    """The names of every function pyrt implements, in catalog order."""
    return [r.name for r in RECORDS]


def get_function_groups() -> dict:
    """TA-Lib's groups, each with the names pyrt implements in it."""
    groups: dict = {}
    for r in RECORDS:
        groups.setdefault(r.group, []).append(r.name)
    return groups
