//! Wire truth from an oracle we did not write: a full IKE_SA_INIT + IKE_AUTH between two engines
//! (in memory), every datagram written into a pcap (raw IPv4 + UDP/500, linktype 228), then
//! dissected by tshark with the IKE SA's keys in its IKEv2 decryption table (fed from
//! [`IkeSa::dangerous_export_keys`]). tshark must decode every message without a malformed
//! packet, verify the SK payloads' checksums, and show the encrypted payloads with the values we
//! configured: IDi/IDr, AUTH, SA, TSi/TSr, CERT. With forced UDP encapsulation, IKE_AUTH goes
//! over UDP 4500 behind the non-ESP marker (RFC 3948 §2.2), which tshark must strip itself.
//!
//! Skips with a warning when tshark is missing, fails then under RAMPART_REQUIRE_ORACLES=1
//! (`rampart_testkit::run`).

mod cert_pair;

use std::net::{SocketAddr, SocketAddrV4};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use cert_pair::{A, B, Side, leaf_signer, run_pair, trusting, up_count};
use rampart_crypto::{AeadAlg, CipherAlg, EncrAlg, IntegAlg, SecretBytes};
use rampart_ike::IkeKeyExport;
use rampart_policy::pad::Identity;

/// LINKTYPE_IPV4 (raw IPv4, no link header).
const LINKTYPE_IPV4: u32 = 228;

/// An IPv4 + UDP datagram from `src` to `dst` (addresses and ports) around `payload`. The IPv4 header checksum is
/// computed (RFC 791); the UDP checksum is 0, "none", which IPv4 allows (RFC 768).
fn ipv4_udp(src: SocketAddrV4, dst: SocketAddrV4, payload: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + 8 + payload.len()).expect("IKE message fits a datagram");
    let mut p = Vec::with_capacity(usize::from(total));
    p.extend_from_slice(&[0x45, 0]);
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0x40, 0, 64, 17, 0, 0]);
    p.extend_from_slice(&src.ip().octets());
    p.extend_from_slice(&dst.ip().octets());
    let sum: u32 = p
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    let folded = (sum & 0xffff) + (sum >> 16);
    let checksum = !u16::try_from((folded & 0xffff) + (folded >> 16)).unwrap();
    p[10..12].copy_from_slice(&checksum.to_be_bytes());
    let udp_len = u16::try_from(8 + payload.len()).unwrap();
    p.extend_from_slice(&src.port().to_be_bytes());
    p.extend_from_slice(&dst.port().to_be_bytes());
    p.extend_from_slice(&udp_len.to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    p
}

/// A classic pcap file (microsecond timestamps) of `packets`, one second apart.
fn pcap(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    for v in [0u32, 0, 65_535, LINKTYPE_IPV4] {
        f.extend_from_slice(&v.to_le_bytes());
    }
    for (i, p) in packets.iter().enumerate() {
        let len = u32::try_from(p.len()).unwrap();
        for v in [u32::try_from(i).unwrap() + 1, 0, len, len] {
            f.extend_from_slice(&v.to_le_bytes());
        }
        f.extend_from_slice(p);
    }
    f
}

fn flip_last(k: &SecretBytes) -> SecretBytes {
    let mut v = k.expose().to_vec();
    if let Some(last) = v.last_mut() {
        *last ^= 1;
    }
    SecretBytes::from_slice(&v)
}

/// Wireshark's names for our algorithms in its IKEv2 decryption table (packet-isakmp.c).
fn wireshark_encr(e: EncrAlg) -> &'static str {
    match e {
        EncrAlg::Aead(a) if a == AeadAlg::AES_128_GCM_16 => {
            "AES-GCM-128 with 16 octet ICV [RFC5282]"
        }
        EncrAlg::Aead(a) if a == AeadAlg::AES_256_GCM_16 => {
            "AES-GCM-256 with 16 octet ICV [RFC5282]"
        }
        EncrAlg::Cipher(CipherAlg::AesCbc128) => "AES-CBC-128 [RFC3602]",
        EncrAlg::Cipher(CipherAlg::AesCbc256) => "AES-CBC-256 [RFC3602]",
        other => panic!("no Wireshark name for {other:?} in this test"),
    }
}

