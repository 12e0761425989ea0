//! `rampart run` end to end: two daemons in two network namespaces joined by a veth pair set up
//! an IKE SA with PSK and a child SA (one side `start_action = "start"`, the other `"none"`),
//! seen through `rampart status --json`; `rampart down` of the child on one side removes it on
//! both; SIGTERM makes both daemons delete their IKE SA and exit 0.
//!
//! Needs root and `ip`: runs only with `RAMPART_NETNS_TESTS=1`, otherwise warns and passes.
// A harness waiting on real processes: the wall clock is what it needs.
#![allow(clippy::disallowed_methods)]

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{BIN, Guard, gateway_config, ip, netns_tests_enabled, spawn_daemons, wait_until};

fn ctl(ns: &str, sock: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, BIN])
        .args(args)
        .arg("--socket")
        .arg(sock)
        .output()
        .expect("rampart runs");
    let code = out.status.code().unwrap_or(-1);
    (code, String::from_utf8_lossy(&out.stdout).into_owned())
}

fn status(ns: &str, sock: &Path) -> Option<Value> {
    let (code, out) = ctl(ns, sock, &["status", "--json"]);
    (code == 0)
        .then(|| serde_json::from_str(&out).ok())
        .flatten()
}

/// The (spi_in, spi_out) of child `net` under an established IKE SA, if there is one.
fn child_spis(s: &Value) -> Option<(String, String)> {
    let ike = s["ike_sas"]
        .as_array()?
        .iter()
        .find(|i| i["state"] == "established")?;
    let c = ike["children"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == "net")?;
    Some((
        c["spi_in"].as_str()?.to_owned(),
        c["spi_out"].as_str()?.to_owned(),
    ))
}

fn wait_exit(child: &mut Child, timeout: Duration) -> Option<i32> {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if let Ok(Some(st)) = child.try_wait() {
            return st.code();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn two_daemons_establish_and_tear_down() {
    if !netns_tests_enabled("run_netns") {
        return;
    }
    let pid = std::process::id();
    let (na, nb) = (format!("rrun-{pid}-a"), format!("rrun-{pid}-b"));
    let (mut g, dir) = Guard::with_dir(&format!("rrun-{pid}"));
    for ns in [&na, &nb] {
        ip(&["netns", "add", ns]);
        g.namespaces.push(ns.clone());
    }
    let (va, vb) = (format!("rr{pid}a"), format!("rr{pid}b"));
    ip(&[
        "link", "add", &va, "netns", &na, "type", "veth", "peer", "name", &vb, "netns", &nb,
    ]);
    for (ns, dev, addr) in [(&na, &va, "192.0.2.1/24"), (&nb, &vb, "192.0.2.2/24")] {
        ip(&["-n", ns, "addr", "add", addr, "dev", dev]);
        ip(&["-n", ns, "link", "set", dev, "up"]);
        ip(&["-n", ns, "link", "set", "lo", "up"]);
    }
    let ca = gateway_config(&dir, "a", "start", false);
    let cb = gateway_config(&dir, "b", "none", false);
    let (sa, sb) = (dir.join("a.sock"), dir.join("b.sock"));
    spawn_daemons(&mut g, &[(&nb, &cb, &sb), (&na, &ca, &sa)]);

    // Both sides: the IKE SA established, the child SA with crosswise SPIs.
    let mut spis = None;
    wait_until("both sides' child SA", Duration::from_secs(15), || {
        let (Some(a), Some(b)) = (status(&na, &sa), status(&nb, &sb)) else {
            return false;
        };
        match (child_spis(&a), child_spis(&b)) {
            (Some(x), Some(y)) => {
                spis = Some((x, y));
                true
            }
            _ => false,
        }
    });
    let ((a_in, a_out), (b_in, b_out)) = spis.expect("set when the wait succeeded");
    assert_eq!(a_in, b_out, "A's inbound SPI is B's outbound");
    assert_eq!(a_out, b_in, "A's outbound SPI is B's inbound");
    let a = status(&na, &sa).expect("status A");
    assert_eq!(a["ike_sas"][0]["initiator"], true);
    assert_eq!(a["ike_sas"][0]["remote"], "192.0.2.2:500");
    let b = status(&nb, &sb).expect("status B");
    assert_eq!(b["ike_sas"][0]["initiator"], false);
    assert_eq!(b["ike_sas"][0]["spi_i"], a["ike_sas"][0]["spi_i"]);
    assert_eq!(b["ike_sas"][0]["spi_r"], a["ike_sas"][0]["spi_r"]);

    // An unknown name is refused with exit status 1.
    assert_eq!(ctl(&nb, &sb, &["down", "nonesuch"]).0, 1);
    // `down net` on B deletes the child on both sides; the IKE SA stays.
    assert_eq!(ctl(&nb, &sb, &["down", "net"]).0, 0);
    wait_until(
        "the child SA gone on both sides",
        Duration::from_secs(5),
        || {
            let (Some(a), Some(b)) = (status(&na, &sa), status(&nb, &sb)) else {
                return false;
            };
            child_spis(&a).is_none() && child_spis(&b).is_none()
        },
    );
    let a = status(&na, &sa).expect("status A");
    assert_eq!(a["ike_sas"][0]["state"], "established");

    // SIGTERM: both exit 0; B sees A's delete (or its own) and the sockets go away.
    let a_pid = g.daemons[1].id().to_string();
    let st = Command::new("kill")
        .args(["-TERM", &a_pid])
        .status()
        .expect("kill runs");
    assert!(st.success());
    assert_eq!(
        wait_exit(&mut g.daemons[1], Duration::from_secs(5)),
        Some(0)
    );
    wait_until("B to drop the IKE SA", Duration::from_secs(5), || {
        status(&nb, &sb).is_some_and(|b| b["ike_sas"].as_array().is_some_and(Vec::is_empty))
    });
    let b_pid = g.daemons[0].id().to_string();
    let st = Command::new("kill")
        .args(["-TERM", &b_pid])
        .status()
        .expect("kill runs");
    assert!(st.success());
    assert_eq!(
        wait_exit(&mut g.daemons[0], Duration::from_secs(5)),
        Some(0)
    );
    assert!(
        !sa.exists() && !sb.exists(),
        "control sockets removed on exit"
    );

    // Unreachable daemon: exit status 2 and the socket path in the message.
    let out = Command::new(BIN)
        .args(["status", "--socket"])
        .arg(&sa)
        .output()
        .expect("rampart runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&*sa.to_string_lossy()));
}
