//! DIP, 按病种分值付费 (specs/dip.md): disease groups found in a region's own
//! history (principal diagnosis × procedures), their scores, grouping and
//! scoring a case, and settlement of a period's budget.
//!
//! What DIP shares with DRG points is taken from [`crate::points`]: cost
//! trimming ([`points::trim_range`]), hospital coefficients
//! ([`points::CoefficientPolicy`]), settlement ([`points::Ledger`])
//! and rounding ([`points::fixed`]).
//!
//! ```
//! use std::sync::Arc;
//! use drg_core::dip::{CatalogueBuilder, Dip, DipPolicy, DipStatus, KeyMaker};
//! use drg_core::{Case, Pack, Sex};
//!
//! let policy = DipPolicy::from_toml(r#"
//!     [dip]
//!     core_min_cases = 2
//!     comprehensive_min_cases = 1
//!     trim = "none"
//!     trim_k = 3.0
//!     scale = 1000.0
//!     severity = false
//!     severity_min_cases = 5
//!     high_ratio = 2.0
//!     low_ratio = 0.5
//!     ungrouped_factor = 1.0
//!     [coefficients]
//!     level = { "3" = 1.0 }
//!     [settlement]
//!     budget = 0.0
//!     share_ratio = 0.85
//!     prepay_ratio = 0.9
//! "#, "policy").unwrap();
//! let case = |id: &str, cost: f64| Case {
//!     id: id.into(), sex: Some(Sex::Male), age_years: Some(30), total_cost: Some(cost),
//!     diagnoses: vec!["K35.800x001".into()], procedures: vec!["47.0901".into()],
//!     ..Case::default()
//! };
//! let keys = KeyMaker::new(Arc::new(Pack::demo()), &policy);
//! let mut builder = CatalogueBuilder::new(&policy);
//! for (id, cost) in [("h1", 8000.0), ("h2", 12000.0)] {
//!     builder.add(&keys.keys(&case(id, cost)).unwrap(), cost);
//! }
//! let dip = Dip::new(policy, keys, builder.finish().unwrap());
//! let grouping = dip.group(&case("p1", 11000.0));
//! assert_eq!(grouping.status, DipStatus::Core);
//! assert_eq!(grouping.group.unwrap().code, "K35.8:47.0901");
//! ```

mod catalogue;
mod policy;
mod report;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

use crate::case::Case;
use crate::codes::{for_message, normalize_code};
use crate::pack::{CcLevel, CodeId, ListId, Pack, IN_DX_VOCAB, IN_PROC_VOCAB, OR_PROCEDURES};
use crate::points::{self, Category, PolicyError};

pub use catalogue::{read_catalogue_csv, Catalogue, CatalogueBuilder, CatalogueError, DipGroup, GroupKind, Overall};
pub use policy::{DipParams, DipPolicy};
pub use report::{catalogue_csv, case_points_header, groups_header, write_case_points_row, write_groups_row};

/// How a case was treated: the third part of a comprehensive key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Treatment {
    /// 保守治疗: no procedure.
    Conservative,
    /// 操作: procedures, none of them an operating-room procedure.
    Procedure,
    /// 手术: an operating-room procedure (the pack's `$or_procedures`).
    Surgery,
}

impl Treatment {
    /// `C`, `P` or `S`.
    pub fn as_str(self) -> &'static str {
        match self {
            Treatment::Conservative => "C",
            Treatment::Procedure => "P",
            Treatment::Surgery => "S",
        }
    }
}

/// The keys of a case (dip.md §1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseKeys {
    /// 亚目 of the principal diagnosis (`K35.8`).
    pub dx4: String,
    /// 类目 (`K35`).
    pub dx3: String,
    /// The procedures that count: normalised, without the ignored ones,
    /// without duplicates, sorted by byte order.
    pub procs: Vec<String>,
    /// How the case was treated: conservative, procedure or surgery.
    pub treatment: Treatment,
    /// 2 with an MCC, 1 with a CC, else 0.
    pub severity: u8,
    /// The secondary diagnosis that set the severity (none at level 0).
    pub severity_from: Option<String>,
    /// `K35.8`, or `K35.8:47.0901+…`.
    pub core_key: String,
    /// `K35#S`.
    pub comprehensive_key: String,
    /// Codes outside the pack's vocabularies (they still take part).
    pub warnings: Vec<String>,
}

