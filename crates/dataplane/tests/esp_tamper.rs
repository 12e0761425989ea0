//! ESP rejection paths: tampered ICV / ciphertext / SPI / sequence number, truncation at every
//! length, replays, bad padding, dummy packets, sequence exhaustion, lifetimes, the
//! traffic-selector hook, and the batch API's per-SPI dispatch. Each drop must carry the right
//! reason and be counted once on the right SA.

mod esp_common;

use std::time::Duration;

use esp_common::*;
use rampart_crypto::{AeadAlg, CipherAlg, EncrAlg, IntegAlg};
use rampart_dataplane::batch::{inbound_spi, protect_batch, unprotect_batch};
use rampart_dataplane::drop::{DropCounters, DropReason};
use rampart_dataplane::esp::{EspTransform, InboundEspSa, OutboundEspSa};
use rampart_dataplane::lifetime::{ExpiryReason, LifetimeLimits, Lifetimes, SaEvent};
use rampart_dataplane::sa::{InboundSaState, Mode, Spi};
use rampart_dataplane::{
    InboundTransform, InboundVerdict, OutboundTransform, OutboundVerdict, PacketBuf, Timestamp,
};

const T0: Timestamp = Timestamp::ZERO;

fn protect(sa: &OutboundEspSa, plain: &[u8]) -> Vec<u8> {
    let mut p = buf(plain);
    assert_eq!(
        sa.protect(&mut p, T0, &mut Vec::new()),
        OutboundVerdict::Send
    );
    p.data().to_vec()
}

fn unprotect(sa: &InboundEspSa, wire: &[u8]) -> InboundVerdict {
    sa.unprotect(&mut buf(wire), T0, &mut Vec::new())
}

/// Offset of the ESP header in our tunnel-mode IPv4 output without UDP.
const ESP_AT: usize = 20;

#[test]
fn flipped_bytes_fail_the_icv_and_do_not_move_the_window() {
    for &(name, encr, integ) in SUITES {
        let (out_sa, in_sa) = pair(encr, integ, &Opts::default());
        let wire = protect(&out_sa, &udp_v4(50));
        let icv_len = in_sa.transform().icv_len();
        let iv_len = in_sa.transform().iv_len();
        let positions = [
            ("seq", ESP_AT + 7),
            ("iv", ESP_AT + 8),
            ("ciphertext", ESP_AT + 8 + iv_len + 5),
            ("trailer", wire.len() - icv_len - 1),
            ("icv", wire.len() - 1),
        ];
        for (what, at) in positions {
            if what == "iv" && iv_len == 0 {
                continue;
            }
            let mut bad = wire.clone();
            bad[at] ^= 0x40;
            assert_eq!(
                unprotect(&in_sa, &bad),
                InboundVerdict::Drop(DropReason::IcvFailure),
                "{name}: {what}"
            );
        }
        let mut bad = wire.clone();
        bad[ESP_AT] ^= 1;
        assert_eq!(
            unprotect(&in_sa, &bad),
            InboundVerdict::Drop(DropReason::BadSpi),
            "{name}"
        );
        // The window did not move: the genuine packet still passes, once.
        assert_eq!(unprotect(&in_sa, &wire), InboundVerdict::Deliver, "{name}");
        assert_eq!(
            unprotect(&in_sa, &wire),
            InboundVerdict::Drop(DropReason::Replay),
            "{name}"
        );
        let drops = in_sa.state().counters().drops();
        assert_eq!(
            drops.get(DropReason::IcvFailure),
            4 + u64::from(iv_len != 0)
        );
        assert_eq!(drops.get(DropReason::BadSpi), 1);
        assert_eq!(drops.get(DropReason::Replay), 1);
        assert_eq!(in_sa.state().counters().packets(), 1);
    }
}

#[test]
fn truncation_at_every_length_never_panics() {
    for &(name, encr, integ) in SUITES {
        for (mode, encap, v6) in [
            (Mode::Tunnel, false, false),
            (Mode::Transport, true, true),
            (Mode::Tunnel, true, true),
        ] {
            let o = Opts {
                mode,
                encap,
                outer_v6: v6,
                ..Opts::default()
            };
            let (out_sa, in_sa) = pair(encr, integ, &o);
            let plain = if v6 { udp_v6(40, false) } else { udp_v4(40) };
            let wire = protect(&out_sa, &plain);
            for len in 0..wire.len() {
                let v = unprotect(&in_sa, &wire[..len]);
                assert!(
                    matches!(
                        v,
                        InboundVerdict::Drop(DropReason::Truncated | DropReason::Malformed)
                    ),
                    "{name} {mode:?} len {len}: {v:?}"
                );
            }
            // Truncated but with the IP length fields patched to match: the ICV catches it.
            for cut in 1..=4 {
                let mut short = wire[..wire.len() - cut].to_vec();
                patch_lengths(&mut short);
                let v = unprotect(&in_sa, &short);
                assert!(
                    matches!(
                        v,
                        InboundVerdict::Drop(
                            DropReason::IcvFailure | DropReason::Malformed | DropReason::Truncated
                        )
                    ),
                    "{name} cut {cut}: {v:?}"
                );
            }
            assert_eq!(unprotect(&in_sa, &wire), InboundVerdict::Deliver, "{name}");
        }
    }
}

