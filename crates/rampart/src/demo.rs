//! `rampart demo`: a whole IPsec tunnel on one machine, for a new user to watch. It builds two
//! network namespaces joined by a veth pair (gateway A 192.0.2.1, gateway B 192.0.2.2), gives
//! each a LAN address on its loopback (198.51.100.1 behind A, 203.0.113.1 behind B), writes two
//! PSK configurations, starts `rampart run` in each namespace, waits for the IKE and child SA
//! over the control socket, pings B's LAN from A's through the tunnel, shows what `rampart sa
//! list` and `rampart policy list` say, and tears everything down ([`demo_lab`](crate::demo_lab))
//! — also after Ctrl-C. All addresses are documentation ranges (RFC 5737), inside namespaces of
//! their own: nothing outside them changes.

// The demo waits on real processes: the wall clock is what it needs (the rule against reading
// it is for the protocol crates).
#![allow(clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::demo_lab::{Interrupt, Interrupted, Lab, in_path, ip, is_root, log_tail};
use crate::{config_cmd, ctl_cmd, policy_cmd};

/// How long the IKE and child SA may take to come up.
const TUNNEL_TIMEOUT: Duration = Duration::from_secs(20);
/// The child SA's name in both configurations.
const CHILD: &str = "net";

/// `rampart demo`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Leave the tunnel up after the demo until Ctrl-C (or SIGTERM), and print how to look
    /// at it meanwhile.
    #[arg(long)]
    keep: bool,
    /// How ESP travels between the gateways: `raw` (IP protocol 50) or `udp` (in UDP 4500,
    /// RFC 3948, as behind a NAT).
    #[arg(long, value_enum, default_value_t = Encap::Raw)]
    mode: Encap,
}

/// ESP on the wire.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Encap {
    /// IP protocol 50.
    Raw,
    /// ESP-in-UDP on port 4500.
    Udp,
}

/// One gateway of the demo.
struct Gateway {
    /// `a` or `b`: file names.
    tag: &'static str,
    /// The network namespace.
    ns: String,
    /// The veth end in that namespace.
    dev: String,
    /// The outer ("internet") address.
    wan: &'static str,
    /// The inner LAN address (on `lo`) and its network.
    lan: &'static str,
    lan_net: &'static str,
    id: &'static str,
}

impl Gateway {
    fn pair(pid: u32) -> [Self; 2] {
        [
            Self {
                tag: "a",
                ns: format!("rampart-demo-a-{pid}"),
                dev: format!("rdemo{pid}a"),
                wan: "192.0.2.1",
                lan: "198.51.100.1",
                lan_net: "198.51.100.0/24",
                id: "gw-a.example",
            },
            Self {
                tag: "b",
                ns: format!("rampart-demo-b-{pid}"),
                dev: format!("rdemo{pid}b"),
                wan: "192.0.2.2",
                lan: "203.0.113.1",
                lan_net: "203.0.113.0/24",
                id: "gw-b.example",
            },
        ]
    }

    fn file(&self, dir: &Path, ext: &str) -> PathBuf {
        dir.join(format!("{}.{ext}", self.tag))
    }
}

/// Runs `rampart demo`: exit 0 when the ping went through the tunnel, 1 when a step failed,
/// 130 when interrupted (except while `--keep` waits, where Ctrl-C is the way out), 2 when the
/// machine cannot run it (not root, `ip` or `ping` missing).
pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    preflight()?;
    let interrupt = Interrupt::install()?;
    let pid = std::process::id();
    let mut lab = Lab::new(std::env::temp_dir().join(format!("rampart-demo-{pid}")))?;
    let result = steps(&mut lab, &interrupt, args, pid);
    if let Err(e) = &result {
        // Say what went wrong before the teardown's lines.
        eprintln!("\nrampart demo: {e:#}");
    }
    // Written without `println!`, which panics when stdout is gone (a closed pipe).
    let mut out = std::io::stdout();
    let _ = writeln!(out, "\nTearing down:");
    lab.teardown(&mut |line| {
        let _ = writeln!(out, "  {line}");
    });
    Ok(match result {
        Ok(()) => {
            let _ = writeln!(out, "Done. Nothing of the demo is left on this machine.");
            ExitCode::SUCCESS
        }
        Err(e) if e.is::<Interrupted>() => ExitCode::from(130),
        Err(_) => ExitCode::FAILURE,
    })
}

