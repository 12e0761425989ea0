//! IPv4 header (RFC 791): a zero-copy [`Packet`] view, an option iterator that classifies each
//! option for AH (RFC 4302 Appendix A.1), and an owned [`Repr`] for the option-less header.
//!
//! The data plane reads the outer header of inbound ESP/AH datagrams and the inner header of
//! tunnel-mode packets through [`Packet`], and writes the outer header of outbound packets with
//! [`Repr::emit`] into the headroom in front of the ESP header.

use core::net::Ipv4Addr;

use crate::checksum;
use crate::error::check_len;
use crate::ip::IpProtocol;
use crate::{Error, Result};

mod field {
    use core::ops::Range;

    pub(super) const VER_IHL: usize = 0;
    pub(super) const DSCP_ECN: usize = 1;
    pub(super) const LENGTH: Range<usize> = 2..4;
    pub(super) const IDENT: Range<usize> = 4..6;
    pub(super) const FLG_OFF: Range<usize> = 6..8;
    pub(super) const TTL: usize = 8;
    pub(super) const PROTOCOL: usize = 9;
    pub(super) const CHECKSUM: Range<usize> = 10..12;
    pub(super) const SRC_ADDR: Range<usize> = 12..16;
    pub(super) const DST_ADDR: Range<usize> = 16..20;
}

/// Length of the IPv4 header without options.
pub const HEADER_LEN: usize = field::DST_ADDR.end;
/// Largest IPv4 header (IHL 15).
pub const MAX_HEADER_LEN: usize = 60;

const WHAT: &str = "IPv4 header";
const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const FLAG_RESERVED: u16 = 0x8000;
const OFFSET_MASK: u16 = 0x1fff;

