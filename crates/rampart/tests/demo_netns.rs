//! `rampart demo` end to end: it exits 0 after a ping with no loss through the tunnel, prints
//! the SA listing with nonzero ESP counters and the policy listing, and leaves nothing behind —
//! no namespace, no daemon, no scratch directory. Interrupted with SIGINT while `--keep` holds
//! the tunnel up, or with SIGTERM in the middle, it tears down just the same. Without root or
//! `ip` it says so and exits 2.
//!
//! Needs root, `ip` and `ping`: runs only with `RAMPART_NETNS_TESTS=1`, otherwise warns and
//! passes.
// A harness waiting on real processes: the wall clock is what it needs.
#![allow(clippy::disallowed_methods)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

mod common;
use common::{BIN, netns_tests_enabled};

/// Asserts that nothing of the demo with PID `pid` is left: its namespaces, its scratch
/// directory, and any process whose command line names that directory (its daemons).
fn assert_clean(pid: u32) {
    let tag = format!("rampart-demo-{pid}");
    let netns = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip runs");
    let netns = String::from_utf8_lossy(&netns.stdout);
    for side in ["a", "b"] {
        let ns = format!("rampart-demo-{side}-{pid}");
        assert!(
            !netns
                .lines()
                .any(|l| l.split_whitespace().next() == Some(&ns)),
            "namespace {ns} left behind: {netns}"
        );
    }
    let dir = std::env::temp_dir().join(&tag);
    assert!(!dir.exists(), "{} left behind", dir.display());
    let mut left = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if String::from_utf8_lossy(&cmdline).contains(&tag) {
            left.push(entry.file_name());
        }
    }
    assert!(left.is_empty(), "processes of the demo left: {left:?}");
}

/// A counter value `NAME N` in a line like `in 4 packets, 336 bytes (0 dropped); out 4 ...`.
fn packets(line: &str, dir: &str) -> Option<u64> {
    let rest = line.split(&format!("{dir} ")).nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

#[test]
fn demo_pings_through_the_tunnel_and_cleans_up() {
    if !netns_tests_enabled("demo_netns") {
        return;
    }
    let out = Command::new(BIN)
        .arg("demo")
        .stdin(Stdio::null())
        .output()
        .expect("rampart demo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "demo failed: {:?}\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("4 packets transmitted, 4 received, 0% packet loss"),
        "ping summary: {stdout}"
    );
    // Both gateways' child SA with its SPIs and counters: at least the 4 echoes each way.
    let children: Vec<&str> = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("net: tunnel SPIs"))
        .collect();
    assert_eq!(children.len(), 2, "two child SA lines: {stdout}");
    let counters: Vec<&str> = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("in ") && l.contains("packets"))
        .collect();
    assert_eq!(counters.len(), 2, "two counter lines: {stdout}");
    for c in &counters {
        assert!(packets(c, "in").is_some_and(|n| n >= 4), "{c}");
        assert!(packets(c, "out").is_some_and(|n| n >= 4), "{c}");
        assert!(c.contains("(0 dropped)"), "{c}");
    }
    assert!(
        stdout.contains("198.51.100.0/24 === 203.0.113.0/24"),
        "{stdout}"
    );
    // The policy listing of gateway A.
    assert!(stdout.contains("site/net/out"), "{stdout}");
    assert!(stdout.contains("PROTECT esp/tunnel"), "{stdout}");
    assert!(stdout.contains("(anything else: DISCARD)"), "{stdout}");
    assert_clean(out_pid(&stdout));
}

/// The demo's PID, from its scratch directory's name in its output.
fn out_pid(stdout: &str) -> u32 {
    stdout
        .split("rampart-demo-a-")
        .nth(1)
        .and_then(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .unwrap_or_else(|| panic!("no namespace name in the output: {stdout}"))
}

#[test]
fn sigint_tears_the_kept_demo_down() {
    if !netns_tests_enabled("demo_netns") {
        return;
    }
    let (mut child, rx, reader) = spawn_demo(&["--keep", "--mode", "udp"], "Press Ctrl-C");
    let pid = child.id();
    let ready = rx.recv_timeout(Duration::from_secs(40));
    // While it waits, the tunnel is there: its namespaces exist.
    let netns = Command::new("ip").args(["netns", "list"]).output();
    let st = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(st.success());
    let status = child.wait().expect("demo exits");
    let out = reader.join().expect("reader thread");
    assert!(ready.is_ok(), "the demo never got to waiting: {out}");
    let netns = String::from_utf8_lossy(&netns.expect("ip runs").stdout).into_owned();
    assert!(
        netns.contains(&format!("rampart-demo-a-{pid}")),
        "namespace up while kept: {netns}"
    );
    assert!(out.contains("udp-encap"), "ESP-in-UDP child: {out}");
    assert!(
        status.success(),
        "Ctrl-C ends --keep normally: {status:?}\n{out}"
    );
    assert!(out.contains("interrupted by SIGINT"), "{out}");
    assert!(
        out.contains(&format!("deleted namespace rampart-demo-a-{pid}")),
        "{out}"
    );
    assert_clean(pid);
}

/// Runs `rampart demo` as a child; returns it and a channel that yields once a stdout line
/// contains `marker`, plus the reader thread that collects all of stdout.
fn spawn_demo(
    args: &[&str],
    marker: &'static str,
) -> (
    std::process::Child,
    mpsc::Receiver<()>,
    std::thread::JoinHandle<String>,
) {
    let mut child = Command::new(BIN)
        .arg("demo")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rampart demo starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains(marker) {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    (child, rx, reader)
}

/// SIGTERM while the ping runs: the demo stops the ping, tears down and exits 130.
#[test]
fn sigterm_mid_demo_tears_down() {
    if !netns_tests_enabled("demo_netns") {
        return;
    }
    let (mut child, rx, reader) = spawn_demo(&[], "[5/6] Traffic");
    let pid = child.id();
    let ready = rx.recv_timeout(Duration::from_secs(40));
    let st = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(st.success());
    let status = child.wait().expect("demo exits");
    let out = reader.join().expect("reader thread");
    assert!(ready.is_ok(), "the demo never got to the ping: {out}");
    assert_eq!(status.code(), Some(130), "{out}");
    assert!(out.contains("Tearing down:"), "{out}");
    assert!(!out.contains("[6/6]"), "stopped before the listings: {out}");
    assert_clean(pid);
}

/// Without root, or without `ip`/`ping`, the demo says what is missing and exits 2 before
/// touching anything.
#[test]
fn demo_says_what_it_needs() {
    let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1).map(|e| e == "0"))
            .unwrap_or(false)
    });
    let unprivileged = if root {
        // As root: drop to nobody with setpriv (util-linux) when it is there.
        Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                BIN,
                "demo",
            ])
            .output()
            .ok()
    } else {
        Command::new(BIN).arg("demo").output().ok()
    };
    match unprivileged {
        Some(out) => {
            assert_eq!(out.status.code(), Some(2), "{out:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("must run as root"), "{err}");
        }
        None => eprintln!("warning: setpriv not found: skipping the non-root check"),
    }
    if root {
        let out = Command::new(BIN)
            .arg("demo")
            .env("PATH", "/nonexistent")
            .output()
            .expect("rampart runs");
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("needs `ip`") && err.contains("iproute2"),
            "{err}"
        );
    }
}
