//! extern "C" layer for `crate::indicators`: batch functions over caller
//! buffers, and streaming handles (`PyrtSma`, `PyrtEma`, `PyrtRsi`,
//! `PyrtMacd`, `PyrtBollinger`, `PyrtAtr`) that update one value at a time and
//! save/restore their state as bytes.
//!
//! Streaming handles are not synchronised: use one from one thread at a time
//! (distinct handles may be used from distinct threads).

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::boundary::*;
use crate::error::{Error, ErrorKind, Result};
use crate::indicators::{
    self, AtrStream, BollingerStream, EmaStream, MacdStream, RsiStream, SmaStream,
};

/// Runs a value-returning body that must not unwind into C; a panic is
/// recorded as the last error and `fallback` returned.
#[inline]
fn guarded_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(_) => {
            fail(&Error::new(
                ErrorKind::Internal,
                "panic inside pyrt (streaming update)",
            ));
            fallback
        }
    }
}

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

unsafe fn save_into(
    bytes: Vec<u8>,
    buf: *mut u8,
    capacity: usize,
    written: *mut usize,
) -> Result<()> {
    ensure_out(written, "written")?;
    if bytes.len() > capacity {
        written.write(bytes.len());
        return Err(Error::new(
            ErrorKind::BufferTooSmall,
            format!(
                "buf: the state needs {} bytes, capacity is {capacity}",
                bytes.len()
            ),
        ));
    }
    let out = output_slice(buf, bytes.len(), "buf")?;
    out.copy_from_slice(&bytes);
    written.write(bytes.len());
    Ok(())
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
        indicators::bollinger_bands(prices, window, num_std, u, m, l)
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

// ---- streaming ----

/// One MACD streaming result (NaN in every field while warming up).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PyrtMacdValue {
    pub macd: f64,
    pub signal: f64,
    pub histogram: f64,
}

/// One Bollinger streaming result (NaN in every field while warming up).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PyrtBands {
    pub upper: f64,
    pub middle: f64,
    pub lower: f64,
}

const NAN_MACD: PyrtMacdValue = PyrtMacdValue {
    macd: f64::NAN,
    signal: f64::NAN,
    histogram: f64::NAN,
};
const NAN_BANDS: PyrtBands = PyrtBands {
    upper: f64::NAN,
    middle: f64::NAN,
    lower: f64::NAN,
};

/// Streaming simple moving average: opaque state (see `pyrt_sma_new`). Its results equal the
/// batch function's, value for value, whether fed in one call or in chunks.
pub struct PyrtSma {
    inner: SmaStream,
}

/// Creates a streaming simple moving average handle in `*out` (free it with
/// `pyrt_sma_free`). Errors: a period < 1 (or too large), and for MACD
/// `fast_period` > `slow_period`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_sma_new(window: usize, out: *mut *mut PyrtSma) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let inner = SmaStream::new(window)?;
        write_handle(out, PyrtSma { inner }, "out")
    }
}

/// Frees a handle from `pyrt_sma_new` or `pyrt_sma_load`; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn pyrt_sma_free(stream: *mut PyrtSma) {
    free_handle(stream)
}

/// Saves the state as a versioned byte string: `b"PYRT"`, format version
/// (u16), kind (u16), the fields little-endian, then a 64-bit FNV-1a
/// checksum of the bytes before it. Writes it to
/// `buf[0..capacity]` and its size to `*written`. When `capacity` is too
/// small, returns PYRT_BUFFER_TOO_SMALL and writes the needed size to
/// `*written` (call with capacity 0 to ask for the size).
#[no_mangle]
pub unsafe extern "C" fn pyrt_sma_save(
    stream: *const PyrtSma,
    buf: *mut u8,
    capacity: usize,
    written: *mut usize,
) -> PyrtStatus {
    ffi_boundary! {
        let stream = handle_ref(stream, "stream")?;
        save_into(stream.inner.to_bytes(), buf, capacity, written)
    }
}

