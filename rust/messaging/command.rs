//! The command channel: a strategy (CommandSender, REQ) tells the engine
//! (CommandReceiver, REP) what to do, and every command is acknowledged.
//!
//! A request is one frame: a protobuf `Command` (type, JSON payload,
//! timestamp_us set by the sender). The acknowledgement is one frame: a
//! `Command` echoing the request's type and timestamp_us, with the payload
//! `{"status": "ok"}` ([`ACK_OK`]). A request the receiver cannot decode is
//! answered with timestamp_us 0 and `{"status": "error", "reason": "..."}`,
//! which the sender raises as an error. An acknowledgement means the command
//! arrived and was decoded, not that the engine has carried it out.

use std::time::Duration;

use prost::Message as _;

use super::context::{
    check_endpoint, endpoint_error, last_endpoint, receive_within, zmq_error, CancelFlag, ContextLease, Deadline,
    ACK_SPIN,
};
use super::proto::{self, command};
use super::{check_no_nul, now_us};
use crate::error::{Error, ErrorKind, Result};

/// The largest request a receiver decodes, in bytes (1 MiB, as a
/// subscriber's default maximum message size); a larger one is answered with
/// an error.
pub(crate) const MAX_REQUEST_SIZE: usize = 1 << 20;

/// The payload of a positive acknowledgement.
pub const ACK_OK: &str = "{\"status\": \"ok\"}";

/// Sends commands and waits for each acknowledgement.
///
/// REQ sockets allow one request at a time and wedge if a reply never comes;
/// after a timeout the sender therefore closes its socket (dropping the
/// unanswered request) and opens a fresh one, so the next `send` works.
pub struct CommandSender {
    endpoint: String,
    socket: zmq::Socket,
    buffer: Vec<u8>,
    cancel: CancelFlag,
    lease: ContextLease,
}

impl CommandSender {
    /// Connects to a CommandReceiver's endpoint. Succeeds before the receiver
    /// exists; ZeroMQ connects in the background.
    pub fn connect(endpoint: &str) -> Result<CommandSender> {
        check_endpoint(endpoint)?;
        let lease = ContextLease::acquire();
        let socket = Self::open(&lease, endpoint)?;
        Ok(CommandSender { endpoint: endpoint.to_string(), socket, buffer: Vec::new(), cancel: CancelFlag::default(), lease })
    }

    /// Setting this flag (from any thread) ends a send waiting for its acknowledgement.
    pub fn cancel_flag(&self) -> CancelFlag {
        self.cancel.clone()
    }

    /// A REQ socket with linger 0: an unanswered request is dropped with it.
    fn open(lease: &ContextLease, endpoint: &str) -> Result<zmq::Socket> {
        let socket = lease.socket(zmq::REQ, 0)?;
        socket.connect(endpoint).map_err(|e| endpoint_error("connect", endpoint, e))?;
        Ok(socket)
    }

    /// Sends a command of `command_type` (0 START_TRADING .. 4 RELOAD_MODEL)
    /// with a JSON `payload`, and waits at most `timeout_ms` (-1 = forever)
    /// for its acknowledgement, which it returns. No acknowledgement in time
    /// is `ErrorKind::Timeout`; a refusal by the receiver is `ErrorKind::Messaging`.
    /// While it waits it polls for up to `ACK_SPIN` (200 µs), yielding the
    /// CPU between polls, before it sleeps (see `context::receive_within`).
    pub fn send(&mut self, command_type: i32, payload: &str, timeout_ms: i32) -> Result<proto::Command> {
        command::Type::try_from(command_type).map_err(|_| {
            Error::invalid("type", format!("must be 0 (START_TRADING) to 4 (RELOAD_MODEL), got {command_type}"))
        })?;
        check_no_nul(&[("payload", payload)], ErrorKind::InvalidArgument)?;
        if payload.len() > MAX_REQUEST_SIZE - 64 {
            return Err(Error::invalid("payload", format!("{} bytes, more than a receiver takes", payload.len())));
        }
        let deadline = Deadline::after_ms(timeout_ms)?;
        let request = proto::Command { r#type: command_type, payload: payload.to_string(), timestamp_us: now_us() };
        self.buffer.clear();
        request.encode(&mut self.buffer).map_err(|e| Error::new(ErrorKind::Internal, format!("encode: {e}")))?;
        if let Err(e) = self.socket.send(&self.buffer[..], zmq::DONTWAIT) {
            self.reopen()?;
            return Err(zmq_error("send", e));
        }
        let frames = match receive_within(&self.socket, &deadline, &self.cancel, ACK_SPIN) {
            Ok(Some(frames)) => frames,
            answered => {
                // The REQ socket still expects the reply: start afresh.
                self.reopen()?;
                answered?;
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!("send: no acknowledgement from {} within {timeout_ms} ms", self.endpoint),
                ));
            }
        };
        let ack = match frames.as_slice() {
            [frame] => proto::Command::decode(&frame[..]).ok(),
            _ => None,
        };
        match ack {
            Some(ack) if ack.payload == ACK_OK && ack.timestamp_us == request.timestamp_us && ack.r#type == command_type => {
                Ok(ack)
            }
            Some(ack) if ack.payload != ACK_OK => {
                Err(Error::new(ErrorKind::Messaging, format!("send: the receiver refused the command: {}", ack.payload)))
            }
            _ => Err(Error::new(ErrorKind::Messaging, "send: the acknowledgement does not match the command")),
        }
    }

    fn reopen(&mut self) -> Result<()> {
        self.socket = Self::open(&self.lease, &self.endpoint)?;
        Ok(())
    }
}

