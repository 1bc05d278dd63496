//! Bollinger bands (TA-Lib `BBANDS` with an SMA middle band): middle = SMA,
//! upper/lower = middle ± num_std * population standard deviation of the
//! window. Lookback `window - 1`.
//!
//! Accuracy: TA-Lib 0.8.1 computes the deviation essentially exactly (a flat
//! window gives exactly 0). The batch kernel (`rolling::rolling_bands`) and
//! the stream sum deviations from an anchor inside the data, re-anchored
//! regularly, and any window whose variance is too small to trust against
//! the rounding of those sums (a flat or nearly flat window) is recomputed
//! directly, so the same holds.

use super::indicator::Indicator;
use super::ma::{moving_average_lookback, moving_average_named};
use super::rolling::rolling_bands;
use super::stddev::RollingVariance;
use super::state::{ensure, Reader, Writer};
use super::{
    check_output, check_period, check_series, check_stream_period, first_valid,
};
use crate::error::{Error, Result};

/// A variance below `trust_factor * peak` (peak: the largest mean squared
/// deviation from the anchor the running sums have carried since it was set,
/// which bounds their rounding) may be mostly rounding; such a window is
/// recomputed directly.
pub(crate) fn trust_factor(steps: usize) -> f64 {
    16.0 * f64::EPSILON * steps as f64
}

/// Population variance of `xs`, two passes over deviations from its first
/// value (so a flat window gives exactly 0).
pub(crate) fn direct_variance(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let shift = xs[0];
    let mut sum = 0.0;
    for v in xs {
        sum += v - shift;
    }
    let mean = sum / n;
    let mut acc = [0.0f64; 4];
    let chunks = xs.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for j in 0..4 {
            let d = (c[j] - shift) - mean;
            acc[j] += d * d;
        }
    }
    let mut total = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for v in rest {
        let d = (v - shift) - mean;
        total += d * d;
    }
    total / n
}

#[inline]
fn std_of(variance: f64) -> f64 {
    if variance > 0.0 {
        variance.sqrt()
    } else if variance.is_nan() {
        f64::NAN
    } else {
        0.0
    }
}

fn check_num_std(name: &str, num_std: f64) -> Result<()> {
    if !num_std.is_finite() {
        return Err(Error::invalid(
            name,
            format!("must be finite, got {num_std}"),
        ));
    }
    Ok(())
}

/// Writes upper, middle and lower band of `prices` (each its length).
pub fn bollinger_bands(
    prices: &[f64],
    window: usize,
    dev_up: f64,
    dev_dn: f64,
    upper: &mut [f64],
    middle: &mut [f64],
    lower: &mut [f64],
) -> Result<()> {
    check_series("prices", prices)?;
    check_period("window", window, prices.len())?;
    check_num_std("nbdevup", dev_up)?;
    check_num_std("nbdevdn", dev_dn)?;
    check_output("upper", upper, prices.len())?;
    check_output("middle", middle, prices.len())?;
    check_output("lower", lower, prices.len())?;
    let n = prices.len();
    let first_out = first_valid(prices) + window - 1;
    let head = first_out.min(n);
    upper[..head].fill(f64::NAN);
    middle[..head].fill(f64::NAN);
    lower[..head].fill(f64::NAN);
    if first_out >= n {
        return Ok(());
    }
    if !rolling_bands(prices, window, first_out, dev_up, dev_dn, upper, middle, lower) {
        let mut stream = BollingerStream::new(window, dev_up, dev_dn)?;
        stream.update_into(prices, upper, middle, lower);
    }
    Ok(())
}

/// One Bollinger result, in the batch function's output order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bands {
    pub upper: f64,
    pub middle: f64,
    pub lower: f64,
}

const NAN_BANDS: Bands = Bands {
    upper: f64::NAN,
    middle: f64::NAN,
    lower: f64::NAN,
};

