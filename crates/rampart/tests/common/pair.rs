//! Two gateways in two network namespaces for the DPD and reload tests (`dpd_netns.rs`,
//! `reload_netns.rs`): A (192.0.2.1) and B (192.0.2.2) joined by a veth pair, each with "LAN"
//! addresses on its loopback device — A 198.51.100.1 and 198.51.101.1, B 203.0.113.1 and
//! 203.0.114.1 — that only rampart's TUN routes reach, so a ping from one LAN address to the
//! other's goes through the child SA or nowhere. Included with `#[path]` next to `common`.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::common::{BIN, Guard, ip};

/// The two namespaces, their daemons and scratch files.
pub(crate) struct Pair {
    pub(crate) guard: Guard,
    /// Namespace names, A then B.
    pub(crate) ns: [String; 2],
    pub(crate) dir: PathBuf,
}

/// The secret both sides share.
pub(crate) const SECRETS: &str = r#"[[secrets]]
ids = ["gw-a.test", "gw-b.test"]
psk = "rampart netns test key 0123456789"
"#;

/// A's connection `site` (child `net`, 198.51.100.0/24 === 203.0.113.0/24, started at once) with
/// `extra` lines in the connection (e.g. `dpd_delay = "1s"`).
pub(crate) fn a_site(extra: &str) -> String {
    format!(
        r#"
[[connections]]
name = "site"
local_addrs = ["192.0.2.1"]
remote_addrs = ["192.0.2.2"]
local = {{ auth = "psk", id = "gw-a.test" }}
remote = {{ auth = "psk", id = "gw-b.test" }}
{extra}

[[connections.children]]
name = "net"
local_ts = ["198.51.100.0/24"]
remote_ts = ["203.0.113.0/24"]
start_action = "start"
"#
    )
}

/// B's connection `site`: responder for A's children `net` and `net2`.
pub(crate) const B_SITE: &str = r#"
[[connections]]
name = "site"
local_addrs = ["192.0.2.2"]
remote_addrs = ["192.0.2.1"]
local = { auth = "psk", id = "gw-b.test" }
remote = { auth = "psk", id = "gw-a.test" }

[[connections.children]]
name = "net"
local_ts = ["203.0.113.0/24"]
remote_ts = ["198.51.100.0/24"]

[[connections.children]]
name = "net2"
local_ts = ["203.0.114.0/24"]
remote_ts = ["198.51.101.0/24"]
"#;

/// The `[daemon]` table of the tests: a short retransmission schedule (0.5 s, 1 s, give up
/// 2 s later: a silent peer is dead 3.5 s after the first unanswered request).
pub(crate) const FAST_DAEMON: &str = r#"[daemon]
retransmit_timeout = "500ms"
retransmit_tries = 3
"#;

impl Pair {
    /// Builds the namespaces (call it only when `netns_tests_enabled`).
    pub(crate) fn new(tag: &str) -> Self {
        let pid = std::process::id();
        let (mut guard, dir) = Guard::with_dir(&format!("rpair-{pid}-{tag}"));
        let ns = ["a", "b"].map(|s| format!("rpair-{pid}-{tag}-{s}"));
        for n in &ns {
            ip(&["netns", "add", n]);
            guard.namespaces.push(n.clone());
            ip(&["-n", n, "link", "set", "lo", "up"]);
            for kv in [
                "net.ipv4.conf.all.rp_filter=0",
                "net.ipv4.conf.default.rp_filter=0",
            ] {
                let st = Command::new("ip")
                    .args(["netns", "exec", n, "sysctl", "-qw", kv])
                    .status()
                    .expect("sysctl runs");
                assert!(st.success(), "sysctl {kv}");
            }
        }
        let (va, vb) = (format!("rp{pid}{tag}a"), format!("rp{pid}{tag}b"));
        ip(&[
            "link", "add", &va, "netns", &ns[0], "type", "veth", "peer", "name", &vb, "netns",
            &ns[1],
        ]);
        let sides = [
            (
                &ns[0],
                &va,
                "192.0.2.1/24",
                ["198.51.100.1/32", "198.51.101.1/32"],
            ),
            (
                &ns[1],
                &vb,
                "192.0.2.2/24",
                ["203.0.113.1/32", "203.0.114.1/32"],
            ),
        ];
        for (n, dev, addr, lans) in sides {
            ip(&["-n", n, "addr", "add", addr, "dev", dev]);
            ip(&["-n", n, "link", "set", dev, "up"]);
            for lan in lans {
                ip(&["-n", n, "addr", "add", lan, "dev", "lo"]);
            }
        }
        Self { guard, ns, dir }
    }

