//! One dimension of the compiled SPD: a longest-prefix-match index over a bit-string space (an
//! IPv4 or IPv6 address, or a 17-bit port point), whose nodes hold the selectors filed under them.
//!
//! Every selector filed here is reduced to one prefix of this dimension. Prefixes of one space are
//! *laminar* — two of them are either disjoint or nested — so the prefixes covering a point form a
//! chain from the innermost one outwards. The index stores that structure directly:
//!
//! - `intervals`: the space cut into elementary intervals, each with the chain of prefixes
//!   covering it, innermost first, as a slice of `links` (start and chain side by side, so the
//!   binary search's last read brings the chain along);
//! - `links`: one per (prefix, chain it appears in): the prefix's member slice and the smallest
//!   selector id on the rest of the chain;
//! - `members`: selector ids, ascending per prefix, each with a second range — the selector's range
//!   on another dimension (the *filter*) — checked inline before the selector itself is fetched;
//! - `subs`: for a prefix holding many members, a nested index of them over the filter dimension,
//!   probed instead of scanning the members (a two-level, hierarchical lookup);
//! - `jump`: a table on the top bits of the key that narrows the binary search over `intervals` to
//!   one bucket.
//!
//! A probe is then one bucket read, a short binary search and a scan of contiguous links and
//! members; there is no pointer chasing, so the loads of one chain can overlap. Selector ids are
//! assigned in SPD match order, so a smaller id always wins, and the per-link minimum stops the
//! scan as soon as nothing further out can beat the best match found so far. A chain is at most
//! `bits + 1` prefixes long; realistic SPDs nest a few deep.

use core::fmt;

/// The most top bits the jump table indexes (2^16 + 1 entries of 4 bytes at most).
const MAX_JUMP_BITS: u32 = 16;

/// A prefix with more members than this gets a nested index over the filter dimension.
const SUB_INDEX_ABOVE: u32 = 8;

/// A key type: the numeric value of a point of the space.
pub(crate) trait Key: Copy + Ord + fmt::Debug {
    /// The value as a `u128`.
    fn widen(self) -> u128;
    /// The value from a `u128` known to fit.
    fn narrow(v: u128) -> Self;
}

impl Key for u32 {
    fn widen(self) -> u128 {
        u128::from(self)
    }
    fn narrow(v: u128) -> Self {
        // Callers pass values of a space of at most 32 bits.
        v as Self
    }
}

impl Key for u128 {
    fn widen(self) -> u128 {
        self
    }
    fn narrow(v: u128) -> Self {
        v
    }
}

/// The mask of the low `n` bits (`n <= 128`).
fn low_mask(n: u32) -> u128 {
    if n >= 128 {
        u128::MAX
    } else {
        (1u128 << n) - 1
    }
}

/// The smallest prefix of a `bits`-wide space containing `lo..=hi`, as `(first, last, length)`.
pub(crate) fn covering_prefix(bits: u32, lo: u128, hi: u128) -> (u128, u128, u32) {
    let differing = lo ^ hi;
    let host_bits = (128 - differing.leading_zeros()).min(bits);
    let mask = low_mask(host_bits);
    let first = lo & !mask;
    (first, first | mask, bits - host_bits)
}

/// A selector filed under a prefix, with its range on the filter dimension.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Member<F> {
    /// The selector id.
    pub(crate) id: u32,
    /// The selector's range on the filter dimension.
    pub(crate) filter: (F, F),
}

/// One prefix as it appears in a chain.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Link {
    /// Members are `members[first..first + len]`.
    first: u32,
    /// Number of members.
    len: u32,
    /// The smallest selector id on this link and the links after it in the chain.
    min: u32,
    /// The nested index of the members in `subs`, or `NONE`.
    sub: u32,
}

/// An elementary interval: its first key and the chain covering it, `links[chain..chain + len]`.
#[derive(Debug, Clone, Copy)]
struct Interval<K> {
    start: K,
    chain: u32,
    len: u32,
}

