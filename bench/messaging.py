"""Messaging throughput and command latency, pyrt against the specification's style.

Ticks per second from a pyrt Publisher (in its own process) to:
  (a) a pyrt Subscriber with receive_batch() into a NumPy structured array,
  (b) a pyrt Subscriber with receive(), one message at a time,
  (c) the specification's subscriber (section 2.3): pyzmq SUB, recv topic and
      payload, decode with the protobuf runtime, per message. The anchor.
The publisher sends as fast as it can with unlimited high-water marks on both
sides, so nothing should be dropped; the table shows how many ticks arrived.
A rate is ticks received over the time from the first to the last tick.

Then the round trip of a command and its acknowledgement (CommandSender ->
CommandReceiver in another process, over tcp://127.0.0.1), p50 to p99.9, next
to the same exchange written with pyzmq REQ/REP and the protobuf runtime, with
the load average: on a shared machine the tail percentiles follow the load.

Run: .venv/bin/python bench/messaging.py [--quick] [--latency] (--latency: only
the command round trip). Asserts nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Callable

# NumPy's OpenBLAS threads spin for a while after start-up; nothing here uses
# BLAS, and on a small machine they would steal cycles from the processes timed.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from pyrt import messaging  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, "tests", "proto"))

REPEATS = 5
IDLE_MS = 1000
LATENCY_WARMUP = 1000
LATENCY_BLOCK = 1000


def make_ticks(n: int) -> np.ndarray:
    ticks = np.zeros(n, dtype=messaging.TICK_DTYPE)
    ticks["timestamp_us"] = 1_700_000_000_000_000 + np.arange(n)
    ticks["bid"] = 100.0 + np.sin(np.arange(n) * 1e-3)
    ticks["ask"] = ticks["bid"] + 0.01
    ticks["last"] = ticks["bid"] + 0.005
    ticks["volume"] = 1.5
    ticks["symbol"] = b"BTC/USD"
    ticks["exchange"] = b"BINANCE"
    return ticks


# ---- child processes -----------------------------------------------------------

def run_publisher(count: int) -> None:
    """Binds, tells the parent its endpoint, waits for one subscriber, sends."""
    ticks = make_ticks(min(count, 100_000))
    with messaging.Publisher("tcp://127.0.0.1:*", sndhwm=0) as pub:
        print(pub.endpoint, flush=True)
        pub.wait_for_subscribers(1, 30_000)
        sent = 0
        while sent < count:
            chunk = ticks[: min(len(ticks), count - sent)]
            pub.publish_ticks(chunk)
            sent += len(chunk)
        # Let the I/O thread flush before the process exits.
        time.sleep(1.0)


def run_command_receiver() -> None:
    with messaging.CommandReceiver("tcp://127.0.0.1:*") as receiver:
        print(receiver.endpoint, flush=True)
        while True:
            command = receiver.receive(10_000)
            if command is None or command.type == messaging.CommandType.STOP_TRADING:
                return


def run_pyzmq_command_receiver() -> None:
    """The same receiver in the specification's style: pyzmq REP + protobuf."""
    import zmq
    from messages_pb2 import Command

    context = zmq.Context()
    socket = context.socket(zmq.REP)
    port = socket.bind_to_random_port("tcp://127.0.0.1")
    print(f"tcp://127.0.0.1:{port}", flush=True)
    socket.setsockopt(zmq.RCVTIMEO, 10_000)
    while True:
        try:
            frame = socket.recv()
        except zmq.Again:
            return
        command = Command()
        command.ParseFromString(frame)
        ack = Command(type=command.type, payload='{"status": "ok"}', timestamp_us=command.timestamp_us)
        socket.send(ack.SerializeToString())
        if command.type == Command.STOP_TRADING:
            return


def spawn(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), *args],
                            stdout=subprocess.PIPE, text=True)
    endpoint = proc.stdout.readline().strip()
    return proc, endpoint


# ---- subscribers ---------------------------------------------------------------

