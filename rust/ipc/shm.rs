//! POSIX shared memory: the one place in the ipc domain that needs `unsafe`.
//!
//! Mapping a shared-memory object (shm_open, ftruncate, mmap) is a libc call,
//! and the mapping is memory that other processes write behind the compiler's
//! back, so it can only be reached through raw pointers. This module keeps
//! every such access behind a small safe API: each access is bounds-checked
//! against the mapping's length (which `open` learns from the object itself,
//! before reading a byte), through `Mapping` on every access, or through
//! `RingMemory` once for the whole ring; cursors and header words are touched
//! only as atomics, and records are plain data for which every bit pattern
//! is valid.
//! The ordering protocol between producer and consumer lives in `ring.rs`.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::io;
use std::sync::atomic::{AtomicU32, AtomicU64};

use super::guard::Registration;
use super::layout::{PyrtMarketDataRecord, CONSUMER_CURSOR_OFFSET, PRODUCER_CURSOR_OFFSET, RECORDS_OFFSET, RECORD_SIZE};
use crate::error::{Error, ErrorKind, Result};

/// A read-write shared mapping of a whole shared-memory object.
pub struct Mapping {
    /// Declared before `region`, so it is dropped (unregistered) before the
    /// memory is unmapped: the SIGBUS guard never acts on an address range
    /// that is no longer this mapping.
    guard: Registration,
    region: Region,
}

/// The mapped bytes; unmapped when dropped.
struct Region {
    base: *mut u8,
    len: usize,
}

impl Drop for Region {
    fn drop(&mut self) {
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.len) };
    }
}

// The mapping is process-wide memory, valid until `Drop` unmaps it; the
// handle can move to another thread. Concurrent access from several threads
// through one handle is not offered (no `Sync`).
unsafe impl Send for Region {}

fn os_error(what: &str, call: &str, error: io::Error) -> Error {
    Error::new(ErrorKind::Io, format!("{what}: {call} failed: {error}"))
}

fn c_name(object_name: &str) -> Result<CString> {
    CString::new(object_name).map_err(|_| Error::invalid("name", "must not contain a NUL byte"))
}

/// Refuses a region larger than the free space of the file system holding
/// shared memory (tmpfs allocates pages on first touch, so an over-size
/// region would be created fine and then fault when it fills up).
fn check_room(fd: &Fd, len: usize, what: &str) -> Result<()> {
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstatvfs(fd.0, &mut stat) } != 0 {
        return Err(os_error(what, "fstatvfs", io::Error::last_os_error()));
    }
    let free = (stat.f_bavail as u128) * (stat.f_frsize as u128);
    if len as u128 > free {
        return Err(Error::invalid(
            "capacity",
            format!("{what} needs {len} bytes of shared memory, but only {free} are free"),
        ));
    }
    Ok(())
}

/// Closes the descriptor when dropped, on every path.
struct Fd(libc::c_int);

impl Drop for Fd {
    fn drop(&mut self) {
        unsafe { libc::close(self.0) };
    }
}

fn map_fd(fd: &Fd, len: usize, what: &str) -> Result<Mapping> {
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd.0,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(os_error(what, "mmap", io::Error::last_os_error()));
    }
    // Unmapped again (Region's drop) if the registration fails.
    let region = Region { base: base as *mut u8, len };
    let guard = Registration::new(base as usize, len, what)?;
    Ok(Mapping { guard, region })
}

