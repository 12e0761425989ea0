//! Independent oracle: tshark's ISAKMP/IKEv2 dissector reads messages emitted by
//! `rampart_wire::ike` and must see the same fields we put in.
//!
//! Messages covering every payload type are wrapped in hand-built IPv4 + UDP (port 500, and
//! port 4500 behind the RFC 3948 non-ESP marker), written as a classic pcap with link type 228
//! (raw IPv4), and dissected with `tshark -T fields`. If tshark is missing the test is skipped
//! with a warning, unless RAMPART_REQUIRE_ORACLES=1, in which case it fails.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::Command;

use rampart_wire::ike::iana::*;
use rampart_wire::ike::*;

/// `Some("tshark")` when tshark can run; otherwise the shared rule of `rampart_testkit` (skip
/// with a warning, or fail when oracles are required).
fn tshark() -> Option<&'static str> {
    rampart_testkit::run("tshark", Command::new("tshark").arg("--version"), b"")?;
    Some("tshark")
}

/// A raw IPv4 + UDP datagram around `payload` (checksums zero: tshark does not verify them by
/// default, and UDP checksum 0 means "none").
fn ipv4_udp(src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let total = 20 + udp_len;
    let mut p = vec![0x45, 0];
    p.extend((total as u16).to_be_bytes());
    p.extend([0, 1, 0x40, 0, 64, 17, 0, 0]); // id 1, DF, TTL 64, UDP, checksum 0
    p.extend([192, 0, 2, 1, 192, 0, 2, 2]);
    p.extend(src_port.to_be_bytes());
    p.extend(dst_port.to_be_bytes());
    p.extend((udp_len as u16).to_be_bytes());
    p.extend([0, 0]);
    p.extend(payload);
    p
}

/// A classic (microsecond, little-endian) pcap file with link type 228 (LINKTYPE_IPV4).
fn pcap(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend(0xa1b2_c3d4u32.to_le_bytes());
    f.extend(2u16.to_le_bytes());
    f.extend(4u16.to_le_bytes());
    f.extend(0i32.to_le_bytes());
    f.extend(0u32.to_le_bytes());
    f.extend(65535u32.to_le_bytes());
    f.extend(228u32.to_le_bytes());
    for (i, p) in packets.iter().enumerate() {
        f.extend((1_700_000_000 + i as u32).to_le_bytes());
        f.extend(0u32.to_le_bytes());
        f.extend((p.len() as u32).to_le_bytes());
        f.extend((p.len() as u32).to_le_bytes());
        f.extend(p);
    }
    f
}

const FIELDS: &[&str] = &[
    "_ws.malformed",
    "isakmp.ispi",
    "isakmp.rspi",
    "isakmp.mjver",
    "isakmp.exchangetype",
    "isakmp.flag_i",
    "isakmp.flag_r",
    "isakmp.messageid",
    "isakmp.length",
    "isakmp.typepayload",
    "isakmp.prop.number",
    "isakmp.prop.protoid",
    "isakmp.spi",
    "isakmp.tf.type",
    "isakmp.tf.id.encr",
    "isakmp.tf.id.prf",
    "isakmp.tf.id.integ",
    "isakmp.tf.id.dh",
    "isakmp.tf.id.esn",
    "isakmp.ike2.attr.key_length",
    "isakmp.key_exchange.dh_group",
    "isakmp.key_exchange.data",
    "isakmp.nonce",
    "isakmp.notify.protoid",
    "isakmp.notify.msgtype",
    "isakmp.notify.data.signature_hash_algorithms",
    "isakmp.vid_bytes",
    "isakmp.certreq.type",
    "isakmp.ike.certreq.authority",
    "isakmp.id.type",
    "isakmp.id.data.fqdn",
    "isakmp.id.data.ipv4_addr",
    "isakmp.cert.encoding",
    "isakmp.auth.method",
    "isakmp.auth.data",
    "isakmp.ts.number",
    "isakmp.ts.type",
    "isakmp.ts.protoid",
    "isakmp.ts.selector_length",
    "isakmp.ts.start_port",
    "isakmp.ts.end_port",
    "isakmp.ts.start_ipv4",
    "isakmp.ts.end_ipv4",
    "isakmp.ts.start_ipv6",
    "isakmp.ts.end_ipv6",
    "isakmp.cfg.type",
    "isakmp.cfg.attr.type",
    "eap.code",
    "eap.id",
    "eap.len",
    "eap.type",
    "eap.identity",
    "isakmp.delete.protoid",
    "isakmp.spinum",
    "isakmp.delete.spi",
    "isakmp.frag.number",
    "isakmp.frag.total",
    "isakmp.nextpayload",
];

