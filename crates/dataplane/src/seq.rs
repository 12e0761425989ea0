//! Outbound sequence numbers (RFC 4303 §3.3.3, RFC 4302 §3.3.2), shared lock-free between the
//! workers that encapsulate on the same SA.
//!
//! Position in the outbound path (DESIGN.md §2): SPD classify → SA → **[`OutboundSeq::next`]** →
//! encrypt + ICV (the transform puts the low 32 bits in the header and, with ESN, the high 32
//! bits in the ICV input / AAD) → send.
//!
//! The counter starts at 0 when the SA is established and the first packet carries 1. The
//! transmitted number must never cycle (RFC 4303 §3.3.3, with anti-replay on, the sender's
//! default assumption; a new SA is needed instead): without ESN the last number is 2^32 - 1,
//! with ESN 2^64 - 1. Reaching it
//! returns [`SeqError::Exhausted`] for every later packet; the first refusal is the moment to
//! raise [`crate::lifetime::SaEvent::SequenceExhausted`] (reported by [`SeqError::Exhausted`]'s
//! `first` flag).

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use thiserror::Error;

/// The outbound counter has no number left for this packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Error)]
#[non_exhaustive]
pub enum SeqError {
    /// The counter reached its last value (2^32 - 1 without ESN, 2^64 - 1 with); the SA must be
    /// replaced. `first` is true for exactly one refusal, the one that should raise the event.
    #[error("outbound sequence number space exhausted")]
    Exhausted {
        /// Whether this is the first refusal on this SA.
        first: bool,
    },
}

/// An outbound SA's sequence number counter.
///
/// # Concurrency and memory ordering
///
/// [`next`](Self::next) is one `fetch_add(1, Relaxed)`. Uniqueness needs nothing more: every
/// read-modify-write on one atomic sees the latest value in that atomic's modification order, so
/// no two calls ever get the same number, whatever the ordering argument. The counter publishes
/// no other memory (the packet's bytes are the caller's own), so `Acquire`/`Release` would buy
/// nothing. Packets may leave out of order across workers; the receiver's window absorbs that.
///
/// The exhaustion flag is also `Relaxed`: it is a fast-path hint; correctness rests on the value
/// `fetch_add` returned, not on the flag.
#[derive(Debug)]
pub struct OutboundSeq {
    /// Numbers handed out so far; the next packet gets `counter + 1`.
    counter: AtomicU64,
    /// Set once a caller was refused, so later callers stop touching the counter.
    exhausted: AtomicBool,
    /// Last usable number: `u32::MAX` or `u64::MAX`.
    max: u64,
    esn: bool,
}

impl OutboundSeq {
    /// A fresh counter (the first packet gets 1), with or without ESN.
    pub fn new(esn: bool) -> Self {
        Self::after(0, esn)
    }

    /// A counter whose last handed-out number is `last_sent` (the next packet gets
    /// `last_sent + 1`). For tests and for moving an SA between data planes.
    pub fn after(last_sent: u64, esn: bool) -> Self {
        let max = if esn { u64::MAX } else { u64::from(u32::MAX) };
        Self {
            counter: AtomicU64::new(last_sent.min(max)),
            exhausted: AtomicBool::new(false),
            max,
            esn,
        }
    }

    /// Whether this counter is 64-bit (ESN).
    pub fn esn(&self) -> bool {
        self.esn
    }

