//! Money flow index (TA-Lib `MFI`): with typical price `tp = (high + low +
//! close) / 3` and money flow `tp * volume`, each bar's flow counts as
//! positive when `tp` rose from the previous bar and negative when it fell;
//! MFI = 100 * positive / (positive + negative) over the last `timeperiod`
//! flows, 0 for a window that received no flow. Lookback `timeperiod`.
//!
//! As in TA-Lib 0.8.1: a change of `tp` within 1e-14 of the two prices'
//! magnitude is no movement (no flow either way); after `timeperiod` bars
//! without flow the running sums are reset to exact zeros (they would
//! otherwise hold add-then-subtract residue); the positive sum is clamped
//! into `[0, total]` before dividing.

use super::check_stream_period;
use super::indicator::Indicator;
use super::state::{ensure, Reader, Writer};
use super::window::Window;
use crate::error::Result;
use crate::impl_boxed_clone;

const FLAT_TOLERANCE: f64 = 0.00000000000001;

#[derive(Debug, Clone, PartialEq)]
pub struct Mfi {
    period: usize,
    started: bool,
    prev_tp: f64,
    /// The last `period` positive and negative flows.
    positive: Window,
    negative: Window,
    pos_sum: f64,
    neg_sum: f64,
    /// Consecutive bars without flow (saturates at `period`).
    null_run: usize,
}

impl Mfi {
    /// `MFI(timeperiod)` over high, low, close, volume.
    pub fn new(params: &[f64]) -> Result<Self> {
        let period = params[0] as usize;
        check_stream_period("timeperiod", period)?;
        Ok(Mfi {
            period,
            started: false,
            prev_tp: 0.0,
            positive: Window::new(period),
            negative: Window::new(period),
            pos_sum: 0.0,
            neg_sum: 0.0,
            null_run: 0,
        })
    }
}

impl Mfi {
    #[inline]
    fn step(&mut self, high: f64, low: f64, close: f64, volume: f64) -> f64 {
        let tp = (high + low + close) / 3.0;
        if !self.started {
            self.started = true;
            self.prev_tp = tp;
            return f64::NAN;
        }
        let (pos, neg) = flows(tp, self.prev_tp, volume);
        let flow = pos + neg;
        self.prev_tp = tp;
        // The flows leaving the window come out of the sums first.
        if let Some(old) = self.positive.push(pos) {
            self.pos_sum -= old;
        }
        if let Some(old) = self.negative.push(neg) {
            self.neg_sum -= old;
        }
        self.pos_sum += pos;
        self.neg_sum += neg;
        self.null_run = if flow == 0.0 { self.null_run + 1 } else { 0 };
        if self.null_run >= self.period {
            self.null_run = self.period;
            self.pos_sum = 0.0;
            self.neg_sum = 0.0;
        }
        if self.positive.is_full() {
            index(self.pos_sum, self.neg_sum)
        } else {
            f64::NAN
        }
    }
}

/// This bar's positive and negative money flow (one of them 0): none when
/// the typical price moved by no more than the dead zone.
#[inline(always)]
fn flows(tp: f64, prev_tp: f64, volume: f64) -> (f64, f64) {
    let change = tp - prev_tp;
    let scale = tp.abs() + prev_tp.abs();
    let flow = if change.abs() <= FLAT_TOLERANCE * scale {
        0.0
    } else {
        tp * volume
    };
    // The direction of a move is a coin flip, so a branch here mispredicts
    // on every other bar: select with a mask instead (the unused side gets
    // +0.0, as TA-Lib's selects give it).
    let falling = ((change < 0.0) as u64).wrapping_neg();
    let bits = flow.to_bits();
    (
        f64::from_bits(bits & !falling),
        f64::from_bits(bits & falling),
    )
}

/// The index from the window's sums: 0 for a window without flow, the
/// positive sum clamped into `[0, total]`.
#[inline(always)]
fn index(pos_sum: f64, neg_sum: f64) -> f64 {
    let total = pos_sum + neg_sum;
    let pos = if pos_sum < 0.0 {
        0.0
    } else if pos_sum > total {
        total
    } else {
        pos_sum
    };
    if total <= 0.0 {
        0.0
    } else {
        100.0 * (pos / total)
    }
}

/// The catalog's batch kernel: the stream's operations in the same order,
/// with the flows kept in plain arrays. Scalar: the positive and negative
/// flow sums are TA-Lib's running sums, one chain each.
pub fn batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let p = params[0] as usize;
    let (high, low, close, volume) = (inputs[0], inputs[1], inputs[2], inputs[3]);
    let out = &mut *outputs[0];
    let n = out.len();
    out[..p.min(n)].fill(f64::NAN);
    if n <= p {
        return Ok(());
    }
    let (mut positive, mut negative) = (vec![0.0; p], vec![0.0; p]);
    let (mut pos_sum, mut neg_sum) = (0.0, 0.0);
    let mut null_run = 0;
    let mut slot = 0;
    let mut prev_tp = (high[0] + low[0] + close[0]) / 3.0;
    for t in 1..n {
        let tp = (high[t] + low[t] + close[t]) / 3.0;
        let (pos, neg) = flows(tp, prev_tp, volume[t]);
        prev_tp = tp;
        if t > p {
            pos_sum -= positive[slot];
            neg_sum -= negative[slot];
        }
        positive[slot] = pos;
        negative[slot] = neg;
        pos_sum += pos;
        neg_sum += neg;
        null_run = if pos + neg == 0.0 { null_run + 1 } else { 0 };
        if null_run >= p {
            null_run = p;
            pos_sum = 0.0;
            neg_sum = 0.0;
        }
        slot = if slot + 1 == p { 0 } else { slot + 1 };
        if t >= p {
            out[t] = index(pos_sum, neg_sum);
        }
    }
    Ok(())
}

