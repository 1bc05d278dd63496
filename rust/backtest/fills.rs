//! Fill simulation for orders on OHLC bars.
//!
//! Rules (as vectorbt and backtesting.py apply them on bars):
//! - an order is live from the bar after the one it was submitted on, and
//!   stays live until it fills (there are no partial fills: volume is not
//!   modelled, so an order fills whole, at most once);
//! - market: fills at the first live bar's open;
//! - buy limit: fills when low <= limit, at min(open, limit) (an open that
//!   gaps through the limit fills at the better open); sell limit mirrors:
//!   high >= limit, at max(open, limit);
//! - buy stop: triggers when high >= stop, fills at max(open, stop); sell stop
//!   mirrors: low <= stop, at min(open, stop);
//! - stop-limit: once its stop triggers it is a limit order. On the trigger
//!   bar it fills only if the trigger price (max(open, stop) for a buy,
//!   min(open, stop) for a sell) is within the limit, at that trigger price;
//!   a fill that would need the price to come back to the limit after the
//!   trigger waits for the next bar, because the path inside a bar is unknown;
//! - slippage (`price * (1 ± slippage_bps / 1e4)`, worse for the taker)
//!   applies to market and stop fills, not to limit or stop-limit fills;
//! - every fill pays the fixed `commission`.

use crate::error::{Error, Result};

/// BUY = 0, SELL = 1, as `OrderRequest.Side` in proto/messages.proto.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Buy,
    Sell,
}

