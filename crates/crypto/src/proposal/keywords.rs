//! The proposal keyword table: strongSwan-style algorithm keywords to IKEv2 transforms, and the
//! "did you mean" search over it.
//!
//! The first keyword listed for a transform is its canonical spelling, the one
//! [`Transform::keyword`] returns and `Display` prints; later keywords for the same transform are
//! aliases that strongSwan users may have in their configurations (`sha` for `sha1`,
//! `aes128gcm128` for `aes128gcm16`, `curve25519` for `x25519`, ...).

use core::fmt;

use rampart_wire::ike::iana::{EncrId, EsnId, IntegId, KeId, PrfId, ProtocolId, TransformType};

/// One IKEv2 transform (RFC 7296 §3.3.2): a transform type, its transform ID and, for ciphers with
/// a variable key size, the Key Length attribute in bits (RFC 7296 §3.3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transform {
    /// Transform type 1: encryption algorithm, with its key length in bits when the cipher takes
    /// the Key Length attribute (AES-CBC, AES-GCM) and `None` for fixed-size ciphers.
    Encr(EncrId, Option<u16>),
    /// Transform type 2: pseudorandom function (IKE SAs only).
    Prf(PrfId),
    /// Transform type 3: integrity algorithm.
    Integ(IntegId),
    /// Transform type 4: key exchange method (Diffie-Hellman group or KEM).
    Ke(KeId),
    /// Transform type 5: extended sequence numbers (ESP and AH only).
    Esn(EsnId),
}

impl Transform {
    /// The transform type this transform belongs to.
    pub fn transform_type(self) -> TransformType {
        match self {
            Self::Encr(..) => TransformType::ENCR,
            Self::Prf(_) => TransformType::PRF,
            Self::Integ(_) => TransformType::INTEG,
            Self::Ke(_) => TransformType::KE,
            Self::Esn(_) => TransformType::ESN,
        }
    }

    /// The transform ID as it goes on the wire.
    pub fn id(self) -> u16 {
        match self {
            Self::Encr(id, _) => id.0,
            Self::Prf(id) => id.0,
            Self::Integ(id) => id.0,
            Self::Ke(id) => id.0,
            Self::Esn(id) => id.0,
        }
    }

    /// The Key Length attribute in bits, present only on variable-key-size ciphers.
    pub fn key_bits(self) -> Option<u16> {
        match self {
            Self::Encr(_, bits) => bits,
            _ => None,
        }
    }

    /// Builds a transform from the fields of a Transform substructure (RFC 7296 §3.3.2). Returns
    /// `None` for a transform type outside 1..=5 (for example the RFC 9370 additional key
    /// exchange types), which the caller handles as it sees fit. `key_bits` is kept only on
    /// encryption transforms.
    pub fn from_wire(ty: TransformType, id: u16, key_bits: Option<u16>) -> Option<Self> {
        Some(match ty {
            TransformType::ENCR => Self::Encr(EncrId(id), key_bits),
            TransformType::PRF => Self::Prf(PrfId(id)),
            TransformType::INTEG => Self::Integ(IntegId(id)),
            TransformType::KE => Self::Ke(KeId(id)),
            TransformType::ESN => Self::Esn(EsnId(id)),
            _ => return None,
        })
    }

    /// The canonical strongSwan keyword for this transform, or `None` if the table has none
    /// (an unknown ID, or a known ID with an unusual key length).
    pub fn keyword(self) -> Option<&'static str> {
        KEYWORDS
            .iter()
            .find(|(_, t)| *t == self)
            .map(|(name, _)| *name)
    }

    /// Whether this is a combined-mode (AEAD) cipher, which carries its own integrity protection
    /// (RFC 5282; RFC 7296 §3.3).
    pub fn is_aead(self) -> bool {
        matches!(self, Self::Encr(id, _) if is_aead(id))
    }
}

