//! Security Association payload (SA, RFC 7296 §3.3): proposals → transforms → attributes.
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                          <Proposals>                          ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Proposal substructure (§3.3.1); Last Substruc is 0 on the last proposal and 2 otherwise:
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Last Substruc |   RESERVED    |         Proposal Length       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Proposal Num  |  Protocol ID  |    SPI Size   |Num  Transforms|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                        SPI (variable)                         ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                        <Transforms>                           ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Transform substructure (§3.3.2); Last Substruc is 0 on the last transform and 3 otherwise:
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Last Substruc |   RESERVED    |        Transform Length       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Transform Type |   RESERVED    |          Transform ID         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                      Transform Attributes                     ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Transform attribute (§3.3.5); AF=1 is the short TV form:
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |A|       Attribute Type        |    AF=0  Attribute Length     |
//! |F|                             |    AF=1  Attribute Value      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                   AF=0  Attribute Value                       |
//! |                   AF=1  Not Transmitted                       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::iana::{
    EncrId, EsnId, IntegId, KeId, PrfId, ProtocolId, TransformAttributeType, TransformType,
};
use super::reader::{Reader, Writer, len_u8, len_u16};
use crate::error::{Error, Result};

const WHAT_PROP: &str = "IKEv2 SA payload: proposal";
const WHAT_XFORM: &str = "IKEv2 SA payload: transform";
const WHAT_ATTR: &str = "IKEv2 SA payload: transform attribute";

const MORE_PROPOSALS: u8 = 2;
const MORE_TRANSFORMS: u8 = 3;
const LAST: u8 = 0;
const AF_TV: u16 = 0x8000;

/// A transform attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransformAttribute {
    /// Key Length in bits (type 14, TV form; §3.3.5).
    KeyLength(u16),
    /// Another TV (short-form) attribute.
    Tv {
        /// Attribute type (15 bits, not 14).
        attr_type: TransformAttributeType,
        /// Its 2-octet value.
        value: u16,
    },
    /// A TLV (variable-length) attribute, kept unparsed.
    Tlv {
        /// Attribute type (15 bits, not 14).
        attr_type: TransformAttributeType,
        /// Its value.
        value: Vec<u8>,
    },
}

impl TransformAttribute {
    fn parse(r: &mut Reader<'_>) -> Result<Self> {
        let word = r.u16()?;
        let attr_type = TransformAttributeType(word & !AF_TV);
        let tv = word & AF_TV != 0;
        if attr_type == TransformAttributeType::KEY_LENGTH {
            // §3.3.5: Key Length is a TV attribute.
            return if tv {
                Ok(Self::KeyLength(r.u16()?))
            } else {
                Err(Error::BadValue {
                    what: "IKEv2 SA payload: Key Length attribute in TLV form",
                    value: attr_type.0.into(),
                })
            };
        }
        if tv {
            return Ok(Self::Tv {
                attr_type,
                value: r.u16()?,
            });
        }
        let len = r.u16()?;
        let value = r.sub(WHAT_ATTR, len.into())?.rest().to_vec();
        Ok(Self::Tlv { attr_type, value })
    }

    fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        let check = |t: TransformAttributeType| {
            if t.0 & AF_TV != 0 || t == TransformAttributeType::KEY_LENGTH {
                Err(Error::BadValue {
                    what: WHAT_ATTR,
                    value: t.0.into(),
                })
            } else {
                Ok(t.0)
            }
        };
        match self {
            Self::KeyLength(bits) => {
                w.u16(AF_TV | TransformAttributeType::KEY_LENGTH.0);
                w.u16(*bits);
            }
            Self::Tv { attr_type, value } => {
                w.u16(AF_TV | check(*attr_type)?);
                w.u16(*value);
            }
            Self::Tlv { attr_type, value } => {
                w.u16(check(*attr_type)?);
                w.u16(len_u16(WHAT_ATTR, value.len())?);
                w.bytes(value);
            }
        }
        Ok(())
    }
}

/// One transform: a type, an ID within that type, and attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transform {
    /// The transform type.
    pub transform_type: TransformType,
    /// The transform ID (read it through the registry of `transform_type`).
    pub id: u16,
    /// Attributes (usually none, or a Key Length).
    pub attributes: Vec<TransformAttribute>,
}

