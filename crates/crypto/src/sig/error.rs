//! The error type of the signature layer: who is at fault shows in the variant (a peer's bad
//! signature or unknown algorithm, versus our own key or configuration).

use super::SignatureScheme;

/// Everything that can go wrong while loading a key, signing or verifying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SigError {
    /// The signature does not verify under the key (RFC 7296: AUTHENTICATION_FAILED).
    #[error("signature verification failed")]
    BadSignature,
    /// A peer's AlgorithmIdentifier names an algorithm this crate does not know.
    #[error("unknown signature algorithm OID {oid}")]
    UnknownAlgorithm {
        /// The OID in dotted form, e.g. "1.2.840.10045.4.3.2".
        oid: String,
    },
    /// A known algorithm with parameters this crate does not implement (e.g. an RSASSA-PSS salt
    /// length other than the hash length, or a hash this layer does not offer).
    #[error("unsupported signature parameters: {0}")]
    UnsupportedParameters(&'static str),
    /// Bytes that are not the DER / PEM / AUTH structure they should be.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// The public or private key is of a type that cannot produce or check this scheme.
    #[error("key does not fit signature scheme {scheme:?}")]
    KeyMismatch {
        /// The scheme that was asked for.
        scheme: SignatureScheme,
    },
    /// An operation this crate deliberately does not implement (the message says which).
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// The private key was rejected by the backend (bad PKCS#8, weak or unsupported key).
    #[error("private key rejected: {0}")]
    BadKey(&'static str),
}
