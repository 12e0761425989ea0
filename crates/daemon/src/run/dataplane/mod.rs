//! The data plane of `rampart run` (DESIGN.md §2, §3): a TUN device the remote subnets are
//! routed into, the ESP SAs the IKE engine negotiated, and the packet paths between them, in
//! batches and (by default) in two worker threads ([`worker`]).
//!
//! - Outbound ([`outbound`]): a TUN read — up to 64 KiB of one TCP flow with TSO — is cut into
//!   segments; each goes through the SPD ([`super::policy`]) to the child SA whose selectors
//!   hold it, is protected in place (`transform.rs` buffer contract: the result is the whole
//!   outer datagram) and joins the batch: with UDP encapsulation (RFC 3948) the outer IP and UDP
//!   headers are stripped and the ESP bytes leave from the NAT-T socket as a GSO train; without,
//!   the whole IPv4 datagram leaves by the raw ESP socket (`IP_HDRINCL`). No SA: the packet goes
//!   to the main thread, where a trap covering it holds it and asks the engine to negotiate
//!   ([`super::trap`]); any other is dropped and counted.
//! - Inbound ([`inbound`]): ESP datagrams from UDP 4500 (GRO trains, `recvmmsg`) get a minimal
//!   outer IP and UDP header written in front (the transform wants the outer header), raw ESP
//!   arrives with its IPv4 header; the SA is found by SPI, unprotected, and the inner packets
//!   joined into super-packets ([`coalesce`]) for the TUN device.
//! - SAs ([`tables`]): the main thread edits its copy and publishes it whole; the paths read
//!   their snapshot once per batch. Counters are the SAs' atomics, exact across threads.
//!
//! Routes: every child's `remote_ts` prefixes (tunnel and transport mode) are routed into the
//! TUN device in a table of the daemon's own, which a `not fwmark` rule sends the host's
//! traffic to, and not the daemon's own marked sockets ([`super::routing`]).
//! Lifetimes: time is the IKE engine's (it rekeys and deletes by the clock); the byte and packet
//! limits (`life_bytes`, `life_packets`: hard; soft at 90 % of them, as a rekey trigger) are
//! counted here, and their expiry reported to the engine as [`DataPlaneEvent`]s.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};

use rampart_dataplane::Timestamp;
use rampart_dataplane::lifetime::SaEvent;
use rampart_dataplane::snapshot::SnapshotCell;
use rampart_ike::{ChildSa, Instant};
use rampart_sys::netlink::Netlink;
use rampart_sys::poll::Waker;
use rampart_sys::raw::RawEspSocket;
use rampart_sys::rtnl::LinkChange;
use rampart_sys::tun::{Tun, TunOptions};
use rampart_sys::udp::UdpSocket;
use serde_json::Value;

use super::clock::Clock;
use super::log::log;
use super::policy::Policies;
use super::routing::Routing;
use super::sockets::{self, Datagram, NATT_PORT, Sockets};
use super::trap::{Acquire, Held, Trap, Traps};
use crate::config::Config;
use headers::inner_addrs;
use inbound::RxPath;
use outbound::{Senders, TxPath};
use tables::{ChildLimits, OutboundEntry, Tables};
use worker::{RxSources, Workers};

mod coalesce;
mod headers;
mod inbound;
mod outbound;
mod tables;
mod worker;

/// The TUN device's name.
pub(crate) const TUN_NAME: &str = "rampart0";
/// The TUN device's MTU: room for the ESP, UDP and outer IP overhead under a 1500-byte path.
pub(crate) const TUN_MTU: u32 = 1400;
/// The most data-plane worker threads (transmit workers + the receive worker).
const MAX_WORKERS: usize = 8;
/// Socket buffer size of the raw ESP socket: room for bursts (no GRO there).
const RAW_BUFFER_BYTES: usize = 8 << 20;
/// Headroom kept in front of a packet for the outer headers.
const HEADROOM: usize = 128;
/// Packet buffer size: the largest datagram plus the headroom and trailer room.
const BUF_LEN: usize = 65536 + HEADROOM + 256;

