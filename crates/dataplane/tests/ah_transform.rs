//! AH transform tests (RFC 4302): round trips in every mode and family, the mutable/immutable
//! split of the ICV input, tampering at every byte, truncation at every length, anti-replay,
//! ESN, sequence exhaustion and lifetimes.

#[allow(dead_code)]
mod ah_util;

use ah_util::*;
use core::time::Duration;
use proptest::prelude::*;
use rampart_crypto::IntegAlg;
use rampart_dataplane::drop::DropReason;
use rampart_dataplane::lifetime::{ExpiryReason, LifetimeLimits, Lifetimes};
use rampart_dataplane::sa::{Mode, SaConfig, SaConfigError};
use rampart_dataplane::verdict::SaEvent;
use rampart_dataplane::{
    InboundTransform, InboundVerdict, OutboundAhSa, OutboundTransform, OutboundVerdict, PacketBuf,
    Timestamp,
};
use rampart_wire::ike::iana::ProtocolId;
use rampart_wire::ip::IpVersion;

const DELIVER: InboundVerdict = InboundVerdict::Deliver;

/// A named change to a protected packet, and whether the ICV must still verify after it.
type Change = (&'static str, fn(&mut Vec<u8>), bool);

fn drop_in(r: DropReason) -> InboundVerdict {
    InboundVerdict::Drop(r)
}

fn plain_v4() -> Vec<u8> {
    v4_packet(&V4_OPTIONS, 17, &udp(b"hello ah"))
}

fn plain_v6() -> Vec<u8> {
    v6_packet(Some(&V6_HBH), 17, &udp(b"hello ah6"))
}

fn plain(v6: bool) -> Vec<u8> {
    if v6 { plain_v6() } else { plain_v4() }
}

#[test]
fn round_trips_in_every_mode_family_and_algorithm() {
    for &alg in IntegAlg::ALL {
        for esn in [false, true] {
            for inner_v6 in [false, true] {
                // Transport: the packet's own header carries AH.
                let cfg = config(Mode::Transport, inner_v6, esn);
                let (out, inb) = pair(&cfg, alg);
                let p = plain(inner_v6);
                let protected = protect(&out, &p);
                let version = if inner_v6 {
                    IpVersion::V6
                } else {
                    IpVersion::V4
                };
                let ah_len = rampart_dataplane::ah::ah_len(alg.icv_len(), version);
                assert_eq!(protected.len(), p.len() + ah_len, "{alg:?} esn={esn}");
                assert_eq!(unprotect(&inb, &protected), (DELIVER, p.clone()));
                // Tunnel: every inner family under every outer family.
                for outer_v6 in [false, true] {
                    let cfg = config(Mode::Tunnel, outer_v6, esn);
                    let (out, inb) = pair(&cfg, alg);
                    let protected = protect(&out, &p);
                    let outer = if outer_v6 { 40 } else { 20 };
                    let version = if outer_v6 {
                        IpVersion::V6
                    } else {
                        IpVersion::V4
                    };
                    let ah_len = rampart_dataplane::ah::ah_len(alg.icv_len(), version);
                    assert_eq!(protected.len(), outer + ah_len + p.len());
                    assert_eq!(unprotect(&inb, &protected), (DELIVER, p.clone()));
                }
            }
        }
    }
}

/// RFC 4302 §3.3.3.2.1: AH is a multiple of 8 bytes over IPv6, 4 over IPv4.
#[test]
fn icv_padding_per_family() {
    use rampart_dataplane::ah::ah_len;
    assert_eq!(ah_len(16, IpVersion::V4), 28);
    assert_eq!(ah_len(16, IpVersion::V6), 32);
    assert_eq!(ah_len(12, IpVersion::V6), 24);
    assert_eq!(ah_len(24, IpVersion::V6), 40);
    assert_eq!(ah_len(32, IpVersion::V6), 48);
    // The transport v6 header: Next Header of the HBH header now says AH, Payload Len 6.
    let cfg = config(Mode::Transport, true, false);
    let (out, _) = pair(&cfg, IntegAlg::HmacSha256_128);
    let p = protect(&out, &plain_v6());
    assert_eq!(p[40], 51, "HBH Next Header is AH");
    assert_eq!(
        (p[56], p[57]),
        (17, 6),
        "AH after HBH: Next Header UDP, Payload Len 6"
    );
}

#[test]
fn transport_v4_header_rewrite() {
    let cfg = config(Mode::Transport, false, false);
    let (out, _) = pair(&cfg, IntegAlg::HmacSha256_128);
    let plain = plain_v4();
    let p = protect(&out, &plain);
    let ip = rampart_wire::ipv4::Packet::new_checked(&p[..]).unwrap();
    assert_eq!(ip.protocol().0, 51);
    assert_eq!(usize::from(ip.total_len()), plain.len() + 28);
    assert!(ip.verify_checksum());
    assert_eq!(ip.ttl(), 33, "TTL untouched");
    let ah = rampart_wire::ah::Packet::new_checked(ip.payload()).unwrap();
    assert_eq!(
        (ah.spi(), ah.sequence_number(), ah.next_header().0),
        (SPI.0, 1, 17)
    );
}

/// RFC 4302 §3.3.3.1: fields routers change are outside the ICV; the rest is inside.
#[test]
fn mutable_fields_may_change_immutable_may_not_v4() {
    let cfg = config(Mode::Transport, false, false);
    let alg = IntegAlg::HmacSha256_128;
    let (out, _) = pair(&cfg, alg);
    let protected = protect(&out, &plain_v4());
    let changes: [Change; 7] = [
        ("TTL", |p| p[8] -= 1, true),
        ("DSCP/ECN", |p| p[1] = 0x03, true),
        ("DF cleared", |p| p[6] = 0, true),
        (
            "Record Route data",
            |p| p[V4_RR_DATA].copy_from_slice(&[8, 10, 0, 0, 2]),
            true,
        ),
        ("Router Alert value", |p| p[V4_RA_VALUE.start] = 1, false),
        ("Identification", |p| p[4] ^= 1, false),
        ("source address", |p| p[12] ^= 1, false),
    ];
    for (what, change, ok) in changes {
        let mut p = protected.clone();
        change(&mut p);
        fix_v4_checksum(&mut p);
        let inb = inbound(&cfg, alg, &key(alg, 1));
        let (v, _) = unprotect(&inb, &p);
        let expected = if ok {
            DELIVER
        } else {
            drop_in(DropReason::IcvFailure)
        };
        assert_eq!(v, expected, "changing {what}");
    }
}

fn fix_v4_checksum(p: &mut [u8]) {
    let ihl = usize::from(p[0] & 0xf) * 4;
    p[10..12].fill(0);
    let sum = rampart_wire::checksum::checksum(&p[..ihl]);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
}

#[test]
fn mutable_fields_may_change_immutable_may_not_v6() {
    let cfg = config(Mode::Transport, true, false);
    let alg = IntegAlg::HmacSha1_96;
    let (out, _) = pair(&cfg, alg);
    let protected = protect(&out, &plain_v6());
    let changes: [Change; 6] = [
        ("Hop Limit", |p| p[7] = 1, true),
        (
            "Traffic Class + Flow Label",
            |p| p[1..4].copy_from_slice(&[0xff, 0xff, 0xff]),
            true,
        ),
        (
            "may-change option data",
            |p| p[V6_MUTABLE_DATA].fill(0xee),
            true,
        ),
        (
            "Router Alert value (no may-change bit)",
            |p| p[V6_RA_VALUE.start] = 9,
            false,
        ),
        ("destination address", |p| p[39] ^= 1, false),
        ("payload", |p| *p.last_mut().unwrap() ^= 1, false),
    ];
    for (what, change, ok) in changes {
        let mut p = protected.clone();
        change(&mut p);
        let inb = inbound(&cfg, alg, &key(alg, 1));
        let (v, _) = unprotect(&inb, &p);
        let expected = if ok {
            DELIVER
        } else {
            drop_in(DropReason::IcvFailure)
        };
        assert_eq!(v, expected, "changing {what}");
    }
}

#[test]
fn tunnel_outer_ttl_may_change() {
    for outer_v6 in [false, true] {
        let cfg = config(Mode::Tunnel, outer_v6, true);
        let (out, inb) = pair(&cfg, IntegAlg::HmacSha512_256);
        let p = plain_v4();
        let mut protected = protect(&out, &p);
        if outer_v6 {
            protected[7] = 3;
        } else {
            protected[8] = 3;
            fix_v4_checksum(&mut protected);
        }
        assert_eq!(unprotect(&inb, &protected), (DELIVER, p));
    }
}

/// Positions a router may change without breaking the ICV (for a flip of all bits but those
/// that would make the packet a fragment or change its version). Record Route is zeroed whole
/// (type byte included), but a corrupt length makes the option list malformed.
fn mutable_position(v6_outer: bool, i: usize, options: bool) -> bool {
    if v6_outer {
        // Byte 0's low bit is Traffic Class.
        matches!(i, 0..=3 | 7) || (options && V6_MUTABLE_DATA.contains(&i))
    } else {
        matches!(i, 1 | 8 | 10 | 11) || (options && (i == 25 || V4_RR_DATA.contains(&i)))
    }
}

/// Every single-byte change is refused, except in mutable fields: never delivered altered.
#[test]
fn tamper_every_byte() {
    for (mode, v6) in [
        (Mode::Transport, false),
        (Mode::Transport, true),
        (Mode::Tunnel, false),
        (Mode::Tunnel, true),
    ] {
        let cfg = config(mode, v6, false);
        let alg = IntegAlg::HmacSha256_128;
        let (out, _) = pair(&cfg, alg);
        let plain = plain(v6);
        let protected = protect(&out, &plain);
        let options = mode == Mode::Transport;
        let ah_off = match (options, v6) {
            (true, false) => 32,
            (true, true) => 56,
            (false, false) => 20,
            (false, true) => 40,
        };
        for i in 0..protected.len() {
            let mut p = protected.clone();
            // 0x01 keeps the version nibble and the fragment bits of byte 6 as they are.
            p[i] ^= if i == 0 || i == 6 { 0x01 } else { 0x80 };
            let inb = inbound(&cfg, alg, &key(alg, 1));
            let (v, _) = unprotect(&inb, &p);
            if mutable_position(v6, i, options) {
                assert_eq!(v, DELIVER, "{mode:?} v6={v6} byte {i} is mutable");
                continue;
            }
            assert_ne!(v, DELIVER, "{mode:?} v6={v6}: flipped byte {i} accepted");
            if (ah_off + 4..ah_off + 8).contains(&i) {
                assert_eq!(v, drop_in(DropReason::BadSpi), "byte {i} is the SPI");
            }
            if i >= ah_off + 12 {
                assert_eq!(
                    v,
                    drop_in(DropReason::IcvFailure),
                    "byte {i}: ICV or payload"
                );
            }
        }
    }
}

#[test]
fn truncation_at_every_length_is_a_drop() {
    for (mode, v6) in [
        (Mode::Transport, false),
        (Mode::Transport, true),
        (Mode::Tunnel, false),
        (Mode::Tunnel, true),
    ] {
        let cfg = config(mode, v6, true);
        let alg = IntegAlg::HmacSha384_192;
        let (out, inb) = pair(&cfg, alg);
        let protected = protect(&out, &plain(v6));
        for len in 0..protected.len() {
            let (v, _) = unprotect(&inb, &protected[..len]);
            assert!(
                matches!(
                    v,
                    InboundVerdict::Drop(DropReason::Truncated | DropReason::Malformed)
                ),
                "{mode:?} v6={v6} len {len}: {v:?}"
            );
        }
        // Link-layer padding after the IP length is trimmed, not authenticated.
        let mut padded = protected.clone();
        padded.extend_from_slice(&[0xaa; 6]);
        let (v, _) = unprotect(&inb, &padded);
        assert_eq!(v, DELIVER);
    }
}

#[test]
fn garbage_never_panics() {
    let cfg = config(Mode::Transport, false, true);
    let (_, inb) = pair(&cfg, IntegAlg::HmacSha256_128);
    let mut seed = 0x1234_5678_u32;
    for len in 0..200 {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as u8
            })
            .collect();
        for first in [0x45, 0x4f, 0x60, 0x00] {
            let mut b = bytes.clone();
            if let Some(x) = b.first_mut() {
                *x = first;
            }
            assert_ne!(unprotect(&inb, &b).0, DELIVER);
        }
    }
}

