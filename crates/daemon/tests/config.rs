//! The configuration file end to end: valid files to the expected typed values, SPD, PAD and
//! IKE connections; invalid files to the exact `file:line:column: message` of every mistake.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rampart_daemon::config::{Config, DpdAction, LocalAuthConfig, RemoteAuthConfig, StartAction};
use rampart_ike::{LocalAuth, Mode, RemoteAuth};
use rampart_policy::pad::Identity;
use rampart_policy::{Action, Direction, PacketSelector, PortValue};

/// The repository root.
fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn example(name: &str) -> Arc<Config> {
    let path = root().join("examples").join(name);
    Config::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The error lines for `text`, read as `site.toml`.
fn errors(text: &str) -> Vec<String> {
    match Config::from_toml(text, Path::new("site.toml")) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.errors().iter().map(ToString::to_string).collect(),
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test literal is an address")
}

/// DESIGN.md §4's example, the base of the invalid cases below (line numbers refer to it).
const BASE: &str = r#"[daemon]
control_socket = "/run/rampart/rampart.sock"

[[secrets]]
ids = ["gw-a.example", "gw-b.example"]
psk = "correct horse battery staple"

[[connections]]
name = "site"
local_addrs = ["192.0.2.1"]
remote_addrs = ["192.0.2.2"]
proposals = ["aes128gcm16-prfsha256-x25519"]
local = { auth = "psk", id = "gw-a.example" }
remote = { auth = "psk", id = "gw-b.example" }
dpd_delay = "30s"

[[connections.children]]
name = "net"
local_ts = ["198.51.100.0/24"]
remote_ts = ["203.0.113.0/24"]
esp_proposals = ["aes128gcm16", "aes128-sha256"]
mode = "tunnel"
start_action = "trap"
"#;

fn base_with(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from:?} not in BASE");
    BASE.replacen(from, to, 1)
}

#[test]
fn design_example_parses_to_typed_values() {
    let config = example("site-to-site-psk.toml");
    assert_eq!(
        config.daemon.control_socket,
        Path::new("/run/rampart/rampart.sock")
    );
    assert!(!config.daemon.dangerous_allow_key_export);
    let c = &config.connections[0];
    assert_eq!(c.name, "site");
    assert_eq!(c.local_addrs, [ip("192.0.2.1")]);
    assert_eq!(c.remote_addrs, [ip("192.0.2.2")]);
    assert_eq!(c.proposals.len(), 1);
    assert_eq!(c.proposals[0].to_string(), "aes128gcm16-prfsha256-x25519");
    assert_eq!(c.local_id, Identity::Fqdn("gw-a.example".into()));
    assert_eq!(c.remote_id, Identity::Fqdn("gw-b.example".into()));
    let (LocalAuthConfig::Psk(l), RemoteAuthConfig::Psk(r)) = (&c.local_auth, &c.remote_auth)
    else {
        panic!("psk expected: {c:?}");
    };
    assert_eq!(l.key.expose(), b"correct horse battery staple");
    assert_eq!(r.secret, "secrets[0]");
    assert_eq!(c.dpd_delay, Some(Duration::from_secs(30)));
    assert_eq!(c.dpd_action, DpdAction::Clear);
    assert_eq!(c.rekey_time, Duration::from_secs(4 * 3600));
    let ch = &c.children[0];
    assert_eq!(ch.name, "net");
    assert_eq!(ch.local_ts[0].to_string(), "198.51.100.0/24");
    assert_eq!(ch.remote_ts[0].to_string(), "203.0.113.0/24");
    let esp: Vec<String> = ch.esp_proposals.iter().map(ToString::to_string).collect();
    assert_eq!(esp, ["aes128gcm16", "aes128-sha256"]);
    assert_eq!(ch.mode, Mode::Tunnel);
    assert_eq!(ch.start_action, StartAction::Trap);
    assert_eq!(ch.rekey_time, Duration::from_secs(3600));
    assert_eq!(ch.life_time, Duration::from_secs(3960));
    assert_eq!(ch.replay_window, 32);
    assert_eq!((ch.life_bytes, ch.life_packets), (None, None));
    assert_eq!(config.child_count(), 1);
}

