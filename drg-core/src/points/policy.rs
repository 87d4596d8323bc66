//! The point-calculation policy (specs/points.md, "Policy"), from TOML.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A policy that cannot be used, naming the key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}: {message}")]
pub struct PolicyError {
    /// The file (or `policy`) the policy came from.
    pub source_name: String,
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

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CalibrationPolicy {
    pub trim: Trim,
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

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoringPolicy {
    /// `[max base points, multiple]`, first match: a case whose cost is at
    /// least `multiple` times its DRG's average is a high case (高倍率).
    pub high_multiples: Vec<(f64, f64)>,
    /// At or below this share of the DRG average a case is a low case (低倍率).
    pub low_ratio: f64,
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

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SettlementPolicy {
    /// The fund's budget for the period, yuan.
    pub budget: f64,
    /// Hospitals keep / bear this share of the surplus / deficit.
    pub share_ratio: f64,
    /// Monthly pre-settlement pays this share of what is due.
    pub prepay_ratio: f64,
}

impl Default for SettlementPolicy {
    fn default() -> Self {
        SettlementPolicy { budget: 0.0, share_ratio: 0.85, prepay_ratio: 0.9 }
    }
}

/// Every parameter of point calculation. Missing keys take the spec's defaults.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    pub calibration: CalibrationPolicy,
    pub scoring: ScoringPolicy,
    pub coefficients: CoefficientPolicy,
    pub settlement: SettlementPolicy,
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
        Ok(())
    }

    /// The coefficient of a case: 1.0 for a base group; else the hospital's
    /// own; else its level's; else 1.0.
    pub fn coefficient(&self, drg: &str, hospital: &str, level: Option<&str>) -> f64 {
        if self.scoring.base_groups.iter().any(|g| g == drg) {
            return 1.0;
        }
        self.coefficients.of(hospital, level)
    }

    /// The high multiple for a DRG with these base points: that of the first
    /// `high_multiples` entry whose max is at least `base_points`; `None`
    /// (no high case possible) when no entry reaches it.
    pub fn high_multiple(&self, base_points: f64) -> Option<f64> {
        self.scoring.high_multiples.iter().find(|(max, _)| *max >= base_points).map(|(_, m)| *m)
    }
}

/// TOML errors span several lines (a source excerpt); keep them on one.
fn one_line(message: &str) -> String {
    message.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('|')).collect::<Vec<_>>().join(" ")
}
