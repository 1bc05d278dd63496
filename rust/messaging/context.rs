//! The ZeroMQ context pyrt's sockets share, and the small helpers every
//! socket needs.
//!
//! All live pyrt objects share one context (one I/O thread). Each holds a
//! [`ContextLease`]; when the last one is closed, the context is terminated,
//! which lets the I/O thread deliver what is still queued (an acknowledgement
//! just sent, the last ticks published) for at most each socket's linger
//! before the call returns. So a program that closes its pyrt objects before
//! exiting loses nothing it sent; one that exits with objects still open may
//! lose what was queued, as with any ZeroMQ program that skips zmq_ctx_term.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};

struct Shared {
    context: Option<zmq::Context>,
    leases: usize,
}

static SHARED: Mutex<Shared> = Mutex::new(Shared { context: None, leases: 0 });

/// A share of the process-wide context, held by every publisher, subscriber,
/// sender and receiver for as long as it lives.
pub(crate) struct ContextLease {
    context: zmq::Context,
}

impl ContextLease {
    pub(crate) fn acquire() -> ContextLease {
        let mut shared = SHARED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        shared.leases += 1;
        let context = shared.context.get_or_insert_with(zmq::Context::new).clone();
        ContextLease { context }
    }

    /// A new socket of `kind` with `linger_ms` set: how long, once it is
    /// closed, the I/O thread keeps trying to deliver what is queued.
    pub(crate) fn socket(&self, kind: zmq::SocketType, linger_ms: i32) -> Result<zmq::Socket> {
        let socket = self.context.socket(kind).map_err(|e| zmq_error("socket", e))?;
        socket.set_linger(linger_ms).map_err(|e| zmq_error("linger", e))?;
        Ok(socket)
    }
}

impl Drop for ContextLease {
    /// The last lease gives up the shared context; the zmq crate terminates it
    /// once the last socket using it is closed (sockets hold references too).
    fn drop(&mut self) {
        let mut shared = SHARED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        shared.leases -= 1;
        if shared.leases == 0 {
            shared.context = None;
        }
    }
}

/// A ZeroMQ failure, named after what was being done.
pub(crate) fn zmq_error(what: &str, err: zmq::Error) -> Error {
    Error::new(ErrorKind::Messaging, format!("{what}: {err}"))
}

pub(crate) fn check_hwm(name: &str, hwm: i32) -> Result<()> {
    if hwm < 0 {
        return Err(Error::invalid(name, format!("must be >= 0 (0 = unlimited), got {hwm}")));
    }
    Ok(())
}

/// Refuses an endpoint libzmq would misread: a port it would wrap modulo
/// 65536 (`tcp://127.0.0.1:99999` binds port 34463), a transport pyrt does
/// not speak, an ipc path longer than a Unix socket address holds.
pub(crate) fn check_endpoint(endpoint: &str) -> Result<()> {
    let bad = |reason: String| Err(Error::invalid("endpoint", format!("{endpoint:?}: {reason}")));
    if endpoint.is_empty() {
        return Err(Error::invalid("endpoint", "must not be empty"));
    }
    if endpoint.len() > super::MAX_NAME_LEN {
        return Err(Error::invalid(
            "endpoint",
            format!("{} bytes, longer than the limit of {}", endpoint.len(), super::MAX_NAME_LEN),
        ));
    }
    if endpoint.as_bytes().contains(&0) {
        return Err(Error::invalid("endpoint", "must not contain a NUL character"));
    }
    let Some((transport, address)) = endpoint.split_once("://") else {
        return bad("expected transport://address, e.g. tcp://127.0.0.1:5555".to_string());
    };
    if address.is_empty() {
        return bad("the address after :// is empty".to_string());
    }
    match transport {
        "tcp" => check_tcp_address(address).or_else(bad),
        // sockaddr_un.sun_path holds 107 bytes and the terminating NUL.
        "ipc" if address.len() > 107 => bad(format!("an ipc path of {} bytes is longer than 107", address.len())),
        "ipc" | "inproc" => Ok(()),
        other => bad(format!("transport {other:?} is not supported (tcp, ipc or inproc)")),
    }
}