def consume_batches(endpoint: str, count: int) -> tuple[int, int, float]:
    """Returns (ticks received, ticks received after the first batch, seconds
    from the first batch to the last)."""
    with messaging.Subscriber(endpoint, ["market.BTC/USD"], rcvhwm=0) as sub:
        first_batch = sub.receive_batch(65536, 30_000)
        first = last = time.perf_counter()
        received = len(first_batch)
        while 0 < received < count:
            batch = sub.receive_batch(65536, IDLE_MS)
            if len(batch) == 0:
                break
            received += len(batch)
            last = time.perf_counter()
        return received, received - len(first_batch), last - first


def consume_receive(endpoint: str, count: int) -> tuple[int, int, float]:
    with messaging.Subscriber(endpoint, ["market.BTC/USD"], rcvhwm=0) as sub:
        receive = sub.receive
        kind, _ = receive(30_000)
        first = time.perf_counter()
        received = 0 if kind is None else 1
        while received and received < count:
            kind, tick = receive(IDLE_MS)
            if kind is None:
                break
            received += 1
        return received, received - 1, time.perf_counter() - first


def consume_spec_style(endpoint: str, count: int) -> tuple[int, int, float]:
    """Section 2.3 of the specification: pyzmq + protobuf, one message per call."""
    import zmq
    from messages_pb2 import FillReport, MarketTick, PositionSnapshot

    context = zmq.Context()
    socket = context.socket(zmq.SUB)
    socket.setsockopt(zmq.RCVHWM, 0)
    socket.connect(endpoint)
    socket.subscribe(b"market.BTC/USD")

    def receive_message(timeout_ms: int):
        socket.setsockopt(zmq.RCVTIMEO, timeout_ms)
        try:
            topic = socket.recv_string()
            payload = socket.recv()
        except zmq.Again:
            return None, None
        if topic == "fills":
            fill = FillReport()
            fill.ParseFromString(payload)
            return "fill", fill
        if topic == "positions":
            position = PositionSnapshot()
            position.ParseFromString(payload)
            return "position", position
        if topic.startswith("market."):
            tick = MarketTick()
            tick.ParseFromString(payload)
            return "market_data", tick
        return None, None

    kind, _ = receive_message(30_000)
    first = time.perf_counter()
    received = 0 if kind is None else 1
    while received and received < count:
        kind, _ = receive_message(IDLE_MS)
        if kind is None:
            break
        received += 1
    elapsed = time.perf_counter() - first
    socket.close(linger=0)
    context.term()
    return received, received - 1, elapsed


def measure(consumer, count: int) -> tuple[float, int]:
    """Best rate over REPEATS runs, each with a fresh publisher process."""
    best_rate, best_received = 0.0, 0
    for _ in range(REPEATS):
        proc, endpoint = spawn("publish", str(count))
        received, timed, elapsed = consumer(endpoint, count)
        proc.wait(timeout=60)
        rate = timed / elapsed if elapsed > 0 else 0.0
        if rate > best_rate:
            best_rate, best_received = rate, received
    return best_rate, best_received


def pyrt_command_channel() -> tuple[Callable[[int, dict], None], Callable[[], None]]:
    """pyrt CommandSender -> pyrt CommandReceiver (another process): (send, close)."""
    proc, endpoint = spawn("commands")
    sender = messaging.CommandSender(endpoint)

    def send(command_type: int, payload: dict) -> None:
        sender.send(command_type, payload, timeout_ms=10_000)

    def close() -> None:
        send(messaging.CommandType.STOP_TRADING, {})
        sender.close()
        proc.wait(timeout=30)

    return send, close