impl Mapping {
    /// Creates the object `object_name` ("/name") of `len` zeroed bytes and
    /// maps it. Fails if the object already exists (O_EXCL): a ring is never
    /// silently re-initialised under a running peer.
    pub fn create(object_name: &str, len: usize, what: &str) -> Result<Mapping> {
        let path = c_name(object_name)?;
        let raw = unsafe {
            libc::shm_open(path.as_ptr(), libc::O_CREAT | libc::O_EXCL | libc::O_RDWR, 0o600 as libc::mode_t)
        };
        if raw < 0 {
            let error = io::Error::last_os_error();
            if error.raw_os_error() == Some(libc::EEXIST) {
                return Err(Error::invalid(
                    "name",
                    format!("{what} already exists (shared-memory object {object_name}); open it, or unlink it first"),
                ));
            }
            return Err(os_error(what, "shm_open", error));
        }
        let fd = Fd(raw);
        let made = (|| {
            check_room(&fd, len, what)?;
            if unsafe { libc::ftruncate(fd.0, len as libc::off_t) } != 0 {
                return Err(os_error(what, "ftruncate", io::Error::last_os_error()));
            }
            map_fd(&fd, len, what)
        })();
        if made.is_err() {
            unsafe { libc::shm_unlink(path.as_ptr()) };
        }
        made
    }

    /// Maps the existing object `object_name` whole. The length comes from
    /// fstat; an object shorter than `min_len` is refused before it is mapped.
    pub fn open(object_name: &str, min_len: usize, what: &str) -> Result<Mapping> {
        let path = c_name(object_name)?;
        let raw = unsafe { libc::shm_open(path.as_ptr(), libc::O_RDWR, 0) };
        if raw < 0 {
            let error = io::Error::last_os_error();
            if error.raw_os_error() == Some(libc::ENOENT) {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    format!("name: {what} does not exist (no shared-memory object {object_name})"),
                ));
            }
            return Err(os_error(what, "shm_open", error));
        }
        let fd = Fd(raw);
        let mut stat: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(fd.0, &mut stat) } != 0 {
            return Err(os_error(what, "fstat", io::Error::last_os_error()));
        }
        let len = usize::try_from(stat.st_size).unwrap_or(0);
        if len < min_len {
            return Err(Error::new(
                ErrorKind::BadLayout,
                format!("{what}: region is {len} bytes, smaller than a ring header ({min_len} bytes)"),
            ));
        }
        map_fd(&fd, len, what)
    }

    /// Removes the name `object_name`; mappings that exist stay valid.
    pub fn unlink(object_name: &str, what: &str) -> Result<()> {
        let path = c_name(object_name)?;
        if unsafe { libc::shm_unlink(path.as_ptr()) } != 0 {
            let error = io::Error::last_os_error();
            if error.raw_os_error() == Some(libc::ENOENT) {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    format!("name: {what} does not exist (no shared-memory object {object_name})"),
                ));
            }
            return Err(os_error(what, "shm_unlink", error));
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.region.len
    }

    /// True once another process shrank the object under this mapping and
    /// an access faulted: the mapping is then private zero pages, detached
    /// from the ring, and must not be trusted again.
    #[inline(always)]
    pub fn lost(&self) -> bool {
        self.guard.lost()
    }

    fn checked(&self, offset: usize, size: usize, align: usize) -> *mut u8 {
        assert!(
            offset % align == 0 && offset.checked_add(size).is_some_and(|end| end <= self.region.len),
            "shared-memory access out of bounds: {size} bytes at {offset} of {}",
            self.region.len
        );
        // The base is page-aligned, so an aligned offset is an aligned address.
        unsafe { self.region.base.add(offset) }
    }

    /// The u64 at `offset` as an atomic (8-byte aligned, inside the mapping).
    pub fn atomic_u64(&self, offset: usize) -> &AtomicU64 {
        unsafe { &*(self.checked(offset, 8, 8) as *const AtomicU64) }
    }

    /// The u32 at `offset` as an atomic (4-byte aligned, inside the mapping).
    pub fn atomic_u32(&self, offset: usize) -> &AtomicU32 {
        unsafe { &*(self.checked(offset, 4, 4) as *const AtomicU32) }
    }
}

/// A mapping checked once to hold a ring of `capacity` records: both
/// cursors and every record slot lie inside it.
///
/// Why a type of its own: `Mapping`'s accessors check bounds on every
/// access, which a ring's push paid three times (cursor load, record copy,
/// cursor store). Here the check is made once, when the ring is attached,
/// and a slot is reached through a cursor masked with `capacity - 1`, so it
/// is in bounds by construction and the hot path has no check left.
pub struct RingMemory {
    map: Mapping,
    /// `capacity - 1`, capacity a power of two.
    mask: usize,
}

