//! One-shot signature verification against a public key, over aws-lc-rs.

use aws_lc_rs::signature::UnparsedPublicKey;

use super::spki::parse_spki;
use super::{SigError, SignatureScheme};

/// Verifies `signature` over `message` with `scheme`.
///
/// `public_key` is a DER SubjectPublicKeyInfo (as in a certificate); when it does not parse as
/// one, it is taken as the raw key the scheme's key type uses (RSAPublicKey DER, uncompressed EC
/// point, 32-byte Ed25519 key). ECDSA signatures are DER (`ECDSA-Sig-Value`); convert RFC 4754
/// fixed ones with [`super::ecdsa::fixed_to_der`] first.
pub fn verify(
    scheme: SignatureScheme,
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), SigError> {
    let raw = match parse_spki(public_key) {
        Ok((key_type, raw)) => {
            if key_type != scheme.key_type() {
                return Err(SigError::KeyMismatch { scheme });
            }
            raw
        }
        Err(_) => public_key,
    };
    UnparsedPublicKey::new(scheme.verification_algorithm(), raw)
        .verify(message, signature)
        .map_err(|_| SigError::BadSignature)
}
