//! The timers of one IKE SA: an enum plus a table (STYLE.md guideline 3).
//!
//! Each [`Timer`] is either unset or armed with a deadline; [`TimerTable::next`] is the exact
//! next deadline that `poll_timeout` reports, and [`TimerTable::expired`] lists what
//! `handle_timeout` must act on. An early or extra `handle_timeout` finds nothing expired.
//! Child SA lifetimes are timers keyed by the child's inbound SPI, so the table grows with the
//! child SAs of the IKE SA (bounded by [`MAX_CHILDREN`](crate::ike_sa::MAX_CHILDREN)).

use crate::time::Instant;

/// The timers of an IKE SA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// Retransmit the outstanding request, or give up (RFC 7296 §2.1).
    Retransmit,
    /// IKE_AUTH must complete by then.
    HalfOpen,
    /// Send a liveness check (RFC 7296 §2.4).
    Dpd,
    /// Soft lifetime of the IKE SA: rekey it (§2.18).
    IkeSoft,
    /// Hard lifetime of the IKE SA: delete it (§2.18).
    IkeHard,
    /// An IKE SA replaced by a rekey, kept to answer its last messages, closes then.
    Linger,
    /// Send a NAT keepalive (RFC 3948 §2.3).
    NatKeepalive,
    /// Soft lifetime of the child SA with this inbound SPI: rekey it (§2.8).
    ChildSoft(u32),
    /// Hard lifetime of the child SA with this inbound SPI: delete it (§2.8).
    ChildHard(u32),
}

/// Deadlines by timer.
#[derive(Debug, Clone, Default)]
pub(crate) struct TimerTable {
    deadlines: Vec<(Timer, Instant)>,
}

impl TimerTable {
    /// Arms `timer` for `at`, replacing any earlier deadline.
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        match self.deadlines.iter_mut().find(|(t, _)| *t == timer) {
            Some(slot) => slot.1 = at,
            None => self.deadlines.push((timer, at)),
        }
    }

    /// Disarms `timer`.
    pub(crate) fn stop(&mut self, timer: Timer) {
        self.deadlines.retain(|(t, _)| *t != timer);
    }

    /// Disarms every timer.
    pub(crate) fn clear(&mut self) {
        self.deadlines.clear();
    }

    /// Removes and returns the timers matching `keep`, for moving them to another IKE SA.
    pub(crate) fn take(&mut self, keep: impl Fn(Timer) -> bool) -> Vec<(Timer, Instant)> {
        let (taken, rest) = core::mem::take(&mut self.deadlines)
            .into_iter()
            .partition(|(t, _)| keep(*t));
        self.deadlines = rest;
        taken
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.deadlines.iter().map(|&(_, at)| at).min()
    }

    /// Disarms and returns the timers due at `now`, in timer order.
    pub(crate) fn expired(&mut self, now: Instant) -> Vec<Timer> {
        let mut out: Vec<Timer> = self
            .deadlines
            .iter()
            .filter(|(_, at)| *at <= now)
            .map(|&(t, _)| t)
            .collect();
        self.deadlines.retain(|(_, at)| *at > now);
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_the_earliest_and_expiry_disarms() {
        let mut t = TimerTable::default();
        assert_eq!(t.next(), None);
        t.set(Timer::Dpd, Instant::from_nanos(30));
        t.set(Timer::Retransmit, Instant::from_nanos(10));
        assert_eq!(t.next(), Some(Instant::from_nanos(10)));
        assert!(t.expired(Instant::from_nanos(9)).is_empty());
        assert_eq!(t.expired(Instant::from_nanos(10)), vec![Timer::Retransmit]);
        assert_eq!(t.next(), Some(Instant::from_nanos(30)));
        t.stop(Timer::Dpd);
        assert_eq!(t.next(), None);
        t.set(Timer::HalfOpen, Instant::from_nanos(1));
        t.clear();
        assert_eq!(t.next(), None);
    }

    #[test]
    fn child_timers_are_keyed_and_movable() {
        let mut t = TimerTable::default();
        t.set(Timer::ChildSoft(7), Instant::from_nanos(50));
        t.set(Timer::ChildSoft(8), Instant::from_nanos(40));
        t.set(Timer::ChildSoft(7), Instant::from_nanos(20));
        t.set(Timer::Dpd, Instant::from_nanos(60));
        assert_eq!(t.next(), Some(Instant::from_nanos(20)));
        let moved = t.take(|x| matches!(x, Timer::ChildSoft(_)));
        assert_eq!(moved.len(), 2);
        assert_eq!(t.next(), Some(Instant::from_nanos(60)));
        assert_eq!(t.expired(Instant::from_nanos(100)), vec![Timer::Dpd]);
    }
}
