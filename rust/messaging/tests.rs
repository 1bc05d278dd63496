//! Publisher, subscriber and command channel over real sockets on 127.0.0.1.

use super::proto::{self, order_request, trading_signal};
use super::*;
use crate::error::ErrorKind;

const WAIT_MS: i32 = 5000;
const ANY_PORT: &str = "tcp://127.0.0.1:*";

fn pair(topics: &[&str]) -> (Publisher, Subscriber) {
    let mut publisher = Publisher::bind(ANY_PORT, DEFAULT_HWM).unwrap();
    let subscriber = Subscriber::connect(&publisher.last_endpoint().unwrap(), topics, DEFAULT_HWM).unwrap();
    publisher.wait_for_subscribers(1, WAIT_MS).unwrap();
    (publisher, subscriber)
}

/// A plain libzmq REQ socket connected to `receiver`, for sending it bytes
/// no `CommandSender` would (the context is returned to outlive the socket).
fn raw_request_socket(receiver: &CommandReceiver) -> (zmq::Context, zmq::Socket) {
    let context = zmq::Context::new();
    let req = context.socket(zmq::REQ).unwrap();
    req.set_linger(0).unwrap();
    req.set_rcvtimeo(WAIT_MS).unwrap();
    req.connect(&receiver.last_endpoint().unwrap()).unwrap();
    (context, req)
}

fn tick(symbol: &str, bid: f64) -> proto::MarketTick {
    proto::MarketTick {
        symbol: symbol.into(),
        bid,
        ask: bid + 1.0,
        last: -bid,
        volume: 3.5,
        timestamp_us: -17,
        exchange: "Zürich".into(),
    }
}

#[test]
fn every_kind_round_trips() {
    let (mut publisher, mut subscriber) = pair(&["market.BTC/USD", "fills", "positions", "signals", "orders"]);
    let fill = proto::FillReport {
        order_id: "o".into(),
        fill_id: "f".into(),
        symbol: "ETH".into(),
        filled_quantity: -1.5,
        fill_price: 2.5,
        timestamp_us: i64::MIN,
        commission: 0.25,
    };
    let position = proto::PositionSnapshot {
        symbol: "株".into(),
        quantity: -2.0,
        avg_entry_price: 1.0,
        current_price: 3.0,
        unrealized_pnl: -4.0,
        realized_pnl: 5.0,
        last_update_us: i64::MAX,
    };
    let signal = proto::TradingSignal {
        strategy_id: "s".into(),
        symbol: "BTC/USD".into(),
        action: trading_signal::Action::Close as i32,
        confidence: 0.5,
        suggested_quantity: 2.0,
        timestamp_us: 9,
        features: [("b".to_string(), -1.0), ("a".to_string(), 2.0)].into_iter().collect(),
    };
    let order = proto::OrderRequest {
        order_id: "o2".into(),
        symbol: "AAPL".into(),
        side: order_request::Side::Sell as i32,
        quantity: 10.0,
        price: 0.0,
        order_type: order_request::OrderType::StopLimit as i32,
        strategy_id: "s".into(),
    };
    publisher.publish_tick(&tick("BTC/USD", 1.25)).unwrap();
    publisher.publish_fill(&fill).unwrap();
    publisher.publish_position(&position).unwrap();
    publisher.publish_signal(&signal).unwrap();
    publisher.publish_order(&order).unwrap();
    let expected = [
        Message::MarketData(tick("BTC/USD", 1.25)),
        Message::Fill(fill),
        Message::Position(position),
        Message::Signal(signal),
        Message::Order(order),
    ];
    for message in expected {
        assert_eq!(subscriber.receive(WAIT_MS).unwrap(), Some(message));
    }
    assert_eq!(subscriber.receive(0).unwrap(), None);
    assert_eq!(subscriber.stats().decode_errors, 0);
}

#[test]
fn topics_are_exact_unless_they_end_in_a_dot_or_star() {
    let mut publisher = Publisher::bind(ANY_PORT, DEFAULT_HWM).unwrap();
    let endpoint = publisher.last_endpoint().unwrap();
    let mut exact = Subscriber::connect(&endpoint, &["market.BTC/USD"], 0).unwrap();
    let mut prefix = Subscriber::connect(&endpoint, &["market."], 0).unwrap();
    publisher.wait_for_subscribers(2, WAIT_MS).unwrap();
    publisher.publish_tick(&tick("BTC/USDT", 1.0)).unwrap();
    publisher.publish_tick(&tick("BTC/USD", 2.0)).unwrap();
    let symbols = |s: &mut Subscriber| {
        let mut out = Vec::new();
        while let Some(Message::MarketData(t)) = s.receive(200).unwrap() {
            out.push(t.symbol);
        }
        out
    };
    assert_eq!(symbols(&mut exact), ["BTC/USD"]);
    assert_eq!(symbols(&mut prefix), ["BTC/USDT", "BTC/USD"]);
}

