//! Traffic through `rampart run`'s data plane: four namespaces, hosta — gwa — gwb — hostb, the
//! gateways forwarding with no route to the far LAN but rampart's TUN device. Two daemons with
//! PSK set up the child SA; then hosta pings hostb, and both daemons' ESP counters show the
//! packets went through the SAs. One test forces ESP-in-UDP (`encap = true`), the other uses
//! raw ESP (IP protocol 50); a third starts the tunnel on demand (`start_action = "trap"`): the
//! first ping triggers IKE, waits for the SA and is answered.
//!
//! Needs root, `ip` and `ping`: runs only with `RAMPART_NETNS_TESTS=1`, otherwise warns and
//! passes.
// A harness waiting on real processes: the wall clock is what it needs.
#![allow(clippy::disallowed_methods)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

mod common;
use common::wire::{EspOn, WireCapture};
use common::{
    Guard, ctl_json, dual_stack_topology, established_child, gateway_config, ip,
    netns_tests_enabled, sa_list_json, spawn_daemons, wait_for_net_child, wait_until,
};

fn status(ns: &str, sock: &Path) -> Option<Value> {
    ctl_json(ns, sock, &["status"])
}

/// Child `net` under an established IKE SA, if there is one.
fn child(s: &Value) -> Option<Value> {
    established_child(s, "net")
}

