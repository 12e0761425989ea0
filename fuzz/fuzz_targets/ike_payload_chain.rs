//! The decrypted content of an SK payload: the first byte picks the first payload type, the rest
//! is the chain. Parsing never panics, and what parses round-trips through the emitter.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_wire::ike::iana::PayloadType;
use rampart_wire::ike::{Writer, emit_payload_chain, parse_payload_chain};

fuzz_target!(|data: &[u8]| {
    let Some((&first, chain)) = data.split_first() else {
        return;
    };
    if let Ok(payloads) = parse_payload_chain(PayloadType(first), chain) {
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        if payloads.is_empty() {
            return;
        }
        let first_again = emit_payload_chain(&payloads, &mut w).expect("parsed payloads re-emit");
        let again = parse_payload_chain(first_again, &out).expect("emitted chain parses");
        assert_eq!(again, payloads);
    }
});
