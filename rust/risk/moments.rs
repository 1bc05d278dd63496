//! Sums and central moments with several independent accumulators: one
//! running sum is a chain of dependent additions, eight chains keep the adder
//! busy and let the compiler use SIMD. Summing in lanes also keeps rounding
//! error closer to NumPy's pairwise sums than one long chain would.

const LANES: usize = 8;

/// Sum of `f(x)` over `values`, accumulated in eight lanes.
#[inline]
pub fn lane_sum(values: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = [0.0f64; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for k in 0..LANES {
            acc[k] += f(chunk[k]);
        }
    }
    for (k, &x) in rest.iter().enumerate() {
        acc[k] += f(x);
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
}

pub fn mean(values: &[f64]) -> f64 {
    lane_sum(values, |x| x) / values.len() as f64
}

/// Standard deviation with `ddof` degrees of freedom, two passes around `mean`.
pub fn std_around(values: &[f64], mean: f64, ddof: usize) -> f64 {
    let squares = lane_sum(values, |x| (x - mean) * (x - mean));
    (squares / (values.len() - ddof) as f64).sqrt()
}

/// The biased second, third and fourth central moments (divided by n).
pub fn central_moments(values: &[f64], mean: f64) -> (f64, f64, f64) {
    let n = values.len() as f64;
    let mut m = [[0.0f64; LANES]; 3];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for k in 0..LANES {
            let d = chunk[k] - mean;
            let d2 = d * d;
            m[0][k] += d2;
            m[1][k] += d2 * d;
            m[2][k] += d2 * d2;
        }
    }
    for (k, &x) in rest.iter().enumerate() {
        let d = x - mean;
        let d2 = d * d;
        m[0][k] += d2;
        m[1][k] += d2 * d;
        m[2][k] += d2 * d2;
    }
    let total = |a: &[f64; LANES]| ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    (total(&m[0]) / n, total(&m[1]) / n, total(&m[2]) / n)
}
