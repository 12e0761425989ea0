//! UDP (RFC 768): a zero-copy [`Packet`] view with pseudo-header checksums over IPv4 or IPv6, and
//! an owned [`Repr`].
//!
//! UDP carries IKE (ports 500 and 4500) and, with NAT traversal, ESP (RFC 3948, see
//! [`crate::natt`]). RFC 3948 §2.1 lets ESP-in-UDP senders over IPv4 leave the checksum zero.

use crate::checksum;
use crate::error::check_len;
use crate::ip::{AddrPair, IpProtocol, IpVersion};
use crate::{Error, Result};

mod field {
    use core::ops::Range;

    pub(super) const SRC_PORT: Range<usize> = 0..2;
    pub(super) const DST_PORT: Range<usize> = 2..4;
    pub(super) const LENGTH: Range<usize> = 4..6;
    pub(super) const CHECKSUM: Range<usize> = 6..8;
}

/// Length of the UDP header.
pub const HEADER_LEN: usize = field::CHECKSUM.end;

const WHAT: &str = "UDP header";

/// A read/write view of a UDP datagram.
///
/// ```text
///  0      7 8     15 16    23 24    31
/// +--------+--------+--------+--------+
/// |     Source      |   Destination   |
/// |      Port       |      Port       |
/// +--------+--------+--------+--------+
/// |                 |                 |
/// |     Length      |    Checksum     |
/// +--------+--------+--------+--------+
/// |          data octets ...
/// +---------------- ...
/// ```
/// (RFC 768.) The buffer may be longer than Length; [`Packet::payload`] stops at Length.
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
    /// Errors: [`Error::Truncated`] if the buffer is shorter than 8 bytes or than Length;
    /// [`Error::BadLength`] if Length < 8.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// The checks of [`Packet::new_checked`].
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        check_len(WHAT, data, HEADER_LEN)?;
        let len = usize::from(self.len());
        if len < HEADER_LEN {
            return Err(Error::BadLength { what: WHAT, len });
        }
        check_len("UDP datagram", data, len)
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn read_u16(&self, range: core::ops::Range<usize>) -> u16 {
        let b = &self.buffer.as_ref()[range];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        self.read_u16(field::SRC_PORT)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        self.read_u16(field::DST_PORT)
    }

    /// Length: header plus data.
    #[allow(clippy::len_without_is_empty)] // a wire field, not a container length
    pub fn len(&self) -> u16 {
        self.read_u16(field::LENGTH)
    }

    /// The Checksum field (0: none, allowed on IPv4 only).
    pub fn checksum(&self) -> u16 {
        self.read_u16(field::CHECKSUM)
    }

    /// The data after the header, up to Length.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..usize::from(self.len())]
    }

    fn compute_checksum(&self, addrs: &AddrPair) -> u16 {
        let datagram = &self.buffer.as_ref()[..usize::from(self.len())];
        checksum::pseudo_header(addrs, IpProtocol::UDP, u32::from(self.len()))
            .add_bytes(datagram)
            .finish()
    }

    /// Whether the checksum verifies over the pseudo-header of `addrs`.
    ///
    /// A zero checksum means "none" and is accepted over IPv4 (RFC 768); over IPv6 it is
    /// rejected (RFC 8200 §8.1; the RFC 6935 tunnel exception is not used for ESP or IKE).
    pub fn verify_checksum(&self, addrs: &AddrPair) -> bool {
        if self.checksum() == 0 {
            return addrs.version() == IpVersion::V4;
        }
        self.compute_checksum(addrs) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn write_u16(&mut self, range: core::ops::Range<usize>, value: u16) {
        self.buffer.as_mut()[range].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets the source port.
    pub fn set_src_port(&mut self, port: u16) {
        self.write_u16(field::SRC_PORT, port);
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, port: u16) {
        self.write_u16(field::DST_PORT, port);
    }

    /// Sets Length.
    pub fn set_len(&mut self, len: u16) {
        self.write_u16(field::LENGTH, len);
    }

    /// Sets the Checksum field.
    pub fn set_checksum(&mut self, checksum: u16) {
        self.write_u16(field::CHECKSUM, checksum);
    }

    /// Computes and stores the checksum over the pseudo-header, header and data (a computed 0 is
    /// sent as 0xffff, RFC 768).
    pub fn fill_checksum(&mut self, addrs: &AddrPair) {
        self.set_checksum(0);
        let sum = self.compute_checksum(addrs);
        self.set_checksum(if sum == 0 { 0xffff } else { sum });
    }

    /// The data, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let len = usize::from(self.len());
        &mut self.buffer.as_mut()[HEADER_LEN..len]
    }
}

/// How [`Repr::emit`] fills the checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UdpChecksum {
    /// Leave it zero: only valid over IPv4 (RFC 768; RFC 3948 §2.1 for ESP-in-UDP).
    None,
    /// Compute it over the pseudo-header of these addresses.
    Compute(AddrPair),
}

/// A UDP header, owned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Length of the data after the header.
    pub payload_len: usize,
}

