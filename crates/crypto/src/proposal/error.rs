//! Why a proposal string was rejected, worded for the operator who wrote it.
//!
//! Every variant carries the proposal string as written, so a message read out of context (a log
//! line, `rampart config check`) still says which proposal is wrong. Positions count the
//! dash-separated algorithms from 1.

use core::fmt;

use rampart_wire::ike::iana::ProtocolId;

/// A proposal string that could not be turned into a [`ProposalSpec`](super::ProposalSpec).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProposalError {
    /// The string is empty (or only whitespace).
    #[error("empty {protocol} proposal: list algorithms separated by dashes, e.g. \"{}\"",
        example(*protocol))]
    Empty {
        /// The protocol the proposal was for.
        protocol: ProtocolId,
    },

    /// Two dashes in a row, or a dash at the start or end.
    #[error("empty algorithm at position {position} in \"{proposal}\": remove the extra dash")]
    EmptyToken {
        /// The proposal as written.
        proposal: String,
        /// 1-based position of the empty algorithm.
        position: usize,
    },

    /// A keyword that is not in the table.
    #[error(
        "unknown algorithm \"{keyword}\" at position {position} in \"{proposal}\"{}",
        DidYouMean(suggestions)
    )]
    UnknownKeyword {
        /// The proposal as written.
        proposal: String,
        /// The unrecognised keyword.
        keyword: String,
        /// 1-based position of the keyword.
        position: usize,
        /// Known keywords that are close to it, best first (may be empty).
        suggestions: Vec<&'static str>,
    },

    /// strongSwan's `keN_` prefix for additional key exchanges (RFC 9370), not supported yet.
    #[error(
        "additional key exchange \"{keyword}\" at position {position} in \"{proposal}\": \
         multiple key exchanges (RFC 9370, the keN_ prefix) are not supported yet; \
         drop the prefix to use the method as the only key exchange"
    )]
    AdditionalKeyExchange {
        /// The proposal as written.
        proposal: String,
        /// The prefixed keyword.
        keyword: String,
        /// 1-based position of the keyword.
        position: usize,
    },

    /// strongSwan's `default` keyword, which this implementation does not expand.
    #[error(
        "\"default\" in \"{proposal}\" is not supported: list the algorithms explicitly, \
         e.g. \"{}\"", example(*protocol)
    )]
    DefaultKeyword {
        /// The proposal as written.
        proposal: String,
        /// The protocol the proposal was for.
        protocol: ProtocolId,
    },

    /// A known keyword that has no place in this protocol's proposals (a PRF in ESP, NULL
    /// encryption in IKE, a cipher in AH, ESN in IKE, ...).
    #[error(
        "\"{keyword}\" at position {position} in \"{proposal}\" is not allowed in {protocol} \
        proposals: {reason}"
    )]
    NotAllowed {
        /// The proposal as written.
        proposal: String,
        /// The keyword.
        keyword: String,
        /// 1-based position of the keyword.
        position: usize,
        /// The protocol the proposal was for.
        protocol: ProtocolId,
        /// Why, and what to do instead.
        reason: &'static str,
    },

    /// The same algorithm twice (possibly under two aliases, as in `sha-sha1`).
    #[error(
        "\"{keyword}\" at position {position} in \"{proposal}\" repeats an algorithm \
        already listed; remove one of them"
    )]
    Duplicate {
        /// The proposal as written.
        proposal: String,
        /// The repeated keyword as written the second time.
        keyword: String,
        /// 1-based position of the repetition.
        position: usize,
    },

    /// No encryption algorithm in an IKE or ESP proposal.
    #[error(
        "{protocol} proposal \"{proposal}\" has no encryption algorithm: add one, \
        e.g. aes128gcm16 or aes128"
    )]
    MissingEncryption {
        /// The proposal as written.
        proposal: String,
        /// The protocol the proposal was for.
        protocol: ProtocolId,
    },

    /// A classic (non-AEAD) cipher without an integrity algorithm, or an AH proposal without one.
    #[error("{protocol} proposal \"{proposal}\" has no integrity algorithm: {}",
        integrity_hint(*protocol))]
    MissingIntegrity {
        /// The proposal as written.
        proposal: String,
        /// The protocol the proposal was for.
        protocol: ProtocolId,
    },

    /// An IKE proposal with AEAD ciphers and neither a PRF nor an integrity keyword to derive
    /// one from.
    #[error("IKE proposal \"{proposal}\" has no PRF: AEAD ciphers need one, add e.g. prfsha256")]
    MissingPrf {
        /// The proposal as written.
        proposal: String,
    },

    /// An IKE proposal without a key exchange method.
    #[error(
        "IKE proposal \"{proposal}\" has no key exchange method: add one, \
        e.g. x25519, ecp256 or modp2048"
    )]
    MissingKeyExchange {
        /// The proposal as written.
        proposal: String,
    },

    /// AEAD ciphers together with integrity algorithms that would be ignored.
    #[error(
        "{protocol} proposal \"{proposal}\" mixes AEAD cipher {aead} with integrity \
        algorithm {integrity}: AEAD ciphers protect integrity themselves, so remove {integrity}"
    )]
    AeadWithIntegrity {
        /// The proposal as written.
        proposal: String,
        /// The protocol the proposal was for.
        protocol: ProtocolId,
        /// The first AEAD cipher keyword.
        aead: String,
        /// The first integrity keyword.
        integrity: String,
    },

    /// AEAD and classic ciphers in one proposal (RFC 7296 §3.3 asks for separate proposals).
    #[error(
        "{protocol} proposal \"{proposal}\" mixes AEAD cipher {aead} with classic cipher \
        {classic}: put them in separate proposals"
    )]
    AeadWithClassic {
        /// The proposal as written.
        proposal: String,
        /// The protocol the proposal was for.
        protocol: ProtocolId,
        /// The first AEAD cipher keyword.
        aead: String,
        /// The first classic cipher keyword.
        classic: String,
    },
}

/// A short valid proposal for `protocol`, for messages.
fn example(protocol: ProtocolId) -> &'static str {
    match protocol {
        ProtocolId::IKE => "aes128gcm16-prfsha256-x25519",
        ProtocolId::AH => "sha256",
        _ => "aes128gcm16",
    }
}

/// What to add when a proposal lacks integrity protection.
fn integrity_hint(protocol: ProtocolId) -> &'static str {
    match protocol {
        ProtocolId::AH => "AH is integrity only, add e.g. sha256",
        _ => {
            "classic (non-AEAD) ciphers need one, add e.g. sha256, or use an AEAD cipher \
              such as aes128gcm16"
        }
    }
}

/// Formats the tail of an unknown-keyword message: `: did you mean a, b or c?`.
struct DidYouMean<'a>(&'a [&'static str]);

impl fmt::Display for DidYouMean<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((last, rest)) = self.0.split_last() else {
            return f.write_str(" (no similar keyword is known)");
        };
        f.write_str(": did you mean ")?;
        if let Some((first, middle)) = rest.split_first() {
            f.write_str(first)?;
            for name in middle {
                write!(f, ", {name}")?;
            }
            f.write_str(" or ")?;
        }
        write!(f, "{last}?")
    }
}
