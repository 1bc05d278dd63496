//! A handle for the ring's hot path: the handle discipline of `handle.rs`
//! (calls serialized, close waits for a call in flight, PYRT_CLOSED after,
//! a panic disables the handle) without an atomic read-modify-write on the
//! path of the one thread that uses it.
//!
//! Why: `Handle<T>`'s mutex costs one locked instruction per call, which
//! doubled an uncontended `pyrt_ring_push` (3.6 ns -> 7.3 ns, measured), and
//! a locked instruction also waits for the caller's earlier stores to drain,
//! the very stores a cross-process producer is streaming into the ring.
//!
//! How (biased locking with an asymmetric fence): the first thread to call
//! becomes the owner. Its calls only mark themselves busy (a plain store),
//! check that the bias is still valid (a plain load) and run; a compiler
//! fence keeps the two in order. Any other thread, and `close`, first
//! revokes the bias for good: it sets `revoked`, then `membarrier(2)` makes
//! every thread of the process execute a full memory barrier, so afterwards
//! either the owner's busy mark is visible (and the revoker waits for it to
//! clear) or the owner's next check sees `revoked` (and it takes the slow
//! path). From then on every call takes the mutex. Where `membarrier` is not
//! available, no handle is ever biased.
//!
//! Two ways in for the owner: `with` runs any call and returns its `Result`;
//! `with_owner` runs only a call that cannot fail, and returns `None` when it
//! cannot go the owner's way. The second is for an entry point's fast path:
//! the owner's checks are a few plain loads and stores, but wrapped in the
//! general entry point (a 32-byte `Result` copied through the stack, a frame
//! sized for the error paths) they cost about a nanosecond per push, 15% of
//! it; see `pyrt_ring_push`.

use std::cell::UnsafeCell;
use std::sync::atomic::{compiler_fence, AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::error::{Error, ErrorKind, Result};

enum Slot<T> {
    Open(T),
    Closed,
    Broken,
}

pub struct BiasedHandle<T> {
    what: &'static str,
    /// The owning thread's token; 0 while nobody owns the handle.
    owner: AtomicUsize,
    /// The owner is inside a call on the fast path.
    busy: AtomicBool,
    /// The bias is gone for good: every call takes `lock`.
    revoked: AtomicBool,
    lock: Mutex<()>,
    slot: UnsafeCell<Slot<T>>,
}

// The slot is reached either by the owner between its busy mark and its
// clearing (while `revoked` is false), or by a thread holding `lock` after
// the bias was revoked and the owner's busy mark cleared: never by two at once.
unsafe impl<T: Send> Send for BiasedHandle<T> {}
unsafe impl<T: Send> Sync for BiasedHandle<T> {}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
thread_local! {
    static TOKEN: u8 = const { 0 };
}

/// A number unique to the calling thread while it lives (never 0).
///
/// On x86-64 Linux, the thread pointer (the first word of the thread's
/// control block, `fs:0`, which points to itself): one instruction. A
/// `thread_local!` in a shared library goes through `__tls_get_addr`, which
/// cost more than the lock this module avoids.
#[inline]
fn thread_token() -> usize {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    {
        let pointer: usize;
        #[allow(unsafe_code)]
        unsafe {
            std::arch::asm!("mov {}, qword ptr fs:[0]", out(reg) pointer, options(nostack, readonly, preserves_flags, pure));
        }
        pointer
    }
    #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
    {
        TOKEN.with(|t| t as *const u8 as usize)
    }
}

const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

/// Whether this process may use `membarrier(PRIVATE_EXPEDITED)` (registered once).
fn membarrier_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        #[allow(unsafe_code)]
        let rc = unsafe { libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0) };
        rc == 0
    })
}

fn membarrier() {
    #[allow(unsafe_code)]
    let rc = unsafe { libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) };
    // Registered before any handle was biased, so it cannot fail.
    assert_eq!(rc, 0, "membarrier failed after registration");
}

/// The owner's busy mark while its call runs. A call that returns clears
/// it with `done`; the drop runs only when the call unwinds, and then also
/// disables the handle. (Asking `std::thread::panicking()` on every return
/// instead read a global counter through the GOT on each push.)
struct Busy<'a, T>(&'a BiasedHandle<T>);

impl<T> Busy<'_, T> {
    #[inline(always)]
    fn done(self) {
        self.0.busy.store(false, Ordering::Release);
        std::mem::forget(self);
    }
}

impl<T> Drop for Busy<'_, T> {
    #[cold]
    fn drop(&mut self) {
        self.0.break_slot();
        self.0.busy.store(false, Ordering::Release);
    }
}

/// Disables the handle if a call on the mutex path panicked.
struct Locked<'a, T>(&'a BiasedHandle<T>);

impl<T> Drop for Locked<'_, T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.break_slot();
        }
    }
}

