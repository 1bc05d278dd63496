//! Saved stream state from outside (a file, a peer) loaded with
//! `pyrt_stream_load`, then updated: every outcome must be a status.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyrt::ffi::*;

fuzz_target!(|data: &[u8]| {
    let mut stream = std::ptr::null_mut();
    unsafe {
        if pyrt::ffi::catalog::pyrt_stream_load(data.as_ptr(), data.len(), &mut stream) == PYRT_OK {
            // Every input and output count a catalog stream may have: a wrong
            // one is a status, the right one an update.
            let tick = [100.0f64, 101.0, 99.0, 100.5, 1000.0, 7.0];
            let mut out = [0.0f64; 6];
            for n_inputs in 1..=tick.len() {
                for n_outputs in 1..=out.len() {
                    let _ = pyrt::ffi::catalog::pyrt_stream_update(stream, tick.as_ptr(), n_inputs, out.as_mut_ptr(), n_outputs);
                }
            }
            pyrt::ffi::catalog::pyrt_stream_close(stream);
            pyrt::ffi::catalog::pyrt_stream_free(stream);
        }
    }
});
