//! The cryptographic half of an ESP SA: [`EspTransform`] seals and opens the ESP payload in place
//! (RFC 4303 §3.3.2 and §3.4.4), with the IV and AAD rules of each algorithm family.
//!
//! Position in the path: the outbound encapsulation has laid out
//! `ESP header | IV | payload | padding | pad length | next header | ICV` in the packet buffer and
//! calls [`EspTransform::seal`] on that slice; inbound, [`EspTransform::open`] verifies the ICV and
//! decrypts the same slice in place, after the anti-replay pre-check gave the ESN high bits.
//!
//! # IVs
//!
//! - **AEAD** (AES-GCM, RFC 4106 §3.1; ChaCha20-Poly1305, RFC 7634 §2): the 8-byte IV is the
//!   64-bit ESP sequence number, big-endian. RFC 4106 §3.1 names a counter as the way to meet
//!   its one requirement, that an IV never repeats under one key; RFC 7634 §2 says the same. The
//!   sequence number never repeats within an SA (the outbound counter refuses to wrap, see
//!   [`crate::seq`]), and each SA has its own key, so the nonce `salt || IV` is unique.
//! - **AES-CBC** (RFC 3602 §3): the IV must be unpredictable. It is derived without an RNG as
//!   `IV = AES_K(prefix || seq)`, the forward cipher applied under the SA's key to a nonce that
//!   is unique per key (NIST SP 800-38A, Appendix C, first method). An observer who knows the
//!   sequence number cannot predict the IV without the key.
//! - **NULL** (RFC 2410): no IV.
//!
//! # AAD and ICV input
//!
//! - AEAD: AAD = `SPI || Seq (low 32)`, or with ESN `SPI || Seq high 32 || Seq low 32`
//!   (RFC 4106 §5, RFC 7634 §2.1). The ICV is the AEAD tag.
//! - Cipher + HMAC, encrypt-then-MAC (RFC 4303 §3.3.2): ICV = HMAC over
//!   `SPI || Seq || IV || ciphertext`, with the ESN high 32 bits appended after the ciphertext
//!   but never transmitted (RFC 4303 §2.2.1).

use rampart_crypto::{Aead, Cipher, CipherAlg, CryptoError, EncrAlg, Integ, IntegAlg, aead, integ};
use rampart_wire::esp::HEADER_LEN;
use thiserror::Error;

use crate::drop::DropReason;
use crate::sa::SaConfigError;

/// The nonce prefix of the CBC IV derivation (any constant works; it only has to differ from
/// nothing else encrypted as a whole first block under this key with a zero IV).
const CBC_IV_PREFIX: [u8; 8] = *b"ESP-IV\0\0";

/// Largest IV of any supported algorithm (AES-CBC).
pub const MAX_IV_LEN: usize = 16;

/// An ESP transform the data plane cannot build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EspConfigError {
    /// The key material has the wrong length for the algorithms.
    #[error("ESP key material must be {expected} bytes, got {got}")]
    KeyLength {
        /// Encryption key (with salt) plus integrity key length.
        expected: usize,
        /// What was supplied.
        got: usize,
    },
    /// An AEAD was combined with a separate integrity algorithm (RFC 4106 §8.4, RFC 7634 §3:
    /// AEAD transforms carry no INTEG transform).
    #[error("an AEAD algorithm takes no separate integrity algorithm")]
    AeadWithIntegrity,
    /// A non-AEAD cipher without an integrity algorithm: ESP without integrity is not offered
    /// (RFC 8221 §5 says MUST NOT for ENCR_NULL without integrity; confidentiality-only ESP is
    /// NOT RECOMMENDED and not implemented).
    #[error("a non-AEAD cipher needs an integrity algorithm")]
    MissingIntegrity,
    /// The SA state is not an ESP SA.
    #[error("the SA is not an ESP SA")]
    NotEsp,
    /// The SA configuration cannot be used.
    #[error(transparent)]
    Sa(#[from] SaConfigError),
    /// The crypto backend refused the key.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// The algorithms and keys of one ESP SA (one direction). Stateless per packet; `Send + Sync`.
// One per SA, never moved per packet: the HMAC key's size in the second variant costs nothing,
// and boxing it would add a pointer chase on that variant's fast path.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum EspTransform {
    /// AES-GCM (RFC 4106) or ChaCha20-Poly1305 (RFC 7634).
    Aead(Aead),
    /// A block cipher (AES-CBC or NULL) with HMAC integrity, encrypt-then-MAC.
    CipherInteg {
        /// The cipher.
        cipher: Cipher,
        /// The integrity algorithm.
        integ: Integ,
    },
}

