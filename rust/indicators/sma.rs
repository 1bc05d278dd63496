//! Simple moving average (TA-Lib `SMA`): lookback `window - 1`.

use super::rolling::rolling_mean;
use super::indicator::Indicator;
use super::state::{ensure, Reader, Writer};
use super::{
    check_output, check_period, check_series, check_stream_period, direct_sum, first_valid,
};
use crate::error::Result;

/// Writes the `window`-period simple moving average of `prices` to `out`
/// (same length). NaN for the first `window - 1` values after any leading NaNs.
pub fn sma(prices: &[f64], window: usize, out: &mut [f64]) -> Result<()> {
    check_series("prices", prices)?;
    check_period("window", window, prices.len())?;
    check_output("out", out, prices.len())?;
    let first_out = first_valid(prices) + window - 1;
    let n = prices.len();
    out[..first_out.min(n)].fill(f64::NAN);
    if first_out < n && !rolling_mean(prices, window, first_out, out) {
        let mut stream = SmaStream::new(window)?;
        stream.update_into(prices, out);
    }
    Ok(())
}

/// Streaming SMA. Keeps the last `window` values; the running total follows
/// TA-Lib's order of operations and is re-summed from the kept values once
/// per window while it is finite, so it cannot drift on an endless stream.
#[derive(Debug, Clone, PartialEq)]
pub struct SmaStream {
    window: usize,
    /// The last `window` values once warm (a ring; `pos` is the oldest).
    ring: Vec<f64>,
    pos: usize,
    /// Values taken since the first non-NaN one (saturates at `window`).
    count: usize,
    started: bool,
    /// Sum of the newest `window - 1` values (TA-Lib's `periodTotal`).
    partial: f64,
    since_anchor: usize,
}

impl SmaStream {
    pub fn new(window: usize) -> Result<Self> {
        check_stream_period("window", window)?;
        Ok(SmaStream {
            window,
            ring: vec![0.0; window],
            pos: 0,
            count: 0,
            started: false,
            partial: 0.0,
            since_anchor: 0,
        })
    }

    /// The catalog's constructor: `[timeperiod]`.
    pub fn catalog(params: &[f64]) -> Result<Self> {
        Self::new(params[0] as usize)
    }

    pub fn window(&self) -> usize {
        self.window
    }

    /// Takes one value; returns the SMA, or NaN while warming up.
    #[inline]
    pub fn update(&mut self, x: f64) -> f64 {
        if !self.started {
            if x.is_nan() {
                return f64::NAN;
            }
            self.started = true;
        }
        let w = self.window;
        self.ring[self.pos] = x;
        self.pos = if self.pos + 1 == w { 0 } else { self.pos + 1 };
        if self.count + 1 < w {
            self.count += 1;
            self.partial += x;
            return f64::NAN;
        }
        self.count = w;
        let total = self.partial + x;
        let out = total / w as f64;
        // ring[pos] is now the oldest value of the window, the one to drop.
        self.partial = total - self.ring[self.pos];
        self.since_anchor += 1;
        if self.since_anchor >= w && self.partial.is_finite() {
            self.reanchor();
        }
        out
    }

    fn reanchor(&mut self) {
        let (older, newer) = self.ring.split_at(self.pos);
        self.partial = direct_sum(older) + direct_sum(&newer[1..]);
        self.since_anchor = 0;
    }

    /// Feeds every value of `prices`, writing each result to `out`.
    pub fn update_into(&mut self, prices: &[f64], out: &mut [f64]) {
        for (o, &x) in out.iter_mut().zip(prices) {
            *o = self.update(x);
        }
    }

}

impl Indicator for SmaStream {
    fn lookback(&self) -> usize {
        self.window - 1
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        out[0] = SmaStream::update(self, tick[0]);
    }

