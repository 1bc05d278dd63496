//! Sharpe and Sortino ratios (empyrical's definitions), maximum drawdown and
//! stop-based position sizing.

use super::without_nan;
use super::moments::{lane_sum, mean, std_around};
use crate::error::{Error, Result};

fn check_periods(periods_per_year: f64) -> Result<()> {
    if !(periods_per_year > 0.0 && periods_per_year.is_finite()) {
        return Err(Error::invalid("periods_per_year", format!("must be finite and > 0, got {periods_per_year}")));
    }
    Ok(())
}

fn check_number(x: f64, name: &str) -> Result<()> {
    if !x.is_finite() {
        return Err(Error::invalid(name, format!("must be finite, got {x}")));
    }
    Ok(())
}

/// empyrical's `sharpe_ratio(returns, risk_free, annualization=periods_per_year)`:
/// mean(r - risk_free) / std(r - risk_free, ddof=1) * sqrt(periods_per_year).
/// NaN for a single return; identical returns have a std of exactly 0 (so the
/// ratio is ±inf, or NaN when they are 0), as empyrical makes it. NaN values
/// are skipped (empyrical's nanmean and nanstd), but counted in the "at
/// least two returns" test, as empyrical counts them.
pub fn sharpe_ratio(returns: &[f64], risk_free: f64, periods_per_year: f64) -> Result<f64> {
    let all = returns.len();
    let returns = &*without_nan(returns, "returns")?;
    check_number(risk_free, "risk_free")?;
    check_periods(periods_per_year)?;
    if all < 2 || returns.is_empty() {
        return Ok(f64::NAN);
    }
    // empyrical subtracts the risk-free rate element by element; so do we,
    // in a scratch copy only when the rate is non-zero.
    let adjusted;
    let values: &[f64] = if risk_free == 0.0 {
        returns
    } else {
        adjusted = returns.iter().map(|r| r - risk_free).collect::<Vec<f64>>();
        &adjusted
    };
    let mu = mean(values);
    let mut std = std_around(values, mu, 1);
    // Identical values leave a rounding residue of at most about n * eps * |mean|
    // instead of an exact zero; only then is the (exact) check worth a pass.
    if std <= mu.abs() * values.len() as f64 * 4.0 * f64::EPSILON {
        let first = values[0];
        if values.iter().all(|&x| x == first) {
            std = 0.0;
        }
    }
    Ok(mu / std * periods_per_year.sqrt())
}

/// empyrical's `sortino_ratio(returns, required_return, annualization=periods_per_year)`:
/// mean(r - required) * periods_per_year divided by the annualised downside
/// risk sqrt(mean(min(r - required, 0)²)) * sqrt(periods_per_year). NaN for a
/// single return; ±inf when no return falls below `required_return`. NaN
/// values are skipped as in `sharpe_ratio`.
pub fn sortino_ratio(returns: &[f64], required_return: f64, periods_per_year: f64) -> Result<f64> {
    let all = returns.len();
    let returns = &*without_nan(returns, "returns")?;
    check_number(required_return, "required_return")?;
    check_periods(periods_per_year)?;
    if all < 2 || returns.is_empty() {
        return Ok(f64::NAN);
    }
    let n = returns.len() as f64;
    let average = lane_sum(returns, |r| r - required_return) / n * periods_per_year;
    let downside = lane_sum(returns, |r| {
        let d = (r - required_return).min(0.0);
        d * d
    }) / n;
    Ok(average / (downside.sqrt() * periods_per_year.sqrt()))
}

/// The largest fall from a running peak of `equity_curve`, as a positive
/// fraction of the peak; the peak starts at the first value, which must be > 0.
/// NaN values are skipped; NaN when every value is NaN.
pub fn max_drawdown(equity_curve: &[f64]) -> Result<f64> {
    let equity_curve = &*without_nan(equity_curve, "equity_curve")?;
    if equity_curve.is_empty() {
        return Ok(f64::NAN);
    }
    if !(equity_curve[0] > 0.0) {
        return Err(Error::invalid("equity_curve", format!("the first value must be > 0, got {}", equity_curve[0])));
    }
    Ok(crate::backtest::equity_max_drawdown(equity_curve))
}

