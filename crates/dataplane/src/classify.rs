//! A plaintext packet's selector values, as the SPD matches them (RFC 4301 §4.4.1.1, §5.1
//! step 1, §5.2): addresses, the next-layer protocol after any IPv6 extension headers, and the
//! ports — or the ICMP/ICMPv6/MH `type * 256 + code` in the sender's port — or OPAQUE when they
//! cannot be seen.
//!
//! OPAQUE (RFC 4301 §4.4.1.1): a non-initial fragment, a protocol without ports, or a header cut
//! short by the packet's end. A *first* fragment still carries the upper-layer header and is
//! classified by it (§7: the SPD may then apply per-fragment rules; this module only reports what
//! the packet shows).
//!
//! ```text
//!  TCP / UDP / SCTP / UDP-Lite            ICMP / ICMPv6             Mobility Header (IPv6 ext)
//!  +-------------+-------------+          +------+------+           +--------+--------+--------+
//!  | source port | dest. port  |          | type | code |  ...      | proto  | len    | MH type|
//!  +-------------+-------------+          +------+------+           +--------+--------+--------+
//! ```

use std::net::IpAddr;

use rampart_policy::{Direction, IpProtocol, PacketSelector, PortValue};
use rampart_wire::ip::IpProtocol as WireProto;
use rampart_wire::{ipv4, ipv6};

use crate::drop::DropReason;

/// The selector values of the IP packet `packet` (starting at its IP header), with source and
/// destination mapped to local/remote by `direction`. `Malformed` when the IP header itself
/// is unreadable.
pub fn packet_selector(packet: &[u8], direction: Direction) -> Result<PacketSelector, DropReason> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => v4(packet, direction),
        Some(6) => v6(packet, direction),
        _ => Err(DropReason::Malformed),
    }
}

fn v4(packet: &[u8], direction: Direction) -> Result<PacketSelector, DropReason> {
    let ip = ipv4::Packet::new_checked(packet).map_err(|_| DropReason::Malformed)?;
    let (src, dst) = (IpAddr::V4(ip.src_addr()), IpAddr::V4(ip.dst_addr()));
    let proto = ip.protocol();
    // Only the fragment at offset 0 holds the upper-layer header.
    let upper = (ip.frag_offset() == 0).then(|| ip.payload());
    Ok(with_ports(direction, src, dst, proto, upper))
}

fn v6(packet: &[u8], direction: Direction) -> Result<PacketSelector, DropReason> {
    let ip = ipv6::Packet::new_checked(packet).map_err(|_| DropReason::Malformed)?;
    let (src, dst) = (IpAddr::V6(ip.src_addr()), IpAddr::V6(ip.dst_addr()));
    let mut walk = ip.ext_headers();
    let mut first_fragment = true;
    for header in &mut walk {
        let Ok(h) = header else {
            // A broken extension-header chain: the next layer cannot be known; the SPD sees the
            // first header's protocol with OPAQUE ports.
            let proto = IpProtocol(ip.next_header().0);
            return Ok(PacketSelector::without_ports(direction, src, dst, proto));
        };
        if h.kind == WireProto::MOBILITY {
            // The Mobility Header is a selector protocol of its own (RFC 4301 §4.4.1.1), though
            // the wire walk steps over it like an extension header.
            return Ok(with_ports(direction, src, dst, h.kind, Some(h.bytes)));
        }
        if h.kind == WireProto::FRAGMENT {
            first_fragment = ipv6::FragmentHeader::parse(h.bytes).is_ok_and(|f| f.offset == 0);
        }
    }
    let rest = ip.payload().get(walk.offset()..).filter(|_| first_fragment);
    Ok(with_ports(direction, src, dst, walk.next_kind(), rest))
}

