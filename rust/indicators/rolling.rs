//! Rolling sums over a window at the speed of memory: the batch SMA and the
//! batch Bollinger bands (SMA middle band).
//!
//! TA-Lib adds the value entering the window and subtracts the one leaving
//! it, one output at a time: one chain of dependent additions. Here eight
//! consecutive outputs are one step: their differences `x[i] - x[i-w]` are
//! prefix-summed in registers (`Lanes::scan`) and added to the running sum
//! carried over from the previous eight, two such blocks per link of the
//! carried chain. Every few thousand outputs (`anchor_every`) the running
//! sum restarts from a direct sum of the window, so rounding never builds
//! up beyond one such stretch. A NaN or infinity in the data makes the sums non-finite;
//! the kernels then return false and the caller recomputes everything in
//! TA-Lib's operation order.
//!
//! The kernels are generic over `Lanes` and run on the lanes of the
//! process's CPU level (`lanes::run`), at most AVX2's (`WIDEST`); every
//! implementation gives the same bits. They are compute-bound, not
//! memory-bound: the bands take about 65 four-wide operations per eight
//! outputs (a quarter of them the scans' shuffles, two of them square
//! roots), which fill the four floating-point pipes of a Zen 4 core at about
//! two cycles an output.
//!
//! Why not 512-bit lanes at the AVX-512 level: on the CPUs that have it here
//! (AMD Zen 4) a 512-bit operation runs as two 256-bit halves, so wider
//! lanes save no pipe time. Measured there against the AVX2 lanes, the SMA
//! on 512-bit lanes is 10-25% slower; the bands are within 5% (slower on
//! 1,000 points, faster on 1,000,000), so both keep the AVX2 lanes.

use super::bollinger::{direct_variance, trust_factor};
use super::cpu::Level;
use super::direct_sum;
use super::lanes::{self, Kernel, Lanes};

/// Outputs between two restarts of a running sum from a direct sum: long
/// enough that the direct sums cost a small fraction of the work whatever
/// the window, short enough that the running sum never drifts. The bands
/// restart more often: their anchor should stay near the prices, so that the
/// squared drift since it (which bounds the rounding of the sum of squares)
/// stays small.
fn anchor_every(window: usize, bands: bool) -> usize {
    (if bands { 8 * window } else { 32 * window }).max(4096)
}

/// `out[i] = mean(x[i+1-w ..= i])` for `i` in `from..x.len()` (`from >= w-1`).
/// False if a sum was not finite (a NaN or infinity in the data).
pub(crate) fn rolling_mean(x: &[f64], w: usize, from: usize, out: &mut [f64]) -> bool {
    debug_assert!(from + 1 >= w && out.len() == x.len());
    lanes::run(RollingMean { x, w, from, out })
}

struct RollingMean<'a> {
    x: &'a [f64],
    w: usize,
    from: usize,
    out: &'a mut [f64],
}

impl Kernel for RollingMean<'_> {
    type Output = bool;
    // AVX2 lanes even at the AVX-512 level: see the module's comment.
    const WIDEST: Level = Level::Fma;

    #[inline(always)]
    fn run<L: Lanes>(self, l: L) -> bool {
        let RollingMean { x, w, from, out } = self;
        let n = x.len();
        let inv = 1.0 / w as f64;
        let vinv = l.splat(inv);
        let mut pos = from;
        while pos < n {
            let mut sum = direct_sum(&x[pos + 1 - w..=pos]);
            out[pos] = sum * inv;
            let start = pos + 1;
            let end = (start + anchor_every(w, false)).min(n);
            let blocks = (end - start) / 16 * 16;
            let new = &x[start..start + blocks];
            let old = &x[start - w..start - w + blocks];
            let dst = &mut out[start..start + blocks];
            // The running sum in every lane; two additions per sixteen
            // outputs on its chain.
            let mut carry = l.splat(sum);
            for ((xn, xo), o) in new
                .chunks_exact(16)
                .zip(old.chunks_exact(16))
                .zip(dst.chunks_exact_mut(16))
            {
                let pa = l.scan(l.sub(l.load(xn, 0), l.load(xo, 0)));
                let pb = l.scan(l.sub(l.load(xn, 8), l.load(xo, 8)));
                l.store(l.mul(l.add(carry, pa), vinv), o, 0);
                let half = l.add(carry, l.splat_last(pa));
                l.store(l.mul(l.add(half, pb), vinv), o, 8);
                carry = l.add(half, l.splat_last(pb));
            }
            sum = l.last(carry);
            for i in start + blocks..end {
                sum += x[i] - x[i - w];
                out[i] = sum * inv;
            }
            if !sum.is_finite() {
                return false;
            }
            pos = end;
        }
        true
    }
}

