//! The exponential and Wilder recurrences `y[t] = a*y[t-1] + u[t]` of EMA,
//! MACD, RSI and ATR, as blocked scans over rows of eight consecutive values.
//!
//! TA-Lib steps one value at a time, so every output waits for the one
//! before it (a multiply and an add of latency). Unrolled eight times the
//! recurrence reads `y[t] = a^8*y[t-8] + w[t]`, where `w[t]` is the sum of
//! `a^i*u[t-i]` for i from 0 to 7: within a row of eight outputs the lanes no
//! longer depend on each other, only on the same lane of the row before. `w` is made
//! in three log steps (`u + a*u'`, then `+ a^2*` that shifted by two, then
//! `+ a^4*` that shifted by four), each shift taking its first lanes from the
//! row before. So a row costs about a dozen eight-wide operations and the
//! chain from row to row is one multiply and one add: the loops are limited
//! by throughput, not latency. Each indicator's rows are made in one pass
//! (MACD: both EMAs, the line, the signal EMA and the histogram; RSI: the
//! changes, both sums and the ratio; ATR: the true range and its average).
//!
//! Rounding differs from TA-Lib's one-step order by a few units in the last
//! place and does not accumulate: the recurrence is contracting (`0 <= a <
//! 1`), so an error made at one row shrinks by `a^8` per row.
//!
//! The rows are written once, over `Lanes`: eight doubles with element-wise
//! IEEE operations and lane shifts. `x86::Sse2` (four 128-bit registers, the
//! baseline), `x86::Avx2` (two 256-bit ones, the FMA level) and `x86::Avx512`
//! (one 512-bit register) do the same operations on the same lanes with
//! intrinsics, in the copies `lanes_kernel!` compiles for each level;
//! `Portable` is plain `[f64; 8]`, for other architectures and as the
//! reference the tests compare the others with. The compiler does not
//! vectorise the lane shifts of plain arrays (it falls back to scalar and
//! two-wide code), hence the intrinsics; none of them is a fused
//! multiply-add or an approximation, so every level gives the same bits.
//
// The `unsafe` here: intrinsics, which need their CPU features; they are
// reached only through `lanes_kernel!`, whose copies run after
// `cpu::level()` has seen the CPU support them.
#![allow(unsafe_code)]

/// Values per row.
pub(crate) const ROW: usize = 8;

/// Eight doubles and the operations the recurrences need. Every operation is
/// one exactly rounded IEEE operation per lane (or a move), so every
/// implementation gives the same bits.
pub(crate) trait Lanes: Copy {
    unsafe fn splat(v: f64) -> Self;
    /// `x[at..at + 8]`.
    unsafe fn load(x: &[f64], at: usize) -> Self;
    unsafe fn store(self, out: &mut [f64], at: usize);
    unsafe fn add(self, b: Self) -> Self;
    unsafe fn sub(self, b: Self) -> Self;
    unsafe fn mul(self, b: Self) -> Self;
    unsafe fn div(self, b: Self) -> Self;
    unsafe fn abs(self) -> Self;
    /// Per lane `if b > self { b } else { self }` (so a NaN `b` never
    /// replaces, a NaN `self` stays: x86's `max(b, self)`).
    unsafe fn keep_greater(self, b: Self) -> Self;
    /// Per lane `if s > 0 { self } else { 0.0 }`.
    unsafe fn where_positive(self, s: Self) -> Self;
    /// `cur` moved `S` lanes up, its first `S` lanes the last `S` of `prev`
    /// (for S = 1, 2, 4): the values `S` steps before each lane's.
    unsafe fn shift1(prev: Self, cur: Self) -> Self;
    unsafe fn shift2(prev: Self, cur: Self) -> Self;
    unsafe fn shift4(prev: Self, cur: Self) -> Self;
    unsafe fn to_array(self) -> [f64; ROW];
}

/// Plain arrays: the lanes on architectures other than x86-64, and the
/// reference the x86 lanes are tested against.
#[derive(Clone, Copy)]
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub(crate) struct Portable([f64; ROW]);

