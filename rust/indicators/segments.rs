//! Segmented scans: the recurrences of RSI and MACD over long series,
//! eight stretches of the series at once, one per lane.
//!
//! The blocked scans of `scan.rs` spend about a dozen operations per
//! recurrence on every row of eight outputs, to make the eight lanes of a
//! row independent of each other. Here the lanes are independent from the
//! start: the rows are cut into eight segments of equal length, lane `j`
//! runs the recurrence along segment `j` one step at a time (`y = a*y + u`:
//! one multiply and one add per step for all eight), and 8x8 transposes
//! (`Lanes::load_transposed`, `Lanes::store_transposed`) turn eight rows,
//! one from each segment, into eight steps of all segments and back. Each
//! lane does the same IEEE operations in every lane implementation, so
//! every CPU level gives the same bits.
//!
//! Only the first segment starts from the true state; the others start from
//! a guess (zero sums for RSI; the price before the segment for MACD's
//! EMAs and zero for its signal), because the true state at their start is
//! known only when the segment before them is done. The recurrences
//! contract (`0 <= a < 1`), so a wrong start fades as `a^k`: once the
//! segments are done, each segment's first values are made again by the
//! row scan from the true state (the end of the segment before), until what
//! the guess got wrong is below 2^-60 of the values, smaller than their own
//! rounding. RSI's Wilder sums have inputs that are never negative, so the
//! part of a sum the zero start misses (`a^k` times the true start) falls
//! at least as fast as the sum itself: the test is made on the sums and
//! holds for every later value, and a stretch of unchanged prices after a
//! segment's start simply keeps the row scan going. For MACD the error of
//! the guess is followed through its three linear recurrences.
//!
//! Used when each segment has at least `MIN_SEGMENT` values and the redone
//! heads are a small part of it; otherwise the row scans do all the work.
//! ATR keeps the row scan: it reads three arrays for every output, and its
//! row scan already runs at the speed those reads allow.

use super::cpu::Level;
use super::lanes::{self, Kernel, Lanes, ROW};
use super::scan::{self, MacdLines};

/// Fewest values per segment for the segmented scan: below this the row
/// scans are as fast.
const MIN_SEGMENT: usize = 2048;

/// How far ahead of a block (in values of each segment) `pass` asks for
/// the lines of the arrays. Eight segments of a kernel's arrays are many
/// streams of memory at once (32 for MACD's one input and three outputs),
/// more than the hardware prefetchers follow: without the prefetches the
/// segmented MACD ran up to 1.8x slower than the row scan once its data
/// left the caches, with them 1.3-1.5x faster (measured on a Zen 4 at
/// 1,000,000 values; 256 to 768 values ahead did as well, 1,536 and more
/// worse).
const PREFETCH_AHEAD: usize = 512;

/// Values the row scan redoes between two tests of a segment's head.
const HEAD_CHUNK: usize = 64;

/// What a head must have shed before the segment's own values are kept:
/// the part of the sum the start got wrong, against the sum.
const SETTLED: f64 = 1.0 / (1u64 << 61) as f64;

/// Eight segments of `len` values from `from` (rows in `from..from + 8*len`).
#[derive(Clone, Copy)]
struct Layout {
    from: usize,
    len: usize,
}

impl Layout {
    /// The segments of the rows from `from` of a series of `n`, for a
    /// recurrence that contracts by `a` a step; None when the row scans
    /// should do it all.
    fn new(from: usize, n: usize, a: f64) -> Option<Layout> {
        let rows = scan::rows_end(from, n).saturating_sub(from);
        let len = rows / ROW / ROW * ROW;
        // Steps until `a^k` is below 2^-61: the shortest head to redo.
        let head = if a > 0.0 { 61.0 / -a.log2() } else { 0.0 };
        (len >= MIN_SEGMENT && head * 8.0 <= len as f64).then_some(Layout { from, len })
    }

    fn start(self, j: usize) -> usize {
        self.from + j * self.len
    }

