//! The fuzz seed corpora (built with scapy, an independent encoder) must parse: a seed that our
//! parser rejects would leave the fuzzer starting from nothing — and would be a parser bug.

use std::path::Path;

use rampart_wire::ike::iana::PayloadType;
use rampart_wire::ike::{Message, parse_payload_chain};

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.expect("readable seed dir entry").path();
            let bytes = std::fs::read(&p).expect("readable seed file");
            (p.display().to_string(), bytes)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds in {}", dir.display());
    out
}

#[test]
fn ike_message_seeds_parse() {
    for (name, bytes) in seeds("ike_message") {
        let msg = Message::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!msg.payloads.is_empty(), "{name}");
    }
}

#[test]
fn ike_payload_chain_seeds_parse() {
    for (name, bytes) in seeds("ike_payload_chain") {
        let (&first, chain) = bytes.split_first().expect("seed has a type byte");
        let payloads = parse_payload_chain(PayloadType(first), chain)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(payloads.len() >= 4, "{name}");
    }
}
