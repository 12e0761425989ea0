//! ESP round trips through our own outbound and inbound SAs: every algorithm suite × transport
//! and tunnel mode × IPv4/IPv6 inner and outer (either inside the other) × plain or UDP
//! encapsulation × ESN off/on, with the protected datagram's headers checked field by field.
//! (Independent checks against scapy are in `esp_scapy_oracle.rs`.)

mod esp_common;

use esp_common::*;
use rampart_dataplane::esp::OutboundEspSa;
use rampart_dataplane::sa::Mode;
use rampart_dataplane::{InboundTransform, InboundVerdict, OutboundTransform, OutboundVerdict};
use rampart_dataplane::{PacketBuf, Timestamp};
use rampart_wire::ip::{AddrPair, IpProtocol};
use rampart_wire::{esp, ipv4, ipv6, udp};

const SIZES: [usize; 5] = [0, 1, 3, 37, 1200];

/// Checks the outer structure of a protected datagram and returns (SPI, sequence number).
fn check_protected(out: &[u8], sa: &OutboundEspSa, inner: &[u8]) -> (u32, u32) {
    let cfg = sa.state().config();
    let (proto, ip_len, addrs) = match out[0] >> 4 {
        4 => {
            let p = ipv4::Packet::new_checked(out).unwrap();
            assert!(p.verify_checksum(), "outer IPv4 checksum");
            assert_eq!(usize::from(p.total_len()), out.len());
            if cfg.mode == Mode::Tunnel {
                assert_eq!(p.ttl(), 64);
                assert_eq!((p.dscp() << 2) | p.ecn(), tos_of(inner));
                assert_eq!(std::net::IpAddr::V4(p.src_addr()), cfg.src);
                assert_eq!(std::net::IpAddr::V4(p.dst_addr()), cfg.dst);
            }
            let a = AddrPair::V4 {
                src: p.src_addr(),
                dst: p.dst_addr(),
            };
            (p.protocol(), usize::from(p.header_len()), a)
        }
        6 => {
            let p = ipv6::Packet::new_checked(out).unwrap();
            assert_eq!(usize::from(p.payload_len()) + 40, out.len());
            let ul = p.upper_layer().unwrap();
            if cfg.mode == Mode::Tunnel {
                assert_eq!(p.hop_limit(), 64);
                assert_eq!(p.traffic_class(), tos_of(inner));
            }
            let a = AddrPair::V6 {
                src: p.src_addr(),
                dst: p.dst_addr(),
            };
            (ul.protocol, ul.offset, a)
        }
        v => panic!("version {v}"),
    };
    let esp_at = if cfg.encap.is_some() {
        assert_eq!(proto, IpProtocol::UDP);
        let u = udp::Packet::new_checked(&out[ip_len..]).unwrap();
        assert_eq!((u.src_port(), u.dst_port()), (4500, 4501));
        assert_eq!(usize::from(u.len()), out.len() - ip_len);
        if matches!(addrs, AddrPair::V4 { .. }) {
            assert_eq!(u.checksum(), 0, "RFC 3948: zero checksum over IPv4");
        } else {
            assert_ne!(u.checksum(), 0);
            assert!(u.verify_checksum(&addrs), "UDP checksum over IPv6");
        }
        ip_len + 8
    } else {
        assert_eq!(proto, IpProtocol::ESP);
        ip_len
    };
    let e = esp::Packet::new_checked(&out[esp_at..]).unwrap();
    let esp_len = out.len() - esp_at;
    assert_eq!(esp_len % 4, 0, "RFC 4303 §2.4: 4-byte alignment");
    let t = sa.transform();
    let ct = esp_len - 8 - t.iv_len() - t.icv_len();
    assert_eq!(ct % t.block_size(), 0);
    (e.spi(), e.sequence_number())
}

fn tos_of(pkt: &[u8]) -> u8 {
    if pkt[0] >> 4 == 4 {
        pkt[1]
    } else {
        ((pkt[0] & 0x0f) << 4) | (pkt[1] >> 4)
    }
}

fn round_trip(o: &Opts, inner_v6: bool, hop_by_hop: bool) {
    for &(name, encr, integ) in SUITES {
        let (out_sa, in_sa) = pair(encr, integ, o);
        let mut events = Vec::new();
        for (i, &size) in SIZES.iter().enumerate() {
            let plain = if inner_v6 {
                udp_v6(size, hop_by_hop)
            } else {
                udp_v4(size)
            };
            let mut pkt = buf(&plain);
            let ctx = format!("{name} {o:?} v6={inner_v6} size={size}");
            assert_eq!(
                out_sa.protect(&mut pkt, Timestamp::ZERO, &mut events),
                OutboundVerdict::Send,
                "{ctx}"
            );
            assert_ne!(pkt.data(), &plain[..]);
            let (spi, seq) = check_protected(pkt.data(), &out_sa, &plain);
            assert_eq!(spi, SPI.0);
            assert_eq!(
                u64::from(seq),
                (o.last_sent + i as u64 + 1) & 0xffff_ffff,
                "{ctx}"
            );
            assert_eq!(
                in_sa.unprotect(&mut pkt, Timestamp::ZERO, &mut events),
                InboundVerdict::Deliver,
                "{ctx}"
            );
            assert_eq!(pkt.data(), &plain[..], "{ctx}");
        }
        assert!(events.is_empty());
        let n = SIZES.len() as u64;
        assert_eq!(in_sa.state().counters().packets(), n);
        assert_eq!(out_sa.state().counters().packets(), n);
        assert_eq!(
            in_sa.state().counters().bytes(),
            out_sa.state().counters().bytes()
        );
        assert_eq!(in_sa.state().counters().drops().total(), 0);
    }
}

