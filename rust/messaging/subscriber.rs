//! The subscribing side: exact topics, decoding, and counting what is refused.

use prost::Message as _;

use super::context::{
    check_endpoint, check_hwm, endpoint_error, wait_readable, zmq_error, CancelFlag, ContextLease, Deadline,
};
use super::proto;
use super::topics::{kind_of_topic, TopicFilter};
use super::{check_names, Kind, Message};
use crate::error::{Error, ErrorKind, Result};

/// What a subscriber has refused or passed over so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriberStats {
    /// Messages refused: a payload that does not decode, an empty payload, a
    /// topic pyrt does not know, a message without exactly two frames.
    pub decode_errors: u64,
    /// Valid messages other than ticks that `receive_ticks` passed over.
    pub skipped: u64,
    /// Messages larger than the maximum message size, dropped unread.
    pub oversized: u64,
    /// Why the latest refused message was refused ("" if none was).
    pub last_error: String,
}

/// The default largest message (topic and payload together) a subscriber
/// takes, in bytes: 1 MiB, far above any pyrt message.
pub(crate) const DEFAULT_MAX_MESSAGE_SIZE: usize = 1 << 20;

/// Receives the messages of the topics it was given, decoded.
///
/// It connects to a publisher's endpoint. ZeroMQ filters by byte prefix; this
/// subscriber delivers exactly the topics asked for (see `TopicFilter`): a
/// topic ending in `.` or `*` is a prefix, any other topic is matched exactly.
///
/// Nothing a peer sends can make it fail: a refused message is counted in
/// `stats().decode_errors`, its reason kept in `stats().last_error`, and
/// logged to stderr when the count reaches 1, 2, 4, 8, ... (so a flood of
/// garbage costs a few lines, not one per message).
pub struct Subscriber {
    socket: zmq::Socket,
    filter: TopicFilter,
    topic: zmq::Message,
    payload: zmq::Message,
    tick: proto::MarketTick,
    stats: SubscriberStats,
    max_message_size: usize,
    cancel: CancelFlag,
    _lease: ContextLease,
}

impl Subscriber {
    /// Connects to `endpoint` and subscribes to `topics`. `rcvhwm` is the
    /// number of messages queued on this side before ZeroMQ drops more
    /// (0 = no limit). Connecting succeeds before the publisher exists;
    /// ZeroMQ keeps retrying in the background.
    pub fn connect<S: AsRef<str>>(endpoint: &str, topics: &[S], rcvhwm: i32) -> Result<Subscriber> {
        check_endpoint(endpoint)?;
        check_hwm("rcvhwm", rcvhwm)?;
        let filter = TopicFilter::new(topics)?;
        let lease = ContextLease::acquire();
        let socket = lease.socket(zmq::SUB, 0)?;
        socket.set_rcvhwm(rcvhwm).map_err(|e| zmq_error("rcvhwm", e))?;
        for prefix in filter.socket_prefixes() {
            socket.set_subscribe(prefix).map_err(|e| zmq_error("subscribe", e))?;
        }
        socket.connect(endpoint).map_err(|e| endpoint_error("connect", endpoint, e))?;
        Ok(Subscriber {
            socket,
            filter,
            topic: zmq::Message::new(),
            payload: zmq::Message::new(),
            tick: proto::MarketTick::default(),
            stats: SubscriberStats::default(),
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            cancel: CancelFlag::default(),
            _lease: lease,
        })
    }

    /// Setting this flag (from any thread) ends a receive that is waiting.
    pub fn cancel_flag(&self) -> CancelFlag {
        self.cancel.clone()
    }

    pub fn stats(&self) -> &SubscriberStats {
        &self.stats
    }

    /// Messages whose topic and payload together exceed `bytes` are dropped
    /// unread and counted in `stats().oversized`; the subscriber goes on.
    ///
    /// The check is pyrt's, after libzmq has received the message, and not
    /// libzmq's own ZMQ_MAXMSGSIZE: libzmq treats an over-size frame as a
    /// protocol error and ends that connection for good (a connecting
    /// socket does not reconnect after a protocol error), so one large
    /// message would silence its publisher until the subscriber is rebuilt.
    /// What libzmq queues is bounded by `rcvhwm` messages.
    pub fn set_max_message_size(&mut self, bytes: usize) -> Result<()> {
        if bytes == 0 {
            return Err(Error::invalid("max_message_size", "must be at least 1 byte"));
        }
        self.max_message_size = bytes;
        Ok(())
    }

    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// The next message of a subscribed topic, or None when none arrived
    /// within `timeout_ms` (-1 waits forever; 0 only takes what is queued).
    pub fn receive(&mut self, timeout_ms: i32) -> Result<Option<Message>> {
        let deadline = Deadline::after_ms(timeout_ms)?;
        loop {
            if !self.next_frames(&deadline, true)? {
                return Ok(None);
            }
            let decoded = match kind_of_topic(&self.topic) {
                Some(kind) => Message::decode(kind, &self.payload),
                None => Err(self.unknown_topic()),
            };
            match decoded {
                Ok(message) => return Ok(Some(message)),
                Err(error) => self.refuse(error.message),
            }
        }
    }

