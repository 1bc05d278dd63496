//! Weighted moving average (TA-Lib `WMA`): weights 1..p, newest heaviest,
//! divided by p(p+1)/2. TA-Lib carries two running sums (ta_WMA.c): the
//! plain sum of the window (`periodSub`) and the weighted one
//! (`periodSum`), which loses the plain sum after each output, so every
//! output costs a few additions whatever the period. The divider is
//! computed in C `int` arithmetic, which wraps for periods above 46340;
//! that is reproduced too. Period 1 copies the input. Lookback
//! `timeperiod - 1`.

use super::indicator::Indicator;
use super::state::{ensure, Reader, Writer};
use super::window::Window;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct Wma {
    period: usize,
    divider: f64,
    /// The last `period` inputs.
    window: Window,
    period_sub: f64,
    period_sum: f64,
    /// The input leaving the window at the next output (0 before the first).
    trailing: f64,
}

impl Wma {
    /// The catalog's constructor: `[timeperiod]`.
    pub fn catalog(params: &[f64]) -> Result<Self> {
        let period = params[0] as usize;
        // `optInTimePeriod * (optInTimePeriod + 1) >> 1` on C ints.
        let p = period as i32;
        let divider = (p.wrapping_mul(p.wrapping_add(1)) >> 1) as f64;
        Ok(Wma {
            period,
            divider,
            window: Window::new(period),
            period_sub: 0.0,
            period_sum: 0.0,
            trailing: 0.0,
        })
    }
}

impl Indicator for Wma {
    fn lookback(&self) -> usize {
        self.period - 1
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        let x = tick[0];
        if self.period == 1 {
            out[0] = x;
            return;
        }
        let seen = self.window.len();
        if seen + 1 < self.period {
            self.window.push(x);
            self.period_sub += x;
            self.period_sum += x * (seen + 1) as f64;
            out[0] = f64::NAN;
            return;
        }
        self.period_sub += x;
        self.period_sub -= self.trailing;
        self.period_sum += x * self.period as f64;
        self.window.push(x);
        self.trailing = self.window.get(0);
        out[0] = self.period_sum / self.divider;
        self.period_sum -= self.period_sub;
    }

    fn save(&self, w: &mut Writer) {
        self.window.save(w);
        w.f64(self.period_sub).f64(self.period_sum).f64(self.trailing);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.window.load(r)?;
        self.period_sub = r.f64()?;
        self.period_sum = r.f64()?;
        self.trailing = r.f64()?;
        ensure(self.window.is_full() || self.trailing == 0.0, "trailing value before the first output")?;
        ensure(self.period > 1 || self.window.is_empty(), "window of a period-1 copy")?;
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
        let mut w = Wma::catalog(&[3.0]).unwrap();
        assert_eq!(w.lookback(), 2);
        let out = &run(&mut w, &[&[1.0, 2.0, 3.0, 4.0, 10.0]], 1)[0];
        assert!(out[0].is_nan() && out[1].is_nan());
        assert_eq!(out[2], (1.0 + 4.0 + 9.0) / 6.0);
        assert_eq!(out[3], (2.0 + 6.0 + 12.0) / 6.0);
        assert_eq!(out[4], (3.0 + 8.0 + 30.0) / 6.0);
    }

    #[test]
    fn matches_the_direct_weighted_sum() {
        let x = wave(500);
        for p in [2usize, 7, 30] {
            let mut w = Wma::catalog(&[p as f64]).unwrap();
            let out = &run(&mut w, &[&x], 1)[0];
            let div = (p * (p + 1) / 2) as f64;
            for i in p - 1..x.len() {
                let direct: f64 = (0..p).map(|j| x[i + 1 - p + j] * (j + 1) as f64).sum::<f64>() / div;
                assert!((out[i] - direct).abs() < 1e-10, "p {p} i {i}");
            }
        }
    }

    #[test]
    fn divider_wraps_like_c_ints() {
        assert_eq!(Wma::catalog(&[46340.0]).unwrap().divider, 1_073_720_970.0);
        // 100000 * 100001 = 10000100000 wraps to 1410165408 in 32 bits.
        assert_eq!(Wma::catalog(&[100000.0]).unwrap().divider, 705_082_704.0);
    }

    #[test]
    fn period_one_copies() {
        let x = [3.0, 0.1, 1e300, -7.5];
        let mut w = Wma::catalog(&[1.0]).unwrap();
        assert_eq!(run(&mut w, &[&x], 1)[0], x);
    }

    #[test]
    fn save_load_and_peek() {
        let x = wave(300);
        for p in [1.0, 2.0, 30.0] {
            assert_resumes(|| Wma::catalog(&[p]).unwrap(), &[&x], 1, &[0, 1, 28, 29, 30, 299]);
            assert_peek_is_pure(Wma::catalog(&[p]).unwrap(), &[&x[..60]], 1);
        }
    }

    #[test]
    fn load_refuses_inconsistent_fields() {
        let mut w = Writer::fields();
        w.f64s(&[1.0, 2.0]).f64(3.0).f64(5.0).f64(1.0);
        let bytes = w.into_bytes();
        assert!(Wma::catalog(&[5.0]).unwrap().load(&mut Reader::fields(&bytes)).is_err());
        let mut w = Writer::fields();
        w.f64s(&[1.0; 6]).f64(3.0).f64(5.0).f64(0.0);
        let bytes = w.into_bytes();
        assert!(Wma::catalog(&[5.0]).unwrap().load(&mut Reader::fields(&bytes)).is_err());
    }
}