/// Streaming Bollinger bands. Keeps the last `window` values; sums of
/// deviations from an anchor follow TA-Lib's order of operations, are
/// re-anchored once per window while finite, and a window whose variance is
/// too small to trust is recomputed from the kept values.
#[derive(Debug, Clone, PartialEq)]
pub struct BollingerStream {
    window: usize,
    dev_up: f64,
    dev_dn: f64,
    ring: Vec<f64>,
    pos: usize,
    count: usize,
    started: bool,
    anchor: f64,
    /// Sums over the newest `window - 1` values of `x - anchor` and its square.
    partial1: f64,
    partial2: f64,
    /// Largest mean squared deviation carried since the anchor was set.
    peak: f64,
    since_anchor: usize,
}

impl BollingerStream {
    pub fn new(window: usize, dev_up: f64, dev_dn: f64) -> Result<Self> {
        check_stream_period("window", window)?;
        check_num_std("nbdevup", dev_up)?;
        check_num_std("nbdevdn", dev_dn)?;
        Ok(BollingerStream {
            window,
            dev_up,
            dev_dn,
            ring: vec![0.0; window],
            pos: 0,
            count: 0,
            started: false,
            anchor: 0.0,
            partial1: 0.0,
            partial2: 0.0,
            peak: 0.0,
            since_anchor: 0,
        })
    }

    #[inline]
    pub fn update(&mut self, x: f64) -> Bands {
        if !self.started {
            if x.is_nan() {
                return NAN_BANDS;
            }
            self.started = true;
            // An infinite first value must still reach the sums as infinite.
            self.anchor = if x.is_finite() { x } else { 0.0 };
        }
        let w = self.window;
        self.ring[self.pos] = x;
        self.pos = if self.pos + 1 == w { 0 } else { self.pos + 1 };
        let d = x - self.anchor;
        if self.count + 1 < w {
            self.count += 1;
            self.partial1 += d;
            self.partial2 += d * d;
            return NAN_BANDS;
        }
        self.count = w;
        let inv = 1.0 / w as f64;
        let t1 = self.partial1 + d;
        let t2 = self.partial2 + d * d;
        let (m1, q) = (t1 * inv, t2 * inv);
        let mut variance = q - m1 * m1;
        let middle = self.anchor + m1;
        self.peak = self.peak.max(q);
        if !(variance > trust_factor(2 * w) * self.peak || self.peak == 0.0)
            && t1.is_finite()
            && t2.is_finite()
        {
            variance = direct_variance(&self.ring);
        }
        let std = std_of(variance);
        let d_old = self.ring[self.pos] - self.anchor;
        self.partial1 = t1 - d_old;
        self.partial2 = t2 - d_old * d_old;
        self.since_anchor += 1;
        if self.since_anchor >= w && self.partial1.is_finite() && self.partial2.is_finite() {
            self.reanchor(x);
        }
        Bands {
            upper: middle + std * self.dev_up,
            middle,
            lower: middle - std * self.dev_dn,
        }
    }

    fn reanchor(&mut self, anchor: f64) {
        let (mut p1, mut p2) = (0.0, 0.0);
        for (j, v) in self.ring.iter().enumerate() {
            if j != self.pos {
                let d = v - anchor;
                p1 += d;
                p2 += d * d;
            }
        }
        self.anchor = anchor;
        self.partial1 = p1;
        self.partial2 = p2;
        self.peak = 0.0;
        self.since_anchor = 0;
    }

    pub fn update_into(
        &mut self,
        prices: &[f64],
        upper: &mut [f64],
        middle: &mut [f64],
        lower: &mut [f64],
    ) {
        for (i, &x) in prices
            .iter()
            .enumerate()
            .take(upper.len().min(middle.len()).min(lower.len()))
        {
            let b = self.update(x);
            upper[i] = b.upper;
            middle[i] = b.middle;
            lower[i] = b.lower;
        }
    }
}

impl Indicator for BollingerStream {
    fn lookback(&self) -> usize {
        self.window - 1
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        let b = BollingerStream::update(self, tick[0]);
        out[0] = b.upper;
        out[1] = b.middle;
        out[2] = b.lower;
    }