/// What the data plane asks of the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DataPlaneEvent {
    /// A packet hit a trap with no SA: negotiate the child.
    Acquire(Acquire),
    /// A child's soft byte/packet limit was reached (either direction): rekey it.
    SoftExpired {
        /// The child's inbound SPI.
        in_spi: u32,
    },
    /// A child's hard limit was reached: it carries no more traffic; delete it.
    HardExpired {
        /// The child's inbound SPI.
        in_spi: u32,
    },
}

/// What a packet path hands the main thread (the IKE engine's thread).
#[derive(Debug)]
enum ToMain {
    /// A packet with no SA: held for a trap, or dropped and counted.
    NoSa {
        packet: Vec<u8>,
        src: IpAddr,
        dst: IpAddr,
    },
    /// A lifetime event for the engine.
    Event(DataPlaneEvent),
    /// A non-ESP datagram from a NAT-T socket: IKE or a keepalive.
    Ike(Datagram),
    /// The child standing by (by inbound SPI) received a packet: it takes over from the old one.
    EndStandby(u32),
}

/// A packet path's end of the channel to the main thread, remembering whether it sent
/// anything (a worker then rings the main loop's waker, once per batch).
struct MainLink {
    tx: Sender<ToMain>,
    notified: bool,
}

impl MainLink {
    fn new(tx: Sender<ToMain>) -> Self {
        Self {
            tx,
            notified: false,
        }
    }

    fn send(&mut self, m: ToMain) {
        // The receiver lives as long as the data plane, which outlives its paths.
        let _ = self.tx.send(m);
        self.notified = true;
    }

    fn take_notified(&mut self) -> bool {
        std::mem::take(&mut self.notified)
    }
}

/// Drops outside any SA, counted by every path.
#[derive(Debug, Default)]
struct Stats {
    no_sa_out: AtomicU64,
    unknown_spi_in: AtomicU64,
    send_errors: AtomicU64,
    bad_tun_packets: AtomicU64,
    /// TUN reads that were TSO/USO super-packets.
    tun_gso_reads: AtomicU64,
    /// Coalesced super-packets written to the TUN device.
    tun_gso_writes: AtomicU64,
}

/// What the packet paths share with the main thread, read-only but for atomics.
struct Shared {
    stats: Stats,
}

/// The TUN device, the installed SAs and the packet paths.
pub(crate) struct DataPlane {
    tun: Arc<Tun>,
    raw4: Option<Arc<RawEspSocket>>,
    /// The raw IPv6 ESP socket (outer IPv6 without UDP encapsulation).
    raw6: Option<Arc<RawEspSocket>>,
    /// The routes and rule into the TUN device; removed when the data plane drops.
    routing: Routing,
    /// The tables as the main thread edits them; published whole into `cell`.
    tables: Tables,
    cell: SnapshotCell<Tables>,
    shared: Arc<Shared>,
    /// Per child, by (connection, child) name: child names are unique only within their
    /// connection.
    limits: HashMap<(String, String), ChildLimits>,
    traps: Traps,
    events: Vec<DataPlaneEvent>,
    from_paths: Receiver<ToMain>,
    /// IKE datagrams the paths found on the NAT-T sockets, for the engine.
    ike: Vec<Datagram>,
    paths: Paths,
    /// Sends what waited in a trap queue (on the main thread, beside the workers).
    held_tx: TxPath,
    clock: Clock,
}

/// Where the packet paths run.
enum Paths {
    /// In the event loop, called on readiness of the TUN device and the sockets.
    Inline { tx: Box<TxPath>, rx: Box<RxPath> },
    /// In worker threads ([`worker`]); stopped when the data plane is dropped.
    Threaded {
        /// Held to keep them running.
        _workers: Workers,
    },
}

fn stamp(now: Instant) -> Timestamp {
    Timestamp::from_nanos(now.as_nanos())
}

