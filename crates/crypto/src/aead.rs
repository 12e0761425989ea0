//! AEAD transforms for ESP and the IKE SK payload: AES-GCM (RFC 4106, RFC 5282) and
//! ChaCha20-Poly1305 (RFC 7634). The data plane calls [`Aead::seal_in_place`] /
//! [`Aead::open_in_place`] once per packet, on the packet buffer, with no allocation.
//!
//! Both RFCs build the 12-byte nonce the same way: a 4-byte salt taken from the end of the key
//! material, then the 8-byte IV carried in the packet.
//!
//! ```text
//!  KEYMAT slice:  | key (16/24/32 bytes)            | salt (4) |
//!  nonce:                                           | salt (4) | IV (8) |
//! ```

use aws_lc_rs::aead::{
    AES_128_GCM, AES_192_GCM, AES_256_GCM, Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey,
};
use aws_lc_rs::constant_time;
use rampart_wire::ike::iana::EncrId;

use crate::CryptoError;

/// Salt length taken from the end of the key material (RFC 4106 §4, RFC 7634 §2).
pub const SALT_LEN: usize = 4;
/// Explicit IV length carried in every packet (RFC 4106 §3.1, RFC 7634 §2).
pub const IV_LEN: usize = 8;
/// The largest ICV an [`Aead`] produces.
pub const MAX_ICV_LEN: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    AesGcm,
    ChaCha20Poly1305,
}

/// An AEAD transform with its parameters: which cipher, key size and ICV size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AeadAlg {
    kind: Kind,
    key_len: u8,
    icv_len: u8,
}

impl AeadAlg {
    /// ENCR_AES_GCM_16 with a 128-bit key.
    pub const AES_128_GCM_16: Self = Self::gcm(16, 16);
    /// ENCR_AES_GCM_16 with a 192-bit key.
    pub const AES_192_GCM_16: Self = Self::gcm(24, 16);
    /// ENCR_AES_GCM_16 with a 256-bit key.
    pub const AES_256_GCM_16: Self = Self::gcm(32, 16);
    /// ENCR_CHACHA20_POLY1305 (RFC 7634; 256-bit key, 16-byte ICV).
    pub const CHACHA20_POLY1305: Self = Self {
        kind: Kind::ChaCha20Poly1305,
        key_len: 32,
        icv_len: 16,
    };

    const fn gcm(key_len: u8, icv_len: u8) -> Self {
        Self {
            kind: Kind::AesGcm,
            key_len,
            icv_len,
        }
    }

    /// The AEAD for an IANA encryption ID and its Key Length attribute (in bits; required for
    /// AES-GCM, RFC 4106 §8.4, and absent for ChaCha20-Poly1305, RFC 7634 §2).
    pub fn from_id(id: EncrId, key_bits: Option<u16>) -> Result<Self, CryptoError> {
        let icv_len = match id {
            EncrId::AES_GCM_8 => 8,
            EncrId::AES_GCM_12 => 12,
            EncrId::AES_GCM_16 => 16,
            EncrId::CHACHA20_POLY1305 => {
                return match key_bits {
                    None | Some(256) => Ok(Self::CHACHA20_POLY1305),
                    Some(bits) => Err(CryptoError::Unsupported {
                        what: "ENCR_CHACHA20_POLY1305 key length (bits)",
                        id: bits,
                    }),
                };
            }
            other => {
                return Err(CryptoError::Unsupported {
                    what: "AEAD",
                    id: other.0,
                });
            }
        };
        let key_len = match key_bits {
            Some(128) => 16,
            Some(192) => 24,
            Some(256) => 32,
            Some(bits) => {
                return Err(CryptoError::Unsupported {
                    what: "ENCR_AES_GCM key length (bits)",
                    id: bits,
                });
            }
            None => {
                return Err(CryptoError::Unsupported {
                    what: "ENCR_AES_GCM without key length attribute",
                    id: id.0,
                });
            }
        };
        Ok(Self::gcm(key_len, icv_len))
    }

