//! Which packets the kernel hands to the data plane's TUN device (DESIGN.md §2, outbound is
//! route-based), and how the daemon's own IKE and ESP packets stay out of it.
//!
//! Every child's `remote_ts` prefixes are routed into the TUN device in a table of our own,
//! [`TABLE`], and one policy-routing rule per address family sends every packet *without* the
//! daemon's firewall mark there (`ip rule add not fwmark 0x7270 lookup 7270 priority 32700`,
//! the shape WireGuard's `wg-quick` uses). The daemon's sockets (UDP 500/4500 and the raw ESP
//! sockets) carry that mark (`SO_MARK`), so their packets skip the rule and follow the main
//! table to the peer. That is what makes these safe:
//!
//! - transport mode (RFC 4301 §4.1), whose selectors are the gateways' own addresses: the
//!   gateway's own traffic to the peer goes into the TUN device and is protected, while IKE and
//!   ESP to the same address do not loop;
//! - tunnel mode whose `remote_ts` covers the peer's address (e.g. `0.0.0.0/0`).
//!
//! A lookup that finds nothing in [`TABLE`] goes on to the main table, so everything else is
//! routed as before; so does one that ends on a `throw` route, which [`TABLE`] holds for each
//! tunnel's `local_ts` (with `remote_ts = 0.0.0.0/0` the protected LAN stays reachable).
//! Transport-mode routes name the connection's own address as the preferred source, so the
//! kernel picks the address the SA's selectors hold even though the TUN device has none.
//!
//! Reverse-path filtering: a decrypted packet written to the TUN device comes from an address
//! the (unmarked) reverse lookup routes into the TUN device, so strict `rp_filter` accepts it.
//! What the peer sends on the outer link is another matter when [`TABLE`] covers the peer's
//! address: the reverse lookup carries no mark and names the TUN device, so strict `rp_filter`
//! (1) on that link drops it. Rules matching IKE and ESP by protocol and port (which the
//! reverse lookup does see) would let those pass, but not the peer's ARP requests, whose
//! check is a lookup of protocol 0 (`arp_process` → `ip_route_input`): the neighbour entry
//! then fails and everything stops. WireGuard's answer (`src_valid_mark` and a mark restored
//! by conntrack) needs netfilter and has the same ARP gap. So that link needs loose mode (2,
//! the systemd default; the kernel applies the larger of `all` and the device's value, so
//! `net.ipv4.conf.DEV.rp_filter=2` is enough) or none; the daemon warns when a device it may
//! use is strict in that case.
//!
//! Everything added is removed when [`Routing`] drops (daemon exit).

use std::io;
use std::net::IpAddr;

use rampart_ike::Mode;
use rampart_policy::TrafficSelector;
use rampart_sys::netlink::Netlink;
use rampart_sys::rtnl::{Prefix, Route, Rule};

use super::log::log;
use crate::config::Config;

/// The firewall mark of the daemon's own sockets (ASCII "rp").
pub(crate) const FWMARK: u32 = 0x7270;
/// The routing table the selectors are routed in.
pub(crate) const TABLE: u32 = 7270;
/// The priority of the `not fwmark` rule: before the main table's rule (32766).
pub(crate) const RULE_PRIORITY: u32 = 32700;

/// One route the daemon wants into the TUN device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Planned {
    /// The selector's prefix.
    pub(crate) dst: Prefix,
    /// Transport mode: the connection's own address of that family, as the preferred source.
    pub(crate) pref_src: Option<IpAddr>,
    /// A `throw` route (a tunnel's `local_ts`): lookups fall through to the main table.
    pub(crate) throw: bool,
}

fn ts_prefix(ts: &TrafficSelector) -> Option<Prefix> {
    let a = ts.addrs();
    Prefix::new(a.start(), a.prefix_len()?)
}

/// The routes `config` needs: every child's `remote_ts` that is a prefix (others are logged and
/// skipped), once each; then a `throw` route for each tunnel child's `local_ts` prefix that is
/// not a `remote_ts` too. The throw routes keep the packets for the protected local subnets
/// out of the TUN device when a wider `remote_ts` (e.g. `0.0.0.0/0`) covers them too: the
/// longest match in [`TABLE`] wins, and a throw sends the lookup on to the main table (so the
/// decrypted packets reach the LAN instead of going back into the tunnel). Pure, so it is
/// tested without a kernel.
pub(crate) fn plan(config: &Config) -> Vec<Planned> {
    let mut out: Vec<Planned> = Vec::new();
    for conn in &config.connections {
        for c in &conn.children {
            for ts in &c.remote_ts {
                let Some(dst) = ts_prefix(ts) else {
                    log!(Warn, "{}: remote_ts {ts} is not a prefix: no route", c.name);
                    continue;
                };
                let pref_src = match c.mode {
                    Mode::Transport => conn
                        .local_addrs
                        .iter()
                        .copied()
                        .find(|a| a.is_ipv4() == dst.addr().is_ipv4()),
                    _ => None,
                };
                if !out.iter().any(|p| p.dst == dst) {
                    out.push(Planned {
                        dst,
                        pref_src,
                        throw: false,
                    });
                }
            }
        }
    }
    let tunnels = config
        .connections
        .iter()
        .flat_map(|c| c.children.iter())
        .filter(|c| c.mode == Mode::Tunnel);
    for ts in tunnels.flat_map(|c| c.local_ts.iter()) {
        if let Some(dst) = ts_prefix(ts).filter(|d| !out.iter().any(|p| p.dst == *d)) {
            out.push(Planned {
                dst,
                pref_src: None,
                throw: true,
            });
        }
    }
    out
}

