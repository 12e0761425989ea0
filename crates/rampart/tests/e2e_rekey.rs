//! Child SA rekeying under traffic (RFC 7296 §1.3.3, §2.8: make-before-break): short child
//! lifetimes (rekey after 3 s, hard limit 6 s) on one side, hosta pinging hostb every 50 ms for
//! 10 s. rampart's child SPIs (`rampart sa list --json`, polled) must change at least twice and
//! at most one echo may go unanswered. Rekeys initiated by rampart towards rampart, by rampart
//! towards strongSwan and by strongSwan towards rampart. The link between the gateways carries
//! only IKE and ESP meanwhile.
//!
//! Why one lost echo is tolerated: the side that answers CREATE_CHILD_SA installs the new
//! inbound SA before it answers, but moves its outbound traffic only when it sees the
//! initiator's delete of the old SA (or, in rampart, at once); a packet sent on the old SA and
//! still in flight when the old inbound SA is removed is lost. With one 50 ms echo in flight
//! that is at most one per rekey — and in practice none, so more than one lost fails.
//!
//! Runs only with `RAMPART_NETNS_TESTS=1` (and root); strongSwan and tshark are oracles
//! (`rampart_testkit::unavailable`).
// A harness waiting on real processes: the wall clock is what it needs.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

mod common;
use common::net::{CHARON_LOG, Net, Side};
use common::wire::{EspOn, WireCapture};

const TEST: &str = "e2e_rekey";
/// Child lifetimes short enough for three rekeys in the ping's 10 s.
const SHORT_CHILD: &str = "rekey_time = \"3s\"\nlife_time = \"6s\"";
/// Echoes, 50 ms apart: 10 s.
const ECHOES: u32 = 200;

/// Pings hosta -> hostb for 10 s while polling gwa's child SPIs; asserts two rekeys or more
/// and at most one lost echo, then checks the wire.
fn ping_through_rekeys(net: &Net, cap: Option<WireCapture>, esp: EspOn) {
    net.wait_child("gwa");
    let mut spis: Vec<String> = Vec::new();
    let start = Instant::now();
    let (sent, got) = std::thread::scope(|s| {
        let ping = s.spawn(|| net.ping("hosta", "203.0.113.10", ECHOES, "0.05"));
        let end = Instant::now() + Duration::from_secs(20);
        while !ping.is_finished() && Instant::now() < end {
            if let Some((_, c)) = net.child("gwa") {
                let spi = format!(
                    "{}/{}",
                    c["spi_in"].as_str().unwrap_or_default(),
                    c["spi_out"].as_str().unwrap_or_default()
                );
                if spis.last() != Some(&spi) {
                    spis.push(spi);
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        ping.join().expect("the ping thread does not panic")
    });
    for gw in ["gwa", "gwb"] {
        if let Some(st) = net.ctl(gw, &["status"]) {
            eprintln!("{gw}'s data plane: {}", st["dataplane"]);
        }
    }
    let rekeys = spis.len().saturating_sub(1);
    eprintln!(
        "gwa's child SPIs (in/out) in turn: {spis:?}; {got}/{sent} echoes answered in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    assert!(
        rekeys >= 2,
        "at least two rekeys in 10 s, saw {rekeys}: {spis:?}\n{}",
        net.context()
    );
    assert_eq!(sent, ECHOES, "ping ran to the end");
    assert!(
        sent - got <= 1,
        "{} echoes lost across {rekeys} rekeys\n{}",
        sent - got,
        net.context()
    );
    if let Some(cap) = cap {
        let wire = cap.finish();
        wire.assert_never_plaintext(esp, 2 * ECHOES as usize - 2);
        // Traffic really moved: every child SA seen carried ESP both ways.
        for spi in spis.iter().flat_map(|p| p.split('/')) {
            assert!(
                wire.esp_spis.contains_key(&format!("0x{spi}")),
                "no ESP with SPI {spi} on the wire: {:?}",
                wire.esp_spis
            );
        }
    }
}

#[test]
fn rekey_rampart_to_rampart() {
    let Some(mut net) = Net::up(TEST, "rr", false) else {
        return;
    };
    let cap = net.capture("gwb");
    net.rampart(&Side::new("gwb", "none"));
    net.rampart(&Side {
        child_extra: SHORT_CHILD.to_owned(),
        ..Side::new("gwa", "start")
    });
    ping_through_rekeys(&net, cap, EspOn::Raw);
}

#[test]
fn rekey_rampart_initiates_to_strongswan() {
    let Some(mut net) = Net::up(TEST, "rs", false) else {
        return;
    };
    let cap = net.capture("gwb");
    net.strongswan(CHARON_LOG, &["--role", "responder"]);
    net.rampart(&Side {
        encap: true,
        child_extra: SHORT_CHILD.to_owned(),
        ..Side::new("gwa", "start")
    });
    net.wait_strongswan_child();
    ping_through_rekeys(&net, cap, EspOn::Udp);
}

#[test]
fn rekey_strongswan_initiates_to_rampart() {
    let Some(mut net) = Net::up(TEST, "sr", false) else {
        return;
    };
    let cap = net.capture("gwb");
    net.strongswan(
        CHARON_LOG,
        &[
            "--role",
            "responder",
            "--child-opt",
            "rekey_time=3s",
            "--child-opt",
            "life_time=6s",
            "--child-opt",
            "rand_time=1s",
        ],
    );
    net.rampart(&Side {
        encap: true,
        ..Side::new("gwa", "start")
    });
    net.wait_strongswan_child();
    ping_through_rekeys(&net, cap, EspOn::Udp);
}
