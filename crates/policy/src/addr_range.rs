//! Inclusive IP address ranges of one family: the address part of an SPD selector (RFC 4301
//! §4.4.1.1, "a list of ranges of IP addresses") and of an IKEv2 traffic selector (RFC 7296
//! §3.13.1, TS_IPV4_ADDR_RANGE / TS_IPV6_ADDR_RANGE).
//!
//! A range is kept as two addresses; prefixes (`10.0.0.0/8`) are one way to build one. Internally
//! both families are compared as `u128` so that the algebra is the same for IPv4 and IPv6.

use core::fmt;
use core::str::FromStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::PolicyError;

/// An IP address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

impl Family {
    /// The family of an address.
    pub fn of(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => Self::V4,
            IpAddr::V6(_) => Self::V6,
        }
    }

    /// The number of bits in an address of this family.
    pub fn bits(self) -> u8 {
        match self {
            Self::V4 => 32,
            Self::V6 => 128,
        }
    }
}

/// An address as a number, IPv4 in the low 32 bits.
pub(crate) fn addr_to_u128(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// The address of `family` whose numeric value is `value` (truncated to the family's width).
pub(crate) fn u128_to_addr(family: Family, value: u128) -> IpAddr {
    match family {
        // Truncation is intended: callers pass values within the family's range.
        Family::V4 => IpAddr::V4(Ipv4Addr::from(value as u32)),
        Family::V6 => IpAddr::V6(Ipv6Addr::from(value)),
    }
}

/// An inclusive range `start..=end` of addresses of one family; never empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddrRange {
    start: IpAddr,
    end: IpAddr,
}

impl AddrRange {
    /// Every IPv4 address (`0.0.0.0/0`).
    pub const ANY_V4: Self = Self {
        start: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        end: IpAddr::V4(Ipv4Addr::BROADCAST),
    };
    /// Every IPv6 address (`::/0`).
    pub const ANY_V6: Self = Self {
        start: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        end: IpAddr::V6(Ipv6Addr::new(
            0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
        )),
    };

    /// The range `start..=end`. Both must be of one family and `start <= end`.
    pub fn new(start: IpAddr, end: IpAddr) -> Result<Self, PolicyError> {
        if Family::of(start) != Family::of(end) {
            return Err(PolicyError::FamilyMismatch {
                what: "address range",
            });
        }
        if addr_to_u128(start) > addr_to_u128(end) {
            return Err(PolicyError::ReversedRange {
                what: "address range",
            });
        }
        Ok(Self { start, end })
    }

    /// The single address `addr`.
    pub fn host(addr: IpAddr) -> Self {
        Self {
            start: addr,
            end: addr,
        }
    }

    /// Every address of `family`.
    pub fn any(family: Family) -> Self {
        match family {
            Family::V4 => Self::ANY_V4,
            Family::V6 => Self::ANY_V6,
        }
    }

    /// The prefix `addr/len`; host bits of `addr` are ignored.
    pub fn prefix(addr: IpAddr, len: u8) -> Result<Self, PolicyError> {
        let family = Family::of(addr);
        if len > family.bits() {
            return Err(PolicyError::PrefixTooLong { len });
        }
        let host_bits = u32::from(family.bits() - len);
        let host_mask = if host_bits == 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        let base = addr_to_u128(addr) & !host_mask;
        Ok(Self::from_u128(family, base, base | host_mask))
    }

    /// Builds from numeric bounds; the caller guarantees `lo <= hi <= family.max_value()`.
    pub(crate) fn from_u128(family: Family, lo: u128, hi: u128) -> Self {
        Self {
            start: u128_to_addr(family, lo),
            end: u128_to_addr(family, hi),
        }
    }

    /// The first address.
    pub fn start(&self) -> IpAddr {
        self.start
    }

    /// The last address.
    pub fn end(&self) -> IpAddr {
        self.end
    }

    /// The family of both ends.
    pub fn family(&self) -> Family {
        Family::of(self.start)
    }

    /// The bounds as numbers (IPv4 in the low 32 bits).
    pub fn to_u128(&self) -> (u128, u128) {
        (addr_to_u128(self.start), addr_to_u128(self.end))
    }

    /// Whether `addr` lies in the range (an address of the other family never does).
    pub fn contains_addr(&self, addr: IpAddr) -> bool {
        let (lo, hi) = self.to_u128();
        Family::of(addr) == self.family() && (lo..=hi).contains(&addr_to_u128(addr))
    }

    /// Whether every address of `other` lies in `self`.
    pub fn contains(&self, other: &Self) -> bool {
        let ((a, b), (c, d)) = (self.to_u128(), other.to_u128());
        self.family() == other.family() && a <= c && d <= b
    }

    /// The addresses in both ranges, or `None` if there are none.
    pub fn intersect(&self, other: &Self) -> Option<Self> {
        if self.family() != other.family() {
            return None;
        }
        let ((a, b), (c, d)) = (self.to_u128(), other.to_u128());
        let (lo, hi) = (a.max(c), b.min(d));
        (lo <= hi).then(|| Self::from_u128(self.family(), lo, hi))
    }

