//! Kaufman adaptive moving average (TA-Lib `KAMA`): an EMA whose factor
//! follows the efficiency ratio ER = |x[t] - x[t-p]| / (sum of |one-tick
//! changes| over the period): `sc = (ER * (2/3 - 2/31) + 2/31)^2`,
//! `kama += (x - kama) * sc`, both with a fused multiply-add as TA-Lib 0.8.1
//! computes them. The first KAMA starts from the previous input.
//!
//! As in TA-Lib 0.8.1, the sum of changes is a running sum, except that
//! after `p` consecutive zero changes it is exactly 0 (so a flat stretch
//! leaves no rounding residue); ER is 1 when the sum is not positive or not
//! above the signed change, and at most 1 otherwise (a NaN passes through).
//! Period 1 copies the input. Lookback `timeperiod` (0 for period 1).

use super::fused::fma_copy;
use super::indicator::Indicator;
use super::ma::run_single;
use super::state::{ensure, Reader, Writer};
use super::window::Window;
use crate::error::Result;

const CONST_MAX: f64 = 2.0 / (30.0 + 1.0);

#[derive(Debug, Clone, PartialEq)]
pub struct Kama {
    period: usize,
    /// The last `period + 1` inputs.
    window: Window,
    sum_roc1: f64,
    kama: f64,
    /// Consecutive zero one-tick changes up to now (capped at `period`).
    zero_run: usize,
}

impl Kama {
    /// The catalog's constructor: `[timeperiod]`.
    pub fn catalog(params: &[f64]) -> Result<Self> {
        let period = params[0] as usize;
        Ok(Kama { period, window: Window::new(period + 1), sum_roc1: 0.0, kama: 0.0, zero_run: 0 })
    }

    #[inline(always)]
    fn count_change(&mut self, change: f64) {
        self.zero_run = if change == 0.0 { (self.zero_run + 1).min(self.period) } else { 0 };
    }

    #[inline(always)]
    fn step(&mut self, x: f64, period_roc: f64) -> f64 {
        let const_diff = 2.0 / (2.0 + 1.0) - CONST_MAX;
        let sum = self.sum_roc1;
        let ratio = if sum <= 0.0 || period_roc >= sum {
            1.0
        } else {
            let r = (period_roc / sum).abs();
            if r > 1.0 {
                1.0
            } else {
                r
            }
        };
        let mut sc = ratio.mul_add(const_diff, CONST_MAX);
        sc *= sc;
        self.kama = (x - self.kama).mul_add(sc, self.kama);
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
        if seen <= self.period {
            // Up to the first output: the sum of the first `period` changes.
            if seen > 0 {
                let mut change = self.window.ago(0);
                change -= x;
                self.sum_roc1 += change.abs();
                self.count_change(change);
            }
            if seen < self.period {
                self.window.push(x);
                out[0] = f64::NAN;
                return;
            }
            // The first KAMA starts from the previous input.
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
        let change = x - self.window.ago(0);
        self.count_change(change);
        if self.zero_run >= self.period {
            self.sum_roc1 = 0.0;
        } else {
            self.sum_roc1 -= (trailing - oldest_kept).abs();
            self.sum_roc1 += change.abs();
        }
        self.window.push(x);
        out[0] = self.step(x, period_roc);
    }

    fn save(&self, w: &mut Writer) {
        self.window.save(w);
        w.f64(self.sum_roc1).f64(self.kama).usize(self.zero_run);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.window.load(r)?;
        self.sum_roc1 = r.f64()?;
        self.kama = r.f64()?;
        self.zero_run = r.usize()?;
        ensure(self.period > 1 || self.window.is_empty(), "window of a period-1 copy")?;
        ensure(
            self.zero_run <= self.period && self.zero_run < self.window.len().max(1),
            "run of zero changes",
        )?;
        let warming = self.window.len() <= self.period;
        ensure(!(warming && self.sum_roc1 < 0.0), "negative sum of changes")?;
        Ok(())
    }

    crate::impl_boxed_clone!();
}

/// The catalog's batch kernel: the stream through the first output, then
/// the same operations reading the input directly. Scalar: the adaptive
/// average depends on the previous one through a per-bar smoothing constant.
pub fn batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let mut s = Kama::catalog(params)?;
    let (x, out) = (inputs[0], &mut *outputs[0]);
    let p = s.period;
    if p == 1 {
        out.copy_from_slice(x);
        return Ok(());
    }
    let warm = (p + 1).min(x.len());
    run_single(&mut s, &x[..warm], &mut out[..warm]);
    if warm < x.len() {
        steady(&mut s, x, out, warm);
    }
    Ok(())
}

