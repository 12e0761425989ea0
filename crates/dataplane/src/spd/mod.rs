//! The compiled SPD: the data plane's fast classifier for one direction of a
//! [`rampart_policy::Spd`] (RFC 4301 §4.4.1, §5.1 outbound, §5.2 inbound).
//!
//! Workers call [`CompiledSpd::classify`] once per packet (outbound: before choosing the SA;
//! inbound: for packets that arrived unprotected, and to check a decrypted packet's policy). It
//! answers exactly what the reference matcher [`Spd::lookup`] answers — the IKE bypass first, then
//! the first matching entry in match order, else DISCARD — as a small `Copy` [`Verdict`] that
//! borrows nothing, without scanning the entry list. The table is immutable: the daemon builds a
//! new one when policy changes and swaps it in whole (see [`crate::snapshot`]).
//!
//! # Design
//!
//! Every selector set of every entry (and the IKE bypass selectors, ranked ahead of all entries)
//! becomes one row (module `table`), numbered in match order, and is filed under the *single*
//! dimension that narrows it most: remote address, local address, remote port or local port, as
//! the smallest prefix of that dimension covering its range. Each dimension is a longest-prefix-
//! match index (module `index`): a jump table on the top bits and a binary search find the
//! elementary interval holding the packet's value, which carries the chain of prefixes covering
//! it, laid out contiguously. Each row on a chain carries its range on a second address dimension,
//! checked inline before the row is fetched; a prefix crowded with rows gets a nested index over
//! that second dimension instead (a two-level lookup). The lookup keeps the lowest-numbered row
//! that fully matches, and skips any part of a chain that holds no row numbered below the best
//! match so far. Rows no dimension narrows (e.g. `any <-> any, proto icmp`) sit on a wildcard list
//! checked last.
//!
//! Why this shape rather than the alternatives:
//!
//! - *Exactness is cheap to keep.* Candidates are verified against every field, so the index only
//!   has to over-approximate: ranges that are not prefixes, ports, OPAQUE, ICMP type/code and
//!   protocol need no special casing in the index, and priorities are just row numbers.
//! - *Memory stays linear.* Each row is filed once (no range splitting, no rule replication as in
//!   cutting trees such as HiCuts, no cross-product tables), so 100k entries cost a few MB.
//! - *Few candidates.* Filing under the narrowest dimension means a packet meets, per dimension,
//!   only the rows whose narrowest range covers it; with realistic prefixes that is a handful, and
//!   the priority bound prunes the rest. The cost grows with rows whose every dimension is wide —
//!   a hierarchical or tuple-space scheme would help there; realistic SPDs have few such rows.
//! - *Build is sorting.* One sort per dimension and a linear sweep: well under a second at 100k.
//!
//! No per-worker flow cache is kept here; the lookup is fast enough that one is not needed yet.

mod index;
mod table;

use std::net::IpAddr;

use rampart_policy::{
    Action, AddrRange, Decision, Direction, PacketSelector, PortValue, ProtectTemplate, ReqId,
    Rule, Selector, Spd, SpdEntry,
};
use thiserror::Error;

pub use table::DimensionCounts;
use table::{CompiledSel, FamilyTable, Probe};

/// The port point standing for OPAQUE (RFC 4301 §4.4.1.1), above every real port, as in
/// [`rampart_policy::PortSelector::interval`].
const OPAQUE_POINT: u32 = 65536;

/// What decided a BYPASS or DISCARD verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// The SPD entry at this position of [`Spd::entries`].
    Entry(usize),
    /// The built-in IKE bypass (RFC 4301 §5.1).
    IkeBypass,
    /// No entry matched: the default DISCARD (RFC 4301 §5.1, §5.2).
    NoMatch,
}

/// The compiled SPD's answer for one packet: [`Decision`] without the borrows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Let the packet through unprotected.
    Bypass(Origin),
    /// Drop it.
    Discard(Origin),
    /// Protect it (outbound: with the current outbound SA of `reqid`) or, inbound, require that
    /// it arrived protected.
    Protect {
        /// Position of the entry in [`Spd::entries`]; its template is
        /// [`CompiledSpd::template`].
        index: usize,
        /// The request id of the entry's SAs.
        reqid: ReqId,
    },
}

