//! The Encrypted payload (RFC 7296 §3.14; AEAD per RFC 5282): every message after IKE_SA_INIT
//! travels inside it.
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                     Initialization Vector                     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                    Encrypted IKE Payloads                     ~
//! +               +-------------+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |               |             Padding (0-255 octets)            |
//! +-+-+-+-+-+-+-+-+               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                               |  Pad Length   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                    Integrity Checksum Data                    ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Classic ciphers: encrypt, then the ICV over the whole message up to the checksum. AEADs
//! (RFC 5282 §5.1): the IKE header and the SK payload header are the AAD, the 8-byte IV is
//! explicit, the tag is the checksum.

use std::sync::Arc;

use rampart_crypto::{
    Aead, Cipher, CipherAlg, CryptoError, EncrAlg, Integ, SecretBytes, SecureRandom,
};
use rampart_wire::ike::iana::ExchangeType;
use rampart_wire::ike::{
    IkeFlags, Message, Payload, SkPayload, Writer, emit_payload_chain, parse_payload_chain,
};

use crate::keys::{IkeAlgs, IkeKeys};

/// Why an SK payload could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SkError {
    /// No SK payload, or not last.
    #[error("no Encrypted payload")]
    Missing,
    /// The ICV did not verify: drop silently (RFC 7296 §2.21.1 / §3.14).
    #[error("integrity check failed")]
    Integrity,
    /// Lengths or padding inconsistent.
    #[error("bad SK payload: {0}")]
    Malformed(&'static str),
    /// The decrypted payload chain does not parse.
    #[error("bad inner payloads: {0}")]
    Inner(rampart_wire::Error),
}

/// One direction's protection.
enum Protector {
    Aead(Aead),
    Classic(Box<(Cipher, Integ)>),
}

impl Protector {
    fn new(
        algs: &IkeAlgs,
        encr_key: &SecretBytes,
        integ_key: &SecretBytes,
    ) -> Result<Self, CryptoError> {
        match (algs.encr, algs.integ) {
            (EncrAlg::Aead(a), _) => Ok(Self::Aead(Aead::new(a, encr_key.expose())?)),
            (EncrAlg::Cipher(c), Some(i)) if c != CipherAlg::Null => Ok(Self::Classic(Box::new((
                Cipher::new(c, encr_key.expose())?,
                Integ::new(i, integ_key.expose())?,
            )))),
            _ => Err(CryptoError::Unsupported {
                what: "IKE SK protection",
                id: algs.encr.id().0,
            }),
        }
    }

    fn iv_len(&self) -> usize {
        match self {
            Self::Aead(a) => a.alg().iv_len(),
            Self::Classic(c) => c.0.alg().iv_len(),
        }
    }

    fn icv_len(&self) -> usize {
        match self {
            Self::Aead(a) => a.alg().icv_len(),
            Self::Classic(c) => c.1.alg().icv_len(),
        }
    }

    fn block_size(&self) -> usize {
        match self {
            Self::Aead(a) => a.alg().block_size(),
            Self::Classic(c) => c.0.alg().block_size(),
        }
    }
}

/// The header fields of a message to protect.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    pub(crate) spi_i: u64,
    pub(crate) spi_r: u64,
    pub(crate) exchange: ExchangeType,
    pub(crate) flags: IkeFlags,
    pub(crate) message_id: u32,
}

/// SK protection of one IKE SA: our outbound keys and the peer's.
pub(crate) struct SkCrypto {
    outbound: Protector,
    inbound: Protector,
    /// AEAD IVs: a counter, unique per key (RFC 5282 §3.1 needs uniqueness only).
    next_iv: u64,
    rng: Arc<dyn SecureRandom>,
}

impl core::fmt::Debug for SkCrypto {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SkCrypto").finish_non_exhaustive()
    }
}

impl SkCrypto {
    /// Keys SK protection: SK_ei/SK_ai protect what the original initiator sends.
    pub(crate) fn new(
        algs: &IkeAlgs,
        keys: &IkeKeys,
        initiator: bool,
        rng: Arc<dyn SecureRandom>,
    ) -> Result<Self, CryptoError> {
        let i = Protector::new(algs, &keys.sk_ei, &keys.sk_ai)?;
        let r = Protector::new(algs, &keys.sk_er, &keys.sk_ar)?;
        let (outbound, inbound) = if initiator { (i, r) } else { (r, i) };
        Ok(Self {
            outbound,
            inbound,
            next_iv: 1,
            rng,
        })
    }

