//! What a change of scheme does to a set of cases (`drg pack diff`).
//!
//! Every case is grouped under an old and a new pack; [`PackDiff`] takes the
//! two results of each case, one at a time, and keeps only tallies: the
//! transitions old group → new group, each hospital's weights under both, and
//! the summary counts. Its memory depends on the number of distinct
//! transitions and hospitals, never on the number of cases, so a caller can
//! stream any number of cases through it (and merge the tallies of several
//! threads with [`PackDiff::merge`]).
//!
//! A case's *group* on either side is its DRG code when it is grouped, else
//! its status (`ungroupable`, `ambiguous`, `invalid`): a transition
//! `GB15 → ungroupable` is a case the new scheme no longer groups.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use crate::{GroupResult, Status};

/// The grouping of one case under one pack: what a diff compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grouping<'a> {
    /// The status under the pack.
    pub status: Status,
    /// The MDC, if any.
    pub mdc: Option<&'a str>,
    /// The ADRG, if any.
    pub adrg: Option<&'a str>,
    /// The DRG, when grouped.
    pub drg: Option<&'a str>,
}

impl<'a> From<&GroupResult<'a>> for Grouping<'a> {
    fn from(r: &GroupResult<'a>) -> Self {
        Grouping { status: r.status, mdc: r.mdc, adrg: r.adrg, drg: r.drg }
    }
}

impl<'a> Grouping<'a> {
    /// The DRG code when grouped, else the status.
    pub fn group(&self) -> &'a str {
        match (self.status, self.drg) {
            (Status::Grouped, Some(drg)) => drg,
            (status, _) => status.as_str(),
        }
    }
}

/// What changed for one case.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaseChange {
    /// Its group (DRG code, or status when not grouped) differs.
    pub group_changed: bool,
    /// Grouped under both, in different MDCs.
    pub mdc_changed: bool,
    /// Grouped under the old pack, not under the new one (ungroupable, ambiguous or invalid).
    pub lost_group: bool,
    /// Not ungroupable under the old pack, ungroupable under the new one.
    pub became_ungroupable: bool,
    /// Not ambiguous (QY) under the old pack, ambiguous under the new one.
    pub became_ambiguous: bool,
}

/// The terminal summary of a diff.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiffSummary {
    /// Cases compared.
    pub cases: u64,
    /// Cases grouped under the old pack.
    pub grouped_old: u64,
    /// Cases grouped under the new pack.
    pub grouped_new: u64,
    /// Cases whose group (DRG code, or status) changed.
    pub group_changed: u64,
    /// Cases grouped under both packs, in different MDCs.
    pub mdc_changed: u64,
    /// Cases ungroupable under the new pack and not under the old one.
    pub became_ungroupable: u64,
    /// Cases ambiguous under the new pack and not under the old one.
    pub became_ambiguous: u64,
    /// Cases grouped under the old pack and not under the new one.
    pub lost_group: u64,
}

/// One row of the transition table.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    /// Group under the old pack (DRG code, or status).
    pub old: String,
    /// Group under the new pack (DRG code, or status).
    pub new: String,
    /// Cases that went from `old` to `new`.
    pub cases: u64,
    /// `cases` / all cases of the old group.
    pub share_of_old: f64,
    /// `cases` / all cases.
    pub share_of_all: f64,
}

/// One hospital's case-mix index under both packs.
#[derive(Clone, Debug, PartialEq)]
pub struct HospitalCmi {
    /// The hospital.
    pub hospital: String,
    /// Its cases.
    pub cases: u64,
    /// Rows that count for the old CMI: grouped, in a DRG with an old weight.
    pub weighted_old: u64,
    /// Rows that count for the new CMI.
    pub weighted_new: u64,
    /// Σ weight / weighted rows (specs/report.md); `None` with no such row.
    pub cmi_old: Option<f64>,
    /// The CMI under the new pack.
    pub cmi_new: Option<f64>,
    /// `cmi_new − cmi_old`, when both exist.
    pub change: Option<f64>,
}

