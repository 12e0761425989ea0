//! A tunnel whose `remote_ts` covers the peer's own address: gwa sends everything from its LAN
//! into the tunnel (`remote_ts = ["0.0.0.0/0"]`), gwb accepts anything for hosta's LAN. The
//! daemons' IKE and ESP to each other would fall into their own TUN device but for the
//! `not fwmark` rule (their sockets are marked); hosta's LAN stays reachable from gwa because
//! the daemon's table throws its `local_ts` back to the main table. Proven by: the SA comes
//! up, hosta pings hostb and gwb's own WAN address through the tunnel, hostb pings hosta, gwa
//! still pings hosta directly, and tshark on the WAN sees ESP and no ICMP in the clear. A BYPASS
//! entry carves one exception out of the tunnel: UDP from hosta's LAN to gwb's discard port
//! leaves in the clear (DESIGN.md §2), and only that.
//!
//! Needs root, `ip`, `ping`: runs only with `RAMPART_NETNS_TESTS=1`, otherwise warns and
//! passes.
// A harness waiting on real processes: the wall clock is what it needs.
#![allow(clippy::disallowed_methods)]

use std::time::Duration;

mod common;
use common::{
    Guard, LinkCapture, connection_config, dual_stack_topology, established_child,
    netns_tests_enabled, ns_ok, sa_list_json, spawn_daemons, wait_for_net_child,
};

fn ping(ns: &str, dst: &str) -> bool {
    ns_ok(ns, &["ping", "-c", "3", "-i", "0.2", "-W", "2", dst])
}

#[test]
fn default_route_into_the_tunnel_keeps_ike_and_the_lan_outside() {
    if !netns_tests_enabled("default_route_netns") {
        return;
    }
    let pid = std::process::id();
    let (mut g, dir) = Guard::with_dir(&format!("rdr-{pid}"));
    let ([hosta, gwa, gwb, hostb], wan) = dual_stack_topology(&mut g, "rdr", "d");
    let outer = ("192.0.2.1", "192.0.2.2");
    let child_a = "local_ts = [\"198.51.100.0/24\"]\nremote_ts = [\"0.0.0.0/0\"]";
    let child_b = "local_ts = [\"0.0.0.0/0\"]\nremote_ts = [\"198.51.100.0/24\"]";
    let ca = connection_config(&dir, "a", outer, false, child_a);
    let bypass = "\n[[policies]]\nname = \"discard-port\"\nlocal = [\"198.51.100.0/24\"]\n\
                  remote = [\"192.0.2.2\"]\nprotocol = \"udp\"\nremote_port = 9\n\
                  action = \"bypass\"\npriority = 50\n";
    let text = std::fs::read_to_string(&ca).expect("config") + bypass;
    std::fs::write(&ca, text).expect("config");
    let cb = connection_config(&dir, "b", (outer.1, outer.0), false, child_b);
    let (sa, sb) = (dir.join("a.sock"), dir.join("b.sock"));
    spawn_daemons(&mut g, &[(&gwb, &cb, &sb), (&gwa, &ca, &sa)]);
    wait_for_net_child((&gwa, &sa), (&gwb, &sb), Duration::from_secs(10));

    let capture = LinkCapture::start(&gwa, &wan, &dir.join("wan.pcap"), 6);
    for (from, to, what) in [
        (
            &hosta,
            "203.0.113.10",
            "hosta pings hostb through the tunnel",
        ),
        (
            &hosta,
            "192.0.2.2",
            "hosta pings gwb's own WAN address through the tunnel",
        ),
        (
            &hostb,
            "198.51.100.10",
            "hostb pings hosta through the tunnel",
        ),
        (
            &gwa,
            "198.51.100.10",
            "gwa reaches its LAN directly (throw route)",
        ),
    ] {
        assert!(
            ping(from, to),
            "{what}; A: {:?}; B: {:?}",
            sa_list_json(&gwa, &sa),
            sa_list_json(&gwb, &sb)
        );
    }
    assert!(
        ns_ok(
            &hosta,
            &["bash", "-c", "echo bypassed >/dev/udp/192.0.2.2/9"]
        ),
        "hosta sends to the discard port"
    );
    let a = established_child(&sa_list_json(&gwa, &sa).expect("A answers"), "net").expect("A");
    for k in ["out_packets", "in_packets"] {
        let n = a[k].as_u64().unwrap_or(0);
        assert!(
            n >= 9,
            "A's {k}: three pings of three echoes went through: {a}"
        );
    }
    if let Some(mut cap) = capture {
        cap.wait();
        let esp = cap.read(&["-Y", "esp", "-T", "fields", "-e", "esp.spi"]);
        assert!(esp.lines().count() >= 18, "ESP on the WAN: {esp}");
        let clear = cap.read(&["-Y", "icmp"]);
        assert!(
            clear.trim().is_empty(),
            "ICMP in the clear on the WAN: {clear}"
        );
        let bypassed = cap.read(&["-Y", "ip.src == 198.51.100.10 && udp.dstport == 9"]);
        assert_eq!(
            bypassed.lines().count(),
            1,
            "the BYPASS entry's datagram left in the clear: {bypassed}"
        );
    }
}
