//! extern "C" layer for `crate::messaging`: publishers, subscribers, received
//! messages and the command channel.
//!
//! ZeroMQ sockets are not thread-safe; the handles here are. Every handle
//! (PyrtPublisher, PyrtSubscriber, PyrtCommandSender, PyrtCommandReceiver,
//! PyrtMessage) follows `handle.rs`: calls on one handle from several threads
//! are serialized, `pyrt_<thing>_close` may be called from any thread at any
//! time (a receive or send waiting on the handle ends within 50 ms with
//! PYRT_CLOSED, then the socket is closed), and every later call returns
//! PYRT_CLOSED. Only `_free` must not race with other calls: using a handle
//! after `_free` is undefined behaviour. All sockets share one ZeroMQ context,
//! ended when the last object is freed: that `_free` waits at most one second
//! for queued messages (ticks just published, an acknowledgement just sent) to
//! be delivered; every other `_free` returns at once.

use std::collections::BTreeMap;
use std::ffi::{c_char, CString};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::backtest::{PyrtOrderSide, PyrtOrderType};
use super::boundary::*;
use super::handle::{close_handle, Handle};
use crate::error::{Error, ErrorKind, Result};
use crate::messaging::proto;
use crate::messaging::{CommandReceiver, CommandSender, Message, Publisher, Subscriber};

/// What a PyrtMessage holds (`pyrt_message_kind`).
pub type PyrtMessageKind = i32;
/// Nothing yet: a new message, or one whose last receive timed out.
pub const PYRT_MESSAGE_NONE: PyrtMessageKind = 0;
/// A MarketTick (topic `market.<SYMBOL>`), read with `pyrt_message_market_tick`.
pub const PYRT_MESSAGE_MARKET_DATA: PyrtMessageKind = 1;
/// A FillReport (topic `fills`), read with `pyrt_message_fill_report`.
pub const PYRT_MESSAGE_FILL: PyrtMessageKind = 2;
/// A PositionSnapshot (topic `positions`), read with `pyrt_message_position_snapshot`.
pub const PYRT_MESSAGE_POSITION: PyrtMessageKind = 3;
/// A TradingSignal (topic `signals`), read with `pyrt_message_trading_signal`.
pub const PYRT_MESSAGE_SIGNAL: PyrtMessageKind = 4;
/// An OrderRequest (topic `orders`), read with `pyrt_message_order_request`.
pub const PYRT_MESSAGE_ORDER: PyrtMessageKind = 5;
/// A Command (from `pyrt_command_receiver_receive`), read with `pyrt_message_command`.
pub const PYRT_MESSAGE_COMMAND: PyrtMessageKind = 6;

/// TradingSignal.Action.
pub const PYRT_TRADING_SIGNAL_NONE: i32 = 0;
pub const PYRT_TRADING_SIGNAL_BUY: i32 = 1;
pub const PYRT_TRADING_SIGNAL_SELL: i32 = 2;
pub const PYRT_TRADING_SIGNAL_CLOSE: i32 = 3;
/// Command.Type.
pub const PYRT_COMMAND_START_TRADING: i32 = 0;
pub const PYRT_COMMAND_STOP_TRADING: i32 = 1;
pub const PYRT_COMMAND_UPDATE_STRATEGY: i32 = 2;
pub const PYRT_COMMAND_UPDATE_RISK_LIMITS: i32 = 3;
pub const PYRT_COMMAND_RELOAD_MODEL: i32 = 4;

/// The default largest message a subscriber takes, in bytes (1 MiB).
pub const PYRT_DEFAULT_MAX_MESSAGE_SIZE: usize = 1_048_576;
/// The longest name (symbol, id, feature key, topic, endpoint) pyrt takes, in bytes.
pub const PYRT_MAX_NAME_LEN: usize = 1024;

const _: () = assert!(PYRT_DEFAULT_MAX_MESSAGE_SIZE == crate::messaging::DEFAULT_MAX_MESSAGE_SIZE);
const _: () = assert!(PYRT_MAX_NAME_LEN == crate::messaging::MAX_NAME_LEN);

/// ZeroMQ's default high-water mark (messages queued per peer), also pyzmq's.
pub const PYRT_DEFAULT_HWM: i32 = 1000;
/// Bytes of `PyrtTickRecord.symbol`.
pub const PYRT_TICK_SYMBOL_SIZE: usize = 32;
/// Bytes of `PyrtTickRecord.exchange`.
pub const PYRT_TICK_EXCHANGE_SIZE: usize = 16;

/// A MarketTick, field for field as in proto/messages.proto.
///
/// As input (`pyrt_publisher_publish_tick`): strings are UTF-8, NUL-terminated,
/// read during the call only; a NULL string is the empty string. As output
/// (`pyrt_message_market_tick`): the strings belong to the PyrtMessage and
/// stay valid until it is received into again or freed. The same holds for
/// every message struct below.
#[repr(C)]
pub struct PyrtMarketTick {
    pub symbol: *const c_char,
    pub bid: f64,
    pub ask: f64,
    pub last: f64,
    pub volume: f64,
    pub timestamp_us: i64,
    pub exchange: *const c_char,
}

/// An OrderRequest; `side` is a PYRT_ORDER_SIDE_BUY/SELL and `order_type` a
/// PYRT_ORDER_TYPE_MARKET..STOP_LIMIT, the constants the backtest's orders use
/// (the values of proto/messages.proto); other values are refused when publishing.
#[repr(C)]
pub struct PyrtOrderRequest {
    pub order_id: *const c_char,
    pub symbol: *const c_char,
    pub side: PyrtOrderSide,
    pub quantity: f64,
    pub price: f64,
    pub order_type: PyrtOrderType,
    pub strategy_id: *const c_char,
}

