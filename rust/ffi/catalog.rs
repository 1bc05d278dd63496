//! extern "C" layer for the indicator catalog: the generic API by TA-Lib
//! name (what every binding stands on) and the helpers the generated typed
//! functions (`catalog_gen.rs`) call.
//!
//! Parameters cross as an array of doubles in the record's order; NaN (or a
//! shorter array) means "the default". Series cross as arrays of pointers
//! with one length.
//!
//! `PyrtStream` is safe to share between threads: calls on one stream are
//! serialized (see `handle.rs`); `pyrt_stream_close` waits for a call in
//! flight and makes later calls fail with `PYRT_CLOSED`.

use std::ffi::{c_char, CString};
use std::sync::OnceLock;

use super::boundary::*;
use super::handle::Handle;
use crate::error::{Error, Result};
use crate::indicators::catalog::{self, Stream};
use crate::indicators::catalog_gen::{MAX_INPUTS, MAX_OUTPUTS};

/// A catalog indicator's streaming state: opaque; see `pyrt_stream_new`.
pub struct PyrtStream(Handle<Stream>);

/// One parameter of a catalog indicator.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct PyrtParamInfo {
    /// TA-Lib's parameter name, e.g. "timeperiod".
    pub name: *const c_char,
    pub default_value: f64,
    /// Valid range, both ends included.
    pub min: f64,
    pub max: f64,
    /// Whole numbers only.
    pub integer: bool,
}

/// What the catalog knows of one indicator. Every pointer is static: valid
/// for the life of the library.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct PyrtIndicatorInfo {
    /// TA-Lib's function name, e.g. "ADX".
    pub name: *const c_char,
    /// TA-Lib's group, e.g. "Momentum Indicators".
    pub group: *const c_char,
    /// TA-Lib's display name, e.g. "Average Directional Movement Index".
    pub display: *const c_char,
    /// Input series names in TA-Lib's order ("high", "low", "close").
    pub inputs: *const *const c_char,
    pub n_inputs: usize,
    pub params: *const PyrtParamInfo,
    pub n_params: usize,
    /// Output names in TA-Lib's order ("macd", "macdsignal", "macdhist").
    pub outputs: *const *const c_char,
    pub n_outputs: usize,
}

/// The C view of the records, built once and never freed.
struct CatalogInfo(Vec<PyrtIndicatorInfo>);
// SAFETY: every pointer inside points to leaked, immutable data.
unsafe impl Send for CatalogInfo {}
unsafe impl Sync for CatalogInfo {}

fn leak_str(s: &str) -> *const c_char {
    CString::new(s).expect("catalog strings have no NUL").into_raw()
}

fn leak_strs(list: &[&str]) -> *const *const c_char {
    let v: Vec<*const c_char> = list.iter().map(|s| leak_str(s)).collect();
    Box::leak(v.into_boxed_slice()).as_ptr()
}

fn catalog_info() -> &'static [PyrtIndicatorInfo] {
    static INFO: OnceLock<CatalogInfo> = OnceLock::new();
    &INFO
        .get_or_init(|| {
            CatalogInfo(
                catalog::records()
                    .iter()
                    .map(|r| {
                        let params: Vec<PyrtParamInfo> = r
                            .params
                            .iter()
                            .map(|p| PyrtParamInfo {
                                name: leak_str(p.name),
                                default_value: p.default,
                                min: p.min,
                                max: p.max,
                                integer: p.integer,
                            })
                            .collect();
                        PyrtIndicatorInfo {
                            name: leak_str(r.name),
                            group: leak_str(r.group),
                            display: leak_str(r.display),
                            inputs: leak_strs(r.inputs),
                            n_inputs: r.inputs.len(),
                            n_params: params.len(),
                            params: Box::leak(params.into_boxed_slice()).as_ptr(),
                            outputs: leak_strs(r.outputs),
                            n_outputs: r.outputs.len(),
                        }
                    })
                    .collect(),
            )
        })
        .0
}

// ---- helpers shared with the generated typed functions ----

unsafe fn params_slice<'a>(params: *const f64, n_params: usize) -> Result<&'a [f64]> {
    input_slice(params, n_params, "params")
}

