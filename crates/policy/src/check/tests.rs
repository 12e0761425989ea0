//! Policy-check tests: hand-made cases for each finding, and properties tying the findings to the
//! reference matcher [`Spd::lookup`].

use super::analysis::Analysis;
use super::*;
use crate::addr_range::Family;
use crate::port_range::{PortSelector, PortValue};
use crate::protocol::{IpProtocol, ProtocolSelector};
use crate::region::Budget;
use crate::selector::tests::{arb_packet, sel};
use crate::selector::{Selector, SelectorBox};
use crate::spd::tests::{arb_entries, entry, protect, spd_of};
use crate::spd::{Action, ActionKind, SpdEntry};
use proptest::prelude::*;

use Direction::{Inbound, Outbound};

fn of_kind(findings: &[Finding], kind: FindingKind) -> Vec<&Finding> {
    findings.iter().filter(|f| f.kind == kind).collect()
}

/// The example packet of a finding is in its region.
fn example_in_region(f: &Finding) -> bool {
    let Some(p) = f.example else { return false };
    f.region.first().is_some_and(|b: &SelectorBox| {
        b.local.contains_addr(p.local) && b.remote.contains_addr(p.remote)
    })
}

#[test]
fn shadowed_by_union_of_earlier_entries() {
    // Neither half covers the /24 alone; together (with different actions even) they do.
    let spd = spd_of(&[
        entry(
            "low-half",
            1,
            Outbound,
            vec![sel("10.0.0.0/25", "192.0.2.0/24")],
            Action::Bypass,
        ),
        entry(
            "high-half",
            2,
            Outbound,
            vec![sel("10.0.0.128/25", "192.0.2.0/24")],
            Action::Discard,
        ),
        entry(
            "whole",
            3,
            Outbound,
            vec![sel("10.0.0.0/24", "192.0.2.0/24")],
            Action::Discard,
        ),
    ]);
    let findings = check(&spd);
    let shadowed = of_kind(&findings, FindingKind::Shadowed);
    assert_eq!(shadowed.len(), 1, "{findings:#?}");
    assert_eq!(shadowed[0].entries, ["whole", "low-half", "high-half"]);
    assert_eq!(shadowed[0].severity, Severity::Error);
    // A later entry only partly covered is not shadowed.
    let spd = spd_of(&[
        entry(
            "low-half",
            1,
            Outbound,
            vec![sel("10.0.0.0/25", "192.0.2.0/24")],
            Action::Bypass,
        ),
        entry(
            "whole",
            3,
            Outbound,
            vec![sel("10.0.0.0/24", "192.0.2.0/24")],
            Action::Discard,
        ),
    ]);
    assert!(of_kind(&check(&spd), FindingKind::Shadowed).is_empty());
}

#[test]
fn shadowing_across_protocol_and_ports() {
    // TCP ports 0-1023, TCP 1024-65535, TCP OPAQUE (fragments), then all non-TCP protocols in
    // two ranges — together they are everything, so the final catch-all is dead.
    let base = sel("10.0.0.0/24", "192.0.2.0/24");
    let tcp = base.with_protocol(ProtocolSelector::Only(IpProtocol::TCP));
    let mut entries = vec![
        entry(
            "tcp-low",
            1,
            Outbound,
            vec![tcp.with_remote_port(PortSelector::range(0, 1023).unwrap())],
            Action::Bypass,
        ),
        entry(
            "tcp-high",
            2,
            Outbound,
            vec![tcp.with_remote_port(PortSelector::range(1024, 65534).unwrap())],
            Action::Bypass,
        ),
        entry(
            "tcp-top",
            3,
            Outbound,
            vec![tcp.with_remote_port(PortSelector::port(65535))],
            Action::Bypass,
        ),
        entry(
            "tcp-frag",
            4,
            Outbound,
            vec![tcp.with_remote_port(PortSelector::OPAQUE)],
            Action::Bypass,
        ),
    ];
    let others: Vec<Selector> = (0..=255u8)
        .filter(|p| *p != 6)
        .map(|p| base.with_protocol(ProtocolSelector::Only(IpProtocol(p))))
        .collect();
    entries.push(entry("others", 5, Outbound, others, Action::Discard));
    entries.push(entry("catch-all", 6, Outbound, vec![base], protect(1)));
    let findings = check(&spd_of(&entries));
    let shadowed = of_kind(&findings, FindingKind::Shadowed);
    assert_eq!(shadowed.len(), 1, "{findings:#?}");
    assert_eq!(shadowed[0].entries[0], "catch-all");
}