/// Turns the transform's lifetime events into the engine's, naming the child by its inbound
/// SPI (`child_of` maps the SA's own SPI to it), and sends them to the main thread.
fn report_sa_events(
    events: &mut Vec<SaEvent>,
    to_main: &mut MainLink,
    child_of: impl Fn(u32) -> u32,
) {
    for e in events.drain(..) {
        let ev = match e {
            SaEvent::SoftExpired { spi, .. } => DataPlaneEvent::SoftExpired {
                in_spi: child_of(spi.0),
            },
            // Sequence exhaustion also stops the SA (RFC 4303 §3.3.3): a rekey is due.
            SaEvent::HardExpired { spi, .. } | SaEvent::SequenceExhausted { spi } => {
                DataPlaneEvent::HardExpired {
                    in_spi: child_of(spi.0),
                }
            }
            _ => continue,
        };
        to_main.send(ToMain::Event(ev));
    }
}

/// Opens the TUN device in virtio-net header mode (TSO and checksum offloads on) with `queues`
/// queues (multi-queue when more than one), sets its MTU and brings it up.
fn open_tun(queues: usize) -> io::Result<Vec<Tun>> {
    let opts = TunOptions {
        vnet_hdr: true,
        ..TunOptions::default()
    };
    let tun = if queues > 1 {
        Tun::open_queues(TUN_NAME, queues, &opts)?
    } else {
        vec![Tun::open(TUN_NAME, &opts)?]
    };
    let first = tun
        .first()
        .ok_or_else(|| io::Error::other("no TUN queue"))?;
    Netlink::open()?.set_link(
        first.ifindex()?,
        &LinkChange {
            up: Some(true),
            mtu: Some(TUN_MTU),
        },
    )?;
    Ok(tun)
}

impl DataPlane {
    /// Opens the TUN device (MTU 1400, up, offloads on), routes every tunnel child's remote
    /// selectors into it and opens the raw IPv4 ESP socket (a failure of the last is logged:
    /// UDP-encapsulated SAs still work). ESP-in-UDP leaves by handles on `sockets`' NAT-T
    /// sockets.
    ///
    /// With `waker` (the event loop's) and more than one core the packet paths run in worker
    /// threads ([`worker`]; `RAMPART_DP_THREADS=0` keeps them inline).
    pub(crate) fn open(
        config: &Config,
        sockets: &Sockets,
        clock: Clock,
        waker: Option<Arc<Waker>>,
    ) -> io::Result<Self> {
        let workers = if waker.is_some() { worker_threads() } else { 0 };
        // One TUN queue per transmit worker (the kernel spreads flows over them).
        let queues: Vec<Arc<Tun>> = open_tun(workers.saturating_sub(1).max(1))?
            .into_iter()
            .map(Arc::new)
            .collect();
        let tun = Arc::clone(&queues[0]);
        let ifindex = tun.ifindex()?;
        let mut nl = Netlink::open()?;
        let limits = child_limits(config);
        // Routes of every child (tunnel and transport) in the daemon's table, and the
        // `not fwmark` rule (run/routing.rs).
        let routing = Routing::install(config, ifindex, &mut nl);
        // One raw ESP socket per family, marked (run/sockets.rs), with room for bursts.
        let raw = |v6: bool| {
            sockets::raw_esp(v6)
                .inspect_err(|e| log!(Warn, "raw ESP socket (v6: {v6}): {e}: ESP-in-UDP only"))
                .ok()
                .inspect(|r| r.set_buffer_bytes(RAW_BUFFER_BYTES))
                .map(Arc::new)
        };
        let (raw4, raw6) = (raw(false), raw(true));
        let shared = Arc::new(Shared {
            stats: Stats::default(),
        });
        let tables = Tables::new(Policies::build(config).map_err(io::Error::other)?);
        let cell = SnapshotCell::new(tables.clone());
        let (to_main, from_paths) = channel();
        let new_tx = |tun: &Arc<Tun>| -> io::Result<TxPath> {
            let senders = Senders {
                natt: natt_handles(sockets)?,
                raw4: raw4.clone(),
                raw6: raw6.clone(),
            };
            Ok(TxPath::new(
                Arc::clone(tun),
                senders,
                cell.reader(),
                Arc::clone(&shared),
                MainLink::new(to_main.clone()),
            ))
        };
        let held_tx = new_tx(&tun)?;
        let mut txs = queues.iter().map(new_tx).collect::<io::Result<Vec<_>>>()?;
        let rx = RxPath::new(
            Arc::clone(&tun),
            cell.reader(),
            Arc::clone(&shared),
            MainLink::new(to_main),
        );
        let paths = match waker {
            Some(waker) if workers > 0 => {
                let sources = RxSources {
                    natt: natt_handles(sockets)?,
                    raw: [raw4.clone(), raw6.clone()].into_iter().flatten().collect(),
                };
                let n = txs.len();
                let w = Workers::start(txs, rx, sources, clock, waker)?;
                log!(
                    Info,
                    "data plane: {n} transmit worker(s) and a receive worker"
                );
                Paths::Threaded { _workers: w }
            }
            _ => Paths::Inline {
                tx: Box::new(txs.remove(0)),
                rx: Box::new(rx),
            },
        };
        Ok(Self {
            tun,
            raw4,
            raw6,
            routing,
            tables,
            cell,
            shared,
            limits,
            traps: Traps::default(),
            events: Vec::new(),
            from_paths,
            ike: Vec::new(),
            paths,
            held_tx,
            clock,
        })
    }

