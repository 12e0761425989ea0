//! SA lifetimes (RFC 4301 §4.4.2.1 "Lifetime of this SA"): soft and hard limits in bytes, packets
//! and time, the exact counters they are measured on, and the events they raise.
//!
//! Position in the path: after a packet passed (outbound: before encryption, inbound: after
//! decryption and the replay commit), the worker calls [`Lifetime::account`]; the daemon's timer
//! calls [`Lifetime::check_time`] at [`Lifetime::next_deadline`] (STYLE.md guideline 3). A soft
//! expiry asks the IKE engine to rekey; a hard expiry stops the SA. Both are reported exactly
//! once, as [`SaEvent`]s, by whichever caller crossed the limit first.
//!
//! Limit semantics: a soft limit of `n` bytes or packets is *reached* when the count gets to `n`;
//! a hard limit of `n` allows exactly the packets that keep the count at or below `n`, and the
//! packet that would take it past `n` is refused (and not counted). A time limit `d` is reached at
//! `installed_at + d`, for both. Once hard-expired, every later packet is refused.

use crate::drop::DropReason;
use crate::sa::Spi;
use crate::time::Timestamp;
use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use core::time::Duration;

/// One set of limits; `None` means no limit of that kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LifetimeLimits {
    /// Octets of payload carried (what the transform accounts; see [`Lifetime::account`]).
    pub bytes: Option<u64>,
    /// Packets carried.
    pub packets: Option<u64>,
    /// Time since the SA was installed.
    pub time: Option<Duration>,
}

/// The soft and hard limits of an SA (RFC 4301 §4.4.2.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lifetimes {
    /// Reaching one of these asks for a rekey; traffic continues.
    pub soft: LifetimeLimits,
    /// Reaching one of these stops the SA.
    pub hard: LifetimeLimits,
}

/// Which limit expired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExpiryReason {
    /// The byte limit.
    Bytes,
    /// The packet limit.
    Packets,
    /// The time limit.
    Time,
}

impl ExpiryReason {
    fn code(self) -> u8 {
        match self {
            Self::Bytes => 1,
            Self::Packets => 2,
            Self::Time => 3,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Bytes),
            2 => Some(Self::Packets),
            3 => Some(Self::Time),
            _ => None,
        }
    }
}

/// What the data plane tells the daemon about an SA (which routes it to the IKE engine).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SaEvent {
    /// A soft limit was reached: rekey. Raised once per SA.
    SoftExpired {
        /// The SA.
        spi: Spi,
        /// Which limit.
        reason: ExpiryReason,
    },
    /// A hard limit was reached: the SA carries no more traffic and should be deleted. Raised
    /// once per SA, always after (or together with) `SoftExpired`.
    HardExpired {
        /// The SA.
        spi: Spi,
        /// Which limit.
        reason: ExpiryReason,
    },
    /// The outbound sequence number space is used up (RFC 4303 §3.3.3). Raised once per SA.
    SequenceExhausted {
        /// The SA.
        spi: Spi,
    },
}

/// A hard expiry seen by one caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HardExpiry {
    /// The limit that expired (the first caller's, for everyone).
    pub reason: ExpiryReason,
    /// True for exactly one caller: the one that must report [`SaEvent::HardExpired`].
    pub first: bool,
    /// `Some` for the one caller that also raised the soft expiry now (a hard limit implies the
    /// soft one; this happens when no soft limit was reached before): report
    /// [`SaEvent::SoftExpired`] first.
    pub soft_now: Option<ExpiryReason>,
}

/// Outcome of accounting a packet or checking the time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a hard verdict means the packet must be dropped"]
pub enum LifetimeVerdict {
    /// Within all limits.
    Ok,
    /// A soft limit was reached by this call (exactly one caller sees this): the packet passes;
    /// report [`SaEvent::SoftExpired`].
    SoftExpiredNow(ExpiryReason),
    /// The SA is hard-expired: drop the packet ([`crate::drop::DropReason::SaExpired`]) and stop
    /// the SA.
    Hard(HardExpiry),
}

impl LifetimeVerdict {
    /// Whether the packet may proceed.
    pub fn passes(self) -> bool {
        !matches!(self, Self::Hard(_))
    }

    /// The events this verdict obliges its caller to report, soft before hard. Allocation-free.
    pub fn events(self, spi: Spi) -> impl Iterator<Item = SaEvent> {
        let (soft, hard) = match self {
            Self::Ok => (None, None),
            Self::SoftExpiredNow(reason) => (Some(reason), None),
            Self::Hard(h) => (h.soft_now, h.first.then_some(h.reason)),
        };
        [
            soft.map(|reason| SaEvent::SoftExpired { spi, reason }),
            hard.map(|reason| SaEvent::HardExpired { spi, reason }),
        ]
        .into_iter()
        .flatten()
    }

