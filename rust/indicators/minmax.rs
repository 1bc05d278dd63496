//! Lowest and highest value over a window (TA-Lib `MIN`, `MAX`); lookback
//! `timeperiod - 1`.
//!
//! TA-Lib 0.8.1's batch `MIN`/`MAX` (and `WILLR`) run a van Herk/Gil-Werman
//! block scan, not the older cached-index rescan: the series is cut into
//! blocks of `timeperiod` values counted from its first value; the window
//! ending on a block's last value is that block's backward fold, and any
//! other window is the fold of the older block's suffix with the newer
//! block's prefix. With finite data every form gives the same extreme, but a
//! NaN is kept or dropped depending on where it sits in its block (a
//! comparison with NaN is false, so a NaN that starts a fold stays, one met
//! later is skipped), and among equal values (0.0 and -0.0) the fold order
//! picks which one is returned. [`Extreme`] is that scan as a stream: the
//! suffix folds of the last complete block are built once per block (O(1)
//! amortised, O(window) memory), the prefix fold of the current block is one
//! comparison per tick, so it returns TA-Lib's batch values bit for bit.
//! (`talib.stream` runs the older rescan per bar and refuses a NaN; on
//! finite data the values agree.) [`block_scan`] and [`block_scan_pair`] are
//! the same folds over a whole series, for the batch kernels.

use super::check_stream_period;
use super::indicator::Indicator;
use super::state::{ensure, Reader, Writer};
use super::window::Window;
use crate::error::Result;
use crate::impl_boxed_clone;

/// Which extreme a fold keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Lowest,
    Highest,
}

impl Side {
    /// TA-Lib's replacement test: strict, so the incumbent wins a tie and a
    /// NaN neither replaces nor is replaced.
    #[inline(always)]
    fn beats(self, candidate: f64, incumbent: f64) -> bool {
        match self {
            Side::Lowest => candidate < incumbent,
            Side::Highest => candidate > incumbent,
        }
    }
}

/// The lowest or highest value of the last `period` values, as TA-Lib's
/// block scan finds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Extreme {
    side: Side,
    period: usize,
    /// Values consumed (their position decides the block boundaries).
    seen: u64,
    window: Window,
    /// Suffix folds of the last complete block: `suffix[k]` is the extreme
    /// of its values `k..period`. Empty until the first block is complete.
    suffix: Vec<f64>,
    /// Fold of the current (incomplete) block's values so far.
    prefix: f64,
}

impl Extreme {
    pub fn new(side: Side, period: usize) -> Result<Self> {
        check_stream_period("timeperiod", period)?;
        Ok(Extreme {
            side,
            period,
            seen: 0,
            window: Window::new(period),
            suffix: Vec::new(),
            prefix: 0.0,
        })
    }

    pub fn period(&self) -> usize {
        self.period
    }

    /// Consumes `x`; the extreme of the last `period` values once there are
    /// that many, else NaN.
    #[inline]
    pub fn update(&mut self, x: f64) -> f64 {
        let p = self.period as u64;
        let offset = (self.seen % p) as usize;
        self.seen += 1;
        self.window.push(x);
        if offset + 1 == self.period {
            // A block is complete and the window is exactly that block.
            self.fold_suffix();
            return self.suffix[0];
        }
        if offset == 0 || self.side.beats(x, self.prefix) {
            self.prefix = x;
        }
        if self.suffix.is_empty() {
            return f64::NAN;
        }
        // The window is the older block's values offset+1.. and this block's
        // first offset+1 values; on a tie the older (suffix) side wins.
        let older = self.suffix[offset + 1];
        if self.side.beats(self.prefix, older) {
            self.prefix
        } else {
            older
        }
    }