/// A FillReport.
#[repr(C)]
pub struct PyrtFillReport {
    pub order_id: *const c_char,
    pub fill_id: *const c_char,
    pub symbol: *const c_char,
    pub filled_quantity: f64,
    pub fill_price: f64,
    pub timestamp_us: i64,
    pub commission: f64,
}

/// A PositionSnapshot: what `pyrt_publisher_publish_position` sends, what a
/// received position message holds, and what `pyrt_position_snapshot` reads
/// off a `PyrtPosition` (so a position can be published as it is). `symbol`
/// belongs to whoever filled the struct: the message or position handle, or
/// the caller.
#[repr(C)]
pub struct PyrtPositionSnapshot {
    pub symbol: *const c_char,
    pub quantity: f64,
    pub avg_entry_price: f64,
    pub current_price: f64,
    pub unrealized_pnl: f64,
    pub realized_pnl: f64,
    pub last_update_us: i64,
}

/// A TradingSignal; `action` is a PYRT_TRADING_SIGNAL_NONE..CLOSE. The
/// features map is `features_len` parallel entries of `feature_keys` (UTF-8,
/// NUL-terminated, distinct, non-empty) and `feature_values` (not NaN); both
/// may be NULL when `features_len` is 0. Received features come sorted by key.
#[repr(C)]
pub struct PyrtTradingSignal {
    pub strategy_id: *const c_char,
    pub symbol: *const c_char,
    pub action: i32,
    pub confidence: f64,
    pub suggested_quantity: f64,
    pub timestamp_us: i64,
    pub feature_keys: *const *const c_char,
    pub feature_values: *const f64,
    pub features_len: usize,
}

/// A Command as received; `command_type` is the .proto field `type`
/// (a PYRT_COMMAND_*), `payload` its JSON text.
#[repr(C)]
pub struct PyrtCommand {
    pub command_type: i32,
    pub payload: *const c_char,
    pub timestamp_us: i64,
}

/// One tick in a flat record, for batches (`pyrt_subscriber_receive_ticks`,
/// `pyrt_publisher_publish_tick_records`), 88 bytes, C layout.
///
/// `symbol` and `exchange` are UTF-8, padded with NULs, and not
/// NUL-terminated when they fill the array. A longer received string is cut
/// at the last whole UTF-8 character that fits, and counted
/// (`pyrt_subscriber_truncated`); receive single messages to get it whole.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct PyrtTickRecord {
    pub timestamp_us: i64,
    pub bid: f64,
    pub ask: f64,
    pub last: f64,
    pub volume: f64,
    pub symbol: [c_char; 32],
    pub exchange: [c_char; 16],
}

// The layout the header, NumPy's TICK_DTYPE and the size constants promise.
const _: () = assert!(std::mem::size_of::<PyrtTickRecord>() == 88);
const _: () = assert!(std::mem::size_of::<[c_char; 32]>() == PYRT_TICK_SYMBOL_SIZE);
const _: () = assert!(std::mem::size_of::<[c_char; 16]>() == PYRT_TICK_EXCHANGE_SIZE);

/// A socket handle: the object behind the handle discipline, and the flag
/// that ends a wait in progress when another thread closes it.
struct SocketHandle<T> {
    handle: Handle<T>,
    cancel: Arc<AtomicBool>,
}

impl<T> SocketHandle<T> {
    fn new(what: &'static str, value: T, cancel: Arc<AtomicBool>) -> Self {
        SocketHandle { handle: Handle::new(what, value), cancel }
    }

    fn with<R>(&self, f: impl FnOnce(&mut T) -> Result<R>) -> Result<R> {
        self.handle.with(f)
    }

    fn close(&self) {
        // First end any wait holding the handle's lock, then take the lock.
        self.cancel.store(true, Ordering::Relaxed);
        self.handle.close();
    }
}

struct PublisherState {
    inner: Publisher,
    endpoint: CString,
}

struct SubscriberState {
    inner: Subscriber,
    truncated: u64,
    last_error: CString,
}

struct ReceiverState {
    inner: CommandReceiver,
    endpoint: CString,
    last_error: CString,
}

/// A publisher (binds its endpoint). Safe to share between threads.
pub struct PyrtPublisher(SocketHandle<PublisherState>);

/// A subscriber (connects to a publisher). Safe to share between threads.
pub struct PyrtSubscriber(SocketHandle<SubscriberState>);

/// A command sender (REQ, connects). Safe to share between threads: one
/// command is in flight at a time, the others wait their turn.
pub struct PyrtCommandSender(SocketHandle<CommandSender>);

/// A command receiver (REP, binds). Safe to share between threads.
pub struct PyrtCommandReceiver(SocketHandle<ReceiverState>);

enum Held {
    Nothing,
    Published(Message),
    Command(proto::Command),
}

/// A received message: reused from one receive to the next, so receiving
/// allocates nothing new once its strings have grown. Safe to share between
/// threads, but the pointers a `pyrt_message_*` reader writes point into it
/// and stay valid only until the next receive into it: give each receiving
/// thread its own message.
pub struct PyrtMessage(Handle<MessageState>);

struct MessageState {
    held: Held,
    /// The held message's strings as C strings, in field order (then feature keys).
    strings: Vec<CString>,
    key_pointers: Vec<*const c_char>,
    values: Vec<f64>,
}

impl MessageState {
    fn new() -> MessageState {
        MessageState { held: Held::Nothing, strings: Vec::new(), key_pointers: Vec::new(), values: Vec::new() }
    }

