//! Tests for proposal parsing: the keyword table against the IANA registry numbers, the DESIGN.md
//! strings, every error, the suggestions, selection, and a Display/parse round-trip property.

use proptest::prelude::*;
use rampart_wire::ike::iana::{EncrId, EsnId, IntegId, KeId, PrfId, ProtocolId, TransformType};

use super::keywords::{levenshtein, suggestions};
use super::*;

/// Every keyword with its transform type and ID as numbers, typed in from the IANA "Internet Key
/// Exchange Version 2 (IKEv2) Parameters" registry
/// (<https://www.iana.org/assignments/ikev2-parameters>): Transform Type Values (RFC 7296
/// §3.3.2), Transform Type 1 (ENCR: 3DES 3, NULL 11, AES_CBC 12, AES_GCM_8/12/16 18/19/20 per
/// RFC 4106/5282, CHACHA20_POLY1305 28 per RFC 7634), Type 2 (PRF: HMAC_MD5 1, HMAC_SHA1 2,
/// AES128_XCBC 4, HMAC_SHA2_256/384/512 5/6/7, AES128_CMAC 8), Type 3 (INTEG: HMAC_MD5_96 1,
/// HMAC_SHA1_96 2, AES_XCBC_96 5, HMAC_SHA2_256_128/384_192/512_256 12/13/14 per RFC 4868),
/// Type 4 (KE: NONE 0, MODP 768/1024/1536 1/2/5, 2048..8192 14..18 per RFC 3526, ECP 256/384/521
/// 19/20/21 per RFC 5903, Curve25519/448 31/32 per RFC 8031, ML-KEM-512/768/1024 35/36/37 per
/// draft-ietf-ipsecme-ikev2-mlkem), Type 5 (ESN: No ESN 0, ESN 1). Key lengths in bits.
const IANA: &[(&str, u8, u16, Option<u16>)] = &[
    ("aes128", 1, 12, Some(128)),
    ("aes192", 1, 12, Some(192)),
    ("aes256", 1, 12, Some(256)),
    ("aes", 1, 12, Some(128)),
    ("aes128gcm16", 1, 20, Some(128)),
    ("aes128gcm12", 1, 19, Some(128)),
    ("aes128gcm8", 1, 18, Some(128)),
    ("aes192gcm16", 1, 20, Some(192)),
    ("aes192gcm12", 1, 19, Some(192)),
    ("aes192gcm8", 1, 18, Some(192)),
    ("aes256gcm16", 1, 20, Some(256)),
    ("aes256gcm12", 1, 19, Some(256)),
    ("aes256gcm8", 1, 18, Some(256)),
    ("aes128gcm", 1, 20, Some(128)),
    ("aes192gcm", 1, 20, Some(192)),
    ("aes256gcm", 1, 20, Some(256)),
    ("aes128gcm128", 1, 20, Some(128)),
    ("aes128gcm96", 1, 19, Some(128)),
    ("aes128gcm64", 1, 18, Some(128)),
    ("aes192gcm128", 1, 20, Some(192)),
    ("aes192gcm96", 1, 19, Some(192)),
    ("aes192gcm64", 1, 18, Some(192)),
    ("aes256gcm128", 1, 20, Some(256)),
    ("aes256gcm96", 1, 19, Some(256)),
    ("aes256gcm64", 1, 18, Some(256)),
    ("chacha20poly1305", 1, 28, None),
    ("3des", 1, 3, None),
    ("null", 1, 11, None),
    ("sha1", 3, 2, None),
    ("sha256", 3, 12, None),
    ("sha384", 3, 13, None),
    ("sha512", 3, 14, None),
    ("md5", 3, 1, None),
    ("aesxcbc", 3, 5, None),
    ("sha", 3, 2, None),
    ("sha2_256", 3, 12, None),
    ("sha2_384", 3, 13, None),
    ("sha2_512", 3, 14, None),
    ("prfsha1", 2, 2, None),
    ("prfsha256", 2, 5, None),
    ("prfsha384", 2, 6, None),
    ("prfsha512", 2, 7, None),
    ("prfmd5", 2, 1, None),
    ("prfaesxcbc", 2, 4, None),
    ("prfaescmac", 2, 8, None),
    ("modp768", 4, 1, None),
    ("modp1024", 4, 2, None),
    ("modp1536", 4, 5, None),
    ("modp2048", 4, 14, None),
    ("modp3072", 4, 15, None),
    ("modp4096", 4, 16, None),
    ("modp6144", 4, 17, None),
    ("modp8192", 4, 18, None),
    ("ecp256", 4, 19, None),
    ("ecp384", 4, 20, None),
    ("ecp521", 4, 21, None),
    ("x25519", 4, 31, None),
    ("x448", 4, 32, None),
    ("curve25519", 4, 31, None),
    ("curve448", 4, 32, None),
    ("mlkem512", 4, 35, None),
    ("mlkem768", 4, 36, None),
    ("mlkem1024", 4, 37, None),
    ("none", 4, 0, None),
    ("modpnone", 4, 0, None),
    ("esn", 5, 1, None),
    ("noesn", 5, 0, None),
];

