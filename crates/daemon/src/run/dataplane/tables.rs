//! The SA tables the packet paths read (DESIGN.md §2, §3): every installed child's inbound SA
//! by SPI and outbound SA by traffic selectors, built from the IKE engine's [`ChildSa`], and the
//! compiled SPD.
//!
//! A [`Tables`] value is immutable once published: the control plane (the main thread) builds
//! the next one — a copy of a few `Arc`s — and swaps it in whole through a
//! [`SnapshotCell`](rampart_dataplane::snapshot::SnapshotCell); each packet path holds a reader
//! and pays one atomic load per batch. The per-packet mutable state (sequence numbers, replay
//! windows, counters, lifetimes) lives in the SAs' own atomics, shared by every table that
//! holds them, so counters stay exact across swaps and threads.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use rampart_dataplane::esp::{EspTransform, InboundEspSa, OutboundEspSa};
use rampart_dataplane::lifetime::{LifetimeLimits, Lifetimes as DpLifetimes};
use rampart_dataplane::sa::{
    InboundSaState, Mode as DpMode, OutboundSaState, SaConfig, Spi, UdpEncap,
};
use rampart_ike::{ChildSa, Instant, Mode};
use rampart_policy::TrafficSelector;
use rampart_policy::traffic_selector::list_contains_addr;
use rampart_wire::ike::iana::ProtocolId;

use super::headers::inner_addrs;
use super::stamp;
use crate::config::ChildSaConfig;
use crate::run::policy::Policies;

/// One child SA's outbound side.
pub(super) struct OutboundSa {
    /// The child's inbound SPI: what the engine's events name the child by.
    pub(super) in_spi: u32,
    pub(super) local_ts: Vec<TrafficSelector>,
    pub(super) remote_ts: Vec<TrafficSelector>,
    pub(super) sa: OutboundEspSa,
    /// `Some((local, remote))` socket addresses for ESP-in-UDP.
    pub(super) encap: Option<(SocketAddr, SocketAddr)>,
    /// Set once the receive path asked the main thread to end this child's standby.
    pub(super) activation_asked: AtomicBool,
}

impl OutboundSa {
    /// Whether a packet from `src` to `dst` belongs to this child.
    pub(super) fn covers(&self, src: IpAddr, dst: IpAddr) -> bool {
        list_contains_addr(&self.remote_ts, dst) && list_contains_addr(&self.local_ts, src)
    }
}

/// An installed outbound SA and whether it stands by.
#[derive(Clone)]
pub(super) struct OutboundEntry {
    pub(super) sa: Arc<OutboundSa>,
    /// `Some(old)`: a rekey we answered; the old child (inbound SPI `old`) keeps sending until
    /// this one's inbound SA carries a packet or the old one is deleted (RFC 7296 §2.8).
    pub(super) standby: Option<u32>,
}

/// The installed SAs and the compiled SPD, swapped whole.
#[derive(Clone)]
pub(super) struct Tables {
    pub(super) inbound: HashMap<u32, Arc<InboundEspSa>>,
    pub(super) outbound: Vec<OutboundEntry>,
    pub(super) policies: Arc<Policies>,
    /// Inbound SPIs of the children standing by (checked per delivered packet, usually empty).
    pub(super) standby: Vec<u32>,
}

impl Tables {
    pub(super) fn new(policies: Policies) -> Self {
        Self {
            inbound: HashMap::new(),
            outbound: Vec::new(),
            policies: Arc::new(policies),
            standby: Vec::new(),
        }
    }

    /// The outbound SA for a packet from `src` to `dst` (not one standing by).
    pub(super) fn outbound_for(&self, src: IpAddr, dst: IpAddr) -> Option<&Arc<OutboundSa>> {
        self.outbound
            .iter()
            .find(|o| o.standby.is_none() && o.sa.covers(src, dst))
            .map(|o| &o.sa)
    }

    /// The outbound side of the child named by its inbound SPI.
    pub(super) fn outbound_of(&self, in_spi: u32) -> Option<&Arc<OutboundSa>> {
        self.outbound
            .iter()
            .find(|o| o.sa.in_spi == in_spi)
            .map(|o| &o.sa)
    }

    /// Makes the standby children `which` selects the senders for their traffic, retiring the
    /// outbound SA each replaces.
    pub(super) fn activate_standby(&mut self, which: impl Fn(&OutboundEntry) -> bool) {
        let olds: Vec<u32> = self
            .outbound
            .iter_mut()
            .filter(|o| which(o))
            .filter_map(|o| o.standby.take())
            .collect();
        if !olds.is_empty() {
            self.outbound.retain(|o| !olds.contains(&o.sa.in_spi));
        }
        self.standby = self
            .outbound
            .iter()
            .filter(|o| o.standby.is_some())
            .map(|o| o.sa.in_spi)
            .collect();
    }
}

/// The per-child settings the data plane applies (from the configuration).
#[derive(Debug, Clone, Copy)]
pub(super) struct ChildLimits {
    replay_window: u32,
    lifetimes: DpLifetimes,
}

impl Default for ChildLimits {
    fn default() -> Self {
        Self {
            replay_window: 32,
            lifetimes: DpLifetimes::default(),
        }
    }
}

impl ChildLimits {
    pub(super) fn of(c: &ChildSaConfig) -> Self {
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

/// Builds both SAs of a child (keys copied out of the IKE secrets and wiped after use).
pub(super) fn build(
    c: &ChildSa,
    limits: ChildLimits,
    now: Instant,
) -> Result<(InboundEspSa, OutboundSa), String> {
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
    let sin = InboundSaState::new(sa_config(c, true, limits), t).map_err(|e| e.to_string())?;
    let sout = OutboundSaState::new(sa_config(c, false, limits), t).map_err(|e| e.to_string())?;
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
        OutboundSa {
            in_spi: c.inbound.spi,
            local_ts: c.local_ts.clone(),
            remote_ts: c.remote_ts.clone(),
            sa: out,
            encap,
            activation_asked: AtomicBool::new(false),
        },
    ))
}
