//! The interop topology (`rampart_testkit::interop`: hosta — gwa — [NAT] — gwb — hostb, one
//! namespace prefix per test) with `rampart run` in either gateway and strongSwan in gwb: our
//! side's configuration, the control socket as JSON, ping and iperf3 between the hosts, and a
//! failure report with every daemon's view and log tail.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use rampart_testkit::interop::Interop;
use rampart_testkit::unavailable;
use serde_json::Value;

use super::wire::WireCapture;
use super::{BIN, wait_until};

/// charon's log levels for failure reports.
pub(crate) const CHARON_LOG: &str = "ike=1,net=1,cfg=1,knl=1,esp=1,chd=2";

/// How a rampart gateway authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// PSK `ipx-interop-psk`, ids = the addresses 192.0.2.1 / 192.0.2.2 (strongswan-peer's
    /// defaults).
    Psk,
    /// ECDSA certificates from the topology's `make-pki` CA, ids `gwa.ipx.example` /
    /// `gwb.ipx.example` (strongswan-peer's `--auth pubkey` defaults).
    Pubkey,
}

/// One rampart gateway's configuration.
#[derive(Debug, Clone)]
pub(crate) struct Side {
    /// `"gwa"` or `"gwb"`.
    pub(crate) gw: &'static str,
    /// How both ends authenticate.
    pub(crate) auth: Auth,
    /// The child's `start_action`.
    pub(crate) start: &'static str,
    /// `encap = true`: ESP in UDP even without a NAT (strongSwan's libipsec needs it).
    pub(crate) encap: bool,
    /// Extra lines of the `[[connections]]` table (`dpd_delay = "2s"`).
    pub(crate) conn_extra: String,
    /// Extra lines of the child's table (`rekey_time = "4s"`).
    pub(crate) child_extra: String,
    /// Lines of a `[daemon]` table (`retransmit_timeout = "250ms"`); none when empty.
    pub(crate) daemon_extra: String,
}

impl Side {
    /// Gateway `gw` with PSK, `start_action = start`, no forced encapsulation.
    pub(crate) fn new(gw: &'static str, start: &'static str) -> Self {
        Self {
            gw,
            auth: Auth::Psk,
            start,
            encap: false,
            conn_extra: String::new(),
            child_extra: String::new(),
            daemon_extra: String::new(),
        }
    }
}

/// A running `rampart run`.
struct Daemon {
    gw: &'static str,
    child: Child,
}

/// The topology and the daemons in it; on drop the daemons are killed (by PID), then charon
/// stopped and the namespaces removed (also when the test fails).
pub(crate) struct Net {
    daemons: Vec<Daemon>,
    nat: bool,
    // Last: dropped after the daemons that run in its namespaces.
    interop: Interop,
}

impl std::ops::Deref for Net {
    type Target = Interop;
    fn deref(&self) -> &Interop {
        &self.interop
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for d in &mut self.daemons {
            let _ = d.child.kill();
            let _ = d.child.wait();
        }
    }
}

impl Net {
    /// The topology with hosts (`nat`: gwa behind the NAT box) for `test`, or `None` when
    /// root-only tests are off (see [`Interop::up`]).
    pub(crate) fn up(test: &str, tag: &str, nat: bool) -> Option<Self> {
        let args: &[&str] = if nat { &["--nat"] } else { &[] };
        let interop = Interop::up_with(test, tag, args)?;
        Some(Self {
            daemons: Vec::new(),
            nat,
            interop,
        })
    }

