"""What every `pyrt.talib` function and stream shares: the catalog read from
the core at import (`pyrt_indicator_info`), argument conversion, the call of
the typed C function, pandas in/out, and the `Stream` handle.

Checks of parameter ranges and of array contents are the core's; this layer
only turns Python objects into what the C signature can carry (numbers that
fit a C int or double, contiguous float64 arrays of one length).
"""

from __future__ import annotations

import operator
import sys
from typing import Any, NamedTuple

import numpy as np

from .._core import PyrtError, PyrtValueError, as_f64_array, check, error_for, ffi, lib, shown
from .._batch import run
from .._handle import Handle
from .._tick import updater as _updater

__all__ = ["InsufficientHistory", "Param", "Record", "RECORDS", "Stream"]

_from_buffer = ffi.from_buffer
_empty = np.empty
_INT32 = (-(2**31), 2**31 - 1)


class InsufficientHistory(PyrtError, ValueError):
    """Too few bars to open a stream: at least its lookback + 1 are needed
    after any leading bars that are NaN in an input (PYRT_INSUFFICIENT_HISTORY).
    Recoverable: collect more bars and try again."""


class Param(NamedTuple):
    name: str
    default: float
    min: float
    max: float
    integer: bool


class Record(NamedTuple):
    index: int
    name: str
    group: str
    display: str
    inputs: tuple
    params: tuple
    outputs: tuple


def _read_catalog() -> tuple:
    records = []
    info = ffi.new("PyrtIndicatorInfo *")
    for index in range(lib.pyrt_indicator_count()):
        check(lib.pyrt_indicator_info(index, info))
        text = lambda p: ffi.string(p).decode("utf-8")  # noqa: E731
        records.append(Record(
            index=index,
            name=text(info.name),
            group=text(info.group),
            display=text(info.display),
            inputs=tuple(text(info.inputs[k]) for k in range(info.n_inputs)),
            params=tuple(Param(text(p.name), p.default_value, p.min, p.max, bool(p.integer))
                         for p in (info.params[k] for k in range(info.n_params))),
            outputs=tuple(text(info.outputs[k]) for k in range(info.n_outputs)),
        ))
    return tuple(records)


RECORDS = _read_catalog()
"""Every catalog record, in catalog order (as `pyrt_indicator_info` gives them)."""


def _bad_param(name: str, value: Any, what: str) -> PyrtValueError:
    return PyrtValueError(f"{name}: must be {what}, got {shown(value)}")


def as_int(value: Any, name: str) -> int:
    """A whole number that fits the C `int32_t` parameter."""
    if value.__class__ is int and _INT32[0] <= value <= _INT32[1]:
        return value
    if isinstance(value, (bool, np.bool_)):
        raise _bad_param(name, value, "a whole number, not a boolean")
    try:
        number = operator.index(value)
    except TypeError:
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            number = int(value)
        else:
            raise _bad_param(name, value, "a whole number") from None
    if not _INT32[0] <= number <= _INT32[1]:
        raise _bad_param(name, value, "a whole number within the C int range")
    return number


def as_float(value: Any, name: str) -> float:
    """A number for a C `double` parameter (booleans refused)."""
    if value.__class__ is float:
        return value
    if isinstance(value, (bool, np.bool_)):
        raise _bad_param(name, value, "a number, not a boolean")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _bad_param(name, value, "a number") from None
    except OverflowError:
        raise _bad_param(name, value, "a number within the range of a double") from None


def _convert_params(record: Record, values: tuple) -> list:
    return [as_int(v, p.name) if p.integer else as_float(v, p.name) for v, p in zip(values, record.params)]


# `run(index, *inputs, *params)`: the compiled common case of a function call
# (pyrt/_batch.c, configured by `_core`), None when an argument needs the
# conversions below.

as_series = as_f64_array
"""An input as a contiguous float64 array (ValueError naming it otherwise)."""


