//! IKE_AUTH (RFC 7296 §1.2, §2.15) with pre-shared keys or certificates: identities, CERT and
//! CERTREQ, the AUTH payload, the PAD check of the peer's identity (RFC 4301 §4.4.3),
//! INITIAL_CONTACT and the first child SA.
//!
//! ```text
//! Initiator                         Responder
//! -------------------------------------------------------------------
//! HDR, SK {IDi, [CERT,] [N(INITIAL_CONTACT),] [CERTREQ,] AUTH,
//!          [N(USE_TRANSPORT_MODE)], SAi2, TSi, TSr}  -->
//!             <--  HDR, SK {IDr, [CERT,] AUTH, [N(USE_TRANSPORT_MODE)], SAr2, TSi, TSr}
//! ```
//!
//! A failed authentication is answered with `N(AUTHENTICATION_FAILED)` alone (§2.21.2); a child
//! SA that cannot be created is answered with its error notify beside IDr and AUTH, and the IKE
//! SA still comes up.

use std::net::IpAddr;
use std::sync::Arc;

use rampart_crypto::{PrfAlg, SecretBytes};
use rampart_policy::pad::Identity;
use rampart_wire::ike::iana::{AuthMethod, CertEncoding, ExchangeType};
use rampart_wire::ike::{AuthPayload, CertPayload, CertReqPayload, IdPayload, Payload};

use crate::auth::{PeerProof, id_payload, identity, psk_auth, show_identity, signed_octets};
use crate::child::{self, ChildRequest, Negotiated};
use crate::config::{Connection, EndpointConfig, LocalAuth, RemoteAuth};
use crate::failure::Failure;
use crate::sa_init::{Keyed, SIGNATURE_HASHES};

fn find_id(payloads: &[Payload], initiator: bool) -> Option<&IdPayload> {
    payloads.iter().find_map(|p| match (p, initiator) {
        (Payload::IdI(id), true) | (Payload::IdR(id), false) => Some(id),
        _ => None,
    })
}

fn find_auth(payloads: &[Payload]) -> Option<&AuthPayload> {
    payloads.iter().find_map(|p| match p {
        Payload::Auth(a) => Some(a),
        _ => None,
    })
}

/// What one side's AUTH covers besides its ID (§2.15): the IKE_SA_INIT message it sent, the
/// other side's nonce, and its SK_pi / SK_pr.
#[derive(Clone, Copy)]
struct Signed<'a> {
    prf: PrfAlg,
    init: &'a [u8],
    nonce: &'a [u8],
    sk_p: &'a SecretBytes,
}

impl<'a> Signed<'a> {
    fn initiator(k: &'a Keyed) -> Self {
        Self {
            prf: k.algs.prf,
            init: &k.init_request,
            nonce: &k.nr,
            sk_p: &k.keys.sk_pi,
        }
    }

    fn responder(k: &'a Keyed) -> Self {
        Self {
            prf: k.algs.prf,
            init: &k.init_response,
            nonce: &k.ni,
            sk_p: &k.keys.sk_pr,
        }
    }

    fn octets(self, id: &IdPayload) -> Vec<u8> {
        signed_octets(self.prf, self.init, self.nonce, self.sk_p, id)
    }
}

/// Our ID payload, CERT payloads (signatures only) and AUTH payload.
fn own_auth(
    conn: &Connection,
    keyed: &Keyed,
    s: Signed<'_>,
) -> Result<(IdPayload, Vec<Payload>, AuthPayload), Failure> {
    let unsendable = || Failure::Config {
        what: format!("identity {} cannot be sent", conn.local_id),
    };
    match &conn.local_auth {
        LocalAuth::Psk(psk) => {
            let id = id_payload(&conn.local_id).ok_or_else(unsendable)?;
            let data = psk_auth(s.prf, psk, &s.octets(&id)).expose().to_vec();
            let auth = AuthPayload {
                method: AuthMethod::PSK,
                data,
            };
            Ok((id, Vec::new(), auth))
        }
        LocalAuth::Signature(signer) => {
            let certs = signer.certificates();
            // RFC 4945 §3.1.5: a DN identity is our certificate's subject, in its DER form.
            let id = match &conn.local_id {
                Identity::Dn(dn) => crate::cert::dn_id_payload(dn, &certs),
                other => id_payload(other),
            }
            .ok_or_else(unsendable)?;
            let (method, data) = signer
                .sign(
                    keyed.rng.as_ref(),
                    keyed.peer_hashes.as_deref(),
                    &s.octets(&id),
                )
                .map_err(|e| Failure::Config {
                    what: format!("signing our AUTH payload: {e}"),
                })?;
            let certs = certs
                .into_iter()
                .map(|data| {
                    Payload::Cert(CertPayload {
                        encoding: CertEncoding::X509_SIGNATURE,
                        data,
                    })
                })
                .collect();
            Ok((id, certs, AuthPayload { method, data }))
        }
    }
}

