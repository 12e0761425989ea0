//! Header helpers of the data plane's packet paths: an inner packet's addresses, and the outer
//! IP + UDP header a datagram received on the NAT-T socket had on the wire (the inbound
//! transform wants it in front). The other direction's framing is [`crate::run::framing`].

use std::net::{IpAddr, SocketAddr};

use rampart_dataplane::PacketBuf;
use rampart_wire::checksum::checksum;
use rampart_wire::ip::IpProtocol;

use crate::run::framing::write_ipv6_header;

use super::HEADROOM;

/// Source and destination of an IPv4 or IPv6 packet, if its header is there.
pub(super) fn inner_addrs(p: &[u8]) -> Option<(IpAddr, IpAddr)> {
    match p.first()? >> 4 {
        4 => {
            let s: [u8; 4] = p.get(12..16)?.try_into().ok()?;
            let d: [u8; 4] = p.get(16..20)?.try_into().ok()?;
            Some((IpAddr::from(s), IpAddr::from(d)))
        }
        6 => {
            let s: [u8; 16] = p.get(8..24)?.try_into().ok()?;
            let d: [u8; 16] = p.get(24..40)?.try_into().ok()?;
            Some((IpAddr::from(s), IpAddr::from(d)))
        }
        _ => None,
    }
}

/// Puts `esp` (a UDP payload from `remote` to `local`) into `buf` behind the outer IP and UDP
/// headers it had on the wire, as the inbound buffer contract wants; `None` if it does not fit.
pub(super) fn frame_udp_esp(
    buf: &mut PacketBuf,
    local: SocketAddr,
    remote: SocketAddr,
    esp: &[u8],
) -> Option<()> {
    let hl = match local.ip() {
        IpAddr::V4(_) => 20 + 8,
        IpAddr::V6(_) => 40 + 8,
    };
    buf.set(HEADROOM, esp).ok()?;
    // `push_front` hands back the whole packet: the new header bytes come first.
    let hdr = buf.push_front(hl).ok()?.get_mut(..hl)?;
    write_outer(hdr, remote, local, esp.len());
    Some(())
}

/// Writes an outer IP header (RFC 791 / RFC 8200) and a UDP header (RFC 768, checksum 0: the
/// kernel checked it) for `payload_len` bytes of ESP from `src` to `dst` into `hdr`, which is
/// exactly 28 (IPv4) or 48 (IPv6) bytes. Mixed families cannot happen (one socket, one family).
fn write_outer(hdr: &mut [u8], src: SocketAddr, dst: SocketAddr, payload_len: usize) {
    let udp_len = payload_len + 8;
    let (ip, udp) = hdr.split_at_mut(hdr.len() - 8);
    match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            ip.fill(0);
            ip[0] = 0x45;
            let total = u16::try_from(udp_len + 20).unwrap_or(u16::MAX);
            ip[2..4].copy_from_slice(&total.to_be_bytes());
            ip[8] = 64;
            ip[9] = 17;
            ip[12..16].copy_from_slice(&s.octets());
            ip[16..20].copy_from_slice(&d.octets());
            let sum = checksum(ip);
            ip[10..12].copy_from_slice(&sum.to_be_bytes());
        }
        (s, d) => {
            let to6 = |a: IpAddr| match a {
                IpAddr::V4(v) => v.to_ipv6_mapped(),
                IpAddr::V6(v) => v,
            };
            let plen = u16::try_from(udp_len).unwrap_or(u16::MAX);
            write_ipv6_header(ip, plen, IpProtocol::UDP, to6(s), to6(d));
        }
    }
    udp[0..2].copy_from_slice(&src.port().to_be_bytes());
    udp[2..4].copy_from_slice(&dst.port().to_be_bytes());
    let ul = u16::try_from(udp_len).unwrap_or(u16::MAX);
    udp[4..6].copy_from_slice(&ul.to_be_bytes());
    udp[6..8].fill(0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::dataplane::BUF_LEN;

    #[test]
    fn outer_header_for_udp_esp_is_valid_ipv4() {
        let mut h = [0u8; 28];
        let src: SocketAddr = "192.0.2.2:4500".parse().expect("literal");
        let dst: SocketAddr = "192.0.2.1:4500".parse().expect("literal");
        write_outer(&mut h, src, dst, 100);
        assert_eq!(h[0], 0x45);
        assert_eq!(u16::from_be_bytes([h[2], h[3]]), 128);
        assert_eq!(h[9], 17);
        // A header with its checksum in place sums to 0xffff (RFC 1071).
        assert_eq!(checksum(&h[..20]), 0);
        assert_eq!(u16::from_be_bytes([h[24], h[25]]), 108);
        assert_eq!(&h[20..24], &[0x11, 0x94, 0x11, 0x94]);
    }

    #[test]
    fn framed_udp_esp_is_located_by_the_data_plane() {
        let mut buf = PacketBuf::new(BUF_LEN, HEADROOM);
        let esp = [0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 0xaa, 0xbb];
        for (l, r) in [
            ("192.0.2.2:4500", "192.0.2.1:4500"),
            ("[2001:db8::2]:4500", "[2001:db8::1]:4501"),
        ] {
            let local: SocketAddr = l.parse().expect("literal");
            let remote: SocketAddr = r.parse().expect("literal");
            frame_udp_esp(&mut buf, local, remote, &esp).expect("fits");
            let spi = rampart_dataplane::batch::inbound_spi(buf.data()).expect("valid outer");
            assert_eq!(spi.0, 0x1234_5678);
            assert!(buf.data().ends_with(&esp));
            assert_eq!(inner_addrs(buf.data()), Some((remote.ip(), local.ip())));
        }
    }

    #[test]
    pub(super) fn inner_addrs_reads_both_families_and_rejects_short() {
        let mut v4 = [0u8; 20];
        v4[0] = 0x45;
        v4[12..16].copy_from_slice(&[198, 51, 100, 10]);
        v4[16..20].copy_from_slice(&[203, 0, 113, 10]);
        let (s, d) = inner_addrs(&v4).expect("complete header");
        assert_eq!(s.to_string(), "198.51.100.10");
        assert_eq!(d.to_string(), "203.0.113.10");
        assert!(inner_addrs(&v4[..19]).is_none());
        assert!(inner_addrs(&[]).is_none());
        let mut v6 = [0u8; 40];
        v6[0] = 0x60;
        v6[23] = 1;
        v6[39] = 2;
        let (s, d) = inner_addrs(&v6).expect("complete header");
        assert_eq!((s.to_string(), d.to_string()), ("::1".into(), "::2".into()));
    }
}
