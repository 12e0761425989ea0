//! One IKE SA: its state machine, exchange layer, timers and queues, independent of the
//! [`Endpoint`](crate::Endpoint) so the daemon can run IKE SAs on any thread (DESIGN.md §1).
//!
//! # Call order (STYLE.md guideline 2)
//!
//! 1. Feed what arrives: [`IkeSa::handle_datagram`] for each datagram the endpoint routed here,
//!    [`IkeSa::handle_timeout`] when the deadline from `poll_timeout` has passed (an early or
//!    extra call is harmless), and commands ([`IkeSa::terminate`], [`IkeSa::delete_child`],
//!    [`IkeSa::create_child`], [`IkeSa::acquire`], [`IkeSa::rekey_child`], [`IkeSa::rekey`],
//!    and the data plane's
//!    [`IkeSa::child_soft_expired`] / [`IkeSa::child_hard_expired`]).
//! 2. Then drain [`IkeSa::poll_transmit`], [`IkeSa::poll_event`],
//!    [`IkeSa::poll_endpoint_event`] (the last goes to [`Endpoint::handle_sa_event`]) and
//!    [`IkeSa::poll_new_ike_sa`]: an IKE SA made by a rekey, which the caller keeps (and drains)
//!    beside this one from then on.
//! 3. Then ask [`IkeSa::poll_timeout`] for the next deadline.
//!
//! Local requests queue as tasks and go out one at a time (window size 1, §2.3); the exchange
//! in flight keeps its state in [`Pending`]. IKE_SA_INIT and IKE_AUTH live in `initial`,
//! INFORMATIONAL in `informational`, NAT traversal in `natt`, CREATE_CHILD_SA in `create_child`
//! (new and rekeyed child SAs, §1.3.1, §1.3.3, §2.8.1), IKE SA rekeying in `rekey` (§1.3.2,
//! §2.8.2, §2.18).
//!
//! [`Endpoint::handle_sa_event`]: crate::Endpoint::handle_sa_event

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

use rampart_crypto::SecureRandom;
use rampart_policy::TrafficSelector;
use rampart_policy::pad::Identity;
use rampart_wire::ike::iana::{ExchangeType, ProtocolId};
use rampart_wire::ike::{DeletePayload, IkeFlags, Message, Payload};

use crate::child::{ChildRequest, Negotiated};
use crate::config::{Connection, EndpointConfig};
use crate::event::ChildSa;
use crate::event::{DownReason, EndpointEvent, Event, Transmit};
use crate::exchange::{Exchanges, Incoming, RequestKind, Retransmit};
use crate::failure::Failure;
use crate::lifetime::Action;
use crate::sa_init::{InitiatorInit, Keyed, Path};
use crate::sk::Header;
use crate::spi::SpiAllocator;
use crate::time::Instant;
use crate::timer::{Timer, TimerTable};

mod children;
mod create_child;
mod informational;
mod initial;
mod natt;
mod rekey;

/// Child SAs one IKE SA keeps at most; more are refused with NO_ADDITIONAL_SAS (§1.3).
pub(crate) const MAX_CHILDREN: usize = 64;

/// What the engine shares with every IKE SA.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) config: Arc<EndpointConfig>,
    pub(crate) rng: Arc<dyn SecureRandom>,
    pub(crate) spis: Arc<dyn SpiAllocator>,
}

/// The phase of the IKE SA; each step consumes the previous one (STYLE.md guideline 5).
#[derive(Debug)]
enum State {
    /// Initiator: IKE_SA_INIT request sent.
    InitiatorInit {
        init: InitiatorInit,
        child: Option<ChildRequest>,
    },
    /// Responder: created for an IKE_SA_INIT request, not yet answered.
    ResponderInit,
    /// Initiator: IKE_AUTH request sent.
    InitiatorAuth { child: Option<ChildRequest> },
    /// Responder: IKE_SA_INIT answered, waiting for IKE_AUTH.
    ResponderAuth,
    /// Authenticated.
    Established,
    /// Replaced by a rekey (§2.18): its children moved to the new IKE SA; it only finishes its
    /// deletion and answers CREATE_CHILD_SA with TEMPORARY_FAILURE (§2.25.2).
    Rekeyed,
    /// Gone; every input is ignored.
    Closed,
}

