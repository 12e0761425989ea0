//! Cutting a TSO/USO super-packet read from the TUN device into MTU-sized IP packets.
//!
//! With TUN offloads on, the kernel hands us up to 64 KiB of one TCP stream (or one UDP GSO
//! send) as a single packet plus a [`VnetHdr`]: `gso_size` says how many payload bytes go in each
//! segment and `csum_start`/`csum_offset` locate the L4 header and its checksum field. This is
//! the job a NIC does in hardware (the kernel's `tcp_gso_segment` / `__udp_gso_segment`):
//!
//! - every segment gets a copy of the IP + L4 headers and its slice of the payload;
//! - IPv4: total length, identification (+1 per segment) and header checksum (RFC 791);
//!   IPv6: payload length (RFC 8200);
//! - TCP: sequence number advanced by the payload before it; FIN and PSH only on the last
//!   segment, CWR only on the first (RFC 3168 §6.1.2); checksum recomputed over the pseudo-header
//!   (RFC 9293 §3.1);
//! - UDP: length and checksum per datagram (RFC 768), a zero checksum sent as `0xffff`.
//!
//! A [`GsoType::None`] packet comes out as one segment, its partial checksum completed. Segments
//! are written into caller buffers so the data plane can leave headroom for the outer headers.

use crate::vnet::{F_NEEDS_CSUM, GsoType, OffloadError, VnetHdr};
use rampart_wire::checksum;
use rampart_wire::ip::IpProtocol;
use std::net::{Ipv4Addr, Ipv6Addr};

const TCP: u8 = 6;
const UDP: u8 = 17;
const TCP_FIN: u8 = 0x01;
const TCP_PSH: u8 = 0x08;
const TCP_CWR: u8 = 0x80;

/// The network and transport layer of a super-packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layers {
    V4 { l4: u8 },
    V6 { l4: u8 },
}

/// An iterator-like cutter over one super-packet; see the module docs.
#[derive(Debug)]
pub struct Segments<'a> {
    pkt: &'a [u8],
    layers: Layers,
    /// Offset of the L4 header.
    l4_off: usize,
    /// Length of IP + L4 headers copied into every segment.
    hdr_len: usize,
    /// Payload bytes per segment (the whole payload for a single packet).
    seg_payload: usize,
    next: usize,
    count: usize,
    /// Whether to complete a partial checksum of a [`GsoType::None`] packet.
    single_csum: Option<VnetHdr>,
    /// A [`GsoType::None`] packet: copied as it is (no header rewriting).
    single: bool,
}

impl<'a> Segments<'a> {
    /// Validates `pkt` (the bytes after the virtio-net header) against `hdr`.
    pub fn new(hdr: &VnetHdr, pkt: &'a [u8]) -> Result<Self, OffloadError> {
        let l4 = match hdr.gso_type {
            GsoType::None => return Self::single(hdr, pkt),
            GsoType::TcpV4 | GsoType::TcpV6 => TCP,
            GsoType::UdpL4 => UDP,
            GsoType::UdpFragment => return Err(OffloadError::Unsupported("UFO (GSO_UDP)")),
        };
        let version = pkt.first().ok_or(OffloadError::Truncated("IP header"))? >> 4;
        let (layers, ip_hdr_len) = match (hdr.gso_type, version) {
            (GsoType::TcpV4 | GsoType::UdpL4, 4) => (Layers::V4 { l4 }, ipv4_header_len(pkt, l4)?),
            (GsoType::TcpV6 | GsoType::UdpL4, 6) => (Layers::V6 { l4 }, ipv6_header_len(pkt, l4)?),
            _ => return Err(OffloadError::BadValue("IP version for gso_type")),
        };
        let l4_off = if hdr.flags & F_NEEDS_CSUM != 0 {
            let want_offset = if l4 == TCP { 16 } else { 6 };
            if hdr.csum_offset != want_offset {
                return Err(OffloadError::BadValue("virtio_net_hdr csum_offset"));
            }
            usize::from(hdr.csum_start)
        } else {
            ip_hdr_len
        };
        if l4_off < ip_hdr_len {
            return Err(OffloadError::BadValue("virtio_net_hdr csum_start"));
        }
        let l4_len = if l4 == TCP {
            let doff = pkt
                .get(l4_off + 12)
                .ok_or(OffloadError::Truncated("TCP header"))?
                >> 4;
            if doff < 5 {
                return Err(OffloadError::BadValue("TCP data offset"));
            }
            usize::from(doff) * 4
        } else {
            8
        };
        let hdr_len = l4_off + l4_len;
        if hdr_len > pkt.len() {
            return Err(OffloadError::Truncated("L4 header"));
        }
        let seg_payload = usize::from(hdr.gso_size);
        if seg_payload == 0 {
            return Err(OffloadError::BadValue("virtio_net_hdr gso_size"));
        }
        let count = (pkt.len() - hdr_len).div_ceil(seg_payload).max(1);
        Ok(Self {
            pkt,
            layers,
            l4_off,
            hdr_len,
            seg_payload,
            next: 0,
            count,
            single_csum: None,
            single: false,
        })
    }

