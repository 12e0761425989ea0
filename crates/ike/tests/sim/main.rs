//! Deterministic simulation of rampart-ike (DESIGN.md §5 layer 3): two or more engines over a
//! simulated network with a virtual clock; loss, duplication, reordering and delay from a seed.
//! After every run: both sides agree on IKE and child SAs, inbound keys of one side equal the
//! outbound keys of the other, and no table outlives its SAs. A failing seed prints its number;
//! `RAMPART_SIM_SEED=n cargo test -p rampart-ike --test sim` reruns it alone.

mod harness;
mod nat;
mod rekey;

use std::sync::Arc;
use std::time::Duration;

use harness::{Faults, Sim, for_seeds, secs};
use rampart_crypto::SecretBytes;
use rampart_crypto::proposal::ProposalSpec;
use rampart_ike::{
    ChildConfig, Connection, DownReason, EndpointConfig, Event, Lifetimes, LocalAuth, Mode,
    RemoteAuth,
};
use rampart_policy::TrafficSelector;
use rampart_policy::pad::{IdPattern, Identity, Pad, PadEntry, PeerAuth};

const A: &str = "192.0.2.1";
const B: &str = "192.0.2.2";
const PSK: &[u8] = b"correct horse battery staple";

fn ts(s: &str) -> Vec<TrafficSelector> {
    vec![TrafficSelector::from_addrs(s.parse().expect("test prefix"))]
}

/// One side's connection; `ike` and `esp` are proposal strings.
#[derive(Clone)]
struct Side {
    local: &'static str,
    remote: &'static str,
    local_id: &'static str,
    remote_id: &'static str,
    ike: &'static str,
    esp: &'static str,
    local_ts: &'static str,
    remote_ts: &'static str,
    mode: Mode,
    psk_local: &'static [u8],
    psk_remote: &'static [u8],
    child_lifetimes: Lifetimes,
    ike_lifetimes: Option<Lifetimes>,
    /// `Connection::ike_lifetimes` (which wins over the endpoint's).
    conn_ike_lifetimes: Option<Lifetimes>,
    /// More child configurations: (name, esp proposals, local ts, remote ts).
    extra_children: Vec<(&'static str, &'static str, &'static str, &'static str)>,
    /// `Connection::force_encap`.
    force_encap: bool,
    /// `EndpointConfig::nat_keepalive`.
    nat_keepalive: Option<Duration>,
}

impl Side {
    fn a() -> Self {
        Self {
            local: A,
            remote: B,
            local_id: "gw-a.example",
            remote_id: "gw-b.example",
            ike: "aes128gcm16-prfsha256-x25519",
            esp: "aes128gcm16",
            local_ts: "198.51.100.0/24",
            remote_ts: "203.0.113.0/24",
            mode: Mode::Tunnel,
            psk_local: PSK,
            psk_remote: PSK,
            child_lifetimes: Lifetimes::default(),
            ike_lifetimes: None,
            conn_ike_lifetimes: None,
            extra_children: Vec::new(),
            force_encap: false,
            nat_keepalive: Some(Duration::from_secs(20)),
        }
    }

    fn b() -> Self {
        Self {
            local: B,
            remote: A,
            local_id: "gw-b.example",
            remote_id: "gw-a.example",
            local_ts: "203.0.113.0/24",
            remote_ts: "198.51.100.0/24",
            ..Self::a()
        }
    }

    fn connection(&self) -> Arc<Connection> {
        Arc::new(Connection {
            name: "site".into(),
            local_addrs: vec![self.local.parse().unwrap()],
            remote_addrs: vec![self.remote.parse().unwrap()],
            port: 500,
            ike_proposals: self
                .ike
                .split(',')
                .map(|p| ProposalSpec::parse_ike(p).unwrap())
                .collect(),
            local_id: Identity::Fqdn(self.local_id.into()),
            local_auth: LocalAuth::Psk(SecretBytes::from_slice(self.psk_local)),
            remote_id: Identity::Fqdn(self.remote_id.into()),
            remote_auth: RemoteAuth::Psk(SecretBytes::from_slice(self.psk_remote)),
            force_encap: self.force_encap,
            dpd_delay: Some(Duration::from_secs(30)),
            ike_lifetimes: self.conn_ike_lifetimes,
            children: std::iter::once(("net", self.esp, self.local_ts, self.remote_ts))
                .chain(self.extra_children.iter().copied())
                .map(|(name, esp, l, r)| ChildConfig {
                    name: name.into(),
                    local_ts: ts(l),
                    remote_ts: ts(r),
                    esp_proposals: esp
                        .split(',')
                        .map(|p| ProposalSpec::parse_esp(p).unwrap())
                        .collect(),
                    mode: self.mode,
                    lifetimes: self.child_lifetimes,
                })
                .collect(),
        })
    }