/// `n` caller series of `len` values each, from an array of pointers,
/// gathered into `buf` (a call's stack array: no allocation per call).
unsafe fn series_list<'a, 'b>(
    ptrs: *const *const f64,
    n: usize,
    len: usize,
    what: &str,
    buf: &'b mut [&'a [f64]; MAX_INPUTS],
) -> Result<&'b [&'a [f64]]> {
    if n > MAX_INPUTS {
        return Err(Error::invalid(what, format!("{n} series, but no indicator takes more than {MAX_INPUTS}")));
    }
    let ptrs = input_slice(ptrs, n, what)?;
    for (k, (&p, slot)) in ptrs.iter().zip(buf.iter_mut()).enumerate() {
        // The name is formatted only for the message of a refused pointer:
        // a short series' call should not pay an allocation per input.
        *slot = match input_slice(p, len, what) {
            Ok(series) => series,
            Err(_) => input_slice(p, len, &format!("{what}[{k}]"))?,
        };
    }
    Ok(&buf[..n])
}

/// Caller output buffers of `len` values each, disjoint from each other and
/// from every input, gathered into `buf` as `series_list` does.
unsafe fn output_list<'a, 'b>(
    ptrs: &[*mut f64],
    len: usize,
    inputs: &[&[f64]],
    names: &[&str],
    buf: &'b mut [&'a mut [f64]; MAX_OUTPUTS],
) -> Result<&'b mut [&'a mut [f64]]> {
    if ptrs.len() > MAX_OUTPUTS {
        return Err(Error::invalid("outputs", format!("{} buffers, but no indicator has more than {MAX_OUTPUTS}", ptrs.len())));
    }
    for (k, &p) in ptrs.iter().enumerate() {
        ensure_out(p, names[k])?;
        for x in inputs {
            ensure_disjoint(p, len, names[k], x.as_ptr(), x.len(), "an input")?;
        }
        for (j, &q) in ptrs.iter().enumerate().take(k) {
            ensure_disjoint(p, len, names[k], q, len, names[j])?;
        }
    }
    for (k, (&p, slot)) in ptrs.iter().zip(buf.iter_mut()).enumerate() {
        *slot = output_slice(p, len, names[k])?;
    }
    Ok(&mut buf[..ptrs.len()])
}

/// The body of every typed batch function (`pyrt_adx`, ...).
pub unsafe fn run_typed(index: usize, params: &[f64], inputs: &[*const f64], len: usize, outputs: &[*mut f64]) -> Result<()> {
    let record = catalog::record(index)?;
    let mut ins: [&[f64]; MAX_INPUTS] = [&[]; MAX_INPUTS];
    for (k, (&p, slot)) in inputs.iter().zip(ins.iter_mut()).enumerate() {
        *slot = input_slice(p, len, record.inputs[k])?;
    }
    let ins = &ins[..inputs.len()];
    let mut outs = Default::default();
    let outs = output_list(outputs, len, ins, record.outputs, &mut outs)?;
    catalog::run(index, params, ins, outs)
}

/// The body of every typed lookback function.
pub unsafe fn lookback_typed(index: usize, params: &[f64], out: *mut usize) -> Result<()> {
    ensure_out(out, "out")?;
    let n = catalog::lookback(index, params)?;
    write_out(out, n, "out")
}

/// The body of every typed stream constructor.
pub unsafe fn stream_new_typed(index: usize, params: &[f64], out: *mut *mut PyrtStream) -> Result<()> {
    ensure_out(out, "out")?;
    let stream = Stream::new(index, params)?;
    write_handle(out, PyrtStream(Handle::new("stream", stream)), "out")
}

/// The body of every typed stream update: one bar, outputs through pointers.
pub unsafe fn stream_update_typed(stream: *const PyrtStream, index: usize, tick: &[f64], outputs: &[*mut f64]) -> Result<()> {
    let handle = handle_ref(stream, "stream")?;
    let names = catalog::records()[index].outputs;
    for (k, &p) in outputs.iter().enumerate() {
        ensure_out(p, names[k])?;
    }
    let mut values = [f64::NAN; 8];
    let values = &mut values[..outputs.len()];
    handle.0.with(|s| {
        if s.index() != index {
            return Err(Error::invalid(
                "stream",
                format!("is a {} stream, not {}", s.record().name, catalog::records()[index].name),
            ));
        }
        s.update(tick, values)
    })?;
    for (&p, &v) in outputs.iter().zip(values.iter()) {
        p.write(v);
    }
    Ok(())
}

