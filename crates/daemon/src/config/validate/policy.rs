//! `[[policies]]`: BYPASS and DISCARD entries of the SPD (RFC 4301 §4.4.1), beside the PROTECT
//! entries the children make.
//!
//! ```toml
//! [[policies]]
//! name = "lan"                  # unique; SPD entries are "lan/out" and "lan/in"
//! direction = "both"            # "in" | "out" | "both" (default)
//! local = ["198.51.100.0/24"]   # default: any address (of the families `remote` uses)
//! remote = ["198.51.100.0/24"]  # default: any address (of the families `local` uses)
//! protocol = "udp"              # default any; a name or a number
//! local_port = 53               # or "1024-65535", "any", "opaque"; needs a protocol
//! remote_port = "any"
//! action = "bypass"             # or "discard"
//! priority = 100                # lower matches first; children's PROTECT entries default 1000
//! ```

use core::ops::Range;
use std::collections::HashMap;

use rampart_policy::{AddrRange, Direction, Family, PortSelector, ProtocolSelector, Selector};
use toml::Spanned;

use super::Validator;
use crate::config::raw::{RawPolicy, RawPort, Str};
use crate::config::values;
use crate::config::{DEFAULT_POLICY_PRIORITY, PolicyAction, PolicyConfig};

impl Validator<'_, '_> {
    pub(crate) fn policies(&mut self, raw: &[Spanned<RawPolicy>]) -> Option<Vec<PolicyConfig>> {
        let mut names = HashMap::new();
        let mut out = Some(Vec::new());
        for p in raw {
            if let Some(n) = &p.get_ref().name {
                self.unique(&mut names, n, "policy", "policies");
            }
            match (self.policy(p), out.as_mut()) {
                (Some(policy), Some(list)) => list.push(policy),
                _ => out = None,
            }
        }
        out
    }

    fn policy(&mut self, policy: &Spanned<RawPolicy>) -> Option<PolicyConfig> {
        let header = policy.span();
        let p = policy.get_ref();
        if p.name.is_none() {
            self.absent(header.clone(), "policy has no name — add name = \"...\"");
        }
        let directions =
            p.direction
                .as_ref()
                .map_or(Some(vec![Direction::Outbound, Direction::Inbound]), |d| {
                    self.choice("direction", d, &[("out", 0u8), ("in", 1), ("both", 2)])
                        .map(|k| match k {
                            0 => vec![Direction::Outbound],
                            1 => vec![Direction::Inbound],
                            _ => vec![Direction::Outbound, Direction::Inbound],
                        })
                });
        let action = match &p.action {
            Some(a) => self.choice(
                "action",
                a,
                &[
                    ("bypass", PolicyAction::Bypass),
                    ("discard", PolicyAction::Discard),
                ],
            ),
            None => {
                self.absent(header.clone(), "policy has no action — add action = \"bypass\" or action = \"discard\" (PROTECT entries come from [[connections.children]])");
                None
            }
        };
        let protocol = p
            .protocol
            .as_ref()
            .map_or(Some(ProtocolSelector::Any), |s| {
                self.check(s, values::protocol)
            });
        let local_port = self.port("local_port", p.local_port.as_ref(), protocol);
        let remote_port = self.port("remote_port", p.remote_port.as_ref(), protocol);
        let local = self.ranges(p.local.as_ref());
        let remote = self.ranges(p.remote.as_ref());
        let priority = p
            .priority
            .as_ref()
            .map_or(Some(DEFAULT_POLICY_PRIORITY), |v| self.priority(v));
        let selectors = self.policy_selectors(header, local?, remote?)?;
        let (protocol, lp, rp) = (protocol?, local_port?, remote_port?);
        Some(PolicyConfig {
            name: p.name.as_ref()?.get_ref().clone(),
            directions: directions?,
            selectors: selectors
                .into_iter()
                .map(|s| {
                    s.with_protocol(protocol)
                        .with_local_port(lp)
                        .with_remote_port(rp)
                })
                .collect(),
            action: action?,
            priority: priority?,
        })
    }

    /// `local` / `remote`: `None` inside means absent (any address).
    fn ranges(&mut self, list: Option<&Spanned<Vec<Str>>>) -> Option<Option<Vec<AddrRange>>> {
        let Some(list) = list else {
            return Some(None);
        };
        if list.get_ref().is_empty() {
            self.error(
                list.span(),
                "empty address list — list subnets, or leave the key out for any address",
            );
            return None;
        }
        let parsed: Vec<Option<AddrRange>> = list
            .get_ref()
            .iter()
            .map(|s| self.check(s, values::address_range))
            .collect();
        parsed.into_iter().collect::<Option<Vec<_>>>().map(Some)
    }

    /// Every (local, remote) pair of one family; absent sides take "any" of the other's families.
    fn policy_selectors(
        &mut self,
        header: Range<usize>,
        local: Option<Vec<AddrRange>>,
        remote: Option<Vec<AddrRange>>,
    ) -> Option<Vec<Selector>> {
        let any_of = |other: &Option<Vec<AddrRange>>| -> Vec<AddrRange> {
            let mut fams: Vec<Family> = match other {
                Some(l) => l.iter().map(AddrRange::family).collect(),
                None => vec![Family::V4, Family::V6],
            };
            fams.dedup();
            fams.into_iter().map(AddrRange::any).collect()
        };
        let l = local.clone().unwrap_or_else(|| any_of(&remote));
        let r = remote.unwrap_or_else(|| any_of(&local));
        let selectors: Vec<Selector> = l
            .iter()
            .flat_map(|a| r.iter().filter_map(|b| Selector::new(*a, *b).ok()))
            .collect();
        if selectors.is_empty() {
            self.error(header, "local and remote of this policy share no address family (one is IPv4, the other IPv6) — make them match");
            return None;
        }
        Some(selectors)
    }

    fn port(
        &mut self,
        key: &str,
        port: Option<&Spanned<RawPort>>,
        protocol: Option<ProtocolSelector>,
    ) -> Option<PortSelector> {
        let Some(port) = port else {
            return Some(PortSelector::ANY);
        };
        let parsed = match port.get_ref() {
            RawPort::Int(n) => u16::try_from(*n)
                .map(PortSelector::port)
                .map_err(|_| format!("{key} = {n} is not a port — use 0 to 65535")),
            RawPort::Text(t) => values::ports(t),
        };
        let parsed = parsed.map_err(|e| self.error(port.span(), e)).ok()?;
        if protocol == Some(ProtocolSelector::Any) && parsed != PortSelector::ANY {
            self.error(
                port.span(),
                format!("{key} needs a protocol — add protocol = \"tcp\", \"udp\" or \"sctp\""),
            );
            return None;
        }
        Some(parsed)
    }
}
