//! Population variance and standard deviation over a window (TA-Lib `VAR`,
//! `STDDEV`); lookback `timeperiod - 1`. `STDDEV` is `sqrt(VAR) * nbdev`;
//! `VAR` takes `nbdev` but, as in TA-Lib, does not use it.
//!
//! [`RollingVariance`] replays TA-Lib 0.8.1's cancellation-free variance
//! operation by operation (so values are TA-Lib's bit for bit): the running
//! sums are of deviations from a shift (first the series' first value), so
//! `sum2 / n - mean^2` subtracts variance-sized numbers, not squares of the
//! price. The shift is re-anchored at the window's mean, and the sums rebuilt
//! by a fresh two-pass over the window, whenever the variance falls below
//! 1e-6 of the mean square it comes from, the value leaving the window
//! dwarfs what remains (an outlier passing through), or every `32 *
//! timeperiod` outputs; a rebuilt variance under 1e-12 of its mean square is
//! rounding of the mean and reads 0. A NaN or infinity in the sums makes
//! every test false, so the output stays NaN until the periodic rebuild
//! finds a window without it, as in TA-Lib.

use super::check_stream_period;
use super::indicator::Indicator;
use super::state::{ensure, Reader, Writer};
use super::window::Window;
use crate::error::Result;
use crate::impl_boxed_clone;

/// Windows between unconditional rebuilds, per unit of period.
const REBUILD_EVERY: usize = 32;

/// TA-Lib's rolling population variance, one value at a time (the building
/// block of `VAR`, `STDDEV` and the deviation of `BBANDS`).
#[derive(Debug, Clone, PartialEq)]
pub struct RollingVariance {
    window: Window,
    inv_period: f64,
    shift: f64,
    /// Sum of `x - shift` and of its square over the window's values but
    /// its oldest one once it is full (what the next value is added to).
    sum1: f64,
    sum2: f64,
    /// Outputs left before the next unconditional rebuild.
    until_rebuild: usize,
}

impl RollingVariance {
    pub fn new(period: usize) -> Result<Self> {
        check_stream_period("timeperiod", period)?;
        Ok(RollingVariance {
            window: Window::new(period),
            inv_period: 1.0 / period as f64,
            shift: 0.0,
            sum1: 0.0,
            sum2: 0.0,
            until_rebuild: REBUILD_EVERY * period,
        })
    }

    pub fn period(&self) -> usize {
        self.window.capacity()
    }

    /// Consumes `x`; the variance of the last `period` values once there
    /// are that many, else NaN.
    #[inline]
    pub fn update(&mut self, x: f64) -> f64 {
        if self.window.is_empty() {
            self.shift = x;
        }
        // The value the previous output window started with leaves now; its
        // deviation was taken out of the sums right after that output.
        self.window.push(x);
        let d = x - self.shift;
        self.sum1 += d;
        self.sum2 += d * d;
        if !self.window.is_full() {
            return f64::NAN;
        }
        let inv = self.inv_period;
        let mean = self.sum1 * inv;
        let mut variance = self.sum2 * inv - mean * mean;
        // Take the window's oldest value out (it leaves with the next value).
        let oldest = self.window.get(0) - self.shift;
        self.sum1 -= oldest;
        let oldest_sq = oldest * oldest;
        self.sum2 -= oldest_sq;
        self.until_rebuild -= 1;
        if variance < 0.000001 * (self.sum2 * inv)
            || oldest_sq > 1000000.0 * self.sum2
            || self.until_rebuild == 0
        {
            variance = self.rebuild();
        }
        variance
    }

    /// Re-anchors the shift at the window's mean and rebuilds the sums by a
    /// two-pass over the window; returns the window's variance.
    fn rebuild(&mut self) -> f64 {
        self.until_rebuild = REBUILD_EVERY * self.period();
        let inv = self.inv_period;
        let mut total = 0.0;
        for v in self.window.iter() {
            total += v;
        }
        self.shift = total * inv;
        let (mut sum1, mut sum2) = (0.0, 0.0);
        for v in self.window.iter() {
            let d = v - self.shift;
            sum1 += d;
            sum2 += d * d;
        }
        let mean = sum1 * inv;
        let mut variance = sum2 * inv - mean * mean;
        if variance < 0.000000000001 * (sum2 * inv) {
            variance = 0.0;
        }
        let oldest = self.window.get(0) - self.shift;
        self.sum1 = sum1 - oldest;
        self.sum2 = sum2 - oldest * oldest;
        variance
    }

    pub fn save(&self, w: &mut Writer) {
        w.f64(self.shift)
            .f64(self.sum1)
            .f64(self.sum2)
            .usize(self.until_rebuild);
        self.window.save(w);
    }