/// Restores a state saved by `pyrt_sma_save` (by any language) into a new
/// handle in `*out`. Bytes that are not such a state (bad magic, checksum,
/// format version or kind, truncated, inconsistent fields) give
/// PYRT_INVALID_STATE.
#[no_mangle]
pub unsafe extern "C" fn pyrt_sma_load(
    bytes: *const u8,
    len: usize,
    out: *mut *mut PyrtSma,
) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let bytes = input_slice(bytes, len, "bytes")?;
        let inner = SmaStream::from_bytes(bytes)?;
        write_handle(out, PyrtSma { inner }, "out")
    }
}

/// Streaming exponential moving average: opaque state (see `pyrt_ema_new`). Its results equal the
/// batch function's, value for value, whether fed in one call or in chunks.
pub struct PyrtEma {
    inner: EmaStream,
}

/// Creates a streaming exponential moving average handle in `*out` (free it with
/// `pyrt_ema_free`). Errors: a period < 1 (or too large), and for MACD
/// `fast_period` > `slow_period`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_ema_new(window: usize, out: *mut *mut PyrtEma) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let inner = EmaStream::new(window)?;
        write_handle(out, PyrtEma { inner }, "out")
    }
}

/// Frees a handle from `pyrt_ema_new` or `pyrt_ema_load`; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn pyrt_ema_free(stream: *mut PyrtEma) {
    free_handle(stream)
}

/// Saves the state as a versioned byte string: `b"PYRT"`, format version
/// (u16), kind (u16), the fields little-endian, then a 64-bit FNV-1a
/// checksum of the bytes before it. Writes it to
/// `buf[0..capacity]` and its size to `*written`. When `capacity` is too
/// small, returns PYRT_BUFFER_TOO_SMALL and writes the needed size to
/// `*written` (call with capacity 0 to ask for the size).
#[no_mangle]
pub unsafe extern "C" fn pyrt_ema_save(
    stream: *const PyrtEma,
    buf: *mut u8,
    capacity: usize,
    written: *mut usize,
) -> PyrtStatus {
    ffi_boundary! {
        let stream = handle_ref(stream, "stream")?;
        save_into(stream.inner.to_bytes(), buf, capacity, written)
    }
}

/// Restores a state saved by `pyrt_ema_save` (by any language) into a new
/// handle in `*out`. Bytes that are not such a state (bad magic, checksum,
/// format version or kind, truncated, inconsistent fields) give
/// PYRT_INVALID_STATE.
#[no_mangle]
pub unsafe extern "C" fn pyrt_ema_load(
    bytes: *const u8,
    len: usize,
    out: *mut *mut PyrtEma,
) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let bytes = input_slice(bytes, len, "bytes")?;
        let inner = EmaStream::from_bytes(bytes)?;
        write_handle(out, PyrtEma { inner }, "out")
    }
}

/// Streaming RSI: opaque state (see `pyrt_rsi_new`). Its results equal the
/// batch function's, value for value, whether fed in one call or in chunks.
pub struct PyrtRsi {
    inner: RsiStream,
}

/// Creates a streaming rsi handle in `*out` (free it with
/// `pyrt_rsi_free`). Errors: a period < 1 (or too large), and for MACD
/// `fast_period` > `slow_period`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_rsi_new(window: usize, out: *mut *mut PyrtRsi) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let inner = RsiStream::new(window)?;
        write_handle(out, PyrtRsi { inner }, "out")
    }
}

/// Frees a handle from `pyrt_rsi_new` or `pyrt_rsi_load`; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn pyrt_rsi_free(stream: *mut PyrtRsi) {
    free_handle(stream)
}

/// Saves the state as a versioned byte string: `b"PYRT"`, format version
/// (u16), kind (u16), the fields little-endian, then a 64-bit FNV-1a
/// checksum of the bytes before it. Writes it to
/// `buf[0..capacity]` and its size to `*written`. When `capacity` is too
/// small, returns PYRT_BUFFER_TOO_SMALL and writes the needed size to
/// `*written` (call with capacity 0 to ask for the size).
#[no_mangle]
pub unsafe extern "C" fn pyrt_rsi_save(
    stream: *const PyrtRsi,
    buf: *mut u8,
    capacity: usize,
    written: *mut usize,
) -> PyrtStatus {
    ffi_boundary! {
        let stream = handle_ref(stream, "stream")?;
        save_into(stream.inner.to_bytes(), buf, capacity, written)
    }
}

