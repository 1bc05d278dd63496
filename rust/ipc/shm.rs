//! POSIX shared memory: the one place in the ipc domain that needs `unsafe`.
//!
//! Mapping a shared-memory object (shm_open, ftruncate, mmap) is a libc call,
//! and the mapping is memory that other processes write behind the compiler's
//! back, so it can only be reached through raw pointers. This module keeps
//! every such access behind a small safe API: each access is bounds-checked
//! against the mapping's length (which `open` learns from the object itself,
//! before reading a byte), cursors and header words are touched only as
//! atomics, and records are plain data for which every bit pattern is valid.
//! The ordering protocol between producer and consumer lives in `ring.rs`.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::io;
use std::sync::atomic::{AtomicU32, AtomicU64};

use super::guard::Registration;
use super::layout::{PyrtMarketDataRecord, RECORD_SIZE};
use crate::error::{Error, ErrorKind, Result};

/// A read-write shared mapping of a whole shared-memory object.
pub struct Mapping {
    base: *mut u8,
    len: usize,
    /// Dropped before the memory is unmapped, so the SIGBUS guard never acts
    /// on an address range that is no longer this mapping.
    guard: Option<Registration>,
}

// The mapping is process-wide memory, valid until `Drop` unmaps it; the
// handle can move to another thread. Concurrent access from several threads
// through one handle is not offered (no `Sync`).
unsafe impl Send for Mapping {}

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
    let mut mapping = Mapping { base: base as *mut u8, len, guard: None };
    mapping.guard = Some(Registration::new(base as usize, len, what)?);
    Ok(mapping)
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
        self.len
    }

    /// True once another process shrank the object under this mapping and
    /// an access faulted: the mapping is then private zero pages, detached
    /// from the ring, and must not be trusted again.
    #[inline]
    pub fn lost(&self) -> bool {
        self.guard.as_ref().is_some_and(Registration::lost)
    }

    fn checked(&self, offset: usize, size: usize, align: usize) -> *mut u8 {
        assert!(
            offset % align == 0 && offset.checked_add(size).is_some_and(|end| end <= self.len),
            "shared-memory access out of bounds: {size} bytes at {offset} of {}",
            self.len
        );
        // The base is page-aligned, so an aligned offset is an aligned address.
        unsafe { self.base.add(offset) }
    }

    /// The u64 at `offset` as an atomic (8-byte aligned, inside the mapping).
    pub fn atomic_u64(&self, offset: usize) -> &AtomicU64 {
        unsafe { &*(self.checked(offset, 8, 8) as *const AtomicU64) }
    }

    /// The u32 at `offset` as an atomic (4-byte aligned, inside the mapping).
    pub fn atomic_u32(&self, offset: usize) -> &AtomicU32 {
        unsafe { &*(self.checked(offset, 4, 4) as *const AtomicU32) }
    }

    /// Copies `records` into consecutive record slots starting at byte `offset`.
    /// The ring protocol guarantees no other process reads these slots now.
    pub fn write_records(&self, offset: usize, records: &[PyrtMarketDataRecord]) {
        let dst = self.checked(offset, records.len() * RECORD_SIZE, 8);
        unsafe {
            std::ptr::copy_nonoverlapping(records.as_ptr(), dst as *mut PyrtMarketDataRecord, records.len())
        };
    }

    /// Copies consecutive record slots starting at byte `offset` into `out`.
    /// The ring protocol guarantees no other process writes these slots now.
    pub fn read_records(&self, offset: usize, out: &mut [PyrtMarketDataRecord]) {
        let src = self.checked(offset, out.len() * RECORD_SIZE, 8);
        unsafe {
            std::ptr::copy_nonoverlapping(src as *const PyrtMarketDataRecord, out.as_mut_ptr(), out.len())
        };
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        drop(self.guard.take());
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.len) };
    }
}
