//! Wilder's directional movement system: TA-Lib `PLUS_DM`, `MINUS_DM`,
//! `PLUS_DI`, `MINUS_DI`, `DX`, `ADX` (one state, a mode per function) and
//! `ADXR` (an ADX and the ADX of `period - 1` bars earlier).
//!
//! TA-Lib's definitions, replayed operation by operation:
//! - One bar's movement: `diffP = high - prev_high`, `diffM = prev_low - low`;
//!   `-DM1 = diffM` if `diffM > 0 && diffP < diffM`, else `+DM1 = diffP` if
//!   `diffP > 0 && diffP > diffM`, else both 0 (so a NaN bar moves nothing).
//! - The sums are seeded with the first `period - 1` one-bar values (the
//!   first bar has none), then smoothed as `sum - sum / period + x`.
//! - `DI = 100 * (DM / TR)` when the TR sum is above 0 (exactly: a true range
//!   carries the quote unit, TA-Lib 0.8.1 no longer applies a fixed band to
//!   it), else 0. `DX = 100 * (|-DI - +DI| / (-DI + +DI))` unless that sum is
//!   within TA-Lib's fixed band of zero (1e-14, the DI being ratios); DX then
//!   repeats its previous value and ADX keeps its value.
//! - ADX: the first value is the sum of the first `period` DX divided by
//!   `period`, then `(adx * (period - 1) + dx) / period`.
//! - Period 1 (PLUS_DM, MINUS_DM, PLUS_DI, MINUS_DI only): no smoothing; the
//!   DI is then `DM1 / TR1` without the factor 100, as in TA-Lib.
//!
//! Lookbacks: DM `period - 1` (1 for period 1), DI and DX `period`, ADX
//! `2 * period - 1`, ADXR `3 * period - 2`.

use super::atr::true_range;
use super::indicator::Indicator;
use super::state::{ensure, Reader, Writer};
use super::window::Window;
use crate::error::Result;

/// TA-Lib's `TA_IS_ZERO` band, applied to the sum of the two DI.
const EPSILON: f64 = 1e-14;

#[inline]
fn is_zero(v: f64) -> bool {
    -EPSILON < v && v < EPSILON
}

/// One bar's directional movement `(+DM1, -DM1)`: TA-Lib's if / else if,
/// written as selects (`&` evaluates both comparisons) so that bars whose
/// direction random data decides cost no mispredicted branch.
#[inline(always)]
fn movement(diff_p: f64, diff_m: f64) -> (f64, f64) {
    let minus = (diff_m > 0.0) & (diff_p < diff_m);
    let plus = !minus & (diff_p > 0.0) & (diff_p > diff_m);
    (if plus { diff_p } else { 0.0 }, if minus { diff_m } else { 0.0 })
}

/// The DX of the sums, `None` where TA-Lib computes none.
#[inline(always)]
fn dx_of(plus_dm: f64, minus_dm: f64, tr: f64) -> Option<f64> {
    if !(tr > 0.0) {
        return None;
    }
    let minus_di = 100.0 * (minus_dm / tr);
    let plus_di = 100.0 * (plus_dm / tr);
    let sum = minus_di + plus_di;
    if is_zero(sum) {
        return None;
    }
    Some(100.0 * ((minus_di - plus_di).abs() / sum))
}

