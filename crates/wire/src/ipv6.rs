//! IPv6 (RFC 8200): a zero-copy [`Packet`] view of the fixed header, a bounded walk over the
//! extension headers ([`ExtHeaders`], [`Packet::upper_layer`]) that finds the upper-layer
//! protocol and its offset, an iterator over the TLV options of Hop-by-Hop and Destination
//! Options headers ([`Options`]), and an owned [`Repr`] for the fixed header.
//!
//! The data plane walks an inbound packet's extension headers to reach ESP or AH, and for AH
//! zeroes the option data marked "may change en route" (RFC 4302 §3.3.3.1.2.1) before computing
//! the ICV ([`zero_mutable_option_data`]).

use core::net::Ipv6Addr;

use crate::error::check_len;
use crate::ip::IpProtocol;
use crate::{Error, Result};

mod field {
    use core::ops::Range;

    pub(super) const VER_TC_FLOW: Range<usize> = 0..4;
    pub(super) const LENGTH: Range<usize> = 4..6;
    pub(super) const NEXT_HEADER: usize = 6;
    pub(super) const HOP_LIMIT: usize = 7;
    pub(super) const SRC_ADDR: Range<usize> = 8..24;
    pub(super) const DST_ADDR: Range<usize> = 24..40;
}

/// Length of the fixed IPv6 header.
pub const HEADER_LEN: usize = field::DST_ADDR.end;
/// Most extension headers [`ExtHeaders`] walks before giving up (bounded work on hostile input;
/// RFC 8200 §4.1's recommended order has at most 6, Destination Options twice).
pub const MAX_EXT_HEADERS: usize = 8;

const WHAT: &str = "IPv6 header";

