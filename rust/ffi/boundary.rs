//! What every entry point shares: status codes, the thread-local last error,
//! the panic boundary, and the checks that turn raw pointers into slices.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, ErrorKind, Result};

/// The result of every fallible call: `PYRT_OK` (0) or one of the codes below.
/// Codes are grouped: 1xx bad arguments, 5xx shared-memory ring,
/// 6xx messaging, 9xx internal.
pub type PyrtStatus = i32;

pub const PYRT_OK: PyrtStatus = 0;
/// An argument is out of its domain; the message names it.
pub const PYRT_INVALID_ARGUMENT: PyrtStatus = 100;
/// A required pointer was NULL; the message names it.
pub const PYRT_NULL_POINTER: PyrtStatus = 101;
/// A caller buffer is too small; the needed size was written where documented.
pub const PYRT_BUFFER_TOO_SMALL: PyrtStatus = 102;
/// Saved state bytes that do not decode (wrong magic, version or kind).
pub const PYRT_INVALID_STATE: PyrtStatus = 103;
/// The handle was closed (`pyrt_<thing>_close`), or disabled by an earlier
/// panic inside one of its calls; nothing was done.
pub const PYRT_CLOSED: PyrtStatus = 104;
/// A named thing (a ring, an indicator) does not exist; the message names it.
pub const PYRT_NOT_FOUND: PyrtStatus = 105;
/// Too few bars of history to open a stream: at least its lookback + 1 are
/// needed after any leading bars that are NaN in an input.
pub const PYRT_INSUFFICIENT_HISTORY: PyrtStatus = 106;
/// The ring is full: nothing was written. An outcome, not a failure: the
/// last error message is left as it was.
pub const PYRT_FULL: PyrtStatus = 500;
/// The ring is empty: nothing was read. An outcome, not a failure: the last
/// error message is left as it was.
pub const PYRT_EMPTY: PyrtStatus = 501;
/// A shared-memory region that is not a pyrt ring of this layout.
pub const PYRT_BAD_LAYOUT: PyrtStatus = 502;
/// The operating system refused (shm_open, mmap, ftruncate, ...).
pub const PYRT_IO_ERROR: PyrtStatus = 503;
/// Nothing arrived before the deadline.
pub const PYRT_TIMEOUT: PyrtStatus = 600;
/// A ZeroMQ socket failed (bad endpoint, address in use, ...).
pub const PYRT_MESSAGING_ERROR: PyrtStatus = 601;
/// Bytes that do not decode as the expected protobuf message.
pub const PYRT_DECODE_ERROR: PyrtStatus = 602;
/// A panic inside pyrt was caught at the boundary; the message holds it.
pub const PYRT_PANIC: PyrtStatus = 900;
/// A bug in pyrt itself.
pub const PYRT_INTERNAL: PyrtStatus = 901;

/// Bumped whenever a function signature, a struct layout or a status code
/// changes incompatibly. A binding compares it with `pyrt_abi_version()`.
pub const PYRT_ABI_VERSION: u32 = 2;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

pub fn status_of(kind: ErrorKind) -> PyrtStatus {
    match kind {
        ErrorKind::InvalidArgument => PYRT_INVALID_ARGUMENT,
        ErrorKind::NullPointer => PYRT_NULL_POINTER,
        ErrorKind::BufferTooSmall => PYRT_BUFFER_TOO_SMALL,
        ErrorKind::InvalidState => PYRT_INVALID_STATE,
        ErrorKind::Full => PYRT_FULL,
        ErrorKind::Empty => PYRT_EMPTY,
        ErrorKind::BadLayout => PYRT_BAD_LAYOUT,
        ErrorKind::Io => PYRT_IO_ERROR,
        ErrorKind::Timeout => PYRT_TIMEOUT,
        ErrorKind::Messaging => PYRT_MESSAGING_ERROR,
        ErrorKind::Decode => PYRT_DECODE_ERROR,
        ErrorKind::Closed => PYRT_CLOSED,
        ErrorKind::NotFound => PYRT_NOT_FOUND,
        ErrorKind::InsufficientHistory => PYRT_INSUFFICIENT_HISTORY,
        ErrorKind::Internal => PYRT_INTERNAL,
    }
}

fn set_last_error(message: &str) {
    // Interior NULs would truncate the C string; replace them instead.
    let text = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|cell| *cell.borrow_mut() = text);
}