#[test]
fn every_keyword_maps_to_its_iana_number() {
    let table: Vec<_> = known_keywords().collect();
    assert_eq!(
        table.len(),
        IANA.len(),
        "table and IANA list differ in size"
    );
    for &(name, ty, id, bits) in IANA {
        let (_, transform) = table
            .iter()
            .find(|(known, _)| *known == name)
            .unwrap_or_else(|| panic!("{name} missing from the keyword table"));
        assert_eq!(
            transform.transform_type(),
            TransformType(ty),
            "{name}: transform type"
        );
        assert_eq!(transform.id(), id, "{name}: transform ID");
        assert_eq!(transform.key_bits(), bits, "{name}: key length");
        assert_eq!(
            super::keywords::lookup(name),
            Some(*transform),
            "{name}: lookup"
        );
        assert_eq!(
            Transform::from_wire(TransformType(ty), id, bits),
            Some(*transform)
        );
    }
}

#[test]
fn canonical_keywords_are_the_first_spelling() {
    let canon = |t: Transform| t.keyword();
    assert_eq!(
        canon(Transform::Encr(EncrId::AES_GCM_16, Some(128))),
        Some("aes128gcm16")
    );
    assert_eq!(
        canon(Transform::Encr(EncrId::AES_CBC, Some(128))),
        Some("aes128")
    );
    assert_eq!(canon(Transform::Integ(IntegId::HMAC_SHA1_96)), Some("sha1"));
    assert_eq!(canon(Transform::Ke(KeId::CURVE25519)), Some("x25519"));
    assert_eq!(canon(Transform::Ke(KeId::NONE)), Some("none"));
    assert_eq!(canon(Transform::Encr(EncrId::AES_CBC, Some(100))), None);
    // Every canonical keyword is unique, and each alias resolves to a transform that has one.
    let mut names: Vec<_> = known_keywords().map(|(name, _)| name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(
        names.len(),
        known_keywords().len(),
        "a keyword is listed twice"
    );
    for (_, transform) in known_keywords() {
        assert!(transform.keyword().is_some());
    }
}

#[test]
fn lookup_ignores_ascii_case_and_surrounding_spaces() {
    let spec = ProposalSpec::parse_ike(" AES128GCM16 - PrfSha256 -X25519 ").unwrap();
    assert_eq!(spec.to_string(), "aes128gcm16-prfsha256-x25519");
}

/// Shorthand for an expected proposal.
fn spec(
    protocol: ProtocolId,
    encryption: &[(EncrId, Option<u16>)],
    integrity: &[IntegId],
    prf: &[PrfId],
    key_exchange: &[KeId],
    esn: &[EsnId],
) -> ProposalSpec {
    ProposalSpec {
        protocol,
        encryption: encryption.to_vec(),
        integrity: integrity.to_vec(),
        prf: prf.to_vec(),
        key_exchange: key_exchange.to_vec(),
        esn: esn.to_vec(),
    }
}

#[test]
fn design_strings_parse_to_the_exact_transforms() {
    use ProtocolId as P;
    let cases = [
        (
            "aes128gcm16-prfsha256-x25519",
            spec(
                P::IKE,
                &[(EncrId::AES_GCM_16, Some(128))],
                &[],
                &[PrfId::HMAC_SHA2_256],
                &[KeId::CURVE25519],
                &[],
            ),
        ),
        (
            "aes256-sha384-ecp384",
            spec(
                P::IKE,
                &[(EncrId::AES_CBC, Some(256))],
                &[IntegId::HMAC_SHA2_384_192],
                &[PrfId::HMAC_SHA2_384],
                &[KeId::ECP_384],
                &[],
            ),
        ),
        (
            "aes128-sha256-modp2048",
            spec(
                P::IKE,
                &[(EncrId::AES_CBC, Some(128))],
                &[IntegId::HMAC_SHA2_256_128],
                &[PrfId::HMAC_SHA2_256],
                &[KeId::MODP_2048],
                &[],
            ),
        ),
        (
            "aes128gcm16",
            spec(
                P::ESP,
                &[(EncrId::AES_GCM_16, Some(128))],
                &[],
                &[],
                &[],
                &[EsnId::NO_ESN],
            ),
        ),
        (
            "aes128-sha256",
            spec(
                P::ESP,
                &[(EncrId::AES_CBC, Some(128))],
                &[IntegId::HMAC_SHA2_256_128],
                &[],
                &[],
                &[EsnId::NO_ESN],
            ),
        ),
        (
            "aes256gcm16-esn",
            spec(
                P::ESP,
                &[(EncrId::AES_GCM_16, Some(256))],
                &[],
                &[],
                &[],
                &[EsnId::ESN],
            ),
        ),
        (
            "aes128-sha256-noesn-modp2048",
            spec(
                P::ESP,
                &[(EncrId::AES_CBC, Some(128))],
                &[IntegId::HMAC_SHA2_256_128],
                &[],
                &[KeId::MODP_2048],
                &[EsnId::NO_ESN],
            ),
        ),
    ];
    for (text, expected) in cases {
        let parsed = ProposalSpec::parse(expected.protocol, text).unwrap();
        assert_eq!(parsed, expected, "{text}");
    }
}

#[test]
fn design_strings_give_the_sa_payload_transforms_in_type_order() {
    let ike = ProposalSpec::parse_ike("aes128-sha256-modp2048").unwrap();
    let wire: Vec<_> = ike
        .transforms()
        .map(|t| (t.transform_type().0, t.id(), t.key_bits()))
        .collect();
    assert_eq!(
        wire,
        [
            (1, 12, Some(128)),
            (2, 5, None),
            (3, 12, None),
            (4, 14, None)
        ]
    );
    let esp = ProposalSpec::parse_esp("aes128gcm16-x25519").unwrap();
    let wire: Vec<_> = esp
        .transforms()
        .map(|t| (t.transform_type().0, t.id(), t.key_bits()))
        .collect();
    assert_eq!(wire, [(1, 20, Some(128)), (4, 31, None), (5, 0, None)]);
}

#[test]
fn several_algorithms_per_type_keep_their_order() {
    let p = ProposalSpec::parse_ike("aes128-aes256-sha256-sha384-modp2048-ecp256").unwrap();
    assert_eq!(
        p.encryption,
        [(EncrId::AES_CBC, Some(128)), (EncrId::AES_CBC, Some(256))]
    );
    assert_eq!(
        p.integrity,
        [IntegId::HMAC_SHA2_256_128, IntegId::HMAC_SHA2_384_192]
    );
    assert_eq!(p.prf, [PrfId::HMAC_SHA2_256, PrfId::HMAC_SHA2_384]);
    assert_eq!(p.key_exchange, [KeId::MODP_2048, KeId::ECP_256]);
    // The order of different kinds does not matter (strongSwan docs, "General Proposal Format").
    let shuffled = ProposalSpec::parse_ike("modp2048-aes128-sha256-ecp256-aes256-sha384").unwrap();
    assert_eq!(shuffled, p);
    assert_eq!(p.to_string(), "aes128-aes256-sha256-sha384-modp2048-ecp256");
}

#[test]
fn ike_prf_rules() {
    // Classic: derived from integrity, in order, without repeats (sha and sha1 would be a
    // duplicate, md5 and aesxcbc derive their own PRFs).
    let p = ProposalSpec::parse_ike("aes128-md5-aesxcbc-sha1-modp2048").unwrap();
    assert_eq!(
        p.prf,
        [PrfId::HMAC_MD5, PrfId::AES128_XCBC, PrfId::HMAC_SHA1]
    );
    // Classic with an explicit PRF: kept as given, and printed because it is not the derived one.
    let p = ProposalSpec::parse_ike("aes128-sha256-prfsha512-x25519").unwrap();
    assert_eq!(p.prf, [PrfId::HMAC_SHA2_512]);
    assert_eq!(p.to_string(), "aes128-sha256-prfsha512-x25519");
    // Explicit PRF equal to the derived one: the canonical form leaves it out.
    let p = ProposalSpec::parse_ike("aes128-sha256-prfsha256-x25519").unwrap();
    assert_eq!(p.to_string(), "aes128-sha256-x25519");
    // AEAD with integrity keywords and no PRF: strongSwan's rule, integrity names the PRF.
    let p = ProposalSpec::parse_ike("aes256gcm16-sha384-ecp384").unwrap();
    assert_eq!(p.prf, [PrfId::HMAC_SHA2_384]);
    assert!(p.integrity.is_empty());
    assert_eq!(p.to_string(), "aes256gcm16-prfsha384-ecp384");
}

#[test]
fn child_sa_details() {
    let p = ProposalSpec::parse_esp("aes128gcm16-x25519").unwrap();
    assert_eq!(p.key_exchange, [KeId::CURVE25519]);
    let p = ProposalSpec::parse_esp("aes128gcm16-esn-noesn").unwrap();
    assert_eq!(p.esn, [EsnId::ESN, EsnId::NO_ESN]);
    assert_eq!(p.to_string(), "aes128gcm16-esn-noesn");
    let p = ProposalSpec::parse_esp("aes128gcm16-x25519-none").unwrap();
    assert_eq!(p.key_exchange, [KeId::CURVE25519, KeId::NONE]);
    let p = ProposalSpec::parse_esp("null-sha256").unwrap();
    assert_eq!(p.encryption, [(EncrId::NULL, None)]);
    let p = ProposalSpec::parse_ah("sha256-sha1-modp2048-esn").unwrap();
    assert_eq!(
        p.integrity,
        [IntegId::HMAC_SHA2_256_128, IntegId::HMAC_SHA1_96]
    );
    assert_eq!(p.key_exchange, [KeId::MODP_2048]);
    assert_eq!(p.esn, [EsnId::ESN]);
    assert_eq!(
        ProposalSpec::parse_ah("sha256").unwrap().esn,
        [EsnId::NO_ESN]
    );
    let p = ProposalSpec::parse_ike("3des-md5-modp1024").unwrap();
    assert_eq!(p.encryption, [(EncrId::DES3, None)]);
}

/// Parses `text` for `protocol`, expecting an error; returns it with its message.
fn error(protocol: ProtocolId, text: &str) -> (ProposalError, String) {
    let err = ProposalSpec::parse(protocol, text).expect_err(text);
    let message = err.to_string();
    (err, message)
}

#[test]
fn empty_input_and_empty_keywords() {
    let (err, msg) = error(ProtocolId::IKE, "   ");
    assert_eq!(
        err,
        ProposalError::Empty {
            protocol: ProtocolId::IKE
        }
    );
    assert!(msg.contains("aes128gcm16-prfsha256-x25519"), "{msg}");
    for (text, position) in [
        ("aes128--sha256", 2),
        ("-aes128gcm16", 1),
        ("aes128gcm16-", 2),
    ] {
        let (err, msg) = error(ProtocolId::ESP, text);
        assert_eq!(
            err,
            ProposalError::EmptyToken {
                proposal: text.into(),
                position
            }
        );
        assert!(msg.contains("extra dash") && msg.contains(&format!("position {position}")));
    }
}

#[test]
fn unknown_keyword_names_it_with_position_and_suggestions() {
    let (err, msg) = error(ProtocolId::IKE, "aes128gmc16-prfsha256-x25519");
    assert_eq!(
        err,
        ProposalError::UnknownKeyword {
            proposal: "aes128gmc16-prfsha256-x25519".into(),
            keyword: "aes128gmc16".into(),
            position: 1,
            suggestions: vec!["aes128gcm16"],
        }
    );
    assert!(
        msg.starts_with(
            "unknown algorithm \"aes128gmc16\" at position 1 in \"aes128gmc16-prfsha256-x25519\": \
             did you mean aes128gcm16?"
        ),
        "{msg}"
    );
    let (_, msg) = error(ProtocolId::ESP, "aes128-sha25");
    assert!(msg.ends_with("did you mean sha256?"), "{msg}");
}

/// The suggestions for `token` in a `protocol` proposal.
fn suggest(token: &str, protocol: ProtocolId) -> Vec<&'static str> {
    suggestions(token, protocol)
}

