//! True range (TA-Lib `TRANGE`) and normalized average true range (TA-Lib
//! `NATR`).
//!
//! TRANGE is `max(high - low, |prev_close - high|, |prev_close - low|)` with
//! TA-Lib's comparisons (a NaN previous close is ignored, a NaN high or low
//! is not); lookback 1.
//!
//! NATR is the ATR of the same period divided by the bar's close, times 100
//! (`atr / close * 100`), and 0 where the close is exactly 0. For period 1
//! TA-Lib returns the plain true range, not normalized. Lookback `period`.

use super::atr::{true_range, AtrStream};
use super::indicator::Indicator;
use super::state::{ensure, Reader, Writer};
use crate::error::Result;

/// TRANGE's streaming state: the previous close.
#[derive(Debug, Clone, PartialEq)]
pub struct TrueRange {
    started: bool,
    prev_close: f64,
}

impl TrueRange {
    /// TRANGE: no parameters, inputs high, low, close.
    pub fn new(_params: &[f64]) -> Result<Self> {
        Ok(TrueRange { started: false, prev_close: 0.0 })
    }
}

impl Indicator for TrueRange {
    fn lookback(&self) -> usize {
        1
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        out[0] = if self.started {
            true_range(tick[0], tick[1], self.prev_close)
        } else {
            f64::NAN
        };
        self.started = true;
        self.prev_close = tick[2];
    }

    fn save(&self, w: &mut Writer) {
        w.flag(self.started).f64(self.prev_close);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        let started = r.flag()?;
        let prev_close = r.f64()?;
        ensure(started || prev_close == 0.0, "previous close before the first bar")?;
        *self = TrueRange { started, prev_close };
        Ok(())
    }

    crate::impl_boxed_clone!();
}

/// NATR's streaming state: an ATR and the normalization.
#[derive(Debug, Clone, PartialEq)]
pub struct Natr {
    period: usize,
    /// Bars consumed, up to `period + 1` (the first normalized bar).
    bars: usize,
    atr: AtrStream,
}

impl Natr {
    /// NATR: `[timeperiod]`, inputs high, low, close.
    pub fn new(params: &[f64]) -> Result<Self> {
        let period = params[0] as usize;
        Ok(Natr { period, bars: 0, atr: AtrStream::new(period)? })
    }
}

impl Indicator for Natr {
    fn lookback(&self) -> usize {
        self.period
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        let atr = self.atr.update(tick[0], tick[1], tick[2]);
        let close = tick[2];
        if self.bars <= self.period {
            self.bars += 1;
        }
        out[0] = if self.bars <= self.period || self.period == 1 {
            atr
        } else if close != 0.0 {
            atr / close * 100.0
        } else {
            0.0
        };
    }

    fn save(&self, w: &mut Writer) {
        w.usize(self.bars);
        self.atr.save(w);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        let bars = r.usize()?;
        ensure(bars <= self.period + 1, "bars")?;
        self.atr.load(r)?;
        self.bars = bars;
        Ok(())
    }

    crate::impl_boxed_clone!();
}
