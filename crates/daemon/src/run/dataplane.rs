//! The first data plane of `rampart run` (DESIGN.md §2), single-threaded in the event loop: a
//! TUN device the remote subnets are routed into, the ESP SAs the IKE engine negotiated, and the
//! packet paths between them.
//!
//! - Outbound: a packet read from the TUN device goes to the child SA whose remote traffic
//!   selectors hold its destination (and local ones its source), is protected in place
//!   (`transform.rs` buffer contract: the result is the whole outer datagram) and sent: with UDP
//!   encapsulation (RFC 3948) the outer IP and UDP headers are stripped and the ESP bytes leave
//!   from the NAT-T socket; without, the whole IPv4 or IPv6 datagram leaves by the raw ESP
//!   socket of its family (`IP_HDRINCL` / `IPV6_HDRINCL`). No SA: a packet a trap covers waits
//!   for its SA and the engine is asked to negotiate it ([`super::trap`]); any other is dropped
//!   and counted.
//! - Inbound: an ESP datagram from UDP 4500 gets a minimal outer IP and UDP header written in
//!   front of it (the transform wants the outer header), a raw ESP packet arrives with its IPv4
//!   header, or without its IPv6 header, which is rebuilt ([`super::framing`]); the SA is
//!   found by SPI, unprotected, and the inner packet written to the TUN device.
//!
//! Routes: at startup every child's `remote_ts` prefixes (tunnel and transport mode) are routed
//! into the TUN device in a table of the daemon's own, which a `not fwmark` rule sends the
//! host's traffic to, and not the daemon's own marked sockets ([`super::routing`]).
//! Lifetimes: time is the IKE engine's (it rekeys and deletes by the clock); the byte and packet
//! limits (`life_bytes`, `life_packets`: hard; soft at 90 % of them, as a rekey trigger) are
//! counted here, and their expiry reported to the engine as [`DataPlaneEvent`]s.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use rampart_dataplane::esp::{EspTransform, InboundEspSa, OutboundEspSa};
use rampart_dataplane::lifetime::{LifetimeLimits, Lifetimes as DpLifetimes, SaEvent};
use rampart_dataplane::sa::{
    InboundSaState, Mode as DpMode, OutboundSaState, SaConfig, Spi, UdpEncap,
};
use rampart_dataplane::{
    InboundTransform, InboundVerdict, OutboundTransform, OutboundVerdict, PacketBuf, Timestamp,
};
use rampart_ike::{ChildSa, Instant, Mode};
use rampart_policy::TrafficSelector;
use rampart_policy::traffic_selector::list_contains_addr;
use rampart_sys::netlink::Netlink;
use rampart_sys::raw::RawEspSocket;
use rampart_sys::rtnl::LinkChange;
use rampart_sys::tun::{Tun, TunOptions};
use rampart_sys::{RecvMeta, Transmit};
use rampart_wire::ike::iana::ProtocolId;
use serde_json::Value;

use super::framing;
use super::log::log;
use super::policy::{Outbound as PolicyVerdict, Policies};
use super::routing::Routing;
use super::sockets::{self, Sockets};
use super::trap::{Acquire, Held, Trap, Traps};
use crate::config::{ChildSaConfig, Config};

/// The TUN device's name.
pub(crate) const TUN_NAME: &str = "rampart0";
/// The TUN device's MTU: room for the ESP, UDP and outer IP overhead under a 1500-byte path.
pub(crate) const TUN_MTU: u32 = 1400;
/// Headroom kept in front of a packet for the outer headers.
const HEADROOM: usize = 128;
/// Packet buffer size: the largest datagram plus the headroom and trailer room.
const BUF_LEN: usize = 65536 + HEADROOM + 256;
/// Packets handled per readiness event before going back to the loop.
const BURST: usize = 64;

