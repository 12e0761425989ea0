//! Nonce payload (Ni, Nr; RFC 7296 §3.9): fresh random data from each side.
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                            Nonce Data                         ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::reader::{Reader, Writer};
use crate::error::{Error, Result};

/// Smallest nonce allowed (§3.9: "at least 128 bits").
pub const MIN_NONCE_LEN: usize = 16;
/// Largest nonce allowed (§3.9: "MUST be between 16 and 256 octets").
pub const MAX_NONCE_LEN: usize = 256;

/// A Nonce payload body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoncePayload {
    /// The nonce, 16..=256 octets.
    pub data: Vec<u8>,
}

impl NoncePayload {
    fn check(len: usize) -> Result<()> {
        if (MIN_NONCE_LEN..=MAX_NONCE_LEN).contains(&len) {
            Ok(())
        } else {
            Err(Error::BadLength {
                what: "IKEv2 Nonce payload",
                len,
            })
        }
    }

    /// Parses a Nonce body; its length must be 16..=256 octets (§3.9).
    pub fn parse(r: &mut Reader<'_>) -> Result<Self> {
        let data = r.rest();
        Self::check(data.len())?;
        Ok(Self {
            data: data.to_vec(),
        })
    }

    /// Appends the body; fails on a nonce of illegal length.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        Self::check(self.data.len())?;
        w.bytes(&self.data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::testutil::{body_truncations_fail, emit_body};

    #[test]
    fn known_bytes_and_length_bounds() {
        let bytes: Vec<u8> = (0..32).collect();
        let n = NoncePayload::parse(&mut Reader::new("Nonce", &bytes)).unwrap();
        assert_eq!(n.data, bytes);
        assert_eq!(emit_body(|w| n.emit(w)), bytes);
        body_truncations_fail(&bytes[..16], NoncePayload::parse);
        assert!(NoncePayload::parse(&mut Reader::new("Nonce", &[0; 256])).is_ok());
        assert!(NoncePayload::parse(&mut Reader::new("Nonce", &[0; 257])).is_err());
        let long = NoncePayload { data: vec![0; 257] };
        assert!(long.emit(&mut Writer::new(&mut Vec::new())).is_err());
    }
}