/// Records `error` as this thread's last error (except the non-failure
/// outcomes FULL and EMPTY, which hot loops hit constantly) and returns its status.
pub fn fail(error: &Error) -> PyrtStatus {
    if !matches!(error.kind, ErrorKind::Full | ErrorKind::Empty) {
        set_last_error(&error.message);
    }
    status_of(error.kind)
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

/// Runs `body` so that neither an error nor a panic escapes: the first
/// becomes its status, the second `PYRT_PANIC`, each with its message recorded.
#[inline]
pub fn run_guarded<F: FnOnce() -> Result<()>>(body: F) -> PyrtStatus {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => PYRT_OK,
        Ok(Err(error)) => fail(&error),
        Err(payload) => {
            set_last_error(&format!("panic inside pyrt: {}", panic_message(&*payload)));
            PYRT_PANIC
        }
    }
}

/// Runs a body that returns nothing and must not unwind into C (the `_free`
/// functions); a panic is recorded as the last error and swallowed.
#[inline]
pub fn run_guarded_void<F: FnOnce()>(body: F) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(body)) {
        set_last_error(&format!("panic inside pyrt: {}", panic_message(&*payload)));
    }
}

/// The panic boundary every fallible entry point wraps its body in. The body
/// is a block evaluating to `crate::Result<()>`; `?` works inside it.
///
/// ```text
/// pub unsafe extern "C" fn pyrt_x(p: *const f64, len: usize, out: *mut f64) -> PyrtStatus {
///     ffi_boundary! {
///         let p = input_slice(p, len, "p")?;
///         ...
///         Ok(())
///     }
/// }
/// ```
#[allow(unused_macros)]
macro_rules! ffi_boundary {
    ($($body:tt)*) => {
        $crate::ffi::boundary::run_guarded(|| -> $crate::error::Result<()> { $($body)* })
    };
}

fn null(name: &str) -> Error {
    Error::new(ErrorKind::NullPointer, format!("{name}: must not be NULL"))
}

/// A caller's input array as a slice. NULL is accepted only with `len == 0`.
///
/// # Safety
/// `ptr` must point to `len` readable, initialised values that stay valid and
/// unmodified for the duration of the call.
pub unsafe fn input_slice<'a, T>(ptr: *const T, len: usize, name: &str) -> Result<&'a [T]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(null(name));
    }
    if (ptr as usize) % std::mem::align_of::<T>() != 0 {
        return Err(Error::invalid(name, "pointer is not aligned for its element type"));
    }
    Ok(std::slice::from_raw_parts(ptr, len))
}

/// A caller's output buffer as a mutable slice. NULL is accepted only with `len == 0`.
///
/// # Safety
/// `ptr` must point to `len` writable values, not aliased by any other
/// argument of the call (see [`ensure_disjoint`]).
pub unsafe fn output_slice<'a, T>(ptr: *mut T, len: usize, name: &str) -> Result<&'a mut [T]> {
    if len == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(null(name));
    }
    if (ptr as usize) % std::mem::align_of::<T>() != 0 {
        return Err(Error::invalid(name, "pointer is not aligned for its element type"));
    }
    Ok(std::slice::from_raw_parts_mut(ptr, len))
}

/// Refuses an output buffer that overlaps an input: Rust may not hold a
/// shared and a mutable view of the same memory, so this is checked, not assumed.
pub fn ensure_disjoint<A, B>(
    out: *const A,
    out_len: usize,
    out_name: &str,
    input: *const B,
    input_len: usize,
    input_name: &str,
) -> Result<()> {
    // Saturating: a length too large for the address space still compares.
    let span = |p: usize, n: usize, size: usize| (p, p.saturating_add(n.saturating_mul(size)));
    let (o0, o1) = span(out as usize, out_len, std::mem::size_of::<A>());
    let (i0, i1) = span(input as usize, input_len, std::mem::size_of::<B>());
    if out_len > 0 && input_len > 0 && o0 < i1 && i0 < o1 {
        return Err(Error::invalid(out_name, format!("must not overlap {input_name}")));
    }
    Ok(())
}

/// Checks an out-pointer before any work is done, so that a NULL one is an
/// error and not a write after the result was computed.
pub fn ensure_out<T>(out: *mut T, name: &str) -> Result<()> {
    if out.is_null() {
        Err(null(name))
    } else {
        Ok(())
    }
}

