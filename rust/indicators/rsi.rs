//! Relative strength index (TA-Lib `RSI`, Wilder smoothing): the first
//! average gain and loss are simple averages of the first `window` changes,
//! then `avg = (avg * (window - 1) + change) / window`; RSI = 100 * gain /
//! (gain + loss), and 0 when that sum is zero or not finite (as TA-Lib 0.8.1
//! answers). Lookback `window`.

use super::scan::{rows_end, RSI_TINY_TOTAL};
use super::segments;
use super::indicator::Indicator;
use super::state::{ensure, Reader, Writer};
use super::{
    check_output, check_period, check_series, check_stream_period, first_valid,
};
use crate::error::Result;

#[inline]
fn rsi_value(gain: f64, loss: f64) -> f64 {
    let total = gain + loss;
    if total > 0.0 && total.is_finite() {
        100.0 * (gain / total)
    } else {
        0.0
    }
}

#[inline]
fn split_change(d: f64) -> (f64, f64) {
    // TA-Lib's test: a NaN change counts as a gain.
    if d < 0.0 {
        (0.0, -d)
    } else {
        (d, 0.0)
    }
}

/// Writes the `window`-period RSI of `prices` to `out` (same length).
pub fn rsi(prices: &[f64], window: usize, out: &mut [f64]) -> Result<()> {
    check_series("prices", prices)?;
    check_period("window", window, prices.len())?;
    check_output("out", out, prices.len())?;
    if !rsi_fast(prices, first_valid(prices), window, out) {
        let mut stream = RsiStream::new(window)?;
        stream.update_into(prices, out);
    }
    Ok(())
}

/// The fast path: false when a non-finite value was met or the sums came
/// near the subnormal numbers (`scan::RSI_TINY_TOTAL`), and the caller
/// falls back to TA-Lib's operation order.
fn rsi_fast(x: &[f64], start: usize, window: usize, out: &mut [f64]) -> bool {
    let n = x.len();
    let first_out = start + window;
    out[..first_out.min(n)].fill(f64::NAN);
    if first_out >= n {
        return true;
    }
    let (mut gain, mut loss) = (0.0, 0.0);
    for t in start + 1..=first_out {
        let (g, l) = split_change(x[t] - x[t - 1]);
        gain += g;
        loss += l;
    }
    let inv = 1.0 / window as f64;
    out[first_out] = rsi_value(gain * inv, loss * inv);
    // The RSI is a ratio, so the averages can be carried unscaled: `gain`
    // (window times the average gain) and `total` (window times average gain
    // plus average loss, the same recurrence over |change|) both follow
    // `y = a*y + input`, and RSI = 100 * gain / total. `segments::rsi`
    // (eight segments of a long series at once, else `scan::rsi_rows`) makes
    // the changes, both sums and the ratios in one pass.
    let a = (window as f64 - 1.0) * inv;
    let from = first_out + 1;
    let (mut gain, mut total, fine) = segments::rsi(x, from, gain, gain + loss, a, out);
    let mut tiny = false;
    for t in rows_end(from, n)..n {
        let (g, m) = split_change_fast(x[t] - x[t - 1]);
        gain = a * gain + g;
        total = a * total + m;
        tiny |= total > 0.0 && total < RSI_TINY_TOTAL;
        out[t] = rsi_of_sums(gain, total);
    }
    fine && !tiny && gain.is_finite() && total.is_finite()
}

/// Gain and size of a change without a branch: `d > 0 ? d : 0` (a select,
/// `maxsd`) and `|d|`; for finite changes the same as `split_change`, and a
/// non-finite one makes the caller fall back. `scan::rsi_rows` makes the
/// same two values for its rows.
#[inline(always)]
fn split_change_fast(d: f64) -> (f64, f64) {
    (if d > 0.0 { d } else { 0.0 }, d.abs())
}

/// RSI from the unscaled sums; they are finite here (else the caller falls
/// back), so only a zero total needs care.
#[inline(always)]
fn rsi_of_sums(gain: f64, total: f64) -> f64 {
    let value = 100.0 * (gain / total);
    if total > 0.0 {
        value
    } else {
        0.0
    }
}

/// Streaming RSI, TA-Lib's operations in TA-Lib's order.
#[derive(Debug, Clone, PartialEq)]
pub struct RsiStream {
    window: usize,
    started: bool,
    /// Changes taken so far (saturates at `window`).
    count: usize,
    prev: f64,
    gain: f64,
    loss: f64,
}

impl RsiStream {
    /// The catalog's constructor: `[timeperiod]`.
    pub fn catalog(params: &[f64]) -> Result<Self> {
        Self::new(params[0] as usize)
    }

