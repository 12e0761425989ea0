//! Bulk TCP through `rampart run`: iperf3, one stream for 3 s, hosta -> hostb, through
//! rampart <-> rampart (raw ESP, IP protocol 50) and rampart <-> strongSwan (ESP in UDP, which
//! libipsec needs). It must complete with a non-zero rate, which the test prints; it is not a
//! benchmark (debug build, shared CPUs), so no rate is asserted beyond that. The link between
//! the gateways carries only IKE and ESP meanwhile.
//!
//! Runs only with `RAMPART_NETNS_TESTS=1` (and root); strongSwan, iperf3 and tshark are oracles
//! (`rampart_testkit::unavailable`).
// A harness waiting on real processes: the wall clock is what it needs.
#![allow(clippy::disallowed_methods)]

mod common;
use common::net::{CHARON_LOG, Net, Side};
use common::wire::{EspOn, WireCapture};

const TEST: &str = "e2e_iperf";

/// Runs iperf3 over the tunnel that is up and checks the wire.
fn iperf(net: &Net, what: &str, cap: Option<WireCapture>, esp: EspOn) {
    net.ping_both_ways();
    let Some(bps) = net.iperf_tcp(3) else {
        return;
    };
    eprintln!(
        "iperf3 TCP hosta -> hostb through {what}: {:.1} Mbit/s",
        bps / 1e6
    );
    assert!(bps > 0.0, "iperf3 moved data\n{}", net.context());
    let (_, child) = net.wait_child("gwa");
    eprintln!("rampart's child SA after iperf3: {child}");
    if let Some(cap) = cap {
        // At least the pings and a few hundred segments went through ESP.
        cap.finish().assert_never_plaintext(esp, 100);
    }
}

#[test]
fn iperf_rampart_to_rampart() {
    let Some(mut net) = Net::up(TEST, "ir", false) else {
        return;
    };
    let cap = net.capture("gwb");
    net.rampart(&Side::new("gwb", "none"));
    net.rampart(&Side::new("gwa", "start"));
    net.wait_child("gwa");
    net.wait_child("gwb");
    iperf(&net, "rampart <-> rampart (raw ESP)", cap, EspOn::Raw);
}

#[test]
fn iperf_rampart_to_strongswan() {
    let Some(mut net) = Net::up(TEST, "is", false) else {
        return;
    };
    let cap = net.capture("gwb");
    net.strongswan(CHARON_LOG, &["--role", "responder"]);
    net.rampart(&Side {
        encap: true,
        ..Side::new("gwa", "start")
    });
    net.wait_child("gwa");
    net.wait_strongswan_child();
    iperf(&net, "rampart <-> strongSwan (ESP in UDP)", cap, EspOn::Udp);
}
