//! The deterministic simulator: IKE endpoints over a simulated network with a virtual clock,
//! loss, duplication, reordering and delay, all driven by one seed.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use std::sync::Mutex;

use rampart_crypto::{CryptoError, DeterministicRandom, SecureRandom};
use rampart_ike::{
    ChildSa, DatagramEvent, Endpoint, EndpointConfig, Event, IkeSa, IkeSaHandle, Instant,
    RandomSpis, SpiAllocator, Transmit,
};

/// A NAT box (RFC 3022 NAPT) in front of one node: datagrams from `inside` leave from `public`
/// with a port it maps per inside address and port; datagrams to a mapped public port come back
/// in. [`Sim::nat_rebind`] forgets every mapping (as when a NAT reboots or times a mapping out),
/// so the next datagram out gets a new port and the old one leads nowhere.
pub(crate) struct NatBox {
    pub(crate) inside: IpAddr,
    pub(crate) public: IpAddr,
    next_port: u16,
    /// (inside address and port, public port).
    mappings: Vec<(SocketAddr, u16)>,
}

impl NatBox {
    pub(crate) fn new(inside: &str, public: &str) -> Self {
        Self {
            inside: inside.parse().expect("test address"),
            public: public.parse().expect("test address"),
            next_port: 40000,
            mappings: Vec::new(),
        }
    }

    /// The public address for a datagram leaving from `inside`.
    fn outbound(&mut self, inside: SocketAddr) -> SocketAddr {
        let port = match self.mappings.iter().find(|m| m.0 == inside) {
            Some(m) => m.1,
            None => {
                let port = self.next_port;
                self.next_port += 1;
                self.mappings.push((inside, port));
                port
            }
        };
        SocketAddr::new(self.public, port)
    }

    /// The public address that `inside` is mapped to now, if any.
    pub(crate) fn mapped(&self, inside: SocketAddr) -> Option<SocketAddr> {
        self.mappings
            .iter()
            .find(|m| m.0 == inside)
            .map(|m| SocketAddr::new(self.public, m.1))
    }

    /// The inside address a datagram to `public` goes to, if mapped.
    fn inbound(&self, public: SocketAddr) -> Option<SocketAddr> {
        self.mappings
            .iter()
            .find(|m| m.1 == public.port())
            .map(|m| m.0)
    }
}

/// Random SPIs, with a record of the child SPIs handed out (to tell which exchange made an SA).
pub(crate) struct RecordingSpis {
    inner: RandomSpis,
    pub(crate) children: Mutex<Vec<u32>>,
}

impl SpiAllocator for RecordingSpis {
    fn ike_spi(&self) -> Result<u64, CryptoError> {
        self.inner.ike_spi()
    }

    fn child_spi(&self) -> Result<u32, CryptoError> {
        let spi = self.inner.child_spi()?;
        self.children.lock().expect("not poisoned").push(spi);
        Ok(spi)
    }
}

/// splitmix64: the network's decisions (not cryptographic; the engines get HMAC-DRBG).
#[derive(Debug, Clone)]
pub(crate) struct NetRng(u64);

impl NetRng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

/// Network faults, in force until `until`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Faults {
    pub(crate) loss: f64,
    pub(crate) duplicate: f64,
    /// Extra delay drawn uniformly up to this (reorders datagrams).
    pub(crate) jitter: Duration,
    pub(crate) until: Instant,
}

impl Faults {
    pub(crate) const NONE: Self = Self {
        loss: 0.0,
        duplicate: 0.0,
        jitter: Duration::ZERO,
        until: Instant::ZERO,
    };
}

