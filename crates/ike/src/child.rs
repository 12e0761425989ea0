//! Child SA negotiation (RFC 7296 §1.2, §1.3.1, §2.9, §2.17), shared by IKE_AUTH and
//! CREATE_CHILD_SA: ESP proposals (with key exchange methods for PFS in CREATE_CHILD_SA),
//! traffic selector narrowing, USE_TRANSPORT_MODE (§1.3.1), SPIs and KEYMAT, ending in the
//! [`ChildSa`](crate::ChildSa) the data plane installs.

use std::net::SocketAddr;

use rampart_crypto::proposal::{ProposalSpec, describe_all};
use rampart_crypto::{EncrAlg, IntegAlg, PrfAlg, SecretBytes};
use rampart_policy::TrafficSelector;
use rampart_policy::pad::{Identity, Pad};
use rampart_policy::traffic_selector::{TsWire, covers, narrow_pair};
use rampart_wire::ike::iana::KeId;
use rampart_wire::ike::iana::{EsnId, ExchangeType, NotifyType, ProtocolId};
use rampart_wire::ike::{NotifyPayload, Payload, SaPayload, TsPayload, TsRange};

use crate::config::{ChildConfig, Mode};
use crate::event::{ChildSa, ChildSaDirection};
use crate::failure::Failure;
use crate::keys::derive_child_keys;
use crate::proposal::{choose, describe_offer, sa_payload};

/// A policy traffic selector as a TS payload entry.
pub(crate) fn ts_to_wire(ts: &TrafficSelector) -> rampart_wire::ike::TrafficSelector {
    let w = ts.to_wire();
    match (w.start_addr, w.end_addr) {
        (std::net::IpAddr::V4(s), std::net::IpAddr::V4(e)) => {
            rampart_wire::ike::TrafficSelector::Ipv4(TsRange {
                ip_protocol: w.ip_protocol_id,
                start_port: w.start_port,
                end_port: w.end_port,
                start_addr: s,
                end_addr: e,
            })
        }
        (s, e) => rampart_wire::ike::TrafficSelector::Ipv6(TsRange {
            ip_protocol: w.ip_protocol_id,
            start_port: w.start_port,
            end_port: w.end_port,
            start_addr: to_v6(s),
            end_addr: to_v6(e),
        }),
    }
}

fn to_v6(a: std::net::IpAddr) -> std::net::Ipv6Addr {
    match a {
        std::net::IpAddr::V6(a) => a,
        std::net::IpAddr::V4(a) => a.to_ipv6_mapped(),
    }
}

/// A TS payload's selectors as policy selectors; `None` if one is malformed or of a type we
/// do not support.
pub(crate) fn ts_from_wire(p: &TsPayload) -> Option<Vec<TrafficSelector>> {
    p.selectors
        .iter()
        .map(|s| {
            let w = match s {
                rampart_wire::ike::TrafficSelector::Ipv4(r) => TsWire {
                    ts_type: 7,
                    ip_protocol_id: r.ip_protocol,
                    start_port: r.start_port,
                    end_port: r.end_port,
                    start_addr: r.start_addr.into(),
                    end_addr: r.end_addr.into(),
                },
                rampart_wire::ike::TrafficSelector::Ipv6(r) => TsWire {
                    ts_type: 8,
                    ip_protocol_id: r.ip_protocol,
                    start_port: r.start_port,
                    end_port: r.end_port,
                    start_addr: r.start_addr.into(),
                    end_addr: r.end_addr.into(),
                },
                rampart_wire::ike::TrafficSelector::Unknown { .. } => return None,
            };
            TrafficSelector::from_wire(&w).ok()
        })
        .collect()
}

fn ts_payload(list: &[TrafficSelector]) -> TsPayload {
    TsPayload {
        selectors: list.iter().map(ts_to_wire).collect(),
    }
}

fn show(list: &[TrafficSelector]) -> String {
    let v: Vec<String> = list.iter().map(ToString::to_string).collect();
    if v.is_empty() {
        "nothing".into()
    } else {
        v.join(", ")
    }
}

/// ESP proposals as offered in IKE_AUTH: without key exchange methods, which the first child
/// SA never uses (§1.2).
fn without_ke(specs: &[ProposalSpec]) -> Vec<ProposalSpec> {
    specs
        .iter()
        .cloned()
        .map(|mut s| {
            s.key_exchange.clear();
            s
        })
        .collect()
}

/// Whether we implement the algorithms of a chosen ESP proposal.
fn usable(c: &ProposalSpec) -> bool {
    algorithms(c).is_some()
}

