//! Rampart's data plane: the per-packet state of security associations.
//!
//! Sits above `rampart-wire` (and, once the transforms land, `rampart-crypto`) and below the
//! daemon (DESIGN.md §1). It is sans-IO: no sockets, no clock reads (time comes in as a
//! [`Timestamp`]), no locks on the fast path beyond the per-SA replay state, and no allocation
//! per packet.
//!
//! What is here now is the crypto-independent SA state the ESP/AH transforms build on:
//!
//! - [`replay`]: the inbound anti-replay window with ESN inference (check, then commit after ICV);
//! - [`seq`]: the outbound sequence counter, shared lock-free between workers;
//! - [`lifetime`]: soft/hard lifetimes in bytes, packets and time, and the events they raise;
//! - [`drop`](mod@drop): why packets are dropped, counted per reason;
//! - [`sa`]: the SA configuration and the shared per-SA state objects that compose the above;
//! - [`spd`]: the compiled SPD classifier, checked against `rampart_policy::Spd::lookup`;
//! - [`sad`]: inbound SAs by SPI, outbound SAs by request id, SA pairs, published as snapshots;
//! - [`snapshot`]: the lock-free-to-read swappable table cell that SAD and SPD are published in.
#![forbid(unsafe_code)]

pub mod drop;
pub mod lifetime;
pub mod replay;
pub mod sa;
pub mod sad;
pub mod seq;
pub mod snapshot;
pub mod spd;
pub mod time;

pub use time::Timestamp;
