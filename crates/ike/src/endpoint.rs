//! The endpoint: where IKE datagrams arrive (DESIGN.md §1). It routes each datagram by SPI to
//! its [`IkeSa`], creates responder IKE SAs for new IKE_SA_INIT requests, counts half-open SAs,
//! and answers with stateless cookies (RFC 7296 §2.6) once they pass a threshold. It owns no
//! IKE SA: the caller holds them (on any thread) and tells the endpoint what they report through
//! [`Endpoint::handle_sa_event`].
//!
//! # Call order
//!
//! [`Endpoint::handle_datagram`] for each datagram, then deliver it to the SA it names (or keep
//! the new SA it returns); [`Endpoint::poll_transmit`] for stateless answers; commands
//! ([`Endpoint::initiate`], [`Endpoint::acquire`]) return a new SA.
//!
//! # UDP 4500 (RFC 3948)
//!
//! Datagrams are passed as their whole UDP payload, with `local` the address and port they
//! reached. On port 4500 the engine (endpoint and [`IkeSa`] alike) checks and strips the
//! non-ESP marker itself and ignores ESP and keepalives; everything it sends from 4500 carries
//! the marker already ([`Transmit`]).

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use rampart_crypto::{SecretBytes, SecureRandom};
use rampart_policy::TrafficSelector;
use rampart_wire::ike::iana::{ExchangeType, NotifyType};
use rampart_wire::ike::{IkeHeader, Message, NotifyPayload, Payload};

use crate::config::{Connection, EndpointConfig};
use crate::event::{EndpointEvent, Transmit, TransmitKind};
use crate::failure::Failure;
use crate::ike_sa::{IkeSa, Shared};
use crate::nat::cookie;
use crate::notify::{RateLimit, RawHeader, unprotected_response, unsupported_critical};
use crate::sa_init::{Path, error_response};
use crate::spi::SpiAllocator;
use crate::time::Instant;

/// Names an IKE SA at its endpoint: our SPI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IkeSaHandle(pub u64);

/// Where a datagram goes.
#[derive(Debug)]
#[non_exhaustive]
pub enum DatagramEvent {
    /// Deliver the datagram to this existing IKE SA with [`IkeSa::handle_datagram`].
    ForSa(IkeSaHandle),
    /// A new responder IKE SA, which has already handled the datagram: keep it.
    NewSa(IkeSaHandle, Box<IkeSa>),
}

#[derive(Debug, Clone)]
struct Entry {
    /// The peer's address (for INITIAL_CONTACT: is this the only SA with it?).
    remote: IpAddr,
    half_open: bool,
    /// For responder SAs: the initiator's address and SPI, to route retransmitted IKE_SA_INIT.
    initiator: Option<(SocketAddr, u64)>,
    /// The connection, once known (at once for SAs we initiate).
    connection: Option<Arc<str>>,
}

/// What [`Endpoint::acquire`] did.
#[derive(Debug)]
#[non_exhaustive]
pub enum Acquired {
    /// An IKE SA for the connection and peer exists already (perhaps still being set up): call
    /// [`IkeSa::acquire`] on it with the same arguments, which queues the child there.
    Existing(IkeSaHandle),
    /// A new IKE SA was started whose first child carries the packet's selectors: keep it.
    Initiated(IkeSaHandle, Box<IkeSa>),
}

/// The endpoint. See the [module docs](self).
pub struct Endpoint {
    shared: Shared,
    cookie_secret: SecretBytes,
    sas: HashMap<u64, Entry>,
    by_initiator: HashMap<(SocketAddr, u64), u64>,
    half_open: usize,
    transmits: VecDeque<Transmit>,
    /// Unprotected error answers (INVALID_IKE_SPI, INVALID_MAJOR_VERSION, ...).
    unprotected: RateLimit,
}