#[test]
fn replay_and_too_old() {
    let cfg = SaConfig {
        replay_window: 32,
        ..config(Mode::Transport, false, false)
    };
    let (out, inb) = pair(&cfg, IntegAlg::HmacSha256_128);
    let packets: Vec<_> = (0..40).map(|_| protect(&out, &plain_v4())).collect();
    assert_eq!(unprotect(&inb, &packets[0]).0, DELIVER);
    assert_eq!(unprotect(&inb, &packets[0]).0, drop_in(DropReason::Replay));
    assert_eq!(unprotect(&inb, &packets[39]).0, DELIVER);
    assert_eq!(
        unprotect(&inb, &packets[1]).0,
        drop_in(DropReason::ReplayTooOld)
    );
    assert_eq!(
        unprotect(&inb, &packets[20]).0,
        DELIVER,
        "inside the window"
    );
    let drops = inb.state().counters().drops();
    assert_eq!(drops.get(DropReason::Replay), 1);
    assert_eq!(drops.get(DropReason::ReplayTooOld), 1);
}

#[test]
fn a_forgery_does_not_consume_its_sequence_number() {
    let cfg = config(Mode::Tunnel, false, false);
    let (out, inb) = pair(&cfg, IntegAlg::HmacSha256_128);
    let good = protect(&out, &plain_v6());
    let mut forged = good.clone();
    *forged.last_mut().unwrap() ^= 1;
    assert_eq!(unprotect(&inb, &forged).0, drop_in(DropReason::IcvFailure));
    assert_eq!(unprotect(&inb, &good).0, DELIVER);
}

