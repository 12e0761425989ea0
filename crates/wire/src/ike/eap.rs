//! EAP payload (RFC 7296 §3.16): one EAP message (RFC 3748 §4) carried in IKE_AUTH.
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                       EAP Message                             ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Code      | Identifier    |           Length              |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Type      | Type_Data...
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Request (1) and Response (2) carry a Type octet; Success (3) and Failure (4) are exactly four
//! octets. The EAP Length must equal the payload body length.

use super::reader::{Reader, Writer, len_u16};
use crate::error::{Error, Result};

const WHAT: &str = "IKEv2 EAP payload";

/// EAP Request code.
pub const EAP_REQUEST: u8 = 1;
/// EAP Response code.
pub const EAP_RESPONSE: u8 = 2;
/// EAP Success code.
pub const EAP_SUCCESS: u8 = 3;
/// EAP Failure code.
pub const EAP_FAILURE: u8 = 4;

/// An EAP payload body: one EAP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EapPayload {
    /// EAP Code.
    pub code: u8,
    /// EAP Identifier (matches responses to requests).
    pub identifier: u8,
    /// EAP Type: present exactly for Request and Response.
    pub eap_type: Option<u8>,
    /// Type-Data (or, for unknown codes, everything after the 4-octet header).
    pub data: Vec<u8>,
}

impl EapPayload {
    fn has_type(code: u8) -> bool {
        matches!(code, EAP_REQUEST | EAP_RESPONSE)
    }

    /// Parses an EAP payload body.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self> {
        let total = r.remaining();
        let code = r.u8()?;
        let identifier = r.u8()?;
        let len = usize::from(r.u16()?);
        if len != total {
            return Err(Error::BadLength { what: WHAT, len });
        }
        let eap_type = if Self::has_type(code) {
            Some(r.u8()?)
        } else {
            None
        };
        if matches!(code, EAP_SUCCESS | EAP_FAILURE) && !r.is_empty() {
            return Err(Error::BadLength { what: WHAT, len });
        }
        Ok(Self {
            code,
            identifier,
            eap_type,
            data: r.rest().to_vec(),
        })
    }

    /// Appends the body; `eap_type` must be present exactly for Request/Response and Success or
    /// Failure must have no data.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        let bad_shape = Self::has_type(self.code) != self.eap_type.is_some()
            || (matches!(self.code, EAP_SUCCESS | EAP_FAILURE) && !self.data.is_empty());
        if bad_shape {
            return Err(Error::BadValue {
                what: "IKEv2 EAP payload: fields for code",
                value: self.code.into(),
            });
        }
        let len = 4 + usize::from(self.eap_type.is_some()) + self.data.len();
        w.u8(self.code);
        w.u8(self.identifier);
        w.u16(len_u16(WHAT, len)?);
        if let Some(t) = self.eap_type {
            w.u8(t);
        }
        w.bytes(&self.data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::testutil::{body_truncations_fail, emit_body};

    #[test]
    fn identity_request_known_bytes() {
        // EAP-Request/Identity (type 1), identifier 7, no type data.
        let bytes = [1, 7, 0, 5, 1];
        let e = EapPayload::parse(&mut Reader::new("EAP", &bytes)).unwrap();
        assert_eq!(
            e,
            EapPayload {
                code: EAP_REQUEST,
                identifier: 7,
                eap_type: Some(1),
                data: vec![]
            }
        );
        assert_eq!(emit_body(|w| e.emit(w)), bytes);
        body_truncations_fail(&bytes, EapPayload::parse);
    }

    #[test]
    fn success_is_four_octets_and_length_must_match() {
        let e = EapPayload::parse(&mut Reader::new("EAP", &[3, 7, 0, 4])).unwrap();
        assert_eq!(e.eap_type, None);
        assert!(EapPayload::parse(&mut Reader::new("EAP", &[3, 7, 0, 5, 0])).is_err());
        assert!(EapPayload::parse(&mut Reader::new("EAP", &[2, 7, 0, 9, 1])).is_err());
    }
}