    fn kind(&self) -> PyrtMessageKind {
        match &self.held {
            Held::Nothing => PYRT_MESSAGE_NONE,
            Held::Command(_) => PYRT_MESSAGE_COMMAND,
            Held::Published(m) => match m {
                Message::MarketData(_) => PYRT_MESSAGE_MARKET_DATA,
                Message::Fill(_) => PYRT_MESSAGE_FILL,
                Message::Position(_) => PYRT_MESSAGE_POSITION,
                Message::Signal(_) => PYRT_MESSAGE_SIGNAL,
                Message::Order(_) => PYRT_MESSAGE_ORDER,
            },
        }
    }

    fn clear(&mut self) {
        self.held = Held::Nothing;
        self.strings.clear();
        self.key_pointers.clear();
        self.values.clear();
    }

    fn hold(&mut self, held: Held) {
        self.clear();
        let texts: Vec<&str> = match &held {
            Held::Nothing => vec![],
            Held::Command(c) => vec![&c.payload],
            Held::Published(m) => match m {
                Message::MarketData(t) => vec![&t.symbol, &t.exchange],
                Message::Fill(f) => vec![&f.order_id, &f.fill_id, &f.symbol],
                Message::Position(p) => vec![&p.symbol],
                Message::Order(o) => vec![&o.order_id, &o.symbol, &o.strategy_id],
                Message::Signal(s) => {
                    let mut v = vec![s.strategy_id.as_str(), s.symbol.as_str()];
                    v.extend(s.features.keys().map(String::as_str));
                    self.values.extend(s.features.values().copied());
                    v
                }
            },
        };
        // Decoding already refused interior NULs, so none is lost here.
        self.strings.extend(texts.iter().map(|t| CString::new(*t).unwrap_or_default()));
        if let Held::Published(Message::Signal(_)) = &held {
            self.key_pointers.extend(self.strings[2..].iter().map(|s| s.as_ptr()));
        }
        self.held = held;
    }

    fn wrong_kind(&self, wanted: &str) -> Error {
        Error::invalid("message", format!("holds kind {}, not a {wanted}", self.kind()))
    }

    fn text(&self, index: usize) -> *const c_char {
        self.strings[index].as_ptr()
    }
}

/// A C string argument that may be NULL (meaning "").
unsafe fn optional_str(ptr: *const c_char, name: &str) -> Result<String> {
    if ptr.is_null() {
        Ok(String::new())
    } else {
        input_str(ptr, name).map(str::to_string)
    }
}

/// Copies `text` and its NUL into a caller buffer of `capacity` bytes;
/// `*needed` gets the size required (length + 1) in every case.
unsafe fn copy_out_str(text: &CString, buffer: *mut c_char, capacity: usize, needed: *mut usize) -> Result<()> {
    let bytes = text.as_bytes_with_nul();
    write_out(needed, bytes.len(), "needed")?;
    if capacity < bytes.len() {
        return Err(Error::new(
            ErrorKind::BufferTooSmall,
            format!("buffer: needs {} bytes, got {capacity}", bytes.len()),
        ));
    }
    let out = output_slice(buffer as *mut u8, bytes.len(), "buffer")?;
    out.copy_from_slice(bytes);
    Ok(())
}

fn endpoint_cstring(endpoint: String) -> CString {
    CString::new(endpoint).unwrap_or_default()
}

/// The fixed array of a record as UTF-8 text, up to the first NUL.
fn record_text<'a>(chars: &'a [c_char], name: &str) -> Result<&'a str> {
    let end = chars.iter().position(|&c| c == 0).unwrap_or(chars.len());
    // c_char is i8 or u8 depending on the platform; both are one byte.
    let bytes: &[u8] = unsafe { std::slice::from_raw_parts(chars.as_ptr() as *const u8, end) };
    std::str::from_utf8(bytes).map_err(|_| Error::invalid(name, "is not valid UTF-8"))
}

/// Writes `text` into a fixed array, NUL-padded; true when it had to be cut
/// (at a UTF-8 character boundary).
fn fill_record_text(out: &mut [c_char], text: &str) -> bool {
    let mut end = text.len().min(out.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    for (slot, byte) in out.iter_mut().zip(text.as_bytes()[..end].iter().chain(std::iter::repeat(&0))) {
        *slot = *byte as c_char;
    }
    end < text.len()
}

// ---- publisher --------------------------------------------------------------

/// Creates a publisher bound to `endpoint` (e.g. "tcp://127.0.0.1:5555";
/// "tcp://127.0.0.1:*" picks a free port, see `pyrt_publisher_last_endpoint`).
/// `sndhwm` is how many messages are queued per subscriber before ZeroMQ
/// drops further ones, silently (0 = no limit; PYRT_DEFAULT_HWM = 1000).
/// Messages published before a subscriber has connected are lost too (the
/// "slow joiner"): see `pyrt_publisher_wait_for_subscribers`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_publisher_new(
    endpoint: *const c_char,
    sndhwm: i32,
    out: *mut *mut PyrtPublisher,
) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let endpoint = input_str(endpoint, "endpoint")?;
        let inner = Publisher::bind(endpoint, sndhwm)?;
        let endpoint = endpoint_cstring(inner.last_endpoint()?);
        let cancel = inner.cancel_flag();
        write_handle(out, PyrtPublisher(SocketHandle::new("publisher", PublisherState { inner, endpoint }, cancel)), "out")
    }
}

/// Copies the bound endpoint (with a `*` port resolved) into `buffer` of
/// `capacity` bytes, NUL-terminated. `*needed` receives the size required,
/// also when the status is PYRT_BUFFER_TOO_SMALL.
#[no_mangle]
pub unsafe extern "C" fn pyrt_publisher_last_endpoint(
    publisher: *const PyrtPublisher,
    buffer: *mut c_char,
    capacity: usize,
    needed: *mut usize,
) -> PyrtStatus {
    ffi_boundary! {
        handle_ref(publisher, "publisher")?.0.with(|p| copy_out_str(&p.endpoint, buffer, capacity, needed))
    }
}

