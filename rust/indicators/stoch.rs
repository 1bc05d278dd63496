//! Stochastics (TA-Lib `STOCH`, `STOCHF`, `STOCHRSI`).
//!
//! %K = (close - lowest low) / (highest high - lowest low) * 100 over the
//! last `fastk_period` bars, 0 when the range is within 1e-14 of the
//! extremes' magnitude (TA-Lib 0.8.1's scaled zero test). STOCHF returns %K and
//! its average %D; STOCH returns the average of %K (slow %K) and the
//! average of that (slow %D); STOCHRSI is STOCHF over the RSI (the RSI
//! serving as high, low and close). Each average is `ma::moving_average` of
//! its MA type, started at the first value of its input, as TA-Lib runs
//! `TA_MA` over its buffer of %K.
//!
//! The extremes are tracked as ta_STOCH.c tracks them: the window is
//! rescanned (keeping the oldest of equal extremes) only when the current
//! extreme leaves it, otherwise a new bar that equals or passes it takes
//! its place. That decides how a NaN high or low propagates, so it is
//! replayed exactly.

use super::cpu;
use super::indicator::Indicator;
use super::ma::{moving_average_batch, moving_average_lookback, moving_average_named};
use super::state::{ensure, Reader, Writer};
use super::window::Window;
use crate::error::Result;

/// Fast %K over the last `period` bars.
#[derive(Debug, Clone, PartialEq)]
struct FastK {
    period: usize,
    highs: Window,
    lows: Window,
    /// Bars taken so far.
    bars: u64,
    /// Bar index of the current extreme; None before the first %K.
    lowest_at: Option<u64>,
    highest_at: Option<u64>,
    lowest: f64,
    highest: f64,
}

impl FastK {
    fn new(period: usize) -> Self {
        FastK {
            period,
            highs: Window::new(period),
            lows: Window::new(period),
            bars: 0,
            lowest_at: None,
            highest_at: None,
            lowest: 0.0,
            highest: 0.0,
        }
    }

    /// Takes one bar; %K once `period` bars are in.
    #[inline]
    fn update(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let today = self.bars;
        self.bars += 1;
        self.highs.push(high);
        self.lows.push(low);
        if self.bars < self.period as u64 {
            return None;
        }
        let trailing = today + 1 - self.period as u64;
        // Bar `i` (trailing <= i <= today) is window entry `i - trailing`.
        if self.lowest_at.map_or(true, |at| at < trailing) {
            let mut at = trailing;
            let mut lowest = self.lows.get(0);
            for i in 1..self.period {
                let v = self.lows.get(i);
                if v < lowest {
                    at = trailing + i as u64;
                    lowest = v;
                }
            }
            self.lowest_at = Some(at);
            self.lowest = lowest;
        } else if low <= self.lowest {
            self.lowest_at = Some(today);
            self.lowest = low;
        }
        if self.highest_at.map_or(true, |at| at < trailing) {
            let mut at = trailing;
            let mut highest = self.highs.get(0);
            for i in 1..self.period {
                let v = self.highs.get(i);
                if v > highest {
                    at = trailing + i as u64;
                    highest = v;
                }
            }
            self.highest_at = Some(at);
            self.highest = highest;
        } else if high >= self.highest {
            self.highest_at = Some(today);
            self.highest = high;
        }
        Some(k_value(close, self.lowest, self.highest))
    }

    fn save(&self, w: &mut Writer) {
        self.highs.save(w);
        self.lows.save(w);
        let at = |a: Option<u64>| a.map_or(0, |i| i + 1);
        w.u64(self.bars).u64(at(self.lowest_at)).u64(at(self.highest_at)).f64(self.lowest).f64(self.highest);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.highs.load(r)?;
        self.lows.load(r)?;
        self.bars = r.u64()?;
        let at = |v: u64| v.checked_sub(1);
        self.lowest_at = at(r.u64()?);
        self.highest_at = at(r.u64()?);
        self.lowest = r.f64()?;
        self.highest = r.f64()?;
        let kept = self.bars.min(self.period as u64) as usize;
        ensure(self.highs.len() == kept && self.lows.len() == kept, "bars kept")?;
        let warm = self.bars >= self.period as u64;
        let valid = |a: Option<u64>| match a {
            None => !warm,
            Some(i) => warm && i < self.bars && i + self.period as u64 >= self.bars,
        };
        ensure(valid(self.lowest_at) && valid(self.highest_at), "extreme positions")?;
        Ok(())
    }
}

/// A moving average fed from another line, with a count of the values it
/// has taken up to its lookback (so it is known when its output counts).
struct Smoother {
    ma: Box<dyn Indicator>,
    lookback: usize,
    taken: usize,
}

