//! Configuration the engine negotiates from: immutable, shared as `Arc`, replaced whole on
//! reload (STYLE.md guideline 14).
//!
//! A [`Connection`] says whom we talk IKE with and how (DESIGN.md §4's `[[connections]]`); its
//! [`ChildConfig`]s say which traffic the child SAs protect. [`EndpointConfig`] holds the
//! connections, the PAD and the engine-wide limits (half-open SAs, cookies, retransmission).

use core::time::Duration;
use std::net::IpAddr;
use std::sync::Arc;

use rampart_crypto::SecretBytes;
use rampart_crypto::proposal::ProposalSpec;
use rampart_policy::TrafficSelector;
use rampart_policy::pad::{Identity, Pad};

use crate::auth::{SignatureVerifier, Signer};

/// How we prove our identity (RFC 7296 §2.15).
#[derive(Clone)]
#[non_exhaustive]
pub enum LocalAuth {
    /// Shared Key Message Integrity Code with this pre-shared key.
    Psk(SecretBytes),
    /// A digital signature made by `signer` (e.g. [`CertSigner`](crate::CertSigner)), with its
    /// certificates sent in CERT payloads.
    Signature(Arc<dyn Signer>),
}

impl core::fmt::Debug for LocalAuth {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Psk(k) => f.debug_tuple("Psk").field(k).finish(),
            Self::Signature(_) => f.write_str("Signature(..)"),
        }
    }
}

/// How the peer must prove its identity.
#[derive(Clone)]
#[non_exhaustive]
pub enum RemoteAuth {
    /// The peer's AUTH must be the PSK integrity code under this key.
    Psk(SecretBytes),
    /// The peer signs; `verifier` (e.g. [`CertVerifier`](crate::CertVerifier)) checks its
    /// certificate chain, identity binding and signature. Its anchors go out in CERTREQ.
    Signature(Arc<dyn SignatureVerifier>),
}

impl core::fmt::Debug for RemoteAuth {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Psk(k) => f.debug_tuple("Psk").field(k).finish(),
            Self::Signature(_) => f.write_str("Signature(..)"),
        }
    }
}

/// Encapsulation mode of a child SA (RFC 4301 §4.1; RFC 7296 §1.3.1 USE_TRANSPORT_MODE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Tunnel mode: the whole inner packet is protected.
    Tunnel,
    /// Transport mode: only the payload of the IP packet is protected.
    Transport,
}

/// Time-based lifetimes of an SA (RFC 7296 §2.8). The soft deadline is `rekey_after` less a
/// random jitter of up to a tenth of it, drawn per SA so that both peers rarely rekey at once;
/// then the SA is rekeyed. At `hard` it is deleted (if the rekey did not replace it first).
/// Byte and packet limits are the data plane's: it reports them with
/// [`IkeSa::child_soft_expired`](crate::IkeSa::child_soft_expired) and
/// [`IkeSa::child_hard_expired`](crate::IkeSa::child_hard_expired).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Start rekeying after this long (less the jitter).
    pub rekey_after: Duration,
    /// Delete the SA after this long.
    pub hard: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            rekey_after: Duration::from_secs(3600),
            hard: Duration::from_secs(3960),
        }
    }
}

/// One child SA's configuration (DESIGN.md §4's `[[connections.children]]`).
#[derive(Debug, Clone)]
pub struct ChildConfig {
    /// Name for reports and commands.
    pub name: String,
    /// Our side's traffic selectors.
    pub local_ts: Vec<TrafficSelector>,
    /// The peer's side's traffic selectors.
    pub remote_ts: Vec<TrafficSelector>,
    /// ESP proposals in preference order.
    pub esp_proposals: Vec<ProposalSpec>,
    /// Tunnel or transport.
    pub mode: Mode,
    /// Lifetimes.
    pub lifetimes: Lifetimes,
}