/// The index of one dimension (see the module docs), with filters of type `F`.
#[derive(Debug, Clone)]
pub(crate) struct PrefixIndex<K, F> {
    /// Width of the space in bits.
    bits: u32,
    /// `bits - jump bits`: the shift that turns a key into its jump bucket.
    shift: u32,
    /// For bucket `b`, the last elementary interval starting at or before the bucket's first key;
    /// one extra entry at the end holds the last interval.
    jump: Vec<u32>,
    /// The elementary intervals, sorted by start; the first starts at 0.
    intervals: Vec<Interval<K>>,
    links: Vec<Link>,
    members: Vec<Member<F>>,
    /// Nested indexes over the filter dimension (filtered, vacuously, by this prefix).
    subs: Vec<PrefixIndex<F, K>>,
    /// Number of distinct prefixes.
    prefixes: usize,
}

impl<K: Key, F: Key> PrefixIndex<K, F> {
    /// Builds the index of a `bits`-wide space from `(first, last, member)` prefixes, the filters
    /// lying in a `filter_bits`-wide space. Every `first..=last` must be a prefix of the space (as
    /// [`covering_prefix`] makes them). With `nest`, prefixes with many members get a nested index.
    pub(crate) fn build(
        bits: u32,
        filter_bits: u32,
        mut prefixes: Vec<(u128, u128, Member<F>)>,
        nest: bool,
    ) -> Self {
        // Outer prefixes before the inner ones that share their start; members in id order.
        prefixes
            .sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.id.cmp(&b.2.id)));
        // One own link per distinct prefix.
        let mut bounds: Vec<(u128, u128)> = Vec::new();
        let mut own: Vec<Link> = Vec::new();
        let mut members = Vec::with_capacity(prefixes.len());
        for &(lo, hi, m) in &prefixes {
            if bounds.last() != Some(&(lo, hi)) {
                bounds.push((lo, hi));
                own.push(Link {
                    first: index_u32(members.len()),
                    len: 0,
                    min: m.id,
                    sub: NONE,
                });
            }
            if let Some(link) = own.last_mut() {
                link.len += 1;
            }
            members.push(m);
        }
        let subs = if nest {
            nested(bits, filter_bits, &bounds, &mut own, &members)
        } else {
            Vec::new()
        };
        let (starts, innermost, parents) = sweep(bits, &bounds);
        let (mut links, node_chain) = chains(&own, &parents);
        links.shrink_to_fit();
        let intervals = starts
            .into_iter()
            .zip(innermost)
            .map(|(start, n)| {
                let (chain, len) = n.map_or((0, 0), |n| node_chain[n as usize]);
                Interval {
                    start: K::narrow(start),
                    chain,
                    len,
                }
            })
            .collect();
        let mut index = Self {
            bits,
            shift: 0,
            jump: Vec::new(),
            intervals,
            links,
            members,
            subs,
            prefixes: own.len(),
        };
        index.build_jump();
        index
    }

    /// Fills `jump` with one entry per bucket of the top bits (see [`Self::chain_of`]).
    fn build_jump(&mut self) {
        let wanted = usize::BITS - self.intervals.len().leading_zeros();
        let jump_bits = wanted.clamp(1, MAX_JUMP_BITS).min(self.bits);
        self.shift = self.bits - jump_bits;
        let buckets = 1usize << jump_bits;
        self.jump = Vec::with_capacity(buckets + 1);
        let mut at = 0usize;
        for b in 0..buckets {
            let first_key = (b as u128) << self.shift;
            while at + 1 < self.intervals.len() && self.intervals[at + 1].start.widen() <= first_key
            {
                at += 1;
            }
            self.jump.push(index_u32(at));
        }
        self.jump.push(index_u32(self.intervals.len() - 1));
    }

    /// Whether no selector is filed here.
    pub(crate) fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The chain of prefixes covering `key`, innermost first (for [`Self::scan`]; finding the
    /// chains of several dimensions before scanning any lets their memory loads overlap).
    #[inline]
    pub(crate) fn chain_of(&self, key: K) -> &[Link] {
        // `key` lies in this index's space, so its bucket is below `jump.len() - 1`.
        let bucket = (key.widen() >> self.shift) as usize;
        let (lo, hi) = (self.jump[bucket] as usize, self.jump[bucket + 1] as usize);
        // Interval lo starts at or before key, interval hi + 1 after it: the answer is in lo..=hi.
        let idx = lo + self.intervals[lo + 1..=hi].partition_point(|i| i.start <= key);
        let i = self.intervals[idx];
        &self.links[i.chain as usize..(i.chain + i.len) as usize]
    }

    /// Scans the chain of prefixes covering `key`, calling `matches` on each member whose id is
    /// below `*best` and whose filter range holds `filter`, in ascending id order per prefix; the
    /// first that matches becomes `*best`.
    #[inline]
    pub(crate) fn probe<M: FnMut(u32) -> bool>(
        &self,
        key: K,
        filter: F,
        best: &mut u32,
        matches: &mut M,
    ) {
        self.scan(self.chain_of(key), key, filter, best, matches);
    }

    /// [`Self::probe`] on the chain `chain_of(key)` found beforehand.
    #[inline]
    pub(crate) fn scan<M: FnMut(u32) -> bool>(
        &self,
        chain: &[Link],
        key: K,
        filter: F,
        best: &mut u32,
        matches: &mut M,
    ) {
        for link in chain {
            if link.min >= *best {
                return;
            }
            if let Some(sub) = self.subs.get(link.sub as usize) {
                sub.probe(filter, key, best, matches);
                continue;
            }
            let first = link.first as usize;
            for m in &self.members[first..first + link.len as usize] {
                if m.id >= *best {
                    break;
                }
                if m.filter.0 <= filter && filter <= m.filter.1 && matches(m.id) {
                    *best = m.id;
                    break;
                }
            }
        }
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.jump.capacity() * 4
            + self.intervals.capacity() * size_of::<Interval<K>>()
            + self.links.capacity() * size_of::<Link>()
            + self.members.capacity() * size_of::<Member<F>>()
            + self.subs.iter().map(Self::sub_bytes).sum::<usize>()
    }

    fn sub_bytes(sub: &PrefixIndex<F, K>) -> usize {
        size_of::<PrefixIndex<F, K>>() + sub.heap_bytes()
    }

    /// Number of distinct prefixes.
    pub(crate) fn node_count(&self) -> usize {
        self.prefixes
    }
}