impl Transform {
    /// An encryption transform, with a Key Length attribute when `key_bits` is given.
    pub fn encr(id: EncrId, key_bits: Option<u16>) -> Self {
        Self {
            transform_type: TransformType::ENCR,
            id: id.0,
            attributes: key_bits
                .map(TransformAttribute::KeyLength)
                .into_iter()
                .collect(),
        }
    }

    /// A PRF transform.
    pub fn prf(id: PrfId) -> Self {
        Self::plain(TransformType::PRF, id.0)
    }

    /// An integrity transform.
    pub fn integ(id: IntegId) -> Self {
        Self::plain(TransformType::INTEG, id.0)
    }

    /// A key exchange method transform.
    pub fn ke(id: KeId) -> Self {
        Self::plain(TransformType::KE, id.0)
    }

    /// An extended sequence numbers transform.
    pub fn esn(id: EsnId) -> Self {
        Self::plain(TransformType::ESN, id.0)
    }

    fn plain(transform_type: TransformType, id: u16) -> Self {
        Self {
            transform_type,
            id,
            attributes: Vec::new(),
        }
    }

    /// The Key Length attribute, if present.
    pub fn key_length(&self) -> Option<u16> {
        self.attributes.iter().find_map(|a| match a {
            TransformAttribute::KeyLength(k) => Some(*k),
            _ => None,
        })
    }

    fn parse(r: &mut Reader<'_>, last: bool) -> Result<Self> {
        let last_substruc = r.u8()?;
        check_last(WHAT_XFORM, last_substruc, last, MORE_TRANSFORMS)?;
        let _reserved = r.u8()?;
        let len = usize::from(r.u16()?);
        if len < 8 {
            return Err(Error::BadLength {
                what: WHAT_XFORM,
                len,
            });
        }
        let mut t = r.sub(WHAT_XFORM, len - 4)?;
        let transform_type = TransformType(t.u8()?);
        let _reserved = t.u8()?;
        let id = t.u16()?;
        let mut attributes = Vec::new();
        while !t.is_empty() {
            attributes.push(TransformAttribute::parse(&mut t)?);
        }
        Ok(Self {
            transform_type,
            id,
            attributes,
        })
    }

    fn emit(&self, w: &mut Writer<'_>, last: bool) -> Result<()> {
        let start = w.position();
        w.u8(if last { LAST } else { MORE_TRANSFORMS });
        w.u8(0);
        let at = w.placeholder_u16();
        w.u8(self.transform_type.0);
        w.u8(0);
        w.u16(self.id);
        self.attributes.iter().try_for_each(|a| a.emit(w))?;
        w.patch_len_u16(WHAT_XFORM, at, start)
    }
}

/// §3.3.1/§3.3.2: Last Substruc is 0 on the last substructure and `more` on the others.
fn check_last(what: &'static str, found: u8, last: bool, more: u8) -> Result<()> {
    let want = if last { LAST } else { more };
    if found == want {
        Ok(())
    } else {
        Err(Error::BadValue {
            what,
            value: found.into(),
        })
    }
}

/// One proposal: a protocol, an SPI, and the transforms offered for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// Proposal number (1, 2, ... in a request; the chosen one's number in a response).
    pub number: u8,
    /// The protocol negotiated.
    pub protocol: ProtocolId,
    /// The sender's SPI: empty or 8 octets for IKE, 4 octets for AH/ESP.
    pub spi: Vec<u8>,
    /// The transforms offered.
    pub transforms: Vec<Transform>,
}

impl Proposal {
    /// §3.3.1: SPI Size is 0 (or 8 when rekeying) for IKE and 4 for AH/ESP.
    fn check_spi(&self) -> Result<()> {
        let ok = match self.protocol {
            ProtocolId::IKE => matches!(self.spi.len(), 0 | 8),
            ProtocolId::AH | ProtocolId::ESP => self.spi.len() == 4,
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(Error::BadLength {
                what: "IKEv2 SA payload: proposal SPI size for protocol",
                len: self.spi.len(),
            })
        }
    }