impl Smoother {
    fn new(param: &str, matype: usize, period: usize) -> Result<Self> {
        let ma = moving_average_named(param, matype, period)?;
        Ok(Smoother { lookback: moving_average_lookback(matype, period), ma, taken: 0 })
    }

    /// The average after taking `x`, once past the lookback.
    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        let mut out = [0.0];
        self.ma.update(&[x], &mut out);
        if self.taken < self.lookback {
            self.taken += 1;
            return None;
        }
        Some(out[0])
    }

    fn save(&self, w: &mut Writer) {
        w.usize(self.taken);
        self.ma.save(w);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.taken = r.usize()?;
        ensure(self.taken <= self.lookback, "values taken by an average")?;
        self.ma.load(r)
    }
}

impl Clone for Smoother {
    fn clone(&self) -> Self {
        Smoother { ma: self.ma.boxed_clone(), lookback: self.lookback, taken: self.taken }
    }
}

/// STOCH (slow: both averages) and STOCHF (fast: %K and one average).
#[derive(Clone)]
pub struct Stoch {
    k: FastK,
    /// Slow %K (STOCH) or %D (STOCHF).
    first: Smoother,
    /// Slow %D (STOCH only).
    second: Option<Smoother>,
}

impl Stoch {
    /// STOCH's constructor: `[fastk_period, slowk_period, slowk_matype,
    /// slowd_period, slowd_matype]`.
    pub fn slow(params: &[f64]) -> Result<Self> {
        let p = |i: usize| params[i] as usize;
        Ok(Stoch {
            k: FastK::new(p(0)),
            first: Smoother::new("slowk_matype", p(2), p(1))?,
            second: Some(Smoother::new("slowd_matype", p(4), p(3))?),
        })
    }

    /// STOCHF's constructor: `[fastk_period, fastd_period, fastd_matype]`.
    pub fn fast(params: &[f64]) -> Result<Self> {
        let p = |i: usize| params[i] as usize;
        Ok(Stoch { k: FastK::new(p(0)), first: Smoother::new("fastd_matype", p(2), p(1))?, second: None })
    }

    /// Both outputs for one bar, None while warming up.
    #[inline]
    fn step(&mut self, high: f64, low: f64, close: f64) -> Option<(f64, f64)> {
        let k = self.k.update(high, low, close)?;
        let first = self.first.update(k)?;
        match &mut self.second {
            None => Some((k, first)),
            Some(second) => Some((first, second.update(first)?)),
        }
    }
}

impl Indicator for Stoch {
    fn lookback(&self) -> usize {
        self.k.period - 1 + self.first.lookback + self.second.as_ref().map_or(0, |s| s.lookback)
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        let (a, b) = self.step(tick[0], tick[1], tick[2]).unwrap_or((f64::NAN, f64::NAN));
        out[0] = a;
        out[1] = b;
    }

    fn save(&self, w: &mut Writer) {
        self.k.save(w);
        self.first.save(w);
        if let Some(second) = &self.second {
            second.save(w);
        }
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.k.load(r)?;
        self.first.load(r)?;
        if let Some(second) = &mut self.second {
            second.load(r)?;
        }
        Ok(())
    }

    crate::impl_boxed_clone!();
}

cpu::level_copies! {
    /// Writes %K of every bar from the `period`-th on to `out` (entry 0 is bar
    /// `period - 1`): `FastK::update`'s comparisons and arithmetic, reading the
    /// bars in place. The extremes go to `out` and `scratch` first and %K is a
    /// second, element-wise pass over them (vectorised: a division is exactly
    /// rounded at any width), so the scan does not wait on a division per bar.
    /// Compiled for each CPU level (`cpu::level_copies!`).
    fn fast_k_series(period: usize, high: &[f64], low: &[f64], close: &[f64], out: &mut [f64], scratch: &mut [f64]) -> () {
        let n = close.len();
        let m = n + 1 - period;
        let (lows, highs) = (&mut out[..m], &mut scratch[..m]);
        if period <= DIRECT_MAX && plain(low) && (std::ptr::eq(low, high) || plain(high)) {
            window_extremes(period, low, high, lows, highs);
        } else {
            tracked_extremes(period, low, high, lows, highs);
        }
        for ((k, &highest), &close) in lows.iter_mut().zip(&*highs).zip(&close[period - 1..]) {
            *k = k_value(close, *k, highest);
        }
    }
}

/// The longest window whose extremes `window_extremes` takes: it compares
/// every bar with `period - 1` others, where the tracking compares about 2.
const DIRECT_MAX: usize = 32;

/// Bars per block of `window_extremes`: its inputs and outputs stay in L1.
const EXTREMES_BLOCK: usize = 1024;

