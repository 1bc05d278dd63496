//! Bytes from a peer decoded as each published message kind and as a
//! command request, as a subscriber and a command receiver decode them.
//! Every outcome must be a message or an error: no panic, no crash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyrt::messaging::{decode_command, Kind, Message};

const KINDS: [Kind; 5] = [Kind::MarketData, Kind::Fill, Kind::Position, Kind::Signal, Kind::Order];

fuzz_target!(|data: &[u8]| {
    for kind in KINDS {
        if let Ok(message) = Message::decode(kind, data) {
            assert_eq!(message.kind(), kind);
        }
    }
    let _ = decode_command(data);
});
