//! The price-change family, each comparing a value with the one `timeperiod`
//! ticks before it (lookback `timeperiod`):
//!
//! | TA-Lib    | value                    |
//! |-----------|--------------------------|
//! | `MOM`     | `price - prev`           |
//! | `ROC`     | `((price / prev) - 1) * 100` |
//! | `ROCP`    | `(price - prev) / prev`  |
//! | `ROCR`    | `price / prev`           |
//! | `ROCR100` | `(price / prev) * 100`   |
//!
//! The ratios are 0 where `prev == 0` (TA-Lib tests `prev != 0`, so a NaN
//! `prev` gives NaN, not 0).

use super::check_stream_period;
use super::indicator::Indicator;
use super::state::{Reader, Writer};
use super::window::Window;
use crate::error::Result;
use crate::impl_boxed_clone;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Mom,
    Roc,
    Rocp,
    Rocr,
    Rocr100,
}

impl Change {
    #[inline(always)]
    fn of(self, price: f64, prev: f64) -> f64 {
        if self == Change::Mom {
            return price - prev;
        }
        if prev == 0.0 {
            return 0.0;
        }
        match self {
            Change::Mom => unreachable!(),
            Change::Roc => ((price / prev) - 1.0) * 100.0,
            Change::Rocp => (price - prev) / prev,
            Change::Rocr => price / prev,
            Change::Rocr100 => (price / prev) * 100.0,
        }
    }
}

#[inline(always)]
fn batch_of(
    change: Change,
    params: &[f64],
    inputs: &[&[f64]],
    outputs: &mut [&mut [f64]],
) -> Result<()> {
    let period = params[0] as usize;
    let (x, out) = (inputs[0], &mut *outputs[0]);
    let head = period.min(x.len());
    out[..head].fill(f64::NAN);
    for ((o, &price), &prev) in out[head..].iter_mut().zip(&x[head..]).zip(x) {
        *o = change.of(price, prev);
    }
    Ok(())
}

/// The catalog's batch kernel for `MOM`.
#[inline(always)]
pub fn batch_mom(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    batch_of(Change::Mom, params, inputs, outputs)
}
/// The catalog's batch kernel for `ROC`.
#[inline(always)]
pub fn batch_roc(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    batch_of(Change::Roc, params, inputs, outputs)
}
/// The catalog's batch kernel for `ROCP`.
#[inline(always)]
pub fn batch_rocp(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    batch_of(Change::Rocp, params, inputs, outputs)
}
/// The catalog's batch kernel for `ROCR`.
#[inline(always)]
pub fn batch_rocr(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    batch_of(Change::Rocr, params, inputs, outputs)
}
/// The catalog's batch kernel for `ROCR100`.
#[inline(always)]
pub fn batch_rocr100(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    batch_of(Change::Rocr100, params, inputs, outputs)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Momentum {
    change: Change,
    /// The last `timeperiod` values: the oldest is `prev` for the next one.
    window: Window,
}

impl Momentum {
    fn with(change: Change, params: &[f64]) -> Result<Self> {
        let period = params[0] as usize;
        check_stream_period("timeperiod", period)?;
        Ok(Momentum {
            change,
            window: Window::new(period),
        })
    }
    /// `MOM(timeperiod)`.
    pub fn mom(params: &[f64]) -> Result<Self> {
        Self::with(Change::Mom, params)
    }
    /// `ROC(timeperiod)`.
    pub fn roc(params: &[f64]) -> Result<Self> {
        Self::with(Change::Roc, params)
    }
    /// `ROCP(timeperiod)`.
    pub fn rocp(params: &[f64]) -> Result<Self> {
        Self::with(Change::Rocp, params)
    }
    /// `ROCR(timeperiod)`.
    pub fn rocr(params: &[f64]) -> Result<Self> {
        Self::with(Change::Rocr, params)
    }
    /// `ROCR100(timeperiod)`.
    pub fn rocr100(params: &[f64]) -> Result<Self> {
        Self::with(Change::Rocr100, params)
    }
}

impl Indicator for Momentum {
    fn lookback(&self) -> usize {
        self.window.capacity()
    }

    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        let price = tick[0];
        out[0] = match self.window.push(price) {
            Some(prev) => self.change.of(price, prev),
            None => f64::NAN,
        };
    }

    fn peek(&self, tick: &[f64], out: &mut [f64]) {
        out[0] = if self.window.is_full() {
            self.change.of(tick[0], self.window.get(0))
        } else {
            f64::NAN
        };
    }

    fn save(&self, w: &mut Writer) {
        self.window.save(w);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.window.load(r)
    }

    impl_boxed_clone!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::testkit::first_outputs;

    fn run(state: &mut Momentum, xs: &[f64]) -> Vec<f64> {
        first_outputs(state, xs.iter().map(|&x| [x]))
    }

    #[test]
    fn hand_checked_values() {
        let xs = [4.0, 5.0, 6.0, 3.0];
        let at = |s: Result<Momentum>| run(&mut s.unwrap(), &xs);
        let p = [2.0];
        assert_eq!(&at(Momentum::mom(&p))[2..], &[2.0, -2.0]);
        assert_eq!(&at(Momentum::roc(&p))[2..], &[50.0, -40.0]);
        assert_eq!(&at(Momentum::rocp(&p))[2..], &[0.5, -0.4]);
        assert_eq!(&at(Momentum::rocr(&p))[2..], &[1.5, 0.6]);
        assert_eq!(&at(Momentum::rocr100(&p))[2..], &[150.0, 60.0]);
        assert!(at(Momentum::mom(&p))[..2].iter().all(|v| v.is_nan()));
        assert_eq!(Momentum::roc(&p).unwrap().lookback(), 2);
    }

    #[test]
    fn zero_previous_value_gives_zero_and_nan_gives_nan() {
        let got = run(
            &mut Momentum::roc(&[1.0]).unwrap(),
            &[0.0, 5.0, f64::NAN, 2.0],
        );
        assert_eq!(got[1], 0.0);
        assert!(got[2].is_nan() && got[3].is_nan());
        let mom = run(&mut Momentum::mom(&[1.0]).unwrap(), &[0.0, 5.0]);
        assert_eq!(mom[1], 5.0);
    }

    #[test]
    fn save_load_continues_identically_and_peek_agrees() {
        let xs: Vec<f64> = (0..30).map(|i| 10.0 + ((i * 5 % 7) as f64)).collect();
        for cut in [0, 2, 3, 4, 20] {
            let mut a = Momentum::rocp(&[3.0]).unwrap();
            run(&mut a, &xs[..cut]);
            let mut w = Writer::fields();
            a.save(&mut w);
            let bytes = w.into_bytes();
            let mut b = Momentum::rocp(&[3.0]).unwrap();
            b.load(&mut Reader::fields(&bytes)).unwrap();
            let before = a.clone();
            let (mut p, mut u) = ([0.0], [0.0]);
            a.peek(&[7.0], &mut p);
            assert_eq!(a, before);
            a.clone().update(&[7.0], &mut u);
            assert!(p[0].to_bits() == u[0].to_bits());
            let (x, y) = (run(&mut a, &xs[cut..]), run(&mut b, &xs[cut..]));
            assert!(
                x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits()),
                "cut={cut}"
            );
        }
    }

    #[test]
    fn load_refuses_more_values_than_the_period() {
        let mut w = Writer::fields();
        w.f64s(&[1.0, 2.0, 3.0]);
        let bytes = w.into_bytes();
        assert!(Momentum::mom(&[2.0])
            .unwrap()
            .load(&mut Reader::fields(&bytes))
            .is_err());
    }
}
