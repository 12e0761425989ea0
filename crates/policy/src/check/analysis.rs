//! The walks behind the policy check: for one SPD side, each entry's region is cut by the entries
//! before it (shadowing, conflicts), what is left — its effective region — is followed past it
//! (redundancy) and into the other side (missing reverse). See the parent module for definitions.

use crate::check::{
    CheckLimits, DEFAULT_DISCARD_NAME, Finding, FindingKind, IKE_BYPASS_NAME, MAX_REGION_BOXES,
    Severity,
};
use crate::packet::Direction;
use crate::region::{self, Budget, Cube, Exhausted};
use crate::selector::SelectorBox;
use crate::spd::{Action, ActionKind, Spd};

/// One rule of a side as the analysis sees it.
struct RuleInfo {
    name: String,
    action: Action,
    cubes: Vec<Cube<6>>,
    builtin: bool,
}

/// The rules of one side in match order: the IKE bypass (if any addresses), then the entries.
fn rules_for(spd: &Spd, direction: Direction) -> Vec<RuleInfo> {
    let ike: Vec<_> = spd
        .ike_bypass_selectors()
        .iter()
        .map(|s| s.cube())
        .collect();
    let mut rules = Vec::new();
    if !ike.is_empty() {
        rules.push(RuleInfo {
            name: IKE_BYPASS_NAME.to_owned(),
            action: Action::Bypass,
            cubes: ike,
            builtin: true,
        });
    }
    for (_, e) in spd.entries_for(direction) {
        rules.push(RuleInfo {
            name: e.name.clone(),
            action: e.action.clone(),
            cubes: e.selectors.iter().map(|s| s.cube()).collect(),
            builtin: false,
        });
    }
    rules
}

/// The part of `region` inside any box of `rule` (boxes may repeat where the rule's own selector
/// sets overlap; that is harmless for reporting).
fn clip_rule(region: &[Cube<6>], rule: &RuleInfo) -> Vec<Cube<6>> {
    rule.cubes
        .iter()
        .flat_map(|c| region::clip(region, c))
        .collect()
}

fn subtract_rule(
    region: &mut Vec<Cube<6>>,
    rule: &RuleInfo,
    budget: &mut Budget,
) -> Result<(), Exhausted> {
    for c in &rule.cubes {
        if region.is_empty() {
            break;
        }
        region::subtract(region, c, budget)?;
    }
    Ok(())
}

/// A finding with its region rendered.
fn finding(
    severity: Severity,
    kind: FindingKind,
    direction: Direction,
    entries: Vec<String>,
    message: String,
    region: &[Cube<6>],
) -> Finding {
    let boxes: Vec<_> = region
        .iter()
        .take(MAX_REGION_BOXES)
        .map(SelectorBox::from_cube)
        .collect();
    Finding {
        severity,
        kind,
        direction,
        entries,
        message,
        example: boxes.first().map(SelectorBox::example),
        region: boxes,
        region_truncated: region.len() > MAX_REGION_BOXES,
    }
}

fn describe(rule: &RuleInfo) -> String {
    format!("'{}' ({})", rule.name, rule.action.kind())
}

/// The analysis of one side.
pub(super) struct Analysis {
    direction: Direction,
    limits: CheckLimits,
    rules: Vec<RuleInfo>,
    reverse: Vec<RuleInfo>,
}

impl Analysis {
    pub(super) fn new(spd: &Spd, direction: Direction, limits: CheckLimits) -> Self {
        Self {
            direction,
            limits,
            rules: rules_for(spd, direction),
            reverse: rules_for(spd, direction.reverse()),
        }
    }

    /// Appends the findings for every entry of the side.
    pub(super) fn run(&self, out: &mut Vec<Finding>) {
        for i in 0..self.rules.len() {
            if self.rules[i].builtin {
                continue;
            }
            let mut budget = Budget::new(self.limits.max_boxes_per_entry);
            if self.entry(i, &mut budget, out).is_err() {
                out.push(finding(
                    Severity::Warning,
                    FindingKind::Incomplete,
                    self.direction,
                    vec![self.rules[i].name.clone()],
                    format!(
                        "analysis of '{}' stopped at the work limit; findings for it may be missing",
                        self.rules[i].name
                    ),
                    &[],
                ));
            }
        }
    }

    /// The effective region of rule `i`: its boxes minus every earlier rule's.
    #[cfg(test)]
    pub(super) fn effective(
        &self,
        i: usize,
        budget: &mut Budget,
    ) -> Result<Vec<Cube<6>>, Exhausted> {
        let mut eff = self.rules[i].cubes.clone();
        for earlier in &self.rules[..i] {
            subtract_rule(&mut eff, earlier, budget)?;
        }
        Ok(eff)
    }

