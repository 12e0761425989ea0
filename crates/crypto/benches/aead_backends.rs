//! AES-128-GCM seal-in-place at 1400 bytes (a typical ESP payload) on one core, across AEAD
//! backends: aws-lc-rs (through rampart's `Aead`), ring, RustCrypto `aes-gcm`; plus
//! ChaCha20-Poly1305 on aws-lc-rs and, if `openssl` is on PATH, `openssl speed` for scale.
//! Ends with one line per backend: `aead_backend name=<n> size=1400 gbps=<x>`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aes_gcm::aead::{AeadInPlace, KeyInit};
use criterion::{Criterion, Throughput};
use rampart_crypto::{Aead, AeadAlg};

const SIZE: usize = 1400;
const AAD: [u8; 8] = [0x11, 0x22, 0x33, 0x44, 0, 0, 0, 1];

type SealFn = Box<dyn FnMut(&mut [u8], u64)>;

fn backends() -> Vec<(&'static str, SealFn)> {
    let key = [0x42u8; 20];
    let rampart_gcm = Aead::new(AeadAlg::AES_128_GCM_16, &key).expect("20-byte GCM-128 keymat");
    let rampart_chacha =
        Aead::new(AeadAlg::CHACHA20_POLY1305, &[0x42; 36]).expect("36-byte ChaCha keymat");
    let ring_key = ring::aead::LessSafeKey::new(
        ring::aead::UnboundKey::new(&ring::aead::AES_128_GCM, &key[..16]).expect("16-byte key"),
    );
    let rc = aes_gcm::Aes128Gcm::new_from_slice(&key[..16]).expect("16-byte key");
    let nonce = |seq: u64| {
        let mut n = [0u8; 12];
        n[4..].copy_from_slice(&seq.to_be_bytes());
        n
    };
    vec![
        (
            "aws-lc-rs",
            Box::new(move |buf: &mut [u8], seq: u64| {
                let icv = rampart_gcm.seal_in_place(&seq.to_be_bytes(), &AAD, buf);
                let _ = black_box(icv.expect("seal"));
            }),
        ),
        (
            "ring",
            Box::new(move |buf: &mut [u8], seq: u64| {
                let n = ring::aead::Nonce::assume_unique_for_key(nonce(seq));
                let tag = ring_key.seal_in_place_separate_tag(n, ring::aead::Aad::from(AAD), buf);
                let _ = black_box(tag.expect("seal"));
            }),
        ),
        (
            "rustcrypto-aes-gcm",
            Box::new(move |buf: &mut [u8], seq: u64| {
                let n = nonce(seq);
                let tag = rc.encrypt_in_place_detached((&n).into(), &AAD, buf);
                let _ = black_box(tag.expect("seal"));
            }),
        ),
        (
            "aws-lc-rs-chacha20-poly1305",
            Box::new(move |buf: &mut [u8], seq: u64| {
                let icv = rampart_chacha.seal_in_place(&seq.to_be_bytes(), &AAD, buf);
                let _ = black_box(icv.expect("seal"));
            }),
        ),
    ]
}

/// Plain timing loop for the summary line (criterion's own estimate is printed above it).
// A benchmark reads the clock by definition; clippy.toml's rule is for protocol crates.
#[allow(clippy::disallowed_methods)]
fn gbps(seal: &mut SealFn, budget: Duration) -> f64 {
    let mut buf = vec![0u8; SIZE];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..1000 {
            seal(&mut buf, n);
            n += 1;
        }
    }
    (n as f64 * SIZE as f64 * 8.0) / start.elapsed().as_secs_f64() / 1e9
}

fn openssl_gbps() -> Option<f64> {
    let out = std::process::Command::new("openssl")
        .args([
            "speed",
            "-evp",
            "aes-128-gcm",
            "-bytes",
            "1400",
            "-seconds",
            "2",
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // Last line: "AES-128-GCM     1234567.89k" (1000s of bytes per second).
    let line = text.lines().rev().find(|l| l.trim_end().ends_with('k'))?;
    let kbytes: f64 = line
        .split_whitespace()
        .last()?
        .trim_end_matches('k')
        .parse()
        .ok()?;
    Some(kbytes * 1000.0 * 8.0 / 1e9)
}

fn main() {
    let mut c = Criterion::default()
        .configure_from_args()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20);
    let mut group = c.benchmark_group("aead_seal_1400");
    group.throughput(Throughput::Bytes(SIZE as u64));
    let mut list = backends();
    for (name, seal) in list.iter_mut() {
        let mut buf = vec![0u8; SIZE];
        let mut seq = 0u64;
        group.bench_function(*name, |b| {
            b.iter(|| {
                seq += 1;
                seal(&mut buf, seq);
            })
        });
    }
    group.finish();
    c.final_summary();

    for (name, seal) in list.iter_mut() {
        let g = gbps(seal, Duration::from_secs(1));
        println!("aead_backend name={name} size={SIZE} gbps={g:.2}");
    }
    if let Some(g) = openssl_gbps() {
        println!("aead_backend name=openssl-speed-cli size={SIZE} gbps={g:.2}");
    }
}
