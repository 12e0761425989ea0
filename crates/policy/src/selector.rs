//! SPD selectors (RFC 4301 §4.4.1.1): one local address range, one remote address range, a
//! next-layer protocol and two port selectors — a box in selector space. An SPD entry holds a list
//! of them (RFC 4301 §4.4.1.2 "one or more selector sets"), matched as a union.
//!
//! Also here: deriving a child SA's selectors from a policy and a triggering packet with the
//! populate-from-packet (PFP) flags (RFC 4301 §4.4.1.2), and the conversion to and from a pair of
//! IKEv2 traffic selectors.

use core::fmt;
use std::net::IpAddr;

use crate::addr_range::{AddrRange, Family};
use crate::error::PolicyError;
use crate::packet::PacketSelector;
use crate::port_range::{PortSelector, PortValue};
use crate::protocol::{IpProtocol, ProtocolSelector};
use crate::region::Cube;
use crate::traffic_selector::TrafficSelector;

/// One selector set: `local × remote × protocol × local_port × remote_port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Selector {
    local: AddrRange,
    remote: AddrRange,
    protocol: ProtocolSelector,
    local_port: PortSelector,
    remote_port: PortSelector,
}

/// Populate-from-packet flags (RFC 4301 §4.4.1.2): for each selector, whether a new SA takes the
/// value from the packet that triggered it (`true`) or the policy's whole range (`false`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Pfp {
    /// Take the local address from the packet.
    pub local_addr: bool,
    /// Take the remote address from the packet.
    pub remote_addr: bool,
    /// Take the next-layer protocol from the packet.
    pub protocol: bool,
    /// Take the local port from the packet.
    pub local_port: bool,
    /// Take the remote port from the packet.
    pub remote_port: bool,
}

impl Pfp {
    /// Every selector from the policy: one SA for all the entry's traffic.
    pub const NONE: Self = Self {
        local_addr: false,
        remote_addr: false,
        protocol: false,
        local_port: false,
        remote_port: false,
    };
    /// Every selector from the packet: one SA per flow.
    pub const ALL: Self = Self {
        local_addr: true,
        remote_addr: true,
        protocol: true,
        local_port: true,
        remote_port: true,
    };
}

impl Selector {
    /// Traffic between `local` and `remote`, any protocol and ports. Both ranges must be of one
    /// family.
    pub fn new(local: AddrRange, remote: AddrRange) -> Result<Self, PolicyError> {
        if local.family() != remote.family() {
            return Err(PolicyError::FamilyMismatch {
                what: "selector local/remote",
            });
        }
        Ok(Self {
            local,
            remote,
            protocol: ProtocolSelector::Any,
            local_port: PortSelector::ANY,
            remote_port: PortSelector::ANY,
        })
    }

    /// Every packet of `family`.
    pub fn any(family: Family) -> Self {
        let all = AddrRange::any(family);
        Self {
            local: all,
            remote: all,
            protocol: ProtocolSelector::Any,
            local_port: PortSelector::ANY,
            remote_port: PortSelector::ANY,
        }
    }

    /// The same selector limited to `protocol`.
    #[must_use]
    pub fn with_protocol(mut self, protocol: ProtocolSelector) -> Self {
        self.protocol = protocol;
        self
    }

    /// The same selector with local port selector `ports`.
    #[must_use]
    pub fn with_local_port(mut self, ports: PortSelector) -> Self {
        self.local_port = ports;
        self
    }

    /// The same selector with remote port selector `ports`.
    #[must_use]
    pub fn with_remote_port(mut self, ports: PortSelector) -> Self {
        self.remote_port = ports;
        self
    }

    /// Local addresses.
    pub fn local(&self) -> AddrRange {
        self.local
    }

    /// Remote addresses.
    pub fn remote(&self) -> AddrRange {
        self.remote
    }

    /// Next-layer protocol.
    pub fn protocol(&self) -> ProtocolSelector {
        self.protocol
    }

    /// Local ports (or ICMP type/code sent by the local side).
    pub fn local_port(&self) -> PortSelector {
        self.local_port
    }

    /// Remote ports (or ICMP type/code sent by the remote side).
    pub fn remote_port(&self) -> PortSelector {
        self.remote_port
    }

    /// The address family of both ranges.
    pub fn family(&self) -> Family {
        self.local.family()
    }

    /// Whether a packet matches every selector (RFC 4301 §4.4.1.1).
    pub fn matches(&self, p: &PacketSelector) -> bool {
        self.local.contains_addr(p.local)
            && self.remote.contains_addr(p.remote)
            && self.protocol.matches(p.protocol)
            && self.local_port.matches(p.local_port)
            && self.remote_port.matches(p.remote_port)
    }

