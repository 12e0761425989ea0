//! Non-AEAD encryption for ESP and the IKE SK payload: AES-CBC (RFC 3602) and NULL (RFC 2410).
//! Always paired with an [`crate::Integ`] transform. Works in place on whole blocks; the
//! caller supplies the IV and does ESP's own padding (RFC 4303 §2.4), not PKCS#7.

use aws_lc_rs::cipher::{
    AES_128, AES_192, AES_256, DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext,
    UnboundCipherKey,
};
use aws_lc_rs::iv::FixedLength;

use crate::CryptoError;

/// AES block size and AES-CBC IV size (RFC 3602 §3).
const AES_BLOCK: usize = 16;

/// A non-AEAD cipher this crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CipherAlg {
    /// ENCR_NULL (RFC 2410): no confidentiality; ESP only, never IKE.
    Null,
    /// ENCR_AES_CBC with a 128-bit key.
    AesCbc128,
    /// ENCR_AES_CBC with a 192-bit key.
    AesCbc192,
    /// ENCR_AES_CBC with a 256-bit key.
    AesCbc256,
}

impl CipherAlg {
    /// Key length in bytes (what the cipher takes from KEYMAT / SK_e).
    pub fn key_len(self) -> usize {
        match self {
            Self::Null => 0,
            Self::AesCbc128 => 16,
            Self::AesCbc192 => 24,
            Self::AesCbc256 => 32,
        }
    }

    /// IV length in bytes carried in each packet (RFC 3602 §3: one block; NULL: none).
    pub fn iv_len(self) -> usize {
        match self {
            Self::Null => 0,
            _ => AES_BLOCK,
        }
    }

    /// The length the plaintext must be a multiple of (before ESP's own 4-byte alignment).
    pub fn block_size(self) -> usize {
        match self {
            Self::Null => 1,
            _ => AES_BLOCK,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Null => "ENCR_NULL",
            Self::AesCbc128 => "ENCR_AES_CBC_128",
            Self::AesCbc192 => "ENCR_AES_CBC_192",
            Self::AesCbc256 => "ENCR_AES_CBC_256",
        }
    }
}

/// A keyed non-AEAD cipher. `Send + Sync`.
pub struct Cipher {
    alg: CipherAlg,
    inner: Inner,
}

enum Inner {
    Null,
    /// Boxed: the expanded AES key schedules are large and built once per SA.
    Aes(Box<AesKeys>),
}

struct AesKeys {
    enc: EncryptingKey,
    dec: DecryptingKey,
}

impl core::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Cipher")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl Cipher {
    /// Keys the cipher; `key` must be exactly [`CipherAlg::key_len`] bytes.
    pub fn new(alg: CipherAlg, key: &[u8]) -> Result<Self, CryptoError> {
        if key.len() != alg.key_len() {
            return Err(CryptoError::BadKeyLength {
                what: alg.name(),
                expected: alg.key_len(),
                got: key.len(),
            });
        }
        let aes = match alg {
            CipherAlg::Null => {
                return Ok(Self {
                    alg,
                    inner: Inner::Null,
                });
            }
            CipherAlg::AesCbc128 => &AES_128,
            CipherAlg::AesCbc192 => &AES_192,
            CipherAlg::AesCbc256 => &AES_256,
        };
        let backend = |_| CryptoError::Backend("AES-CBC key");
        let enc = EncryptingKey::cbc(UnboundCipherKey::new(aes, key).map_err(backend)?)
            .map_err(backend)?;
        let dec = DecryptingKey::cbc(UnboundCipherKey::new(aes, key).map_err(backend)?)
            .map_err(backend)?;
        Ok(Self {
            alg,
            inner: Inner::Aes(Box::new(AesKeys { enc, dec })),
        })
    }

    /// The algorithm.
    pub fn alg(&self) -> CipherAlg {
        self.alg
    }

    /// Encrypts `buf` in place with the given IV. `iv` must be [`CipherAlg::iv_len`] bytes and
    /// `buf.len()` a multiple of [`CipherAlg::block_size`]. The IV must be unpredictable
    /// (RFC 3602 §3): draw it from a [`crate::SecureRandom`].
    pub fn encrypt_in_place(&self, iv: &[u8], buf: &mut [u8]) -> Result<(), CryptoError> {
        let iv = self.check(iv, buf.len())?;
        match &self.inner {
            Inner::Null => Ok(()),
            Inner::Aes(keys) => keys
                .enc
                .less_safe_encrypt(buf, EncryptionContext::Iv128(FixedLength::from(iv)))
                .map(|_| ())
                .map_err(|_| CryptoError::Backend("AES-CBC encrypt")),
        }
    }

    /// Decrypts `buf` in place with the IV from the packet. Same length rules as
    /// [`Cipher::encrypt_in_place`]. Authenticate before decrypting (RFC 4303 §3.4.4).
    pub fn decrypt_in_place(&self, iv: &[u8], buf: &mut [u8]) -> Result<(), CryptoError> {
        let iv = self.check(iv, buf.len())?;
        match &self.inner {
            Inner::Null => Ok(()),
            Inner::Aes(keys) => keys
                .dec
                .decrypt(buf, DecryptionContext::Iv128(FixedLength::from(iv)))
                .map(|_| ())
                .map_err(|_| CryptoError::Backend("AES-CBC decrypt")),
        }
    }

    /// Checks lengths; returns the IV as a block (all zeros for NULL, which ignores it).
    fn check(&self, iv: &[u8], len: usize) -> Result<[u8; AES_BLOCK], CryptoError> {
        if iv.len() != self.alg.iv_len() {
            return Err(CryptoError::BadLength {
                what: "cipher IV",
                got: iv.len(),
            });
        }
        if len % self.alg.block_size() != 0 {
            return Err(CryptoError::BadLength {
                what: "cipher input (not whole blocks)",
                got: len,
            });
        }
        let mut block = [0u8; AES_BLOCK];
        block[..iv.len()].copy_from_slice(iv);
        Ok(block)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{records, unhex};

    #[test]
    fn aes_cbc_matches_rfc3602_and_cavp() {
        let recs = records(include_str!("../testdata/aes_cbc.txt"));
        assert_eq!(recs.len(), 4);
        for r in recs {
            let key = unhex(r["key"]);
            let alg = match key.len() {
                16 => CipherAlg::AesCbc128,
                24 => CipherAlg::AesCbc192,
                _ => CipherAlg::AesCbc256,
            };
            let cipher = Cipher::new(alg, &key).unwrap();
            let (iv, pt, ct) = (unhex(r["iv"]), unhex(r["pt"]), unhex(r["ct"]));
            let mut buf = pt.clone();
            cipher.encrypt_in_place(&iv, &mut buf).unwrap();
            assert_eq!(buf, ct, "{}", r["source"]);
            cipher.decrypt_in_place(&iv, &mut buf).unwrap();
            assert_eq!(buf, pt, "{}", r["source"]);
        }
    }

    #[test]
    fn null_is_identity_and_lengths_are_checked() {
        let null = Cipher::new(CipherAlg::Null, &[]).unwrap();
        let mut buf = *b"abc";
        null.encrypt_in_place(&[], &mut buf).unwrap();
        assert_eq!(&buf, b"abc");
        let aes = Cipher::new(CipherAlg::AesCbc128, &[1; 16]).unwrap();
        assert!(aes.encrypt_in_place(&[0; 16], &mut [0u8; 15]).is_err());
        assert!(aes.decrypt_in_place(&[0; 8], &mut [0u8; 16]).is_err());
        assert!(Cipher::new(CipherAlg::AesCbc256, &[1; 16]).is_err());
    }
}
