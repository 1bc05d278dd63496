//! The publishing side: one bound socket, messages out as `[topic, protobuf]`.

use prost::Message as _;

use super::context::{
    cancelled, check_endpoint, check_hwm, endpoint_error, last_endpoint, poll_slice, zmq_error, CancelFlag, ContextLease,
    Deadline,
};
use super::proto::{self, order_request, trading_signal};
use super::topics::{FILLS, MARKET_PREFIX, ORDERS, POSITIONS, SIGNALS};
use super::check_names;
use crate::error::{Error, ErrorKind, Result};

/// ZeroMQ's (and pyzmq's) default high-water mark: 1000 messages per peer.
pub const DEFAULT_HWM: i32 = 1000;

/// How long, after the publisher is closed, queued messages may still be
/// delivered (see `context`: the last object closed waits at most this long).
const PUBLISHER_LINGER_MS: i32 = 1000;

/// Monitor events: a peer finished its handshake, or went away.
const EVENT_HANDSHAKE_SUCCEEDED: u16 = 0x1000;
const EVENT_DISCONNECTED: u16 = 0x0200;

/// Publishes market data, fills, positions, signals and orders.
///
/// It binds its endpoint (`tcp://127.0.0.1:5555`, or `tcp://127.0.0.1:*` for
/// a free port, read back with [`Publisher::last_endpoint`]); subscribers
/// connect. The socket is an XPUB, which behaves exactly like a PUB on the
/// wire, but also lets the publisher see subscriptions arrive, which is what
/// [`Publisher::wait_for_subscribers`] waits for.
///
/// ZeroMQ drops, silently, every message published before a subscriber has
/// connected and subscribed (the "slow joiner"), and every message that finds
/// a subscriber's queue full (`sndhwm` messages queued for that peer).
pub struct Publisher {
    socket: zmq::Socket,
    monitor: zmq::Socket,
    monitor_id: u64,
    sent_since_drain: u32,
    peers: usize,
    subscriptions: usize,
    topic: Vec<u8>,
    payload: Vec<u8>,
    cancel: CancelFlag,
    _lease: ContextLease,
}

impl Publisher {
    /// Binds a publisher to `endpoint`; `sndhwm` is the number of messages
    /// queued per subscriber before further ones are dropped (0 = no limit).
    pub fn bind(endpoint: &str, sndhwm: i32) -> Result<Publisher> {
        check_endpoint(endpoint)?;
        check_hwm("sndhwm", sndhwm)?;
        let lease = ContextLease::acquire();
        let socket = lease.socket(zmq::XPUB, PUBLISHER_LINGER_MS)?;
        socket.set_sndhwm(sndhwm).map_err(|e| zmq_error("sndhwm", e))?;
        socket.set_xpub_verbose(true).map_err(|e| zmq_error("xpub_verbose", e))?;
        // The monitor must be attached before any peer can connect, so it
        // sees every handshake.
        let monitor_id = next_monitor_id();
        let monitor_endpoint = format!("inproc://pyrt-publisher-monitor-{monitor_id}");
        socket
            .monitor(&monitor_endpoint, (EVENT_HANDSHAKE_SUCCEEDED | EVENT_DISCONNECTED) as i32)
            .map_err(|e| zmq_error("monitor", e))?;
        let monitor = lease.socket(zmq::PAIR, 0)?;
        // libzmq's I/O thread sends monitor events blocking: with a bounded
        // queue, 1000 unread events would stall every socket of the context.
        // Unbounded here (rcvhwm 0 makes the inproc pipe unbounded), and
        // drained regularly by `send`.
        monitor.set_rcvhwm(0).map_err(|e| zmq_error("monitor", e))?;
        monitor.connect(&monitor_endpoint).map_err(|e| zmq_error("monitor", e))?;
        socket.bind(endpoint).map_err(|e| endpoint_error("bind", endpoint, e))?;
        Ok(Publisher {
            socket,
            monitor,
            monitor_id,
            sent_since_drain: 0,
            peers: 0,
            subscriptions: 0,
            topic: Vec::new(),
            payload: Vec::new(),
            cancel: CancelFlag::default(),
            _lease: lease,
        })
    }

    /// The endpoint actually bound (a `*` port resolved to the real one).
    /// Setting this flag (from any thread) ends a `wait_for_subscribers` in progress.
    pub fn cancel_flag(&self) -> CancelFlag {
        self.cancel.clone()
    }

    pub fn last_endpoint(&self) -> Result<String> {
        last_endpoint(&self.socket)
    }

    /// Sends one `[topic, payload]` message. Never blocks: a message for a
    /// subscriber whose queue is full is dropped by ZeroMQ.
    fn send(&mut self, what: &str) -> Result<()> {
        self.sent_since_drain += 1;
        if self.sent_since_drain >= DRAIN_EVERY {
            self.sent_since_drain = 0;
            self.drain_events()?;
        }
        self.socket.send(&self.topic[..], zmq::SNDMORE).map_err(|e| zmq_error(what, e))?;
        self.socket.send(&self.payload[..], 0).map_err(|e| zmq_error(what, e))
    }

