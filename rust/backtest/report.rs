//! The backtest report: backtesting.py 0.6.6's `compute_stats` definitions
//! applied to an equity curve, the closes and the round trips of a run.
//!
//! The index of the bars is either plain numbers (bar positions, or any
//! integer labels) or datetimes in nanoseconds of wall-clock time. As in
//! backtesting.py, only a datetime index gives the annualised figures (with
//! plain numbers: Return (Ann.) is 0, Volatility, Sharpe, Sortino and CAGR
//! are NaN), and durations are in the index's units, rounded up to the
//! resolution of the index's typical step when they are datetimes.

use super::engine::Trade;
use crate::error::{Error, Result};

/// What the index values mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    /// Plain numbers (bar positions or integer labels).
    Numbers,
    /// Nanoseconds since 1970-01-01 of naive (wall-clock) datetimes.
    DatetimeNs,
}

/// backtesting.py's statistics, by its keys (`[%]` values are percentages).
/// Durations are in the index's units; NaN where backtesting.py gives NaN
/// or NaT.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Report {
    pub start: i64,
    pub end: i64,
    pub duration: i64,
    pub exposure_time_pct: f64,
    pub equity_final: f64,
    pub equity_peak: f64,
    pub return_pct: f64,
    pub buy_hold_return_pct: f64,
    pub return_ann_pct: f64,
    pub volatility_ann_pct: f64,
    pub cagr_pct: f64,
    pub sharpe_ratio: f64,
    pub sortino_ratio: f64,
    pub calmar_ratio: f64,
    pub alpha_pct: f64,
    pub beta: f64,
    pub max_drawdown_pct: f64,
    pub avg_drawdown_pct: f64,
    pub max_drawdown_duration: f64,
    pub avg_drawdown_duration: f64,
    pub num_trades: usize,
    pub win_rate_pct: f64,
    pub best_trade_pct: f64,
    pub worst_trade_pct: f64,
    pub avg_trade_pct: f64,
    pub max_trade_duration: f64,
    pub avg_trade_duration: f64,
    pub profit_factor: f64,
    pub expectancy_pct: f64,
    pub sqn: f64,
    pub kelly_criterion: f64,
}

const NS_PER_DAY: i64 = 86_400_000_000_000;

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = values.fold((0.0, 0usize), |(s, c), x| (s + x, c + 1));
    sum / count as f64 // 0/0 = NaN for no values, as pandas' mean of nothing
}

/// NaN for 0, as Python's `x or np.nan`.
fn or_nan(x: f64) -> f64 {
    if x == 0.0 {
        f64::NAN
    } else {
        x
    }
}

/// backtesting.py's `geometric_mean`: 0 when any 1 + r <= 0, NaN for none.
fn geometric_mean(returns: &[f64]) -> f64 {
    if returns.iter().any(|&r| 1.0 + r <= 0.0) {
        return 0.0;
    }
    let logs: f64 = returns.iter().map(|&r| (1.0 + r).ln()).sum();
    (logs / returns.len() as f64).exp() - 1.0
}

fn sample_variance(values: &[f64]) -> f64 {
    let m = mean(values.iter().copied());
    values.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (values.len() as f64 - 1.0)
}

/// ln(b / a) for a ratio near 1, |s| < 0.1 with s = (b - a) / (b + a):
/// 2 atanh(s) by its series (the first omitted term is below 1e-20 of the
/// result). One division and a few multiplications, so a loop over it
/// vectorises; the log returns of a long curve are most of the report's work.
#[inline]
fn ln_ratio_near_one(s: f64) -> f64 {
    let z = s * s;
    let series = 1.0
        + z * (1.0 / 3.0
            + z * (1.0 / 5.0
                + z * (1.0 / 7.0
                    + z * (1.0 / 9.0 + z * (1.0 / 11.0 + z * (1.0 / 13.0 + z * (1.0 / 15.0 + z * (1.0 / 17.0))))))));
    2.0 * s * series
}

