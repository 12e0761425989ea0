//! Interoperability of the IKEv2 engine (`rampart-ike`) with a real strongSwan (charon 5.9.x
//! with kernel-libipsec), before the daemon exists: a small event loop in this file drives
//! [`Endpoint`]/[`IkeSa`] over real UDP sockets inside a network namespace, against charon in
//! the neighbouring one.
//!
//! The topology and the strongSwan peer come from the team's interop scripts
//! (`../shared/interop` next to the repository, else `/work/shared/interop`): `netns-up
//! --no-hosts` with a per-process prefix, `strongswan-peer`, `strongswan-stop`, `netns-down`.
//!
//! Runs only with `RAMPART_NETNS_TESTS=1` (and root); otherwise it prints a warning and passes.
//! Without strongSwan or the scripts it is an unavailable oracle
//! ([`rampart_testkit::unavailable`]): skipped, unless `RAMPART_REQUIRE_ORACLES=1`.
//!
//! strongSwan with kernel-libipsec forces NAT-T: it sends NAT_DETECTION hashes that do not
//! match, so after IKE_SA_INIT both sides float to UDP 4500 (RFC 7296 §2.23) with the 4-byte
//! non-ESP marker (RFC 3948 §2.2). The driver does nothing NAT-specific: it hands the engine
//! each UDP payload as received with the socket it arrived on, and sends each `Transmit` from
//! the socket of its local port (the engine adds and strips the marker itself). The tests check
//! that the engine floated: the child SA says UDP encapsulation 4500 ↔ 4500 and charon sees us
//! on port 4500.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use rampart_crypto::{SecureRandom, SystemRandom};
use rampart_daemon::config::Config;
use rampart_ike::{DatagramEvent, Endpoint, Event, IkeSa, Instant, RandomSpis};
use rampart_testkit::interop::Interop;

const GWA: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const NATT_PORT: u16 = 4500;
/// charon log levels: chd=4 dumps the CHILD_SA keys we compare with ours.
const CHARON_LOG: &str = "ike=2,enc=1,net=1,cfg=2,knl=1,chd=4";

/// Our side of the tunnel, matching `strongswan-peer`'s defaults (ids are the addresses, PSK
/// `ipx-interop-psk`, IKE `aes128gcm16-prfsha256-x25519`, ESP `aes128gcm16`).
const OUR_CONFIG: &str = r#"
[[secrets]]
ids = ["192.0.2.1", "192.0.2.2"]
psk = "ipx-interop-psk"

[[connections]]
name = "ipx"
local_addrs = ["192.0.2.1"]
remote_addrs = ["192.0.2.2"]
proposals = ["aes128gcm16-prfsha256-x25519"]
local = { auth = "psk", id = "192.0.2.1" }
remote = { auth = "psk", id = "192.0.2.2" }

[[connections.children]]
name = "net"
local_ts = ["198.51.100.0/24"]
remote_ts = ["203.0.113.0/24"]
esp_proposals = ["aes128gcm16"]
mode = "tunnel"
start_action = "none"
"#;

/// What one run of the engine saw.
#[derive(Debug, Default)]
struct Outcome {
    events: Vec<Event>,
    /// One line per datagram sent or received, for the report.
    trace: Vec<String>,
}

impl Outcome {
    fn child(&self) -> Option<&rampart_ike::ChildSa> {
        self.events.iter().find_map(|e| match e {
            Event::ChildSaEstablished(c) => Some(c),
            _ => None,
        })
    }

    fn initiator(&self) -> bool {
        self.events.iter().any(|e| {
            matches!(
                e,
                Event::IkeSaUp {
                    initiator: true,
                    ..
                }
            )
        })
    }

    fn ike_up(&self) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e, Event::IkeSaUp { .. }))
    }
}

/// The engine's clock: nanoseconds since the driver started.
struct Clock(std::time::Instant);

impl Clock {
    #[allow(clippy::disallowed_methods)] // the driver, not the engine, reads the clock
    fn new() -> Self {
        Self(std::time::Instant::now())
    }

    fn now(&self) -> Instant {
        let nanos = u64::try_from(self.0.elapsed().as_nanos()).expect("test runs < 500 years");
        Instant::from_nanos(nanos)
    }
}

