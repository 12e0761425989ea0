//! Transport mode through `rampart run`'s data plane (RFC 4301 §4.1), over IPv4 and IPv6: two
//! gateways on one link, the child's selectors their own addresses. The gateways' own traffic
//! to each other goes into the TUN device by the `not fwmark` rule and is protected; the
//! daemons' IKE and ESP packets, marked, go out directly. Proven by: gwa pings gwb's address, a TCP transfer of
//! 256 KB arrives intact (length and SHA-256), both daemons count the ESP packets, and tshark
//! on the link sees only IKE and ESP (no ICMP or TCP in the clear), ESP-in-UDP exactly when
//! encapsulation is forced. Reverse-path filtering is strict on the TUN device the decrypted
//! packets come from (loose on the link: see run/routing.rs).
//!
//! Needs root, `ip`, `ping`, python3: runs only with `RAMPART_NETNS_TESTS=1`, otherwise warns
//! and passes.
// A harness waiting on real processes: the wall clock is what it needs.
#![allow(clippy::disallowed_methods)]

use std::time::Duration;

use serde_json::Value;

mod common;
use common::{
    Guard, LinkCapture, connection_config, established_child, ip, netns_tests_enabled, ns_ok,
    sa_list_json, spawn_daemons, sysctl_in, tcp_transfer, wait_for_net_child,
};

/// Two namespaces on one veth link: gwa (192.0.2.1, 2001:db8::1), gwb (192.0.2.2,
/// 2001:db8::2). Returns (gwa, gwb, gwa's device).
fn link(g: &mut Guard, tag: &str) -> (String, String, String) {
    let pid = std::process::id();
    let [a, b] = ["gwa", "gwb"].map(|n| format!("rtp-{pid}-{tag}-{n}"));
    for ns in [&a, &b] {
        ip(&["netns", "add", ns]);
        g.namespaces.push(ns.clone());
        ip(&["-n", ns, "link", "set", "lo", "up"]);
    }
    let (da, db) = (format!("rtp{pid}{tag}a"), format!("rtp{pid}{tag}b"));
    ip(&[
        "link", "add", &da, "netns", &a, "type", "veth", "peer", "name", &db, "netns", &b,
    ]);
    for (ns, dev, v4, v6) in [
        (&a, &da, "192.0.2.1/24", "2001:db8::1/64"),
        (&b, &db, "192.0.2.2/24", "2001:db8::2/64"),
    ] {
        ip(&["-n", ns, "addr", "add", v4, "dev", dev]);
        ip(&["-n", ns, "addr", "add", v6, "dev", dev, "nodad"]);
        ip(&["-n", ns, "link", "set", dev, "up"]);
        // Strict reverse-path filtering everywhere (the TUN device included, created later),
        // but loose on the link: the peer's address is routed into the TUN device, so what it
        // sends on the link (ARP included) fails a strict check (run/routing.rs).
        sysctl_in(ns, "net.ipv4.conf.all.rp_filter=1");
        sysctl_in(ns, "net.ipv4.conf.default.rp_filter=1");
        sysctl_in(ns, &format!("net.ipv4.conf.{dev}.rp_filter=2"));
    }
    (a, b, da)
}

fn counter(c: &Value, key: &str) -> u64 {
    c[key].as_u64().unwrap_or(0)
}

