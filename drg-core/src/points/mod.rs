//! DRG point calculation (specs/points.md): base points from history, the
//! points of each case, and settlement of a period's fund budget.
//!
//! Every number is computed in `f64` without intermediate rounding; rounding
//! (half away from zero) happens only when a report is written.
//!
//! ```
//! use drg_core::points::{calibrate, score, settle, PointsCase, Policy};
//!
//! let policy = Policy::default();
//! let case = |id: &str, drg: &str, cost: f64| PointsCase {
//!     id: id.into(), hospital: "H1".into(), hospital_level: Some("3".into()),
//!     drg: Some(drg.into()), total_cost: Some(cost), self_pay: Some(cost * 0.2),
//! };
//! let history = vec![case("h1", "GC25", 8000.0), case("h2", "GC25", 12000.0), case("h3", "ES25", 5000.0)];
//! let calibration = calibrate(&policy, &history).unwrap();
//! let gc25 = &calibration.weights.drgs["GC25"];
//! assert_eq!(gc25.avg_cost, 10000.0);
//!
//! let scored = score(&policy, &calibration.weights, &case("p1", "GC25", 11000.0)).unwrap();
//! assert_eq!(scored.points, gc25.base_points);      // a normal case at a level-3 hospital
//! let settlement = settle(&policy, &[(case("p1", "GC25", 11000.0), scored)]).unwrap();
//! assert_eq!(settlement.hospitals.len(), 1);
//! ```

mod perdiem;
mod policy;
mod report;
mod year;

use std::collections::BTreeMap;
use std::fmt;

pub use perdiem::{
    clean_text, is_format_char, paid_days, principal_diagnosis, score_stay, CareFacts, PerDiemMatch, PerDiemRate, PerDiemRates,
    PerDiemStay,
};
pub use policy::{
    AssessmentPolicy, CalibrationPolicy, CoefficientPolicy, PerDiemCategory, PerDiemPolicy, Policy, PolicyError, ScoringPolicy,
    SettlementPolicy, Trim,
};
pub use report::{
    case_points_csv, case_points_header, case_points_row, clearing_csv, fixed, monthly_csv, perdiem_csv, period_csv,
    read_perdiem_csv, read_weights_csv, settlement_csv, weights_csv, WeightsCsvError,
};
pub use year::{
    parse_discharge_date, read_scores_csv, round_cents, AssessmentScores, ClearingRow, Ledger, Month, MonthlyRow, ScoresCsvError,
    SettlementItem, YearSettlement,
};

/// One case as point calculation sees it: where it was treated, its DRG (if
/// grouped) and its money.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PointsCase {
    /// The case's id.
    pub id: String,
    /// The hospital that treated it.
    pub hospital: String,
    /// The hospital's level, which a policy may set coefficients by.
    pub hospital_level: Option<String>,
    /// The DRG when the case was grouped; `None` otherwise.
    pub drg: Option<String>,
    /// Total cost, in yuan.
    pub total_cost: Option<f64>,
    /// The part the patient paid, in yuan.
    pub self_pay: Option<f64>,
}

/// Why a case was left out of a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// Not grouped: calibration ignores it (and counts it).
    NotGrouped,
    /// `total_cost` is missing.
    NoCost,
    /// `total_cost` is 0 or less.
    CostNotPositive(String),
    /// The case's numbers overflow (points beyond the largest number).
    Overflow(String),
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::NotGrouped => write!(f, "not grouped"),
            Skip::NoCost => write!(f, "total_cost is missing"),
            Skip::CostNotPositive(v) => write!(f, "total_cost {v} is not above 0"),
            Skip::Overflow(why) => write!(f, "{why}"),
        }
    }
}

/// A step that cannot be done at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PointsError {
    /// No base points can be set from the history.
    #[error("the history has no grouped case with a total_cost above 0: no base points can be set")]
    EmptyHistory,
    /// No point value can be set.
    #[error("the period's cases have no points: no point value can be set")]
    NoPoints,
    /// A number that would reach an output is not finite: the message names
    /// the key, DRG or total that overflowed.
    #[error("{0}")]
    Overflow(String),
    /// A settlement by month was asked for, and some of its items have no month.
    #[error("{0} cases have no discharge month: the monthly pre-settlement needs every case's discharge_date")]
    MissingMonth(u64),
}

