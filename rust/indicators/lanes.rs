//! Eight `f64` lanes and the operations the rolling-window kernels
//! (`rolling.rs`) are written in, implemented three times: on plain arrays
//! (any CPU), with SSE2 intrinsics (every x86-64 CPU: the baseline level)
//! and with AVX2 intrinsics (x86-64 CPUs that have them).
//!
//! The rolling sums need an in-register prefix sum (a scan) of eight
//! consecutive values. Written on arrays, the compiler's vectoriser turns
//! those lane shifts into long shuffle sequences and the kernel runs at a
//! third of the speed, so the SSE2 and AVX2 lanes spell the shuffles out.
//! All three perform the same IEEE operations on the same values in the
//! same order (adds, subtracts, multiplies, square roots, comparisons; never
//! a fused multiply-add), so every CPU gives the same bits; the unit tests
//! compare them.
//!
//! AVX-512 is not used: on the CPUs that have it here (AMD Zen 4) a 512-bit
//! operation runs as two 256-bit halves, and the 512-bit build of these
//! kernels measured no faster than this one.
//
// Besides `cpu.rs` and `fused.rs`, the one `unsafe` outside the C layer: the
// intrinsics (SSE2 ones are sound on every x86-64 CPU; AVX2 ones, and the
// call into the AVX2 build, only on a CPU that has AVX2: `Avx2` values exist
// only after that was checked) and the unaligned loads and stores, each
// within a slice of eight.
#![allow(unsafe_code)]

#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::*;

use super::cpu::{self, Level};

/// Eight lanes of `f64` and the operations on them. Every method is
/// `#[inline(always)]` so that a kernel generic over `Lanes` compiles into
/// straight-line vector code inside the `#[target_feature]` function that
/// runs it.
pub(crate) trait Lanes: Copy {
    type V: Copy;
    /// `x[..8]`.
    fn load(self, x: &[f64]) -> Self::V;
    /// Into `out[..8]`.
    fn store(self, v: Self::V, out: &mut [f64]);
    fn splat(self, a: f64) -> Self::V;
    fn add(self, a: Self::V, b: Self::V) -> Self::V;
    fn sub(self, a: Self::V, b: Self::V) -> Self::V;
    fn mul(self, a: Self::V, b: Self::V) -> Self::V;
    /// `if a > b { a } else { b }` per lane.
    fn max(self, a: Self::V, b: Self::V) -> Self::V;
    /// `if a < b { a } else { b }` per lane.
    fn min(self, a: Self::V, b: Self::V) -> Self::V;
    fn sqrt(self, a: Self::V) -> Self::V;
    /// Inclusive prefix sum, as two four-lane Hillis-Steele scans
    /// (`scan4`) with the low half's total then added to the high half.
    fn scan(self, a: Self::V) -> Self::V;
    /// Lane 7 in every lane.
    fn splat_last(self, a: Self::V) -> Self::V;
    /// Lane 7.
    fn last(self, a: Self::V) -> f64;
    fn to_array(self, a: Self::V) -> [f64; 8];
}

/// A kernel generic over the lanes it runs on.
pub(crate) trait Kernel {
    type Output;
    fn run<L: Lanes>(self, lanes: L) -> Self::Output;
}