/// np.cov's beta of the equity's log returns on the closes' log returns,
/// cov(e, m) / var(m), in one pass with no array: sums of the returns
/// shifted by their first values (log returns have means far below their
/// spread, so the shifted sums lose nothing that matters), eight lanes at a
/// time so the logarithms vectorise.
fn beta(equity: &[f64], close: &[f64]) -> f64 {
    let m = equity.len() - 1;
    let ln_ratio = |v: &[f64], i: usize| (v[i + 1] / v[i]).ln();
    let (x0, y0) = (ln_ratio(equity, 0), ln_ratio(close, 0));
    const L: usize = 8;
    let (mut sx, mut sy, mut sxy, mut syy) = ([0.0f64; L], [0.0f64; L], [0.0f64; L], [0.0f64; L]);
    let mut i = 0;
    while i + L <= m {
        let mut x = [0.0f64; L];
        let mut y = [0.0f64; L];
        let mut near_one = true;
        for k in 0..L {
            let (a, b) = (equity[i + k], equity[i + k + 1]);
            x[k] = (b - a) / (b + a);
            let (a, b) = (close[i + k], close[i + k + 1]);
            y[k] = (b - a) / (b + a);
            // False for NaN, for a sign change and for a zero (|s| >= 1).
            near_one &= (x[k].abs() < 0.1) & (y[k].abs() < 0.1);
        }
        if near_one {
            for k in 0..L {
                x[k] = ln_ratio_near_one(x[k]);
                y[k] = ln_ratio_near_one(y[k]);
            }
        } else {
            for k in 0..L {
                x[k] = ln_ratio(equity, i + k);
                y[k] = ln_ratio(close, i + k);
            }
        }
        for k in 0..L {
            let (dx, dy) = (x[k] - x0, y[k] - y0);
            sx[k] += dx;
            sy[k] += dy;
            sxy[k] += dx * dy;
            syy[k] += dy * dy;
        }
        i += L;
    }
    let total = |a: [f64; L]| a.iter().sum::<f64>();
    let (mut sx, mut sy, mut sxy, mut syy) = (total(sx), total(sy), total(sxy), total(syy));
    for j in i..m {
        let (dx, dy) = (ln_ratio(equity, j) - x0, ln_ratio(close, j) - y0);
        sx += dx;
        sy += dy;
        sxy += dx * dy;
        syy += dy * dy;
    }
    let n = m as f64;
    let cov = sxy - sx * sy / n;
    let var = syy - sy * sy / n;
    cov / var
}

/// (year, month, day) of a day count since 1970-01-01 (H. Hinnant's civil_from_days).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The calendar period pandas' `resample` puts a datetime in, as a key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Period {
    Day,
    /// Monday to Sunday ('W').
    Week,
    /// 'ME'.
    Month,
    /// 'YE'.
    Year,
}

fn period_key(ns: i64, period: Period) -> i64 {
    let days = ns.div_euclid(NS_PER_DAY);
    match period {
        Period::Day => days,
        // 1970-01-01 was a Thursday: days + 3 counts from a Monday.
        Period::Week => (days + 3).div_euclid(7),
        Period::Month => {
            let (y, m, _) = civil_from_days(days);
            y * 12 + i64::from(m)
        }
        Period::Year => civil_from_days(days).0,
    }
}

/// backtesting.py's `_data_period`: the median step of the last 100 index values.
fn data_period(index: &[i64]) -> f64 {
    let tail = &index[index.len().saturating_sub(100)..];
    let mut steps: Vec<i64> = tail.windows(2).map(|w| w[1] - w[0]).collect();
    if steps.is_empty() {
        return f64::NAN;
    }
    steps.sort_unstable();
    let k = steps.len();
    if k % 2 == 1 {
        steps[k / 2] as f64
    } else {
        (steps[k / 2 - 1] as f64 + steps[k / 2] as f64) / 2.0
    }
}

/// The unit a datetime duration is rounded up to: the smallest non-zero
/// component of the typical step, as pandas' `Timedelta.resolution_string`.
fn resolution_ns(period: f64) -> i64 {
    if !period.is_finite() {
        return 1;
    }
    let p = period as i64;
    for unit in [NS_PER_DAY, 3_600_000_000_000, 60_000_000_000, 1_000_000_000, 1_000_000, 1_000] {
        if p % unit == 0 {
            return unit;
        }
    }
    1
}

fn ceil_to(x: f64, unit: i64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let u = unit as f64;
    (x / u).ceil() * u
}