fma_copy! {
    /// The steady bars, reading the input through four offset iterators:
    /// no bounds checks on the loop, whose floor is the adaptive average's
    /// chain (a subtraction and a fused multiply-add per bar, as in TA-Lib).
    fn steady(s: &mut Kama, x: &[f64], out: &mut [f64], warm: usize) -> () {
        let p = s.period;
        let bars = x[warm - p - 1..].iter().zip(&x[warm - p..]).zip(&x[warm - 1..]).zip(&x[warm..]);
        for (o, (((&trailing, &oldest_kept), &prev), &v)) in out[warm..].iter_mut().zip(bars) {
            let period_roc = v - oldest_kept;
            let change = v - prev;
            s.count_change(change);
            if s.zero_run >= p {
                s.sum_roc1 = 0.0;
            } else {
                s.sum_roc1 -= (trailing - oldest_kept).abs();
                s.sum_roc1 += change.abs();
            }
            *o = s.step(v, period_roc);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::testkit::{assert_peek_is_pure, assert_resumes, run, wave};

    #[test]
    fn batch_is_the_stream_bit_for_bit() {
        for p in [[1.0], [2.0], [3.0], [10.0], [30.0]] {
            crate::indicators::testkit::assert_batch_is_replay(batch, |p| Kama::catalog(p).unwrap(), &p, 1, 1);
        }
    }

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
        assert_eq!(
            out[2],
            (4.0f64 - 2.0).mul_add(1.0f64.mul_add(2.0 / 3.0 - CONST_MAX, CONST_MAX).powi(2), 2.0)
        );
        assert!((out[2] - first).abs() < 1e-15);
        // Next: changes 2 and 1 (sum 3), two-tick change 3 - 2 = 1: ER = 1/3.
        let mut sc = (1.0 / 3.0) * (2.0 / 3.0 - CONST_MAX) + CONST_MAX;
        sc *= sc;
        assert!((out[3] - ((3.0 - first) * sc + first)).abs() < 1e-15);
    }

    #[test]
    fn a_flat_window_zeroes_the_sum_of_changes() {
        // After a move and `p` zero changes the running sum would keep the
        // rounding residue of adding and removing the move; TA-Lib sets it to
        // exactly 0, so ER is 1 and a later tiny move is followed at once.
        let mut x = vec![1.0, 1.1, 1.3];
        x.extend([1.3; 4]);
        x.push(1.3 + 1e-12);
        let mut k = Kama::catalog(&[3.0]).unwrap();
        run(&mut k, &[&x[..7]], 1);
        assert_eq!(k.sum_roc1, 0.0);
        assert_eq!(k.zero_run, 3);
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
        w.f64s(&[1.0; 7]).f64(3.0).f64(5.0).usize(0);
        let bytes = w.into_bytes();
        assert!(Kama::catalog(&[5.0]).unwrap().load(&mut Reader::fields(&bytes)).is_err());
        let mut w = Writer::fields();
        w.f64s(&[1.0; 6]).f64(3.0).f64(5.0).usize(6);
        let bytes = w.into_bytes();
        assert!(Kama::catalog(&[5.0]).unwrap().load(&mut Reader::fields(&bytes)).is_err());
        let mut w = Writer::fields();
        w.f64s(&[1.0; 3]).f64(-3.0).f64(5.0).usize(0);
        let bytes = w.into_bytes();
        assert!(Kama::catalog(&[5.0]).unwrap().load(&mut Reader::fields(&bytes)).is_err());
    }
}