/// Turns cases into their keys with a pack and a policy's
/// `ignore_procedures`. `Send + Sync`: share one between threads.
#[derive(Clone, Debug)]
pub struct KeyMaker {
    pack: Arc<Pack>,
    ignore: Vec<String>,
    or_list: Option<ListId>,
}

impl KeyMaker {
    /// Keys with this pack and the policy's `ignore_procedures`.
    pub fn new(pack: Arc<Pack>, policy: &DipPolicy) -> Self {
        let or_list = pack.lists.names.iter().position(|n| &**n == OR_PROCEDURES).map(|i| ListId(i as u32));
        KeyMaker { pack, ignore: policy.dip.ignore_procedures.clone(), or_list }
    }

    /// The pack it reads codes with.
    pub fn pack(&self) -> &Pack {
        &self.pack
    }

    /// The keys of a case, or why it is invalid (specs/cases.md, "Validation").
    pub fn keys(&self, case: &Case) -> Result<CaseKeys, String> {
        let pack = &*self.pack;
        let mut warnings = Vec::new();
        let mut dx: Vec<(std::borrow::Cow<'_, str>, Option<CodeId>)> = Vec::with_capacity(case.diagnoses.len());
        for raw in &case.diagnoses {
            let Some(code) = normalize_code(raw) else { continue };
            let id = pack.codes.id(&code);
            if id.map_or(true, |id| pack.codes.vocab_flags(id) & IN_DX_VOCAB == 0) {
                warnings.push(format!("unknown diagnosis code {}", for_message(&code)));
            }
            dx.push((code, id));
        }
        if let Some(problems) = crate::grouper::validate(case, dx.len()) {
            return Err(problems);
        }
        let mut procs: Vec<String> = Vec::with_capacity(case.procedures.len());
        let mut treatment = Treatment::Conservative;
        for raw in &case.procedures {
            let Some(code) = normalize_code(raw) else { continue };
            let id = pack.codes.id(&code);
            if id.map_or(true, |id| pack.codes.vocab_flags(id) & IN_PROC_VOCAB == 0) {
                warnings.push(format!("unknown procedure code {}", for_message(&code)));
            }
            if self.ignore.iter().any(|i| *i == *code) {
                continue;
            }
            treatment = treatment.max(Treatment::Procedure);
            if let (Some(list), Some(id)) = (self.or_list, id) {
                if pack.lists.contains(list, id) {
                    treatment = Treatment::Surgery;
                }
            }
            procs.push(code.into_owned());
        }
        procs.sort_unstable();
        procs.dedup();

        let principal = &dx[0].0;
        let stem = principal.split('+').next().unwrap_or("");
        let stem = stem.strip_suffix('*').unwrap_or(stem);
        let prefix = |n: usize| stem.char_indices().nth(n).map_or(stem, |(i, _)| &stem[..i]).to_string();
        let (dx4, dx3) = (prefix(5), prefix(3));

        // has_mcc / has_cc of rulepack.md: the first secondary diagnosis with
        // an entry of that level whose table the principal does not exclude.
        let excluded = dx[0].1.map_or(&[][..], |p| pack.exclusions.get(p));
        let complication = |level: CcLevel| {
            dx.iter().skip(1).find(|(_, id)| {
                id.is_some_and(|id| pack.cc.get(id).iter().any(|e| e.level == level && !excluded.contains(&e.table)))
            })
        };
        let (severity, severity_from) = match complication(CcLevel::Mcc) {
            Some((code, _)) => (2, Some(code.to_string())),
            None => match complication(CcLevel::Cc) {
                Some((code, _)) => (1, Some(code.to_string())),
                None => (0, None),
            },
        };
        let core_key = if procs.is_empty() { dx4.clone() } else { format!("{dx4}:{}", procs.join("+")) };
        let comprehensive_key = format!("{dx3}#{}", treatment.as_str());
        Ok(CaseKeys { dx4, dx3, procs, treatment, severity, severity_from, core_key, comprehensive_key, warnings })
    }
}

/// How a case was grouped (dip.md §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DipStatus {
    /// Its combination is a core group.
    Core,
    /// Its combination is not, and its comprehensive group is priced.
    Comprehensive,
    /// Neither is in the catalogue.
    Ungrouped,
    /// The case lacks what grouping needs (specs/cases.md).
    Invalid,
}