impl Verdict {
    /// The deciding entry's position in [`Spd::entries`], if an entry decided.
    pub fn index(&self) -> Option<usize> {
        match *self {
            Self::Bypass(Origin::Entry(i))
            | Self::Discard(Origin::Entry(i))
            | Self::Protect { index: i, .. } => Some(i),
            _ => None,
        }
    }

    /// The verdict for an entry's action.
    fn of_entry(index: usize, entry: &SpdEntry) -> Self {
        match &entry.action {
            Action::Bypass => Self::Bypass(Origin::Entry(index)),
            Action::Discard => Self::Discard(Origin::Entry(index)),
            Action::Protect(t) => Self::Protect {
                index,
                reqid: t.reqid,
            },
        }
    }
}

impl From<Decision<'_>> for Verdict {
    /// The verdict that stands for a reference decision.
    fn from(d: Decision<'_>) -> Self {
        let origin = |rule: Rule<'_>| match rule {
            Rule::Entry { index, .. } => Origin::Entry(index),
            Rule::IkeBypass => Origin::IkeBypass,
            Rule::NoMatch => Origin::NoMatch,
        };
        match d {
            Decision::Bypass(r) => Self::Bypass(origin(r)),
            Decision::Discard(r) => Self::Discard(origin(r)),
            Decision::Protect {
                index, template, ..
            } => Self::Protect {
                index,
                reqid: template.reqid,
            },
        }
    }
}

/// Why an SPD could not be compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CompileError {
    /// More selector sets than the compact row numbers can count.
    #[error("SPD has too many selector sets to compile ({count})")]
    TooLarge {
        /// Selector sets in the direction compiled (IKE bypass included).
        count: usize,
    },
}

/// Sizes and shape of a compiled SPD, for reports and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompiledStats {
    /// Selector rows, IPv4 (IKE bypass included).
    pub v4_rows: usize,
    /// Selector rows, IPv6 (IKE bypass included).
    pub v6_rows: usize,
    /// Where the IPv4 rows are filed.
    pub v4_dimensions: DimensionCounts,
    /// Where the IPv6 rows are filed.
    pub v6_dimensions: DimensionCounts,
    /// Distinct prefixes in the indexes, both families.
    pub prefixes: usize,
    /// Heap bytes of what lookups read: compiled selectors, indexes, verdicts.
    pub index_bytes: usize,
    /// Heap bytes held in all (the PROTECT templates, read only for ACQUIRE, included).
    pub heap_bytes: usize,
}

/// One direction of an SPD, compiled for fast lookups (see the module docs).
#[derive(Debug, Clone)]
pub struct CompiledSpd {
    direction: Direction,
    v4: FamilyTable<u32>,
    v6: FamilyTable<u128>,
    /// Verdict per rank: rank 0 is the IKE bypass, rank `r > 0` the `r`-th entry of the direction.
    outcomes: Vec<Verdict>,
    /// PROTECT templates by entry position, sorted.
    templates: Vec<(usize, ProtectTemplate)>,
}

/// The most rows per family: row numbers and index offsets (up to `bits + 1` chain links per
/// row) must fit in a `u32`.
const MAX_ROWS: usize = 1 << 24;

impl CompiledSpd {
    /// Compiles the `direction` side of `spd`, with its IKE bypass.
    pub fn build(spd: &Spd, direction: Direction) -> Result<Self, CompileError> {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        let mut outcomes = vec![Verdict::Bypass(Origin::IkeBypass)];
        let mut templates = Vec::new();
        let mut file = |sels: &[Selector], rank: usize| -> Result<(), CompileError> {
            let rank = u32::try_from(rank).map_err(|_| CompileError::TooLarge { count: rank })?;
            for s in sels {
                push_row(&mut v4, &mut v6, s, rank);
            }
            let count = v4.len().max(v6.len());
            if count > MAX_ROWS {
                return Err(CompileError::TooLarge { count });
            }
            Ok(())
        };
        file(&spd.ike_bypass_selectors(), 0)?;
        for (index, entry) in spd.entries_for(direction) {
            file(&entry.selectors, outcomes.len())?;
            outcomes.push(Verdict::of_entry(index, entry));
            if let Action::Protect(t) = &entry.action {
                templates.push((index, t.clone()));
            }
        }
        Ok(Self {
            direction,
            v4: FamilyTable::build(32, v4),
            v6: FamilyTable::build(128, v6),
            outcomes,
            templates,
        })
    }

