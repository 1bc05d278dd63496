//! Average true range (TA-Lib `ATR`, Wilder smoothing): true range
//! `max(high - low, |prev_close - high|, |prev_close - low|)` with TA-Lib's
//! comparisons (so a NaN previous close is ignored, a NaN high or low is
//! not), first ATR the simple average of the first `window` true ranges, then
//! `atr = (atr * (window - 1) + tr) / window`, which TA-Lib 0.8.1 computes as
//! `beta * atr + alpha * tr` (`beta = (window - 1) / window`, `alpha = 1 -
//! beta`, the first product fused into the addition), as the stream does.
//! Lookback `window`.

use super::scan::{atr_rows, rows_end};
use super::indicator::Indicator;
use super::state::{ensure, Reader, Writer};
use super::{check_output, check_period, check_series, check_stream_period};
use crate::error::{Error, Result};

/// From how many bytes of arrays (the three inputs and the output) the
/// output is written around the caches (`lanes::RowWriter`), which keeps the
/// inputs cached for the next call. Measured on a Zen 4 with 32 MiB of L3:
/// at 1,000,000 bars (30.5 MiB of arrays) 1.15-1.2x faster, at 2,000,000
/// 1.1-1.2x, at 800,000 as fast or slower, below that 5-10% slower. MACD
/// and the Bollinger bands, which write three bytes for each one they read,
/// measured 1.1-1.6x slower with any of their outputs streamed at
/// 1,000,000 values, so they keep ordinary stores.
const STREAM_FROM_BYTES: usize = 28 << 20;

/// Written as selects (TA-Lib's `if (x > greatest) greatest = x;` with the
/// same NaN behaviour: a NaN `x` never replaces, a NaN `greatest` stays),
/// which compile to `maxsd` instead of branches that random data mispredicts.
#[inline(always)]
pub(crate) fn true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    let greatest = high - low;
    let up = (prev_close - high).abs();
    let greatest = if up > greatest { up } else { greatest };
    let down = (prev_close - low).abs();
    if down > greatest {
        down
    } else {
        greatest
    }
}

/// First bar where high, low and close are all non-NaN (`talib` skips the
/// bars before it).
fn first_valid_bar(high: &[f64], low: &[f64], close: &[f64]) -> usize {
    (0..close.len())
        .find(|&i| !(high[i].is_nan() || low[i].is_nan() || close[i].is_nan()))
        .unwrap_or(close.len())
}

/// Checks that `high`, `low` and `close` are non-empty and equally long.
pub fn check_bars(high: &[f64], low: &[f64], close: &[f64]) -> Result<()> {
    check_series("high", high)?;
    if low.len() != high.len() {
        return Err(Error::invalid(
            "low",
            format!("has {} values but high has {}", low.len(), high.len()),
        ));
    }
    if close.len() != high.len() {
        return Err(Error::invalid(
            "close",
            format!("has {} values but high has {}", close.len(), high.len()),
        ));
    }
    Ok(())
}

/// Writes the `window`-period ATR of the bars to `out` (same length).
pub fn atr(high: &[f64], low: &[f64], close: &[f64], window: usize, out: &mut [f64]) -> Result<()> {
    check_bars(high, low, close)?;
    check_period("window", window, close.len())?;
    check_output("out", out, close.len())?;
    let start = first_valid_bar(high, low, close);
    if !atr_fast(high, low, close, start, window, out) {
        let mut stream = AtrStream::new(window)?;
        stream.update_into(high, low, close, out);
    }
    Ok(())
}

/// The fast path: true ranges and their Wilder average in one pass, a row
/// of eight at a time (`scan::atr_rows`, at the process's CPU level). False
/// when a non-finite value or a bar with its high below its low was met (the
/// caller falls back to TA-Lib's order).
fn atr_fast(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    start: usize,
    window: usize,
    out: &mut [f64],
) -> bool {
    let n = close.len();
    let first_out = start + window;
    out[..first_out.min(n)].fill(f64::NAN);
    if first_out >= n {
        return true;
    }
    let mut seed = 0.0;
    for t in start + 1..=first_out {
        seed += true_range(high[t], low[t], close[t - 1]);
    }
    let inv = 1.0 / window as f64;
    let value = seed * inv;
    out[first_out] = value;
    let a = (window as f64 - 1.0) * inv;
    let from = first_out + 1;
    let streaming = 4 * n * std::mem::size_of::<f64>() >= STREAM_FROM_BYTES;
    let (mut value, finite) = atr_rows(high, low, close, from, value, a, inv, out, streaming);
    for t in rows_end(from, n)..n {
        value = a * value + inv * true_range(high[t], low[t], close[t - 1]);
        out[t] = value;
    }
    finite && value.is_finite()
}

