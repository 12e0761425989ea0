//! Signature tests: round trips over the test PKI keys, OpenSSL as the independent oracle in
//! both directions (RAMPART_REQUIRE_ORACLES rule), and the RFC 7427 AlgorithmIdentifier bytes
//! against the ones OpenSSL wrote into the test certificates.

use std::path::PathBuf;
use std::process::Command;

use rampart_wire::ike::iana::{AuthMethod, HashAlgorithm};

use super::*;
use crate::DeterministicRandom;

pub(crate) fn pki_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/pki")
        .join(name)
}

pub(crate) fn pki_text(name: &str) -> String {
    std::fs::read_to_string(pki_path(name)).expect("test PKI file exists (testdata/pki/gen.sh)")
}

pub(crate) fn pki_bytes(name: &str) -> Vec<u8> {
    std::fs::read(pki_path(name)).expect("test PKI file exists (testdata/pki/gen.sh)")
}

/// Runs `openssl` (through `sh -c` so pipelines work) and returns stdout, under the shared
/// oracle rule of `rampart_testkit`; a failing command panics either way.
pub(crate) fn openssl_sh(script: &str) -> Option<Vec<u8>> {
    rampart_testkit::run("openssl", Command::new("openssl").arg("version"), b"")?;
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .output()
        .expect("sh runs");
    assert!(
        out.status.success(),
        "openssl oracle failed: {script}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out.stdout)
}

/// A scratch directory unique to one test.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rampart-sig-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    dir
}

/// `(key file stem, key type)` of the test PKI's end-entity keys.
const KEYS: &[(&str, KeyType)] = &[
    ("rsa-leaf", KeyType::Rsa),
    ("p256-leaf", KeyType::EcP256),
    ("p384-leaf", KeyType::EcP384),
    ("ed25519-leaf", KeyType::Ed25519),
];

fn load(stem: &str) -> PrivateKey {
    PrivateKey::from_pkcs8_pem(&pki_text(&format!("{stem}.key"))).unwrap()
}

fn rng() -> DeterministicRandom {
    DeterministicRandom::from_u64(1)
}

#[test]
fn pem_and_der_keys_load_to_the_same_key_and_debug_redacts() {
    for &(stem, key_type) in KEYS {
        let pem = load(stem);
        let der = PrivateKey::from_pkcs8_der(&pki_bytes(&format!("{stem}.key.der"))).unwrap();
        assert_eq!(pem.key_type(), key_type);
        assert_eq!(pem.public_key_spki(), der.public_key_spki());
        assert_eq!(key_type_of_spki(pem.public_key_spki()).unwrap(), key_type);
        let shown = format!(
            "{pem:?} {:?}",
            pem.signer(SignatureScheme::signing_schemes(key_type)[0])
                .unwrap()
        );
        assert!(
            shown.contains("redacted") && !shown.contains("BEGIN"),
            "{shown}"
        );
    }
    assert!(matches!(
        PrivateKey::from_pkcs8_der(b"\x30\x03\x02\x01\x00"),
        Err(SigError::BadKey(_))
    ));
    assert!(PrivateKey::from_pkcs8_pem("no pem here").is_err());
}

#[test]
fn every_signing_scheme_round_trips_and_rejects_tampering() {
    let msg = b"RealMessage | Nonce | prf(SK_p, IDx')";
    for &(stem, key_type) in KEYS {
        let key = load(stem);
        for &scheme in SignatureScheme::signing_schemes(key_type) {
            let signer = key.signer(scheme).unwrap();
            assert_eq!(signer.algorithm(), scheme);
            let sig = signer.sign(&rng(), msg).unwrap();
            verify(scheme, signer.public_key_spki(), msg, &sig).unwrap();
            assert_eq!(
                verify(scheme, signer.public_key_spki(), b"other", &sig),
                Err(SigError::BadSignature)
            );
        }
        // A scheme for another key type is refused at construction.
        let foreign = if key_type == KeyType::Ed25519 {
            SignatureScheme::RsaPssSha256
        } else {
            SignatureScheme::Ed25519
        };
        assert_eq!(
            key.signer(foreign).unwrap_err(),
            SigError::KeyMismatch { scheme: foreign }
        );
    }
    // Verifying with the wrong key type is a typed mismatch, not a crash.
    let ed = load("ed25519-leaf");
    let sig = ed
        .signer(SignatureScheme::Ed25519)
        .unwrap()
        .sign(&rng(), msg)
        .unwrap();
    let rsa_spki = load("rsa-leaf").public_key_spki().to_vec();
    assert!(matches!(
        verify(SignatureScheme::Ed25519, &rsa_spki, msg, &sig),
        Err(SigError::KeyMismatch { .. })
    ));
}