fn algorithms(c: &ProposalSpec) -> Option<(EncrAlg, Option<IntegAlg>, bool)> {
    let &(id, bits) = c.encryption.first()?;
    let encr = EncrAlg::from_id(id, bits)
        .ok()
        .filter(|e| e.allowed_for(ProtocolId::ESP))?;
    let integ = match c.integrity.first() {
        Some(&i) => Some(IntegAlg::from_id(i).ok()?),
        None => None,
    };
    if encr.is_aead() == integ.is_some() {
        return None;
    }
    let esn = c.esn.first().is_some_and(|&e| e == EsnId::ESN);
    Some((encr, integ, esn))
}

/// A child SA agreed on, before keys are derived.
#[derive(Debug, Clone)]
pub(crate) struct Negotiated {
    pub(crate) config: ChildConfig,
    pub(crate) chosen: ProposalSpec,
    pub(crate) inbound_spi: u32,
    pub(crate) outbound_spi: u32,
    /// The initiator's and the responder's selectors as agreed.
    pub(crate) tsi: Vec<TrafficSelector>,
    pub(crate) tsr: Vec<TrafficSelector>,
    pub(crate) transport: bool,
}

/// What KEYMAT derivation needs besides the negotiation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyContext<'a> {
    pub(crate) prf: PrfAlg,
    pub(crate) sk_d: &'a SecretBytes,
    pub(crate) ni: &'a [u8],
    pub(crate) nr: &'a [u8],
    pub(crate) initiator: bool,
    /// The shared secret of the exchange's own key exchange (PFS), if any.
    pub(crate) g_ir: Option<&'a SecretBytes>,
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    pub(crate) udp_encap: Option<rampart_policy::sad::UdpEncap>,
}

impl Negotiated {
    /// Derives KEYMAT (§2.17: initiator-to-responder keys first) and builds the event's SA.
    pub(crate) fn into_child_sa(self, k: KeyContext<'_>) -> Option<ChildSa> {
        let (encr, integ, esn) = algorithms(&self.chosen)?;
        let (i2r, r2i) = derive_child_keys(k.prf, k.sk_d, k.g_ir, k.ni, k.nr, encr, integ).ok()?;
        let (out_keys, in_keys) = if k.initiator { (i2r, r2i) } else { (r2i, i2r) };
        let (local_ts, remote_ts) = if k.initiator {
            (self.tsi, self.tsr)
        } else {
            (self.tsr, self.tsi)
        };
        Some(ChildSa {
            name: self.config.name.clone(),
            inbound: ChildSaDirection {
                spi: self.inbound_spi,
                encr_key: in_keys.encr,
                integ_key: in_keys.integ,
            },
            outbound: ChildSaDirection {
                spi: self.outbound_spi,
                encr_key: out_keys.encr,
                integ_key: out_keys.integ,
            },
            encr,
            integ,
            esn,
            mode: if self.transport {
                Mode::Transport
            } else {
                Mode::Tunnel
            },
            local_ts,
            remote_ts,
            udp_encap: k.udp_encap,
            local_addr: k.local,
            remote_addr: k.remote,
            lifetimes: self.config.lifetimes,
        })
    }
}

/// The initiator's child SA request in flight.
#[derive(Debug, Clone)]
pub(crate) struct ChildRequest {
    pub(crate) config: ChildConfig,
    pub(crate) inbound_spi: u32,
    /// TSi and TSr to ask for: the configuration's, behind a triggering packet's selectors
    /// (§2.9) or, for a rekey, the old SA's (§2.8).
    pub(crate) local_ts: Vec<TrafficSelector>,
    pub(crate) remote_ts: Vec<TrafficSelector>,
    /// Whether the ESP proposals keep their key exchange methods (CREATE_CHILD_SA, §1.3.1).
    pub(crate) pfs: bool,
}

impl ChildRequest {
    /// A request for `config` with its own selectors.
    pub(crate) fn new(config: ChildConfig, inbound_spi: u32, pfs: bool) -> Self {
        Self {
            local_ts: config.local_ts.clone(),
            remote_ts: config.remote_ts.clone(),
            config,
            inbound_spi,
            pfs,
        }
    }

    /// The ESP proposals we offer.
    pub(crate) fn proposals(&self) -> Vec<ProposalSpec> {
        if self.pfs {
            self.config.esp_proposals.clone()
        } else {
            without_ke(&self.config.esp_proposals)
        }
    }

