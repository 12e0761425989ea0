//! ESP (RFC 4303): the cleartext header view ([`Packet`], [`Repr`]) and the trailer that sits at
//! the end of the decrypted payload ([`Trailer`]).
//!
//! Outbound, the data plane writes the inner packet, appends a [`Trailer`] sized by
//! [`Trailer::for_payload`], encrypts in place and writes the header with [`Repr::emit`] into the
//! headroom. Inbound, after verifying and decrypting, [`Trailer::parse`] finds where the inner
//! packet ends and what protocol it is.

use crate::error::check_len;
use crate::ip::IpProtocol;
use crate::{Error, Result};

mod field {
    use core::ops::Range;

    pub(super) const SPI: Range<usize> = 0..4;
    pub(super) const SEQUENCE: Range<usize> = 4..8;
}

/// Length of the ESP header (SPI and sequence number).
pub const HEADER_LEN: usize = field::SEQUENCE.end;
/// Length of the fixed part of the trailer (Pad Length and Next Header).
pub const TRAILER_LEN: usize = 2;

const WHAT: &str = "ESP header";

/// A read/write view of an ESP packet (header, then opaque encrypted payload).
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ----
/// |               Security Parameters Index (SPI)                 | ^Int.
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |Cov-
/// |                      Sequence Number                          | |ered
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ | ----
/// |                    Payload Data* (variable)                   | |   ^
/// ~                                                               ~ |   |
/// |                                                               | |Conf.
/// +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |Cov-
/// |               |     Padding (0-255 bytes)                     | |ered*
/// +-+-+-+-+-+-+-+-+               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |   |
/// |                               |  Pad Length   | Next Header   | v   v
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ------
/// |         Integrity Check Value-ICV   (variable)                |
/// ~                                                               ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// (RFC 4303 §2, Figure 1.) Only the first 8 bytes are readable before decryption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; accessors may panic on a short buffer.
    pub fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps untrusted bytes. Errors: [`Error::Truncated`] below 8 bytes.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// The checks of [`Packet::new_checked`].
    pub fn check_len(&self) -> Result<()> {
        check_len(WHAT, self.buffer.as_ref(), HEADER_LEN)
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Security Parameters Index.
    pub fn spi(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::SPI];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// Sequence Number (the low 32 bits when ESN is in use, RFC 4303 §2.2.1).
    pub fn sequence_number(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::SEQUENCE];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// Everything after the header: IV (if any), ciphertext and ICV.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the SPI.
    pub fn set_spi(&mut self, spi: u32) {
        self.buffer.as_mut()[field::SPI].copy_from_slice(&spi.to_be_bytes());
    }

    /// Sets the sequence number.
    pub fn set_sequence_number(&mut self, seq: u32) {
        self.buffer.as_mut()[field::SEQUENCE].copy_from_slice(&seq.to_be_bytes());
    }

    /// Everything after the header, writable (for in-place encryption).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// The ESP header, owned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Security Parameters Index (never 0 on the wire).
    pub spi: u32,
    /// Sequence Number (low 32 bits).
    pub sequence_number: u32,
}

impl Repr {
    /// Parses the header.
    ///
    /// Errors: [`Error::Truncated`]; [`Error::BadValue`] for SPI 0, which "MUST NOT be sent on
    /// the wire" (RFC 4303 §2.1) and, over UDP 4500, is the non-ESP marker.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Self> {
        packet.check_len()?;
        if packet.spi() == 0 {
            return Err(Error::BadValue {
                what: "ESP SPI",
                value: 0,
            });
        }
        Ok(Self {
            spi: packet.spi(),
            sequence_number: packet.sequence_number(),
        })
    }

    /// Bytes [`Repr::emit`] writes: 8.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header into the first 8 bytes of `buf`.
    ///
    /// Errors: [`Error::BufferTooSmall`]; [`Error::BadValue`] for SPI 0.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        if buf.len() < HEADER_LEN {
            return Err(Error::BufferTooSmall {
                what: WHAT,
                need: HEADER_LEN,
                have: buf.len(),
            });
        }
        if self.spi == 0 {
            return Err(Error::BadValue {
                what: "ESP SPI",
                value: 0,
            });
        }
        let mut packet = Packet::new_unchecked(&mut buf[..HEADER_LEN]);
        packet.set_spi(self.spi);
        packet.set_sequence_number(self.sequence_number);
        Ok(())
    }
}

/// The ESP trailer: padding, Pad Length and Next Header at the end of the plaintext.
///
/// ```text
/// | Payload Data (payload_len) | 1 2 3 ... pad_len | Pad Length | Next Header | [ICV] |
/// ```
/// Padding uses RFC 4303 §2.4's default content: the bytes 1, 2, 3, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Trailer {
    /// Length of the payload data before the padding (the inner packet).
    pub payload_len: usize,
    /// Number of padding bytes.
    pub pad_len: u8,
    /// Protocol of the payload data (IPV4/IPV6 in tunnel mode; NO_NEXT_HEADER for a dummy
    /// packet, RFC 4303 §2.6, which the receiver discards).
    pub next_header: IpProtocol,
}

