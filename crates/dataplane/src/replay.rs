//! Inbound anti-replay: a sliding bitmap window over sequence numbers, with Extended Sequence
//! Number (ESN) inference (RFC 4303 §3.4.3 and Appendix A; RFC 4302 §3.4.3 and Appendix B for AH,
//! which are the same algorithm).
//!
//! Position in the inbound path (DESIGN.md §2): SPI lookup → **[`ReplayWindow::check`]** →
//! verify ICV + decrypt → **[`ReplayWindow::commit`]** → selector check → deliver. The window is
//! split in two phases because the window may only move for packets whose integrity was verified
//! (RFC 4303 §3.4.3: "the receive window is updated only if the integrity verification
//! succeeds"), while the ICV itself needs the high-order ESN bits that only the window can infer.
//!
//! # Window semantics
//!
//! With a configured size `W` (1..=[`MAX_WINDOW`]) and `T` the highest sequence number
//! committed so far (0 before any), a sequence number `s` is accepted iff `s != 0`, it was not
//! committed before, and `s > T` or `T - s < W`; that is, the window is exactly `[T - W + 1, T]`.
//! Internally the bitmap is a ring of 64-bit words (the block scheme of RFC 6479) with at least one
//! spare word, its length rounded up to a power of two so indexing is a mask; the spare bits never
//! widen the window, because the distance `T - s` is compared with `W` itself before any bit is
//! read.
//!
//! `W = 0` turns anti-replay off (RFC 4303 §3.4.3: "If the receiver does not enable anti-replay
//! for an SA, no inbound checks are performed on the Sequence Number"): every sequence number,
//! including 0 (a sender that knows anti-replay is off may let its counter cycle, §3.3.3), passes.
//!
//! # ESN with anti-replay off
//!
//! RFC 4303 §2.2.1 says the high-order 32 bits "are maintained as part of the sequence number
//! counter by both transmitter and receiver and are included in the computation of the ICV", and
//! does not make that conditional on anti-replay; RFC 4303 defines the inference only in terms of
//! the window (Appendix A2.2). So with ESN and `W = 0` this window still tracks `T` (advanced on
//! commit, never checked) and infers the high bits with the same Appendix A2.2 rule, using the
//! widest window for which that rule is unambiguous, 2^31: a packet is placed in whichever
//! 2^32-subspace puts it nearest to `T`. (Linux refuses ESN with a zero inbound window instead; we
//! accept it, and the rule above is the one a peer's counter can actually follow.)
//!
//! Loss of synchronisation (Appendix A3: 2^32 consecutive losses) is not recovered here; that
//! needs trial ICV computations and belongs to the transform.

use core::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use thiserror::Error;

/// Largest configurable window, in packets.
pub const MAX_WINDOW: u32 = 4096;

/// Default window size, in packets (RFC 4303 §3.4.3 asks for at least 32, recommends 64 for
/// high-speed links; 128 absorbs the reordering of multi-queue receivers).
pub const DEFAULT_WINDOW: u32 = 128;

/// Inference window used when anti-replay is off but ESN is on (see the module docs).
const ESN_INFERENCE_WINDOW_WHEN_OFF: u32 = 1 << 31;

/// Why an inbound sequence number was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The sequence number was already committed inside the window.
    #[error("duplicate sequence number (replayed packet)")]
    Duplicate,
    /// The sequence number lies left of the window (or, with ESN, in no valid 2^32-subspace).
    #[error("sequence number left of the anti-replay window")]
    TooOld,
    /// Sequence number 0: never sent while anti-replay is on (the sender starts at 1).
    #[error("sequence number zero")]
    ZeroSequence,
}

/// A replay window could not be configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Error)]
#[non_exhaustive]
pub enum ReplayConfigError {
    /// The requested size is above [`MAX_WINDOW`].
    #[error("replay window of {requested} packets exceeds the maximum of {MAX_WINDOW}")]
    WindowTooLarge {
        /// The size asked for.
        requested: u32,
    },
}

