"""Positions, sweeps and array arguments under abuse: threads sharing one
Position, close during calls, copies, absurd sizes and the C overlap checks.
Each case runs in its own process."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from child import run_in_child  # noqa: E402


def test_one_position_from_four_threads_loses_no_update():
    run_in_child('''
        position = pyrt.Position("BTC")
        def trade(i):
            for k in range(5000):
                position.apply_fill("buy", 1.0, 100.0 + (k % 7), commission=0.5, timestamp_us=k)
                position.mark(101.0, timestamp_us=k)
                position.quantity
        run_threads(trade, 4)
        assert position.quantity == 20000.0, position.quantity
        assert abs(position.realized_pnl + 0.5 * 20000) < 1e-6, position.realized_pnl
        position.close()
    ''')


def test_closing_a_position_during_calls_and_copies():
    run_in_child('''
        for round in range(20):
            position = pyrt.Position("ETH")
            errors = []
            def hammer(i):
                # Until the close reaches this thread (or a deadline).
                deadline = time.time() + 10
                try:
                    while time.time() < deadline:
                        position.apply_fill("sell", 1.0, 10.0)
                        position.unrealized_pnl
                except ValueError as exc:
                    errors.append(str(exc))
            threads = [threading.Thread(target=hammer, args=(i,)) for i in range(3)]
            for t in threads:
                t.start()
            time.sleep(0.005)
            position.close()
            for t in threads:
                t.join(15)
            assert len(errors) == 3 and all("position: is closed" in e for e in errors), errors
            assert position.symbol == "ETH" and "closed" in repr(position)
        position = pyrt.Position("X")
        for dup in (copy.copy, copy.deepcopy, pickle.dumps):
            try:
                dup(position)
                raise AssertionError(dup)
            except TypeError:
                pass
        for bad in ("a\\0b", "s" * 2000, "", None):
            try:
                pyrt.Position(bad)
                raise AssertionError(repr(bad))
            except ValueError as exc:
                assert str(exc).startswith("symbol"), exc
    ''')


def test_absurd_sweep_threads_and_non_array_prices_are_refused_quickly():
    run_in_child('''
        from pyrt import sweep
        prices = np.linspace(100, 120, 50)
        start = time.time()
        for threads in (2**62, 10**6, -1, True):
            try:
                sweep.grid(prices, "sma_cross", {"fast": [2], "slow": [5]}, threads=threads)
                raise AssertionError(threads)
            except ValueError as exc:
                assert "threads" in str(exc), exc
        assert time.time() - start < 5
        for bad in (None, 3.0, np.float64(2.0), np.array(5.0), np.array([True, False, True]), [True, False],
                    "123", [[1.0, 2.0]], [1.0, None], np.array(["1", "2"])):
            try:
                pyrt.sma(bad, 1)
                raise AssertionError(repr(bad))
            except ValueError as exc:
                assert str(exc).startswith("prices"), exc
        from fractions import Fraction
        assert pyrt.sma([Fraction(1, 2), 1, 2.5], 1).tolist() == [0.5, 1.0, 2.5]
    ''')


def test_outputs_overlapping_inputs_are_refused_by_the_c_layer():
    run_in_child('''
        buffer = np.linspace(100.0, 120.0, 64)
        params = np.array([2.0])
        # pyrt_strategy_signals writing int32 signals over its own prices.
        status = lib.pyrt_strategy_signals(lib.PYRT_STRATEGY_PRICE_SMA_CROSS, ffi.from_buffer("double[]", buffer), 32,
                                           ffi.from_buffer("double[]", params), 1,
                                           ffi.cast("int32_t *", ffi.from_buffer("double[]", buffer)))
        assert status == lib.PYRT_INVALID_ARGUMENT
        assert ffi.string(lib.pyrt_last_error_message()) == b"out: must not overlap prices"
        status = lib.pyrt_strategy_signals(lib.PYRT_STRATEGY_PRICE_SMA_CROSS, ffi.from_buffer("double[]", buffer), 32,
                                           ffi.from_buffer("double[]", params), 1,
                                           ffi.cast("int32_t *", ffi.from_buffer("double[]", buffer[16:])))
        assert status == lib.PYRT_INVALID_ARGUMENT
        orders = ffi.new("PyrtOrder[1]")
        count = ffi.new("size_t *")
        bars = ffi.from_buffer("double[]", buffer)
        status = lib.pyrt_simulate_fills(orders, 1, bars, bars, bars, bars, 8, 0.0, 0.0,
                                         ffi.cast("PyrtFill *", bars), 1, count)
        assert status == lib.PYRT_INVALID_ARGUMENT
        assert ffi.string(lib.pyrt_last_error_message()).startswith(b"fills_out: must not overlap")
        config = ffi.new("PyrtBacktestConfig *")
        assert lib.pyrt_backtest_config_default(config) == 0
        grid = np.array([2.0, 5.0])
        status = lib.pyrt_sweep_grid(bars, ffi.NULL, ffi.NULL, ffi.NULL, 1, 64, lib.PYRT_STRATEGY_SMA_CROSS, ffi.from_buffer("double[]", grid), 2, 1,
                                     config, 1, ffi.cast("PyrtSweepRow *", bars))
        assert status == lib.PYRT_INVALID_ARGUMENT
        assert ffi.string(lib.pyrt_last_error_message()) == b"out: must not overlap prices"
        assert lib.pyrt_sma(ffi.NULL, 3, 2, ffi.from_buffer("double[]", buffer)) == lib.PYRT_NULL_POINTER
    ''')
