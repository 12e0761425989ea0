//! SPD lookup: the compiled classifier (`CompiledSpd::classify`) against the reference linear scan
//! (`Spd::lookup`), on random realistic SPDs of 10, 1k and 100k entries, plus the time to build
//! the classifier.
//!
//! Entries: 90% IPv4 with local and remote prefixes of /8–/32 (most local prefixes inside
//! 10.0.0.0/8, remote ones anywhere), 10% IPv6 (/32–/128), a protocol mix, some single ports and
//! port ranges, random priorities, the three actions; the IKE bypass and a final catch-all
//! DISCARD. Packets are drawn inside random entries' selectors, so most of them hit an entry
//! (not always the one drawn: an earlier overlapping entry wins, as it should).
//!
//! Criterion's report comes first. The summary lines at the end come from a direct measurement in
//! the same run: the median, over many batches of distinct packets, of the mean time per lookup
//! in the batch (a batch amortises the clock read), and the median of three builds.
//!
//! Reading the clock is the point of a benchmark, so the protocol-crate clock ban
//! (`clippy::disallowed_methods`) is lifted for this file.
#![allow(missing_docs, clippy::disallowed_methods)]

use criterion::Criterion;
use rampart_dataplane::spd::CompiledSpd;
use rampart_policy::{
    Action, AddrRange, Direction, IpProtocol, IpsecMode, IpsecProtocol, PacketSelector, Pfp,
    PortSelector, PortValue, ProtectTemplate, ProtocolSelector, ReqId, Selector, Spd, SpdEntry,
};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

const SIZES: [usize; 3] = [10, 1_000, 100_000];
const PACKETS: usize = 4096;

/// SplitMix64: a seeded generator, so every run benchmarks the same SPDs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn inclusive(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
}

fn v4_prefix(rng: &mut Rng, inside_ten: bool) -> AddrRange {
    let len = rng.inclusive(8, 32) as u8;
    let addr = if inside_ten {
        0x0a00_0000 | (rng.next() as u32 & 0x00ff_ffff)
    } else {
        rng.next() as u32
    };
    AddrRange::prefix(IpAddr::V4(Ipv4Addr::from(addr)), len).expect("length at most 32")
}

fn v6_prefix(rng: &mut Rng) -> AddrRange {
    let len = rng.inclusive(32, 128) as u8;
    let addr = (0x2001_0db8u128 << 96) | u128::from(rng.next()) << 32 | u128::from(rng.next());
    AddrRange::prefix(IpAddr::V6(Ipv6Addr::from(addr)), len).expect("length at most 128")
}

fn selector(rng: &mut Rng) -> Selector {
    let s = if rng.below(10) == 0 {
        Selector::new(v6_prefix(rng), v6_prefix(rng))
    } else {
        let inside_ten = rng.below(10) < 7;
        Selector::new(v4_prefix(rng, inside_ten), v4_prefix(rng, false))
    }
    .expect("both ranges of one family");
    let protocol = match rng.below(20) {
        0..=9 => return s,
        10..=14 => IpProtocol::TCP,
        15..=18 => IpProtocol::UDP,
        _ => return s.with_protocol(ProtocolSelector::Only(IpProtocol::ICMP)),
    };
    let s = s.with_protocol(ProtocolSelector::Only(protocol));
    match rng.below(10) {
        0..=4 => s,
        5..=7 => {
            let port = [22u16, 53, 80, 443, 1194, 3306, 5060, 8080][rng.below(8) as usize];
            s.with_remote_port(PortSelector::port(port))
        }
        _ => {
            let lo = rng.inclusive(1024, 60000) as u16;
            let hi = lo.saturating_add(rng.below(2000) as u16);
            s.with_local_port(PortSelector::range(lo, hi).expect("lo <= hi"))
        }
    }
}

/// `n` entries: `n - 1` random ones and the catch-all.
fn random_spd(rng: &mut Rng, n: usize) -> Spd {
    let mut entries: Vec<SpdEntry> = (0..n - 1)
        .map(|i| {
            let action = match rng.below(10) {
                0..=6 => Action::Protect(ProtectTemplate {
                    protocol: IpsecProtocol::Esp,
                    mode: IpsecMode::Tunnel,
                    proposals: vec!["aes128gcm16".to_owned()],
                    pfp: Pfp::NONE,
                    reqid: ReqId(i as u32 + 1),
                }),
                7 | 8 => Action::Bypass,
                _ => Action::Discard,
            };
            let selectors = (0..1 + usize::from(rng.below(8) == 0))
                .map(|_| selector(rng))
                .collect();
            SpdEntry {
                name: format!("p{i}"),
                priority: rng.below(10_000) as u32,
                direction: Direction::Outbound,
                selectors,
                action,
            }
        })
        .collect();
    entries.push(SpdEntry {
        name: "catch-all".to_owned(),
        priority: u32::MAX,
        direction: Direction::Outbound,
        selectors: vec![Selector::any(rampart_policy::Family::V4)],
        action: Action::Discard,
    });
    let mut spd = Spd::from_entries(entries).expect("names are unique");
    spd.set_ike_addrs(vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))]);
    spd
}

