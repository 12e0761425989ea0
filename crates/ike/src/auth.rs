//! Authentication of the IKE SA (RFC 7296 §2.15): the signed octets, the PSK integrity code, and
//! the trait seam for signature authentication.
//!
//! PSK is implemented here. Signatures go through [`Signer`] (`Send + Sync` trait objects, so
//! private keys can later live in another process or an HSM) and [`SignatureVerifier`] (given the
//! peer's certificates); `cert.rs` implements both over `rampart-crypto`'s X.509 code.

use rampart_crypto::sig::SignatureScheme;
use rampart_crypto::{Prf, PrfAlg, SecretBytes, SecureRandom};
use rampart_policy::pad::Identity;
use rampart_wire::ike::IdPayload;
use rampart_wire::ike::iana::{AuthMethod, HashAlgorithm, IdType};

/// The padding string of the PSK integrity code (RFC 7296 §2.15).
const KEY_PAD: &[u8] = b"Key Pad for IKEv2";

/// Why a signer or verifier refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AuthError(pub String);

/// Makes our AUTH signature (RFC 7296 §2.15, RFC 7427). Implementations may forward the request
/// to another process or an HSM; the engine only sees the bytes. [`CertSigner`] is the
/// in-process one.
///
/// [`CertSigner`]: crate::CertSigner
pub trait Signer: Send + Sync {
    /// Our certificate chain, end entity first, DER-encoded, for CERT payloads.
    fn certificates(&self) -> Vec<Vec<u8>>;
    /// The AUTH method and Authentication Data over `signed_octets`. `peer_hashes` is what the
    /// peer announced in SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4), `None` if it sent none: with
    /// method 14 the signature's hash must be one of them.
    fn sign(
        &self,
        rng: &dyn SecureRandom,
        peer_hashes: Option<&[HashAlgorithm]>,
        signed_octets: &[u8],
    ) -> Result<(AuthMethod, Vec<u8>), AuthError>;
}

/// What the peer offered as proof of its identity in IKE_AUTH.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct PeerProof<'a> {
    /// The peer's IDi or IDr payload.
    pub id: &'a IdPayload,
    /// The data of its CERT payloads of encoding X.509 Signature, in order (end entity first).
    pub certificates: &'a [Vec<u8>],
    /// The AUTH method.
    pub method: AuthMethod,
    /// The AUTH payload's Authentication Data.
    pub auth_data: &'a [u8],
    /// The octets the signature must cover (RFC 7296 §2.15).
    pub signed_octets: &'a [u8],
}

/// Checks the peer's AUTH signature against the certificates it sent. [`CertVerifier`] is the
/// X.509 one.
///
/// [`CertVerifier`]: crate::CertVerifier
pub trait SignatureVerifier: Send + Sync {
    /// The Certification Authority data of the CERTREQ we send (RFC 7296 §3.7: the SHA-1 hashes
    /// of our trust anchors' public keys); empty: send no CERTREQ.
    fn certificate_request(&self) -> Vec<u8>;
    /// Whether `proof` holds the peer's signature over its signed octets, made by the key of its
    /// end-entity certificate, which must chain to a trust anchor and bind the ID payload.
    /// Returns the signature scheme used, so the engine can hold it to the hashes it announced;
    /// the error is a diagnosis for the operator.
    fn verify(&self, proof: &PeerProof<'_>) -> Result<SignatureScheme, AuthError>;
}

/// The octets an AUTH payload covers (RFC 7296 §2.15):
///
/// ```text
/// InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI
/// MACedIDForI = prf(SK_pi, RestOfInitIDPayload)
/// ResponderSignedOctets = RealMessage2 | NonceIData | MACedIDForR
/// MACedIDForR = prf(SK_pr, RestOfRespIDPayload)
/// ```
///
/// `own_sa_init` is the whole IKE_SA_INIT message the signer sent (the last one, with the cookie
/// if any), `peer_nonce` the other side's nonce, `sk_p` the signer's SK_pi or SK_pr, and `id`
/// the signer's ID payload (whose type, reserved octets and data form RestOf...IDPayload).
pub(crate) fn signed_octets(
    prf: PrfAlg,
    own_sa_init: &[u8],
    peer_nonce: &[u8],
    sk_p: &SecretBytes,
    id: &IdPayload,
) -> Vec<u8> {
    let maced_id = Prf::new(prf, sk_p.expose()).compute(&[&[id.id_type.0, 0, 0, 0], &id.data]);
    [own_sa_init, peer_nonce, maced_id.expose()].concat()
}

/// The PSK integrity code: `prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)`
/// (RFC 7296 §2.15).
pub(crate) fn psk_auth(prf: PrfAlg, psk: &SecretBytes, signed_octets: &[u8]) -> SecretBytes {
    let key = Prf::new(prf, psk.expose()).compute(&[KEY_PAD]);
    Prf::new(prf, key.expose()).compute(&[signed_octets])
}

/// The ID payload asserting `id` (RFC 7296 §3.5). Distinguished names need their DER form, which
/// only our certificate has (see `cert::dn_id_payload`): refused here.
pub(crate) fn id_payload(id: &Identity) -> Option<IdPayload> {
    let (id_type, data) = match id {
        Identity::Addr(std::net::IpAddr::V4(a)) => (IdType::IPV4_ADDR, a.octets().to_vec()),
        Identity::Addr(std::net::IpAddr::V6(a)) => (IdType::IPV6_ADDR, a.octets().to_vec()),
        Identity::Fqdn(n) => (IdType::FQDN, n.as_bytes().to_vec()),
        Identity::Rfc822(m) => (IdType::RFC822_ADDR, m.as_bytes().to_vec()),
        Identity::KeyId(k) => (IdType::KEY_ID, k.clone()),
        _ => return None,
    };
    Some(IdPayload { id_type, data })
}

/// The identity an ID payload asserts, or `None` if we cannot interpret it.
pub(crate) fn identity(p: &IdPayload) -> Option<Identity> {
    if p.id_type == IdType::DER_ASN1_DN {
        return crate::cert::dn_identity(&p.data);
    }
    Identity::from_wire(p.id_type.0, &p.data).ok()
}

/// A short printable form of an identity for diagnoses: `gw-b.example`, `192.0.2.1`.
pub(crate) fn show_identity(id: &Identity) -> String {
    match id {
        Identity::Fqdn(n) => n.clone(),
        Identity::Rfc822(m) => m.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_round_trips_through_id_payload() {
        for id in [
            Identity::Fqdn("gw-a.example".into()),
            Identity::Rfc822("alice@example.com".into()),
            Identity::Addr("192.0.2.1".parse().unwrap()),
            Identity::Addr("2001:db8::1".parse().unwrap()),
            Identity::KeyId(vec![1, 2, 3]),
        ] {
            let p = id_payload(&id).unwrap();
            assert_eq!(identity(&p), Some(id));
        }
    }

    /// RFC 7296 §2.15 computed by hand with HMAC-SHA-256 from aws-lc directly, not through
    /// `Prf`: the two layers of keying must be in this order.
    #[test]
    fn psk_auth_follows_the_formula() {
        use aws_lc_rs::hmac;
        let psk = SecretBytes::from_slice(b"correct horse battery staple");
        let octets = b"message|nonce|maced-id";
        let inner = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, psk.expose()), KEY_PAD);
        let outer = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, inner.as_ref()), octets);
        let ours = psk_auth(PrfAlg::HmacSha256, &psk, octets);
        assert_eq!(ours.expose(), outer.as_ref());
    }
}
