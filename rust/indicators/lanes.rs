//! Eight `f64` lanes and the operations the block kernels are written in:
//! the rolling sums of SMA and Bollinger (`rolling.rs`) and the recurrences
//! of EMA, MACD, RSI and ATR (`scan.rs`). Implemented four times: on plain
//! arrays (`Portable`: any CPU, and the reference the tests compare the
//! others with), with SSE2 intrinsics (`Sse2`, four 128-bit registers: every
//! x86-64 CPU, the baseline level), AVX2 (`Avx2`, two 256-bit registers: the
//! FMA level) and AVX-512 (`Avx512`, one 512-bit register).
//!
//! Why intrinsics: the kernels need lane shifts (the prefix sum of the
//! rolling sums, the shifts that borrow lanes from the previous row in the
//! recurrences). Written on arrays, the compiler turns them into long shuffle
//! sequences or scalar code and the kernels run at a third of the speed.
//!
//! Every implementation performs the same IEEE operations on the same values
//! in the same order (adds, subtracts, multiplies, divides, square roots,
//! comparisons and moves; never a fused multiply-add or an approximation),
//! so every CPU level gives the same bits; the unit tests compare them.
//
// Besides `cpu.rs` and `fused.rs`, the one `unsafe` outside the C layer: the
// intrinsics and the unaligned loads and stores (each within a slice of
// eight), and the calls into the copies compiled for a CPU level. SSE2 is
// part of x86-64; an `Avx2` or `Avx512` value is made only by its `detect`,
// after the CPU was seen to have the features, so holding one proves that
// its intrinsics are sound.
#![allow(unsafe_code)]

#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::*;

use super::cpu::{self, Level};

/// Values per row of lanes.
pub(crate) const ROW: usize = 8;

/// Eight lanes of `f64` and the operations on them. Every method is
/// `#[inline(always)]` so that a kernel generic over `Lanes` compiles into
/// straight-line vector code inside the `#[target_feature]` function that
/// runs it (`run`).
pub(crate) trait Lanes: Copy {
    type V: Copy;
    /// `x[at..at + 8]`.
    fn load(self, x: &[f64], at: usize) -> Self::V;
    /// Into `out[at..at + 8]`.
    fn store(self, v: Self::V, out: &mut [f64], at: usize);
    fn splat(self, a: f64) -> Self::V;
    fn add(self, a: Self::V, b: Self::V) -> Self::V;
    fn sub(self, a: Self::V, b: Self::V) -> Self::V;
    fn mul(self, a: Self::V, b: Self::V) -> Self::V;
    fn div(self, a: Self::V, b: Self::V) -> Self::V;
    fn abs(self, a: Self::V) -> Self::V;
    fn sqrt(self, a: Self::V) -> Self::V;
    /// `if a > b { a } else { b }` per lane (x86's `max(a, b)`: a NaN `a`
    /// gives `b`, a NaN `b` gives `b`).
    fn max(self, a: Self::V, b: Self::V) -> Self::V;
    /// `if a < b { a } else { b }` per lane.
    fn min(self, a: Self::V, b: Self::V) -> Self::V;
    /// Per lane `if s > 0 { a } else { 0.0 }`.
    fn where_positive(self, a: Self::V, s: Self::V) -> Self::V;
    /// `cur` moved one lane up, its first lane the last of `prev`: the
    /// values one step before each lane's.
    fn shift1(self, prev: Self::V, cur: Self::V) -> Self::V;
    /// As `shift1`, two lanes.
    fn shift2(self, prev: Self::V, cur: Self::V) -> Self::V;
    /// As `shift1`, four lanes.
    fn shift4(self, prev: Self::V, cur: Self::V) -> Self::V;
    /// Inclusive prefix sum, as two four-lane Hillis-Steele scans
    /// (`scan4`) with the low half's total then added to the high half.
    fn scan(self, a: Self::V) -> Self::V;
    /// Lane 7 in every lane.
    fn splat_last(self, a: Self::V) -> Self::V;
    /// Lane 7.
    fn last(self, a: Self::V) -> f64;
    fn to_array(self, a: Self::V) -> [f64; ROW];
    /// The 8x8 transpose: lane `j` of row `i` becomes lane `i` of row `j`
    /// (the segmented scans turn eight rows of consecutive values, one per
    /// segment, into eight steps of the eight segments, and back).
    fn transpose(self, rows: [Self::V; ROW]) -> [Self::V; ROW];
    /// The rows `x[at + j*stride..][..8]` (`j` in `0..8`), transposed: step
    /// `k` of the result holds value `k` of each row.
    #[inline(always)]
    fn load_transposed(self, x: &[f64], at: usize, stride: usize) -> [Self::V; ROW] {
        let mut rows = [self.splat(0.0); ROW];
        for (j, row) in rows.iter_mut().enumerate() {
            *row = self.load(x, at + j * stride);
        }
        self.transpose(rows)
    }
    /// The inverse of `load_transposed`: value `k` of row `j`, written to
    /// `out[at + j*stride + k]`, is lane `j` of `steps[k]`.
    #[inline(always)]
    fn store_transposed(self, steps: [Self::V; ROW], out: &mut [f64], at: usize, stride: usize) {
        for (j, row) in self.transpose(steps).into_iter().enumerate() {
            self.store(row, out, at + j * stride);
        }
    }
    /// Whether `stream_line` writes around the caches (see `RowWriter`).
    const STREAMS: bool = false;
    /// Lanes `8 - m..8` of `prev`, then lanes `0..8 - m` of `cur` (`m` below
    /// 8): eight consecutive values that start `m` before `cur`'s.
    #[inline(always)]
    fn realign(self, prev: Self::V, cur: Self::V, m: usize) -> Self::V {
        let (prev, cur) = (self.to_array(prev), self.to_array(cur));
        let mut r = [0.0; 2 * ROW];
        r[..ROW].copy_from_slice(&prev);
        r[ROW..].copy_from_slice(&cur);
        self.load(&r, ROW - m)
    }
    /// Into `out[at..at + 8]`, which starts on a 64-byte line: a
    /// non-temporal store where `STREAMS`, else `store`.
    #[inline(always)]
    fn stream_line(self, v: Self::V, out: &mut [f64], at: usize) {
        self.store(v, out, at)
    }
    /// Orders the non-temporal stores made so far before any later store.
    #[inline(always)]
    fn fence(self) {}
}

