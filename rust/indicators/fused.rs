//! Block kernels that round as TA-Lib's fused multiply-add build does
//! (`f64::mul_add`) are written inside `fma_copy!`: on x86-64 the macro
//! compiles the kernel a second time with FMA instructions enabled and picks
//! that copy when the CPU has them, as TA-Lib 0.8.1 picks its own FMA build
//! when it loads. Without the copy every `mul_add` is a call into the C
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
/// The one `unsafe` of the indicators: calling a function compiled for a CPU
/// feature is sound only on a CPU that has it, which is checked right before.
macro_rules! fma_copy {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[allow(unsafe_code)]
                #[target_feature(enable = "fma")]
                unsafe fn fused($($arg: $ty),*) -> $ret $body
                if std::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU has just been seen to have FMA.
                    #[allow(unsafe_code)]
                    return unsafe { fused($($arg),*) };
                }
            }
            $body
        }
    };
}
pub(crate) use fma_copy;