    fn single(hdr: &VnetHdr, pkt: &'a [u8]) -> Result<Self, OffloadError> {
        let needs = hdr.flags & F_NEEDS_CSUM != 0;
        if needs && usize::from(hdr.csum_start) + usize::from(hdr.csum_offset) + 2 > pkt.len() {
            return Err(OffloadError::BadValue(
                "virtio_net_hdr csum_start/csum_offset",
            ));
        }
        Ok(Self {
            pkt,
            layers: Layers::V4 { l4: 0 },
            l4_off: 0,
            hdr_len: 0,
            seg_payload: pkt.len(),
            next: 0,
            count: 1,
            single_csum: needs.then_some(*hdr),
            single: true,
        })
    }

    /// How many segments the packet makes.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The largest segment, to size output buffers.
    pub fn max_segment_len(&self) -> usize {
        self.hdr_len + self.seg_payload.min(self.pkt.len() - self.hdr_len)
    }

    /// Writes the next segment into `out` and returns its length; `None` when done. On
    /// [`OffloadError::BufferTooSmall`] the same segment is tried again on the next call.
    pub fn next_into(&mut self, out: &mut [u8]) -> Option<Result<usize, OffloadError>> {
        if self.next >= self.count {
            return None;
        }
        let index = self.next;
        let start = self.hdr_len + index * self.seg_payload;
        let end = (start + self.seg_payload).min(self.pkt.len());
        let seg_len = self.hdr_len + (end - start);
        let Some(seg) = out.get_mut(..seg_len) else {
            return Some(Err(OffloadError::BufferTooSmall));
        };
        seg[..self.hdr_len].copy_from_slice(&self.pkt[..self.hdr_len]);
        seg[self.hdr_len..].copy_from_slice(&self.pkt[start..end]);
        self.next += 1;
        if let Some(hdr) = self.single_csum {
            return Some(crate::vnet::complete_checksum(&hdr, seg).map(|()| seg_len));
        }
        if self.single {
            return Some(Ok(seg_len));
        }
        self.fix_headers(seg, index);
        Some(Ok(seg_len))
    }

    /// Rewrites lengths, IDs, sequence numbers, flags and checksums of segment `index`.
    fn fix_headers(&self, seg: &mut [u8], index: usize) {
        let last = index + 1 == self.count;
        let l4_len = seg.len() - self.l4_off;
        let (mut pseudo, l4) = match self.layers {
            Layers::V4 { l4 } => {
                let ihl = usize::from(seg[0] & 0x0f) * 4;
                put_u16(seg, 2, seg.len() as u16);
                let id = u16::from_be_bytes([seg[4], seg[5]]).wrapping_add(index as u16);
                put_u16(seg, 4, id);
                put_u16(seg, 10, 0);
                let sum = checksum::checksum(&seg[..ihl]);
                put_u16(seg, 10, sum);
                let src = Ipv4Addr::new(seg[12], seg[13], seg[14], seg[15]);
                let dst = Ipv4Addr::new(seg[16], seg[17], seg[18], seg[19]);
                (
                    checksum::pseudo_header_v4(src, dst, IpProtocol(l4), l4_len as u16),
                    l4,
                )
            }
            Layers::V6 { l4 } => {
                put_u16(seg, 4, (seg.len() - 40) as u16);
                let src = Ipv6Addr::from(<[u8; 16]>::try_from(&seg[8..24]).unwrap_or_default());
                let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&seg[24..40]).unwrap_or_default());
                (
                    checksum::pseudo_header_v6(src, dst, IpProtocol(l4), l4_len as u32),
                    l4,
                )
            }
        };
        let o = self.l4_off;
        let csum_field = if l4 == TCP {
            let seq = u32::from_be_bytes([seg[o + 4], seg[o + 5], seg[o + 6], seg[o + 7]]);
            let seq = seq.wrapping_add((index * self.seg_payload) as u32);
            seg[o + 4..o + 8].copy_from_slice(&seq.to_be_bytes());
            if !last {
                seg[o + 13] &= !(TCP_FIN | TCP_PSH);
            }
            if index > 0 {
                seg[o + 13] &= !TCP_CWR;
            }
            o + 16
        } else {
            put_u16(seg, o + 4, l4_len as u16);
            o + 6
        };
        put_u16(seg, csum_field, 0);
        let mut sum = pseudo.add_u16(ones_sum(&seg[o..])).finish();
        if l4 == UDP && sum == 0 {
            sum = 0xffff;
        }
        put_u16(seg, csum_field, sum);
    }
}