/// Asks for the line holding `x[at]` to be brought into the outer caches
/// ahead of its use (x86's `prefetcht2`); nothing on other CPUs. `at` may lie
/// past the end of `x`.
#[inline(always)]
pub(crate) fn prefetch(x: &[f64], at: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint that never faults, whatever the address;
    // the pointer is never dereferenced.
    unsafe {
        _mm_prefetch::<_MM_HINT_T2>(x.as_ptr().wrapping_add(at) as *const i8)
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (x, at);
}

/// Values from the start of the 64-byte line `out` starts in to `out`.
#[inline(always)]
pub(crate) fn misalign(out: &[f64]) -> usize {
    (out.as_ptr() as usize % (ROW * std::mem::size_of::<f64>())) / std::mem::size_of::<f64>()
}

/// Rows of eight values written in order to one output, stored as they are
/// or (`STREAMING`) as whole 64-byte lines with non-temporal stores, on
/// lanes that have them (`Lanes::STREAMS`). A constant, so that a writer
/// that does not stream is a plain store.
///
/// Why stream: once a call's arrays are more than the last-level cache
/// holds, ordinary stores first read each output line into the cache and
/// push out the lines the next call reads first, so every call reads its
/// inputs from memory again. Non-temporal stores skip that read and leave
/// the cache to the inputs. They are limited by the memory's write
/// bandwidth, so they pay only where the outputs are a small part of the
/// traffic (see `atr::STREAM_FROM_BYTES`).
///
/// Rows start where the recurrence's rows start, which is rarely at a line,
/// so each line is the end of one row and the start of the next
/// (`Lanes::realign`); the first row and the last are stored as they are,
/// covering the partial lines at both ends. Where the rows start, and so
/// every value, does not depend on the output's address.
pub(crate) struct RowWriter<L: Lanes, const STREAMING: bool> {
    /// Values from the line start before the first row to that row.
    m: usize,
    /// The last row, once there is one.
    prev: L::V,
    started: bool,
}

impl<L: Lanes, const STREAMING: bool> RowWriter<L, STREAMING> {
    /// Whether the writes go around the caches.
    const STREAMS: bool = STREAMING && L::STREAMS;

    /// A writer for rows at `out[0..]`, `out[8..]`, ...
    #[inline(always)]
    pub(crate) fn new(l: L, out: &[f64]) -> Self {
        RowWriter {
            m: misalign(out),
            prev: l.splat(0.0),
            started: false,
        }
    }

    /// Writes the row `v` at `out[at..at + 8]`; rows come in order, `at`
    /// counting by eight from 0.
    #[inline(always)]
    pub(crate) fn put(&mut self, l: L, v: L::V, out: &mut [f64], at: usize) {
        if Self::STREAMS && self.started {
            l.stream_line(l.realign(self.prev, v, self.m), out, at - self.m);
        } else {
            l.store(v, out, at);
        }
        self.prev = v;
        self.started = true;
    }

    /// After the last row (at `out[at..at + 8]`): its values after the last
    /// whole line, and the fence.
    #[inline(always)]
    pub(crate) fn finish(self, l: L, out: &mut [f64], at: usize) {
        if Self::STREAMS && self.started {
            l.store(self.prev, out, at);
            l.fence();
        }
    }
}

/// A kernel generic over the lanes it runs on.
pub(crate) trait Kernel {
    type Output;
    /// The widest lanes worth running this kernel on, as the CPU level that
    /// brings them (`Fma`: AVX2 lanes). `run` takes the lower of this and
    /// `cpu::level()`.
    const WIDEST: Level = Level::Avx512;
    fn run<L: Lanes>(self, lanes: L) -> Self::Output;
}

/// Runs `kernel` on the lanes of the process's CPU level (`cpu::level()`,
/// which `PYRT_CPU` can lower), capped at the kernel's `WIDEST`, compiled
/// with that level's instructions.
#[inline]
pub(crate) fn run<K: Kernel>(kernel: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    match cpu::level().min(K::WIDEST) {
        Level::Avx512 => {
            if let Some(lanes) = Avx512::detect() {
                // SAFETY: `Avx512::detect` returned a value, so the CPU has
                // the features `run_avx512` is compiled for.
                return unsafe { run_avx512(kernel, lanes) };
            }
        }
        Level::Fma => {
            if let Some(lanes) = Avx2::detect() {
                // SAFETY: `Avx2::detect` returned a value, so the CPU has
                // AVX2 and FMA.
                return unsafe { run_avx2(kernel, lanes) };
            }
        }
        Level::Baseline => {}
    }
    #[cfg(target_arch = "x86_64")]
    return kernel.run(Sse2);
    #[cfg(not(target_arch = "x86_64"))]
    kernel.run(Portable)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma,avx2")]
unsafe fn run_avx2<K: Kernel>(kernel: K, lanes: Avx2) -> K::Output {
    kernel.run(lanes)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")]
unsafe fn run_avx512<K: Kernel>(kernel: K, lanes: Avx512) -> K::Output {
    kernel.run(lanes)
}

/// `kernel` on every lane implementation this CPU has, whatever its level
/// and `WIDEST`, for tests that compare their bits.
#[cfg(test)]
pub(crate) fn run_each<K: Kernel + Clone>(kernel: K) -> Vec<K::Output> {
    let mut outs = vec![kernel.clone().run(Portable)];
    #[cfg(target_arch = "x86_64")]
    {
        outs.push(kernel.clone().run(Sse2));
        if let Some(lanes) = Avx2::detect() {
            // SAFETY: as in `run`.
            outs.push(unsafe { run_avx2(kernel.clone(), lanes) });
        }
        if let Some(lanes) = Avx512::detect() {
            // SAFETY: as in `run`.
            outs.push(unsafe { run_avx512(kernel, lanes) });
        }
    }
    outs
}

/// Plain arrays: what CPUs other than x86-64 run, and the reference the
/// tests compare the intrinsics with.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[derive(Clone, Copy)]
pub(crate) struct Portable;

/// The four-lane scan all implementations share: add the lanes shifted by
/// one (a zero shifted in), then by two.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn scan4(p: [f64; 4]) -> [f64; 4] {
    let q = [p[0] + 0.0, p[1] + p[0], p[2] + p[1], p[3] + p[2]];
    [q[0] + 0.0, q[1] + 0.0, q[2] + q[0], q[3] + q[1]]
}

#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn zip8(a: [f64; ROW], b: [f64; ROW], f: impl Fn(f64, f64) -> f64) -> [f64; ROW] {
    let mut r = [0.0; ROW];
    for j in 0..ROW {
        r[j] = f(a[j], b[j]);
    }
    r
}

#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn shift_array<const S: usize>(prev: [f64; ROW], cur: [f64; ROW]) -> [f64; ROW] {
    let mut r = [0.0; ROW];
    for j in 0..ROW {
        r[j] = if j < S { prev[ROW - S + j] } else { cur[j - S] };
    }
    r
}