/// Prints the canonical keyword, or for a transform without one the IANA name (or the registry
/// number) with the key length appended, e.g. `ENCR_AES_CBC_100` or `EncrId(1234)`. The fallback
/// is for diagnostics only; [`ProposalSpec::parse`](super::ProposalSpec::parse) rejects it.
impl fmt::Display for Transform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = self.keyword() {
            return f.write_str(name);
        }
        match *self {
            Self::Encr(id, Some(bits)) => write!(f, "{id}_{bits}"),
            Self::Encr(id, None) => write!(f, "{id}"),
            Self::Prf(id) => write!(f, "{id}"),
            Self::Integ(id) => write!(f, "{id}"),
            Self::Ke(id) => write!(f, "{id}"),
            Self::Esn(id) => write!(f, "{id}"),
        }
    }
}

/// Whether `id` names a combined-mode (AEAD) cipher.
pub(super) fn is_aead(id: EncrId) -> bool {
    matches!(
        id,
        EncrId::AES_GCM_8 | EncrId::AES_GCM_12 | EncrId::AES_GCM_16 | EncrId::CHACHA20_POLY1305
    )
}

/// Every keyword this parser knows and the transform it stands for, in the order they are listed
/// for completion: encryption, integrity, PRF, key exchange, ESN. For each transform the first
/// entry is the canonical keyword.
pub fn known_keywords() -> impl ExactSizeIterator<Item = (&'static str, Transform)> {
    KEYWORDS.iter().copied()
}

/// Looks up one keyword, ASCII case-insensitively.
pub(super) fn lookup(token: &str) -> Option<Transform> {
    KEYWORDS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(token))
        .map(|(_, t)| *t)
}

/// Whether `transform`'s type may appear in a proposal for `protocol` (RFC 7296 §3.3.3):
/// IKE takes ENCR, PRF, INTEG, KE; ESP takes ENCR, INTEG, KE, ESN; AH takes INTEG, KE, ESN.
pub(super) fn allowed_in(transform: Transform, protocol: ProtocolId) -> bool {
    match transform {
        Transform::Encr(..) => protocol != ProtocolId::AH,
        Transform::Prf(_) => protocol == ProtocolId::IKE,
        Transform::Integ(_) => true,
        Transform::Ke(_) => true,
        Transform::Esn(_) => protocol != ProtocolId::IKE,
    }
}

/// At most this many suggestions are offered for one unknown keyword.
const MAX_SUGGESTIONS: usize = 5;

/// Tokens longer than this get no suggestions (no keyword is anywhere near that long, and it
/// keeps the edit-distance work bounded on hostile input).
const MAX_SUGGEST_LEN: usize = 40;

