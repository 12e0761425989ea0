//! The next-layer protocol selector (RFC 4301 §4.4.1.1 "Next Layer Protocol"; RFC 7296 §3.13.1
//! "IP Protocol ID", where 0 means any protocol).
//!
//! `IpProtocol` is a local stand-in for the wire crate's IP protocol number type; the two will be
//! merged when that type lands.

use core::fmt;

/// An IP protocol number (IANA "Assigned Internet Protocol Numbers"), unknown values kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpProtocol(pub u8);

impl IpProtocol {
    /// ICMP (RFC 792).
    pub const ICMP: Self = Self(1);
    /// TCP.
    pub const TCP: Self = Self(6);
    /// UDP.
    pub const UDP: Self = Self(17);
    /// ESP (RFC 4303).
    pub const ESP: Self = Self(50);
    /// AH (RFC 4302).
    pub const AH: Self = Self(51);
    /// ICMPv6 (RFC 4443).
    pub const ICMPV6: Self = Self(58);
    /// Mobility Header (RFC 6275).
    pub const MOBILITY_HEADER: Self = Self(135);
    /// SCTP.
    pub const SCTP: Self = Self(132);

    /// Whether the protocol's "ports" are an ICMP type/code or MH type (RFC 4301 §4.4.1.1) rather
    /// than two transport ports.
    pub fn has_type_code(self) -> bool {
        matches!(self, Self::ICMP | Self::ICMPV6 | Self::MOBILITY_HEADER)
    }
}

impl fmt::Display for IpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::ICMP => f.write_str("icmp"),
            Self::TCP => f.write_str("tcp"),
            Self::UDP => f.write_str("udp"),
            Self::ESP => f.write_str("esp"),
            Self::AH => f.write_str("ah"),
            Self::ICMPV6 => f.write_str("ipv6-icmp"),
            Self::MOBILITY_HEADER => f.write_str("mh"),
            Self::SCTP => f.write_str("sctp"),
            Self(n) => write!(f, "proto-{n}"),
        }
    }
}

/// The protocol part of a selector: ANY, or one protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ProtocolSelector {
    /// Any protocol (IKEv2 IP Protocol ID 0).
    #[default]
    Any,
    /// Exactly this protocol.
    Only(IpProtocol),
}

impl ProtocolSelector {
    /// From an IKEv2 IP Protocol ID, where 0 means any (RFC 7296 §3.13.1).
    pub fn from_ts_protocol_id(id: u8) -> Self {
        if id == 0 {
            Self::Any
        } else {
            Self::Only(IpProtocol(id))
        }
    }

    /// The IKEv2 IP Protocol ID: 0 for ANY.
    pub fn ts_protocol_id(self) -> u8 {
        match self {
            Self::Any => 0,
            Self::Only(p) => p.0,
        }
    }

    /// Whether a packet of protocol `p` matches.
    pub fn matches(self, p: IpProtocol) -> bool {
        match self {
            Self::Any => true,
            Self::Only(q) => p == q,
        }
    }

    /// Whether every protocol matched by `other` is matched by `self`.
    pub fn contains(self, other: Self) -> bool {
        match (self, other) {
            (Self::Any, _) => true,
            (Self::Only(_), Self::Any) => false,
            (Self::Only(a), Self::Only(b)) => a == b,
        }
    }

    /// The protocols matched by both, or `None`.
    pub fn intersect(self, other: Self) -> Option<Self> {
        match (self, other) {
            (Self::Any, x) | (x, Self::Any) => Some(x),
            (Self::Only(a), Self::Only(b)) => (a == b).then_some(self),
        }
    }

    /// The selector as an inclusive interval of protocol numbers.
    pub fn interval(self) -> (u8, u8) {
        match self {
            Self::Any => (0, u8::MAX),
            Self::Only(p) => (p.0, p.0),
        }
    }
}

impl fmt::Display for ProtocolSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("any"),
            Self::Only(p) => p.fmt(f),
        }
    }
}
