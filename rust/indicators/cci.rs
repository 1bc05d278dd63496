//! Commodity channel index (TA-Lib `CCI`).
//!
//! With the typical price `tp = (high + low + close) / 3` and, over the last
//! `period` of them, their mean and mean absolute deviation:
//! `cci = (tp - mean) / (0.015 * deviation)`. Lookback `period - 1`.
//!
//! TA-Lib's details, replayed: the typical prices sit in a ring of `period`
//! slots filled from slot 0 at the first bar, and both sums run over the
//! ring's slots in slot order (not oldest first), so the rounding matches.
//! The result is 0 when either `tp - mean` or the deviation is within 1e-14
//! of the window's own price level `|mean|` (TA-Lib 0.8.1's flatness test,
//! relative so that instruments quoted in small units are not zeroed).

use super::indicator::Indicator;
use super::state::{ensure, Reader, Writer};
use crate::error::Result;

/// TA-Lib's `TA_EPSILON`, relative to the window's price level here.
const EPSILON: f64 = 1e-14;

#[derive(Debug, Clone, PartialEq)]
pub struct Cci {
    period: usize,
    /// Typical prices, by ring slot.
    ring: Vec<f64>,
    /// The slot the next typical price goes to.
    slot: usize,
    /// Bars consumed, up to `period` (after that every bar is alike).
    bars: usize,
}

impl Cci {
    /// CCI: `[timeperiod]` (at least 2), inputs high, low, close.
    pub fn new(params: &[f64]) -> Result<Self> {
        let period = params[0] as usize;
        Ok(Cci { period, ring: vec![0.0; period], slot: 0, bars: 0 })
    }
}

// The catalog replays this state over whole arrays (`cpu::replay`). Scalar:
// TA-Lib sums the ring in slot order every bar; the same order, the same bits.
impl Indicator for Cci {
    fn lookback(&self) -> usize {
        self.period - 1
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        let last = (tick[0] + tick[1] + tick[2]) / 3.0;
        self.ring[self.slot] = last;
        self.slot = if self.slot + 1 == self.period { 0 } else { self.slot + 1 };
        if self.bars < self.period {
            self.bars += 1;
            if self.bars < self.period {
                out[0] = f64::NAN;
                return;
            }
        }
        let p = self.period as f64;
        let mut average = 0.0;
        for &v in &self.ring {
            average += v;
        }
        average /= p;
        let mut deviation = 0.0;
        for &v in &self.ring {
            deviation += (v - average).abs();
        }
        deviation /= p;
        let distance = last - average;
        let level = EPSILON * average.abs();
        out[0] = if !(distance.abs() <= level) && !(deviation.abs() <= level) {
            distance / (0.015 * deviation)
        } else {
            0.0
        };
    }

    fn save(&self, w: &mut Writer) {
        w.usize(self.bars).usize(self.slot).f64s(&self.ring);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        let bars = r.usize()?;
        let slot = r.usize()?;
        let ring = r.f64s(self.period)?;
        ensure(bars <= self.period, "bars")?;
        ensure(ring.len() == self.period, "ring length")?;
        // The ring fills from slot 0: before it is full the next slot is the count.
        ensure(slot < self.period && (bars == self.period || slot == bars), "ring slot")?;
        ensure(ring[bars.min(self.period)..].iter().all(|&v| v == 0.0), "ring slots not yet filled")?;
        *self = Cci { bars, slot, ring, ..*self };
        Ok(())
    }

    crate::impl_boxed_clone!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::testkit::first_outputs;

    fn run(s: &mut Cci, bars: &[[f64; 3]]) -> Vec<f64> {
        first_outputs(s, bars)
    }

    #[test]
    fn hand_computed_values() {
        // Typical prices 3, 6, 9 (period 3): mean 6, deviation (3 + 0 + 3) / 3 = 2,
        // cci = (9 - 6) / (0.015 * 2) = 100.
        let bars = [[4.0, 2.0, 3.0], [7.0, 5.0, 6.0], [10.0, 8.0, 9.0], [7.0, 5.0, 6.0]];
        let mut s = Cci::new(&[3.0]).unwrap();
        let out = run(&mut s, &bars);
        assert!(out[0].is_nan() && out[1].is_nan());
        assert_eq!(out[2], 3.0 / (0.015 * 2.0));
        // 6, 9, 6: mean 7, deviation 4/3, cci = -1 / (0.015 * 4/3) = -50.
        assert!((out[3] + 50.0).abs() < 1e-12);
    }

    #[test]
    fn flat_windows_are_zero_at_any_price_level() {
        for level in [1e-9, 0.1, 3.0, 1e6] {
            let bars = [[level, level, level]; 5];
            let out = run(&mut Cci::new(&[3.0]).unwrap(), &bars);
            assert_eq!(out[2..], [0.0; 3]);
        }
        // A real move in a tiny-priced instrument is not flat.
        let bars = [[1e-9; 3], [1e-9; 3], [2e-9; 3]];
        let out = run(&mut Cci::new(&[3.0]).unwrap(), &bars);
        assert!((out[2] - 100.0).abs() < 1e-9);
    }

    fn walk() -> Vec<[f64; 3]> {
        (0..50)
            .map(|i| {
                let c = 30.0 + (i as f64 * 0.45).sin() * 3.0;
                [c + 0.7, c - 0.6, c]
            })
            .collect()
    }

    #[test]
    fn save_load_continues_identically() {
        let bars = walk();
        for cut in [0, 2, 4, 5, 23] {
            let mut a = Cci::new(&[5.0]).unwrap();
            run(&mut a, &bars[..cut]);
            let mut w = Writer::fields();
            a.save(&mut w);
            let bytes = w.into_bytes();
            let mut b = Cci::new(&[5.0]).unwrap();
            let mut r = Reader::fields(&bytes);
            b.load(&mut r).unwrap();
            r.finish().unwrap();
            let x = run(&mut a, &bars[cut..]);
            let y = run(&mut b, &bars[cut..]);
            assert_eq!(format!("{x:?}"), format!("{y:?}"));
        }
    }

    #[test]
    fn load_refuses_inconsistent_fields() {
        let mut s = Cci::new(&[4.0]).unwrap();
        for (bars, slot, ring) in [
            (5, 0, vec![1.0; 4]),        // more bars than the period
            (2, 3, vec![1.0, 1.0, 0.0, 0.0]), // slot not after the filled ones
            (2, 2, vec![1.0; 4]),        // unfilled slots hold values
            (4, 1, vec![1.0; 3]),        // short ring
        ] {
            let mut w = Writer::fields();
            w.usize(bars).usize(slot).f64s(&ring);
            let bytes = w.into_bytes();
            assert!(s.load(&mut Reader::fields(&bytes)).is_err(), "{bars} {slot} {ring:?}");
        }
    }

    #[test]
    fn peek_does_not_change_the_state() {
        let bars = walk();
        let mut s = Cci::new(&[6.0]).unwrap();
        run(&mut s, &bars[..10]);
        let before = s.clone();
        let mut peeked = [0.0];
        s.peek(&bars[10], &mut peeked);
        assert_eq!(s, before);
        assert_eq!(run(&mut s, &bars[10..11])[0], peeked[0]);
    }
}
