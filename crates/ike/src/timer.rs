//! The timers of one IKE SA: an enum plus a table (STYLE.md guideline 3).
//!
//! Each [`Timer`] is either unset or armed with a deadline; [`TimerTable::next`] is the exact
//! next deadline that `poll_timeout` reports, and [`TimerTable::expired`] lists what
//! `handle_timeout` must act on. An early or extra `handle_timeout` finds nothing expired.

use crate::time::Instant;

/// The timers of an IKE SA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// Retransmit the outstanding request, or give up (RFC 7296 §2.1).
    Retransmit,
    /// IKE_AUTH must complete by then.
    HalfOpen,
    /// Send a liveness check (RFC 7296 §2.4).
    Dpd,
}

impl Timer {
    const ALL: [Self; 3] = [Self::Retransmit, Self::HalfOpen, Self::Dpd];

    fn index(self) -> usize {
        match self {
            Self::Retransmit => 0,
            Self::HalfOpen => 1,
            Self::Dpd => 2,
        }
    }
}

/// Deadlines by timer.
#[derive(Debug, Clone, Default)]
pub(crate) struct TimerTable {
    deadlines: [Option<Instant>; 3],
}

impl TimerTable {
    /// Arms `timer` for `at`, replacing any earlier deadline.
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        self.deadlines[timer.index()] = Some(at);
    }

    /// Disarms `timer`.
    pub(crate) fn stop(&mut self, timer: Timer) {
        self.deadlines[timer.index()] = None;
    }

    /// Disarms every timer.
    pub(crate) fn clear(&mut self) {
        self.deadlines = [None; 3];
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// Disarms and returns the timers due at `now`, in table order.
    pub(crate) fn expired(&mut self, now: Instant) -> Vec<Timer> {
        let mut out = Vec::new();
        for timer in Timer::ALL {
            let slot = &mut self.deadlines[timer.index()];
            if slot.is_some_and(|at| at <= now) {
                *slot = None;
                out.push(timer);
            }
        }
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
}
