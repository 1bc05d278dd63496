//! On balance volume (TA-Lib `OBV`): starts at the first bar's volume, then
//! adds the volume of a bar whose price rose and subtracts that of one whose
//! price fell (an unchanged or NaN comparison leaves it). Lookback 0.

use super::indicator::Indicator;
use super::state::{ensure, Reader, Writer};
use crate::error::Result;
use crate::impl_boxed_clone;

#[derive(Debug, Clone, PartialEq)]
pub struct Obv {
    started: bool,
    prev: f64,
    obv: f64,
}

impl Obv {
    /// `OBV()` over a price and a volume.
    pub fn new(_params: &[f64]) -> Result<Self> {
        Ok(Obv {
            started: false,
            prev: 0.0,
            obv: 0.0,
        })
    }
}

impl Obv {
    #[inline]
    fn step(&mut self, price: f64, volume: f64) -> f64 {
        if !self.started {
            self.started = true;
            self.obv = volume;
        } else if price > self.prev {
            self.obv += volume;
        } else if price < self.prev {
            self.obv -= volume;
        }
        self.prev = price;
        self.obv
    }
}

/// The catalog's batch kernel (the stream's steps, inlined). Scalar: the
/// balance is a running total, one addition per bar in TA-Lib's order.
#[inline(always)]
pub fn batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let mut state = Obv::new(params)?;
    for ((o, &p), &v) in outputs[0].iter_mut().zip(inputs[0]).zip(inputs[1]) {
        *o = state.step(p, v);
    }
    Ok(())
}

impl Indicator for Obv {
    fn lookback(&self) -> usize {
        0
    }

    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        out[0] = self.step(tick[0], tick[1]);
    }

    fn save(&self, w: &mut Writer) {
        w.flag(self.started).f64(self.prev).f64(self.obv);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.started = r.flag()?;
        self.prev = r.f64()?;
        self.obv = r.f64()?;
        ensure(
            self.started || (self.prev == 0.0 && self.obv == 0.0),
            "values before the first bar",
        )?;
        Ok(())
    }

    impl_boxed_clone!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::testkit::first_outputs;

    fn run(state: &mut Obv, bars: &[(f64, f64)]) -> Vec<f64> {
        first_outputs(state, bars.iter().map(|&(p, v)| [p, v]))
    }

    #[test]
    fn hand_checked_values() {
        let bars = [
            (10.0, 100.0),
            (11.0, 50.0),
            (11.0, 70.0),
            (9.0, 30.0),
            (f64::NAN, 5.0),
            (12.0, 1.0),
        ];
        let got = run(&mut Obv::new(&[]).unwrap(), &bars);
        // The first value is the first volume; NaN comparisons change nothing.
        assert_eq!(got, vec![100.0, 150.0, 150.0, 120.0, 120.0, 120.0]);
        assert_eq!(Obv::new(&[]).unwrap().lookback(), 0);
    }

    #[test]
    fn save_load_continues_identically_and_peek_is_pure() {
        let bars: Vec<(f64, f64)> = (0..20)
            .map(|i| (((i * 7) % 5) as f64, (i * 10) as f64))
            .collect();
        for cut in [0, 1, 10] {
            let mut a = Obv::new(&[]).unwrap();
            run(&mut a, &bars[..cut]);
            let mut w = Writer::fields();
            a.save(&mut w);
            let bytes = w.into_bytes();
            let mut b = Obv::new(&[]).unwrap();
            b.load(&mut Reader::fields(&bytes)).unwrap();
            let before = a.clone();
            a.peek(&[3.0, 1.0], &mut [0.0]);
            assert_eq!(a, before);
            assert_eq!(run(&mut a, &bars[cut..]), run(&mut b, &bars[cut..]));
        }
    }

    #[test]
    fn load_refuses_values_before_the_first_bar() {
        let mut w = Writer::fields();
        w.flag(false).f64(0.0).f64(5.0);
        let bytes = w.into_bytes();
        assert!(Obv::new(&[])
            .unwrap()
            .load(&mut Reader::fields(&bytes))
            .is_err());
    }
}