/// No NaN and no -0.0 in `x`. Then, in every window, the tracked extreme is
/// the window's minimum (maximum): every comparison is a total order, and
/// equal values are equal bits, so which of equal bars is kept is moot.
#[inline(always)]
fn plain(x: &[f64]) -> bool {
    // A fold without an early exit, so it vectorises.
    !x.iter().fold(false, |odd, &v| odd | v.is_nan() | (v.to_bits() == (-0.0f64).to_bits()))
}

/// The lowest low and highest high of each window of `period` bars (window
/// `j` ends at bar `j + period - 1`), over series that are `plain`: element-
/// wise minima and maxima of the window's bars, a block of windows at a time
/// (vectorised, branch-free), with the tracking's comparisons (`v < lowest`,
/// `v > highest`), so the tracking's values.
#[inline(always)]
fn window_extremes(period: usize, low: &[f64], high: &[f64], lows: &mut [f64], highs: &mut [f64]) {
    let m = lows.len();
    let mut j0 = 0;
    while j0 < m {
        let len = EXTREMES_BLOCK.min(m - j0);
        let (lo, hi) = (&mut lows[j0..j0 + len], &mut highs[j0..j0 + len]);
        let (l0, h0) = (&low[j0..][..len], &high[j0..][..len]);
        if period == 1 {
            lo.copy_from_slice(l0);
            hi.copy_from_slice(h0);
        } else {
            // The first comparison reads both bars from the inputs (no copy).
            let (l1, h1) = (&low[j0 + 1..][..len], &high[j0 + 1..][..len]);
            for j in 0..len {
                lo[j] = if l1[j] < l0[j] { l1[j] } else { l0[j] };
                hi[j] = if h1[j] > h0[j] { h1[j] } else { h0[j] };
            }
        }
        for i in 2..period {
            let (l, h) = (&low[j0 + i..][..len], &high[j0 + i..][..len]);
            for j in 0..len {
                lo[j] = if l[j] < lo[j] { l[j] } else { lo[j] };
                hi[j] = if h[j] > hi[j] { h[j] } else { hi[j] };
            }
        }
        j0 += len;
    }
}

/// The lowest low and highest high of each window of `period` bars, tracked
/// as `FastK::update` tracks them (the window is rescanned only when its
/// extreme leaves it): what decides how a NaN propagates.
#[inline(always)]
fn tracked_extremes(period: usize, low: &[f64], high: &[f64], lows: &mut [f64], highs: &mut [f64]) {
    let n = lows.len() + period - 1;
    // Extremes are tracked by one past their bar (0: none yet). The scans
    // take a new extreme with selects, not branches: which bar of a window
    // is lowest is what random data leaves unpredictable.
    let (mut lowest_at, mut highest_at) = (0usize, 0usize);
    let (mut lowest, mut highest) = (0.0, 0.0);
    for (j, today) in (period - 1..n).enumerate() {
        let trailing = today + 1 - period;
        if lowest_at <= trailing {
            let mut at = trailing;
            lowest = low[trailing];
            for (i, &v) in low[trailing + 1..=today].iter().enumerate() {
                let lower = v < lowest;
                at = if lower { trailing + 1 + i } else { at };
                lowest = if lower { v } else { lowest };
            }
            lowest_at = at + 1;
        } else {
            // A select, not a branch: whether today is a new extreme is
            // as unpredictable as the scans' comparisons.
            let lower = low[today] <= lowest;
            lowest_at = if lower { today + 1 } else { lowest_at };
            lowest = if lower { low[today] } else { lowest };
        }
        if highest_at <= trailing {
            let mut at = trailing;
            highest = high[trailing];
            for (i, &v) in high[trailing + 1..=today].iter().enumerate() {
                let higher = v > highest;
                at = if higher { trailing + 1 + i } else { at };
                highest = if higher { v } else { highest };
            }
            highest_at = at + 1;
        } else {
            let higher = high[today] >= highest;
            highest_at = if higher { today + 1 } else { highest_at };
            highest = if higher { high[today] } else { highest };
        }
        (lows[j], highs[j]) = (lowest, highest);
    }
}

/// %K from the close and the extremes, with TA-Lib 0.8.1's scaled zero
/// test: a range within 1e-14 of the extremes' magnitude is flat (a NaN
/// range is not).
#[inline(always)]
fn k_value(close: f64, lowest: f64, highest: f64) -> f64 {
    let range = highest - lowest;
    let flat = range.abs() <= (highest.abs() + lowest.abs()) * 1e-14;
    // Both arms computed and one selected, so a pass over many bars
    // vectorises (a flat range's division is not chosen).
    let k = (close - lowest) / range * 100.0;
    if flat {
        0.0
    } else {
        k
    }
}