/// Restores a state saved by `pyrt_rsi_save` (by any language) into a new
/// handle in `*out`. Bytes that are not such a state (bad magic, checksum,
/// format version or kind, truncated, inconsistent fields) give
/// PYRT_INVALID_STATE.
#[no_mangle]
pub unsafe extern "C" fn pyrt_rsi_load(
    bytes: *const u8,
    len: usize,
    out: *mut *mut PyrtRsi,
) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let bytes = input_slice(bytes, len, "bytes")?;
        let inner = RsiStream::from_bytes(bytes)?;
        write_handle(out, PyrtRsi { inner }, "out")
    }
}

/// Streaming MACD: opaque state (see `pyrt_macd_new`). Its results equal the
/// batch function's, value for value, whether fed in one call or in chunks.
pub struct PyrtMacd {
    inner: MacdStream,
}

/// Creates a streaming macd handle in `*out` (free it with
/// `pyrt_macd_free`). Errors: a period < 1 (or too large), and for MACD
/// `fast_period` > `slow_period`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_macd_new(
    fast_period: usize,
    slow_period: usize,
    signal_period: usize,
    out: *mut *mut PyrtMacd,
) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let inner = MacdStream::new(fast_period, slow_period, signal_period)?;
        write_handle(out, PyrtMacd { inner }, "out")
    }
}

/// Frees a handle from `pyrt_macd_new` or `pyrt_macd_load`; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn pyrt_macd_free(stream: *mut PyrtMacd) {
    free_handle(stream)
}

/// Saves the state as a versioned byte string: `b"PYRT"`, format version
/// (u16), kind (u16), the fields little-endian, then a 64-bit FNV-1a
/// checksum of the bytes before it. Writes it to
/// `buf[0..capacity]` and its size to `*written`. When `capacity` is too
/// small, returns PYRT_BUFFER_TOO_SMALL and writes the needed size to
/// `*written` (call with capacity 0 to ask for the size).
#[no_mangle]
pub unsafe extern "C" fn pyrt_macd_save(
    stream: *const PyrtMacd,
    buf: *mut u8,
    capacity: usize,
    written: *mut usize,
) -> PyrtStatus {
    ffi_boundary! {
        let stream = handle_ref(stream, "stream")?;
        save_into(stream.inner.to_bytes(), buf, capacity, written)
    }
}

/// Restores a state saved by `pyrt_macd_save` (by any language) into a new
/// handle in `*out`. Bytes that are not such a state (bad magic, checksum,
/// format version or kind, truncated, inconsistent fields) give
/// PYRT_INVALID_STATE.
#[no_mangle]
pub unsafe extern "C" fn pyrt_macd_load(
    bytes: *const u8,
    len: usize,
    out: *mut *mut PyrtMacd,
) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let bytes = input_slice(bytes, len, "bytes")?;
        let inner = MacdStream::from_bytes(bytes)?;
        write_handle(out, PyrtMacd { inner }, "out")
    }
}

/// Streaming Bollinger bands: opaque state (see `pyrt_bollinger_new`). Its results equal the
/// batch function's, value for value, whether fed in one call or in chunks.
pub struct PyrtBollinger {
    inner: BollingerStream,
}

/// Creates a streaming bollinger bands handle in `*out` (free it with
/// `pyrt_bollinger_free`). Errors: a period < 1 (or too large), and for MACD
/// `fast_period` > `slow_period`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_bollinger_new(
    window: usize,
    num_std: f64,
    out: *mut *mut PyrtBollinger,
) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let inner = BollingerStream::new(window, num_std)?;
        write_handle(out, PyrtBollinger { inner }, "out")
    }
}

/// Frees a handle from `pyrt_bollinger_new` or `pyrt_bollinger_load`; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn pyrt_bollinger_free(stream: *mut PyrtBollinger) {
    free_handle(stream)
}

