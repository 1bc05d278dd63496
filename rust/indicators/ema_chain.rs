//! A chain of EMAs of one period, each smoothing the one before it: the
//! core of DEMA (two levels), TEMA (three) and T3 (six).
//!
//! TA-Lib seeds every level with the simple average of the first `period`
//! values of its input, the input of level n being level n-1's values from
//! its own seed on. So level 1 is seeded at tick p-1, level 2 at tick
//! 2(p-1), level n at n(p-1), and a level is not stepped on the tick that
//! seeds it. DEMA and TEMA step with `((x - e) * k) + e` and sum their seeds
//! from 0.0 (ta_DEMA.c, ta_TEMA.c); T3 steps with `k * x + (1 - k) * e` and
//! starts each seed sum with its first value (ta_T3.c).
//!
//! TA-Lib 0.8.1 is built with a second copy of these functions for CPUs
//! with fused multiply-add, chosen when the library loads, in which the
//! compiler fused each step: `fma(x - e, k, e)` and `fma(e, 1 - k, k * x)`.
//! The two copies differ in the last bit now and then, so the chain does
//! what TA-Lib does on the CPU it runs on (`talib_fuses`). Without FMA
//! instructions compiled in, `f64::mul_add` is a call into the C library's
//! `fma`, so the fused steps cost about three times the plain ones.

use super::indicator::Indicator;
use super::state::{ensure, Reader, Writer};
use crate::error::Result;

/// Deepest chain any indicator uses (T3).
pub(crate) const MAX_DEPTH: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Form {
    /// `((x - e) * k) + e`, seed sums from 0.0 (DEMA, TEMA).
    Ema,
    /// `k * x + (1 - k) * e`, seed sums from their first value (T3).
    T3,
}

/// Whether TA-Lib 0.8.1 runs its fused multiply-add build on this CPU (its
/// x86-64 build picks it when the CPU has FMA; other builds have one copy,
/// compiled without fusing).
pub(crate) fn talib_fuses() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EmaChain {
    period: usize,
    /// Steps fused as in TA-Lib's FMA build.
    fused: bool,
    depth: usize,
    form: Form,
    k: f64,
    one_minus_k: f64,
    /// Levels seeded so far (0..=depth).
    seeded: usize,
    /// The levels' current values; `e[..seeded]` are live.
    e: [f64; MAX_DEPTH],
    /// Seed sum of the level being seeded, and how many values it holds.
    sum: f64,
    count: usize,
}

impl EmaChain {
    /// `period >= 1`, `1 <= depth <= MAX_DEPTH`.
    pub(crate) fn new(period: usize, depth: usize, form: Form) -> Self {
        debug_assert!(period >= 1 && (1..=MAX_DEPTH).contains(&depth));
        let k = match form {
            Form::Ema => 2.0 / (period + 1) as f64,
            Form::T3 => 2.0 / (period as f64 + 1.0),
        };
        EmaChain {
            period,
            fused: talib_fuses(),
            depth,
            form,
            k,
            one_minus_k: 1.0 - k,
            seeded: 0,
            e: [0.0; MAX_DEPTH],
            sum: 0.0,
            count: 0,
        }
    }

    /// Ticks before every level has a value: TA-Lib's lookback.
    pub(crate) fn lookback(&self) -> usize {
        self.depth * (self.period - 1)
    }

    /// The level values (`levels()[0]` is the EMA of the input).
    #[inline]
    pub(crate) fn levels(&self) -> &[f64; MAX_DEPTH] {
        &self.e
    }

    /// Takes one input value; true once every level has a value.
    #[inline]
    pub(crate) fn update(&mut self, x: f64) -> bool {
        if self.seeded == 0 {
            self.sum = if self.count == 0 && self.form == Form::T3 { x } else { self.sum + x };
            self.count += 1;
        } else {
            self.step(x);
            if self.seeded == self.depth {
                return true;
            }
            self.sum += self.e[self.seeded - 1];
            self.count += 1;
        }
        // A loop, not an `if`: at period 1 every level is seeded by the same tick.
        while self.count == self.period && self.seeded < self.depth {
            self.e[self.seeded] = self.sum / self.period as f64;
            self.seeded += 1;
            if self.seeded < self.depth {
                let first = self.e[self.seeded - 1];
                self.sum = match self.form {
                    Form::Ema => 0.0 + first,
                    Form::T3 => first,
                };
                self.count = 1;
            }
        }
        self.seeded == self.depth
    }

    /// Whether the steps are fused (TA-Lib's FMA build).
    pub(crate) fn fused(&self) -> bool {
        self.fused
    }

    #[cfg(test)]
    pub(crate) fn set_fused(&mut self, fused: bool) {
        self.fused = fused;
    }

