//! Static analysis of an SPD — what `rampart policy check` prints. For each direction it finds:
//!
//! - **shadowed** entries: every packet they select is taken by earlier entries — by their
//!   *union*, not necessarily by one of them — so they can never match (an error: the entry is
//!   dead, and usually the operator meant something else);
//! - **conflicts**: an earlier entry with a different action (or a different PROTECT template)
//!   takes part of a later entry's traffic, so order decides; reported with the overlapping region.
//!   If the earlier entry lies wholly inside the later one it is the usual "exception before the
//!   general rule" idiom and only informational; a partial overlap is a warning;
//! - **redundant** entries: removing the entry changes no decision. Precisely: every packet the
//!   entry decides (its effective region: its selectors minus all earlier entries) would, without
//!   it, be decided by the next matching later entry — or by the default DISCARD — with an
//!   *equal* action (same kind, and for PROTECT the same template). Shadowed entries are reported
//!   as shadowed only;
//! - PROTECT entries whose **reverse direction** is missing: part of the entry's effective region is
//!   not decided PROTECT in the other direction (it falls to a BYPASS/DISCARD entry or to the
//!   default DISCARD), so replies would be dropped or pass in clear.
//!
//! The analysis is exact: selector sets are boxes (address ranges × protocol × ports) and regions
//! are unions of disjoint boxes, subtracted box by box (see the `region` module). The work per
//! entry is bounded by [`CheckLimits`]; past it the entry gets an "analysis incomplete" finding
//! instead of a guess. The built-in IKE bypass is treated as the first entry of each direction.

mod analysis;

use core::fmt;

use crate::packet::{Direction, PacketSelector};
use crate::selector::SelectorBox;
use crate::spd::Spd;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing; often intended.
    Info,
    /// Probably a mistake.
    Warning,
    /// Certainly a mistake (e.g. an entry that can never match).
    Error,
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FindingKind {
    /// The entry can never match.
    Shadowed,
    /// Removing the entry would change nothing.
    Redundant,
    /// An earlier entry with another action takes part of this entry's traffic.
    Conflict,
    /// A PROTECT entry's traffic is not protected in the other direction.
    MissingReverse,
    /// The work limit was reached; the entry was not fully analysed.
    Incomplete,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How serious.
    pub severity: Severity,
    /// What kind.
    pub kind: FindingKind,
    /// The SPD side of the entry the finding is about.
    pub direction: Direction,
    /// The entry the finding is about first, then the other entries involved
    /// (`(ike-bypass)` and `(default discard)` name the built-in rules).
    pub entries: Vec<String>,
    /// A sentence for the operator.
    pub message: String,
    /// The traffic concerned, as disjoint boxes (at most [`MAX_REGION_BOXES`]; `region_truncated`
    /// says if there were more).
    pub region: Vec<SelectorBox>,
    /// Whether `region` was cut short.
    pub region_truncated: bool,
    /// One packet of the region.
    pub example: Option<PacketSelector>,
}

/// The most boxes a finding lists.
pub const MAX_REGION_BOXES: usize = 8;

/// Work limits for [`check_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckLimits {
    /// Boxes one entry's analysis may create before it is reported incomplete.
    pub max_boxes_per_entry: usize,
}

impl Default for CheckLimits {
    fn default() -> Self {
        Self {
            max_boxes_per_entry: 200_000,
        }
    }
}

/// Name of the built-in IKE bypass in findings.
pub const IKE_BYPASS_NAME: &str = "(ike-bypass)";
/// Name of the default DISCARD rule in findings.
pub const DEFAULT_DISCARD_NAME: &str = "(default discard)";

/// Analyses `spd` with the default limits; findings come per direction, in entry order.
pub fn check(spd: &Spd) -> Vec<Finding> {
    check_with(spd, CheckLimits::default())
}

/// Analyses `spd` with explicit work limits.
pub fn check_with(spd: &Spd, limits: CheckLimits) -> Vec<Finding> {
    let mut out = Vec::new();
    for direction in [Direction::Outbound, Direction::Inbound] {
        analysis::Analysis::new(spd, direction, limits).run(&mut out);
    }
    out
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        })
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Shadowed => "shadowed",
            Self::Redundant => "redundant",
            Self::Conflict => "conflict",
            Self::MissingReverse => "missing-reverse",
            Self::Incomplete => "incomplete",
        })
    }
}

impl fmt::Display for Finding {
    /// Several lines: the headline, an example packet, the region.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}] {} {}",
            self.severity, self.kind, self.direction, self.message
        )?;
        if let Some(p) = &self.example {
            write!(f, "\n  example: {p}")?;
        }
        for b in &self.region {
            write!(f, "\n  region: {b}")?;
        }
        if self.region_truncated {
            f.write_str("\n  region: ...")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
