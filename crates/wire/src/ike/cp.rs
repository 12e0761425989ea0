//! Configuration payload (CP, RFC 7296 §3.15): remote-access address and DNS assignment.
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C| RESERVED    |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   CFG Type    |                    RESERVED                   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                   Configuration Attributes                    ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Each attribute (§3.15.1); R is reserved (sent as zero, ignored on receipt):
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |R|         Attribute Type      |            Length             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                             Value                             ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::iana::{CfgType, ConfigAttributeType};
use super::reader::{Reader, Writer, len_u16};
use crate::error::{Error, Result};

const WHAT_ATTR: &str = "IKEv2 CP payload: attribute";

/// One configuration attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigAttribute {
    /// The attribute type (15 bits).
    pub attr_type: ConfigAttributeType,
    /// The value; empty in a request for "any value".
    pub value: Vec<u8>,
}

/// A CP payload body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpPayload {
    /// Request, reply, set or ack.
    pub cfg_type: CfgType,
    /// The attributes, in order.
    pub attributes: Vec<ConfigAttribute>,
}

impl CpPayload {
    /// Parses a CP body.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self> {
        let cfg_type = CfgType(r.u8()?);
        let _reserved = r.take(3)?; // §3.15: ignored on receipt.
        let mut attributes = Vec::new();
        while !r.is_empty() {
            let t = r.u16()? & 0x7fff; // §3.15.1: the R bit is ignored on receipt.
            let len = r.u16()?;
            let value = r.sub(WHAT_ATTR, len.into())?.rest().to_vec();
            attributes.push(ConfigAttribute {
                attr_type: ConfigAttributeType(t),
                value,
            });
        }
        Ok(Self {
            cfg_type,
            attributes,
        })
    }

    /// Appends the body; attribute types must fit 15 bits and values 65535 octets.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        w.u8(self.cfg_type.0);
        w.bytes(&[0; 3]);
        for a in &self.attributes {
            if a.attr_type.0 > 0x7fff {
                return Err(Error::BadValue {
                    what: WHAT_ATTR,
                    value: a.attr_type.0.into(),
                });
            }
            w.u16(a.attr_type.0);
            w.u16(len_u16(WHAT_ATTR, a.value.len())?);
            w.bytes(&a.value);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::testutil::{body_truncations_fail, emit_body};

    #[test]
    fn request_and_reply_known_bytes() {
        // CFG_REPLY with INTERNAL_IP4_ADDRESS 10.1.0.2 and an empty INTERNAL_IP4_DNS.
        let bytes = [2, 0, 0, 0, 0, 1, 0, 4, 10, 1, 0, 2, 0, 3, 0, 0];
        let cp = CpPayload::parse(&mut Reader::new("CP", &bytes)).unwrap();
        assert_eq!(cp.cfg_type, CfgType::REPLY);
        assert_eq!(
            cp.attributes,
            [
                ConfigAttribute {
                    attr_type: ConfigAttributeType::INTERNAL_IP4_ADDRESS,
                    value: vec![10, 1, 0, 2]
                },
                ConfigAttribute {
                    attr_type: ConfigAttributeType::INTERNAL_IP4_DNS,
                    value: vec![]
                }
            ]
        );
        assert_eq!(emit_body(|w| cp.emit(w)), bytes);
        body_truncations_fail(&bytes[..4], CpPayload::parse);
        // Cut inside the first attribute (an empty attribute list at 4 octets is legal).
        for n in 5..12 {
            assert!(
                CpPayload::parse(&mut Reader::new("CP", &bytes[..n])).is_err(),
                "{n}"
            );
        }
    }

    #[test]
    fn reserved_bit_ignored_and_attribute_length_bounded() {
        let bytes = [1, 0, 0, 0, 0x80, 1, 0, 0];
        let cp = CpPayload::parse(&mut Reader::new("CP", &bytes)).unwrap();
        assert_eq!(
            cp.attributes[0].attr_type,
            ConfigAttributeType::INTERNAL_IP4_ADDRESS
        );
        let over = [1, 0, 0, 0, 0, 1, 0, 5, 1, 2, 3, 4];
        assert!(matches!(
            CpPayload::parse(&mut Reader::new("CP", &over)),
            Err(Error::BadLength { len: 5, .. })
        ));
    }
}
