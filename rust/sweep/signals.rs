//! Signal generators: prices in, target signals out (1 be long, -1 be short or
//! flat, 0 keep), exactly what `backtest_strategy` takes.
//!
//! Crossing rules (a comparison with NaN is false, so no signal is emitted
//! while an indicator is still warming up):
//! - `sma_cross` / `ema_cross`: 1 at bar i when the fast average crosses above
//!   the slow one (`fast[i-1] <= slow[i-1]` and `fast[i] > slow[i]`), -1 when it
//!   crosses below (`fast[i-1] >= slow[i-1]` and `fast[i] < slow[i]`). Any
//!   fast/slow pair is allowed; fast > slow is the mirrored strategy and
//!   fast == slow never trades.
//! - `price_sma_cross` (the specification's demo rule): 1 when
//!   `sma[i-1] < price[i-1]` and `sma[i] >= price[i]`, -1 when
//!   `sma[i-1] > price[i-1]` and `sma[i] <= price[i]`.
//! - `rsi_threshold`: 1 while RSI < lower, -1 while RSI > upper.
//! - `bollinger_reversion`: 1 while the price is below the lower band, -1
//!   while it is above the upper band.

use crate::error::{Error, Result};
use crate::indicators;

/// The built-in strategies a grid can sweep, with their parameter names in
/// the order their values are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    SmaCross,
    EmaCross,
    RsiThreshold,
    BollingerReversion,
    PriceSmaCross,
}

impl Strategy {
    pub fn param_names(self) -> &'static [&'static str] {
        match self {
            Strategy::SmaCross | Strategy::EmaCross => &["fast", "slow"],
            Strategy::RsiThreshold => &["window", "lower", "upper"],
            Strategy::BollingerReversion => &["window", "num_std"],
            Strategy::PriceSmaCross => &["window"],
        }
    }

    /// Checks one combination's values against `n_bars` before any work.
    pub fn check_params(self, params: &[f64], n_bars: usize) -> Result<()> {
        let names = self.param_names();
        if params.len() != names.len() {
            return Err(Error::invalid(
                "params",
                format!("expected {} values ({}), got {}", names.len(), names.join(", "), params.len()),
            ));
        }
        match self {
            Strategy::SmaCross | Strategy::EmaCross => {
                window_param("fast", params[0], n_bars)?;
                window_param("slow", params[1], n_bars)?;
            }
            Strategy::RsiThreshold => {
                window_param("window", params[0], n_bars)?;
                let (lower, upper) = (params[1], params[2]);
                if !(0.0..=100.0).contains(&lower) || !(0.0..=100.0).contains(&upper) || lower >= upper {
                    return Err(Error::invalid(
                        "lower",
                        format!("lower and upper must satisfy 0 <= lower < upper <= 100, got {lower} and {upper}"),
                    ));
                }
            }
            Strategy::BollingerReversion => {
                window_param("window", params[0], n_bars)?;
                if !(params[1].is_finite() && params[1] > 0.0) {
                    return Err(Error::invalid("num_std", format!("must be a finite number > 0, got {}", params[1])));
                }
            }
            Strategy::PriceSmaCross => window_param("window", params[0], n_bars)?,
        }
        Ok(())
    }

    /// Writes the strategy's signals for `prices` into `out`.
    pub fn signals(self, prices: &[f64], params: &[f64], scratch: &mut Scratch, out: &mut [i32]) -> Result<()> {
        self.check_params(params, prices.len())?;
        if out.len() != prices.len() {
            return Err(Error::invalid("out", format!("must have the length of prices ({}), got {}", prices.len(), out.len())));
        }
        scratch.resize(prices.len());
        let Scratch { a, b, c } = scratch;
        match self {
            Strategy::SmaCross => {
                indicators::sma(prices, params[0] as usize, a)?;
                indicators::sma(prices, params[1] as usize, b)?;
                crossings(a, b, out);
            }
            Strategy::EmaCross => {
                indicators::ema(prices, params[0] as usize, a)?;
                indicators::ema(prices, params[1] as usize, b)?;
                crossings(a, b, out);
            }
            Strategy::PriceSmaCross => {
                indicators::sma(prices, params[0] as usize, a)?;
                for i in 0..prices.len() {
                    out[i] = if i == 0 {
                        0
                    } else if a[i - 1] < prices[i - 1] && a[i] >= prices[i] {
                        1
                    } else if a[i - 1] > prices[i - 1] && a[i] <= prices[i] {
                        -1
                    } else {
                        0
                    };
                }
            }
            Strategy::RsiThreshold => {
                indicators::rsi(prices, params[0] as usize, a)?;
                let (lower, upper) = (params[1], params[2]);
                for (o, &r) in out.iter_mut().zip(a.iter()) {
                    *o = if r < lower { 1 } else if r > upper { -1 } else { 0 };
                }
            }
            Strategy::BollingerReversion => {
                indicators::bollinger_bands(prices, params[0] as usize, params[1], params[1], a, b, c)?;
                for i in 0..prices.len() {
                    let p = prices[i];
                    out[i] = if p < c[i] { 1 } else if p > a[i] { -1 } else { 0 };
                }
            }
        }
        Ok(())
    }
}

