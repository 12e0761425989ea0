//! Tests for the reference SPD matcher.

use super::*;
use crate::port_range::PortValue;
use crate::selector::tests::{arb_packet, arb_selector, sel};
use proptest::prelude::*;

pub(crate) fn protect(reqid: u32) -> Action {
    Action::Protect(ProtectTemplate {
        protocol: IpsecProtocol::Esp,
        mode: IpsecMode::Tunnel,
        proposals: vec!["aes128gcm16".to_owned()],
        pfp: Pfp::NONE,
        reqid: ReqId(reqid),
    })
}

pub(crate) fn entry(
    name: &str,
    priority: u32,
    direction: Direction,
    selectors: Vec<Selector>,
    action: Action,
) -> SpdEntry {
    SpdEntry {
        name: name.to_owned(),
        priority,
        direction,
        selectors,
        action,
    }
}

pub(crate) fn arb_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        Just(Action::Bypass),
        Just(Action::Discard),
        (1u32..3).prop_map(protect)
    ]
}

/// Entries over a small IPv4 space with a few priorities, so that ties and overlaps are common.
pub(crate) fn arb_entries(max: usize) -> impl Strategy<Value = Vec<SpdEntry>> {
    let one = (
        0u32..4,
        prop::bool::ANY,
        proptest::collection::vec(arb_selector(), 1..3),
        arb_action(),
    );
    proptest::collection::vec(one, 0..max).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (prio, inbound, sels, action))| {
                let dir = if inbound {
                    Direction::Inbound
                } else {
                    Direction::Outbound
                };
                entry(&format!("e{i}"), prio, dir, sels, action)
            })
            .collect()
    })
}

pub(crate) fn spd_of(entries: &[SpdEntry]) -> Spd {
    let mut spd = Spd::new();
    for e in entries {
        spd.insert(e.clone()).expect("generated names are unique");
    }
    spd
}

fn pkt(local: &str, remote: &str, proto: IpProtocol, lport: u16, rport: u16) -> PacketSelector {
    PacketSelector {
        local: local.parse().unwrap(),
        remote: remote.parse().unwrap(),
        protocol: proto,
        local_port: PortValue::Port(lport),
        remote_port: PortValue::Port(rport),
    }
}

#[test]
fn first_match_by_priority_then_insertion() {
    let mut spd = Spd::new();
    let net = sel("10.0.0.0/24", "192.0.2.0/24");
    spd.insert(entry(
        "late",
        20,
        Direction::Outbound,
        vec![net],
        Action::Discard,
    ))
    .unwrap();
    spd.insert(entry(
        "first-tie",
        10,
        Direction::Outbound,
        vec![net],
        protect(1),
    ))
    .unwrap();
    spd.insert(entry(
        "second-tie",
        10,
        Direction::Outbound,
        vec![net],
        Action::Bypass,
    ))
    .unwrap();
    let names: Vec<_> = spd.entries().iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["first-tie", "second-tie", "late"]);
    let p = pkt("10.0.0.1", "192.0.2.1", IpProtocol::TCP, 1000, 80);
    match spd.lookup(Direction::Outbound, &p) {
        Decision::Protect {
            entry,
            template,
            index,
        } => {
            assert_eq!(
                (entry.name.as_str(), index, template.reqid),
                ("first-tie", 0, ReqId(1))
            );
        }
        other => panic!("expected PROTECT, got {other:?}"),
    }
    assert!(
        spd.insert(entry("late", 1, Direction::Inbound, vec![], Action::Bypass))
            .is_err()
    );
    assert_eq!(spd.remove("first-tie").map(|e| e.priority), Some(10));
    assert_eq!(
        spd.lookup(Direction::Outbound, &p).kind(),
        ActionKind::Bypass
    );
}

#[test]
fn no_match_discards_and_directions_are_separate() {
    let mut spd = Spd::new();
    spd.insert(entry(
        "out",
        1,
        Direction::Outbound,
        vec![sel("10.0.0.0/24", "0.0.0.0/0")],
        Action::Bypass,
    ))
    .unwrap();
    let p = pkt("10.0.0.1", "192.0.2.1", IpProtocol::UDP, 53, 53);
    assert_eq!(
        spd.lookup(Direction::Outbound, &p).kind(),
        ActionKind::Bypass
    );
    assert_eq!(
        spd.lookup(Direction::Inbound, &p),
        Decision::Discard(Rule::NoMatch)
    );
}