#[test]
fn wrong_spi_and_wrong_key() {
    let cfg = config(Mode::Transport, true, false);
    let alg = IntegAlg::HmacSha256_128;
    let (out, _) = pair(&cfg, alg);
    let protected = protect(&out, &plain_v6());
    let other = SaConfig {
        spi: rampart_dataplane::sa::Spi(0x0bad_0bad),
        ..cfg.clone()
    };
    let inb = inbound(&other, alg, &key(alg, 1));
    assert_eq!(unprotect(&inb, &protected).0, drop_in(DropReason::BadSpi));
    assert_eq!(inb.state().counters().drops().get(DropReason::BadSpi), 1);
    let inb = inbound(&cfg, alg, &key(alg, 2));
    assert_eq!(
        unprotect(&inb, &protected).0,
        drop_in(DropReason::IcvFailure)
    );
    // Another algorithm: its ICV does not fit the field.
    let inb = inbound(
        &cfg,
        IntegAlg::HmacSha512_256,
        &key(IntegAlg::HmacSha512_256, 1),
    );
    assert_eq!(
        unprotect(&inb, &protected).0,
        drop_in(DropReason::Malformed)
    );
}

#[test]
fn mode_mismatch_and_non_ah_packets() {
    let alg = IntegAlg::HmacSha256_128;
    // Transport-protected UDP offered to a tunnel SA: Next Header is not an IP packet.
    let t = config(Mode::Transport, false, false);
    let (out, _) = pair(&t, alg);
    let protected = protect(&out, &plain_v4());
    let inb = inbound(&config(Mode::Tunnel, false, false), alg, &key(alg, 1));
    assert_eq!(
        unprotect(&inb, &protected).0,
        drop_in(DropReason::UnsupportedNextHeader)
    );
    // A plain packet is not AH.
    let inb = inbound(&t, alg, &key(alg, 1));
    assert_eq!(
        unprotect(&inb, &plain_v4()).0,
        drop_in(DropReason::Malformed)
    );
    // A fragment is refused before anything else (RFC 4302 §3.4.1).
    let mut frag = protected.clone();
    frag[6] |= 0x20;
    fix_v4_checksum(&mut frag);
    assert_eq!(unprotect(&inb, &frag).0, drop_in(DropReason::Malformed));
}