/// A plain ZeroMQ XPUB: it sees subscriptions arrive, so the test knows the
/// subscriber is there before sending.
fn raw_publisher() -> (zmq::Context, zmq::Socket, String) {
    let context = zmq::Context::new();
    let socket = context.socket(zmq::XPUB).unwrap();
    socket.set_linger(0).unwrap();
    socket.bind(ANY_PORT).unwrap();
    let endpoint = socket.get_last_endpoint().unwrap().unwrap();
    (context, socket, endpoint)
}

#[test]
fn what_a_peer_sends_wrong_is_counted_and_skipped() {
    let (_context, raw, endpoint) = raw_publisher();
    let mut subscriber = Subscriber::connect(&endpoint, &["*"], 0).unwrap();
    raw.set_rcvtimeo(WAIT_MS).unwrap();
    assert_eq!(raw.recv_bytes(0).unwrap(), b"\x01");
    use prost::Message as _;
    let valid = proto::FillReport { order_id: "ok".into(), ..Default::default() }.encode_to_vec();
    let bad: [Vec<&[u8]>; 6] = [
        vec![b"fills", b"\x07\xff garbage"],
        vec![b"fills", b""],
        vec![b"news", &valid],
        vec![b"fills"],
        vec![b"fills", &valid, b"x"],
        vec![b"market.A", b"\x0a\x05ab"],
    ];
    for frames in bad {
        raw.send_multipart(frames, 0).unwrap();
    }
    raw.send_multipart([b"fills" as &[u8], &valid], 0).unwrap();
    let got = subscriber.receive(WAIT_MS).unwrap();
    assert!(matches!(got, Some(Message::Fill(ref f)) if f.order_id == "ok"), "{got:?}");
    assert_eq!(subscriber.stats().decode_errors, 6);
    assert!(subscriber.stats().last_error.starts_with("payload:"), "{}", subscriber.stats().last_error);
}

#[test]
fn batches_take_ticks_and_pass_over_other_kinds() {
    let (mut publisher, mut subscriber) = pair(&["*"]);
    for i in 0..10 {
        publisher.publish_tick(&tick("A", f64::from(i))).unwrap();
        if i == 4 {
            publisher.publish_fill(&proto::FillReport::default()).unwrap();
        }
    }
    let mut bids = Vec::new();
    for _ in 0..100 {
        subscriber.receive_ticks(4, WAIT_MS, |t| bids.push(t.bid)).unwrap();
        if bids.len() == 10 {
            break;
        }
    }
    assert_eq!(bids, (0..10).map(f64::from).collect::<Vec<_>>());
    assert_eq!(subscriber.stats().skipped, 1);
    assert_eq!(subscriber.receive_ticks(4, 10, |_| ()).unwrap(), 0);
}

#[test]
fn bad_arguments_name_themselves() {
    assert!(Publisher::bind("", 0).unwrap_err().message.starts_with("endpoint"));
    assert!(Publisher::bind(ANY_PORT, -1).unwrap_err().message.starts_with("sndhwm"));
    assert_eq!(Publisher::bind("bogus://x", 0).unwrap_err().kind, ErrorKind::InvalidArgument);
    let none: [&str; 0] = [];
    assert!(Subscriber::connect("tcp://127.0.0.1:1", &none, 0).unwrap_err().message.starts_with("topics"));
    let mut publisher = Publisher::bind(ANY_PORT, 0).unwrap();
    assert!(publisher.publish_tick(&tick("", 1.0)).unwrap_err().message.starts_with("symbol"));
    let nul = tick("A\0B", 1.0);
    assert!(publisher.publish_tick(&nul).unwrap_err().message.starts_with("symbol"));
    let order = proto::OrderRequest { side: 2, ..Default::default() };
    assert!(publisher.publish_order(&order).unwrap_err().message.starts_with("side"));
    let order = proto::OrderRequest { order_type: 4, ..Default::default() };
    assert!(publisher.publish_order(&order).unwrap_err().message.starts_with("order_type"));
    let signal = proto::TradingSignal { action: 4, ..Default::default() };
    assert!(publisher.publish_signal(&signal).unwrap_err().message.starts_with("action"));
    let err = publisher.wait_for_subscribers(1, 20).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert!(publisher.wait_for_subscribers(1, -2).unwrap_err().message.starts_with("timeout_ms"));
    let endpoint = publisher.last_endpoint().unwrap();
    assert_eq!(Publisher::bind(&endpoint, 0).unwrap_err().kind, ErrorKind::Messaging);
    assert!(Message::decode(Kind::Fill, b"").is_err());
}