#[test]
fn pubkey_example_loads_keys_and_anchors() {
    let config = example("site-to-site-pubkey.toml");
    let c = config.connection("pki").expect("connection pki");
    let LocalAuthConfig::Pubkey { signer, cert, .. } = &c.local_auth else {
        panic!("pubkey expected");
    };
    assert!(cert.ends_with("p256-leaf.pem"));
    assert!(signer.end_entity().subject().contains("gw-a.ipx.example"));
    let RemoteAuthConfig::Pubkey { anchors, .. } = &c.remote_auth else {
        panic!("pubkey expected");
    };
    assert_eq!(anchors.anchors().len(), 1);
    assert_eq!(c.dpd_action, DpdAction::Restart);
    assert_eq!(c.rekey_time, Duration::from_secs(8 * 3600));
    assert_eq!(c.proposals.len(), 2);
    let ch = &c.children[0];
    assert_eq!(ch.start_action, StartAction::Start);
    assert_eq!(ch.rekey_time, Duration::from_secs(5400));
    assert_eq!(ch.life_time, Duration::from_secs(7200));
    assert_eq!(ch.life_bytes, Some(1_000_000_000));
    assert_eq!(ch.life_packets, Some(1_000_000));
    assert_eq!(ch.replay_window, 128);
    assert_eq!(ch.local_ts.len(), 2);
    // Defaults: ESP proposals from the config layer.
    assert_eq!(ch.esp_proposals.len(), 2);

    let ike = config.ike_connections();
    assert!(matches!(ike[0].local_auth, LocalAuth::Signature(_)));
    assert!(matches!(ike[0].remote_auth, RemoteAuth::Signature(_)));
    assert_eq!(ike[0].children[0].lifetimes.hard, Duration::from_secs(7200));
    assert_eq!(ike[0].local_id, Identity::Fqdn("gw-a.ipx.example".into()));
}

#[test]
fn every_example_is_valid() {
    let dir = root().join("examples");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/ exists") {
        let path = entry.expect("readable dir entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            Config::load(&path).unwrap_or_else(|e| panic!("{}:\n{e}", path.display()));
            n += 1;
        }
    }
    assert!(n >= 3, "examples found: {n}");
}

#[test]
fn spd_pad_and_ike_connections_from_the_design_example() {
    let config = example("site-to-site-psk.toml");
    let spd = config.spd();
    let names: Vec<&str> = spd.entries().iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["site/net/out", "site/net/in"]);
    assert_eq!(spd.ike_addrs(), [ip("192.0.2.1")]);
    let packet = |local: &str, remote: &str| PacketSelector {
        local: ip(local),
        remote: ip(remote),
        protocol: rampart_policy::IpProtocol::TCP,
        local_port: PortValue::Port(1234),
        remote_port: PortValue::Port(80),
    };
    for dir in [Direction::Outbound, Direction::Inbound] {
        let d = spd.lookup(dir, &packet("198.51.100.7", "203.0.113.9"));
        let entry = &spd.entries()[d.index().expect("an entry decides")];
        let Action::Protect(t) = &entry.action else {
            panic!("PROTECT expected, got {:?}", entry.action)
        };
        assert_eq!(t.proposals, ["aes128gcm16", "aes128-sha256"]);
        assert_eq!(t.reqid.0, 1);
    }
    assert_eq!(
        spd.lookup(Direction::Outbound, &packet("198.51.100.7", "192.0.2.99"))
            .index(),
        None,
        "other traffic falls to the default DISCARD"
    );
    let pad = config.pad();
    let peer = Identity::Fqdn("gw-b.example".into());
    let ok = pad
        .authorize(&peer, &config.connections[0].children[0].remote_ts)
        .expect("the peer may claim its subnet");
    assert_eq!(ok.entry.name, "site");
    let other: Vec<_> = vec![rampart_policy::TrafficSelector::from_addrs(
        "10.0.0.0/8".parse().expect("prefix"),
    )];
    assert!(pad.authorize(&peer, &other).is_err());

    let ike = config.ike_connections();
    assert_eq!(ike.len(), 1);
    let c = &ike[0];
    assert_eq!(c.name, "site");
    assert_eq!(c.port, 500);
    assert_eq!(c.dpd_delay, Some(Duration::from_secs(30)));
    // The IKE SA lifetimes are the connection's own (default rekey_time 4h, hard +10 %).
    let l = c.ike_lifetimes.expect("per-connection IKE lifetimes");
    assert_eq!(l.rekey_after, Duration::from_secs(4 * 3600));
    assert_eq!(l.hard, Duration::from_secs(4 * 3600 + 1440));
    let LocalAuth::Psk(k) = &c.local_auth else {
        panic!("psk")
    };
    assert_eq!(k.expose(), b"correct horse battery staple");
    assert_eq!(c.children[0].mode, Mode::Tunnel);
}

