//! Kaufman adaptive moving average (TA-Lib `KAMA`): an EMA whose factor
//! follows the efficiency ratio ER = |x[t] - x[t-p]| / sum of |one-tick
//! changes| over the period: `sc = (ER * (2/3 - 2/31) + 2/31)^2`,
//! `kama += (x - kama) * sc`. The first KAMA starts from the previous
//! input. As in ta_KAMA.c, the sum of changes is a running sum, ER is 1
//! when that sum is (nearly) zero or not above the signed change, and
//! period 1 copies the input. Lookback `timeperiod` (0 for period 1).

use super::indicator::Indicator;
use super::state::{ensure, Reader, Writer};
use super::window::Window;
use crate::error::Result;

const CONST_MAX: f64 = 2.0 / (30.0 + 1.0);

/// TA-Lib's `TA_IS_ZERO`: a fixed band around zero.
const ZERO_BAND: f64 = 0.000_000_01;

#[derive(Debug, Clone, PartialEq)]
pub struct Kama {
    period: usize,
    /// The last `period + 1` inputs.
    window: Window,
    sum_roc1: f64,
    kama: f64,
}

impl Kama {
    /// The catalog's constructor: `[timeperiod]`.
    pub fn catalog(params: &[f64]) -> Result<Self> {
        let period = params[0] as usize;
        Ok(Kama { period, window: Window::new(period + 1), sum_roc1: 0.0, kama: 0.0 })
    }

    #[inline]
    fn step(&mut self, x: f64, period_roc: f64) -> f64 {
        let const_diff = 2.0 / (2.0 + 1.0) - CONST_MAX;
        let sum = self.sum_roc1;
        let ratio = if sum <= period_roc || (-ZERO_BAND < sum && sum < ZERO_BAND) {
            1.0
        } else {
            (period_roc / sum).abs()
        };
        let mut sc = ratio * const_diff + CONST_MAX;
        sc *= sc;
        self.kama = (x - self.kama) * sc + self.kama;
        self.kama
    }
}

impl Indicator for Kama {
    fn lookback(&self) -> usize {
        if self.period == 1 {
            0
        } else {
            self.period
        }
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        let x = tick[0];
        if self.period == 1 {
            out[0] = x;
            return;
        }
        let seen = self.window.len();
        if seen < self.period {
            if seen > 0 {
                let mut change = self.window.ago(0);
                change -= x;
                self.sum_roc1 += change.abs();
            }
            self.window.push(x);
            out[0] = f64::NAN;
            return;
        }
        if seen == self.period {
            // First output: the last change completes the sum, the KAMA
            // starts from the previous input.
            let mut change = self.window.ago(0);
            change -= x;
            self.sum_roc1 += change.abs();
            self.kama = self.window.ago(0);
            let period_roc = x - self.window.get(0);
            self.window.push(x);
            out[0] = self.step(x, period_roc);
            return;
        }
        // The window holds x[t-p-1] .. x[t-1].
        let trailing = self.window.get(0);
        let oldest_kept = self.window.get(1);
        let period_roc = x - oldest_kept;
        self.sum_roc1 -= (trailing - oldest_kept).abs();
        self.sum_roc1 += (x - self.window.ago(0)).abs();
        self.window.push(x);
        out[0] = self.step(x, period_roc);
    }

    fn save(&self, w: &mut Writer) {
        self.window.save(w);
        w.f64(self.sum_roc1).f64(self.kama);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.window.load(r)?;
        self.sum_roc1 = r.f64()?;
        self.kama = r.f64()?;
        ensure(self.period > 1 || self.window.is_empty(), "window of a period-1 copy")?;
        ensure(!(self.sum_roc1 < 0.0 && self.sum_roc1.is_finite() && self.window.len() <= self.period), "negative sum of changes")?;
        Ok(())
    }

    crate::impl_boxed_clone!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::testkit::{assert_peek_is_pure, assert_resumes, run, wave};

    #[test]
    fn hand_checked_values() {
        // p = 2 over 1, 2, 4: changes 1 and 2 sum to 3, the two-tick change
        // is 3, so ER = 1 and sc = (2/3)^2; KAMA starts from 2.
        let mut k = Kama::catalog(&[2.0]).unwrap();
        assert_eq!(k.lookback(), 2);
        let out = &run(&mut k, &[&[1.0, 2.0, 4.0, 3.0]], 1)[0];
        assert!(out[0].is_nan() && out[1].is_nan());
        let sc_full = (2.0 / 3.0f64) * (2.0 / 3.0);
        let first = (4.0 - 2.0) * sc_full + 2.0;
        assert!((out[2] - first).abs() < 1e-15);
        // Next: changes 2 and 1 (sum 3), two-tick change 3 - 2 = 1: ER = 1/3.
        let mut sc = (1.0 / 3.0) * (2.0 / 3.0 - CONST_MAX) + CONST_MAX;
        sc *= sc;
        assert!((out[3] - ((3.0 - first) * sc + first)).abs() < 1e-15);
    }

    #[test]
    fn flat_input_uses_the_fastest_factor_and_stays_flat() {
        let mut k = Kama::catalog(&[10.0]).unwrap();
        let out = &run(&mut k, &[&[7.0; 40]], 1)[0];
        assert!(out[..10].iter().all(|v| v.is_nan()));
        assert!(out[10..].iter().all(|&v| v == 7.0));
    }

    #[test]
    fn period_one_copies() {
        let x = [3.0, 0.1, 1e300, -7.5];
        let mut k = Kama::catalog(&[1.0]).unwrap();
        assert_eq!(k.lookback(), 0);
        assert_eq!(run(&mut k, &[&x], 1)[0], x);
    }

    #[test]
    fn save_load_and_peek() {
        let x = wave(300);
        for p in [1.0, 2.0, 30.0] {
            assert_resumes(|| Kama::catalog(&[p]).unwrap(), &[&x], 1, &[0, 1, 2, 3, 30, 31, 299]);
            assert_peek_is_pure(Kama::catalog(&[p]).unwrap(), &[&x[..70]], 1);
        }
    }

    #[test]
    fn load_refuses_inconsistent_fields() {
        let mut w = Writer::fields();
        w.f64s(&[1.0; 7]).f64(3.0).f64(5.0);
        let bytes = w.into_bytes();
        assert!(Kama::catalog(&[5.0]).unwrap().load(&mut Reader::fields(&bytes)).is_err());
        let mut w = Writer::fields();
        w.f64s(&[1.0; 3]).f64(-3.0).f64(5.0);
        let bytes = w.into_bytes();
        assert!(Kama::catalog(&[5.0]).unwrap().load(&mut Reader::fields(&bytes)).is_err());
    }
}
