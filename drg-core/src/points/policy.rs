//! The point-calculation policy (specs/points.md, "Policy"), from TOML.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A policy that cannot be used, naming the key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}: {message}")]
pub struct PolicyError {
    /// The file (or `policy`) the policy came from.
    pub source_name: String,
    /// What is wrong, naming the key.
    pub message: String,
}

/// How calibration trims outlying costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trim {
    /// Drop costs outside mean ± k·sd, per DRG.
    Sd,
    /// Keep every cost.
    None,
}

/// `[calibration]`: how base points are set from history.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CalibrationPolicy {
    /// How outlying costs are trimmed.
    pub trim: Trim,
    /// `k` of mean ± k·sd.
    pub trim_k: f64,
    /// A DRG with fewer kept cases is flagged `unstable` (still priced).
    pub min_cases: u64,
    /// Base points of a DRG whose average cost equals the overall average.
    pub scale: f64,
}

impl Default for CalibrationPolicy {
    fn default() -> Self {
        CalibrationPolicy { trim: Trim::Sd, trim_k: 3.0, min_cases: 5, scale: 100.0 }
    }
}

/// `[scoring]`: how a case's points are set.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoringPolicy {
    /// `[max base points, multiple]`, first match: a case whose cost is at
    /// least `multiple` times its DRG's average is a high case (高倍率).
    pub high_multiples: Vec<(f64, f64)>,
    /// At or below this share of the DRG average a case is a low case (低倍率).
    pub low_ratio: f64,
    /// An ungrouped case's points are its cost / overall average × scale ×
    /// this factor (points.md §2).
    pub ungrouped_factor: f64,
    /// DRGs paid alike everywhere (基础病组): coefficient 1.0.
    pub base_groups: Vec<String>,
}

impl Default for ScoringPolicy {
    fn default() -> Self {
        ScoringPolicy {
            high_multiples: vec![(100.0, 3.0), (300.0, 2.0), (1e308, 1.5)],
            low_ratio: 0.4,
            ungrouped_factor: 1.0,
            base_groups: Vec::new(),
        }
    }
}

/// `[coefficients]`: the hospital coefficients (医院系数).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CoefficientPolicy {
    /// By hospital level (`"1"`, `"2"`, `"3"`).
    pub level: BTreeMap<String, f64>,
    /// By hospital id; overrides the level.
    pub hospital: BTreeMap<String, f64>,
}

impl Default for CoefficientPolicy {
    fn default() -> Self {
        CoefficientPolicy {
            level: [("1", 0.85), ("2", 0.92), ("3", 1.0)].into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            hospital: BTreeMap::new(),
        }
    }
}

impl CoefficientPolicy {
    /// The coefficient of a hospital: its own if set; else its level's; else
    /// 1.0 (base groups are the caller's business: DRG and DIP name them apart).
    pub fn of(&self, hospital: &str, level: Option<&str>) -> f64 {
        if let Some(&c) = self.hospital.get(hospital) {
            return c;
        }
        level.and_then(|l| self.level.get(l.trim())).copied().unwrap_or(1.0)
    }
}

/// `[settlement]`: the budget and how it is shared.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SettlementPolicy {
    /// The fund's budget for the period, yuan.
    pub budget: f64,
    /// Hospitals keep / bear this share of the surplus / deficit.
    pub share_ratio: f64,
    /// Monthly pre-settlement pays this share of what is due.
    pub prepay_ratio: f64,
    /// Yuan per point for the monthly pre-settlement (specs/perdiem.md §4);
    /// 0: pre-pay by item cost (预拨 by claims).
    pub provisional_point_value: f64,
}

impl Default for SettlementPolicy {
    fn default() -> Self {
        SettlementPolicy { budget: 0.0, share_ratio: 0.85, prepay_ratio: 0.9, provisional_point_value: 0.0 }
    }
}

/// Per-diem care (按床日付费, specs/perdiem.md): the categories paid by the
/// bed-day rather than by DRG.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerDiemPolicy {
    /// Whether the hospital/level coefficient applies to per-diem cases.
    #[serde(default = "yes")]
    pub coefficients: bool,
    /// In order: the first category a case matches is its category.
    pub categories: Vec<PerDiemCategory>,
}

fn yes() -> bool {
    true
}

/// One per-diem category: which cases, and how their days are paid.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerDiemCategory {
    /// The category's code (written in case_points.csv's `drg`).
    pub code: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// The case's dept must be one of these (exact text); empty: any dept.
    #[serde(default)]
    pub depts: Vec<String>,
    /// Prefixes of the normalised principal diagnosis; empty: any.
    #[serde(default)]
    pub diagnoses: Vec<String>,
    /// `[last day, share]`, by ascending last day; the last covers every day.
    pub segments: Vec<(f64, f64)>,
}

