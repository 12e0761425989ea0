//! The selector values of one packet (RFC 4301 §4.4.1.1), as the SPD lookup sees them: addresses,
//! protocol and ports named from the local side, so one SPD entry describes both directions.
//!
//! Outbound, the local address is the source; inbound, it is the destination (RFC 4301 §4.4.1.1
//! "Local Address"/"Remote Address"). ICMP, ICMPv6 and MH carry `type * 256 + code` in the port
//! of the side that *sent* the packet (outbound the local port, inbound the remote port) and
//! OPAQUE in the other, the same way on both peers, matching how IKEv2 carries it in TSi/TSr.

use core::fmt;
use std::net::IpAddr;

use crate::port_range::PortValue;
use crate::protocol::IpProtocol;

/// Which way a packet crosses the IPsec boundary (RFC 4301 §4.4.1: SPD-O / SPD-I).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// Arriving from the unprotected side (SPD-I; RFC 4301 §5.2).
    Inbound,
    /// Leaving from the protected side (SPD-O; RFC 4301 §5.1).
    Outbound,
}

impl Direction {
    /// The other direction.
    pub fn reverse(self) -> Self {
        match self {
            Self::Inbound => Self::Outbound,
            Self::Outbound => Self::Inbound,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Inbound => "in",
            Self::Outbound => "out",
        })
    }
}

/// One packet's selector values, from the local point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PacketSelector {
    /// Local address: the source outbound, the destination inbound.
    pub local: IpAddr,
    /// Remote address: the destination outbound, the source inbound.
    pub remote: IpAddr,
    /// Next-layer protocol (after IPv6 extension headers).
    pub protocol: IpProtocol,
    /// Local port (or ICMP type/code when the local side sent it), or OPAQUE.
    pub local_port: PortValue,
    /// Remote port (or ICMP type/code when the remote side sent it), or OPAQUE.
    pub remote_port: PortValue,
}

impl PacketSelector {
    /// From a packet's header fields: source/destination are mapped to local/remote by
    /// `direction`.
    pub fn from_packet(
        direction: Direction,
        src: IpAddr,
        dst: IpAddr,
        protocol: IpProtocol,
        src_port: PortValue,
        dst_port: PortValue,
    ) -> Self {
        match direction {
            Direction::Outbound => Self {
                local: src,
                remote: dst,
                protocol,
                local_port: src_port,
                remote_port: dst_port,
            },
            Direction::Inbound => Self {
                local: dst,
                remote: src,
                protocol,
                local_port: dst_port,
                remote_port: src_port,
            },
        }
    }

    /// An ICMP, ICMPv6 or MH packet: `type * 256 + code` sits in the sender's port, the other
    /// port is OPAQUE (RFC 4301 §4.4.1.1; see the module docs).
    pub fn icmp(
        direction: Direction,
        src: IpAddr,
        dst: IpAddr,
        protocol: IpProtocol,
        icmp_type: u8,
        code: u8,
    ) -> Self {
        let tc = PortValue::icmp(icmp_type, code);
        Self::from_packet(direction, src, dst, protocol, tc, PortValue::Opaque)
    }

    /// A packet whose ports cannot be seen (a non-initial fragment, or a protocol without ports).
    pub fn without_ports(
        direction: Direction,
        src: IpAddr,
        dst: IpAddr,
        protocol: IpProtocol,
    ) -> Self {
        Self::from_packet(
            direction,
            src,
            dst,
            protocol,
            PortValue::Opaque,
            PortValue::Opaque,
        )
    }
}

impl fmt::Display for PacketSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let port = |p: PortValue| match p {
            PortValue::Port(n) => n.to_string(),
            PortValue::Opaque => "opaque".to_owned(),
        };
        write!(
            f,
            "local {} port {} <-> remote {} port {} proto {}",
            self.local,
            port(self.local_port),
            self.remote,
            port(self.remote_port),
            self.protocol
        )
    }
}