/// Working buffers reused from one combination to the next.
#[derive(Debug, Default)]
pub struct Scratch {
    a: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
}

impl Scratch {
    fn resize(&mut self, n: usize) {
        for v in [&mut self.a, &mut self.b, &mut self.c] {
            v.resize(n, 0.0);
        }
    }
}

fn window_param(name: &str, value: f64, n_bars: usize) -> Result<()> {
    if !(value.fract() == 0.0 && value >= 1.0 && value <= n_bars as f64) {
        return Err(Error::invalid(
            name,
            format!("must be a whole number from 1 to the number of bars ({n_bars}), got {value}"),
        ));
    }
    Ok(())
}

fn crossings(fast: &[f64], slow: &[f64], out: &mut [i32]) {
    if let Some(first) = out.first_mut() {
        *first = 0;
    }
    for i in 1..out.len() {
        let (f0, s0, f1, s1) = (fast[i - 1], slow[i - 1], fast[i], slow[i]);
        out[i] = if f0 <= s0 && f1 > s1 {
            1
        } else if f0 >= s0 && f1 < s1 {
            -1
        } else {
            0
        };
    }
}

fn generate(strategy: Strategy, prices: &[f64], params: &[f64], out: &mut [i32]) -> Result<()> {
    if prices.is_empty() {
        return Err(Error::invalid("prices", "must not be empty"));
    }
    strategy.signals(prices, params, &mut Scratch::default(), out)
}

/// Fast/slow simple-moving-average crossing; see the module notes.
pub fn sma_cross(prices: &[f64], fast: usize, slow: usize, out: &mut [i32]) -> Result<()> {
    generate(Strategy::SmaCross, prices, &[fast as f64, slow as f64], out)
}

/// Fast/slow exponential-moving-average crossing; see the module notes.
pub fn ema_cross(prices: &[f64], fast: usize, slow: usize, out: &mut [i32]) -> Result<()> {
    generate(Strategy::EmaCross, prices, &[fast as f64, slow as f64], out)
}

/// Long while RSI < lower, short/flat while RSI > upper.
pub fn rsi_threshold(prices: &[f64], window: usize, lower: f64, upper: f64, out: &mut [i32]) -> Result<()> {
    generate(Strategy::RsiThreshold, prices, &[window as f64, lower, upper], out)
}

/// Long below the lower Bollinger band, short/flat above the upper one.
pub fn bollinger_reversion(prices: &[f64], window: usize, num_std: f64, out: &mut [i32]) -> Result<()> {
    generate(Strategy::BollingerReversion, prices, &[window as f64, num_std], out)
}

/// The specification's demo rule: the SMA crossing the price.
pub fn price_sma_cross(prices: &[f64], window: usize, out: &mut [i32]) -> Result<()> {
    generate(Strategy::PriceSmaCross, prices, &[window as f64], out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sma_cross_marks_the_bars_where_the_averages_cross() {
        // fast = sma2, slow = sma3.
        let prices = [1.0, 2.0, 3.0, 2.0, 1.0, 1.0, 3.0, 5.0];
        let mut out = [9; 8];
        sma_cross(&prices, 2, 3, &mut out).unwrap();
        // sma2: -, 1.5, 2.5, 2.5, 1.5, 1.0, 2.0, 4.0
        // sma3: -, -, 2.0, 2.333, 2.0, 1.333, 1.667, 3.0
        assert_eq!(out, [0, 0, 0, 0, -1, 0, 1, 0]);
    }

    #[test]
    fn rsi_threshold_follows_the_levels() {
        let prices: Vec<f64> = (0..40).map(|i| if i < 20 { 100.0 - i as f64 } else { 80.0 + (i - 20) as f64 }).collect();
        let mut out = vec![9; 40];
        rsi_threshold(&prices, 5, 30.0, 70.0, &mut out).unwrap();
        assert!(out[..5].iter().all(|&s| s == 0));
        assert_eq!(out[10], 1); // falling prices: RSI 0
        assert_eq!(out[35], -1); // rising prices: RSI 100
    }

    #[test]
    fn bad_parameters_are_named() {
        let prices = [1.0, 2.0, 3.0];
        let mut out = [0; 3];
        assert!(sma_cross(&prices, 0, 2, &mut out).unwrap_err().message.starts_with("fast:"));
        assert!(sma_cross(&prices, 2, 4, &mut out).unwrap_err().message.starts_with("slow:"));
        assert!(rsi_threshold(&prices, 2, 70.0, 30.0, &mut out).unwrap_err().message.starts_with("lower:"));
        assert!(bollinger_reversion(&prices, 2, 0.0, &mut out).unwrap_err().message.starts_with("num_std:"));
        assert!(price_sma_cross(&[], 2, &mut []).unwrap_err().message.starts_with("prices:"));
    }
}
