//! Inbound coalescing: consecutive decrypted TCP segments of one flow are joined into one TSO
//! super-packet and written to the TUN device with a virtio-net header (the job GRO does on a
//! NIC), so the kernel forwards one 64 KiB packet instead of ~45 small ones. Writing to the TUN
//! device is where the receive path spends its time: each write runs the kernel's forwarding
//! and the receiver's TCP stack in our thread.
//!
//! What may join (the rules of the kernel's `tcp_gro_receive`, kept strict): IPv4 TCP, not a
//! fragment, no SYN/FIN/RST/URG/ECE/CWR, identical IP header but for length, ID and checksum,
//! identical TCP header but for sequence number, PSH and checksum (so the same ACK number,
//! window and options, e.g. the timestamp), the sequence number the previous segment ends at,
//! and a payload no longer than the first one's. A shorter segment, or one with PSH, closes the
//! super-packet. Anything else is written on its own, after what is pending (order kept).
//!
//! The super-packet's header: IPv4 total length and header checksum of the whole (RFC 791),
//! the TCP checksum field holding the pseudo-header sum (RFC 9293 §3.1) over the whole TCP
//! length, `F_NEEDS_CSUM` with `csum_start`/`csum_offset` at it, `GSO_TCPV4` with the first
//! payload's length as `gso_size` — what the kernel's segmentation expects of a TSO packet.

use std::io;
use std::net::Ipv4Addr;

use rampart_sys::vnet::{F_NEEDS_CSUM, GsoType, VnetHdr};
use rampart_wire::checksum;
use rampart_wire::ip::IpProtocol;

use rampart_wire::checksum::checksum;

const TCP: u8 = 6;
const FLAG_PSH: u8 = 0x08;
const FLAG_ACK: u8 = 0x10;
/// The largest IPv4 packet (total length is 16 bits).
const MAX_TOTAL: usize = 65_535;
/// Segments per super-packet (the kernel's `MAX_SKB_FRAGS`-bound limit for GSO is larger; this
/// keeps a burst's latency small).
const MAX_SEGMENTS: usize = 64;

/// Where the headers of a coalescible segment end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tcp4 {
    ihl: usize,
    /// IP + TCP header length.
    hdr_len: usize,
    seq: u32,
    flags: u8,
}

/// A TCP/IPv4 segment that may join a super-packet, or `None`.
fn tcp4(p: &[u8]) -> Option<Tcp4> {
    let b0 = *p.first()?;
    if b0 >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(b0 & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([*p.get(2)?, *p.get(3)?]));
    let frag = u16::from_be_bytes([*p.get(6)?, *p.get(7)?]);
    // MF set or a fragment offset: a fragment.
    if ihl < 20 || total != p.len() || frag & 0x3fff != 0 || *p.get(9)? != TCP {
        return None;
    }
    let doff = usize::from(*p.get(ihl + 12)? >> 4) * 4;
    let hdr_len = ihl + doff;
    let flags = *p.get(ihl + 13)?;
    if doff < 20
        || hdr_len >= p.len()
        || flags & !(FLAG_ACK | FLAG_PSH) != 0
        || flags & FLAG_ACK == 0
    {
        return None;
    }
    let seq = u32::from_be_bytes(p.get(ihl + 4..ihl + 8)?.try_into().ok()?);
    Some(Tcp4 {
        ihl,
        hdr_len,
        seq,
        flags,
    })
}

/// The pending super-packet.
#[derive(Debug)]
struct Pending {
    first: Tcp4,
    /// Payload bytes per segment (the first segment's).
    seg: usize,
    next_seq: u32,
    count: usize,
    /// A shorter or PSH segment joined: nothing more may.
    closed: bool,
}

