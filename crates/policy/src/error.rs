//! Errors raised when a policy object is built from invalid parts (configuration, or values taken
//! from an IKE payload). Matching and lookups never fail; only construction does.

/// Why a policy value could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A range's start lies after its end.
    #[error("{what}: start is after end")]
    ReversedRange {
        /// Which kind of range.
        what: &'static str,
    },
    /// Two addresses that must be of one family (IPv4 or IPv6) are not.
    #[error("{what}: IPv4 and IPv6 mixed")]
    FamilyMismatch {
        /// Which pair of addresses.
        what: &'static str,
    },
    /// A prefix length is longer than the address.
    #[error("prefix length {len} too long for the address family")]
    PrefixTooLong {
        /// The prefix length given.
        len: u8,
    },
    /// Text could not be parsed.
    #[error("cannot parse {what}: {text:?}")]
    Parse {
        /// What was expected.
        what: &'static str,
        /// The text that failed.
        text: String,
    },
    /// A value taken from an IKE payload is not valid (RFC 7296 §3.13.1).
    #[error("invalid traffic selector: {reason}")]
    BadTrafficSelector {
        /// What is wrong.
        reason: &'static str,
    },
    /// Two SPD (or PAD) entries share a name; names identify entries in reports.
    #[error("duplicate entry name {name:?}")]
    DuplicateName {
        /// The name used twice.
        name: String,
    },
    /// A SAD entry description is inconsistent.
    #[error("invalid SAD entry: {reason}")]
    BadSadEntry {
        /// What is wrong.
        reason: &'static str,
    },
}

impl PolicyError {
    pub(crate) fn parse(what: &'static str, text: &str) -> Self {
        Self::Parse {
            what,
            text: text.to_owned(),
        }
    }
}
