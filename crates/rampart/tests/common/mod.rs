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
    let (local, remote, lid, rid, lts, rts) = if side == "a" {
        (
            "192.0.2.1",
            "192.0.2.2",
            "gw-a.test",
            "gw-b.test",
            "198.51.100.0/24",
            "203.0.113.0/24",
        )
    } else {
        (
            "192.0.2.2",
            "192.0.2.1",
            "gw-b.test",
            "gw-a.test",
            "203.0.113.0/24",
            "198.51.100.0/24",
        )
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
local_ts = ["{lts}"]
remote_ts = ["{rts}"]
start_action = "{start}"
"#
    );
    let path = dir.join(format!("{side}.toml"));
    std::fs::write(&path, text).expect("write config");
    path
}
