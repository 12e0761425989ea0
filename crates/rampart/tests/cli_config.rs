//! `rampart config check` and `rampart policy check|list` end to end: output, exit codes and JSON
//! as a script sees them.

use std::path::{Path, PathBuf};
use std::process::Command;

fn rampart(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .output()
        .expect("the rampart binary built by cargo runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
        .display()
        .to_string()
}

/// Writes `text` to a fresh file under the target directory and returns its path.
fn temp_config(name: &str, text: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli_config");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("temp file");
    path
}

#[test]
fn config_check_ok() {
    let (code, out, err) = rampart(&["config", "check", "-c", &example("site-to-site-psk.toml")]);
    assert_eq!(
        (code, out.as_str()),
        (0, "ok: 1 connections, 1 children\n"),
        "{err}"
    );
    let (code, out, _) = rampart(&[
        "config",
        "check",
        "--json",
        "-c",
        &example("site-to-site-pubkey.toml"),
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["ok"], true);
    assert_eq!(v["connections"], 1);
    assert_eq!(v["children"], 1);
}

#[test]
fn every_example_passes_config_check() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    for entry in std::fs::read_dir(dir).expect("examples/") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            let p = path.display().to_string();
            let (code, out, err) = rampart(&["config", "check", "-c", &p]);
            assert_eq!(code, 0, "{p}: {out}{err}");
        }
    }
}

#[test]
fn config_check_reports_every_error_with_positions() {
    let text = std::fs::read_to_string(example("site-to-site-psk.toml"))
        .expect("example")
        .replace("aes128gcm16-prfsha256", "aes128gmc16-prfsha256")
        .replace("start_action = \"trap\"", "start_action = \"sometimes\"");
    let path = temp_config("bad.toml", &text);
    let p = path.display().to_string();
    let (code, out, err) = rampart(&["config", "check", "-c", &p]);
    assert_eq!(code, 1, "{out}{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines[0].starts_with(&format!("{p}:15:15: unknown algorithm \"aes128gmc16\"")),
        "{err}"
    );
    assert!(lines[0].ends_with("did you mean aes128gcm16?"), "{err}");
    assert!(
        lines[1].starts_with(&format!(
            "{p}:26:16: start_action = \"sometimes\" is not valid"
        )),
        "{err}"
    );
    assert!(
        lines[1].contains("\"start\", \"trap\" or \"none\""),
        "{err}"
    );
    assert_eq!(lines[2], "2 error(s)");

    let (code, out, _) = rampart(&["config", "check", "--json", "-c", &p]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["ok"], false);
    assert_eq!(v["errors"][0]["line"], 15);
    assert_eq!(v["errors"][0]["column"], 15);
    assert_eq!(v["errors"][1]["line"], 26);
}

#[test]
fn unreadable_file_and_usage_errors_exit_2() {
    let (code, _, err) = rampart(&["config", "check", "-c", "/nonexistent/rampart.toml"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("cannot read /nonexistent/rampart.toml"),
        "{err}"
    );
    let (code, _, _) = rampart(&["config", "check"]);
    assert_eq!(code, 2, "missing -c is a usage error");
}

/// A BYPASS entry placed after the child's PROTECT entries, for traffic they already take: it
/// can never match.
const SHADOWED: &str = r#"
[[secrets]]
ids = ["gw-a.example", "gw-b.example"]
psk = "correct horse battery staple"

[[connections]]
name = "site"
local_addrs = ["192.0.2.1"]
remote_addrs = ["192.0.2.2"]
local = { auth = "psk", id = "gw-a.example" }
remote = { auth = "psk", id = "gw-b.example" }

[[connections.children]]
name = "net"
local_ts = ["198.51.100.0/24"]
remote_ts = ["203.0.113.0/24"]

[[policies]]
name = "web-clear"
local = ["198.51.100.0/24"]
remote = ["203.0.113.80"]
protocol = "tcp"
remote_port = 80
action = "bypass"
priority = 2000
"#;

#[test]
fn policy_check_finds_a_shadowed_entry() {
    let path = temp_config("shadowed.toml", SHADOWED);
    let p = path.display().to_string();
    let (code, out, err) = rampart(&["policy", "check", "-c", &p]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("error[shadowed] out"), "{out}");
    assert!(out.contains("web-clear/out"), "{out}");
    assert!(out.contains("site/net/out"), "{out}");
    let (code, out, _) = rampart(&["policy", "check", "--json", "-c", &p]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let findings = v.as_array().expect("an array");
    assert!(
        findings.iter().any(|f| f["severity"] == "error"
            && f["kind"] == "shadowed"
            && f["entries"][0] == "web-clear/out"),
        "{out}"
    );
    // The clean example has no error-severity finding.
    let (code, out, _) = rampart(&["policy", "check", "-c", &example("site-to-site-psk.toml")]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 error(s)"), "{out}");
}

#[test]
fn policy_list_shows_entries_in_match_order() {
    let (code, out, err) = rampart(&["policy", "list", "-c", &example("bypass-and-discard.toml")]);
    assert_eq!(code, 0, "{err}");
    let names: Vec<&str> = out
        .lines()
        .filter_map(|l| {
            l.split_whitespace()
                .nth(1)
                .filter(|_| l.trim_start().starts_with(char::is_numeric))
        })
        .collect();
    assert_eq!(
        names,
        [
            "no-dns-to-remote/out",
            "no-dns-to-remote/in",
            "lan/out",
            "lan/in",
            "site/net/out",
            "site/net/in"
        ],
        "{out}"
    );
    assert!(out.contains("udp/500,4500 on 192.0.2.1"), "{out}");
    assert!(out.contains("PROTECT esp/tunnel #1"), "{out}");
    let (code, out, _) = rampart(&[
        "policy",
        "list",
        "--json",
        "-c",
        &example("site-to-site-psk.toml"),
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["entries"][0]["name"], "site/net/out");
    assert_eq!(v["entries"][0]["template"]["proposals"][0], "aes128gcm16");
    assert_eq!(v["entries"][1]["direction"], "in");
    assert_eq!(v["ike_bypass_addrs"][0], "192.0.2.1");
}