/// The assessment (考核系数) applied in the year's clearing.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentPolicy {
    /// `[min score, coefficient]`, highest min first: the first whose min is
    /// at most the score gives the coefficient.
    pub thresholds: Vec<(f64, f64)>,
    /// The coefficient of a hospital without a score (or below every min).
    #[serde(default = "one")]
    pub default: f64,
}

fn one() -> f64 {
    1.0
}

impl AssessmentPolicy {
    /// The coefficient for a score (`None`: the hospital has none).
    pub fn coefficient(&self, score: Option<f64>) -> f64 {
        score
            .and_then(|s| self.thresholds.iter().find(|(min, _)| *min <= s).map(|(_, c)| *c))
            .unwrap_or(self.default)
    }
}

/// Every parameter of point calculation. Missing keys take the spec's defaults.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// `[calibration]`.
    pub calibration: CalibrationPolicy,
    /// `[scoring]`.
    pub scoring: ScoringPolicy,
    /// `[coefficients]`.
    pub coefficients: CoefficientPolicy,
    /// `[settlement]`.
    pub settlement: SettlementPolicy,
    /// Per-diem categories (specs/perdiem.md); `None`: no case is per-diem.
    pub perdiem: Option<PerDiemPolicy>,
    /// Assessment coefficients for the clearing; `None`: every coefficient is 1.
    pub assessment: Option<AssessmentPolicy>,
}

impl Policy {
    /// Reads a policy file.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Policy, PolicyError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| PolicyError { source_name: name.clone(), message: format!("cannot read: {e}") })?;
        Policy::from_toml(&text, &name)
    }

    /// Reads a policy from TOML text; `source_name` names it in messages.
    pub fn from_toml(text: &str, source_name: &str) -> Result<Policy, PolicyError> {
        let fail = |message: String| PolicyError { source_name: source_name.to_string(), message };
        let policy: Policy = toml::from_str(text).map_err(|e| fail(one_line(&e.to_string())))?;
        policy.validate().map_err(fail)?;
        Ok(policy)
    }

    /// Checks the values the types cannot: ranges and order.
    pub fn validate(&self) -> Result<(), String> {
        let finite = |key: &str, v: f64| -> Result<(), String> {
            if v.is_finite() { Ok(()) } else { Err(format!("{key}: {v} is not a finite number")) }
        };
        let non_negative = |key: &str, v: f64| -> Result<(), String> {
            finite(key, v)?;
            if v >= 0.0 { Ok(()) } else { Err(format!("{key}: {v} is negative")) }
        };
        let ratio = |key: &str, v: f64| -> Result<(), String> {
            if (0.0..=1.0).contains(&v) { Ok(()) } else { Err(format!("{key}: {v} is outside [0, 1]")) }
        };
        let c = &self.calibration;
        non_negative("calibration.trim_k", c.trim_k)?;
        finite("calibration.scale", c.scale)?;
        if c.scale <= 0.0 {
            return Err(format!("calibration.scale: {} must be above 0", c.scale));
        }
        let s = &self.scoring;
        if s.high_multiples.is_empty() {
            return Err("scoring.high_multiples: needs at least one [max, multiple] entry".into());
        }
        for (i, &(max, multiple)) in s.high_multiples.iter().enumerate() {
            if max.is_nan() {
                return Err(format!("scoring.high_multiples[{i}]: the max is not a number"));
            }
            non_negative(&format!("scoring.high_multiples[{i}] multiple"), multiple)?;
            if i > 0 && max <= s.high_multiples[i - 1].0 {
                return Err(format!(
                    "scoring.high_multiples: not sorted by max ({} after {})",
                    max,
                    s.high_multiples[i - 1].0
                ));
            }
        }
        ratio("scoring.low_ratio", s.low_ratio)?;
        non_negative("scoring.ungrouped_factor", s.ungrouped_factor)?;
        for (k, &v) in &self.coefficients.level {
            non_negative(&format!("coefficients.level.{k}"), v)?;
        }
        for (k, &v) in &self.coefficients.hospital {
            non_negative(&format!("coefficients.hospital.{k}"), v)?;
        }
        let t = &self.settlement;
        non_negative("settlement.budget", t.budget)?;
        ratio("settlement.share_ratio", t.share_ratio)?;
        ratio("settlement.prepay_ratio", t.prepay_ratio)?;
        non_negative("settlement.provisional_point_value", t.provisional_point_value)?;
        if let Some(perdiem) = &self.perdiem {
            validate_perdiem(perdiem)?;
        }
        if let Some(a) = &self.assessment {
            finite("assessment.default", a.default)?;
            if a.default <= 0.0 {
                return Err(format!("assessment.default: {} must be above 0", a.default));
            }
            if a.thresholds.is_empty() {
                return Err("assessment.thresholds: needs at least one [min score, coefficient] entry".into());
            }
            for (i, &(min, coef)) in a.thresholds.iter().enumerate() {
                finite(&format!("assessment.thresholds[{i}] min score"), min)?;
                finite(&format!("assessment.thresholds[{i}] coefficient"), coef)?;
                if coef <= 0.0 {
                    return Err(format!("assessment.thresholds[{i}]: the coefficient {coef} must be above 0"));
                }
                if i > 0 && min >= a.thresholds[i - 1].0 {
                    return Err(format!(
                        "assessment.thresholds: not sorted by strictly descending min score ({} after {})",
                        min,
                        a.thresholds[i - 1].0
                    ));
                }
            }
        }
        Ok(())
    }

    /// The hospital's own coefficient if set, else its level's, else 1.0
    /// (what per-diem cases get: base groups do not apply to them).
    pub fn hospital_coefficient(&self, hospital: &str, level: Option<&str>) -> f64 {
        self.coefficients.of(hospital, level)
    }

    /// The assessment coefficient of a hospital with this score: 1 without
    /// an `[assessment]` section.
    pub fn assessment_coefficient(&self, score: Option<f64>) -> f64 {
        self.assessment.as_ref().map_or(1.0, |a| a.coefficient(score))
    }

    /// The coefficient of a case: 1.0 for a base group; else the hospital's
    /// own; else its level's; else 1.0.
    pub fn coefficient(&self, drg: &str, hospital: &str, level: Option<&str>) -> f64 {
        if self.scoring.base_groups.iter().any(|g| g == drg) {
            return 1.0;
        }
        self.hospital_coefficient(hospital, level)
    }

    /// The high multiple for a DRG with these base points: that of the first
    /// `high_multiples` entry whose max is at least `base_points`; `None`
    /// (no high case possible) when no entry reaches it.
    pub fn high_multiple(&self, base_points: f64) -> Option<f64> {
        self.scoring.high_multiples.iter().find(|(max, _)| *max >= base_points).map(|(_, m)| *m)
    }
}