impl Lanes for Portable {
    type V = [f64; ROW];
    #[inline(always)]
    fn load(self, x: &[f64], at: usize) -> [f64; ROW] {
        let mut v = [0.0; ROW];
        v.copy_from_slice(&x[at..at + ROW]);
        v
    }
    #[inline(always)]
    fn store(self, v: [f64; ROW], out: &mut [f64], at: usize) {
        out[at..at + ROW].copy_from_slice(&v);
    }
    #[inline(always)]
    fn splat(self, a: f64) -> [f64; ROW] {
        [a; ROW]
    }
    #[inline(always)]
    fn add(self, a: [f64; ROW], b: [f64; ROW]) -> [f64; ROW] {
        zip8(a, b, |x, y| x + y)
    }
    #[inline(always)]
    fn sub(self, a: [f64; ROW], b: [f64; ROW]) -> [f64; ROW] {
        zip8(a, b, |x, y| x - y)
    }
    #[inline(always)]
    fn mul(self, a: [f64; ROW], b: [f64; ROW]) -> [f64; ROW] {
        zip8(a, b, |x, y| x * y)
    }
    #[inline(always)]
    fn div(self, a: [f64; ROW], b: [f64; ROW]) -> [f64; ROW] {
        zip8(a, b, |x, y| x / y)
    }
    #[inline(always)]
    fn abs(self, a: [f64; ROW]) -> [f64; ROW] {
        zip8(a, a, |x, _| x.abs())
    }
    #[inline(always)]
    fn sqrt(self, a: [f64; ROW]) -> [f64; ROW] {
        zip8(a, a, |x, _| x.sqrt())
    }
    #[inline(always)]
    fn max(self, a: [f64; ROW], b: [f64; ROW]) -> [f64; ROW] {
        zip8(a, b, |x, y| if x > y { x } else { y })
    }
    #[inline(always)]
    fn min(self, a: [f64; ROW], b: [f64; ROW]) -> [f64; ROW] {
        zip8(a, b, |x, y| if x < y { x } else { y })
    }
    #[inline(always)]
    fn where_positive(self, a: [f64; ROW], s: [f64; ROW]) -> [f64; ROW] {
        zip8(a, s, |x, s| if s > 0.0 { x } else { 0.0 })
    }
    #[inline(always)]
    fn shift1(self, prev: [f64; ROW], cur: [f64; ROW]) -> [f64; ROW] {
        shift_array::<1>(prev, cur)
    }
    #[inline(always)]
    fn shift2(self, prev: [f64; ROW], cur: [f64; ROW]) -> [f64; ROW] {
        shift_array::<2>(prev, cur)
    }
    #[inline(always)]
    fn shift4(self, prev: [f64; ROW], cur: [f64; ROW]) -> [f64; ROW] {
        shift_array::<4>(prev, cur)
    }
    #[inline(always)]
    fn scan(self, a: [f64; ROW]) -> [f64; ROW] {
        let lo = scan4([a[0], a[1], a[2], a[3]]);
        let hi = scan4([a[4], a[5], a[6], a[7]]);
        let t = lo[3];
        [
            lo[0],
            lo[1],
            lo[2],
            lo[3],
            hi[0] + t,
            hi[1] + t,
            hi[2] + t,
            hi[3] + t,
        ]
    }
    #[inline(always)]
    fn splat_last(self, a: [f64; ROW]) -> [f64; ROW] {
        [a[7]; ROW]
    }
    #[inline(always)]
    fn last(self, a: [f64; ROW]) -> f64 {
        a[7]
    }
    #[inline(always)]
    fn to_array(self, a: [f64; ROW]) -> [f64; ROW] {
        a
    }
    #[inline(always)]
    fn transpose(self, rows: [[f64; ROW]; ROW]) -> [[f64; ROW]; ROW] {
        std::array::from_fn(|j| std::array::from_fn(|i| rows[i][j]))
    }
}

/// SSE2 lanes: four 128-bit registers (lanes 0-1, 2-3, 4-5, 6-7). SSE2 is
/// part of x86-64, so these need no detection.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct Sse2;

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct Quad([__m128d; 4]);

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn quad(f: impl Fn(usize) -> __m128d) -> Quad {
    Quad([f(0), f(1), f(2), f(3)])
}

/// `scan4` on the register pair `(a, b)` = `[p0, p1], [p2, p3]`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn scan4_sse2(a: __m128d, b: __m128d) -> (__m128d, __m128d) {
    // SAFETY: SSE2 is part of x86-64.
    unsafe {
        let zero = _mm_setzero_pd();
        // + [0, p0], [p1, p2]
        let qa = _mm_add_pd(a, _mm_unpacklo_pd(zero, a));
        let qb = _mm_add_pd(b, _mm_shuffle_pd::<0b01>(a, b));
        // + [0, 0], [q0, q1]
        (_mm_add_pd(qa, zero), _mm_add_pd(qb, qa))
    }
}