#[test]
fn hash_ids_follow_rfc7427_and_rfc8420() {
    use SignatureScheme as S;
    assert_eq!(S::RsaPssSha256.hash_algorithm(), HashAlgorithm::SHA2_256);
    assert_eq!(S::EcdsaP384Sha384.hash_algorithm(), HashAlgorithm::SHA2_384);
    assert_eq!(S::RsaPkcs1Sha512.hash_algorithm(), HashAlgorithm::SHA2_512);
    assert_eq!(S::Ed25519.hash_algorithm(), HashAlgorithm::IDENTITY);
    assert_eq!(HashAlgorithm::IDENTITY.0, 5);
    assert_eq!(
        S::ecdsa_for(KeyType::EcP256, HashAlgorithm::SHA2_384),
        Some(S::EcdsaP256Sha384)
    );
}

/// RFC 7427 Appendix A encodings (sha*WithRSAEncryption with NULL parameters; ecdsa-with-SHA*
/// and Ed25519 with absent parameters; RSASSA-PSS with explicit SHA-256/MGF1-SHA-256/salt 32).
#[test]
fn algorithm_identifiers_have_the_rfc7427_bytes() {
    use SignatureScheme as S;
    let cases: &[(S, &str)] = &[
        (S::RsaPkcs1Sha1, "300d06092a864886f70d0101050500"),
        (S::RsaPkcs1Sha256, "300d06092a864886f70d01010b0500"),
        (S::RsaPkcs1Sha384, "300d06092a864886f70d01010c0500"),
        (S::RsaPkcs1Sha512, "300d06092a864886f70d01010d0500"),
        (S::EcdsaP256Sha256, "300a06082a8648ce3d040302"),
        (S::EcdsaP384Sha384, "300a06082a8648ce3d040303"),
        (S::EcdsaP256Sha512, "300a06082a8648ce3d040304"),
        (S::Ed25519, "300506032b6570"),
        (
            S::RsaPssSha256,
            "304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120",
        ),
    ];
    for &(scheme, want) in cases {
        let der = scheme.algorithm_identifier();
        assert_eq!(hex::encode(&der), want, "{scheme:?}");
        let alg = SignatureAlgorithm::from_der(&der).unwrap();
        assert_eq!(alg.scheme_for(scheme.key_type()).unwrap(), scheme);
    }
    for scheme in SignatureScheme::ALL {
        let der = scheme.algorithm_identifier();
        assert_eq!(
            SignatureAlgorithm::from_der(&der)
                .unwrap()
                .scheme_for(scheme.key_type())
                .unwrap(),
            *scheme
        );
    }
}

#[test]
fn algorithm_identifier_parse_errors_are_typed() {
    // sha224WithRSAEncryption: known to the world, not to us -> names the OID.
    let sha224 = hex::decode("300d06092a864886f70d01010e0500").unwrap();
    assert_eq!(
        SignatureAlgorithm::from_der(&sha224),
        Err(SigError::UnknownAlgorithm {
            oid: "1.2.840.113549.1.1.14".into()
        })
    );
    // PSS with absent hash parameters is accepted (RFC 5754); salt 20 is not.
    let pss_absent = hex::decode(
        "303d06092a864886f70d01010a3030a00d300b0609608648016503040201a11a301806092a864886f70d010108300b0609608648016503040201a203020120",
    )
    .unwrap();
    assert_eq!(
        SignatureAlgorithm::from_der(&pss_absent),
        Ok(SignatureAlgorithm::RsaPss(HashAlgorithm::SHA2_256))
    );
    let mut salt20 = SignatureScheme::RsaPssSha256.algorithm_identifier();
    *salt20.last_mut().unwrap() = 20;
    assert!(matches!(
        SignatureAlgorithm::from_der(&salt20),
        Err(SigError::UnsupportedParameters(_))
    ));
    // ECDSA with parameters, truncated input, trailing data.
    assert!(
        SignatureAlgorithm::from_der(&hex::decode("300c06082a8648ce3d0403020500").unwrap())
            .is_err()
    );
    assert!(SignatureAlgorithm::from_der(&hex::decode("300a06082a8648ce3d0403").unwrap()).is_err());
    assert!(SignatureAlgorithm::from_der(&hex::decode("300506032b657000").unwrap()).is_err());
}

