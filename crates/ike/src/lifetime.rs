//! SA lifetimes (RFC 7296 §2.8, §2.18): the jittered soft deadline, and the table of what each
//! expiry does. Time-based expiries come from the IKE SA's timer table; byte and packet
//! expiries come from the data plane as commands. Both end in the same [`Action`].
//!
//! Who initiates a rekey: whichever side's soft deadline comes first. The jitter makes the two
//! deadlines differ, so usually one side rekeys and the other answers (and cancels its own
//! soft timer for the replaced SA); when both start at once, the collision rules of §2.8.1 and
//! §2.8.2 decide which new SA survives.

use core::time::Duration;

use rampart_crypto::SecureRandom;

use crate::config::Lifetimes;
use crate::time::Instant;
use crate::timer::Timer;

/// What an expiry asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Rekey the IKE SA (§1.3.2).
    RekeyIke,
    /// Delete the IKE SA and its children (§1.4.1).
    DeleteIke,
    /// Rekey the child SA with this inbound SPI (§1.3.3).
    RekeyChild(u32),
    /// Delete the child SA with this inbound SPI (§1.4.1).
    DeleteChild(u32),
}

/// The expiry table: soft deadlines rekey, hard deadlines delete. `None` for timers that are
/// not lifetimes.
pub(crate) fn action(timer: Timer) -> Option<Action> {
    match timer {
        Timer::IkeSoft => Some(Action::RekeyIke),
        Timer::IkeHard => Some(Action::DeleteIke),
        Timer::ChildSoft(spi) => Some(Action::RekeyChild(spi)),
        Timer::ChildHard(spi) => Some(Action::DeleteChild(spi)),
        Timer::Retransmit | Timer::HalfOpen | Timer::Dpd | Timer::Linger | Timer::NatKeepalive => {
            None
        }
    }
}

/// A uniformly drawn duration in `[0, max)`; zero if the RNG fails or `max` is zero.
pub(crate) fn random_below(rng: &dyn SecureRandom, max: Duration) -> Duration {
    let max = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
    if max == 0 {
        return Duration::ZERO;
    }
    let mut b = [0u8; 8];
    if rng.fill(&mut b).is_err() {
        return Duration::ZERO;
    }
    Duration::from_nanos(u64::from_be_bytes(b) % max)
}

/// Soft and hard deadlines of an SA created at `now`: soft = `rekey_after` − jitter, the jitter
/// uniform in [0, `rekey_after`/10), and never later than hard.
pub(crate) fn deadlines(now: Instant, l: &Lifetimes, rng: &dyn SecureRandom) -> (Instant, Instant) {
    let jitter = random_below(rng, l.rekey_after / 10);
    let soft = l.rekey_after.saturating_sub(jitter).min(l.hard);
    (now + soft, now + l.hard)
}

/// How long to wait before retrying an exchange the peer refused with TEMPORARY_FAILURE
/// (§2.25): one to three seconds, random, so that two retrying peers drift apart.
pub(crate) fn retry_delay(rng: &dyn SecureRandom) -> Duration {
    Duration::from_secs(1) + random_below(rng, Duration::from_secs(2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_crypto::DeterministicRandom;

    #[test]
    fn soft_deadline_is_jittered_within_a_tenth() {
        let l = Lifetimes {
            rekey_after: Duration::from_secs(100),
            hard: Duration::from_secs(120),
        };
        let rng = DeterministicRandom::from_u64(3);
        let t0 = Instant::from_nanos(1_000);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..50 {
            let (soft, hard) = deadlines(t0, &l, &rng);
            assert_eq!(hard, t0 + Duration::from_secs(120));
            assert!(soft <= t0 + Duration::from_secs(100));
            assert!(soft > t0 + Duration::from_secs(90));
            seen.insert(soft);
        }
        assert!(seen.len() > 40, "jitter must vary");
        // rekey_after past hard: soft is clamped to hard.
        let l = Lifetimes {
            rekey_after: Duration::from_secs(200),
            hard: Duration::from_secs(10),
        };
        let (soft, hard) = deadlines(t0, &l, &rng);
        assert_eq!(soft, hard);
    }

    #[test]
    fn table_maps_soft_to_rekey_and_hard_to_delete() {
        assert_eq!(action(Timer::IkeSoft), Some(Action::RekeyIke));
        assert_eq!(action(Timer::IkeHard), Some(Action::DeleteIke));
        assert_eq!(action(Timer::ChildSoft(9)), Some(Action::RekeyChild(9)));
        assert_eq!(action(Timer::ChildHard(9)), Some(Action::DeleteChild(9)));
        assert_eq!(action(Timer::Dpd), None);
        let d = retry_delay(&DeterministicRandom::from_u64(1));
        assert!(d >= Duration::from_secs(1) && d < Duration::from_secs(3));
    }
}
