//! Survives another process shrinking a ring's shared-memory file.
//!
//! When a peer truncates the file (`ftruncate`, `os.truncate`), the pages
//! past the new end vanish from every process's mapping and the next access
//! to one raises SIGBUS, which kills the process by default. This module
//! installs one SIGBUS handler for the process that recognises a fault
//! inside a registered ring mapping, replaces that whole mapping with
//! private zero pages (so the faulting access completes on harmless memory)
//! and marks the mapping as lost; the ring then reports an error for the
//! call and every later one. A fault anywhere else goes to the handler that
//! was installed before (or the default action), exactly as without pyrt.
//!
//! Chosen over a size check per call (an `fstat` costs a system call, more
//! than a whole `push`) because it costs nothing until a fault: the hot path
//! only reads one flag that lives in this process's memory.
//!
//! The table of mappings is a fixed array read by the handler without locks:
//! each slot has a sequence number that is odd while it is being written, so
//! the handler never trusts a half-written (base, len) pair.
#![allow(unsafe_code)]

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::error::{Error, ErrorKind, Result};

/// How many ring mappings one process may hold open at once.
pub(crate) const MAX_MAPPINGS: usize = 4096;

struct Slot {
    seq: AtomicU64,
    base: AtomicUsize,
    len: AtomicUsize,
    lost: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot {
    seq: AtomicU64::new(0),
    base: AtomicUsize::new(0),
    len: AtomicUsize::new(0),
    lost: AtomicBool::new(false),
};

static SLOTS: [Slot; MAX_MAPPINGS] = [EMPTY; MAX_MAPPINGS];
/// Serializes registration (never taken by the signal handler).
static REGISTRY: Mutex<()> = Mutex::new(());

/// The handler found before ours, two copies so that replacing it never
/// leaves the signal handler reading a half-written one.
struct Previous(UnsafeCell<[libc::sigaction; 2]>);
// Written only under REGISTRY, into the copy the handler does not read.
unsafe impl Sync for Previous {}
static PREVIOUS: Previous = Previous(UnsafeCell::new(unsafe { std::mem::zeroed() }));
static PREVIOUS_INDEX: AtomicUsize = AtomicUsize::new(0);
static HAVE_PREVIOUS: AtomicBool = AtomicBool::new(false);

/// A registered mapping; unregisters itself when dropped.
pub(crate) struct Registration {
    index: usize,
    /// Its slot's flag, kept as a reference so that the check on every
    /// ring call is one load, with no index bounds check.
    lost: &'static AtomicBool,
}

impl Registration {
    /// Registers `[base, base + len)` and makes sure the handler is the
    /// process's SIGBUS handler.
    pub(crate) fn new(base: usize, len: usize, what: &str) -> Result<Registration> {
        let _lock = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
        ensure_handler(what)?;
        let Some(index) = SLOTS.iter().position(|s| s.base.load(Ordering::Relaxed) == 0) else {
            return Err(Error::new(
                ErrorKind::Io,
                format!("{what}: more than {MAX_MAPPINGS} rings are open in this process; close some first"),
            ));
        };
        let slot = &SLOTS[index];
        slot.seq.fetch_add(1, Ordering::AcqRel);
        slot.lost.store(false, Ordering::Relaxed);
        slot.len.store(len, Ordering::Relaxed);
        slot.base.store(base, Ordering::Relaxed);
        slot.seq.fetch_add(1, Ordering::Release);
        Ok(Registration { index, lost: &slot.lost })
    }

    /// True once a fault replaced the mapping (its file was shrunk).
    #[inline(always)]
    pub(crate) fn lost(&self) -> bool {
        self.lost.load(Ordering::Relaxed)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let _lock = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
        let slot = &SLOTS[self.index];
        slot.seq.fetch_add(1, Ordering::AcqRel);
        slot.base.store(0, Ordering::Relaxed);
        slot.len.store(0, Ordering::Relaxed);
        slot.seq.fetch_add(1, Ordering::Release);
    }
}

/// Installs the handler unless it is already the current one. Checked at
/// every registration, so a handler another library installed later (for
/// instance Python's `faulthandler.enable()`) is chained behind ours again
/// when the next ring opens.
fn ensure_handler(what: &str) -> Result<()> {
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut current) != 0 {
            return Err(sigaction_error(what));
        }
        if current.sa_sigaction == on_sigbus as *const () as usize {
            return Ok(());
        }
        let next = 1 - PREVIOUS_INDEX.load(Ordering::Relaxed);
        (*PREVIOUS.0.get())[next] = current;
        PREVIOUS_INDEX.store(next, Ordering::Release);
        HAVE_PREVIOUS.store(true, Ordering::Release);
        let mut ours: libc::sigaction = std::mem::zeroed();
        ours.sa_sigaction = on_sigbus as *const () as usize;
        ours.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_RESTART;
        libc::sigemptyset(&mut ours.sa_mask);
        if libc::sigaction(libc::SIGBUS, &ours, std::ptr::null_mut()) != 0 {
            return Err(sigaction_error(what));
        }
    }
    Ok(())
}

fn sigaction_error(what: &str) -> Error {
    Error::new(ErrorKind::Io, format!("{what}: sigaction(SIGBUS) failed: {}", std::io::Error::last_os_error()))
}

/// The registered slot holding `addr`, read consistently.
fn slot_of(addr: usize) -> Option<(&'static Slot, usize, usize)> {
    for slot in SLOTS.iter() {
        let before = slot.seq.load(Ordering::Acquire);
        if before & 1 == 1 {
            continue;
        }
        let base = slot.base.load(Ordering::Relaxed);
        let len = slot.len.load(Ordering::Relaxed);
        if slot.seq.load(Ordering::Acquire) != before || base == 0 {
            continue;
        }
        if addr >= base && addr - base < len {
            return Some((slot, base, len));
        }
    }
    None
}

extern "C" fn on_sigbus(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    unsafe {
        // A positive si_code means the kernel raised it for a memory access.
        if !info.is_null() && (*info).si_code > 0 {
            let addr = (*info).si_addr() as usize;
            if let Some((slot, base, len)) = slot_of(addr) {
                let replaced = libc::mmap(
                    base as *mut libc::c_void,
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                );
                if replaced != libc::MAP_FAILED {
                    slot.lost.store(true, Ordering::Relaxed);
                    return;
                }
            }
        }
        chain(signal, info, context);
    }
}

/// Hands a fault that is not ours to whoever had SIGBUS before.
unsafe fn chain(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let previous = if HAVE_PREVIOUS.load(Ordering::Acquire) {
        (*PREVIOUS.0.get())[PREVIOUS_INDEX.load(Ordering::Acquire)]
    } else {
        std::mem::zeroed()
    };
    let action = previous.sa_sigaction;
    if action == libc::SIG_DFL || action == libc::SIG_IGN {
        // The default action: restore it, and let the faulting instruction
        // run again (a fault) or send the signal again (one raised by kill).
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(signal, &default, std::ptr::null_mut());
        if info.is_null() || (*info).si_code <= 0 {
            libc::raise(signal);
        }
        return;
    }
    if previous.sa_flags & libc::SA_SIGINFO != 0 {
        let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) = std::mem::transmute(action);
        handler(signal, info, context);
    } else {
        let handler: extern "C" fn(libc::c_int) = std::mem::transmute(action);
        handler(signal);
    }
}