#[test]
fn conflict_reports_overlap() {
    let spd = spd_of(&[
        entry(
            "web-clear",
            1,
            Outbound,
            vec![
                sel("10.0.0.0/24", "0.0.0.0/0")
                    .with_protocol(ProtocolSelector::Only(IpProtocol::TCP))
                    .with_remote_port(PortSelector::port(443)),
            ],
            Action::Bypass,
        ),
        entry(
            "site",
            2,
            Outbound,
            vec![sel("10.0.0.0/16", "192.0.2.0/24")],
            protect(1),
        ),
        entry(
            "site-in",
            2,
            Inbound,
            vec![sel("10.0.0.0/16", "192.0.2.0/24")],
            protect(1),
        ),
        // Partial overlap: neither contains the other.
        entry(
            "odd",
            3,
            Outbound,
            vec![sel("10.0.0.0/8", "192.0.2.128/25")],
            Action::Discard,
        ),
    ]);
    let findings = check(&spd);
    let conflicts = of_kind(&findings, FindingKind::Conflict);
    let site = conflicts
        .iter()
        .find(|f| f.entries == ["site", "web-clear"])
        .expect("site conflict");
    // web-clear's 10.0.0.0/24 is inside site's 10.0.0.0/16 only in local address, not remote: a
    // partial overlap, so a warning; the region is the overlap.
    assert_eq!(site.severity, Severity::Warning);
    assert_eq!(
        site.region[0].to_string(),
        "10.0.0.0/24[any] -> 192.0.2.0/24[443] proto tcp"
    );
    assert!(example_in_region(site));
    // "odd" overlaps both earlier entries; each overlap is its own finding.
    let odd: Vec<_> = conflicts
        .iter()
        .filter(|f| f.entries[0] == "odd")
        .map(|f| f.entries[1].as_str())
        .collect();
    assert_eq!(odd, ["web-clear", "site"]);
    // An exception carved out of a general rule is informational.
    let spd = spd_of(&[
        entry(
            "dns",
            1,
            Outbound,
            vec![sel("10.0.0.0/24", "192.0.2.53")],
            Action::Bypass,
        ),
        entry(
            "all",
            2,
            Outbound,
            vec![sel("10.0.0.0/24", "192.0.2.0/24")],
            Action::Discard,
        ),
    ]);
    let conflicts = of_kind(&check(&spd), FindingKind::Conflict)
        .into_iter()
        .cloned()
        .collect::<Vec<_>>();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].severity, Severity::Info);
}

#[test]
fn redundant_entries() {
    let spd = spd_of(&[
        // Same action as the broader entry after it, and nothing in between: redundant.
        entry(
            "host",
            1,
            Outbound,
            vec![sel("10.0.0.1", "192.0.2.0/24")],
            Action::Bypass,
        ),
        entry(
            "net",
            2,
            Outbound,
            vec![sel("10.0.0.0/24", "192.0.2.0/24")],
            Action::Bypass,
        ),
        // Explicit discard-all at the end: the default does the same.
        entry(
            "final-drop",
            9,
            Outbound,
            vec![Selector::any(Family::V4)],
            Action::Discard,
        ),
    ]);
    let findings = check(&spd);
    let red = of_kind(&findings, FindingKind::Redundant);
    assert_eq!(red.len(), 2, "{findings:#?}");
    assert_eq!(red[0].entries, ["host", "net"]);
    assert_eq!(red[0].severity, Severity::Warning);
    assert_eq!(red[1].entries, ["final-drop", DEFAULT_DISCARD_NAME]);
    assert_eq!(red[1].severity, Severity::Info);
    // Not redundant when a different action would catch part of it.
    let spd = spd_of(&[
        entry(
            "host",
            1,
            Outbound,
            vec![sel("10.0.0.1", "192.0.2.0/24")],
            Action::Bypass,
        ),
        entry(
            "tcp",
            2,
            Outbound,
            vec![
                sel("10.0.0.0/24", "192.0.2.0/24")
                    .with_protocol(ProtocolSelector::Only(IpProtocol::TCP)),
            ],
            Action::Discard,
        ),
        entry(
            "net",
            3,
            Outbound,
            vec![sel("10.0.0.0/24", "192.0.2.0/24")],
            Action::Bypass,
        ),
    ]);
    assert!(
        of_kind(&check(&spd), FindingKind::Redundant)
            .iter()
            .all(|f| f.entries[0] != "host")
    );
    // PROTECT entries with different templates are not interchangeable.
    let spd = spd_of(&[
        entry(
            "a",
            1,
            Outbound,
            vec![sel("10.0.0.1", "192.0.2.0/24")],
            protect(1),
        ),
        entry(
            "b",
            2,
            Outbound,
            vec![sel("10.0.0.0/24", "192.0.2.0/24")],
            protect(2),
        ),
    ]);
    assert!(of_kind(&check(&spd), FindingKind::Redundant).is_empty());
}

