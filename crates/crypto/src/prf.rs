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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{python_oracle, records, unhex};

    #[test]
    fn prf_is_hmac_per_rfc2202_and_rfc4231() {
        for r in records(include_str!("../testdata/hmac_sha1_rfc2202.txt")) {
            let out = prf(PrfAlg::HmacSha1, &unhex(r["key"]), &[&unhex(r["msg"])]);
            assert_eq!(out.expose(), unhex(r["mac"]));
        }
        for r in records(include_str!("../testdata/hmac_sha2_rfc4231.txt")) {
            let alg = match r["hash"] {
                "sha256" => PrfAlg::HmacSha256,
                "sha384" => PrfAlg::HmacSha384,
                _ => PrfAlg::HmacSha512,
            };
            let mac = unhex(r["mac"]);
            let out = prf(alg, &unhex(r["key"]), &[&unhex(r["msg"])]);
            // Case 5 is printed truncated; the rest in full.
            assert_eq!(&out.expose()[..mac.len()], mac);
        }
    }

    #[test]
    fn prf_plus_follows_rfc7296_definition() {
        // T1 = prf(K, S | 0x01), T2 = prf(K, T1 | S | 0x02), T3 = prf(K, T2 | S | 0x03).
        let (k, s) = (b"key material".as_slice(), b"seed".as_slice());
        let t1 = prf(PrfAlg::HmacSha256, k, &[s, &[1]]);
        let t2 = prf(PrfAlg::HmacSha256, k, &[t1.expose(), s, &[2]]);
        let t3 = prf(PrfAlg::HmacSha256, k, &[t2.expose(), s, &[3]]);
        let out = prf_plus(PrfAlg::HmacSha256, k, &[b"se", b"ed"], 70).unwrap();
        let expected: Vec<u8> = [t1.expose(), t2.expose(), &t3.expose()[..6]].concat();
        assert_eq!(out.expose(), expected);
    }

    #[test]
    fn prf_plus_stops_at_255_blocks() {
        let p = Prf::new(PrfAlg::HmacSha1, b"k");
        assert_eq!(p.prf_plus(&[b"s"], 255 * 20).unwrap().len(), 5100);
        assert_eq!(
            p.prf_plus(&[b"s"], 255 * 20 + 1).err(),
            Some(CryptoError::PrfPlusTooLong {
                requested: 5101,
                max: 5100
            })
        );
        assert!(p.prf_plus(&[b"s"], 0).unwrap().is_empty());
    }

    #[test]
    fn prf_plus_matches_python_oracle() {
        let key = b"0123456789abcdef-SKEYSEED".as_slice();
        let seed = b"Ni|Nr|SPIi|SPIr: nonces and SPIs".as_slice();
        for (alg, name) in [
            (PrfAlg::HmacSha1, "SHA1"),
            (PrfAlg::HmacSha256, "SHA256"),
            (PrfAlg::HmacSha384, "SHA384"),
            (PrfAlg::HmacSha512, "SHA512"),
        ] {
            let len = 3 * alg.output_len() + 5;
            let script = format!(
                "from cryptography.hazmat.primitives import hashes, hmac\n\
                 k = bytes.fromhex('{}'); s = bytes.fromhex('{}')\n\
                 out = b''; t = b''; i = 1\n\
                 while len(out) < {len}:\n    h = hmac.HMAC(k, hashes.{name}())\n    \
                 h.update(t + s + bytes([i])); t = h.finalize(); out += t; i += 1\n\
                 print(out[:{len}].hex())",
                hex::encode(key),
                hex::encode(seed)
            );
            let Some(expected) = python_oracle(&script) else {
                return;
            };
            let ours = prf_plus(alg, key, &[seed], len).unwrap();
            assert_eq!(hex::encode(ours.expose()), expected, "{name}");
        }
    }
}
