//! The SA table the control socket shows: IKE SAs and their child SAs as the engine's events
//! reported them. The keys go to the data plane (`dataplane.rs`), not here.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use rampart_ike::{ChildSa, IkeSaHandle, Instant, Mode};
use serde_json::{Value, json};

/// What an IKE SA is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IkeState {
    /// IKE_SA_INIT / IKE_AUTH under way.
    Connecting,
    /// Authenticated.
    Established,
    /// Being deleted.
    Deleting,
}

/// One IKE SA.
#[derive(Debug, Clone)]
pub(crate) struct IkeEntry {
    pub(crate) name: String,
    pub(crate) spi_i: u64,
    pub(crate) spi_r: u64,
    pub(crate) initiator: bool,
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    pub(crate) state: IkeState,
    pub(crate) established_at: Option<Instant>,
    pub(crate) nat_detected: bool,
    pub(crate) peer_id: Option<String>,
}

/// One child SA (keys are not kept: the table is for display).
#[derive(Debug, Clone)]
pub(crate) struct ChildEntry {
    pub(crate) ike: IkeSaHandle,
    pub(crate) name: String,
    pub(crate) spi_in: u32,
    pub(crate) spi_out: u32,
    pub(crate) local_ts: Vec<String>,
    pub(crate) remote_ts: Vec<String>,
    pub(crate) mode: Mode,
    pub(crate) udp_encap: Option<(u16, u16)>,
    pub(crate) established_at: Instant,
}

impl ChildEntry {
    /// The entry for a child SA the engine reported.
    pub(crate) fn new(ike: IkeSaHandle, c: &ChildSa, now: Instant) -> Self {
        Self {
            ike,
            name: c.name.clone(),
            spi_in: c.inbound.spi,
            spi_out: c.outbound.spi,
            local_ts: c.local_ts.iter().map(ToString::to_string).collect(),
            remote_ts: c.remote_ts.iter().map(ToString::to_string).collect(),
            mode: c.mode,
            udp_encap: c.udp_encap.map(|u| (u.local_port, u.remote_port)),
            established_at: now,
        }
    }
}

/// IKE SAs by handle, child SAs by inbound SPI.
#[derive(Debug, Default)]
pub(crate) struct SaTable {
    pub(crate) ike: BTreeMap<IkeSaHandle, IkeEntry>,
    pub(crate) children: BTreeMap<u32, ChildEntry>,
}

fn age(now: Instant, at: Instant) -> u64 {
    now.saturating_duration_since(at).as_secs()
}

impl SaTable {
    /// The table as JSON: a list of IKE SAs, each with its children.
    pub(crate) fn to_json(&self, now: Instant) -> Value {
        let list: Vec<Value> = self
            .ike
            .iter()
            .map(|(h, e)| {
                let children: Vec<Value> = self
                    .children
                    .values()
                    .filter(|c| c.ike == *h)
                    .map(|c| child_json(c, now))
                    .collect();
                json!({
                    "name": e.name,
                    "spi_i": format!("{:016x}", e.spi_i),
                    "spi_r": format!("{:016x}", e.spi_r),
                    "initiator": e.initiator,
                    "local": e.local.to_string(),
                    "remote": e.remote.to_string(),
                    "state": match e.state {
                        IkeState::Connecting => "connecting",
                        IkeState::Established => "established",
                        IkeState::Deleting => "deleting",
                    },
                    "established_secs": e.established_at.map(|t| age(now, t)),
                    "nat_detected": e.nat_detected,
                    "peer_id": e.peer_id,
                    "children": children,
                })
            })
            .collect();
        Value::Array(list)
    }
}

fn child_json(c: &ChildEntry, now: Instant) -> Value {
    json!({
        "name": c.name,
        "spi_in": format!("{:08x}", c.spi_in),
        "spi_out": format!("{:08x}", c.spi_out),
        "local_ts": c.local_ts,
        "remote_ts": c.remote_ts,
        "mode": match c.mode {
            Mode::Tunnel => "tunnel",
            Mode::Transport => "transport",
        },
        "udp_encap": c.udp_encap.map(|(l, r)| json!({"local_port": l, "remote_port": r})),
        "established_secs": age(now, c.established_at),
    })
}
