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
use super::cpu;
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
        let tp = typical(high, low, close);
        if !self.started {
            self.started = true;
            self.prev_tp = tp;
            return f64::NAN;
        }
        let (pos, neg) = flows(tp, self.prev_tp, volume);
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
        (self.null_run, self.pos_sum, self.neg_sum) =
            null_reset(self.null_run, pos + neg, self.period, self.pos_sum, self.neg_sum);
        if self.positive.is_full() {
            index(self.pos_sum, self.neg_sum)
        } else {
            f64::NAN
        }
    }
}

/// The typical price of a bar.
#[inline(always)]
fn typical(high: f64, low: f64, close: f64) -> f64 {
    (high + low + close) / 3.0
}

/// The count of consecutive bars without flow after one with `flow`, and the
/// sums: after `period` such bars every flow in the window is 0, so the sums
/// are set to exact zeros (TA-Lib 0.8.1 drops their add-then-subtract residue).
#[inline(always)]
fn null_reset(null_run: usize, flow: f64, period: usize, pos_sum: f64, neg_sum: f64) -> (usize, f64, f64) {
    let null_run = if flow == 0.0 { null_run + 1 } else { 0 };
    if null_run >= period {
        (period, 0.0, 0.0)
    } else {
        (null_run, pos_sum, neg_sum)
    }
}

/// This bar's positive and negative money flow (one of them 0): none when
/// the typical price moved by no more than the dead zone.
#[inline(always)]
fn flows(tp: f64, prev_tp: f64, volume: f64) -> (f64, f64) {
    let change = tp - prev_tp;
    let scale = tp.abs() + prev_tp.abs();
    // Every value computed and the results selected, never branched on: the
    // direction of a move is a coin flip, so a branch would mispredict on
    // every other bar, and selects let a pass over many bars vectorise. The
    // unused side gets +0.0, as TA-Lib's selects give it.
    let moved = tp * volume;
    let flow = if change.abs() <= FLAT_TOLERANCE * scale { 0.0 } else { moved };
    let falling = change < 0.0;
    (if falling { 0.0 } else { flow }, if falling { flow } else { 0.0 })
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
    // Both arms computed and one selected, so a chunk of bars vectorises
    // (0/0 is a NaN that is then not chosen).
    let value = 100.0 * (pos / total);
    if total <= 0.0 {
        0.0
    } else {
        value
    }
}

/// Bars per chunk of the block kernel (at least; a chunk spans the window
/// too): its typical prices, flows and sums stay in L1.
const CHUNK: usize = 512;

cpu::level_copies! {
    /// The catalog's batch kernel, compiled for each CPU level
    /// (`cpu::level_copies!`: `cpu::batch` reaches a kernel only through a
    /// call it does not inline, so the kernel would otherwise run with the
    /// baseline's instructions at every level). The stream through its first
    /// output, then its steady step a chunk of bars at a time, with the
    /// stream's operations in the stream's order, so the stream's bits.
    ///
    /// Stepping bar by bar, each bar waits on two divisions (the typical price
    /// by 3, the index by the total). Here they leave the loop that carries
    /// the sums: the typical prices and the flows of a chunk are element-wise
    /// passes (vectorised; a division is exactly rounded at any width), the
    /// running sums a scalar pass that only adds (TA-Lib's two chains), and
    /// the index another element-wise pass over the sums. The flows leaving
    /// the window are those of the `p` bars before the chunk, computed again
    /// from the inputs with the same operations (so the same bits) rather than
    /// kept from the chunk before.
    pub fn batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
        let p = params[0] as usize;
        let out = &mut *outputs[0];
        let n = out.len();
        let (high, low, close, volume) = (&inputs[0][..n], &inputs[1][..n], &inputs[2][..n], &inputs[3][..n]);
        out[..p.min(n)].fill(f64::NAN);
        if n <= p {
            return Ok(());
        }
        // Warm-up: the first `p` flows into the sums, the first output at bar `p`.
        let (mut pos_sum, mut neg_sum) = (0.0, 0.0);
        let mut null_run = 0;
        let mut prev_tp = typical(high[0], low[0], close[0]);
        for t in 1..=p {
            let tp = typical(high[t], low[t], close[t]);
            let (pos, neg) = flows(tp, prev_tp, volume[t]);
            prev_tp = tp;
            pos_sum += pos;
            neg_sum += neg;
            (null_run, pos_sum, neg_sum) = null_reset(null_run, pos + neg, p, pos_sum, neg_sum);
        }
        out[p] = index(pos_sum, neg_sum);
        let chunk = CHUNK.max(p);
        // One allocation: the typical prices of the bars from the one before the
        // first flow leaving the window in a chunk (`p + 1` bars before it) to
        // the chunk's last bar, the flows of those bars after the first, and the
        // sums after each bar of the chunk.
        let mut buf = vec![0.0; 3 * (chunk + p) + 1 + 2 * chunk];
        let (tps, rest) = buf.split_at_mut(chunk + p + 1);
        let (positive, rest) = rest.split_at_mut(chunk + p);
        let (negative, rest) = rest.split_at_mut(chunk + p);
        let (pos_sums, neg_sums) = rest.split_at_mut(chunk);
        let mut start = p + 1;
        while start < n {
            let len = chunk.min(n - start);
            let (first, end) = (start - p - 1, start + len);
            let bars = end - first;
            let tps = &mut tps[..bars];
            for (tp, ((&h, &l), &c)) in tps.iter_mut().zip(high[first..end].iter().zip(&low[first..end]).zip(&close[first..end])) {
                *tp = typical(h, l, c);
            }
            let (positive, negative) = (&mut positive[..bars - 1], &mut negative[..bars - 1]);
            let volume = &volume[first + 1..end];
            for i in 0..bars - 1 {
                (positive[i], negative[i]) = flows(tps[i + 1], tps[i], volume[i]);
            }
            // Bar `start + i` brings flow `p + i` in and takes flow `i` out.
            let (pos_in, neg_in) = (&positive[p..], &negative[p..]);
            let (pos_out, neg_out) = (&positive[..len], &negative[..len]);
            let (ps, ns) = (&mut pos_sums[..len], &mut neg_sums[..len]);
            for i in 0..len {
                let (pos, neg) = (pos_in[i], neg_in[i]);
                pos_sum -= pos_out[i];
                neg_sum -= neg_out[i];
                pos_sum += pos;
                neg_sum += neg;
                (null_run, pos_sum, neg_sum) = null_reset(null_run, pos + neg, p, pos_sum, neg_sum);
                (ps[i], ns[i]) = (pos_sum, neg_sum);
            }
            for ((o, &ps), &ns) in out[start..end].iter_mut().zip(&*ps).zip(&*ns) {
                *o = index(ps, ns);
            }
            start = end;
        }
        Ok(())
    }
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
    fn batch_is_the_stream_bit_for_bit() {
        // 600: a window longer than a chunk.
        for p in [2.0, 3.0, 14.0, 29.0, 600.0] {
            crate::indicators::testkit::assert_batch_is_replay(batch, |p| Mfi::new(p).unwrap(), &[p], 4, 1);
        }
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