/// Where a child SA stands in its life (RFC 7296 §2.8, §2.25.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChildState {
    /// Installed and in use.
    Installed,
    /// Our rekey of it is in flight.
    Rekeying,
    /// Replaced by a rekey; its deletion is ours to send or the peer's.
    Replaced,
    /// Our Delete for it is queued or in flight.
    Deleting,
    /// Created by the peer's rekey while ours of the same SA was in flight (§2.8.1): held back
    /// until the collision is decided.
    Parked,
    /// Lost a rekey collision (§2.8.1): never installed, deleted by whoever created it.
    Redundant,
}

/// A child SA as far as the IKE SA must remember it.
#[derive(Debug, Clone)]
struct InstalledChild {
    name: String,
    inbound_spi: u32,
    outbound_spi: u32,
    state: ChildState,
    /// Whether the data plane was told about it (then its removal is reported too).
    reported: bool,
    /// The agreement, repeated when rekeying (§2.8: same algorithms and selectors).
    negotiated: Negotiated,
    /// For a parked SA: the inbound SPI of the SA it replaces, and its event-ready form.
    parked: Option<(u32, Box<ChildSa>)>,
    /// Our side's and the peer's selectors as agreed.
    local_ts: Vec<rampart_policy::TrafficSelector>,
    remote_ts: Vec<rampart_policy::TrafficSelector>,
}

/// A local request waiting for the window (§2.3).
#[derive(Debug)]
enum Task {
    DeleteIke,
    DeleteChild(u32),
    Dpd,
    CreateChild(Box<ChildRequest>),
    RekeyChild(u32),
    RekeyIke,
}

/// The state of our CREATE_CHILD_SA in flight.
#[derive(Debug)]
enum Pending {
    Child(Box<create_child::ChildInit>),
    Ike(Box<rekey::IkeRekeyInit>),
}

/// One IKE SA (RFC 7296), either role. See the [module docs](self) for the call order.
pub struct IkeSa {
    shared: Shared,
    initiator: bool,
    spi_i: u64,
    spi_r: u64,
    local: SocketAddr,
    remote: SocketAddr,
    connection: Option<Arc<Connection>>,
    state: State,
    keyed: Option<Box<Keyed>>,
    peer_id: Option<Identity>,
    exchanges: Exchanges,
    timers: TimerTable,
    queued: VecDeque<Task>,
    pending: Option<Pending>,
    children: Vec<InstalledChild>,
    /// The IKE SA made by answering the peer's rekey while ours was in flight (§2.8.2).
    parked_ike: Option<Box<rekey::ParkedIke>>,
    last_heard: Instant,
    /// Whether `IkeSaDown` was reported (close runs once).
    down: bool,
    /// Reports nothing when it ends: a rekeyed or redundant IKE SA (§2.8.2, §2.18).
    quiet: bool,
    /// Nonces forced by [`IkeSa::dangerous_queue_nonces`].
    forced_nonces: VecDeque<Vec<u8>>,
    /// While a datagram from a new address is handled: where it came from, adopted once it
    /// verifies as a request (`natt`).
    arrived: Option<Path>,
    spawned: VecDeque<Self>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    endpoint_events: VecDeque<EndpointEvent>,
}