/// Saves the state as a versioned byte string: `b"PYRT"`, format version
/// (u16), kind (u16), the fields little-endian, then a 64-bit FNV-1a
/// checksum of the bytes before it. Writes it to
/// `buf[0..capacity]` and its size to `*written`. When `capacity` is too
/// small, returns PYRT_BUFFER_TOO_SMALL and writes the needed size to
/// `*written` (call with capacity 0 to ask for the size).
#[no_mangle]
pub unsafe extern "C" fn pyrt_bollinger_save(
    stream: *const PyrtBollinger,
    buf: *mut u8,
    capacity: usize,
    written: *mut usize,
) -> PyrtStatus {
    ffi_boundary! {
        let stream = handle_ref(stream, "stream")?;
        save_into(stream.inner.to_bytes(), buf, capacity, written)
    }
}

/// Restores a state saved by `pyrt_bollinger_save` (by any language) into a new
/// handle in `*out`. Bytes that are not such a state (bad magic, checksum,
/// format version or kind, truncated, inconsistent fields) give
/// PYRT_INVALID_STATE.
#[no_mangle]
pub unsafe extern "C" fn pyrt_bollinger_load(
    bytes: *const u8,
    len: usize,
    out: *mut *mut PyrtBollinger,
) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let bytes = input_slice(bytes, len, "bytes")?;
        let inner = BollingerStream::from_bytes(bytes)?;
        write_handle(out, PyrtBollinger { inner }, "out")
    }
}

/// Streaming ATR: opaque state (see `pyrt_atr_new`). Its results equal the
/// batch function's, value for value, whether fed in one call or in chunks.
pub struct PyrtAtr {
    inner: AtrStream,
}

/// Creates a streaming atr handle in `*out` (free it with
/// `pyrt_atr_free`). Errors: a period < 1 (or too large), and for MACD
/// `fast_period` > `slow_period`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_atr_new(window: usize, out: *mut *mut PyrtAtr) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let inner = AtrStream::new(window)?;
        write_handle(out, PyrtAtr { inner }, "out")
    }
}

/// Frees a handle from `pyrt_atr_new` or `pyrt_atr_load`; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn pyrt_atr_free(stream: *mut PyrtAtr) {
    free_handle(stream)
}

/// Saves the state as a versioned byte string: `b"PYRT"`, format version
/// (u16), kind (u16), the fields little-endian, then a 64-bit FNV-1a
/// checksum of the bytes before it. Writes it to
/// `buf[0..capacity]` and its size to `*written`. When `capacity` is too
/// small, returns PYRT_BUFFER_TOO_SMALL and writes the needed size to
/// `*written` (call with capacity 0 to ask for the size).
#[no_mangle]
pub unsafe extern "C" fn pyrt_atr_save(
    stream: *const PyrtAtr,
    buf: *mut u8,
    capacity: usize,
    written: *mut usize,
) -> PyrtStatus {
    ffi_boundary! {
        let stream = handle_ref(stream, "stream")?;
        save_into(stream.inner.to_bytes(), buf, capacity, written)
    }
}

/// Restores a state saved by `pyrt_atr_save` (by any language) into a new
/// handle in `*out`. Bytes that are not such a state (bad magic, checksum,
/// format version or kind, truncated, inconsistent fields) give
/// PYRT_INVALID_STATE.
#[no_mangle]
pub unsafe extern "C" fn pyrt_atr_load(
    bytes: *const u8,
    len: usize,
    out: *mut *mut PyrtAtr,
) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let bytes = input_slice(bytes, len, "bytes")?;
        let inner = AtrStream::from_bytes(bytes)?;
        write_handle(out, PyrtAtr { inner }, "out")
    }
}

/// Takes one price and returns the SMA, NaN while warming up (and for leading
/// NaNs). Infallible on a live handle; a NULL handle gives NaN.
#[no_mangle]
pub unsafe extern "C" fn pyrt_sma_update(stream: *mut PyrtSma, price: f64) -> f64 {
    match stream.as_mut() {
        Some(s) => guarded_value(f64::NAN, || s.inner.update(price)),
        None => f64::NAN,
    }
}

/// Takes one price and returns the EMA, NaN while warming up. Infallible on a
/// live handle; a NULL handle gives NaN.
#[no_mangle]
pub unsafe extern "C" fn pyrt_ema_update(stream: *mut PyrtEma, price: f64) -> f64 {
    match stream.as_mut() {
        Some(s) => guarded_value(f64::NAN, || s.inner.update(price)),
        None => f64::NAN,
    }
}

