//! Shared helpers of the AH integration tests: SA pairs and hand-built plain packets.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rampart_crypto::{Integ, IntegAlg};
use rampart_dataplane::lifetime::Lifetimes;
use rampart_dataplane::sa::{InboundSaState, Mode, OutboundSaState, SaConfig, Spi};
use rampart_dataplane::{
    InboundAhSa, InboundTransform, InboundVerdict, OutboundAhSa, OutboundTransform,
    OutboundVerdict, PacketBuf, Timestamp,
};
use rampart_wire::checksum;
use rampart_wire::ike::iana::ProtocolId;

/// The SPI every test SA uses.
pub(crate) const SPI: Spi = Spi(0x0000_c0de);

/// Test hosts (transport mode) and gateways (tunnel mode).
pub(crate) const H4: (Ipv4Addr, Ipv4Addr) =
    (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(198, 51, 100, 2));
/// IPv6 hosts.
pub(crate) fn h6() -> (Ipv6Addr, Ipv6Addr) {
    (
        "2001:db8::1".parse().unwrap(),
        "2001:db8::2".parse().unwrap(),
    )
}
/// IPv4 gateways.
pub(crate) const GW4: (Ipv4Addr, Ipv4Addr) =
    (Ipv4Addr::new(203, 0, 113, 1), Ipv4Addr::new(203, 0, 113, 2));
/// IPv6 gateways.
pub(crate) fn gw6() -> (IpAddr, IpAddr) {
    (
        "2001:db8:ff::1".parse().unwrap(),
        "2001:db8:ff::2".parse().unwrap(),
    )
}

/// An AH SA configuration; `outer_v6` picks the address family of the SA's endpoints.
pub(crate) fn config(mode: Mode, outer_v6: bool, esn: bool) -> SaConfig {
    let (src, dst) = if outer_v6 {
        gw6()
    } else {
        (IpAddr::V4(GW4.0), IpAddr::V4(GW4.1))
    };
    SaConfig {
        spi: SPI,
        protocol: ProtocolId::AH,
        mode,
        encap: None,
        src,
        dst,
        esn,
        replay_window: 64,
        lifetimes: Lifetimes::default(),
    }
}

/// A key of the right length for `alg`, from `seed`.
pub(crate) fn key(alg: IntegAlg, seed: u8) -> Vec<u8> {
    (0..alg.key_len())
        .map(|i| seed.wrapping_mul(31).wrapping_add((i * 7) as u8))
        .collect()
}

/// An outbound SA whose last sent sequence number is `last_sent`.
pub(crate) fn outbound_at(
    cfg: &SaConfig,
    alg: IntegAlg,
    key: &[u8],
    last_sent: u64,
) -> OutboundAhSa {
    let state =
        OutboundSaState::resume(cfg.clone(), Timestamp::ZERO, last_sent).expect("valid config");
    OutboundAhSa::new(state, Integ::new(alg, key).expect("key length")).expect("AH config")
}

/// An inbound SA.
pub(crate) fn inbound(cfg: &SaConfig, alg: IntegAlg, key: &[u8]) -> InboundAhSa {
    let state = InboundSaState::new(cfg.clone(), Timestamp::ZERO).expect("valid config");
    InboundAhSa::new(state, Integ::new(alg, key).expect("key length")).expect("AH config")
}

/// A matching outbound/inbound pair starting at sequence number 1.
pub(crate) fn pair(cfg: &SaConfig, alg: IntegAlg) -> (OutboundAhSa, InboundAhSa) {
    let k = key(alg, 1);
    (outbound_at(cfg, alg, &k, 0), inbound(cfg, alg, &k))
}

/// Protects `plain`, expecting success; returns the protected bytes.
pub(crate) fn protect(sa: &OutboundAhSa, plain: &[u8]) -> Vec<u8> {
    let mut pkt = PacketBuf::from_slice(plain);
    let mut events = Vec::new();
    assert_eq!(
        sa.protect(&mut pkt, Timestamp::ZERO, &mut events),
        OutboundVerdict::Send
    );
    pkt.data().to_vec()
}