/// The last day of a segment that covers every day from there on.
const EVERY_DAY: f64 = 1e300;

fn validate_perdiem(perdiem: &PerDiemPolicy) -> Result<(), String> {
    if perdiem.categories.is_empty() {
        return Err("perdiem.categories: needs at least one category".into());
    }
    let mut codes = std::collections::BTreeSet::new();
    for (i, k) in perdiem.categories.iter().enumerate() {
        let key = format!("perdiem.categories[{i}]");
        let code = k.code.trim();
        if code.is_empty() {
            return Err(format!("{key}.code: empty"));
        }
        if !codes.insert(code) {
            return Err(format!("{key}.code: {code} is listed twice"));
        }
        if k.depts.iter().all(|d| d.trim().is_empty()) && k.diagnoses.iter().all(|d| d.trim().is_empty()) {
            return Err(format!("{key} ({code}): needs depts or diagnoses (a category matching every case would take them all)"));
        }
        if k.segments.is_empty() {
            return Err(format!("{key}.segments ({code}): needs at least one [last day, share] entry"));
        }
        for (j, &(last, share)) in k.segments.iter().enumerate() {
            if last.is_nan() || last < 1.0 {
                return Err(format!("{key}.segments[{j}] ({code}): the last day {last} is not a day"));
            }
            if !(share > 0.0 && share <= 1.0) {
                return Err(format!("{key}.segments[{j}] ({code}): the share {share} is outside (0, 1]"));
            }
            if j > 0 && last <= k.segments[j - 1].0 {
                return Err(format!(
                    "{key}.segments ({code}): last days not strictly ascending ({} after {})",
                    last,
                    k.segments[j - 1].0
                ));
            }
        }
        let last = k.segments[k.segments.len() - 1].0;
        if last < EVERY_DAY {
            return Err(format!(
                "{key}.segments ({code}): the last segment ends at day {last}; it must cover every day (a last day of at least 1e300, such as 1e308)"
            ));
        }
    }
    Ok(())
}

/// TOML errors span several lines (a source excerpt); keep them on one.
fn one_line(message: &str) -> String {
    message.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('|')).collect::<Vec<_>>().join(" ")
}
