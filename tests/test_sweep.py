"""Parameter sweeps: signal generators against an independent implementation
of their documented rules (TA-Lib supplying the indicators), grid rows against
one-by-one backtests, 2-D input, Dask, and bad parameters."""

import numpy as np
import pytest
import talib
from hypothesis import given, settings, strategies as st

import pyrt
from pyrt import sweep


def walk(n, seed):
    rng = np.random.default_rng(seed)
    return 100 + np.cumsum(rng.standard_normal(n))


def crossings(fast, slow):
    out = np.zeros(len(fast), dtype=np.int32)
    with np.errstate(invalid="ignore"):
        up = (fast[:-1] <= slow[:-1]) & (fast[1:] > slow[1:])
        down = (fast[:-1] >= slow[:-1]) & (fast[1:] < slow[1:])
    out[1:][up] = 1
    out[1:][down] = -1
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_generators_follow_their_documented_rules(seed):
    p = walk(600, seed)
    np.testing.assert_array_equal(sweep.sma_cross(p, 5, 20), crossings(talib.SMA(p, 5), talib.SMA(p, 20)))
    np.testing.assert_array_equal(sweep.ema_cross(p, 8, 21), crossings(talib.EMA(p, 8), talib.EMA(p, 21)))

    r = talib.RSI(p, 10)
    with np.errstate(invalid="ignore"):
        expected = np.where(r < 35, 1, np.where(r > 65, -1, 0)).astype(np.int32)
    np.testing.assert_array_equal(sweep.rsi_threshold(p, 10, 35, 65), expected)

    upper, _, lower = talib.BBANDS(p, 15, 1.5, 1.5)
    with np.errstate(invalid="ignore"):
        expected = np.where(p < lower, 1, np.where(p > upper, -1, 0)).astype(np.int32)
    np.testing.assert_array_equal(sweep.bollinger_reversion(p, 15, 1.5), expected)

    sma = talib.SMA(p, 20)
    expected = np.zeros(len(p), dtype=np.int32)
    for i in range(1, len(p)):  # the specification's demo loop, verbatim
        if sma[i - 1] < p[i - 1] and sma[i] >= p[i]:
            expected[i] = 1
        elif sma[i - 1] > p[i - 1] and sma[i] <= p[i]:
            expected[i] = -1
    np.testing.assert_array_equal(sweep.price_sma_cross(p, 20), expected)
    assert np.count_nonzero(expected) > 5


def one_by_one(prices_2d, strategy, combos, config):
    rows = []
    for s, series in enumerate(prices_2d):
        for combo in combos:
            sig = sweep.signals(series, strategy, **combo)
            r = pyrt.backtest_strategy(series, sig, config)
            rows.append((s, combo, r))
    return rows


def assert_rows_match(result, expected):
    assert len(result) == len(expected)
    for row, (s, combo, r) in zip(result, expected):
        assert row["series"] == s
        for name, value in combo.items():
            assert row[name] == value
        assert row["total_return"] == r.total_return
        assert row["sharpe_ratio"] == r.sharpe_ratio
        assert row["max_drawdown"] == r.max_drawdown
        assert row["win_rate"] == r.win_rate
        assert row["num_trades"] == r.num_trades
        assert row["final_equity"] == r.final_equity


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    fasts=st.lists(st.integers(1, 30), min_size=1, max_size=3, unique=True),
    slows=st.lists(st.integers(2, 60), min_size=1, max_size=3, unique=True),
    commission=st.sampled_from([0.0, 1.0]),
    slippage=st.sampled_from([0.0, 5.0]),
    allow_short=st.booleans(),
)
def test_grid_rows_equal_one_by_one_backtests(seed, fasts, slows, commission, slippage, allow_short):
    prices = walk(300, seed)
    config = pyrt.BacktestConfig(commission=commission, slippage_bps=slippage, allow_short=allow_short)
    result = sweep.grid(prices, "sma_cross", {"fast": fasts, "slow": slows}, config)
    combos = [{"fast": f, "slow": s} for f in fasts for s in slows]
    assert_rows_match(result, one_by_one(prices[None, :], "sma_cross", combos, config))


@pytest.mark.parametrize(
    "strategy, params",
    [
        ("ema_cross", {"fast": [3, 9], "slow": [20, 40]}),
        ("rsi_threshold", {"window": [7, 14], "lower": [25.0, 30.0], "upper": [70.0]}),
        ("bollinger_reversion", {"window": [10, 20], "num_std": [1.5, 2.0]}),
        ("price_sma_cross", {"window": [10, 20, 50]}),
    ],
)
def test_every_strategy_on_2d_input(strategy, params):
    prices = np.stack([walk(400, s) for s in range(3)])
    config = pyrt.BacktestConfig(commission=1.0, slippage_bps=2.0)
    result = sweep.grid(prices, strategy, params, config, threads=2)
    names = list(params)
    import itertools

    combos = [dict(zip(names, values)) for values in itertools.product(*params.values())]
    assert_rows_match(result, one_by_one(prices, strategy, combos, config))
    assert result["num_trades"].sum() > 0


