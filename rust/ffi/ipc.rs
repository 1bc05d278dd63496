//! extern "C" layer for `crate::ipc`: the shared-memory ring.

use std::ffi::c_char;

use super::boundary::*;
use super::biased::BiasedHandle;
use super::handle::close_handle;
use crate::error::{Error, ErrorKind};
use crate::ipc::layout;
pub use crate::ipc::PyrtMarketDataRecord;
use crate::ipc::Ring;

/// The first 8 bytes of every ring region: "PYRTRING" read as a little-endian
/// uint64.
///
/// Ring layout, version 1 (all integers native-endian; the region is
/// PYRT_RING_RECORDS_OFFSET + capacity * PYRT_RING_RECORD_SIZE bytes):
///
/// | offset | size | field                                                  |
/// |--------|------|--------------------------------------------------------|
/// | 0      | 8    | magic, PYRT_RING_MAGIC                                 |
/// | 8      | 4    | layout version, PYRT_RING_LAYOUT_VERSION               |
/// | 12     | 4    | record size in bytes, PYRT_RING_RECORD_SIZE (32)       |
/// | 16     | 8    | capacity in records, a power of two                    |
/// | 24     | 8    | offset of the first record, PYRT_RING_RECORDS_OFFSET   |
/// | 32     | 32   | reserved, zero                                         |
/// | 64     | 8    | producer cursor: records ever pushed (own cache line)  |
/// | 128    | 8    | consumer cursor: records ever popped (own cache line)  |
/// | 192    | C*32 | records; record number i is in slot i & (C - 1)        |
///
/// The cursors only grow (uint64, updated with release stores and read with
/// acquire loads); producer - consumer is the number of records in the ring,
/// from 0 to C: a ring of capacity C holds exactly C records.
pub const PYRT_RING_MAGIC: u64 = 0x474E_4952_5452_5950;
/// The ring layout version this library reads and writes.
pub const PYRT_RING_LAYOUT_VERSION: u32 = 1;
/// Size of one PyrtMarketDataRecord in the ring, in bytes.
pub const PYRT_RING_RECORD_SIZE: u32 = 32;
/// Byte offset of the producer cursor (uint64) in a ring region.
pub const PYRT_RING_PRODUCER_CURSOR_OFFSET: u32 = 64;
/// Byte offset of the consumer cursor (uint64) in a ring region.
pub const PYRT_RING_CONSUMER_CURSOR_OFFSET: u32 = 128;
/// Byte offset of the first record in a ring region.
pub const PYRT_RING_RECORDS_OFFSET: u32 = 192;
/// The largest capacity a ring may have (2^30 records).
pub const PYRT_RING_MAX_CAPACITY: u64 = 1_073_741_824;

const _: () = {
    assert!(PYRT_RING_MAGIC == layout::RING_MAGIC);
    assert!(PYRT_RING_LAYOUT_VERSION == layout::RING_LAYOUT_VERSION);
    assert!(PYRT_RING_RECORD_SIZE as usize == layout::RECORD_SIZE);
    assert!(PYRT_RING_PRODUCER_CURSOR_OFFSET as usize == layout::PRODUCER_CURSOR_OFFSET);
    assert!(PYRT_RING_CONSUMER_CURSOR_OFFSET as usize == layout::CONSUMER_CURSOR_OFFSET);
    assert!(PYRT_RING_RECORDS_OFFSET as usize == layout::RECORDS_OFFSET);
    assert!(PYRT_RING_MAX_CAPACITY == layout::MAX_CAPACITY);
};