/// A read/write view of an IPv4 packet: header, options and payload.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version|  IHL  |    DSCP   |ECN|          Total Length         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         Identification        |Flags|      Fragment Offset    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Time to Live |    Protocol   |         Header Checksum       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       Source Address                          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Destination Address                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Options                    |    Padding    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// (RFC 791 §3.1; DSCP/ECN per RFC 2474 and RFC 3168.)
///
/// The buffer may be longer than Total Length (link-layer padding); [`Packet::payload`] stops at
/// Total Length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; accessors may panic on a short or inconsistent buffer.
    /// Use only on buffers this process wrote or already checked.
    pub fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps untrusted bytes, checking everything the accessors rely on.
    ///
    /// Errors: [`Error::Truncated`] if the buffer is shorter than 20 bytes, the IHL or the Total
    /// Length; [`Error::BadVersion`] if the version is not 4; [`Error::BadLength`] if IHL < 5 or
    /// Total Length < IHL × 4.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// The checks of [`Packet::new_checked`].
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        check_len(WHAT, data, HEADER_LEN)?;
        if self.version() != 4 {
            return Err(Error::BadVersion {
                what: WHAT,
                version: self.version(),
            });
        }
        let header_len = usize::from(self.header_len());
        if header_len < HEADER_LEN {
            return Err(Error::BadLength {
                what: WHAT,
                len: header_len,
            });
        }
        check_len(WHAT, data, header_len)?;
        let total_len = usize::from(self.total_len());
        if total_len < header_len {
            return Err(Error::BadLength {
                what: "IPv4 total length",
                len: total_len,
            });
        }
        check_len("IPv4 packet", data, total_len)
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn read_u16(&self, range: core::ops::Range<usize>) -> u16 {
        let b = &self.buffer.as_ref()[range];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// The version field (4 in a checked packet).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// The header length in bytes (IHL × 4), options included.
    pub fn header_len(&self) -> u8 {
        (self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    /// Differentiated Services Code Point (RFC 2474).
    pub fn dscp(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN] >> 2
    }

    /// Explicit Congestion Notification bits (RFC 3168).
    pub fn ecn(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN] & 0x03
    }

    /// Total Length: header plus payload, in bytes.
    pub fn total_len(&self) -> u16 {
        self.read_u16(field::LENGTH)
    }

    /// Identification, for fragment reassembly.
    pub fn ident(&self) -> u16 {
        self.read_u16(field::IDENT)
    }

    /// The reserved (evil) flag bit, which must be zero (RFC 791).
    pub fn reserved_flag(&self) -> bool {
        self.read_u16(field::FLG_OFF) & FLAG_RESERVED != 0
    }

    /// Don't Fragment.
    pub fn dont_frag(&self) -> bool {
        self.read_u16(field::FLG_OFF) & FLAG_DF != 0
    }

    /// More Fragments.
    pub fn more_frags(&self) -> bool {
        self.read_u16(field::FLG_OFF) & FLAG_MF != 0
    }

    /// Fragment Offset, in units of 8 bytes as on the wire.
    pub fn frag_offset(&self) -> u16 {
        self.read_u16(field::FLG_OFF) & OFFSET_MASK
    }

    /// Whether this packet is a fragment (MF set or a non-zero offset). IPsec processes only
    /// whole packets (RFC 4303 §3.4.1, RFC 4302 §3.4.1).
    pub fn is_fragment(&self) -> bool {
        self.more_frags() || self.frag_offset() != 0
    }

    /// Time to Live.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    /// Protocol of the payload.
    pub fn protocol(&self) -> IpProtocol {
        IpProtocol(self.buffer.as_ref()[field::PROTOCOL])
    }

    /// The Header Checksum field.
    pub fn checksum(&self) -> u16 {
        self.read_u16(field::CHECKSUM)
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field::SRC_ADDR];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field::DST_ADDR];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// Whether the header checksum verifies (RFC 791 §3.1).
    pub fn verify_checksum(&self) -> bool {
        let header_len = usize::from(self.header_len());
        checksum::checksum(&self.buffer.as_ref()[..header_len]) == 0
    }

    /// The raw options bytes (between the fixed header and IHL × 4).
    pub fn options(&self) -> &[u8] {
        let header_len = usize::from(self.header_len());
        &self.buffer.as_ref()[HEADER_LEN..header_len]
    }

    /// An iterator over the options.
    pub fn option_iter(&self) -> Options<'_> {
        Options::new(self.options())
    }

    /// The payload: from the end of the header to Total Length.
    pub fn payload(&self) -> &[u8] {
        let header_len = usize::from(self.header_len());
        let total_len = usize::from(self.total_len());
        &self.buffer.as_ref()[header_len..total_len]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn write_u16(&mut self, range: core::ops::Range<usize>, value: u16) {
        self.buffer.as_mut()[range].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets the version nibble.
    pub fn set_version(&mut self, version: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0x0f) | (version << 4);
    }

    /// Sets the header length in bytes (a multiple of 4, 20..=60).
    pub fn set_header_len(&mut self, len: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0xf0) | ((len / 4) & 0x0f);
    }

    /// Sets the DSCP (6 bits).
    pub fn set_dscp(&mut self, dscp: u8) {
        let b = &mut self.buffer.as_mut()[field::DSCP_ECN];
        *b = (*b & 0x03) | (dscp << 2);
    }

    /// Sets the ECN bits (2 bits).
    pub fn set_ecn(&mut self, ecn: u8) {
        let b = &mut self.buffer.as_mut()[field::DSCP_ECN];
        *b = (*b & 0xfc) | (ecn & 0x03);
    }

    /// Sets Total Length.
    pub fn set_total_len(&mut self, len: u16) {
        self.write_u16(field::LENGTH, len);
    }

    /// Sets Identification.
    pub fn set_ident(&mut self, ident: u16) {
        self.write_u16(field::IDENT, ident);
    }

    fn set_flag(&mut self, flag: u16, on: bool) {
        let old = self.read_u16(field::FLG_OFF);
        self.write_u16(field::FLG_OFF, if on { old | flag } else { old & !flag });
    }

    /// Clears the flags and the fragment offset.
    pub fn clear_flags(&mut self) {
        self.write_u16(field::FLG_OFF, 0);
    }

    /// Sets Don't Fragment.
    pub fn set_dont_frag(&mut self, on: bool) {
        self.set_flag(FLAG_DF, on);
    }

    /// Sets More Fragments.
    pub fn set_more_frags(&mut self, on: bool) {
        self.set_flag(FLAG_MF, on);
    }

    /// Sets the fragment offset (8-byte units, 13 bits).
    pub fn set_frag_offset(&mut self, offset: u16) {
        let old = self.read_u16(field::FLG_OFF);
        self.write_u16(
            field::FLG_OFF,
            (old & !OFFSET_MASK) | (offset & OFFSET_MASK),
        );
    }

    /// Sets Time to Live.
    pub fn set_ttl(&mut self, ttl: u8) {
        self.buffer.as_mut()[field::TTL] = ttl;
    }

    /// Sets Protocol.
    pub fn set_protocol(&mut self, protocol: IpProtocol) {
        self.buffer.as_mut()[field::PROTOCOL] = protocol.0;
    }

    /// Sets the Header Checksum field.
    pub fn set_checksum(&mut self, checksum: u16) {
        self.write_u16(field::CHECKSUM, checksum);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&addr.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&addr.octets());
    }

    /// Computes and stores the header checksum (over IHL × 4 bytes).
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let header_len = usize::from(self.header_len());
        let sum = checksum::checksum(&self.buffer.as_ref()[..header_len]);
        self.set_checksum(sum);
    }

    /// The options bytes, writable.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let header_len = usize::from(self.header_len());
        &mut self.buffer.as_mut()[HEADER_LEN..header_len]
    }

    /// The payload, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let header_len = usize::from(self.header_len());
        let total_len = usize::from(self.total_len());
        &mut self.buffer.as_mut()[header_len..total_len]
    }

    /// Zeroes every option that RFC 4302 Appendix A.1 classifies as mutable (the whole option,
    /// type and length included, RFC 4302 §3.3.3.1.1.2), for the AH ICV computation.
    ///
    /// Errors: a malformed option list ([`Options`] errors); nothing is changed then.
    pub fn zero_mutable_options_for_ah(&mut self) -> Result<()> {
        // First pass validates and finds the ranges; at most 40 bytes of options means at most
        // 40 options, so a fixed array holds them all without allocating.
        let mut ranges = [(0usize, 0usize); 40];
        let mut count = 0;
        let mut offset = 0;
        for option in self.option_iter() {
            let option = option?;
            let len = option.len();
            if option.ah_mutability() == AhMutability::Mutable {
                ranges[count] = (offset, offset + len);
                count += 1;
            }
            offset += len;
        }
        let options = self.options_mut();
        for &(start, end) in &ranges[..count] {
            options[start..end].fill(0);
        }
        Ok(())
    }
}

