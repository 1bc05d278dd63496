//! Ultimate oscillator (TA-Lib `ULTOSC`).
//!
//! Per bar, with the previous close: `true_low = min(low, prev_close)`,
//! `buying = close - true_low` and the true range. Over three windows
//! (TA-Lib sorts the three periods, so the shortest gets weight 4 whatever
//! order they are given in), the running sums `A` of buying pressure and `B`
//! of true range give
//! `100 * ((4 * A1/B1 + 2 * A2/B2 + A3/B3) / 7)`, each term left out while
//! its `B` is not above 0. Lookback: the longest period.
//!
//! The sums are running sums as in TA-Lib: seeded with the bars of the
//! warm-up that fall in each window, then today's terms added, the value
//! taken, and the terms of the bar leaving each window subtracted. TA-Lib
//! 0.8.1 sets both sums of a window to exactly 0 while no bar in it moved
//! either of them (every buying pressure and true range exactly 0): a flat
//! stretch neither divides rounding residue by residue nor keeps a NaN that
//! came before it. A NaN true range elsewhere keeps its window's `B` NaN, so
//! that term stays left out (the value is then 0 or built from the others).

use super::atr::true_range;
use super::cpu;
use super::indicator::Indicator;
use super::state::{ensure, Reader, Writer};
use super::window::Window;
use crate::error::Result;

/// 1 for a bar that moves either sum: a buying pressure or a true range
/// that is not exactly 0 (NaN counts as moving).
#[inline(always)]
fn moves(buying: f64, range: f64) -> usize {
    !(buying == 0.0 && range == 0.0) as usize
}

#[derive(Debug, Clone, PartialEq)]
pub struct UltOsc {
    /// Shortest, middle, longest.
    periods: [usize; 3],
    /// Bars consumed, up to `longest + 1` (then every bar is alike).
    bars: usize,
    prev_close: f64,
    /// Buying pressure and true range of the last `longest` bars.
    buying: Window,
    ranges: Window,
    /// Running sums `A` and `B` per window, shortest first.
    a: [f64; 3],
    b: [f64; 3],
    /// Bars with a non-zero true range in each window.
    moving: [usize; 3],
}

impl UltOsc {
    /// ULTOSC: `[timeperiod1, timeperiod2, timeperiod3]`, inputs high, low, close.
    pub fn new(params: &[f64]) -> Result<Self> {
        let mut periods = [params[0] as usize, params[1] as usize, params[2] as usize];
        periods.sort_unstable();
        let longest = periods[2];
        Ok(UltOsc {
            periods,
            bars: 0,
            prev_close: 0.0,
            buying: Window::new(longest),
            ranges: Window::new(longest),
            a: [0.0; 3],
            b: [0.0; 3],
            moving: [0; 3],
        })
    }

    fn longest(&self) -> usize {
        self.periods[2]
    }
}

impl Indicator for UltOsc {
    fn lookback(&self) -> usize {
        self.longest()
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        let (high, low, close) = (tick[0], tick[1], tick[2]);
        let today = self.bars;
        let prev_close = std::mem::replace(&mut self.prev_close, close);
        out[0] = f64::NAN;
        if today == 0 {
            self.bars = 1;
            return;
        }
        let true_low = if low < prev_close { low } else { prev_close };
        let buying = close - true_low;
        let range = true_range(high, low, prev_close);
        self.buying.push(buying);
        self.ranges.push(range);
        let longest = self.longest();
        if today < longest {
            // Warm-up: a bar enters the sums of the windows it falls in at
            // the first output (bar `longest`).
            self.bars += 1;
            for (k, &p) in self.periods.iter().enumerate() {
                if today + p > longest {
                    self.a[k] += buying;
                    self.b[k] += range;
                    self.moving[k] += moves(buying, range);
                }
            }
            return;
        }
        self.bars = longest + 1;
        for k in 0..3 {
            self.a[k] += buying;
            self.b[k] += range;
            self.moving[k] += moves(buying, range);
        }
        for k in 0..3 {
            if self.moving[k] == 0 {
                // A window of bars that moved neither sum: TA-Lib 0.8.1 sets
                // both sums to their exact value 0, so neither rounding
                // residue nor an old NaN survives it.
                self.a[k] = 0.0;
                self.b[k] = 0.0;
            }
        }
        let mut sum = 0.0;
        if self.b[0] > 0.0 {
            sum += 4.0 * (self.a[0] / self.b[0]);
        }
        if self.b[1] > 0.0 {
            sum += 2.0 * (self.a[1] / self.b[1]);
        }
        if self.b[2] > 0.0 {
            sum += self.a[2] / self.b[2];
        }
        for (k, &p) in self.periods.iter().enumerate() {
            self.a[k] -= self.buying.ago(p - 1);
            self.b[k] -= self.ranges.ago(p - 1);
            self.moving[k] -= moves(self.buying.ago(p - 1), self.ranges.ago(p - 1));
        }
        out[0] = 100.0 * (sum / 7.0);
    }

