//! The throw-away lab `rampart demo` builds, and its teardown: two network namespaces, the
//! scratch directory with the configurations, sockets and logs, and the two daemons. [`Lab`]
//! remembers everything it made and undoes it once — on the normal path, on an error, on a panic
//! (its `Drop`) and after SIGINT/SIGTERM, which [`Interrupt`] turns from "kill the process" into
//! an error the demo returns through the same path.

// The demo waits on real processes and signals: the wall clock is what it needs (the rule
// against reading it is for the protocol crates).
#![allow(clippy::disallowed_methods)]

use std::fmt;
use std::fs::File;
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rampart_sys::signal::SignalFd;

/// How long a daemon gets to send its IKE deletes and exit after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(3);
/// How often the waits look at the signals and the children.
const TICK: Duration = Duration::from_millis(50);

/// SIGINT or SIGTERM arrived: the demo stops and tears down.
#[derive(Debug)]
pub(crate) struct Interrupted(pub(crate) i32);

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            2 => "SIGINT",
            15 => "SIGTERM",
            _ => "a signal",
        };
        write!(f, "interrupted by {name}")
    }
}

impl std::error::Error for Interrupted {}

/// SIGINT and SIGTERM, blocked and read from a signalfd so that they interrupt the demo between
/// steps instead of killing it before its teardown.
pub(crate) struct Interrupt {
    signals: SignalFd,
}

impl Interrupt {
    /// Blocks SIGINT and SIGTERM for this (single-threaded) process. Children start with an
    /// empty signal mask again (the standard library resets it when it spawns them).
    pub(crate) fn install() -> anyhow::Result<Self> {
        let signals = SignalFd::termination().context("blocking SIGINT/SIGTERM (signalfd)")?;
        Ok(Self { signals })
    }

    /// `Err(Interrupted)` once a signal has arrived.
    pub(crate) fn check(&self) -> anyhow::Result<()> {
        match self.signals.read() {
            Ok(Some(signo)) => Err(Interrupted(signo).into()),
            Ok(None) => Ok(()),
            Err(e) => Err(anyhow::Error::new(e).context("reading the signalfd")),
        }
    }

    /// Sleeps `d`, or less when a signal arrives (then `Err(Interrupted)`).
    pub(crate) fn sleep(&self, d: Duration) -> anyhow::Result<()> {
        let end = Instant::now() + d;
        loop {
            self.check()?;
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            std::thread::sleep(left.min(TICK));
        }
    }

    /// Runs `cmd` to completion with its output captured, killing it if a signal arrives first.
    pub(crate) fn output(&self, cmd: &mut Command, timeout: Duration) -> anyhow::Result<Output> {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {cmd:?}"))?;
        let end = Instant::now() + timeout;
        loop {
            if child.try_wait()?.is_some() {
                return Ok(child.wait_with_output()?);
            }
            let stop = match self.check() {
                Err(e) => Some(e),
                Ok(()) if Instant::now() >= end => {
                    Some(anyhow::anyhow!("{cmd:?} did not finish in {timeout:?}"))
                }
                Ok(()) => None,
            };
            if let Some(e) = stop {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
            std::thread::sleep(TICK);
        }
    }
}

/// A daemon the lab started.
struct Daemon {
    name: &'static str,
    child: Child,
}

/// Everything the demo made, undone by [`Lab::teardown`] (or on drop).
pub(crate) struct Lab {
    /// The scratch directory (configurations, control sockets, logs).
    pub(crate) dir: PathBuf,
    namespaces: Vec<String>,
    daemons: Vec<Daemon>,
    dir_made: bool,
}

impl Lab {
    /// Creates the scratch directory `DIR` (mode 0700: the configurations hold the PSK).
    pub(crate) fn new(dir: PathBuf) -> anyhow::Result<Self> {
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self {
            dir,
            namespaces: Vec::new(),
            daemons: Vec::new(),
            dir_made: true,
        })
    }

    /// `ip netns add NAME`, remembered for the teardown, with its loopback up.
    pub(crate) fn add_namespace(&mut self, name: &str) -> anyhow::Result<()> {
        ip(&["netns", "add", name])?;
        self.namespaces.push(name.to_owned());
        ip(&["-n", name, "link", "set", "lo", "up"])
    }

