//! strongSwan-style proposal strings (`aes128gcm16-prfsha256-x25519`) to IKEv2 proposals, and back.
//!
//! This is where the `proposals` / `esp_proposals` / `ah_proposals` strings of the configuration
//! (DESIGN.md §4) become the transforms the IKE engine puts in an SA payload (RFC 7296 §3.3), and
//! where a peer's SA payload is turned back into words for the operator ("peer offered
//! aes256-sha1-modp1024, we accept aes128gcm16-prfsha256-x25519").
//!
//! A proposal is a list of algorithm keywords separated by dashes. Several algorithms of one kind
//! may be listed; their order is the preference, most preferred first, and the order of algorithms
//! of different kinds does not matter (`aes256-aes128-sha256-modp2048-ecp256`). Keywords are
//! matched ASCII case-insensitively and whitespace around each keyword is ignored.
//!
//! # Keywords
//!
//! | kind | keyword | transform (IANA ID) |
//! |---|---|---|
//! | encryption | `aes128`, `aes192`, `aes256` (`aes` = `aes128`) | `ENCR_AES_CBC` (12), key length 128/192/256 |
//! | encryption | `aes128gcm16`, `aes192gcm16`, `aes256gcm16` (`aesNNNgcm`, `aesNNNgcm128` alike) | `ENCR_AES_GCM_16` (20) |
//! | encryption | `aes128gcm12`, ... (`aesNNNgcm96`) | `ENCR_AES_GCM_12` (19) |
//! | encryption | `aes128gcm8`, ... (`aesNNNgcm64`) | `ENCR_AES_GCM_8` (18) |
//! | encryption | `chacha20poly1305` | `ENCR_CHACHA20_POLY1305` (28) |
//! | encryption | `3des` (legacy) | `ENCR_3DES` (3) |
//! | encryption | `null` (ESP only) | `ENCR_NULL` (11) |
//! | integrity | `sha1` (`sha`), `sha256` (`sha2_256`), `sha384` (`sha2_384`), `sha512` (`sha2_512`) | `AUTH_HMAC_SHA1_96` (2), `AUTH_HMAC_SHA2_256_128` (12), `_384_192` (13), `_512_256` (14) |
//! | integrity | `md5` (legacy), `aesxcbc` | `AUTH_HMAC_MD5_96` (1), `AUTH_AES_XCBC_96` (5) |
//! | PRF (IKE only) | `prfsha1`, `prfsha256`, `prfsha384`, `prfsha512` | `PRF_HMAC_SHA1` (2), `PRF_HMAC_SHA2_256` (5), `_384` (6), `_512` (7) |
//! | PRF (IKE only) | `prfmd5`, `prfaesxcbc`, `prfaescmac` | `PRF_HMAC_MD5` (1), `PRF_AES128_XCBC` (4), `PRF_AES128_CMAC` (8) |
//! | key exchange | `modp768`, `modp1024`, `modp1536`, `modp2048` ... `modp8192` | groups 1, 2, 5, 14 ... 18 |
//! | key exchange | `ecp256`, `ecp384`, `ecp521` | groups 19, 20, 21 |
//! | key exchange | `x25519` (`curve25519`), `x448` (`curve448`) | 31, 32 |
//! | key exchange | `mlkem512`, `mlkem768`, `mlkem1024` | 35, 36, 37 |
//! | key exchange | `none` (`modpnone`; ESP/AH: also accept no PFS) | `NONE` (0) |
//! | ESN (ESP/AH only) | `esn`, `noesn` | `ESN` (1), `No ESN` (0) |
//!
//! [`known_keywords`] lists them all (for shell completion and docs); the first spelling listed
//! for a transform is the canonical one that `Display` prints.
//!
//! # Rules (following strongSwan, stricter where noted)
//!
//! - **IKE** needs an encryption algorithm, a PRF and a key exchange method. With classic ciphers
//!   it needs an integrity algorithm, and when no PRF is given the PRF is derived from the
//!   integrity algorithms (`sha256` → `prfsha256`, `aesxcbc` → `prfaesxcbc`, ...). With AEAD
//!   ciphers, strongSwan's rule applies: a PRF is given explicitly, or integrity keywords stand
//!   in for it (`aes256gcm16-sha384-ecp384` means `aes256gcm16-prfsha384-ecp384`) and are then
//!   dropped; an AEAD proposal with both a PRF and integrity keywords is an error here
//!   (strongSwan silently ignores the integrity keywords).
//! - **ESP** needs an encryption algorithm; with classic ciphers (including `null`) also an
//!   integrity algorithm (stricter than strongSwan, which accepts encryption-only ESP); AEAD
//!   ciphers with integrity keywords are an error (strongSwan drops them silently). A key
//!   exchange method makes the child SA use PFS and is kept. Without `esn`/`noesn`, `noesn` is
//!   assumed.
//! - **AH** takes integrity algorithms only, plus optional key exchange and ESN as for ESP.
//! - Everywhere: classic and AEAD ciphers cannot share a proposal, the same algorithm cannot be
//!   listed twice, PRFs are for IKE only, ESN for ESP/AH only, `null` for ESP only.
//! - strongSwan's `default` keyword is rejected (with a message naming an explicit proposal)
//!   rather than expanded: the daemon's configuration layer owns the default proposals, so the
//!   meaning of a string never depends on this crate's version. The `keN_` prefixes for
//!   additional key exchanges (RFC 9370) are rejected until multiple key exchanges are supported.