/// A handle on a named shared-memory ring of PyrtMarketDataRecord.
///
/// Single producer, single consumer: at any time at most one handle pushes
/// and at most one handle pops, in any processes (the two may be the same
/// handle).
///
/// Threads: a handle is safe to share. Its calls are serialized (two
/// threads pushing through one handle never tear a record; each call sees
/// the ring as some serial order of the calls left it). `pyrt_ring_close`
/// may be called from any thread at any time: a call in progress finishes
/// first, later calls return PYRT_CLOSED. Using a handle after
/// `pyrt_ring_free` is undefined behaviour.
///
/// Processes: when another process shrinks the ring's shared-memory object
/// (ftruncate), the next call that touches the lost part returns
/// PYRT_BAD_LAYOUT ("truncated by another process") and so does every later
/// call on that handle; the process is not killed. pyrt installs a SIGBUS
/// handler for this when the first ring is mapped; faults outside ring
/// mappings go on to the handler installed before it. Garbage written into
/// the header or the cursors by another process is refused (PYRT_BAD_LAYOUT)
/// rather than trusted; record contents are not checked.
///
/// Names: the ring "ticks" is the POSIX shared-memory object "/ticks" (on
/// Linux the file /dev/shm/ticks). A name is 1 to 255 bytes without '/'.
///
/// The cursors live in the shared memory. A consumer that dies and re-opens
/// the ring continues at the first record it had not popped: nothing lost,
/// nothing repeated (a record counts as taken once pop returns; the cursor
/// update is the last thing a pop does). When a producer dies, every record it
/// pushed stays readable; a producer that re-opens continues after the last
/// record published. A ring persists until pyrt_ring_unlink, even when no
/// process has it open.
pub struct PyrtRing {
    handle: BiasedHandle<Ring>,
    /// Fixed at creation; readable after close.
    capacity: u64,
}

impl PyrtRing {
    fn new(ring: Ring) -> PyrtRing {
        PyrtRing { capacity: ring.capacity(), handle: BiasedHandle::new("ring", ring) }
    }
}

fn full() -> Error {
    Error::new(ErrorKind::Full, String::new())
}

fn empty() -> Error {
    Error::new(ErrorKind::Empty, String::new())
}

/// Creates the ring `name` with room for `capacity` records (a power of two,
/// at most PYRT_RING_MAX_CAPACITY), both cursors at 0, and opens it.
/// The shared-memory object is created with mode 0600 (owner only).
/// Fails with PYRT_INVALID_ARGUMENT if the name already exists (unlink it
/// first), is malformed, the capacity is not a power of two, or the region
/// would not fit in the shared-memory file system's free space.
#[no_mangle]
pub unsafe extern "C" fn pyrt_ring_create(
    name: *const c_char,
    capacity: u64,
    out: *mut *mut PyrtRing,
) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let name = input_str(name, "name")?;
        let ring = Ring::create(name, capacity)?;
        write_handle(out, PyrtRing::new(ring), "out")
    }
}

/// Opens the existing ring `name`. The region's size is checked before its
/// header is read, then magic, layout version, record size, capacity and the
/// size the capacity implies: anything else is PYRT_BAD_LAYOUT with a message
/// saying what differs. A missing name is PYRT_NOT_FOUND.
#[no_mangle]
pub unsafe extern "C" fn pyrt_ring_open(name: *const c_char, out: *mut *mut PyrtRing) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let name = input_str(name, "name")?;
        let ring = Ring::open(name)?;
        write_handle(out, PyrtRing::new(ring), "out")
    }
}

/// Appends one record. PYRT_FULL when the ring is full: nothing is written
/// and nothing is overwritten.
#[no_mangle]
pub unsafe extern "C" fn pyrt_ring_push(ring: *mut PyrtRing, rec: *const PyrtMarketDataRecord) -> PyrtStatus {
    // The common call first: valid pointers, the thread that owns the
    // handle, room in the ring by the cached consumer cursor, the mapping
    // intact. It is straight-line code that cannot fail or panic, so it
    // needs no frame, no `Result` and no panic boundary, and costs what an
    // unguarded push cost (measured: 6.4 ns against 6.5 ns before handles
    // were serialized and 7.5 ns through `with`). Anything else, including
    // every error, goes the general way below, which checks and reports it.
    if let Some(handle) = ring.as_ref() {
        if !rec.is_null() && rec.is_aligned() {
            if handle.handle.with_owner(|r| r.try_push(&*rec)) == Some(true) {
                return PYRT_OK;
            }
        }
    }
    push_checked(ring, rec)
}

