//! Vendor ID payload (V, RFC 7296 §3.12): an opaque constant naming an implementation or feature.
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                        Vendor ID (VID)                        ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::reader::{Reader, Writer};
use crate::error::Result;

/// A Vendor ID payload body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorIdPayload {
    /// The vendor ID bytes.
    pub data: Vec<u8>,
}

impl VendorIdPayload {
    /// Parses a Vendor ID body (any length).
    pub fn parse(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            data: r.rest().to_vec(),
        })
    }

    /// Appends the body.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        w.bytes(&self.data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::testutil::emit_body;

    #[test]
    fn known_bytes() {
        let v = VendorIdPayload::parse(&mut Reader::new("V", b"rampart")).unwrap();
        assert_eq!(v.data, b"rampart");
        assert_eq!(emit_body(|w| v.emit(w)), b"rampart");
    }
}
