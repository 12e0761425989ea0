//! Outer-header framing between the sockets and the ESP transform, for both address families
//! (the transform's buffer contract: it takes and gives the whole outer datagram).
//!
//! - Inbound raw ESP over IPv6: a raw IPv6 socket delivers the ESP bytes without the IPv6
//!   header (unlike IPv4); [`push_ipv6_esp_header`] writes a minimal one back in front, from the
//!   sender and the address the packet came to.
//! - Outbound ESP-in-UDP: [`udp_payload_offset`] finds where the ESP bytes start in the datagram
//!   the transform built (after the IPv4 header with options, or the IPv6 header and, in
//!   transport mode, the extension headers the original packet carried before UDP), so the
//!   socket sends only those.

use std::net::Ipv6Addr;

use rampart_dataplane::PacketBuf;
use rampart_wire::ip::IpProtocol;
use rampart_wire::ipv6;

/// The IPv6 fixed header length (RFC 8200 §3).
const IPV6_HEADER_LEN: usize = 40;

/// Puts an IPv6 header (RFC 8200 §3) from `src` to `dst` with Next Header ESP in front of the
/// ESP bytes the buffer holds; `None` if the headroom or the 16-bit payload length is too small.
///
/// ```text
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version| Traffic Class |           Flow Label                  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         Payload Length        |  Next Header  |   Hop Limit   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                     Source Address (128)                      |
/// |                  Destination Address (128)                    |
/// ```
///
/// Traffic class, flow label and hop limit are not delivered by the socket: they are written as
/// 0, 0 and 64. ESP does not cover them (RFC 4303 §3.1); a tunnel's decapsulation takes ECN
/// from this outer header (RFC 6040), which then says "not ECN-capable", the safe default.
pub(crate) fn push_ipv6_esp_header(
    buf: &mut PacketBuf,
    src: Ipv6Addr,
    dst: Ipv6Addr,
) -> Option<()> {
    let payload_len = u16::try_from(buf.data().len()).ok()?;
    // `push_front` hands back the whole packet: the new header bytes come first.
    let hdr = buf
        .push_front(IPV6_HEADER_LEN)
        .ok()?
        .get_mut(..IPV6_HEADER_LEN)?;
    write_ipv6_header(hdr, payload_len, IpProtocol::ESP, src, dst);
    Some(())
}

/// The offset of the UDP payload (the ESP header, RFC 3948 §2.1) in a UDP-encapsulated datagram
/// the transform built: IPv4 header length (IHL) + 8, or the IPv6 header, the extension headers
/// before UDP (walked by [`ipv6::ExtHeaders`], at most [`ipv6::MAX_EXT_HEADERS`]) + 8. `None`
/// if it is not there.
pub(crate) fn udp_payload_offset(d: &[u8]) -> Option<usize> {
    let first = *d.first()?;
    let (off, next) = match first >> 4 {
        4 => (usize::from(first & 0x0f) * 4, IpProtocol(*d.get(9)?)),
        6 => {
            let mut walk = ipv6::ExtHeaders::new(IpProtocol(*d.get(6)?), d.get(IPV6_HEADER_LEN..)?);
            for header in &mut walk {
                header.ok()?;
            }
            (IPV6_HEADER_LEN + walk.offset(), walk.next_kind())
        }
        _ => return None,
    };
    let end = off.checked_add(8)?;
    (next == IpProtocol::UDP && end <= d.len()).then_some(end)
}

