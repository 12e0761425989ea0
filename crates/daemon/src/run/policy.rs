//! The SPD as the data plane applies it (RFC 4301 §5.1 step 1): the configuration's
//! `[[policies]]` and each child's PROTECT entries, compiled once
//! ([`rampart_dataplane::spd::CompiledSpd`]) and asked per packet read from the TUN device.
//!
//! Only traffic routed into the TUN device reaches the data plane (the route-based design), so
//! the outcomes are: PROTECT — find the child's SA (or hold the packet for a trap); DISCARD —
//! drop and count under the entry's name; BYPASS — send it on unprotected (DESIGN.md §2): the
//! data plane writes it to its marked raw socket, whose packets the `not fwmark` rule keeps out
//! of the tunnel routes ([`super::routing`]), so it leaves by the main routing table — an
//! exception carved out of a tunnel that covers it.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use rampart_dataplane::classify::packet_selector;
use rampart_dataplane::spd::{CompiledSpd, Origin, Verdict};
use rampart_policy::{Direction, ReqId};
use serde_json::{Value, json};

use crate::config::Config;

/// What the SPD says about one outbound packet, with the packet's addresses it read (so the
/// caller need not parse the header again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outbound {
    /// Protect with the SA of this request id.
    Protect {
        /// The entry's request id.
        reqid: ReqId,
        /// The packet's source.
        src: IpAddr,
        /// The packet's destination.
        dst: IpAddr,
    },
    /// Send unprotected (counted) to `dst`.
    Bypass {
        /// The packet's destination.
        dst: IpAddr,
    },
    /// Dropped by policy (a DISCARD or BYPASS entry, or no entry at all); counted.
    Dropped,
}

/// The compiled outbound SPD and its per-entry drop counters.
pub(crate) struct Policies {
    out: CompiledSpd,
    names: Vec<String>,
    /// Drops per SPD entry (by position), then the no-match default and unreadable packets.
    drops: Vec<AtomicU64>,
    bypassed: AtomicU64,
}

impl Policies {
    /// Compiles `config`'s SPD.
    pub(crate) fn build(config: &Config) -> Result<Self, String> {
        let spd = config.spd();
        let out = CompiledSpd::build(&spd, Direction::Outbound)
            .map_err(|e| format!("cannot compile the SPD: {e}"))?;
        let names: Vec<String> = spd.entries().iter().map(|e| e.name.clone()).collect();
        let drops = (0..names.len() + 2).map(|_| AtomicU64::new(0)).collect();
        Ok(Self {
            out,
            names,
            drops,
            bypassed: AtomicU64::new(0),
        })
    }

    /// The decision for the IP packet `packet` leaving through the tunnel device.
    pub(crate) fn outbound(&self, packet: &[u8]) -> Outbound {
        let Ok(sel) = packet_selector(packet, Direction::Outbound) else {
            self.count(self.names.len() + 1);
            return Outbound::Dropped;
        };
        match self.out.classify(&sel) {
            Verdict::Protect { reqid, .. } => Outbound::Protect {
                reqid,
                src: sel.local,
                dst: sel.remote,
            },
            Verdict::Bypass(Origin::Entry(_)) => {
                self.bypassed.fetch_add(1, Ordering::Relaxed);
                Outbound::Bypass { dst: sel.remote }
            }
            Verdict::Bypass(o) | Verdict::Discard(o) => {
                self.count(match o {
                    Origin::Entry(i) => i,
                    _ => self.names.len(),
                });
                Outbound::Dropped
            }
        }
    }

    fn count(&self, slot: usize) {
        if let Some(c) = self.drops.get(slot) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Packets BYPASS entries let through unprotected.
    pub(crate) fn bypassed(&self) -> u64 {
        self.bypassed.load(Ordering::Relaxed)
    }

    /// The drop counters that are not zero, by entry name (`no_match`, `malformed` for the
    /// last two).
    pub(crate) fn drops_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        let names = self
            .names
            .iter()
            .map(String::as_str)
            .chain(["no_match", "malformed"]);
        for (name, c) in names.zip(&self.drops) {
            let n = c.load(Ordering::Relaxed);
            if n != 0 {
                m.insert(name.to_owned(), json!(n));
            }
        }
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
[[secrets]]
ids = ["a.example", "b.example"]
psk = "0123456789abcdef0123456789abcdef"

[[connections]]
name = "site"
local_addrs = ["192.0.2.1"]
remote_addrs = ["192.0.2.2"]
local = { auth = "psk", id = "a.example" }
remote = { auth = "psk", id = "b.example" }

[[connections.children]]
name = "net"
local_ts = ["198.51.100.0/24"]
remote_ts = ["203.0.113.0/24"]

[[policies]]
name = "no-dns"
local = ["198.51.100.0/24"]
remote = ["203.0.113.53"]
protocol = "udp"
remote_port = 53
action = "discard"
priority = 50
"#;

    fn udp(dst: [u8; 4], dport: u16) -> Vec<u8> {
        let mut p = vec![0u8; 28];
        p[0] = 0x45;
        p[3] = 28;
        p[8] = 64;
        p[9] = 17;
        p[12..16].copy_from_slice(&[198, 51, 100, 10]);
        p[16..20].copy_from_slice(&dst);
        p[20..22].copy_from_slice(&4000u16.to_be_bytes());
        p[22..24].copy_from_slice(&dport.to_be_bytes());
        p[25] = 8;
        p
    }

    #[test]
    fn discard_entries_win_over_protect_by_priority_and_are_counted() {
        let dir = std::env::temp_dir().join(format!("rampart-policy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.toml");
        std::fs::write(&path, CONFIG).unwrap();
        let config = Config::load(&path).expect("valid config");
        let p = Policies::build(&config).expect("compiles");
        let Outbound::Protect { reqid, src, dst } = p.outbound(&udp([203, 0, 113, 10], 53)) else {
            panic!("the tunnel protects other hosts' DNS");
        };
        assert_eq!(
            (src.to_string(), dst.to_string()),
            ("198.51.100.10".into(), "203.0.113.10".into())
        );
        assert_eq!(reqid, config.connections[0].children[0].reqid);
        assert_eq!(p.outbound(&udp([203, 0, 113, 53], 53)), Outbound::Dropped);
        assert_eq!(p.outbound(&udp([192, 0, 2, 99], 80)), Outbound::Dropped);
        assert_eq!(p.outbound(&[0x45, 0]), Outbound::Dropped);
        let d = p.drops_json();
        assert_eq!(d["no-dns/out"], 1, "{d}");
        assert_eq!(d["no_match"], 1, "{d}");
        assert_eq!(d["malformed"], 1, "{d}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
