//! Key export against an independent oracle: two `rampart run` daemons in two namespaces set up
//! a PSK tunnel while tshark captures their link; a ping crosses it; `rampart sa export
//! --wireshark` on gateway A (`allow_key_export = true`) writes Wireshark's decryption tables,
//! and tshark, reading the capture with those files as its configuration, shows the ICMP echo
//! requests and replies inside the ESP packets and the identities inside the encrypted
//! IKE_AUTH — and shows neither without them. Gateway B keeps key export off and refuses it.
//! Once with raw ESP, once with ESP-in-UDP.
//!
//! Needs root, `ip` and `ping` (`RAMPART_NETNS_TESTS=1`) and tshark (skipped with a warning
//! without it, unless `RAMPART_REQUIRE_ORACLES=1`).
// A harness waiting on real processes: the wall clock is what it needs.
#![allow(clippy::disallowed_methods)]

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

mod common;
use common::{BIN, Guard, gateway_config, ip, netns_tests_enabled, wait_until};

/// Two namespaces joined by a veth pair, 192.0.2.1 (A) — 192.0.2.2 (B), with the LAN addresses
/// 198.51.100.1 (A) and 203.0.113.1 (B) on their loopbacks. Returns the namespaces and A's veth.
fn topology(g: &mut Guard, tag: &str) -> (String, String, String) {
    let pid = std::process::id();
    let (a, b) = (format!("rkx-{pid}-{tag}-a"), format!("rkx-{pid}-{tag}-b"));
    for ns in [&a, &b] {
        ip(&["netns", "add", ns]);
        g.namespaces.push(ns.clone());
        ip(&["-n", ns, "link", "set", "lo", "up"]);
    }
    let (da, db) = (format!("rkx{pid}{tag}a"), format!("rkx{pid}{tag}b"));
    ip(&[
        "link", "add", &da, "netns", &a, "type", "veth", "peer", "name", &db, "netns", &b,
    ]);
    for (ns, dev, wan, lan) in [
        (&a, &da, "192.0.2.1/24", "198.51.100.1/32"),
        (&b, &db, "192.0.2.2/24", "203.0.113.1/32"),
    ] {
        ip(&["-n", ns, "addr", "add", wan, "dev", dev]);
        ip(&["-n", ns, "link", "set", dev, "up"]);
        ip(&["-n", ns, "addr", "add", lan, "dev", "lo"]);
    }
    (a, b, da)
}

fn rampart(args: &[&str], sock: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--socket")
        .arg(sock)
        .output()
        .expect("rampart runs")
}

/// Whether child `net` is up under an established IKE SA.
fn child_up(sock: &Path) -> bool {
    let out = rampart(&["sa", "list", "--json"], sock);
    let Ok(v) = serde_json::from_slice::<Value>(&out.stdout) else {
        return false;
    };
    v["ike_sas"].as_array().is_some_and(|l| {
        l.iter().any(|i| {
            i["state"] == "established"
                && i["children"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c["name"] == "net"))
        })
    })
}