    /// Backward fold over the window (the block just completed), keeping
    /// the incumbent on a tie.
    fn fold_suffix(&mut self) {
        let p = self.period;
        self.suffix.resize(p, 0.0);
        let mut best = self.window.get(p - 1);
        self.suffix[p - 1] = best;
        for k in (0..p - 1).rev() {
            let v = self.window.get(k);
            if self.side.beats(v, best) {
                best = v;
            }
            self.suffix[k] = best;
        }
    }

    pub fn save(&self, w: &mut Writer) {
        w.u64(self.seen);
        self.window.save(w);
    }

    /// Reads what `save` wrote into this freshly built tracker. The folds
    /// are rebuilt from the window: it holds the current block's values and
    /// every value of the last complete block that later windows still need.
    pub fn load(&mut self, r: &mut Reader) -> Result<()> {
        let seen = r.u64()?;
        self.window.load(r)?;
        let p = self.period as u64;
        ensure(
            self.window.len() as u64 == seen.min(p),
            "window length against values seen",
        )?;
        self.seen = seen;
        self.rebuild_folds();
        Ok(())
    }

    /// The prefix fold of the current block and the suffix folds of the last
    /// complete one, from the window.
    fn rebuild_folds(&mut self) {
        let p = self.period;
        // Values of the current block already consumed (0 right after a block end).
        let done = (self.seen % p as u64) as usize;
        let len = self.window.len();
        self.prefix = 0.0;
        for k in len - done..len {
            let v = self.window.get(k);
            if k == len - done || self.side.beats(v, self.prefix) {
                self.prefix = v;
            }
        }
        self.suffix.clear();
        if (self.seen as usize) < p {
            return;
        }
        self.suffix.resize(p, 0.0);
        // Block offset k sits at window index k - done (window holds the
        // last p values, the newest `done` of which belong to the current
        // block); offsets below `done` are no longer needed by any window.
        let mut best = self.window.get(p - 1 - done);
        self.suffix[p - 1] = best;
        for k in (done..p - 1).rev() {
            let v = self.window.get(k - done);
            if self.side.beats(v, best) {
                best = v;
            }
            self.suffix[k] = best;
        }
        for slot in &mut self.suffix[..done] {
            *slot = f64::NAN;
        }
    }
}

/// TA-Lib's batch block scan over a whole series: `out[i]` is the extreme of
/// `x[i + 1 - period..=i]` for `i >= period - 1`, NaN before. The same
/// folds as [`Extreme`] (so the same values bit for bit), without its
/// per-value bookkeeping.
pub fn block_scan(side: Side, x: &[f64], period: usize, out: &mut [f64]) {
    match side {
        Side::Lowest => block_scan_with(x, period, out, |a, b| a < b),
        Side::Highest => block_scan_with(x, period, out, |a, b| a > b),
    }
}

#[inline(always)]
fn block_scan_with(x: &[f64], p: usize, out: &mut [f64], beats: impl Fn(f64, f64) -> bool) {
    let n = x.len();
    out[..(p - 1).min(n)].fill(f64::NAN);
    let mut suffix = vec![0.0; p];
    let mut prefix = vec![0.0; p];
    let mut start = 0;
    // Each pass: the block [start, start + p) is complete; its backward
    // folds give the window ending on its last value and, combined with
    // the next block's forward folds, the windows ending inside that one.
    while start + p <= n {
        let block = &x[start..start + p];
        let mut best = block[p - 1];
        suffix[p - 1] = best;
        for (s, &v) in suffix[..p - 1].iter_mut().zip(&block[..p - 1]).rev() {
            if beats(v, best) {
                best = v;
            }
            *s = best;
        }
        out[start + p - 1] = suffix[0];
        let next = start + p;
        let avail = (n - next).min(p - 1);
        if avail > 0 {
            // Forward folds of the next block, then the combination: two
            // straight loops (the second has no dependency between outputs).
            let mut best = x[next];
            for (s, &v) in prefix[..avail].iter_mut().zip(&x[next..next + avail]) {
                if beats(v, best) {
                    best = v;
                }
                *s = best;
            }
            let dst = &mut out[next..next + avail];
            for ((o, &newer), &older) in
                dst.iter_mut().zip(&prefix[..avail]).zip(&suffix[1..=avail])
            {
                *o = if beats(newer, older) { newer } else { older };
            }
        }
        start = next;
    }
}