/// How AH treats an IPv4 option when computing the ICV (RFC 4302 Appendix A.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AhMutability {
    /// Included in the ICV as is.
    Immutable,
    /// Zeroed (the whole option) before the ICV is computed.
    Mutable,
}

/// One IPv4 option, as found by [`Options`].
///
/// ```text
/// +--------+--------+---...---+
/// |  Type  | Length |  Data   |   (Type: copied 1 bit, class 2 bits, number 5 bits)
/// +--------+--------+---...---+
/// ```
/// End of Option List (0) and No Operation (1) are a single Type byte (RFC 791 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Option<'a> {
    /// The option type byte.
    pub kind: u8,
    /// The option data (after the length byte); empty for EOOL and NOP.
    pub data: &'a [u8],
}

impl Ipv4Option<'_> {
    /// End of Option List.
    pub const END: u8 = 0;
    /// No Operation.
    pub const NOP: u8 = 1;

    /// Bytes the option takes in the header.
    pub fn len(&self) -> usize {
        match self.kind {
            Self::END | Self::NOP => 1,
            _ => 2 + self.data.len(),
        }
    }

    /// Whether the option is a single type byte (EOOL or NOP).
    pub fn is_empty(&self) -> bool {
        self.len() == 1
    }

    /// The "copied" flag: the option is copied into every fragment.
    pub fn copied(&self) -> bool {
        self.kind & 0x80 != 0
    }

    /// The AH classification of the option (RFC 4302 Appendix A.1). Options the appendix lists
    /// as immutable are Security (130), Extended Security (133), Commercial Security (134), Router
    /// Alert (148), Sender Directed Multi-Destination Delivery (149), EOOL and NOP; everything
    /// else, listed as mutable or experimental or not listed at all, is zeroed.
    pub fn ah_mutability(&self) -> AhMutability {
        match self.kind {
            0 | 1 | 130 | 133 | 134 | 148 | 149 => AhMutability::Immutable,
            _ => AhMutability::Mutable,
        }
    }
}