/// Publishes a tick under the topic `market.<symbol>` (symbol non-empty).
#[no_mangle]
pub unsafe extern "C" fn pyrt_publisher_publish_tick(
    publisher: *mut PyrtPublisher,
    tick: *const PyrtMarketTick,
) -> PyrtStatus {
    ffi_boundary! {
        let publisher = handle_ref(publisher, "publisher")?;
        let t = handle_ref(tick, "tick")?;
        let tick = proto::MarketTick {
            symbol: optional_str(t.symbol, "symbol")?,
            bid: t.bid,
            ask: t.ask,
            last: t.last,
            volume: t.volume,
            timestamp_us: t.timestamp_us,
            exchange: optional_str(t.exchange, "exchange")?,
        };
        publisher.0.with(|p| p.inner.publish_tick(&tick))
    }
}

/// Publishes `len` ticks from flat records, one message each, in order.
/// Stops at the first invalid record (empty or non-UTF-8 symbol); the ones
/// before it were published.
#[no_mangle]
pub unsafe extern "C" fn pyrt_publisher_publish_tick_records(
    publisher: *mut PyrtPublisher,
    records: *const PyrtTickRecord,
    len: usize,
) -> PyrtStatus {
    ffi_boundary! {
        let publisher = handle_ref(publisher, "publisher")?;
        let records = input_slice(records, len, "records")?;
        publisher.0.with(|publisher| {
        for (i, r) in records.iter().enumerate() {
            let published = record_text(&r.symbol, "symbol")
                .and_then(|symbol| Ok((symbol, record_text(&r.exchange, "exchange")?)))
                .and_then(|(symbol, exchange)| {
                    publisher.inner.publish_tick_fields(symbol, r.bid, r.ask, r.last, r.volume, r.timestamp_us, exchange)
                });
            published.map_err(|e| Error::new(e.kind, format!("records[{i}].{}", e.message)))?;
        }
        Ok(())
        })
    }
}

/// Publishes a fill report under the topic `fills`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_publisher_publish_fill(
    publisher: *mut PyrtPublisher,
    fill: *const PyrtFillReport,
) -> PyrtStatus {
    ffi_boundary! {
        let publisher = handle_ref(publisher, "publisher")?;
        let f = handle_ref(fill, "fill")?;
        let fill = proto::FillReport {
            order_id: optional_str(f.order_id, "order_id")?,
            fill_id: optional_str(f.fill_id, "fill_id")?,
            symbol: optional_str(f.symbol, "symbol")?,
            filled_quantity: f.filled_quantity,
            fill_price: f.fill_price,
            timestamp_us: f.timestamp_us,
            commission: f.commission,
        };
        publisher.0.with(|p| p.inner.publish_fill(&fill))
    }
}

/// Publishes a position snapshot under the topic `positions`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_publisher_publish_position(
    publisher: *mut PyrtPublisher,
    position: *const PyrtPositionSnapshot,
) -> PyrtStatus {
    ffi_boundary! {
        let publisher = handle_ref(publisher, "publisher")?;
        let p = handle_ref(position, "position")?;
        let position = proto::PositionSnapshot {
            symbol: optional_str(p.symbol, "symbol")?,
            quantity: p.quantity,
            avg_entry_price: p.avg_entry_price,
            current_price: p.current_price,
            unrealized_pnl: p.unrealized_pnl,
            realized_pnl: p.realized_pnl,
            last_update_us: p.last_update_us,
        };
        publisher.0.with(|p| p.inner.publish_position(&position))
    }
}

/// Publishes a trading signal under the topic `signals`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_publisher_publish_signal(
    publisher: *mut PyrtPublisher,
    signal: *const PyrtTradingSignal,
) -> PyrtStatus {
    ffi_boundary! {
        let publisher = handle_ref(publisher, "publisher")?;
        let s = handle_ref(signal, "signal")?;
        let keys = input_slice(s.feature_keys, s.features_len, "feature_keys")?;
        let values = input_slice(s.feature_values, s.features_len, "feature_values")?;
        let mut features = BTreeMap::new();
        for (key, value) in keys.iter().zip(values) {
            let key = input_str(*key, "feature_keys")?;
            if features.insert(key.to_string(), *value).is_some() {
                return Err(Error::invalid("features", format!("duplicate feature {key:?}")));
            }
        }
        let signal = proto::TradingSignal {
            strategy_id: optional_str(s.strategy_id, "strategy_id")?,
            symbol: optional_str(s.symbol, "symbol")?,
            action: s.action,
            confidence: s.confidence,
            suggested_quantity: s.suggested_quantity,
            timestamp_us: s.timestamp_us,
            features,
        };
        publisher.0.with(|p| p.inner.publish_signal(&signal))
    }
}

/// Publishes an order request under the topic `orders`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_publisher_publish_order(
    publisher: *mut PyrtPublisher,
    order: *const PyrtOrderRequest,
) -> PyrtStatus {
    ffi_boundary! {
        let publisher = handle_ref(publisher, "publisher")?;
        let o = handle_ref(order, "order")?;
        let order = proto::OrderRequest {
            order_id: optional_str(o.order_id, "order_id")?,
            symbol: optional_str(o.symbol, "symbol")?,
            side: o.side,
            quantity: o.quantity,
            price: o.price,
            order_type: o.order_type,
            strategy_id: optional_str(o.strategy_id, "strategy_id")?,
        };
        publisher.0.with(|p| p.inner.publish_order(&order))
    }
}

