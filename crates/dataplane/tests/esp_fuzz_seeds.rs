//! The `esp_decap` fuzz seeds must reach deep: the raw seed (a scapy-made ESP packet under the
//! fuzz target's fixed GCM key) must decapsulate, or the fuzzer starts from nothing that
//! authenticates.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use rampart_crypto::{AeadAlg, EncrAlg};
use rampart_dataplane::esp::{EspTransform, InboundEspSa};
use rampart_dataplane::lifetime::Lifetimes;
use rampart_dataplane::sa::{InboundSaState, Mode, SaConfig, Spi};
use rampart_dataplane::{InboundTransform, InboundVerdict, PacketBuf, Timestamp};
use rampart_wire::ike::iana::ProtocolId;

#[test]
fn raw_seed_decapsulates_under_the_fuzz_key() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/esp_decap/raw_gcm_tunnel_v4");
    let seed = std::fs::read(&path).expect("seed present");
    assert_eq!(seed[0] & 1, 0, "first byte selects the raw scenario");
    let cfg = SaConfig {
        spi: Spi(0x0102_0304),
        protocol: ProtocolId::ESP,
        mode: Mode::Tunnel,
        encap: None,
        src: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        dst: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
        esn: false,
        replay_window: 64,
        lifetimes: Lifetimes::default(),
    };
    let key: Vec<u8> = (0..20).collect();
    let t = EspTransform::new(EncrAlg::Aead(AeadAlg::AES_128_GCM_16), None, &key).unwrap();
    let sa = InboundEspSa::new(InboundSaState::new(cfg, Timestamp::ZERO).unwrap(), t).unwrap();
    let mut p = PacketBuf::from_slice(&seed[1..]);
    assert_eq!(
        sa.unprotect(&mut p, Timestamp::ZERO, &mut Vec::new()),
        InboundVerdict::Deliver
    );
    assert!(p.data().ends_with(b"seed"));
}