#[test]
fn did_you_mean_for_common_typos() {
    use ProtocolId as P;
    assert_eq!(suggest("sha265", P::ESP)[0], "sha256");
    assert_eq!(suggest("x2519", P::IKE), ["x25519"]);
    assert_eq!(suggest("ecp265", P::IKE)[0], "ecp256");
    assert_eq!(
        suggest("prfsha", P::IKE),
        ["prfsha1", "prfsha256", "prfsha384", "prfsha512"]
    );
    assert_eq!(
        suggest("mlkem", P::IKE),
        ["mlkem512", "mlkem768", "mlkem1024"]
    );
    assert_eq!(suggest("modp2084", P::IKE), ["modp2048"]);
    assert_eq!(suggest("3de", P::ESP), ["3des"]);
    assert_eq!(suggest("esm", P::ESP), ["esn"]);
    let (_, msg) = error(P::ESP, "chacha20-poly1305");
    assert!(msg.contains("\"chacha20\" at position 1") && msg.ends_with("chacha20poly1305?"));
    assert_eq!(suggest("chacha20poly", P::ESP), ["chacha20poly1305"]);
    assert_eq!(suggest("AES256GCM", P::ESP)[0], "aes256gcm");
    // The longest keyword the token starts with, even far away in edit distance.
    assert_eq!(suggest("aes256gcm16icv", P::ESP), ["aes256gcm16"]);
    // Only keywords that fit the protocol: no PRFs for ESP, no ciphers for AH.
    assert!(
        !suggest("prfsha25", P::ESP)
            .iter()
            .any(|s| s.starts_with("prf"))
    );
    assert!(suggest("prfsha25", P::IKE).contains(&"prfsha256"));
    assert!(
        suggest("aes12", P::AH)
            .iter()
            .all(|s| !s.starts_with("aes1"))
    );
    // Nothing close.
    let (_, msg) = error(P::ESP, "aes128gcm16-blowfish");
    assert!(msg.ends_with("(no similar keyword is known)"), "{msg}");
    // Hostile length: no suggestions, no quadratic blow-up.
    assert!(suggest(&"a".repeat(10_000), P::IKE).is_empty());
}

