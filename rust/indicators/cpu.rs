//! Which instruction set the indicator kernels run with, chosen once per
//! process.
//!
//! The arithmetic never depends on this choice: Rust does not contract
//! `a * b + c` into a fused multiply-add, so a kernel compiled for FMA and
//! AVX2 performs exactly the operations of the baseline (x86-64, SSE2) build,
//! in the same order, and gives the same bits. What the choice changes is
//! speed: where an indicator follows TA-Lib's fused build (`f64::mul_add`, on
//! CPUs where TA-Lib itself runs its FMA build), the baseline build calls the
//! C library's `fma` for every step, while the FMA build does it in one
//! instruction; wider registers also help the auto-vectorised loops.
//!
//! `PYRT_CPU=baseline` forces the baseline build (for tests that compare the
//! two, and for users who need it); `PYRT_CPU=fma` asks for the FMA build and
//! falls back to the baseline when the CPU lacks it. The level in force is
//! `level()`, reported by `pyrt_cpu_level()`.
//
// Besides `fused.rs`, the one `unsafe` outside the C layer: calling a `#[target_feature]`
// function, which is sound only after the CPU was seen to have the feature
// (checked in `detect`, once).
#![allow(unsafe_code)]

use std::sync::OnceLock;

use super::indicator::{replay_inline, Indicator};
use crate::error::Result;

/// The instruction sets a kernel may run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    /// x86-64's baseline (SSE2), or any other architecture.
    Baseline = 0,
    /// AVX2 with fused multiply-add (x86-64 CPUs since 2013).
    Fma = 1,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Baseline => "baseline",
            Level::Fma => "fma",
        }
    }
}

fn cpu_has_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("fma") && std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

fn detect() -> Level {
    let wanted = std::env::var("PYRT_CPU").unwrap_or_default();
    match wanted.trim().to_ascii_lowercase().as_str() {
        "baseline" => Level::Baseline,
        _ if cpu_has_fma() => Level::Fma,
        _ => Level::Baseline,
    }
}

/// The level the kernels run with in this process.
pub fn level() -> Level {
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(detect)
}

/// Replays `state` over whole arrays with the process's instruction set.
pub fn replay<S: Indicator>(state: S, inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    #[cfg(target_arch = "x86_64")]
    if level() == Level::Fma {
        // SAFETY: `level()` is `Fma` only when the CPU has FMA and AVX2.
        return unsafe { replay_fma(state, inputs, outputs) };
    }
    replay_inline(state, inputs, outputs)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma,avx2")]
unsafe fn replay_fma<S: Indicator>(state: S, inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    replay_inline(state, inputs, outputs)
}

/// Runs a block kernel with the process's instruction set. The kernel is
/// compiled into the FMA variant when it is `#[inline(always)]` (the kernels
/// that step with `f64::mul_add` are).
#[inline(always)]
pub fn batch<F>(kernel: F, p: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()>
where
    F: Fn(&[f64], &[&[f64]], &mut [&mut [f64]]) -> Result<()>,
{
    #[cfg(target_arch = "x86_64")]
    if level() == Level::Fma {
        // SAFETY: `level()` is `Fma` only when the CPU has FMA and AVX2.
        return unsafe { batch_fma(kernel, p, inputs, outputs) };
    }
    kernel(p, inputs, outputs)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma,avx2")]
unsafe fn batch_fma<F>(kernel: F, p: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()>
where
    F: Fn(&[f64], &[&[f64]], &mut [&mut [f64]]) -> Result<()>,
{
    kernel(p, inputs, outputs)
}
