"""The compiled call of pyrt's own six indicator functions (pyrt/_batch.c:
`sma`, `ema`, `rsi`, `macd`, `bollinger_bands`, `atr`): which arguments it
takes as they are, and that every other form, once the function converted it,
gives identical bits and identical errors; buffers released, the GIL
released on long series."""

from __future__ import annotations

import os
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest

import pyrt
from pyrt import _batch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from array_checks import as_tuple, assert_identical, misaligned, strided  # noqa: E402


def bars(n: int, seed: int = 5) -> tuple:
    rng = np.random.default_rng(seed)
    close = 100.0 + np.cumsum(rng.normal(0.0, 1.0, n))
    high = close + rng.uniform(0.0, 1.0, n)
    low = close - rng.uniform(0.0, 1.0, n)
    return high, low, close


# name: (pyrt function, compiled function, inputs from (high, low, close), parameters for n bars)
CASES = {
    "sma": (pyrt.sma, _batch.sma, lambda h, l, c: [c], lambda n: [min(20, n)]),
    "ema": (pyrt.ema, _batch.ema, lambda h, l, c: [c], lambda n: [min(12, n)]),
    "rsi": (pyrt.rsi, _batch.rsi, lambda h, l, c: [c], lambda n: [min(14, n)]),
    "macd": (pyrt.macd, _batch.macd, lambda h, l, c: [c], lambda n: [min(3, n), min(7, n), min(4, n)]),
    "bollinger_bands": (pyrt.bollinger_bands, _batch.bollinger_bands, lambda h, l, c: [c],
                        lambda n: [min(20, n), 1.5]),
    "atr": (pyrt.atr, _batch.atr, lambda h, l, c: [h, l, c], lambda n: [min(14, n)]),
}
NAMES = list(CASES)


OTHER_FORMS = {
    "list": lambda x: x.tolist(),
    "strided": strided,
    "misaligned": misaligned,
    "big-endian": lambda x: x.astype(">f8"),
    "float32": lambda x: x.astype(np.float32).astype(np.float64).astype(np.float32),
    "read-only Series": lambda x: pd.Series(x),
    "subclass": lambda x: x.view(np.memmap),
}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n", [1, 5, 300, 5000])  # 5000: the call that releases the GIL
def test_fast_path_is_taken_and_equals_the_general_path(name, n):
    function, fast, inputs, params = CASES[name]
    args = inputs(*bars(n))
    result = fast(*args, *params(n))
    assert result is not None
    assert_identical(result, function(*[x.tolist() for x in args], *params(n)))
    assert_identical(function(*args, *params(n)), result)
    for form, convert in OTHER_FORMS.items():
        other = [convert(x) for x in args]
        if form == "float32":
            expected = function(*[x.astype(np.float64) for x in other], *params(n))
        else:
            expected = result
        if n > 1 or form in ("list", "big-endian", "float32"):  # one value is contiguous whatever its stride
            if form not in ("subclass",):  # a float64 ndarray subclass exports the same buffer
                assert fast(*other, *params(n)) is None, form
        assert_identical(function(*other, *params(n)), expected)


@pytest.mark.parametrize("name", NAMES)
def test_one_input_of_another_kind_sends_the_whole_call_to_the_general_path(name):
    function, fast, inputs, params = CASES[name]
    args = inputs(*bars(200))
    mixed = args[:-1] + [args[-1].tolist()]
    assert fast(*mixed, *params(200)) is None
    assert_identical(function(*mixed, *params(200)), fast(*args, *params(200)))


@pytest.mark.parametrize("period", [np.int64(5), np.int32(5), 5.0, True, -1, 2**64, "5", None])
def test_periods_that_are_not_plain_ints_take_the_general_path(period):
    _, _, close = bars(50)
    assert _batch.sma(close, period) is None
    assert _batch.macd(close, period, 10, 3) is None
    assert _batch.macd(close, 3, 10, period) is None
    assert _batch.atr(close + 1, close - 1, close, period) is None
    if period.__class__ in (np.int64, np.int32):
        assert_identical(pyrt.sma(close, period), _batch.sma(close, 5))
    else:
        with pytest.raises(ValueError, match="^window: "):
            pyrt.sma(close, period)