#[test]
fn missing_reverse_direction() {
    let net = sel("10.0.0.0/24", "192.0.2.0/24");
    let spd = spd_of(&[
        entry("site-out", 1, Outbound, vec![net], protect(1)),
        // Inbound only protects half; SSH replies come back in clear by an earlier BYPASS.
        entry(
            "ssh-clear",
            1,
            Inbound,
            vec![
                net.with_protocol(ProtocolSelector::Only(IpProtocol::TCP))
                    .with_local_port(PortSelector::port(22)),
            ],
            Action::Bypass,
        ),
        entry(
            "site-in",
            2,
            Inbound,
            vec![sel("10.0.0.0/25", "192.0.2.0/24")],
            protect(1),
        ),
    ]);
    let findings = check(&spd);
    let missing = of_kind(&findings, FindingKind::MissingReverse);
    assert_eq!(missing.len(), 1, "{findings:#?}");
    assert_eq!(
        missing[0].entries,
        ["site-out", "ssh-clear", DEFAULT_DISCARD_NAME]
    );
    assert_eq!(missing[0].direction, Outbound);
    // The example really is not protected inbound.
    let p = missing[0].example.expect("region is not empty");
    assert_ne!(spd.lookup(Inbound, &p).kind(), ActionKind::Protect);
    // A complete pair reports nothing.
    let spd = spd_of(&[
        entry("site-out", 1, Outbound, vec![net], protect(1)),
        entry("site-in", 1, Inbound, vec![net], protect(1)),
    ]);
    assert!(check(&spd).is_empty(), "{:#?}", check(&spd));
}

#[test]
fn ike_bypass_counts_as_first_entry_and_empty_entries_are_dead() {
    let mut spd = spd_of(&[
        entry(
            "ike",
            1,
            Inbound,
            vec![
                sel("192.0.2.1", "0.0.0.0/0")
                    .with_protocol(ProtocolSelector::Only(IpProtocol::UDP))
                    .with_local_port(PortSelector::port(500)),
            ],
            Action::Bypass,
        ),
        entry("nothing", 2, Inbound, vec![], Action::Bypass),
    ]);
    spd.set_ike_addrs(vec!["192.0.2.1".parse().unwrap()]);
    let findings = check(&spd);
    let shadowed = of_kind(&findings, FindingKind::Shadowed);
    assert_eq!(shadowed.len(), 2);
    assert_eq!(shadowed[0].entries, ["ike", IKE_BYPASS_NAME]);
    assert!(shadowed[1].message.contains("no selectors"));
}

#[test]
fn work_limit_reports_incomplete() {
    let entries: Vec<SpdEntry> = (0..40u8)
        .map(|i| {
            let host = format!("10.0.{i}.{i}");
            entry(
                &format!("h{i}"),
                1,
                Outbound,
                vec![
                    sel(&host, &format!("192.0.2.{i}"))
                        .with_remote_port(PortSelector::port(u16::from(i))),
                ],
                Action::Bypass,
            )
        })
        .chain([entry(
            "all",
            2,
            Outbound,
            vec![Selector::any(Family::V4)],
            Action::Discard,
        )])
        .collect();
    let findings = check_with(
        &spd_of(&entries),
        CheckLimits {
            max_boxes_per_entry: 50,
        },
    );
    let incomplete = of_kind(&findings, FindingKind::Incomplete);
    assert!(
        incomplete.iter().any(|f| f.entries == ["all"]),
        "{findings:#?}"
    );
    // With the default limit the same SPD is fully analysed.
    assert!(of_kind(&check(&spd_of(&entries)), FindingKind::Incomplete).is_empty());
}