// SAFETY (every `unsafe` in this impl): SSE2 is part of x86-64, and the
// loads and stores stay within the slice of eight taken first.
#[cfg(target_arch = "x86_64")]
impl Lanes for Sse2 {
    type V = Quad;
    #[inline(always)]
    fn load(self, x: &[f64], at: usize) -> Quad {
        let x = &x[at..at + ROW];
        quad(|k| unsafe { _mm_loadu_pd(x.as_ptr().add(2 * k)) })
    }
    #[inline(always)]
    fn store(self, v: Quad, out: &mut [f64], at: usize) {
        let out = &mut out[at..at + ROW];
        for k in 0..4 {
            unsafe { _mm_storeu_pd(out.as_mut_ptr().add(2 * k), v.0[k]) }
        }
    }
    #[inline(always)]
    fn splat(self, a: f64) -> Quad {
        quad(|_| unsafe { _mm_set1_pd(a) })
    }
    #[inline(always)]
    fn add(self, a: Quad, b: Quad) -> Quad {
        quad(|k| unsafe { _mm_add_pd(a.0[k], b.0[k]) })
    }
    #[inline(always)]
    fn sub(self, a: Quad, b: Quad) -> Quad {
        quad(|k| unsafe { _mm_sub_pd(a.0[k], b.0[k]) })
    }
    #[inline(always)]
    fn mul(self, a: Quad, b: Quad) -> Quad {
        quad(|k| unsafe { _mm_mul_pd(a.0[k], b.0[k]) })
    }
    #[inline(always)]
    fn div(self, a: Quad, b: Quad) -> Quad {
        quad(|k| unsafe { _mm_div_pd(a.0[k], b.0[k]) })
    }
    #[inline(always)]
    fn abs(self, a: Quad) -> Quad {
        quad(|k| unsafe { _mm_andnot_pd(_mm_set1_pd(-0.0), a.0[k]) })
    }
    #[inline(always)]
    fn sqrt(self, a: Quad) -> Quad {
        quad(|k| unsafe { _mm_sqrt_pd(a.0[k]) })
    }
    #[inline(always)]
    fn max(self, a: Quad, b: Quad) -> Quad {
        // maxpd(a, b) is `a > b ? a : b`, as the portable lanes.
        quad(|k| unsafe { _mm_max_pd(a.0[k], b.0[k]) })
    }
    #[inline(always)]
    fn min(self, a: Quad, b: Quad) -> Quad {
        quad(|k| unsafe { _mm_min_pd(a.0[k], b.0[k]) })
    }
    #[inline(always)]
    fn where_positive(self, a: Quad, s: Quad) -> Quad {
        quad(|k| unsafe { _mm_and_pd(_mm_cmpgt_pd(s.0[k], _mm_setzero_pd()), a.0[k]) })
    }
    #[inline(always)]
    fn shift1(self, prev: Quad, cur: Quad) -> Quad {
        // [a1, b0] of neighbouring pairs.
        let (p, c) = (prev.0, cur.0);
        unsafe {
            Quad([
                _mm_shuffle_pd::<0b01>(p[3], c[0]),
                _mm_shuffle_pd::<0b01>(c[0], c[1]),
                _mm_shuffle_pd::<0b01>(c[1], c[2]),
                _mm_shuffle_pd::<0b01>(c[2], c[3]),
            ])
        }
    }
    #[inline(always)]
    fn shift2(self, prev: Quad, cur: Quad) -> Quad {
        let (p, c) = (prev.0, cur.0);
        Quad([p[3], c[0], c[1], c[2]])
    }
    #[inline(always)]
    fn shift4(self, prev: Quad, cur: Quad) -> Quad {
        let (p, c) = (prev.0, cur.0);
        Quad([p[2], p[3], c[0], c[1]])
    }
    #[inline(always)]
    fn scan(self, a: Quad) -> Quad {
        let [a0, a1, a2, a3] = a.0;
        let (l0, l1) = scan4_sse2(a0, a1);
        let (h0, h1) = scan4_sse2(a2, a3);
        unsafe {
            let t = _mm_unpackhi_pd(l1, l1);
            Quad([l0, l1, _mm_add_pd(h0, t), _mm_add_pd(h1, t)])
        }
    }
    #[inline(always)]
    fn splat_last(self, a: Quad) -> Quad {
        let t = unsafe { _mm_unpackhi_pd(a.0[3], a.0[3]) };
        Quad([t; 4])
    }
    #[inline(always)]
    fn last(self, a: Quad) -> f64 {
        unsafe { _mm_cvtsd_f64(_mm_unpackhi_pd(a.0[3], a.0[3])) }
    }
    #[inline(always)]
    fn to_array(self, a: Quad) -> [f64; ROW] {
        let mut r = [0.0; ROW];
        self.store(a, &mut r, 0);
        r
    }
    #[inline(always)]
    fn transpose(self, rows: [Quad; ROW]) -> [Quad; ROW] {
        // Row j's register p holds lanes (2p, 2p+1) of step j: lane j of
        // rows 2p and 2p+1, which sit in register j/2 of those rows.
        let mut out = rows;
        for j in 0..ROW {
            for p in 0..4 {
                let (a, b) = (rows[2 * p].0[j / 2], rows[2 * p + 1].0[j / 2]);
                out[j].0[p] = unsafe {
                    if j % 2 == 0 {
                        _mm_unpacklo_pd(a, b)
                    } else {
                        _mm_unpackhi_pd(a, b)
                    }
                };
            }
        }
        out
    }
}

/// AVX2 lanes: two 256-bit registers. A value of this type proves that the
/// CPU has AVX2 and FMA (it is only made by `detect`).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct Avx2(());

#[cfg(target_arch = "x86_64")]
impl Avx2 {
    fn detect() -> Option<Self> {
        let has = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
        has.then_some(Avx2(()))
    }
}

/// Lanes 0-3 and 4-7.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct Pair(__m256d, __m256d);

#[cfg(target_arch = "x86_64")]
macro_rules! halves {
    ($op:ident, $a:expr, $b:expr) => {{
        let (a, b) = ($a, $b);
        // SAFETY: an `Avx2` value exists, so the CPU has AVX2.
        unsafe { Pair($op(a.0, b.0), $op(a.1, b.1)) }
    }};
}

/// `scan4` on one register: `[0, 0, p0, p1]` is one lane permute,
/// `[0, p0, p1, p2]` a shuffle of that with `p`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn scan4_avx2(p: __m256d) -> __m256d {
    let by_two = _mm256_permute2f128_pd::<0x08>(p, p);
    let by_one = _mm256_shuffle_pd::<0b0101>(by_two, p);
    let q = _mm256_add_pd(p, by_one);
    _mm256_add_pd(q, _mm256_permute2f128_pd::<0x08>(q, q))
}

/// `[p3, c0, c1, c2]`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn up1_avx2(p: __m256d, c: __m256d) -> __m256d {
    let mid = _mm256_permute2f128_pd::<0x21>(p, c); // [p2, p3, c0, c1]
    _mm256_shuffle_pd::<0b0101>(mid, c)
}