mod error;
mod keywords;
#[cfg(test)]
mod oracle_tests;
#[cfg(test)]
mod tests;

use core::fmt;

use rampart_wire::ike::iana::{EncrId, EsnId, IntegId, KeId, PrfId, ProtocolId};

pub use self::error::ProposalError;
pub use self::keywords::{Transform, known_keywords};

/// One proposal (RFC 7296 §3.3): a protocol and, per transform type, the acceptable algorithms in
/// order of preference. Built from a configuration string by [`parse`](Self::parse) (which
/// enforces the rules in the [module docs](self)), or from a peer's SA payload by
/// [`from_transforms`](Self::from_transforms) (which checks nothing, so any offer can be shown).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProposalSpec {
    /// IKE, ESP or AH.
    pub protocol: ProtocolId,
    /// Encryption algorithms, with the Key Length attribute in bits where the cipher takes one.
    pub encryption: Vec<(EncrId, Option<u16>)>,
    /// Integrity algorithms; empty for AEAD proposals.
    pub integrity: Vec<IntegId>,
    /// Pseudorandom functions; IKE only.
    pub prf: Vec<PrfId>,
    /// Key exchange methods; for ESP/AH, empty means no PFS.
    pub key_exchange: Vec<KeId>,
    /// Extended sequence number modes; ESP/AH only (parsing fills in `NO_ESN` if none is given).
    pub esn: Vec<EsnId>,
}

impl ProposalSpec {
    /// A proposal for `protocol` with no transforms, to be filled in.
    pub fn new(protocol: ProtocolId) -> Self {
        Self {
            protocol,
            encryption: Vec::new(),
            integrity: Vec::new(),
            prf: Vec::new(),
            key_exchange: Vec::new(),
            esn: Vec::new(),
        }
    }

    /// Parses an IKE SA proposal, e.g. `aes128gcm16-prfsha256-x25519`.
    pub fn parse_ike(text: &str) -> Result<Self, ProposalError> {
        Self::parse(ProtocolId::IKE, text)
    }

    /// Parses an ESP child SA proposal, e.g. `aes128gcm16` or `aes128-sha256-modp2048`.
    pub fn parse_esp(text: &str) -> Result<Self, ProposalError> {
        Self::parse(ProtocolId::ESP, text)
    }

    /// Parses an AH child SA proposal, e.g. `sha256`.
    pub fn parse_ah(text: &str) -> Result<Self, ProposalError> {
        Self::parse(ProtocolId::AH, text)
    }

    /// Parses a proposal for `protocol` (IKE, ESP or AH), applying the rules in the
    /// [module docs](self).
    pub fn parse(protocol: ProtocolId, text: &str) -> Result<Self, ProposalError> {
        let proposal = text.trim();
        if proposal.is_empty() {
            return Err(ProposalError::Empty { protocol });
        }
        let mut spec = Self::new(protocol);
        let mut seen = Vec::new();
        for (index, raw) in proposal.split('-').enumerate() {
            let position = index + 1;
            let keyword = raw.trim();
            let transform = classify(proposal, keyword, position, protocol)?;
            if seen.contains(&transform) {
                return Err(ProposalError::Duplicate {
                    proposal: proposal.to_owned(),
                    keyword: keyword.to_owned(),
                    position,
                });
            }
            seen.push(transform);
            spec.push(transform);
        }
        spec.complete(proposal)?;
        Ok(spec)
    }