/// Waits until at least `count` subscribers have connected and at least
/// `count` subscriptions have reached the publisher, or `timeout_ms` passes
/// (-1 = forever): PYRT_TIMEOUT. Call it before publishing what a subscriber
/// must not miss.
#[no_mangle]
pub unsafe extern "C" fn pyrt_publisher_wait_for_subscribers(
    publisher: *mut PyrtPublisher,
    count: usize,
    timeout_ms: i32,
) -> PyrtStatus {
    ffi_boundary! {
        handle_ref(publisher, "publisher")?.0.with(|p| p.inner.wait_for_subscribers(count, timeout_ms))
    }
}

/// Closes the publisher's socket, from any thread: a call in progress on it
/// finishes first (a `wait_for_subscribers` ends within 50 ms with
/// PYRT_CLOSED), later calls return PYRT_CLOSED. Idempotent; NULL is a
/// no-op. When it is the last open pyrt messaging object of the process,
/// this also ends pyrt's ZeroMQ context, waiting at most one second for what
/// is still queued to be delivered.
#[no_mangle]
pub unsafe extern "C" fn pyrt_publisher_close(publisher: *const PyrtPublisher) {
    close_handle(publisher, |p| p.0.close());
}

/// Closes the publisher (as `pyrt_publisher_close`) and releases the handle.
/// NULL is a no-op. No other thread may be using the handle, and it must not
/// be used afterwards (undefined behaviour).
#[no_mangle]
pub unsafe extern "C" fn pyrt_publisher_free(publisher: *mut PyrtPublisher) {
    free_handle(publisher);
}

// ---- subscriber -------------------------------------------------------------

/// Creates a subscriber connected to `endpoint`, for the `topics_len` topics
/// in `topics` (at least one). Topics are exact: "market.BTC/USD" does not
/// receive "market.BTC/USDT". A topic ending in '.' or '*' is a prefix
/// ("market." or "market.*": every tick; "*": everything). `rcvhwm` is how
/// many messages are queued on this side before ZeroMQ drops more (0 = no limit).
#[no_mangle]
pub unsafe extern "C" fn pyrt_subscriber_new(
    endpoint: *const c_char,
    topics: *const *const c_char,
    topics_len: usize,
    rcvhwm: i32,
    out: *mut *mut PyrtSubscriber,
) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let endpoint = input_str(endpoint, "endpoint")?;
        let topic_pointers = input_slice(topics, topics_len, "topics")?;
        let topics = topic_pointers
            .iter()
            .map(|p| input_str(*p, "topics"))
            .collect::<Result<Vec<&str>>>()?;
        let inner = Subscriber::connect(endpoint, &topics, rcvhwm)?;
        let cancel = inner.cancel_flag();
        let state = SubscriberState { inner, truncated: 0, last_error: CString::default() };
        write_handle(out, PyrtSubscriber(SocketHandle::new("subscriber", state, cancel)), "out")
    }
}

/// Refreshes a handle's C copy of its last decode error when the Rust side
/// changed it (a received frame may have been refused on the way).
fn sync_c_string(copy: &mut CString, text: &str) {
    if copy.as_bytes() != text.as_bytes() {
        *copy = CString::new(text.replace('\0', "\\0")).unwrap_or_default();
    }
}

/// Puts what a receive returned into `message`, or empties it and reports a
/// timeout naming `what`.
fn hold_or_timeout(message: &mut MessageState, received: Option<Held>, what: &str, timeout_ms: i32) -> Result<()> {
    match received {
        Some(held) => {
            message.hold(held);
            Ok(())
        }
        None => {
            message.clear();
            Err(Error::new(ErrorKind::Timeout, format!("receive: {what} within {timeout_ms} ms")))
        }
    }
}

impl SubscriberState {
    fn sync_last_error(&mut self) {
        sync_c_string(&mut self.last_error, &self.inner.stats().last_error);
    }
}

/// Receives the next message of a subscribed topic into `message`, waiting
/// at most `timeout_ms` (0: only what is queued; -1: forever). Returns
/// PYRT_TIMEOUT (and leaves `message` empty) when none came. Messages that
/// do not decode are never returned: they are counted
/// (`pyrt_subscriber_decode_errors`) and skipped.
#[no_mangle]
pub unsafe extern "C" fn pyrt_subscriber_receive(
    subscriber: *mut PyrtSubscriber,
    timeout_ms: i32,
    message: *mut PyrtMessage,
) -> PyrtStatus {
    ffi_boundary! {
        let subscriber = handle_ref(subscriber, "subscriber")?;
        let message = handle_ref(message, "message")?;
        // Lock order everywhere: the socket's handle, then the message's.
        subscriber.0.with(|subscriber| {
            message.0.with(|message| {
                let received = subscriber.inner.receive(timeout_ms);
                subscriber.sync_last_error();
                hold_or_timeout(message, received?.map(Held::Published), "nothing", timeout_ms)
            })
        })
    }
}