def pyzmq_command_channel() -> tuple[Callable[[int, dict], None], Callable[[], None]]:
    """The anchor: pyzmq REQ + protobuf -> pyzmq REP + protobuf (another process)."""
    import json

    import zmq
    from messages_pb2 import Command

    proc, endpoint = spawn("pyzmq-commands")
    context = zmq.Context()
    socket = context.socket(zmq.REQ)
    socket.connect(endpoint)

    def send(command_type: int, payload: dict) -> None:
        request = Command(type=command_type, payload=json.dumps(payload), timestamp_us=time.time_ns() // 1000)
        socket.send(request.SerializeToString())
        ack = Command()
        ack.ParseFromString(socket.recv())
        assert ack.timestamp_us == request.timestamp_us

    def close() -> None:
        send(Command.STOP_TRADING, {})
        socket.close(linger=0)
        context.term()
        proc.wait(timeout=30)

    return send, close


def command_latency(n: int) -> dict[str, np.ndarray]:
    """Round trips in microseconds: n commands through each channel, after a
    warm-up. The channels take turns in blocks of LATENCY_BLOCK commands
    (ABBA order), so a change of load on the machine falls on both alike."""
    channels = {"pyrt CommandSender -> CommandReceiver": pyrt_command_channel(),
                "pyzmq REQ/REP + protobuf (anchor)": pyzmq_command_channel()}
    samples = {name: np.empty(n) for name in channels}
    update = int(messaging.CommandType.UPDATE_STRATEGY)
    for send, _ in channels.values():
        for _ in range(LATENCY_WARMUP):
            send(update, {"warmup": True})
    order = list(channels)
    for block, start in enumerate(range(0, n, LATENCY_BLOCK)):
        for name in (order if block % 2 == 0 else order[::-1]):
            send = channels[name][0]
            out = samples[name]
            for i in range(start, min(start + LATENCY_BLOCK, n)):
                begin = time.perf_counter_ns()
                send(update, {"fast": 12, "slow": 26})
                out[i] = (time.perf_counter_ns() - begin) / 1000.0
    for _, close in channels.values():
        close()
    return samples


def print_command_latency(n: int) -> None:
    load_before = os.getloadavg()
    samples = command_latency(n)
    load_after = os.getloadavg()
    print(f"\ncommand round trip, acknowledged, receiver in another process: {n} commands each "
          f"after {LATENCY_WARMUP} of warm-up, in alternating blocks of {LATENCY_BLOCK}")
    print(f"{'':<38} {'p50 (us)':>10} {'p90 (us)':>10} {'p99 (us)':>10} {'p99.9 (us)':>11}")
    for name, values in samples.items():
        p50, p90, p99, p999 = np.percentile(values, [50, 90, 99, 99.9])
        print(f"{name:<38} {p50:>10.1f} {p90:>10.1f} {p99:>10.1f} {p999:>11.1f}")
    print("load average (1, 5, 15 min): before " + " ".join(f"{x:.2f}" for x in load_before)
          + ", after " + " ".join(f"{x:.2f}" for x in load_after) + f", on {os.cpu_count()} CPUs")


def main() -> None:
    quick = "--quick" in sys.argv
    n = 2000 if quick else 20_000
    if "--latency" in sys.argv:
        print_command_latency(n)
        return
    fast_n = 400_000 if quick else 2_000_000
    slow_n = 100_000 if quick else 300_000
    rows = [
        ("(a) pyrt receive_batch -> NumPy", consume_batches, fast_n),
        ("(b) pyrt receive()", consume_receive, slow_n),
        ("(c) spec: pyzmq + protobuf (anchor)", consume_spec_style, slow_n),
    ]
    results = [(name, n, *measure(consumer, n)) for name, consumer, n in rows]
    anchor = results[-1][2]
    print(f"\nmessaging: ticks/s from a pyrt Publisher (own process), best of {REPEATS}")
    print(f"{'subscriber':<38} {'sent':>10} {'received':>10} {'M ticks/s':>10} {'vs anchor':>10}")
    for name, sent, rate, received in results:
        print(f"{name:<38} {sent:>10} {received:>10} {rate / 1e6:>10.3f} {rate / anchor:>9.1f}x")
    print_command_latency(n)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "publish":
        run_publisher(int(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "commands":
        run_command_receiver()
    elif len(sys.argv) > 1 and sys.argv[1] == "pyzmq-commands":
        run_pyzmq_command_receiver()
    else:
        main()
