//! IKEv2 pseudorandom functions and prf+ (RFC 7296 §2.13), used by the IKE engine for
//! SKEYSEED, the SK_* keys, AUTH and child SA KEYMAT.

use aws_lc_rs::hmac;
use rampart_wire::ike::iana::PrfId;

use crate::{CryptoError, SecretBytes};

/// A PRF transform this crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PrfAlg {
    /// PRF_HMAC_SHA1 (RFC 2104; 20-byte output).
    HmacSha1,
    /// PRF_HMAC_SHA2_256 (RFC 4868; 32-byte output).
    HmacSha256,
    /// PRF_HMAC_SHA2_384 (RFC 4868; 48-byte output).
    HmacSha384,
    /// PRF_HMAC_SHA2_512 (RFC 4868; 64-byte output).
    HmacSha512,
}

impl PrfAlg {
    /// Every PRF this crate implements.
    pub const ALL: &'static [Self] = &[
        Self::HmacSha1,
        Self::HmacSha256,
        Self::HmacSha384,
        Self::HmacSha512,
    ];

    /// The implementation of an IANA PRF transform ID.
    pub fn from_id(id: PrfId) -> Result<Self, CryptoError> {
        match id {
            PrfId::HMAC_SHA1 => Ok(Self::HmacSha1),
            PrfId::HMAC_SHA2_256 => Ok(Self::HmacSha256),
            PrfId::HMAC_SHA2_384 => Ok(Self::HmacSha384),
            PrfId::HMAC_SHA2_512 => Ok(Self::HmacSha512),
            other => Err(CryptoError::Unsupported {
                what: "PRF",
                id: other.0,
            }),
        }
    }

    /// The IANA transform ID.
    pub fn id(self) -> PrfId {
        match self {
            Self::HmacSha1 => PrfId::HMAC_SHA1,
            Self::HmacSha256 => PrfId::HMAC_SHA2_256,
            Self::HmacSha384 => PrfId::HMAC_SHA2_384,
            Self::HmacSha512 => PrfId::HMAC_SHA2_512,
        }
    }

    /// Output length in bytes; also the preferred key length, i.e. the length of SK_d, SK_pi
    /// and SK_pr (RFC 7296 §2.14).
    pub fn output_len(self) -> usize {
        self.hmac().digest_algorithm().output_len()
    }

    /// The most bytes prf+ can produce with this PRF: 255 blocks (RFC 7296 §2.13).
    pub fn prf_plus_max_len(self) -> usize {
        255 * self.output_len()
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            Self::HmacSha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Self::HmacSha256 => hmac::HMAC_SHA256,
            Self::HmacSha384 => hmac::HMAC_SHA384,
            Self::HmacSha512 => hmac::HMAC_SHA512,
        }
    }
}

/// A PRF keyed once, applied many times: `prf(K, S)` and `prf+(K, S)`.
///
/// HMAC PRFs take keys of any length (RFC 7296 §2.14: only fixed-key PRFs pad or hash the
/// key), so construction cannot fail.
#[derive(Clone)]
pub struct Prf {
    alg: PrfAlg,
    key: hmac::Key,
}

impl core::fmt::Debug for Prf {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Prf")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl Prf {
    /// `prf` keyed with `key` (e.g. `Ni | Nr` for SKEYSEED, or SK_d for KEYMAT).
    pub fn new(alg: PrfAlg, key: &[u8]) -> Self {
        Self {
            alg,
            key: hmac::Key::new(alg.hmac(), key),
        }
    }

    /// The algorithm.
    pub fn alg(&self) -> PrfAlg {
        self.alg
    }

    /// `prf(K, S)` where `S` is the concatenation of `data` (passed in parts so that callers
    /// need not concatenate nonces, SPIs and secrets into a temporary buffer).
    pub fn compute(&self, data: &[&[u8]]) -> SecretBytes {
        let mut ctx = hmac::Context::with_key(&self.key);
        for part in data {
            ctx.update(part);
        }
        SecretBytes::from_slice(ctx.sign().as_ref())
    }

    /// `prf+(K, S)` truncated to `len` bytes (RFC 7296 §2.13):
    ///
    /// ```text
    /// prf+ (K,S) = T1 | T2 | T3 | T4 | ...
    /// T1 = prf (K, S | 0x01)
    /// T2 = prf (K, T1 | S | 0x02)
    /// T3 = prf (K, T2 | S | 0x03)
    /// ```
    ///
    /// The counter is one octet, so at most 255 blocks: asking for more is
    /// [`CryptoError::PrfPlusTooLong`].
    pub fn prf_plus(&self, seed: &[&[u8]], len: usize) -> Result<SecretBytes, CryptoError> {
        let max = self.alg.prf_plus_max_len();
        if len > max {
            return Err(CryptoError::PrfPlusTooLong {
                requested: len,
                max,
            });
        }
        let mut out = SecretBytes::zeroed(len);
        let block = self.alg.output_len();
        let mut filled = 0;
        let mut counter: u8 = 1;
        while filled < len {
            let mut ctx = hmac::Context::with_key(&self.key);
            if filled > 0 {
                // T(n-1), which is the previous block written to `out` (always a full block).
                ctx.update(&out.expose()[filled - block..filled]);
            }
            for part in seed {
                ctx.update(part);
            }
            ctx.update(&[counter]);
            let tag = ctx.sign();
            let take = block.min(len - filled);
            out.expose_mut()[filled..filled + take].copy_from_slice(&tag.as_ref()[..take]);
            filled += take;
            counter = counter.wrapping_add(1);
        }
        Ok(out)
    }
}

/// One-shot `prf(K, S)`.
pub fn prf(alg: PrfAlg, key: &[u8], data: &[&[u8]]) -> SecretBytes {
    Prf::new(alg, key).compute(data)
}

/// One-shot `prf+(K, S)` of `len` bytes.
pub fn prf_plus(
    alg: PrfAlg,
    key: &[u8],
    seed: &[&[u8]],
    len: usize,
) -> Result<SecretBytes, CryptoError> {
    Prf::new(alg, key).prf_plus(seed, len)
}
