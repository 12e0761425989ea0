//! RFC 7427 AlgorithmIdentifiers: the ASN.1 object that names the signature algorithm inside a
//! Digital Signature (auth method 14) AUTH payload, and inside every X.509 certificate.
//!
//! ```text
//!   AlgorithmIdentifier ::= SEQUENCE {                        (RFC 5280 §4.1.1.2)
//!       algorithm    OBJECT IDENTIFIER,
//!       parameters   ANY DEFINED BY algorithm OPTIONAL }
//!
//!   RSASSA-PSS-params ::= SEQUENCE {                          (RFC 4055 §3.1)
//!       hashAlgorithm     [0] HashAlgorithm DEFAULT sha1,
//!       maskGenAlgorithm  [1] MaskGenAlgorithm DEFAULT mgf1SHA1,
//!       saltLength        [2] INTEGER DEFAULT 20,
//!       trailerField      [3] INTEGER DEFAULT 1 }
//! ```
//!
//! We emit the encodings RFC 7427 Appendix A lists: PKCS#1 v1.5 with NULL parameters, ECDSA
//! and Ed25519 with absent parameters, RSASSA-PSS with explicit parameters (hash and MGF1 hash
//! the same, salt length = hash length, hash AlgorithmIdentifiers with NULL parameters). On
//! input we accept absent or NULL hash parameters (RFC 5754 §2) and reject what aws-lc cannot
//! check (other salt lengths, MGF1 hash differing from the hash).

use rampart_wire::ike::iana::HashAlgorithm;

use super::der::{self, Reader, tag};
use super::{KeyType, SigError, SignatureScheme};

/// OID content octets (X.690 §8.19).
mod oid {
    pub(super) const SHA1_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05];
    pub(super) const SHA256_WITH_RSA: &[u8] =
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
    pub(super) const SHA384_WITH_RSA: &[u8] =
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
    pub(super) const SHA512_WITH_RSA: &[u8] =
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
    pub(super) const RSASSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
    pub(super) const MGF1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08];
    pub(super) const ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    pub(super) const ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
    pub(super) const ECDSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
    pub(super) const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
    pub(super) const SHA1: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];
    pub(super) const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
    pub(super) const SHA384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
    pub(super) const SHA512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];
}

/// A signature algorithm as an AlgorithmIdentifier names it: without the curve, which for ECDSA
/// comes from the signer's key (so [`Self::scheme_for`] pairs the two).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// RSA PKCS#1 v1.5 with the given hash.
    RsaPkcs1(HashAlgorithm),
    /// RSASSA-PSS with the given hash for both the message and MGF1, salt length = hash length.
    RsaPss(HashAlgorithm),
    /// ECDSA with the given hash; the curve is the key's.
    Ecdsa(HashAlgorithm),
    /// Ed25519.
    Ed25519,
}

impl SignatureAlgorithm {
    /// Parses a whole DER AlgorithmIdentifier (no trailing bytes).
    pub fn from_der(der: &[u8]) -> Result<Self, SigError> {
        let mut outer = Reader::new(der);
        let seq = outer.read(tag::SEQUENCE, "AlgorithmIdentifier: not a SEQUENCE")?;
        outer.finish("AlgorithmIdentifier: trailing data")?;
        let mut r = Reader::new(seq);
        let algorithm = r.read(tag::OID, "AlgorithmIdentifier: no OID")?;
        let params = if r.is_empty() {
            None
        } else {
            Some(r.read_any()?)
        };
        r.finish("AlgorithmIdentifier: trailing data")?;
        let null_or_absent = match params {
            None => true,
            Some((t, v, _)) => t == tag::NULL && v.is_empty(),
        };
        let rsa = |h| {
            if null_or_absent {
                Ok(Self::RsaPkcs1(h))
            } else {
                Err(bad_params())
            }
        };
        // RFC 5758 §3.2: the ECDSA parameters field MUST be absent; RFC 8410 §3 for Ed25519.
        let absent = |alg| {
            if params.is_none() {
                Ok(alg)
            } else {
                Err(bad_params())
            }
        };
        match algorithm {
            oid::SHA1_WITH_RSA => rsa(HashAlgorithm::SHA1),
            oid::SHA256_WITH_RSA => rsa(HashAlgorithm::SHA2_256),
            oid::SHA384_WITH_RSA => rsa(HashAlgorithm::SHA2_384),
            oid::SHA512_WITH_RSA => rsa(HashAlgorithm::SHA2_512),
            oid::ECDSA_SHA256 => absent(Self::Ecdsa(HashAlgorithm::SHA2_256)),
            oid::ECDSA_SHA384 => absent(Self::Ecdsa(HashAlgorithm::SHA2_384)),
            oid::ECDSA_SHA512 => absent(Self::Ecdsa(HashAlgorithm::SHA2_512)),
            oid::ED25519 => absent(Self::Ed25519),
            oid::RSASSA_PSS => match params {
                Some((tag::SEQUENCE, v, _)) => parse_pss_params(v).map(Self::RsaPss),
                _ => Err(SigError::UnsupportedParameters(
                    "RSASSA-PSS without parameters (SHA-1 defaults)",
                )),
            },
            other => Err(SigError::UnknownAlgorithm {
                oid: der::oid_to_string(other),
            }),
        }
    }