#[test]
fn outbound_refusals() {
    let alg = IntegAlg::HmacSha256_128;
    let cfg = config(Mode::Transport, false, false);
    let (out, _) = pair(&cfg, alg);
    let mut events = Vec::new();
    let mut refuse = |bytes: &[u8], reason| {
        let mut pkt = PacketBuf::from_slice(bytes);
        let v = out.protect(&mut pkt, Timestamp::ZERO, &mut events);
        assert_eq!(v, OutboundVerdict::Drop(reason));
    };
    // A fragment (MF set).
    let mut frag = plain_v4();
    frag[6] = 0x20;
    refuse(&frag, DropReason::Malformed);
    // Loose source routing.
    refuse(
        &v4_packet(&[0x83, 0x07, 0x04, 10, 0, 0, 1], 17, b"x"),
        DropReason::Malformed,
    );
    // Not IP, or truncated.
    refuse(&[0x15; 30], DropReason::Malformed);
    refuse(&plain_v4()[..30], DropReason::Truncated);
    // No headroom.
    let mut pkt = PacketBuf::new(200, 0);
    pkt.set(0, &plain_v4()).unwrap();
    let v = out.protect(&mut pkt, Timestamp::ZERO, &mut events);
    assert_eq!(v, OutboundVerdict::Drop(DropReason::BufferTooSmall));
    // IPv6 routing header with segments left.
    let cfg6 = config(Mode::Transport, true, false);
    let (out6, _) = pair(&cfg6, alg);
    let mut rh = vec![17, 2, 0, 1, 0, 0, 0, 0];
    rh.extend_from_slice(&[0; 16]);
    let routed = v6_packet(None, 43, &[rh, udp(b"x")].concat());
    let mut pkt = PacketBuf::from_slice(&routed);
    let v = out6.protect(&mut pkt, Timestamp::ZERO, &mut events);
    assert_eq!(v, OutboundVerdict::Drop(DropReason::Malformed));
    assert!(events.is_empty());
    assert_eq!(out.state().counters().drops().total(), 5);
    assert_eq!(
        out.state().seq().last_sent(),
        0,
        "refusals burn no sequence number"
    );
}