#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
impl Portable {
    #[inline(always)]
    fn map2(self, b: Self, f: impl Fn(f64, f64) -> f64) -> Self {
        let mut r = [0.0; ROW];
        for j in 0..ROW {
            r[j] = f(self.0[j], b.0[j]);
        }
        Portable(r)
    }

    #[inline(always)]
    fn shift<const S: usize>(prev: Self, cur: Self) -> Self {
        let mut r = [0.0; ROW];
        for j in 0..ROW {
            r[j] = if j < S { prev.0[ROW - S + j] } else { cur.0[j - S] };
        }
        Portable(r)
    }
}

impl Lanes for Portable {
    #[inline(always)]
    unsafe fn splat(v: f64) -> Self {
        Portable([v; ROW])
    }
    #[inline(always)]
    unsafe fn load(x: &[f64], at: usize) -> Self {
        let mut r = [0.0; ROW];
        r.copy_from_slice(&x[at..at + ROW]);
        Portable(r)
    }
    #[inline(always)]
    unsafe fn store(self, out: &mut [f64], at: usize) {
        out[at..at + ROW].copy_from_slice(&self.0);
    }
    #[inline(always)]
    unsafe fn add(self, b: Self) -> Self {
        self.map2(b, |x, y| x + y)
    }
    #[inline(always)]
    unsafe fn sub(self, b: Self) -> Self {
        self.map2(b, |x, y| x - y)
    }
    #[inline(always)]
    unsafe fn mul(self, b: Self) -> Self {
        self.map2(b, |x, y| x * y)
    }
    #[inline(always)]
    unsafe fn div(self, b: Self) -> Self {
        self.map2(b, |x, y| x / y)
    }
    #[inline(always)]
    unsafe fn abs(self) -> Self {
        self.map2(self, |x, _| x.abs())
    }
    #[inline(always)]
    unsafe fn keep_greater(self, b: Self) -> Self {
        self.map2(b, |x, y| if y > x { y } else { x })
    }
    #[inline(always)]
    unsafe fn where_positive(self, s: Self) -> Self {
        self.map2(s, |x, s| if s > 0.0 { x } else { 0.0 })
    }
    #[inline(always)]
    unsafe fn shift1(prev: Self, cur: Self) -> Self {
        Self::shift::<1>(prev, cur)
    }
    #[inline(always)]
    unsafe fn shift2(prev: Self, cur: Self) -> Self {
        Self::shift::<2>(prev, cur)
    }
    #[inline(always)]
    unsafe fn shift4(prev: Self, cur: Self) -> Self {
        Self::shift::<4>(prev, cur)
    }
    #[inline(always)]
    unsafe fn to_array(self) -> [f64; ROW] {
        self.0
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod x86 {
    use super::{Lanes, ROW};
    use std::arch::x86_64::*;

    /// Two AVX2 registers: lanes 0-3 and 4-7.
    #[derive(Clone, Copy)]
    pub(crate) struct Avx2(__m256d, __m256d);

    /// `[p3, c0, c1, c2]`.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn up1(p: __m256d, c: __m256d) -> __m256d {
        let mid = _mm256_permute2f128_pd::<0x21>(p, c); // [p2, p3, c0, c1]
        _mm256_shuffle_pd::<0b0101>(mid, c)
    }

    /// `[p2, p3, c0, c1]`.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn up2(p: __m256d, c: __m256d) -> __m256d {
        _mm256_permute2f128_pd::<0x21>(p, c)
    }