    /// Builds a proposal from the transforms of one Proposal substructure of a peer's SA payload,
    /// in the order received. Nothing is checked or added: the result shows exactly what was
    /// offered (unknown IDs print by number), and is the `offered` side of [`select`](Self::select).
    pub fn from_transforms(
        protocol: ProtocolId,
        transforms: impl IntoIterator<Item = Transform>,
    ) -> Self {
        let mut spec = Self::new(protocol);
        for transform in transforms {
            spec.push(transform);
        }
        spec
    }

    /// The transforms to put in an SA payload, by transform type (ENCR, PRF, INTEG, KE, ESN) and
    /// by preference within each type.
    pub fn transforms(&self) -> impl Iterator<Item = Transform> + '_ {
        let encr = self
            .encryption
            .iter()
            .map(|&(id, bits)| Transform::Encr(id, bits));
        let prf = self.prf.iter().map(|&id| Transform::Prf(id));
        let integ = self.integrity.iter().map(|&id| Transform::Integ(id));
        let ke = self.key_exchange.iter().map(|&id| Transform::Ke(id));
        let esn = self.esn.iter().map(|&id| Transform::Esn(id));
        encr.chain(prf).chain(integ).chain(ke).chain(esn)
    }

    /// Whether every encryption algorithm is an AEAD cipher (and there is at least one).
    pub fn is_aead(&self) -> bool {
        !self.encryption.is_empty() && self.encryption.iter().all(|&(id, _)| keywords::is_aead(id))
    }

    /// Chooses one algorithm of each type from a peer's `offered` proposal, as a responder does
    /// (RFC 7296 §2.7, §3.3.6), preferring our own order like strongSwan's default. Returns
    /// `None` if the protocols differ or some required type has no algorithm in common.
    ///
    /// An empty key exchange list counts as `NONE` on either side (no PFS); an empty ESN list as
    /// `NO_ESN`. A type the peer did not offer stays empty in the result; integrity stays empty
    /// when the chosen cipher is AEAD.
    pub fn select(&self, offered: &Self) -> Option<Self> {
        if self.protocol != offered.protocol {
            return None;
        }
        let mut chosen = Self::new(self.protocol);
        if self.protocol != ProtocolId::AH {
            chosen.encryption = vec![first_common(&self.encryption, &offered.encryption)?];
        }
        if !chosen.is_aead() {
            chosen.integrity = vec![first_common(&self.integrity, &offered.integrity)?];
        }
        if self.protocol == ProtocolId::IKE {
            chosen.prf = vec![first_common(&self.prf, &offered.prf)?];
            chosen.key_exchange = vec![first_common(&self.key_exchange, &offered.key_exchange)?];
            return Some(chosen);
        }
        chosen.key_exchange =
            select_optional(&self.key_exchange, &offered.key_exchange, KeId::NONE)?;
        chosen.esn = select_optional(&self.esn, &offered.esn, EsnId::NO_ESN)?;
        Some(chosen)
    }

    /// Appends `transform` to the list for its type.
    fn push(&mut self, transform: Transform) {
        match transform {
            Transform::Encr(id, bits) => self.encryption.push((id, bits)),
            Transform::Prf(id) => self.prf.push(id),
            Transform::Integ(id) => self.integrity.push(id),
            Transform::Ke(id) => self.key_exchange.push(id),
            Transform::Esn(id) => self.esn.push(id),
        }
    }

    /// Checks the per-protocol rules once every keyword is in, deriving the PRF and default ESN
    /// where the rules say so. `proposal` is the string as written, for messages.
    fn complete(&mut self, proposal: &str) -> Result<(), ProposalError> {
        let protocol = self.protocol;
        if protocol != ProtocolId::AH {
            self.check_ciphers(proposal)?;
        }
        let aead = self.is_aead();
        if aead && !self.integrity.is_empty() {
            // strongSwan: in an AEAD-only IKE proposal, integrity keywords only name the PRF.
            if protocol == ProtocolId::IKE && self.prf.is_empty() {
                self.prf = derive_prf(&self.integrity);
                self.integrity.clear();
            } else {
                let aead = self
                    .encryption
                    .first()
                    .map(|&(id, bits)| Transform::Encr(id, bits));
                let integ = self.integrity.first().map(|&id| Transform::Integ(id));
                return Err(ProposalError::AeadWithIntegrity {
                    proposal: proposal.to_owned(),
                    protocol,
                    aead: aead.map(|t| t.to_string()).unwrap_or_default(),
                    integrity: integ.map(|t| t.to_string()).unwrap_or_default(),
                });
            }
        }
        if !aead && self.integrity.is_empty() {
            return Err(ProposalError::MissingIntegrity {
                proposal: proposal.to_owned(),
                protocol,
            });
        }
        if protocol == ProtocolId::IKE {
            if self.prf.is_empty() {
                // RFC 7296 §3.3.2 requires a PRF; strongSwan derives it from integrity.
                self.prf = derive_prf(&self.integrity);
            }
            if self.prf.is_empty() {
                return Err(ProposalError::MissingPrf {
                    proposal: proposal.to_owned(),
                });
            }
            if self.key_exchange.is_empty() {
                return Err(ProposalError::MissingKeyExchange {
                    proposal: proposal.to_owned(),
                });
            }
        } else if self.esn.is_empty() {
            // RFC 7296 §3.3.2: ESN is a mandatory transform type for ESP and AH.
            self.esn.push(EsnId::NO_ESN);
        }
        Ok(())
    }

    /// IKE and ESP: at least one cipher, and not AEAD and classic ones together (RFC 7296 §3.3).
    fn check_ciphers(&self, proposal: &str) -> Result<(), ProposalError> {
        let protocol = self.protocol;
        let aead = self
            .encryption
            .iter()
            .find(|&&(id, _)| keywords::is_aead(id));
        let classic = self
            .encryption
            .iter()
            .find(|&&(id, _)| !keywords::is_aead(id));
        match (aead, classic) {
            (None, None) => Err(ProposalError::MissingEncryption {
                proposal: proposal.to_owned(),
                protocol,
            }),
            (Some(&(a, a_bits)), Some(&(c, c_bits))) => Err(ProposalError::AeadWithClassic {
                proposal: proposal.to_owned(),
                protocol,
                aead: Transform::Encr(a, a_bits).to_string(),
                classic: Transform::Encr(c, c_bits).to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// Whether `Display` may leave the PRF out because parsing would derive the same list.
    fn prf_is_derived(&self) -> bool {
        self.protocol == ProtocolId::IKE
            && !self.integrity.is_empty()
            && !self.encryption.iter().any(|&(id, _)| keywords::is_aead(id))
            && self.prf == derive_prf(&self.integrity)
    }
}

/// Prints the proposal in canonical strongSwan keyword form: encryption, integrity, PRF, key
/// exchange, ESN, each in preference order, canonical spellings, joined by dashes. The PRF is left
/// out when it is the one derived from the integrity algorithms, and `noesn` when it is the only
/// ESN mode, so `aes256-sha384-ecp384` and `aes128gcm16` print as written. For every proposal
/// [`parse`](ProposalSpec::parse) accepts, parsing the output gives the same proposal back.
impl fmt::Display for ProposalSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let encr = self
            .encryption
            .iter()
            .map(|&(id, bits)| Transform::Encr(id, bits));
        let integ = self.integrity.iter().map(|&id| Transform::Integ(id));
        let prf_shown = if self.prf_is_derived() {
            &[][..]
        } else {
            &self.prf[..]
        };
        let prf = prf_shown.iter().map(|&id| Transform::Prf(id));
        let ke = self.key_exchange.iter().map(|&id| Transform::Ke(id));
        let esn_shown = if self.esn == [EsnId::NO_ESN] {
            &[][..]
        } else {
            &self.esn[..]
        };
        let esn = esn_shown.iter().map(|&id| Transform::Esn(id));
        for (index, transform) in encr
            .chain(integ)
            .chain(prf)
            .chain(ke)
            .chain(esn)
            .enumerate()
        {
            if index > 0 {
                f.write_str("-")?;
            }
            write!(f, "{transform}")?;
        }
        Ok(())
    }
}

/// Describes several proposals (a configuration's list, or every proposal of a peer's SA
/// payload) on one line, separated by commas as in strongSwan's configuration:
/// `aes256-sha1-modp1024, aes128-sha256-modp2048`.
pub fn describe_all(proposals: &[ProposalSpec]) -> String {
    let mut out = String::new();
    for (index, proposal) in proposals.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        out.push_str(&proposal.to_string());
    }
    out
}