/// What the coalescer hands its sink to write to the TUN device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Frame<'a> {
    /// One complete IP packet (written behind an empty virtio-net header).
    Plain(&'a [u8]),
    /// A virtio-net header and the super-packet behind it, ready to write as they are.
    Super(&'a [u8]),
}

/// Joins decrypted TCP segments into super-packets for the TUN device; see the module docs.
pub(super) struct Coalescer {
    /// A virtio-net header, then the pending packet (`len` bytes).
    buf: Vec<u8>,
    len: usize,
    pending: Option<Pending>,
}

impl Coalescer {
    pub(super) fn new() -> Self {
        Self {
            buf: vec![0; VnetHdr::LEN + MAX_TOTAL],
            len: 0,
            pending: None,
        }
    }

    /// Takes one inner packet: joins it to the pending super-packet, or writes what is pending
    /// and starts anew, or (not coalescible) writes it on its own.
    pub(super) fn push(
        &mut self,
        p: &[u8],
        out: &mut impl FnMut(Frame<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        let Some(t) = tcp4(p) else {
            self.flush(out)?;
            return out(Frame::Plain(p));
        };
        if self.try_join(&t, p) {
            return Ok(());
        }
        self.flush(out)?;
        let payload = p.len() - t.hdr_len;
        self.buf[VnetHdr::LEN..VnetHdr::LEN + p.len()].copy_from_slice(p);
        self.len = p.len();
        self.pending = Some(Pending {
            first: t,
            seg: payload,
            next_seq: t.seq.wrapping_add(payload as u32),
            count: 1,
            closed: t.flags & FLAG_PSH != 0,
        });
        Ok(())
    }

    /// Appends `p` (parsed as `t`) to the pending super-packet if the rules allow.
    fn try_join(&mut self, t: &Tcp4, p: &[u8]) -> bool {
        let Some(pd) = &mut self.pending else {
            return false;
        };
        let payload = p.len() - t.hdr_len;
        let head = &self.buf[VnetHdr::LEN..VnetHdr::LEN + pd.first.hdr_len];
        let ok = !pd.closed
            && t.hdr_len == pd.first.hdr_len
            && t.ihl == pd.first.ihl
            && t.seq == pd.next_seq
            && payload <= pd.seg
            && pd.count < MAX_SEGMENTS
            && self.len + payload <= MAX_TOTAL
            && same_headers(head, p, t.ihl);
        if !ok {
            return false;
        }
        let at = VnetHdr::LEN + self.len;
        self.buf[at..at + payload].copy_from_slice(&p[t.hdr_len..]);
        self.len += payload;
        pd.count += 1;
        pd.next_seq = t.seq.wrapping_add(payload as u32);
        if t.flags & FLAG_PSH != 0 {
            // PSH goes on the last segment when the kernel cuts the packet again.
            self.buf[VnetHdr::LEN + pd.first.ihl + 13] |= FLAG_PSH;
        }
        pd.closed = payload < pd.seg || t.flags & FLAG_PSH != 0;
        true
    }

    /// Writes the pending super-packet (or single packet), if any.
    pub(super) fn flush(
        &mut self,
        out: &mut impl FnMut(Frame<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        let Some(pd) = self.pending.take() else {
            return Ok(());
        };
        let len = self.len;
        self.len = 0;
        if pd.count == 1 {
            return out(Frame::Plain(&self.buf[VnetHdr::LEN..VnetHdr::LEN + len]));
        }
        let hdr = finish_super_packet(&mut self.buf[VnetHdr::LEN..VnetHdr::LEN + len], &pd);
        hdr.emit(&mut self.buf)
            .map_err(|_| io::Error::other("vnet header buffer"))?;
        out(Frame::Super(&self.buf[..VnetHdr::LEN + len]))
    }
}

/// Whether `p`'s IP and TCP headers equal `head`'s except the fields that differ per segment:
/// IP total length (2..4), ID (4..6), checksum (10..12); TCP sequence (4..8), PSH, checksum
/// (16..18).
fn same_headers(head: &[u8], p: &[u8], ihl: usize) -> bool {
    let Some(ph) = p.get(..head.len()) else {
        return false;
    };
    let eq = |r: std::ops::Range<usize>| head.get(r.clone()) == ph.get(r);
    let t = ihl;
    eq(0..2)
        && eq(6..10)
        && eq(12..ihl)
        && eq(t..t + 4)
        && eq(t + 8..t + 13)
        && (head[t + 13] & !FLAG_PSH) == (ph[t + 13] & !FLAG_PSH)
        && eq(t + 14..t + 16)
        && eq(t + 18..head.len())
}

/// Fixes the super-packet's headers in place and returns its virtio-net header.
fn finish_super_packet(pkt: &mut [u8], pd: &Pending) -> VnetHdr {
    let ihl = pd.first.ihl;
    let total = pkt.len() as u16;
    pkt[2..4].copy_from_slice(&total.to_be_bytes());
    pkt[10..12].fill(0);
    let sum = checksum(&pkt[..ihl]);
    pkt[10..12].copy_from_slice(&sum.to_be_bytes());
    let src = Ipv4Addr::new(pkt[12], pkt[13], pkt[14], pkt[15]);
    let dst = Ipv4Addr::new(pkt[16], pkt[17], pkt[18], pkt[19]);
    let l4_len = (pkt.len() - ihl) as u16;
    // NEEDS_CSUM: the field holds the pseudo-header sum; whoever finishes adds the rest.
    let seed = checksum::pseudo_header_v4(src, dst, IpProtocol(TCP), l4_len).folded();
    pkt[ihl + 16..ihl + 18].copy_from_slice(&seed.to_be_bytes());
    VnetHdr {
        flags: F_NEEDS_CSUM,
        gso_type: GsoType::TcpV4,
        ecn: false,
        hdr_len: pd.first.hdr_len as u16,
        gso_size: pd.seg as u16,
        csum_start: ihl as u16,
        csum_offset: 16,
    }
}

#[cfg(test)]
mod tests {
    use rampart_sys::gso::Segments;

    use super::*;

    /// A TCP/IPv4 segment with timestamps, as a TSO cut makes them.
    fn segment(seq: u32, flags: u8, payload: &[u8], id: u16) -> Vec<u8> {
        let mut tcp = vec![0u8; 32];
        tcp[0..2].copy_from_slice(&5201u16.to_be_bytes());
        tcp[2..4].copy_from_slice(&40000u16.to_be_bytes());
        tcp[4..8].copy_from_slice(&seq.to_be_bytes());
        tcp[8..12].copy_from_slice(&77u32.to_be_bytes());
        tcp[12] = 8 << 4;
        tcp[13] = flags;
        tcp[14..16].copy_from_slice(&512u16.to_be_bytes());
        tcp[20..32].copy_from_slice(&[1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 7]);
        let total = 20 + tcp.len() + payload.len();
        let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, TCP, 0, 0];
        ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        ip[4..6].copy_from_slice(&id.to_be_bytes());
        ip.extend_from_slice(&[198, 51, 100, 10, 203, 0, 113, 10]);
        let sum = checksum(&ip);
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        let mut p = [ip, tcp, payload.to_vec()].concat();
        let l4 = (p.len() - 20) as u16;
        let src = Ipv4Addr::new(198, 51, 100, 10);
        let dst = Ipv4Addr::new(203, 0, 113, 10);
        let mut c = checksum::pseudo_header_v4(src, dst, IpProtocol(TCP), l4);
        let s = c.add_bytes(&p[20..]).finish();
        p[36..38].copy_from_slice(&s.to_be_bytes());
        p
    }

    fn run(packets: &[Vec<u8>]) -> Vec<(bool, Vec<u8>)> {
        let mut c = Coalescer::new();
        let mut frames = Vec::new();
        let mut out = |f: Frame<'_>| {
            frames.push(match f {
                Frame::Plain(p) => (false, p.to_vec()),
                Frame::Super(p) => (true, p.to_vec()),
            });
            Ok(())
        };
        for p in packets {
            c.push(p, &mut out).expect("sink accepts");
        }
        c.flush(&mut out).expect("sink accepts");
        frames
    }

    /// Segments joined and cut again by the TSO segmenter (`rampart_sys::gso`, which checks
    /// its own output against scapy) come back byte for byte but for the IP ID, which the
    /// segmenter counts up from the first.
    #[test]
    fn joined_segments_cut_back_into_the_originals() {
        let payload: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
        let mss = 1348;
        let mut originals = Vec::new();
        for (i, chunk) in payload.chunks(mss).enumerate() {
            let last = (i + 1) * mss >= payload.len();
            let flags = if last { FLAG_ACK | FLAG_PSH } else { FLAG_ACK };
            originals.push(segment(
                1000 + (i * mss) as u32,
                flags,
                chunk,
                40 + i as u16,
            ));
        }
        let frames = run(&originals);
        assert_eq!(frames.len(), 1, "one super-packet");
        let (is_super, frame) = &frames[0];
        assert!(is_super);
        let (hdr, pkt) = VnetHdr::parse(frame).expect("header");
        assert_eq!((hdr.gso_type, hdr.gso_size), (GsoType::TcpV4, mss as u16));
        let mut segs = Segments::new(&hdr, pkt).expect("valid super-packet");
        assert_eq!(segs.count(), originals.len());
        let mut out = vec![0u8; 2048];
        for o in &originals {
            let n = segs.next_into(&mut out).expect("segment").expect("fits");
            assert_eq!(out[..4], o[..4]);
            assert_eq!(out[6..n], o[6..], "all but the IP ID");
        }
    }

    #[test]
    fn gaps_and_other_packets_are_not_joined() {
        let a = segment(1000, FLAG_ACK, &[1; 100], 1);
        let gap = segment(1200, FLAG_ACK, &[2; 100], 2);
        let syn = segment(1300, 0x02 | FLAG_ACK, &[3; 100], 3);
        let mut other_ack = segment(1300, FLAG_ACK, &[4; 100], 4);
        other_ack[20 + 11] ^= 1;
        let udp = {
            let mut p = segment(0, FLAG_ACK, &[5; 10], 5);
            p[9] = 17;
            p
        };
        let frames = run(&[
            a.clone(),
            gap.clone(),
            syn.clone(),
            other_ack.clone(),
            udp.clone(),
        ]);
        let plain: Vec<(bool, Vec<u8>)> = [a, gap, syn, other_ack, udp]
            .into_iter()
            .map(|p| (false, p))
            .collect();
        assert_eq!(frames, plain, "each on its own, in order");
        // A longer segment after a shorter one ends the train; the next one starts anew.
        let s1 = segment(0, FLAG_ACK, &[1; 100], 1);
        let s2 = segment(100, FLAG_ACK, &[1; 50], 2);
        let s3 = segment(150, FLAG_ACK, &[1; 100], 3);
        let frames = run(&[s1, s2, s3.clone()]);
        assert_eq!(frames.len(), 2);
        assert!(frames[0].0);
        assert_eq!(frames[1], (false, s3));
    }
}