#[test]
fn display_is_readable() {
    let spd = spd_of(&[entry(
        "out",
        1,
        Outbound,
        vec![sel("10.0.0.0/24", "192.0.2.0/24")],
        protect(1),
    )]);
    let text = check(&spd)[0].to_string();
    assert!(
        text.starts_with("warning[missing-reverse] out PROTECT entry 'out'"),
        "{text}"
    );
    assert!(
        text.contains("example: local 10.0.0.0 port 0 <-> remote 192.0.2.0 port 0 proto proto-0"),
        "{text}"
    );
    assert!(
        text.contains("region: 10.0.0.0/24[any] -> 192.0.2.0/24[any] proto any"),
        "{text}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Shadowed entries are never chosen by the reference lookup; every other entry is chosen for
    /// the example packet of its effective region (so the shadow analysis is exact both ways).
    #[test]
    fn shadowing_agrees_with_lookup(entries in arb_entries(7), probes in proptest::collection::vec(arb_packet(), 24)) {
        let spd = spd_of(&entries);
        let findings = check(&spd);
        for dir in [Inbound, Outbound] {
            let analysis = Analysis::new(&spd, dir, CheckLimits::default());
            for (pos, (index, e)) in spd.entries_for(dir).enumerate() {
                let shadowed = findings.iter().any(|f| f.kind == FindingKind::Shadowed && f.direction == dir && f.entries[0] == e.name);
                let eff = analysis.effective(pos, &mut Budget::new(1_000_000)).unwrap();
                prop_assert_eq!(shadowed, eff.is_empty());
                if let Some(c) = eff.first() {
                    let p = SelectorBox::from_cube(c).example();
                    prop_assert_eq!(spd.lookup(dir, &p).index(), Some(index));
                }
                for p in &probes {
                    prop_assert!(!shadowed || spd.lookup(dir, p).index() != Some(index));
                }
            }
        }
    }

    /// Removing an entry reported redundant changes no decision.
    #[test]
    fn redundant_removal_changes_nothing(entries in arb_entries(7), probes in proptest::collection::vec(arb_packet(), 32)) {
        let spd = spd_of(&entries);
        for f in check(&spd).iter().filter(|f| f.kind == FindingKind::Redundant) {
            let mut without = spd.clone();
            without.remove(&f.entries[0]);
            let mut points: Vec<_> = probes.clone();
            points.extend(f.example);
            for p in &points {
                let action = |s: &crate::spd::Spd| match s.lookup(f.direction, p) {
                    crate::spd::Decision::Protect { template, .. } => Some(template.clone()),
                    _ => None,
                };
                prop_assert_eq!(spd.lookup(f.direction, p).kind(), without.lookup(f.direction, p).kind());
                prop_assert_eq!(action(&spd), action(&without));
            }
        }
    }

    /// A conflict's example packet matches both entries and the earlier one decides it; a
    /// missing-reverse example is not protected in the other direction.
    #[test]
    fn conflict_and_reverse_examples_are_real(entries in arb_entries(7)) {
        let spd = spd_of(&entries);
        for f in check(&spd) {
            let Some(p) = f.example else { continue };
            let named = |n: &str| spd.entries().iter().position(|e| e.name == n);
            match f.kind {
                FindingKind::Conflict => {
                    let (later, earlier) = (named(&f.entries[0]).unwrap(), named(&f.entries[1]).unwrap());
                    prop_assert!(spd.entries()[later].matches(&p));
                    prop_assert_eq!(spd.lookup(f.direction, &p).index(), Some(earlier));
                }
                FindingKind::MissingReverse => {
                    prop_assert_eq!(spd.lookup(f.direction, &p).index(), named(&f.entries[0]));
                    prop_assert_ne!(spd.lookup(f.direction.reverse(), &p).kind(), ActionKind::Protect);
                }
                _ => {}
            }
        }
    }
}

#[test]
fn example_ports_decode() {
    let b = SelectorBox::from_cube(&[(0, 0), (1, 1), (2, 2), (6, 6), (65536, 65536), (80, 80)]);
    let p = b.example();
    assert_eq!(
        (p.local_port, p.remote_port),
        (PortValue::Opaque, PortValue::Port(80))
    );
}
