//! Certificate tests over the openssl-made test PKI (testdata/pki, see its README): parsing,
//! chain validation positive and negative, CERTREQ hashes against openssl, identity binding.

use std::net::IpAddr;

use rampart_wire::ike::iana::IdType;

use super::*;
use crate::sig::PrivateKey;
use crate::sig::tests::{openssl_sh, pki_path, pki_text};

/// 2033-05-18, inside every fixture's 2025-01-01 .. 2045-01-01 validity.
const NOW: u64 = 2_000_000_000;
const Y2025: i64 = 1_735_689_600;
const Y2045: i64 = 2_366_841_600;

fn cert(name: &str) -> Certificate {
    Certificate::from_pem(&pki_text(&format!("{name}.pem")))
        .unwrap()
        .remove(0)
}

fn anchors(names: &[&str]) -> TrustAnchors {
    TrustAnchors::new(names.iter().map(|n| cert(n)).collect())
}

#[test]
fn parses_subject_sans_validity_and_spki() {
    let leaf = cert("p256-leaf");
    assert_eq!(leaf.subject(), "C=US, O=Example, CN=gw-a.ipx.example");
    assert_eq!(
        leaf.issuer(),
        "C=US, O=Example, CN=Example p256 Intermediate CA"
    );
    assert_eq!((leaf.not_before(), leaf.not_after()), (Y2025, Y2045));
    assert!(leaf.is_valid_at(NOW) && !leaf.is_valid_at(1_700_000_000));
    assert_eq!(
        leaf.subject_alt_names(),
        &[
            SubjectAltName::Dns("gw-a.ipx.example".into()),
            SubjectAltName::Ip("192.0.2.1".parse::<IpAddr>().unwrap()),
            SubjectAltName::Ip("2001:db8::1".parse::<IpAddr>().unwrap()),
            SubjectAltName::Email("admin@ipx.example".into()),
        ]
    );
    assert!(!leaf.is_ca() && cert("p256-int").is_ca());
    // The certificate's SPKI is the one aws-lc derives from the private key.
    let key = PrivateKey::from_pkcs8_pem(&pki_text("p256-leaf.key")).unwrap();
    assert_eq!(leaf.spki(), key.public_key_spki());
    // DER and PEM parse to the same certificate; the subject DER is a Name SEQUENCE.
    let der = std::fs::read(pki_path("p256-leaf.der")).unwrap();
    assert_eq!(Certificate::from_der(&der).unwrap().der(), leaf.der());
    assert_eq!(leaf.subject_der()[0], 0x30);
}

#[test]
fn malformed_certificates_are_typed_errors() {
    let der = cert("rsa-leaf").der().to_vec();
    for cut in [0, 1, 10, der.len() / 2, der.len() - 1] {
        assert!(
            matches!(
                Certificate::from_der(&der[..cut]),
                Err(CertError::Malformed(_))
            ),
            "cut {cut}"
        );
    }
    assert!(Certificate::from_der(&[der.as_slice(), &[0]].concat()).is_err());
    assert!(
        Certificate::from_pem("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----")
            .is_err()
    );
}

#[test]
fn chains_validate_for_every_key_type() {
    for alg in ["rsa", "p256", "p384", "ed25519"] {
        let ta = anchors(&[&format!("{alg}-root")]);
        let leaf = cert(&format!("{alg}-leaf"));
        let ints = [cert(&format!("{alg}-int"))];
        let chain = ta
            .validate(&leaf, &ints, NOW)
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(chain.path.len(), 2);
        assert_eq!(
            chain.end_entity().subject(),
            "C=US, O=Example, CN=gw-a.ipx.example"
        );
        assert_eq!(
            chain.anchor.subject(),
            format!("C=US, O=Example, CN=Example {alg} Root CA")
        );
    }
    // RSASSA-PSS certificate signature; unrelated extra intermediates and anchors are ignored.
    let ta = anchors(&["p256-root", "rsa-root"]);
    let ints = [cert("p256-int"), cert("rsa-int")];
    ta.validate(&cert("rsa-pss-leaf"), &ints, NOW).unwrap();
    // A leaf issued directly by an anchor-trusted intermediate.
    anchors(&["p256-int"])
        .validate(&cert("p256-leaf"), &[], NOW)
        .unwrap();
}

