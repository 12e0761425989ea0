//! What the root-only end-to-end tests of the `rampart` binary share: the gate, a cleanup guard
//! for namespaces and daemons, `ip`, and waiting on real processes; the interop topology with
//! rampart and strongSwan in it ([`net`]) and the "never plaintext" wire oracle ([`wire`]).
//!
//! Each test binary uses only part of this module.
#![allow(dead_code)]

pub(crate) mod net;
pub(crate) mod wire;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_rampart");

#[allow(unused_imports)]
pub(crate) use rampart_testkit::netns_tests_enabled;

/// Kills the daemons (by PID) and deletes the namespaces and the scratch directory, whatever
/// happens.
pub(crate) struct Guard {
    pub(crate) namespaces: Vec<String>,
    pub(crate) daemons: Vec<Child>,
    pub(crate) dir: PathBuf,
}

impl Guard {
    /// A guard owning a fresh directory `TMP/NAME` (removed with it), and nothing else yet.
    pub(crate) fn with_dir(name: &str) -> (Self, PathBuf) {
        let dir = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let g = Self {
            namespaces: Vec::new(),
            daemons: Vec::new(),
            dir: dir.clone(),
        };
        (g, dir)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        for d in &mut self.daemons {
            let _ = d.kill();
            let _ = d.wait();
        }
        for ns in &self.namespaces {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `ip ARGS`, which must succeed.
pub(crate) fn ip(args: &[&str]) {
    let st = Command::new("ip").args(args).status().expect("ip runs");
    assert!(st.success(), "ip {args:?} failed");
}

/// Polls `f` every 100 ms until it holds; panics after `timeout`.
pub(crate) fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

/// Writes `DIR/SIDE.toml` for gateway `a` (192.0.2.1, LAN 198.51.100.0/24) or `b` (192.0.2.2,
/// LAN 203.0.113.0/24) of a PSK tunnel between them, child `net` with `start_action = START`
/// and `encap = ENCAP` (forced ESP-in-UDP).
pub(crate) fn gateway_config(dir: &Path, side: &str, start: &str, encap: bool) -> PathBuf {
    let (outer, lts, rts) = if side == "a" {
        (
            ("192.0.2.1", "192.0.2.2"),
            "198.51.100.0/24",
            "203.0.113.0/24",
        )
    } else {
        (
            ("192.0.2.2", "192.0.2.1"),
            "203.0.113.0/24",
            "198.51.100.0/24",
        )
    };
    let child = format!("local_ts = [\"{lts}\"]\nremote_ts = [\"{rts}\"]");
    write_config(dir, side, outer, encap, start, &child)
}

/// The one PSK configuration writer: connection `site` between `gw-a.test` and `gw-b.test`
/// (`side` a or b) over the outer addresses `(local, remote)`, child `net` with
/// `start_action = START` and the rest of its table in `child`. Written to `DIR/SIDE.toml`.
fn write_config(
    dir: &Path,
    side: &str,
    (local, remote): (&str, &str),
    encap: bool,
    start: &str,
    child: &str,
) -> PathBuf {
    let (lid, rid) = if side == "a" {
        ("gw-a.test", "gw-b.test")
    } else {
        ("gw-b.test", "gw-a.test")
    };
    let text = format!(
        r#"[[secrets]]
ids = ["gw-a.test", "gw-b.test"]
psk = "rampart netns test key 0123456789"

[[connections]]
name = "site"
local_addrs = ["{local}"]
remote_addrs = ["{remote}"]
encap = {encap}
local = {{ auth = "psk", id = "{lid}" }}
remote = {{ auth = "psk", id = "{rid}" }}

[[connections.children]]
name = "net"
start_action = "{start}"
{child}
"#
    );
    let path = dir.join(format!("{side}.toml"));
    std::fs::write(&path, text).expect("write config");
    path
}

/// Runs `sysctl -qw KV` in namespace `ns`, which must succeed.
pub(crate) fn sysctl_in(ns: &str, kv: &str) {
    let st = Command::new("ip")
        .args(["netns", "exec", ns, "sysctl", "-qw", kv])
        .status()
        .expect("sysctl runs");
    assert!(st.success(), "sysctl {kv} in {ns} failed");
}

/// One gateway's side of a PSK connection between `a` (id gw-a.test) and `b` (gw-b.test), for
/// the tests that vary addresses, families and mode: `local`/`remote` are the outer addresses,
/// `child` the body of the one `[[connections.children]]` table (named `net`, `start_action`
/// start on side a and none on side b). Written to `DIR/SIDE.toml`.
pub(crate) fn connection_config(
    dir: &Path,
    side: &str,
    outer: (&str, &str),
    encap: bool,
    child: &str,
) -> PathBuf {
    let start = if side == "a" { "start" } else { "none" };
    write_config(dir, side, outer, encap, start, child)
}

/// Starts `rampart run -c CFG --socket SOCK` in each namespace, in order (debug logs on stderr).
pub(crate) fn spawn_daemons(g: &mut Guard, daemons: &[(&str, &Path, &Path)]) {
    for (ns, cfg, sock) in daemons {
        let child = Command::new("ip")
            .args(["netns", "exec", ns, BIN, "run", "-c"])
            .arg(cfg)
            .arg("--socket")
            .arg(sock)
            .env("RAMPART_LOG", "debug")
            .stdin(std::process::Stdio::null())
            .spawn()
            .expect("rampart run starts");
        g.daemons.push(child);
    }
}

/// `rampart ARGS --json --socket SOCK` in namespace `ns`, if the daemon answers.
pub(crate) fn ctl_json(ns: &str, sock: &Path, args: &[&str]) -> Option<serde_json::Value> {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, BIN])
        .args(args)
        .arg("--json")
        .arg("--socket")
        .arg(sock)
        .output()
        .expect("rampart runs");
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).ok())
        .flatten()
}