/// The highest of `high` and the lowest of `low` over each window, by the
/// same block scans as [`block_scan`] run side by side in one pass (what
/// TA-Lib's `WILLR` does): `emit(first, highest, lowest)` gives the
/// extremes of the windows ending at bars `first..first + highest.len()`,
/// a block's worth at a time, so the caller's arithmetic on them runs as a
/// vector loop. Each block's forward folds are taken in the same loop as
/// its backward folds are built: four independent chains of comparisons
/// instead of two. Always inlined, so that it is compiled for the CPU level
/// of the kernel that calls it.
#[inline(always)]
pub fn block_scan_pair(high: &[f64], low: &[f64], p: usize, mut emit: impl FnMut(usize, &[f64], &[f64])) {
    let n = high.len().min(low.len());
    if n < p {
        return;
    }
    // Backward folds of the last complete block, of the block being read,
    // and the extremes of the windows ending in the block being read.
    let (mut suf_hi, mut suf_lo) = (vec![0.0; p], vec![0.0; p]);
    let (mut new_hi, mut new_lo) = (vec![0.0; p], vec![0.0; p]);
    let (mut win_hi, mut win_lo) = (vec![0.0; p], vec![0.0; p]);
    let (mut hi, mut lo) = (high[p - 1], low[p - 1]);
    suf_hi[p - 1] = hi;
    suf_lo[p - 1] = lo;
    for k in (0..p - 1).rev() {
        fold_pair(high[k], low[k], &mut hi, &mut lo);
        suf_hi[k] = hi;
        suf_lo[k] = lo;
    }
    emit(p - 1, &suf_hi[..1], &suf_lo[..1]);
    let mut next = p;
    while next + p <= n {
        let (bh, bl) = (&high[next..next + p], &low[next..next + p]);
        let (mut pre_hi, mut pre_lo) = (bh[0], bl[0]);
        let (mut back_hi, mut back_lo) = (bh[p - 1], bl[p - 1]);
        new_hi[p - 1] = back_hi;
        new_lo[p - 1] = back_lo;
        for m in 0..p - 1 {
            // Forward: bar m of this block, joined to the older block's
            // backward fold from m + 1 (on a tie the older side wins).
            (win_hi[m], win_lo[m]) = forward_pair(bh[m], bl[m], &mut pre_hi, &mut pre_lo, suf_hi[m + 1], suf_lo[m + 1]);
            // Backward: bar p - 2 - m of this block.
            let k = p - 2 - m;
            fold_pair(bh[k], bl[k], &mut back_hi, &mut back_lo);
            new_hi[k] = back_hi;
            new_lo[k] = back_lo;
        }
        // The window ending on the block's last bar is the block.
        win_hi[p - 1] = new_hi[0];
        win_lo[p - 1] = new_lo[0];
        emit(next, &win_hi, &win_lo);
        std::mem::swap(&mut suf_hi, &mut new_hi);
        std::mem::swap(&mut suf_lo, &mut new_lo);
        next += p;
    }
    // An incomplete last block: its forward folds only.
    let avail = n - next;
    if avail > 0 {
        let (mut pre_hi, mut pre_lo) = (high[next], low[next]);
        for m in 0..avail {
            let (h, l) = (high[next + m], low[next + m]);
            (win_hi[m], win_lo[m]) = forward_pair(h, l, &mut pre_hi, &mut pre_lo, suf_hi[m + 1], suf_lo[m + 1]);
        }
        emit(next, &win_hi[..avail], &win_lo[..avail]);
    }
}

