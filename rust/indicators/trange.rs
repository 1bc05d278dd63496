//! True range (TA-Lib `TRANGE`) and normalized average true range (TA-Lib
//! `NATR`).
//!
//! TRANGE is `max(high - low, |prev_close - high|, |prev_close - low|)` with
//! TA-Lib's comparisons (a NaN previous close is ignored, a NaN high or low
//! is not); lookback 1.
//!
//! NATR is the ATR of the same period divided by the bar's close, times 100
//! (`atr / close * 100`), and 0 where the close is exactly 0. For period 1
//! TA-Lib returns the ATR itself, not normalized. Lookback `period`.
//! The ATR is seeded with the mean of the first `period` true ranges (the
//! first bar has none) and then smoothed as TA-Lib 0.8.1 does (see `Natr`).

use super::atr::true_range;
use super::fused::fma_copy;
use super::indicator::Indicator;
use super::state::{ensure, Reader, Writer};
use crate::error::Result;

/// TRANGE's streaming state: the previous close.
#[derive(Debug, Clone, PartialEq)]
pub struct TrueRange {
    started: bool,
    prev_close: f64,
}

impl TrueRange {
    /// TRANGE: no parameters, inputs high, low, close.
    pub fn new(_params: &[f64]) -> Result<Self> {
        Ok(TrueRange { started: false, prev_close: 0.0 })
    }
}

impl Indicator for TrueRange {
    fn lookback(&self) -> usize {
        1
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        out[0] = if self.started {
            true_range(tick[0], tick[1], self.prev_close)
        } else {
            f64::NAN
        };
        self.started = true;
        self.prev_close = tick[2];
    }

    fn save(&self, w: &mut Writer) {
        w.flag(self.started).f64(self.prev_close);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        let started = r.flag()?;
        let prev_close = r.f64()?;
        ensure(started || prev_close == 0.0, "previous close before the first bar")?;
        *self = TrueRange { started, prev_close };
        Ok(())
    }

    crate::impl_boxed_clone!();
}

/// NATR's streaming state: TA-Lib 0.8.1's ATR, then the normalization.
///
/// The ATR step is TA-Lib 0.8.1's two-coefficient Wilder step
/// `atr = beta * atr + alpha * tr` with `beta = (period - 1) / period`,
/// `alpha = 1 - beta`, the first product fused into the addition as its
/// build does; with that, NATR equals TA-Lib bit for bit.
#[derive(Debug, Clone, PartialEq)]
pub struct Natr {
    period: usize,
    alpha: f64,
    beta: f64,
    /// Bars consumed, up to `period + 1` (the first output).
    bars: usize,
    prev_close: f64,
    /// The sum of the first `period` true ranges, then the ATR.
    atr: f64,
}

impl Natr {
    /// NATR: `[timeperiod]`, inputs high, low, close.
    pub fn new(params: &[f64]) -> Result<Self> {
        let period = params[0] as usize;
        let beta = (period - 1) as f64 / period as f64;
        Ok(Natr { period, alpha: 1.0 - beta, beta, bars: 0, prev_close: 0.0, atr: 0.0 })
    }
}

impl Indicator for Natr {
    fn lookback(&self) -> usize {
        self.period
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        let close = tick[2];
        let prev_close = std::mem::replace(&mut self.prev_close, close);
        let bar = self.bars;
        out[0] = f64::NAN;
        if bar == 0 {
            self.bars = 1;
            return;
        }
        let range = true_range(tick[0], tick[1], prev_close);
        if bar < self.period {
            self.atr += range;
            self.bars += 1;
            return;
        }
        if bar == self.period {
            self.atr += range;
            self.atr /= self.period as f64;
            self.bars += 1;
        } else {
            self.atr = self.beta.mul_add(self.atr, self.alpha * range);
        }
        out[0] = if self.period == 1 {
            // Period 1 is not normalized (TA-Lib answers it with its ATR,
            // the true range, in which a NaN or infinity stays for good).
            self.atr
        } else if close != 0.0 {
            self.atr / close * 100.0
        } else {
            0.0
        };
    }

