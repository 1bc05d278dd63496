"""Shared-memory ring benchmark: records per second between processes, and
one-way latency between two native processes.

Rows (each the best of several runs, all in this one run):
  native push -> pyrt pop_many    a C producer (one pyrt_ring_push per record) in
                                  its own process, this Python process consuming
                                  with SharedRing.pop_many(8192), sleeping 20 us when
                                  a call returns under 1/8 of a batch (and, on the
                                  next row, spinning instead)
  native push -> pyrt pop         the same, consuming with SharedRing.pop
  native push -> spec reader      the same, consuming like the specification's
                                  Python reader (section 3.3): mmap + struct.unpack
                                  per record and a struct.pack of the read cursor
  NumPy copy of the same bytes    np.frombuffer(mapping)[i:i+8192].copy() over the
                                  records region, in one process: what copying the
                                  bytes alone costs, with the same allocations
  native batch -> native batch    C producer (pyrt_ring_push_batch) and C consumer
                                  (pyrt_ring_pop_batch) in two processes
  latency                         one record at a time between two C processes,
                                  stamped with CLOCK_MONOTONIC on send, compared on
                                  receipt by a busy-polling consumer

The C peer (bench/ipc_native.c) is compiled on the fly with `cc` against
pyrt.get_include() and pyrt.get_library_path(). Nothing is asserted.
"""

from __future__ import annotations

import dataclasses
import mmap
import os
import struct
import subprocess
import sys
import tempfile
import time
import uuid

import numpy as np

import pyrt
from pyrt.ipc import RECORD_DTYPE, SharedRing

HERE = os.path.dirname(os.path.abspath(__file__))
REPEATS = 3
CAPACITY = 1 << 16
BATCH = 8192
TIMEOUT = 120.0


def build_native(folder: str) -> str:
    exe = os.path.join(folder, "ipc_native")
    lib_dir = os.path.dirname(pyrt.get_library_path())
    subprocess.run(
        ["cc", "-O2", "-Wall", "-Werror", os.path.join(HERE, "ipc_native.c"), "-I", pyrt.get_include(),
         pyrt.get_library_path(), f"-Wl,-rpath,{lib_dir}", "-o", exe],
        check=True,
    )
    return exe