/// The result of a successful [`ReplayWindow::check`]: the full 64-bit sequence number this
/// packet must carry, to be confirmed with [`ReplayWindow::commit`] once its ICV verified.
///
/// Not `Copy`: committing consumes it. A candidate is tied to the window that produced it;
/// committing it to another window is a logic error (it is still re-checked there, so it cannot
/// corrupt that window's state).
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a candidate does nothing until it is committed after the ICV check"]
pub struct Candidate {
    seq: u64,
}

impl Candidate {
    /// The full (inferred, with ESN) 64-bit sequence number.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The high-order 32 bits (`Seqh`): what ESN adds to the ICV input (RFC 4303 §2.2.1) or to
    /// the AEAD's AAD (e.g. RFC 4106 §5). Always 0 without ESN.
    pub fn seq_hi(&self) -> u32 {
        (self.seq >> 32) as u32
    }

    /// The low-order 32 bits (`Seql`), as carried in the packet.
    pub fn seq_lo(&self) -> u32 {
        self.seq as u32
    }
}

/// An inbound SA's anti-replay state: the highest committed sequence number and a bitmap of the
/// `W` numbers at and below it. Mutated only through [`commit`](Self::commit); see the module docs
/// for the exact acceptance rule.
///
/// Shared by every worker that receives the SA's packets, without a lock on the check:
/// [`check`](Self::check) reads `T` (Acquire) and the bitmap words (Relaxed) lock-free, while
/// [`commit`](Self::commit) is serialized by a small internal lock and publishes the words it
/// clears before it stores the new `T` (Release). A check racing a commit can therefore only
/// (a) accept a number that the commit's own re-check then refuses, or (b) call a number that
/// has just fallen out of the window a `Duplicate` rather than `TooOld` (a ring word only aliases
/// another number's word once that number is at least `W` behind the new `T`). It never refuses
/// a number the window would accept, so the lock-free pre-check is exact where it matters and
/// the commit is authoritative.
#[derive(Debug)]
pub struct ReplayWindow {
    /// `W` exactly as configured; 0 means anti-replay is off.
    size: u32,
    /// Extended (64-bit) sequence numbers negotiated for this SA.
    esn: bool,
    /// `T`: highest committed full sequence number, 0 before any packet.
    top: AtomicU64,
    /// Ring of 64-bit blocks; bit `s % 64` of word `(s / 64) % len` stands for sequence `s`.
    /// `len` is a power of two `>= ceil(W / 64) + 1`; empty when `W = 0`.
    bitmap: Box<[AtomicU64]>,
    /// Serializes commits (window slides must not interleave); never held across crypto.
    commit_lock: Mutex<()>,
}

impl Clone for ReplayWindow {
    /// A snapshot of the window (for tests and for moving an SA).
    fn clone(&self) -> Self {
        let _guard = self
            .commit_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Self {
            size: self.size,
            esn: self.esn,
            top: AtomicU64::new(self.top.load(Ordering::Relaxed)),
            bitmap: self
                .bitmap
                .iter()
                .map(|w| AtomicU64::new(w.load(Ordering::Relaxed)))
                .collect(),
            commit_lock: Mutex::new(()),
        }
    }
}

impl PartialEq for ReplayWindow {
    fn eq(&self, other: &Self) -> bool {
        self.size == other.size
            && self.esn == other.esn
            && self.top() == other.top()
            && self.bitmap.len() == other.bitmap.len()
            && self
                .bitmap
                .iter()
                .zip(other.bitmap.iter())
                .all(|(a, b)| a.load(Ordering::Relaxed) == b.load(Ordering::Relaxed))
    }
}

impl Eq for ReplayWindow {}

