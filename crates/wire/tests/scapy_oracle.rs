//! Independent oracle: scapy builds packets that our views must read field by field, and scapy
//! decodes packets that our emitters wrote. One python process per test (scapy takes ~1 s to
//! import). The scripts live in `tests/oracle/`.
//!
//! Shared oracle rule (`rampart_testkit`): when python3 or scapy is missing the test prints a warning
//! and passes, unless `RAMPART_REQUIRE_ORACLES=1`, in which case it fails.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use rampart_wire::ip::{AddrPair, IpProtocol, IpVersion};
use rampart_wire::natt::{Udp4500Kind, classify_udp4500};
use rampart_wire::{ah, esp, ipv4, ipv6, udp};

/// Runs `tests/oracle/<script>` with `input` on stdin; `None` when the oracle is unavailable
/// and not required (the shared rule of `rampart_testkit`).
fn run_oracle(script: &str, input: &str) -> Option<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/oracle")
        .join(script);
    rampart_testkit::python_file(&path, input)
}

fn v4_addrs() -> (Ipv4Addr, Ipv4Addr) {
    (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(198, 51, 100, 2))
}

fn v6_addrs() -> (Ipv6Addr, Ipv6Addr) {
    (
        "2001:db8::1".parse().unwrap(),
        "2001:db8::2".parse().unwrap(),
    )
}

#[test]
fn scapy_built_packets_parse() {
    let Some(out) = run_oracle("build_packets.py", "") else {
        return;
    };
    let pkts: HashMap<&str, Vec<u8>> = out
        .lines()
        .map(|l| {
            let (name, hex) = l.split_once(' ').expect("`name hex` lines");
            (name, hex::decode(hex).expect("hex"))
        })
        .collect();
    check_ipv4_options_udp(&pkts["ipv4_options_udp"]);
    check_ipv6_ext_udp(&pkts["ipv6_ext_udp"]);
    check_ipv4_esp(&pkts["ipv4_esp"]);
    check_ipv4_ah(&pkts["ipv4_ah"]);
    check_ipv6_ah(&pkts["ipv6_ah"]);
    check_natt(
        &pkts["natt_keepalive"],
        &pkts["natt_esp"],
        &pkts["natt_ike"],
    );
}

fn check_ipv4_options_udp(bytes: &[u8]) {
    let ip = ipv4::Packet::new_checked(bytes).unwrap();
    let repr = ipv4::Repr::parse(&ip).unwrap(); // verifies scapy's header checksum
    assert_eq!((repr.src_addr, repr.dst_addr), v4_addrs());
    assert_eq!(
        (repr.dscp, repr.ecn, repr.ttl, repr.ident),
        (46, 1, 33, 0x4242)
    );
    assert!(repr.dont_frag && !repr.more_frags);
    assert_eq!(repr.protocol, IpProtocol::UDP);
    assert_eq!(ip.header_len(), 32);
    let opts: Vec<_> = ip.option_iter().collect::<Result<_, _>>().unwrap();
    let kinds: Vec<_> = opts.iter().map(|o| (o.kind, o.ah_mutability())).collect();
    use ipv4::AhMutability::{Immutable, Mutable};
    assert_eq!(kinds[..3], [(1, Immutable), (148, Immutable), (7, Mutable)]);
    assert_eq!(opts[2].data, &[4, 10, 0, 0, 1]);
    let (src, dst) = v4_addrs();
    let u = udp::Packet::new_checked(ip.payload()).unwrap();
    let r = udp::Repr::parse(&u, &AddrPair::V4 { src, dst }).unwrap();
    assert_eq!((r.src_port, r.dst_port), (4500, 4501));
    assert_eq!(u.payload(), b"hello oracle");
}

