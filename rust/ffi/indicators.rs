//! extern "C" layer for pyrt's own six batch indicators (`pyrt_sma`, ...),
//! with pyrt's documented rules: every period at least 1 and at most the
//! length of the data, `fast_period <= slow_period`, empty input refused.
//! The same kernels, with TA-Lib's parameter ranges and short-series rules,
//! are the catalog's `pyrt_ta_*` functions; streams of every indicator are
//! the catalog's `PyrtStream` (see `catalog.rs`).

use super::boundary::*;
use crate::error::Result;
use crate::indicators;

unsafe fn series<'a>(ptr: *const f64, len: usize, name: &str) -> Result<&'a [f64]> {
    input_slice(ptr, len, name)
}

/// An output buffer of `len` doubles that overlaps none of `inputs`.
unsafe fn out_buffer<'a>(
    ptr: *mut f64,
    len: usize,
    name: &str,
    inputs: &[(&[f64], &str)],
) -> Result<&'a mut [f64]> {
    ensure_out(ptr, name)?;
    for (input, input_name) in inputs {
        ensure_disjoint(ptr, len, name, input.as_ptr(), input.len(), input_name)?;
    }
    output_slice(ptr, len, name)
}

fn ensure_distinct(
    a: *const f64,
    b: *const f64,
    len: usize,
    a_name: &str,
    b_name: &str,
) -> Result<()> {
    ensure_disjoint(a, len, a_name, b, len, b_name)
}


// ---- batch ----

/// Simple moving average of `prices[0..len]` over `window` values, written to
/// `out[0..len]`. NaN for the first `window - 1` values after any leading NaNs
/// (as TA-Lib 0.8's SMA through the talib package). Errors: `prices` NULL or
/// empty, `window` < 1 or > `len`, `out` NULL or overlapping `prices`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_sma(
    prices: *const f64,
    len: usize,
    window: usize,
    out: *mut f64,
) -> PyrtStatus {
    ffi_boundary! {
        let prices = series(prices, len, "prices")?;
        let out = out_buffer(out, len, "out", &[(prices, "prices")])?;
        indicators::sma(prices, window, out)
    }
}

/// Exponential moving average (k = 2 / (window + 1), seeded with the average
/// of the first `window` values), written to `out[0..len]`; lookback
/// `window - 1`. Errors as `pyrt_sma`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_ema(
    prices: *const f64,
    len: usize,
    window: usize,
    out: *mut f64,
) -> PyrtStatus {
    ffi_boundary! {
        let prices = series(prices, len, "prices")?;
        let out = out_buffer(out, len, "out", &[(prices, "prices")])?;
        indicators::ema(prices, window, out)
    }
}

/// Relative strength index with Wilder smoothing, written to `out[0..len]`;
/// lookback `window`. Errors as `pyrt_sma`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_rsi(
    prices: *const f64,
    len: usize,
    window: usize,
    out: *mut f64,
) -> PyrtStatus {
    ffi_boundary! {
        let prices = series(prices, len, "prices")?;
        let out = out_buffer(out, len, "out", &[(prices, "prices")])?;
        indicators::rsi(prices, window, out)
    }
}

/// MACD line, signal line and histogram (TA-Lib's alignment: all three start
/// at index `slow_period + signal_period - 2`), each written to `len` doubles.
/// Errors: any period < 1 or > `len`, `fast_period` > `slow_period`, NULL or
/// overlapping buffers.
#[no_mangle]
pub unsafe extern "C" fn pyrt_macd(
    prices: *const f64,
    len: usize,
    fast_period: usize,
    slow_period: usize,
    signal_period: usize,
    out_macd: *mut f64,
    out_signal: *mut f64,
    out_histogram: *mut f64,
) -> PyrtStatus {
    ffi_boundary! {
        let prices = series(prices, len, "prices")?;
        ensure_distinct(out_macd, out_signal, len, "out_signal", "out_macd")?;
        ensure_distinct(out_macd, out_histogram, len, "out_histogram", "out_macd")?;
        ensure_distinct(out_signal, out_histogram, len, "out_histogram", "out_signal")?;
        let m = out_buffer(out_macd, len, "out_macd", &[(prices, "prices")])?;
        let s = out_buffer(out_signal, len, "out_signal", &[(prices, "prices")])?;
        let h = out_buffer(out_histogram, len, "out_histogram", &[(prices, "prices")])?;
        indicators::macd(prices, fast_period, slow_period, signal_period, m, s, h)
    }
}

/// Bollinger bands: middle = SMA(window), upper/lower = middle ± `num_std` *
/// population standard deviation; each band written to `len` doubles;
/// lookback `window - 1`. Errors as `pyrt_sma`, plus a non-finite `num_std`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_bollinger_bands(
    prices: *const f64,
    len: usize,
    window: usize,
    num_std: f64,
    out_upper: *mut f64,
    out_middle: *mut f64,
    out_lower: *mut f64,
) -> PyrtStatus {
    ffi_boundary! {
        let prices = series(prices, len, "prices")?;
        ensure_distinct(out_upper, out_middle, len, "out_middle", "out_upper")?;
        ensure_distinct(out_upper, out_lower, len, "out_lower", "out_upper")?;
        ensure_distinct(out_middle, out_lower, len, "out_lower", "out_middle")?;
        let u = out_buffer(out_upper, len, "out_upper", &[(prices, "prices")])?;
        let m = out_buffer(out_middle, len, "out_middle", &[(prices, "prices")])?;
        let l = out_buffer(out_lower, len, "out_lower", &[(prices, "prices")])?;
        if !num_std.is_finite() {
            return Err(crate::error::Error::invalid("num_std", format!("must be finite, got {num_std}")));
        }
        indicators::bollinger_bands(prices, window, num_std, num_std, u, m, l)
    }
}

/// Average true range with Wilder smoothing over bars given as three arrays
/// (each with its own length, which must agree), written to `out[0..close_len]`;
/// lookback `window`. Errors: empty or NULL arrays, lengths that differ
/// (named: `low` or `close`), `window` < 1 or > the length, NULL or
/// overlapping `out`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_atr(
    high: *const f64,
    high_len: usize,
    low: *const f64,
    low_len: usize,
    close: *const f64,
    close_len: usize,
    window: usize,
    out: *mut f64,
) -> PyrtStatus {
    ffi_boundary! {
        let high = series(high, high_len, "high")?;
        let low = series(low, low_len, "low")?;
        let close = series(close, close_len, "close")?;
        indicators::check_bars(high, low, close)?;
        let out = out_buffer(out, close_len, "out", &[(high, "high"), (low, "low"), (close, "close")])?;
        indicators::atr(high, low, close, window, out)
    }
}