/// Unprotects `protected`: the verdict and the resulting bytes.
pub(crate) fn unprotect(sa: &InboundAhSa, protected: &[u8]) -> (InboundVerdict, Vec<u8>) {
    let mut pkt = PacketBuf::from_slice(protected);
    let mut events = Vec::new();
    let verdict = sa.unprotect(&mut pkt, Timestamp::ZERO, &mut events);
    (verdict, pkt.data().to_vec())
}

/// An IPv4 packet: header with `options` (padded to 4 bytes), protocol `proto`, `payload`.
pub(crate) fn v4_packet(options: &[u8], proto: u8, payload: &[u8]) -> Vec<u8> {
    let opt_len = options.len().next_multiple_of(4);
    let ihl = 20 + opt_len;
    let total = ihl + payload.len();
    let mut p = vec![
        0x40 | (ihl / 4) as u8,
        0xb9, // DSCP 46, ECN 1
        (total >> 8) as u8,
        total as u8,
        0x42,
        0x42,
        0x40, // DF
        0x00,
        33, // TTL
        proto,
        0,
        0,
    ];
    p.extend_from_slice(&H4.0.octets());
    p.extend_from_slice(&H4.1.octets());
    p.extend_from_slice(options);
    p.resize(ihl, 0);
    p.extend_from_slice(payload);
    let sum = checksum::checksum(&p[..ihl]);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p
}

/// NOP, Router Alert (immutable, RFC 4302 App. A.1), Record Route with one address (mutable).
pub(crate) const V4_OPTIONS: [u8; 12] =
    [0x01, 0x94, 0x04, 0x00, 0x00, 0x07, 0x07, 0x04, 10, 0, 0, 1];
/// Offset of Record Route's data (pointer and route) in a packet with [`V4_OPTIONS`].
pub(crate) const V4_RR_DATA: core::ops::Range<usize> = 27..32;
/// Offset of Router Alert's value in a packet with [`V4_OPTIONS`].
pub(crate) const V4_RA_VALUE: core::ops::Range<usize> = 23..25;

/// A UDP datagram (checksum left 0, fine over IPv4 and irrelevant to AH).
pub(crate) fn udp(payload: &[u8]) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut u = vec![0x13, 0x88, 0x13, 0x89, (len >> 8) as u8, len as u8, 0, 0];
    u.extend_from_slice(payload);
    u
}

/// An IPv6 packet with an optional Hop-by-Hop header body (options, padded to 8 bytes with the
/// two header bytes), then `next` and `payload`.
pub(crate) fn v6_packet(hbh_options: Option<&[u8]>, next: u8, payload: &[u8]) -> Vec<u8> {
    let (src, dst) = h6();
    let mut ext = Vec::new();
    let first = match hbh_options {
        Some(options) => {
            let len = (2 + options.len()).next_multiple_of(8);
            ext.push(next);
            ext.push((len / 8 - 1) as u8);
            ext.extend_from_slice(options);
            // PadN / Pad1 to the 8-byte boundary.
            let pad = len - 2 - options.len();
            match pad {
                0 => {}
                1 => ext.push(0),
                n => {
                    ext.push(1);
                    ext.push((n - 2) as u8);
                    ext.resize(len, 0);
                }
            }
            0
        }
        None => next,
    };
    let plen = ext.len() + payload.len();
    let mut p = vec![
        0x62,
        0xc1,
        0x23,
        0x45,
        (plen >> 8) as u8,
        plen as u8,
        first,
        7,
    ];
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(&ext);
    p.extend_from_slice(payload);
    p
}

/// Hop-by-Hop options: Router Alert (type 5, data immutable) and type 0x3e ("may change en
/// route" bit set) with 4 data bytes.
pub(crate) const V6_HBH: [u8; 10] = [0x05, 0x02, 0x00, 0x00, 0x3e, 0x04, 1, 2, 3, 4];
/// Offset of the may-change option's data in a packet with [`V6_HBH`].
pub(crate) const V6_MUTABLE_DATA: core::ops::Range<usize> = 48..52;
/// Offset of Router Alert's value in a packet with [`V6_HBH`].
pub(crate) const V6_RA_VALUE: core::ops::Range<usize> = 44..46;