    /// Whether every packet matched by `other` is matched by `self`.
    pub fn contains(&self, other: &Self) -> bool {
        self.local.contains(&other.local)
            && self.remote.contains(&other.remote)
            && self.protocol.contains(other.protocol)
            && self.local_port.contains(other.local_port)
            && self.remote_port.contains(other.remote_port)
    }

    /// The packets matched by both, or `None`.
    pub fn intersect(&self, other: &Self) -> Option<Self> {
        Some(Self {
            local: self.local.intersect(&other.local)?,
            remote: self.remote.intersect(&other.remote)?,
            protocol: self.protocol.intersect(other.protocol)?,
            local_port: self.local_port.intersect(other.local_port)?,
            remote_port: self.remote_port.intersect(other.remote_port)?,
        })
    }

    /// The selector for the packets of a child SA negotiated with traffic selectors `local_ts`
    /// (ours) and `remote_ts` (the peer's); `None` when they cannot describe one packet (different
    /// families, or different protocols).
    pub fn from_traffic_selectors(
        local_ts: &TrafficSelector,
        remote_ts: &TrafficSelector,
    ) -> Option<Self> {
        let mut s = Self::new(local_ts.addrs(), remote_ts.addrs()).ok()?;
        s.protocol = local_ts.protocol().intersect(remote_ts.protocol())?;
        s.local_port = local_ts.ports();
        s.remote_port = remote_ts.ports();
        Some(s)
    }

    /// The (local, remote) traffic selector pair describing this selector in IKEv2.
    pub fn to_traffic_selectors(&self) -> (TrafficSelector, TrafficSelector) {
        (
            TrafficSelector::new(self.local, self.protocol, self.local_port),
            TrafficSelector::new(self.remote, self.protocol, self.remote_port),
        )
    }

    /// The selector of an SA created for `packet` under this policy selector (RFC 4301
    /// §4.4.1.2): each field flagged in `pfp` is narrowed to the packet's value, the others keep
    /// the policy's range. `packet` is expected to match `self`.
    pub fn derive_sa_selector(&self, packet: &PacketSelector, pfp: Pfp) -> Self {
        let port = |v: PortValue| match v {
            PortValue::Port(p) => PortSelector::port(p),
            PortValue::Opaque => PortSelector::OPAQUE,
        };
        let pick = |flag: bool, from_packet: IpAddr, policy: AddrRange| {
            if flag {
                AddrRange::host(from_packet)
            } else {
                policy
            }
        };
        Self {
            local: pick(pfp.local_addr, packet.local, self.local),
            remote: pick(pfp.remote_addr, packet.remote, self.remote),
            protocol: if pfp.protocol {
                ProtocolSelector::Only(packet.protocol)
            } else {
                self.protocol
            },
            local_port: if pfp.local_port {
                port(packet.local_port)
            } else {
                self.local_port
            },
            remote_port: if pfp.remote_port {
                port(packet.remote_port)
            } else {
                self.remote_port
            },
        }
    }

    /// The selector as a box over (family, local, remote, protocol, local port, remote port).
    pub(crate) fn cube(&self) -> Cube<6> {
        let fam = match self.family() {
            Family::V4 => 0,
            Family::V6 => 1,
        };
        let (p0, p1) = self.protocol.interval();
        let (l0, l1) = self.local_port.interval();
        let (r0, r1) = self.remote_port.interval();
        [
            (fam, fam),
            self.local.to_u128(),
            self.remote.to_u128(),
            (u128::from(p0), u128::from(p1)),
            (u128::from(l0), u128::from(l1)),
            (u128::from(r0), u128::from(r1)),
        ]
    }
}

impl fmt::Display for Selector {
    /// `local[port] -> remote[port] proto P`, e.g. `10.0.0.0/24[any] -> 192.0.2.1[443] proto tcp`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}] -> {}[{}] proto {}",
            self.local, self.local_port, self.remote, self.remote_port, self.protocol
        )
    }
}

/// One box of a region in selector space, as found by the policy check: like a [`Selector`] but
/// protocols and ports may be any interval (e.g. "every protocol but TCP" is two boxes, one with
/// protocols `0..=5`). Ports are points of `0..=65536`, 65536 standing for OPAQUE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SelectorBox {
    /// Local addresses.
    pub local: AddrRange,
    /// Remote addresses.
    pub remote: AddrRange,
    /// Protocol numbers, inclusive.
    pub protocols: (u8, u8),
    /// Local port points, inclusive (65536 = OPAQUE).
    pub local_ports: (u32, u32),
    /// Remote port points, inclusive (65536 = OPAQUE).
    pub remote_ports: (u32, u32),
}

