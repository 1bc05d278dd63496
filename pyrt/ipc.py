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
import threading
from typing import Any, NamedTuple, Optional

import numpy as np

from ._core import PyrtError, PyrtValueError, aligned, check, ffi, lib, struct_dtype
from ._handle import Handle

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
_FULL = lib.PYRT_FULL
# Names are POSIX shared-memory names: at most NAME_MAX bytes.
_MAX_NAME_BYTES = 255


def _name_bytes(name: Any) -> bytes:
    if not isinstance(name, str):
        raise PyrtValueError(f"name: expected a str, got {type(name).__name__}")
    if "\0" in name:
        raise PyrtValueError("name: must not contain a NUL character")
    encoded = name.encode("utf-8")
    if len(encoded) > _MAX_NAME_BYTES:
        raise PyrtValueError(f"name: {len(encoded)} bytes, longer than the limit of {_MAX_NAME_BYTES}")
    return encoded


class _Scratch(threading.local):
    """One record buffer per thread: `push` and `pop` fill a buffer the C
    call reads or writes, and two threads sharing a handle must not share it."""

    def __init__(self) -> None:
        self.one = ffi.new("PyrtMarketDataRecord *")
        self.one_bytes = ffi.buffer(self.one)


class SharedRing(Handle):
    """A handle on a named shared-memory ring of market-data records.

    Single producer, single consumer: at any time at most one handle pushes
    and at most one pops, in any processes. The cursors live in the shared
    memory, so a consumer that re-opens the ring after dying continues at the
    first record it had not popped, and a producer that re-opens continues
    after the last record it published; records pushed by a producer that
    died all stay readable.

    Threads: a handle may be shared. Its calls are serialized by the core,
    so records are never torn; `close()` from any thread waits for a call in
    progress, and every later call raises ValueError ("ring: is closed").
    `copy.copy` and `copy.deepcopy` raise TypeError (a copy would be a second
    owner of the mapping); open the ring again instead.

    Processes: if another process shrinks or truncates the ring's file, the
    next call that touches the lost memory raises `PyrtStateError` (a
    ValueError, "truncated by another process"), as does every later call on
    this handle; the process is not killed. Garbage written into the ring's
    header or cursors is refused the same way.

    Make one with `SharedRing.create` or `SharedRing.open`; use it as a
    context manager or call `close()` (the handle is also freed when garbage
    collected). Closing never removes the ring: `SharedRing.unlink` does.
    """

    __slots__ = ("_name", "_capacity", "_scratch")
    _close_fn = lib.pyrt_ring_close
    _free_fn = lib.pyrt_ring_free

    def __init__(self, raw: Any, name: str) -> None:
        """Wraps a raw `PyrtRing *`; use `create` or `open` instead."""
        self._adopt(raw)
        self._name = name
        self._capacity = int(lib.pyrt_ring_capacity(raw))
        self._scratch = _Scratch()

    @classmethod
    def create(cls, name: str, capacity: int) -> "SharedRing":
        """Creates the ring `name` with room for exactly `capacity` records.

        Parameters: `name`, the ring's name (1 to 255 bytes, no ``/``, no NUL);
        `capacity`, a power of two up to 2**30 that fits the free shared memory.
        Returns: a handle on the new, empty ring.
        Raises: ValueError if the name is malformed or already exists, or the
        capacity is not a power of two or too large; OSError if the system refuses.
        """
        if isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer)):
            raise PyrtValueError(f"capacity: expected an int, got {type(capacity).__name__}")
        if not 0 < capacity <= lib.PYRT_RING_MAX_CAPACITY:
            raise PyrtValueError(
                f"capacity: must be a power of two from 1 to {lib.PYRT_RING_MAX_CAPACITY}, got {capacity}")
        out = ffi.new("PyrtRing **")
        check(lib.pyrt_ring_create(_name_bytes(name), int(capacity), out))
        return cls(out[0], name)

    @classmethod
    def open(cls, name: str) -> "SharedRing":
        """Attaches to the existing ring `name`.

        Parameters: `name`, the ring's name.
        Returns: a handle on the ring, at the shared cursors.
        Raises: ValueError if no such ring exists (status PYRT_NOT_FOUND) or
        the region is not a pyrt ring of this layout (magic, version, record
        size, capacity, size).
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
        if status == lib.PYRT_NOT_FOUND and missing_ok:
            return
        check(status)

    @property
    def name(self) -> str:
        """The ring's name."""
        return self._name

    @property
    def capacity(self) -> int:
        """How many records the ring holds when full."""
        return self._capacity

    def push(self, symbol_id: int, price: float, volume: float, timestamp_us: int) -> bool:
        """Appends one record.

        Parameters: the record's fields (`symbol_id` fits uint32,
        `timestamp_us` uint64).
        Returns: True if it was appended, False if the ring is full (nothing
        is written, nothing overwritten).
        """
        one = self._scratch.one
        try:
            one.symbol_id = symbol_id
            one.price = price
            one.volume = volume
            one.timestamp_us = timestamp_us
        except (OverflowError, TypeError) as exc:
            raise PyrtValueError(f"record: {exc}") from None
        status = lib.pyrt_ring_push(self._ptr, one)
        if status:
            if status == _FULL:
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
        check(lib.pyrt_ring_push_batch(self._ptr, buffer, len(records), pushed))
        return int(pushed[0])

    def pop(self) -> Optional[Record]:
        """Takes the oldest record.

        Returns: a `Record`, or None when the ring is empty.
        """
        scratch = self._scratch
        status = lib.pyrt_ring_pop(self._ptr, scratch.one)
        if status:
            if status == _EMPTY:
                return None
            check(status)
        # One struct unpack of the record's bytes is cheaper than four cdata reads.
        return _make_record(_unpack_record(scratch.one_bytes))

    def pop_many(self, max_records: int) -> np.ndarray:
        """Takes up to `max_records` of the oldest records in one call: the
        ring copies them straight into a new array.

        Parameters: `max_records`, at least 0.
        Returns: a structured ndarray of `RECORD_DTYPE`, oldest first, of
        length 0 (empty ring) to `max_records`. It is a view of an array of
        ``min(max_records, capacity)`` rows (no call returns more than the
        ring holds), so keep `max_records` to the batch size you want.
        """
        if isinstance(max_records, bool) or not isinstance(max_records, (int, np.integer)):
            raise PyrtValueError(f"max_records: expected an int, got {type(max_records).__name__}")
        if max_records < 0:
            raise PyrtValueError(f"max_records: must be at least 0, got {max_records}")
        out = np.empty(min(int(max_records), self._capacity), dtype=RECORD_DTYPE)
        popped = ffi.new("size_t *")
        buffer = ffi.from_buffer("PyrtMarketDataRecord[]", out)
        check(lib.pyrt_ring_pop_batch(self._ptr, buffer, len(out), popped))
        return out[: popped[0]]

    def __len__(self) -> int:
        """Records currently in the ring (a snapshot while a peer is active)."""
        length = ffi.new("size_t *")
        check(lib.pyrt_ring_len(self._ptr, length))
        return int(length[0])

    def __repr__(self) -> str:
        if self.closed:
            return f"SharedRing({self._name!r}, closed)"
        try:
            state = f"{len(self)}/{self._capacity} records"
        except PyrtError as exc:
            state = f"unusable: {exc}"
        return f"SharedRing({self._name!r}, {state})"
