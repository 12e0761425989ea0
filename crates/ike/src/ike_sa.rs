//! One IKE SA: its state machine, exchange layer, timers and queues, independent of the
//! [`Endpoint`](crate::Endpoint) so the daemon can run IKE SAs on any thread (DESIGN.md §1).
//!
//! # Call order (STYLE.md guideline 2)
//!
//! 1. Feed what arrives: [`IkeSa::handle_datagram`] for each datagram the endpoint routed here,
//!    [`IkeSa::handle_timeout`] when the deadline from `poll_timeout` has passed (an early or
//!    extra call is harmless), and commands ([`IkeSa::terminate`], [`IkeSa::delete_child`]).
//! 2. Then drain [`IkeSa::poll_transmit`], [`IkeSa::poll_event`] and
//!    [`IkeSa::poll_endpoint_event`] (the last goes to [`Endpoint::handle_sa_event`]).
//! 3. Then ask [`IkeSa::poll_timeout`] for the next deadline.
//!
//! [`Endpoint::handle_sa_event`]: crate::Endpoint::handle_sa_event

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

use rampart_crypto::SecureRandom;
use rampart_policy::pad::Identity;
use rampart_wire::ike::iana::{ExchangeType, ProtocolId};
use rampart_wire::ike::{DeletePayload, IkeFlags, Message, NotifyPayload, Payload};

use crate::child::{ChildRequest, KeyContext, Negotiated};
use crate::config::{Connection, EndpointConfig};
use crate::event::{DownReason, EndpointEvent, Event, Transmit};
use crate::exchange::{Exchanges, Incoming, RequestKind, Retransmit};
use crate::failure::Failure;
use crate::sa_init::{InitStep, InitiatorInit, Keyed, Path};
use crate::sk::Header;
use crate::spi::SpiAllocator;
use crate::time::Instant;
use crate::timer::{Timer, TimerTable};

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
    /// Gone; every input is ignored.
    Closed,
}

