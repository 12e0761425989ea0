//! `rampart run` against a real strongSwan with ECDSA certificates (RFC 7296 §2.15 signature
//! authentication): both gateways' certificates come from the topology's test CA (`make-pki`,
//! which `strongswan-peer --auth pubkey` also uses), ids `gwa.ipx.example` (rampart, in gwa) and
//! `gwb.ipx.example` (charon, in gwb). Each side is once the initiator; the hosts then ping
//! both ways through the tunnel, and a capture of the link between the gateways holds only IKE
//! and ESP in UDP (strongSwan's libipsec only does RFC 3948 encapsulation, hence `encap`).
//!
//! Runs only with `RAMPART_NETNS_TESTS=1` (and root); strongSwan and tshark are oracles
//! (`rampart_testkit::unavailable`).
// A harness waiting on real processes: the wall clock is what it needs.
#![allow(clippy::disallowed_methods)]

mod common;
use common::net::{Auth, CHARON_LOG, Net, Side};
use common::wire::EspOn;

const TEST: &str = "e2e_pubkey";

fn side(start: &'static str) -> Side {
    Side {
        auth: Auth::Pubkey,
        encap: true,
        ..Side::new("gwa", start)
    }
}

/// The peer id rampart authenticated, and the hosts' pings and the wire.
fn check(net: &Net, cap: Option<common::wire::WireCapture>) {
    let (ike, _) = net.wait_child("gwa");
    net.wait_strongswan_child();
    assert_eq!(ike["peer_id"], "fqdn:gwb.ipx.example", "{ike}");
    net.ping_both_ways();
    let sas = net.swanctl(&["--list-sas"]);
    assert!(
        sas.contains("gwa.ipx.example"),
        "strongSwan authenticated our certificate's id:\n{sas}"
    );
    if let Some(cap) = cap {
        cap.finish().assert_never_plaintext(EspOn::Udp, 12);
    }
}

#[test]
fn pubkey_rampart_initiator_to_strongswan() {
    let Some(mut net) = Net::up(TEST, "pki", false) else {
        return;
    };
    let cap = net.capture("gwb");
    net.strongswan(CHARON_LOG, &["--role", "responder", "--auth", "pubkey"]);
    net.rampart(&side("start"));
    check(&net, cap);
}

#[test]
fn pubkey_strongswan_initiator_to_rampart() {
    let Some(mut net) = Net::up(TEST, "pkr", false) else {
        return;
    };
    let cap = net.capture("gwb");
    net.rampart(&side("none"));
    net.strongswan(
        CHARON_LOG,
        &["--role", "initiator", "--auth", "pubkey", "--timeout", "15"],
    );
    check(&net, cap);
}