impl core::fmt::Debug for IkeSa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IkeSa")
            .field("initiator", &self.initiator)
            .field("spi_i", &format_args!("{:016x}", self.spi_i))
            .field("spi_r", &format_args!("{:016x}", self.spi_r))
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl IkeSa {
    fn new(
        shared: Shared,
        initiator: bool,
        spi_i: u64,
        spi_r: u64,
        path: Path,
        now: Instant,
    ) -> Self {
        let mut timers = TimerTable::default();
        timers.set(Timer::HalfOpen, now + shared.config.half_open_timeout);
        Self {
            shared,
            initiator,
            spi_i,
            spi_r,
            local: path.local,
            remote: path.remote,
            connection: None,
            state: State::ResponderInit,
            keyed: None,
            peer_id: None,
            exchanges: Exchanges::default(),
            timers,
            queued: VecDeque::new(),
            pending: None,
            children: Vec::new(),
            parked_ike: None,
            last_heard: now,
            down: false,
            quiet: false,
            forced_nonces: VecDeque::new(),
            arrived: None,
            spawned: VecDeque::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            endpoint_events: VecDeque::new(),
        }
    }

    /// An initiator: sends IKE_SA_INIT for `connection`, then IKE_AUTH with `child` (by name),
    /// with a triggering packet's selectors first in TSi/TSr if `packet` is given (§2.9).
    pub(crate) fn initiate(
        shared: Shared,
        now: Instant,
        connection: Arc<Connection>,
        child: Option<&str>,
        packet: Option<(TrafficSelector, TrafficSelector)>,
        spi_i: u64,
        path: Path,
    ) -> Result<Self, Failure> {
        let child = match child {
            Some(name) => {
                let config = connection
                    .child(name)
                    .cloned()
                    .ok_or_else(|| Failure::Config {
                        what: format!("connection {} has no child {name}", connection.name),
                    })?;
                let inbound_spi = shared.spis.child_spi().map_err(|e| Failure::Config {
                    what: e.to_string(),
                })?;
                let mut request = ChildRequest::new(config, inbound_spi, false);
                if let Some((local, remote)) = packet {
                    request.local_ts.insert(0, local);
                    request.remote_ts.insert(0, remote);
                }
                Some(request)
            }
            None => None,
        };
        let init = InitiatorInit::new(
            connection.ike_proposals.clone(),
            spi_i,
            path,
            connection.force_encap,
            shared.rng.as_ref(),
        )?;
        let mut sa = Self::new(shared, true, spi_i, 0, path, now);
        sa.connection = Some(connection);
        let request = init.request.clone();
        sa.state = State::InitiatorInit { init, child };
        sa.send_request(now, request, RequestKind::SaInit);
        Ok(sa)
    }

    /// A responder for an IKE_SA_INIT request that the endpoint will feed next.
    pub(crate) fn respond(
        shared: Shared,
        now: Instant,
        spi_i: u64,
        spi_r: u64,
        path: Path,
    ) -> Self {
        Self::new(shared, false, spi_i, spi_r, path, now)
    }

    /// Initiator's SPI.
    pub fn spi_i(&self) -> u64 {
        self.spi_i
    }

    /// Responder's SPI (0 while the initiator waits for the IKE_SA_INIT response).
    pub fn spi_r(&self) -> u64 {
        self.spi_r
    }

    /// Our SPI: the one the endpoint routes by.
    pub fn local_spi(&self) -> u64 {
        if self.initiator {
            self.spi_i
        } else {
            self.spi_r
        }
    }

    /// Our address and port for this SA (port 4500 after floating, RFC 7296 §2.23).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The peer's address and port as we send to it (after a NAT rebinding, the latest).
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote
    }

    /// Whether we are the original initiator.
    pub fn is_initiator(&self) -> bool {
        self.initiator
    }

    /// Whether IKE_AUTH completed and the SA is in use: not closed, not replaced by a rekey
    /// and not the redundant SA of a rekey collision.
    pub fn is_established(&self) -> bool {
        self.live() && !self.quiet
    }

    /// Whether the SA may send requests.
    fn live(&self) -> bool {
        matches!(self.state, State::Established)
    }

    /// Whether the SA is gone (the caller may drop it once the queues are drained).
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next event for the endpoint.
    pub fn poll_endpoint_event(&mut self) -> Option<EndpointEvent> {
        self.endpoint_events.pop_front()
    }

    /// An IKE SA made by rekeying this one (RFC 7296 §2.18), with its handle at the endpoint:
    /// keep it beside this one and drive it the same way. Its first endpoint event registers
    /// its SPI at the endpoint. Besides the successor (which [`Event::IkeSaRekeyed`] names),
    /// a simultaneous rekey (§2.8.2) hands out the redundant new SA too, which deletes itself
    /// or waits for the peer to, and reports nothing.
    pub fn poll_new_ike_sa(&mut self) -> Option<(crate::IkeSaHandle, Self)> {
        let sa = self.spawned.pop_front()?;
        Some((crate::IkeSaHandle(sa.local_spi()), sa))
    }

    /// The exact next deadline at which [`handle_timeout`](Self::handle_timeout) has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Child SA records this IKE SA holds, reported or not (redundant or parked SAs of a rekey
    /// collision included): for checking that state stays bounded.
    pub fn child_sa_count(&self) -> usize {
        self.children.len()
    }

    /// Uses `nonces`, in order, as the nonces of the next CREATE_CHILD_SA exchanges this SA
    /// sends or answers, instead of fresh random ones (then random again). For tests that force
    /// the outcome of a rekey collision (§2.8.1); fixed nonces destroy the freshness the key
    /// derivation relies on, so nothing else may call it.
    pub fn dangerous_queue_nonces(&mut self, nonces: Vec<Vec<u8>>) {
        self.forced_nonces.extend(nonces);
    }

    /// Creates another child SA of this connection (RFC 7296 §1.3.1) from the child
    /// configuration `child_name`, with PFS if its ESP proposals name key exchange methods.
    pub fn create_child(&mut self, now: Instant, child_name: &str) -> Result<(), Failure> {
        self.queue_create(now, child_name, None)
    }

    /// Like [`create_child`](Self::create_child), for a packet that found no SA (an acquire):
    /// its selectors `local` (source) and `remote` (destination) go first in TSi and TSr so the
    /// responder can narrow to the policy that covers the packet (§2.9).
    pub fn create_child_for(
        &mut self,
        now: Instant,
        child_name: &str,
        local: rampart_policy::TrafficSelector,
        remote: rampart_policy::TrafficSelector,
    ) -> Result<(), Failure> {
        self.queue_create(now, child_name, Some((local, remote)))
    }

    /// Rekeys the child SA whose inbound SPI is `inbound_spi` (§1.3.3).
    pub fn rekey_child(&mut self, now: Instant, inbound_spi: u32) {
        self.expire(now, Action::RekeyChild(inbound_spi));
    }

    /// Rekeys the IKE SA (§1.3.2).
    pub fn rekey(&mut self, now: Instant) {
        self.expire(now, Action::RekeyIke);
    }

    /// The data plane reports the soft byte or packet limit of a child SA: it is rekeyed.
    pub fn child_soft_expired(&mut self, now: Instant, inbound_spi: u32) {
        self.expire(now, Action::RekeyChild(inbound_spi));
    }

    /// The data plane reports the hard limit of a child SA: it is deleted.
    pub fn child_hard_expired(&mut self, now: Instant, inbound_spi: u32) {
        self.expire(now, Action::DeleteChild(inbound_spi));
    }

    /// Deletes the IKE SA and its child SAs (RFC 7296 §1.4.1): an INFORMATIONAL with a Delete
    /// payload once established, at once otherwise.
    pub fn terminate(&mut self, now: Instant) {
        match self.state {
            State::Established => {
                if !self.queued.iter().any(|t| matches!(t, Task::DeleteIke)) {
                    self.queued.push_back(Task::DeleteIke);
                }
                self.drive(now);
            }
            State::Closed | State::Rekeyed => {}
            _ => self.close(DownReason::DeletedLocally),
        }
    }

    /// Deletes the child SA whose inbound SPI is `inbound_spi` (RFC 7296 §1.4.1).
    pub fn delete_child(&mut self, now: Instant, inbound_spi: u32) {
        self.expire(now, Action::DeleteChild(inbound_spi));
    }

    /// Queues what a lifetime expiry or command asks for (the table in `lifetime`).
    fn expire(&mut self, now: Instant, action: Action) {
        if !self.is_established() || self.quiet {
            return;
        }
        let task = match action {
            Action::RekeyIke => Task::RekeyIke,
            Action::DeleteIke => Task::DeleteIke,
            Action::RekeyChild(spi) => {
                if self
                    .child(spi)
                    .is_none_or(|c| c.state != ChildState::Installed)
                {
                    return;
                }
                self.timers.stop(Timer::ChildSoft(spi));
                Task::RekeyChild(spi)
            }
            Action::DeleteChild(spi) => {
                if self
                    .child(spi)
                    .is_none_or(|c| matches!(c.state, ChildState::Deleting | ChildState::Parked))
                {
                    return;
                }
                Task::DeleteChild(spi)
            }
        };
        let duplicate = self.queued.iter().any(|t| match (t, &task) {
            (Task::RekeyIke, Task::RekeyIke) | (Task::DeleteIke, Task::DeleteIke) => true,
            (Task::RekeyChild(a), Task::RekeyChild(b))
            | (Task::DeleteChild(a), Task::DeleteChild(b)) => a == b,
            _ => false,
        });
        if !duplicate {
            self.queued.push_back(task);
        }
        self.drive(now);
    }

    fn child(&self, inbound_spi: u32) -> Option<&InstalledChild> {
        self.children.iter().find(|c| c.inbound_spi == inbound_spi)
    }

    /// How long a replaced or redundant SA waits for the peer's last messages: as long as the
    /// peer retransmits one request.
    fn linger(&self) -> core::time::Duration {
        let policy = self.shared.config.retransmission;
        (1..=policy.tries).map(|n| policy.wait_after(n)).sum()
    }

    fn child_mut(&mut self, inbound_spi: u32) -> Option<&mut InstalledChild> {
        self.children
            .iter_mut()
            .find(|c| c.inbound_spi == inbound_spi)
    }

    /// The next CREATE_CHILD_SA nonce: forced (tests) or fresh.
    fn exchange_nonce(&mut self) -> Result<Vec<u8>, Failure> {
        if let Some(n) = self.forced_nonces.pop_front() {
            return Ok(n);
        }
        crate::sa_init::nonce(self.shared.rng.as_ref()).map_err(|e| Failure::Config {
            what: e.to_string(),
        })
    }

    /// Handles the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        for timer in self.timers.expired(now) {
            match timer {
                Timer::Retransmit => self.on_retransmit_timer(now),
                Timer::HalfOpen if !self.is_established() => {
                    self.close(DownReason::HalfOpenTimeout)
                }
                Timer::HalfOpen => {}
                Timer::Dpd => self.on_dpd_timer(now),
                Timer::NatKeepalive => self.on_keepalive_timer(now),
                Timer::Linger => self.close(DownReason::DeletedLocally),
                Timer::IkeSoft | Timer::IkeHard | Timer::ChildSoft(_) | Timer::ChildHard(_) => {
                    if let Some(action) = crate::lifetime::action(timer) {
                        self.expire(now, action);
                    }
                }
            }
        }
    }

    fn on_retransmit_timer(&mut self, now: Instant) {
        let policy = self.shared.config.retransmission;
        match self.exchanges.on_timer(now, &policy) {
            Some(Retransmit::Resend(bytes, at)) => {
                self.transmit(bytes);
                self.timers.set(Timer::Retransmit, at);
            }
            Some(Retransmit::GiveUp(RequestKind::DeleteIke)) => {
                self.close(DownReason::DeletedLocally)
            }
            Some(Retransmit::GiveUp(_)) => self.close(DownReason::PeerUnreachable),
            None => {}
        }
    }

    fn on_dpd_timer(&mut self, now: Instant) {
        let Some(delay) = self.connection.as_ref().and_then(|c| c.dpd_delay) else {
            return;
        };
        if !self.is_established() {
            return;
        }
        let due = self.last_heard + delay;
        if now >= due {
            // RFC 7296 §2.4: an empty INFORMATIONAL request is the liveness check.
            if self.exchanges.can_send() && self.queued.is_empty() {
                self.queued.push_back(Task::Dpd);
                self.drive(now);
            }
            self.timers.set(Timer::Dpd, now + delay);
        } else {
            self.timers.set(Timer::Dpd, due);
        }
    }

    /// Handles a datagram the endpoint routed to this SA.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        bytes: &[u8],
    ) {
        if self.is_closed() {
            return;
        }
        // On 4500 the non-ESP marker goes (RFC 3948 §2.2); ESP and keepalives are not ours.
        let Some(bytes) = crate::nat::ike_payload(local, bytes) else {
            return;
        };
        let Ok(msg) = Message::parse(bytes) else {
            return;
        };
        // The sender must be the other role (RFC 7296 §3.1, Initiator flag), about this SA.
        if msg.spi_i != self.spi_i || msg.flags.initiator() == self.initiator {
            return;
        }
        // IKE_SA_INIT requests carry SPIr 0; its response brings the responder's SPI.
        let sa_init = msg.exchange_type == ExchangeType::IKE_SA_INIT;
        let spi_r_ok = msg.spi_r == self.spi_r || (sa_init && (self.initiator || msg.spi_r == 0));
        if !spi_r_ok {
            return;
        }
        if (local, remote) != (self.local, self.remote) {
            // §2.23: from elsewhere only after NAT detection (no MOBIKE); the SA moves there
            // only once a request from it verifies (`open`).
            if !self.may_move(local) {
                return;
            }
            self.arrived = Some(Path { local, remote });
        }
        match self
            .exchanges
            .classify(msg.message_id, msg.flags.response())
        {
            Incoming::Drop => {}
            Incoming::Retransmitted(cached) => {
                // §2.11: the answer goes where the request came from. A copy of an old request
                // (perhaps a replay) never moves the SA; only a new one does, once it verifies.
                let path = self.arrived.unwrap_or_else(|| self.path());
                self.transmit_on(path, cached)
            }
            Incoming::Response(kind) => self.on_response(now, kind, &msg, bytes),
            Incoming::NewRequest => self.on_request(now, &msg, bytes),
        }
        self.arrived = None;
        self.drive(now);
    }

    /// Decrypts an SK message; `None` (drop silently, §2.21.1) if it does not verify. A
    /// request that verifies but does not parse is answered with its error notify
    /// (`notify::for_undecodable_request`).
    fn open(&mut self, msg: &Message, bytes: &[u8], now: Instant) -> Option<Vec<Payload>> {
        match self.keyed.as_ref()?.sk.open(bytes, msg) {
            Ok(payloads) => {
                self.heard(now);
                if let Some(path) = self.arrived.take().filter(|_| !msg.flags.response()) {
                    self.moved_to(path);
                }
                Some(payloads)
            }
            Err(e) => {
                let answer = crate::notify::for_undecodable_request(&e);
                if let Some(n) = answer.filter(|_| !msg.flags.response()) {
                    self.heard(now);
                    self.respond_encrypted(msg, &[Payload::Notify(n)]);
                }
                None
            }
        }
    }

    /// Asks for INITIAL_CONTACT in our IKE_AUTH request (the endpoint knows no other IKE SA
    /// with the peer). Only meaningful before the IKE_SA_INIT response arrives.
    pub(crate) fn set_initial_contact(&mut self, yes: bool) {
        if let State::InitiatorInit { init, .. } = &mut self.state {
            init.initial_contact = yes;
        }
    }

    /// The keys after IKE_SA_INIT, for `dangerous_export_keys`.
    pub(crate) fn keyed(&self) -> Option<&Keyed> {
        self.keyed.as_deref()
    }

    fn heard(&mut self, now: Instant) {
        self.last_heard = now;
        if let Some(delay) = self.connection.as_ref().and_then(|c| c.dpd_delay) {
            if self.is_established() && !self.quiet {
                self.timers.set(Timer::Dpd, now + delay);
            }
        }
    }

    fn on_response(&mut self, now: Instant, kind: RequestKind, msg: &Message, bytes: &[u8]) {
        if kind == RequestKind::SaInit {
            return self.on_sa_init_response(now, msg, bytes);
        }
        let Some(payloads) = self.open(msg, bytes, now) else {
            return;
        };
        self.exchanges.response_done();
        self.timers.stop(Timer::Retransmit);
        match kind {
            RequestKind::Auth => self.on_auth_response(now, &payloads),
            RequestKind::DeleteIke => self.close(DownReason::DeletedLocally),
            RequestKind::DeleteChild(spi) => self.remove_child(spi),
            RequestKind::CreateChild | RequestKind::RekeyChild(_) => {
                self.on_child_response(now, &payloads)
            }
            RequestKind::RekeyIke => self.on_rekey_ike_response(now, &payloads),
            RequestKind::Dpd | RequestKind::SaInit => {}
        }
    }
}