/// Transport mode between gwa and gwb over `family` ("4" or "6"), raw ESP or ESP-in-UDP.
fn transport(tag: &str, family: &str, encap: bool, (child_a, child_b): (&str, &str)) {
    if !netns_tests_enabled("transport_netns") {
        return;
    }
    let pid = std::process::id();
    let (mut g, dir) = Guard::with_dir(&format!("rtp-{pid}-{tag}"));
    let (gwa, gwb, dev) = link(&mut g, tag);
    let (a_addr, b_addr) = if family == "4" {
        ("192.0.2.1", "192.0.2.2")
    } else {
        ("2001:db8::1", "2001:db8::2")
    };
    let ca = connection_config(&dir, "a", (a_addr, b_addr), encap, child_a);
    let cb = connection_config(&dir, "b", (b_addr, a_addr), false, child_b);
    let (sa, sb) = (dir.join("a.sock"), dir.join("b.sock"));
    spawn_daemons(&mut g, &[(&gwb, &cb, &sb), (&gwa, &ca, &sa)]);
    wait_for_net_child((&gwa, &sa), (&gwb, &sb), Duration::from_secs(10));
    let a = sa_list_json(&gwa, &sa).expect("A answers");
    let a = established_child(&a, "net").expect("A's child");
    assert_eq!(a["mode"], "transport", "{a}");
    assert_eq!(a["udp_encap"].is_null(), !encap, "encapsulation: {a}");

    let capture = LinkCapture::start(&gwa, &dev, &dir.join("link.pcap"), 5);
    let ping = if family == "4" { "-4" } else { "-6" };
    let pinged = ns_ok(
        &gwa,
        &["ping", ping, "-c", "3", "-i", "0.2", "-W", "2", b_addr],
    );
    assert!(
        pinged,
        "gwa pings gwb's own address; A: {:?}; B: {:?}",
        sa_list_json(&gwa, &sa),
        sa_list_json(&gwb, &sb)
    );
    assert!(
        tcp_transfer(&gwb, &gwa, b_addr, 256 * 1024),
        "a TCP transfer gwa -> gwb arrives intact"
    );

    let a = established_child(&sa_list_json(&gwa, &sa).expect("A answers"), "net").expect("A");
    let b = established_child(&sa_list_json(&gwb, &sb).expect("B answers"), "net").expect("B");
    for (side, c) in [("A", &a), ("B", &b)] {
        // 3 echoes plus the TCP segments, each way.
        assert!(counter(c, "out_packets") >= 10, "{side} sent ESP: {c}");
        assert!(counter(c, "in_packets") >= 10, "{side} received ESP: {c}");
        assert_eq!(counter(c, "in_drops"), 0, "{side} dropped nothing: {c}");
    }

    // Oracle: tshark sees ESP with both SPIs, and nothing but IKE and ESP (plus ARP and the
    // neighbour discovery of the link) on the wire.
    if let Some(mut cap) = capture {
        cap.wait();
        let spis = cap.read(&["-Y", "esp", "-T", "fields", "-e", "esp.spi"]);
        for k in ["spi_in", "spi_out"] {
            let want = format!("0x{}", a[k].as_str().unwrap_or_default());
            let n = spis.lines().filter(|l| l.trim() == want).count();
            assert!(n >= 10, "tshark saw {n} ESP packets with {k} {want}");
        }
        let clear = cap.read(&["-Y", "icmp || tcp || (icmpv6 && !(icmpv6.type >= 133))"]);
        assert!(clear.trim().is_empty(), "in the clear on the link: {clear}");
        let other = cap.read(&["-Y", "!(isakmp || esp || arp || icmpv6)"]);
        assert!(other.trim().is_empty(), "not IKE or ESP: {other}");
        let udp = cap.read(&["-Y", "udp.port == 4500 && esp"]);
        assert_eq!(
            !udp.trim().is_empty(),
            encap,
            "ESP in UDP exactly with encap"
        );
    }

    // A daemon told to stop takes its rule and its routes away.
    let fam = format!("-{family}");
    let rules = || String::from_utf8_lossy(&ip_out(&["-n", &gwa, &fam, "rule"])).into_owned();
    assert!(rules().contains("lookup 7270"), "{}", rules());
    let daemon = g.daemons.pop().expect("gwa's daemon");
    stop(daemon);
    assert!(!rules().contains("lookup 7270"), "rule left: {}", rules());
    let table = ip_out(&["-n", &gwa, &fam, "route", "show", "table", "7270"]);
    assert!(
        table.is_empty(),
        "routes left: {}",
        String::from_utf8_lossy(&table)
    );
}

/// `ip ARGS`' standard output (it must succeed).
fn ip_out(args: &[&str]) -> Vec<u8> {
    let out = std::process::Command::new("ip")
        .args(args)
        .output()
        .expect("ip runs");
    assert!(out.status.success(), "ip {args:?}");
    out.stdout
}

/// Sends SIGTERM to `daemon` (`ip netns exec` execs into it: the PID is the daemon's) and
/// waits until it exits.
fn stop(mut daemon: std::process::Child) {
    let st = std::process::Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(st.success(), "kill -TERM");
    let status = daemon.wait().expect("daemon exits");
    assert!(status.success(), "daemon exits cleanly: {status}");
}

/// Selectors given as the gateways' host prefixes, as (side a, side b).
const EXPLICIT_V4: (&str, &str) = (
    "mode = \"transport\"\nlocal_ts = [\"192.0.2.1/32\"]\nremote_ts = [\"192.0.2.2/32\"]",
    "mode = \"transport\"\nlocal_ts = [\"192.0.2.2/32\"]\nremote_ts = [\"192.0.2.1/32\"]",
);

/// Selectors left to their default, `dynamic`: each side's own address.
const DYNAMIC: (&str, &str) = ("mode = \"transport\"", "mode = \"transport\"");

#[test]
fn transport_mode_over_raw_esp() {
    transport("r", "4", false, EXPLICIT_V4);
}

#[test]
fn transport_mode_over_esp_in_udp() {
    transport("u", "4", true, DYNAMIC);
}

#[test]
fn transport_mode_over_ipv6_raw_esp() {
    transport("6", "6", false, DYNAMIC);
}

#[test]
fn transport_mode_over_ipv6_esp_in_udp() {
    transport("7", "6", true, DYNAMIC);
}
