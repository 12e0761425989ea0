//! Tests for the traffic-selector algebra, including the narrowing cases of RFC 7296 §2.9.

use super::*;
use crate::addr_range::tests::{arb_range, r};
use crate::port_range::tests::{arb_port_selector, arb_port_value};
use crate::selector::tests::arb_protocol;
use proptest::prelude::*;
use std::net::Ipv4Addr;

fn ts(addrs: &str) -> TrafficSelector {
    TrafficSelector::from_addrs(r(addrs))
}

fn tcp(addrs: &str, port: u16) -> TrafficSelector {
    TrafficSelector::new(
        r(addrs),
        ProtocolSelector::Only(IpProtocol::TCP),
        PortSelector::port(port),
    )
}

fn arb_ts() -> impl Strategy<Value = TrafficSelector> {
    (arb_range(), arb_protocol(), arb_port_selector())
        .prop_map(|(a, p, q)| TrafficSelector::new(a, p, q))
}

fn arb_endpoint() -> impl Strategy<Value = (IpAddr, IpProtocol, PortValue)> {
    let proto = prop_oneof![
        Just(IpProtocol::TCP),
        Just(IpProtocol::UDP),
        Just(IpProtocol::ICMP)
    ];
    (0u32..66, proto, arb_port_value()).prop_map(|(a, p, v)| (IpAddr::V4(Ipv4Addr::from(a)), p, v))
}

#[test]
fn wire_fields_checked() {
    let w = TsWire {
        ts_type: TS_IPV4_ADDR_RANGE,
        ip_protocol_id: 0,
        start_port: 0,
        end_port: 65535,
        start_addr: "198.51.100.0".parse().unwrap(),
        end_addr: "198.51.100.255".parse().unwrap(),
    };
    assert_eq!(TrafficSelector::from_wire(&w), Ok(ts("198.51.100.0/24")));
    assert_eq!(ts("198.51.100.0/24").to_wire(), w);
    let bad_type = TsWire {
        ts_type: TS_IPV6_ADDR_RANGE,
        ..w
    };
    assert!(TrafficSelector::from_wire(&bad_type).is_err());
    let reversed = TsWire {
        start_addr: w.end_addr,
        end_addr: w.start_addr,
        ..w
    };
    assert!(TrafficSelector::from_wire(&reversed).is_err());
    let bad_ports = TsWire {
        start_port: 80,
        end_port: 79,
        ..w
    };
    assert!(TrafficSelector::from_wire(&bad_ports).is_err());
    let opaque = TsWire {
        start_port: 65535,
        end_port: 0,
        ..w
    };
    assert_eq!(
        TrafficSelector::from_wire(&opaque).unwrap().ports(),
        PortSelector::OPAQUE
    );
    assert!(TrafficSelector::from_wire(&TsWire { ts_type: 9, ..w }).is_err());
    assert_eq!(tcp("10.0.0.0/8", 80).to_string(), "10.0.0.0/8[tcp/80]");
}

#[test]
fn union_coverage_is_exact() {
    // Neither half alone covers the /24; together they do.
    let halves = [ts("198.51.100.0/25"), ts("198.51.100.128/25")];
    assert!(covers(&halves, &[ts("198.51.100.0/24")]));
    assert!(!covers(&halves[..1], &[ts("198.51.100.0/24")]));
    assert!(!covers(&halves, &[ts("198.51.101.0/24")]));
}

/// RFC 7296 §2.9: "If the responder's policy does not allow it to accept any part of the proposed
/// Traffic Selectors, it responds with a TS_UNACCEPTABLE Notify message."
#[test]
fn rfc7296_2_9_nothing_acceptable() {
    let got = narrow_pair(
        &[ts("198.51.100.0/24")],
        &[ts("203.0.113.0/24")],
        &[ts("192.0.2.0/24")],
        &[ts("203.0.113.0/24")],
    );
    assert_eq!(got, Err(TsUnacceptable));
}

/// RFC 7296 §2.9: "If the responder's policy allows the entire set of traffic covered by TSi and
/// TSr, no narrowing is necessary, and the responder can return the same TSi and TSr values."
#[test]
fn rfc7296_2_9_whole_proposal_acceptable() {
    let tsi = [tcp("198.51.100.43", 3000), ts("198.51.100.0/24")];
    let tsr = [tcp("203.0.113.7", 80), ts("203.0.113.0/24")];
    // The policy is a union of two halves: still covers everything.
    let allowed_i = [ts("198.51.100.0/25"), ts("198.51.100.128/25")];
    let got = narrow_pair(&tsi, &tsr, &allowed_i, &[ts("203.0.113.0/24")]).unwrap();
    assert!(got.unchanged && got.includes_first_choice);
    assert_eq!((got.tsi, got.tsr), (tsi.to_vec(), tsr.to_vec()));
}