pub(crate) struct Node {
    pub(crate) addr: IpAddr,
    pub(crate) endpoint: Endpoint,
    pub(crate) sas: BTreeMap<IkeSaHandle, IkeSa>,
    pub(crate) events: Vec<(IkeSaHandle, Event)>,
    /// Live child SAs by inbound SPI, from the events.
    pub(crate) children: BTreeMap<u32, ChildSa>,
    pub(crate) sent: Vec<Vec<u8>>,
    /// Everything sent, with its time, as the node handed it to the network (before any NAT).
    pub(crate) log: Vec<(Instant, Transmit)>,
    pub(crate) spis: Arc<RecordingSpis>,
    /// IKE SAs made by rekeys, not yet in `sas`.
    born: Vec<(IkeSaHandle, IkeSa)>,
    /// Never receives anything (an attacker spoofing this address).
    pub(crate) blackhole: bool,
}

pub(crate) struct Sim {
    pub(crate) seed: u64,
    pub(crate) now: Instant,
    pub(crate) nodes: Vec<Node>,
    pub(crate) faults: Faults,
    rng: NetRng,
    queue: BinaryHeap<Reverse<InFlight>>,
    seq: u64,
    pub(crate) delivered: u64,
    /// Exchange-by-exchange mode: datagrams wait in `held` until a test delivers them.
    pub(crate) hold: bool,
    held: Vec<InFlight>,
    /// A NAT box in front of one node.
    pub(crate) nat: Option<NatBox>,
}

/// A datagram on the wire: arrival time, sequence (FIFO among equal times), destination node,
/// source and destination addresses, bytes.
type InFlight = (Instant, u64, usize, SocketAddr, SocketAddr, Vec<u8>);

const BASE_DELAY: Duration = Duration::from_millis(5);

pub(crate) fn secs(s: u64) -> Instant {
    Instant::from_nanos(s * 1_000_000_000)
}

impl Sim {
    pub(crate) fn new(seed: u64, faults: Faults) -> Self {
        Self {
            seed,
            now: Instant::ZERO,
            nodes: Vec::new(),
            faults,
            rng: NetRng(seed ^ 0x5eed),
            queue: BinaryHeap::new(),
            seq: 0,
            delivered: 0,
            hold: false,
            held: Vec::new(),
            nat: None,
        }
    }

    /// Adds an endpoint at `addr`; its randomness is derived from the seed and its index.
    pub(crate) fn add_node(&mut self, addr: &str, config: EndpointConfig) -> usize {
        let index = self.nodes.len();
        let rng: Arc<dyn SecureRandom> = Arc::new(DeterministicRandom::from_u64(
            self.seed.wrapping_mul(1000) + index as u64,
        ));
        let spis = Arc::new(RecordingSpis {
            inner: RandomSpis::new(rng.clone()),
            children: Mutex::new(Vec::new()),
        });
        let endpoint = Endpoint::new(Arc::new(config), rng, spis.clone())
            .expect("deterministic RNG never fails");
        self.nodes.push(Node {
            addr: addr.parse().expect("test address"),
            endpoint,
            sas: BTreeMap::new(),
            events: Vec::new(),
            children: BTreeMap::new(),
            sent: Vec::new(),
            log: Vec::new(),
            spis,
            born: Vec::new(),
            blackhole: false,
        });
        index
    }

    /// Starts an IKE SA from node `n` for its connection `conn` (index into the config).
    pub(crate) fn initiate(
        &mut self,
        n: usize,
        connection: Arc<rampart_ike::Connection>,
        child: Option<&str>,
    ) -> IkeSaHandle {
        let now = self.now;
        let (h, sa) = self.nodes[n]
            .endpoint
            .initiate(now, connection, child)
            .expect("initiate");
        self.nodes[n].sas.insert(h, sa);
        self.drain(n);
        h
    }

    /// Forgets the NAT's mappings: the inside node's next datagram gets a new public port.
    pub(crate) fn nat_rebind(&mut self) {
        if let Some(nat) = self.nat.as_mut() {
            nat.mappings.clear();
        }
    }

