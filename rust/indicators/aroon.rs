//! Aroon (TA-Lib `AROON`: outputs aroondown, aroonup) and the Aroon
//! oscillator (TA-Lib `AROONOSC`).
//!
//! Over the last `period + 1` bars (today and `period` before it), with the
//! age of the lowest low and of the highest high:
//! `aroondown = 100 / period * (period - age_of_low)`, likewise aroonup, and
//! `aroonosc = 100 / period * (index_of_high - index_of_low)`. Lookback
//! `period`.
//!
//! TA-Lib tracks the extremes incrementally: a new bar that equals the
//! extreme takes its place (`<=` / `>=`, so the newest of equal extremes
//! wins), and only when the extreme leaves the window is the window scanned
//! again, oldest first and with the same comparisons. A NaN never compares,
//! so it is skipped by the incremental test, but a NaN at the start of a
//! rescan stays the extreme until it leaves the window. The state replays
//! exactly this.

use super::indicator::Indicator;
use super::state::{ensure, Reader, Writer};
use super::window::Window;
use crate::error::Result;

/// An extreme of the window as TA-Lib tracks it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Extreme {
    /// Absolute bar index; `None` before the first output.
    index: Option<usize>,
    value: f64,
}

impl Extreme {
    const NONE: Extreme = Extreme { index: None, value: 0.0 };

    /// Takes bar `today` (value `x`) into account; `values` holds bars
    /// `trailing..=today`. `beats(a, b)`: does `a` replace the extreme `b`.
    #[inline]
    fn track(&mut self, values: &Window, today: usize, trailing: usize, beats: fn(f64, f64) -> bool) {
        let x = values.ago(0);
        if self.index.map_or(true, |i| i < trailing) {
            self.index = Some(trailing);
            self.value = values.get(0);
            for k in 1..values.len() {
                let v = values.get(k);
                if beats(v, self.value) {
                    self.index = Some(trailing + k);
                    self.value = v;
                }
            }
        } else if beats(x, self.value) {
            self.index = Some(today);
            self.value = x;
        }
    }

    fn save(&self, w: &mut Writer) {
        w.flag(self.index.is_some()).usize(self.index.unwrap_or(0)).f64(self.value);
    }

    fn load(r: &mut Reader) -> Result<Extreme> {
        let some = r.flag()?;
        let index = r.usize()?;
        let value = r.f64()?;
        ensure(some || (index == 0 && value == 0.0), "extreme before the first output")?;
        Ok(Extreme { index: some.then_some(index), value })
    }
}

fn lower_or_equal(a: f64, b: f64) -> bool {
    a <= b
}

fn higher_or_equal(a: f64, b: f64) -> bool {
    a >= b
}

/// The streaming state of AROON and AROONOSC.
#[derive(Debug, Clone, PartialEq)]
pub struct Aroon {
    oscillator: bool,
    period: usize,
    /// Bars consumed.
    bars: usize,
    highs: Window,
    lows: Window,
    highest: Extreme,
    lowest: Extreme,
}

impl Aroon {
    fn new(oscillator: bool, params: &[f64]) -> Result<Self> {
        let period = params[0] as usize;
        Ok(Aroon {
            oscillator,
            period,
            bars: 0,
            highs: Window::new(period + 1),
            lows: Window::new(period + 1),
            highest: Extreme::NONE,
            lowest: Extreme::NONE,
        })
    }

    /// AROON: `[timeperiod]`, inputs high, low; outputs aroondown, aroonup.
    pub fn aroon(params: &[f64]) -> Result<Self> {
        Self::new(false, params)
    }

    /// AROONOSC: `[timeperiod]`, inputs high, low.
    pub fn aroonosc(params: &[f64]) -> Result<Self> {
        Self::new(true, params)
    }
}

