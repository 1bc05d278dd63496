"""Shared-memory ring: a lock-free single-producer / single-consumer queue of
market-data records in named POSIX shared memory.

The ring is the Rust core's; this module only hands it NumPy memory. Any
process in any language that links libpyrt (or follows the layout documented
in `pyrt.h`) can be the other end.

A ring named ``"ticks"`` is the POSIX shared-memory object ``"/ticks"`` (on
Linux the file ``/dev/shm/ticks``); a name is 1 to 255 bytes without ``/``.
It lives until `SharedRing.unlink`, even when no process has it open.
"""

from __future__ import annotations

import struct
from types import TracebackType
from typing import Any, NamedTuple, Optional, Type

import numpy as np

from ._core import PyrtValueError, aligned, check, ffi, lib, struct_dtype

__all__ = ["RECORD_DTYPE", "Record", "SharedRing"]

RECORD_DTYPE = struct_dtype(
    "PyrtMarketDataRecord",
    [(name, name, fmt) for name, fmt in
     (("symbol_id", "<u4"), ("_pad", "<u4"), ("price", "<f8"), ("volume", "<f8"), ("timestamp_us", "<u8"))],
)
"""One ring record as a NumPy structured dtype: 32 bytes, the C layout of
`PyrtMarketDataRecord` (``_pad`` is padding, always 0 on push)."""

if RECORD_DTYPE.itemsize != lib.PYRT_RING_RECORD_SIZE:  # pragma: no cover - a build mismatch
    raise ImportError(
        f"pyrt.ipc: PyrtMarketDataRecord is {RECORD_DTYPE.itemsize} bytes in the header, but the ring "
        f"layout says {lib.PYRT_RING_RECORD_SIZE}; reinstall pyrt"
    )


class Record(NamedTuple):
    """One record popped from a ring."""

    symbol_id: int
    price: float
    volume: float
    timestamp_us: int


_unpack_record = struct.Struct("=I4xddQ").unpack_from
_make_record = Record._make
_EMPTY = lib.PYRT_EMPTY


def _name_bytes(name: str) -> bytes:
    if not isinstance(name, str):
        raise PyrtValueError(f"name: expected a str, got {type(name).__name__}")
    return name.encode("utf-8")


