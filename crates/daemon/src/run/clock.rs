//! The daemon's clock: a monotonic [`std::time::Instant`] read here, handed to the IKE engine as
//! [`rampart_ike::Instant`], nanoseconds since the daemon started (the engine reads no clock,
//! STYLE.md guideline 1).

use std::time::Duration;

use rampart_ike::Instant;

/// Maps the process's monotonic clock onto the engine's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    origin: std::time::Instant,
}

impl Clock {
    /// A clock whose origin is now.
    #[allow(clippy::disallowed_methods)] // The daemon is the one place that reads the clock.
    pub(crate) fn start() -> Self {
        Self {
            origin: std::time::Instant::now(),
        }
    }

    /// Now, as the engine sees it.
    #[allow(clippy::disallowed_methods)] // The daemon is the one place that reads the clock.
    pub(crate) fn now(&self) -> Instant {
        let d = std::time::Instant::now().saturating_duration_since(self.origin);
        Instant::from_nanos(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }

    /// How long from now until `deadline` (zero if it has passed).
    pub(crate) fn until(&self, deadline: Instant) -> Duration {
        deadline.saturating_duration_since(self.now())
    }
}
