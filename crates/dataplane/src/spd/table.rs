//! The compiled selectors of one address family and the four indexes they are filed in.
//!
//! Each selector is filed under exactly one dimension — the one that narrows it most: remote
//! address, local address, remote port or local port — as that dimension's smallest prefix
//! covering its range (an address range that is not a prefix is filed under the prefix around it;
//! the full check after the probe keeps the answer exact). Ports count for less than their width
//! says, since traffic crowds onto a few well-known ports. Selectors that no dimension narrows
//! (both addresses nearly the whole space, ports ANY) go to a short `wildcard` list that every
//! lookup checks, in order, until a better match is known.

use super::index::{Key, Member, PrefixIndex, covering_prefix};

/// Width of the port space: ports `0..=65535` plus the OPAQUE point 65536.
pub(crate) const PORT_BITS: u32 = 17;

/// Bits taken off a port prefix's length when choosing the dimension to file a selector under.
const PORT_PENALTY: i32 = 9;

/// A selector filed under a prefix shorter than this goes to the wildcard list.
const MIN_SCORE: i32 = 1;

/// A selector as the hot path checks it: inclusive intervals per field.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CompiledSel<K> {
    pub(crate) local: (K, K),
    pub(crate) remote: (K, K),
    pub(crate) local_port: (u32, u32),
    pub(crate) remote_port: (u32, u32),
    pub(crate) protocol: (u8, u8),
    /// Position of the owning rule in match order.
    pub(crate) rank: u32,
}

/// A packet's selector values as the hot path compares them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Probe<K> {
    pub(crate) local: K,
    pub(crate) remote: K,
    pub(crate) protocol: u8,
    pub(crate) local_port: u32,
    pub(crate) remote_port: u32,
}

impl<K: Key> CompiledSel<K> {
    #[inline]
    fn matches(&self, p: &Probe<K>) -> bool {
        let within = |(lo, hi): (u32, u32), v: u32| lo <= v && v <= hi;
        self.remote.0 <= p.remote
            && p.remote <= self.remote.1
            && self.local.0 <= p.local
            && p.local <= self.local.1
            && within(self.local_port, p.local_port)
            && within(self.remote_port, p.remote_port)
            && self.protocol.0 <= p.protocol
            && p.protocol <= self.protocol.1
    }
}

/// Where the selectors of one family are filed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DimensionCounts {
    /// Filed under the remote address.
    pub remote: usize,
    /// Filed under the local address.
    pub local: usize,
    /// Filed under the remote port.
    pub remote_port: usize,
    /// Filed under the local port.
    pub local_port: usize,
    /// Checked on every lookup.
    pub wildcard: usize,
}

/// The compiled selectors of one family.
#[derive(Debug, Clone)]
pub(crate) struct FamilyTable<K> {
    sels: Vec<CompiledSel<K>>,
    /// Filtered by the local address.
    remote: PrefixIndex<K, K>,
    /// Filtered by the remote address.
    local: PrefixIndex<K, K>,
    /// Filtered by the remote address.
    remote_port: PrefixIndex<u32, K>,
    /// Filtered by the remote address.
    local_port: PrefixIndex<u32, K>,
    wildcard: Vec<u32>,
    counts: DimensionCounts,
}

/// Which index a selector is filed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dimension {
    Remote,
    Local,
    RemotePort,
    LocalPort,
}

