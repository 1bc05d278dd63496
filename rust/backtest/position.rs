//! Position accounting: signed quantity, average entry price, realized and
//! unrealized P&L, through adds, partial closes, full closes and flips.
//!
//! Commissions are costs of the position: each fill's commission is
//! subtracted from `realized_pnl` when it is paid (opening fills included),
//! so `realized_pnl` is the cash the closed part and its fees made. The
//! average entry price is the plain average of the fill prices.

use super::fills::Side;
use crate::error::{Error, Result};

/// The fields of `PositionSnapshot` in proto/messages.proto.
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    pub symbol: String,
    /// > 0 long, < 0 short.
    pub quantity: f64,
    /// 0.0 when flat.
    pub avg_entry_price: f64,
    /// The last fill or mark price (0.0 before any).
    pub current_price: f64,
    pub unrealized_pnl: f64,
    pub realized_pnl: f64,
    pub last_update_us: i64,
}

impl Position {
    pub fn new(symbol: &str) -> Result<Self> {
        if symbol.is_empty() {
            return Err(Error::invalid("symbol", "must not be empty"));
        }
        Ok(Position {
            symbol: symbol.to_string(),
            quantity: 0.0,
            avg_entry_price: 0.0,
            current_price: 0.0,
            unrealized_pnl: 0.0,
            realized_pnl: 0.0,
            last_update_us: 0,
        })
    }

    /// Books one fill, then marks the position at the fill price.
    pub fn apply_fill(&mut self, side: Side, quantity: f64, price: f64, commission: f64, timestamp_us: i64) -> Result<()> {
        if !(quantity > 0.0 && quantity.is_finite()) {
            return Err(Error::invalid("quantity", format!("must be finite and > 0, got {quantity}")));
        }
        if !(price > 0.0 && price.is_finite()) {
            return Err(Error::invalid("price", format!("must be finite and > 0, got {price}")));
        }
        if !(commission >= 0.0 && commission.is_finite()) {
            return Err(Error::invalid("commission", format!("must be finite and >= 0, got {commission}")));
        }
        let signed = if side == Side::Buy { quantity } else { -quantity };
        let held = self.quantity;
        if held == 0.0 || (held > 0.0) == (signed > 0.0) {
            // Opening or adding: the entry price becomes the size-weighted average.
            let total = held.abs() + quantity;
            self.avg_entry_price = (held.abs() * self.avg_entry_price + quantity * price) / total;
            self.quantity = held + signed;
        } else {
            let closed = held.abs().min(quantity);
            let direction = if held > 0.0 { 1.0 } else { -1.0 };
            self.realized_pnl += closed * (price - self.avg_entry_price) * direction;
            if quantity < held.abs() {
                self.quantity = held + signed;
            } else if quantity == held.abs() {
                self.quantity = 0.0;
                self.avg_entry_price = 0.0;
            } else {
                // A flip: the remainder opens a new position at this price.
                self.quantity = held + signed;
                self.avg_entry_price = price;
            }
        }
        self.realized_pnl -= commission;
        self.mark(price, timestamp_us)
    }

    /// Sets the current price and the unrealized P&L at it.
    pub fn mark(&mut self, price: f64, timestamp_us: i64) -> Result<()> {
        if !(price > 0.0 && price.is_finite()) {
            return Err(Error::invalid("price", format!("must be finite and > 0, got {price}")));
        }
        self.current_price = price;
        self.unrealized_pnl = if self.quantity == 0.0 { 0.0 } else { self.quantity * (price - self.avg_entry_price) };
        self.last_update_us = timestamp_us;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_partial_close_flip_and_full_close() {
        let mut p = Position::new("BTC/USD").unwrap();
        p.apply_fill(Side::Buy, 10.0, 100.0, 1.0, 1).unwrap();
        p.apply_fill(Side::Buy, 10.0, 110.0, 1.0, 2).unwrap();
        assert_eq!((p.quantity, p.avg_entry_price, p.realized_pnl), (20.0, 105.0, -2.0));
        assert_eq!(p.unrealized_pnl, 20.0 * 5.0);
        p.apply_fill(Side::Sell, 5.0, 120.0, 1.0, 3).unwrap();
        assert_eq!((p.quantity, p.avg_entry_price, p.realized_pnl), (15.0, 105.0, -3.0 + 75.0));
        // Sell 25: closes 15 at +15 each, then opens a 10 short at 120.
        p.apply_fill(Side::Sell, 25.0, 120.0, 0.0, 4).unwrap();
        assert_eq!((p.quantity, p.avg_entry_price, p.realized_pnl), (-10.0, 120.0, 72.0 + 225.0));
        p.mark(100.0, 5).unwrap();
        assert_eq!((p.unrealized_pnl, p.current_price, p.last_update_us), (200.0, 100.0, 5));
        p.apply_fill(Side::Buy, 10.0, 100.0, 0.0, 6).unwrap();
        assert_eq!((p.quantity, p.avg_entry_price, p.realized_pnl, p.unrealized_pnl), (0.0, 0.0, 497.0, 0.0));
    }

    #[test]
    fn bad_fills_are_named_and_change_nothing() {
        let mut p = Position::new("X").unwrap();
        assert!(p.apply_fill(Side::Buy, 0.0, 1.0, 0.0, 0).unwrap_err().message.starts_with("quantity:"));
        assert!(p.apply_fill(Side::Buy, 1.0, f64::NAN, 0.0, 0).unwrap_err().message.starts_with("price:"));
        assert!(p.apply_fill(Side::Buy, 1.0, 1.0, -1.0, 0).unwrap_err().message.starts_with("commission:"));
        assert_eq!(p, Position::new("X").unwrap());
        assert!(Position::new("").is_err());
    }
}
