//! Shared fixtures of the ESP integration tests: SA pairs over every algorithm family and plain
//! IPv4/IPv6 packets built with the wire crate's emitters.
#![allow(dead_code, unreachable_pub)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rampart_crypto::{AeadAlg, CipherAlg, EncrAlg, IntegAlg};
use rampart_dataplane::esp::{EspTransform, InboundEspSa, OutboundEspSa};
use rampart_dataplane::lifetime::Lifetimes;
use rampart_dataplane::sa::{InboundSaState, Mode, OutboundSaState, SaConfig, Spi, UdpEncap};
use rampart_dataplane::{PacketBuf, Timestamp};
use rampart_wire::ike::iana::ProtocolId;
use rampart_wire::ip::{AddrPair, IpProtocol};
use rampart_wire::{ipv4, ipv6, udp};

pub const SPI: Spi = Spi(0x0102_0304);

/// The algorithm suites under test: name, encryption, integrity.
pub const SUITES: &[(&str, EncrAlg, Option<IntegAlg>)] = &[
    ("aes128gcm16", EncrAlg::Aead(AeadAlg::AES_128_GCM_16), None),
    ("aes256gcm16", EncrAlg::Aead(AeadAlg::AES_256_GCM_16), None),
    (
        "chacha20poly1305",
        EncrAlg::Aead(AeadAlg::CHACHA20_POLY1305),
        None,
    ),
    (
        "aes128-sha256",
        EncrAlg::Cipher(CipherAlg::AesCbc128),
        Some(IntegAlg::HmacSha256_128),
    ),
    (
        "aes256-sha1",
        EncrAlg::Cipher(CipherAlg::AesCbc256),
        Some(IntegAlg::HmacSha1_96),
    ),
    (
        "null-sha256",
        EncrAlg::Cipher(CipherAlg::Null),
        Some(IntegAlg::HmacSha256_128),
    ),
];

/// Deterministic key material of the right length for a suite.
pub fn keymat(encr: EncrAlg, integ: Option<IntegAlg>) -> Vec<u8> {
    let len = encr.key_material_len() + integ.map_or(0, IntegAlg::key_len);
    (0..len)
        .map(|i| (i as u8).wrapping_mul(7).wrapping_add(3))
        .collect()
}

pub fn v4(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

pub fn v6(last: u16) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last))
}

/// The options an SA pair is built with.
#[derive(Clone, Debug)]
pub struct Opts {
    pub mode: Mode,
    pub outer_v6: bool,
    pub encap: bool,
    pub esn: bool,
    pub window: u32,
    pub lifetimes: Lifetimes,
    pub last_sent: u64,
}

impl Default for Opts {
    fn default() -> Self {
        Self {
            mode: Mode::Tunnel,
            outer_v6: false,
            encap: false,
            esn: false,
            window: 64,
            lifetimes: Lifetimes::default(),
            last_sent: 0,
        }
    }
}

pub fn config(o: &Opts) -> SaConfig {
    let (src, dst) = if o.outer_v6 {
        (v6(1), v6(2))
    } else {
        (v4(1), v4(2))
    };
    SaConfig {
        spi: SPI,
        protocol: ProtocolId::ESP,
        mode: o.mode,
        encap: o.encap.then_some(UdpEncap {
            src_port: 4500,
            dst_port: 4501,
        }),
        src,
        dst,
        esn: o.esn,
        replay_window: o.window,
        lifetimes: o.lifetimes,
    }
}

/// An outbound and an inbound SA with the same keys.
pub fn pair(encr: EncrAlg, integ: Option<IntegAlg>, o: &Opts) -> (OutboundEspSa, InboundEspSa) {
    let key = keymat(encr, integ);
    let out_state = OutboundSaState::resume(config(o), Timestamp::ZERO, o.last_sent).unwrap();
    let in_state = InboundSaState::new(config(o), Timestamp::ZERO).unwrap();
    (
        OutboundEspSa::new(out_state, EspTransform::new(encr, integ, &key).unwrap()).unwrap(),
        InboundEspSa::new(in_state, EspTransform::new(encr, integ, &key).unwrap()).unwrap(),
    )
}

/// A UDP datagram (src port 1234, dst 5678) with `len` payload bytes over IPv4.
pub fn udp_v4(len: usize) -> Vec<u8> {
    let (src, dst) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 1, 1));
    let mut buf = vec![0u8; ipv4::HEADER_LEN + udp::HEADER_LEN + len];
    fill_payload(&mut buf[ipv4::HEADER_LEN + udp::HEADER_LEN..]);
    udp::Repr {
        src_port: 1234,
        dst_port: 5678,
        payload_len: len,
    }
    .emit(
        &mut buf[ipv4::HEADER_LEN..],
        udp::UdpChecksum::Compute(AddrPair::V4 { src, dst }),
    )
    .unwrap();
    ipv4::Repr {
        src_addr: src,
        dst_addr: dst,
        protocol: IpProtocol::UDP,
        payload_len: udp::HEADER_LEN + len,
        ttl: 17,
        dscp: 10,
        ecn: 2,
        ident: 0x4242,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
    }
    .emit(&mut buf)
    .unwrap();
    buf
}

/// A UDP datagram with `len` payload bytes over IPv6, optionally after a Hop-by-Hop header (to
/// test the transport-mode insertion point).
pub fn udp_v6(len: usize, hop_by_hop: bool) -> Vec<u8> {
    let (src, dst): (Ipv6Addr, Ipv6Addr) = (
        "2001:db8:1::1".parse().unwrap(),
        "2001:db8:2::1".parse().unwrap(),
    );
    let ext = if hop_by_hop { 8 } else { 0 };
    let mut buf = vec![0u8; ipv6::HEADER_LEN + ext + udp::HEADER_LEN + len];
    let at = ipv6::HEADER_LEN + ext;
    fill_payload(&mut buf[at + udp::HEADER_LEN..]);
    udp::Repr {
        src_port: 1234,
        dst_port: 5678,
        payload_len: len,
    }
    .emit(
        &mut buf[at..],
        udp::UdpChecksum::Compute(AddrPair::V6 { src, dst }),
    )
    .unwrap();
    if hop_by_hop {
        // Next Header UDP, Hdr Ext Len 0, PadN of 4 bytes.
        buf[40..48].copy_from_slice(&[17, 0, 1, 4, 0, 0, 0, 0]);
    }
    ipv6::Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: if hop_by_hop {
            IpProtocol::IPV6_HOPOPTS
        } else {
            IpProtocol::UDP
        },
        payload_len: ext + udp::HEADER_LEN + len,
        hop_limit: 9,
        traffic_class: 0xb8,
        flow_label: 0x12345,
    }
    .emit(&mut buf)
    .unwrap();
    buf
}

fn fill_payload(buf: &mut [u8]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = (i as u8) ^ 0x5a;
    }
}

pub fn buf(data: &[u8]) -> PacketBuf {
    PacketBuf::from_slice(data)
}