    fn end(self) -> usize {
        self.start(ROW)
    }

    /// The price just before each segment of `x`.
    fn prices_before(self, x: &[f64]) -> [f64; ROW] {
        std::array::from_fn(|j| x[self.start(j) - 1])
    }
}

/// The widest lanes for the segmented passes.
const WIDEST: Level = Level::Avx512;

/// A recurrence run along the eight segments (lane `j` is segment `j`).
/// Positions are counted from the first segment's start.
trait Segmented<L: Lanes, const O: usize> {
    /// The values the segments run along, from the first segment's start.
    fn source(&self) -> &[f64];
    /// One step of all segments from their values at that step: the
    /// outputs of that step.
    fn step(&mut self, l: L, u: L::V) -> [L::V; O];
    /// Writes the outputs of the eight steps from position `b` of every
    /// segment (`len` values each) back into the segments' rows.
    fn write_steps(&mut self, l: L, b: usize, len: usize, outs: [[L::V; ROW]; O]);
    /// Asks for the lines at `at` of the arrays `source` and `write_steps` use
    /// (`PREFETCH_AHEAD`). Nothing by default: RSI's arrays (16 MB at
    /// 1,000,000 values) stay in the caches, and asking measured 3-7% slower.
    #[inline(always)]
    fn prefetch(&self, _at: usize) {}
    /// After the eight steps from position `b` of every segment.
    #[inline(always)]
    fn end_block(&mut self, _l: L, _b: usize) {}
}

/// The segmented pass: for each block of eight steps, eight rows of the
/// source (one per segment) are loaded as eight steps, `step` runs on each
/// step in order, and its outputs are written back into the segments' rows.
/// (A trait rather than closures, and loops rather than `array::from_fn`:
/// code the compiler kept out of line would lose the CPU features of the
/// function around it.)
#[inline(always)]
fn pass<L: Lanes, const O: usize>(l: L, len: usize, kernel: &mut impl Segmented<L, O>) {
    let zero = l.splat(0.0);
    for b in (0..len).step_by(ROW) {
        for j in 0..ROW {
            kernel.prefetch(j * len + b + PREFETCH_AHEAD);
        }
        let steps = l.load_transposed(kernel.source(), b, len);
        let mut outs = [[zero; ROW]; O];
        for (k, u) in steps.into_iter().enumerate() {
            let out = kernel.step(l, u);
            for o in 0..O {
                outs[o][k] = out[o];
            }
        }
        kernel.end_block(l, b);
        kernel.write_steps(l, b, len, outs);
    }
}

/// Lanes holding `first` in lane 0 and `rest` in the others.
#[inline(always)]
fn first_and_rest<L: Lanes>(l: L, first: f64, rest: f64) -> L::V {
    let mut v = [rest; ROW];
    v[0] = first;
    l.load(&v, 0)
}

/// RSI's rows from `from`, as `scan::rsi_rows` (whose arguments and result
/// these are): by eight segments at once when the series is long enough
/// (see the module's comment), else by the row scan alone.
pub(crate) fn rsi(
    x: &[f64],
    from: usize,
    gain: f64,
    total: f64,
    a: f64,
    out: &mut [f64],
) -> (f64, f64, bool) {
    let Some(layout) = Layout::new(from, x.len().min(out.len()), a) else {
        return scan::rsi_rows(x, from, gain, total, a, out);
    };
    match segments_rsi(x, layout, gain, total, a, out) {
        Ok((g, s)) => scan::rsi_rows(x, layout.end(), g, s, a, out),
        Err(failed) => failed,
    }
}

