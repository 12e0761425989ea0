//! The compiled SPD against the reference matcher [`Spd::lookup`]: hand-written cases for each
//! selector kind, a seeded randomized comparison over many SPDs and packets biased onto range
//! boundaries, and a proptest over small dense SPDs.

use super::*;
use proptest::prelude::*;
use rampart_policy::{
    IpProtocol, IpsecMode, IpsecProtocol, Pfp, PortSelector, ProtocolSelector, SpdEntry,
};
use std::net::{Ipv4Addr, Ipv6Addr};

/// A tiny deterministic generator (SplitMix64); tests read no OS randomness.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

fn protect(reqid: u32) -> Action {
    Action::Protect(ProtectTemplate {
        protocol: IpsecProtocol::Esp,
        mode: IpsecMode::Tunnel,
        proposals: vec!["aes128gcm16".to_owned()],
        pfp: Pfp::NONE,
        reqid: ReqId(reqid),
    })
}

fn range(s: &str) -> AddrRange {
    match s.split_once('/') {
        Some((a, len)) => AddrRange::prefix(a.parse().unwrap(), len.parse().unwrap()).unwrap(),
        None => match s.split_once('-') {
            Some((a, b)) => AddrRange::new(a.parse().unwrap(), b.parse().unwrap()).unwrap(),
            None => AddrRange::host(s.parse().unwrap()),
        },
    }
}

fn sel(local: &str, remote: &str) -> Selector {
    Selector::new(range(local), range(remote)).unwrap()
}

fn entry(name: &str, priority: u32, dir: Direction, sels: Vec<Selector>, a: Action) -> SpdEntry {
    SpdEntry {
        name: name.to_owned(),
        priority,
        direction: dir,
        selectors: sels,
        action: a,
    }
}

fn pkt(
    local: &str,
    remote: &str,
    proto: IpProtocol,
    lport: PortValue,
    rport: PortValue,
) -> PacketSelector {
    PacketSelector {
        local: local.parse().unwrap(),
        remote: remote.parse().unwrap(),
        protocol: proto,
        local_port: lport,
        remote_port: rport,
    }
}

/// Asserts the compiled verdict equals the reference for every packet, both directions.
fn assert_agrees(spd: &Spd, packets: &[PacketSelector]) {
    for dir in [Direction::Outbound, Direction::Inbound] {
        let c = CompiledSpd::build(spd, dir).unwrap();
        for p in packets {
            let want = Verdict::from(spd.lookup(dir, p));
            assert_eq!(c.classify(p), want, "{dir} {p}");
        }
    }
}