    /// Whether the packet paths run in worker threads: the event loop must then leave the TUN
    /// device, the raw ESP socket and the NAT-T sockets to them, and collect IKE datagrams
    /// with [`Self::take_ike`] when its waker rings.
    pub(crate) fn threaded(&self) -> bool {
        matches!(self.paths, Paths::Threaded { .. })
    }

    /// The IKE datagrams (and keepalives) the receive worker found on the NAT-T sockets; also
    /// takes in everything else the workers reported.
    pub(crate) fn take_ike(&mut self) -> Vec<Datagram> {
        self.drain();
        std::mem::take(&mut self.ike)
    }

    /// The TUN device, to register with the poller.
    pub(crate) fn tun(&self) -> &Tun {
        &self.tun
    }

    /// The raw IPv4 ESP socket, to register with the poller.
    pub(crate) fn raw4(&self) -> Option<&RawEspSocket> {
        self.raw4.as_deref()
    }

    /// The raw IPv6 ESP socket, to register with the poller.
    pub(crate) fn raw6(&self) -> Option<&RawEspSocket> {
        self.raw6.as_deref()
    }

    /// After a reload: brings the routes to what `new` plans ([`Routing::update`]) and takes
    /// `new`'s replay windows, lifetimes and SPD for packets and SAs from now on.
    pub(crate) fn reconfigure(&mut self, new: &Config) {
        self.limits = child_limits(new);
        match Policies::build(new) {
            Ok(p) => {
                self.tables.policies = Arc::new(p);
                self.publish();
            }
            Err(e) => log!(Error, "reload: SPD unchanged: {e}"),
        }
        let routes = self.tun.ifindex().and_then(|i| Ok((i, Netlink::open()?)));
        match routes {
            Ok((ifindex, mut nl)) => self.routing.update(new, ifindex, &mut nl),
            Err(e) => log!(Warn, "reload: routes unchanged: {e}"),
        }
    }

    /// Installs both SAs of a new child (DESIGN.md §2: one event, two SAD entries). A child
    /// that replaces `old_in_spi` (a rekey) takes over its outbound traffic — at once when we
    /// initiated the rekey, else (`rekey_responder`) only once the new SA carries a packet in
    /// or the old one is deleted: the peer installs the new SA when our response reaches it,
    /// and what we sent on it before then would be lost. The old inbound SA stays until its
    /// delete.
    pub(crate) fn install(
        &mut self,
        connection: &str,
        c: &ChildSa,
        old_in_spi: Option<u32>,
        rekey_responder: bool,
        now: Instant,
    ) {
        let key = (connection.to_owned(), c.name.clone());
        let limits = self.limits.get(&key).copied().unwrap_or_default();
        match tables::build(c, limits, now) {
            Ok((inb, out)) => {
                let t = &mut self.tables;
                t.outbound.retain(|o| o.sa.in_spi != c.inbound.spi);
                let mut entry = OutboundEntry {
                    sa: Arc::new(out),
                    standby: None,
                };
                match old_in_spi {
                    Some(old)
                        if rekey_responder && t.outbound.iter().any(|o| o.sa.in_spi == old) =>
                    {
                        entry.standby = Some(old);
                    }
                    Some(old) => t.outbound.retain(|o| o.sa.in_spi != old),
                    None => {}
                }
                t.inbound.insert(c.inbound.spi, Arc::new(inb));
                t.outbound.push(entry);
                // Recomputes the standby list.
                t.activate_standby(|_| false);
                self.publish();
            }
            Err(e) => log!(Error, "{}: cannot install child SA: {e}", c.name),
        }
    }

