//! The IP-header work around ESP: reading the plain packet an outbound SA protects, finding the
//! ESP header in a received datagram, writing outer headers (tunnel mode), and rewriting the
//! original header (transport mode). Shared by encapsulation and decapsulation; no crypto here.
//!
//! Everything reads through the `rampart-wire` views, checked first (`new_checked`), so a
//! malformed header is a [`DropReason`], never a panic.

use core::net::IpAddr;

use rampart_wire::ip::IpProtocol;
use rampart_wire::{Error as WireError, ipv4, ipv6, udp};

use crate::drop::DropReason;

/// A wire parse error as a drop reason: short input is `Truncated`, the rest `Malformed`.
pub(crate) fn wire_drop(e: WireError) -> DropReason {
    match e {
        WireError::Truncated { .. } => DropReason::Truncated,
        _ => DropReason::Malformed,
    }
}

/// IP version of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    V4,
    V6,
}

/// What encapsulation needs to know about a plain (outbound) IP packet.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plain {
    pub(crate) family: Family,
    /// The packet's own length (IPv4 Total Length, or 40 + IPv6 Payload Length).
    pub(crate) len: usize,
    /// Transport mode: where ESP goes (after the IPv4 header with options, or after the IPv6
    /// extension headers that precede ESP, RFC 4303 §3.1.1).
    pub(crate) split: usize,
    /// Transport mode: offset of the byte that names the protocol after `split` (IPv4 Protocol,
    /// or the Next Header of the fixed header / last preceding extension header).
    pub(crate) nh_offset: usize,
    /// The protocol found at `split`: the ESP trailer's Next Header in transport mode.
    pub(crate) protocol: IpProtocol,
    /// DSCP and ECN (IPv4 TOS byte, IPv6 Traffic Class), copied to a tunnel's outer header.
    pub(crate) tos: u8,
    /// IPv4 Don't Fragment (false for IPv6).
    pub(crate) dont_frag: bool,
    /// IPv4 fragment (MF or a non-zero offset); transport mode cannot protect those.
    pub(crate) is_fragment: bool,
}

/// Reads the plain IP packet at the start of `data` (which may carry trailing bytes past the
/// packet's own length; the caller trims them).
pub(crate) fn parse_plain(data: &[u8]) -> Result<Plain, DropReason> {
    match data.first().map(|b| b >> 4) {
        Some(4) => {
            let p = ipv4::Packet::new_checked(data).map_err(wire_drop)?;
            Ok(Plain {
                family: Family::V4,
                len: usize::from(p.total_len()),
                split: usize::from(p.header_len()),
                nh_offset: 9,
                protocol: p.protocol(),
                tos: (p.dscp() << 2) | p.ecn(),
                dont_frag: p.dont_frag(),
                is_fragment: p.is_fragment(),
            })
        }
        Some(6) => {
            let p = ipv6::Packet::new_checked(data).map_err(wire_drop)?;
            let (split, nh_offset, protocol) = v6_transport_split(&p)?;
            Ok(Plain {
                family: Family::V6,
                len: ipv6::HEADER_LEN + usize::from(p.payload_len()),
                split,
                nh_offset,
                protocol,
                tos: p.traffic_class(),
                dont_frag: false,
                is_fragment: false,
            })
        }
        None => Err(DropReason::Truncated),
        Some(_) => Err(DropReason::Malformed),
    }
}

