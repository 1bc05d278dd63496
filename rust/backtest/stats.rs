//! Statistics of an equity curve, as the backtest reports them.
//!
//! The sums use four independent accumulators: a single running sum is one
//! long chain of dependent additions, four chains keep the adder busy.

/// Sum of `f(before, after)` over consecutive pairs of `equity`, in four
/// lanes over plain slices (no index arithmetic, so the loop vectorises).
#[inline]
fn pair_sum(equity: &[f64], f: impl Fn(f64, f64) -> f64) -> f64 {
    let m = equity.len() - 1;
    let (before, after) = (&equity[..m], &equity[1..]);
    let mut acc = [0.0f64; 4];
    let chunks = before.chunks_exact(4).zip(after.chunks_exact(4));
    for (b, a) in chunks {
        for lane in 0..4 {
            acc[lane] += f(b[lane], a[lane]);
        }
    }
    for i in (m - m % 4)..m {
        acc[0] += f(before[i], after[i]);
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3])
}

/// The Sharpe ratio of the curve's n-1 simple returns, mean / std (ddof=1)
/// times sqrt(periods_per_year); 0.0 when the std is 0 or undefined (fewer
/// than two returns).
pub fn equity_sharpe(equity: &[f64], periods_per_year: f64) -> f64 {
    let m = equity.len().saturating_sub(1);
    if m < 2 {
        return 0.0;
    }
    let mean = pair_sum(equity, |b, a| a / b - 1.0) / m as f64;
    let squares = pair_sum(equity, |b, a| {
        let d = (a / b - 1.0) - mean;
        d * d
    });
    let std = (squares / (m - 1) as f64).sqrt();
    if std == 0.0 {
        0.0
    } else {
        mean / std * periods_per_year.sqrt()
    }
}

/// The largest fall from a running peak, as a positive fraction of that
/// peak; the peak starts at `equity[0]`. 0.0 for an empty curve.
///
/// For a fixed peak, `(peak - e) / peak` is largest where `e` is smallest,
/// and correctly rounded subtraction and division preserve that order, so
/// tracking the lowest value under each peak gives the same result as
/// dividing at every point, with one division per new peak instead of one
/// per value.
pub fn equity_max_drawdown(equity: &[f64]) -> f64 {
    let Some(&first) = equity.first() else {
        return 0.0;
    };
    let mut peak = first;
    let mut trough = first;
    let mut worst = 0.0f64;
    for &e in equity {
        if e > peak {
            worst = worst.max((peak - trough) / peak);
            peak = e;
            trough = e;
        } else if e < trough {
            trough = e;
        }
    }
    worst.max((peak - trough) / peak)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sharpe_by_hand() {
        // returns 0.1, -0.1, 0.2: mean 0.0666..., std (ddof=1) 0.152752...
        let equity = [100.0, 110.0, 99.0, 118.8];
        let r = [0.1, -0.1, 0.2f64];
        let mean = r.iter().sum::<f64>() / 3.0;
        let std = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
        let expected = mean / std * 252f64.sqrt();
        assert!((equity_sharpe(&equity, 252.0) - expected).abs() < 1e-12);
        assert_eq!(equity_sharpe(&[1.0, 1.0, 1.0], 252.0), 0.0);
        assert_eq!(equity_sharpe(&[1.0, 2.0], 252.0), 0.0);
    }

    #[test]
    fn drawdown_by_hand() {
        assert_eq!(equity_max_drawdown(&[100.0, 120.0, 90.0, 130.0, 117.0]), 0.25);
        assert_eq!(equity_max_drawdown(&[100.0, 90.0]), 0.1);
        assert_eq!(equity_max_drawdown(&[1.0, 2.0, 3.0]), 0.0);
        // Against the definition, point by point, on a wobbly curve.
        let curve: Vec<f64> = (0..500).map(|i| 100.0 + (i as f64 * 0.37).sin() * 10.0 + i as f64 * 0.05).collect();
        let mut peak = curve[0];
        let mut want = 0.0f64;
        for &e in &curve {
            peak = peak.max(e);
            want = want.max((peak - e) / peak);
        }
        assert_eq!(equity_max_drawdown(&curve), want);
    }
}
