//! Which instruction set the indicator kernels run with, chosen once per
//! process.
//!
//! The arithmetic never depends on this choice: Rust does not contract
//! `a * b + c` into a fused multiply-add, so a kernel compiled for AVX2 and
//! FMA, or for AVX-512, performs exactly the operations of the baseline
//! (x86-64, SSE2) build, in the same order, and gives the same bits. What the
//! choice changes is speed: where an indicator follows TA-Lib's fused build
//! (`f64::mul_add`, on CPUs where TA-Lib itself runs its FMA build), the
//! baseline build calls the C library's `fma` for every step, while the
//! higher levels do it in one instruction; and the block kernels, written on
//! eight-wide arrays, become one AVX-512 operation (or two AVX2 ones) per
//! array operation instead of four SSE2 ones.
//!
//! `PYRT_CPU` forces a level: `baseline`, `fma` (AVX2 with FMA) or `avx512`
//! (AVX-512 F, VL, DQ and BW, with AVX2 and FMA). A level the CPU lacks falls
//! back to the best one it has (so `PYRT_CPU=avx512` on an AVX2 machine runs
//! `fma`); `sse2` and `avx2` name the first two. Unset or empty means the
//! best the CPU has; so does any other value, with one line on stderr saying
//! so (a misspelt level must not pass for a forced one). The variable is read
//! once, at the first indicator call. The level in force is `level()`,
//! reported by `pyrt_cpu_level()`.
//
// Besides `fused.rs`, the one `unsafe` outside the C layer: calling a `#[target_feature]`
// function, which is sound only after the CPU was seen to have the feature
// (checked in `detect`, once).
#![allow(unsafe_code)]

use std::sync::OnceLock;

use super::indicator::{replay_inline, Indicator};
use crate::error::Result;

/// The instruction sets a kernel may run with, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    /// x86-64's baseline (SSE2), or any other architecture.
    Baseline = 0,
    /// AVX2 with fused multiply-add (x86-64 CPUs since 2013).
    Fma = 1,
    /// AVX-512 F, VL, DQ and BW, plus AVX2 and FMA (x86-64 CPUs since 2017
    /// (Intel), 2022 (AMD)).
    Avx512 = 2,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Baseline => "baseline",
            Level::Fma => "fma",
            Level::Avx512 => "avx512",
        }
    }
}

/// The best level this CPU supports.
fn best_supported() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        let fma = std::is_x86_feature_detected!("fma") && std::is_x86_feature_detected!("avx2");
        let avx512 = std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512vl")
            && std::is_x86_feature_detected!("avx512dq")
            && std::is_x86_feature_detected!("avx512bw");
        if fma && avx512 {
            return Level::Avx512;
        }
        if fma {
            return Level::Fma;
        }
    }
    Level::Baseline
}

/// The level a `PYRT_CPU` value asks for: `Ok(None)` for the best there is
/// (empty), `Err` for a value that names no level.
fn requested(value: &str) -> std::result::Result<Option<Level>, ()> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "baseline" | "sse2" => Ok(Some(Level::Baseline)),
        "fma" | "avx2" => Ok(Some(Level::Fma)),
        "avx512" => Ok(Some(Level::Avx512)),
        _ => Err(()),
    }
}

fn detect() -> Level {
    let best = best_supported();
    let value = std::env::var("PYRT_CPU").unwrap_or_default();
    match requested(&value) {
        Ok(wanted) => wanted.map_or(best, |w| w.min(best)),
        Err(()) => {
            eprintln!(
                "pyrt: PYRT_CPU={value:?} names no CPU level (baseline, fma or avx512; sse2 and avx2 are taken \
                 as baseline and fma); running at {}, the best this CPU has",
                best.name()
            );
            best
        }
    }
}

/// The level the kernels run with in this process.
pub fn level() -> Level {
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(detect)
}