impl IkeSa {
    fn path(&self) -> Path {
        Path {
            local: self.local,
            remote: self.remote,
        }
    }

    fn on_request(&mut self, now: Instant, msg: &Message, bytes: &[u8]) {
        match (&self.state, msg.exchange_type) {
            (State::ResponderInit, ExchangeType::IKE_SA_INIT) => {
                self.on_sa_init_request(msg, bytes)
            }
            (State::ResponderAuth, ExchangeType::IKE_AUTH) => self.on_auth_request(now, msg, bytes),
            (State::Established | State::Rekeyed, ExchangeType::INFORMATIONAL) => {
                self.on_informational(now, msg, bytes)
            }
            (State::Established | State::Rekeyed, ExchangeType::CREATE_CHILD_SA) => {
                self.on_create_child_request(now, msg, bytes)
            }
            _ => {}
        }
    }

    /// Sends the next queued local request if the window is free (§2.3, window size 1).
    fn drive(&mut self, now: Instant) {
        while self.live() && self.exchanges.can_send() {
            let Some(task) = self.queued.pop_front() else {
                return;
            };
            self.start(now, task);
        }
    }

    /// Sends the request for `task`, or drops it if it no longer applies.
    fn start(&mut self, now: Instant, task: Task) {
        let info = |sa: &mut Self, kind, payloads: &[Payload]| {
            sa.send_encrypted_request(now, kind, ExchangeType::INFORMATIONAL, payloads);
        };
        match task {
            Task::DeleteIke => info(
                self,
                RequestKind::DeleteIke,
                &[Payload::Delete(DeletePayload::ike())],
            ),
            Task::DeleteChild(spi) => {
                let Some(c) = self
                    .child_mut(spi)
                    .filter(|c| c.state != ChildState::Parked)
                else {
                    return;
                };
                if c.reported {
                    c.state = ChildState::Deleting;
                }
                self.timers.stop(Timer::ChildSoft(spi));
                let d = DeletePayload::child(ProtocolId::ESP, &[spi]);
                info(self, RequestKind::DeleteChild(spi), &[Payload::Delete(d)]);
            }
            Task::Dpd => info(self, RequestKind::Dpd, &[]),
            Task::CreateChild(request) => self.start_create_child(now, *request, None),
            Task::RekeyChild(spi) => self.start_rekey_child(now, spi),
            Task::RekeyIke => self.start_rekey_ike(now),
        }
    }