    impl Lanes for Avx2 {
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn splat(v: f64) -> Self {
            Avx2(_mm256_set1_pd(v), _mm256_set1_pd(v))
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn load(x: &[f64], at: usize) -> Self {
            let x = &x[at..at + ROW];
            Avx2(_mm256_loadu_pd(x.as_ptr()), _mm256_loadu_pd(x.as_ptr().add(4)))
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn store(self, out: &mut [f64], at: usize) {
            let out = &mut out[at..at + ROW];
            _mm256_storeu_pd(out.as_mut_ptr(), self.0);
            _mm256_storeu_pd(out.as_mut_ptr().add(4), self.1);
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn add(self, b: Self) -> Self {
            Avx2(_mm256_add_pd(self.0, b.0), _mm256_add_pd(self.1, b.1))
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn sub(self, b: Self) -> Self {
            Avx2(_mm256_sub_pd(self.0, b.0), _mm256_sub_pd(self.1, b.1))
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn mul(self, b: Self) -> Self {
            Avx2(_mm256_mul_pd(self.0, b.0), _mm256_mul_pd(self.1, b.1))
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn div(self, b: Self) -> Self {
            Avx2(_mm256_div_pd(self.0, b.0), _mm256_div_pd(self.1, b.1))
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn abs(self) -> Self {
            let sign = _mm256_set1_pd(-0.0);
            Avx2(_mm256_andnot_pd(sign, self.0), _mm256_andnot_pd(sign, self.1))
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn keep_greater(self, b: Self) -> Self {
            // maxpd(b, s) is `b > s ? b : s`, exactly the select.
            Avx2(_mm256_max_pd(b.0, self.0), _mm256_max_pd(b.1, self.1))
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn where_positive(self, s: Self) -> Self {
            let zero = _mm256_setzero_pd();
            let m0 = _mm256_cmp_pd::<_CMP_GT_OQ>(s.0, zero);
            let m1 = _mm256_cmp_pd::<_CMP_GT_OQ>(s.1, zero);
            Avx2(_mm256_and_pd(m0, self.0), _mm256_and_pd(m1, self.1))
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn shift1(prev: Self, cur: Self) -> Self {
            Avx2(up1(prev.1, cur.0), up1(cur.0, cur.1))
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn shift2(prev: Self, cur: Self) -> Self {
            Avx2(up2(prev.1, cur.0), up2(cur.0, cur.1))
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn shift4(prev: Self, cur: Self) -> Self {
            Avx2(prev.1, cur.0)
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn to_array(self) -> [f64; ROW] {
            let mut r = [0.0; ROW];
            _mm256_storeu_pd(r.as_mut_ptr(), self.0);
            _mm256_storeu_pd(r.as_mut_ptr().add(4), self.1);
            r
        }
    }

    /// Four SSE2 registers (x86-64's baseline, so no target feature):
    /// lanes 0-1, 2-3, 4-5, 6-7.
    #[derive(Clone, Copy)]
    pub(crate) struct Sse2([__m128d; 4]);

    impl Sse2 {
        #[inline(always)]
        fn map(self, b: Self, f: impl Fn(__m128d, __m128d) -> __m128d) -> Self {
            let (x, y) = (self.0, b.0);
            Sse2([f(x[0], y[0]), f(x[1], y[1]), f(x[2], y[2]), f(x[3], y[3])])
        }
    }

    impl Lanes for Sse2 {
        #[inline(always)]
        unsafe fn splat(v: f64) -> Self {
            Sse2([_mm_set1_pd(v); 4])
        }
        #[inline(always)]
        unsafe fn load(x: &[f64], at: usize) -> Self {
            let x = &x[at..at + ROW];
            let p = x.as_ptr();
            Sse2([_mm_loadu_pd(p), _mm_loadu_pd(p.add(2)), _mm_loadu_pd(p.add(4)), _mm_loadu_pd(p.add(6))])
        }
        #[inline(always)]
        unsafe fn store(self, out: &mut [f64], at: usize) {
            let out = &mut out[at..at + ROW];
            let p = out.as_mut_ptr();
            for (i, v) in self.0.iter().enumerate() {
                _mm_storeu_pd(p.add(2 * i), *v);
            }
        }
        #[inline(always)]
        unsafe fn add(self, b: Self) -> Self {
            self.map(b, |x, y| _mm_add_pd(x, y))
        }
        #[inline(always)]
        unsafe fn sub(self, b: Self) -> Self {
            self.map(b, |x, y| _mm_sub_pd(x, y))
        }
        #[inline(always)]
        unsafe fn mul(self, b: Self) -> Self {
            self.map(b, |x, y| _mm_mul_pd(x, y))
        }
        #[inline(always)]
        unsafe fn div(self, b: Self) -> Self {
            self.map(b, |x, y| _mm_div_pd(x, y))
        }
        #[inline(always)]
        unsafe fn abs(self) -> Self {
            let sign = _mm_set1_pd(-0.0);
            self.map(self, |x, _| _mm_andnot_pd(sign, x))
        }
        #[inline(always)]
        unsafe fn keep_greater(self, b: Self) -> Self {
            // maxpd(b, s) is `b > s ? b : s`, exactly the select.
            self.map(b, |s, b| _mm_max_pd(b, s))
        }
        #[inline(always)]
        unsafe fn where_positive(self, s: Self) -> Self {
            let zero = _mm_setzero_pd();
            self.map(s, |v, s| _mm_and_pd(_mm_cmpgt_pd(s, zero), v))
        }
        #[inline(always)]
        unsafe fn shift1(prev: Self, cur: Self) -> Self {
            // [a1, b0] of neighbouring pairs.
            let (p, c) = (prev.0, cur.0);
            Sse2([
                _mm_shuffle_pd::<0b01>(p[3], c[0]),
                _mm_shuffle_pd::<0b01>(c[0], c[1]),
                _mm_shuffle_pd::<0b01>(c[1], c[2]),
                _mm_shuffle_pd::<0b01>(c[2], c[3]),
            ])
        }
        #[inline(always)]
        unsafe fn shift2(prev: Self, cur: Self) -> Self {
            let (p, c) = (prev.0, cur.0);
            Sse2([p[3], c[0], c[1], c[2]])
        }
        #[inline(always)]
        unsafe fn shift4(prev: Self, cur: Self) -> Self {
            let (p, c) = (prev.0, cur.0);
            Sse2([p[2], p[3], c[0], c[1]])
        }
        #[inline(always)]
        unsafe fn to_array(self) -> [f64; ROW] {
            let mut r = [0.0; ROW];
            for (i, v) in self.0.iter().enumerate() {
                _mm_storeu_pd(r.as_mut_ptr().add(2 * i), *v);
            }
            r
        }
    }

    /// One AVX-512 register.
    #[derive(Clone, Copy)]
    pub(crate) struct Avx512(__m512d);

    macro_rules! align {
        ($prev:expr, $cur:expr, $by:literal) => {
            // valignq: lanes `by..8` of `prev`, then lanes `0..8-by` of `cur`.
            Avx512(_mm512_castsi512_pd(_mm512_alignr_epi64::<$by>(
                _mm512_castpd_si512($cur.0),
                _mm512_castpd_si512($prev.0),
            )))
        };
    }

    impl Lanes for Avx512 {
        #[inline]
        #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")]
        unsafe fn splat(v: f64) -> Self {
            Avx512(_mm512_set1_pd(v))
        }
        #[inline]
        #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")]
        unsafe fn load(x: &[f64], at: usize) -> Self {
            let x = &x[at..at + ROW];
            Avx512(_mm512_loadu_pd(x.as_ptr()))
        }
        #[inline]
        #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")]
        unsafe fn store(self, out: &mut [f64], at: usize) {
            let out = &mut out[at..at + ROW];
            _mm512_storeu_pd(out.as_mut_ptr(), self.0);
        }
        #[inline]
        #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")]
        unsafe fn add(self, b: Self) -> Self {
            Avx512(_mm512_add_pd(self.0, b.0))
        }
        #[inline]
        #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")]
        unsafe fn sub(self, b: Self) -> Self {
            Avx512(_mm512_sub_pd(self.0, b.0))
        }
        #[inline]
        #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")]
        unsafe fn mul(self, b: Self) -> Self {
            Avx512(_mm512_mul_pd(self.0, b.0))
        }
        #[inline]
        #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")]
        unsafe fn div(self, b: Self) -> Self {
            Avx512(_mm512_div_pd(self.0, b.0))
        }
        #[inline]
        #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")]
        unsafe fn abs(self) -> Self {
            Avx512(_mm512_abs_pd(self.0))
        }
        #[inline]
        #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")]
        unsafe fn keep_greater(self, b: Self) -> Self {
            Avx512(_mm512_max_pd(b.0, self.0))
        }
        #[inline]
        #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")]
        unsafe fn where_positive(self, s: Self) -> Self {
            let m = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(s.0, _mm512_setzero_pd());
            Avx512(_mm512_maskz_mov_pd(m, self.0))
        }
        #[inline]
        #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")]
        unsafe fn shift1(prev: Self, cur: Self) -> Self {
            align!(prev, cur, 7)
        }
        #[inline]
        #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")]
        unsafe fn shift2(prev: Self, cur: Self) -> Self {
            align!(prev, cur, 6)
        }
        #[inline]
        #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")]
        unsafe fn shift4(prev: Self, cur: Self) -> Self {
            align!(prev, cur, 4)
        }
        #[inline]
        #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")]
        unsafe fn to_array(self) -> [f64; ROW] {
            let mut r = [0.0; ROW];
            _mm512_storeu_pd(r.as_mut_ptr(), self.0);
            r
        }
    }
}

/// `lanes_kernel! { fn name<L>(args) -> Ret { body } }` defines `name`,
/// whose body (an unsafe context, generic over `L: Lanes`) runs with
/// `x86::Sse2` lanes at the baseline (`Portable` on other architectures),
/// `x86::Avx2` at the FMA level and
/// `x86::Avx512` at the AVX-512 level, each copy compiled with its level's
/// target features (`cpu::level()` chooses).
macro_rules! lanes_kernel {
    ($(#[$meta:meta])* $vis:vis fn $name:ident<$L:ident>($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            #[inline(always)]
            unsafe fn body<$L: Lanes>($($arg: $ty),*) -> $ret $body
            #[cfg(target_arch = "x86_64")]
            {
                use $crate::indicators::cpu::{level, Level};
                #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")]
                unsafe fn avx512($($arg: $ty),*) -> $ret {
                    body::<x86::Avx512>($($arg),*)
                }
                #[target_feature(enable = "fma,avx2")]
                unsafe fn fma($($arg: $ty),*) -> $ret {
                    body::<x86::Avx2>($($arg),*)
                }
                match level() {
                    // SAFETY: the level is `Avx512` only on a CPU with these features.
                    Level::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: the level is `Fma` only on a CPU with FMA and AVX2.
                    Level::Fma => return unsafe { fma($($arg),*) },
                    Level::Baseline => {}
                }
            }
            // SAFETY: SSE2 is part of x86-64 itself; portable lanes need no
            // CPU feature.
            #[cfg(target_arch = "x86_64")]
            return unsafe { body::<x86::Sse2>($($arg),*) };
            #[cfg(not(target_arch = "x86_64"))]
            return unsafe { body::<Portable>($($arg),*) };
        }
    };
}

/// One recurrence `y[t] = a*y[t-1] + u[t]` advanced a row at a time.
#[derive(Clone, Copy)]
struct Recurrence<L> {
    a: L,
    a2: L,
    a4: L,
    a8: L,
    /// `a^1 ..= a^8`, for the first row.
    powers: L,
    /// The last row's outputs.
    y: L,
    /// The last row's inputs and partial window sums: the lanes the next
    /// row's shifts take.
    u: L,
    w2: L,
    w4: L,
}

impl<L: Lanes> Recurrence<L> {
    #[inline(always)]
    unsafe fn new(a: f64) -> Self {
        let a2 = a * a;
        let a4 = a2 * a2;
        let a8 = a4 * a4;
        let powers = [a, a2, a2 * a, a4, a4 * a, a4 * a2, a4 * a2 * a, a8];
        let zero = L::splat(0.0);
        Recurrence {
            a: L::splat(a),
            a2: L::splat(a2),
            a4: L::splat(a4),
            a8: L::splat(a8),
            powers: L::load(&powers, 0),
            y: zero,
            u: zero,
            w2: zero,
            w4: zero,
        }
    }

    /// `w[t]` for the row's lanes (see the module's comment).
    #[inline(always)]
    unsafe fn window(&mut self, u: L) -> L {
        let w2 = u.add(self.a.mul(L::shift1(self.u, u)));
        let w4 = w2.add(self.a2.mul(L::shift2(self.w2, w2)));
        let w8 = w4.add(self.a4.mul(L::shift4(self.w4, w4)));
        self.u = u;
        self.w2 = w2;
        self.w4 = w4;
        w8
    }

    /// The first row, after `y0` (the value before its first lane): lane
    /// `j` is `a^(j+1)*y0 + w[j]`, `w` summing this row's inputs only.
    #[inline(always)]
    unsafe fn first(&mut self, y0: f64, u: L) -> L {
        let w = self.window(u);
        self.y = self.powers.mul(L::splat(y0)).add(w);
        self.y
    }

    /// Every row after the first.
    #[inline(always)]
    unsafe fn next(&mut self, u: L) -> L {
        let w = self.window(u);
        self.y = self.a8.mul(self.y).add(w);
        self.y
    }

    /// The last output, and whether every lane is finite: a NaN or infinity
    /// that entered a lane stays in that lane's chain (`a^8*y + w`) to the
    /// end, so this tells whether the rows met a non-finite value (or
    /// overflowed).
    #[inline(always)]
    unsafe fn finish(&self) -> (f64, bool) {
        let y = self.y.to_array();
        (y[ROW - 1], y.iter().all(|v| v.is_finite()))
    }
}

/// Rows in `from..n`.
fn rows_in(from: usize, n: usize) -> usize {
    n.saturating_sub(from) / ROW
}

/// Where the rows starting at `from` end (the scalar tail starts there).
pub(crate) fn rows_end(from: usize, n: usize) -> usize {
    from + rows_in(from, n) * ROW
}

lanes_kernel! {
/// EMA rows: `out[t] = y[t] = a*y[t-1] + k*x[t]` for the whole rows from
/// `from` (`y[from-1] = prev`). Returns the last `y` (`prev` when there is
/// no row) and whether all were finite.
pub(crate) fn ema_rows<L>(x: &[f64], from: usize, prev: f64, a: f64, k: f64, out: &mut [f64]) -> (f64, bool) {
    let rows = rows_in(from, x.len().min(out.len()));
    if rows == 0 {
        return (prev, true);
    }
    let mut rec = Recurrence::<L>::new(a);
    let kk = L::splat(k);
    rec.first(prev, kk.mul(L::load(x, from))).store(out, from);
    for r in 1..rows {
        let t = from + r * ROW;
        rec.next(kk.mul(L::load(x, t))).store(out, t);
    }
    rec.finish()
}
}

lanes_kernel! {
/// RSI rows from `from` (`>= 1`): the changes `d = x[t] - x[t-1]`, the
/// unscaled Wilder sums of the gains (`d > 0 ? d : 0`) and of the sizes
/// (`|d|`) from `gain` and `total`, and `100 * (gain / total)`, 0 where the
/// total is not positive. Returns the last sums and whether all were finite.
pub(crate) fn rsi_rows<L>(x: &[f64], from: usize, gain: f64, total: f64, a: f64, out: &mut [f64]) -> (f64, f64, bool) {
    let rows = rows_in(from, x.len().min(out.len()));
    if rows == 0 {
        return (gain, total, true);
    }
    let mut gains = Recurrence::<L>::new(a);
    let mut totals = Recurrence::<L>::new(a);
    let (zero, hundred) = (L::splat(0.0), L::splat(100.0));
    for r in 0..rows {
        let t = from + r * ROW;
        let d = L::load(x, t).sub(L::load(x, t - 1));
        let (up, size) = (zero.keep_greater(d), d.abs());
        let (g, s) = if r == 0 {
            (gains.first(gain, up), totals.first(total, size))
        } else {
            (gains.next(up), totals.next(size))
        };
        hundred.mul(g.div(s)).where_positive(s).store(out, t);
    }
    let (g, g_finite) = gains.finish();
    let (s, s_finite) = totals.finish();
    (g, s, g_finite && s_finite)
}
}

lanes_kernel! {
/// ATR rows from `from` (`>= 1`): the true ranges of the bars (see
/// `atr::true_range`) and their Wilder average `y = a*y + inv*tr` from
/// `value`. Returns the last average and whether all were finite.
pub(crate) fn atr_rows<L>(high: &[f64], low: &[f64], close: &[f64], from: usize, value: f64, a: f64, inv: f64, out: &mut [f64]) -> (f64, bool) {
    let n = high.len().min(low.len()).min(close.len()).min(out.len());
    let rows = rows_in(from, n);
    if rows == 0 {
        return (value, true);
    }
    let mut rec = Recurrence::<L>::new(a);
    let scale = L::splat(inv);
    for r in 0..rows {
        let t = from + r * ROW;
        let (h, l, c) = (L::load(high, t), L::load(low, t), L::load(close, t - 1));
        let range = h.sub(l).keep_greater(c.sub(h).abs()).keep_greater(c.sub(l).abs());
        let u = scale.mul(range);
        let y = if r == 0 { rec.first(value, u) } else { rec.next(u) };
        y.store(out, t);
    }
    rec.finish()
}
}

/// MACD's three recurrences: the fast and slow EMAs of the prices and the
/// signal EMA of their difference, each `(value before the rows, k)`.
#[derive(Clone, Copy)]
pub(crate) struct MacdLines {
    pub fast: (f64, f64),
    pub slow: (f64, f64),
    pub signal: (f64, f64),
}

lanes_kernel! {
/// MACD rows from `from`: per row both EMAs of the prices, the line (their
/// difference), its signal EMA and the histogram, each output written once.
/// Returns the last three values and whether all were finite.
pub(crate) fn macd_rows<L>(x: &[f64], from: usize, lines: MacdLines, macd: &mut [f64], sig: &mut [f64], hist: &mut [f64]) -> ([f64; 3], bool) {
    let n = x.len().min(macd.len()).min(sig.len()).min(hist.len());
    let rows = rows_in(from, n);
    let MacdLines { fast: (f0, kf), slow: (s0, ks), signal: (g0, kg) } = lines;
    if rows == 0 {
        return ([f0, s0, g0], true);
    }
    let mut fast = Recurrence::<L>::new(1.0 - kf);
    let mut slow = Recurrence::<L>::new(1.0 - ks);
    let mut signal = Recurrence::<L>::new(1.0 - kg);
    let (kf, ks, kg) = (L::splat(kf), L::splat(ks), L::splat(kg));
    for r in 0..rows {
        let t = from + r * ROW;
        let p = L::load(x, t);
        let (uf, us) = (kf.mul(p), ks.mul(p));
        let (f, s) = if r == 0 { (fast.first(f0, uf), slow.first(s0, us)) } else { (fast.next(uf), slow.next(us)) };
        let line = f.sub(s);
        let ug = kg.mul(line);
        let g = if r == 0 { signal.first(g0, ug) } else { signal.next(ug) };
        line.store(macd, t);
        g.store(sig, t);
        line.sub(g).store(hist, t);
    }
    let (f, f_ok) = fast.finish();
    let (s, s_ok) = slow.finish();
    let (g, g_ok) = signal.finish();
    ([f, s, g], f_ok && s_ok && g_ok)
}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ema_rows` and the plain recurrence over the tail, as EMA calls them.
    fn recurrence(prev: f64, a: f64, k: f64, x: &[f64]) -> (Vec<f64>, bool) {
        let mut out = vec![f64::NAN; x.len()];
        let (mut y, finite) = ema_rows(x, 0, prev, a, k, &mut out);
        for t in rows_end(0, x.len())..x.len() {
            y = a * y + k * x[t];
            out[t] = y;
        }
        (out, finite && y.is_finite())
    }

    fn one_step(prev: f64, a: f64, k: f64, x: &[f64]) -> Vec<f64> {
        let mut y = prev;
        x.iter()
            .map(|v| {
                y = a * y + k * v;
                y
            })
            .collect()
    }

    #[test]
    fn rows_match_one_step_at_a_time_for_every_length() {
        let x: Vec<f64> = (0..203).map(|i| (i as f64 * 0.7).sin() * 10.0 + 100.0).collect();
        for (a, k) in [(0.9, 0.1), (0.0, 1.0), (12.0 / 13.0, 1.0 / 13.0), (0.999, 0.001)] {
            for n in [0, 1, 7, 8, 9, 15, 16, 17, 64, 203] {
                let (out, finite) = recurrence(95.0, a, k, &x[..n]);
                assert!(finite);
                let want = one_step(95.0, a, k, &x[..n]);
                for (i, (g, w)) in out.iter().zip(&want).enumerate() {
                    assert!((g - w).abs() <= 1e-13 * w.abs(), "a={a} n={n} i={i}: {g} vs {w}");
                }
            }
        }
    }

    #[test]
    fn error_does_not_grow_over_a_million_steps() {
        // A random walk through the rows and through the one-step
        // recurrence: the gap stays at rounding level from start to end.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut p = 100.0;
        let x: Vec<f64> = (0..1_000_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                p += (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                p
            })
            .collect();
        for window in [2.0, 14.0, 500.0] {
            let (a, k) = ((window - 1.0) / window, 1.0 / window);
            let (out, _) = recurrence(x[0], a, k, &x);
            let want = one_step(x[0], a, k, &x);
            let worst = out.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0.0, f64::max);
            assert!(worst < 1e-11, "window {window}: {worst}");
        }
    }

    #[test]
    fn a_non_finite_input_is_reported() {
        for at in [0, 5, 8, 37, 55, 60, 62] {
            for bad in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
                let mut x = vec![1.0; 63];
                x[at] = bad;
                assert!(!recurrence(1.0, 0.5, 0.5, &x).1, "{bad} at {at}");
            }
        }
    }

    /// Every implementation of `Lanes` the CPU can run gives the bits of the
    /// portable one, operation by operation.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn each_lanes_implementation_gives_the_portable_bits() {
        let a: Vec<f64> = vec![1.5, -0.0, f64::NAN, 3.0, -2.0, 1e300, f64::INFINITY, 0.0];
        let b: Vec<f64> = vec![0.1, 0.0, 2.0, f64::NAN, -2.5, 1e300, 1.0, -0.0];
        unsafe fn all<L: Lanes>(a: &[f64], b: &[f64]) -> Vec<[f64; ROW]> {
            // Opaque inputs: the hardware computes, not the compiler's
            // constant folding (which makes 0/0 a NaN of the other sign).
            let (a, b) = (std::hint::black_box(a), std::hint::black_box(b));
            let (x, y) = (L::load(a, 0), L::load(b, 0));
            [
                x.add(y),
                x.sub(y),
                x.mul(y),
                x.div(y),
                x.abs(),
                x.keep_greater(y),
                x.where_positive(y),
                L::shift1(x, y),
                L::shift2(x, y),
                L::shift4(x, y),
                L::splat(0.3),
            ]
            .iter()
            .map(|v| v.to_array())
            .collect()
        }
        let bits = |v: Vec<[f64; ROW]>| -> Vec<u64> { v.iter().flatten().map(|f| f.to_bits()).collect() };
        let portable = bits(unsafe { all::<Portable>(&a, &b) });
        assert_eq!(bits(unsafe { all::<x86::Sse2>(&a, &b) }), portable);
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            #[target_feature(enable = "avx2,fma")]
            unsafe fn run(a: &[f64], b: &[f64]) -> Vec<[f64; ROW]> {
                all::<x86::Avx2>(a, b)
            }
            assert_eq!(bits(unsafe { run(&a, &b) }), portable);
        }
        if crate::indicators::cpu::level() == crate::indicators::cpu::Level::Avx512 {
            #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")]
            unsafe fn run(a: &[f64], b: &[f64]) -> Vec<[f64; ROW]> {
                all::<x86::Avx512>(a, b)
            }
            assert_eq!(bits(unsafe { run(&a, &b) }), portable);
        }
    }
}