    /// The DER AlgorithmIdentifier we send for this algorithm (RFC 7427 Appendix A forms).
    pub fn to_der(self) -> Result<Vec<u8>, SigError> {
        let (alg_oid, params): (&[u8], Option<Vec<u8>>) = match self {
            Self::RsaPkcs1(h) => (rsa_oid(h)?, Some(der::tlv(tag::NULL, &[]))),
            Self::Ecdsa(h) => (ecdsa_oid(h)?, None),
            Self::Ed25519 => (oid::ED25519, None),
            Self::RsaPss(h) => (oid::RSASSA_PSS, Some(pss_params(h)?)),
        };
        let mut body = der::tlv(tag::OID, alg_oid);
        if let Some(p) = params {
            body.extend_from_slice(&p);
        }
        Ok(der::tlv(tag::SEQUENCE, &body))
    }

    /// Pairs this algorithm with the signer's key type (the curve for ECDSA).
    pub fn scheme_for(self, key: KeyType) -> Result<SignatureScheme, SigError> {
        use SignatureScheme as S;
        let scheme = match (self, key) {
            (Self::RsaPkcs1(h), KeyType::Rsa) => match h {
                HashAlgorithm::SHA1 => Some(S::RsaPkcs1Sha1),
                HashAlgorithm::SHA2_256 => Some(S::RsaPkcs1Sha256),
                HashAlgorithm::SHA2_384 => Some(S::RsaPkcs1Sha384),
                HashAlgorithm::SHA2_512 => Some(S::RsaPkcs1Sha512),
                _ => None,
            },
            (Self::RsaPss(h), KeyType::Rsa) => match h {
                HashAlgorithm::SHA2_256 => Some(S::RsaPssSha256),
                HashAlgorithm::SHA2_384 => Some(S::RsaPssSha384),
                HashAlgorithm::SHA2_512 => Some(S::RsaPssSha512),
                _ => None,
            },
            (Self::Ecdsa(h), KeyType::EcP256 | KeyType::EcP384) => {
                SignatureScheme::ecdsa_for(key, h)
            }
            (Self::Ed25519, KeyType::Ed25519) => Some(S::Ed25519),
            _ => None,
        };
        scheme.ok_or(SigError::UnsupportedParameters(
            "signature algorithm does not fit the key type",
        ))
    }
}

impl SignatureScheme {
    /// The algorithm half of this scheme (what the AlgorithmIdentifier says).
    pub fn signature_algorithm(self) -> SignatureAlgorithm {
        let h = self.hash_algorithm();
        match self {
            Self::RsaPkcs1Sha1
            | Self::RsaPkcs1Sha256
            | Self::RsaPkcs1Sha384
            | Self::RsaPkcs1Sha512 => SignatureAlgorithm::RsaPkcs1(h),
            Self::RsaPssSha256 | Self::RsaPssSha384 | Self::RsaPssSha512 => {
                SignatureAlgorithm::RsaPss(h)
            }
            Self::Ed25519 => SignatureAlgorithm::Ed25519,
            _ => SignatureAlgorithm::Ecdsa(h),
        }
    }

    /// The RFC 7427 DER AlgorithmIdentifier for this scheme.
    pub fn algorithm_identifier(self) -> Vec<u8> {
        self.signature_algorithm()
            .to_der()
            .expect("every SignatureScheme maps to an encodable AlgorithmIdentifier")
    }
}

fn bad_params() -> SigError {
    SigError::UnsupportedParameters("unexpected AlgorithmIdentifier parameters")
}

fn rsa_oid(h: HashAlgorithm) -> Result<&'static [u8], SigError> {
    match h {
        HashAlgorithm::SHA1 => Ok(oid::SHA1_WITH_RSA),
        HashAlgorithm::SHA2_256 => Ok(oid::SHA256_WITH_RSA),
        HashAlgorithm::SHA2_384 => Ok(oid::SHA384_WITH_RSA),
        HashAlgorithm::SHA2_512 => Ok(oid::SHA512_WITH_RSA),
        _ => Err(SigError::UnsupportedParameters("hash for RSA PKCS#1")),
    }
}

fn ecdsa_oid(h: HashAlgorithm) -> Result<&'static [u8], SigError> {
    match h {
        HashAlgorithm::SHA2_256 => Ok(oid::ECDSA_SHA256),
        HashAlgorithm::SHA2_384 => Ok(oid::ECDSA_SHA384),
        HashAlgorithm::SHA2_512 => Ok(oid::ECDSA_SHA512),
        _ => Err(SigError::UnsupportedParameters("hash for ECDSA")),
    }
}

