"""backtest_strategy with next-open fills, stops and percentage fees against
an independent plain-Python reading of DESIGN.md's section "Backtest:
execution, stops, costs", on random OHLC walks, random signals and every
combination of the new settings; plus the gap cases worked out by hand."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyrt


def reference(close, signals, open_=None, high=None, low=None, *, initial_capital=100_000.0, commission=0.0,
              slippage_bps=0.0, position_size=1.0, allow_short=False, commission_rate=0.0, fill_at="close",
              stop_loss=None, take_profit=None, trailing_stop=None):
    """DESIGN.md's rules, bar by bar, one rule per line. Returns (equity, trades)."""
    n = len(close)
    s = dict(cash=initial_capital, qty=0.0, side=0, entry_i=0, entry=0.0, entry_cost=0.0, best=0.0, guard_from=0)
    trades, equity = [], []
    buy = lambda p: p * (1 + slippage_bps / 1e4)  # noqa: E731
    sell = lambda p: p * (1 - slippage_bps / 1e4)  # noqa: E731
    cost = lambda q, fill: commission + commission_rate * q * fill  # noqa: E731
    stops = stop_loss is not None or take_profit is not None or trailing_stop is not None

    def exit_at(i, fill):
        q = abs(s["qty"])
        c = cost(q, fill)
        if s["side"] == 1:
            s["cash"] += q * fill - c
            gross = q * (fill - s["entry"])
        else:
            s["cash"] -= q * fill + c
            gross = q * (s["entry"] - fill)
        pnl = gross - s["entry_cost"] - c
        trades.append((s["entry_i"], i, s["side"], q, s["entry"], fill, pnl, pnl / (q * s["entry"])))
        s["qty"], s["side"] = 0.0, 0

    def exit_market(i, price):
        exit_at(i, sell(price) if s["side"] == 1 else buy(price))

    def enter(target, i, price, guard_from):
        fill = buy(price) if target == 1 else sell(price)
        q = (s["cash"] * position_size - commission) / (fill * (1 + commission_rate))
        if q <= 0:
            return
        c = cost(q, fill)
        if target == 1:
            s["cash"] -= q * fill + c
            s["qty"] = q
        else:
            s["cash"] += q * fill - c
            s["qty"] = -q
        s.update(side=target, entry_i=i, entry=fill, entry_cost=c, best=fill, guard_from=guard_from)

    def act(signal, i, price, guard_from):
        if signal == 0:
            return
        target = 1 if signal == 1 else (-1 if allow_short else 0)
        if target != s["side"]:
            if s["side"] != 0:
                exit_market(i, price)
            if target != 0:
                enter(target, i, price, guard_from)

    for i in range(n):
        if fill_at == "next_open" and i >= 1:
            act(signals[i - 1], i, open_[i], guard_from=i)
        if stops and s["side"] != 0 and i >= s["guard_from"]:
            o = open_[i] if open_ is not None else min(max(close[i - 1], low[i]), high[i])
            entry, best = s["entry"], s["best"]
            if s["side"] == 1:
                stop = max(entry * (1 - stop_loss) if stop_loss else -math.inf,
                           best * (1 - trailing_stop) if trailing_stop else -math.inf)
                target = entry * (1 + take_profit) if take_profit else math.inf
                if o <= stop:
                    exit_market(i, o)
                elif o >= target:
                    exit_at(i, o)
                elif low[i] <= stop:
                    exit_market(i, stop)
                elif high[i] >= target:
                    exit_at(i, target)
                else:
                    s["best"] = max(best, high[i])
            else:
                stop = min(entry * (1 + stop_loss) if stop_loss else math.inf,
                           best * (1 + trailing_stop) if trailing_stop else math.inf)
                target = entry * (1 - take_profit) if take_profit else -math.inf
                if o >= stop:
                    exit_market(i, o)
                elif o <= target:
                    exit_at(i, o)
                elif high[i] >= stop:
                    exit_market(i, stop)
                elif low[i] <= target:
                    exit_at(i, target)
                else:
                    s["best"] = min(best, low[i])
        if fill_at == "close":
            act(signals[i], i, close[i], guard_from=i + 1)
        equity.append(s["cash"] + s["qty"] * close[i])
    if s["side"] != 0:
        exit_market(n - 1, close[n - 1])
        equity[-1] = s["cash"]
    return np.array(equity), trades


def ohlc_walk(seed, n, volatility=0.02):
    rng = np.random.default_rng(seed)
    close = 100 * np.cumprod(1 + rng.normal(0, volatility, n))
    open_ = np.r_[close[0], close[:-1]] * (1 + rng.normal(0, volatility / 2, n))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, volatility, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, volatility, n))
    return open_, high, low, close