    fn send(&mut self, from: usize, mut t: Transmit) {
        self.nodes[from].sent.push(t.payload.clone());
        self.nodes[from].log.push((self.now, t.clone()));
        if let Some(nat) = self.nat.as_mut() {
            if t.local.ip() == nat.inside {
                t.local = nat.outbound(t.local);
            } else if t.remote.ip() == nat.public {
                let Some(inside) = nat.inbound(t.remote) else {
                    return;
                };
                t.remote = inside;
            }
        }
        let Some(to) = self.nodes.iter().position(|n| n.addr == t.remote.ip()) else {
            return;
        };
        if self.nodes[to].blackhole {
            return;
        }
        if self.hold {
            self.seq += 1;
            self.held
                .push((self.now, self.seq, to, t.local, t.remote, t.payload.clone()));
            return;
        }
        let faulty = self.now < self.faults.until;
        let copies = if faulty && self.rng.chance(self.faults.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            if faulty && self.rng.chance(self.faults.loss) {
                continue;
            }
            let jitter = if faulty {
                self.rng.below(self.faults.jitter.as_nanos() as u64)
            } else {
                0
            };
            let at = self.now + BASE_DELAY + Duration::from_nanos(jitter);
            self.seq += 1;
            self.queue.push(Reverse((
                at,
                self.seq,
                to,
                t.local,
                t.remote,
                t.payload.clone(),
            )));
        }
    }

