//! Value at risk and conditional value at risk, reported as positive losses.

use super::moments::{central_moments, lane_sum, mean, std_around};
use super::normal::normal_quantile;
use super::{check_confidence, check_finite};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarMethod {
    /// -quantile(r, 1 - confidence), NumPy's default linear quantile.
    Historical,
    /// -(mean + z * std(ddof=1)), z the normal quantile of 1 - confidence.
    Parametric,
    /// As parametric with z adjusted for the sample's skewness and excess
    /// kurtosis (biased moments, as scipy.stats.skew/kurtosis by default).
    CornishFisher,
}

/// NumPy's `quantile(values, q)` with the default linear method, using a
/// selection (O(n)) instead of a sort. `values` is reordered.
fn linear_quantile(values: &mut [f64], q: f64) -> f64 {
    let n = values.len();
    let virtual_index = (n - 1) as f64 * q;
    let below = virtual_index.floor();
    let previous = below as usize;
    if virtual_index >= (n - 1) as f64 {
        return values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    }
    let (_, &mut a, above) = values.select_nth_unstable_by(previous, f64::total_cmp);
    let b = above.iter().copied().fold(f64::INFINITY, f64::min);
    let gamma = virtual_index - below;
    // NumPy's _lerp: interpolate from the nearer end, so gamma = 1 gives b exactly.
    let diff = b - a;
    if gamma >= 0.5 {
        b - diff * (1.0 - gamma)
    } else {
        a + diff * gamma
    }
}

/// Value at risk of `returns` at `confidence`, a positive loss.
pub fn value_at_risk(returns: &[f64], confidence: f64, method: VarMethod) -> Result<f64> {
    check_finite(returns, "returns")?;
    check_confidence(confidence)?;
    let q = 1.0 - confidence;
    if method == VarMethod::Historical {
        let mut scratch = returns.to_vec();
        return Ok(-linear_quantile(&mut scratch, q));
    }
    if returns.len() < 2 {
        return Err(Error::invalid("returns", format!("needs at least 2 values for a standard deviation, got {}", returns.len())));
    }
    let mu = mean(returns);
    let z = normal_quantile(q);
    if method == VarMethod::Parametric {
        return Ok(-(mu + z * std_around(returns, mu, 1)));
    }
    let (m2, m3, m4) = central_moments(returns, mu);
    if m2 == 0.0 {
        // Constant returns: no spread, the loss is the (negated) return itself.
        return Ok(-mu);
    }
    let skew = m3 / m2.powf(1.5);
    let excess_kurtosis = m4 / (m2 * m2) - 3.0;
    let z2 = z * z;
    let z3 = z2 * z;
    let z_cf = z + (z2 - 1.0) * skew / 6.0 + (z3 - 3.0 * z) * excess_kurtosis / 24.0
        - (2.0 * z3 - 5.0 * z) * skew * skew / 36.0;
    let std = (m2 * returns.len() as f64 / (returns.len() - 1) as f64).sqrt();
    Ok(-(mu + z_cf * std))
}

/// Conditional value at risk, empyrical's `conditional_value_at_risk(r,
/// cutoff=1-confidence)` negated: minus the mean of the
/// `floor((n-1) * cutoff) + 1` smallest returns.
pub fn conditional_value_at_risk(returns: &[f64], confidence: f64) -> Result<f64> {
    check_finite(returns, "returns")?;
    check_confidence(confidence)?;
    let cutoff = 1.0 - confidence;
    let k = ((returns.len() - 1) as f64 * cutoff) as usize;
    let mut scratch = returns.to_vec();
    scratch.select_nth_unstable_by(k, f64::total_cmp);
    let tail = &scratch[..=k];
    Ok(-(lane_sum(tail, |x| x) / tail.len() as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn historical_matches_numpy_linear_quantile() {
        // np.quantile([5, 1, 4, 2, 3], 0.05) = 1.2 -> VaR -1.2
        let r = [5.0, 1.0, 4.0, 2.0, 3.0];
        assert!((value_at_risk(&r, 0.95, VarMethod::Historical).unwrap() - -1.2).abs() < 1e-12);
        assert_eq!(value_at_risk(&[0.3], 0.95, VarMethod::Historical).unwrap(), -0.3);
    }

    #[test]
    fn parametric_by_hand() {
        let r = [-0.02, 0.01, 0.03, -0.01];
        let mu = 0.0025;
        let var = r.iter().map(|x: &f64| (x - mu).powi(2)).sum::<f64>() / 3.0;
        let expected = -(mu + normal_quantile(0.05) * var.sqrt());
        assert!((value_at_risk(&r, 0.95, VarMethod::Parametric).unwrap() - expected).abs() < 1e-15);
    }

    #[test]
    fn cvar_averages_the_tail() {
        // n = 21, cutoff 0.05 -> index int(20 * 0.05) = 1: the two smallest.
        let r: Vec<f64> = (0..21).map(|i| i as f64 - 10.0).collect();
        assert!((conditional_value_at_risk(&r, 0.95).unwrap() - 9.5).abs() < 1e-12);
    }

    #[test]
    fn bad_inputs_are_named() {
        assert!(value_at_risk(&[], 0.95, VarMethod::Historical).unwrap_err().message.starts_with("returns:"));
        assert!(value_at_risk(&[0.1, f64::NAN], 0.95, VarMethod::Parametric).unwrap_err().message.starts_with("returns:"));
        assert!(value_at_risk(&[0.1, 0.2], 1.0, VarMethod::Historical).unwrap_err().message.starts_with("confidence:"));
        assert!(conditional_value_at_risk(&[0.1], 0.0).unwrap_err().message.starts_with("confidence:"));
        assert!(value_at_risk(&[0.1], 0.9, VarMethod::CornishFisher).unwrap_err().message.starts_with("returns:"));
    }
}