    /// SAi2, TSi, TSr and, for transport mode, USE_TRANSPORT_MODE.
    pub(crate) fn payloads(&self) -> Vec<Payload> {
        let mut p = Vec::new();
        if self.config.mode == Mode::Transport {
            p.push(Payload::Notify(NotifyPayload::new(
                NotifyType::USE_TRANSPORT_MODE,
                Vec::new(),
            )));
        }
        let spi = self.inbound_spi.to_be_bytes();
        p.push(Payload::Sa(sa_payload(&self.proposals(), &spi)));
        p.push(Payload::TsI(ts_payload(&self.local_ts)));
        p.push(Payload::TsR(ts_payload(&self.remote_ts)));
        p
    }

    /// Checks the responder's answer (SAr2, TSi, TSr) against what we asked for.
    pub(crate) fn complete(
        self,
        exchange: ExchangeType,
        payloads: &[Payload],
    ) -> Result<Negotiated, Failure> {
        if let Some(n) = payloads.iter().find_map(|p| match p {
            Payload::Notify(n) if n.is_error() => Some(n.notify_type),
            _ => None,
        }) {
            return Err(Failure::refused(exchange, n));
        }
        let bad = |what: &str| Failure::Malformed { what: what.into() };
        let (sa, tsi, tsr) =
            parts(payloads).ok_or_else(|| bad("child SA answer without SA, TSi or TSr"))?;
        let [proposal] = sa.proposals.as_slice() else {
            return Err(bad("child SA answer must choose exactly one proposal"));
        };
        let outbound_spi = <[u8; 4]>::try_from(proposal.spi.as_slice())
            .map(u32::from_be_bytes)
            .map_err(|_| bad("ESP SPI must be 4 octets"))?;
        let chosen = crate::proposal::offered(&SaPayload {
            proposals: vec![proposal.clone()],
        })
        .pop()
        .map(|(_, s)| s)
        .ok_or_else(|| bad("empty SA"))?;
        let ours = self.proposals();
        if !ours
            .iter()
            .any(|o| o.select(&chosen).as_ref() == Some(&chosen))
            || !usable(&chosen)
        {
            return Err(bad(&format!(
                "responder chose {chosen}, which we did not offer"
            )));
        }
        if !covers(&self.local_ts, &tsi) || !covers(&self.remote_ts, &tsr) {
            return Err(bad("responder widened the traffic selectors"));
        }
        Ok(Negotiated {
            transport: self.config.mode == Mode::Transport && has_transport(payloads),
            config: self.config,
            chosen,
            inbound_spi: self.inbound_spi,
            outbound_spi,
            tsi,
            tsr,
        })
    }
}

fn has_transport(payloads: &[Payload]) -> bool {
    payloads
        .iter()
        .any(|p| matches!(p, Payload::Notify(n) if n.notify_type == NotifyType::USE_TRANSPORT_MODE))
}

/// SA, TSi and TSr of a child SA request or answer.
fn parts(payloads: &[Payload]) -> Option<(&SaPayload, Vec<TrafficSelector>, Vec<TrafficSelector>)> {
    let sa = payloads.iter().find_map(|p| match p {
        Payload::Sa(s) => Some(s),
        _ => None,
    })?;
    let tsi = payloads.iter().find_map(|p| match p {
        Payload::TsI(t) => Some(t),
        _ => None,
    })?;
    let tsr = payloads.iter().find_map(|p| match p {
        Payload::TsR(t) => Some(t),
        _ => None,
    })?;
    Some((sa, ts_from_wire(tsi)?, ts_from_wire(tsr)?))
}

/// Whether a request carries a child SA (SA, TSi, TSr).
pub(crate) fn requested(payloads: &[Payload]) -> bool {
    payloads.iter().any(|p| matches!(p, Payload::Sa(_)))
}

/// The responder's side: find a child configuration whose selectors narrow the request (and
/// which the PAD allows for `peer`), choose an ESP proposal, allocate our SPI. Returns the
/// agreement and the payloads to answer with.
pub(crate) fn respond(
    children: &[ChildConfig],
    pad: &Pad,
    peer: &Identity,
    payloads: &[Payload],
    spi: impl FnOnce() -> Option<u32>,
) -> Result<(Negotiated, Vec<Payload>), Failure> {
    respond_with(children, pad, peer, payloads, spi, None).map_err(|e| match e {
        Refused::Failure(f) => f,
        // Unreachable without a key exchange offer; answered as no proposal chosen.
        Refused::InvalidKe(group) => Failure::Malformed {
            what: format!("unexpected key exchange {group}"),
        },
    })
}