#[test]
fn debug_never_shows_the_psk() {
    let config = example("site-to-site-psk.toml");
    let shown = format!(
        "{config:?} {:?} {:?}",
        config.ike_connections(),
        config.pad()
    );
    assert!(!shown.contains("correct horse"), "{shown}");
    assert!(!shown.contains("horse"), "{shown}");
    assert!(shown.contains("redacted"), "{shown}");
    let hex = example("bypass-and-discard.toml");
    let shown = format!("{hex:?}");
    assert!(!shown.contains("6d1b0c2a"), "{shown}");
    assert!(!shown.to_lowercase().contains("0x6d"), "{shown}");
}

/// One invalid file per row: what to change in BASE, and the exact error.
#[test]
fn invalid_configs_give_exact_positions_and_messages() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "dpd_delay = \"30s\"",
            "dpd_dely = \"30s\"",
            "site.toml:15:1: unknown key \"dpd_dely\" in [[connections]] — did you mean \"dpd_delay\"? valid keys: name, local_addrs, remote_addrs, proposals, local, remote, dpd_delay, dpd_action, rekey_time, encap, mobike, children",
        ),
        (
            "aes128gcm16-prfsha256-x25519",
            "aes128gmc16-prfsha256-x25519",
            "site.toml:12:15: unknown algorithm \"aes128gmc16\" at position 1 in \"aes128gmc16-prfsha256-x25519\": did you mean aes128gcm16?",
        ),
        (
            "aes128gcm16-prfsha256-x25519",
            "aes128gcm16-prfsha256-x25591",
            "site.toml:12:37: unknown algorithm \"x25591\" at position 3 in \"aes128gcm16-prfsha256-x25591\": did you mean x25519?",
        ),
        (
            "203.0.113.0/24",
            "203.0.113.0/33",
            "site.toml:20:14: bad address or subnet \"203.0.113.0/33\" (prefix length 33 too long for the address family) — write an address (\"192.0.2.1\"), a prefix (\"10.0.0.0/24\", \"2001:db8::/32\") or a range (\"10.0.0.1-10.0.0.9\")",
        ),
        (
            "remote_addrs = [\"192.0.2.2\"]",
            "remote_addrs = [\"2001:db8::2\"]",
            "site.toml:11:17: remote_addrs has an IPv6 entry but local_addrs has no IPv6 one — use the same address family on both sides",
        ),
        (
            "remote_ts = [\"203.0.113.0/24\"]",
            "remote_ts = [\"2001:db8::/32\"]",
            "site.toml:20:14: remote_ts has an IPv6 entry but local_ts has no IPv6 one — use the same address family on both sides",
        ),
        (
            "ids = [\"gw-a.example\", \"gw-b.example\"]",
            "ids = [\"gw-a.example\", \"gw-c.example\"]",
            "site.toml:8:1: connection \"site\" uses auth = \"psk\" but no [[secrets]] entry has ids gw-a.example and gw-b.example — add one",
        ),
        (
            "dpd_delay = \"30s\"",
            "dpd_delay = \"30\"",
            "site.toml:15:13: bad duration \"30\": missing unit — write e.g. \"30s\", \"4h\", \"1h30m\" or \"250ms\"",
        ),
        (
            "mode = \"tunnel\"",
            "replay_window = 5000",
            "site.toml:22:17: replay_window = 5000 is out of range — use 0 (off) to 4096 packets",
        ),
        (
            "start_action = \"trap\"",
            "start_action = \"sart\"",
            "site.toml:23:16: start_action = \"sart\" is not valid (did you mean \"start\"?) — use \"start\", \"trap\" or \"none\"",
        ),
        (
            "local = { auth = \"psk\", id = \"gw-a.example\" }",
            "local = { auth = \"pubkey\", id = \"gw-a.example\", cert = \"missing.pem\", key = \"missing.key\" }",
            "site.toml:13:56: cannot read certificate file \"missing.pem\" (missing.pem: No such file or directory (os error 2)) — check the path; relative paths start at the config file's directory",
        ),
        (
            "local = { auth = \"psk\", id = \"gw-a.example\" }",
            "local = { auth = \"psk\", idd = \"gw-a.example\" }",
            "site.toml:13:25: unknown key \"idd\" in local — did you mean \"id\"? valid keys: auth, id, cert, key",
        ),
        (
            "dpd_delay = \"30s\"",
            "dpd_delay = 30",
            "site.toml:15:13: wrong value for \"dpd_delay\": found integer `30`, expected a string",
        ),
        (
            "id = \"gw-b.example\"",
            "id = \"gw b\"",
            "site.toml:14:31: bad identity \"gw b\": not a host name, address, e-mail address or DN — use letters, digits, '-' and '.' for a name (e.g. \"gw.example.com\")",
        ),
    ];
    for (from, to, want) in cases {
        let got = errors(&base_with(from, to));
        let mut cert_case = got.clone();
        if want.contains("missing.pem") {
            // The private key file is missing too; both are reported.
            cert_case.retain(|e| e.contains("certificate file"));
        }
        assert_eq!(cert_case, [*want], "changing {from:?} to {to:?}");
    }
}

