//! Triple exponential moving average (TA-Lib `TEMA`):
//! `EMA3 + (3 * EMA1 - 3 * EMA2)` (TA-Lib's grouping), each EMA smoothing
//! the one before, seeded as TA-Lib seeds it and stepped as TA-Lib's build
//! for the CPU steps it (see `ema_chain`). Period 1 copies the input, as
//! TA-Lib does. Lookback `3 * (timeperiod - 1)`.

use super::ema_chain::{warm_then_steady, EmaChain, Form};
use super::fused::fma_copy;
use super::indicator::Indicator;
use super::state::{Reader, Writer};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct Tema {
    chain: EmaChain,
    copy: bool,
}

impl Tema {
    /// The catalog's constructor: `[timeperiod]`.
    pub fn catalog(params: &[f64]) -> Result<Self> {
        let period = params[0] as usize;
        Ok(Tema { chain: EmaChain::new(period, 3, Form::Ema), copy: period == 1 })
    }
}

impl Indicator for Tema {
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
            e[2] + (3.0 * e[0] - 3.0 * e[1])
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
    let mut s = Tema::catalog(params)?;
    let copy = s.copy;
    warm_then_steady(&mut s, copy, inputs[0], outputs[0], |s, x, out| steady(&mut s.chain, x, out));
    Ok(())
}

fma_copy! {
    fn steady(chain: &mut EmaChain, x: &[f64], out: &mut [f64]) -> () {
        chain.run_seeded::<3>(x, out, |e| e[2] + (3.0 * e[0] - 3.0 * e[1]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::testkit::{assert_peek_is_pure, assert_resumes, run, wave};

    #[test]
    fn batch_is_the_stream_bit_for_bit() {
        for p in [[1.0], [2.0], [5.0], [30.0]] {
            crate::indicators::testkit::assert_batch_is_replay(batch, |p| Tema::catalog(p).unwrap(), &p, 1, 1);
        }
    }

    #[test]
    fn hand_checked_values() {
        // p = 2 (k = 2/3), input 1, 3, 5, 2: EMA1 seeds at tick 1 with 2 and
        // steps to 4 at tick 2, where EMA2 seeds with (2 + 4) / 2 = 3; at
        // tick 3 both step and EMA3 seeds with (3 + EMA2) / 2.
        let mut t = Tema::catalog(&[2.0]).unwrap();
        assert_eq!(t.lookback(), 3);
        let out = &run(&mut t, &[&[1.0, 3.0, 5.0, 2.0]], 1)[0];
        assert!(out[..3].iter().all(|v| v.is_nan()));
        let k = 2.0 / 3.0;
        let e1 = (2.0 - 4.0) * k + 4.0;
        let e2 = (e1 - 3.0) * k + 3.0;
        let e3 = (0.0 + 3.0 + e2) / 2.0;
        assert_eq!(out[3], e3 + (3.0 * e1 - 3.0 * e2));
    }

    #[test]
    fn period_one_copies() {
        let x = [3.0, 0.1, 1e300, -7.5];
        let mut t = Tema::catalog(&[1.0]).unwrap();
        assert_eq!(t.lookback(), 0);
        assert_eq!(run(&mut t, &[&x], 1)[0], x);
    }

    #[test]
    fn save_load_and_peek() {
        let x = wave(300);
        for p in [1.0, 2.0, 30.0] {
            assert_resumes(|| Tema::catalog(&[p]).unwrap(), &[&x], 1, &[0, 1, 30, 87, 88, 299]);
            assert_peek_is_pure(Tema::catalog(&[p]).unwrap(), &[&x[..100]], 1);
        }
    }

    #[test]
    fn load_refuses_inconsistent_fields() {
        let mut w = Writer::fields();
        w.usize(2).usize(9).f64(0.0).f64s(&[1.0, 2.0]);
        let bytes = w.into_bytes();
        assert!(Tema::catalog(&[5.0]).unwrap().load(&mut Reader::fields(&bytes)).is_err());
    }
}
