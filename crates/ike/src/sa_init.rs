//! IKE_SA_INIT (RFC 7296 §1.2): proposal choice, key exchange, nonces, NAT detection (§2.23),
//! cookies (§2.6), INVALID_KE_PAYLOAD retries (§1.2) and SIGNATURE_HASH_ALGORITHMS (RFC 7427).
//!
//! ```text
//! Initiator                         Responder
//! -------------------------------------------------------------------
//! HDR, SAi1, KEi, Ni,
//!   N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP),
//!   N(SIGNATURE_HASH_ALGORITHMS)  -->
//!                              <--  HDR, SAr1, KEr, Nr, N(NAT_...), N(SIGNATURE_HASH_...)
//! ```
//!
//! The initiator is [`InitiatorInit`]; its response handling returns the next step
//! ([`InitStep`]). The responder is the function [`respond`]. Both end in [`Keyed`]: the
//! negotiated algorithms, SK_* keys and what IKE_AUTH needs to sign.

use std::net::SocketAddr;
use std::sync::Arc;

use rampart_crypto::proposal::{ProposalSpec, describe_all};
use rampart_crypto::{CryptoError, KeyExchange, SecureRandom};
use rampart_wire::ike::iana::{
    CertEncoding, ExchangeType, HashAlgorithm, KeId, NotifyType, ProtocolId,
};
use rampart_wire::ike::{
    CertReqPayload, IkeFlags, KePayload, Message, NoncePayload, NotifyPayload, Payload, SaPayload,
};

use crate::failure::Failure;
use crate::keys::{IkeAlgs, IkeKeys, derive_ike_keys};
use crate::nat::{NatState, forced_source_hash, nat_hash};
use crate::proposal::{choose, describe_offer, sa_payload};
use crate::sk::SkCrypto;

/// Our nonce length: 32 bytes, at least half the key size of every PRF we support (§2.10).
const NONCE_LEN: usize = 32;
/// Cookie and INVALID_KE_PAYLOAD retries before the initiator gives up.
const MAX_RETRIES: u32 = 3;
/// The hash algorithms we announce for RFC 7427 signatures (and accept in method 14 AUTH
/// payloads): SHA-2, and Identity for Ed25519 (RFC 8420).
pub(crate) const SIGNATURE_HASHES: [HashAlgorithm; 4] = [
    HashAlgorithm::SHA2_256,
    HashAlgorithm::SHA2_384,
    HashAlgorithm::SHA2_512,
    HashAlgorithm::IDENTITY,
];

/// An IKE SA after IKE_SA_INIT: keys and what IKE_AUTH signs.
pub(crate) struct Keyed {
    pub(crate) algs: IkeAlgs,
    pub(crate) keys: IkeKeys,
    pub(crate) sk: SkCrypto,
    pub(crate) ni: Vec<u8>,
    pub(crate) nr: Vec<u8>,
    /// The IKE_SA_INIT request and response as sent (RealMessage1 / RealMessage2 of §2.15).
    pub(crate) init_request: Vec<u8>,
    pub(crate) init_response: Vec<u8>,
    pub(crate) spi_r: u64,
    /// What NAT detection found (§2.23).
    pub(crate) nat: NatState,
    /// What the peer announced in SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4); `None`: no notify.
    pub(crate) peer_hashes: Option<Vec<HashAlgorithm>>,
    /// Initiator: send INITIAL_CONTACT in IKE_AUTH (no other IKE SA with this peer, §2.4).
    pub(crate) initial_contact: bool,
    /// Randomness for signatures.
    pub(crate) rng: Arc<dyn SecureRandom>,
}

impl core::fmt::Debug for Keyed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Keyed")
            .field("algs", &self.algs)
            .field("spi_r", &self.spi_r)
            .field("nat", &self.nat)
            .field("peer_hashes", &self.peer_hashes)
            .finish_non_exhaustive()
    }
}

/// Addresses and SPIs an IKE_SA_INIT is built or checked with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Path {
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
}

/// A nonce from `rng`.
pub(crate) fn nonce(rng: &dyn SecureRandom) -> Result<Vec<u8>, CryptoError> {
    let mut n = vec![0; NONCE_LEN];
    rng.fill(&mut n)?;
    Ok(n)
}

fn notify(payloads: &[Payload], ty: NotifyType) -> Option<&NotifyPayload> {
    payloads.iter().find_map(|p| match p {
        Payload::Notify(n) if n.notify_type == ty => Some(n),
        _ => None,
    })
}