/// One connection (DESIGN.md §4's `[[connections]]`).
#[derive(Debug, Clone)]
pub struct Connection {
    /// Name for reports and commands.
    pub name: String,
    /// Our addresses; the first is the source when we initiate. Empty: any.
    pub local_addrs: Vec<IpAddr>,
    /// The peer's addresses; the first is where we initiate to. Empty: any (responder only).
    pub remote_addrs: Vec<IpAddr>,
    /// UDP port both sides start IKE on (500). When a NAT is detected (or forced), the initiator
    /// floats to 4500 after IKE_SA_INIT (RFC 7296 §2.23).
    pub port: u16,
    /// Force UDP encapsulation of ESP (strongSwan's `encap = yes`): our
    /// NAT_DETECTION_SOURCE_IP hash is one no address matches, so the peer sees a NAT and both
    /// sides float to 4500 and use ESP-in-UDP (RFC 3948) even with no NAT between them. As a
    /// responder, forced when any connection that accepts the peer's address forces it.
    pub force_encap: bool,
    /// IKE proposals in preference order.
    pub ike_proposals: Vec<ProposalSpec>,
    /// Our identity (IDi or IDr).
    pub local_id: Identity,
    /// How we authenticate.
    pub local_auth: LocalAuth,
    /// The identity the peer must assert.
    pub remote_id: Identity,
    /// How the peer must authenticate.
    pub remote_auth: RemoteAuth,
    /// Send a liveness check after this long without hearing from the peer (RFC 7296 §2.4).
    pub dpd_delay: Option<Duration>,
    /// This connection's IKE SA lifetimes (§2.18); `None`: the endpoint's
    /// [`EndpointConfig::ike_lifetimes`].
    pub ike_lifetimes: Option<Lifetimes>,
    /// Child SAs.
    pub children: Vec<ChildConfig>,
}

impl Connection {
    /// The child configuration named `name`.
    pub fn child(&self, name: &str) -> Option<&ChildConfig> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Whether this connection may be used with a peer at `addr`.
    pub fn accepts_remote(&self, addr: IpAddr) -> bool {
        self.remote_addrs.is_empty() || self.remote_addrs.contains(&addr)
    }
}

/// Request retransmission (RFC 7296 §2.1): the first retransmission after `initial`, each later
/// one after twice the previous wait, and give up after `tries` transmissions in all (waiting
/// once more for the last one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retransmission {
    /// Wait before the first retransmission.
    pub initial: Duration,
    /// Transmissions of one request in all, the first included.
    pub tries: u32,
}

impl Retransmission {
    /// The wait after transmission number `sent` (1-based): `initial · 2^(sent-1)`.
    pub fn wait_after(&self, sent: u32) -> Duration {
        let shift = sent.saturating_sub(1).min(16);
        self.initial.saturating_mul(1u32 << shift)
    }
}

impl Default for Retransmission {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            tries: 5,
        }
    }
}

/// Engine-wide settings and the connections.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// Connections, searched in order when a peer initiates.
    pub connections: Vec<Arc<Connection>>,
    /// The peer authorization database (RFC 4301 §4.4.3): consulted for every peer identity.
    pub pad: Pad,
    /// Half-open responder SAs above which IKE_SA_INIT requests must carry a cookie (§2.6).
    pub cookie_threshold: usize,
    /// Half-open responder SAs at which further IKE_SA_INIT requests are dropped.
    pub half_open_limit: usize,
    /// How long an SA may take from its first message to IKE_AUTH completion.
    pub half_open_timeout: Duration,
    /// Retransmission of our requests.
    pub retransmission: Retransmission,
    /// Lifetimes of IKE SAs whose connection sets none (rekeyed at the soft deadline, §2.18);
    /// `None`: never rekeyed.
    pub ike_lifetimes: Option<Lifetimes>,
    /// NAT keepalive interval (RFC 3948 §2.3) for IKE SAs behind a NAT; `None`: never sent.
    pub nat_keepalive: Option<Duration>,
}

impl EndpointConfig {
    /// Settings with the usual limits for `connections` and `pad`.
    pub fn new(connections: Vec<Arc<Connection>>, pad: Pad) -> Self {
        Self {
            connections,
            pad,
            cookie_threshold: 10,
            half_open_limit: 1000,
            half_open_timeout: Duration::from_secs(30),
            retransmission: Retransmission::default(),
            ike_lifetimes: Some(Lifetimes {
                rekey_after: Duration::from_secs(4 * 3600),
                hard: Duration::from_secs(4 * 3600 + 1440),
            }),
            nat_keepalive: Some(Duration::from_secs(20)),
        }
    }
}
