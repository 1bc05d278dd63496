//! The one error type of the pure Rust core.
//!
//! A message always starts with the name of the argument or object at fault
//! ("window: must be at least 1, got 0"), so the Python layer can raise it as
//! it is and a C caller reads the same words from `pyrt_last_error_message()`.

use std::fmt;

/// What went wrong, coarse enough to map one-to-one onto a `PyrtStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A caller's argument is out of its domain (window, length, NaN, ...).
    InvalidArgument,
    /// A required pointer was NULL.
    NullPointer,
    /// A caller-provided buffer is too small for the result.
    BufferTooSmall,
    /// Saved state bytes that do not decode (wrong magic, version or kind).
    InvalidState,
    /// A ring has no room: nothing was written.
    Full,
    /// A ring has nothing to read.
    Empty,
    /// A shared-memory region whose header is not a pyrt ring of this layout.
    BadLayout,
    /// The operating system refused (shm_open, mmap, ...).
    Io,
    /// Nothing arrived before the deadline.
    Timeout,
    /// A ZeroMQ socket failed.
    Messaging,
    /// Bytes that do not decode as the expected protobuf message.
    Decode,
    /// A handle that was closed (or disabled by an earlier internal panic).
    Closed,
    /// A named thing (a ring, an indicator) that does not exist.
    NotFound,
    /// Too few bars to open a stream (fewer than its lookback + 1).
    InsufficientHistory,
    /// A bug in pyrt itself.
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into() }
    }

    /// An invalid argument, named: `Error::invalid("window", "must be at least 1")`.
    pub fn invalid(argument: &str, reason: impl fmt::Display) -> Self {
        Error::new(ErrorKind::InvalidArgument, format!("{argument}: {reason}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
