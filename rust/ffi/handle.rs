//! The one discipline every opaque handle follows, whatever it wraps (a
//! streaming indicator, a ring, a socket, a position).
//!
//! A `Handle<T>` owns its object behind a mutex:
//! - every call on the handle runs with the lock held, so calls from several
//!   threads are serialized and each sees the object as some serial order
//!   left it (no torn ring records, no lost position updates);
//! - `pyrt_<thing>_close` takes the lock (so it waits for an in-flight call to
//!   finish), drops the object and leaves an empty slot; every later call
//!   fails with `PYRT_CLOSED`. Closing twice is a no-op;
//! - `pyrt_<thing>_free` closes, then releases the handle's own memory. Only
//!   that last step is unsafe to race with other calls: a binding calls
//!   `_close` from user code (`close()`, `with`) and `_free` only once
//!   nothing can reach the handle any more (its finalizer);
//! - a panic inside a call (a bug in pyrt) is caught at the boundary; the
//!   object it left half-updated is dropped and the handle reports
//!   `PYRT_CLOSED` from then on, rather than serving a broken state.
//!
//! The lock is an uncontended `std::sync::Mutex` in the common case: one
//! atomic exchange to take it and one to release it, a few nanoseconds
//! against the tens of nanoseconds a cffi call costs.

use std::sync::{Mutex, MutexGuard};

use crate::error::{Error, ErrorKind, Result};

pub struct Handle<T> {
    /// What the handle is, for messages ("stream", "ring", ...).
    what: &'static str,
    slot: Mutex<Slot<T>>,
}

enum Slot<T> {
    Open(T),
    Closed,
    /// Dropped after a panic inside a call.
    Broken,
}

impl<T> Handle<T> {
    pub fn new(what: &'static str, value: T) -> Self {
        Handle { what, slot: Mutex::new(Slot::Open(value)) }
    }

    fn lock(&self) -> MutexGuard<'_, Slot<T>> {
        match self.slot.lock() {
            Ok(guard) => guard,
            Err(poisoned) => {
                // A call panicked while holding the lock: its object may be
                // half-updated, so it is not served again.
                let mut guard = poisoned.into_inner();
                *guard = Slot::Broken;
                self.slot.clear_poison();
                guard
            }
        }
    }

    fn closed_error(&self, slot: &Slot<T>) -> Error {
        let why = match slot {
            Slot::Broken => "was disabled by an internal error in an earlier call",
            _ => "is closed",
        };
        Error::new(ErrorKind::Closed, format!("{}: {why}", self.what))
    }

    /// Runs `f` on the live object, serialized with every other call on
    /// this handle; a `PYRT_CLOSED` error once the handle is closed.
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> Result<R>) -> Result<R> {
        let mut guard = self.lock();
        match &mut *guard {
            Slot::Open(value) => f(value),
            other => Err(self.closed_error(other)),
        }
    }

    /// Drops the object, after any call in flight on another thread has
    /// returned. Idempotent.
    pub fn close(&self) {
        let taken = std::mem::replace(&mut *self.lock(), Slot::Closed);
        // Dropped outside the lock: a slow drop (a socket linger, an unmap)
        // does not hold up a thread that is about to read "closed".
        drop(taken);
    }

    /// Whether `close` has been called (or a panic disabled the handle).
    pub fn is_closed(&self) -> bool {
        !matches!(*self.lock(), Slot::Open(_))
    }
}

/// The body of every `pyrt_<thing>_close`: NULL is a no-op, a panic is
/// swallowed (recorded as the last error), never unwound into C.
///
/// # Safety
/// `ptr` must be NULL or a live handle (not yet freed).
pub unsafe fn close_handle<T>(ptr: *const T, close: impl FnOnce(&T)) {
    if let Some(handle) = ptr.as_ref() {
        super::boundary::run_guarded_void(|| close(handle));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn calls_are_serialized_across_threads() {
        let handle = Arc::new(Handle::new("counter", 0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let h = Arc::clone(&handle);
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        h.with(|n| {
                            // A read-modify-write that loses updates unless serialized.
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
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(handle.with(|n| Ok(*n)).unwrap(), 40_000);
    }

    #[test]
    fn a_closed_handle_refuses_calls() {
        let handle = Handle::new("ring", vec![1, 2, 3]);
        handle.close();
        handle.close();
        let err = handle.with(|v| Ok(v.len())).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Closed);
        assert_eq!(err.message, "ring: is closed");
        assert!(handle.is_closed());
    }

    #[test]
    fn a_panic_inside_a_call_disables_the_handle() {
        let handle = Handle::new("stream", 1.0f64);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = handle.with(|_| -> Result<()> { panic!("injected") });
        }));
        assert!(caught.is_err());
        let err = handle.with(|v| Ok(*v)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Closed);
        assert!(err.message.contains("internal error"), "{}", err.message);
    }

    #[test]
    fn close_waits_for_a_call_in_flight() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let handle = Arc::new(Handle::new("slow", 0u32));
        let inside = Arc::new(AtomicBool::new(false));
        let (h, flag) = (Arc::clone(&handle), Arc::clone(&inside));
        let worker = std::thread::spawn(move || {
            h.with(|v| {
                flag.store(true, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(50));
                *v = 7;
                Ok(*v)
            })
        });
        while !inside.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
        handle.close();
        assert_eq!(worker.join().unwrap().unwrap(), 7);
        assert!(handle.is_closed());
    }
}
