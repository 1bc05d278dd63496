//! TA-Lib's moving-average types (`TA_MAType`) behind one factory, and the
//! catalog's `MA` function.
//!
//! Every indicator with an MA-type parameter (MA, STOCH, STOCHF, STOCHRSI,
//! BBANDS, APO, PPO, MACDEXT) builds its averages with `moving_average`, so
//! an MA type means the same arithmetic everywhere. TA-Lib's `TA_MA` rule
//! applies to every type: a period of 1 copies the input (lookback 0), even
//! where the type's own function would compute something slightly different
//! (KAMA at period 1 would be a fixed-alpha EMA).
//!
//! | matype | average | lookback (period p > 1) |
//! |---|---|---|
//! | 0 | SMA | p - 1 |
//! | 1 | EMA | p - 1 |
//! | 2 | WMA | p - 1 |
//! | 3 | DEMA | 2 (p - 1) |
//! | 4 | TEMA | 3 (p - 1) |
//! | 5 | TRIMA | p - 1 |
//! | 6 | KAMA | p |
//! | 7 | MAMA | refused: not available yet |
//! | 8 | T3 (vfactor 0.7, as `TA_MA` calls it) | 6 (p - 1) |

use super::dema::Dema;
use super::ema::EmaStream;
use super::indicator::Indicator;
use super::kama::Kama;
use super::sma::SmaStream;
use super::state::{Reader, Writer};
use super::t3::T3;
use super::tema::Tema;
use super::trima::Trima;
use super::wma::Wma;
use crate::error::{Error, Result};

/// The MA type number of MAMA, which pyrt does not implement yet.
pub const MAMA: usize = 7;
/// The largest MA type number TA-Lib defines (T3).
pub const MAX_MATYPE: usize = 8;
/// The vfactor `TA_MA` gives T3.
const T3_VFACTOR: f64 = 0.7;

/// A one-input, one-output moving average of type `matype` (TA-Lib's
/// numbering, see the module table) over `period` values. Errors name
/// `matype`.
pub fn moving_average(matype: usize, period: usize) -> Result<Box<dyn Indicator>> {
    moving_average_named("matype", matype, period)
}

/// As `moving_average`, with errors naming the caller's parameter
/// (`slowk_matype`, ...).
pub fn moving_average_named(param: &str, matype: usize, period: usize) -> Result<Box<dyn Indicator>> {
    check_matype(param, matype)?;
    if period < 1 {
        return Err(Error::invalid("timeperiod", format!("must be at least 1, got {period}")));
    }
    if period == 1 {
        return Ok(Box::new(Identity));
    }
    let p = [period as f64];
    Ok(match matype {
        0 => Box::new(NoSkip::new(SmaStream::catalog(&p)?)),
        1 => Box::new(NoSkip::new(EmaStream::catalog(&p)?)),
        2 => Box::new(Wma::catalog(&p)?),
        3 => Box::new(Dema::catalog(&p)?),
        4 => Box::new(Tema::catalog(&p)?),
        5 => Box::new(Trima::catalog(&p)?),
        6 => Box::new(Kama::catalog(&p)?),
        _ => Box::new(T3::catalog(&[period as f64, T3_VFACTOR])?),
    })
}

/// TA-Lib's `TA_MA_Lookback(period, matype)`.
pub fn moving_average_lookback(matype: usize, period: usize) -> usize {
    if period <= 1 {
        return 0;
    }
    let p = period - 1;
    match matype {
        0 | 1 | 2 | 5 => p,
        3 => 2 * p,
        4 => 3 * p,
        6 => period,
        // TA_MAMA_Lookback(0.5, 0.05): MAMA ignores the period.
        7 => 32,
        8 => 6 * p,
        _ => 0,
    }
}

/// Refuses MA types outside TA-Lib's 0..=8 and MAMA (7), naming `param`.
pub fn check_matype(param: &str, matype: usize) -> Result<()> {
    if matype == MAMA {
        return Err(Error::invalid(param, "MA type 7 (MAMA) is not available yet; use 0-6 or 8"));
    }
    if matype > MAX_MATYPE {
        return Err(Error::invalid(
            param,
            format!("must be an MA type from 0 to {MAX_MATYPE}, got {matype}"),
        ));
    }
    Ok(())
}