#[test]
fn commands_are_acknowledged_and_timeouts_do_not_wedge_the_sender() {
    let mut receiver = CommandReceiver::bind(ANY_PORT).unwrap();
    let endpoint = receiver.last_endpoint().unwrap();
    let mut sender = CommandSender::connect(&endpoint).unwrap();
    let worker = std::thread::spawn(move || {
        let command = receiver.receive(WAIT_MS).unwrap().unwrap();
        (receiver, command)
    });
    let ack = sender.send(3, "{\"limit\": 1}", WAIT_MS).unwrap();
    let (mut receiver, command) = worker.join().unwrap();
    assert_eq!((command.r#type, command.payload.as_str()), (3, "{\"limit\": 1}"));
    assert_eq!((ack.r#type, ack.payload.as_str(), ack.timestamp_us), (3, ACK_OK, command.timestamp_us));

    // Nobody answers: a timeout, twice, then a normal round trip.
    assert_eq!(sender.send(0, "{}", 50).unwrap_err().kind, ErrorKind::Timeout);
    assert_eq!(sender.send(0, "{}", 50).unwrap_err().kind, ErrorKind::Timeout);
    while receiver.receive(200).unwrap().is_some() {}
    let worker = std::thread::spawn(move || receiver.receive(WAIT_MS).unwrap().unwrap());
    sender.send(1, "{\"n\": 3}", WAIT_MS).unwrap();
    assert_eq!(worker.join().unwrap().payload, "{\"n\": 3}");

    assert!(sender.send(5, "{}", 10).unwrap_err().message.starts_with("type"));
}

#[test]
fn a_refused_command_is_an_error_for_the_sender() {
    let mut receiver = CommandReceiver::bind(ANY_PORT).unwrap();
    let (_context, req) = raw_request_socket(&receiver);
    req.send(&b"\x07garbage"[..], 0).unwrap();
    assert_eq!(receiver.receive(200).unwrap(), None);
    let refusal = req.recv_bytes(0).unwrap();
    use prost::Message as _;
    let refusal = proto::Command::decode(&refusal[..]).unwrap();
    assert!(refusal.payload.contains("\"status\": \"error\""), "{}", refusal.payload);
    assert_eq!(receiver.decode_errors(), 1);
}

#[test]
fn malformed_endpoints_ports_and_names_are_refused() {
    for endpoint in [
        "tcp://127.0.0.1:99999",
        "tcp://127.0.0.1:65536",
        "tcp://127.0.0.1:-1",
        "tcp://127.0.0.1:",
        "tcp://127.0.0.1",
        "tcp://:5555",
        "udp://127.0.0.1:5555",
        "127.0.0.1:5555",
        "tcp://",
    ] {
        let err = Publisher::bind(endpoint, 0).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidArgument, "{endpoint}: {}", err.message);
        assert!(err.message.starts_with("endpoint"), "{}", err.message);
        assert!(Subscriber::connect(endpoint, &["*"], 0).is_err());
        assert!(CommandSender::connect(endpoint).is_err());
    }
    let long_ipc = format!("ipc:///tmp/{}", "x".repeat(200));
    assert!(Publisher::bind(&long_ipc, 0).unwrap_err().message.contains("longer than 107"));
    let huge_topic = "t".repeat(MAX_NAME_LEN + 1);
    let err = Subscriber::connect("tcp://127.0.0.1:1", &[huge_topic.as_str()], 0).unwrap_err();
    assert!(err.message.starts_with("topics: a topic of 1025 bytes"), "{}", err.message);
    let mut publisher = Publisher::bind(ANY_PORT, 0).unwrap();
    let err = publisher.publish_tick(&tick(&"S".repeat(MAX_NAME_LEN + 1), 1.0)).unwrap_err();
    assert!(err.message.starts_with("symbol: 1025 bytes"), "{}", err.message);
    let fill = proto::FillReport { order_id: "o".repeat(5000), ..Default::default() };
    assert!(publisher.publish_fill(&fill).unwrap_err().message.starts_with("order_id"));
}

#[test]
fn oversized_messages_are_dropped_and_counted_and_the_subscriber_goes_on() {
    let (_context, raw, endpoint) = raw_publisher();
    let mut subscriber = Subscriber::connect(&endpoint, &["*"], 0).unwrap();
    assert_eq!(subscriber.max_message_size(), DEFAULT_MAX_MESSAGE_SIZE);
    assert!(subscriber.set_max_message_size(0).is_err());
    subscriber.set_max_message_size(1000).unwrap();
    raw.set_rcvtimeo(WAIT_MS).unwrap();
    assert_eq!(raw.recv_bytes(0).unwrap(), b"\x01");
    use prost::Message as _;
    let big = proto::FillReport { order_id: "x".repeat(2000), ..Default::default() }.encode_to_vec();
    let small = proto::FillReport { order_id: "ok".into(), ..Default::default() }.encode_to_vec();
    for _ in 0..3 {
        raw.send_multipart([b"fills" as &[u8], &big], 0).unwrap();
    }
    raw.send_multipart([b"fills" as &[u8], &small], 0).unwrap();
    let got = subscriber.receive(WAIT_MS).unwrap();
    assert!(matches!(got, Some(Message::Fill(ref f)) if f.order_id == "ok"), "{got:?}");
    assert_eq!(subscriber.stats().oversized, 3);
    assert_eq!(subscriber.stats().decode_errors, 0);
    assert!(subscriber.stats().last_error.starts_with("size:"), "{}", subscriber.stats().last_error);
}

#[test]
fn a_command_of_unknown_type_is_answered_with_an_error() {
    let mut receiver = CommandReceiver::bind(ANY_PORT).unwrap();
    let (_context, req) = raw_request_socket(&receiver);
    use prost::Message as _;
    let request = proto::Command { r#type: 99, payload: "{}".into(), timestamp_us: 5 }.encode_to_vec();
    req.send(&request[..], 0).unwrap();
    assert_eq!(receiver.receive(200).unwrap(), None);
    let refusal = proto::Command::decode(&req.recv_bytes(0).unwrap()[..]).unwrap();
    assert!(refusal.payload.contains("unknown command type 99"), "{}", refusal.payload);
    assert_eq!(receiver.decode_errors(), 1);
}

#[test]
fn a_cancel_flag_ends_a_receive_that_would_wait_for_ever() {
    let mut subscriber = Subscriber::connect("tcp://127.0.0.1:1", &["*"], 0).unwrap();
    let flag = subscriber.cancel_flag();
    let started = std::time::Instant::now();
    let setter = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(100));
        flag.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let err = subscriber.receive(-1).unwrap_err();
    setter.join().unwrap();
    assert_eq!(err.kind, ErrorKind::Closed);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

/// libzmq wakes the threads behind a socket through an eventfd only when it
/// is compiled with ZMQ_HAVE_EVENTFD (set in .cargo/config.toml); its
/// fallback, a Unix socket pair, costs the command channel several
/// microseconds per round trip. Nothing else in this process makes an eventfd.
#[cfg(target_os = "linux")]
#[test]
fn libzmq_wakes_its_threads_through_an_eventfd() {
    let receiver = CommandReceiver::bind(ANY_PORT).unwrap();
    let eventfds = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| target.as_os_str() == "anon_inode:[eventfd]")
        .count();
    drop(receiver);
    assert!(eventfds > 0, "libzmq was built without ZMQ_HAVE_EVENTFD: was cargo run outside this tree?");
}

#[test]
fn a_sender_whose_receiver_never_answers_times_out_on_time() {
    // A bound receiver that never calls receive(): the request is queued, never acknowledged.
    let receiver = CommandReceiver::bind(ANY_PORT).unwrap();
    let mut sender = CommandSender::connect(&receiver.last_endpoint().unwrap()).unwrap();
    for timeout_ms in [0, 1, 30, 120] {
        let started = std::time::Instant::now();
        let err = sender.send(2, "{}", timeout_ms).unwrap_err();
        let waited = started.elapsed();
        assert_eq!(err.kind, ErrorKind::Timeout, "{}", err.message);
        assert!(waited >= std::time::Duration::from_millis(timeout_ms as u64), "{timeout_ms} ms: {waited:?}");
        assert!(waited < std::time::Duration::from_millis(timeout_ms as u64 + 500), "{timeout_ms} ms: {waited:?}");
    }
}
