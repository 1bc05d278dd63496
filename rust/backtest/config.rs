//! The backtest's settings and their validation.

use crate::error::{Error, Result};

/// When a signal's target fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FillAt {
    /// At the close of the signal's own bar.
    Close,
    /// At the open of the next bar (needs the opens).
    NextOpen,
}

/// Settings of one backtest run. `Config::default()` is DESIGN's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// Starting cash; must be > 0.
    pub initial_capital: f64,
    /// Fixed cost paid once per fill; must be >= 0.
    pub commission: f64,
    /// Fills are `price * (1 ± slippage_bps / 1e4)`; must be in [0, 10000).
    pub slippage_bps: f64,
    /// Share of the cash committed when a position opens; in (0, 1].
    pub position_size: f64,
    /// A -1 signal opens a short when true; otherwise it only closes a long.
    pub allow_short: bool,
    /// Annualisation of the Sharpe ratio; must be > 0.
    pub periods_per_year: f64,
    /// A fraction of each fill's notional, paid on top of `commission`; in [0, 1).
    pub commission_rate: f64,
    pub fill_at: FillAt,
    /// Exit a long at `entry * (1 - stop_loss)` (a short at `entry * (1 + stop_loss)`); > 0.
    pub stop_loss: Option<f64>,
    /// Exit a long at `entry * (1 + take_profit)` (a short at `entry * (1 - take_profit)`); > 0.
    pub take_profit: Option<f64>,
    /// Exit a long at `best * (1 - trailing_stop)`, best the highest high since the entry; > 0.
    pub trailing_stop: Option<f64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            initial_capital: 100_000.0,
            commission: 0.0,
            slippage_bps: 0.0,
            position_size: 1.0,
            allow_short: false,
            periods_per_year: 252.0,
            commission_rate: 0.0,
            fill_at: FillAt::Close,
            stop_loss: None,
            take_profit: None,
            trailing_stop: None,
        }
    }
}

impl Config {
    /// Checks every field; the error names the first one out of its domain.
    pub fn validate(&self) -> Result<()> {
        let c = self;
        if !(c.initial_capital.is_finite() && c.initial_capital > 0.0) {
            return Err(Error::invalid("initial_capital", format!("must be a finite number > 0, got {}", c.initial_capital)));
        }
        if !(c.commission.is_finite() && c.commission >= 0.0) {
            return Err(Error::invalid("commission", format!("must be a finite number >= 0, got {}", c.commission)));
        }
        // 10000 bps would make every sell fill at zero or below.
        if !(c.slippage_bps.is_finite() && c.slippage_bps >= 0.0 && c.slippage_bps < 10_000.0) {
            return Err(Error::invalid("slippage_bps", format!("must be >= 0 and < 10000, got {}", c.slippage_bps)));
        }
        if !(c.position_size > 0.0 && c.position_size <= 1.0) {
            return Err(Error::invalid("position_size", format!("must be > 0 and <= 1, got {}", c.position_size)));
        }
        if !(c.periods_per_year.is_finite() && c.periods_per_year > 0.0) {
            return Err(Error::invalid("periods_per_year", format!("must be a finite number > 0, got {}", c.periods_per_year)));
        }
        // A rate of 1 or more would cost a whole fill's notional or more.
        if !(c.commission_rate >= 0.0 && c.commission_rate < 1.0) {
            return Err(Error::invalid("commission_rate", format!("must be >= 0 and < 1, got {}", c.commission_rate)));
        }
        for (value, name) in [(c.stop_loss, "stop_loss"), (c.take_profit, "take_profit"), (c.trailing_stop, "trailing_stop")] {
            if let Some(x) = value {
                if !(x.is_finite() && x > 0.0) {
                    return Err(Error::invalid(name, format!("must be a finite fraction > 0, got {x}")));
                }
            }
        }
        Ok(())
    }

    /// Whether any of the three stops is set (they need the highs and lows).
    pub fn has_stops(&self) -> bool {
        self.stop_loss.is_some() || self.take_profit.is_some() || self.trailing_stop.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(c: Config) -> String {
        c.validate().unwrap_err().message
    }

    #[test]
    fn defaults_are_valid() {
        Config::default().validate().unwrap();
    }

    #[test]
    fn each_bad_field_is_named() {
        let d = Config::default();
        assert!(message(Config { initial_capital: 0.0, ..d }).starts_with("initial_capital:"));
        assert!(message(Config { initial_capital: f64::NAN, ..d }).starts_with("initial_capital:"));
        assert!(message(Config { commission: -1.0, ..d }).starts_with("commission:"));
        assert!(message(Config { slippage_bps: -0.1, ..d }).starts_with("slippage_bps:"));
        assert!(message(Config { slippage_bps: 10_000.0, ..d }).starts_with("slippage_bps:"));
        assert!(message(Config { position_size: 0.0, ..d }).starts_with("position_size:"));
        assert!(message(Config { position_size: 1.5, ..d }).starts_with("position_size:"));
        assert!(message(Config { position_size: f64::NAN, ..d }).starts_with("position_size:"));
        assert!(message(Config { periods_per_year: 0.0, ..d }).starts_with("periods_per_year:"));
        assert!(message(Config { commission_rate: -0.001, ..d }).starts_with("commission_rate:"));
        assert!(message(Config { commission_rate: 1.0, ..d }).starts_with("commission_rate:"));
        assert!(message(Config { stop_loss: Some(0.0), ..d }).starts_with("stop_loss:"));
        assert!(message(Config { take_profit: Some(f64::NAN), ..d }).starts_with("take_profit:"));
        assert!(message(Config { trailing_stop: Some(-0.1), ..d }).starts_with("trailing_stop:"));
        Config { position_size: 1.0, slippage_bps: 9999.0, ..d }.validate().unwrap();
        Config { stop_loss: Some(0.05), take_profit: Some(2.0), trailing_stop: Some(0.1), ..d }.validate().unwrap();
    }
}