impl Indicator for Aroon {
    fn lookback(&self) -> usize {
        self.period
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        let today = self.bars;
        self.bars += 1;
        self.highs.push(tick[0]);
        self.lows.push(tick[1]);
        if today < self.period {
            out.fill(f64::NAN);
            return;
        }
        let trailing = today - self.period;
        self.lowest.track(&self.lows, today, trailing, lower_or_equal);
        self.highest.track(&self.highs, today, trailing, higher_or_equal);
        let (low_at, high_at) = (self.lowest.index.unwrap_or(today), self.highest.index.unwrap_or(today));
        let factor = 100.0 / self.period as f64;
        if self.oscillator {
            out[0] = factor * (high_at as f64 - low_at as f64);
        } else {
            out[0] = factor * (self.period - (today - low_at)) as f64;
            out[1] = factor * (self.period - (today - high_at)) as f64;
        }
    }

    fn save(&self, w: &mut Writer) {
        w.usize(self.bars);
        self.highs.save(w);
        self.lows.save(w);
        self.highest.save(w);
        self.lowest.save(w);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        let bars = r.usize()?;
        let mut highs = Window::new(self.period + 1);
        let mut lows = Window::new(self.period + 1);
        highs.load(r)?;
        lows.load(r)?;
        let highest = Extreme::load(r)?;
        let lowest = Extreme::load(r)?;
        let kept = bars.min(self.period + 1);
        ensure(highs.len() == kept && lows.len() == kept, "window length")?;
        for e in [highest, lowest] {
            // After bar t = bars - 1, an extreme lies in t - period ..= t.
            let valid = match e.index {
                None => bars <= self.period,
                Some(i) => bars > self.period && i < bars && i + self.period + 1 >= bars,
            };
            ensure(valid, "extreme index")?;
        }
        *self = Aroon { bars, highs, lows, highest, lowest, ..*self };
        Ok(())
    }

    crate::impl_boxed_clone!();
}

/// TA-Lib's AROON loop over whole arrays (the stream's `Extreme::track` on
/// slices): calls `emit(today, index_of_lowest, index_of_highest)` for every
/// bar from `period` on (the indices as f64, exact below 2^53). The batch
/// kernels run it only on data with a NaN, where its order of comparisons
/// decides the result.
#[inline]
fn scan(period: usize, high: &[f64], low: &[f64], mut emit: impl FnMut(usize, f64, f64)) {
    // -1: no extreme yet, so the first bar scans its window.
    let (mut lowest_at, mut highest_at) = (-1isize, -1isize);
    let (mut lowest, mut highest) = (0.0, 0.0);
    for today in period..high.len() {
        let trailing = today - period;
        if lowest_at < trailing as isize {
            lowest_at = trailing as isize;
            lowest = low[trailing];
            for (i, &v) in low.iter().enumerate().take(today + 1).skip(trailing + 1) {
                if v <= lowest {
                    lowest_at = i as isize;
                    lowest = v;
                }
            }
        } else if low[today] <= lowest {
            lowest_at = today as isize;
            lowest = low[today];
        }
        if highest_at < trailing as isize {
            highest_at = trailing as isize;
            highest = high[trailing];
            for (i, &v) in high.iter().enumerate().take(today + 1).skip(trailing + 1) {
                if v >= highest {
                    highest_at = i as isize;
                    highest = v;
                }
            }
        } else if high[today] >= highest {
            highest_at = today as isize;
            highest = high[today];
        }
        emit(today, lowest_at as f64, highest_at as f64);
    }
}

/// An extreme of a fold and its bar (as f64).
#[derive(Clone, Copy)]
struct Best {
    value: f64,
    at: f64,
}

/// Folds an older bar into the extremes of the bars after it: it takes an
/// extreme only when strictly beyond it, so the newest of equals stays.
#[inline(always)]
fn fold_older(l: f64, h: f64, at: f64, lo: &mut Best, hi: &mut Best) {
    let lower = l < lo.value;
    lo.at = if lower { at } else { lo.at };
    lo.value = if lower { l } else { lo.value };
    let higher = h > hi.value;
    hi.at = if higher { at } else { hi.at };
    hi.value = if higher { h } else { hi.value };
}