/// Turns one keyword into a transform, or says why it cannot be one in a `protocol` proposal.
fn classify(
    proposal: &str,
    keyword: &str,
    position: usize,
    protocol: ProtocolId,
) -> Result<Transform, ProposalError> {
    let owned = |s: &str| s.to_owned();
    if keyword.is_empty() {
        return Err(ProposalError::EmptyToken {
            proposal: owned(proposal),
            position,
        });
    }
    if keyword.eq_ignore_ascii_case("default") {
        return Err(ProposalError::DefaultKeyword {
            proposal: owned(proposal),
            protocol,
        });
    }
    if is_additional_ke(keyword) {
        return Err(ProposalError::AdditionalKeyExchange {
            proposal: owned(proposal),
            keyword: owned(keyword),
            position,
        });
    }
    let Some(transform) = keywords::lookup(keyword) else {
        return Err(ProposalError::UnknownKeyword {
            proposal: owned(proposal),
            keyword: owned(keyword),
            position,
            suggestions: keywords::suggestions(keyword, protocol),
        });
    };
    match not_allowed_reason(transform, protocol) {
        Some(reason) => Err(ProposalError::NotAllowed {
            proposal: owned(proposal),
            keyword: owned(keyword),
            position,
            protocol,
            reason,
        }),
        None => Ok(transform),
    }
}