/// One child SA's outbound side.
struct Outbound {
    /// The child's inbound SPI: what the engine's events name the child by.
    in_spi: u32,
    local_ts: Vec<TrafficSelector>,
    remote_ts: Vec<TrafficSelector>,
    sa: OutboundEspSa,
    /// `Some((local, remote))` socket addresses for ESP-in-UDP.
    encap: Option<(SocketAddr, SocketAddr)>,
    /// `Some(old)`: a rekey we answered; the old child (inbound SPI `old`) keeps sending until
    /// this one's inbound SA carries a packet or the old one is deleted (see [`Self::standby`]).
    standby: Option<u32>,
}

/// Packets and drops outside any SA.
#[derive(Debug, Default)]
struct Stats {
    no_sa_out: u64,
    unknown_spi_in: u64,
    send_errors: u64,
}

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

/// The per-child settings the data plane applies (from the configuration).
#[derive(Debug, Clone, Copy)]
struct ChildLimits {
    replay_window: u32,
    lifetimes: DpLifetimes,
}

impl ChildLimits {
    fn of(c: &ChildSaConfig) -> Self {
        // The soft limit at 90 % of the hard one asks for the rekey in time (RFC 4301
        // §4.4.2.1: soft before hard); strongSwan derives rekey_bytes the same way.
        let soft = |n: Option<u64>| n.map(|n| n - n / 10);
        Self {
            replay_window: c.replay_window,
            lifetimes: DpLifetimes {
                soft: LifetimeLimits {
                    bytes: soft(c.life_bytes),
                    packets: soft(c.life_packets),
                    time: None,
                },
                hard: LifetimeLimits {
                    bytes: c.life_bytes,
                    packets: c.life_packets,
                    time: None,
                },
            },
        }
    }
}

/// The TUN device, the installed SAs and the packet buffers.
pub(crate) struct DataPlane {
    tun: Tun,
    raw4: Option<RawEspSocket>,
    /// The raw IPv6 ESP socket (v6 hook: outer IPv6 without UDP encapsulation).
    raw6: Option<RawEspSocket>,
    /// The routes and rule into the TUN device; removed when the data plane drops.
    routing: Routing,
    inbound: HashMap<u32, Arc<InboundEspSa>>,
    outbound: Vec<Outbound>,
    limits: HashMap<String, ChildLimits>,
    policies: Policies,
    traps: Traps,
    events: Vec<DataPlaneEvent>,
    sa_events: Vec<SaEvent>,
    buf: PacketBuf,
    stats: Stats,
}

fn stamp(now: Instant) -> Timestamp {
    Timestamp::from_nanos(now.as_nanos())
}

impl DataPlane {
    /// Opens the TUN device (MTU 1400, up), routes every child's remote selectors into it
    /// ([`Routing`]) and opens the raw IPv4 and IPv6 ESP sockets (a failure of those is logged:
    /// UDP-encapsulated SAs still work).
    pub(crate) fn open(config: &Config) -> io::Result<Self> {
        let tun = Tun::open(TUN_NAME, &TunOptions::default())?;
        let ifindex = tun.ifindex()?;
        let mut nl = Netlink::open()?;
        nl.set_link(
            ifindex,
            &LinkChange {
                up: Some(true),
                mtu: Some(TUN_MTU),
            },
        )?;
        let mut limits = HashMap::new();
        for c in config.connections.iter().flat_map(|c| c.children.iter()) {
            limits.insert(c.name.clone(), ChildLimits::of(c));
        }
        // Transport-mode route setup: routes of every child (tunnel and transport) in the
        // daemon's table, and the `not fwmark` rule (run/routing.rs).
        let routing = Routing::install(config, ifindex, &mut nl);
        // One raw ESP socket per family, marked (run/sockets.rs).
        let raw = |v6: bool| {
            sockets::raw_esp(v6)
                .inspect_err(|e| log!(Warn, "raw ESP socket (v6: {v6}): {e}: ESP-in-UDP only"))
                .ok()
        };
        let (raw4, raw6) = (raw(false), raw(true));
        Ok(Self {
            tun,
            raw4,
            raw6,
            routing,
            inbound: HashMap::new(),
            outbound: Vec::new(),
            limits,
            policies: Policies::build(config).map_err(io::Error::other)?,
            traps: Traps::default(),
            events: Vec::new(),
            sa_events: Vec::new(),
            buf: PacketBuf::new(BUF_LEN, HEADROOM),
            stats: Stats::default(),
        })
    }