impl Trailer {
    /// The trailer for `payload_len` bytes of payload, padded so that payload, padding and the
    /// 2 fixed bytes fill whole cipher blocks of `block_size` and end on a 4-byte boundary
    /// (RFC 4303 §2.4). Pass 1 (or 4) for stream and AEAD-counter-mode ciphers.
    ///
    /// Errors: [`Error::BadValue`] if `block_size` is 0 or needs more than 255 bytes of padding.
    pub fn for_payload(
        payload_len: usize,
        block_size: usize,
        next_header: IpProtocol,
    ) -> Result<Self> {
        Ok(Self {
            payload_len,
            pad_len: pad_len(payload_len, block_size)?,
            next_header,
        })
    }

    /// Total plaintext length: payload, padding and the 2 fixed bytes.
    pub fn plaintext_len(&self) -> usize {
        self.payload_len + self.buffer_len()
    }

    /// Bytes the trailer itself takes (padding plus 2).
    pub fn buffer_len(&self) -> usize {
        usize::from(self.pad_len) + TRAILER_LEN
    }

    /// Parses the trailer at the end of a decrypted payload. `plaintext` runs from the start of
    /// the payload data to the end of the packet; its last `icv_len` bytes are the ICV (pass 0
    /// if the ICV was already cut off).
    ///
    /// Errors: [`Error::Truncated`] if there is no room for the trailer; [`Error::BadLength`]
    /// if Pad Length exceeds what precedes it; [`Error::BadValue`] if a padding byte is not the
    /// RFC 4303 §2.4 default (its value is reported).
    pub fn parse(plaintext: &[u8], icv_len: usize) -> Result<Self> {
        let need = icv_len.saturating_add(TRAILER_LEN);
        check_len("ESP trailer", plaintext, need)?;
        let end = plaintext.len() - icv_len;
        let pad_len = plaintext[end - 2];
        let next_header = IpProtocol(plaintext[end - 1]);
        let before = end - TRAILER_LEN;
        let pad = usize::from(pad_len);
        if pad > before {
            return Err(Error::BadLength {
                what: "ESP pad length",
                len: pad,
            });
        }
        let payload_len = before - pad;
        // RFC 4303 §2.4: with default padding the receiver SHOULD check the padding content.
        for (i, &byte) in plaintext[payload_len..before].iter().enumerate() {
            if usize::from(byte) != i + 1 {
                return Err(Error::BadValue {
                    what: "ESP padding",
                    value: u32::from(byte),
                });
            }
        }
        Ok(Self {
            payload_len,
            pad_len,
            next_header,
        })
    }

    /// Writes padding, Pad Length and Next Header after the payload: into
    /// `plaintext[payload_len..plaintext_len()]`.
    ///
    /// Errors: [`Error::BufferTooSmall`] if `plaintext` is shorter than [`Trailer::plaintext_len`].
    pub fn emit(&self, plaintext: &mut [u8]) -> Result<()> {
        let need = self.plaintext_len();
        if plaintext.len() < need {
            return Err(Error::BufferTooSmall {
                what: "ESP trailer",
                need,
                have: plaintext.len(),
            });
        }
        let trailer = &mut plaintext[self.payload_len..need];
        let (pad, fixed) = trailer.split_at_mut(usize::from(self.pad_len));
        for (i, byte) in pad.iter_mut().enumerate() {
            // At most 255 bytes: `pad_len` is a u8.
            *byte = (i + 1) as u8;
        }
        fixed[0] = self.pad_len;
        fixed[1] = self.next_header.0;
        Ok(())
    }
}

/// Padding needed after `payload_len` bytes so that payload + padding + 2 is a multiple of both
/// `block_size` and 4 (RFC 4303 §2.4).
///
/// Errors: [`Error::BadValue`] if `block_size` is 0, or the alignment would need more than 255
/// bytes of padding (a block size over 256).
pub fn pad_len(payload_len: usize, block_size: usize) -> Result<u8> {
    if block_size == 0 || block_size > 256 {
        return Err(Error::BadValue {
            what: "ESP block size",
            value: u32::try_from(block_size).unwrap_or(u32::MAX),
        });
    }
    let align = lcm(block_size, 4);
    let rem = (payload_len % align + TRAILER_LEN) % align;
    let pad = if rem == 0 { 0 } else { align - rem };
    u8::try_from(pad).map_err(|_| Error::BadValue {
        what: "ESP block size",
        value: u32::try_from(block_size).unwrap_or(u32::MAX),
    })
}