/// Why the responder refuses a child SA request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Answered with the failure's notify.
    Failure(Failure),
    /// The chosen proposal needs this key exchange group, which the peer's KE payload is not
    /// (§1.3: answered with INVALID_KE_PAYLOAD naming it).
    InvalidKe(KeId),
}

impl From<Failure> for Refused {
    fn from(f: Failure) -> Self {
        Self::Failure(f)
    }
}

/// The responder's side with a key exchange: `peer_ke` is `None` in IKE_AUTH (proposals are
/// compared without key exchange methods), `Some(group)` in CREATE_CHILD_SA (the KE payload's
/// group, or `Some(KeId::NONE)` when the request had no KE payload).
pub(crate) fn respond_with(
    children: &[ChildConfig],
    pad: &Pad,
    peer: &Identity,
    payloads: &[Payload],
    spi: impl FnOnce() -> Option<u32>,
    peer_ke: Option<KeId>,
) -> Result<(Negotiated, Vec<Payload>), Refused> {
    let (sa, tsi, tsr) = parts(payloads).ok_or_else(|| Failure::Malformed {
        what: "child SA request without SA, TSi or TSr".into(),
    })?;
    let mut ts_ok = None;
    for child in children {
        let Ok(n) = narrow_pair(&tsi, &tsr, &child.remote_ts, &child.local_ts) else {
            continue;
        };
        // RFC 4301 §4.4.3.4: the peer may only claim the addresses its PAD entry allows.
        let Ok(auth) = pad.authorize(peer, &n.tsi) else {
            continue;
        };
        ts_ok = Some((child, auth.ts, n.tsr));
        break;
    }
    let Some((child, tsi, tsr)) = ts_ok else {
        let allows: Vec<String> = children
            .iter()
            .map(|c| format!("{} === {}", show(&c.remote_ts), show(&c.local_ts)))
            .collect();
        return Err(Refused::Failure(Failure::TsUnacceptable {
            peer_asked: format!("{} === {}", show(&tsi), show(&tsr)),
            policy_allows: if allows.is_empty() {
                "nothing".into()
            } else {
                allows.join("; ")
            },
        }));
    };
    let offered = SaPayload {
        proposals: sa
            .proposals
            .iter()
            .filter(|p| p.protocol == ProtocolId::ESP && p.spi.len() == 4)
            .cloned()
            .collect(),
    };
    let (offered, ours) = match peer_ke {
        Some(_) => (offered, child.esp_proposals.clone()),
        None => (strip_ke(offered), without_ke(&child.esp_proposals)),
    };
    let Some((proposal, chosen)) = choose(&ours, &offered, peer_ke, usable) else {
        return Err(Refused::Failure(Failure::NoProposalChosen {
            what: "esp",
            peer_offered: describe_offer(sa, ProtocolId::ESP),
            we_accept: describe_all(&ours),
        }));
    };
    if let (Some(&group), Some(theirs)) = (chosen.key_exchange.first(), peer_ke) {
        if group != KeId::NONE && group != theirs {
            return Err(Refused::InvalidKe(group));
        }
    }
    let outbound_spi = <[u8; 4]>::try_from(proposal.spi.as_slice())
        .map(u32::from_be_bytes)
        .map_err(|_| Failure::Malformed {
            what: "ESP SPI".into(),
        })?;
    let inbound_spi = spi().ok_or_else(|| Failure::Config {
        what: "no child SPI available".into(),
    })?;
    let transport = has_transport(payloads) && child.mode == Mode::Transport;
    let mut answer =
        crate::proposal::proposal(&chosen, proposal.number, &inbound_spi.to_be_bytes());
    answer.protocol = ProtocolId::ESP;
    let mut out = Vec::new();
    if transport {
        out.push(Payload::Notify(NotifyPayload::new(
            NotifyType::USE_TRANSPORT_MODE,
            Vec::new(),
        )));
    }
    out.push(Payload::Sa(SaPayload {
        proposals: vec![answer],
    }));
    out.push(Payload::TsI(ts_payload(&tsi)));
    out.push(Payload::TsR(ts_payload(&tsr)));
    Ok((
        Negotiated {
            config: child.clone(),
            chosen,
            inbound_spi,
            outbound_spi,
            tsi,
            tsr,
            transport,
        },
        out,
    ))
}

/// The SA payload without key exchange transforms (IKE_AUTH compares proposals without them).
fn strip_ke(sa: SaPayload) -> SaPayload {
    SaPayload {
        proposals: sa
            .proposals
            .into_iter()
            .map(|mut p| {
                p.transforms
                    .retain(|t| t.transform_type != rampart_wire::ike::iana::TransformType::KE);
                p
            })
            .collect(),
    }
}
