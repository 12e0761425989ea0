//! X.509 certificates for IKEv2 certificate authentication (RFC 7296 §3.6, RFC 4945 profile):
//! parsing ([`Certificate`]), chain validation against configured trust anchors
//! ([`TrustAnchors::validate`]), CERTREQ CA hashes ([`certreq`]) and the identity binding check
//! ([`Certificate::matches_identity`]).
//!
//! The IKE engine passes the peer's CERT payloads (encoding 4, X.509 Signature) here, validates
//! the chain at the `now` the daemon hands in (this crate reads no clock), checks that the
//! peer's IDi/IDr is bound by the end-entity certificate, and verifies the AUTH payload with the
//! certificate's key through [`crate::sig::verify_auth`].

pub mod certreq;
mod chain;
mod error;
mod identity;

use std::net::IpAddr;

use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use crate::sig::der::{Reader, tag};

pub use chain::{MAX_CHAIN_DEPTH, TrustAnchors, ValidatedChain};
pub use error::CertError;

/// One subjectAltName entry of the kinds IKE identities use (RFC 4945 §3.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SubjectAltName {
    /// dNSName.
    Dns(String),
    /// iPAddress (IPv4 or IPv6).
    Ip(IpAddr),
    /// rfc822Name (email address).
    Email(String),
}

/// A parsed X.509 certificate. Owns its DER and the fields IKE needs, extracted once.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    tbs: Vec<u8>,
    signature_algorithm: Vec<u8>,
    signature: Vec<u8>,
    subject_der: Vec<u8>,
    subject: String,
    issuer_der: Vec<u8>,
    issuer: String,
    spki: Vec<u8>,
    not_before: i64,
    not_after: i64,
    subject_alt_names: Vec<SubjectAltName>,
    /// `Some(path_len)` when basicConstraints says cA (RFC 5280 §4.2.1.9).
    ca: Option<Option<u32>>,
    /// keyUsage bits as x509-parser numbers them (bit 0 = digitalSignature), if present.
    key_usage: Option<u16>,
    /// The first critical extension this crate does not process (RFC 5280 §4.2: reject).
    unhandled_critical: Option<String>,
}

impl core::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject)
            .field("issuer", &self.issuer)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field("subject_alt_names", &self.subject_alt_names)
            .finish_non_exhaustive()
    }
}

/// Extensions whose critical flag we honour: basicConstraints, keyUsage, subjectAltName,
/// extendedKeyUsage (accepted, not enforced: RFC 4945 §5.1.3.12 says IKE must not require
/// any particular EKU), subjectKeyIdentifier, authorityKeyIdentifier.
const HANDLED_EXTENSIONS: &[&str] = &[
    "2.5.29.19",
    "2.5.29.15",
    "2.5.29.17",
    "2.5.29.37",
    "2.5.29.14",
    "2.5.29.35",
];

/// keyUsage bits (x509-parser numbering).
pub(crate) const KU_DIGITAL_SIGNATURE: u16 = 1 << 0;
pub(crate) const KU_NON_REPUDIATION: u16 = 1 << 1;
pub(crate) const KU_KEY_CERT_SIGN: u16 = 1 << 5;