    fn save(&self, w: &mut Writer) {
        w.usize(self.bars).f64(self.prev_close);
        self.buying.save(w);
        self.ranges.save(w);
        for k in 0..3 {
            w.f64(self.a[k]).f64(self.b[k]).usize(self.moving[k]);
        }
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        let longest = self.longest();
        let bars = r.usize()?;
        let prev_close = r.f64()?;
        let mut buying = Window::new(longest);
        let mut ranges = Window::new(longest);
        buying.load(r)?;
        ranges.load(r)?;
        let mut a = [0.0; 3];
        let mut b = [0.0; 3];
        let mut moving = [0; 3];
        for k in 0..3 {
            a[k] = r.f64()?;
            b[k] = r.f64()?;
            moving[k] = r.usize()?;
        }
        ensure(bars <= longest + 1, "bars")?;
        let kept = bars.saturating_sub(1).min(longest);
        ensure(buying.len() == kept && ranges.len() == kept, "window length")?;
        for (k, &p) in self.periods.iter().enumerate() {
            // The bars of window k kept so far (after the first output, the
            // window's last p - 1 bars; before it, those of the warm-up in it).
            let in_window = if bars > longest { p - 1 } else { kept.saturating_sub(longest - p) };
            let counted = buying
                .iter()
                .zip(ranges.iter())
                .skip(kept - in_window)
                .filter(|&(x, r)| moves(x, r) == 1)
                .count();
            ensure(moving[k] == counted, "moving bar count")?;
        }
        *self = UltOsc { bars, prev_close, buying, ranges, a, b, moving, ..*self };
        Ok(())
    }

    crate::impl_boxed_clone!();
}

/// One bar's buying pressure and true range, from its high, low and close
/// and the previous close (the state's operations).
#[inline(always)]
fn terms(high: f64, low: f64, close: f64, prev_close: f64) -> (f64, f64) {
    let true_low = if low < prev_close { low } else { prev_close };
    (close - true_low, true_range(high, low, prev_close))
}

/// Bars per chunk of the block kernel (at least; a chunk spans the longest
/// window too): its terms stay in L1.
const CHUNK: usize = 512;

/// Bars per part of a chunk whose six sums are kept (on the stack, zeroed at
/// each call: a short series pays for all of them).
const PART: usize = 256;