/// Iterator over the options of an IPv4 header. Stops after End of Option List (what follows is
/// padding); yields one error and stops on a malformed option.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    rest: &'a [u8],
    done: bool,
}

impl<'a> Options<'a> {
    /// Iterates over raw option bytes (see [`Packet::options`]).
    pub fn new(options: &'a [u8]) -> Self {
        Self {
            rest: options,
            done: false,
        }
    }

    fn next_option(&mut self) -> Result<Ipv4Option<'a>> {
        let kind = self.rest[0];
        if kind == Ipv4Option::END || kind == Ipv4Option::NOP {
            self.rest = &self.rest[1..];
            if kind == Ipv4Option::END {
                self.done = true;
            }
            return Ok(Ipv4Option { kind, data: &[] });
        }
        check_len("IPv4 option", self.rest, 2)?;
        let len = usize::from(self.rest[1]);
        if len < 2 {
            return Err(Error::BadLength {
                what: "IPv4 option",
                len,
            });
        }
        check_len("IPv4 option", self.rest, len)?;
        let (option, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(Ipv4Option {
            kind,
            data: &option[2..],
        })
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<Ipv4Option<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.rest.is_empty() {
            return None;
        }
        let item = self.next_option();
        if item.is_err() {
            self.done = true;
        }
        Some(item)
    }
}

/// An option-less IPv4 header, owned. Parsing a header with options skips them (they are not
/// represented); emitting always writes a 20-byte header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Source address.
    pub src_addr: Ipv4Addr,
    /// Destination address.
    pub dst_addr: Ipv4Addr,
    /// Protocol of the payload.
    pub protocol: IpProtocol,
    /// Payload length in bytes (Total Length minus the header).
    pub payload_len: usize,
    /// Time to Live.
    pub ttl: u8,
    /// DSCP (6 bits).
    pub dscp: u8,
    /// ECN (2 bits).
    pub ecn: u8,
    /// Identification.
    pub ident: u16,
    /// Don't Fragment.
    pub dont_frag: bool,
    /// More Fragments.
    pub more_frags: bool,
    /// Fragment offset, 8-byte units.
    pub frag_offset: u16,
}

impl Repr {
    /// Parses a checked packet: verifies the header checksum and the reserved flag.
    ///
    /// Errors: [`Error::BadChecksum`], [`Error::ReservedBits`] (RFC 791: the flag "must be zero").
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Self> {
        packet.check_len()?;
        if !packet.verify_checksum() {
            return Err(Error::BadChecksum { what: WHAT });
        }
        if packet.reserved_flag() {
            return Err(Error::ReservedBits { what: WHAT });
        }
        Ok(Self {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            protocol: packet.protocol(),
            payload_len: usize::from(packet.total_len() - u16::from(packet.header_len())),
            ttl: packet.ttl(),
            dscp: packet.dscp(),
            ecn: packet.ecn(),
            ident: packet.ident(),
            dont_frag: packet.dont_frag(),
            more_frags: packet.more_frags(),
            frag_offset: packet.frag_offset(),
        })
    }

