//! IKEv2 traffic selectors (RFC 7296 §3.13.1) and their algebra: contains, intersect, union
//! containment, and the responder's narrowing (RFC 7296 §2.9).
//!
//! A traffic selector is one address range with a protocol and one port range; a TSi or TSr
//! payload carries a list of them, meaning their union. The IKE engine converts payloads to and
//! from [`TrafficSelector`] with [`TrafficSelector::from_wire`] / [`TrafficSelector::to_wire`],
//! narrows with [`narrow_pair`], and checks rekeys with [`covers`] (RFC 7296 §2.9.2).

use core::fmt;
use std::net::IpAddr;

use crate::addr_range::{AddrRange, Family};
use crate::error::PolicyError;
use crate::port_range::{PortSelector, PortValue};
use crate::protocol::{IpProtocol, ProtocolSelector};
use crate::region::{self, Budget, Cube};

/// TS Type for an IPv4 address range (RFC 7296 §3.13.1).
pub const TS_IPV4_ADDR_RANGE: u8 = 7;
/// TS Type for an IPv6 address range (RFC 7296 §3.13.1).
pub const TS_IPV6_ADDR_RANGE: u8 = 8;

/// Boxes the union-containment test may create before it gives up and answers "not covered".
const COVER_BUDGET: usize = 100_000;

/// One IKEv2 traffic selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrafficSelector {
    addrs: AddrRange,
    protocol: ProtocolSelector,
    ports: PortSelector,
}

/// The fields of a traffic selector as they appear in a TS payload (RFC 7296 §3.13.1):
///
/// ```text
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   TS Type     |IP Protocol ID*|       Selector Length         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Start Port*         |           End Port*           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                         Starting Address*                     ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                         Ending Address*                       ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TsWire {
    /// TS Type: [`TS_IPV4_ADDR_RANGE`] or [`TS_IPV6_ADDR_RANGE`].
    pub ts_type: u8,
    /// IP Protocol ID, 0 for any.
    pub ip_protocol_id: u8,
    /// Start Port (ICMP: type in the high byte, code in the low byte).
    pub start_port: u16,
    /// End Port.
    pub end_port: u16,
    /// Starting Address.
    pub start_addr: IpAddr,
    /// Ending Address.
    pub end_addr: IpAddr,
}

impl TrafficSelector {
    /// A traffic selector from its parts.
    pub fn new(addrs: AddrRange, protocol: ProtocolSelector, ports: PortSelector) -> Self {
        Self {
            addrs,
            protocol,
            ports,
        }
    }

    /// Every protocol and port between the addresses of `addrs`.
    pub fn from_addrs(addrs: AddrRange) -> Self {
        Self::new(addrs, ProtocolSelector::Any, PortSelector::ANY)
    }

    /// From a TS payload's fields, checking them (RFC 7296 §3.13.1): the type matches the
    /// addresses' family, start address ≤ end address, start port ≤ end port unless the pair is
    /// the OPAQUE encoding `65535..0`.
    pub fn from_wire(w: &TsWire) -> Result<Self, PolicyError> {
        let family = match w.ts_type {
            TS_IPV4_ADDR_RANGE => Family::V4,
            TS_IPV6_ADDR_RANGE => Family::V6,
            _ => {
                return Err(PolicyError::BadTrafficSelector {
                    reason: "unknown TS type",
                });
            }
        };
        if Family::of(w.start_addr) != family || Family::of(w.end_addr) != family {
            return Err(PolicyError::BadTrafficSelector {
                reason: "address family differs from TS type",
            });
        }
        let addrs = AddrRange::new(w.start_addr, w.end_addr).map_err(|_| {
            PolicyError::BadTrafficSelector {
                reason: "start address after end address",
            }
        })?;
        let ports = PortSelector::from_ts_ports(w.start_port, w.end_port)?;
        Ok(Self::new(
            addrs,
            ProtocolSelector::from_ts_protocol_id(w.ip_protocol_id),
            ports,
        ))
    }

