//! Test-only helpers shared by Rampart's crates (a dev-dependency only; never in a release build).
//!
//! The one rule for oracle tests — tests that check our bytes with a tool we did not write
//! (tshark, scapy, python `cryptography`, openssl): when the tool is missing, the test prints a
//! warning and passes, so `cargo test` stays hermetic on a bare machine; when
//! `RAMPART_REQUIRE_ORACLES=1` (set by `scripts/test`, hence CI), a missing tool fails the test.
//! A tool that runs and disagrees always fails.
#![forbid(unsafe_code)]

pub mod interop;

use std::io::Write;
use std::process::{Command, Stdio};

/// Exit status a python oracle script uses to say "a module I need is missing" (as opposed to
/// "the check failed").
pub const EXIT_MISSING_DEPENDENCY: i32 = 3;

/// Whether root-only tests (network namespaces, TUN, raw sockets) may run:
/// `RAMPART_NETNS_TESTS=1`, set by `scripts/test` when run as root. Otherwise warns that `test`
/// is skipped.
pub fn netns_tests_enabled(test: &str) -> bool {
    let on = std::env::var("RAMPART_NETNS_TESTS").as_deref() == Ok("1");
    if !on {
        eprintln!("warning: skipping {test}: set RAMPART_NETNS_TESTS=1 (needs root)");
    }
    on
}

/// Whether oracle tests must run (`RAMPART_REQUIRE_ORACLES=1`).
pub fn oracles_required() -> bool {
    std::env::var("RAMPART_REQUIRE_ORACLES").is_ok_and(|v| v == "1")
}

/// Reports that an oracle is unavailable: panics when oracles are required, else warns and
/// returns `None` so the caller can skip.
pub fn unavailable<T>(oracle: &str, why: &str) -> Option<T> {
    assert!(
        !oracles_required(),
        "oracle {oracle} is required (RAMPART_REQUIRE_ORACLES=1) but unavailable: {why}"
    );
    eprintln!("warning: skipping {oracle} oracle check: {why}");
    None
}

/// Runs `cmd` with `stdin`, returning its stdout. A command that cannot start (tool not
/// installed) or that reports a missing dependency (exit status 3, or a python
/// `ModuleNotFoundError`) is [`unavailable`]; any other failure panics with the tool's stderr,
/// because a disagreeing oracle is a failed test.
pub fn run(oracle: &str, cmd: &mut Command, stdin: &[u8]) -> Option<String> {
    let child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return unavailable(oracle, &format!("cannot start: {e}")),
    };
    // Write stdin from another thread: a tool that answers while it still reads would otherwise
    // fill its stdout pipe while we block on its stdin.
    let mut input = child.stdin.take().expect("stdin was piped");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || input.write_all(&data));
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{oracle}: waiting: {e}"));
    writer
        .join()
        .expect("stdin writer thread does not panic")
        .unwrap_or_else(|e| panic!("{oracle}: writing stdin: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        return Some(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    if out.status.code() == Some(EXIT_MISSING_DEPENDENCY) || stderr.contains("ModuleNotFoundError")
    {
        return unavailable(oracle, stderr.trim());
    }
    panic!("oracle {oracle} failed ({}):\n{stderr}", out.status);
}

/// Runs a python3 script given as source text, with `stdin`; see [`run`].
pub fn python(script: &str, stdin: &str) -> Option<String> {
    run(
        "python3",
        Command::new("python3").arg("-c").arg(script),
        stdin.as_bytes(),
    )
}

/// Runs a python3 script file, with `stdin`; see [`run`].
pub fn python_file(path: &std::path::Path, stdin: &str) -> Option<String> {
    run(
        "python3",
        Command::new("python3").arg(path),
        stdin.as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_that_is_not_installed_is_unavailable_not_a_pass() {
        // The rule depends on the environment; check both sides without mutating it.
        let outcome = std::panic::catch_unwind(|| {
            run(
                "nonexistent",
                &mut Command::new("/nonexistent/rampart-oracle"),
                b"",
            )
        });
        match outcome {
            Ok(out) => assert!(out.is_none() && !oracles_required()),
            Err(_) => assert!(oracles_required()),
        }
    }

    #[test]
    fn a_disagreeing_oracle_fails_whatever_the_rule() {
        let outcome = std::panic::catch_unwind(|| run("false", &mut Command::new("false"), b""));
        assert!(
            outcome.is_err(),
            "exit 1 is a failed check, not a missing tool"
        );
    }

    #[test]
    fn large_input_and_output_do_not_deadlock() {
        let big = vec![b'x'; 1 << 20];
        let out = run("cat", &mut Command::new("cat"), &big).expect("cat runs");
        assert_eq!(out.len(), big.len());
    }

    #[test]
    fn stdout_comes_back() {
        let out = run("cat", &mut Command::new("cat"), b"hello\n");
        assert_eq!(out.as_deref(), Some("hello\n"));
    }
}
