//! Williams' %R (TA-Lib `WILLR`): with H the highest high and L the lowest
//! low of the last `timeperiod` bars, `-100 * ((H - close) / (H - L))`.
//! Lookback `timeperiod - 1`.
//!
//! As TA-Lib 0.8.1 computes it: a range within 1e-14 of `|H| + |L|` counts as
//! no range and gives 0 (this also catches an infinite H or L, and a range
//! that overflows); a close outside the range is clamped to the ends (0 and
//! -100); a NaN anywhere else gives NaN. Both extremes come from TA-Lib's
//! block scan (see `minmax`), run over the highs and the lows with the same
//! blocks.

use super::indicator::Indicator;
use super::minmax::{block_scan_pair, Extreme, Side};
use super::state::{Reader, Writer};
use crate::error::Result;
use crate::impl_boxed_clone;

/// TA-Lib's magnitude-scaled zero band (`TA_IS_ZERO_SCALED`).
const FLAT_TOLERANCE: f64 = 0.00000000000001;

#[inline(always)]
fn williams_r(highest: f64, lowest: f64, close: f64) -> f64 {
    let range = highest - lowest;
    if range.abs() <= FLAT_TOLERANCE * (highest.abs() + lowest.abs()) {
        return 0.0;
    }
    // A close outside the range reads as the nearer end; NaN stays NaN.
    (-100.0 * ((highest - close) / range)).clamp(-100.0, 0.0)
}

/// The catalog's batch kernel: the two block scans, then the ratio. The
/// folds stay scalar (TA-Lib's block folds decide which NaN an extreme
/// keeps by their order); the ratios of each block are a vector loop.
pub fn batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let period = params[0] as usize;
    let out = &mut *outputs[0];
    let head = (period - 1).min(out.len());
    out[..head].fill(f64::NAN);
    blocks(period, inputs[0], inputs[1], inputs[2], out);
    Ok(())
}

crate::indicators::cpu::level_copies! {
    /// %R from the block scans, compiled per CPU level: the ratios of a
    /// block run as one vector loop (the division is most of the cost).
    fn blocks(period: usize, high: &[f64], low: &[f64], close: &[f64], out: &mut [f64]) -> () {
        block_scan_pair(high, low, period, |first, highest, lowest| {
            let len = highest.len();
            let out = out[first..first + len].iter_mut().zip(&close[first..first + len]);
            for (((o, &c), &h), &l) in out.zip(highest).zip(lowest) {
                *o = williams_r(h, l, c);
            }
        });
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WillR {
    highest: Extreme,
    lowest: Extreme,
}

impl WillR {
    /// `WILLR(timeperiod)` over high, low, close.
    pub fn new(params: &[f64]) -> Result<Self> {
        let period = params[0] as usize;
        Ok(WillR {
            highest: Extreme::new(Side::Highest, period)?,
            lowest: Extreme::new(Side::Lowest, period)?,
        })
    }
}

impl Indicator for WillR {
    fn lookback(&self) -> usize {
        self.highest.period() - 1
    }

    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        let highest = self.highest.update(tick[0]);
        let lowest = self.lowest.update(tick[1]);
        // While warming up both extremes are NaN, and so is the result.
        out[0] = williams_r(highest, lowest, tick[2]);
    }

    fn save(&self, w: &mut Writer) {
        self.highest.save(w);
        self.lowest.save(w);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.highest.load(r)?;
        self.lowest.load(r)
    }

    impl_boxed_clone!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(state: &mut WillR, bars: &[(f64, f64, f64)]) -> Vec<f64> {
        bars.iter()
            .map(|&(h, l, c)| {
                let mut o = [0.0];
                state.update(&[h, l, c], &mut o);
                o[0]
            })
            .collect()
    }

    #[test]
    fn batch_is_the_stream_bit_for_bit() {
        // The stream's `Extreme` and the batch's block scans: the same folds.
        for p in [1.0, 2.0, 3.0, 5.0, 14.0, 40.0] {
            crate::indicators::testkit::assert_batch_is_replay(batch, |p| WillR::new(p).unwrap(), &[p], 3, 1);
        }
    }

    #[test]
    fn hand_checked_values() {
        // Window 2: bars 0-1: H 12, L 8, close 11 -> -100 * (12-11)/(12-8) = -25.
        // Bars 1-2: H 12, L 9, close 12 -> 0 (close at the high).
        let bars = [(10.0, 8.0, 9.0), (12.0, 9.0, 11.0), (11.0, 10.0, 12.0)];
        let got = run(&mut WillR::new(&[2.0]).unwrap(), &bars);
        assert!(got[0].is_nan());
        assert_eq!(got[1], -25.0);
        assert_eq!(got[2], 0.0);
    }

    #[test]
    fn clamps_and_degenerate_ranges() {
        assert_eq!(williams_r(3.0, 1.0, 5.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(williams_r(3.0, 1.0, 0.0), -100.0);
        assert_eq!(williams_r(3.0, 2.0, 3.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(williams_r(f64::INFINITY, 1.0, 2.0), 0.0);
        assert_eq!(williams_r(1.0, 1.0 - 1e-15, 1.0), 0.0);
        assert_eq!(williams_r(1e-20, 0.0, 0.0), -100.0);
        assert!(williams_r(3.0, 1.0, f64::NAN).is_nan());
    }

    #[test]
    fn flat_window_gives_zero() {
        let bars = [(5.0, 5.0, 5.0); 4];
        let got = run(&mut WillR::new(&[3.0]).unwrap(), &bars);
        assert_eq!(&got[2..], &[0.0, 0.0]);
    }

    #[test]
    fn save_load_continues_identically() {
        let bars: Vec<(f64, f64, f64)> = (0..40)
            .map(|i| {
                let c = ((i * 7 % 11) as f64).sin() * 3.0 + 50.0;
                (c + 1.0, c - 0.5 * ((i % 3) as f64), c)
            })
            .collect();
        for cut in [0, 1, 4, 5, 6, 17, 39] {
            let mut a = WillR::new(&[5.0]).unwrap();
            run(&mut a, &bars[..cut]);
            let mut w = Writer::fields();
            a.save(&mut w);
            let bytes = w.into_bytes();
            let mut b = WillR::new(&[5.0]).unwrap();
            b.load(&mut Reader::fields(&bytes)).unwrap();
            let (x, y) = (run(&mut a, &bars[cut..]), run(&mut b, &bars[cut..]));
            assert!(
                x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits()),
                "cut={cut}"
            );
        }
    }

    #[test]
    fn load_refuses_truncated_fields() {
        let mut w = Writer::fields();
        WillR::new(&[3.0]).unwrap().highest.save(&mut w);
        let bytes = w.into_bytes();
        assert!(WillR::new(&[3.0])
            .unwrap()
            .load(&mut Reader::fields(&bytes))
            .is_err());
    }

    #[test]
    fn peek_leaves_the_state_alone() {
        let mut a = WillR::new(&[2.0]).unwrap();
        run(&mut a, &[(3.0, 1.0, 2.0), (4.0, 2.0, 3.0)]);
        let before = a.clone();
        let mut o = [0.0];
        a.peek(&[5.0, 1.0, 1.0], &mut o);
        // Bars 1 and the peeked one: H 5, L 1, close 1 -> -100.
        assert_eq!(o[0], -100.0);
        assert_eq!(a, before);
    }
}
