//! The backtest's settings and their validation.

use crate::error::{Error, Result};

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
        Ok(())
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
        Config { position_size: 1.0, slippage_bps: 9999.0, ..d }.validate().unwrap();
    }
}