fn check_ipv6_ext_udp(bytes: &[u8]) {
    let ip = ipv6::Packet::new_checked(bytes).unwrap();
    let repr = ipv6::Repr::parse(&ip).unwrap();
    assert_eq!((repr.src_addr, repr.dst_addr), v6_addrs());
    assert_eq!(
        (repr.traffic_class, repr.flow_label, repr.hop_limit),
        (0x2c, 0x12345, 7)
    );
    let headers: Vec<_> = ip.ext_headers().collect::<Result<_, _>>().unwrap();
    let kinds: Vec<_> = headers.iter().map(|h| h.kind).collect();
    assert_eq!(
        kinds,
        [
            IpProtocol::IPV6_HOPOPTS,
            IpProtocol::DSTOPTS,
            IpProtocol::FRAGMENT
        ]
    );
    let hbh: Vec<_> = headers[0].options().collect::<Result<_, _>>().unwrap();
    assert_eq!((hbh[0].kind, hbh[0].data), (5, &[0u8, 0][..])); // Router Alert
    let dst: Vec<_> = headers[1].options().collect::<Result<_, _>>().unwrap();
    assert_eq!((dst[0].kind, dst[0].data), (0x3e, &[1u8, 2, 3, 4][..]));
    assert!(dst[0].may_change_en_route() && !hbh[0].may_change_en_route());
    let upper = ip.upper_layer().unwrap();
    assert_eq!(upper.protocol, IpProtocol::UDP);
    let frag = upper.fragment.unwrap();
    assert_eq!(
        (frag.offset, frag.more_frags, frag.ident),
        (0, true, 0xabcdef)
    );
    let (src, dst) = v6_addrs();
    let u = udp::Packet::new_checked(&bytes[upper.offset..]).unwrap();
    let r = udp::Repr::parse(&u, &AddrPair::V6 { src, dst }).unwrap();
    assert_eq!(
        (r.src_port, r.dst_port, u.payload()),
        (500, 500, &b"ike!"[..])
    );
}

fn check_ipv4_esp(bytes: &[u8]) {
    let ip = ipv4::Packet::new_checked(bytes).unwrap();
    assert_eq!(ip.protocol(), IpProtocol::ESP);
    let e = esp::Packet::new_checked(ip.payload()).unwrap();
    let r = esp::Repr::parse(&e).unwrap();
    assert_eq!((r.spi, r.sequence_number), (0x1122_3344, 7));
    assert_eq!(e.payload(), &[0xaa; 24]);
}

fn check_ipv4_ah(bytes: &[u8]) {
    let ip = ipv4::Packet::new_checked(bytes).unwrap();
    assert_eq!(ip.protocol(), IpProtocol::AH);
    let a = ah::Packet::new_checked(ip.payload()).unwrap();
    let r = ah::Repr::parse(&a, IpVersion::V4).unwrap();
    assert_eq!(
        (r.next_header, r.spi, r.sequence_number),
        (IpProtocol::UDP, 0xdead_beef, 9)
    );
    assert_eq!((r.icv_len, a.header_len()), (16, 28)); // HMAC-SHA-256-128, 4-byte aligned
    assert!(a.check_alignment(IpVersion::V6).is_err());
    assert_eq!(&a.payload()[8..], b"xxxxx");
}

fn check_ipv6_ah(bytes: &[u8]) {
    let ip = ipv6::Packet::new_checked(bytes).unwrap();
    let upper = ip.upper_layer().unwrap();
    assert_eq!((upper.protocol, upper.offset), (IpProtocol::AH, 48));
    let a = ah::Packet::new_checked(&bytes[upper.offset..]).unwrap();
    let r = ah::Repr::parse(&a, IpVersion::V6).unwrap();
    assert_eq!(
        (r.next_header, r.spi, r.sequence_number),
        (IpProtocol::UDP, 0x0102_0304, 10)
    );
    // 16-byte ICV padded to 20 so the AH is 32 bytes, a multiple of 8 (RFC 4302 §3.3.3.2.1).
    assert_eq!((r.icv_len, a.header_len()), (20, 32));
    assert_eq!(&a.payload()[8..], b"yyy");
}

