//! ESP decapsulation on hostile input: never panics, and what we encapsulate ourselves always
//! decapsulates back.
//!
//! The first byte picks a scenario, the rest drives it:
//! - raw: the bytes are a received datagram, fed to inbound SAs of every algorithm family, mode
//!   and encapsulation (random bytes almost never authenticate, so this exercises the header,
//!   length and ICV paths);
//! - structured: the bytes choose the plaintext packet (a valid IPv4 or IPv6 header is built
//!   around them) and an SA; we encapsulate it, decapsulation must give the packet back; then
//!   a few fuzzer-chosen bytes of the protected datagram are changed after encryption and
//!   decapsulation runs again on a fresh SA (it must not panic; if it delivers, the change hit
//!   only unauthenticated outer-header bytes).
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rampart_crypto::{AeadAlg, CipherAlg, EncrAlg, IntegAlg};
use rampart_dataplane::drop::DropReason;
use rampart_dataplane::esp::{EspTransform, InboundEspSa, OutboundEspSa};
use rampart_dataplane::lifetime::Lifetimes;
use rampart_dataplane::sa::{InboundSaState, Mode, OutboundSaState, SaConfig, Spi, UdpEncap};
use rampart_dataplane::{
    InboundTransform, InboundVerdict, OutboundTransform, OutboundVerdict, PacketBuf, Timestamp,
};
use rampart_wire::ike::iana::ProtocolId;
use rampart_wire::ip::IpProtocol;
use rampart_wire::{ipv4, ipv6};

const SUITES: [(EncrAlg, Option<IntegAlg>); 3] = [
    (EncrAlg::Aead(AeadAlg::AES_128_GCM_16), None),
    (EncrAlg::Cipher(CipherAlg::AesCbc128), Some(IntegAlg::HmacSha256_128)),
    (EncrAlg::Cipher(CipherAlg::Null), Some(IntegAlg::HmacSha1_96)),
];

fn config(mode: Mode, v6: bool, encap: bool, esn: bool) -> SaConfig {
    let (src, dst) = if v6 {
        (IpAddr::V6(Ipv6Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)))
    } else {
        (IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)))
    };
    SaConfig {
        spi: Spi(0x0102_0304),
        protocol: ProtocolId::ESP,
        mode,
        encap: encap.then_some(UdpEncap { src_port: 4500, dst_port: 4500 }),
        src,
        dst,
        esn,
        replay_window: 64,
        lifetimes: Lifetimes::default(),
    }
}

fn transform(suite: usize) -> EspTransform {
    let (encr, integ) = SUITES[suite % SUITES.len()];
    let len = encr.key_material_len() + integ.map_or(0, IntegAlg::key_len);
    let key: Vec<u8> = (0..len as u8).collect();
    EspTransform::new(encr, integ, &key).expect("fixed keys have the right length")
}

fn inbound(suite: usize, mode: Mode, v6: bool, encap: bool, esn: bool) -> InboundEspSa {
    let state = InboundSaState::new(config(mode, v6, encap, esn), Timestamp::ZERO)
        .expect("valid config");
    InboundEspSa::new(state, transform(suite)).expect("ESP state")
}

/// Long-lived inbound SAs for the raw scenario (every combination).
fn raw_sas() -> &'static Vec<InboundEspSa> {
    static SAS: OnceLock<Vec<InboundEspSa>> = OnceLock::new();
    SAS.get_or_init(|| {
        let mut v = Vec::new();
        for suite in 0..SUITES.len() {
            for mode in [Mode::Tunnel, Mode::Transport] {
                for (v6, encap, esn) in [(false, false, false), (true, true, true), (false, true, true)] {
                    v.push(inbound(suite, mode, v6, encap, esn));
                }
            }
        }
        v
    })
}

/// A plain IPv4 or IPv6 packet around `payload`.
fn plain(v6: bool, proto: u8, payload: &[u8]) -> Vec<u8> {
    let hl = if v6 { ipv6::HEADER_LEN } else { ipv4::HEADER_LEN };
    let mut p = vec![0u8; hl + payload.len()];
    p[hl..].copy_from_slice(payload);
    if v6 {
        let repr = ipv6::Repr {
            src_addr: Ipv6Addr::LOCALHOST,
            dst_addr: Ipv6Addr::UNSPECIFIED,
            next_header: IpProtocol(proto),
            payload_len: payload.len(),
            hop_limit: 1,
            traffic_class: proto,
            flow_label: 0,
        };
        repr.emit(&mut p).expect("fits");
    } else {
        let repr = ipv4::Repr {
            src_addr: Ipv4Addr::LOCALHOST,
            dst_addr: Ipv4Addr::BROADCAST,
            protocol: IpProtocol(proto),
            payload_len: payload.len(),
            ttl: 1,
            dscp: proto >> 2,
            ecn: proto & 3,
            ident: 0,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
        };
        repr.emit(&mut p).expect("fits");
    }
    p
}

fn structured(data: &[u8]) {
    let [sel, proto, m1, m2, v1, rest @ ..] = data else {
        return;
    };
    let suite = usize::from(sel % 3);
    let mode = if sel & 4 == 0 { Mode::Tunnel } else { Mode::Transport };
    let (v6, encap, esn) = (sel & 8 != 0, sel & 16 != 0, sel & 32 != 0);
    let inner_v6 = if mode == Mode::Transport { v6 } else { sel & 64 != 0 };
    let payload = &rest[..rest.len().min(2000)];
    // Transport mode over IPv6 walks extension headers: keep the chain well-formed by not
    // naming one (the raw scenario covers malformed chains).
    let proto = if inner_v6 && matches!(proto, 0 | 43 | 44 | 60 | 135) { 17 } else { *proto };
    let plain = plain(inner_v6, proto, payload);
    let state = OutboundSaState::new(config(mode, v6, encap, esn), Timestamp::ZERO)
        .expect("valid config");
    let out = OutboundEspSa::new(state, transform(suite)).expect("ESP state");
    let inb = inbound(suite, mode, v6, encap, esn);
    let mut pkt = PacketBuf::from_slice(&plain);
    let mut ev = Vec::new();
    assert_eq!(out.protect(&mut pkt, Timestamp::ZERO, &mut ev), OutboundVerdict::Send);
    let protected = pkt.data().to_vec();
    let verdict = inb.unprotect(&mut pkt, Timestamp::ZERO, &mut ev);
    if mode == Mode::Transport && proto == 59 {
        // Transport mode puts the packet's own protocol in the ESP Next Header, and 59 there
        // means a dummy packet (RFC 4303 §2.6): the receiver drops it, as it must.
        assert_eq!(verdict, InboundVerdict::Drop(DropReason::DummyPacket));
    } else {
        assert_eq!(verdict, InboundVerdict::Deliver);
        assert_eq!(pkt.data(), &plain[..]);
    }

    let mut bad = protected;
    let at = usize::from(u16::from_be_bytes([*m1, *m2])) % bad.len();
    bad[at] ^= v1 | 1;
    let fresh = inbound(suite, mode, v6, encap, esn);
    let _ = fresh.unprotect(&mut PacketBuf::from_slice(&bad), Timestamp::ZERO, &mut ev);
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    if first & 1 == 0 {
        let mut ev = Vec::new();
        for sa in raw_sas() {
            let _ = sa.unprotect(&mut PacketBuf::from_slice(rest), Timestamp::ZERO, &mut ev);
        }
        let _ = rampart_dataplane::batch::inbound_spi(rest);
    } else {
        structured(rest);
    }
});
