//! Certificate authentication between two engines (RFC 7296 §2.15, §3.6–§3.8; RFC 7427;
//! RFC 4945), over the deterministic simulator: ECDSA P-256 / P-384, RSA (PSS) and Ed25519
//! certificates from `crates/crypto/testdata/pki`, and the failures an operator must be able to
//! act on (wrong CA, expired certificate, identity not in the certificate).
//!
//! ```text
//! Initiator                         Responder
//! HDR, SAi1, KEi, Ni, N(SIGNATURE_HASH_ALGORITHMS)  -->
//!                 <--  HDR, SAr1, KEr, Nr, CERTREQ, N(SIGNATURE_HASH_ALGORITHMS)
//! HDR, SK {IDi, CERT, CERT, N(INITIAL_CONTACT), CERTREQ, AUTH, SAi2, TSi, TSr}  -->
//!                 <--  HDR, SK {IDr, CERT, CERT, AUTH, SAr2, TSi, TSr}
//! ```

mod cert_pair;

use cert_pair::{Side, down_reasons, fqdn, leaf_signer, pki, run_pair, signer, trusting, up_count};
use rampart_crypto::cert::Certificate;
use rampart_crypto::sig::SignatureScheme;
use rampart_ike::Event;
use rampart_policy::pad::Identity;
use rampart_wire::ike::iana::AuthMethod;
use rampart_wire::ike::{Message, Payload};

/// The DN every leaf of the test PKI carries.
const LEAF_DN: &str = "C=US, O=Example, CN=gw-a.ipx.example";

fn dn() -> Identity {
    Identity::Dn(LEAF_DN.parse().unwrap())
}

/// A (initiator) signs with `a_alg`'s leaf as FQDN gw-a.ipx.example; B with `b_alg`'s leaf as
/// the DN (ID_DER_ASN1_DN). Each trusts the other's root only.
fn cert_sides(a_alg: &str, b_alg: &str) -> (Side, Side, cert_pair::Seen, cert_pair::Seen) {
    let (a_trusts, a_seen) = trusting(&[&format!("{b_alg}-root.pem")]);
    let (b_trusts, b_seen) = trusting(&[&format!("{a_alg}-root.pem")]);
    let a = Side {
        local_id: fqdn("gw-a.ipx.example"),
        remote_id: dn(),
        local_auth: leaf_signer(a_alg),
        remote_auth: a_trusts,
        ..Side::psk_a()
    };
    let b = Side {
        local_id: dn(),
        remote_id: fqdn("gw-a.ipx.example"),
        local_auth: leaf_signer(b_alg),
        remote_auth: b_trusts,
        ..Side::psk_b()
    };
    (a, b, a_seen, b_seen)
}

fn expected_scheme(alg: &str) -> SignatureScheme {
    match alg {
        "p256" => SignatureScheme::EcdsaP256Sha256,
        "p384" => SignatureScheme::EcdsaP384Sha384,
        "rsa" => SignatureScheme::RsaPssSha256,
        "ed25519" => SignatureScheme::Ed25519,
        other => panic!("no such test key type {other}"),
    }
}

/// Every key type in both roles: both sides come up, the child SA keys cross, and each side
/// accepted an RFC 7427 (method 14) signature with the scheme of the peer's key and a hash we
/// announced.
#[test]
fn every_key_type_authenticates_in_both_roles() {
    for (a_alg, b_alg) in [
        ("p256", "rsa"),
        ("rsa", "p256"),
        ("p384", "ed25519"),
        ("ed25519", "p384"),
    ] {
        let (a, b, a_seen, b_seen) = cert_sides(a_alg, b_alg);
        let sim = run_pair(&a, &b);
        let ctx = format!("{a_alg} -> {b_alg}");
        assert_eq!((up_count(&sim, 0), up_count(&sim, 1)), (1, 1), "{ctx}");
        sim.check_agreement(0, 1);
        assert_eq!(sim.nodes[0].children.len(), 1, "{ctx}");
        assert_eq!(
            *b_seen.lock().unwrap(),
            [(AuthMethod::DIGITAL_SIGNATURE, expected_scheme(a_alg))],
            "{ctx}"
        );
        assert_eq!(
            *a_seen.lock().unwrap(),
            [(AuthMethod::DIGITAL_SIGNATURE, expected_scheme(b_alg))],
            "{ctx}"
        );
        // The peer identities as authenticated: A's FQDN at B, B's DN at A.
        let peer_of = |n: usize| {
            sim.events(n).find_map(|e| match e {
                Event::IkeSaUp { peer_id, .. } => Some(peer_id.clone()),
                _ => None,
            })
        };
        assert_eq!(peer_of(0), Some(dn()), "{ctx}");
        assert_eq!(peer_of(1), Some(fqdn("gw-a.ipx.example")), "{ctx}");
    }
}