/// Folds a newer bar into the extremes of the bars before it: it takes an
/// extreme when it equals or passes it, so again the newest of equals wins.
#[inline(always)]
fn fold_newer(l: f64, h: f64, at: f64, lo: &mut Best, hi: &mut Best) {
    let lower = l <= lo.value;
    lo.at = if lower { at } else { lo.at };
    lo.value = if lower { l } else { lo.value };
    let higher = h >= hi.value;
    hi.at = if higher { at } else { hi.at };
    hi.value = if higher { h } else { hi.value };
}

/// The same indices as [`scan`] on data without a NaN, found without its
/// unpredictable branches. Without a NaN, TA-Lib's loop always holds the
/// newest bar of the window equal to its lowest low (and highest high): a
/// rescan keeps the last of equals, a new bar equal to the extreme takes it.
/// That is an associative fold, so it runs as van Herk/Gil-Werman blocks of
/// `period + 1` bars (the window's length): a window is the suffix fold of
/// the older block it starts in, joined to the prefix fold of the newer one.
/// Each block's prefix folds are read in the same loop as its own suffix
/// folds are built (two independent chains of selects). Returns false, with
/// the outputs half written, when it meets a NaN: a NaN's effect on
/// TA-Lib's loop depends on where its rescans start, which only [`scan`]
/// replays.
#[inline(always)]
fn scan_blocks(period: usize, high: &[f64], low: &[f64], mut emit: impl FnMut(usize, f64, f64)) -> bool {
    let n = high.len().min(low.len());
    let len = period + 1;
    if n < len {
        return true;
    }
    let none = Best { value: 0.0, at: 0.0 };
    // Suffix folds (low, high) of the last complete block, and of the block being read.
    let mut suffix = vec![(none, none); len];
    let mut fresh = suffix.clone();
    let mut nan = false;
    {
        let (bl, bh) = (&low[..len], &high[..len]);
        let mut lo = Best { value: bl[len - 1], at: (len - 1) as f64 };
        let mut hi = Best { value: bh[len - 1], at: (len - 1) as f64 };
        nan |= lo.value.is_nan() | hi.value.is_nan();
        suffix[len - 1] = (lo, hi);
        for k in (0..len - 1).rev() {
            nan |= bl[k].is_nan() | bh[k].is_nan();
            fold_older(bl[k], bh[k], k as f64, &mut lo, &mut hi);
            suffix[k] = (lo, hi);
        }
        emit(len - 1, suffix[0].0.at, suffix[0].1.at);
    }
    let mut next = len;
    while next + len <= n {
        let (bl, bh) = (&low[next..next + len], &high[next..next + len]);
        let last = next + len - 1;
        let mut pre_lo = Best { value: bl[0], at: next as f64 };
        let mut pre_hi = Best { value: bh[0], at: next as f64 };
        let mut suf_lo = Best { value: bl[len - 1], at: last as f64 };
        let mut suf_hi = Best { value: bh[len - 1], at: last as f64 };
        fresh[len - 1] = (suf_lo, suf_hi);
        let forward = bl[..len - 1].iter().zip(&bh[..len - 1]).zip(&suffix[1..]);
        let backward = bl[..len - 1].iter().zip(&bh[..len - 1]).zip(&mut fresh[..len - 1]).rev();
        let (mut at_forward, mut at_backward) = (next as f64, (last - 1) as f64);
        for (today, (((&l, &h), &(older_lo, older_hi)), ((&l_back, &h_back), slot))) in
            (next..).zip(forward.zip(backward))
        {
            nan |= l.is_nan() | h.is_nan();
            fold_newer(l, h, at_forward, &mut pre_lo, &mut pre_hi);
            let lo_at = if pre_lo.value <= older_lo.value { pre_lo.at } else { older_lo.at };
            let hi_at = if pre_hi.value >= older_hi.value { pre_hi.at } else { older_hi.at };
            emit(today, lo_at, hi_at);
            fold_older(l_back, h_back, at_backward, &mut suf_lo, &mut suf_hi);
            *slot = (suf_lo, suf_hi);
            at_forward += 1.0;
            at_backward -= 1.0;
        }
        nan |= bl[len - 1].is_nan() | bh[len - 1].is_nan();
        // The window ending on the block's last bar is the block.
        emit(last, fresh[0].0.at, fresh[0].1.at);
        std::mem::swap(&mut suffix, &mut fresh);
        next += len;
    }
    // An incomplete last block: its prefix folds only.
    if next < n {
        let mut pre_lo = Best { value: low[next], at: next as f64 };
        let mut pre_hi = Best { value: high[next], at: next as f64 };
        let mut at = next as f64;
        for (today, ((&l, &h), &(older_lo, older_hi))) in
            (next..).zip(low[next..n].iter().zip(&high[next..n]).zip(&suffix[1..]))
        {
            nan |= l.is_nan() | h.is_nan();
            fold_newer(l, h, at, &mut pre_lo, &mut pre_hi);
            let lo_at = if pre_lo.value <= older_lo.value { pre_lo.at } else { older_lo.at };
            let hi_at = if pre_hi.value >= older_hi.value { pre_hi.at } else { older_hi.at };
            emit(today, lo_at, hi_at);
            at += 1.0;
        }
    }
    !nan
}