    #[cfg(test)]
    pub(crate) fn is_seeded(&self) -> bool {
        self.seeded == self.depth
    }

    #[inline]
    fn step(&mut self, x: f64) {
        let (k, c) = (self.k, self.one_minus_k);
        let e = &mut self.e;
        match self.form {
            Form::Ema if self.fused => {
                e[0] = (x - e[0]).mul_add(k, e[0]);
                for j in 1..self.seeded {
                    e[j] = (e[j - 1] - e[j]).mul_add(k, e[j]);
                }
            }
            Form::T3 if self.fused => {
                e[0] = e[0].mul_add(c, k * x);
                for j in 1..self.seeded {
                    e[j] = e[j].mul_add(c, k * e[j - 1]);
                }
            }
            Form::Ema => {
                e[0] = (x - e[0]) * k + e[0];
                for j in 1..self.seeded {
                    e[j] = (e[j - 1] - e[j]) * k + e[j];
                }
            }
            Form::T3 => {
                e[0] = k * x + c * e[0];
                for j in 1..self.seeded {
                    e[j] = k * e[j - 1] + c * e[j];
                }
            }
        }
    }

    /// The seeded chain over a whole slice: the steps `update` takes once
    /// every level is seeded (same operations, so the same bits), in a loop
    /// that decides form and fusing once. Writes `combine(levels)` per value.
    /// Inlined so that a caller's `fused::with_fma` reaches the loop.
    #[inline(always)]
    pub(crate) fn run_seeded<const D: usize>(
        &mut self,
        x: &[f64],
        out: &mut [f64],
        combine: impl Fn(&[f64; D]) -> f64,
    ) {
        assert!(D == self.depth && self.seeded == D);
        let (k, c) = (self.k, self.one_minus_k);
        let mut e = [0.0; D];
        e.copy_from_slice(&self.e[..D]);
        match (self.form, self.fused) {
            (Form::Ema, true) => {
                for (o, &v) in out.iter_mut().zip(x) {
                    e[0] = (v - e[0]).mul_add(k, e[0]);
                    for j in 1..D {
                        e[j] = (e[j - 1] - e[j]).mul_add(k, e[j]);
                    }
                    *o = combine(&e);
                }
            }
            (Form::Ema, false) => {
                for (o, &v) in out.iter_mut().zip(x) {
                    e[0] = (v - e[0]) * k + e[0];
                    for j in 1..D {
                        e[j] = (e[j - 1] - e[j]) * k + e[j];
                    }
                    *o = combine(&e);
                }
            }
            (Form::T3, true) => {
                for (o, &v) in out.iter_mut().zip(x) {
                    e[0] = e[0].mul_add(c, k * v);
                    for j in 1..D {
                        e[j] = e[j].mul_add(c, k * e[j - 1]);
                    }
                    *o = combine(&e);
                }
            }
            (Form::T3, false) => {
                for (o, &v) in out.iter_mut().zip(x) {
                    e[0] = k * v + c * e[0];
                    for j in 1..D {
                        e[j] = k * e[j - 1] + c * e[j];
                    }
                    *o = combine(&e);
                }
            }
        }
        self.e[..D].copy_from_slice(&e);
    }

    pub(crate) fn save(&self, w: &mut Writer) {
        w.usize(self.seeded).usize(self.count).f64(self.sum).f64s(&self.e[..self.seeded]);
    }

    pub(crate) fn load(&mut self, r: &mut Reader) -> Result<()> {
        let seeded = r.usize()?;
        let count = r.usize()?;
        let sum = r.f64()?;
        let live = r.f64s(self.depth)?;
        ensure(seeded <= self.depth && live.len() == seeded, "seeded levels")?;
        let seeding = seeded < self.depth;
        ensure(
            if seeding { count < self.period && (seeded == 0 || count >= 1) } else { count <= self.period },
            "seed count",
        )?;
        self.seeded = seeded;
        self.count = count;
        self.sum = sum;
        self.e = [0.0; MAX_DEPTH];
        self.e[..seeded].copy_from_slice(&live);
        Ok(())
    }
}