#[test]
fn hand_written_cases() {
    use PortValue::{Opaque, Port};
    let out = Direction::Outbound;
    let mut spd = Spd::new();
    spd.set_ike_addrs(vec![
        "192.0.2.1".parse().unwrap(),
        "2001:db8::1".parse().unwrap(),
    ]);
    let web = sel("10.1.0.0/16", "10.2.0.0/16")
        .with_protocol(ProtocolSelector::Only(IpProtocol::TCP))
        .with_remote_port(PortSelector::range(80, 443).unwrap());
    let ping = sel("0.0.0.0/0", "0.0.0.0/0")
        .with_protocol(ProtocolSelector::Only(IpProtocol::ICMP))
        .with_local_port(PortSelector::icmp_type(8));
    let frags = sel("10.1.0.0/16", "10.2.0.0/16").with_remote_port(PortSelector::OPAQUE);
    let odd_range = sel("10.1.0.5-10.1.0.200", "10.9.255.250-10.10.0.3");
    let v6 = Selector::new(range("2001:db8:1::/48"), range("2001:db8:2::/48")).unwrap();
    for (name, prio, sels, action) in [
        ("web", 10, vec![web], protect(1)),
        ("ping", 5, vec![ping], Action::Bypass),
        ("frags", 20, vec![frags], Action::Discard),
        ("odd", 30, vec![odd_range, v6], protect(2)),
        (
            "ike-shadowed",
            0,
            vec![sel("192.0.2.1", "0.0.0.0/0")],
            Action::Discard,
        ),
    ] {
        spd.insert(entry(name, prio, out, sels, action)).unwrap();
    }
    let udp = IpProtocol::UDP;
    let packets = [
        pkt(
            "10.1.2.3",
            "10.2.3.4",
            IpProtocol::TCP,
            Port(5555),
            Port(443),
        ),
        pkt(
            "10.1.2.3",
            "10.2.3.4",
            IpProtocol::TCP,
            Port(5555),
            Port(444),
        ),
        pkt("10.1.2.3", "10.2.3.4", IpProtocol::TCP, Port(5555), Opaque),
        pkt(
            "10.1.2.3",
            "10.2.3.4",
            IpProtocol::ICMP,
            PortValue::icmp(8, 0),
            Opaque,
        ),
        pkt(
            "10.1.2.3",
            "10.2.3.4",
            IpProtocol::ICMP,
            PortValue::icmp(0, 0),
            Opaque,
        ),
        pkt("10.1.0.5", "10.10.0.3", udp, Port(1), Port(2)),
        pkt("10.1.0.4", "10.10.0.3", udp, Port(1), Port(2)),
        pkt("10.1.0.200", "10.9.255.250", udp, Port(1), Port(2)),
        pkt("10.1.0.200", "10.10.0.4", udp, Port(1), Port(2)),
        pkt("192.0.2.1", "198.51.100.7", udp, Port(500), Port(500)),
        pkt("192.0.2.1", "198.51.100.7", udp, Port(4500), Port(31000)),
        pkt("192.0.2.1", "198.51.100.7", udp, Port(501), Port(500)),
        pkt(
            "192.0.2.1",
            "198.51.100.7",
            IpProtocol::TCP,
            Port(500),
            Port(500),
        ),
        pkt("2001:db8::1", "2001:db8:9::9", udp, Port(500), Port(1)),
        pkt(
            "2001:db8:1::7",
            "2001:db8:2::8",
            IpProtocol::TCP,
            Port(1),
            Port(2),
        ),
        pkt(
            "2001:db8:1::7",
            "2001:db8:3::8",
            IpProtocol::TCP,
            Port(1),
            Port(2),
        ),
        pkt(
            "2001:db8:1::7",
            "10.2.3.4",
            IpProtocol::TCP,
            Port(1),
            Port(2),
        ),
    ];
    assert_agrees(&spd, &packets);
    let c = CompiledSpd::build(&spd, out).unwrap();
    let expect = |i: usize, v: Verdict| assert_eq!(c.classify(&packets[i]), v, "{}", packets[i]);
    let web_at = spd.entries().iter().position(|e| e.name == "web").unwrap();
    expect(
        0,
        Verdict::Protect {
            index: web_at,
            reqid: ReqId(1),
        },
    );
    expect(9, Verdict::Bypass(Origin::IkeBypass));
    expect(13, Verdict::Bypass(Origin::IkeBypass));
    expect(16, Verdict::Discard(Origin::NoMatch));
    assert_eq!(c.template(web_at).map(|t| t.reqid), Some(ReqId(1)));
    assert_eq!(c.template(0), None);
    // Inbound side is empty: only IKE passes.
    let i = CompiledSpd::build(&spd, Direction::Inbound).unwrap();
    assert_eq!(i.classify(&packets[0]), Verdict::Discard(Origin::NoMatch));
    assert_eq!(i.classify(&packets[10]), Verdict::Bypass(Origin::IkeBypass));
}

#[test]
fn empty_spd_discards_everything() {
    let spd = Spd::new();
    let c = CompiledSpd::build(&spd, Direction::Outbound).unwrap();
    let p = pkt(
        "1.2.3.4",
        "5.6.7.8",
        IpProtocol::UDP,
        PortValue::Port(500),
        PortValue::Port(500),
    );
    assert_eq!(c.classify(&p), Verdict::Discard(Origin::NoMatch));
    assert_eq!(c.stats().v4_rows, 0);
}

/// Addresses a random SPD draws from: a few clustered bases so prefixes nest and overlap.
fn random_addr(rng: &mut Rng, v6: bool) -> u128 {
    let base: u128 = rng.pick(&[0x0a00_0000, 0x0a01_0000, 0xc000_0200, 0, 0xffff_ff00]);
    let noise = match rng.below(4) {
        0 => 0,
        1 => u128::from(rng.next() & 0xff),
        2 => u128::from(rng.next() & 0xffff),
        _ => u128::from(rng.next() as u32),
    };
    let v4 = (base ^ noise) & 0xffff_ffff;
    if v6 {
        (0x2001_0db8u128 << 96) | (v4 << 16) | (noise & 0xffff)
    } else {
        v4
    }
}