/// Receives up to `max` ticks into `out`: waits at most `timeout_ms` for the
/// first, then takes only those already queued. `*received` gets the count
/// (0 when nothing came: still PYRT_OK). Other valid messages are passed over
/// and counted (`pyrt_subscriber_skipped`); a subscriber read in batches
/// should subscribe to market topics only.
#[no_mangle]
pub unsafe extern "C" fn pyrt_subscriber_receive_ticks(
    subscriber: *mut PyrtSubscriber,
    out: *mut PyrtTickRecord,
    max: usize,
    timeout_ms: i32,
    received: *mut usize,
) -> PyrtStatus {
    ffi_boundary! {
        let subscriber = handle_ref(subscriber, "subscriber")?;
        ensure_out(received, "received")?;
        let out = output_slice(out, max, "out")?;
        subscriber.0.with(|subscriber| {
        let mut count = 0usize;
        let mut truncated = 0u64;
        let result = subscriber.inner.receive_ticks(max, timeout_ms, |tick| {
            let record = &mut out[count];
            record.timestamp_us = tick.timestamp_us;
            record.bid = tick.bid;
            record.ask = tick.ask;
            record.last = tick.last;
            record.volume = tick.volume;
            let cut_symbol = fill_record_text(&mut record.symbol, &tick.symbol);
            let cut_exchange = fill_record_text(&mut record.exchange, &tick.exchange);
            truncated += u64::from(cut_symbol || cut_exchange);
            count += 1;
        });
        subscriber.truncated += truncated;
        subscriber.sync_last_error();
        write_out(received, result?, "received")
        })
    }
}

/// A counter of a subscriber (0 for NULL or a closed one).
unsafe fn subscriber_count(subscriber: *const PyrtSubscriber, read: impl FnOnce(&SubscriberState) -> u64) -> u64 {
    match subscriber.as_ref() {
        Some(s) => s.0.with(|state| Ok(read(state))).unwrap_or(0),
        None => 0,
    }
}

/// Messages this subscriber refused so far: payloads that do not decode,
/// empty payloads, unknown topics, messages without exactly two frames.
/// 0 for NULL or a closed subscriber.
#[no_mangle]
pub unsafe extern "C" fn pyrt_subscriber_decode_errors(subscriber: *const PyrtSubscriber) -> u64 {
    subscriber_count(subscriber, |s| s.inner.stats().decode_errors)
}

/// Valid non-tick messages passed over by `pyrt_subscriber_receive_ticks`.
/// 0 for NULL or a closed subscriber.
#[no_mangle]
pub unsafe extern "C" fn pyrt_subscriber_skipped(subscriber: *const PyrtSubscriber) -> u64 {
    subscriber_count(subscriber, |s| s.inner.stats().skipped)
}

/// Ticks whose symbol or exchange was cut to fit a PyrtTickRecord. 0 for
/// NULL or a closed subscriber.
#[no_mangle]
pub unsafe extern "C" fn pyrt_subscriber_truncated(subscriber: *const PyrtSubscriber) -> u64 {
    subscriber_count(subscriber, |s| s.truncated)
}

/// Messages dropped unread because they were larger than the subscriber's
/// maximum message size. 0 for NULL or a closed subscriber.
#[no_mangle]
pub unsafe extern "C" fn pyrt_subscriber_oversized(subscriber: *const PyrtSubscriber) -> u64 {
    subscriber_count(subscriber, |s| s.inner.stats().oversized)
}

/// Sets the largest message (topic and payload bytes together) the
/// subscriber takes; larger ones are dropped unread and counted
/// (`pyrt_subscriber_oversized`), and the subscriber goes on serving.
/// The default is PYRT_DEFAULT_MAX_MESSAGE_SIZE (1 MiB); 0 is PYRT_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn pyrt_subscriber_set_max_message_size(
    subscriber: *const PyrtSubscriber,
    max_message_size: usize,
) -> PyrtStatus {
    ffi_boundary! {
        handle_ref(subscriber, "subscriber")?.0.with(|s| s.inner.set_max_message_size(max_message_size))
    }
}

/// Copies why the latest refused message was refused ("" if none was) into
/// `buffer` of `capacity` bytes, NUL-terminated; `*needed` receives the size
/// required, also when the status is PYRT_BUFFER_TOO_SMALL. A copy, not a
/// pointer into the handle, so that another thread's receive cannot change
/// it under the caller.
#[no_mangle]
pub unsafe extern "C" fn pyrt_subscriber_last_decode_error(
    subscriber: *const PyrtSubscriber,
    buffer: *mut c_char,
    capacity: usize,
    needed: *mut usize,
) -> PyrtStatus {
    ffi_boundary! {
        handle_ref(subscriber, "subscriber")?.0.with(|s| copy_out_str(&s.last_error, buffer, capacity, needed))
    }
}

/// Closes the subscriber's socket, from any thread; queued messages are
/// dropped. A receive in progress on it ends within 50 ms with PYRT_CLOSED;
/// later calls return PYRT_CLOSED. Idempotent; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn pyrt_subscriber_close(subscriber: *const PyrtSubscriber) {
    close_handle(subscriber, |s| s.0.close());
}

/// Closes the subscriber (as `pyrt_subscriber_close`) and releases the
/// handle. NULL is a no-op. No other thread may be using the handle, and it
/// must not be used afterwards (undefined behaviour).
#[no_mangle]
pub unsafe extern "C" fn pyrt_subscriber_free(subscriber: *mut PyrtSubscriber) {
    free_handle(subscriber);
}

// ---- received messages ------------------------------------------------------

/// Creates an empty message to receive into (kind PYRT_MESSAGE_NONE).
#[no_mangle]
pub unsafe extern "C" fn pyrt_message_new(out: *mut *mut PyrtMessage) -> PyrtStatus {
    ffi_boundary! {
        write_handle(out, PyrtMessage(Handle::new("message", MessageState::new())), "out")
    }
}

/// What the message holds: a PYRT_MESSAGE_* (PYRT_MESSAGE_NONE for NULL).
#[no_mangle]
pub unsafe extern "C" fn pyrt_message_kind(message: *const PyrtMessage) -> PyrtMessageKind {
    match message.as_ref() {
        Some(m) => m.0.with(|m| Ok(m.kind())).unwrap_or(PYRT_MESSAGE_NONE),
        None => PYRT_MESSAGE_NONE,
    }
}

