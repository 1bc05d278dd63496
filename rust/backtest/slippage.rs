//! Slippage models: the execution price a taker gets, worse than `price`
//! (higher for a buy, lower for a sell).

use super::fills::Side;
use crate::error::{Error, Result};

fn check_price_quantity(price: f64, quantity: f64) -> Result<()> {
    if !(price > 0.0 && price.is_finite()) {
        return Err(Error::invalid("price", format!("must be finite and > 0, got {price}")));
    }
    if !(quantity >= 0.0 && quantity.is_finite()) {
        return Err(Error::invalid("quantity", format!("must be finite and >= 0, got {quantity}")));
    }
    Ok(())
}

fn apply(price: f64, side: Side, fraction: f64) -> f64 {
    match side {
        Side::Buy => price * (1.0 + fraction),
        Side::Sell => price * (1.0 - fraction),
    }
}

/// Fixed basis points: `price * (1 ± slippage_bps / 1e4)`.
pub fn bps_price(price: f64, quantity: f64, side: Side, slippage_bps: f64) -> Result<f64> {
    check_price_quantity(price, quantity)?;
    if !(slippage_bps.is_finite() && (0.0..10_000.0).contains(&slippage_bps)) {
        return Err(Error::invalid("slippage_bps", format!("must be >= 0 and < 10000, got {slippage_bps}")));
    }
    Ok(apply(price, side, slippage_bps / 1e4))
}

/// Square-root market impact: the price moves by the fraction
/// `coefficient * volatility * sqrt(quantity / daily_volume)`, with
/// `volatility` the daily volatility of returns (a fraction).
pub fn square_root_impact_price(
    price: f64,
    quantity: f64,
    side: Side,
    coefficient: f64,
    volatility: f64,
    daily_volume: f64,
) -> Result<f64> {
    check_price_quantity(price, quantity)?;
    if !(coefficient >= 0.0 && coefficient.is_finite()) {
        return Err(Error::invalid("coefficient", format!("must be finite and >= 0, got {coefficient}")));
    }
    if !(volatility >= 0.0 && volatility.is_finite()) {
        return Err(Error::invalid("volatility", format!("must be finite and >= 0, got {volatility}")));
    }
    if !(daily_volume > 0.0 && daily_volume.is_finite()) {
        return Err(Error::invalid("daily_volume", format!("must be finite and > 0, got {daily_volume}")));
    }
    let impact = coefficient * volatility * (quantity / daily_volume).sqrt();
    if side == Side::Sell && impact >= 1.0 {
        return Err(Error::invalid("quantity", format!("{quantity} moves a sell price by {impact} of itself, to zero or below")));
    }
    Ok(apply(price, side, impact))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bps_is_worse_for_the_taker() {
        assert!((bps_price(100.0, 1.0, Side::Buy, 5.0).unwrap() - 100.05).abs() < 1e-12);
        assert!((bps_price(100.0, 1.0, Side::Sell, 5.0).unwrap() - 99.95).abs() < 1e-12);
        assert!(bps_price(100.0, 1.0, Side::Buy, -1.0).unwrap_err().message.starts_with("slippage_bps:"));
        assert!(bps_price(0.0, 1.0, Side::Buy, 1.0).unwrap_err().message.starts_with("price:"));
    }

    #[test]
    fn square_root_impact_by_hand() {
        // 0.5 * 0.02 * sqrt(10000 / 1e6) = 0.001
        let buy = square_root_impact_price(50.0, 10_000.0, Side::Buy, 0.5, 0.02, 1e6).unwrap();
        assert!((buy - 50.05).abs() < 1e-12);
        let sell = square_root_impact_price(50.0, 10_000.0, Side::Sell, 0.5, 0.02, 1e6).unwrap();
        assert!((sell - 49.95).abs() < 1e-12);
        let e = square_root_impact_price(50.0, 1.0, Side::Buy, 1.0, 0.02, 0.0).unwrap_err();
        assert!(e.message.starts_with("daily_volume:"));
        let e = square_root_impact_price(50.0, 1e12, Side::Sell, 1.0, 1.0, 1.0).unwrap_err();
        assert!(e.message.starts_with("quantity:"));
    }
}
