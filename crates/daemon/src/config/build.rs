//! What the engines consume, derived from a valid [`Config`]: the SPD (RFC 4301 §4.4.1), the PAD
//! (RFC 4301 §4.4.3) and the IKE engine's connections.
//!
//! SPD: for each child, an outbound PROTECT entry `CONN/CHILD/out` and an inbound one
//! `CONN/CHILD/in`, both with the selectors `local_ts × remote_ts` (pairs of one family; SPD
//! selectors name addresses from the local side, so the inbound entry, for traffic from
//! remote_ts to local_ts, has the same selectors). `[[policies]]` add BYPASS/DISCARD entries
//! `NAME/out`, `NAME/in`. Match order is by priority, ties in file order with policies first.
//! The IKE bypass covers every connection's `local_addrs`.
//!
//! PAD: one entry per distinct remote identity, allowing the union of the `remote_ts` of every
//! child of the connections with that identity; named after the first such connection.

use std::sync::Arc;

use rampart_ike::{
    CertVerifier, ChildConfig, Connection, EndpointConfig, Lifetimes, LocalAuth, Mode, RemoteAuth,
    Signer, UnixTime,
};
use rampart_policy::pad::{IdPattern, Identity, Pad, PadEntry, PeerAuth};
use rampart_policy::{
    Action, AddrRange, Direction, IpsecMode, IpsecProtocol, Pfp, ProtectTemplate, Selector, Spd,
    SpdEntry,
};

use super::{
    ChildSaConfig, Config, ConnectionConfig, LocalAuthConfig, PolicyAction, RemoteAuthConfig,
};

/// The UDP port IKE uses (RFC 7296 §2).
pub const IKE_PORT: u16 = 500;

impl Config {
    /// The SPD: `[[policies]]` entries and each child's PROTECT entries, with the IKE bypass
    /// for every `local_addrs` address.
    pub fn spd(&self) -> Spd {
        let mut entries = Vec::new();
        for p in &self.policies {
            for &direction in &p.directions {
                entries.push(SpdEntry {
                    name: format!("{}/{direction}", p.name),
                    priority: p.priority,
                    direction,
                    selectors: p.selectors.clone(),
                    action: match p.action {
                        PolicyAction::Bypass => Action::Bypass,
                        PolicyAction::Discard => Action::Discard,
                    },
                });
            }
        }
        for c in &self.connections {
            for child in &c.children {
                for direction in [Direction::Outbound, Direction::Inbound] {
                    entries.push(protect_entry(c, child, direction));
                }
            }
        }
        let mut spd = Spd::from_entries(entries).expect(
            "entry names are unique: validated names contain no '/', entries add one or two",
        );
        let mut addrs: Vec<_> = self
            .connections
            .iter()
            .flat_map(|c| c.local_addrs.iter().copied())
            .collect();
        addrs.sort();
        addrs.dedup();
        spd.set_ike_addrs(addrs);
        spd
    }

    /// The PAD: who may talk IKE with us, how they authenticate, which traffic they may claim.
    pub fn pad(&self) -> Pad {
        let mut entries: Vec<PadEntry> = Vec::new();
        for c in &self.connections {
            let allowed = c
                .children
                .iter()
                .flat_map(|ch| ch.remote_ts.iter().copied());
            let pattern = id_pattern(&c.remote_id);
            if let Some(e) = entries.iter_mut().find(|e| e.id == pattern) {
                for ts in allowed {
                    if !e.allowed_ts.contains(&ts) {
                        e.allowed_ts.push(ts);
                    }
                }
                continue;
            }
            entries.push(PadEntry {
                name: c.name.clone(),
                id: pattern,
                auth: match &c.remote_auth {
                    RemoteAuthConfig::Psk(p) => PeerAuth::Psk {
                        secret: p.secret.clone(),
                    },
                    RemoteAuthConfig::Pubkey { cacerts, .. } => PeerAuth::Certificate {
                        trust_anchor: cacerts
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", "),
                    },
                },
                allowed_ts: allowed.collect(),
            });
        }
        let mut pad = Pad::new();
        for e in entries {
            pad.push(e)
                .expect("PAD names are connection names, which are unique");
        }
        pad
    }

    /// The IKE engine's connections; certificates are checked against the system clock.
    pub fn ike_connections(&self) -> Vec<Arc<Connection>> {
        let clock: UnixTime = Arc::new(system_unix_time);
        self.ike_connections_with_clock(&clock)
    }

    /// The IKE engine's connections, with `now_unix` as the clock for certificate validity.
    pub fn ike_connections_with_clock(&self, now_unix: &UnixTime) -> Vec<Arc<Connection>> {
        self.connections
            .iter()
            .map(|c| Arc::new(ike_connection(c, now_unix)))
            .collect()
    }

    /// The IKE engine's whole configuration: connections (each with its IKE SA lifetimes),
    /// PAD, the `[daemon]` retransmission schedule and the usual limits.
    pub fn endpoint_config(&self, now_unix: &UnixTime) -> EndpointConfig {
        let mut e = EndpointConfig::new(self.ike_connections_with_clock(now_unix), self.pad());
        e.retransmission = self.daemon.retransmission;
        e
    }
}