crate::indicators::cpu::level_copies! {
    /// AROON's outputs by `scan_blocks`, compiled per CPU level: with the
    /// baseline's instructions its selects cost twice as much as with
    /// AVX-512's masks.
    fn aroon_blocks(period: usize, high: &[f64], low: &[f64], down: &mut [f64], up: &mut [f64]) -> bool {
        let factor = 100.0 / period as f64;
        // `period - (today - at)` in f64: exact, so the integer formula's bits.
        let p = period as f64;
        scan_blocks(period, high, low, |today, low_at, high_at| {
            down[today] = factor * (p - (today as f64 - low_at));
            up[today] = factor * (p - (today as f64 - high_at));
        })
    }
}

crate::indicators::cpu::level_copies! {
    /// AROONOSC's output by `scan_blocks`, likewise.
    fn aroonosc_blocks(period: usize, high: &[f64], low: &[f64], out: &mut [f64]) -> bool {
        let factor = 100.0 / period as f64;
        scan_blocks(period, high, low, |today, low_at, high_at| out[today] = factor * (high_at - low_at))
    }
}

/// AROON over whole arrays: the block folds, or TA-Lib's loop where the
/// data holds a NaN.
pub fn aroon_batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let period = params[0] as usize;
    let (down, up) = outputs.split_at_mut(1);
    let (down, up) = (&mut *down[0], &mut *up[0]);
    let warm = period.min(down.len());
    down[..warm].fill(f64::NAN);
    up[..warm].fill(f64::NAN);
    if !aroon_blocks(period, inputs[0], inputs[1], down, up) {
        let factor = 100.0 / period as f64;
        let p = period as f64;
        scan(period, inputs[0], inputs[1], |today, low_at, high_at| {
            down[today] = factor * (p - (today as f64 - low_at));
            up[today] = factor * (p - (today as f64 - high_at));
        });
    }
    Ok(())
}

