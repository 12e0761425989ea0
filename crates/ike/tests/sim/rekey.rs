//! CREATE_CHILD_SA, rekeying and lifetimes under simulation (RFC 7296 §1.3, §2.8, §2.18,
//! §2.25): new child SAs with and without PFS, rekeys under loss, simultaneous rekeys forced
//! exchange by exchange with fixed nonces (the shape of strongSwan's `test_child_rekey.c`),
//! a rekey colliding with a delete, and lifetimes that keep rekeying for hours of virtual time.

use std::time::Duration;

use rampart_ike::{Event, Lifetimes};

use super::harness::{Faults, Sim, for_seeds, secs};
use super::{Side, failures, pair};

const CREATE_CHILD_SA: u8 = 36;
const INFORMATIONAL: u8 = 37;

/// A pair brought up over a clean network, then held for exchange-by-exchange delivery.
fn held_pair(seed: u64, a: Side, b: Side) -> Sim {
    let mut sim = pair(seed, Faults::NONE, a, b);
    sim.run_until(secs(2));
    sim.check_settled(0, 1);
    sim.hold = true;
    sim
}

/// A fixed nonce: `first` then 31 octets of `fill`.
fn nonce(first: u8) -> Vec<u8> {
    let mut n = vec![0x55; 32];
    n[0] = first;
    n
}

fn the_child(sim: &Sim, n: usize) -> (u32, u32) {
    let c = sim.nodes[n].children.values().next().expect("a child SA");
    (c.inbound.spi, c.outbound.spi)
}

/// Node `n`'s `ChildSaRekeyed::initiator` flags, in event order.
fn rekey_initiators(sim: &Sim, n: usize) -> Vec<bool> {
    sim.events(n)
        .filter_map(|e| match e {
            Event::ChildSaRekeyed { initiator, .. } => Some(*initiator),
            _ => None,
        })
        .collect()
}

fn rekeyed_count(sim: &Sim, n: usize) -> usize {
    sim.events(n)
        .filter(|e| matches!(e, Event::ChildSaRekeyed { .. }))
        .count()
}

/// §1.3.1: more child SAs of the connection, without PFS and with PFS (the ESP proposal
/// names a key exchange method); the keys cross only if both sides used the same g^ir.
#[test]
fn create_child_with_and_without_pfs() {
    let extra = vec![
        ("plain", "aes128gcm16", "10.1.0.0/16", "10.2.0.0/16"),
        ("pfs", "aes256gcm16-x25519", "10.3.0.0/16", "10.4.0.0/16"),
    ];
    let a = Side {
        extra_children: extra.clone(),
        ..Side::a()
    };
    let b = Side {
        extra_children: extra.iter().map(|&(n, e, l, r)| (n, e, r, l)).collect(),
        ..Side::b()
    };
    for_seeds(30, |seed| {
        let mut sim = pair(seed, Faults::NONE, a.clone(), b.clone());
        sim.run_until(secs(2));
        sim.command(0, |sa, now| sa.create_child(now, "plain").unwrap());
        sim.command(1, |sa, now| sa.create_child(now, "pfs").unwrap());
        sim.run_until(secs(5));
        sim.check_settled(0, 1);
        let mut names: Vec<_> = sim.nodes[0]
            .children
            .values()
            .map(|c| c.name.clone())
            .collect();
        names.sort();
        assert_eq!(names, ["net", "pfs", "plain"], "seed {seed}");
        let pfs = sim.nodes[0]
            .children
            .values()
            .find(|c| c.name == "pfs")
            .unwrap();
        assert_eq!(pfs.outbound.encr_key.len(), 36, "seed {seed}");
    });
}

/// §1.3: the responder wants another key exchange group for the child SA's PFS; the initiator
/// retries with it (INVALID_KE_PAYLOAD, then success: four CREATE_CHILD_SA messages).
#[test]
fn create_child_invalid_ke_retry() {
    let a = Side {
        extra_children: vec![(
            "pfs",
            "aes128gcm16-x25519-ecp256",
            "10.1.0.0/16",
            "10.2.0.0/16",
        )],
        ..Side::a()
    };
    let b = Side {
        extra_children: vec![("pfs", "aes128gcm16-ecp256", "10.2.0.0/16", "10.1.0.0/16")],
        ..Side::b()
    };
    let mut sim = held_pair(3, a, b);
    sim.command(0, |sa, now| sa.create_child(now, "pfs").unwrap());
    assert_eq!(sim.deliver(0, 0), (CREATE_CHILD_SA, false)); // SA, Ni, KEi(x25519), TSi, TSr
    assert_eq!(sim.deliver(1, 0), (CREATE_CHILD_SA, true)); // N(INVALID_KE_PAYLOAD, ecp256)
    assert_eq!(sim.deliver(0, 0), (CREATE_CHILD_SA, false)); // again with KEi(ecp256)
    assert_eq!(sim.deliver(1, 0), (CREATE_CHILD_SA, true)); // SA, Nr, KEr, TSi, TSr
    sim.release();
    sim.run_until(secs(5));
    sim.check_settled(0, 1);
    assert_eq!(sim.nodes[0].children.len(), 2);
}