/// The CERTREQ we send when we expect the peer to sign (RFC 7296 §3.7).
fn certreq(conn: &Connection) -> Option<Payload> {
    let RemoteAuth::Signature(v) = &conn.remote_auth else {
        return None;
    };
    let authorities = v.certificate_request();
    (!authorities.is_empty()).then_some(Payload::CertReq(CertReqPayload {
        encoding: CertEncoding::X509_SIGNATURE,
        authorities,
    }))
}

/// The data of the X.509 CERT payloads, in order.
fn peer_certificates(payloads: &[Payload]) -> Vec<Vec<u8>> {
    payloads
        .iter()
        .filter_map(|p| match p {
            Payload::Cert(c) if c.encoding == CertEncoding::X509_SIGNATURE => Some(c.data.clone()),
            _ => None,
        })
        .collect()
}

/// Checks the peer's AUTH over its signed octets (§2.15).
fn verify_peer(
    conn: &Connection,
    s: Signed<'_>,
    id: &IdPayload,
    payloads: &[Payload],
    peer: &Identity,
) -> Result<(), Failure> {
    let prf = s.prf;
    let fail = |detail: &str| Failure::AuthenticationFailed {
        peer_id: show_identity(peer),
        detail: detail.into(),
    };
    let auth = find_auth(payloads).ok_or_else(|| fail("no AUTH payload"))?;
    let octets = s.octets(id);
    match &conn.remote_auth {
        RemoteAuth::Psk(psk) => {
            if auth.method != AuthMethod::PSK {
                return Err(fail(&format!(
                    "peer used {} where we expect PSK",
                    auth.method
                )));
            }
            // Constant-time comparison (SecretBytes equality).
            if psk_auth(prf, psk, &octets) != SecretBytes::from_slice(&auth.data) {
                return Err(fail("PSK mismatch"));
            }
            Ok(())
        }
        RemoteAuth::Signature(verifier) => {
            if auth.method == AuthMethod::PSK {
                return Err(fail("peer used PSK where we expect a signature"));
            }
            let certificates = peer_certificates(payloads);
            let proof = PeerProof {
                id,
                certificates: &certificates,
                method: auth.method,
                auth_data: &auth.data,
                signed_octets: &octets,
            };
            let scheme = verifier.verify(&proof).map_err(|e| fail(&e.0))?;
            // RFC 7427 §4: method 14 signatures use a hash we announced.
            let hash = scheme.hash_algorithm();
            if auth.method == AuthMethod::DIGITAL_SIGNATURE && !SIGNATURE_HASHES.contains(&hash) {
                return Err(fail(&format!(
                    "peer signed with hash {hash}, which we did not announce"
                )));
            }
            Ok(())
        }
    }
}

/// The initiator's IKE_AUTH request payloads (§1.2):
/// `IDi, [CERT+], [N(INITIAL_CONTACT)], [CERTREQ], AUTH, [child payloads]`.
pub(crate) fn request(
    conn: &Connection,
    keyed: &Keyed,
    child: Option<&ChildRequest>,
) -> Result<Vec<Payload>, Failure> {
    let (id, certs, auth) = own_auth(conn, keyed, Signed::initiator(keyed))?;
    let mut payloads = vec![Payload::IdI(id)];
    payloads.extend(certs);
    if keyed.initial_contact {
        payloads.push(crate::notify::initial_contact());
    }
    payloads.extend(certreq(conn));
    payloads.push(Payload::Auth(auth));
    if let Some(c) = child {
        payloads.extend(c.payloads());
    }
    Ok(payloads)
}