    /// The IANA transform ID.
    pub fn id(self) -> EncrId {
        match (self.kind, self.icv_len) {
            (Kind::ChaCha20Poly1305, _) => EncrId::CHACHA20_POLY1305,
            (Kind::AesGcm, 8) => EncrId::AES_GCM_8,
            (Kind::AesGcm, 12) => EncrId::AES_GCM_12,
            (Kind::AesGcm, _) => EncrId::AES_GCM_16,
        }
    }

    /// The Key Length attribute in bits for the proposal (`None` for ChaCha20-Poly1305, which
    /// must not carry one, RFC 7634 §2).
    pub fn key_bits(self) -> Option<u16> {
        match self.kind {
            Kind::AesGcm => Some(u16::from(self.key_len) * 8),
            Kind::ChaCha20Poly1305 => None,
        }
    }

    /// Cipher key length in bytes (without the salt).
    pub fn key_len(self) -> usize {
        usize::from(self.key_len)
    }

    /// Bytes of KEYMAT / SK_e this transform consumes: key plus 4-byte salt (RFC 4106 §8.1,
    /// RFC 7634 §2).
    pub fn key_material_len(self) -> usize {
        self.key_len() + SALT_LEN
    }

    /// Explicit IV bytes per packet: 8.
    pub fn iv_len(self) -> usize {
        IV_LEN
    }

    /// ICV (tag) bytes per packet.
    pub fn icv_len(self) -> usize {
        usize::from(self.icv_len)
    }

    /// Block size for padding: 1 (stream-like; ESP still aligns to 4 bytes, RFC 4106 §3.2).
    pub fn block_size(self) -> usize {
        1
    }

    pub(crate) fn name(self) -> &'static str {
        match (self.kind, self.key_len, self.icv_len) {
            (Kind::ChaCha20Poly1305, _, _) => "ENCR_CHACHA20_POLY1305",
            (Kind::AesGcm, 16, 16) => "AES-128-GCM-16",
            (Kind::AesGcm, 24, 16) => "AES-192-GCM-16",
            (Kind::AesGcm, 32, 16) => "AES-256-GCM-16",
            (Kind::AesGcm, _, 12) => "AES-GCM-12",
            (Kind::AesGcm, _, _) => "AES-GCM-8",
        }
    }
}

/// An AEAD tag (ICV) returned by value, so sealing allocates nothing.
#[derive(Clone, Copy)]
pub struct Icv {
    bytes: [u8; MAX_ICV_LEN],
    len: u8,
}

impl AsRef<[u8]> for Icv {
    fn as_ref(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl core::fmt::Debug for Icv {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Icv({} bytes)", self.len)
    }
}

/// A keyed AEAD. `Send + Sync`: one per SA direction, shared by the data-plane workers.
pub struct Aead {
    alg: AeadAlg,
    key: LessSafeKey,
    salt: [u8; SALT_LEN],
}

impl core::fmt::Debug for Aead {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Aead")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl Drop for Aead {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.salt);
    }
}

impl Aead {
    /// Keys the AEAD from its slice of KEYMAT / SK_e: [`AeadAlg::key_material_len`] bytes,
    /// the cipher key followed by the 4-byte salt.
    pub fn new(alg: AeadAlg, key_material: &[u8]) -> Result<Self, CryptoError> {
        if key_material.len() != alg.key_material_len() {
            return Err(CryptoError::BadKeyLength {
                what: alg.name(),
                expected: alg.key_material_len(),
                got: key_material.len(),
            });
        }
        let (key, salt_bytes) = key_material.split_at(alg.key_len());
        let backend = match (alg.kind, alg.key_len) {
            (Kind::ChaCha20Poly1305, _) => &CHACHA20_POLY1305,
            (Kind::AesGcm, 16) => &AES_128_GCM,
            (Kind::AesGcm, 24) => &AES_192_GCM,
            (Kind::AesGcm, _) => &AES_256_GCM,
        };
        let key = UnboundKey::new(backend, key).map_err(|_| CryptoError::Backend("AEAD key"))?;
        let mut salt = [0u8; SALT_LEN];
        salt.copy_from_slice(salt_bytes);
        Ok(Self {
            alg,
            key: LessSafeKey::new(key),
            salt,
        })
    }

    /// The algorithm.
    pub fn alg(&self) -> AeadAlg {
        self.alg
    }

