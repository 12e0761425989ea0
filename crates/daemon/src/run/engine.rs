//! The IKE engine driven over real sockets: the [`Endpoint`], the [`IkeSa`]s it routes to, the
//! SA table, and the connections to keep up (`start_action = "start"`). Every input follows the
//! engine's call order (`rampart_ike` module docs): feed the SA, then drain its transmits,
//! events, endpoint events (handed to [`Endpoint::handle_sa_event`]) and the IKE SAs a rekey
//! made, then ask for the next deadline.
//!
//! When an IKE SA goes down, what happens next depends on why (strongSwan's semantics):
//! - An *established* IKE SA whose peer stopped answering (a liveness check or any other request
//!   unanswered through every retransmission, RFC 7296 §2.4): the connection's `dpd_action`.
//!   `clear` closes and starts nothing, not even for `start_action = "start"` connections;
//!   `restart` initiates again at once with the children the SA had (then backs off, 2 s to
//!   60 s, while the peer stays silent); `trap` arms on-demand start for its children.
//! - Anything else (deleted by the peer, or a setup that failed or went unanswered): connections
//!   with `start` children are initiated again after a back-off; others stay down.
//!
//! The dead-peer decisions live in [`liveness`]; `reload` (and SIGHUP), which re-reads the
//! configuration file, in [`reload`] ([`Engine::reload`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use rampart_crypto::{SecureRandom, SystemRandom};
use rampart_ike::{
    Acquired, Connection, DatagramEvent, DownReason, Endpoint, EndpointEvent, Event, IkeSa,
    IkeSaHandle, Instant, RandomSpis, Transmit,
};
use serde_json::{Value, json};

use super::clock::Clock;
use super::control::{Request, error};
use super::dataplane::{DataPlane, DataPlaneEvent};
use super::log::log;
use super::sockets::{Datagram, Sockets};
use super::table::{ChildEntry, IkeEntry, IkeState, SaTable};
use super::trap::{Acquire, Trap};
use crate::config::{Config, ConnectionConfig, StartAction};

mod liveness;
mod reload;

/// First and longest wait before initiating a `start` connection again after it went down.
const BACKOFF_MIN: Duration = Duration::from_secs(2);
const BACKOFF_MAX: Duration = Duration::from_secs(60);

/// A connection to bring up and keep up: one with `start_action = "start"` children
/// (`persistent`), or one being restarted after its peer died (`dpd_action = "restart"`), until
/// its first child is back.
#[derive(Debug)]
struct Keep {
    /// The children to start: the first rides in IKE_AUTH, the others follow.
    children: Vec<String>,
    /// When to initiate again (after the IKE SA went down).
    retry_at: Option<Instant>,
    backoff: Duration,
    /// `down` was asked for: stay down until `up`.
    held_down: bool,
    /// Kept up for good (`start` children), not only until a restart succeeds.
    persistent: bool,
}

impl Keep {
    /// A connection to keep up with `children`, not held down, with the first back-off.
    fn new(children: Vec<String>, persistent: bool) -> Self {
        Self {
            children,
            retry_at: None,
            backoff: BACKOFF_MIN,
            held_down: false,
            persistent,
        }
    }

    /// The entry for a connection's `start` children, if it has any.
    fn for_start_children(c: &ConnectionConfig) -> Option<Self> {
        let children: Vec<String> = c
            .children
            .iter()
            .filter(|ch| ch.start_action == StartAction::Start)
            .map(|ch| ch.name.clone())
            .collect();
        (!children.is_empty()).then(|| Self::new(children, true))
    }
}

/// What draining one IKE SA produced.
struct Drained {
    transmits: Vec<Transmit>,
    events: Vec<Event>,
    endpoint_events: Vec<EndpointEvent>,
    spawned: Vec<(IkeSaHandle, IkeSa)>,
}

impl Drained {
    fn is_empty(&self) -> bool {
        self.transmits.is_empty()
            && self.events.is_empty()
            && self.endpoint_events.is_empty()
            && self.spawned.is_empty()
    }
}