/// `host:port`, `[v6]:port` or `source;host:port`; the port is `*` or 0..=65535.
fn check_tcp_address(address: &str) -> std::result::Result<(), String> {
    let target = address.rsplit(';').next().unwrap_or(address);
    let Some((host, port)) = target.rsplit_once(':') else {
        return Err("a tcp address needs host:port".to_string());
    };
    if host.is_empty() {
        return Err("a tcp address needs a host before the port".to_string());
    }
    if port == "*" {
        return Ok(());
    }
    let in_range = !port.is_empty()
        && port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u32>().is_ok_and(|p| p <= 65535);
    if in_range {
        Ok(())
    } else {
        Err(format!("port {port:?} is not a number from 0 to 65535 (or * for any free port)"))
    }
}

/// A bind/connect failure names the endpoint, which is what the user typed.
/// A malformed endpoint is the caller's argument at fault; an address in use
/// or unreachable is a messaging failure.
pub(crate) fn endpoint_error(verb: &str, endpoint: &str, err: zmq::Error) -> Error {
    let kind = match err {
        zmq::Error::EINVAL | zmq::Error::EPROTONOSUPPORT | zmq::Error::ENOCOMPATPROTO => ErrorKind::InvalidArgument,
        _ => ErrorKind::Messaging,
    };
    Error::new(kind, format!("endpoint: cannot {verb} {endpoint:?}: {err}"))
}

