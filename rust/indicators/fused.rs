//! Block kernels that round as TA-Lib's fused multiply-add build does
//! (`f64::mul_add`) are written inside `fma_copy!`: on x86-64 the macro
//! compiles the kernel a second time with FMA and AVX2 enabled and picks that
//! copy when the process's CPU level (`cpu::level`, which `PYRT_CPU=baseline`
//! lowers) is `Fma`, as TA-Lib 0.8.1 picks its own FMA build when it loads. Without the copy every `mul_add` is a call into the C
//! library's `fma`, several times the cost of the instruction. The results
//! are the same bits either way (a fused multiply-add is exactly rounded
//! wherever it runs), and the build needs no CPU-specific flags. Rust never
//! fuses a separate multiply and add by itself, so enabling the instructions
//! changes no other operation.
//!
//! The body is repeated verbatim inside the FMA copy (closures in it then
//! take its instructions too); the functions it calls in its hot loop must
//! be `#[inline(always)]` to be compiled into the copy.

/// `fma_copy! { fn name(args) -> Ret { body } }` defines `name` as above.
/// Calling a function compiled for a CPU feature is sound only on a CPU that
/// has it: `cpu::level()` is `Fma` only when it does.
macro_rules! fma_copy {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[allow(unsafe_code)]
                #[target_feature(enable = "fma,avx2")]
                unsafe fn fused($($arg: $ty),*) -> $ret $body
                if $crate::indicators::cpu::level() == $crate::indicators::cpu::Level::Fma {
                    // SAFETY: the level is `Fma` only on a CPU with FMA and AVX2.
                    #[allow(unsafe_code)]
                    return unsafe { fused($($arg),*) };
                }
            }
            $body
        }
    };
}
pub(crate) use fma_copy;
