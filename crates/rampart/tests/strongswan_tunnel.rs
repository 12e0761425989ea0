//! Traffic between `rampart run` and a real strongSwan (charon 5.9.x with kernel-libipsec): the
//! team's interop topology with hosts (hosta — gwa — gwb — hostb, `netns-up` from
//! `../shared/interop`, else `/work/shared/interop`, with a per-test prefix), strongSwan in gwb,
//! rampart in gwa, each side once the initiator. Once the child SA is up, hosta pings hostb and hostb pings hosta; both
//! rampart's ESP counters (`rampart sa list --json`) and strongSwan's CHILD_SA byte counters
//! (`swanctl --list-sas`) must show the packets went through the SAs.
//!
//! strongSwan's libipsec only does ESP in UDP (RFC 3948), so rampart's connection sets
//! `encap = true`.
//!
//! Runs only with `RAMPART_NETNS_TESTS=1` (and root); otherwise it warns and passes. Without
//! strongSwan or the scripts it is an unavailable oracle ([`rampart_testkit::unavailable`]).
// A harness waiting on real processes: the wall clock is what it needs.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rampart_testkit::interop::Interop;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_rampart");
const TEST: &str = "strongswan_tunnel";
/// charon log levels for failure reports.
const CHARON_LOG: &str = "ike=1,net=1,cfg=1,knl=2,esp=2,chd=2";

/// The interop topology with hosts, one strongSwan in gwb and `rampart run` in gwa; the daemon
/// is killed, then the topology removed, on drop (also when the test fails).
struct Tunnel {
    net: Interop,
    daemon: Option<Child>,
}

impl std::ops::Deref for Tunnel {
    type Target = Interop;
    fn deref(&self) -> &Interop {
        &self.net
    }
}

impl Tunnel {
    fn up(test: &str) -> Option<Self> {
        let net = Interop::up(test, "st", true)?;
        Some(Self { net, daemon: None })
    }

    fn socket(&self) -> PathBuf {
        self.run_dir().join("rampart.sock")
    }

    /// Starts `rampart run` in gwa with our side of the tunnel (`start` = the child's
    /// `start_action`); its stderr goes to `rampart.log` in the run dir.
    fn rampart(&mut self, start: &str) {
        let cfg = self.run_dir().join("rampart.toml");
        std::fs::write(&cfg, config(start)).expect("write rampart config");
        let log = std::fs::File::create(self.run_dir().join("rampart.log")).expect("rampart.log");
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns("gwa"), BIN, "run", "-c"])
            .arg(&cfg)
            .arg("--socket")
            .arg(self.socket())
            .env("RAMPART_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("rampart run starts");
        self.daemon = Some(child);
    }

    fn rampart_log(&self) -> String {
        std::fs::read_to_string(self.run_dir().join("rampart.log")).unwrap_or_default()
    }

    fn sa_list(&self) -> Option<Value> {
        let out = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns("gwa"),
                BIN,
                "sa",
                "list",
                "--json",
            ])
            .arg("--socket")
            .arg(self.socket())
            .output()
            .expect("rampart runs");
        out.status
            .success()
            .then(|| serde_json::from_slice(&out.stdout).ok())
            .flatten()
    }

    fn ping(&self, host: &str, dst: &str) -> bool {
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns(host),
                "ping",
                "-c",
                "3",
                "-W",
                "2",
                "-i",
                "0.2",
                dst,
            ])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Everything a failure report needs: rampart's view and log tail, charon's SAs and log.
    fn context(&self) -> String {
        let tail = |s: String, n: usize| {
            let lines: Vec<&str> = s.lines().collect();
            lines[lines.len().saturating_sub(n)..].join("\n")
        };
        format!(
            "rampart sa list: {:?}\nrampart.log (tail):\n{}\nswanctl --list-sas:\n{}\ncharon.log (tail):\n{}",
            self.sa_list(),
            tail(self.rampart_log(), 40),
            self.swanctl(&["--list-sas"]),
            tail(self.charon_log(), 60)
        )
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        // Before the topology (a field) goes: the daemon runs inside its namespace.
        if let Some(d) = &mut self.daemon {
            let _ = d.kill();
            let _ = d.wait();
        }
    }
}