/// Runs tshark over `packets`; one map of field name → comma-joined values per frame.
fn dissect(tshark: &str, packets: &[Vec<u8>]) -> Vec<HashMap<&'static str, String>> {
    let dir = std::env::temp_dir().join(format!("rampart-tshark-ike-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    let file = dir.join("ike.pcap");
    std::fs::write(&file, pcap(packets)).expect("temp file is writable");
    let mut cmd = Command::new(tshark);
    cmd.arg("-r")
        .arg(&file)
        .args(["-o", "udp.try_heuristic_first:FALSE", "-T", "fields"]);
    cmd.args([
        "-E",
        "separator=\t",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ]);
    for f in FIELDS {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("tshark runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("tshark prints UTF-8");
    text.lines()
        .map(|line| {
            FIELDS
                .iter()
                .zip(line.split('\t'))
                .map(|(k, v)| (*k, normalize(k, v)))
                .collect()
        })
        .collect()
}

/// Drops byte separators (except in IPv6 addresses) and prints hex-based integer fields
/// ("0x02") in decimal.
fn normalize(key: &str, v: &str) -> String {
    if key.contains("ipv6") {
        return v.to_string();
    }
    v.split(',')
        .map(|item| match item.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16).map_or(item.to_string(), |n| n.to_string()),
            None => item.replace(':', ""),
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn ike_sa_init() -> Message {
    let sa = SaPayload {
        proposals: vec![Proposal {
            number: 1,
            protocol: ProtocolId::IKE,
            spi: vec![],
            transforms: vec![
                Transform::encr(EncrId::AES_CBC, Some(256)),
                Transform::prf(PrfId::HMAC_SHA2_256),
                Transform::integ(IntegId::HMAC_SHA2_256_128),
                Transform::ke(KeId::ECP_256),
            ],
        }],
    };
    Message {
        spi_i: 0x0123_4567_89ab_cdef,
        spi_r: 0,
        exchange_type: ExchangeType::IKE_SA_INIT,
        flags: IkeFlags::INITIATOR,
        message_id: 0,
        payloads: vec![
            Payload::Sa(sa),
            Payload::Ke(KePayload {
                group: KeId::ECP_256,
                data: vec![0x5a; 64],
            }),
            Payload::Nonce(NoncePayload {
                data: vec![0xc3; 32],
            }),
            Payload::Notify(NotifyPayload::new(
                NotifyType::NAT_DETECTION_SOURCE_IP,
                vec![0x11; 20],
            )),
            Payload::Notify(NotifyPayload::new(
                NotifyType::NAT_DETECTION_DESTINATION_IP,
                vec![0x22; 20],
            )),
            Payload::Notify(NotifyPayload::signature_hash_algorithms_notify(&[
                HashAlgorithm::SHA2_256,
                HashAlgorithm::SHA2_384,
                HashAlgorithm::SHA2_512,
            ])),
            Payload::Notify(NotifyPayload::new(
                NotifyType::IKEV2_FRAGMENTATION_SUPPORTED,
                vec![],
            )),
            Payload::VendorId(VendorIdPayload {
                data: b"rampart-test-vid".to_vec(),
            }),
            Payload::CertReq(CertReqPayload {
                encoding: CertEncoding::X509_SIGNATURE,
                authorities: vec![0x44; 20],
            }),
        ],
    }
}

fn unencrypted_auth_like() -> Message {
    let esp_sa = SaPayload {
        proposals: vec![Proposal {
            number: 1,
            protocol: ProtocolId::ESP,
            spi: vec![0xca, 0xfe, 0x00, 0x01],
            transforms: vec![
                Transform::encr(EncrId::AES_GCM_16, Some(128)),
                Transform::esn(EsnId::NO_ESN),
            ],
        }],
    };
    let tsi = TsPayload {
        selectors: vec![TrafficSelector::Ipv4(TsRange {
            ip_protocol: 6,
            start_port: 80,
            end_port: 443,
            start_addr: Ipv4Addr::new(198, 51, 100, 0),
            end_addr: Ipv4Addr::new(198, 51, 100, 255),
        })],
    };
    let tsr = TsPayload {
        selectors: vec![TrafficSelector::Ipv6(TsRange {
            ip_protocol: 0,
            start_port: 0,
            end_port: 65535,
            start_addr: "2001:db8::".parse::<Ipv6Addr>().unwrap(),
            end_addr: "2001:db8::ffff".parse::<Ipv6Addr>().unwrap(),
        })],
    };
    Message {
        spi_i: 0x0123_4567_89ab_cdef,
        spi_r: 0xfedc_ba98_7654_3210,
        exchange_type: ExchangeType::IKE_AUTH,
        flags: IkeFlags::INITIATOR,
        message_id: 1,
        payloads: vec![
            Payload::IdI(IdPayload {
                id_type: IdType::FQDN,
                data: b"gw-a.example".to_vec(),
            }),
            Payload::IdR(IdPayload {
                id_type: IdType::IPV4_ADDR,
                data: vec![192, 0, 2, 2],
            }),
            Payload::Cert(CertPayload {
                encoding: CertEncoding::HASH_URL_X509_CERT,
                data: [&[0x77; 20][..], b"http://ca.example/c"].concat(),
            }),
            Payload::Auth(AuthPayload {
                method: AuthMethod::PSK,
                data: vec![0x99; 32],
            }),
            Payload::Cp(CpPayload {
                cfg_type: CfgType::REQUEST,
                attributes: vec![
                    ConfigAttribute {
                        attr_type: ConfigAttributeType::INTERNAL_IP4_ADDRESS,
                        value: vec![],
                    },
                    ConfigAttribute {
                        attr_type: ConfigAttributeType::INTERNAL_IP4_DNS,
                        value: vec![],
                    },
                ],
            }),
            Payload::Sa(esp_sa),
            Payload::TsI(tsi),
            Payload::TsR(tsr),
            Payload::Eap(EapPayload {
                code: 2,
                identifier: 5,
                eap_type: Some(1),
                data: b"alice".to_vec(),
            }),
            Payload::Delete(DeletePayload::child(
                ProtocolId::ESP,
                &[0x1000_0001, 0x2000_0002],
            )),
            Payload::Notify(NotifyPayload::with_child_spi(
                ProtocolId::ESP,
                0xcafe_0001,
                NotifyType::REKEY_SA,
            )),
        ],
    }
}

fn with_sk() -> Message {
    Message {
        spi_i: 0x0123_4567_89ab_cdef,
        spi_r: 0xfedc_ba98_7654_3210,
        exchange_type: ExchangeType::INFORMATIONAL,
        flags: IkeFlags::RESPONSE,
        message_id: 7,
        payloads: vec![Payload::Sk(SkPayload::from_parts(
            PayloadType::DELETE,
            &[1; 16],
            &[2; 32],
            &[3; 16],
        ))],
    }
}

fn with_skf() -> Message {
    Message {
        spi_i: 0x0123_4567_89ab_cdef,
        spi_r: 0xfedc_ba98_7654_3210,
        exchange_type: ExchangeType::IKE_AUTH,
        flags: IkeFlags::INITIATOR,
        message_id: 1,
        payloads: vec![Payload::Skf(SkfPayload {
            first_inner: PayloadType::IDI,
            fragment_number: 1,
            total_fragments: 3,
            body: vec![4; 64],
        })],
    }
}

#[test]
fn tshark_decodes_what_we_emit() {
    let Some(tshark) = tshark() else { return };
    let msgs = [
        ike_sa_init(),
        unencrypted_auth_like(),
        with_sk(),
        with_skf(),
    ];
    let mut packets = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        let bytes = m.emit().expect("test messages are valid");
        // Our own parser agrees first.
        assert_eq!(&Message::parse(&bytes).unwrap(), m);
        if i % 2 == 0 {
            packets.push(ipv4_udp(500, 500, &bytes));
        } else {
            let marked = [&[0u8; 4][..], &bytes].concat(); // RFC 3948 non-ESP marker
            packets.push(ipv4_udp(4500, 4500, &marked));
        }
    }
    let frames = dissect(tshark, &packets);
    assert_eq!(frames.len(), 4);
    check_sa_init(&frames[0], &msgs[0]);
    check_auth_like(&frames[1]);
    check_encrypted(&frames[2], &frames[3]);
}

fn check_common(f: &HashMap<&str, String>, m: &Message) {
    assert_eq!(
        f["_ws.malformed"], "",
        "tshark flagged the packet as malformed"
    );
    assert_eq!(f["isakmp.ispi"], format!("{:016x}", m.spi_i));
    assert_eq!(f["isakmp.rspi"], format!("{:016x}", m.spi_r));
    assert_eq!(f["isakmp.mjver"], "2");
    assert_eq!(f["isakmp.exchangetype"], m.exchange_type.0.to_string());
    assert_eq!(f["isakmp.messageid"], m.message_id.to_string());
    let len = m.emit().unwrap().len();
    assert_eq!(f["isakmp.length"], len.to_string());
}

fn check_sa_init(f: &HashMap<&str, String>, m: &Message) {
    check_common(f, m);
    assert_eq!(f["isakmp.flag_i"], "1");
    assert_eq!(f["isakmp.flag_r"], "0");
    // tshark lists substructures too: proposal (2) and transforms (3) inside the SA.
    assert_eq!(
        f["isakmp.typepayload"],
        "33,2,3,3,3,3,34,40,41,41,41,41,43,38"
    );
    // Next Payload links, with Last Substruc 0 on the last proposal/transform and 3 otherwise.
    assert_eq!(
        f["isakmp.nextpayload"],
        "33,34,0,3,3,3,0,40,41,41,41,41,43,38,0"
    );
    assert_eq!(f["isakmp.prop.number"], "1");
    assert_eq!(f["isakmp.prop.protoid"], "1");
    assert_eq!(f["isakmp.tf.type"], "1,2,3,4");
    assert_eq!(f["isakmp.tf.id.encr"], "12");
    assert_eq!(f["isakmp.ike2.attr.key_length"], "256");
    assert_eq!(f["isakmp.tf.id.prf"], "5");
    assert_eq!(f["isakmp.tf.id.integ"], "12");
    assert_eq!(f["isakmp.tf.id.dh"], "19");
    assert_eq!(f["isakmp.key_exchange.dh_group"], "19");
    assert_eq!(f["isakmp.key_exchange.data"], "5a".repeat(64));
    assert_eq!(f["isakmp.nonce"], "c3".repeat(32));
    assert_eq!(f["isakmp.notify.msgtype"], "16388,16389,16431,16430");
    assert_eq!(f["isakmp.notify.data.signature_hash_algorithms"], "2,3,4");
    assert_eq!(f["isakmp.vid_bytes"], hex(b"rampart-test-vid"));
    assert_eq!(f["isakmp.certreq.type"], "4");
    assert_eq!(f["isakmp.ike.certreq.authority"], "44".repeat(20));
}

fn check_auth_like(f: &HashMap<&str, String>) {
    check_common(f, &unencrypted_auth_like());
    assert_eq!(
        f["isakmp.typepayload"],
        "35,36,37,39,47,33,2,3,3,44,45,48,42,41"
    );
    assert_eq!(
        f["isakmp.nextpayload"],
        "35,36,37,39,47,33,44,0,3,0,45,48,42,41,0"
    );
    assert_eq!(f["isakmp.tf.type"], "1,5");
    assert_eq!(f["isakmp.id.type"], "2,1");
    assert_eq!(f["isakmp.id.data.fqdn"], "gw-a.example");
    assert_eq!(f["isakmp.id.data.ipv4_addr"], "192.0.2.2");
    assert_eq!(f["isakmp.cert.encoding"], "12");
    assert_eq!(f["isakmp.auth.method"], "2");
    assert_eq!(f["isakmp.auth.data"], "99".repeat(32));
    assert_eq!(f["isakmp.cfg.type"], "1");
    assert_eq!(f["isakmp.cfg.attr.type"], "1,3");
    assert_eq!(f["isakmp.prop.protoid"], "3");
    // The ESP proposal's SPI, then the REKEY_SA notify's SPI.
    assert_eq!(f["isakmp.spi"], "cafe0001,cafe0001");
    assert_eq!(f["isakmp.tf.id.encr"], "20");
    assert_eq!(f["isakmp.ike2.attr.key_length"], "128");
    assert_eq!(f["isakmp.tf.id.esn"], "0");
    assert_eq!(f["isakmp.ts.number"], "1,1");
    assert_eq!(f["isakmp.ts.type"], "7,8");
    assert_eq!(f["isakmp.ts.protoid"], "6,0");
    assert_eq!(f["isakmp.ts.selector_length"], "16,40");
    assert_eq!(f["isakmp.ts.start_port"], "80,0");
    assert_eq!(f["isakmp.ts.end_port"], "443,65535");
    assert_eq!(f["isakmp.ts.start_ipv4"], "198.51.100.0");
    assert_eq!(f["isakmp.ts.end_ipv4"], "198.51.100.255");
    assert_eq!(f["isakmp.ts.start_ipv6"], "2001:db8::");
    assert_eq!(f["isakmp.ts.end_ipv6"], "2001:db8::ffff");
    // The EAP payload is handed to tshark's EAP dissector: Response/Identity "alice".
    assert_eq!(f["eap.code"], "2");
    assert_eq!(f["eap.id"], "5");
    assert_eq!(f["eap.len"], "10");
    assert_eq!(f["eap.type"], "1");
    assert_eq!(f["eap.identity"], "alice");
    assert_eq!(f["isakmp.delete.protoid"], "3");
    assert_eq!(f["isakmp.spinum"], "2");
    assert_eq!(f["isakmp.delete.spi"], "10000001,20000002");
    assert_eq!(f["isakmp.notify.protoid"], "3");
    assert_eq!(f["isakmp.notify.msgtype"], "16393");
}

fn check_encrypted(sk: &HashMap<&str, String>, skf: &HashMap<&str, String>) {
    check_common(sk, &with_sk());
    assert_eq!(sk["isakmp.flag_r"], "1");
    assert_eq!(sk["isakmp.typepayload"], "46");
    // Header says SK; SK's own Next Payload is the first inner payload (D = 42).
    assert_eq!(sk["isakmp.nextpayload"], "46,42");
    check_common(skf, &with_skf());
    assert_eq!(skf["isakmp.typepayload"], "53");
    assert_eq!(skf["isakmp.nextpayload"], "53,35");
    assert_eq!(skf["isakmp.frag.number"], "1");
    assert_eq!(skf["isakmp.frag.total"], "3");
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