    fn encode<M: prost::Message>(&mut self, topic: &str, message: &M) -> Result<()> {
        self.topic.clear();
        self.topic.extend_from_slice(topic.as_bytes());
        self.payload.clear();
        message
            .encode(&mut self.payload)
            .map_err(|e| Error::new(ErrorKind::Internal, format!("encode: {e}")))
    }

    /// Publishes a tick under `market.<symbol>`.
    pub fn publish_tick(&mut self, tick: &proto::MarketTick) -> Result<()> {
        if tick.symbol.is_empty() {
            return Err(Error::invalid("symbol", "must not be empty (it names the topic market.<symbol>)"));
        }
        check_names(&[("symbol", &tick.symbol), ("exchange", &tick.exchange)], ErrorKind::InvalidArgument)?;
        self.topic.clear();
        self.topic.extend_from_slice(MARKET_PREFIX.as_bytes());
        self.topic.extend_from_slice(tick.symbol.as_bytes());
        self.payload.clear();
        tick.encode(&mut self.payload).map_err(|e| Error::new(ErrorKind::Internal, format!("encode: {e}")))?;
        self.send("publish_tick")
    }

    /// Publishes a tick given field by field, without building a MarketTick:
    /// the batch path, where each tick's strings are borrowed from a record.
    /// The bytes are exactly those prost writes for the same MarketTick.
    #[allow(clippy::too_many_arguments)]
    pub fn publish_tick_fields(
        &mut self,
        symbol: &str,
        bid: f64,
        ask: f64,
        last: f64,
        volume: f64,
        timestamp_us: i64,
        exchange: &str,
    ) -> Result<()> {
        if symbol.is_empty() {
            return Err(Error::invalid("symbol", "must not be empty (it names the topic market.<symbol>)"));
        }
        check_names(&[("symbol", symbol), ("exchange", exchange)], ErrorKind::InvalidArgument)?;
        self.topic.clear();
        self.topic.extend_from_slice(MARKET_PREFIX.as_bytes());
        self.topic.extend_from_slice(symbol.as_bytes());
        self.payload.clear();
        encode_tick_fields(&mut self.payload, symbol, [bid, ask, last, volume], timestamp_us, exchange);
        self.send("publish_tick")
    }

    /// Publishes a fill report under `fills`.
    pub fn publish_fill(&mut self, fill: &proto::FillReport) -> Result<()> {
        check_names(
            &[("order_id", &fill.order_id), ("fill_id", &fill.fill_id), ("symbol", &fill.symbol)],
            ErrorKind::InvalidArgument,
        )?;
        self.encode(FILLS, fill)?;
        self.send("publish_fill")
    }

    /// Publishes a position snapshot under `positions`.
    pub fn publish_position(&mut self, position: &proto::PositionSnapshot) -> Result<()> {
        check_names(&[("symbol", &position.symbol)], ErrorKind::InvalidArgument)?;
        self.encode(POSITIONS, position)?;
        self.send("publish_position")
    }

    /// Publishes a trading signal under `signals`.
    pub fn publish_signal(&mut self, signal: &proto::TradingSignal) -> Result<()> {
        trading_signal::Action::try_from(signal.action)
            .map_err(|_| Error::invalid("action", format!("must be 0 (NONE) to 3 (CLOSE), got {}", signal.action)))?;
        check_names(&[("strategy_id", &signal.strategy_id), ("symbol", &signal.symbol)], ErrorKind::InvalidArgument)?;
        for (key, value) in &signal.features {
            check_names(&[("features", key)], ErrorKind::InvalidArgument)?;
            if key.is_empty() {
                return Err(Error::invalid("features", "a feature name must not be empty"));
            }
            if value.is_nan() {
                return Err(Error::invalid("features", format!("{key:?} is NaN")));
            }
        }
        self.encode(SIGNALS, signal)?;
        self.send("publish_signal")
    }

    /// Publishes an order request under `orders`.
    pub fn publish_order(&mut self, order: &proto::OrderRequest) -> Result<()> {
        check_names(
            &[("order_id", &order.order_id), ("symbol", &order.symbol), ("strategy_id", &order.strategy_id)],
            ErrorKind::InvalidArgument,
        )?;
        order_request::Side::try_from(order.side)
            .map_err(|_| Error::invalid("side", format!("must be 0 (BUY) or 1 (SELL), got {}", order.side)))?;
        order_request::OrderType::try_from(order.order_type).map_err(|_| {
            Error::invalid("order_type", format!("must be 0 (MARKET) to 3 (STOP_LIMIT), got {}", order.order_type))
        })?;
        self.encode(ORDERS, order)?;
        self.send("publish_order")
    }