/// The checks every one-bar call makes (`pyrt_stream_update`, `_peek`),
/// then `f` on the stream under its lock.
unsafe fn on_bar(
    stream: *const PyrtStream,
    tick: *const f64,
    n_inputs: usize,
    out: *mut f64,
    n_outputs: usize,
    f: impl FnOnce(&mut Stream, &[f64], &mut [f64]) -> Result<()>,
) -> Result<()> {
    let handle = handle_ref(stream, "stream")?;
    let tick = input_slice(tick, n_inputs, "tick")?;
    ensure_out(out, "out")?;
    ensure_disjoint(out, n_outputs, "out", tick.as_ptr(), tick.len(), "tick")?;
    let out = output_slice(out, n_outputs, "out")?;
    handle.0.with(|s| f(s, tick, out))
}

// ---- the generic API ----

/// The instruction set the indicator kernels run with in this process:
/// "fma" (AVX2 with fused multiply-add) or "baseline" (a static string).
/// Results are the same bits at every level; `PYRT_CPU=baseline` forces the
/// baseline (read once, at the first indicator call).
#[no_mangle]
pub extern "C" fn pyrt_cpu_level() -> *const c_char {
    match crate::indicators::cpu::level() {
        crate::indicators::cpu::Level::Fma => c"fma".as_ptr(),
        crate::indicators::cpu::Level::Baseline => c"baseline".as_ptr(),
    }
}

/// How many indicators the catalog holds (indices 0 .. count-1).
#[no_mangle]
pub extern "C" fn pyrt_indicator_count() -> usize {
    catalog::records().len()
}

/// Describes catalog entry `index` in `*out` (static strings and arrays).
#[no_mangle]
pub unsafe extern "C" fn pyrt_indicator_info(index: usize, out: *mut PyrtIndicatorInfo) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        catalog::record(index)?;
        let info = &catalog_info()[index];
        write_out(out, *info, "out")
    }
}

/// The index of the indicator called `name` (TA-Lib's name, e.g. "ADX").
/// Errors: PYRT_NOT_FOUND for an unknown name.
#[no_mangle]
pub unsafe extern "C" fn pyrt_indicator_find(name: *const c_char, out_index: *mut usize) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out_index, "out_index")?;
        let index = catalog::find(input_str(name, "name")?)?;
        write_out(out_index, index, "out_index")
    }
}

/// The lookback of `name` for `params` (see the module comment): how many
/// leading bars give NaN outputs.
#[no_mangle]
pub unsafe extern "C" fn pyrt_indicator_lookback(
    name: *const c_char,
    params: *const f64,
    n_params: usize,
    out: *mut usize,
) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let index = catalog::find(input_str(name, "name")?)?;
        let n = catalog::lookback(index, params_slice(params, n_params)?)?;
        write_out(out, n, "out")
    }
}

/// Runs indicator `name` over whole series, as TA-Lib's function: `inputs`
/// holds `n_inputs` pointers to `len` doubles (TA-Lib's input order),
/// `outputs` `n_outputs` pointers to caller buffers of `len` doubles. Leading
/// bars that are NaN in any input are skipped; the first `lookback` outputs
/// after them are NaN; a series no longer than that is all NaN (no error).
/// Errors: unknown name (PYRT_NOT_FOUND), wrong input or output count, a
/// parameter outside its range (the message names it), NULL or overlapping
/// buffers.
#[no_mangle]
pub unsafe extern "C" fn pyrt_indicator_run(
    name: *const c_char,
    params: *const f64,
    n_params: usize,
    inputs: *const *const f64,
    n_inputs: usize,
    len: usize,
    outputs: *const *mut f64,
    n_outputs: usize,
) -> PyrtStatus {
    ffi_boundary! {
        let index = catalog::find(input_str(name, "name")?)?;
        run_at(index, params, n_params, inputs, n_inputs, len, outputs, n_outputs)
    }
}

/// `pyrt_indicator_run` for catalog entry `index` (0 .. `pyrt_indicator_count()`,
/// the order of `pyrt_indicator_info`), without the name lookup: for bindings
/// that resolved the index once and call many times. Same semantics and
/// errors, except that an index past the catalog is PYRT_INVALID_ARGUMENT
/// naming `index` (not PYRT_NOT_FOUND).
#[no_mangle]
pub unsafe extern "C" fn pyrt_indicator_run_at(
    index: usize,
    params: *const f64,
    n_params: usize,
    inputs: *const *const f64,
    n_inputs: usize,
    len: usize,
    outputs: *const *mut f64,
    n_outputs: usize,
) -> PyrtStatus {
    ffi_boundary! { run_at(index, params, n_params, inputs, n_inputs, len, outputs, n_outputs) }
}

