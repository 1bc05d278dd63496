"""Publishers, subscribers and the command channel under abuse: threads
sharing one object, close during a blocking call, copies, hostile pyzmq
peers (garbage, oversized frames, unknown command types), huge topics, NUL
strings and bad endpoints. Each case runs in its own process."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from child import run_in_child  # noqa: E402


def test_two_threads_receiving_batches_from_one_subscriber():
    run_in_child('''
        pub = Publisher("tcp://127.0.0.1:*", sndhwm=0)
        sub = Subscriber(pub.endpoint, ["market."], rcvhwm=0)
        pub.wait_for_subscribers(1, 5000)
        n = 20000
        got = [[], []]
        done = threading.Event()
        def receive(i):
            # One thread takes batches, the other single messages, until the
            # publisher is done and the queue is drained.
            while True:
                if i == 0:
                    bids = sub.receive_batch(64, 200)["bid"].tolist()
                else:
                    kind, tick = sub.receive(200)
                    bids = [] if kind is None else [tick.bid]
                got[i].extend(bids)
                if not bids and done.is_set():
                    return
        threads = [threading.Thread(target=receive, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for i in range(n):
            pub.publish_tick(symbol="BTC/USD", bid=float(i))
        time.sleep(0.5)
        done.set()
        for t in threads:
            t.join(30)
            assert not t.is_alive()
        received = sorted(got[0] + got[1])
        assert received == [float(i) for i in range(n)], (len(received), n)
        sub.close(); pub.close()
    ''')


def test_threads_sharing_one_publisher_and_one_command_sender():
    run_in_child('''
        receiver = CommandReceiver("tcp://127.0.0.1:*")
        sender = CommandSender(receiver.endpoint)
        stop = threading.Event()
        commands = []
        def serve():
            while not stop.is_set():
                c = receiver.receive(100)
                if c is not None:
                    commands.append(c)
        server = threading.Thread(target=serve)
        server.start()
        def send(i):
            for k in range(30):
                sender.send("UPDATE_STRATEGY", {"thread": i, "k": k}, timeout_ms=10000)
        run_threads(send, 3)
        stop.set()
        server.join(10)
        assert len(commands) == 90, len(commands)
        assert sorted((c.data["thread"], c.data["k"]) for c in commands) == [(i, k) for i in range(3) for k in range(30)]

        pub = Publisher("tcp://127.0.0.1:*", sndhwm=0)
        sub = Subscriber(pub.endpoint, ["fills"], rcvhwm=0)
        pub.wait_for_subscribers(1, 5000)
        def publish(i):
            for k in range(500):
                pub.publish_fill(order_id=f"{i}-{k}", fill_price=1.0)
        run_threads(publish, 4)
        ids = set()
        while len(ids) < 2000:
            kind, fill = sub.receive(5000)
            assert kind == "fill", kind
            ids.add(fill.order_id)
        for o in (sender, receiver, pub, sub):
            o.close()
    ''')


def test_close_ends_a_receive_or_send_waiting_in_another_thread():
    run_in_child('''
        pub = Publisher("tcp://127.0.0.1:*")
        sub = Subscriber(pub.endpoint, ["*"])
        receiver = CommandReceiver("tcp://127.0.0.1:*")
        sender = CommandSender("tcp://127.0.0.1:1")   # nobody answers there
        calls = {
            "subscriber": (sub, lambda: sub.receive(-1)),
            "batch": (sub, lambda: sub.receive_batch(10, -1)),
            "command receiver": (receiver, lambda: receiver.receive(-1)),
            "command sender": (sender, lambda: sender.send("START_TRADING", timeout_ms=-1)),
            "publisher": (pub, lambda: pub.wait_for_subscribers(5, -1)),
        }
        for what, (obj, call) in calls.items():
            errors = []
            def blocked():
                try:
                    call()
                except ValueError as exc:
                    errors.append(str(exc))
            t = threading.Thread(target=blocked)
            t.start()
            time.sleep(0.2)
            started = time.time()
            obj.close()
            t.join(5)
            assert not t.is_alive(), f"{what}: a blocked call survived close"
            assert time.time() - started < 3, what
            assert errors and "closed" in errors[0], (what, errors)
            try:
                call()
                raise AssertionError(f"{what}: a closed object answered")
            except ValueError as exc:
                assert "closed" in str(exc), exc
    ''')


def test_copies_of_messaging_objects_are_refused():
    run_in_child('''
        pub = Publisher("tcp://127.0.0.1:*")
        objects = [pub, Subscriber(pub.endpoint, ["*"]), CommandReceiver("tcp://127.0.0.1:*")]
        objects.append(CommandSender(objects[2].endpoint))
        for obj in objects:
            for dup in (copy.copy, copy.deepcopy, pickle.dumps):
                try:
                    dup(obj)
                    raise AssertionError(f"{dup.__name__} copied a {type(obj).__name__}")
                except TypeError:
                    pass
        pub.publish_tick(symbol="X")   # the original still works
        for obj in objects:
            with obj:
                pass
            assert obj.closed
    ''')


def test_hostile_peers_cannot_crash_or_stall_a_subscriber():
    run_in_child('''
        import resource
        import zmq
        from pyrt.messaging import DEFAULT_MAX_MESSAGE_SIZE
        context = zmq.Context()
        hostile = context.socket(zmq.XPUB)
        hostile.setsockopt(zmq.LINGER, 0)
        hostile.setsockopt(zmq.SNDHWM, 0)
        port = hostile.bind_to_random_port("tcp://127.0.0.1")
        sub = Subscriber(f"tcp://127.0.0.1:{port}", ["*"], rcvhwm=0)
        assert sub.max_message_size == DEFAULT_MAX_MESSAGE_SIZE
        hostile.setsockopt(zmq.RCVTIMEO, 5000)
        assert hostile.recv() == b"\\x01"
        big = b"\\x0a" + os.urandom(25 * 1024 * 1024)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for i in range(12):
            hostile.send_multipart([b"fills", big])
            if i % 3 == 0:
                hostile.send_multipart([b"fills", os.urandom(200)])          # garbage payload
                hostile.send_multipart([os.urandom(100)])                      # one frame
                hostile.send_multipart([b"x", b"y", b"z"])                     # three frames
                hostile.send_multipart([b"market." + b"A" * 100000, b"\\x0a\\x01A"])  # long topic
        valid = b"\\x0a\\x02ok"   # FillReport(order_id="ok")
        hostile.send_multipart([b"fills", valid])
        while True:
            kind, message = sub.receive(10000)
            assert kind is not None, "the subscriber stopped serving"
            if kind == "fill" and message.order_id == "ok":
                break
        assert sub.oversized == 12, sub.oversized
        assert sub.decode_errors >= 12, sub.decode_errors
        grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        # What libzmq queued before it was read is bounded by rcvhwm messages,
        # not kept: the subscriber does not keep the 300 MB it was sent.
        assert grown_mb < 400, grown_mb
        sub.max_message_size = 64
        hostile.send_multipart([b"fills", valid + b"\\x12\\x60" + b"f" * 96])
        hostile.send_multipart([b"fills", valid])
        assert sub.receive(5000)[0] == "fill"
        assert sub.oversized == 13
        assert "max_message_size" in sub.last_decode_error
        for bad in (0, -1, True, "1"):
            try:
                sub.max_message_size = bad
                raise AssertionError(bad)
            except ValueError:
                pass
        sub.close()
        hostile.close()
        context.term()
    ''', timeout=90)


def test_hostile_command_peers_get_errors_not_acknowledgements():
    run_in_child('''
        import zmq
        sys.path.insert(0, os.path.join(os.getcwd(), os.pardir, "proto"))
        import messages_pb2
        receiver = CommandReceiver("tcp://127.0.0.1:*")
        context = zmq.Context()
        def ask(frames):
            req = context.socket(zmq.REQ)
            req.setsockopt(zmq.LINGER, 0)
            req.setsockopt(zmq.RCVTIMEO, 5000)
            req.connect(receiver.endpoint)
            req.send_multipart(frames)
            assert receiver.receive(500) is None
            reply = messages_pb2.Command.FromString(req.recv())
            req.close()
            return reply.payload
        unknown = messages_pb2.Command(type=99, payload="{}", timestamp_us=1).SerializeToString()
        assert "unknown command type 99" in ask([unknown])
        assert "error" in ask([os.urandom(64)])
        assert "error" in ask([b"a", b"b"])
        assert "error" in ask([b"\\x12" + b"\\xff\\xff\\x7f" + b"x" * (2 * 1024 * 1024)])
        assert receiver.decode_errors == 4
        # The receiver still serves a well-formed command.
        sender = CommandSender(receiver.endpoint)
        worker = threading.Thread(target=lambda: sender.send("STOP_TRADING", timeout_ms=5000))
        worker.start()
        command = None
        while command is None:
            command = receiver.receive(5000)
        worker.join(10)
        assert command.type == 1
        sender.close(); receiver.close(); context.term()
    ''')


def test_strings_endpoints_and_topics_are_checked():
    run_in_child('''
        for endpoint in ("tcp://127.0.0.1:99999", "tcp://127.0.0.1:65536", "tcp://127.0.0.1:-1",
                         "tcp://127.0.0.1", "udp://127.0.0.1:5", "127.0.0.1:5555", "tcp://127.0.0.1:5\\0",
                         "tcp://" + "h" * 2000 + ":1", "ipc:///tmp/" + "p" * 200):
            for make in (lambda: Publisher(endpoint), lambda: Subscriber(endpoint, ["*"]),
                         lambda: CommandSender(endpoint), lambda: CommandReceiver(endpoint)):
                try:
                    make()
                    raise AssertionError(f"accepted {endpoint!r}")
                except ValueError as exc:
                    assert str(exc).startswith(("endpoint", "address")), exc
        pub = Publisher("tcp://127.0.0.1:*")
        assert pub.endpoint.startswith("tcp://127.0.0.1:")
        for call in (lambda: pub.publish_tick(symbol="BTC\\0USD"),
                     lambda: pub.publish_tick(symbol="X", exchange="a\\0"),
                     lambda: pub.publish_fill(order_id="o\\0"),
                     lambda: pub.publish_signal(features={"k\\0": 1.0}),
                     lambda: pub.publish_tick(symbol="S" * 1025),
                     lambda: pub.publish_order(strategy_id="s" * 5000),
                     lambda: pub.publish_signal(features={"k" * 2000: 1.0})):
            try:
                call()
                raise AssertionError("published a bad string")
            except ValueError:
                pass
        for topics in (["t" * 180000], ["a\\0b"], []):
            try:
                Subscriber(pub.endpoint, topics)
                raise AssertionError(f"subscribed to {topics[0][:10] if topics else topics!r}")
            except ValueError as exc:
                assert str(exc).startswith("topics"), exc
        sender = CommandSender(pub.endpoint)
        for bad in ((99, {}), ("BOGUS", {})):
            try:
                sender.send(*bad, timeout_ms=10)
                raise AssertionError(bad)
            except ValueError as exc:
                assert str(exc).startswith("type"), exc
        sub = Subscriber(pub.endpoint, ["*"])
        for bad in (0, -5, 2**40, True):
            try:
                sub.receive_batch(bad, 0)
                raise AssertionError(bad)
            except ValueError as exc:
                assert str(exc).startswith("max_ticks"), exc
        for o in (sender, sub, pub):
            o.close()
    ''')