#[test]
fn levenshtein_distances() {
    assert_eq!(levenshtein("", ""), 0);
    assert_eq!(levenshtein("abc", ""), 3);
    assert_eq!(levenshtein("", "abc"), 3);
    assert_eq!(levenshtein("kitten", "sitting"), 3);
    assert_eq!(levenshtein("aes128gmc16", "aes128gcm16"), 1);
    assert_eq!(levenshtein("sha265", "sha256"), 1);
    assert_eq!(levenshtein("ab", "ba"), 1);
    assert_eq!(levenshtein("ca", "abc"), 3);
    assert_eq!(levenshtein("modp2084", "modp1024"), 2);
    assert_eq!(levenshtein("x2519", "x25519"), 1);
    assert_eq!(levenshtein("ünï", "uni"), 2);
}

#[test]
fn additional_ke_prefix_and_default_are_rejected_with_a_way_forward() {
    let (err, msg) = error(ProtocolId::IKE, "aes128gcm16-prfsha256-x25519-ke1_mlkem768");
    assert!(matches!(
        err,
        ProposalError::AdditionalKeyExchange { ref keyword, position: 4, .. }
            if keyword == "ke1_mlkem768"
    ));
    assert!(
        msg.contains("RFC 9370") && msg.contains("drop the prefix"),
        "{msg}"
    );
    let (err, msg) = error(ProtocolId::ESP, "default");
    assert_eq!(
        err,
        ProposalError::DefaultKeyword {
            proposal: "default".into(),
            protocol: ProtocolId::ESP
        }
    );
    assert!(msg.contains("list the algorithms explicitly") && msg.contains("aes128gcm16"));
    // "ke8_" is not a valid prefix and so just an unknown keyword.
    let (err, _) = error(ProtocolId::IKE, "aes128gcm16-prfsha256-ke8_x25519");
    assert!(matches!(err, ProposalError::UnknownKeyword { .. }));
}