/// Whether any planned route covers one of the connections' remote addresses (then the peer's
/// own packets reach us from an address routed into the TUN device).
fn covers_a_peer(config: &Config, planned: &[Planned]) -> bool {
    config
        .connections
        .iter()
        .flat_map(|c| c.remote_addrs.iter())
        .any(|a| {
            planned
                .iter()
                .any(|p| !p.throw && prefix_contains(p.dst, *a))
        })
}

fn prefix_contains(p: Prefix, a: IpAddr) -> bool {
    let bits = |x: IpAddr| match x {
        IpAddr::V4(v) => u128::from(u32::from(v)) << 96,
        IpAddr::V6(v) => u128::from(v),
    };
    if p.addr().is_ipv4() != a.is_ipv4() {
        return false;
    }
    let mask = u128::MAX.checked_shl(128 - u32::from(p.len())).unwrap_or(0);
    bits(p.addr()) & mask == bits(a) & mask
}

/// The routes and rules the daemon added; removed on drop.
#[derive(Debug)]
pub(crate) struct Routing {
    routes: Vec<Route>,
    rules: Vec<Rule>,
}

impl Routing {
    /// Routes every planned prefix into `ifindex` in [`TABLE`] and adds the `not fwmark` rule
    /// for each family that has one. Failures are logged; what succeeded is kept for removal.
    pub(crate) fn install(config: &Config, ifindex: u32, nl: &mut Netlink) -> Self {
        let mut me = Self {
            routes: Vec::new(),
            rules: Vec::new(),
        };
        me.update(config, ifindex, nl);
        me
    }

    /// Brings routes and rules to what `config` plans (after a reload): adds the new ones
    /// first, then removes what is no longer planned, so traffic that stays routed into the
    /// tunnel never sees a gap (with a default route it would leave in clear).
    pub(crate) fn update(&mut self, config: &Config, ifindex: u32, nl: &mut Netlink) {
        let planned = plan(config);
        let wanted: Vec<(Route, &str)> = planned.iter().map(|p| route_of(p, ifindex)).collect();
        for (route, what) in &wanted {
            if self.routes.contains(route) {
                continue;
            }
            match nl.add_route(route) {
                Ok(()) => {
                    log!(Info, "route {} {what} (table {TABLE})", route.dst);
                    self.routes.push(*route);
                }
                Err(e) => log!(Warn, "route {} {what}: {e}", route.dst),
            }
        }
        for ipv6 in [false, true] {
            let tun = |r: &Route| !r.throw && r.dst.addr().is_ipv6() == ipv6;
            let rule = fwmark_rule(ipv6);
            if !self.routes.iter().any(tun) || self.rules.contains(&rule) {
                continue;
            }
            match nl.add_rule(&rule) {
                // A rule left by a daemon that was killed is as good as ours.
                Ok(()) => self.rules.push(rule),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => self.rules.push(rule),
                Err(e) => log!(Warn, "rule not fwmark {FWMARK:#x} lookup {TABLE}: {e}"),
            }
        }
        let stale: Vec<Route> = self
            .routes
            .iter()
            .filter(|r| !wanted.iter().any(|(w, _)| w == *r))
            .copied()
            .collect();
        for route in stale {
            if let Err(e) = nl.del_route(&route) {
                log!(Warn, "remove route {}: {e}", route.dst);
            }
            self.routes.retain(|r| *r != route);
        }
        let routes = &self.routes;
        self.rules.retain(|rule| {
            let used = routes
                .iter()
                .any(|r| !r.throw && r.dst.addr().is_ipv6() == rule.ipv6);
            if !used {
                if let Err(e) = nl.del_rule(rule) {
                    log!(Warn, "delete rule fwmark {FWMARK:#x}: {e}");
                }
            }
            used
        });
        if covers_a_peer(config, &planned) {
            for dev in strict_rp_filter_devices() {
                log!(
                    Warn,
                    "a route into the TUN device covers a peer's address and {dev} has strict \
                     rp_filter: what the peer sends there is dropped (set \
                     net.ipv4.conf.{dev}.rp_filter=2)"
                );
            }
        }
    }
}

/// The route for a planned prefix, and what it does (for the log).
fn route_of(p: &Planned, ifindex: u32) -> (Route, &'static str) {
    if p.throw {
        (Route::throw(p.dst, TABLE), "throw")
    } else {
        let r = Route {
            table: TABLE,
            pref_src: p.pref_src,
            ..Route::device(p.dst, ifindex)
        };
        (r, "into the TUN device")
    }
}