/// `level_copies! { fn name(args) -> Ret { body } }` defines `name` with its
/// body compiled once per CPU level (baseline, FMA and AVX2, AVX-512), and
/// runs the copy for `cpu::level()`. The body is repeated verbatim inside
/// each copy, so closures in it take the copy's instructions too; functions
/// it calls in its hot loop must be `#[inline(always)]` to be compiled into
/// the copy. Calling a function compiled for a CPU feature is sound only on
/// a CPU that has it: `cpu::level()` names a level only when it does.
macro_rules! level_copies {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[allow(unsafe_code)]
                #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")]
                unsafe fn avx512($($arg: $ty),*) -> $ret $body
                #[allow(unsafe_code)]
                #[target_feature(enable = "fma,avx2")]
                unsafe fn fma($($arg: $ty),*) -> $ret $body
                match $crate::indicators::cpu::level() {
                    // SAFETY: the level is `Avx512` only on a CPU with these features.
                    #[allow(unsafe_code)]
                    $crate::indicators::cpu::Level::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: the level is `Fma` only on a CPU with FMA and AVX2.
                    #[allow(unsafe_code)]
                    $crate::indicators::cpu::Level::Fma => return unsafe { fma($($arg),*) },
                    $crate::indicators::cpu::Level::Baseline => {}
                }
            }
            $body
        }
    };
}
pub(crate) use level_copies;

/// Replays `state` over whole arrays with the process's instruction set.
pub fn replay<S: Indicator>(state: S, inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    #[cfg(target_arch = "x86_64")]
    match level() {
        // SAFETY: `level()` is `Avx512` only when the CPU has its features.
        Level::Avx512 => return unsafe { replay_avx512(state, inputs, outputs) },
        // SAFETY: `level()` is `Fma` only when the CPU has FMA and AVX2.
        Level::Fma => return unsafe { replay_fma(state, inputs, outputs) },
        Level::Baseline => {}
    }
    replay_inline(state, inputs, outputs)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma,avx2")]
unsafe fn replay_fma<S: Indicator>(state: S, inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    replay_inline(state, inputs, outputs)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")]
unsafe fn replay_avx512<S: Indicator>(state: S, inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    replay_inline(state, inputs, outputs)
}

/// A block kernel as a type, so that `batch` compiles it into each level's
/// copy: `run` is `#[inline(always)]`, and the kernel function it calls
/// must be too. (A kernel passed as a function value does not inline: the
/// copies for the higher levels were a jump to the baseline code.) Made by
/// `block_kernel!`.
pub trait BlockKernel {
    fn run(p: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()>;
}

/// `block_kernel!(path::to::kernel)`: a `BlockKernel` type running that
/// function, for `batch`.
macro_rules! block_kernel {
    ($kernel:path) => {{
        struct Kernel;
        impl $crate::indicators::cpu::BlockKernel for Kernel {
            #[inline(always)]
            fn run(p: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> $crate::error::Result<()> {
                $kernel(p, inputs, outputs)
            }
        }
        Kernel
    }};
}
pub(crate) use block_kernel;

/// Runs a block kernel with the process's instruction set: compiled into
/// the FMA and AVX-512 variants, since `K::run` and the kernel are
/// `#[inline(always)]`. The kernels written on lanes (the rolling sums of
/// SMA and Bollinger, the recurrences of EMA, MACD, RSI and ATR) also choose
/// their copy themselves (`lanes::run`), so the native entry points get it
/// too.
#[inline(always)]
pub fn batch<K: BlockKernel>(_kernel: K, p: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    #[cfg(target_arch = "x86_64")]
    match level() {
        // SAFETY: `level()` is `Avx512` only when the CPU has its features.
        Level::Avx512 => return unsafe { batch_avx512::<K>(p, inputs, outputs) },
        // SAFETY: `level()` is `Fma` only when the CPU has FMA and AVX2.
        Level::Fma => return unsafe { batch_fma::<K>(p, inputs, outputs) },
        Level::Baseline => {}
    }
    K::run(p, inputs, outputs)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma,avx2")]
unsafe fn batch_fma<K: BlockKernel>(p: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    K::run(p, inputs, outputs)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")]
unsafe fn batch_avx512<K: BlockKernel>(p: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    K::run(p, inputs, outputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyrt_cpu_names_a_level_or_means_the_best() {
        assert_eq!(requested("avx512"), Ok(Some(Level::Avx512)));
        assert_eq!(requested(" FMA "), Ok(Some(Level::Fma)));
        assert_eq!(requested("avx2"), Ok(Some(Level::Fma)));
        assert_eq!(requested("baseline"), Ok(Some(Level::Baseline)));
        assert_eq!(requested("SSE2"), Ok(Some(Level::Baseline)));
        assert_eq!(requested(""), Ok(None));
        assert_eq!(requested("  "), Ok(None));
        assert_eq!(requested("sse9"), Err(()));
        assert_eq!(requested("avx-512"), Err(()));
        assert!(level() <= best_supported());
    }
}