/// Reads a PYRT_MESSAGE_MARKET_DATA message; another kind is PYRT_INVALID_ARGUMENT.
/// The strings written to `out` belong to `message` (see PyrtMarketTick).
#[no_mangle]
pub unsafe extern "C" fn pyrt_message_market_tick(message: *const PyrtMessage, out: *mut PyrtMarketTick) -> PyrtStatus {
    ffi_boundary! {
        let message = handle_ref(message, "message")?;
        ensure_out(out, "out")?;
        message.0.with(|m| {
        let Held::Published(Message::MarketData(t)) = &m.held else { return Err(m.wrong_kind("market tick")) };
        write_out(out, PyrtMarketTick {
            symbol: m.text(0),
            bid: t.bid,
            ask: t.ask,
            last: t.last,
            volume: t.volume,
            timestamp_us: t.timestamp_us,
            exchange: m.text(1),
        }, "out")
        })
    }
}

/// Reads a PYRT_MESSAGE_FILL message; another kind is PYRT_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn pyrt_message_fill_report(message: *const PyrtMessage, out: *mut PyrtFillReport) -> PyrtStatus {
    ffi_boundary! {
        let message = handle_ref(message, "message")?;
        ensure_out(out, "out")?;
        message.0.with(|m| {
        let Held::Published(Message::Fill(f)) = &m.held else { return Err(m.wrong_kind("fill report")) };
        write_out(out, PyrtFillReport {
            order_id: m.text(0),
            fill_id: m.text(1),
            symbol: m.text(2),
            filled_quantity: f.filled_quantity,
            fill_price: f.fill_price,
            timestamp_us: f.timestamp_us,
            commission: f.commission,
        }, "out")
        })
    }
}

/// Reads a PYRT_MESSAGE_POSITION message; another kind is PYRT_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn pyrt_message_position_snapshot(
    message: *const PyrtMessage,
    out: *mut PyrtPositionSnapshot,
) -> PyrtStatus {
    ffi_boundary! {
        let message = handle_ref(message, "message")?;
        ensure_out(out, "out")?;
        message.0.with(|m| {
        let Held::Published(Message::Position(p)) = &m.held else { return Err(m.wrong_kind("position snapshot")) };
        write_out(out, PyrtPositionSnapshot {
            symbol: m.text(0),
            quantity: p.quantity,
            avg_entry_price: p.avg_entry_price,
            current_price: p.current_price,
            unrealized_pnl: p.unrealized_pnl,
            realized_pnl: p.realized_pnl,
            last_update_us: p.last_update_us,
        }, "out")
        })
    }
}

/// Reads a PYRT_MESSAGE_SIGNAL message; another kind is PYRT_INVALID_ARGUMENT.
/// `feature_keys` and `feature_values` point into `message` (sorted by key).
#[no_mangle]
pub unsafe extern "C" fn pyrt_message_trading_signal(
    message: *const PyrtMessage,
    out: *mut PyrtTradingSignal,
) -> PyrtStatus {
    ffi_boundary! {
        let message = handle_ref(message, "message")?;
        ensure_out(out, "out")?;
        message.0.with(|m| {
        let Held::Published(Message::Signal(s)) = &m.held else { return Err(m.wrong_kind("trading signal")) };
        write_out(out, PyrtTradingSignal {
            strategy_id: m.text(0),
            symbol: m.text(1),
            action: s.action,
            confidence: s.confidence,
            suggested_quantity: s.suggested_quantity,
            timestamp_us: s.timestamp_us,
            feature_keys: m.key_pointers.as_ptr(),
            feature_values: m.values.as_ptr(),
            features_len: m.values.len(),
        }, "out")
        })
    }
}

/// Reads a PYRT_MESSAGE_ORDER message; another kind is PYRT_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn pyrt_message_order_request(
    message: *const PyrtMessage,
    out: *mut PyrtOrderRequest,
) -> PyrtStatus {
    ffi_boundary! {
        let message = handle_ref(message, "message")?;
        ensure_out(out, "out")?;
        message.0.with(|m| {
        let Held::Published(Message::Order(o)) = &m.held else { return Err(m.wrong_kind("order request")) };
        write_out(out, PyrtOrderRequest {
            order_id: m.text(0),
            symbol: m.text(1),
            side: o.side,
            quantity: o.quantity,
            price: o.price,
            order_type: o.order_type,
            strategy_id: m.text(2),
        }, "out")
        })
    }
}

/// Reads a PYRT_MESSAGE_COMMAND message; another kind is PYRT_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn pyrt_message_command(message: *const PyrtMessage, out: *mut PyrtCommand) -> PyrtStatus {
    ffi_boundary! {
        let message = handle_ref(message, "message")?;
        ensure_out(out, "out")?;
        message.0.with(|m| {
        let Held::Command(c) = &m.held else { return Err(m.wrong_kind("command")) };
        write_out(out, PyrtCommand { command_type: c.r#type, payload: m.text(0), timestamp_us: c.timestamp_us }, "out")
        })
    }
}

/// Empties the message and refuses later calls on it (PYRT_CLOSED), from
/// any thread; a receive into it in progress finishes first. Idempotent;
/// NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn pyrt_message_close(message: *const PyrtMessage) {
    close_handle(message, |m| m.0.close());
}

/// Frees a message and the strings it holds. NULL is a no-op. It must not
/// be used afterwards (undefined behaviour).
#[no_mangle]
pub unsafe extern "C" fn pyrt_message_free(message: *mut PyrtMessage) {
    free_handle(message);
}

// ---- command channel --------------------------------------------------------