    /// Emits a message whose payloads are all inside one SK payload.
    pub(crate) fn seal(&mut self, h: Header, inner: &[Payload]) -> Result<Vec<u8>, CryptoError> {
        let bad = |_| CryptoError::Backend("IKE message emission");
        let mut plain = Vec::new();
        let first = emit_payload_chain(inner, &mut Writer::new(&mut plain)).map_err(bad)?;
        let block = self.outbound.block_size().max(1);
        let pad = (block - (plain.len() + 1) % block) % block;
        plain.resize(plain.len() + pad, 0);
        plain.push(u8::try_from(pad).map_err(|_| CryptoError::Backend("SK padding"))?);
        let iv = self.iv()?;
        let icv_len = self.outbound.icv_len();
        let msg = Message {
            spi_i: h.spi_i,
            spi_r: h.spi_r,
            exchange_type: h.exchange,
            flags: h.flags,
            message_id: h.message_id,
            payloads: vec![Payload::Sk(SkPayload::from_parts(
                first,
                &iv,
                &plain,
                &vec![0; icv_len],
            ))],
        };
        let mut bytes = msg.emit().map_err(bad)?;
        let ct_end = bytes.len() - icv_len;
        let ct_start = ct_end - plain.len();
        let iv_start = ct_start - iv.len();
        match &self.outbound {
            Protector::Aead(aead) => {
                let aad = bytes[..iv_start].to_vec();
                let icv = aead.seal_in_place(&iv, &aad, &mut bytes[ct_start..ct_end])?;
                bytes[ct_end..].copy_from_slice(icv.as_ref());
            }
            Protector::Classic(c) => {
                let (cipher, integ) = &**c;
                cipher.encrypt_in_place(&iv, &mut bytes[ct_start..ct_end])?;
                let (covered, icv) = bytes.split_at_mut(ct_end);
                integ.compute_icv(&[covered], icv)?;
            }
        }
        Ok(bytes)
    }

    fn iv(&mut self) -> Result<Vec<u8>, CryptoError> {
        let mut iv = vec![0; self.outbound.iv_len()];
        match self.outbound {
            Protector::Aead(_) => {
                iv.copy_from_slice(&self.next_iv.to_be_bytes());
                self.next_iv += 1;
            }
            // RFC 7296 §3.14: CBC IVs must be unpredictable.
            Protector::Classic(_) => self.rng.fill(&mut iv)?,
        }
        Ok(iv)
    }

    /// Verifies and decrypts the SK payload of `msg` (parsed from `datagram`) and returns the
    /// inner payloads.
    pub(crate) fn open(&self, datagram: &[u8], msg: &Message) -> Result<Vec<Payload>, SkError> {
        let Some(Payload::Sk(sk)) = msg.payloads.last() else {
            return Err(SkError::Missing);
        };
        let (iv_len, icv_len) = (self.inbound.iv_len(), self.inbound.icv_len());
        let parts = sk
            .split(iv_len, icv_len)
            .map_err(|_| SkError::Malformed("shorter than IV and ICV"))?;
        let ct_len = parts.ciphertext.len();
        let iv_start = datagram
            .len()
            .checked_sub(icv_len + ct_len + iv_len)
            .ok_or(SkError::Malformed(
                "SK payload not at the end of the datagram",
            ))?;
        let ct_start = iv_start + iv_len;
        let mut buf = datagram[ct_start..].to_vec();
        let plain_len = match &self.inbound {
            Protector::Aead(aead) => {
                let aad = &datagram[..iv_start];
                aead.open_in_place(parts.iv, aad, &mut buf)
                    .map_err(|_| SkError::Integrity)?
                    .len()
            }
            Protector::Classic(c) => {
                let (cipher, integ) = &**c;
                let covered = &datagram[..datagram.len() - icv_len];
                integ
                    .verify_icv(&[covered], parts.icv)
                    .map_err(|_| SkError::Integrity)?;
                if ct_len == 0 || ct_len % cipher.alg().block_size() != 0 {
                    return Err(SkError::Malformed(
                        "ciphertext not a whole number of blocks",
                    ));
                }
                cipher
                    .decrypt_in_place(parts.iv, &mut buf[..ct_len])
                    .map_err(|_| SkError::Malformed("decryption"))?;
                ct_len
            }
        };
        let plain = &buf[..plain_len];
        let Some((&pad_len, rest)) = plain.split_last() else {
            return Err(SkError::Malformed("no Pad Length"));
        };
        let Some(payloads_len) = rest.len().checked_sub(usize::from(pad_len)) else {
            return Err(SkError::Malformed("Pad Length beyond the plaintext"));
        };
        parse_payload_chain(sk.first_inner, &rest[..payloads_len]).map_err(SkError::Inner)
    }
}

#[cfg(test)]
mod tests;
