//! Weighted moving average (TA-Lib `WMA`): weights 1..p, newest heaviest,
//! divided by p(p+1)/2. TA-Lib 0.8.1 carries two running sums: the plain
//! sum of the window (`periodSub`) and the weighted one (`periodSum`),
//! which loses the plain sum after each output, so an output costs a few
//! additions whatever the period; every `8 * p`-th output it sums the window
//! afresh instead (so rounding cannot drift, and a NaN or infinity that
//! has left the window stops counting from there). This state follows that
//! schedule and those operations. Period 1 copies the input. Lookback
//! `timeperiod - 1`.

use super::indicator::Indicator;
use super::ma::run_single;
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
    /// Outputs left until the window is summed afresh (1..=8p).
    until_resum: usize,
}

impl Wma {
    /// The catalog's constructor: `[timeperiod]`.
    pub fn catalog(params: &[f64]) -> Result<Self> {
        let period = params[0] as usize;
        let divider = (period as f64 + 1.0) * period as f64 * 0.5;
        Ok(Wma {
            period,
            divider,
            window: Window::new(period),
            period_sub: 0.0,
            period_sum: 0.0,
            trailing: 0.0,
            until_resum: resum_every(period),
        })
    }
}

/// Outputs between two fresh sums of the window.
fn resum_every(period: usize) -> usize {
    8 * period
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
        self.window.push(x);
        self.until_resum -= 1;
        if self.until_resum == 0 {
            self.until_resum = resum_every(self.period);
            let (mut sub, mut sum) = (0.0, 0.0);
            for (i, v) in self.window.iter().enumerate() {
                sub += v;
                sum += (i + 1) as f64 * v;
            }
            self.period_sub = sub;
            out[0] = sum / self.divider;
            self.period_sum = sum - sub;
        } else {
            self.period_sub += x;
            self.period_sub -= self.trailing;
            self.period_sum += x * self.period as f64;
            out[0] = self.period_sum / self.divider;
            self.period_sum -= self.period_sub;
        }
        self.trailing = self.window.get(0);
    }

    fn save(&self, w: &mut Writer) {
        self.window.save(w);
        w.f64(self.period_sub).f64(self.period_sum).f64(self.trailing).usize(self.until_resum);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.window.load(r)?;
        self.period_sub = r.f64()?;
        self.period_sum = r.f64()?;
        self.trailing = r.f64()?;
        self.until_resum = r.usize()?;
        ensure(
            (1..=resum_every(self.period)).contains(&self.until_resum),
            "outputs until the next fresh sum",
        )?;
        ensure(self.window.is_full() || self.trailing == 0.0, "trailing value before the first output")?;
        ensure(self.period > 1 || self.window.is_empty(), "window of a period-1 copy")?;
        Ok(())
    }

    crate::impl_boxed_clone!();
}

/// The catalog's batch kernel: the stream through the first output, then
/// the same operations reading the input directly. Scalar: TA-Lib's weighted
/// and plain running sums are one chain; lanes would change their rounding.
#[inline(always)]
pub fn batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let mut s = Wma::catalog(params)?;
    let (x, out) = (inputs[0], &mut *outputs[0]);
    let p = s.period;
    if p == 1 {
        out.copy_from_slice(x);
        return Ok(());
    }
    let warm = p.min(x.len());
    run_single(&mut s, &x[..warm], &mut out[..warm]);
    let (mut sub, mut sum, mut trailing, mut until) = (s.period_sub, s.period_sum, s.trailing, s.until_resum);
    let (weight, divider) = (p as f64, s.divider);
    for t in warm..x.len() {
        let v = x[t];
        until -= 1;
        if until == 0 {
            until = resum_every(p);
            let (mut fresh_sub, mut fresh_sum) = (0.0, 0.0);
            for (i, &w) in x[t + 1 - p..=t].iter().enumerate() {
                fresh_sub += w;
                fresh_sum += (i + 1) as f64 * w;
            }
            sub = fresh_sub;
            out[t] = fresh_sum / divider;
            sum = fresh_sum - fresh_sub;
        } else {
            sub += v;
            sub -= trailing;
            sum += v * weight;
            out[t] = sum / divider;
            sum -= sub;
        }
        trailing = x[t + 1 - p];
    }
    Ok(())
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
    fn a_nan_stops_counting_at_the_next_fresh_sum() {
        // Period 3: outputs 24, 48, ... (ticks 25, 49, ...) sum the window
        // afresh; a NaN at tick 20 spoils the running sums until tick 25.
        let mut x: Vec<f64> = (1..=40).map(f64::from).collect();
        x[20] = f64::NAN;
        let mut w = Wma::catalog(&[3.0]).unwrap();
        let out = &run(&mut w, &[&x], 1)[0];
        assert_eq!(out[19], (18.0 + 38.0 + 60.0) / 6.0);
        assert!(out[20..25].iter().all(|v| v.is_nan()));
        assert_eq!(out[25], (24.0 + 50.0 + 78.0) / 6.0);
        assert_eq!(out[39], (38.0 + 78.0 + 120.0) / 6.0);
    }

    #[test]
    fn divider_is_exact_for_the_largest_period() {
        assert_eq!(Wma::catalog(&[100000.0]).unwrap().divider, 5_000_050_000.0);
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
        w.f64s(&[1.0, 2.0]).f64(3.0).f64(5.0).f64(1.0).usize(40);
        let bytes = w.into_bytes();
        assert!(Wma::catalog(&[5.0]).unwrap().load(&mut Reader::fields(&bytes)).is_err());
        let mut w = Writer::fields();
        w.f64s(&[1.0; 5]).f64(3.0).f64(5.0).f64(1.0).usize(41);
        let bytes = w.into_bytes();
        assert!(Wma::catalog(&[5.0]).unwrap().load(&mut Reader::fields(&bytes)).is_err());
        let mut w = Writer::fields();
        w.f64s(&[1.0; 6]).f64(3.0).f64(5.0).f64(0.0).usize(40);
        let bytes = w.into_bytes();
        assert!(Wma::catalog(&[5.0]).unwrap().load(&mut Reader::fields(&bytes)).is_err());
    }
}