    fn our_flags(&self, response: bool) -> IkeFlags {
        let mut bits = 0;
        if self.initiator {
            bits |= IkeFlags::INITIATOR.bits();
        }
        if response {
            bits |= IkeFlags::RESPONSE.bits();
        }
        IkeFlags::from_bits(bits)
    }

    fn send_encrypted_request(
        &mut self,
        now: Instant,
        kind: RequestKind,
        exchange: ExchangeType,
        payloads: &[Payload],
    ) {
        let header = Header {
            spi_i: self.spi_i,
            spi_r: self.spi_r,
            exchange,
            flags: self.our_flags(false),
            message_id: self.exchanges.next_request_id(),
        };
        let Some(sealed) = self.keyed.as_mut().map(|k| k.sk.seal(header, payloads)) else {
            return;
        };
        match sealed {
            Ok(bytes) => self.send_request(now, bytes, kind),
            Err(e) => self.close(DownReason::Failed(Failure::Config {
                what: format!("sealing {exchange}: {e}"),
            })),
        }
    }

    fn respond_encrypted(&mut self, request: &Message, payloads: &[Payload]) {
        let header = Header {
            spi_i: self.spi_i,
            spi_r: self.spi_r,
            exchange: request.exchange_type,
            flags: self.our_flags(true),
            message_id: request.message_id,
        };
        let Some(Ok(bytes)) = self.keyed.as_mut().map(|k| k.sk.seal(header, payloads)) else {
            return;
        };
        self.exchanges.responded(request.message_id, bytes.clone());
        self.transmit(bytes);
    }