impl Repr {
    /// Parses a datagram, verifying its checksum over `addrs` (see [`Packet::verify_checksum`]).
    ///
    /// Errors: the [`Packet::check_len`] errors; [`Error::BadChecksum`].
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>, addrs: &AddrPair) -> Result<Self> {
        packet.check_len()?;
        if !packet.verify_checksum(addrs) {
            return Err(Error::BadChecksum { what: WHAT });
        }
        Ok(Self {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            payload_len: packet.payload().len(),
        })
    }

    /// Bytes the datagram takes: header plus data.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }

    /// Writes the header into `buf`, whose bytes `8..8 + payload_len` must already hold the data
    /// (it is covered by the checksum); in-place encapsulation writes the data first.
    ///
    /// Errors: [`Error::BufferTooSmall`] if `buf` is shorter than [`Repr::buffer_len`];
    /// [`Error::BadLength`] if the datagram exceeds 65535 bytes.
    pub fn emit(&self, buf: &mut [u8], checksum: UdpChecksum) -> Result<()> {
        let need = self.buffer_len();
        if buf.len() < need {
            return Err(Error::BufferTooSmall {
                what: WHAT,
                need,
                have: buf.len(),
            });
        }
        let len = u16::try_from(need).map_err(|_| Error::BadLength {
            what: WHAT,
            len: need,
        })?;
        let mut packet = Packet::new_unchecked(&mut buf[..need]);
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_len(len);
        match checksum {
            UdpChecksum::None => packet.set_checksum(0),
            UdpChecksum::Compute(addrs) => packet.fill_checksum(&addrs),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv4Addr, Ipv6Addr};
    use proptest::prelude::*;

    fn v4() -> AddrPair {
        AddrPair::V4 {
            src: Ipv4Addr::new(192, 0, 2, 1),
            dst: Ipv4Addr::new(192, 0, 2, 2),
        }
    }

    fn v6() -> AddrPair {
        AddrPair::V6 {
            src: "2001:db8::1".parse::<Ipv6Addr>().unwrap(),
            dst: "2001:db8::2".parse::<Ipv6Addr>().unwrap(),
        }
    }

    /// 500 → 500, 4 data bytes, checksum worked out by hand over the IPv4 pseudo-header:
    /// c000+0201+c000+0202+0011+000c + 01f4+01f4+000c + 0102+0304 = 0x28c19 → 0x8c1b → 0x73e4
    /// (scapy agrees).
    const KNOWN: [u8; 12] = [0x01, 0xf4, 0x01, 0xf4, 0x00, 0x0c, 0x73, 0xe4, 1, 2, 3, 4];

    #[test]
    fn parse_known_datagram() {
        let p = Packet::new_checked(&KNOWN[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port(), p.len()), (500, 500, 12));
        assert_eq!(p.checksum(), 0x73e4);
        assert!(p.verify_checksum(&v4()));
        assert_eq!(p.payload(), &[1, 2, 3, 4]);
        let r = Repr::parse(&p, &v4()).unwrap();
        assert_eq!(
            r,
            Repr {
                src_port: 500,
                dst_port: 500,
                payload_len: 4
            }
        );
        let mut out = [0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
        r.emit(&mut out, UdpChecksum::Compute(v4())).unwrap();
        assert_eq!(out, KNOWN);
    }

    #[test]
    fn zero_checksum_only_over_ipv4() {
        let mut b = KNOWN;
        b[6..8].fill(0);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert!(Repr::parse(&p, &v4()).is_ok());
        assert_eq!(
            Repr::parse(&p, &v6()),
            Err(Error::BadChecksum { what: WHAT })
        );
        let mut out = [0u8; 12];
        let r = Repr::parse(&p, &v4()).unwrap();
        r.emit(&mut out, UdpChecksum::None).unwrap();
        assert_eq!(&out[..8], &b[..8]);
    }

    #[test]
    fn bad_checksum_and_lengths_rejected() {
        let mut b = KNOWN;
        b[8] ^= 1;
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(
            Repr::parse(&p, &v4()),
            Err(Error::BadChecksum { what: WHAT })
        );
        let mut b = KNOWN;
        b[4..6].copy_from_slice(&7u16.to_be_bytes());
        assert_eq!(
            Packet::new_checked(&b[..]),
            Err(Error::BadLength { what: WHAT, len: 7 })
        );
        let r = Repr {
            src_port: 1,
            dst_port: 2,
            payload_len: 70000,
        };
        assert!(matches!(
            r.emit(&mut [0u8; 8], UdpChecksum::None),
            Err(Error::BufferTooSmall { .. })
        ));
        assert!(matches!(
            r.emit(&mut vec![0u8; 70008], UdpChecksum::None),
            Err(Error::BadLength { .. })
        ));
    }

    #[test]
    fn truncated_at_every_length_is_an_error() {
        for len in 0..KNOWN.len() {
            assert!(matches!(
                Packet::new_checked(&KNOWN[..len]),
                Err(Error::Truncated { .. })
            ));
        }
    }

    proptest! {
        #[test]
        fn round_trip_both_families(sp in any::<u16>(), dp in any::<u16>(),
                                    data in proptest::collection::vec(any::<u8>(), 0..64),
                                    six in any::<bool>()) {
            let addrs = if six { v6() } else { v4() };
            let r = Repr { src_port: sp, dst_port: dp, payload_len: data.len() };
            let mut buf = vec![0u8; 8];
            buf.extend_from_slice(&data);
            r.emit(&mut buf, UdpChecksum::Compute(addrs)).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_ne!(p.checksum(), 0);
            prop_assert_eq!(Repr::parse(&p, &addrs).unwrap(), r);
        }
    }
}