class SharedRing:
    """A handle on a named shared-memory ring of market-data records.

    Single producer, single consumer: at any time at most one handle pushes
    and at most one pops, in any processes. One handle is for one thread at a
    time. The cursors live in the shared memory, so a consumer that re-opens
    the ring after dying continues at the first record it had not popped, and
    a producer that re-opens continues after the last record it published;
    records pushed by a producer that died all stay readable.

    Make one with `SharedRing.create` or `SharedRing.open`; use it as a
    context manager or call `close()` (the handle is also freed when garbage
    collected). Closing never removes the ring: `SharedRing.unlink` does.
    """

    __slots__ = ("_ring", "_name", "_capacity", "_one", "_one_bytes")

    def __init__(self, raw: Any, name: str) -> None:
        """Wraps a raw `PyrtRing *`; use `create` or `open` instead."""
        self._ring = ffi.gc(raw, lib.pyrt_ring_free)
        self._name = name
        self._capacity = int(lib.pyrt_ring_capacity(raw))
        self._one = ffi.new("PyrtMarketDataRecord *")
        self._one_bytes = ffi.buffer(self._one)

    @classmethod
    def create(cls, name: str, capacity: int) -> "SharedRing":
        """Creates the ring `name` with room for exactly `capacity` records.

        Parameters: `name`, the ring's name (1 to 255 bytes, no ``/``);
        `capacity`, a power of two up to 2**30.
        Returns: a handle on the new, empty ring.
        Raises: ValueError if the name is malformed or already exists, or the
        capacity is not a power of two; OSError if the system refuses.
        """
        if isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer)):
            raise PyrtValueError(f"capacity: expected an int, got {type(capacity).__name__}")
        if capacity < 0:
            raise PyrtValueError(f"capacity: must be a power of two, got {capacity}")
        out = ffi.new("PyrtRing **")
        check(lib.pyrt_ring_create(_name_bytes(name), int(capacity), out))
        return cls(out[0], name)

    @classmethod
    def open(cls, name: str) -> "SharedRing":
        """Attaches to the existing ring `name`.

        Parameters: `name`, the ring's name.
        Returns: a handle on the ring, at the shared cursors.
        Raises: ValueError if no such ring exists or the region is not a pyrt
        ring of this layout (magic, version, record size, capacity, size).
        """
        out = ffi.new("PyrtRing **")
        check(lib.pyrt_ring_open(_name_bytes(name), out))
        return cls(out[0], name)

    @staticmethod
    def unlink(name: str, missing_ok: bool = False) -> None:
        """Removes the ring `name`. Open handles keep working; the memory is
        released when the last one closes.

        Parameters: `name`, the ring's name; `missing_ok`, do nothing (rather
        than raise ValueError) when no such ring exists.
        """
        status = lib.pyrt_ring_unlink(_name_bytes(name))
        if status == lib.PYRT_INVALID_ARGUMENT and missing_ok:
            message = ffi.string(lib.pyrt_last_error_message()).decode("utf-8", "replace")
            if "does not exist" in message:
                return
        check(status)

    def _handle(self) -> Any:
        if self._ring is None:
            raise PyrtValueError(f"ring: {self._name!r} is closed")
        return self._ring

    @property
    def name(self) -> str:
        """The ring's name."""
        return self._name

    @property
    def capacity(self) -> int:
        """How many records the ring holds when full."""
        return self._capacity

    @property
    def closed(self) -> bool:
        """True once `close()` was called."""
        return self._ring is None

    def push(self, symbol_id: int, price: float, volume: float, timestamp_us: int) -> bool:
        """Appends one record.

        Parameters: the record's fields (`symbol_id` fits uint32,
        `timestamp_us` uint64).
        Returns: True if it was appended, False if the ring is full (nothing
        is written, nothing overwritten).
        """
        one = self._one
        try:
            one.symbol_id = symbol_id
            one.price = price
            one.volume = volume
            one.timestamp_us = timestamp_us
        except (OverflowError, TypeError) as exc:
            raise PyrtValueError(f"record: {exc}") from None
        status = lib.pyrt_ring_push(self._handle(), one)
        if status == lib.PYRT_FULL:
            return False
        check(status)
        return True

    def push_many(self, records: np.ndarray) -> int:
        """Appends as many of `records` as fit, in order, in one call (the
        array's memory is copied straight into the ring).

        Parameters: `records`, a 1-D structured ndarray of `RECORD_DTYPE`.
        Returns: how many were appended, from the front (0 when full).
        """
        if not isinstance(records, np.ndarray) or records.dtype != RECORD_DTYPE:
            dtype = getattr(records, "dtype", type(records).__name__)
            raise PyrtValueError(f"records: expected an ndarray of pyrt.ipc.RECORD_DTYPE, got {dtype}")
        if records.ndim != 1:
            raise PyrtValueError(f"records: expected a 1-D array, got shape {records.shape}")
        records = aligned(np.ascontiguousarray(records))
        pushed = ffi.new("size_t *")
        buffer = ffi.from_buffer("PyrtMarketDataRecord[]", records)
        check(lib.pyrt_ring_push_batch(self._handle(), buffer, len(records), pushed))
        return int(pushed[0])

    def pop(self) -> Optional[Record]:
        """Takes the oldest record.

        Returns: a `Record`, or None when the ring is empty.
        """
        status = lib.pyrt_ring_pop(self._handle(), self._one)
        if status == _EMPTY:
            return None
        check(status)
        # One struct unpack of the record's bytes is cheaper than four cdata reads.
        return _make_record(_unpack_record(self._one_bytes))

    def pop_many(self, max_records: int) -> np.ndarray:
        """Takes up to `max_records` of the oldest records in one call: the
        ring copies them straight into a new array.

        Parameters: `max_records`, at least 0.
        Returns: a structured ndarray of `RECORD_DTYPE`, oldest first, of
        length 0 (empty ring) to `max_records`. It is a view of an array of
        `max_records` rows, so keep `max_records` to the batch size you want.
        """
        if isinstance(max_records, bool) or not isinstance(max_records, (int, np.integer)):
            raise PyrtValueError(f"max_records: expected an int, got {type(max_records).__name__}")
        if max_records < 0:
            raise PyrtValueError(f"max_records: must be at least 0, got {max_records}")
        out = np.empty(int(max_records), dtype=RECORD_DTYPE)
        popped = ffi.new("size_t *")
        buffer = ffi.from_buffer("PyrtMarketDataRecord[]", out)
        check(lib.pyrt_ring_pop_batch(self._handle(), buffer, len(out), popped))
        return out[: popped[0]]

    def __len__(self) -> int:
        """Records currently in the ring (a snapshot while a peer is active)."""
        return int(lib.pyrt_ring_len(self._handle()))

    def close(self) -> None:
        """Closes this handle (the ring and its records stay). Idempotent."""
        if self._ring is not None:
            ring, self._ring = self._ring, None
            ffi.release(ring)

    def __enter__(self) -> "SharedRing":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._ring is None else f"{len(self)}/{self._capacity} records"
        return f"SharedRing({self._name!r}, {state})"