    fn config(&self) -> EndpointConfig {
        let mut pad = Pad::new();
        pad.push(PadEntry {
            name: "peer".into(),
            id: IdPattern::Fqdn(self.remote_id.into()),
            auth: PeerAuth::Psk {
                secret: "site".into(),
            },
            allowed_ts: ts("0.0.0.0/0"),
        })
        .unwrap();
        let mut config = EndpointConfig::new(vec![self.connection()], pad);
        config.ike_lifetimes = self.ike_lifetimes;
        config.nat_keepalive = self.nat_keepalive;
        config
    }
}

/// A pair: node 0 initiates `child` "net" to node 1.
fn pair(seed: u64, faults: Faults, a: Side, b: Side) -> Sim {
    let mut sim = Sim::new(seed, faults);
    sim.add_node(a.local, a.config());
    sim.add_node(b.local, b.config());
    sim.initiate(0, a.connection(), Some("net"));
    sim
}

fn up_count(sim: &Sim, n: usize) -> usize {
    sim.events(n)
        .filter(|e| matches!(e, Event::IkeSaUp { .. }))
        .count()
}

fn down_reasons(sim: &Sim, n: usize) -> Vec<DownReason> {
    sim.events(n)
        .filter_map(|e| match e {
            Event::IkeSaDown { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

/// IKE_SA_INIT + IKE_AUTH over a clean network with jitter, many seeds: every run ends with one
/// IKE SA and one child SA on each side whose keys cross.
#[test]
fn clean_setup_many_seeds() {
    for_seeds(2000, |seed| {
        let faults = Faults {
            jitter: Duration::from_millis(20),
            until: secs(3600),
            ..Faults::NONE
        };
        let mut sim = pair(seed, faults, Side::a(), Side::b());
        sim.run_until(secs(5));
        sim.check_agreement(0, 1);
        assert_eq!(sim.established(0).len(), 1, "seed {seed}");
        assert_eq!(sim.nodes[0].children.len(), 1, "seed {seed}");
        let c = sim.nodes[0].children.values().next().unwrap();
        assert_eq!(
            (c.mode, c.udp_encap, c.integ),
            (Mode::Tunnel, None, None),
            "seed {seed}"
        );
        assert_eq!(c.local_ts, ts("198.51.100.0/24"));
        assert_eq!(
            (up_count(&sim, 0), up_count(&sim, 1)),
            (1, 1),
            "seed {seed}"
        );
        assert_eq!(sim.nodes[1].endpoint.half_open_count(), 0);
    });
}

/// 30% loss, 10% duplication, reordering up to 400 ms for the first 2 minutes, then a clean
/// network until DPD has settled every disagreement: both sides must agree, and most runs must
/// end with the SA up.
#[test]
fn lossy_network_agreement() {
    let ups = std::sync::atomic::AtomicU64::new(0);
    for_seeds(400, |seed| {
        let faults = Faults {
            loss: 0.3,
            duplicate: 0.1,
            jitter: Duration::from_millis(400),
            until: secs(120),
        };
        let mut sim = pair(seed, faults, Side::a(), Side::b());
        sim.run_until(secs(400));
        sim.check_agreement(0, 1);
        assert!(
            sim.nodes[0].sas.len() <= 1 && sim.nodes[1].sas.len() <= 1,
            "seed {seed}: leftover SAs"
        );
        if sim.established(0).len() == 1 {
            ups.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    let ups = ups.into_inner();
    if harness::seeds(400).len() == 400 {
        eprintln!("lossy network: {ups}/400 runs ended established");
        assert!(ups >= 300, "only {ups}/400 runs established");
    }
}

/// Message-level reliability: a peer that never answers is given up on after 5 transmissions
/// at 0, 1, 3, 7, 15 s, at 31 s (RFC 7296 §2.4).
#[test]
fn unreachable_peer_gives_up_with_back_off() {
    let mut sim = Sim::new(1, Faults::NONE);
    let mut config = Side::a().config();
    config.half_open_timeout = Duration::from_secs(120);
    sim.add_node(A, config);
    sim.initiate(0, Side::a().connection(), Some("net"));
    sim.run_until(secs(100));
    assert_eq!(sim.nodes[0].sent.len(), 5);
    assert_eq!(down_reasons(&sim, 0), vec![DownReason::PeerUnreachable]);
    assert!(sim.nodes[0].sas.is_empty());
}

/// §1.4 / §2.4 dead peer detection: the peer crashes after the SAs are up (it neither answers
/// nor sends again). With no traffic for `dpd_delay` (30 s) the survivor sends an empty
/// INFORMATIONAL, retransmits it with back-off, gives up, and reports the IKE SA down as
/// unreachable with its child SA deleted, so the data plane removes it. Loss before the crash
/// varies the starting point per seed.
#[test]
fn dpd_declares_a_crashed_peer_unreachable() {
    for_seeds(200, |seed| {
        let faults = Faults {
            loss: 0.2,
            duplicate: 0.1,
            jitter: Duration::from_millis(100),
            // Clean for the last 20 s before the crash, so no exchange is mid-retransmission.
            until: secs(40),
        };
        let mut sim = pair(seed, faults, Side::a(), Side::b());
        sim.run_until(secs(60));
        if sim.established(0).len() != 1 || sim.nodes[0].children.is_empty() {
            return; // never came up under this seed's loss; other tests cover setup
        }
        let child = *sim.nodes[0].children.keys().next().expect("checked above");
        // The crash: node 1 loses its state and the network to it goes dark.
        sim.nodes[1].sas.clear();
        sim.nodes[1].blackhole = true;
        let crash = sim.now;
        sim.run_until(secs(60 + 30 + 60));
        assert_eq!(
            down_reasons(&sim, 0),
            vec![DownReason::PeerUnreachable],
            "seed {seed}"
        );
        assert!(
            sim.nodes[0].sas.is_empty(),
            "seed {seed}: IKE SA left behind"
        );
        assert!(
            sim.events(0).any(|e| matches!(
                e,
                Event::ChildSaDeleted { inbound_spi, .. } if *inbound_spi == child
            )),
            "seed {seed}: the child SA must be reported deleted"
        );
        // Liveness checks only after `dpd_delay` of silence, then the give-up (5 sends).
        let checks: Vec<rampart_ike::Instant> = sim.nodes[0]
            .log
            .iter()
            .filter(|(at, _)| *at > crash)
            .map(|(at, _)| *at)
            .collect();
        assert_eq!(checks.len(), 5, "seed {seed}: {checks:?}");
    });
}

/// §1.2: the responder only accepts ECP-256; the initiator's KE is X25519, so it is asked for
/// ECP-256 and retries.
#[test]
fn invalid_ke_payload_retry() {
    for_seeds(50, |seed| {
        let a = Side {
            ike: "aes128gcm16-prfsha256-x25519-ecp256",
            ..Side::a()
        };
        let b = Side {
            ike: "aes128gcm16-prfsha256-ecp256",
            ..Side::b()
        };
        let mut sim = pair(seed, Faults::NONE, a, b);
        sim.run_until(secs(5));
        sim.check_agreement(0, 1);
        assert_eq!(sim.established(0).len(), 1, "seed {seed}");
        // Two IKE_SA_INIT requests (the retry) and one IKE_AUTH.
        assert_eq!(sim.nodes[0].sent.len(), 3, "seed {seed}");
        assert_eq!(sim.nodes[1].endpoint.half_open_count(), 0);
    });
}

/// §2.6: spoofed initiators fill the half-open table to the cookie threshold; from then on the
/// responder answers statelessly with cookies, the legitimate initiator returns its cookie and
/// gets through, and half-open state never passes the threshold by more than that one.
#[test]
fn cookies_under_half_open_flood() {
    for_seeds(20, |seed| {
        let mut sim = Sim::new(seed, Faults::NONE);
        // The responder accepts this connection from any address.
        let mut b_config = Side::b().config();
        let mut any = (*b_config.connections[0]).clone();
        any.remote_addrs.clear();
        b_config.connections = vec![Arc::new(any)];
        b_config.cookie_threshold = 5;
        // Attackers at 10 spoofed addresses, each initiating twice; they never see replies.
        let mut attackers = Vec::new();
        for i in 0..10 {
            let addr: &'static str = Box::leak(format!("192.0.2.{}", 100 + i).into_boxed_str());
            let side = Side {
                local: addr,
                ..Side::a()
            };
            attackers.push((sim.add_node(addr, side.config()), side.connection()));
        }
        let b = sim.add_node(B, b_config);
        sim.add_node(A, Side::a().config());
        let a = sim.nodes.len() - 1;
        for (n, conn) in &attackers {
            sim.nodes[*n].blackhole = true;
            sim.initiate(*n, conn.clone(), None);
            sim.initiate(*n, conn.clone(), None);
        }
        sim.run_until(rampart_ike::Instant::from_nanos(500_000_000));
        assert_eq!(sim.nodes[b].endpoint.half_open_count(), 5, "seed {seed}");
        sim.initiate(a, Side::a().connection(), Some("net"));
        sim.run_until(secs(5));
        assert!(sim.nodes[b].endpoint.half_open_count() <= 6, "seed {seed}");
        assert_eq!(
            sim.established(a).len(),
            1,
            "seed {seed}: legitimate initiator blocked"
        );
        assert_eq!(sim.established(b).len(), 1, "seed {seed}");
        sim.check_agreement(a, b);
        // The half-open SAs time out (30 s) and their state goes with them.
        sim.run_until(secs(60));
        assert_eq!(sim.nodes[b].endpoint.half_open_count(), 0, "seed {seed}");
        assert_eq!(sim.nodes[b].sas.len(), 1, "seed {seed}");
    });
}

fn failures(sim: &Sim, n: usize) -> Vec<String> {
    sim.events(n)
        .filter_map(|e| match e {
            Event::IkeSaDown {
                reason: DownReason::Failed(f),
                ..
            } => Some(f.to_string()),
            Event::ChildSaFailed { reason, .. } => Some(reason.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn psk_mismatch_is_diagnosed_without_the_key() {
    let b = Side {
        psk_remote: b"a different secret",
        psk_local: b"a different secret",
        ..Side::b()
    };
    let mut sim = pair(7, Faults::NONE, Side::a(), b);
    sim.run_until(secs(60));
    sim.check_agreement(0, 1);
    assert_eq!(
        failures(&sim, 1),
        vec!["authentication failed: PSK mismatch for gw-a.example"]
    );
    let ours = failures(&sim, 0);
    assert_eq!(ours.len(), 1);
    assert!(
        ours[0].starts_with("peer refused our IKE_AUTH with AUTHENTICATION_FAILED"),
        "{ours:?}"
    );
    for text in ours.iter().chain(&failures(&sim, 1)) {
        assert!(
            !text.contains("horse") && !text.contains("different"),
            "secret leaked: {text}"
        );
    }
}

#[test]
fn ts_unacceptable_is_diagnosed() {
    let a = Side {
        local_ts: "10.0.0.0/8",
        ..Side::a()
    };
    let mut sim = pair(8, Faults::NONE, a, Side::b());
    sim.run_until(secs(5));
    sim.check_agreement(0, 1);
    // §2.21.2 / §1.2: the IKE SA comes up, the child SA does not.
    assert_eq!(sim.established(0).len(), 1);
    assert!(sim.nodes[0].children.is_empty() && sim.nodes[1].children.is_empty());
    assert_eq!(
        failures(&sim, 1),
        vec![
            "traffic selectors unacceptable: peer asked 10.0.0.0/8 === 203.0.113.0/24, policy allows 198.51.100.0/24 === 203.0.113.0/24"
        ]
    );
    assert!(failures(&sim, 0)[0].contains("TS_UNACCEPTABLE"));
}

#[test]
fn no_proposal_chosen_is_diagnosed() {
    let a = Side {
        ike: "aes256-sha1-modp2048",
        ..Side::a()
    };
    let mut sim = pair(9, Faults::NONE, a, Side::b());
    sim.run_until(secs(5));
    sim.check_agreement(0, 1);
    assert_eq!(
        failures(&sim, 1),
        vec![
            "no proposal chosen: peer offered aes256-sha1-modp2048, we accept aes128gcm16-prfsha256-x25519"
        ]
    );
    assert!(failures(&sim, 0)[0].contains("NO_PROPOSAL_CHOSEN"));
    assert!(sim.nodes[1].sas.is_empty() && sim.nodes[1].endpoint.half_open_count() == 0);
}

#[test]
fn esp_no_proposal_chosen_is_diagnosed() {
    let a = Side {
        esp: "aes256-sha256",
        ..Side::a()
    };
    let mut sim = pair(10, Faults::NONE, a, Side::b());
    sim.run_until(secs(5));
    sim.check_agreement(0, 1);
    assert_eq!(
        failures(&sim, 1),
        vec!["no proposal chosen for child SA: peer offered aes256-sha256, we accept aes128gcm16"]
    );
}

/// Transport mode on both sides (USE_TRANSPORT_MODE), with a classic cipher.
#[test]
fn transport_mode_and_cbc() {
    let a = Side {
        mode: Mode::Transport,
        ike: "aes256-sha256-ecp256",
        esp: "aes128-sha256",
        ..Side::a()
    };
    let b = Side {
        mode: Mode::Transport,
        ike: "aes256-sha256-ecp256",
        esp: "aes128-sha256",
        ..Side::b()
    };
    for_seeds(20, |seed| {
        let mut sim = pair(seed, Faults::NONE, a.clone(), b.clone());
        sim.run_until(secs(5));
        sim.check_agreement(0, 1);
        let c = sim.nodes[0].children.values().next().expect("child SA");
        assert_eq!(c.mode, Mode::Transport);
        assert_eq!(c.outbound.integ_key.len(), 32);
    });
}

/// Deleting the IKE SA deletes it and its child on both sides, through loss.
#[test]
fn terminate_deletes_both_sides() {
    for_seeds(200, |seed| {
        let faults = Faults {
            loss: 0.2,
            duplicate: 0.1,
            jitter: Duration::from_millis(100),
            until: secs(120),
        };
        let mut sim = pair(seed, faults, Side::a(), Side::b());
        sim.run_until(secs(40));
        let Some(&h) = sim.nodes[0].sas.keys().next() else {
            return;
        };
        if !sim.nodes[0].sas[&h].is_established() {
            return;
        }
        let now = sim.now;
        sim.nodes[0].sas.get_mut(&h).unwrap().terminate(now);
        sim.drain(0);
        sim.run_until(secs(400));
        sim.check_agreement(0, 1);
        assert!(sim.nodes[0].sas.is_empty(), "seed {seed}");
        assert!(
            sim.nodes[0].children.is_empty() && sim.nodes[1].children.is_empty(),
            "seed {seed}"
        );
        // A liveness check in flight when the delete was asked for may give up first.
        let reasons = down_reasons(&sim, 0);
        assert!(
            reasons == [DownReason::DeletedLocally] || reasons == [DownReason::PeerUnreachable],
            "seed {seed}: {reasons:?}"
        );
    });
}

/// A reload (`Endpoint::set_config`): the responder's IKE SA set up before keeps its child SA
/// and its configuration; the next initiator to arrive is answered from the new configuration
/// (here the child's ESP proposal changed, so its child is refused while its IKE SA comes up).
#[test]
fn set_config_applies_to_new_sas_only() {
    let mut sim = pair(11, Faults::NONE, Side::a(), Side::b());
    sim.run_until(secs(5));
    sim.check_agreement(0, 1);
    let before = sim.established(1);
    assert_eq!(before.len(), 1);
    let changed = Side {
        esp: "aes256gcm16",
        ..Side::b()
    };
    sim.nodes[1].endpoint.set_config(Arc::new(changed.config()));
    let esp = &sim.nodes[1].endpoint.config().connections[0].children[0].esp_proposals;
    assert_eq!(esp[0].to_string(), "aes256gcm16");
    sim.initiate(0, Side::a().connection(), Some("net"));
    sim.run_until(secs(10));
    assert_eq!(sim.established(1).len(), 2, "the second IKE SA is up");
    assert!(
        sim.established(1).contains(&before[0]),
        "the first is untouched"
    );
    assert_eq!(
        failures(&sim, 1),
        vec!["no proposal chosen for child SA: peer offered aes128gcm16, we accept aes256gcm16"]
    );
    assert_eq!(sim.nodes[0].children.len(), 1, "only the first child SA");
    assert_eq!(sim.nodes[1].children.len(), 1, "only the first child SA");
    // The first IKE SA still works under its old configuration: a new child of "net" with
    // aes128gcm16 is accepted on it.
    let now = sim.now;
    let first = sim.nodes[0]
        .sas
        .values_mut()
        .find(|sa| (sa.spi_i(), sa.spi_r()) == before[0])
        .expect("the first IKE SA");
    first.create_child(now, "net").expect("queued");
    sim.drain(0);
    sim.run_until(secs(15));
    assert_eq!(
        sim.nodes[1].children.len(),
        2,
        "created under the old configuration"
    );
}