/// Writes a result through a checked out-pointer.
///
/// # Safety
/// `out` must be valid for a write of `T` (checked non-NULL by [`ensure_out`]).
pub unsafe fn write_out<T>(out: *mut T, value: T, name: &str) -> Result<()> {
    ensure_out(out, name)?;
    out.write(value);
    Ok(())
}

/// A shared reference to a live handle.
///
/// # Safety
/// `ptr` must be NULL or a handle returned by the matching `_new` and not yet freed.
pub unsafe fn handle_ref<'a, T>(ptr: *const T, name: &str) -> Result<&'a T> {
    ptr.as_ref().ok_or_else(|| null(name))
}

/// An exclusive reference to a live handle.
///
/// # Safety
/// As [`handle_ref`], and no other thread may use the handle during the call.
pub unsafe fn handle_mut<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T> {
    ptr.as_mut().ok_or_else(|| null(name))
}

/// Moves a new object to the heap and hands it to C through `out`.
///
/// # Safety
/// `out` must be valid for a write of one pointer (checked non-NULL).
pub unsafe fn write_handle<T>(out: *mut *mut T, value: T, name: &str) -> Result<()> {
    write_out(out, Box::into_raw(Box::new(value)), name)
}

/// Drops a handle made by [`write_handle`]; NULL is a no-op.
///
/// # Safety
/// `ptr` must be NULL or a handle of type `T` not yet freed.
pub unsafe fn free_handle<T>(ptr: *mut T) {
    if !ptr.is_null() {
        run_guarded_void(|| drop(Box::from_raw(ptr)));
    }
}

/// A C string argument as UTF-8 `&str`.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string valid for the call.
pub unsafe fn input_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(null(name));
    }
    CStr::from_ptr(ptr).to_str().map_err(|_| Error::invalid(name, "is not valid UTF-8"))
}

/// The message of the last failed call on this thread ("" if none).
/// The pointer stays valid until this thread's next pyrt call that fails.
#[no_mangle]
pub extern "C" fn pyrt_last_error_message() -> *const c_char {
    LAST_ERROR.with(|cell| cell.borrow().as_ptr())
}

/// The library's semantic version, e.g. "0.1.0" (a static string).
#[no_mangle]
pub extern "C" fn pyrt_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}

/// The ABI version the library was built with; compare with `PYRT_ABI_VERSION`.
#[no_mangle]
pub extern "C" fn pyrt_abi_version() -> u32 {
    PYRT_ABI_VERSION
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_error() -> String {
        unsafe { CStr::from_ptr(pyrt_last_error_message()) }.to_str().unwrap().to_string()
    }

    #[test]
    fn a_panic_becomes_pyrt_panic_with_its_message() {
        let status = ffi_boundary! {
            if true {
                panic!("injected");
            }
            Ok(())
        };
        assert_eq!(status, PYRT_PANIC);
        assert!(last_error().contains("injected"), "{}", last_error());
    }

    #[test]
    fn an_error_becomes_its_status_with_its_message() {
        let status = ffi_boundary! { Err(Error::invalid("window", "must be at least 1")) };
        assert_eq!(status, PYRT_INVALID_ARGUMENT);
        assert_eq!(last_error(), "window: must be at least 1");
    }

    #[test]
    fn null_input_is_an_error_unless_empty() {
        let empty: &[f64] = unsafe { input_slice(std::ptr::null(), 0, "prices") }.unwrap();
        assert!(empty.is_empty());
        let err = unsafe { input_slice::<f64>(std::ptr::null(), 3, "prices") }.unwrap_err();
        assert_eq!(err.message, "prices: must not be NULL");
    }

    #[test]
    fn overlapping_output_is_refused() {
        let data = [0.0f64; 8];
        let p = data.as_ptr();
        assert!(ensure_disjoint(p, 4, "out", unsafe { p.add(2) }, 4, "prices").is_err());
        assert!(ensure_disjoint(p, 4, "out", unsafe { p.add(4) }, 4, "prices").is_ok());
    }

    #[test]
    fn version_strings_agree() {
        let v = unsafe { CStr::from_ptr(pyrt_version()) }.to_str().unwrap();
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
        assert_eq!(pyrt_abi_version(), PYRT_ABI_VERSION);
    }
}
