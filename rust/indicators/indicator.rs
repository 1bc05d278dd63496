//! What one catalog indicator implements: a streaming state.
//!
//! Each TA-Lib function in the catalog is one streaming state type with a
//! constructor `fn new(params: &[f64]) -> Result<Self>` (parameters in the
//! record's order, see `catalog.toml`) and this trait. Everything else (the
//! batch function, the C functions, the Python and C++ wrappers, saved-state
//! headers, leading-NaN skipping, parameter range checks) is generic code or
//! generated from the record.
//!
//! Rules a state follows:
//! - `update` consumes one tick (one value per input, in the record's input
//!   order) and writes one value per output (NaN while warming up). Its
//!   arithmetic follows TA-Lib C 0.8.1's loop for the function operation by
//!   operation, so that replaying a series through `update` gives TA-Lib's
//!   batch output bit for bit where possible (within 1e-9 of the series'
//!   scale always), including how a NaN or infinity inside the data
//!   propagates.
//! - The framework has already skipped leading ticks in which any input is
//!   NaN (as the `talib` package skips them) and checked each parameter
//!   against its record range (integers are whole numbers), so `new` only
//!   checks what spans several parameters (fast <= slow, ...).
//! - `save` writes the fields needed to continue; `load` reads them back
//!   into a state freshly built by `new` with the same parameters, and
//!   refuses values that could not have come from `save` (a count beyond the
//!   window, a negative sum of squares, ...).

use super::state::{Reader, Writer};
use crate::error::Result;

pub trait Indicator: Send + 'static {
    /// TA-Lib's lookback for this state's parameters: the number of leading
    /// (non-skipped) ticks whose outputs are NaN.
    fn lookback(&self) -> usize;

    /// Consumes one tick and writes the outputs for it.
    fn update(&mut self, tick: &[f64], out: &mut [f64]);

    /// What `update` would write for `tick`, without consuming it.
    fn peek(&self, tick: &[f64], out: &mut [f64]) {
        let mut probe = self.boxed_clone();
        probe.update(tick, out);
    }

    /// Writes the state's fields (the saved-state header with the
    /// indicator's name and parameters is written by the framework).
    fn save(&self, w: &mut Writer);

    /// Reads fields written by `save` into this freshly built state.
    fn load(&mut self, r: &mut Reader) -> Result<()>;

    /// An independent copy of this state.
    fn boxed_clone(&self) -> Box<dyn Indicator>;
}

/// Implements `boxed_clone` for a `Clone` state: `impl_boxed_clone!();`
/// inside its `impl Indicator for ... {}` block.
#[macro_export]
macro_rules! impl_boxed_clone {
    () => {
        fn boxed_clone(&self) -> Box<dyn $crate::indicators::indicator::Indicator> {
            Box::new(self.clone())
        }
    };
}

/// Replays `state` over whole arrays: the batch function of every indicator
/// that has no faster block kernel. `inputs` and `outputs` all have the same
/// length.
pub fn replay(state: &mut dyn Indicator, inputs: &[&[f64]], outputs: &mut [&mut [f64]]) {
    let n = inputs.first().map_or(0, |x| x.len());
    let mut tick = vec![0.0; inputs.len()];
    let mut out = vec![0.0; outputs.len()];
    for i in 0..n {
        for (t, x) in tick.iter_mut().zip(inputs) {
            *t = x[i];
        }
        state.update(&tick, &mut out);
        for (o, y) in outputs.iter_mut().zip(&out) {
            o[i] = *y;
        }
    }
}

/// `replay` for a concrete state type: the update is inlined into the loop
/// (no virtual call per bar), which is what whole-array calls use when an
/// indicator has no block kernel of its own. Always inlined, so that it is
/// compiled into each instruction-set variant of `cpu::replay`.
#[inline(always)]
pub fn replay_inline<S: Indicator>(mut state: S, inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    const MAX: usize = 8;
    let (n_in, n_out) = (inputs.len(), outputs.len());
    assert!(n_in <= MAX && n_out <= MAX, "catalog records have at most {MAX} inputs and outputs");
    let n = inputs.first().map_or(0, |x| x.len());
    let mut tick = [0.0f64; MAX];
    let mut out = [0.0f64; MAX];
    for i in 0..n {
        for k in 0..n_in {
            tick[k] = inputs[k][i];
        }
        state.update(&tick[..n_in], &mut out[..n_out]);
        for k in 0..n_out {
            outputs[k][i] = out[k];
        }
    }
    Ok(())
}

/// Saves `state` and loads the bytes into a copy of it: what a save/restore
/// cycle through the catalog does, for the states' own tests.
#[cfg(test)]
pub fn round_trip<S: Indicator + Clone>(state: &S) -> S {
    let mut w = Writer::fields();
    state.save(&mut w);
    let bytes = w.into_bytes();
    let mut restored = state.clone();
    let mut r = Reader::fields(&bytes);
    restored.load(&mut r).expect("a saved state loads");
    r.finish().expect("load reads every byte");
    restored
}