fn wireshark_integ(i: Option<IntegAlg>) -> &'static str {
    match i {
        None => "NONE [RFC4306]",
        Some(IntegAlg::HmacSha256_128) => "HMAC_SHA2_256_128 [RFC4868]",
        Some(IntegAlg::HmacSha384_192) => "HMAC_SHA2_384_192 [RFC4868]",
        Some(IntegAlg::HmacSha512_256) => "HMAC_SHA2_512_256 [RFC4868]",
        Some(other) => panic!("no Wireshark name for {other:?} in this test"),
    }
}

/// One record of `uat:ikev2_decryption_table`: SPIi, SPIr, SK_ei, SK_er, encryption algorithm,
/// SK_ai, SK_ar, integrity algorithm. Byte fields are bare hex, enumerations quoted names (the
/// UAT file syntax).
fn uat_record(k: &IkeKeyExport) -> String {
    format!(
        "{:016x},{:016x},{},{},\"{}\",{},{},\"{}\"",
        k.spi_i,
        k.spi_r,
        hex::encode(k.sk_ei.expose()),
        hex::encode(k.sk_er.expose()),
        wireshark_encr(k.encr),
        hex::encode(k.sk_ai.expose()),
        hex::encode(k.sk_ar.expose()),
        wireshark_integ(k.integ),
    )
}