/// What the NAT_DETECTION notifies of `msg` show (§2.23): the peer is behind a NAT when no
/// source hash matches the address we saw the message come from; we are when the destination
/// hash does not match the address it reached. `forced`: we faked our source hash.
fn nat_detected(msg: &Message, path: Path, forced: bool) -> NatState {
    if notify(&msg.payloads, NotifyType::NAT_DETECTION_SOURCE_IP).is_none() {
        // The peer does not do NAT detection; forcing still floats (it may follow).
        return NatState {
            forced,
            ..NatState::default()
        };
    }
    let src = nat_hash(msg.spi_i, msg.spi_r, path.remote);
    let dst = nat_hash(msg.spi_i, msg.spi_r, path.local);
    let src_ok = msg.payloads.iter().any(|p| {
        matches!(p, Payload::Notify(n) if n.notify_type == NotifyType::NAT_DETECTION_SOURCE_IP && n.data == src)
    });
    let dst_ok = notify(&msg.payloads, NotifyType::NAT_DETECTION_DESTINATION_IP)
        .is_none_or(|n| n.data == dst);
    NatState {
        local_behind: !dst_ok,
        remote_behind: !src_ok,
        forced,
    }
}

/// Our NAT_DETECTION notifies for a message with these SPIs; with `force`, a source hash no
/// address matches, so the peer sees a NAT and both sides float to 4500.
fn nat_notifies(spi_i: u64, spi_r: u64, path: Path, force: bool) -> [Payload; 2] {
    let source = if force {
        forced_source_hash(spi_i, spi_r)
    } else {
        nat_hash(spi_i, spi_r, path.local)
    };
    [
        Payload::Notify(NotifyPayload::new(
            NotifyType::NAT_DETECTION_SOURCE_IP,
            source,
        )),
        Payload::Notify(NotifyPayload::new(
            NotifyType::NAT_DETECTION_DESTINATION_IP,
            nat_hash(spi_i, spi_r, path.remote),
        )),
    ]
}

/// The hashes of a SIGNATURE_HASH_ALGORITHMS notify; a malformed list counts as none.
fn peer_hashes(payloads: &[Payload]) -> Option<Vec<HashAlgorithm>> {
    notify(payloads, NotifyType::SIGNATURE_HASH_ALGORITHMS)
        .and_then(|n| n.signature_hash_algorithms().ok())
}

fn find_sa(payloads: &[Payload]) -> Option<&SaPayload> {
    payloads.iter().find_map(|p| match p {
        Payload::Sa(sa) => Some(sa),
        _ => None,
    })
}

fn find_ke(payloads: &[Payload]) -> Option<&KePayload> {
    payloads.iter().find_map(|p| match p {
        Payload::Ke(ke) => Some(ke),
        _ => None,
    })
}

fn find_nonce(payloads: &[Payload]) -> Option<&[u8]> {
    payloads.iter().find_map(|p| match p {
        Payload::Nonce(n) => Some(n.data.as_slice()),
        _ => None,
    })
}

/// The initiator waiting for the IKE_SA_INIT response.
pub(crate) struct InitiatorInit {
    proposals: Vec<ProposalSpec>,
    ke: KeyExchange,
    nonce: Vec<u8>,
    cookie: Option<Vec<u8>>,
    /// The request as last sent.
    pub(crate) request: Vec<u8>,
    retries: u32,
    /// Send INITIAL_CONTACT in IKE_AUTH (set by the endpoint).
    pub(crate) initial_contact: bool,
    /// Fake our NAT_DETECTION_SOURCE_IP hash (`Connection::force_encap`).
    pub(crate) force_encap: bool,
}

impl core::fmt::Debug for InitiatorInit {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("InitiatorInit")
            .field("ke", &self.ke.id())
            .finish_non_exhaustive()
    }
}

/// What the initiator does with an IKE_SA_INIT response.
#[derive(Debug)]
pub(crate) enum InitStep {
    /// Send [`InitiatorInit::request`] again, now with a cookie or another KE group.
    Retry(InitiatorInit),
    /// Not a usable answer (e.g. a stale duplicate): keep waiting.
    Ignore(InitiatorInit),
    /// Keys are in place: go on with IKE_AUTH.
    Keyed(Box<Keyed>),
    /// The negotiation failed.
    Failed(Failure),
}

