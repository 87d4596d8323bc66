//! Per-diem care (按床日付费, specs/perdiem.md §1–3): which cases are paid by
//! the bed-day, the bed-day points of each category from history, and the
//! points of a per-diem case.

use std::borrow::Cow;

use super::policy::{PerDiemCategory, PerDiemPolicy};
use super::{CaseScore, Category, Policy, PointsCase, Skip, Weights};
use crate::codes::normalize_code;

/// Whether `c` is a Unicode format character (general category Cf:
/// zero-width spaces and joiners, the BOM, bidirectional marks and
/// isolates, …), which cases.md removes from codes and perdiem.md from
/// departments.
pub fn is_format_char(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2 | 0x180E
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF
        | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F)
}

/// `text` without Unicode format characters, spaces trimmed.
pub fn clean_text(text: &str) -> Cow<'_, str> {
    let trimmed = text.trim();
    // Format characters are never ASCII: the common case costs one pass.
    if !trimmed.is_ascii() && trimmed.chars().any(is_format_char) {
        Cow::Owned(trimmed.chars().filter(|&c| !is_format_char(c)).collect::<String>().trim().to_string())
    } else {
        Cow::Borrowed(trimmed)
    }
}

fn is_code_separator(c: char) -> bool {
    matches!(c, '|' | ',' | ';' | '、' | '｜' | '，' | '；')
}

/// A code normalised as cases.md says, format characters removed.
fn normalized(raw: &str) -> Option<Cow<'_, str>> {
    let code = normalize_code(raw)?;
    if !code.is_ascii() && code.chars().any(is_format_char) {
        let clean: String = code.chars().filter(|&c| !is_format_char(c)).collect();
        return normalize_code(&clean).map(|c| Cow::Owned(c.into_owned()));
    }
    Some(code)
}

/// The principal diagnosis of a `diagnoses` field: the first code left after
/// cases.md's normalisation.
///
/// ```
/// use drg_core::points::principal_diagnosis;
/// assert_eq!(principal_diagnosis(" - |f20.000、I10").as_deref(), Some("F20.000"));
/// assert_eq!(principal_diagnosis(""), None);
/// ```
pub fn principal_diagnosis(diagnoses: &str) -> Option<Cow<'_, str>> {
    diagnoses.split(is_code_separator).find_map(normalized)
}

/// What of a case decides whether it is per-diem.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CareFacts<'a> {
    /// The case's `status` is `invalid`.
    pub invalid: bool,
    /// Length of stay in days.
    pub los_days: Option<i64>,
    /// The discharging department.
    pub dept: Option<&'a str>,
    /// The `diagnoses` field (its first code is the principal diagnosis).
    pub diagnoses: Option<&'a str>,
}

/// A case's per-diem category and its stay, as scoring needs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerDiemStay {
    /// Index into the policy's `perdiem.categories`.
    pub category: usize,
    /// Its length of stay in days.
    pub los_days: i64,
}

/// Why a case matched its category.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PerDiemMatch {
    /// The category and the stay.
    pub stay: PerDiemStay,
    /// The category's code.
    pub code: String,
    /// The dept that matched (`None`: the category takes any dept).
    pub by_dept: Option<String>,
    /// The diagnosis prefix that matched (`None`: any diagnosis).
    pub by_diagnosis: Option<String>,
}

impl PerDiemMatch {
    /// One line for people: the category and what matched it.
    pub fn describe(&self) -> String {
        let dept = match &self.by_dept {
            Some(d) => format!("dept {d}"),
            None => "any dept".to_string(),
        };
        let dx = match &self.by_diagnosis {
            Some(p) => format!("principal diagnosis starting with {p}"),
            None => "any diagnosis".to_string(),
        };
        format!("per-diem category {} ({dept}, {dx}), {} days", self.code, self.stay.los_days)
    }
}

