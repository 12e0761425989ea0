//! The registry: IANA transform IDs (RFC 7296 §3.3.2) to the implementations in this crate.
//! Negotiation asks here whether a peer's transform is usable; key derivation asks how many
//! KEYMAT bytes each algorithm takes.

use rampart_wire::ike::iana::{EncrId, EsnId, IntegId, KeId, PrfId, ProtocolId};

use crate::ke::SUPPORTED_KE;
use crate::{AeadAlg, CipherAlg, CryptoError, IntegAlg, PrfAlg};

/// An encryption transform: an AEAD, or a cipher that needs a separate [`IntegAlg`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EncrAlg {
    /// AES-GCM or ChaCha20-Poly1305: integrity included, INTEG must be NONE.
    Aead(AeadAlg),
    /// AES-CBC or NULL: needs an integrity transform.
    Cipher(CipherAlg),
}

impl EncrAlg {
    /// The implementation of an ENCR transform ID with its Key Length attribute (in bits).
    ///
    /// AES-CBC and AES-GCM require the attribute (RFC 3602 §5, RFC 4106 §8.4); ChaCha20-
    /// Poly1305 and NULL must not carry a length other than their fixed one.
    pub fn from_id(id: EncrId, key_bits: Option<u16>) -> Result<Self, CryptoError> {
        match id {
            EncrId::AES_GCM_8 | EncrId::AES_GCM_12 | EncrId::AES_GCM_16 => {
                AeadAlg::from_id(id, key_bits).map(Self::Aead)
            }
            EncrId::CHACHA20_POLY1305 => AeadAlg::from_id(id, key_bits).map(Self::Aead),
            EncrId::NULL => match key_bits {
                None | Some(0) => Ok(Self::Cipher(CipherAlg::Null)),
                Some(bits) => Err(CryptoError::Unsupported {
                    what: "ENCR_NULL key length (bits)",
                    id: bits,
                }),
            },
            EncrId::AES_CBC => match key_bits {
                Some(128) => Ok(Self::Cipher(CipherAlg::AesCbc128)),
                Some(192) => Ok(Self::Cipher(CipherAlg::AesCbc192)),
                Some(256) => Ok(Self::Cipher(CipherAlg::AesCbc256)),
                Some(bits) => Err(CryptoError::Unsupported {
                    what: "ENCR_AES_CBC key length (bits)",
                    id: bits,
                }),
                None => Err(CryptoError::Unsupported {
                    what: "ENCR_AES_CBC without key length attribute",
                    id: id.0,
                }),
            },
            other => Err(CryptoError::Unsupported {
                what: "ENCR",
                id: other.0,
            }),
        }
    }

    /// The IANA transform ID.
    pub fn id(self) -> EncrId {
        match self {
            Self::Aead(a) => a.id(),
            Self::Cipher(CipherAlg::Null) => EncrId::NULL,
            Self::Cipher(_) => EncrId::AES_CBC,
        }
    }

    /// The Key Length attribute in bits, for the algorithms that carry one.
    pub fn key_bits(self) -> Option<u16> {
        match self {
            Self::Aead(a) => a.key_bits(),
            Self::Cipher(CipherAlg::Null) => None,
            Self::Cipher(c) => u16::try_from(c.key_len() * 8).ok(),
        }
    }

    /// Bytes of KEYMAT / SK_e this algorithm takes (AEADs include their 4-byte salt).
    pub fn key_material_len(self) -> usize {
        match self {
            Self::Aead(a) => a.key_material_len(),
            Self::Cipher(c) => c.key_len(),
        }
    }

    /// Explicit IV bytes per packet.
    pub fn iv_len(self) -> usize {
        match self {
            Self::Aead(a) => a.iv_len(),
            Self::Cipher(c) => c.iv_len(),
        }
    }

    /// The plaintext (payload + padding + trailer) must be a multiple of this.
    pub fn block_size(self) -> usize {
        match self {
            Self::Aead(a) => a.block_size(),
            Self::Cipher(c) => c.block_size(),
        }
    }

    /// The AEAD's ICV length; 0 for a plain cipher (whose ICV comes from its [`IntegAlg`]).
    pub fn icv_len(self) -> usize {
        match self {
            Self::Aead(a) => a.icv_len(),
            Self::Cipher(_) => 0,
        }
    }

    /// Whether the transform provides integrity itself (then INTEG must be NONE,
    /// RFC 7296 §3.3).
    pub fn is_aead(self) -> bool {
        matches!(self, Self::Aead(_))
    }

    /// Whether the algorithm may protect `protocol`: ENCR_NULL is for ESP only (RFC 7296
    /// §3.3.2 lists it as not allowed for IKE).
    pub fn allowed_for(self, protocol: ProtocolId) -> bool {
        match self {
            Self::Cipher(CipherAlg::Null) => protocol == ProtocolId::ESP,
            _ => protocol == ProtocolId::ESP || protocol == ProtocolId::IKE,
        }
    }
}