/// STOCHF over whole series: %K into a buffer, then its average over the
/// buffer, as TA-Lib runs `TA_MA` over its %K buffer.
fn fast_batch(p: [usize; 3], high: &[f64], low: &[f64], close: &[f64], out: &mut [&mut [f64]]) -> Result<()> {
    let [fastk, fastd, matype] = p;
    let n = close.len();
    let lookback = fastk - 1 + moving_average_lookback(matype, fastd);
    for o in out.iter_mut() {
        o[..lookback.min(n)].fill(f64::NAN);
    }
    if n <= lookback {
        return Ok(());
    }
    // %K straight into its output from its first bar, %D over it into the
    // other; the bars before the lookback are then set to NaN.
    let (out_k, rest) = out.split_at_mut(1);
    let (out_k, out_d) = (&mut *out_k[0], &mut *rest[0]);
    fast_k_series(fastk, high, low, close, &mut out_k[fastk - 1..], &mut out_d[fastk - 1..]);
    moving_average_batch(matype, fastd, &out_k[fastk - 1..], &mut out_d[fastk - 1..])?;
    out_k[..lookback].fill(f64::NAN);
    out_d[..lookback].fill(f64::NAN);
    Ok(())
}

/// STOCH's batch kernel (the record's parameters). Scalar: TA-Lib's
/// cached-index extremes and the running sums of its smoothing, in order.
pub fn slow_batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let stoch = Stoch::slow(params)?;
    let p = |i: usize| params[i] as usize;
    let (fastk, slowk, slowk_type, slowd, slowd_type) = (p(0), p(1), p(2), p(3), p(4));
    let n = inputs[2].len();
    let lookback = stoch.lookback();
    for o in outputs.iter_mut() {
        o[..lookback.min(n)].fill(f64::NAN);
    }
    if n <= lookback {
        return Ok(());
    }
    // %K into a buffer, its average straight into the slow %K output from
    // %K's first bar, the slow %D over that from the slow %K's first value;
    // the bars before the lookback are then set to NaN.
    let mut k = vec![0.0; n - (fastk - 1)];
    let (out_k, rest) = outputs.split_at_mut(1);
    let (out_k, out_d) = (&mut *out_k[0], &mut *rest[0]);
    // The slow %D output is written last, so it holds the extremes until then.
    fast_k_series(fastk, inputs[0], inputs[1], inputs[2], &mut k, &mut out_d[fastk - 1..]);
    moving_average_batch(slowk_type, slowk, &k, &mut out_k[fastk - 1..])?;
    let first_k = fastk - 1 + moving_average_lookback(slowk_type, slowk);
    moving_average_batch(slowd_type, slowd, &out_k[first_k..], &mut out_d[first_k..])?;
    out_k[..lookback].fill(f64::NAN);
    out_d[..lookback].fill(f64::NAN);
    Ok(())
}

/// STOCHF's batch kernel (the record's parameters).
pub fn fast_batch_catalog(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    Stoch::fast(params)?;
    let p = [params[0] as usize, params[1] as usize, params[2] as usize];
    fast_batch(p, inputs[0], inputs[1], inputs[2], outputs)
}

cpu::level_copies! {
    /// STOCHRSI's batch kernel, compiled for each CPU level (`cpu::level_copies!`:
    /// `cpu::batch` reaches a kernel only through a call it does not inline):
    /// the RSI into a buffer, then STOCHF over it. The RSI is `Rsi::update`'s
    /// operations in its order, its two averages a scalar pass (stored, the
    /// losses in the %D output until STOCHF writes it) and the division of
    /// each bar an element-wise pass over them, so no bar waits on one.
    pub fn rsi_batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
        let state = StochRsi::new(params)?;
        let period = params[0] as usize;
        let x = inputs[0];
        let n = x.len();
        for o in outputs.iter_mut() {
            o[..period.min(n)].fill(f64::NAN);
        }
        if n <= period {
            return Ok(());
        }
        let m = n - period;
        let (inv, keep) = (state.rsi.inv, (period - 1) as f64);
        let mut gains = vec![0.0; m];
        let losses = &mut outputs[1][period..][..m];
        let (mut gain, mut loss) = (0.0, 0.0);
        for t in 1..=period {
            let (g, l) = gain_loss(x[t] - x[t - 1]);
            gain += g;
            loss += l;
        }
        (gain, loss) = (gain * inv, loss * inv);
        (gains[0], losses[0]) = (gain, loss);
        let (now, before) = (&x[period + 1..], &x[period..n - 1]);
        for i in 0..m - 1 {
            let (g, l) = gain_loss(now[i] - before[i]);
            gain = gain * keep + g;
            loss = l + loss * keep;
            (gain, loss) = (gain * inv, loss * inv);
            (gains[i + 1], losses[i + 1]) = (gain, loss);
        }
        for (r, &loss) in gains.iter_mut().zip(&*losses) {
            *r = rsi_value(*r, loss);
        }
        let p = [params[1] as usize, params[2] as usize, params[3] as usize];
        let (out_k, rest) = outputs.split_at_mut(1);
        fast_batch(p, &gains, &gains, &gains, &mut [&mut out_k[0][period..], &mut rest[0][period..]])
    }
}

