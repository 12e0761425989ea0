//! Certificate authentication (RFC 7296 §2.15, §3.6–§3.8; RFC 7427; RFC 4945): the engine's
//! [`Signer`] and [`SignatureVerifier`] seams implemented over `rampart_crypto::sig` and
//! `rampart_crypto::cert`.
//!
//! - [`CertSigner`]: our private key and certificate chain. It picks the AUTH method from what
//!   the peer announced in SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4): method 14 with the first
//!   hash of ours the peer accepts; without the notify, the RFC 4754 methods 9/10 for ECDSA
//!   (RSA method 1 would need SHA-1 signing, which the backend refuses).
//! - [`CertVerifier`]: our trust anchors and a source of wall-clock time (the engine reads no
//!   clock: the daemon hands in a function reading the system clock, tests a fixed time). It
//!   validates the peer's CERT chain at that time, checks that the ID payload is bound by the
//!   end-entity certificate (RFC 4945 §3.1) and verifies the AUTH signature with its key.
//!
//! Also here: ID_DER_ASN1_DN identities, which need the certificate's DER subject to be sent and
//! a DER name decoder to be received.

use std::net::IpAddr;
use std::sync::Arc;

use rampart_crypto::SecureRandom;
use rampart_crypto::cert::{Certificate, SubjectAltName, TrustAnchors};
use rampart_crypto::sig::{KeyType, PrivateKey, SignatureScheme, sign_auth, verify_auth};
use rampart_policy::pad::{DistinguishedName, Identity};
use rampart_wire::ike::IdPayload;
use rampart_wire::ike::iana::{AuthMethod, HashAlgorithm, IdType};

use crate::auth::{AuthError, PeerProof, SignatureVerifier, Signer};
use crate::config::{EndpointConfig, RemoteAuth};

/// Length of one CA hash in a CERTREQ (SHA-1, RFC 7296 §3.7).
const CA_HASH_LEN: usize = 20;

/// Signs our AUTH payloads with a private key whose certificate chain we send in CERT payloads.
#[derive(Debug, Clone)]
pub struct CertSigner {
    key: PrivateKey,
    chain: Vec<Certificate>,
}

impl CertSigner {
    /// A signer for `key`, whose certificate is `chain[0]` (then the intermediates, issuing
    /// order; the root need not be sent). Refuses a chain whose first certificate does not hold
    /// the key's public half.
    pub fn new(key: PrivateKey, chain: Vec<Certificate>) -> Result<Self, AuthError> {
        let end_entity = chain
            .first()
            .ok_or_else(|| AuthError("no certificate for the private key".into()))?;
        if end_entity.spki() != key.public_key_spki() {
            return Err(AuthError(format!(
                "private key does not match the certificate for {}",
                end_entity.subject()
            )));
        }
        Ok(Self { key, chain })
    }

    /// A signer from a PKCS#8 PEM private key and a PEM bundle (end entity first).
    pub fn from_pem(key_pem: &str, chain_pem: &str) -> Result<Self, AuthError> {
        let key = PrivateKey::from_pkcs8_pem(key_pem)
            .map_err(|e| AuthError(format!("private key: {e}")))?;
        let chain =
            Certificate::from_pem(chain_pem).map_err(|e| AuthError(format!("certificate: {e}")))?;
        Self::new(key, chain)
    }

    /// Our end-entity certificate.
    pub fn end_entity(&self) -> &Certificate {
        &self.chain[0]
    }
}

/// The AUTH method and scheme for a key of `key_type` given the hashes the peer announced
/// (RFC 7427 §4; `None`: it sent no SIGNATURE_HASH_ALGORITHMS).
pub(crate) fn choose_method(
    key_type: KeyType,
    peer_hashes: Option<&[HashAlgorithm]>,
) -> Result<(AuthMethod, SignatureScheme), AuthError> {
    if let Some(hashes) = peer_hashes {
        if let Some(&scheme) = SignatureScheme::signing_schemes(key_type)
            .iter()
            .find(|s| hashes.contains(&s.hash_algorithm()))
        {
            return Ok((AuthMethod::DIGITAL_SIGNATURE, scheme));
        }
    }
    // No usable RFC 7427 hash: the legacy methods that fix the hash (RFC 4754 §7).
    match key_type {
        KeyType::EcP256 => Ok((
            AuthMethod::ECDSA_SHA256_P256,
            SignatureScheme::EcdsaP256Sha256,
        )),
        KeyType::EcP384 => Ok((
            AuthMethod::ECDSA_SHA384_P384,
            SignatureScheme::EcdsaP384Sha384,
        )),
        other => Err(AuthError(match peer_hashes {
            Some(h) => format!(
                "the peer accepts signature hashes {} only, none usable with our {other:?} key",
                show_hashes(h)
            ),
            None => format!(
                "the peer sent no SIGNATURE_HASH_ALGORITHMS, and our {other:?} key has no legacy \
                 AUTH method we can sign with (RSA method 1 needs SHA-1)"
            ),
        })),
    }
}

