//! Independent oracle for AH (RFC 4302): scapy's `scapy.layers.ipsec.SecurityAssociation`, in
//! both directions, transport and tunnel, IPv4 and IPv6 (with an IPv4 option list holding an
//! immutable and a mutable option, and an IPv6 Hop-by-Hop header holding an option with the
//! "may change en route" bit), every integrity algorithm, and ESN with non-zero high bits.
//!
//! (a) scapy protects, we verify and unprotect, and must get scapy's plain packet back;
//! (b) we protect, scapy's `decrypt()` verifies (it raises on an ICV mismatch) and must give
//!     our plain packet back; the script also checks that it rejects a tampered copy.
//!
//! One python process per test (`tests/oracle/ah_oracle.py`). Shared oracle rule (HELPERS.md):
//! when python3 or scapy is missing the test prints a warning and passes, unless
//! `RAMPART_REQUIRE_ORACLES=1`, in which case it fails.

#[allow(dead_code)]
mod ah_util;

use std::collections::HashMap;
use std::process::Command;

use ah_util::*;
use rampart_crypto::IntegAlg;
use rampart_dataplane::InboundAhSa;
use rampart_dataplane::drop::DropReason;
use rampart_dataplane::sa::{Mode, SaConfig};
use rampart_dataplane::verdict::InboundVerdict;

/// Runs `tests/oracle/ah_oracle.py <mode>` with `input` on stdin; `None` when the oracle is
/// unavailable and not required (the shared rule of `rampart_testkit`).
fn run_oracle(mode: &str, input: &str) -> Option<String> {
    let path = format!("{}/tests/oracle/ah_oracle.py", env!("CARGO_MANIFEST_DIR"));
    rampart_testkit::run(
        "scapy",
        Command::new("python3").arg(&path).arg(mode),
        input.as_bytes(),
    )
}

fn scapy_name(alg: IntegAlg) -> &'static str {
    match alg {
        IntegAlg::HmacSha1_96 => "HMAC-SHA1-96",
        IntegAlg::HmacSha256_128 => "SHA2-256-128",
        IntegAlg::HmacSha384_192 => "SHA2-384-192",
        IntegAlg::HmacSha512_256 => "SHA2-512-256",
        other => panic!("no scapy name for {other:?}"),
    }
}

fn alg_from_scapy(name: &str) -> IntegAlg {
    *IntegAlg::ALL
        .iter()
        .find(|&&a| scapy_name(a) == name)
        .unwrap_or_else(|| panic!("unknown scapy algorithm {name}"))
}

/// (a) Packets scapy protects are accepted by us and unprotect to scapy's plain packets.
#[test]
fn scapy_protects_we_verify() {
    let Some(out) = run_oracle("protect", "") else {
        return;
    };
    let mut sas: HashMap<String, InboundAhSa> = HashMap::new();
    let mut checked = 0;
    for line in out.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [sa_name, alg, key, mode, esn, plain, protected] = f[..] else {
            panic!("bad oracle line: {line}");
        };
        let (alg, key) = (alg_from_scapy(alg), hex::decode(key).unwrap());
        let (plain, protected) = (hex::decode(plain).unwrap(), hex::decode(protected).unwrap());
        let mode = if mode == "tunnel" {
            Mode::Tunnel
        } else {
            Mode::Transport
        };
        let outer_v6 = protected[0] >> 4 == 6;
        let sa = sas
            .entry(sa_name.to_owned())
            .or_insert_with(|| inbound(&config(mode, outer_v6, esn == "1"), alg, &key));
        // A copy with its last byte flipped fails first (and consumes nothing).
        let mut tampered = protected.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(
            unprotect(sa, &tampered).0,
            InboundVerdict::Drop(DropReason::IcvFailure),
            "{sa_name}: tampered scapy packet"
        );
        assert_eq!(
            unprotect(sa, &protected),
            (InboundVerdict::Deliver, plain),
            "{sa_name}: scapy packet {line}"
        );
        checked += 1;
    }
    assert_eq!(checked, 16, "every oracle case ran");
    // The ESN SAs crossed into the second 2^32 block: sequence 2^32 + 5 verified.
    for esn_sa in ["t4_esn", "u6_esn"] {
        assert_eq!(sas[esn_sa].state().replay_top(), (1 << 32) + 5);
    }
}

