//! SAD tests: inbound lookup order (RFC 4301 §4.1), make-before-break rekey bookkeeping, pairs,
//! and publication to readers.

use super::*;

const ESP: IpsecProtocol = IpsecProtocol::Esp;
const AH: IpsecProtocol = IpsecProtocol::Ah;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

/// SAs in these tests are just names.
type TestSad = Sad<&'static str, &'static str>;

#[test]
fn unicast_inbound_by_spi_and_protocol() {
    let mut sad = TestSad::new();
    sad.install_inbound(
        InboundKey::Unicast(Spi(0x1000)),
        ESP,
        ReqId(1),
        Arc::new("in-a"),
    )
    .unwrap();
    let t = sad.pending();
    let (dst, src) = (ip("192.0.2.1"), ip("192.0.2.2"));
    assert_eq!(*t.inbound(Spi(0x1000), ESP, dst, src).unwrap().sa, "in-a");
    // One SPI space for ESP and AH: an AH packet with that SPI finds nothing.
    assert!(t.inbound(Spi(0x1000), AH, dst, src).is_none());
    assert!(t.inbound(Spi(0x1001), ESP, dst, src).is_none());
    // SPIs are unique and 0-255 are reserved (RFC 4303 §2.1).
    let dup = sad.install_inbound(
        InboundKey::Unicast(Spi(0x1000)),
        AH,
        ReqId(2),
        Arc::new("x"),
    );
    assert_eq!(dup, Err(SadError::SpiInUse { spi: Spi(0x1000) }));
    let reserved = sad.install_inbound(InboundKey::Unicast(Spi(255)), ESP, ReqId(2), Arc::new("x"));
    assert_eq!(reserved, Err(SadError::ReservedSpi { spi: Spi(255) }));
}

#[test]
fn multicast_lookup_order() {
    // RFC 4301 §4.1: SPI+dst+src first, then SPI+dst, then the SPI alone.
    let mut sad = TestSad::new();
    let (group, sender, other) = (ip("239.1.1.1"), ip("198.51.100.7"), ip("198.51.100.8"));
    let key = |src| MulticastKey {
        spi: Spi(0x2000),
        protocol: ESP,
        dst: group,
        src,
    };
    sad.install_inbound(
        InboundKey::Multicast(key(Some(sender))),
        ESP,
        ReqId(5),
        Arc::new("ssm"),
    )
    .unwrap();
    sad.install_inbound(
        InboundKey::Multicast(key(None)),
        ESP,
        ReqId(5),
        Arc::new("group"),
    )
    .unwrap();
    sad.install_inbound(
        InboundKey::Unicast(Spi(0x2000)),
        ESP,
        ReqId(6),
        Arc::new("unicast"),
    )
    .unwrap();
    let t = sad.pending();
    let find = |dst, src| *t.inbound(Spi(0x2000), ESP, dst, src).unwrap().sa;
    assert_eq!(find(group, sender), "ssm");
    assert_eq!(find(group, other), "group");
    assert_eq!(find(ip("192.0.2.1"), other), "unicast");
    assert!(t.inbound(Spi(0x2000), AH, group, sender).is_none());
    assert_eq!(t.inbound_len(), 3);
    let wrong = sad.install_inbound(
        InboundKey::Multicast(key(None)),
        AH,
        ReqId(5),
        Arc::new("x"),
    );
    assert_eq!(wrong, Err(SadError::ProtocolMismatch { spi: Spi(0x2000) }));
    assert_eq!(
        *sad.remove_inbound(InboundKey::Multicast(key(Some(sender))))
            .unwrap()
            .sa,
        "ssm"
    );
    assert_eq!(
        *sad.pending()
            .inbound(Spi(0x2000), ESP, group, sender)
            .unwrap()
            .sa,
        "group"
    );
}

#[test]
fn make_before_break_rekey() {
    let mut sad = TestSad::new();
    let r = ReqId(7);
    sad.install_pair(
        r,
        ESP,
        (Spi(0x100), Arc::new("in-old")),
        (Spi(0x900), Arc::new("out-old")),
    )
    .unwrap();
    // Rekey: the new pair is installed beside the old one.
    sad.install_pair(
        r,
        ESP,
        (Spi(0x101), Arc::new("in-new")),
        (Spi(0x901), Arc::new("out-new")),
    )
    .unwrap();
    let t = sad.pending();
    let (d, s) = (ip("192.0.2.1"), ip("192.0.2.2"));
    assert_eq!(*t.outbound(r).unwrap().sa, "out-new", "the new SA sends");
    assert_eq!(
        *t.inbound(Spi(0x100), ESP, d, s).unwrap().sa,
        "in-old",
        "the old SA still receives"
    );
    assert_eq!(*t.inbound(Spi(0x101), ESP, d, s).unwrap().sa, "in-new");
    assert_eq!(t.outbound_set(r).unwrap().all().len(), 2);
    assert_eq!(t.pairs(r).len(), 2);
    // The old pair is deleted: only the new one is left.
    let old = sad.remove_pair(r, Spi(0x100)).unwrap();
    assert_eq!(
        old,
        SaPair {
            inbound: Some(Spi(0x100)),
            outbound: Some(Spi(0x900))
        }
    );
    let t = sad.pending();
    assert!(t.inbound(Spi(0x100), ESP, d, s).is_none());
    assert_eq!(*t.outbound(r).unwrap().sa, "out-new");
    assert_eq!(
        t.pairs(r),
        &[SaPair {
            inbound: Some(Spi(0x101)),
            outbound: Some(Spi(0x901))
        }]
    );
    assert_eq!(
        sad.remove_pair(r, Spi(0x100)),
        Err(SadError::NoSuchSa { spi: Spi(0x100) })
    );
}