impl core::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Endpoint")
            .field("sas", &self.sas.len())
            .field("half_open", &self.half_open)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// An endpoint with `config`, drawing randomness (nonces, keys, the cookie secret) from
    /// `rng` and SPIs from `spis`.
    pub fn new(
        config: Arc<EndpointConfig>,
        rng: Arc<dyn SecureRandom>,
        spis: Arc<dyn SpiAllocator>,
    ) -> Result<Self, rampart_crypto::CryptoError> {
        let mut secret = SecretBytes::zeroed(32);
        rng.fill(secret.expose_mut())?;
        Ok(Self {
            shared: Shared { config, rng, spis },
            cookie_secret: secret,
            sas: HashMap::new(),
            by_initiator: HashMap::new(),
            half_open: 0,
            transmits: VecDeque::new(),
            unprotected: RateLimit::default(),
        })
    }

    /// Replaces the configuration (a reload): IKE SAs created from now on, responders included,
    /// negotiate from `config`. IKE SAs that exist keep the configuration they were created
    /// with (and hand it to the IKE SAs their rekeys make); the caller deletes those whose
    /// connection changed or went away.
    pub fn set_config(&mut self, config: Arc<EndpointConfig>) {
        self.shared.config = config;
    }

    /// The configuration new IKE SAs are created with.
    pub fn config(&self) -> &Arc<EndpointConfig> {
        &self.shared.config
    }

    /// Responder SAs that have not finished IKE_AUTH.
    pub fn half_open_count(&self) -> usize {
        self.half_open
    }

    /// IKE SAs the endpoint routes to.
    pub fn sa_count(&self) -> usize {
        self.sas.len()
    }

    /// The next stateless answer (a COOKIE request) to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// Starts an IKE SA for `connection` (from its first local and remote address), creating
    /// `child` (a child configuration's name) in IKE_AUTH.
    pub fn initiate(
        &mut self,
        now: Instant,
        connection: Arc<Connection>,
        child: Option<&str>,
    ) -> Result<(IkeSaHandle, IkeSa), Failure> {
        self.start(now, connection, child, None)
    }

    /// On-demand setup (an acquire from the data plane: a packet from `local_ts` to
    /// `remote_ts` matched `child`'s policy but found no SA). If an IKE SA of `connection` with
    /// its peer exists (established or half-open), returns it for [`IkeSa::acquire`] instead of
    /// starting another; otherwise starts one whose IKE_AUTH creates `child` with the packet's
    /// selectors first in TSi/TSr (RFC 7296 §2.9).
    pub fn acquire(
        &mut self,
        now: Instant,
        connection: Arc<Connection>,
        child: &str,
        local_ts: TrafficSelector,
        remote_ts: TrafficSelector,
    ) -> Result<Acquired, Failure> {
        let peer = connection.remote_addrs.first().copied();
        let existing = self.sas.iter().find(|(_, e)| {
            e.connection.as_deref() == Some(connection.name.as_str())
                && peer.is_none_or(|p| p == e.remote)
        });
        if let Some((&spi, _)) = existing {
            return Ok(Acquired::Existing(IkeSaHandle(spi)));
        }
        let (h, sa) = self.start(now, connection, Some(child), Some((local_ts, remote_ts)))?;
        Ok(Acquired::Initiated(h, Box::new(sa)))
    }

    fn start(
        &mut self,
        now: Instant,
        connection: Arc<Connection>,
        child: Option<&str>,
        packet: Option<(TrafficSelector, TrafficSelector)>,
    ) -> Result<(IkeSaHandle, IkeSa), Failure> {
        let (Some(&l), Some(&r)) = (
            connection.local_addrs.first(),
            connection.remote_addrs.first(),
        ) else {
            return Err(Failure::Config {
                what: format!(
                    "connection {} needs a local and a remote address to initiate",
                    connection.name
                ),
            });
        };
        let path = Path {
            local: SocketAddr::new(l, connection.port),
            remote: SocketAddr::new(r, connection.port),
        };
        let spi = self.fresh_spi().ok_or_else(|| Failure::Config {
            what: "no IKE SPI available".into(),
        })?;
        let name: Arc<str> = connection.name.as_str().into();
        let shared = self.shared.clone();
        let mut sa = IkeSa::initiate(shared, now, connection, child, packet, spi, path)?;
        // §2.4: INITIAL_CONTACT when we hold no other IKE SA with this peer.
        sa.set_initial_contact(!self.sas.values().any(|e| e.remote == r));
        self.sas.insert(
            spi,
            Entry {
                remote: r,
                half_open: false,
                initiator: None,
                connection: Some(name),
            },
        );
        Ok((IkeSaHandle(spi), sa))
    }

    fn fresh_spi(&self) -> Option<u64> {
        (0..8).find_map(|_| {
            self.shared
                .spis
                .ike_spi()
                .ok()
                .filter(|s| !self.sas.contains_key(s))
        })
    }

    /// Routes a datagram (RFC 7296 §2.1: by our SPI; new IKE_SA_INIT requests by the
    /// initiator's address and SPI). Returns `None` when it is dropped or answered statelessly.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        bytes: &[u8],
    ) -> Option<DatagramEvent> {
        // RFC 3948 §2.2: on 4500 only marked datagrams are IKE.
        let bytes = crate::nat::ike_payload(local, bytes)?;
        let h = match IkeHeader::new_checked(bytes) {
            Ok(h) => h,
            Err(rampart_wire::Error::BadVersion { .. }) => {
                self.answer_higher_version(now, local, remote, bytes);
                return None;
            }
            Err(_) => return None,
        };
        let flags = h.flags();
        let initial = h.exchange_type() == ExchangeType::IKE_SA_INIT
            && !flags.response()
            && flags.initiator()
            && h.spi_r() == 0;
        if initial {
            if let Some(&spi) = self.by_initiator.get(&(remote, h.spi_i())) {
                return Some(DatagramEvent::ForSa(IkeSaHandle(spi)));
            }
            return self.new_responder(now, local, remote, bytes);
        }
        // The Initiator flag names the sender's role, hence which SPI is ours (§3.1).
        let ours = if flags.initiator() {
            h.spi_r()
        } else {
            h.spi_i()
        };
        if self.sas.contains_key(&ours) {
            return Some(DatagramEvent::ForSa(IkeSaHandle(ours)));
        }
        // §2.21.4: a request for an IKE SA we do not know may be answered, unprotected, with
        // INVALID_IKE_SPI; a response never is.
        let n = NotifyPayload::new(NotifyType::INVALID_IKE_SPI, Vec::new());
        self.answer_unprotected(now, local, remote, bytes, n);
        None
    }

    /// §2.5: a request of a higher major version is answered with INVALID_MAJOR_VERSION, in a
    /// version 2.0 header (the closest version we speak). Lower versions (IKEv1) are dropped.
    fn answer_higher_version(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        bytes: &[u8],
    ) {
        if RawHeader::read(bytes).is_some_and(|h| h.major_version > 2) {
            let n = NotifyPayload::new(NotifyType::INVALID_MAJOR_VERSION, Vec::new());
            self.answer_unprotected(now, local, remote, bytes, n);
        }
    }

    /// Queues an unprotected one-notify answer to the request in `bytes`, within the rate
    /// limit; responses are never answered.
    fn answer_unprotected(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        bytes: &[u8],
        notify: NotifyPayload,
    ) {
        let Some(h) = RawHeader::read(bytes).filter(RawHeader::is_request) else {
            return;
        };
        if !self.unprotected.allow(now) {
            return;
        }
        let payload = unprotected_response(&h, notify);
        if !payload.is_empty() {
            self.transmits.push_back(Transmit {
                local,
                remote,
                kind: TransmitKind::Ike,
                payload: crate::nat::with_marker(local, payload),
            });
        }
    }

    fn new_responder(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        bytes: &[u8],
    ) -> Option<DatagramEvent> {
        let config = &self.shared.config;
        if self.half_open >= config.half_open_limit {
            return None;
        }
        let msg = match Message::parse(bytes) {
            Ok(m) => m,
            Err(rampart_wire::Error::UnknownCriticalPayload { payload_type }) => {
                // §2.5: reject, naming the payload type.
                let n = unsupported_critical(payload_type);
                self.answer_unprotected(now, local, remote, bytes, n);
                return None;
            }
            Err(_) => return None,
        };
        if self.half_open >= config.cookie_threshold
            && !self.cookie_ok(&msg, Path { local, remote })?
        {
            return None;
        }
        let spi = self.fresh_spi()?;
        let mut sa = IkeSa::respond(
            self.shared.clone(),
            now,
            msg.spi_i,
            spi,
            Path { local, remote },
        );
        sa.handle_datagram(now, local, remote, bytes);
        self.sas.insert(
            spi,
            Entry {
                remote: remote.ip(),
                half_open: true,
                initiator: Some((remote, msg.spi_i)),
                connection: None,
            },
        );
        self.by_initiator.insert((remote, msg.spi_i), spi);
        self.half_open += 1;
        Some(DatagramEvent::NewSa(IkeSaHandle(spi), Box::new(sa)))
    }

    /// §2.6: under load, an IKE_SA_INIT must start with the cookie we would compute for it;
    /// otherwise answer statelessly with that cookie. `None`: no nonce, drop.
    fn cookie_ok(&mut self, msg: &Message, path: Path) -> Option<bool> {
        let ni = msg.payloads.iter().find_map(|p| match p {
            Payload::Nonce(n) => Some(n.data.as_slice()),
            _ => None,
        })?;
        let expected = cookie(&self.cookie_secret, ni, path.remote, msg.spi_i);
        let presented = match msg.payloads.first() {
            Some(Payload::Notify(n)) if n.notify_type == NotifyType::COOKIE => Some(&n.data),
            _ => None,
        };
        if presented == Some(&expected) {
            return Some(true);
        }
        self.transmits.push_back(Transmit {
            local: path.local,
            remote: path.remote,
            kind: TransmitKind::Ike,
            payload: crate::nat::with_marker(
                path.local,
                error_response(msg, NotifyType::COOKIE, expected),
            ),
        });
        Some(false)
    }

    /// Takes what an IKE SA reported for the endpoint ([`IkeSa::poll_endpoint_event`]).
    pub fn handle_sa_event(&mut self, handle: IkeSaHandle, event: EndpointEvent) {
        match event {
            EndpointEvent::Established => {
                if let Some(e) = self.sas.get_mut(&handle.0).filter(|e| e.half_open) {
                    e.half_open = false;
                    self.half_open -= 1;
                }
            }
            EndpointEvent::Created { remote } => {
                self.sas.entry(handle.0).or_insert(Entry {
                    remote,
                    half_open: false,
                    initiator: None,
                    connection: None,
                });
            }
            EndpointEvent::Connection { name } => {
                if let Some(e) = self.sas.get_mut(&handle.0) {
                    e.connection = Some(name.into());
                }
            }
            EndpointEvent::PeerAddressChanged { remote } => {
                if let Some(e) = self.sas.get_mut(&handle.0) {
                    e.remote = remote;
                }
            }
            EndpointEvent::Closed => {
                if let Some(e) = self.sas.remove(&handle.0) {
                    if e.half_open {
                        self.half_open -= 1;
                    }
                    if let Some(key) = e.initiator {
                        self.by_initiator.remove(&key);
                    }
                }
            }
        }
    }
}
