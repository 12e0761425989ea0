//! Identification payloads (IDi, IDr; RFC 7296 §3.5): who the sender claims to be.
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   ID Type     |                 RESERVED                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                   Identification Data                         ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The whole body (type, reserved, data) is what AUTH signs (§2.15, "RestOfInitIDPayload"), so
//! the engine signs the bytes [`IdPayload::emit`] writes.

use super::iana::IdType;
use super::reader::{Reader, Writer};
use crate::error::{Error, Result};

/// An IDi or IDr payload body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdPayload {
    /// The identification type.
    pub id_type: IdType,
    /// The identity, interpreted according to `id_type`.
    pub data: Vec<u8>,
}

impl IdPayload {
    /// Parses an IDi/IDr body. Address types must carry exactly 4 (IPv4) or 16 (IPv6) octets.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self> {
        let id_type = IdType(r.u8()?);
        let _reserved = r.take(3)?; // §3.5: ignored on receipt.
        let data = r.rest().to_vec();
        let p = Self { id_type, data };
        p.check()?;
        Ok(p)
    }

    fn check(&self) -> Result<()> {
        let need = match self.id_type {
            IdType::IPV4_ADDR => 4,
            IdType::IPV6_ADDR => 16,
            _ => return Ok(()),
        };
        if self.data.len() != need {
            return Err(Error::BadLength {
                what: "IKEv2 ID payload: address",
                len: self.data.len(),
            });
        }
        Ok(())
    }

    /// Appends the body.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        self.check()?;
        w.u8(self.id_type.0);
        w.bytes(&[0; 3]);
        w.bytes(&self.data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::testutil::{body_truncations_fail, emit_body};

    const FQDN: &[u8] = b"\x02\0\0\0gw-a.example";

    #[test]
    fn parse_and_emit_known_bytes() {
        let id = IdPayload::parse(&mut Reader::new("ID", FQDN)).unwrap();
        assert_eq!(id.id_type, IdType::FQDN);
        assert_eq!(id.data, b"gw-a.example");
        assert_eq!(emit_body(|w| id.emit(w)), FQDN);
    }

    #[test]
    fn address_ids_have_exact_lengths() {
        let ok = [1, 0, 0, 0, 192, 0, 2, 1];
        let id = IdPayload::parse(&mut Reader::new("ID", &ok)).unwrap();
        assert_eq!(id.data, [192, 0, 2, 1]);
        body_truncations_fail(&ok, IdPayload::parse);
        let bad = [5, 0, 0, 0, 192, 0, 2, 1];
        assert!(matches!(
            IdPayload::parse(&mut Reader::new("ID", &bad)),
            Err(Error::BadLength { len: 4, .. })
        ));
    }
}