/// OpenSSL wrote these AlgorithmIdentifiers into the test certificates' signatureAlgorithm
/// fields; ours must be byte-identical, and `openssl asn1parse` must read ours as the same
/// algorithms.
#[test]
fn algorithm_identifiers_match_openssl() {
    use SignatureScheme as S;
    for (cert, scheme, names) in [
        (
            "rsa-leaf.pem",
            S::RsaPkcs1Sha256,
            &["sha256WithRSAEncryption"][..],
        ),
        (
            "rsa-pss-leaf.pem",
            S::RsaPssSha256,
            &["rsassaPss", "sha256", "mgf1", ":20"][..],
        ),
        (
            "p256-leaf.pem",
            S::EcdsaP256Sha256,
            &["ecdsa-with-SHA256"][..],
        ),
        (
            "p384-leaf.pem",
            S::EcdsaP384Sha384,
            &["ecdsa-with-SHA384"][..],
        ),
        ("ed25519-leaf.pem", S::Ed25519, &["ED25519"][..]),
    ] {
        let c = &crate::cert::Certificate::from_pem(&pki_text(cert)).unwrap()[0];
        assert_eq!(
            c.signature_algorithm_der(),
            scheme.algorithm_identifier().as_slice(),
            "{cert}"
        );
        let dir = scratch("asn1");
        let f = dir.join(format!("{scheme:?}.der"));
        std::fs::write(&f, scheme.algorithm_identifier()).unwrap();
        let Some(out) = openssl_sh(&format!(
            "openssl asn1parse -inform DER -in {}",
            f.display()
        )) else {
            return;
        };
        let out = String::from_utf8_lossy(&out);
        for n in names {
            assert!(out.contains(n), "{scheme:?}: {n} not in\n{out}");
        }
    }
}

/// `(scheme, openssl dgst options)` for OpenSSL's sign/verify of our schemes.
fn dgst_args(scheme: SignatureScheme) -> Option<&'static str> {
    use SignatureScheme as S;
    Some(match scheme {
        S::RsaPkcs1Sha256 | S::EcdsaP256Sha256 => "-sha256",
        S::RsaPkcs1Sha384 | S::EcdsaP384Sha384 => "-sha384",
        S::RsaPkcs1Sha512 => "-sha512",
        S::RsaPssSha256 => "-sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32",
        S::RsaPssSha384 => "-sha384 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:48",
        S::RsaPssSha512 => "-sha512 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:64",
        _ => return None,
    })
}

#[test]
fn openssl_verifies_our_signatures_and_we_verify_openssls() {
    let dir = scratch("oracle");
    let msg_path = dir.join("msg");
    let msg = b"IKE_AUTH signed octets, checked by openssl";
    std::fs::write(&msg_path, msg).unwrap();
    for &(stem, key_type) in KEYS {
        let key = load(stem);
        let pub_path = dir.join(format!("{stem}.spki.der"));
        std::fs::write(&pub_path, key.public_key_spki()).unwrap();
        let key_path = pki_path(&format!("{stem}.key"));
        for &scheme in SignatureScheme::signing_schemes(key_type) {
            let sig_path = dir.join(format!("{scheme:?}.sig"));
            let ours = key.signer(scheme).unwrap().sign(&rng(), msg).unwrap();
            std::fs::write(&sig_path, &ours).unwrap();
            let (m, p, s, k) = (
                msg_path.display(),
                pub_path.display(),
                sig_path.display(),
                key_path.display(),
            );
            let (verify_cmd, sign_cmd) = match dgst_args(scheme) {
                Some(a) => (
                    format!("openssl dgst {a} -keyform DER -verify {p} -signature {s} {m}"),
                    format!("openssl dgst {a} -sign {k} {m}"),
                ),
                None => (
                    format!(
                        "openssl pkeyutl -verify -rawin -pubin -keyform DER -inkey {p} -sigfile {s} -in {m}"
                    ),
                    format!("openssl pkeyutl -sign -rawin -inkey {k} -in {m}"),
                ),
            };
            let Some(out) = openssl_sh(&verify_cmd) else {
                return;
            };
            assert!(
                String::from_utf8_lossy(&out).contains("Verified"),
                "{scheme:?}: {out:?}"
            );
            let theirs = openssl_sh(&sign_cmd).expect("openssl present");
            verify(scheme, key.public_key_spki(), msg, &theirs)
                .unwrap_or_else(|e| panic!("{scheme:?}: {e}"));
        }
    }
}