/// `not fwmark FWMARK lookup TABLE`: everything but the daemon's own packets sees the tunnel
/// routes.
fn fwmark_rule(ipv6: bool) -> Rule {
    Rule {
        ipv6,
        fwmark: Some(FWMARK),
        ip_proto: None,
        sport: None,
        invert: true,
        table: TABLE,
        priority: RULE_PRIORITY,
    }
}

/// The devices (but loopback and our TUN device) where IPv4 reverse-path filtering is strict:
/// the larger of `all` and the device's own `rp_filter` is 1.
fn strict_rp_filter_devices() -> Vec<String> {
    let conf = std::path::Path::new("/proc/sys/net/ipv4/conf");
    let read = |dev: &str| {
        std::fs::read_to_string(conf.join(dev).join("rp_filter"))
            .ok()
            .and_then(|s| s.trim().parse::<u8>().ok())
            .unwrap_or(0)
    };
    let all = read("all");
    let Ok(dir) = std::fs::read_dir(conf) else {
        return Vec::new();
    };
    let skip = ["all", "default", "lo", super::dataplane::TUN_NAME];
    let mut out: Vec<String> = dir
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|d| !skip.contains(&d.as_str()) && all.max(read(d)) == 1)
        .collect();
    out.sort();
    out
}

impl Drop for Routing {
    fn drop(&mut self) {
        let Ok(mut nl) = Netlink::open() else { return };
        for rule in &self.rules {
            if let Err(e) = nl.del_rule(rule) {
                log!(Warn, "delete rule fwmark {FWMARK:#x}: {e}");
            }
        }
        for route in &self.routes {
            // The TUN device may be gone already, and its routes with it.
            let _ = nl.del_route(route);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn config(children: &str) -> std::sync::Arc<Config> {
        let text = format!(
            r#"[[secrets]]
ids = ["a", "b"]
psk = "0123456789abcdef0123456789"

[[connections]]
name = "c"
local_addrs = ["192.0.2.1"]
remote_addrs = ["192.0.2.2"]
local = {{ auth = "psk", id = "a" }}
remote = {{ auth = "psk", id = "b" }}
{children}"#
        );
        Config::from_toml(&text, std::path::Path::new("test.toml")).expect("valid config")
    }

    fn p(s: &str) -> Prefix {
        let (a, l) = s.split_once('/').expect("prefix literal");
        Prefix::new(a.parse().expect("address"), l.parse().expect("length")).expect("prefix")
    }

    #[test]
    fn tunnel_routes_have_no_source_transport_routes_name_ours() {
        let c = config(
            r#"
[[connections.children]]
name = "net"
local_ts = ["198.51.100.0/24", "2001:db8:1::/48"]
remote_ts = ["203.0.113.0/24", "2001:db8:2::/48", "203.0.113.0/24"]

[[connections.children]]
name = "host"
mode = "transport"
"#,
        );
        let got = plan(&c);
        let want = [
            ("203.0.113.0/24", None, false),
            ("2001:db8:2::/48", None, false),
            ("192.0.2.2/32", Some("192.0.2.1"), false),
            ("198.51.100.0/24", None, true),
            ("2001:db8:1::/48", None, true),
        ]
        .map(|(d, s, throw)| Planned {
            dst: p(d),
            pref_src: s.map(|s| s.parse().expect("address")),
            throw,
        });
        assert_eq!(got, want, "each prefix once, in order; dynamic is the peer");
        assert!(
            covers_a_peer(&c, &got),
            "the transport child covers 192.0.2.2"
        );
        assert!(!covers_a_peer(&c, &got[..2]));
        assert!(!covers_a_peer(&c, &got[3..]), "throw routes do not count");
    }

    #[test]
    fn a_default_route_throws_the_local_subnet() {
        let c = config(
            r#"
[[connections.children]]
name = "all"
local_ts = ["198.51.100.0/24"]
remote_ts = ["0.0.0.0/0"]
"#,
        );
        let got = plan(&c);
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].dst, got[0].throw), (p("0.0.0.0/0"), false));
        assert_eq!((got[1].dst, got[1].throw), (p("198.51.100.0/24"), true));
        assert!(covers_a_peer(&c, &got), "0.0.0.0/0 covers the peer");
    }

    #[test]
    fn prefix_containment() {
        assert!(prefix_contains(
            p("0.0.0.0/0"),
            "192.0.2.2".parse().expect("a")
        ));
        assert!(prefix_contains(
            p("192.0.2.0/24"),
            "192.0.2.2".parse().expect("a")
        ));
        assert!(!prefix_contains(
            p("192.0.3.0/24"),
            "192.0.2.2".parse().expect("a")
        ));
        assert!(!prefix_contains(p("::/0"), "192.0.2.2".parse().expect("a")));
        assert!(prefix_contains(
            p("2001:db8::2/128"),
            "2001:db8::2".parse().expect("a")
        ));
        assert!(!prefix_contains(
            p("2001:db8::3/128"),
            "2001:db8::2".parse().expect("a")
        ));
    }
}
