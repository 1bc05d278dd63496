//! The fast loops shared by the batch indicators.
//!
//! They break TA-Lib's single dependency chain: `rolling_mean` runs eight
//! independent lanes over blocks of the output (each block re-anchored with
//! a direct sum); the recurrences are in `scan.rs`. No FMA contraction is
//! used, so results do not depend on the CPU.

use super::direct_sum;

/// Independent lanes a block of output is split into.
pub(crate) const LANES: usize = 8;

/// Outputs one lane covers before it is re-anchored with a direct sum: long
/// enough that the direct sums cost a small fraction of the work whatever the
/// window, short enough that the running sum never drifts.
pub(crate) fn lane_len_cap(window: usize) -> usize {
    (8 * window).max(4_000)
}

/// Shortens a lane so that lanes start 512 bytes apart modulo 4 KiB: lanes
/// whose starts differ by a multiple of 4 KiB compete for the same cache
/// sets (and alias in the load/store unit), which costs a third of the speed.
pub(crate) fn staggered(lane: usize) -> usize {
    if lane >= 1024 {
        lane - lane % 512 - 448
    } else {
        lane
    }
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
        let lane = staggered((remaining / LANES).min(lane_len_cap(w)));
        if lane < 16 {
            finite &= rolling_mean_lane(x, w, pos, n, inv, out);
            break;
        }
        let steps = lane - 1;
        let mut outs = out[pos..pos + LANES * lane].chunks_exact_mut(lane);
        let mut sums = [0.0f64; LANES];
        let mut new: [&[f64]; LANES] = [&[]; LANES];
        let mut old: [&[f64]; LANES] = [&[]; LANES];
        let mut dst: [&mut [f64]; LANES] = Default::default();
        for k in 0..LANES {
            let s = pos + k * lane;
            sums[k] = direct_sum(&x[s + 1 - w..=s]);
            let o = outs.next().unwrap_or_default();
            let (first, rest) = o.split_at_mut(1);
            first[0] = sums[k] * inv;
            dst[k] = rest;
            new[k] = &x[s + 1..s + 1 + steps];
            old[k] = &x[s + 1 - w..s + 1 - w + steps];
        }
        let [d0, d1, d2, d3, d4, d5, d6, d7] = dst;
        let [mut s0, mut s1, mut s2, mut s3, mut s4, mut s5, mut s6, mut s7] = sums;
        let (n0, n1, n2, n3, n4, n5, n6, n7) = (
            &new[0][..steps],
            &new[1][..steps],
            &new[2][..steps],
            &new[3][..steps],
            &new[4][..steps],
            &new[5][..steps],
            &new[6][..steps],
            &new[7][..steps],
        );
        let (o0, o1, o2, o3, o4, o5, o6, o7) = (
            &old[0][..steps],
            &old[1][..steps],
            &old[2][..steps],
            &old[3][..steps],
            &old[4][..steps],
            &old[5][..steps],
            &old[6][..steps],
            &old[7][..steps],
        );
        let (d0, d1, d2, d3, d4, d5, d6, d7) = (
            &mut d0[..steps],
            &mut d1[..steps],
            &mut d2[..steps],
            &mut d3[..steps],
            &mut d4[..steps],
            &mut d5[..steps],
            &mut d6[..steps],
            &mut d7[..steps],
        );
        for t in 0..steps {
            s0 += n0[t] - o0[t];
            d0[t] = s0 * inv;
            s1 += n1[t] - o1[t];
            d1[t] = s1 * inv;
            s2 += n2[t] - o2[t];
            d2[t] = s2 * inv;
            s3 += n3[t] - o3[t];
            d3[t] = s3 * inv;
            s4 += n4[t] - o4[t];
            d4[t] = s4 * inv;
            s5 += n5[t] - o5[t];
            d5[t] = s5 * inv;
            s6 += n6[t] - o6[t];
            d6[t] = s6 * inv;
            s7 += n7[t] - o7[t];
            d7[t] = s7 * inv;
        }
        finite &= [s0, s1, s2, s3, s4, s5, s6, s7]
            .iter()
            .all(|s| s.is_finite());
        pos += LANES * lane;
    }
    finite
}

fn rolling_mean_lane(
    x: &[f64],
    w: usize,
    start: usize,
    end: usize,
    inv: f64,
    out: &mut [f64],
) -> bool {
    let mut sum = direct_sum(&x[start + 1 - w..=start]);
    out[start] = sum * inv;
    for i in start + 1..end {
        sum += x[i] - x[i - w];
        out[i] = sum * inv;
    }
    sum.is_finite()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_mean_matches_direct_means_across_lanes_and_blocks() {
        let x: Vec<f64> = (0..20_000)
            .map(|i| ((i * 7919) % 1000) as f64 * 0.37 + 50.0)
            .collect();
        for w in [1usize, 2, 5, 20, 300] {
            let mut out = vec![f64::NAN; x.len()];
            assert!(rolling_mean(&x, w, w - 1, &mut out));
            for i in (w - 1..x.len()).step_by(97).chain([x.len() - 1]) {
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
    fn rolling_mean_reports_non_finite_data() {
        let mut x = vec![1.0; 100];
        x[40] = f64::NAN;
        let mut out = vec![0.0; 100];
        assert!(!rolling_mean(&x, 3, 2, &mut out));
    }
}
