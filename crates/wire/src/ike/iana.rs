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
#[allow(unused_imports)] // for registries declared outside this file; none yet
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

registry! {
    /// Exchange Types (RFC 7296 §3.1).
    ExchangeType(u8) {
        /// IKE_SA_INIT (RFC 7296 §1.2).
        IKE_SA_INIT = 34 => "IKE_SA_INIT",
        /// IKE_AUTH (RFC 7296 §1.2).
        IKE_AUTH = 35 => "IKE_AUTH",
        /// CREATE_CHILD_SA (RFC 7296 §1.3).
        CREATE_CHILD_SA = 36 => "CREATE_CHILD_SA",
        /// INFORMATIONAL (RFC 7296 §1.4).
        INFORMATIONAL = 37 => "INFORMATIONAL",
        /// IKE_SESSION_RESUME (RFC 5723).
        IKE_SESSION_RESUME = 38 => "IKE_SESSION_RESUME",
        /// IKE_INTERMEDIATE (RFC 9242).
        IKE_INTERMEDIATE = 43 => "IKE_INTERMEDIATE",
        /// IKE_FOLLOWUP_KE (RFC 9370).
        IKE_FOLLOWUP_KE = 44 => "IKE_FOLLOWUP_KE",
    }
}

registry! {
    /// Payload Types (RFC 7296 §3.2), the values of every "Next Payload" field.
    PayloadType(u8) {
        /// No Next Payload: the end of a chain.
        NONE = 0 => "No Next Payload",
        /// Security Association (SA), §3.3.
        SA = 33 => "SA",
        /// Key Exchange (KE), §3.4.
        KE = 34 => "KE",
        /// Identification - Initiator (IDi), §3.5.
        IDI = 35 => "IDi",
        /// Identification - Responder (IDr), §3.5.
        IDR = 36 => "IDr",
        /// Certificate (CERT), §3.6.
        CERT = 37 => "CERT",
        /// Certificate Request (CERTREQ), §3.7.
        CERTREQ = 38 => "CERTREQ",
        /// Authentication (AUTH), §3.8.
        AUTH = 39 => "AUTH",
        /// Nonce (Ni, Nr), §3.9.
        NONCE = 40 => "Nonce",
        /// Notify (N), §3.10.
        NOTIFY = 41 => "N",
        /// Delete (D), §3.11.
        DELETE = 42 => "D",
        /// Vendor ID (V), §3.12.
        VENDOR_ID = 43 => "V",
        /// Traffic Selector - Initiator (TSi), §3.13.
        TSI = 44 => "TSi",
        /// Traffic Selector - Responder (TSr), §3.13.
        TSR = 45 => "TSr",
        /// Encrypted and Authenticated (SK), §3.14.
        SK = 46 => "SK",
        /// Configuration (CP), §3.15.
        CP = 47 => "CP",
        /// Extensible Authentication (EAP), §3.16.
        EAP = 48 => "EAP",
        /// Generic Secure Password Methods (GSPM, RFC 6467); parsed as unknown.
        GSPM = 49 => "GSPM",
        /// Encrypted and Authenticated Fragment (SKF, RFC 7383).
        SKF = 53 => "SKF",
    }
}