/// The engine and its state.
pub(crate) struct Engine {
    config: Arc<Config>,
    clock: Clock,
    endpoint: Endpoint,
    connections: Vec<Arc<Connection>>,
    sas: BTreeMap<IkeSaHandle, IkeSa>,
    table: SaTable,
    keep: HashMap<String, Keep>,
    /// SAs given commands while another was being drained: drive them next.
    pending: Vec<IkeSaHandle>,
    /// Where child SAs are installed; `None` when the TUN device could not be opened.
    dataplane: Option<DataPlane>,
    /// Connections whose children are armed to come up on demand (`start_action = "trap"`, or
    /// `dpd_action = "trap"` after their peer died), see [`Engine::arm_traps`].
    trapped: std::collections::BTreeSet<String>,
    /// Shutting down ([`Engine::terminate_all`]): nothing starts any more, reloads included.
    stopping: bool,
}

impl Engine {
    /// The engine for `config`.
    pub(crate) fn new(config: Arc<Config>, clock: Clock) -> Result<Self, String> {
        let unix: rampart_ike::UnixTime = Arc::new(system_unix_time);
        let endpoint_config = Arc::new(config.endpoint_config(&unix));
        let connections = endpoint_config.connections.clone();
        let rng: Arc<dyn SecureRandom> = Arc::new(SystemRandom::new());
        let spis = Arc::new(RandomSpis::new(Arc::clone(&rng)));
        let endpoint =
            Endpoint::new(endpoint_config, rng, spis).map_err(|e| format!("randomness: {e}"))?;
        let keep = config
            .connections
            .iter()
            .filter_map(|c| Some((c.name.clone(), Keep::for_start_children(c)?)))
            .collect();
        Ok(Self {
            config,
            clock,
            endpoint,
            connections,
            sas: BTreeMap::new(),
            table: SaTable::default(),
            keep,
            pending: Vec::new(),
            dataplane: None,
            trapped: std::collections::BTreeSet::new(),
            stopping: false,
        })
    }

    /// Hands the engine the data plane that child SAs are installed in from now on, with the
    /// configuration's traps armed.
    pub(crate) fn set_dataplane(&mut self, dp: DataPlane) {
        self.dataplane = Some(dp);
        self.sync_traps();
    }

    /// Acts on what the data plane reported: acquires start children on demand, expired
    /// byte/packet lifetimes rekey or delete them.
    pub(crate) fn dataplane_events(&mut self, sockets: &Sockets) {
        let Some(dp) = &mut self.dataplane else {
            return;
        };
        for e in dp.take_events() {
            match e {
                DataPlaneEvent::Acquire(a) => self.acquire(sockets, a),
                DataPlaneEvent::SoftExpired { in_spi } => {
                    self.child_expired(sockets, in_spi, false);
                }
                DataPlaneEvent::HardExpired { in_spi } => {
                    self.child_expired(sockets, in_spi, true);
                }
            }
        }
    }

    /// On-demand start (RFC 4301 §5.2 step 3a): on the connection's IKE SA with the peer if
    /// there is one, else on a new one.
    fn acquire(&mut self, sockets: &Sockets, a: Acquire) {
        let Some(conn) = self
            .connections
            .iter()
            .find(|c| c.name == a.connection)
            .cloned()
        else {
            return;
        };
        let now = self.clock.now();
        match self
            .endpoint
            .acquire(now, conn, &a.child, a.local, a.remote)
        {
            Ok(Acquired::Existing(h)) => {
                if let Some(sa) = self.sas.get_mut(&h) {
                    if let Err(e) = sa.acquire(now, &a.child, a.local, a.remote) {
                        log!(Warn, "{}: acquire for {}: {e}", a.connection, a.child);
                    }
                    self.drive(sockets, h);
                }
            }
            Ok(Acquired::Initiated(h, sa)) => {
                log!(
                    Info,
                    "{}: traffic {} -> {} needs child {}: initiating to {}",
                    a.connection,
                    a.local.addrs().start(),
                    a.remote.addrs().start(),
                    a.child,
                    sa.remote_addr()
                );
                self.adopt(sockets, h, *sa, &a.connection);
            }
            Ok(_) => {}
            Err(e) => log!(Error, "{}: cannot start on demand: {e}", a.connection),
        }
    }

