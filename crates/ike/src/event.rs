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
use rampart_policy::sad::UdpEncap;

use crate::config::{Lifetimes, Mode};
use crate::failure::Failure;

/// A datagram to send: `payload` is the whole UDP payload, to send as it is from `local` to
/// `remote`. On the NAT-T port (`local` port 4500) an IKE message already carries its non-ESP
/// marker (RFC 3948 §2.2), which the engine prepended; the daemon adds nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Our address and port to send from (port 4500 after floating, RFC 7296 §2.23).
    pub local: SocketAddr,
    /// The peer's address and port.
    pub remote: SocketAddr,
    /// What the payload is.
    pub kind: TransmitKind,
    /// The UDP payload: an IKE message (behind the non-ESP marker on 4500), or the keepalive.
    pub payload: Vec<u8>,
}

/// What a [`Transmit`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransmitKind {
    /// An IKE message.
    Ike,
    /// A NAT keepalive: the single byte 0xFF on port 4500 (RFC 3948 §2.3).
    NatKeepalive,
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
    /// The outer UDP ports when ESP must be UDP-encapsulated (RFC 3948) because a NAT was
    /// detected or encapsulation forced; `None`: plain ESP.
    pub udp_encap: Option<UdpEncap>,
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
        /// Whether a NAT was detected between the peers, or encapsulation forced (RFC 7296
        /// §2.23): IKE moved to port 4500 and ESP is UDP-encapsulated.
        nat_detected: bool,
    },
    /// An authenticated request came from a new address or port after a NAT was detected (a
    /// NAT rebinding, RFC 7296 §2.23): the IKE SA now sends there. Move every child SA's outer
    /// destination (and its UDP encapsulation's remote port) to `remote`.
    PeerAddressChanged {
        /// Initiator's SPI.
        spi_i: u64,
        /// Responder's SPI.
        spi_r: u64,
        /// Our address and port the request reached.
        local: SocketAddr,
        /// The peer's new address and port.
        remote: SocketAddr,
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
    /// A child SA was rekeyed (RFC 7296 §1.3.3), make-before-break: install `new` and send on it
    /// from now on, but keep accepting packets on the old SA until its
    /// [`Event::ChildSaDeleted`] follows (§2.8: both stay valid inbound until then). After a
    /// simultaneous rekey (§2.8.1) only the surviving new SA is reported; the redundant one is
    /// never installed and is deleted at the IKE level only.
    ChildSaRekeyed {
        /// The old SA's inbound SPI.
        old_inbound_spi: u32,
        /// The old SA's outbound SPI.
        old_outbound_spi: u32,
        /// The new SA.
        new: ChildSa,
        /// Whether this side sent the CREATE_CHILD_SA request that made `new`. The responder
        /// should keep sending on the old SA until the new one carries traffic in (or the old
        /// one is deleted): the initiator installs the new SA only when the response arrives,
        /// so packets sent on it before then would be lost.
        initiator: bool,
    },
    /// The IKE SA was rekeyed (RFC 7296 §1.3.2, §2.18): the IKE SA with the new SPIs (a new
    /// [`IkeSa`](crate::IkeSa) handed out by
    /// [`IkeSa::poll_new_ike_sa`](crate::IkeSa::poll_new_ike_sa)) now owns every child SA; the
    /// old one finishes its deletion quietly (no `IkeSaDown`, no `ChildSaDeleted`).
    IkeSaRekeyed {
        /// Old initiator's SPI.
        old_spi_i: u64,
        /// Old responder's SPI.
        old_spi_r: u64,
        /// New initiator's SPI (the rekey's initiator).
        new_spi_i: u64,
        /// New responder's SPI.
        new_spi_r: u64,
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
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndpointEvent {
    /// The SA finished IKE_AUTH: it no longer counts as half-open.
    Established,
    /// The SA is gone: forget its SPI.
    Closed,
    /// The SA was made by rekeying another IKE SA (RFC 7296 §2.18): route its SPI to it.
    Created {
        /// The peer's address (the endpoint tracks SAs per peer for INITIAL_CONTACT).
        remote: core::net::IpAddr,
    },
    /// The SA belongs to this connection (once authenticated, or made by a rekey): the
    /// endpoint finds it for [`Endpoint::acquire`](crate::Endpoint::acquire).
    Connection {
        /// The connection's name.
        name: String,
    },
    /// The peer moved to a new address (a NAT rebinding).
    PeerAddressChanged {
        /// The peer's new address.
        remote: core::net::IpAddr,
    },
}
