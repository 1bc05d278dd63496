//! The fast loops shared by the batch indicators.
//!
//! Both break TA-Lib's single dependency chain: `rolling_mean` runs eight
//! independent lanes over blocks of the output (each block re-anchored with
//! a direct sum), and `linear_recurrence` advances `y = a*y + k*x` four steps
//! per link of its chain. No FMA is used, so results do not depend on the CPU.

use super::direct_sum;

/// Independent lanes a block of output is split into.
pub(crate) const LANES: usize = 8;

/// Outputs one lane covers before it is re-anchored with a direct sum: long
/// enough that the direct sums cost a small fraction of the work whatever the
/// window, short enough that the running sum never drifts.
pub(crate) fn lane_len_cap(window: usize) -> usize {
    (8 * window).max(2048)
}

/// `out[i] = mean(x[i+1-w ..= i])` for `i` in `from..x.len()` (`from >= w-1`).
/// Returns false if a sum was not finite (a NaN or infinity in the data), in
/// which case the caller recomputes with TA-Lib's operation order.
pub(crate) fn rolling_mean(x: &[f64], w: usize, from: usize, out: &mut [f64]) -> bool {
    let n = x.len();
    debug_assert!(from + 1 >= w && out.len() == n);
    let inv = 1.0 / w as f64;
    let mut finite = true;
    let mut pos = from;
    while pos < n {
        let remaining = n - pos;
        let lane = (remaining / LANES).min(lane_len_cap(w));
        if lane < 16 {
            finite &= rolling_mean_lane(x, w, pos, n, inv, out);
            break;
        }
        let mut sums = [0.0f64; LANES];
        for (k, sum) in sums.iter_mut().enumerate() {
            let s = pos + k * lane;
            *sum = direct_sum(&x[s + 1 - w..=s]);
            out[s] = *sum * inv;
        }
        for t in 1..lane {
            for (k, sum) in sums.iter_mut().enumerate() {
                let i = pos + k * lane + t;
                *sum += x[i] - x[i - w];
                out[i] = *sum * inv;
            }
        }
        finite &= sums.iter().all(|s| s.is_finite());
        pos += LANES * lane;
    }
    finite
}

fn rolling_mean_lane(x: &[f64], w: usize, start: usize, end: usize, inv: f64, out: &mut [f64]) -> bool {
    let mut sum = direct_sum(&x[start + 1 - w..=start]);
    out[start] = sum * inv;
    for i in start + 1..end {
        sum += x[i] - x[i - w];
        out[i] = sum * inv;
    }
    sum.is_finite()
}

/// `y[t] = a*y[t-1] + k*x[t]` from `y[-1] = prev`, written to `out`; returns
/// the last `y`. Four steps per link of the dependency chain:
/// `y[t+3] = a^4*y[t-1] + (a^3 k x[t] + a^2 k x[t+1] + a k x[t+2] + k x[t+3])`.
pub(crate) fn linear_recurrence(prev: f64, a: f64, k: f64, x: &[f64], out: &mut [f64]) -> f64 {
    debug_assert_eq!(x.len(), out.len());
    let (a2, a3) = (a * a, a * a * a);
    let a4 = a2 * a2;
    let mut y = prev;
    let mut xs = x.chunks_exact(4);
    let mut os = out.chunks_exact_mut(4);
    for (xc, oc) in (&mut xs).zip(&mut os) {
        let b0 = k * xc[0];
        let c1 = a * b0 + k * xc[1];
        let c2 = a * c1 + k * xc[2];
        let c3 = a * c2 + k * xc[3];
        oc[0] = a * y + b0;
        oc[1] = a2 * y + c1;
        oc[2] = a3 * y + c2;
        y = a4 * y + c3;
        oc[3] = y;
    }
    for (xv, ov) in xs.remainder().iter().zip(os.into_remainder()) {
        y = a * y + k * xv;
        *ov = y;
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_mean_matches_direct_means_across_lanes_and_blocks() {
        let x: Vec<f64> = (0..20_000).map(|i| ((i * 7919) % 1000) as f64 * 0.37 + 50.0).collect();
        for w in [1usize, 2, 5, 20, 300] {
            let mut out = vec![f64::NAN; x.len()];
            assert!(rolling_mean(&x, w, w - 1, &mut out));
            for i in (w - 1..x.len()).step_by(97).chain([x.len() - 1]) {
                let direct: f64 = x[i + 1 - w..=i].iter().sum::<f64>() / w as f64;
                assert!((out[i] - direct).abs() < 1e-10, "w={w} i={i}: {} vs {direct}", out[i]);
            }
        }
    }

    #[test]
    fn rolling_mean_reports_non_finite_data() {
        let mut x = vec![1.0; 100];
        x[40] = f64::NAN;
        let mut out = vec![0.0; 100];
        assert!(!rolling_mean(&x, 3, 2, &mut out));
    }

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

/// Two independent recurrences `y = a*y + k*x` advanced together (RSI's
/// average gain and loss): twice the independent work per link of the chain.
pub(crate) fn linear_recurrence2(
    prev: (f64, f64),
    a: f64,
    k: f64,
    x: (&[f64], &[f64]),
    out: (&mut [f64], &mut [f64]),
) -> (f64, f64) {
    let (a2, a3) = (a * a, a * a * a);
    let a4 = a2 * a2;
    let (mut y, mut z) = prev;
    let n = x.0.len().min(x.1.len()).min(out.0.len()).min(out.1.len());
    let (xa, xb) = (&x.0[..n], &x.1[..n]);
    let (oa, ob) = (&mut out.0[..n], &mut out.1[..n]);
    let full = n / 4 * 4;
    let mut t = 0;
    while t < full {
        let b0 = k * xa[t];
        let c1 = a * b0 + k * xa[t + 1];
        let c2 = a * c1 + k * xa[t + 2];
        let c3 = a * c2 + k * xa[t + 3];
        let e0 = k * xb[t];
        let f1 = a * e0 + k * xb[t + 1];
        let f2 = a * f1 + k * xb[t + 2];
        let f3 = a * f2 + k * xb[t + 3];
        oa[t] = a * y + b0;
        oa[t + 1] = a2 * y + c1;
        oa[t + 2] = a3 * y + c2;
        ob[t] = a * z + e0;
        ob[t + 1] = a2 * z + f1;
        ob[t + 2] = a3 * z + f2;
        y = a4 * y + c3;
        z = a4 * z + f3;
        oa[t + 3] = y;
        ob[t + 3] = z;
        t += 4;
    }
    while t < n {
        y = a * y + k * xa[t];
        z = a * z + k * xb[t];
        oa[t] = y;
        ob[t] = z;
        t += 1;
    }
    (y, z)
}