fn inside(rng: &mut Rng, r: AddrRange) -> IpAddr {
    let (lo, hi) = r.to_u128();
    let span = (hi - lo).saturating_add(1).max(1);
    let off = (u128::from(rng.next()) << 64 | u128::from(rng.next())) % span;
    match r.start() {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from((lo + off) as u32)),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(lo + off)),
    }
}

fn port_inside(rng: &mut Rng, p: PortSelector) -> PortValue {
    let (lo, hi) = p.interval();
    let hi = hi.min(65535);
    u16::try_from(lo + rng.below(u64::from(hi.saturating_sub(lo)) + 1) as u32)
        .map_or(PortValue::Opaque, PortValue::Port)
}

fn packets(rng: &mut Rng, spd: &Spd) -> Vec<PacketSelector> {
    let entries = spd.entries();
    (0..PACKETS)
        .map(|_| {
            let e = &entries[rng.below(entries.len() as u64) as usize];
            let s = e.selectors[rng.below(e.selectors.len() as u64) as usize];
            let protocol = match s.protocol() {
                ProtocolSelector::Only(p) => p,
                ProtocolSelector::Any => [IpProtocol::TCP, IpProtocol::UDP][rng.below(2) as usize],
            };
            PacketSelector {
                local: inside(rng, s.local()),
                remote: inside(rng, s.remote()),
                protocol,
                local_port: port_inside(rng, s.local_port()),
                remote_port: port_inside(rng, s.remote_port()),
            }
        })
        .collect()
}

/// The median over batches of the mean nanoseconds per call of `f` in the batch.
fn median_ns(
    batch: usize,
    max_batches: usize,
    budget: Duration,
    mut f: impl FnMut(usize) -> usize,
) -> f64 {
    let mut per_call = Vec::with_capacity(max_batches);
    let started = Instant::now();
    let mut next = 0usize;
    while per_call.len() < max_batches && (per_call.len() < 5 || started.elapsed() < budget) {
        let t = Instant::now();
        for _ in 0..batch {
            black_box(f(next));
            next = next.wrapping_add(1);
        }
        per_call.push(t.elapsed().as_nanos() as f64 / batch as f64);
    }
    per_call.sort_by(f64::total_cmp);
    per_call[per_call.len() / 2]
}

struct Case {
    n: usize,
    spd: Spd,
    compiled: CompiledSpd,
    packets: Vec<PacketSelector>,
    build_ms: f64,
}

fn case(rng: &mut Rng, n: usize) -> (Case, String) {
    let spd = random_spd(rng, n);
    let mut builds: Vec<f64> = (0..3)
        .map(|_| {
            let t = Instant::now();
            black_box(CompiledSpd::build(&spd, Direction::Outbound).expect("fits"));
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    builds.sort_by(f64::total_cmp);
    let compiled = CompiledSpd::build(&spd, Direction::Outbound).expect("fits");
    let packets = packets(rng, &spd);
    let last = spd.entries().len() - 1;
    let hits = packets
        .iter()
        .filter(|p| compiled.classify(p).index().is_some_and(|i| i < last))
        .count();
    let stats = compiled.stats();
    let line = format!(
        "spd_stats policies={n} rows_v4={} rows_v6={} prefixes={} index_bytes={} heap_bytes={} \
         packets_hitting_a_policy={hits}/{PACKETS} v4_filed={:?}",
        stats.v4_rows,
        stats.v6_rows,
        stats.prefixes,
        stats.index_bytes,
        stats.heap_bytes,
        stats.v4_dimensions
    );
    let c = Case {
        n,
        spd,
        compiled,
        packets,
        build_ms: builds[1],
    };
    (c, line)
}

fn main() {
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .configure_from_args();
    let mut rng = Rng(0x5bd1_e995);
    let (cases, summary): (Vec<Case>, Vec<String>) =
        SIZES.iter().map(|&n| case(&mut rng, n)).unzip();

    let mut group = criterion.benchmark_group("spd_lookup");
    for c in &cases {
        let mut i = 0usize;
        group.bench_function(format!("compiled/{}", c.n), |b| {
            b.iter(|| {
                i = (i + 1) % PACKETS;
                black_box(c.compiled.classify(black_box(&c.packets[i])))
            })
        });
        group.bench_function(format!("linear/{}", c.n), |b| {
            b.iter(|| {
                i = (i + 1) % PACKETS;
                black_box(
                    c.spd
                        .lookup(Direction::Outbound, black_box(&c.packets[i]))
                        .kind(),
                )
            })
        });
    }
    group.finish();
    criterion.final_summary();

    for line in summary {
        println!("{line}");
    }
    for c in &cases {
        let pick = |i: usize| &c.packets[i % PACKETS];
        let compiled = median_ns(256, 2000, Duration::from_millis(500), |i| {
            c.compiled.classify(pick(i)).index().unwrap_or(usize::MAX)
        });
        let linear_batch = if c.n >= 10_000 { 4 } else { 64 };
        let linear = median_ns(linear_batch, 400, Duration::from_secs(1), |i| {
            c.spd
                .lookup(Direction::Outbound, pick(i))
                .index()
                .unwrap_or(usize::MAX)
        });
        println!(
            "spd_lookup policies={} median_ns={compiled:.1} linear_median_ns={linear:.1} build_ms={:.2}",
            c.n, c.build_ms
        );
    }
}
