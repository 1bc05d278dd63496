"""Streams under abuse: threads sharing one stream, close during calls,
copies, hostile saved state. Each case runs in its own process."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from child import run_in_child  # noqa: E402


def test_one_macd_updated_from_four_threads_is_some_serial_order():
    # Every thread feeds the same value: in any serial order the stream ends
    # where one thread feeding all the values would have ended.
    run_in_child('''
        import pyrt.talib as pt
        for cls in (pyrt.stream.MACD, pyrt.stream.BollingerBands, pyrt.stream.SMA):
            shared = cls()  if cls is not pyrt.stream.SMA else cls(5)
            alone = cls() if cls is not pyrt.stream.SMA else cls(5)
            def feed(i):
                for k in range(5000):
                    shared.update(100.0)
                    shared.update_many(np.full(3, 100.0))
            run_threads(feed, 4)
            for k in range(4 * 5000):
                alone.update(100.0)
                alone.update_many(np.full(3, 100.0))
            assert shared.to_bytes() == alone.to_bytes(), cls
        ticks = pt.stream.ADX(*(np.linspace(10, 20, 100) + d for d in (1.0, -1.0, 0.0)))
        run_threads(lambda i: [ticks.update(21.0, 19.0, 20.0) for _ in range(2000)], 4)
    ''')


def test_close_during_updates_finishes_or_raises_closed():
    run_in_child('''
        for round in range(30):
            stream = pyrt.talib.stream.STOCH(*(np.linspace(10, 20, 50) + d for d in (1.0, -1.0, 0.0)))
            outcomes = []
            def hammer(i):
                try:
                    for k in range(100000):
                        stream.update(21.0, 19.0, 20.0)
                        stream.value
                except ValueError as exc:
                    assert "closed" in str(exc), exc
                    outcomes.append("closed")
            threads = [threading.Thread(target=hammer, args=(i,)) for i in range(3)]
            for t in threads:
                t.start()
            time.sleep(0.002)
            stream.close()
            for t in threads:
                t.join(30)
                assert not t.is_alive()
            try:
                stream.update(21.0, 19.0, 20.0)
                raise AssertionError("a closed stream answered")
            except ValueError as exc:
                assert "closed" in str(exc)
    ''')


def test_copies_are_independent_owners_and_do_not_pickle():
    run_in_child('''
        s = pyrt.stream.RSI(14)
        s.update_many(np.linspace(1, 2, 40))
        c, d = copy.copy(s), copy.deepcopy(s)
        s.close()
        del s
        import gc; gc.collect()
        assert c.update(2.5) == d.update(2.5)
        try:
            pickle.dumps(c)
            raise AssertionError("a stream pickled")
        except TypeError:
            pass
        restored = pyrt.stream.RSI.from_bytes(c.to_bytes())
        assert restored.update(2.6) == c.update(2.6)
    ''')


def test_hostile_saved_state_is_refused_not_crashing():
    run_in_child('''
        rng = np.random.default_rng(7)
        good = pyrt.talib.stream.KAMA(np.linspace(1, 2, 60)).to_bytes()
        refused = 0
        for trial in range(20000):
            data = bytearray(good)
            for _ in range(int(rng.integers(1, 4))):
                data[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
            cut = int(rng.integers(0, len(data) + 1))
            try:
                pyrt.talib.stream.Stream.from_bytes(bytes(data[:cut]))
            except ValueError:
                refused += 1
        assert refused >= 19000, refused
    ''')


def test_absurd_parameters_are_refused_quickly():
    run_in_child('''
        t0 = time.time()
        for bad in (2**31, -1, 10**9, True):
            try:
                pyrt.talib.stream.SMA(np.arange(10.0), timeperiod=bad)
                raise AssertionError(bad)
            except ValueError:
                pass
            try:
                pyrt.stream.SMA(bad)
                raise AssertionError(bad)
            except ValueError:
                pass
        assert time.time() - t0 < 5
    ''')