#[test]
fn auth_method_14_round_trips_every_scheme_and_names_unknown_oids() {
    let octets = b"InitiatorSignedOctets";
    for &(stem, key_type) in KEYS {
        let key = load(stem);
        for &scheme in SignatureScheme::signing_schemes(key_type) {
            let signer = key.signer(scheme).unwrap();
            let data = sign_auth(AuthMethod::DIGITAL_SIGNATURE, &signer, &rng(), octets).unwrap();
            let algid = scheme.algorithm_identifier();
            assert_eq!(usize::from(data[0]), algid.len());
            assert_eq!(&data[1..=algid.len()], algid.as_slice());
            assert_eq!(
                verify_auth(
                    AuthMethod::DIGITAL_SIGNATURE,
                    &data,
                    key.public_key_spki(),
                    octets
                ),
                Ok(scheme)
            );
            let mut bad = data.clone();
            *bad.last_mut().unwrap() ^= 1;
            assert_eq!(
                verify_auth(
                    AuthMethod::DIGITAL_SIGNATURE,
                    &bad,
                    key.public_key_spki(),
                    octets
                ),
                Err(SigError::BadSignature)
            );
        }
    }
    let key = load("p256-leaf");
    // An AlgorithmIdentifier with an OID we do not know (id-dsa-with-sha256).
    let unknown = hex::decode("0d300b0609608648016503040302").unwrap();
    let got = verify_auth(
        AuthMethod::DIGITAL_SIGNATURE,
        &[&unknown[..], &[0; 64]].concat(),
        key.public_key_spki(),
        octets,
    );
    assert_eq!(
        got,
        Err(SigError::UnknownAlgorithm {
            oid: "2.16.840.1.101.3.4.3.2".into()
        })
    );
    for bad in [&[][..], &[0x20, 0x30][..]] {
        assert!(matches!(
            verify_auth(
                AuthMethod::DIGITAL_SIGNATURE,
                bad,
                key.public_key_spki(),
                octets
            ),
            Err(SigError::Malformed(_))
        ));
    }
    // ECDSA AlgorithmIdentifier against an RSA key: typed refusal.
    let data = sign_auth(
        AuthMethod::DIGITAL_SIGNATURE,
        &key.signer(SignatureScheme::EcdsaP256Sha256).unwrap(),
        &rng(),
        octets,
    )
    .unwrap();
    assert!(
        verify_auth(
            AuthMethod::DIGITAL_SIGNATURE,
            &data,
            load("rsa-leaf").public_key_spki(),
            octets
        )
        .is_err()
    );
}

#[test]
fn auth_methods_9_and_10_use_fixed_r_s() {
    let octets = b"ResponderSignedOctets";
    for (stem, method, scheme, len) in [
        (
            "p256-leaf",
            AuthMethod::ECDSA_SHA256_P256,
            SignatureScheme::EcdsaP256Sha256,
            64,
        ),
        (
            "p384-leaf",
            AuthMethod::ECDSA_SHA384_P384,
            SignatureScheme::EcdsaP384Sha384,
            96,
        ),
    ] {
        let key = load(stem);
        let signer = key.signer(scheme).unwrap();
        let data = sign_auth(method, &signer, &rng(), octets).unwrap();
        assert_eq!(data.len(), len);
        assert_eq!(
            verify_auth(method, &data, key.public_key_spki(), octets),
            Ok(scheme)
        );
        assert_eq!(
            verify_auth(method, &data, key.public_key_spki(), b"x"),
            Err(SigError::BadSignature)
        );
        assert!(matches!(
            verify_auth(method, &data[1..], key.public_key_spki(), octets),
            Err(SigError::Malformed(_))
        ));
        // The other legacy method refuses this key.
        let other = if method == AuthMethod::ECDSA_SHA256_P256 {
            AuthMethod::ECDSA_SHA384_P384
        } else {
            AuthMethod::ECDSA_SHA256_P256
        };
        assert!(sign_auth(other, &signer, &rng(), octets).is_err());
    }
}

/// Method 1 (RSA PKCS#1 v1.5 with SHA-1): OpenSSL signs, we verify; we refuse to sign.
#[test]
fn auth_method_1_verifies_openssl_sha1_and_refuses_to_sign() {
    let key = load("rsa-leaf");
    let signer = key.signer(SignatureScheme::RsaPkcs1Sha256).unwrap();
    assert!(matches!(
        sign_auth(AuthMethod::RSA_SIG, &signer, &rng(), b"x"),
        Err(SigError::Unsupported(_))
    ));
    let dir = scratch("method1");
    let msg = dir.join("msg");
    std::fs::write(&msg, b"legacy octets").unwrap();
    let Some(sig) = openssl_sh(&format!(
        "openssl dgst -sha1 -sign {} {}",
        pki_path("rsa-leaf.key").display(),
        msg.display()
    )) else {
        return;
    };
    assert_eq!(
        verify_auth(
            AuthMethod::RSA_SIG,
            &sig,
            key.public_key_spki(),
            b"legacy octets"
        ),
        Ok(SignatureScheme::RsaPkcs1Sha1)
    );
    assert_eq!(
        verify_auth(AuthMethod::RSA_SIG, &sig, key.public_key_spki(), b"other"),
        Err(SigError::BadSignature)
    );
}