    fn save(&self, w: &mut Writer) {
        w.usize(self.pos)
            .usize(self.count)
            .flag(self.started)
            .f64(self.partial)
            .usize(self.since_anchor)
            .f64s(&self.ring);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        let window = self.window;
        let pos = r.usize()?;
        let count = r.usize()?;
        let started = r.flag()?;
        let partial = r.f64()?;
        let since_anchor = r.usize()?;
        let ring = r.f64s(window)?;
        ensure(ring.len() == window && pos < window, "ring")?;
        ensure(count <= window && (started || count == 0), "count")?;
        ensure(since_anchor <= window, "since_anchor")?;
        *self = SmaStream { window, ring, pos, count, started, partial, since_anchor };
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
    sma(inputs[0], window, outputs[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(x: &[f64], w: usize) -> Vec<f64> {
        (0..x.len())
            .map(|i| {
                if i + 1 < w {
                    f64::NAN
                } else {
                    x[i + 1 - w..=i].iter().sum::<f64>() / w as f64
                }
            })
            .collect()
    }

    #[test]
    fn batch_matches_direct_means() {
        let x: Vec<f64> = (0..5000)
            .map(|i| 100.0 + ((i * 37) % 101) as f64 * 0.1)
            .collect();
        for w in [1, 2, 3, 20, 250, 5000] {
            let mut out = vec![0.0; x.len()];
            sma(&x, w, &mut out).unwrap();
            for (a, b) in out.iter().zip(reference(&x, w)) {
                assert!(
                    (a.is_nan() && b.is_nan()) || (a - b).abs() < 1e-11,
                    "{a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn hand_computed_values() {
        let mut out = [0.0; 5];
        sma(&[1.0, 2.0, 3.0, 4.0, 5.0], 2, &mut out).unwrap();
        assert!(out[0].is_nan());
        assert_eq!(&out[1..], &[1.5, 2.5, 3.5, 4.5]);
    }

    #[test]
    fn bad_arguments_are_named() {
        let mut out = [0.0; 3];
        assert!(sma(&[], 1, &mut [])
            .unwrap_err()
            .message
            .starts_with("prices:"));
        assert!(sma(&[1.0, 2.0, 3.0], 0, &mut out)
            .unwrap_err()
            .message
            .starts_with("window:"));
        assert!(sma(&[1.0, 2.0, 3.0], 4, &mut out)
            .unwrap_err()
            .message
            .starts_with("window:"));
        assert!(SmaStream::new(0).is_err());
    }

    #[test]
    fn leading_nans_are_skipped_and_inner_nan_propagates() {
        let x = [f64::NAN, f64::NAN, 1.0, 2.0, 3.0, f64::NAN, 5.0, 6.0];
        let mut out = [0.0; 8];
        sma(&x, 2, &mut out).unwrap();
        assert!(out[..3].iter().all(|v| v.is_nan()));
        assert_eq!(&out[3..5], &[1.5, 2.5]);
        assert!(out[5..].iter().all(|v| v.is_nan()));
    }

    #[test]
    fn infinity_is_carried_for_one_window_then_nan() {
        let mut x = vec![1.0; 12];
        x[5] = f64::INFINITY;
        let mut out = vec![0.0; 12];
        sma(&x, 3, &mut out).unwrap();
        assert_eq!(out[4], 1.0);
        assert!(out[5..8].iter().all(|v| *v == f64::INFINITY));
        assert!(out[8..].iter().all(|v| v.is_nan()));
    }

    #[test]
    fn stream_equals_batch_and_survives_save_load() {
        let x: Vec<f64> = (0..3000)
            .map(|i| 100.0 + (i as f64 * 0.3).sin() * 5.0)
            .collect();
        let mut batch = vec![0.0; x.len()];
        sma(&x, 7, &mut batch).unwrap();
        let mut s = SmaStream::new(7).unwrap();
        for (i, &v) in x.iter().enumerate() {
            if i == 1234 {
                s = crate::indicators::indicator::round_trip(&s);
            }
            let got = s.update(v);
            assert!((got.is_nan() && batch[i].is_nan()) || (got - batch[i]).abs() < 1e-10);
        }
    }
}
