//! The AUTH payload's Authentication Data for the signature methods (RFC 7296 §3.8): what
//! [`sign_auth`] produces and [`verify_auth`] checks, given the octets RFC 7296 §2.15 says to
//! sign (`RealMessage | Nonce | prf(SK_p, IDx')`, built by the IKE engine).
//!
//! Method 14, Digital Signature (RFC 7427 §3):
//! ```text
//!                         1                   2                   3
//!     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//!    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!    | ASN.1 Length  | AlgorithmIdentifier ASN.1 object              |
//!    +-+-+-+-+-+-+-+-+                                               +
//!    ~        AlgorithmIdentifier ASN.1 object continuing            ~
//!    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!    ~                         Signature Value                       ~
//!    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! Methods 1 (RSA PKCS#1 v1.5 with SHA-1, RFC 7296 §3.8) and 9/10 (ECDSA P-256/SHA-256 and
//! P-384/SHA-384 with fixed `r || s`, RFC 4754 §7) carry the bare signature.

use rampart_wire::ike::iana::AuthMethod;

use super::spki::parse_spki;
use super::{KeyType, SigError, SignatureAlgorithm, SignatureScheme, Signer, ecdsa, verify};
use crate::{CryptoError, SecureRandom};

/// Field length of the curve for RFC 4754 fixed signatures.
fn field_len(scheme: SignatureScheme) -> usize {
    match scheme.key_type() {
        KeyType::EcP384 => 48,
        _ => 32,
    }
}

/// The scheme a legacy method fixes, or `None` for method 14 / non-signature methods.
fn legacy_scheme(method: AuthMethod) -> Option<SignatureScheme> {
    match method {
        AuthMethod::RSA_SIG => Some(SignatureScheme::RsaPkcs1Sha1),
        AuthMethod::ECDSA_SHA256_P256 => Some(SignatureScheme::EcdsaP256Sha256),
        AuthMethod::ECDSA_SHA384_P384 => Some(SignatureScheme::EcdsaP384Sha384),
        _ => None,
    }
}

/// Signs `signed_octets` and returns the AUTH payload's Authentication Data for `method`:
/// 14 (any scheme), 9 (signer must be ECDSA P-256/SHA-256) or 10 (P-384/SHA-384).
///
/// Method 1 needs an RSA PKCS#1 v1.5 SHA-1 signature, which aws-lc-rs does not produce, so it is
/// [`SigError::Unsupported`]; use method 14 with an RSA scheme instead. Verifying method 1 is
/// supported ([`verify_auth`]).
pub fn sign_auth(
    method: AuthMethod,
    signer: &dyn Signer,
    rng: &dyn SecureRandom,
    signed_octets: &[u8],
) -> Result<Vec<u8>, SigError> {
    let scheme = signer.algorithm();
    let sign = |m: &[u8]| {
        signer.sign(rng, m).map_err(|e: CryptoError| match e {
            CryptoError::RandomFailed => SigError::Unsupported("random generator failed"),
            _ => SigError::BadKey("signer failed"),
        })
    };
    match method {
        AuthMethod::DIGITAL_SIGNATURE => {
            let algid = scheme.algorithm_identifier();
            let len = u8::try_from(algid.len())
                .map_err(|_| SigError::Malformed("AlgorithmIdentifier longer than 255 octets"))?;
            let sig = sign(signed_octets)?;
            let mut out = Vec::with_capacity(1 + algid.len() + sig.len());
            out.push(len);
            out.extend_from_slice(&algid);
            out.extend_from_slice(&sig);
            Ok(out)
        }
        AuthMethod::RSA_SIG => Err(SigError::Unsupported(
            "signing with auth method 1 (RSA PKCS#1 v1.5 SHA-1): aws-lc-rs has no SHA-1 RSA signing; use method 14",
        )),
        AuthMethod::ECDSA_SHA256_P256 | AuthMethod::ECDSA_SHA384_P384 => {
            if legacy_scheme(method) != Some(scheme) {
                return Err(SigError::KeyMismatch { scheme });
            }
            ecdsa::der_to_fixed(&sign(signed_octets)?, field_len(scheme))
        }
        _ => Err(SigError::Unsupported(
            "auth method is not a signature method this crate signs",
        )),
    }
}

/// Verifies a peer's AUTH payload Authentication Data for `method` against the peer's
/// SubjectPublicKeyInfo (from its end-entity certificate, after chain validation), and returns
/// the scheme it used so the caller can hold it to the hashes it announced in
/// SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4) and to local policy.
pub fn verify_auth(
    method: AuthMethod,
    auth_data: &[u8],
    peer_spki: &[u8],
    signed_octets: &[u8],
) -> Result<SignatureScheme, SigError> {
    let (key_type, _) = parse_spki(peer_spki)?;
    match method {
        AuthMethod::DIGITAL_SIGNATURE => {
            let (&len, rest) = auth_data
                .split_first()
                .ok_or(SigError::Malformed("Digital Signature AUTH: empty"))?;
            let (algid, signature) =
                rest.split_at_checked(usize::from(len))
                    .ok_or(SigError::Malformed(
                        "Digital Signature AUTH: AlgorithmIdentifier truncated",
                    ))?;
            let scheme = SignatureAlgorithm::from_der(algid)?.scheme_for(key_type)?;
            verify(scheme, peer_spki, signed_octets, signature)?;
            Ok(scheme)
        }
        AuthMethod::RSA_SIG => {
            let scheme = SignatureScheme::RsaPkcs1Sha1;
            verify(scheme, peer_spki, signed_octets, auth_data)?;
            Ok(scheme)
        }
        AuthMethod::ECDSA_SHA256_P256 | AuthMethod::ECDSA_SHA384_P384 => {
            let scheme = legacy_scheme(method).ok_or(SigError::Unsupported("auth method"))?;
            if auth_data.len() != 2 * field_len(scheme) {
                return Err(SigError::Malformed(
                    "RFC 4754 signature: wrong length for the curve",
                ));
            }
            verify(
                scheme,
                peer_spki,
                signed_octets,
                &ecdsa::fixed_to_der(auth_data)?,
            )?;
            Ok(scheme)
        }
        _ => Err(SigError::Unsupported(
            "auth method is not a signature method this crate verifies",
        )),
    }
}