impl Indicator for Mfi {
    fn lookback(&self) -> usize {
        self.period
    }

    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        out[0] = self.step(tick[0], tick[1], tick[2], tick[3]);
    }

    fn save(&self, w: &mut Writer) {
        w.flag(self.started)
            .f64(self.prev_tp)
            .f64(self.pos_sum)
            .f64(self.neg_sum)
            .usize(self.null_run);
        self.positive.save(w);
        self.negative.save(w);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.started = r.flag()?;
        self.prev_tp = r.f64()?;
        self.pos_sum = r.f64()?;
        self.neg_sum = r.f64()?;
        self.null_run = r.usize()?;
        self.positive.load(r)?;
        self.negative.load(r)?;
        let flows = self.positive.len();
        ensure(
            self.negative.len() == flows,
            "flow windows of different lengths",
        )?;
        ensure(self.started || flows == 0, "flows before the first bar")?;
        ensure(self.null_run <= flows.min(self.period), "bars without flow")?;
        Ok(())
    }

    impl_boxed_clone!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::testkit::first_outputs;

    fn run(state: &mut Mfi, bars: &[[f64; 4]]) -> Vec<f64> {
        first_outputs(state, bars)
    }

    #[test]
    fn hand_checked_values() {
        // Typical prices 2, 3, 1, 4 (h = l = c); volumes 10.
        // Flows: +30, -10, +40. Window 2: 30/(30+10) = 75%, then 40/50 = 80%.
        let bars = [
            [2.0, 2.0, 2.0, 10.0],
            [3.0, 3.0, 3.0, 10.0],
            [1.0, 1.0, 1.0, 10.0],
            [4.0, 4.0, 4.0, 10.0],
        ];
        let got = run(&mut Mfi::new(&[2.0]).unwrap(), &bars);
        assert!(got[0].is_nan() && got[1].is_nan());
        assert_eq!(&got[2..], &[75.0, 80.0]);
        assert_eq!(Mfi::new(&[2.0]).unwrap().lookback(), 2);
    }

    #[test]
    fn no_flow_gives_zero() {
        let bars = [[5.0, 5.0, 5.0, 100.0]; 6];
        let got = run(&mut Mfi::new(&[3.0]).unwrap(), &bars);
        assert_eq!(&got[3..], &[0.0, 0.0, 0.0]);
    }

    #[test]
    fn save_load_continues_identically() {
        let bars: Vec<[f64; 4]> = (0..80)
            .map(|i| {
                let c = 20.0 + ((i * 5 % 13) as f64) * 0.3;
                [c + 0.2, c - 0.1, c, ((i * 31 % 7) * 100) as f64]
            })
            .collect();
        for cut in [0, 1, 3, 4, 5, 60] {
            let mut a = Mfi::new(&[4.0]).unwrap();
            run(&mut a, &bars[..cut]);
            let mut w = Writer::fields();
            a.save(&mut w);
            let bytes = w.into_bytes();
            let mut b = Mfi::new(&[4.0]).unwrap();
            b.load(&mut Reader::fields(&bytes)).unwrap();
            let (x, y) = (run(&mut a, &bars[cut..]), run(&mut b, &bars[cut..]));
            assert!(
                x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits()),
                "cut={cut}"
            );
        }
    }

    #[test]
    fn load_refuses_inconsistent_fields() {
        let mut w = Writer::fields();
        w.flag(true).f64(1.0).f64(0.0).f64(0.0).usize(0);
        Window::new(3).save(&mut w);
        let mut neg = Window::new(3);
        neg.push(1.0);
        neg.save(&mut w);
        let bytes = w.into_bytes();
        assert!(Mfi::new(&[3.0])
            .unwrap()
            .load(&mut Reader::fields(&bytes))
            .is_err());
    }

    #[test]
    fn peek_leaves_the_state_alone() {
        let mut a = Mfi::new(&[2.0]).unwrap();
        run(&mut a, &[[2.0, 2.0, 2.0, 10.0], [3.0, 3.0, 3.0, 10.0]]);
        let before = a.clone();
        let mut o = [0.0];
        a.peek(&[1.0, 1.0, 1.0, 10.0], &mut o);
        assert_eq!(o[0], 75.0);
        assert_eq!(a, before);
    }
}