    fn save(&self, w: &mut Writer) {
        w.usize(self.pos)
            .usize(self.count)
            .flag(self.started)
            .f64(self.anchor)
            .f64(self.partial1)
            .f64(self.partial2)
            .f64(self.peak)
            .usize(self.since_anchor)
            .f64s(&self.ring);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        let window = self.window;
        let pos = r.usize()?;
        let count = r.usize()?;
        let started = r.flag()?;
        let anchor = r.f64()?;
        let partial1 = r.f64()?;
        let partial2 = r.f64()?;
        let peak = r.f64()?;
        let since_anchor = r.usize()?;
        let ring = r.f64s(window)?;
        ensure(ring.len() == window && pos < window, "ring")?;
        ensure(count <= window && (started || count == 0), "count")?;
        ensure(since_anchor <= window, "since_anchor")?;
        // Sums of squares are never negative.
        ensure(!(partial2 < 0.0) && !(peak < 0.0), "sum of squares")?;
        *self = BollingerStream { ring, pos, count, started, anchor, partial1, partial2, peak, since_anchor, ..self.clone() };
        Ok(())
    }

    crate::impl_boxed_clone!();
}

/// BBANDS with a moving-average type other than SMA, as TA-Lib computes it:
/// the middle band is `MA(matype)` of the window, the deviation TA-Lib's
/// `STDDEV` (square root of its `VAR`) of the same `timeperiod` values; the
/// bands start where the average does (its lookback).
pub struct BandsOfMa {
    average: Box<dyn Indicator>,
    variance: RollingVariance,
    dev_up: f64,
    dev_dn: f64,
    lookback: usize,
}

impl Clone for BandsOfMa {
    fn clone(&self) -> Self {
        BandsOfMa { average: self.average.boxed_clone(), variance: self.variance.clone(), ..*self }
    }
}

impl Indicator for BandsOfMa {
    fn lookback(&self) -> usize {
        self.lookback
    }

    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        let mut middle = [f64::NAN];
        self.average.update(tick, &mut middle);
        let std = self.variance.update(tick[0]).sqrt();
        let middle = middle[0];
        out[0] = middle + std * self.dev_up;
        out[1] = middle;
        out[2] = middle - std * self.dev_dn;
        if middle.is_nan() {
            out.fill(f64::NAN);
        }
    }

    fn save(&self, w: &mut Writer) {
        self.average.save(w);
        self.variance.save(w);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.average.load(r)?;
        self.variance.load(r)
    }

    crate::impl_boxed_clone!();
}

/// BBANDS in the catalog: the SMA bands (`BollingerStream`), or the bands of
/// another moving-average type.
#[derive(Clone)]
pub enum Bbands {
    Sma(BollingerStream),
    OfMa(BandsOfMa),
}

impl Bbands {
    /// The catalog's constructor: `[timeperiod, nbdevup, nbdevdn, matype]`.
    pub fn catalog(params: &[f64]) -> Result<Self> {
        let (period, matype) = (params[0] as usize, params[3] as usize);
        if matype == 0 {
            return Ok(Bbands::Sma(BollingerStream::new(period, params[1], params[2])?));
        }
        Ok(Bbands::OfMa(BandsOfMa {
            average: moving_average_named("matype", matype, period)?,
            variance: RollingVariance::new(period)?,
            dev_up: params[1],
            dev_dn: params[2],
            lookback: moving_average_lookback(matype, period),
        }))
    }

    fn inner(&self) -> &dyn Indicator {
        match self {
            Bbands::Sma(s) => s,
            Bbands::OfMa(s) => s,
        }
    }

    fn inner_mut(&mut self) -> &mut dyn Indicator {
        match self {
            Bbands::Sma(s) => s,
            Bbands::OfMa(s) => s,
        }
    }
}

impl Indicator for Bbands {
    fn lookback(&self) -> usize {
        self.inner().lookback()
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        match self {
            Bbands::Sma(s) => Indicator::update(s, tick, out),
            Bbands::OfMa(s) => s.update(tick, out),
        }
    }

    fn save(&self, w: &mut Writer) {
        self.inner().save(w)
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.inner_mut().load(r)
    }

