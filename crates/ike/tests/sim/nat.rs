//! NAT traversal under simulation (RFC 7296 §2.23, RFC 3948): node 0 sits behind a NAT box
//! that rewrites its source address and port; IKE floats to 4500 with the non-ESP marker, both
//! sides report ESP-in-UDP with the ports the other side sees, the side behind the NAT sends
//! keepalives, a NAT rebinding moves the responder to the new port once an authenticated
//! request arrives from it, and forced encapsulation does all this without a NAT. Also the
//! on-demand entry points (`IkeSa::acquire`, `Endpoint::acquire`).

use std::net::SocketAddr;
use std::time::Duration;

use rampart_ike::{Acquired, Event, TransmitKind};
use rampart_policy::TrafficSelector;
use rampart_policy::sad::UdpEncap;

use super::harness::{Faults, NatBox, Sim, for_seeds, secs};
use super::{A, B, Side, down_reasons, failures, pair};

/// The NAT's public address (documentation range, RFC 5737).
const NAT_PUBLIC: &str = "192.0.2.100";
const NATT: u16 = 4500;

/// Node 0 (at A) behind a NAT whose public address is [`NAT_PUBLIC`]; node 1 (B) expects the
/// peer there.
fn nat_pair(seed: u64, faults: Faults, a: Side) -> Sim {
    let mut sim = Sim::new(seed, faults);
    sim.nat = Some(NatBox::new(A, NAT_PUBLIC));
    let b = Side {
        remote: NAT_PUBLIC,
        ..Side::b()
    };
    sim.add_node(a.local, a.config());
    sim.add_node(b.local, b.config());
    sim.initiate(0, a.connection(), Some("net"));
    sim
}

fn keepalive_times(sim: &Sim, n: usize) -> Vec<Duration> {
    sim.nodes[n]
        .log
        .iter()
        .filter(|(_, t)| t.kind == TransmitKind::NatKeepalive)
        .map(|(at, t)| {
            assert_eq!(t.payload, [0xff], "a keepalive is the single byte 0xFF");
            assert_eq!(t.local.port(), NATT, "keepalives go from 4500");
            Duration::from_nanos(at.as_nanos())
        })
        .collect()
}

/// Every IKE message of node `n` after its first `skip`: from and to 4500 (the peer's port as
/// given), behind the non-ESP marker.
fn check_floated(sim: &Sim, n: usize, skip: usize, remote_port: Option<u16>) {
    let ike: Vec<_> = sim.nodes[n]
        .log
        .iter()
        .filter(|(_, t)| t.kind == TransmitKind::Ike)
        .collect();
    assert!(ike.len() > skip, "node {n} sent too little");
    for (_, t) in &ike[..skip] {
        assert_eq!(t.local.port(), 500, "IKE_SA_INIT stays on 500");
        assert_ne!(t.payload[..4], [0, 0, 0, 0], "no marker on 500");
    }
    for (_, t) in &ike[skip..] {
        assert_eq!(
            t.local.port(),
            NATT,
            "node {n}: IKE_AUTH and later from 4500"
        );
        assert_eq!(t.remote.port(), remote_port.unwrap_or(NATT), "node {n}");
        assert_eq!(t.payload[..4], [0, 0, 0, 0], "non-ESP marker");
        // Behind the marker, an IKEv2 header (version 2.0 at offset 17).
        assert_eq!(t.payload[4 + 17], 0x20);
    }
}

fn the_child(sim: &Sim, n: usize) -> &rampart_ike::ChildSa {
    sim.nodes[n].children.values().next().expect("a child SA")
}

fn nat_seen(sim: &Sim, n: usize) -> bool {
    sim.events(n).any(|e| {
        matches!(
            e,
            Event::IkeSaUp {
                nat_detected: true,
                ..
            }
        )
    })
}

/// IKE_SA_INIT on 500 shows the NAT; IKE_AUTH and everything after runs on 4500 with the
/// marker; both sides report ESP-in-UDP with the ports the other side sees.
#[test]
fn setup_through_nat_floats_to_4500() {
    let mut sim = nat_pair(1, Faults::NONE, Side::a());
    sim.run_until(secs(2));
    sim.check_settled(0, 1);
    assert!(nat_seen(&sim, 0) && nat_seen(&sim, 1));
    let mapped = the_child(&sim, 1).remote_addr;
    assert_eq!(mapped.ip(), NAT_PUBLIC.parse::<std::net::IpAddr>().unwrap());
    assert_ne!(mapped.port(), NATT, "the NAT picked its own port");
    assert_eq!(
        the_child(&sim, 0).udp_encap,
        Some(UdpEncap {
            local_port: NATT,
            remote_port: NATT
        })
    );
    assert_eq!(
        the_child(&sim, 1).udp_encap,
        Some(UdpEncap {
            local_port: NATT,
            remote_port: mapped.port()
        })
    );
    assert_eq!(
        the_child(&sim, 0).remote_addr,
        SocketAddr::new(B.parse().unwrap(), NATT)
    );
    // Initiator: the IKE_SA_INIT request on 500; responder: its IKE_SA_INIT response.
    check_floated(&sim, 0, 1, None);
    check_floated(&sim, 1, 1, Some(mapped.port()));
    // Not a rebinding: the responder followed the port float while IKE_AUTH was in progress.
    assert!(
        !sim.events(1)
            .any(|e| matches!(e, Event::PeerAddressChanged { .. }))
    );
}

