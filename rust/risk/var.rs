//! Value at risk and conditional value at risk, reported as positive losses.

use super::moments::{central_moments, mean, std_around};
use super::normal::normal_quantile;
use super::{check_confidence, without_nan};
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

/// A u64 whose unsigned order is the numeric order of finite floats, so a
/// selection compares integers instead of floats.
#[inline]
fn order_key(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

#[inline]
fn from_order_key(key: u64) -> f64 {
    if key >> 63 == 1 {
        f64::from_bits(key & !(1 << 63))
    } else {
        f64::from_bits(!key)
    }
}

/// The order statistics a tail measure needs: the `index`-th smallest value,
/// the next one up (None when `index` is the last), and the sum of the
/// `index + 1` smallest values.
struct Tail {
    at: f64,
    next: Option<f64>,
    sum_through: f64,
}

/// Below this many values a plain selection is as fast as anything cleverer.
const SAMPLING_MIN_LEN: usize = 1 << 14;
const SAMPLE_LEN: usize = 4096;

/// Tail order statistics without copying or reordering the input (the
/// Floyd-Rivest idea): a sorted sample of the values brackets the `index`-th
/// value between two keys; one streaming pass then counts and sums what lies
/// below the bracket and collects only what lies inside it (a few percent of
/// the values), which is selected among. Should the bracket miss, which a
/// sample can, the exact fallback is a full selection on a copy.
fn tail_statistics(values: &[f64], index: usize) -> Tail {
    let n = values.len();
    if n >= SAMPLING_MIN_LEN {
        if let Some(tail) = bracketed_tail(values, index) {
            return tail;
        }
    }
    let mut keys: Vec<u64> = values.iter().map(|&x| order_key(x)).collect();
    keys.select_nth_unstable(index);
    finish(&mut keys, index, 0.0)
}

fn bracketed_tail(values: &[f64], index: usize) -> Option<Tail> {
    let n = values.len();
    let stride = n / SAMPLE_LEN;
    let mut sample: Vec<f64> = (0..SAMPLE_LEN).map(|i| values[i * stride + stride / 2]).collect();
    sample.sort_unstable_by(f64::total_cmp);
    // The index-th value sits near sample position p*s; widen by about four
    // standard deviations of that position, plus a constant for small tails.
    let s = SAMPLE_LEN as f64;
    let p = index as f64 / (n - 1) as f64;
    let centre = p * (s - 1.0);
    let margin = 4.0 * (s * p * (1.0 - p)).sqrt() + 8.0;
    let (lo_pos, hi_pos) = (centre - margin, centre + margin);
    let lo = if lo_pos < 0.0 { f64::NEG_INFINITY } else { sample[lo_pos as usize] };
    let hi = if hi_pos >= s - 1.0 { f64::INFINITY } else { sample[hi_pos as usize] };

    // One branch-free pass: count and sum what lies below the bracket and
    // gather what lies inside it into a buffer sized for twice the expected
    // share (its last slot absorbs the writes of values outside the bracket).
    let capacity = (2.0 * n as f64 * (hi_pos - lo_pos) / s) as usize + 1024;
    let mut inside = vec![0.0f64; capacity + 1];
    let mut below = 0usize;
    let mut gathered = 0usize;
    let mut sums = [0.0f64; 4];
    for chunk in values.chunks(4) {
        for (lane, &x) in chunk.iter().enumerate() {
            let is_below = x < lo;
            below += is_below as usize;
            sums[lane & 3] += if is_below { x } else { 0.0 };
            inside[gathered.min(capacity)] = x;
            gathered += (!is_below & (x <= hi)) as usize;
        }
    }
    if gathered > capacity || index < below || index >= below + gathered {
        return None;
    }
    inside.truncate(gathered);
    let local = index - below;
    let mut keys: Vec<u64> = inside.iter().map(|&x| order_key(x)).collect();
    keys.select_nth_unstable(local);
    let mut tail = finish(&mut keys, local, (sums[0] + sums[1]) + (sums[2] + sums[3]));
    if tail.next.is_none() && index + 1 < n {
        // The next value is above the bracket: one more pass, rarely needed.
        tail.next = Some(values.iter().copied().filter(|&x| x > hi).fold(f64::INFINITY, f64::min));
    }
    Some(tail)
}

/// `keys` selected at `index`: reads the tail statistics off it.
fn finish(keys: &mut [u64], index: usize, sum_before: f64) -> Tail {
    let mut sums = [0.0f64; 4];
    for chunk in keys[..=index].chunks(4) {
        for (lane, &key) in sums.iter_mut().zip(chunk) {
            *lane += from_order_key(key);
        }
    }
    Tail {
        at: from_order_key(keys[index]),
        next: keys[index + 1..].iter().copied().min().map(from_order_key),
        sum_through: sum_before + ((sums[0] + sums[1]) + (sums[2] + sums[3])),
    }
}

/// NumPy's `quantile(values, q)` with the default linear method, using a
/// selection instead of a sort.
fn linear_quantile(values: &[f64], q: f64) -> f64 {
    let n = values.len();
    let virtual_index = (n - 1) as f64 * q;
    if virtual_index >= (n - 1) as f64 {
        return values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    }
    let below = virtual_index.floor();
    let tail = tail_statistics(values, below as usize);
    let (a, b) = (tail.at, tail.next.expect("below < n - 1"));
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
/// NaN values are skipped; NaN when every value is NaN.
pub fn value_at_risk(returns: &[f64], confidence: f64, method: VarMethod) -> Result<f64> {
    let returns = &*without_nan(returns, "returns")?;
    check_confidence(confidence)?;
    if returns.is_empty() {
        return Ok(f64::NAN);
    }
    let q = 1.0 - confidence;
    if method == VarMethod::Historical {
        return Ok(-linear_quantile(returns, q));
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
/// `floor((n-1) * cutoff) + 1` smallest returns. NaN values are skipped
/// first, as empyrical does; NaN when every value is NaN.
pub fn conditional_value_at_risk(returns: &[f64], confidence: f64) -> Result<f64> {
    let returns = &*without_nan(returns, "returns")?;
    check_confidence(confidence)?;
    if returns.is_empty() {
        return Ok(f64::NAN);
    }
    let cutoff = 1.0 - confidence;
    let k = ((returns.len() - 1) as f64 * cutoff) as usize;
    let tail = tail_statistics(returns, k);
    Ok(-(tail.sum_through / (k + 1) as f64))
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
    fn order_keys_sort_like_floats() {
        let mut xs = [3.5, -0.0, 0.0, -1e-300, 1e300, -2.0, f64::MIN_POSITIVE, -7.25];
        let mut keys: Vec<u64> = xs.iter().map(|&x| order_key(x)).collect();
        keys.sort_unstable();
        xs.sort_by(f64::total_cmp);
        let back: Vec<f64> = keys.iter().map(|&k| from_order_key(k)).collect();
        assert_eq!(back.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
    }

    #[test]
    fn the_sampling_path_agrees_with_a_sort() {
        // Large enough for the sampling path; many ties.
        let mut state = 12345u64;
        let values: Vec<f64> = (0..40_000)
            .map(|i| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let u = (state >> 11) as f64 / (1u64 << 53) as f64;
                if i % 7 == 0 { 0.001 } else { (u - 0.5) * 0.1 }
            })
            .collect();
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        for index in [0, 1, 5, 1999, 5713, 5714, 20_000, 39_998, 39_999] {
            let tail = tail_statistics(&values, index);
            assert_eq!(tail.at, sorted[index]);
            assert_eq!(tail.next, sorted.get(index + 1).copied());
            let want: f64 = sorted[..=index].iter().sum();
            let scale: f64 = sorted[..=index].iter().map(|x| x.abs()).sum();
            assert!((tail.sum_through - want).abs() <= 1e-11 * scale, "{index}");
        }
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
        assert!(value_at_risk(&[0.1, f64::INFINITY], 0.95, VarMethod::Parametric).unwrap_err().message.starts_with("returns:"));
        assert_eq!(value_at_risk(&[f64::NAN, 0.1, 0.3], 0.5, VarMethod::Historical).unwrap(), value_at_risk(&[0.1, 0.3], 0.5, VarMethod::Historical).unwrap());
        assert!(conditional_value_at_risk(&[f64::NAN], 0.95).unwrap().is_nan());
        assert!(value_at_risk(&[0.1, 0.2], 1.0, VarMethod::Historical).unwrap_err().message.starts_with("confidence:"));
        assert!(conditional_value_at_risk(&[0.1], 0.0).unwrap_err().message.starts_with("confidence:"));
        assert!(value_at_risk(&[0.1], 0.9, VarMethod::CornishFisher).unwrap_err().message.starts_with("returns:"));
    }
}
