//! The fixed 28-byte IKE header (RFC 7296 §3.1): a zero-copy view and an owned repr.
//!
//! Every IKE datagram on UDP 500 (or 4500 after the non-ESP marker) starts with this header; the
//! IKE endpoint reads the SPIs from it to find the IKE SA before anything else is parsed.
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       IKE SA Initiator's SPI                  |
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       IKE SA Responder's SPI                  |
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                          Message ID                           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                            Length                             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::iana::{ExchangeType, PayloadType};
use crate::error::{Error, Result};

/// Byte ranges of the IKE header fields.
pub mod field {
    use core::ops::Range;
    /// Initiator's SPI.
    pub const SPI_I: Range<usize> = 0..8;
    /// Responder's SPI.
    pub const SPI_R: Range<usize> = 8..16;
    /// Next Payload.
    pub const NEXT_PAYLOAD: usize = 16;
    /// Major (high nibble) and minor (low nibble) version.
    pub const VERSION: usize = 17;
    /// Exchange Type.
    pub const EXCHANGE_TYPE: usize = 18;
    /// Flags.
    pub const FLAGS: usize = 19;
    /// Message ID.
    pub const MESSAGE_ID: Range<usize> = 20..24;
    /// Length of the whole message, header included.
    pub const LENGTH: Range<usize> = 24..28;
}

/// Length of the IKE header.
pub const HEADER_LEN: usize = 28;

/// The only major version this crate speaks (RFC 7296 §2.5).
pub const IKE_MAJOR_VERSION: u8 = 2;

const WHAT: &str = "IKE header";

/// The IKE header flags octet (RFC 7296 §3.1). Reserved bits are dropped on parse (they "MUST
/// be ignored on receipt") and sent as zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IkeFlags(u8);

impl IkeFlags {
    /// I (Initiator): set by the original initiator of the IKE SA.
    pub const INITIATOR: Self = Self(0x08);
    /// V (Version): the sender can speak a higher major version; never set by us.
    pub const VERSION: Self = Self(0x10);
    /// R (Response): this message is a response.
    pub const RESPONSE: Self = Self(0x20);
    const DEFINED: u8 = 0x38;

    /// Flags from the wire octet; reserved bits are ignored.
    pub fn from_bits(bits: u8) -> Self {
        Self(bits & Self::DEFINED)
    }

    /// The wire octet.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// Whether every flag of `other` is set here.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the I (Initiator) flag is set.
    pub fn initiator(self) -> bool {
        self.contains(Self::INITIATOR)
    }

    /// Whether the R (Response) flag is set.
    pub fn response(self) -> bool {
        self.contains(Self::RESPONSE)
    }

    /// Whether the V (Version) flag is set.
    pub fn version(self) -> bool {
        self.contains(Self::VERSION)
    }
}

impl core::ops::BitOr for IkeFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// A zero-copy view of an IKE header at the start of a buffer.
#[derive(Debug, Clone)]
pub struct IkeHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> IkeHeader<T> {
    /// Wraps `buffer` without checks; accessors may panic on a short buffer. Use
    /// [`new_checked`](Self::new_checked) for untrusted input.
    pub fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps `buffer` after checking it holds a full header, a major version of 2, and that the
    /// Length field is at least 28 and no larger than the buffer (RFC 7296 §3.1, §2.5).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let h = Self::new_unchecked(buffer);
        h.check()?;
        Ok(h)
    }

    fn check(&self) -> Result<()> {
        let buf = self.buffer.as_ref();
        if buf.len() < HEADER_LEN {
            return Err(Error::Truncated {
                what: WHAT,
                need: HEADER_LEN,
                have: buf.len(),
            });
        }
        // §2.5: a major version other than 2 is answered with INVALID_MAJOR_VERSION; the minor
        // version is ignored.
        if self.major_version() != IKE_MAJOR_VERSION {
            return Err(Error::BadVersion {
                what: WHAT,
                version: self.major_version(),
            });
        }
        let len = self.length() as usize;
        if len < HEADER_LEN || len > buf.len() {
            return Err(Error::BadLength { what: WHAT, len });
        }
        Ok(())
    }

    /// Consumes the view, returning the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Initiator's SPI.
    pub fn spi_i(&self) -> u64 {
        u64::from_be_bytes(self.b()[field::SPI_I].try_into().expect("8-byte range"))
    }

    /// Responder's SPI.
    pub fn spi_r(&self) -> u64 {
        u64::from_be_bytes(self.b()[field::SPI_R].try_into().expect("8-byte range"))
    }

    /// Type of the first payload.
    pub fn next_payload(&self) -> PayloadType {
        PayloadType(self.b()[field::NEXT_PAYLOAD])
    }

    /// Major version (high nibble).
    pub fn major_version(&self) -> u8 {
        self.b()[field::VERSION] >> 4
    }

    /// Minor version (low nibble); ignored by IKEv2 (§2.5).
    pub fn minor_version(&self) -> u8 {
        self.b()[field::VERSION] & 0x0f
    }

    /// Exchange type.
    pub fn exchange_type(&self) -> ExchangeType {
        ExchangeType(self.b()[field::EXCHANGE_TYPE])
    }

    /// Flags (reserved bits dropped).
    pub fn flags(&self) -> IkeFlags {
        IkeFlags::from_bits(self.b()[field::FLAGS])
    }

    /// Message ID.
    pub fn message_id(&self) -> u32 {
        u32::from_be_bytes(
            self.b()[field::MESSAGE_ID]
                .try_into()
                .expect("4-byte range"),
        )
    }

    /// Length of the whole message in octets.
    pub fn length(&self) -> u32 {
        u32::from_be_bytes(self.b()[field::LENGTH].try_into().expect("4-byte range"))
    }

    /// The bytes after the header up to Length (the payload chain).
    pub fn payload(&self) -> &[u8] {
        &self.b()[HEADER_LEN..self.length() as usize]
    }
}

