//! Notify payload (N, RFC 7296 §3.10): errors and status/capability signals.
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Protocol ID  |   SPI Size    |      Notify Message Type      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                Security Parameter Index (SPI)                 ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                       Notification Data                       ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::iana::{HashAlgorithm, NotifyType, ProtocolId};
use super::reader::{Reader, Writer, len_u8};
use crate::error::{Error, Result};

/// A Notify payload body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyPayload {
    /// The protocol the SPI belongs to; zero when `spi` is empty (§3.10).
    pub protocol: ProtocolId,
    /// The SPI the notification is about (empty for the IKE SA).
    pub spi: Vec<u8>,
    /// The notification type.
    pub notify_type: NotifyType,
    /// Type-specific data.
    pub data: Vec<u8>,
}

impl NotifyPayload {
    /// A notification about the IKE SA (protocol 0, no SPI) with `data`.
    pub fn new(notify_type: NotifyType, data: Vec<u8>) -> Self {
        Self {
            protocol: ProtocolId(0),
            spi: Vec::new(),
            notify_type,
            data,
        }
    }

    /// A notification about a child SA's 4-octet SPI (e.g. REKEY_SA, INVALID_SPI).
    pub fn with_child_spi(protocol: ProtocolId, spi: u32, notify_type: NotifyType) -> Self {
        Self {
            protocol,
            spi: spi.to_be_bytes().to_vec(),
            notify_type,
            data: Vec::new(),
        }
    }

    /// Parses a Notify body.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self> {
        let protocol = ProtocolId(r.u8()?);
        let spi_size = r.u8()?;
        let notify_type = NotifyType(r.u16()?);
        let spi = r.take(spi_size.into())?.to_vec();
        Ok(Self {
            protocol,
            spi,
            notify_type,
            data: r.rest().to_vec(),
        })
    }

    /// Appends the body.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        w.u8(self.protocol.0);
        w.u8(len_u8("IKEv2 Notify payload: SPI", self.spi.len())?);
        w.u16(self.notify_type.0);
        w.bytes(&self.spi);
        w.bytes(&self.data);
        Ok(())
    }

    /// Whether this is an error notification (§3.10.1).
    pub fn is_error(&self) -> bool {
        self.notify_type.is_error()
    }

    /// The hash algorithms listed in a SIGNATURE_HASH_ALGORITHMS notification (RFC 7427 §4):
    /// a list of 2-octet identifiers.
    pub fn signature_hash_algorithms(&self) -> Result<Vec<HashAlgorithm>> {
        let what = "IKEv2 Notify payload: SIGNATURE_HASH_ALGORITHMS";
        if self.notify_type != NotifyType::SIGNATURE_HASH_ALGORITHMS {
            return Err(Error::BadValue {
                what,
                value: self.notify_type.0.into(),
            });
        }
        if self.data.len() % 2 != 0 {
            return Err(Error::BadLength {
                what,
                len: self.data.len(),
            });
        }
        Ok(self
            .data
            .chunks_exact(2)
            .map(|c| HashAlgorithm(u16::from_be_bytes([c[0], c[1]])))
            .collect())
    }

    /// A SIGNATURE_HASH_ALGORITHMS notification listing `algs` (RFC 7427 §4).
    pub fn signature_hash_algorithms_notify(algs: &[HashAlgorithm]) -> Self {
        let data = algs.iter().flat_map(|a| a.0.to_be_bytes()).collect();
        Self::new(NotifyType::SIGNATURE_HASH_ALGORITHMS, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::testutil::{body_truncations_fail, emit_body};

    #[test]
    fn ike_sa_status_known_bytes() {
        // NAT_DETECTION_SOURCE_IP (16388 = 0x4004) with a 4-byte stand-in hash.
        let bytes = [0, 0, 0x40, 0x04, 1, 2, 3, 4];
        let n = NotifyPayload::parse(&mut Reader::new("N", &bytes)).unwrap();
        assert_eq!(
            n,
            NotifyPayload::new(NotifyType::NAT_DETECTION_SOURCE_IP, vec![1, 2, 3, 4])
        );
        assert!(!n.is_error());
        assert_eq!(emit_body(|w| n.emit(w)), bytes);
        body_truncations_fail(&bytes[..4], NotifyPayload::parse);
    }

    #[test]
    fn child_spi_known_bytes() {
        // REKEY_SA (16393 = 0x4009) for ESP SPI 0xc0ffee01.
        let bytes = [3, 4, 0x40, 0x09, 0xc0, 0xff, 0xee, 0x01];
        let n = NotifyPayload::parse(&mut Reader::new("N", &bytes)).unwrap();
        assert_eq!(
            n,
            NotifyPayload::with_child_spi(ProtocolId::ESP, 0xc0ff_ee01, NotifyType::REKEY_SA)
        );
        assert_eq!(emit_body(|w| n.emit(w)), bytes);
        body_truncations_fail(&bytes, NotifyPayload::parse);
    }

    #[test]
    fn signature_hash_algorithms_round_trip() {
        let n = NotifyPayload::signature_hash_algorithms_notify(&[
            HashAlgorithm::SHA2_256,
            HashAlgorithm::IDENTITY,
        ]);
        assert_eq!(n.data, [0, 2, 0, 5]);
        assert_eq!(
            n.signature_hash_algorithms().unwrap(),
            [HashAlgorithm::SHA2_256, HashAlgorithm::IDENTITY]
        );
        let odd = NotifyPayload::new(NotifyType::SIGNATURE_HASH_ALGORITHMS, vec![0, 2, 0]);
        assert!(odd.signature_hash_algorithms().is_err());
    }
}
