//! Certificate and chain validation errors. Each names the certificate at fault by subject, so
//! the operator sees which link broke; on the wire all of them are AUTHENTICATION_FAILED.

use crate::sig::SigError;

/// Why a certificate could not be parsed or a chain could not be validated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    /// Not a well-formed DER X.509 certificate (or PEM, or CERTREQ data).
    #[error("malformed certificate: {0}")]
    Malformed(&'static str),
    /// `now` is after notAfter.
    #[error("certificate expired: {subject}")]
    Expired {
        /// Subject DN of the expired certificate.
        subject: String,
    },
    /// `now` is before notBefore.
    #[error("certificate not yet valid: {subject}")]
    NotYetValid {
        /// Subject DN of the certificate.
        subject: String,
    },
    /// No intermediate or trust anchor has the issuer's name (and a key that verifies).
    #[error("unknown issuer {issuer}")]
    UnknownIssuer {
        /// The issuer DN that could not be found.
        issuer: String,
    },
    /// An issuer with the right name was found but its key does not verify the signature.
    #[error("bad certificate signature on {subject}")]
    BadSignature {
        /// Subject DN of the certificate whose signature failed.
        subject: String,
    },
    /// The certificate's signature algorithm is unknown or unsupported.
    #[error("unsupported signature algorithm on {subject}: {source}")]
    UnsupportedSignatureAlgorithm {
        /// Subject DN of the certificate.
        subject: String,
        /// What the signature layer said.
        source: SigError,
    },
    /// A certificate that signed another is not a CA (basicConstraints cA false or absent).
    #[error("issuer is not a CA: {subject}")]
    NotCa {
        /// Subject DN of the would-be issuer.
        subject: String,
    },
    /// keyUsage is present and lacks the bit this use needs.
    #[error("key usage of {subject} does not allow {needed}")]
    KeyUsage {
        /// Subject DN of the certificate.
        subject: String,
        /// The usage that was needed, e.g. "keyCertSign".
        needed: &'static str,
    },
    /// A CA's pathLenConstraint is exceeded by the intermediates below it.
    #[error("path length constraint of {subject} exceeded")]
    PathLenExceeded {
        /// Subject DN of the constraining CA.
        subject: String,
    },
    /// A critical extension this crate does not process (RFC 5280 §4.2).
    #[error("unsupported critical extension {oid} in {subject}")]
    UnsupportedCriticalExtension {
        /// Subject DN of the certificate.
        subject: String,
        /// The extension's OID, dotted.
        oid: String,
    },
    /// More certificates in the path than [`super::MAX_CHAIN_DEPTH`].
    #[error("certificate chain too long")]
    ChainTooLong,
}
