//! Traffic between `rampart run` and a real strongSwan (charon 5.9.x with kernel-libipsec): the
//! team's interop topology with hosts (hosta — gwa — gwb — hostb, `tests/common/net.rs`),
//! strongSwan in gwb, rampart in gwa, each side once the initiator. Once the child SA is up,
//! hosta pings hostb and hostb pings hosta; both rampart's ESP counters (`rampart sa list
//! --json`) and strongSwan's CHILD_SA byte counters (`swanctl --list-sas`) must show the packets
//! went through the SAs, and the link between the gateways carries only IKE and ESP in UDP.
//!
//! strongSwan's libipsec only does ESP in UDP (RFC 3948), so rampart's connection sets
//! `encap = true`.
//!
//! Runs only with `RAMPART_NETNS_TESTS=1` (and root); otherwise it warns and passes. Without
//! strongSwan or the scripts it is an unavailable oracle ([`rampart_testkit::unavailable`]).
// A harness waiting on real processes: the wall clock is what it needs.
#![allow(clippy::disallowed_methods)]

use serde_json::Value;

mod common;
use common::net::{CHARON_LOG, Net, Side};
use common::wire::{EspOn, WireCapture};

const TEST: &str = "strongswan_tunnel";

/// Our side in gwa: strongswan-peer's defaults, ESP in UDP, the child's `start_action`.
fn gwa(start: &'static str) -> Side {
    Side {
        encap: true,
        ..Side::new("gwa", start)
    }
}

fn counter(c: &Value, key: &str) -> u64 {
    c[key].as_u64().unwrap_or(0)
}

/// The number before `label` on the line of `sas` that holds `spi` (`in  c1234567,   252
/// bytes,     3 packets`).
fn swan_counter(sas: &str, spi: &str, label: &str) -> Option<u64> {
    let line = sas.lines().find(|l| l.contains(spi))?;
    let words: Vec<&str> = line
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    let at = words.iter().position(|w| *w == label)?;
    words.get(at.checked_sub(1)?)?.parse().ok()
}

/// Both ways through the tunnel, then rampart's and strongSwan's counters, then the wire.
fn ping_both_ways(net: &Net, cap: Option<WireCapture>) {
    let (_, c) = net.wait_child("gwa");
    net.wait_strongswan_child();
    assert!(
        !c["udp_encap"].is_null(),
        "ESP in UDP towards strongSwan: {c}"
    );
    net.ping_both_ways();

    let (_, c) = net.child("gwa").expect("rampart's child");
    eprintln!("rampart's child SA: {c}");
    assert!(counter(&c, "out_packets") >= 6, "rampart sent ESP: {c}");
    assert!(counter(&c, "in_packets") >= 6, "rampart received ESP: {c}");
    assert_eq!(counter(&c, "in_drops"), 0, "rampart dropped nothing: {c}");

    // strongSwan's inbound SA is our outbound one and vice versa; each carried the echoes.
    let sas = net.swanctl(&["--list-sas"]);
    eprintln!("swanctl --list-sas:\n{sas}");
    let spi = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
    let (their_in, their_out) = (
        format!("in  {}", spi("spi_out")),
        format!("out {}", spi("spi_in")),
    );
    for (what, dir) in [(&their_in, "in"), (&their_out, "out")] {
        let bytes = swan_counter(&sas, what, "bytes");
        let packets = swan_counter(&sas, what, "packets");
        assert!(
            bytes.is_some_and(|b| b > 0) && packets.is_some_and(|p| p >= 6),
            "strongSwan's CHILD_SA {dir} ({what}): {bytes:?} bytes, {packets:?} packets\n{sas}"
        );
    }
    // Both sides counted the same packets.
    assert_eq!(
        swan_counter(&sas, &their_in, "packets"),
        Some(counter(&c, "out_packets")),
        "{sas}\n{c}"
    );
    assert_eq!(
        swan_counter(&sas, &their_out, "packets"),
        Some(counter(&c, "in_packets")),
        "{sas}\n{c}"
    );
    if let Some(cap) = cap {
        cap.finish().assert_never_plaintext(EspOn::Udp, 12);
    }
}

/// rampart initiates (`start_action = "start"`) to strongSwan as the responder.
#[test]
fn ping_rampart_initiator_to_strongswan_responder() {
    let Some(mut net) = Net::up(TEST, "st", false) else {
        return;
    };
    net.strongswan(CHARON_LOG, &["--role", "responder"]);
    // Without the tunnel the far LAN is unreachable: the gateways have no route to it.
    assert_eq!(
        net.ping("hosta", "203.0.113.10", 1, "0.2").1,
        0,
        "no route before the tunnel"
    );
    let cap = net.capture("gwb");
    net.rampart(&gwa("start"));
    ping_both_ways(&net, cap);
}

/// strongSwan initiates (`--role initiator`) to rampart as the responder.
#[test]
fn ping_strongswan_initiator_to_rampart_responder() {
    let Some(mut net) = Net::up(TEST, "st", false) else {
        return;
    };
    let cap = net.capture("gwb");
    net.rampart(&gwa("none"));
    // The script initiates the child and waits for it.
    net.strongswan(CHARON_LOG, &["--role", "initiator", "--timeout", "15"]);
    ping_both_ways(&net, cap);
}