/// One trace line: the IKE header's exchange type, flags and message ID (after the non-ESP
/// marker on 4500; a trace aid only).
fn describe(dir: &str, peer: SocketAddr, bytes: &[u8]) -> String {
    let bytes = if peer.port() == NATT_PORT && bytes.len() > 4 {
        bytes.strip_prefix(&[0u8; 4][..]).unwrap_or(bytes)
    } else {
        bytes
    };
    let (xchg, flags, mid) = if bytes.len() >= 28 {
        (
            bytes[18], // exchange type, RFC 7296 §3.1
            bytes[19],
            u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]),
        )
    } else {
        (0, 0, 0)
    };
    format!(
        "{dir} {peer} exch={xchg} flags={flags:#04x} mid={mid} len={}",
        bytes.len()
    )
}

/// Which side our engine takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// We initiate connection `ipx`, child `net`.
    Initiator,
    /// We wait for the peer's IKE_SA_INIT.
    Responder,
}

/// Drives one IKE SA of our engine in gwa until its child is up, the SA closes, or `limit`
/// passes. Runs inside gwa's namespace; `ready` runs once the sockets are bound (to start the
/// peer when it is the initiator).
fn drive(config: &Arc<Config>, role: Role, limit: Duration, ready: impl FnOnce()) -> Outcome {
    let rng: Arc<dyn SecureRandom> = Arc::new(SystemRandom::new());
    let clock = Clock::new();
    let connections = config.ike_connections();
    let ep_config = Arc::new(rampart_ike::EndpointConfig::new(
        connections.clone(),
        config.pad(),
    ));
    let spis = Arc::new(RandomSpis::new(rng.clone()));
    let mut endpoint = Endpoint::new(ep_config, rng, spis).expect("endpoint");
    let ike = UdpSocket::bind((GWA, 500)).expect("bind 192.0.2.1:500");
    let natt = UdpSocket::bind((GWA, 4500)).expect("bind 192.0.2.1:4500");
    for s in [&ike, &natt] {
        s.set_read_timeout(Some(Duration::from_millis(5)))
            .expect("set timeout");
    }
    let mut sa = match role {
        Role::Initiator => Some(
            endpoint
                .initiate(clock.now(), connections[0].clone(), Some("net"))
                .expect("initiate"),
        ),
        Role::Responder => None,
    };
    ready();
    let mut out = Outcome::default();
    let deadline = clock.now().saturating_add(limit);
    let mut buf = vec![0u8; 65536];
    loop {
        if let Some((handle, sa)) = sa.as_mut() {
            flush(sa, &mut endpoint, &ike, &natt, &mut out);
            while let Some(e) = sa.poll_endpoint_event() {
                endpoint.handle_sa_event(*handle, e);
            }
            while let Some(e) = sa.poll_event() {
                out.trace.push(format!("event {e:?}"));
                out.events.push(e);
            }
        }
        let now = clock.now();
        let closed = sa.as_ref().is_some_and(|(_, sa)| sa.is_closed());
        if out.child().is_some() || closed || now >= deadline {
            return out;
        }
        if let Some((_, sa)) = sa.as_mut() {
            if sa.poll_timeout().is_some_and(|t| t <= now) {
                sa.handle_timeout(now);
                continue;
            }
        }
        for sock in [&ike, &natt] {
            let Ok((n, remote)) = sock.recv_from(&mut buf) else {
                continue;
            };
            let bytes = &buf[..n];
            let local = sock.local_addr().expect("bound");
            out.trace.push(describe(
                &format!("recv on {}", local.port()),
                remote,
                bytes,
            ));
            match endpoint.handle_datagram(clock.now(), local, remote, bytes) {
                Some(DatagramEvent::ForSa(h)) if sa.as_ref().is_some_and(|(s, _)| *s == h) => {
                    let (_, sa) = sa.as_mut().expect("checked above");
                    sa.handle_datagram(clock.now(), local, remote, bytes);
                }
                Some(DatagramEvent::NewSa(h, new)) if sa.is_none() => {
                    out.trace.push(format!("  new responder SA {h:?}"));
                    sa = Some((h, *new));
                }
                other => out.trace.push(format!("  endpoint routed it: {other:?}")),
            }
        }
    }
}

/// Sends what the SA and the endpoint want sent, each from the socket of its local port (on
/// 4500 the payload already carries the non-ESP marker, or is a NAT keepalive).
fn flush(
    sa: &mut IkeSa,
    endpoint: &mut Endpoint,
    ike: &UdpSocket,
    natt: &UdpSocket,
    out: &mut Outcome,
) {
    let mut pending = Vec::new();
    while let Some(t) = sa.poll_transmit() {
        pending.push(t);
    }
    while let Some(t) = endpoint.poll_transmit() {
        pending.push(t);
    }
    for t in pending {
        let sock = if t.local.port() == NATT_PORT {
            natt
        } else {
            ike
        };
        out.trace.push(describe(
            &format!("send from {} ({:?})", t.local.port(), t.kind),
            t.remote,
            &t.payload,
        ));
        sock.send_to(&t.payload, t.remote)
            .expect("send IKE datagram");
    }
}