def same_length(arrays: tuple, names: tuple) -> int:
    """The one length of several inputs (ValueError naming the first that differs)."""
    n = arrays[0].shape[0]
    for a, name in zip(arrays[1:], names[1:]):
        if a.shape[0] != n:
            raise PyrtValueError(f"{name}: has {a.shape[0]} values but {names[0]} has {n}")
    return n


_NDARRAY = np.ndarray


def finish(inputs: tuple, outputs: Any) -> Any:
    """The outputs, as pandas Series on the first Series input's index when
    an input is one (as talib does)."""
    if outputs is None:  # pragma: no cover - the converted arguments are what `run` takes
        raise PyrtError("pyrt.talib: the compiled call refused converted arguments")
    for x in inputs:
        if x.__class__ is not _NDARRAY:
            return _as_pandas(inputs, outputs)
    return outputs


def _as_pandas(inputs: tuple, outputs: Any) -> Any:
    pandas = sys.modules.get("pandas")
    if pandas is None:
        return outputs
    for x in inputs:
        if isinstance(x, pandas.Series):
            if isinstance(outputs, tuple):
                return tuple(pandas.Series(o, index=x.index) for o in outputs)
            return pandas.Series(outputs, index=x.index)
    return outputs


def _arrays(record: Record, inputs: tuple) -> list:
    arrays = [as_f64_array(x, name) for x, name in zip(inputs, record.inputs)]
    same_length(tuple(arrays), record.inputs)
    return arrays


def _typed(name: str, suffix: str = "") -> Any:
    return getattr(lib, f"pyrt_ta_{name.lower()}{suffix}")


_STREAM_NEW = [_typed(r.name, "_stream_new") for r in RECORDS]


def _pointer_array(arrays: list) -> Any:
    return ffi.new("double *[]", [_from_buffer("double[]", a) for a in arrays])


def _params_array(record: Record, params: tuple) -> Any:
    return ffi.new("double[]", [float(v) for v in _convert_params(record, params)])


