//! The batch API the workers call (DESIGN.md §3): a slice of packet buffers in, one verdict per
//! packet out, in place, with no allocation per packet and no lock beyond each SA's own replay
//! window.
//!
//! - [`protect_batch`]: every packet of the batch goes out on one outbound SA (the SPD classifier
//!   groups a TUN read by SA before calling it).
//! - [`unprotect_batch`]: received datagrams may belong to different SAs; each packet's SPI is
//!   read ([`inbound_spi`]) and resolved through a caller-provided lookup, the SAD in the
//!   daemon. A packet whose SPI is unknown is dropped with [`DropReason::BadSpi`] (RFC 4303
//!   §3.4.2) and counted in the caller's counters, since it has no SA to be counted on.
//!
//! SA events (soft/hard expiry, sequence exhaustion) are appended to `events`; size it once
//! (a few entries per SA suffice: each event fires once per SA) and drain it after each batch.

use rampart_wire::ip::IpProtocol;

use crate::drop::{DropCounters, DropReason};
use crate::packet::PacketBuf;
use crate::sa::Spi;
use crate::time::Timestamp;
use crate::transform::{InboundTransform, OutboundTransform};
use crate::verdict::{InboundVerdict, OutboundVerdict, SaEvent};

/// How a batch went: packets that passed and packets dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchSummary {
    /// Packets protected (`Send`) or unprotected (`Deliver`).
    pub passed: usize,
    /// Packets dropped (see their verdicts for why).
    pub dropped: usize,
}

/// Protects every packet of `pkts` in place on `sa`, writing one verdict per packet.
///
/// # Panics
/// If `verdicts` and `pkts` differ in length (a caller bug, not input-driven).
pub fn protect_batch<T: OutboundTransform + ?Sized>(
    sa: &T,
    pkts: &mut [PacketBuf],
    verdicts: &mut [OutboundVerdict],
    now: Timestamp,
    events: &mut Vec<SaEvent>,
) -> BatchSummary {
    assert_eq!(pkts.len(), verdicts.len(), "one verdict slot per packet");
    let mut summary = BatchSummary::default();
    for (pkt, verdict) in pkts.iter_mut().zip(verdicts.iter_mut()) {
        *verdict = sa.protect(pkt, now, events);
        match verdict {
            OutboundVerdict::Send => summary.passed += 1,
            OutboundVerdict::Drop(_) => summary.dropped += 1,
        }
    }
    summary
}

/// Unprotects every datagram of `pkts` in place, finding each one's inbound SA by SPI through
/// `lookup`, and writes one verdict per packet. Drops that belong to no SA (unknown SPI,
/// unparseable outer header) are counted in `unattributed`; the others on their SA.
///
/// # Panics
/// If `verdicts` and `pkts` differ in length (a caller bug, not input-driven).
pub fn unprotect_batch<'s, L>(
    lookup: L,
    pkts: &mut [PacketBuf],
    verdicts: &mut [InboundVerdict],
    now: Timestamp,
    events: &mut Vec<SaEvent>,
    unattributed: &DropCounters,
) -> BatchSummary
where
    L: Fn(Spi) -> Option<&'s dyn InboundTransform>,
{
    assert_eq!(pkts.len(), verdicts.len(), "one verdict slot per packet");
    let mut summary = BatchSummary::default();
    for (pkt, verdict) in pkts.iter_mut().zip(verdicts.iter_mut()) {
        let found = inbound_spi(pkt.data()).and_then(|spi| lookup(spi).ok_or(DropReason::BadSpi));
        *verdict = match found {
            Ok(sa) => sa.unprotect(pkt, now, events),
            Err(reason) => {
                unattributed.record(reason);
                InboundVerdict::Drop(reason)
            }
        };
        match verdict {
            InboundVerdict::Deliver => summary.passed += 1,
            InboundVerdict::Drop(_) => summary.dropped += 1,
        }
    }
    summary
}

/// The SPI of a received IPsec datagram: ESP (RFC 4303 §2.1, first word), ESP in UDP
/// (RFC 3948 §2.1, after the UDP header) or AH (RFC 4302 §2.4, second word), after the IPv4
/// header or the IPv6 extension headers.
///
/// Errors: [`DropReason::Truncated`] / [`DropReason::Malformed`] for a bad outer header,
/// [`DropReason::UnsupportedNextHeader`] when the datagram is not IPsec, and
/// [`DropReason::BadSpi`] for the reserved SPI 0 (which in UDP is the non-ESP marker of IKE,
/// RFC 3948 §2.2: the IO shell should have handed it to IKE).
pub fn inbound_spi(datagram: &[u8]) -> Result<Spi, DropReason> {
    let loc = crate::esp::locate(datagram)?;
    let at = match loc.protocol {
        IpProtocol::AH => loc.esp_start + 4,
        _ => loc.esp_start,
    };
    let word = datagram
        .get(at..at + 4)
        .filter(|_| at + 4 <= loc.end)
        .ok_or(DropReason::Truncated)?;
    match u32::from_be_bytes([word[0], word[1], word[2], word[3]]) {
        0 => Err(DropReason::BadSpi),
        spi => Ok(Spi(spi)),
    }
}