#[test]
fn esn_without_a_replay_window_is_refused() {
    let no_window = base_with("mode = \"tunnel\"", "replay_window = 0");
    assert!(
        Config::from_toml(&no_window, Path::new("site.toml")).is_ok(),
        "no window without ESN is fine"
    );
    let esn = no_window.replace(
        "esp_proposals = [\"aes128gcm16\", \"aes128-sha256\"]",
        "esp_proposals = [\"aes128gcm16-esn\"]",
    );
    assert_eq!(
        errors(&esn),
        [
            "site.toml:22:17: replay_window = 0 with an ESN proposal: extended sequence numbers need the anti-replay window — raise replay_window or remove \"esn\" from esp_proposals"
        ]
    );
}

#[test]
fn duplicate_names_point_at_the_second_use() {
    let doubled = format!(
        "{BASE}\n[[connections.children]]\nname = \"net\"\nlocal_ts = [\"198.51.100.0/24\"]\nremote_ts = [\"203.0.113.0/24\"]\n"
    );
    assert_eq!(
        errors(&doubled),
        [
            "site.toml:26:8: duplicate child name \"net\" (first used on line 18) — children of one connection need unique names, rename one"
        ]
    );
    let conn = BASE
        .split("[[connections]]")
        .nth(1)
        .expect("BASE has a connection");
    let twice = format!("{BASE}\n[[connections]]{conn}");
    assert_eq!(
        errors(&twice),
        [
            "site.toml:26:8: duplicate connection name \"site\" (first used on line 9) — connections need unique names, rename one"
        ]
    );
}

#[test]
fn every_error_of_a_file_is_reported() {
    let text = BASE
        .replace(
            "dpd_delay = \"30s\"",
            "dpd_delay = \"30x\"\nrekey_tim = \"1h\"",
        )
        .replace("aes128-sha256", "aes128-sha265")
        .replace("mode = \"tunnel\"", "mode = \"tunel\"\nfoo = 1")
        .replace("203.0.113.0/24", "203.0.113.0/99");
    let got = errors(&text);
    let positions: Vec<&str> = got
        .iter()
        .map(|e| e.split(": ").next().unwrap_or(""))
        .collect();
    assert_eq!(
        positions,
        [
            "site.toml:15:13", // bad duration unit
            "site.toml:16:1",  // unknown key rekey_tim
            "site.toml:21:14", // bad prefix
            "site.toml:22:41", // sha265
            "site.toml:23:8",  // mode
            "site.toml:24:1",  // unknown key foo
        ],
        "{got:#?}"
    );
    assert!(got[0].contains("unknown unit \"x\""), "{}", got[0]);
    assert!(
        got[1].contains("did you mean \"rekey_time\"?"),
        "{}",
        got[1]
    );
    assert!(got[3].contains("did you mean sha256"), "{}", got[3]);
    assert!(got[4].contains("did you mean \"tunnel\"?"), "{}", got[4]);
    assert!(got[5].contains("valid keys: name, local_ts"), "{}", got[5]);
}

#[test]
fn syntax_errors_are_located() {
    let got = errors("[[connections]]\nname = \"site\nlocal_addrs = []\n");
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].starts_with("site.toml:2:"), "{got:?}");
    assert!(got[0].contains("TOML syntax error"), "{got:?}");
}

