"""The one place Python meets the C ABI: `ffi`, `lib`, `check(status)`, the
exception classes and the array conversion every wrapper uses."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from . import _batch
from ._native import ffi, lib

__all__ = [
    "ffi",
    "lib",
    "check",
    "PyrtError",
    "PyrtValueError",
    "PyrtStateError",
    "PyrtOSError",
    "PyrtTimeoutError",
    "PyrtPanic",
    "as_f64_array",
    "aligned",
    "struct_dtype",
    "f64_ptr",
    "LIBRARY_PATH",
]


class PyrtError(Exception):
    """Base class of every error raised by pyrt; `.status` is the PyrtStatus."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class PyrtValueError(PyrtError, ValueError):
    """A bad argument (PYRT_INVALID_ARGUMENT, PYRT_NULL_POINTER, PYRT_BUFFER_TOO_SMALL,
    PYRT_NOT_FOUND), or a call on a closed handle (PYRT_CLOSED), as Python's
    own closed files raise ValueError. `.status` tells them apart."""


class PyrtStateError(PyrtError, ValueError):
    """Saved state or a shared-memory region that does not decode (PYRT_INVALID_STATE, PYRT_BAD_LAYOUT)."""


class PyrtOSError(PyrtError, OSError):
    """The operating system refused (PYRT_IO_ERROR)."""


class PyrtTimeoutError(PyrtError, TimeoutError):
    """Nothing arrived before the deadline (PYRT_TIMEOUT)."""


class PyrtMessagingError(PyrtError, RuntimeError):
    """A ZeroMQ socket failed (PYRT_MESSAGING_ERROR, PYRT_DECODE_ERROR)."""


class PyrtPanic(PyrtError, RuntimeError):
    """A bug inside pyrt, caught at the C boundary (PYRT_PANIC, PYRT_INTERNAL)."""


_ERROR_CLASS = {
    lib.PYRT_INVALID_ARGUMENT: PyrtValueError,
    lib.PYRT_NULL_POINTER: PyrtValueError,
    lib.PYRT_BUFFER_TOO_SMALL: PyrtValueError,
    lib.PYRT_INVALID_STATE: PyrtStateError,
    lib.PYRT_CLOSED: PyrtValueError,
    lib.PYRT_NOT_FOUND: PyrtValueError,
    lib.PYRT_BAD_LAYOUT: PyrtStateError,
    lib.PYRT_IO_ERROR: PyrtOSError,
    lib.PYRT_TIMEOUT: PyrtTimeoutError,
    lib.PYRT_MESSAGING_ERROR: PyrtMessagingError,
    lib.PYRT_DECODE_ERROR: PyrtMessagingError,
    lib.PYRT_PANIC: PyrtPanic,
    lib.PYRT_INTERNAL: PyrtPanic,
}


def shown(value: Any) -> str:
    """`repr(value)` for an error message, cut short when it is long (a
    400-digit integer would bury the message)."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}... ({len(text)} characters)"


def error_for(status: int) -> PyrtError:
    """The exception for a non-zero status, carrying this thread's last message."""
    message = ffi.string(lib.pyrt_last_error_message()).decode("utf-8", "replace")
    cls = _ERROR_CLASS.get(status, PyrtError)
    return cls(message or f"pyrt call failed with status {status}", status)


def check(status: int) -> None:
    """Raises the matching `PyrtError` subclass unless `status` is PYRT_OK."""
    if status:
        raise error_for(status)


_NDARRAY = np.ndarray
_F64 = np.dtype(np.float64)
_NO_BAD = object()


def as_f64_array(values: Any, name: str) -> np.ndarray:
    """Any 1-D array-like of numbers -> a C-contiguous, aligned float64 array
    (no copy when it already is one). Raises ValueError naming `name` for
    anything else: None, a scalar, a 0-d or n-d array, booleans, strings,
    objects."""
    # The common case first, tested without the general conversion's
    # machinery: it is most of a short series' wrapper cost.
    if values.__class__ is _NDARRAY and values.dtype is _F64 and values.ndim == 1 and values.flags.carray:
        return values
    if values is None or isinstance(values, (str, bytes)):
        raise PyrtValueError(f"{name}: expected a 1-D array of numbers, got {type(values).__name__}")
    try:
        # asarray first: ascontiguousarray would turn a scalar (or None) into
        # a 1-element array and hide the mistake.
        array = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise PyrtValueError(f"{name}: expected a 1-D array of numbers ({exc})") from None
    if array.ndim != 1:
        raise PyrtValueError(f"{name}: expected a 1-D array, got {array.ndim}-D with shape {array.shape}")
    kind = array.dtype.kind
    if kind == "O":
        # Numbers NumPy keeps as objects (Decimal, Fraction) convert; None
        # (which would become NaN) and booleans do not.
        bad = next((v for v in array if v is None or isinstance(v, (bool, np.bool_, str, bytes))), _NO_BAD)
        if bad is not _NO_BAD:
            raise PyrtValueError(f"{name}: expected numbers, got {bad!r}")
    elif kind not in "iuf":
        raise PyrtValueError(f"{name}: expected numbers, got an array of dtype {array.dtype}")
    try:
        array = np.ascontiguousarray(array, dtype=np.float64)
    except (TypeError, ValueError) as exc:  # pragma: no cover - numeric kinds always convert
        raise PyrtValueError(f"{name}: expected a 1-D array of numbers ({exc})") from None
    return aligned(array)


def aligned(array: np.ndarray) -> np.ndarray:
    """`array`, or an aligned copy of it: a view at an odd byte offset (from a
    buffer, a packed record, a pickle) is contiguous but not aligned, and the
    core refuses misaligned pointers rather than read them."""
    return array if array.flags.aligned else array.copy()


def struct_dtype(ctype: str, fields: list[tuple[str, str, str]]) -> np.dtype:
    """A NumPy dtype laid out exactly as the C struct `ctype`: offsets and
    size come from the compiled header, so the two cannot drift apart.
    `fields` are (NumPy name, C field name, NumPy format)."""
    return np.dtype(
        {
            "names": [name for name, _, _ in fields],
            "formats": [fmt for _, _, fmt in fields],
            "offsets": [ffi.offsetof(ctype, c_name) for _, c_name, _ in fields],
            "itemsize": ffi.sizeof(ctype),
        }
    )


def f64_ptr(array: np.ndarray) -> Any:
    """A `double *` into a contiguous float64 array, for the duration of a call."""
    return ffi.from_buffer("double[]", array)


def check_abi(found: int, expected: int) -> None:
    """Refuses a libpyrt built for another ABI than this package's header."""
    if found != expected:
        raise ImportError(
            f"pyrt: the shared library has ABI version {found}, but this package was built "
            f"for ABI version {expected}; reinstall pyrt so that both match"
        )


check_abi(lib.pyrt_abi_version(), lib.PYRT_ABI_VERSION)

# The compiled common case of the batch indicator calls (pyrt/_batch.c)
# allocates its outputs with numpy.empty and raises through error_for, as
# the cffi calls here do.
_batch.configure(np.empty, error_for)

LIBRARY_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "libpyrt.so.0")
