"""pyrt.ipc: the shared-memory ring, with real shared memory and real processes."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
import uuid

from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import pyrt
from pyrt._core import ffi, lib
from pyrt.ipc import RECORD_DTYPE, Record, SharedRing

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ipc_peer import check_records, seq_records  # noqa: E402

PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ipc_peer.py")
WAIT = 60


@pytest.fixture
def name():
    """A fresh ring name, unlinked after the test whatever happened."""
    ring_name = f"pyrt-test-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    yield ring_name
    SharedRing.unlink(ring_name, missing_ok=True)


def shm_file(ring_name: str) -> str:
    return os.path.join("/dev/shm", ring_name)


def test_record_dtype_matches_the_c_struct():
    assert RECORD_DTYPE.itemsize == 32 == ffi.sizeof("PyrtMarketDataRecord") == lib.PYRT_RING_RECORD_SIZE
    assert [RECORD_DTYPE.fields[f][1] for f in RECORD_DTYPE.names] == [0, 4, 8, 16, 24]
    assert pyrt.ipc is sys.modules["pyrt.ipc"]


def test_push_pop_round_trip_and_fifo_order(name):
    with SharedRing.create(name, 8) as ring:
        assert ring.capacity == 8 and len(ring) == 0
        assert ring.pop() is None
        assert ring.push(7, 101.25, 3.5, 1_700_000_000_000_000)
        assert ring.push(2**32 - 1, -1.0, 0.0, 2**64 - 1)
        assert len(ring) == 2
        assert ring.pop() == Record(7, 101.25, 3.5, 1_700_000_000_000_000)
        assert ring.pop() == Record(2**32 - 1, -1.0, 0.0, 2**64 - 1)
        assert ring.pop() is None


def test_the_ring_is_named_slash_name_under_dev_shm(name):
    with SharedRing.create(name, 4):
        assert os.path.getsize(shm_file(name)) == lib.PYRT_RING_RECORDS_OFFSET + 4 * 32
        with open(shm_file(name), "rb") as f:
            header = f.read(16)
        assert header[:8] == b"PYRTRING"
        assert int.from_bytes(header[8:12], "little") == lib.PYRT_RING_LAYOUT_VERSION
        assert int.from_bytes(header[12:16], "little") == 32
    SharedRing.unlink(name)
    assert not os.path.exists(shm_file(name))


def test_a_full_ring_refuses_pushes_and_overwrites_nothing(name):
    with SharedRing.create(name, 4) as ring:
        assert all(ring.push(i, float(i), 1.0, i) for i in range(4))
        assert len(ring) == 4
        assert not ring.push(99, 99.0, 1.0, 99)
        assert ring.push_many(seq_records(100, 103)) == 0
        assert [ring.pop().timestamp_us for _ in range(4)] == [0, 1, 2, 3]
        assert ring.pop() is None


def test_batches_take_what_fits_and_wrap_around(name):
    with SharedRing.create(name, 16) as ring:
        sent = received = 0
        for round_ in range(40):
            batch = seq_records(sent, sent + 5 + round_ % 13)
            pushed = ring.push_many(batch)
            assert pushed == min(len(batch), 16 - (sent - received))
            sent += pushed
            out = ring.pop_many(7)
            assert out.dtype == RECORD_DTYPE
            check_records(out, received)
            received += len(out)
            assert len(ring) == sent - received
        rest = ring.pop_many(100)
        check_records(rest, received)
        assert received + len(rest) == sent
        assert len(ring.pop_many(10)) == 0
        assert len(ring.pop_many(0)) == 0


def test_push_many_accepts_non_contiguous_views_and_refuses_other_dtypes(name):
    with SharedRing.create(name, 16) as ring:
        records = seq_records(0, 10)
        assert ring.push_many(records[::2]) == 5
        assert list(ring.pop_many(10)["timestamp_us"]) == [0, 2, 4, 6, 8]
        with pytest.raises(ValueError, match="records"):
            ring.push_many(np.zeros(3, dtype=np.float64))
        with pytest.raises(ValueError, match="records"):
            ring.push_many([(1, 0, 1.0, 1.0, 1)])
        with pytest.raises(ValueError, match="records"):
            ring.push_many(records.reshape(2, 5))
        with pytest.raises(ValueError, match="max_records"):
            ring.pop_many(-1)
        with pytest.raises(ValueError, match="record"):
            ring.push(-1, 1.0, 1.0, 1)


def test_capacity_must_be_a_power_of_two(name):
    for bad in (0, 3, 1000, 2**31):
        with pytest.raises(ValueError, match="capacity"):
            SharedRing.create(name, bad)
    assert not os.path.exists(shm_file(name))


def test_bad_names_are_refused_naming_name():
    for bad in ("", "a/b", "x" * 256):
        with pytest.raises(ValueError, match="^name"):
            SharedRing.create(bad, 8)


def test_create_refuses_an_existing_ring(name):
    with SharedRing.create(name, 8):
        with pytest.raises(ValueError, match="already exists"):
            SharedRing.create(name, 8)


def test_opening_a_missing_name_is_a_clear_value_error(name):
    with pytest.raises(ValueError, match="does not exist"):
        SharedRing.open(name)
    with pytest.raises(ValueError, match="does not exist"):
        SharedRing.unlink(name)


@pytest.mark.parametrize(
    "corrupt, words",
    [
        (lambda good: b"\xab" * len(good), "not a pyrt ring"),
        (lambda good: b"NOTARING" + good[8:], "not a pyrt ring"),
        (lambda good: good[:8] + (7).to_bytes(4, "little") + good[12:], "version 7"),
        (lambda good: good[:12] + (24).to_bytes(4, "little") + good[16:], "record size 24"),
        (lambda good: good[:16] + (6).to_bytes(8, "little") + good[24:], "capacity 6"),
        (lambda good: good[:-32], "needs exactly"),
        (lambda good: good[:100], "smaller than a ring header"),
        (lambda good: b"", "smaller than a ring header"),
        (lambda good: good[:64] + (99).to_bytes(8, "little") + good[72:], "cursors are inconsistent"),
    ],
    ids=["garbage", "magic", "version", "record-size", "capacity", "truncated", "short", "empty", "cursors"],
)
def test_open_refuses_a_region_that_is_not_this_ring_layout(name, corrupt, words):
    SharedRing.create(name, 8).close()
    with open(shm_file(name), "rb") as f:
        good = f.read()
    with open(shm_file(name), "wb") as f:
        f.write(corrupt(good))
    with pytest.raises(ValueError, match=words):
        SharedRing.open(name)


def test_a_closed_ring_refuses_use_and_close_is_idempotent(name):
    ring = SharedRing.create(name, 8)
    ring.close()
    ring.close()
    assert ring.closed
    with pytest.raises(ValueError, match="closed"):
        ring.push(1, 1.0, 1.0, 1)
    with pytest.raises(ValueError, match="closed"):
        len(ring)
    # Closing a handle does not remove the ring.
    with SharedRing.open(name) as again:
        assert again.capacity == 8


def test_python_producer_process_to_python_consumer_process(name):
    from ipc_peer import consume_process, produce_process

    count = 500_000
    context = multiprocessing.get_context("spawn")
    with SharedRing.create(name, 4096):
        consumer = context.Process(target=consume_process, args=(name, count))
        producer = context.Process(target=produce_process, args=(name, count))
        consumer.start()
        producer.start()
        producer.join(WAIT)
        consumer.join(WAIT)
        for process in (producer, consumer):
            if process.is_alive():
                process.kill()
                process.join()
        assert producer.exitcode == 0
        assert consumer.exitcode == 0


def _spawn_peer(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, PEER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for_line(process: subprocess.Popen, expected: str) -> None:
    line = process.stdout.readline()  # the peer prints one line, or exits
    if line.strip() != expected:
        process.kill()
        _, err = process.communicate(timeout=WAIT)
        raise AssertionError(f"peer said {line!r} (stderr: {err})")


def test_a_killed_consumer_is_replaced_without_losing_or_repeating_records(name):
    """The consumer pops exactly 12,345 records and is SIGKILLed with the ring
    open while the producer still has more queued; a new consumer gets
    exactly the next record onward."""
    with SharedRing.create(name, 65536) as producer:
        assert producer.push_many(seq_records(0, 30_000)) == 30_000
        first = _spawn_peer("consume-then-wait", name, "0", "12345")
        try:
            _wait_for_line(first, "consumed")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(WAIT)
        assert first.returncode == -signal.SIGKILL
        assert len(producer) == 30_000 - 12_345
        assert producer.push_many(seq_records(30_000, 40_000)) == 10_000
        with SharedRing.open(name) as second:
            out = second.pop_many(100_000)
            check_records(out, 12_345)
            assert len(out) == 40_000 - 12_345
            assert second.pop() is None


def test_a_consumer_killed_at_a_random_moment_leaves_a_consistent_ring(name):
    """Killed mid-stream at an arbitrary point: whatever it had popped is
    gone from the ring, and the rest is there in order with no gap."""
    total = 200_000
    with SharedRing.create(name, 262144) as producer:
        assert producer.push_many(seq_records(0, total)) == total
        consumer = _spawn_peer("consume-slowly", name)
        try:
            _wait_for_line(consumer, "started")
            deadline = time.monotonic() + WAIT
            while len(producer) > total - 5_000:
                if consumer.poll() is not None:
                    raise AssertionError(consumer.stderr.read())
                assert time.monotonic() < deadline, "the consumer made no progress"
            consumer.send_signal(signal.SIGKILL)
        finally:
            consumer.kill()
            consumer.wait(WAIT)
        left = len(producer)
        assert 0 < left < total
        with SharedRing.open(name) as replacement:
            out = replacement.pop_many(total)
        assert len(out) == left
        check_records(out, total - left)


_operation = st.one_of(
    st.tuples(st.just("push"), st.integers(0, 2**32 - 1)),
    st.tuples(st.just("push_many"), st.integers(0, 12)),
    st.tuples(st.just("pop"), st.just(0)),
    st.tuples(st.just("pop_many"), st.integers(0, 12)),
)


@settings(max_examples=60, deadline=None)
@given(capacity_log2=st.integers(0, 4), operations=st.lists(_operation, max_size=60))
def test_the_ring_behaves_like_a_bounded_fifo(capacity_log2, operations):
    """Any sequence of pushes and pops agrees with a bounded deque model."""
    capacity = 1 << capacity_log2
    ring_name = f"pyrt-test-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    model: deque = deque()
    sent = 0
    try:
        with SharedRing.create(ring_name, capacity) as ring:
            for op, arg in operations:
                if op == "push":
                    ok = ring.push(arg, float(sent), 1.0, sent)
                    assert ok == (len(model) < capacity)
                    if ok:
                        model.append((arg, sent))
                        sent += 1
                elif op == "push_many":
                    batch = seq_records(sent, sent + arg)
                    pushed = ring.push_many(batch)
                    assert pushed == min(arg, capacity - len(model))
                    model.extend((int(r["symbol_id"]), int(r["timestamp_us"])) for r in batch[:pushed])
                    sent += pushed
                elif op == "pop":
                    got = ring.pop()
                    if model:
                        assert (got.symbol_id, got.timestamp_us) == model.popleft()
                    else:
                        assert got is None
                else:
                    out = ring.pop_many(arg)
                    expected = [model.popleft() for _ in range(min(arg, len(model)))]
                    assert [(int(r["symbol_id"]), int(r["timestamp_us"])) for r in out] == expected
                assert len(ring) == len(model)
    finally:
        SharedRing.unlink(ring_name, missing_ok=True)