/// Our side, matching `strongswan-peer`'s defaults (ids are the addresses, PSK
/// `ipx-interop-psk`, IKE `aes128gcm16-prfsha256-x25519`, ESP `aes128gcm16`); ESP in UDP.
fn config(start: &str) -> String {
    format!(
        r#"[[secrets]]
ids = ["192.0.2.1", "192.0.2.2"]
psk = "ipx-interop-psk"

[[connections]]
name = "ipx"
local_addrs = ["192.0.2.1"]
remote_addrs = ["192.0.2.2"]
proposals = ["aes128gcm16-prfsha256-x25519"]
encap = true
local = {{ auth = "psk", id = "192.0.2.1" }}
remote = {{ auth = "psk", id = "192.0.2.2" }}

[[connections.children]]
name = "net"
local_ts = ["198.51.100.0/24"]
remote_ts = ["203.0.113.0/24"]
esp_proposals = ["aes128gcm16"]
mode = "tunnel"
start_action = "{start}"
"#
    )
}

/// Child `net` under an established IKE SA, if there is one.
fn child(s: &Value) -> Option<Value> {
    let ike = s["ike_sas"]
        .as_array()?
        .iter()
        .find(|i| i["state"] == "established")?;
    ike["children"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == "net")
        .cloned()
}

fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
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

/// Both ways through the tunnel, then rampart's and strongSwan's counters.
fn ping_both_ways(net: &Tunnel) {
    assert!(
        wait_until(Duration::from_secs(20), || net
            .sa_list()
            .is_some_and(|s| child(&s).is_some())),
        "no child SA in rampart\n{}",
        net.context()
    );
    // charon installs its CHILD_SA (and libipsec its route) a moment after IKE_AUTH.
    assert!(
        wait_until(Duration::from_secs(5), || net
            .swanctl(&["--list-sas"])
            .contains("INSTALLED")),
        "no CHILD_SA installed in strongSwan\n{}",
        net.context()
    );
    let c = child(&net.sa_list().expect("rampart answers")).expect("rampart's child");
    assert!(
        !c["udp_encap"].is_null(),
        "ESP in UDP towards strongSwan: {c}"
    );

    assert!(
        net.ping("hosta", "203.0.113.10"),
        "hosta cannot ping hostb through the tunnel\n{}",
        net.context()
    );
    assert!(
        net.ping("hostb", "198.51.100.10"),
        "hostb cannot ping hosta through the tunnel\n{}",
        net.context()
    );

    let c = child(&net.sa_list().expect("rampart answers")).expect("rampart's child");
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
}

/// rampart initiates (`start_action = "start"`) to strongSwan as the responder.
#[test]
fn ping_rampart_initiator_to_strongswan_responder() {
    let Some(mut net) = Tunnel::up(TEST) else {
        return;
    };
    net.strongswan(CHARON_LOG, &["--role", "responder"]);
    // Without the tunnel the far LAN is unreachable: the gateways have no route to it.
    assert!(
        !net.ping("hosta", "203.0.113.10"),
        "no route before the tunnel"
    );
    net.rampart("start");
    ping_both_ways(&net);
}

/// strongSwan initiates (`--role initiator`) to rampart as the responder.
#[test]
fn ping_strongswan_initiator_to_rampart_responder() {
    let Some(mut net) = Tunnel::up(TEST) else {
        return;
    };
    net.rampart("none");
    assert!(
        wait_until(Duration::from_secs(10), || net.sa_list().is_some()),
        "rampart's control socket does not answer\n{}",
        net.context()
    );
    // The script initiates the child and waits for it.
    net.strongswan(CHARON_LOG, &["--role", "initiator", "--timeout", "15"]);
    ping_both_ways(&net);
}