#[test]
fn ike_traffic_bypasses_everything() {
    let mut spd = Spd::new();
    spd.insert(entry(
        "drop-all",
        0,
        Direction::Inbound,
        vec![Selector::any(crate::Family::V4)],
        Action::Discard,
    ))
    .unwrap();
    spd.set_ike_addrs(vec!["192.0.2.1".parse().unwrap()]);
    // Inbound IKE from a NATed peer: remote port is whatever the NAT chose.
    let ike = PacketSelector::from_packet(
        Direction::Inbound,
        "198.51.100.7".parse().unwrap(),
        "192.0.2.1".parse().unwrap(),
        IpProtocol::UDP,
        PortValue::Port(61000),
        PortValue::Port(4500),
    );
    assert_eq!(
        spd.lookup(Direction::Inbound, &ike),
        Decision::Bypass(Rule::IkeBypass)
    );
    let not_ours = PacketSelector {
        local: "192.0.2.2".parse().unwrap(),
        ..ike
    };
    assert_eq!(
        spd.lookup(Direction::Inbound, &not_ours).kind(),
        ActionKind::Discard
    );
    let tcp = PacketSelector {
        protocol: IpProtocol::TCP,
        ..ike
    };
    assert_eq!(
        spd.lookup(Direction::Inbound, &tcp).kind(),
        ActionKind::Discard
    );
}

proptest! {
    /// The decision's entry matches, and no entry before it in the same direction does.
    #[test]
    fn lookup_is_first_match(entries in arb_entries(8), p in arb_packet(), inbound in prop::bool::ANY) {
        let spd = spd_of(&entries);
        let dir = if inbound { Direction::Inbound } else { Direction::Outbound };
        let d = spd.lookup(dir, &p);
        let first = spd.entries_for(dir).find(|(_, e)| e.matches(&p)).map(|(i, _)| i);
        prop_assert_eq!(d.index(), first);
        if let Some(i) = first {
            prop_assert_eq!(d.kind(), spd.entries()[i].action.kind());
        } else {
            prop_assert_eq!(d, Decision::Discard(Rule::NoMatch));
        }
    }

    /// With distinct priorities the insertion order does not matter.
    #[test]
    fn insertion_order_irrelevant_with_distinct_priorities(
        entries in arb_entries(6), p in arb_packet(), seed in any::<u64>()
    ) {
        let mut entries = entries;
        for (i, e) in entries.iter_mut().enumerate() {
            e.priority = u32::try_from(i).unwrap() * 7 % 11;
        }
        let mut shuffled = entries.clone();
        let k = usize::try_from(seed % 7).unwrap().min(shuffled.len());
        shuffled.rotate_left(k);
        shuffled.reverse();
        let (a, b) = (spd_of(&entries), spd_of(&shuffled));
        for dir in [Direction::Inbound, Direction::Outbound] {
            let name = |spd: &Spd| spd.lookup(dir, &p).index().map(|i| spd.entries()[i].name.clone());
            prop_assert_eq!(name(&a), name(&b));
        }
    }
}

proptest::proptest! {
    /// Loading a configuration at once orders entries exactly as inserting them one by one.
    #[test]
    fn from_entries_orders_like_repeated_insert(entries in arb_entries(40)) {
        let bulk = Spd::from_entries(entries.clone()).expect("arb_entries names are unique");
        proptest::prop_assert_eq!(bulk, spd_of(&entries));
    }
}

#[test]
fn from_entries_rejects_duplicate_names() {
    let any = || vec![Selector::any(crate::Family::V4)];
    let a = entry("dup", 1, Direction::Outbound, any(), Action::Bypass);
    let b = entry("dup", 2, Direction::Inbound, any(), Action::Discard);
    assert!(matches!(
        Spd::from_entries([a, b]),
        Err(PolicyError::DuplicateName { name }) if name == "dup"
    ));
}
