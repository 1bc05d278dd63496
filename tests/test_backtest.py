"""backtest_strategy against a straightforward pure-Python reading of
DESIGN.md's backtest semantics, on random walks with random signals."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyrt


def reference_backtest(prices, signals, initial_capital=100_000.0, commission=0.0, slippage_bps=0.0,
                       position_size=1.0, allow_short=False, periods_per_year=252):
    """DESIGN.md, section "backtest", one rule per line."""
    cash = initial_capital
    qty = 0.0          # signed
    side = 0           # +1 long, -1 short, 0 flat
    entry_index = entry_price = None
    trades = []
    equity = []

    def buy_fill(p):
        return p * (1 + slippage_bps / 1e4)

    def sell_fill(p):
        return p * (1 - slippage_bps / 1e4)

    def close(i, p):
        nonlocal cash, qty, side
        q = abs(qty)
        if side == 1:
            fill = sell_fill(p)
            cash += q * fill - commission
            pnl = q * (fill - entry_price) - 2 * commission
        else:
            fill = buy_fill(p)
            cash -= q * fill + commission
            pnl = q * (entry_price - fill) - 2 * commission
        trades.append((entry_index, i, side, q, entry_price, fill, pnl, pnl / (q * entry_price)))
        qty, side = 0.0, 0

    def open_(target, i, p):
        nonlocal cash, qty, side, entry_index, entry_price
        fill = buy_fill(p) if target == 1 else sell_fill(p)
        budget = cash * position_size
        q = (budget - commission) / fill
        if q <= 0:
            return
        if target == 1:
            cash -= q * fill + commission
            qty = q
        else:
            cash += q * fill - commission
            qty = -q
        side, entry_index, entry_price = target, i, fill

    for i, (p, s) in enumerate(zip(prices, signals)):
        if s == 1:
            target = 1
        elif s == -1:
            target = -1 if allow_short else 0
        else:
            target = side
        if target != side:
            if side != 0:
                close(i, p)
            if target != 0:
                open_(target, i, p)
        equity.append(cash + qty * p)
    if side != 0:
        close(len(prices) - 1, prices[-1])
        equity[-1] = cash

    equity = np.array(equity)
    returns = equity[1:] / equity[:-1] - 1
    std = returns.std(ddof=1) if len(returns) >= 2 else 0.0
    sharpe = 0.0 if std == 0 else returns.mean() / std * math.sqrt(periods_per_year)
    peak = np.maximum.accumulate(equity)
    max_dd = float(np.max((peak - equity) / peak))
    wins = sum(1 for t in trades if t[6] > 0)
    return dict(
        equity_curve=equity,
        trades=trades,
        total_return=equity[-1] / initial_capital - 1,
        sharpe_ratio=sharpe,
        max_drawdown=max_dd,
        win_rate=wins / len(trades) if trades else 0.0,
        num_trades=len(trades),
        final_equity=equity[-1],
    )


def assert_matches(result, expected, rel=1e-9):
    np.testing.assert_allclose(result.equity_curve, expected["equity_curve"], rtol=rel, atol=0)
    assert result.num_trades == expected["num_trades"] == len(result.trades)
    for name in ("total_return", "final_equity", "max_drawdown", "win_rate"):
        assert getattr(result, name) == pytest.approx(expected[name], rel=rel, abs=1e-12), name
    # The Sharpe ratio amplifies rounding in the returns: a looser but still tight bound.
    assert result.sharpe_ratio == pytest.approx(expected["sharpe_ratio"], rel=1e-7, abs=1e-9)
    assert result.final_equity == result.equity_curve[-1]
    if expected["trades"]:
        want = np.array(expected["trades"], dtype=float)
        got = result.trades
        np.testing.assert_array_equal(got["entry_index"], want[:, 0])
        np.testing.assert_array_equal(got["exit_index"], want[:, 1])
        np.testing.assert_array_equal(got["side"], want[:, 2])
        for column, name in enumerate(("quantity", "entry_price", "exit_price", "pnl", "return"), start=3):
            np.testing.assert_allclose(got[name], want[:, column], rtol=rel, atol=1e-9 * abs(want[:, column]).max())


def random_walk(rng, n):
    return 100 + np.cumsum(rng.standard_normal(n) * 2) + 300  # keeps prices > 0


def test_the_specification_example():
    np.random.seed(42)
    prices = 100 + np.cumsum(np.random.randn(1000) * 2)
    # SMA-20 with NumPy (NaN for the first 19 bars, as TA-Lib).
    sma = np.full(len(prices), np.nan)
    sma[19:] = np.convolve(prices, np.ones(20) / 20, mode="valid")
    signals = np.zeros(len(prices), dtype=np.int32)
    for i in range(1, len(prices)):
        if sma[i - 1] < prices[i - 1] and sma[i] >= prices[i]:
            signals[i] = 1
        elif sma[i - 1] > prices[i - 1] and sma[i] <= prices[i]:
            signals[i] = -1
    assert prices.min() > 0
    config = pyrt.BacktestConfig(initial_capital=100000.0, commission=1.0, slippage_bps=5.0, position_size=0.95)
    result = pyrt.backtest_strategy(prices, signals, config)
    expected = reference_backtest(prices, signals, 100000.0, 1.0, 5.0, 0.95)
    assert_matches(result, expected)
    assert result.num_trades > 10
    assert result.equity_curve.shape == (1000,) and result.equity_curve.dtype == np.float64
    assert repr(result) == (
        f"BacktestResults(return={expected['total_return'] * 100:.2f}%, sharpe={expected['sharpe_ratio']:.2f}, "
        f"max_dd={expected['max_drawdown'] * 100:.2f}%, trades={expected['num_trades']})"
    )


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 300),
    commission=st.sampled_from([0.0, 1.0, 25.0]),
    slippage_bps=st.sampled_from([0.0, 5.0, 50.0]),
    position_size=st.sampled_from([1.0, 0.95, 0.5, 0.1]),
    allow_short=st.booleans(),
    initial_capital=st.sampled_from([100_000.0, 1_000.0, 30.0]),
    signal_density=st.sampled_from([0.05, 0.3, 1.0]),
)
def test_random_walks_match_the_reference(seed, n, commission, slippage_bps, position_size, allow_short,
                                          initial_capital, signal_density):
    rng = np.random.default_rng(seed)
    prices = random_walk(rng, n)
    signals = rng.integers(-1, 2, n) * (rng.random(n) < signal_density)
    config = pyrt.BacktestConfig(initial_capital=initial_capital, commission=commission, slippage_bps=slippage_bps,
                                 position_size=position_size, allow_short=allow_short)
    result = pyrt.backtest_strategy(prices, signals, config)
    expected = reference_backtest(prices, signals, initial_capital, commission, slippage_bps, position_size,
                                  allow_short)
    assert_matches(result, expected)


def test_flips_and_shorts_by_hand():
    config = pyrt.BacktestConfig(initial_capital=1000.0, allow_short=True)
    result = pyrt.backtest_strategy([10.0, 20.0, 10.0, 5.0], [1, -1, 1, -1], config)
    # Long 100 @10 -> sell @20 (+1000); short 100 @20 -> cover @10 (+1000);
    # long 300 @10 -> sell @5 (-1500); short 300 @5 closed at the last bar (0).
    t = result.trades
    assert list(t["side"]) == [1, -1, 1, -1]
    assert list(t["entry_index"]) == [0, 1, 2, 3] and list(t["exit_index"]) == [1, 2, 3, 3]
    np.testing.assert_allclose(t["quantity"], [100, 100, 300, 300])
    np.testing.assert_allclose(t["pnl"], [1000, 1000, -1500, 0])
    np.testing.assert_allclose(t["return"], [1.0, 0.5, -0.5, 0.0])
    np.testing.assert_allclose(result.equity_curve, [1000, 2000, 3000, 1500])
    assert result.win_rate == 0.5
    assert result.max_drawdown == pytest.approx(0.5)
    assert result.final_equity == 1500.0


def test_long_only_minus_one_is_flat_and_no_trade_without_budget():
    result = pyrt.backtest_strategy([10.0, 11.0, 12.0], [-1, -1, 0])
    assert result.num_trades == 0 and len(result.trades) == 0
    np.testing.assert_array_equal(result.equity_curve, [100_000.0] * 3)
    assert (result.sharpe_ratio, result.max_drawdown, result.win_rate, result.total_return) == (0.0, 0.0, 0.0, 0.0)
    tiny = pyrt.BacktestConfig(initial_capital=5.0, commission=5.0)
    assert pyrt.backtest_strategy([10.0, 11.0], [1, 0], tiny).num_trades == 0


def test_signal_dtypes_are_accepted_when_exact():
    prices = [10.0, 11.0, 12.0, 11.0]
    base = pyrt.backtest_strategy(prices, np.array([1, 0, -1, 0], dtype=np.int32))
    for signals in ([1, 0, -1, 0], np.array([1, 0, -1, 0], dtype=np.int64), np.array([1.0, 0.0, -1.0, 0.0]),
                    np.array([1, 0, -1, 0], dtype=np.int8)):
        np.testing.assert_array_equal(pyrt.backtest_strategy(prices, signals).equity_curve, base.equity_curve)


@pytest.mark.parametrize(
    "prices, signals, match",
    [
        ([1.0, 2.0, 3.0], [0, 2, 0], r"signals: must be -1, 0 or 1, got 2 at index 1"),
        ([1.0, 2.0, 3.0], [0, 0.5, 0], r"signals: must be -1, 0 or 1, got 0.5 at index 1"),
        ([1.0, 2.0, 3.0], np.array([0, 2**32 + 1, 0]), r"signals: must be -1, 0 or 1, got 4294967297 at index 1"),
        ([1.0, 2.0, 3.0], [0, np.inf, 0], r"signals: must be -1, 0 or 1, got inf at index 1"),
        ([1.0, 2.0, 3.0], np.array([True, False, True]), r"signals: a boolean array is not a target"),
        ([1.0, 2.0, 3.0], [0, 0], r"signals: length 2 differs from the length of prices \(3\)"),
        ([1.0, 2.0], [[0, 0]], r"signals: expected a 1-D array"),
        ([], [], r"prices: must not be empty"),
        ([1.0, np.nan], [0, 0], r"prices: must be finite and > 0, got NaN at index 1"),
        ([1.0, -2.0], [0, 0], r"prices: must be finite and > 0, got -2 at index 1"),
        ([[1.0, 2.0]], [0, 0], r"prices: expected a 1-D array"),
        (["a", "b"], [0, 0], r"prices:"),
    ],
)
def test_bad_inputs_raise_value_error_naming_them(prices, signals, match):
    with pytest.raises(ValueError, match=match):
        pyrt.backtest_strategy(prices, signals)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(initial_capital=0.0), "initial_capital"),
        (dict(initial_capital=-5.0), "initial_capital"),
        (dict(initial_capital=float("nan")), "initial_capital"),
        (dict(initial_capital="lots"), "initial_capital"),
        (dict(commission=-0.01), "commission"),
        (dict(slippage_bps=-1.0), "slippage_bps"),
        (dict(slippage_bps=10_000.0), "slippage_bps"),
        (dict(position_size=0.0), "position_size"),
        (dict(position_size=1.01), "position_size"),
        (dict(periods_per_year=0), "periods_per_year"),
    ],
)
def test_bad_config_values_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}:"):
        pyrt.BacktestConfig(**kwargs)


def test_config_defaults_assignment_and_repr():
    config = pyrt.BacktestConfig()
    assert (config.initial_capital, config.commission, config.slippage_bps, config.position_size,
            config.allow_short, config.periods_per_year) == (100_000.0, 0.0, 0.0, 1.0, False, 252.0)
    config.commission = 2.5
    assert config.commission == 2.5
    with pytest.raises(ValueError, match="^position_size:"):
        config.position_size = 2.0
    assert config.position_size == 1.0  # a refused value leaves the config as it was
    with pytest.raises(AttributeError):
        config.leverage = 3
    assert config == pyrt.BacktestConfig(commission=2.5)
    assert "commission=2.5" in repr(config)
    import pickle

    assert pickle.loads(pickle.dumps(config)) == config
    with pytest.raises(ValueError, match="^config:"):
        pyrt.backtest_strategy([1.0], [0], config={"commission": 1.0})


def test_trade_dtype_layout_is_the_c_struct():
    from pyrt._core import ffi

    dtype = pyrt.TRADE_DTYPE
    assert dtype.itemsize == ffi.sizeof("PyrtTrade") == 64
    assert [dtype.fields[name][1] for name in dtype.names] == [0, 8, 16, 24, 32, 40, 48, 56]
    assert dtype.names == ("entry_index", "exit_index", "side", "quantity", "entry_price", "exit_price", "pnl",
                           "return")
    assert ffi.offsetof("PyrtTrade", "trade_return") == 56