/// Runs the pair, then tshark over the capture; returns tshark's per-packet field lines
/// (`fields`, tab-separated, multiple values comma-separated) or `None` when tshark is missing.
/// With `corrupt_sk_r`, the responder's keys given to tshark are wrong in their last octet (a
/// negative control: tshark must then notice).
fn dissect(a: &Side, b: &Side, fields: &[&str], corrupt_sk_r: bool) -> Option<Vec<Vec<String>>> {
    let sim = run_pair(a, b);
    assert_eq!((up_count(&sim, 0), up_count(&sim, 1)), (1, 1));
    let keys = sim.nodes[0]
        .sas
        .values()
        .next()
        .and_then(|sa| sa.dangerous_export_keys())
        .expect("established SA has keys");
    let mut keys = keys;
    if corrupt_sk_r {
        keys.sk_ar = flip_last(&keys.sk_ar);
        keys.sk_er = flip_last(&keys.sk_er);
    }
    // Request / response alternate in a loss-free run: A's first, B's first, ... Each as sent:
    // the engine's UDP payload (marker included on 4500) between the Transmit's addresses.
    let (sa, sb) = (&sim.nodes[0].log, &sim.nodes[1].log);
    assert_eq!(
        (sa.len(), sb.len()),
        (2, 2),
        "IKE_SA_INIT and IKE_AUTH each way"
    );
    let v4 = |a: SocketAddr| match a {
        SocketAddr::V4(a) => a,
        SocketAddr::V6(_) => panic!("IPv4 test addresses"),
    };
    let datagram =
        |(_, t): &(_, rampart_ike::Transmit)| ipv4_udp(v4(t.local), v4(t.remote), &t.payload);
    assert!(
        sa.iter()
            .chain(sb)
            .all(|(_, t)| [A, B].contains(&t.local.ip().to_string().as_str())),
        "sent from the nodes' own addresses"
    );
    let packets: Vec<Vec<u8>> = sa
        .iter()
        .zip(sb)
        .flat_map(|(x, y)| [datagram(x), datagram(y)])
        .collect();
    let dir = std::env::temp_dir().join(format!("rampart-tshark-ike-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Tests run in parallel with the same seed (hence SPIs): one file per call.
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let file = dir.join(format!("{}.pcap", CALLS.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&file, pcap(&packets)).unwrap();
    let mut cmd = Command::new("tshark");
    cmd.arg("-n")
        .arg("-r")
        .arg(&file)
        .arg("-o")
        .arg(format!("uat:ikev2_decryption_table:{}", uat_record(&keys)))
        .args(["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = rampart_testkit::run("tshark", &mut cmd, b"");
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_dir(&dir); // fails while another test still has its file there

    let out = out?;
    Some(
        out.lines()
            .map(|l| l.split('\t').map(str::to_owned).collect())
            .collect(),
    )
}

const FIELDS: &[&str] = &[
    "isakmp.exchangetype",
    "isakmp.flag_r",
    "_ws.expert.message",
    "_ws.malformed",
    "isakmp.ikev2.integrity_checksum",
    "isakmp.enc.decrypted",
    "isakmp.id.data.fqdn",
    "isakmp.id.data.user_fqdn",
    "isakmp.auth.method",
    "isakmp.ts.start_ipv4",
    "isakmp.ts.end_ipv4",
    "isakmp.typepayload",
];

fn check(rows: &[Vec<String>], a_id: &str, b_id: &str, auth_method: &str) {
    let col = |r: &Vec<String>, name: &str| {
        let i = FIELDS.iter().position(|f| *f == name).unwrap();
        r.get(i).cloned().unwrap_or_default()
    };
    assert_eq!(rows.len(), 4, "{rows:?}");
    for r in rows {
        assert!(
            col(r, "_ws.malformed").is_empty(),
            "malformed packet: {r:?}"
        );
        assert!(
            col(r, "isakmp.ikev2.integrity_checksum").is_empty(),
            "checksum refused: {r:?}"
        );
        assert!(
            !col(r, "_ws.expert.message")
                .to_lowercase()
                .contains("malformed"),
            "{r:?}"
        );
    }
    // IKE_SA_INIT (34) twice, then IKE_AUTH (35) twice.
    let types: Vec<String> = rows.iter().map(|r| col(r, "isakmp.exchangetype")).collect();
    assert_eq!(types, ["34", "34", "35", "35"], "{rows:?}");
    for (r, id) in rows[2..].iter().zip([a_id, b_id]) {
        assert_eq!(
            col(r, "isakmp.enc.decrypted"),
            "1",
            "SK payload decrypted: {r:?}"
        );
        let ids = col(r, "isakmp.id.data.fqdn") + &col(r, "isakmp.id.data.user_fqdn");
        assert!(ids.contains(id), "decrypted ID {ids:?}, want {id}: {r:?}");
        assert_eq!(col(r, "isakmp.auth.method"), auth_method, "{r:?}");
        let starts = col(r, "isakmp.ts.start_ipv4");
        assert!(
            starts.contains("198.51.100.0") && starts.contains("203.0.113.0"),
            "TSi/TSr: {r:?}"
        );
        let ends = col(r, "isakmp.ts.end_ipv4");
        assert!(
            ends.contains("198.51.100.255") && ends.contains("203.0.113.255"),
            "{r:?}"
        );
        // SA (33), TSi (44), TSr (45) and AUTH (39) came out of the SK payload.
        let inner = col(r, "isakmp.typepayload");
        for t in ["33", "39", "44", "45"] {
            assert!(
                inner.split(',').any(|x| x == t),
                "payload {t} in {inner}: {r:?}"
            );
        }
    }
}

fn psk_pair(ike: &'static str, esp: &'static str) -> (Side, Side) {
    let a = Side {
        ike,
        esp,
        ..Side::psk_a()
    };
    let b = Side {
        ike,
        esp,
        ..Side::psk_b()
    };
    (a, b)
}

#[test]
fn tshark_decrypts_aes_gcm_16_ike_auth() {
    let (a, b) = psk_pair("aes128gcm16-prfsha256-x25519", "aes128gcm16");
    if let Some(rows) = dissect(&a, &b, FIELDS, false) {
        check(&rows, "gw-a.example", "gw-b.example", "2");
    }
}

#[test]
fn tshark_decrypts_aes_cbc_hmac_sha256_ike_auth() {
    let (a, b) = psk_pair("aes128-sha256-prfsha256-x25519", "aes128-sha256");
    if let Some(rows) = dissect(&a, &b, FIELDS, false) {
        check(&rows, "gw-a.example", "gw-b.example", "2");
    }
}

/// Certificates: CERT, CERTREQ and the RFC 7427 AUTH (method 14) as tshark sees them.
#[test]
fn tshark_decrypts_certificate_ike_auth() {
    let (a_trusts, _) = trusting(&["p384-root.pem"]);
    let (b_trusts, _) = trusting(&["p256-root.pem"]);
    let id = Identity::Fqdn("gw-a.ipx.example".into());
    let a = Side {
        ike: "aes256gcm16-prfsha384-ecp384",
        local_id: id.clone(),
        remote_id: Identity::Rfc822("admin@ipx.example".into()),
        local_auth: leaf_signer("p256"),
        remote_auth: a_trusts,
        ..Side::psk_a()
    };
    let b = Side {
        ike: "aes256gcm16-prfsha384-ecp384",
        local_id: Identity::Rfc822("admin@ipx.example".into()),
        remote_id: id,
        local_auth: leaf_signer("p384"),
        remote_auth: b_trusts,
        ..Side::psk_b()
    };
    let mut fields = FIELDS.to_vec();
    fields.extend(["isakmp.cert.encoding", "isakmp.certreq.type"]);
    if let Some(rows) = dissect(&a, &b, &fields, false) {
        let trimmed: Vec<Vec<String>> = rows.iter().map(|r| r[..FIELDS.len()].to_vec()).collect();
        check(&trimmed, "gw-a.ipx.example", "admin@ipx.example", "14");
        // CERTREQ (X.509 Signature, 4) in B's IKE_SA_INIT response and A's IKE_AUTH request;
        // two CERTs (leaf, intermediate) in each IKE_AUTH.
        assert_eq!(rows[1][FIELDS.len() + 1], "4", "{:?}", rows[1]);
        assert_eq!(rows[2][FIELDS.len() + 1], "4", "{:?}", rows[2]);
        for r in &rows[2..] {
            assert_eq!(r[FIELDS.len()], "4,4", "{r:?}");
        }
    }
}

/// Forced UDP encapsulation: IKE_SA_INIT on 500, then IKE_AUTH floats to 4500 behind the
/// non-ESP marker; tshark's UDP-encapsulation dissector must find the IKE message behind it and
/// decrypt it as before.
#[test]
fn tshark_decodes_ike_auth_on_4500_behind_the_marker() {
    let (a, b) = psk_pair("aes128gcm16-prfsha256-x25519", "aes128gcm16");
    let a = Side {
        force_encap: true,
        ..a
    };
    let mut fields = FIELDS.to_vec();
    fields.extend(["udp.srcport", "udp.dstport", "frame.protocols"]);
    if let Some(rows) = dissect(&a, &b, &fields, false) {
        let trimmed: Vec<Vec<String>> = rows.iter().map(|r| r[..FIELDS.len()].to_vec()).collect();
        check(&trimmed, "gw-a.example", "gw-b.example", "2");
        let ports: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r[FIELDS.len()].as_str(), r[FIELDS.len() + 1].as_str()))
            .collect();
        assert_eq!(
            ports,
            [
                ("500", "500"),
                ("500", "500"),
                ("4500", "4500"),
                ("4500", "4500")
            ]
        );
        // On 4500 tshark found the non-ESP marker and IKE behind it; not on 500.
        for (i, r) in rows.iter().enumerate() {
            let stack = &r[FIELDS.len() + 2];
            assert_eq!(stack.contains("udpencap:isakmp"), i >= 2, "{stack}");
        }
    }
}

/// Negative control: with one wrong octet in SK_er and SK_ar, tshark must refuse the
/// responder's message, proving that it really checks what the positive tests accept.
#[test]
fn negative_control_wrong_keys_are_noticed() {
    for (ike, esp) in [
        ("aes128-sha256-prfsha256-x25519", "aes128-sha256"),
        ("aes128gcm16-prfsha256-x25519", "aes128gcm16"),
    ] {
        let (a, b) = psk_pair(ike, esp);
        let Some(rows) = dissect(&a, &b, FIELDS, true) else {
            return;
        };
        // The initiator's keys were right: its IKE_AUTH request still decodes.
        assert!(rows[2][6].contains("gw-a.example"), "{ike}: {:?}", rows[2]);
        // The responder's were not: tshark refuses the checksum (so in the tests above, an
        // empty refusal column means our ICVs and GCM tags verified) and decodes no IDr.
        assert!(
            rows[3][2].contains("IKEv2 Integrity Checksum Data is incorrect"),
            "{ike}: {:?}",
            rows[3]
        );
        assert!(!rows[3][6].contains("gw-b.example"), "{ike}: {:?}", rows[3]);
    }
}