#[test]
fn keywords_out_of_place_name_the_protocol_and_the_fix() {
    use ProtocolId as P;
    let cases = [
        (
            P::IKE,
            "null-sha256-x25519",
            "null",
            1,
            "null is for ESP only",
        ),
        (
            P::IKE,
            "aes128-sha256-x25519-esn",
            "esn",
            4,
            "ESP and AH only",
        ),
        (
            P::IKE,
            "aes128-sha256-x25519-none",
            "none",
            4,
            "always needs a key exchange",
        ),
        (
            P::ESP,
            "aes128gcm16-prfsha256",
            "prfsha256",
            2,
            "IKE SA only",
        ),
        (P::AH, "sha256-prfsha256", "prfsha256", 2, "IKE SA only"),
        (P::AH, "aes128-sha256", "aes128", 1, "use esp_proposals"),
    ];
    for (protocol, text, keyword, position, hint) in cases {
        let (err, msg) = error(protocol, text);
        match err {
            ProposalError::NotAllowed {
                keyword: k,
                position: p,
                protocol: proto,
                ..
            } => {
                assert_eq!(
                    (k.as_str(), p, proto),
                    (keyword, position, protocol),
                    "{text}"
                );
            }
            other => panic!("{text}: unexpected {other:?}"),
        }
        assert!(
            msg.contains(hint) && msg.contains(&format!("in {protocol} proposals")),
            "{msg}"
        );
    }
}