registry! {
    /// Notify Message Types (RFC 7296 §3.10.1 and extensions). Values below 16384 are errors,
    /// the rest status types.
    NotifyType(u16) {
        /// UNSUPPORTED_CRITICAL_PAYLOAD (RFC 7296).
        UNSUPPORTED_CRITICAL_PAYLOAD = 1 => "UNSUPPORTED_CRITICAL_PAYLOAD",
        /// INVALID_IKE_SPI (RFC 7296).
        INVALID_IKE_SPI = 4 => "INVALID_IKE_SPI",
        /// INVALID_MAJOR_VERSION (RFC 7296).
        INVALID_MAJOR_VERSION = 5 => "INVALID_MAJOR_VERSION",
        /// INVALID_SYNTAX (RFC 7296).
        INVALID_SYNTAX = 7 => "INVALID_SYNTAX",
        /// INVALID_MESSAGE_ID (RFC 7296).
        INVALID_MESSAGE_ID = 9 => "INVALID_MESSAGE_ID",
        /// INVALID_SPI (RFC 7296).
        INVALID_SPI = 11 => "INVALID_SPI",
        /// NO_PROPOSAL_CHOSEN (RFC 7296).
        NO_PROPOSAL_CHOSEN = 14 => "NO_PROPOSAL_CHOSEN",
        /// INVALID_KE_PAYLOAD (RFC 7296).
        INVALID_KE_PAYLOAD = 17 => "INVALID_KE_PAYLOAD",
        /// AUTHENTICATION_FAILED (RFC 7296).
        AUTHENTICATION_FAILED = 24 => "AUTHENTICATION_FAILED",
        /// SINGLE_PAIR_REQUIRED (RFC 7296).
        SINGLE_PAIR_REQUIRED = 34 => "SINGLE_PAIR_REQUIRED",
        /// NO_ADDITIONAL_SAS (RFC 7296).
        NO_ADDITIONAL_SAS = 35 => "NO_ADDITIONAL_SAS",
        /// INTERNAL_ADDRESS_FAILURE (RFC 7296).
        INTERNAL_ADDRESS_FAILURE = 36 => "INTERNAL_ADDRESS_FAILURE",
        /// FAILED_CP_REQUIRED (RFC 7296).
        FAILED_CP_REQUIRED = 37 => "FAILED_CP_REQUIRED",
        /// TS_UNACCEPTABLE (RFC 7296).
        TS_UNACCEPTABLE = 38 => "TS_UNACCEPTABLE",
        /// INVALID_SELECTORS (RFC 7296).
        INVALID_SELECTORS = 39 => "INVALID_SELECTORS",
        /// UNACCEPTABLE_ADDRESSES (RFC 4555, MOBIKE).
        UNACCEPTABLE_ADDRESSES = 40 => "UNACCEPTABLE_ADDRESSES",
        /// UNEXPECTED_NAT_DETECTED (RFC 4555, MOBIKE).
        UNEXPECTED_NAT_DETECTED = 41 => "UNEXPECTED_NAT_DETECTED",
        /// USE_ASSIGNED_HoA (RFC 5026).
        USE_ASSIGNED_HOA = 42 => "USE_ASSIGNED_HoA",
        /// TEMPORARY_FAILURE (RFC 7296).
        TEMPORARY_FAILURE = 43 => "TEMPORARY_FAILURE",
        /// CHILD_SA_NOT_FOUND (RFC 7296).
        CHILD_SA_NOT_FOUND = 44 => "CHILD_SA_NOT_FOUND",
        /// INVALID_GROUP_ID (RFC 6407).
        INVALID_GROUP_ID = 45 => "INVALID_GROUP_ID",
        /// AUTHORIZATION_FAILED (RFC 6407).
        AUTHORIZATION_FAILED = 46 => "AUTHORIZATION_FAILED",
        /// STATE_NOT_FOUND (RFC 9370).
        STATE_NOT_FOUND = 47 => "STATE_NOT_FOUND",
        /// INITIAL_CONTACT (RFC 7296).
        INITIAL_CONTACT = 16384 => "INITIAL_CONTACT",
        /// SET_WINDOW_SIZE (RFC 7296).
        SET_WINDOW_SIZE = 16385 => "SET_WINDOW_SIZE",
        /// ADDITIONAL_TS_POSSIBLE (RFC 7296).
        ADDITIONAL_TS_POSSIBLE = 16386 => "ADDITIONAL_TS_POSSIBLE",
        /// IPCOMP_SUPPORTED (RFC 7296).
        IPCOMP_SUPPORTED = 16387 => "IPCOMP_SUPPORTED",
        /// NAT_DETECTION_SOURCE_IP (RFC 7296).
        NAT_DETECTION_SOURCE_IP = 16388 => "NAT_DETECTION_SOURCE_IP",
        /// NAT_DETECTION_DESTINATION_IP (RFC 7296).
        NAT_DETECTION_DESTINATION_IP = 16389 => "NAT_DETECTION_DESTINATION_IP",
        /// COOKIE (RFC 7296).
        COOKIE = 16390 => "COOKIE",
        /// USE_TRANSPORT_MODE (RFC 7296).
        USE_TRANSPORT_MODE = 16391 => "USE_TRANSPORT_MODE",
        /// HTTP_CERT_LOOKUP_SUPPORTED (RFC 7296).
        HTTP_CERT_LOOKUP_SUPPORTED = 16392 => "HTTP_CERT_LOOKUP_SUPPORTED",
        /// REKEY_SA (RFC 7296).
        REKEY_SA = 16393 => "REKEY_SA",
        /// ESP_TFC_PADDING_NOT_SUPPORTED (RFC 7296).
        ESP_TFC_PADDING_NOT_SUPPORTED = 16394 => "ESP_TFC_PADDING_NOT_SUPPORTED",
        /// NON_FIRST_FRAGMENTS_ALSO (RFC 7296).
        NON_FIRST_FRAGMENTS_ALSO = 16395 => "NON_FIRST_FRAGMENTS_ALSO",
        /// MOBIKE_SUPPORTED (RFC 4555).
        MOBIKE_SUPPORTED = 16396 => "MOBIKE_SUPPORTED",
        /// ADDITIONAL_IP4_ADDRESS (RFC 4555).
        ADDITIONAL_IP4_ADDRESS = 16397 => "ADDITIONAL_IP4_ADDRESS",
        /// ADDITIONAL_IP6_ADDRESS (RFC 4555).
        ADDITIONAL_IP6_ADDRESS = 16398 => "ADDITIONAL_IP6_ADDRESS",
        /// NO_ADDITIONAL_ADDRESSES (RFC 4555).
        NO_ADDITIONAL_ADDRESSES = 16399 => "NO_ADDITIONAL_ADDRESSES",
        /// UPDATE_SA_ADDRESSES (RFC 4555).
        UPDATE_SA_ADDRESSES = 16400 => "UPDATE_SA_ADDRESSES",
        /// COOKIE2 (RFC 4555).
        COOKIE2 = 16401 => "COOKIE2",
        /// NO_NATS_ALLOWED (RFC 4555).
        NO_NATS_ALLOWED = 16402 => "NO_NATS_ALLOWED",
        /// AUTH_LIFETIME (RFC 4478).
        AUTH_LIFETIME = 16403 => "AUTH_LIFETIME",
        /// MULTIPLE_AUTH_SUPPORTED (RFC 4739).
        MULTIPLE_AUTH_SUPPORTED = 16404 => "MULTIPLE_AUTH_SUPPORTED",
        /// ANOTHER_AUTH_FOLLOWS (RFC 4739).
        ANOTHER_AUTH_FOLLOWS = 16405 => "ANOTHER_AUTH_FOLLOWS",
        /// REDIRECT_SUPPORTED (RFC 5685).
        REDIRECT_SUPPORTED = 16406 => "REDIRECT_SUPPORTED",
        /// REDIRECT (RFC 5685).
        REDIRECT = 16407 => "REDIRECT",
        /// REDIRECTED_FROM (RFC 5685).
        REDIRECTED_FROM = 16408 => "REDIRECTED_FROM",
        /// EAP_ONLY_AUTHENTICATION (RFC 5998).
        EAP_ONLY_AUTHENTICATION = 16417 => "EAP_ONLY_AUTHENTICATION",
        /// CHILDLESS_IKEV2_SUPPORTED (RFC 6023).
        CHILDLESS_IKEV2_SUPPORTED = 16418 => "CHILDLESS_IKEV2_SUPPORTED",
        /// IKEV2_FRAGMENTATION_SUPPORTED (RFC 7383).
        IKEV2_FRAGMENTATION_SUPPORTED = 16430 => "IKEV2_FRAGMENTATION_SUPPORTED",
        /// SIGNATURE_HASH_ALGORITHMS (RFC 7427).
        SIGNATURE_HASH_ALGORITHMS = 16431 => "SIGNATURE_HASH_ALGORITHMS",
        /// USE_PPK (RFC 8784).
        USE_PPK = 16435 => "USE_PPK",
        /// PPK_IDENTITY (RFC 8784).
        PPK_IDENTITY = 16436 => "PPK_IDENTITY",
        /// NO_PPK_AUTH (RFC 8784).
        NO_PPK_AUTH = 16437 => "NO_PPK_AUTH",
        /// INTERMEDIATE_EXCHANGE_SUPPORTED (RFC 9242).
        INTERMEDIATE_EXCHANGE_SUPPORTED = 16438 => "INTERMEDIATE_EXCHANGE_SUPPORTED",
        /// ADDITIONAL_KEY_EXCHANGE (RFC 9370).
        ADDITIONAL_KEY_EXCHANGE = 16441 => "ADDITIONAL_KEY_EXCHANGE",
    }
}

