"""The compiled common case of a `pyrt.talib` call (pyrt/_batch.c) against
the general conversion path: which arguments each takes, identical bits out,
identical errors, buffers released, pandas in and out."""

from __future__ import annotations

import array
import os
import sys
import threading

import numpy as np
import pandas as pd
import pytest

import pyrt.talib as pt
from pyrt._batch import run
from pyrt._core import PyrtError
from pyrt.talib._runner import RECORDS

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from array_checks import as_tuple, assert_identical, misaligned, ohlcv, strided  # noqa: E402

NAMES = pt.get_functions()


def record(name: str):
    return RECORDS[NAMES.index(name)]


def inputs_of(name: str, data: dict) -> list:
    return [data[x].copy() for x in record(name).inputs]


def defaults(name: str) -> list:
    return [int(p.default) if p.integer else float(p.default) for p in record(name).params]


def big_endian(x: np.ndarray) -> np.ndarray:
    return x.astype(">f8")


FALLBACK_FORMS = {
    "list": lambda x: x.tolist(),
    "strided": strided,
    "misaligned": misaligned,
    "big-endian": big_endian,
}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n", [0, 1, 5, 300, 5000])  # 5000: the call that releases the GIL
def test_fast_path_is_taken_and_equals_the_general_path(name, n):
    args = inputs_of(name, ohlcv(n))
    index = NAMES.index(name)
    fast = run(index, *args, *defaults(name))
    assert fast is not None
    assert_identical(fast, getattr(pt, name)(*args))
    for form, convert in FALLBACK_FORMS.items():
        other = [convert(x) for x in args]
        if n > 1 or form in ("list", "big-endian"):  # a view of 0 or 1 values is contiguous whatever its stride
            assert run(index, *other, *defaults(name)) is None, form
        assert_identical(getattr(pt, name)(*other), fast)


@pytest.mark.parametrize("name", NAMES)
def test_integer_inputs_take_the_general_path_with_the_same_result(name):
    args = [np.round(x).astype(np.int64) for x in inputs_of(name, ohlcv(200))]
    index = NAMES.index(name)
    assert run(index, *args, *defaults(name)) is None
    as_float = [x.astype(np.float64) for x in args]
    assert_identical(getattr(pt, name)(*args), run(index, *as_float, *defaults(name)))


@pytest.mark.parametrize("name", NAMES)
def test_one_input_of_another_kind_sends_the_whole_call_to_the_general_path(name):
    args = inputs_of(name, ohlcv(200))
    index = NAMES.index(name)
    expected = run(index, *args, *defaults(name))
    mixed = args[:-1] + [args[-1].tolist()]
    assert run(index, *mixed, *defaults(name)) is None
    assert_identical(getattr(pt, name)(*mixed), expected)


def test_other_float64_buffers_take_the_fast_path():
    x = ohlcv(300)["close"]
    for buffer in (array.array("d", x), memoryview(x), x.reshape(1, -1)[0], np.frombuffer(x.tobytes())):
        assert_identical(run(0, buffer, 30), pt.SMA(x))
        assert_identical(pt.SMA(buffer), pt.SMA(x))


def test_parameters_needing_conversion_take_the_general_path_with_the_same_result():
    data = ohlcv(300)
    x = data["close"]
    sma = NAMES.index("SMA")
    bbands = NAMES.index("BBANDS")
    expected = pt.SMA(x, 20)
    for whole in (20.0, np.int64(20), np.int32(20), np.float64(20.0)):
        assert run(sma, x, whole) is None, repr(whole)
        assert_identical(pt.SMA(x, whole), expected)
    # A float parameter given as an int is the same double on both paths.
    assert run(bbands, x, 20, 2, 2, 0) is not None
    assert_identical(pt.BBANDS(x, 20, 2, 2, 0), pt.BBANDS(x, 20, 2.0, 2.0, 0))
    assert run(bbands, x, 20, np.float64(2.0), 2.0, 0) is None
    assert_identical(pt.BBANDS(x, 20, np.float64(2.0), 2.0, 0), pt.BBANDS(x, 20, 2.0, 2.0, 0))
    # NaN for a float parameter means its default, on both paths.
    assert_identical(pt.BBANDS(x, nbdevup=float("nan")), pt.BBANDS(x.tolist(), nbdevup=float("nan")))
    assert_identical(pt.BBANDS(x, nbdevup=float("nan")), pt.BBANDS(x))


@pytest.mark.parametrize("value,message", [
    (True, "timeperiod: must be a whole number, not a boolean, got True"),
    (np.bool_(False), "timeperiod: must be a whole number, not a boolean, got"),
    (2**40, "timeperiod: must be a whole number within the C int range, got 1099511627776"),
    (-(2**31) - 1, "timeperiod: must be a whole number within the C int range"),
    (20.5, "timeperiod: must be a whole number, got 20.5"),
    ("20", "timeperiod: must be a whole number, got '20'"),
    (None, "timeperiod: must be a whole number, got None"),
])
def test_refused_integer_parameters_are_named_as_before(value, message):
    x = ohlcv(100)["close"]
    assert run(NAMES.index("SMA"), x, value) is None
    with pytest.raises(ValueError) as info:
        pt.SMA(x, value)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("value,message", [
    (True, "nbdevup: must be a number, not a boolean, got True"),
    ("2", None),  # float("2") is a number: accepted by the general path
    ("two", "nbdevup: must be a number, got 'two'"),
    # Too large for a double: named, and the 401 digits cut short.
    (10**400, "nbdevup: must be a number within the range of a double, got 1" + "0" * 39 + "... (401 characters)"),
])
def test_refused_float_parameters_are_named_as_before(value, message):
    x = ohlcv(100)["close"]
    assert run(NAMES.index("BBANDS"), x, 5, value, 2.0, 0) is None
    if message is None:
        try:
            expected = pt.BBANDS(x.tolist(), 5, value)
        except Exception as exc:  # noqa: BLE001 - the general path's own outcome is the reference
            with pytest.raises(type(exc)):
                pt.BBANDS(x, 5, value)
        else:
            assert_identical(pt.BBANDS(x, 5, value), expected)
        return
    with pytest.raises(ValueError) as info:
        pt.BBANDS(x, 5, value)
    assert str(info.value) == message


