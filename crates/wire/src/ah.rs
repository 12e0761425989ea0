//! AH, the Authentication Header (RFC 4302): a zero-copy [`Packet`] view and an owned [`Repr`].
//!
//! The data plane finds AH after the IPv4 header or at the end of the IPv6 extension-header walk
//! ([`crate::ipv6::Packet::upper_layer`]), reads the SPI and sequence number for SA lookup and
//! anti-replay, and computes the ICV with the ICV field zeroed ([`Packet::icv_mut`]) and the
//! mutable IP fields zeroed ([`crate::ipv4::Packet::zero_mutable_options_for_ah`],
//! [`crate::ipv6::zero_mutable_option_data`]).

use crate::error::check_len;
use crate::ip::{IpProtocol, IpVersion};
use crate::{Error, Result};

mod field {
    use core::ops::Range;

    pub(super) const NEXT_HEADER: usize = 0;
    pub(super) const PAYLOAD_LEN: usize = 1;
    pub(super) const RESERVED: Range<usize> = 2..4;
    pub(super) const SPI: Range<usize> = 4..8;
    pub(super) const SEQUENCE: Range<usize> = 8..12;
}

/// Length of the AH header without the ICV.
pub const HEADER_LEN: usize = field::SEQUENCE.end;
/// Largest AH header: Payload Len 255, (255 + 2) × 4 bytes.
pub const MAX_HEADER_LEN: usize = (255 + 2) * 4;

const WHAT: &str = "AH header";

/// A read/write view of an AH header followed by the protected payload.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Next Header   |  Payload Len  |          RESERVED             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                 Security Parameters Index (SPI)               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Sequence Number Field                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                                                               |
/// +                Integrity Check Value-ICV (variable)           |
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// (RFC 4302 §2, Figure 1.) Payload Len is the AH length in 4-byte words minus 2 (§2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; accessors may panic on a short buffer.
    pub fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps untrusted bytes.
    ///
    /// Errors: [`Error::Truncated`] below 12 bytes or below the length Payload Len gives;
    /// [`Error::BadLength`] if that length is under 12 (Payload Len 0).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// The checks of [`Packet::new_checked`].
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        check_len(WHAT, data, HEADER_LEN)?;
        let len = self.header_len();
        if len < HEADER_LEN {
            return Err(Error::BadLength { what: WHAT, len });
        }
        check_len(WHAT, data, len)
    }

    /// Checks the alignment RFC 4302 §3.3.3.2.1 requires of the whole AH: a multiple of 4 bytes
    /// in IPv4 (always true by the length rule) and of 8 bytes in IPv6.
    pub fn check_alignment(&self, version: IpVersion) -> Result<()> {
        check_alignment(self.header_len(), version)
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Next Header: the protocol after AH.
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol(self.buffer.as_ref()[field::NEXT_HEADER])
    }

    /// The raw Payload Len field.
    pub fn payload_len(&self) -> u8 {
        self.buffer.as_ref()[field::PAYLOAD_LEN]
    }

    /// The AH length in bytes, ICV included: (Payload Len + 2) × 4 (RFC 4302 §2.2).
    pub fn header_len(&self) -> usize {
        (usize::from(self.payload_len()) + 2) * 4
    }

    /// The RESERVED field (zero from conforming senders; ignored on receipt, RFC 4302 §2.3).
    pub fn reserved(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::RESERVED];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// Security Parameters Index.
    pub fn spi(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::SPI];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// Sequence Number (low 32 bits with ESN).
    pub fn sequence_number(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::SEQUENCE];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// The ICV field (with any ICV padding the algorithm's length leaves).
    pub fn icv(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }

    /// What follows the AH header: the protected upper-layer data or inner packet.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets Next Header.
    pub fn set_next_header(&mut self, next: IpProtocol) {
        self.buffer.as_mut()[field::NEXT_HEADER] = next.0;
    }

    /// Sets the raw Payload Len field.
    pub fn set_payload_len(&mut self, len: u8) {
        self.buffer.as_mut()[field::PAYLOAD_LEN] = len;
    }

    /// Sets RESERVED.
    pub fn set_reserved(&mut self, value: u16) {
        self.buffer.as_mut()[field::RESERVED].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets the SPI.
    pub fn set_spi(&mut self, spi: u32) {
        self.buffer.as_mut()[field::SPI].copy_from_slice(&spi.to_be_bytes());
    }

    /// Sets the sequence number.
    pub fn set_sequence_number(&mut self, seq: u32) {
        self.buffer.as_mut()[field::SEQUENCE].copy_from_slice(&seq.to_be_bytes());
    }

    /// The ICV field, writable: zero it before computing the ICV, then store the result.
    pub fn icv_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }

    /// The payload, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        &mut self.buffer.as_mut()[start..]
    }
}

