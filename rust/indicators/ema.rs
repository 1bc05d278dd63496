//! Exponential moving average (TA-Lib `EMA`): k = 2 / (window + 1), seeded
//! with the simple average of the first `window` values; lookback `window - 1`.

use super::scan::{ema_rows, rows_end};
use super::indicator::Indicator;
use super::state::{ensure, Reader, Writer};
use super::{
    check_output, check_period, check_series, check_stream_period, direct_sum, first_valid,
};
use crate::error::Result;

pub(crate) fn ema_k(window: usize) -> f64 {
    2.0 / (window as f64 + 1.0)
}

/// Writes the `window`-period EMA of `prices` to `out` (same length).
pub fn ema(prices: &[f64], window: usize, out: &mut [f64]) -> Result<()> {
    check_series("prices", prices)?;
    check_period("window", window, prices.len())?;
    check_output("out", out, prices.len())?;
    let start = first_valid(prices);
    if !ema_from(prices, start, window, out) {
        let mut stream = EmaStream::new(window)?;
        stream.update_into(prices, out);
    }
    Ok(())
}

/// The fast path from index `start`: seed, then the blocked recurrence
/// (`scan::ema_rows`, at the process's CPU level) and its last few steps.
/// Returns false when a non-finite value was met (caller falls back).
pub(crate) fn ema_from(x: &[f64], start: usize, window: usize, out: &mut [f64]) -> bool {
    let n = x.len();
    let seed_at = start + window - 1;
    out[..seed_at.min(n)].fill(f64::NAN);
    if seed_at >= n {
        return true;
    }
    let seed = direct_sum(&x[start..=seed_at]) / window as f64;
    out[seed_at] = seed;
    let (k, from) = (ema_k(window), seed_at + 1);
    let a = 1.0 - k;
    let (mut y, finite) = ema_rows(x, from, seed, a, k, out);
    for t in rows_end(from, n)..n {
        y = a * y + k * x[t];
        out[t] = y;
    }
    seed.is_finite() && finite && y.is_finite()
}

/// Streaming EMA with TA-Lib's update `prev + k * (x - prev)`.
#[derive(Debug, Clone, PartialEq)]
pub struct EmaStream {
    window: usize,
    started: bool,
    count: usize,
    sum: f64,
    value: f64,
}

impl EmaStream {
    /// The catalog's constructor: `[timeperiod]`.
    pub fn catalog(params: &[f64]) -> Result<Self> {
        Self::new(params[0] as usize)
    }

    pub fn new(window: usize) -> Result<Self> {
        check_stream_period("window", window)?;
        Ok(EmaStream {
            window,
            started: false,
            count: 0,
            sum: 0.0,
            value: f64::NAN,
        })
    }

    #[inline]
    pub fn update(&mut self, x: f64) -> f64 {
        if !self.started {
            if x.is_nan() {
                return f64::NAN;
            }
            self.started = true;
        }
        if self.count < self.window {
            self.count += 1;
            self.sum += x;
            if self.count < self.window {
                return f64::NAN;
            }
            self.value = self.sum / self.window as f64;
            return self.value;
        }
        self.value += (x - self.value) * ema_k(self.window);
        self.value
    }

    pub fn update_into(&mut self, prices: &[f64], out: &mut [f64]) {
        for (o, &x) in out.iter_mut().zip(prices) {
            *o = self.update(x);
        }
    }

}

impl Indicator for EmaStream {
    fn lookback(&self) -> usize {
        self.window - 1
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        out[0] = EmaStream::update(self, tick[0]);
    }

    fn save(&self, w: &mut Writer) {
        w.flag(self.started).usize(self.count).f64(self.sum).f64(self.value);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        let started = r.flag()?;
        let count = r.usize()?;
        let sum = r.f64()?;
        let value = r.f64()?;
        ensure(count <= self.window && (started || count == 0), "count")?;
        *self = EmaStream { window: self.window, started, count, sum, value };
        Ok(())
    }

    crate::impl_boxed_clone!();
}

/// The catalog's block kernel (leading NaNs already skipped).
#[inline(always)]
pub fn batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let window = params[0] as usize;
    if inputs[0].len() < window {
        outputs[0].fill(f64::NAN);
        return Ok(());
    }
    ema(inputs[0], window, outputs[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(x: &[f64], w: usize) -> Vec<f64> {
        let k = ema_k(w);
        let mut out = vec![f64::NAN; x.len()];
        let mut prev = x[..w].iter().sum::<f64>() / w as f64;
        out[w - 1] = prev;
        for i in w..x.len() {
            prev = (x[i] - prev) * k + prev;
            out[i] = prev;
        }
        out
    }

    #[test]
    fn batch_matches_talib_recurrence() {
        let x: Vec<f64> = (0..2003)
            .map(|i| 100.0 + (i as f64 * 0.1).cos() * 3.0)
            .collect();
        for w in [1, 2, 12, 26, 500] {
            let mut out = vec![0.0; x.len()];
            ema(&x, w, &mut out).unwrap();
            for (a, b) in out.iter().zip(reference(&x, w)) {
                assert!(
                    (a.is_nan() && b.is_nan()) || (a - b).abs() < 1e-10,
                    "w={w}: {a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn seeded_with_the_first_window_average() {
        let mut out = [0.0; 4];
        ema(&[1.0, 2.0, 3.0, 4.0], 3, &mut out).unwrap();
        assert!(out[0].is_nan() && out[1].is_nan());
        assert_eq!(out[2], 2.0);
        assert_eq!(out[3], 3.0); // 2 + 0.5 * (4 - 2)
    }

    #[test]
    fn stream_equals_batch_across_save_load() {
        let x: Vec<f64> = (0..500).map(|i| 50.0 + (i as f64 * 0.7).sin()).collect();
        let mut batch = vec![0.0; x.len()];
        ema(&x, 10, &mut batch).unwrap();
        let mut s = EmaStream::new(10).unwrap();
        for (i, &v) in x.iter().enumerate() {
            if i % 97 == 5 {
                s = crate::indicators::indicator::round_trip(&s);
            }
            let got = s.update(v);
            assert!((got.is_nan() && batch[i].is_nan()) || (got - batch[i]).abs() < 1e-11);
        }
    }

    #[test]
    fn infinity_then_nan_like_talib() {
        let mut x = vec![2.0; 10];
        x[6] = f64::INFINITY;
        let mut out = vec![0.0; 10];
        ema(&x, 3, &mut out).unwrap();
        assert_eq!(out[5], 2.0);
        assert_eq!(out[6], f64::INFINITY);
        assert!(out[7..].iter().all(|v| v.is_nan()));
    }
}