/// Why `transform` cannot appear in a `protocol` proposal, or `None` if it can.
fn not_allowed_reason(transform: Transform, protocol: ProtocolId) -> Option<&'static str> {
    if !keywords::allowed_in(transform, protocol) {
        return Some(match transform {
            Transform::Encr(..) => "AH only protects integrity; use esp_proposals to encrypt",
            Transform::Prf(_) => "a PRF is negotiated for the IKE SA only; remove it",
            _ => "extended sequence numbers apply to ESP and AH only; remove it",
        });
    }
    match (transform, protocol) {
        (Transform::Encr(EncrId::NULL, _), ProtocolId::IKE) => {
            Some("the IKE SA must be encrypted; null is for ESP only")
        }
        (Transform::Ke(KeId::NONE), ProtocolId::IKE) => {
            Some("the IKE SA always needs a key exchange; remove it")
        }
        _ => None,
    }
}

/// strongSwan's `ke1_` ... `ke7_` prefixes for RFC 9370 additional key exchanges.
fn is_additional_ke(keyword: &str) -> bool {
    let bytes = keyword.as_bytes();
    bytes.len() > 4
        && bytes[..2].eq_ignore_ascii_case(b"ke")
        && (b'1'..=b'7').contains(&bytes[2])
        && bytes[3] == b'_'
}

/// The PRFs strongSwan derives from integrity algorithms in an IKE proposal without an explicit
/// PRF: the same hash or MAC (RFC 4868 pairs HMAC-SHA2 integrity and PRF), in the same order,
/// without repeats.
fn derive_prf(integrity: &[IntegId]) -> Vec<PrfId> {
    let mut prf = Vec::new();
    for &integ in integrity {
        let derived = match integ {
            IntegId::HMAC_MD5_96 => PrfId::HMAC_MD5,
            IntegId::HMAC_SHA1_96 => PrfId::HMAC_SHA1,
            IntegId::AES_XCBC_96 => PrfId::AES128_XCBC,
            IntegId::HMAC_SHA2_256_128 => PrfId::HMAC_SHA2_256,
            IntegId::HMAC_SHA2_384_192 => PrfId::HMAC_SHA2_384,
            IntegId::HMAC_SHA2_512_256 => PrfId::HMAC_SHA2_512,
            _ => continue,
        };
        if !prf.contains(&derived) {
            prf.push(derived);
        }
    }
    prf
}

/// Our first algorithm that the peer also lists.
fn first_common<T: PartialEq + Copy>(ours: &[T], offered: &[T]) -> Option<T> {
    ours.iter().copied().find(|item| offered.contains(item))
}

/// Selection for a transform type that a child SA may leave out (KE, ESN): an empty list stands
/// for `absent` on either side; a type the peer left out stays out of the result.
fn select_optional<T: PartialEq + Copy>(ours: &[T], offered: &[T], absent: T) -> Option<Vec<T>> {
    let ours = if ours.is_empty() { &[absent][..] } else { ours };
    if offered.is_empty() {
        return ours.contains(&absent).then(Vec::new);
    }
    first_common(ours, offered).map(|item| vec![item])
}