/// Header length of an IPv4 packet carrying `l4`, checked.
fn ipv4_header_len(pkt: &[u8], l4: u8) -> Result<usize, OffloadError> {
    if pkt.len() < 20 {
        return Err(OffloadError::Truncated("IPv4 header"));
    }
    let ihl = usize::from(pkt[0] & 0x0f) * 4;
    if ihl < 20 || ihl > pkt.len() {
        return Err(OffloadError::BadValue("IPv4 IHL"));
    }
    if pkt[9] != l4 {
        return Err(OffloadError::BadValue("IPv4 protocol for gso_type"));
    }
    Ok(ihl)
}

/// Header length of an IPv6 packet carrying `l4`: the fixed 40 bytes (extension headers, if
/// any, lie between it and `csum_start`, and are copied as they are).
fn ipv6_header_len(pkt: &[u8], l4: u8) -> Result<usize, OffloadError> {
    if pkt.len() < 40 {
        return Err(OffloadError::Truncated("IPv6 header"));
    }
    // Next header is either the L4 protocol or an extension header; reject only the clearly
    // inconsistent case of the other L4 protocol.
    let other = if l4 == TCP { UDP } else { TCP };
    if pkt[6] == other {
        return Err(OffloadError::BadValue("IPv6 next header for gso_type"));
    }
    Ok(40)
}

/// The folded one's-complement sum of `data` (RFC 1071), not complemented; an odd trailing
/// byte is padded with zero. Eight bytes at a time with end-around carry (RFC 1071 §2: the sum
/// of wider words folds to the same 16-bit sum, as 2^16 - 1 divides 2^64 - 1): the data plane
/// sums every segment it cuts, so this is on the per-byte path.
pub(crate) fn ones_sum(data: &[u8]) -> u16 {
    let add = |sum: u64, w: u64| {
        let (s, carry) = sum.overflowing_add(w);
        // No overflow: with a carry, `s` is at most 2^64 - 2.
        s + u64::from(carry)
    };
    let mut sum = 0u64;
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        sum = add(sum, u64::from_be_bytes(b));
    }
    let rest = words.remainder();
    let mut tail = [0u8; 8];
    tail[..rest.len()].copy_from_slice(rest);
    sum = add(sum, u64::from_be_bytes(tail));
    let mut s = (sum & 0xffff_ffff) + (sum >> 32);
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    // Fits: the loop ran until `s <= 0xffff`.
    s as u16
}

