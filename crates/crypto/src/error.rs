//! The one error type of `rampart-crypto`.
//!
//! Errors name what went wrong without carrying secret material: a failed ICV check is just
//! [`CryptoError::AuthenticationFailed`], never "which byte differed".

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// An IANA transform ID (or key length) that this crate does not implement.
    #[error("unsupported {what}: {id}")]
    Unsupported {
        /// The registry or parameter, e.g. "ENCR" or "ENCR_AES_CBC key length (bits)".
        what: &'static str,
        /// The value as it appeared on the wire.
        id: u16,
    },
    /// Key material of the wrong length for the algorithm.
    #[error("{what}: key material must be {expected} bytes, got {got}")]
    BadKeyLength {
        /// The algorithm the key was meant for.
        what: &'static str,
        /// The length the algorithm needs.
        expected: usize,
        /// The length supplied.
        got: usize,
    },
    /// An input (IV, buffer, ICV, public value) of a length the operation cannot take.
    #[error("{what}: bad length {got}")]
    BadLength {
        /// What had the wrong length.
        what: &'static str,
        /// The length supplied.
        got: usize,
    },
    /// The ICV / AEAD tag did not verify; the caller must drop the message.
    #[error("integrity check failed")]
    AuthenticationFailed,
    /// The peer's key exchange public value is not a valid group element (RFC 7296 §2.7 /
    /// RFC 5903 §7 / RFC 3526 range check), or the shared secret degenerated (RFC 8031 §2).
    #[error("invalid peer key exchange value for {what}")]
    InvalidPublicValue {
        /// The group, e.g. "ECP_256".
        what: &'static str,
    },
    /// prf+ asked for more than 255 output blocks (RFC 7296 §2.13).
    #[error("prf+ cannot produce {requested} bytes (max {max})")]
    PrfPlusTooLong {
        /// Bytes requested.
        requested: usize,
        /// The most this PRF can produce.
        max: usize,
    },
    /// The random source failed.
    #[error("random generator failed")]
    RandomFailed,
    /// The backend refused an operation that should not fail (an internal error).
    #[error("crypto backend failure in {0}")]
    Backend(&'static str),
}