    pub fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.shift = r.f64()?;
        self.sum1 = r.f64()?;
        self.sum2 = r.f64()?;
        self.until_rebuild = r.usize()?;
        self.window.load(r)?;
        let full = self.window.is_full();
        ensure(
            (1..=REBUILD_EVERY * self.period()).contains(&self.until_rebuild)
                && (full || self.until_rebuild == REBUILD_EVERY * self.period()),
            "outputs until the next rebuild",
        )?;
        // Before the first output only squares have been added; later,
        // removals may leave a rounding residue of either sign.
        ensure(
            full || self.sum2 >= 0.0 || self.sum2.is_nan(),
            "sum of squares",
        )?;
        Ok(())
    }
}

/// [`RollingVariance`] over a whole series, indexing the series instead of
/// a ring (the same operations in the same order, so the same values bit
/// for bit): `out[i]` is the variance of `x[i + 1 - period..=i]`, NaN before.
pub fn variance_into(x: &[f64], period: usize, out: &mut [f64]) {
    let n = x.len();
    let p = period;
    out[..(p - 1).min(n)].fill(f64::NAN);
    if n < p {
        return;
    }
    let inv = 1.0 / p as f64;
    let mut shift = x[0];
    let (mut sum1, mut sum2) = (0.0, 0.0);
    for &v in &x[..p - 1] {
        let d = v - shift;
        sum1 += d;
        sum2 += d * d;
    }
    let mut until_rebuild = REBUILD_EVERY * p;
    for i in p - 1..n {
        let d = x[i] - shift;
        sum1 += d;
        sum2 += d * d;
        let mean = sum1 * inv;
        let mut variance = sum2 * inv - mean * mean;
        let start = i + 1 - p;
        let oldest = x[start] - shift;
        sum1 -= oldest;
        let oldest_sq = oldest * oldest;
        sum2 -= oldest_sq;
        until_rebuild -= 1;
        if variance < 0.000001 * (sum2 * inv) || oldest_sq > 1000000.0 * sum2 || until_rebuild == 0
        {
            until_rebuild = REBUILD_EVERY * p;
            let window = &x[start..=i];
            let mut total = 0.0;
            for &v in window {
                total += v;
            }
            shift = total * inv;
            let (mut s1, mut s2) = (0.0, 0.0);
            for &v in window {
                let d = v - shift;
                s1 += d;
                s2 += d * d;
            }
            let mean = s1 * inv;
            variance = s2 * inv - mean * mean;
            if variance < 0.000000000001 * (s2 * inv) {
                variance = 0.0;
            }
            let oldest = x[start] - shift;
            sum1 = s1 - oldest;
            sum2 = s2 - oldest * oldest;
        }
        out[i] = variance;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    Variance,
    Deviation,
}

/// `VAR` / `STDDEV`.
#[derive(Debug, Clone, PartialEq)]
pub struct StdDev {
    output: Output,
    nbdev: f64,
    variance: RollingVariance,
}

impl StdDev {
    fn with(output: Output, params: &[f64]) -> Result<Self> {
        Ok(StdDev {
            output,
            nbdev: params[1],
            variance: RollingVariance::new(params[0] as usize)?,
        })
    }
    /// `STDDEV(timeperiod, nbdev)` (named as the catalog names it).
    #[allow(clippy::self_named_constructors)]
    pub fn stddev(params: &[f64]) -> Result<Self> {
        Self::with(Output::Deviation, params)
    }
    /// `VAR(timeperiod, nbdev)` (`nbdev` unused, as in TA-Lib).
    pub fn var(params: &[f64]) -> Result<Self> {
        Self::with(Output::Variance, params)
    }
}

impl StdDev {
    #[inline]
    fn step(&mut self, x: f64) -> f64 {
        let variance = self.variance.update(x);
        match self.output {
            Output::Variance => variance,
            // TA-Lib skips the multiplication for the default 1.0.
            Output::Deviation if self.nbdev != 1.0 => variance.sqrt() * self.nbdev,
            Output::Deviation => variance.sqrt(),
        }
    }

    fn run(self, inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
        let out = &mut *outputs[0];
        variance_into(inputs[0], self.variance.period(), out);
        if self.output == Output::Deviation {
            if self.nbdev != 1.0 {
                out.iter_mut().for_each(|v| *v = v.sqrt() * self.nbdev);
            } else {
                out.iter_mut().for_each(|v| *v = v.sqrt());
            }
        }
        Ok(())
    }
}

/// The catalog's batch kernel for `STDDEV` (the stream's steps, inlined).
/// Scalar: TA-Lib's running sums of the values and their squares are one
/// chain; lanes would change their rounding.
#[inline(always)]
pub fn batch_stddev(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    StdDev::stddev(params)?.run(inputs, outputs)
}

/// The catalog's batch kernel for `VAR` (the stream's steps, inlined).
#[inline(always)]
pub fn batch_var(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    StdDev::var(params)?.run(inputs, outputs)
}

impl Indicator for StdDev {
    fn lookback(&self) -> usize {
        self.variance.period() - 1
    }

    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        out[0] = self.step(tick[0]);
    }

    fn save(&self, w: &mut Writer) {
        self.variance.save(w);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.variance.load(r)
    }

    impl_boxed_clone!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(state: &mut StdDev, xs: &[f64]) -> Vec<f64> {
        xs.iter()
            .map(|&x| {
                let mut o = [0.0];
                state.update(&[x], &mut o);
                o[0]
            })
            .collect()
    }

    #[test]
    fn hand_checked_values() {
        // Windows of 3: [1,2,3] -> 2/3, [2,3,5] -> 14/9, [3,5,5] -> 8/9.
        let xs = [1.0, 2.0, 3.0, 5.0, 5.0];
        let var = run(&mut StdDev::var(&[3.0, 7.0]).unwrap(), &xs);
        assert!(var[..2].iter().all(|v| v.is_nan()));
        for (got, want) in var[2..].iter().zip([2.0 / 3.0, 14.0 / 9.0, 8.0 / 9.0]) {
            assert!((got - want).abs() < 1e-14, "{got} {want}");
        }
        let sd = run(&mut StdDev::stddev(&[3.0, 2.0]).unwrap(), &xs);
        assert!((sd[2] - 2.0 * (2.0f64 / 3.0).sqrt()).abs() < 1e-15);
        assert_eq!(StdDev::var(&[3.0, 1.0]).unwrap().lookback(), 2);
    }

    #[test]
    fn no_cancellation_at_a_high_price_level() {
        // The textbook sum-of-squares form loses every digit here.
        let xs: Vec<f64> = [1.0, 2.0, 3.0, 4.0, 5.0, 7.0]
            .iter()
            .map(|v| 1e8 + v)
            .collect();
        let var = run(&mut StdDev::var(&[5.0, 1.0]).unwrap(), &xs);
        assert_eq!(var[4], 2.0);
        assert!((var[5] - 2.96).abs() < 1e-12);
    }

    #[test]
    fn flat_window_is_exactly_zero_and_period_one_is_zero() {
        let var = run(
            &mut StdDev::var(&[3.0, 1.0]).unwrap(),
            &[0.1, 0.7, 0.3, 0.3, 0.3, 0.3],
        );
        assert_eq!(var[5], 0.0);
        let one = run(&mut StdDev::var(&[1.0, 1.0]).unwrap(), &[3.5, -2.0, 1e10]);
        assert_eq!(one, vec![0.0, 0.0, 0.0]);
    }

    #[test]
    fn a_nan_clears_at_the_periodic_rebuild() {
        let mut xs: Vec<f64> = (0..200).map(|i| (i % 5) as f64).collect();
        xs[3] = f64::NAN;
        let var = run(&mut StdDev::var(&[2.0, 1.0]).unwrap(), &xs);
        // The 64th output (32 * period; the first is at index 1) rebuilds the
        // sums from the window, which no longer holds the NaN.
        assert!(var[63].is_nan());
        assert_eq!(var[64], 0.25);
    }

    #[test]
    fn save_load_continues_identically() {
        let xs: Vec<f64> = (0..400)
            .map(|i| 1e4 + ((i * 17 % 23) as f64) * 0.01)
            .collect();
        for cut in [0, 1, 4, 5, 6, 100, 333] {
            let mut a = StdDev::stddev(&[5.0, 1.5]).unwrap();
            run(&mut a, &xs[..cut]);
            let mut w = Writer::fields();
            a.save(&mut w);
            let bytes = w.into_bytes();
            let mut b = StdDev::stddev(&[5.0, 1.5]).unwrap();
            b.load(&mut Reader::fields(&bytes)).unwrap();
            let (x, y) = (run(&mut a, &xs[cut..]), run(&mut b, &xs[cut..]));
            assert!(
                x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits()),
                "cut={cut}"
            );
        }
    }

    #[test]
    fn load_refuses_inconsistent_fields() {
        let mut w = Writer::fields();
        w.f64(0.0).f64(0.0).f64(0.0).usize(0);
        Window::new(5).save(&mut w);
        let bytes = w.into_bytes();
        assert!(StdDev::var(&[5.0, 1.0])
            .unwrap()
            .load(&mut Reader::fields(&bytes))
            .is_err());
        let mut w = Writer::fields();
        w.f64(0.0).f64(0.0).f64(-1.0).usize(160);
        Window::new(5).save(&mut w);
        let bytes = w.into_bytes();
        assert!(StdDev::var(&[5.0, 1.0])
            .unwrap()
            .load(&mut Reader::fields(&bytes))
            .is_err());
    }

    #[test]
    fn peek_leaves_the_state_alone() {
        let mut a = StdDev::var(&[2.0, 1.0]).unwrap();
        run(&mut a, &[1.0, 3.0]);
        let before = a.clone();
        let mut o = [0.0];
        a.peek(&[5.0], &mut o);
        assert_eq!(o[0], 1.0);
        assert_eq!(a, before);
    }
}
