//! Rampart's IKEv2 engine (RFC 7296), sans IO: no sockets, no threads, no clock and no
//! randomness of its own (STYLE.md guideline 1). Time comes in as [`Instant`], randomness
//! through an injected [`SecureRandom`](rampart_crypto::SecureRandom), SPIs through an injected
//! [`SpiAllocator`].
//!
//! Two objects, linked by events (DESIGN.md §1):
//!
//! - [`Endpoint`] receives every IKE datagram and routes it by SPI ([`DatagramEvent`]); it
//!   creates responder IKE SAs, tracks half-open ones and answers with cookies under load.
//! - [`IkeSa`] runs one IKE SA: IKE_SA_INIT, IKE_AUTH (PSK or certificates: [`CertSigner`],
//!   [`CertVerifier`]) with the first child SA,
//!   INFORMATIONAL (deletes, liveness checks), retransmissions and the response cache. It is
//!   `Send` and independent of the endpoint.
//!
//! NAT traversal (RFC 7296 §2.23, RFC 3948): after IKE_SA_INIT detects a NAT (or
//! [`Connection::force_encap`] fakes one), IKE floats to UDP 4500; [`Transmit::payload`] is
//! then the exact UDP payload, non-ESP marker included, and datagrams arriving on 4500 are
//! handed over as received (the engine strips the marker). Child SAs report their
//! [`ChildSa::udp_encap`] ports, the side behind the NAT sends keepalives
//! ([`TransmitKind::NatKeepalive`]), and an authenticated request from a new address moves the
//! SA ([`Event::PeerAddressChanged`]).
//!
//! Both follow one shape: `handle_*` for input, commands, then `poll_transmit`, `poll_event`,
//! `poll_timeout`. [`Event`]s carry what the data plane installs ([`ChildSa`]) and, on failure,
//! a [`Failure`] whose `Display` is a diagnosis an operator can act on.
#![forbid(unsafe_code)]

mod auth;
mod cert;
mod child;
mod config;
mod endpoint;
mod event;
mod exchange;
mod failure;
mod ike_auth;
mod ike_sa;
mod key_export;
mod keys;
mod lifetime;
mod nat;
mod notify;
mod proposal;
mod sa_init;
mod sk;
mod spi;
#[cfg(test)]
mod testutil;
mod time;
mod timer;

pub use auth::{AuthError, PeerProof, SignatureVerifier, Signer};
pub use cert::{CertSigner, CertVerifier, UnixTime};
pub use config::{
    ChildConfig, Connection, EndpointConfig, Lifetimes, LocalAuth, Mode, RemoteAuth, Retransmission,
};
pub use endpoint::{Acquired, DatagramEvent, Endpoint, IkeSaHandle};
pub use event::{
    ChildSa, ChildSaDirection, DownReason, EndpointEvent, Event, Transmit, TransmitKind,
};
pub use failure::Failure;
pub use ike_sa::IkeSa;
pub use key_export::IkeKeyExport;
pub use spi::{RandomSpis, SpiAllocator};
pub use time::Instant;

#[cfg(test)]
mod send_tests {
    /// The daemon moves IKE SAs between threads (DESIGN.md §1).
    #[test]
    fn ike_sa_and_endpoint_are_send() {
        fn send<T: Send>() {}
        send::<super::IkeSa>();
        send::<super::Endpoint>();
    }
}