fn dept_matches<'k>(k: &'k PerDiemCategory, dept: &str) -> Option<Option<&'k str>> {
    if k.depts.is_empty() {
        return Some(None);
    }
    k.depts.iter().find(|d| d.as_str() == dept || d.trim() == dept).map(|d| Some(d.as_str()))
}

/// [`diagnosis_matches`] without allocating.
fn diagnosis_prefix_matches(k: &PerDiemCategory, principal: Option<&str>) -> bool {
    k.diagnoses.is_empty()
        || principal.is_some_and(|p| k.diagnoses.iter().any(|x| normalized(x).is_some_and(|x| p.starts_with(x.as_ref()))))
}

fn diagnosis_matches(k: &PerDiemCategory, principal: Option<&str>) -> Option<Option<String>> {
    if k.diagnoses.is_empty() {
        return Some(None);
    }
    let principal = principal?;
    k.diagnoses.iter().find_map(|p| {
        let prefix = normalized(p)?;
        principal.starts_with(prefix.as_ref()).then(|| Some(prefix.into_owned()))
    })
}

impl PerDiemPolicy {
    /// The first category the case matches (§1), without saying by what:
    /// what scoring needs, without allocating.
    pub fn stay(&self, facts: &CareFacts<'_>) -> Option<PerDiemStay> {
        let los = facts.los_days.filter(|&d| d >= 1)?;
        if facts.invalid {
            return None;
        }
        let dept = clean_text(facts.dept.unwrap_or(""));
        let principal = facts.diagnoses.and_then(principal_diagnosis);
        let principal = principal.as_deref();
        let category = self.categories.iter().position(|k| {
            dept_matches(k, &dept).is_some() && diagnosis_prefix_matches(k, principal)
        })?;
        Some(PerDiemStay { category, los_days: los })
    }

    /// The first category the case matches (§1), and by what.
    pub fn classify(&self, facts: &CareFacts<'_>) -> Option<PerDiemMatch> {
        let stay = self.stay(facts)?;
        let k = &self.categories[stay.category];
        let dept = clean_text(facts.dept.unwrap_or(""));
        let principal = facts.diagnoses.and_then(principal_diagnosis);
        Some(PerDiemMatch {
            stay,
            code: k.code.clone(),
            by_dept: dept_matches(k, &dept).flatten().map(String::from),
            by_diagnosis: diagnosis_matches(k, principal.as_deref()).flatten(),
        })
    }

    /// Why a case is or is not per-diem, one line per reason (for `explain`).
    pub fn explain(&self, facts: &CareFacts<'_>) -> Vec<String> {
        if let Some(m) = self.classify(facts) {
            return vec![format!("{}: paid by the bed-day, not by DRG", m.describe())];
        }
        if facts.invalid {
            return vec!["not per-diem: the case is invalid".into()];
        }
        match facts.los_days {
            None => return vec!["not per-diem: los_days is missing".into()],
            Some(d) if d < 1 => return vec![format!("not per-diem: los_days {d} is below 1")],
            _ => {}
        }
        let dept = clean_text(facts.dept.unwrap_or(""));
        let principal = facts.diagnoses.and_then(principal_diagnosis);
        let mut lines = Vec::new();
        for k in &self.categories {
            let mut why = Vec::new();
            if dept_matches(k, &dept).is_none() {
                why.push(if dept.is_empty() {
                    format!("no dept (needs one of {})", k.depts.join(", "))
                } else {
                    format!("dept {dept} is not one of {}", k.depts.join(", "))
                });
            }
            if diagnosis_matches(k, principal.as_deref()).is_none() {
                why.push(match principal.as_deref() {
                    Some(p) => format!("principal diagnosis {p} starts with none of {}", k.diagnoses.join(", ")),
                    None => format!("no principal diagnosis (needs one starting with {})", k.diagnoses.join(", ")),
                });
            }
            lines.push(format!("not per-diem category {}: {}", k.code, why.join("; ")));
        }
        lines
    }
}

