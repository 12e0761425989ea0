//! The one error type for every parser and emitter in this crate.
//!
//! Errors carry a static `what` naming the structure being parsed (e.g. `"ESP header"`,
//! `"IKEv2 SA payload: transform"`), so an operator or a fuzz crash report points straight at
//! the field. They are `Copy` and allocation-free so a data-plane drop path can count them
//! cheaply.

/// What is wrong with a byte sequence (or with a buffer handed to an emitter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input ended before the structure did.
    #[error("{what}: truncated (need {need} bytes, have {have})")]
    Truncated {
        /// The structure being parsed.
        what: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// A length field is impossible (smaller than the fixed part, larger than its container, ...).
    #[error("{what}: bad length {len}")]
    BadLength {
        /// The structure being parsed.
        what: &'static str,
        /// The offending length value.
        len: usize,
    },
    /// Reserved bits or bytes that must be zero are not (only where the RFC says to reject).
    #[error("{what}: reserved bits set")]
    ReservedBits {
        /// The structure being parsed.
        what: &'static str,
    },
    /// A version field carries a version this parser does not speak.
    #[error("{what}: unsupported version {version}")]
    BadVersion {
        /// The structure being parsed.
        what: &'static str,
        /// The version found.
        version: u8,
    },
    /// A checksum does not verify.
    #[error("{what}: bad checksum")]
    BadChecksum {
        /// The structure being parsed.
        what: &'static str,
    },
    /// A field holds a value that is invalid in this position.
    #[error("{what}: invalid value {value}")]
    BadValue {
        /// The field.
        what: &'static str,
        /// The value found.
        value: u32,
    },
    /// An IKEv2 payload of unknown type with the critical bit set (RFC 7296 §2.5): the message
    /// must be rejected with UNSUPPORTED_CRITICAL_PAYLOAD.
    #[error("unknown critical payload type {payload_type}")]
    UnknownCriticalPayload {
        /// The unknown payload type.
        payload_type: u8,
    },
    /// Bytes were left over where a structure must end exactly.
    #[error("{what}: {extra} bytes of trailing data")]
    TrailingData {
        /// The structure being parsed.
        what: &'static str,
        /// How many bytes were left over.
        extra: usize,
    },
    /// An emitter was handed a buffer too small for what it must write.
    #[error("{what}: buffer too small (need {need} bytes, have {have})")]
    BufferTooSmall {
        /// The structure being emitted.
        what: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

/// Checks that `buf` holds at least `need` bytes, naming `what` otherwise.
pub(crate) fn check_len(what: &'static str, buf: &[u8], need: usize) -> Result<()> {
    if buf.len() < need {
        Err(Error::Truncated {
            what,
            need,
            have: buf.len(),
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_message_names_structure_and_sizes() {
        let e = check_len("ESP header", &[0u8; 3], 8).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ESP header: truncated (need 8 bytes, have 3)"
        );
        assert!(check_len("ESP header", &[0u8; 8], 8).is_ok());
    }
}