/// The owned form of an IKE header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IkeHeaderRepr {
    /// Initiator's SPI.
    pub spi_i: u64,
    /// Responder's SPI (zero in the first IKE_SA_INIT request).
    pub spi_r: u64,
    /// Type of the first payload.
    pub next_payload: PayloadType,
    /// Exchange type.
    pub exchange_type: ExchangeType,
    /// Flags.
    pub flags: IkeFlags,
    /// Message ID.
    pub message_id: u32,
    /// Length of the whole message, header included.
    pub length: u32,
}

impl IkeHeaderRepr {
    /// Reads the header from a checked view.
    pub fn parse<T: AsRef<[u8]>>(h: &IkeHeader<T>) -> Self {
        Self {
            spi_i: h.spi_i(),
            spi_r: h.spi_r(),
            next_payload: h.next_payload(),
            exchange_type: h.exchange_type(),
            flags: h.flags(),
            message_id: h.message_id(),
            length: h.length(),
        }
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header (version 2.0) into the first 28 bytes of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let Some(b) = buf.get_mut(..HEADER_LEN) else {
            return Err(Error::BufferTooSmall {
                what: WHAT,
                need: HEADER_LEN,
                have: buf.len(),
            });
        };
        b[field::SPI_I].copy_from_slice(&self.spi_i.to_be_bytes());
        b[field::SPI_R].copy_from_slice(&self.spi_r.to_be_bytes());
        b[field::NEXT_PAYLOAD] = self.next_payload.0;
        b[field::VERSION] = IKE_MAJOR_VERSION << 4;
        b[field::EXCHANGE_TYPE] = self.exchange_type.0;
        b[field::FLAGS] = self.flags.bits();
        b[field::MESSAGE_ID].copy_from_slice(&self.message_id.to_be_bytes());
        b[field::LENGTH].copy_from_slice(&self.length.to_be_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // An IKE_SA_INIT request header: SPIi 0x0102030405060708, SPIr 0, next SA, v2.0, flags I,
    // message ID 0, length 28.
    const BYTES: [u8; 28] = [
        1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 33, 0x20, 34, 0x08, 0, 0, 0, 0, 0, 0, 0, 28,
    ];

    fn repr() -> IkeHeaderRepr {
        IkeHeaderRepr {
            spi_i: 0x0102_0304_0506_0708,
            spi_r: 0,
            next_payload: PayloadType::SA,
            exchange_type: ExchangeType::IKE_SA_INIT,
            flags: IkeFlags::INITIATOR,
            message_id: 0,
            length: 28,
        }
    }

    #[test]
    fn parse_known_bytes() {
        let h = IkeHeader::new_checked(&BYTES[..]).unwrap();
        assert_eq!(IkeHeaderRepr::parse(&h), repr());
        assert!(h.flags().initiator() && !h.flags().response());
        assert!(h.payload().is_empty());
    }

    #[test]
    fn emit_known_bytes() {
        let mut buf = [0xffu8; 28];
        repr().emit(&mut buf).unwrap();
        assert_eq!(buf, BYTES);
        assert!(matches!(
            repr().emit(&mut [0u8; 27]),
            Err(Error::BufferTooSmall { need: 28, .. })
        ));
    }

    #[test]
    fn truncated_at_every_length() {
        for n in 0..HEADER_LEN {
            assert!(IkeHeader::new_checked(&BYTES[..n]).is_err(), "len {n}");
        }
    }

    #[test]
    fn minor_version_and_reserved_flags_are_ignored_major_is_checked() {
        let mut b = BYTES;
        b[field::VERSION] = 0x27;
        b[field::FLAGS] = 0xc7 | 0x20;
        let h = IkeHeader::new_checked(&b[..]).unwrap();
        assert_eq!(h.minor_version(), 7);
        assert_eq!(h.flags(), IkeFlags::RESPONSE);
        b[field::VERSION] = 0x10;
        assert_eq!(
            IkeHeader::new_checked(&b[..]).unwrap_err(),
            Error::BadVersion {
                what: WHAT,
                version: 1
            }
        );
    }

    #[test]
    fn length_must_be_at_least_28_and_within_buffer() {
        let mut b = BYTES;
        b[27] = 27;
        assert!(matches!(
            IkeHeader::new_checked(&b[..]),
            Err(Error::BadLength { len: 27, .. })
        ));
        b[27] = 29;
        assert!(matches!(
            IkeHeader::new_checked(&b[..]),
            Err(Error::BadLength { len: 29, .. })
        ));
    }
}