impl RingMemory {
    /// Panics unless `capacity` is a power of two whose records fit in the
    /// mapping: the callers validated the header against the mapping's size
    /// already, so a failure here is a bug in pyrt.
    pub fn new(map: Mapping, capacity: u64) -> RingMemory {
        let fits = usize::try_from(capacity)
            .ok()
            .and_then(|c| c.checked_mul(RECORD_SIZE))
            .and_then(|bytes| bytes.checked_add(RECORDS_OFFSET))
            .is_some_and(|end| end <= map.len());
        assert!(capacity.is_power_of_two() && fits, "ring of {capacity} records does not fit in {} bytes", map.len());
        RingMemory { map, mask: capacity as usize - 1 }
    }

    #[inline(always)]
    pub fn lost(&self) -> bool {
        self.map.lost()
    }

    #[inline(always)]
    fn at(&self, offset: usize) -> *mut u8 {
        // In bounds: `new` checked the whole ring against the mapping.
        unsafe { self.map.region.base.add(offset) }
    }

    /// The producer cursor (8-byte aligned: the base is page-aligned).
    #[inline(always)]
    pub fn producer(&self) -> &AtomicU64 {
        unsafe { &*(self.at(PRODUCER_CURSOR_OFFSET) as *const AtomicU64) }
    }

    /// The consumer cursor.
    #[inline(always)]
    pub fn consumer(&self) -> &AtomicU64 {
        unsafe { &*(self.at(CONSUMER_CURSOR_OFFSET) as *const AtomicU64) }
    }

    #[inline(always)]
    fn slot(&self, cursor: u64) -> *mut PyrtMarketDataRecord {
        self.at(RECORDS_OFFSET + (cursor as usize & self.mask) * RECORD_SIZE) as *mut PyrtMarketDataRecord
    }

    /// Copies one record into the slot of `cursor`. The ring protocol
    /// guarantees no other process reads that slot now.
    #[inline(always)]
    pub fn write_record(&self, cursor: u64, record: &PyrtMarketDataRecord) {
        unsafe { self.slot(cursor).write(*record) };
    }

    /// Copies the record in the slot of `cursor` out.
    #[inline(always)]
    pub fn read_record(&self, cursor: u64) -> PyrtMarketDataRecord {
        unsafe { self.slot(cursor).read() }
    }

    /// Where a run of `n` records from `cursor` lies: its first part up to
    /// the end of the ring, then the rest from slot 0 (at most two copies).
    fn split(&self, cursor: u64, n: usize) -> (usize, usize) {
        let capacity = self.mask + 1;
        assert!(n <= capacity, "{n} records do not fit in a ring of {capacity}");
        let start = cursor as usize & self.mask;
        let first = n.min(capacity - start);
        (first, n - first)
    }

    /// Copies `records` into the slots of `cursor`, `cursor + 1`, ...,
    /// wrapping at the end of the ring. At most the ring's capacity.
    pub fn write_records(&self, cursor: u64, records: &[PyrtMarketDataRecord]) {
        let (first, rest) = self.split(cursor, records.len());
        unsafe {
            std::ptr::copy_nonoverlapping(records.as_ptr(), self.slot(cursor), first);
            std::ptr::copy_nonoverlapping(records.as_ptr().add(first), self.slot(0), rest);
        }
    }

    /// Copies the records in the slots of `cursor`, `cursor + 1`, ... into
    /// `out`, wrapping at the end of the ring. At most the ring's capacity.
    pub fn read_records(&self, cursor: u64, out: &mut [PyrtMarketDataRecord]) {
        let (first, rest) = self.split(cursor, out.len());
        unsafe {
            std::ptr::copy_nonoverlapping(self.slot(cursor), out.as_mut_ptr(), first);
            std::ptr::copy_nonoverlapping(self.slot(0), out.as_mut_ptr().add(first), rest);
        }
    }
}