impl ReplayWindow {
    /// A window of `size` packets (0 turns anti-replay off), for an SA with or without ESN.
    /// Allocates the bitmap once, here; nothing on the per-packet path allocates.
    pub fn new(size: u32, esn: bool) -> Result<Self, ReplayConfigError> {
        if size > MAX_WINDOW {
            return Err(ReplayConfigError::WindowTooLarge { requested: size });
        }
        let words = if size == 0 {
            0
        } else {
            (size.div_ceil(64) as usize + 1).next_power_of_two()
        };
        Ok(Self {
            size,
            esn,
            top: AtomicU64::new(0),
            bitmap: (0..words).map(|_| AtomicU64::new(0)).collect(),
            commit_lock: Mutex::new(()),
        })
    }

    /// A window whose highest committed sequence number is already `top` (nothing in the window
    /// marked as seen). For tests that start next to the 2^32 boundary.
    #[cfg(test)]
    pub(crate) fn starting_at(size: u32, esn: bool, top: u64) -> Self {
        let w = Self::new(size, esn).expect("test windows are within MAX_WINDOW");
        let top = if esn { top } else { top & u64::from(u32::MAX) };
        w.top.store(top, Ordering::Relaxed);
        w
    }

    /// The configured window size `W` (0: anti-replay off).
    pub fn size(&self) -> u32 {
        self.size
    }

    /// Whether anti-replay checks are performed.
    pub fn is_enabled(&self) -> bool {
        self.size != 0
    }

    /// Whether this SA uses extended sequence numbers.
    pub fn esn(&self) -> bool {
        self.esn
    }

    /// `T`: the highest sequence number committed so far (0 before any).
    pub fn top(&self) -> u64 {
        self.top.load(Ordering::Acquire)
    }

    /// Phase 1, before the ICV check: infer the full sequence number from the packet's 32-bit
    /// field and reject zero, duplicates and too-old numbers. Does not change the window.
    ///
    /// With ESN the returned [`Candidate::seq_hi`] is what the ICV/AAD must be computed over.
    pub fn check(&self, seq_lo: u32) -> Result<Candidate, ReplayError> {
        // Acquire: the words cleared by the commit that published this `T` are visible.
        let top = self.top.load(Ordering::Acquire);
        let seq = if self.esn {
            self.infer(top, seq_lo)?
        } else {
            u64::from(seq_lo)
        };
        if self.size != 0 {
            self.check_full(top, seq)?;
        }
        Ok(Candidate { seq })
    }

    /// Phase 2, after the ICV verified: mark the candidate's sequence number as received and
    /// slide the window if it is the new highest (RFC 4303 §3.4.3).
    ///
    /// The candidate is re-checked against the current state first, so two candidates for the
    /// same number (or one overtaken by a window slide) cannot both be committed: the loser gets
    /// `Duplicate` or `TooOld` and its packet must be dropped.
    pub fn commit(&self, candidate: Candidate) -> Result<(), ReplayError> {
        // Poisoning is ignored: every step below leaves the window consistent.
        let _guard = self
            .commit_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let seq = candidate.seq;
        // Under the lock no other commit changes `T`.
        let top = self.top.load(Ordering::Relaxed);
        if self.size == 0 {
            // Anti-replay off: only `T` is kept, for ESN inference.
            self.top.store(top.max(seq), Ordering::Release);
            return Ok(());
        }
        self.check_full(top, seq)?;
        let (word, bit) = self.slot(seq);
        if seq > top {
            self.advance(top, seq);
            // Set the bit before publishing `T`, so a check that sees the new `T` also sees it.
            self.bitmap[word].fetch_or(bit, Ordering::Relaxed);
            self.top.store(seq, Ordering::Release);
        } else {
            self.bitmap[word].fetch_or(bit, Ordering::Relaxed);
        }
        Ok(())
    }