    /// The SPD's verdict for `packet` (RFC 4301 §5.1 outbound, §5.2 inbound); always equal to
    /// `Verdict::from(spd.lookup(direction, packet))` for the SPD it was built from.
    #[inline]
    pub fn classify(&self, packet: &PacketSelector) -> Verdict {
        let (protocol, local_port, remote_port) = (
            packet.protocol.0,
            port_point(packet.local_port),
            port_point(packet.remote_port),
        );
        let rank = match (packet.local, packet.remote) {
            (IpAddr::V4(l), IpAddr::V4(r)) => self.v4.best(&Probe {
                local: u32::from(l),
                remote: u32::from(r),
                protocol,
                local_port,
                remote_port,
            }),
            (IpAddr::V6(l), IpAddr::V6(r)) => self.v6.best(&Probe {
                local: u128::from(l),
                remote: u128::from(r),
                protocol,
                local_port,
                remote_port,
            }),
            // Every selector has one family for both addresses: nothing matches.
            _ => None,
        };
        rank.and_then(|r| self.outcomes.get(r as usize).copied())
            .unwrap_or(Verdict::Discard(Origin::NoMatch))
    }

    /// The direction compiled.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// The template of the PROTECT entry at `index` of [`Spd::entries`] (for ACQUIRE).
    pub fn template(&self, index: usize) -> Option<&ProtectTemplate> {
        let at = self.templates.binary_search_by_key(&index, |t| t.0).ok()?;
        self.templates.get(at).map(|t| &t.1)
    }

    /// Sizes and shape, for reports.
    pub fn stats(&self) -> CompiledStats {
        let template_bytes: usize = self
            .templates
            .iter()
            .map(|(_, t)| {
                size_of::<(usize, ProtectTemplate)>()
                    + t.proposals.capacity() * size_of::<String>()
                    + t.proposals.iter().map(String::capacity).sum::<usize>()
            })
            .sum();
        let index_bytes = self.v4.heap_bytes()
            + self.v6.heap_bytes()
            + self.outcomes.capacity() * size_of::<Verdict>();
        CompiledStats {
            v4_rows: self.v4.len(),
            v6_rows: self.v6.len(),
            v4_dimensions: self.v4.counts(),
            v6_dimensions: self.v6.counts(),
            prefixes: self.v4.prefix_count() + self.v6.prefix_count(),
            index_bytes,
            heap_bytes: index_bytes + template_bytes,
        }
    }
}

/// A port field as a point of the port selector interval (OPAQUE above every port).
fn port_point(v: PortValue) -> u32 {
    match v {
        PortValue::Port(p) => u32::from(p),
        PortValue::Opaque => OPAQUE_POINT,
    }
}

/// Appends the row of selector `s` to the table of its family.
fn push_row(
    v4: &mut Vec<CompiledSel<u32>>,
    v6: &mut Vec<CompiledSel<u128>>,
    s: &Selector,
    rank: u32,
) {
    let (p0, p1) = s.protocol().interval();
    let (local, remote) = (s.local(), s.remote());
    match (local, remote) {
        (l, r) if is_v4(&l) && is_v4(&r) => v4.push(CompiledSel {
            local: narrow_v4(&l),
            remote: narrow_v4(&r),
            local_port: s.local_port().interval(),
            remote_port: s.remote_port().interval(),
            protocol: (p0, p1),
            rank,
        }),
        (l, r) => v6.push(CompiledSel {
            local: l.to_u128(),
            remote: r.to_u128(),
            local_port: s.local_port().interval(),
            remote_port: s.remote_port().interval(),
            protocol: (p0, p1),
            rank,
        }),
    }
}

fn is_v4(r: &AddrRange) -> bool {
    r.start().is_ipv4()
}

/// An IPv4 range's bounds as `u32`.
fn narrow_v4(r: &AddrRange) -> (u32, u32) {
    let v = |a: IpAddr| match a {
        IpAddr::V4(a) => u32::from(a),
        // Callers pass IPv4 ranges, whose both ends are IPv4 (AddrRange keeps one family).
        IpAddr::V6(_) => u32::MAX,
    };
    (v(r.start()), v(r.end()))
}

#[cfg(test)]
mod tests;