/// Keywords close to an unknown `token`, best first: the nearest ones if within edit distance 2,
/// and those that start with the token (at least 3 characters typed), one spelling per transform; failing both,
/// the longest keyword the token starts with (`aes256gcm16icv` → `aes256gcm16`). Only keywords
/// usable in a `protocol` proposal are offered.
pub(super) fn suggestions(token: &str, protocol: ProtocolId) -> Vec<&'static str> {
    let token = token.to_ascii_lowercase();
    if token.chars().count() > MAX_SUGGEST_LEN {
        return Vec::new();
    }
    let usable = || {
        KEYWORDS
            .iter()
            .copied()
            .filter(|(_, t)| allowed_in(*t, protocol))
    };
    let scored: Vec<(usize, usize, &'static str, Transform)> = usable()
        .enumerate()
        .map(|(order, (name, transform))| (levenshtein(&token, name), order, name, transform))
        .collect();
    let nearest = scored
        .iter()
        .map(|&(distance, ..)| distance)
        .min()
        .unwrap_or(usize::MAX);
    let mut found: Vec<_> = scored
        .into_iter()
        .filter(|&(distance, _, name, _)| {
            (distance <= 2 && distance == nearest)
                || (token.len() >= 3 && name.starts_with(token.as_str()))
        })
        .collect();
    if found.is_empty() {
        return usable()
            .map(|(name, _)| name)
            .filter(|name| name.len() >= 3 && token.starts_with(name))
            .max_by_key(|name| name.len())
            .into_iter()
            .collect();
    }
    found.sort_unstable_by_key(|&(distance, order, ..)| (distance, order));
    let mut out: Vec<(&'static str, Transform)> = Vec::new();
    for (_, _, name, transform) in found {
        if out.len() < MAX_SUGGESTIONS && !out.iter().any(|(_, t)| *t == transform) {
            out.push((name, transform));
        }
    }
    out.into_iter().map(|(name, _)| name).collect()
}

/// Edit distance between two strings, by characters: Levenshtein's insertions, deletions and
/// substitutions, plus a swap of two adjacent characters counted as one edit (the "optimal string
/// alignment" variant), so that `gmc` for `gcm` and `2084` for `2048` count as the near misses
/// they are.
pub(super) fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Rows i-1 and i-2 of the (a.len()+1) x (b.len()+1) table, and row i being filled.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let substitute = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            let mut best = substitute.min(prev[j] + 1).min(cur[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            cur[j] = best;
        }
        core::mem::swap(&mut before, &mut prev);
        core::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Shorthand for a table entry: an encryption transform with a Key Length attribute.
const fn encr(id: EncrId, bits: u16) -> Transform {
    Transform::Encr(id, Some(bits))
}

/// The keyword table. IDs are the IANA "IKEv2 Parameters" registry values (through the
/// `rampart_wire` newtypes); keywords and aliases follow strongSwan's proposal keywords.
const KEYWORDS: &[(&str, Transform)] = &[
    // Transform type 1: encryption. AES-CBC (RFC 3602) with its key length.
    ("aes128", encr(EncrId::AES_CBC, 128)),
    ("aes192", encr(EncrId::AES_CBC, 192)),
    ("aes256", encr(EncrId::AES_CBC, 256)),
    ("aes", encr(EncrId::AES_CBC, 128)),
    // AES-GCM (RFC 4106, RFC 5282) by ICV length in octets; aliases by ICV length in bits.
    ("aes128gcm16", encr(EncrId::AES_GCM_16, 128)),
    ("aes128gcm12", encr(EncrId::AES_GCM_12, 128)),
    ("aes128gcm8", encr(EncrId::AES_GCM_8, 128)),
    ("aes192gcm16", encr(EncrId::AES_GCM_16, 192)),
    ("aes192gcm12", encr(EncrId::AES_GCM_12, 192)),
    ("aes192gcm8", encr(EncrId::AES_GCM_8, 192)),
    ("aes256gcm16", encr(EncrId::AES_GCM_16, 256)),
    ("aes256gcm12", encr(EncrId::AES_GCM_12, 256)),
    ("aes256gcm8", encr(EncrId::AES_GCM_8, 256)),
    ("aes128gcm", encr(EncrId::AES_GCM_16, 128)),
    ("aes192gcm", encr(EncrId::AES_GCM_16, 192)),
    ("aes256gcm", encr(EncrId::AES_GCM_16, 256)),
    ("aes128gcm128", encr(EncrId::AES_GCM_16, 128)),
    ("aes128gcm96", encr(EncrId::AES_GCM_12, 128)),
    ("aes128gcm64", encr(EncrId::AES_GCM_8, 128)),
    ("aes192gcm128", encr(EncrId::AES_GCM_16, 192)),
    ("aes192gcm96", encr(EncrId::AES_GCM_12, 192)),
    ("aes192gcm64", encr(EncrId::AES_GCM_8, 192)),
    ("aes256gcm128", encr(EncrId::AES_GCM_16, 256)),
    ("aes256gcm96", encr(EncrId::AES_GCM_12, 256)),
    ("aes256gcm64", encr(EncrId::AES_GCM_8, 256)),
    // ChaCha20-Poly1305 (RFC 7634): fixed 256-bit key, no Key Length attribute.
    (
        "chacha20poly1305",
        Transform::Encr(EncrId::CHACHA20_POLY1305, None),
    ),
    // Legacy and special ciphers.
    ("3des", Transform::Encr(EncrId::DES3, None)),
    ("null", Transform::Encr(EncrId::NULL, None)),
    // Transform type 3: integrity.
    ("sha1", Transform::Integ(IntegId::HMAC_SHA1_96)),
    ("sha256", Transform::Integ(IntegId::HMAC_SHA2_256_128)),
    ("sha384", Transform::Integ(IntegId::HMAC_SHA2_384_192)),
    ("sha512", Transform::Integ(IntegId::HMAC_SHA2_512_256)),
    ("md5", Transform::Integ(IntegId::HMAC_MD5_96)),
    ("aesxcbc", Transform::Integ(IntegId::AES_XCBC_96)),
    ("sha", Transform::Integ(IntegId::HMAC_SHA1_96)),
    ("sha2_256", Transform::Integ(IntegId::HMAC_SHA2_256_128)),
    ("sha2_384", Transform::Integ(IntegId::HMAC_SHA2_384_192)),
    ("sha2_512", Transform::Integ(IntegId::HMAC_SHA2_512_256)),
    // Transform type 2: PRF.
    ("prfsha1", Transform::Prf(PrfId::HMAC_SHA1)),
    ("prfsha256", Transform::Prf(PrfId::HMAC_SHA2_256)),
    ("prfsha384", Transform::Prf(PrfId::HMAC_SHA2_384)),
    ("prfsha512", Transform::Prf(PrfId::HMAC_SHA2_512)),
    ("prfmd5", Transform::Prf(PrfId::HMAC_MD5)),
    ("prfaesxcbc", Transform::Prf(PrfId::AES128_XCBC)),
    ("prfaescmac", Transform::Prf(PrfId::AES128_CMAC)),
    // Transform type 4: key exchange. MODP groups (RFC 2409, RFC 3526).
    ("modp768", Transform::Ke(KeId::MODP_768)),
    ("modp1024", Transform::Ke(KeId::MODP_1024)),
    ("modp1536", Transform::Ke(KeId::MODP_1536)),
    ("modp2048", Transform::Ke(KeId::MODP_2048)),
    ("modp3072", Transform::Ke(KeId::MODP_3072)),
    ("modp4096", Transform::Ke(KeId::MODP_4096)),
    ("modp6144", Transform::Ke(KeId::MODP_6144)),
    ("modp8192", Transform::Ke(KeId::MODP_8192)),
    // NIST curves (RFC 5903).
    ("ecp256", Transform::Ke(KeId::ECP_256)),
    ("ecp384", Transform::Ke(KeId::ECP_384)),
    ("ecp521", Transform::Ke(KeId::ECP_521)),
    // Montgomery curves (RFC 8031).
    ("x25519", Transform::Ke(KeId::CURVE25519)),
    ("x448", Transform::Ke(KeId::CURVE448)),
    ("curve25519", Transform::Ke(KeId::CURVE25519)),
    ("curve448", Transform::Ke(KeId::CURVE448)),
    // ML-KEM (draft-ietf-ipsecme-ikev2-mlkem).
    ("mlkem512", Transform::Ke(KeId::ML_KEM_512)),
    ("mlkem768", Transform::Ke(KeId::ML_KEM_768)),
    ("mlkem1024", Transform::Ke(KeId::ML_KEM_1024)),
    // No key exchange: a child SA proposal that also accepts no PFS.
    ("none", Transform::Ke(KeId::NONE)),
    ("modpnone", Transform::Ke(KeId::NONE)),
    // Transform type 5: extended sequence numbers.
    ("esn", Transform::Esn(EsnId::ESN)),
    ("noesn", Transform::Esn(EsnId::NO_ESN)),
];