/// The eight segments from the sums `(gain, total)`: the sums at their
/// end, or the row scan's result when it met a non-finite value.
fn segments_rsi(
    x: &[f64],
    layout: Layout,
    gain: f64,
    total: f64,
    a: f64,
    out: &mut [f64],
) -> Result<(f64, f64), (f64, f64, bool)> {
    let [gains, totals, tiny] = lanes::run(RsiSegments {
        x,
        layout,
        gain,
        total,
        a,
        out: &mut *out,
    });
    // A tiny total (`scan::RSI_TINY_TOTAL`) where a segment's own values are
    // kept sends the series to TA-Lib's order; segment 0 keeps them all.
    if tiny[0] > 0.0 {
        return Err((gains[0], totals[0], false));
    }
    let a_chunk = a.powi(HEAD_CHUNK as i32);
    let (mut g, mut s) = (gains[0], totals[0]);
    for j in 1..ROW {
        let (start, end) = (layout.start(j), layout.start(j + 1));
        // The segment's sums miss `a^k * s` (and less of the gains).
        let mut missing = s;
        let mut pos = start;
        let (mut head_g, mut head_s) = (g, s);
        loop {
            let stop = (pos + HEAD_CHUNK).min(end);
            let (hg, hs, finite) =
                scan::rsi_rows(&x[..stop], pos, head_g, head_s, a, &mut out[..stop]);
            if !finite {
                return Err((hg, hs, false));
            }
            (head_g, head_s, pos) = (hg, hs, stop);
            missing *= a_chunk;
            if pos == end {
                (g, s) = (hg, hs);
                break;
            }
            if missing <= SETTLED * hs {
                if tiny[j] > (pos - start) as f64 {
                    return Err((gains[j], totals[j], false));
                }
                (g, s) = (gains[j], totals[j]);
                break;
            }
        }
    }
    Ok((g, s))
}

struct RsiSegments<'a> {
    x: &'a [f64],
    layout: Layout,
    gain: f64,
    total: f64,
    a: f64,
    out: &'a mut [f64],
}

impl Kernel for RsiSegments<'_> {
    /// Each segment's last gain and total sums, and where in it a total was
    /// last seen tiny (the end of that block of steps; 0: never).
    type Output = [[f64; ROW]; 3];
    const WIDEST: Level = WIDEST;

    #[inline(always)]
    fn run<L: Lanes>(self, l: L) -> [[f64; ROW]; 3] {
        let RsiSegments {
            x,
            layout,
            gain,
            total,
            a,
            out,
        } = self;
        let (from, end) = (layout.from, layout.end());
        let mut kernel = RsiStep {
            now: &x[from..end],
            before: l.load(&layout.prices_before(x), 0),
            out: &mut out[from..end],
            gain: first_and_rest(l, gain, 0.0),
            total: first_and_rest(l, total, 0.0),
            a: l.splat(a),
            zero: l.splat(0.0),
            hundred: l.splat(100.0),
            tiny_at: l.splat(0.0),
            len: layout.len,
        };
        pass(l, layout.len, &mut kernel);
        [l.to_array(kernel.gain), l.to_array(kernel.total), l.to_array(kernel.tiny_at)]
    }
}

struct RsiStep<'a, V> {
    now: &'a [f64],
    /// The price one step before the coming step's, in each segment: the
    /// last step's. (Loading the rows of `now` one value earlier as well
    /// would cost a second transpose.)
    before: V,
    out: &'a mut [f64],
    gain: V,
    total: V,
    a: V,
    zero: V,
    hundred: V,
    /// Per segment, the end of the last block of steps after which its total
    /// was tiny (0: none).
    tiny_at: V,
    /// Values in each segment.
    len: usize,
}

