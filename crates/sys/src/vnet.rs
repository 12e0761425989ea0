//! The `virtio_net_hdr` that a TUN device opened with `IFF_VNET_HDR` puts in front of every
//! packet (virtio 1.x spec §5.1.6 "Device Operation", the legacy 10-byte layout without
//! `num_buffers`).
//!
//! With offloads enabled (`TUNSETOFFLOAD`), one read from the TUN device can return a TCP
//! (TSO) or UDP (USO) "super-packet" of up to 64 KiB whose checksum is only partly computed;
//! the header says how to finish it and how to cut it ([`crate::gso::Segments`]). Writes in this
//! mode need a header too ([`VnetHdr::NONE`] for a plain, fully checksummed packet).
//!
//! Multi-byte fields are in the host's byte order: this is the legacy ("native endian") header
//! a TUN device uses unless `TUNSETVNETLE`/`TUNSETVNETBE` is set, which we never do.
//!
//! ```text
//!  0               1               2               3
//! +---------------+---------------+-------------------------------+
//! |     flags     |   gso_type    |            hdr_len            |
//! +---------------+---------------+-------------------------------+
//! |           gso_size            |          csum_start           |
//! +-------------------------------+-------------------------------+
//! |          csum_offset          |   packet (IP header first) ...
//! +-------------------------------+
//! ```

/// `flags`: the checksum from `csum_start` to the end is still to be computed and stored at
/// `csum_start + csum_offset` (the field holds the pseudo-header sum meanwhile).
pub const F_NEEDS_CSUM: u8 = 1;
/// `flags`: the checksum was already validated (receive direction only).
pub const F_DATA_VALID: u8 = 2;
/// `gso_type` bit: the TCP segments carry ECN (CWR set on the first only).
pub const GSO_ECN: u8 = 0x80;

/// Why a virtio-net header or an offloaded packet was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OffloadError {
    /// The buffer ends before the header or packet does.
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// A field holds a value that is out of range or inconsistent.
    #[error("bad value in {0}")]
    BadValue(&'static str),
    /// A valid but unsupported offload (legacy UFO, which means IP fragmentation).
    #[error("unsupported offload: {0}")]
    Unsupported(&'static str),
    /// The output buffer cannot hold the next segment.
    #[error("output buffer too small")]
    BufferTooSmall,
}

/// What kind of segmentation offload a packet carries (`gso_type` without [`GSO_ECN`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GsoType {
    /// A single packet (`VIRTIO_NET_HDR_GSO_NONE`).
    None,
    /// TCP over IPv4 to be cut into `gso_size`-byte segments (`..._GSO_TCPV4`).
    TcpV4,
    /// TCP over IPv6 (`..._GSO_TCPV6`).
    TcpV6,
    /// UDP over IPv4 or IPv6, cut into datagrams of `gso_size` payload bytes (`..._GSO_UDP_L4`).
    UdpL4,
    /// Legacy UFO: one UDP datagram to be IP-fragmented (`..._GSO_UDP`); never produced by us.
    UdpFragment,
}

impl GsoType {
    fn from_wire(v: u8) -> Result<Self, OffloadError> {
        Ok(match v {
            0 => Self::None,
            1 => Self::TcpV4,
            3 => Self::UdpFragment,
            4 => Self::TcpV6,
            5 => Self::UdpL4,
            _ => return Err(OffloadError::BadValue("virtio_net_hdr gso_type")),
        })
    }

    fn to_wire(self) -> u8 {
        match self {
            Self::None => 0,
            Self::TcpV4 => 1,
            Self::UdpFragment => 3,
            Self::TcpV6 => 4,
            Self::UdpL4 => 5,
        }
    }
}

/// A parsed `virtio_net_hdr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VnetHdr {
    /// [`F_NEEDS_CSUM`], [`F_DATA_VALID`].
    pub flags: u8,
    /// The segmentation offload.
    pub gso_type: GsoType,
    /// Whether [`GSO_ECN`] was set.
    pub ecn: bool,
    /// Length of the IP + L4 headers as the sender saw it (advisory: the kernel may include
    /// payload bytes; [`crate::gso`] recomputes it).
    pub hdr_len: u16,
    /// Payload bytes per segment.
    pub gso_size: u16,
    /// Offset of the L4 header (where checksumming starts).
    pub csum_start: u16,
    /// Offset of the checksum field from `csum_start` (16 for TCP, 6 for UDP).
    pub csum_offset: u16,
}

impl VnetHdr {
    /// Encoded length.
    pub const LEN: usize = 10;