impl Certificate {
    /// Parses one DER certificate (a CERT payload's Certificate Data with encoding 4).
    ///
    /// ```text
    ///   Certificate ::= SEQUENCE {                  (RFC 5280 §4.1)
    ///       tbsCertificate       TBSCertificate,
    ///       signatureAlgorithm   AlgorithmIdentifier,
    ///       signatureValue       BIT STRING }
    /// ```
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        let malformed = |what: &'static str| move |_| CertError::Malformed(what);
        let mut outer = Reader::new(der);
        let mut seq = Reader::new(
            outer
                .read(tag::SEQUENCE, "Certificate")
                .map_err(malformed("Certificate SEQUENCE"))?,
        );
        outer
            .finish("Certificate: trailing data")
            .map_err(malformed("Certificate: trailing data"))?;
        let (_, _, tbs) = seq.read_any().map_err(malformed("tbsCertificate"))?;
        let (_, _, sig_alg) = seq.read_any().map_err(malformed("signatureAlgorithm"))?;
        let bits = seq
            .read(tag::BIT_STRING, "signatureValue")
            .map_err(malformed("signatureValue"))?;
        let signature = match bits {
            [0, rest @ ..] => rest,
            _ => return Err(CertError::Malformed("signatureValue: unused bits")),
        };
        let (rest, x509) =
            X509Certificate::from_der(der).map_err(|_| CertError::Malformed("X.509 structure"))?;
        if !rest.is_empty() {
            return Err(CertError::Malformed("Certificate: trailing data"));
        }
        let tbs_cert = &x509.tbs_certificate;
        let bad_ext = |_| CertError::Malformed("duplicate or invalid extension");
        let ca = tbs_cert
            .basic_constraints()
            .map_err(bad_ext)?
            .and_then(|bc| bc.value.ca.then_some(bc.value.path_len_constraint));
        let key_usage = tbs_cert
            .key_usage()
            .map_err(bad_ext)?
            .map(|ku| ku.value.flags);
        let unhandled_critical = tbs_cert
            .extensions()
            .iter()
            .find(|e| e.critical && !HANDLED_EXTENSIONS.contains(&e.oid.to_id_string().as_str()))
            .map(|e| e.oid.to_id_string());
        Ok(Self {
            der: der.to_vec(),
            tbs: tbs.to_vec(),
            signature_algorithm: sig_alg.to_vec(),
            signature: signature.to_vec(),
            subject_der: tbs_cert.subject().as_raw().to_vec(),
            subject: tbs_cert.subject().to_string(),
            issuer_der: tbs_cert.issuer().as_raw().to_vec(),
            issuer: tbs_cert.issuer().to_string(),
            spki: tbs_cert.public_key().raw.to_vec(),
            not_before: tbs_cert.validity().not_before.timestamp(),
            not_after: tbs_cert.validity().not_after.timestamp(),
            subject_alt_names: subject_alt_names(&x509)?,
            ca,
            key_usage,
            unhandled_critical,
        })
    }

    /// Parses every `CERTIFICATE` block of a PEM text, in order.
    pub fn from_pem(text: &str) -> Result<Vec<Self>, CertError> {
        crate::sig::pem_blocks(text)
            .map_err(|_| CertError::Malformed("PEM"))?
            .into_iter()
            .filter(|(label, _)| label == "CERTIFICATE")
            .map(|(_, der)| Self::from_der(&der))
            .collect()
    }

    /// The whole DER certificate (what a CERT payload carries).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The subject DN as text, e.g. `C=US, O=Example, CN=gw-a.ipx.example`.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The subject DN's DER (the `Name` SEQUENCE), as ID_DER_ASN1_DN carries it.
    pub fn subject_der(&self) -> &[u8] {
        &self.subject_der
    }

    /// The issuer DN as text.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The issuer DN's DER.
    pub fn issuer_der(&self) -> &[u8] {
        &self.issuer_der
    }

    /// The DER SubjectPublicKeyInfo (for [`crate::sig::verify_auth`]).
    pub fn spki(&self) -> &[u8] {
        &self.spki
    }

    /// notBefore, seconds since the Unix epoch.
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// notAfter, seconds since the Unix epoch.
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// Whether `now` (seconds since the Unix epoch) lies within the validity period, inclusive
    /// (RFC 5280 §4.1.2.5).
    pub fn is_valid_at(&self, now: u64) -> bool {
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        self.not_before <= now && now <= self.not_after
    }

    /// The DNS, IP and email subjectAltNames, in certificate order (other kinds are skipped).
    pub fn subject_alt_names(&self) -> &[SubjectAltName] {
        &self.subject_alt_names
    }

    /// Whether basicConstraints marks this a CA certificate.
    pub fn is_ca(&self) -> bool {
        self.ca.is_some()
    }

    /// The certificate's signatureAlgorithm AlgorithmIdentifier (DER).
    pub fn signature_algorithm_der(&self) -> &[u8] {
        &self.signature_algorithm
    }

    /// The "CA hash" of RFC 7296 §3.6/§3.7: SHA-1 over this certificate's DER
    /// SubjectPublicKeyInfo, as CERTREQ and Hash-and-URL carry it.
    pub fn ca_hash(&self) -> [u8; 20] {
        certreq::spki_sha1(&self.spki)
    }

    fn key_usage_allows(&self, bits: u16) -> bool {
        self.key_usage.is_none_or(|ku| ku & bits != 0)
    }
}

fn subject_alt_names(x509: &X509Certificate<'_>) -> Result<Vec<SubjectAltName>, CertError> {
    let san = x509
        .tbs_certificate
        .subject_alternative_name()
        .map_err(|_| CertError::Malformed("subjectAltName"))?;
    let mut out = Vec::new();
    for name in san.iter().flat_map(|s| s.value.general_names.iter()) {
        match name {
            GeneralName::DNSName(d) => out.push(SubjectAltName::Dns((*d).to_owned())),
            GeneralName::RFC822Name(e) => out.push(SubjectAltName::Email((*e).to_owned())),
            GeneralName::IPAddress(ip) => {
                if let Ok(v4) = <[u8; 4]>::try_from(*ip) {
                    out.push(SubjectAltName::Ip(IpAddr::from(v4)));
                } else if let Ok(v6) = <[u8; 16]>::try_from(*ip) {
                    out.push(SubjectAltName::Ip(IpAddr::from(v6)));
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
