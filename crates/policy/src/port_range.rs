//! Port selectors (RFC 4301 §4.4.1.1 "Local Port, Remote Port"): a range of ports, OPAQUE (the
//! field is not available: a non-initial fragment, a protocol without ports, or already
//! encrypted), or ANY (any value, *including* OPAQUE). For ICMP, ICMPv6 and the Mobility Header the
//! "port" is the 16-bit value `type * 256 + code` (RFC 4301 §4.4.1.1; RFC 7296 §3.13.1).
//!
//! A selector is an interval over `0..=65536`, where 65536 stands for OPAQUE: ANY is the whole
//! interval, OPAQUE the last point, a port range lies below it. Intersections of such intervals are
//! again selectors, so the algebra is closed. A range covering every port, `0..=65535`, is ANY,
//! which is what IKEv2 means by it (RFC 7296 §3.13.1).

use core::fmt;

use crate::error::PolicyError;

/// The interval point standing for OPAQUE.
pub(crate) const OPAQUE_POINT: u32 = 65536;

/// A packet's port field as the SPD sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortValue {
    /// A port (or an ICMP/MH `type * 256 + code`).
    Port(u16),
    /// The field is not available (RFC 4301 §4.4.1.1 OPAQUE).
    Opaque,
}

impl PortValue {
    /// The ICMP/ICMPv6 type and code as one 16-bit value, type in the high byte
    /// (RFC 4301 §4.4.1.1, RFC 7296 §3.13.1).
    pub fn icmp(icmp_type: u8, code: u8) -> Self {
        Self::Port(u16::from_be_bytes([icmp_type, code]))
    }

    /// The value as a point of the selector interval.
    pub(crate) fn point(self) -> u32 {
        match self {
            Self::Port(p) => u32::from(p),
            Self::Opaque => OPAQUE_POINT,
        }
    }

    /// The value of an interval point.
    pub(crate) fn from_point(p: u32) -> Self {
        u16::try_from(p).map_or(Self::Opaque, Self::Port)
    }
}

/// A port selector: ANY, OPAQUE, or a range of ports. Always non-empty.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortSelector {
    lo: u32,
    hi: u32,
}

/// A readable view of a [`PortSelector`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortSelectorKind {
    /// Any value, including OPAQUE.
    Any,
    /// Only OPAQUE.
    Opaque,
    /// Ports `start..=end` (never the full `0..=65535`, which is ANY).
    Range(u16, u16),
}

impl PortSelector {
    /// Any port, and OPAQUE.
    pub const ANY: Self = Self {
        lo: 0,
        hi: OPAQUE_POINT,
    };
    /// Only OPAQUE.
    pub const OPAQUE: Self = Self {
        lo: OPAQUE_POINT,
        hi: OPAQUE_POINT,
    };

    /// Ports `start..=end`; the full range is ANY.
    pub fn range(start: u16, end: u16) -> Result<Self, PolicyError> {
        if start > end {
            return Err(PolicyError::ReversedRange { what: "port range" });
        }
        Ok(Self::from_interval(u32::from(start), u32::from(end)))
    }

    /// The single port `port`.
    pub fn port(port: u16) -> Self {
        Self::from_interval(u32::from(port), u32::from(port))
    }

    /// One ICMP type with any code: `type*256 ..= type*256 + 255` (RFC 4301 §4.4.1.1).
    pub fn icmp_type(icmp_type: u8) -> Self {
        let base = u32::from(icmp_type) << 8;
        Self::from_interval(base, base | 0xff)
    }

    /// One ICMP type and code.
    pub fn icmp(icmp_type: u8, code: u8) -> Self {
        let v = PortValue::icmp(icmp_type, code).point();
        Self::from_interval(v, v)
    }

    /// From an interval of points; the caller keeps `lo <= hi <= 65536` and, when the interval
    /// holds OPAQUE and a port, `lo == 0`.
    pub(crate) fn from_interval(lo: u32, hi: u32) -> Self {
        if lo == 0 && hi >= u32::from(u16::MAX) {
            Self::ANY
        } else {
            Self { lo, hi }
        }
    }

    /// From the IKEv2 Start Port / End Port fields (RFC 7296 §3.13.1): `0..65535` is ANY,
    /// `65535..0` is OPAQUE, any other start greater than end is invalid.
    pub fn from_ts_ports(start: u16, end: u16) -> Result<Self, PolicyError> {
        if start == u16::MAX && end == 0 {
            return Ok(Self::OPAQUE);
        }
        Self::range(start, end).map_err(|_| PolicyError::BadTrafficSelector {
            reason: "start port after end port",
        })
    }

    /// The IKEv2 Start Port / End Port fields for this selector (RFC 7296 §3.13.1).
    pub fn ts_ports(self) -> (u16, u16) {
        match self.kind() {
            PortSelectorKind::Any => (0, u16::MAX),
            PortSelectorKind::Opaque => (u16::MAX, 0),
            PortSelectorKind::Range(a, b) => (a, b),
        }
    }

    /// What this selector is.
    pub fn kind(self) -> PortSelectorKind {
        if self == Self::ANY {
            PortSelectorKind::Any
        } else if self == Self::OPAQUE {
            PortSelectorKind::Opaque
        } else {
            // Not ANY and not OPAQUE, so the interval lies below OPAQUE_POINT.
            let p = |x: u32| u16::try_from(x).unwrap_or(u16::MAX);
            PortSelectorKind::Range(p(self.lo), p(self.hi))
        }
    }