/// A DI of the sums: 0 while the range sum is not above 0.
#[inline(always)]
fn di_of(dm: f64, tr: f64) -> f64 {
    if tr > 0.0 {
        100.0 * (dm / tr)
    } else {
        0.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    PlusDm,
    MinusDm,
    PlusDi,
    MinusDi,
    Dx,
    Adx,
}

impl Mode {
    /// Which of the +DM, -DM and TR sums the function reads.
    #[inline]
    fn sums(self) -> (bool, bool, bool) {
        match self {
            Mode::PlusDm => (true, false, false),
            Mode::MinusDm => (false, true, false),
            Mode::PlusDi => (true, false, true),
            Mode::MinusDi => (false, true, true),
            Mode::Dx | Mode::Adx => (true, true, true),
        }
    }
}

/// The streaming state of PLUS_DM, MINUS_DM, PLUS_DI, MINUS_DI, DX and ADX.
#[derive(Debug, Clone, PartialEq)]
pub struct Directional {
    mode: Mode,
    period: usize,
    /// Bars consumed, the first one included; stops counting at
    /// `2 * period` (after that every bar is handled alike).
    bars: usize,
    prev_high: f64,
    prev_low: f64,
    prev_close: f64,
    plus_dm: f64,
    minus_dm: f64,
    tr: f64,
    /// DX: its last output (repeated when the DI sum is zero). ADX: the sum
    /// of the first DX while warming up, then the ADX.
    value: f64,
}

impl Directional {
    fn new(mode: Mode, params: &[f64]) -> Result<Self> {
        Ok(Directional {
            mode,
            period: params[0] as usize,
            bars: 0,
            prev_high: 0.0,
            prev_low: 0.0,
            prev_close: 0.0,
            plus_dm: 0.0,
            minus_dm: 0.0,
            tr: 0.0,
            value: 0.0,
        })
    }

    /// PLUS_DM: `[timeperiod]`, inputs high, low.
    pub fn plus_dm(params: &[f64]) -> Result<Self> {
        Self::new(Mode::PlusDm, params)
    }

    /// MINUS_DM: `[timeperiod]`, inputs high, low.
    pub fn minus_dm(params: &[f64]) -> Result<Self> {
        Self::new(Mode::MinusDm, params)
    }

    /// PLUS_DI: `[timeperiod]`, inputs high, low, close.
    pub fn plus_di(params: &[f64]) -> Result<Self> {
        Self::new(Mode::PlusDi, params)
    }

    /// MINUS_DI: `[timeperiod]`, inputs high, low, close.
    pub fn minus_di(params: &[f64]) -> Result<Self> {
        Self::new(Mode::MinusDi, params)
    }

    /// DX: `[timeperiod]` (at least 2), inputs high, low, close.
    pub fn dx(params: &[f64]) -> Result<Self> {
        Self::new(Mode::Dx, params)
    }

    /// ADX: `[timeperiod]` (at least 2), inputs high, low, close.
    pub fn adx(params: &[f64]) -> Result<Self> {
        Self::new(Mode::Adx, params)
    }

    fn has_close(&self) -> bool {
        !matches!(self.mode, Mode::PlusDm | Mode::MinusDm)
    }

    fn last_bar_counted(&self) -> usize {
        2 * self.period
    }

    /// The DX of the current sums, `None` where TA-Lib computes none.
    #[inline]
    fn current_dx(&self) -> Option<f64> {
        dx_of(self.plus_dm, self.minus_dm, self.tr)
    }

    #[inline]
    fn di(&self, dm: f64) -> f64 {
        di_of(dm, self.tr)
    }

    /// Consumes one bar; NaN while warming up.
    #[inline]
    fn step(&mut self, high: f64, low: f64, close: f64) -> f64 {
        let bar = self.bars;
        if bar == 0 {
            self.prev_high = high;
            self.prev_low = low;
            self.prev_close = close;
            self.bars = 1;
            return f64::NAN;
        }
        let diff_p = high - self.prev_high;
        let diff_m = self.prev_low - low;
        let range = true_range(high, low, self.prev_close);
        self.prev_high = high;
        self.prev_low = low;
        self.prev_close = close;
        if bar < self.last_bar_counted() {
            self.bars = bar + 1;
        }
        let (plus, minus) = movement(diff_p, diff_m);
        let p = self.period;
        if p == 1 {
            return match self.mode {
                Mode::PlusDm => plus,
                Mode::MinusDm => minus,
                Mode::PlusDi => Self::one_bar_di(plus, diff_p, range),
                Mode::MinusDi => Self::one_bar_di(minus, diff_m, range),
                // DX and ADX take periods of 2 and more.
                Mode::Dx | Mode::Adx => f64::NAN,
            };
        }
        // Each function keeps only the sums it reads (TA-Lib's PLUS_DM keeps
        // one, PLUS_DI two); the others stay 0 and cost nothing.
        let (keeps_plus, keeps_minus, keeps_tr) = self.mode.sums();
        if bar < p {
            if keeps_plus {
                self.plus_dm += plus;
            }
            if keeps_minus {
                self.minus_dm += minus;
            }
            if keeps_tr {
                self.tr += range;
            }
            return match self.mode {
                Mode::PlusDm if bar == p - 1 => self.plus_dm,
                Mode::MinusDm if bar == p - 1 => self.minus_dm,
                _ => f64::NAN,
            };
        }
        let pf = p as f64;
        if keeps_plus {
            self.plus_dm = self.plus_dm - self.plus_dm / pf + plus;
        }
        if keeps_minus {
            self.minus_dm = self.minus_dm - self.minus_dm / pf + minus;
        }
        if keeps_tr {
            self.tr = self.tr - self.tr / pf + range;
        }
        match self.mode {
            Mode::PlusDm => self.plus_dm,
            Mode::MinusDm => self.minus_dm,
            Mode::PlusDi => self.di(self.plus_dm),
            Mode::MinusDi => self.di(self.minus_dm),
            Mode::Dx => {
                // The first DX is 0 when none can be computed (`value` starts at 0).
                if let Some(dx) = self.current_dx() {
                    self.value = dx;
                }
                self.value
            }
            Mode::Adx => {
                let dx = self.current_dx();
                if bar < 2 * p - 1 {
                    if let Some(dx) = dx {
                        self.value += dx;
                    }
                    f64::NAN
                } else if bar == 2 * p - 1 {
                    if let Some(dx) = dx {
                        self.value += dx;
                    }
                    self.value /= pf;
                    self.value
                } else {
                    if let Some(dx) = dx {
                        self.value = (self.value * (pf - 1.0) + dx) / pf;
                    }
                    self.value
                }
            }
        }
    }

    /// PLUS_DI / MINUS_DI of period 1: `DM1 / TR1` (no factor 100), 0 when
    /// the range is 0 or below (it is negative for a bar whose high is below
    /// its low after a NaN close); a NaN range gives NaN, as in TA-Lib.
    #[inline]
    fn one_bar_di(dm: f64, diff: f64, range: f64) -> f64 {
        if dm > 0.0 && !(range <= 0.0) {
            diff / range
        } else {
            0.0
        }
    }

    /// Whether the last `step` produced a value (the warm-up is over).
    fn ready(&self) -> bool {
        self.bars > self.lookback()
    }
}

impl Indicator for Directional {
    fn lookback(&self) -> usize {
        let p = self.period;
        match self.mode {
            Mode::PlusDm | Mode::MinusDm if p == 1 => 1,
            Mode::PlusDm | Mode::MinusDm => p - 1,
            Mode::PlusDi | Mode::MinusDi | Mode::Dx => p,
            Mode::Adx => 2 * p - 1,
        }
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        let close = if self.has_close() { tick[2] } else { 0.0 };
        out[0] = self.step(tick[0], tick[1], close);
    }

    fn save(&self, w: &mut Writer) {
        w.usize(self.bars)
            .f64(self.prev_high)
            .f64(self.prev_low)
            .f64(self.prev_close)
            .f64(self.plus_dm)
            .f64(self.minus_dm)
            .f64(self.tr)
            .f64(self.value);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        let bars = r.usize()?;
        ensure(bars <= self.last_bar_counted(), "bars")?;
        let fields = [r.f64()?, r.f64()?, r.f64()?, r.f64()?, r.f64()?, r.f64()?, r.f64()?];
        let [prev_high, prev_low, prev_close, plus_dm, minus_dm, tr, value] = fields;
        // Sums of positive movements (NaN once an infinity entered). The range
        // sum has no sign to check: a bar after a NaN close whose high is below
        // its low has a negative true range in TA-Lib.
        ensure(!(plus_dm < 0.0 || minus_dm < 0.0), "directional movement sums")?;
        ensure(bars > 0 || fields.iter().all(|&v| v == 0.0), "fields before the first bar")?;
        *self = Directional {
            bars,
            prev_high,
            prev_low,
            prev_close,
            plus_dm,
            minus_dm,
            tr,
            value,
            ..*self
        };
        Ok(())
    }

    crate::impl_boxed_clone!();
}

impl Directional {
    /// Whole arrays: the stream through its warm-up (the first `2 * period`
    /// bars, after which every bar is handled alike), then its steady step
    /// with the sums in locals instead of the state (the same operations in
    /// the same order, so the stream's bits). Period 1 stays on the stream.
    #[inline(always)]
    fn run(mut self, inputs: &[&[f64]], out: &mut [f64]) {
        let (high, low) = (inputs[0], inputs[1]);
        let has_close = self.has_close();
        let close = if has_close { inputs[2] } else { inputs[0] };
        let n = high.len();
        let p = self.period;
        let warm = if p == 1 { n } else { self.last_bar_counted().min(n) };
        let mut o = [0.0];
        for t in 0..warm {
            let c = if has_close { close[t] } else { 0.0 };
            self.update(&[high[t], low[t], c], &mut o);
            out[t] = o[0];
        }
        let pf = p as f64;
        let (keeps_plus, keeps_minus, keeps_tr) = self.mode.sums();
        let Directional { mode, mut prev_high, mut prev_low, mut prev_close, .. } = self;
        let (mut plus_dm, mut minus_dm, mut tr, mut value) = (self.plus_dm, self.minus_dm, self.tr, self.value);
        for t in warm..n {
            let (h, l) = (high[t], low[t]);
            let diff_p = h - prev_high;
            let diff_m = prev_low - l;
            let range = true_range(h, l, prev_close);
            prev_high = h;
            prev_low = l;
            prev_close = if has_close { close[t] } else { 0.0 };
            let (plus, minus) = movement(diff_p, diff_m);
            if keeps_plus {
                plus_dm = plus_dm - plus_dm / pf + plus;
            }
            if keeps_minus {
                minus_dm = minus_dm - minus_dm / pf + minus;
            }
            if keeps_tr {
                tr = tr - tr / pf + range;
            }
            out[t] = match mode {
                Mode::PlusDm => plus_dm,
                Mode::MinusDm => minus_dm,
                Mode::PlusDi => di_of(plus_dm, tr),
                Mode::MinusDi => di_of(minus_dm, tr),
                Mode::Dx => {
                    if let Some(dx) = dx_of(plus_dm, minus_dm, tr) {
                        value = dx;
                    }
                    value
                }
                Mode::Adx => {
                    if let Some(dx) = dx_of(plus_dm, minus_dm, tr) {
                        value = (value * (pf - 1.0) + dx) / pf;
                    }
                    value
                }
            };
        }
    }
}

/// The catalog's batch kernels (`Directional::run`). Scalar: the three
/// Wilder sums and the ADX are TA-Lib's chains (a division each per bar),
/// kept in its order for the same bits.
#[inline(always)]
pub fn batch_plus_dm(p: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    Directional::plus_dm(p)?.run(inputs, outputs[0]);
    Ok(())
}

#[inline(always)]
pub fn batch_minus_dm(p: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    Directional::minus_dm(p)?.run(inputs, outputs[0]);
    Ok(())
}

#[inline(always)]
pub fn batch_plus_di(p: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    Directional::plus_di(p)?.run(inputs, outputs[0]);
    Ok(())
}

#[inline(always)]
pub fn batch_minus_di(p: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    Directional::minus_di(p)?.run(inputs, outputs[0]);
    Ok(())
}

#[inline(always)]
pub fn batch_dx(p: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    Directional::dx(p)?.run(inputs, outputs[0]);
    Ok(())
}

#[inline(always)]
pub fn batch_adx(p: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    Directional::adx(p)?.run(inputs, outputs[0]);
    Ok(())
}

/// ADXR's batch kernel: the ADX (`Directional::run`) into the output, then
/// `(adx[t] + adx[t - period + 1]) / 2` from the last bar back (each value
/// read before it is overwritten), the stream's operation.
#[inline(always)]
pub fn batch_adxr(p: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let adx = Directional::adx(p)?;
    let (first_adx, lag) = (adx.lookback(), adx.period - 1);
    let out = &mut *outputs[0];
    adx.run(inputs, out);
    let n = out.len();
    for t in (first_adx..n).rev() {
        out[t] = if t >= first_adx + lag { (out[t] + out[t - lag]) / 2.0 } else { f64::NAN };
    }
    Ok(())
}

/// ADXR: `(ADX + ADX of period - 1 bars earlier) / 2`.
#[derive(Debug, Clone, PartialEq)]
pub struct Adxr {
    adx: Directional,
    /// The last `period` ADX values: the oldest is the lagged one.
    history: Window,
}

impl Adxr {
    /// ADXR: `[timeperiod]` (at least 2), inputs high, low, close.
    pub fn new(params: &[f64]) -> Result<Self> {
        let adx = Directional::adx(params)?;
        let history = Window::new(adx.period);
        Ok(Adxr { adx, history })
    }
}

impl Indicator for Adxr {
    fn lookback(&self) -> usize {
        self.adx.lookback() + self.adx.period - 1
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        let adx = self.adx.step(tick[0], tick[1], tick[2]);
        out[0] = f64::NAN;
        if self.adx.ready() {
            self.history.push(adx);
            if self.history.is_full() {
                out[0] = (adx + self.history.get(0)) / 2.0;
            }
        }
    }

    fn save(&self, w: &mut Writer) {
        self.adx.save(w);
        self.history.save(w);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.adx.load(r)?;
        self.history.load(r)?;
        ensure(self.adx.ready() || self.history.is_empty(), "ADX history before the first ADX")?;
        Ok(())
    }

    crate::impl_boxed_clone!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::testkit::first_outputs;

    fn run(state: &mut dyn Indicator, bars: &[[f64; 3]]) -> Vec<f64> {
        first_outputs(state, bars)
    }

    #[test]
    fn batches_are_the_streams_bit_for_bit() {
        use crate::indicators::testkit::assert_batch_is_replay;
        type Batch = fn(&[f64], &[&[f64]], &mut [&mut [f64]]) -> Result<()>;
        type Make = fn(&[f64]) -> Result<Directional>;
        // (batch, state, inputs, smallest period)
        let kernels: [(Batch, Make, usize, f64); 6] = [
            (batch_plus_dm, Directional::plus_dm, 2, 1.0),
            (batch_minus_dm, Directional::minus_dm, 2, 1.0),
            (batch_plus_di, Directional::plus_di, 3, 1.0),
            (batch_minus_di, Directional::minus_di, 3, 1.0),
            (batch_dx, Directional::dx, 3, 2.0),
            (batch_adx, Directional::adx, 3, 2.0),
        ];
        for p in [1.0, 2.0, 3.0, 14.0] {
            for (batch, make, inputs, smallest) in kernels {
                if p >= smallest {
                    assert_batch_is_replay(batch, |p| make(p).unwrap(), &[p], inputs, 1);
                }
            }
            if p >= 2.0 {
                assert_batch_is_replay(batch_adxr, |p| Adxr::new(p).unwrap(), &[p], 3, 1);
            }
        }
    }

    fn bars() -> Vec<[f64; 3]> {
        (0..80)
            .map(|i| {
                let x = i as f64;
                let c = 50.0 + (x * 0.37).sin() * 4.0 + x * 0.05;
                [c + 0.6 + (i % 4) as f64 * 0.3, c - 0.5 - (i % 3) as f64 * 0.25, c]
            })
            .collect()
    }

    fn same(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    #[test]
    fn hand_computed_values_period_2() {
        // Bar 1: diffP = 1, diffM = -1 -> +DM1 = 1, TR1 = max(1, |10 - 11|, |10 - 10|) = 1.
        // Bar 2: diffP = -2, diffM = 3 -> -DM1 = 3, TR1 = max(2, |11 - 9|, |11 - 7|) = 4.
        // Bar 3: diffP = 3, diffM = -2 -> +DM1 = 3, TR1 = max(2, |8.5 - 12|, |8.5 - 10|) = 3.5.
        let bars = [[10.0, 9.0, 10.0], [11.0, 10.0, 11.0], [9.0, 7.0, 8.5], [12.0, 10.0, 11.0]];
        let p = [2.0];
        let mut plus_dm = Directional::plus_dm(&p).unwrap();
        let mut minus_dm = Directional::minus_dm(&p).unwrap();
        let mut plus_di = Directional::plus_di(&p).unwrap();
        let mut minus_di = Directional::minus_di(&p).unwrap();
        let mut dx = Directional::dx(&p).unwrap();
        let mut adx = Directional::adx(&p).unwrap();
        let two = |b: &[f64; 3]| [b[0], b[1], 0.0];
        let two_bars: Vec<[f64; 3]> = bars.iter().map(two).collect();
        // +DM: seed 1, then 1 - 0.5 + 0 = 0.5, then 0.5 - 0.25 + 3 = 3.25.
        assert_eq!(run(&mut plus_dm, &two_bars)[1..], [1.0, 0.5, 3.25]);
        // -DM: seed 0, then 0 + 3 = 3, then 3 - 1.5 = 1.5.
        assert_eq!(run(&mut minus_dm, &two_bars)[1..], [0.0, 3.0, 1.5]);
        // TR: seed 1, then 1 - 0.5 + 4 = 4.5, then 4.5 - 2.25 + 3.5 = 5.75.
        let pdi = run(&mut plus_di, &bars);
        let mdi = run(&mut minus_di, &bars);
        assert!(pdi[1].is_nan() && mdi[1].is_nan());
        assert_eq!(pdi[2], 100.0 * (0.5 / 4.5));
        assert_eq!(mdi[2], 100.0 * (3.0 / 4.5));
        assert_eq!(pdi[3], 100.0 * (3.25 / 5.75));
        assert_eq!(mdi[3], 100.0 * (1.5 / 5.75));
        let dxs = run(&mut dx, &bars);
        let dx2 = 100.0 * ((mdi[2] - pdi[2]).abs() / (mdi[2] + pdi[2]));
        let dx3 = 100.0 * ((mdi[3] - pdi[3]).abs() / (mdi[3] + pdi[3]));
        assert_eq!(dxs[2..], [dx2, dx3]);
        // ADX(2): first value (dx2 + dx3) / 2 on bar 3.
        let adxs = run(&mut adx, &bars);
        assert!(adxs[2].is_nan());
        assert_eq!(adxs[3], (dx2 + dx3) / 2.0);
    }

    #[test]
    fn period_one_is_the_one_bar_movement() {
        let bars = [[10.0, 9.0, 9.5], [11.0, 10.0, 10.0], [10.0, 7.0, 8.0], [10.0, 7.0, 8.0]];
        let mut plus = Directional::plus_dm(&[1.0]).unwrap();
        let mut minus = Directional::minus_dm(&[1.0]).unwrap();
        let mut plus_di = Directional::plus_di(&[1.0]).unwrap();
        let mut minus_di = Directional::minus_di(&[1.0]).unwrap();
        assert_eq!(plus.lookback(), 1);
        assert_eq!(plus_di.lookback(), 1);
        assert_eq!(run(&mut plus, &bars)[1..], [1.0, 0.0, 0.0]);
        assert_eq!(run(&mut minus, &bars)[1..], [0.0, 3.0, 0.0]);
        // TR1 of bar 1 = max(1, |9.5 - 11|, |9.5 - 10|) = 1.5; bar 2: max(3, 0, 3) = 3.
        assert_eq!(run(&mut plus_di, &bars)[1..], [1.0 / 1.5, 0.0, 0.0]);
        assert_eq!(run(&mut minus_di, &bars)[1..], [0.0, 1.0, 0.0]);
        // Infinite lows: a movement over a NaN range.
        let bars = [[1.0, 0.0, 0.5], [f64::NEG_INFINITY, f64::NEG_INFINITY, 0.5]];
        assert!(run(&mut Directional::minus_di(&[1.0]).unwrap(), &bars)[1].is_nan());
        // After a NaN close, a rising bar whose high is below its low: range -1, DI 0.
        let bars = [[1.0, 0.0, f64::NAN], [2.0, 3.0, 2.5]];
        assert_eq!(run(&mut Directional::plus_di(&[1.0]).unwrap(), &bars)[1], 0.0);
    }

    #[test]
    fn flat_bars_give_zero_and_dx_repeats() {
        // No range at all: DI 0, the first DX 0.
        let flat = [[5.0, 5.0, 5.0]; 6];
        assert_eq!(run(&mut Directional::plus_di(&[2.0]).unwrap(), &flat)[2..], [0.0; 4]);
        assert_eq!(run(&mut Directional::dx(&[2.0]).unwrap(), &flat)[2..], [0.0; 4]);
        // After a rise, flat bars decay both DM alike: DX stays at 100.
        let mut bars = vec![[5.0, 4.0, 4.5], [6.0, 5.0, 5.5]];
        bars.extend([[6.0, 5.0, 5.5]; 4]);
        let dx = run(&mut Directional::dx(&[2.0]).unwrap(), &bars);
        assert_eq!(dx[2..], [100.0; 4]);
    }

    #[test]
    fn lookbacks_match_talib() {
        for (p, dm, di, adx, adxr) in [(2, 1, 2, 3, 4), (14, 13, 14, 27, 40), (29, 28, 29, 57, 85)] {
            let q = [p as f64];
            assert_eq!(Directional::plus_dm(&q).unwrap().lookback(), dm);
            assert_eq!(Directional::minus_di(&q).unwrap().lookback(), di);
            assert_eq!(Directional::dx(&q).unwrap().lookback(), di);
            assert_eq!(Directional::adx(&q).unwrap().lookback(), adx);
            assert_eq!(Adxr::new(&q).unwrap().lookback(), adxr);
        }
    }

    #[test]
    fn outputs_start_at_the_lookback() {
        let bars = bars();
        let q = [5.0];
        let states: Vec<Box<dyn Indicator>> = vec![
            Box::new(Directional::plus_dm(&q).unwrap()),
            Box::new(Directional::plus_di(&q).unwrap()),
            Box::new(Directional::dx(&q).unwrap()),
            Box::new(Directional::adx(&q).unwrap()),
            Box::new(Adxr::new(&q).unwrap()),
        ];
        for mut s in states {
            let out = run(s.as_mut(), &bars);
            let lb = s.lookback();
            assert!(out[..lb].iter().all(|v| v.is_nan()), "lookback {lb}");
            assert!(out[lb..].iter().all(|v| v.is_finite()), "lookback {lb}");
        }
    }

    #[test]
    fn adxr_averages_the_adx_with_its_lag() {
        let bars = bars();
        let q = [4.0];
        let adx = run(&mut Directional::adx(&q).unwrap(), &bars);
        let adxr = run(&mut Adxr::new(&q).unwrap(), &bars);
        for t in 10..bars.len() {
            assert_eq!(adxr[t], (adx[t] + adx[t - 3]) / 2.0);
        }
    }

    #[test]
    fn save_load_continues_identically() {
        let bars = bars();
        for cut in [0, 1, 3, 9, 40] {
            let makers: [fn(&[f64]) -> Box<dyn Indicator>; 4] = [
                |q| Box::new(Directional::minus_dm(q).unwrap()),
                |q| Box::new(Directional::plus_di(q).unwrap()),
                |q| Box::new(Directional::adx(q).unwrap()),
                |q| Box::new(Adxr::new(q).unwrap()),
            ];
            for make in makers {
                let q = [5.0];
                let mut a = make(&q);
                let mut out = [0.0];
                for b in &bars[..cut] {
                    a.update(b, &mut out);
                }
                let mut w = Writer::fields();
                a.save(&mut w);
                let bytes = w.into_bytes();
                let mut b = make(&q);
                let mut r = Reader::fields(&bytes);
                b.load(&mut r).unwrap();
                r.finish().unwrap();
                let (mut x, mut y) = ([0.0], [0.0]);
                for bar in &bars[cut..] {
                    a.update(bar, &mut x);
                    b.update(bar, &mut y);
                    assert!(same(x[0], y[0]));
                }
            }
        }
    }

    #[test]
    fn load_refuses_inconsistent_fields() {
        let mut w = Writer::fields();
        w.usize(11).f64(1.0).f64(1.0).f64(1.0).f64(0.0).f64(0.0).f64(1.0).f64(0.0);
        let bytes = w.into_bytes();
        let mut s = Directional::dx(&[5.0]).unwrap();
        assert!(s.load(&mut Reader::fields(&bytes)).is_err(), "bar count beyond 2 * period");
        let mut w = Writer::fields();
        w.usize(3).f64(1.0).f64(1.0).f64(1.0).f64(-1.0).f64(0.0).f64(1.0).f64(0.0);
        let bytes = w.into_bytes();
        assert!(s.load(&mut Reader::fields(&bytes)).is_err(), "negative movement sum");
        let mut w = Writer::fields();
        w.usize(0).f64(1.0).f64(1.0).f64(1.0).f64(0.0).f64(0.0).f64(0.0).f64(0.0);
        let bytes = w.into_bytes();
        assert!(s.load(&mut Reader::fields(&bytes)).is_err(), "prices before the first bar");
        // ADXR: an ADX history while the ADX is still warming up.
        let mut w = Writer::fields();
        Directional::adx(&[5.0]).unwrap().save(&mut w);
        w.f64s(&[1.0]);
        let bytes = w.into_bytes();
        let mut s = Adxr::new(&[5.0]).unwrap();
        assert!(s.load(&mut Reader::fields(&bytes)).is_err());
    }

    #[test]
    fn peek_does_not_change_the_state() {
        let bars = bars();
        let mut s = Adxr::new(&[3.0]).unwrap();
        let mut out = [0.0];
        for b in &bars[..20] {
            s.update(b, &mut out);
        }
        let before = s.clone();
        let mut peeked = [0.0];
        s.peek(&bars[20], &mut peeked);
        assert_eq!(s, before);
        s.update(&bars[20], &mut out);
        assert!(same(out[0], peeked[0]));
    }
}