/// Rewrites IPv4 Total Length (and checksum) or IPv6 Payload Length, and a UDP Length, to
/// match the buffer.
fn patch_lengths(p: &mut [u8]) {
    let len = p.len();
    let (ip_len, proto) = if p[0] >> 4 == 4 {
        p[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        let mut h = rampart_wire::ipv4::Packet::new_unchecked(&mut p[..]);
        h.fill_checksum();
        (20, p[9])
    } else {
        p[4..6].copy_from_slice(&((len - 40) as u16).to_be_bytes());
        (40, p[6])
    };
    if proto == 17 {
        p[ip_len + 4..ip_len + 6].copy_from_slice(&((len - ip_len) as u16).to_be_bytes());
    }
}

#[test]
fn replayed_and_old_packets() {
    let (out_sa, in_sa) = pair(
        SUITES[0].1,
        SUITES[0].2,
        &Opts {
            window: 32,
            ..Opts::default()
        },
    );
    let plain = udp_v4(10);
    let wires: Vec<_> = (0..40).map(|_| protect(&out_sa, &plain)).collect();
    assert_eq!(unprotect(&in_sa, &wires[39]), InboundVerdict::Deliver);
    assert_eq!(
        unprotect(&in_sa, &wires[39]),
        InboundVerdict::Drop(DropReason::Replay)
    );
    assert_eq!(
        unprotect(&in_sa, &wires[20]),
        InboundVerdict::Deliver,
        "inside the window"
    );
    assert_eq!(
        unprotect(&in_sa, &wires[3]),
        InboundVerdict::Drop(DropReason::ReplayTooOld)
    );
}

/// Builds an ESP packet whose plaintext we choose freely (bad padding, dummy next header), with
/// a NULL+HMAC SA: we compute a genuine ICV over it with our own transform.
fn forged(in_sa: &InboundEspSa, seq: u32, plaintext: &[u8]) -> Vec<u8> {
    let mut esp = Vec::new();
    esp.extend_from_slice(&SPI.0.to_be_bytes());
    esp.extend_from_slice(&seq.to_be_bytes());
    esp.extend_from_slice(plaintext);
    esp.extend(std::iter::repeat_n(0, in_sa.transform().icv_len()));
    // The inbound SA's transform has the same keys as its peer's.
    in_sa.transform().seal(&mut esp, None).unwrap();
    let mut wire = vec![0u8; 20];
    wire.extend_from_slice(&esp);
    let repr = rampart_wire::ipv4::Repr {
        src_addr: [192, 0, 2, 1].into(),
        dst_addr: [192, 0, 2, 2].into(),
        protocol: rampart_wire::ip::IpProtocol::ESP,
        payload_len: esp.len(),
        ttl: 64,
        dscp: 0,
        ecn: 0,
        ident: 0,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
    };
    repr.emit(&mut wire).unwrap();
    wire
}

#[test]
fn padding_and_next_header_checks() {
    let null = EncrAlg::Cipher(CipherAlg::Null);
    let (_, in_sa) = pair(null, Some(IntegAlg::HmacSha256_128), &Opts::default());
    let inner = udp_v4(5); // 33 bytes
    let with = |pad: &[u8], nh: u8| {
        let mut pt = inner.clone();
        pt.extend_from_slice(pad);
        pt.push(pad.len() as u8);
        pt.push(nh);
        pt
    };
    // Good: 33 + 1 + 2 = 36.
    assert_eq!(
        unprotect(&in_sa, &forged(&in_sa, 1, &with(&[1], 4))),
        InboundVerdict::Deliver
    );
    // Padding bytes not 1, 2, 3, ...
    assert_eq!(
        unprotect(&in_sa, &forged(&in_sa, 2, &with(&[7], 4))),
        InboundVerdict::Drop(DropReason::BadPadding)
    );
    // Pad length larger than the plaintext.
    let mut pt = inner.clone();
    pt.extend_from_slice(&[1, 2, 3, 200, 4]);
    assert_eq!(
        unprotect(&in_sa, &forged(&in_sa, 3, &pt)),
        InboundVerdict::Drop(DropReason::BadPadding)
    );
    // Dummy packet (RFC 4303 §2.6): dropped, counted as such.
    assert_eq!(
        unprotect(&in_sa, &forged(&in_sa, 4, &with(&[1], 59))),
        InboundVerdict::Drop(DropReason::DummyPacket)
    );
    // Tunnel mode with a Next Header that is not an IP version.
    assert_eq!(
        unprotect(&in_sa, &forged(&in_sa, 5, &with(&[1], 17))),
        InboundVerdict::Drop(DropReason::UnsupportedNextHeader)
    );
    // Next Header says IPv6 but the inner packet is IPv4.
    assert_eq!(
        unprotect(&in_sa, &forged(&in_sa, 6, &with(&[1], 41))),
        InboundVerdict::Drop(DropReason::Malformed)
    );
    let drops = in_sa.state().counters().drops();
    assert_eq!(drops.get(DropReason::BadPadding), 2);
    assert_eq!(drops.get(DropReason::DummyPacket), 1);
    assert_eq!(
        in_sa.state().counters().packets(),
        1,
        "only the good packet is accounted"
    );
}

#[test]
fn sequence_exhaustion_without_esn_raises_one_event() {
    let o = Opts {
        last_sent: u64::from(u32::MAX) - 1,
        ..Opts::default()
    };
    let (out_sa, _) = pair(SUITES[0].1, SUITES[0].2, &o);
    let mut events = Vec::new();
    let plain = udp_v4(10);
    let verdicts: Vec<_> = (0..4)
        .map(|_| out_sa.protect(&mut buf(&plain), T0, &mut events))
        .collect();
    assert_eq!(
        verdicts,
        [
            OutboundVerdict::Send,
            OutboundVerdict::Drop(DropReason::SequenceExhausted),
            OutboundVerdict::Drop(DropReason::SequenceExhausted),
            OutboundVerdict::Drop(DropReason::SequenceExhausted),
        ]
    );
    assert_eq!(events, [SaEvent::SequenceExhausted { spi: SPI }]);
    assert_eq!(
        out_sa
            .state()
            .counters()
            .drops()
            .get(DropReason::SequenceExhausted),
        3
    );
}

#[test]
fn lifetimes_soft_once_then_hard() {
    let lifetimes = Lifetimes {
        soft: LifetimeLimits {
            packets: Some(2),
            ..LifetimeLimits::default()
        },
        hard: LifetimeLimits {
            packets: Some(3),
            time: Some(Duration::from_secs(10)),
            ..LifetimeLimits::default()
        },
    };
    let o = Opts {
        lifetimes,
        ..Opts::default()
    };
    let (out_sa, in_sa) = pair(SUITES[0].1, SUITES[0].2, &o);
    let plain = udp_v4(10);
    let (mut out_ev, mut in_ev) = (Vec::new(), Vec::new());
    let mut results = Vec::new();
    for _ in 0..5 {
        let mut p = buf(&plain);
        let v = out_sa.protect(&mut p, T0, &mut out_ev);
        let r = (v == OutboundVerdict::Send).then(|| in_sa.unprotect(&mut p, T0, &mut in_ev));
        results.push((v, r));
    }
    assert_eq!(
        results[0],
        (OutboundVerdict::Send, Some(InboundVerdict::Deliver))
    );
    assert_eq!(
        results[2],
        (OutboundVerdict::Send, Some(InboundVerdict::Deliver))
    );
    assert_eq!(
        results[3],
        (OutboundVerdict::Drop(DropReason::SaExpired), None)
    );
    assert_eq!(
        results[4],
        (OutboundVerdict::Drop(DropReason::SaExpired), None)
    );
    let expect = [
        SaEvent::SoftExpired {
            spi: SPI,
            reason: ExpiryReason::Packets,
        },
        SaEvent::HardExpired {
            spi: SPI,
            reason: ExpiryReason::Packets,
        },
    ];
    assert_eq!(out_ev, expect);
    assert_eq!(in_ev, expect[..1], "inbound saw 3 packets: soft only");
    assert_eq!(out_sa.state().counters().packets(), 3, "counters exact");
    assert_eq!(out_sa.state().counters().bytes(), 3 * plain.len() as u64);

    // Time: the inbound SA hard-expires at 10 s.
    let (out2, in2) = pair(SUITES[0].1, SUITES[0].2, &o);
    let mut p = buf(&plain);
    let _ = out2.protect(&mut p, T0, &mut Vec::new());
    let late = Timestamp::from_duration(Duration::from_secs(10));
    let mut ev = Vec::new();
    assert_eq!(
        in2.unprotect(&mut p, late, &mut ev),
        InboundVerdict::Drop(DropReason::SaExpired)
    );
    assert_eq!(ev.len(), 2, "soft and hard, once: {ev:?}");
    let mut p = buf(&plain);
    let _ = out2.protect(&mut p, T0, &mut Vec::new());
    assert_eq!(
        in2.unprotect(&mut p, late, &mut ev),
        InboundVerdict::Drop(DropReason::SaExpired)
    );
    assert_eq!(ev.len(), 2);
}

#[test]
fn policy_hook_counts_mismatches() {
    let encr = EncrAlg::Aead(AeadAlg::CHACHA20_POLY1305);
    let o = Opts::default();
    let key = keymat(encr, None);
    let out_sa = pair(encr, None, &o).0;
    // Allow only inner packets from 10.0.0.1.
    let in_sa = InboundEspSa::new(
        InboundSaState::new(config(&o), T0).unwrap(),
        EspTransform::new(encr, None, &key).unwrap(),
    )
    .unwrap()
    .with_policy(Box::new(|p: &[u8]| {
        p[0] >> 4 == 4 && p[12..16] == [10, 0, 0, 1]
    }));
    assert_eq!(
        unprotect(&in_sa, &protect(&out_sa, &udp_v4(3))),
        InboundVerdict::Deliver
    );
    let mut other = udp_v4(3);
    other[12..16].copy_from_slice(&[10, 9, 9, 9]);
    let mut h = rampart_wire::ipv4::Packet::new_unchecked(&mut other[..]);
    h.fill_checksum();
    assert_eq!(
        unprotect(&in_sa, &protect(&out_sa, &other)),
        InboundVerdict::Drop(DropReason::PolicyMismatch)
    );
    assert_eq!(
        in_sa
            .state()
            .counters()
            .drops()
            .get(DropReason::PolicyMismatch),
        1
    );
}

#[test]
fn batches_dispatch_by_spi() {
    let encr = EncrAlg::Aead(AeadAlg::AES_128_GCM_16);
    let o = Opts::default();
    let (out_sa, in_sa) = pair(encr, None, &o);
    let plain = udp_v6(100, false);
    let mut pkts: Vec<PacketBuf> = (0..8).map(|_| buf(&plain)).collect();
    let mut out_v = vec![OutboundVerdict::Send; 8];
    let mut events = Vec::with_capacity(4);
    let s = protect_batch(&out_sa, &mut pkts, &mut out_v, T0, &mut events);
    assert_eq!((s.passed, s.dropped), (8, 0));
    assert_eq!(inbound_spi(pkts[0].data()), Ok(SPI));
    // Corrupt one SPI and replay one packet.
    pkts[2].data_mut()[ESP_AT + 3] ^= 0xff;
    let dup = pkts[4].clone();
    pkts.push(dup);
    let mut in_v = vec![InboundVerdict::Deliver; 9];
    let unattributed = DropCounters::new();
    let lookup = |spi: Spi| (spi == SPI).then_some(&in_sa as &dyn InboundTransform);
    let s = unprotect_batch(lookup, &mut pkts, &mut in_v, T0, &mut events, &unattributed);
    assert_eq!((s.passed, s.dropped), (7, 2));
    assert_eq!(in_v[2], InboundVerdict::Drop(DropReason::BadSpi));
    assert_eq!(in_v[8], InboundVerdict::Drop(DropReason::Replay));
    assert_eq!(unattributed.get(DropReason::BadSpi), 1);
    assert_eq!(in_sa.state().counters().drops().get(DropReason::Replay), 1);
    for (p, v) in pkts.iter().zip(&in_v) {
        if *v == InboundVerdict::Deliver {
            assert_eq!(p.data(), &plain[..]);
        }
    }
    // Not IPsec at all (UDP is taken as ESP-in-UDP: the IO shell only hands over port 4500).
    let mut icmp = udp_v4(4);
    icmp[9] = 1;
    assert_eq!(inbound_spi(&icmp), Err(DropReason::UnsupportedNextHeader));
    assert_eq!(inbound_spi(&[]), Err(DropReason::Truncated));
}

#[test]
fn construction_errors() {
    let gcm = EncrAlg::Aead(AeadAlg::AES_128_GCM_16);
    let cbc = EncrAlg::Cipher(CipherAlg::AesCbc128);
    assert!(EspTransform::new(gcm, None, &[0; 19]).is_err());
    assert!(EspTransform::new(gcm, Some(IntegAlg::HmacSha256_128), &[0; 52]).is_err());
    assert!(EspTransform::new(cbc, None, &[0; 16]).is_err());
    assert!(EspTransform::new(cbc, Some(IntegAlg::HmacSha256_128), &[0; 48]).is_ok());
}