    /// After a reload: brings the routes to what `new` plans ([`Routing::update`]) and takes
    /// `new`'s replay windows, lifetimes and SPD for packets and SAs from now on.
    pub(crate) fn reconfigure(&mut self, new: &Config) {
        self.limits = new
            .connections
            .iter()
            .flat_map(|c| c.children.iter())
            .map(|ch| (ch.name.clone(), ChildLimits::of(ch)))
            .collect();
        match Policies::build(new) {
            Ok(p) => self.policies = p,
            Err(e) => log!(Error, "reload: SPD unchanged: {e}"),
        }
        let routes = self.tun.ifindex().and_then(|i| Ok((i, Netlink::open()?)));
        match routes {
            Ok((ifindex, mut nl)) => self.routing.update(new, ifindex, &mut nl),
            Err(e) => log!(Warn, "reload: routes unchanged: {e}"),
        }
    }

    /// The TUN device, to register with the poller.
    pub(crate) fn tun(&self) -> &Tun {
        &self.tun
    }

    /// The raw ESP socket, to register with the poller.
    pub(crate) fn raw4(&self) -> Option<&RawEspSocket> {
        self.raw4.as_ref()
    }

    /// The raw IPv6 ESP socket, to register with the poller.
    pub(crate) fn raw6(&self) -> Option<&RawEspSocket> {
        self.raw6.as_ref()
    }

    /// Installs both SAs of a new child (DESIGN.md §2: one event, two SAD entries). A child
    /// that replaces `old_in_spi` (a rekey) takes over its outbound traffic — at once when we
    /// initiated the rekey, else (`rekey_responder`) only once the new SA carries a packet in
    /// or the old one is deleted: the peer installs the new SA when our response reaches it,
    /// and what we sent on it before then would be lost. The old inbound SA stays until its
    /// delete.
    pub(crate) fn install(
        &mut self,
        c: &ChildSa,
        old_in_spi: Option<u32>,
        rekey_responder: bool,
        now: Instant,
    ) {
        match self.build(c, now) {
            Ok((inb, mut out)) => {
                self.outbound.retain(|o| o.in_spi != c.inbound.spi);
                match old_in_spi {
                    Some(old)
                        if rekey_responder && self.outbound.iter().any(|o| o.in_spi == old) =>
                    {
                        out.standby = Some(old);
                    }
                    Some(old) => self.outbound.retain(|o| o.in_spi != old),
                    None => {}
                }
                self.inbound.insert(c.inbound.spi, Arc::new(inb));
                self.outbound.push(out);
            }
            Err(e) => log!(Error, "{}: cannot install child SA: {e}", c.name),
        }
    }

    /// Removes a child's SAs; a rekeyed child standing by for it takes over.
    pub(crate) fn remove(&mut self, in_spi: u32) {
        self.inbound.remove(&in_spi);
        self.outbound.retain(|o| o.in_spi != in_spi);
        self.activate_standby(|o| o.standby == Some(in_spi));
    }

    /// Keeps only the children whose inbound SPI `keep` accepts (after an IKE SA closed).
    pub(crate) fn retain(&mut self, keep: impl Fn(u32) -> bool) {
        self.inbound.retain(|spi, _| keep(*spi));
        self.outbound.retain(|o| keep(o.in_spi));
        let live: Vec<u32> = self.outbound.iter().map(|o| o.in_spi).collect();
        self.activate_standby(|o| o.standby.is_some_and(|old| !live.contains(&old)));
    }