/// The calibration of one DRG.
#[derive(Clone, Debug, PartialEq)]
pub struct DrgWeight {
    /// Cases with a cost.
    pub n: u64,
    /// Cases kept after trimming.
    pub kept: u64,
    /// Average cost of the kept cases.
    pub avg_cost: f64,
    /// Relative weight (RW): `avg_cost / overall_avg`.
    pub weight: f64,
    /// Base points: `weight × scale`.
    pub base_points: f64,
    /// Fewer kept cases than the policy's `min_cases` (still priced).
    pub unstable: bool,
}

/// The calibration table: base points by DRG, and the overall line.
#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    /// Each DRG's line, by code.
    pub drgs: BTreeMap<String, DrgWeight>,
    /// The overall line (drg `*`): all cases, all kept, the overall average
    /// (weight 1, base points = scale).
    pub overall: DrgWeight,
}

impl Weights {
    /// The overall average cost of the kept cases.
    pub fn overall_avg(&self) -> f64 {
        self.overall.avg_cost
    }
}

/// What calibration gives: the table, and which input cases it left out.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    /// The weights table.
    pub weights: Weights,
    /// (index into the input, why) of every case left out.
    pub skipped: Vec<(usize, Skip)>,
}

/// Step 1: base points from historical cases.
///
/// ```
/// use drg_core::points::{self, PointsCase, Policy};
///
/// let case = |id: usize, drg: &str, cost: f64| PointsCase {
///     id: id.to_string(),
///     hospital: "H1".into(),
///     drg: Some(drg.into()),
///     total_cost: Some(cost),
///     ..PointsCase::default()
/// };
/// let costs = [7000.0, 9000.0, 7000.0, 9000.0, 8000.0];
/// let history: Vec<PointsCase> = costs
///     .iter()
///     .enumerate()
///     .flat_map(|(i, c)| [case(i, "GC23", *c), case(i + 5, "BB11", c * 1.5)])
///     .collect();
/// let policy = Policy::default();
/// let calibration = points::calibrate(&policy, &history).unwrap();
/// let gc23 = &calibration.weights.drgs["GC23"];
/// assert_eq!(gc23.avg_cost, 8000.0);
/// assert!(gc23.weight < 1.0 && calibration.weights.drgs["BB11"].weight > 1.0);
///
/// // Step 2: a case of the period, scored with the table.
/// let scored = points::score(&policy, &calibration.weights, &case(99, "GC23", 8000.0)).unwrap();
/// assert_eq!(scored.category, points::Category::Normal);
/// assert!(scored.points > 0.0);
/// ```
pub fn calibrate<'a>(policy: &Policy, history: impl IntoIterator<Item = &'a PointsCase>) -> Result<Calibration, PointsError> {
    calibrate_stays(policy, history.into_iter().map(|c| (c, None))).map(|(c, _)| c)
}

fn overflow(what: String) -> PointsError {
    PointsError::Overflow(what)
}

/// Step 1 with per-diem care (specs/perdiem.md §2): each history case with
/// its per-diem stay (`None`: a DRG case). Per-diem cases are left out of the
/// DRG weights and give their category's bed-day points. `skipped` indexes
/// the input.
pub fn calibrate_stays<'a>(
    policy: &Policy,
    history: impl IntoIterator<Item = (&'a PointsCase, Option<PerDiemStay>)>,
) -> Result<(Calibration, PerDiemRates), PointsError> {
    let sorted = sort_history(policy, history);
    let (drgs, overall) = drg_weights(&policy.calibration, &sorted.costs)?;
    let rates = match &policy.perdiem {
        Some(perdiem) => perdiem_rates(&policy.calibration, perdiem, &sorted.stays, overall.avg_cost)?,
        None => PerDiemRates::default(),
    };
    Ok((Calibration { weights: Weights { drgs, overall }, skipped: sorted.skipped }, rates))
}

