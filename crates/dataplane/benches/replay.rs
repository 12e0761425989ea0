//! Cost of the inbound anti-replay window per packet (`check` + `commit`), for in-order and
//! reordered arrivals and several window sizes.
#![allow(missing_docs)]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rampart_dataplane::Timestamp;
use rampart_dataplane::lifetime::Lifetimes;
use rampart_dataplane::replay::ReplayWindow;
use rampart_dataplane::sa::{InboundSaState, Mode, SaConfig, Spi};
use rampart_wire::ike::iana::ProtocolId;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

const PACKETS: u32 = 4096;

/// Sequence numbers for one batch: in order, or shuffled within blocks of `w / 2` (every packet
/// stays inside the window, none is a duplicate).
fn pattern(window: u32, reordered: bool) -> Vec<u32> {
    let mut seqs: Vec<u32> = (1..=PACKETS).collect();
    if reordered {
        let block = (window / 2).max(2) as usize;
        let mut state = 0x2545_f491_u32;
        for chunk in seqs.chunks_mut(block) {
            for i in (1..chunk.len()).rev() {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                chunk.swap(i, state as usize % (i + 1));
            }
        }
    }
    seqs
}

fn run(window: &mut ReplayWindow, base: u32, seqs: &[u32]) -> u32 {
    let mut ok = 0;
    for &s in seqs {
        if let Ok(c) = window.check(base + s) {
            ok += u32::from(window.commit(c).is_ok());
        }
    }
    ok
}

fn bench(c: &mut Criterion) {
    let mut lines = Vec::new();
    let mut group = c.benchmark_group("replay");
    group.throughput(Throughput::Elements(u64::from(PACKETS)));
    for window in [64u32, 128, 1024, 4096] {
        for (name, reordered) in [("in_order", false), ("reordered", true)] {
            let seqs = pattern(window, reordered);
            group.bench_function(format!("w{window}/{name}"), |b| {
                b.iter_batched_ref(
                    || ReplayWindow::new(window, true).expect("window within range"),
                    |w| black_box(run(w, 0, black_box(&seqs))),
                    BatchSize::SmallInput,
                )
            });
            // A direct measurement for the summary line: one long-lived window, many batches.
            let mut w = ReplayWindow::new(window, true).expect("window within range");
            let rounds = 200u32;
            // A benchmark measures wall time; the protocol-crate clock ban does not apply here.
            #[allow(clippy::disallowed_methods)]
            let start = Instant::now();
            for r in 0..rounds {
                black_box(run(&mut w, r * PACKETS, black_box(&seqs)));
            }
            let ns = start.elapsed().as_nanos() as f64 / f64::from(rounds * PACKETS);
            lines.push(format!(
                "replay_cost window={window} pattern={name} ns_per_packet={ns:.2}"
            ));
        }
    }
    lines.push(locked(&mut group));
    group.finish();
    for l in lines {
        println!("{l}");
    }
}

/// The same work through the shared `InboundSaState` (window behind its `Mutex`, locked for the
/// check and again for the commit), W = 128, in order, one thread (uncontended).
fn locked(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) -> String {
    let config = |spi| SaConfig {
        spi: Spi(spi),
        protocol: ProtocolId::ESP,
        mode: Mode::Tunnel,
        encap: None,
        src: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        dst: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
        esn: true,
        replay_window: 128,
        lifetimes: Lifetimes::default(),
    };
    let run_sa = |sa: &InboundSaState, base: u32| {
        let mut ok = 0u32;
        for s in 1..=PACKETS {
            if let Ok(c) = sa.replay_check(base + s) {
                ok += u32::from(sa.replay_commit(c).is_ok());
            }
        }
        ok
    };
    group.bench_function("w128/in_order_locked", |b| {
        b.iter_batched_ref(
            || InboundSaState::new(config(0x1000), Timestamp::ZERO).expect("valid config"),
            |sa| black_box(run_sa(sa, 0)),
            BatchSize::SmallInput,
        )
    });
    let sa = InboundSaState::new(config(0x1001), Timestamp::ZERO).expect("valid config");
    let rounds = 200u32;
    // A benchmark measures wall time; the protocol-crate clock ban does not apply here.
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    for r in 0..rounds {
        black_box(run_sa(&sa, r * PACKETS));
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(rounds * PACKETS);
    format!("replay_cost window=128 pattern=in_order_locked ns_per_packet={ns:.2}")
}

criterion_group!(benches, bench);
criterion_main!(benches);