/// As `OrderRequest.OrderType` in proto/messages.proto.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderType {
    Market,
    Limit,
    Stop,
    StopLimit,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Order {
    pub submit_index: usize,
    pub side: Side,
    pub order_type: OrderType,
    pub quantity: f64,
    /// Used by LIMIT and STOP_LIMIT orders.
    pub limit_price: f64,
    /// Used by STOP and STOP_LIMIT orders.
    pub stop_price: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fill {
    pub order_index: usize,
    pub bar_index: usize,
    pub price: f64,
    pub quantity: f64,
    pub commission: f64,
}

fn positive(x: f64) -> bool {
    x > 0.0 && x.is_finite()
}

fn validate_bars(open: &[f64], high: &[f64], low: &[f64], close: &[f64]) -> Result<()> {
    let n = open.len();
    for (name, series) in [("high", high), ("low", low), ("close", close)] {
        if series.len() != n {
            return Err(Error::invalid(name, format!("length {} differs from the length of open ({n})", series.len())));
        }
    }
    for i in 0..n {
        for (name, x) in [("open", open[i]), ("high", high[i]), ("low", low[i]), ("close", close[i])] {
            if !positive(x) {
                return Err(Error::invalid(name, format!("must be finite and > 0, got {x} at index {i}")));
            }
        }
        if !(low[i] <= open[i].min(close[i]) && high[i] >= open[i].max(close[i])) {
            return Err(Error::invalid(
                "high",
                format!("bar {i} is inconsistent: need low <= open, close <= high, got open {} high {} low {} close {}", open[i], high[i], low[i], close[i]),
            ));
        }
    }
    Ok(())
}

fn validate_order(index: usize, order: &Order, bars: usize) -> Result<()> {
    let name = "orders";
    if order.submit_index >= bars {
        return Err(Error::invalid(name, format!("order {index}: submit_index {} is not a bar index (there are {bars} bars)", order.submit_index)));
    }
    if !positive(order.quantity) {
        return Err(Error::invalid(name, format!("order {index}: quantity must be finite and > 0, got {}", order.quantity)));
    }
    let needs_limit = matches!(order.order_type, OrderType::Limit | OrderType::StopLimit);
    let needs_stop = matches!(order.order_type, OrderType::Stop | OrderType::StopLimit);
    if needs_limit && !positive(order.limit_price) {
        return Err(Error::invalid(name, format!("order {index}: limit_price must be finite and > 0, got {}", order.limit_price)));
    }
    if needs_stop && !positive(order.stop_price) {
        return Err(Error::invalid(name, format!("order {index}: stop_price must be finite and > 0, got {}", order.stop_price)));
    }
    Ok(())
}

/// Where `order` fills, as (bar index, price before slippage, slipped?).
fn find_fill(order: &Order, open: &[f64], high: &[f64], low: &[f64]) -> Option<(usize, f64, bool)> {
    let buy = order.side == Side::Buy;
    let first = order.submit_index + 1;
    let limit_hit = |j: usize| if buy { low[j] <= order.limit_price } else { high[j] >= order.limit_price };
    let limit_fill = |j: usize| if buy { open[j].min(order.limit_price) } else { open[j].max(order.limit_price) };
    let stop_hit = |j: usize| if buy { high[j] >= order.stop_price } else { low[j] <= order.stop_price };
    let stop_fill = |j: usize| if buy { open[j].max(order.stop_price) } else { open[j].min(order.stop_price) };
    match order.order_type {
        OrderType::Market => (first < open.len()).then(|| (first, open[first], true)),
        OrderType::Limit => (first..open.len()).find(|&j| limit_hit(j)).map(|j| (j, limit_fill(j), false)),
        OrderType::Stop => (first..open.len()).find(|&j| stop_hit(j)).map(|j| (j, stop_fill(j), true)),
        OrderType::StopLimit => {
            let trigger = (first..open.len()).find(|&j| stop_hit(j))?;
            let at = stop_fill(trigger);
            let within = if buy { at <= order.limit_price } else { at >= order.limit_price };
            if within {
                return Some((trigger, at, false));
            }
            (trigger + 1..open.len()).find(|&j| limit_hit(j)).map(|j| (j, limit_fill(j), false))
        }
    }
}

/// Simulates `orders` on the bars; returns the fills ordered by bar, then by
/// order index. Orders that never fill produce no row.
pub fn simulate_fills(
    orders: &[Order],
    open: &[f64],
    high: &[f64],
    low: &[f64],
    close: &[f64],
    slippage_bps: f64,
    commission: f64,
) -> Result<Vec<Fill>> {
    if !(slippage_bps.is_finite() && (0.0..10_000.0).contains(&slippage_bps)) {
        return Err(Error::invalid("slippage_bps", format!("must be >= 0 and < 10000, got {slippage_bps}")));
    }
    if !(commission.is_finite() && commission >= 0.0) {
        return Err(Error::invalid("commission", format!("must be a finite number >= 0, got {commission}")));
    }
    validate_bars(open, high, low, close)?;
    for (i, order) in orders.iter().enumerate() {
        validate_order(i, order, open.len())?;
    }
    let mut fills = Vec::new();
    for (i, order) in orders.iter().enumerate() {
        if let Some((bar, price, slipped)) = find_fill(order, open, high, low) {
            let price = match (slipped, order.side) {
                (false, _) => price,
                (true, Side::Buy) => price * (1.0 + slippage_bps / 1e4),
                (true, Side::Sell) => price * (1.0 - slippage_bps / 1e4),
            };
            fills.push(Fill { order_index: i, bar_index: bar, price, quantity: order.quantity, commission });
        }
    }
    // Stable: fills of the same bar keep their order index order.
    fills.sort_by_key(|f| f.bar_index);
    Ok(fills)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Bars: open, high, low, close.
    const OPEN: [f64; 4] = [100.0, 101.0, 95.0, 104.0];
    const HIGH: [f64; 4] = [102.0, 103.0, 99.0, 108.0];
    const LOW: [f64; 4] = [99.0, 100.0, 94.0, 103.0];
    const CLOSE: [f64; 4] = [101.0, 100.5, 98.0, 107.0];

    fn order(side: Side, order_type: OrderType, limit_price: f64, stop_price: f64) -> Order {
        Order { submit_index: 0, side, order_type, quantity: 2.0, limit_price, stop_price }
    }

    fn fill(o: Order) -> Option<(usize, f64)> {
        let f = simulate_fills(&[o], &OPEN, &HIGH, &LOW, &CLOSE, 0.0, 0.0).unwrap();
        f.first().map(|f| (f.bar_index, f.price))
    }

    #[test]
    fn each_order_type() {
        use OrderType::*;
        use Side::*;
        assert_eq!(fill(order(Buy, Market, 0.0, 0.0)), Some((1, 101.0)));
        // Gap down through the buy limit at bar 2: filled at the open, 95.
        assert_eq!(fill(order(Buy, Limit, 97.0, 0.0)), Some((2, 95.0)));
        assert_eq!(fill(order(Buy, Limit, 100.5, 0.0)), Some((1, 100.5)));
        assert_eq!(fill(order(Sell, Limit, 105.0, 0.0)), Some((3, 105.0)));
        assert_eq!(fill(order(Buy, Limit, 50.0, 0.0)), None);
        // Gap up through the buy stop at bar 3: filled at the open, 104.
        assert_eq!(fill(order(Buy, Stop, 0.0, 103.5)), Some((3, 104.0)));
        assert_eq!(fill(order(Sell, Stop, 0.0, 96.0)), Some((2, 95.0)));
        // Triggered at bar 1 (103 >= 102.5); the limit 102 is below the trigger
        // price 102.5 so it waits: bar 2's low 94 <= 102 fills at the open 95.
        assert_eq!(fill(order(Buy, StopLimit, 102.0, 102.5)), Some((2, 95.0)));
        // Triggered at bar 1 at 102.5, within the limit 103: filled there.
        assert_eq!(fill(order(Buy, StopLimit, 103.0, 102.5)), Some((1, 102.5)));
        // Sell stop-limit: triggered at bar 2 at min(95, 97) = 95 < limit 96: waits;
        // bar 3's high 108 >= 96 fills at max(104, 96) = 104.
        assert_eq!(fill(order(Sell, StopLimit, 96.0, 97.0)), Some((3, 104.0)));
    }

    #[test]
    fn slippage_hits_market_and_stop_only() {
        let orders = [order(Side::Buy, OrderType::Market, 0.0, 0.0), order(Side::Buy, OrderType::Limit, 100.5, 0.0), order(Side::Sell, OrderType::Stop, 0.0, 96.0)];
        let f = simulate_fills(&orders, &OPEN, &HIGH, &LOW, &CLOSE, 100.0, 1.5).unwrap();
        assert_eq!(f.len(), 3);
        assert!((f[0].price - 101.0 * 1.01).abs() < 1e-12);
        assert_eq!(f[1].price, 100.5);
        assert!((f[2].price - 95.0 * 0.99).abs() < 1e-12);
        assert!(f.iter().all(|f| f.commission == 1.5 && f.quantity == 2.0));
    }

    #[test]
    fn bad_inputs_are_named() {
        let bad = |o: Order| simulate_fills(&[o], &OPEN, &HIGH, &LOW, &CLOSE, 0.0, 0.0).unwrap_err().message;
        assert!(bad(Order { submit_index: 4, ..order(Side::Buy, OrderType::Market, 0.0, 0.0) }).starts_with("orders: order 0: submit_index"));
        assert!(bad(order(Side::Buy, OrderType::Limit, f64::NAN, 0.0)).contains("limit_price"));
        assert!(bad(order(Side::Buy, OrderType::Stop, 0.0, 0.0)).contains("stop_price"));
        let e = simulate_fills(&[], &OPEN, &HIGH, &LOW[..3], &CLOSE, 0.0, 0.0).unwrap_err();
        assert!(e.message.starts_with("low:"));
        let e = simulate_fills(&[], &OPEN, &LOW, &HIGH, &CLOSE, 0.0, 0.0).unwrap_err();
        assert!(e.message.starts_with("high:"));
    }
}