/// Bar `(h, l)` into running extremes, TA-Lib's comparisons (a NaN bar
/// never replaces an extreme).
#[inline(always)]
fn fold_pair(h: f64, l: f64, hi: &mut f64, lo: &mut f64) {
    if h > *hi {
        *hi = h;
    }
    if l < *lo {
        *lo = l;
    }
}

/// One forward step of `block_scan_pair`: bar `(h, l)` into the block's
/// running extremes, joined to the older block's backward fold (`older_*`;
/// on a tie the older side wins). The window's (highest, lowest).
#[inline(always)]
fn forward_pair(h: f64, l: f64, pre_hi: &mut f64, pre_lo: &mut f64, older_hi: f64, older_lo: f64) -> (f64, f64) {
    fold_pair(h, l, pre_hi, pre_lo);
    (
        if *pre_hi > older_hi { *pre_hi } else { older_hi },
        if *pre_lo < older_lo { *pre_lo } else { older_lo },
    )
}

/// The catalog's batch kernel for `MIN`. Scalar: TA-Lib's block folds
/// decide which NaN an extreme keeps by their order.
#[inline(always)]
pub fn batch_min(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    block_scan(Side::Lowest, inputs[0], params[0] as usize, outputs[0]);
    Ok(())
}

/// The catalog's batch kernel for `MAX`.
#[inline(always)]
pub fn batch_max(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    block_scan(Side::Highest, inputs[0], params[0] as usize, outputs[0]);
    Ok(())
}

/// `MIN` / `MAX`: one input, one output.
#[derive(Debug, Clone, PartialEq)]
pub struct MinMax {
    extreme: Extreme,
}

impl MinMax {
    /// `MIN(timeperiod)`.
    pub fn min(params: &[f64]) -> Result<Self> {
        Ok(MinMax {
            extreme: Extreme::new(Side::Lowest, params[0] as usize)?,
        })
    }

    /// `MAX(timeperiod)`.
    pub fn max(params: &[f64]) -> Result<Self> {
        Ok(MinMax {
            extreme: Extreme::new(Side::Highest, params[0] as usize)?,
        })
    }
}

