//! IANA "Internet Key Exchange Version 2 (IKEv2) Parameters" registries as newtypes.
//!
//! Each registry is a `Copy` newtype over its wire integer. Named constants cover the values this
//! project knows; any other value is kept as-is (never rejected at parse time), so a peer's unknown
//! transform can be skipped during negotiation and still be shown to the operator by number
//! (rustls keeps unknown values the same way).

/// Declares a registry newtype with named constants, `name()`, `KNOWN`, and Debug/Display that
/// print the IANA name (or `Type(value)` for unknown values).
macro_rules! registry {
    (
        $(#[$meta:meta])*
        $name:ident($ty:ty) {
            $( $(#[$cmeta:meta])* $cname:ident = $val:literal => $str:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $ty);

        impl $name {
            $( $(#[$cmeta])* pub const $cname: Self = Self($val); )*

            /// Every value this crate has a name for, in registry order.
            pub const KNOWN: &'static [Self] = &[$(Self::$cname),*];

            /// The IANA name of this value, or `None` if this crate does not know it.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $val => Some($str), )*
                    _ => None,
                }
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, concat!(stringify!($name), "({})"), self.0),
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                core::fmt::Debug::fmt(self, f)
            }
        }

        impl From<$ty> for $name {
            fn from(v: $ty) -> Self {
                Self(v)
            }
        }

        impl From<$name> for $ty {
            fn from(v: $name) -> Self {
                v.0
            }
        }
    };
}
#[allow(unused_imports)] // used by the IKE payload modules as they land
pub(crate) use registry;

registry! {
    /// Security Protocol Identifier (RFC 7296 §3.3.1).
    ProtocolId(u8) {
        /// The IKE SA itself.
        IKE = 1 => "IKE",
        /// Authentication Header (RFC 4302).
        AH = 2 => "AH",
        /// Encapsulating Security Payload (RFC 4303).
        ESP = 3 => "ESP",
    }
}

registry! {
    /// Transform Type (RFC 7296 §3.3.2).
    TransformType(u8) {
        /// Encryption algorithm (ENCR).
        ENCR = 1 => "ENCR",
        /// Pseudorandom function (PRF).
        PRF = 2 => "PRF",
        /// Integrity algorithm (INTEG).
        INTEG = 3 => "INTEG",
        /// Key exchange method, formerly "Diffie-Hellman group" (KE).
        KE = 4 => "KE",
        /// Extended sequence numbers (ESN).
        ESN = 5 => "ESN",
    }
}

registry! {
    /// Transform Type 1 — Encryption Algorithm Transform IDs.
    EncrId(u16) {
        /// Triple DES in CBC mode (legacy; not implemented).
        DES3 = 3 => "ENCR_3DES",
        /// NULL encryption (ESP only, RFC 2410).
        NULL = 11 => "ENCR_NULL",
        /// AES in CBC mode (RFC 3602); key length attribute required.
        AES_CBC = 12 => "ENCR_AES_CBC",
        /// AES in counter mode (RFC 3686; not implemented).
        AES_CTR = 13 => "ENCR_AES_CTR",
        /// AES-GCM with an 8-octet ICV (RFC 4106).
        AES_GCM_8 = 18 => "ENCR_AES_GCM_8",
        /// AES-GCM with a 12-octet ICV (RFC 4106).
        AES_GCM_12 = 19 => "ENCR_AES_GCM_12",
        /// AES-GCM with a 16-octet ICV (RFC 4106).
        AES_GCM_16 = 20 => "ENCR_AES_GCM_16",
        /// NULL encryption with AES-GMAC authentication (RFC 4543).
        NULL_AUTH_AES_GMAC = 21 => "ENCR_NULL_AUTH_AES_GMAC",
        /// ChaCha20-Poly1305 (RFC 7634).
        CHACHA20_POLY1305 = 28 => "ENCR_CHACHA20_POLY1305",
    }
}

registry! {
    /// Transform Type 2 — Pseudorandom Function Transform IDs.
    PrfId(u16) {
        /// HMAC-MD5 (legacy; not implemented).
        HMAC_MD5 = 1 => "PRF_HMAC_MD5",
        /// HMAC-SHA1 (RFC 2104).
        HMAC_SHA1 = 2 => "PRF_HMAC_SHA1",
        /// AES128-XCBC (RFC 4434; not implemented).
        AES128_XCBC = 4 => "PRF_AES128_XCBC",
        /// HMAC-SHA2-256 (RFC 4868).
        HMAC_SHA2_256 = 5 => "PRF_HMAC_SHA2_256",
        /// HMAC-SHA2-384 (RFC 4868).
        HMAC_SHA2_384 = 6 => "PRF_HMAC_SHA2_384",
        /// HMAC-SHA2-512 (RFC 4868).
        HMAC_SHA2_512 = 7 => "PRF_HMAC_SHA2_512",
        /// AES128-CMAC (RFC 4615; not implemented).
        AES128_CMAC = 8 => "PRF_AES128_CMAC",
    }
}

registry! {
    /// Transform Type 3 — Integrity Algorithm Transform IDs.
    IntegId(u16) {
        /// No integrity (only valid with an AEAD cipher).
        NONE = 0 => "NONE",
        /// HMAC-MD5-96 (legacy; not implemented).
        HMAC_MD5_96 = 1 => "AUTH_HMAC_MD5_96",
        /// HMAC-SHA1-96 (RFC 2404; legacy).
        HMAC_SHA1_96 = 2 => "AUTH_HMAC_SHA1_96",
        /// AES-XCBC-96 (RFC 3566; not implemented).
        AES_XCBC_96 = 5 => "AUTH_AES_XCBC_96",
        /// HMAC-SHA2-256-128 (RFC 4868).
        HMAC_SHA2_256_128 = 12 => "AUTH_HMAC_SHA2_256_128",
        /// HMAC-SHA2-384-192 (RFC 4868).
        HMAC_SHA2_384_192 = 13 => "AUTH_HMAC_SHA2_384_192",
        /// HMAC-SHA2-512-256 (RFC 4868).
        HMAC_SHA2_512_256 = 14 => "AUTH_HMAC_SHA2_512_256",
    }
}

registry! {
    /// Transform Type 4 — Key Exchange Method (Diffie-Hellman group) Transform IDs.
    KeId(u16) {
        /// No key exchange (a CREATE_CHILD_SA without PFS).
        NONE = 0 => "NONE",
        /// 768-bit MODP (RFC 2409; insecure, not implemented).
        MODP_768 = 1 => "MODP_768",
        /// 1024-bit MODP (RFC 2409; weak, not implemented).
        MODP_1024 = 2 => "MODP_1024",
        /// 1536-bit MODP (RFC 3526; weak, not implemented).
        MODP_1536 = 5 => "MODP_1536",
        /// 2048-bit MODP (RFC 3526 group 14).
        MODP_2048 = 14 => "MODP_2048",
        /// 3072-bit MODP (RFC 3526 group 15).
        MODP_3072 = 15 => "MODP_3072",
        /// 4096-bit MODP (RFC 3526 group 16).
        MODP_4096 = 16 => "MODP_4096",
        /// 6144-bit MODP (RFC 3526 group 17).
        MODP_6144 = 17 => "MODP_6144",
        /// 8192-bit MODP (RFC 3526 group 18).
        MODP_8192 = 18 => "MODP_8192",
        /// 256-bit random ECP group, NIST P-256 (RFC 5903).
        ECP_256 = 19 => "ECP_256",
        /// 384-bit random ECP group, NIST P-384 (RFC 5903).
        ECP_384 = 20 => "ECP_384",
        /// 521-bit random ECP group, NIST P-521 (RFC 5903).
        ECP_521 = 21 => "ECP_521",
        /// Curve25519 (RFC 8031).
        CURVE25519 = 31 => "Curve25519",
        /// Curve448 (RFC 8031; not implemented).
        CURVE448 = 32 => "Curve448",
        /// ML-KEM-512 (draft-ietf-ipsecme-ikev2-mlkem).
        ML_KEM_512 = 35 => "ML_KEM_512",
        /// ML-KEM-768 (draft-ietf-ipsecme-ikev2-mlkem).
        ML_KEM_768 = 36 => "ML_KEM_768",
        /// ML-KEM-1024 (draft-ietf-ipsecme-ikev2-mlkem).
        ML_KEM_1024 = 37 => "ML_KEM_1024",
    }
}

registry! {
    /// Transform Type 5 — Extended Sequence Numbers Transform IDs.
    EsnId(u16) {
        /// No extended sequence numbers.
        NO_ESN = 0 => "No ESN",
        /// Extended (64-bit) sequence numbers.
        ESN = 1 => "ESN",
    }
}

registry! {
    /// Transform Attribute Types (RFC 7296 §3.3.5).
    TransformAttributeType(u16) {
        /// Key Length in bits (TV format, attribute type 14).
        KEY_LENGTH = 14 => "Key Length",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_print_their_iana_names() {
        assert_eq!(EncrId::AES_GCM_16.to_string(), "ENCR_AES_GCM_16");
        assert_eq!(EncrId(20), EncrId::AES_GCM_16);
        assert_eq!(KeId::CURVE25519.name(), Some("Curve25519"));
        assert_eq!(TransformType::from(4), TransformType::KE);
    }

    #[test]
    fn unknown_values_are_kept_and_printed_by_number() {
        let odd = PrfId(1234);
        assert_eq!(odd.name(), None);
        assert_eq!(format!("{odd:?}"), "PrfId(1234)");
        assert_eq!(u16::from(odd), 1234);
    }
}