/// With the routing header's Segments Left at 0, AH goes after it and the ICV covers it.
#[test]
fn ipv6_transport_places_ah_after_routing_before_final_dest_options() {
    let cfg = config(Mode::Transport, true, false);
    let (out, inb) = pair(&cfg, IntegAlg::HmacSha256_128);
    // HBH → Routing (SL 0) → Destination Options → UDP.
    let mut rest = vec![60, 2, 0, 0, 0, 0, 0, 0];
    rest.extend_from_slice(&[0; 16]);
    rest.extend_from_slice(&[17, 0, 0x3e, 4, 9, 9, 9, 9]);
    rest.extend_from_slice(&udp(b"dst"));
    let mut hbh = V6_HBH.to_vec();
    hbh.truncate(4); // Router Alert only
    let p = v6_packet(Some(&hbh), 43, &rest);
    let protected = protect(&out, &p);
    // AH at 40 + 8 (HBH) + 24 (routing); the routing header's Next Header says AH.
    assert_eq!(protected[48], 51);
    assert_eq!(protected[72], 60, "AH's Next Header: Destination Options");
    assert_eq!(unprotect(&inb, &protected), (DELIVER, p));
    // A may-change option *after* AH is payload: changing it breaks the ICV.
    let mut q = protect(&out, &v6_packet(Some(&hbh), 43, &rest));
    let dst_opt_data = 72 + 32 + 4;
    q[dst_opt_data] ^= 1;
    assert_eq!(unprotect(&inb, &q).0, drop_in(DropReason::IcvFailure));
}

