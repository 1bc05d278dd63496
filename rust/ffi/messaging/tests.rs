//! The messaging entry points called as C would: NULLs, bad values, short buffers.

use std::ffi::{c_char, CStr};
use std::ptr::{null, null_mut};

use super::*;

fn last_error() -> String {
    unsafe { CStr::from_ptr(pyrt_last_error_message()) }.to_string_lossy().into_owned()
}

#[test]
fn null_handles_and_out_pointers_are_refused() {
    unsafe {
        let mut publisher: *mut PyrtPublisher = null_mut();
        assert_eq!(pyrt_publisher_new(null(), 0, &mut publisher), PYRT_NULL_POINTER);
        assert!(last_error().starts_with("endpoint"));
        assert_eq!(pyrt_publisher_new(c"tcp://127.0.0.1:*".as_ptr(), 0, null_mut()), PYRT_NULL_POINTER);
        assert!(publisher.is_null());
        assert_eq!(pyrt_publisher_publish_tick(null_mut(), null()), PYRT_NULL_POINTER);
        assert_eq!(pyrt_publisher_publish_tick_records(null_mut(), null(), 0), PYRT_NULL_POINTER);
        assert_eq!(pyrt_publisher_wait_for_subscribers(null_mut(), 0, 0), PYRT_NULL_POINTER);
        let mut subscriber: *mut PyrtSubscriber = null_mut();
        let topics = [c"fills".as_ptr()];
        assert_eq!(
            pyrt_subscriber_new(c"tcp://127.0.0.1:1".as_ptr(), topics.as_ptr(), 0, 0, &mut subscriber),
            PYRT_INVALID_ARGUMENT
        );
        assert!(last_error().starts_with("topics"));
        let bad_topics = [null::<c_char>()];
        assert_eq!(
            pyrt_subscriber_new(c"tcp://127.0.0.1:1".as_ptr(), bad_topics.as_ptr(), 1, 0, &mut subscriber),
            PYRT_NULL_POINTER
        );
        assert!(subscriber.is_null());
        assert_eq!(pyrt_subscriber_receive(null_mut(), 0, null_mut()), PYRT_NULL_POINTER);
        let mut received = 0usize;
        assert_eq!(pyrt_subscriber_receive_ticks(null_mut(), null_mut(), 0, 0, &mut received), PYRT_NULL_POINTER);
        assert_eq!(pyrt_subscriber_decode_errors(null()), 0);
        assert_eq!(pyrt_subscriber_skipped(null()), 0);
        assert_eq!(pyrt_subscriber_truncated(null()), 0);
        let mut needed = 0usize;
        assert_eq!(pyrt_subscriber_last_decode_error(null(), null_mut(), 0, &mut needed), PYRT_NULL_POINTER);
        assert_eq!(pyrt_subscriber_oversized(null()), 0);
        assert_eq!(pyrt_message_kind(null()), PYRT_MESSAGE_NONE);
        assert_eq!(pyrt_message_new(null_mut()), PYRT_NULL_POINTER);
        let mut sender: *mut PyrtCommandSender = null_mut();
        assert_eq!(pyrt_command_sender_new(null(), &mut sender), PYRT_NULL_POINTER);
        assert_eq!(pyrt_command_sender_send(null_mut(), 0, null(), 0), PYRT_NULL_POINTER);
        let mut receiver: *mut PyrtCommandReceiver = null_mut();
        assert_eq!(pyrt_command_receiver_new(null(), &mut receiver), PYRT_NULL_POINTER);
        assert_eq!(pyrt_command_receiver_receive(null_mut(), 0, null_mut()), PYRT_NULL_POINTER);
        assert_eq!(pyrt_command_receiver_decode_errors(null()), 0);
        pyrt_publisher_free(null_mut());
        pyrt_subscriber_free(null_mut());
        pyrt_message_free(null_mut());
        pyrt_command_sender_free(null_mut());
        pyrt_command_receiver_free(null_mut());
    }
}