fn put_u16(buf: &mut [u8], at: usize, v: u16) {
    buf[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vnet::F_NEEDS_CSUM;

    /// RFC 1071 checksum, 16 bits at a time: an implementation independent of [`checksum`].
    fn rfc1071(parts: &[&[u8]]) -> u16 {
        let data: Vec<u8> = parts.concat();
        let mut sum: u32 = 0;
        for pair in data.chunks(2) {
            sum += u32::from(u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]));
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    fn be16(b: &[u8], at: usize) -> u16 {
        u16::from_be_bytes([b[at], b[at + 1]])
    }

    fn payload(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    const SRC4: [u8; 4] = [192, 0, 2, 1];
    const DST4: [u8; 4] = [203, 0, 113, 5];

    fn tcp_header(flags: u8) -> Vec<u8> {
        let mut t = vec![0u8; 20];
        t[0..2].copy_from_slice(&40000u16.to_be_bytes());
        t[2..4].copy_from_slice(&5201u16.to_be_bytes());
        t[4..8].copy_from_slice(&0xffff_f000u32.to_be_bytes()); // wraps during the test
        t[8..12].copy_from_slice(&77u32.to_be_bytes());
        t[12] = 5 << 4;
        t[13] = flags;
        t[14..16].copy_from_slice(&64240u16.to_be_bytes());
        t
    }

    fn ipv4(proto: u8, l4_and_payload: &[u8]) -> Vec<u8> {
        let mut ip = vec![0x45, 0, 0, 0, 0xff, 0xfe, 0x40, 0, 64, proto, 0, 0];
        ip.extend_from_slice(&SRC4);
        ip.extend_from_slice(&DST4);
        let total = (20 + l4_and_payload.len()) as u16;
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        let sum = rfc1071(&[&ip]);
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        ip.extend_from_slice(l4_and_payload);
        ip
    }

    fn ipv6(next: u8, l4_and_payload: &[u8]) -> Vec<u8> {
        let mut ip = vec![0x60, 0, 0, 0, 0, 0, next, 64];
        ip[4..6].copy_from_slice(&(l4_and_payload.len() as u16).to_be_bytes());
        ip.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        ip.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        ip.extend_from_slice(l4_and_payload);
        ip
    }

    fn gso_hdr(gso_type: GsoType, l4_off: u16, csum_offset: u16, gso_size: u16) -> VnetHdr {
        VnetHdr {
            flags: F_NEEDS_CSUM,
            gso_type,
            ecn: false,
            hdr_len: l4_off + 20,
            gso_size,
            csum_start: l4_off,
            csum_offset,
        }
    }

    fn cut(hdr: &VnetHdr, pkt: &[u8]) -> Vec<Vec<u8>> {
        let mut segs = Segments::new(hdr, pkt).expect("valid super-packet");
        let mut out = Vec::new();
        let mut buf = vec![0u8; 65536];
        while let Some(r) = segs.next_into(&mut buf) {
            let n = r.expect("buffer large enough");
            out.push(buf[..n].to_vec());
        }
        assert_eq!(out.len(), segs.count());
        out
    }

    /// Checks one IPv4/TCP segment with the independent checksum and returns its payload.
    fn check_tcp4(seg: &[u8], index: usize, mss: usize) -> Vec<u8> {
        assert_eq!(usize::from(be16(seg, 2)), seg.len(), "IPv4 total length");
        assert_eq!(
            be16(seg, 4),
            0xfffeu16.wrapping_add(index as u16),
            "IPv4 ID"
        );
        assert_eq!(rfc1071(&[&seg[..20]]), 0, "IPv4 header checksum");
        let tcp = &seg[20..];
        let pseudo = [
            &SRC4[..],
            &DST4[..],
            &[0, 6],
            &(tcp.len() as u16).to_be_bytes(),
        ]
        .concat();
        assert_eq!(rfc1071(&[&pseudo, tcp]), 0, "TCP checksum");
        let seq = u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]);
        assert_eq!(seq, 0xffff_f000u32.wrapping_add((index * mss) as u32));
        tcp[20..].to_vec()
    }

    #[test]
    fn tcp_v4_super_packet_into_segments() {
        let data = payload(4 * 1448 + 100);
        let pkt = ipv4(6, &[tcp_header(0x80 | 0x18 | 0x01), data.clone()].concat());
        let segs = cut(&gso_hdr(GsoType::TcpV4, 20, 16, 1448), &pkt);
        assert_eq!(segs.len(), 5);
        let mut joined = Vec::new();
        for (i, seg) in segs.iter().enumerate() {
            assert!(seg.len() <= 20 + 20 + 1448);
            joined.extend(check_tcp4(seg, i, 1448));
            let flags = seg[33];
            assert_eq!(flags & TCP_CWR != 0, i == 0, "CWR on the first only");
            assert_eq!(
                flags & (TCP_FIN | TCP_PSH) != 0,
                i == 4,
                "FIN/PSH on the last only"
            );
            assert_eq!(flags & 0x10, 0x10, "ACK everywhere");
        }
        assert_eq!(joined, data);
    }

    #[test]
    fn tcp_v6_and_udp_super_packets() {
        let data = payload(3000);
        let tcp6 = ipv6(6, &[tcp_header(0x18), data.clone()].concat());
        let segs = cut(&gso_hdr(GsoType::TcpV6, 40, 16, 1220), &tcp6);
        assert_eq!(segs.len(), 3);
        for seg in &segs {
            assert_eq!(
                usize::from(be16(seg, 4)) + 40,
                seg.len(),
                "IPv6 payload length"
            );
            let l4 = &seg[40..];
            let len = (l4.len() as u32).to_be_bytes();
            let pseudo = [&seg[8..40], &len[..], &[0, 0, 0, 6]].concat();
            assert_eq!(rfc1071(&[&pseudo, l4]), 0, "TCP/IPv6 checksum");
        }
        let udp = [vec![0x11, 0x94, 0x11, 0x94, 0, 0, 0, 0], data.clone()].concat();
        let segs = cut(
            &VnetHdr {
                hdr_len: 28,
                ..gso_hdr(GsoType::UdpL4, 20, 6, 1000)
            },
            &ipv4(17, &udp),
        );
        assert_eq!(segs.len(), 3);
        let mut joined = Vec::new();
        for (i, seg) in segs.iter().enumerate() {
            assert_eq!(be16(seg, 4), 0xfffeu16.wrapping_add(i as u16));
            assert_eq!(rfc1071(&[&seg[..20]]), 0);
            let l4 = &seg[20..];
            assert_eq!(usize::from(be16(l4, 4)), l4.len(), "UDP length");
            let pseudo = [&SRC4[..], &DST4[..], &[0, 17], &l4[4..6]].concat();
            assert_eq!(rfc1071(&[&pseudo, l4]), 0, "UDP checksum");
            joined.extend_from_slice(&l4[8..]);
        }
        assert_eq!(joined, data);
    }

    #[test]
    fn single_packet_partial_checksum_is_completed() {
        let data = payload(101);
        let mut pkt = ipv4(6, &[tcp_header(0x18), data].concat());
        let tcp_len = (pkt.len() - 20) as u16;
        // The kernel leaves the pseudo-header sum (not complemented) in the field.
        let seed =
            checksum::pseudo_header_v4(SRC4.into(), DST4.into(), IpProtocol(6), tcp_len).folded();
        pkt[36..38].copy_from_slice(&seed.to_be_bytes());
        let segs = cut(&gso_hdr(GsoType::None, 20, 16, 0), &pkt);
        assert_eq!(segs.len(), 1);
        check_tcp4(&segs[0], 0, 0);
    }

    /// A plain packet (no offload, checksum complete, e.g. ICMP) comes out byte for byte.
    #[test]
    fn single_packet_without_offload_is_copied_unchanged() {
        let pkt = ipv4(1, &[8, 0, 0xf7, 0xff, 0, 0, 0, 0, 1, 2, 3, 4]);
        let segs = cut(&VnetHdr::NONE, &pkt);
        assert_eq!(segs, vec![pkt]);
    }

    /// The wide sum agrees with the 16-bit reference sum for every length and alignment tail.
    #[test]
    fn ones_sum_matches_rfc1071() {
        let data: Vec<u8> = (0..3000u32).map(|i| (i * 131 + 7) as u8 | 0x80).collect();
        for len in (0..64).chain([1399, 1400, 2999, 3000]) {
            let d = &data[..len];
            let want = !rfc1071(&[d]);
            assert_eq!(ones_sum(d), want, "length {len}");
        }
        assert_eq!(ones_sum(&[0xff; 4096]), 0xffff);
    }

    #[test]
    fn rejects_inconsistent_input() {
        let pkt = ipv4(6, &[tcp_header(0x10), payload(10)].concat());
        let bad = |h: VnetHdr, p: &[u8]| Segments::new(&h, p).map(|_| ()).unwrap_err();
        assert_eq!(
            bad(gso_hdr(GsoType::TcpV4, 20, 16, 0), &pkt),
            OffloadError::BadValue("virtio_net_hdr gso_size")
        );
        assert!(matches!(
            bad(gso_hdr(GsoType::TcpV6, 20, 16, 100), &pkt),
            OffloadError::BadValue(_)
        ));
        assert!(matches!(
            bad(gso_hdr(GsoType::UdpL4, 20, 6, 100), &pkt),
            OffloadError::BadValue(_)
        ));
        assert!(matches!(
            bad(gso_hdr(GsoType::TcpV4, 20, 6, 100), &pkt),
            OffloadError::BadValue(_)
        ));
        assert!(matches!(
            bad(gso_hdr(GsoType::TcpV4, 20, 16, 100), &pkt[..35]),
            OffloadError::Truncated(_)
        ));
        assert!(matches!(
            bad(gso_hdr(GsoType::UdpFragment, 20, 6, 100), &pkt),
            OffloadError::Unsupported(_)
        ));
        assert!(matches!(
            bad(gso_hdr(GsoType::TcpV4, 20, 16, 100), &pkt[..10]),
            OffloadError::Truncated(_)
        ));
        let mut segs = Segments::new(&gso_hdr(GsoType::TcpV4, 20, 16, 4), &pkt).expect("valid");
        assert_eq!(
            segs.next_into(&mut [0u8; 10]),
            Some(Err(OffloadError::BufferTooSmall))
        );
        assert!(segs.next_into(&mut [0u8; 100]).is_some_and(|r| r == Ok(44)));
    }

    proptest::proptest! {
        /// Arbitrary bytes behind an arbitrary header never panic.
        #[test]
        fn never_panics(hdr in proptest::collection::vec(proptest::prelude::any::<u8>(), 10),
                        pkt in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            if let Ok((h, _)) = VnetHdr::parse(&hdr) {
                if let Ok(mut segs) = Segments::new(&h, &pkt) {
                    let mut buf = [0u8; 512];
                    let mut n = 0;
                    while let Some(r) = segs.next_into(&mut buf) {
                        n += 1;
                        if r.is_err() || n > 500 { break; }
                    }
                }
            }
        }

        /// Segments of a TCPv4 super-packet always reassemble to the payload and checksum.
        #[test]
        fn tcp4_reassembles(len in 1usize..6000, mss in 1u16..1500) {
            let data = payload(len);
            let pkt = ipv4(6, &[tcp_header(0x18), data.clone()].concat());
            let segs = cut(&gso_hdr(GsoType::TcpV4, 20, 16, mss), &pkt);
            let mut joined = Vec::new();
            for (i, seg) in segs.iter().enumerate() {
                joined.extend(check_tcp4(seg, i, usize::from(mss)));
            }
            proptest::prop_assert_eq!(joined, data);
        }
    }

    /// Scapy recomputes every checksum and length of our segments and must agree.
    #[test]
    fn scapy_agrees_with_segments() {
        let data = payload(3000);
        let mut hexes = Vec::new();
        let tcp4 = ipv4(6, &[tcp_header(0x18), data.clone()].concat());
        hexes.extend(cut(&gso_hdr(GsoType::TcpV4, 20, 16, 1400), &tcp4));
        let tcp6 = ipv6(6, &[tcp_header(0x18), data.clone()].concat());
        hexes.extend(cut(&gso_hdr(GsoType::TcpV6, 40, 16, 1400), &tcp6));
        let udp6 = ipv6(
            17,
            &[vec![0x11, 0x94, 0x11, 0x94, 0, 0, 0, 0], data].concat(),
        );
        hexes.extend(cut(&gso_hdr(GsoType::UdpL4, 40, 6, 1400), &udp6));
        let input: String = hexes.iter().map(|s| format!("{}\n", hex(s))).collect();
        let script = r#"
import sys
from scapy.all import IP, IPv6, TCP, UDP, raw
n = 0
for line in sys.stdin.read().split():
    b = bytes.fromhex(line)
    p = IP(b) if b[0] >> 4 == 4 else IPv6(b)
    q = p.copy()
    if IP in q:
        del q[IP].chksum
        del q[IP].len
    else:
        del q[IPv6].plen
    l4 = TCP if TCP in q else UDP
    del q[l4].chksum
    if l4 is UDP:
        del q[UDP].len
    if raw(q) != b:
        sys.exit("segment %d differs from scapy's rebuild" % n)
    n += 1
print(n)
"#;
        if let Some(out) = rampart_testkit::python(script, &input) {
            assert_eq!(out.trim(), hexes.len().to_string());
        }
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
