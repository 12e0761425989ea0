//! Dead peer detection (RFC 7296 §2.4) clearing a dead peer: rampart in gwa, the responder,
//! with `dpd_delay = "2s"` and the default `dpd_action` (clear); the peer in gwb (another
//! rampart, or strongSwan) initiates, then is SIGKILLed by its PID so that it sends no Delete.
//! rampart's liveness check (an empty INFORMATIONAL) then goes unanswered through the engine's
//! whole retransmission schedule, and `rampart status --json` must show no IKE SA (and so no
//! child SA) within that time — and not before it.
//!
//! gwa's retransmission schedule is shortened (`[daemon] retransmit_timeout = "500ms"`,
//! `retransmit_tries = 3`: given up 0.5 + 1 + 2 = 3.5 s after the first send) to keep the test
//! short. `dpd_action = "restart"` / `"trap"` are tested rampart↔rampart in `dpd_netns.rs`.
//!
//! Runs only with `RAMPART_NETNS_TESTS=1` (and root); strongSwan is an oracle
//! (`rampart_testkit::unavailable`).
// A harness waiting on real processes: the wall clock is what it needs.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

mod common;
use common::net::{CHARON_LOG, Net, Side};

const TEST: &str = "e2e_dpd";
/// Our `dpd_delay`.
const DPD_DELAY: Duration = Duration::from_secs(2);
/// gwa's retransmission (first after 500 ms, doubling, 3 transmissions): the request is given
/// up 0.5 + 1 + 2 = 3.5 s after it was first sent.
const GIVE_UP: Duration = Duration::from_millis(3500);
/// Polling and scheduling slack.
const SLACK: Duration = Duration::from_secs(4);

fn gwa(encap: bool) -> Side {
    Side {
        encap,
        conn_extra: format!("dpd_delay = \"{}s\"", DPD_DELAY.as_secs()),
        daemon_extra: "retransmit_timeout = \"500ms\"\nretransmit_tries = 3".into(),
        ..Side::new("gwa", "none")
    }
}

/// After the peer died at `dead`: rampart in gwa has no IKE SA left within one liveness check
/// and its retransmissions, and no earlier than those retransmissions allow.
fn check_cleared(net: &Net, dead: Instant) {
    let limit = DPD_DELAY + GIVE_UP + SLACK;
    let cleared = loop {
        let st = net.ctl("gwa", &["status"]).expect("gwa answers");
        let left = st["ike_sas"].as_array().map_or(0, Vec::len);
        if left == 0 {
            break dead.elapsed();
        }
        assert!(
            dead.elapsed() < limit,
            "gwa still holds {left} IKE SA(s) {} s after the peer died\n{}",
            dead.elapsed().as_secs(),
            net.context()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    eprintln!(
        "gwa cleared the dead peer's IKE SA {:.1} s after it was killed",
        cleared.as_secs_f64()
    );
    // The liveness check went out at most DPD_DELAY before the kill (we heard the peer last
    // then, or later), so giving up took at least GIVE_UP − DPD_DELAY.
    assert!(
        cleared + DPD_DELAY >= GIVE_UP,
        "cleared after {cleared:?}: sooner than the retransmission schedule allows"
    );
    let list = net.sa_list("gwa").expect("gwa answers");
    assert_eq!(list["ike_sas"], serde_json::json!([]), "no SA left: {list}");
    let log = std::fs::read_to_string(net.run_dir().join("gwa.rampart.log")).unwrap_or_default();
    let down: Vec<&str> = log.lines().filter(|l| l.contains(" down: ")).collect();
    eprintln!("gwa's log: {down:?}");
    assert!(!down.is_empty(), "gwa logged the IKE SA going down\n{log}");
}

#[test]
fn dpd_clears_a_killed_rampart() {
    let Some(mut net) = Net::up(TEST, "dr", false) else {
        return;
    };
    net.rampart(&gwa(false));
    net.rampart(&Side::new("gwb", "start"));
    net.wait_child("gwa");
    net.ping_both_ways();
    let dead = net.kill_rampart("gwb");
    check_cleared(&net, dead);
}

#[test]
fn dpd_clears_a_killed_strongswan() {
    let Some(mut net) = Net::up(TEST, "ds", false) else {
        return;
    };
    net.rampart(&gwa(true));
    net.strongswan(CHARON_LOG, &["--role", "initiator", "--timeout", "15"]);
    net.wait_child("gwa");
    net.wait_strongswan_child();
    net.ping_both_ways();
    let dead = net.kill_charon();
    check_cleared(&net, dead);
}