/// Feeds `x` through a one-input, one-output state, writing each output:
/// the warm-up part of the batch kernels, which then run their steady
/// state in a tight loop.
pub(crate) fn run_single<S: Indicator>(state: &mut S, x: &[f64], out: &mut [f64]) {
    let mut o = [0.0];
    for (d, &v) in out.iter_mut().zip(x) {
        state.update(&[v], &mut o);
        *d = o[0];
    }
}

/// The moving average of type `matype` over a whole series, from its first
/// value (a NaN first value counts, as inside TA-Lib's composite
/// indicators): the same values as `moving_average`'s state fed `x`, within
/// 1e-9 of the series' scale (bit for bit except for SMA and EMA, whose
/// block kernels sum in lanes). `out` has the length of `x`.
pub fn moving_average_batch(matype: usize, period: usize, x: &[f64], out: &mut [f64]) -> Result<()> {
    check_matype("matype", matype)?;
    if period < 1 {
        return Err(Error::invalid("timeperiod", format!("must be at least 1, got {period}")));
    }
    if period == 1 {
        out.copy_from_slice(x);
        return Ok(());
    }
    let p = [period as f64];
    match matype {
        0 | 1 if x.first().is_some_and(|v| v.is_nan()) => {
            out.fill(f64::NAN);
            Ok(())
        }
        0 => super::sma::batch(&p, &[x], &mut [out]),
        1 => super::ema::batch(&p, &[x], &mut [out]),
        2 => super::wma::batch(&p, &[x], &mut [out]),
        3 => super::dema::batch(&p, &[x], &mut [out]),
        4 => super::tema::batch(&p, &[x], &mut [out]),
        5 => super::trima::batch(&p, &[x], &mut [out]),
        6 => super::kama::batch(&p, &[x], &mut [out]),
        _ => super::t3::batch(&[period as f64, T3_VFACTOR], &[x], &mut [out]),
    }
}

/// The catalog's batch kernel of `MA`: `[timeperiod, matype]`.
#[inline(always)]
pub fn batch(params: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    moving_average_batch(params[1] as usize, params[0] as usize, inputs[0], outputs[0])
}

/// The catalog's `MA(real, timeperiod, matype)`.
pub struct MovingAverage {
    inner: Box<dyn Indicator>,
}

impl MovingAverage {
    /// The catalog's constructor: `[timeperiod, matype]`.
    pub fn catalog(params: &[f64]) -> Result<Self> {
        let inner = moving_average(params[1] as usize, params[0] as usize)?;
        Ok(MovingAverage { inner })
    }
}

impl Clone for MovingAverage {
    fn clone(&self) -> Self {
        MovingAverage { inner: self.inner.boxed_clone() }
    }
}

impl Indicator for MovingAverage {
    fn lookback(&self) -> usize {
        self.inner.lookback()
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        self.inner.update(tick, out);
    }

    fn peek(&self, tick: &[f64], out: &mut [f64]) {
        self.inner.peek(tick, out);
    }

    fn save(&self, w: &mut Writer) {
        self.inner.save(w);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.inner.load(r)
    }

    crate::impl_boxed_clone!();
}

/// `TA_MA` at period 1: the input, unchanged, from the first value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Identity;

impl Indicator for Identity {
    fn lookback(&self) -> usize {
        0
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        out[0] = tick[0];
    }

    fn save(&self, _w: &mut Writer) {}

    fn load(&mut self, _r: &mut Reader) -> Result<()> {
        Ok(())
    }

    crate::impl_boxed_clone!();
}

/// `SmaStream` and `EmaStream` skip leading NaNs, as the `talib` package
/// does before it calls TA-Lib. Inside a composite indicator (the %K of
/// STOCH, ...) TA-Lib's SMA and EMA do see a NaN first value: it enters the
/// running sum and every later output is NaN. This wrapper gives them that
/// behaviour; after a non-NaN first value it only forwards.
#[derive(Debug, Clone, PartialEq)]
pub struct NoSkip<S> {
    inner: S,
    started: bool,
    poisoned: bool,
}