/// Marks "no parent" and "no nested index".
const NONE: u32 = u32::MAX;

/// Builds a nested index over the filter dimension for each prefix with many members, and links
/// it from the prefix's own link.
fn nested<K: Key, F: Key>(
    bits: u32,
    filter_bits: u32,
    bounds: &[(u128, u128)],
    own: &mut [Link],
    members: &[Member<F>],
) -> Vec<PrefixIndex<F, K>> {
    let mut subs = Vec::new();
    for (link, &(lo, hi)) in own.iter_mut().zip(bounds) {
        if link.len <= SUB_INDEX_ABOVE {
            continue;
        }
        let first = link.first as usize;
        let prefixes = members[first..first + link.len as usize]
            .iter()
            .map(|m| {
                let (f_lo, f_hi, _) =
                    covering_prefix(filter_bits, m.filter.0.widen(), m.filter.1.widen());
                let filter = (K::narrow(lo), K::narrow(hi));
                (f_lo, f_hi, Member { id: m.id, filter })
            })
            .collect();
        link.sub = index_u32(subs.len());
        subs.push(PrefixIndex::build(filter_bits, bits, prefixes, false));
    }
    subs
}

/// Cuts the space into elementary intervals with their innermost prefix, and finds each prefix's
/// parent. `bounds` are the prefixes, sorted by start, outer first.
#[allow(clippy::type_complexity)]
fn sweep(bits: u32, bounds: &[(u128, u128)]) -> (Vec<u128>, Vec<Option<u32>>, Vec<u32>) {
    let space_last = low_mask(bits);
    let mut starts = vec![0u128];
    let mut innermost: Vec<Option<u32>> = vec![None];
    let mut parents = vec![NONE; bounds.len()];
    // Records that the innermost prefix from `key` on is `node`; a later record at the same key
    // replaces an earlier one.
    let mut emit = |key: u128, node: Option<u32>| {
        if starts.last() == Some(&key) {
            if let Some(last) = innermost.last_mut() {
                *last = node;
            }
        } else {
            starts.push(key);
            innermost.push(node);
        }
    };
    let close = |stack: &mut Vec<u32>, emit: &mut dyn FnMut(u128, Option<u32>), hi: u128| {
        stack.pop();
        if hi < space_last {
            emit(hi + 1, stack.last().copied());
        }
    };
    let mut stack: Vec<u32> = Vec::new();
    for (i, &(lo, _)) in bounds.iter().enumerate() {
        while let Some(&top) = stack.last() {
            let top_hi = bounds[top as usize].1;
            if top_hi >= lo {
                break;
            }
            close(&mut stack, &mut emit, top_hi);
        }
        if let Some(&parent) = stack.last() {
            parents[i] = parent;
        }
        let id = index_u32(i);
        emit(lo, Some(id));
        stack.push(id);
    }
    while let Some(&top) = stack.last() {
        close(&mut stack, &mut emit, bounds[top as usize].1);
    }
    // Drop intervals that continue the previous one.
    let mut out_starts = Vec::with_capacity(starts.len());
    let mut out_inner: Vec<Option<u32>> = Vec::with_capacity(starts.len());
    for (s, n) in starts.into_iter().zip(innermost) {
        if out_inner.last() != Some(&n) {
            out_starts.push(s);
            out_inner.push(n);
        }
    }
    (out_starts, out_inner, parents)
}