/// A change's gain and loss, as `Rsi::update` splits it (a NaN change is a
/// NaN loss).
#[inline(always)]
fn gain_loss(change: f64) -> (f64, f64) {
    let gain = if 0.0 < change { change } else { 0.0 };
    (gain, gain - change)
}

/// The RSI from the two averages: 0 unless their sum is positive.
#[inline(always)]
fn rsi_value(gain: f64, loss: f64) -> f64 {
    let total = loss + gain;
    // Both arms computed and one selected, so a pass over many bars vectorises.
    let rsi = gain / total * 100.0;
    if total > 0.0 {
        rsi
    } else {
        0.0
    }
}

/// Wilder's RSI as the TA-Lib 0.8.1 library computes it (the `RSI` the
/// stochastic of STOCHRSI is taken over): a change `d` splits into a gain
/// `g = d > 0 ? d : 0` and a loss `g - d` (so a NaN change is a NaN loss);
/// the first averages are the sums of the first `period` gains and losses
/// times `1 / period`, then `avg = (avg * (period - 1) + part) * (1 /
/// period)`; RSI = gain / (gain + loss) * 100, 0 unless that sum is positive.
#[derive(Debug, Clone, PartialEq)]
struct Rsi {
    period: usize,
    inv: f64,
    /// Values taken (saturates at `period + 1`).
    taken: usize,
    prev: f64,
    gain: f64,
    loss: f64,
}

impl Rsi {
    fn new(period: usize) -> Self {
        Rsi { period, inv: 1.0 / period as f64, taken: 0, prev: 0.0, gain: 0.0, loss: 0.0 }
    }

    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        let (gain, loss) = gain_loss(x - self.prev);
        self.prev = x;
        if self.taken <= self.period {
            self.taken += 1;
            if self.taken == 1 {
                return None;
            }
            self.gain += gain;
            self.loss += loss;
            if self.taken <= self.period {
                return None;
            }
        } else {
            let keep = (self.period - 1) as f64;
            self.gain = self.gain * keep + gain;
            self.loss = loss + self.loss * keep;
        }
        self.gain *= self.inv;
        self.loss *= self.inv;
        Some(rsi_value(self.gain, self.loss))
    }

    fn save(&self, w: &mut Writer) {
        w.usize(self.taken).f64(self.prev).f64(self.gain).f64(self.loss);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.taken = r.usize()?;
        self.prev = r.f64()?;
        self.gain = r.f64()?;
        self.loss = r.f64()?;
        ensure(self.taken <= self.period + 1, "values taken by the RSI")?;
        ensure(!(self.gain < 0.0) && !(self.loss < 0.0), "negative RSI average")?;
        Ok(())
    }
}

/// STOCHRSI: STOCHF over the RSI.
#[derive(Clone)]
pub struct StochRsi {
    rsi: Rsi,
    stochf: Stoch,
}

impl StochRsi {
    /// The catalog's constructor: `[timeperiod, fastk_period, fastd_period, fastd_matype]`.
    pub fn new(params: &[f64]) -> Result<Self> {
        Ok(StochRsi { rsi: Rsi::new(params[0] as usize), stochf: Stoch::fast(&params[1..4])? })
    }
}

impl Indicator for StochRsi {
    fn lookback(&self) -> usize {
        self.rsi.period + self.stochf.lookback()
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        let (k, d) =
            self.rsi.update(tick[0]).and_then(|r| self.stochf.step(r, r, r)).unwrap_or((f64::NAN, f64::NAN));
        out[0] = k;
        out[1] = d;
    }

    fn save(&self, w: &mut Writer) {
        self.rsi.save(w);
        self.stochf.save(w);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.rsi.load(r)?;
        self.stochf.load(r)
    }

    crate::impl_boxed_clone!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_kernels_are_the_streams_bit_for_bit() {
        use crate::indicators::testkit::assert_batch_near_replay;
        // SMA and EMA smoothing run as block kernels that sum in lanes.
        for p in [[5.0, 3.0, 0.0, 3.0, 0.0], [1.0, 1.0, 0.0, 1.0, 0.0], [14.0, 3.0, 1.0, 4.0, 8.0], [3.0, 5.0, 3.0, 2.0, 2.0]] {
            assert_batch_near_replay(slow_batch, |p| Stoch::slow(p).unwrap(), &p, 3, 2, 1e-9);
        }
        for p in [[5.0, 3.0, 0.0], [1.0, 1.0, 0.0], [14.0, 4.0, 1.0], [3.0, 5.0, 6.0]] {
            assert_batch_near_replay(fast_batch_catalog, |p| Stoch::fast(p).unwrap(), &p, 3, 2, 1e-9);
        }
        for p in [[14.0, 5.0, 3.0, 0.0], [2.0, 1.0, 1.0, 0.0], [5.0, 9.0, 4.0, 1.0]] {
            assert_batch_near_replay(rsi_batch, |p| StochRsi::new(p).unwrap(), &p, 1, 2, 1e-9);
        }
    }
    use crate::indicators::testkit::{assert_peek_is_pure, assert_resumes, run, wave};