/// A read/write view of an IPv6 packet.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version| Traffic Class |           Flow Label                  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         Payload Length        |  Next Header  |   Hop Limit   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                                                               |
/// +                         Source Address                        +
/// |                          (128 bits)                           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                                                               |
/// +                      Destination Address                      +
/// |                          (128 bits)                           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// (RFC 8200 §3.) Jumbograms (RFC 2675, Payload Length 0) are not supported: a zero Payload
/// Length reads as an empty payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; accessors may panic on a short buffer.
    pub fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps untrusted bytes, checking what the accessors rely on.
    ///
    /// Errors: [`Error::Truncated`] if the buffer is shorter than 40 bytes or than 40 + Payload
    /// Length; [`Error::BadVersion`] if the version is not 6.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// The checks of [`Packet::new_checked`].
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        check_len(WHAT, data, HEADER_LEN)?;
        if self.version() != 6 {
            return Err(Error::BadVersion {
                what: WHAT,
                version: self.version(),
            });
        }
        check_len(
            "IPv6 packet",
            data,
            HEADER_LEN + usize::from(self.payload_len()),
        )
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn first_word(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::VER_TC_FLOW];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// The version field (6 in a checked packet).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }

    /// Traffic Class (DSCP << 2 | ECN).
    pub fn traffic_class(&self) -> u8 {
        (self.first_word() >> 20) as u8
    }

    /// DSCP part of the Traffic Class.
    pub fn dscp(&self) -> u8 {
        self.traffic_class() >> 2
    }

    /// ECN part of the Traffic Class.
    pub fn ecn(&self) -> u8 {
        self.traffic_class() & 0x03
    }

    /// Flow Label (20 bits).
    pub fn flow_label(&self) -> u32 {
        self.first_word() & 0x000f_ffff
    }

    /// Payload Length: bytes after the fixed header, extension headers included.
    pub fn payload_len(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::LENGTH];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// Next Header of the fixed header.
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol(self.buffer.as_ref()[field::NEXT_HEADER])
    }

    /// Hop Limit.
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buffer.as_ref()[field::SRC_ADDR]);
        Ipv6Addr::from(a)
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buffer.as_ref()[field::DST_ADDR]);
        Ipv6Addr::from(a)
    }

    /// The payload (extension headers included), up to Payload Length.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..HEADER_LEN + usize::from(self.payload_len())]
    }

    /// The extension headers after the fixed header, in order.
    pub fn ext_headers(&self) -> ExtHeaders<'_> {
        ExtHeaders::new(self.next_header(), self.payload())
    }

    /// Walks the extension headers to the upper-layer protocol (RFC 8200 §4).
    ///
    /// The walk stops at the first header that is not a Hop-by-Hop, Routing, Fragment,
    /// Destination Options or Mobility header: AH, ESP, UDP, No Next Header, an unknown value, or
    /// the payload of a non-first fragment.
    pub fn upper_layer(&self) -> Result<UpperLayer> {
        let mut walk = self.ext_headers();
        let mut fragment = None;
        for header in &mut walk {
            let header = header?;
            if header.kind == IpProtocol::FRAGMENT {
                fragment = Some(FragmentHeader::parse(header.bytes)?);
            }
        }
        Ok(UpperLayer {
            protocol: walk.next_kind,
            offset: HEADER_LEN + walk.offset,
            fragment,
        })
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_first_word(&mut self, word: u32) {
        self.buffer.as_mut()[field::VER_TC_FLOW].copy_from_slice(&word.to_be_bytes());
    }

    /// Sets the version nibble.
    pub fn set_version(&mut self, version: u8) {
        let w = self.first_word();
        self.set_first_word((w & 0x0fff_ffff) | (u32::from(version & 0x0f) << 28));
    }

    /// Sets Traffic Class.
    pub fn set_traffic_class(&mut self, tc: u8) {
        let w = self.first_word();
        self.set_first_word((w & 0xf00f_ffff) | (u32::from(tc) << 20));
    }

    /// Sets Flow Label (20 bits).
    pub fn set_flow_label(&mut self, label: u32) {
        let w = self.first_word();
        self.set_first_word((w & 0xfff0_0000) | (label & 0x000f_ffff));
    }

    /// Sets Payload Length.
    pub fn set_payload_len(&mut self, len: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&len.to_be_bytes());
    }

    /// Sets Next Header.
    pub fn set_next_header(&mut self, next: IpProtocol) {
        self.buffer.as_mut()[field::NEXT_HEADER] = next.0;
    }

    /// Sets Hop Limit.
    pub fn set_hop_limit(&mut self, hop_limit: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = hop_limit;
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: Ipv6Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&addr.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: Ipv6Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&addr.octets());
    }

    /// The payload, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = HEADER_LEN + usize::from(self.payload_len());
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
}

/// Where the extension-header walk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpperLayer {
    /// The protocol of what follows the last extension header (AH, ESP, UDP, ...).
    pub protocol: IpProtocol,
    /// Its offset from the start of the IPv6 header.
    pub offset: usize,
    /// The Fragment header, if one was crossed. With a non-zero offset, what lies at `offset` is
    /// a fragment of the upper-layer data, not its header.
    pub fragment: Option<FragmentHeader>,
}

/// One extension header found by [`ExtHeaders`].
///
/// ```text
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Next Header  |  Hdr Ext Len  |                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
/// .              header-specific data (Hdr Ext Len + 1) × 8       .
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// (RFC 8200 §4.3–§4.6; the Fragment header is always 8 bytes.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtHeader<'a> {
    /// Which extension header this is (the previous header's Next Header).
    pub kind: IpProtocol,
    /// Offset of the header from the start of the IPv6 payload (i.e. after the fixed header).
    pub offset: usize,
    /// The whole header, Next Header byte included.
    pub bytes: &'a [u8],
}

impl<'a> ExtHeader<'a> {
    /// The Next Header field.
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol(self.bytes[0])
    }

    /// The TLV options of a Hop-by-Hop or Destination Options header (empty for other kinds).
    pub fn options(&self) -> Options<'a> {
        if self.kind == IpProtocol::IPV6_HOPOPTS || self.kind == IpProtocol::DSTOPTS {
            Options::new(&self.bytes[2..])
        } else {
            Options::new(&[])
        }
    }
}