/// How both sides authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    /// The PSK `ipx-interop-psk`, ids = addresses.
    Psk,
    /// ECDSA certificates from the interop scripts' test CA (`make-pki`), ids
    /// `gwa.ipx.example` (us) and `gwb.ipx.example` (strongSwan).
    Pubkey,
}

/// Our configuration for `auth`; for certificates, makes our key and certificate in the
/// shared PKI dir that `strongswan-peer --auth pubkey` uses.
fn our_config(net: &Interop, auth: Auth) -> Arc<Config> {
    let text = match auth {
        Auth::Psk => OUR_CONFIG.to_owned(),
        Auth::Pubkey => {
            let pki = net.run_dir().join("pki");
            let dir = pki.to_str().expect("utf-8 path");
            net.script(&[
                "make-pki",
                "--dir",
                dir,
                "--ip",
                "192.0.2.1",
                "gwa.ipx.example",
            ]);
            let local = format!(
                r#"{{ auth = "pubkey", id = "gwa.ipx.example", cert = "{dir}/gwa.ipx.example.crt", key = "{dir}/gwa.ipx.example.pk8.pem" }}"#
            );
            let remote = format!(
                r#"{{ auth = "pubkey", id = "gwb.ipx.example", cacerts = ["{dir}/ca.crt"] }}"#
            );
            let text = OUR_CONFIG.replace(r#"{ auth = "psk", id = "192.0.2.1" }"#, &local);
            text.replace(r#"{ auth = "psk", id = "192.0.2.2" }"#, &remote)
        }
    };
    Config::from_toml(&text, Path::new("interop.toml"))
        .unwrap_or_else(|e| panic!("our interop config: {e}\n{text}"))
}

fn charon_lines(log: &str, needles: &[&str]) -> String {
    log.lines()
        .filter(|l| needles.iter().any(|n| l.contains(n)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The bytes of the last key charon logged after `label` (a hex dump, 16 bytes a line:
/// `   16: 34 7D E0 28      4}.(`).
fn logged_key(log: &str, label: &str) -> Option<Vec<u8>> {
    let start = log.rfind(label)?;
    let mut key = Vec::new();
    for line in log[start..].lines().skip(1) {
        let Some((_, dump)) = line.split_once("> ") else {
            break;
        };
        let dump = dump.trim_start();
        let Some((offset, rest)) = dump.split_once(": ") else {
            break;
        };
        if offset.parse::<usize>().ok() != Some(key.len()) {
            break;
        }
        let hex_part: String = rest.chars().take(16 * 3).collect();
        for byte in hex_part.split_whitespace() {
            key.push(u8::from_str_radix(byte, 16).ok()?);
        }
    }
    Some(key)
}

/// Asserts the full success: our events, then strongSwan's view of the SAs.
fn assert_established(net: &Interop, out: &Outcome) {
    let log = net.charon_log();
    let ctx = || {
        format!(
            "trace:\n{}\ncharon.log (IKE):\n{}",
            out.trace.join("\n"),
            charon_lines(&log, &["[IKE]", "[ENC]", "[NET]", "[KNL]"])
        )
    };
    assert!(out.ike_up(), "no IkeSaUp\n{}", ctx());
    let child = out.child().unwrap_or_else(|| panic!("no child\n{}", ctx()));
    let ts = |v: &[rampart_policy::TrafficSelector]| {
        v.iter().map(ToString::to_string).collect::<Vec<_>>()
    };
    assert_eq!(ts(&child.local_ts), ["198.51.100.0/24"], "{}", ctx());
    assert_eq!(ts(&child.remote_ts), ["203.0.113.0/24"], "{}", ctx());
    // strongSwan forces NAT-T: the engine must have floated to 4500 (RFC 7296 §2.23).
    let encap = child
        .udp_encap
        .unwrap_or_else(|| panic!("strongSwan forces NAT-T\n{}", ctx()));
    assert_eq!(
        (encap.local_port, encap.remote_port),
        (4500, 4500),
        "{}",
        ctx()
    );
    // charon installs the CHILD_SA after it has sent the IKE_AUTH response; give it a moment.
    let mut sas = String::new();
    for _ in 0..20 {
        sas = net.swanctl(&["--list-sas"]);
        if sas.contains("INSTALLED") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("swanctl --list-sas:\n{sas}");
    assert!(sas.contains("ESTABLISHED"), "{sas}\n{}", ctx());
    assert!(sas.contains("INSTALLED"), "{sas}\n{}", ctx());
    assert!(
        sas.contains("203.0.113.0/24") && sas.contains("198.51.100.0/24"),
        "{sas}"
    );
    // strongSwan's inbound SA is our outbound one and vice versa.
    let theirs_in = format!("in  {:08x}", child.outbound.spi);
    let theirs_out = format!("out {:08x}", child.inbound.spi);
    assert!(
        sas.contains(&theirs_in) && sas.contains(&theirs_out),
        "strongSwan's SPIs differ from ours ({theirs_in}, {theirs_out}):\n{sas}"
    );
    // The CHILD_SA keys (charon logs them with chd=4): both sides derived the same KEYMAT.
    let (ours_i, ours_r) = if out.initiator() {
        (&child.outbound, &child.inbound)
    } else {
        (&child.inbound, &child.outbound)
    };
    for (label, ours) in [("initiator", ours_i), ("responder", ours_r)] {
        let theirs = logged_key(&log, &format!("encryption {label} key =>"));
        assert_eq!(
            theirs.as_deref(),
            Some(ours.encr_key.expose()),
            "ESP {label} key differs from charon's"
        );
    }
}

/// (Re)starts charon in gwb for `role` (ours), then drives our engine in gwa; when charon is
/// the initiator, `swanctl --initiate` starts once our sockets are bound.
fn run(net: &Interop, role: Role, auth: Auth) -> Outcome {
    let config = our_config(net, auth);
    let auth_args: &[&str] = match auth {
        Auth::Psk => &[],
        Auth::Pubkey => &["--auth", "pubkey"],
    };
    let initiate = match role {
        Role::Initiator => {
            net.strongswan(CHARON_LOG, &[&["--role", "responder"], auth_args].concat());
            None
        }
        Role::Responder => {
            net.strongswan(
                CHARON_LOG,
                &[&["--role", "initiator", "--no-initiate"], auth_args].concat(),
            );
            Some(net.gwb_state().join("swanctl.sh"))
        }
    };
    let ns = net.ns("gwa");
    let (out, initiated) = rampart_sys::netns::run_in(&ns, move || {
        let mut child = None;
        let out = drive(&config, role, Duration::from_secs(10), || {
            child = initiate.map(|swanctl| {
                Command::new(swanctl)
                    .args(["--initiate", "--child", "ipx", "--timeout", "10"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("start swanctl --initiate")
            });
        });
        (out, child.map(std::process::Child::wait_with_output))
    })
    .expect("run in gwa");
    if let Some(r) = initiated {
        let r = r.expect("run swanctl --initiate");
        eprintln!(
            "swanctl --initiate: {}{}",
            String::from_utf8_lossy(&r.stdout),
            String::from_utf8_lossy(&r.stderr)
        );
    }
    eprintln!("{role:?}:\n{}", out.trace.join("\n"));
    out
}

/// One setup in `role` with `auth`: both sides must show the SAs established, on UDP 4500.
fn probe(role: Role, auth: Auth) {
    let Some(net) = Interop::up("strongswan_ike", "rs", false) else {
        return;
    };
    let out = run(&net, role, auth);
    assert_established(&net, &out);
    let sas = net.swanctl(&["--list-sas"]);
    assert!(
        sas.contains("192.0.2.1[4500]"),
        "charon sees us on 4500:\n{sas}"
    );
}

/// Our engine initiates (PSK) to strongSwan as the responder.
#[test]
fn psk_initiator_against_strongswan_responder() {
    probe(Role::Initiator, Auth::Psk);
}

/// strongSwan initiates (PSK) to our engine as the responder.
#[test]
fn psk_responder_to_strongswan_initiator() {
    probe(Role::Responder, Auth::Psk);
}

/// Our engine initiates with an ECDSA certificate to strongSwan as the responder (both from
/// the interop scripts' test CA).
#[test]
fn pubkey_initiator_against_strongswan_responder() {
    probe(Role::Initiator, Auth::Pubkey);
}

/// strongSwan initiates with an ECDSA certificate to our engine as the responder.
#[test]
fn pubkey_responder_to_strongswan_initiator() {
    probe(Role::Responder, Auth::Pubkey);
}