/// RFC 7296 §2.9, the document's example: the initiator, triggered by a packet from
/// 198.51.100.43, proposes TSi = [(198.51.100.43, the packet's port and protocol),
/// (198.51.100.0 - 198.51.100.255, all)]. A responder whose policy is one SA per host "might
/// respond with TSi being (198.51.100.43 - 198.51.100.43) with all ports and IP protocols".
#[test]
fn rfc7296_2_9_first_choice_example() {
    let tsi = [tcp("198.51.100.43", 3000), ts("198.51.100.0/24")];
    let tsr = [tcp("203.0.113.7", 80), ts("203.0.113.0/24")];
    let per_host = [ts("198.51.100.43")];
    let got = narrow_pair(&tsi, &tsr, &per_host, &[ts("203.0.113.0/24")]).unwrap();
    assert_eq!(got.tsi, vec![ts("198.51.100.43")]);
    assert_eq!(got.tsr, tsr.to_vec());
    assert!(got.includes_first_choice && !got.unchanged);
}

/// RFC 7296 §2.9: when policy accepts the first selectors the answer MUST include them; here the
/// policy is a /26 that holds 198.51.100.43 but not the whole /24.
#[test]
fn rfc7296_2_9_narrowed_keeps_first_choice() {
    let tsi = [tcp("198.51.100.43", 3000), ts("198.51.100.0/24")];
    let tsr = [tcp("203.0.113.7", 80), ts("203.0.113.0/24")];
    let got = narrow_pair(
        &tsi,
        &tsr,
        &[ts("198.51.100.0/26")],
        &[ts("203.0.113.0/24")],
    )
    .unwrap();
    assert_eq!(got.tsi, vec![ts("198.51.100.0/26")]);
    assert!(got.includes_first_choice);
}

/// RFC 7296 §2.9: "If the responder's policy does not allow it to accept the first selector of
/// TSi and TSr, the responder narrows to an acceptable subset of TSi and TSr."
#[test]
fn rfc7296_2_9_first_choice_refused_other_subset_accepted() {
    let tsi = [tcp("198.51.100.200", 3000), ts("198.51.100.0/24")];
    let tsr = [tcp("203.0.113.7", 80), ts("203.0.113.0/24")];
    let got = narrow_pair(
        &tsi,
        &tsr,
        &[ts("198.51.100.0/26")],
        &[ts("203.0.113.0/24")],
    )
    .unwrap();
    assert_eq!(got.tsi, vec![ts("198.51.100.0/26")]);
    assert!(!got.includes_first_choice);
}

proptest! {
    #[test]
    fn intersect_commutes(a in arb_ts(), b in arb_ts()) {
        prop_assert_eq!(a.intersect(&b), b.intersect(&a));
    }

    #[test]
    fn contains_iff_intersection_is_inner(a in arb_ts(), b in arb_ts()) {
        prop_assert_eq!(a.contains(&b), a.intersect(&b) == Some(b));
    }

    #[test]
    fn wire_round_trip(a in arb_ts()) {
        prop_assert_eq!(TrafficSelector::from_wire(&a.to_wire()), Ok(a));
    }

    /// The narrowed list lies inside both inputs and covers exactly their intersection.
    #[test]
    fn narrow_is_exact_intersection(
        proposed in proptest::collection::vec(arb_ts(), 1..4),
        allowed in proptest::collection::vec(arb_ts(), 1..4),
        probes in proptest::collection::vec(arb_endpoint(), 16),
    ) {
        let n = narrow(&proposed, &allowed);
        prop_assert!(covers(&proposed, &n));
        prop_assert!(covers(&allowed, &n));
        for (addr, proto, port) in probes {
            let want = list_matches(&proposed, addr, proto, port) && list_matches(&allowed, addr, proto, port);
            prop_assert_eq!(list_matches(&n, addr, proto, port), want);
        }
        // No piece is redundant with a single other piece.
        for (i, a) in n.iter().enumerate() {
            for (j, b) in n.iter().enumerate() {
                prop_assert!(i == j || !a.contains(b));
            }
        }
    }

    /// `covers` agrees with pointwise membership.
    #[test]
    fn covers_is_pointwise(
        outer in proptest::collection::vec(arb_ts(), 0..4),
        inner in proptest::collection::vec(arb_ts(), 1..3),
        probes in proptest::collection::vec(arb_endpoint(), 24),
    ) {
        if covers(&outer, &inner) {
            for (addr, proto, port) in probes {
                prop_assert!(!list_matches(&inner, addr, proto, port) || list_matches(&outer, addr, proto, port));
            }
        }
    }
}