    fn nonce(&self, iv: &[u8]) -> Result<Nonce, CryptoError> {
        if iv.len() != IV_LEN {
            return Err(CryptoError::BadLength {
                what: "AEAD IV",
                got: iv.len(),
            });
        }
        let mut nonce = [0u8; SALT_LEN + IV_LEN];
        nonce[..SALT_LEN].copy_from_slice(&self.salt);
        nonce[SALT_LEN..].copy_from_slice(iv);
        Ok(Nonce::assume_unique_for_key(nonce))
    }

    /// Full-length tag over `buf`, encrypting it in place.
    fn seal_full(&self, iv: &[u8], aad: &[u8], buf: &mut [u8]) -> Result<Icv, CryptoError> {
        let tag = self
            .key
            .seal_in_place_separate_tag(self.nonce(iv)?, Aad::from(aad), buf)
            .map_err(|_| CryptoError::Backend("AEAD seal"))?;
        let mut icv = Icv {
            bytes: [0; MAX_ICV_LEN],
            len: self.alg.icv_len,
        };
        icv.bytes.copy_from_slice(tag.as_ref());
        Ok(icv)
    }

    /// Encrypts `buf` in place and returns the ICV ([`AeadAlg::icv_len`] bytes).
    ///
    /// `iv` is the 8-byte explicit IV of this packet and must never repeat under one key
    /// (RFC 4106 §3.1: the ESP sequence number is the usual choice). `aad` is the ESP header
    /// (SPI || sequence number, or SPI || ESN high || low, RFC 4106 §5) or the IKE header
    /// through the SK payload header (RFC 5282 §5.1).
    pub fn seal_in_place(&self, iv: &[u8], aad: &[u8], buf: &mut [u8]) -> Result<Icv, CryptoError> {
        // A truncated GCM tag is the leading bytes of the full tag (NIST SP 800-38D §5.2.1.2);
        // `Icv::as_ref` shows only those.
        self.seal_full(iv, aad, buf)
    }