/// Where ESP is inserted into an IPv6 packet in transport mode: after Hop-by-Hop, Routing, and
/// Destination Options headers that precede a Routing header (RFC 4303 §3.1.1: ESP follows the
/// "per-hop" headers; Destination Options may go either side, and like Linux and scapy we keep
/// those that come before any Routing header outside ESP, those after it inside).
fn v6_transport_split(p: &ipv6::Packet<&[u8]>) -> Result<(usize, usize, IpProtocol), DropReason> {
    let mut split = ipv6::HEADER_LEN;
    let mut nh_offset = 6;
    let mut protocol = p.next_header();
    let mut seen_routing = false;
    for header in p.ext_headers() {
        let header = header.map_err(wire_drop)?;
        let keep_outside = match header.kind {
            IpProtocol::IPV6_HOPOPTS => true,
            IpProtocol::ROUTING => {
                seen_routing = true;
                true
            }
            IpProtocol::DSTOPTS => !seen_routing,
            _ => false,
        };
        if !keep_outside {
            break;
        }
        nh_offset = ipv6::HEADER_LEN + header.offset;
        split = nh_offset + header.bytes.len();
        protocol = header.next_header();
    }
    Ok((split, nh_offset, protocol))
}

/// Where the ESP header sits in a received datagram.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Located {
    pub(crate) family: Family,
    /// End of the datagram by its own IP length fields (trailing bytes beyond are dropped).
    pub(crate) end: usize,
    /// Length of the IP header and the extension headers before ESP (or before UDP).
    pub(crate) ip_len: usize,
    /// Offset of the protocol byte that names ESP / UDP (for transport-mode reconstruction).
    pub(crate) nh_offset: usize,
    /// Offset of the ESP header (after the UDP header when UDP-encapsulated).
    pub(crate) esp_start: usize,
    /// The outer ECN bits, for the tunnel-mode decapsulation rule (RFC 6040 §4.2).
    pub(crate) ecn: u8,
    /// The IPsec protocol found (ESP or AH; ESP when inside UDP).
    pub(crate) protocol: IpProtocol,
}

/// Finds the ESP (or AH) header in a received datagram: parses the IPv4 header or walks the IPv6
/// extension headers, and steps over a UDP header (RFC 3948 §2.1). Fragments are refused: they
/// must be reassembled before IPsec processing (RFC 4303 §3.4.1).
pub(crate) fn locate(data: &[u8]) -> Result<Located, DropReason> {
    let (family, end, ip_len, nh_offset, protocol, ecn) = match data.first().map(|b| b >> 4) {
        Some(4) => {
            let p = ipv4::Packet::new_checked(data).map_err(wire_drop)?;
            if p.is_fragment() {
                return Err(DropReason::Malformed);
            }
            let (end, hl) = (usize::from(p.total_len()), usize::from(p.header_len()));
            (Family::V4, end, hl, 9, p.protocol(), p.ecn())
        }
        Some(6) => {
            let p = ipv6::Packet::new_checked(data).map_err(wire_drop)?;
            let mut walk = p.ext_headers();
            let mut nh_offset = 6;
            for header in &mut walk {
                let header = header.map_err(wire_drop)?;
                if header.kind == IpProtocol::FRAGMENT {
                    return Err(DropReason::Malformed);
                }
                nh_offset = ipv6::HEADER_LEN + header.offset;
            }
            let end = ipv6::HEADER_LEN + usize::from(p.payload_len());
            let ip_len = ipv6::HEADER_LEN + walk.offset();
            (
                Family::V6,
                end,
                ip_len,
                nh_offset,
                walk.next_kind(),
                p.ecn(),
            )
        }
        None => return Err(DropReason::Truncated),
        Some(_) => return Err(DropReason::Malformed),
    };
    let (esp_start, protocol) = match protocol {
        IpProtocol::ESP | IpProtocol::AH => (ip_len, protocol),
        IpProtocol::UDP => {
            let u = udp::Packet::new_checked(&data[ip_len..end]).map_err(wire_drop)?;
            if ip_len + usize::from(u.len()) != end {
                return Err(DropReason::Malformed);
            }
            (ip_len + udp::HEADER_LEN, IpProtocol::ESP)
        }
        _ => return Err(DropReason::UnsupportedNextHeader),
    };
    Ok(Located {
        family,
        end,
        ip_len,
        nh_offset,
        esp_start,
        ecn,
        protocol,
    })
}

