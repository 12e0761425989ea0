//! ESP, the Encapsulating Security Payload (RFC 4303): the per-packet transform of ESP SAs.
//!
//! - [`EspTransform`] (`suite.rs`): algorithms and keys; seals and opens the ESP payload in place
//!   (AES-GCM per RFC 4106, ChaCha20-Poly1305 per RFC 7634, AES-CBC or NULL with HMAC per
//!   RFC 4303 §3.3.2 encrypt-then-MAC), with the IV, AAD and ESN rules of each;
//! - [`OutboundEspSa`] (`outbound.rs`): encapsulation, transport and tunnel mode, IPv4 and IPv6
//!   either way round, UDP encapsulation (RFC 3948);
//! - [`InboundEspSa`] (`inbound.rs`): decapsulation with anti-replay check → ICV → anti-replay
//!   commit, padding and Next Header checks, and the traffic-selector hook [`InnerPolicy`];
//! - `headers.rs`: the IP-header work both directions share.
//!
//! Both SA types implement the [`OutboundTransform`](crate::OutboundTransform) /
//! [`InboundTransform`](crate::InboundTransform) contract, so the batch loop
//! ([`crate::batch`]) and the SAD do not care that they are ESP. Nothing here allocates per
//! packet, reads a clock or an RNG, or takes a lock other than the SA's replay window.

mod headers;
mod inbound;
mod outbound;
mod suite;

pub use inbound::{InboundEspSa, InnerPolicy};
pub use outbound::OutboundEspSa;
pub use suite::{EspConfigError, EspTransform, MAX_ICV_LEN, MAX_IV_LEN};

pub(crate) use headers::locate;