def assert_same_run(results, want_equity, want_trades):
    np.testing.assert_allclose(np.asarray(results.equity_curve), want_equity, rtol=1e-9, atol=1e-9)
    got = results.trades
    assert len(got) == len(want_trades)
    for row, want in zip(got, want_trades):
        assert (int(row["entry_index"]), int(row["exit_index"]), int(row["side"])) == want[:3]
        np.testing.assert_allclose([row["quantity"], row["entry_price"], row["exit_price"], row["pnl"], row["return"]],
                                   want[3:], rtol=1e-9, atol=1e-9)


fractions = st.one_of(st.none(), st.floats(0.003, 0.15))


@settings(max_examples=400, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 120),
    activity=st.floats(0.05, 0.9),
    fill_at=st.sampled_from(["close", "next_open"]),
    allow_short=st.booleans(),
    with_open=st.booleans(),
    stop_loss=fractions,
    take_profit=fractions,
    trailing_stop=fractions,
    commission=st.sampled_from([0.0, 1.0, 25.0]),
    commission_rate=st.sampled_from([0.0, 0.0005, 0.002]),
    slippage_bps=st.sampled_from([0.0, 3.0, 40.0]),
    position_size=st.sampled_from([1.0, 0.5]),
    nan_signals=st.booleans(),
)
def test_every_fill_follows_the_rules(seed, n, activity, fill_at, allow_short, with_open, stop_loss, take_profit,
                                      trailing_stop, commission, commission_rate, slippage_bps, position_size,
                                      nan_signals):
    open_, high, low, close = ohlc_walk(seed, n)
    rng = np.random.default_rng(seed + 1)
    signals = np.where(rng.random(n) < activity, rng.choice([-1, 1], n), 0)
    stops = dict(stop_loss=stop_loss, take_profit=take_profit, trailing_stop=trailing_stop)
    settings_ = dict(commission=commission, slippage_bps=slippage_bps, position_size=position_size,
                     allow_short=allow_short, commission_rate=commission_rate, fill_at=fill_at, **stops)
    any_stop = any(v is not None for v in stops.values())
    give_open = with_open or fill_at == "next_open"
    kwargs = dict(open=open_ if give_open else None, high=high if any_stop else None, low=low if any_stop else None)
    passed = signals.astype(float)
    if nan_signals:
        # NaN is "keep", as 0: what signals.shift(1) leaves in front.
        passed[signals == 0] = np.nan
    results = pyrt.backtest_strategy(close, passed, pyrt.BacktestConfig(**settings_), **kwargs)
    want_equity, want_trades = reference(close, signals, kwargs["open"], kwargs["high"], kwargs["low"], **settings_)
    assert_same_run(results, want_equity, want_trades)
    assert results.num_trades == len(want_trades)
    assert results.final_equity == pytest.approx(want_equity[-1], rel=1e-9, abs=1e-9)


def run(o, h, l, c, signals, **config):
    return pyrt.backtest_strategy(np.array(c, float), signals, pyrt.BacktestConfig(**config),
                                  open=np.array(o, float), high=np.array(h, float), low=np.array(l, float))


def test_a_bar_opening_beyond_the_stop_exits_at_the_open_with_slippage():
    r = run([100, 85, 90], [100, 95, 92], [100, 80, 88], [100, 90, 91], [1, 0, 0], stop_loss=0.1, slippage_bps=10)
    (t,) = r.trades
    assert (t["exit_index"], t["exit_price"]) == (1, pytest.approx(85 * 0.999, rel=1e-15))
    # A short whose bar opens above its stop.
    r = run([100, 115, 110], [100, 118, 112], [100, 112, 108], [100, 113, 111], [-1, 0, 0], stop_loss=0.1,
            allow_short=True)
    (t,) = r.trades
    assert (t["side"], t["exit_index"], t["exit_price"]) == (-1, 1, 115.0)


def test_a_bar_opening_beyond_the_target_exits_at_the_open_without_slippage():
    r = run([100, 120], [100, 125], [100, 119], [100, 121], [1, 0], take_profit=0.1, slippage_bps=10)
    (t,) = r.trades
    assert (t["exit_index"], t["exit_price"]) == (1, 120.0)
    # Target touched inside the bar: the limit fills at the target.
    r = run([100, 102], [100, 111], [100, 101], [100, 103], [1, 0], take_profit=0.1)
    assert r.trades["exit_price"][0] == pytest.approx(110.0, rel=1e-15)


def test_a_bar_touching_both_stop_and_target_takes_the_stop():
    r = run([100, 100], [100, 106], [100, 94], [100, 100], [1, 0], stop_loss=0.05, take_profit=0.05)
    assert r.trades["exit_price"][0] == pytest.approx(95.0, rel=1e-15)
    r = run([100, 100], [100, 106], [100, 94], [100, 100], [-1, 0], stop_loss=0.05, take_profit=0.05,
            allow_short=True)
    assert r.trades["exit_price"][0] == pytest.approx(105.0, rel=1e-15)


