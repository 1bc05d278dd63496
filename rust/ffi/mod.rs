//! The C ABI: thin `extern "C"` wrappers over the pure Rust domains.
//!
//! Every function here checks its pointers, runs the domain code inside
//! `ffi_boundary!` (so a panic becomes `PYRT_PANIC`, never an abort of the
//! host program), writes out-pointers only on success and returns a
//! `PyrtStatus`. cbindgen reads this module to write `include/pyrt.h`.
#![allow(unsafe_code)]
// Every pointer an entry point receives is checked by the helpers in
// `boundary` before it is used; the C contract is documented per function.
#![allow(clippy::missing_safety_doc)]

#[macro_use]
pub mod boundary;

pub mod backtest;
pub mod biased;
pub mod catalog;
pub mod catalog_gen;
pub mod handle;
pub mod indicators;
pub mod ipc;
pub mod messaging;
pub mod risk;
pub mod sweep;

pub use boundary::*;