fn show_hashes(h: &[HashAlgorithm]) -> String {
    let v: Vec<String> = h.iter().map(ToString::to_string).collect();
    if v.is_empty() {
        "(none)".into()
    } else {
        v.join(", ")
    }
}

impl Signer for CertSigner {
    fn certificates(&self) -> Vec<Vec<u8>> {
        self.chain.iter().map(|c| c.der().to_vec()).collect()
    }

    fn sign(
        &self,
        rng: &dyn SecureRandom,
        peer_hashes: Option<&[HashAlgorithm]>,
        signed_octets: &[u8],
    ) -> Result<(AuthMethod, Vec<u8>), AuthError> {
        let (method, scheme) = choose_method(self.key.key_type(), peer_hashes)?;
        let signer = self
            .key
            .signer(scheme)
            .map_err(|e| AuthError(format!("signer: {e}")))?;
        let data = sign_auth(method, &signer, rng, signed_octets)
            .map_err(|e| AuthError(format!("signing: {e}")))?;
        Ok((method, data))
    }
}

/// Wall-clock time as seconds since the Unix epoch, for certificate validity.
pub type UnixTime = Arc<dyn Fn() -> u64 + Send + Sync>;

/// Checks the peer's certificate chain, identity binding and AUTH signature.
#[derive(Clone)]
pub struct CertVerifier {
    anchors: TrustAnchors,
    now_unix: UnixTime,
}

impl core::fmt::Debug for CertVerifier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CertVerifier")
            .field("anchors", &self.anchors.anchors().len())
            .finish_non_exhaustive()
    }
}

impl CertVerifier {
    /// Trusts `anchors`; validity periods are checked at `now_unix()` (seconds since the Unix
    /// epoch), called once per verification. The engine reads no clock (STYLE.md guideline 1):
    /// the daemon passes a function reading the system's real-time clock, tests a constant.
    pub fn new(anchors: TrustAnchors, now_unix: UnixTime) -> Self {
        Self { anchors, now_unix }
    }
}

fn show_sans(c: &Certificate) -> String {
    let v: Vec<String> = c
        .subject_alt_names()
        .iter()
        .map(|n| match n {
            SubjectAltName::Dns(d) => format!("DNS:{d}"),
            SubjectAltName::Ip(a) => format!("IP:{a}"),
            SubjectAltName::Email(m) => format!("email:{m}"),
            other => format!("{other:?}"),
        })
        .collect();
    if v.is_empty() {
        "no subjectAltName".into()
    } else {
        v.join(", ")
    }
}

impl SignatureVerifier for CertVerifier {
    fn certificate_request(&self) -> Vec<u8> {
        self.anchors.certreq_data()
    }

    fn verify(&self, proof: &PeerProof<'_>) -> Result<SignatureScheme, AuthError> {
        let Some((ee_der, rest)) = proof.certificates.split_first() else {
            return Err(AuthError("no X.509 CERT payload".into()));
        };
        let ee = Certificate::from_der(ee_der)
            .map_err(|e| AuthError(format!("end-entity certificate: {e}")))?;
        let intermediates = rest
            .iter()
            .map(|d| Certificate::from_der(d))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| AuthError(format!("intermediate certificate: {e}")))?;
        let now = (self.now_unix)();
        self.anchors
            .validate(&ee, &intermediates, now)
            .map_err(|e| {
                AuthError(format!(
                    "certificate for {} not trusted: {}",
                    ee.subject(),
                    e
                ))
            })?;
        // RFC 4945 §3.1: the ID payload must be bound by the certificate.
        if !ee.matches_identity(proof.id.id_type, &proof.id.data) {
            let shown = crate::auth::identity(proof.id)
                .map_or_else(|| format!("of type {}", proof.id.id_type), |i| show(&i));
            return Err(AuthError(if proof.id.id_type == IdType::DER_ASN1_DN {
                format!(
                    "identity {shown} is not the certificate's subject {}",
                    ee.subject()
                )
            } else {
                format!(
                    "identity {shown} not in certificate SAN ({} has {})",
                    ee.subject(),
                    show_sans(&ee)
                )
            }));
        }
        verify_auth(
            proof.method,
            proof.auth_data,
            ee.spki(),
            proof.signed_octets,
        )
        .map_err(|e| {
            AuthError(format!(
                "{} signature by {} does not verify: {e}",
                proof.method,
                ee.subject()
            ))
        })
    }
}