#[derive(Clone, Copy, Debug, Default)]
struct HospitalTally {
    cases: u64,
    weighted_old: u64,
    weighted_new: u64,
    weight_old: f64,
    weight_new: f64,
}

/// Relative weights by DRG code (a `weight` column, e.g. the table of
/// `drg points calibrate`).
pub type DrgWeights = FxHashMap<String, f64>;

/// The tallies of a diff. `'a` is the lifetime of the group codes (the packs').
#[derive(Clone, Debug, Default)]
pub struct PackDiff<'a> {
    summary: DiffSummary,
    transitions: FxHashMap<(&'a str, &'a str), u64>,
    hospitals: FxHashMap<String, HospitalTally>,
}

/// A case's weight under a weights table: grouped, and its DRG has one.
pub fn case_weight(weights: Option<&DrgWeights>, g: &Grouping<'_>) -> Option<f64> {
    let weights = weights?;
    match (g.status, g.drg) {
        (Status::Grouped, Some(drg)) => weights.get(drg).copied(),
        _ => None,
    }
}

impl<'a> PackDiff<'a> {
    /// An empty diff: add each case's two groupings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one case: its hospital (empty when the input has none), its
    /// groupings, and its weights under each pack's table (see [`case_weight`]).
    pub fn add(
        &mut self,
        hospital: &str,
        old: &Grouping<'a>,
        new: &Grouping<'a>,
        weight_old: Option<f64>,
        weight_new: Option<f64>,
    ) -> CaseChange {
        let change = compare(old, new);
        let s = &mut self.summary;
        s.cases += 1;
        s.grouped_old += (old.status == Status::Grouped) as u64;
        s.grouped_new += (new.status == Status::Grouped) as u64;
        s.group_changed += change.group_changed as u64;
        s.mdc_changed += change.mdc_changed as u64;
        s.lost_group += change.lost_group as u64;
        s.became_ungroupable += change.became_ungroupable as u64;
        s.became_ambiguous += change.became_ambiguous as u64;
        *self.transitions.entry((old.group(), new.group())).or_default() += 1;
        let tally = match self.hospitals.get_mut(hospital) {
            Some(t) => t,
            None => self.hospitals.entry(hospital.to_string()).or_default(),
        };
        tally.cases += 1;
        if let Some(w) = weight_old {
            tally.weighted_old += 1;
            tally.weight_old += w;
        }
        if let Some(w) = weight_new {
            tally.weighted_new += 1;
            tally.weight_new += w;
        }
        change
    }

    /// Adds the tallies of another diff (of other cases).
    pub fn merge(&mut self, other: PackDiff<'a>) {
        let (s, o) = (&mut self.summary, other.summary);
        s.cases += o.cases;
        s.grouped_old += o.grouped_old;
        s.grouped_new += o.grouped_new;
        s.group_changed += o.group_changed;
        s.mdc_changed += o.mdc_changed;
        s.lost_group += o.lost_group;
        s.became_ungroupable += o.became_ungroupable;
        s.became_ambiguous += o.became_ambiguous;
        for (k, n) in other.transitions {
            *self.transitions.entry(k).or_default() += n;
        }
        for (h, t) in other.hospitals {
            let mine = self.hospitals.entry(h).or_default();
            mine.cases += t.cases;
            mine.weighted_old += t.weighted_old;
            mine.weighted_new += t.weighted_new;
            mine.weight_old += t.weight_old;
            mine.weight_new += t.weight_new;
        }
    }

    /// The summary so far.
    pub fn summary(&self) -> DiffSummary {
        self.summary
    }