    /// Verifies and decrypts `buf_with_icv` (ciphertext followed by the ICV) in place and
    /// returns the plaintext, a prefix of the buffer. On failure the buffer holds no
    /// plaintext that the caller may use and the error is
    /// [`CryptoError::AuthenticationFailed`].
    pub fn open_in_place<'a>(
        &self,
        iv: &[u8],
        aad: &[u8],
        buf_with_icv: &'a mut [u8],
    ) -> Result<&'a mut [u8], CryptoError> {
        let icv_len = self.alg.icv_len();
        let Some(ct_len) = buf_with_icv.len().checked_sub(icv_len) else {
            return Err(CryptoError::BadLength {
                what: "AEAD ciphertext shorter than ICV",
                got: buf_with_icv.len(),
            });
        };
        if icv_len == MAX_ICV_LEN {
            let nonce = self.nonce(iv)?;
            return self
                .key
                .open_in_place(nonce, Aad::from(aad), buf_with_icv)
                .map_err(|_| CryptoError::AuthenticationFailed);
        }
        let (ct, icv) = buf_with_icv.split_at_mut(ct_len);
        self.open_truncated(iv, aad, ct, icv)?;
        Ok(ct)
    }

    /// Verifies a truncated (8- or 12-byte) GCM ICV. The backend only checks full 16-byte
    /// tags, so this recomputes the full tag: CTR-decrypt (a seal of the ciphertext), then
    /// re-seal the plaintext, which restores the ciphertext and yields its true tag; compare
    /// the leading bytes in constant time; on success decrypt once more. Three passes: the
    /// truncated-ICV variants are a compatibility path, the 16-byte ICV is the fast one.
    fn open_truncated(
        &self,
        iv: &[u8],
        aad: &[u8],
        ct: &mut [u8],
        icv: &[u8],
    ) -> Result<(), CryptoError> {
        self.seal_full(iv, aad, ct)?;
        let tag = self.seal_full(iv, aad, ct)?;
        constant_time::verify_slices_are_equal(&tag.bytes[..icv.len()], icv)
            .map_err(|_| CryptoError::AuthenticationFailed)?;
        self.seal_full(iv, aad, ct)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{records, unhex};
    use proptest::prelude::*;

    fn check(alg: AeadAlg, r: &std::collections::HashMap<&str, &str>) {
        let (key, nonce) = (unhex(r["key"]), unhex(r["nonce"]));
        let (aad, pt, ct, tag) = (
            unhex(r["aad"]),
            unhex(r["pt"]),
            unhex(r["ct"]),
            unhex(r["tag"]),
        );
        // KEYMAT = key || salt, salt = nonce[..4], IV = nonce[4..] (RFC 4106 §4, RFC 7634 §2).
        let aead = Aead::new(alg, &[&key[..], &nonce[..4]].concat()).unwrap();
        let iv = &nonce[4..];
        let mut buf = pt.clone();
        let icv = aead.seal_in_place(iv, &aad, &mut buf).unwrap();
        assert_eq!(buf, ct);
        assert_eq!(icv.as_ref(), tag);
        let mut wire = [&ct[..], &tag[..]].concat();
        assert_eq!(aead.open_in_place(iv, &aad, &mut wire).unwrap(), &pt[..]);
        // Any flipped bit, in ciphertext, tag or AAD, fails authentication.
        let mut wire = [&ct[..], &tag[..]].concat();
        let last = wire.len() - 1;
        wire[last] ^= 1;
        assert_eq!(
            aead.open_in_place(iv, &aad, &mut wire),
            Err(CryptoError::AuthenticationFailed)
        );
        let mut wire = [&ct[..], &tag[..]].concat();
        assert!(
            aead.open_in_place(iv, &[&aad[..], b"x"].concat(), &mut wire)
                .is_err()
        );
    }

    #[test]
    fn aes_gcm_matches_mcgrew_viega_and_cavp() {
        let recs = records(include_str!("../testdata/aes_gcm.txt"));
        assert_eq!(recs.len(), 15);
        for r in &recs {
            let icv_id = match r["tag"].len() / 2 {
                16 => EncrId::AES_GCM_16,
                12 => EncrId::AES_GCM_12,
                _ => EncrId::AES_GCM_8,
            };
            let bits = u16::try_from(r["key"].len() * 4).unwrap();
            check(AeadAlg::from_id(icv_id, Some(bits)).unwrap(), r);
        }
    }

    #[test]
    fn chacha20_poly1305_matches_rfc8439() {
        let recs = records(include_str!("../testdata/chacha20_poly1305_rfc8439.txt"));
        check(AeadAlg::CHACHA20_POLY1305, &recs[0]);
    }

    #[test]
    fn lengths_are_checked() {
        let aead = Aead::new(AeadAlg::AES_128_GCM_16, &[0; 20]).unwrap();
        assert!(aead.seal_in_place(&[0; 12], b"", &mut []).is_err());
        assert!(aead.open_in_place(&[0; 8], b"", &mut [0; 15]).is_err());
        assert!(matches!(
            Aead::new(AeadAlg::AES_256_GCM_16, &[0; 32]),
            Err(CryptoError::BadKeyLength {
                expected: 36,
                got: 32,
                ..
            })
        ));
    }

    proptest! {
        #[test]
        fn open_inverts_seal(
            alg in prop::sample::select(vec![
                AeadAlg::AES_128_GCM_16, AeadAlg::AES_256_GCM_16, AeadAlg::CHACHA20_POLY1305,
                AeadAlg::from_id(EncrId::AES_GCM_8, Some(128)).unwrap(),
                AeadAlg::from_id(EncrId::AES_GCM_12, Some(256)).unwrap(),
            ]),
            key in prop::collection::vec(any::<u8>(), 36),
            iv in any::<[u8; 8]>(),
            aad in prop::collection::vec(any::<u8>(), 0..24),
            pt in prop::collection::vec(any::<u8>(), 0..300),
        ) {
            let aead = Aead::new(alg, &key[..alg.key_material_len()]).unwrap();
            let mut buf = pt.clone();
            let icv = aead.seal_in_place(&iv, &aad, &mut buf).unwrap();
            prop_assert_eq!(icv.as_ref().len(), alg.icv_len());
            buf.extend_from_slice(icv.as_ref());
            prop_assert_eq!(aead.open_in_place(&iv, &aad, &mut buf).unwrap(), &pt[..]);
        }
    }
}