impl DipStatus {
    /// `core`, `comprehensive`, `ungrouped` or `invalid`.
    pub fn as_str(self) -> &'static str {
        match self {
            DipStatus::Core => "core",
            DipStatus::Comprehensive => "comprehensive",
            DipStatus::Ungrouped => "ungrouped",
            DipStatus::Invalid => "invalid",
        }
    }
}

impl fmt::Display for DipStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The DIP group of one case.
#[derive(Clone, Debug, PartialEq)]
pub struct DipGrouping<'c> {
    /// Core, comprehensive, ungrouped or invalid.
    pub status: DipStatus,
    /// The catalogue's group (core or comprehensive); `None` otherwise.
    pub group: Option<&'c DipGroup>,
    /// `None` only for an invalid case.
    pub severity: Option<u8>,
    /// Why a case is invalid.
    pub reason: Option<String>,
    /// The case's keys (`None` when invalid).
    pub keys: Option<CaseKeys>,
}

impl DipGrouping<'_> {
    /// An `invalid` grouping for a row that could not even be read.
    pub fn invalid(reason: impl Into<String>) -> Self {
        DipGrouping { status: DipStatus::Invalid, group: None, severity: None, reason: Some(reason.into()), keys: None }
    }

    /// The group's code, empty without one.
    pub fn group_code(&self) -> &str {
        self.group.map_or("", |g| g.code.as_str())
    }

    /// Codes outside the pack's vocabularies.
    pub fn warnings(&self) -> &[String] {
        self.keys.as_ref().map_or(&[][..], |k| &k.warnings)
    }
}

/// The points of one case (dip.md §4).
#[derive(Clone, Debug, PartialEq)]
pub struct DipScore {
    /// How the case was priced.
    pub category: Category,
    /// The adjusted score s = score × coef_severity (0 when ungrouped).
    pub score: f64,
    /// The hospital coefficient (1 when ungrouped), printed even for `low`.
    pub coef: f64,
    /// cost / expected cost (`None` when ungrouped).
    pub ratio: Option<f64>,
    /// The case's points.
    pub points: f64,
}

/// Grouping and scoring with a catalogue: the policy, the keys and the
/// catalogue together. `Send + Sync`: share one between threads.
#[derive(Clone, Debug)]
pub struct Dip {
    /// The DIP policy.
    pub policy: DipPolicy,
    /// How cases become keys.
    pub keys: KeyMaker,
    /// The priced groups.
    pub catalogue: Catalogue,
}

/// A step that cannot be done at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DipError {
    /// No catalogue can be built from the history.
    #[error("the history has no priced group (no valid case with a total_cost above 0, or every group too small): no catalogue can be built")]
    EmptyHistory,
    /// No point value can be set.
    #[error("the period's cases have no points: no point value can be set")]
    NoPoints,
    /// A sum of the settlement is not a finite number (points.md §3 refuses it).
    #[error("{0}")]
    Settlement(String),
    /// A DIP policy that cannot be used (the file is a field).
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

impl Dip {
    /// Grouping and scoring with this catalogue.
    pub fn new(policy: DipPolicy, keys: KeyMaker, catalogue: Catalogue) -> Self {
        Dip { policy, keys, catalogue }
    }

