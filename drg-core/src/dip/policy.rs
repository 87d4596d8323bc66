//! The DIP policy (specs/dip.md, "Inputs"), from TOML: `[dip]`, and
//! `[coefficients]` and `[settlement]` as in points.md.

use serde::Deserialize;

use crate::codes::normalize_code;
use crate::points::{self, CoefficientPolicy, PolicyError, SettlementPolicy, Trim};

/// The `[dip]` table. Every key is required but `ignore_procedures` and
/// `base_groups`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DipParams {
    /// A combination with at least this many history cases is a core group.
    pub core_min_cases: i64,
    /// A comprehensive group with fewer kept cases is not priced.
    pub comprehensive_min_cases: i64,
    /// How outlying costs are trimmed.
    pub trim: Trim,
    /// `k` of mean ± k·sd.
    pub trim_k: f64,
    /// Score of a group whose average cost equals the overall average.
    pub scale: f64,
    /// Adjust core groups by severity level (辅助目录).
    pub severity: bool,
    /// A severity level with fewer kept cases keeps coefficient 1.
    pub severity_min_cases: i64,
    /// 超高: cost ≥ high_ratio × the case's expected cost.
    pub high_ratio: f64,
    /// 超低: cost ≤ low_ratio × the case's expected cost.
    pub low_ratio: f64,
    /// An ungrouped case's points are its cost / overall average × scale ×
    /// this factor.
    pub ungrouped_factor: f64,
    /// Procedures never part of a combination (输液, 吸氧), normalised on load.
    #[serde(default)]
    pub ignore_procedures: Vec<String>,
    /// 基层病种: group codes paid alike at every hospital level.
    #[serde(default)]
    pub base_groups: Vec<String>,
}

/// Every parameter of DIP.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DipPolicy {
    /// `[dip]`.
    pub dip: DipParams,
    /// `[coefficients]`: the hospital coefficients.
    pub coefficients: CoefficientPolicy,
    /// `[settlement]`: the budget and how it is shared.
    pub settlement: SettlementPolicy,
}

impl DipPolicy {
    /// Reads a policy file.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<DipPolicy, PolicyError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| PolicyError { source_name: name.clone(), message: format!("cannot read: {e}") })?;
        DipPolicy::from_toml(&text, &name)
    }

    /// Reads a policy from TOML text; `source_name` names it in messages.
    pub fn from_toml(text: &str, source_name: &str) -> Result<DipPolicy, PolicyError> {
        let fail = |message: String| PolicyError { source_name: source_name.to_string(), message };
        let raw: toml::Table = toml::from_str(text).map_err(|e| fail(one_line(&e.to_string())))?;
        // The settlement's keys have defaults in points.md; a DIP policy names
        // them all (a budget of 0 by omission would settle nothing).
        for table in ["dip", "coefficients", "settlement"] {
            if !raw.contains_key(table) {
                return Err(fail(format!("missing table [{table}]")));
            }
        }
        if let Some(settlement) = raw.get("settlement").and_then(|v| v.as_table()) {
            for key in ["budget", "share_ratio", "prepay_ratio"] {
                if !settlement.contains_key(key) {
                    return Err(fail(format!("settlement.{key}: missing")));
                }
            }
        }
        if let Some(coefficients) = raw.get("coefficients").and_then(|v| v.as_table()) {
            if !coefficients.contains_key("level") {
                return Err(fail("coefficients.level: missing".into()));
            }
        }
        let mut policy: DipPolicy = toml::from_str(text).map_err(|e| fail(one_line(&e.to_string())))?;
        policy.validate().map_err(fail)?;
        policy.dip.ignore_procedures =
            policy.dip.ignore_procedures.iter().filter_map(|c| normalize_code(c).map(|c| c.into_owned())).collect();
        Ok(policy)
    }

    /// Checks the values the types cannot, naming the key.
    pub fn validate(&self) -> Result<(), String> {
        let d = &self.dip;
        for (key, v) in [
            ("dip.core_min_cases", d.core_min_cases),
            ("dip.comprehensive_min_cases", d.comprehensive_min_cases),
            ("dip.severity_min_cases", d.severity_min_cases),
        ] {
            if v < 1 {
                return Err(format!("{key}: {v} must be an integer of at least 1"));
            }
        }
        for (key, v) in [("dip.high_ratio", d.high_ratio), ("dip.low_ratio", d.low_ratio), ("dip.scale", d.scale)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{key}: {v} must be a number above 0"));
            }
        }
        if d.low_ratio >= d.high_ratio {
            return Err(format!("dip.low_ratio: {} must be below high_ratio ({})", d.low_ratio, d.high_ratio));
        }
        if !(d.trim_k.is_finite() && d.trim_k >= 1.0) {
            return Err(format!("dip.trim_k: {} must be at least 1", d.trim_k));
        }
        if !(d.ungrouped_factor.is_finite() && d.ungrouped_factor >= 0.0) {
            return Err(format!("dip.ungrouped_factor: {} must be 0 or more", d.ungrouped_factor));
        }
        // Coefficients and settlement: the checks of points.md.
        self.points_policy().validate()
    }

    /// The coefficient of a case in `group` at a hospital (dip.md §4): 1 for
    /// a base group; else the hospital's own; else its level's; else 1.
    pub fn coefficient(&self, group: &str, hospital: &str, level: Option<&str>) -> f64 {
        if self.dip.base_groups.iter().any(|g| g == group) {
            return 1.0;
        }
        self.coefficients.of(hospital, level)
    }

    /// A points policy with this policy's coefficients and settlement, for
    /// the steps DIP shares with DRG points (settlement, §5).
    pub fn points_policy(&self) -> points::Policy {
        points::Policy {
            coefficients: self.coefficients.clone(),
            settlement: self.settlement.clone(),
            ..points::Policy::default()
        }
    }
}

/// TOML errors span several lines (a source excerpt); keep them on one.
fn one_line(message: &str) -> String {
    message.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('|')).collect::<Vec<_>>().join(" ")
}