/// The whole-array path of every indicator built on a chain (DEMA, TEMA,
/// T3): the input itself when `copy` (TA-Lib's period-1 rule), else the
/// stream through its warm-up (lookback + 1 bars), then `steady` (the chain's
/// steady loop, the same operations) over the rest.
pub(crate) fn warm_then_steady<S: Indicator>(
    state: &mut S,
    copy: bool,
    x: &[f64],
    out: &mut [f64],
    steady: impl FnOnce(&mut S, &[f64], &mut [f64]),
) {
    if copy {
        out.copy_from_slice(x);
        return;
    }
    let warm = (state.lookback() + 1).min(x.len());
    super::ma::run_single(state, &x[..warm], &mut out[..warm]);
    if warm < x.len() {
        steady(state, &x[warm..], &mut out[warm..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// EMA of `x` seeded with the average of its first `p` values, NaN before.
    fn ema(x: &[f64], p: usize) -> Vec<f64> {
        let k = 2.0 / (p + 1) as f64;
        let mut out = vec![f64::NAN; x.len()];
        let start = x.iter().position(|v| !v.is_nan()).unwrap_or(x.len());
        if start + p > x.len() {
            return out;
        }
        let mut e = x[start..start + p].iter().fold(0.0, |s, v| s + v) / p as f64;
        out[start + p - 1] = e;
        for i in start + p..x.len() {
            e = (x[i] - e) * k + e;
            out[i] = e;
        }
        out
    }

    #[test]
    fn each_level_is_the_ema_of_the_level_before() {
        let x: Vec<f64> = (0..200).map(|i| 10.0 + (i as f64 * 0.3).sin()).collect();
        for p in [1, 2, 5] {
            let l1 = ema(&x, p);
            let l2 = ema(&l1, p);
            let l3 = ema(&l2, p);
            let mut chain = EmaChain::new(p, 3, Form::Ema);
            chain.set_fused(false);
            assert_eq!(chain.lookback(), 3 * (p - 1));
            for i in 0..x.len() {
                let ready = chain.update(x[i]);
                assert_eq!(ready, i >= 3 * (p - 1), "p {p} i {i}");
                if ready {
                    let e = chain.levels();
                    assert_eq!([e[0], e[1], e[2]], [l1[i], l2[i], l3[i]], "p {p} i {i}");
                }
            }
        }
    }

    #[test]
    fn fused_steps_stay_within_rounding_of_plain_ones() {
        let x: Vec<f64> = (0..500).map(|i| 1e6 * (i as f64 * 0.1).sin()).collect();
        for form in [Form::Ema, Form::T3] {
            // Period 6: k = 2/7, so products round (a power-of-two k would not).
            let mut plain = EmaChain::new(6, 6, form);
            plain.set_fused(false);
            let mut fused = plain.clone();
            fused.set_fused(true);
            let mut differ = false;
            for &v in &x {
                if plain.update(v) & fused.update(v) {
                    for j in 0..6 {
                        let (a, b) = (plain.levels()[j], fused.levels()[j]);
                        assert!((a - b).abs() <= 1e-9, "{a} vs {b}");
                        differ |= a != b;
                    }
                }
            }
            assert!(differ, "fusing changed no bit: the fused path is not taken");
        }
    }

    #[test]
    fn run_seeded_takes_the_same_steps_as_update() {
        let x: Vec<f64> = (0..300).map(|i| 1e3 * (i as f64 * 0.13).sin()).collect();
        for form in [Form::Ema, Form::T3] {
            for fused in [false, true] {
                let mut a = EmaChain::new(5, 3, form);
                a.set_fused(fused);
                for &v in &x[..13] {
                    a.update(v);
                }
                assert!(a.is_seeded());
                let mut b = a.clone();
                let mut out = vec![0.0; x.len() - 13];
                b.run_seeded::<3>(&x[13..], &mut out, |e| e[0] - e[1] + e[2]);
                for (i, &v) in x[13..].iter().enumerate() {
                    a.update(v);
                    let e = a.levels();
                    assert_eq!((e[0] - e[1] + e[2]).to_bits(), out[i].to_bits(), "{form:?} {fused} {i}");
                }
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn hand_checked_seeds() {
        // p = 2, k = 2/3: e1 seeds at tick 1 with (1+3)/2 = 2, steps to
        // 2 + (5-2)*2/3 = 4 at tick 2; e2 seeds there with (2+4)/2 = 3.
        let mut chain = EmaChain::new(2, 2, Form::Ema);
        assert!(!chain.update(1.0));
        assert!(!chain.update(3.0));
        assert!(chain.update(5.0));
        assert_eq!(chain.levels()[0], 4.0);
        assert_eq!(chain.levels()[1], 3.0);
    }

    #[test]
    fn load_refuses_inconsistent_fields() {
        let chain = EmaChain::new(4, 2, Form::Ema);
        for (seeded, count, levels) in [(3usize, 1usize, 3usize), (1, 0, 1), (1, 4, 1), (1, 1, 0)] {
            let mut w = Writer::fields();
            w.usize(seeded).usize(count).f64(0.0).f64s(&vec![1.0; levels]);
            let bytes = w.into_bytes();
            assert!(chain.clone().load(&mut Reader::fields(&bytes)).is_err(), "{seeded} {count} {levels}");
        }
    }
}