/// Takes one price and returns the RSI, NaN while warming up. Infallible on a
/// live handle; a NULL handle gives NaN.
#[no_mangle]
pub unsafe extern "C" fn pyrt_rsi_update(stream: *mut PyrtRsi, price: f64) -> f64 {
    match stream.as_mut() {
        Some(s) => guarded_value(f64::NAN, || s.inner.update(price)),
        None => f64::NAN,
    }
}

/// Takes one price and returns MACD, signal and histogram (all NaN while
/// warming up). Infallible on a live handle; a NULL handle gives NaNs.
#[no_mangle]
pub unsafe extern "C" fn pyrt_macd_update(stream: *mut PyrtMacd, price: f64) -> PyrtMacdValue {
    match stream.as_mut() {
        Some(s) => guarded_value(NAN_MACD, || {
            let v = s.inner.update(price);
            PyrtMacdValue {
                macd: v.macd,
                signal: v.signal,
                histogram: v.histogram,
            }
        }),
        None => NAN_MACD,
    }
}

/// Takes one price and returns upper, middle and lower band (all NaN while
/// warming up). Infallible on a live handle; a NULL handle gives NaNs.
#[no_mangle]
pub unsafe extern "C" fn pyrt_bollinger_update(
    stream: *mut PyrtBollinger,
    price: f64,
) -> PyrtBands {
    match stream.as_mut() {
        Some(s) => guarded_value(NAN_BANDS, || {
            let b = s.inner.update(price);
            PyrtBands {
                upper: b.upper,
                middle: b.middle,
                lower: b.lower,
            }
        }),
        None => NAN_BANDS,
    }
}

/// Takes one bar and returns the ATR, NaN while warming up. Infallible on a
/// live handle; a NULL handle gives NaN.
#[no_mangle]
pub unsafe extern "C" fn pyrt_atr_update(
    stream: *mut PyrtAtr,
    high: f64,
    low: f64,
    close: f64,
) -> f64 {
    match stream.as_mut() {
        Some(s) => guarded_value(f64::NAN, || s.inner.update(high, low, close)),
        None => f64::NAN,
    }
}

/// Feeds `prices[0..len]` and writes each result to `out[0..len]`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_sma_update_many(
    stream: *mut PyrtSma,
    prices: *const f64,
    len: usize,
    out: *mut f64,
) -> PyrtStatus {
    ffi_boundary! {
        let s = handle_mut(stream, "stream")?;
        let prices = series(prices, len, "prices")?;
        let out = out_buffer(out, len, "out", &[(prices, "prices")])?;
        s.inner.update_into(prices, out);
        Ok(())
    }
}

/// Feeds `prices[0..len]` and writes each result to `out[0..len]`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_ema_update_many(
    stream: *mut PyrtEma,
    prices: *const f64,
    len: usize,
    out: *mut f64,
) -> PyrtStatus {
    ffi_boundary! {
        let s = handle_mut(stream, "stream")?;
        let prices = series(prices, len, "prices")?;
        let out = out_buffer(out, len, "out", &[(prices, "prices")])?;
        s.inner.update_into(prices, out);
        Ok(())
    }
}

/// Feeds `prices[0..len]` and writes each result to `out[0..len]`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_rsi_update_many(
    stream: *mut PyrtRsi,
    prices: *const f64,
    len: usize,
    out: *mut f64,
) -> PyrtStatus {
    ffi_boundary! {
        let s = handle_mut(stream, "stream")?;
        let prices = series(prices, len, "prices")?;
        let out = out_buffer(out, len, "out", &[(prices, "prices")])?;
        s.inner.update_into(prices, out);
        Ok(())
    }
}

/// Feeds `prices[0..len]` and writes the three results to the three outputs.
#[no_mangle]
pub unsafe extern "C" fn pyrt_macd_update_many(
    stream: *mut PyrtMacd,
    prices: *const f64,
    len: usize,
    out_macd: *mut f64,
    out_signal: *mut f64,
    out_histogram: *mut f64,
) -> PyrtStatus {
    ffi_boundary! {
        let s = handle_mut(stream, "stream")?;
        let prices = series(prices, len, "prices")?;
        ensure_distinct(out_macd, out_signal, len, "out_signal", "out_macd")?;
        ensure_distinct(out_macd, out_histogram, len, "out_histogram", "out_macd")?;
        ensure_distinct(out_signal, out_histogram, len, "out_histogram", "out_signal")?;
        let m = out_buffer(out_macd, len, "out_macd", &[(prices, "prices")])?;
        let g = out_buffer(out_signal, len, "out_signal", &[(prices, "prices")])?;
        let h = out_buffer(out_histogram, len, "out_histogram", &[(prices, "prices")])?;
        s.inner.update_into(prices, m, g, h);
        Ok(())
    }
}