/// `(OID, output length)` of the SHA-2 hashes PSS may use.
fn pss_hash(h: HashAlgorithm) -> Result<(&'static [u8], u8), SigError> {
    match h {
        HashAlgorithm::SHA2_256 => Ok((oid::SHA256, 32)),
        HashAlgorithm::SHA2_384 => Ok((oid::SHA384, 48)),
        HashAlgorithm::SHA2_512 => Ok((oid::SHA512, 64)),
        _ => Err(SigError::UnsupportedParameters("RSASSA-PSS hash")),
    }
}

/// `SEQUENCE { OID hash, NULL }`, the RFC 4055 §2.1 sha*Identifier forms.
fn hash_algid(hash_oid: &[u8]) -> Vec<u8> {
    let mut body = der::tlv(tag::OID, hash_oid);
    der::write(&mut body, tag::NULL, &[]);
    der::tlv(tag::SEQUENCE, &body)
}

/// RSASSA-PSS-params with hash = MGF1 hash = `h` and salt length = hash length (DER omits the
/// default trailerField).
fn pss_params(h: HashAlgorithm) -> Result<Vec<u8>, SigError> {
    let (hash_oid, salt) = pss_hash(h)?;
    let hash = hash_algid(hash_oid);
    let mut mgf = der::tlv(tag::OID, oid::MGF1);
    mgf.extend_from_slice(&hash);
    let mgf = der::tlv(tag::SEQUENCE, &mgf);
    let mut body = der::tlv(0xa0, &hash);
    der::write(&mut body, 0xa1, &mgf);
    der::write(&mut body, 0xa2, &der::tlv(tag::INTEGER, &[salt]));
    Ok(der::tlv(tag::SEQUENCE, &body))
}

/// Reads a hash AlgorithmIdentifier with absent or NULL parameters (RFC 5754 §2).
fn read_hash_algid(seq: &[u8]) -> Result<HashAlgorithm, SigError> {
    let mut r = Reader::new(seq);
    let o = r.read(tag::OID, "hash AlgorithmIdentifier")?;
    if !r.is_empty() {
        let null = r.read(tag::NULL, "hash AlgorithmIdentifier parameters")?;
        if !null.is_empty() {
            return Err(bad_params());
        }
    }
    r.finish("hash AlgorithmIdentifier: trailing data")?;
    match o {
        oid::SHA256 => Ok(HashAlgorithm::SHA2_256),
        oid::SHA384 => Ok(HashAlgorithm::SHA2_384),
        oid::SHA512 => Ok(HashAlgorithm::SHA2_512),
        oid::SHA1 => Err(SigError::UnsupportedParameters("RSASSA-PSS with SHA-1")),
        other => Err(SigError::UnknownAlgorithm {
            oid: der::oid_to_string(other),
        }),
    }
}

/// Parses RSASSA-PSS-params and checks they are a combination aws-lc verifies.
fn parse_pss_params(params: &[u8]) -> Result<HashAlgorithm, SigError> {
    let mut r = Reader::new(params);
    let (mut hash, mut mgf_hash, mut salt) = (None, None, None);
    while !r.is_empty() {
        let (t, v, _) = r.read_any()?;
        let mut inner = Reader::new(v);
        match t {
            0xa0 => {
                hash = Some(read_hash_algid(
                    inner.read(tag::SEQUENCE, "PSS hashAlgorithm")?,
                )?)
            }
            0xa1 => {
                let mut m = Reader::new(inner.read(tag::SEQUENCE, "PSS maskGenAlgorithm")?);
                if m.read(tag::OID, "PSS maskGenAlgorithm OID")? != oid::MGF1 {
                    return Err(SigError::UnsupportedParameters(
                        "RSASSA-PSS mask generation other than MGF1",
                    ));
                }
                mgf_hash = Some(read_hash_algid(m.read(tag::SEQUENCE, "MGF1 hash")?)?);
                m.finish("PSS maskGenAlgorithm: trailing data")?;
            }
            0xa2 => {
                let int = inner.read(tag::INTEGER, "PSS saltLength")?;
                salt = match int {
                    [b] if *b < 0x80 => Some(*b),
                    _ => return Err(SigError::UnsupportedParameters("RSASSA-PSS salt length")),
                };
            }
            0xa3 => {
                if inner.read(tag::INTEGER, "PSS trailerField")? != [1] {
                    return Err(SigError::UnsupportedParameters("RSASSA-PSS trailer field"));
                }
            }
            _ => return Err(SigError::Malformed("RSASSA-PSS-params: unknown field")),
        }
        inner.finish("RSASSA-PSS-params field: trailing data")?;
    }
    let hash = hash.ok_or(SigError::UnsupportedParameters(
        "RSASSA-PSS with the SHA-1 default hash",
    ))?;
    let (_, hash_len) = pss_hash(hash)?;
    if mgf_hash != Some(hash) {
        return Err(SigError::UnsupportedParameters(
            "RSASSA-PSS MGF1 hash differs from the hash",
        ));
    }
    if salt != Some(hash_len) {
        return Err(SigError::UnsupportedParameters(
            "RSASSA-PSS salt length other than the hash length",
        ));
    }
    Ok(hash)
}