class Ring:
    """A fresh ring for one run, always unlinked."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.name = f"pyrt-bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.ring = SharedRing.create(self.name, capacity)

    def __enter__(self) -> "Ring":
        return self

    def __exit__(self, *exc: object) -> None:
        self.ring.close()
        SharedRing.unlink(self.name, missing_ok=True)


def start(native: str, *args: object) -> subprocess.Popen:
    return subprocess.Popen([native, *map(str, args)], stdout=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> str:
    out, _ = process.communicate(timeout=TIMEOUT)
    if process.returncode != 0:
        raise RuntimeError(f"native peer failed with {process.returncode}")
    return out


@dataclasses.dataclass
class MarketDataRecord:
    symbol_id: int
    price: float
    volume: float
    timestamp_us: int


class SpecStyleReader:
    """The specification's Python reader (its section 3.3), on pyrt's layout:
    per record, read both cursors with struct.unpack on mmap slices, unpack the
    record with struct, write the read cursor back with struct.pack."""

    RECORD = struct.Struct("<I4xddQ")

    def __init__(self, name: str) -> None:
        fd = os.open(os.path.join("/dev/shm", name), os.O_RDWR)
        try:
            self.shm = mmap.mmap(fd, 0)
        finally:
            os.close(fd)
        self.capacity = struct.unpack("<Q", self.shm[16:24])[0]

    def pop(self) -> MarketDataRecord | None:
        read_pos = struct.unpack("<Q", self.shm[128:136])[0]
        write_pos = struct.unpack("<Q", self.shm[64:72])[0]
        if read_pos == write_pos:
            return None
        offset = 192 + (read_pos % self.capacity) * 32
        symbol_id, price, volume, timestamp_us = self.RECORD.unpack(self.shm[offset : offset + 32])
        self.shm[128:136] = struct.pack("<Q", read_pos + 1)
        return MarketDataRecord(symbol_id, price, volume, timestamp_us)

    def close(self) -> None:
        self.shm.close()


def consume_timed(pop_some, count: int, back_off_below: int = 1) -> float:
    """Seconds from the first record received to the last of `count`.

    When a call returns fewer than `back_off_below` records the consumer
    sleeps for 20 us (0 disables it): polling an almost empty ring in a tight
    loop makes both processes fight over the cache lines of the newest
    records, which slows the producer down."""
    got = 0
    first = None
    deadline = time.monotonic() + TIMEOUT
    while got < count:
        n = pop_some()
        if n:
            if first is None:
                first = time.perf_counter()
            got += n
        elif time.monotonic() > deadline:
            raise TimeoutError(f"consumer stuck after {got} records")
        if n < back_off_below:
            time.sleep(20e-6)
    return time.perf_counter() - first


def native_to_pop_many(native: str, count: int, back_off: bool = True, batch: int = BATCH) -> float:
    with Ring() as r:
        producer = start(native, "produce-single", r.name, count)
        seconds = consume_timed(lambda: len(r.ring.pop_many(batch)), count, batch // 8 if back_off else 0)
        finish(producer)
    return count / seconds


def native_to_pop(native: str, count: int) -> float:
    with Ring() as r:
        producer = start(native, "produce-single", r.name, count)
        pop = r.ring.pop
        seconds = consume_timed(lambda: pop() is not None, count)
        finish(producer)
    return count / seconds


def native_to_spec_reader(native: str, count: int) -> float:
    with Ring() as r:
        reader = SpecStyleReader(r.name)
        producer = start(native, "produce-single", r.name, count)
        seconds = consume_timed(lambda: reader.pop() is not None, count)
        finish(producer)
        reader.close()
    return count / seconds


def numpy_copy(count: int) -> float:
    with Ring() as r:
        fd = os.open(os.path.join("/dev/shm", r.name), os.O_RDONLY)
        try:
            region = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
        finally:
            os.close(fd)
        view = np.frombuffer(region, dtype=RECORD_DTYPE, count=CAPACITY, offset=192)
        rounds = max(1, count // CAPACITY)
        t0 = time.perf_counter()
        for _ in range(rounds):
            for offset in range(0, CAPACITY, BATCH):
                view[offset : offset + BATCH].copy()
        seconds = time.perf_counter() - t0
        del view
        region.close()
    return rounds * CAPACITY / seconds


def batch_to_batch(native: str, count: int, batch: int = 4096) -> float:
    with Ring() as r:
        consumer = start(native, "consume-batch", r.name, count, batch)
        producer = start(native, "produce-batch", r.name, count, batch)
        finish(producer)
        seconds = float(finish(consumer))
    return count / seconds


def latency(native: str, count: int, gap_ns: int = 2000) -> tuple[int, int, int, int]:
    with Ring() as r:
        consumer = start(native, "latency-consumer", r.name, count)
        time.sleep(0.2)  # the consumer is polling before the first record is sent
        producer = start(native, "latency-producer", r.name, count, gap_ns)
        finish(producer)
        low, p50, p99, p999 = map(int, finish(consumer).split())
    return low, p50, p99, p999


def best(run, *args):
    return max(run(*args) for _ in range(REPEATS))


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        native = build_native(folder)
        rows = [
            ("native push -> pyrt pop_many", best(native_to_pop_many, native, 20_000_000), "20 M"),
            ("  same, consumer never backs off", best(native_to_pop_many, native, 20_000_000, False), ""),
            ("native push -> pyrt pop", best(native_to_pop, native, 1_000_000), ""),
            ("native push -> spec reader (mmap+struct)", best(native_to_spec_reader, native, 500_000), ""),
            ("NumPy copy of the same bytes", best(numpy_copy, 50_000_000), ""),
            ("native batch -> native batch", best(batch_to_batch, native, 50_000_000), "50 M"),
        ]
        lat = min((latency(native, 200_000) for _ in range(REPEATS)), key=lambda x: x[1])

    spec = rows[3][1]
    print(f"pyrt {pyrt.__version__}, ring capacity {CAPACITY} records of {RECORD_DTYPE.itemsize} bytes, "
          f"best of {REPEATS}, {os.cpu_count()} CPUs")
    print()
    print(f"{'cross-process throughput':<42} {'records/s':>14} {'vs spec reader':>15} {'target':>8}")
    for label, rate, target in rows:
        print(f"{label:<42} {rate / 1e6:>12.2f} M {rate / spec:>14.1f}x {target:>8}")
    print()
    low, p50, p99, p999 = lat
    print("one-way latency, native -> native (one record every 2 us, busy-polling consumer)")
    print(f"  min {low} ns   p50 {p50} ns   p99 {p99} ns   p99.9 {p999} ns   (target: p50 < 1000 ns)")


if __name__ == "__main__":
    sys.exit(main())
