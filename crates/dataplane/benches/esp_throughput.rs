//! ESP engine throughput against the raw AEAD it is built on, one core.
//!
//! Per packet size (64, 512, 1400, 8192 bytes of inner IPv4 packet): the engine does one
//! tunnel-mode AES-128-GCM encapsulation and one decapsulation (outbound SA → inbound SA, replay
//! window 128 with ESN, lifetimes on); the raw baseline does one `Aead::seal_in_place` and one
//! `Aead::open_in_place` of the same number of bytes with the same key. Criterion reports both;
//! then both are measured again, interleaved in alternating rounds (best round of each, so noise
//! from other processes on the machine hits both alike), and the run ends with one line per
//! size:
//!
//! `esp_throughput size=<bytes> engine_gbps=<x> raw_gbps=<y> ratio=<x/y>`
//!
//! (Gbit/s of inner-packet bytes per encap+decap round trip.) The engine's packet needs no reset
//! between iterations: decapsulation restores exactly the bytes and window the encapsulation
//! started from, which is checked after the run.
#![allow(missing_docs)]
// A benchmark measures wall time; the protocol-crate clock ban does not apply here.
#![allow(clippy::disallowed_methods)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use rampart_crypto::{Aead, AeadAlg, EncrAlg};
use rampart_dataplane::esp::{EspTransform, InboundEspSa, OutboundEspSa};
use rampart_dataplane::lifetime::{LifetimeLimits, Lifetimes};
use rampart_dataplane::sa::{InboundSaState, Mode, OutboundSaState, SaConfig, Spi};
use rampart_dataplane::{
    InboundTransform, InboundVerdict, OutboundTransform, OutboundVerdict, PacketBuf, Timestamp,
};
use rampart_wire::ike::iana::ProtocolId;
use rampart_wire::ip::IpProtocol;
use rampart_wire::ipv4;

const SIZES: [usize; 4] = [64, 512, 1400, 8192];
const ALG: AeadAlg = AeadAlg::AES_128_GCM_16;

fn key() -> Vec<u8> {
    (0..ALG.key_material_len())
        .map(|i| i as u8 ^ 0x3c)
        .collect()
}

fn config() -> SaConfig {
    SaConfig {
        spi: Spi(0x1000_0001),
        protocol: ProtocolId::ESP,
        mode: Mode::Tunnel,
        encap: None,
        src: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        dst: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
        esn: true,
        replay_window: 128,
        // Limits far away, but present: the accounting runs as in production.
        lifetimes: Lifetimes {
            soft: LifetimeLimits {
                bytes: Some(u64::MAX / 2),
                packets: Some(u64::MAX / 2),
                time: Some(Duration::from_secs(3600)),
            },
            hard: LifetimeLimits {
                bytes: Some(u64::MAX - 1),
                packets: Some(u64::MAX - 1),
                time: Some(Duration::from_secs(7200)),
            },
        },
    }
}

struct Engine {
    out: OutboundEspSa,
    inb: InboundEspSa,
    pkt: PacketBuf,
    events: Vec<rampart_dataplane::verdict::SaEvent>,
}

impl Engine {
    fn new(plain: &[u8]) -> Self {
        let encr = EncrAlg::Aead(ALG);
        let out = OutboundSaState::new(config(), Timestamp::ZERO).expect("valid config");
        let inb = InboundSaState::new(config(), Timestamp::ZERO).expect("valid config");
        let t = || EspTransform::new(encr, None, &key()).expect("valid key");
        Self {
            out: OutboundEspSa::new(out, t()).expect("ESP state"),
            inb: InboundEspSa::new(inb, t()).expect("ESP state"),
            pkt: PacketBuf::from_slice(plain),
            events: Vec::with_capacity(8),
        }
    }

    #[inline]
    fn round_trip(&mut self) {
        let now = Timestamp::from_nanos(1);
        let v = self.out.protect(&mut self.pkt, now, &mut self.events);
        debug_assert_eq!(v, OutboundVerdict::Send);
        let v = self.inb.unprotect(&mut self.pkt, now, &mut self.events);
        debug_assert_eq!(v, InboundVerdict::Deliver);
        black_box(&self.pkt);
    }
}

struct Raw {
    aead: Aead,
    buf: Vec<u8>,
    size: usize,
    counter: u64,
}