impl NotifyType {
    /// Whether this is an error type (0..16383, RFC 7296 §3.10.1) rather than a status type.
    pub fn is_error(self) -> bool {
        self.0 < 16384
    }
}

registry! {
    /// Identification types of the IDi/IDr payloads (RFC 7296 §3.5).
    IdType(u8) {
        /// A single four-octet IPv4 address.
        IPV4_ADDR = 1 => "ID_IPV4_ADDR",
        /// A fully qualified domain name string.
        FQDN = 2 => "ID_FQDN",
        /// A fully qualified RFC 822 email address string.
        RFC822_ADDR = 3 => "ID_RFC822_ADDR",
        /// A single sixteen-octet IPv6 address.
        IPV6_ADDR = 5 => "ID_IPV6_ADDR",
        /// The binary DER encoding of an ASN.1 X.500 Distinguished Name.
        DER_ASN1_DN = 9 => "ID_DER_ASN1_DN",
        /// The binary DER encoding of an ASN.1 X.509 GeneralName.
        DER_ASN1_GN = 10 => "ID_DER_ASN1_GN",
        /// An opaque octet stream.
        KEY_ID = 11 => "ID_KEY_ID",
        /// Fibre Channel name (RFC 4595).
        FC_NAME = 12 => "ID_FC_NAME",
        /// No identity (RFC 7619).
        NULL = 13 => "ID_NULL",
    }
}

