//! Double exponential moving average (TA-Lib `DEMA`): `2 * EMA1 - EMA2`,
//! EMA2 the EMA of EMA1, both seeded as TA-Lib seeds them and stepped as
//! TA-Lib's build for the CPU steps them (see `ema_chain`). Period 1 copies
//! the input, as TA-Lib 0.8.1 does. Lookback `2 * (timeperiod - 1)`.

use super::ema_chain::{warm_then_steady, EmaChain, Form};
use super::fused::fma_copy;
use super::indicator::Indicator;
use super::state::{Reader, Writer};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct Dema {
    chain: EmaChain,
    copy: bool,
}

impl Dema {
    /// The catalog's constructor: `[timeperiod]`.
    pub fn catalog(params: &[f64]) -> Result<Self> {
        let period = params[0] as usize;
        Ok(Dema { chain: EmaChain::new(period, 2, Form::Ema), copy: period == 1 })
    }
}

impl Indicator for Dema {
    fn lookback(&self) -> usize {
        self.chain.lookback()
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        if self.copy {
            out[0] = tick[0];
            return;
        }
        out[0] = if self.chain.update(tick[0]) {
            let e = self.chain.levels();
            2.0 * e[0] - e[1]
        } else {
            f64::NAN
        };
    }

    fn save(&self, w: &mut Writer) {
        self.chain.save(w);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.chain.load(r)
    }

    crate::impl_boxed_clone!();
}

/// The catalog's batch kernel: the stream through its warm-up, then the
/// chain's steady loop (the same operations). Scalar: each EMA of the chain
/// is TA-Lib's fused recurrence, one dependency per bar.
#[inline(always)]
pub fn batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let mut s = Dema::catalog(params)?;
    let copy = s.copy;
    warm_then_steady(&mut s, copy, inputs[0], outputs[0], |s, x, out| steady(&mut s.chain, x, out));
    Ok(())
}

fma_copy! {
    fn steady(chain: &mut EmaChain, x: &[f64], out: &mut [f64]) -> () {
        chain.run_seeded::<2>(x, out, |e| 2.0 * e[0] - e[1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::testkit::{assert_peek_is_pure, assert_resumes, run, wave};

    #[test]
    fn batch_is_the_stream_bit_for_bit() {
        for p in [[1.0], [2.0], [5.0], [30.0]] {
            crate::indicators::testkit::assert_batch_is_replay(batch, |p| Dema::catalog(p).unwrap(), &p, 1, 1);
        }
    }

    #[test]
    fn hand_checked_values() {
        // p = 2 (k = 2/3): EMA1 = 2 at tick 1, 4 at tick 2, 4 + (2-4)*2/3 at tick 3;
        // EMA2 seeds at tick 2 with (2+4)/2 = 3, then 3 + (EMA1-3)*2/3.
        let mut d = Dema::catalog(&[2.0]).unwrap();
        assert_eq!(d.lookback(), 2);
        let out = &run(&mut d, &[&[1.0, 3.0, 5.0, 2.0]], 1)[0];
        assert!(out[0].is_nan() && out[1].is_nan());
        assert_eq!(out[2], 2.0 * 4.0 - 3.0);
        let e1 = (2.0 - 4.0) * (2.0 / 3.0) + 4.0;
        let e2 = (e1 - 3.0) * (2.0 / 3.0) + 3.0;
        assert_eq!(out[3], 2.0 * e1 - e2);
    }

    #[test]
    fn constant_input_gives_the_constant() {
        let mut d = Dema::catalog(&[30.0]).unwrap();
        let out = &run(&mut d, &[&[4.25; 100]], 1)[0];
        assert!(out[..58].iter().all(|v| v.is_nan()));
        assert!(out[58..].iter().all(|&v| v == 4.25));
    }

    #[test]
    fn period_one_copies() {
        let x = [3.0, f64::NAN, 0.1, 1e300, -7.5];
        let mut d = Dema::catalog(&[1.0]).unwrap();
        assert_eq!(d.lookback(), 0);
        let out = &run(&mut d, &[&x], 1)[0];
        assert!(out[1].is_nan());
        assert_eq!([out[0], out[2], out[3], out[4]], [x[0], x[2], x[3], x[4]]);
    }

    #[test]
    fn save_load_and_peek() {
        let x = wave(300);
        for p in [1.0, 2.0, 30.0] {
            assert_resumes(|| Dema::catalog(&[p]).unwrap(), &[&x], 1, &[0, 1, 30, 59, 60, 299]);
            assert_peek_is_pure(Dema::catalog(&[p]).unwrap(), &[&x[..80]], 1);
        }
    }

    #[test]
    fn load_refuses_inconsistent_fields() {
        let mut w = Writer::fields();
        w.usize(3).usize(1).f64(0.0).f64s(&[1.0, 2.0, 3.0]);
        let bytes = w.into_bytes();
        assert!(Dema::catalog(&[5.0]).unwrap().load(&mut Reader::fields(&bytes)).is_err());
    }
}