    fn bars(n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let mid = wave(n);
        let high: Vec<f64> = mid.iter().enumerate().map(|(i, m)| m + 1.0 + (i % 3) as f64 * 0.5).collect();
        let low: Vec<f64> = mid.iter().enumerate().map(|(i, m)| m - 1.0 - (i % 4) as f64 * 0.25).collect();
        let close: Vec<f64> = mid.iter().enumerate().map(|(i, m)| m + ((i % 5) as f64 - 2.0) * 0.4).collect();
        (high, low, close)
    }

    /// %K from its definition, NaN before `period` bars.
    fn direct_k(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Vec<f64> {
        (0..close.len())
            .map(|i| {
                if i + 1 < period {
                    return f64::NAN;
                }
                let hh = high[i + 1 - period..=i].iter().cloned().fold(f64::MIN, f64::max);
                let ll = low[i + 1 - period..=i].iter().cloned().fold(f64::MAX, f64::min);
                if hh == ll {
                    0.0
                } else {
                    (close[i] - ll) / (hh - ll) * 100.0
                }
            })
            .collect()
    }

    fn sma(x: &[f64], p: usize) -> Vec<f64> {
        let start = x.iter().position(|v| !v.is_nan()).unwrap_or(x.len());
        (0..x.len())
            .map(
                |i| {
                    if i + 1 < start + p {
                        f64::NAN
                    } else {
                        x[i + 1 - p..=i].iter().sum::<f64>() / p as f64
                    }
                },
            )
            .collect()
    }

    #[test]
    fn hand_checked_fast_k() {
        // Period 3: at bar 2 the range is [1, 6], close 4 -> 60; at bar 3
        // the range is [2, 6], close 2 -> 0; at bar 4 a flat range -> 0.
        let high = [5.0, 6.0, 4.0, 3.0, 2.0, 2.0];
        let low = [1.0, 2.0, 3.0, 2.0, 2.0, 2.0];
        let close = [3.0, 5.0, 4.0, 2.0, 2.0, 2.0];
        let mut s = Stoch::fast(&[3.0, 1.0, 0.0]).unwrap();
        assert_eq!(s.lookback(), 2);
        let out = run(&mut s, &[&high, &low, &close], 2);
        assert!(out[0][0].is_nan() && out[0][1].is_nan());
        assert_eq!(out[0][2], 60.0);
        assert_eq!(out[0][3], 0.0);
        assert_eq!(out[0][5], 0.0);
        assert_eq!(out[0][2..], out[1][2..]);
    }

    #[test]
    fn slow_lines_are_smas_of_fast_k() {
        let (h, l, c) = bars(300);
        let k = direct_k(&h, &l, &c, 5);
        let slow_k = sma(&k, 3);
        let slow_d = sma(&slow_k, 4);
        let mut s = Stoch::slow(&[5.0, 3.0, 0.0, 4.0, 0.0]).unwrap();
        assert_eq!(s.lookback(), 4 + 2 + 3);
        let out = run(&mut s, &[&h, &l, &c], 2);
        for i in 0..300 {
            if i < 9 {
                assert!(out[0][i].is_nan() && out[1][i].is_nan(), "{i}");
            } else {
                assert!((out[0][i] - slow_k[i]).abs() < 1e-9, "{i}");
                assert!((out[1][i] - slow_d[i]).abs() < 1e-9, "{i}");
            }
        }
        let mut f = Stoch::fast(&[5.0, 3.0, 0.0]).unwrap();
        let out = run(&mut f, &[&h, &l, &c], 2);
        for i in 6..300 {
            assert!((out[0][i] - k[i]).abs() < 1e-9 && (out[1][i] - slow_k[i]).abs() < 1e-9, "{i}");
        }
    }

    #[test]
    fn lookbacks_add_the_averages() {
        let s = Stoch::slow(&[5.0, 3.0, 8.0, 3.0, 6.0]).unwrap();
        assert_eq!(s.lookback(), 4 + 12 + 3);
        let s = Stoch::fast(&[14.0, 1.0, 3.0]).unwrap();
        assert_eq!(s.lookback(), 13);
        let s = StochRsi::new(&[14.0, 5.0, 3.0, 0.0]).unwrap();
        assert_eq!(s.lookback(), 14 + 4 + 2);
    }

    #[test]
    fn mama_is_refused_naming_the_parameter() {
        let err = Stoch::slow(&[5.0, 3.0, 7.0, 3.0, 0.0]).err().unwrap();
        assert!(err.message.starts_with("slowk_matype:"), "{}", err.message);
        let err = Stoch::slow(&[5.0, 3.0, 0.0, 3.0, 7.0]).err().unwrap();
        assert!(err.message.starts_with("slowd_matype:"), "{}", err.message);
        let err = Stoch::fast(&[5.0, 3.0, 7.0]).err().unwrap();
        assert!(err.message.starts_with("fastd_matype:"), "{}", err.message);
        let err = StochRsi::new(&[14.0, 5.0, 3.0, 7.0]).err().unwrap();
        assert!(err.message.starts_with("fastd_matype:"), "{}", err.message);
    }

    #[test]
    fn stochrsi_is_the_fast_stochastic_of_the_rsi() {
        // RSI(2) over 1, 2, 1, 3: gains 1, 0, 2; losses 0, 1, 0 -> 50 at
        // bar 2, then gain 1.25, loss 0.25 -> 83.33 at bar 3.
        let mut s = StochRsi::new(&[2.0, 2.0, 1.0, 0.0]).unwrap();
        let out = run(&mut s, &[&[1.0, 2.0, 1.0, 3.0]], 2);
        assert!(out[0][..3].iter().all(|v| v.is_nan()));
        assert_eq!(out[0][3], 100.0);
        let x = wave(300);
        let mut rsi = Rsi::new(14);
        let r: Vec<f64> = x.iter().map(|&v| rsi.update(v).unwrap_or(f64::NAN)).collect();
        let k = direct_k(&r, &r, &r, 5);
        let d = sma(&k, 3);
        let mut s = StochRsi::new(&[14.0, 5.0, 3.0, 0.0]).unwrap();
        let out = run(&mut s, &[&x], 2);
        for i in 20..300 {
            assert!((out[0][i] - k[i]).abs() < 1e-9 && (out[1][i] - d[i]).abs() < 1e-9, "{i}");
        }
        assert!(out[0][..20].iter().all(|v| v.is_nan()));
    }

    #[test]
    fn fast_k_series_is_the_tracked_k_bit_for_bit() {
        use crate::indicators::testkit::{rough, same};
        // Clean series take the element-wise extremes, series with NaN (or
        // -0.0) the tracking; both must give `FastK::update`'s bits.
        let mut clean = rough(3000, 3, 11);
        for x in clean.iter_mut() {
            for v in x.iter_mut().filter(|v| !v.is_finite()) {
                *v = 100.0;
            }
        }
        let mut signed_zero = clean.clone();
        signed_zero[1][700] = -0.0;
        signed_zero[1][701] = 0.0;
        for data in [clean, signed_zero, rough(3000, 3, 12)] {
            let (h, l, c) = (&data[0], &data[1], &data[2]);
            for period in [1, 2, 5, 14, 32, 33, 100] {
                for (high, low) in [(h, l), (c, c)] {
                    let mut state = FastK::new(period);
                    let want: Vec<f64> =
                        (0..c.len()).filter_map(|i| state.update(high[i], low[i], c[i])).collect();
                    let (mut got, mut scratch) = (vec![0.0; want.len()], vec![0.0; want.len()]);
                    fast_k_series(period, high, low, c, &mut got, &mut scratch);
                    for (i, (a, b)) in got.iter().zip(&want).enumerate() {
                        assert!(same(*a, *b), "period {period}, %K {i}: {a} vs {b}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_nan_low_stays_until_it_leaves_the_window() {
        // TA-Lib ignores a NaN low unless a rescan starts on it.
        let (h, mut l, c) = bars(40);
        l[10] = f64::NAN;
        let mut s = Stoch::fast(&[3.0, 1.0, 0.0]).unwrap();
        let out = run(&mut s, &[&h, &l, &c], 2);
        let k = direct_k(&h, &l, &c, 3);
        assert!(out[0][13..].iter().zip(&k[13..]).all(|(a, b)| (a - b).abs() < 1e-9));
    }

    #[test]
    fn save_load_and_peek() {
        let (h, l, c) = bars(200);
        let inputs: [&[f64]; 3] = [&h, &l, &c];
        for params in [
            [5.0, 3.0, 0.0, 3.0, 0.0],
            [1.0, 1.0, 0.0, 1.0, 0.0],
            [11.0, 7.0, 8.0, 7.0, 6.0],
            [2.0, 4.0, 1.0, 3.0, 3.0],
        ] {
            assert_resumes(|| Stoch::slow(&params).unwrap(), &inputs, 2, &[0, 1, 4, 8, 9, 50, 199]);
            assert_peek_is_pure(Stoch::slow(&params).unwrap(), &inputs, 2);
        }
        for params in [[5.0, 3.0, 0.0], [11.0, 7.0, 5.0], [1.0, 2.0, 2.0]] {
            assert_resumes(|| Stoch::fast(&params).unwrap(), &inputs, 2, &[0, 3, 7, 199]);
            assert_peek_is_pure(Stoch::fast(&params).unwrap(), &inputs, 2);
        }
        for params in [[14.0, 5.0, 3.0, 0.0], [2.0, 2.0, 2.0, 4.0], [29.0, 11.0, 7.0, 8.0]] {
            assert_resumes(|| StochRsi::new(&params).unwrap(), &[&c], 2, &[0, 1, 14, 15, 20, 199]);
            assert_peek_is_pure(StochRsi::new(&params).unwrap(), &[&c], 2);
        }
    }

    #[test]
    fn batch_kernels_equal_the_streams() {
        let (h, mut l, c) = bars(300);
        l[150] = f64::NAN;
        let check = |state: &mut dyn Indicator,
                     batch: fn(&[f64], &[&[f64]], &mut [&mut [f64]]) -> Result<()>,
                     params: &[f64],
                     inputs: &[&[f64]]| {
            for len in [0, 1, 5, 9, 10, 40, 300] {
                let ins: Vec<&[f64]> = inputs.iter().map(|x| &x[..len]).collect();
                let mut fresh = state.boxed_clone();
                let want = run(fresh.as_mut(), &ins, 2);
                let mut got = vec![vec![0.0; len]; 2];
                {
                    let mut views: Vec<&mut [f64]> = got.iter_mut().map(|o| o.as_mut_slice()).collect();
                    batch(params, &ins, &mut views).unwrap();
                }
                for o in 0..2 {
                    for i in 0..len {
                        let (a, b) = (got[o][i], want[o][i]);
                        assert!(
                            (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9,
                            "{params:?} len {len} out {o} i {i}: {a} vs {b}"
                        );
                    }
                }
            }
        };
        for params in [
            [5.0, 3.0, 0.0, 3.0, 0.0],
            [1.0, 1.0, 0.0, 1.0, 0.0],
            [11.0, 7.0, 8.0, 7.0, 6.0],
            [2.0, 4.0, 1.0, 3.0, 3.0],
        ] {
            check(&mut Stoch::slow(&params).unwrap(), slow_batch, &params, &[&h, &l, &c]);
        }
        for params in [[5.0, 3.0, 0.0], [11.0, 7.0, 5.0], [1.0, 2.0, 2.0], [3.0, 6.0, 6.0]] {
            check(&mut Stoch::fast(&params).unwrap(), fast_batch_catalog, &params, &[&h, &l, &c]);
        }
        for params in
            [[14.0, 5.0, 3.0, 0.0], [2.0, 2.0, 2.0, 4.0], [29.0, 11.0, 7.0, 8.0], [5.0, 4.0, 6.0, 6.0]]
        {
            check(&mut StochRsi::new(&params).unwrap(), rsi_batch, &params, &[&l]);
        }
        assert!(slow_batch(
            &[5.0, 3.0, 7.0, 3.0, 0.0],
            &[&h, &l, &c],
            &mut [&mut vec![0.0; 300], &mut vec![0.0; 300]]
        )
        .is_err());
    }

    #[test]
    fn load_refuses_inconsistent_fields() {
        let (h, l, c) = bars(20);
        let mut s = Stoch::fast(&[5.0, 3.0, 0.0]).unwrap();
        run(&mut s, &[&h, &l, &c], 2);
        let mut w = Writer::fields();
        s.save(&mut w);
        let good = w.into_bytes();
        assert!(Stoch::fast(&[5.0, 3.0, 0.0]).unwrap().load(&mut Reader::fields(&good)).is_ok());
        // The bar count sits after the two windows (8 + 5*8 bytes each):
        // claiming fewer bars than the windows hold is refused.
        let mut bad = good.clone();
        bad[96..104].copy_from_slice(&3u64.to_le_bytes());
        assert!(Stoch::fast(&[5.0, 3.0, 0.0]).unwrap().load(&mut Reader::fields(&bad)).is_err());
        // An extreme older than the window is refused.
        let mut bad = good.clone();
        bad[104..112].copy_from_slice(&1u64.to_le_bytes());
        assert!(Stoch::fast(&[5.0, 3.0, 0.0]).unwrap().load(&mut Reader::fields(&bad)).is_err());
        // An RSI that took more values than its warm-up needs is refused.
        let mut w = Writer::fields();
        w.usize(99).f64(1.0).f64(1.0).f64(1.0);
        let bytes = w.into_bytes();
        assert!(Rsi::new(14).load(&mut Reader::fields(&bytes)).is_err());
    }
}
