//! What each data-plane entry point can produce (STYLE.md guideline 6): one enum per direction,
//! holding only the outcomes that direction has. Drops carry a [`DropReason`] that the caller
//! counts; SA events (soft/hard expiry, sequence exhaustion) are pushed to a caller-owned
//! [`SaEvent`] list so the per-packet path never allocates once that list has capacity.

use crate::drop::DropReason;
pub use crate::lifetime::SaEvent;
use crate::sa::SaCounters;

/// The outcome of protecting one outbound packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutboundVerdict {
    /// The buffer now holds the protected packet, ready to send.
    Send,
    /// The packet was not protected and must not be sent.
    Drop(DropReason),
}

/// The outcome of processing one inbound protected packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InboundVerdict {
    /// The buffer now holds the inner packet (tunnel mode) or the reconstructed plain packet
    /// (transport mode), ready to deliver.
    Deliver,
    /// The packet was dropped.
    Drop(DropReason),
}

impl OutboundVerdict {
    /// The verdict for a transform's outcome; a drop is counted on the SA's `counters`.
    pub fn counted(outcome: Result<(), DropReason>, counters: &SaCounters) -> Self {
        match outcome {
            Ok(()) => Self::Send,
            Err(reason) => {
                counters.record_drop(reason);
                Self::Drop(reason)
            }
        }
    }
}

impl InboundVerdict {
    /// The verdict for a transform's outcome; a drop is counted on the SA's `counters`.
    pub fn counted(outcome: Result<(), DropReason>, counters: &SaCounters) -> Self {
        match outcome {
            Ok(()) => Self::Deliver,
            Err(reason) => {
                counters.record_drop(reason);
                Self::Drop(reason)
            }
        }
    }
}