    /// gwa's own WAN address (behind the NAT: its private one).
    pub(crate) fn gwa_addr(&self) -> &'static str {
        if self.nat { "192.0.2.129" } else { "192.0.2.1" }
    }

    /// The control socket of rampart in `gw`.
    pub(crate) fn socket(&self, gw: &str) -> PathBuf {
        self.run_dir().join(format!("{gw}.sock"))
    }

    fn log_path(&self, gw: &str) -> PathBuf {
        self.run_dir().join(format!("{gw}.rampart.log"))
    }

    /// Our configuration for `side` (making its certificate first for [`Auth::Pubkey`]).
    pub(crate) fn config(&self, side: &Side) -> String {
        let a = side.gw == "gwa";
        let (local, remote) = if a {
            (self.gwa_addr(), "192.0.2.2")
        } else {
            ("192.0.2.2", "192.0.2.1")
        };
        let (lts, rts) = if a {
            ("198.51.100.0/24", "203.0.113.0/24")
        } else {
            ("203.0.113.0/24", "198.51.100.0/24")
        };
        let (local_auth, remote_auth) = self.auth_tables(side);
        let daemon = if side.daemon_extra.is_empty() {
            String::new()
        } else {
            format!("[daemon]\n{}\n\n", side.daemon_extra)
        };
        format!(
            r#"{daemon}[[secrets]]
ids = ["192.0.2.1", "192.0.2.2"]
psk = "ipx-interop-psk"

[[connections]]
name = "ipx"
local_addrs = ["{local}"]
remote_addrs = ["{remote}"]
proposals = ["aes128gcm16-prfsha256-x25519"]
encap = {encap}
local = {local_auth}
remote = {remote_auth}
{conn_extra}

[[connections.children]]
name = "net"
local_ts = ["{lts}"]
remote_ts = ["{rts}"]
esp_proposals = ["aes128gcm16"]
mode = "tunnel"
start_action = "{start}"
{child_extra}
"#,
            encap = side.encap,
            start = side.start,
            conn_extra = side.conn_extra,
            child_extra = side.child_extra,
        )
    }

    /// The `local = {...}` and `remote = {...}` tables of `side` (for [`Auth::Pubkey`], after
    /// making its key and certificate in the shared PKI dir).
    fn auth_tables(&self, side: &Side) -> (String, String) {
        let a = side.gw == "gwa";
        if side.auth == Auth::Psk {
            let (lid, rid) = if a {
                ("192.0.2.1", "192.0.2.2")
            } else {
                ("192.0.2.2", "192.0.2.1")
            };
            return (
                format!(r#"{{ auth = "psk", id = "{lid}" }}"#),
                format!(r#"{{ auth = "psk", id = "{rid}" }}"#),
            );
        }
        let (me, peer, ip) = if a {
            ("gwa.ipx.example", "gwb.ipx.example", "192.0.2.1")
        } else {
            ("gwb.ipx.example", "gwa.ipx.example", "192.0.2.2")
        };
        let pki = self.run_dir().join("pki");
        let dir = pki.to_str().expect("utf-8 path");
        self.script(&["make-pki", "--dir", dir, "--ip", ip, me]);
        (
            format!(
                r#"{{ auth = "pubkey", id = "{me}", cert = "{dir}/{me}.crt", key = "{dir}/{me}.pk8.pem" }}"#
            ),
            format!(r#"{{ auth = "pubkey", id = "{peer}", cacerts = ["{dir}/ca.crt"] }}"#),
        )
    }

    /// Starts `rampart run` for `side` in its gateway and waits until its control socket
    /// answers; its stderr (debug log) goes to `GW.rampart.log` in the run dir.
    pub(crate) fn rampart(&mut self, side: &Side) {
        let cfg = self.run_dir().join(format!("{}.toml", side.gw));
        std::fs::write(&cfg, self.config(side)).expect("write rampart config");
        let log = std::fs::File::create(self.log_path(side.gw)).expect("rampart log");
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns(side.gw), BIN, "run", "-c"])
            .arg(&cfg)
            .arg("--socket")
            .arg(self.socket(side.gw))
            .env("RAMPART_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("rampart run starts");
        self.daemons.push(Daemon { gw: side.gw, child });
        let gw = side.gw;
        let end = Instant::now() + Duration::from_secs(10);
        while self.sa_list(gw).is_none() {
            assert!(
                Instant::now() < end,
                "rampart in {gw} does not answer\n{}",
                self.context()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILLs rampart in `gw` (by its PID); the time it died.
    pub(crate) fn kill_rampart(&mut self, gw: &str) -> Instant {
        let d = self
            .daemons
            .iter_mut()
            .find(|d| d.gw == gw)
            .expect("a rampart runs there");
        d.child.kill().expect("SIGKILL rampart");
        let _ = d.child.wait();
        Instant::now()
    }

    /// `rampart ARGS --json` against rampart in `gw`, when it answers.
    pub(crate) fn ctl(&self, gw: &str, args: &[&str]) -> Option<Value> {
        super::ctl_json(&self.ns(gw), &self.socket(gw), args)
    }

    /// `rampart sa list --json` in `gw`.
    pub(crate) fn sa_list(&self, gw: &str) -> Option<Value> {
        self.ctl(gw, &["sa", "list"])
    }

    /// Child `net` under an established IKE SA in `gw`, with its IKE SA.
    pub(crate) fn child(&self, gw: &str) -> Option<(Value, Value)> {
        established_child(&self.sa_list(gw)?)
    }

    /// Waits (20 s) for child `net` in `gw`; panics with the context.
    pub(crate) fn wait_child(&self, gw: &str) -> (Value, Value) {
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(c) = self.child(gw) {
                return c;
            }
            assert!(
                Instant::now() < end,
                "no child SA in {gw}\n{}",
                self.context()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits (5 s) for charon to install its CHILD_SA (libipsec's route follows IKE_AUTH).
    pub(crate) fn wait_strongswan_child(&self) {
        wait_until("strongSwan's CHILD_SA", Duration::from_secs(5), || {
            self.swanctl(&["--list-sas"]).contains("INSTALLED")
        });
    }

    /// Starts a capture on `gw`'s `wan0`, the link towards the other gateway (gwb's is the one
    /// outside the NAT box).
    pub(crate) fn capture(&self, gw: &str) -> Option<WireCapture> {
        let file = self.run_dir().join(format!("{gw}-wan0.pcap"));
        WireCapture::start(&self.ns(gw), "wan0", &file)
    }

    /// `ping` from `host` to `dst`: `count` echoes `interval` seconds apart; (sent, received).
    pub(crate) fn ping(&self, host: &str, dst: &str, count: u32, interval: &str) -> (u32, u32) {
        let out = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns(host),
                "ping",
                "-n",
                "-q",
                "-W",
                "1",
            ])
            .args(["-c", &count.to_string(), "-i", interval, dst])
            .output()
            .expect("ping runs");
        ping_counts(&String::from_utf8_lossy(&out.stdout))
    }

    /// Three echoes each way between the hosts must all come back.
    pub(crate) fn ping_both_ways(&self) {
        for (host, dst) in [("hosta", "203.0.113.10"), ("hostb", "198.51.100.10")] {
            let (sent, got) = self.ping(host, dst, 3, "0.2");
            assert!(
                sent == 3 && got == 3,
                "{host} -> {dst}: {got}/{sent} echoes through the tunnel\n{}",
                self.context()
            );
        }
    }

    /// iperf3 TCP, one stream for `secs` s, hosta -> hostb; the receiver's bits/s. `None` when
    /// iperf3 is missing (an unavailable oracle).
    pub(crate) fn iperf_tcp(&self, secs: u32) -> Option<f64> {
        if Command::new("iperf3").arg("--version").output().is_err() {
            return unavailable("iperf3", "not installed");
        }
        let mut server = Command::new("ip")
            .args(["netns", "exec", &self.ns("hostb"), "iperf3", "-s", "-1"])
            .args(["-B", "203.0.113.10"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("iperf3 server starts");
        wait_until("iperf3 listening", Duration::from_secs(5), || {
            let out = Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    &self.ns("hostb"),
                    "ss",
                    "-Hltn",
                    "sport = :5201",
                ])
                .output()
                .expect("ss runs");
            !out.stdout.is_empty()
        });
        let mut client = Command::new("ip");
        client
            .args(["netns", "exec", &self.ns("hosta"), "iperf3", "-J"])
            .args(["-c", "203.0.113.10", "-P", "1", "-t", &secs.to_string()])
            .args(["--connect-timeout", "3000"]);
        let out = run_for(&mut client, Duration::from_secs(u64::from(secs) + 15));
        let _ = server.kill();
        let _ = server.wait();
        let out = out.unwrap_or_else(|| panic!("iperf3 hung\n{}", self.context()));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "iperf3's report ({e}): {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                self.context()
            )
        });
        let bps = report["end"]["sum_received"]["bits_per_second"].as_f64();
        assert!(
            out.status.success() && bps.is_some(),
            "iperf3 failed: {}\n{}",
            report["error"],
            self.context()
        );
        bps
    }

    /// Whether charon runs in gwb (its pid file).
    fn charon_pid(&self) -> Option<String> {
        let pid = std::fs::read_to_string(self.gwb_state().join("charon.pid")).ok()?;
        Some(pid.trim().to_owned())
    }

    /// SIGKILLs charon (by its PID file); the time it died.
    pub(crate) fn kill_charon(&self) -> Instant {
        let pid = self.charon_pid().expect("charon's pid file");
        let st = Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .expect("kill runs");
        assert!(st.success(), "kill -KILL {pid}");
        Instant::now()
    }

    /// Everything a failure report needs: each rampart's SAs and log tail, charon's SAs and log.
    pub(crate) fn context(&self) -> String {
        let mut s = String::new();
        for d in &self.daemons {
            let log = std::fs::read_to_string(self.log_path(d.gw)).unwrap_or_default();
            s += &format!(
                "--- rampart in {}: sa list {:?}\nlog (tail):\n{}\n",
                d.gw,
                self.sa_list(d.gw),
                tail(&log, 40)
            );
        }
        if self.charon_pid().is_some() {
            s += &format!(
                "--- swanctl --list-sas:\n{}\n--- charon.log (tail):\n{}\n",
                self.swanctl(&["--list-sas"]),
                tail(&self.charon_log(), 50)
            );
        }
        s
    }
}

/// The child `net` under an established IKE SA of an `sa list` answer, and that IKE SA.
pub(crate) fn established_child(list: &Value) -> Option<(Value, Value)> {
    list["ike_sas"]
        .as_array()?
        .iter()
        .filter(|i| i["state"] == "established")
        .find_map(|ike| {
            let c = ike["children"]
                .as_array()?
                .iter()
                .find(|c| c["name"] == "net")?;
            Some((ike.clone(), c.clone()))
        })
}

/// `(transmitted, received)` from ping's summary line.
fn ping_counts(out: &str) -> (u32, u32) {
    let Some(line) = out.lines().find(|l| l.contains("packets transmitted")) else {
        return (0, 0);
    };
    let num = |label: &str| {
        let at = line.find(label)?;
        line[..at]
            .split([' ', ','])
            .rfind(|w| !w.is_empty())?
            .parse()
            .ok()
    };
    (
        num(" packets transmitted").unwrap_or(0),
        num(" received").unwrap_or(0),
    )
}

/// Runs `cmd` to completion, or kills it after `limit` (`None`).
fn run_for(cmd: &mut Command, limit: Duration) -> Option<Output> {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("command starts");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.ok(),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            None
        }
    }
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