    /// The next full sequence number for an outbound packet. The transform writes the low 32 bits
    /// to the header; with ESN the high 32 bits go into the ICV input or AAD.
    ///
    /// Without ESN the counter lives in a 64-bit word, so values past 2^32 - 1 are refused
    /// without the word ever wrapping. With ESN the word's own top value is the last valid
    /// number; the call that finds it used up wraps the word to 0, so it stores the maximum back
    /// and sets the sticky flag. A second worker racing that exact call could observe the
    /// wrapped word; reaching it takes 2^64 packets (585 years at 10^9 packets a second), so
    /// this is accepted rather than paying a compare-and-swap loop on every packet.
    pub fn next(&self) -> Result<u64, SeqError> {
        if self.exhausted.load(Ordering::Relaxed) {
            return Err(SeqError::Exhausted { first: false });
        }
        let prev = self.counter.fetch_add(1, Ordering::Relaxed);
        match prev.checked_add(1) {
            Some(seq) if seq <= self.max => Ok(seq),
            _ => {
                if self.esn {
                    // The word wrapped to 0; put it back at the end of the space.
                    self.counter.store(u64::MAX, Ordering::Relaxed);
                }
                let first = !self.exhausted.swap(true, Ordering::Relaxed);
                Err(SeqError::Exhausted { first })
            }
        }
    }

    /// The last number handed out (0 if none), saturated at the maximum. For display only.
    pub fn last_sent(&self) -> u64 {
        self.counter.load(Ordering::Relaxed).min(self.max)
    }

    /// Whether the counter has refused a packet.
    pub fn is_exhausted(&self) -> bool {
        self.exhausted.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::Arc;

    #[test]
    fn starts_at_one_and_counts() {
        let s = OutboundSeq::new(false);
        assert_eq!(s.last_sent(), 0);
        assert_eq!(s.next(), Ok(1));
        assert_eq!(s.next(), Ok(2));
        assert_eq!(s.last_sent(), 2);
        assert!(!s.is_exhausted());
    }

    #[test]
    fn non_esn_stops_at_2_pow_32_minus_1() {
        let s = OutboundSeq::after(u64::from(u32::MAX) - 2, false);
        assert_eq!(s.next(), Ok(u64::from(u32::MAX) - 1));
        assert_eq!(s.next(), Ok(u64::from(u32::MAX)));
        assert_eq!(s.next(), Err(SeqError::Exhausted { first: true }));
        assert_eq!(s.next(), Err(SeqError::Exhausted { first: false }));
        assert!(s.is_exhausted());
        assert_eq!(s.last_sent(), u64::from(u32::MAX));
    }

    #[test]
    fn esn_goes_past_2_pow_32_and_stops_at_2_pow_64_minus_1() {
        let s = OutboundSeq::after(u64::from(u32::MAX) - 1, true);
        assert_eq!(s.next(), Ok(u64::from(u32::MAX)));
        assert_eq!(s.next(), Ok(1 << 32));

        let s = OutboundSeq::after(u64::MAX - 1, true);
        assert_eq!(s.next(), Ok(u64::MAX));
        assert_eq!(s.next(), Err(SeqError::Exhausted { first: true }));
        assert_eq!(s.last_sent(), u64::MAX, "the wrapped word was restored");
        assert_eq!(s.next(), Err(SeqError::Exhausted { first: false }));
    }

    /// Several threads share one counter: every number is handed out exactly once, none past
    /// the end, and exactly one refusal is marked first.
    #[test]
    fn concurrent_numbers_are_unique() {
        const THREADS: usize = 4;
        const PER_THREAD: usize = 5_000;
        let start = u64::from(u32::MAX) - 12_000;
        let s = Arc::new(OutboundSeq::after(start, false));
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let s = Arc::clone(&s);
                std::thread::spawn(move || (0..PER_THREAD).map(|_| s.next()).collect::<Vec<_>>())
            })
            .collect();
        let mut seen = HashSet::new();
        let mut firsts = 0;
        let mut refusals = 0;
        for h in handles {
            for r in h.join().expect("worker thread does not panic") {
                match r {
                    Ok(n) => assert!(seen.insert(n), "{n} handed out twice"),
                    Err(SeqError::Exhausted { first }) => {
                        refusals += 1;
                        firsts += usize::from(first);
                    }
                }
            }
        }
        assert_eq!(seen.len(), 12_000);
        assert_eq!(seen.iter().min(), Some(&(start + 1)));
        assert_eq!(seen.iter().max(), Some(&u64::from(u32::MAX)));
        assert_eq!(refusals, THREADS * PER_THREAD - 12_000);
        assert_eq!(firsts, 1);
    }
}
