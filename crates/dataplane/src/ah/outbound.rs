//! Outbound AH: checks the plain packet and inserts the AH header (and, in tunnel mode, the
//! outer IP header) in place, ready for the ICV. See the [`super`] docs for the placement and
//! refusal rules (RFC 4302 §3.1, §3.3).

use core::net::IpAddr;

use rampart_wire::ip::{IpProtocol, IpVersion};
use rampart_wire::{ah, ipv4, ipv6};

use super::icv::Layout;
use super::{ah_len, wire_drop};
use crate::drop::DropReason;
use crate::packet::PacketBuf;
use crate::sa::{Mode, SaConfig};
use rampart_crypto::Integ;

/// IPv4 Loose and Strict Source and Record Route options (RFC 791 §3.1).
const LSRR: u8 = 131;
const SSRR: u8 = 137;

/// TTL / Hop Limit of the outer header in tunnel mode.
const OUTER_TTL: u8 = 64;

/// Where AH goes, decided from the plain packet before anything is accounted or written.
#[derive(Clone, Copy, Debug)]
pub(super) enum Plan {
    /// Transport over IPv4: AH after the `ihl`-byte header; `next` is the payload's protocol.
    TransportV4 { ihl: usize, next: IpProtocol },
    /// Transport over IPv6: AH at `insert_at`, the Next Header byte pointing to it at `nh_byte`.
    TransportV6 {
        insert_at: usize,
        nh_byte: usize,
        next: IpProtocol,
    },
    /// Tunnel: the whole packet (of this version, with this DSCP/ECN byte and DF) goes inside.
    Tunnel {
        inner: IpVersion,
        tos: u8,
        dont_frag: bool,
    },
}

/// Checks the plain packet in `pkt` (trimming bytes past its IP length) and plans the
/// encapsulation, checking the headroom and the resulting IP length too, so that nothing can
/// fail once a sequence number is taken.
pub(super) fn plan(
    pkt: &mut PacketBuf,
    config: &SaConfig,
    icv_len: usize,
) -> Result<Plan, DropReason> {
    let version = IpVersion::of_packet(pkt.data()).map_err(wire_drop)?;
    let (ip_len, plan) = match version {
        IpVersion::V4 => plan_v4(pkt.data(), config.mode)?,
        IpVersion::V6 => plan_v6(pkt.data(), config.mode)?,
    };
    pkt.trim_back(pkt.len() - ip_len)?;
    let (grow, limit) = match plan {
        Plan::TransportV4 { .. } => (ah_len(icv_len, IpVersion::V4), ip_len),
        Plan::TransportV6 { .. } => (ah_len(icv_len, IpVersion::V6), ip_len - ipv6::HEADER_LEN),
        Plan::Tunnel { .. } => match config.dst {
            IpAddr::V4(_) => (ipv4::HEADER_LEN + ah_len(icv_len, IpVersion::V4), ip_len),
            IpAddr::V6(_) => (ipv6::HEADER_LEN + ah_len(icv_len, IpVersion::V6), ip_len),
        },
    };
    // Tunnel over IPv6: the Payload Length excludes the 40-byte outer header.
    let counted = match (plan, config.dst) {
        (Plan::Tunnel { .. }, IpAddr::V6(_)) => grow - ipv6::HEADER_LEN,
        _ => grow,
    };
    if pkt.headroom() < grow || limit + counted > usize::from(u16::MAX) {
        return Err(DropReason::BufferTooSmall);
    }
    Ok(plan)
}

/// Returns the packet's IP length and the plan.
fn plan_v4(data: &[u8], mode: Mode) -> Result<(usize, Plan), DropReason> {
    let ip = ipv4::Packet::new_checked(data).map_err(wire_drop)?;
    let len = usize::from(ip.total_len());
    if mode == Mode::Tunnel {
        let tos = (ip.dscp() << 2) | ip.ecn();
        let dont_frag = ip.dont_frag();
        let inner = IpVersion::V4;
        return Ok((
            len,
            Plan::Tunnel {
                inner,
                tos,
                dont_frag,
            },
        ));
    }
    // RFC 4302 §3.3.4: AH is applied to whole packets only.
    if ip.is_fragment() {
        return Err(DropReason::Malformed);
    }
    for option in ip.option_iter() {
        let option = option.map_err(wire_drop)?;
        if option.kind == LSRR || option.kind == SSRR {
            return Err(DropReason::Malformed);
        }
    }
    let ihl = usize::from(ip.header_len());
    Ok((
        len,
        Plan::TransportV4 {
            ihl,
            next: ip.protocol(),
        },
    ))
}

/// Returns the packet's IP length and the plan.
fn plan_v6(data: &[u8], mode: Mode) -> Result<(usize, Plan), DropReason> {
    let ip = ipv6::Packet::new_checked(data).map_err(wire_drop)?;
    let len = ipv6::HEADER_LEN + usize::from(ip.payload_len());
    if mode == Mode::Tunnel {
        let tos = ip.traffic_class();
        let inner = IpVersion::V6;
        return Ok((
            len,
            Plan::Tunnel {
                inner,
                tos,
                dont_frag: false,
            },
        ));
    }
    let mut insert_at = ipv6::HEADER_LEN;
    let mut nh_byte = 6;
    for header in ip.ext_headers() {
        let header = header.map_err(wire_drop)?;
        let before_ah = match header.kind {
            IpProtocol::IPV6_HOPOPTS => true,
            // Segments Left (byte 3) must be 0: see the module docs.
            IpProtocol::ROUTING => match header.bytes.get(3) {
                Some(0) => true,
                _ => return Err(DropReason::Malformed),
            },
            IpProtocol::FRAGMENT => return Err(DropReason::Malformed),
            IpProtocol::DSTOPTS => header.next_header() == IpProtocol::ROUTING,
            _ => false,
        };
        if !before_ah {
            break;
        }
        nh_byte = ipv6::HEADER_LEN + header.offset;
        insert_at = nh_byte + header.bytes.len();
    }
    let next = IpProtocol(*data.get(nh_byte).ok_or(DropReason::Malformed)?);
    Ok((
        len,
        Plan::TransportV6 {
            insert_at,
            nh_byte,
            next,
        },
    ))
}