/// `pyrt_ring_push` with every check and message; out of line, so that
/// its frame and error handling stay off the fast path.
#[inline(never)]
unsafe fn push_checked(ring: *mut PyrtRing, rec: *const PyrtMarketDataRecord) -> PyrtStatus {
    ffi_boundary! {
        let ring = handle_ref(ring, "ring")?;
        let rec = input_slice(rec, 1, "rec")?;
        ring.handle.with(|r| if r.push(&rec[0])? { Ok(()) } else { Err(full()) })
    }
}

/// Takes the oldest record into `*out`. PYRT_EMPTY when the ring is empty
/// (`*out` untouched).
#[no_mangle]
pub unsafe extern "C" fn pyrt_ring_pop(ring: *mut PyrtRing, out: *mut PyrtMarketDataRecord) -> PyrtStatus {
    ffi_boundary! {
        let ring = handle_ref(ring, "ring")?;
        let out = output_slice(out, 1, "out")?;
        match ring.handle.with(|r| r.pop())? {
            Some(record) => {
                out[0] = record;
                Ok(())
            }
            None => Err(empty()),
        }
    }
}

/// Appends as many of the `n` records at `recs` as fit, in order, in one
/// step (at most two copies, one cursor update); `*pushed` receives how many
/// (0 when the ring is full; the call still returns PYRT_OK).
#[no_mangle]
pub unsafe extern "C" fn pyrt_ring_push_batch(
    ring: *mut PyrtRing,
    recs: *const PyrtMarketDataRecord,
    n: usize,
    pushed: *mut usize,
) -> PyrtStatus {
    ffi_boundary! {
        let ring = handle_ref(ring, "ring")?;
        ensure_out(pushed, "pushed")?;
        let recs = input_slice(recs, n, "recs")?;
        let count = ring.handle.with(|r| r.push_batch(recs))?;
        write_out(pushed, count, "pushed")
    }
}

/// Moves up to `max` of the oldest records into `out` (room for `max`
/// records) in one step (at most two copies, one cursor update); `*popped`
/// receives how many (0 when the ring is empty; the call returns PYRT_OK).
#[no_mangle]
pub unsafe extern "C" fn pyrt_ring_pop_batch(
    ring: *mut PyrtRing,
    out: *mut PyrtMarketDataRecord,
    max: usize,
    popped: *mut usize,
) -> PyrtStatus {
    ffi_boundary! {
        let ring = handle_ref(ring, "ring")?;
        ensure_out(popped, "popped")?;
        let out = output_slice(out, max, "out")?;
        let count = ring.handle.with(|r| r.pop_batch(out))?;
        write_out(popped, count, "popped")
    }
}

/// Writes the number of records currently in the ring (a snapshot while a
/// peer is active) to `*len`. PYRT_CLOSED on a closed handle,
/// PYRT_BAD_LAYOUT when the ring's memory was truncated by another process.
#[no_mangle]
pub unsafe extern "C" fn pyrt_ring_len(ring: *const PyrtRing, len: *mut usize) -> PyrtStatus {
    ffi_boundary! {
        let ring = handle_ref(ring, "ring")?;
        ensure_out(len, "len")?;
        let count = ring.handle.with(|r| r.len())?;
        write_out(len, count as usize, "len")
    }
}

/// The ring's capacity in records (also after close); 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn pyrt_ring_capacity(ring: *const PyrtRing) -> u64 {
    match ring.as_ref() {
        Some(ring) => ring.capacity,
        None => 0,
    }
}

/// Closes this handle (unmaps the memory), from any thread: a call in
/// progress on it finishes first; later calls return PYRT_CLOSED.
/// Idempotent; NULL is a no-op. The ring itself stays, with its records and
/// cursors, until pyrt_ring_unlink.
#[no_mangle]
pub unsafe extern "C" fn pyrt_ring_close(ring: *const PyrtRing) {
    close_handle(ring, |r| r.handle.close());
}

