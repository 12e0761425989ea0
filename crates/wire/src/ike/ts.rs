//! Traffic Selector payloads (TSi, TSr; RFC 7296 §3.13): the address/port/protocol ranges a
//! child SA carries.
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Number of TSs |                 RESERVED                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                       <Traffic Selectors>                     ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Each traffic selector (§3.13.1):
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   TS Type     |IP Protocol ID*|       Selector Length         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Start Port*         |           End Port*           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                         Starting Address*                     ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                         Ending Address*                       ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Selector Length is 16 for TS_IPV4_ADDR_RANGE and 40 for TS_IPV6_ADDR_RANGE. Other types are
//! kept as raw bytes so the engine can refuse them by type.

use core::net::{Ipv4Addr, Ipv6Addr};

use super::iana::TsType;
use super::reader::{Reader, Writer, len_u8};
use crate::error::{Error, Result};

const WHAT: &str = "IKEv2 TS payload";
const WHAT_TS: &str = "IKEv2 TS payload: traffic selector";

/// An address range plus protocol and port range (the two address-range TS types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TsRange<A> {
    /// IP protocol number; 0 means any.
    pub ip_protocol: u8,
    /// First port of the range (or ICMP type/code packed per §3.13.1).
    pub start_port: u16,
    /// Last port of the range.
    pub end_port: u16,
    /// First address of the range.
    pub start_addr: A,
    /// Last address of the range.
    pub end_addr: A,
}

/// One traffic selector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TrafficSelector {
    /// TS_IPV4_ADDR_RANGE.
    Ipv4(TsRange<Ipv4Addr>),
    /// TS_IPV6_ADDR_RANGE.
    Ipv6(TsRange<Ipv6Addr>),
    /// Any other TS type, body after the 4-octet type/protocol/length header kept raw.
    Unknown {
        /// The TS type (not 7 or 8).
        ts_type: TsType,
        /// The second octet of the selector.
        ip_protocol: u8,
        /// Everything after Selector Length.
        data: Vec<u8>,
    },
}

impl TrafficSelector {
    /// The TS type on the wire.
    pub fn ts_type(&self) -> TsType {
        match self {
            Self::Ipv4(_) => TsType::IPV4_ADDR_RANGE,
            Self::Ipv6(_) => TsType::IPV6_ADDR_RANGE,
            Self::Unknown { ts_type, .. } => *ts_type,
        }
    }

    fn parse(r: &mut Reader<'_>) -> Result<Self> {
        let ts_type = TsType(r.u8()?);
        let ip_protocol = r.u8()?;
        let len = usize::from(r.u16()?);
        let expected = match ts_type {
            TsType::IPV4_ADDR_RANGE => Some(16),
            TsType::IPV6_ADDR_RANGE => Some(40),
            _ => None,
        };
        if expected.is_some_and(|e| e != len) || len < 4 {
            return Err(Error::BadLength { what: WHAT_TS, len });
        }
        let mut s = r.sub(WHAT_TS, len - 4)?;
        let ts = match ts_type {
            TsType::IPV4_ADDR_RANGE => Self::Ipv4(TsRange {
                ip_protocol,
                start_port: s.u16()?,
                end_port: s.u16()?,
                start_addr: Ipv4Addr::from(s.array::<4>()?),
                end_addr: Ipv4Addr::from(s.array::<4>()?),
            }),
            TsType::IPV6_ADDR_RANGE => Self::Ipv6(TsRange {
                ip_protocol,
                start_port: s.u16()?,
                end_port: s.u16()?,
                start_addr: Ipv6Addr::from(s.array::<16>()?),
                end_addr: Ipv6Addr::from(s.array::<16>()?),
            }),
            _ => Self::Unknown {
                ts_type,
                ip_protocol,
                data: s.rest().to_vec(),
            },
        };
        s.expect_empty()?;
        Ok(ts)
    }

    fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        let start = w.position();
        w.u8(self.ts_type().0);
        match self {
            Self::Ipv4(t) => {
                w.u8(t.ip_protocol);
                w.u16(16);
                w.u16(t.start_port);
                w.u16(t.end_port);
                w.bytes(&t.start_addr.octets());
                w.bytes(&t.end_addr.octets());
            }
            Self::Ipv6(t) => {
                w.u8(t.ip_protocol);
                w.u16(40);
                w.u16(t.start_port);
                w.u16(t.end_port);
                w.bytes(&t.start_addr.octets());
                w.bytes(&t.end_addr.octets());
            }
            Self::Unknown {
                ts_type,
                ip_protocol,
                data,
            } => {
                if matches!(*ts_type, TsType::IPV4_ADDR_RANGE | TsType::IPV6_ADDR_RANGE) {
                    return Err(Error::BadValue {
                        what: "IKEv2 TS payload: raw selector of a known type",
                        value: ts_type.0.into(),
                    });
                }
                w.u8(*ip_protocol);
                let at = w.placeholder_u16();
                w.bytes(data);
                w.patch_len_u16(WHAT_TS, at, start)?;
            }
        }
        Ok(())
    }
}

/// A TSi or TSr payload body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TsPayload {
    /// The traffic selectors, in order (the first may be the packet's own, §2.9).
    pub selectors: Vec<TrafficSelector>,
}

impl TsPayload {
    /// Parses a TSi/TSr body; the selector count must match and the selectors fill the body.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self> {
        let count = r.u8()?;
        let _reserved = r.take(3)?; // §3.13: ignored on receipt.
        let selectors = (0..count)
            .map(|_| TrafficSelector::parse(r))
            .collect::<Result<_>>()?;
        r.expect_empty()?;
        Ok(Self { selectors })
    }

    /// Appends the body.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        w.u8(len_u8(WHAT, self.selectors.len())?);
        w.bytes(&[0; 3]);
        self.selectors.iter().try_for_each(|s| s.emit(w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::testutil::{body_truncations_fail, emit_body};

    fn known() -> (Vec<u8>, TsPayload) {
        let mut b = vec![2, 0, 0, 0];
        // IPv4: TCP (6), ports 80..443, 10.0.0.0..10.0.0.255.
        b.extend([7, 6, 0, 16, 0, 80, 0x01, 0xbb, 10, 0, 0, 0, 10, 0, 0, 255]);
        // IPv6: any protocol, all ports, 2001:db8::..2001:db8::ffff.
        b.extend([8, 0, 0, 40, 0, 0, 0xff, 0xff]);
        b.extend([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        b.extend([
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
        ]);
        let p = TsPayload {
            selectors: vec![
                TrafficSelector::Ipv4(TsRange {
                    ip_protocol: 6,
                    start_port: 80,
                    end_port: 443,
                    start_addr: Ipv4Addr::new(10, 0, 0, 0),
                    end_addr: Ipv4Addr::new(10, 0, 0, 255),
                }),
                TrafficSelector::Ipv6(TsRange {
                    ip_protocol: 0,
                    start_port: 0,
                    end_port: 65535,
                    start_addr: "2001:db8::".parse().unwrap(),
                    end_addr: "2001:db8::ffff".parse().unwrap(),
                }),
            ],
        };
        (b, p)
    }

    #[test]
    fn parse_and_emit_known_bytes() {
        let (b, p) = known();
        assert_eq!(TsPayload::parse(&mut Reader::new("TS", &b)).unwrap(), p);
        assert_eq!(emit_body(|w| p.emit(w)), b);
        body_truncations_fail(&b, TsPayload::parse);
    }

    #[test]
    fn selector_length_must_match_type() {
        let (mut b, _) = known();
        b[7] = 17; // IPv4 selector claims 17 octets.
        assert!(matches!(
            TsPayload::parse(&mut Reader::new("TS", &b)),
            Err(Error::BadLength { len: 17, .. })
        ));
        let (mut b, _) = known();
        b[0] = 1; // count says one selector, two present.
        assert!(matches!(
            TsPayload::parse(&mut Reader::new("TS", &b)),
            Err(Error::TrailingData { .. })
        ));
    }

    #[test]
    fn unknown_type_kept_raw() {
        let b = [1, 0, 0, 0, 10, 0, 0, 7, 0xaa, 0xbb, 0xcc];
        let p = TsPayload::parse(&mut Reader::new("TS", &b)).unwrap();
        assert_eq!(
            p.selectors,
            [TrafficSelector::Unknown {
                ts_type: TsType::SECLABEL,
                ip_protocol: 0,
                data: vec![0xaa, 0xbb, 0xcc]
            }]
        );
        assert_eq!(emit_body(|w| p.emit(w)), b);
    }
}
