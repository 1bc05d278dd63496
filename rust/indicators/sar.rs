//! Parabolic SAR (TA-Lib `SAR`), with TA-Lib's bootstrap and rules.
//!
//! - The first bar only gives the initial extremes. The direction for the
//!   second bar is short when the second bar's one-bar minus directional
//!   movement is positive (`prev_low - low > 0` and above `high -
//!   prev_high`), long otherwise (a tie is long). Long: the SAR starts at
//!   the first bar's low and the extreme point at the second bar's high;
//!   short: the first bar's high and the second bar's low.
//! - Each bar outputs the SAR computed on the previous bar, unless the bar
//!   penetrates it (long: `low <= sar`; short: `high >= sar`): the position
//!   then reverses, the output is the extreme point clamped to the previous
//!   and current bars' range, and the acceleration restarts.
//! - Otherwise a new extreme raises the acceleration by `acceleration`, up
//!   to `maximum`. The next SAR is `sar + af * (ep - sar)` (the product fused
//!   into the addition, as TA-Lib 0.8.1's build computes it), clamped so it
//!   never enters the previous or current bar's range.
//! - An `acceleration` above `maximum` is lowered to `maximum`.
//! - On the second bar, the "previous" bar is the second bar itself (TA-Lib's
//!   loop starts that way). Lookback 1.

use std::hint::select_unpredictable;

use super::fused::fma_copy;
use super::indicator::Indicator;
use super::state::{ensure, Reader, Writer};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct Sar {
    acceleration: f64,
    maximum: f64,
    /// Bars consumed, up to 2 (then every bar is alike).
    bars: usize,
    is_long: bool,
    af: f64,
    ep: f64,
    sar: f64,
    /// The previous bar's high and low.
    prev_high: f64,
    prev_low: f64,
}

impl Sar {
    /// SAR: `[acceleration, maximum]`, inputs high, low.
    pub fn new(params: &[f64]) -> Result<Self> {
        let maximum = params[1];
        let acceleration = if params[0] > maximum { maximum } else { params[0] };
        Ok(Sar {
            acceleration,
            maximum,
            bars: 0,
            is_long: true,
            af: acceleration,
            ep: 0.0,
            sar: 0.0,
            prev_high: 0.0,
            prev_low: 0.0,
        })
    }

    /// The first step on the second bar: direction, SAR and extreme point.
    fn start(&mut self, high: f64, low: f64) {
        let diff_p = high - self.prev_high;
        let diff_m = self.prev_low - low;
        let minus_dm = if diff_m > 0.0 && diff_p < diff_m { diff_m } else { 0.0 };
        self.is_long = !(minus_dm > 0.0);
        if self.is_long {
            self.ep = high;
            self.sar = self.prev_low;
        } else {
            self.ep = low;
            self.sar = self.prev_high;
        }
        // TA-Lib's loop then starts with this bar as its own previous bar.
        self.prev_high = high;
        self.prev_low = low;
    }

    /// One bar after the second. The SAR is a chain from bar to bar
    /// (subtract, fused multiply-add, clamp), so the clamp is one comparison
    /// on it (`at_most`, `at_least`), and a new extreme, which random data
    /// leaves unpredictable, raises the extreme point and the factor by
    /// selects rather than a branch (`select_unpredictable`: plain `if`s
    /// are compiled back into a branch here; the selects make the steady
    /// loop a third faster on random walks).
    #[inline(always)]
    fn step(&mut self, new_high: f64, new_low: f64) -> f64 {
        let (prev_high, prev_low) = (self.prev_high, self.prev_low);
        self.prev_high = new_high;
        self.prev_low = new_low;
        let out;
        if self.is_long {
            if new_low <= self.sar {
                self.is_long = false;
                let sar = at_least(self.ep, prev_high, new_high);
                out = sar;
                self.af = self.acceleration;
                self.ep = new_low;
                self.sar = at_least(self.af.mul_add(self.ep - sar, sar), prev_high, new_high);
            } else {
                out = self.sar;
                let higher = new_high > self.ep;
                self.ep = select_unpredictable(higher, new_high, self.ep);
                self.af = select_unpredictable(higher, self.raised_af(), self.af);
                self.sar = at_most(self.af.mul_add(self.ep - self.sar, self.sar), prev_low, new_low);
            }
        } else if new_high >= self.sar {
            self.is_long = true;
            let sar = at_most(self.ep, prev_low, new_low);
            out = sar;
            self.af = self.acceleration;
            self.ep = new_high;
            self.sar = at_most(self.af.mul_add(self.ep - sar, sar), prev_low, new_low);
        } else {
            out = self.sar;
            let lower = new_low < self.ep;
            self.ep = select_unpredictable(lower, new_low, self.ep);
            self.af = select_unpredictable(lower, self.raised_af(), self.af);
            self.sar = at_least(self.af.mul_add(self.ep - self.sar, self.sar), prev_high, new_high);
        }
        out
    }

