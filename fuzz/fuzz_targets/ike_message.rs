//! A whole IKEv2 datagram: parsing never panics, and whatever parses re-emits to a message that
//! parses back to the same value (the emitter accepts everything the parser produces).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_wire::ike::Message;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = Message::parse(data) {
        let bytes = msg.emit().expect("a parsed message re-emits");
        let again = Message::parse(&bytes).expect("an emitted message parses");
        assert_eq!(again, msg);
    }
});