    fn save(&self, w: &mut Writer) {
        w.usize(self.bars).f64(self.prev_close).f64(self.atr);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        let bars = r.usize()?;
        let prev_close = r.f64()?;
        let atr = r.f64()?;
        ensure(bars <= self.period + 1, "bars")?;
        ensure(bars > 0 || (prev_close == 0.0 && atr == 0.0), "fields before the first bar")?;
        *self = Natr { bars, prev_close, atr, ..*self };
        Ok(())
    }

    crate::impl_boxed_clone!();
}

/// TRANGE's block kernel: the stream's true range straight over the bars.
#[inline(always)]
pub fn batch_trange(_params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let (high, low, close, out) = (inputs[0], inputs[1], inputs[2], &mut *outputs[0]);
    let Some(first) = out.first_mut() else { return Ok(()) };
    *first = f64::NAN;
    let bars = high[1..].iter().zip(&low[1..]).zip(close);
    for (o, ((&h, &l), &prev_close)) in out[1..].iter_mut().zip(bars) {
        *o = true_range(h, l, prev_close);
    }
    Ok(())
}

/// NATR's block kernel: the stream through its first output, then its
/// steady step (the same operations) over the rest. Scalar: the Wilder
/// average of the true range is TA-Lib's chain, kept in its order.
pub fn batch_natr(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let mut s = Natr::new(params)?;
    let n = inputs[0].len();
    let warm = (s.period + 1).min(n);
    let mut o = [0.0];
    for t in 0..warm {
        s.update(&[inputs[0][t], inputs[1][t], inputs[2][t]], &mut o);
        outputs[0][t] = o[0];
    }
    if warm == n {
        return Ok(());
    }
    let (high, low, out) = (&inputs[0][warm..], &inputs[1][warm..], &mut outputs[0][warm..]);
    natr_steady(&s, high, low, &inputs[2][warm - 1..], out);
    Ok(())
}

