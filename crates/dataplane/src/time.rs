//! The data plane's notion of time: a monotonic [`Timestamp`] passed in by the caller.
//!
//! The data plane is sans-IO and reads no clock (STYLE.md guideline 1). Every function that needs
//! the time takes a `now: Timestamp`; the IO shell reads its clock once per batch and passes the
//! value down. Simulations pass a virtual clock.
//!
//! A `Timestamp` is a count of nanoseconds since an epoch the caller chooses (typically the
//! daemon's start). The clock behind it must be monotonic and, for SA lifetimes (STYLE.md
//! guideline 3), keep counting while the machine is suspended (Linux `CLOCK_BOOTTIME`). `u64`
//! nanoseconds cover about 584 years, so arithmetic here saturates instead of wrapping.

use core::time::Duration;

/// A point on the caller's monotonic clock, in nanoseconds since the caller's epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The epoch itself.
    pub const ZERO: Self = Self(0);

    /// A timestamp `nanos` nanoseconds after the epoch.
    pub const fn from_nanos(nanos: u64) -> Self {
        Self(nanos)
    }

    /// Nanoseconds since the epoch.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// A timestamp `d` after the epoch (saturating at the end of the representable range).
    pub fn from_duration(d: Duration) -> Self {
        Self(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }

    /// `self + d`, saturating at the end of the representable range.
    pub fn saturating_add(self, d: Duration) -> Self {
        let d = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Self(self.0.saturating_add(d))
    }

    /// Time elapsed from `earlier` to `self`; zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Self) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        let t = Timestamp::from_nanos(u64::MAX - 5);
        assert_eq!(
            t.saturating_add(Duration::from_secs(1)).as_nanos(),
            u64::MAX
        );
        assert_eq!(
            Timestamp::ZERO.saturating_duration_since(t),
            Duration::ZERO,
            "earlier-than-epoch differences clamp to zero"
        );
        assert_eq!(
            Timestamp::from_duration(Duration::from_millis(3)),
            Timestamp::from_nanos(3_000_000)
        );
        assert_eq!(
            Timestamp::from_duration(Duration::MAX).as_nanos(),
            u64::MAX,
            "durations past u64 nanoseconds saturate"
        );
    }
}
