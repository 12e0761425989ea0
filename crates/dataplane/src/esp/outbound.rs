//! Outbound ESP (RFC 4303 §3.1, §3.3): [`OutboundEspSa`] turns a plain IP packet into a protected
//! datagram in place, in transport or tunnel mode, IPv4 or IPv6 (either family inside the
//! other), optionally inside UDP (RFC 3948).
//!
//! Path (DESIGN.md §2): SPD → SA → **protect** → socket. Per packet: read the plain header,
//! account the lifetime (before taking a sequence number, so a refused packet burns none), take
//! the sequence number, append padding + trailer + room for the ICV into the tailroom, seal,
//! then write ESP header, optional UDP header and the outer header (tunnel) into the headroom,
//! or slide the original header forward over the new room (transport).
//!
//! ```text
//! transport: [IP hdr][UDP?][ESP hdr][IV][ payload | pad | pl | nh ][ICV]
//! tunnel:    [outer ][UDP?][ESP hdr][IV][ inner IP packet | pad | pl | nh ][ICV]
//!                                        \________ encrypted ________/
//! ```
//!
//! Outer header of a tunnel (RFC 4301 §5.1.2.1): addresses from the SA, TTL / hop limit 64,
//! DSCP and ECN copied from the inner header, IPv4 DF copied from an IPv4 inner packet and
//! clear for an IPv6 one (RFC 4301 §8.1 leaves DF to configuration; copying keeps the inner
//! sender's path-MTU discovery working), Identification from the sequence number, flow label 0.
//! UDP encapsulation: ports from [`SaConfig::encap`](crate::sa::SaConfig::encap); checksum 0
//! over IPv4 (RFC 3948 §2.1), computed over IPv6 (RFC 8200 §8.1 forbids a zero one).

use rampart_wire::esp::{HEADER_LEN, TRAILER_LEN, Trailer};
use rampart_wire::ip::{AddrPair, IpProtocol};
use rampart_wire::{ipv6, udp};

use super::headers::{self, Family, OuterFields, OuterTemplate};
use super::suite::{EspConfigError, EspTransform};
use crate::drop::DropReason;
use crate::packet::PacketBuf;
use crate::sa::{Mode, OutboundSaState, SaConfigError};
use crate::time::Timestamp;
use crate::transform::OutboundTransform;
use crate::verdict::{OutboundVerdict, SaEvent};
use core::net::IpAddr;
use rampart_wire::ike::iana::ProtocolId;

/// An outbound ESP SA: its shared state (sequence counter, lifetimes, counters) and its
/// transform (algorithms and keys).
#[derive(Debug)]
pub struct OutboundEspSa {
    state: OutboundSaState,
    transform: EspTransform,
    /// Tunnel mode: the prepared outer header.
    outer: Option<OuterTemplate>,
}

impl OutboundEspSa {
    /// Composes an outbound ESP SA. Fails if the state is not for ESP.
    pub fn new(state: OutboundSaState, transform: EspTransform) -> Result<Self, EspConfigError> {
        let cfg = state.config();
        if cfg.protocol != ProtocolId::ESP {
            return Err(EspConfigError::NotEsp);
        }
        let proto = if cfg.encap.is_some() {
            IpProtocol::UDP
        } else {
            IpProtocol::ESP
        };
        let outer = match cfg.mode {
            Mode::Tunnel => Some(
                OuterTemplate::new(cfg.src, cfg.dst, proto)
                    .map_err(|_| EspConfigError::Sa(SaConfigError::AddressFamilyMismatch))?,
            ),
            _ => None,
        };
        Ok(Self {
            state,
            transform,
            outer,
        })
    }

    /// The SA's shared state.
    pub fn state(&self) -> &OutboundSaState {
        &self.state
    }

    /// The SA's algorithms and keys.
    pub fn transform(&self) -> &EspTransform {
        &self.transform
    }

    /// Bytes of headroom [`protect`](OutboundTransform::protect) needs in front of the packet.
    pub fn headroom_needed(&self) -> usize {
        let cfg = self.state.config();
        let outer = self.outer.as_ref().map_or(0, OuterTemplate::len);
        let udp = if cfg.encap.is_some() {
            udp::HEADER_LEN
        } else {
            0
        };
        outer + udp + HEADER_LEN + self.transform.iv_len()
    }