@pytest.mark.parametrize("num_std,compiled,refused", [
    (2, True, False),
    (2.0, True, False),
    (np.float64(2.0), False, False),
    (np.int64(2), False, False),
    (True, False, True),
    ("2", False, True),
    (10**400, False, True),  # no double holds it
])
def test_num_std_is_taken_as_an_int_or_a_float(num_std, compiled, refused):
    _, _, close = bars(50)
    assert (_batch.bollinger_bands(close, 5, num_std) is not None) == compiled
    if refused:
        with pytest.raises(ValueError, match="^num_std: "):
            pyrt.bollinger_bands(close, 5, num_std)
    else:
        assert_identical(pyrt.bollinger_bands(close, 5, num_std), pyrt.bollinger_bands(close.tolist(), 5, 2.0))


@pytest.mark.parametrize("call", [
    lambda x, h, l: pyrt.sma(x, 0),
    lambda x, h, l: pyrt.sma(x, 31),
    lambda x, h, l: pyrt.sma(x[:0], 1),
    lambda x, h, l: pyrt.ema(x, 2**63 + 5),
    lambda x, h, l: pyrt.rsi(x, 0),
    lambda x, h, l: pyrt.macd(x, 9, 5, 3),
    lambda x, h, l: pyrt.macd(x, 3, 5, 40),
    lambda x, h, l: pyrt.bollinger_bands(x, 5, float("nan")),
    lambda x, h, l: pyrt.bollinger_bands(x, 5, float("inf")),
    lambda x, h, l: pyrt.atr(h, l[:-1], x, 5),
    lambda x, h, l: pyrt.atr(h, l, x[:-1], 5),
    lambda x, h, l: pyrt.atr(h, l, x, 31),
])
def test_core_errors_raise_the_same_exception_and_message_on_both_paths(call):
    h, l, x = bars(30)
    with pytest.raises(pyrt.PyrtError) as fast:
        call(x, h, l)
    with pytest.raises(pyrt.PyrtError) as general:
        call(strided(x), strided(h), strided(l))
    assert type(fast.value) is type(general.value)
    assert isinstance(fast.value, ValueError)
    assert str(fast.value) == str(general.value)
    assert fast.value.status == general.value.status != 0
    assert str(fast.value).split(":")[0] in ("window", "prices", "fast_period", "slow_period",
                                              "signal_period", "num_std", "low", "close")


def test_non_arrays_take_the_general_path_which_names_them():
    for bad in (None, 3.0, np.float64(2.0), np.array(4.0), np.ones(4, dtype=bool), b"\x00" * 32,
                np.ones((2, 4))):
        assert _batch.sma(bad, 1) is None
        with pytest.raises(ValueError, match="^prices:"):
            pyrt.sma(bad, 1)


def test_input_buffers_are_released_and_outputs_are_fresh():
    h, l, c = bars(300)
    outputs = [*pyrt.macd(c), *pyrt.bollinger_bands(c), pyrt.atr(h, l, c), pyrt.sma(c, 5)]
    for x in (h, l, c):
        x.resize(x.shape[0] + 1, refcheck=False)  # BufferError while a view is still exported
    for o in outputs:
        # macd's and the bands' three outputs are the rows of one array (one allocation).
        assert o.flags.writeable and o.flags.c_contiguous and o.shape == (300,) and o.dtype == np.float64
    for a in outputs:
        assert not any(np.shares_memory(a, x) for x in (h, l, c))
        for b in outputs:
            assert a is b or not np.shares_memory(a, b)


def test_a_long_call_lets_other_threads_run():
    # While another thread is inside a long call (4,000,000 bars: several
    # milliseconds in the core), this thread wakes from short sleeps and
    # takes timestamps. Holding the GIL, the call would let no timestamp fall
    # in the middle half of it: a thread waking there waits for the call to
    # return.
    close = bars(4_000_000)[2]
    assert _batch.rsi(close, 14) is not None  # the compiled path is the one tested
    calls, stamps = [], []
    done = threading.Event()

    def work():
        for _ in range(8):
            t0 = time.perf_counter()
            pyrt.rsi(close, 14)
            calls.append((t0, time.perf_counter()))
        done.set()

    worker = threading.Thread(target=work)
    worker.start()
    while not done.is_set():
        time.sleep(0.0002)
        stamps.append(time.perf_counter())
    worker.join()
    inside = sum(
        1 for t in stamps for t0, t1 in calls if t0 + (t1 - t0) / 4 < t < t1 - (t1 - t0) / 4
    )
    assert inside > 0, calls


def test_the_compiled_calls_refuse_a_wrong_call_of_themselves():
    x = bars(30)[2]
    for call in (lambda: _batch.sma(x), lambda: _batch.ema(x, 5, 5), lambda: _batch.rsi(),
                 lambda: _batch.macd(x, 2, 4), lambda: _batch.bollinger_bands(x, 5),
                 lambda: _batch.atr(x, x, 5)):
        with pytest.raises(TypeError):
            call()