/// A child SA as far as the IKE SA must remember it.
#[derive(Debug, Clone)]
struct InstalledChild {
    name: String,
    inbound_spi: u32,
    outbound_spi: u32,
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
    queued: VecDeque<RequestKind>,
    children: Vec<InstalledChild>,
    last_heard: Instant,
    /// Whether `IkeSaDown` was reported (close runs once).
    down: bool,
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
            children: Vec::new(),
            last_heard: now,
            down: false,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            endpoint_events: VecDeque::new(),
        }
    }

    /// An initiator: sends IKE_SA_INIT for `connection`, then IKE_AUTH with `child` (by name).
    pub(crate) fn initiate(
        shared: Shared,
        now: Instant,
        connection: Arc<Connection>,
        child: Option<&str>,
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
                Some(ChildRequest {
                    config,
                    inbound_spi,
                })
            }
            None => None,
        };
        let init = InitiatorInit::new(
            connection.ike_proposals.clone(),
            spi_i,
            path,
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

    /// Whether we are the original initiator.
    pub fn is_initiator(&self) -> bool {
        self.initiator
    }

    /// Whether IKE_AUTH completed and the SA is not closed.
    pub fn is_established(&self) -> bool {
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

    /// The exact next deadline at which [`handle_timeout`](Self::handle_timeout) has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Deletes the IKE SA and its child SAs (RFC 7296 §1.4.1): an INFORMATIONAL with a Delete
    /// payload once established, at once otherwise.
    pub fn terminate(&mut self, now: Instant) {
        match self.state {
            State::Established => {
                if !self.queued.contains(&RequestKind::DeleteIke) {
                    self.queued.push_back(RequestKind::DeleteIke);
                }
                self.drive(now);
            }
            State::Closed => {}
            _ => self.close(DownReason::DeletedLocally),
        }
    }

    /// Deletes the child SA whose inbound SPI is `inbound_spi` (RFC 7296 §1.4.1).
    pub fn delete_child(&mut self, now: Instant, inbound_spi: u32) {
        if self.is_established() && self.children.iter().any(|c| c.inbound_spi == inbound_spi) {
            self.queued.push_back(RequestKind::DeleteChild(inbound_spi));
            self.drive(now);
        }
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
                self.queued.push_back(RequestKind::Dpd);
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
        let _ = local;
        if remote != self.remote {
            // No MOBIKE or NAT-T address updates yet: only the peer's known address.
            return;
        }
        match self
            .exchanges
            .classify(msg.message_id, msg.flags.response())
        {
            Incoming::Drop => {}
            Incoming::Retransmitted(cached) => self.transmit(cached),
            Incoming::Response(kind) => self.on_response(now, kind, &msg, bytes),
            Incoming::NewRequest => self.on_request(now, &msg, bytes),
        }
        self.drive(now);
    }

    /// Decrypts an SK message; `None` (drop silently, §2.21.1) if it does not verify. A
    /// request that verifies but does not parse is answered with its error notify
    /// (`notify::for_undecodable_request`).
    fn open(&mut self, msg: &Message, bytes: &[u8], now: Instant) -> Option<Vec<Payload>> {
        match self.keyed.as_ref()?.sk.open(bytes, msg) {
            Ok(payloads) => {
                self.heard(now);
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
            if self.is_established() {
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
            RequestKind::Dpd | RequestKind::SaInit => {}
        }
    }

    fn on_sa_init_response(&mut self, now: Instant, msg: &Message, bytes: &[u8]) {
        let State::InitiatorInit { init, child } =
            core::mem::replace(&mut self.state, State::Closed)
        else {
            return;
        };
        let path = self.path();
        match init.handle_response(msg, bytes, path, &self.shared.rng) {
            InitStep::Ignore(init) => self.state = State::InitiatorInit { init, child },
            InitStep::Retry(init) => {
                let request = init.request.clone();
                self.state = State::InitiatorInit { init, child };
                self.send_request(now, request, RequestKind::SaInit);
            }
            InitStep::Failed(f) => {
                self.exchanges.response_done();
                self.close(DownReason::Failed(f));
            }
            InitStep::Keyed(keyed) => {
                self.exchanges.response_done();
                self.timers.stop(Timer::Retransmit);
                self.spi_r = keyed.spi_r;
                let conn = self
                    .connection
                    .clone()
                    .expect("an initiator has its connection from the start");
                let payloads = crate::ike_auth::request(&conn, &keyed, child.as_ref());
                self.keyed = Some(keyed);
                self.state = State::InitiatorAuth { child };
                match payloads {
                    Ok(p) => self.send_encrypted_request(
                        now,
                        RequestKind::Auth,
                        ExchangeType::IKE_AUTH,
                        &p,
                    ),
                    Err(f) => self.close(DownReason::Failed(f)),
                }
            }
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

    fn on_auth_response(&mut self, now: Instant, payloads: &[Payload]) {
        let State::InitiatorAuth { child } = core::mem::replace(&mut self.state, State::Closed)
        else {
            return;
        };
        let (Some(conn), Some(keyed)) = (self.connection.clone(), self.keyed.as_deref()) else {
            return;
        };
        match crate::ike_auth::complete(&conn, keyed, payloads, child) {
            Ok((peer, child)) => {
                self.establish(now, peer.clone());
                if crate::notify::has_initial_contact(payloads) {
                    self.events
                        .push_back(Event::InitialContact { peer_id: peer });
                }
                self.child_outcome(child);
            }
            Err(f) => {
                self.state = State::InitiatorAuth { child: None };
                if let Some(n) = crate::notify::after_failed_auth_response(&f) {
                    // §2.21.2: tell the responder in a separate INFORMATIONAL, sent once.
                    self.send_encrypted_request(
                        now,
                        RequestKind::Dpd,
                        ExchangeType::INFORMATIONAL,
                        &[Payload::Notify(n)],
                    );
                }
                self.close(DownReason::Failed(f));
            }
        }
    }

    /// IKE_AUTH done, either role.
    fn establish(&mut self, now: Instant, peer: Identity) {
        self.state = State::Established;
        self.timers.stop(Timer::HalfOpen);
        let (connection, nat_detected) = (
            self.connection
                .as_ref()
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            self.keyed.as_ref().is_some_and(|k| k.nat_detected),
        );
        self.events.push_back(Event::IkeSaUp {
            connection,
            spi_i: self.spi_i,
            spi_r: self.spi_r,
            initiator: self.initiator,
            peer_id: peer.clone(),
            nat_detected,
        });
        self.peer_id = Some(peer);
        self.endpoint_events.push_back(EndpointEvent::Established);
        self.heard(now);
        // The SA_INIT messages were only needed for AUTH.
        if let Some(k) = self.keyed.as_mut() {
            k.init_request = Vec::new();
            k.init_response = Vec::new();
        }
    }

    fn child_outcome(&mut self, child: Option<Result<Negotiated, Failure>>) {
        match child {
            None => {}
            Some(Err(reason)) => {
                let name = self
                    .connection
                    .as_ref()
                    .and_then(|c| c.children.first())
                    .map(|c| c.name.clone())
                    .unwrap_or_default();
                self.events.push_back(Event::ChildSaFailed { name, reason });
            }
            Some(Ok(n)) => self.install_child(n),
        }
    }

    fn install_child(&mut self, n: Negotiated) {
        let Some(keyed) = self.keyed.as_deref() else {
            return;
        };
        let ctx = KeyContext {
            prf: keyed.algs.prf,
            sk_d: &keyed.keys.sk_d,
            ni: &keyed.ni,
            nr: &keyed.nr,
            initiator: self.initiator,
            local: self.local,
            remote: self.remote,
            udp_encap: keyed.nat_detected,
        };
        let name = n.config.name.clone();
        match n.into_child_sa(ctx) {
            Some(sa) => {
                self.children.push(InstalledChild {
                    name: sa.name.clone(),
                    inbound_spi: sa.inbound.spi,
                    outbound_spi: sa.outbound.spi,
                });
                self.events.push_back(Event::ChildSaEstablished(sa));
            }
            None => self.events.push_back(Event::ChildSaFailed {
                name,
                reason: Failure::Config {
                    what: "child SA keys could not be derived".into(),
                },
            }),
        }
    }

    fn remove_child(&mut self, inbound_spi: u32) {
        if let Some(at) = self
            .children
            .iter()
            .position(|c| c.inbound_spi == inbound_spi)
        {
            let c = self.children.remove(at);
            self.events.push_back(Event::ChildSaDeleted {
                name: c.name,
                inbound_spi: c.inbound_spi,
                outbound_spi: c.outbound_spi,
            });
        }
    }

    fn on_request(&mut self, now: Instant, msg: &Message, bytes: &[u8]) {
        match (&self.state, msg.exchange_type) {
            (State::ResponderInit, ExchangeType::IKE_SA_INIT) => {
                self.on_sa_init_request(msg, bytes)
            }
            (State::ResponderAuth, ExchangeType::IKE_AUTH) => self.on_auth_request(now, msg, bytes),
            (State::Established, ExchangeType::INFORMATIONAL) => {
                self.on_informational(now, msg, bytes)
            }
            (State::Established, ExchangeType::CREATE_CHILD_SA) => {
                self.on_create_child(now, msg, bytes)
            }
            _ => {}
        }
    }

    /// CREATE_CHILD_SA is not implemented yet: answered with NO_ADDITIONAL_SAS (§1.3).
    fn on_create_child(&mut self, now: Instant, msg: &Message, bytes: &[u8]) {
        if self.open(msg, bytes, now).is_some() {
            let n = NotifyPayload::new(
                rampart_wire::ike::iana::NotifyType::NO_ADDITIONAL_SAS,
                Vec::new(),
            );
            self.respond_encrypted(msg, &[Payload::Notify(n)]);
        }
    }

    fn on_sa_init_request(&mut self, msg: &Message, bytes: &[u8]) {
        let config = self.shared.config.clone();
        let ours: Vec<_> = config
            .connections
            .iter()
            .filter(|c| c.accepts_remote(self.remote.ip()))
            .flat_map(|c| c.ike_proposals.iter().cloned())
            .collect();
        let certreq = crate::cert::certreq_for(&config, self.remote.ip());
        let (spi_r, path) = (self.spi_r, self.path());
        match crate::sa_init::respond(&ours, &certreq, msg, bytes, spi_r, path, &self.shared.rng) {
            Ok((keyed, response)) => {
                self.keyed = Some(Box::new(keyed));
                self.state = State::ResponderAuth;
                self.exchanges.responded(msg.message_id, response.clone());
                self.transmit(response);
            }
            Err(refusal) => {
                self.transmit(refusal.response);
                match refusal.failure {
                    Some(f) => self.close(DownReason::Failed(f)),
                    None => self.close_silently(),
                }
            }
        }
    }

    fn on_auth_request(&mut self, now: Instant, msg: &Message, bytes: &[u8]) {
        let Some(payloads) = self.open(msg, bytes, now) else {
            return;
        };
        let Some(keyed) = self.keyed.as_deref() else {
            return;
        };
        let spis = self.shared.spis.clone();
        let outcome = crate::ike_auth::respond(
            &self.shared.config,
            self.remote.ip(),
            keyed,
            &payloads,
            || spis.child_spi().ok(),
        );
        match outcome {
            Ok(accepted) => {
                self.respond_encrypted(msg, &accepted.response);
                self.connection = Some(accepted.connection);
                let peer = accepted.peer.clone();
                self.establish(now, accepted.peer);
                if accepted.initial_contact {
                    self.events
                        .push_back(Event::InitialContact { peer_id: peer });
                }
                self.child_outcome(accepted.child);
            }
            Err(f) => {
                let ty = f
                    .notify()
                    .unwrap_or(rampart_wire::ike::iana::NotifyType::AUTHENTICATION_FAILED);
                self.respond_encrypted(msg, &[Payload::Notify(NotifyPayload::new(ty, Vec::new()))]);
                self.close(DownReason::Failed(f));
            }
        }
    }

    /// INFORMATIONAL requests (RFC 7296 §1.4): deletes and liveness checks.
    fn on_informational(&mut self, now: Instant, msg: &Message, bytes: &[u8]) {
        let Some(payloads) = self.open(msg, bytes, now) else {
            return;
        };
        if let Some(f) = crate::notify::auth_refused_after_the_fact(&payloads) {
            self.respond_encrypted(msg, &[]);
            self.close(DownReason::Failed(f));
            return;
        }
        let deletes: Vec<&DeletePayload> = payloads
            .iter()
            .filter_map(|p| match p {
                Payload::Delete(d) => Some(d),
                _ => None,
            })
            .collect();
        if deletes.iter().any(|d| d.protocol == ProtocolId::IKE) {
            // §1.4.1: answer with an empty INFORMATIONAL; the IKE SA and its children are gone.
            self.respond_encrypted(msg, &[]);
            self.close(DownReason::DeletedByPeer);
            return;
        }
        // §1.4.1: the peer names its inbound SPIs (our outbound); we answer with ours.
        let mut ours = Vec::new();
        for spi in deletes
            .iter()
            .filter(|d| d.protocol == ProtocolId::ESP)
            .filter_map(|d| d.child_spis())
            .flatten()
        {
            if let Some(c) = self.children.iter().find(|c| c.outbound_spi == spi) {
                ours.push(c.inbound_spi);
            }
        }
        let response: Vec<Payload> = if ours.is_empty() {
            Vec::new()
        } else {
            vec![Payload::Delete(DeletePayload::child(
                ProtocolId::ESP,
                &ours,
            ))]
        };
        self.respond_encrypted(msg, &response);
        for spi in ours {
            self.remove_child(spi);
        }
    }

    /// Sends the next queued local request if the window is free (§2.3, window size 1).
    fn drive(&mut self, now: Instant) {
        while self.is_established() && self.exchanges.can_send() {
            let Some(kind) = self.queued.pop_front() else {
                return;
            };
            let payloads = match kind {
                RequestKind::DeleteIke => vec![Payload::Delete(DeletePayload::ike())],
                RequestKind::DeleteChild(spi)
                    if self.children.iter().any(|c| c.inbound_spi == spi) =>
                {
                    vec![Payload::Delete(DeletePayload::child(
                        ProtocolId::ESP,
                        &[spi],
                    ))]
                }
                RequestKind::Dpd => Vec::new(),
                _ => continue,
            };
            self.send_encrypted_request(now, kind, ExchangeType::INFORMATIONAL, &payloads);
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

    fn transmit(&mut self, payload: Vec<u8>) {
        self.transmits.push_back(Transmit {
            local: self.local,
            remote: self.remote,
            payload,
        });
    }

    /// Ends the SA: child SAs deleted, `IkeSaDown`, the endpoint told (§1.4.1: deleting an IKE
    /// SA deletes its children).
    fn close(&mut self, reason: DownReason) {
        if self.down {
            return;
        }
        for c in core::mem::take(&mut self.children) {
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
        self.keyed = None;
        self.endpoint_events.push_back(EndpointEvent::Closed);
    }
}