/// Bollinger bands with an SMA middle band for `i` in `from..x.len()`
/// (`from >= w-1`): `middle = mean`, `upper/lower = middle ± k * std` of
/// `x[i+1-w ..= i]`. False if a sum was not finite.
///
/// Accuracy: TA-Lib's deviation is essentially exact (a flat window gives
/// exactly 0). The sums here are of deviations from an anchor (the price at
/// each restart), so the variance `sum2/w - mean^2` subtracts numbers of the
/// size of the squared drift since the anchor, not of the squared price. A
/// window whose variance is too small to trust against the rounding of those
/// sums (`trust_factor`, a flat or nearly flat window) is recomputed
/// directly, so a flat window still gives exactly zero width.
#[allow(clippy::too_many_arguments)]
pub(crate) fn rolling_bands(
    x: &[f64],
    w: usize,
    from: usize,
    dev_up: f64,
    dev_dn: f64,
    upper: &mut [f64],
    middle: &mut [f64],
    lower: &mut [f64],
) -> bool {
    debug_assert!(from + 1 >= w);
    debug_assert!(upper.len() == x.len() && middle.len() == x.len() && lower.len() == x.len());
    lanes::run(RollingBands {
        x,
        w,
        from,
        dev: [dev_up, dev_dn],
        upper,
        middle,
        lower,
    })
}

struct RollingBands<'a> {
    x: &'a [f64],
    w: usize,
    from: usize,
    dev: [f64; 2],
    upper: &'a mut [f64],
    middle: &'a mut [f64],
    lower: &'a mut [f64],
}

impl Kernel for RollingBands<'_> {
    type Output = bool;
    // AVX2 lanes even at the AVX-512 level: see the module's comment.
    const WIDEST: Level = Level::Fma;

    #[inline(always)]
    fn run<L: Lanes>(self, l: L) -> bool {
        let RollingBands {
            x,
            w,
            from,
            dev,
            upper,
            middle,
            lower,
        } = self;
        let n = x.len();
        let inv = 1.0 / w as f64;
        let mut pos = from;
        while pos < n {
            let end = (pos + 1 + anchor_every(w, true)).min(n);
            let out = [
                &mut upper[pos..end],
                &mut middle[pos..end],
                &mut lower[pos..end],
            ];
            let Some(stats) = bands_stretch::<L, false>(l, x, w, pos, dev, out) else {
                return false;
            };
            // The largest mean square the sums carried bounds their rounding.
            let threshold = trust_factor(w + (end - pos)) * (stats.peak * inv);
            let all_trusted = stats.peak == 0.0 && stats.min_variance >= 0.0;
            if !(stats.min_variance > threshold || all_trusted) {
                // Rare (a flat or nearly flat window): the same sums again,
                // this time keeping each variance (in `lower`) to test it.
                let out = [
                    &mut upper[pos..end],
                    &mut middle[pos..end],
                    &mut lower[pos..end],
                ];
                bands_stretch::<L, true>(l, x, w, pos, dev, out);
                for i in pos..end {
                    let variance = lower[i];
                    let trusted = variance > threshold || stats.peak == 0.0;
                    let std = if trusted {
                        variance.sqrt()
                    } else {
                        direct_variance(&x[i + 1 - w..=i]).sqrt()
                    };
                    upper[i] = middle[i] + std * dev[0];
                    lower[i] = middle[i] - std * dev[1];
                }
            }
            pos = end;
        }
        true
    }
}

/// What the sums of one stretch carried.
struct StretchStats {
    /// Largest sum of squared deviations from the anchor.
    peak: f64,
    /// Smallest variance computed.
    min_variance: f64,
}