    /// The TS payload fields for this selector.
    pub fn to_wire(&self) -> TsWire {
        let (start_port, end_port) = self.ports.ts_ports();
        TsWire {
            ts_type: match self.addrs.family() {
                Family::V4 => TS_IPV4_ADDR_RANGE,
                Family::V6 => TS_IPV6_ADDR_RANGE,
            },
            ip_protocol_id: self.protocol.ts_protocol_id(),
            start_port,
            end_port,
            start_addr: self.addrs.start(),
            end_addr: self.addrs.end(),
        }
    }

    /// The address range.
    pub fn addrs(&self) -> AddrRange {
        self.addrs
    }

    /// The protocol.
    pub fn protocol(&self) -> ProtocolSelector {
        self.protocol
    }

    /// The ports (or ICMP type/code).
    pub fn ports(&self) -> PortSelector {
        self.ports
    }

    /// Whether one endpoint of a packet (its address, protocol and port on this side) matches.
    pub fn matches(&self, addr: IpAddr, protocol: IpProtocol, port: PortValue) -> bool {
        self.addrs.contains_addr(addr)
            && self.protocol.matches(protocol)
            && self.ports.matches(port)
    }

    /// Whether every endpoint matched by `other` is matched by `self`.
    pub fn contains(&self, other: &Self) -> bool {
        self.addrs.contains(&other.addrs)
            && self.protocol.contains(other.protocol)
            && self.ports.contains(other.ports)
    }

    /// The endpoints matched by both, or `None`.
    pub fn intersect(&self, other: &Self) -> Option<Self> {
        Some(Self {
            addrs: self.addrs.intersect(&other.addrs)?,
            protocol: self.protocol.intersect(other.protocol)?,
            ports: self.ports.intersect(other.ports)?,
        })
    }

    /// The selector as a box over (family, address, protocol, port).
    fn cube(&self) -> Cube<4> {
        let fam = u128::from(self.addrs.family() == Family::V6);
        let (p0, p1) = self.protocol.interval();
        let (q0, q1) = self.ports.interval();
        [
            (fam, fam),
            self.addrs.to_u128(),
            (u128::from(p0), u128::from(p1)),
            (u128::from(q0), u128::from(q1)),
        ]
    }
}

impl fmt::Display for TrafficSelector {
    /// strongSwan-like: `10.0.0.0/24[tcp/80]`, `10.0.0.0/24` when protocol and ports are ANY.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.addrs)?;
        match (self.protocol, self.ports == PortSelector::ANY) {
            (ProtocolSelector::Any, true) => Ok(()),
            (p, true) => write!(f, "[{p}]"),
            (p, false) => write!(f, "[{p}/{}]", self.ports),
        }
    }
}

/// Whether the union of `outer` covers the union of `inner` — exactly, not merely each inner
/// selector by one outer selector. Answers `false` if the lists are so fragmented that the exact
/// test would take too long (a conservative answer for an acceptance check).
pub fn covers(outer: &[TrafficSelector], inner: &[TrafficSelector]) -> bool {
    let outer: Vec<_> = outer.iter().map(TrafficSelector::cube).collect();
    let inner: Vec<_> = inner.iter().map(TrafficSelector::cube).collect();
    region::covers(&outer, &inner, &mut Budget::new(COVER_BUDGET)).unwrap_or(false)
}

/// Whether an endpoint (address, protocol, port) lies in the union of `list`.
pub fn list_matches(
    list: &[TrafficSelector],
    addr: IpAddr,
    protocol: IpProtocol,
    port: PortValue,
) -> bool {
    list.iter().any(|ts| ts.matches(addr, protocol, port))
}