/// Without a NAT nothing floats and nobody sends keepalives.
#[test]
fn no_nat_no_float_no_keepalives() {
    let mut sim = pair(2, Faults::NONE, Side::a(), Side::b());
    sim.run_until(secs(120));
    sim.check_settled(0, 1);
    assert_eq!(the_child(&sim, 0).udp_encap, None);
    for n in [0, 1] {
        assert!(keepalive_times(&sim, n).is_empty());
        assert!(sim.nodes[n].log.iter().all(|(_, t)| t.local.port() == 500));
    }
}

/// Forced encapsulation (strongSwan's `encap = yes`) with no NAT: the faked source hash makes
/// the responder see a NAT; both float and use ESP-in-UDP on 4500/4500.
#[test]
fn forced_encap_without_nat() {
    let a = Side {
        force_encap: true,
        ..Side::a()
    };
    let mut sim = pair(3, Faults::NONE, a, Side::b());
    sim.run_until(secs(65));
    sim.check_settled(0, 1);
    let both = Some(UdpEncap {
        local_port: NATT,
        remote_port: NATT,
    });
    assert_eq!(the_child(&sim, 0).udp_encap, both);
    assert_eq!(the_child(&sim, 1).udp_encap, both);
    assert!(nat_seen(&sim, 0) && nat_seen(&sim, 1));
    check_floated(&sim, 0, 1, None);
    check_floated(&sim, 1, 1, None);
    // The forcing side keeps a NAT it could not detect open; the responder is not behind one.
    assert_eq!(keepalive_times(&sim, 0).len(), 3);
    assert!(keepalive_times(&sim, 1).is_empty());
}

/// Keepalives come from the side behind the NAT only, at the configured interval.
#[test]
fn keepalives_from_the_side_behind_the_nat() {
    let a = Side {
        nat_keepalive: Some(Duration::from_secs(15)),
        ..Side::a()
    };
    let mut sim = nat_pair(4, Faults::NONE, a);
    sim.run_until(secs(100));
    sim.check_settled(0, 1);
    let times = keepalive_times(&sim, 0);
    assert_eq!(times.len(), 6, "{times:?}");
    for w in times.windows(2) {
        assert_eq!(w[1] - w[0], Duration::from_secs(15));
    }
    assert!(keepalive_times(&sim, 1).is_empty());
    // They reach the responder, which ignores them (not IKE): the SA is unaffected.
    assert!(down_reasons(&sim, 1).is_empty());
}

/// The NAT forgets its mapping mid-session: the initiator's next authenticated request comes
/// from a new port, the responder moves there (and says so), and DPD and rekeys keep working,
/// including the responder's own requests to the new port.
#[test]
fn nat_rebinding_moves_the_responder() {
    let mut sim = nat_pair(5, Faults::NONE, Side::a());
    sim.run_until(secs(2));
    let old = the_child(&sim, 1).remote_addr;
    sim.nat_rebind();
    // An authenticated request from the new mapping (a child rekey by the initiator).
    let spi = *sim.nodes[0].children.keys().next().unwrap();
    sim.command(0, |sa, now| sa.rekey_child(now, spi));
    sim.run_until(secs(4));
    let moved: Vec<SocketAddr> = sim
        .events(1)
        .filter_map(|e| match e {
            Event::PeerAddressChanged { remote, local, .. } => {
                assert_eq!(local.port(), NATT);
                Some(*remote)
            }
            _ => None,
        })
        .collect();
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert_ne!(moved[0], old);
    assert!(
        !sim.events(0)
            .any(|e| matches!(e, Event::PeerAddressChanged { .. }))
    );
    sim.check_settled(0, 1);
    // The rekeyed child carries the new port.
    assert_eq!(
        the_child(&sim, 1).udp_encap.map(|u| u.remote_port),
        Some(moved[0].port())
    );
    // The responder's own requests reach the new mapping: its rekey, then DPD for minutes.
    let spi = *sim.nodes[1].children.keys().next().unwrap();
    sim.command(1, |sa, now| sa.rekey_child(now, spi));
    sim.run_until(secs(300));
    sim.check_settled(0, 1);
    assert!(down_reasons(&sim, 0).is_empty() && down_reasons(&sim, 1).is_empty());
    assert!(failures(&sim, 1).is_empty());
    assert_eq!(the_child(&sim, 1).remote_addr, moved[0]);
}