    /// The factor after a new extreme: raised by `acceleration`, at most `maximum`.
    #[inline(always)]
    fn raised_af(&self) -> f64 {
        let af = self.af + self.acceleration;
        if af > self.maximum {
            self.maximum
        } else {
            af
        }
    }
}

/// TA-Lib's clamp `if (x > a) x = a; if (x > b) x = b;` with one comparison
/// on `x`: the bound `m` (`b` when below `a` or when `a` is NaN, which
/// TA-Lib's first test would skip) depends on the bars alone, and `x > m`
/// then gives the same bits in every case, NaNs and signed zeros included.
#[inline(always)]
fn at_most(x: f64, a: f64, b: f64) -> f64 {
    let m = if b < a || a.is_nan() { b } else { a };
    if x > m {
        m
    } else {
        x
    }
}

/// TA-Lib's `if (x < a) x = a; if (x < b) x = b;`, likewise.
#[inline(always)]
fn at_least(x: f64, a: f64, b: f64) -> f64 {
    let m = if b > a || a.is_nan() { b } else { a };
    if x < m {
        m
    } else {
        x
    }
}

impl Indicator for Sar {
    fn lookback(&self) -> usize {
        1
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        let (high, low) = (tick[0], tick[1]);
        match self.bars {
            0 => {
                self.prev_high = high;
                self.prev_low = low;
                self.bars = 1;
                out[0] = f64::NAN;
            }
            1 => {
                self.start(high, low);
                self.bars = 2;
                out[0] = self.step(high, low);
            }
            _ => out[0] = self.step(high, low),
        }
    }

    fn save(&self, w: &mut Writer) {
        w.usize(self.bars)
            .flag(self.is_long)
            .f64(self.af)
            .f64(self.ep)
            .f64(self.sar)
            .f64(self.prev_high)
            .f64(self.prev_low);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        let bars = r.usize()?;
        let is_long = r.flag()?;
        let af = r.f64()?;
        let ep = r.f64()?;
        let sar = r.f64()?;
        let prev_high = r.f64()?;
        let prev_low = r.f64()?;
        ensure(bars <= 2, "bars")?;
        // The acceleration factor only ever moves between the two parameters
        // (NaN parameters aside).
        ensure(
            !(af < self.acceleration.min(self.maximum) || af > self.acceleration.max(self.maximum)),
            "acceleration factor",
        )?;
        ensure(bars == 2 || (is_long && af == self.acceleration && ep == 0.0 && sar == 0.0), "fields before the second bar")?;
        *self = Sar { bars, is_long, af, ep, sar, prev_high, prev_low, ..*self };
        Ok(())
    }

    crate::impl_boxed_clone!();
}

/// SAR's block kernel: the stream through its first output, then its step
/// over the rest (compiled with FMA instructions where the CPU has them, so
/// the fused step is one instruction). Scalar: a state machine whose every
/// bar depends on the previous bar's trend, extreme and factor.
pub fn batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let mut s = Sar::new(params)?;
    let (high, low, out) = (inputs[0], inputs[1], &mut *outputs[0]);
    let warm = 2.min(high.len());
    let mut o = [0.0];
    for t in 0..warm {
        s.update(&[high[t], low[t]], &mut o);
        out[t] = o[0];
    }
    steady(&mut s, &high[warm..], &low[warm..], &mut out[warm..]);
    Ok(())
}