impl Indicator for MinMax {
    fn lookback(&self) -> usize {
        self.extreme.period() - 1
    }

    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        out[0] = self.extreme.update(tick[0]);
    }

    fn save(&self, w: &mut Writer) {
        self.extreme.save(w);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.extreme.load(r)
    }

    impl_boxed_clone!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::testkit::first_outputs;

    fn run(state: &mut dyn Indicator, xs: &[f64]) -> Vec<f64> {
        first_outputs(state, xs.iter().map(|&x| [x]))
    }

    fn same(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    #[test]
    fn hand_checked_min_and_max() {
        let xs = [5.0, 3.0, 4.0, 1.0, 2.0, 6.0, 0.5];
        let nan = f64::NAN;
        let lo = run(&mut MinMax::min(&[3.0]).unwrap(), &xs);
        assert!(same(&lo, &[nan, nan, 3.0, 1.0, 1.0, 1.0, 0.5]));
        let hi = run(&mut MinMax::max(&[3.0]).unwrap(), &xs);
        assert!(same(&hi, &[nan, nan, 5.0, 4.0, 4.0, 6.0, 6.0]));
        assert_eq!(MinMax::min(&[3.0]).unwrap().lookback(), 2);
    }

    #[test]
    fn matches_a_direct_scan_on_finite_data() {
        let xs: Vec<f64> = (0..500)
            .map(|i| ((i * 37 % 101) as f64 * 0.7).sin())
            .collect();
        for p in [1, 2, 3, 7, 30] {
            let lo = run(&mut MinMax::min(&[p as f64]).unwrap(), &xs);
            let hi = run(&mut MinMax::max(&[p as f64]).unwrap(), &xs);
            for i in p - 1..xs.len() {
                let win = &xs[i + 1 - p..=i];
                assert_eq!(
                    lo[i],
                    win.iter().cloned().fold(f64::INFINITY, f64::min),
                    "p={p} i={i}"
                );
                assert_eq!(hi[i], win.iter().cloned().fold(f64::NEG_INFINITY, f64::max));
            }
        }
    }

    #[test]
    fn nan_is_kept_or_skipped_by_its_place_in_the_block() {
        // Blocks of 3 from the first value: [1,3,nan] [2,5,0] [4,nan,1] ...
        // (TA-Lib 0.8.1 batch gives these values).
        let nan = f64::NAN;
        let xs = [
            1.0, 3.0, nan, 2.0, 5.0, 0.0, 4.0, nan, 1.0, 2.0, 3.0, 4.0, 5.0,
        ];
        let got = run(&mut MinMax::min(&[3.0]).unwrap(), &xs);
        let want = [
            nan, nan, nan, nan, nan, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 3.0,
        ];
        assert!(same(&got, &want), "{got:?}");
    }

    #[test]
    fn block_scan_equals_the_stream_bit_for_bit() {
        let nan = f64::NAN;
        let mut xs: Vec<f64> = (0..300).map(|i| ((i * 29 % 31) as f64) - 15.0).collect();
        for i in [3, 40, 41, 77, 150, 151, 152, 299] {
            xs[i] = [nan, 0.0, -0.0, f64::INFINITY][i % 4];
        }
        for p in [1, 2, 3, 5, 8, 30, 299, 300, 301] {
            for side in [Side::Lowest, Side::Highest] {
                let mut e = Extreme::new(side, p).unwrap();
                let want: Vec<f64> = xs.iter().map(|&x| e.update(x)).collect();
                let mut got = vec![0.0; xs.len()];
                block_scan(side, &xs, p, &mut got);
                assert!(same(&got, &want), "p={p} {side:?}");
            }
        }
    }

    #[test]
    fn ties_between_zeros_follow_the_fold_order() {
        // The block's backward fold keeps the later of equal values.
        let got = run(&mut MinMax::min(&[2.0]).unwrap(), &[0.0, -0.0, 0.0]);
        assert!(got[1].to_bits() == (-0.0f64).to_bits());
        // Window [-0.0 | 0.0]: the older block's suffix wins the tie.
        assert!(got[2].to_bits() == (-0.0f64).to_bits());
    }

    #[test]
    fn save_and_load_continue_identically_at_every_offset() {
        let xs: Vec<f64> = (0..60).map(|i| ((i * 13 % 17) as f64) - 8.0).collect();
        for p in [1usize, 2, 5] {
            for cut in 0..xs.len() {
                let mut a = MinMax::max(&[p as f64]).unwrap();
                run(&mut a, &xs[..cut]);
                let mut w = Writer::fields();
                a.save(&mut w);
                let bytes = w.into_bytes();
                let mut b = MinMax::max(&[p as f64]).unwrap();
                b.load(&mut Reader::fields(&bytes)).unwrap();
                assert!(
                    same(&run(&mut a, &xs[cut..]), &run(&mut b, &xs[cut..])),
                    "p={p} cut={cut}"
                );
            }
        }
    }

    #[test]
    fn load_refuses_a_window_that_does_not_fit_the_count() {
        let mut a = MinMax::min(&[4.0]).unwrap();
        run(&mut a, &[1.0, 2.0, 3.0]);
        let mut w = Writer::fields();
        w.u64(10);
        Window::new(4).save(&mut w);
        let bytes = w.into_bytes();
        assert!(MinMax::min(&[4.0])
            .unwrap()
            .load(&mut Reader::fields(&bytes))
            .is_err());
    }

    #[test]
    fn peek_leaves_the_state_alone() {
        let mut a = MinMax::min(&[3.0]).unwrap();
        run(&mut a, &[4.0, 2.0, 3.0, 5.0]);
        let before = a.clone();
        let mut o = [0.0];
        a.peek(&[1.0], &mut o);
        assert_eq!(o[0], 1.0);
        assert_eq!(a, before);
    }
}
