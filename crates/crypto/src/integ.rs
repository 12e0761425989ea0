//! Integrity transforms for ESP/AH and the IKE SK payload when the cipher is not an AEAD:
//! HMAC with the output truncated to the ICV length (RFC 2404, RFC 4868).

use aws_lc_rs::{constant_time, hmac};
use rampart_wire::ike::iana::IntegId;

use crate::CryptoError;

/// An integrity transform this crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IntegAlg {
    /// AUTH_HMAC_SHA1_96 (RFC 2404): 20-byte key, 12-byte ICV.
    HmacSha1_96,
    /// AUTH_HMAC_SHA2_256_128 (RFC 4868): 32-byte key, 16-byte ICV.
    HmacSha256_128,
    /// AUTH_HMAC_SHA2_384_192 (RFC 4868): 48-byte key, 24-byte ICV.
    HmacSha384_192,
    /// AUTH_HMAC_SHA2_512_256 (RFC 4868): 64-byte key, 32-byte ICV.
    HmacSha512_256,
}

/// The largest ICV any [`IntegAlg`] produces.
pub const MAX_ICV_LEN: usize = 32;

impl IntegAlg {
    /// Every integrity algorithm this crate implements.
    pub const ALL: &'static [Self] = &[
        Self::HmacSha1_96,
        Self::HmacSha256_128,
        Self::HmacSha384_192,
        Self::HmacSha512_256,
    ];

    /// The implementation of an IANA integrity transform ID. `NONE` is not an algorithm (it
    /// goes with an AEAD) and is reported as unsupported here.
    pub fn from_id(id: IntegId) -> Result<Self, CryptoError> {
        match id {
            IntegId::HMAC_SHA1_96 => Ok(Self::HmacSha1_96),
            IntegId::HMAC_SHA2_256_128 => Ok(Self::HmacSha256_128),
            IntegId::HMAC_SHA2_384_192 => Ok(Self::HmacSha384_192),
            IntegId::HMAC_SHA2_512_256 => Ok(Self::HmacSha512_256),
            other => Err(CryptoError::Unsupported {
                what: "INTEG",
                id: other.0,
            }),
        }
    }

    /// The IANA transform ID.
    pub fn id(self) -> IntegId {
        match self {
            Self::HmacSha1_96 => IntegId::HMAC_SHA1_96,
            Self::HmacSha256_128 => IntegId::HMAC_SHA2_256_128,
            Self::HmacSha384_192 => IntegId::HMAC_SHA2_384_192,
            Self::HmacSha512_256 => IntegId::HMAC_SHA2_512_256,
        }
    }

    /// Key length in bytes: the hash output length (RFC 2404 §3, RFC 4868 §2.1.1). This is
    /// how many bytes of KEYMAT / SK_a the key takes.
    pub fn key_len(self) -> usize {
        match self {
            Self::HmacSha1_96 => 20,
            Self::HmacSha256_128 => 32,
            Self::HmacSha384_192 => 48,
            Self::HmacSha512_256 => 64,
        }
    }

    /// ICV length in bytes: the truncated HMAC output (RFC 2404 §2, RFC 4868 §2.1.1).
    pub fn icv_len(self) -> usize {
        match self {
            Self::HmacSha1_96 => 12,
            Self::HmacSha256_128 => 16,
            Self::HmacSha384_192 => 24,
            Self::HmacSha512_256 => 32,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::HmacSha1_96 => "AUTH_HMAC_SHA1_96",
            Self::HmacSha256_128 => "AUTH_HMAC_SHA2_256_128",
            Self::HmacSha384_192 => "AUTH_HMAC_SHA2_384_192",
            Self::HmacSha512_256 => "AUTH_HMAC_SHA2_512_256",
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            Self::HmacSha1_96 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Self::HmacSha256_128 => hmac::HMAC_SHA256,
            Self::HmacSha384_192 => hmac::HMAC_SHA384,
            Self::HmacSha512_256 => hmac::HMAC_SHA512,
        }
    }
}

/// A keyed integrity transform. `Send + Sync`: one per SA direction, shared by workers.
#[derive(Clone)]
pub struct Integ {
    alg: IntegAlg,
    key: hmac::Key,
}

impl core::fmt::Debug for Integ {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Integ")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl Integ {
    /// Keys the transform. `key` must be exactly [`IntegAlg::key_len`] bytes (RFC 4868 §2.1.1
    /// fixes the key size for IPsec).
    pub fn new(alg: IntegAlg, key: &[u8]) -> Result<Self, CryptoError> {
        if key.len() != alg.key_len() {
            return Err(CryptoError::BadKeyLength {
                what: alg.name(),
                expected: alg.key_len(),
                got: key.len(),
            });
        }
        Ok(Self {
            alg,
            key: hmac::Key::new(alg.hmac(), key),
        })
    }

