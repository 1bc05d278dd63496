"""The shared-memory ring under abuse: threads sharing one handle, close
during calls, copies, and a second process that shrinks or corrupts the
ring's file. Each case runs in its own process (see child.py)."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from child import run_in_child  # noqa: E402


def test_threads_pushing_through_one_handle_never_tear_records():
    run_in_child('''
        name = ring_name()
        producer = SharedRing.create(name, 1 << 16)
        consumer = SharedRing.open(name)
        per_thread = 5000
        def push(t):
            for i in range(per_thread):
                v = t * per_thread + i
                assert producer.push(v, float(v), -float(v), v)
        def push_many(t):
            t += 4
            rows = np.zeros(100, dtype=RECORD_DTYPE)
            for start in range(0, per_thread, 100):
                v = np.arange(t * per_thread + start, t * per_thread + start + 100)
                rows["symbol_id"], rows["price"], rows["volume"], rows["timestamp_us"] = v, v, -v.astype(float), v
                assert producer.push_many(rows) == 100
        run_threads(lambda i: push(i) if i < 4 else push_many(i - 4), 6)
        got = consumer.pop_many(1 << 16)
        assert len(got) == 6 * per_thread, len(got)
        ids = got["symbol_id"].astype(np.int64)
        assert (got["price"] == ids).all() and (got["volume"] == -ids).all() and (got["timestamp_us"] == ids).all()
        assert sorted(ids.tolist()) == list(range(6 * per_thread))
        SharedRing.unlink(name)
    ''')


def test_two_threads_popping_from_one_handle_take_each_record_once():
    run_in_child('''
        name = ring_name()
        ring = SharedRing.create(name, 1 << 15)
        n = 20000
        rows = np.zeros(n, dtype=RECORD_DTYPE)
        rows["symbol_id"] = np.arange(n)
        rows["price"] = np.arange(n)
        assert ring.push_many(rows) == n
        seen = [[], []]
        def pop(i):
            while True:
                if i == 0:
                    r = ring.pop()
                    if r is None:
                        return
                    assert r.price == r.symbol_id
                    seen[i].append(r.symbol_id)
                else:
                    batch = ring.pop_many(7)
                    if len(batch) == 0:
                        return
                    assert (batch["price"] == batch["symbol_id"]).all()
                    seen[i].extend(batch["symbol_id"].tolist())
        run_threads(pop, 2)
        assert sorted(seen[0] + seen[1]) == list(range(n))
        SharedRing.unlink(name)
    ''')


def test_close_while_other_threads_are_inside_calls():
    run_in_child('''
        for round in range(20):
            name = ring_name()
            ring = SharedRing.create(name, 1024)
            outcomes = []
            def hammer(i):
                # Until the close reaches this thread (or a deadline).
                deadline = time.time() + 10
                try:
                    while time.time() < deadline:
                        if i % 2:
                            ring.push(1, 2.0, 3.0, 4)
                            ring.push_many(np.zeros(64, dtype=RECORD_DTYPE))
                        else:
                            ring.pop_many(512)
                            ring.pop()
                            len(ring)
                except ValueError as exc:
                    outcomes.append(str(exc))
            threads = [threading.Thread(target=hammer, args=(i,)) for i in range(4)]
            for t in threads:
                t.start()
            time.sleep(0.01)
            ring.close()
            for t in threads:
                t.join(15)
            assert len(outcomes) == 4 and all("ring: is closed" in o for o in outcomes), outcomes
            for call in (lambda: ring.push(1, 1.0, 1.0, 1), ring.pop, lambda: ring.pop_many(3), lambda: len(ring)):
                try:
                    call()
                    raise AssertionError("a closed ring answered")
                except ValueError as exc:
                    assert "ring: is closed" in str(exc), exc
            assert ring.closed and ring.capacity == 1024
            ring.close()
            SharedRing.unlink(name)
    ''')


def test_copies_are_refused_and_the_original_keeps_working():
    run_in_child('''
        name = ring_name()
        ring = SharedRing.create(name, 8)
        for dup in (copy.copy, copy.deepcopy, pickle.dumps):
            try:
                dup(ring)
                raise AssertionError(f"{dup.__name__} made a second owner")
            except TypeError as exc:
                assert "SharedRing" in str(exc)
        assert ring.push(1, 2.0, 3.0, 4)
        assert ring.pop().price == 2.0
        ring.close()
        SharedRing.unlink(name)
    ''')


def test_a_ring_truncated_by_another_process_fails_in_every_process():
    run_in_child('''
        import subprocess
        name = ring_name()
        producer = SharedRing.create(name, 4096)
        consumer = SharedRing.open(name)
        for i in range(100):
            producer.push(i, 1.0, 1.0, i)
        # A peer process holding the ring open, then another shrinking it.
        peer = subprocess.Popen([sys.executable, "-c", f"""