cpu::level_copies! {
    /// ULTOSC's block kernel, compiled for each CPU level (`cpu::level_copies!`:
    /// `cpu::batch` reaches a kernel only through a call it does not inline,
    /// so the kernel would otherwise run with the baseline's instructions):
    /// the stream through its first output, then its steady step a chunk of
    /// bars at a time, in three passes with the stream's operations, so the
    /// stream's bits. First every bar's buying pressure and true range
    /// (element by element, vectorised); then the six running sums, TA-Lib's
    /// chains in its order (today's terms in, the value taken, the terms of
    /// the bar leaving each window out), a scalar pass that only adds and
    /// reads each leaving bar's terms back; then the divisions of every bar of
    /// the chunk as independent vector operations (a division is exactly
    /// rounded at any width) instead of each bar waiting on four of them.
    ///
    /// The stream counts the bars that moved a sum in each window to know
    /// when a window has none; the windows end at the same bar, so here the
    /// last bar that moved says it for all three: window `k` has none when
    /// that bar is at least `periods[k]` bars back.
    pub fn batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
        let mut s = UltOsc::new(params)?;
        let out = &mut *outputs[0];
        let n = out.len();
        let (high, low, close) = (&inputs[0][..n], &inputs[1][..n], &inputs[2][..n]);
        let longest = s.longest();
        let warm = (longest + 1).min(n);
        let mut o = [0.0];
        // The last bar whose terms moved a sum (0: none, as bar 0 has no terms).
        let mut last_moved = 0;
        for t in 0..warm {
            s.update(&[high[t], low[t], close[t]], &mut o);
            out[t] = o[0];
            if t > 0 {
                let (bu, ra) = terms(high[t], low[t], close[t], close[t - 1]);
                last_moved = if moves(bu, ra) == 1 { t } else { last_moved };
            }
        }
        if warm == n {
            return Ok(());
        }
        let [p0, p1, p2] = s.periods;
        let chunk = CHUNK.max(longest);
        // The terms of the bars from the oldest one leaving a window in a
        // chunk (`longest - 1` bars before it) to the chunk's last bar.
        let mut buf = vec![0.0; 2 * (chunk + longest)];
        let (buying, range) = buf.split_at_mut(chunk + longest);
        // The six sums after each bar of a part of the chunk (each window's
        // A, then each window's B): at a fixed stride, so the pass that
        // writes them needs one register for all six rather than one each.
        let mut sums = [[0.0; PART]; 6];
        let ([mut a0, mut a1, mut a2], [mut b0, mut b1, mut b2]) = (s.a, s.b);
        let mut start = warm;
        while start < n {
            let len = chunk.min(n - start);
            let (first, end) = (start + 1 - longest, start + len);
            let bars = end - first;
            let (buying, range) = (&mut buying[..bars], &mut range[..bars]);
            let (h, l, c, prev) = (&high[first..end], &low[first..end], &close[first..end], &close[first - 1..end - 1]);
            // Bars of the chunk's terms that moved neither sum.
            let mut unmoved = 0;
            for i in 0..bars {
                let (bu, ra) = terms(h[i], l[i], c[i], prev[i]);
                (buying[i], range[i]) = (bu, ra);
                unmoved += 1 - moves(bu, ra);
            }
            // Bar `start + i` brings in the terms at `longest - 1 + i`, and
            // window `k` then lets go of those at `longest - periods[k] + i`.
            let mut part = 0;
            while part < len {
                let m = PART.min(len - part);
                let (bu_in, ra_in) = (&buying[longest - 1 + part..][..m], &range[longest - 1 + part..][..m]);
                let (bo0, ro0) = (&buying[longest - p0 + part..][..m], &range[longest - p0 + part..][..m]);
                let (bo1, ro1) = (&buying[longest - p1 + part..][..m], &range[longest - p1 + part..][..m]);
                let (bo2, ro2) = (&buying[part..][..m], &range[part..][..m]);
                let [sa0, sa1, sa2, sb0, sb1, sb2] = &mut sums;
                if unmoved == 0 {
                    // Every bar moved a sum (the common case): no window can
                    // be without one, so no check.
                    for i in 0..m {
                        let (bu, ra) = (bu_in[i], ra_in[i]);
                        (a0, a1, a2, b0, b1, b2) = (a0 + bu, a1 + bu, a2 + bu, b0 + ra, b1 + ra, b2 + ra);
                        (sa0[i], sa1[i], sa2[i], sb0[i], sb1[i], sb2[i]) = (a0, a1, a2, b0, b1, b2);
                        (a0, a1, a2) = (a0 - bo0[i], a1 - bo1[i], a2 - bo2[i]);
                        (b0, b1, b2) = (b0 - ro0[i], b1 - ro1[i], b2 - ro2[i]);
                    }
                    last_moved = start + part + m - 1;
                } else {
                    for i in 0..m {
                        let (bu, ra) = (bu_in[i], ra_in[i]);
                        (a0, a1, a2, b0, b1, b2) = (a0 + bu, a1 + bu, a2 + bu, b0 + ra, b1 + ra, b2 + ra);
                        let t = start + part + i;
                        last_moved = if moves(bu, ra) == 1 { t } else { last_moved };
                        // A window in which no bar moved either sum: both
                        // exactly 0, as the stream sets them.
                        let since = t - last_moved;
                        (a0, b0) = if since >= p0 { (0.0, 0.0) } else { (a0, b0) };
                        (a1, b1) = if since >= p1 { (0.0, 0.0) } else { (a1, b1) };
                        (a2, b2) = if since >= p2 { (0.0, 0.0) } else { (a2, b2) };
                        (sa0[i], sa1[i], sa2[i], sb0[i], sb1[i], sb2[i]) = (a0, a1, a2, b0, b1, b2);
                        (a0, a1, a2) = (a0 - bo0[i], a1 - bo1[i], a2 - bo2[i]);
                        (b0, b1, b2) = (b0 - ro0[i], b1 - ro1[i], b2 - ro2[i]);
                    }
                }
                let o = &mut out[start + part..][..m];
                for i in 0..m {
                    // The stream's `if b > 0 { sum += term }`, as selects.
                    let mut sum = 0.0;
                    let t0 = sum + 4.0 * (sa0[i] / sb0[i]);
                    sum = if sb0[i] > 0.0 { t0 } else { sum };
                    let t1 = sum + 2.0 * (sa1[i] / sb1[i]);
                    sum = if sb1[i] > 0.0 { t1 } else { sum };
                    let t2 = sum + sa2[i] / sb2[i];
                    sum = if sb2[i] > 0.0 { t2 } else { sum };
                    o[i] = 100.0 * (sum / 7.0);
                }
                part += m;
            }
            start = end;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_is_the_stream_bit_for_bit() {
        // [7, 600, 1100]: windows longer than a part of a chunk.
        for p in [[7.0, 14.0, 28.0], [1.0, 2.0, 2.0], [5.0, 3.0, 4.0], [1.0, 1.0, 1.0], [1100.0, 7.0, 600.0]] {
            crate::indicators::testkit::assert_batch_is_replay(batch, |p| UltOsc::new(p).unwrap(), &p, 3, 1);
        }
    }

    fn run(s: &mut UltOsc, bars: &[[f64; 3]]) -> Vec<f64> {
        let mut out = [0.0];
        bars.iter()
            .map(|b| {
                s.update(b, &mut out);
                out[0]
            })
            .collect()
    }

    #[test]
    fn hand_computed_values() {
        // Periods 1, 2, 2 (given in any order). Bars 1..: buying, range:
        // bar 1: true low min(9, 10) = 9, buying 11 - 9 = 2, range max(3, 2, 1) = 3
        // bar 2: true low min(10, 11) = 10, buying 1, range max(2, 1, 1) = 2
        let bars = [[11.0, 9.0, 10.0], [12.0, 9.0, 11.0], [12.0, 10.0, 11.0]];
        let mut s = UltOsc::new(&[2.0, 1.0, 2.0]).unwrap();
        assert_eq!(s.lookback(), 2);
        let out = run(&mut s, &bars);
        assert!(out[0].is_nan() && out[1].is_nan());
        let want = 100.0 * ((4.0 * (1.0 / 2.0) + 2.0 * (3.0 / 5.0) + 3.0 / 5.0) / 7.0);
        assert_eq!(out[2], want);
    }

    #[test]
    fn flat_bars_leave_the_terms_out() {
        let bars = [[5.0, 5.0, 5.0]; 6];
        let out = run(&mut UltOsc::new(&[1.0, 2.0, 3.0]).unwrap(), &bars);
        assert_eq!(out[3..], [0.0; 3]);
    }

    fn walk() -> Vec<[f64; 3]> {
        (0..60)
            .map(|i| {
                let c = 40.0 + (i as f64 * 0.29).sin() * 5.0;
                [c + 0.8 + (i % 3) as f64 * 0.1, c - 0.7, c]
            })
            .collect()
    }

    #[test]
    fn periods_are_sorted() {
        let bars = walk();
        let a = run(&mut UltOsc::new(&[3.0, 5.0, 9.0]).unwrap(), &bars);
        let b = run(&mut UltOsc::new(&[9.0, 3.0, 5.0]).unwrap(), &bars);
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
    }

    #[test]
    fn save_load_continues_identically() {
        let bars = walk();
        for cut in [0, 1, 4, 7, 30] {
            let mut a = UltOsc::new(&[2.0, 4.0, 7.0]).unwrap();
            run(&mut a, &bars[..cut]);
            let mut w = Writer::fields();
            a.save(&mut w);
            let bytes = w.into_bytes();
            let mut b = UltOsc::new(&[2.0, 4.0, 7.0]).unwrap();
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
        let mut a = UltOsc::new(&[2.0, 4.0, 7.0]).unwrap();
        run(&mut a, &bars[..5]);
        let mut bad = a.clone();
        bad.bars = 9;
        let mut w = Writer::fields();
        bad.save(&mut w);
        let bytes = w.into_bytes();
        let mut b = UltOsc::new(&[2.0, 4.0, 7.0]).unwrap();
        assert!(b.load(&mut Reader::fields(&bytes)).is_err(), "bars beyond the longest period");
        let mut bad = a.clone();
        bad.moving[1] += 1;
        let mut w = Writer::fields();
        bad.save(&mut w);
        let bytes = w.into_bytes();
        assert!(b.load(&mut Reader::fields(&bytes)).is_err(), "moving bars miscounted");
        let mut bad = a.clone();
        bad.bars = 3;
        let mut w = Writer::fields();
        bad.save(&mut w);
        let bytes = w.into_bytes();
        assert!(b.load(&mut Reader::fields(&bytes)).is_err(), "window longer than the bars");
    }

    #[test]
    fn batch_equals_the_stream() {
        let mut bars = walk();
        bars[9][2] = f64::NAN;
        bars[30] = [f64::INFINITY, 1.0, 2.0];
        for k in 40..52 {
            bars[k] = [7.0, 7.0, 7.0];
        }
        let cols: Vec<Vec<f64>> = (0..3).map(|j| bars.iter().map(|b| b[j]).collect()).collect();
        for p in [[1.0, 1.0, 1.0], [2.0, 4.0, 7.0], [9.0, 3.0, 5.0], [60.0, 2.0, 3.0], [61.0, 1.0, 1.0]] {
            let stream = run(&mut UltOsc::new(&p).unwrap(), &bars);
            let mut out = vec![0.0; bars.len()];
            batch(&p, &[&cols[0], &cols[1], &cols[2]], &mut [&mut out]).unwrap();
            assert_eq!(format!("{stream:?}"), format!("{out:?}"), "{p:?}");
        }
    }

    #[test]
    fn peek_does_not_change_the_state() {
        let bars = walk();
        let mut s = UltOsc::new(&[2.0, 4.0, 7.0]).unwrap();
        run(&mut s, &bars[..12]);
        let before = s.clone();
        let mut peeked = [0.0];
        s.peek(&bars[12], &mut peeked);
        assert_eq!(s, before);
        assert_eq!(run(&mut s, &bars[12..13])[0], peeked[0]);
    }
}