impl<T> BiasedHandle<T> {
    pub fn new(what: &'static str, value: T) -> Self {
        BiasedHandle {
            what,
            owner: AtomicUsize::new(0),
            busy: AtomicBool::new(false),
            revoked: AtomicBool::new(false),
            lock: Mutex::new(()),
            slot: UnsafeCell::new(Slot::Open(value)),
        }
    }

    #[cold]
    fn break_slot(&self) {
        #[allow(unsafe_code)]
        let slot = unsafe { &mut *self.slot.get() };
        let broken = std::mem::replace(slot, Slot::Broken);
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(broken)));
    }

    // Inlined, as `with` and the busy guard: the ring's push and pop are a
    // few nanoseconds, and a call here was a measurable part of them.
    #[inline(always)]
    fn run<R>(&self, f: impl FnOnce(&mut T) -> Result<R>) -> Result<R> {
        // Only called with exclusive access (see the Sync comment).
        #[allow(unsafe_code)]
        let slot = unsafe { &mut *self.slot.get() };
        match slot {
            Slot::Open(value) => f(value),
            Slot::Broken => Err(Error::new(
                ErrorKind::Closed,
                format!("{}: was disabled by an internal error in an earlier call", self.what),
            )),
            Slot::Closed => Err(Error::new(ErrorKind::Closed, format!("{}: is closed", self.what))),
        }
    }

    /// The owner's way in: marks the call busy, then checks that the bias
    /// still stands (the order `revoke` relies on). `None` when the caller
    /// is not the owner or the bias is gone: the call must take the lock.
    #[inline(always)]
    fn enter(&self) -> Option<Busy<'_, T>> {
        if self.owner.load(Ordering::Relaxed) != thread_token() {
            return None;
        }
        self.busy.store(true, Ordering::Relaxed);
        compiler_fence(Ordering::SeqCst);
        if self.revoked.load(Ordering::Relaxed) {
            self.busy.store(false, Ordering::Release);
            return None;
        }
        Some(Busy(self))
    }

    /// Runs `f` on the live object, serialized with every other call on
    /// this handle; a `PYRT_CLOSED` error once the handle is closed.
    #[inline(always)]
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> Result<R>) -> Result<R> {
        if let Some(busy) = self.enter() {
            let result = self.run(f);
            busy.done();
            return result;
        }
        self.with_lock(thread_token(), f)
    }

    /// Runs `f` only if it can go the owner's way: the calling thread owns
    /// the handle, the bias stands and the object is open. `None`, with `f`
    /// not run, in every other case; the caller then goes through `with`,
    /// which serializes the call or says why it cannot be made.
    ///
    /// For an entry point's fast path: with nothing else in it, a function
    /// that calls this needs no stack frame, no error value and no message,
    /// which is what brought `pyrt_ring_push` back to its cost before
    /// handles were serialized.
    #[inline(always)]
    pub fn with_owner<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let busy = self.enter()?;
        // Exclusive: the owner between its busy mark and `done`, the bias standing.
        #[allow(unsafe_code)]
        let result = match unsafe { &mut *self.slot.get() } {
            Slot::Open(value) => Some(f(value)),
            _ => None,
        };
        busy.done();
        result
    }

    #[cold]
    fn with_lock<R>(&self, me: usize, f: impl FnOnce(&mut T) -> Result<R>) -> Result<R> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if !self.revoked.load(Ordering::Relaxed) {
            let owner = self.owner.load(Ordering::Relaxed);
            if owner == 0 && membarrier_available() {
                // The first caller: later calls from this thread go fast.
                self.owner.store(me, Ordering::Relaxed);
            } else if owner != me {
                self.revoke();
            }
        }
        let _locked = Locked(self);
        self.run(f)
    }

    /// Ends the bias for good and waits for the owner's call in flight.
    /// Called with `lock` held.
    fn revoke(&self) {
        self.revoked.store(true, Ordering::Relaxed);
        if self.owner.load(Ordering::Relaxed) != 0 {
            membarrier();
            while self.busy.load(Ordering::Acquire) {
                std::thread::yield_now();
            }
        }
        std::sync::atomic::fence(Ordering::Acquire);
    }

    /// Drops the object after any call in flight has returned; later calls
    /// fail with `PYRT_CLOSED`. Idempotent.
    pub fn close(&self) {
        let taken = {
            let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            if !self.revoked.load(Ordering::Relaxed) {
                self.revoke();
            }
            #[allow(unsafe_code)]
            let slot = unsafe { &mut *self.slot.get() };
            match slot {
                Slot::Open(_) => std::mem::replace(slot, Slot::Closed),
                _ => Slot::Closed,
            }
        };
        drop(taken);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn the_owner_and_other_threads_are_serialized() {
        for _ in 0..20 {
            let handle = Arc::new(BiasedHandle::new("counter", 0u64));
            // The main thread becomes the owner and keeps calling while
            // three others revoke the bias and call too.
            handle.with(|n| Ok(*n += 1)).unwrap();
            let others: Vec<_> = (0..3)
                .map(|_| {
                    let h = Arc::clone(&handle);
                    std::thread::spawn(move || {
                        for _ in 0..2000 {
                            h.with(|n| {
                                let v = *n;
                                std::hint::black_box(());
                                *n = v + 1;
                                Ok(())
                            })
                            .unwrap();
                        }
                    })
                })
                .collect();
            for _ in 0..2000 {
                handle
                    .with(|n| {
                        let v = *n;
                        std::hint::black_box(());
                        *n = v + 1;
                        Ok(())
                    })
                    .unwrap();
            }
            for t in others {
                t.join().unwrap();
            }
            assert_eq!(handle.with(|n| Ok(*n)).unwrap(), 1 + 4 * 2000);
        }
    }

    #[test]
    fn close_from_another_thread_waits_for_the_owner_and_refuses_later_calls() {
        let handle = Arc::new(BiasedHandle::new("ring", 0u32));
        handle.with(|_| Ok(())).unwrap(); // biased to this thread
        let inside = Arc::new(AtomicBool::new(false));
        let (h, flag) = (Arc::clone(&handle), Arc::clone(&inside));
        let closer = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                std::thread::yield_now();
            }
            h.close();
        });
        let value = handle
            .with(|v| {
                inside.store(true, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(50));
                *v = 7;
                Ok(*v)
            })
            .unwrap();
        assert_eq!(value, 7);
        closer.join().unwrap();
        let err = handle.with(|v| Ok(*v)).unwrap_err();
        assert_eq!((err.kind, err.message.as_str()), (ErrorKind::Closed, "ring: is closed"));
        handle.close();
    }

    #[test]
    fn threads_have_distinct_tokens_and_linux_offers_membarrier() {
        let here = thread_token();
        let there = std::thread::spawn(thread_token).join().unwrap();
        assert_ne!(here, 0);
        assert_ne!(here, there);
        assert_eq!(here, thread_token());
        #[cfg(target_os = "linux")]
        assert!(membarrier_available(), "no membarrier: rings fall back to the mutex path");
    }

    #[test]
    fn with_owner_runs_only_for_the_owner_of_an_open_biased_handle() {
        let handle = Arc::new(BiasedHandle::new("ring", 5u32));
        // Nobody owns it yet: the first call must go through `with`.
        assert_eq!(handle.with_owner(|v| *v), None);
        handle.with(|v| Ok(*v += 1)).unwrap();
        assert_eq!(handle.with_owner(|v| *v), Some(6));
        let h = Arc::clone(&handle);
        assert_eq!(std::thread::spawn(move || h.with_owner(|v| *v)).join().unwrap(), None);
        handle.close();
        assert_eq!(handle.with_owner(|v| *v), None);

        // A panic on the owner's fast path disables the handle too.
        let handle = BiasedHandle::new("ring", 0u32);
        handle.with(|_| Ok(())).unwrap();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            handle.with_owner(|_| -> u32 { panic!("injected") });
        }));
        assert!(caught.is_err());
        assert_eq!(handle.with_owner(|v| *v), None);
        let err = handle.with(|v| Ok(*v)).unwrap_err();
        assert!(err.message.contains("internal error"), "{}", err.message);
    }

    /// The owner stays on its fast path while other threads revoke the bias
    /// and close the handle: no call sees the object after close, and every
    /// increment made is counted once.
    #[test]
    fn with_owner_and_close_from_another_thread_never_overlap() {
        for _ in 0..20 {
            let handle = Arc::new(BiasedHandle::new("counter", 0u64));
            handle.with(|_| Ok(())).unwrap();
            let done = Arc::new(AtomicUsize::new(0));
            let (h, d) = (Arc::clone(&handle), Arc::clone(&done));
            let closer = std::thread::spawn(move || {
                while d.load(Ordering::SeqCst) < 500 {
                    std::thread::yield_now();
                }
                h.close();
            });
            let mut counted = 0u64;
            loop {
                let fast = handle.with_owner(|n| {
                    *n += 1;
                    *n
                });
                let result = match fast {
                    Some(n) => Ok(n),
                    None => handle.with(|n| {
                        *n += 1;
                        Ok(*n)
                    }),
                };
                match result {
                    Ok(n) => {
                        counted += 1;
                        assert_eq!(n, counted);
                        done.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(err) => {
                        assert_eq!(err.kind, ErrorKind::Closed);
                        break;
                    }
                }
            }
            closer.join().unwrap();
            assert!(counted >= 500);
        }
    }

    #[test]
    fn a_panic_on_either_path_disables_the_handle() {
        for owner_path in [true, false] {
            let handle = Arc::new(BiasedHandle::new("ring", 1.0f64));
            if owner_path {
                handle.with(|_| Ok(())).unwrap();
            }
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _ = handle.with(|_| -> Result<()> { panic!("injected") });
            }));
            assert!(caught.is_err());
            let err = handle.with(|v| Ok(*v)).unwrap_err();
            assert!(err.message.contains("internal error"), "{}", err.message);
        }
    }
}