#[test]
fn esn_high_bits_are_in_the_icv() {
    let cfg = config(Mode::Transport, false, true);
    let alg = IntegAlg::HmacSha256_128;
    let k = key(alg, 1);
    let inb = inbound(&cfg, alg, &k);
    // Walk the receiver up to the end of the first 2^32 block, then across it.
    let a = outbound_at(&cfg, alg, &k, 0x7fff_fffe);
    assert_eq!(unprotect(&inb, &protect(&a, &plain_v4())).0, DELIVER);
    let b = outbound_at(&cfg, alg, &k, 0xffff_fffd);
    for expected_top in [0xffff_fffe_u64, 0xffff_ffff, 0x1_0000_0000, 0x1_0000_0001] {
        let p = protect(&b, &plain_v4());
        assert_eq!(unprotect(&inb, &p), (DELIVER, plain_v4()));
        assert_eq!(inb.state().replay_top(), expected_top);
    }
    // A fresh receiver infers high bits 0 for the same packet: the ICV refuses it.
    let p = protect(&b, &plain_v4());
    let fresh = inbound(&cfg, alg, &k);
    assert_eq!(unprotect(&fresh, &p).0, drop_in(DropReason::IcvFailure));
    // Without ESN the same low bits verify: the high bits are the only difference.
    let no_esn = SaConfig {
        esn: false,
        ..cfg.clone()
    };
    let c = outbound_at(&no_esn, alg, &k, 1);
    let inb2 = inbound(&no_esn, alg, &k);
    assert_eq!(unprotect(&inb2, &protect(&c, &plain_v4())).0, DELIVER);
}

#[test]
fn sequence_exhaustion_raises_the_event_once() {
    let cfg = config(Mode::Tunnel, false, false);
    let alg = IntegAlg::HmacSha1_96;
    let k = key(alg, 1);
    let out = outbound_at(&cfg, alg, &k, u64::from(u32::MAX) - 1);
    let inb = inbound(&cfg, alg, &k);
    let mut events = Vec::new();
    let mut pkt = PacketBuf::from_slice(&plain_v4());
    assert_eq!(
        out.protect(&mut pkt, Timestamp::ZERO, &mut events),
        OutboundVerdict::Send
    );
    assert_eq!(unprotect(&inb, pkt.data()).0, DELIVER);
    for first in [true, false] {
        let mut pkt = PacketBuf::from_slice(&plain_v4());
        let v = out.protect(&mut pkt, Timestamp::ZERO, &mut events);
        assert_eq!(v, OutboundVerdict::Drop(DropReason::SequenceExhausted));
        assert_eq!(pkt.data(), plain_v4(), "a refused packet is left as it was");
        assert_eq!(
            events.len(),
            1,
            "first={first}: the event is raised once: {events:?}"
        );
    }
    assert_eq!(events, vec![SaEvent::SequenceExhausted { spi: SPI }]);
}

fn lifetimes() -> Lifetimes {
    Lifetimes {
        soft: LifetimeLimits {
            packets: Some(2),
            ..Default::default()
        },
        hard: LifetimeLimits {
            packets: Some(3),
            time: Some(Duration::from_secs(3600)),
            ..Default::default()
        },
    }
}

#[test]
fn lifetimes_soft_once_hard_stops_outbound() {
    let cfg = SaConfig {
        lifetimes: lifetimes(),
        ..config(Mode::Transport, true, false)
    };
    let (out, _) = pair(&cfg, IntegAlg::HmacSha256_128);
    let mut events = Vec::new();
    let mut verdicts = Vec::new();
    for _ in 0..5 {
        let mut pkt = PacketBuf::from_slice(&plain_v6());
        verdicts.push(out.protect(&mut pkt, Timestamp::ZERO, &mut events));
    }
    let send = OutboundVerdict::Send;
    let expired = OutboundVerdict::Drop(DropReason::SaExpired);
    assert_eq!(verdicts, [send, send, send, expired, expired]);
    assert_eq!(
        events,
        [
            SaEvent::SoftExpired {
                spi: SPI,
                reason: ExpiryReason::Packets
            },
            SaEvent::HardExpired {
                spi: SPI,
                reason: ExpiryReason::Packets
            },
        ]
    );
    assert_eq!(
        out.state().seq().last_sent(),
        3,
        "expired packets burn no number"
    );
}

