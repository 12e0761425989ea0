//! The per-packet contract every transform (ESP, AH) implements, so the batch loop and the SAD
//! stay independent of which protocol an SA uses.
//!
//! Buffer contract (both transforms):
//! - **Outbound** input: the plain IP packet (IPv4 or IPv6) as read from the TUN device, in a
//!   [`PacketBuf`] with headroom and tailroom. Output: the complete protected IP datagram — outer
//!   IP header (tunnel mode) or the original header with its protocol/next-header and lengths
//!   rewritten (transport mode), then the UDP header when the SA uses UDP encapsulation
//!   (RFC 3948), then ESP or AH. The IO shell strips what its socket adds itself.
//! - **Inbound** input: the complete received IP datagram, starting at the outer IP header
//!   (with the UDP header after it for UDP-encapsulated SAs). Output: the inner IP packet (tunnel
//!   mode) or the reconstructed plain IP packet (transport mode), ready for the TUN device.
//!
//! Implementations never allocate, never panic on packet contents, count every drop on the SA,
//! and push lifetime/sequence events to `events` (which the caller pre-sizes and drains).

use crate::packet::PacketBuf;
use crate::time::Timestamp;
use crate::verdict::{InboundVerdict, OutboundVerdict, SaEvent};

/// An outbound SA: protects packets in place.
pub trait OutboundTransform: Send + Sync {
    /// Protects `pkt` in place; see the module docs for the buffer contract.
    fn protect(
        &self,
        pkt: &mut PacketBuf,
        now: Timestamp,
        events: &mut Vec<SaEvent>,
    ) -> OutboundVerdict;
}

/// An inbound SA: verifies and removes protection in place.
pub trait InboundTransform: Send + Sync {
    /// Verifies and unprotects `pkt` in place; see the module docs for the buffer contract.
    fn unprotect(
        &self,
        pkt: &mut PacketBuf,
        now: Timestamp,
        events: &mut Vec<SaEvent>,
    ) -> InboundVerdict;
}