    fn parse(r: &mut Reader<'_>, last: bool) -> Result<Self> {
        let last_substruc = r.u8()?;
        check_last(WHAT_PROP, last_substruc, last, MORE_PROPOSALS)?;
        let _reserved = r.u8()?;
        let len = usize::from(r.u16()?);
        if len < 8 {
            return Err(Error::BadLength {
                what: WHAT_PROP,
                len,
            });
        }
        let mut p = r.sub(WHAT_PROP, len - 4)?;
        let number = p.u8()?;
        let protocol = ProtocolId(p.u8()?);
        let spi_size = p.u8()?;
        let count = p.u8()?;
        let spi = p.take(spi_size.into())?.to_vec();
        let transforms = (0..count)
            .map(|i| Transform::parse(&mut p, i + 1 == count))
            .collect::<Result<_>>()?;
        p.expect_empty()?;
        let prop = Self {
            number,
            protocol,
            spi,
            transforms,
        };
        prop.check_spi()?;
        Ok(prop)
    }

    fn emit(&self, w: &mut Writer<'_>, last: bool) -> Result<()> {
        self.check_spi()?;
        let start = w.position();
        w.u8(if last { LAST } else { MORE_PROPOSALS });
        w.u8(0);
        let at = w.placeholder_u16();
        w.u8(self.number);
        w.u8(self.protocol.0);
        w.u8(len_u8(WHAT_PROP, self.spi.len())?);
        w.u8(len_u8(WHAT_PROP, self.transforms.len())?);
        w.bytes(&self.spi);
        let n = self.transforms.len();
        for (i, t) in self.transforms.iter().enumerate() {
            t.emit(w, i + 1 == n)?;
        }
        w.patch_len_u16(WHAT_PROP, at, start)
    }
}

/// An SA payload body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaPayload {
    /// The proposals, in preference order.
    pub proposals: Vec<Proposal>,
}

impl SaPayload {
    /// §3.3.1: proposal numbers are nonzero and consecutive; with more than one proposal the
    /// first is 1 (a response carries one proposal with the number that was chosen).
    fn check_numbering(&self) -> Result<()> {
        let bad = self.proposals.iter().enumerate().find(|(i, p)| {
            p.number == 0 || (self.proposals.len() > 1 && usize::from(p.number) != i + 1)
        });
        match bad {
            Some((_, p)) => Err(Error::BadValue {
                what: "IKEv2 SA payload: proposal number",
                value: p.number.into(),
            }),
            None => Ok(()),
        }
    }