#[test]
fn chain_failures_are_typed() {
    let ta = anchors(&["p256-root"]);
    let ints = [cert("p256-int")];
    let leaf = cert("p256-leaf");
    let subject = |s: &str| s.to_owned();
    // Wrong CA: the rogue root has the real root's name but another key.
    assert_eq!(
        anchors(&["p256-rogue-root"])
            .validate(&leaf, &ints, NOW)
            .unwrap_err(),
        CertError::BadSignature {
            subject: subject("C=US, O=Example, CN=Example p256 Intermediate CA")
        }
    );
    // Wrong CA with an unrelated name.
    assert!(matches!(
        anchors(&["rsa-root"]).validate(&leaf, &ints, NOW),
        Err(CertError::UnknownIssuer { .. })
    ));
    // Intermediate missing.
    assert_eq!(
        ta.validate(&leaf, &[], NOW).unwrap_err(),
        CertError::UnknownIssuer {
            issuer: subject("C=US, O=Example, CN=Example p256 Intermediate CA")
        }
    );
    // Expired (2020..2021) and not yet valid.
    assert_eq!(
        ta.validate(&cert("p256-expired"), &ints, NOW).unwrap_err(),
        CertError::Expired {
            subject: subject("C=US, O=Example, CN=gw-old.ipx.example")
        }
    );
    assert!(matches!(
        ta.validate(&leaf, &ints, 1_700_000_000),
        Err(CertError::NotYetValid { .. })
    ));
    // An intermediate that has expired by `now` (after 2045).
    assert!(matches!(
        ta.validate(&leaf, &ints, 2_400_000_000),
        Err(CertError::Expired { .. })
    ));
    // Bad signature: flip one byte of the leaf's signature value.
    let mut der = leaf.der().to_vec();
    let last = der.len() - 3;
    der[last] ^= 0x01;
    let tampered = Certificate::from_der(&der).unwrap();
    assert_eq!(
        ta.validate(&tampered, &ints, NOW).unwrap_err(),
        CertError::BadSignature {
            subject: subject("C=US, O=Example, CN=gw-a.ipx.example")
        }
    );
    // Leaf used as a CA.
    assert_eq!(
        ta.validate(
            &cert("p256-under-leaf"),
            &[leaf.clone(), cert("p256-int")],
            NOW
        )
        .unwrap_err(),
        CertError::NotCa {
            subject: subject("C=US, O=Example, CN=gw-a.ipx.example")
        }
    );
}

#[test]
fn path_search_skips_a_bad_candidate_with_the_right_name() {
    // Two certificates named like the intermediate: a tampered copy first, the good one second.
    let good = cert("p256-int");
    let mut der = good.der().to_vec();
    let last = der.len() - 3;
    der[last] ^= 0x01;
    let ints = [Certificate::from_der(&der).unwrap(), good];
    anchors(&["p256-root"])
        .validate(&cert("p256-leaf"), &ints, NOW)
        .unwrap();
}

#[test]
fn certreq_hashes_match_openssl_and_pick_the_named_ca() {
    let root = cert("p256-root");
    if let Some(out) = openssl_sh(&format!(
        "openssl x509 -in {} -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha1 -r",
        pki_path("p256-root.pem").display()
    )) {
        let text = String::from_utf8_lossy(&out);
        assert_eq!(
            hex::encode(root.ca_hash()),
            text.split_whitespace().next().unwrap()
        );
    }
    let ta = anchors(&["rsa-root", "p256-root", "ed25519-root"]);
    let data = ta.certreq_data();
    assert_eq!(data.len(), 60);
    assert_eq!(&data[20..40], &root.ca_hash());
    // The peer asks for p256 and something we do not have.
    let req = [&[0xee; 20][..], &root.ca_hash()].concat();
    let named = ta.named_in_certreq(&req).unwrap();
    assert_eq!(named.len(), 1);
    assert_eq!(named[0].subject(), root.subject());
    let ours = [cert("rsa-root"), cert("p256-root")];
    assert_eq!(
        certreq::pick_by_certreq(&req, &ours)
            .unwrap()
            .unwrap()
            .subject(),
        root.subject()
    );
    assert_eq!(
        certreq::pick_by_certreq(&[], &ours)
            .unwrap()
            .unwrap()
            .subject(),
        ours[0].subject()
    );
    assert!(
        certreq::pick_by_certreq(&[0xee; 20], &ours)
            .unwrap()
            .is_none()
    );
    assert_eq!(
        certreq::parse_ca_hashes(&[0; 21]),
        Err(CertError::Malformed(
            "CERTREQ: CA hash list is not a multiple of 20 octets"
        ))
    );
}