/// Streaming ATR, TA-Lib's operations in TA-Lib's order.
#[derive(Debug, Clone, PartialEq)]
pub struct AtrStream {
    window: usize,
    started: bool,
    /// True ranges taken so far (saturates at `window`).
    count: usize,
    prev_close: f64,
    sum: f64,
    value: f64,
}

impl AtrStream {
    /// The catalog's constructor: `[timeperiod]`.
    pub fn catalog(params: &[f64]) -> Result<Self> {
        Self::new(params[0] as usize)
    }

    pub fn new(window: usize) -> Result<Self> {
        check_stream_period("window", window)?;
        Ok(AtrStream {
            window,
            started: false,
            count: 0,
            prev_close: 0.0,
            sum: 0.0,
            value: f64::NAN,
        })
    }

    #[inline]
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> f64 {
        if !self.started {
            if high.is_nan() || low.is_nan() || close.is_nan() {
                return f64::NAN;
            }
            self.started = true;
            self.prev_close = close;
            return f64::NAN;
        }
        let tr = true_range(high, low, self.prev_close);
        self.prev_close = close;
        let w = self.window as f64;
        if self.count < self.window {
            self.count += 1;
            self.sum += tr;
            if self.count < self.window {
                return f64::NAN;
            }
            self.value = self.sum / w;
        } else {
            // TA-Lib 0.8.1's Wilder step, as NATR's (`trange::Natr`).
            let beta = (w - 1.0) / w;
            self.value = beta.mul_add(self.value, (1.0 - beta) * tr);
        }
        self.value
    }

    pub fn update_into(&mut self, high: &[f64], low: &[f64], close: &[f64], out: &mut [f64]) {
        for (i, o) in out
            .iter_mut()
            .enumerate()
            .take(close.len().min(high.len()).min(low.len()))
        {
            *o = self.update(high[i], low[i], close[i]);
        }
    }

}

impl Indicator for AtrStream {
    fn lookback(&self) -> usize {
        self.window
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        out[0] = AtrStream::update(self, tick[0], tick[1], tick[2]);
    }

    fn save(&self, w: &mut Writer) {
        w.flag(self.started).usize(self.count).f64(self.prev_close).f64(self.sum).f64(self.value);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        let started = r.flag()?;
        let count = r.usize()?;
        let (prev_close, sum, value) = (r.f64()?, r.f64()?, r.f64()?);
        ensure(count <= self.window && (started || count == 0), "count")?;
        // True ranges are never negative, nor is their average.
        ensure(!(sum < 0.0) && !(value < 0.0), "average true range")?;
        *self = AtrStream { window: self.window, started, count, prev_close, sum, value };
        Ok(())
    }

    crate::impl_boxed_clone!();
}

