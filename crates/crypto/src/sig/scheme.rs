//! Signature schemes: which key, padding and hash a signature uses, and the aws-lc-rs
//! algorithm behind each. RFC 7427 §7 / RFC 8420 hash IDs for SIGNATURE_HASH_ALGORITHMS.

use aws_lc_rs::signature as sig;
use rampart_wire::ike::iana::HashAlgorithm;

/// The type of a public or private key, as its SubjectPublicKeyInfo names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyType {
    /// RSA (rsaEncryption), any supported modulus size (2048..8192 bits).
    Rsa,
    /// ECDSA on NIST P-256 (secp256r1).
    EcP256,
    /// ECDSA on NIST P-384 (secp384r1).
    EcP384,
    /// Ed25519 (RFC 8410).
    Ed25519,
}

/// A complete signature scheme: key type, padding and hash.
///
/// The `EcdsaP256Sha384`-style cross combinations exist because an RFC 7427 ECDSA
/// AlgorithmIdentifier names only the hash: a peer may sign with any hash on any curve. Our own
/// signers use the curve's matching hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureScheme {
    /// RSA PKCS#1 v1.5 with SHA-1: IKEv2 auth method 1 (RFC 7296 §3.8). Verify only.
    RsaPkcs1Sha1,
    /// RSA PKCS#1 v1.5 with SHA-256 (sha256WithRSAEncryption).
    RsaPkcs1Sha256,
    /// RSA PKCS#1 v1.5 with SHA-384.
    RsaPkcs1Sha384,
    /// RSA PKCS#1 v1.5 with SHA-512.
    RsaPkcs1Sha512,
    /// RSASSA-PSS, SHA-256, MGF1 with SHA-256, salt length 32 (RFC 4055 / RFC 8017).
    RsaPssSha256,
    /// RSASSA-PSS, SHA-384, MGF1 with SHA-384, salt length 48.
    RsaPssSha384,
    /// RSASSA-PSS, SHA-512, MGF1 with SHA-512, salt length 64.
    RsaPssSha512,
    /// ECDSA P-256 with SHA-256 (auth method 9 with fixed `r || s`, or method 14 with DER).
    EcdsaP256Sha256,
    /// ECDSA P-256 with SHA-384 (verify, method 14 only).
    EcdsaP256Sha384,
    /// ECDSA P-256 with SHA-512 (verify, method 14 only).
    EcdsaP256Sha512,
    /// ECDSA P-384 with SHA-256 (verify, method 14 only).
    EcdsaP384Sha256,
    /// ECDSA P-384 with SHA-384 (auth method 10, or method 14).
    EcdsaP384Sha384,
    /// ECDSA P-384 with SHA-512 (verify, method 14 only).
    EcdsaP384Sha512,
    /// Ed25519 (RFC 8420): the message is signed whole, hash ID "Identity".
    Ed25519,
}