fn show(id: &Identity) -> String {
    crate::auth::show_identity(id)
}

/// The CERTREQ data the responder sends in IKE_SA_INIT (RFC 7296 §1.2, §3.7), before it knows
/// which connection the peer wants: the CA hashes of every connection that may serve `remote`
/// and expects a signature, each hash once.
pub(crate) fn certreq_for(config: &EndpointConfig, remote: IpAddr) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    for c in config
        .connections
        .iter()
        .filter(|c| c.accepts_remote(remote))
    {
        if let RemoteAuth::Signature(v) = &c.remote_auth {
            for hash in v.certificate_request().chunks(CA_HASH_LEN) {
                if !out.chunks(CA_HASH_LEN).any(|h| h == hash) {
                    out.extend_from_slice(hash);
                }
            }
        }
    }
    out
}

/// The ID_DER_ASN1_DN payload for our DN identity `dn`: the subject of our end-entity
/// certificate (RFC 4945 §3.1.5), which must be that DN. `None` without such a certificate.
pub(crate) fn dn_id_payload(dn: &DistinguishedName, certificates: &[Vec<u8>]) -> Option<IdPayload> {
    let ee = Certificate::from_der(certificates.first()?).ok()?;
    let subject: DistinguishedName = ee.subject().parse().ok()?;
    (subject == *dn).then(|| IdPayload {
        id_type: IdType::DER_ASN1_DN,
        data: ee.subject_der().to_vec(),
    })
}

/// The identity an ID_DER_ASN1_DN payload names, from its DER `Name` (RFC 5280 §4.1.2.4).
pub(crate) fn dn_identity(der: &[u8]) -> Option<Identity> {
    use x509_parser::prelude::{FromDer, X509Name};
    match X509Name::from_der(der) {
        Ok(([], name)) => name.to_string().parse().ok().map(Identity::Dn),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_follows_the_peers_hashes() {
        let sha256 = [HashAlgorithm::SHA2_256];
        let sha384 = [HashAlgorithm::SHA2_384];
        let ident = [HashAlgorithm::IDENTITY];
        let m = |k, h: Option<&[HashAlgorithm]>| choose_method(k, h).map(|(m, s)| (m.0, s));
        // RFC 7427 §4: method 14 with a hash the peer announced.
        assert_eq!(
            m(KeyType::Rsa, Some(&sha384)),
            Ok((14, SignatureScheme::RsaPssSha384))
        );
        assert_eq!(
            m(KeyType::EcP256, Some(&sha256)),
            Ok((14, SignatureScheme::EcdsaP256Sha256))
        );
        assert_eq!(
            m(KeyType::Ed25519, Some(&ident)),
            Ok((14, SignatureScheme::Ed25519))
        );
        // No common hash or no notify: RFC 4754 methods for ECDSA, refusal otherwise.
        assert_eq!(
            m(KeyType::EcP256, Some(&sha384)),
            Ok((9, SignatureScheme::EcdsaP256Sha256))
        );
        assert_eq!(
            m(KeyType::EcP384, None),
            Ok((10, SignatureScheme::EcdsaP384Sha384))
        );
        let e = m(KeyType::Rsa, None).unwrap_err();
        assert!(e.0.contains("SIGNATURE_HASH_ALGORITHMS"), "{e}");
        let e = m(KeyType::Ed25519, Some(&sha256)).unwrap_err();
        assert!(e.0.contains("SHA2-256"), "{e}");
    }

    #[test]
    fn dn_identity_decodes_a_certificate_subject() {
        let pem = include_str!("../../crypto/testdata/pki/p256-leaf.pem");
        let cert = &Certificate::from_pem(pem).unwrap()[0];
        let id = dn_identity(cert.subject_der()).unwrap();
        let dn: DistinguishedName = "C=US, O=Example, CN=gw-a.ipx.example".parse().unwrap();
        assert_eq!(id, Identity::Dn(dn.clone()));
        let p = dn_id_payload(&dn, &[cert.der().to_vec()]).unwrap();
        assert_eq!(p.data, cert.subject_der());
        let other: DistinguishedName = "CN=someone else".parse().unwrap();
        assert!(dn_id_payload(&other, &[cert.der().to_vec()]).is_none());
        assert!(dn_identity(b"\x30\x03\x02\x01\x00").is_none());
    }
}