    /// Groups a case into the catalogue.
    pub fn group(&self, case: &Case) -> DipGrouping<'_> {
        match self.keys.keys(case) {
            Err(reason) => DipGrouping::invalid(reason),
            Ok(keys) => self.group_keys(keys),
        }
    }

    /// Groups a case whose keys are known.
    pub fn group_keys(&self, keys: CaseKeys) -> DipGrouping<'_> {
        let groups = &self.catalogue.groups;
        let (status, group) = match groups.get(&keys.core_key).filter(|g| g.kind == GroupKind::Core) {
            Some(g) => (DipStatus::Core, Some(g)),
            None => match groups.get(&keys.comprehensive_key) {
                Some(g) => (DipStatus::Comprehensive, Some(g)),
                None => (DipStatus::Ungrouped, None),
            },
        };
        DipGrouping { status, group, severity: Some(keys.severity), reason: None, keys: Some(keys) }
    }

    /// The points of a grouped case with total cost `cost` (> 0) at a
    /// hospital (dip.md §4).
    pub fn score(&self, grouping: &DipGrouping<'_>, hospital: &str, level: Option<&str>, cost: f64) -> DipScore {
        let d = &self.policy.dip;
        let Some(group) = grouping.group else {
            return DipScore {
                category: Category::Ungrouped,
                score: 0.0,
                coef: 1.0,
                ratio: None,
                points: cost / self.catalogue.overall.avg_cost * d.scale * d.ungrouped_factor,
            };
        };
        let severity = grouping.severity.unwrap_or(0).min(2) as usize;
        let s = group.score * group.coef[severity];
        let expected = group.avg_cost * group.coef[severity];
        let ratio = cost / expected;
        let coef = self.policy.coefficient(&group.code, hospital, level);
        let (category, points) = if ratio >= d.high_ratio {
            (Category::High, s * coef + s * (ratio - d.high_ratio))
        } else if ratio <= d.low_ratio {
            (Category::Low, s * ratio)
        } else {
            (Category::Normal, s * coef)
        };
        DipScore { category, score: s, coef, ratio: Some(ratio), points }
    }

    /// Groups and scores a case: `None` for the score when its total cost is
    /// missing or not above 0 (it then takes no part in settlement).
    pub fn group_and_score(&self, case: &Case) -> (DipGrouping<'_>, Option<DipScore>) {
        let grouping = self.group(case);
        let score = match case.total_cost {
            Some(cost) if cost > 0.0 && cost.is_finite() => Some(self.score(
                &grouping,
                case.hospital.as_deref().unwrap_or(""),
                case.hospital_level.as_deref(),
                cost,
            )),
            _ => None,
        };
        (grouping, score)
    }

    /// Why a case fell where it did, in words (and the numbers behind it).
    pub fn explain(&self, case: &Case) -> Explanation {
        let (grouping, score) = self.group_and_score(case);
        let mut lines = Vec::new();
        match &grouping.keys {
            None => lines.push(format!("invalid case: {}", grouping.reason.as_deref().unwrap_or(""))),
            Some(k) => {
                lines.push(format!("principal diagnosis 亚目 (dx4) {}, 类目 (dx3) {}", k.dx4, k.dx3));
                if k.procs.is_empty() {
                    lines.push("procedures: none that count".to_string());
                } else {
                    lines.push(format!("procedures (sorted, without ignored ones): {}", k.procs.join("+")));
                }
                lines.push(format!("treatment {} ({})", k.treatment.as_str(), match k.treatment {
                    Treatment::Surgery => "手术: an operating-room procedure",
                    Treatment::Procedure => "操作: procedures, none in the operating-room list",
                    Treatment::Conservative => "保守治疗: no procedure",
                }));
                lines.push(format!("core key {}, comprehensive key {}", k.core_key, k.comprehensive_key));
                let core = self.catalogue.groups.get(&k.core_key).filter(|g| g.kind == GroupKind::Core);
                match grouping.status {
                    DipStatus::Core => lines.push(format!("core group {}: its combination is in the catalogue", k.core_key)),
                    DipStatus::Comprehensive => lines.push(format!(
                        "comprehensive group {}: combination {} is no core group (too rare in the history: fewer than {} cases)",
                        k.comprehensive_key, k.core_key, self.policy.dip.core_min_cases
                    )),
                    _ => lines.push(format!(
                        "ungrouped: combination {} is no core group and comprehensive group {} is not priced",
                        k.core_key, k.comprehensive_key
                    )),
                }
                debug_assert!(core.is_some() == (grouping.status == DipStatus::Core));
                match &k.severity_from {
                    Some(code) => lines.push(format!(
                        "severity {}: secondary diagnosis {code} is {}, not excluded by the principal diagnosis",
                        k.severity,
                        if k.severity == 2 { "an MCC" } else { "a CC" }
                    )),
                    None => lines.push("severity 0: no secondary diagnosis is a CC or MCC (or every one is excluded)".into()),
                }
                if let Some(g) = grouping.group {
                    let l = k.severity as usize;
                    lines.push(format!(
                        "group score {}, severity coefficient {}, adjusted score {}, expected cost {}",
                        points::fixed(g.score, 4),
                        points::fixed(g.coef[l], 4),
                        points::fixed(g.score * g.coef[l], 4),
                        points::fixed(g.avg_cost * g.coef[l], 2)
                    ));
                }
            }
        }
        match &score {
            Some(s) => lines.push(format!(
                "category {}{}, coefficient {}, points {}",
                s.category.as_str(),
                s.ratio.map(|r| format!(" (cost / expected = {})", points::fixed(r, 4))).unwrap_or_default(),
                points::fixed(s.coef, 4),
                points::fixed(s.points, 4)
            )),
            None => lines.push("no points: total_cost missing or not above 0".into()),
        }
        Explanation {
            status: grouping.status,
            group: grouping.group.map(|g| g.code.clone()),
            severity: grouping.severity,
            reason: grouping.reason.clone(),
            keys: grouping.keys.clone(),
            score,
            lines,
        }
    }

    /// Warnings about the policy against this catalogue: `base_groups`
    /// entries that are no group of it.
    pub fn warnings(&self) -> Vec<String> {
        self.policy
            .dip
            .base_groups
            .iter()
            .filter(|g| !self.catalogue.groups.contains_key(*g))
            .map(|g| format!("base_groups: {g} is no group of the catalogue"))
            .collect()
    }
}

