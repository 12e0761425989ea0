//! Data-plane worker threads (DESIGN.md §3): the packet paths off the IKE event loop.
//!
//! Each worker has its own poller: `dp-tx<i>` own the outbound path (each reads its own queue
//! of the multi-queue TUN device, where the kernel spreads flows, and sends ESP), `dp-rx` the
//! inbound one (reads the NAT-T sockets — handles on the
//! engine's own sockets, which the main loop then leaves alone — and the raw ESP socket, writes
//! the TUN device). They see the SA tables through their snapshot readers (one atomic load per
//! batch, no lock), count on the SAs' atomics, and hand the main thread what is its business —
//! IKE datagrams from port 4500, packets with no SA (for the traps), lifetime events — over a
//! channel, ringing the main loop's [`Waker`] once per batch that sent something.
//!
//! Why transmit workers and one receive worker rather than N symmetric ones (`SO_REUSEPORT` on
//! the receive side too): a TCP flow loads one direction of a gateway (data one way, ACKs the
//! other), so the split lets both run at once on two cores without a flow hash; the receive
//! side moves whole GRO trains per system call, and the NAT-T socket also carries IKE, which
//! must reach the engine's socket. How many: `RAMPART_DP_THREADS` (see `worker_threads`); with
//! a single core, or `RAMPART_DP_THREADS=0`, the paths run inline in the event loop instead.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use rampart_sys::poll::{Interest, Poller, Waker};
use rampart_sys::raw::RawEspSocket;
use rampart_sys::udp::UdpSocket;

use super::inbound::RxPath;
use super::outbound::TxPath;
use super::stamp;
use crate::run::clock::Clock;
use crate::run::log::log;

/// How long a worker sleeps at most between checks of the stop flag.
const STOP_CHECK: Duration = Duration::from_millis(200);
/// Poller token of the first raw ESP socket (NAT-T sockets take `0..n`).
const RAW_TOKEN: u64 = 1 << 32;

/// The running workers; dropping this stops and joins them.
pub(super) struct Workers {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// What the receive worker reads.
pub(super) struct RxSources {
    pub(super) natt: Vec<UdpSocket>,
    /// The raw ESP sockets (IPv4, IPv6).
    pub(super) raw: Vec<Arc<RawEspSocket>>,
}

impl Workers {
    /// Starts a transmit worker per path in `txs` (each on its own TUN queue) and the receive
    /// worker.
    pub(super) fn start(
        txs: Vec<TxPath>,
        rx: RxPath,
        sources: RxSources,
        clock: Clock,
        waker: Arc<Waker>,
    ) -> io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut rx_poller = Poller::new(16)?;
        for (i, s) in sources.natt.iter().enumerate() {
            rx_poller.add(s, i as u64, Interest::READABLE)?;
        }
        for (i, raw) in sources.raw.iter().enumerate() {
            rx_poller.add(&**raw, RAW_TOKEN + i as u64, Interest::READABLE)?;
        }
        let mut threads = Vec::new();
        for (i, tx) in txs.into_iter().enumerate() {
            let mut tx_poller = Poller::new(4)?;
            tx_poller.add(tx.tun(), 0, Interest::READABLE)?;
            let (s, w) = (Arc::clone(&stop), Arc::clone(&waker));
            threads.push(
                std::thread::Builder::new()
                    .name(format!("dp-tx{i}"))
                    .spawn(move || run_tx(tx, &mut tx_poller, clock, &w, &s))?,
            );
        }
        let (s, w) = (Arc::clone(&stop), waker);
        threads.push(
            std::thread::Builder::new()
                .name("dp-rx".into())
                .spawn(move || run_rx(rx, &mut rx_poller, &sources, clock, &w, &s))?,
        );
        Ok(Self { stop, threads })
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn run_tx(mut tx: TxPath, poller: &mut Poller, clock: Clock, waker: &Waker, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        let readable = match poller.wait(Some(STOP_CHECK)) {
            Ok(mut ev) => ev.next().is_some(),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                log!(Error, "data-plane transmit worker: {e}");
                return;
            }
        };
        if !readable {
            continue;
        }
        // Bounded per wake-up; the level-triggered poller reports what is left.
        tx.tun_readable(stamp(clock.now()));
        if tx.take_notified() {
            let _ = waker.wake();
        }
    }
}

fn run_rx(
    mut rx: RxPath,
    poller: &mut Poller,
    sources: &RxSources,
    clock: Clock,
    waker: &Waker,
    stop: &AtomicBool,
) {
    let mut ready = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        match poller.wait(Some(STOP_CHECK)) {
            Ok(ev) => {
                ready.clear();
                ready.extend(ev.map(|e| e.token));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                log!(Error, "data-plane receive worker: {e}");
                return;
            }
        }
        for &t in &ready {
            let now = stamp(clock.now());
            if t >= RAW_TOKEN {
                let raw = usize::try_from(t - RAW_TOKEN)
                    .ok()
                    .and_then(|i| sources.raw.get(i));
                if let Some(raw) = raw {
                    rx.raw_readable(raw, now);
                }
            } else if let Some(s) = usize::try_from(t).ok().and_then(|i| sources.natt.get(i)) {
                rx.udp_readable(s, now);
            }
        }
        if rx.take_notified() {
            let _ = waker.wake();
        }
    }
}
