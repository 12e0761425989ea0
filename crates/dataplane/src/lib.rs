//! Rampart's data plane: per-packet state and work — SPD classification, SAD lookup, ESP and AH.
//!
//! Sits above `rampart-wire`, `rampart-crypto` and `rampart-policy` and below the
//! daemon (DESIGN.md §1). It is sans-IO: no sockets, no clock reads (time comes in as a
//! [`Timestamp`]), no locks on the fast path beyond the per-SA replay state, and no allocation
//! per packet.
//!
//! Modules, in the order a packet meets them:
//!
//! - [`replay`]: the inbound anti-replay window with ESN inference (check, then commit after ICV);
//! - [`seq`]: the outbound sequence counter, shared lock-free between workers;
//! - [`lifetime`]: soft/hard lifetimes in bytes, packets and time, and the events they raise;
//! - [`drop`](mod@drop): why packets are dropped, counted per reason;
//! - [`sa`]: the SA configuration and the shared per-SA state objects that compose the above;
//! - [`ah`]: the AH transform (RFC 4302), outbound and inbound;
//! - [`esp`]: the ESP transform (RFC 4303) on top of that state, over `rampart-crypto`;
//! - [`batch`]: the per-batch entry points the workers call;
//! - [`spd`]: the compiled SPD classifier, checked against `rampart_policy::Spd::lookup`;
//! - [`sad`]: inbound SAs by SPI, outbound SAs by request id, SA pairs, published as snapshots;
//! - [`snapshot`]: the lock-free-to-read swappable table cell that SAD and SPD are published in.
#![forbid(unsafe_code)]

pub mod ah;
pub mod batch;
pub mod classify;
pub mod drop;
pub mod esp;
pub mod lifetime;
pub mod packet;
pub mod replay;
pub mod sa;
pub mod sad;
pub mod seq;
pub mod snapshot;
pub mod spd;
pub mod time;
pub mod transform;
pub mod verdict;

pub use ah::{InboundAhSa, OutboundAhSa};
pub use packet::PacketBuf;
pub use time::Timestamp;
pub use transform::{InboundTransform, OutboundTransform};
pub use verdict::{InboundVerdict, OutboundVerdict};
