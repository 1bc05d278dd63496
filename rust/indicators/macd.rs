//! MACD (TA-Lib `MACD`): fast and slow EMAs of the prices, both starting at
//! index `slow_period - 1` (the slow one seeded with the average of the first
//! `slow_period` values, the fast one with the average of the `fast_period`
//! values ending there, as TA-Lib's INT_MACD does); macd = fast - slow; signal
//! = EMA of macd seeded with the average of its first `signal_period` values;
//! histogram = macd - signal. All three outputs start at index
//! `slow_period + signal_period - 2` (the lookback).

use super::ema::ema_k;
use super::scan::{rows_end, MacdLines};
use super::segments;
use super::indicator::Indicator;
use super::state::{ensure, Reader, Writer};
use super::{
    check_output, check_period, check_series, check_stream_period, direct_sum, first_valid,
};
use crate::error::{Error, Result};

fn check_periods(fast: usize, slow: usize, signal: usize, len: Option<usize>) -> Result<()> {
    match len {
        Some(n) => {
            check_period("fast_period", fast, n)?;
            check_period("slow_period", slow, n)?;
            check_period("signal_period", signal, n)?;
        }
        None => {
            check_stream_period("fast_period", fast)?;
            check_stream_period("slow_period", slow)?;
            check_stream_period("signal_period", signal)?;
        }
    }
    if fast > slow {
        return Err(Error::invalid(
            "fast_period",
            format!("must not exceed slow_period ({slow}), got {fast}"),
        ));
    }
    Ok(())
}

/// Writes MACD line, signal line and histogram of `prices` (each the length
/// of `prices`).
pub fn macd(
    prices: &[f64],
    fast_period: usize,
    slow_period: usize,
    signal_period: usize,
    out_macd: &mut [f64],
    out_signal: &mut [f64],
    out_hist: &mut [f64],
) -> Result<()> {
    check_series("prices", prices)?;
    check_periods(fast_period, slow_period, signal_period, Some(prices.len()))?;
    check_output("out_macd", out_macd, prices.len())?;
    check_output("out_signal", out_signal, prices.len())?;
    check_output("out_hist", out_hist, prices.len())?;
    let start = first_valid(prices);
    if !macd_fast(prices, start, fast_period, slow_period, signal_period, out_macd, out_signal, out_hist) {
        let mut stream = MacdStream::new(fast_period, slow_period, signal_period)?;
        stream.update_into(prices, out_macd, out_signal, out_hist);
    }
    Ok(())
}

/// The fast path. After the warm-up, `segments::macd` (eight segments of a
/// long series at once, else `scan::macd_rows`, a row of eight outputs at a
/// time) makes the outputs from the prices in one pass (both EMAs, their
/// difference, its signal EMA, the histogram: the prices are read once and
/// each output written once), at the process's CPU level. False when a non-finite value
/// was met (the caller falls back to TA-Lib's order).
#[allow(clippy::too_many_arguments)]
fn macd_fast(
    x: &[f64],
    start: usize,
    fast: usize,
    slow: usize,
    signal: usize,
    macd: &mut [f64],
    sig: &mut [f64],
    hist: &mut [f64],
) -> bool {
    let n = x.len();
    let lines_at = start + slow - 1;
    let first_out = lines_at + signal - 1;
    if first_out >= n {
        macd.fill(f64::NAN);
        sig.fill(f64::NAN);
        hist.fill(f64::NAN);
        return true;
    }
    // Fast and slow EMA together from `lines_at`; only their difference is kept.
    let slow_seed = direct_sum(&x[start..=lines_at]) / slow as f64;
    let fast_seed = direct_sum(&x[lines_at + 1 - fast..=lines_at]) / fast as f64;
    let (kf, ks, kg) = (ema_k(fast), ema_k(slow), ema_k(signal));
    let (af, a_s, ag) = (1.0 - kf, 1.0 - ks, 1.0 - kg);
    // The signal line's seed needs the first `signal` macd values, made one
    // step at a time (the NaN head is filled afterwards).
    let (mut f, mut s) = (fast_seed, slow_seed);
    macd[lines_at] = f - s;
    for t in lines_at + 1..=first_out {
        f = af * f + kf * x[t];
        s = a_s * s + ks * x[t];
        macd[t] = f - s;
    }
    let signal_seed = direct_sum(&macd[lines_at..=first_out]) / signal as f64;
    sig[first_out] = signal_seed;
    hist[first_out] = macd[first_out] - signal_seed;
    let from = first_out + 1;
    let lines = MacdLines { fast: (f, kf), slow: (s, ks), signal: (signal_seed, kg) };
    let ([f_end, s_end, g_end], finite) = segments::macd(x, from, lines, macd, sig, hist);
    let (mut f, mut s, mut g) = (f_end, s_end, g_end);
    for t in rows_end(from, n)..n {
        f = af * f + kf * x[t];
        s = a_s * s + ks * x[t];
        let line = f - s;
        g = ag * g + kg * line;
        macd[t] = line;
        sig[t] = g;
        hist[t] = line - g;
    }
    macd[..first_out].fill(f64::NAN);
    sig[..first_out].fill(f64::NAN);
    hist[..first_out].fill(f64::NAN);
    finite && [slow_seed, fast_seed, signal_seed, f, s, g].iter().all(|v| v.is_finite())
}