    /// A header for a plain, fully checksummed packet.
    pub const NONE: Self = Self {
        flags: 0,
        gso_type: GsoType::None,
        ecn: false,
        hdr_len: 0,
        gso_size: 0,
        csum_start: 0,
        csum_offset: 0,
    };

    /// Splits `buf` into the header and the packet behind it.
    pub fn parse(buf: &[u8]) -> Result<(Self, &[u8]), OffloadError> {
        let (h, rest) = buf
            .split_first_chunk::<{ Self::LEN }>()
            .ok_or(OffloadError::Truncated("virtio_net_hdr"))?;
        let u16_at = |i: usize| u16::from_ne_bytes([h[i], h[i + 1]]);
        let hdr = Self {
            flags: h[0],
            gso_type: GsoType::from_wire(h[1] & !GSO_ECN)?,
            ecn: h[1] & GSO_ECN != 0,
            hdr_len: u16_at(2),
            gso_size: u16_at(4),
            csum_start: u16_at(6),
            csum_offset: u16_at(8),
        };
        Ok((hdr, rest))
    }

    /// Writes the header into the first [`Self::LEN`] bytes of `out`.
    pub fn emit(&self, out: &mut [u8]) -> Result<(), OffloadError> {
        let h = out
            .get_mut(..Self::LEN)
            .ok_or(OffloadError::BufferTooSmall)?;
        h[0] = self.flags;
        h[1] = self.gso_type.to_wire() | if self.ecn { GSO_ECN } else { 0 };
        h[2..4].copy_from_slice(&self.hdr_len.to_ne_bytes());
        h[4..6].copy_from_slice(&self.gso_size.to_ne_bytes());
        h[6..8].copy_from_slice(&self.csum_start.to_ne_bytes());
        h[8..10].copy_from_slice(&self.csum_offset.to_ne_bytes());
        Ok(())
    }
}

/// Finishes a partial checksum in place (a [`GsoType::None`] packet with [`F_NEEDS_CSUM`]):
/// sums from `csum_start` to the end — the field already holds the pseudo-header sum — and
/// stores the complement at `csum_start + csum_offset`. Does nothing without the flag.
pub fn complete_checksum(hdr: &VnetHdr, pkt: &mut [u8]) -> Result<(), OffloadError> {
    if hdr.flags & F_NEEDS_CSUM == 0 {
        return Ok(());
    }
    let start = usize::from(hdr.csum_start);
    let field = start + usize::from(hdr.csum_offset);
    if field + 2 > pkt.len() {
        return Err(OffloadError::BadValue(
            "virtio_net_hdr csum_start/csum_offset",
        ));
    }
    let mut sum = !crate::gso::ones_sum(&pkt[start..]);
    if hdr.csum_offset == 6 && sum == 0 {
        // UDP (RFC 768): a computed zero is sent as all ones.
        sum = 0xffff;
    }
    pkt[field..field + 2].copy_from_slice(&sum.to_be_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_known_bytes() {
        let mut buf = vec![0x01, 0x81];
        for v in [54u16, 1448, 20, 16] {
            buf.extend_from_slice(&v.to_ne_bytes());
        }
        buf.extend_from_slice(b"IP");
        let (h, rest) = VnetHdr::parse(&buf).expect("valid header");
        assert_eq!(h.flags, F_NEEDS_CSUM);
        assert_eq!(h.gso_type, GsoType::TcpV4);
        assert!(h.ecn);
        assert_eq!(
            (h.hdr_len, h.gso_size, h.csum_start, h.csum_offset),
            (54, 1448, 20, 16)
        );
        assert_eq!(rest, b"IP");
        let mut out = [0u8; VnetHdr::LEN];
        h.emit(&mut out).expect("room for header");
        assert_eq!(&out[..], &buf[..VnetHdr::LEN]);
    }

    #[test]
    fn rejects_short_and_unknown() {
        assert_eq!(
            VnetHdr::parse(&[0; 9]),
            Err(OffloadError::Truncated("virtio_net_hdr"))
        );
        let mut buf = [0u8; 10];
        buf[1] = 2;
        assert!(matches!(
            VnetHdr::parse(&buf),
            Err(OffloadError::BadValue(_))
        ));
        assert_eq!(
            VnetHdr::NONE.emit(&mut [0; 4]),
            Err(OffloadError::BufferTooSmall)
        );
    }

    #[test]
    fn complete_checksum_rejects_out_of_range() {
        let hdr = VnetHdr {
            flags: F_NEEDS_CSUM,
            csum_start: 20,
            csum_offset: 16,
            ..VnetHdr::NONE
        };
        assert!(complete_checksum(&hdr, &mut [0u8; 30]).is_err());
    }
}
