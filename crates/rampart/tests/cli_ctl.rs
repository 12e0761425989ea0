//! The control commands without a daemon: exit status 2 and a message naming the socket.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_rampart");

#[test]
fn unreachable_daemon_exits_2_naming_the_socket() {
    let sock = std::env::temp_dir().join(format!("rampart-no-daemon-{}.sock", std::process::id()));
    for args in [
        vec!["status"],
        vec!["sa", "list", "--json"],
        vec!["up", "site"],
        vec!["down", "site"],
        vec!["reload"],
        vec!["sa", "export", "--wireshark", "/nonexistent-rampart-dir"],
    ] {
        let out = Command::new(BIN)
            .args(&args)
            .arg("--socket")
            .arg(&sock)
            .output()
            .expect("rampart runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&*sock.to_string_lossy()), "{args:?}: {err}");
        assert!(err.contains("cannot reach the daemon"), "{args:?}: {err}");
    }
}

#[test]
fn run_rejects_an_invalid_configuration_with_exit_1() {
    let dir = std::env::temp_dir().join(format!("rampart-run-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let cfg = dir.join("bad.toml");
    std::fs::write(&cfg, "[[connections]]\nname = 1\n").expect("write");
    let out = Command::new(BIN)
        .args(["run", "-c"])
        .arg(&cfg)
        .arg("--socket")
        .arg(dir.join("s.sock"))
        .output()
        .expect("rampart runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.toml"));
}