    /// The prefix length if this range is exactly one CIDR prefix.
    pub fn prefix_len(&self) -> Option<u8> {
        let (lo, hi) = self.to_u128();
        let size_minus_one = hi - lo;
        // A prefix covers 2^k addresses aligned on 2^k.
        if size_minus_one
            .checked_add(1)
            .is_some_and(|n| !n.is_power_of_two())
        {
            return None;
        }
        let host_bits = 128 - size_minus_one.leading_zeros();
        let aligned = host_bits == 128 || lo & ((1u128 << host_bits) - 1) == 0;
        // Any host-bit count fits in a u8 (at most 128).
        aligned.then(|| self.family().bits() - host_bits as u8)
    }
}

impl fmt::Display for AddrRange {
    /// `a.b.c.d/len` when the range is a prefix, `a.b.c.d` for one host, `start-end` otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.prefix_len() {
            Some(len) if len == self.family().bits() => write!(f, "{}", self.start),
            Some(len) => write!(f, "{}/{len}", self.start),
            None => write!(f, "{}-{}", self.start, self.end),
        }
    }
}

impl FromStr for AddrRange {
    type Err = PolicyError;

    /// Parses `addr`, `addr/len` or `start-end`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let addr =
            |t: &str| IpAddr::from_str(t.trim()).map_err(|_| PolicyError::parse("address", t));
        if let Some((a, len)) = s.split_once('/') {
            let len = len
                .trim()
                .parse::<u8>()
                .map_err(|_| PolicyError::parse("prefix", s))?;
            return Self::prefix(addr(a)?, len);
        }
        if let Some((a, b)) = s.split_once('-') {
            return Self::new(addr(a)?, addr(b)?);
        }
        Ok(Self::host(addr(s)?))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn r(s: &str) -> AddrRange {
        s.parse().expect("test literal is a valid range")
    }

    /// Small IPv4 ranges near each other, plus the odd IPv6 one, so that overlaps are common.
    pub(crate) fn arb_range() -> impl Strategy<Value = AddrRange> {
        prop_oneof![
            9 => (0u32..64, 0u32..64).prop_map(|(a, b)| {
                let (lo, hi) = (a.min(b), a.max(b));
                AddrRange::from_u128(Family::V4, u128::from(lo), u128::from(hi))
            }),
            1 => (0u128..64, 0u128..64).prop_map(|(a, b)| {
                AddrRange::from_u128(Family::V6, a.min(b), a.max(b))
            }),
        ]
    }

    #[test]
    fn parse_and_display() {
        assert_eq!(r("10.1.2.3/8").to_string(), "10.0.0.0/8");
        assert_eq!(r("10.0.0.1").to_string(), "10.0.0.1");
        assert_eq!(r("10.0.0.1-10.0.0.9").to_string(), "10.0.0.1-10.0.0.9");
        assert_eq!(r("10.0.0.0-10.0.0.255").to_string(), "10.0.0.0/24");
        assert_eq!(r("0.0.0.0/0"), AddrRange::ANY_V4);
        assert_eq!(r("::/0"), AddrRange::ANY_V6);
        assert_eq!(AddrRange::ANY_V6.to_string(), "::/0");
        assert_eq!(
            r("2001:db8::/32").end(),
            "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"
                .parse::<IpAddr>()
                .unwrap()
        );
        assert!("10.0.0.9-10.0.0.1".parse::<AddrRange>().is_err());
        assert!("10.0.0.1-::1".parse::<AddrRange>().is_err());
        assert!("10.0.0.0/33".parse::<AddrRange>().is_err());
        assert!("nonsense".parse::<AddrRange>().is_err());
    }

    #[test]
    fn families_never_meet() {
        assert!(AddrRange::ANY_V4.intersect(&AddrRange::ANY_V6).is_none());
        assert!(!AddrRange::ANY_V6.contains(&r("10.0.0.0/8")));
        assert!(!AddrRange::ANY_V6.contains_addr("10.0.0.1".parse().unwrap()));
    }

    proptest! {
        #[test]
        fn intersect_commutes(a in arb_range(), b in arb_range()) {
            prop_assert_eq!(a.intersect(&b), b.intersect(&a));
        }

        #[test]
        fn contains_iff_intersection_is_inner(a in arb_range(), b in arb_range()) {
            prop_assert_eq!(a.contains(&b), a.intersect(&b) == Some(b));
        }

        #[test]
        fn intersection_is_pointwise_and(a in arb_range(), b in arb_range(), p in 0u32..70) {
            let addr = IpAddr::V4(Ipv4Addr::from(p));
            let both = a.contains_addr(addr) && b.contains_addr(addr);
            prop_assert_eq!(a.intersect(&b).is_some_and(|i| i.contains_addr(addr)), both);
        }

        #[test]
        fn display_parses_back(a in arb_range()) {
            prop_assert_eq!(a.to_string().parse::<AddrRange>(), Ok(a));
        }

        #[test]
        fn prefix_round_trips(x in any::<u32>(), len in 0u8..=32) {
            let p = AddrRange::prefix(IpAddr::V4(Ipv4Addr::from(x)), len).unwrap();
            prop_assert_eq!(p.prefix_len(), Some(len));
        }
    }
}
