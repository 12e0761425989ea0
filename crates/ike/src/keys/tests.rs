//! Key derivation checked against python `cryptography`'s HMAC following the RFC 7296 formulas
//! (§2.13, §2.14, §2.17) written out independently in the script.

use super::*;
use crate::testutil::python_oracle;
use rampart_wire::ike::iana::{EncrId, PrfId};

const G_IR: &str = "4a1f0c9e7d3b5a29e1f4c6a8b0d2e4f60718293a4b5c6d7e8f90a1b2c3d4e5f6";
const NI: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const NR: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa9988";
const SPI_I: u64 = 0x0102_0304_0506_0708;
const SPI_R: u64 = 0x1112_1314_1516_1718;

fn oracle(lens: &[usize], keymat_len: usize) -> Option<String> {
    let lens: Vec<String> = lens.iter().map(ToString::to_string).collect();
    python_oracle(&format!(
        r#"
from cryptography.hazmat.primitives import hashes, hmac
def prf(k, s):
    h = hmac.HMAC(k, hashes.SHA256()); h.update(s); return h.finalize()
def prfplus(k, s, n):
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = prf(k, t + s + bytes([i])); out += t; i += 1
    return out[:n]
gir, ni, nr = bytes.fromhex("{G_IR}"), bytes.fromhex("{NI}"), bytes.fromhex("{NR}")
spis = ({SPI_I}).to_bytes(8, "big") + ({SPI_R}).to_bytes(8, "big")
skeyseed = prf(ni + nr, gir)
lens = [{lens}]
stream = prfplus(skeyseed, ni + nr + spis, sum(lens))
keys, at = [], 0
for n in lens:
    keys.append(stream[at:at + n].hex()); at += n
sk_d = bytes.fromhex(keys[0])
keys.append(prfplus(sk_d, ni + nr, {keymat_len}).hex())
print(" ".join(k if k else "-" for k in keys))
"#,
        lens = lens.join(", "),
    ))
}

fn show(s: &SecretBytes) -> String {
    if s.is_empty() {
        "-".into()
    } else {
        hex::encode(s.expose())
    }
}

fn check(chosen: &str) {
    let spec = ProposalSpec::parse_ike(chosen).unwrap();
    let algs = IkeAlgs::from_chosen(&spec).unwrap();
    let g_ir = SecretBytes::new(hex::decode(G_IR).unwrap());
    let (ni, nr) = (hex::decode(NI).unwrap(), hex::decode(NR).unwrap());
    let k = derive_ike_keys(&algs, &g_ir, &ni, &nr, SPI_I, SPI_R).unwrap();
    // A child SA with AES-128-CBC + HMAC-SHA2-256-128: 16 + 32 bytes per direction.
    let child_encr = EncrAlg::from_id(EncrId::AES_CBC, Some(128)).unwrap();
    let child_integ =
        Some(IntegAlg::from_id(rampart_wire::ike::iana::IntegId::HMAC_SHA2_256_128).unwrap());
    let (i2r, r2i) =
        derive_child_keys(algs.prf, &k.sk_d, None, &ni, &nr, child_encr, child_integ).unwrap();
    let lens = [
        k.sk_d.len(),
        k.sk_ai.len(),
        k.sk_ar.len(),
        k.sk_ei.len(),
        k.sk_er.len(),
        k.sk_pi.len(),
        k.sk_pr.len(),
    ];
    let Some(expected) = oracle(&lens, 2 * (16 + 32)) else {
        return;
    };
    let keymat = [i2r.encr, i2r.integ, r2i.encr, r2i.integ]
        .iter()
        .map(|s| hex::encode(s.expose()))
        .collect::<String>();
    let ours = [
        &k.sk_d, &k.sk_ai, &k.sk_ar, &k.sk_ei, &k.sk_er, &k.sk_pi, &k.sk_pr,
    ]
    .map(show)
    .join(" ");
    assert_eq!(format!("{ours} {keymat}"), expected, "{chosen}");
}

#[test]
fn aead_ike_keys_match_python_oracle() {
    // AES-256-GCM: SK_e = 32-byte key + 4-byte salt, no SK_a (RFC 5282 §7.1).
    check("aes256gcm16-prfsha256-x25519");
}

#[test]
fn classic_ike_keys_match_python_oracle() {
    check("aes128-sha256-prfsha256-modp2048");
}

#[test]
fn key_lengths_follow_the_algorithms() {
    let spec = ProposalSpec::parse_ike("aes128gcm16-prfsha256-x25519").unwrap();
    let algs = IkeAlgs::from_chosen(&spec).unwrap();
    assert_eq!(algs.prf, PrfAlg::from_id(PrfId::HMAC_SHA2_256).unwrap());
    let k = derive_ike_keys(&algs, &SecretBytes::zeroed(32), &[1; 16], &[2; 16], 1, 2).unwrap();
    assert_eq!(
        (k.sk_d.len(), k.sk_ai.len(), k.sk_ei.len(), k.sk_pr.len()),
        (32, 0, 20, 32)
    );
    assert_ne!(k.sk_ei, k.sk_er);
}

/// §2.18 rekeyed IKE SA keys and §2.17 PFS KEYMAT against the formulas written out in python.
#[test]
fn rekeyed_ike_keys_and_pfs_keymat_match_python_oracle() {
    let spec = ProposalSpec::parse_ike("aes128gcm16-prfsha256-x25519").unwrap();
    let algs = IkeAlgs::from_chosen(&spec).unwrap();
    let old_sk_d = SecretBytes::new(hex::decode(NI).unwrap());
    let g_ir = SecretBytes::new(hex::decode(G_IR).unwrap());
    let (ni, nr) = (hex::decode(NR).unwrap(), hex::decode(G_IR).unwrap());
    let k =
        derive_rekeyed_ike_keys(algs.prf, &old_sk_d, &algs, &g_ir, &ni, &nr, SPI_I, SPI_R).unwrap();
    let encr = EncrAlg::from_id(EncrId::AES_GCM_16, Some(256)).unwrap();
    let (i2r, r2i) =
        derive_child_keys(algs.prf, &old_sk_d, Some(&g_ir), &ni, &nr, encr, None).unwrap();
    let Some(expected) = python_oracle(&format!(
        r#"
from cryptography.hazmat.primitives import hashes, hmac
def prf(k, s):
    h = hmac.HMAC(k, hashes.SHA256()); h.update(s); return h.finalize()
def prfplus(k, s, n):
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = prf(k, t + s + bytes([i])); out += t; i += 1
    return out[:n]
skd, gir = bytes.fromhex("{NI}"), bytes.fromhex("{G_IR}")
ni, nr = bytes.fromhex("{NR}"), bytes.fromhex("{G_IR}")
spis = ({SPI_I}).to_bytes(8, "big") + ({SPI_R}).to_bytes(8, "big")
seed = prf(skd, gir + ni + nr)
stream = prfplus(seed, ni + nr + spis, 32 + 20 + 20 + 32 + 32)
keymat = prfplus(skd, gir + ni + nr, 2 * 36)
print(stream[:32].hex(), stream[32:52].hex(), stream[52:72].hex(), keymat.hex())
"#
    )) else {
        return;
    };
    let ours = format!(
        "{} {} {} {}{}",
        hex::encode(k.sk_d.expose()),
        hex::encode(k.sk_ei.expose()),
        hex::encode(k.sk_er.expose()),
        hex::encode(i2r.encr.expose()),
        hex::encode(r2i.encr.expose()),
    );
    assert_eq!(ours, expected);
}
