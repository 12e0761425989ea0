//! Certification path validation (a subset of RFC 5280 §6.1) from an end-entity certificate,
//! through the intermediates the peer sent in CERT payloads, to one of our configured trust
//! anchors, at a caller-given time.
//!
//! Checked: signatures (any algorithm [`crate::sig`] knows), validity periods of every
//! certificate including the anchor, basicConstraints cA and pathLenConstraint on issuers,
//! keyUsage (keyCertSign on issuers; digitalSignature or nonRepudiation on the end entity when
//! present, RFC 4945 §5.1.3.2), and rejection of unknown critical extensions (which includes
//! nameConstraints and policy extensions: not processed, so refused when critical).
//! Not checked here: revocation (CRL/OCSP).
//!
//! Path building is a depth-first search, so a stale or unrelated certificate with the right
//! name does not hide a good path; when no path exists the most specific failure is returned.

use super::{
    CertError, Certificate, KU_DIGITAL_SIGNATURE, KU_KEY_CERT_SIGN, KU_NON_REPUDIATION, certreq,
};
use crate::sig::{SignatureAlgorithm, key_type_of_spki, verify};

/// The most certificates a path may hold, end entity and anchor included.
pub const MAX_CHAIN_DEPTH: usize = 8;

/// The CA certificates we trust (from configuration), shared read-only.
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    anchors: Vec<Certificate>,
}

/// A path that validated: the end entity first, then the intermediates used, then the anchor.
#[derive(Debug, Clone)]
pub struct ValidatedChain<'a> {
    /// End entity, then each intermediate in issuing order.
    pub path: Vec<&'a Certificate>,
    /// The trust anchor the path ends at.
    pub anchor: &'a Certificate,
}

impl<'a> ValidatedChain<'a> {
    /// The end-entity certificate (whose key verifies the AUTH payload).
    pub fn end_entity(&self) -> &'a Certificate {
        self.path[0]
    }
}

impl TrustAnchors {
    /// Trust these CA certificates.
    pub fn new(anchors: Vec<Certificate>) -> Self {
        Self { anchors }
    }

    /// Trust every certificate in a PEM bundle.
    pub fn from_pem(text: &str) -> Result<Self, CertError> {
        Certificate::from_pem(text).map(Self::new)
    }

    /// The anchors.
    pub fn anchors(&self) -> &[Certificate] {
        &self.anchors
    }

    /// The Certification Authority field of the CERTREQ we send: every anchor's CA hash,
    /// concatenated (RFC 7296 §3.7).
    pub fn certreq_data(&self) -> Vec<u8> {
        self.anchors.iter().flat_map(Certificate::ca_hash).collect()
    }

    /// The anchors a peer's CERTREQ names (RFC 7296 §3.7), in our order.
    pub fn named_in_certreq(&self, certreq_data: &[u8]) -> Result<Vec<&Certificate>, CertError> {
        let hashes = certreq::parse_ca_hashes(certreq_data)?;
        Ok(self
            .anchors
            .iter()
            .filter(|a| hashes.contains(&a.ca_hash()))
            .collect())
    }

    /// Validates `end_entity` through `intermediates` (any order, unused ones ignored) to one
    /// of the anchors at `now` (seconds since the Unix epoch).
    pub fn validate<'c>(
        &'c self,
        end_entity: &'c Certificate,
        intermediates: &'c [Certificate],
        now: u64,
    ) -> Result<ValidatedChain<'c>, CertError> {
        check_common(end_entity, now)?;
        if !end_entity.key_usage_allows(KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION) {
            return Err(CertError::KeyUsage {
                subject: end_entity.subject.clone(),
                needed: "digitalSignature",
            });
        }
        let mut path = vec![end_entity];
        let anchor = self.extend(&mut path, intermediates, now)?;
        Ok(ValidatedChain { path, anchor })
    }

    /// Finds an issuer for the last certificate of `path`, recursively, up to an anchor.
    fn extend<'c>(
        &'c self,
        path: &mut Vec<&'c Certificate>,
        intermediates: &'c [Certificate],
        now: u64,
    ) -> Result<&'c Certificate, CertError> {
        if path.len() >= MAX_CHAIN_DEPTH {
            return Err(CertError::ChainTooLong);
        }
        let child = *path
            .last()
            .expect("the path always starts with the end entity");
        let mut best = CertError::UnknownIssuer {
            issuer: child.issuer.clone(),
        };
        for anchor in self
            .anchors
            .iter()
            .filter(|a| a.subject_der == child.issuer_der)
        {
            match check_issuer(anchor, child, path.len() - 1, now) {
                Ok(()) => return Ok(anchor),
                Err(e) => best = e,
            }
        }
        for int in intermediates
            .iter()
            .filter(|c| c.subject_der == child.issuer_der)
        {
            if path.iter().any(|p| p.der == int.der) {
                continue;
            }
            if let Err(e) = check_issuer(int, child, path.len() - 1, now) {
                best = e;
                continue;
            }
            path.push(int);
            match self.extend(path, intermediates, now) {
                Ok(anchor) => return Ok(anchor),
                Err(e) => {
                    path.pop();
                    best = e;
                }
            }
        }
        Err(best)
    }
}

/// Checks every certificate gets: validity at `now`, no unknown critical extension.
fn check_common(cert: &Certificate, now: u64) -> Result<(), CertError> {
    let now_i = i64::try_from(now).unwrap_or(i64::MAX);
    if now_i < cert.not_before {
        return Err(CertError::NotYetValid {
            subject: cert.subject.clone(),
        });
    }
    if now_i > cert.not_after {
        return Err(CertError::Expired {
            subject: cert.subject.clone(),
        });
    }
    if let Some(oid) = &cert.unhandled_critical {
        return Err(CertError::UnsupportedCriticalExtension {
            subject: cert.subject.clone(),
            oid: oid.clone(),
        });
    }
    Ok(())
}

/// Checks that `issuer` signed `child` and may issue certificates with `intermediates_below`
/// non-self-issued CA certificates under it (RFC 5280 §4.2.1.9 pathLenConstraint).
fn check_issuer(
    issuer: &Certificate,
    child: &Certificate,
    intermediates_below: usize,
    now: u64,
) -> Result<(), CertError> {
    let unsupported = |source| CertError::UnsupportedSignatureAlgorithm {
        subject: child.subject.clone(),
        source,
    };
    let key_type = key_type_of_spki(&issuer.spki).map_err(unsupported)?;
    let scheme = SignatureAlgorithm::from_der(&child.signature_algorithm)
        .and_then(|alg| alg.scheme_for(key_type))
        .map_err(unsupported)?;
    verify(scheme, &issuer.spki, &child.tbs, &child.signature).map_err(|_| {
        CertError::BadSignature {
            subject: child.subject.clone(),
        }
    })?;
    let Some(path_len) = issuer.ca else {
        return Err(CertError::NotCa {
            subject: issuer.subject.clone(),
        });
    };
    if !issuer.key_usage_allows(KU_KEY_CERT_SIGN) {
        return Err(CertError::KeyUsage {
            subject: issuer.subject.clone(),
            needed: "keyCertSign",
        });
    }
    if path_len.is_some_and(|n| usize::try_from(n).unwrap_or(usize::MAX) < intermediates_below) {
        return Err(CertError::PathLenExceeded {
            subject: issuer.subject.clone(),
        });
    }
    check_common(issuer, now)
}
