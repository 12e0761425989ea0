//! `rampart reload` and SIGHUP end to end: two `rampart run` daemons in two namespaces
//! (`common/pair.rs`) with connection `site` carrying a ping.
//!
//! 1. A's file gains a second connection `site2` (child `net2`, another pair of subnets) and
//!    `site` is left as it was: `rampart reload` reports `site` unchanged and `site2` added;
//!    `site`'s IKE and child SPIs stay the same, `site2` comes up and its subnets are routed
//!    (a ping goes through it).
//! 2. An invalid file: `rampart reload` exits 1 with the `file:line:column` message; the daemon
//!    keeps running with the SAs as they were.
//! 3. `site`'s IKE proposal changes and A gets SIGHUP: `site` is deleted and set up again with
//!    new SPIs, `site2` is untouched, and the ping goes through again.
//!
//! Needs root, `ip` and `ping`: runs only with `RAMPART_NETNS_TESTS=1`, otherwise warns and
//! passes.
// A harness waiting on real processes: the wall clock is what it needs.
#![allow(clippy::disallowed_methods)]

use std::time::Duration;

use serde_json::Value;

mod common;
#[path = "common/pair.rs"]
mod pair;

use common::netns_tests_enabled;
use pair::{B_SITE, Pair, SECRETS, a_site, spis};

/// A's second connection: child `net2` between the second pair of subnets, started at once.
const A_SITE2: &str = r#"
[[connections]]
name = "site2"
local_addrs = ["192.0.2.1"]
remote_addrs = ["192.0.2.2"]
local = { auth = "psk", id = "gw-a.test" }
remote = { auth = "psk", id = "gw-b.test" }

[[connections.children]]
name = "net2"
local_ts = ["198.51.101.0/24"]
remote_ts = ["203.0.114.0/24"]
start_action = "start"
"#;

fn a_spis(p: &Pair, conn: &str, child: &str) -> Option<[String; 4]> {
    spis(&p.status(0)?, conn, child)
}

fn names(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn reload_keeps_unchanged_connections_and_applies_the_rest() {
    if !netns_tests_enabled("reload_netns") {
        return;
    }
    let mut p = Pair::new("l");
    p.write_config(0, &format!("{SECRETS}{}", a_site("")));
    p.write_config(1, &format!("{SECRETS}{B_SITE}"));
    p.start(1);
    let a = p.start(0);
    p.wait("site/net up", Duration::from_secs(10), |p| {
        a_spis(p, "site", "net").is_some()
    });
    assert!(
        p.ping(0, "198.51.100.1", "203.0.113.1"),
        "ping through site"
    );
    let site = a_spis(&p, "site", "net").expect("up");

    // 1. A connection added, `site` as it was.
    p.write_config(0, &format!("{SECRETS}{}{A_SITE2}", a_site("")));
    let (code, out, err) = p.ctl(0, &["reload", "--json"]);
    assert_eq!(code, 0, "reload: {out} {err}");
    let answer: Value = serde_json::from_str(&out).expect("JSON answer");
    assert_eq!(names(&answer, "unchanged"), ["site"], "{answer}");
    assert_eq!(names(&answer, "added"), ["site2"], "{answer}");
    assert!(names(&answer, "changed").is_empty() && names(&answer, "removed").is_empty());
    p.wait("site2/net2 up", Duration::from_secs(10), |p| {
        a_spis(p, "site2", "net2").is_some()
    });
    let site2 = a_spis(&p, "site2", "net2").expect("up");
    assert_eq!(
        a_spis(&p, "site", "net"),
        Some(site.clone()),
        "site untouched"
    );
    assert!(
        p.ping(0, "198.51.101.1", "203.0.114.1"),
        "ping through site2 (its route added by the reload)"
    );
    assert!(
        p.ping(0, "198.51.100.1", "203.0.113.1"),
        "ping through site"
    );

    // 2. An invalid file: refused with its position, nothing changes.
    let bad = format!("{SECRETS}{}{A_SITE2}", a_site("dpd_action = \"sometimes\""));
    p.write_config(0, &bad);
    let line = bad
        .lines()
        .position(|l| l.starts_with("dpd_action"))
        .expect("the bad line")
        + 1;
    let (code, out, err) = p.ctl(0, &["reload"]);
    assert_eq!(code, 1, "an invalid file is refused: {out} {err}");
    let at = format!(
        "{}:{line}:14: dpd_action = \"sometimes\" is not valid",
        p.config_path(0).display()
    );
    assert!(err.contains(&at), "{at} in: {err}");
    assert!(err.contains("the running configuration stays"), "{err}");
    assert_eq!(
        a_spis(&p, "site", "net"),
        Some(site.clone()),
        "site untouched"
    );
    assert_eq!(
        a_spis(&p, "site2", "net2"),
        Some(site2.clone()),
        "site2 untouched"
    );

    // 3. `site`'s proposal changes; SIGHUP.
    let proposal = r#"proposals = ["aes128gcm16-prfsha256-ecp256"]"#;
    p.write_config(0, &format!("{SECRETS}{}{A_SITE2}", a_site(proposal)));
    p.signal(a, "HUP");
    p.wait("site set up again", Duration::from_secs(10), |p| {
        a_spis(p, "site", "net").is_some_and(|s| s[0] != site[0])
    });
    let again = a_spis(&p, "site", "net").expect("up");
    assert_ne!(again[2], site[2], "a new child SA");
    p.wait("the old site IKE SA gone", Duration::from_secs(5), |p| {
        p.status(0).is_some_and(|s| {
            s["ike_sas"]
                .as_array()
                .is_some_and(|l| l.iter().all(|i| i["spi_i"] != site[0].as_str()))
        })
    });
    assert_eq!(a_spis(&p, "site2", "net2"), Some(site2), "site2 untouched");
    assert!(
        p.ping(0, "198.51.100.1", "203.0.113.1"),
        "ping through the new site SA"
    );
    let log = p.log(0);
    assert!(log.contains("SIGHUP: reloading the configuration"), "{log}");
}
