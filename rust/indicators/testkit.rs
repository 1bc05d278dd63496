//! Checks every catalog state's unit tests share: replaying a series, saving
//! and loading mid-stream, peeking without consuming.

use super::indicator::{replay, Indicator};
use super::state::{Reader, Writer};

/// The outputs of `state` over `inputs` (one slice per input), one vector per output.
pub(crate) fn run(state: &mut dyn Indicator, inputs: &[&[f64]], n_outputs: usize) -> Vec<Vec<f64>> {
    let n = inputs[0].len();
    let mut outs = vec![vec![0.0; n]; n_outputs];
    let mut views: Vec<&mut [f64]> = outs.iter_mut().map(|o| o.as_mut_slice()).collect();
    replay(state, inputs, &mut views);
    outs
}

/// The first output of `state` after each bar (a bar is one value per input),
/// one `update` per bar.
pub(crate) fn first_outputs<B: AsRef<[f64]>>(state: &mut dyn Indicator, bars: impl IntoIterator<Item = B>) -> Vec<f64> {
    // Room for the most outputs any indicator has.
    let mut out = [0.0; 4];
    bars.into_iter()
        .map(|bar| {
            state.update(bar.as_ref(), &mut out);
            out[0]
        })
        .collect()
}

/// Same bits, or both NaN.
pub(crate) fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn slice_from<'a>(inputs: &[&'a [f64]], from: usize, to: usize) -> Vec<&'a [f64]> {
    inputs.iter().map(|x| &x[from..to]).collect()
}

/// Saving after each of `cuts` ticks and loading into a fresh state from
/// `make` continues exactly as the uninterrupted state.
pub(crate) fn assert_resumes<S: Indicator>(
    make: impl Fn() -> S,
    inputs: &[&[f64]],
    n_outputs: usize,
    cuts: &[usize],
) {
    let n = inputs[0].len();
    let want = run(&mut make(), inputs, n_outputs);
    for &cut in cuts {
        let mut first = make();
        run(&mut first, &slice_from(inputs, 0, cut), n_outputs);
        let mut w = Writer::fields();
        first.save(&mut w);
        let bytes = w.into_bytes();
        let mut second = make();
        let mut r = Reader::fields(&bytes);
        second.load(&mut r).expect("load what save wrote");
        r.finish().expect("load reads every field");
        let rest = run(&mut second, &slice_from(inputs, cut, n), n_outputs);
        for (o, (got, all)) in rest.iter().zip(&want).enumerate() {
            for (i, (a, b)) in got.iter().zip(&all[cut..]).enumerate() {
                assert!(same(*a, *b), "cut {cut}, output {o}, tick {}: {a} vs {b}", cut + i);
            }
        }
    }
}

/// `peek` returns what `update` would and leaves the state as it was.
pub(crate) fn assert_peek_is_pure<S: Indicator>(mut state: S, inputs: &[&[f64]], n_outputs: usize) {
    let n = inputs[0].len();
    let mut reference = state.boxed_clone();
    let mut tick = vec![0.0; inputs.len()];
    let (mut peeked, mut got, mut want) = (vec![0.0; n_outputs], vec![0.0; n_outputs], vec![0.0; n_outputs]);
    for i in 0..n {
        for (t, x) in tick.iter_mut().zip(inputs) {
            *t = x[i];
        }
        // Peek at a different tick first: it must leave no trace.
        let other: Vec<f64> = tick.iter().map(|v| v * 1.5 + 1.0).collect();
        state.peek(&other, &mut peeked);
        state.peek(&tick, &mut peeked);
        state.update(&tick, &mut got);
        reference.update(&tick, &mut want);
        for o in 0..n_outputs {
            assert!(same(got[o], want[o]), "tick {i}, output {o}");
            assert!(same(peeked[o], got[o]), "peek differs from update at tick {i}, output {o}");
        }
    }
}

/// A bumpy series around 100 (several scales of movement, repeated values).
pub(crate) fn wave(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let t = i as f64;
            100.0 + (t * 0.37).sin() * 4.0 + (t * 0.05).cos() * 9.0 + ((i * 7) % 5) as f64 * 0.3
        })
        .collect()
}

/// `n` bars of `inputs` random series around 100 (a walk with flat
/// steps and flat stretches, highs above and lows below when there are two or more
/// inputs), with NaN, +inf and -inf inside but not at the first bar (the
/// batch run has skipped leading NaN bars before a block kernel sees them).
pub(crate) fn rough(n: usize, inputs: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut level = 100.0;
    let mut out = vec![vec![0.0; n]; inputs];
    for i in 0..n {
        // Every fifth stretch of 64 bars is flat: every input at one level.
        if (i / 64) % 5 == 3 {
            for x in out.iter_mut() {
                x[i] = level;
            }
            continue;
        }
        if next() > 0.2 {
            level += next() - 0.5;
        }
        for (k, x) in out.iter_mut().enumerate() {
            let spread = if k == 0 && inputs >= 2 { next() } else if k == 1 && inputs >= 2 { -next() } else { 0.0 };
            x[i] = level + spread;
            if i > 0 {
                let u = next();
                if u < 0.004 {
                    x[i] = f64::NAN;
                } else if u < 0.006 {
                    x[i] = f64::INFINITY;
                } else if u < 0.008 {
                    x[i] = f64::NEG_INFINITY;
                }
            }
        }
    }
    out
}

/// A block kernel gives the bits of its stream replayed, on rough series of
/// many lengths (from shorter than the lookback on).
pub(crate) fn assert_batch_is_replay<S: Indicator>(
    batch: fn(&[f64], &[&[f64]], &mut [&mut [f64]]) -> crate::error::Result<()>,
    make: impl Fn(&[f64]) -> S,
    params: &[f64],
    n_inputs: usize,
    n_outputs: usize,
) {
    assert_batch_near_replay(batch, make, params, n_inputs, n_outputs, 0.0);
}

/// `assert_batch_is_replay` within `tolerance` (absolute) where both are
/// finite, for kernels built on the SMA and EMA block kernels, which sum in
/// lanes; NaN and infinities still where the stream has them.
pub(crate) fn assert_batch_near_replay<S: Indicator>(
    batch: fn(&[f64], &[&[f64]], &mut [&mut [f64]]) -> crate::error::Result<()>,
    make: impl Fn(&[f64]) -> S,
    params: &[f64],
    n_inputs: usize,
    n_outputs: usize,
    tolerance: f64,
) {
    for (seed, n) in [0usize, 1, 2, 3, 5, 17, 40, 300, 3000].into_iter().enumerate() {
        let data = rough(n, n_inputs, seed as u64 + 7);
        let inputs: Vec<&[f64]> = data.iter().map(|x| x.as_slice()).collect();
        let want = run(&mut make(params), &inputs, n_outputs);
        let mut got = vec![vec![-1.0; n]; n_outputs];
        let mut views: Vec<&mut [f64]> = got.iter_mut().map(|o| o.as_mut_slice()).collect();
        batch(params, &inputs, &mut views).expect("batch runs");
        for o in 0..n_outputs {
            for i in 0..n {
                let (a, b) = (got[o][i], want[o][i]);
                let near = a.is_finite() && b.is_finite() && (a - b).abs() <= tolerance;
                assert!(same(a, b) || near, "{params:?}, n {n}, output {o}, bar {i}: {a} vs {b}");
            }
        }
    }
}