/// Creates a command sender connected to a command receiver's `endpoint`
/// (it may start later: ZeroMQ connects in the background).
#[no_mangle]
pub unsafe extern "C" fn pyrt_command_sender_new(endpoint: *const c_char, out: *mut *mut PyrtCommandSender) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let endpoint = input_str(endpoint, "endpoint")?;
        let inner = CommandSender::connect(endpoint)?;
        let cancel = inner.cancel_flag();
        write_handle(out, PyrtCommandSender(SocketHandle::new("command sender", inner, cancel)), "out")
    }
}

/// Sends a command (`command_type` a PYRT_COMMAND_*, `payload` JSON text or
/// NULL for "") and waits at most `timeout_ms` (-1 = forever) for its
/// acknowledgement. PYRT_TIMEOUT when none came (the sender then starts over
/// with a fresh connection, so it can be used again); PYRT_MESSAGING_ERROR
/// when the receiver refused the command. While it waits, the call polls
/// for up to 200 microseconds (yielding the CPU between polls) before it sleeps.
#[no_mangle]
pub unsafe extern "C" fn pyrt_command_sender_send(
    sender: *mut PyrtCommandSender,
    command_type: i32,
    payload: *const c_char,
    timeout_ms: i32,
) -> PyrtStatus {
    ffi_boundary! {
        let sender = handle_ref(sender, "sender")?;
        let payload = optional_str(payload, "payload")?;
        sender.0.with(|s| s.send(command_type, &payload, timeout_ms).map(|_| ()))
    }
}

/// Closes the sender's socket, from any thread: a send waiting for its
/// acknowledgement ends within 50 ms with PYRT_CLOSED; later calls return
/// PYRT_CLOSED. Idempotent; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn pyrt_command_sender_close(sender: *const PyrtCommandSender) {
    close_handle(sender, |s| s.0.close());
}

/// Closes the sender (as `pyrt_command_sender_close`) and releases the
/// handle. NULL is a no-op; it must not be used afterwards (undefined behaviour).
#[no_mangle]
pub unsafe extern "C" fn pyrt_command_sender_free(sender: *mut PyrtCommandSender) {
    free_handle(sender);
}

/// Creates a command receiver bound to `endpoint` ("tcp://127.0.0.1:*"
/// picks a free port; see `pyrt_command_receiver_last_endpoint`).
#[no_mangle]
pub unsafe extern "C" fn pyrt_command_receiver_new(
    endpoint: *const c_char,
    out: *mut *mut PyrtCommandReceiver,
) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let endpoint = input_str(endpoint, "endpoint")?;
        let inner = CommandReceiver::bind(endpoint)?;
        let endpoint = endpoint_cstring(inner.last_endpoint()?);
        let cancel = inner.cancel_flag();
        let state = ReceiverState { inner, endpoint, last_error: CString::default() };
        write_handle(out, PyrtCommandReceiver(SocketHandle::new("command receiver", state, cancel)), "out")
    }
}

/// Copies the bound endpoint into `buffer` (as `pyrt_publisher_last_endpoint`).
#[no_mangle]
pub unsafe extern "C" fn pyrt_command_receiver_last_endpoint(
    receiver: *const PyrtCommandReceiver,
    buffer: *mut c_char,
    capacity: usize,
    needed: *mut usize,
) -> PyrtStatus {
    ffi_boundary! {
        handle_ref(receiver, "receiver")?.0.with(|r| copy_out_str(&r.endpoint, buffer, capacity, needed))
    }
}

/// Receives the next command into `message` (kind PYRT_MESSAGE_COMMAND) and
/// acknowledges it, waiting at most `timeout_ms` (-1 = forever); PYRT_TIMEOUT
/// when none came. A request that does not decode is answered with an error
/// acknowledgement and counted (`pyrt_command_receiver_decode_errors`).
#[no_mangle]
pub unsafe extern "C" fn pyrt_command_receiver_receive(
    receiver: *mut PyrtCommandReceiver,
    timeout_ms: i32,
    message: *mut PyrtMessage,
) -> PyrtStatus {
    ffi_boundary! {
        let receiver = handle_ref(receiver, "receiver")?;
        let message = handle_ref(message, "message")?;
        receiver.0.with(|receiver| {
            message.0.with(|message| {
                let received = receiver.inner.receive(timeout_ms);
                sync_c_string(&mut receiver.last_error, receiver.inner.last_error());
                hold_or_timeout(message, received?.map(Held::Command), "no command", timeout_ms)
            })
        })
    }
}

/// Requests this receiver refused so far (undecodable, over-size, an
/// unknown command type). 0 for NULL or a closed receiver.
#[no_mangle]
pub unsafe extern "C" fn pyrt_command_receiver_decode_errors(receiver: *const PyrtCommandReceiver) -> u64 {
    match receiver.as_ref() {
        Some(r) => r.0.with(|r| Ok(r.inner.decode_errors())).unwrap_or(0),
        None => 0,
    }
}

/// Closes the receiver's socket, from any thread (as `pyrt_publisher_close`:
/// the last object closed waits at most one second for its last
/// acknowledgement to go out). A receive in progress ends within 50 ms with
/// PYRT_CLOSED. Idempotent; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn pyrt_command_receiver_close(receiver: *const PyrtCommandReceiver) {
    close_handle(receiver, |r| r.0.close());
}

/// Closes the receiver (as `pyrt_command_receiver_close`) and releases the
/// handle. NULL is a no-op; it must not be used afterwards (undefined behaviour).
#[no_mangle]
pub unsafe extern "C" fn pyrt_command_receiver_free(receiver: *mut PyrtCommandReceiver) {
    free_handle(receiver);
}

#[cfg(test)]
mod tests;