    /// Makes the standby children `which` selects the senders for their traffic, retiring the
    /// outbound SA each replaces.
    fn activate_standby(&mut self, which: impl Fn(&Outbound) -> bool) {
        let olds: Vec<u32> = self
            .outbound
            .iter_mut()
            .filter(|o| which(o))
            .filter_map(|o| o.standby.take())
            .collect();
        if !olds.is_empty() {
            self.outbound.retain(|o| !olds.contains(&o.in_spi));
        }
    }

    fn sa_config(c: &ChildSa, inbound: bool, limits: ChildLimits) -> SaConfig {
        let (spi, src, dst) = if inbound {
            (c.inbound.spi, c.remote_addr.ip(), c.local_addr.ip())
        } else {
            (c.outbound.spi, c.local_addr.ip(), c.remote_addr.ip())
        };
        let encap = c.udp_encap.map(|u| {
            let (s, d) = if inbound {
                (u.remote_port, u.local_port)
            } else {
                (u.local_port, u.remote_port)
            };
            UdpEncap {
                src_port: s,
                dst_port: d,
            }
        });
        SaConfig {
            spi: Spi(spi),
            protocol: ProtocolId::ESP,
            mode: match c.mode {
                Mode::Transport => DpMode::Transport,
                _ => DpMode::Tunnel,
            },
            encap,
            src,
            dst,
            esn: c.esn,
            replay_window: limits.replay_window,
            lifetimes: limits.lifetimes,
        }
    }

    fn build(&self, c: &ChildSa, now: Instant) -> Result<(InboundEspSa, Outbound), String> {
        let limits = self.limits.get(&c.name).copied().unwrap_or(ChildLimits {
            replay_window: 32,
            lifetimes: DpLifetimes::default(),
        });
        let keymat = |d: &rampart_ike::ChildSaDirection| {
            let mut k = d.encr_key.expose().to_vec();
            k.extend_from_slice(d.integ_key.expose());
            k
        };
        let mut kin = keymat(&c.inbound);
        let tin = EspTransform::new(c.encr, c.integ, &kin).map_err(|e| e.to_string());
        zeroize::Zeroize::zeroize(&mut kin);
        let mut kout = keymat(&c.outbound);
        let tout = EspTransform::new(c.encr, c.integ, &kout).map_err(|e| e.to_string());
        zeroize::Zeroize::zeroize(&mut kout);
        let t = stamp(now);
        let sin =
            InboundSaState::new(Self::sa_config(c, true, limits), t).map_err(|e| e.to_string())?;
        let sout = OutboundSaState::new(Self::sa_config(c, false, limits), t)
            .map_err(|e| e.to_string())?;
        // RFC 4301 §5.2 step 4: the inner packet must match the SA's selectors.
        let (lts, rts) = (c.local_ts.clone(), c.remote_ts.clone());
        let policy = move |p: &[u8]| {
            inner_addrs(p)
                .is_some_and(|(s, d)| list_contains_addr(&rts, s) && list_contains_addr(&lts, d))
        };
        let inb = InboundEspSa::new(sin, tin?)
            .map_err(|e| e.to_string())?
            .with_policy(Box::new(policy));
        let out = OutboundEspSa::new(sout, tout?).map_err(|e| e.to_string())?;
        let encap = c.udp_encap.map(|u| {
            (
                SocketAddr::new(c.local_addr.ip(), u.local_port),
                SocketAddr::new(c.remote_addr.ip(), u.remote_port),
            )
        });
        Ok((
            inb,
            Outbound {
                in_spi: c.inbound.spi,
                local_ts: c.local_ts.clone(),
                remote_ts: c.remote_ts.clone(),
                sa: out,
                encap,
                standby: None,
            },
        ))
    }