/// Lays out each prefix's chain (itself, then its parent's chain) in one vector; returns the
/// links and each prefix's `(start, len)`. Parents come before their children in `own`.
fn chains(own: &[Link], parents: &[u32]) -> (Vec<Link>, Vec<(u32, u32)>) {
    let mut links: Vec<Link> = Vec::with_capacity(own.len() * 2);
    let mut node_chain: Vec<(u32, u32)> = Vec::with_capacity(own.len());
    for (i, &link) in own.iter().enumerate() {
        let start = links.len();
        match parents[i] {
            NONE => links.push(link),
            p => {
                let (ps, pl) = node_chain[p as usize];
                let (ps, pl) = (ps as usize, pl as usize);
                let outer_min = links[ps].min;
                links.push(Link {
                    min: link.min.min(outer_min),
                    ..link
                });
                links.extend_from_within(ps..ps + pl);
            }
        }
        node_chain.push((index_u32(start), index_u32(links.len() - start)));
    }
    (links, node_chain)
}

/// A position as `u32`; the compiled SPD refuses inputs whose positions would not fit.
fn index_u32(i: usize) -> u32 {
    u32::try_from(i).expect("the compiled SPD caps its selector count below u32::MAX")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The members of every node covering `key`, innermost first, by brute force over `prefixes`.
    fn chain_brute(prefixes: &[(u128, u128, u32)], key: u128) -> Vec<u32> {
        let mut covering: Vec<_> = prefixes
            .iter()
            .filter(|p| p.0 <= key && key <= p.1)
            .copied()
            .collect();
        covering.sort_by_key(|p| (p.1 - p.0, p.2));
        covering.into_iter().map(|p| p.2).collect()
    }

    fn member(id: u32) -> Member<u32> {
        Member {
            id,
            filter: (0, u32::MAX),
        }
    }

    fn with_members(prefixes: &[(u128, u128, u32)]) -> Vec<(u128, u128, Member<u32>)> {
        prefixes
            .iter()
            .map(|&(a, b, id)| (a, b, member(id)))
            .collect()
    }

    fn probe_all(ix: &PrefixIndex<u32, u32>, key: u32) -> Vec<u32> {
        let mut seen = Vec::new();
        let mut best = u32::MAX;
        ix.probe(key, 0, &mut best, &mut |id| {
            seen.push(id);
            false
        });
        seen
    }

    #[test]
    fn covering_prefixes() {
        assert_eq!(
            covering_prefix(32, 0x0a00_0000, 0x0aff_ffff),
            (0x0a00_0000, 0x0aff_ffff, 8)
        );
        assert_eq!(covering_prefix(32, 5, 5), (5, 5, 32));
        assert_eq!(covering_prefix(32, 5, 200), (0, 255, 24));
        assert_eq!(
            covering_prefix(32, 0x7fff_ffff, 0x8000_0000),
            (0, u128::from(u32::MAX), 0)
        );
        assert_eq!(covering_prefix(128, 0, u128::MAX), (0, u128::MAX, 0));
        assert_eq!(covering_prefix(17, 0, 65536), (0, 0x1_ffff, 0));
        assert_eq!(covering_prefix(17, 65536, 65536), (65536, 65536, 17));
    }

    #[test]
    fn chains_match_brute_force() {
        // Nested, disjoint, duplicate, whole-space and edge prefixes of a 32-bit space.
        let p = |first: u32, len: u32, id| {
            let (lo, hi, _) = covering_prefix(
                32,
                u128::from(first),
                u128::from(first) | low_mask(32 - len),
            );
            (lo, hi, id)
        };
        let prefixes = vec![
            p(0, 0, 9),
            p(0x0a00_0000, 8, 3),
            p(0x0a01_0000, 16, 1),
            p(0x0a01_0000, 16, 7),
            p(0x0a01_0200, 24, 5),
            p(0x0a01_02ff, 32, 2),
            p(0x0aff_0000, 16, 4),
            p(0xffff_ffff, 32, 6),
            p(0, 32, 8),
        ];
        let ix = PrefixIndex::<u32, u32>::build(32, 32, with_members(&prefixes), true);
        assert_eq!(ix.node_count(), 8);
        let mut keys = vec![0u32, 1, u32::MAX, u32::MAX - 1];
        for &(lo, hi, _) in &prefixes {
            for k in [lo, hi, lo.wrapping_sub(1), hi + 1] {
                keys.push(k as u32);
            }
        }
        for k in keys {
            let mut want = chain_brute(&prefixes, u128::from(k));
            let mut got = probe_all(&ix, k);
            // Within a node members come in id order; across nodes innermost first.
            want.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, want, "key {k:#x}");
        }
    }

    #[test]
    fn best_prunes_the_walk() {
        let prefixes = vec![(0, u128::from(u32::MAX), 0), (0, 255, 4), (0, 15, 2)];
        let ix = PrefixIndex::<u32, u32>::build(32, 32, with_members(&prefixes), true);
        // Nothing matches: every member below `best` is tried.
        let mut best = 3;
        let mut tried = Vec::new();
        ix.probe(7, 0, &mut best, &mut |id| {
            tried.push(id);
            false
        });
        assert_eq!(tried, vec![2, 0]);
        // The first match found becomes the bound.
        let mut best = u32::MAX;
        ix.probe(7, 0, &mut best, &mut |id| id == 2 || id == 4 || id == 0);
        assert_eq!(best, 0);
    }

    #[test]
    fn filter_ranges_skip_members() {
        let prefixes = vec![
            (
                0,
                255,
                Member {
                    id: 1,
                    filter: (10, 20),
                },
            ),
            (
                0,
                255,
                Member {
                    id: 2,
                    filter: (30, 40),
                },
            ),
        ];
        let ix = PrefixIndex::<u32, u32>::build(32, 32, prefixes, true);
        let tried = |filter| {
            let mut tried = Vec::new();
            ix.probe(7, filter, &mut u32::MAX.clone(), &mut |id| {
                tried.push(id);
                false
            });
            tried
        };
        assert_eq!(tried(15), vec![1]);
        assert_eq!(tried(35), vec![2]);
        assert_eq!(tried(25), Vec::<u32>::new());
    }

    #[test]
    fn crowded_prefix_gets_a_nested_index() {
        // 40 members on one prefix, each with its own /24 filter, and one with no filter limit.
        let mut prefixes: Vec<_> = (0..40u32)
            .map(|i| {
                let lo = 0x0a00_0000 + (i << 8);
                (
                    0,
                    255,
                    Member {
                        id: i + 1,
                        filter: (lo, lo | 0xff),
                    },
                )
            })
            .collect();
        prefixes.push((
            0,
            255,
            Member {
                id: 99,
                filter: (0, u32::MAX),
            },
        ));
        let ix = PrefixIndex::<u32, u32>::build(32, 32, prefixes, true);
        assert_eq!(ix.subs.len(), 1);
        let mut tried = Vec::new();
        let mut best = u32::MAX;
        ix.probe(7, 0x0a00_0510, &mut best, &mut |id| {
            tried.push(id);
            false
        });
        tried.sort_unstable();
        assert_eq!(tried, vec![6, 99]);
        let mut best = u32::MAX;
        ix.probe(7, 0x0a00_0510, &mut best, &mut |_| true);
        assert_eq!(best, 6);
        // Outside the prefix nothing is tried.
        let mut best = u32::MAX;
        ix.probe(256, 0x0a00_0510, &mut best, &mut |_| true);
        assert_eq!(best, u32::MAX);
    }

    #[test]
    fn empty_index() {
        let ix = PrefixIndex::<u128, u32>::build(128, 32, Vec::new(), true);
        assert!(ix.is_empty());
        let mut best = u32::MAX;
        ix.probe(12345, 0, &mut best, &mut |_| true);
        assert_eq!(best, u32::MAX);
    }
}