/// tshark reading `pcap` with `conf` as its configuration home (`conf/wireshark/...`).
fn tshark(pcap: &Path, conf: &Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .env("HOME", conf)
        .env("XDG_CONFIG_HOME", conf)
        .args(["-o", "esp.enable_encryption_decode:TRUE", "-r"])
        .arg(pcap)
        .args(args)
        .output()
        .expect("tshark runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn lines(s: &str) -> usize {
    s.lines().filter(|l| !l.trim().is_empty()).count()
}

fn export(tag: &str, encap: bool) {
    if !netns_tests_enabled("key_export_netns") {
        return;
    }
    if Command::new("tshark").arg("-v").output().is_err() {
        assert_ne!(
            std::env::var("RAMPART_REQUIRE_ORACLES").as_deref(),
            Ok("1"),
            "tshark is required"
        );
        eprintln!("warning: tshark not found: skipping key_export_netns");
        return;
    }
    let (mut g, dir) = Guard::with_dir(&format!("rkx-{}-{tag}", std::process::id()));
    let (a, b, dev) = topology(&mut g, tag);

    // The capture starts before IKE_SA_INIT, so that it holds the whole IKE exchange.
    let pcap = dir.join("wan.pcap");
    let capture = capture(&a, &dev, &pcap);
    g.daemons.push(capture);

    let ca = gateway_config(&dir, "a", "start", encap);
    let cb = gateway_config(&dir, "b", "none", false);
    let text = std::fs::read_to_string(&ca).expect("A's config");
    std::fs::write(&ca, format!("[daemon]\nallow_key_export = true\n\n{text}")).expect("write");
    let (sa, sb) = (dir.join("a.sock"), dir.join("b.sock"));
    for (ns, cfg, sock) in [(&b, &cb, &sb), (&a, &ca, &sa)] {
        let d = Command::new("ip")
            .args(["netns", "exec", ns, BIN, "run", "-c"])
            .arg(cfg)
            .arg("--socket")
            .arg(sock)
            .stdin(Stdio::null())
            .spawn()
            .expect("rampart run starts");
        g.daemons.push(d);
    }
    wait_until(
        "the child SA on both sides",
        Duration::from_secs(15),
        || child_up(&sa) && child_up(&sb),
    );
    let st = Command::new("ip")
        .args([
            "netns", "exec", &a, "ping", "-c", "3", "-i", "0.2", "-W", "2",
        ])
        .args(["-I", "198.51.100.1", "203.0.113.1"])
        .stdout(Stdio::null())
        .status()
        .expect("ping runs");
    assert!(st.success(), "ping through the tunnel");

    // B has key export off: refused, with the fix in the message, and nothing written.
    let refused = rampart(
        &[
            "sa",
            "export",
            "--wireshark",
            &dir.join("b-keys").display().to_string(),
        ],
        &sb,
    );
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let msg = String::from_utf8_lossy(&refused.stderr);
    assert!(
        msg.contains("key export is disabled") && msg.contains("allow_key_export = true"),
        "{msg}"
    );
    assert!(!dir.join("b-keys").exists());

    // A exports into CONF/wireshark, where tshark looks for its decryption tables.
    let conf = dir.join("conf");
    let keys = conf.join("wireshark");
    let out = rampart(
        &["sa", "export", "--wireshark", &keys.display().to_string()],
        &sa,
    );
    assert!(out.status.success(), "export: {out:?}");
    stop_capture(&mut g);

    let esp = std::fs::read_to_string(keys.join("esp_sa")).expect("esp_sa");
    let records = esp.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(records, 2, "both directions of the child SA: {esp}");
    let echo = "icmp.type == 8 && ip.src == 198.51.100.1 && ip.dst == 203.0.113.1";
    let reply = "icmp.type == 0 && ip.src == 203.0.113.1 && ip.dst == 198.51.100.1";
    let fields = ["-T", "fields", "-e", "esp.spi", "-e", "ip.src"];
    let with = |filter: &str| tshark(&pcap, &conf, &[&["-Y", filter][..], &fields[..]].concat());
    let requests = with(echo);
    let replies = with(reply);
    assert!(
        lines(&requests) >= 3,
        "echo requests decrypted: {requests}\n{esp}"
    );
    assert!(
        lines(&replies) >= 3,
        "echo replies decrypted: {replies}\n{esp}"
    );
    // Each decrypted frame is ESP (outer 192.0.2.x) around the inner packet.
    for l in requests.lines().chain(replies.lines()) {
        assert!(l.contains("192.0.2."), "outer header in {l}");
    }
    if encap {
        let udp = with(&format!("udp.port == 4500 && {echo}"));
        assert!(lines(&udp) >= 3, "ESP-in-UDP decrypted: {udp}");
    }

    // IKE_AUTH (exchange type 35) decrypted with the IKEv2 table: the identities show.
    let auth = tshark(&pcap, &conf, &["-Y", "isakmp.exchangetype == 35", "-V"]);
    assert!(
        auth.contains("gw-a.test") && auth.contains("gw-b.test"),
        "IKE_AUTH identities decrypted: {auth}"
    );

    // Without the tables, tshark sees neither.
    let empty = dir.join("empty");
    std::fs::create_dir_all(empty.join("wireshark")).expect("empty conf");
    assert_eq!(lines(&tshark(&pcap, &empty, &["-Y", echo])), 0);
    let auth = tshark(&pcap, &empty, &["-Y", "isakmp.exchangetype == 35", "-V"]);
    assert!(!auth.is_empty() && !auth.contains("gw-a.test"), "{auth}");
}

/// tshark capturing on `dev` in namespace `ns` into `file`, until stopped.
fn capture(ns: &str, dev: &str, file: &Path) -> Child {
    let child = Command::new("ip")
        .args(["netns", "exec", ns, "tshark", "-q", "-i", dev, "-w"])
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tshark starts");
    // dumpcap needs a moment before it captures.
    std::thread::sleep(Duration::from_millis(1500));
    child
}

/// Stops the capture (the guard's first "daemon") with SIGINT so that it flushes its file.
fn stop_capture(g: &mut Guard) {
    let c = &mut g.daemons[0];
    std::thread::sleep(Duration::from_millis(300));
    let _ = Command::new("kill")
        .args(["-INT", &c.id().to_string()])
        .status();
    let _ = c.wait();
}

#[test]
fn tshark_decrypts_raw_esp_and_ike_with_exported_keys() {
    export("e", false);
}

#[test]
fn tshark_decrypts_esp_in_udp_with_exported_keys() {
    export("u", true);
}
