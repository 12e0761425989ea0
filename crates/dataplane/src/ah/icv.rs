//! The AH ICV input (RFC 4302 §3.3.3): which bytes of a packet the ICV covers, with the mutable
//! fields counted as zero, built without copying the packet and without allocating.
//!
//! The input is a short list of slices fed to the MAC in order:
//!
//! ```text
//! [ IP header, mutable fields zeroed ]  stack copy (IPv4: ≤ 60 bytes; IPv6: the 40-byte fixed
//!                                       header), then for IPv6 the extension headers before AH
//!                                       as slices of the packet, with the data of each "may
//!                                       change en route" option replaced by a run of zeros
//! [ AH: Next Header .. Sequence Number ] 12 bytes of the packet
//! [ ICV ]                               zeros
//! [ ICV padding ]                       the packet: RFC 4302 §3.3.3.2.1 includes the padding
//!                                       bytes as sent (we send zeros)
//! [ payload after AH ]                  the packet (upper-layer data, or the inner packet)
//! [ Seq# high-order 32 bits ]           with ESN only (RFC 4302 §2.5.1, §3.3.3.2)
//! ```
//!
//! Mutable fields (RFC 4302 §3.3.3.1 and Appendix A):
//! - IPv4: DSCP/ECN (the TOS byte), Flags and Fragment Offset, TTL and Header Checksum; every
//!   option that Appendix A.1 classifies as mutable is zeroed whole, type and length included
//!   (`rampart_wire::ipv4::Packet::zero_mutable_options_for_ah`).
//! - IPv6: Traffic Class, Flow Label and Hop Limit; in Hop-by-Hop and Destination Options
//!   headers before AH, the Option Data of options whose type has the "may change en route" bit
//!   (RFC 8200 §4.2), type and length staying covered (§3.3.3.1.2.1). Routing headers are
//!   covered as they are: at the destination they hold the values the sender predicted, and the
//!   sender refuses to originate a routing header with Segments Left ≠ 0 (see the outbound docs).
//!   Extension headers after AH are payload, covered as is.

use rampart_crypto::Integ;
use rampart_wire::ip::{IpProtocol, IpVersion};
use rampart_wire::{ah, ipv4, ipv6};

use crate::drop::DropReason;

/// Zeros fed to the MAC in place of mutable bytes: an IPv6 option's data is at most 255 bytes,
/// an ICV at most 32.
static ZEROS: [u8; 256] = [0; 256];

/// Most slices one ICV input may take. A packet needs 5 plus 2 per "may change" option before
/// AH; more than that is no real traffic, and such a packet is dropped as malformed rather than
/// making the list unbounded.
const MAX_PARTS: usize = 40;

/// Where AH sits in a packet whose bytes start at the (outer) IP header and end at its Total
/// Length / Payload Length.
#[derive(Clone, Copy, Debug)]
pub(super) struct Layout {
    /// The IP version of the header AH follows.
    pub(super) version: IpVersion,
    /// Offset of the AH header.
    pub(super) ah_off: usize,
    /// AH length in bytes, ICV field and padding included.
    pub(super) ah_len: usize,
}

/// The slices of one ICV input, on the stack.
struct Parts<'a> {
    parts: [&'a [u8]; MAX_PARTS],
    len: usize,
}

impl<'a> Parts<'a> {
    fn new() -> Self {
        Self {
            parts: [&[]; MAX_PARTS],
            len: 0,
        }
    }

    fn push(&mut self, part: &'a [u8]) -> Result<(), DropReason> {
        if part.is_empty() {
            return Ok(());
        }
        let slot = self.parts.get_mut(self.len).ok_or(DropReason::Malformed)?;
        *slot = part;
        self.len += 1;
        Ok(())
    }

    fn as_slice(&self) -> &[&'a [u8]] {
        &self.parts[..self.len]
    }
}

/// Computes the ICV of `packet` (laid out as `layout`, ICV field content ignored) into `icv`,
/// which is `integ`'s ICV length.
pub(super) fn compute(
    integ: &Integ,
    packet: &[u8],
    layout: Layout,
    seq_hi: Option<u32>,
    icv: &mut [u8],
) -> Result<(), DropReason> {
    with_input(packet, layout, icv.len(), seq_hi, |parts| {
        integ
            .compute_icv(parts, icv)
            .map_err(|_| DropReason::Malformed)
    })
}

/// Verifies, in constant time, the ICV that `packet`'s AH header carries (the first
/// `integ.alg().icv_len()` bytes of its ICV field).
pub(super) fn verify(
    integ: &Integ,
    packet: &[u8],
    layout: Layout,
    seq_hi: Option<u32>,
) -> Result<(), DropReason> {
    let icv_start = layout.ah_off + ah::HEADER_LEN;
    let received = packet
        .get(icv_start..icv_start + integ.alg().icv_len())
        .ok_or(DropReason::Truncated)?;
    with_input(packet, layout, received.len(), seq_hi, |parts| {
        integ
            .verify_icv(parts, received)
            .map_err(|_| DropReason::IcvFailure)
    })
}