/// The body of `pyrt_indicator_run` and `pyrt_indicator_run_at`.
#[allow(clippy::too_many_arguments)]
unsafe fn run_at(
    index: usize,
    params: *const f64,
    n_params: usize,
    inputs: *const *const f64,
    n_inputs: usize,
    len: usize,
    outputs: *const *mut f64,
    n_outputs: usize,
) -> Result<()> {
    let record = catalog::record(index)?;
    catalog::check_arity(record, n_inputs, n_outputs)?;
    let params = params_slice(params, n_params)?;
    let mut ins = Default::default();
    let inputs = series_list(inputs, n_inputs, len, "inputs", &mut ins)?;
    let out_ptrs = input_slice(outputs as *const *mut f64, n_outputs, "outputs")?;
    let mut outs = Default::default();
    let outs = output_list(out_ptrs, len, inputs, record.outputs, &mut outs)?;
    catalog::run(index, params, inputs, outs)
}

/// A new stream of indicator `name` with `params`, in `*out`; free it with
/// `pyrt_stream_free`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_stream_new(
    name: *const c_char,
    params: *const f64,
    n_params: usize,
    out: *mut *mut PyrtStream,
) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let index = catalog::find(input_str(name, "name")?)?;
        stream_new_typed(index, params_slice(params, n_params)?, out)
    }
}

/// A new stream of `name` fed with `history` (`n_inputs` pointers to `len`
/// doubles), as `talib.stream.NAME(*history)` opens one: its value is then
/// the batch output at the last bar. Errors as `pyrt_stream_new`, plus
/// PYRT_INSUFFICIENT_HISTORY when fewer than lookback + 1 bars remain after
/// leading bars that are NaN in an input.
#[no_mangle]
pub unsafe extern "C" fn pyrt_stream_open(
    name: *const c_char,
    params: *const f64,
    n_params: usize,
    history: *const *const f64,
    n_inputs: usize,
    len: usize,
    out: *mut *mut PyrtStream,
) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let index = catalog::find(input_str(name, "name")?)?;
        let mut buf = Default::default();
        let history = series_list(history, n_inputs, len, "history", &mut buf)?;
        let stream = Stream::open(index, params_slice(params, n_params)?, history)?;
        write_handle(out, PyrtStream(Handle::new("stream", stream)), "out")
    }
}

/// One bar (`n_inputs` values in input order) into the stream; its
/// `n_outputs` outputs written to `out`. A bar with a value that is not
/// finite is refused (PYRT_INVALID_ARGUMENT) and the stream is unchanged,
/// as `talib.stream`'s `update`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_stream_update(
    stream: *const PyrtStream,
    tick: *const f64,
    n_inputs: usize,
    out: *mut f64,
    n_outputs: usize,
) -> PyrtStatus {
    ffi_boundary! { on_bar(stream, tick, n_inputs, out, n_outputs, |s, tick, out| s.update(tick, out)) }
}

/// What `pyrt_stream_update` would write for `tick`, without consuming it.
#[no_mangle]
pub unsafe extern "C" fn pyrt_stream_peek(
    stream: *const PyrtStream,
    tick: *const f64,
    n_inputs: usize,
    out: *mut f64,
    n_outputs: usize,
) -> PyrtStatus {
    ffi_boundary! { on_bar(stream, tick, n_inputs, out, n_outputs, |s, tick, out| s.peek(tick, out)) }
}

/// The outputs at the last bar consumed (NaN before any, or while warming up).
#[no_mangle]
pub unsafe extern "C" fn pyrt_stream_value(stream: *const PyrtStream, out: *mut f64, n_outputs: usize) -> PyrtStatus {
    ffi_boundary! {
        let handle = handle_ref(stream, "stream")?;
        ensure_out(out, "out")?;
        let out = output_slice(out, n_outputs, "out")?;
        handle.0.with(|s| {
            catalog::check_arity(s.record(), s.record().inputs.len(), n_outputs)?;
            out.copy_from_slice(s.value());
            Ok(())
        })
    }
}