#[test]
fn deleting_the_newest_outbound_falls_back() {
    let mut sad = TestSad::new();
    let r = ReqId(3);
    sad.install_outbound(r, Spi(0x500), Arc::new("a")).unwrap();
    sad.install_outbound(r, Spi(0x501), Arc::new("b")).unwrap();
    assert_eq!(
        sad.install_outbound(r, Spi(0x501), Arc::new("c")),
        Err(SadError::SpiInUse { spi: Spi(0x501) })
    );
    assert_eq!(*sad.remove_outbound(r, Spi(0x501)).unwrap().sa, "b");
    assert_eq!(*sad.pending().outbound(r).unwrap().sa, "a");
    sad.remove_outbound(r, Spi(0x500)).unwrap();
    assert!(sad.pending().outbound(r).is_none());
    assert!(sad.pending().outbound_set(r).is_none());
}

#[test]
fn failed_pair_install_changes_nothing() {
    let mut sad = TestSad::new();
    sad.install_inbound(
        InboundKey::Unicast(Spi(0x100)),
        ESP,
        ReqId(1),
        Arc::new("taken"),
    )
    .unwrap();
    let r = ReqId(2);
    let e = sad.install_pair(
        r,
        ESP,
        (Spi(0x100), Arc::new("in")),
        (Spi(0x900), Arc::new("out")),
    );
    assert_eq!(e, Err(SadError::SpiInUse { spi: Spi(0x100) }));
    assert!(sad.pending().outbound(r).is_none());
    assert!(sad.pending().pairs(r).is_empty());
}

#[test]
fn remove_reqid_removes_everything_of_it() {
    let mut sad = TestSad::new();
    for (i, r) in [(0u32, ReqId(1)), (1, ReqId(1)), (2, ReqId(2))] {
        sad.install_pair(
            r,
            ESP,
            (Spi(0x100 + i), Arc::new("in")),
            (Spi(0x900 + i), Arc::new("out")),
        )
        .unwrap();
    }
    assert_eq!(sad.remove_reqid(ReqId(1)), 4);
    let t = sad.pending();
    assert_eq!((t.inbound_len(), t.outbound_len()), (1, 1));
    assert!(t.pairs(ReqId(1)).is_empty());
    assert_eq!(t.pairs(ReqId(2)).len(), 1);
}

#[test]
fn single_side_removal_keeps_the_pair_half() {
    let mut sad = TestSad::new();
    let r = ReqId(4);
    sad.install_pair(
        r,
        ESP,
        (Spi(0x100), Arc::new("in")),
        (Spi(0x900), Arc::new("out")),
    )
    .unwrap();
    sad.remove_outbound(r, Spi(0x900)).unwrap();
    assert_eq!(
        sad.pending().pairs(r),
        &[SaPair {
            inbound: Some(Spi(0x100)),
            outbound: None
        }]
    );
    sad.remove_inbound(InboundKey::Unicast(Spi(0x100))).unwrap();
    assert!(sad.pending().pairs(r).is_empty());
}

#[test]
fn workers_see_commits_not_edits() {
    let mut sad = TestSad::new();
    let mut worker = sad.reader();
    sad.install_outbound(ReqId(1), Spi(0x900), Arc::new("out"))
        .unwrap();
    assert!(
        worker.current().outbound(ReqId(1)).is_none(),
        "not committed yet"
    );
    assert_eq!(sad.commit(), 1);
    assert_eq!(*worker.current().outbound(ReqId(1)).unwrap().sa, "out");
    // The worker's snapshot stays valid while the control plane edits on.
    let held = Arc::clone(worker.current());
    sad.remove_reqid(ReqId(1));
    sad.commit();
    assert!(held.outbound(ReqId(1)).is_some());
    assert!(worker.current().outbound(ReqId(1)).is_none());
}

#[test]
fn stores_the_real_sa_state_types() {
    use crate::lifetime::Lifetimes;
    use crate::sa::{InboundSaState, Mode, OutboundSaState, SaConfig};
    use crate::time::Timestamp;
    use rampart_wire::ike::iana::ProtocolId;
    let config = |spi| SaConfig {
        spi: Spi(spi),
        protocol: ProtocolId::ESP,
        mode: Mode::Tunnel,
        encap: None,
        src: ip("192.0.2.1"),
        dst: ip("192.0.2.2"),
        esn: true,
        replay_window: 64,
        lifetimes: Lifetimes::default(),
    };
    let mut sad: Sad<InboundSaState, OutboundSaState> = Sad::new();
    let inbound = Arc::new(InboundSaState::new(config(0x1234), Timestamp::ZERO).unwrap());
    let outbound = Arc::new(OutboundSaState::new(config(0x5678), Timestamp::ZERO).unwrap());
    sad.install_pair(
        ReqId(9),
        ESP,
        (Spi(0x1234), inbound),
        (Spi(0x5678), outbound),
    )
    .unwrap();
    sad.commit();
    let mut w = sad.reader();
    let snap = w.current();
    let e = snap
        .inbound(Spi(0x1234), ESP, ip("192.0.2.2"), ip("192.0.2.1"))
        .unwrap();
    assert_eq!(e.sa.spi(), Spi(0x1234));
    assert!(e.sa.replay_check(1).is_ok());
    assert_eq!(snap.outbound(ReqId(9)).unwrap().sa.next_seq().ok(), Some(1));
}