    /// Up to `max` ticks, each handed to `sink`: waits at most `timeout_ms`
    /// for the first one, then takes only what is already queued, so a call
    /// returns as soon as the queue is drained. Valid messages of other kinds
    /// are passed over and counted in `stats().skipped`: a subscriber read in
    /// batches should subscribe to `market.` topics only. Returns the count.
    pub fn receive_ticks<F: FnMut(&proto::MarketTick)>(
        &mut self,
        max: usize,
        timeout_ms: i32,
        mut sink: F,
    ) -> Result<usize> {
        let deadline = Deadline::after_ms(timeout_ms)?;
        let mut received = 0;
        while received < max {
            if !self.next_frames(&deadline, received == 0)? {
                break;
            }
            match kind_of_topic(&self.topic) {
                Some(Kind::MarketData) => match self.decode_tick() {
                    Ok(()) => {
                        sink(&self.tick);
                        received += 1;
                    }
                    Err(error) => self.refuse(error.message),
                },
                Some(_) => self.stats.skipped += 1,
                None => {
                    let error = self.unknown_topic();
                    self.refuse(error.message);
                }
            }
        }
        Ok(received)
    }

    /// Decodes the current payload into the reused tick, so its strings keep
    /// their allocations from one tick to the next.
    fn decode_tick(&mut self) -> Result<()> {
        if self.payload.is_empty() {
            return Err(Error::new(ErrorKind::Decode, "payload: empty frame"));
        }
        self.tick.clear();
        self.tick
            .merge(&self.payload[..])
            .map_err(|e| Error::new(ErrorKind::Decode, format!("payload: not a valid market_data message: {e}")))?;
        check_names(&[("symbol", &self.tick.symbol), ("exchange", &self.tick.exchange)], ErrorKind::Decode)
    }

    fn unknown_topic(&self) -> Error {
        let shown = String::from_utf8_lossy(&self.topic);
        Error::new(ErrorKind::Decode, format!("topic: unknown topic {shown:?}"))
    }

    /// Reads the next two-frame message of a subscribed topic into `topic`
    /// and `payload`. Waits for the first frame only when `wait` is set (and
    /// at most until the deadline); false when nothing came.
    fn next_frames(&mut self, deadline: &Deadline, wait: bool) -> Result<bool> {
        loop {
            match self.socket.recv(&mut self.topic, zmq::DONTWAIT) {
                Ok(()) => {}
                Err(zmq::Error::EAGAIN) => {
                    if wait && wait_readable(&self.socket, deadline, &self.cancel)? {
                        continue;
                    }
                    return Ok(false);
                }
                Err(zmq::Error::EINTR) => return Ok(false),
                Err(e) => return Err(zmq_error("receive", e)),
            }
            if !self.topic.get_more() {
                self.refuse("frames: a message of 1 frame, expected 2 [topic, payload]".to_string());
                continue;
            }
            // ZeroMQ delivers the frames of a message together: the rest is there.
            self.socket.recv(&mut self.payload, 0).map_err(|e| zmq_error("receive", e))?;
            if self.payload.get_more() {
                let mut frames = 2;
                let mut extra = zmq::Message::new();
                loop {
                    self.socket.recv(&mut extra, 0).map_err(|e| zmq_error("receive", e))?;
                    frames += 1;
                    if !extra.get_more() {
                        break;
                    }
                }
                self.refuse(format!("frames: a message of {frames} frames, expected 2 [topic, payload]"));
                continue;
            }
            // The socket matched a prefix; only exact subscriptions count.
            if !self.filter.matches(&self.topic) {
                continue;
            }
            let size = self.topic.len() + self.payload.len();
            if size > self.max_message_size {
                self.stats.oversized += 1;
                self.stats.last_error =
                    format!("size: a message of {size} bytes, larger than max_message_size ({})", self.max_message_size);
                // Released now, not when the next message reuses the buffer.
                self.payload = zmq::Message::new();
                continue;
            }
            return Ok(true);
        }
    }

    fn refuse(&mut self, reason: String) {
        self.stats.decode_errors += 1;
        let count = self.stats.decode_errors;
        if count.is_power_of_two() {
            eprintln!("pyrt: subscriber refused {count} message(s) so far; latest: {reason}");
        }
        self.stats.last_error = reason;
    }
}

impl std::fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber").field("filter", &self.filter).field("stats", &self.stats).finish_non_exhaustive()
    }
}
