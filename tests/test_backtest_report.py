"""The backtest report: `stats()` against backtesting.py 0.6.6's own
`compute_stats` applied to pyrt's equity curve and trades, `trades_frame()`,
the pandas index round trip and the plot."""

import numpy as np
import pandas as pd
import pytest

import pyrt

backtesting = pytest.importorskip("backtesting")
from backtesting._stats import compute_stats  # noqa: E402
from backtesting.test import EURUSD, GOOG  # noqa: E402


def same(a, b):
    if isinstance(a, (pd.Timedelta, pd.Timestamp)) or isinstance(b, (pd.Timedelta, pd.Timestamp)) or a is pd.NaT:
        return (pd.isna(a) and pd.isna(b)) or a == b
    a, b = float(a), float(b)
    # Equal infinities (a Sortino with no losing day) are the same value.
    return a == b or (np.isnan(a) and np.isnan(b)) or abs(a - b) <= 1e-9 * max(1.0, abs(b))


def assert_stats_match_backtesting(data, results):
    mine = results.stats()
    ref = compute_stats(results.trades_frame(), np.asarray(results.equity_curve, dtype=float), data, None)
    keys = [k for k in ref.index if not k.startswith("_")]
    if not isinstance(data.index, pd.DatetimeIndex):
        # backtesting.py has no CAGR without datetimes; pyrt reports NaN there.
        assert np.isnan(mine["CAGR [%]"])
        keys.insert(keys.index("Sharpe Ratio"), "CAGR [%]")
        ref["CAGR [%]"] = np.nan
    assert list(mine.index) == keys
    if not np.isnan(float(ref["Avg. Drawdown [%]"])) and same(ref["Max. Drawdown Duration"], -ref["Avg. Drawdown [%]"] / 100):
        # Only the last bar below its peak: backtesting.py then reports that
        # drawdown (a fraction) as the drawdown durations; pyrt has no period.
        assert pd.isna(mine["Max. Drawdown Duration"]) and pd.isna(mine["Avg. Drawdown Duration"])
        keys = [k for k in keys if k not in ("Max. Drawdown Duration", "Avg. Drawdown Duration")]
    wrong = {k: (mine[k], ref[k]) for k in keys if not same(mine[k], ref[k])}
    assert not wrong


def sma_signals(close, window):
    return np.where(close > pyrt.sma(np.asarray(close, float), window), 1, -1)


@pytest.mark.parametrize(
    "config, ohlc",
    [
        (dict(commission=2.0, slippage_bps=5.0), False),
        (dict(allow_short=True, commission_rate=0.001), False),
        (dict(allow_short=True, commission_rate=0.002, fill_at="next_open", stop_loss=0.05, take_profit=0.1,
              trailing_stop=0.08), True),
        (dict(position_size=0.5, fill_at="next_open", trailing_stop=0.05), True),
    ],
)
def test_stats_equal_backtesting_compute_stats_on_goog(config, ohlc):
    bars = dict(open=GOOG.Open, high=GOOG.High, low=GOOG.Low) if ohlc else {}
    results = pyrt.backtest_strategy(GOOG.Close, sma_signals(GOOG.Close, 20), pyrt.BacktestConfig(**config), **bars)
    assert results.num_trades > 50
    assert_stats_match_backtesting(GOOG, results)


def test_stats_equal_backtesting_on_hourly_eurusd_and_without_dates():
    config = pyrt.BacktestConfig(allow_short=True, commission_rate=0.0002)
    results = pyrt.backtest_strategy(EURUSD.Close, sma_signals(EURUSD.Close, 50), config)
    assert_stats_match_backtesting(EURUSD, results)
    plain = GOOG.reset_index(drop=True)
    results = pyrt.backtest_strategy(plain.Close, -sma_signals(plain.Close, 10), config)
    assert_stats_match_backtesting(plain, results)
    # A run without trades.
    results = pyrt.backtest_strategy(GOOG.Close, np.zeros(len(GOOG), int))
    assert_stats_match_backtesting(GOOG, results)


