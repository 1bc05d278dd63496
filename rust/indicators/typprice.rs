//! Typical price (TA-Lib `TYPPRICE`): `(high + low + close) / 3`, summed in
//! that order. Lookback 0; no state.

use super::indicator::Indicator;
use super::state::{Reader, Writer};
use crate::error::Result;
use crate::impl_boxed_clone;

#[derive(Debug, Clone, PartialEq)]
pub struct TypPrice;

/// The catalog's batch kernel.
#[inline(always)]
pub fn batch(_params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let (high, low, close) = (inputs[0], inputs[1], inputs[2]);
    for (((o, &h), &l), &c) in outputs[0].iter_mut().zip(high).zip(low).zip(close) {
        *o = (h + l + c) / 3.0;
    }
    Ok(())
}

impl TypPrice {
    /// `TYPPRICE()` over high, low, close.
    pub fn new(_params: &[f64]) -> Result<Self> {
        Ok(TypPrice)
    }
}

impl Indicator for TypPrice {
    fn lookback(&self) -> usize {
        0
    }

    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        out[0] = (tick[0] + tick[1] + tick[2]) / 3.0;
    }

    fn peek(&self, tick: &[f64], out: &mut [f64]) {
        out[0] = (tick[0] + tick[1] + tick[2]) / 3.0;
    }

    fn save(&self, _w: &mut Writer) {}

    fn load(&mut self, _r: &mut Reader) -> Result<()> {
        Ok(())
    }

    impl_boxed_clone!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_checked_values_and_empty_state() {
        let mut s = TypPrice::new(&[]).unwrap();
        let mut o = [0.0];
        s.update(&[3.0, 1.0, 2.0], &mut o);
        assert_eq!(o[0], 2.0);
        s.update(&[f64::NAN, 1.0, 2.0], &mut o);
        assert!(o[0].is_nan());
        let mut w = Writer::fields();
        s.save(&mut w);
        assert!(w.into_bytes().is_empty());
        assert!(s.load(&mut Reader::fields(&[])).is_ok());
    }
}