/// `[p2, p3, c0, c1]`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn up2_avx2(p: __m256d, c: __m256d) -> __m256d {
    _mm256_permute2f128_pd::<0x21>(p, c)
}

/// The AVX2 prefix sum of eight lanes (`Lanes::scan`), shared with the
/// AVX-512 lanes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn scan_avx2(lo: __m256d, hi: __m256d) -> (__m256d, __m256d) {
    let lo = scan4_avx2(lo);
    let hi = scan4_avx2(hi);
    (lo, _mm256_add_pd(hi, _mm256_permute4x64_pd::<0xFF>(lo)))
}

/// The 4x4 transpose of the rows `a, b, c, d`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn transpose4_avx2(a: __m256d, b: __m256d, c: __m256d, d: __m256d) -> [__m256d; 4] {
    // [a0 b0 a2 b2], [a1 b1 a3 b3], [c0 d0 c2 d2], [c1 d1 c3 d3]
    let (ab0, ab1) = (_mm256_unpacklo_pd(a, b), _mm256_unpackhi_pd(a, b));
    let (cd0, cd1) = (_mm256_unpacklo_pd(c, d), _mm256_unpackhi_pd(c, d));
    [
        _mm256_permute2f128_pd::<0x20>(ab0, cd0),
        _mm256_permute2f128_pd::<0x20>(ab1, cd1),
        _mm256_permute2f128_pd::<0x31>(ab0, cd0),
        _mm256_permute2f128_pd::<0x31>(ab1, cd1),
    ]
}

// SAFETY (every `unsafe` in this impl): an `Avx2` value exists, so the CPU
// has AVX2; the loads and stores stay within the slice of eight taken first.
#[cfg(target_arch = "x86_64")]
impl Lanes for Avx2 {
    type V = Pair;
    #[inline(always)]
    fn load(self, x: &[f64], at: usize) -> Pair {
        let x = &x[at..at + ROW];
        unsafe {
            Pair(
                _mm256_loadu_pd(x.as_ptr()),
                _mm256_loadu_pd(x.as_ptr().add(4)),
            )
        }
    }
    #[inline(always)]
    fn store(self, v: Pair, out: &mut [f64], at: usize) {
        let out = &mut out[at..at + ROW];
        unsafe {
            _mm256_storeu_pd(out.as_mut_ptr(), v.0);
            _mm256_storeu_pd(out.as_mut_ptr().add(4), v.1);
        }
    }
    #[inline(always)]
    fn splat(self, a: f64) -> Pair {
        unsafe { Pair(_mm256_set1_pd(a), _mm256_set1_pd(a)) }
    }
    #[inline(always)]
    fn add(self, a: Pair, b: Pair) -> Pair {
        halves!(_mm256_add_pd, a, b)
    }
    #[inline(always)]
    fn sub(self, a: Pair, b: Pair) -> Pair {
        halves!(_mm256_sub_pd, a, b)
    }
    #[inline(always)]
    fn mul(self, a: Pair, b: Pair) -> Pair {
        halves!(_mm256_mul_pd, a, b)
    }
    #[inline(always)]
    fn div(self, a: Pair, b: Pair) -> Pair {
        halves!(_mm256_div_pd, a, b)
    }
    #[inline(always)]
    fn abs(self, a: Pair) -> Pair {
        let sign = self.splat(-0.0);
        halves!(_mm256_andnot_pd, sign, a)
    }
    #[inline(always)]
    fn sqrt(self, a: Pair) -> Pair {
        unsafe { Pair(_mm256_sqrt_pd(a.0), _mm256_sqrt_pd(a.1)) }
    }
    #[inline(always)]
    fn max(self, a: Pair, b: Pair) -> Pair {
        // maxpd(a, b) is `a > b ? a : b`, as the portable lanes.
        halves!(_mm256_max_pd, a, b)
    }
    #[inline(always)]
    fn min(self, a: Pair, b: Pair) -> Pair {
        halves!(_mm256_min_pd, a, b)
    }
    #[inline(always)]
    fn where_positive(self, a: Pair, s: Pair) -> Pair {
        unsafe {
            let zero = _mm256_setzero_pd();
            let m0 = _mm256_cmp_pd::<_CMP_GT_OQ>(s.0, zero);
            let m1 = _mm256_cmp_pd::<_CMP_GT_OQ>(s.1, zero);
            Pair(_mm256_and_pd(m0, a.0), _mm256_and_pd(m1, a.1))
        }
    }
    #[inline(always)]
    fn shift1(self, prev: Pair, cur: Pair) -> Pair {
        unsafe { Pair(up1_avx2(prev.1, cur.0), up1_avx2(cur.0, cur.1)) }
    }
    #[inline(always)]
    fn shift2(self, prev: Pair, cur: Pair) -> Pair {
        unsafe { Pair(up2_avx2(prev.1, cur.0), up2_avx2(cur.0, cur.1)) }
    }
    #[inline(always)]
    fn shift4(self, prev: Pair, cur: Pair) -> Pair {
        Pair(prev.1, cur.0)
    }
    #[inline(always)]
    fn scan(self, a: Pair) -> Pair {
        let (lo, hi) = unsafe { scan_avx2(a.0, a.1) };
        Pair(lo, hi)
    }
    #[inline(always)]
    fn splat_last(self, a: Pair) -> Pair {
        let t = unsafe { _mm256_permute4x64_pd::<0xFF>(a.1) };
        Pair(t, t)
    }
    #[inline(always)]
    fn last(self, a: Pair) -> f64 {
        unsafe {
            let top = _mm256_extractf128_pd::<1>(a.1);
            _mm_cvtsd_f64(_mm_unpackhi_pd(top, top))
        }
    }
    #[inline(always)]
    fn to_array(self, a: Pair) -> [f64; ROW] {
        let mut r = [0.0; ROW];
        self.store(a, &mut r, 0);
        r
    }
    #[inline(always)]
    fn transpose(self, rows: [Pair; ROW]) -> [Pair; ROW] {
        // Four 4x4 transposes: the low halves of rows 0-3 give the low
        // halves of rows 0-3, those of rows 4-7 their high halves, and the
        // high halves of the rows give rows 4-7. (No closures here or in
        // the other kernels' inner loops: a closure the compiler keeps out
        // of line would lose the AVX2 features of the code around it.)
        let r = rows;
        unsafe {
            let a = transpose4_avx2(r[0].0, r[1].0, r[2].0, r[3].0);
            let b = transpose4_avx2(r[4].0, r[5].0, r[6].0, r[7].0);
            let c = transpose4_avx2(r[0].1, r[1].1, r[2].1, r[3].1);
            let d = transpose4_avx2(r[4].1, r[5].1, r[6].1, r[7].1);
            [
                Pair(a[0], b[0]),
                Pair(a[1], b[1]),
                Pair(a[2], b[2]),
                Pair(a[3], b[3]),
                Pair(c[0], d[0]),
                Pair(c[1], d[1]),
                Pair(c[2], d[2]),
                Pair(c[3], d[3]),
            ]
        }
    }
}