/// Hop limit / TTL of the outer header of tunnel-mode packets.
pub(crate) const OUTER_TTL: u8 = 64;

/// The fields of a tunnel's outer header that come from the inner packet (RFC 4301 §5.1.2.1).
#[derive(Clone, Copy, Debug)]
pub(crate) struct OuterFields {
    /// The inner DSCP and ECN: both copied to the outer header.
    pub(crate) tos: u8,
    /// Outer IPv4 DF: copied from an IPv4 inner header; clear for an IPv6 inner packet.
    pub(crate) dont_frag: bool,
    /// IPv4 Identification: the low 16 bits of the ESP sequence number (unique among the last
    /// 2^16 packets of the SA, which is what RFC 6864 asks of a fragmentable datagram).
    pub(crate) ident: u16,
}

/// The outer header of a tunnel-mode SA, prepared once when the SA is installed: every field
/// but DSCP/ECN, length, Identification and DF is fixed, and so is their part of the IPv4
/// header checksum, so a packet costs a 20- or 40-byte copy and a few adds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OuterTemplate {
    bytes: [u8; ipv6::HEADER_LEN],
    family: Family,
    /// IPv4: the one's-complement sum of the fixed header words (unfolded).
    fixed_sum: u32,
}

impl OuterTemplate {
    /// The template for `src` → `dst` carrying `protocol` (ESP, or UDP when encapsulated).
    pub(crate) fn new(src: IpAddr, dst: IpAddr, protocol: IpProtocol) -> Result<Self, DropReason> {
        let mut bytes = [0u8; ipv6::HEADER_LEN];
        let family = match (src, dst) {
            (IpAddr::V4(src_addr), IpAddr::V4(dst_addr)) => {
                let repr = ipv4::Repr {
                    src_addr,
                    dst_addr,
                    protocol,
                    payload_len: 0,
                    ttl: OUTER_TTL,
                    dscp: 0,
                    ecn: 0,
                    ident: 0,
                    dont_frag: false,
                    more_frags: false,
                    frag_offset: 0,
                };
                repr.emit(&mut bytes).map_err(wire_drop)?;
                Family::V4
            }
            (IpAddr::V6(src_addr), IpAddr::V6(dst_addr)) => {
                let repr = ipv6::Repr {
                    src_addr,
                    dst_addr,
                    next_header: protocol,
                    payload_len: 0,
                    hop_limit: OUTER_TTL,
                    traffic_class: 0,
                    flow_label: 0,
                };
                repr.emit(&mut bytes).map_err(wire_drop)?;
                Family::V6
            }
            // `SaConfig::validate` refuses mixed families.
            _ => return Err(DropReason::Malformed),
        };
        let mut fixed_sum = 0u32;
        if family == Family::V4 {
            // Every word except version/TOS, length, ident, flags and the checksum itself.
            for i in [8usize, 12, 14, 16, 18] {
                fixed_sum += u32::from(u16::from_be_bytes([bytes[i], bytes[i + 1]]));
            }
        }
        Ok(Self {
            bytes,
            family,
            fixed_sum,
        })
    }

    /// Length of the outer header.
    pub(crate) fn len(&self) -> usize {
        match self.family {
            Family::V4 => ipv4::HEADER_LEN,
            Family::V6 => ipv6::HEADER_LEN,
        }
    }

