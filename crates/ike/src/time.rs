//! Time as the engine sees it: an [`Instant`] handed in by the caller on every call.
//!
//! The engine reads no clock (STYLE.md guideline 1). The caller picks a monotonic clock that
//! keeps counting through suspend (on Linux `CLOCK_BOOTTIME`) and passes its reading as
//! nanoseconds since any fixed origin; the simulator passes its virtual clock. Only differences
//! between instants mean anything, so the origin never matters.

use core::time::Duration;

/// A point on the caller's monotonic clock: nanoseconds since an arbitrary fixed origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// The origin of the clock.
    pub const ZERO: Self = Self(0);

    /// The instant `nanos` nanoseconds after the origin.
    pub const fn from_nanos(nanos: u64) -> Self {
        Self(nanos)
    }

    /// Nanoseconds since the origin.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// `self + d`, saturating at the end of the clock's range (about 584 years).
    pub fn saturating_add(self, d: Duration) -> Self {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Self(self.0.saturating_add(nanos))
    }

    /// Time elapsed from `earlier` to `self`; zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Self) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

impl core::ops::Add<Duration> for Instant {
    type Output = Self;
    fn add(self, d: Duration) -> Self {
        self.saturating_add(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        let t = Instant::from_nanos(5);
        assert_eq!((t + Duration::from_nanos(7)).as_nanos(), 12);
        assert_eq!(
            Instant::from_nanos(u64::MAX - 1) + Duration::from_secs(1),
            Instant::from_nanos(u64::MAX)
        );
        assert_eq!(
            t.saturating_duration_since(Instant::from_nanos(9)),
            Duration::ZERO
        );
        assert_eq!(
            Instant::from_nanos(9).saturating_duration_since(t),
            Duration::from_nanos(4)
        );
    }
}
