//! Oracle test: the keyword table's transform IDs checked against scapy's IKEv2 transform
//! registry (`scapy.contrib.ikev2.IKEv2TransformAlgorithms`), a table we did not write.
//!
//! Skips with a warning when python3 or scapy is missing, unless `RAMPART_REQUIRE_ORACLES=1`.

use std::collections::HashMap;

use super::known_keywords;

/// The name scapy gives each keyword's transform. Keywords whose transform scapy does not list
/// (`null`, `none`/`modpnone`, ML-KEM) are covered by the IANA table test only.
const SCAPY_NAMES: &[(&str, &str)] = &[
    ("aes", "AES-CBC"),
    ("aes128", "AES-CBC"),
    ("aes192", "AES-CBC"),
    ("aes256", "AES-CBC"),
    ("aes128gcm16", "AES-GCM-16ICV"),
    ("aes128gcm128", "AES-GCM-16ICV"),
    ("aes128gcm12", "AES-GCM-12ICV"),
    ("aes128gcm96", "AES-GCM-12ICV"),
    ("aes128gcm8", "AES-GCM-8ICV"),
    ("aes128gcm64", "AES-GCM-8ICV"),
    ("aes128gcm", "AES-GCM-16ICV"),
    ("aes192gcm16", "AES-GCM-16ICV"),
    ("aes192gcm128", "AES-GCM-16ICV"),
    ("aes192gcm12", "AES-GCM-12ICV"),
    ("aes192gcm96", "AES-GCM-12ICV"),
    ("aes192gcm8", "AES-GCM-8ICV"),
    ("aes192gcm64", "AES-GCM-8ICV"),
    ("aes192gcm", "AES-GCM-16ICV"),
    ("aes256gcm16", "AES-GCM-16ICV"),
    ("aes256gcm128", "AES-GCM-16ICV"),
    ("aes256gcm12", "AES-GCM-12ICV"),
    ("aes256gcm96", "AES-GCM-12ICV"),
    ("aes256gcm8", "AES-GCM-8ICV"),
    ("aes256gcm64", "AES-GCM-8ICV"),
    ("aes256gcm", "AES-GCM-16ICV"),
    ("chacha20poly1305", "ChaCha20-Poly1305"),
    ("3des", "3DES"),
    ("sha1", "HMAC-SHA1-96"),
    ("sha", "HMAC-SHA1-96"),
    ("sha256", "SHA2-256-128"),
    ("sha2_256", "SHA2-256-128"),
    ("sha384", "SHA2-384-192"),
    ("sha2_384", "SHA2-384-192"),
    ("sha512", "SHA2-512-256"),
    ("sha2_512", "SHA2-512-256"),
    ("md5", "HMAC-MD5-96"),
    ("aesxcbc", "AES-XCBC-96"),
    ("prfsha1", "PRF_HMAC_SHA1"),
    ("prfsha256", "PRF_HMAC_SHA2_256"),
    ("prfsha384", "PRF_HMAC_SHA2_384"),
    ("prfsha512", "PRF_HMAC_SHA2_512"),
    ("prfmd5", "PRF_HMAC_MD5"),
    ("prfaesxcbc", "PRF_AES128_XCBC"),
    ("prfaescmac", "PRF_AES128_CMAC"),
    ("modp768", "768MODPgr"),
    ("modp1024", "1024MODPgr"),
    ("modp1536", "1536MODPgr"),
    ("modp2048", "2048MODPgr"),
    ("modp3072", "3072MODPgr"),
    ("modp4096", "4096MODPgr"),
    ("modp6144", "6144MODPgr"),
    ("modp8192", "8192MODPgr"),
    ("ecp256", "256randECPgr"),
    ("ecp384", "384randECPgr"),
    ("ecp521", "521randECPgr"),
    ("x25519", "curve25519gr"),
    ("curve25519", "curve25519gr"),
    ("x448", "curve448gr"),
    ("curve448", "curve448gr"),
    ("esn", "ESN"),
    ("noesn", "No ESN"),
];

/// Prints scapy's registry as `type id name` lines.
const DUMP: &str = "from scapy.contrib.ikev2 import IKEv2TransformAlgorithms as t\n\
for ty, ids in t.items():\n    for i, n in ids.items():\n        print(ty, i, n)";

/// scapy's (transform type, ID) -> name table, or `None` (after the shared skip rule) if the
/// oracle is unavailable.
fn scapy_table() -> Option<HashMap<(u8, u16), String>> {
    let text = rampart_testkit::python(DUMP, "")?;
    let mut table = HashMap::new();
    for line in text.lines() {
        let mut parts = line.splitn(3, ' ');
        let (Some(ty), Some(id), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            panic!("unexpected scapy line {line:?}");
        };
        let key = (
            ty.parse().expect("type is a number"),
            id.parse().expect("id is a number"),
        );
        table.insert(key, name.to_owned());
    }
    Some(table)
}

#[test]
fn keyword_ids_match_scapy_registry() {
    let Some(table) = scapy_table() else { return };
    let ours: HashMap<_, _> = known_keywords().collect();
    for &(keyword, scapy_name) in SCAPY_NAMES {
        let transform = ours[keyword];
        let key = (transform.transform_type().0, transform.id());
        assert_eq!(
            table.get(&key).map(String::as_str),
            Some(scapy_name),
            "{keyword} -> {key:?}"
        );
    }
    // Every keyword is either checked here or is one scapy does not list.
    let unchecked: Vec<_> = known_keywords()
        .map(|(name, _)| name)
        .filter(|name| !SCAPY_NAMES.iter().any(|(k, _)| k == name))
        .collect();
    let allowed = [
        "null",
        "none",
        "modpnone",
        "mlkem512",
        "mlkem768",
        "mlkem1024",
    ];
    for name in unchecked {
        assert!(
            allowed.contains(&name),
            "{name} is checked against neither scapy nor the allowed list"
        );
    }
}