/// AVX-512 lanes: one 512-bit register. A value of this type proves that
/// the CPU has AVX-512 F, VL, DQ and BW, AVX2 and FMA (`cpu::Level::Avx512`;
/// it is only made by `detect`).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct Avx512(());

#[cfg(target_arch = "x86_64")]
impl Avx512 {
    fn detect() -> Option<Self> {
        let has = std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512vl")
            && std::is_x86_feature_detected!("avx512dq")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma");
        has.then_some(Avx512(()))
    }
}

/// `prev` and `cur` as sixteen lanes, moved down by `$by`: lanes `by..8` of
/// `prev`, then lanes `0..8-by` of `cur` (valignq).
#[cfg(target_arch = "x86_64")]
macro_rules! align {
    ($prev:expr, $cur:expr, $by:literal) => {
        // SAFETY: an `Avx512` value exists, so the CPU has AVX-512 F.
        unsafe {
            _mm512_castsi512_pd(_mm512_alignr_epi64::<$by>(
                _mm512_castpd_si512($cur),
                _mm512_castpd_si512($prev),
            ))
        }
    };
}

/// The 4x4 transposes of the 256-bit halves of `a, b, c, d` (rows 0-3 of
/// a block in each half): `([t0, t1], [t2, t3])`, `t_k` holding value `k`
/// of the four rows in each half. The caller makes sure the CPU has
/// AVX-512 F.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn quarter_transpose(
    a: __m512d,
    b: __m512d,
    c: __m512d,
    d: __m512d,
) -> ([__m512d; 2], [__m512d; 2]) {
    let (ab0, ab1) = (_mm512_unpacklo_pd(a, b), _mm512_unpackhi_pd(a, b));
    let (cd0, cd1) = (_mm512_unpacklo_pd(c, d), _mm512_unpackhi_pd(c, d));
    // Within each half: the low 128 bits of both (values 0, 1), or the high.
    let lo = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0);
    let hi = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
    (
        [_mm512_permutex2var_pd(ab0, lo, cd0), _mm512_permutex2var_pd(ab1, lo, cd1)],
        [_mm512_permutex2var_pd(ab0, hi, cd0), _mm512_permutex2var_pd(ab1, hi, cd1)],
    )
}