/// `rampart sa list --json` of the daemon in `ns`, if it answers.
pub(crate) fn sa_list_json(ns: &str, sock: &Path) -> Option<serde_json::Value> {
    ctl_json(ns, sock, &["sa", "list"])
}

/// Waits up to `timeout` until the daemons at `(namespace, control socket)` `a` and `b` both
/// report child `net` under an established IKE SA.
pub(crate) fn wait_for_net_child(a: (&str, &Path), b: (&str, &Path), timeout: Duration) {
    wait_until("both sides' child SA", timeout, || {
        let (Some(x), Some(y)) = (sa_list_json(a.0, a.1), sa_list_json(b.0, b.1)) else {
            return false;
        };
        established_child(&x, "net").is_some() && established_child(&y, "net").is_some()
    });
}

/// Child `name` under an established IKE SA in an `sa list --json` answer.
pub(crate) fn established_child(s: &serde_json::Value, name: &str) -> Option<serde_json::Value> {
    let ike = s["ike_sas"]
        .as_array()?
        .iter()
        .find(|i| i["state"] == "established")?;
    ike["children"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == name)
        .cloned()
}

/// Runs `ARGS` in namespace `ns`; whether it exited 0 (output discarded).
pub(crate) fn ns_ok(ns: &str, args: &[&str]) -> bool {
    Command::new("ip")
        .args(["netns", "exec", ns])
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A tshark capture on one link for a fixed time, started before the traffic and read after.
pub(crate) struct LinkCapture {
    child: Child,
    file: PathBuf,
}

impl LinkCapture {
    /// Starts capturing on `dev` in `ns` for `secs` seconds (counted by tshark from its start)
    /// and returns once it captures; `None` (with a warning) when tshark is missing, unless
    /// `RAMPART_REQUIRE_ORACLES=1`.
    pub(crate) fn start(ns: &str, dev: &str, file: &Path, secs: u32) -> Option<Self> {
        if Command::new("tshark").arg("-v").output().is_err() {
            return rampart_testkit::unavailable("tshark", "not installed");
        }
        let child = Command::new("ip")
            .args(["netns", "exec", ns, "tshark", "-q", "-i", dev, "-a"])
            .arg(format!("duration:{secs}"))
            .arg("-w")
            .arg(file)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("tshark starts");
        // dumpcap writes the file's header once it captures; a loaded machine takes seconds.
        wait_until("tshark to start capturing", Duration::from_secs(10), || {
            std::fs::metadata(file).is_ok_and(|m| m.len() > 0)
        });
        std::thread::sleep(Duration::from_millis(200));
        Some(Self {
            child,
            file: file.to_path_buf(),
        })
    }

    /// Waits for the capture to end.
    pub(crate) fn wait(&mut self) {
        let _ = self.child.wait();
    }

    /// Reads the capture through tshark with `args` (a display filter, fields).
    pub(crate) fn read(&self, args: &[&str]) -> String {
        let out = Command::new("tshark")
            .arg("-r")
            .arg(&self.file)
            .args(args)
            .output()
            .expect("tshark reads the capture");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// Python TCP server: accepts one connection on (ADDR, 5001), reads to EOF and answers
/// "BYTES SHA256".
const TCP_SERVER: &str = r#"
import hashlib, socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.create_server((sys.argv[1], 5001), family=fam)
s.settimeout(10)
c, _ = s.accept()
c.settimeout(10)
h, n = hashlib.sha256(), 0
while True:
    d = c.recv(65536)
    if not d:
        break
    h.update(d)
    n += len(d)
c.sendall(f"{n} {h.hexdigest()}".encode())
c.close()
"#;

/// Python TCP client: sends SIZE pseudo-random bytes to (ADDR, 5001), half-closes, and exits 0
/// only if the server's "BYTES SHA256" matches what it sent.
const TCP_CLIENT: &str = r#"
import hashlib, random, socket, sys, time
data = random.Random(7).randbytes(int(sys.argv[2]))
for _ in range(50):
    try:
        c = socket.create_connection((sys.argv[1], 5001), timeout=10)
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("cannot connect")
c.sendall(data)
c.shutdown(socket.SHUT_WR)
got = b""
while True:
    d = c.recv(4096)
    if not d:
        break
    got += d
want = f"{len(data)} {hashlib.sha256(data).hexdigest()}"
if got.decode() != want:
    sys.exit(f"server got {got!r}, sent {want}")
"#;

/// Moves `size` bytes over TCP from `client_ns` to a server on `addr` in `server_ns` and checks
/// that the server received exactly them (length and SHA-256). `false` if the transfer failed.
pub(crate) fn tcp_transfer(server_ns: &str, client_ns: &str, addr: &str, size: usize) -> bool {
    let mut server = Command::new("ip")
        .args([
            "netns", "exec", server_ns, "python3", "-c", TCP_SERVER, addr,
        ])
        .spawn()
        .expect("python3 server starts");
    let ok = Command::new("ip")
        .args([
            "netns", "exec", client_ns, "python3", "-c", TCP_CLIENT, addr,
        ])
        .arg(size.to_string())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let _ = server.kill();
    }
    let served = server.wait().is_ok_and(|s| s.success());
    ok && served
}

/// Builds four dual-stack namespaces hosta — gwa — gwb — hostb (LANs 198.51.100.0/24 +
/// 2001:db8:a::/64 and 203.0.113.0/24 + 2001:db8:b::/64, WAN 192.0.2.0/24 + 2001:db8::/64),
/// the gateways forwarding both families without reverse-path filtering and with no route to
/// the far LAN. Names start with `PREFIX-PID-TAG`. Returns (hosta, gwa, gwb, hostb) and gwa's
/// WAN device.
pub(crate) fn dual_stack_topology(g: &mut Guard, prefix: &str, tag: &str) -> ([String; 4], String) {
    let pid = std::process::id();
    let names = ["hosta", "gwa", "gwb", "hostb"].map(|n| format!("{prefix}-{pid}-{tag}-{n}"));
    for ns in &names {
        ip(&["netns", "add", ns]);
        g.namespaces.push(ns.clone());
        ip(&["-n", ns, "link", "set", "lo", "up"]);
    }
    // (x, x's addresses, y, y's addresses) of each veth link: hosta–gwa, gwa–gwb, gwb–hostb.
    let links = [
        (
            0,
            ["198.51.100.10/24", "2001:db8:a::10/64"],
            1,
            ["198.51.100.1/24", "2001:db8:a::1/64"],
        ),
        (
            1,
            ["192.0.2.1/24", "2001:db8::1/64"],
            2,
            ["192.0.2.2/24", "2001:db8::2/64"],
        ),
        (
            2,
            ["203.0.113.1/24", "2001:db8:b::1/64"],
            3,
            ["203.0.113.10/24", "2001:db8:b::10/64"],
        ),
    ];
    for (k, (x, ax, y, ay)) in links.into_iter().enumerate() {
        let (dx, dy) = (
            format!("{prefix}{pid}{tag}{k}x"),
            format!("{prefix}{pid}{tag}{k}y"),
        );
        ip(&[
            "link", "add", &dx, "netns", &names[x], "type", "veth", "peer", "name", &dy, "netns",
            &names[y],
        ]);
        for (ns, dev, [v4, v6]) in [(&names[x], &dx, ax), (&names[y], &dy, ay)] {
            ip(&["-n", ns, "addr", "add", v4, "dev", dev]);
            ip(&["-n", ns, "addr", "add", v6, "dev", dev, "nodad"]);
            ip(&["-n", ns, "link", "set", dev, "up"]);
        }
    }
    for (host, v4, v6) in [
        (&names[0], "198.51.100.1", "2001:db8:a::1"),
        (&names[3], "203.0.113.1", "2001:db8:b::1"),
    ] {
        ip(&["-n", host, "route", "add", "default", "via", v4]);
        ip(&["-n", host, "-6", "route", "add", "default", "via", v6]);
    }
    for gw in [&names[1], &names[2]] {
        sysctl_in(gw, "net.ipv4.ip_forward=1");
        sysctl_in(gw, "net.ipv6.conf.all.forwarding=1");
        sysctl_in(gw, "net.ipv4.conf.all.rp_filter=0");
    }
    (names, format!("{prefix}{pid}{tag}1x"))
}