/// Only an authenticated new request moves the SA (§2.23): a replayed authenticated request
/// and a forged one from another address are answered (the replay, where it came from, §2.11)
/// or dropped, and the SA stays where it was.
#[test]
fn unauthenticated_or_replayed_requests_do_not_move_the_sa() {
    let mut sim = nat_pair(9, Faults::NONE, Side::a());
    sim.run_until(secs(2));
    let before = sim.sa(1).remote_addr();
    let b_4500 = SocketAddr::new(B.parse().unwrap(), NATT);
    let spoofer: SocketAddr = "192.0.2.66:4500".parse().unwrap();
    // A's IKE_AUTH request (message ID 1), as it left A: marker, then the message.
    let auth = sim.nodes[0]
        .log
        .iter()
        .map(|(_, t)| t.payload.clone())
        .find(|p| p.len() > 22 && p[..4] == [0, 0, 0, 0] && p[4 + 18] == 35)
        .expect("IKE_AUTH request on 4500");
    let sent_before = sim.nodes[1].log.len();
    sim.inject(1, spoofer, b_4500, auth.clone());
    // Replayed: the cached response goes back to the sender, the SA does not move.
    let answers: Vec<_> = sim.nodes[1].log[sent_before..]
        .iter()
        .map(|(_, t)| t.remote)
        .collect();
    assert_eq!(answers, [spoofer]);
    // Forged: the next message ID as an INFORMATIONAL with a broken checksum.
    let mut forged = auth;
    forged[4 + 18] = 37;
    forged[4 + 20..4 + 24].copy_from_slice(&2u32.to_be_bytes());
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let sent_before = sim.nodes[1].log.len();
    sim.inject(1, spoofer, b_4500, forged);
    assert_eq!(
        sim.nodes[1].log.len(),
        sent_before,
        "a forged request gets no answer"
    );
    assert_eq!(sim.sa(1).remote_addr(), before);
    assert!(
        !sim.events(1)
            .any(|e| matches!(e, Event::PeerAddressChanged { .. }))
    );
    // Unprotected junk on 4500 (keepalive-like, ESP-like) is not IKE at all.
    sim.inject(1, spoofer, b_4500, vec![0xff]);
    sim.inject(1, spoofer, b_4500, vec![0, 0, 0, 9, 0, 0, 0, 1, 7, 7]);
    sim.run_until(secs(60));
    sim.check_settled(0, 1);
    assert_eq!(sim.sa(1).remote_addr(), before);
}

/// A rebinding noticed only through DPD: after the NAT forgets the mapping, both sides' DPD
/// still succeed (the responder's retransmissions reach the peer once its request moved it).
#[test]
fn nat_rebinding_survives_dpd() {
    let mut sim = nat_pair(6, Faults::NONE, Side::a());
    sim.run_until(secs(10));
    sim.nat_rebind();
    sim.run_until(secs(400));
    sim.check_settled(0, 1);
    assert!(down_reasons(&sim, 0).is_empty() && down_reasons(&sim, 1).is_empty());
    assert!(
        sim.events(1)
            .any(|e| matches!(e, Event::PeerAddressChanged { .. }))
    );
}

/// Setup through the NAT under loss, duplication and reordering, then rebindings, then a clean
/// network: both sides agree, and child SAs report matching UDP encapsulation.
#[test]
fn nat_many_seeds_with_loss() {
    let ups = std::sync::atomic::AtomicU64::new(0);
    for_seeds(200, |seed| {
        let faults = Faults {
            loss: 0.2,
            duplicate: 0.1,
            jitter: Duration::from_millis(300),
            until: secs(90),
        };
        let mut sim = nat_pair(seed, faults, Side::a());
        sim.run_until(secs(40));
        sim.nat_rebind();
        sim.run_until(secs(80));
        sim.nat_rebind();
        sim.run_until(secs(400));
        sim.check_agreement(0, 1);
        if sim.established(0).len() == 1 {
            ups.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            // The responder sends to the NAT's current mapping of the initiator's 4500.
            let inside = SocketAddr::new(A.parse().unwrap(), NATT);
            let now_mapped = sim.nat.as_ref().and_then(|n| n.mapped(inside));
            assert_eq!(Some(sim.sa(1).remote_addr()), now_mapped, "seed {seed}");
            assert_eq!(sim.sa(0).local_addr().port(), NATT, "seed {seed}");
            for c in sim.nodes[1].children.values() {
                let peer = sim.nodes[0].children.get(&c.outbound.spi).expect("agreed");
                let (ours, theirs) = (c.udp_encap.expect("encap"), peer.udp_encap.expect("encap"));
                assert_eq!((ours.local_port, theirs.local_port), (NATT, NATT));
                assert_eq!(theirs.remote_port, NATT, "seed {seed}");
            }
        }
    });
    let ups = ups.into_inner();
    eprintln!("NAT with loss and rebindings: {ups} of 200 runs end up");
    assert!(ups >= 150, "only {ups} of 200 runs came up");
}