/// Refusals of CREATE_CHILD_SA are diagnosed on both sides; the IKE SA stays up.
#[test]
fn create_child_refusals_are_diagnosed() {
    let a = Side {
        extra_children: vec![
            ("badesp", "aes256gcm16", "10.1.0.0/16", "10.2.0.0/16"),
            ("badts", "aes128gcm16", "10.9.0.0/16", "10.2.0.0/16"),
        ],
        ..Side::a()
    };
    let b = Side {
        extra_children: vec![("badesp", "aes128gcm16", "10.2.0.0/16", "10.1.0.0/16")],
        ..Side::b()
    };
    let mut sim = pair(4, Faults::NONE, a, b);
    sim.run_until(secs(2));
    sim.command(0, |sa, now| sa.create_child(now, "badesp").unwrap());
    sim.command(0, |sa, now| sa.create_child(now, "badts").unwrap());
    let now = sim.now;
    assert!(sim.sa(0).create_child(now, "missing").is_err());
    sim.run_until(secs(5));
    sim.check_settled(0, 1);
    let ours = failures(&sim, 0);
    assert_eq!(ours.len(), 2, "{ours:?}");
    assert!(
        ours[0].contains("CREATE_CHILD_SA with NO_PROPOSAL_CHOSEN"),
        "{ours:?}"
    );
    assert!(
        ours[1].contains("CREATE_CHILD_SA with TS_UNACCEPTABLE"),
        "{ours:?}"
    );
    assert_eq!(failures(&sim, 1).len(), 2);
    assert_eq!(sim.established(0).len(), 1);
}

/// §2.9: an acquire puts the packet's selectors first; the child SA covers the packet.
#[test]
fn create_child_for_packet_selectors() {
    use rampart_policy::TrafficSelector;
    let a = Side {
        extra_children: vec![("acq", "aes128gcm16", "10.1.0.0/16", "10.2.0.0/16")],
        ..Side::a()
    };
    let b = Side {
        extra_children: vec![("acq", "aes128gcm16", "10.2.0.0/16", "10.1.0.0/16")],
        ..Side::b()
    };
    let mut sim = pair(5, Faults::NONE, a, b);
    sim.run_until(secs(2));
    let host = |s: &str| TrafficSelector::from_addrs(s.parse().unwrap());
    sim.command(0, |sa, now| {
        sa.create_child_for(now, "acq", host("10.1.2.3/32"), host("10.2.3.4/32"))
            .unwrap()
    });
    sim.run_until(secs(5));
    sim.check_settled(0, 1);
    let c = sim.nodes[0]
        .children
        .values()
        .find(|c| c.name == "acq")
        .unwrap();
    assert!(c.local_ts.iter().any(|t| t.contains(&host("10.1.2.3/32"))));
    assert!(c.remote_ts.iter().any(|t| t.contains(&host("10.2.3.4/32"))));
}