/// Builds the ICV input of `packet`, whose ICV (without padding) is `icv_len` bytes, and hands
/// it to `mac`.
fn with_input<R>(
    packet: &[u8],
    layout: Layout,
    icv_len: usize,
    seq_hi: Option<u32>,
    mac: impl FnOnce(&[&[u8]]) -> Result<R, DropReason>,
) -> Result<R, DropReason> {
    let Layout {
        version,
        ah_off,
        ah_len,
    } = layout;
    let ah_end = ah_off.checked_add(ah_len).ok_or(DropReason::Malformed)?;
    let icv_end = ah_off + ah::HEADER_LEN + icv_len;
    if ah_end > packet.len() || icv_end > ah_end || icv_len > ZEROS.len() {
        return Err(DropReason::Truncated);
    }
    let mut header = [0u8; ipv4::MAX_HEADER_LEN];
    let seq_hi = seq_hi.map(u32::to_be_bytes);
    let mut parts = Parts::new();
    match version {
        IpVersion::V4 => {
            let len = ipv4_header(&packet[..ah_off], &mut header)?;
            parts.push(&header[..len])?;
        }
        IpVersion::V6 => {
            let fixed = packet
                .get(..ipv6::HEADER_LEN)
                .ok_or(DropReason::Truncated)?;
            let header = &mut header[..ipv6::HEADER_LEN];
            header.copy_from_slice(fixed);
            let mut ip = ipv6::Packet::new_unchecked(&mut *header);
            ip.set_traffic_class(0);
            ip.set_flow_label(0);
            ip.set_hop_limit(0);
            let first = IpProtocol(fixed[6]);
            // Rebind immutably: the parts borrow the copy from here on.
            let header: &[u8] = header;
            parts.push(header)?;
            push_ipv6_ext_headers(&mut parts, packet, first, ah_off)?;
        }
    }
    parts.push(&packet[ah_off..ah_off + ah::HEADER_LEN])?;
    parts.push(&ZEROS[..icv_len])?;
    parts.push(&packet[icv_end..])?;
    if let Some(hi) = seq_hi.as_ref() {
        parts.push(hi)?;
    }
    mac(parts.as_slice())
}

/// Copies an IPv4 header (options included) into `out` with the mutable fields and options
/// zeroed (RFC 4302 §3.3.3.1.1); returns its length.
fn ipv4_header(header: &[u8], out: &mut [u8; ipv4::MAX_HEADER_LEN]) -> Result<usize, DropReason> {
    let len = header.len();
    if !(ipv4::HEADER_LEN..=ipv4::MAX_HEADER_LEN).contains(&len) {
        return Err(DropReason::Malformed);
    }
    let copy = &mut out[..len];
    copy.copy_from_slice(header);
    copy[1] = 0; // DSCP + ECN
    copy[6..8].fill(0); // Flags + Fragment Offset
    copy[8] = 0; // TTL
    copy[10..12].fill(0); // Header Checksum
    ipv4::Packet::new_unchecked(copy)
        .zero_mutable_options_for_ah()
        .map_err(|_| DropReason::Malformed)?;
    Ok(len)
}

/// Pushes the IPv6 extension headers in `packet[40..ah_off]`, chained from `first`, with the
/// data of "may change en route" options in Hop-by-Hop and Destination Options headers replaced
/// by zeros (RFC 4302 §3.3.3.1.2.1).
fn push_ipv6_ext_headers<'a>(
    parts: &mut Parts<'a>,
    packet: &'a [u8],
    first: IpProtocol,
    ah_off: usize,
) -> Result<(), DropReason> {
    let region = packet
        .get(ipv6::HEADER_LEN..ah_off)
        .ok_or(DropReason::Malformed)?;
    let mut walk = ipv6::ExtHeaders::new(first, region);
    // Start of the bytes not pushed yet, relative to `region`.
    let mut run = 0;
    for header in &mut walk {
        let header = header.map_err(|_| DropReason::Malformed)?;
        if header.kind != IpProtocol::IPV6_HOPOPTS && header.kind != IpProtocol::DSTOPTS {
            continue;
        }
        let mut offset = header.offset + 2;
        for option in header.options() {
            let option = option.map_err(|_| DropReason::Malformed)?;
            if option.may_change_en_route() && !option.data.is_empty() {
                let data = offset + 2;
                parts.push(&region[run..data])?;
                parts.push(&ZEROS[..option.data.len()])?;
                run = data + option.data.len();
            }
            offset += option.len();
        }
    }
    // The walk must end exactly at AH.
    if walk.next_kind() != IpProtocol::AH || walk.offset() != region.len() {
        return Err(DropReason::Malformed);
    }
    parts.push(&region[run..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_overflow_is_a_drop_not_a_panic() {
        let mut parts = Parts::new();
        for _ in 0..MAX_PARTS {
            parts.push(b"x").unwrap();
        }
        assert_eq!(parts.push(b"x"), Err(DropReason::Malformed));
        parts.push(b"").unwrap();
        assert_eq!(parts.as_slice().len(), MAX_PARTS);
    }

    #[test]
    fn ipv4_header_zeroes_mutable_fields_and_options() {
        // IHL 8: NOP, Router Alert (immutable), Record Route (mutable), EOOL + padding.
        let header = [
            0x48, 0xb8, 0x00, 0x40, 0x12, 0x34, 0x40, 0x00, 0x40, 0x33, 0xab, 0xcd, //
            192, 0, 2, 1, 198, 51, 100, 2, //
            0x01, 0x94, 0x04, 0x00, 0x00, 0x07, 0x07, 0x04, 10, 0, 0, 1,
        ];
        let mut out = [0xffu8; ipv4::MAX_HEADER_LEN];
        assert_eq!(ipv4_header(&header, &mut out), Ok(32));
        let expected = [
            0x48, 0x00, 0x00, 0x40, 0x12, 0x34, 0x00, 0x00, 0x00, 0x33, 0x00, 0x00, //
            192, 0, 2, 1, 198, 51, 100, 2, //
            0x01, 0x94, 0x04, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(out[..32], expected);
        assert_eq!(
            ipv4_header(&header[..19], &mut out),
            Err(DropReason::Malformed)
        );
    }
}