impl Raw {
    fn new(size: usize) -> Self {
        Self {
            aead: Aead::new(ALG, &key()).expect("valid key"),
            buf: vec![0x5a; size + ALG.icv_len()],
            size,
            counter: 0,
        }
    }

    #[inline]
    fn round_trip(&mut self) {
        self.counter += 1;
        let iv = self.counter.to_be_bytes();
        let aad = [0x10, 0, 0, 1, 0, 0, 0, self.counter as u8];
        let icv = self
            .aead
            .seal_in_place(&iv, &aad, &mut self.buf[..self.size])
            .expect("seal");
        self.buf[self.size..].copy_from_slice(icv.as_ref());
        let pt = self
            .aead
            .open_in_place(&iv, &aad, &mut self.buf)
            .expect("open");
        black_box(pt);
    }
}

/// An IPv4/UDP packet of `size` bytes in total.
fn plain_packet(size: usize) -> Vec<u8> {
    let mut p = vec![0xa5; size];
    ipv4::Repr {
        src_addr: Ipv4Addr::new(10, 0, 0, 1),
        dst_addr: Ipv4Addr::new(10, 0, 1, 1),
        protocol: IpProtocol::UDP,
        payload_len: size - ipv4::HEADER_LEN,
        ttl: 64,
        dscp: 0,
        ecn: 0,
        ident: 1,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
    }
    .emit(&mut p)
    .expect("size >= 20");
    p
}

/// Nanoseconds per round trip of `f`, over `iters` calls.
fn time(iters: u32, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed().as_nanos() as f64 / f64::from(iters)
}

/// Best-of-rounds ns per round trip for engine and raw, measured in alternation.
fn interleaved(size: usize, plain: &[u8]) -> (f64, f64) {
    let mut engine = Engine::new(plain);
    let mut raw = Raw::new(size);
    // About 20 ms of work per round whatever the size.
    let iters = (2_000_000 / (size as u32 + 200)).max(200) * 10;
    let (mut best_e, mut best_r) = (f64::MAX, f64::MAX);
    time(iters, || engine.round_trip());
    time(iters, || raw.round_trip());
    for _ in 0..15 {
        best_e = best_e.min(time(iters, || engine.round_trip()));
        best_r = best_r.min(time(iters, || raw.round_trip()));
    }
    assert_eq!(
        engine.pkt.data(),
        plain,
        "the round trip restores the packet"
    );
    assert_eq!(
        engine.inb.state().counters().drops().total()
            + engine.out.state().counters().drops().total(),
        0
    );
    (best_e, best_r)
}

/// `ESP_BENCH_PROFILE=engine:64` (or `raw:1400`, ...): run only that loop, for a profiler.
fn profile_only() -> bool {
    let Ok(spec) = std::env::var("ESP_BENCH_PROFILE") else {
        return false;
    };
    let (what, size) = spec
        .split_once(':')
        .expect("ESP_BENCH_PROFILE=engine|raw:<size>");
    let size: usize = size.parse().expect("size in bytes");
    let plain = plain_packet(size);
    let iters = 2_000_000;
    let ns = if what == "engine" {
        let mut e = Engine::new(&plain);
        time(iters, || e.round_trip())
    } else {
        let mut r = Raw::new(size);
        time(iters, || r.round_trip())
    };
    println!("{what} size={size} ns_per_round_trip={ns:.1}");
    true
}

fn main() {
    if profile_only() {
        return;
    }
    let mut c = Criterion::default()
        .configure_from_args()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    let mut lines = Vec::new();
    for size in SIZES {
        let plain = plain_packet(size);
        let mut group = c.benchmark_group(format!("esp_throughput/{size}"));
        group.throughput(Throughput::Bytes(size as u64));
        let mut engine = Engine::new(&plain);
        group.bench_function("engine_encap_decap", |b| b.iter(|| engine.round_trip()));
        let mut raw = Raw::new(size);
        group.bench_function("raw_seal_open", |b| b.iter(|| raw.round_trip()));
        group.finish();

        let (e_ns, r_ns) = interleaved(size, &plain);
        let gbps = |ns: f64| size as f64 * 8.0 / ns;
        let (e, r) = (gbps(e_ns), gbps(r_ns));
        lines.push(format!(
            "esp_throughput size={size} engine_gbps={e:.3} raw_gbps={r:.3} ratio={:.3}",
            e / r
        ));
    }
    c.final_summary();
    for l in lines {
        println!("{l}");
    }
}