#[test]
fn mismatched_key_and_certificate_are_refused() {
    let dir = root().join("examples");
    let text = r#"
[[connections]]
name = "x"
local_addrs = ["192.0.2.1"]
remote_addrs = ["192.0.2.2"]
local = { auth = "pubkey", cert = "../crates/crypto/testdata/pki/p256-leaf.pem", key = "../crates/crypto/testdata/pki/p256-other.key" }
remote = { auth = "pubkey", id = "gw-b.example", cacerts = ["../crates/crypto/testdata/pki/p256-root.pem"] }
"#;
    let e = Config::from_toml(text, &dir.join("x.toml")).expect_err("key does not match");
    assert_eq!(e.errors().len(), 1, "{e}");
    assert_eq!((e.errors()[0].line, e.errors()[0].column), (6, 88));
    assert!(e.to_string().contains("does not match"), "{e}");
    // Without an id, the certificate's subject is the identity.
    let ok = text.replace("p256-other.key", "p256-leaf.key");
    let c = Config::from_toml(&ok, &dir.join("x.toml")).expect("valid");
    assert!(matches!(c.connections[0].local_id, Identity::Dn(_)));
    // An id the certificate does not name is refused.
    let bad_id = ok.replace(
        "auth = \"pubkey\", cert",
        "auth = \"pubkey\", id = \"gw-z.example\", cert",
    );
    let e = Config::from_toml(&bad_id, &dir.join("x.toml")).expect_err("id not in cert");
    assert!(e.to_string().contains("gw-a.ipx.example"), "{e}");
}

#[test]
fn policies_become_spd_entries_in_priority_order() {
    let config = example("bypass-and-discard.toml");
    let spd = config.spd();
    let names: Vec<&str> = spd.entries().iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "no-dns-to-remote/out",
            "no-dns-to-remote/in",
            "lan/out",
            "lan/in",
            "site/net/out",
            "site/net/in"
        ]
    );
    let dns = PacketSelector {
        local: ip("198.51.100.7"),
        remote: ip("203.0.113.53"),
        protocol: rampart_policy::IpProtocol::UDP,
        local_port: PortValue::Port(5353),
        remote_port: PortValue::Port(53),
    };
    let d = spd.lookup(Direction::Outbound, &dns);
    assert_eq!(d.index(), Some(0), "{d:?}");
    assert!(
        rampart_policy::check::check(&spd)
            .iter()
            .all(|f| f.severity != rampart_policy::check::Severity::Error)
    );
}

#[test]
fn encap_forces_udp_encapsulation_in_the_ike_connection() {
    let parse = |text: &str| Config::from_toml(text, Path::new("site.toml")).expect("valid");
    let forced = parse(&base_with(
        "dpd_delay = \"30s\"",
        "dpd_delay = \"30s\"\nencap = true",
    ));
    assert!(forced.connections[0].force_encap);
    assert!(forced.ike_connections()[0].force_encap);
    let default = parse(BASE);
    assert!(!default.connections[0].force_encap);
    assert!(!default.ike_connections()[0].force_encap);
}

#[test]
fn transport_mode_selectors_are_single_addresses() {
    let transport = BASE.replace("mode = \"tunnel\"", "mode = \"transport\"");
    let want = |line: u32, col: u32, key: &str, ts: &str, whose: &str| {
        format!(
            "site.toml:{line}:{col}: {key} {ts} is more than one address, but transport mode protects only the two hosts' own traffic — list {whose} address, or use mode = \"tunnel\""
        )
    };
    assert_eq!(
        errors(&transport),
        [
            want(19, 13, "local_ts", "198.51.100.0/24", "this host's"),
            want(20, 14, "remote_ts", "203.0.113.0/24", "the peer's"),
        ]
    );
    // The hosts' own addresses (given, or `dynamic` by default) are what transport mode takes.
    let hosts = transport
        .replace("198.51.100.0/24", "192.0.2.1/32")
        .replace("remote_ts = [\"203.0.113.0/24\"]\n", "");
    let c = Config::from_toml(&hosts, Path::new("site.toml")).expect("valid");
    let child = &c.connections[0].children[0];
    assert_eq!(child.mode, Mode::Transport);
    assert_eq!(child.local_ts[0].to_string(), "192.0.2.1");
    assert_eq!(child.remote_ts[0].to_string(), "192.0.2.2", "dynamic");
}
