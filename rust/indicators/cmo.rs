//! Chande momentum oscillator (TA-Lib `CMO`): RSI's Wilder-smoothed average
//! gain and loss, `100 * (gain - loss) / (gain + loss)`; lookback
//! `timeperiod`.
//!
//! The averages are seeded as RSI's are, with the plain mean of the first
//! `timeperiod` changes, then `avg = avg * (n - 1) +/- change; avg /= n`
//! (TA-Lib's three operations, in its order). TA-Lib 0.8.1 writes 0 unless
//! `gain + loss > 0`: a flat window and, since a NaN change counts as a gain
//! and stays in the averages, everything after a NaN read 0; an infinite
//! change gives NaN (infinity minus infinity).

use super::check_stream_period;
use super::indicator::Indicator;
use super::state::{ensure, Reader, Writer};
use crate::error::Result;
use crate::impl_boxed_clone;

/// Wilder's average gain and loss of a series' changes, operation for
/// operation as TA-Lib's RSI-family loops compute them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WilderAverages {
    period: usize,
    started: bool,
    prev: f64,
    /// Changes taken so far (saturates at `period`).
    count: usize,
    gain: f64,
    loss: f64,
}

impl WilderAverages {
    pub(crate) fn new(period: usize) -> Result<Self> {
        check_stream_period("timeperiod", period)?;
        Ok(WilderAverages {
            period,
            started: false,
            prev: 0.0,
            count: 0,
            gain: 0.0,
            loss: 0.0,
        })
    }

    /// Consumes `x`; the averages (gain, loss) once `period` changes have
    /// been seen, else None.
    #[inline]
    pub(crate) fn update(&mut self, x: f64) -> Option<(f64, f64)> {
        if !self.started {
            self.started = true;
            self.prev = x;
            return None;
        }
        let (gain, loss) = split(x - self.prev);
        self.prev = x;
        let n = self.period as f64;
        if self.count < self.period {
            self.loss -= loss;
            self.gain += gain;
            self.count += 1;
            if self.count < self.period {
                return None;
            }
        } else {
            self.loss *= n - 1.0;
            self.gain *= n - 1.0;
            self.loss -= loss;
            self.gain += gain;
        }
        self.loss /= n;
        self.gain /= n;
        Some((self.gain, self.loss))
    }

    pub(crate) fn save(&self, w: &mut Writer) {
        w.flag(self.started)
            .f64(self.prev)
            .usize(self.count)
            .f64(self.gain)
            .f64(self.loss);
    }

    pub(crate) fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.started = r.flag()?;
        self.prev = r.f64()?;
        self.count = r.usize()?;
        self.gain = r.f64()?;
        self.loss = r.f64()?;
        ensure(
            self.count <= self.period && (self.started || self.count == 0),
            "count",
        )?;
        // Sums and averages of magnitudes (NaN aside) are never negative.
        let not_negative = |v: f64| v >= 0.0 || v.is_nan();
        ensure(
            not_negative(self.gain) && not_negative(self.loss),
            "average gain or loss",
        )?;
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cmo {
    averages: WilderAverages,
}

impl Cmo {
    /// `CMO(timeperiod)`.
    pub fn new(params: &[f64]) -> Result<Self> {
        Ok(Cmo {
            averages: WilderAverages::new(params[0] as usize)?,
        })
    }
}

#[inline(always)]
fn cmo_value(gain: f64, loss: f64) -> f64 {
    let total = gain + loss;
    if total > 0.0 {
        100.0 * ((gain - loss) / total)
    } else {
        0.0
    }
}

/// A change's gain and loss parts as TA-Lib adds them (`gain += change` or
/// `loss -= change`); adding the other side's 0 is exact, so selecting
/// instead of branching gives the same bits.
#[inline(always)]
fn split(change: f64) -> (f64, f64) {
    if change < 0.0 {
        (0.0, change)
    } else {
        (change, 0.0)
    }
}

impl Cmo {
    #[inline]
    fn step(&mut self, x: f64) -> f64 {
        match self.averages.update(x) {
            Some((gain, loss)) => cmo_value(gain, loss),
            None => f64::NAN,
        }
    }
}

/// The catalog's batch kernel: [`WilderAverages`]' operations in the same
/// order over the series. Scalar: the two Wilder averages are TA-Lib's
/// dependency chains, kept in its order for the same bits.
#[inline(always)]
pub fn batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let p = params[0] as usize;
    let (x, out) = (inputs[0], &mut *outputs[0]);
    let len = x.len();
    out[..p.min(len)].fill(f64::NAN);
    if len <= p {
        return Ok(());
    }
    let n = p as f64;
    let (mut gain, mut loss) = (0.0, 0.0);
    for t in 1..=p {
        let (g, l) = split(x[t] - x[t - 1]);
        gain += g;
        loss -= l;
    }
    loss /= n;
    gain /= n;
    out[p] = cmo_value(gain, loss);
    for t in p + 1..len {
        let (g, l) = split(x[t] - x[t - 1]);
        loss *= n - 1.0;
        gain *= n - 1.0;
        loss -= l;
        gain += g;
        loss /= n;
        gain /= n;
        out[t] = cmo_value(gain, loss);
    }
    Ok(())
}

