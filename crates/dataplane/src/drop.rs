//! Why the data plane drops a packet, and the counters that record it.
//!
//! Every data-plane entry point that can refuse a packet says why with a [`DropReason`]
//! (STYLE.md guideline 7); the caller bumps the matching counter in a [`DropCounters`] and moves
//! on. Drops are never logged per packet (a flood of bad packets must not become a flood of log
//! lines); operators read the counters (`rampart sa list`, metrics).

use crate::replay::ReplayError;
use crate::seq::SeqError;
use core::sync::atomic::{AtomicU64, Ordering};

/// Declares [`DropReason`] with a dense index, a name per reason and the list of all reasons.
macro_rules! drop_reasons {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal, )*) => {
        /// Why a packet was dropped. Each reason has its own counter in [`DropCounters`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        #[repr(u8)]
        pub enum DropReason {
            $( $(#[$doc])* $variant, )*
        }

        impl DropReason {
            /// Every reason, in counter-index order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),*];

            /// Number of reasons (the length of a [`DropCounters`] snapshot).
            pub const COUNT: usize = Self::ALL.len();

            /// A short, stable, machine-friendly name (used in metrics and `--json` output).
            pub fn name(self) -> &'static str {
                match self {
                    $( Self::$variant => $name, )*
                }
            }
        }
    };
}

drop_reasons! {
    /// Inbound: no SA has this SPI (RFC 4303 §3.4.2; the packet is discarded and counted).
    BadSpi => "bad_spi",
    /// Outbound: the policy says PROTECT but no SA is installed yet (an ACQUIRE was raised and
    /// the packet could not be queued).
    NoSa => "no_sa",
    /// Inbound: the sequence number was already received (RFC 4303 §3.4.3).
    Replay => "replay",
    /// Inbound: the sequence number is left of the anti-replay window.
    ReplayTooOld => "replay_too_old",
    /// Inbound: sequence number 0 with anti-replay on (never sent by a conforming peer).
    ZeroSequence => "zero_sequence",
    /// Inbound: the ICV did not verify (or AEAD authentication failed) (RFC 4303 §3.4.4).
    IcvFailure => "icv_failure",
    /// Inbound: the ESP padding bytes or pad length are invalid (RFC 4303 §2.4).
    BadPadding => "bad_padding",
    /// Inbound: the packet is shorter than its headers, IV and ICV require.
    Truncated => "truncated",
    /// A header is malformed (a wire parser refused it).
    Malformed => "malformed",
    /// Inbound: the decapsulated packet does not match the SA's traffic selectors
    /// (RFC 4301 §5.2).
    PolicyMismatch => "policy_mismatch",
    /// The SPD entry says DISCARD (RFC 4301 §4.4.1).
    PolicyDiscard => "policy_discard",
    /// The SA reached a hard lifetime and no longer carries traffic.
    SaExpired => "sa_expired",
    /// Outbound: the SA's sequence number space is used up (RFC 4303 §3.3.3).
    SequenceExhausted => "sequence_exhausted",
    /// Inbound: the inner Next Header is one this data plane does not deliver.
    UnsupportedNextHeader => "unsupported_next_header",
    /// Inbound: a dummy packet, Next Header 59 (RFC 4303 §2.6): silently dropped, but counted.
    DummyPacket => "dummy_packet",
    /// The packet buffer lacks the headroom or tailroom the transform needs.
    BufferTooSmall => "buffer_too_small",
    /// A bounded queue (e.g. packets waiting for an ACQUIRE) was full.
    QueueFull => "queue_full",
}

impl DropReason {
    /// Dense index of this reason, `0..COUNT`.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl core::fmt::Display for DropReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

impl From<ReplayError> for DropReason {
    fn from(e: ReplayError) -> Self {
        match e {
            ReplayError::Duplicate => Self::Replay,
            ReplayError::TooOld => Self::ReplayTooOld,
            ReplayError::ZeroSequence => Self::ZeroSequence,
        }
    }
}

impl From<SeqError> for DropReason {
    fn from(e: SeqError) -> Self {
        match e {
            SeqError::Exhausted { .. } => Self::SequenceExhausted,
        }
    }
}

/// One counter per [`DropReason`], shared between workers.
///
/// Counters are `Relaxed` atomic adds: they are statistics, ordering nothing else. The struct is
/// aligned to a cache line so that its counters never share a line with hot neighbouring fields
/// (sequence numbers, byte counters). The counters inside are *not* padded one per line: drops
/// are the exception path, and padding each of them would cost over a kilobyte per SA.
#[derive(Debug)]
#[repr(align(64))]
pub struct DropCounters {
    counts: [AtomicU64; DropReason::COUNT],
}

impl Default for DropCounters {
    fn default() -> Self {
        Self::new()
    }
}

impl DropCounters {
    /// All counters at zero.
    pub fn new() -> Self {
        Self {
            counts: core::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// Count one dropped packet.
    pub fn record(&self, reason: DropReason) {
        self.add(reason, 1);
    }

    /// Count `n` dropped packets (a batch).
    pub fn add(&self, reason: DropReason, n: u64) {
        self.counts[reason.index()].fetch_add(n, Ordering::Relaxed);
    }

    /// The current count for one reason.
    pub fn get(&self, reason: DropReason) -> u64 {
        self.counts[reason.index()].load(Ordering::Relaxed)
    }

    /// Every reason with its count, in [`DropReason::ALL`] order. Each value is read
    /// independently, so a snapshot taken under traffic is not one atomic instant.
    pub fn snapshot(&self) -> [(DropReason, u64); DropReason::COUNT] {
        core::array::from_fn(|i| (DropReason::ALL[i], self.counts[i].load(Ordering::Relaxed)))
    }

    /// Sum over all reasons.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn indices_are_dense_and_names_unique() {
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
        let names: HashSet<_> = DropReason::ALL.iter().map(|r| r.name()).collect();
        assert_eq!(names.len(), DropReason::COUNT);
        assert_eq!(DropReason::DummyPacket.to_string(), "dummy_packet");
    }

    #[test]
    fn counts_and_snapshot() {
        let c = DropCounters::new();
        c.record(DropReason::IcvFailure);
        c.record(DropReason::IcvFailure);
        c.add(DropReason::DummyPacket, 5);
        assert_eq!(c.get(DropReason::IcvFailure), 2);
        assert_eq!(c.get(DropReason::BadSpi), 0);
        assert_eq!(c.total(), 7);
        let snap = c.snapshot();
        assert_eq!(snap.len(), DropReason::COUNT);
        let nonzero: Vec<_> = snap.iter().copied().filter(|&(_, n)| n != 0).collect();
        assert_eq!(
            nonzero,
            vec![(DropReason::IcvFailure, 2), (DropReason::DummyPacket, 5)]
        );
        assert_eq!(align_of::<DropCounters>(), 64);
    }

    #[test]
    fn maps_replay_and_seq_errors() {
        assert_eq!(DropReason::from(ReplayError::Duplicate), DropReason::Replay);
        assert_eq!(
            DropReason::from(ReplayError::TooOld),
            DropReason::ReplayTooOld
        );
        assert_eq!(
            DropReason::from(ReplayError::ZeroSequence),
            DropReason::ZeroSequence
        );
        assert_eq!(
            DropReason::from(SeqError::Exhausted { first: true }),
            DropReason::SequenceExhausted
        );
    }
}