/// Whether the walk treats `kind` as an extension header to step over.
fn is_walked_ext_header(kind: IpProtocol) -> bool {
    matches!(
        kind,
        IpProtocol::IPV6_HOPOPTS
            | IpProtocol::ROUTING
            | IpProtocol::FRAGMENT
            | IpProtocol::DSTOPTS
            | IpProtocol::MOBILITY
    )
}

/// Iterator over a packet's extension headers (at most [`MAX_EXT_HEADERS`]). Yields one error
/// and stops on a malformed chain.
#[derive(Debug, Clone)]
pub struct ExtHeaders<'a> {
    payload: &'a [u8],
    next_kind: IpProtocol,
    offset: usize,
    count: usize,
    done: bool,
}

impl<'a> ExtHeaders<'a> {
    /// Walks `payload` (what follows the fixed header) starting with header `first`.
    pub fn new(first: IpProtocol, payload: &'a [u8]) -> Self {
        Self {
            payload,
            next_kind: first,
            offset: 0,
            count: 0,
            done: false,
        }
    }

    /// The protocol after the headers walked so far.
    pub fn next_kind(&self) -> IpProtocol {
        self.next_kind
    }

    /// Offset (from the start of the IPv6 payload) after the headers walked so far.
    pub fn offset(&self) -> usize {
        self.offset
    }

    fn step(&mut self) -> Result<ExtHeader<'a>> {
        let kind = self.next_kind;
        // RFC 8200 §4.1: Hop-by-Hop Options only immediately after the IPv6 header.
        if kind == IpProtocol::IPV6_HOPOPTS && self.count != 0 {
            return Err(Error::BadValue {
                what: "IPv6 Hop-by-Hop header not first",
                value: 0,
            });
        }
        if self.count == MAX_EXT_HEADERS {
            return Err(Error::BadValue {
                what: "IPv6 extension header chain too long",
                value: self.count as u32,
            });
        }
        let rest = &self.payload[self.offset..];
        check_len("IPv6 extension header", rest, 2)?;
        let len = if kind == IpProtocol::FRAGMENT {
            FRAGMENT_HEADER_LEN
        } else {
            (usize::from(rest[1]) + 1) * 8
        };
        check_len("IPv6 extension header", rest, len)?;
        let header = ExtHeader {
            kind,
            offset: self.offset,
            bytes: &rest[..len],
        };
        self.offset += len;
        self.count += 1;
        self.next_kind = header.next_header();
        if kind == IpProtocol::FRAGMENT && FragmentHeader::parse(header.bytes)?.offset != 0 {
            // A non-first fragment: what follows is not a header (RFC 8200 §4.5).
            self.done = true;
        }
        Ok(header)
    }
}

impl<'a> Iterator for ExtHeaders<'a> {
    type Item = Result<ExtHeader<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || !is_walked_ext_header(self.next_kind) {
            return None;
        }
        let item = self.step();
        if item.is_err() {
            self.done = true;
        }
        Some(item)
    }
}

/// Length of the Fragment header.
pub const FRAGMENT_HEADER_LEN: usize = 8;

/// The Fragment header (RFC 8200 §4.5).
///
/// ```text
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         Identification                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragmentHeader {
    /// Next Header.
    pub next_header: IpProtocol,
    /// Fragment Offset, 8-byte units.
    pub offset: u16,
    /// More Fragments.
    pub more_frags: bool,
    /// Identification.
    pub ident: u32,
}