fn ping(ns: &str, dst: &str) -> bool {
    Command::new("ip")
        .args([
            "netns", "exec", ns, "ping", "-c", "3", "-W", "2", "-i", "0.2", dst,
        ])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn counter(c: &Value, key: &str) -> u64 {
    c[key].as_u64().unwrap_or(0)
}

fn ping_once(ns: &str, dst: &str) -> bool {
    Command::new("ip")
        .args(["netns", "exec", ns, "ping", "-c", "1", "-W", "5", dst])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn tunnel(tag: &str, encap: bool, start: &str) {
    if !netns_tests_enabled("tunnel_netns") {
        return;
    }
    let pid = std::process::id();
    let (mut g, dir) = Guard::with_dir(&format!("rtun-{pid}-{tag}"));
    let [hosta, gwa, gwb, hostb] = dual_stack_topology(&mut g, "rt", tag).0;
    // Without the tunnel the far LAN is unreachable: the gateways have no route to it.
    assert!(!ping(&hosta, "203.0.113.10"), "no route before the tunnel");

    // Oracle: tshark on gwa's WAN link, from before the first IKE message.
    let wan = format!("rt{pid}{tag}1x");
    let capture = WireCapture::start(&gwa, &wan, &dir.join("wan.pcap"));

    let ca = gateway_config(&dir, "a", start, encap);
    // An SPD entry ahead of the tunnel's PROTECT: UDP to hostb's discard port is dropped.
    let text = std::fs::read_to_string(&ca).expect("config")
        + "\n[[policies]]\nname = \"no-discard\"\nlocal = [\"198.51.100.0/24\"]\n\
           remote = [\"203.0.113.10\"]\nprotocol = \"udp\"\nremote_port = 9\n\
           action = \"discard\"\npriority = 50\n";
    std::fs::write(&ca, text).expect("config");
    let cb = gateway_config(&dir, "b", "none", false);
    let (sa, sb) = (dir.join("a.sock"), dir.join("b.sock"));
    spawn_daemons(&mut g, &[(&gwb, &cb, &sb), (&gwa, &ca, &sa)]);
    if start == "trap" {
        wait_until("A's control socket", Duration::from_secs(10), || {
            sa_list_json(&gwa, &sa).is_some()
        });
        let before = sa_list_json(&gwa, &sa).expect("A answers");
        assert!(
            child(&before).is_none(),
            "trap: no SA before traffic: {before}"
        );
        // One echo, nothing resent: it must wait for the SA in the trap queue and go through.
        assert!(
            ping_once(&hosta, "203.0.113.10"),
            "the first packet to a trap starts the tunnel and is delivered; A: {:?}",
            sa_list_json(&gwa, &sa)
        );
    }
    wait_for_net_child((&gwa, &sa), (&gwb, &sb), Duration::from_secs(15));
    let a = child(&sa_list_json(&gwa, &sa).expect("A answers")).expect("A's child");
    assert_eq!(
        a["udp_encap"].is_null(),
        !encap,
        "UDP encapsulation as configured: {a}"
    );

    if !ping(&hosta, "203.0.113.10") {
        let a = sa_list_json(&gwa, &sa);
        let b = sa_list_json(&gwb, &sb);
        panic!("hosta cannot ping hostb through the tunnel; A: {a:?}; B: {b:?}");
    }
    // The other way: the responder's side starts the traffic.
    assert!(
        ping(&hostb, "198.51.100.10"),
        "hostb pings hosta through the tunnel"
    );
    // The DISCARD entry drops what it covers before any SA sees it (RFC 4301 §5.1).
    let udp = Command::new("ip")
        .args(["netns", "exec", &hosta, "bash", "-c"])
        .arg("echo dropped >/dev/udp/203.0.113.10/9")
        .status()
        .expect("bash runs");
    assert!(udp.success());
    wait_until(
        "the DISCARD entry's counter",
        Duration::from_secs(5),
        || status(&gwa, &sa).is_some_and(|s| s["dataplane"]["policy_drops"]["no-discard/out"] == 1),
    );

    // Both gateways protected and accepted at least the three echoes each way.
    let a = child(&sa_list_json(&gwa, &sa).expect("A answers")).expect("A's child");
    let b = child(&sa_list_json(&gwb, &sb).expect("B answers")).expect("B's child");
    for (side, c) in [("A", &a), ("B", &b)] {
        assert!(counter(c, "out_packets") >= 3, "{side} sent ESP: {c}");
        assert!(counter(c, "in_packets") >= 3, "{side} received ESP: {c}");
        assert_eq!(counter(c, "in_drops"), 0, "{side} dropped nothing: {c}");
    }
    assert_eq!(counter(&a, "out_packets"), counter(&b, "in_packets"));
    assert_eq!(counter(&b, "out_packets"), counter(&a, "in_packets"));

    // The capture holds only IKE and ESP (RFC 3948 ESP-in-UDP exactly when encap is on, else
    // IP protocol 50), nothing in clear, and both SPIs carried the echoes.
    if let Some(cap) = capture {
        let wire = cap.finish();
        let esp = if encap { EspOn::Udp } else { EspOn::Raw };
        wire.assert_never_plaintext(esp, 12);
        for k in ["spi_in", "spi_out"] {
            let want = format!("0x{}", a[k].as_str().unwrap_or_default());
            let n = wire.esp_spis.get(&want).copied().unwrap_or(0);
            assert!(
                n >= 6,
                "tshark saw {n} ESP packets with {k} {want}: {:?}",
                wire.esp_spis
            );
        }
    }
    if start == "start" {
        bulk_tcp_leaves_as_mtu_sized_esp(
            &[&hosta, &gwa, &gwb, &hostb],
            tag,
            &dir,
            encap,
            [&sa, &sb],
        );
    }
}

/// A bulk TCP transfer hosta → hostb: the TUN device hands gwa TSO super-packets (up to
/// 64 KiB), which must leave as ESP packets that fit the 1500-byte path (tshark on the WAN
/// link, with GSO off there so that it sees what a real wire would carry), arrive whole, and
/// be counted exactly on both sides.
fn bulk_tcp_leaves_as_mtu_sized_esp(
    ns: &[&String; 4],
    tag: &str,
    dir: &Path,
    encap: bool,
    socks: [&Path; 2],
) {
    let [hosta, gwa, gwb, hostb] = *ns;
    let pid = std::process::id();
    let (wan_a, wan_b) = (format!("rt{pid}{tag}1x"), format!("rt{pid}{tag}1y"));
    // Software segmentation before the capture point (a veth otherwise carries GSO trains).
    ip(&["-n", gwa, "link", "set", "dev", &wan_a, "gso_max_segs", "1"]);
    ip(&["-n", gwb, "link", "set", "dev", &wan_b, "gso_max_segs", "1"]);
    let bytes = 8 << 20;
    let server = Command::new("ip")
        .args(["netns", "exec", hostb, "python3", "-c"])
        .arg(
            "import socket\ns = socket.socket()\ns.bind(('203.0.113.10', 5001))\ns.listen(1)\n\
             c, _ = s.accept()\nn = 0\nwhile True:\n    d = c.recv(1 << 16)\n    if not d: break\n\
             \x20   n += len(d)\nprint(n)\n",
        )
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    std::thread::sleep(Duration::from_millis(500));
    let file = dir.join("bulk.pcap");
    let capture = WireCapture::start(gwa, &wan_a, &file);
    let client = Command::new("ip")
        .args(["netns", "exec", hosta, "python3", "-c"])
        .arg(format!(
            "import socket\nc = socket.create_connection(('203.0.113.10', 5001), timeout=10)\n\
             c.sendall(bytes({bytes}))\nc.close()\n"
        ))
        .status()
        .expect("python3 runs");
    assert!(client.success(), "the client sent everything");
    let out = server.wait_with_output().expect("server ends");
    let got = String::from_utf8_lossy(&out.stdout);
    assert_eq!(got.trim(), bytes.to_string(), "hostb received every byte");
    let a = status(gwa, socks[0]).expect("A answers");
    assert!(
        a["dataplane"]["tun_gso_reads"].as_u64() > Some(0),
        "gwa read TSO super-packets from its TUN device: {}",
        a["dataplane"]
    );
    let (ca, cb) = (
        child(&sa_list_json(gwa, socks[0]).expect("A answers")).expect("A's child"),
        child(&sa_list_json(gwb, socks[1]).expect("B answers")).expect("B's child"),
    );
    assert_eq!(
        counter(&ca, "out_packets"),
        counter(&cb, "in_packets"),
        "{ca} {cb}"
    );
    assert_eq!(
        counter(&cb, "out_packets"),
        counter(&ca, "in_packets"),
        "{ca} {cb}"
    );
    assert_eq!(counter(&cb, "in_drops"), 0, "{cb}");
    if let Some(cap) = capture {
        // Each ESP packet carries under 1400 bytes of TCP payload (the TUN MTU).
        let wire = cap.finish();
        eprintln!("wire: {}", wire.line());
        // No IKE runs meanwhile, so not `assert_never_plaintext`, which wants the exchange.
        assert!(
            wire.clear.is_empty() && wire.other.is_empty(),
            "only ESP on the wire: {}",
            wire.line()
        );
        let (used, unused) = if encap {
            (wire.esp_udp, wire.esp_raw)
        } else {
            (wire.esp_raw, wire.esp_udp)
        };
        assert!(used >= bytes / 1400 && unused == 0, "{}", wire.line());
        let read = |filter: &str| {
            let out = Command::new("tshark")
                .arg("-r")
                .arg(&file)
                .args(["-Y", filter])
                .output()
                .expect("tshark reads the capture");
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let big = read("frame.len > 1514 || ip.len > 1500");
        assert!(big.trim().is_empty(), "packets over the path MTU: {big}");
        let full = read("esp && ip.src == 192.0.2.1 && ip.len >= 1400");
        let n = full.lines().count();
        assert!(
            n >= bytes / 1400,
            "{n} full-size ESP packets carried {bytes} bytes"
        );
    }
}

#[test]
fn ping_through_esp_in_udp() {
    tunnel("u", true, "start");
}

#[test]
fn ping_through_raw_esp() {
    tunnel("e", false, "start");
}

#[test]
fn trap_starts_the_tunnel_and_delivers_the_first_packet() {
    tunnel("t", false, "trap");
}

/// `life_packets` is enforced by the data plane: the soft limit (90 %) makes the engine rekey
/// the child while traffic flows, and no echo is lost across the switch.
#[test]
fn packet_limit_rekeys_the_child_without_loss() {
    if !netns_tests_enabled("tunnel_netns") {
        return;
    }
    let pid = std::process::id();
    let (mut g, dir) = Guard::with_dir(&format!("rtun-{pid}-l"));
    let [hosta, gwa, gwb, _] = dual_stack_topology(&mut g, "rt", "l").0;
    let ca = gateway_config(&dir, "a", "start", false);
    // The child table is the file's last: a key appended lands in it.
    let text = std::fs::read_to_string(&ca).expect("config") + "life_packets = 40\n";
    std::fs::write(&ca, text).expect("config");
    let cb = gateway_config(&dir, "b", "none", false);
    let (sa, sb) = (dir.join("a.sock"), dir.join("b.sock"));
    spawn_daemons(&mut g, &[(&gwb, &cb, &sb), (&gwa, &ca, &sa)]);
    wait_until("A's child SA", Duration::from_secs(15), || {
        sa_list_json(&gwa, &sa).is_some_and(|a| child(&a).is_some())
    });
    let first = child(&sa_list_json(&gwa, &sa).expect("A answers")).expect("A's child");
    // 60 echoes: 60 packets out and 60 in on A's child, past the soft limit of 36.
    let out = Command::new("ip")
        .args([
            "netns", "exec", &hosta, "ping", "-c", "60", "-i", "0.02", "-W", "2",
        ])
        .arg("203.0.113.10")
        .output()
        .expect("ping runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(" 0% packet loss"),
        "no echo lost across the rekey: {text}"
    );
    let now = sa_list_json(&gwa, &sa).expect("A answers");
    let spis: Vec<String> = now["ike_sas"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|i| i["children"].as_array().into_iter().flatten())
        .filter_map(|c| c["spi_in"].as_str().map(str::to_owned))
        .collect();
    assert!(
        spis.iter()
            .any(|s| Some(s.as_str()) != first["spi_in"].as_str()),
        "a new child SA replaced {} after the packet limit: {now}",
        first["spi_in"]
    );
}