    fn entry(
        &self,
        i: usize,
        budget: &mut Budget,
        out: &mut Vec<Finding>,
    ) -> Result<(), Exhausted> {
        let rule = &self.rules[i];
        let mut eff = rule.cubes.clone();
        let mut takers = Vec::new();
        let mut conflicts = Vec::new();
        for earlier in &self.rules[..i] {
            let part = clip_rule(&eff, earlier);
            if part.is_empty() {
                continue;
            }
            takers.push(earlier);
            if earlier.action != rule.action {
                conflicts.push((earlier, part));
            }
            subtract_rule(&mut eff, earlier, budget)?;
        }
        if eff.is_empty() {
            out.push(self.shadowed(rule, &takers));
            return Ok(());
        }
        for (earlier, part) in conflicts {
            let exception = region::covers(&rule.cubes, &earlier.cubes, budget)?;
            let (severity, idiom) = if exception {
                (Severity::Info, " (an exception carved out of it)")
            } else {
                (Severity::Warning, "")
            };
            let message = format!(
                "entry '{}' ({}) overlaps the earlier {}{idiom}; in the overlap the earlier entry wins",
                rule.name,
                rule.action.kind(),
                describe(earlier),
            );
            let names = vec![rule.name.clone(), earlier.name.clone()];
            out.push(finding(
                severity,
                FindingKind::Conflict,
                self.direction,
                names,
                message,
                &part,
            ));
        }
        self.redundant(i, &eff, budget, out)?;
        if rule.action.kind() == ActionKind::Protect {
            self.missing_reverse(rule, &eff, budget, out)?;
        }
        Ok(())
    }

    fn shadowed(&self, rule: &RuleInfo, takers: &[&RuleInfo]) -> Finding {
        let message = if rule.cubes.is_empty() {
            format!("entry '{}' has no selectors and can never match", rule.name)
        } else {
            let by: Vec<_> = takers.iter().map(|t| describe(t)).collect();
            format!(
                "entry '{}' ({}) can never match: all its traffic is taken by {}",
                rule.name,
                rule.action.kind(),
                by.join(", ")
            )
        };
        let mut names = vec![rule.name.clone()];
        names.extend(takers.iter().map(|t| t.name.clone()));
        finding(
            Severity::Error,
            FindingKind::Shadowed,
            self.direction,
            names,
            message,
            &rule.cubes,
        )
    }

    /// Whether every packet of `eff` would get an equal action from the later rules (or the
    /// default DISCARD) if rule `i` were removed.
    fn redundant(
        &self,
        i: usize,
        eff: &[Cube<6>],
        budget: &mut Budget,
        out: &mut Vec<Finding>,
    ) -> Result<(), Exhausted> {
        let rule = &self.rules[i];
        let mut rest = eff.to_vec();
        let mut catchers = Vec::new();
        for later in &self.rules[i + 1..] {
            if clip_rule(&rest, later).is_empty() {
                continue;
            }
            if later.action != rule.action {
                return Ok(());
            }
            catchers.push(later.name.clone());
            subtract_rule(&mut rest, later, budget)?;
            if rest.is_empty() {
                break;
            }
        }
        if !rest.is_empty() {
            if rule.action != Action::Discard {
                return Ok(());
            }
            catchers.push(DEFAULT_DISCARD_NAME.to_owned());
        }
        let severity = if catchers == [DEFAULT_DISCARD_NAME] {
            Severity::Info
        } else {
            Severity::Warning
        };
        let message = format!(
            "entry '{}' ({}) is redundant: without it the same traffic gets the same action from {}",
            rule.name,
            rule.action.kind(),
            catchers.join(", ")
        );
        let mut names = vec![rule.name.clone()];
        names.extend(catchers);
        out.push(finding(
            severity,
            FindingKind::Redundant,
            self.direction,
            names,
            message,
            eff,
        ));
        Ok(())
    }

    /// Whether the other side protects all of a PROTECT entry's effective region.
    fn missing_reverse(
        &self,
        rule: &RuleInfo,
        eff: &[Cube<6>],
        budget: &mut Budget,
        out: &mut Vec<Finding>,
    ) -> Result<(), Exhausted> {
        let mut rest = eff.to_vec();
        let mut unprotected = Vec::new();
        let mut names = vec![rule.name.clone()];
        for other in &self.reverse {
            let part = clip_rule(&rest, other);
            if part.is_empty() {
                continue;
            }
            if other.action.kind() != ActionKind::Protect && !other.builtin {
                names.push(other.name.clone());
                unprotected.extend(part);
            }
            subtract_rule(&mut rest, other, budget)?;
        }
        if !rest.is_empty() {
            names.push(DEFAULT_DISCARD_NAME.to_owned());
            unprotected.extend(rest);
        }
        if unprotected.is_empty() {
            return Ok(());
        }
        let message = format!(
            "PROTECT entry '{}' has no {} counterpart for part of its traffic: there it is decided by {}",
            rule.name,
            self.direction.reverse(),
            names[1..].join(", ")
        );
        out.push(finding(
            Severity::Warning,
            FindingKind::MissingReverse,
            self.direction,
            names,
            message,
            &unprotected,
        ));
        Ok(())
    }
}