class Stream(Handle):
    """A catalog indicator as a stream: the base of every `pyrt.talib.stream`
    class (and of `pyrt.stream`'s). Safe to share between threads: the core
    serializes calls on one stream."""

    __slots__ = {
        "update": (
            "update(*bar): takes one bar (one value per input, in the function's input order) and "
            "returns its outputs: a float, or a tuple in the batch output order. A bar that is not "
            "finite raises ValueError and leaves the stream as it was."
        ),
    }
    _index = -1
    _close_fn = lib.pyrt_stream_close
    _free_fn = lib.pyrt_stream_free

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # pyrt.talib.stream's classes are what a load by the base class gives.
        if cls.__module__ == "pyrt.talib.stream":
            _CLASSES[cls._index] = cls

    @property
    def _record(self) -> Record:
        return RECORDS[self._index]

    def _open(self, history: tuple, params: tuple) -> None:
        record = self._record
        arrays = _arrays(record, history)
        out = ffi.new("PyrtStream **")
        status = lib.pyrt_stream_open(
            record.name.encode(), _params_array(record, params), len(record.params),
            _pointer_array(arrays), len(arrays), arrays[0].shape[0], out)
        if status == lib.PYRT_INSUFFICIENT_HISTORY:
            raise InsufficientHistory(error_for(status).args[0], status)
        check(status)
        self._adopt(out[0])

    def _adopt(self, raw: Any) -> None:
        super()._adopt(raw)
        record = self._record
        # The compiled per-tick call (pyrt/_tick.c): no Python frame per bar.
        self.update = _updater(self._ptr, int(ffi.cast("uintptr_t", self._ptr)), len(record.inputs),
                               len(record.outputs), record.inputs, error_for, PyrtValueError)

    def _new(self, params: tuple) -> None:
        """An empty stream (no history), through the typed constructor."""
        out = ffi.new("PyrtStream **")
        check(_STREAM_NEW[self._index](*_convert_params(self._record, params), out))
        self._adopt(out[0])

    def _result(self, out: Any) -> Any:
        n = len(self._record.outputs)
        return out[0] if n == 1 else tuple(out[k] for k in range(n))

    def peek(self, *tick: float) -> Any:
        """What `update` would return for this bar, without consuming it."""
        record = self._record
        values = ffi.new("double[]", [as_float(v, "tick") for v in tick])
        out = ffi.new("double[]", len(record.outputs))
        check(lib.pyrt_stream_peek(self._ptr, values, len(tick), out, len(record.outputs)))
        return self._result(out)

    @property
    def value(self) -> Any:
        """The outputs at the last bar (NaN before any, or while warming up)."""
        out = ffi.new("double[]", len(self._record.outputs))
        check(lib.pyrt_stream_value(self._ptr, out, len(self._record.outputs)))
        return self._result(out)

    def update_many(self, *inputs: Any) -> Any:
        """Takes whole input arrays and returns what the batch function
        returns for them, continuing from the current state (NaN inside the
        data propagates as in the batch function)."""
        record = self._record
        if len(inputs) != len(record.inputs):
            raise PyrtValueError(f"inputs: {record.name} takes {len(record.inputs)} arrays "
                                 f"({', '.join(record.inputs)}), got {len(inputs)}")
        arrays = _arrays(record, inputs)
        n = arrays[0].shape[0]
        outputs = [_empty(n) for _ in record.outputs]
        check(lib.pyrt_stream_update_many(self._ptr, _pointer_array(arrays), len(arrays), n,
                                          _pointer_array(outputs), len(outputs)))
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def copy(self) -> "Stream":
        """An independent stream at the same bar, with the same state."""
        out = ffi.new("PyrtStream **")
        check(lib.pyrt_stream_copy(self._ptr, out))
        copy = type(self).__new__(type(self))
        copy._adopt(out[0])
        return copy

    def _duplicate(self) -> "Stream":
        return self.copy()

    def to_bytes(self) -> bytes:
        """The state as self-describing bytes (they name the indicator and
        carry its parameters): `from_bytes` here, `pyrt_stream_load` in C,
        `LoadStream`/`Stream.load` in Go, Java and Node."""
        written = ffi.new("size_t *")
        status = lib.pyrt_stream_save(self._ptr, ffi.NULL, 0, written)
        if status != lib.PYRT_BUFFER_TOO_SMALL:
            check(status)
        buf = ffi.new("uint8_t[]", written[0])
        check(lib.pyrt_stream_save(self._ptr, buf, written[0], written))
        return bytes(ffi.buffer(buf, written[0]))

    @classmethod
    def from_bytes(cls, data: bytes) -> "Stream":
        """Restores a stream saved by `to_bytes` (in any language). On a
        function's own class the bytes must be of that function.

        Raises:
            PyrtStateError (a ValueError): bytes that are not a saved stream.
        """
        try:
            view = ffi.from_buffer("uint8_t[]", data)
        except TypeError:
            raise PyrtValueError(f"data: expected bytes, got {type(data).__name__}") from None
        out = ffi.new("PyrtStream **")
        check(lib.pyrt_stream_load(view, len(view), out))
        index = ffi.new("size_t *")
        try:
            check(lib.pyrt_stream_indicator(out[0], index))
            target = _class_for(cls, index[0])
        except BaseException:
            lib.pyrt_stream_free(out[0])
            raise
        obj = target.__new__(target)
        obj._adopt(out[0])
        return obj

    def __repr__(self) -> str:
        if self.closed:
            return f"<{type(self).__name__} stream, closed>"
        return f"<{type(self).__name__} stream, value={self.value!r}>"


_CLASSES: dict = {}


def _class_for(cls: type, index: int) -> type:
    if cls._index == index:
        return cls
    if cls._index != -1:
        raise PyrtValueError(f"data: holds a {RECORDS[index].name} stream, not {RECORDS[cls._index].name}")
    return _CLASSES.get(index, cls)