def test_core_errors_raise_the_same_exception_and_message_on_both_paths():
    x = ohlcv(100)["close"]
    with pytest.raises(PyrtError) as fast:  # PyrtError
        pt.SMA(x, 0)
    with pytest.raises(PyrtError) as general:
        pt.SMA(x.tolist(), 0)
    assert type(fast.value) is type(general.value)
    assert isinstance(fast.value, ValueError)
    assert str(fast.value) == str(general.value)
    assert "timeperiod" in str(fast.value)
    assert fast.value.status == general.value.status != 0
    with pytest.raises(ValueError) as fast:
        pt.BBANDS(x, matype=7)
    with pytest.raises(ValueError) as general:
        pt.BBANDS(list(x), matype=7)
    assert str(fast.value) == str(general.value) and "matype" in str(fast.value)


def test_inputs_of_different_lengths_are_named_by_the_general_path():
    data = ohlcv(100)
    atr = NAMES.index("ATR")
    assert run(atr, data["high"], data["low"][:-1], data["close"], 14) is None
    with pytest.raises(ValueError, match=r"^low: has 99 values but high has 100$"):
        pt.ATR(data["high"], data["low"][:-1], data["close"])
    with pytest.raises(ValueError, match=r"^close: has 99 values but high has 100$"):
        pt.ATR(data["high"], data["low"], data["close"][:-1])


def test_non_1d_and_non_numeric_inputs_are_named_by_the_general_path():
    x = ohlcv(100)["close"]
    assert run(0, x.reshape(10, 10), 30) is None
    with pytest.raises(ValueError, match=r"^real: expected a 1-D array, got 2-D"):
        pt.SMA(x.reshape(10, 10))
    assert run(0, b"\x00" * 800, 30) is None  # a byte buffer, not doubles
    assert run(0, np.float64(1.0), 30) is None  # a 0-d buffer
    with pytest.raises(ValueError, match=r"^real: expected a 1-D array, got 0-D"):
        pt.SMA(np.float64(1.0))
    assert run(0, np.ones(100, dtype=bool), 30) is None  # booleans are not numbers here
    with pytest.raises(ValueError, match=r"^real: expected numbers, got an array of dtype bool"):
        pt.SMA(np.ones(100, dtype=bool))
    assert run(0, ["a", "b"], 30) is None
    with pytest.raises(ValueError, match=r"^real: expected numbers"):
        pt.SMA(["a", "b"])


def test_input_buffers_are_released_and_outputs_are_fresh():
    data = ohlcv(300)
    args = inputs_of("STOCH", data)
    outputs = pt.STOCH(*args)
    for x in args:
        x.resize(x.shape[0] + 1, refcheck=False)  # BufferError while a view is still exported
    for o in outputs:
        # Several outputs are the rows of one new array (one allocation).
        assert o.flags.writeable and o.flags.c_contiguous and o.base is not None
        assert not any(np.shares_memory(o, x) for x in args)
    assert not np.shares_memory(outputs[0], outputs[1])


def test_series_in_gives_series_out_on_the_same_index():
    data = ohlcv(200)
    index = pd.date_range("2024-01-01", periods=200, freq="min")
    series = [pd.Series(x, index=index) for x in inputs_of("MACD", data)]
    out = pt.MACD(*series)
    assert all(isinstance(o, pd.Series) and o.index.equals(index) for o in out)
    assert_identical(tuple(o.to_numpy() for o in out), pt.MACD(*inputs_of("MACD", data)))
    high = pd.Series(data["high"], index=index)
    atr = pt.ATR(high, data["low"], data["close"])  # one Series among arrays
    assert isinstance(atr, pd.Series) and atr.index.equals(index)


def test_threads_calling_at_once_get_their_own_results():
    data = ohlcv(6000)
    args = inputs_of("ADX", data)
    expected = pt.ADX(*args)
    results, errors = [], []

    def work():
        try:
            for _ in range(20):
                results.append(pt.ADX(*args))
            pt.SMA(args[0], 0)
        except ValueError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 80 and len(errors) == 4
    for r in results:
        assert_identical(r, expected)
    assert all("timeperiod" in e for e in errors)


def test_run_refuses_a_wrong_call_of_itself():
    x = ohlcv(10)["close"]
    with pytest.raises(TypeError):
        run(NAMES.index("SMA"), x)
    with pytest.raises(ValueError):
        run(len(NAMES), x, 30)
    with pytest.raises(ValueError):
        run(-1, x, 30)