registry! {
    /// Certificate Encodings of the CERT and CERTREQ payloads (RFC 7296 §3.6).
    CertEncoding(u8) {
        /// PKCS #7 wrapped X.509 certificate (obsolete).
        PKCS7_X509 = 1 => "PKCS #7 wrapped X.509 certificate",
        /// PGP Certificate (obsolete).
        PGP = 2 => "PGP Certificate",
        /// DNS Signed Key (obsolete).
        DNS_SIGNED_KEY = 3 => "DNS Signed Key",
        /// X.509 Certificate - Signature (DER).
        X509_SIGNATURE = 4 => "X.509 Certificate - Signature",
        /// Kerberos Token (obsolete).
        KERBEROS = 6 => "Kerberos Token",
        /// Certificate Revocation List (CRL).
        CRL = 7 => "Certificate Revocation List (CRL)",
        /// Authority Revocation List (obsolete).
        ARL = 8 => "Authority Revocation List (ARL)",
        /// SPKI Certificate (obsolete).
        SPKI = 9 => "SPKI Certificate",
        /// X.509 Certificate - Attribute (obsolete).
        X509_ATTRIBUTE = 10 => "X.509 Certificate - Attribute",
        /// Raw RSA Key (deprecated).
        RAW_RSA_KEY = 11 => "Raw RSA Key",
        /// Hash and URL of X.509 certificate.
        HASH_URL_X509_CERT = 12 => "Hash and URL of X.509 certificate",
        /// Hash and URL of X.509 bundle.
        HASH_URL_X509_BUNDLE = 13 => "Hash and URL of X.509 bundle",
        /// OCSP Content (RFC 4806).
        OCSP_CONTENT = 14 => "OCSP Content",
        /// Raw Public Key (RFC 7670).
        RAW_PUBLIC_KEY = 15 => "Raw Public Key",
    }
}

registry! {
    /// Authentication Methods of the AUTH payload (RFC 7296 §3.8).
    AuthMethod(u8) {
        /// RSA Digital Signature (PKCS #1 v1.5 with SHA-1).
        RSA_SIG = 1 => "RSA Digital Signature",
        /// Shared Key Message Integrity Code (PSK).
        PSK = 2 => "Shared Key Message Integrity Code",
        /// DSS Digital Signature.
        DSS_SIG = 3 => "DSS Digital Signature",
        /// ECDSA with SHA-256 on the P-256 curve (RFC 4754).
        ECDSA_SHA256_P256 = 9 => "ECDSA with SHA-256 on the P-256 curve",
        /// ECDSA with SHA-384 on the P-384 curve (RFC 4754).
        ECDSA_SHA384_P384 = 10 => "ECDSA with SHA-384 on the P-384 curve",
        /// ECDSA with SHA-512 on the P-521 curve (RFC 4754).
        ECDSA_SHA512_P521 = 11 => "ECDSA with SHA-512 on the P-521 curve",
        /// Generic Secure Password Authentication Method (RFC 6467).
        GSPAM = 12 => "Generic Secure Password Authentication Method",
        /// NULL Authentication (RFC 7619).
        NULL = 13 => "NULL Authentication",
        /// Digital Signature (RFC 7427): AlgorithmIdentifier + signature.
        DIGITAL_SIGNATURE = 14 => "Digital Signature",
    }
}