    /// The algorithm.
    pub fn alg(&self) -> IntegAlg {
        self.alg
    }

    /// Writes the ICV over the concatenation of `data` into `icv`, which must be exactly
    /// [`IntegAlg::icv_len`] bytes. For ESP with ESN the high sequence bits go in as a last
    /// part (RFC 4303 §2.2.1); no buffer is allocated.
    pub fn compute_icv(&self, data: &[&[u8]], icv: &mut [u8]) -> Result<(), CryptoError> {
        if icv.len() != self.alg.icv_len() {
            return Err(CryptoError::BadLength {
                what: "ICV",
                got: icv.len(),
            });
        }
        let tag = self.full_tag(data);
        icv.copy_from_slice(&tag.as_ref()[..icv.len()]);
        Ok(())
    }

    /// Checks `icv` against the ICV over `data`, in constant time.
    pub fn verify_icv(&self, data: &[&[u8]], icv: &[u8]) -> Result<(), CryptoError> {
        if icv.len() != self.alg.icv_len() {
            return Err(CryptoError::AuthenticationFailed);
        }
        let tag = self.full_tag(data);
        constant_time::verify_slices_are_equal(&tag.as_ref()[..icv.len()], icv)
            .map_err(|_| CryptoError::AuthenticationFailed)
    }

    fn full_tag(&self, data: &[&[u8]]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.key);
        for part in data {
            ctx.update(part);
        }
        ctx.sign()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{records, unhex};

    /// An `Integ` with a key of any length: the RFC 2202/4231 cases use keys of other sizes
    /// than IPsec's, but the HMAC and the truncation are the same.
    fn any_key(alg: IntegAlg, key: &[u8]) -> Integ {
        Integ {
            alg,
            key: hmac::Key::new(alg.hmac(), key),
        }
    }

    fn check(alg: IntegAlg, key: &[u8], msg: &[u8], expected_prefix: &[u8]) {
        let integ = any_key(alg, key);
        let mut icv = vec![0u8; alg.icv_len()];
        // Split the message in two parts to exercise multi-part input.
        let (a, b) = msg.split_at(msg.len() / 2);
        integ.compute_icv(&[a, b], &mut icv).unwrap();
        let n = expected_prefix.len().min(icv.len());
        assert_eq!(&icv[..n], &expected_prefix[..n]);
        if expected_prefix.len() >= icv.len() {
            integ
                .verify_icv(&[msg], &expected_prefix[..icv.len()])
                .unwrap();
        }
        let mut bad = icv.clone();
        bad[0] ^= 0x80;
        assert_eq!(
            integ.verify_icv(&[msg], &bad),
            Err(CryptoError::AuthenticationFailed)
        );
    }

    #[test]
    fn hmac_sha1_96_matches_rfc2202() {
        let recs = records(include_str!("../testdata/hmac_sha1_rfc2202.txt"));
        assert_eq!(recs.len(), 7);
        for r in &recs {
            check(
                IntegAlg::HmacSha1_96,
                &unhex(r["key"]),
                &unhex(r["msg"]),
                &unhex(r["mac"]),
            );
        }
        // Case 5 prints HMAC-SHA-1-96 itself.
        let r = &recs[4];
        let mut icv = [0u8; 12];
        any_key(IntegAlg::HmacSha1_96, &unhex(r["key"]))
            .compute_icv(&[&unhex(r["msg"])], &mut icv)
            .unwrap();
        assert_eq!(icv.to_vec(), unhex(r["mac96"]));
    }

    #[test]
    fn hmac_sha2_truncated_matches_rfc4231() {
        let recs = records(include_str!("../testdata/hmac_sha2_rfc4231.txt"));
        assert_eq!(recs.len(), 21);
        for r in &recs {
            let alg = match r["hash"] {
                "sha256" => IntegAlg::HmacSha256_128,
                "sha384" => IntegAlg::HmacSha384_192,
                _ => IntegAlg::HmacSha512_256,
            };
            check(alg, &unhex(r["key"]), &unhex(r["msg"]), &unhex(r["mac"]));
        }
    }

    #[test]
    fn key_and_icv_lengths_are_enforced() {
        assert!(matches!(
            Integ::new(IntegAlg::HmacSha256_128, &[0; 20]),
            Err(CryptoError::BadKeyLength {
                expected: 32,
                got: 20,
                ..
            })
        ));
        let integ = Integ::new(IntegAlg::HmacSha256_128, &[7; 32]).unwrap();
        assert!(integ.compute_icv(&[b"x"], &mut [0u8; 32]).is_err());
        assert_eq!(
            integ.verify_icv(&[b"x"], &[0u8; 12]),
            Err(CryptoError::AuthenticationFailed)
        );
    }
}
