//! The Internet checksum (RFC 1071), computed incrementally, plus the IPv4 and IPv6 pseudo-headers
//! that UDP (and TCP) checksums cover (RFC 768, RFC 8200 §8.1).
//!
//! Used by the IPv4 header view (header checksum) and the UDP view (ESP-in-UDP, IKE on 500/4500).
//! [`update`] applies RFC 1624 incremental updates, for rewriting one 16-bit field (e.g. a TTL
//! decrement) without summing the whole header again.

use core::net::{Ipv4Addr, Ipv6Addr};

use crate::ip::{AddrPair, IpProtocol};

/// A running one's-complement sum (RFC 1071 §2).
///
/// Bytes may be added in pieces of any length: an odd-length piece leaves its last byte pending,
/// and the next piece continues as if the pieces were one buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checksum {
    /// Sum of 16-bit big-endian words; folded only at the end (no overflow before 2^48 words).
    sum: u64,
    /// The high byte of a word whose low byte has not arrived yet.
    pending: Option<u8>,
}

impl Checksum {
    /// An empty sum.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `data` as if it followed everything added so far.
    pub fn add_bytes(&mut self, mut data: &[u8]) -> &mut Self {
        if let Some(high) = self.pending.take() {
            match data.split_first() {
                Some((&low, rest)) => {
                    self.sum += u64::from(u16::from_be_bytes([high, low]));
                    data = rest;
                }
                None => {
                    self.pending = Some(high);
                    return self;
                }
            }
        }
        let mut words = data.chunks_exact(2);
        for word in &mut words {
            self.sum += u64::from(u16::from_be_bytes([word[0], word[1]]));
        }
        self.pending = words.remainder().first().copied();
        self
    }

    /// Adds one 16-bit word (must be at an even offset: no byte pending).
    pub fn add_u16(&mut self, word: u16) -> &mut Self {
        self.add_bytes(&word.to_be_bytes())
    }

    /// Adds one 32-bit value as two 16-bit words.
    pub fn add_u32(&mut self, value: u32) -> &mut Self {
        self.add_bytes(&value.to_be_bytes())
    }

    /// The folded 16-bit one's-complement sum, not yet complemented (an odd trailing byte is
    /// padded with zero, RFC 1071 §4.1).
    pub fn folded(&self) -> u16 {
        let mut sum = self.sum;
        if let Some(high) = self.pending {
            sum += u64::from(high) << 8;
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        // Fits: the loop ran until `sum <= 0xffff`.
        sum as u16
    }

    /// The checksum to put in a header: the complement of the folded sum.
    pub fn finish(&self) -> u16 {
        !self.folded()
    }
}

/// The Internet checksum of one buffer (complemented, ready to store).
///
/// Summing a buffer whose checksum field holds a correct checksum yields 0.
pub fn checksum(data: &[u8]) -> u16 {
    Checksum::new().add_bytes(data).finish()
}

/// RFC 1624 eqn. 3 incremental update: the new checksum after one 16-bit word of the covered
/// data changes from `old_word` to `new_word`.
pub fn update(old_checksum: u16, old_word: u16, new_word: u16) -> u16 {
    let mut sum = Checksum::new();
    sum.add_u16(!old_checksum)
        .add_u16(!old_word)
        .add_u16(new_word);
    sum.finish()
}

/// The sum over the IPv4 pseudo-header (RFC 768): source, destination, zero, protocol and the
/// upper-layer length. Continue it with the upper-layer header and data.
pub fn pseudo_header_v4(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: IpProtocol,
    length: u16,
) -> Checksum {
    let mut sum = Checksum::new();
    sum.add_bytes(&src.octets())
        .add_bytes(&dst.octets())
        .add_bytes(&[0, protocol.0])
        .add_u16(length);
    sum
}

/// The sum over the IPv6 pseudo-header (RFC 8200 §8.1): source, destination, 32-bit
/// upper-layer length, three zero bytes and the next header value.
pub fn pseudo_header_v6(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    protocol: IpProtocol,
    length: u32,
) -> Checksum {
    let mut sum = Checksum::new();
    sum.add_bytes(&src.octets())
        .add_bytes(&dst.octets())
        .add_u32(length)
        .add_bytes(&[0, 0, 0, protocol.0]);
    sum
}

/// The pseudo-header sum for either family. `length` is the upper-layer length; on IPv4 it is
/// truncated to 16 bits, as the IPv4 pseudo-header carries only 16.
pub fn pseudo_header(addrs: &AddrPair, protocol: IpProtocol, length: u32) -> Checksum {
    match *addrs {
        AddrPair::V4 { src, dst } => pseudo_header_v4(src, dst, protocol, length as u16),
        AddrPair::V6 { src, dst } => pseudo_header_v6(src, dst, protocol, length),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3 numerical example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(Checksum::new().add_bytes(&data).folded(), 0xddf2);
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn known_ipv4_header() {
        // A well-known IPv4 header (Wikipedia "IPv4 header checksum" example): checksum 0xb861.
        let mut hdr = hex::decode("450000730000400040110000c0a80001c0a800c7").unwrap();
        assert_eq!(checksum(&hdr), 0xb861);
        hdr[10..12].copy_from_slice(&0xb861u16.to_be_bytes());
        assert_eq!(checksum(&hdr), 0);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(checksum(&[0xab]), !0xab00);
        assert_eq!(Checksum::new().add_bytes(&[]).finish(), 0xffff);
    }

    proptest! {
        #[test]
        fn pieces_sum_like_the_whole(data in proptest::collection::vec(any::<u8>(), 0..200),
                                     cuts in proptest::collection::vec(any::<usize>(), 0..5)) {
            let mut points: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
            points.sort_unstable();
            let mut sum = Checksum::new();
            let mut start = 0;
            for p in points {
                sum.add_bytes(&data[start..p]);
                start = p;
            }
            sum.add_bytes(&data[start..]);
            prop_assert_eq!(sum.finish(), checksum(&data));
        }

        #[test]
        fn incremental_update_matches_recompute(mut data in proptest::collection::vec(any::<u8>(), 2..64),
                                               idx in any::<usize>(), new_word in any::<u16>()) {
            let i = (idx % (data.len() / 2)) * 2;
            let old = checksum(&data);
            let old_word = u16::from_be_bytes([data[i], data[i + 1]]);
            data[i..i + 2].copy_from_slice(&new_word.to_be_bytes());
            let fresh = checksum(&data);
            let updated = update(old, old_word, new_word);
            // 0x0000 and 0xffff are the same one's-complement value.
            prop_assert!(updated == fresh || (updated ^ fresh) == 0xffff && (fresh == 0 || fresh == 0xffff));
        }
    }
}