import sys, time
from pyrt.ipc import SharedRing
ring = SharedRing.open({name!r})
print("open", flush=True)
sys.stdin.readline()
try:
    ring.pop_many(10)
    print("no error")
except ValueError as exc:
    print("error:", exc)
"""], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert peer.stdout.readline().strip() == "open"
        subprocess.run([sys.executable, "-c", f"import os; os.truncate('/dev/shm/{name}', 100)"], check=True)
        for call in (lambda: producer.push(1, 1.0, 1.0, 1), lambda: consumer.pop(), lambda: len(producer),
                     lambda: consumer.pop_many(10), lambda: producer.push_many(np.zeros(3, dtype=RECORD_DTYPE))):
            try:
                call()
                raise AssertionError("a truncated ring answered")
            except PyrtStateError as exc:
                assert "truncated by another process" in str(exc), exc
        out, _ = peer.communicate("go\\n", timeout=30)
        assert peer.returncode == 0 and "truncated by another process" in out, (peer.returncode, out)
        assert "unusable" in repr(producer)
        # Re-opening the shrunk file is refused by its size.
        try:
            SharedRing.open(name)
            raise AssertionError("opened a truncated ring")
        except PyrtStateError as exc:
            assert "smaller than a ring header" in str(exc), exc
        producer.close(); consumer.close()
        SharedRing.unlink(name)
    ''')


def test_a_ring_shrunk_under_a_hot_loop_fails_cleanly():
    run_in_child('''
        import subprocess
        for size in (0, 192, 4096):
            name = ring_name()
            ring = SharedRing.create(name, 1 << 14)
            stop = threading.Event()
            errors = []
            def loop(i):
                try:
                    while not stop.is_set():
                        ring.push(1, 1.0, 1.0, 1)
                        ring.pop()
                        ring.push_many(np.zeros(32, dtype=RECORD_DTYPE))
                        ring.pop_many(64)
                except PyrtStateError as exc:
                    errors.append(str(exc))
            threads = [threading.Thread(target=loop, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            time.sleep(0.02)
            subprocess.run([sys.executable, "-c", f"import os; os.truncate('/dev/shm/{name}', {size})"], check=True)
            deadline = time.time() + 10
            while len(errors) < 2 and time.time() < deadline:
                time.sleep(0.01)
            stop.set()
            for t in threads:
                t.join(10)
            assert len(errors) == 2 and all("truncated" in e for e in errors), (size, errors)
            ring.close()
            SharedRing.unlink(name)
    ''')


def test_corrupted_cursors_and_headers_are_refused():
    run_in_child('''
        import struct
        name = ring_name()
        ring = SharedRing.create(name, 64)
        for i in range(10):
            ring.push(i, 1.0, 1.0, i)
        path = f"/dev/shm/{name}"
        with open(path, "r+b") as f:
            f.seek(lib.PYRT_RING_PRODUCER_CURSOR_OFFSET)
            f.write(struct.pack("<Q", 10**12))
        try:
            ring.pop()
            raise AssertionError("corrupt cursors were trusted")
        except PyrtStateError as exc:
            assert "cursors are inconsistent" in str(exc), exc
        try:
            SharedRing.open(name)
            raise AssertionError("opened a ring with corrupt cursors")
        except PyrtStateError as exc:
            assert "cursors are inconsistent" in str(exc), exc
        with open(path, "r+b") as f:
            f.write(os.urandom(64))
        try:
            SharedRing.open(name)
            raise AssertionError("opened a ring with a garbage header")
        except PyrtStateError as exc:
            assert "not a pyrt ring" in str(exc), exc
        ring.close()
        SharedRing.unlink(name)
    ''')


def test_absurd_ring_arguments_are_refused_quickly():
    run_in_child('''
        start = time.time()
        for bad in ("a\\0b", "x" * 300, "a/b", "", 5):
            try:
                SharedRing.create(bad, 8)
                raise AssertionError(f"created ring {bad!r}")
            except ValueError as exc:
                assert str(exc).startswith("name"), exc
        for capacity in (0, 3, -1, 2**31, 2**64, 2**200, True, 1.5):
            try:
                SharedRing.create(ring_name(), capacity)
                raise AssertionError(f"created a ring of capacity {capacity!r}")
            except ValueError as exc:
                assert str(exc).startswith("capacity"), exc
        free = os.statvfs("/dev/shm")
        if free.f_bavail * free.f_frsize < (1 << 30) * 32:
            try:
                SharedRing.create(ring_name(), 1 << 30)
                raise AssertionError("created a ring larger than the free shared memory")
            except ValueError as exc:
                assert "free" in str(exc), exc
        try:
            SharedRing.open(ring_name())
            raise AssertionError("opened a missing ring")
        except ValueError as exc:
            assert exc.status == lib.PYRT_NOT_FOUND, exc.status
        name = ring_name()
        ring = SharedRing.create(name, 8)
        assert len(ring.pop_many(10**15)) == 0
        ring.close()
        SharedRing.unlink(name)
        SharedRing.unlink(name, missing_ok=True)
        assert time.time() - start < 10
    ''')


def test_truncation_is_caught_with_faulthandler_enabled_before_or_after():
    # faulthandler also handles SIGBUS: pyrt's handler must come first, and
    # comes first again when a ring is opened after faulthandler was enabled.
    run_in_child('''
        import faulthandler, subprocess
        faulthandler.enable()
        name = ring_name()
        ring = SharedRing.create(name, 1024)
        faulthandler.disable()
        faulthandler.enable()          # now in front of pyrt's handler ...
        other = SharedRing.open(name)  # ... until the next ring is mapped
        os.truncate(f"/dev/shm/{name}", 0)
        for handle in (ring, other):
            try:
                handle.push(1, 1.0, 1.0, 1)
                raise AssertionError("a truncated ring answered")
            except PyrtStateError as exc:
                assert "truncated" in str(exc), exc
        ring.close(); other.close()
        SharedRing.unlink(name)
    ''')


def test_a_fault_outside_any_ring_still_reaches_the_default_action():
    # pyrt's SIGBUS handler only acts on ring mappings: a program's own
    # mapping of a shrunk file must still die of SIGBUS, not hang or go on.
    import signal
    import subprocess
    import tempfile
    code = '''
import mmap, os, sys, tempfile
from pyrt.ipc import SharedRing
name = f"pyrt-stress-{os.getpid()}"
ring = SharedRing.create(name, 8)   # installs pyrt's handler
SharedRing.unlink(name)
with tempfile.TemporaryFile() as f:
    f.truncate(1 << 16)
    m = mmap.mmap(f.fileno(), 1 << 16)
    f.truncate(0)
    print("reading", flush=True)
    m[40000]
print("survived")
'''
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=folder)
    assert done.returncode == -signal.SIGBUS, (done.returncode, done.stdout, done.stderr)
    assert "reading" in done.stdout and "survived" not in done.stdout