registry! {
    /// Traffic Selector Types (RFC 7296 §3.13.1).
    TsType(u8) {
        /// A range of IPv4 addresses.
        IPV4_ADDR_RANGE = 7 => "TS_IPV4_ADDR_RANGE",
        /// A range of IPv6 addresses.
        IPV6_ADDR_RANGE = 8 => "TS_IPV6_ADDR_RANGE",
        /// Fibre Channel address range (RFC 4595).
        FC_ADDR_RANGE = 9 => "TS_FC_ADDR_RANGE",
        /// Security label (RFC 9478).
        SECLABEL = 10 => "TS_SECLABEL",
    }
}

registry! {
    /// CFG types of the Configuration payload (RFC 7296 §3.15).
    CfgType(u8) {
        /// CFG_REQUEST.
        REQUEST = 1 => "CFG_REQUEST",
        /// CFG_REPLY.
        REPLY = 2 => "CFG_REPLY",
        /// CFG_SET.
        SET = 3 => "CFG_SET",
        /// CFG_ACK.
        ACK = 4 => "CFG_ACK",
    }
}

registry! {
    /// Configuration Attribute Types (RFC 7296 §3.15.1; 15 bits on the wire).
    ConfigAttributeType(u16) {
        /// INTERNAL_IP4_ADDRESS.
        INTERNAL_IP4_ADDRESS = 1 => "INTERNAL_IP4_ADDRESS",
        /// INTERNAL_IP4_NETMASK.
        INTERNAL_IP4_NETMASK = 2 => "INTERNAL_IP4_NETMASK",
        /// INTERNAL_IP4_DNS.
        INTERNAL_IP4_DNS = 3 => "INTERNAL_IP4_DNS",
        /// INTERNAL_IP4_NBNS.
        INTERNAL_IP4_NBNS = 4 => "INTERNAL_IP4_NBNS",
        /// INTERNAL_IP4_DHCP.
        INTERNAL_IP4_DHCP = 6 => "INTERNAL_IP4_DHCP",
        /// APPLICATION_VERSION.
        APPLICATION_VERSION = 7 => "APPLICATION_VERSION",
        /// INTERNAL_IP6_ADDRESS.
        INTERNAL_IP6_ADDRESS = 8 => "INTERNAL_IP6_ADDRESS",
        /// INTERNAL_IP6_DNS.
        INTERNAL_IP6_DNS = 10 => "INTERNAL_IP6_DNS",
        /// INTERNAL_IP6_DHCP.
        INTERNAL_IP6_DHCP = 12 => "INTERNAL_IP6_DHCP",
        /// INTERNAL_IP4_SUBNET.
        INTERNAL_IP4_SUBNET = 13 => "INTERNAL_IP4_SUBNET",
        /// SUPPORTED_ATTRIBUTES.
        SUPPORTED_ATTRIBUTES = 14 => "SUPPORTED_ATTRIBUTES",
        /// INTERNAL_IP6_SUBNET.
        INTERNAL_IP6_SUBNET = 15 => "INTERNAL_IP6_SUBNET",
        /// INTERNAL_DNS_DOMAIN (RFC 8598).
        INTERNAL_DNS_DOMAIN = 25 => "INTERNAL_DNS_DOMAIN",
    }
}

registry! {
    /// Hash Algorithm Identifiers for SIGNATURE_HASH_ALGORITHMS (RFC 7427 §7, RFC 8420).
    HashAlgorithm(u16) {
        /// SHA-1 (RFC 3174).
        SHA1 = 1 => "SHA1",
        /// SHA2-256 (RFC 6234).
        SHA2_256 = 2 => "SHA2-256",
        /// SHA2-384 (RFC 6234).
        SHA2_384 = 3 => "SHA2-384",
        /// SHA2-512 (RFC 6234).
        SHA2_512 = 4 => "SHA2-512",
        /// Identity: the data is signed unhashed (RFC 8420, Ed25519/Ed448).
        IDENTITY = 5 => "Identity",
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
        assert_eq!(NotifyType(16431), NotifyType::SIGNATURE_HASH_ALGORITHMS);
        assert!(NotifyType::AUTHENTICATION_FAILED.is_error());
        assert!(!NotifyType::COOKIE.is_error());
        assert_eq!(PayloadType::SKF.to_string(), "SKF");
    }

    #[test]
    fn unknown_values_are_kept_and_printed_by_number() {
        let odd = PrfId(1234);
        assert_eq!(odd.name(), None);
        assert_eq!(format!("{odd:?}"), "PrfId(1234)");
        assert_eq!(u16::from(odd), 1234);
    }
}