/// Closes this handle (as `pyrt_ring_close`) and releases it. NULL is a
/// no-op. No other thread may be using the handle, and it must not be used
/// afterwards (undefined behaviour).
#[no_mangle]
pub unsafe extern "C" fn pyrt_ring_free(ring: *mut PyrtRing) {
    free_handle(ring)
}

/// Removes the name `name`: later opens fail; handles already open keep
/// working, and the memory is released when the last one closes.
/// PYRT_NOT_FOUND if no such ring exists.
#[no_mangle]
pub unsafe extern "C" fn pyrt_ring_unlink(name: *const c_char) -> PyrtStatus {
    ffi_boundary! {
        let name = input_str(name, "name")?;
        Ring::unlink(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::{CStr, CString};
    use std::ptr::{null, null_mut};

    fn last_error() -> String {
        unsafe { CStr::from_ptr(pyrt_last_error_message()) }.to_string_lossy().into_owned()
    }

    fn unique(tag: &str) -> CString {
        CString::new(format!("pyrt-ffi-{tag}-{}", std::process::id())).unwrap()
    }

    #[test]
    fn null_pointers_are_errors_naming_the_argument() {
        let name = unique("null");
        let mut ring: *mut PyrtRing = null_mut();
        unsafe {
            assert_eq!(pyrt_ring_create(null(), 8, &mut ring), PYRT_NULL_POINTER);
            assert!(last_error().starts_with("name"));
            assert_eq!(pyrt_ring_create(name.as_ptr(), 8, null_mut()), PYRT_NULL_POINTER);
            assert!(last_error().starts_with("out"));
            assert_eq!(pyrt_ring_open(null(), &mut ring), PYRT_NULL_POINTER);
            assert_eq!(pyrt_ring_unlink(null()), PYRT_NULL_POINTER);
            let rec = PyrtMarketDataRecord::new(1, 2.0, 3.0, 4);
            assert_eq!(pyrt_ring_push(null_mut(), &rec), PYRT_NULL_POINTER);
            assert!(last_error().starts_with("ring"));

            assert_eq!(pyrt_ring_create(name.as_ptr(), 8, &mut ring), PYRT_OK);
            assert_eq!(pyrt_ring_push(ring, null()), PYRT_NULL_POINTER);
            assert!(last_error().starts_with("rec"));
            assert_eq!(pyrt_ring_pop(ring, null_mut()), PYRT_NULL_POINTER);
            let mut bytes = [0u64; 8];
            let misaligned = (bytes.as_mut_ptr() as *mut u8).add(1) as *mut PyrtMarketDataRecord;
            assert_eq!(pyrt_ring_push(ring, misaligned), PYRT_INVALID_ARGUMENT);
            assert!(last_error().contains("not aligned"), "{}", last_error());
            let mut len = 9usize;
            assert_eq!(pyrt_ring_len(ring, &mut len), PYRT_OK);
            assert_eq!(len, 0);
            assert_eq!(pyrt_ring_len(ring, null_mut()), PYRT_NULL_POINTER);
            let mut count = 7usize;
            assert_eq!(pyrt_ring_push_batch(ring, null(), 3, &mut count), PYRT_NULL_POINTER);
            assert!(last_error().starts_with("recs"));
            assert_eq!(pyrt_ring_pop_batch(ring, null_mut(), 3, &mut count), PYRT_NULL_POINTER);
            assert_eq!(pyrt_ring_push_batch(ring, &rec, 1, null_mut()), PYRT_NULL_POINTER);
            assert!(last_error().starts_with("pushed"));
            assert_eq!(count, 7, "no partial success");
            // Zero lengths with NULL are fine and move nothing.
            assert_eq!(pyrt_ring_push_batch(ring, null(), 0, &mut count), PYRT_OK);
            assert_eq!(count, 0);
            assert_eq!(pyrt_ring_pop_batch(ring, null_mut(), 0, &mut count), PYRT_OK);
            assert_eq!(count, 0);
            assert_eq!(pyrt_ring_len(null(), &mut len), PYRT_NULL_POINTER);
            assert_eq!(pyrt_ring_capacity(null()), 0);
            assert_eq!(pyrt_ring_capacity(ring), 8);
            pyrt_ring_free(ring);
            pyrt_ring_free(null_mut());
            assert_eq!(pyrt_ring_unlink(name.as_ptr()), PYRT_OK);
        }
    }

    #[test]
    fn full_and_empty_are_statuses_that_leave_the_message_alone() {
        let name = unique("fullempty");
        let mut ring: *mut PyrtRing = null_mut();
        unsafe {
            assert_eq!(pyrt_ring_create(name.as_ptr(), 2, &mut ring), PYRT_OK);
            let mut out = PyrtMarketDataRecord::default();
            assert_eq!(pyrt_ring_create(name.as_ptr(), 3, &mut ring), PYRT_INVALID_ARGUMENT);
            let before = last_error();
            assert_eq!(pyrt_ring_pop(ring, &mut out), PYRT_EMPTY);
            for i in 0..2 {
                assert_eq!(pyrt_ring_push(ring, &PyrtMarketDataRecord::new(i, 0.0, 0.0, i as u64)), PYRT_OK);
            }
            assert_eq!(pyrt_ring_push(ring, &PyrtMarketDataRecord::new(9, 0.0, 0.0, 9)), PYRT_FULL);
            assert_eq!(last_error(), before);
            let mut len = 0usize;
            assert_eq!(pyrt_ring_len(ring, &mut len), PYRT_OK);
            assert_eq!(len, 2);
            let mut batch = [PyrtMarketDataRecord::default(); 4];
            let mut popped = 0usize;
            assert_eq!(pyrt_ring_pop_batch(ring, batch.as_mut_ptr(), 4, &mut popped), PYRT_OK);
            assert_eq!(popped, 2);
            assert_eq!((batch[0].symbol_id, batch[1].symbol_id), (0, 1));
            pyrt_ring_free(ring);
            assert_eq!(pyrt_ring_unlink(name.as_ptr()), PYRT_OK);
            assert_eq!(pyrt_ring_unlink(name.as_ptr()), PYRT_NOT_FOUND);
            assert!(last_error().contains("does not exist"), "{}", last_error());
            assert_eq!(pyrt_ring_open(name.as_ptr(), &mut ring), PYRT_NOT_FOUND);
        }
    }

    #[test]
    fn a_closed_handle_refuses_calls_and_keeps_its_capacity() {
        let name = unique("closed");
        let mut ring: *mut PyrtRing = null_mut();
        unsafe {
            assert_eq!(pyrt_ring_create(name.as_ptr(), 4, &mut ring), PYRT_OK);
            pyrt_ring_close(ring);
            pyrt_ring_close(ring);
            let rec = PyrtMarketDataRecord::new(1, 2.0, 3.0, 4);
            assert_eq!(pyrt_ring_push(ring, &rec), PYRT_CLOSED);
            assert!(last_error().contains("closed"), "{}", last_error());
            let mut len = 0usize;
            assert_eq!(pyrt_ring_len(ring, &mut len), PYRT_CLOSED);
            assert_eq!(pyrt_ring_capacity(ring), 4);
            pyrt_ring_close(null());
            pyrt_ring_free(ring);
            assert_eq!(pyrt_ring_unlink(name.as_ptr()), PYRT_OK);
        }
    }

    /// The owning thread's pushes take `pyrt_ring_push`'s fast path; every
    /// outcome it does not handle itself still comes out right through the
    /// checked path: a full ring, a file truncated by another process, a
    /// closed handle.
    #[test]
    fn the_fast_push_leaves_full_truncated_and_closed_to_the_checked_path() {
        let name = unique("fastpath");
        let mut ring: *mut PyrtRing = null_mut();
        unsafe {
            assert_eq!(pyrt_ring_create(name.as_ptr(), 4, &mut ring), PYRT_OK);
            // The first push makes this thread the owner; the next ones go fast.
            for i in 0..4 {
                assert_eq!(pyrt_ring_push(ring, &PyrtMarketDataRecord::new(i, 1.0, 2.0, i as u64)), PYRT_OK);
            }
            assert_eq!(pyrt_ring_push(ring, &PyrtMarketDataRecord::new(9, 0.0, 0.0, 9)), PYRT_FULL);
            let mut out = PyrtMarketDataRecord::default();
            assert_eq!(pyrt_ring_pop(ring, &mut out), PYRT_OK);
            assert_eq!(out, PyrtMarketDataRecord::new(0, 1.0, 2.0, 0));
            // Room again once the cached consumer cursor is refreshed.
            assert_eq!(pyrt_ring_push(ring, &PyrtMarketDataRecord::new(4, 1.0, 2.0, 4)), PYRT_OK);
            let mut len = 0usize;
            assert_eq!(pyrt_ring_len(ring, &mut len), PYRT_OK);
            assert_eq!(len, 4);
            let mut batch = [PyrtMarketDataRecord::default(); 4];
            let mut popped = 0usize;
            assert_eq!(pyrt_ring_pop_batch(ring, batch.as_mut_ptr(), 4, &mut popped), PYRT_OK);
            assert_eq!(batch.map(|r| r.symbol_id), [1, 2, 3, 4]);

            assert_eq!(pyrt_ring_push(ring, &PyrtMarketDataRecord::new(5, 1.0, 2.0, 5)), PYRT_OK);
            let path = format!("/dev/shm/{}", name.to_str().unwrap());
            std::fs::OpenOptions::new().write(true).open(path).unwrap().set_len(0).unwrap();
            for _ in 0..2 {
                let rec = PyrtMarketDataRecord::new(6, 1.0, 2.0, 6);
                assert_eq!(pyrt_ring_push(ring, &rec), PYRT_BAD_LAYOUT);
                assert!(last_error().contains("truncated by another process"), "{}", last_error());
            }

            pyrt_ring_close(ring);
            assert_eq!(pyrt_ring_push(ring, &PyrtMarketDataRecord::new(7, 1.0, 2.0, 7)), PYRT_CLOSED);
            assert!(last_error().contains("closed"), "{}", last_error());
            pyrt_ring_free(ring);
            assert_eq!(pyrt_ring_unlink(name.as_ptr()), PYRT_OK);
        }
    }

    /// Four threads push through one handle while another pops through a
    /// second: every record arrives whole, once.
    #[test]
    fn threads_sharing_one_handle_never_tear_records() {
        struct Shared(*mut PyrtRing);
        unsafe impl Send for Shared {}
        unsafe impl Sync for Shared {}
        let name = unique("threads");
        let mut producer: *mut PyrtRing = null_mut();
        let mut consumer: *mut PyrtRing = null_mut();
        unsafe {
            assert_eq!(pyrt_ring_create(name.as_ptr(), 1 << 16, &mut producer), PYRT_OK);
            assert_eq!(pyrt_ring_open(name.as_ptr(), &mut consumer), PYRT_OK);
        }
        let shared = std::sync::Arc::new(Shared(producer));
        let per_thread = 10_000u32;
        let workers: Vec<_> = (0..4u32)
            .map(|t| {
                let shared = std::sync::Arc::clone(&shared);
                std::thread::spawn(move || {
                    let ring = shared.0;
                    for i in 0..per_thread {
                        let v = t * per_thread + i;
                        let rec = PyrtMarketDataRecord::new(v, v as f64, -(v as f64), v as u64);
                        assert_eq!(unsafe { pyrt_ring_push(ring, &rec) }, PYRT_OK);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        let mut seen = vec![false; (4 * per_thread) as usize];
        let mut out = PyrtMarketDataRecord::default();
        unsafe {
            while pyrt_ring_pop(consumer, &mut out) == PYRT_OK {
                let v = out.symbol_id;
                assert_eq!((out.price, out.volume, out.timestamp_us), (v as f64, -(v as f64), v as u64));
                assert!(!seen[v as usize]);
                seen[v as usize] = true;
            }
            assert!(seen.iter().all(|&s| s));
            pyrt_ring_free(producer);
            pyrt_ring_free(consumer);
            assert_eq!(pyrt_ring_unlink(name.as_ptr()), PYRT_OK);
        }
    }
}