/// One packet we protect for scapy to check.
struct Case {
    name: String,
    alg: IntegAlg,
    key: Vec<u8>,
    tunnel: &'static str,
    esn: bool,
    seq_hi: u32,
    plain: Vec<u8>,
    protected: Vec<u8>,
}

fn case(name: &str, cfg: &SaConfig, alg: IntegAlg, last_sent: u64, plain: Vec<u8>) -> Case {
    let key = key(alg, name.len() as u8);
    let out = outbound_at(cfg, alg, &key, last_sent);
    let protected = protect(&out, &plain);
    let tunnel = match (cfg.mode, cfg.dst.is_ipv4()) {
        (Mode::Tunnel, true) => "v4",
        (Mode::Tunnel, false) => "v6",
        _ => "none",
    };
    Case {
        name: name.to_owned(),
        alg,
        key,
        tunnel,
        esn: cfg.esn,
        seq_hi: ((last_sent + 1) >> 32) as u32,
        plain,
        protected,
    }
}

/// (b) Packets we protect verify in scapy and unprotect to our plain packets.
#[test]
fn we_protect_scapy_verifies() {
    let v4 = v4_packet(&V4_OPTIONS, 17, &udp(b"to scapy"));
    let v6 = v6_packet(Some(&V6_HBH), 17, &udp(b"to scapy over v6"));
    let v6_bare = v6_packet(None, 17, &udp(b"no extension headers"));
    let mut cases = Vec::new();
    for &alg in IntegAlg::ALL {
        let n = scapy_name(alg);
        let t4 = config(Mode::Transport, false, false);
        let t6 = config(Mode::Transport, true, false);
        let u4 = config(Mode::Tunnel, false, false);
        let u6 = config(Mode::Tunnel, true, false);
        cases.push(case(&format!("t4_{n}"), &t4, alg, 0, v4.clone()));
        cases.push(case(&format!("t6_hbh_{n}"), &t6, alg, 6, v6.clone()));
        cases.push(case(&format!("t6_{n}"), &t6, alg, 0, v6_bare.clone()));
        cases.push(case(&format!("u4_in4_{n}"), &u4, alg, 0, v4.clone()));
        cases.push(case(&format!("u4_in6_{n}"), &u4, alg, 1, v6.clone()));
        cases.push(case(&format!("u6_in4_{n}"), &u6, alg, 2, v4.clone()));
        cases.push(case(&format!("u6_in6_{n}"), &u6, alg, 3, v6.clone()));
    }
    // ESN with high-order bits 1 and 2: they exist only in the ICV input.
    let t4_esn = config(Mode::Transport, false, true);
    let u6_esn = config(Mode::Tunnel, true, true);
    let (sha256, sha512) = (IntegAlg::HmacSha256_128, IntegAlg::HmacSha512_256);
    cases.push(case("t4_esn", &t4_esn, sha256, (1 << 32) + 4, v4.clone()));
    cases.push(case("u6_esn", &u6_esn, sha512, 2 << 32, v6.clone()));
    let input: String = cases
        .iter()
        .map(|c| {
            format!(
                "{} {} {} {} {} {} {} {}\n",
                c.name,
                scapy_name(c.alg),
                hex::encode(&c.key),
                c.tunnel,
                u8::from(c.esn),
                c.seq_hi,
                hex::encode(&c.plain),
                hex::encode(&c.protected)
            )
        })
        .collect();
    assert_eq!(cases[cases.len() - 1].seq_hi, 2);
    let Some(out) = run_oracle("verify", &input) else {
        return;
    };
    let results: HashMap<&str, &str> = out
        .lines()
        .map(|l| l.split_once(' ').expect("`name verdict` lines"))
        .collect();
    for c in &cases {
        assert_eq!(
            results.get(c.name.as_str()).copied(),
            Some("ok"),
            "{}: scapy says {:?}",
            c.name,
            results.get(c.name.as_str())
        );
    }
    assert_eq!(results.len(), cases.len());
}