impl<L: Lanes> Segmented<L, 1> for RsiStep<'_, L::V> {
    #[inline(always)]
    fn source(&self) -> &[f64] {
        self.now
    }
    #[inline(always)]
    fn step(&mut self, l: L, price: L::V) -> [L::V; 1] {
        let d = l.sub(price, self.before);
        self.before = price;
        // As the row scan: `max(d, 0)` is `d > 0 ? d : 0`.
        self.gain = l.add(l.mul(self.a, self.gain), l.max(d, self.zero));
        self.total = l.add(l.mul(self.a, self.total), l.abs(d));
        let rsi = l.mul(self.hundred, l.div(self.gain, self.total));
        [l.where_positive(rsi, self.total)]
    }
    #[inline(always)]
    fn write_steps(&mut self, l: L, b: usize, len: usize, [rsi]: [[L::V; ROW]; 1]) {
        l.store_transposed(rsi, self.out, b, len);
    }

    /// Every fourth block (32 steps, as the row scan) and after the last: a
    /// total crosses more steps than that between tiny and the subnormals
    /// (see `scan::RSI_TINY_TOTAL`).
    #[inline(always)]
    fn end_block(&mut self, l: L, b: usize) {
        let end = b + ROW;
        if end.is_multiple_of(4 * ROW) || end == self.len {
            let mark = l.splat(end as f64);
            self.tiny_at = l.max(scan::rsi_tiny(l, self.total, mark), self.tiny_at);
        }
    }
}

/// MACD's rows from `from`, as `scan::macd_rows` (whose arguments and
/// result these are): by eight segments at once when the series is long
/// enough, else by the row scan alone.
pub(crate) fn macd(
    x: &[f64],
    from: usize,
    lines: MacdLines,
    macd: &mut [f64],
    sig: &mut [f64],
    hist: &mut [f64],
) -> ([f64; 3], bool) {
    let n = x.len().min(macd.len()).min(sig.len()).min(hist.len());
    let MacdLines {
        fast: (_, kf),
        slow: (_, ks),
        signal: (_, kg),
    } = lines;
    // (Its outputs keep ordinary stores: written around the caches, as
    // ATR's are, they measured 1.1-1.6x slower, from the segments or the
    // row scan.)
    let layout = Layout::new(from, n, (1.0 - kf).max(1.0 - ks).max(1.0 - kg));
    let Some(layout) = layout else {
        return scan::macd_rows(x, from, lines, macd, sig, hist);
    };
    let outs = [&mut *macd, &mut *sig, &mut *hist];
    match segments_macd(x, layout, lines, outs) {
        Ok([f, s, g]) => {
            let tail = MacdLines {
                fast: (f, kf),
                slow: (s, ks),
                signal: (g, kg),
            };
            scan::macd_rows(x, layout.end(), tail, macd, sig, hist)
        }
        Err(failed) => failed,
    }
}

/// The eight segments: the three values at their end, or the row scan's
/// result when it met a non-finite value.
fn segments_macd(
    x: &[f64],
    layout: Layout,
    lines: MacdLines,
    [macd, sig, hist]: [&mut [f64]; 3],
) -> Result<[f64; 3], ([f64; 3], bool)> {
    let ends = lanes::run(MacdSegments {
        x,
        layout,
        lines,
        outs: [&mut *macd, &mut *sig, &mut *hist],
    });
    let MacdLines {
        fast: (_, kf),
        slow: (_, ks),
        signal: (_, kg),
    } = lines;
    let (af, a_s, ag) = (1.0 - kf, 1.0 - ks, 1.0 - kg);
    let mut state = [ends[0][0], ends[1][0], ends[2][0]];
    for j in 1..ROW {
        if !state.iter().all(|v| v.is_finite()) {
            return Err((state, false));
        }
        let (start, end) = (layout.start(j), layout.start(j + 1));
        // The segment started from the price before it for both EMAs and
        // from zero for the signal: follow that error through the three
        // recurrences (the signal's input is the line, fast minus slow)
        // until it is below 2^-60 of the state.
        let [f, s, g] = state;
        let price = x[start - 1];
        let scale = f.abs().max(s.abs()).max(g.abs()) * SETTLED * 2.0;
        let (mut ef, mut es, mut eg) = (f - price, s - price, g);
        let mut head = 0;
        while head < end - start && ef.abs().max(es.abs()).max(eg.abs()) > scale {
            ef *= af;
            es *= a_s;
            eg = ag * eg + kg * (ef - es);
            head += 1;
        }
        let stop = (start + head.div_ceil(ROW) * ROW).min(end);
        let head_lines = MacdLines {
            fast: (f, kf),
            slow: (s, ks),
            signal: (g, kg),
        };
        let (head_end, finite) = scan::macd_rows(
            &x[..stop],
            start,
            head_lines,
            &mut macd[..stop],
            &mut sig[..stop],
            &mut hist[..stop],
        );
        if !finite {
            return Err((head_end, false));
        }
        state = if stop == end {
            head_end
        } else {
            [ends[0][j], ends[1][j], ends[2][j]]
        };
    }
    Ok(state)
}