/// Sums of `v - anchor` and of its square over `xs`, in four interleaved
/// accumulators (a fixed order, so the same on every CPU).
#[inline(always)]
fn deviation_sums(xs: &[f64], anchor: f64) -> (f64, f64) {
    let (mut s1, mut s2) = ([0.0f64; 4], [0.0f64; 4]);
    let chunks = xs.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for j in 0..4 {
            let d = c[j] - anchor;
            s1[j] += d;
            s2[j] += d * d;
        }
    }
    let mut t1 = (s1[0] + s1[1]) + (s1[2] + s1[3]);
    let mut t2 = (s2[0] + s2[1]) + (s2[2] + s2[3]);
    for v in rest {
        let d = v - anchor;
        t1 += d;
        t2 += d * d;
    }
    (t1, t2)
}

/// The bands of outputs `pos..pos + out[0].len()` from sums anchored at
/// `x[pos]`, written to `out` = [upper, middle, lower]; with `KEEP_VARIANCE`
/// the variance goes to `lower` instead and `upper` is left alone. None if a
/// sum was not finite.
#[inline(always)]
fn bands_stretch<L: Lanes, const KEEP_VARIANCE: bool>(
    l: L,
    x: &[f64],
    w: usize,
    pos: usize,
    dev: [f64; 2],
    out: [&mut [f64]; 3],
) -> Option<StretchStats> {
    let [upper, middle, lower] = out;
    let len = middle.len();
    let inv = 1.0 / w as f64;
    let anchor = x[pos];
    // One output from its sums, as the lanes do it below.
    let band = |s1: f64, s2: f64| {
        let m1 = s1 * inv;
        let variance = s2 * inv - m1 * m1;
        let mid = anchor + m1;
        let std = variance.sqrt();
        (variance, mid, mid + std * dev[0], mid - std * dev[1])
    };
    let (mut c1, mut c2) = deviation_sums(&x[pos + 1 - w..=pos], anchor);
    let mut peak = c2;
    let (variance, mid, up, low) = band(c1, c2);
    let mut min_variance = variance;
    middle[0] = mid;
    if KEEP_VARIANCE {
        lower[0] = variance;
    } else {
        upper[0] = up;
        lower[0] = low;
    }

    let blocks = (len - 1) / 16 * 16;
    let start = pos + 1;
    let new = &x[start..start + blocks];
    let old = &x[start - w..start - w + blocks];
    let (vinv, vanchor) = (l.splat(inv), l.splat(anchor));
    let (vup, vdn) = (l.splat(dev[0]), l.splat(dev[1]));
    let (mut carry1, mut carry2) = (l.splat(c1), l.splat(c2));
    let (mut vpeak, mut vmin) = (l.splat(peak), l.splat(min_variance));
    let outs = upper[1..1 + blocks]
        .chunks_exact_mut(16)
        .zip(middle[1..1 + blocks].chunks_exact_mut(16))
        .zip(lower[1..1 + blocks].chunks_exact_mut(16));
    for ((xn, xo), ((up16, mid16), low16)) in
        new.chunks_exact(16).zip(old.chunks_exact(16)).zip(outs)
    {
        let mut sums = [[l.splat(0.0); 2]; 2];
        for (h, sum) in sums.iter_mut().enumerate() {
            let (xn, xo) = (l.load(xn, 8 * h), l.load(xo, 8 * h));
            let d = l.sub(xn, xo);
            // x_new^2 - x_old^2 around the anchor, as one product.
            let e = l.mul(d, l.add(l.sub(xn, vanchor), l.sub(xo, vanchor)));
            *sum = [l.scan(d), l.scan(e)];
        }
        let [[p1a, p2a], [p1b, p2b]] = sums;
        let half1 = l.add(carry1, l.splat_last(p1a));
        let half2 = l.add(carry2, l.splat_last(p2a));
        let blocks = [
            (l.add(carry1, p1a), l.add(carry2, p2a)),
            (l.add(half1, p1b), l.add(half2, p2b)),
        ];
        carry1 = l.add(half1, l.splat_last(p1b));
        carry2 = l.add(half2, l.splat_last(p2b));
        for (h, (s1, s2)) in blocks.into_iter().enumerate() {
            let r = 8 * h;
            vpeak = l.max(s2, vpeak);
            let m1 = l.mul(s1, vinv);
            let variance = l.sub(l.mul(s2, vinv), l.mul(m1, m1));
            vmin = l.min(variance, vmin);
            let mid = l.add(vanchor, m1);
            l.store(mid, mid16, r);
            if KEEP_VARIANCE {
                l.store(variance, low16, r);
            } else {
                let std = l.sqrt(variance);
                l.store(l.add(mid, l.mul(std, vup)), up16, r);
                l.store(l.sub(mid, l.mul(std, vdn)), low16, r);
            }
        }
    }
    (c1, c2) = (l.last(carry1), l.last(carry2));
    for (&p, &v) in l.to_array(vpeak).iter().zip(&l.to_array(vmin)) {
        peak = if p > peak { p } else { peak };
        min_variance = if v < min_variance { v } else { min_variance };
    }
    for k in 1 + blocks..len {
        let i = pos + k;
        let (xn, xo) = (x[i], x[i - w]);
        let d = xn - xo;
        c1 += d;
        c2 += d * ((xn - anchor) + (xo - anchor));
        peak = if c2 > peak { c2 } else { peak };
        let (variance, mid, up, low) = band(c1, c2);
        min_variance = if variance < min_variance {
            variance
        } else {
            min_variance
        };
        middle[k] = mid;
        if KEEP_VARIANCE {
            lower[k] = variance;
        } else {
            upper[k] = up;
            lower[k] = low;
        }
    }
    (c1.is_finite() && c2.is_finite()).then_some(StretchStats { peak, min_variance })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(n: usize, level: f64, step: f64, seed: u64) -> Vec<f64> {
        let mut s = seed;
        let mut p = level;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                p += ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * step;
                p
            })
            .collect()
    }

    #[derive(Clone)]
    struct Both(Vec<f64>, usize);

    impl Kernel for Both {
        type Output = (bool, Vec<u64>);
        fn run<L: Lanes>(self, l: L) -> (bool, Vec<u64>) {
            let Both(x, w) = self;
            let n = x.len();
            let mut out = vec![vec![f64::NAN; n]; 4];
            let [m, u, mid, low] = &mut out[..] else {
                unreachable!()
            };
            let ok = RollingMean {
                x: &x,
                w,
                from: w - 1,
                out: m,
            }
            .run(l)
                & RollingBands {
                    x: &x,
                    w,
                    from: w - 1,
                    dev: [2.0, 1.5],
                    upper: u,
                    middle: mid,
                    lower: low,
                }
                .run(l);
            (ok, out.concat().iter().map(|v| v.to_bits()).collect())
        }
    }

    #[test]
    fn every_lane_implementation_gives_the_same_bits() {
        let mut flat = walk(9000, 1e5, 1e-3, 7);
        flat[3000..3100].fill(100_000.25);
        for (x, w) in [
            (walk(20_000, 100.0, 1.0, 1), 1),
            (walk(20_000, 100.0, 1.0, 2), 20),
            (walk(20_000, 100.0, 1.0, 3), 777),
            (walk(5_003, 1e5, 1e-4, 4), 30),
            (flat, 20),
        ] {
            let outs = lanes::run_each(Both(x, w));
            assert!(outs[0].0);
            for other in &outs[1..] {
                assert!(outs[0] == *other, "w={w}");
            }
        }
    }

    #[test]
    fn rolling_mean_matches_direct_means_across_stretches() {
        let x = walk(30_000, 50.0, 2.0, 11);
        for w in [1usize, 2, 5, 20, 300, 4100] {
            let mut out = vec![f64::NAN; x.len()];
            assert!(rolling_mean(&x, w, w - 1, &mut out));
            for i in (w - 1..x.len()).step_by(7).chain([x.len() - 1]) {
                let direct: f64 = x[i + 1 - w..=i].iter().sum::<f64>() / w as f64;
                assert!(
                    (out[i] - direct).abs() < 1e-10,
                    "w={w} i={i}: {} vs {direct}",
                    out[i]
                );
            }
        }
    }

    #[test]
    fn non_finite_data_is_reported() {
        for bad in [f64::NAN, f64::INFINITY] {
            let mut x = vec![1.0; 100];
            x[40] = bad;
            let mut out = vec![0.0; 100];
            assert!(!rolling_mean(&x, 3, 2, &mut out));
            let (mut u, mut m, mut l) = (vec![0.0; 100], vec![0.0; 100], vec![0.0; 100]);
            assert!(!rolling_bands(&x, 3, 2, 2.0, 2.0, &mut u, &mut m, &mut l));
        }
    }
}
