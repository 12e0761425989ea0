//! NAT traversal (RFC 7296 §2.23, RFC 3948) end to end: `netns-up --nat` puts gwa
//! (192.0.2.129) behind an nftables masquerade to 192.0.2.1. rampart in gwa initiates, without
//! `encap`, to strongSwan or to another rampart in gwb. Both must detect the NAT, float to UDP
//! 4500 and carry ESP in UDP: `rampart status --json` shows `nat_detected` and port 4500, the
//! hosts ping both ways, and a capture on gwb's `wan0` (outside the NAT) holds only IKE and
//! ESP in UDP. A third test shows the wire oracle is not blind: without a tunnel, gwa's default
//! route leaks a ping in clear towards the NAT box, and the oracle sees it.
//!
//! Runs only with `RAMPART_NETNS_TESTS=1` (and root); strongSwan and tshark are oracles
//! (`rampart_testkit::unavailable`).
// A harness waiting on real processes: the wall clock is what it needs.
#![allow(clippy::disallowed_methods)]

mod common;
use common::net::{CHARON_LOG, Net, Side, established_child};
use common::wire::EspOn;

const TEST: &str = "e2e_nat";

/// gwa's view through `rampart status --json`: the NAT is detected, IKE and ESP use port 4500
/// on both ends.
fn check_gwa(net: &Net) {
    let status = net.ctl("gwa", &["status"]).expect("gwa answers");
    let (ike, child) = established_child(&status).expect("gwa's child SA");
    assert_eq!(ike["nat_detected"], true, "gwa sees its NAT: {ike}");
    assert_eq!(ike["local"], "192.0.2.129:4500", "{ike}");
    assert_eq!(ike["remote"], "192.0.2.2:4500", "{ike}");
    let encap = &child["udp_encap"];
    assert_eq!(encap["local_port"], 4500, "ESP in UDP from 4500: {child}");
    assert_eq!(encap["remote_port"], 4500, "ESP in UDP to 4500: {child}");
}

fn gwa() -> Side {
    Side::new("gwa", "start")
}

#[test]
fn nat_rampart_behind_nat_to_strongswan() {
    let Some(mut net) = Net::up(TEST, "ns", true) else {
        return;
    };
    let cap = net.capture("gwb");
    net.strongswan(CHARON_LOG, &["--role", "responder"]);
    net.rampart(&gwa());
    net.wait_child("gwa");
    net.wait_strongswan_child();
    check_gwa(&net);
    net.ping_both_ways();
    let sas = net.swanctl(&["--list-sas"]);
    assert!(
        sas.contains("@ 192.0.2.1["),
        "strongSwan sees gwa as the NAT's address:\n{sas}"
    );
    if let Some(cap) = cap {
        let wire = cap.finish();
        wire.assert_never_plaintext(EspOn::Udp, 12);
        eprintln!("ESP-in-UDP ports on gwb's wan0: {:?}", wire.esp_udp_ports);
    }
}

#[test]
fn nat_rampart_behind_nat_to_rampart() {
    let Some(mut net) = Net::up(TEST, "nr", true) else {
        return;
    };
    let cap = net.capture("gwb");
    net.rampart(&Side::new("gwb", "none"));
    net.rampart(&gwa());
    net.wait_child("gwa");
    let (ike_b, child_b) = net.wait_child("gwb");
    check_gwa(&net);
    // gwb sees the peer behind a NAT, at the NAT's address, and sends ESP in UDP from 4500 to
    // whatever port the NAT mapped gwa's 4500 to.
    assert_eq!(ike_b["nat_detected"], true, "gwb sees the NAT: {ike_b}");
    assert_eq!(ike_b["local"], "192.0.2.2:4500", "{ike_b}");
    let remote: &str = ike_b["remote"].as_str().unwrap_or_default();
    assert!(remote.starts_with("192.0.2.1:"), "{ike_b}");
    let mapped = remote.trim_start_matches("192.0.2.1:");
    assert_eq!(child_b["udp_encap"]["local_port"], 4500, "{child_b}");
    assert_eq!(
        child_b["udp_encap"]["remote_port"].to_string(),
        mapped,
        "ESP goes where IKE came from: {child_b}"
    );
    net.ping_both_ways();
    if let Some(cap) = cap {
        let wire = cap.finish();
        wire.assert_never_plaintext(EspOn::Udp, 12);
        let port: u16 = mapped.parse().expect("a port");
        assert!(
            wire.esp_udp_ports
                .iter()
                .all(|p| *p == (port, 4500) || *p == (4500, port)),
            "ESP in UDP only between gwb:4500 and the NAT's {port}: {:?}",
            wire.esp_udp_ports
        );
    }
}

/// The oracle's negative control: with no tunnel, gwa's default route sends a ping to hostb in
/// clear towards the NAT box (which has no route further, and answers "net unreachable"), and
/// the capture on gwa's side must flag it.
#[test]
fn nat_wire_oracle_sees_a_clear_ping() {
    let Some(net) = Net::up(TEST, "nc", true) else {
        return;
    };
    let Some(cap) = net.capture("gwa") else {
        return;
    };
    let (sent, _) = net.ping("hosta", "203.0.113.10", 1, "0.2");
    assert_eq!(sent, 1, "ping sent its echo request");
    let wire = cap.finish();
    eprintln!("wire: {}", wire.line());
    assert!(!wire.clear.is_empty(), "hostb's address seen in clear");
    assert!(!wire.other.is_empty(), "ICMP is neither IKE nor ESP");
    let verdict = wire.check(EspOn::Udp, 0);
    eprintln!("oracle: {verdict:?}");
    assert!(verdict.is_err(), "the oracle fails a clear ping");
}