/// Narrows one side (RFC 7296 §2.9): the traffic selectors covering exactly the intersection of
/// the union of `proposed` with the union of `allowed`. Order follows `proposed`, so the pieces of
/// the initiator's first (most specific, packet-triggered) selector come first; pieces contained
/// in an earlier piece are dropped. Empty means nothing in common.
pub fn narrow(proposed: &[TrafficSelector], allowed: &[TrafficSelector]) -> Vec<TrafficSelector> {
    let mut out: Vec<TrafficSelector> = Vec::new();
    for p in proposed {
        for a in allowed {
            let Some(piece) = p.intersect(a) else {
                continue;
            };
            if out.iter().any(|o| o.contains(&piece)) {
                continue;
            }
            out.retain(|o| !piece.contains(o));
            out.push(piece);
        }
    }
    out
}

/// The outcome of narrowing a TSi/TSr pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Narrowed {
    /// The initiator's selectors to answer with.
    pub tsi: Vec<TrafficSelector>,
    /// The responder's selectors to answer with.
    pub tsr: Vec<TrafficSelector>,
    /// Whether the answer is the proposal unchanged (no narrowing was needed).
    pub unchanged: bool,
    /// Whether the answer includes the initiator's first TSi and first TSr (RFC 7296 §2.9: it
    /// must, whenever policy allows them).
    pub includes_first_choice: bool,
}

/// Nothing of the proposal is acceptable: the responder answers TS_UNACCEPTABLE (RFC 7296 §2.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no part of the proposed traffic selectors is acceptable (TS_UNACCEPTABLE)")]
pub struct TsUnacceptable;

/// The responder's narrowing of a TSi/TSr proposal against its configured selectors for the
/// initiator's side (`allowed_tsi`) and its own side (`allowed_tsr`) (RFC 7296 §2.9):
///
/// - nothing acceptable on either side: [`TsUnacceptable`];
/// - the whole proposal acceptable: it is returned unchanged;
/// - otherwise each side the policy does not fully allow is [`narrow`]ed, which keeps the
///   initiator's first choices whenever policy allows them.
pub fn narrow_pair(
    proposed_tsi: &[TrafficSelector],
    proposed_tsr: &[TrafficSelector],
    allowed_tsi: &[TrafficSelector],
    allowed_tsr: &[TrafficSelector],
) -> Result<Narrowed, TsUnacceptable> {
    let includes_first = |tsi: &[TrafficSelector], tsr: &[TrafficSelector]| match (
        proposed_tsi.first(),
        proposed_tsr.first(),
    ) {
        (Some(i), Some(r)) => covers(tsi, &[*i]) && covers(tsr, &[*r]),
        _ => false,
    };
    if covers(allowed_tsi, proposed_tsi) && covers(allowed_tsr, proposed_tsr) {
        return Ok(Narrowed {
            tsi: proposed_tsi.to_vec(),
            tsr: proposed_tsr.to_vec(),
            unchanged: true,
            includes_first_choice: !proposed_tsi.is_empty() && !proposed_tsr.is_empty(),
        });
    }
    // A side the policy fully allows is answered as proposed; the other is narrowed.
    let side = |proposed: &[TrafficSelector], allowed: &[TrafficSelector]| {
        if covers(allowed, proposed) {
            proposed.to_vec()
        } else {
            narrow(proposed, allowed)
        }
    };
    let tsi = side(proposed_tsi, allowed_tsi);
    let tsr = side(proposed_tsr, allowed_tsr);
    if tsi.is_empty() || tsr.is_empty() {
        return Err(TsUnacceptable);
    }
    let includes_first_choice = includes_first(&tsi, &tsr);
    Ok(Narrowed {
        tsi,
        tsr,
        unchanged: false,
        includes_first_choice,
    })
}

/// Whether an address is inside a list's union (e.g. for the transport-mode rule of RFC 7296
/// §2.23.1).
pub fn list_contains_addr(list: &[TrafficSelector], addr: IpAddr) -> bool {
    list.iter().any(|ts| ts.addrs.contains_addr(addr))
}

#[cfg(test)]
mod tests;