/// Receives commands and acknowledges each one as it is received.
pub struct CommandReceiver {
    socket: zmq::Socket,
    buffer: Vec<u8>,
    decode_errors: u64,
    last_error: String,
    cancel: CancelFlag,
    _lease: ContextLease,
}

/// How long, after the receiver is closed, its last acknowledgement may still
/// be delivered (see `context`).
const RECEIVER_LINGER_MS: i32 = 1000;

impl CommandReceiver {
    /// Binds to `endpoint` (`tcp://127.0.0.1:*` picks a free port; see
    /// `last_endpoint`).
    pub fn bind(endpoint: &str) -> Result<CommandReceiver> {
        check_endpoint(endpoint)?;
        let lease = ContextLease::acquire();
        let socket = lease.socket(zmq::REP, RECEIVER_LINGER_MS)?;
        socket.bind(endpoint).map_err(|e| endpoint_error("bind", endpoint, e))?;
        Ok(CommandReceiver {
            socket,
            buffer: Vec::new(),
            decode_errors: 0,
            last_error: String::new(),
            cancel: CancelFlag::default(),
            _lease: lease,
        })
    }

    pub fn last_endpoint(&self) -> Result<String> {
        last_endpoint(&self.socket)
    }

    /// Setting this flag (from any thread) ends a receive that is waiting.
    pub fn cancel_flag(&self) -> CancelFlag {
        self.cancel.clone()
    }

    /// Requests that did not decode (each answered with an error acknowledgement).
    pub fn decode_errors(&self) -> u64 {
        self.decode_errors
    }

    pub fn last_error(&self) -> &str {
        &self.last_error
    }

    /// The next command, already acknowledged, or None when none arrived
    /// within `timeout_ms` (-1 waits forever).
    pub fn receive(&mut self, timeout_ms: i32) -> Result<Option<proto::Command>> {
        let deadline = Deadline::after_ms(timeout_ms)?;
        loop {
            // No spinning here: a receiver may wait a long time for the next
            // command, and one polling beside a spinning sender on a small
            // machine would take the CPU the I/O threads need.
            let Some(frames) = receive_within(&self.socket, &deadline, &self.cancel, Duration::ZERO)? else {
                return Ok(None);
            };
            match decode_request(&frames) {
                Ok(request) => {
                    let ack = proto::Command {
                        r#type: request.r#type,
                        payload: ACK_OK.to_string(),
                        timestamp_us: request.timestamp_us,
                    };
                    self.reply(&ack)?;
                    return Ok(Some(request));
                }
                Err(reason) => {
                    self.decode_errors += 1;
                    let refusal = proto::Command {
                        r#type: 0,
                        payload: format!("{{\"status\": \"error\", \"reason\": \"{}\"}}", json_escape(&reason)),
                        timestamp_us: 0,
                    };
                    self.last_error = reason;
                    self.reply(&refusal)?;
                }
            }
        }
    }

    fn reply(&mut self, ack: &proto::Command) -> Result<()> {
        self.buffer.clear();
        ack.encode(&mut self.buffer).map_err(|e| Error::new(ErrorKind::Internal, format!("encode: {e}")))?;
        self.socket.send(&self.buffer[..], 0).map_err(|e| zmq_error("acknowledge", e))
    }
}

/// Decodes a one-frame command request exactly as a receiver does, refusing
/// what the receiver refuses (for fuzzing and for tests of peers).
pub fn decode_command(frame: &[u8]) -> Result<proto::Command> {
    decode_request(&[frame.to_vec()]).map_err(|reason| Error::new(ErrorKind::Decode, reason))
}

fn decode_request(frames: &[Vec<u8>]) -> std::result::Result<proto::Command, String> {
    let [frame] = frames else {
        return Err(format!("frames: a request of {} frames, expected 1", frames.len()));
    };
    if frame.is_empty() {
        return Err("payload: empty frame".to_string());
    }
    if frame.len() > MAX_REQUEST_SIZE {
        return Err(format!("size: a request of {} bytes, larger than {MAX_REQUEST_SIZE}", frame.len()));
    }
    let request = proto::Command::decode(&frame[..]).map_err(|e| format!("payload: not a valid Command: {e}"))?;
    // An acknowledgement "ok" for a type the engine does not know would say
    // a command was understood when it was not.
    if command::Type::try_from(request.r#type).is_err() {
        return Err(format!("type: unknown command type {} (0 START_TRADING to 4 RELOAD_MODEL)", request.r#type));
    }
    check_no_nul(&[("payload", &request.payload)], ErrorKind::Decode).map_err(|e| e.message)?;
    Ok(request)
}

fn json_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

impl std::fmt::Debug for CommandSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandSender").field("endpoint", &self.endpoint).finish_non_exhaustive()
    }
}

impl std::fmt::Debug for CommandReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandReceiver").field("decode_errors", &self.decode_errors).finish_non_exhaustive()
    }
}