impl InitiatorInit {
    /// A first IKE_SA_INIT request offering `proposals`, with a key exchange in the first
    /// proposal's first group.
    pub(crate) fn new(
        proposals: Vec<ProposalSpec>,
        spi_i: u64,
        path: Path,
        force_encap: bool,
        rng: &dyn SecureRandom,
    ) -> Result<Self, Failure> {
        let ke_id = proposals
            .first()
            .and_then(|p| p.key_exchange.first().copied())
            .ok_or_else(|| Failure::Config {
                what: "the connection has no IKE proposal".into(),
            })?;
        let ke = KeyExchange::new(ke_id, rng).map_err(|e| Failure::Config {
            what: format!("key exchange {ke_id}: {e}"),
        })?;
        let nonce = nonce(rng).map_err(|e| Failure::Config {
            what: e.to_string(),
        })?;
        let mut init = Self {
            proposals,
            ke,
            nonce,
            cookie: None,
            request: Vec::new(),
            retries: 0,
            initial_contact: false,
            force_encap,
        };
        init.build(spi_i, path)?;
        Ok(init)
    }

    fn build(&mut self, spi_i: u64, path: Path) -> Result<(), Failure> {
        let mut payloads = Vec::new();
        if let Some(c) = &self.cookie {
            // §2.6: the cookie notify comes first.
            payloads.push(Payload::Notify(NotifyPayload::new(
                NotifyType::COOKIE,
                c.clone(),
            )));
        }
        payloads.push(Payload::Sa(sa_payload(&self.proposals, &[])));
        payloads.push(Payload::Ke(KePayload {
            group: self.ke.id(),
            data: self.ke.public_value().to_vec(),
        }));
        payloads.push(Payload::Nonce(NoncePayload {
            data: self.nonce.clone(),
        }));
        payloads.extend(nat_notifies(spi_i, 0, path, self.force_encap));
        payloads.push(Payload::Notify(
            NotifyPayload::signature_hash_algorithms_notify(&SIGNATURE_HASHES),
        ));
        let msg = Message {
            spi_i,
            spi_r: 0,
            exchange_type: ExchangeType::IKE_SA_INIT,
            flags: IkeFlags::INITIATOR,
            message_id: 0,
            payloads,
        };
        self.request = msg.emit().map_err(|e| Failure::Config {
            what: format!("IKE_SA_INIT emission: {e}"),
        })?;
        Ok(())
    }

    /// Handles the response `msg` (parsed from `bytes`).
    pub(crate) fn handle_response(
        mut self,
        msg: &Message,
        bytes: &[u8],
        path: Path,
        rng: &Arc<dyn SecureRandom>,
    ) -> InitStep {
        if let Some(c) = notify(&msg.payloads, NotifyType::COOKIE) {
            if self.retries >= MAX_RETRIES || c.data.is_empty() || c.data.len() > 64 {
                return InitStep::Failed(Failure::refused(
                    ExchangeType::IKE_SA_INIT,
                    NotifyType::COOKIE,
                ));
            }
            if self.cookie.as_ref() == Some(&c.data) && self.retries > 0 {
                return InitStep::Ignore(self);
            }
            self.retries += 1;
            self.cookie = Some(c.data.clone());
            return match self.build(msg.spi_i, path) {
                Ok(()) => InitStep::Retry(self),
                Err(f) => InitStep::Failed(f),
            };
        }
        if let Some(n) = notify(&msg.payloads, NotifyType::INVALID_KE_PAYLOAD) {
            return self.retry_group(n, msg.spi_i, path, rng.as_ref());
        }
        if let Some(n) = msg.payloads.iter().find_map(|p| match p {
            Payload::Notify(n) if n.is_error() => Some(n.notify_type),
            _ => None,
        }) {
            return InitStep::Failed(Failure::refused(ExchangeType::IKE_SA_INIT, n));
        }
        match self.complete(msg, bytes, path, rng) {
            Ok(keyed) => InitStep::Keyed(Box::new(keyed)),
            Err(f) => InitStep::Failed(f),
        }
    }

    /// §1.2: the responder wants the group in the notify; retry with it if we offered it.
    fn retry_group(
        mut self,
        n: &NotifyPayload,
        spi_i: u64,
        path: Path,
        rng: &dyn SecureRandom,
    ) -> InitStep {
        let Ok(group) = <[u8; 2]>::try_from(n.data.as_slice()).map(|b| KeId(u16::from_be_bytes(b)))
        else {
            return InitStep::Failed(Failure::Malformed {
                what: "INVALID_KE_PAYLOAD without a 2-octet group".into(),
            });
        };
        if group == self.ke.id() {
            // A duplicate answer to the request we already corrected.
            return InitStep::Ignore(self);
        }
        let offered = self
            .proposals
            .iter()
            .any(|p| p.key_exchange.contains(&group));
        if !offered || self.retries >= MAX_RETRIES {
            return InitStep::Failed(Failure::PeerRefused {
                exchange: ExchangeType::IKE_SA_INIT,
                notify: NotifyType::INVALID_KE_PAYLOAD,
                hint: "the peer wants a key exchange group we did not offer",
            });
        }
        match KeyExchange::new(group, rng) {
            Ok(ke) => self.ke = ke,
            Err(e) => {
                return InitStep::Failed(Failure::Config {
                    what: format!("key exchange {group}: {e}"),
                });
            }
        }
        self.retries += 1;
        match self.build(spi_i, path) {
            Ok(()) => InitStep::Retry(self),
            Err(f) => InitStep::Failed(f),
        }
    }