/// Units to buy so that a stop-out loses `capital * risk_per_trade`, capped
/// by the leverage limit: min(capital*risk_per_trade/|entry-stop|,
/// capital*max_leverage/entry).
pub fn position_size(capital: f64, entry_price: f64, stop_price: f64, risk_per_trade: f64, max_leverage: f64) -> Result<f64> {
    let positive = |x: f64, name: &str| {
        if x > 0.0 && x.is_finite() {
            Ok(())
        } else {
            Err(Error::invalid(name, format!("must be finite and > 0, got {x}")))
        }
    };
    positive(capital, "capital")?;
    positive(entry_price, "entry_price")?;
    if !(stop_price >= 0.0 && stop_price.is_finite()) {
        return Err(Error::invalid("stop_price", format!("must be finite and >= 0, got {stop_price}")));
    }
    if stop_price == entry_price {
        return Err(Error::invalid("stop_price", format!("must differ from entry_price ({entry_price})")));
    }
    if !(risk_per_trade > 0.0 && risk_per_trade <= 1.0) {
        return Err(Error::invalid("risk_per_trade", format!("must be > 0 and <= 1, got {risk_per_trade}")));
    }
    positive(max_leverage, "max_leverage")?;
    let by_risk = capital * risk_per_trade / (entry_price - stop_price).abs();
    let by_leverage = capital * max_leverage / entry_price;
    Ok(by_risk.min(by_leverage))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sharpe_and_sortino_by_hand() {
        let r = [0.01, -0.02, 0.03];
        let mu = 0.02 / 3.0;
        let std = (r.iter().map(|x: &f64| (x - mu).powi(2)).sum::<f64>() / 2.0).sqrt();
        assert!((sharpe_ratio(&r, 0.0, 252.0).unwrap() - mu / std * 252f64.sqrt()).abs() < 1e-12);
        let downside = (0.02f64 * 0.02 / 3.0).sqrt() * 252f64.sqrt();
        assert!((sortino_ratio(&r, 0.0, 252.0).unwrap() - mu * 252.0 / downside).abs() < 1e-10);
        assert!(sharpe_ratio(&[0.1], 0.0, 252.0).unwrap().is_nan());
        assert_eq!(sharpe_ratio(&[0.1, 0.1], 0.0, 252.0).unwrap(), f64::INFINITY);
        // NaN is skipped, but counts towards the two returns needed.
        assert_eq!(sharpe_ratio(&[f64::NAN, 0.01, -0.02, 0.03], 0.0, 252.0).unwrap(), sharpe_ratio(&r, 0.0, 252.0).unwrap());
        assert!(sharpe_ratio(&[f64::NAN, 0.01], 0.0, 252.0).unwrap().is_nan());
        assert_eq!(sortino_ratio(&[0.01, f64::NAN, -0.02, 0.03], 0.0, 252.0).unwrap(), sortino_ratio(&r, 0.0, 252.0).unwrap());
        assert!(sharpe_ratio(&[f64::INFINITY, 0.01], 0.0, 252.0).unwrap_err().message.starts_with("returns:"));
    }

    #[test]
    fn position_size_takes_the_smaller_limit() {
        // risk: 100000 * 0.01 / 5 = 200; leverage: 100000 / 100 = 1000.
        assert_eq!(position_size(100_000.0, 100.0, 95.0, 0.01, 1.0).unwrap(), 200.0);
        // risk: 100000 * 0.01 / 0.5 = 2000 -> capped at 1000.
        assert_eq!(position_size(100_000.0, 100.0, 99.5, 0.01, 1.0).unwrap(), 1000.0);
        assert!(position_size(1.0, 10.0, 10.0, 0.01, 1.0).unwrap_err().message.starts_with("stop_price:"));
        assert!(position_size(0.0, 10.0, 9.0, 0.01, 1.0).unwrap_err().message.starts_with("capital:"));
    }

    #[test]
    fn drawdown_needs_a_positive_start() {
        assert_eq!(max_drawdown(&[100.0, 50.0, 75.0]).unwrap(), 0.5);
        assert!(max_drawdown(&[0.0, 1.0]).unwrap_err().message.starts_with("equity_curve:"));
        assert!(max_drawdown(&[]).unwrap_err().message.starts_with("equity_curve:"));
    }
}
