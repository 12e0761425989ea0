//! Shared IP-layer vocabulary: the protocol-number registry ([`IpProtocol`]), version detection
//! from the first nibble ([`IpVersion`]), and address pairs for pseudo-header checksums
//! ([`AddrPair`]).
//!
//! Every header view in this crate names its "next protocol" through [`IpProtocol`], so the data
//! plane can walk IPv4/IPv6 → (extension headers) → AH/ESP/UDP with one vocabulary.

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};

use crate::{Error, Result};

/// An IANA "Assigned Internet Protocol Number" (the IPv4 Protocol / IPv6 Next Header field).
///
/// A newtype that keeps unknown values: any `u8` is representable, the constants name the ones
/// this crate knows about.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpProtocol(pub u8);

impl IpProtocol {
    /// IPv6 Hop-by-Hop Options header (RFC 8200 §4.3).
    pub const IPV6_HOPOPTS: Self = Self(0);
    /// ICMP (RFC 792).
    pub const ICMP: Self = Self(1);
    /// IGMP (RFC 1112).
    pub const IGMP: Self = Self(2);
    /// IPv4 encapsulated in IP (IP-in-IP, RFC 2003); ESP/AH tunnel mode with an IPv4 inner packet.
    pub const IPV4: Self = Self(4);
    /// TCP (RFC 9293).
    pub const TCP: Self = Self(6);
    /// UDP (RFC 768).
    pub const UDP: Self = Self(17);
    /// IPv6 encapsulated in IP (RFC 2473); ESP/AH tunnel mode with an IPv6 inner packet.
    pub const IPV6: Self = Self(41);
    /// IPv6 Routing header (RFC 8200 §4.4).
    pub const ROUTING: Self = Self(43);
    /// IPv6 Fragment header (RFC 8200 §4.5).
    pub const FRAGMENT: Self = Self(44);
    /// GRE (RFC 2784).
    pub const GRE: Self = Self(47);
    /// Encapsulating Security Payload (RFC 4303).
    pub const ESP: Self = Self(50);
    /// Authentication Header (RFC 4302).
    pub const AH: Self = Self(51);
    /// ICMPv6 (RFC 4443).
    pub const ICMPV6: Self = Self(58);
    /// "No Next Header" (RFC 8200 §4.7); also the ESP dummy-packet marker (RFC 4303 §2.6).
    pub const NO_NEXT_HEADER: Self = Self(59);
    /// IPv6 Destination Options header (RFC 8200 §4.6).
    pub const DSTOPTS: Self = Self(60);
    /// SCTP (RFC 9260).
    pub const SCTP: Self = Self(132);
    /// Mobility header (RFC 6275), an IPv6 extension header.
    pub const MOBILITY: Self = Self(135);

    /// The registry name, or `None` for values this crate does not name.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::IPV6_HOPOPTS => "HOPOPT",
            Self::ICMP => "ICMP",
            Self::IGMP => "IGMP",
            Self::IPV4 => "IPv4",
            Self::TCP => "TCP",
            Self::UDP => "UDP",
            Self::IPV6 => "IPv6",
            Self::ROUTING => "IPv6-Route",
            Self::FRAGMENT => "IPv6-Frag",
            Self::GRE => "GRE",
            Self::ESP => "ESP",
            Self::AH => "AH",
            Self::ICMPV6 => "IPv6-ICMP",
            Self::NO_NEXT_HEADER => "IPv6-NoNxt",
            Self::DSTOPTS => "IPv6-Opts",
            Self::SCTP => "SCTP",
            Self::MOBILITY => "Mobility",
            _ => return None,
        })
    }
}

impl fmt::Debug for IpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "IpProtocol({name})"),
            None => write!(f, "IpProtocol({})", self.0),
        }
    }
}

impl fmt::Display for IpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{}", self.0),
        }
    }
}

impl From<u8> for IpProtocol {
    fn from(value: u8) -> Self {
        Self(value)
    }
}

impl From<IpProtocol> for u8 {
    fn from(value: IpProtocol) -> Self {
        value.0
    }
}

/// The IP version of a packet, read from the first nibble of its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpVersion {
    /// IPv4 (RFC 791).
    V4,
    /// IPv6 (RFC 8200).
    V6,
}

impl IpVersion {
    /// Reads the version nibble of `packet` (e.g. a packet read from a TUN device, or the inner
    /// packet of a tunnel-mode SA).
    ///
    /// Errors: [`Error::Truncated`] on an empty buffer, [`Error::BadVersion`] for a nibble other
    /// than 4 or 6.
    pub fn of_packet(packet: &[u8]) -> Result<Self> {
        let first = *packet.first().ok_or(Error::Truncated {
            what: "IP packet",
            need: 1,
            have: 0,
        })?;
        match first >> 4 {
            4 => Ok(Self::V4),
            6 => Ok(Self::V6),
            version => Err(Error::BadVersion {
                what: "IP packet",
                version,
            }),
        }
    }

    /// The version number as carried on the wire (4 or 6).
    pub fn number(self) -> u8 {
        match self {
            Self::V4 => 4,
            Self::V6 => 6,
        }
    }
}

/// Source and destination addresses of one IP packet, of one family: what a pseudo-header
/// checksum (UDP, TCP) covers besides the segment itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddrPair {
    /// An IPv4 source and destination.
    V4 {
        /// Source address.
        src: Ipv4Addr,
        /// Destination address.
        dst: Ipv4Addr,
    },
    /// An IPv6 source and destination.
    V6 {
        /// Source address.
        src: Ipv6Addr,
        /// Destination address.
        dst: Ipv6Addr,
    },
}

impl AddrPair {
    /// The family of the pair.
    pub fn version(&self) -> IpVersion {
        match self {
            Self::V4 { .. } => IpVersion::V4,
            Self::V6 { .. } => IpVersion::V6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_keeps_unknown_values_and_names_known_ones() {
        assert_eq!(IpProtocol::from(50), IpProtocol::ESP);
        assert_eq!(u8::from(IpProtocol::AH), 51);
        assert_eq!(format!("{:?}", IpProtocol(58)), "IpProtocol(IPv6-ICMP)");
        assert_eq!(format!("{}", IpProtocol(253)), "253");
        assert_eq!(IpProtocol(253).name(), None);
    }

    #[test]
    fn version_from_first_nibble() {
        assert_eq!(IpVersion::of_packet(&[0x45, 0]), Ok(IpVersion::V4));
        assert_eq!(IpVersion::of_packet(&[0x60]), Ok(IpVersion::V6));
        assert_eq!(
            IpVersion::of_packet(&[]),
            Err(Error::Truncated {
                what: "IP packet",
                need: 1,
                have: 0
            })
        );
        assert_eq!(
            IpVersion::of_packet(&[0x55]),
            Err(Error::BadVersion {
                what: "IP packet",
                version: 5
            })
        );
        assert_eq!(IpVersion::V6.number(), 6);
    }
}