/// Writes a fixed IPv6 header (RFC 8200 §3: traffic class and flow label 0, hop limit 64) into
/// the 40 bytes of `hdr`.
pub(crate) fn write_ipv6_header(
    hdr: &mut [u8],
    payload_len: u16,
    next: IpProtocol,
    src: Ipv6Addr,
    dst: Ipv6Addr,
) {
    hdr.fill(0);
    hdr[0] = 0x60;
    hdr[4..6].copy_from_slice(&payload_len.to_be_bytes());
    hdr[6] = next.0;
    hdr[7] = 64;
    hdr[8..24].copy_from_slice(&src.octets());
    hdr[24..40].copy_from_slice(&dst.octets());
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADROOM: usize = 128;

    fn v6(s: &str) -> Ipv6Addr {
        s.parse().expect("literal")
    }

    #[test]
    fn rebuilt_ipv6_header_is_found_by_the_transform() {
        let mut buf = PacketBuf::new(2048, HEADROOM);
        let esp = [0x12, 0x34, 0x56, 0x78, 0, 0, 0, 9, 0xaa, 0xbb, 0xcc];
        buf.set(HEADROOM, &esp).expect("fits");
        push_ipv6_esp_header(&mut buf, v6("2001:db8::2"), v6("2001:db8::1")).expect("room");
        let d = buf.data();
        assert_eq!(d.len(), 40 + esp.len());
        assert_eq!(&d[..8], &[0x60, 0, 0, 0, 0, 11, 50, 64]);
        assert_eq!(&d[8..24], &v6("2001:db8::2").octets());
        assert_eq!(&d[24..40], &v6("2001:db8::1").octets());
        let spi = rampart_dataplane::batch::inbound_spi(d).expect("ESP after the header");
        assert_eq!(spi.0, 0x1234_5678);
        // No headroom left: refused, not a panic.
        let mut tight = PacketBuf::new(64, 0);
        tight.set(0, &esp).expect("fits");
        assert!(push_ipv6_esp_header(&mut tight, v6("::1"), v6("::2")).is_none());
    }

    /// Oracle: scapy parses the rebuilt header (version, lengths, protocol, addresses) and
    /// dissects the ESP SPI and sequence number behind it.
    #[test]
    fn rebuilt_ipv6_header_matches_scapy() {
        let mut buf = PacketBuf::new(2048, HEADROOM);
        let esp: Vec<u8> = [0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 7]
            .into_iter()
            .chain((0..24u8).map(|i| i ^ 0x33))
            .collect();
        buf.set(HEADROOM, &esp).expect("fits");
        push_ipv6_esp_header(&mut buf, v6("2001:db8::2"), v6("2001:db8::1")).expect("room");
        let hex: String = buf.data().iter().map(|b| format!("{b:02x}")).collect();
        let script = "import sys\n\
            from scapy.layers.inet6 import IPv6\n\
            from scapy.layers.ipsec import ESP\n\
            p = IPv6(bytes.fromhex(sys.stdin.read().strip()))\n\
            e = p[ESP]\n\
            print(p.version, p.plen, p.nh, p.hlim, p.src, p.dst, hex(e.spi), e.seq)\n";
        let Some(out) = rampart_testkit::python(script, &hex) else {
            return;
        };
        assert_eq!(
            out.trim(),
            "6 32 50 64 2001:db8::2 2001:db8::1 0xdeadbeef 7"
        );
    }

    #[test]
    fn udp_payload_offset_walks_both_families() {
        // IPv4 with 4 bytes of options, protocol UDP.
        let mut v4 = vec![0u8; 24 + 8 + 4];
        v4[0] = 0x46;
        v4[9] = 17;
        assert_eq!(udp_payload_offset(&v4), Some(32));
        v4[9] = 50;
        assert_eq!(udp_payload_offset(&v4), None, "not UDP");
        // IPv6 with a Destination Options header (8 bytes) before UDP.
        let mut v6h = vec![0u8; 40 + 8 + 8 + 4];
        v6h[0] = 0x60;
        v6h[6] = 60;
        v6h[40] = 17;
        v6h[41] = 0;
        assert_eq!(udp_payload_offset(&v6h), Some(56));
        v6h[6] = 17;
        assert_eq!(udp_payload_offset(&v6h), Some(48), "UDP right after");
        // Truncated or looping input is refused.
        assert_eq!(udp_payload_offset(&v6h[..45]), None);
        assert_eq!(udp_payload_offset(&[]), None);
        let mut chain = vec![0u8; 40 + 8 * 12];
        chain[0] = 0x60;
        chain[6] = 60;
        for i in 0..12 {
            chain[40 + 8 * i] = 60;
        }
        assert_eq!(udp_payload_offset(&chain), None);
    }
}