    /// The window rule on a full sequence number (anti-replay on).
    fn check_full(&self, top: u64, seq: u64) -> Result<(), ReplayError> {
        if seq == 0 {
            return Err(ReplayError::ZeroSequence);
        }
        if seq > top {
            return Ok(());
        }
        if top - seq >= u64::from(self.size) {
            return Err(ReplayError::TooOld);
        }
        let (word, bit) = self.slot(seq);
        if self.bitmap[word].load(Ordering::Relaxed) & bit != 0 {
            return Err(ReplayError::Duplicate);
        }
        Ok(())
    }

    /// Clear the ring words that enter the window when `T` moves from `old_top` to `new_top`
    /// (RFC 6479 §2). The caller publishes `new_top` afterwards.
    fn advance(&self, old_top: u64, new_top: u64) {
        let old_word = old_top >> 6;
        let new_word = new_top >> 6;
        let len = self.bitmap.len() as u64;
        let mask = len - 1;
        let steps = new_word - old_word;
        if steps >= len {
            for w in self.bitmap.iter() {
                w.store(0, Ordering::Relaxed);
            }
        } else {
            for w in old_word + 1..=new_word {
                self.bitmap[(w & mask) as usize].store(0, Ordering::Relaxed);
            }
        }
    }

    /// Ring position of `seq`: word index and bit mask. Only called with anti-replay on (the
    /// bitmap is non-empty, its length a power of two, so the mask keeps the index in bounds).
    fn slot(&self, seq: u64) -> (usize, u64) {
        let mask = self.bitmap.len() as u64 - 1;
        (((seq >> 6) & mask) as usize, 1u64 << (seq & 63))
    }

