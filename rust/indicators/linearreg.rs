//! Linear regression (TA-Lib `LINEARREG`): the least-squares line through
//! the last `timeperiod` values, evaluated at the newest one; lookback
//! `timeperiod - 1`.
//!
//! TA-Lib 0.8.1 keeps the two data sums as running totals: the first window
//! is summed directly, oldest value first, with x counting down from
//! `timeperiod - 1` to 0, and each later tick slides them as
//! `sum_xy = sum_xy + sum_y - n * leaving` then
//! `sum_y = sum_y - leaving + entering`; the value is `fma(m, n - 1, b)`.
//! The sums are summed afresh from the window every 32 times `timeperiod`
//! slides, and whenever the value leaving is more than 100 times the new
//! window's mean magnitude (its rounding would otherwise swamp what is
//! left). This state does the same operations in the same order (the
//! magnitude sum slides the same way), so its values are TA-Lib's bit for
//! bit, and a NaN or infinity stays in the sums until the
//! next fresh sum of a window without it, as in TA-Lib.

use super::check_stream_period;
use super::fused::fma_copy;
use super::indicator::Indicator;
use super::state::{ensure, Reader, Writer};
use super::window::Window;
use crate::error::Result;
use crate::impl_boxed_clone;

#[derive(Debug, Clone, PartialEq)]
pub struct LinearReg {
    window: Window,
    n: f64,
    sum_x: f64,
    divisor: f64,
    sum_y: f64,
    sum_xy: f64,
    /// Sum of the window's magnitudes (the scale an outlier is judged by).
    sum_abs: f64,
    /// Slides left before the sums are rebuilt from the window.
    until_rebuild: usize,
}

/// Slides between direct re-sums of the window, per unit of period.
const REBUILD_EVERY: usize = 32;

/// A leaving value this many times the new window's mean (in magnitude)
/// leaves mostly its own rounding in the sums: they are re-summed.
const OUTLIER: f64 = 100.0;

impl LinearReg {
    /// `LINEARREG(timeperiod)`.
    pub fn new(params: &[f64]) -> Result<Self> {
        let period = params[0] as usize;
        check_stream_period("timeperiod", period)?;
        let n = period as f64;
        let sum_x = n * (n - 1.0) * 0.5;
        let sum_x_sqr = n * (n - 1.0) * (2.0 * n - 1.0) / 6.0;
        Ok(LinearReg {
            window: Window::new(period),
            n,
            sum_x,
            divisor: sum_x * sum_x - n * sum_x_sqr,
            sum_y: 0.0,
            sum_xy: 0.0,
            sum_abs: 0.0,
            until_rebuild: REBUILD_EVERY * period,
        })
    }

    #[inline(always)]
    fn value(&self) -> f64 {
        let m = (self.n * self.sum_xy - self.sum_x * self.sum_y) / self.divisor;
        let b = (self.sum_y - m * self.sum_x) / self.n;
        // TA-Lib 0.8.1 writes this as one fused multiply-add.
        m.mul_add(self.n - 1.0, b)
    }

    #[inline]
    fn step(&mut self, x: f64) -> f64 {
        match self.window.push(x) {
            Some(leaving) => {
                self.sum_xy = self.sum_xy + self.sum_y - self.n * leaving;
                self.sum_y = self.sum_y - leaving + x;
                self.sum_abs = self.sum_abs - leaving.abs() + x.abs();
                self.until_rebuild -= 1;
                if self.until_rebuild == 0 || leaving.abs() * self.n > OUTLIER * self.sum_abs {
                    self.until_rebuild = REBUILD_EVERY * self.window.capacity();
                    self.sum_window();
                }
            }
            None if self.window.is_full() => self.sum_window(),
            None => return f64::NAN,
        }
        self.value()
    }

    /// The sums of the window, directly: oldest value (weight n - 1) first.
    fn sum_window(&mut self) {
        let window = &self.window;
        (self.sum_y, self.sum_xy, self.sum_abs) = direct_sums(window.len(), window.iter());
    }

    /// `sum_window` over a slice holding the window's values, oldest first.
    fn sum_slice(&mut self, window: &[f64]) {
        (self.sum_y, self.sum_xy, self.sum_abs) = direct_sums(window.len(), window.iter().copied());
    }
}

/// Sum, x-weighted sum (x = len - 1 for the oldest value down to 0) and sum
/// of magnitudes of `len` values given oldest first.
#[inline]
fn direct_sums(len: usize, values: impl Iterator<Item = f64>) -> (f64, f64, f64) {
    let (mut sum_y, mut sum_xy, mut sum_abs) = (0.0, 0.0, 0.0);
    for (k, v) in values.enumerate() {
        sum_y += v;
        sum_xy += (len - 1 - k) as f64 * v;
        sum_abs += v.abs();
    }
    (sum_y, sum_xy, sum_abs)
}

/// The catalog's batch kernel: the stream's operations in the same order,
/// indexing the series instead of a ring. Scalar: TA-Lib's running sums are
/// one chain; splitting them into lanes would change their rounding.
#[inline(always)]
pub fn batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let mut state = LinearReg::new(params)?;
    let (x, out) = (inputs[0], &mut *outputs[0]);
    let p = state.window.capacity();
    let len = x.len();
    out[..(p - 1).min(len)].fill(f64::NAN);
    if len < p {
        return Ok(());
    }
    state.sum_slice(&x[..p]);
    out[p - 1] = state.value();
    steady(&mut state, x, out, p);
    Ok(())
}