struct MacdSegments<'a> {
    x: &'a [f64],
    layout: Layout,
    lines: MacdLines,
    /// The line, the signal and the histogram.
    outs: [&'a mut [f64]; 3],
}

impl Kernel for MacdSegments<'_> {
    /// Each segment's last fast EMA, slow EMA and signal.
    type Output = [[f64; ROW]; 3];
    const WIDEST: Level = WIDEST;

    #[inline(always)]
    fn run<L: Lanes>(self, l: L) -> [[f64; ROW]; 3] {
        let MacdSegments {
            x,
            layout,
            lines,
            outs: [macd, sig, hist],
        } = self;
        let (from, end) = (layout.from, layout.end());
        let MacdLines {
            fast: (f0, kf),
            slow: (s0, ks),
            signal: (g0, kg),
        } = lines;
        // Both EMAs of the later segments start from the price before them.
        let before = layout.prices_before(x);
        let (mut f, mut s) = (before, before);
        (f[0], s[0]) = (f0, s0);
        let mut kernel = MacdStep {
            x: &x[from..end],
            macd: &mut macd[from..end],
            sig: &mut sig[from..end],
            hist: &mut hist[from..end],
            fast: l.load(&f, 0),
            slow: l.load(&s, 0),
            signal: first_and_rest(l, g0, 0.0),
            a: [l.splat(1.0 - kf), l.splat(1.0 - ks), l.splat(1.0 - kg)],
            k: [l.splat(kf), l.splat(ks), l.splat(kg)],
        };
        pass(l, layout.len, &mut kernel);
        [
            l.to_array(kernel.fast),
            l.to_array(kernel.slow),
            l.to_array(kernel.signal),
        ]
    }
}

struct MacdStep<'a, V> {
    x: &'a [f64],
    macd: &'a mut [f64],
    sig: &'a mut [f64],
    hist: &'a mut [f64],
    fast: V,
    slow: V,
    signal: V,
    /// `1 - k` and `k` of the fast, slow and signal EMAs.
    a: [V; 3],
    k: [V; 3],
}