    /// Waits until at least `count` subscribers have connected (finished the
    /// ZeroMQ handshake) and at least `count` subscriptions have reached this
    /// publisher, so that what is published next is delivered to them.
    /// A timeout is `ErrorKind::Timeout`.
    pub fn wait_for_subscribers(&mut self, count: usize, timeout_ms: i32) -> Result<()> {
        let deadline = Deadline::after_ms(timeout_ms)?;
        loop {
            self.drain_events()?;
            if self.peers >= count && self.subscriptions >= count {
                return Ok(());
            }
            cancelled(&self.cancel)?;
            let mut items = [self.socket.as_poll_item(zmq::POLLIN), self.monitor.as_poll_item(zmq::POLLIN)];
            let ready = match zmq::poll(&mut items, poll_slice(&deadline)) {
                Ok(n) => n,
                Err(zmq::Error::EINTR) => 0,
                Err(e) => return Err(zmq_error("wait_for_subscribers", e)),
            };
            if ready == 0 && deadline.expired() {
                self.drain_events()?;
                if self.peers >= count && self.subscriptions >= count {
                    return Ok(());
                }
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "wait_for_subscribers: {} of {count} subscribers connected ({} subscriptions) within {timeout_ms} ms",
                        self.peers, self.subscriptions
                    ),
                ));
            }
        }
    }

    /// The number of subscribers currently connected, as far as this
    /// publisher has seen (updated by `wait_for_subscribers`).
    pub fn subscriber_count(&mut self) -> Result<usize> {
        self.drain_events()?;
        Ok(self.peers)
    }

    /// Reads what is pending without waiting: monitor events (peers come and
    /// go) and subscription messages (first byte 1 = subscribe, 0 = unsubscribe).
    fn drain_events(&mut self) -> Result<()> {
        loop {
            match self.monitor.recv_multipart(zmq::DONTWAIT) {
                Ok(frames) => {
                    if let Some(head) = frames.first().filter(|f| f.len() >= 2) {
                        match u16::from_ne_bytes([head[0], head[1]]) {
                            EVENT_HANDSHAKE_SUCCEEDED => self.peers += 1,
                            EVENT_DISCONNECTED => self.peers = self.peers.saturating_sub(1),
                            _ => {}
                        }
                    }
                }
                Err(zmq::Error::EAGAIN) => break,
                Err(e) => return Err(zmq_error("monitor", e)),
            }
        }
        loop {
            match self.socket.recv_bytes(zmq::DONTWAIT) {
                Ok(frame) => {
                    if frame.first() == Some(&1) {
                        self.subscriptions += 1;
                    }
                }
                Err(zmq::Error::EAGAIN) => break,
                Err(e) => return Err(zmq_error("subscriptions", e)),
            }
        }
        Ok(())
    }
}

/// MarketTick's encoding as prost writes it (proto3: fields at their default
/// value are left out; tags 1..7 in order).
fn encode_tick_fields(buf: &mut Vec<u8>, symbol: &str, prices: [f64; 4], timestamp_us: i64, exchange: &str) {
    use prost::encoding::{encode_key, encode_varint, WireType};
    if !symbol.is_empty() {
        encode_key(1, WireType::LengthDelimited, buf);
        encode_varint(symbol.len() as u64, buf);
        buf.extend_from_slice(symbol.as_bytes());
    }
    for (tag, value) in (2u32..).zip(prices) {
        if value != 0.0 {
            encode_key(tag, WireType::SixtyFourBit, buf);
            buf.extend_from_slice(&value.to_le_bytes());
        }
    }
    if timestamp_us != 0 {
        encode_key(6, WireType::Varint, buf);
        encode_varint(timestamp_us as u64, buf);
    }
    if !exchange.is_empty() {
        encode_key(7, WireType::LengthDelimited, buf);
        encode_varint(exchange.len() as u64, buf);
        buf.extend_from_slice(exchange.as_bytes());
    }
}

#[cfg(test)]
#[test]
fn tick_fields_encode_exactly_as_prost_does() {
    let ticks = [
        proto::MarketTick::default(),
        proto::MarketTick {
            symbol: "BTC/USD".into(),
            bid: -0.0,
            ask: f64::NAN,
            last: 1e300,
            volume: 5e-324,
            timestamp_us: -1,
            exchange: "Zürich".repeat(30),
        },
        proto::MarketTick { symbol: "X".into(), timestamp_us: i64::MAX, bid: 1.5, ..Default::default() },
    ];
    for t in ticks {
        let mut ours = Vec::new();
        encode_tick_fields(&mut ours, &t.symbol, [t.bid, t.ask, t.last, t.volume], t.timestamp_us, &t.exchange);
        assert_eq!(ours, t.encode_to_vec());
    }
}

/// Publishes between two reads of the monitor queue, which bounds its memory.
const DRAIN_EVERY: u32 = 4096;

impl Drop for Publisher {
    /// Stops the monitor before the socket closes: a closed socket lingers
    /// (PUBLISHER_LINGER_MS) and would otherwise keep sending events, blocking,
    /// to a monitor socket nobody reads any more, stalling libzmq's I/O thread.
    /// Re-pointing the monitor at a fresh endpoint with no events detaches the
    /// old one (the zmq crate cannot pass the NULL endpoint that means "stop").
    fn drop(&mut self) {
        let _ = self.socket.monitor(&format!("inproc://pyrt-publisher-monitor-{}-stopped", self.monitor_id), 0);
    }
}

fn next_monitor_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher").field("peers", &self.peers).finish_non_exhaustive()
    }
}