    pub fn new(window: usize) -> Result<Self> {
        check_stream_period("window", window)?;
        Ok(RsiStream {
            window,
            started: false,
            count: 0,
            prev: 0.0,
            gain: 0.0,
            loss: 0.0,
        })
    }

    #[inline]
    pub fn update(&mut self, x: f64) -> f64 {
        if !self.started {
            if x.is_nan() {
                return f64::NAN;
            }
            self.started = true;
            self.prev = x;
            return f64::NAN;
        }
        let (g, l) = split_change(x - self.prev);
        self.prev = x;
        let w = self.window as f64;
        // TA-Lib 0.8.1's build divides by the period as a multiply by its
        // reciprocal (the same bits as its output, checked down to the
        // subnormal sums of long flat stretches, where a true division
        // drifts from it by more than 1e-9).
        let inv = 1.0 / w;
        if self.count < self.window {
            self.count += 1;
            self.gain += g;
            self.loss += l;
            if self.count < self.window {
                return f64::NAN;
            }
            self.gain *= inv;
            self.loss *= inv;
        } else {
            self.gain = (self.gain * (w - 1.0) + g) * inv;
            self.loss = (self.loss * (w - 1.0) + l) * inv;
        }
        rsi_value(self.gain, self.loss)
    }

    pub fn update_into(&mut self, prices: &[f64], out: &mut [f64]) {
        for (o, &x) in out.iter_mut().zip(prices) {
            *o = self.update(x);
        }
    }

}

impl Indicator for RsiStream {
    fn lookback(&self) -> usize {
        self.window
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        out[0] = RsiStream::update(self, tick[0]);
    }

    fn save(&self, w: &mut Writer) {
        w.flag(self.started).usize(self.count).f64(self.prev).f64(self.gain).f64(self.loss);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        let started = r.flag()?;
        let count = r.usize()?;
        let (prev, gain, loss) = (r.f64()?, r.f64()?, r.f64()?);
        ensure(count <= self.window && (started || count == 0), "count")?;
        // Averages of gains and of losses are never negative (NaN is what a
        // NaN inside the data leaves, and is carried as TA-Lib carries it).
        ensure(!(gain < 0.0), "average gain")?;
        ensure(!(loss < 0.0), "average loss")?;
        *self = RsiStream { window: self.window, started, count, prev, gain, loss };
        Ok(())
    }

    crate::impl_boxed_clone!();
}

/// The catalog's block kernel: the fast batch path over a series that
/// starts with a value (leading NaNs already skipped).
#[inline(always)]
pub fn batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let window = params[0] as usize;
    if inputs[0].len() <= window {
        outputs[0].fill(f64::NAN);
        return Ok(());
    }
    rsi(inputs[0], window, outputs[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_equals_stream() {
        let x: Vec<f64> = (0..3001)
            .map(|i| 100.0 + (i as f64 * 0.37).sin() * 4.0 + (i % 7) as f64 * 0.1)
            .collect();
        for w in [1, 2, 14, 100] {
            let mut batch = vec![0.0; x.len()];
            rsi(&x, w, &mut batch).unwrap();
            let mut s = RsiStream::new(w).unwrap();
            for (i, &v) in x.iter().enumerate() {
                let got = s.update(v);
                assert!(
                    (got.is_nan() && batch[i].is_nan()) || (got - batch[i]).abs() < 1e-9,
                    "w={w} i={i}"
                );
            }
        }
    }

    #[test]
    fn hand_computed_values() {
        // changes +1, -1, +2 -> window 2: gain (1+0)/2, loss (0+1)/2 -> 50;
        // then gain (0.5 + 2)/2 = 1.25, loss 0.5/2 = 0.25 -> 83.33..
        let mut out = [0.0; 4];
        rsi(&[1.0, 2.0, 1.0, 3.0], 2, &mut out).unwrap();
        assert!(out[0].is_nan() && out[1].is_nan());
        assert_eq!(out[2], 50.0);
        assert!((out[3] - 100.0 * 1.25 / 1.5).abs() < 1e-12);
    }

    #[test]
    fn flat_prices_and_nan_give_zero() {
        let mut out = [0.0; 6];
        rsi(&[3.0; 6], 2, &mut out).unwrap();
        assert_eq!(&out[2..], &[0.0; 4]);
        let mut out = [0.0; 8];
        rsi(&[1.0, 2.0, 1.5, 3.0, f64::NAN, 4.0, 5.0, 6.0], 2, &mut out).unwrap();
        assert!(out[2] > 0.0 && out[3] > 0.0);
        assert_eq!(&out[4..], &[0.0; 4]);
    }
}