impl EspTransform {
    /// Builds the transform from the negotiated algorithms and this direction's key material,
    /// laid out as RFC 7296 §2.17 takes it from KEYMAT: the encryption key (with the 4-byte salt
    /// at its end for AEADs) first, then the integrity key.
    pub fn new(
        encr: EncrAlg,
        integ: Option<IntegAlg>,
        keymat: &[u8],
    ) -> Result<Self, EspConfigError> {
        let encr_len = encr.key_material_len();
        let integ_len = integ.map_or(0, IntegAlg::key_len);
        if keymat.len() != encr_len + integ_len {
            return Err(EspConfigError::KeyLength {
                expected: encr_len + integ_len,
                got: keymat.len(),
            });
        }
        let (encr_key, integ_key) = keymat.split_at(encr_len);
        match (encr, integ) {
            (EncrAlg::Aead(alg), None) => Ok(Self::Aead(Aead::new(alg, encr_key)?)),
            (EncrAlg::Aead(_), Some(_)) => Err(EspConfigError::AeadWithIntegrity),
            (EncrAlg::Cipher(alg), Some(ialg)) => Ok(Self::CipherInteg {
                cipher: Cipher::new(alg, encr_key)?,
                integ: Integ::new(ialg, integ_key)?,
            }),
            (EncrAlg::Cipher(_), None) => Err(EspConfigError::MissingIntegrity),
            // `EncrAlg` is non-exhaustive: a future family needs its own arm here.
            _ => Err(EspConfigError::Crypto(CryptoError::Unsupported {
                what: "ESP encryption family",
                id: encr.id().0,
            })),
        }
    }

    /// Length of the IV carried after the ESP header.
    pub fn iv_len(&self) -> usize {
        match self {
            Self::Aead(_) => aead::IV_LEN,
            Self::CipherInteg { cipher, .. } => cipher.alg().iv_len(),
        }
    }

    /// Length of the ICV at the end of the packet.
    pub fn icv_len(&self) -> usize {
        match self {
            Self::Aead(a) => a.alg().icv_len(),
            Self::CipherInteg { integ, .. } => integ.alg().icv_len(),
        }
    }

    /// The cipher block size the padding aligns to (1 for AEADs and NULL).
    pub fn block_size(&self) -> usize {
        match self {
            Self::Aead(a) => a.alg().block_size(),
            Self::CipherInteg { cipher, .. } => cipher.alg().block_size(),
        }
    }

    /// Bytes between the end of the payload-and-trailer and the ESP header: header, IV and ICV.
    pub fn overhead(&self) -> usize {
        HEADER_LEN + self.iv_len() + self.icv_len()
    }

    /// Seals one ESP packet in place. `esp` is `header | IV | plaintext | ICV`, with the header
    /// (SPI, low sequence number) already written and room for IV and ICV; the IV is written
    /// here, the plaintext (payload and trailer) encrypted, and the ICV filled in. `seq_hi` is
    /// the ESN high half, `Some` exactly when the SA uses ESN.
    pub fn seal(&self, esp: &mut [u8], seq_hi: Option<u32>) -> Result<(), DropReason> {
        let (iv_len, icv_len) = (self.iv_len(), self.icv_len());
        let body_end = esp
            .len()
            .checked_sub(icv_len)
            .filter(|&e| e >= HEADER_LEN + iv_len)
            .ok_or(DropReason::BufferTooSmall)?;
        let (head, rest) = esp.split_at_mut(HEADER_LEN);
        let (iv, rest) = rest.split_at_mut(iv_len);
        let (body, icv) = rest.split_at_mut(body_end - HEADER_LEN - iv_len);
        let header: &[u8] = head;
        let seq = full_seq(header, seq_hi);
        match self {
            Self::Aead(a) => {
                iv.copy_from_slice(&seq.to_be_bytes());
                let mut aad = [0u8; 12];
                let aad = aead_aad(header, seq_hi, &mut aad);
                let tag = a.seal_in_place(iv, aad, body).map_err(internal)?;
                icv.copy_from_slice(tag.as_ref());
            }
            Self::CipherInteg { cipher, integ } => {
                derive_cbc_iv(cipher, seq, iv)?;
                cipher.encrypt_in_place(iv, body).map_err(internal)?;
                let hi = seq_hi.map(u32::to_be_bytes);
                let hi: &[u8] = hi.as_ref().map_or(&[], |h| &h[..]);
                integ
                    .compute_icv(&[header, iv, body, hi], icv)
                    .map_err(internal)?;
            }
        }
        Ok(())
    }

