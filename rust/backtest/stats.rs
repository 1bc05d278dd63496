//! Statistics of an equity curve, as the backtest reports them.
//!
//! The sums use four independent accumulators: a single running sum is one
//! long chain of dependent additions, four chains keep the adder busy.

/// Sum of `f(i)` for i in `0..n`, accumulated in four lanes.
#[inline]
fn lane_sum(n: usize, f: impl Fn(usize) -> f64) -> f64 {
    let mut acc = [0.0f64; 4];
    let blocks = n / 4;
    for b in 0..blocks {
        let i = 4 * b;
        acc[0] += f(i);
        acc[1] += f(i + 1);
        acc[2] += f(i + 2);
        acc[3] += f(i + 3);
    }
    for i in 4 * blocks..n {
        acc[0] += f(i);
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
    let r = |i: usize| equity[i + 1] / equity[i] - 1.0;
    let mean = lane_sum(m, r) / m as f64;
    let squares = lane_sum(m, |i| {
        let d = r(i) - mean;
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
pub fn equity_max_drawdown(equity: &[f64]) -> f64 {
    let Some(&first) = equity.first() else {
        return 0.0;
    };
    let mut peak = first;
    let mut worst = 0.0f64;
    for &e in equity {
        peak = if e > peak { e } else { peak };
        let drawdown = (peak - e) / peak;
        worst = if drawdown > worst { drawdown } else { worst };
    }
    worst
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
    }
}