fn to_addr(v: u128, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(v))
    } else {
        IpAddr::V4(Ipv4Addr::from(v as u32))
    }
}

fn random_range(rng: &mut Rng, v6: bool) -> AddrRange {
    let bits = if v6 { 128 } else { 32 };
    let a = random_addr(rng, v6);
    match rng.below(10) {
        0 => AddrRange::any(if v6 {
            rampart_policy::Family::V6
        } else {
            rampart_policy::Family::V4
        }),
        1..=6 => {
            let len = if v6 {
                rng.pick(&[0u8, 32, 64, 96, 104, 112, 120, 127, 128])
            } else {
                rng.pick(&[0u8, 1, 8, 12, 16, 20, 24, 28, 31, 32])
            };
            AddrRange::prefix(to_addr(a, v6), len.min(bits)).unwrap()
        }
        _ => {
            let b = a.saturating_add(u128::from(rng.next() & 0x3ff));
            let b = if v6 { b } else { b.min(0xffff_ffff) };
            AddrRange::new(to_addr(a, v6), to_addr(b, v6)).unwrap()
        }
    }
}

fn random_ports(rng: &mut Rng, icmp: bool) -> PortSelector {
    match rng.below(8) {
        0..=2 => PortSelector::ANY,
        3 => PortSelector::OPAQUE,
        4 if icmp => PortSelector::icmp_type(rng.pick(&[0, 3, 8])),
        4 | 5 => PortSelector::port(rng.pick(&[22, 53, 80, 443, 500, 4500])),
        _ => {
            let a = rng.pick(&[0u16, 1, 79, 80, 1024, 4500, 65534]);
            PortSelector::range(a, a.saturating_add(rng.pick(&[0, 1, 100, 65535]))).unwrap()
        }
    }
}

fn random_selector(rng: &mut Rng) -> Selector {
    let v6 = rng.chance(25);
    let protocol = rng.pick(&[
        ProtocolSelector::Any,
        ProtocolSelector::Any,
        ProtocolSelector::Only(IpProtocol::TCP),
        ProtocolSelector::Only(IpProtocol::UDP),
        ProtocolSelector::Only(if v6 {
            IpProtocol::ICMPV6
        } else {
            IpProtocol::ICMP
        }),
    ]);
    let icmp = matches!(protocol, ProtocolSelector::Only(p) if p.has_type_code());
    Selector::new(random_range(rng, v6), random_range(rng, v6))
        .expect("both ranges drawn from one family")
        .with_protocol(protocol)
        .with_local_port(random_ports(rng, icmp))
        .with_remote_port(random_ports(rng, icmp))
}

fn random_spd(rng: &mut Rng, entries: usize) -> Spd {
    let mut spd = Spd::new();
    if rng.chance(50) {
        spd.set_ike_addrs(vec![
            "10.0.0.1".parse().unwrap(),
            "2001:db8:a00:1::1".parse().unwrap(),
        ]);
    }
    for i in 0..entries {
        let sels = (0..1 + rng.below(3))
            .map(|_| random_selector(rng))
            .collect();
        let action = match rng.below(3) {
            0 => Action::Bypass,
            1 => Action::Discard,
            _ => protect(1 + rng.below(5) as u32),
        };
        let dir = if rng.chance(50) {
            Direction::Outbound
        } else {
            Direction::Inbound
        };
        let e = entry(&format!("e{i}"), rng.below(6) as u32, dir, sels, action);
        spd.insert(e).expect("names are unique");
    }
    spd
}

/// A value of `lo..=hi`: one of its ends, or one inside; with `outside`, one just past an end.
fn near(rng: &mut Rng, lo: u128, hi: u128, max: u128, outside: bool) -> u128 {
    match (outside, rng.below(3)) {
        (true, 0) if lo > 0 => lo - 1,
        (true, _) if hi < max => hi + 1,
        (true, _) => lo.saturating_sub(1),
        (false, 0) => lo,
        (false, 1) => hi,
        (false, _) => lo + (u128::from(rng.next()) % (hi - lo).saturating_add(1).max(1)),
    }
}