/// The report of a run. `index` holds one value per bar (`None`: 0, 1, ...),
/// increasing when it holds datetimes; the trades' bar numbers must be bars
/// of the curve.
pub fn report(equity: &[f64], close: &[f64], index: Option<&[i64]>, kind: IndexKind, trades: &[Trade]) -> Result<Report> {
    let n = equity.len();
    if n == 0 {
        return Err(Error::invalid("equity", "must not be empty"));
    }
    if close.len() != n {
        return Err(Error::invalid("close", format!("length {} differs from the length of equity ({n})", close.len())));
    }
    let positions: Vec<i64>;
    let index: &[i64] = match index {
        Some(values) => {
            if values.len() != n {
                return Err(Error::invalid("index", format!("length {} differs from the length of equity ({n})", values.len())));
            }
            values
        }
        None => {
            positions = (0..n as i64).collect();
            &positions
        }
    };
    let datetime = kind == IndexKind::DatetimeNs;
    if datetime {
        let increasing = index.windows(2).fold(true, |ok, w| ok & (w[0] <= w[1]));
        if let Some(i) = (1..n).find(|&i| !increasing && index[i] < index[i - 1]) {
            return Err(Error::invalid("index", format!("datetimes must be increasing, but value {i} is before value {}", i - 1)));
        }
    }
    if let Some((k, t)) = trades.iter().enumerate().find(|(_, t)| t.entry_index > t.exit_index || t.exit_index >= n) {
        return Err(Error::invalid(
            "trades",
            format!("trade {k}: bars {}..{} are not within the {n} bars", t.entry_index, t.exit_index),
        ));
    }

    let mut r = Report { start: index[0], end: index[n - 1], duration: index[n - 1] - index[0], ..Report::default() };
    let resolution = if datetime { resolution_ns(data_period(index)) } else { 1 };
    let round = |x: f64| if datetime { ceil_to(x, resolution) } else { x };

    // Drawdown as backtesting.py defines it, 1 - equity / running peak, in
    // one pass with no division per bar: the drawdown is 0 exactly where
    // equity >= peak (a correctly rounded e / peak < 1 for any e < peak), and
    // within a drawdown period the peak is fixed, so its deepest point is
    // the lowest equity. Periods run from a bar at its peak to the next one,
    // or to the last bar; periods of a single bar do not count (as
    // backtesting.py's `compute_drawdown_duration_peaks` has it).
    let mut durations = Vec::new();
    let mut depths = Vec::new();
    let mut peak = equity[0];
    let mut prev = 0usize;
    let mut lowest = f64::INFINITY;
    let mut max_dd = 0.0f64;
    for i in 1..n {
        let e = equity[i];
        if e >= peak {
            if i > prev + 1 {
                let depth = 1.0 - lowest / peak;
                max_dd = max_dd.max(depth);
                durations.push((index[i] - index[prev]) as f64);
                depths.push(depth);
            }
            peak = e;
            prev = i;
            lowest = f64::INFINITY;
        } else if e < lowest {
            lowest = e;
        }
    }
    let mut last_bar_only = f64::NAN;
    if prev != n - 1 {
        let depth = 1.0 - lowest / peak;
        max_dd = max_dd.max(depth);
        if n - 1 > prev + 1 {
            durations.push((index[n - 1] - index[prev]) as f64);
            depths.push(depth);
        } else {
            last_bar_only = depth;
        }
    }
    if durations.is_empty() {
        // backtesting.py then averages the non-zero drawdowns (only the last
        // bar can have one) and has no duration.
        r.avg_drawdown_pct = -last_bar_only * 100.0;
        r.max_drawdown_duration = f64::NAN;
        r.avg_drawdown_duration = f64::NAN;
    } else {
        r.avg_drawdown_pct = -mean(depths.iter().copied()) * 100.0;
        r.max_drawdown_duration = round(durations.iter().copied().fold(f64::NEG_INFINITY, f64::max));
        r.avg_drawdown_duration = round(mean(durations.iter().copied()));
    }
    r.max_drawdown_pct = -max_dd * 100.0;

    // Bars with a position: the union of the trades' [entry, exit] ranges.
    let mut spans: Vec<(usize, usize)> = trades.iter().map(|t| (t.entry_index, t.exit_index)).collect();
    spans.sort_unstable();
    let mut exposed = 0usize;
    let mut covered_to = 0usize; // bars below this are counted
    for (a, b) in spans {
        let start = a.max(covered_to);
        if b + 1 > start {
            exposed += b + 1 - start;
            covered_to = b + 1;
        }
    }
    r.exposure_time_pct = exposed as f64 / n as f64 * 100.0;
    r.equity_final = equity[n - 1];
    r.equity_peak = equity.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    r.return_pct = (equity[n - 1] - equity[0]) / equity[0] * 100.0;
    r.buy_hold_return_pct = (close[n - 1] - close[0]) / close[0] * 100.0;

    // Annualisation, from the returns of the last equity of each calendar
    // period (day, or week/month/year for data at that step).
    let (gmean, annual_periods, period_returns) = if datetime {
        let period = data_period(index);
        let freq_days = (period / NS_PER_DAY as f64).floor();
        let unit = if freq_days == 7.0 {
            Period::Week
        } else if freq_days == 31.0 {
            Period::Month
        } else if freq_days == 365.0 {
            Period::Year
        } else {
            Period::Day
        };
        // One pass: the calendar day (and so the weekday and the period) is
        // worked out again only when a bar starts a new day, since integer
        // divisions per bar would cost more than everything else here.
        let mut weekend_bars = 0usize;
        let mut last: Vec<f64> = Vec::new();
        let mut day_end = i64::MIN;
        let mut weekend = false;
        let mut key = i64::MIN;
        let mut current_key = None;
        for i in 0..n {
            let ns = index[i];
            if ns >= day_end {
                let day = ns.div_euclid(NS_PER_DAY);
                day_end = (day + 1).saturating_mul(NS_PER_DAY);
                weekend = (day + 3).rem_euclid(7) >= 5;
                key = period_key(ns, unit);
            }
            weekend_bars += weekend as usize;
            if current_key == Some(key) {
                *last.last_mut().expect("a period") = equity[i];
            } else {
                last.push(equity[i]);
                current_key = Some(key);
            }
        }
        let weekends = weekend_bars as f64 / n as f64;
        let annual = if freq_days == 7.0 {
            52.0
        } else if freq_days == 31.0 {
            12.0
        } else if freq_days == 365.0 {
            1.0
        } else if weekends > 2.0 / 7.0 * 0.6 {
            365.0
        } else {
            252.0
        };
        let returns: Vec<f64> = last.windows(2).map(|w| w[1] / w[0] - 1.0).collect();
        (geometric_mean(&returns), annual, Some(returns))
    } else {
        (0.0, f64::NAN, None)
    };
    let annualized = (1.0 + gmean).powf(annual_periods) - 1.0;
    r.return_ann_pct = annualized * 100.0;
    r.volatility_ann_pct = match &period_returns {
        Some(returns) => {
            let var = sample_variance(returns);
            ((var + (1.0 + gmean).powi(2)).powf(annual_periods) - (1.0 + gmean).powf(2.0 * annual_periods)).sqrt() * 100.0
        }
        None => f64::NAN,
    };
    r.cagr_pct = if datetime {
        let d = r.duration;
        let days = d.div_euclid(NS_PER_DAY);
        let seconds = d.rem_euclid(NS_PER_DAY).div_euclid(1_000_000_000);
        let years = (days as f64 + seconds as f64 / 86_400.0) / 365.25;
        if years != 0.0 {
            ((r.equity_final / equity[0]).powf(1.0 / years) - 1.0) * 100.0
        } else {
            f64::NAN
        }
    } else {
        f64::NAN
    };
    r.sharpe_ratio = r.return_ann_pct / or_nan(r.volatility_ann_pct);
    r.sortino_ratio = match &period_returns {
        Some(returns) => {
            let downside = mean(returns.iter().map(|&x| x.min(0.0).powi(2))).sqrt();
            annualized / (downside * annual_periods.sqrt())
        }
        None => f64::NAN,
    };
    r.calmar_ratio = annualized / or_nan(max_dd);

    r.beta = if n > 2 { beta(equity, close) } else { f64::NAN };
    r.alpha_pct = r.return_pct - r.beta * r.buy_hold_return_pct;

    let k = trades.len();
    r.num_trades = k;
    let wins = trades.iter().filter(|t| t.pnl > 0.0).count();
    let win_rate = if k == 0 { f64::NAN } else { wins as f64 / k as f64 };
    r.win_rate_pct = win_rate * 100.0;
    let returns: Vec<f64> = trades.iter().map(|t| t.ret).collect();
    let fold_or_nan = |f: fn(f64, f64) -> f64| if k == 0 { f64::NAN } else { returns.iter().copied().reduce(f).expect("a trade") };
    r.best_trade_pct = fold_or_nan(f64::max) * 100.0;
    r.worst_trade_pct = fold_or_nan(f64::min) * 100.0;
    r.avg_trade_pct = geometric_mean(&returns) * 100.0;
    let trade_durations: Vec<f64> = trades.iter().map(|t| (index[t.exit_index] - index[t.entry_index]) as f64).collect();
    r.max_trade_duration = if k == 0 { f64::NAN } else { round(trade_durations.iter().copied().fold(f64::NEG_INFINITY, f64::max)) };
    r.avg_trade_duration = round(mean(trade_durations.iter().copied()));
    let gains: f64 = returns.iter().filter(|&&x| x > 0.0).sum();
    let losses: f64 = returns.iter().filter(|&&x| x < 0.0).sum();
    r.profit_factor = gains / or_nan(losses.abs());
    r.expectancy_pct = mean(returns.iter().copied()) * 100.0;
    let pnl: Vec<f64> = trades.iter().map(|t| t.pnl).collect();
    let pnl_std = if k > 1 { sample_variance(&pnl).sqrt() } else { f64::NAN };
    r.sqn = (k as f64).sqrt() * mean(pnl.iter().copied()) / or_nan(pnl_std);
    let avg_win = mean(pnl.iter().copied().filter(|&x| x > 0.0));
    let avg_loss = mean(pnl.iter().copied().filter(|&x| x < 0.0));
    r.kelly_criterion = win_rate - (1.0 - win_rate) / (avg_win / -avg_loss);
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trade(entry: usize, exit: usize, pnl: f64, ret: f64) -> Trade {
        Trade { entry_index: entry, exit_index: exit, side: 1, quantity: 1.0, entry_price: 1.0, exit_price: 1.0, pnl, ret }
    }

    #[test]
    fn the_log_of_a_ratio_near_one_is_exact_to_rounding() {
        let mut ratio = 0.82f64;
        while ratio < 1.22 {
            for a in [1e-3, 0.7, 1.0, 123.456, 9.9e7] {
                let b = a * ratio;
                let s = (b - a) / (b + a);
                let (got, want) = (ln_ratio_near_one(s), (b / a).ln());
                // (b / a).ln() rounds the ratio first: up to an ulp of 1 in absolute terms.
                assert!((got - want).abs() <= 3e-16 + 2e-15 * want.abs(), "{a} {ratio}: {got} vs {want}");
            }
            ratio += 0.000_731;
        }
        assert_eq!(ln_ratio_near_one(0.0), 0.0);
        // Beta against a plain computation, and NaN from an equity below zero.
        let equity: Vec<f64> = (0..40).map(|i| 100.0 + (i as f64 * 0.7).sin() * 5.0 + i as f64).collect();
        let close: Vec<f64> = (0..40).map(|i| 50.0 + (i as f64 * 0.3).cos() * 3.0 + i as f64 * 0.5).collect();
        let x: Vec<f64> = equity.windows(2).map(|w| (w[1] / w[0]).ln()).collect();
        let y: Vec<f64> = close.windows(2).map(|w| (w[1] / w[0]).ln()).collect();
        let (mx, my) = (x.iter().sum::<f64>() / 39.0, y.iter().sum::<f64>() / 39.0);
        let cov: f64 = x.iter().zip(&y).map(|(a, b)| (a - mx) * (b - my)).sum();
        let var: f64 = y.iter().map(|b| (b - my) * (b - my)).sum();
        assert!((beta(&equity, &close) - cov / var).abs() < 1e-12 * (cov / var).abs());
        let mut negative = equity.clone();
        negative[20] = -1.0;
        assert!(beta(&negative, &close).is_nan());
    }

    #[test]
    fn calendar_keys() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        // 2024-01-07 is a Sunday, 2024-01-08 a Monday.
        let day = |d: i64| (19_723 + d) * NS_PER_DAY;
        assert_eq!(period_key(day(6), Period::Week), period_key(day(0), Period::Week));
        assert_ne!(period_key(day(7), Period::Week), period_key(day(6), Period::Week));
        assert_eq!(resolution_ns(NS_PER_DAY as f64), NS_PER_DAY);
        assert_eq!(resolution_ns(3_600_000_000_000.0 * 25.0), 3_600_000_000_000);
    }

    #[test]
    fn bar_index_report_by_hand() {
        let equity = [100.0, 110.0, 99.0, 120.0, 108.0];
        let close = [10.0, 11.0, 10.0, 12.0, 12.5];
        let trades = [trade(0, 1, 10.0, 0.1), trade(2, 4, -5.0, -0.05)];
        let r = report(&equity, &close, None, IndexKind::Numbers, &trades).unwrap();
        assert_eq!((r.start, r.end, r.duration, r.num_trades), (0, 4, 4, 2));
        assert_eq!(r.exposure_time_pct, 100.0);
        assert!((r.return_pct - 8.0).abs() < 1e-12);
        assert!((r.buy_hold_return_pct - 25.0).abs() < 1e-12);
        assert_eq!(r.return_ann_pct, 0.0);
        assert!(r.volatility_ann_pct.is_nan() && r.sharpe_ratio.is_nan() && r.cagr_pct.is_nan());
        // One drawdown period, bars 1..3 (10%); the one-bar dip at the last
        // bar is no period, as in backtesting.py.
        assert!((r.max_drawdown_pct + 10.0).abs() < 1e-12);
        assert!((r.avg_drawdown_pct + 10.0).abs() < 1e-12);
        assert_eq!((r.max_drawdown_duration, r.avg_drawdown_duration), (2.0, 2.0));
        assert_eq!((r.win_rate_pct, r.best_trade_pct, r.worst_trade_pct), (50.0, 10.0, -5.0));
        assert!((r.profit_factor - 2.0).abs() < 1e-12);
        assert!((r.kelly_criterion - (0.5 - 0.5 / 2.0)).abs() < 1e-12);
        assert_eq!((r.max_trade_duration, r.avg_trade_duration), (2.0, 1.5));
    }

    #[test]
    fn drawdown_periods_as_backtesting_py_finds_them() {
        // Only the last bar below its peak: no period, its drawdown averaged.
        let r = report(&[100.0, 110.0, 99.0], &[1.0; 3], None, IndexKind::Numbers, &[]).unwrap();
        assert!(r.max_drawdown_duration.is_nan());
        assert!((r.avg_drawdown_pct + 10.0).abs() < 1e-12 && (r.max_drawdown_pct + 10.0).abs() < 1e-12);
        // A period running to the last bar, and one recovered: depths 20% and 10%.
        let r = report(&[100.0, 80.0, 90.0, 100.0, 110.0, 99.0, 105.0], &[1.0; 7], None, IndexKind::Numbers, &[]).unwrap();
        assert!((r.max_drawdown_pct + 20.0).abs() < 1e-12);
        assert!((r.avg_drawdown_pct + 15.0).abs() < 1e-12);
        assert_eq!((r.max_drawdown_duration, r.avg_drawdown_duration), (3.0, 2.5));
        // No drawdown at all.
        let r = report(&[1.0, 2.0, 3.0], &[1.0; 3], None, IndexKind::Numbers, &[]).unwrap();
        assert!(r.avg_drawdown_pct.is_nan() && r.max_drawdown_duration.is_nan() && r.max_drawdown_pct == 0.0);
    }

    #[test]
    fn bad_inputs_are_named() {
        let e = report(&[], &[], None, IndexKind::Numbers, &[]).unwrap_err();
        assert!(e.message.starts_with("equity:"));
        let e = report(&[1.0, 2.0], &[1.0], None, IndexKind::Numbers, &[]).unwrap_err();
        assert!(e.message.starts_with("close:"));
        let e = report(&[1.0, 2.0], &[1.0, 1.0], Some(&[5, 3]), IndexKind::DatetimeNs, &[]).unwrap_err();
        assert!(e.message.starts_with("index:"));
        let e = report(&[1.0, 2.0], &[1.0, 1.0], None, IndexKind::Numbers, &[trade(1, 2, 0.0, 0.0)]).unwrap_err();
        assert!(e.message.starts_with("trades:"));
    }
}