#[test]
fn duplicates_including_aliases_are_rejected() {
    let (err, msg) = error(ProtocolId::ESP, "aes128-sha-sha1");
    assert_eq!(
        err,
        ProposalError::Duplicate {
            proposal: "aes128-sha-sha1".into(),
            keyword: "sha1".into(),
            position: 3
        }
    );
    assert!(msg.contains("repeats an algorithm"), "{msg}");
    let (err, _) = error(ProtocolId::ESP, "aes128gcm16-aes128gcm");
    assert!(matches!(err, ProposalError::Duplicate { position: 2, .. }));
}

#[test]
fn missing_pieces_each_have_their_own_error() {
    use ProtocolId as P;
    let owned = |s: &str| s.to_owned();
    let cases = [
        (
            P::IKE,
            "sha256-x25519",
            ProposalError::MissingEncryption {
                proposal: owned("sha256-x25519"),
                protocol: P::IKE,
            },
            "no encryption algorithm",
        ),
        (
            P::ESP,
            "sha256-esn",
            ProposalError::MissingEncryption {
                proposal: owned("sha256-esn"),
                protocol: P::ESP,
            },
            "aes128gcm16",
        ),
        (
            P::IKE,
            "aes128-x25519",
            ProposalError::MissingIntegrity {
                proposal: owned("aes128-x25519"),
                protocol: P::IKE,
            },
            "add e.g. sha256",
        ),
        (
            P::ESP,
            "aes128",
            ProposalError::MissingIntegrity {
                proposal: owned("aes128"),
                protocol: P::ESP,
            },
            "classic (non-AEAD)",
        ),
        (
            P::ESP,
            "null",
            ProposalError::MissingIntegrity {
                proposal: owned("null"),
                protocol: P::ESP,
            },
            "classic (non-AEAD)",
        ),
        (
            P::AH,
            "modp2048-esn",
            ProposalError::MissingIntegrity {
                proposal: owned("modp2048-esn"),
                protocol: P::AH,
            },
            "AH is integrity only",
        ),
        (
            P::IKE,
            "aes128gcm16-x25519",
            ProposalError::MissingPrf {
                proposal: owned("aes128gcm16-x25519"),
            },
            "add e.g. prfsha256",
        ),
        (
            P::IKE,
            "aes128gcm16-prfsha256",
            ProposalError::MissingKeyExchange {
                proposal: owned("aes128gcm16-prfsha256"),
            },
            "e.g. x25519",
        ),
        (
            P::IKE,
            "aes128-sha256",
            ProposalError::MissingKeyExchange {
                proposal: owned("aes128-sha256"),
            },
            "key exchange",
        ),
    ];
    for (protocol, text, expected, hint) in cases {
        let (err, msg) = error(protocol, text);
        assert_eq!(err, expected, "{text}");
        assert!(msg.contains(hint) && msg.contains(text), "{msg}");
    }
}

#[test]
fn aead_mixed_with_integrity_or_classic_ciphers() {
    use ProtocolId as P;
    let (err, msg) = error(P::ESP, "aes128gcm16-sha256");
    assert_eq!(
        err,
        ProposalError::AeadWithIntegrity {
            proposal: "aes128gcm16-sha256".into(),
            protocol: P::ESP,
            aead: "aes128gcm16".into(),
            integrity: "sha256".into(),
        }
    );
    assert!(msg.contains("so remove sha256"), "{msg}");
    // IKE with both an explicit PRF and integrity: the integrity keyword would be ignored.
    let (err, _) = error(P::IKE, "aes128gcm16-sha256-prfsha256-x25519");
    assert!(matches!(
        err,
        ProposalError::AeadWithIntegrity {
            protocol: P::IKE,
            ..
        }
    ));
    let (err, msg) = error(P::IKE, "aes128gcm16-aes128-sha256-x25519");
    assert_eq!(
        err,
        ProposalError::AeadWithClassic {
            proposal: "aes128gcm16-aes128-sha256-x25519".into(),
            protocol: P::IKE,
            aead: "aes128gcm16".into(),
            classic: "aes128".into(),
        }
    );
    assert!(msg.contains("separate proposals"), "{msg}");
    let (err, _) = error(P::ESP, "chacha20poly1305-null-sha256");
    assert!(matches!(err, ProposalError::AeadWithClassic { .. }));
}