impl FragmentHeader {
    /// Parses the 8 header bytes (reserved fields are ignored, RFC 8200 §4.5).
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        check_len("IPv6 Fragment header", bytes, FRAGMENT_HEADER_LEN)?;
        let off_m = u16::from_be_bytes([bytes[2], bytes[3]]);
        Ok(Self {
            next_header: IpProtocol(bytes[0]),
            offset: off_m >> 3,
            more_frags: off_m & 1 != 0,
            ident: u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
        })
    }

    /// Bytes [`FragmentHeader::emit`] writes: 8.
    pub fn buffer_len(&self) -> usize {
        FRAGMENT_HEADER_LEN
    }

    /// Writes the header into the first 8 bytes of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        if buf.len() < FRAGMENT_HEADER_LEN {
            return Err(Error::BufferTooSmall {
                what: "IPv6 Fragment header",
                need: FRAGMENT_HEADER_LEN,
                have: buf.len(),
            });
        }
        let off_m = (self.offset << 3) | u16::from(self.more_frags);
        buf[0] = self.next_header.0;
        buf[1] = 0;
        buf[2..4].copy_from_slice(&off_m.to_be_bytes());
        buf[4..8].copy_from_slice(&self.ident.to_be_bytes());
        Ok(())
    }
}

/// One TLV option of a Hop-by-Hop or Destination Options header.
///
/// ```text
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - - - - - -
/// |  Option Type  |  Opt Data Len |  Option Data
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - - - - - -
/// ```
/// (RFC 8200 §4.2; Pad1, type 0, is a single byte.) The third-highest bit of the type says the
/// option data may change en route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Option<'a> {
    /// Option Type.
    pub kind: u8,
    /// Option Data (empty for Pad1).
    pub data: &'a [u8],
}

impl Ipv6Option<'_> {
    /// Pad1.
    pub const PAD1: u8 = 0;
    /// PadN.
    pub const PADN: u8 = 1;

    /// What to do with an unrecognised option: the two high bits of the type (RFC 8200 §4.2).
    pub fn unknown_action(&self) -> u8 {
        self.kind >> 6
    }

    /// The "option data may change en route" bit (RFC 8200 §4.2). AH zeroes the data of such
    /// options for the ICV (RFC 4302 §3.3.3.1.2.1).
    pub fn may_change_en_route(&self) -> bool {
        self.kind & 0x20 != 0
    }

    /// Bytes the option takes.
    pub fn len(&self) -> usize {
        if self.kind == Self::PAD1 {
            1
        } else {
            2 + self.data.len()
        }
    }

    /// Whether the option is a Pad1 (one byte, no length).
    pub fn is_empty(&self) -> bool {
        self.kind == Self::PAD1
    }
}

/// Iterator over TLV options (see [`ExtHeader::options`]). Yields one error and stops on a
/// malformed option.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    rest: &'a [u8],
    done: bool,
}

impl<'a> Options<'a> {
    /// Iterates over an options area (a Hop-by-Hop/Destination Options header minus its first two
    /// bytes).
    pub fn new(options: &'a [u8]) -> Self {
        Self {
            rest: options,
            done: false,
        }
    }

