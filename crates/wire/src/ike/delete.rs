//! Delete payload (D, RFC 7296 §3.11): SAs the sender has removed.
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Protocol ID  |   SPI Size    |          Num of SPIs          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~               Security Parameter Index(es) (SPI)              ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Deleting the IKE SA uses protocol 1 with SPI size 0 and no SPIs (the SPIs are in the IKE
//! header); deleting child SAs uses protocol 2 (AH) or 3 (ESP) with 4-octet SPIs.

use super::iana::ProtocolId;
use super::reader::{Reader, Writer, len_u8, len_u16};
use crate::error::{Error, Result};

const WHAT: &str = "IKEv2 Delete payload";

/// A Delete payload body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletePayload {
    /// The protocol of the SAs deleted.
    pub protocol: ProtocolId,
    /// The length of each SPI (0 for IKE, 4 for AH/ESP).
    pub spi_size: u8,
    /// The SPIs, each `spi_size` octets.
    pub spis: Vec<Vec<u8>>,
}

impl DeletePayload {
    /// Deletes the IKE SA the message belongs to.
    pub fn ike() -> Self {
        Self {
            protocol: ProtocolId::IKE,
            spi_size: 0,
            spis: Vec::new(),
        }
    }

    /// Deletes child SAs of `protocol` (AH or ESP) by their 4-octet SPIs.
    pub fn child(protocol: ProtocolId, spis: &[u32]) -> Self {
        Self {
            protocol,
            spi_size: 4,
            spis: spis.iter().map(|s| s.to_be_bytes().to_vec()).collect(),
        }
    }

    /// The SPIs as `u32` when they are 4 octets (AH/ESP), else `None`.
    pub fn child_spis(&self) -> Option<Vec<u32>> {
        self.spis
            .iter()
            .map(|s| {
                <[u8; 4]>::try_from(s.as_slice())
                    .ok()
                    .map(u32::from_be_bytes)
            })
            .collect()
    }

    /// §3.11: IKE has SPI size 0 and no SPIs; AH/ESP have SPI size 4.
    fn check(&self) -> Result<()> {
        let ok = match self.protocol {
            ProtocolId::IKE => self.spi_size == 0 && self.spis.is_empty(),
            ProtocolId::AH | ProtocolId::ESP => self.spi_size == 4,
            _ => true,
        };
        if !ok {
            return Err(Error::BadValue {
                what: "IKEv2 Delete payload: SPI size for protocol",
                value: self.spi_size.into(),
            });
        }
        if let Some(s) = self
            .spis
            .iter()
            .find(|s| s.len() != usize::from(self.spi_size))
        {
            return Err(Error::BadLength {
                what: "IKEv2 Delete payload: SPI",
                len: s.len(),
            });
        }
        Ok(())
    }

    /// Parses a Delete body; the SPIs must fill it exactly.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self> {
        let protocol = ProtocolId(r.u8()?);
        let spi_size = r.u8()?;
        let count = r.u16()?;
        let need = usize::from(count) * usize::from(spi_size);
        if r.remaining() != need {
            return Err(Error::BadLength {
                what: WHAT,
                len: r.remaining(),
            });
        }
        let spis = (0..count)
            .map(|_| r.take(spi_size.into()).map(<[u8]>::to_vec))
            .collect::<Result<_>>()?;
        let d = Self {
            protocol,
            spi_size,
            spis,
        };
        d.check()?;
        r.expect_empty()?;
        Ok(d)
    }

    /// Appends the body.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        self.check()?;
        w.u8(self.protocol.0);
        w.u8(len_u8(WHAT, self.spi_size.into())?);
        w.u16(len_u16(WHAT, self.spis.len())?);
        for s in &self.spis {
            w.bytes(s);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::testutil::{body_truncations_fail, emit_body};

    #[test]
    fn ike_delete_known_bytes() {
        let bytes = [1, 0, 0, 0];
        let d = DeletePayload::parse(&mut Reader::new("D", &bytes)).unwrap();
        assert_eq!(d, DeletePayload::ike());
        assert_eq!(emit_body(|w| d.emit(w)), bytes);
        body_truncations_fail(&bytes, DeletePayload::parse);
    }

    #[test]
    fn esp_delete_known_bytes() {
        let bytes = [3, 4, 0, 2, 0, 0, 0x10, 0x01, 0xde, 0xad, 0xbe, 0xef];
        let d = DeletePayload::parse(&mut Reader::new("D", &bytes)).unwrap();
        assert_eq!(
            d,
            DeletePayload::child(ProtocolId::ESP, &[0x1001, 0xdead_beef])
        );
        assert_eq!(d.child_spis().unwrap(), [0x1001, 0xdead_beef]);
        assert_eq!(emit_body(|w| d.emit(w)), bytes);
        body_truncations_fail(&bytes, DeletePayload::parse);
    }

    #[test]
    fn spi_sizes_are_checked_per_protocol() {
        for bad in [
            &[1u8, 4, 0, 0][..],
            &[1, 0, 0, 1],
            &[3, 8, 0, 0],
            &[2, 0, 0, 0],
        ] {
            assert!(
                DeletePayload::parse(&mut Reader::new("D", bad)).is_err(),
                "{bad:?}"
            );
        }
        // Count says 1 SPI, two are present.
        let extra = [3, 4, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2];
        assert!(DeletePayload::parse(&mut Reader::new("D", &extra)).is_err());
    }
}
