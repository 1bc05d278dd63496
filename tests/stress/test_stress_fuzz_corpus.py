"""Replays the inputs `make fuzz` kept (fuzz/corpus/<target>) through the
public entry points, in a child process: crafted ring files opened (and
shrunk while open), peer frames received by a real subscriber and command
receiver, saved stream states loaded. Each must end in a value or a clear
error."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from child import run_in_child  # noqa: E402

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "fuzz", "corpus")


def corpus_of(target: str) -> str:
    folder = os.path.abspath(os.path.join(CORPUS, target))
    assert len(os.listdir(folder)) >= 3, f"{folder}: the fuzz corpus is missing"
    return folder


def test_crafted_ring_files_are_refused_or_served():
    run_in_child(f'''
        from pyrt._core import PyrtError
        folder = {corpus_of("ring_open")!r}
        name = ring_name()
        path = f"/dev/shm/{{name}}"
        opened = 0
        for entry in sorted(os.listdir(folder)):
            data = open(os.path.join(folder, entry), "rb").read()
            control, region = (data[0], data[1:]) if data else (0, b"")
            with open(path, "wb") as f:
                f.write(region)
            try:
                ring = SharedRing.open(name)
            except ValueError:
                continue
            opened += 1
            if control & 1:
                os.truncate(path, (control >> 1) * 8)
            for call in (lambda: len(ring), lambda: ring.pop_many(8), ring.pop,
                         lambda: ring.push(1, 1.0, 1.0, 1), lambda: ring.push_many(np.zeros(8, dtype=RECORD_DTYPE))):
                try:
                    call()
                except PyrtError as exc:
                    assert isinstance(exc, ValueError), exc
            ring.close()
        os.remove(path)
        assert opened >= 1, "no corpus entry is a valid ring"
    ''')


def test_peer_frames_never_stop_a_subscriber_or_a_command_receiver():
    run_in_child(f'''
        import zmq
        folder = {corpus_of("message_decode")!r}
        frames = [open(os.path.join(folder, e), "rb").read() for e in sorted(os.listdir(folder))]
        context = zmq.Context()
        raw = context.socket(zmq.XPUB)
        raw.setsockopt(zmq.LINGER, 0)
        raw.setsockopt(zmq.SNDHWM, 0)
        port = raw.bind_to_random_port("tcp://127.0.0.1")
        sub = Subscriber(f"tcp://127.0.0.1:{{port}}", ["*"], rcvhwm=0)
        raw.setsockopt(zmq.RCVTIMEO, 5000)
        assert raw.recv() == b"\\x01"
        topics = [b"market.X", b"fills", b"positions", b"signals", b"orders"]
        for data in frames:
            for topic in topics:
                raw.send_multipart([topic, data])
        raw.send_multipart([b"fills", b"\\x0a\\x03end"])
        received = 0
        while True:
            kind, message = sub.receive(10000)
            assert kind is not None, "the subscriber stopped serving"
            received += 1
            if kind == "fill" and message.order_id == "end":
                break
        assert received + sub.decode_errors == len(frames) * len(topics) + 1, (received, sub.decode_errors)
        sub.close()

        receiver = CommandReceiver("tcp://127.0.0.1:*")
        req = context.socket(zmq.REQ)
        req.setsockopt(zmq.LINGER, 0)
        req.setsockopt(zmq.RCVTIMEO, 5000)
        req.connect(receiver.endpoint)
        accepted = 0
        for data in frames:
            req.send(data)
            # Serve until this request is answered (a refused one does not
            # end a receive: the receiver goes on waiting for a valid one).
            deadline = time.time() + 10
            while not req.poll(0):
                assert time.time() < deadline, "a request was never answered"
                accepted += receiver.receive(1) is not None
            assert req.recv()   # an acknowledgement or a refusal, never silence
        assert accepted + receiver.decode_errors == len(frames)
        receiver.close(); req.close(); raw.close(); context.term()
    ''', timeout=120)


def test_saved_stream_states_load_or_are_refused():
    run_in_child(f'''
        folder = {corpus_of("stream_load")!r}
        loaded = 0
        for entry in sorted(os.listdir(folder)):
            data = open(os.path.join(folder, entry), "rb").read()
            out = ffi.new("PyrtStream **")
            status = lib.pyrt_stream_load(data, len(data), out)
            if status != lib.PYRT_OK:
                assert status in (lib.PYRT_INVALID_STATE, lib.PYRT_INVALID_ARGUMENT, lib.PYRT_NOT_FOUND), status
                continue
            loaded += 1
            tick = ffi.new("double[]", [100.0, 101.0, 99.0, 100.5, 1000.0, 7.0])
            result = ffi.new("double[]", 6)
            for n_in in range(1, 7):
                for n_out in range(1, 7):
                    lib.pyrt_stream_update(out[0], tick, n_in, result, n_out)
            lib.pyrt_stream_close(out[0])
            lib.pyrt_stream_free(out[0])
        assert loaded >= 1, "no corpus entry is a valid saved state"
    ''')