impl SelectorBox {
    /// The box from its internal form. Bounds are in range by construction (they come from
    /// subtracting selector boxes, which never leaves a dimension's domain).
    pub(crate) fn from_cube(c: &Cube<6>) -> Self {
        let family = if c[0].0 == 0 { Family::V4 } else { Family::V6 };
        let u8_of = |v: u128| u8::try_from(v).unwrap_or(u8::MAX);
        let u32_of = |v: u128| u32::try_from(v).unwrap_or(u32::MAX);
        Self {
            local: AddrRange::from_u128(family, c[1].0, c[1].1),
            remote: AddrRange::from_u128(family, c[2].0, c[2].1),
            protocols: (u8_of(c[3].0), u8_of(c[3].1)),
            local_ports: (u32_of(c[4].0), u32_of(c[4].1)),
            remote_ports: (u32_of(c[5].0), u32_of(c[5].1)),
        }
    }

    /// One packet in the box: its lowest corner.
    pub fn example(&self) -> PacketSelector {
        PacketSelector {
            local: self.local.start(),
            remote: self.remote.start(),
            protocol: IpProtocol(self.protocols.0),
            local_port: PortValue::from_point(self.local_ports.0),
            remote_port: PortValue::from_point(self.remote_ports.0),
        }
    }
}