fma_copy! {
    /// NATR after its first output; `close` starts one bar before the others.
    /// A chunk at a time: the ATR chain (a fused multiply-add per bar) into
    /// `out`, then the chunk's normalization as a vector loop, so that the
    /// division, which costs more than the chain's step, is not done one
    /// bar at a time. The same operations on each bar as the stream.
    fn natr_steady(s: &Natr, high: &[f64], low: &[f64], close: &[f64], out: &mut [f64]) -> () {
        const CHUNK: usize = 512;
        let (alpha, beta, unnormalized) = (s.alpha, s.beta, s.period == 1);
        let mut atr = s.atr;
        for (k, chunk) in out.chunks_mut(CHUNK).enumerate() {
            let start = k * CHUNK;
            let end = start + chunk.len();
            let bars = high[start..end].iter().zip(&low[start..end]).zip(&close[start..end]);
            for (o, ((&h, &l), &prev_close)) in chunk.iter_mut().zip(bars) {
                atr = beta.mul_add(atr, alpha * true_range(h, l, prev_close));
                *o = atr;
            }
            if !unnormalized {
                for (o, &c) in chunk.iter_mut().zip(&close[start + 1..end + 1]) {
                    *o = if c != 0.0 { *o / c * 100.0 } else { 0.0 };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &mut dyn Indicator, bars: &[[f64; 3]]) -> Vec<f64> {
        let mut out = [0.0];
        bars.iter()
            .map(|b| {
                s.update(b, &mut out);
                out[0]
            })
            .collect()
    }

    const BARS: [[f64; 3]; 5] =
        [[10.0, 9.0, 9.5], [11.0, 10.0, 10.5], [12.0, 10.5, 11.0], [11.5, 9.0, 10.0], [10.5, 10.0, 0.0]];

    #[test]
    fn block_kernels_are_the_streams() {
        use crate::indicators::testkit::assert_batch_is_replay;
        assert_batch_is_replay(batch_trange, |p| TrueRange::new(p).unwrap(), &[], 3, 1);
        for p in [1.0, 2.0, 14.0, 50.0] {
            assert_batch_is_replay(batch_natr, |p| Natr::new(p).unwrap(), &[p], 3, 1);
        }
    }

    #[test]
    fn true_range_hand_computed() {
        // max(1, |9.5 - 11|, |9.5 - 10|) = 1.5; max(1.5, 1.5, 0) = 1.5; max(2.5, 0.5, 2) = 2.5.
        let out = run(&mut TrueRange::new(&[]).unwrap(), &BARS);
        assert!(out[0].is_nan());
        assert_eq!(out[1..4], [1.5, 1.5, 2.5]);
    }

    #[test]
    fn true_range_batch_equals_the_stream() {
        let mut bars = walk();
        bars[5][2] = f64::NAN;
        bars[9][0] = f64::INFINITY;
        let cols: Vec<Vec<f64>> = (0..3).map(|j| bars.iter().map(|b| b[j]).collect()).collect();
        let stream = run(&mut TrueRange::new(&[]).unwrap(), &bars);
        let mut out = vec![0.0; bars.len()];
        batch_trange(&[], &[&cols[0], &cols[1], &cols[2]], &mut [&mut out]).unwrap();
        assert_eq!(format!("{stream:?}"), format!("{out:?}"));
    }

    #[test]
    fn natr_hand_computed() {
        let mut s = Natr::new(&[2.0]).unwrap();
        assert_eq!(s.lookback(), 2);
        let out = run(&mut s, &BARS);
        assert!(out[0].is_nan() && out[1].is_nan());
        // ATR seed (1.5 + 1.5) / 2 = 1.5 over close 11.
        assert_eq!(out[2], 1.5 / 11.0 * 100.0);
        // Then 0.5 * 1.5 + 0.5 * 2.5 = 2 over close 10.
        assert_eq!(out[3], 2.0 / 10.0 * 100.0);
        // A zero close gives 0.
        assert_eq!(out[4], 0.0);
    }

    #[test]
    fn natr_period_one_is_the_true_range_unnormalized() {
        let out = run(&mut Natr::new(&[1.0]).unwrap(), &BARS);
        assert_eq!(out[1..4], [1.5, 1.5, 2.5]);
        // A NaN range stays, as in TA-Lib's recurrence.
        let mut bars = BARS.to_vec();
        bars[2][0] = f64::NAN;
        let out = run(&mut Natr::new(&[1.0]).unwrap(), &bars);
        assert!(out[2..].iter().all(|v| v.is_nan()));
    }

    fn walk() -> Vec<[f64; 3]> {
        (0..40)
            .map(|i| {
                let c = 10.0 + (i as f64 * 0.5).sin();
                [c + 0.3, c - 0.2 - (i % 3) as f64 * 0.1, c]
            })
            .collect()
    }

    #[test]
    fn save_load_continues_identically() {
        let bars = walk();
        for cut in [0, 1, 3, 4, 20] {
            let makers: [fn() -> Box<dyn Indicator>; 2] =
                [|| Box::new(TrueRange::new(&[]).unwrap()), || Box::new(Natr::new(&[3.0]).unwrap())];
            for make in makers {
                let mut a = make();
                run(a.as_mut(), &bars[..cut]);
                let mut w = Writer::fields();
                a.save(&mut w);
                let bytes = w.into_bytes();
                let mut b = make();
                let mut r = Reader::fields(&bytes);
                b.load(&mut r).unwrap();
                r.finish().unwrap();
                let x = run(a.as_mut(), &bars[cut..]);
                let y = run(b.as_mut(), &bars[cut..]);
                assert_eq!(format!("{x:?}"), format!("{y:?}"));
            }
        }
    }

    #[test]
    fn load_refuses_inconsistent_fields() {
        let mut w = Writer::fields();
        w.flag(false).f64(3.0);
        let bytes = w.into_bytes();
        assert!(TrueRange::new(&[]).unwrap().load(&mut Reader::fields(&bytes)).is_err());
        let mut s = Natr::new(&[3.0]).unwrap();
        for (bars, close, atr) in [(5, 1.0, 1.0), (0, 1.0, 0.0), (0, 0.0, 2.0)] {
            let mut w = Writer::fields();
            w.usize(bars).f64(close).f64(atr);
            let bytes = w.into_bytes();
            assert!(s.load(&mut Reader::fields(&bytes)).is_err(), "{bars} {close} {atr}");
        }
    }

    #[test]
    fn peek_does_not_change_the_state() {
        let bars = walk();
        let mut s = Natr::new(&[4.0]).unwrap();
        run(&mut s, &bars[..10]);
        let before = s.clone();
        let mut peeked = [0.0];
        s.peek(&bars[10], &mut peeked);
        assert_eq!(s, before);
        assert_eq!(run(&mut s, &bars[10..11])[0], peeked[0]);
    }
}
