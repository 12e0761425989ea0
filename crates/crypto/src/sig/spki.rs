//! SubjectPublicKeyInfo: the key type and the raw key bytes aws-lc-rs verifies with.
//!
//! ```text
//!   SubjectPublicKeyInfo ::= SEQUENCE {                 (RFC 5280 §4.1.2.7)
//!       algorithm         AlgorithmIdentifier,
//!       subjectPublicKey  BIT STRING }
//! ```
//! rsaEncryption keys carry an RSAPublicKey in the BIT STRING (RFC 3279 §2.3.1), EC keys an
//! uncompressed point with the curve in the parameters (RFC 5480 §2), Ed25519 the 32-byte key
//! (RFC 8410 §4).

use super::der::{Reader, tag};
use super::{KeyType, SigError};

const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const SECP256R1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const SECP384R1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// Splits a DER SubjectPublicKeyInfo into its key type and the subjectPublicKey bits.
pub(crate) fn parse_spki(spki: &[u8]) -> Result<(KeyType, &[u8]), SigError> {
    let mut outer = Reader::new(spki);
    let mut seq = Reader::new(outer.read(tag::SEQUENCE, "SubjectPublicKeyInfo")?);
    outer.finish("SubjectPublicKeyInfo: trailing data")?;
    let mut alg = Reader::new(seq.read(tag::SEQUENCE, "SubjectPublicKeyInfo algorithm")?);
    let bits = seq.read(tag::BIT_STRING, "subjectPublicKey")?;
    seq.finish("SubjectPublicKeyInfo: trailing data")?;
    let key = match bits {
        [0, key @ ..] if !key.is_empty() => key,
        _ => {
            return Err(SigError::Malformed(
                "subjectPublicKey: unused bits or empty",
            ));
        }
    };
    let oid = alg.read(tag::OID, "SubjectPublicKeyInfo algorithm OID")?;
    let key_type = match oid {
        RSA_ENCRYPTION => KeyType::Rsa,
        ED25519 => KeyType::Ed25519,
        EC_PUBLIC_KEY => match alg.read(tag::OID, "EC named curve")? {
            SECP256R1 => KeyType::EcP256,
            SECP384R1 => KeyType::EcP384,
            other => {
                return Err(SigError::UnknownAlgorithm {
                    oid: super::der::oid_to_string(other),
                });
            }
        },
        other => {
            return Err(SigError::UnknownAlgorithm {
                oid: super::der::oid_to_string(other),
            });
        }
    };
    Ok((key_type, key))
}

/// The key type a DER SubjectPublicKeyInfo holds.
pub fn key_type_of_spki(spki: &[u8]) -> Result<KeyType, SigError> {
    parse_spki(spki).map(|(t, _)| t)
}