    /// Removes a child's SAs; a rekeyed child standing by for it takes over.
    pub(crate) fn remove(&mut self, in_spi: u32) {
        let t = &mut self.tables;
        t.inbound.remove(&in_spi);
        t.outbound.retain(|o| o.sa.in_spi != in_spi);
        t.activate_standby(|o| o.standby == Some(in_spi));
        self.publish();
    }

    /// Keeps only the children whose inbound SPI `keep` accepts (after an IKE SA closed).
    pub(crate) fn retain(&mut self, keep: impl Fn(u32) -> bool) {
        let t = &mut self.tables;
        t.inbound.retain(|spi, _| keep(*spi));
        t.outbound.retain(|o| keep(o.sa.in_spi));
        let live: Vec<u32> = t.outbound.iter().map(|o| o.sa.in_spi).collect();
        t.activate_standby(|o| o.standby.is_some_and(|old| !live.contains(&old)));
        self.publish();
    }

    /// Hands the packet paths the edited tables (DESIGN.md §2: swapped whole).
    fn publish(&mut self) {
        self.cell.publish(Arc::new(self.tables.clone()));
    }

    /// Reads, protects and sends what the TUN device has (bounded).
    pub(crate) fn tun_readable(&mut self, now: Instant) {
        if let Paths::Inline { tx, .. } = &mut self.paths {
            tx.tun_readable(stamp(now));
        }
        self.drain();
    }

    /// Reads what the raw ESP socket of one family has and delivers it (bounded).
    pub(crate) fn raw_readable(&mut self, ipv6: bool, now: Instant) {
        let raw = if ipv6 { &self.raw6 } else { &self.raw4 };
        if let (Paths::Inline { rx, .. }, Some(raw)) = (&mut self.paths, raw) {
            rx.raw_readable(raw, stamp(now));
        }
        self.drain();
    }

    /// Reads what the NAT-T socket `sock` has (bounded): ESP is delivered here, the IKE
    /// datagrams (and keepalives) are returned for the engine.
    pub(crate) fn udp_readable(&mut self, sock: &UdpSocket, now: Instant) -> Vec<Datagram> {
        if let Paths::Inline { rx, .. } = &mut self.paths {
            rx.udp_readable(sock, stamp(now));
        }
        self.take_ike()
    }

    /// Takes in what the packet paths reported: holds trapped packets, queues events.
    fn drain(&mut self) {
        let now = self.clock.now();
        while let Ok(m) = self.from_paths.try_recv() {
            match m {
                ToMain::NoSa { packet, src, dst } => {
                    match self.traps.hold(&packet, src, dst, now) {
                        Held::NoTrap => {
                            self.shared.stats.no_sa_out.fetch_add(1, Ordering::Relaxed);
                        }
                        Held::Queued(Some(a)) => self.events.push(DataPlaneEvent::Acquire(a)),
                        Held::Queued(None) | Held::QueueFull => {}
                    }
                }
                ToMain::Event(e) => self.events.push(e),
                ToMain::Ike(d) => self.ike.push(d),
                ToMain::EndStandby(spi) => {
                    self.tables
                        .activate_standby(|o| o.sa.in_spi == spi && o.standby.is_some());
                    self.publish();
                }
            }
        }
    }

    /// Replaces the trap policies (children with `start_action = "trap"`, or armed by a DPD
    /// action); packets already waiting for a trap that stays keep waiting.
    pub(crate) fn set_traps(&mut self, traps: Vec<Trap>) {
        self.traps.set(traps);
    }