    /// Bytes [`Repr::emit`] writes: always 20.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header (checksum filled in) into the first 20 bytes of `buf`; the payload is
    /// not touched.
    ///
    /// Errors: [`Error::BufferTooSmall`] if `buf` is shorter than 20 bytes;
    /// [`Error::BadLength`] if the payload does not fit in Total Length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        if buf.len() < HEADER_LEN {
            return Err(Error::BufferTooSmall {
                what: WHAT,
                need: HEADER_LEN,
                have: buf.len(),
            });
        }
        let total_len =
            u16::try_from(HEADER_LEN + self.payload_len).map_err(|_| Error::BadLength {
                what: "IPv4 total length",
                len: HEADER_LEN + self.payload_len,
            })?;
        let mut packet = Packet::new_unchecked(&mut buf[..HEADER_LEN]);
        packet.set_version(4);
        packet.set_header_len(HEADER_LEN as u8);
        packet.set_dscp(self.dscp);
        packet.set_ecn(self.ecn);
        packet.set_total_len(total_len);
        packet.set_ident(self.ident);
        packet.clear_flags();
        packet.set_dont_frag(self.dont_frag);
        packet.set_more_frags(self.more_frags);
        packet.set_frag_offset(self.frag_offset);
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        packet.fill_checksum();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A header with options: NOP, Router Alert (148, immutable), Record Route (7, mutable),
    /// EOOL; then 4 bytes of payload.
    const WITH_OPTIONS: [u8; 40] = [
        0x49, 0xb8, 0x00, 0x28, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x00,
        0x00, // checksum later
        192, 0, 2, 1, 198, 51, 100, 7, // addresses
        0x01, 0x94, 0x04, 0x00, 0x00, // NOP, Router Alert
        0x07, 0x07, 0x04, 10, 0, 0, 1, // Record Route, pointer 4, one address
        0x00, 0x00, 0x00, 0x00, // EOOL + padding
        0xde, 0xad, 0xbe, 0xef, // payload
    ];

    fn with_options() -> [u8; 40] {
        let mut bytes = WITH_OPTIONS;
        let sum = checksum::checksum(&bytes[..36]);
        bytes[10..12].copy_from_slice(&sum.to_be_bytes());
        bytes
    }

    #[test]
    fn parse_known_header_with_options() {
        let bytes = with_options();
        let p = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.header_len(), 36);
        assert_eq!(p.dscp(), 46);
        assert_eq!(p.ecn(), 0);
        assert_eq!(p.total_len(), 40);
        assert_eq!(p.ident(), 0x1234);
        assert!(p.dont_frag() && !p.more_frags() && !p.is_fragment());
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), IpProtocol::UDP);
        assert_eq!(p.src_addr(), Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(198, 51, 100, 7));
        assert!(p.verify_checksum());
        assert_eq!(p.payload(), &[0xde, 0xad, 0xbe, 0xef]);
        let opts: Vec<_> = p.option_iter().collect::<Result<_>>().unwrap();
        assert_eq!(opts.len(), 4);
        assert_eq!(
            (opts[0].kind, opts[0].ah_mutability()),
            (1, AhMutability::Immutable)
        );
        assert_eq!((opts[1].kind, opts[1].data), (148, &[0u8, 0][..]));
        assert_eq!(opts[1].ah_mutability(), AhMutability::Immutable);
        assert_eq!((opts[2].kind, opts[2].len()), (7, 7));
        assert_eq!(opts[2].ah_mutability(), AhMutability::Mutable);
        assert_eq!(opts[3].kind, Ipv4Option::END);
        let r = Repr::parse(&p).unwrap();
        assert_eq!(r.payload_len, 4);
        assert_eq!(r.protocol, IpProtocol::UDP);
    }

    #[test]
    fn zero_mutable_options_keeps_immutable_ones() {
        let mut bytes = with_options();
        let mut p = Packet::new_checked(&mut bytes[..]).unwrap();
        p.zero_mutable_options_for_ah().unwrap();
        assert_eq!(&p.options()[..5], &[0x01, 0x94, 0x04, 0x00, 0x00]);
        assert_eq!(&p.options()[5..12], &[0u8; 7]);
    }

    #[test]
    fn emit_known_header() {
        let repr = Repr {
            src_addr: Ipv4Addr::new(192, 168, 0, 1),
            dst_addr: Ipv4Addr::new(192, 168, 0, 199),
            protocol: IpProtocol::UDP,
            payload_len: 0x73 - 20,
            ttl: 64,
            dscp: 0,
            ecn: 0,
            ident: 0,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
        };
        let mut buf = [0u8; 20];
        repr.emit(&mut buf).unwrap();
        assert_eq!(hex::encode(buf), "45000073000040004011b861c0a80001c0a800c7");
        assert_eq!(
            repr.emit(&mut [0u8; 19]),
            Err(Error::BufferTooSmall {
                what: WHAT,
                need: 20,
                have: 19
            })
        );
    }

    #[test]
    fn truncated_at_every_length_is_an_error() {
        let bytes = with_options();
        for len in 0..bytes.len() {
            let err = Packet::new_checked(&bytes[..len]).unwrap_err();
            assert!(matches!(err, Error::Truncated { .. }), "len {len}: {err:?}");
        }
    }

    #[test]
    fn bad_fields_are_rejected() {
        let good = with_options();
        let mut b = good;
        b[0] = 0x59;
        assert_eq!(
            Packet::new_checked(&b[..]).unwrap_err(),
            Error::BadVersion {
                what: WHAT,
                version: 5
            }
        );
        b[0] = 0x44;
        assert_eq!(
            Packet::new_checked(&b[..]).unwrap_err(),
            Error::BadLength {
                what: WHAT,
                len: 16
            }
        );
        let mut b = good;
        b[2..4].copy_from_slice(&30u16.to_be_bytes());
        assert_eq!(
            Packet::new_checked(&b[..]).unwrap_err(),
            Error::BadLength {
                what: "IPv4 total length",
                len: 30
            }
        );
        let mut b = good;
        b[8] = 63; // TTL changed, checksum now wrong
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Repr::parse(&p), Err(Error::BadChecksum { what: WHAT }));
        let mut b = good;
        b[6] |= 0x80;
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.fill_checksum();
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Repr::parse(&p), Err(Error::ReservedBits { what: WHAT }));
    }

    #[test]
    fn malformed_options_are_errors() {
        let cases: [(&[u8], Error); 3] = [
            (
                &[0x07],
                Error::Truncated {
                    what: "IPv4 option",
                    need: 2,
                    have: 1,
                },
            ),
            (
                &[0x07, 0x01, 0x00, 0x00],
                Error::BadLength {
                    what: "IPv4 option",
                    len: 1,
                },
            ),
            (
                &[0x01, 0x44, 0x08, 0x05],
                Error::Truncated {
                    what: "IPv4 option",
                    need: 8,
                    have: 3,
                },
            ),
        ];
        for (bytes, want) in cases {
            let items: Vec<_> = Options::new(bytes).collect();
            assert_eq!(items.last(), Some(&Err(want)), "{bytes:?}");
            assert!(items[..items.len() - 1].iter().all(|i| i.is_ok()));
        }
        // A malformed list leaves the header untouched.
        let mut bytes = with_options();
        bytes[26] = 0x30; // Record Route length runs past the options
        let before = bytes;
        let mut p = Packet::new_checked(&mut bytes[..]).unwrap();
        assert!(p.zero_mutable_options_for_ah().is_err());
        assert_eq!(bytes, before);
    }

    fn arb_repr() -> impl Strategy<Value = Repr> {
        (
            any::<[u8; 4]>(),
            any::<[u8; 4]>(),
            any::<u8>(),
            0usize..65515,
            any::<u8>(),
            0u8..64,
            0u8..4,
            any::<u16>(),
            any::<(bool, bool)>(),
            0u16..0x2000,
        )
            .prop_map(
                |(s, d, p, len, ttl, dscp, ecn, ident, (df, mf), off)| Repr {
                    src_addr: s.into(),
                    dst_addr: d.into(),
                    protocol: IpProtocol(p),
                    payload_len: len,
                    ttl,
                    dscp,
                    ecn,
                    ident,
                    dont_frag: df,
                    more_frags: mf,
                    frag_offset: off,
                },
            )
    }

    proptest! {
        #[test]
        fn repr_round_trip(repr in arb_repr()) {
            let mut buf = vec![0u8; HEADER_LEN + repr.payload_len];
            repr.emit(&mut buf).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(p) = Packet::new_checked(&bytes[..]) {
                let _ = Repr::parse(&p);
                let _ = p.payload();
                for o in p.option_iter() { let _ = o; }
            }
        }
    }
}
