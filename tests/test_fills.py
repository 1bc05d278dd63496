"""simulate_fills and calculate_slippage: every order type, gaps through the
limit or stop, orders that never fill, slippage, layouts and bad input."""

import numpy as np
import pytest

import pyrt
from pyrt import BUY, LIMIT, MARKET, SELL, STOP, STOP_LIMIT

# Four bars: open, high, low, close. Bar 2 gaps down, bar 3 gaps up.
OPEN = [100.0, 101.0, 95.0, 104.0]
HIGH = [102.0, 103.0, 99.0, 108.0]
LOW = [99.0, 100.0, 94.0, 103.0]
CLOSE = [101.0, 100.5, 98.0, 107.0]


def orders(*rows):
    return np.array(list(rows), dtype=pyrt.ORDER_DTYPE)


def one_fill(side, order_type, limit=0.0, stop=0.0, submit=0, **kwargs):
    fills = pyrt.simulate_fills(orders((submit, side, order_type, 2.0, limit, stop)), OPEN, HIGH, LOW, CLOSE, **kwargs)
    assert len(fills) <= 1
    return (int(fills["bar_index"][0]), float(fills["price"][0])) if len(fills) else None


def test_constants_match_the_proto_enums():
    assert (BUY, SELL) == (0, 1)
    assert (MARKET, LIMIT, STOP, STOP_LIMIT) == (0, 1, 2, 3)


def test_market_orders_fill_at_the_next_open():
    assert one_fill(BUY, MARKET) == (1, 101.0)
    assert one_fill(SELL, MARKET, submit=2) == (3, 104.0)
    assert one_fill(BUY, MARKET, submit=3) is None  # submitted on the last bar: never live


def test_limit_orders():
    assert one_fill(BUY, LIMIT, limit=100.5) == (1, 100.5)        # touched inside the bar
    assert one_fill(BUY, LIMIT, limit=97.0) == (2, 95.0)          # bar 2 opens through the limit: the open
    assert one_fill(SELL, LIMIT, limit=102.5) == (1, 102.5)
    assert one_fill(SELL, LIMIT, limit=103.5) == (3, 104.0)       # bar 3 opens above the limit: the open
    assert one_fill(BUY, LIMIT, limit=90.0) is None               # never reached
    assert one_fill(SELL, LIMIT, limit=200.0) is None


def test_stop_orders():
    assert one_fill(BUY, STOP, stop=102.5) == (1, 102.5)
    assert one_fill(BUY, STOP, stop=103.5) == (3, 104.0)          # gap up through the stop: the open
    assert one_fill(SELL, STOP, stop=99.5) == (2, 95.0)           # gap down through the stop: the open
    assert one_fill(SELL, STOP, stop=94.5) == (2, 94.5)
    assert one_fill(BUY, STOP, stop=120.0) is None


def test_stop_limit_orders():
    # Triggered on bar 1 at 102.5, within the limit 103: filled there.
    assert one_fill(BUY, STOP_LIMIT, limit=103.0, stop=102.5) == (1, 102.5)
    # Triggered on bar 1 at 102.5, above the limit 102: waits; bar 2 opens at 95 <= 102.
    assert one_fill(BUY, STOP_LIMIT, limit=102.0, stop=102.5) == (2, 95.0)
    # Triggered by bar 3's gap (open 104 >= stop 103.5) but 104 > limit 103.8, and
    # no later bar: never filled.
    assert one_fill(BUY, STOP_LIMIT, limit=103.8, stop=103.5) is None
    # Sell: triggered on bar 2 at min(95, 97) = 95 < limit 96: waits; bar 3 high 108 >= 96 at the open 104.
    assert one_fill(SELL, STOP_LIMIT, limit=96.0, stop=97.0) == (3, 104.0)
    # Sell: triggered on bar 2 at 95 >= limit 94: filled at the trigger price.
    assert one_fill(SELL, STOP_LIMIT, limit=94.0, stop=97.0) == (2, 95.0)
    # Never triggered.
    assert one_fill(SELL, STOP_LIMIT, limit=80.0, stop=90.0) is None