    /// A child's byte or packet limit in the data plane: soft rekeys, hard deletes
    /// (RFC 4301 §4.4.2.1).
    fn child_expired(&mut self, sockets: &Sockets, in_spi: u32, hard: bool) {
        let Some(h) = self.table.children.get(&in_spi).map(|c| c.ike) else {
            return;
        };
        let now = self.clock.now();
        if let Some(sa) = self.sas.get_mut(&h) {
            log!(
                Info,
                "child SA {in_spi:08x}_i reached its {} byte/packet limit",
                if hard { "hard" } else { "soft" }
            );
            if hard {
                sa.child_hard_expired(now, in_spi);
            } else {
                sa.child_soft_expired(now, in_spi);
            }
            self.drive(sockets, h);
        }
    }

    /// The data plane, when there is one.
    pub(crate) fn dataplane_mut(&mut self) -> Option<&mut DataPlane> {
        self.dataplane.as_mut()
    }

    /// Now, on the engine's clock.
    pub(crate) fn now(&self) -> Instant {
        self.clock.now()
    }

    /// The engine's connections.
    pub(crate) fn connections(&self) -> &[Arc<Connection>] {
        &self.connections
    }

    /// Initiates every connection with `start` children, and arms those with `trap` children.
    pub(crate) fn start(&mut self, sockets: &Sockets) {
        let names: Vec<(String, String)> = self
            .keep
            .iter()
            .filter_map(|(n, k)| Some((n.clone(), k.children.first()?.clone())))
            .collect();
        for (conn, child) in names {
            let _ = self.initiate(sockets, &conn, Some(&child));
        }
        let config = Arc::clone(&self.config);
        for c in &config.connections {
            if c.children
                .iter()
                .any(|ch| ch.start_action == StartAction::Trap)
            {
                self.arm_traps(&c.name);
            }
        }
    }

    fn initiate(
        &mut self,
        sockets: &Sockets,
        conn: &str,
        child: Option<&str>,
    ) -> Result<(), String> {
        let Some(c) = self.connections.iter().find(|c| c.name == conn).cloned() else {
            return Err(format!("no connection named \"{conn}\""));
        };
        let now = self.clock.now();
        match self.endpoint.initiate(now, c, child) {
            Ok((h, sa)) => {
                log!(Info, "{conn}: initiating to {}", sa.remote_addr());
                self.adopt(sockets, h, sa, conn);
                Ok(())
            }
            Err(e) => {
                log!(Error, "{conn}: cannot initiate: {e}");
                Err(e.to_string())
            }
        }
    }

    /// Keeps a new IKE SA, records it in the table and drains it.
    fn adopt(&mut self, sockets: &Sockets, h: IkeSaHandle, sa: IkeSa, name: &str) {
        self.record(h, &sa, name);
        self.sas.insert(h, sa);
        self.drive(sockets, h);
    }

    /// Records a new IKE SA in the table.
    fn record(&mut self, h: IkeSaHandle, sa: &IkeSa, name: &str) {
        let now = self.clock.now();
        let up = sa.is_established();
        self.table.ike.insert(
            h,
            IkeEntry {
                name: name.to_owned(),
                spi_i: sa.spi_i(),
                spi_r: sa.spi_r(),
                initiator: sa.is_initiator(),
                local: sa.local_addr(),
                remote: sa.remote_addr(),
                state: if up {
                    IkeState::Established
                } else {
                    IkeState::Connecting
                },
                established_at: up.then_some(now),
                nat_detected: false,
                peer_id: None,
            },
        );
    }

    /// Routes a datagram to its IKE SA (or a new responder SA) and drives it.
    pub(crate) fn handle_datagram(&mut self, sockets: &Sockets, d: Datagram) {
        let now = self.clock.now();
        match self
            .endpoint
            .handle_datagram(now, d.local, d.remote, &d.bytes)
        {
            Some(DatagramEvent::ForSa(h)) => {
                if let Some(sa) = self.sas.get_mut(&h) {
                    sa.handle_datagram(now, d.local, d.remote, &d.bytes);
                    self.drive(sockets, h);
                }
            }
            Some(DatagramEvent::NewSa(h, sa)) => {
                log!(Debug, "new IKE SA from {}", d.remote);
                self.adopt(sockets, h, *sa, "");
            }
            Some(_) | None => {}
        }
        while let Some(t) = self.endpoint.poll_transmit() {
            send(sockets, &t);
        }
    }