/// The history sorted for calibration: costs by DRG, (cost, days) by
/// per-diem category, and the cases left out (by index).
struct SortedHistory<'a> {
    costs: BTreeMap<&'a str, Vec<f64>>,
    stays: Vec<Vec<(f64, i64)>>,
    skipped: Vec<(usize, Skip)>,
}

fn sort_history<'a>(
    policy: &Policy,
    history: impl IntoIterator<Item = (&'a PointsCase, Option<PerDiemStay>)>,
) -> SortedHistory<'a> {
    let n_categories = policy.perdiem.as_ref().map_or(0, |p| p.categories.len());
    let mut sorted = SortedHistory { costs: BTreeMap::new(), stays: vec![Vec::new(); n_categories], skipped: Vec::new() };
    for (i, (case, stay)) in history.into_iter().enumerate() {
        let stay = stay.filter(|s| s.category < n_categories);
        let drg = case.drg.as_deref().filter(|d| !d.is_empty());
        if stay.is_none() && drg.is_none() {
            sorted.skipped.push((i, Skip::NotGrouped));
            continue;
        }
        let cost = match case.total_cost {
            None => {
                sorted.skipped.push((i, Skip::NoCost));
                continue;
            }
            Some(c) if c <= 0.0 || !c.is_finite() => {
                sorted.skipped.push((i, Skip::CostNotPositive(c.to_string())));
                continue;
            }
            Some(c) => c,
        };
        match (stay, drg) {
            (Some(s), _) => sorted.stays[s.category].push((cost, s.los_days)),
            (None, Some(drg)) => sorted.costs.entry(drg).or_default().push(cost),
            (None, None) => unreachable!("skipped above"),
        }
    }
    sorted
}

/// Each DRG's weight and base points from its trimmed costs, and the
/// overall average they are relative to (points.md §1).
fn drg_weights(c: &CalibrationPolicy, costs: &BTreeMap<&str, Vec<f64>>) -> Result<(BTreeMap<String, DrgWeight>, DrgWeight), PointsError> {
    let mut kept_by_drg: Vec<(&str, u64, Vec<f64>)> = Vec::with_capacity(costs.len());
    for (drg, all) in costs {
        if !all.iter().sum::<f64>().is_finite() {
            return Err(overflow(format!("history: the costs of DRG {drg} add up beyond the largest number")));
        }
        let (lo, hi) = trim_range(c.trim, c.trim_k, all);
        let kept: Vec<f64> = all.iter().copied().filter(|&x| lo <= x && x <= hi).collect();
        kept_by_drg.push((drg, all.len() as u64, kept));
    }
    let all_kept: Vec<f64> = kept_by_drg.iter().flat_map(|(_, _, k)| k.iter().copied()).collect();
    if all_kept.is_empty() {
        return Err(PointsError::EmptyHistory);
    }
    let overall_avg = mean(&all_kept);
    if !overall_avg.is_finite() {
        return Err(overflow("history: the costs add up beyond the largest number: no overall average".into()));
    }
    let mut drgs = BTreeMap::new();
    for (drg, n, kept) in kept_by_drg {
        // A DRG whose every cost was trimmed keeps no average: with sd
        // trimming and k ≥ 0 the mean itself always stays, so this needs a
        // policy of k < 1 on a skewed DRG; it is then priced as ungrouped.
        if kept.is_empty() {
            continue;
        }
        let avg = mean(&kept);
        let weight = avg / overall_avg;
        let base_points = weight * c.scale;
        if !avg.is_finite() || !base_points.is_finite() {
            return Err(overflow(format!(
                "calibration.scale: {} makes the base points of DRG {drg} overflow (weight {weight})",
                c.scale
            )));
        }
        let unstable = (kept.len() as u64) < c.min_cases;
        drgs.insert(drg.to_string(), DrgWeight { n, kept: kept.len() as u64, avg_cost: avg, weight, base_points, unstable });
    }
    let overall = DrgWeight {
        n: costs.values().map(|v| v.len() as u64).sum(),
        kept: all_kept.len() as u64,
        avg_cost: overall_avg,
        weight: 1.0,
        base_points: c.scale,
        unstable: (all_kept.len() as u64) < c.min_cases,
    };
    Ok((drgs, overall))
}