/// Reads the ports (or ICMP type/code) of `proto` from `upper`, the bytes after the IP headers
/// (`None`: a non-initial fragment).
fn with_ports(
    direction: Direction,
    src: IpAddr,
    dst: IpAddr,
    proto: WireProto,
    upper: Option<&[u8]>,
) -> PacketSelector {
    let protocol = IpProtocol(proto.0);
    let bare = || PacketSelector::without_ports(direction, src, dst, protocol);
    let Some(upper) = upper else { return bare() };
    match proto {
        WireProto::TCP | WireProto::UDP | WireProto::SCTP | WireProto(136) => {
            match (upper.get(0..2), upper.get(2..4)) {
                (Some(s), Some(d)) => PacketSelector::from_packet(
                    direction,
                    src,
                    dst,
                    protocol,
                    PortValue::Port(u16::from_be_bytes([s[0], s[1]])),
                    PortValue::Port(u16::from_be_bytes([d[0], d[1]])),
                ),
                _ => bare(),
            }
        }
        WireProto::ICMP | WireProto::ICMPV6 => match upper.get(0..2) {
            Some(tc) => PacketSelector::icmp(direction, src, dst, protocol, tc[0], tc[1]),
            None => bare(),
        },
        // RFC 4301 §4.4.1.1: the MH type in the high byte, the low byte zero.
        WireProto::MOBILITY => match upper.get(2) {
            Some(&t) => PacketSelector::icmp(direction, src, dst, protocol, t, 0),
            None => bare(),
        },
        _ => bare(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(p: &[u8]) -> PacketSelector {
        packet_selector(p, Direction::Outbound).expect("parses")
    }

    /// An IPv4 header (no options) with `proto`, fragment offset `frag` (8-byte units), and
    /// `payload`.
    fn v4(proto: u8, frag: u16, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; 20];
        p[0] = 0x45;
        let total = u16::try_from(20 + payload.len()).unwrap();
        p[2..4].copy_from_slice(&total.to_be_bytes());
        p[6..8].copy_from_slice(&frag.to_be_bytes());
        p[8] = 64;
        p[9] = proto;
        p[12..16].copy_from_slice(&[198, 51, 100, 10]);
        p[16..20].copy_from_slice(&[203, 0, 113, 10]);
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn tcp_ports_and_direction() {
        let p = v4(6, 0, &[0x30, 0x39, 0x01, 0xbb, 0, 0, 0, 0]);
        let s = sel(&p);
        assert_eq!(s.protocol, IpProtocol(6));
        assert_eq!(
            (s.local_port, s.remote_port),
            (PortValue::Port(12345), PortValue::Port(443))
        );
        let i = packet_selector(&p, Direction::Inbound).unwrap();
        assert_eq!(i.local, "203.0.113.10".parse::<IpAddr>().unwrap());
        assert_eq!(i.local_port, PortValue::Port(443));
    }

    #[test]
    fn icmp_type_code_sits_in_the_senders_port() {
        let s = sel(&v4(1, 0, &[8, 0, 0, 0]));
        assert_eq!(s.local_port, PortValue::icmp(8, 0));
        assert_eq!(s.remote_port, PortValue::Opaque);
    }

    #[test]
    fn non_initial_fragments_and_short_headers_are_opaque() {
        let s = sel(&v4(17, 0x0010, &[0x30, 0x39, 0x00, 0x35]));
        assert_eq!(
            (s.local_port, s.remote_port),
            (PortValue::Opaque, PortValue::Opaque)
        );
        let s = sel(&v4(17, 0, &[0x30]));
        assert_eq!(s.local_port, PortValue::Opaque);
        // GRE has no ports.
        let s = sel(&v4(47, 0, &[0, 0, 0x08, 0]));
        assert_eq!(
            (s.protocol, s.local_port),
            (IpProtocol(47), PortValue::Opaque)
        );
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for p in [&[][..], &[0x45, 0, 0], &[0x60; 10], &[0x10; 40]] {
            assert_eq!(
                packet_selector(p, Direction::Outbound),
                Err(DropReason::Malformed)
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120)) {
            let _ = packet_selector(&bytes, Direction::Outbound);
        }
    }
}
