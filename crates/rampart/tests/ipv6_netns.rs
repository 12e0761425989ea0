//! IPv6 through `rampart run`'s data plane, inner and outer: four dual-stack namespaces,
//! hosta — gwa — gwb — hostb, the gateways forwarding both families with no route to the far
//! LAN but rampart's TUN device. One child carries both families' LAN prefixes
//! (198.51.100.0/24 + 2001:db8:a::/64 behind gwa, 203.0.113.0/24 + 2001:db8:b::/64 behind gwb);
//! the gateways talk over 2001:db8::1 / 2001:db8::2 (raw ESP, or ESP-in-UDP) or over
//! 192.0.2.1 / 192.0.2.2 (raw ESP). The hosts ping each other over IPv4 and IPv6 both ways;
//! both daemons count the ESP packets; tshark on the WAN link sees ESP of the expected outer
//! family with both SPIs and no echo in the clear.
//!
//! Needs root, `ip`, `ping`: runs only with `RAMPART_NETNS_TESTS=1`, otherwise warns and
//! passes.
// A harness waiting on real processes: the wall clock is what it needs.
#![allow(clippy::disallowed_methods)]

use std::time::Duration;

use serde_json::Value;

mod common;
use common::{
    Guard, LinkCapture, connection_config, dual_stack_topology, established_child,
    netns_tests_enabled, ns_ok, sa_list_json, spawn_daemons, wait_for_net_child,
};

fn counter(c: &Value, key: &str) -> u64 {
    c[key].as_u64().unwrap_or(0)
}

/// Side a's and side b's child: both LANs, both families.
const CHILD_A: &str = r#"local_ts = ["198.51.100.0/24", "2001:db8:a::/64"]
remote_ts = ["203.0.113.0/24", "2001:db8:b::/64"]"#;
const CHILD_B: &str = r#"local_ts = ["203.0.113.0/24", "2001:db8:b::/64"]
remote_ts = ["198.51.100.0/24", "2001:db8:a::/64"]"#;

/// Pings from `ns` to `dst` (3 echoes, family from the address).
fn ping(ns: &str, dst: &str) -> bool {
    let fam = if dst.contains(':') { "-6" } else { "-4" };
    ns_ok(ns, &["ping", fam, "-c", "3", "-i", "0.2", "-W", "2", dst])
}

/// The hosts ping each other over both families, through gateways that talk over `outer`.
fn dual_stack(tag: &str, outer: (&str, &str), encap: bool) {
    if !netns_tests_enabled("ipv6_netns") {
        return;
    }
    let pid = std::process::id();
    let (mut g, dir) = Guard::with_dir(&format!("r6-{pid}-{tag}"));
    let ([hosta, gwa, gwb, hostb], wan) = dual_stack_topology(&mut g, "r6", tag);
    assert!(
        !ping(&hosta, "2001:db8:b::10"),
        "no route before the tunnel"
    );
    let ca = connection_config(&dir, "a", outer, encap, CHILD_A);
    let cb = connection_config(&dir, "b", (outer.1, outer.0), false, CHILD_B);
    let (sa, sb) = (dir.join("a.sock"), dir.join("b.sock"));
    spawn_daemons(&mut g, &[(&gwb, &cb, &sb), (&gwa, &ca, &sa)]);
    wait_for_net_child((&gwa, &sa), (&gwb, &sb), Duration::from_secs(10));

    let capture = LinkCapture::start(&gwa, &wan, &dir.join("wan.pcap"), 8);
    for (from, to) in [
        (&hosta, "203.0.113.10"),
        (&hosta, "2001:db8:b::10"),
        (&hostb, "2001:db8:a::10"),
        (&hostb, "198.51.100.10"),
    ] {
        assert!(
            ping(from, to),
            "{from} pings {to} through the tunnel; A: {:?}; B: {:?}",
            sa_list_json(&gwa, &sa),
            sa_list_json(&gwb, &sb)
        );
    }
    let a = established_child(&sa_list_json(&gwa, &sa).expect("A answers"), "net").expect("A");
    let b = established_child(&sa_list_json(&gwb, &sb).expect("B answers"), "net").expect("B");
    assert_eq!(a["udp_encap"].is_null(), !encap, "encapsulation: {a}");
    for (side, c) in [("A", &a), ("B", &b)] {
        assert!(counter(c, "out_packets") >= 12, "{side} sent ESP: {c}");
        assert!(counter(c, "in_packets") >= 12, "{side} received ESP: {c}");
        assert_eq!(counter(c, "in_drops"), 0, "{side} dropped nothing: {c}");
    }

    // Oracle: tshark on the WAN sees ESP of the outer family with both SPIs, no echo in clear.
    if let Some(mut cap) = capture {
        cap.wait();
        let family = if outer.0.contains(':') { "ipv6" } else { "ip" };
        let filter = format!("{family} && esp");
        let spis = cap.read(&["-Y", &filter, "-T", "fields", "-e", "esp.spi"]);
        for k in ["spi_in", "spi_out"] {
            let want = format!("0x{}", a[k].as_str().unwrap_or_default());
            let n = spis.lines().filter(|l| l.trim() == want).count();
            assert!(
                n >= 12,
                "tshark saw {n} {family} ESP packets with {k} {want}"
            );
        }
        let clear = cap.read(&["-Y", "icmp || icmpv6.type == 128 || icmpv6.type == 129"]);
        assert!(
            clear.trim().is_empty(),
            "echo in the clear on the WAN: {clear}"
        );
        let udp = cap.read(&["-Y", "udp.port == 4500 && esp"]);
        assert_eq!(
            !udp.trim().is_empty(),
            encap,
            "ESP in UDP exactly with encap"
        );
    }
}

/// IPv4 and IPv6 inside raw ESP over IPv6.
#[test]
fn both_families_over_ipv6_raw_esp() {
    dual_stack("r", ("2001:db8::1", "2001:db8::2"), false);
}

/// IPv4 and IPv6 inside ESP-in-UDP over IPv6.
#[test]
fn both_families_over_ipv6_esp_in_udp() {
    dual_stack("u", ("2001:db8::1", "2001:db8::2"), true);
}

/// IPv6 (and IPv4) inside raw ESP over IPv4.
#[test]
fn both_families_over_ipv4_raw_esp() {
    dual_stack("4", ("192.0.2.1", "192.0.2.2"), false);
}