/// Each per-diem category's bed-day points from its trimmed daily costs, on
/// the DRG scale (specs/perdiem.md §2).
fn perdiem_rates(
    c: &CalibrationPolicy,
    perdiem: &PerDiemPolicy,
    stays: &[Vec<(f64, i64)>],
    overall_avg: f64,
) -> Result<PerDiemRates, PointsError> {
    let mut rates = PerDiemRates::default();
    for (k, cases) in perdiem.categories.iter().zip(stays) {
        let daily: Vec<f64> = cases.iter().map(|&(cost, los)| cost / los as f64).collect();
        if !cases.iter().map(|&(cost, _)| cost).sum::<f64>().is_finite() {
            return Err(overflow(format!("history: the costs of per-diem category {} add up beyond the largest number", k.code)));
        }
        let (lo, hi) = trim_range(c.trim, c.trim_k, &daily);
        let kept: Vec<(f64, i64)> =
            cases.iter().zip(&daily).filter(|(_, &d)| lo <= d && d <= hi).map(|(&x, _)| x).collect();
        if kept.is_empty() {
            continue;
        }
        let days: u64 = kept.iter().map(|&(_, los)| los as u64).sum();
        let cost: f64 = kept.iter().map(|&(cost, _)| cost).sum();
        let daily_cost = cost / days as f64;
        let bedday_points = daily_cost / overall_avg * c.scale;
        if !daily_cost.is_finite() || !bedday_points.is_finite() {
            return Err(overflow(format!(
                "calibration.scale: {} makes the bed-day points of per-diem category {} overflow",
                c.scale, k.code
            )));
        }
        rates.rates.push(PerDiemRate {
            category: k.code.clone(),
            name: k.name.clone(),
            n: cases.len() as u64,
            kept: kept.len() as u64,
            days,
            daily_cost,
            avg_los: days as f64 / kept.len() as f64,
            bedday_points,
        });
    }
    Ok(rates)
}

/// The costs a group keeps under a trimming rule, as the closed range
/// `[lo, hi]`: mean ± k·sd (population sd) with `Trim::Sd` and at least two
/// costs; everything otherwise. Shared by DRG calibration and the DIP
/// catalogue (specs/dip.md §2), which trim alike.
pub fn trim_range(trim: Trim, trim_k: f64, costs: &[f64]) -> (f64, f64) {
    match trim {
        Trim::Sd if costs.len() >= 2 => {
            let mean = mean(costs);
            let sd = (costs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / costs.len() as f64).sqrt();
            (mean - trim_k * sd, mean + trim_k * sd)
        }
        _ => (f64::NEG_INFINITY, f64::INFINITY),
    }
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// The payment category of a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// Priced at its DRG's base points.
    Normal,
    /// 高倍率: cost at least the high multiple of the DRG average.
    High,
    /// 低倍率: cost at or below `low_ratio` of the DRG average.
    Low,
    /// Not grouped, or its DRG has no base points.
    Ungrouped,
    /// Paid by the bed-day (按床日, specs/perdiem.md).
    PerDiem,
}

impl Category {
    /// `normal`, `high`, `low`, `ungrouped` or `perdiem`, as in case_points.csv.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Normal => "normal",
            Category::High => "high",
            Category::Low => "low",
            Category::Ungrouped => "ungrouped",
            Category::PerDiem => "perdiem",
        }
    }
}

/// The points of one case.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseScore {
    /// The DRG priced; for an ungrouped case the DRG it was grouped into
    /// when that DRG has no base points (`None` when not grouped); for a
    /// per-diem case its category code.
    pub drg: Option<String>,
    /// How the case was priced.
    pub category: Category,
    /// 0 when ungrouped.
    pub base_points: f64,
    /// 1 when ungrouped.
    pub coef: f64,
    /// `base_points × coef`.
    pub points: f64,
}

