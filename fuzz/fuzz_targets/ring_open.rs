//! A crafted shared-memory file opened as a ring, then used; with the first
//! byte odd, the file is shrunk under the open handle before it is used
//! (what another process's `ftruncate` does). Every outcome must be a
//! status: no crash, no hang, no SIGBUS reaching the process.
#![no_main]

use std::ffi::CString;
use std::io::Write;

use libfuzzer_sys::fuzz_target;
use pyrt::ffi::ipc::*;
use pyrt::ffi::*;

fuzz_target!(|data: &[u8]| {
    let name = format!("pyrt-fuzz-ring-{}", std::process::id());
    let path = format!("/dev/shm/{name}");
    let (control, region) = data.split_first().map_or((0u8, data), |(c, rest)| (*c, rest));
    std::fs::File::create(&path).and_then(|mut f| f.write_all(region)).expect("write the region");
    let c_name = CString::new(name).unwrap();
    let mut ring = std::ptr::null_mut();
    unsafe {
        if pyrt_ring_open(c_name.as_ptr(), &mut ring) == PYRT_OK {
            if control & 1 == 1 {
                let keep = (control as u64 >> 1) * 8;
                std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(keep).unwrap();
            }
            let mut len = 0usize;
            let _ = pyrt_ring_len(ring, &mut len);
            let mut out = [PyrtMarketDataRecord::default(); 8];
            let mut moved = 0usize;
            let _ = pyrt_ring_pop_batch(ring, out.as_mut_ptr(), out.len(), &mut moved);
            let _ = pyrt_ring_pop(ring, out.as_mut_ptr());
            let _ = pyrt_ring_push(ring, &out[0]);
            let _ = pyrt_ring_push_batch(ring, out.as_ptr(), out.len(), &mut moved);
            pyrt_ring_close(ring);
            pyrt_ring_free(ring);
        }
    }
    let _ = std::fs::remove_file(&path);
});