    /// Writes the outer header into the start of `buf`, which holds the whole datagram.
    pub(crate) fn emit(&self, buf: &mut [u8], f: OuterFields) -> Result<(), DropReason> {
        let hl = self.len();
        let total = buf.len();
        let header = buf.get_mut(..hl).ok_or(DropReason::BufferTooSmall)?;
        header.copy_from_slice(&self.bytes[..hl]);
        match self.family {
            Family::V4 => {
                let total = u16::try_from(total).map_err(|_| DropReason::BufferTooSmall)?;
                let flags: u16 = if f.dont_frag { 0x4000 } else { 0 };
                let words = [0x4500 | u16::from(f.tos), total, f.ident, flags];
                let mut sum = self.fixed_sum;
                for (i, w) in words.into_iter().enumerate() {
                    header[i * 2..i * 2 + 2].copy_from_slice(&w.to_be_bytes());
                    sum += u32::from(w);
                }
                while sum > 0xffff {
                    sum = (sum & 0xffff) + (sum >> 16);
                }
                // Fits: folded to 16 bits above (RFC 1071).
                header[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
            }
            Family::V6 => {
                let payload = u16::try_from(total - hl).map_err(|_| DropReason::BufferTooSmall)?;
                let mut p = ipv6::Packet::new_unchecked(header);
                p.set_traffic_class(f.tos);
                p.set_payload_len(payload);
            }
        }
        Ok(())
    }
}

/// Transport mode: after the payload grew or shrank, set the protocol byte at `nh_offset` and
/// the length fields of the header at the start of `packet` (the whole packet), and refill the
/// IPv4 header checksum.
pub(crate) fn rewrite_transport_header(
    packet: &mut [u8],
    family: Family,
    nh_offset: usize,
    protocol: IpProtocol,
) -> Result<(), DropReason> {
    let len = packet.len();
    packet[nh_offset] = protocol.0;
    match family {
        Family::V4 => {
            let total = u16::try_from(len).map_err(|_| DropReason::BufferTooSmall)?;
            let mut p = ipv4::Packet::new_unchecked(packet);
            p.set_total_len(total);
            p.fill_checksum();
        }
        Family::V6 => {
            let payload =
                u16::try_from(len - ipv6::HEADER_LEN).map_err(|_| DropReason::BufferTooSmall)?;
            ipv6::Packet::new_unchecked(packet).set_payload_len(payload);
        }
    }
    Ok(())
}

/// Checks that `inner` is one whole IP packet of the version its ESP Next Header announced
/// (tunnel mode, RFC 4303 §2.6: 4 for IPv4, 41 for IPv6), with nothing after it.
pub(crate) fn check_inner(inner: &[u8], next_header: IpProtocol) -> Result<Family, DropReason> {
    let (family, len) = match next_header {
        IpProtocol::IPV4 => {
            let p = ipv4::Packet::new_checked(inner).map_err(|_| DropReason::Malformed)?;
            (Family::V4, usize::from(p.total_len()))
        }
        IpProtocol::IPV6 => {
            let p = ipv6::Packet::new_checked(inner).map_err(|_| DropReason::Malformed)?;
            (Family::V6, ipv6::HEADER_LEN + usize::from(p.payload_len()))
        }
        _ => return Err(DropReason::UnsupportedNextHeader),
    };
    if len == inner.len() {
        Ok(family)
    } else {
        Err(DropReason::Malformed)
    }
}

/// RFC 6040 §4.2 (normal mode), the decapsulation rule for ECN: an outer Congestion Experienced
/// mark is copied into an ECN-capable inner header. (A CE outer over a Not-ECT inner, which
/// RFC 6040 says to drop, is forwarded unchanged, the RFC 4301 §5.1.2.1 behaviour; it cannot
/// occur with an encapsulator that copies ECN as ours does.)
pub(crate) fn propagate_ce(inner: &mut [u8], family: Family, outer_ecn: u8) {
    const CE: u8 = 3;
    if outer_ecn != CE {
        return;
    }
    match family {
        Family::V4 => {
            let mut p = ipv4::Packet::new_unchecked(inner);
            if p.ecn() != 0 && p.ecn() != CE {
                p.set_ecn(CE);
                p.fill_checksum();
            }
        }
        Family::V6 => {
            let mut p = ipv6::Packet::new_unchecked(inner);
            let tc = p.traffic_class();
            if tc & 3 != 0 {
                p.set_traffic_class(tc | CE);
            }
        }
    }
}