def test_slippage_applies_to_market_and_stop_fills_only():
    kwargs = dict(slippage_bps=50.0, commission=1.25)
    assert one_fill(BUY, MARKET, **kwargs) == (1, pytest.approx(101.0 * 1.005))
    assert one_fill(SELL, MARKET, **kwargs) == (1, pytest.approx(101.0 * 0.995))
    assert one_fill(BUY, STOP, stop=102.5, **kwargs) == (1, pytest.approx(102.5 * 1.005))
    assert one_fill(SELL, STOP, stop=99.5, **kwargs) == (2, pytest.approx(95.0 * 0.995))
    assert one_fill(BUY, LIMIT, limit=100.5, **kwargs) == (1, 100.5)
    assert one_fill(BUY, STOP_LIMIT, limit=103.0, stop=102.5, **kwargs) == (1, 102.5)


def test_many_orders_are_ordered_by_bar_then_order_index():
    batch = orders(
        (0, BUY, LIMIT, 1.0, 97.0, 0.0),     # bar 2
        (0, BUY, MARKET, 2.0, 0.0, 0.0),     # bar 1
        (1, SELL, MARKET, 3.0, 0.0, 0.0),    # bar 2
        (0, BUY, LIMIT, 4.0, 50.0, 0.0),     # never
        (2, BUY, STOP, 5.0, 0.0, 103.5),     # bar 3
    )
    fills = pyrt.simulate_fills(batch, OPEN, HIGH, LOW, CLOSE, commission=0.5)
    assert fills.dtype == pyrt.FILL_DTYPE
    assert list(fills["order_index"]) == [1, 0, 2, 4]
    assert list(fills["bar_index"]) == [1, 2, 2, 3]
    np.testing.assert_array_equal(fills["price"], [101.0, 95.0, 95.0, 104.0])
    np.testing.assert_array_equal(fills["quantity"], [2.0, 1.0, 3.0, 5.0])
    np.testing.assert_array_equal(fills["commission"], [0.5] * 4)
    assert len(pyrt.simulate_fills(orders(), OPEN, HIGH, LOW, CLOSE)) == 0


def test_orders_from_other_structured_arrays_and_tuples():
    other = np.zeros(1, dtype=[("quantity", "f4"), ("submit_index", "i8"), ("side", "i8"), ("order_type", "u1"),
                               ("limit_price", "f8"), ("stop_price", "f8")])
    other[0] = (2.0, 0, SELL, LIMIT, 102.5, 0.0)
    assert pyrt.simulate_fills(other, OPEN, HIGH, LOW, CLOSE)["price"].tolist() == [102.5]
    assert pyrt.simulate_fills([(0, BUY, MARKET, 1.0, 0.0, 0.0)], OPEN, HIGH, LOW, CLOSE)["price"].tolist() == [101.0]


def test_layouts_match_the_c_structs():
    from pyrt._core import ffi

    assert pyrt.ORDER_DTYPE.itemsize == ffi.sizeof("PyrtOrder") == 40
    assert [pyrt.ORDER_DTYPE.fields[n][1] for n in pyrt.ORDER_DTYPE.names] == [0, 8, 12, 16, 24, 32]
    assert pyrt.ORDER_DTYPE.names == ("submit_index", "side", "order_type", "quantity", "limit_price", "stop_price")
    assert pyrt.FILL_DTYPE.itemsize == ffi.sizeof("PyrtFill") == 40
    assert [pyrt.FILL_DTYPE.fields[n][1] for n in pyrt.FILL_DTYPE.names] == [0, 8, 16, 24, 32]
    assert pyrt.FILL_DTYPE.names == ("order_index", "bar_index", "price", "quantity", "commission")


@pytest.mark.parametrize(
    "order, match",
    [
        ((4, BUY, MARKET, 1.0, 0.0, 0.0), r"orders: order 0: submit_index 4"),
        ((0, 2, MARKET, 1.0, 0.0, 0.0), r"orders: order 0: side"),
        ((0, BUY, 4, 1.0, 0.0, 0.0), r"orders: order 0: order_type"),
        ((0, BUY, MARKET, 0.0, 0.0, 0.0), r"orders: order 0: quantity"),
        ((0, BUY, LIMIT, 1.0, np.nan, 0.0), r"orders: order 0: limit_price"),
        ((0, BUY, STOP, 1.0, 0.0, -1.0), r"orders: order 0: stop_price"),
        ((0, SELL, STOP_LIMIT, 1.0, 0.0, 99.0), r"orders: order 0: limit_price"),
    ],
)
def test_bad_orders_raise_value_error(order, match):
    with pytest.raises(ValueError, match=match):
        pyrt.simulate_fills(orders(order), OPEN, HIGH, LOW, CLOSE)