#[test]
fn bad_values_are_refused_before_anything_is_sent() {
    unsafe {
        let mut publisher: *mut PyrtPublisher = null_mut();
        assert_eq!(pyrt_publisher_new(c"tcp://127.0.0.1:*".as_ptr(), PYRT_DEFAULT_HWM, &mut publisher), PYRT_OK);
        let order = PyrtOrderRequest {
            order_id: null(),
            symbol: c"X".as_ptr(),
            side: 5,
            quantity: 1.0,
            price: 0.0,
            order_type: PYRT_ORDER_REQUEST_MARKET,
            strategy_id: null(),
        };
        assert_eq!(pyrt_publisher_publish_order(publisher, &order), PYRT_INVALID_ARGUMENT);
        assert!(last_error().starts_with("side"), "{}", last_error());
        let signal = PyrtTradingSignal {
            strategy_id: null(),
            symbol: null(),
            action: PYRT_TRADING_SIGNAL_BUY,
            confidence: 1.0,
            suggested_quantity: 1.0,
            timestamp_us: 0,
            feature_keys: null(),
            feature_values: null(),
            features_len: 2,
        };
        assert_eq!(pyrt_publisher_publish_signal(publisher, &signal), PYRT_NULL_POINTER);
        assert!(last_error().starts_with("feature_keys"), "{}", last_error());
        let invalid_utf8 = [0xffu8 as c_char, 0];
        let tick = PyrtMarketTick {
            symbol: invalid_utf8.as_ptr(),
            bid: 0.0,
            ask: 0.0,
            last: 0.0,
            volume: 0.0,
            timestamp_us: 0,
            exchange: null(),
        };
        assert_eq!(pyrt_publisher_publish_tick(publisher, &tick), PYRT_INVALID_ARGUMENT);
        assert!(last_error().starts_with("symbol"), "{}", last_error());
        let empty = PyrtTickRecord {
            timestamp_us: 0,
            bid: 0.0,
            ask: 0.0,
            last: 0.0,
            volume: 0.0,
            symbol: [0; 32],
            exchange: [0; 16],
        };
        assert_eq!(pyrt_publisher_publish_tick_records(publisher, &empty, 1), PYRT_INVALID_ARGUMENT);
        assert!(last_error().starts_with("records[0].symbol"), "{}", last_error());
        assert_eq!(pyrt_publisher_publish_tick_records(publisher, null(), 0), PYRT_OK);

        let mut needed = 0usize;
        let mut small = [0 as c_char; 4];
        assert_eq!(
            pyrt_publisher_last_endpoint(publisher, small.as_mut_ptr(), small.len(), &mut needed),
            PYRT_BUFFER_TOO_SMALL
        );
        assert!(needed > 4);
        assert_eq!(small, [0; 4]);
        let mut buffer = vec![0 as c_char; needed];
        assert_eq!(pyrt_publisher_last_endpoint(publisher, buffer.as_mut_ptr(), needed, &mut needed), PYRT_OK);
        assert!(CStr::from_ptr(buffer.as_ptr()).to_str().unwrap().starts_with("tcp://127.0.0.1:"));
        pyrt_publisher_free(publisher);
    }
}

#[test]
fn an_empty_message_reads_as_no_kind() {
    unsafe {
        let mut message: *mut PyrtMessage = null_mut();
        assert_eq!(pyrt_message_new(&mut message), PYRT_OK);
        assert_eq!(pyrt_message_kind(message), PYRT_MESSAGE_NONE);
        let mut tick = std::mem::MaybeUninit::<PyrtMarketTick>::uninit();
        assert_eq!(pyrt_message_market_tick(message, tick.as_mut_ptr()), PYRT_INVALID_ARGUMENT);
        assert!(last_error().starts_with("message"), "{}", last_error());
        let mut command = std::mem::MaybeUninit::<PyrtCommand>::uninit();
        assert_eq!(pyrt_message_command(message, command.as_mut_ptr()), PYRT_INVALID_ARGUMENT);
        pyrt_message_free(message);
    }
}

#[test]
fn record_text_is_cut_at_a_character_boundary() {
    let mut out = [1 as c_char; 4];
    assert!(!fill_record_text(&mut out, "ab"));
    assert_eq!(out, [b'a' as c_char, b'b' as c_char, 0, 0]);
    assert!(fill_record_text(&mut out, "abcé")); // 'é' is two bytes: only "abc" fits
    assert_eq!(out, [b'a' as c_char, b'b' as c_char, b'c' as c_char, 0]);
    assert!(!fill_record_text(&mut out, "abcd"));
    assert_eq!(record_text(&out, "symbol").unwrap(), "abcd");
    let invalid = [0xffu8 as c_char, 0];
    assert!(record_text(&invalid, "symbol").unwrap_err().message.starts_with("symbol"));
}