#[test]
fn lifetimes_soft_once_hard_stops_inbound() {
    let cfg = SaConfig {
        lifetimes: lifetimes(),
        ..config(Mode::Tunnel, false, true)
    };
    let alg = IntegAlg::HmacSha256_128;
    let k = key(alg, 1);
    let out = outbound_at(
        &SaConfig {
            lifetimes: Lifetimes::default(),
            ..cfg.clone()
        },
        alg,
        &k,
        0,
    );
    let inb = inbound(&cfg, alg, &k);
    let mut events = Vec::new();
    let mut verdicts = Vec::new();
    for i in 0..5u64 {
        let mut pkt = PacketBuf::from_slice(&protect(&out, &plain_v4()));
        let now = Timestamp::from_nanos(i);
        verdicts.push(inb.unprotect(&mut pkt, now, &mut events));
    }
    let expired = drop_in(DropReason::SaExpired);
    assert_eq!(verdicts, [DELIVER, DELIVER, DELIVER, expired, expired]);
    assert_eq!(
        events,
        [
            SaEvent::SoftExpired {
                spi: SPI,
                reason: ExpiryReason::Packets
            },
            SaEvent::HardExpired {
                spi: SPI,
                reason: ExpiryReason::Packets
            },
        ]
    );
    assert_eq!(inb.state().counters().drops().get(DropReason::SaExpired), 2);
    assert_eq!(inb.state().counters().packets(), 3);
}

#[test]
fn hard_time_limit_stops_the_sa() {
    let cfg = SaConfig {
        lifetimes: lifetimes(),
        ..config(Mode::Transport, false, false)
    };
    let (out, _) = pair(&cfg, IntegAlg::HmacSha256_128);
    let mut events = Vec::new();
    let mut pkt = PacketBuf::from_slice(&plain_v4());
    let later = Timestamp::from_duration(Duration::from_secs(3601));
    let v = out.protect(&mut pkt, later, &mut events);
    assert_eq!(v, OutboundVerdict::Drop(DropReason::SaExpired));
    assert_eq!(
        events,
        [
            SaEvent::SoftExpired {
                spi: SPI,
                reason: ExpiryReason::Time
            },
            SaEvent::HardExpired {
                spi: SPI,
                reason: ExpiryReason::Time
            },
        ]
    );
}

#[test]
fn constructors_refuse_non_ah_configs() {
    let cfg = SaConfig {
        protocol: ProtocolId::ESP,
        ..config(Mode::Tunnel, false, false)
    };
    let alg = IntegAlg::HmacSha256_128;
    let integ = rampart_crypto::Integ::new(alg, &key(alg, 1)).unwrap();
    let state = rampart_dataplane::sa::OutboundSaState::new(cfg.clone(), Timestamp::ZERO).unwrap();
    assert_eq!(
        OutboundAhSa::new(state, integ.clone()).err(),
        Some(SaConfigError::UnsupportedProtocol(ProtocolId::ESP))
    );
    let state = rampart_dataplane::sa::InboundSaState::new(cfg, Timestamp::ZERO).unwrap();
    assert!(rampart_dataplane::InboundAhSa::new(state, integ).is_err());
}

#[test]
fn sas_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<OutboundAhSa>();
    assert_send_sync::<rampart_dataplane::InboundAhSa>();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// unprotect(protect(p)) == p for random payloads, TTLs, modes and families.
    #[test]
    fn protect_unprotect_is_identity(
        payload in proptest::collection::vec(any::<u8>(), 0..300),
        ttl in any::<u8>(),
        v6 in any::<bool>(),
        tunnel in any::<bool>(),
        outer_v6 in any::<bool>(),
        esn in any::<bool>(),
        alg_index in 0..IntegAlg::ALL.len(),
    ) {
        let alg = IntegAlg::ALL[alg_index];
        let mut p = if v6 {
            v6_packet(Some(&V6_HBH), 17, &udp(&payload))
        } else {
            v4_packet(&V4_OPTIONS, 17, &udp(&payload))
        };
        if v6 { p[7] = ttl } else { p[8] = ttl; fix_v4_checksum(&mut p) }
        let cfg = if tunnel {
            config(Mode::Tunnel, outer_v6, esn)
        } else {
            config(Mode::Transport, v6, esn)
        };
        let (out, inb) = pair(&cfg, alg);
        let protected = protect(&out, &p);
        prop_assert_eq!(unprotect(&inb, &protected), (DELIVER, p));
    }
}