fma_copy! {
    fn steady(s: &mut Sar, high: &[f64], low: &[f64], out: &mut [f64]) -> () {
        for (o, (&h, &l)) in out.iter_mut().zip(high.iter().zip(low)) {
            *o = s.step(h, l);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::testkit::first_outputs;

    #[test]
    fn batch_is_the_stream_bit_for_bit() {
        for p in [[0.02, 0.2], [0.1, 0.15], [0.3, 0.2], [0.0, 0.0]] {
            crate::indicators::testkit::assert_batch_is_replay(batch, |p| Sar::new(p).unwrap(), &p, 2, 1);
        }
    }

    fn run(s: &mut Sar, bars: &[(f64, f64)]) -> Vec<f64> {
        first_outputs(s, bars.iter().map(|&(h, l)| [h, l]))
    }

    #[test]
    fn hand_computed_long_start_and_reversal() {
        // Bar 1 rises: no minus movement, long. SAR = first low 9, ep = 11.
        let bars = [(10.0, 9.0), (11.0, 10.0), (12.0, 11.0), (10.5, 8.0)];
        let mut s = Sar::new(&[0.02, 0.2]).unwrap();
        let out = run(&mut s, &bars);
        assert!(out[0].is_nan());
        assert_eq!(out[1], 9.0);
        // Bar 1 step: no new extreme (11 is not above 11): sar = 9 + 0.02 * (11 - 9) = 9.04,
        // clamped to at most the lows 10 and 10: stays 9.04.
        assert_eq!(out[2], 9.0 + 0.02 * (11.0 - 9.0));
        // Bar 2: new extreme 12, af 0.04: sar = 9.04 + 0.04 * (12 - 9.04), within the lows.
        let sar3 = 9.04 + 0.04 * (12.0 - 9.04);
        // Bar 3: low 8 <= sar: reverse; output the extreme 12, at least the highs 12, 10.5.
        assert!(sar3 > 8.0);
        assert_eq!(out[3], 12.0);
    }

    #[test]
    fn a_falling_second_bar_starts_short() {
        let bars = [(10.0, 9.0), (9.5, 8.0), (9.0, 7.5)];
        let mut s = Sar::new(&[0.02, 0.2]).unwrap();
        let out = run(&mut s, &bars);
        // Short: SAR = first high 10, ep = 8.
        assert_eq!(out[1], 10.0);
        assert!(!s.is_long);
        // Next: sar = 10 + 0.02 * (8 - 10) = 9.96, at least the highs 9.5, 9.5.
        assert_eq!(out[2], 10.0 + 0.02 * (8.0 - 10.0));
    }

    #[test]
    fn one_comparison_clamps_are_the_two_comparisons() {
        let vals = [f64::NAN, 0.0, -0.0, 1.0, -1.0, 2.0, f64::INFINITY, f64::NEG_INFINITY];
        for &x in &vals {
            for &a in &vals {
                for &b in &vals {
                    let mut s = x;
                    if s > a {
                        s = a;
                    }
                    if s > b {
                        s = b;
                    }
                    assert_eq!(s.to_bits(), at_most(x, a, b).to_bits(), "at_most({x}, {a}, {b})");
                    let mut s = x;
                    if s < a {
                        s = a;
                    }
                    if s < b {
                        s = b;
                    }
                    assert_eq!(s.to_bits(), at_least(x, a, b).to_bits(), "at_least({x}, {a}, {b})");
                }
            }
        }
    }

    #[test]
    fn acceleration_above_maximum_is_lowered() {
        let s = Sar::new(&[0.5, 0.2]).unwrap();
        assert_eq!((s.acceleration, s.af), (0.2, 0.2));
    }

    fn walk() -> Vec<(f64, f64)> {
        (0..80)
            .map(|i| {
                let c = 50.0 + (i as f64 * 0.17).sin() * 6.0 + ((i * 5 % 7) as f64 - 3.0) * 0.3;
                (c + 0.5, c - 0.5)
            })
            .collect()
    }

    #[test]
    fn save_load_continues_identically() {
        let bars = walk();
        for cut in [0, 1, 2, 3, 41] {
            let mut a = Sar::new(&[0.02, 0.2]).unwrap();
            run(&mut a, &bars[..cut]);
            let mut w = Writer::fields();
            a.save(&mut w);
            let bytes = w.into_bytes();
            let mut b = Sar::new(&[0.02, 0.2]).unwrap();
            let mut r = Reader::fields(&bytes);
            b.load(&mut r).unwrap();
            r.finish().unwrap();
            assert_eq!(a, b);
            let x = run(&mut a, &bars[cut..]);
            let y = run(&mut b, &bars[cut..]);
            assert_eq!(format!("{x:?}"), format!("{y:?}"));
        }
    }

    #[test]
    fn load_refuses_inconsistent_fields() {
        let mut s = Sar::new(&[0.02, 0.2]).unwrap();
        for (bars, af) in [(3, 0.02), (2, 0.5), (2, 0.01)] {
            let mut w = Writer::fields();
            w.usize(bars).flag(true).f64(af).f64(1.0).f64(1.0).f64(1.0).f64(1.0);
            let bytes = w.into_bytes();
            assert!(s.load(&mut Reader::fields(&bytes)).is_err(), "{bars} {af}");
        }
    }

    #[test]
    fn peek_does_not_change_the_state() {
        let bars = walk();
        let mut s = Sar::new(&[0.02, 0.2]).unwrap();
        run(&mut s, &bars[..30]);
        let before = s.clone();
        let mut peeked = [0.0];
        s.peek(&[bars[30].0, bars[30].1], &mut peeked);
        assert_eq!(s, before);
        assert_eq!(run(&mut s, &bars[30..31])[0], peeked[0]);
    }
}