impl Indicator for Cmo {
    fn lookback(&self) -> usize {
        self.averages.period
    }

    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        out[0] = self.step(tick[0]);
    }

    fn save(&self, w: &mut Writer) {
        self.averages.save(w);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.averages.load(r)
    }

    impl_boxed_clone!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::testkit::first_outputs;

    fn run(state: &mut Cmo, xs: &[f64]) -> Vec<f64> {
        first_outputs(state, xs.iter().map(|&x| [x]))
    }

    #[test]
    fn hand_checked_values() {
        // Changes +1, -1, +2 with period 2: gain 0.5, loss 0.5 -> 0;
        // then gain (0.5 + 2) / 2 = 1.25, loss 0.25 -> 100 * 1 / 1.5.
        let got = run(&mut Cmo::new(&[2.0]).unwrap(), &[1.0, 2.0, 1.0, 3.0]);
        assert!(got[0].is_nan() && got[1].is_nan());
        assert_eq!(got[2], 0.0);
        assert!((got[3] - 100.0 / 1.5).abs() < 1e-12);
        assert_eq!(Cmo::new(&[2.0]).unwrap().lookback(), 2);
    }

    #[test]
    fn flat_prices_and_nan_give_zero_infinity_gives_nan() {
        let got = run(&mut Cmo::new(&[3.0]).unwrap(), &[4.0; 7]);
        assert_eq!(&got[3..], &[0.0; 4]);
        let got = run(
            &mut Cmo::new(&[2.0]).unwrap(),
            &[1.0, 2.0, 1.0, 3.0, f64::NAN, 4.0],
        );
        assert_eq!(&got[4..], &[0.0, 0.0]);
        let got = run(
            &mut Cmo::new(&[2.0]).unwrap(),
            &[1.0, 2.0, f64::INFINITY, 3.0],
        );
        assert!(got[2].is_nan() && got[3].is_nan());
        // No fixed zero band: tiny prices still give a value.
        let got = run(
            &mut Cmo::new(&[2.0]).unwrap(),
            &[1e-15, 2e-15, 1e-15, 3e-15],
        );
        assert!((got[3] - 200.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn save_load_continues_identically() {
        let xs: Vec<f64> = (0..60)
            .map(|i| 50.0 + ((i * 11 % 9) as f64) * 0.25)
            .collect();
        for cut in [0, 1, 3, 4, 5, 40] {
            let mut a = Cmo::new(&[4.0]).unwrap();
            run(&mut a, &xs[..cut]);
            let mut w = Writer::fields();
            a.save(&mut w);
            let bytes = w.into_bytes();
            let mut b = Cmo::new(&[4.0]).unwrap();
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
        for (started, count, gain) in [(false, 2, 0.0), (true, 9, 0.0), (true, 2, -1.0)] {
            let mut w = Writer::fields();
            w.flag(started).f64(1.0).usize(count).f64(gain).f64(0.0);
            let bytes = w.into_bytes();
            assert!(Cmo::new(&[4.0])
                .unwrap()
                .load(&mut Reader::fields(&bytes))
                .is_err());
        }
    }

    #[test]
    fn peek_leaves_the_state_alone() {
        let mut a = Cmo::new(&[2.0]).unwrap();
        run(&mut a, &[1.0, 2.0, 1.0]);
        let before = a.clone();
        let mut o = [0.0];
        a.peek(&[3.0], &mut o);
        assert!((o[0] - 100.0 / 1.5).abs() < 1e-12);
        assert_eq!(a, before);
    }
}