    /// What the engine must act on since the last call.
    pub(crate) fn take_events(&mut self) -> Vec<DataPlaneEvent> {
        self.drain();
        std::mem::take(&mut self.events)
    }

    /// Sends the packets that waited for an SA which is now installed (call after each round
    /// of engine work; cheap when nothing waits).
    pub(crate) fn flush_held(&mut self, now: Instant) {
        if !self.traps.has_queued() {
            return;
        }
        let tables = &self.tables;
        let ready = self.traps.release(now, |p| {
            inner_addrs(p).is_some_and(|(s, d)| tables.outbound_for(s, d).is_some())
        });
        self.held_tx.send_plain(&ready, stamp(now));
        self.drain();
    }

    /// Adds each child's packet and byte counters (keyed by its inbound SPI, as `spi_in`
    /// shows it) to the SA table's JSON, and the data plane's own drops.
    pub(crate) fn annotate(&self, ike_sas: &mut Value) {
        let Some(list) = ike_sas.as_array_mut() else {
            return;
        };
        for child in list
            .iter_mut()
            .filter_map(|i| i.get_mut("children").and_then(Value::as_array_mut))
            .flatten()
        {
            let Some(spi) = child["spi_in"]
                .as_str()
                .and_then(|s| u32::from_str_radix(s, 16).ok())
            else {
                continue;
            };
            if let Some(i) = self.tables.inbound.get(&spi) {
                let c = i.state().counters();
                child["in_packets"] = c.packets().into();
                child["in_bytes"] = c.bytes().into();
                child["in_drops"] = c.drops().total().into();
            }
            if let Some(o) = self.tables.outbound_of(spi) {
                let c = o.sa.state().counters();
                child["out_packets"] = c.packets().into();
                child["out_bytes"] = c.bytes().into();
            }
        }
    }

    /// The data plane's drops outside any SA, as JSON.
    pub(crate) fn stats_json(&self) -> Value {
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let st = &self.shared.stats;
        serde_json::json!({
            "tun": self.tun.name(),
            "no_sa_out": n(&st.no_sa_out),
            "unknown_spi_in": n(&st.unknown_spi_in),
            "send_errors": n(&st.send_errors),
            "bad_tun_packets": n(&st.bad_tun_packets),
            "tun_gso_reads": n(&st.tun_gso_reads),
            "tun_gso_writes": n(&st.tun_gso_writes),
            "trap_dropped": self.traps.dropped,
            "policy_drops": self.tables.policies.drops_json(),
            "policy_bypassed": self.tables.policies.bypassed(),
            "traps": self
                .traps
                .traps()
                .map(|t| format!("{}/{}", t.connection, t.child))
                .collect::<Vec<_>>(),
        })
    }
}

/// The data-plane settings of every child of `config`, by (connection, child) name.
fn child_limits(config: &Config) -> HashMap<(String, String), ChildLimits> {
    config
        .connections
        .iter()
        .flat_map(|c| c.children.iter().map(move |ch| (c, ch)))
        .map(|(c, ch)| ((c.name.clone(), ch.name.clone()), ChildLimits::of(ch)))
        .collect()
}

/// Worker threads to run the packet paths in: `RAMPART_DP_THREADS` if set (0: inline in the
/// event loop; n >= 2: n - 1 transmit workers, each on its own TUN queue, and one receive
/// worker; 1 counts as 2), else the machine's cores capped at [`MAX_WORKERS`] (inline on one).
fn worker_threads() -> usize {
    let env = std::env::var("RAMPART_DP_THREADS").ok();
    if let Some(n) = env.and_then(|v| v.parse::<usize>().ok()) {
        return if n == 0 { 0 } else { n.clamp(2, MAX_WORKERS) };
    }
    match std::thread::available_parallelism().map_or(1, std::num::NonZero::get) {
        1 => 0,
        n => n.min(MAX_WORKERS),
    }
}

/// Handles on every NAT-T socket, for sending ESP from the packet paths.
fn natt_handles(sockets: &Sockets) -> io::Result<Vec<UdpSocket>> {
    sockets
        .iter()
        .filter(|s| s.local_addr().port() == NATT_PORT)
        .map(UdpSocket::try_clone)
        .collect()
}