/// One MACD result: the line, its signal and the histogram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacdValue {
    pub macd: f64,
    pub signal: f64,
    pub histogram: f64,
}

const NAN_MACD: MacdValue = MacdValue {
    macd: f64::NAN,
    signal: f64::NAN,
    histogram: f64::NAN,
};

/// Streaming MACD, TA-Lib's operations in TA-Lib's order.
#[derive(Debug, Clone, PartialEq)]
pub struct MacdStream {
    fast: usize,
    slow: usize,
    signal: usize,
    started: bool,
    /// The first `slow` values, kept until both EMAs are seeded.
    warmup: Vec<f64>,
    fast_ema: f64,
    slow_ema: f64,
    /// MACD values taken by the signal line (saturates at `signal`).
    signal_count: usize,
    signal_sum: f64,
    signal_ema: f64,
}

impl MacdStream {
    /// The catalog's constructor: `[fastperiod, slowperiod, signalperiod]`;
    /// as TA-Lib, a slow period shorter than the fast one swaps the two.
    pub fn catalog(params: &[f64]) -> Result<Self> {
        let (fast, slow) = ordered_periods(params);
        Self::new(fast, slow, params[2] as usize)
    }

    pub fn new(fast_period: usize, slow_period: usize, signal_period: usize) -> Result<Self> {
        check_periods(fast_period, slow_period, signal_period, None)?;
        Ok(MacdStream {
            fast: fast_period,
            slow: slow_period,
            signal: signal_period,
            started: false,
            warmup: Vec::new(),
            fast_ema: f64::NAN,
            slow_ema: f64::NAN,
            signal_count: 0,
            signal_sum: 0.0,
            signal_ema: f64::NAN,
        })
    }

    #[inline]
    pub fn update(&mut self, x: f64) -> MacdValue {
        if !self.started {
            if x.is_nan() {
                return NAN_MACD;
            }
            self.started = true;
        }
        let line;
        if self.signal_count == 0 && self.warmup.len() < self.slow {
            self.warmup.push(x);
            if self.warmup.len() < self.slow {
                return NAN_MACD;
            }
            let sum_slow: f64 = self.warmup.iter().sum();
            let sum_fast: f64 = self.warmup[self.slow - self.fast..].iter().sum();
            self.slow_ema = sum_slow / self.slow as f64;
            self.fast_ema = sum_fast / self.fast as f64;
            self.warmup = Vec::new();
            line = self.fast_ema - self.slow_ema;
        } else {
            self.fast_ema += (x - self.fast_ema) * ema_k(self.fast);
            self.slow_ema += (x - self.slow_ema) * ema_k(self.slow);
            line = self.fast_ema - self.slow_ema;
        }
        if self.signal_count < self.signal {
            self.signal_count += 1;
            self.signal_sum += line;
            if self.signal_count < self.signal {
                return NAN_MACD;
            }
            self.signal_ema = self.signal_sum / self.signal as f64;
        } else {
            self.signal_ema += (line - self.signal_ema) * ema_k(self.signal);
        }
        MacdValue {
            macd: line,
            signal: self.signal_ema,
            histogram: line - self.signal_ema,
        }
    }

