//! The Internet checksum (RFC 1071): ones'-complement sum of 16-bit big-endian words.
//!
//! Used by [`crate::gso`] to fill the IPv4 header checksum and the TCP/UDP checksums of each
//! segment cut from a TSO/USO super-packet read from the TUN device, and by
//! [`crate::vnet::complete_checksum`] for packets that arrive with a partial checksum.
//!
//! The accumulator is a `u64` that adds 32-bit words; folding it to 16 bits with end-around
//! carry gives the same ones'-complement sum as adding 16-bit words (RFC 1071 §2(B), "byte
//! order independence" and "parallel summation"). Each slice passed to [`add`] must start at an
//! even offset of the checksummed data (only the last one may have odd length).

use std::net::{Ipv4Addr, Ipv6Addr};

/// Adds `data` to the running sum `acc`. An odd trailing byte is padded with a zero byte.
pub fn add(data: &[u8], mut acc: u64) -> u64 {
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        acc += u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
    }
    let rest = chunks.remainder();
    let mut pairs = rest.chunks_exact(2);
    for p in &mut pairs {
        acc += u64::from(u16::from_be_bytes([p[0], p[1]]));
    }
    if let [last] = pairs.remainder() {
        acc += u64::from(u16::from_be_bytes([*last, 0]));
    }
    acc
}

/// Folds the running sum to 16 bits with end-around carry (not complemented).
pub fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The checksum field value: the complement of the folded sum.
pub fn finish(acc: u64) -> u16 {
    !fold(acc)
}

/// Sum of the IPv4 pseudo-header (RFC 793 §3.1, RFC 768): source, destination, zero, protocol,
/// upper-layer length.
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, len: u16) -> u64 {
    let acc = add(&src.octets(), 0);
    let acc = add(&dst.octets(), acc);
    acc + u64::from(protocol) + u64::from(len)
}

/// Sum of the IPv6 pseudo-header (RFC 8200 §8.1): source, destination, 32-bit upper-layer
/// length, next header.
pub fn pseudo_header_v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, len: u32) -> u64 {
    let acc = add(&src.octets(), 0);
    let acc = add(&dst.octets(), acc);
    acc + u64::from(len) + u64::from(next_header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The RFC 1071 definition, 16 bits at a time, as an independent reference.
    fn reference(data: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        for pair in data.chunks(2) {
            let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
            sum += u32::from(word);
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (before complement).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(add(&data, 0)), 0xddf2);
    }

    #[test]
    fn ipv4_header_known_checksum() {
        // A well-known IPv4 header (checksum field zeroed); its checksum is 0xb861.
        let hdr = hex_bytes("450000730000400040110000c0a80001c0a800c7");
        assert_eq!(finish(add(&hdr, 0)), 0xb861);
    }

    fn hex_bytes(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    proptest! {
        #[test]
        fn matches_reference(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(finish(add(&data, 0)), reference(&data));
        }

        #[test]
        fn split_at_even_offsets_is_the_same(data in proptest::collection::vec(any::<u8>(), 0..300), cut in 0usize..150) {
            let cut = (cut * 2).min(data.len() & !1);
            let whole = finish(add(&data, 0));
            let parts = finish(add(&data[cut..], add(&data[..cut], 0)));
            prop_assert_eq!(whole, parts);
        }
    }
}
