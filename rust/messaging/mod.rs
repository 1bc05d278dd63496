//! messaging: ZeroMQ PUB/SUB of protobuf messages (proto/messages.proto),
//! and a command channel from strategies to the engine.
//!
//! Wire format: a two-frame ZeroMQ message `[topic, protobuf bytes]`, with
//! topics `market.<SYMBOL>` (MarketTick), `fills` (FillReport), `positions`
//! (PositionSnapshot), `signals` (TradingSignal) and `orders` (OrderRequest).
//! Any ZeroMQ client holding the .proto file interoperates.
//!
//! Roles: a [`Publisher`] binds and a [`Subscriber`] connects (as in the
//! specification), so one publisher serves any number of subscribers. A
//! [`CommandReceiver`] binds a REP socket, a [`CommandSender`] connects a REQ
//! socket to it; every command is acknowledged.
//!
//! Sockets are not thread-safe: each object is used by one thread at a time.
//! All of them share one ZeroMQ context (one I/O thread) for the process.

mod command;
mod context;
pub mod proto;
mod publisher;
mod subscriber;
mod topics;

pub use command::{decode_command, CommandReceiver, CommandSender, ACK_OK};
pub(crate) use subscriber::DEFAULT_MAX_MESSAGE_SIZE;
pub use publisher::{Publisher, DEFAULT_HWM};
pub use subscriber::{Subscriber, SubscriberStats};
pub use topics::{kind_of_topic, tick_topic, TopicFilter, FILLS, MARKET_PREFIX, ORDERS, POSITIONS, SIGNALS};

use crate::error::{Error, Result};

/// What a received message is, named as the specification's subscriber names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    MarketData,
    Fill,
    Position,
    Signal,
    Order,
}

impl Kind {
    /// The name Python sees: "market_data", "fill", "position", "signal", "order".
    pub fn name(self) -> &'static str {
        match self {
            Kind::MarketData => "market_data",
            Kind::Fill => "fill",
            Kind::Position => "position",
            Kind::Signal => "signal",
            Kind::Order => "order",
        }
    }
}

/// One decoded message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    MarketData(proto::MarketTick),
    Fill(proto::FillReport),
    Position(proto::PositionSnapshot),
    Signal(proto::TradingSignal),
    Order(proto::OrderRequest),
}

impl Message {
    pub fn kind(&self) -> Kind {
        match self {
            Message::MarketData(_) => Kind::MarketData,
            Message::Fill(_) => Kind::Fill,
            Message::Position(_) => Kind::Position,
            Message::Signal(_) => Kind::Signal,
            Message::Order(_) => Kind::Order,
        }
    }

    /// Decodes a payload of the given kind; an empty payload is an error
    /// (proto3 would read it as all defaults, which is never what a peer meant).
    pub fn decode(kind: Kind, payload: &[u8]) -> Result<Message> {
        use prost::Message as _;
        if payload.is_empty() {
            return Err(Error::new(crate::ErrorKind::Decode, "payload: empty frame"));
        }
        let decoded = match kind {
            Kind::MarketData => proto::MarketTick::decode(payload).map(Message::MarketData),
            Kind::Fill => proto::FillReport::decode(payload).map(Message::Fill),
            Kind::Position => proto::PositionSnapshot::decode(payload).map(Message::Position),
            Kind::Signal => proto::TradingSignal::decode(payload).map(Message::Signal),
            Kind::Order => proto::OrderRequest::decode(payload).map(Message::Order),
        };
        let message = decoded.map_err(|e| {
            Error::new(crate::ErrorKind::Decode, format!("payload: not a valid {} message: {e}", kind.name()))
        })?;
        message.check_strings()?;
        Ok(message)
    }

    /// C strings cannot carry an interior NUL, so such a message is refused
    /// (and counted) rather than handed out cut short.
    fn check_strings(&self) -> Result<()> {
        let strings: Vec<(&str, &str)> = match self {
            Message::MarketData(m) => vec![("symbol", &m.symbol), ("exchange", &m.exchange)],
            Message::Fill(m) => vec![("order_id", &m.order_id), ("fill_id", &m.fill_id), ("symbol", &m.symbol)],
            Message::Position(m) => vec![("symbol", &m.symbol)],
            Message::Signal(m) => {
                let mut v = vec![("strategy_id", m.strategy_id.as_str()), ("symbol", m.symbol.as_str())];
                v.extend(m.features.keys().map(|k| ("features", k.as_str())));
                v
            }
            Message::Order(m) => {
                vec![("order_id", &m.order_id), ("symbol", &m.symbol), ("strategy_id", &m.strategy_id)]
            }
        };
        check_names(&strings, crate::ErrorKind::Decode)
    }
}

/// The longest name pyrt accepts, in bytes: symbols, ids, feature keys,
/// topics, endpoints. Long enough for any real instrument or address; short
/// enough that a topic cannot drive libzmq's subscription trie (which
/// recurses once per byte) off a thread's stack.
pub(crate) const MAX_NAME_LEN: usize = 1024;

/// Refuses names (symbols, ids, keys) with an interior NUL or longer than
/// [`MAX_NAME_LEN`] bytes.
pub(crate) fn check_names(fields: &[(&str, &str)], kind: crate::ErrorKind) -> Result<()> {
    check_no_nul(fields, kind)?;
    for (name, value) in fields {
        if value.len() > MAX_NAME_LEN {
            return Err(Error::new(kind, format!("{name}: {} bytes, longer than the limit of {MAX_NAME_LEN}", value.len())));
        }
    }
    Ok(())
}

/// Refuses strings with an interior NUL (they cannot cross as C strings).
pub(crate) fn check_no_nul(fields: &[(&str, &str)], kind: crate::ErrorKind) -> Result<()> {
    for (name, value) in fields {
        if value.as_bytes().contains(&0) {
            return Err(Error::new(kind, format!("{name}: contains a NUL character")));
        }
    }
    Ok(())
}

/// Microseconds since the Unix epoch, for timestamps pyrt fills in itself.
pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
