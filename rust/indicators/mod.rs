//! Technical indicators, batch and streaming, computed as TA-Lib 0.8 (C
//! library 0.8.1) computes them with its default settings.
//!
//! Batch functions take the prices and a caller-provided output of the same
//! length; the first `lookback` outputs (plus any leading NaNs, see below) are
//! NaN. Streaming types (`SmaStream`, ...) update one value at a time and give
//! the same numbers; they save to and restore from a versioned byte string.
//!
//! NaN handling, as the `talib` Python package does it: leading NaNs are
//! skipped (the indicator starts at the first non-NaN value, so its lookback
//! counts from there). A NaN or infinity inside the data then propagates
//! exactly as TA-Lib's own arithmetic propagates it (SMA, EMA, MACD and the
//! bands turn NaN from that point on, an infinity is carried for one window
//! first; RSI reads 0 from that point on; ATR ignores a NaN close because
//! TA-Lib's true range compares with it, but turns NaN on a NaN high or low).
//! Batch functions get this by running the streaming state, which follows
//! TA-Lib's operation order, whenever the fast path meets a non-finite value.
//!
//! Speed: TA-Lib's loops are one long dependency chain per output. Here the
//! sliding sums run as eight independent lanes over blocks of the output, each
//! block re-anchored with a direct sum (so rounding cannot drift on long
//! series), and the exponential and Wilder recurrences run as blocked scans over
//! rows of eight values (`scan.rs`), long RSI and MACD as eight segments
//! of the series at once (`segments.rs`). Cost is O(n) and does not depend on the
//! window.
//!
//! Every whole-array kernel runs inside `cpu::batch` or `cpu::replay` (the
//! rolling sums and the recurrence rows, written on `lanes::Lanes`, inside
//! `lanes::run`'s per-level copies), so it is compiled for each CPU level
//! and inherits the process's level. Only the
//! six native indicators reorder TA-Lib's arithmetic (within 1e-12 of scale);
//! the other kernels equal TA-Lib bit for bit because they keep its order of
//! operations, and that order is what keeps them scalar: a running sum
//! (`sum += new - old`, WMA, TRIMA, LINEARREG, STDDEV/VAR, MFI, ULTOSC, OBV),
//! a Wilder or exponential recurrence (CMO, NATR, the directional family,
//! DEMA/TEMA/T3, KAMA) or a state machine (SAR) is one dependency chain whose
//! rounding changes if it is split into lanes, and the window extremes
//! (MIN/MAX, WILLR, AROON, STOCH) follow TA-Lib's block folds, whose NaN
//! handling depends on the fold order. The level still gives them FMA for
//! TA-Lib's fused steps and wider loads; the element-wise kernels (MOM, ROC*,
//! TRANGE, TYPPRICE) are vectorised by the compiler at every level. Each
//! kernel's comment names its chain.

mod aroon;
mod atr;
mod bollinger;
pub mod catalog;
pub mod catalog_gen;
mod cci;
pub mod cpu;
pub mod cmo;
pub(crate) mod dema;
mod directional;
mod fused;
mod ema;
pub(crate) mod ema_chain;
pub mod indicator;
pub(crate) mod kama;
mod lanes;
pub mod linearreg;
pub mod ma;
mod macd;
pub mod mfi;
pub mod minmax;
pub mod momentum;
pub mod obv;
mod rolling;
mod rsi;
mod sar;
mod scan;
mod segments;
mod sma;
pub mod state;
pub mod stddev;
pub(crate) mod stoch;
pub(crate) mod t3;
pub(crate) mod tema;
mod trange;
pub(crate) mod trima;
pub mod typprice;
mod ultosc;
pub mod willr;
pub mod window;
pub(crate) mod wma;
#[cfg(test)]
pub(crate) mod testkit;

pub use atr::{atr, check_bars, AtrStream};
pub use bollinger::{bollinger_bands, BollingerStream};
pub use ema::{ema, EmaStream};
pub use macd::{macd, MacdStream};
pub use rsi::{rsi, RsiStream};
pub use sma::{sma, SmaStream};

use crate::error::{Error, Result};

/// Refuses an empty series.
pub(crate) fn check_series(name: &str, values: &[f64]) -> Result<()> {
    if values.is_empty() {
        return Err(Error::invalid(name, "must not be empty"));
    }
    Ok(())
}

/// A period must be at least 1 and no longer than the series.
pub(crate) fn check_period(name: &str, period: usize, len: usize) -> Result<()> {
    if period < 1 {
        return Err(Error::invalid(
            name,
            format!("must be at least 1, got {period}"),
        ));
    }
    if period > len {
        return Err(Error::invalid(
            name,
            format!("must not exceed the number of prices ({len}), got {period}"),
        ));
    }
    Ok(())
}

/// A period for a streaming object: at least 1 (no data to compare with yet).
pub(crate) fn check_stream_period(name: &str, period: usize) -> Result<()> {
    if period < 1 {
        return Err(Error::invalid(
            name,
            format!("must be at least 1, got {period}"),
        ));
    }
    if period > MAX_PERIOD {
        return Err(Error::invalid(
            name,
            format!("must be at most {MAX_PERIOD}, got {period}"),
        ));
    }
    Ok(())
}

/// Largest period a streaming object accepts (it keeps up to this many values).
pub const MAX_PERIOD: usize = 1 << 24;

pub(crate) fn check_output(name: &str, out: &[f64], len: usize) -> Result<()> {
    if out.len() != len {
        return Err(Error::invalid(
            name,
            format!(
                "must have the length of the input ({len}), got {}",
                out.len()
            ),
        ));
    }
    Ok(())
}

/// Index of the first non-NaN value (`len` if there is none): what the
/// `talib` package skips before calling TA-Lib.
pub(crate) fn first_valid(values: &[f64]) -> usize {
    values
        .iter()
        .position(|v| !v.is_nan())
        .unwrap_or(values.len())
}

/// Sum with four accumulators: a short dependency chain and less rounding
/// than one running total.
#[inline]
pub(crate) fn direct_sum(values: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let chunks = values.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        acc[0] += c[0];
        acc[1] += c[1];
        acc[2] += c[2];
        acc[3] += c[3];
    }
    let mut total = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for v in rest {
        total += v;
    }
    total
}
