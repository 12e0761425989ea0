//! Inbound AH: finds and checks the AH header of a received datagram, and after the ICV
//! verified, removes it in place (RFC 4302 §3.4).

use rampart_wire::ip::{IpProtocol, IpVersion};
use rampart_wire::{ah, ipv4, ipv6};

use super::icv::Layout;
use super::wire_drop;
use crate::drop::DropReason;
use crate::packet::PacketBuf;
use crate::sa::{Mode, SaConfig};

/// Most padding the ICV field may carry after the ICV: AH is padded to 4 or 8 bytes
/// (RFC 4302 §3.3.3.2.1; Linux pads to 8 over IPv4 too), so at most 7 bytes.
const MAX_ICV_PADDING: usize = 7;

/// What [`locate`] found: where AH is and what it says.
#[derive(Clone, Copy, Debug)]
pub(super) struct Found {
    /// Where AH sits; the packet is trimmed to its IP length.
    pub(super) layout: Layout,
    /// The Sequence Number field (low 32 bits with ESN).
    pub(super) seq_lo: u32,
    /// AH's Next Header.
    next: IpProtocol,
    /// Offset of the Next Header / Protocol byte that names AH.
    nh_byte: usize,
}

/// Parses the outer IP header and AH of `pkt` (trimming bytes past the IP length, e.g. link
/// padding) and checks everything that can be checked before the ICV: fragments (§3.4.1), the
/// SPI, the ICV field length and, in tunnel mode, that AH carries an IP packet.
pub(super) fn locate(
    pkt: &mut PacketBuf,
    config: &SaConfig,
    icv_len: usize,
) -> Result<Found, DropReason> {
    let version = IpVersion::of_packet(pkt.data()).map_err(wire_drop)?;
    let (ip_len, ah_off, nh_byte) = match version {
        IpVersion::V4 => locate_v4(pkt.data())?,
        IpVersion::V6 => locate_v6(pkt.data())?,
    };
    pkt.trim_back(pkt.len() - ip_len)?;
    let data = pkt.data().get(ah_off..).ok_or(DropReason::Truncated)?;
    let header = ah::Packet::new_checked(data).map_err(wire_drop)?;
    header
        .check_alignment(version)
        .map_err(|_| DropReason::Malformed)?;
    if header.spi() != config.spi.0 {
        return Err(DropReason::BadSpi);
    }
    let field = header.header_len() - ah::HEADER_LEN;
    if field < icv_len || field - icv_len > MAX_ICV_PADDING {
        return Err(DropReason::Malformed);
    }
    let next = header.next_header();
    if config.mode == Mode::Tunnel && next != IpProtocol::IPV4 && next != IpProtocol::IPV6 {
        return Err(DropReason::UnsupportedNextHeader);
    }
    Ok(Found {
        layout: Layout {
            version,
            ah_off,
            ah_len: header.header_len(),
        },
        seq_lo: header.sequence_number(),
        next,
        nh_byte,
    })
}

/// Returns the IP length, AH's offset and the offset of the Protocol byte.
fn locate_v4(data: &[u8]) -> Result<(usize, usize, usize), DropReason> {
    let ip = ipv4::Packet::new_checked(data).map_err(wire_drop)?;
    if ip.is_fragment() || ip.protocol() != IpProtocol::AH {
        return Err(DropReason::Malformed);
    }
    Ok((usize::from(ip.total_len()), usize::from(ip.header_len()), 9))
}

/// Returns the IP length, AH's offset and the offset of the Next Header byte naming AH.
/// Atomic fragments (offset 0, M clear, RFC 8200 §4.5) are whole packets and pass.
fn locate_v6(data: &[u8]) -> Result<(usize, usize, usize), DropReason> {
    let ip = ipv6::Packet::new_checked(data).map_err(wire_drop)?;
    let mut nh_byte = 6;
    let mut walk = ip.ext_headers();
    for header in &mut walk {
        let header = header.map_err(wire_drop)?;
        if header.kind == IpProtocol::FRAGMENT {
            let fragment = ipv6::FragmentHeader::parse(header.bytes).map_err(wire_drop)?;
            if fragment.offset != 0 || fragment.more_frags {
                return Err(DropReason::Malformed);
            }
        }
        nh_byte = ipv6::HEADER_LEN + header.offset;
    }
    if walk.next_kind() != IpProtocol::AH {
        return Err(DropReason::Malformed);
    }
    Ok((
        ipv6::HEADER_LEN + usize::from(ip.payload_len()),
        ipv6::HEADER_LEN + walk.offset(),
        nh_byte,
    ))
}

/// Removes AH after the ICV verified: in transport mode moves the IP header (and IPv6
/// extension headers before AH) up over it and restores Protocol / Next Header and the lengths;
/// in tunnel mode leaves the inner packet, which must be of the version AH's Next Header names.
pub(super) fn strip(
    pkt: &mut PacketBuf,
    config: &SaConfig,
    found: &Found,
) -> Result<(), DropReason> {
    let Layout {
        version,
        ah_off,
        ah_len,
    } = found.layout;
    if config.mode == Mode::Tunnel {
        pkt.pull_front(ah_off + ah_len)?;
        let expected = if found.next == IpProtocol::IPV4 {
            IpVersion::V4
        } else {
            IpVersion::V6
        };
        let inner = pkt.data();
        if IpVersion::of_packet(inner).map_err(wire_drop)? != expected {
            return Err(DropReason::Malformed);
        }
        return match expected {
            IpVersion::V4 => ipv4::Packet::new_checked(inner).map(|_| ()),
            IpVersion::V6 => ipv6::Packet::new_checked(inner).map(|_| ()),
        }
        .map_err(wire_drop);
    }
    pkt.data_mut().copy_within(..ah_off, ah_len);
    pkt.pull_front(ah_len)?;
    let data = pkt.data_mut();
    let len = data.len();
    // The headers moved as a block: offsets from the start are unchanged.
    data[found.nh_byte] = found.next.0;
    match version {
        IpVersion::V4 => {
            let mut ip = ipv4::Packet::new_unchecked(data);
            // Smaller than the Total Length it came with.
            ip.set_total_len(len as u16);
            ip.fill_checksum();
        }
        IpVersion::V6 => {
            let payload = (len - ipv6::HEADER_LEN) as u16;
            ipv6::Packet::new_unchecked(data).set_payload_len(payload);
        }
    }
    Ok(())
}