/// Root, `ip` and `ping`: without them nothing can start.
fn preflight() -> anyhow::Result<()> {
    if !is_root() {
        bail!(
            "`rampart demo` must run as root: it creates network namespaces, a veth pair and \
             TUN devices (try `sudo rampart demo`)"
        );
    }
    for (program, package) in [("ip", "iproute2"), ("ping", "iputils-ping")] {
        if !in_path(program) {
            bail!("`rampart demo` needs `{program}`, which is not in PATH (install {package})");
        }
    }
    Ok(())
}

fn steps(lab: &mut Lab, interrupt: &Interrupt, args: &Args, pid: u32) -> anyhow::Result<()> {
    let [a, b] = Gateway::pair(pid);
    println!(
        "rampart demo: two IPsec gateways on this machine, each in its own network namespace,\n\
         a tunnel between them and a ping through it. Everything is removed at the end."
    );
    network(lab, &a, &b)?;
    interrupt.check()?;
    configure(lab, &a, &b, args.mode)?;
    let socks = daemons(lab, &a, &b)?;
    wait_for_tunnel(lab, interrupt, &socks)?;
    ping(lab, interrupt, &a, &b)?;
    show(lab, &a, &socks)?;
    if args.keep {
        keep(lab, interrupt, &a, &b, &socks)?;
    }
    Ok(())
}

/// Step 1: the namespaces, the veth pair and the LAN addresses.
fn network(lab: &mut Lab, a: &Gateway, b: &Gateway) -> anyhow::Result<()> {
    println!("\n[1/6] Network");
    for g in [a, b] {
        lab.add_namespace(&g.ns)?;
    }
    ip(&[
        "link", "add", &a.dev, "netns", &a.ns, "type", "veth", "peer", "name", &b.dev, "netns",
        &b.ns,
    ])?;
    for g in [a, b] {
        ip(&[
            "-n",
            &g.ns,
            "addr",
            "add",
            &format!("{}/24", g.wan),
            "dev",
            &g.dev,
        ])?;
        ip(&["-n", &g.ns, "link", "set", &g.dev, "up"])?;
        ip(&[
            "-n",
            &g.ns,
            "addr",
            "add",
            &format!("{}/32", g.lan),
            "dev",
            "lo",
        ])?;
    }
    println!(
        "  namespaces {} (gateway A) and {} (gateway B),\n  \
         joined by a veth pair: A {} <-> B {}, the \"internet\" between the sites.\n  \
         Behind each gateway a LAN address on its loopback: A {}, B {}.\n  \
         No route joins the LANs: only the tunnel will.",
        a.ns, b.ns, a.wan, b.wan, a.lan, b.lan
    );
    Ok(())
}

/// Step 2: the two configuration files.
fn configure(lab: &Lab, a: &Gateway, b: &Gateway, encap: Encap) -> anyhow::Result<()> {
    println!("\n[2/6] Configuration, in {}", lab.dir.display());
    let psk = random_psk()?;
    for (g, peer, start) in [(a, b, "start"), (b, a, "none")] {
        let path = g.file(&lab.dir, "toml");
        std::fs::write(&path, config_text(g, peer, start, encap, &psk))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "  a.toml and b.toml: a fresh pre-shared key; connection \"site\" {} <-> {};\n  \
         child SA \"{CHILD}\" {} <-> {}: ESP with AES-GCM, tunnel mode,\n  \
         {}.\n  \
         A initiates (start_action = \"start\"); B waits for it.",
        a.wan,
        b.wan,
        a.lan_net,
        b.lan_net,
        match encap {
            Encap::Raw => "sent as raw ESP (IP protocol 50)",
            Encap::Udp => "sent inside UDP port 4500 (RFC 3948), as behind a NAT",
        }
    );
    Ok(())
}

/// The configuration of gateway `g` (DESIGN.md §4).
fn config_text(g: &Gateway, peer: &Gateway, start: &str, encap: Encap, psk: &str) -> String {
    format!(
        r#"# Written by `rampart demo` for gateway {tag}.
[[secrets]]
ids = ["{id}", "{peer_id}"]
psk = "{psk}"

[[connections]]
name = "site"
local_addrs = ["{wan}"]
remote_addrs = ["{peer_wan}"]
proposals = ["aes128gcm16-prfsha256-x25519"]
encap = {encap}
local = {{ auth = "psk", id = "{id}" }}
remote = {{ auth = "psk", id = "{peer_id}" }}

[[connections.children]]
name = "{CHILD}"
local_ts = ["{lan_net}"]
remote_ts = ["{peer_net}"]
esp_proposals = ["aes128gcm16"]
mode = "tunnel"
start_action = "{start}"
"#,
        tag = g.tag.to_uppercase(),
        id = g.id,
        peer_id = peer.id,
        wan = g.wan,
        peer_wan = peer.wan,
        encap = encap == Encap::Udp,
        lan_net = g.lan_net,
        peer_net = peer.lan_net,
    )
}