    /// Reads, protects and sends what the TUN device has (at most a burst).
    pub(crate) fn tun_readable(&mut self, sockets: &Sockets, now: Instant) {
        for _ in 0..BURST {
            self.buf.reset(HEADROOM);
            let n = match self.tun.read(self.buf.spare_mut()) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log!(Warn, "read {}: {e}", self.tun.name());
                    return;
                }
            };
            self.buf.set_len(n);
            self.send_buffered(sockets, now);
        }
    }

    /// The outbound SA for a packet from `src` to `dst`.
    fn outbound_for(&self, src: IpAddr, dst: IpAddr) -> Option<usize> {
        self.outbound.iter().position(|o| {
            o.standby.is_none()
                && list_contains_addr(&o.remote_ts, dst)
                && list_contains_addr(&o.local_ts, src)
        })
    }

    /// Protects and sends the plaintext packet in the buffer; without an SA, holds it for a
    /// trap or drops it.
    fn send_buffered(&mut self, sockets: &Sockets, now: Instant) {
        // RFC 4301 §5.1 step 1: DISCARD entries (and no entry) stop it here, BYPASS sends it on
        // as it is.
        match self.policies.outbound(self.buf.data()) {
            PolicyVerdict::Protect(_) => {}
            PolicyVerdict::Dropped => return,
            PolicyVerdict::Bypass => {
                if let Some((_, dst)) = inner_addrs(self.buf.data()) {
                    if let Err(e) = self.send_raw(dst) {
                        self.stats.send_errors += 1;
                        log!(Debug, "send bypassed packet: {e}");
                    }
                }
                return;
            }
        }
        let Some((src, dst)) = inner_addrs(self.buf.data()) else {
            return;
        };
        let Some(i) = self.outbound_for(src, dst) else {
            match self.traps.hold(self.buf.data(), src, dst, now) {
                Held::NoTrap => self.stats.no_sa_out += 1,
                Held::Queued(Some(a)) => self.events.push(DataPlaneEvent::Acquire(a)),
                Held::Queued(None) | Held::QueueFull => {}
            }
            return;
        };
        let o = &self.outbound[i];
        self.sa_events.clear();
        let verdict = o.sa.protect(&mut self.buf, stamp(now), &mut self.sa_events);
        let in_spi = o.in_spi;
        self.report_sa_events(|_| in_spi);
        if let OutboundVerdict::Drop(reason) = verdict {
            log!(Debug, "outbound packet dropped: {reason}");
            return;
        }
        let o = &self.outbound[i];
        let sent = match o.encap {
            Some((local, remote)) => {
                // Outer IP (with IPv6 extension headers in transport mode) and UDP headers.
                let Some(hl) = framing::udp_payload_offset(self.buf.data()) else {
                    return;
                };
                match self.buf.pull_front(hl) {
                    Ok(()) => sockets.send(local, remote, self.buf.data()),
                    Err(_) => return,
                }
            }
            None => {
                let dst = o.sa.state().config().dst;
                self.send_raw(dst)
            }
        };
        if let Err(e) = sent {
            self.stats.send_errors += 1;
            log!(Debug, "send ESP: {e}");
        }
    }

    /// Sends the whole IP datagram in the buffer to `dst` by the raw socket of its family
    /// (header included, as built; the socket's mark keeps it out of the tunnel routes).
    fn send_raw(&self, dst: IpAddr) -> io::Result<()> {
        let raw = if dst.is_ipv4() {
            &self.raw4
        } else {
            &self.raw6
        };
        match raw {
            Some(raw) => raw
                .send(&Transmit::new(SocketAddr::new(dst, 0), self.buf.data()))
                .map(|_| ()),
            None => Err(io::Error::other("no raw socket for this family")),
        }
    }

    /// Turns the transform's lifetime events into the engine's, naming the child by its
    /// inbound SPI (`child_of` maps the SA's own SPI to it).
    fn report_sa_events(&mut self, child_of: impl Fn(u32) -> u32) {
        for e in self.sa_events.drain(..) {
            match e {
                SaEvent::SoftExpired { spi, .. } => self.events.push(DataPlaneEvent::SoftExpired {
                    in_spi: child_of(spi.0),
                }),
                SaEvent::HardExpired { spi, .. } => self.events.push(DataPlaneEvent::HardExpired {
                    in_spi: child_of(spi.0),
                }),
                // Sequence exhaustion also stops the SA (RFC 4303 §3.3.3): a rekey is due.
                SaEvent::SequenceExhausted { spi } => {
                    self.events.push(DataPlaneEvent::HardExpired {
                        in_spi: child_of(spi.0),
                    });
                }
                _ => {}
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
        std::mem::take(&mut self.events)
    }

    /// Sends the packets that waited for an SA which is now installed (call after each round
    /// of engine work; cheap when nothing waits).
    pub(crate) fn flush_held(&mut self, sockets: &Sockets, now: Instant) {
        if !self.traps.has_queued() {
            return;
        }
        let outbound = &self.outbound;
        let ready = self.traps.release(now, |p| {
            inner_addrs(p).is_some_and(|(s, d)| {
                outbound.iter().any(|o| {
                    list_contains_addr(&o.remote_ts, d) && list_contains_addr(&o.local_ts, s)
                })
            })
        });
        for p in ready {
            self.buf.reset(HEADROOM);
            if self.buf.spare_mut().len() < p.len() {
                continue;
            }
            self.buf.spare_mut()[..p.len()].copy_from_slice(&p);
            self.buf.set_len(p.len());
            self.send_buffered(sockets, now);
        }
    }

    /// Handles one ESP datagram that arrived on a NAT-T socket (`local` ← `remote`).
    pub(crate) fn udp_esp(
        &mut self,
        local: SocketAddr,
        remote: SocketAddr,
        esp: &[u8],
        now: Instant,
    ) {
        if frame_udp_esp(&mut self.buf, local, remote, esp).is_some() {
            self.deliver(now);
        }
    }

    /// Reads what the raw ESP socket of one family has and delivers it.
    pub(crate) fn raw_readable(&mut self, ipv6: bool, now: Instant) {
        for _ in 0..BURST {
            let raw = if ipv6 { &self.raw6 } else { &self.raw4 };
            let Some(raw) = raw else { return };
            self.buf.reset(HEADROOM);
            let mut meta = [RecvMeta::default()];
            let n = {
                let mut bufs = [self.buf.spare_mut()];
                match raw.recv_batch(&mut meta, &mut bufs) {
                    Ok(1) if !meta[0].truncated => meta[0].len,
                    Ok(1) => continue,
                    Ok(_) => return,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => return,
                }
            };
            self.buf.set_len(n);
            // Rebuild the v6 outer header on raw receive: the socket strips it.
            if ipv6 {
                let (IpAddr::V6(src), Some(IpAddr::V6(dst))) = (meta[0].src.ip(), meta[0].dst)
                else {
                    continue;
                };
                if framing::push_ipv6_esp_header(&mut self.buf, src, dst).is_none() {
                    continue;
                }
            }
            self.deliver(now);
        }
    }

    /// Unprotects the outer datagram in the buffer and writes the inner packet to the TUN.
    fn deliver(&mut self, now: Instant) {
        let spi = match rampart_dataplane::batch::inbound_spi(self.buf.data()) {
            Ok(spi) => spi,
            Err(reason) => {
                log!(Debug, "inbound ESP dropped: {reason}");
                return;
            }
        };
        let Some(sa) = self.inbound.get(&spi.0) else {
            self.stats.unknown_spi_in += 1;
            return;
        };
        self.sa_events.clear();
        let verdict = sa.unprotect(&mut self.buf, stamp(now), &mut self.sa_events);
        self.report_sa_events(|spi| spi);
        match verdict {
            InboundVerdict::Deliver => {
                // The peer sends on the new SA of a rekey we answered: it has it, so may we.
                if self.outbound.iter().any(|o| o.standby.is_some()) {
                    self.activate_standby(|o| o.in_spi == spi.0);
                }
                if let Err(e) = self.tun.write_packet(self.buf.data()) {
                    log!(Debug, "write {}: {e}", self.tun.name());
                }
            }
            InboundVerdict::Drop(reason) => log!(Debug, "SA {spi} dropped a packet: {reason}"),
        }
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
            if let Some(i) = self.inbound.get(&spi) {
                let c = i.state().counters();
                child["in_packets"] = c.packets().into();
                child["in_bytes"] = c.bytes().into();
                child["in_drops"] = c.drops().total().into();
            }
            if let Some(o) = self.outbound.iter().find(|o| o.in_spi == spi) {
                let c = o.sa.state().counters();
                child["out_packets"] = c.packets().into();
                child["out_bytes"] = c.bytes().into();
            }
        }
    }

    /// The data plane's drops outside any SA, as JSON.
    pub(crate) fn stats_json(&self) -> Value {
        serde_json::json!({
            "tun": self.tun.name(),
            "no_sa_out": self.stats.no_sa_out,
            "unknown_spi_in": self.stats.unknown_spi_in,
            "send_errors": self.stats.send_errors,
            "trap_dropped": self.traps.dropped,
            "policy_drops": self.policies.drops_json(),
            "policy_bypassed": self.policies.bypassed(),
            "traps": self
                .traps
                .traps()
                .map(|t| format!("{}/{}", t.connection, t.child))
                .collect::<Vec<_>>(),
        })
    }
}