    /// The transitions, most cases first (then by old and new group).
    pub fn transitions(&self) -> Vec<Transition> {
        let mut from_old: FxHashMap<&str, u64> = FxHashMap::default();
        for (&(old, _), &n) in &self.transitions {
            *from_old.entry(old).or_default() += n;
        }
        let all = self.summary.cases.max(1) as f64;
        let mut rows: Vec<Transition> = self
            .transitions
            .iter()
            .map(|(&(old, new), &cases)| Transition {
                old: old.to_string(),
                new: new.to_string(),
                cases,
                share_of_old: cases as f64 / from_old[old] as f64,
                share_of_all: cases as f64 / all,
            })
            .collect();
        rows.sort_by(|a, b| b.cases.cmp(&a.cases).then_with(|| a.old.cmp(&b.old)).then_with(|| a.new.cmp(&b.new)));
        rows
    }

    /// Every hospital's CMI under both packs, by hospital.
    pub fn hospitals(&self) -> Vec<HospitalCmi> {
        let sorted: BTreeMap<&String, &HospitalTally> = self.hospitals.iter().collect();
        sorted
            .into_iter()
            .map(|(h, t)| {
                let cmi = |sum: f64, n: u64| (n > 0).then(|| sum / n as f64);
                let (cmi_old, cmi_new) = (cmi(t.weight_old, t.weighted_old), cmi(t.weight_new, t.weighted_new));
                HospitalCmi {
                    hospital: h.clone(),
                    cases: t.cases,
                    weighted_old: t.weighted_old,
                    weighted_new: t.weighted_new,
                    cmi_old,
                    cmi_new,
                    change: cmi_old.zip(cmi_new).map(|(o, n)| n - o),
                }
            })
            .collect()
    }
}

/// What changed between two groupings of one case.
pub fn compare(old: &Grouping<'_>, new: &Grouping<'_>) -> CaseChange {
    let both_grouped = old.status == Status::Grouped && new.status == Status::Grouped;
    CaseChange {
        group_changed: old.group() != new.group(),
        mdc_changed: both_grouped && old.mdc != new.mdc,
        lost_group: old.status == Status::Grouped && new.status != Status::Grouped,
        became_ungroupable: old.status != Status::Ungroupable && new.status == Status::Ungroupable,
        became_ambiguous: old.status != Status::Ambiguous && new.status == Status::Ambiguous,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(status: Status, mdc: Option<&'static str>, drg: Option<&'static str>) -> Grouping<'static> {
        Grouping { status, mdc, adrg: None, drg }
    }

    #[test]
    fn transitions_shares_and_cmi() {
        let mut d = PackDiff::new();
        let a = g(Status::Grouped, Some("MDCG"), Some("GB15"));
        let b = g(Status::Grouped, Some("MDCG"), Some("GB13"));
        let c = g(Status::Grouped, Some("MDCH"), Some("HC25"));
        let u = g(Status::Ungroupable, None, None);
        assert_eq!(d.add("H1", &a, &b, Some(1.0), Some(1.5)), CaseChange { group_changed: true, ..Default::default() });
        d.add("H1", &a, &b, Some(1.0), Some(1.5));
        let change = d.add("H2", &a, &c, Some(1.0), None);
        assert!(change.mdc_changed && change.group_changed);
        let change = d.add("H2", &a, &u, Some(1.0), None);
        assert!(change.became_ungroupable && change.lost_group && !change.mdc_changed);
        let t = d.transitions();
        assert_eq!((t[0].old.as_str(), t[0].new.as_str(), t[0].cases), ("GB15", "GB13", 2));
        assert_eq!(t[0].share_of_old, 0.5);
        assert_eq!(t[2].new, "ungroupable");
        let h = d.hospitals();
        assert_eq!(h[0].cmi_old, Some(1.0));
        assert_eq!(h[0].cmi_new, Some(1.5));
        assert_eq!(h[0].change, Some(0.5));
        assert_eq!(h[1].cmi_new, None);
        let s = d.summary();
        assert_eq!((s.cases, s.group_changed, s.mdc_changed, s.became_ungroupable, s.lost_group), (4, 4, 1, 1, 1));
        let mut whole = PackDiff::new();
        whole.merge(d.clone());
        whole.merge(d);
        assert_eq!(whole.summary().cases, 8);
        assert_eq!(whole.transitions()[0].cases, 4);
    }
}
