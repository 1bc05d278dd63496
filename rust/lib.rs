//! pyrt: one trading-analytics core behind a plain C ABI.
//!
//! Each domain is pure, safe Rust in its own folder (`indicators`, `backtest`,
//! `risk`, `ipc`, `messaging`, `sweep`): slices in, values out, no FFI types.
//! Every `extern "C"` entry point and every `unsafe` block that touches a
//! caller's pointer lives in `ffi`, which is also what cbindgen reads to write
//! `include/pyrt.h`.
#![deny(unsafe_code)]

pub mod error;

pub mod backtest;
pub mod indicators;
pub mod ipc;
pub mod messaging;
pub mod risk;
pub mod sweep;

pub mod ffi;

pub use error::{Error, ErrorKind, Result};