/// Source and destination of an IPv4 or IPv6 packet, if its header is there.
fn inner_addrs(p: &[u8]) -> Option<(IpAddr, IpAddr)> {
    match p.first()? >> 4 {
        4 => {
            let s: [u8; 4] = p.get(12..16)?.try_into().ok()?;
            let d: [u8; 4] = p.get(16..20)?.try_into().ok()?;
            Some((IpAddr::from(s), IpAddr::from(d)))
        }
        6 => {
            let s: [u8; 16] = p.get(8..24)?.try_into().ok()?;
            let d: [u8; 16] = p.get(24..40)?.try_into().ok()?;
            Some((IpAddr::from(s), IpAddr::from(d)))
        }
        _ => None,
    }
}

/// Puts `esp` (a UDP payload from `remote` to `local`) into `buf` behind the outer IP and UDP
/// headers it had on the wire, as the inbound buffer contract wants; `None` if it does not fit.
fn frame_udp_esp(
    buf: &mut PacketBuf,
    local: SocketAddr,
    remote: SocketAddr,
    esp: &[u8],
) -> Option<()> {
    let hl = match local.ip() {
        IpAddr::V4(_) => 20 + 8,
        IpAddr::V6(_) => 40 + 8,
    };
    buf.set(HEADROOM, esp).ok()?;
    // `push_front` hands back the whole packet: the new header bytes come first.
    let hdr = buf.push_front(hl).ok()?.get_mut(..hl)?;
    write_outer(hdr, remote, local, esp.len());
    Some(())
}