    pub fn update_into(
        &mut self,
        prices: &[f64],
        macd: &mut [f64],
        signal: &mut [f64],
        hist: &mut [f64],
    ) {
        for (i, &x) in prices
            .iter()
            .enumerate()
            .take(macd.len().min(signal.len()).min(hist.len()))
        {
            let v = self.update(x);
            macd[i] = v.macd;
            signal[i] = v.signal;
            hist[i] = v.histogram;
        }
    }

}

fn ordered_periods(params: &[f64]) -> (usize, usize) {
    let (fast, slow) = (params[0] as usize, params[1] as usize);
    (fast.min(slow), fast.max(slow))
}

impl Indicator for MacdStream {
    fn lookback(&self) -> usize {
        self.slow + self.signal - 2
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        let v = MacdStream::update(self, tick[0]);
        out[0] = v.macd;
        out[1] = v.signal;
        out[2] = v.histogram;
    }

    fn save(&self, w: &mut Writer) {
        w.flag(self.started)
            .f64s(&self.warmup)
            .f64(self.fast_ema)
            .f64(self.slow_ema)
            .usize(self.signal_count)
            .f64(self.signal_sum)
            .f64(self.signal_ema);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        let started = r.flag()?;
        let warmup = r.f64s(self.slow)?;
        let (fast_ema, slow_ema) = (r.f64()?, r.f64()?);
        let signal_count = r.usize()?;
        let (signal_sum, signal_ema) = (r.f64()?, r.f64()?);
        let (slow, signal) = (self.slow, self.signal);
        ensure(signal_count <= signal, "signal_count")?;
        // While warming up the values are kept; once the lines are seeded
        // they are dropped and the signal line has started counting.
        ensure(
            (signal_count == 0 && warmup.len() < slow && (started || warmup.is_empty()))
                || (signal_count > 0 && warmup.is_empty() && started),
            "warmup",
        )?;
        *self = MacdStream { started, warmup, fast_ema, slow_ema, signal_count, signal_sum, signal_ema, ..self.clone() };
        Ok(())
    }

    crate::impl_boxed_clone!();
}

/// The catalog's block kernel (leading NaNs already skipped).
pub fn batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let (fast, slow) = ordered_periods(params);
    let signal = params[2] as usize;
    if inputs[0].len() < slow + signal - 1 {
        for o in outputs.iter_mut() {
            o.fill(f64::NAN);
        }
        return Ok(());
    }
    let [m, s, h] = outputs else { unreachable!("MACD has three outputs") };
    macd(inputs[0], fast, slow, signal, m, s, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_equals_stream_with_talib_alignment() {
        let x: Vec<f64> = (0..1500)
            .map(|i| 100.0 + (i as f64 * 0.05).sin() * 8.0 + (i % 11) as f64 * 0.05)
            .collect();
        for (f, s, g) in [(12, 26, 9), (1, 1, 1), (3, 5, 2), (26, 26, 1)] {
            let n = x.len();
            let (mut m, mut sg, mut h) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            macd(&x, f, s, g, &mut m, &mut sg, &mut h).unwrap();
            let lookback = s + g - 2;
            assert!(m[..lookback].iter().all(|v| v.is_nan()) && !m[lookback].is_nan());
            assert!(sg[..lookback].iter().all(|v| v.is_nan()) && !h[lookback].is_nan());
            let mut st = MacdStream::new(f, s, g).unwrap();
            for i in 0..n {
                if i == 20 {
                    st = crate::indicators::indicator::round_trip(&st);
                }
                let v = st.update(x[i]);
                for (a, b) in [(v.macd, m[i]), (v.signal, sg[i]), (v.histogram, h[i])] {
                    assert!(
                        (a.is_nan() && b.is_nan()) || (a - b).abs() < 1e-10,
                        "({f},{s},{g}) i={i}: {a} vs {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn fast_longer_than_slow_is_refused() {
        let e = MacdStream::new(26, 12, 9).unwrap_err();
        assert!(e.message.starts_with("fast_period:"));
    }
}
