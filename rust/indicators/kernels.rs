//! The fast loops shared by the batch indicators.
//!
//! They break TA-Lib's single dependency chain: `linear_recurrence` /
//! `paired_recurrence` advance `y = a*y + k*x` eight steps per link of the
//! chain. No FMA contraction is used, so results do not depend on the CPU.
//! (The rolling-window sums are in `rolling.rs`.)

/// One block of eight steps of `y = a*y + k*x`: `c[j]` accumulates the
/// block's inputs independently of `y`, then `y[j] = a^(j+1)*y + c[j]`, so
/// the dependency chain through `y` has one multiply-add per eight outputs.
macro_rules! block8 {
    ($y:ident, $a:ident, $p:ident, $k:ident, $xc:ident, $oc:ident) => {{
        let c0 = $k * $xc[0];
        let c1 = $a * c0 + $k * $xc[1];
        let c2 = $a * c1 + $k * $xc[2];
        let c3 = $a * c2 + $k * $xc[3];
        let c4 = $a * c3 + $k * $xc[4];
        let c5 = $a * c4 + $k * $xc[5];
        let c6 = $a * c5 + $k * $xc[6];
        let c7 = $a * c6 + $k * $xc[7];
        $oc[0] = $p[0] * $y + c0;
        $oc[1] = $p[1] * $y + c1;
        $oc[2] = $p[2] * $y + c2;
        $oc[3] = $p[3] * $y + c3;
        $oc[4] = $p[4] * $y + c4;
        $oc[5] = $p[5] * $y + c5;
        $oc[6] = $p[6] * $y + c6;
        $y = $p[7] * $y + c7;
        $oc[7] = $y;
    }};
}

/// Powers `a^1 ..= a^8`.
#[inline]
pub(crate) fn powers(a: f64) -> [f64; 8] {
    let a2 = a * a;
    let a4 = a2 * a2;
    [a, a2, a2 * a, a4, a4 * a, a4 * a2, a4 * a2 * a, a4 * a4]
}

/// `y[t] = a*y[t-1] + k*x[t]` from `y[-1] = prev`, written to `out`; returns
/// the last `y`. Eight steps per link of the dependency chain (`block8`).
#[inline(never)]
pub(crate) fn linear_recurrence(prev: f64, a: f64, k: f64, x: &[f64], out: &mut [f64]) -> f64 {
    debug_assert_eq!(x.len(), out.len());
    let p = powers(a);
    let mut y = prev;
    let mut xs = x.chunks_exact(8);
    let mut os = out.chunks_exact_mut(8);
    for (xc, oc) in (&mut xs).zip(&mut os) {
        block8!(y, a, p, k, xc, oc);
    }
    for (xv, ov) in xs.remainder().iter().zip(os.into_remainder()) {
        y = a * y + k * xv;
        *ov = y;
    }
    y
}

/// Two recurrences `y[c] = a[c]*y[c] + k[c]*x[c][t]` (c = 0, 1) advanced
/// together, eight steps per link of each chain, written so that each
/// operation acts on both chains at once (one two-wide vector operation).
/// For every block of eight steps `emit(t0, &ys)` receives the start index
/// and the eight pairs of results; a shorter tail is passed the same way.
#[inline(always)]
pub(crate) fn paired_recurrence<F: FnMut(usize, &[[f64; 2]])>(
    prev: [f64; 2],
    a: [f64; 2],
    k: [f64; 2],
    x: [&[f64]; 2],
    mut emit: F,
) -> [f64; 2] {
    let n = x[0].len().min(x[1].len());
    let (x0, x1) = (&x[0][..n], &x[1][..n]);
    let p0 = powers(a[0]);
    let p1 = powers(a[1]);
    let mut y = prev;
    let mut t = 0;
    while t + 8 <= n {
        let (u0, u1) = (&x0[t..t + 8], &x1[t..t + 8]);
        let mut c = [[0.0f64; 2]; 8];
        c[0] = [k[0] * u0[0], k[1] * u1[0]];
        for j in 1..8 {
            c[j] = [a[0] * c[j - 1][0] + k[0] * u0[j], a[1] * c[j - 1][1] + k[1] * u1[j]];
        }
        let mut ys = [[0.0f64; 2]; 8];
        for j in 0..8 {
            ys[j] = [p0[j] * y[0] + c[j][0], p1[j] * y[1] + c[j][1]];
        }
        y = ys[7];
        emit(t, &ys);
        t += 8;
    }
    let mut tail = [[0.0f64; 2]; 8];
    for (j, slot) in tail.iter_mut().enumerate().take(n - t) {
        y = [a[0] * y[0] + k[0] * x0[t + j], a[1] * y[1] + k[1] * x1[t + j]];
        *slot = y;
    }
    if t < n {
        emit(t, &tail[..n - t]);
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_recurrence_matches_one_step_at_a_time() {
        let x: Vec<f64> = (0..103).map(|i| (i as f64).sin() * 10.0 + 100.0).collect();
        let (a, k) = (0.9, 0.1);
        let mut out = vec![0.0; x.len()];
        let last = linear_recurrence(95.0, a, k, &x, &mut out);
        let mut y = 95.0;
        for (i, v) in x.iter().enumerate() {
            y = a * y + k * v;
            assert!((out[i] - y).abs() < 1e-12);
        }
        assert!((last - y).abs() < 1e-12);
    }
}