    /// The selector as an inclusive interval over `0..=65536`, 65536 being OPAQUE.
    pub fn interval(self) -> (u32, u32) {
        (self.lo, self.hi)
    }

    /// Whether a packet's port field matches.
    pub fn matches(self, value: PortValue) -> bool {
        (self.lo..=self.hi).contains(&value.point())
    }

    /// Whether every value matched by `other` is matched by `self`.
    pub fn contains(self, other: Self) -> bool {
        self.lo <= other.lo && other.hi <= self.hi
    }

    /// The values matched by both, or `None`.
    pub fn intersect(self, other: Self) -> Option<Self> {
        let (lo, hi) = (self.lo.max(other.lo), self.hi.min(other.hi));
        (lo <= hi).then_some(Self { lo, hi })
    }
}

impl fmt::Debug for PortSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PortSelector({self})")
    }
}

impl fmt::Display for PortSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind() {
            PortSelectorKind::Any => f.write_str("any"),
            PortSelectorKind::Opaque => f.write_str("opaque"),
            PortSelectorKind::Range(a, b) if a == b => write!(f, "{a}"),
            PortSelectorKind::Range(a, b) => write!(f, "{a}-{b}"),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn arb_port_selector() -> impl Strategy<Value = PortSelector> {
        prop_oneof![
            1 => Just(PortSelector::ANY),
            1 => Just(PortSelector::OPAQUE),
            6 => (0u16..40, 0u16..40).prop_map(|(a, b)| PortSelector::range(a.min(b), a.max(b)).unwrap()),
        ]
    }

    pub(crate) fn arb_port_value() -> impl Strategy<Value = PortValue> {
        prop_oneof![1 => Just(PortValue::Opaque), 6 => (0u16..45).prop_map(PortValue::Port)]
    }

    #[test]
    fn any_opaque_and_ranges() {
        // RFC 4301 §4.4.1.1: ANY encompasses OPAQUE; OPAQUE matches only an unavailable field.
        assert!(PortSelector::ANY.matches(PortValue::Opaque));
        assert!(PortSelector::ANY.matches(PortValue::Port(0)));
        assert!(PortSelector::OPAQUE.matches(PortValue::Opaque));
        assert!(!PortSelector::OPAQUE.matches(PortValue::Port(80)));
        let web = PortSelector::range(80, 443).unwrap();
        assert!(web.matches(PortValue::Port(80)) && !web.matches(PortValue::Opaque));
        assert_eq!(PortSelector::range(0, 65535).unwrap(), PortSelector::ANY);
        assert!(PortSelector::range(2, 1).is_err());
        assert_eq!(web.intersect(PortSelector::OPAQUE), None);
        assert_eq!(
            PortSelector::ANY.intersect(PortSelector::OPAQUE),
            Some(PortSelector::OPAQUE)
        );
    }

    #[test]
    fn ike_port_encoding() {
        // RFC 7296 §3.13.1: 0..65535 is any port, 65535..0 is OPAQUE.
        assert_eq!(PortSelector::from_ts_ports(0, 65535), Ok(PortSelector::ANY));
        assert_eq!(
            PortSelector::from_ts_ports(65535, 0),
            Ok(PortSelector::OPAQUE)
        );
        assert!(PortSelector::from_ts_ports(500, 499).is_err());
        assert_eq!(PortSelector::OPAQUE.ts_ports(), (65535, 0));
        assert_eq!(PortSelector::port(500).ts_ports(), (500, 500));
    }

    #[test]
    fn icmp_type_code_as_port() {
        // RFC 4301 §4.4.1.1: a packet of type t, code c matches a type/code range when
        // T-start*256 + C-start <= t*256 + c <= T-end*256 + C-end.
        let echo = PortSelector::icmp_type(8);
        assert_eq!(echo.ts_ports(), (0x0800, 0x08ff));
        assert!(echo.matches(PortValue::icmp(8, 0)));
        assert!(!echo.matches(PortValue::icmp(0, 0)));
        let unreachable_frag = PortSelector::icmp(3, 4);
        assert!(unreachable_frag.matches(PortValue::icmp(3, 4)));
        assert!(!unreachable_frag.matches(PortValue::icmp(3, 3)));
    }

    proptest! {
        #[test]
        fn intersect_commutes(a in arb_port_selector(), b in arb_port_selector()) {
            prop_assert_eq!(a.intersect(b), b.intersect(a));
        }

        #[test]
        fn contains_iff_intersection_is_inner(a in arb_port_selector(), b in arb_port_selector()) {
            prop_assert_eq!(a.contains(b), a.intersect(b) == Some(b));
        }

        #[test]
        fn intersection_is_pointwise_and(a in arb_port_selector(), b in arb_port_selector(), v in arb_port_value()) {
            let both = a.matches(v) && b.matches(v);
            prop_assert_eq!(a.intersect(b).is_some_and(|i| i.matches(v)), both);
        }

        #[test]
        fn ts_ports_round_trip(a in arb_port_selector()) {
            let (s, e) = a.ts_ports();
            prop_assert_eq!(PortSelector::from_ts_ports(s, e), Ok(a));
        }
    }
}