fma_copy! {
    /// The sliding sums from bar `p` on (the value's fused step is one
    /// instruction in the FMA copy).
    fn steady(state: &mut LinearReg, x: &[f64], out: &mut [f64], p: usize) -> () {
        for i in p..x.len() {
            let (leaving, entering) = (x[i - p], x[i]);
            state.sum_xy = state.sum_xy + state.sum_y - state.n * leaving;
            state.sum_y = state.sum_y - leaving + entering;
            state.sum_abs = state.sum_abs - leaving.abs() + entering.abs();
            state.until_rebuild -= 1;
            if state.until_rebuild == 0 || leaving.abs() * state.n > OUTLIER * state.sum_abs {
                state.until_rebuild = REBUILD_EVERY * p;
                state.sum_slice(&x[i + 1 - p..=i]);
            }
            out[i] = state.value();
        }
    }
}

impl Indicator for LinearReg {
    fn lookback(&self) -> usize {
        self.window.capacity() - 1
    }

    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        out[0] = self.step(tick[0]);
    }

    fn save(&self, w: &mut Writer) {
        w.f64(self.sum_y)
            .f64(self.sum_xy)
            .f64(self.sum_abs)
            .usize(self.until_rebuild);
        self.window.save(w);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        let sum_y = r.f64()?;
        let sum_xy = r.f64()?;
        let sum_abs = r.f64()?;
        let until_rebuild = r.usize()?;
        self.window.load(r)?;
        let every = REBUILD_EVERY * self.window.capacity();
        ensure(
            self.window.is_full() || (sum_y == 0.0 && sum_xy == 0.0 && sum_abs == 0.0),
            "sums before the first window",
        )?;
        ensure(
            (1..=every).contains(&until_rebuild)
                && (self.window.is_full() || until_rebuild == every),
            "slides until the next re-sum",
        )?;
        self.sum_y = sum_y;
        self.sum_xy = sum_xy;
        self.sum_abs = sum_abs;
        self.until_rebuild = until_rebuild;
        Ok(())
    }

    impl_boxed_clone!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::testkit::first_outputs;

    #[test]
    fn batch_is_the_stream_bit_for_bit() {
        for p in [[2.0], [3.0], [14.0], [61.0]] {
            crate::indicators::testkit::assert_batch_is_replay(batch, |p| LinearReg::new(p).unwrap(), &p, 1, 1);
        }
    }

    fn run(state: &mut LinearReg, xs: &[f64]) -> Vec<f64> {
        first_outputs(state, xs.iter().map(|&x| [x]))
    }

    #[test]
    fn a_straight_line_is_reproduced() {
        let xs: Vec<f64> = (0..20).map(|i| 3.0 + 0.5 * i as f64).collect();
        let got = run(&mut LinearReg::new(&[4.0]).unwrap(), &xs);
        assert!(got[..3].iter().all(|v| v.is_nan()));
        for i in 3..xs.len() {
            assert!((got[i] - xs[i]).abs() < 1e-12, "i={i}");
        }
    }

    #[test]
    fn hand_checked_value() {
        // Points (0,1) (1,3) (2,2): slope 0.5, intercept 1.5 -> at x=2: 2.5.
        let got = run(&mut LinearReg::new(&[3.0]).unwrap(), &[1.0, 3.0, 2.0]);
        assert!((got[2] - 2.5).abs() < 1e-15);
        assert_eq!(LinearReg::new(&[3.0]).unwrap().lookback(), 2);
    }

    #[test]
    fn save_load_continues_identically() {
        let xs: Vec<f64> = (0..100)
            .map(|i| ((i * 7 % 19) as f64).cos() * 10.0)
            .collect();
        for cut in [0, 2, 4, 5, 50] {
            let mut a = LinearReg::new(&[5.0]).unwrap();
            run(&mut a, &xs[..cut]);
            let mut w = Writer::fields();
            a.save(&mut w);
            let bytes = w.into_bytes();
            let mut b = LinearReg::new(&[5.0]).unwrap();
            b.load(&mut Reader::fields(&bytes)).unwrap();
            let (x, y) = (run(&mut a, &xs[cut..]), run(&mut b, &xs[cut..]));
            assert!(
                x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits()),
                "cut={cut}"
            );
        }
    }

    #[test]
    fn load_refuses_sums_without_a_full_window() {
        let mut w = Writer::fields();
        w.f64(4.0).f64(1.0).f64(5.0).usize(160);
        Window::new(5).save(&mut w);
        let bytes = w.into_bytes();
        assert!(LinearReg::new(&[5.0])
            .unwrap()
            .load(&mut Reader::fields(&bytes))
            .is_err());
    }

    #[test]
    fn peek_leaves_the_state_alone() {
        let mut a = LinearReg::new(&[2.0]).unwrap();
        run(&mut a, &[1.0, 2.0]);
        let before = a.clone();
        let mut o = [0.0];
        a.peek(&[4.0], &mut o);
        assert!((o[0] - 4.0).abs() < 1e-15);
        assert_eq!(a, before);
    }
}