/// The initiator checks the IKE_AUTH response: the peer's identity and AUTH, then the child SA.
pub(crate) fn complete(
    conn: &Connection,
    keyed: &Keyed,
    payloads: &[Payload],
    child: Option<ChildRequest>,
) -> Result<(Identity, Option<Result<Negotiated, Failure>>), Failure> {
    if find_auth(payloads).is_none() {
        if let Some(n) = payloads.iter().find_map(|p| match p {
            Payload::Notify(n) if n.is_error() => Some(n.notify_type),
            _ => None,
        }) {
            return Err(Failure::refused(ExchangeType::IKE_AUTH, n));
        }
    }
    let id = find_id(payloads, false).ok_or_else(|| Failure::Malformed {
        what: "IKE_AUTH response without IDr".into(),
    })?;
    let peer = identity(id).ok_or_else(|| Failure::Malformed {
        what: format!("unusable IDr of type {}", id.id_type),
    })?;
    if peer != conn.remote_id {
        return Err(Failure::AuthenticationFailed {
            peer_id: show_identity(&peer),
            detail: format!(
                "unexpected identity (connection {} expects {})",
                conn.name,
                show_identity(&conn.remote_id)
            ),
        });
    }
    verify_peer(conn, Signed::responder(keyed), id, payloads, &peer)?;
    let child = child.map(|c| c.complete(ExchangeType::IKE_AUTH, payloads));
    Ok((peer, child))
}

/// The responder's successful answer.
#[derive(Debug)]
pub(crate) struct Accepted {
    pub(crate) connection: Arc<Connection>,
    pub(crate) peer: Identity,
    pub(crate) response: Vec<Payload>,
    pub(crate) child: Option<Result<Negotiated, Failure>>,
    /// The initiator sent INITIAL_CONTACT (§2.4): its other IKE SAs with us are stale.
    pub(crate) initial_contact: bool,
}

/// The responder's side of IKE_AUTH: find the connection for the peer's identity, check the PAD
/// and AUTH, answer with ours and the first child SA.
pub(crate) fn respond(
    config: &EndpointConfig,
    remote: IpAddr,
    keyed: &Keyed,
    payloads: &[Payload],
    child_spi: impl FnOnce() -> Option<u32>,
) -> Result<Accepted, Failure> {
    let id = find_id(payloads, true).ok_or_else(|| Failure::Malformed {
        what: "IKE_AUTH request without IDi".into(),
    })?;
    let peer = identity(id).ok_or_else(|| Failure::Malformed {
        what: format!("unusable IDi of type {}", id.id_type),
    })?;
    let unknown = || Failure::UnknownPeer {
        peer_id: show_identity(&peer),
    };
    let conn = config
        .connections
        .iter()
        .find(|c| c.remote_id == peer && c.accepts_remote(remote))
        .ok_or_else(unknown)?;
    // RFC 4301 §4.4.3: the peer must be in the PAD.
    config.pad.lookup(&peer).ok_or_else(unknown)?;
    verify_peer(conn, Signed::initiator(keyed), id, payloads, &peer)?;
    let (our_id, certs, our_auth) = own_auth(conn, keyed, Signed::responder(keyed))?;
    // §1.2: IDr, [CERT+], AUTH, ...
    let mut response = vec![Payload::IdR(our_id)];
    response.extend(certs);
    response.push(Payload::Auth(our_auth));
    let child = if child::requested(payloads) {
        let outcome = child::respond(&conn.children, &config.pad, &peer, payloads, child_spi);
        match &outcome {
            Ok((_, p)) => response.extend(p.iter().cloned()),
            Err(f) => {
                let ty = f
                    .notify()
                    .unwrap_or(rampart_wire::ike::iana::NotifyType::NO_PROPOSAL_CHOSEN);
                response.push(Payload::Notify(rampart_wire::ike::NotifyPayload::new(
                    ty,
                    Vec::new(),
                )));
            }
        }
        Some(outcome.map(|(n, _)| n))
    } else {
        None
    };
    Ok(Accepted {
        connection: conn.clone(),
        peer,
        response,
        child,
        initial_contact: crate::notify::has_initial_contact(payloads),
    })
}
