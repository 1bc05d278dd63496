//! Triangular moving average (TA-Lib `TRIMA`): weights 1, 2, ..., rising to
//! the middle of the window and falling again, divided by their sum
//! (`(n+1)^2` for an odd period 2n+1, `n(n+1)` for an even period 2n).
//!
//! TA-Lib does not run an SMA of an SMA: it keeps a numerator and two
//! running sums (`numeratorSub` over the older half of the window,
//! `numeratorAdd` over the newer half) and moves them with four additions
//! per output, in a different order for odd and even periods (ta_TRIMA.c).
//! This state replays those operations in that order, so its rounding is
//! TA-Lib's. Lookback `timeperiod - 1`.

use super::indicator::Indicator;
use super::ma::run_single;
use super::state::{ensure, Reader, Writer};
use super::window::Window;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct Trima {
    period: usize,
    half: usize,
    factor: f64,
    /// The last `period` inputs.
    window: Window,
    numerator: f64,
    numerator_sub: f64,
    numerator_add: f64,
}

impl Trima {
    /// The catalog's constructor: `[timeperiod]`.
    pub fn catalog(params: &[f64]) -> Result<Self> {
        let period = params[0] as usize;
        let half = period >> 1;
        let i = half as f64;
        let weights = if period % 2 == 1 { (i + 1.0) * (i + 1.0) } else { (i + 1.0) * i };
        Ok(Trima {
            period,
            half,
            factor: 1.0 / weights,
            window: Window::new(period),
            numerator: 0.0,
            numerator_sub: 0.0,
            numerator_add: 0.0,
        })
    }

    /// The sums over the first full window, built as TA-Lib builds them:
    /// the older half from its middle back to its oldest value, then the
    /// newer half from the middle forward.
    fn first_window(&mut self) -> f64 {
        let middle = (self.period - 1) >> 1;
        let (mut numerator, mut sub, mut add) = (0.0, 0.0, 0.0);
        for j in (0..=middle).rev() {
            sub += self.window.get(j);
            numerator += sub;
        }
        for j in middle + 1..self.period {
            add += self.window.get(j);
            numerator += add;
        }
        self.numerator = numerator;
        self.numerator_sub = sub;
        self.numerator_add = add;
        numerator * self.factor
    }
}

impl Indicator for Trima {
    fn lookback(&self) -> usize {
        self.period - 1
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        let x = tick[0];
        let seen = self.window.len();
        if seen + 1 < self.period {
            self.window.push(x);
            out[0] = f64::NAN;
            return;
        }
        if seen + 1 == self.period {
            self.window.push(x);
            out[0] = self.first_window();
            return;
        }
        // The window holds the previous `period` inputs: the oldest leaves
        // the older half, the one `half` ticks back crosses the middle.
        let leaving = self.window.get(0);
        let crossing = if self.half == 0 { x } else { self.window.ago(self.half - 1) };
        self.numerator -= self.numerator_sub;
        self.numerator_sub -= leaving;
        self.numerator_sub += crossing;
        if self.period % 2 == 1 {
            self.numerator += self.numerator_add;
            self.numerator_add -= crossing;
        } else {
            self.numerator_add -= crossing;
            self.numerator += self.numerator_add;
        }
        self.numerator_add += x;
        self.numerator += x;
        self.window.push(x);
        out[0] = self.numerator * self.factor;
    }

    fn save(&self, w: &mut Writer) {
        self.window.save(w);
        w.f64(self.numerator).f64(self.numerator_sub).f64(self.numerator_add);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.window.load(r)?;
        self.numerator = r.f64()?;
        self.numerator_sub = r.f64()?;
        self.numerator_add = r.f64()?;
        let warming = self.window.len() < self.period;
        ensure(
            !warming || (self.numerator, self.numerator_sub, self.numerator_add) == (0.0, 0.0, 0.0),
            "sums before the first output",
        )?;
        Ok(())
    }

    crate::impl_boxed_clone!();
}