    /// The control socket of side 0 (A) or 1 (B).
    pub(crate) fn sock(&self, side: usize) -> PathBuf {
        self.dir.join(format!("{side}.sock"))
    }

    /// The configuration file of `side`.
    pub(crate) fn config_path(&self, side: usize) -> PathBuf {
        self.dir.join(format!("{}.toml", ["a", "b"][side]))
    }

    /// The daemon log (stderr) of `side`.
    pub(crate) fn log_path(&self, side: usize) -> PathBuf {
        self.dir.join(format!("{side}.log"))
    }

    /// Writes `side`'s configuration file.
    pub(crate) fn write_config(&self, side: usize, text: &str) {
        std::fs::write(self.config_path(side), text).expect("write config");
    }

    /// Starts `side`'s daemon on its configuration file; returns its index in the guard (its
    /// PID is the `Child`'s: `ip netns exec` execs the command).
    pub(crate) fn start(&mut self, side: usize) -> usize {
        let log = std::fs::File::create(self.log_path(side)).expect("log file");
        let child: Child = Command::new("ip")
            .args(["netns", "exec", &self.ns[side], BIN, "run", "-c"])
            .arg(self.config_path(side))
            .arg("--socket")
            .arg(self.sock(side))
            .env("RAMPART_LOG", "debug")
            .stdin(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("rampart run starts");
        self.guard.daemons.push(child);
        self.guard.daemons.len() - 1
    }

    /// The PID of daemon `index` (as [`Pair::start`] returned it).
    pub(crate) fn pid(&self, index: usize) -> String {
        self.guard.daemons[index].id().to_string()
    }

    /// Sends `signal` (`"STOP"`, `"CONT"`, `"HUP"`, ...) to daemon `index`.
    pub(crate) fn signal(&self, index: usize, signal: &str) {
        let pid = self.pid(index);
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        assert_eq!(comm.trim(), "rampart", "PID {pid} is the daemon itself");
        let st = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("kill runs");
        assert!(st.success(), "kill -{signal} {pid}");
    }

    /// Runs `rampart ARGS --socket SOCK` in `side`'s namespace: (exit code, stdout, stderr).
    pub(crate) fn ctl(&self, side: usize, args: &[&str]) -> (i32, String, String) {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.ns[side], BIN])
            .args(args)
            .arg("--socket")
            .arg(self.sock(side))
            .output()
            .expect("rampart runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `status --json` of `side`, if the daemon answers.
    pub(crate) fn status(&self, side: usize) -> Option<Value> {
        let (code, out, _) = self.ctl(side, &["status", "--json"]);
        (code == 0)
            .then(|| serde_json::from_str(&out).ok())
            .flatten()
    }

    /// Pings `dst` from `src` in `side`'s namespace (3 echoes, 1 s timeout each).
    pub(crate) fn ping(&self, side: usize, src: &str, dst: &str) -> bool {
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns[side],
                "ping",
                "-c",
                "3",
                "-W",
                "1",
            ])
            .args(["-i", "0.2", "-I", src, dst])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Polls `f` every 100 ms until it holds; after `timeout` panics with both daemons' logs.
    pub(crate) fn wait(&self, what: &str, timeout: Duration, mut f: impl FnMut(&Self) -> bool) {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if f(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "timed out waiting for {what}\n--- A's log:\n{}\n--- B's log:\n{}",
            self.log(0),
            self.log(1)
        );
    }

    /// `side`'s daemon log so far.
    pub(crate) fn log(&self, side: usize) -> String {
        std::fs::read_to_string(self.log_path(side)).unwrap_or_default()
    }
}

/// The established IKE SA of connection `conn` in a status answer, if there is one.
pub(crate) fn established<'a>(status: &'a Value, conn: &str) -> Option<&'a Value> {
    status["ike_sas"]
        .as_array()?
        .iter()
        .find(|i| i["name"] == conn && i["state"] == "established")
}

/// (IKE spi_i, spi_r, child spi_in, spi_out) of connection `conn`'s child `child`, if both are
/// up.
pub(crate) fn spis(status: &Value, conn: &str, child: &str) -> Option<[String; 4]> {
    let ike = established(status, conn)?;
    let c = ike["children"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == child)?;
    let s = |v: &Value| v.as_str().map(str::to_owned);
    Some([
        s(&ike["spi_i"])?,
        s(&ike["spi_r"])?,
        s(&c["spi_in"])?,
        s(&c["spi_out"])?,
    ])
}