    fn encapsulate(
        &self,
        pkt: &mut PacketBuf,
        now: Timestamp,
        events: &mut Vec<SaEvent>,
    ) -> Result<(), DropReason> {
        let cfg = self.state.config();
        let plain = headers::parse_plain(pkt.data())?;
        let tunnel = self.outer.is_some();
        if !tunnel && plain.is_fragment {
            return Err(DropReason::Malformed);
        }
        pkt.trim_back(pkt.len() - plain.len)?;

        // Lifetime first, then the sequence number (sa.rs call order).
        self.state
            .account(plain.len as u64, now)
            .report(cfg.spi, events)?;
        let seq = self.state.next_seq().map_err(|(reason, event)| {
            events.extend(event);
            reason
        })?;

        // Tail: padding, pad length, next header (RFC 4303 §2.4–2.6), then room for the ICV.
        let (split, next_header) = if tunnel {
            let nh = match plain.family {
                Family::V4 => IpProtocol::IPV4,
                Family::V6 => IpProtocol::IPV6,
            };
            (0, nh)
        } else {
            (plain.split, plain.protocol)
        };
        let trailer = trailer_for(plain.len - split, self.transform.block_size(), next_header);
        let data = pkt.push_back(trailer.buffer_len() + self.transform.icv_len())?;
        trailer
            .emit(&mut data[split..])
            .map_err(|_| DropReason::BufferTooSmall)?;

        // Head: [IP][UDP?][ESP][IV] in front of the payload.
        let ip_len = self.outer.as_ref().map_or(split, OuterTemplate::len);
        let udp_len = if cfg.encap.is_some() {
            udp::HEADER_LEN
        } else {
            0
        };
        let front =
            if tunnel { ip_len } else { 0 } + udp_len + HEADER_LEN + self.transform.iv_len();
        let data = pkt.push_front(front)?;
        if !tunnel {
            // Slide the original header (and the IPv6 headers that stay outside) forward.
            data.copy_within(front..front + split, 0);
        }
        let esp_start = ip_len + udp_len;
        let esp = &mut data[esp_start..];
        esp[..4].copy_from_slice(&cfg.spi.0.to_be_bytes());
        esp[4..HEADER_LEN].copy_from_slice(&(seq as u32).to_be_bytes());
        let seq_hi = cfg.esn.then_some((seq >> 32) as u32);
        self.transform.seal(esp, seq_hi)?;

        let ipsec_proto = if cfg.encap.is_some() {
            IpProtocol::UDP
        } else {
            IpProtocol::ESP
        };
        if let Some(outer) = &self.outer {
            let fields = OuterFields {
                tos: plain.tos,
                dont_frag: plain.dont_frag,
                ident: seq as u16,
            };
            outer.emit(data, fields)?;
        } else {
            headers::rewrite_transport_header(data, plain.family, plain.nh_offset, ipsec_proto)?;
        }
        if let Some(encap) = cfg.encap {
            emit_udp(
                data,
                ip_len,
                encap.src_port,
                encap.dst_port,
                tunnel,
                cfg.src,
                cfg.dst,
            )?;
        }
        Ok(())
    }
}

/// The ESP trailer for `payload_len` bytes (RFC 4303 §2.4): the least padding that makes
/// payload + padding + the 2-byte trailer a multiple of both the cipher block size and 4. Block
/// sizes are powers of two (1 or 16), so the alignment is the larger of the two. (The wire
/// crate's `Trailer::for_payload` handles any block size, with a gcd; this is the fast path.)
fn trailer_for(payload_len: usize, block_size: usize, next_header: IpProtocol) -> Trailer {
    debug_assert!(block_size.is_power_of_two() && block_size <= 128);
    let align = block_size.max(4);
    let pad = (align - (payload_len + TRAILER_LEN) % align) % align;
    Trailer {
        payload_len,
        // Fits: `align` is at most 128.
        pad_len: pad as u8,
        next_header,
    }
}

/// Writes the UDP header at `at` (RFC 3948 §2.1). Over IPv4 the checksum is 0; over IPv6 it is
/// computed, over the outer (tunnel) or the packet's own (transport) addresses.
fn emit_udp(
    data: &mut [u8],
    at: usize,
    src_port: u16,
    dst_port: u16,
    tunnel: bool,
    src: IpAddr,
    dst: IpAddr,
) -> Result<(), DropReason> {
    let checksum = match (data.first().map(|b| b >> 4), tunnel, src, dst) {
        (Some(6), true, IpAddr::V6(src), IpAddr::V6(dst)) => {
            udp::UdpChecksum::Compute(AddrPair::V6 { src, dst })
        }
        (Some(6), false, _, _) => {
            let p = ipv6::Packet::new_unchecked(&data[..]);
            udp::UdpChecksum::Compute(AddrPair::V6 {
                src: p.src_addr(),
                dst: p.dst_addr(),
            })
        }
        _ => udp::UdpChecksum::None,
    };
    let repr = udp::Repr {
        src_port,
        dst_port,
        payload_len: data.len() - at - udp::HEADER_LEN,
    };
    repr.emit(&mut data[at..], checksum)
        .map_err(|_| DropReason::BufferTooSmall)
}

impl OutboundTransform for OutboundEspSa {
    fn protect(
        &self,
        pkt: &mut PacketBuf,
        now: Timestamp,
        events: &mut Vec<SaEvent>,
    ) -> OutboundVerdict {
        OutboundVerdict::counted(self.encapsulate(pkt, now, events), self.state.counters())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast padding computation agrees with the wire crate's general one.
    #[test]
    fn trailer_for_matches_the_wire_crate() {
        for block in [1usize, 8, 16] {
            for len in 0..300 {
                let nh = IpProtocol::UDP;
                assert_eq!(
                    trailer_for(len, block, nh),
                    Trailer::for_payload(len, block, nh).unwrap(),
                    "len {len} block {block}"
                );
            }
        }
    }
}