#[test]
fn identity_binding_follows_rfc4945() {
    let leaf = cert("p256-leaf");
    assert!(leaf.matches_identity(IdType::FQDN, b"gw-a.ipx.example"));
    assert!(leaf.matches_identity(IdType::FQDN, b"GW-A.ipx.example."));
    assert!(!leaf.matches_identity(IdType::FQDN, b"gw-b.ipx.example"));
    assert!(leaf.matches_identity(IdType::IPV4_ADDR, &[192, 0, 2, 1]));
    assert!(!leaf.matches_identity(IdType::IPV4_ADDR, &[192, 0, 2, 2]));
    let v6: IpAddr = "2001:db8::1".parse().unwrap();
    let IpAddr::V6(v6) = v6 else {
        unreachable!("literal is IPv6")
    };
    assert!(leaf.matches_identity(IdType::IPV6_ADDR, &v6.octets()));
    assert!(!leaf.matches_identity(IdType::IPV6_ADDR, &[192, 0, 2, 1]));
    assert!(leaf.matches_identity(IdType::RFC822_ADDR, b"admin@IPX.example"));
    assert!(!leaf.matches_identity(IdType::RFC822_ADDR, b"Admin@ipx.example"));
    assert!(leaf.matches_identity(IdType::DER_ASN1_DN, leaf.subject_der()));
    assert!(!leaf.matches_identity(IdType::DER_ASN1_DN, cert("p256-int").subject_der()));
    assert!(!leaf.matches_identity(IdType::DER_ASN1_DN, b"\x30\x03garbage"));
    assert!(!leaf.matches_identity(IdType::KEY_ID, b"gw-a.ipx.example"));
    // Wrong SAN: the subject CN says gw-a, but only the SAN counts (RFC 4945 §3.1.2).
    let wrong = cert("p256-wrongsan");
    assert!(!wrong.matches_identity(IdType::FQDN, b"gw-a.ipx.example"));
    assert!(wrong.matches_identity(IdType::FQDN, b"other.example"));
    assert!(wrong.matches_identity(IdType::DER_ASN1_DN, leaf.subject_der()));
}

/// The whole IKE_AUTH certificate path as the engine will run it: the initiator signs with
/// method 14 and sends CERT payloads; the responder validates the chain at `now`, checks the
/// IDi binding, and verifies AUTH with the end-entity key.
#[test]
fn end_to_end_certificate_authentication() {
    use crate::DeterministicRandom;
    use crate::sig::{SignatureScheme, sign_auth, verify_auth};
    use rampart_wire::ike::iana::AuthMethod;

    let key = PrivateKey::from_pkcs8_pem(&pki_text("rsa-leaf.key")).unwrap();
    let signer = key.signer(SignatureScheme::RsaPssSha256).unwrap();
    let octets = b"RealMessage1 | NonceRData | prf(SK_pi, IDi')";
    let auth = sign_auth(
        AuthMethod::DIGITAL_SIGNATURE,
        &signer,
        &DeterministicRandom::from_u64(9),
        octets,
    )
    .unwrap();
    let cert_payloads = [
        cert("rsa-leaf").der().to_vec(),
        cert("rsa-int").der().to_vec(),
    ];

    let ta = anchors(&["rsa-root", "p256-root"]);
    let parsed: Vec<Certificate> = cert_payloads
        .iter()
        .map(|d| Certificate::from_der(d).unwrap())
        .collect();
    let chain = ta.validate(&parsed[0], &parsed[1..], NOW).unwrap();
    assert!(
        chain
            .end_entity()
            .matches_identity(IdType::FQDN, b"gw-a.ipx.example")
    );
    let scheme = verify_auth(
        AuthMethod::DIGITAL_SIGNATURE,
        &auth,
        chain.end_entity().spki(),
        octets,
    )
    .unwrap();
    assert_eq!(scheme, SignatureScheme::RsaPssSha256);
    // A different leaf's key does not verify it.
    assert!(
        verify_auth(
            AuthMethod::DIGITAL_SIGNATURE,
            &auth,
            cert("rsa-pss-leaf").spki(),
            b"x"
        )
        .is_err()
    );
}
