"""Position accounting against hand-worked examples."""

import pytest

import pyrt
from pyrt import BUY, SELL


def state(p):
    return (p.quantity, p.avg_entry_price, p.realized_pnl, p.unrealized_pnl)


def test_a_new_position_is_flat():
    p = pyrt.Position("BTC/USD")
    assert p.symbol == "BTC/USD"
    assert state(p) == (0.0, 0.0, 0.0, 0.0)
    assert (p.current_price, p.last_update_us) == (0.0, 0)


def test_adds_average_the_entry_price():
    p = pyrt.Position("AAPL")
    p.apply_fill(BUY, 100, 10.0, timestamp_us=1)
    p.apply_fill("buy", 300, 12.0, timestamp_us=2)
    # (100*10 + 300*12) / 400 = 11.5; marked at the last fill price 12.
    assert state(p) == (400.0, 11.5, 0.0, 400 * 0.5)
    assert (p.current_price, p.last_update_us) == (12.0, 2)


def test_partial_and_full_close_realize_pnl():
    p = pyrt.Position("AAPL")
    p.apply_fill(BUY, 100, 10.0)
    p.apply_fill(SELL, 40, 13.0)
    assert state(p) == (60.0, 10.0, 40 * 3.0, 60 * 3.0)
    p.mark(9.0, timestamp_us=77)
    assert p.unrealized_pnl == pytest.approx(-60.0)
    assert (p.current_price, p.last_update_us) == (9.0, 77)
    p.apply_fill(SELL, 60, 8.0)
    assert state(p) == (0.0, 0.0, pytest.approx(120.0 - 120.0), 0.0)


def test_a_flip_opens_the_remainder_at_the_fill_price():
    p = pyrt.Position("ES")
    p.apply_fill(BUY, 10, 100.0)
    p.apply_fill(SELL, 25, 110.0)
    # closes 10 at +10 each, then 15 short at 110
    assert state(p) == (-15.0, 110.0, 100.0, 0.0)
    p.mark(100.0)
    assert p.unrealized_pnl == 150.0
    p.apply_fill(BUY, 5, 104.0)  # covers 5 at +6 each
    assert state(p) == (-10.0, 110.0, 130.0, 60.0)
    p.apply_fill(BUY, 30, 90.0)  # covers 10 at +20, then 20 long at 90
    assert state(p) == (20.0, 90.0, 330.0, 0.0)


def test_commissions_reduce_realized_pnl():
    p = pyrt.Position("ES")
    p.apply_fill(BUY, 2, 50.0, 1.5)
    assert state(p) == (2.0, 50.0, -1.5, 0.0)
    p.apply_fill(SELL, 2, 55.0, 1.5)
    assert state(p) == (0.0, 0.0, 10.0 - 3.0, 0.0)


def test_short_from_flat():
    p = pyrt.Position("ES")
    p.apply_fill(SELL, 4, 20.0)
    p.apply_fill(SELL, 4, 22.0)
    assert state(p) == (-8.0, 21.0, 0.0, -8.0)
    p.apply_fill(BUY, 8, 19.0)
    assert state(p) == (0.0, 0.0, 16.0, 0.0)


def test_default_timestamp_is_now():
    import time

    p = pyrt.Position("X")
    before = time.time_ns() // 1000
    p.apply_fill(BUY, 1, 1.0)
    assert before <= p.last_update_us <= time.time_ns() // 1000


@pytest.mark.parametrize(
    "args, match",
    [
        ((2, 1.0, 1.0), "^side:"),
        (("long", 1.0, 1.0), "^side:"),
        ((BUY, 0.0, 1.0), "^quantity:"),
        ((BUY, float("inf"), 1.0), "^quantity:"),
        ((BUY, 1.0, -1.0), "^price:"),
        ((BUY, 1.0, float("nan")), "^price:"),
        ((BUY, 1.0, 1.0, -0.5), "^commission:"),
        ((BUY, "x", 1.0), "^quantity:"),
    ],
)
def test_bad_fills_raise_value_error_and_change_nothing(args, match):
    p = pyrt.Position("X")
    p.apply_fill(BUY, 1, 5.0, timestamp_us=3)
    before = state(p)
    with pytest.raises(ValueError, match=match):
        p.apply_fill(*args)
    assert state(p) == before


def test_bad_symbols_and_closed_positions():
    with pytest.raises(ValueError, match="^symbol:"):
        pyrt.Position("")
    with pytest.raises(ValueError, match="^symbol:"):
        pyrt.Position(None)
    with pytest.raises(ValueError, match="^symbol:"):
        pyrt.Position("AB\0C")
    with pytest.raises(ValueError, match="^price:"):
        pyrt.Position("X").mark(0.0)
    with pyrt.Position("X") as p:
        p.apply_fill(BUY, 1, 1.0)
    with pytest.raises(ValueError, match="closed"):
        p.quantity
    assert "closed" in repr(p)
