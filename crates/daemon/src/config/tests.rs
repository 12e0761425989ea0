//! Unit tests of the config module's own invariants (the file-level tests are in
//! `tests/config.rs`).

use super::*;

#[test]
fn default_proposals_parse() {
    for p in DEFAULT_IKE_PROPOSALS {
        assert!(ProposalSpec::parse_ike(p).is_ok(), "{p}");
    }
    for p in DEFAULT_ESP_PROPOSALS {
        assert!(ProposalSpec::parse_esp(p).is_ok(), "{p}");
    }
}

#[test]
fn missing_keys_take_defaults() {
    let text = r#"
[[secrets]]
ids = ["%any"]
psk = "0x00112233445566778899"

[[connections]]
name = "c"
local_addrs = ["192.0.2.1"]
remote_addrs = ["192.0.2.2"]
local = { auth = "psk" }
remote = { auth = "psk" }

[[connections.children]]
name = "host"
"#;
    let c = Config::from_toml(text, Path::new("d.toml")).expect("valid");
    assert_eq!(c.daemon.control_socket, Path::new(DEFAULT_CONTROL_SOCKET));
    let conn = &c.connections[0];
    assert_eq!(conn.local_id, Identity::Addr("192.0.2.1".parse().unwrap()));
    assert_eq!(conn.remote_id, Identity::Addr("192.0.2.2".parse().unwrap()));
    assert_eq!(conn.proposals.len(), DEFAULT_IKE_PROPOSALS.len());
    let LocalAuthConfig::Psk(p) = &conn.local_auth else {
        panic!("psk")
    };
    assert_eq!(
        p.key.expose(),
        &hex::decode("00112233445566778899").unwrap()[..]
    );
    let child = &conn.children[0];
    assert_eq!(child.local_ts[0].to_string(), "192.0.2.1", "dynamic");
    assert_eq!(child.remote_ts[0].to_string(), "192.0.2.2", "dynamic");
    assert_eq!(child.mode, Mode::Tunnel);
    assert_eq!(child.start_action, StartAction::None);
    assert_eq!(child.priority, DEFAULT_CHILD_PRIORITY);
}

#[test]
fn a_dropped_key_hides_consequential_missing_errors() {
    // `nmae` is reported; "connection has no name" would only be its consequence.
    let text = "[[connections]]\nnmae = \"x\"\n";
    let e = Config::from_toml(text, Path::new("d.toml")).expect_err("invalid");
    assert_eq!(e.errors().len(), 1, "{e}");
    assert!(
        e.to_string()
            .starts_with("d.toml:2:1: unknown key \"nmae\""),
        "{e}"
    );
    // Without the typo, the missing keys are reported, all of them.
    let e = Config::from_toml("[[connections]]\n", Path::new("d.toml")).expect_err("invalid");
    assert_eq!(e.errors().len(), 3, "{e}");
    assert!(
        e.to_string()
            .contains("connection \"(unnamed)\" has no local table"),
        "{e}"
    );
}

#[test]
fn retransmission_comes_from_the_daemon_table() {
    let base = "\n[[secrets]]\nids = [\"%any\"]\npsk = \"0x00112233445566778899\"\n";
    let c = Config::from_toml(base, Path::new("d.toml")).expect("valid");
    assert_eq!(c.daemon.retransmission, Retransmission::default());
    let text = format!("[daemon]\nretransmit_timeout = \"500ms\"\nretransmit_tries = 3\n{base}");
    let c = Config::from_toml(&text, Path::new("d.toml")).expect("valid");
    let want = Retransmission {
        initial: Duration::from_millis(500),
        tries: 3,
    };
    assert_eq!(c.daemon.retransmission, want);
    let unix: rampart_ike::UnixTime = Arc::new(|| 0);
    assert_eq!(c.endpoint_config(&unix).retransmission, want);

    let bad = "[daemon]\nretransmit_timeout = \"0s\"\nretransmit_tries = 0\n";
    let e = Config::from_toml(bad, Path::new("d.toml")).expect_err("invalid");
    let text = e.to_string();
    assert_eq!(e.errors().len(), 2, "{text}");
    assert!(
        text.contains("d.toml:2:22: retransmit_timeout must be longer than 0"),
        "{text}"
    );
    assert!(
        text.contains("d.toml:3:20: retransmit_tries = 0 is out of range"),
        "{text}"
    );
}
