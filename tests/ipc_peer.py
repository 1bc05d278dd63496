"""Python peers for the cross-process ring tests.

Record number `seq` is (symbol_id = seq % 1000, price = seq * 0.5,
volume = seq % 7 + 1, timestamp_us = seq), as in tests/c/ipc_seq.h, so a
receiver checks every field of every record and that each arrives once, in order.

Run by ctest against the C helper programs:
    python ipc_peer.py c-producer PATH_TO_ipc_producer COUNT
    python ipc_peer.py c-consumer PATH_TO_ipc_consumer COUNT
and by tests/test_ipc.py as a consumer process that can be killed:
    python ipc_peer.py consume-then-wait NAME START COUNT
    python ipc_peer.py consume-slowly NAME
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Callable

import numpy as np

from pyrt.ipc import RECORD_DTYPE, SharedRing

TIMEOUT_SECONDS = 120.0


def seq_records(start: int, stop: int) -> np.ndarray:
    """Records number start..stop-1."""
    seq = np.arange(start, stop, dtype=np.uint64)
    records = np.zeros(len(seq), dtype=RECORD_DTYPE)
    records["symbol_id"] = seq % 1000
    records["price"] = seq * 0.5
    records["volume"] = seq % 7 + 1
    records["timestamp_us"] = seq
    return records


def check_records(records: np.ndarray, start: int) -> None:
    """Raises AssertionError unless `records` are numbers start, start+1, ..."""
    expected = seq_records(start, start + len(records))
    for field in ("timestamp_us", "symbol_id", "price", "volume"):
        bad = np.flatnonzero(records[field] != expected[field])
        if len(bad):
            i = int(bad[0])
            raise AssertionError(
                f"record {start + i}: {field} is {records[field][i]!r}, expected {expected[field][i]!r}"
            )


def _peer_alive() -> bool:
    return True


def produce(
    ring: SharedRing,
    start: int,
    stop: int,
    batch: int = 8192,
    timeout: float = TIMEOUT_SECONDS,
    peer_alive: Callable[[], bool] = _peer_alive,
) -> None:
    """Pushes records start..stop-1 with push_many, waiting while the ring is
    full (until `timeout`, or until `peer_alive()` says the consumer is gone)."""
    records = seq_records(start, stop)
    deadline = time.monotonic() + timeout
    sent = 0
    while sent < len(records):
        pushed = ring.push_many(records[sent : sent + batch])
        sent += pushed
        if pushed == 0:
            if time.monotonic() > deadline or not peer_alive():
                raise TimeoutError(f"producer: stuck after {start + sent} records (timeout or consumer gone)")
            time.sleep(0)


def consume(
    ring: SharedRing,
    start: int,
    count: int,
    batch: int = 8192,
    timeout: float = TIMEOUT_SECONDS,
    peer_alive: Callable[[], bool] = _peer_alive,
) -> None:
    """Pops `count` records with pop_many and checks they are start..start+count-1
    (waiting until `timeout`, or until `peer_alive()` says the producer is gone)."""
    deadline = time.monotonic() + timeout
    got = 0
    while got < count:
        records = ring.pop_many(min(batch, count - got))
        if len(records) == 0:
            if time.monotonic() > deadline or not (peer_alive() or len(ring)):
                raise TimeoutError(f"consumer: stuck after {start + got} records (timeout or producer gone)")
            time.sleep(0)
            continue
        check_records(records, start + got)
        got += len(records)


def produce_process(name: str, count: int) -> None:
    """Target of a multiprocessing producer: records 0..count-1 into ring `name`."""
    with SharedRing.open(name) as ring:
        produce(ring, 0, count)


def consume_process(name: str, count: int) -> None:
    """Target of a multiprocessing consumer: expects records 0..count-1, then an empty ring."""
    with SharedRing.open(name) as ring:
        consume(ring, 0, count)
        if len(ring) != 0 or ring.pop() is not None:
            raise AssertionError("consumer: records beyond the expected count")


def _run_with_c_peer(role: str, program: str, count: int) -> int:
    name = f"pyrt-ctest-{role}-{os.getpid()}"
    SharedRing.unlink(name, missing_ok=True)
    ring = SharedRing.create(name, 4096)
    try:
        peer = subprocess.Popen([program, name, str(count), str(TIMEOUT_SECONDS)])
        try:
            def alive() -> bool:
                return peer.poll() is None

            if role == "c-producer":
                consume(ring, 0, count, peer_alive=alive)
                if ring.pop() is not None:
                    raise AssertionError("records beyond the expected count")
            else:
                produce(ring, 0, count, peer_alive=alive)
            code = peer.wait(timeout=TIMEOUT_SECONDS)
        finally:
            if peer.poll() is None:
                peer.kill()
                peer.wait()
        if code != 0:
            print(f"{program} exited with {code}", file=sys.stderr)
            return 1
        if role == "c-consumer" and len(ring) != 0:
            print(f"{len(ring)} records left unread", file=sys.stderr)
            return 1
        print(f"{role}: {count} records crossed between C and Python, each once, in order")
        return 0
    finally:
        ring.close()
        SharedRing.unlink(name)


def main(argv: list[str]) -> int:
    mode = argv[1]
    if mode in ("c-producer", "c-consumer"):
        return _run_with_c_peer(mode, argv[2], int(argv[3]))
    if mode == "consume-then-wait":
        # Pops exactly COUNT records (checking they start at START), says so,
        # then waits to be killed with the ring still open.
        name, start, count = argv[2], int(argv[3]), int(argv[4])
        ring = SharedRing.open(name)
        consume(ring, start, count, batch=97)
        print("consumed", flush=True)
        time.sleep(TIMEOUT_SECONDS)
        return 1
    if mode == "consume-slowly":
        # Pops small batches with pauses until killed, checking order as it goes.
        ring = SharedRing.open(argv[2])
        print("started", flush=True)
        got = 0
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            records = ring.pop_many(50)
            check_records(records, got)
            got += len(records)
            time.sleep(0.0005)
        return 1
    print(f"unknown mode {mode!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