    /// Parses an SA body: at least one proposal, Last Substruc flags consistent with the
    /// lengths, numbering checked.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self> {
        let mut proposals = Vec::new();
        loop {
            // A proposal claims to be last by its first octet; peek it to pass `last` down.
            let last = match r.clone().u8()? {
                LAST => true,
                MORE_PROPOSALS => false,
                v => {
                    return Err(Error::BadValue {
                        what: WHAT_PROP,
                        value: v.into(),
                    });
                }
            };
            proposals.push(Proposal::parse(r, last)?);
            if last {
                break;
            }
        }
        r.expect_empty()?;
        let sa = Self { proposals };
        sa.check_numbering()?;
        Ok(sa)
    }

    /// Appends the body.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        if self.proposals.is_empty() {
            return Err(Error::BadLength {
                what: WHAT_PROP,
                len: 0,
            });
        }
        self.check_numbering()?;
        let n = self.proposals.len();
        for (i, p) in self.proposals.iter().enumerate() {
            p.emit(w, i + 1 == n)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::testutil::{body_truncations_fail, emit_body};

    /// One IKE proposal (AES-GCM-16/128, PRF-HMAC-SHA256, Curve25519) then one ESP proposal
    /// with SPI 0x01020304 and (AES-CBC/256, HMAC-SHA256-128, no ESN), written out by hand
    /// from §3.3.
    fn known() -> (Vec<u8>, SaPayload) {
        #[rustfmt::skip]
        let b = vec![
            // proposal 1: more follow (2), length 36, #1, IKE, SPI size 0, 3 transforms
            2, 0, 0, 36, 1, 1, 0, 3,
            3, 0, 0, 12, 1, 0, 0, 20, 0x80, 14, 0, 128, // ENCR AES_GCM_16, Key Length 128
            3, 0, 0, 8, 2, 0, 0, 5,                     // PRF HMAC_SHA2_256
            0, 0, 0, 8, 4, 0, 0, 31,                    // KE Curve25519
            // proposal 2: last (0), length 40, #2, ESP, SPI size 4, 3 transforms
            0, 0, 0, 40, 2, 3, 4, 3, 1, 2, 3, 4,
            3, 0, 0, 12, 1, 0, 0, 12, 0x80, 14, 1, 0,   // ENCR AES_CBC, Key Length 256
            3, 0, 0, 8, 3, 0, 0, 12,                    // INTEG HMAC_SHA2_256_128
            0, 0, 0, 8, 5, 0, 0, 0,                     // ESN none
        ];
        let sa = SaPayload {
            proposals: vec![
                Proposal {
                    number: 1,
                    protocol: ProtocolId::IKE,
                    spi: vec![],
                    transforms: vec![
                        Transform::encr(EncrId::AES_GCM_16, Some(128)),
                        Transform::prf(PrfId::HMAC_SHA2_256),
                        Transform::ke(KeId::CURVE25519),
                    ],
                },
                Proposal {
                    number: 2,
                    protocol: ProtocolId::ESP,
                    spi: vec![1, 2, 3, 4],
                    transforms: vec![
                        Transform::encr(EncrId::AES_CBC, Some(256)),
                        Transform::integ(IntegId::HMAC_SHA2_256_128),
                        Transform::esn(EsnId::NO_ESN),
                    ],
                },
            ],
        };
        (b, sa)
    }

    fn parse(b: &[u8]) -> Result<SaPayload> {
        SaPayload::parse(&mut Reader::new("SA", b))
    }

    #[test]
    fn parse_and_emit_known_bytes() {
        let (b, sa) = known();
        assert_eq!(parse(&b).unwrap(), sa);
        assert_eq!(sa.proposals[0].transforms[0].key_length(), Some(128));
        assert_eq!(emit_body(|w| sa.emit(w)), b);
        body_truncations_fail(&b, SaPayload::parse);
    }

    #[test]
    fn last_substructure_flags_are_checked() {
        let (b, _) = known();
        // Proposal flags: first claims last, first says 3, second claims more.
        for (at, v) in [(0, 0), (0, 3), (36, 2)] {
            let mut x = b.clone();
            x[at] = v;
            assert!(parse(&x).is_err(), "{at}={v}");
        }
        // Transform flags: first claims last, second says 2, third claims more.
        for (at, v) in [(8, 0), (20, 2), (28, 3)] {
            let mut x = b.clone();
            x[at] = v;
            assert!(matches!(parse(&x), Err(Error::BadValue { .. })), "{at}={v}");
        }
    }

    #[test]
    fn numbering_spi_size_and_key_length_form_are_checked() {
        let (b, _) = known();
        let mut x = b.clone();
        x[40] = 3; // second proposal numbered 3
        assert!(matches!(parse(&x), Err(Error::BadValue { value: 3, .. })));
        let mut x = b.clone();
        x[4] = 0; // proposal number 0
        assert!(parse(&x).is_err());
        let mut x = b.clone();
        x[42] = 8; // ESP with an 8-octet SPI: lengths no longer line up
        assert!(parse(&x).is_err());
        let mut x = b.clone();
        x[16] = 0x00; // Key Length without the AF bit
        assert!(matches!(parse(&x), Err(Error::BadValue { value: 14, .. })));
    }

    #[test]
    fn unknown_attributes_are_kept() {
        let t = Transform {
            transform_type: TransformType(200),
            id: 7,
            attributes: vec![
                TransformAttribute::Tv {
                    attr_type: TransformAttributeType(18),
                    value: 9,
                },
                TransformAttribute::Tlv {
                    attr_type: TransformAttributeType(19),
                    value: vec![1, 2, 3],
                },
            ],
        };
        let sa = SaPayload {
            proposals: vec![Proposal {
                number: 4,
                protocol: ProtocolId(9),
                spi: vec![5; 3],
                transforms: vec![t],
            }],
        };
        let b = emit_body(|w| sa.emit(w));
        assert_eq!(parse(&b).unwrap(), sa);
    }
}