def test_stats_reads_as_backtesting_py_does():
    results = pyrt.backtest_strategy(GOOG.Close, sma_signals(GOOG.Close, 20))
    s = results.stats()
    assert s["Start"] == GOOG.index[0] and s["End"] == GOOG.index[-1]
    assert s["# Trades"] == results.num_trades
    assert s["Equity Final [$]"] == results.final_equity
    assert s["Max. Drawdown [%]"] == pytest.approx(-results.max_drawdown * 100, rel=1e-12)
    assert isinstance(s["Avg. Trade Duration"], pd.Timedelta)
    # From numbers alone (no pandas index) durations count bars.
    plain = pyrt.backtest_strategy(GOOG.Close.to_numpy(), sma_signals(GOOG.Close, 20))
    assert plain.stats()["Duration"] == len(GOOG) - 1
    assert isinstance(plain.equity_curve, np.ndarray)


def test_pandas_index_round_trip():
    tz_index = GOOG.index.tz_localize("America/New_York")
    close = pd.Series(GOOG.Close.to_numpy(), index=tz_index, name="GOOG")
    results = pyrt.backtest_strategy(close, sma_signals(close, 20), pyrt.BacktestConfig(allow_short=True))
    curve = results.equity_curve
    assert isinstance(curve, pd.Series) and curve.index.equals(close.index)
    assert curve.iloc[-1] == results.final_equity
    frame = results.trades_frame()
    assert list(frame.columns) == ["EntryBar", "ExitBar", "EntryTime", "ExitTime", "Size", "EntryPrice", "ExitPrice",
                                   "PnL", "ReturnPct", "Duration"]
    assert len(frame) == results.num_trades
    assert (frame["EntryTime"].to_numpy() == close.index[frame["EntryBar"]].to_numpy()).all()
    assert (frame["Duration"] == frame["ExitTime"] - frame["EntryTime"]).all()
    assert ((frame["Size"] < 0) == (results.trades["side"] < 0)).all()
    assert (frame["PnL"].to_numpy() == results.trades["pnl"]).all()
    stats = results.stats()
    assert stats["Start"] == close.index[0]
    # Wall-clock calendar days: the same numbers as the naive index.
    naive = pyrt.backtest_strategy(GOOG.Close, sma_signals(close, 20), pyrt.BacktestConfig(allow_short=True)).stats()
    for key in stats.index.drop(["Start", "End"]):
        assert same(stats[key], naive[key]), key


def test_plot_is_written_as_png(tmp_path):
    pytest.importorskip("matplotlib")
    config = pyrt.BacktestConfig(allow_short=True, fill_at="next_open", stop_loss=0.05, commission_rate=0.001)
    results = pyrt.backtest_strategy(GOOG.Close, sma_signals(GOOG.Close, 50), config, open=GOOG.Open,
                                     high=GOOG.High, low=GOOG.Low)
    path = tmp_path / "run.png"
    fig = results.plot(str(path))
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert len(fig.axes) == 3
    # Long and short entries are separate, distinguishable marks.
    price_axes = fig.axes[0]
    labels = [t.get_text() for t in price_axes.get_legend().get_texts()]
    assert any(label.startswith("long entry") for label in labels)
    assert any(label.startswith("short entry") for label in labels)
    # Without a filename nothing is written and the figure comes back.
    assert pyrt.backtest_strategy([1.0, 2.0, 3.0], [1, 0, 0]).plot() is not None


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 300), dated=st.booleans(), short=st.booleans(),
       activity=st.floats(0.02, 0.6))
def test_stats_equal_backtesting_on_random_runs(seed, n, dated, short, activity):
    rng = np.random.default_rng(seed)
    close = 100 * np.cumprod(1 + rng.normal(0, 0.02, n))
    index = pd.bdate_range("2015-01-05", periods=n) if dated else pd.RangeIndex(n)
    data = pd.DataFrame({"Close": close}, index=index)
    signals = np.where(rng.random(n) < activity, rng.choice([-1, 1], n), 0)
    config = pyrt.BacktestConfig(allow_short=short, commission_rate=0.001)
    results = pyrt.backtest_strategy(data.Close, signals, config)
    assert_stats_match_backtesting(data, results)