    /// Collects everything node `n` and its SAs want to send or report.
    pub(crate) fn drain(&mut self, n: usize) {
        while let Some(t) = self.nodes[n].endpoint.poll_transmit() {
            self.send(n, t);
        }
        let mut handles: Vec<IkeSaHandle> = self.nodes[n].sas.keys().copied().collect();
        while let Some(h) = handles.pop() {
            loop {
                let node = &mut self.nodes[n];
                for (h2, sa2) in node.born.drain(..) {
                    node.sas.insert(h2, sa2);
                }
                let sa = node.sas.get_mut(&h).expect("handle listed above");
                let mut progress = false;
                if let Some(t) = sa.poll_transmit() {
                    self.send(n, t);
                    continue;
                }
                if let Some(e) = sa.poll_event() {
                    progress = true;
                    match &e {
                        Event::ChildSaEstablished(c) | Event::ChildSaRekeyed { new: c, .. } => {
                            let old = node.children.insert(c.inbound.spi, c.clone());
                            assert!(old.is_none(), "child SPI {:08x} reused", c.inbound.spi);
                        }
                        Event::ChildSaDeleted { inbound_spi, .. } => {
                            node.children.remove(inbound_spi);
                        }
                        _ => {}
                    }
                    node.events.push((h, e));
                }
                if let Some(e) = sa.poll_endpoint_event() {
                    progress = true;
                    node.endpoint.handle_sa_event(h, e);
                }
                if let Some(born) = sa.poll_new_ike_sa() {
                    progress = true;
                    handles.push(born.0);
                    node.born.push(born);
                }
                if !progress {
                    if sa.is_closed() {
                        node.sas.remove(&h);
                    }
                    break;
                }
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let timers = self
            .nodes
            .iter()
            .flat_map(|n| n.sas.values().filter_map(IkeSa::poll_timeout))
            .min();
        let packets = self.queue.peek().map(|Reverse(p)| p.0);
        [timers, packets].into_iter().flatten().min()
    }

    /// Runs until nothing is scheduled or `end`.
    pub(crate) fn run_until(&mut self, end: Instant) {
        for _ in 0..1_000_000 {
            let Some(at) = self.next_deadline().filter(|&t| t <= end) else {
                self.now = self.now.max(end);
                return;
            };
            self.now = self.now.max(at);
            self.step();
        }
        panic!("seed {}: simulation did not settle (livelock?)", self.seed);
    }

    /// Datagrams on the wire.
    pub(crate) fn in_flight(&self) -> usize {
        self.queue.len()
    }

    /// Held datagrams sent by node `from`, oldest first, as (exchange type, is response).
    pub(crate) fn held_from(&self, from: usize) -> Vec<(u8, bool)> {
        let addr = self.nodes[from].addr;
        self.held
            .iter()
            .filter(|p| p.3.ip() == addr)
            .map(|p| (p.5[18], p.5[19] & 0x20 != 0))
            .collect()
    }

    /// Delivers the `k`-th oldest held datagram sent by node `from` (exchange-by-exchange
    /// tests) and returns its exchange type and whether it is a response.
    pub(crate) fn deliver(&mut self, from: usize, k: usize) -> (u8, bool) {
        let addr = self.nodes[from].addr;
        let at = self
            .held
            .iter()
            .enumerate()
            .filter(|(_, p)| p.3.ip() == addr)
            .nth(k)
            .map(|(i, _)| i)
            .unwrap_or_else(|| panic!("node {from} has no held datagram {k}"));
        let p = self.held.remove(at);
        let what = (p.5[18], p.5[19] & 0x20 != 0);
        self.now = self.now + Duration::from_millis(1);
        self.arrive(p);
        what
    }

    /// Leaves exchange-by-exchange mode: held datagrams go on the wire.
    pub(crate) fn release(&mut self) {
        self.hold = false;
        for mut p in core::mem::take(&mut self.held) {
            p.0 = self.now + BASE_DELAY;
            self.queue.push(Reverse(p));
        }
    }

    /// Delivers `bytes` to node `to` now, as if from `from` to `at` (a spoofed or replayed
    /// datagram).
    pub(crate) fn inject(&mut self, to: usize, from: SocketAddr, at: SocketAddr, bytes: Vec<u8>) {
        self.seq += 1;
        self.arrive((self.now, self.seq, to, from, at, bytes));
    }

    fn arrive(&mut self, p: InFlight) {
        let now = self.now;
        let (_, _, to, from_addr, to_addr, bytes) = p;
        self.delivered += 1;
        let node = &mut self.nodes[to];
        match node
            .endpoint
            .handle_datagram(now, to_addr, from_addr, &bytes)
        {
            Some(DatagramEvent::ForSa(h)) => {
                if let Some(sa) = node.sas.get_mut(&h) {
                    sa.handle_datagram(now, to_addr, from_addr, &bytes);
                }
            }
            Some(DatagramEvent::NewSa(h, sa)) => {
                node.sas.insert(h, *sa);
            }
            Some(_) | None => {}
        }
        self.drain(to);
    }

    /// The one established IKE SA of node `n`.
    pub(crate) fn sa(&mut self, n: usize) -> &mut IkeSa {
        let mut live = self.nodes[n]
            .sas
            .values_mut()
            .filter(|s| s.is_established());
        let sa = live.next().expect("an established IKE SA");
        assert!(live.next().is_none(), "more than one established IKE SA");
        sa
    }

    /// Runs a command on node `n`'s established IKE SA at the current time, then drains.
    pub(crate) fn command(&mut self, n: usize, f: impl FnOnce(&mut IkeSa, Instant)) {
        let now = self.now;
        f(self.sa(n), now);
        self.drain(n);
    }

    /// After the network has settled: nothing half done remains anywhere. Every IKE SA is
    /// established (replaced and redundant ones are gone), every child record is a reported
    /// child SA (no parked or redundant leftovers), and one child SA per configuration.
    pub(crate) fn check_settled(&self, a: usize, b: usize) {
        self.check_agreement(a, b);
        let seed = self.seed;
        for n in [a, b] {
            let node = &self.nodes[n];
            assert!(
                node.sas.values().all(IkeSa::is_established),
                "seed {seed}: node {n} keeps a replaced or half-open IKE SA"
            );
            let records: usize = node.sas.values().map(IkeSa::child_sa_count).sum();
            assert_eq!(
                records,
                node.children.len(),
                "seed {seed}: node {n} keeps unreported child SA records"
            );
            let mut names: Vec<&str> = node.children.values().map(|c| c.name.as_str()).collect();
            let all = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(
                names.len(),
                all,
                "seed {seed}: node {n} has redundant child SAs"
            );
        }
    }

    fn step(&mut self) {
        let now = self.now;
        while self.queue.peek().is_some_and(|Reverse(p)| p.0 <= now) {
            let Reverse(p) = self.queue.pop().expect("peeked");
            // The datagram arrives at `to_addr` from `from_addr`.
            self.arrive(p);
        }
        for n in 0..self.nodes.len() {
            let due: Vec<IkeSaHandle> = self.nodes[n]
                .sas
                .iter()
                .filter(|(_, sa)| sa.poll_timeout().is_some_and(|t| t <= now))
                .map(|(h, _)| *h)
                .collect();
            for h in &due {
                if let Some(sa) = self.nodes[n].sas.get_mut(h) {
                    sa.handle_timeout(now);
                }
            }
            if !due.is_empty() {
                self.drain(n);
            }
        }
    }

    /// The established IKE SAs of node `n` by (SPIi, SPIr).
    pub(crate) fn established(&self, n: usize) -> Vec<(u64, u64)> {
        let mut v: Vec<_> = self.nodes[n]
            .sas
            .values()
            .filter(|s| s.is_established())
            .map(|s| (s.spi_i(), s.spi_r()))
            .collect();
        v.sort();
        v
    }

    /// The invariants every run must keep, between nodes `a` and `b`.
    pub(crate) fn check_agreement(&self, a: usize, b: usize) {
        let seed = self.seed;
        assert_eq!(
            self.established(a),
            self.established(b),
            "seed {seed}: IKE SAs differ"
        );
        for (x, y) in [(a, b), (b, a)] {
            let (nx, ny) = (&self.nodes[x], &self.nodes[y]);
            assert_eq!(
                nx.children.len(),
                ny.children.len(),
                "seed {seed}: child SA counts differ"
            );
            for c in nx.children.values() {
                let peer = ny.children.get(&c.outbound.spi).unwrap_or_else(|| {
                    panic!("seed {seed}: child {:08x} has no peer", c.outbound.spi)
                });
                assert_eq!(peer.outbound.spi, c.inbound.spi, "seed {seed}: SPIs cross");
                assert_eq!(
                    peer.inbound.encr_key, c.outbound.encr_key,
                    "seed {seed}: encryption keys"
                );
                assert_eq!(
                    peer.inbound.integ_key, c.outbound.integ_key,
                    "seed {seed}: integrity keys"
                );
                assert_eq!(
                    (peer.encr, peer.integ, peer.esn, peer.mode),
                    (c.encr, c.integ, c.esn, c.mode),
                    "seed {seed}"
                );
                assert_eq!(
                    (&peer.local_ts, &peer.remote_ts),
                    (&c.remote_ts, &c.local_ts),
                    "seed {seed}: selectors"
                );
            }
            // Bounded state: the endpoint routes exactly the SAs that exist.
            assert_eq!(
                nx.endpoint.sa_count(),
                nx.sas.len(),
                "seed {seed}: endpoint table leaks"
            );
        }
    }

    pub(crate) fn events(&self, n: usize) -> impl Iterator<Item = &Event> {
        self.nodes[n].events.iter().map(|(_, e)| e)
    }
}

/// Seeds to run: `RAMPART_SIM_SEED=n` runs that one only.
pub(crate) fn seeds(count: u64) -> Vec<u64> {
    match std::env::var("RAMPART_SIM_SEED") {
        Ok(s) => vec![s.parse().expect("RAMPART_SIM_SEED must be a number")],
        Err(_) => (0..count).collect(),
    }
}

/// Runs `f` for each seed; a failure (assertion or engine panic) names its seed.
// Wall-clock time of the test run itself, for the report line; the engines see only virtual time.
#[allow(clippy::disallowed_methods)]
pub(crate) fn for_seeds(count: u64, f: impl Fn(u64) + std::panic::RefUnwindSafe) {
    let start = std::time::Instant::now();
    let list = seeds(count);
    for &seed in &list {
        if let Err(e) = std::panic::catch_unwind(|| f(seed)) {
            eprintln!("simulation failed for seed {seed}; reproduce with RAMPART_SIM_SEED={seed}");
            std::panic::resume_unwind(e);
        }
    }
    eprintln!("{} seeds in {:?}", list.len(), start.elapsed());
}