def test_a_trailing_stop_follows_new_highs_after_each_bar():
    # Highs 110 then 120 lift the stop to 99, then 108; bar 3's low 107 hits it.
    o, h, l, c = [100, 105, 115, 112], [100, 110, 120, 113], [100, 100, 109, 107], [100, 108, 112, 110]
    r = run(o, h, l, c, [1, 0, 0, 0], trailing_stop=0.1)
    assert (r.trades["exit_index"][0], r.trades["exit_price"][0]) == (3, pytest.approx(108.0, rel=1e-15))
    # The bar's own high does not move its stop: bar 2's high 120 with low 100
    # stays above the 99 stop of the highs before it.
    r = run([100, 105, 110], [100, 110, 120], [100, 100, 100], [100, 108, 115], [1, 0, 0], trailing_stop=0.1)
    assert r.trades["exit_index"][0] == 2 and r.trades["exit_price"][0] == 115.0  # the forced close


def test_a_next_open_entry_is_guarded_from_its_own_bar():
    r = run([99, 100, 96], [99, 101, 97], [99, 94, 95], [99, 96, 96], [1, 0, 0], fill_at="next_open",
            stop_loss=0.05)
    (t,) = r.trades
    assert (t["entry_index"], t["exit_index"], t["entry_price"], t["exit_price"]) == (1, 1, 100.0, 95.0)
    # An entry at a close is guarded from the next bar: the close bar's low does not count.
    r = run([100, 100, 100], [100, 100, 100], [50, 99, 99], [100, 100, 100], [1, 0, 0], stop_loss=0.05)
    assert r.trades["exit_index"][0] == 2  # only the forced close


def test_percentage_fees_by_hand():
    r = pyrt.backtest_strategy([100.0, 110.0], [1, -1], pyrt.BacktestConfig(commission=1.0, commission_rate=0.001))
    q = (100_000 - 1) / (100 * 1.001)
    (t,) = r.trades
    assert t["quantity"] == pytest.approx(q, rel=1e-15)
    assert t["pnl"] == pytest.approx(q * 10 - (1 + 0.1 * q) - (1 + 0.11 * q), rel=1e-12)
    assert r.final_equity == pytest.approx(100_000 + t["pnl"], rel=1e-12)


@pytest.mark.parametrize(
    "kwargs, config, match",
    [
        (dict(), dict(fill_at="next_open"), r"^open: required by fill_at"),
        (dict(open=[1.0, 1.0]), dict(stop_loss=0.1), r"^high: required"),
        (dict(high=[2.0, 2.0]), dict(take_profit=0.1), r"^low: required"),
        (dict(high=[2.0, 2.0], low=[0.5, 3.0]), dict(trailing_stop=0.1), r"^low: above the close at index 1"),
        (dict(open=[1.0]), dict(), r"^open: length 1 differs"),
    ],
)
def test_missing_or_bad_bars_are_named(kwargs, config, match):
    with pytest.raises(ValueError, match=match):
        pyrt.backtest_strategy([1.0, 2.0], [1, 0], pyrt.BacktestConfig(**config), **kwargs)


@pytest.mark.parametrize(
    "config, match",
    [
        (dict(commission_rate=-0.1), "^commission_rate:"),
        (dict(commission_rate=1.0), "^commission_rate:"),
        (dict(fill_at="open"), "^fill_at:"),
        (dict(stop_loss=0), "^stop_loss:"),
        (dict(take_profit=-0.1), "^take_profit:"),
        (dict(trailing_stop=float("nan")), "^trailing_stop:"),
    ],
)
def test_bad_new_settings_are_named(config, match):
    with pytest.raises(ValueError, match=match):
        pyrt.BacktestConfig(**config)


def test_new_settings_round_trip():
    import pickle

    c = pyrt.BacktestConfig(commission_rate=0.001, fill_at="next_open", stop_loss=0.05, trailing_stop=0.1)
    assert (c.fill_at, c.stop_loss, c.take_profit, c.trailing_stop) == ("next_open", 0.05, None, 0.1)
    assert pickle.loads(pickle.dumps(c)) == c
    c.take_profit = 0.2
    assert c.take_profit == 0.2
    with pytest.raises(ValueError, match="^fill_at:"):
        c.fill_at = "later"
    assert c.fill_at == "next_open"


def test_boolean_signals_are_refused_and_nan_means_keep():
    pd = pytest.importorskip("pandas")
    close = pd.Series(100 + np.cumsum(np.random.default_rng(1).normal(0, 1, 200)))
    mask = close > close.rolling(20).mean()
    with pytest.raises(ValueError, match="^signals: a boolean array"):
        pyrt.backtest_strategy(close, mask)
    shifted = pd.Series(np.where(mask, 1, -1), index=close.index).shift(1)
    assert np.isnan(shifted.iloc[0])
    got = pyrt.backtest_strategy(close, shifted)
    want = pyrt.backtest_strategy(close, shifted.fillna(0).astype(int))
    np.testing.assert_array_equal(np.asarray(got.equity_curve), np.asarray(want.equity_curve))