    fn send_request(&mut self, now: Instant, bytes: Vec<u8>, kind: RequestKind) {
        let policy = self.shared.config.retransmission;
        let at = self
            .exchanges
            .sent_request(now, bytes.clone(), kind, &policy);
        self.timers.set(Timer::Retransmit, at);
        self.transmit(bytes);
    }

    /// Queues an IKE message for the peer, behind the non-ESP marker on 4500 (RFC 3948 §2.2).
    fn transmit(&mut self, message: Vec<u8>) {
        self.transmit_on(self.path(), message);
    }

    fn transmit_on(&mut self, path: Path, message: Vec<u8>) {
        self.transmits.push_back(Transmit {
            local: path.local,
            remote: path.remote,
            kind: crate::event::TransmitKind::Ike,
            payload: crate::nat::with_marker(path.local, message),
        });
    }

    /// Ends the SA: child SAs deleted, `IkeSaDown`, the endpoint told (§1.4.1: deleting an IKE
    /// SA deletes its children).
    fn close(&mut self, reason: DownReason) {
        if self.down {
            return;
        }
        if self.quiet {
            return self.close_silently();
        }
        for c in core::mem::take(&mut self.children) {
            if !c.reported {
                continue;
            }
            self.events.push_back(Event::ChildSaDeleted {
                name: c.name,
                inbound_spi: c.inbound_spi,
                outbound_spi: c.outbound_spi,
            });
        }
        self.events.push_back(Event::IkeSaDown {
            spi_i: self.spi_i,
            spi_r: self.spi_r,
            reason,
        });
        self.close_silently();
    }

    /// Ends an SA that never was more than an answer (e.g. after INVALID_KE_PAYLOAD).
    fn close_silently(&mut self) {
        if self.down {
            return;
        }
        self.down = true;
        self.state = State::Closed;
        self.timers.clear();
        self.queued.clear();
        self.pending = None;
        self.parked_ike = None;
        self.children.clear();
        self.keyed = None;
        self.endpoint_events.push_back(EndpointEvent::Closed);
    }
}
