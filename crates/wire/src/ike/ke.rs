//! Key Exchange payload (KE, RFC 7296 §3.4): the sender's public key-exchange value.
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Diffie-Hellman Group Num    |           RESERVED            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                       Key Exchange Data                       ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::iana::KeId;
use super::reader::{Reader, Writer};
use crate::error::Result;

/// A KE payload body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KePayload {
    /// The key exchange method (Diffie-Hellman group) of `data`.
    pub group: KeId,
    /// The public value. Its length is checked against the group by the crypto layer.
    pub data: Vec<u8>,
}

impl KePayload {
    /// Parses a KE payload body (the bytes after the generic payload header).
    pub fn parse(r: &mut Reader<'_>) -> Result<Self> {
        let group = KeId(r.u16()?);
        let _reserved = r.u16()?; // §3.4: ignored on receipt.
        Ok(Self {
            group,
            data: r.rest().to_vec(),
        })
    }

    /// Appends the body.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        w.u16(self.group.0);
        w.u16(0);
        w.bytes(&self.data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::testutil::{body_truncations_fail, emit_body};

    const BYTES: [u8; 7] = [0, 31, 0, 0, 0xaa, 0xbb, 0xcc];

    #[test]
    fn parse_and_emit_known_bytes() {
        let ke = KePayload::parse(&mut Reader::new("KE", &BYTES)).unwrap();
        assert_eq!(ke.group, KeId::CURVE25519);
        assert_eq!(ke.data, [0xaa, 0xbb, 0xcc]);
        assert_eq!(emit_body(|w| ke.emit(w)), BYTES);
    }

    #[test]
    fn truncated_fixed_part_fails() {
        body_truncations_fail(&BYTES[..4], KePayload::parse);
    }
}