    /// The responder accepted: check its choice, complete the key exchange, derive keys.
    fn complete(
        self,
        msg: &Message,
        bytes: &[u8],
        path: Path,
        rng: &Arc<dyn SecureRandom>,
    ) -> Result<Keyed, Failure> {
        let malformed = |what: &str| Failure::Malformed { what: what.into() };
        let sa =
            find_sa(&msg.payloads).ok_or_else(|| malformed("IKE_SA_INIT response without SA"))?;
        let [proposal] = sa.proposals.as_slice() else {
            return Err(malformed(
                "IKE_SA_INIT response must choose exactly one proposal",
            ));
        };
        let chosen = crate::proposal::offered(&SaPayload {
            proposals: vec![proposal.clone()],
        })
        .pop()
        .map(|(_, s)| s)
        .ok_or_else(|| malformed("empty SA"))?;
        // §2.7: the choice must be one of our offers, one transform per type.
        let acceptable = self
            .proposals
            .iter()
            .any(|ours| ours.select(&chosen).as_ref() == Some(&chosen));
        let algs = IkeAlgs::from_chosen(&chosen)
            .filter(|_| acceptable)
            .ok_or_else(|| {
                malformed(&format!("responder chose {chosen}, which we did not offer"))
            })?;
        let ke =
            find_ke(&msg.payloads).ok_or_else(|| malformed("IKE_SA_INIT response without KE"))?;
        if ke.group != algs.ke || ke.group != self.ke.id() {
            return Err(malformed("KE group differs from the chosen proposal"));
        }
        let nr = find_nonce(&msg.payloads)
            .ok_or_else(|| malformed("IKE_SA_INIT response without nonce"))?;
        let g_ir = self
            .ke
            .complete(&ke.data)
            .map_err(|e| malformed(&format!("responder's KE: {e}")))?;
        let keys =
            derive_ike_keys(&algs, &g_ir, &self.nonce, nr, msg.spi_i, msg.spi_r).map_err(|e| {
                Failure::Config {
                    what: e.to_string(),
                }
            })?;
        let sk = SkCrypto::new(&algs, &keys, true, rng.clone()).map_err(|e| Failure::Config {
            what: e.to_string(),
        })?;
        Ok(Keyed {
            algs,
            keys,
            sk,
            ni: self.nonce,
            nr: nr.to_vec(),
            init_request: self.request,
            init_response: bytes.to_vec(),
            spi_r: msg.spi_r,
            nat: nat_detected(msg, path, self.force_encap),
            peer_hashes: peer_hashes(&msg.payloads),
            initial_contact: self.initial_contact,
            rng: rng.clone(),
        })
    }
}

/// How the responder answers an IKE_SA_INIT request that does not create an SA.
#[derive(Debug)]
pub(crate) struct Refusal {
    /// The unprotected response.
    pub(crate) response: Vec<u8>,
    /// What to tell the operator (none for routine answers such as INVALID_KE_PAYLOAD).
    pub(crate) failure: Option<Failure>,
}

/// An unprotected IKE_SA_INIT error response carrying one notify (SPIr zero, §2.6 / §1.2).
pub(crate) fn error_response(request: &Message, ty: NotifyType, data: Vec<u8>) -> Vec<u8> {
    let msg = Message {
        spi_i: request.spi_i,
        spi_r: 0,
        exchange_type: ExchangeType::IKE_SA_INIT,
        flags: IkeFlags::RESPONSE,
        message_id: request.message_id,
        payloads: vec![Payload::Notify(NotifyPayload::new(ty, data))],
    };
    msg.emit().unwrap_or_default()
}

fn refuse(request: &Message, failure: Failure) -> Refusal {
    let ty = failure.notify().unwrap_or(NotifyType::INVALID_SYNTAX);
    Refusal {
        response: error_response(request, ty, Vec::new()),
        failure: Some(failure),
    }
}