/// §1.3.3 make-before-break: the new SA is reported as a rekey of the old, then the old is
/// deleted, on both sides; under 30% loss, duplication and reordering, many seeds.
#[test]
fn rekey_child_under_loss() {
    let ok = std::sync::atomic::AtomicU64::new(0);
    for_seeds(150, |seed| {
        let faults = Faults {
            loss: 0.3,
            duplicate: 0.1,
            jitter: Duration::from_millis(300),
            until: secs(200),
        };
        let mut sim = pair(seed, faults, Side::a(), Side::b());
        sim.run_until(secs(60));
        if sim.established(0).len() != 1 || sim.established(1).len() != 1 {
            return;
        }
        if sim.nodes[0].children.len() != 1 {
            return;
        }
        let (old, _) = the_child(&sim, 0);
        sim.command(0, |sa, now| sa.rekey_child(now, old));
        sim.run_until(secs(600));
        sim.check_settled(0, 1);
        if sim.established(0).len() == 1 && sim.nodes[0].children.len() == 1 {
            assert_ne!(the_child(&sim, 0).0, old, "seed {seed}: not rekeyed");
            assert_eq!(
                (rekeyed_count(&sim, 0), rekeyed_count(&sim, 1)),
                (1, 1),
                "seed {seed}"
            );
            // A asked, B answered: B must not send on the new SA before A has it.
            assert_eq!(
                (rekey_initiators(&sim, 0), rekey_initiators(&sim, 1)),
                (vec![true], vec![false]),
                "seed {seed}"
            );
            ok.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    eprintln!("child rekey under loss: {} runs rekeyed", ok.into_inner());
}

/// §1.3.2 / §2.18: rekeying the IKE SA under loss. The child SA moves to the new IKE SA
/// unchanged; the old IKE SA is gone on both sides.
#[test]
fn rekey_ike_under_loss() {
    let ok = std::sync::atomic::AtomicU64::new(0);
    for_seeds(150, |seed| {
        let faults = Faults {
            loss: 0.3,
            duplicate: 0.1,
            jitter: Duration::from_millis(300),
            until: secs(200),
        };
        let mut sim = pair(seed, faults, Side::a(), Side::b());
        sim.run_until(secs(60));
        if sim.established(0).len() != 1 || sim.established(1).len() != 1 {
            return;
        }
        let before = sim.established(0)[0];
        let child = sim.nodes[0].children.keys().copied().collect::<Vec<_>>();
        let who = (seed % 2) as usize;
        sim.command(who, |sa, now| sa.rekey(now));
        sim.run_until(secs(600));
        sim.check_settled(0, 1);
        if sim.established(0).len() == 1 {
            let after = sim.established(0)[0];
            assert_ne!(after, before, "seed {seed}: IKE SA not rekeyed");
            assert_eq!(
                sim.nodes[0].children.keys().copied().collect::<Vec<_>>(),
                child,
                "seed {seed}: children must move unchanged"
            );
            let rekeyed = sim
                .events(who)
                .filter(|e| matches!(e, Event::IkeSaRekeyed { .. }))
                .count();
            assert_eq!(rekeyed, 1, "seed {seed}");
            ok.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    eprintln!("IKE rekey under loss: {} runs rekeyed", ok.into_inner());
}

/// Both sides rekey the child SA at once (§2.8.1), forced exchange by exchange, with nonces
/// chosen so that `a_lowest` decides whose new SA holds the lowest nonce:
///
/// ```text
/// Host A                                  Host B
/// send req1: N(REKEY_SA), SA, Ni1, TSi, TSr  -->
///                    <--  send req2: N(REKEY_SA), SA, Ni2, TSi, TSr
/// recv req2 <--
/// send resp2: SA, Nr2, TSi, TSr  -->
///                                         -->  recv req1
///                    <--  send resp1: SA, Nr1, TSi, TSr
/// recv resp1 <--
///                                         -->  recv resp2
/// ```
///
/// Then the SA created with the lowest of Ni1, Nr1, Ni2, Nr2 is deleted by its creator, and
/// the creator of the other deletes the old SA. Returns the settled simulation.
fn child_collision(a_lowest: bool) -> Sim {
    let mut sim = held_pair(11, Side::a(), Side::b());
    let (a_old, b_old) = the_child(&sim, 0);
    // A's nonces: Ni1 then Nr2; B's: Ni2 then Nr1.
    let (a_nonces, b_nonces) = if a_lowest {
        (
            vec![nonce(0x10), nonce(0x80)],
            vec![nonce(0x70), nonce(0x90)],
        )
    } else {
        (
            vec![nonce(0x50), nonce(0x80)],
            vec![nonce(0x20), nonce(0x90)],
        )
    };
    sim.sa(0).dangerous_queue_nonces(a_nonces);
    sim.sa(1).dangerous_queue_nonces(b_nonces);
    let a_spis_before = sim.nodes[0].spis.children.lock().unwrap().len();
    sim.command(0, |sa, now| sa.rekey_child(now, a_old)); // req1
    sim.command(1, |sa, now| sa.rekey_child(now, b_old)); // req2
    assert_eq!(sim.deliver(1, 0), (CREATE_CHILD_SA, false)); // A: recv req2, send resp2
    assert_eq!(sim.deliver(0, 0), (CREATE_CHILD_SA, false)); // B: recv req1, send resp1
    // Nothing is installed until each side's own answer arrives.
    assert_eq!((rekeyed_count(&sim, 0), rekeyed_count(&sim, 1)), (0, 0));
    assert_eq!(sim.deliver(1, 0), (CREATE_CHILD_SA, true)); // A: recv resp1
    assert_eq!(sim.deliver(0, 0), (CREATE_CHILD_SA, true)); // B: recv resp2
    // Each side reported exactly the survivor; the redundant SA was never installed.
    assert_eq!((rekeyed_count(&sim, 0), rekeyed_count(&sim, 1)), (1, 1));
    // Now the deletes: of the redundant SA by its creator, of the old SA by the other.
    assert_eq!(sim.held_from(0), [(INFORMATIONAL, false)]);
    assert_eq!(sim.held_from(1), [(INFORMATIONAL, false)]);
    sim.release();
    sim.run_until(secs(10));
    sim.check_settled(0, 1);
    // A's first new SPI went into req1 (A's SA), its second into resp2 (B's SA).
    let spis = sim.nodes[0].spis.children.lock().unwrap().clone();
    let (from_req1, from_resp2) = (spis[a_spis_before], spis[a_spis_before + 1]);
    let survivor = the_child(&sim, 0).0;
    let expected = if a_lowest { from_resp2 } else { from_req1 };
    assert_eq!(
        survivor, expected,
        "the SA with the lowest nonce must be the one deleted"
    );
    // The survivor's exchange was A's request (req1) when B's nonce was the lowest.
    assert_eq!(
        (rekey_initiators(&sim, 0), rekey_initiators(&sim, 1)),
        (vec![!a_lowest], vec![a_lowest]),
        "the side whose request made the survivor is its initiator"
    );
    assert!(!sim.nodes[0].children.contains_key(&a_old));
    sim
}

#[test]
fn simultaneous_child_rekey_lowest_nonce_in_a_exchange() {
    let sim = child_collision(true);
    // The redundant SA (A's) never reached A's data plane.
    assert_eq!(rekeyed_count(&sim, 0), 1);
}

#[test]
fn simultaneous_child_rekey_lowest_nonce_in_b_exchange() {
    let sim = child_collision(false);
    assert_eq!(rekeyed_count(&sim, 1), 1);
}

/// §2.25.1: A rekeys the child SA while B deletes it.
///
/// ```text
/// Host A                                   Host B
/// send req1: N(REKEY_SA), SA, Ni, TSi, TSr  -->
///                           <--  send reqD: D(SPI)
/// recv reqD <--  (rekeying it: answer as usual, with D)
/// send respD: D(SPI)  -->
///                                          -->  recv req1 (closing it: TEMPORARY_FAILURE)
///                           <--  send resp1: N(TEMPORARY_FAILURE)
///                                          -->  recv respD
/// recv resp1 <--  (the SA is gone: nothing to retry)
/// ```
///
/// With `delete_first`, B has the delete's answer before req1 arrives and answers
/// CHILD_SA_NOT_FOUND instead.
fn rekey_vs_delete(delete_first: bool) {
    let mut sim = held_pair(12, Side::a(), Side::b());
    let (a_old, b_old) = the_child(&sim, 0);
    sim.command(0, |sa, now| sa.rekey_child(now, a_old)); // req1
    sim.command(1, |sa, now| sa.delete_child(now, b_old)); // reqD
    assert_eq!(sim.deliver(1, 0), (INFORMATIONAL, false)); // A: recv reqD, send respD
    assert!(sim.nodes[0].children.is_empty(), "A deleted it");
    if delete_first {
        assert_eq!(sim.deliver(0, 1), (INFORMATIONAL, true)); // B: recv respD
        assert!(sim.nodes[1].children.is_empty());
        assert_eq!(sim.deliver(0, 0), (CREATE_CHILD_SA, false)); // B: CHILD_SA_NOT_FOUND
    } else {
        assert_eq!(sim.deliver(0, 0), (CREATE_CHILD_SA, false)); // B: TEMPORARY_FAILURE
        assert_eq!(sim.deliver(0, 0), (INFORMATIONAL, true)); // B: recv respD
    }
    assert_eq!(sim.deliver(1, 0), (CREATE_CHILD_SA, true)); // A: recv resp1
    sim.release();
    sim.run_until(secs(30));
    sim.check_settled(0, 1);
    assert!(sim.nodes[0].children.is_empty() && sim.nodes[1].children.is_empty());
    assert_eq!(sim.established(0).len(), 1, "the IKE SA stays");
    assert_eq!(rekeyed_count(&sim, 0) + rekeyed_count(&sim, 1), 0);
}

#[test]
fn rekey_colliding_with_delete_temporary_failure() {
    rekey_vs_delete(false);
}

#[test]
fn rekey_colliding_with_delete_child_sa_not_found() {
    rekey_vs_delete(true);
}

/// Both sides rekey the IKE SA at once (§2.8.2), exchange by exchange:
///
/// ```text
/// Host A                                   Host B
/// send req1: SA(..,SPIa1,..), Ni1, KEi1  -->
///                       <--  send req2: SA(..,SPIb1,..), Ni2, KEi2
/// recv req2 <--                            -->  recv req1
/// send resp2: SA(..,SPIa2,..), Nr2, KEr2 -->
///                       <--  send resp1: SA(..,SPIb2,..), Nr1, KEr1
/// recv resp1 <--                           -->  recv resp2
/// ```
///
/// The new IKE SA containing the lowest nonce is deleted by its creator; the other inherits
/// the child SAs, and its initiator deletes the old IKE SA.
fn ike_collision(a_lowest: bool) {
    let mut sim = held_pair(13, Side::a(), Side::b());
    let child = the_child(&sim, 0);
    let (a_nonces, b_nonces) = if a_lowest {
        (
            vec![nonce(0x10), nonce(0x80)],
            vec![nonce(0x70), nonce(0x90)],
        )
    } else {
        (
            vec![nonce(0x50), nonce(0x80)],
            vec![nonce(0x20), nonce(0x90)],
        )
    };
    sim.sa(0).dangerous_queue_nonces(a_nonces);
    sim.sa(1).dangerous_queue_nonces(b_nonces);
    sim.command(0, |sa, now| sa.rekey(now)); // req1
    sim.command(1, |sa, now| sa.rekey(now)); // req2
    assert_eq!(sim.deliver(1, 0), (CREATE_CHILD_SA, false)); // A: recv req2, send resp2
    assert_eq!(sim.deliver(0, 0), (CREATE_CHILD_SA, false)); // B: recv req1, send resp1
    assert_eq!(sim.deliver(1, 0), (CREATE_CHILD_SA, true)); // A: recv resp1
    assert_eq!(sim.deliver(0, 0), (CREATE_CHILD_SA, true)); // B: recv resp2
    sim.release();
    sim.run_until(secs(60));
    sim.check_settled(0, 1);
    assert_eq!(sim.established(0).len(), 1);
    // The survivor was initiated by the side whose exchange did not hold the lowest nonce.
    let a_initiated = sim.sa(0).is_initiator();
    assert_eq!(a_initiated, !a_lowest, "wrong IKE SA survived");
    assert_eq!(the_child(&sim, 0), child, "the child SA moves unchanged");
    for n in [0, 1] {
        let rekeyed = sim
            .events(n)
            .filter(|e| matches!(e, Event::IkeSaRekeyed { .. }))
            .count();
        assert_eq!(rekeyed, 1, "node {n}");
        assert!(
            !sim.events(n)
                .any(|e| matches!(e, Event::IkeSaDown { .. } | Event::ChildSaDeleted { .. })),
            "node {n}: nothing may go down"
        );
    }
}

#[test]
fn simultaneous_ike_rekey_lowest_nonce_in_a_exchange() {
    ike_collision(true);
}

#[test]
fn simultaneous_ike_rekey_lowest_nonce_in_b_exchange() {
    ike_collision(false);
}

/// Both sides rekey at the same instant over a jittery, lossy network, many seeds: whatever
/// the interleaving (both see the collision, only one does, or the requests do not cross),
/// the sides agree on one child SA and one IKE SA, with nothing left over.
#[test]
fn simultaneous_rekeys_many_seeds() {
    for_seeds(150, |seed| {
        let faults = Faults {
            loss: 0.1,
            duplicate: 0.1,
            jitter: Duration::from_millis(50),
            until: secs(200),
        };
        let mut sim = pair(seed, Faults::NONE, Side::a(), Side::b());
        sim.run_until(secs(2));
        sim.faults = faults;
        let (a_old, b_old) = the_child(&sim, 0);
        if seed % 2 == 0 {
            sim.command(0, |sa, now| sa.rekey_child(now, a_old));
            sim.command(1, |sa, now| sa.rekey_child(now, b_old));
        } else {
            sim.command(0, |sa, now| sa.rekey(now));
            sim.command(1, |sa, now| sa.rekey(now));
        }
        sim.run_until(secs(600));
        sim.check_settled(0, 1);
        if sim.established(0).len() == 1 {
            assert_eq!(sim.nodes[0].children.len(), 1, "seed {seed}");
        }
    });
}

/// Lifetimes (§2.8): child SAs soft-expire every ~60 s (jittered), the IKE SA every ~150 s,
/// over 30 minutes of virtual time with loss early on; rekeys (and their collisions, since
/// both sides run the same lifetimes) keep exactly one child SA and one IKE SA alive.
#[test]
fn lifetimes_keep_rekeying() {
    let side = |s: Side| Side {
        child_lifetimes: Lifetimes {
            rekey_after: Duration::from_secs(60),
            hard: Duration::from_secs(90),
        },
        ike_lifetimes: Some(Lifetimes {
            rekey_after: Duration::from_secs(150),
            hard: Duration::from_secs(200),
        }),
        ..s
    };
    for_seeds(40, |seed| {
        let faults = Faults {
            loss: 0.2,
            duplicate: 0.05,
            jitter: Duration::from_millis(100),
            until: secs(300),
        };
        let mut sim = pair(seed, faults, side(Side::a()), side(Side::b()));
        let mut checked = 0;
        for minute in 6..=30 {
            sim.run_until(secs(minute * 60));
            if minute >= 10 && sim.established(0).len() == 1 && sim.established(1).len() == 1 {
                // Sample between exchanges: step until nothing is on the wire.
                for _ in 0..100 {
                    if sim.in_flight() == 0 {
                        break;
                    }
                    let next = sim.now + Duration::from_millis(1);
                    sim.run_until(next);
                }
                sim.check_agreement(0, 1);
                checked += 1;
            }
        }
        if sim.established(0).len() == 1 {
            assert!(
                rekeyed_count(&sim, 0) >= 20,
                "seed {seed}: child SAs were not rekeyed"
            );
            assert!(
                sim.events(0)
                    .any(|e| matches!(e, Event::IkeSaRekeyed { .. })),
                "seed {seed}: IKE SA not rekeyed"
            );
            assert!(checked > 0);
        }
        // Bounded: the tables hold the live SAs only.
        assert!(
            sim.nodes[0].sas.len() <= 3 && sim.nodes[0].children.len() <= 2,
            "seed {seed}"
        );
    });
}

/// The data plane's byte/packet limits arrive as commands: soft rekeys, hard deletes.
#[test]
fn data_plane_expiry_commands() {
    let mut sim = pair(21, Faults::NONE, Side::a(), Side::b());
    sim.run_until(secs(2));
    let (old, _) = the_child(&sim, 1);
    sim.command(1, |sa, now| sa.child_soft_expired(now, old));
    sim.run_until(secs(5));
    sim.check_settled(0, 1);
    let (new, _) = the_child(&sim, 1);
    assert_ne!(new, old);
    sim.command(1, |sa, now| sa.child_hard_expired(now, new));
    sim.run_until(secs(8));
    sim.check_settled(0, 1);
    assert!(sim.nodes[0].children.is_empty() && sim.nodes[1].children.is_empty());
}

/// IKE SA lifetimes come from the SA's connection when it sets them (§2.18): with the
/// endpoint's default far away (a day), the connection's 150 s still rekeys the IKE SA.
#[test]
fn connection_ike_lifetimes_win_over_the_endpoints() {
    let side = |s: Side| Side {
        ike_lifetimes: Some(Lifetimes {
            rekey_after: Duration::from_secs(86_400),
            hard: Duration::from_secs(90_000),
        }),
        conn_ike_lifetimes: Some(Lifetimes {
            rekey_after: Duration::from_secs(150),
            hard: Duration::from_secs(200),
        }),
        ..s
    };
    for_seeds(5, |seed| {
        let mut sim = pair(seed, Faults::NONE, side(Side::a()), side(Side::b()));
        sim.run_until(secs(400));
        assert!(
            sim.events(0)
                .any(|e| matches!(e, Event::IkeSaRekeyed { .. })),
            "seed {seed}: IKE SA not rekeyed by the connection's lifetime"
        );
        sim.check_settled(0, 1);
    });
}