/// Feeds whole series (batch semantics: NaN inside the data propagates as in
/// `pyrt_indicator_run`), writing each bar's outputs.
#[no_mangle]
pub unsafe extern "C" fn pyrt_stream_update_many(
    stream: *const PyrtStream,
    inputs: *const *const f64,
    n_inputs: usize,
    len: usize,
    outputs: *const *mut f64,
    n_outputs: usize,
) -> PyrtStatus {
    ffi_boundary! {
        let handle = handle_ref(stream, "stream")?;
        let mut ins = Default::default();
        let inputs = series_list(inputs, n_inputs, len, "inputs", &mut ins)?;
        let out_ptrs = input_slice(outputs as *const *mut f64, n_outputs, "outputs")?;
        handle.0.with(|s| {
            catalog::check_arity(s.record(), n_inputs, n_outputs)?;
            let mut outs = Default::default();
            let outs = output_list(out_ptrs, len, inputs, s.record().outputs, &mut outs)?;
            s.update_many(inputs, outs)
        })
    }
}

/// An independent copy of the stream (same state, same bar) in `*out`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_stream_copy(stream: *const PyrtStream, out: *mut *mut PyrtStream) -> PyrtStatus {
    ffi_boundary! {
        let handle = handle_ref(stream, "stream")?;
        ensure_out(out, "out")?;
        let copy = handle.0.with(|s| Ok(s.clone()))?;
        write_handle(out, PyrtStream(Handle::new("stream", copy)), "out")
    }
}

/// Saves the stream as self-describing bytes (`b"PYRT"`, format version 2,
/// the indicator's name and parameters, its fields, an FNV-1a checksum) into
/// `buf[0..capacity]`, the size in `*written`. When `capacity` is too small
/// (call with 0 to ask), returns PYRT_BUFFER_TOO_SMALL with the size in `*written`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_stream_save(
    stream: *const PyrtStream,
    buf: *mut u8,
    capacity: usize,
    written: *mut usize,
) -> PyrtStatus {
    ffi_boundary! {
        let handle = handle_ref(stream, "stream")?;
        ensure_out(written, "written")?;
        let bytes = handle.0.with(|s| Ok(s.to_bytes()))?;
        if bytes.len() > capacity {
            written.write(bytes.len());
            return Err(Error::new(
                crate::error::ErrorKind::BufferTooSmall,
                format!("buf: the state needs {} bytes, capacity is {capacity}", bytes.len()),
            ));
        }
        output_slice(buf, bytes.len(), "buf")?.copy_from_slice(&bytes);
        written.write(bytes.len());
        Ok(())
    }
}

/// Restores a stream saved by `pyrt_stream_save` (in any language) into a
/// new handle in `*out`: the bytes name the indicator and carry its
/// parameters. Bytes that are not such a state (bad magic, checksum or
/// version, unknown indicator, truncated, inconsistent) give PYRT_INVALID_STATE.
#[no_mangle]
pub unsafe extern "C" fn pyrt_stream_load(bytes: *const u8, len: usize, out: *mut *mut PyrtStream) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let stream = Stream::from_bytes(input_slice(bytes, len, "bytes")?)?;
        write_handle(out, PyrtStream(Handle::new("stream", stream)), "out")
    }
}

/// Which catalog entry the stream computes (an index for `pyrt_indicator_info`).
#[no_mangle]
pub unsafe extern "C" fn pyrt_stream_indicator(stream: *const PyrtStream, out_index: *mut usize) -> PyrtStatus {
    ffi_boundary! {
        let handle = handle_ref(stream, "stream")?;
        ensure_out(out_index, "out_index")?;
        let index = handle.0.with(|s| Ok(s.index()))?;
        write_out(out_index, index, "out_index")
    }
}

/// Closes the stream: waits for a call in flight on another thread, drops
/// the state; later calls fail with PYRT_CLOSED. NULL and a second close are
/// no-ops. The handle itself stays valid until `pyrt_stream_free`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_stream_close(stream: *const PyrtStream) {
    if let Some(handle) = stream.as_ref() {
        run_guarded_void(|| handle.0.close());
    }
}

/// Closes and frees a stream from `pyrt_stream_new`, `_open`, `_copy`,
/// `_load` or a typed `pyrt_<name>_stream_new`; NULL is a no-op. No other
/// thread may be inside a call on it, and it must not be used afterwards
/// (undefined behaviour): use `pyrt_stream_close` to stop other threads.
#[no_mangle]
pub unsafe extern "C" fn pyrt_stream_free(stream: *mut PyrtStream) {
    free_handle(stream)
}