    fn next_option(&mut self) -> Result<Ipv6Option<'a>> {
        let kind = self.rest[0];
        if kind == Ipv6Option::PAD1 {
            self.rest = &self.rest[1..];
            return Ok(Ipv6Option { kind, data: &[] });
        }
        check_len("IPv6 option", self.rest, 2)?;
        let len = 2 + usize::from(self.rest[1]);
        check_len("IPv6 option", self.rest, len)?;
        let (option, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(Ipv6Option {
            kind,
            data: &option[2..],
        })
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<Ipv6Option<'a>>;

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

/// Zeroes the Option Data of every option whose "may change en route" bit is set, in an options
/// area (a Hop-by-Hop or Destination Options header minus its first two bytes), for the AH ICV
/// computation (RFC 4302 §3.3.3.1.2.1: type and length stay covered).
///
/// Errors: a malformed option; nothing is changed then.
pub fn zero_mutable_option_data(options: &mut [u8]) -> Result<()> {
    Options::new(options).try_for_each(|o| o.map(|_| ()))?;
    let mut offset = 0;
    while offset < options.len() {
        let kind = options[offset];
        if kind == Ipv6Option::PAD1 {
            offset += 1;
            continue;
        }
        // Validated above: the length byte exists and the data fits.
        let end = offset + 2 + usize::from(options[offset + 1]);
        if kind & 0x20 != 0 {
            options[offset + 2..end].fill(0);
        }
        offset = end;
    }
    Ok(())
}

/// The fixed IPv6 header, owned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Source address.
    pub src_addr: Ipv6Addr,
    /// Destination address.
    pub dst_addr: Ipv6Addr,
    /// Next Header.
    pub next_header: IpProtocol,
    /// Payload Length (extension headers included).
    pub payload_len: usize,
    /// Hop Limit.
    pub hop_limit: u8,
    /// Traffic Class.
    pub traffic_class: u8,
    /// Flow Label (20 bits).
    pub flow_label: u32,
}

impl Repr {
    /// Parses the fixed header of a packet (checking it first).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Self> {
        packet.check_len()?;
        Ok(Self {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            next_header: packet.next_header(),
            payload_len: usize::from(packet.payload_len()),
            hop_limit: packet.hop_limit(),
            traffic_class: packet.traffic_class(),
            flow_label: packet.flow_label(),
        })
    }

    /// Bytes [`Repr::emit`] writes: 40.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the fixed header into the first 40 bytes of `buf`.
    ///
    /// Errors: [`Error::BufferTooSmall`]; [`Error::BadLength`] if `payload_len` exceeds 65535
    /// or `flow_label` 20 bits ([`Error::BadValue`]).
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        if buf.len() < HEADER_LEN {
            return Err(Error::BufferTooSmall {
                what: WHAT,
                need: HEADER_LEN,
                have: buf.len(),
            });
        }
        let payload_len = u16::try_from(self.payload_len).map_err(|_| Error::BadLength {
            what: "IPv6 payload length",
            len: self.payload_len,
        })?;
        if self.flow_label > 0x000f_ffff {
            return Err(Error::BadValue {
                what: "IPv6 flow label",
                value: self.flow_label,
            });
        }
        let mut packet = Packet::new_unchecked(&mut buf[..HEADER_LEN]);
        packet.set_first_word(0);
        packet.set_version(6);
        packet.set_traffic_class(self.traffic_class);
        packet.set_flow_label(self.flow_label);
        packet.set_payload_len(payload_len);
        packet.set_next_header(self.next_header);
        packet.set_hop_limit(self.hop_limit);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// IPv6 → Hop-by-Hop (Router Alert, PadN) → Destination Options (type 0x3e, "may change",
    /// 4 data bytes) → Fragment (offset 0, M) → UDP (8-byte header, no data).
    fn sample() -> Vec<u8> {
        let mut p = hex::decode(concat!(
            "6abcdef5",
            "0020",
            "00",
            "40",                               // ver/tc/flow, len 32, HbH
            "20010db8000000000000000000000001", // src
            "20010db8000000000000000000000002", // dst
            "3c00",
            "05020000",
            "0100", // HbH: next DstOpts, RA, PadN
            "2c00",
            "3e04",
            "a1a2a3a4", // DstOpts: next Frag
            "1100",
            "0001",
            "deadbeef", // Frag: next UDP, off 0, M
            "11941194",
            "0008",
            "0000", // UDP
        ))
        .unwrap();
        p.truncate(HEADER_LEN + 32);
        p
    }