    /// Pushes the events this verdict obliges the transform to report and says whether the
    /// packet may pass ([`DropReason::SaExpired`] if not). The common `Ok` costs one compare.
    pub fn report(self, spi: Spi, events: &mut Vec<SaEvent>) -> Result<(), DropReason> {
        if self == Self::Ok {
            return Ok(());
        }
        events.extend(self.events(spi));
        if self.passes() {
            Ok(())
        } else {
            Err(DropReason::SaExpired)
        }
    }
}

/// An SA's lifetime state: limits, exact byte and packet counters, and the once-only expiry
/// flags. Shared between workers; every method takes `&self`.
///
/// Counters and flags use `Relaxed` atomics: each counter's own modification order makes the
/// sums exact, and the flags' `compare_exchange` makes each expiry fire once; no other memory is
/// published through them.
#[derive(Debug)]
pub struct Lifetime {
    limits: Lifetimes,
    installed_at: Timestamp,
    bytes: AtomicU64,
    packets: AtomicU64,
    /// 0, or the [`ExpiryReason::code`] of the soft expiry.
    soft: AtomicU8,
    /// 0, or the [`ExpiryReason::code`] of the hard expiry.
    hard: AtomicU8,
}

impl Lifetime {
    /// Fresh counters for an SA installed at `installed_at`.
    pub fn new(limits: Lifetimes, installed_at: Timestamp) -> Self {
        Self {
            limits,
            installed_at,
            bytes: AtomicU64::new(0),
            packets: AtomicU64::new(0),
            soft: AtomicU8::new(0),
            hard: AtomicU8::new(0),
        }
    }

    /// The configured limits.
    pub fn limits(&self) -> &Lifetimes {
        &self.limits
    }

    /// When the SA was installed.
    pub fn installed_at(&self) -> Timestamp {
        self.installed_at
    }

    /// Bytes accounted so far (packets refused by a hard limit excluded).
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Packets accounted so far (packets refused by a hard limit excluded).
    pub fn packets(&self) -> u64 {
        self.packets.load(Ordering::Relaxed)
    }

    /// Whether a soft limit has been reached.
    pub fn is_soft_expired(&self) -> bool {
        self.soft.load(Ordering::Relaxed) != 0
    }

    /// Whether the SA is hard-expired.
    pub fn is_hard_expired(&self) -> bool {
        self.hard.load(Ordering::Relaxed) != 0
    }

    /// Account one packet of `bytes` octets at `now` and say whether it may pass.
    ///
    /// Inbound, call it after the replay commit; outbound, before taking a sequence number (so a
    /// refused packet does not burn one). `bytes` is whatever the SA counts consistently (the
    /// transform's choice; the inner packet length is the usual one).
    pub fn account(&self, bytes: u64, now: Timestamp) -> LifetimeVerdict {
        if let Some(reason) = ExpiryReason::from_code(self.hard.load(Ordering::Relaxed)) {
            return self.hard_verdict(reason, None);
        }
        let packets = self
            .packets
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        let total = self
            .bytes
            .fetch_add(bytes, Ordering::Relaxed)
            .saturating_add(bytes);
        if let Some(reason) = self.hard_reached(total, packets, now) {
            // Refused: take the packet back out so the counters hold what passed.
            self.packets.fetch_sub(1, Ordering::Relaxed);
            self.bytes.fetch_sub(bytes, Ordering::Relaxed);
            let soft = self.soft_reached(total, packets, now);
            return self.hard_verdict(reason, soft);
        }
        self.soft_verdict(self.soft_reached(total, packets, now))
    }

    /// The timer path: check the time limits (and counters, unchanged) at `now`.
    pub fn check_time(&self, now: Timestamp) -> LifetimeVerdict {
        if let Some(reason) = ExpiryReason::from_code(self.hard.load(Ordering::Relaxed)) {
            return self.hard_verdict(reason, None);
        }
        let (total, packets) = (self.bytes(), self.packets());
        if let Some(reason) = self.hard_time_reached(now) {
            return self.hard_verdict(reason, self.soft_reached(total, packets, now));
        }
        self.soft_verdict(self.soft_reached(total, packets, now))
    }