impl<L: Lanes> Segmented<L, 2> for MacdStep<'_, L::V> {
    #[inline(always)]
    fn source(&self) -> &[f64] {
        self.x
    }
    #[inline(always)]
    fn step(&mut self, l: L, p: L::V) -> [L::V; 2] {
        let ([af, a_s, ag], [kf, ks, kg]) = (self.a, self.k);
        self.fast = l.add(l.mul(af, self.fast), l.mul(kf, p));
        self.slow = l.add(l.mul(a_s, self.slow), l.mul(ks, p));
        let line = l.sub(self.fast, self.slow);
        self.signal = l.add(l.mul(ag, self.signal), l.mul(kg, line));
        [line, self.signal]
    }
    #[inline(always)]
    fn prefetch(&self, at: usize) {
        for array in [self.x, &*self.macd, &*self.sig, &*self.hist] {
            lanes::prefetch(array, at);
        }
    }
    /// The histogram is made here, in rows: one transpose fewer.
    #[inline(always)]
    fn write_steps(&mut self, l: L, b: usize, len: usize, [line, signal]: [[L::V; ROW]; 2]) {
        let (line, signal) = (l.transpose(line), l.transpose(signal));
        for j in 0..ROW {
            let at = j * len + b;
            l.store(line[j], self.macd, at);
            l.store(signal[j], self.sig, at);
            l.store(l.sub(line[j], signal[j]), self.hist, at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(n: usize, seed: u64) -> Vec<f64> {
        let mut state = seed | 1;
        let mut p = 100.0;
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                p += (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                p
            })
            .collect()
    }

    /// RSI from `from` one step at a time, the row scan's definitions.
    fn rsi_one_step(x: &[f64], from: usize, gain: f64, total: f64, a: f64) -> Vec<f64> {
        let (mut g, mut s) = (gain, total);
        let mut out = vec![f64::NAN; x.len()];
        for t in from..x.len() {
            let d = x[t] - x[t - 1];
            g = a * g + if d > 0.0 { d } else { 0.0 };
            s = a * s + d.abs();
            out[t] = if s > 0.0 { 100.0 * (g / s) } else { 0.0 };
        }
        out
    }

    fn rsi_segmented(x: &[f64], from: usize, gain: f64, total: f64, a: f64) -> (Vec<f64>, bool) {
        let mut out = vec![f64::NAN; x.len()];
        assert!(
            Layout::new(from, x.len(), a).is_some(),
            "long enough to segment"
        );
        let (_, _, finite) = rsi(x, from, gain, total, a, &mut out);
        (out, finite)
    }

    fn assert_close(got: &[f64], want: &[f64], from: usize, tol: f64) {
        let end = scan::rows_end(from, got.len());
        for t in from..end {
            assert!(
                (got[t] - want[t]).abs() <= tol,
                "at {t}: {} vs {}",
                got[t],
                want[t]
            );
        }
    }

    #[test]
    fn rsi_segments_match_one_step_at_a_time() {
        for (n, window) in [(20_000, 2.0), (100_003, 14.0), (300_001, 50.0)] {
            let x = walk(n, n as u64);
            let a = (window - 1.0) / window;
            let (got, finite) = rsi_segmented(&x, 15, 3.0, 7.0, a);
            assert!(finite);
            assert_close(&got, &rsi_one_step(&x, 15, 3.0, 7.0, a), 15, 1e-10);
        }
    }

    #[test]
    fn rsi_segments_survive_flat_prices_and_jumps_at_a_segment_start() {
        let n = 40_000;
        let a = 13.0 / 14.0;
        let layout = Layout::new(1, n, a).expect("segments");
        let second = layout.start(1);
        // A segment that starts with 3000 unchanged prices: its zero-start
        // sums stay exactly zero while the true ones decay from the segment
        // before, so only the row scan can give those values.
        let mut x = walk(n, 5);
        let level = x[second - 1];
        x[second - 1..second + 3000].fill(level);
        // A jump of a million at the third segment's start, then tiny moves.
        let third = layout.start(2);
        for (k, v) in x[third..].iter_mut().enumerate() {
            *v = 1e6 + (k as f64 * 0.37).sin() * 1e-3;
        }
        let (got, finite) = rsi_segmented(&x, 1, 0.0, 0.0, a);
        assert!(finite);
        let want = rsi_one_step(&x, 1, 0.0, 0.0, a);
        assert_close(&got, &want, 1, 1e-9);
        // The flat stretch reads the decaying ratio, not the zero of a
        // zero total.
        assert!(got[second + 2000] > 1.0 && got[second + 2000] < 99.0);
    }

    #[test]
    fn a_whole_flat_segment_keeps_the_row_scan_to_its_end() {
        let n = 40_000;
        let a = 13.0 / 14.0;
        let layout = Layout::new(1, n, a).expect("segments");
        let mut x = walk(n, 11);
        let (s3, s4) = (layout.start(3), layout.start(4));
        let level = x[s3 - 1];
        x[s3 - 1..s4 + 10].fill(level);
        let (got, finite) = rsi_segmented(&x, 1, 0.0, 0.0, a);
        assert!(finite);
        assert_close(&got, &rsi_one_step(&x, 1, 0.0, 0.0, a), 1, 1e-9);
    }

    #[test]
    fn totals_near_the_subnormals_in_any_segment_are_reported() {
        // Period 2 halves the sums each unchanged price: 1,100 of them take
        // the totals (a few units before) below 2^-960
        // (`scan::RSI_TINY_TOTAL`).
        let n = 40_000;
        let a = 0.5;
        let layout = Layout::new(1, n, a).expect("segments");
        for j in 0..ROW {
            for at in [layout.start(j) + 100, layout.start(j) + 3000] {
                let mut x = walk(n, 5);
                let level = x[at];
                x[at..at + 1100].fill(level);
                assert!(!rsi_segmented(&x, 1, 0.0, 0.0, a).1, "flat from {at}");
                // 900 leave them far above it.
                let mut x = walk(n, 5);
                x[at..at + 900].fill(level);
                assert!(rsi_segmented(&x, 1, 0.0, 0.0, a).1, "flat from {at}");
            }
        }
    }

    #[test]
    fn a_non_finite_price_in_any_segment_is_reported() {
        let n = 40_000;
        let layout = Layout::new(1, n, 0.9).expect("segments");
        for j in 0..ROW {
            for at in [layout.start(j), layout.start(j) + 5, layout.start(j) + 3000] {
                for bad in [f64::NAN, f64::INFINITY] {
                    let mut x = walk(n, 3);
                    x[at] = bad;
                    assert!(!rsi_segmented(&x, 1, 0.0, 0.0, 0.9).1, "{bad} at {at}");
                    let mut outs = vec![vec![0.0; n]; 3];
                    let [m, s, h] = &mut outs[..] else {
                        unreachable!()
                    };
                    let lines = MacdLines {
                        fast: (x[0], 2.0 / 13.0),
                        slow: (x[0], 2.0 / 27.0),
                        signal: (0.0, 0.2),
                    };
                    let (_, finite) = macd(&x, 1, lines, m, s, h);
                    assert!(!finite, "{bad} at {at}");
                }
            }
        }
    }

    #[test]
    fn macd_segments_match_one_step_at_a_time() {
        for (n, periods) in [
            (40_000, (12.0, 26.0, 9.0)),
            (100_003, (3.0, 5.0, 2.0)),
            (200_001, (50.0, 100.0, 30.0)),
        ] {
            let mut x = walk(n, 7 + n as u64);
            // A level shift of a thousand inside the fifth segment.
            for v in &mut x[5 * n / 8 + 17..] {
                *v += 1000.0;
            }
            let k = |p: f64| 2.0 / (p + 1.0);
            let (kf, ks, kg) = (k(periods.0), k(periods.1), k(periods.2));
            let lines = MacdLines {
                fast: (x[0], kf),
                slow: (x[0] - 1.0, ks),
                signal: (0.5, kg),
            };
            let mut got = vec![vec![f64::NAN; n]; 3];
            let [m, s, h] = &mut got[..] else {
                unreachable!()
            };
            assert!(Layout::new(1, n, 1.0 - ks).is_some());
            let (_, finite) = macd(&x, 1, lines, m, s, h);
            assert!(finite);
            let (mut f, mut sl, mut g) = (x[0], x[0] - 1.0, 0.5);
            let end = scan::rows_end(1, n);
            for t in 1..end {
                f = (1.0 - kf) * f + kf * x[t];
                sl = (1.0 - ks) * sl + ks * x[t];
                let line = f - sl;
                g = (1.0 - kg) * g + kg * line;
                for (out, want) in [(&got[0], line), (&got[1], g), (&got[2], line - g)] {
                    assert!(
                        (out[t] - want).abs() <= 1e-9,
                        "{periods:?} at {t}: {} vs {want}",
                        out[t]
                    );
                }
            }
        }
    }

    /// The segmented pass alone on lanes `L`, as bits.
    #[derive(Clone)]
    struct Passes(Vec<f64>);

    impl Kernel for Passes {
        type Output = Vec<u64>;
        fn run<L: Lanes>(self, l: L) -> Vec<u64> {
            let x = self.0;
            let n = x.len();
            let layout = Layout::new(1, n, 0.9).expect("segments");
            let mut rsi_out = vec![0.0; n];
            let rsi_ends = RsiSegments {
                x: &x,
                layout,
                gain: 1.0,
                total: 2.0,
                a: 0.9,
                out: &mut rsi_out,
            }
            .run(l);
            let mut outs = vec![vec![0.0; n]; 3];
            let [m, s, h] = &mut outs[..] else {
                unreachable!()
            };
            let macd_ends = MacdSegments {
                x: &x,
                layout,
                lines: MacdLines {
                    fast: (100.0, 0.1),
                    slow: (99.0, 0.05),
                    signal: (0.3, 0.2),
                },
                outs: [m, s, h],
            }
            .run(l);
            let values = rsi_out.iter().chain(outs.iter().flatten());
            let ends = rsi_ends.iter().chain(macd_ends.iter()).flatten();
            values.chain(ends).map(|v| v.to_bits()).collect()
        }
    }

    #[test]
    fn every_lane_implementation_gives_the_same_bits() {
        let mut x = walk(40_011, 2);
        let level = x[8999];
        x[9000..9100].fill(level);
        let outs = lanes::run_each(Passes(x));
        assert!(outs.len() >= 2);
        for other in &outs[1..] {
            assert!(&outs[0] == other);
        }
    }

    #[test]
    fn short_series_and_slow_recurrences_keep_the_row_scan() {
        assert!(Layout::new(1, 10_000, 0.5).is_none());
        assert!(Layout::new(1, 100_000, 0.5).is_some());
        // A 2000-period Wilder sum needs a head of ~85,000 values.
        assert!(Layout::new(1, 100_000, 1999.0 / 2000.0).is_none());
    }

    #[test]
    fn transposes_move_every_lane_and_nothing_else() {
        #[derive(Clone)]
        struct T;
        impl Kernel for T {
            type Output = Vec<f64>;
            fn run<L: Lanes>(self, l: L) -> Vec<f64> {
                let x: Vec<f64> = (0..64).map(f64::from).collect();
                let mut rows = [l.splat(0.0); ROW];
                for (j, row) in rows.iter_mut().enumerate() {
                    *row = l.load(&x, 8 * j);
                }
                l.transpose(rows)
                    .iter()
                    .flat_map(|v| l.to_array(*v))
                    .collect()
            }
        }
        for got in lanes::run_each(T) {
            let want: Vec<f64> = (0..64).map(|k| ((k % 8) * 8 + k / 8) as f64).collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn rows_at_a_stride_load_transposed_and_store_back_in_place() {
        const AT: usize = 3;
        const STRIDE: usize = 13;
        const LEN: usize = AT + 7 * STRIDE + ROW + 5;
        #[derive(Clone)]
        struct T;
        impl Kernel for T {
            type Output = (Vec<f64>, Vec<f64>);
            fn run<L: Lanes>(self, l: L) -> (Vec<f64>, Vec<f64>) {
                let x: Vec<f64> = (0..LEN).map(|i| i as f64).collect();
                let steps = l.load_transposed(&x, AT, STRIDE);
                let mut out = vec![-1.0; LEN];
                l.store_transposed(steps, &mut out, AT, STRIDE);
                (steps.iter().flat_map(|v| l.to_array(*v)).collect(), out)
            }
        }
        for (steps, out) in lanes::run_each(T) {
            // Lane j of step k: value k of row j.
            let want: Vec<f64> = (0..64).map(|i| (AT + (i % 8) * STRIDE + i / 8) as f64).collect();
            assert_eq!(steps, want);
            for (i, v) in out.iter().enumerate() {
                let in_a_row = i >= AT && (i - AT) % STRIDE < ROW && (i - AT) / STRIDE < ROW;
                assert_eq!(*v, if in_a_row { i as f64 } else { -1.0 }, "at {i}");
            }
        }
    }
}