impl<K: Key> FamilyTable<K> {
    /// Compiles `sels`, given in match order (ids are their positions), over addresses of
    /// `addr_bits` bits.
    pub(crate) fn build(addr_bits: u32, sels: Vec<CompiledSel<K>>) -> Self {
        let mut lists: [Vec<(u128, u128, Member<K>)>; 4] = Default::default();
        let mut wildcard = Vec::new();
        let mut counts = DimensionCounts::default();
        for (id, s) in sels.iter().enumerate() {
            // FamilyTable's caller caps the selector count below u32::MAX.
            let id = u32::try_from(id).expect("selector count checked by CompiledSpd::build");
            let candidates = [
                (
                    Dimension::Remote,
                    addr_bits,
                    s.remote.0.widen(),
                    s.remote.1.widen(),
                    0,
                ),
                (
                    Dimension::Local,
                    addr_bits,
                    s.local.0.widen(),
                    s.local.1.widen(),
                    0,
                ),
                (
                    Dimension::RemotePort,
                    PORT_BITS,
                    s.remote_port.0.into(),
                    s.remote_port.1.into(),
                    PORT_PENALTY,
                ),
                (
                    Dimension::LocalPort,
                    PORT_BITS,
                    s.local_port.0.into(),
                    s.local_port.1.into(),
                    PORT_PENALTY,
                ),
            ];
            let mut chosen = None;
            let mut best_score = MIN_SCORE - 1;
            for (dim, bits, lo, hi, penalty) in candidates {
                let (first, last, len) = covering_prefix(bits, lo, hi);
                // Prefix lengths are at most 128, so the cast is exact.
                let score = len as i32 - penalty;
                if score > best_score {
                    best_score = score;
                    chosen = Some((dim, first, last));
                }
            }
            match chosen {
                None => {
                    wildcard.push(id);
                    counts.wildcard += 1;
                }
                Some((dim, first, last)) => {
                    let (slot, count, filter) = match dim {
                        Dimension::Remote => (0, &mut counts.remote, s.local),
                        Dimension::Local => (1, &mut counts.local, s.remote),
                        Dimension::RemotePort => (2, &mut counts.remote_port, s.remote),
                        Dimension::LocalPort => (3, &mut counts.local_port, s.remote),
                    };
                    lists[slot].push((first, last, Member { id, filter }));
                    *count += 1;
                }
            }
        }
        let [remote, local, remote_port, local_port] = lists;
        Self {
            sels,
            remote: PrefixIndex::build(addr_bits, addr_bits, remote, true),
            local: PrefixIndex::build(addr_bits, addr_bits, local, true),
            remote_port: PrefixIndex::build(PORT_BITS, addr_bits, remote_port, true),
            local_port: PrefixIndex::build(PORT_BITS, addr_bits, local_port, true),
            wildcard,
            counts,
        }
    }

    /// The rank of the first rule (in match order) with a selector matching `p`.
    #[inline]
    pub(crate) fn best(&self, p: &Probe<K>) -> Option<u32> {
        let mut best = u32::MAX;
        let sels = &self.sels;
        let mut check = |id: u32| sels[id as usize].matches(p);
        let (remote_chain, local_chain) =
            (self.remote.chain_of(p.remote), self.local.chain_of(p.local));
        self.remote
            .scan(remote_chain, p.remote, p.local, &mut best, &mut check);
        self.local
            .scan(local_chain, p.local, p.remote, &mut best, &mut check);
        if !self.remote_port.is_empty() {
            self.remote_port
                .probe(p.remote_port, p.remote, &mut best, &mut check);
        }
        if !self.local_port.is_empty() {
            self.local_port
                .probe(p.local_port, p.remote, &mut best, &mut check);
        }
        for &id in &self.wildcard {
            if id >= best {
                break;
            }
            if check(id) {
                best = id;
                break;
            }
        }
        sels.get(best as usize).map(|s| s.rank)
    }

    /// Where the selectors are filed.
    pub(crate) fn counts(&self) -> DimensionCounts {
        self.counts
    }

    /// Distinct prefixes over the four indexes.
    pub(crate) fn prefix_count(&self) -> usize {
        self.remote.node_count()
            + self.local.node_count()
            + self.remote_port.node_count()
            + self.local_port.node_count()
    }

    /// Number of selectors.
    pub(crate) fn len(&self) -> usize {
        self.sels.len()
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.sels.capacity() * size_of::<CompiledSel<K>>()
            + self.remote.heap_bytes()
            + self.local.heap_bytes()
            + self.remote_port.heap_bytes()
            + self.local_port.heap_bytes()
            + self.wildcard.capacity() * 4
    }
}