/// Runs `kernel` on the widest lanes the process's CPU level allows
/// (`cpu::level()`; `PYRT_CPU=baseline` lowers it to SSE2 on x86-64).
#[inline]
pub(crate) fn run<K: Kernel>(kernel: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    if cpu::level() >= Level::Fma {
        if let Some(avx2) = Avx2::detect() {
            // SAFETY: `Avx2::detect` returned a value, so the CPU has AVX2.
            return unsafe { run_avx2(kernel, avx2) };
        }
    }
    #[cfg(target_arch = "x86_64")]
    return kernel.run(Sse2);
    #[cfg(not(target_arch = "x86_64"))]
    kernel.run(Portable)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_avx2<K: Kernel>(kernel: K, lanes: Avx2) -> K::Output {
    kernel.run(lanes)
}

/// Every lane implementation available on this CPU, for tests that compare
/// their bits.
#[cfg(test)]
pub(crate) fn run_each<K: Kernel + Clone>(kernel: K) -> Vec<K::Output> {
    let mut outs = vec![kernel.clone().run(Portable)];
    #[cfg(target_arch = "x86_64")]
    outs.push(kernel.clone().run(Sse2));
    #[cfg(target_arch = "x86_64")]
    if let Some(avx2) = Avx2::detect() {
        // SAFETY: as in `run`.
        outs.push(unsafe { run_avx2(kernel, avx2) });
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
fn zip8(a: [f64; 8], b: [f64; 8], f: impl Fn(f64, f64) -> f64) -> [f64; 8] {
    let mut r = [0.0; 8];
    for j in 0..8 {
        r[j] = f(a[j], b[j]);
    }
    r
}

impl Lanes for Portable {
    type V = [f64; 8];
    #[inline(always)]
    fn load(self, x: &[f64]) -> [f64; 8] {
        let mut v = [0.0; 8];
        v.copy_from_slice(&x[..8]);
        v
    }
    #[inline(always)]
    fn store(self, v: [f64; 8], out: &mut [f64]) {
        out[..8].copy_from_slice(&v);
    }
    #[inline(always)]
    fn splat(self, a: f64) -> [f64; 8] {
        [a; 8]
    }
    #[inline(always)]
    fn add(self, a: [f64; 8], b: [f64; 8]) -> [f64; 8] {
        zip8(a, b, |x, y| x + y)
    }
    #[inline(always)]
    fn sub(self, a: [f64; 8], b: [f64; 8]) -> [f64; 8] {
        zip8(a, b, |x, y| x - y)
    }
    #[inline(always)]
    fn mul(self, a: [f64; 8], b: [f64; 8]) -> [f64; 8] {
        zip8(a, b, |x, y| x * y)
    }
    #[inline(always)]
    fn max(self, a: [f64; 8], b: [f64; 8]) -> [f64; 8] {
        zip8(a, b, |x, y| if x > y { x } else { y })
    }
    #[inline(always)]
    fn min(self, a: [f64; 8], b: [f64; 8]) -> [f64; 8] {
        zip8(a, b, |x, y| if x < y { x } else { y })
    }
    #[inline(always)]
    fn sqrt(self, a: [f64; 8]) -> [f64; 8] {
        zip8(a, a, |x, _| x.sqrt())
    }
    #[inline(always)]
    fn scan(self, a: [f64; 8]) -> [f64; 8] {
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
    fn splat_last(self, a: [f64; 8]) -> [f64; 8] {
        [a[7]; 8]
    }
    #[inline(always)]
    fn last(self, a: [f64; 8]) -> f64 {
        a[7]
    }
    #[inline(always)]
    fn to_array(self, a: [f64; 8]) -> [f64; 8] {
        a
    }
}

/// SSE2 lanes: four 128-bit registers. SSE2 is part of x86-64, so these
/// need no detection.
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
    // SAFETY (here and in `Sse2`'s methods): SSE2 is part of x86-64.
    unsafe {
        let zero = _mm_setzero_pd();
        // + [0, p0], [p1, p2]
        let qa = _mm_add_pd(a, _mm_unpacklo_pd(zero, a));
        let qb = _mm_add_pd(b, _mm_shuffle_pd::<0b01>(a, b));
        // + [0, 0], [q0, q1]
        (_mm_add_pd(qa, zero), _mm_add_pd(qb, qa))
    }
}

#[cfg(target_arch = "x86_64")]
impl Lanes for Sse2 {
    type V = Quad;
    #[inline(always)]
    fn load(self, x: &[f64]) -> Quad {
        let x = &x[..8];
        // SAFETY: `x` holds the eight values read.
        quad(|k| unsafe { _mm_loadu_pd(x.as_ptr().add(2 * k)) })
    }
    #[inline(always)]
    fn store(self, v: Quad, out: &mut [f64]) {
        let out = &mut out[..8];
        for k in 0..4 {
            // SAFETY: `out` holds the eight values written.
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
    fn max(self, a: Quad, b: Quad) -> Quad {
        // maxpd(a, b) is `a > b ? a : b`, as the portable lanes.
        quad(|k| unsafe { _mm_max_pd(a.0[k], b.0[k]) })
    }
    #[inline(always)]
    fn min(self, a: Quad, b: Quad) -> Quad {
        quad(|k| unsafe { _mm_min_pd(a.0[k], b.0[k]) })
    }
    #[inline(always)]
    fn sqrt(self, a: Quad) -> Quad {
        quad(|k| unsafe { _mm_sqrt_pd(a.0[k]) })
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
    fn to_array(self, a: Quad) -> [f64; 8] {
        let mut r = [0.0; 8];
        self.store(a, &mut r);
        r
    }
}

/// AVX2 lanes: two 256-bit registers. A value of this type proves that the
/// CPU has AVX2 (it is only made by `detect`), which is what makes the
/// intrinsics below sound.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct Avx2(());

#[cfg(target_arch = "x86_64")]
impl Avx2 {
    fn detect() -> Option<Self> {
        std::is_x86_feature_detected!("avx2").then_some(Avx2(()))
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

#[cfg(target_arch = "x86_64")]
impl Lanes for Avx2 {
    type V = Pair;
    #[inline(always)]
    fn load(self, x: &[f64]) -> Pair {
        let x = &x[..8];
        // SAFETY: AVX2 (see `Avx2`); `x` holds the eight values read.
        unsafe {
            Pair(
                _mm256_loadu_pd(x.as_ptr()),
                _mm256_loadu_pd(x.as_ptr().add(4)),
            )
        }
    }
    #[inline(always)]
    fn store(self, v: Pair, out: &mut [f64]) {
        let out = &mut out[..8];
        // SAFETY: AVX2; `out` holds the eight values written.
        unsafe {
            _mm256_storeu_pd(out.as_mut_ptr(), v.0);
            _mm256_storeu_pd(out.as_mut_ptr().add(4), v.1);
        }
    }
    #[inline(always)]
    fn splat(self, a: f64) -> Pair {
        // SAFETY: AVX2.
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
    fn max(self, a: Pair, b: Pair) -> Pair {
        // maxpd(a, b) is `a > b ? a : b`, as the portable lanes.
        halves!(_mm256_max_pd, a, b)
    }
    #[inline(always)]
    fn min(self, a: Pair, b: Pair) -> Pair {
        halves!(_mm256_min_pd, a, b)
    }
    #[inline(always)]
    fn sqrt(self, a: Pair) -> Pair {
        // SAFETY: AVX2.
        unsafe { Pair(_mm256_sqrt_pd(a.0), _mm256_sqrt_pd(a.1)) }
    }
    #[inline(always)]
    fn scan(self, a: Pair) -> Pair {
        // SAFETY: AVX2.
        unsafe {
            let lo = scan4_avx2(a.0);
            let hi = scan4_avx2(a.1);
            Pair(lo, _mm256_add_pd(hi, _mm256_permute4x64_pd::<0xFF>(lo)))
        }
    }
    #[inline(always)]
    fn splat_last(self, a: Pair) -> Pair {
        // SAFETY: AVX2.
        let t = unsafe { _mm256_permute4x64_pd::<0xFF>(a.1) };
        Pair(t, t)
    }
    #[inline(always)]
    fn last(self, a: Pair) -> f64 {
        // SAFETY: AVX2.
        unsafe {
            let top = _mm256_extractf128_pd::<1>(a.1);
            _mm_cvtsd_f64(_mm_unpackhi_pd(top, top))
        }
    }
    #[inline(always)]
    fn to_array(self, a: Pair) -> [f64; 8] {
        let mut r = [0.0; 8];
        self.store(a, &mut r);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone)]
    struct Ops(Vec<f64>);

    impl Kernel for Ops {
        type Output = Vec<u64>;
        fn run<L: Lanes>(self, l: L) -> Vec<u64> {
            let mut out = Vec::new();
            for c in self.0.chunks_exact(16) {
                let (a, b) = (l.load(&c[..8]), l.load(&c[8..]));
                for v in [
                    l.scan(a),
                    l.add(a, b),
                    l.sub(a, b),
                    l.mul(a, b),
                    l.max(a, b),
                    l.min(a, b),
                    l.sqrt(a),
                    l.splat_last(b),
                    l.splat(l.last(a)),
                ] {
                    // Any NaN counts as one: which operand's payload an
                    // operation keeps is not part of the contract.
                    out.extend(l.to_array(v).iter().map(|x| {
                        if x.is_nan() {
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
        let outs = run_each(Ops(x));
        for other in &outs[1..] {
            assert_eq!(&outs[0], other);
        }
    }

    #[test]
    fn scan_is_the_prefix_sum() {
        let x: Vec<f64> = (1..=16).map(f64::from).collect();
        let got = run(Ops(x));
        let scan: Vec<f64> = got[..8].iter().map(|b| f64::from_bits(*b)).collect();
        assert_eq!(scan, [1.0, 3.0, 6.0, 10.0, 15.0, 21.0, 28.0, 36.0]);
    }
}