/// What the responder answers IKE_SA_INIT with, from the connections that accept the peer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResponderOffer<'a> {
    /// IKE proposals we accept.
    pub(crate) proposals: &'a [ProposalSpec],
    /// CERTREQ data (CA hashes, RFC 7296 §3.7); empty: no CERTREQ.
    pub(crate) certreq: &'a [u8],
    /// Fake our NAT_DETECTION_SOURCE_IP hash (`Connection::force_encap`).
    pub(crate) force_encap: bool,
}

/// The responder's side: choose a proposal among the offer's, complete the key exchange and
/// answer, with a CERTREQ unless the offer's is empty.
pub(crate) fn respond(
    offer: ResponderOffer<'_>,
    request: &Message,
    bytes: &[u8],
    spi_r: u64,
    path: Path,
    rng: &Arc<dyn SecureRandom>,
) -> Result<(Keyed, Vec<u8>), Refusal> {
    let ResponderOffer {
        proposals: ours,
        certreq,
        force_encap,
    } = offer;
    let malformed = |what: &str| refuse(request, Failure::Malformed { what: what.into() });
    let sa =
        find_sa(&request.payloads).ok_or_else(|| malformed("IKE_SA_INIT request without SA"))?;
    let ke =
        find_ke(&request.payloads).ok_or_else(|| malformed("IKE_SA_INIT request without KE"))?;
    let ni = find_nonce(&request.payloads)
        .ok_or_else(|| malformed("IKE_SA_INIT request without nonce"))?;
    let usable = |c: &ProposalSpec| {
        IkeAlgs::from_chosen(c).is_some_and(|a| rampart_crypto::ke::SUPPORTED_KE.contains(&a.ke))
    };
    let Some((proposal, chosen)) = choose(ours, sa, Some(ke.group), usable) else {
        return Err(refuse(
            request,
            Failure::NoProposalChosen {
                what: "ike",
                peer_offered: describe_offer(sa, ProtocolId::IKE),
                we_accept: describe_all(ours),
            },
        ));
    };
    let algs = IkeAlgs::from_chosen(&chosen).ok_or_else(|| malformed("unusable proposal"))?;
    if algs.ke != ke.group {
        // §1.2: tell the initiator which group to use; keep no state.
        let data = algs.ke.0.to_be_bytes().to_vec();
        return Err(Refusal {
            response: error_response(request, NotifyType::INVALID_KE_PAYLOAD, data),
            failure: None,
        });
    }
    let oops = |e: CryptoError| {
        refuse(
            request,
            Failure::Config {
                what: e.to_string(),
            },
        )
    };
    let our_ke = KeyExchange::new(algs.ke, rng.as_ref()).map_err(oops)?;
    let nr = nonce(rng.as_ref()).map_err(oops)?;
    let public = our_ke.public_value().to_vec();
    let g_ir = our_ke
        .complete(&ke.data)
        .map_err(|e| malformed(&format!("initiator's KE: {e}")))?;
    let keys = derive_ike_keys(&algs, &g_ir, ni, &nr, request.spi_i, spi_r).map_err(oops)?;
    let sk = SkCrypto::new(&algs, &keys, false, rng.clone()).map_err(oops)?;
    let mut answer = crate::proposal::proposal(&chosen, proposal.number, &[]);
    answer.protocol = ProtocolId::IKE;
    let mut payloads = vec![
        Payload::Sa(SaPayload {
            proposals: vec![answer],
        }),
        Payload::Ke(KePayload {
            group: algs.ke,
            data: public,
        }),
        Payload::Nonce(NoncePayload { data: nr.clone() }),
    ];
    if !certreq.is_empty() {
        // §1.2: HDR, SAr1, KEr, Nr, [CERTREQ].
        payloads.push(Payload::CertReq(CertReqPayload {
            encoding: CertEncoding::X509_SIGNATURE,
            authorities: certreq.to_vec(),
        }));
    }
    payloads.extend(nat_notifies(request.spi_i, spi_r, path, force_encap));
    payloads.push(Payload::Notify(
        NotifyPayload::signature_hash_algorithms_notify(&SIGNATURE_HASHES),
    ));
    let msg = Message {
        spi_i: request.spi_i,
        spi_r,
        exchange_type: ExchangeType::IKE_SA_INIT,
        flags: IkeFlags::RESPONSE,
        message_id: 0,
        payloads,
    };
    let response = msg.emit().map_err(|e| malformed(&e.to_string()))?;
    let keyed = Keyed {
        algs,
        keys,
        sk,
        ni: ni.to_vec(),
        nr,
        init_request: bytes.to_vec(),
        init_response: response.clone(),
        spi_r,
        nat: nat_detected(request, path, force_encap),
        peer_hashes: peer_hashes(&request.payloads),
        initial_contact: false,
        rng: rng.clone(),
    };
    Ok((keyed, response))
}