#[test]
fn tunnel_every_family_combination() {
    for outer_v6 in [false, true] {
        for inner_v6 in [false, true] {
            for encap in [false, true] {
                let o = Opts {
                    outer_v6,
                    encap,
                    ..Opts::default()
                };
                round_trip(&o, inner_v6, false);
            }
        }
    }
}

#[test]
fn transport_v4_and_v6() {
    for v6 in [false, true] {
        for encap in [false, true] {
            let o = Opts {
                mode: Mode::Transport,
                outer_v6: v6,
                encap,
                ..Opts::default()
            };
            round_trip(&o, v6, false);
        }
    }
}

/// Transport mode over IPv6 keeps Hop-by-Hop outside ESP (RFC 4303 §3.1.1).
#[test]
fn transport_v6_inserts_after_hop_by_hop() {
    let o = Opts {
        mode: Mode::Transport,
        outer_v6: true,
        ..Opts::default()
    };
    round_trip(&o, true, true);
    let (out_sa, _) = pair(SUITES[0].1, SUITES[0].2, &o);
    let plain = udp_v6(10, true);
    let mut pkt = buf(&plain);
    assert_eq!(
        out_sa.protect(&mut pkt, Timestamp::ZERO, &mut Vec::new()),
        OutboundVerdict::Send
    );
    let d = pkt.data();
    assert_eq!(d[6], 0, "fixed header still names Hop-by-Hop");
    assert_eq!(
        &d[40..48],
        &[50, 0, 1, 4, 0, 0, 0, 0],
        "Hop-by-Hop now names ESP"
    );
    assert_eq!(&d[48..52], &SPI.0.to_be_bytes());
}

#[test]
fn esn_across_the_2_pow_32_boundary() {
    for mode in [Mode::Tunnel, Mode::Transport] {
        let o = Opts {
            mode,
            esn: true,
            last_sent: u64::from(u32::MAX) - 2,
            ..Opts::default()
        };
        // The inbound window starts at 0, so first bring it near the boundary: the inbound SA
        // must accept (and infer) the numbers below and above 2^32.
        for &(name, encr, integ) in SUITES {
            let (out_sa, in_sa) = pair(encr, integ, &o);
            let feeder = pair(
                encr,
                integ,
                &Opts {
                    last_sent: 0x7fff_fff0,
                    ..o.clone()
                },
            )
            .0;
            let mut ev = Vec::new();
            let plain = udp_v4(20);
            // Walk the receiver up in steps below 2^31 (RFC 4303 Appendix A2.2 inference).
            let mut p = buf(&plain);
            assert_eq!(
                feeder.protect(&mut p, Timestamp::ZERO, &mut ev),
                OutboundVerdict::Send
            );
            assert_eq!(
                in_sa.unprotect(&mut p, Timestamp::ZERO, &mut ev),
                InboundVerdict::Deliver,
                "{name}"
            );
            for k in 0..5u64 {
                let mut p = buf(&plain);
                assert_eq!(
                    out_sa.protect(&mut p, Timestamp::ZERO, &mut ev),
                    OutboundVerdict::Send
                );
                assert_eq!(
                    in_sa.unprotect(&mut p, Timestamp::ZERO, &mut ev),
                    InboundVerdict::Deliver,
                    "{name} packet {k}"
                );
                assert_eq!(p.data(), &plain[..]);
                assert_eq!(in_sa.state().replay_top(), u64::from(u32::MAX) - 1 + k);
            }
        }
    }
}

/// A packet whose headroom is too small is refused, not overrun.
#[test]
fn small_headroom_is_refused() {
    let (out_sa, _) = pair(SUITES[0].1, SUITES[0].2, &Opts::default());
    let plain = udp_v4(10);
    let mut pkt = PacketBuf::new(200, out_sa.headroom_needed() - 1);
    pkt.set(out_sa.headroom_needed() - 1, &plain).unwrap();
    assert_eq!(
        out_sa.protect(&mut pkt, Timestamp::ZERO, &mut Vec::new()),
        OutboundVerdict::Drop(rampart_dataplane::drop::DropReason::BufferTooSmall)
    );
}