/// The real clock for certificate validity: the daemon is the one place that reads it.
#[allow(clippy::disallowed_methods)]
fn system_unix_time() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn protect_entry(c: &ConnectionConfig, child: &ChildSaConfig, direction: Direction) -> SpdEntry {
    let selectors: Vec<Selector> = child
        .local_ts
        .iter()
        .flat_map(|l| {
            child
                .remote_ts
                .iter()
                .filter_map(|r| Selector::from_traffic_selectors(l, r))
        })
        .collect();
    SpdEntry {
        name: format!("{}/{}/{direction}", c.name, child.name),
        priority: child.priority,
        direction,
        selectors,
        action: Action::Protect(ProtectTemplate {
            protocol: IpsecProtocol::Esp,
            mode: match child.mode {
                Mode::Tunnel => IpsecMode::Tunnel,
                Mode::Transport => IpsecMode::Transport,
            },
            proposals: child
                .esp_proposals
                .iter()
                .map(ToString::to_string)
                .collect(),
            pfp: Pfp::NONE,
            reqid: child.reqid,
        }),
    }
}

/// The PAD pattern accepting exactly `id`.
fn id_pattern(id: &Identity) -> IdPattern {
    match id {
        Identity::Addr(a) => IdPattern::Addr(AddrRange::host(*a)),
        Identity::Fqdn(n) => IdPattern::Fqdn(n.clone()),
        Identity::Rfc822(m) => IdPattern::Rfc822(m.clone()),
        Identity::Dn(d) => IdPattern::Dn(d.clone()),
        Identity::KeyId(k) => IdPattern::KeyId(k.clone()),
    }
}

fn ike_connection(c: &ConnectionConfig, now_unix: &UnixTime) -> Connection {
    Connection {
        name: c.name.clone(),
        local_addrs: c.local_addrs.clone(),
        remote_addrs: c.remote_addrs.clone(),
        port: IKE_PORT,
        force_encap: c.force_encap,
        ike_proposals: c.proposals.clone(),
        local_id: c.local_id.clone(),
        local_auth: match &c.local_auth {
            LocalAuthConfig::Psk(p) => LocalAuth::Psk(p.key.clone()),
            LocalAuthConfig::Pubkey { signer, .. } => {
                LocalAuth::Signature(Arc::clone(signer) as Arc<dyn Signer>)
            }
        },
        remote_id: c.remote_id.clone(),
        remote_auth: match &c.remote_auth {
            RemoteAuthConfig::Psk(p) => RemoteAuth::Psk(p.key.clone()),
            RemoteAuthConfig::Pubkey { anchors, .. } => RemoteAuth::Signature(Arc::new(
                CertVerifier::new(anchors.clone(), Arc::clone(now_unix)),
            )),
        },
        dpd_delay: c.dpd_delay,
        ike_lifetimes: Some(Lifetimes {
            rekey_after: c.rekey_time,
            hard: c.rekey_time + c.rekey_time / 10,
        }),
        children: c
            .children
            .iter()
            .map(|ch| ChildConfig {
                name: ch.name.clone(),
                local_ts: ch.local_ts.clone(),
                remote_ts: ch.remote_ts.clone(),
                esp_proposals: ch.esp_proposals.clone(),
                mode: ch.mode,
                lifetimes: Lifetimes {
                    rekey_after: ch.rekey_time,
                    hard: ch.life_time,
                },
            })
            .collect(),
    }
}