/// §2.9: the child covers the packet, and the packet's TSr comes first in the answer (the
/// responder returns TSr as proposed; its PAD check merges TSi into the covering /24, so TSi's
/// order does not survive to the answer).
fn check_packet_first(c: &rampart_ike::ChildSa, src: TrafficSelector, dst: TrafficSelector) {
    assert!(c.local_ts.iter().any(|t| t.contains(&src)), "{c:?}");
    assert_eq!(c.remote_ts.first(), Some(&dst), "packet selectors first");
}

fn host(s: &str) -> TrafficSelector {
    TrafficSelector::from_addrs(s.parse().expect("test prefix"))
}

/// `IkeSa::acquire` on an established SA creates the child with the packet's selectors first.
#[test]
fn acquire_on_established_sa() {
    let a = Side {
        extra_children: vec![("web", "aes128gcm16", "198.51.100.0/24", "203.0.113.0/24")],
        ..Side::a()
    };
    let b = Side {
        extra_children: a.extra_children.clone(),
        ..Side::b()
    };
    let mut sim = pair(7, Faults::NONE, a, b);
    sim.run_until(secs(2));
    let (src, dst) = (host("198.51.100.7/32"), host("203.0.113.9/32"));
    sim.command(0, |sa, now| {
        sa.acquire(now, "web", src, dst).expect("acquire");
        // The same packet again (the data plane acquires per packet): not queued twice.
        sa.acquire(now, "web", src, dst).expect("acquire");
    });
    sim.run_until(secs(4));
    let web: Vec<_> = sim.nodes[0]
        .children
        .values()
        .filter(|c| c.name == "web")
        .collect();
    assert_eq!(web.len(), 1);
    check_packet_first(web[0], src, dst);
    sim.check_agreement(0, 1);
}

/// `Endpoint::acquire` with no IKE SA starts one whose IKE_AUTH child carries the packet's
/// selectors first; a second acquire while it is half-open finds it and queues there.
#[test]
fn acquire_starts_an_ike_sa_and_reuses_it() {
    let a = Side {
        extra_children: vec![("web", "aes128gcm16", "198.51.100.0/24", "203.0.113.0/24")],
        ..Side::a()
    };
    let b = Side {
        extra_children: a.extra_children.clone(),
        ..Side::b()
    };
    let mut sim = Sim::new(8, Faults::NONE);
    sim.add_node(a.local, a.config());
    sim.add_node(b.local, b.config());
    let conn = a.connection();
    let (src, dst) = (host("198.51.100.7/32"), host("203.0.113.9/32"));
    let now = sim.now;
    let Acquired::Initiated(h, sa) = sim.nodes[0]
        .endpoint
        .acquire(now, conn.clone(), "net", src, dst)
        .expect("acquire")
    else {
        panic!("no IKE SA yet: a new one starts");
    };
    sim.nodes[0].sas.insert(h, *sa);
    sim.drain(0);
    // Half-open: another packet (for the other child) is queued on the same IKE SA.
    let (src2, dst2) = (host("198.51.100.8/32"), host("203.0.113.10/32"));
    let again = sim.nodes[0]
        .endpoint
        .acquire(now, conn.clone(), "web", src2, dst2)
        .expect("acquire");
    let Acquired::Existing(h2) = again else {
        panic!("a second IKE SA was started");
    };
    assert_eq!(h2, h);
    let sa = sim.nodes[0].sas.get_mut(&h).expect("kept");
    sa.acquire(now, "web", src2, dst2)
        .expect("queued while half-open");
    sim.drain(0);
    sim.run_until(secs(3));
    sim.check_agreement(0, 1);
    assert_eq!(sim.established(0).len(), 1);
    let child = |name: &str| {
        sim.nodes[0]
            .children
            .values()
            .find(|c| c.name == name)
            .cloned()
            .expect("child up")
    };
    let (net, web) = (child("net"), child("web"));
    check_packet_first(&net, src, dst);
    check_packet_first(&web, src2, dst2);
    // Established now: still the same IKE SA.
    let now = sim.now;
    assert!(matches!(
        sim.nodes[0].endpoint.acquire(now, conn, "net", src, dst),
        Ok(Acquired::Existing(x)) if x == h
    ));
}