/// Every (ENCR ID, key length in bits) pair this crate implements.
pub const SUPPORTED_ENCR: &[(EncrId, Option<u16>)] = &[
    (EncrId::AES_GCM_16, Some(128)),
    (EncrId::AES_GCM_16, Some(192)),
    (EncrId::AES_GCM_16, Some(256)),
    (EncrId::AES_GCM_12, Some(128)),
    (EncrId::AES_GCM_12, Some(192)),
    (EncrId::AES_GCM_12, Some(256)),
    (EncrId::AES_GCM_8, Some(128)),
    (EncrId::AES_GCM_8, Some(192)),
    (EncrId::AES_GCM_8, Some(256)),
    (EncrId::CHACHA20_POLY1305, None),
    (EncrId::AES_CBC, Some(128)),
    (EncrId::AES_CBC, Some(192)),
    (EncrId::AES_CBC, Some(256)),
    (EncrId::NULL, None),
];

/// Whether an ENCR transform (with its key length) is implemented.
pub fn supports_encr(id: EncrId, key_bits: Option<u16>) -> bool {
    EncrAlg::from_id(id, key_bits).is_ok()
}

/// Whether a PRF transform is implemented.
pub fn supports_prf(id: PrfId) -> bool {
    PrfAlg::from_id(id).is_ok()
}

/// Whether an integrity transform is implemented (`NONE` counts: it goes with AEADs).
pub fn supports_integ(id: IntegId) -> bool {
    id == IntegId::NONE || IntegAlg::from_id(id).is_ok()
}

/// Whether a key exchange method is implemented (`NONE` counts: a child SA without PFS).
pub fn supports_ke(id: KeId) -> bool {
    id == KeId::NONE || SUPPORTED_KE.contains(&id)
}

/// Whether an ESN transform is supported: both values are (the data plane does 64-bit
/// sequence numbers).
pub fn supports_esn(id: EsnId) -> bool {
    id == EsnId::NO_ESN || id == EsnId::ESN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_transform_resolves_and_round_trips_its_id() {
        for &(id, bits) in SUPPORTED_ENCR {
            let alg = EncrAlg::from_id(id, bits).unwrap();
            assert_eq!(alg.id(), id);
            assert_eq!(alg.key_bits(), bits);
        }
        for &p in PrfAlg::ALL {
            assert_eq!(PrfAlg::from_id(p.id()), Ok(p));
        }
        for &i in IntegAlg::ALL {
            assert_eq!(IntegAlg::from_id(i.id()), Ok(i));
        }
    }

    #[test]
    fn keymat_sizes_follow_the_rfcs() {
        let gcm128 = EncrAlg::from_id(EncrId::AES_GCM_16, Some(128)).unwrap();
        assert_eq!(
            (gcm128.key_material_len(), gcm128.iv_len(), gcm128.icv_len()),
            (20, 8, 16)
        );
        let gcm256_8 = EncrAlg::from_id(EncrId::AES_GCM_8, Some(256)).unwrap();
        assert_eq!((gcm256_8.key_material_len(), gcm256_8.icv_len()), (36, 8));
        let chacha = EncrAlg::from_id(EncrId::CHACHA20_POLY1305, None).unwrap();
        assert_eq!((chacha.key_material_len(), chacha.iv_len()), (36, 8));
        let cbc = EncrAlg::from_id(EncrId::AES_CBC, Some(192)).unwrap();
        assert_eq!(
            (cbc.key_material_len(), cbc.iv_len(), cbc.block_size()),
            (24, 16, 16)
        );
        assert!(!cbc.is_aead() && chacha.is_aead());
        assert_eq!(IntegAlg::HmacSha256_128.key_len(), 32);
        assert_eq!(IntegAlg::HmacSha1_96.icv_len(), 12);
        assert_eq!(PrfAlg::HmacSha384.output_len(), 48);
    }

    #[test]
    fn unknown_and_unimplemented_ids_say_what_and_which() {
        assert_eq!(
            EncrAlg::from_id(EncrId::DES3, None),
            Err(CryptoError::Unsupported {
                what: "ENCR",
                id: 3
            })
        );
        assert_eq!(
            EncrAlg::from_id(EncrId::AES_CBC, Some(100)),
            Err(CryptoError::Unsupported {
                what: "ENCR_AES_CBC key length (bits)",
                id: 100
            })
        );
        assert!(EncrAlg::from_id(EncrId::AES_GCM_16, None).is_err());
        assert!(EncrAlg::from_id(EncrId::CHACHA20_POLY1305, Some(128)).is_err());
        assert_eq!(
            PrfAlg::from_id(PrfId::AES128_XCBC),
            Err(CryptoError::Unsupported { what: "PRF", id: 4 })
        );
        assert!(IntegAlg::from_id(IntegId::HMAC_MD5_96).is_err());
        assert!(!supports_ke(KeId::MODP_1024) && supports_ke(KeId::CURVE25519));
        assert!(supports_integ(IntegId::NONE) && supports_esn(EsnId::ESN));
        assert!(!EncrAlg::Cipher(CipherAlg::Null).allowed_for(ProtocolId::IKE));
    }
}