impl fmt::Display for SelectorBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ports =
            |(lo, hi): (u32, u32)| match (PortValue::from_point(lo), PortValue::from_point(hi)) {
                _ if lo == 0 && hi >= 65535 => {
                    if hi == 65535 {
                        "0-65535".to_owned()
                    } else {
                        "any".to_owned()
                    }
                }
                (PortValue::Opaque, _) => "opaque".to_owned(),
                (PortValue::Port(a), PortValue::Port(b)) if a == b => a.to_string(),
                (PortValue::Port(a), PortValue::Port(b)) => format!("{a}-{b}"),
                (PortValue::Port(a), PortValue::Opaque) => format!("{a}-65535+opaque"),
            };
        let protos = match self.protocols {
            (0, 255) => "any".to_owned(),
            (a, b) if a == b => IpProtocol(a).to_string(),
            (a, b) => format!("{a}-{b}"),
        };
        write!(
            f,
            "{}[{}] -> {}[{}] proto {}",
            self.local,
            ports(self.local_ports),
            self.remote,
            ports(self.remote_ports),
            protos
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::addr_range::tests::r;
    use crate::packet::Direction;
    use crate::port_range::tests::{arb_port_selector, arb_port_value};
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    pub(crate) fn sel(local: &str, remote: &str) -> Selector {
        Selector::new(r(local), r(remote)).expect("test selector families match")
    }

    pub(crate) fn arb_protocol() -> impl Strategy<Value = ProtocolSelector> {
        prop_oneof![
            Just(ProtocolSelector::Any),
            Just(ProtocolSelector::Only(IpProtocol::TCP)),
            Just(ProtocolSelector::Only(IpProtocol::UDP)),
        ]
    }

    /// IPv4 selectors over a small space, so that overlaps and coverings are frequent.
    pub(crate) fn arb_selector() -> impl Strategy<Value = Selector> {
        let v4 = || {
            (0u32..64, 0u32..64).prop_map(|(a, b)| {
                AddrRange::from_u128(Family::V4, u128::from(a.min(b)), u128::from(a.max(b)))
            })
        };
        (
            v4(),
            v4(),
            arb_protocol(),
            arb_port_selector(),
            arb_port_selector(),
        )
            .prop_map(|(l, r, p, lp, rp)| {
                Selector::new(l, r)
                    .expect("both IPv4")
                    .with_protocol(p)
                    .with_local_port(lp)
                    .with_remote_port(rp)
            })
    }

    pub(crate) fn arb_packet() -> impl Strategy<Value = PacketSelector> {
        let proto = prop_oneof![
            Just(IpProtocol::TCP),
            Just(IpProtocol::UDP),
            Just(IpProtocol::ICMP)
        ];
        (
            0u32..66,
            0u32..66,
            proto,
            arb_port_value(),
            arb_port_value(),
        )
            .prop_map(|(l, r, p, lp, rp)| PacketSelector {
                local: IpAddr::V4(Ipv4Addr::from(l)),
                remote: IpAddr::V4(Ipv4Addr::from(r)),
                protocol: p,
                local_port: lp,
                remote_port: rp,
            })
    }

    #[test]
    fn matching_follows_direction() {
        let s = sel("10.0.0.0/24", "192.0.2.0/24")
            .with_protocol(ProtocolSelector::Only(IpProtocol::TCP))
            .with_remote_port(PortSelector::port(443));
        let a = "10.0.0.5".parse().unwrap();
        let b = "192.0.2.9".parse().unwrap();
        let out = PacketSelector::from_packet(
            Direction::Outbound,
            a,
            b,
            IpProtocol::TCP,
            PortValue::Port(50000),
            PortValue::Port(443),
        );
        let back = PacketSelector::from_packet(
            Direction::Inbound,
            b,
            a,
            IpProtocol::TCP,
            PortValue::Port(443),
            PortValue::Port(50000),
        );
        assert!(s.matches(&out) && s.matches(&back));
        let udp = PacketSelector {
            protocol: IpProtocol::UDP,
            ..out
        };
        assert!(!s.matches(&udp));
        // A fragment without ports does not match a specific port (RFC 4301 §4.4.1.1).
        let frag = PacketSelector::without_ports(Direction::Outbound, a, b, IpProtocol::TCP);
        assert!(!s.matches(&frag));
        assert!(Selector::new(r("10.0.0.0/8"), r("::/0")).is_err());
    }

    #[test]
    fn icmp_sits_in_the_senders_port() {
        let s = sel("10.0.0.0/24", "192.0.2.0/24")
            .with_protocol(ProtocolSelector::Only(IpProtocol::ICMP))
            .with_local_port(PortSelector::icmp_type(8));
        let a = "10.0.0.5".parse().unwrap();
        let b = "192.0.2.9".parse().unwrap();
        let request_out = PacketSelector::icmp(Direction::Outbound, a, b, IpProtocol::ICMP, 8, 0);
        let request_in = PacketSelector::icmp(Direction::Inbound, b, a, IpProtocol::ICMP, 8, 0);
        assert!(s.matches(&request_out));
        assert!(!s.matches(&request_in));
        assert_eq!(request_in.remote_port, PortValue::icmp(8, 0));
    }

    #[test]
    fn pfp_derivation() {
        let policy = sel("10.0.0.0/24", "192.0.2.0/24");
        let pkt = PacketSelector::from_packet(
            Direction::Outbound,
            "10.0.0.5".parse().unwrap(),
            "192.0.2.9".parse().unwrap(),
            IpProtocol::TCP,
            PortValue::Port(40000),
            PortValue::Port(22),
        );
        assert_eq!(policy.derive_sa_selector(&pkt, Pfp::NONE), policy);
        let per_host = Pfp {
            remote_addr: true,
            ..Pfp::NONE
        };
        assert_eq!(
            policy.derive_sa_selector(&pkt, per_host),
            sel("10.0.0.0/24", "192.0.2.9")
        );
        let flow = policy.derive_sa_selector(&pkt, Pfp::ALL);
        assert!(flow.matches(&pkt) && policy.contains(&flow));
        assert_eq!(
            flow.to_string(),
            "10.0.0.5[40000] -> 192.0.2.9[22] proto tcp"
        );
    }

    proptest! {
        #[test]
        fn intersect_commutes(a in arb_selector(), b in arb_selector()) {
            prop_assert_eq!(a.intersect(&b), b.intersect(&a));
        }

        #[test]
        fn contains_iff_intersection_is_inner(a in arb_selector(), b in arb_selector()) {
            prop_assert_eq!(a.contains(&b), a.intersect(&b) == Some(b));
        }

        #[test]
        fn intersection_is_pointwise_and(a in arb_selector(), b in arb_selector(), p in arb_packet()) {
            let both = a.matches(&p) && b.matches(&p);
            prop_assert_eq!(a.intersect(&b).is_some_and(|i| i.matches(&p)), both);
        }

        #[test]
        fn ts_pair_round_trip(a in arb_selector()) {
            let (l, r) = a.to_traffic_selectors();
            prop_assert_eq!(Selector::from_traffic_selectors(&l, &r), Some(a));
        }

        #[test]
        fn pfp_result_matches_packet_and_stays_inside(a in arb_selector(), p in arb_packet(),
                                                     flags in proptest::array::uniform5(any::<bool>())) {
            // Move the packet into the selector: clamp each field into the selector's range.
            let clamp = |v: u128, (lo, hi): (u128, u128)| v.clamp(lo, hi);
            let (l, r) = (a.local().to_u128(), a.remote().to_u128());
            let port = |v: PortValue, s: PortSelector| {
                let (lo, hi) = s.interval();
                PortValue::from_point(v.point().clamp(lo, hi))
            };
            let p = PacketSelector {
                local: crate::addr_range::u128_to_addr(Family::V4, clamp(crate::addr_range::addr_to_u128(p.local), l)),
                remote: crate::addr_range::u128_to_addr(Family::V4, clamp(crate::addr_range::addr_to_u128(p.remote), r)),
                protocol: match a.protocol() { ProtocolSelector::Only(q) => q, ProtocolSelector::Any => p.protocol },
                local_port: port(p.local_port, a.local_port()),
                remote_port: port(p.remote_port, a.remote_port()),
            };
            prop_assert!(a.matches(&p));
            let pfp = Pfp { local_addr: flags[0], remote_addr: flags[1], protocol: flags[2],
                            local_port: flags[3], remote_port: flags[4] };
            let d = a.derive_sa_selector(&p, pfp);
            prop_assert!(d.matches(&p));
            prop_assert!(a.contains(&d));
        }
    }
}