    /// Runs the timers that are due: the SAs' and the restarts'.
    pub(crate) fn handle_timeouts(&mut self, sockets: &Sockets) {
        let now = self.clock.now();
        let due: Vec<IkeSaHandle> = self
            .sas
            .iter()
            .filter(|(_, sa)| sa.poll_timeout().is_some_and(|t| t <= now))
            .map(|(h, _)| *h)
            .collect();
        for h in due {
            if let Some(sa) = self.sas.get_mut(&h) {
                sa.handle_timeout(now);
                self.drive(sockets, h);
            }
        }
        let retry: Vec<(String, String)> = self
            .keep
            .iter_mut()
            .filter(|(_, k)| k.retry_at.is_some_and(|t| t <= now) && !k.held_down)
            .filter_map(|(n, k)| {
                k.retry_at = None;
                Some((n.clone(), k.children.first()?.clone()))
            })
            .collect();
        for (conn, child) in retry {
            let _ = self.initiate(sockets, &conn, Some(&child));
        }
    }

    /// The earliest deadline of any SA or restart.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let sas = self.sas.values().filter_map(IkeSa::poll_timeout);
        let keep = self
            .keep
            .values()
            .filter(|k| !k.held_down)
            .filter_map(|k| k.retry_at);
        sas.chain(keep).min()
    }

    /// Deletes every IKE SA (shutdown) and starts nothing again.
    pub(crate) fn terminate_all(&mut self, sockets: &Sockets) {
        self.stopping = true;
        for k in self.keep.values_mut() {
            k.held_down = true;
        }
        let now = self.clock.now();
        let handles: Vec<IkeSaHandle> = self.sas.keys().copied().collect();
        for h in handles {
            if let Some(sa) = self.sas.get_mut(&h) {
                sa.terminate(now);
                self.drive(sockets, h);
            }
        }
    }

    /// Whether no IKE SA is left.
    pub(crate) fn is_idle(&self) -> bool {
        self.sas.is_empty()
    }

    /// Answers a control request (docs/control-protocol.md).
    pub(crate) fn control(&mut self, req: Request, sockets: &Sockets) -> Value {
        let now = self.clock.now();
        match req {
            Request::Status => json!({
                "ok": true,
                "pid": std::process::id(),
                "uptime_secs": now.saturating_duration_since(Instant::ZERO).as_secs(),
                "config": self.config.file.display().to_string(),
                "retransmission": self.retransmission_json(),
                "connections": self.connections_json(),
                "ike_sas": self.sa_json(now),
                "dataplane": self.dataplane.as_ref().map(DataPlane::stats_json),
            }),
            Request::SaList => json!({ "ok": true, "ike_sas": self.sa_json(now) }),
            Request::Up(name) => self.up(sockets, &name),
            Request::Down(name) => self.down(sockets, &name),
            Request::Reload => self.reload(sockets),
            Request::ExportKeys => self
                .table
                .export_keys(self.config.daemon.dangerous_allow_key_export, &self.sas),
        }
    }

    /// The SA table with the data plane's counters.
    fn sa_json(&self, now: Instant) -> Value {
        let mut v = self.table.to_json(now);
        if let Some(dp) = &self.dataplane {
            dp.annotate(&mut v);
        }
        v
    }

    /// `up NAME`: a connection (with its first `start` child, else its first child), or one
    /// child (on an established IKE SA of its connection when there is one).
    fn up(&mut self, sockets: &Sockets, name: &str) -> Value {
        if let Some(c) = self.config.connection(name) {
            let child = self
                .keep
                .get(name)
                .and_then(|k| k.children.first().cloned())
                .or_else(|| c.children.first().map(|ch| ch.name.clone()));
            if let Some(k) = self.keep.get_mut(name) {
                k.held_down = false;
                k.retry_at = None;
                k.backoff = BACKOFF_MIN;
            }
            return match self.initiate(sockets, name, child.as_deref()) {
                Ok(()) => json!({ "ok": true, "initiated": name }),
                Err(e) => error(&e),
            };
        }
        let Some(conn) = self
            .config
            .connections
            .iter()
            .find(|c| c.children.iter().any(|ch| ch.name == name))
            .map(|c| c.name.clone())
        else {
            return error(&format!("no connection or child named \"{name}\""));
        };
        let now = self.clock.now();
        let existing = self
            .table
            .ike
            .iter()
            .find(|(_, e)| e.name == conn && e.state == IkeState::Established)
            .map(|(h, _)| *h);
        if let Some(h) = existing {
            if let Some(sa) = self.sas.get_mut(&h) {
                if let Err(e) = sa.create_child(now, name) {
                    return error(&e.to_string());
                }
                self.drive(sockets, h);
                return json!({ "ok": true, "initiated": name });
            }
        }
        match self.initiate(sockets, &conn, Some(name)) {
            Ok(()) => json!({ "ok": true, "initiated": name }),
            Err(e) => error(&e),
        }
    }

    /// `down NAME`: deletes a connection's IKE SAs (and keeps it down), or a child's SAs.
    fn down(&mut self, sockets: &Sockets, name: &str) -> Value {
        let now = self.clock.now();
        if self.config.connection(name).is_some() {
            if let Some(k) = self.keep.get_mut(name) {
                k.held_down = true;
                k.retry_at = None;
            }
            let deleted = self.delete_connection(sockets, name);
            return json!({ "ok": true, "ike_sas_deleted": deleted });
        }
        let children: Vec<(IkeSaHandle, u32)> = self
            .table
            .children
            .values()
            .filter(|c| c.name == name)
            .map(|c| (c.ike, c.spi_in))
            .collect();
        if children.is_empty() {
            return error(&format!("no SA named \"{name}\""));
        }
        for &(h, spi) in &children {
            if let Some(sa) = self.sas.get_mut(&h) {
                sa.delete_child(now, spi);
                self.drive(sockets, h);
            }
        }
        json!({ "ok": true, "child_sas_deleted": children.len() })
    }

    /// Deletes every IKE SA of connection `name` (INFORMATIONAL Delete, RFC 7296 §1.4.1);
    /// returns how many.
    fn delete_connection(&mut self, sockets: &Sockets, name: &str) -> usize {
        let now = self.clock.now();
        let handles: Vec<IkeSaHandle> = self
            .table
            .ike
            .iter()
            .filter(|(_, e)| e.name == name)
            .map(|(h, _)| *h)
            .collect();
        for &h in &handles {
            if let Some(sa) = self.sas.get_mut(&h) {
                sa.terminate(now);
                if let Some(e) = self.table.ike.get_mut(&h) {
                    e.state = IkeState::Deleting;
                }
                self.drive(sockets, h);
            }
        }
        handles.len()
    }

    /// Drains IKE SA `h` (and the SAs its rekeys made), in the engine's call order, until it
    /// has nothing more to say.
    fn drive(&mut self, sockets: &Sockets, h: IkeSaHandle) {
        let mut work = vec![h];
        while let Some(h) = work.pop().or_else(|| self.pending.pop()) {
            let Some(mut sa) = self.sas.remove(&h) else {
                continue;
            };
            loop {
                let d = drain(&mut sa);
                if d.is_empty() {
                    break;
                }
                for t in &d.transmits {
                    send(sockets, t);
                }
                for e in d.endpoint_events {
                    self.endpoint.handle_sa_event(h, e);
                }
                let name = self.name_of(h);
                for (nh, nsa) in d.spawned {
                    log!(Debug, "{name}: IKE SA made by a rekey");
                    self.record(nh, &nsa, &name);
                    self.sas.insert(nh, nsa);
                    work.push(nh);
                }
                for e in d.events {
                    self.on_event(h, &mut sa, e);
                }
            }
            if sa.is_closed() {
                self.table.ike.remove(&h);
                self.table.children.retain(|_, c| c.ike != h);
                if let Some(dp) = &mut self.dataplane {
                    let children = &self.table.children;
                    dp.retain(|spi| children.contains_key(&spi));
                }
            } else {
                if let Some(entry) = self.table.ike.get_mut(&h) {
                    entry.local = sa.local_addr();
                    entry.remote = sa.remote_addr();
                    entry.spi_r = sa.spi_r();
                }
                self.sas.insert(h, sa);
            }
        }
    }

    fn name_of(&self, h: IkeSaHandle) -> String {
        self.table
            .ike
            .get(&h)
            .map(|e| e.name.clone())
            .unwrap_or_default()
    }

    fn on_event(&mut self, h: IkeSaHandle, sa: &mut IkeSa, event: Event) {
        let now = self.clock.now();
        let name = self
            .table
            .ike
            .get(&h)
            .map(|e| e.name.clone())
            .unwrap_or_default();
        match event {
            Event::IkeSaUp {
                connection,
                spi_i,
                spi_r,
                peer_id,
                nat_detected,
                ..
            } => {
                log!(
                    Info,
                    "{connection}: IKE SA {spi_i:016x}_i {spi_r:016x}_r established with {} ({peer_id})",
                    sa.remote_addr()
                );
                if let Some(e) = self.table.ike.get_mut(&h) {
                    e.name.clone_from(&connection);
                    e.spi_i = spi_i;
                    e.spi_r = spi_r;
                    e.state = IkeState::Established;
                    e.established_at = Some(now);
                    e.nat_detected = nat_detected;
                    e.peer_id = Some(peer_id.to_string());
                }
                if let Some(k) = self.keep.get_mut(&connection) {
                    k.backoff = BACKOFF_MIN;
                }
            }
            Event::IkeSaDown {
                spi_i,
                spi_r,
                reason,
            } => {
                log!(
                    Info,
                    "{name}: IKE SA {spi_i:016x}_i {spi_r:016x}_r down: {reason}"
                );
                let was_up = self
                    .table
                    .ike
                    .get(&h)
                    .is_some_and(|e| e.established_at.is_some());
                if was_up && reason == DownReason::PeerUnreachable {
                    self.peer_dead(&name, h, now);
                } else {
                    self.schedule_restart(&name, h, now);
                }
            }
            Event::ChildSaEstablished(c) => {
                log!(
                    Info,
                    "{name}: child SA {} established, SPIs {:08x}_i {:08x}_o",
                    c.name,
                    c.inbound.spi,
                    c.outbound.spi
                );
                self.table.children.insert(
                    c.inbound.spi,
                    ChildEntry::new(h, &c, now, self.config.daemon.dangerous_allow_key_export),
                );
                if let Some(dp) = &mut self.dataplane {
                    dp.install(&name, &c, None, false, now);
                }
                self.start_more_children(sa, &name, &c.name);
            }
            Event::ChildSaFailed {
                name: child,
                reason,
            } => {
                log!(Warn, "{name}: child SA {child} failed: {reason}");
                self.restarted(&name, &child);
            }
            Event::ChildSaRekeyed {
                old_inbound_spi,
                new,
                initiator,
                ..
            } => {
                log!(
                    Info,
                    "{name}: child SA {} rekeyed, {old_inbound_spi:08x}_i -> {:08x}_i",
                    new.name,
                    new.inbound.spi
                );
                self.table.children.insert(
                    new.inbound.spi,
                    ChildEntry::new(h, &new, now, self.config.daemon.dangerous_allow_key_export),
                );
                if let Some(dp) = &mut self.dataplane {
                    dp.install(&name, &new, Some(old_inbound_spi), !initiator, now);
                }
            }
            Event::ChildSaDeleted {
                name: child,
                inbound_spi,
                outbound_spi,
            } => {
                log!(
                    Info,
                    "{name}: child SA {child} deleted, SPIs {inbound_spi:08x}_i {outbound_spi:08x}_o"
                );
                self.table.children.remove(&inbound_spi);
                if let Some(dp) = &mut self.dataplane {
                    dp.remove(inbound_spi);
                }
            }
            Event::IkeSaRekeyed {
                new_spi_i,
                new_spi_r,
                ..
            } => {
                let new = [new_spi_i, new_spi_r]
                    .into_iter()
                    .map(IkeSaHandle)
                    .find(|n| self.sas.contains_key(n));
                if let Some(new) = new {
                    log!(
                        Info,
                        "{name}: IKE SA rekeyed to {new_spi_i:016x}_i {new_spi_r:016x}_r"
                    );
                    for c in self.table.children.values_mut().filter(|c| c.ike == h) {
                        c.ike = new;
                    }
                    if let Some(e) = self.table.ike.get_mut(&h) {
                        e.state = IkeState::Deleting;
                    }
                }
            }
            Event::PeerAddressChanged { remote, .. } => {
                log!(Info, "{name}: peer moved to {remote}");
            }
            Event::InitialContact { peer_id } => {
                self.initial_contact(h, &peer_id.to_string());
            }
            other => log!(Debug, "{name}: {other:?}"),
        }
    }

    /// RFC 7296 §2.4: the peer has no other IKE SA with us, so older ones with it are stale.
    /// Called while `h` is being drained; the others are driven here.
    fn initial_contact(&mut self, h: IkeSaHandle, peer: &str) {
        let now = self.clock.now();
        let stale: Vec<IkeSaHandle> = self
            .table
            .ike
            .iter()
            .filter(|(o, e)| **o != h && e.peer_id.as_deref() == Some(peer))
            .map(|(o, _)| *o)
            .collect();
        for o in stale {
            log!(Info, "INITIAL_CONTACT from {peer}: deleting older IKE SA");
            if let Some(sa) = self.sas.get_mut(&o) {
                sa.terminate(now);
                self.pending.push(o);
            }
            if let Some(e) = self.table.ike.get_mut(&o) {
                e.state = IkeState::Deleting;
            }
            // The peer kept no state: the old child SAs carry nothing any more. Out of the data
            // plane now, so that the new ones take the traffic while the delete runs its course.
            self.table.children.retain(|_, c| c.ike != o);
            if let Some(dp) = &mut self.dataplane {
                let children = &self.table.children;
                dp.retain(|spi| children.contains_key(&spi));
            }
        }
    }

    /// After the first `start` child of a connection we initiated, asks for its other `start`
    /// children on the same IKE SA (CREATE_CHILD_SA, RFC 7296 §1.3.1).
    fn start_more_children(&mut self, sa: &mut IkeSa, conn: &str, first: &str) {
        let Some(k) = self.keep.get(conn) else { return };
        if !sa.is_initiator() || k.children.first().map(String::as_str) != Some(first) {
            return;
        }
        let now = self.clock.now();
        for child in &k.children[1..] {
            if let Err(e) = sa.create_child(now, child) {
                log!(Warn, "{conn}: cannot start child {child}: {e}");
            }
        }
        self.restarted(conn, first);
    }

    /// Whether connection `conn` has an IKE SA other than `h` that is not being deleted.
    fn has_other_live_sa(&self, conn: &str, h: IkeSaHandle) -> bool {
        self.table
            .ike
            .iter()
            .any(|(o, e)| *o != h && e.name == conn && e.state != IkeState::Deleting)
    }

    fn schedule_restart(&mut self, conn: &str, h: IkeSaHandle, now: Instant) {
        let others = self.has_other_live_sa(conn, h);
        if let Some(k) = self.keep.get_mut(conn) {
            if !k.held_down && !others {
                k.retry_at = Some(now.saturating_add(k.backoff));
                log!(
                    Info,
                    "{conn}: initiating again in {} s",
                    k.backoff.as_secs()
                );
                k.backoff = (k.backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

/// The traps of the `trapped` connections: their children that are meant to be up
/// (`start_action` "trap" or "start"; a "none" child only comes up when asked for).
fn traps_of(config: &Config, trapped: &std::collections::BTreeSet<String>) -> Vec<Trap> {
    config
        .connections
        .iter()
        .filter(|c| trapped.contains(&c.name))
        .flat_map(|c| {
            c.children
                .iter()
                .filter(|ch| ch.start_action != StartAction::None)
                .map(|ch| Trap {
                    connection: c.name.clone(),
                    child: ch.name.clone(),
                    local_ts: ch.local_ts.clone(),
                    remote_ts: ch.remote_ts.clone(),
                })
        })
        .collect()
}

fn drain(sa: &mut IkeSa) -> Drained {
    let mut d = Drained {
        transmits: Vec::new(),
        events: Vec::new(),
        endpoint_events: Vec::new(),
        spawned: Vec::new(),
    };
    while let Some(t) = sa.poll_transmit() {
        d.transmits.push(t);
    }
    while let Some(e) = sa.poll_event() {
        d.events.push(e);
    }
    while let Some(e) = sa.poll_endpoint_event() {
        d.endpoint_events.push(e);
    }
    while let Some(n) = sa.poll_new_ike_sa() {
        d.spawned.push(n);
    }
    d
}

fn send(sockets: &Sockets, t: &Transmit) {
    if let Err(e) = sockets.send(t.local, t.remote, &t.payload) {
        log!(Warn, "send {} -> {}: {e}", t.local, t.remote);
    }
}

/// The real clock for certificate validity: the daemon is the one place that reads it.
#[allow(clippy::disallowed_methods)]
fn system_unix_time() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
