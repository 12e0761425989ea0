//! SK payload round trips in both directions and both cipher families, and rejection of any
//! altered byte.

use super::*;
use crate::keys::derive_ike_keys;
use rampart_crypto::DeterministicRandom;
use rampart_crypto::proposal::ProposalSpec;
use rampart_wire::ike::NotifyPayload;
use rampart_wire::ike::iana::NotifyType;

fn pair(proposal: &str) -> (SkCrypto, SkCrypto) {
    let algs = IkeAlgs::from_chosen(&ProposalSpec::parse_ike(proposal).unwrap()).unwrap();
    let keys = derive_ike_keys(&algs, &SecretBytes::zeroed(32), &[1; 32], &[2; 32], 7, 9).unwrap();
    let rng: Arc<dyn SecureRandom> = Arc::new(DeterministicRandom::from_u64(1));
    (
        SkCrypto::new(&algs, &keys, true, rng.clone()).unwrap(),
        SkCrypto::new(&algs, &keys, false, rng).unwrap(),
    )
}

fn header() -> Header {
    Header {
        spi_i: 7,
        spi_r: 9,
        exchange: ExchangeType::INFORMATIONAL,
        flags: IkeFlags::INITIATOR,
        message_id: 3,
    }
}

fn inner() -> Vec<Payload> {
    vec![Payload::Notify(NotifyPayload::new(
        NotifyType::INITIAL_CONTACT,
        vec![],
    ))]
}

fn one_way(proposal: &str, sender: &mut SkCrypto, receiver: &SkCrypto) {
    let bytes = sender.seal(header(), &inner()).unwrap();
    let msg = Message::parse(&bytes).unwrap();
    assert_eq!(receiver.open(&bytes, &msg).unwrap(), inner(), "{proposal}");
    // The sender cannot open its own message: the directions have different keys.
    assert_eq!(sender.open(&bytes, &msg), Err(SkError::Integrity));
    for at in [0, 20, 30, bytes.len() / 2, bytes.len() - 1] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x01;
        if let Ok(m) = Message::parse(&bad) {
            assert!(receiver.open(&bad, &m).is_err(), "{proposal} byte {at}");
        }
    }
}

#[test]
fn round_trip_and_tamper_detection() {
    for proposal in [
        "aes128gcm16-prfsha256-x25519",
        "aes256-sha256-x25519",
        "chacha20poly1305-prfsha512-x25519",
    ] {
        let (mut init, mut resp) = pair(proposal);
        one_way(proposal, &mut init, &resp);
        one_way(proposal, &mut resp, &init);
        // Empty INFORMATIONAL (a liveness check) works too.
        let bytes = init.seal(header(), &[]).unwrap();
        assert_eq!(
            resp.open(&bytes, &Message::parse(&bytes).unwrap()).unwrap(),
            vec![]
        );
    }
}

#[test]
fn aead_ivs_never_repeat() {
    let (mut init, _) = pair("aes128gcm16-prfsha256-x25519");
    let a = init.seal(header(), &inner()).unwrap();
    let b = init.seal(header(), &inner()).unwrap();
    assert_ne!(a[32..40], b[32..40]);
    assert_ne!(a, b);
}