fn check_natt(keepalive: &[u8], esp_in_udp: &[u8], ike: &[u8]) {
    let (src, dst) = v4_addrs();
    let addrs = AddrPair::V4 { src, dst };
    let payload_of = |bytes| {
        let ip = ipv4::Packet::new_checked(bytes).unwrap();
        let u = udp::Packet::new_checked(ip.payload()).unwrap();
        udp::Repr::parse(&u, &addrs).unwrap();
        (u.dst_port(), u.checksum(), u.payload().to_vec())
    };
    let (port, _, p) = payload_of(keepalive);
    assert_eq!(
        (port, classify_udp4500(&p)),
        (4500, Ok(Udp4500Kind::Keepalive))
    );
    let (port, checksum, p) = payload_of(esp_in_udp);
    assert_eq!((port, checksum), (4500, 0)); // RFC 3948 §2.1: zero checksum
    assert_eq!(classify_udp4500(&p), Ok(Udp4500Kind::Esp));
    let e = esp::Repr::parse(&esp::Packet::new_checked(&p[..]).unwrap()).unwrap();
    assert_eq!((e.spi, e.sequence_number), (0x0a0b_0c0d, 3));
    // AES-CBC: 16-byte IV, whole blocks, 12-byte HMAC-SHA1-96 ICV.
    assert_eq!((p.len() - esp::HEADER_LEN - 16 - 12) % 16, 0);
    let (_, _, p) = payload_of(ike);
    match classify_udp4500(&p) {
        Ok(Udp4500Kind::Ike(msg)) => {
            assert_eq!(msg.len(), 28);
            assert_eq!(msg[..16], (1..=16).collect::<Vec<u8>>()[..]);
        }
        other => panic!("expected IKE, got {other:?}"),
    }
}

/// One packet our emitters wrote: its name, its bytes, and the fields scapy must decode.
type Emitted = (&'static str, Vec<u8>, Vec<(&'static str, String)>);