/// The catalog's batch kernel: the stream through the first output, then
/// the same operations reading the input directly. Scalar: TA-Lib's two
/// running sums are one chain; lanes would change their rounding.
#[inline(always)]
pub fn batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let mut s = Trima::catalog(params)?;
    let (x, out) = (inputs[0], &mut *outputs[0]);
    let (p, half, factor, odd) = (s.period, s.half, s.factor, s.period % 2 == 1);
    let warm = p.min(x.len());
    run_single(&mut s, &x[..warm], &mut out[..warm]);
    let (mut numerator, mut sub, mut add) = (s.numerator, s.numerator_sub, s.numerator_add);
    for t in warm..x.len() {
        let v = x[t];
        let leaving = x[t - p];
        let crossing = x[t - half];
        numerator -= sub;
        sub -= leaving;
        sub += crossing;
        if odd {
            numerator += add;
            add -= crossing;
        } else {
            add -= crossing;
            numerator += add;
        }
        add += v;
        numerator += v;
        out[t] = numerator * factor;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::testkit::{assert_peek_is_pure, assert_resumes, run, wave};

    #[test]
    fn hand_checked_values() {
        // TA-Lib's examples: period 4 weighs 1, 2, 2, 1 (/6), period 5
        // weighs 1, 2, 3, 2, 1 (/9).
        let x = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0];
        let mut t = Trima::catalog(&[4.0]).unwrap();
        let out = &run(&mut t, &[&x], 1)[0];
        assert!(out[..3].iter().all(|v| v.is_nan()));
        assert_eq!(out[3], (1.0 + 4.0 + 8.0 + 8.0) / 6.0);
        assert_eq!(out[4], (2.0 + 8.0 + 16.0 + 16.0) / 6.0);
        let mut t = Trima::catalog(&[5.0]).unwrap();
        let out = &run(&mut t, &[&x], 1)[0];
        assert!((out[4] - (1.0 + 4.0 + 12.0 + 16.0 + 16.0) / 9.0).abs() < 1e-14);
        assert!((out[5] - (2.0 + 8.0 + 24.0 + 32.0 + 32.0) / 9.0).abs() < 1e-14);
    }

    #[test]
    fn matches_the_direct_weighted_sum() {
        let x = wave(400);
        for p in [1usize, 2, 3, 4, 7, 10, 31] {
            let weights: Vec<f64> = (0..p).map(|j| (j.min(p - 1 - j) + 1) as f64).collect();
            let total: f64 = weights.iter().sum();
            let mut t = Trima::catalog(&[p as f64]).unwrap();
            let out = &run(&mut t, &[&x], 1)[0];
            for i in p - 1..x.len() {
                let direct: f64 = (0..p).map(|j| x[i + 1 - p + j] * weights[j]).sum::<f64>() / total;
                assert!((out[i] - direct).abs() < 1e-10, "p {p} i {i}: {} vs {direct}", out[i]);
            }
        }
    }

    #[test]
    fn weight_sums() {
        let t = Trima::catalog(&[99999.0]).unwrap();
        assert_eq!(t.factor, 1.0 / 2_500_000_000.0);
        let t = Trima::catalog(&[30.0]).unwrap();
        assert_eq!(t.factor, 1.0 / 240.0);
    }

    #[test]
    fn save_load_and_peek() {
        let x = wave(300);
        for p in [1.0, 2.0, 5.0, 30.0] {
            assert_resumes(|| Trima::catalog(&[p]).unwrap(), &[&x], 1, &[0, 1, 4, 5, 29, 30, 299]);
            assert_peek_is_pure(Trima::catalog(&[p]).unwrap(), &[&x[..60]], 1);
        }
    }

    #[test]
    fn load_refuses_inconsistent_fields() {
        let mut w = Writer::fields();
        w.f64s(&[1.0; 6]).f64(3.0).f64(5.0).f64(1.0);
        let bytes = w.into_bytes();
        assert!(Trima::catalog(&[5.0]).unwrap().load(&mut Reader::fields(&bytes)).is_err());
        let mut w = Writer::fields();
        w.f64s(&[1.0; 3]).f64(3.0).f64(5.0).f64(1.0);
        let bytes = w.into_bytes();
        assert!(Trima::catalog(&[5.0]).unwrap().load(&mut Reader::fields(&bytes)).is_err());
    }
}