/// A fresh PSK for this run (32 hex digits from the kernel's RNG).
fn random_psk() -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("reading /dev/urandom")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Step 3: `rampart run` in each namespace; returns the control sockets (A, B).
fn daemons(lab: &mut Lab, a: &Gateway, b: &Gateway) -> anyhow::Result<[PathBuf; 2]> {
    println!(
        "\n[3/6] Daemons: `rampart run -c X.toml --socket X.sock` in each namespace, logging\n  \
         to X.log (X = a, b)"
    );
    // B first, so that it listens when A's IKE_SA_INIT arrives.
    for g in [b, a] {
        let (cfg, sock, log) = (
            g.file(&lab.dir, "toml"),
            g.file(&lab.dir, "sock"),
            g.file(&lab.dir, "log"),
        );
        let pid = lab.start_daemon(g.tag, &g.ns, &cfg, &sock, &log)?;
        println!("  gateway {} in {}: pid {pid}", g.tag.to_uppercase(), g.ns);
    }
    Ok([a.file(&lab.dir, "sock"), b.file(&lab.dir, "sock")])
}

/// Step 4: polls both control sockets until each shows the child SA under an established IKE
/// SA.
fn wait_for_tunnel(
    lab: &mut Lab,
    interrupt: &Interrupt,
    socks: &[PathBuf; 2],
) -> anyhow::Result<()> {
    println!("\n[4/6] Tunnel");
    println!(
        "  waiting for IKE_SA_INIT and IKE_AUTH (RFC 7296) to set up the IKE SA and child SA..."
    );
    let start = Instant::now();
    loop {
        interrupt.check()?;
        lab.check_daemons()?;
        if socks.iter().all(|s| established_child(s).is_some()) {
            break;
        }
        if start.elapsed() > TUNNEL_TIMEOUT {
            bail!(
                "the tunnel did not come up within {} s; the daemons' logs:\nA:\n{}B:\n{}",
                TUNNEL_TIMEOUT.as_secs(),
                log_tail(&lab.dir.join("a.log"), 15),
                log_tail(&lab.dir.join("b.log"), 15)
            );
        }
        interrupt.sleep(Duration::from_millis(100))?;
    }
    println!(
        "  up after {:.1} s: both daemons report child SA \"{CHILD}\" under an established IKE SA",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The daemon's `sa_list` answer, when it has child [`CHILD`] under an established IKE SA.
fn established_child(socket: &Path) -> Option<Value> {
    let answer = ctl_cmd::call(socket, &json!({ "cmd": "sa_list" })).ok()?;
    let up = answer["ike_sas"].as_array()?.iter().any(|ike| {
        ike["state"] == "established"
            && ike["children"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["name"] == CHILD))
    });
    up.then_some(answer)
}

/// Step 5: ping B's LAN address from A's, through the tunnel.
fn ping(lab: &mut Lab, interrupt: &Interrupt, a: &Gateway, b: &Gateway) -> anyhow::Result<()> {
    println!("\n[5/6] Traffic");
    println!(
        "  ping {} from {}: A's kernel routes it into A's TUN device (rampart0),\n  \
         rampart encrypts it as ESP to {}, B decrypts it and hands it to B's kernel;\n  \
         the reply goes back the same way.",
        b.lan, a.lan, b.wan
    );
    let out = interrupt.output(
        Command::new("ip").args([
            "netns", "exec", &a.ns, "ping", "-c", "4", "-i", "0.2", "-W", "2", "-I", a.lan, b.lan,
        ]),
        Duration::from_secs(15),
    )?;
    let text = String::from_utf8_lossy(&out.stdout);
    for line in text.lines() {
        if line.trim().is_empty() {
            println!();
        } else {
            println!("    {line}");
        }
    }
    lab.check_daemons()?;
    if !out.status.success() || !text.contains(" 0% packet loss") {
        bail!(
            "the ping did not go through the tunnel{}; the daemons' logs:\nA:\n{}B:\n{}",
            stderr_note(&out.stderr),
            log_tail(&lab.dir.join("a.log"), 15),
            log_tail(&lab.dir.join("b.log"), 15)
        );
    }
    Ok(())
}

fn stderr_note(stderr: &[u8]) -> String {
    let s = String::from_utf8_lossy(stderr);
    if s.trim().is_empty() {
        String::new()
    } else {
        format!(" ({})", s.trim())
    }
}

/// Step 6: what `rampart sa list` says on both sides and `rampart policy list` on A.
fn show(lab: &Lab, a: &Gateway, socks: &[PathBuf; 2]) -> anyhow::Result<()> {
    println!("\n[6/6] What rampart reports");
    for (side, sock) in ["A", "B"].iter().zip(socks) {
        println!("\n  gateway {side}: the SAs and their ESP packet counters");
        println!("  $ rampart sa list --socket {}", sock.display());
        let answer = ctl_cmd::call(sock, &json!({ "cmd": "sa_list" }))?;
        ctl_cmd::print_sas(&answer["ike_sas"]);
    }
    let cfg = a.file(&lab.dir, "toml");
    println!("\n  gateway A: its security policy database (B's is the mirror image)");
    println!("  $ rampart policy list -c {}", cfg.display());
    let config = match config_cmd::load(&cfg)? {
        Ok(c) => c,
        Err(e) => bail!("the demo's own configuration is invalid: {e}"),
    };
    policy_cmd::print_list(&config.spd(), false);
    Ok(())
}

/// `--keep`: the tunnel stays up until SIGINT/SIGTERM.
fn keep(
    lab: &mut Lab,
    interrupt: &Interrupt,
    a: &Gateway,
    b: &Gateway,
    socks: &[PathBuf; 2],
) -> anyhow::Result<()> {
    let exe = std::env::current_exe().unwrap_or_else(|_| "rampart".into());
    let pids = lab.daemon_pids();
    println!(
        "\nThe tunnel stays up (--keep). From another shell, as root:\n  \
         {exe} sa list --socket {sa}\n  \
         {exe} status --json --socket {sb}\n  \
         ip netns exec {na} ping -I {la} {lb}\n  \
         ip netns exec {na} tshark -i {dev}        # ESP on the wire\n\
         Press Ctrl-C here (or send SIGTERM to pid {me}) to tear it all down.\n\
         Should this process die without tearing down (kill -9), clean up by hand:\n  \
         kill {pids}; ip netns del {na}; ip netns del {nb}; rm -r {dir}",
        exe = exe.display(),
        sa = socks[0].display(),
        sb = socks[1].display(),
        na = a.ns,
        nb = b.ns,
        la = a.lan,
        lb = b.lan,
        dev = a.dev,
        me = std::process::id(),
        pids = pids
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" "),
        dir = lab.dir.display(),
    );
    loop {
        match interrupt.sleep(Duration::from_millis(500)) {
            Ok(()) => lab.check_daemons()?,
            Err(e) if e.is::<Interrupted>() => {
                println!("\n{e}");
                return Ok(());
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The configurations the demo writes are valid, mirror each other, and produce the
    /// PROTECT policies for the two LANs.
    #[test]
    fn configurations_are_valid_mirrors() {
        let dir = std::env::temp_dir().join(format!("rampart-demo-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let [a, b] = Gateway::pair(7);
        for encap in [Encap::Raw, Encap::Udp] {
            for (g, peer, start) in [(&a, &b, "start"), (&b, &a, "none")] {
                let path = g.file(&dir, "toml");
                let text = config_text(g, peer, start, encap, "00112233445566778899aabbccddeeff");
                std::fs::write(&path, &text).expect("write");
                let config = config_cmd::load(&path)
                    .expect("readable")
                    .unwrap_or_else(|e| panic!("invalid demo config: {e}\n{text}"));
                let c = &config.connections[0];
                assert_eq!(c.children[0].name, CHILD);
                assert_eq!(text.contains("encap = true"), encap == Encap::Udp);
                let listing: String = config
                    .spd()
                    .entries()
                    .iter()
                    .flat_map(|e| e.selectors.iter().map(ToString::to_string))
                    .collect();
                assert!(listing.contains(g.lan_net) && listing.contains(peer.lan_net));
            }
        }
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn names_fit_the_kernel_limits() {
        // IFNAMSIZ: 15 characters; PIDs go up to 4194304 (7 digits).
        let [a, b] = Gateway::pair(4_194_304);
        assert!(
            a.dev.len() <= 15 && b.dev.len() <= 15,
            "{} {}",
            a.dev,
            b.dev
        );
        assert_ne!(a.ns, b.ns);
    }

    #[test]
    fn psk_is_fresh_hex() {
        let (p, q) = (
            random_psk().expect("urandom"),
            random_psk().expect("urandom"),
        );
        assert_eq!(p.len(), 32);
        assert!(p.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(p, q);
    }
}
