//! PAD matching for each identity type, ordered search, and the anti-spoofing rule.

use super::*;
use crate::addr_range::tests::r;
use crate::pad::identity::id_type;

fn fqdn(s: &str) -> Identity {
    Identity::Fqdn(s.to_owned())
}

fn mail(s: &str) -> Identity {
    Identity::Rfc822(s.to_owned())
}

fn dn(s: &str) -> Identity {
    Identity::Dn(s.parse().expect("test DN parses"))
}

fn ts(s: &str) -> TrafficSelector {
    TrafficSelector::from_addrs(r(s))
}

fn entry(name: &str, id: IdPattern, allowed: &[&str]) -> PadEntry {
    PadEntry {
        name: name.to_owned(),
        id,
        auth: PeerAuth::Psk {
            secret: format!("{name}-psk"),
        },
        allowed_ts: allowed.iter().map(|s| ts(s)).collect(),
    }
}

#[test]
fn address_identities() {
    let p = IdPattern::Addr(r("192.0.2.0/24"));
    assert!(p.matches(&Identity::Addr("192.0.2.77".parse().unwrap())));
    assert!(!p.matches(&Identity::Addr("192.0.3.1".parse().unwrap())));
    assert!(!p.matches(&Identity::Addr("2001:db8::1".parse().unwrap())));
    let v6 = IdPattern::Addr(r("2001:db8::/32"));
    assert!(v6.matches(&Identity::Addr("2001:db8::1".parse().unwrap())));
    assert!(!p.matches(&fqdn("192.0.2.77")));
}

#[test]
fn fqdn_exact_and_suffix() {
    let exact = IdPattern::Fqdn("gw.example.com".to_owned());
    assert!(exact.matches(&fqdn("gw.example.com")));
    assert!(exact.matches(&fqdn("GW.Example.COM.")));
    assert!(!exact.matches(&fqdn("x.gw.example.com")));
    let suffix = IdPattern::Fqdn(".example.com".to_owned());
    assert!(suffix.matches(&fqdn("gw.example.com")));
    assert!(suffix.matches(&fqdn("a.b.example.com")));
    assert!(!suffix.matches(&fqdn("example.com")));
    assert!(!suffix.matches(&fqdn("badexample.com")));
    assert!(!suffix.matches(&mail("gw@example.com")));
}

#[test]
fn rfc822_forms() {
    let exact = IdPattern::Rfc822("alice@example.com".to_owned());
    assert!(exact.matches(&mail("alice@EXAMPLE.com")));
    assert!(!exact.matches(&mail("Alice@example.com")));
    assert!(!exact.matches(&mail("bob@example.com")));
    for host in ["@example.com", "example.com"] {
        let p = IdPattern::Rfc822(host.to_owned());
        assert!(p.matches(&mail("bob@example.com")), "{host}");
        assert!(!p.matches(&mail("bob@mail.example.com")), "{host}");
    }
    let domain = IdPattern::Rfc822(".example.com".to_owned());
    assert!(domain.matches(&mail("bob@mail.example.com")));
    assert!(!domain.matches(&mail("bob@example.com")));
    assert!(!domain.matches(&mail("not-an-address")));
    assert!(!domain.matches(&fqdn("mail.example.com")));
}

#[test]
fn dn_and_key_id() {
    let p = IdPattern::Dn("C=US, O=Example, CN=gw".parse().unwrap());
    assert!(p.matches(&dn("c=US,o=Example,cn=gw")));
    assert!(!p.matches(&dn("C=US, O=Example, CN=gw2")));
    assert!(!p.matches(&dn("C=US, O=Example")));
    let k = IdPattern::KeyId(vec![1, 2, 3]);
    assert!(k.matches(&Identity::KeyId(vec![1, 2, 3])));
    assert!(!k.matches(&Identity::KeyId(vec![1, 2])));
    assert!(IdPattern::Any.matches(&Identity::KeyId(vec![])));
}

#[test]
fn identity_from_wire() {
    assert_eq!(
        Identity::from_wire(id_type::ID_IPV4_ADDR, &[192, 0, 2, 1]),
        Ok(Identity::Addr("192.0.2.1".parse().unwrap()))
    );
    assert!(Identity::from_wire(id_type::ID_IPV4_ADDR, &[192, 0, 2]).is_err());
    assert_eq!(
        Identity::from_wire(id_type::ID_FQDN, b"gw.example.com"),
        Ok(fqdn("gw.example.com"))
    );
    assert!(Identity::from_wire(id_type::ID_FQDN, b"").is_err());
    assert!(Identity::from_wire(id_type::ID_FQDN, &[0xff, 0xfe]).is_err());
    assert_eq!(
        Identity::from_wire(id_type::ID_KEY_ID, &[9, 9]),
        Ok(Identity::KeyId(vec![9, 9]))
    );
    assert!(Identity::from_wire(id_type::ID_DER_ASN1_DN, &[0x30, 0]).is_err());
    assert_eq!(Identity::KeyId(vec![0xab, 1]).to_string(), "keyid:ab01");
}

#[test]
fn first_match_wins_and_names_unique() {
    let mut pad = Pad::new();
    pad.push(entry(
        "branch-1",
        IdPattern::Fqdn("b1.example.com".to_owned()),
        &["10.1.0.0/16"],
    ))
    .unwrap();
    pad.push(entry(
        "branches",
        IdPattern::Fqdn(".example.com".to_owned()),
        &["10.0.0.0/8"],
    ))
    .unwrap();
    assert!(pad.push(entry("branches", IdPattern::Any, &[])).is_err());
    assert_eq!(
        pad.lookup(&fqdn("b1.example.com")).map(|e| e.name.as_str()),
        Some("branch-1")
    );
    assert_eq!(
        pad.lookup(&fqdn("b2.example.com")).map(|e| e.name.as_str()),
        Some("branches")
    );
    assert!(pad.lookup(&fqdn("example.org")).is_none());
}

/// RFC 4301 §4.4.3.4: a peer may only negotiate child SAs for the addresses its entry allows, so
/// an authenticated branch cannot claim another branch's subnet.
#[test]
fn anti_spoofing() {
    let mut pad = Pad::new();
    pad.push(entry(
        "b1",
        IdPattern::Fqdn("b1.example.com".to_owned()),
        &["10.1.0.0/16"],
    ))
    .unwrap();
    pad.push(entry(
        "b2",
        IdPattern::Fqdn("b2.example.com".to_owned()),
        &["10.2.0.0/16"],
    ))
    .unwrap();
    let b1 = fqdn("b1.example.com");
    let ok = pad.authorize(&b1, &[ts("10.1.5.0/24")]).unwrap();
    assert_eq!(
        (ok.entry.name.as_str(), ok.ts.clone()),
        ("b1", vec![ts("10.1.5.0/24")])
    );
    // Asking for everything is narrowed to the allowance.
    assert_eq!(
        pad.authorize(&b1, &[ts("0.0.0.0/0")]).unwrap().ts,
        vec![ts("10.1.0.0/16")]
    );
    assert_eq!(
        pad.authorize(&b1, &[ts("10.2.0.0/24")]),
        Err(PadError::TrafficSelectorsNotAllowed {
            entry: "b1".to_owned()
        })
    );
    assert!(matches!(
        pad.authorize(&fqdn("evil.example.net"), &[ts("10.1.0.0/16")]),
        Err(PadError::UnknownPeer(_))
    ));
}