impl<S> NoSkip<S> {
    pub fn new(inner: S) -> Self {
        NoSkip { inner, started: false, poisoned: false }
    }
}

impl<S: Indicator + Clone> Indicator for NoSkip<S> {
    fn lookback(&self) -> usize {
        self.inner.lookback()
    }

    #[inline]
    fn update(&mut self, tick: &[f64], out: &mut [f64]) {
        if !self.started {
            self.started = true;
            self.poisoned = tick[0].is_nan();
        }
        if self.poisoned {
            out[0] = f64::NAN;
        } else {
            self.inner.update(tick, out);
        }
    }

    fn save(&self, w: &mut Writer) {
        w.flag(self.started).flag(self.poisoned);
        self.inner.save(w);
    }

    fn load(&mut self, r: &mut Reader) -> Result<()> {
        self.started = r.flag()?;
        self.poisoned = r.flag()?;
        super::state::ensure(self.started || !self.poisoned, "poisoned before the first value")?;
        self.inner.load(r)
    }

    crate::impl_boxed_clone!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::indicator::replay;

    fn run(state: &mut dyn Indicator, x: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; x.len()];
        replay(state, &[x], &mut [&mut out]);
        out
    }

    fn series(n: usize) -> Vec<f64> {
        (0..n).map(|i| 100.0 + (i as f64 * 0.37).sin() * 4.0 + (i % 5) as f64 * 0.3).collect()
    }

    #[test]
    fn lookbacks_follow_talib() {
        let cases = [
            (0, 30, 29),
            (1, 30, 29),
            (2, 30, 29),
            (3, 30, 58),
            (4, 30, 87),
            (5, 30, 29),
            (6, 30, 30),
            (8, 5, 24),
            (6, 1, 0),
            (8, 1, 0),
        ];
        for (matype, period, lookback) in cases {
            assert_eq!(moving_average_lookback(matype, period), lookback, "{matype} {period}");
            let state = moving_average(matype, period).unwrap();
            assert_eq!(state.lookback(), lookback, "{matype} {period}");
        }
    }

    #[test]
    fn period_one_copies_the_input_for_every_type() {
        let x = [1.5, -2.0, f64::INFINITY, 0.1, 7.0];
        for matype in [0, 1, 2, 3, 4, 5, 6, 8] {
            let mut state = moving_average(matype, 1).unwrap();
            let out = run(state.as_mut(), &x);
            assert_eq!(out, x, "matype {matype}");
        }
    }

    #[test]
    fn mama_and_unknown_types_are_refused_naming_the_parameter() {
        let err = moving_average(7, 10).err().unwrap();
        assert!(err.message.starts_with("matype:") && err.message.contains("MAMA"), "{}", err.message);
        let err = moving_average(9, 10).err().unwrap();
        assert!(err.message.starts_with("matype:"), "{}", err.message);
        let err = moving_average_named("slowk_matype", 7, 3).err().unwrap();
        assert!(err.message.starts_with("slowk_matype:"), "{}", err.message);
        let err = MovingAverage::catalog(&[30.0, 7.0]).err().unwrap();
        assert!(err.message.starts_with("matype:"), "{}", err.message);
    }

    #[test]
    fn sma_and_ema_types_are_the_sma_and_ema_states() {
        let x = series(300);
        for (matype, period) in [(0, 7), (1, 7), (0, 30), (1, 2)] {
            let mut ma = MovingAverage::catalog(&[period as f64, matype as f64]).unwrap();
            let got = run(&mut ma, &x);
            let mut direct: Box<dyn Indicator> = if matype == 0 {
                Box::new(SmaStream::catalog(&[period as f64]).unwrap())
            } else {
                Box::new(EmaStream::catalog(&[period as f64]).unwrap())
            };
            let want = run(direct.as_mut(), &x);
            for (a, b) in got.iter().zip(&want) {
                assert!(a.to_bits() == b.to_bits(), "{a} vs {b}");
            }
        }
        // Hand-checked: SMA(3) of 1..5 and EMA(3) seeded with the first average.
        let mut sma = MovingAverage::catalog(&[3.0, 0.0]).unwrap();
        let out = run(&mut sma, &[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert!(out[0].is_nan() && out[1].is_nan());
        assert_eq!(&out[2..], &[2.0, 3.0, 4.0]);
        let mut ema = MovingAverage::catalog(&[3.0, 1.0]).unwrap();
        let out = run(&mut ema, &[1.0, 2.0, 3.0, 5.0]);
        assert_eq!(&out[2..], &[2.0, 3.5]);
    }

    #[test]
    fn a_nan_first_value_makes_sma_and_ema_nan_for_good() {
        let x = [f64::NAN, 1.0, 2.0, 3.0, 4.0, 5.0];
        for matype in [0, 1] {
            let mut state = moving_average(matype, 2).unwrap();
            assert!(run(state.as_mut(), &x).iter().all(|v| v.is_nan()), "matype {matype}");
        }
    }

    #[test]
    fn save_load_continues_identically_for_every_type() {
        let x = series(400);
        for matype in [0, 1, 2, 3, 4, 5, 6, 8] {
            for period in [1, 2, 9] {
                let params = [period as f64, matype as f64];
                let mut whole = MovingAverage::catalog(&params).unwrap();
                let want = run(&mut whole, &x);
                for cut in [0, 5, 40, 399] {
                    let mut first = MovingAverage::catalog(&params).unwrap();
                    run(&mut first, &x[..cut]);
                    let mut w = Writer::fields();
                    first.save(&mut w);
                    let bytes = w.into_bytes();
                    let mut second = MovingAverage::catalog(&params).unwrap();
                    let mut r = Reader::fields(&bytes);
                    second.load(&mut r).unwrap();
                    r.finish().unwrap();
                    let rest = run(&mut second, &x[cut..]);
                    for (i, (a, b)) in rest.iter().zip(&want[cut..]).enumerate() {
                        assert!(a.to_bits() == b.to_bits(), "matype {matype} p {period} cut {cut} i {i}");
                    }
                }
            }
        }
    }

    #[test]
    fn batch_equals_the_stream_for_every_type() {
        let mut x = series(500);
        x[300] = f64::NAN;
        for matype in [0, 1, 2, 3, 4, 5, 6, 8] {
            for period in [1, 2, 3, 10, 30] {
                let mut ma = MovingAverage::catalog(&[period as f64, matype as f64]).unwrap();
                let want = run(&mut ma, &x);
                let mut got = vec![0.0; x.len()];
                batch(&[period as f64, matype as f64], &[&x], &mut [&mut got]).unwrap();
                for (i, (a, b)) in got.iter().zip(&want).enumerate() {
                    let exact = matype > 1 || period == 1;
                    let ok = if exact {
                        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
                    } else {
                        (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * 100.0
                    };
                    assert!(ok, "matype {matype} period {period} i {i}: {a} vs {b}");
                }
            }
        }
        let mut out = vec![0.0; 5];
        moving_average_batch(0, 2, &[f64::NAN, 1.0, 2.0, 3.0, 4.0], &mut out).unwrap();
        assert!(out.iter().all(|v| v.is_nan()));
        assert!(moving_average_batch(7, 2, &x, &mut vec![0.0; x.len()]).is_err());
    }

    #[test]
    fn peek_does_not_change_the_state() {
        let x = series(50);
        for matype in [0, 1, 2, 3, 4, 5, 6, 8] {
            let mut a = MovingAverage::catalog(&[4.0, matype as f64]).unwrap();
            let mut b = a.clone();
            let mut peeked = [0.0];
            let mut got = [0.0];
            for &v in &x {
                a.peek(&[v * 2.0], &mut peeked);
                a.update(&[v], &mut got);
                let mut want = [0.0];
                b.update(&[v], &mut want);
                assert!(got[0].to_bits() == want[0].to_bits(), "matype {matype}");
            }
        }
    }

    #[test]
    fn load_refuses_poison_before_the_first_value() {
        let mut w = Writer::fields();
        w.flag(false).flag(true);
        NoSkip::new(SmaStream::catalog(&[3.0]).unwrap()).inner.save(&mut w);
        let bytes = w.into_bytes();
        let mut fresh = NoSkip::new(SmaStream::catalog(&[3.0]).unwrap());
        assert!(fresh.load(&mut Reader::fields(&bytes)).is_err());
    }
}