def test_bad_bars_and_arguments_raise_value_error():
    good = orders((0, BUY, MARKET, 1.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="^low: length 3"):
        pyrt.simulate_fills(good, OPEN, HIGH, LOW[:3], CLOSE)
    with pytest.raises(ValueError, match="^high: bar 0 is inconsistent"):
        pyrt.simulate_fills(good, OPEN, LOW, HIGH, CLOSE)
    with pytest.raises(ValueError, match="^close: must be finite"):
        pyrt.simulate_fills(good, OPEN, HIGH, LOW, [101.0, np.nan, 98.0, 107.0])
    with pytest.raises(ValueError, match="^slippage_bps:"):
        pyrt.simulate_fills(good, OPEN, HIGH, LOW, CLOSE, slippage_bps=-1.0)
    with pytest.raises(ValueError, match="^commission:"):
        pyrt.simulate_fills(good, OPEN, HIGH, LOW, CLOSE, commission=-1.0)
    with pytest.raises(ValueError, match="^orders:"):
        pyrt.simulate_fills([(-1, BUY, MARKET, 1.0, 0.0, 0.0)], OPEN, HIGH, LOW, CLOSE)
    with pytest.raises(ValueError, match="^orders: order 0: submit_index"):
        pyrt.simulate_fills(np.array([(-1, 0, 0, 1.0, 0.0, 0.0)], dtype=[
            ("submit_index", "i8"), ("side", "i4"), ("order_type", "i4"), ("quantity", "f8"),
            ("limit_price", "f8"), ("stop_price", "f8")]), OPEN, HIGH, LOW, CLOSE)
    with pytest.raises(ValueError, match="^orders: missing field"):
        pyrt.simulate_fills(np.zeros(1, dtype=[("side", "i4")]), OPEN, HIGH, LOW, CLOSE)
    with pytest.raises(ValueError, match="^orders: order 0: side"):
        pyrt.simulate_fills(np.array([(0, 2**33, 0, 1.0, 0.0, 0.0)], dtype=[
            ("submit_index", "u8"), ("side", "i8"), ("order_type", "i4"), ("quantity", "f8"),
            ("limit_price", "f8"), ("stop_price", "f8")]), OPEN, HIGH, LOW, CLOSE)


def test_bps_slippage_is_worse_for_the_taker():
    assert pyrt.calculate_slippage(100.0, 10.0, BUY, slippage_bps=5.0) == pytest.approx(100.05, rel=1e-15)
    assert pyrt.calculate_slippage(100.0, 10.0, "sell", slippage_bps=5.0) == pytest.approx(99.95, rel=1e-15)
    assert isinstance(pyrt.calculate_slippage(100.0, 10.0, "BUY"), float)
    out = pyrt.calculate_slippage(np.array([100.0, 200.0, 50.0]), 1.0, np.array([BUY, SELL, BUY]), slippage_bps=10)
    np.testing.assert_allclose(out, [100.1, 199.8, 50.05], rtol=1e-15)
    grid = pyrt.calculate_slippage(np.array([[100.0], [200.0]]), 1.0, ["buy", "sell"], slippage_bps=10)
    np.testing.assert_allclose(grid, [[100.1, 99.9], [200.2, 199.8]], rtol=1e-15)


def test_square_root_impact():
    price, quantity, vol, adv, k = 50.0, np.array([0.0, 10_000.0, 250_000.0]), 0.02, 1_000_000.0, 0.5
    impact = k * vol * np.sqrt(quantity / adv)
    buys = pyrt.calculate_slippage(price, quantity, BUY, model="square_root", coefficient=k, volatility=vol,
                                   daily_volume=adv)
    sells = pyrt.calculate_slippage(price, quantity, SELL, model="sqrt", coefficient=k, volatility=vol,
                                    daily_volume=adv)
    np.testing.assert_allclose(buys, price * (1 + impact), rtol=1e-15)
    np.testing.assert_allclose(sells, price * (1 - impact), rtol=1e-15)
    assert buys[1] == pytest.approx(50.05)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((100.0, 1.0, "hold"), {}, "^side:"),
        ((100.0, 1.0, 2), {}, "^side:"),
        ((100.0, 1.0, 1.5), {}, "^side:"),
        ((100.0, 1.0, True), {}, "^side:"),
        ((100.0, 1.0, np.array([True, False])), {}, "^side:"),
        ((-1.0, 1.0, BUY), {}, "^price:"),
        ((100.0, -1.0, BUY), {}, "^quantity:"),
        ((100.0, 1.0, BUY), dict(slippage_bps=-1.0), "^slippage_bps:"),
        ((100.0, 1.0, BUY), dict(model="linear"), "^model:"),
        ((100.0, 1.0, BUY), dict(model="square_root", daily_volume=1e6), "^volatility:"),
        ((100.0, 1.0, BUY), dict(model="square_root", volatility=0.02), "^daily_volume:"),
        ((100.0, 1.0, BUY), dict(model="square_root", volatility=0.02, daily_volume=0.0), "^daily_volume:"),
        ((100.0, 1.0, BUY), dict(model="square_root", volatility=-0.02, daily_volume=1.0), "^volatility:"),
        (([1.0, 2.0], [1.0, 2.0, 3.0], BUY), {}, "^price: cannot broadcast"),
    ],
)
def test_bad_slippage_arguments(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        pyrt.calculate_slippage(*args, **kwargs)


def reference_fills(orders, open_, high, low, slippage_bps, commission):
    """The docstring's rules, one order and one bar at a time."""
    fills = []
    for index, (submit, side, kind, quantity, limit, stop) in enumerate(orders):
        buy = side == BUY
        triggered = False
        for j in range(submit + 1, len(open_)):
            price = slipped = None
            if kind == MARKET:
                price, slipped = open_[j], True
            elif kind == LIMIT or (kind == STOP_LIMIT and triggered):
                if (low[j] <= limit) if buy else (high[j] >= limit):
                    price, slipped = (min(open_[j], limit) if buy else max(open_[j], limit)), False
            else:  # STOP, or a STOP_LIMIT not yet triggered
                if (high[j] >= stop) if buy else (low[j] <= stop):
                    at = max(open_[j], stop) if buy else min(open_[j], stop)
                    if kind == STOP:
                        price, slipped = at, True
                    else:
                        triggered = True
                        if (at <= limit) if buy else (at >= limit):
                            price, slipped = at, False
            if price is not None:
                if slipped:
                    price = price * (1 + slippage_bps / 1e4) if buy else price * (1 - slippage_bps / 1e4)
                fills.append((j, index, price, quantity, commission))
                break
    fills.sort(key=lambda f: (f[0], f[1]))
    return fills


def test_random_orders_match_the_rules():
    rng = np.random.default_rng(2024)
    for trial in range(40):
        n = int(rng.integers(2, 60))
        close = 100 + np.cumsum(rng.normal(0, 1, n))
        open_ = close + rng.normal(0, 1.5, n)  # gaps
        high = np.maximum(open_, close) + rng.exponential(0.7, n)
        low = np.minimum(open_, close) - rng.exponential(0.7, n)
        m = int(rng.integers(0, 30))
        batch = np.zeros(m, dtype=pyrt.ORDER_DTYPE)
        batch["submit_index"] = rng.integers(0, n, m)
        batch["side"] = rng.integers(0, 2, m)
        batch["order_type"] = rng.integers(0, 4, m)
        batch["quantity"] = rng.integers(1, 100, m)
        batch["limit_price"] = close[batch["submit_index"]] + rng.normal(0, 2, m)
        batch["stop_price"] = close[batch["submit_index"]] + rng.normal(0, 2, m)
        slippage_bps, commission = float(rng.choice([0.0, 7.5])), float(rng.choice([0.0, 1.0]))
        fills = pyrt.simulate_fills(batch, open_, high, low, close, slippage_bps=slippage_bps, commission=commission)
        want = reference_fills(batch.tolist(), open_, high, low, slippage_bps, commission)
        assert [(int(f["bar_index"]), int(f["order_index"])) for f in fills] == [(w[0], w[1]) for w in want], trial
        np.testing.assert_allclose(fills["price"], [w[2] for w in want], rtol=1e-15)
        np.testing.assert_array_equal(fills["quantity"], [w[3] for w in want])
        np.testing.assert_array_equal(fills["commission"], [w[4] for w in want])
