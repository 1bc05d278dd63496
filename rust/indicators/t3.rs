//! Tillson's T3 (TA-Lib `T3`): six chained EMAs (TA-Lib's T3 form
//! `k * x + (1 - k) * e`, each seeded with the average of its input's first
//! `timeperiod` values, see `ema_chain`) combined as
//! `c1 * e6 + c2 * e5 + c3 * e4 + c4 * e3` with the coefficients of the
//! volume factor `vfactor` computed as ta_T3.c computes them (fused where
//! TA-Lib's FMA build fuses them, see `ema_chain`). Period 1 copies the
//! input, as TA-Lib does. Lookback `6 * (timeperiod - 1)`.

use super::ema_chain::{warm_then_steady, EmaChain, Form};
use super::fused::fma_copy;
use super::indicator::Indicator;
use super::state::{Reader, Writer};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct T3 {
    chain: EmaChain,
    copy: bool,
    c: [f64; 4],
}

impl T3 {
    /// The catalog's constructor: `[timeperiod, vfactor]`.
    pub fn catalog(params: &[f64]) -> Result<Self> {
        let chain = EmaChain::new(params[0] as usize, 6, Form::T3);
        let c = coefficients(params[1], chain.fused());
        Ok(T3 { copy: params[0] == 1.0, chain, c })
    }
}

/// ta_T3.c's coefficients of the volume factor `v`; TA-Lib's FMA build
/// fuses `1 + 3v` and the `+ 3t` of c4.
fn coefficients(v: f64, fused: bool) -> [f64; 4] {
    let t = v * v;
    let c1 = 0.0 - t * v;
    let c2 = 3.0 * (t - c1);
    let c3 = (0.0 - 6.0) * t - 3.0 * (v - c1);
    let c4 = if fused { 3.0f64.mul_add(t, v.mul_add(3.0, 1.0) - c1) } else { 1.0 + 3.0 * v - c1 + 3.0 * t };
    [c1, c2, c3, c4]
}

impl Indicator for T3 {
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
            let [c1, c2, c3, c4] = self.c;
            if self.chain.fused() {
                c4.mul_add(e[2], c3.mul_add(e[3], c1.mul_add(e[5], c2 * e[4])))
            } else {
                c1 * e[5] + c2 * e[4] + c3 * e[3] + c4 * e[2]
            }
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
/// chain's steady loop (the same operations). Scalar: the six EMAs are
/// TA-Lib's fused recurrences, one dependency per bar.
#[inline(always)]
pub fn batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let mut s = T3::catalog(params)?;
    let copy = s.copy;
    warm_then_steady(&mut s, copy, inputs[0], outputs[0], |s, x, out| {
        let [c1, c2, c3, c4] = s.c;
        if s.chain.fused() {
            steady_fused(&mut s.chain, [c1, c2, c3, c4], x, out);
        } else {
            s.chain.run_seeded::<6>(x, out, |e| c1 * e[5] + c2 * e[4] + c3 * e[3] + c4 * e[2]);
        }
    });
    Ok(())
}

fma_copy! {
    fn steady_fused(chain: &mut EmaChain, c: [f64; 4], x: &[f64], out: &mut [f64]) -> () {
        let [c1, c2, c3, c4] = c;
        chain.run_seeded::<6>(x, out, |e| c4.mul_add(e[2], c3.mul_add(e[3], c1.mul_add(e[5], c2 * e[4]))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::testkit::{assert_peek_is_pure, assert_resumes, run, wave};

    #[test]
    fn batch_is_the_stream_bit_for_bit() {
        for p in [[1.0, 0.7], [2.0, 0.7], [5.0, 0.7], [5.0, 0.0], [13.0, 1.0]] {
            crate::indicators::testkit::assert_batch_is_replay(batch, |p| T3::catalog(p).unwrap(), &p, 1, 1);
        }
    }

    #[test]
    fn coefficients_sum_to_one() {
        for fused in [false, true] {
            for v in [0.0, 0.3, 0.7, 1.0] {
                let c = coefficients(v, fused);
                assert!((c.iter().sum::<f64>() - 1.0).abs() < 1e-15, "v {v}");
            }
            // vfactor 0: plain EMA3 (c4 = 1, the rest 0); vfactor 1: -1, 6, -12, 8.
            assert_eq!(coefficients(0.0, fused), [0.0, 0.0, 0.0, 1.0]);
            assert_eq!(coefficients(1.0, fused), [-1.0, 6.0, -12.0, 8.0]);
        }
    }

    #[test]
    fn hand_checked_values() {
        // p = 2: every level seeds one tick after the one before, so all six
        // are seeded at tick 6; constant input keeps every level constant.
        let mut t3 = T3::catalog(&[2.0, 0.7]).unwrap();
        assert_eq!(t3.lookback(), 6);
        let out = &run(&mut t3, &[&[2.0; 9]], 1)[0];
        assert!(out[..6].iter().all(|v| v.is_nan()));
        let c = t3.c;
        assert!((out[6] - (c[0] * 2.0 + c[1] * 2.0 + c[2] * 2.0 + c[3] * 2.0)).abs() < 1e-14);
        // vfactor 0 is EMA3: a ramp 0, 1, 2, ... gives e1 = 0.5 at tick 1 ...
        let mut t3 = T3::catalog(&[2.0, 0.0]).unwrap();
        let ramp: Vec<f64> = (0..8).map(|i| i as f64).collect();
        let out = &run(&mut t3, &[&ramp], 1)[0];
        // Hand-run: e1 = .5, 1.5, 2.5, ...; e2 seeds (0.5+1.5)/2 = 1 at tick 2,
        // then trails e1 by 0.5 per level; e3 = tick - 1.5 from tick 3.
        assert!((out[6] - 4.5).abs() < 1e-12 && (out[7] - 5.5).abs() < 1e-12, "{out:?}");
    }

    #[test]
    fn period_one_copies() {
        let x = [3.0, 0.1, 1e300, -7.5];
        let mut t3 = T3::catalog(&[1.0, 0.7]).unwrap();
        assert_eq!(t3.lookback(), 0);
        assert_eq!(run(&mut t3, &[&x], 1)[0], x);
    }

    #[test]
    fn save_load_and_peek() {
        let x = wave(300);
        for p in [1.0, 2.0, 11.0] {
            assert_resumes(|| T3::catalog(&[p, 0.7]).unwrap(), &[&x], 1, &[0, 1, 7, 30, 60, 61, 299]);
            assert_peek_is_pure(T3::catalog(&[p, 0.3]).unwrap(), &[&x[..100]], 1);
        }
    }

    #[test]
    fn load_refuses_inconsistent_fields() {
        let mut w = Writer::fields();
        w.usize(7).usize(1).f64(0.0).f64s(&[1.0; 6]);
        let bytes = w.into_bytes();
        assert!(T3::catalog(&[5.0, 0.7]).unwrap().load(&mut Reader::fields(&bytes)).is_err());
    }
}
