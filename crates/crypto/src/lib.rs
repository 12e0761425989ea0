//! Rampart's algorithm registry: IANA transform IDs to implementations, over aws-lc-rs.
//!
//! Sits beside `rampart-wire` at the bottom of the graph (DESIGN.md §1). Every secret lives in a
//! type that zeroizes on drop and never prints.
//!
//! - [`Aead`] (AES-GCM, ChaCha20-Poly1305) and [`Cipher`] + [`Integ`] (AES-CBC / NULL with
//!   HMAC): ESP and IKE SK payload protection, in place.
//! - [`Prf`]: IKE `prf` and `prf+`.
//! - [`KeyExchange`]: ECP 256/384, Curve25519, MODP 2048/3072/4096.
//! - [`SecureRandom`]: the injected randomness, with [`SystemRandom`] and
//!   [`DeterministicRandom`].
//! - [`registry`]: IANA IDs to the above.
//! - [`sig`]: signatures for IKEv2 certificate authentication (RFC 7427), behind the
//!   [`Signer`] trait; [`cert`]: X.509 certificates, chain validation, CERTREQ hashes.
//!
//! The one module with `unsafe` is the MODP bignum wrapper (`ke::bn`), which allows it locally.
#![deny(unsafe_code)]

pub mod aead;
pub mod cert;
pub mod cipher;
mod error;
pub mod integ;
pub mod ke;
pub mod prf;
pub mod proposal;
pub mod registry;
pub mod rng;
mod secret;
pub mod sig;
#[cfg(test)]
mod testutil;

pub use aead::{Aead, AeadAlg, Icv};
pub use cert::{CertError, Certificate, TrustAnchors};
pub use cipher::{Cipher, CipherAlg};
pub use error::CryptoError;
pub use integ::{Integ, IntegAlg};
pub use ke::KeyExchange;
pub use prf::{Prf, PrfAlg, prf, prf_plus};
pub use registry::EncrAlg;
pub use rng::{DeterministicRandom, SecureRandom, SystemRandom};
pub use secret::SecretBytes;
pub use sig::{SigError, SignatureScheme, Signer};