/// Writes an outer IP header (RFC 791 / RFC 8200) and a UDP header (RFC 768, checksum 0: the
/// kernel checked it) for `payload_len` bytes of ESP from `src` to `dst` into `hdr`, which is
/// exactly 28 (IPv4) or 48 (IPv6) bytes. Mixed families cannot happen (one socket, one family).
fn write_outer(hdr: &mut [u8], src: SocketAddr, dst: SocketAddr, payload_len: usize) {
    let udp_len = payload_len + 8;
    let (ip, udp) = hdr.split_at_mut(hdr.len() - 8);
    match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            ip.fill(0);
            ip[0] = 0x45;
            let total = u16::try_from(udp_len + 20).unwrap_or(u16::MAX);
            ip[2..4].copy_from_slice(&total.to_be_bytes());
            ip[8] = 64;
            ip[9] = 17;
            ip[12..16].copy_from_slice(&s.octets());
            ip[16..20].copy_from_slice(&d.octets());
            let sum = ipv4_checksum(ip);
            ip[10..12].copy_from_slice(&sum.to_be_bytes());
        }
        (s, d) => {
            let to16 = |a: IpAddr| match a {
                IpAddr::V4(v) => v.to_ipv6_mapped().octets(),
                IpAddr::V6(v) => v.octets(),
            };
            ip.fill(0);
            ip[0] = 0x60;
            let plen = u16::try_from(udp_len).unwrap_or(u16::MAX);
            ip[4..6].copy_from_slice(&plen.to_be_bytes());
            ip[6] = 17;
            ip[7] = 64;
            ip[8..24].copy_from_slice(&to16(s));
            ip[24..40].copy_from_slice(&to16(d));
        }
    }
    udp[0..2].copy_from_slice(&src.port().to_be_bytes());
    udp[2..4].copy_from_slice(&dst.port().to_be_bytes());
    let ul = u16::try_from(udp_len).unwrap_or(u16::MAX);
    udp[4..6].copy_from_slice(&ul.to_be_bytes());
    udp[6..8].fill(0);
}