    /// Starts `rampart run -c CONFIG --socket SOCKET` inside namespace `ns` (through
    /// `ip netns exec`, which execs in place: the child's PID is the daemon's), logging to
    /// `LOG`, in its own process group so that a Ctrl-C on the terminal reaches only the demo,
    /// which stops the daemons itself. Returns the daemon's PID.
    pub(crate) fn start_daemon(
        &mut self,
        name: &'static str,
        ns: &str,
        config: &Path,
        socket: &Path,
        log: &Path,
    ) -> anyhow::Result<u32> {
        let exe = std::env::current_exe().context("locating the rampart binary")?;
        let log_file = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .arg(exe)
            .arg("run")
            .arg("-c")
            .arg(config)
            .arg("--socket")
            .arg(socket)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .process_group(0)
            .spawn()
            .context("starting `ip netns exec ... rampart run`")?;
        let pid = child.id();
        self.daemons.push(Daemon { name, child });
        Ok(pid)
    }

    /// `Err` naming the first daemon that has exited, with the end of its log.
    pub(crate) fn check_daemons(&mut self) -> anyhow::Result<()> {
        for d in &mut self.daemons {
            if let Some(status) = d.child.try_wait()? {
                let log = self.dir.join(format!("{}.log", d.name));
                bail!(
                    "daemon {} exited ({status}); the end of its log:\n{}",
                    d.name,
                    log_tail(&log, 15)
                );
            }
        }
        Ok(())
    }

    /// The daemons' PIDs, in start order.
    pub(crate) fn daemon_pids(&self) -> Vec<u32> {
        self.daemons.iter().map(|d| d.child.id()).collect()
    }

    /// Stops the daemons (SIGTERM, then SIGKILL after [`STOP_GRACE`]), deletes the namespaces
    /// and removes the scratch directory. Idempotent; reports each step through `say` and every
    /// failure on stderr.
    pub(crate) fn teardown(&mut self, say: &mut dyn FnMut(&str)) {
        // Each item leaves its list only once handled, so that a panic in `say` leaves the rest
        // to `Drop`.
        while let Some(d) = self.daemons.first_mut() {
            stop(&mut d.child);
            let line = format!("stopped daemon {} (pid {})", d.name, d.child.id());
            self.daemons.remove(0);
            say(&line);
        }
        while let Some(ns) = self.namespaces.pop() {
            match ip(&["netns", "del", &ns]) {
                Ok(()) => say(&format!("deleted namespace {ns}")),
                Err(e) => eprintln!("rampart demo: {e:#}"),
            }
        }
        if self.dir_made {
            self.dir_made = false;
            match std::fs::remove_dir_all(&self.dir) {
                Ok(()) => say(&format!("removed {}", self.dir.display())),
                Err(e) => eprintln!("rampart demo: removing {}: {e}", self.dir.display()),
            }
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.teardown(&mut |_| {});
    }
}

/// SIGTERM (through `kill`, the crate has no `unsafe`), up to [`STOP_GRACE`] for the daemon to
/// delete its IKE SAs and exit, then SIGKILL.
fn stop(child: &mut Child) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if term {
        let end = Instant::now() + STOP_GRACE;
        while Instant::now() < end {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(TICK);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs `ip ARGS`; `Err` with its stderr when it fails.
pub(crate) fn ip(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("running `ip`")?;
    if !out.status.success() {
        bail!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// The last `n` lines of a log file (or why it cannot be read).
pub(crate) fn log_tail(path: &Path, n: usize) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            let start = lines.len().saturating_sub(n);
            lines[start..]
                .iter()
                .map(|l| format!("    {l}\n"))
                .collect()
        }
        Err(e) => format!("    ({}: {e})\n", path.display()),
    }
}

/// Whether the effective user is root (from `/proc/self/status`: the crate has no `unsafe`
/// for `geteuid`).
pub(crate) fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1).map(|e| e == "0"))
            .unwrap_or(false)
    })
}

/// Whether `program` is an executable file in a `PATH` directory.
pub(crate) fn in_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path).any(|d| {
        std::fs::metadata(d.join(program))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_tail_keeps_the_last_lines() {
        let dir = std::env::temp_dir().join(format!("rampart-demo-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let f = dir.join("x.log");
        std::fs::write(&f, "one\ntwo\nthree\n").expect("write");
        assert_eq!(log_tail(&f, 2), "    two\n    three\n");
        assert!(log_tail(&dir.join("missing"), 2).contains("missing"));
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn finds_programs_in_path() {
        assert!(in_path("sh"));
        assert!(!in_path("rampart-no-such-program"));
    }

    #[test]
    fn interrupted_names_the_signal() {
        assert_eq!(Interrupted(2).to_string(), "interrupted by SIGINT");
        assert_eq!(Interrupted(15).to_string(), "interrupted by SIGTERM");
    }
}