    #[test]
    fn parse_known_packet_and_walk_headers() {
        let bytes = sample();
        let p = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.traffic_class(), 0xab);
        assert_eq!((p.dscp(), p.ecn()), (0xab >> 2, 3));
        assert_eq!(p.flow_label(), 0xcdef5);
        assert_eq!(p.payload_len(), 32);
        assert_eq!(p.next_header(), IpProtocol::IPV6_HOPOPTS);
        assert_eq!(p.hop_limit(), 64);
        assert_eq!(p.src_addr(), "2001:db8::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(p.dst_addr(), "2001:db8::2".parse::<Ipv6Addr>().unwrap());

        let headers: Vec<_> = p.ext_headers().collect::<Result<_>>().unwrap();
        let kinds: Vec<_> = headers
            .iter()
            .map(|h| (h.kind, h.offset, h.bytes.len()))
            .collect();
        assert_eq!(
            kinds,
            [
                (IpProtocol::IPV6_HOPOPTS, 0, 8),
                (IpProtocol::DSTOPTS, 8, 8),
                (IpProtocol::FRAGMENT, 16, 8)
            ]
        );
        let hbh: Vec<_> = headers[0].options().collect::<Result<_>>().unwrap();
        assert_eq!(
            hbh[0],
            Ipv6Option {
                kind: 5,
                data: &[0, 0]
            }
        );
        assert!(!hbh[0].may_change_en_route());
        assert_eq!(hbh[1].kind, Ipv6Option::PADN);
        let dst: Vec<_> = headers[1].options().collect::<Result<_>>().unwrap();
        assert_eq!(dst[0].data, &[0xa1, 0xa2, 0xa3, 0xa4]);
        assert!(dst[0].may_change_en_route());
        assert_eq!(dst[0].unknown_action(), 0);

        let upper = p.upper_layer().unwrap();
        assert_eq!(upper.protocol, IpProtocol::UDP);
        assert_eq!(upper.offset, 64);
        let frag = upper.fragment.unwrap();
        assert_eq!(
            (frag.offset, frag.more_frags, frag.ident),
            (0, true, 0xdeadbeef)
        );
        let r = Repr::parse(&p).unwrap();
        let mut out = [0u8; 40];
        r.emit(&mut out).unwrap();
        assert_eq!(&out[..], &bytes[..40]);
    }

    #[test]
    fn zero_mutable_option_data_zeroes_only_marked_data() {
        let mut bytes = sample();
        zero_mutable_option_data(&mut bytes[42..48]).unwrap();
        zero_mutable_option_data(&mut bytes[50..56]).unwrap();
        assert_eq!(
            &bytes[40..56],
            &hex::decode("3c000502000001002c003e0400000000").unwrap()[..]
        );
        let mut bad = [0x3e, 0x09, 1, 2];
        assert!(zero_mutable_option_data(&mut bad).is_err());
        assert_eq!(bad, [0x3e, 0x09, 1, 2]);
    }

    #[test]
    fn stops_at_ah_and_non_first_fragment() {
        let mut bytes = sample();
        bytes[48] = IpProtocol::AH.0; // DstOpts next header = AH
        let p = Packet::new_checked(&bytes[..]).unwrap();
        let upper = p.upper_layer().unwrap();
        assert_eq!(
            (upper.protocol, upper.offset, upper.fragment),
            (IpProtocol::AH, 56, None)
        );

        let mut bytes = sample();
        bytes[58..60].copy_from_slice(&((3u16 << 3) | 1).to_be_bytes());
        bytes[56] = IpProtocol::DSTOPTS.0; // would be a header, but it is fragment data
        let p = Packet::new_checked(&bytes[..]).unwrap();
        let upper = p.upper_layer().unwrap();
        assert_eq!((upper.protocol, upper.offset), (IpProtocol::DSTOPTS, 64));
        assert_eq!(upper.fragment.map(|f| f.offset), Some(3));
    }

    #[test]
    fn truncated_at_every_length_is_an_error() {
        let bytes = sample();
        for len in 0..bytes.len() {
            assert!(
                matches!(
                    Packet::new_checked(&bytes[..len]),
                    Err(Error::Truncated { .. })
                ),
                "len {len}"
            );
        }
        // A Payload Length that cuts the chain short makes the walk fail, not panic.
        let mut bytes = sample();
        for len in 0..32u16 {
            bytes[4..6].copy_from_slice(&len.to_be_bytes());
            let p = Packet::new_checked(&bytes[..]).unwrap();
            let r = p.upper_layer();
            assert!(
                matches!(r, Err(Error::Truncated { .. })) || len >= 24,
                "len {len}: {r:?}"
            );
        }
    }