/// The IPv4 header checksum (RFC 791 §3.1): one's complement of the one's complement sum.
fn ipv4_checksum(h: &[u8]) -> u16 {
    let mut sum: u32 = h
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outer_header_for_udp_esp_is_valid_ipv4() {
        let mut h = [0u8; 28];
        let src: SocketAddr = "192.0.2.2:4500".parse().expect("literal");
        let dst: SocketAddr = "192.0.2.1:4500".parse().expect("literal");
        write_outer(&mut h, src, dst, 100);
        assert_eq!(h[0], 0x45);
        assert_eq!(u16::from_be_bytes([h[2], h[3]]), 128);
        assert_eq!(h[9], 17);
        // A header with its checksum in place sums to 0xffff (RFC 1071).
        assert_eq!(ipv4_checksum(&h[..20]), 0);
        assert_eq!(u16::from_be_bytes([h[24], h[25]]), 108);
        assert_eq!(&h[20..24], &[0x11, 0x94, 0x11, 0x94]);
        assert_eq!(framing::udp_payload_offset(&h), Some(28));
    }

    #[test]
    fn framed_udp_esp_is_located_by_the_data_plane() {
        let mut buf = PacketBuf::new(BUF_LEN, HEADROOM);
        let esp = [0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 0xaa, 0xbb];
        for (l, r) in [
            ("192.0.2.2:4500", "192.0.2.1:4500"),
            ("[2001:db8::2]:4500", "[2001:db8::1]:4501"),
        ] {
            let local: SocketAddr = l.parse().expect("literal");
            let remote: SocketAddr = r.parse().expect("literal");
            frame_udp_esp(&mut buf, local, remote, &esp).expect("fits");
            let spi = rampart_dataplane::batch::inbound_spi(buf.data()).expect("valid outer");
            assert_eq!(spi.0, 0x1234_5678);
            assert!(buf.data().ends_with(&esp));
            assert_eq!(inner_addrs(buf.data()), Some((remote.ip(), local.ip())));
        }
    }

    #[test]
    fn inner_addrs_reads_both_families_and_rejects_short() {
        let mut v4 = [0u8; 20];
        v4[0] = 0x45;
        v4[12..16].copy_from_slice(&[198, 51, 100, 10]);
        v4[16..20].copy_from_slice(&[203, 0, 113, 10]);
        let (s, d) = inner_addrs(&v4).expect("complete header");
        assert_eq!(s.to_string(), "198.51.100.10");
        assert_eq!(d.to_string(), "203.0.113.10");
        assert!(inner_addrs(&v4[..19]).is_none());
        assert!(inner_addrs(&[]).is_none());
        let mut v6 = [0u8; 40];
        v6[0] = 0x60;
        v6[23] = 1;
        v6[39] = 2;
        let (s, d) = inner_addrs(&v6).expect("complete header");
        assert_eq!((s.to_string(), d.to_string()), ("::1".into(), "::2".into()));
    }
}