/// §1.2 / §3.7: the responder's IKE_SA_INIT response carries a CERTREQ whose CA hash is the
/// SHA-1 of its trust anchor's public key.
#[test]
fn responder_requests_certificates_from_its_anchors() {
    let (a, b, _, _) = cert_sides("p256", "p384");
    let sim = run_pair(&a, &b);
    let init_response = Message::parse(&sim.nodes[1].sent[0]).unwrap();
    let authorities = init_response
        .payloads
        .iter()
        .find_map(|p| match p {
            Payload::CertReq(c) => Some(c.authorities.clone()),
            _ => None,
        })
        .expect("CERTREQ in the IKE_SA_INIT response");
    let root = &Certificate::from_pem(&pki("p256-root.pem")).unwrap()[0];
    assert_eq!(authorities, root.ca_hash());
}

/// The responder's failure reason and the initiator's view of it.
fn refused(a: &Side, b: &Side) -> (String, Vec<String>) {
    let sim = run_pair(a, b);
    assert_eq!((up_count(&sim, 0), up_count(&sim, 1)), (0, 0));
    let at_b = down_reasons(&sim, 1);
    assert_eq!(at_b.len(), 1, "{at_b:?}");
    (at_b[0].clone(), down_reasons(&sim, 0))
}

#[test]
fn certificate_from_an_unknown_ca_is_refused() {
    let (a, mut b, _, _) = cert_sides("rsa", "p256");
    b.remote_auth = trusting(&["p256-root.pem"]).0;
    let (why, at_a) = refused(&a, &b);
    assert!(
        why.contains(
            "certificate for C=US, O=Example, CN=gw-a.ipx.example not trusted: unknown issuer"
        ),
        "{why}"
    );
    // The path through the RSA intermediate ends at a root we do not hold.
    assert!(
        why.contains("unknown issuer C=US, O=Example, CN=Example rsa Root CA"),
        "{why}"
    );
    assert!(at_a[0].contains("AUTHENTICATION_FAILED"), "{at_a:?}");
}

#[test]
fn rogue_root_with_the_same_name_is_refused() {
    let (a, mut b, _, _) = cert_sides("p256", "p256");
    b.remote_auth = trusting(&["p256-rogue-root.pem"]).0;
    let (why, _) = refused(&a, &b);
    assert!(
        why.contains("not trusted: bad certificate signature"),
        "{why}"
    );
}

#[test]
fn expired_certificate_is_refused() {
    let (mut a, mut b, _, _) = cert_sides("p256", "p256");
    a.local_auth = signer("p256-other.key", &["p256-expired.pem", "p256-int.pem"]);
    a.local_id = fqdn("gw-old.ipx.example");
    b.remote_id = fqdn("gw-old.ipx.example");
    let (why, _) = refused(&a, &b);
    assert!(
        why.contains("certificate for C=US, O=Example, CN=gw-old.ipx.example not trusted: certificate expired"),
        "{why}"
    );
}

#[test]
fn identity_not_in_the_certificate_is_refused() {
    let (mut a, b, _, _) = cert_sides("p256", "p256");
    a.local_auth = signer("p256-other.key", &["p256-wrongsan.pem", "p256-int.pem"]);
    let (why, _) = refused(&a, &b);
    assert!(
        why.contains("identity gw-a.ipx.example not in certificate SAN"),
        "{why}"
    );
    assert!(why.contains("DNS:other.example"), "{why}");
}

/// §2.21.2: the responder authenticated us but its own certificate does not bind its identity:
/// the initiator refuses and tells it with an INFORMATIONAL AUTHENTICATION_FAILED, after which
/// neither side keeps the SA.
#[test]
fn initiator_refusing_the_responder_tells_it() {
    let (mut a, mut b, _, _) = cert_sides("p256", "p256");
    b.local_auth = signer("p256-other.key", &["p256-wrongsan.pem", "p256-int.pem"]);
    b.local_id = fqdn("gw-b.ipx.example");
    a.remote_id = fqdn("gw-b.ipx.example");
    let sim = run_pair(&a, &b);
    let at_a = down_reasons(&sim, 0);
    assert!(
        at_a[0].contains("identity gw-b.ipx.example not in certificate SAN"),
        "{at_a:?}"
    );
    // B came up, then took the notify as the end of the SA.
    assert_eq!(up_count(&sim, 1), 1);
    let at_b = down_reasons(&sim, 1);
    assert!(at_b[0].contains("AUTHENTICATION_FAILED"), "{at_b:?}");
    assert!(sim.nodes[0].sas.is_empty() && sim.nodes[1].sas.is_empty());
}

/// A PSK peer meeting a certificate policy is refused with a reason.
#[test]
fn psk_where_a_signature_is_expected_is_refused() {
    let (_, b, _, _) = cert_sides("p256", "p256");
    let a = Side {
        local_id: fqdn("gw-a.ipx.example"),
        remote_id: dn(),
        ..Side::psk_a()
    };
    let (why, _) = refused(&a, &b);
    assert!(
        why.contains("peer used PSK where we expect a signature"),
        "{why}"
    );
}
