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
/// bar from `period` on.
#[inline]
fn scan(period: usize, high: &[f64], low: &[f64], mut emit: impl FnMut(usize, usize, usize)) {
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
        emit(today, lowest_at as usize, highest_at as usize);
    }
}

/// AROON over whole arrays. Scalar: TA-Lib's cached-index search, whose
/// ties and NaNs depend on the order it meets the bars.
pub fn aroon_batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let period = params[0] as usize;
    let factor = 100.0 / period as f64;
    let (down, up) = outputs.split_at_mut(1);
    let (down, up) = (&mut *down[0], &mut *up[0]);
    let warm = period.min(down.len());
    down[..warm].fill(f64::NAN);
    up[..warm].fill(f64::NAN);
    scan(period, inputs[0], inputs[1], |today, low_at, high_at| {
        down[today] = factor * (period - (today - low_at)) as f64;
        up[today] = factor * (period - (today - high_at)) as f64;
    });
    Ok(())
}

/// AROONOSC over whole arrays.
pub fn aroonosc_batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let period = params[0] as usize;
    let factor = 100.0 / period as f64;
    let out = &mut *outputs[0];
    let warm = period.min(out.len());
    out[..warm].fill(f64::NAN);
    scan(period, inputs[0], inputs[1], |today, low_at, high_at| {
        out[today] = factor * (high_at as f64 - low_at as f64);
    });
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
