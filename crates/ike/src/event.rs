//! What the engine tells its caller: datagrams to send ([`Transmit`]) and [`Event`]s carrying
//! everything the data plane and the operator need.
//!
//! Events are how IKE hands child SAs to the data plane (DESIGN.md §2): the daemon turns
//! [`Event::ChildSaEstablished`] into two SAD entries and [`Event::ChildSaDeleted`] into their
//! removal. Keys travel in [`SecretBytes`] and are zeroized wherever the event is dropped.

use std::net::SocketAddr;

use rampart_crypto::{EncrAlg, IntegAlg, SecretBytes};
use rampart_policy::TrafficSelector;
use rampart_policy::pad::Identity;

use crate::config::{Lifetimes, Mode};
use crate::failure::Failure;

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Our address and port to send from.
    pub local: SocketAddr,
    /// The peer's address and port.
    pub remote: SocketAddr,
    /// The UDP payload (an IKE message).
    pub payload: Vec<u8>,
}

/// One direction of a child SA: what one SAD entry needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildSaDirection {
    /// The SPI in the ESP header of this direction's packets (chosen by the receiver).
    pub spi: u32,
    /// Encryption key material (for AEADs, the key followed by the 4-byte salt, RFC 4106 §8.1).
    pub encr_key: SecretBytes,
    /// Integrity key; empty for AEADs.
    pub integ_key: SecretBytes,
}

/// A child SA as negotiated: both directions, algorithms, selectors and mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildSa {
    /// The child configuration's name.
    pub name: String,
    /// Packets we receive.
    pub inbound: ChildSaDirection,
    /// Packets we send.
    pub outbound: ChildSaDirection,
    /// Encryption algorithm.
    pub encr: EncrAlg,
    /// Integrity algorithm; `None` for AEADs.
    pub integ: Option<IntegAlg>,
    /// Whether extended sequence numbers were negotiated.
    pub esn: bool,
    /// Tunnel or transport mode.
    pub mode: Mode,
    /// Our side's traffic selectors as narrowed.
    pub local_ts: Vec<TrafficSelector>,
    /// The peer's side's traffic selectors as narrowed.
    pub remote_ts: Vec<TrafficSelector>,
    /// Whether ESP must be UDP-encapsulated (RFC 3948) because a NAT was detected.
    pub udp_encap: bool,
    /// Our address (the tunnel's outer source).
    pub local_addr: SocketAddr,
    /// The peer's address (the tunnel's outer destination).
    pub remote_addr: SocketAddr,
    /// Lifetimes from the child configuration.
    pub lifetimes: Lifetimes,
}

/// Why an IKE SA ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DownReason {
    /// We asked for it ([`IkeSa::terminate`](crate::IkeSa::terminate)).
    DeletedLocally,
    /// The peer sent a Delete for the IKE SA.
    DeletedByPeer,
    /// A request went unanswered through every retransmission (RFC 7296 §2.4).
    PeerUnreachable,
    /// IKE_AUTH did not complete within the half-open timeout.
    HalfOpenTimeout,
    /// Negotiation failed; the failure says why in words an operator can act on.
    Failed(Failure),
}

impl core::fmt::Display for DownReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::DeletedLocally => f.write_str("deleted locally"),
            Self::DeletedByPeer => f.write_str("deleted by peer"),
            Self::PeerUnreachable => {
                f.write_str("peer unreachable: no answer after retransmissions")
            }
            Self::HalfOpenTimeout => f.write_str("half-open timeout: IKE_AUTH did not complete"),
            Self::Failed(failure) => write!(f, "{failure}"),
        }
    }
}

/// Something the IKE SA wants its caller to know.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The IKE SA is authenticated and usable.
    IkeSaUp {
        /// The connection's name.
        connection: String,
        /// Initiator's SPI.
        spi_i: u64,
        /// Responder's SPI.
        spi_r: u64,
        /// Whether we are the original initiator.
        initiator: bool,
        /// The peer's authenticated identity.
        peer_id: Identity,
        /// Whether a NAT was detected between the peers (RFC 7296 §2.23).
        nat_detected: bool,
    },
    /// The IKE SA is gone (or never came up); its child SAs were reported deleted first.
    IkeSaDown {
        /// Initiator's SPI.
        spi_i: u64,
        /// Responder's SPI (0 if none was known).
        spi_r: u64,
        /// Why.
        reason: DownReason,
    },
    /// A child SA is ready: install both directions.
    ChildSaEstablished(ChildSa),
    /// A child SA could not be created; the IKE SA stays up.
    ChildSaFailed {
        /// The child configuration's name (ours if we asked, or the peer's request).
        name: String,
        /// Why.
        reason: Failure,
    },
    /// The peer sent INITIAL_CONTACT (RFC 7296 §2.4) in IKE_AUTH: it has no other IKE SA with
    /// us, so the daemon should delete every older IKE SA (and their child SAs) with this peer
    /// identity. Reported after [`Event::IkeSaUp`].
    InitialContact {
        /// The peer's authenticated identity.
        peer_id: Identity,
    },
    /// A child SA is gone: remove both directions.
    ChildSaDeleted {
        /// The child configuration's name.
        name: String,
        /// Inbound SPI.
        inbound_spi: u32,
        /// Outbound SPI.
        outbound_spi: u32,
    },
}

/// Told by an [`IkeSa`](crate::IkeSa) to its [`Endpoint`](crate::Endpoint), through the caller
/// (see [`Endpoint::handle_sa_event`](crate::Endpoint::handle_sa_event)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndpointEvent {
    /// The SA finished IKE_AUTH: it no longer counts as half-open.
    Established,
    /// The SA is gone: forget its SPI.
    Closed,
}
