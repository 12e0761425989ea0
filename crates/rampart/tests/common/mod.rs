//! What the root-only end-to-end tests of the `rampart` binary share: the gate, a cleanup guard
//! for namespaces and daemons, `ip`, and waiting on real processes.
//!
//! Each test binary uses only part of this module.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_rampart");

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