    #[test]
    fn bad_chains_are_rejected() {
        let mut bytes = sample();
        bytes[0] = 0x4a;
        assert_eq!(
            Packet::new_checked(&bytes[..]).unwrap_err(),
            Error::BadVersion {
                what: WHAT,
                version: 4
            }
        );
        let mut bytes = sample();
        bytes[48] = 0; // DstOpts says Hop-by-Hop follows
        let p = Packet::new_checked(&bytes[..]).unwrap();
        assert!(matches!(
            p.upper_layer(),
            Err(Error::BadValue { value: 0, .. })
        ));

        // Nine Destination Options headers in a row: over the limit.
        let mut long = sample()[..40].to_vec();
        long[6] = IpProtocol::DSTOPTS.0;
        for _ in 0..9 {
            long.extend_from_slice(&[IpProtocol::DSTOPTS.0, 0, 1, 4, 0, 0, 0, 0]);
        }
        let len = (long.len() - 40) as u16;
        long[4..6].copy_from_slice(&len.to_be_bytes());
        let p = Packet::new_checked(&long[..]).unwrap();
        assert_eq!(
            p.upper_layer(),
            Err(Error::BadValue {
                what: "IPv6 extension header chain too long",
                value: 8
            })
        );
    }

    #[test]
    fn emit_checks_buffer_and_fields() {
        let r = Repr {
            src_addr: Ipv6Addr::LOCALHOST,
            dst_addr: Ipv6Addr::LOCALHOST,
            next_header: IpProtocol::ESP,
            payload_len: 10,
            hop_limit: 1,
            traffic_class: 0,
            flow_label: 0x10_0000,
        };
        assert!(matches!(
            r.emit(&mut [0u8; 39]),
            Err(Error::BufferTooSmall { .. })
        ));
        assert!(matches!(
            r.emit(&mut [0u8; 40]),
            Err(Error::BadValue { .. })
        ));
        let r = Repr {
            flow_label: 0,
            payload_len: 70000,
            ..r
        };
        assert!(matches!(
            r.emit(&mut [0u8; 40]),
            Err(Error::BadLength { .. })
        ));
    }

    proptest! {
        #[test]
        fn repr_round_trip(src in any::<[u8; 16]>(), dst in any::<[u8; 16]>(), nh in any::<u8>(),
                           len in 0usize..300, hl in any::<u8>(), tc in any::<u8>(),
                           fl in 0u32..0x10_0000) {
            let repr = Repr { src_addr: src.into(), dst_addr: dst.into(), next_header: IpProtocol(nh),
                              payload_len: len, hop_limit: hl, traffic_class: tc, flow_label: fl };
            let mut buf = vec![0u8; HEADER_LEN + len];
            repr.emit(&mut buf).unwrap();
            prop_assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()).unwrap(), repr);
        }

        #[test]
        fn fragment_round_trip(nh in any::<u8>(), off in 0u16..0x2000, m in any::<bool>(), id in any::<u32>()) {
            let f = FragmentHeader { next_header: IpProtocol(nh), offset: off, more_frags: m, ident: id };
            let mut buf = [0u8; 8];
            f.emit(&mut buf).unwrap();
            prop_assert_eq!(FragmentHeader::parse(&buf).unwrap(), f);
        }

        #[test]
        fn arbitrary_chains_never_panic(first in any::<u8>(), body in proptest::collection::vec(any::<u8>(), 0..120)) {
            let walk = ExtHeaders::new(IpProtocol(first), &body);
            for h in walk.take(20).flatten() {
                for o in h.options() {
                    let _ = o;
                }
            }
            let mut copy = body.clone();
            let _ = zero_mutable_option_data(&mut copy);
        }
    }
}