fn lcm(a: usize, b: usize) -> usize {
    let (mut x, mut y) = (a, b);
    while y != 0 {
        (x, y) = (y, x % y);
    }
    a / x * b
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KNOWN: [u8; 12] = [0x12, 0x34, 0x56, 0x78, 0, 0, 0, 5, 0xaa, 0xbb, 0xcc, 0xdd];

    #[test]
    fn parse_and_emit_known_header() {
        let p = Packet::new_checked(&KNOWN[..]).unwrap();
        assert_eq!((p.spi(), p.sequence_number()), (0x1234_5678, 5));
        assert_eq!(p.payload(), &[0xaa, 0xbb, 0xcc, 0xdd]);
        let r = Repr::parse(&p).unwrap();
        let mut out = [0u8; 8];
        r.emit(&mut out).unwrap();
        assert_eq!(out, KNOWN[..8]);
        for len in 0..8 {
            assert!(matches!(
                Packet::new_checked(&KNOWN[..len]),
                Err(Error::Truncated { .. })
            ));
        }
        assert!(matches!(
            r.emit(&mut [0u8; 7]),
            Err(Error::BufferTooSmall { .. })
        ));
    }

    #[test]
    fn spi_zero_rejected() {
        let b = [0u8, 0, 0, 0, 0, 0, 0, 1];
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(
            Repr::parse(&p),
            Err(Error::BadValue {
                what: "ESP SPI",
                value: 0
            })
        );
        let r = Repr {
            spi: 0,
            sequence_number: 1,
        };
        assert!(r.emit(&mut [0u8; 8]).is_err());
    }

    #[test]
    fn known_trailer() {
        // 5-byte payload, AES-CBC (16-byte blocks): 5 + 9 + 2 = 16; then a 12-byte ICV.
        let mut pt = *b"hello\x01\x02\x03\x04\x05\x06\x07\x08\x09\x09\x04ICVICVICVICV";
        let t = Trailer::parse(&pt, 12).unwrap();
        assert_eq!(
            t,
            Trailer {
                payload_len: 5,
                pad_len: 9,
                next_header: IpProtocol::IPV4
            }
        );
        assert_eq!(Trailer::for_payload(5, 16, IpProtocol::IPV4), Ok(t));
        let mut out = [0u8; 16];
        out[..5].copy_from_slice(b"hello");
        t.emit(&mut out).unwrap();
        assert_eq!(out, pt[..16]);
        assert!(matches!(
            t.emit(&mut [0u8; 15]),
            Err(Error::BufferTooSmall { .. })
        ));

        pt[9] = 0x07; // fifth padding byte wrong
        assert_eq!(
            Trailer::parse(&pt, 12),
            Err(Error::BadValue {
                what: "ESP padding",
                value: 7
            })
        );
    }

    #[test]
    fn bad_trailers_rejected() {
        assert_eq!(
            Trailer::parse(&[0x01, 0x04], 1),
            Err(Error::Truncated {
                what: "ESP trailer",
                need: 3,
                have: 2
            })
        );
        assert_eq!(
            Trailer::parse(&[1, 2, 3, 0x04, 0x29], 0),
            Err(Error::BadLength {
                what: "ESP pad length",
                len: 4
            })
        );
        assert!(Trailer::parse(&[1, 0x04], usize::MAX).is_err());
        // No payload at all and no padding is fine (a dummy packet, RFC 4303 §2.6).
        assert_eq!(
            Trailer::parse(&[0, 59], 0).map(|t| (t.payload_len, t.next_header)),
            Ok((0, IpProtocol::NO_NEXT_HEADER))
        );
    }

    #[test]
    fn pad_len_rule() {
        // AES-GCM: block 1 → 4-byte alignment only.
        assert_eq!(pad_len(0, 1), Ok(2));
        assert_eq!(pad_len(2, 1), Ok(0));
        assert_eq!(pad_len(100, 16), Ok(10));
        assert_eq!(pad_len(14, 16), Ok(0));
        assert_eq!(pad_len(15, 8), Ok(7));
        assert_eq!(pad_len(0, 256), Ok(254));
        assert!(pad_len(0, 0).is_err());
        assert!(pad_len(0, 255).is_err()); // lcm 1020 needs up to 1018 bytes
        assert!(pad_len(0, 1 << 40).is_err());
    }

    proptest! {
        #[test]
        fn header_round_trip(spi in 1u32.., seq in any::<u32>()) {
            let r = Repr { spi, sequence_number: seq };
            let mut buf = [0u8; 8];
            r.emit(&mut buf).unwrap();
            prop_assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()).unwrap(), r);
        }

        #[test]
        fn trailer_round_trip(payload in proptest::collection::vec(any::<u8>(), 0..100),
                              bs in prop::sample::select(vec![1usize, 4, 8, 16, 32]),
                              nh in any::<u8>(), icv_len in 0usize..33) {
            let t = Trailer::for_payload(payload.len(), bs, IpProtocol(nh)).unwrap();
            prop_assert_eq!(t.plaintext_len() % bs.max(4), 0);
            let mut buf = payload.clone();
            buf.resize(t.plaintext_len() + icv_len, 0xee);
            t.emit(&mut buf).unwrap();
            prop_assert_eq!(Trailer::parse(&buf, icv_len).unwrap(), t);
            prop_assert_eq!(&buf[..payload.len()], &payload[..]);
        }

        #[test]
        fn arbitrary_trailers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40),
                                          icv_len in 0usize..48) {
            if let Ok(t) = Trailer::parse(&bytes, icv_len) {
                prop_assert!(t.plaintext_len() + icv_len == bytes.len());
            }
        }
    }
}