impl Policy {
    /// The case's per-diem category (§1), `None` when it is a DRG case or the
    /// policy has no `[perdiem]`.
    pub fn perdiem_match(&self, facts: &CareFacts<'_>) -> Option<PerDiemMatch> {
        self.perdiem.as_ref()?.classify(facts)
    }

    /// [`Policy::perdiem_match`] without the explanation: what scoring needs.
    pub fn perdiem_stay(&self, facts: &CareFacts<'_>) -> Option<PerDiemStay> {
        self.perdiem.as_ref()?.stay(facts)
    }
}

/// The paid days of a stay (§3): each day counted at its segment's share.
///
/// ```
/// use drg_core::points::paid_days;
/// assert_eq!(paid_days(&[(60.0, 1.0), (180.0, 0.85), (1e308, 0.7)], 200), 176.0);
/// ```
pub fn paid_days(segments: &[(f64, f64)], los_days: i64) -> f64 {
    let los = los_days.max(0) as f64;
    let (mut paid, mut start) = (0.0, 0.0);
    for &(last, share) in segments {
        if los <= start {
            break;
        }
        paid += (los.min(last) - start) * share;
        start = last;
    }
    paid
}

/// The calibration of one per-diem category (a row of perdiem.csv).
#[derive(Clone, Debug, PartialEq)]
pub struct PerDiemRate {
    /// The category's code.
    pub category: String,
    /// Its name.
    pub name: String,
    /// History cases of the category with a cost above 0.
    pub n: u64,
    /// Cases kept after trimming their daily costs.
    pub kept: u64,
    /// Σ los of the kept cases.
    pub days: u64,
    /// Σ cost / Σ los of the kept cases.
    pub daily_cost: f64,
    /// Average length of stay of the kept cases.
    pub avg_los: f64,
    /// `daily_cost / overall_avg × scale`: points of one bed-day.
    pub bedday_points: f64,
}

/// The bed-day points of every category with kept cases, in policy order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PerDiemRates {
    /// One rate per category, in policy order.
    pub rates: Vec<PerDiemRate>,
}

impl PerDiemRates {
    /// The rate of a category by code.
    pub fn get(&self, code: &str) -> Option<&PerDiemRate> {
        self.rates.iter().find(|r| r.category == code)
    }
}

/// Step 2 for a case that may be per-diem: a DRG case (`stay` `None`) is
/// scored by [`super::score`]; a per-diem case by its bed-day points (§3).
pub fn score_stay(
    policy: &Policy,
    weights: &Weights,
    rates: &PerDiemRates,
    case: &PointsCase,
    stay: Option<PerDiemStay>,
) -> Result<CaseScore, Skip> {
    let (Some(stay), Some(perdiem)) = (stay, policy.perdiem.as_ref()) else {
        return super::score(policy, weights, case);
    };
    let cost = case.total_cost.ok_or(Skip::NoCost)?;
    if cost < 0.0 || !cost.is_finite() {
        return Err(Skip::CostNotPositive(cost.to_string()));
    }
    let k = &perdiem.categories[stay.category];
    let scored = match rates.get(&k.code) {
        None => CaseScore {
            drg: Some(k.code.clone()),
            category: Category::Ungrouped,
            base_points: 0.0,
            coef: 1.0,
            points: cost / weights.overall_avg() * policy.calibration.scale * policy.scoring.ungrouped_factor,
        },
        Some(rate) => {
            let coef = if perdiem.coefficients {
                policy.hospital_coefficient(&case.hospital, case.hospital_level.as_deref())
            } else {
                1.0
            };
            let base_points = rate.bedday_points * paid_days(&k.segments, stay.los_days);
            CaseScore { drg: Some(k.code.clone()), category: Category::PerDiem, base_points, coef, points: base_points * coef }
        }
    };
    if !scored.points.is_finite() || !scored.base_points.is_finite() {
        return Err(Skip::Overflow(format!("its points ({}) are beyond the largest number", scored.points)));
    }
    Ok(scored)
}