/// Step 2: the points of one case. A case without a cost cannot be scored.
pub fn score(policy: &Policy, weights: &Weights, case: &PointsCase) -> Result<CaseScore, Skip> {
    let cost = case.total_cost.ok_or(Skip::NoCost)?;
    if cost < 0.0 || !cost.is_finite() {
        return Err(Skip::CostNotPositive(cost.to_string()));
    }
    let priced = case.drg.as_deref().and_then(|d| weights.drgs.get_key_value(d));
    let Some((drg, w)) = priced else {
        let s = &policy.scoring;
        let points = cost / weights.overall_avg() * policy.calibration.scale * s.ungrouped_factor;
        if !points.is_finite() {
            return Err(Skip::Overflow(format!("its points ({points}) are beyond the largest number")));
        }
        return Ok(CaseScore {
            // A case grouped into a DRG without base points keeps the DRG,
            // so that the missing price shows.
            drg: case.drg.clone().filter(|d| !d.is_empty()),
            category: Category::Ungrouped,
            base_points: 0.0,
            coef: 1.0,
            points,
        });
    };
    let bp = w.base_points;
    let coef = policy.coefficient(drg, &case.hospital, case.hospital_level.as_deref());
    let ratio = cost / w.avg_cost;
    let (category, points) = match policy.high_multiple(bp) {
        Some(m) if ratio >= m => (Category::High, bp * coef + bp * (ratio - m)),
        _ if ratio <= policy.scoring.low_ratio => (Category::Low, bp * ratio),
        _ => (Category::Normal, bp * coef),
    };
    if !points.is_finite() {
        return Err(Skip::Overflow(format!("its points ({points}) are beyond the largest number")));
    }
    Ok(CaseScore { drg: Some(drg.clone()), category, base_points: bp, coef, points })
}

/// The period line of a settlement.
#[derive(Clone, Debug, PartialEq)]
pub struct PeriodTotals {
    /// P: all points.
    pub points: f64,
    /// S: all self pay.
    pub self_pay: f64,
    /// A: what the fund would pay item by item, Σ (total_cost − self_pay).
    pub fund_item_cost: f64,
    /// B.
    pub budget: f64,
    /// What the fund pays out: A plus its share of the surplus, or B plus its
    /// share of the overspend (points.md §3).
    pub pool: f64,
    /// Yuan per point.
    pub point_value: f64,
}

/// One hospital's settlement.
#[derive(Clone, Debug, PartialEq)]
pub struct HospitalSettlement {
    /// The hospital.
    pub hospital: String,
    /// Its cases.
    pub cases: u64,
    /// Its points.
    pub points: f64,
    /// What its patients paid.
    pub self_pay: f64,
    /// Its cases' total cost.
    pub cost: f64,
    /// What its points are worth: points × point value.
    pub revenue: f64,
    /// What the fund owes it: revenue − self pay.
    pub fund_due: f64,
    /// The monthly pre-settlement: fund due × the policy's `prepay_ratio`.
    pub prepay: f64,
    /// 盈亏: revenue − cost.
    pub balance: f64,
}

/// A period's settlement: the totals and each hospital's share.
#[derive(Clone, Debug, PartialEq)]
pub struct Settlement {
    /// The period's totals and point value.
    pub period: PeriodTotals,
    /// By hospital id.
    pub hospitals: Vec<HospitalSettlement>,
}

/// Step 3: a period's scored cases into money. Cases scored without a cost
/// cannot be here; a missing `self_pay` counts as 0. The same code path as
/// [`Ledger::settle`] (with no assessment scores, so a policy's
/// `[assessment]` gives every hospital its `default`).
pub fn settle(policy: &Policy, scored: &[(PointsCase, CaseScore)]) -> Result<Settlement, PointsError> {
    let mut ledger = Ledger::new();
    for (case, score) in scored {
        ledger.add(&SettlementItem::of(case, score));
    }
    ledger.settle(policy, &AssessmentScores::default()).map(|y| y.settlement)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod perdiem_tests;
