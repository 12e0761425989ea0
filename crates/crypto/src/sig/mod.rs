//! Digital signatures for IKEv2 certificate authentication (RFC 7296 §2.15, RFC 7427).
//!
//! Sits under the IKE engine's AUTH payload handling: the engine builds the octets to sign
//! (RFC 7296 §2.15), then calls [`sign_auth`] with a [`Signer`] to get the AUTH payload's
//! Authentication Data, and [`verify_auth`] with the peer's certificate key to check it.
//!
//! - [`SignatureScheme`]: key type + padding + hash, with its RFC 7427 AlgorithmIdentifier and
//!   its SIGNATURE_HASH_ALGORITHMS hash ID.
//! - [`Signer`]: the signing trait (private keys may live in another process or an HSM), with
//!   the in-process [`InProcessSigner`] over a PKCS#8 [`PrivateKey`].
//! - [`verify`]: one signature against a SubjectPublicKeyInfo (or raw public key).
//! - [`algid`]: RFC 7427 AlgorithmIdentifier blobs; [`ecdsa`]: DER <-> fixed `r || s`
//!   (RFC 4754 methods 9/10).

pub mod algid;
mod auth;
pub(crate) mod der;
pub mod ecdsa;
mod error;
mod key;
mod pem;
mod scheme;
mod spki;
mod verify;

pub use algid::SignatureAlgorithm;
pub use auth::{sign_auth, verify_auth};
pub use error::SigError;
pub use key::{InProcessSigner, PrivateKey};
pub use pem::{PemBlock, pem_blocks};
pub use scheme::{KeyType, SignatureScheme};
pub use spki::key_type_of_spki;
pub use verify::verify;

use crate::{CryptoError, SecureRandom};

/// Something that can sign with one private key and one [`SignatureScheme`].
///
/// The trait is object-safe and `Send + Sync` so that the key can live behind an IPC channel or an
/// HSM session (DESIGN.md §1) while `IkeSa`s on several threads share one `Arc<dyn Signer>`.
pub trait Signer: Send + Sync {
    /// The scheme this signer produces; fixed for the signer's lifetime.
    fn algorithm(&self) -> SignatureScheme;

    /// Signs `message` (hashing it as the scheme says; Ed25519 signs it whole). ECDSA signatures
    /// come out DER-encoded (`ECDSA-Sig-Value`, RFC 3279 §2.2.3), RSA and Ed25519 ones raw.
    ///
    /// `rng` is the injected randomness for signers that draw their own (ECDSA nonces, PSS
    /// salts); the in-process aws-lc backend draws them from aws-lc's internal DRBG instead,
    /// because aws-lc-rs takes no caller randomness for signing.
    fn sign(&self, rng: &dyn SecureRandom, message: &[u8]) -> Result<Vec<u8>, CryptoError>;

    /// The DER SubjectPublicKeyInfo of the matching public key.
    fn public_key_spki(&self) -> &[u8];
}

#[cfg(test)]
pub(crate) mod tests;