    /// RFC 4303 Appendix A2.2: determine `Seqh` from `Seql`, `T = Th:Tl` and `W`.
    ///
    /// The RFC distinguishes whether the window lies within one 2^32-subspace:
    ///
    /// ```text
    /// Case A: Tl >= W - 1  (window within one subspace)
    ///   If Seql >= Bl (where Bl = Tl - W + 1), then Seqh = Th
    ///   If Seql <  Bl,                         then Seqh = Th + 1
    /// Case B: Tl <  W - 1  (window spans two subspaces)
    ///   If Seql >= Bl (where Bl = Tl - W + 1, mod 2^32), then Seqh = Th - 1
    ///   If Seql <  Bl,                                    then Seqh = Th
    /// ```
    ///
    /// (Appendix A2.3 then runs the replay and integrity checks on the result, which `check` and
    /// the transform do.) `Th + 1` past 2^32 - 1 or `Th - 1` below 0 names a sequence number
    /// outside the 64-bit space: with anti-replay on that packet can only be old (`TooOld`); with
    /// it off, `Th` is the only possible subspace.
    fn infer(&self, top: u64, seq_lo: u32) -> Result<u64, ReplayError> {
        let w = if self.size == 0 {
            ESN_INFERENCE_WINDOW_WHEN_OFF
        } else {
            self.size
        };
        let tl = top as u32;
        let th = (top >> 32) as u32;
        let bl = tl.wrapping_sub(w - 1);
        let seq_hi = if tl >= w - 1 {
            // Case A.
            if seq_lo >= bl {
                Some(th)
            } else {
                th.checked_add(1)
            }
        } else {
            // Case B.
            if seq_lo >= bl {
                th.checked_sub(1)
            } else {
                Some(th)
            }
        };
        let seq_hi = match seq_hi {
            Some(h) => h,
            None if self.size == 0 => th,
            None => return Err(ReplayError::TooOld),
        };
        Ok((u64::from(seq_hi) << 32) | u64::from(seq_lo))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    const TWO_32: u64 = 1 << 32;

    /// Check then commit, as the transform does after a successful ICV check.
    fn accept(w: &mut ReplayWindow, seq_lo: u32) -> Result<u64, ReplayError> {
        let c = w.check(seq_lo)?;
        let seq = c.seq();
        w.commit(c)?;
        Ok(seq)
    }

    #[test]
    fn config_limits() {
        assert_eq!(
            ReplayWindow::new(MAX_WINDOW + 1, false),
            Err(ReplayConfigError::WindowTooLarge { requested: 4097 })
        );
        for (size, words) in [
            (0, 0),
            (1, 2),
            (32, 2),
            (64, 2),
            (65, 4),
            (128, 4),
            (1000, 32),
        ] {
            let w = ReplayWindow::new(size, true).expect("size within range");
            assert_eq!(w.bitmap.len(), words, "ring words for W={size}");
            assert_eq!(w.size(), size);
            assert_eq!(w.is_enabled(), size != 0);
        }
        assert_eq!(
            ReplayWindow::new(4096, false).map(|w| w.bitmap.len()),
            Ok(128)
        );
    }

    /// Table test of the 32-bit window rule (RFC 4303 §3.4.3), W = 64.
    #[test]
    fn non_esn_window_table() {
        let mut w = ReplayWindow::new(64, false).expect("valid size");
        let steps: &[(u32, Result<u64, ReplayError>)] = &[
            (0, Err(ReplayError::ZeroSequence)),
            (1, Ok(1)),
            (1, Err(ReplayError::Duplicate)),
            (3, Ok(3)),
            (2, Ok(2)),
            (100, Ok(100)),
            (36, Err(ReplayError::TooOld)), // T - s = 64 = W: just left of the window
            (37, Ok(37)),                   // T - s = 63: leftmost slot
            (37, Err(ReplayError::Duplicate)),
            (100, Err(ReplayError::Duplicate)),
            (99, Ok(99)),
            (3, Err(ReplayError::TooOld)),
            (1000, Ok(1000)), // jump far ahead: whole ring cleared
            (937, Ok(937)),
            (936, Err(ReplayError::TooOld)),
            (u32::MAX, Ok(u64::from(u32::MAX))),
            (1, Err(ReplayError::TooOld)), // no cycling without ESN
            (0, Err(ReplayError::ZeroSequence)),
        ];
        for &(seq, expected) in steps {
            assert_eq!(accept(&mut w, seq), expected, "seq {seq}");
        }
    }

    /// The configured size is enforced exactly even when it is not a multiple of 64.
    #[test]
    fn exact_size_not_multiple_of_64() {
        for size in [1u32, 33, 100, 1000, 4095] {
            let mut w = ReplayWindow::starting_at(size, false, 5000);
            let left = 5000 - size + 1;
            assert_eq!(
                accept(&mut w, left - 1),
                Err(ReplayError::TooOld),
                "W={size}"
            );
            assert_eq!(accept(&mut w, left), Ok(u64::from(left)), "W={size}");
        }
    }

    #[test]
    fn check_does_not_mutate() {
        let mut w = ReplayWindow::new(128, true).expect("valid size");
        for s in [5, 9, 200, 150] {
            accept(&mut w, s).expect("fresh numbers");
        }
        let before = w.clone();
        for s in [0, 5, 10, 72, 73, 201, 5000, u32::MAX] {
            let _ = w.check(s);
        }
        assert_eq!(w, before);
    }

    /// Two candidates for the same number, or a candidate overtaken by a slide, cannot both be
    /// committed.
    #[test]
    fn commit_rechecks() {
        let mut w = ReplayWindow::new(64, false).expect("valid size");
        let a = w.check(10).expect("new");
        let b = w.check(10).expect("still new: check does not mutate");
        assert_eq!(w.commit(a), Ok(()));
        assert_eq!(w.commit(b), Err(ReplayError::Duplicate));

        let late = w.check(20).expect("new");
        accept(&mut w, 200).expect("new");
        assert_eq!(w.commit(late), Err(ReplayError::TooOld));
        assert_eq!(w.top(), 200);
    }

    /// RFC 4303 Appendix A2.2, Case A (Tl >= W - 1), W = 128, T = 5:1000, so Bl = 873.
    #[test]
    fn esn_case_a_table() {
        let top = (5 << 32) | 1000;
        let w = ReplayWindow::starting_at(128, true, top);
        let table: &[(u32, Result<u64, ReplayError>)] = &[
            (873, Ok((5 << 32) | 873)),   // Seql = Bl: same subspace, leftmost slot
            (1000, Ok((5 << 32) | 1000)), // Seql = Tl (not committed in this fresh window)
            (1001, Ok((5 << 32) | 1001)), // right of the window, same subspace
            (u32::MAX, Ok((5 << 32) | u64::from(u32::MAX))),
            (872, Ok((6 << 32) | 872)), // Seql < Bl: next subspace
            (0, Ok(6 << 32)),           // Seql 0 of the next subspace is a valid number
        ];
        for &(seq_lo, expected) in table {
            assert_eq!(w.check(seq_lo).map(|c| c.seq()), expected, "Seql {seq_lo}");
        }
    }

    /// RFC 4303 Appendix A2.2, Case B (Tl < W - 1), W = 128, T = 5:10, so Bl = 2^32 - 117.
    #[test]
    fn esn_case_b_table() {
        let top = (5 << 32) | 10;
        let w = ReplayWindow::starting_at(128, true, top);
        let bl = 10u32.wrapping_sub(127);
        assert_eq!(bl, u32::MAX - 116);
        let table: &[(u32, Result<u64, ReplayError>)] = &[
            (bl, Ok((4 << 32) | u64::from(bl))), // Seql >= Bl: previous subspace
            (u32::MAX, Ok((4 << 32) | u64::from(u32::MAX))),
            (bl - 1, Ok((5 << 32) | u64::from(bl - 1))), // Seql < Bl: this subspace, ahead
            (0, Ok(5 << 32)),
            (10, Ok((5 << 32) | 10)),
            (11, Ok((5 << 32) | 11)),
        ];
        for &(seq_lo, expected) in table {
            let got = w.check(seq_lo).map(|c| (c.seq(), c.seq_hi(), c.seq_lo()));
            let want = expected.map(|s| (s, (s >> 32) as u32, s as u32));
            assert_eq!(got, want, "Seql {seq_lo}");
        }
    }

    /// The window straddles 2^32: late packets from the old subspace are still accepted once,
    /// new ones land in the next subspace.
    #[test]
    fn esn_window_straddles_2_pow_32() {
        let mut w = ReplayWindow::starting_at(128, true, TWO_32 - 10);
        assert_eq!(
            accept(&mut w, 5),
            Ok(TWO_32 + 5),
            "Case A, Seql < Bl: Th + 1"
        );
        assert_eq!(w.top(), TWO_32 + 5);
        // Now Tl = 5 < W - 1: Case B.
        assert_eq!(
            accept(&mut w, u32::MAX - 19),
            Ok(TWO_32 - 20),
            "late, Th - 1"
        );
        assert_eq!(accept(&mut w, u32::MAX - 19), Err(ReplayError::Duplicate));
        assert_eq!(
            accept(&mut w, u32::MAX - 121),
            Ok(TWO_32 - 122),
            "leftmost slot"
        );
        // One further left is Seql < Bl, which Case B places in Th (far ahead): the candidate
        // carries 1:2^32-123, whose ICV would not verify for the real (old) packet.
        let c = w.check(u32::MAX - 122).expect("inferred as far ahead");
        assert_eq!(c.seq(), TWO_32 + u64::from(u32::MAX - 122));
        assert_eq!(
            accept(&mut w, 3),
            Ok(TWO_32 + 3),
            "reordered, same subspace"
        );
        assert_eq!(
            accept(&mut w, 0),
            Ok(TWO_32),
            "Seql 0 is valid with Seqh = 1"
        );
        assert_eq!(accept(&mut w, 0), Err(ReplayError::Duplicate));
    }

    #[test]
    fn esn_fresh_sa_and_64_bit_edges() {
        let mut w = ReplayWindow::new(128, true).expect("valid size");
        assert_eq!(accept(&mut w, 0), Err(ReplayError::ZeroSequence));
        // Th - 1 below 0: nothing exists left of the first subspace.
        assert_eq!(w.check(u32::MAX), Err(ReplayError::TooOld));
        assert_eq!(accept(&mut w, 1), Ok(1));

        // Th + 1 past 2^32 - 1: the 64-bit space is exhausted, so the packet can only be old.
        let w = ReplayWindow::starting_at(128, true, u64::MAX - 5);
        assert_eq!(w.check(3), Err(ReplayError::TooOld));
        assert_eq!(
            w.check(u32::MAX - 5 - 127).map(|c| c.seq()),
            Ok(u64::MAX - 132)
        );
        assert_eq!(w.check(u32::MAX).map(|c| c.seq()), Ok(u64::MAX));
    }

    /// Window 0: no checks at all; with ESN, `T` still moves and inference picks the nearest
    /// subspace.
    #[test]
    fn window_zero() {
        let mut w = ReplayWindow::new(0, false).expect("valid size");
        for s in [0, 5, 5, 1, u32::MAX, 0, 7] {
            assert_eq!(accept(&mut w, s), Ok(u64::from(s)));
        }

        let mut w = ReplayWindow::new(0, true).expect("valid size");
        assert_eq!(accept(&mut w, 0), Ok(0), "no checks, not even for zero");
        assert_eq!(
            accept(&mut w, u32::MAX),
            Ok(u64::from(u32::MAX)),
            "Th - 1 clamps to Th"
        );
        assert_eq!(
            accept(&mut w, 2),
            Ok(TWO_32 + 2),
            "nearest to T is the next subspace"
        );
        assert_eq!(
            accept(&mut w, u32::MAX - 1000),
            Ok(TWO_32 - 1001),
            "late: previous"
        );
        assert_eq!(accept(&mut w, 2), Ok(TWO_32 + 2), "duplicates pass");
        assert_eq!(w.top(), TWO_32 + 2);
        assert_eq!(
            accept(&mut w, 1 << 31),
            Ok(TWO_32 + (1 << 31)),
            "2^31 ahead: same subspace"
        );
    }

    /// Trivially correct reference: the set of accepted full numbers and the highest one.
    struct Model {
        size: u64,
        top: u64,
        accepted: HashSet<u64>,
    }

    impl Model {
        fn classify(&self, seq: u64) -> Result<(), ReplayError> {
            if self.size == 0 {
                return Ok(());
            }
            if seq == 0 {
                Err(ReplayError::ZeroSequence)
            } else if seq <= self.top && self.top - seq >= self.size {
                Err(ReplayError::TooOld)
            } else if self.accepted.contains(&seq) {
                Err(ReplayError::Duplicate)
            } else {
                Ok(())
            }
        }
    }

    /// Where an arrival's sequence number comes from.
    #[derive(Clone, Debug)]
    enum Origin {
        /// `back` numbers behind the sender's cursor (0: in order).
        Back(u64),
        /// A copy of an earlier arrival.
        Replay(prop::sample::Index),
        /// At the window's left edge: `T - W + k - 1`, `k` in 0..=2.
        Edge(u64),
    }

    /// One arrival: how far the sender's cursor moved on, where the number comes from, and
    /// whether the packet is a forgery (its ICV fails, so it is never committed).
    type Arrival = (u64, Origin, bool);

    fn arrivals(size: u32) -> impl Strategy<Value = Vec<Arrival>> {
        let w = u64::from(size.max(32));
        let step = prop_oneof![8 => 0..=w / 8 + 2, 1 => 0..=3 * w];
        let origin = prop_oneof![
            6 => Just(Origin::Back(0)),
            4 => (0..=w + w / 4).prop_map(Origin::Back),
            1 => any::<prop::sample::Index>().prop_map(Origin::Replay),
            1 => (0u64..=2).prop_map(Origin::Edge),
        ];
        prop::collection::vec((step, origin, prop::bool::weighted(0.1)), 1..300)
    }

    /// Drive the window and the model with the same arrivals; they must agree on every packet.
    fn run_against_model(size: u32, esn: bool, start: u64, arrivals: &[Arrival]) {
        let w = ReplayWindow::starting_at(size, esn, start);
        let mut model = Model {
            size: u64::from(size),
            top: start,
            accepted: HashSet::new(),
        };
        let limit = if esn { u64::MAX } else { u64::from(u32::MAX) };
        let mut cursor = start;
        let mut sent = Vec::new();
        for (step, origin, forged) in arrivals {
            cursor = cursor.saturating_add(*step).min(limit);
            let seq = match origin {
                Origin::Replay(i) if !sent.is_empty() => sent[i.index(sent.len())],
                Origin::Edge(k) => (model.top + k).saturating_sub(model.size + 1),
                Origin::Back(back) => cursor.saturating_sub(*back),
                Origin::Replay(_) => cursor,
            };
            sent.push(seq);
            let expected = model.classify(seq);
            let got = match w.check(seq as u32) {
                // Wrong high bits: the ICV is computed over the wrong Seqh and fails.
                Ok(c) if c.seq() != seq => Err(None),
                Ok(_) if *forged => Err(None),
                Ok(c) => w.commit(c).map_err(Some),
                Err(e) => Err(Some(e)),
            };
            match (expected, got) {
                (Ok(()), Ok(())) => {
                    model.top = model.top.max(seq);
                    model.accepted.insert(seq);
                }
                (Ok(()), Err(None)) => assert!(*forged, "seq {seq:#x} misinferred"),
                (Err(e), Err(Some(g))) => assert_eq!(e, g, "seq {seq:#x}"),
                (Err(_), Err(None)) => {} // rejected by the ICV instead: still rejected
                (e, g) => panic!("seq {seq:#x}: model {e:?}, window {g:?}"),
            }
            assert_eq!(w.top(), model.top);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn matches_model_32(arr in arrivals(32), esn: bool) { run_against_model(32, esn, 0, &arr) }

        #[test]
        fn matches_model_64(arr in arrivals(64), esn: bool) { run_against_model(64, esn, 0, &arr) }

        #[test]
        fn matches_model_128(arr in arrivals(128), esn: bool) {
            run_against_model(128, esn, 0, &arr)
        }

        #[test]
        fn matches_model_1000(arr in arrivals(1000), esn: bool) {
            run_against_model(1000, esn, 0, &arr)
        }

        #[test]
        fn matches_model_4096(arr in arrivals(4096), esn: bool) {
            run_against_model(4096, esn, 0, &arr)
        }

        #[test]
        fn matches_model_window_off(arr in arrivals(0), esn: bool) {
            run_against_model(0, esn, 0, &arr)
        }

        /// ESN across a 2^32-subspace boundary (the first, a later one, the last), every window
        /// size, starting up to two windows before the boundary.
        #[test]
        fn matches_model_esn_straddling(
            (size, start, arr) in prop::sample::select(vec![0u32, 1, 32, 64, 128, 1000, 4096])
                .prop_flat_map(|size| {
                    let boundary =
                        prop::sample::select(vec![TWO_32, 7 * TWO_32, u64::MAX - (TWO_32 - 1)]);
                    let before = 0..=2 * u64::from(size.max(32));
                    let start = (boundary, before).prop_map(|(b, k)| b - k);
                    (Just(size), start, arrivals(size))
                }),
        ) {
            run_against_model(size, true, start, &arr)
        }

        /// Without ESN, close to the end of the 32-bit space.
        #[test]
        fn matches_model_non_esn_near_end(
            arr in arrivals(128),
            size in prop::sample::select(vec![32u32, 128, 1000]),
        ) {
            run_against_model(size, false, u64::from(u32::MAX) - 20_000, &arr)
        }
    }
}
