//! Dead peer detection end to end (RFC 7296 §2.4; strongSwan's `dpd_action`): two `rampart run`
//! daemons in two namespaces (`common/pair.rs`), A with `dpd_delay = "1s"` and a short
//! retransmission schedule (`[daemon] retransmit_timeout`, `retransmit_tries`).
//!
//! - `restart`: B's daemon is frozen (SIGSTOP) until A declares it dead, then thawed; A
//!   initiates again (INITIAL_CONTACT makes B drop its stale IKE SA) and traffic flows again.
//! - `clear`: B's daemon is killed; A ends with no IKE SA and, although its child is
//!   `start_action = "start"`, does not initiate again.
//!
//! Needs root, `ip` and `ping`: runs only with `RAMPART_NETNS_TESTS=1`, otherwise warns and
//! passes.
// A harness waiting on real processes: the wall clock is what it needs.
#![allow(clippy::disallowed_methods)]

use std::time::Duration;

mod common;
#[path = "common/pair.rs"]
mod pair;

use common::netns_tests_enabled;
use pair::{B_SITE, FAST_DAEMON, Pair, SECRETS, a_site, spis};

/// Both daemons up with `site`'s child `net` established on both sides; A's connection has
/// `dpd_action = ACTION`. Returns the pair and the daemons' guard indexes (A, B).
fn up(tag: &str, action: &str) -> (Pair, usize, usize) {
    let mut p = Pair::new(tag);
    let extra = format!("dpd_delay = \"1s\"\ndpd_action = \"{action}\"");
    p.write_config(0, &format!("{FAST_DAEMON}{SECRETS}{}", a_site(&extra)));
    p.write_config(1, &format!("{SECRETS}{B_SITE}"));
    let b = p.start(1);
    let a = p.start(0);
    p.wait("site/net up on both sides", Duration::from_secs(10), |p| {
        let (Some(x), Some(y)) = (p.status(0), p.status(1)) else {
            return false;
        };
        spis(&x, "site", "net").is_some() && spis(&y, "site", "net").is_some()
    });
    assert!(
        p.ping(0, "198.51.100.1", "203.0.113.1"),
        "ping through site/net"
    );
    // The liveness settings are visible.
    let s = p.status(0).expect("status A");
    assert_eq!(s["connections"][0]["dpd_delay_ms"], 1000, "{s}");
    assert_eq!(s["connections"][0]["dpd_action"], action, "{s}");
    assert_eq!(s["retransmission"]["tries"], 3, "{s}");
    assert_eq!(s["retransmission"]["peer_dead_after_ms"], 3500, "{s}");
    (p, a, b)
}

fn no_ike_sa(p: &Pair) -> bool {
    p.status(0)
        .is_some_and(|s| s["ike_sas"].as_array().is_some_and(Vec::is_empty))
}

#[test]
fn restart_brings_the_tunnel_back_after_the_peer_was_frozen() {
    if !netns_tests_enabled("dpd_netns") {
        return;
    }
    let (p, _a, b) = up("r", "restart");
    let old = spis(&p.status(0).expect("status A"), "site", "net").expect("up");
    p.signal(b, "STOP");
    // 1 s of silence, then 3.5 s of unanswered liveness checks.
    p.wait("A to declare B dead", Duration::from_secs(8), |p| {
        p.log(0).contains("site: peer dead, dpd_action = restart")
    });
    let log = p.log(0);
    assert!(
        log.contains("down: peer unreachable: no answer after retransmissions"),
        "{log}"
    );
    p.signal(b, "CONT");
    // A's restart (or its next try after a back-off of 2 s) reaches B.
    let mut new = None;
    p.wait(
        "site/net up again on both sides",
        Duration::from_secs(10),
        |p| {
            let (Some(x), Some(y)) = (p.status(0), p.status(1)) else {
                return false;
            };
            let (Some(n), Some(m)) = (spis(&x, "site", "net"), spis(&y, "site", "net")) else {
                return false;
            };
            // B is deleting its stale SA (INITIAL_CONTACT): the new one is its only established
            // one.
            let b_up = y["ike_sas"].as_array().map_or(0, |l| {
                l.iter().filter(|i| i["state"] == "established").count()
            });
            new = Some(n.clone());
            n[0] == m[0] && b_up == 1
        },
    );
    let new = new.expect("set when the wait succeeded");
    assert_ne!(old[0], new[0], "a new IKE SA");
    assert_ne!(old[2], new[2], "a new child SA");
    assert!(
        p.ping(0, "198.51.100.1", "203.0.113.1"),
        "ping through the new child SA"
    );
}

#[test]
fn clear_closes_and_starts_nothing() {
    if !netns_tests_enabled("dpd_netns") {
        return;
    }
    let (mut p, _a, b) = up("c", "clear");
    p.guard.daemons[b].kill().expect("SIGKILL B");
    let _ = p.guard.daemons[b].wait();
    p.wait("A to declare B dead", Duration::from_secs(8), |p| {
        p.log(0).contains("site: peer dead, dpd_action = clear")
    });
    assert!(no_ike_sa(&p), "A closed the IKE SA");
    // `start_action = "start"` would restart after a back-off of 2 s; `clear` does not.
    std::thread::sleep(Duration::from_secs(4));
    assert!(no_ike_sa(&p), "A started nothing again");
    let log = p.log(0);
    assert_eq!(
        log.matches("site: initiating to").count(),
        1,
        "only the first initiation: {log}"
    );
}

#[test]
fn trap_waits_for_traffic_then_brings_the_tunnel_back() {
    if !netns_tests_enabled("dpd_netns") {
        return;
    }
    let (p, _a, b) = up("t", "trap");
    p.signal(b, "STOP");
    p.wait("A to declare B dead", Duration::from_secs(8), |p| {
        p.log(0)
            .contains("site: peer dead, dpd_action = trap: starting it on demand")
    });
    p.signal(b, "CONT");
    // Nothing is initiated without traffic (the child is `start`, yet the trap action wins).
    std::thread::sleep(Duration::from_secs(3));
    assert!(no_ike_sa(&p), "A waits for traffic");
    let s = p.status(0).expect("status A");
    assert_eq!(s["dataplane"]["traps"][0], "site/net", "{s}");
    // The first packet hits the trap: A negotiates again and the echoes go through.
    assert!(
        p.ping(0, "198.51.100.1", "203.0.113.1"),
        "ping through the child SA the trap brought up; A: {:?}",
        p.status(0)
    );
    assert!(spis(&p.status(0).expect("status A"), "site", "net").is_some());
}