/// Packets written by our emitters.
fn emitted_packets() -> Vec<Emitted> {
    let (s4, d4) = v4_addrs();
    let (s6, d6) = v6_addrs();
    let mut v = Vec::new();

    // IPv4 + UDP (checksum computed), as the NAT-T/IKE path would send.
    let data = b"rampart";
    let mut buf = vec![0u8; 20 + 8 + data.len()];
    buf[28..].copy_from_slice(data);
    ipv4::Repr {
        src_addr: s4,
        dst_addr: d4,
        protocol: IpProtocol::UDP,
        payload_len: 8 + data.len(),
        ttl: 17,
        dscp: 10,
        ecn: 2,
        ident: 0xbeef,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
    }
    .emit(&mut buf)
    .unwrap();
    let u = udp::Repr {
        src_port: 500,
        dst_port: 4500,
        payload_len: data.len(),
    };
    u.emit(
        &mut buf[20..],
        udp::UdpChecksum::Compute(AddrPair::V4 { src: s4, dst: d4 }),
    )
    .unwrap();
    let f = vec![
        ("tos", "42".into()),
        ("len", "35".into()),
        ("id", "48879".into()),
        ("flags", "2".into()),
        ("ttl", "17".into()),
        ("proto", "17".into()),
        ("src", s4.to_string()),
        ("dst", d4.to_string()),
        ("ip_chksum_ok", "1".into()),
        ("sport", "500".into()),
        ("dport", "4500".into()),
        ("udp_len", "15".into()),
        ("udp_chksum_ok", "1".into()),
        ("load", hex::encode(data)),
    ];
    v.push(("v4_udp", buf, f));

    // IPv6 + Fragment + UDP.
    let mut buf = vec![0u8; 40 + 8 + 8 + 3];
    buf[56..].copy_from_slice(b"abc");
    ipv6::Repr {
        src_addr: s6,
        dst_addr: d6,
        next_header: IpProtocol::FRAGMENT,
        payload_len: 19,
        hop_limit: 3,
        traffic_class: 0xb8,
        flow_label: 0xfedcb,
    }
    .emit(&mut buf)
    .unwrap();
    ipv6::FragmentHeader {
        next_header: IpProtocol::UDP,
        offset: 0,
        more_frags: false,
        ident: 77,
    }
    .emit(&mut buf[40..])
    .unwrap();
    udp::Repr {
        src_port: 4500,
        dst_port: 4500,
        payload_len: 3,
    }
    .emit(
        &mut buf[48..],
        udp::UdpChecksum::Compute(AddrPair::V6 { src: s6, dst: d6 }),
    )
    .unwrap();
    let f = vec![
        ("tc", "184".into()),
        ("fl", "1043915".into()),
        ("plen", "19".into()),
        ("nh", "44".into()),
        ("hlim", "3".into()),
        ("src", s6.to_string()),
        ("dst", d6.to_string()),
        ("frag_nh", "17".into()),
        ("frag_offset", "0".into()),
        ("frag_m", "0".into()),
        ("frag_id", "77".into()),
        ("udp_len", "11".into()),
        ("udp_chksum_ok", "1".into()),
        ("load", hex::encode(b"abc")),
    ];
    v.push(("v6_frag_udp", buf, f));

    // IPv4 + ESP header + opaque bytes, with a trailer-padded plaintext (not encrypted here).
    let t = esp::Trailer::for_payload(5, 16, IpProtocol::IPV4).unwrap();
    let mut buf = vec![0u8; 20 + 8 + t.plaintext_len()];
    buf[28..33].copy_from_slice(b"inner");
    t.emit(&mut buf[28..]).unwrap();
    ipv4::Repr {
        src_addr: s4,
        dst_addr: d4,
        protocol: IpProtocol::ESP,
        payload_len: 8 + t.plaintext_len(),
        ttl: 64,
        dscp: 0,
        ecn: 0,
        ident: 1,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
    }
    .emit(&mut buf)
    .unwrap();
    esp::Repr {
        spi: 0x8000_0001,
        sequence_number: 0xffff_fffe,
    }
    .emit(&mut buf[20..])
    .unwrap();
    let esp_data = hex::encode(&buf[28..]);
    assert!(esp_data.ends_with("0102030405060708090904"));
    let f = vec![
        ("proto", "50".into()),
        ("ip_chksum_ok", "1".into()),
        ("esp_spi", "2147483649".into()),
        ("esp_seq", "4294967294".into()),
        ("esp_data", esp_data),
    ];
    v.push(("v4_esp", buf, f));

    // IPv6 + AH (12-byte ICV field, filled with a marker) + 4 bytes.
    let a = ah::Repr {
        next_header: IpProtocol::TCP,
        spi: 0x0100,
        sequence_number: 5,
        icv_len: 12,
    };
    let mut buf = vec![0u8; 40 + a.buffer_len() + 4];
    ipv6::Repr {
        src_addr: s6,
        dst_addr: d6,
        next_header: IpProtocol::AH,
        payload_len: a.buffer_len() + 4,
        hop_limit: 64,
        traffic_class: 0,
        flow_label: 0,
    }
    .emit(&mut buf)
    .unwrap();
    a.emit(&mut buf[40..], IpVersion::V6).unwrap();
    ah::Packet::new_checked(&mut buf[40..])
        .unwrap()
        .icv_mut()
        .fill(0x5a);
    let f = vec![
        ("nh", "51".into()),
        ("ah_nh", "6".into()),
        ("ah_payloadlen", "4".into()),
        ("ah_reserved", "0".into()),
        ("ah_spi", "256".into()),
        ("ah_seq", "5".into()),
        ("ah_icv", "5a".repeat(12)),
    ];
    v.push(("v6_ah", buf, f));

    // NAT keepalive over IPv4, UDP checksum left zero.
    let mut buf = vec![0u8; 20 + 8 + 1];
    rampart_wire::natt::emit_keepalive(&mut buf[28..]).unwrap();
    ipv4::Repr {
        src_addr: s4,
        dst_addr: d4,
        protocol: IpProtocol::UDP,
        payload_len: 9,
        ttl: 64,
        dscp: 0,
        ecn: 0,
        ident: 2,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
    }
    .emit(&mut buf)
    .unwrap();
    udp::Repr {
        src_port: 4500,
        dst_port: 4500,
        payload_len: 1,
    }
    .emit(&mut buf[20..], udp::UdpChecksum::None)
    .unwrap();
    let f = vec![
        ("sport", "4500".into()),
        ("udp_len", "9".into()),
        ("udp_chksum", "0".into()),
        ("nat_keepalive", "255".into()),
    ];
    v.push(("v4_keepalive", buf, f));
    v
}

#[test]
fn scapy_decodes_our_packets() {
    let packets = emitted_packets();
    let input: String = packets
        .iter()
        .map(|(name, bytes, _)| format!("{name} {}\n", hex::encode(bytes)))
        .collect();
    let Some(out) = run_oracle("decode_packets.py", &input) else {
        return;
    };
    let decoded: HashMap<&str, HashMap<&str, &str>> = out
        .lines()
        .map(|l| {
            let mut words = l.split(' ');
            let name = words.next().expect("name first");
            (name, words.filter_map(|w| w.split_once('=')).collect())
        })
        .collect();
    for (name, _, want) in &packets {
        let got = &decoded[name];
        for (key, value) in want {
            assert_eq!(got.get(key), Some(&value.as_str()), "{name}: field {key}");
        }
    }
}