/// The endpoint a socket is bound to, with any `*` port resolved.
pub(crate) fn last_endpoint(socket: &zmq::Socket) -> Result<String> {
    match socket.get_last_endpoint().map_err(|e| zmq_error("last_endpoint", e))? {
        Ok(text) => Ok(text),
        Err(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

/// A timeout in milliseconds as pyrt takes it: -1 waits forever, 0 does not wait.
#[derive(Clone, Copy)]
pub(crate) struct Deadline(Option<Instant>);

impl Deadline {
    pub(crate) fn after_ms(timeout_ms: i32) -> Result<Deadline> {
        match timeout_ms {
            -1 => Ok(Deadline(None)),
            t if t >= 0 => Ok(Deadline(Some(Instant::now() + Duration::from_millis(t as u64)))),
            t => Err(Error::invalid("timeout_ms", format!("must be >= 0, or -1 to wait forever, got {t}"))),
        }
    }

    /// What is left, as zmq_poll's timeout (-1 = forever, 0 = expired).
    pub(crate) fn remaining_ms(&self) -> i64 {
        match self.0 {
            None => -1,
            Some(at) => {
                let left = at.saturating_duration_since(Instant::now());
                // Round up so a poll never returns just before the deadline.
                left.as_micros().div_ceil(1000) as i64
            }
        }
    }

    pub(crate) fn expired(&self) -> bool {
        self.0.is_some_and(|at| Instant::now() >= at)
    }
}

/// How often a blocking wait looks at its cancel flag: the longest a
/// `close()` from another thread waits for a receive that has nothing to read.
pub(crate) const CANCEL_CHECK_MS: i64 = 50;

/// Set by the C layer's `_close` (from any thread) to end a wait in progress
/// on the object: the wait returns `ErrorKind::Closed` within
/// [`CANCEL_CHECK_MS`], so a `receive(-1)` cannot hold up a close for ever.
pub type CancelFlag = Arc<AtomicBool>;

pub(crate) fn cancelled(flag: &AtomicBool) -> Result<()> {
    if flag.load(Ordering::Relaxed) {
        return Err(Error::new(ErrorKind::Closed, "closed by another thread while waiting"));
    }
    Ok(())
}

/// The next poll timeout: what is left of the deadline, at most one cancel check.
pub(crate) fn poll_slice(deadline: &Deadline) -> i64 {
    match deadline.remaining_ms() {
        -1 => CANCEL_CHECK_MS,
        left => left.min(CANCEL_CHECK_MS),
    }
}

/// How long a command sender waiting for its acknowledgement keeps polling
/// before it sleeps (see [`receive_within`]).
pub(crate) const ACK_SPIN: Duration = Duration::from_micros(200);

/// The next message on `socket` (all its frames), waiting until the deadline;
/// None when nothing came in time or a signal interrupted the wait. Ends with
/// `ErrorKind::Closed` once `cancel` is set.
///
/// For up to `spin` it polls without blocking, yielding the CPU to any other
/// runnable thread between polls; then it sleeps inside libzmq's own blocking
/// receive, bounded by ZMQ_RCVTIMEO in slices of at most [`CANCEL_CHECK_MS`].
///
/// Why spin: a request/reply round trip over tcp wakes six sleeping threads
/// (each end's own and its I/O thread, twice). On a machine whose CPUs are
/// idle, a wake-up that lands on a halted CPU costs it a wake from idle (an
/// interrupt to another CPU; on a virtual machine, an exit to the host); a
/// caller that polls while its reply is a few tens of microseconds away keeps
/// its CPU awake and the last wake-up never happens. Yielding between polls
/// hands the CPU to whatever else is runnable, so a busy machine loses little.
///
/// Why a blocking receive after that rather than zmq_poll then a receive:
/// zmq_poll makes a non-blocking pass and reads ZMQ_EVENTS before and after
/// its blocking poll, and the receive then looks at the command mailbox
/// again: two to three system calls more per message.
pub(crate) fn receive_within(
    socket: &zmq::Socket,
    deadline: &Deadline,
    cancel: &AtomicBool,
    spin: Duration,
) -> Result<Option<Vec<Vec<u8>>>> {
    if !spin.is_zero() {
        if let Some(frames) = receive_polling(socket, deadline, cancel, spin)? {
            return Ok(Some(frames));
        }
    }
    loop {
        cancelled(cancel)?;
        // poll_slice is at most CANCEL_CHECK_MS, so it fits an i32; 0 (the
        // deadline has passed) makes the receive take only what is queued.
        let slice = poll_slice(deadline) as i32;
        socket.set_rcvtimeo(slice).map_err(|e| zmq_error("rcvtimeo", e))?;
        match socket.recv_multipart(0) {
            Ok(frames) => return Ok(Some(frames)),
            Err(zmq::Error::EAGAIN) => {
                if slice == 0 || deadline.expired() {
                    return Ok(None);
                }
            }
            // A signal (Ctrl-C in a Python host) ends the wait early, as a
            // timeout, so the host gets to run its signal handler.
            Err(zmq::Error::EINTR) => return Ok(None),
            Err(e) => return Err(zmq_error("receive", e)),
        }
    }
}

/// Polls `socket` without blocking for at most `spin` (never past the
/// deadline), yielding between polls; None when nothing came meanwhile.
fn receive_polling(
    socket: &zmq::Socket,
    deadline: &Deadline,
    cancel: &AtomicBool,
    spin: Duration,
) -> Result<Option<Vec<Vec<u8>>>> {
    let start = Instant::now();
    let until = match deadline.0 {
        Some(at) => at.min(start + spin),
        None => start + spin,
    };
    loop {
        cancelled(cancel)?;
        match socket.recv_multipart(zmq::DONTWAIT) {
            Ok(frames) => return Ok(Some(frames)),
            Err(zmq::Error::EAGAIN) => {}
            // The blocking wait that follows sees the signal too.
            Err(zmq::Error::EINTR) => return Ok(None),
            Err(e) => return Err(zmq_error("receive", e)),
        }
        if Instant::now() >= until {
            return Ok(None);
        }
        std::thread::yield_now();
    }
}

/// Waits until `socket` has something to read or the deadline passes;
/// true when it is readable. Ends with `ErrorKind::Closed` once `cancel` is set.
pub(crate) fn wait_readable(socket: &zmq::Socket, deadline: &Deadline, cancel: &AtomicBool) -> Result<bool> {
    loop {
        cancelled(cancel)?;
        match socket.poll(zmq::POLLIN, poll_slice(deadline)) {
            Ok(n) if n > 0 => return Ok(true),
            Ok(_) => {
                if deadline.expired() {
                    return Ok(false);
                }
            }
            // A signal (Ctrl-C in a Python host) ends the wait early, as a
            // timeout, so the host gets to run its signal handler.
            Err(zmq::Error::EINTR) => return Ok(false),
            Err(e) => return Err(zmq_error("poll", e)),
        }
    }
}