// SAFETY (every `unsafe` in this impl): an `Avx512` value exists, so the CPU
// has AVX-512 F, VL, DQ and BW and AVX2; the loads and stores stay within
// the slice of eight taken first.
#[cfg(target_arch = "x86_64")]
impl Lanes for Avx512 {
    type V = __m512d;
    #[inline(always)]
    fn load(self, x: &[f64], at: usize) -> __m512d {
        let x = &x[at..at + ROW];
        unsafe { _mm512_loadu_pd(x.as_ptr()) }
    }
    #[inline(always)]
    fn store(self, v: __m512d, out: &mut [f64], at: usize) {
        let out = &mut out[at..at + ROW];
        unsafe { _mm512_storeu_pd(out.as_mut_ptr(), v) }
    }
    #[inline(always)]
    fn splat(self, a: f64) -> __m512d {
        unsafe { _mm512_set1_pd(a) }
    }
    #[inline(always)]
    fn add(self, a: __m512d, b: __m512d) -> __m512d {
        unsafe { _mm512_add_pd(a, b) }
    }
    #[inline(always)]
    fn sub(self, a: __m512d, b: __m512d) -> __m512d {
        unsafe { _mm512_sub_pd(a, b) }
    }
    #[inline(always)]
    fn mul(self, a: __m512d, b: __m512d) -> __m512d {
        unsafe { _mm512_mul_pd(a, b) }
    }
    #[inline(always)]
    fn div(self, a: __m512d, b: __m512d) -> __m512d {
        unsafe { _mm512_div_pd(a, b) }
    }
    #[inline(always)]
    fn abs(self, a: __m512d) -> __m512d {
        unsafe { _mm512_abs_pd(a) }
    }
    #[inline(always)]
    fn sqrt(self, a: __m512d) -> __m512d {
        unsafe { _mm512_sqrt_pd(a) }
    }
    #[inline(always)]
    fn max(self, a: __m512d, b: __m512d) -> __m512d {
        // vmaxpd(a, b) is `a > b ? a : b`, as the portable lanes.
        unsafe { _mm512_max_pd(a, b) }
    }
    #[inline(always)]
    fn min(self, a: __m512d, b: __m512d) -> __m512d {
        unsafe { _mm512_min_pd(a, b) }
    }
    #[inline(always)]
    fn where_positive(self, a: __m512d, s: __m512d) -> __m512d {
        unsafe {
            let m = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(s, _mm512_setzero_pd());
            _mm512_maskz_mov_pd(m, a)
        }
    }
    #[inline(always)]
    fn shift1(self, prev: __m512d, cur: __m512d) -> __m512d {
        align!(prev, cur, 7)
    }
    #[inline(always)]
    fn shift2(self, prev: __m512d, cur: __m512d) -> __m512d {
        align!(prev, cur, 6)
    }
    #[inline(always)]
    fn shift4(self, prev: __m512d, cur: __m512d) -> __m512d {
        align!(prev, cur, 4)
    }
    #[inline(always)]
    fn scan(self, a: __m512d) -> __m512d {
        // On the two 256-bit halves, exactly as the AVX2 lanes: no kernel
        // runs a prefix sum on 512-bit lanes (see `rolling.rs`).
        unsafe {
            let (lo, hi) = scan_avx2(_mm512_castpd512_pd256(a), _mm512_extractf64x4_pd::<1>(a));
            _mm512_insertf64x4::<1>(_mm512_castpd256_pd512(lo), hi)
        }
    }
    #[inline(always)]
    fn splat_last(self, a: __m512d) -> __m512d {
        unsafe { _mm512_permutexvar_pd(_mm512_set1_epi64(7), a) }
    }
    #[inline(always)]
    fn last(self, a: __m512d) -> f64 {
        unsafe {
            let top = _mm512_extractf64x2_pd::<3>(a);
            _mm_cvtsd_f64(_mm_unpackhi_pd(top, top))
        }
    }
    #[inline(always)]
    fn to_array(self, a: __m512d) -> [f64; ROW] {
        let mut r = [0.0; ROW];
        self.store(a, &mut r, 0);
        r
    }
    const STREAMS: bool = true;
    #[inline(always)]
    fn realign(self, prev: __m512d, cur: __m512d, m: usize) -> __m512d {
        // Lane j takes lane 8 - m + j of (prev, cur) as sixteen lanes.
        unsafe {
            let from = _mm512_add_epi64(_mm512_set1_epi64((ROW - m) as i64), _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0));
            _mm512_permutex2var_pd(prev, from, cur)
        }
    }
    #[inline(always)]
    fn stream_line(self, v: __m512d, out: &mut [f64], at: usize) {
        let out = &mut out[at..at + ROW];
        assert!(out.as_ptr() as usize % 64 == 0, "a streamed line starts on a line");
        unsafe { _mm512_stream_pd(out.as_mut_ptr(), v) }
    }
    #[inline(always)]
    fn fence(self) {
        unsafe { _mm_sfence() }
    }
    #[inline(always)]
    fn transpose(self, r: [__m512d; ROW]) -> [__m512d; ROW] {
        unsafe {
            // Pairs of rows interleaved: t[2p] holds lanes 0, 2, 4, 6 of
            // rows 2p and 2p+1 (alternating), t[2p+1] the odd lanes.
            let mut t = r;
            for p in 0..4 {
                t[2 * p] = _mm512_unpacklo_pd(r[2 * p], r[2 * p + 1]);
                t[2 * p + 1] = _mm512_unpackhi_pd(r[2 * p], r[2 * p + 1]);
            }
            // Then four rows: u[k] holds steps k and k+4 of rows 0-3, u[k+4]
            // those of rows 4-7.
            let lo = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0);
            let hi = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
            let mut u = t;
            for g in [0, 4] {
                u[g] = _mm512_permutex2var_pd(t[g], lo, t[g + 2]);
                u[g + 1] = _mm512_permutex2var_pd(t[g + 1], lo, t[g + 3]);
                u[g + 2] = _mm512_permutex2var_pd(t[g], hi, t[g + 2]);
                u[g + 3] = _mm512_permutex2var_pd(t[g + 1], hi, t[g + 3]);
            }
            // Join the 256-bit halves: step k from the low halves, step
            // k+4 from the high ones.
            let mut out = u;
            for k in 0..4 {
                out[k] = _mm512_shuffle_f64x2::<0x44>(u[k], u[k + 4]);
                out[k + 4] = _mm512_shuffle_f64x2::<0xEE>(u[k], u[k + 4]);
            }
            out
        }
    }

    /// The transpose's last stage, joining 256-bit halves, done by the
    /// loads: register `j` (`j < 4`) is loaded as the first halves of rows
    /// `j` and `j + 4`, register `j + 4` as their second halves, and two
    /// stages transpose 4x4 blocks within the halves. A shuffle less per
    /// row, which on a CPU running 512-bit shuffles at half rate (Zen 4)
    /// is most of what a segmented pass spends besides its arithmetic.
    #[inline(always)]
    fn load_transposed(self, x: &[f64], at: usize, stride: usize) -> [__m512d; ROW] {
        let x = &x[at..at + 7 * stride + ROW];
        // SAFETY: every row lies in `x` (sliced above); AVX-512F is there.
        unsafe {
            let p = x.as_ptr();
            let mut r = [_mm512_setzero_pd(); ROW];
            for j in 0..4 {
                let (a, b) = (p.add(j * stride), p.add((j + 4) * stride));
                for h in 0..2 {
                    let low = _mm512_castpd256_pd512(_mm256_loadu_pd(a.add(4 * h)));
                    r[j + 4 * h] = _mm512_insertf64x4::<1>(low, _mm256_loadu_pd(b.add(4 * h)));
                }
            }
            let mut steps = r;
            for g in [0, 4] {
                let (s0, s1) = quarter_transpose(r[g], r[g + 1], r[g + 2], r[g + 3]);
                steps[g..g + 4].copy_from_slice(&[s0[0], s0[1], s1[0], s1[1]]);
            }
            steps
        }
    }

    /// `load_transposed` backwards: 4x4 blocks within the halves, then each
    /// half stored to its row, the second as a masked 512-bit store (the
    /// lanes below it masked off) rather than an extract and a 256-bit
    /// store: 8% faster for RSI on Zen 4.
    #[inline(always)]
    fn store_transposed(self, steps: [__m512d; ROW], out: &mut [f64], at: usize, stride: usize) {
        let out = &mut out[at..at + 7 * stride + ROW];
        // SAFETY: every row lies in `out` (sliced above); AVX-512F is there.
        // The masked store writes only its lanes 4-7, the half inside a row;
        // masked-off lanes touch no memory.
        unsafe {
            let p = out.as_mut_ptr();
            for h in 0..2 {
                let g = 4 * h;
                let (s0, s1) = quarter_transpose(steps[g], steps[g + 1], steps[g + 2], steps[g + 3]);
                for (j, v) in [s0[0], s0[1], s1[0], s1[1]].into_iter().enumerate() {
                    _mm256_storeu_pd(p.add(j * stride + g), _mm512_castpd512_pd256(v));
                    _mm512_mask_storeu_pd(p.add((j + 4) * stride + g).wrapping_sub(4), 0xF0, v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation on the rows `x[16k..16k+8]`, `x[16k+8..16k+16]`, as
    /// bits.
    #[derive(Clone)]
    struct Ops {
        x: Vec<f64>,
        /// Any NaN counts as one.
        any_nan: bool,
    }

    impl Kernel for Ops {
        type Output = Vec<u64>;
        fn run<L: Lanes>(self, l: L) -> Vec<u64> {
            // Opaque inputs: the hardware computes, not the compiler's
            // constant folding (which makes 0/0 a NaN of the other sign).
            let x = std::hint::black_box(self.x);
            let mut out = Vec::new();
            for c in x.chunks_exact(2 * ROW) {
                let (a, b) = (l.load(c, 0), l.load(c, ROW));
                for v in [
                    l.add(a, b),
                    l.sub(a, b),
                    l.mul(a, b),
                    l.div(a, b),
                    l.abs(a),
                    l.sqrt(a),
                    l.max(a, b),
                    l.min(a, b),
                    l.where_positive(a, b),
                    l.shift1(a, b),
                    l.shift2(a, b),
                    l.shift4(a, b),
                    l.scan(a),
                    l.splat_last(b),
                    l.splat(l.last(a)),
                    l.realign(a, b, 0),
                    l.realign(a, b, 1),
                    l.realign(a, b, 3),
                    l.realign(a, b, 7),
                ] {
                    out.extend(l.to_array(v).iter().map(|x| {
                        if self.any_nan && x.is_nan() {
                            u64::MAX
                        } else {
                            x.to_bits()
                        }
                    }));
                }
            }
            out
        }
    }

    #[test]
    fn every_lane_implementation_gives_the_same_bits() {
        let mut x: Vec<f64> = (0..4096)
            .map(|i| ((i * 7919) % 1013) as f64 * 0.37 - 150.0 + (i as f64).sin() * 1e-7)
            .collect();
        x[17] = -0.0;
        x[18] = 0.0;
        x[40] = f64::NAN;
        x[41] = f64::INFINITY;
        x[60] = -f64::INFINITY;
        // Which operand's NaN payload an operation keeps is not part of the
        // contract (the compiler may swap the operands of a portable add).
        let outs = run_each(Ops { x, any_nan: true });
        assert_eq!(outs.len(), implementations());
        for other in &outs[1..] {
            assert_eq!(&outs[0], other);
        }
    }

    #[test]
    fn signed_zeros_nans_and_infinities_keep_their_exact_bits() {
        let a = [1.5, -0.0, f64::NAN, 3.0, -2.0, 1e300, f64::INFINITY, 0.0];
        let b = [0.1, 0.0, 2.0, f64::NAN, -2.5, 1e300, 1.0, -0.0];
        let x = [a, b].concat();
        let outs = run_each(Ops { x, any_nan: false });
        for other in &outs[1..] {
            assert_eq!(&outs[0], other);
        }
    }

    /// Rows `1.0, 2.0, ...` through a `RowWriter` into a buffer at every
    /// offset from a 64-byte line, streaming and not: the values written.
    #[derive(Clone)]
    struct Writes {
        rows: usize,
        streaming: bool,
    }

    impl Kernel for Writes {
        type Output = Vec<Vec<f64>>;
        fn run<L: Lanes>(self, l: L) -> Vec<Vec<f64>> {
            let n = self.rows * ROW;
            (0..ROW)
                .map(|m| {
                    // From a line start, guards around the output.
                    let mut buffer = vec![-1.0f64; (self.rows + 4) * ROW];
                    let line = (ROW - misalign(&buffer)) % ROW;
                    let flat = &mut buffer[line..line + (self.rows + 3) * ROW];
                    let skip = ROW + m;
                    let out = &mut flat[skip..skip + n];
                    assert_eq!(misalign(out), m);
                    if self.streaming {
                        write_rows(l, RowWriter::<L, true>::new(l, out), out);
                    } else {
                        write_rows(l, RowWriter::<L, false>::new(l, out), out);
                    }
                    flat.to_vec()
                })
                .collect()
        }
    }

    fn write_rows<L: Lanes, const S: bool>(l: L, mut writer: RowWriter<L, S>, out: &mut [f64]) {
        let rows = out.len() / ROW;
        for r in 0..rows {
            let row: Vec<f64> = (r * ROW..(r + 1) * ROW).map(|v| v as f64 + 1.0).collect();
            writer.put(l, l.load(&row, 0), out, r * ROW);
        }
        writer.finish(l, out, (rows - 1) * ROW);
    }

    #[test]
    fn row_writers_write_each_row_once_in_place_at_every_alignment() {
        for rows in [1, 2, 3, 9] {
            for streaming in [false, true] {
                for outs in run_each(Writes { rows, streaming }) {
                    for (m, flat) in outs.iter().enumerate() {
                        let skip = ROW + m;
                        let want: Vec<f64> = (0..flat.len())
                            .map(|i| {
                                if (skip..skip + rows * ROW).contains(&i) {
                                    (i - skip) as f64 + 1.0
                                } else {
                                    -1.0
                                }
                            })
                            .collect();
                        assert_eq!(flat, &want, "rows {rows}, streaming {streaming}, offset {m}");
                    }
                }
            }
        }
    }

    /// How many lane implementations this CPU runs: the portable ones, and
    /// on x86-64 the SSE2 ones and those of AVX2 and AVX-512 it has.
    fn implementations() -> usize {
        #[cfg(target_arch = "x86_64")]
        return 2 + Avx2::detect().is_some() as usize + Avx512::detect().is_some() as usize;
        #[cfg(not(target_arch = "x86_64"))]
        1
    }

    #[test]
    fn scan_is_the_prefix_sum_and_shifts_and_realign_borrow_from_the_previous_row() {
        let x: Vec<f64> = (1..=16).map(f64::from).collect();
        for got in run_each(Ops { x, any_nan: false }) {
            let row = |k: usize| -> Vec<f64> {
                got[8 * k..8 * k + 8]
                    .iter()
                    .map(|b| f64::from_bits(*b))
                    .collect()
            };
            assert_eq!(row(9), [8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0]);
            assert_eq!(row(10), [7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0]);
            assert_eq!(row(11), [5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0]);
            assert_eq!(row(12), [1.0, 3.0, 6.0, 10.0, 15.0, 21.0, 28.0, 36.0]);
            assert_eq!(row(13), [16.0; 8]);
            // `realign` by 0, 1, 3 and 7: eight values from `m` before `b`'s.
            for (k, m) in [0, 1, 3, 7].into_iter().enumerate() {
                let want: Vec<f64> = (0..ROW).map(|j| (ROW - m + j + 1) as f64).collect();
                assert_eq!(row(15 + k), want, "realign by {m}");
            }
        }
    }
}