#[test]
fn peer_offers_are_described_even_with_unknown_ids() {
    let offer = ProposalSpec::from_transforms(
        ProtocolId::IKE,
        [
            Transform::Encr(EncrId::AES_CBC, Some(256)),
            Transform::Integ(IntegId::HMAC_SHA1_96),
            Transform::Prf(PrfId::HMAC_SHA1),
            Transform::Ke(KeId::MODP_1024),
        ],
    );
    let ours = ProposalSpec::parse_ike("aes128gcm16-prfsha256-x25519").unwrap();
    let line = format!(
        "peer offered {}, we accept {}",
        describe_all(&[offer.clone(), offer]),
        describe_all(&[ours])
    );
    assert_eq!(
        line,
        "peer offered aes256-sha1-modp1024, aes256-sha1-modp1024, \
         we accept aes128gcm16-prfsha256-x25519"
    );
    let odd = ProposalSpec::from_transforms(
        ProtocolId::ESP,
        [
            Transform::Encr(EncrId(1234), None),
            Transform::Encr(EncrId::AES_CBC, Some(100)),
            Transform::from_wire(TransformType::INTEG, 99, None).unwrap(),
            Transform::Esn(EsnId::NO_ESN),
        ],
    );
    assert_eq!(odd.to_string(), "EncrId(1234)-ENCR_AES_CBC_100-IntegId(99)");
    assert!(ProposalSpec::parse_esp(&odd.to_string()).is_err());
    assert_eq!(Transform::from_wire(TransformType(6), 36, None), None);
}

#[test]
fn select_prefers_our_order_and_needs_every_type() {
    let ours = ProposalSpec::parse_ike("aes256gcm16-aes128gcm16-prfsha384-prfsha256-x25519-ecp256")
        .unwrap();
    let offered =
        ProposalSpec::parse_ike("aes128gcm16-aes256gcm16-prfsha256-ecp256-x25519").unwrap();
    let chosen = ours.select(&offered).unwrap();
    assert_eq!(chosen.to_string(), "aes256gcm16-prfsha256-x25519");
    let weak = ProposalSpec::parse_ike("aes256-sha1-modp1024").unwrap();
    assert_eq!(ours.select(&weak), None);
    let classic = ProposalSpec::parse_ike("aes128-aes256-sha1-sha256-modp2048").unwrap();
    let peer = ProposalSpec::parse_ike("aes256-sha256-prfsha1-modp2048").unwrap();
    assert_eq!(
        classic.select(&peer).unwrap().to_string(),
        "aes256-sha256-prfsha1-modp2048"
    );
    let esp = ProposalSpec::parse_esp("aes128gcm16").unwrap();
    assert_eq!(ours.select(&esp), None, "protocols differ");
}

#[test]
fn select_child_sa_pfs_and_esn() {
    let esp = |s: &str| ProposalSpec::parse_esp(s).unwrap();
    // No PFS on either side: no KE in the result.
    let chosen = esp("aes128gcm16")
        .select(&esp("aes128gcm16-esn-noesn"))
        .unwrap();
    assert!(chosen.key_exchange.is_empty());
    assert_eq!(chosen.esn, [EsnId::NO_ESN]);
    // We require PFS, the peer offers none: no match; the peer offers it as an option: taken.
    assert_eq!(esp("aes128gcm16-x25519").select(&esp("aes128gcm16")), None);
    let chosen = esp("aes128gcm16-x25519")
        .select(&esp("aes128gcm16-ecp256-x25519"))
        .unwrap();
    assert_eq!(chosen.key_exchange, [KeId::CURVE25519]);
    // We accept with or without PFS, the peer offers PFS only: PFS.
    let chosen = esp("aes128gcm16-x25519-none")
        .select(&esp("aes128gcm16-x25519"))
        .unwrap();
    assert_eq!(chosen.key_exchange, [KeId::CURVE25519]);
    // The peer offers PFS, we have none configured: only if they also offer NONE.
    assert_eq!(esp("aes128gcm16").select(&esp("aes128gcm16-x25519")), None);
    let chosen = esp("aes128gcm16")
        .select(&esp("aes128gcm16-x25519-none"))
        .unwrap();
    assert_eq!(chosen.key_exchange, [KeId::NONE]);
    // ESN: we insist on ESN, the peer does not do it.
    assert_eq!(esp("aes128gcm16-esn").select(&esp("aes128gcm16")), None);
    // AH: integrity only.
    let ah = ProposalSpec::parse_ah("sha512-sha256").unwrap();
    let chosen = ah
        .select(&ProposalSpec::parse_ah("sha256-sha512").unwrap())
        .unwrap();
    assert_eq!(chosen.integrity, [IntegId::HMAC_SHA2_512_256]);
    assert!(chosen.encryption.is_empty());
}

