//! In-process private keys: PKCS#8 (RFC 5958) RSA, ECDSA P-256/P-384 and Ed25519 keys held by
//! aws-lc, and the [`InProcessSigner`] that signs with one of them.
//!
//! Key material lives inside aws-lc (which cleanses it when freed); the DER/PEM input is read
//! through zeroizing buffers, and `Debug` prints only the key type.

use std::sync::Arc;

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom as AwsRandom;
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};

use super::pem::pem_block;
use super::{KeyType, SigError, SignatureScheme, Signer};
use crate::{CryptoError, SecureRandom};

enum Inner {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair, KeyType),
    Ed25519(Ed25519KeyPair),
}

/// A private key loaded from PKCS#8, shareable between signers of different schemes.
#[derive(Clone)]
pub struct PrivateKey {
    inner: Arc<Inner>,
    spki: Arc<[u8]>,
}

impl core::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PrivateKey({:?}, [redacted])", self.key_type())
    }
}

impl PrivateKey {
    /// Loads a PKCS#8 v1/v2 DER private key (RSA, EC P-256/P-384 or Ed25519).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, SigError> {
        let inner = if let Ok(k) = RsaKeyPair::from_pkcs8(der) {
            Inner::Rsa(k)
        } else if let Ok(k) = EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, der) {
            Inner::Ec(k, KeyType::EcP256)
        } else if let Ok(k) = EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P384_SHA384_ASN1_SIGNING, der) {
            Inner::Ec(k, KeyType::EcP384)
        } else if let Ok(k) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
            Inner::Ed25519(k)
        } else {
            return Err(SigError::BadKey(
                "not an RSA, P-256, P-384 or Ed25519 PKCS#8 key",
            ));
        };
        let spki = public_spki(&inner)?;
        Ok(Self {
            inner: Arc::new(inner),
            spki: spki.into(),
        })
    }

    /// Loads a PEM `PRIVATE KEY` (PKCS#8) block.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, SigError> {
        Self::from_pkcs8_der(&pem_block(pem, "PRIVATE KEY")?)
    }

    /// The key's type.
    pub fn key_type(&self) -> KeyType {
        match &*self.inner {
            Inner::Rsa(_) => KeyType::Rsa,
            Inner::Ec(_, t) => *t,
            Inner::Ed25519(_) => KeyType::Ed25519,
        }
    }

    /// The DER SubjectPublicKeyInfo of the public half.
    pub fn public_key_spki(&self) -> &[u8] {
        &self.spki
    }

    /// A signer for `scheme`, which must be one of
    /// [`SignatureScheme::signing_schemes`]`(self.key_type())`.
    pub fn signer(&self, scheme: SignatureScheme) -> Result<InProcessSigner, SigError> {
        if !SignatureScheme::signing_schemes(self.key_type()).contains(&scheme) {
            return Err(SigError::KeyMismatch { scheme });
        }
        Ok(InProcessSigner {
            key: self.clone(),
            scheme,
        })
    }
}

fn public_spki(inner: &Inner) -> Result<Vec<u8>, SigError> {
    let der: Result<PublicKeyX509Der<'static>, _> = match inner {
        Inner::Rsa(k) => k.public_key().as_der(),
        Inner::Ec(k, _) => k.public_key().as_der(),
        Inner::Ed25519(k) => k.public_key().as_der(),
    };
    der.map(|d| d.as_ref().to_vec())
        .map_err(|_| SigError::BadKey("public key encoding"))
}

/// A [`Signer`] over an in-process [`PrivateKey`] and one scheme.
#[derive(Debug, Clone)]
pub struct InProcessSigner {
    key: PrivateKey,
    scheme: SignatureScheme,
}

impl Signer for InProcessSigner {
    fn algorithm(&self) -> SignatureScheme {
        self.scheme
    }

    fn sign(&self, _rng: &dyn SecureRandom, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        // aws-lc-rs ignores the rng it is handed and draws ECDSA nonces and PSS salts from
        // aws-lc's own DRBG; see the trait's note.
        let aws_rng = AwsRandom::new();
        let failed = |_| CryptoError::Backend("signature");
        match &*self.key.inner {
            Inner::Rsa(k) => {
                let encoding: &'static dyn sig::RsaEncoding = match self.scheme {
                    SignatureScheme::RsaPkcs1Sha256 => &sig::RSA_PKCS1_SHA256,
                    SignatureScheme::RsaPkcs1Sha384 => &sig::RSA_PKCS1_SHA384,
                    SignatureScheme::RsaPkcs1Sha512 => &sig::RSA_PKCS1_SHA512,
                    SignatureScheme::RsaPssSha256 => &sig::RSA_PSS_SHA256,
                    SignatureScheme::RsaPssSha384 => &sig::RSA_PSS_SHA384,
                    SignatureScheme::RsaPssSha512 => &sig::RSA_PSS_SHA512,
                    _ => return Err(CryptoError::Backend("RSA scheme checked at construction")),
                };
                let mut out = vec![0; k.public_modulus_len()];
                k.sign(encoding, &aws_rng, message, &mut out)
                    .map_err(failed)?;
                Ok(out)
            }
            Inner::Ec(k, _) => Ok(k.sign(&aws_rng, message).map_err(failed)?.as_ref().to_vec()),
            Inner::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
        }
    }

    fn public_key_spki(&self) -> &[u8] {
        self.key.public_key_spki()
    }
}