/// AROONOSC over whole arrays, likewise.
pub fn aroonosc_batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let period = params[0] as usize;
    let out = &mut *outputs[0];
    let warm = period.min(out.len());
    out[..warm].fill(f64::NAN);
    if !aroonosc_blocks(period, inputs[0], inputs[1], out) {
        let factor = 100.0 / period as f64;
        scan(period, inputs[0], inputs[1], |today, low_at, high_at| out[today] = factor * (high_at - low_at));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &mut Aroon, bars: &[(f64, f64)]) -> Vec<Vec<f64>> {
        let n = if s.oscillator { 1 } else { 2 };
        bars.iter()
            .map(|&(h, l)| {
                let mut out = vec![0.0; n];
                s.update(&[h, l], &mut out);
                out
            })
            .collect()
    }

    #[test]
    fn hand_computed_values() {
        // Period 2: windows of 3 bars.
        let bars = [(5.0, 1.0), (6.0, 2.0), (4.0, 0.5), (4.5, 3.0), (7.0, 2.5)];
        let mut s = Aroon::aroon(&[2.0]).unwrap();
        let out = run(&mut s, &bars);
        assert!(out[0][0].is_nan() && out[1][1].is_nan());
        // Bar 2: high 6 at bar 1 (age 1), low 0.5 at bar 2 (age 0).
        assert_eq!(out[2], vec![100.0, 50.0]);
        // Bar 3: window 1..=3, high 6 (age 2), low 0.5 (age 1).
        assert_eq!(out[3], vec![50.0, 0.0]);
        // Bar 4: window 2..=4, high 7 (age 0), low 0.5 (age 2).
        assert_eq!(out[4], vec![0.0, 100.0]);
        let mut osc = Aroon::aroonosc(&[2.0]).unwrap();
        let o = run(&mut osc, &bars);
        assert_eq!([o[2][0], o[3][0], o[4][0]], [-50.0, -50.0, 100.0]);
    }

    #[test]
    fn the_newest_of_equal_extremes_wins() {
        // Equal highs: the newest counts, both incrementally and on a rescan.
        let bars = [(5.0, 1.0), (5.0, 1.0), (5.0, 1.0), (5.0, 1.0)];
        let mut s = Aroon::aroon(&[2.0]).unwrap();
        let out = run(&mut s, &bars);
        assert_eq!(out[2], vec![100.0, 100.0]);
        assert_eq!(out[3], vec![100.0, 100.0]);
    }

    #[test]
    fn a_nan_starting_a_rescan_stays_until_it_leaves() {
        let bars = [(f64::NAN, 1.0), (5.0, 2.0), (6.0, 3.0), (7.0, 4.0)];
        let mut s = Aroon::aroon(&[2.0]).unwrap();
        let out = run(&mut s, &bars);
        // Bar 2 rescans from bar 0, whose NaN high nothing beats.
        assert_eq!(out[2][1], 0.0);
        // Bar 3 rescans from bar 1: high 7 at bar 3.
        assert_eq!(out[3][1], 100.0);
    }

    fn walk() -> Vec<(f64, f64)> {
        (0..60)
            .map(|i| {
                let c = 20.0 + ((i * 7 % 11) as f64 - 5.0) * 0.5 + (i as f64 * 0.3).sin();
                (c + 1.0, c - 1.0)
            })
            .collect()
    }

    #[test]
    fn save_load_continues_identically() {
        let bars = walk();
        for cut in [0, 2, 3, 5, 30] {
            let mut a = Aroon::aroon(&[3.0]).unwrap();
            run(&mut a, &bars[..cut]);
            let mut w = Writer::fields();
            a.save(&mut w);
            let bytes = w.into_bytes();
            let mut b = Aroon::aroon(&[3.0]).unwrap();
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
        let bars = walk();
        let mut a = Aroon::aroonosc(&[3.0]).unwrap();
        run(&mut a, &bars[..10]);
        // The highest high 9 bars back: outside a window of 4.
        let mut bad = a.clone();
        bad.highest.index = Some(0);
        let mut w = Writer::fields();
        bad.save(&mut w);
        let bytes = w.into_bytes();
        let mut b = Aroon::aroonosc(&[3.0]).unwrap();
        assert!(b.load(&mut Reader::fields(&bytes)).is_err());
        // A window shorter than the bars seen.
        let mut w = Writer::fields();
        w.usize(10);
        Window::new(4).save(&mut w);
        Window::new(4).save(&mut w);
        a.highest.save(&mut w);
        a.lowest.save(&mut w);
        let bytes = w.into_bytes();
        assert!(b.load(&mut Reader::fields(&bytes)).is_err());
    }

    #[test]
    fn batch_equals_the_stream() {
        let mut bars = walk();
        bars[7].0 = f64::NAN;
        bars[20].1 = f64::NAN;
        let (high, low): (Vec<f64>, Vec<f64>) = bars.iter().copied().unzip();
        for period in [2, 3, 14, 59, 60, 61] {
            let p = [period as f64];
            let stream = run(&mut Aroon::aroon(&p).unwrap(), &bars);
            let (mut down, mut up) = (vec![0.0; bars.len()], vec![0.0; bars.len()]);
            aroon_batch(&p, &[&high, &low], &mut [&mut down, &mut up]).unwrap();
            let batch: Vec<Vec<f64>> = down.iter().zip(&up).map(|(&d, &u)| vec![d, u]).collect();
            assert_eq!(format!("{stream:?}"), format!("{batch:?}"));
            let stream = run(&mut Aroon::aroonosc(&p).unwrap(), &bars);
            let mut osc = vec![0.0; bars.len()];
            aroonosc_batch(&p, &[&high, &low], &mut [&mut osc]).unwrap();
            let batch: Vec<Vec<f64>> = osc.iter().map(|&o| vec![o]).collect();
            assert_eq!(format!("{stream:?}"), format!("{batch:?}"));
        }
    }

    #[test]
    fn block_folds_equal_the_stream_without_nan() {
        // Ties (repeated bars, 0.0 against -0.0), infinities, and every
        // length around the blocks' edges.
        let mut bars: Vec<(f64, f64)> = (0..300)
            .map(|i| {
                let c = ((i * 37 % 23) as f64 - 11.0) * 0.5;
                (c + (i % 3) as f64, c - (i % 2) as f64)
            })
            .collect();
        for i in (5..300).step_by(7) {
            bars[i] = bars[i - 1];
        }
        for i in (3..300).step_by(17) {
            bars[i] = (f64::INFINITY, f64::NEG_INFINITY);
        }
        for i in (9..300).step_by(19) {
            bars[i] = (f64::NEG_INFINITY, f64::INFINITY);
            bars[i - 1] = (-0.0, 0.0);
            bars[i - 2] = (0.0, -0.0);
        }
        for period in [2, 3, 5, 14, 29] {
            for n in [period, period + 1, period + 2, 2 * period + 1, 2 * period + 2, 3 * period + 2, 300] {
                let bars = &bars[..n];
                let (high, low): (Vec<f64>, Vec<f64>) = bars.iter().copied().unzip();
                let p = [period as f64];
                let stream = run(&mut Aroon::aroon(&p).unwrap(), bars);
                let (mut down, mut up) = (vec![0.0; n], vec![0.0; n]);
                aroon_batch(&p, &[&high, &low], &mut [&mut down, &mut up]).unwrap();
                let batch: Vec<Vec<f64>> = down.iter().zip(&up).map(|(&d, &u)| vec![d, u]).collect();
                assert_eq!(format!("{stream:?}"), format!("{batch:?}"), "period {period} n {n}");
                let stream = run(&mut Aroon::aroonosc(&p).unwrap(), bars);
                let mut osc = vec![0.0; n];
                aroonosc_batch(&p, &[&high, &low], &mut [&mut osc]).unwrap();
                let batch: Vec<Vec<f64>> = osc.iter().map(|&o| vec![o]).collect();
                assert_eq!(format!("{stream:?}"), format!("{batch:?}"), "period {period} n {n}");
            }
        }
    }

    #[test]
    fn peek_does_not_change_the_state() {
        let bars = walk();
        let mut s = Aroon::aroon(&[4.0]).unwrap();
        run(&mut s, &bars[..20]);
        let before = s.clone();
        let mut peeked = [0.0; 2];
        s.peek(&[bars[20].0, bars[20].1], &mut peeked);
        assert_eq!(s, before);
        let out = run(&mut s, &bars[20..21]);
        assert_eq!(out[0], peeked.to_vec());
    }
}