fn port_of(point: u128) -> PortValue {
    u16::try_from(point).map_or(PortValue::Opaque, PortValue::Port)
}

/// A packet aimed at the edges of one selector of the SPD (or anywhere, sometimes).
fn random_packet(rng: &mut Rng, spd: &Spd) -> PacketSelector {
    let sels: Vec<&Selector> = spd.entries().iter().flat_map(|e| &e.selectors).collect();
    if sels.is_empty() || rng.chance(10) {
        let v6 = rng.chance(25);
        let (l, r) = (random_addr(rng, v6), random_addr(rng, v6));
        return PacketSelector {
            local: to_addr(l, v6),
            remote: to_addr(r, v6),
            protocol: IpProtocol(rng.pick(&[1, 6, 17, 58, 50])),
            local_port: port_of(u128::from(rng.pick(&[500u32, 4500, 80, 65536]))),
            remote_port: port_of(u128::from(rng.pick(&[500u32, 53, 65536]))),
        };
    }
    let s = rng.pick(&sels);
    let v6 = s.local().start().is_ipv6();
    let max = if v6 { u128::MAX } else { 0xffff_ffff };
    let (ll, lh) = s.local().to_u128();
    let (rl, rh) = s.remote().to_u128();
    let (p0, p1) = s.protocol().interval();
    let (a0, a1) = s.local_port().interval();
    let (b0, b1) = s.remote_port().interval();
    // Half the packets step just outside the selector in one field.
    let out = if rng.chance(50) { rng.below(5) } else { 5 };
    let proto = near(rng, p0.into(), p1.into(), 255, out == 0);
    PacketSelector {
        local: to_addr(near(rng, ll, lh, max, out == 1), v6),
        remote: to_addr(near(rng, rl, rh, max, out == 2), v6),
        protocol: IpProtocol(u8::try_from(proto).unwrap_or(u8::MAX)),
        local_port: port_of(near(rng, a0.into(), a1.into(), 65536, out == 3)),
        remote_port: port_of(near(rng, b0.into(), b1.into(), 65536, out == 4)),
    }
}

#[test]
fn randomized_equivalence_with_reference() {
    // 200 SPDs × 2000 packets × 2 directions, each packet aimed at a selector's edges.
    let mut rng = Rng::new(0x5eed_0001);
    let mut decided_by_entry = 0usize;
    for round in 0..200 {
        let spd = random_spd(&mut rng, 1 + (round % 60));
        let packets: Vec<_> = (0..2000).map(|_| random_packet(&mut rng, &spd)).collect();
        for dir in [Direction::Outbound, Direction::Inbound] {
            let c = CompiledSpd::build(&spd, dir).unwrap();
            for p in &packets {
                let want = Verdict::from(spd.lookup(dir, p));
                let got = c.classify(p);
                assert_eq!(got, want, "round {round} {dir} {p}");
                decided_by_entry += usize::from(want.index().is_some());
            }
        }
    }
    // The packets are aimed well enough that many hit an entry (each entry lives in one
    // direction, so at most about half of the decisions can).
    let total = 200 * 2000 * 2;
    assert!(
        decided_by_entry > total / 5,
        "only {decided_by_entry} of {total} hit an entry"
    );
}

#[test]
fn many_rows_still_agree() {
    // One larger SPD, so that chains are long and the priority pruning is exercised.
    let mut rng = Rng::new(7);
    let spd = random_spd(&mut rng, 3000);
    let packets: Vec<_> = (0..3000).map(|_| random_packet(&mut rng, &spd)).collect();
    assert_agrees(&spd, &packets);
    let stats = CompiledSpd::build(&spd, Direction::Outbound)
        .unwrap()
        .stats();
    assert!(stats.v4_rows > 0 && stats.v6_rows > 0 && stats.heap_bytes > 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn proptest_equivalence(seed in any::<u64>(), n in 0usize..25) {
        let mut rng = Rng::new(seed);
        let spd = random_spd(&mut rng, n);
        for dir in [Direction::Outbound, Direction::Inbound] {
            let c = CompiledSpd::build(&spd, dir).unwrap();
            for _ in 0..200 {
                let p = random_packet(&mut rng, &spd);
                prop_assert_eq!(c.classify(&p), Verdict::from(spd.lookup(dir, &p)));
            }
        }
    }
}