def test_thread_count_and_chunking_do_not_change_results():
    prices = np.stack([walk(1000, 7), walk(1000, 8)])
    params = {"fast": list(range(2, 12)), "slow": [20, 30, 50]}
    base = sweep.grid(prices, "sma_cross", params)
    seen = []
    for threads, chunks in [(1, None), (2, 4), (0, 7)]:
        other = sweep.grid(prices, "sma_cross", params, threads=threads, chunks=chunks,
                           progress=lambda done, total: seen.append((done, total)))
        np.testing.assert_array_equal(np.asarray(other), np.asarray(base))
    assert seen[-1] == (30, 30)


def test_to_pandas_has_every_column():
    pd = pytest.importorskip("pandas")
    result = sweep.grid(walk(200, 3), "price_sma_cross", {"window": [5, 10]})
    frame = result.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["series", "window", "total_return", "sharpe_ratio", "max_drawdown",
                                   "win_rate", "num_trades", "final_equity"]
    assert frame["window"].tolist() == [5, 10]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(strategy="nope", params={"fast": [1]}), "strategy"),
        (dict(strategy="sma_cross", params={"fast": [5]}), "params"),
        (dict(strategy="sma_cross", params={"fast": [5], "slow": [10], "x": [1]}), "params"),
        (dict(strategy="sma_cross", params={"fast": [0], "slow": [10]}), "fast"),
        (dict(strategy="sma_cross", params={"fast": [2.5], "slow": [10]}), "fast"),
        (dict(strategy="sma_cross", params={"fast": [5], "slow": [10, 10_000]}), "slow"),
        (dict(strategy="sma_cross", params={"fast": [], "slow": [10]}), "fast"),
        (dict(strategy="sma_cross", params={"fast": ["a"], "slow": [10]}), "fast"),
        (dict(strategy="rsi_threshold", params={"window": [14], "lower": [70], "upper": [30]}), "lower"),
        (dict(strategy="bollinger_reversion", params={"window": [14], "num_std": [-1]}), "num_std"),
        (dict(strategy="sma_cross", params=[5, 10]), "params"),
    ],
)
def test_bad_params_raise_value_error_naming_them(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sweep.grid(walk(100, 0), **kwargs)


def test_bad_prices_and_options_raise_value_error():
    with pytest.raises(ValueError, match="prices"):
        sweep.grid(np.zeros((2, 2, 2)), "sma_cross", {"fast": [1], "slow": [2]})
    with pytest.raises(ValueError, match="prices"):
        sweep.grid(-walk(50, 0), "sma_cross", {"fast": [1], "slow": [2]})
    with pytest.raises(ValueError, match="threads"):
        sweep.grid(walk(50, 0), "sma_cross", {"fast": [1], "slow": [2]}, threads=-1)
    with pytest.raises(ValueError, match="config"):
        sweep.grid(walk(50, 0), "sma_cross", {"fast": [1], "slow": [2]}, config={"commission": 1})


def test_dask_local_cluster_gives_the_in_process_table():
    distributed = pytest.importorskip("distributed")
    prices = np.stack([walk(2000, 11), walk(2000, 12)])
    params = {"fast": [3, 5, 8, 13], "slow": [21, 34, 55]}
    config = pyrt.BacktestConfig(commission=1.0, slippage_bps=5.0, position_size=0.9)
    local = sweep.grid(prices, "sma_cross", params, config)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, protocol="tcp",
    ) as cluster, distributed.Client(cluster) as client:
        remote = sweep.grid(prices, "sma_cross", params, config, client=client, chunks=5)
        with pytest.raises(ValueError, match="slow"):
            sweep.grid(prices, "sma_cross", {"fast": [3], "slow": [5000]}, config, client=client)
    np.testing.assert_array_equal(np.asarray(remote), np.asarray(local))


def test_grid_rows_with_next_open_fills_stops_and_fees_equal_one_by_one_backtests():
    rng = np.random.default_rng(11)
    n = 600
    close = 100 * np.cumprod(1 + rng.normal(0, 0.015, (2, n)), axis=1)
    open_ = np.concatenate([close[:, :1], close[:, :-1]], axis=1) * (1 + rng.normal(0, 0.004, (2, n)))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, (2, n)))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, (2, n)))
    config = pyrt.BacktestConfig(fill_at="next_open", stop_loss=0.03, take_profit=0.06, trailing_stop=0.04,
                                 commission_rate=0.001, allow_short=True)
    rows = pyrt.sweep.grid(close, "ema_cross", {"fast": [5, 8], "slow": [20, 40]}, config, open=open_, high=high,
                           low=low)
    assert len(rows) == 8
    for row in rows:
        s = int(row["series"])
        sig = pyrt.sweep.ema_cross(close[s], int(row["fast"]), int(row["slow"]))
        r = pyrt.backtest_strategy(close[s], sig, config, open=open_[s], high=high[s], low=low[s])
        assert (row["total_return"], row["sharpe_ratio"], row["num_trades"]) == (r.total_return, r.sharpe_ratio,
                                                                               r.num_trades)
    with pytest.raises(ValueError, match="^open: required"):
        pyrt.sweep.grid(close, "ema_cross", {"fast": [5], "slow": [20]}, config, high=high, low=low)
    with pytest.raises(ValueError, match="^high: shape"):
        pyrt.sweep.grid(close, "ema_cross", {"fast": [5], "slow": [20]}, config, open=open_, high=high[0], low=low)