/// What [`Dip::explain`] says of a case.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    /// Core, comprehensive, ungrouped or invalid.
    pub status: DipStatus,
    /// The group's code, when it has one.
    pub group: Option<String>,
    /// The severity level (0, 1, 2), unless invalid.
    pub severity: Option<u8>,
    /// Why a case is invalid.
    pub reason: Option<String>,
    /// The case's keys (`None` when invalid).
    pub keys: Option<CaseKeys>,
    /// Its points, when it had a cost to score.
    pub score: Option<DipScore>,
    /// One line per step, for a coder to read.
    pub lines: Vec<String>,
}

impl Explanation {
    /// As a JSON object.
    pub fn to_json(&self, id: &str) -> serde_json::Value {
        let keys = self.keys.as_ref().map(|k| {
            serde_json::json!({
                "dx4": k.dx4, "dx3": k.dx3, "procedures": k.procs, "treatment": k.treatment.as_str(),
                "core_key": k.core_key, "comprehensive_key": k.comprehensive_key,
                "severity_from": k.severity_from, "warnings": k.warnings,
            })
        });
        let score = self.score.as_ref().map(|s| {
            serde_json::json!({"category": s.category.as_str(), "score": s.score, "coef": s.coef, "ratio": s.ratio, "points": s.points})
        });
        serde_json::json!({
            "id": id, "status": self.status.as_str(), "group": self.group, "severity": self.severity,
            "reason": self.reason, "keys": keys, "score": score, "explain": self.lines,
        })
    }
}

/// Settles a period's scored cases (dip.md §5 = points.md §3): one
/// `(hospital, total_cost, self_pay, points)` per scored case.
pub fn settle<'a>(
    policy: &DipPolicy,
    scored: impl IntoIterator<Item = (&'a str, f64, f64, f64)>,
) -> Result<points::Settlement, DipError> {
    let mut ledger = DipLedger::default();
    for (hospital, total_cost, self_pay, points) in scored {
        ledger.add(hospital, total_cost, self_pay, points);
    }
    ledger.settle(policy)
}

/// A period's settlement gathered case by case, so that `drg dip run` can
/// stream the period: the points ledger every payment scheme settles
/// through, with no assessment coefficient (dip.md §5).
#[derive(Debug, Default)]
pub struct DipLedger(points::Ledger);

impl DipLedger {
    /// Adds one scored case.
    pub fn add(&mut self, hospital: &str, total_cost: f64, self_pay: f64, points: f64) {
        self.0.add(&points::SettlementItem { hospital, points, total_cost, self_pay, month: None });
    }

    /// The settlement of the cases added.
    pub fn settle(&self, policy: &DipPolicy) -> Result<points::Settlement, DipError> {
        match self.0.settle_by(&policy.settlement, &points::AssessmentScores::default(), |_| 1.0) {
            Ok(year) => Ok(year.settlement),
            Err(points::PointsError::NoPoints) => Err(DipError::NoPoints),
            Err(e) => Err(DipError::Settlement(e.to_string())),
        }
    }
}
