//! The team's strongSwan interop topology (`../shared/interop` beside the repository, else
//! `/work/shared/interop`) for root-only tests: network namespaces with the documentation
//! address plan, one strongSwan peer in gwb, everything stopped and removed on drop (also when
//! the test fails; `RAMPART_KEEP_INTEROP=1` keeps the run directory for a post-mortem).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::{netns_tests_enabled, unavailable};

/// One topology, unique to this process and call, so tests can run in parallel.
pub struct Interop {
    scripts: PathBuf,
    prefix: String,
    run_dir: PathBuf,
}

impl Interop {
    /// Brings the topology up (`hosts`: with the host namespaces behind the gateways) for
    /// `test`; `tag` starts the namespace prefix. `None` (after a warning) unless root-only tests
    /// are enabled and strongSwan and the scripts are present; a missing strongSwan fails the
    /// test when oracles are required (see [`unavailable`]).
    pub fn up(test: &str, tag: &str, hosts: bool) -> Option<Self> {
        let args: &[&str] = if hosts { &[] } else { &["--no-hosts"] };
        Self::up_with(test, tag, args)
    }

    /// As [`Interop::up`], with `netns-up`'s options `args` (`--nat`, `--no-hosts`).
    pub fn up_with(test: &str, tag: &str, args: &[&str]) -> Option<Self> {
        if !netns_tests_enabled(test) {
            return None;
        }
        let Some(scripts) = scripts_dir() else {
            return unavailable(
                "strongswan",
                "interop scripts not found (../shared/interop, /work/shared/interop)",
            );
        };
        let charon_ok = Path::new("/usr/lib/ipsec/charon").exists()
            && Command::new("swanctl").arg("--version").output().is_ok();
        if !charon_ok {
            return unavailable(
                "strongswan",
                "charon/swanctl not installed (scripts/install-deps as root)",
            );
        }
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("{tag}{}x{n}", std::process::id() % 100_000);
        let me = Self {
            run_dir: PathBuf::from(format!("/tmp/{prefix}")),
            scripts,
            prefix,
        };
        let mut up = vec!["netns-up"];
        up.extend_from_slice(args);
        me.script(&up);
        Some(me)
    }

    /// The namespace called `name` in the scripts' plan (`gwa`, `gwb`, `hosta`, `hostb`).
    pub fn ns(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The directory holding this topology's state (the scripts' `IPX_RUN`).
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    fn command(&self, name: &str) -> Command {
        let mut c = Command::new(self.scripts.join(name));
        c.env("IPX_PREFIX", &self.prefix)
            .env("IPX_RUN", &self.run_dir);
        c
    }

    /// Runs one of the scripts with `args[1..]`; panics with its output if it fails.
    pub fn script(&self, args: &[&str]) -> String {
        let out = self
            .command(args[0])
            .args(&args[1..])
            .output()
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{args:?} failed:\n{text}");
        text
    }

    /// Starts (or restarts) charon in gwb, peer of gwa (192.0.2.2 ↔ 192.0.2.1, traffic
    /// selectors 203.0.113.0/24 ↔ 198.51.100.0/24), with charon's `log` levels and `extra`
    /// options (the role, auth, ...).
    pub fn strongswan(&self, log: &str, extra: &[&str]) {
        let ns = self.ns("gwb");
        let mut args = vec![
            "strongswan-peer",
            "--ns",
            &ns,
            "--local",
            "192.0.2.2",
            "--remote",
            "192.0.2.1",
            "--local-ts",
            "203.0.113.0/24",
            "--remote-ts",
            "198.51.100.0/24",
            "--log",
            log,
        ];
        args.extend_from_slice(extra);
        self.script(&args);
    }

    /// The strongSwan peer's state directory.
    pub fn gwb_state(&self) -> PathBuf {
        self.run_dir.join("gwb")
    }

    /// `swanctl ARGS` against the strongSwan peer; its stdout.
    pub fn swanctl(&self, args: &[&str]) -> String {
        let out = Command::new(self.gwb_state().join("swanctl.sh"))
            .args(args)
            .output()
            .expect("run swanctl.sh");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The strongSwan peer's log so far.
    pub fn charon_log(&self) -> String {
        std::fs::read_to_string(self.gwb_state().join("charon.log")).unwrap_or_default()
    }
}

impl Drop for Interop {
    fn drop(&mut self) {
        let state = self.gwb_state();
        let _ = self
            .command("strongswan-stop")
            .arg("--state")
            .arg(&state)
            .output();
        let _ = self.command("netns-down").output();
        if std::env::var_os("RAMPART_KEEP_INTEROP").is_none() {
            let _ = std::fs::remove_dir_all(&self.run_dir);
        }
    }
}

fn scripts_dir() -> Option<PathBuf> {
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interop");
    [beside, PathBuf::from("/work/shared/interop")]
        .into_iter()
        .find(|d| d.join("strongswan-peer").exists())
}