    /// Verifies and decrypts one ESP packet in place: `esp` is `header | IV | ciphertext | ICV`
    /// as received. Returns the plaintext length; the plaintext then sits at
    /// `esp[HEADER_LEN + iv_len..][..len]`. `seq_hi` as for [`seal`](Self::seal), from the
    /// anti-replay window's inference.
    ///
    /// Errors: [`DropReason::Truncated`] when too short for header, IV, ICV and the 2-byte
    /// trailer; [`DropReason::Malformed`] when a CBC ciphertext is not whole blocks;
    /// [`DropReason::IcvFailure`] when the ICV or AEAD tag does not verify.
    pub fn open(&self, esp: &mut [u8], seq_hi: Option<u32>) -> Result<usize, DropReason> {
        let (iv_len, icv_len) = (self.iv_len(), self.icv_len());
        let min = HEADER_LEN + iv_len + rampart_wire::esp::TRAILER_LEN + icv_len;
        if esp.len() < min {
            return Err(DropReason::Truncated);
        }
        let (head, rest) = esp.split_at_mut(HEADER_LEN);
        let (iv, rest) = rest.split_at_mut(iv_len);
        let header: &[u8] = head;
        let iv: &[u8] = iv;
        match self {
            Self::Aead(a) => {
                let mut aad = [0u8; 12];
                let aad = aead_aad(header, seq_hi, &mut aad);
                let pt = a
                    .open_in_place(iv, aad, rest)
                    .map_err(|_| DropReason::IcvFailure)?;
                Ok(pt.len())
            }
            Self::CipherInteg { cipher, integ } => {
                let (body, icv) = rest.split_at_mut(rest.len() - icv_len);
                if body.len() % cipher.alg().block_size() != 0 {
                    return Err(DropReason::Malformed);
                }
                let hi = seq_hi.map(u32::to_be_bytes);
                let hi: &[u8] = hi.as_ref().map_or(&[], |h| &h[..]);
                integ
                    .verify_icv(&[header, iv, body, hi], icv)
                    .map_err(|_| DropReason::IcvFailure)?;
                cipher
                    .decrypt_in_place(iv, body)
                    .map_err(|_| DropReason::Malformed)?;
                Ok(body.len())
            }
        }
    }
}

/// The full 64-bit sequence number: the header's low half and the ESN high half.
fn full_seq(header: &[u8], seq_hi: Option<u32>) -> u64 {
    let lo = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    (u64::from(seq_hi.unwrap_or(0)) << 32) | u64::from(lo)
}

/// The AEAD AAD (RFC 4106 §5 figures 3 and 4; RFC 7634 §2.1): the 8-byte ESP header, or with
/// ESN `SPI || Seq high || Seq low`.
fn aead_aad<'a>(header: &'a [u8], seq_hi: Option<u32>, scratch: &'a mut [u8; 12]) -> &'a [u8] {
    match seq_hi {
        None => header,
        Some(hi) => {
            scratch[..4].copy_from_slice(&header[..4]);
            scratch[4..8].copy_from_slice(&hi.to_be_bytes());
            scratch[8..].copy_from_slice(&header[4..HEADER_LEN]);
            &scratch[..]
        }
    }
}

/// The CBC IV for sequence number `seq` (see the module docs): one AES block encryption of
/// `prefix || seq`, computed as CBC with a zero IV over one block. NULL has no IV.
fn derive_cbc_iv(cipher: &Cipher, seq: u64, iv: &mut [u8]) -> Result<(), DropReason> {
    if iv.is_empty() {
        return Ok(());
    }
    debug_assert_ne!(cipher.alg(), CipherAlg::Null, "NULL has an empty IV");
    iv[..8].copy_from_slice(&CBC_IV_PREFIX);
    iv[8..].copy_from_slice(&seq.to_be_bytes());
    cipher
        .encrypt_in_place(&[0u8; MAX_IV_LEN], iv)
        .map_err(internal)
}

/// A backend failure on our own correctly sized buffers: not the packet's fault, but the packet
/// cannot be sent; reported as a buffer problem.
fn internal(_: CryptoError) -> DropReason {
    DropReason::BufferTooSmall
}

/// The largest ICV any supported ESP transform produces.
pub const MAX_ICV_LEN: usize = integ::MAX_ICV_LEN;