/// Writes AH (ICV field zeroed) and, in tunnel mode, the outer header; returns the layout the
/// ICV is computed over.
pub(super) fn build(
    pkt: &mut PacketBuf,
    config: &SaConfig,
    plan: Plan,
    integ: &Integ,
    seq: u64,
) -> Result<Layout, DropReason> {
    let icv_len = integ.alg().icv_len();
    let mut ah = ah::Repr {
        next_header: IpProtocol::NO_NEXT_HEADER,
        spi: config.spi.0,
        // The low 32 bits go on the wire (RFC 4302 §2.5); the high ones into the ICV.
        sequence_number: seq as u32,
        icv_len: 0,
    };
    match plan {
        Plan::TransportV4 { ihl, next } => {
            let len = ah_len(icv_len, IpVersion::V4);
            let total = u16::try_from(pkt.len() + len).map_err(|_| DropReason::BufferTooSmall)?;
            let data = pkt.push_front(len)?;
            data.copy_within(len..len + ihl, 0);
            ah.next_header = next;
            ah.icv_len = len - ah::HEADER_LEN;
            ah.emit(&mut data[ihl..], IpVersion::V4)
                .map_err(wire_drop)?;
            let mut ip = ipv4::Packet::new_unchecked(data);
            ip.set_protocol(IpProtocol::AH);
            ip.set_total_len(total);
            ip.fill_checksum();
            Ok(Layout {
                version: IpVersion::V4,
                ah_off: ihl,
                ah_len: len,
            })
        }
        Plan::TransportV6 {
            insert_at,
            nh_byte,
            next,
        } => {
            let len = ah_len(icv_len, IpVersion::V6);
            let payload = pkt.len() - ipv6::HEADER_LEN + len;
            let payload = u16::try_from(payload).map_err(|_| DropReason::BufferTooSmall)?;
            let data = pkt.push_front(len)?;
            data.copy_within(len..len + insert_at, 0);
            data[nh_byte] = IpProtocol::AH.0;
            ah.next_header = next;
            ah.icv_len = len - ah::HEADER_LEN;
            ah.emit(&mut data[insert_at..], IpVersion::V6)
                .map_err(wire_drop)?;
            ipv6::Packet::new_unchecked(data).set_payload_len(payload);
            Ok(Layout {
                version: IpVersion::V6,
                ah_off: insert_at,
                ah_len: len,
            })
        }
        Plan::Tunnel {
            inner,
            tos,
            dont_frag,
        } => {
            ah.next_header = match inner {
                IpVersion::V4 => IpProtocol::IPV4,
                IpVersion::V6 => IpProtocol::IPV6,
            };
            let outer = Outer {
                tos,
                dont_frag,
                ident: seq as u16,
            };
            push_tunnel_headers(pkt, config, ah, icv_len, outer)
        }
    }
}

/// The per-packet fields of a tunnel-mode outer header.
struct Outer {
    tos: u8,
    dont_frag: bool,
    ident: u16,
}

/// Pushes the outer IP header and AH in front of the inner packet (RFC 4302 §3.1.2).
fn push_tunnel_headers(
    pkt: &mut PacketBuf,
    config: &SaConfig,
    mut ah: ah::Repr,
    icv_len: usize,
    outer: Outer,
) -> Result<Layout, DropReason> {
    let inner_len = pkt.len();
    let (version, header_len) = match config.dst {
        IpAddr::V4(_) => (IpVersion::V4, ipv4::HEADER_LEN),
        IpAddr::V6(_) => (IpVersion::V6, ipv6::HEADER_LEN),
    };
    let len = ah_len(icv_len, version);
    ah.icv_len = len - ah::HEADER_LEN;
    // `plan` checked the headroom and that the lengths fit.
    let data = pkt.push_front(header_len + len)?;
    match (config.src, config.dst) {
        (IpAddr::V4(src_addr), IpAddr::V4(dst_addr)) => ipv4::Repr {
            src_addr,
            dst_addr,
            protocol: IpProtocol::AH,
            payload_len: len + inner_len,
            ttl: OUTER_TTL,
            dscp: outer.tos >> 2,
            ecn: outer.tos & 3,
            ident: outer.ident,
            dont_frag: outer.dont_frag,
            more_frags: false,
            frag_offset: 0,
        }
        .emit(data),
        (IpAddr::V6(src_addr), IpAddr::V6(dst_addr)) => ipv6::Repr {
            src_addr,
            dst_addr,
            next_header: IpProtocol::AH,
            payload_len: len + inner_len,
            hop_limit: OUTER_TTL,
            traffic_class: outer.tos,
            flow_label: 0,
        }
        .emit(data),
        // `SaConfig::validate` refuses mixed families.
        _ => return Err(DropReason::Malformed),
    }
    .map_err(wire_drop)?;
    ah.emit(&mut data[header_len..], version)
        .map_err(wire_drop)?;
    Ok(Layout {
        version,
        ah_off: header_len,
        ah_len: len,
    })
}
