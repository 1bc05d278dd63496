//! Block kernels that round as TA-Lib's fused multiply-add build does
//! (`f64::mul_add`) are written inside `fma_copy!`: on x86-64 the macro
//! compiles the kernel again for each CPU level above the baseline (AVX2
//! with FMA, AVX-512; `cpu::level_copies!`) and picks the copy for the
//! process's level (`cpu::level`, which `PYRT_CPU` can lower), as TA-Lib
//! 0.8.1 picks its own FMA build when it loads. Without those copies every
//! `mul_add` is a call into the C library's `fma`, several times the cost of
//! the instruction. The results are the same bits either way (a fused
//! multiply-add is exactly rounded wherever it runs), and the build needs no
//! CPU-specific flags. Rust never fuses a separate multiply and add by
//! itself, so enabling the instructions changes no other operation.
//!
//! The body is repeated verbatim inside each copy (closures in it then take
//! its instructions too); the functions it calls in its hot loop must be
//! `#[inline(always)]` to be compiled into the copy.

/// `fma_copy! { fn name(args) -> Ret { body } }` defines `name` as above.
macro_rules! fma_copy {
    ($($item:tt)*) => {
        $crate::indicators::cpu::level_copies! { $($item)* }
    };
}
pub(crate) use fma_copy;