    crate::impl_boxed_clone!();
}

/// The catalog's block kernel (leading NaNs already skipped): the SMA bands'
/// fast path, or the stream of another MA type replayed.
#[inline(always)]
pub fn batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    if params[3] != 0.0 {
        return super::indicator::replay_inline(Bbands::catalog(params)?, inputs, outputs);
    }
    let window = params[0] as usize;
    if inputs[0].len() < window {
        for o in outputs.iter_mut() {
            o.fill(f64::NAN);
        }
        return Ok(());
    }
    let [u, m, l] = outputs else { unreachable!("BBANDS has three outputs") };
    bollinger_bands(inputs[0], window, params[1], params[2], u, m, l)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bands(x: &[f64], w: usize, k: f64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let n = x.len();
        let (mut u, mut m, mut l) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        bollinger_bands(x, w, k, k, &mut u, &mut m, &mut l).unwrap();
        (u, m, l)
    }

    #[test]
    fn matches_two_pass_population_std() {
        let x: Vec<f64> = (0..20_000)
            .map(|i| 100.0 + (i as f64 * 0.013).sin() * 20.0 + (i % 13) as f64 * 0.3)
            .collect();
        for w in [1, 2, 20, 700] {
            let (u, m, l) = bands(&x, w, 2.0);
            for i in (w - 1..x.len()).step_by(61) {
                let win = &x[i + 1 - w..=i];
                let mean = win.iter().sum::<f64>() / w as f64;
                let sd =
                    (win.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / w as f64).sqrt();
                assert!((m[i] - mean).abs() < 1e-10);
                assert!((u[i] - (mean + 2.0 * sd)).abs() < 1e-9, "w={w} i={i}");
                assert!((l[i] - (mean - 2.0 * sd)).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn flat_windows_have_zero_width() {
        let mut x: Vec<f64> = (0..3000)
            .map(|i| 100.0 + (i as f64 * 0.5).sin() * 30.0)
            .collect();
        x.extend(std::iter::repeat(100.1).take(3000));
        let (u, m, _) = bands(&x, 20, 2.0);
        for i in 3019..x.len() {
            assert!((u[i] - m[i]).abs() < 1e-12, "i={i}: {}", u[i] - m[i]);
        }
        let mut s = BollingerStream::new(20, 2.0, 2.0).unwrap();
        for (i, &v) in x.iter().enumerate() {
            let b = s.update(v);
            if i >= 3019 {
                assert!((b.upper - b.middle).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn hand_computed_values() {
        let (u, m, l) = bands(&[1.0, 3.0, 5.0], 2, 2.0);
        assert!(u[0].is_nan() && m[0].is_nan() && l[0].is_nan());
        assert_eq!((u[1], m[1], l[1]), (4.0, 2.0, 0.0));
        assert_eq!((u[2], m[2], l[2]), (6.0, 4.0, 2.0));
    }

    #[test]
    fn stream_equals_batch_across_save_load() {
        let x: Vec<f64> = (0..4000)
            .map(|i| 50.0 + (i as f64 * 0.07).cos() * 3.0)
            .collect();
        let (u, m, l) = bands(&x, 15, 1.5);
        let mut s = BollingerStream::new(15, 1.5, 1.5).unwrap();
        for i in 0..x.len() {
            if i % 333 == 7 {
                s = crate::indicators::indicator::round_trip(&s);
            }
            let b = s.update(x[i]);
            for (a, e) in [(b.upper, u[i]), (b.middle, m[i]), (b.lower, l[i])] {
                assert!(
                    (a.is_nan() && e.is_nan()) || (a - e).abs() < 1e-10,
                    "i={i}: {a} vs {e}"
                );
            }
        }
    }

    #[test]
    fn num_std_must_be_finite() {
        let mut o = [0.0; 2];
        let e = bollinger_bands(
            &[1.0, 2.0],
            2,
            f64::NAN,
            2.0,
            &mut o.clone(),
            &mut o.clone(),
            &mut o,
        )
        .unwrap_err();
        assert!(e.message.starts_with("nbdevup:"));
    }
}