impl SignatureScheme {
    /// Every scheme, for tests and for listing.
    pub const ALL: &'static [Self] = &[
        Self::RsaPkcs1Sha1,
        Self::RsaPkcs1Sha256,
        Self::RsaPkcs1Sha384,
        Self::RsaPkcs1Sha512,
        Self::RsaPssSha256,
        Self::RsaPssSha384,
        Self::RsaPssSha512,
        Self::EcdsaP256Sha256,
        Self::EcdsaP256Sha384,
        Self::EcdsaP256Sha512,
        Self::EcdsaP384Sha256,
        Self::EcdsaP384Sha384,
        Self::EcdsaP384Sha512,
        Self::Ed25519,
    ];

    /// The key type this scheme needs.
    pub fn key_type(self) -> KeyType {
        match self {
            Self::RsaPkcs1Sha1
            | Self::RsaPkcs1Sha256
            | Self::RsaPkcs1Sha384
            | Self::RsaPkcs1Sha512
            | Self::RsaPssSha256
            | Self::RsaPssSha384
            | Self::RsaPssSha512 => KeyType::Rsa,
            Self::EcdsaP256Sha256 | Self::EcdsaP256Sha384 | Self::EcdsaP256Sha512 => {
                KeyType::EcP256
            }
            Self::EcdsaP384Sha256 | Self::EcdsaP384Sha384 | Self::EcdsaP384Sha512 => {
                KeyType::EcP384
            }
            Self::Ed25519 => KeyType::Ed25519,
        }
    }

    /// The hash ID this scheme uses in SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4, RFC 8420 §2:
    /// Ed25519 signs the data whole and announces "Identity").
    pub fn hash_algorithm(self) -> HashAlgorithm {
        match self {
            Self::RsaPkcs1Sha1 => HashAlgorithm::SHA1,
            Self::RsaPkcs1Sha256
            | Self::RsaPssSha256
            | Self::EcdsaP256Sha256
            | Self::EcdsaP384Sha256 => HashAlgorithm::SHA2_256,
            Self::RsaPkcs1Sha384
            | Self::RsaPssSha384
            | Self::EcdsaP256Sha384
            | Self::EcdsaP384Sha384 => HashAlgorithm::SHA2_384,
            Self::RsaPkcs1Sha512
            | Self::RsaPssSha512
            | Self::EcdsaP256Sha512
            | Self::EcdsaP384Sha512 => HashAlgorithm::SHA2_512,
            Self::Ed25519 => HashAlgorithm::IDENTITY,
        }
    }

    /// The schemes an in-process key of `key_type` can sign with, preferred first.
    pub fn signing_schemes(key_type: KeyType) -> &'static [Self] {
        match key_type {
            KeyType::Rsa => &[
                Self::RsaPssSha256,
                Self::RsaPssSha384,
                Self::RsaPssSha512,
                Self::RsaPkcs1Sha256,
                Self::RsaPkcs1Sha384,
                Self::RsaPkcs1Sha512,
            ],
            KeyType::EcP256 => &[Self::EcdsaP256Sha256],
            KeyType::EcP384 => &[Self::EcdsaP384Sha384],
            KeyType::Ed25519 => &[Self::Ed25519],
        }
    }

    /// The scheme for `key_type` whose hash is `hash`, if one exists (used to pair an RFC 7427
    /// ECDSA AlgorithmIdentifier, which names only the hash, with the curve of the peer's key).
    pub fn ecdsa_for(key_type: KeyType, hash: HashAlgorithm) -> Option<Self> {
        [
            Self::EcdsaP256Sha256,
            Self::EcdsaP256Sha384,
            Self::EcdsaP256Sha512,
            Self::EcdsaP384Sha256,
            Self::EcdsaP384Sha384,
            Self::EcdsaP384Sha512,
        ]
        .into_iter()
        .find(|s| s.key_type() == key_type && s.hash_algorithm() == hash)
    }

    /// The aws-lc-rs verification algorithm (ECDSA in its DER form).
    pub(crate) fn verification_algorithm(self) -> &'static dyn sig::VerificationAlgorithm {
        match self {
            Self::RsaPkcs1Sha1 => &sig::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            Self::RsaPkcs1Sha256 => &sig::RSA_PKCS1_2048_8192_SHA256,
            Self::RsaPkcs1Sha384 => &sig::RSA_PKCS1_2048_8192_SHA384,
            Self::RsaPkcs1Sha512 => &sig::RSA_PKCS1_2048_8192_SHA512,
            Self::RsaPssSha256 => &sig::RSA_PSS_2048_8192_SHA256,
            Self::RsaPssSha384 => &sig::RSA_PSS_2048_8192_SHA384,
            Self::RsaPssSha512 => &sig::RSA_PSS_2048_8192_SHA512,
            Self::EcdsaP256Sha256 => &sig::ECDSA_P256_SHA256_ASN1,
            Self::EcdsaP256Sha384 => &sig::ECDSA_P256_SHA384_ASN1,
            Self::EcdsaP256Sha512 => &sig::ECDSA_P256_SHA512_ASN1,
            Self::EcdsaP384Sha256 => &sig::ECDSA_P384_SHA256_ASN1,
            Self::EcdsaP384Sha384 => &sig::ECDSA_P384_SHA384_ASN1,
            Self::EcdsaP384Sha512 => &sig::ECDSA_P384_SHA512_ASN1,
            Self::Ed25519 => &sig::ED25519,
        }
    }
}