/// Feeds `prices[0..len]` and writes the three bands to the three outputs.
#[no_mangle]
pub unsafe extern "C" fn pyrt_bollinger_update_many(
    stream: *mut PyrtBollinger,
    prices: *const f64,
    len: usize,
    out_upper: *mut f64,
    out_middle: *mut f64,
    out_lower: *mut f64,
) -> PyrtStatus {
    ffi_boundary! {
        let s = handle_mut(stream, "stream")?;
        let prices = series(prices, len, "prices")?;
        ensure_distinct(out_upper, out_middle, len, "out_middle", "out_upper")?;
        ensure_distinct(out_upper, out_lower, len, "out_lower", "out_upper")?;
        ensure_distinct(out_middle, out_lower, len, "out_lower", "out_middle")?;
        let u = out_buffer(out_upper, len, "out_upper", &[(prices, "prices")])?;
        let m = out_buffer(out_middle, len, "out_middle", &[(prices, "prices")])?;
        let l = out_buffer(out_lower, len, "out_lower", &[(prices, "prices")])?;
        s.inner.update_into(prices, u, m, l);
        Ok(())
    }
}

/// Feeds the bars `high/low/close[0..len]` and writes each ATR to `out[0..len]`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_atr_update_many(
    stream: *mut PyrtAtr,
    high: *const f64,
    low: *const f64,
    close: *const f64,
    len: usize,
    out: *mut f64,
) -> PyrtStatus {
    ffi_boundary! {
        let s = handle_mut(stream, "stream")?;
        let high = series(high, len, "high")?;
        let low = series(low, len, "low")?;
        let close = series(close, len, "close")?;
        let out = out_buffer(out, len, "out", &[(high, "high"), (low, "low"), (close, "close")])?;
        s.inner.update_into(high, low, close, out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;
    use std::ptr;

    fn last_error() -> String {
        unsafe { CStr::from_ptr(pyrt_last_error_message()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn batch_rejects_null_zero_length_and_bad_windows() {
        let x = [1.0, 2.0, 3.0];
        let mut out = [0.0; 3];
        unsafe {
            assert_eq!(
                pyrt_sma(ptr::null(), 3, 2, out.as_mut_ptr()),
                PYRT_NULL_POINTER
            );
            assert!(last_error().starts_with("prices:"));
            assert_eq!(
                pyrt_sma(x.as_ptr(), 0, 1, out.as_mut_ptr()),
                PYRT_INVALID_ARGUMENT
            );
            assert!(last_error().starts_with("prices:"));
            assert_eq!(
                pyrt_ema(x.as_ptr(), 3, 0, out.as_mut_ptr()),
                PYRT_INVALID_ARGUMENT
            );
            assert!(last_error().starts_with("window:"));
            assert_eq!(
                pyrt_rsi(x.as_ptr(), 3, 4, out.as_mut_ptr()),
                PYRT_INVALID_ARGUMENT
            );
            assert!(last_error().starts_with("window:"));
            assert_eq!(
                pyrt_rsi(x.as_ptr(), 3, 2, ptr::null_mut()),
                PYRT_NULL_POINTER
            );
            assert!(last_error().starts_with("out:"));
            let mut inplace = x;
            assert_eq!(
                pyrt_sma(inplace.as_ptr(), 3, 2, inplace.as_mut_ptr()),
                PYRT_INVALID_ARGUMENT
            );
            let (mut a, mut b, mut c) = ([0.0; 3], [0.0; 3], [0.0; 3]);
            assert_eq!(
                pyrt_macd(
                    x.as_ptr(),
                    3,
                    3,
                    2,
                    1,
                    a.as_mut_ptr(),
                    b.as_mut_ptr(),
                    b.as_mut_ptr()
                ),
                PYRT_INVALID_ARGUMENT
            );
            assert!(
                last_error().starts_with("out_histogram:"),
                "{}",
                last_error()
            );
            assert_eq!(
                pyrt_macd(
                    x.as_ptr(),
                    3,
                    3,
                    2,
                    1,
                    a.as_mut_ptr(),
                    b.as_mut_ptr(),
                    c.as_mut_ptr()
                ),
                PYRT_INVALID_ARGUMENT
            );
            assert!(last_error().starts_with("fast_period:"));
            assert_eq!(
                pyrt_atr(
                    x.as_ptr(),
                    3,
                    x.as_ptr(),
                    2,
                    x.as_ptr(),
                    3,
                    1,
                    out.as_mut_ptr()
                ),
                PYRT_INVALID_ARGUMENT
            );
            assert!(last_error().starts_with("low:"), "{}", last_error());
            assert_eq!(
                pyrt_bollinger_bands(
                    x.as_ptr(),
                    3,
                    2,
                    f64::INFINITY,
                    out.as_mut_ptr(),
                    a.as_mut_ptr(),
                    b.as_mut_ptr()
                ),
                PYRT_INVALID_ARGUMENT
            );
            assert!(last_error().starts_with("num_std:"));
        }
    }

    #[test]
    fn stream_new_update_save_load_free() {
        unsafe {
            let mut s: *mut PyrtRsi = ptr::null_mut();
            assert_eq!(pyrt_rsi_new(0, &mut s), PYRT_INVALID_ARGUMENT);
            assert!(s.is_null());
            assert_eq!(pyrt_rsi_new(3, &mut s), PYRT_OK);
            for v in [1.0, 2.0, 1.5, 3.0, 2.5] {
                pyrt_rsi_update(s, v);
            }
            let mut size = 0usize;
            assert_eq!(
                pyrt_rsi_save(s, ptr::null_mut(), 0, &mut size),
                PYRT_BUFFER_TOO_SMALL
            );
            let mut buf = vec![0u8; size];
            assert_eq!(
                pyrt_rsi_save(s, buf.as_mut_ptr(), buf.len(), &mut size),
                PYRT_OK
            );
            let mut t: *mut PyrtRsi = ptr::null_mut();
            assert_eq!(pyrt_rsi_load(buf.as_ptr(), buf.len(), &mut t), PYRT_OK);
            assert_eq!(pyrt_rsi_update(s, 4.0), pyrt_rsi_update(t, 4.0));
            let mut wrong: *mut PyrtSma = ptr::null_mut();
            assert_eq!(
                pyrt_sma_load(buf.as_ptr(), buf.len(), &mut wrong),
                PYRT_INVALID_STATE
            );
            assert!(wrong.is_null());
            let garbage = [7u8; 40];
            assert_eq!(
                pyrt_rsi_load(garbage.as_ptr(), garbage.len(), &mut t),
                PYRT_INVALID_STATE
            );
            assert!(pyrt_rsi_update(ptr::null_mut(), 1.0).is_nan());
            pyrt_rsi_free(s);
            pyrt_rsi_free(t);
            pyrt_rsi_free(ptr::null_mut());
        }
    }

    #[test]
    fn macd_and_bands_return_by_value() {
        unsafe {
            let mut m: *mut PyrtMacd = ptr::null_mut();
            assert_eq!(pyrt_macd_new(2, 3, 2, &mut m), PYRT_OK);
            let mut last = NAN_MACD;
            for v in [1.0, 2.0, 4.0, 8.0, 16.0] {
                last = pyrt_macd_update(m, v);
            }
            assert!(
                last.macd.is_finite() && (last.histogram - (last.macd - last.signal)).abs() < 1e-12
            );
            pyrt_macd_free(m);
            let mut b: *mut PyrtBollinger = ptr::null_mut();
            assert_eq!(pyrt_bollinger_new(2, 2.0, &mut b), PYRT_OK);
            pyrt_bollinger_update(b, 1.0);
            let v = pyrt_bollinger_update(b, 3.0);
            assert_eq!((v.upper, v.middle, v.lower), (4.0, 2.0, 0.0));
            pyrt_bollinger_free(b);
        }
    }
}