    /// The next instant at which [`check_time`](Self::check_time) can change its answer, if
    /// any: the earliest time limit not yet fired.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        if self.is_hard_expired() {
            return None;
        }
        let at = |d: Option<Duration>| d.map(|d| self.installed_at.saturating_add(d));
        let hard = at(self.limits.hard.time);
        let soft = if self.is_soft_expired() {
            None
        } else {
            at(self.limits.soft.time)
        };
        match (soft, hard) {
            (Some(s), Some(h)) => Some(s.min(h)),
            (s, h) => s.or(h),
        }
    }

    /// Hard limits: counts past the limit, or the time reached.
    fn hard_reached(&self, bytes: u64, packets: u64, now: Timestamp) -> Option<ExpiryReason> {
        let hard = &self.limits.hard;
        if hard.bytes.is_some_and(|l| bytes > l) {
            Some(ExpiryReason::Bytes)
        } else if hard.packets.is_some_and(|l| packets > l) {
            Some(ExpiryReason::Packets)
        } else {
            self.hard_time_reached(now)
        }
    }

    fn hard_time_reached(&self, now: Timestamp) -> Option<ExpiryReason> {
        let deadline = self
            .limits
            .hard
            .time
            .map(|d| self.installed_at.saturating_add(d));
        deadline
            .is_some_and(|t| now >= t)
            .then_some(ExpiryReason::Time)
    }

    /// Soft limits: counts at the limit, or the time reached.
    fn soft_reached(&self, bytes: u64, packets: u64, now: Timestamp) -> Option<ExpiryReason> {
        let soft = &self.limits.soft;
        let deadline = soft.time.map(|d| self.installed_at.saturating_add(d));
        if soft.bytes.is_some_and(|l| bytes >= l) {
            Some(ExpiryReason::Bytes)
        } else if soft.packets.is_some_and(|l| packets >= l) {
            Some(ExpiryReason::Packets)
        } else if deadline.is_some_and(|t| now >= t) {
            Some(ExpiryReason::Time)
        } else {
            None
        }
    }

    /// Raise the soft flag if `reached` and nobody did before.
    fn soft_verdict(&self, reached: Option<ExpiryReason>) -> LifetimeVerdict {
        match reached {
            Some(reason) if self.raise(&self.soft, reason) => {
                LifetimeVerdict::SoftExpiredNow(reason)
            }
            _ => LifetimeVerdict::Ok,
        }
    }

    /// Raise the hard flag (if first) and the soft one (hard implies soft; if no soft limit was
    /// reached, the hard reason stands for it).
    fn hard_verdict(&self, reason: ExpiryReason, soft: Option<ExpiryReason>) -> LifetimeVerdict {
        let first = self.raise(&self.hard, reason);
        let reason = if first {
            reason
        } else {
            ExpiryReason::from_code(self.hard.load(Ordering::Relaxed)).unwrap_or(reason)
        };
        let soft_reason = soft.unwrap_or(reason);
        let soft_now = self.raise(&self.soft, soft_reason).then_some(soft_reason);
        LifetimeVerdict::Hard(HardExpiry {
            reason,
            first,
            soft_now,
        })
    }

    /// Set `flag` to `reason` if it is still 0; true for the one caller that did.
    fn raise(&self, flag: &AtomicU8, reason: ExpiryReason) -> bool {
        flag.compare_exchange(0, reason.code(), Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const SPI: Spi = Spi(0x1234);

    fn t(secs: u64) -> Timestamp {
        Timestamp::from_duration(Duration::from_secs(secs))
    }

    fn limits(soft: LifetimeLimits, hard: LifetimeLimits) -> Lifetimes {
        Lifetimes { soft, hard }
    }

    #[test]
    fn no_limits_never_expire() {
        let l = Lifetime::new(Lifetimes::default(), t(0));
        for _ in 0..100 {
            assert_eq!(l.account(1500, t(1_000_000)), LifetimeVerdict::Ok);
        }
        assert_eq!(
            l.check_time(t(u64::MAX / 2_000_000_000)),
            LifetimeVerdict::Ok
        );
        assert_eq!((l.packets(), l.bytes()), (100, 150_000));
        assert_eq!(l.next_deadline(), None);
    }

    #[test]
    fn packet_limits_soft_once_then_hard_once() {
        let soft = LifetimeLimits {
            packets: Some(3),
            ..Default::default()
        };
        let hard = LifetimeLimits {
            packets: Some(5),
            ..Default::default()
        };
        let l = Lifetime::new(limits(soft, hard), t(0));
        let verdicts: Vec<_> = (0..7).map(|_| l.account(100, t(1))).collect();
        let first_hard = HardExpiry {
            reason: ExpiryReason::Packets,
            first: true,
            soft_now: None,
        };
        let later_hard = HardExpiry {
            first: false,
            ..first_hard
        };
        assert_eq!(
            verdicts,
            vec![
                LifetimeVerdict::Ok,
                LifetimeVerdict::Ok,
                LifetimeVerdict::SoftExpiredNow(ExpiryReason::Packets), // 3rd reaches 3
                LifetimeVerdict::Ok,
                LifetimeVerdict::Ok, // 5th: count 5, still within the hard limit
                LifetimeVerdict::Hard(first_hard), // 6th would be past 5
                LifetimeVerdict::Hard(later_hard),
            ]
        );
        assert_eq!(
            (l.packets(), l.bytes()),
            (5, 500),
            "refused packets are not counted"
        );
        let events: Vec<_> = verdicts.iter().flat_map(|v| v.events(SPI)).collect();
        assert_eq!(
            events,
            vec![
                SaEvent::SoftExpired {
                    spi: SPI,
                    reason: ExpiryReason::Packets
                },
                SaEvent::HardExpired {
                    spi: SPI,
                    reason: ExpiryReason::Packets
                },
            ]
        );
    }

    /// Bytes and packets cross their soft limits on the same packet: one soft event.
    #[test]
    fn soft_fires_once_when_two_limits_cross_together() {
        let soft = LifetimeLimits {
            bytes: Some(1000),
            packets: Some(2),
            time: None,
        };
        let l = Lifetime::new(limits(soft, LifetimeLimits::default()), t(0));
        assert_eq!(l.account(500, t(0)), LifetimeVerdict::Ok);
        assert_eq!(
            l.account(500, t(0)),
            LifetimeVerdict::SoftExpiredNow(ExpiryReason::Bytes)
        );
        assert_eq!(l.account(500, t(0)), LifetimeVerdict::Ok);
        assert!(l.is_soft_expired());
        assert!(!l.is_hard_expired());
    }

    /// A hard limit reached before any soft limit raises the soft expiry too, once.
    #[test]
    fn hard_implies_soft() {
        let hard = LifetimeLimits {
            bytes: Some(1000),
            ..Default::default()
        };
        let l = Lifetime::new(limits(LifetimeLimits::default(), hard), t(0));
        assert_eq!(
            l.account(1000, t(0)),
            LifetimeVerdict::Ok,
            "exactly at the limit passes"
        );
        let v = l.account(1, t(0));
        assert_eq!(
            v,
            LifetimeVerdict::Hard(HardExpiry {
                reason: ExpiryReason::Bytes,
                first: true,
                soft_now: Some(ExpiryReason::Bytes),
            })
        );
        assert!(!v.passes());
        assert_eq!(
            v.events(SPI).collect::<Vec<_>>(),
            vec![
                SaEvent::SoftExpired {
                    spi: SPI,
                    reason: ExpiryReason::Bytes
                },
                SaEvent::HardExpired {
                    spi: SPI,
                    reason: ExpiryReason::Bytes
                },
            ]
        );
        assert!(l.is_soft_expired());
        assert_eq!(
            l.account(1, t(0)).events(SPI).count(),
            0,
            "nothing more to report"
        );
    }

    #[test]
    fn time_limits_on_timer_and_packet_paths() {
        let soft = LifetimeLimits {
            time: Some(Duration::from_secs(50)),
            ..Default::default()
        };
        let hard = LifetimeLimits {
            time: Some(Duration::from_secs(60)),
            ..Default::default()
        };
        let l = Lifetime::new(limits(soft, hard), t(100));
        assert_eq!(l.next_deadline(), Some(t(150)));
        assert_eq!(l.check_time(t(149)), LifetimeVerdict::Ok);
        assert_eq!(
            l.check_time(t(150)),
            LifetimeVerdict::SoftExpiredNow(ExpiryReason::Time)
        );
        assert_eq!(l.check_time(t(151)), LifetimeVerdict::Ok);
        assert_eq!(l.next_deadline(), Some(t(160)));
        assert_eq!(l.account(10, t(159)), LifetimeVerdict::Ok);
        let v = l.account(10, t(160));
        assert_eq!(
            v,
            LifetimeVerdict::Hard(HardExpiry {
                reason: ExpiryReason::Time,
                first: true,
                soft_now: None
            })
        );
        assert_eq!(l.next_deadline(), None);
        assert!(!l.check_time(t(161)).passes());
    }

    /// Many threads account concurrently: counts are exact and each event fires once.
    #[test]
    fn concurrent_accounting_is_exact() {
        let soft = LifetimeLimits {
            packets: Some(10_000),
            ..Default::default()
        };
        let hard = LifetimeLimits {
            packets: Some(30_000),
            ..Default::default()
        };
        let l = Arc::new(Lifetime::new(limits(soft, hard), t(0)));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let l = Arc::clone(&l);
                std::thread::spawn(move || {
                    (0..10_000).map(|_| l.account(10, t(0))).collect::<Vec<_>>()
                })
            })
            .collect();
        let verdicts: Vec<_> = handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker thread does not panic"))
            .collect();
        let events: Vec<_> = verdicts.iter().flat_map(|v| v.events(SPI)).collect();
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(verdicts.iter().filter(|v| v.passes()).count(), 30_000);
        assert_eq!((l.packets(), l.bytes()), (30_000, 300_000));
    }
}