/// Canonical keywords of one transform type, for the generator.
fn canonical(filter: impl Fn(Transform) -> bool) -> Vec<Transform> {
    let mut out: Vec<Transform> = Vec::new();
    for (_, t) in known_keywords() {
        if filter(t) && !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// A non-empty selection of `items` in any order, or an empty one when `min` is 0.
fn pick(items: Vec<Transform>, min: usize) -> impl Strategy<Value = Vec<Transform>> {
    let max = items.len();
    proptest::sample::subsequence(items, min..=max).prop_shuffle()
}

/// Valid proposals of every protocol, built from the table rather than from strings.
fn valid_spec() -> impl Strategy<Value = ProposalSpec> {
    let aead = canonical(Transform::is_aead);
    let classic = canonical(|t| matches!(t, Transform::Encr(..)) && !t.is_aead());
    let classic_ike: Vec<_> = classic
        .iter()
        .copied()
        .filter(|t| *t != Transform::Encr(EncrId::NULL, None))
        .collect();
    let integ = canonical(|t| matches!(t, Transform::Integ(_)));
    let prf = canonical(|t| matches!(t, Transform::Prf(_)));
    let ke = canonical(|t| matches!(t, Transform::Ke(_)));
    let ke_ike: Vec<_> = ke
        .iter()
        .copied()
        .filter(|t| *t != Transform::Ke(KeId::NONE))
        .collect();
    let esn = canonical(|t| matches!(t, Transform::Esn(_)));
    let ike_aead = (
        pick(aead.clone(), 1),
        pick(prf.clone(), 1),
        pick(ke_ike.clone(), 1),
    )
        .prop_map(|(e, p, k)| build(ProtocolId::IKE, [e, p, k]));
    let ike_classic = (
        pick(classic_ike, 1),
        pick(integ.clone(), 1),
        pick(prf, 0),
        pick(ke_ike, 1),
    )
        .prop_map(|(e, i, p, k)| build(ProtocolId::IKE, [e, i, p, k]));
    let esp_aead = (pick(aead, 1), pick(ke.clone(), 0), pick(esn.clone(), 0))
        .prop_map(|(e, k, n)| build(ProtocolId::ESP, [e, k, n]));
    let esp_classic = (
        pick(classic, 1),
        pick(integ.clone(), 1),
        pick(ke.clone(), 0),
        pick(esn.clone(), 0),
    )
        .prop_map(|(e, i, k, n)| build(ProtocolId::ESP, [e, i, k, n]));
    let ah = (pick(integ, 1), pick(ke, 0), pick(esn, 0))
        .prop_map(|(i, k, n)| build(ProtocolId::AH, [i, k, n]));
    prop_oneof![ike_aead, ike_classic, esp_aead, esp_classic, ah]
}

/// Assembles a proposal the way parsing completes one: derived PRF, default ESN.
fn build<const N: usize>(protocol: ProtocolId, parts: [Vec<Transform>; N]) -> ProposalSpec {
    let mut spec = ProposalSpec::from_transforms(protocol, parts.into_iter().flatten());
    if protocol == ProtocolId::IKE && spec.prf.is_empty() {
        spec.prf = super::derive_prf(&spec.integrity);
    }
    if protocol != ProtocolId::IKE && spec.esn.is_empty() {
        spec.esn = vec![EsnId::NO_ESN];
    }
    spec
}

proptest! {
    #[test]
    fn display_then_parse_gives_the_same_proposal(spec in valid_spec()) {
        let text = spec.to_string();
        let parsed = ProposalSpec::parse(spec.protocol, &text);
        prop_assert_eq!(parsed.as_ref(), Ok(&spec), "{}", text);
        // The SA payload view carries the same transforms.
        let again = ProposalSpec::from_transforms(spec.protocol, spec.transforms());
        prop_assert_eq!(again, spec);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "[a-z0-9_ -]{0,40}|\\PC{0,20}") {
        for protocol in [ProtocolId::IKE, ProtocolId::ESP, ProtocolId::AH] {
            if let Ok(spec) = ProposalSpec::parse(protocol, &text) {
                prop_assert_eq!(ProposalSpec::parse(protocol, &spec.to_string()), Ok(spec));
            }
        }
    }
}