/// The catalog's block kernel (leading NaN bars already skipped).
pub fn batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let window = params[0] as usize;
    if inputs[0].len() <= window {
        outputs[0].fill(f64::NAN);
        return Ok(());
    }
    atr(inputs[0], inputs[1], inputs[2], window, outputs[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_values() {
        let high = [10.0, 11.0, 12.0, 11.5];
        let low = [9.0, 10.0, 10.5, 9.0];
        let close = [9.5, 10.5, 11.0, 10.0];
        // tr[1] = max(1, 1.5, 0.5) = 1.5; tr[2] = max(1.5, 1.5, 0) = 1.5; tr[3] = max(2.5, .5, 2) = 2.5
        let mut out = [0.0; 4];
        atr(&high, &low, &close, 2, &mut out).unwrap();
        assert!(out[0].is_nan() && out[1].is_nan());
        assert_eq!(out[2], 1.5);
        assert_eq!(out[3], 2.0);
    }

    #[test]
    fn mismatched_lengths_are_named() {
        let mut out = [0.0; 3];
        let e = atr(&[1.0; 3], &[1.0; 2], &[1.0; 3], 1, &mut out).unwrap_err();
        assert!(e.message.starts_with("low:"), "{}", e.message);
        let e = atr(&[1.0; 3], &[1.0; 3], &[1.0; 4], 1, &mut out).unwrap_err();
        assert!(e.message.starts_with("close:"), "{}", e.message);
    }

    #[test]
    fn a_long_series_gives_the_same_bits_at_every_output_alignment() {
        // Long enough for the output to be written around the caches, where
        // the lines it is cut into depend on the output's address.
        let n = 1_000_003;
        assert!(4 * n * 8 >= STREAM_FROM_BYTES);
        let close: Vec<f64> = (0..n).map(|i| 100.0 + (i as f64 * 0.013).sin() * 9.0).collect();
        let high: Vec<f64> = close.iter().enumerate().map(|(i, c)| c + 0.3 + (i % 7) as f64 * 0.05).collect();
        let low: Vec<f64> = close.iter().enumerate().map(|(i, c)| c - 0.2 - (i % 5) as f64 * 0.07).collect();
        let mut stream = AtrStream::new(14).unwrap();
        let want: Vec<f64> = (0..n).map(|i| stream.update(high[i], low[i], close[i])).collect();
        let mut buffer = vec![0.0; n + 8];
        let mut first: Option<Vec<u64>> = None;
        for offset in 0..8 {
            let out = &mut buffer[offset..offset + n];
            atr(&high, &low, &close, 14, out).unwrap();
            for (i, (got, want)) in out.iter().zip(&want).enumerate() {
                assert!(
                    (got.is_nan() && want.is_nan()) || (got - want).abs() <= 1e-12 * want,
                    "offset {offset}, bar {i}: {got} vs {want}"
                );
            }
            let bits: Vec<u64> = out.iter().map(|v| v.to_bits()).collect();
            match &first {
                None => first = Some(bits),
                Some(first) => assert!(first == &bits, "offset {offset} changed the bits"),
            }
        }
    }

    #[test]
    fn true_ranges_have_talibs_bits_with_ties_nans_and_inverted_bars() {
        // Prices on a coarse grid, so that closes equal highs and lows and
        // highs equal lows; window 1 makes the ATR the true range itself.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) % 9
        };
        let n = 4000;
        let close: Vec<f64> = (0..n).map(|_| 100.0 + next() as f64 * 0.25).collect();
        let high: Vec<f64> = close.iter().map(|c| c + next() as f64 * 0.125).collect();
        let low: Vec<f64> = close.iter().map(|c| c - next() as f64 * 0.125).collect();
        let mut close_nan = close.clone();
        close_nan[1000] = f64::NAN;
        let mut inverted = low.clone();
        inverted[3001] = high[3001] + 0.5;
        for (close, low) in [(&close, &low), (&close_nan, &low), (&close, &inverted)] {
            for w in [1, 14] {
                let mut batch = vec![0.0; n];
                atr(&high, low, close, w, &mut batch).unwrap();
                let mut stream = AtrStream::new(w).unwrap();
                for i in 0..n {
                    let want = stream.update(high[i], low[i], close[i]);
                    let close_enough = if w == 1 { want == batch[i] } else { (want - batch[i]).abs() < 1e-12 };
                    let got = batch[i];
                    assert!((want.is_nan() && got.is_nan()) || close_enough, "window {w}, bar {i}: {got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn batch_equals_stream() {
        let close: Vec<f64> = (0..2000)
            .map(|i| 100.0 + (i as f64 * 0.21).sin() * 6.0)
            .collect();
        let high: Vec<f64> = close
            .iter()
            .enumerate()
            .map(|(i, c)| c + 0.5 + (i % 5) as f64 * 0.1)
            .collect();
        let low: Vec<f64> = close
            .iter()
            .enumerate()
            .map(|(i, c)| c - 0.4 - (i % 3) as f64 * 0.2)
            .collect();
        for w in [1, 2, 14, 300] {
            let mut batch = vec![0.0; close.len()];
            atr(&high, &low, &close, w, &mut batch).unwrap();
            let mut s = AtrStream::new(w).unwrap();
            for i in 0..close.len() {
                let got = s.update(high[i], low[i], close[i]);
                assert!((got.is_nan() && batch[i].is_nan()) || (got - batch[i]).abs() < 1e-10);
            }
        }
    }
}