fn check_alignment(len: usize, version: IpVersion) -> Result<()> {
    let align = match version {
        IpVersion::V4 => 4,
        IpVersion::V6 => 8,
    };
    if len % align == 0 {
        Ok(())
    } else {
        Err(Error::BadLength {
            what: "AH length (alignment)",
            len,
        })
    }
}

/// The AH header, owned. The ICV bytes are not held: read them through [`Packet::icv`];
/// [`Repr::emit`] writes the ICV field as zeros, ready for the ICV computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Next Header.
    pub next_header: IpProtocol,
    /// Security Parameters Index (never 0 on the wire).
    pub spi: u32,
    /// Sequence Number (low 32 bits).
    pub sequence_number: u32,
    /// Length of the ICV field, padding included (a multiple of 4, and 8n + 4 over IPv6).
    pub icv_len: usize,
}

impl Repr {
    /// Parses an AH header carried in an IP packet of `version`.
    ///
    /// Errors: the [`Packet::check_len`] errors; [`Error::BadLength`] for a misaligned length;
    /// [`Error::BadValue`] for SPI 0 (RFC 4302 §2.4). RESERVED is ignored, as §2.3 says.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>, version: IpVersion) -> Result<Self> {
        packet.check_len()?;
        packet.check_alignment(version)?;
        if packet.spi() == 0 {
            return Err(Error::BadValue {
                what: "AH SPI",
                value: 0,
            });
        }
        Ok(Self {
            next_header: packet.next_header(),
            spi: packet.spi(),
            sequence_number: packet.sequence_number(),
            icv_len: packet.icv().len(),
        })
    }

    /// Bytes [`Repr::emit`] writes: 12 plus the ICV length.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.icv_len
    }

    /// Writes the header, RESERVED and the ICV field zeroed, into the start of `buf`.
    ///
    /// Errors: [`Error::BufferTooSmall`]; [`Error::BadLength`] if the ICV length is not a
    /// multiple of 4, too large, or misaligned for `version`; [`Error::BadValue`] for SPI 0.
    pub fn emit(&self, buf: &mut [u8], version: IpVersion) -> Result<()> {
        let len = self.buffer_len();
        if len % 4 != 0 || len > MAX_HEADER_LEN {
            return Err(Error::BadLength {
                what: "AH ICV length",
                len: self.icv_len,
            });
        }
        check_alignment(len, version)?;
        if self.spi == 0 {
            return Err(Error::BadValue {
                what: "AH SPI",
                value: 0,
            });
        }
        if buf.len() < len {
            return Err(Error::BufferTooSmall {
                what: WHAT,
                need: len,
                have: buf.len(),
            });
        }
        let mut packet = Packet::new_unchecked(&mut buf[..len]);
        packet.set_next_header(self.next_header);
        // Fits: len <= MAX_HEADER_LEN, checked above.
        packet.set_payload_len((len / 4 - 2) as u8);
        packet.set_reserved(0);
        packet.set_spi(self.spi);
        packet.set_sequence_number(self.sequence_number);
        packet.icv_mut().fill(0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Transport-mode AH over UDP with HMAC-SHA-256-128 (16-byte ICV): Payload Len 5, 28 bytes,
    /// then 4 payload bytes.
    const KNOWN: [u8; 32] = [
        0x11, 0x05, 0x00, 0x00, 0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x2a, //
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, // ICV
        0xde, 0xad, 0xbe, 0xef,
    ];

    #[test]
    fn parse_and_emit_known_header() {
        let p = Packet::new_checked(&KNOWN[..]).unwrap();
        assert_eq!(p.next_header(), IpProtocol::UDP);
        assert_eq!((p.payload_len(), p.header_len()), (5, 28));
        assert_eq!(
            (p.spi(), p.sequence_number(), p.reserved()),
            (0xcafe_babe, 42, 0)
        );
        assert_eq!(p.icv(), &KNOWN[12..28]);
        assert_eq!(p.payload(), &[0xde, 0xad, 0xbe, 0xef]);
        let r = Repr::parse(&p, IpVersion::V4).unwrap();
        assert_eq!(r.icv_len, 16);
        let mut out = [0xffu8; 28];
        r.emit(&mut out, IpVersion::V4).unwrap();
        assert_eq!(out[..12], KNOWN[..12]);
        assert_eq!(out[12..], [0u8; 16]);
    }

    #[test]
    fn ipv6_needs_8_byte_alignment() {
        let p = Packet::new_checked(&KNOWN[..]).unwrap();
        assert_eq!(
            Repr::parse(&p, IpVersion::V6),
            Err(Error::BadLength {
                what: "AH length (alignment)",
                len: 28
            })
        );
        // 12-byte ICV (HMAC-SHA1-96): 24 bytes, fine for both.
        let r = Repr {
            next_header: IpProtocol::TCP,
            spi: 1,
            sequence_number: 1,
            icv_len: 12,
        };
        let mut buf = [0u8; 24];
        r.emit(&mut buf, IpVersion::V6).unwrap();
        assert_eq!(buf[1], 4);
        let r16 = Repr { icv_len: 16, ..r };
        assert!(matches!(
            r16.emit(&mut [0u8; 28], IpVersion::V6),
            Err(Error::BadLength { .. })
        ));
        let r5 = Repr { icv_len: 5, ..r };
        assert!(matches!(
            r5.emit(&mut [0u8; 28], IpVersion::V4),
            Err(Error::BadLength { .. })
        ));
        assert!(matches!(
            r.emit(&mut [0u8; 23], IpVersion::V4),
            Err(Error::BufferTooSmall { .. })
        ));
    }

    #[test]
    fn bad_fields_rejected() {
        let mut b = KNOWN;
        b[1] = 0; // 8 bytes: shorter than the fixed part
        assert_eq!(
            Packet::new_checked(&b[..]),
            Err(Error::BadLength { what: WHAT, len: 8 })
        );
        let mut b = KNOWN;
        b[4..8].fill(0);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(
            Repr::parse(&p, IpVersion::V4),
            Err(Error::BadValue {
                what: "AH SPI",
                value: 0
            })
        );
        // RESERVED non-zero is ignored on receipt (RFC 4302 §2.3), but visible.
        let mut b = KNOWN;
        b[2] = 0x80;
        let p = Packet::new_checked(&b[..]).unwrap();
        assert!(Repr::parse(&p, IpVersion::V4).is_ok());
        assert_eq!(p.reserved(), 0x8000);
    }

    #[test]
    fn truncated_at_every_length_is_an_error() {
        for len in 0..28 {
            assert!(matches!(
                Packet::new_checked(&KNOWN[..len]),
                Err(Error::Truncated { .. })
            ));
        }
    }

    proptest! {
        #[test]
        fn round_trip(nh in any::<u8>(), spi in 1u32.., seq in any::<u32>(), words in 0usize..40,
                      six in any::<bool>()) {
            let (version, icv_len) = if six { (IpVersion::V6, 4 + 8 * words) } else { (IpVersion::V4, 4 * words) };
            let r = Repr { next_header: IpProtocol(nh), spi, sequence_number: seq, icv_len };
            let mut buf = vec![0u8; r.buffer_len()];
            r.emit(&mut buf, version).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Repr::parse(&p, version).unwrap(), r);
        }
    }
}
