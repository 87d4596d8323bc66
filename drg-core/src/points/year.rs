//! Settlement (points.md §3) and the year around it (specs/perdiem.md §4):
//! the monthly pre-settlement and the year-end clearing with each hospital's
//! assessment coefficient.
//!
//! Every payment scheme that settles in points (DRG cases, per-diem cases,
//! DIP) settles through [`Ledger`]: items are added one by one (so a period
//! of any size needs memory only for its hospitals and months), then
//! [`Ledger::settle`] turns them into money.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use super::report::fixed;
use super::{CaseScore, HospitalSettlement, PeriodTotals, PointsCase, PointsError, Policy, Settlement, SettlementPolicy};

/// A calendar month, the month of a discharge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    /// The year (2024).
    pub year: u16,
    /// 1–12.
    pub month: u8,
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}


/// Reads a discharge date in the forms columns.md accepts (`YYYY-MM-DD`,
/// `YYYY/MM/DD`, `YYYYMMDD`, `YYYY年M月D日`, each optionally followed by a
/// time) and gives its month. A date that does not exist is refused.
///
/// ```
/// use drg_core::points::parse_discharge_date;
/// assert_eq!(parse_discharge_date("2025-03-01 08:30:00").unwrap().to_string(), "2025-03");
/// assert_eq!(parse_discharge_date("2024年2月29日").unwrap().to_string(), "2024-02");
/// assert!(parse_discharge_date("2025-02-29").is_err());
/// ```
pub fn parse_discharge_date(text: &str) -> Result<Month, String> {
    // The one date reader of cases.md (crate::case::parse_date); its
    // `YYYY-MM-DD` gives the month.
    match crate::case::parse_date(text) {
        Ok(Some(date)) => Ok(Month { year: date[..4].parse().unwrap_or(0), month: date[5..7].parse().unwrap_or(0) }),
        Ok(None) => Err("discharge_date is missing".into()),
        Err(e) => Err(format!("discharge_date {e}")),
    }
}

/// Rounds money to the cent, half away from zero, as it is printed.
pub fn round_cents(x: f64) -> f64 {
    fixed(x, 2).parse().unwrap_or(x)
}

/// What settlement needs of one scored item (a DRG case, a per-diem case,
/// a DIP case): where, how many points, and its money.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SettlementItem<'a> {
    /// The hospital.
    pub hospital: &'a str,
    /// Its points.
    pub points: f64,
    /// Its total cost, in yuan.
    pub total_cost: f64,
    /// What the patient paid, in yuan.
    pub self_pay: f64,
    /// The discharge month, for the monthly pre-settlement.
    pub month: Option<Month>,
}

impl<'a> SettlementItem<'a> {
    /// A scored case (a missing cost or self pay counts as 0), without month.
    pub fn of(case: &'a PointsCase, score: &CaseScore) -> Self {
        SettlementItem {
            hospital: &case.hospital,
            points: score.points,
            total_cost: case.total_cost.unwrap_or(0.0),
            self_pay: case.self_pay.unwrap_or(0.0),
            month: None,
        }
    }
}

#[derive(Clone, Debug, Default)]
struct Sums {
    cases: u64,
    points: f64,
    self_pay: f64,
    cost: f64,
    /// Σ (total_cost − self_pay), summed item by item.
    fund: f64,
}

impl Sums {
    fn add(&mut self, item: &SettlementItem<'_>) {
        self.cases += 1;
        self.points += item.points;
        self.self_pay += item.self_pay;
        self.cost += item.total_cost;
        self.fund += item.total_cost - item.self_pay;
    }
}

#[derive(Clone, Debug, Default)]
struct HospitalSums {
    all: Sums,
    months: BTreeMap<Month, Sums>,
}

/// The running sums of a period's settlement: by hospital and, when items
/// carry a month, by month.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    hospitals: BTreeMap<String, HospitalSums>,
    total: Sums,
    with_month: u64,
}

/// One row of monthly.csv.
#[derive(Clone, Debug, PartialEq)]
pub struct MonthlyRow {
    /// The discharge month.
    pub month: Month,
    /// The hospital.
    pub hospital: String,
    /// Its cases discharged that month.
    pub cases: u64,
    /// Their points.
    pub points: f64,
    /// Σ (total_cost − self_pay).
    pub fund_item_cost: f64,
    /// Rounded to the cent.
    pub prepay: f64,
}

/// One row of clearing.csv.
#[derive(Clone, Debug, PartialEq)]
pub struct ClearingRow {
    /// The hospital.
    pub hospital: String,
    /// Its assessment score, when it has one.
    pub score: Option<f64>,
    /// The coefficient the score gives.
    pub assessment_coef: f64,
    /// Rounded to the cent.
    pub fund_due: f64,
    /// Σ of the rounded monthly prepay.
    pub prepaid: f64,
    /// fund_due − prepaid: positive, the fund pays the rest; negative, the
    /// hospital pays back.
    pub clearing: f64,
}

/// A settlement with its year: the monthly pre-settlement and the clearing
/// (both `None` when the items had no months).
#[derive(Clone, Debug, PartialEq)]
pub struct YearSettlement {
    /// The period's settlement.
    pub settlement: Settlement,
    /// The assessment coefficient of each hospital of the settlement, in its order.
    pub assessment_coefs: Vec<f64>,
    /// The monthly pre-settlement (monthly.csv).
    pub monthly: Option<Vec<MonthlyRow>>,
    /// The year's clearing (clearing.csv).
    pub clearing: Option<Vec<ClearingRow>>,
}

fn finite(what: &str, x: f64) -> Result<f64, PointsError> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(PointsError::Overflow(format!("{what} adds up beyond the largest number ({x})")))
    }
}

impl Ledger {
    /// An empty ledger: add every scored item, then settle.
    pub fn new() -> Self {
        Ledger::default()
    }

    /// Adds one item to the sums.
    pub fn add(&mut self, item: &SettlementItem<'_>) {
        let h = match self.hospitals.get_mut(item.hospital) {
            Some(h) => h,
            None => self.hospitals.entry(item.hospital.to_string()).or_default(),
        };
        h.all.add(item);
        if let Some(m) = item.month {
            h.months.entry(m).or_default().add(item);
            self.with_month += 1;
        }
        self.total.add(item);
    }

    /// Items added so far.
    pub fn cases(&self) -> u64 {
        self.total.cases
    }

    /// Settles the period (points.md §3, with the assessment coefficients of
    /// perdiem.md §4 from `scores`) and, when every item had a month, the
    /// monthly pre-settlement and the clearing. Every number is checked to
    /// be finite.
    pub fn settle(&self, policy: &Policy, scores: &AssessmentScores) -> Result<YearSettlement, PointsError> {
        self.settle_by(&policy.settlement, scores, |score| policy.assessment_coefficient(score))
    }

    /// [`Ledger::settle`] under a settlement policy alone, with the
    /// assessment coefficient given for each hospital's score: the path DIP
    /// (dip.md §5, no assessment: every coefficient 1) shares with DRG points.
    pub fn settle_by(
        &self,
        s: &SettlementPolicy,
        scores: &AssessmentScores,
        assessment_coefficient: impl Fn(Option<f64>) -> f64,
    ) -> Result<YearSettlement, PointsError> {
        let t = &self.total;
        let p = finite("the period's points", t.points)?;
        let self_pay = finite("the period's self_pay", t.self_pay)?;
        let fund_item_cost = finite("the period's fund item cost Σ (total_cost − self_pay)", t.fund)?;
        finite("the period's total_cost", t.cost)?;
        if p <= 0.0 {
            return Err(PointsError::NoPoints);
        }
        let b = s.budget;
        let pool = if fund_item_cost <= b {
            fund_item_cost + s.share_ratio * (b - fund_item_cost)
        } else {
            b + (1.0 - s.share_ratio) * (fund_item_cost - b)
        };
        let pool = finite("the pool", pool)?;
        let point_value = finite("the point value (pool + self_pay) / points", (pool + self_pay) / p)?;
        let mut hospitals = Vec::with_capacity(self.hospitals.len());
        let mut assessment_coefs = Vec::with_capacity(self.hospitals.len());
        for (id, h) in &self.hospitals {
            let a = &h.all;
            let coef = assessment_coefficient(scores.get(id));
            let revenue = finite(&format!("hospital {id}'s revenue"), a.points * point_value * coef)?;
            let fund_due = finite(&format!("hospital {id}'s fund_due"), revenue - a.self_pay)?;
            let balance = finite(&format!("hospital {id}'s balance"), revenue - a.cost)?;
            hospitals.push(HospitalSettlement {
                hospital: id.clone(),
                cases: a.cases,
                points: a.points,
                self_pay: a.self_pay,
                cost: a.cost,
                revenue,
                fund_due,
                prepay: fund_due * s.prepay_ratio,
                balance,
            });
            assessment_coefs.push(coef);
        }
        let settlement =
            Settlement { period: PeriodTotals { points: p, self_pay, fund_item_cost, budget: b, pool, point_value }, hospitals };
        if self.with_month == 0 {
            return Ok(YearSettlement { settlement, assessment_coefs, monthly: None, clearing: None });
        }
        if self.with_month < t.cases {
            return Err(PointsError::MissingMonth(t.cases - self.with_month));
        }
        let (monthly, prepaid) = self.monthly_prepayments(s)?;
        let clearing = clearing_rows(&settlement, &assessment_coefs, scores, &prepaid);
        Ok(YearSettlement { settlement, assessment_coefs, monthly: Some(monthly), clearing: Some(clearing) })
    }

    /// The monthly pre-settlement (specs/perdiem.md §4): each hospital's
    /// prepayment of each month, sorted by month and hospital, and what each
    /// hospital was prepaid in all.
    fn monthly_prepayments(&self, s: &SettlementPolicy) -> Result<(Vec<MonthlyRow>, BTreeMap<&str, f64>), PointsError> {
        let mut monthly = Vec::new();
        let mut prepaid: BTreeMap<&str, f64> = BTreeMap::new();
        for (id, h) in &self.hospitals {
            for (month, m) in &h.months {
                let fund_item_cost = m.fund;
                let claim = if s.provisional_point_value > 0.0 {
                    (m.points * s.provisional_point_value - m.self_pay).max(0.0)
                } else {
                    fund_item_cost
                };
                let prepay = finite(&format!("hospital {id}'s prepay of {month}"), round_cents(s.prepay_ratio * claim))?;
                *prepaid.entry(id).or_default() += prepay;
                monthly.push(MonthlyRow {
                    month: *month,
                    hospital: id.clone(),
                    cases: m.cases,
                    points: m.points,
                    fund_item_cost,
                    prepay,
                });
            }
        }
        monthly.sort_by(|a, b| (a.month, a.hospital.as_bytes()).cmp(&(b.month, b.hospital.as_bytes())));
        Ok((monthly, prepaid))
    }
}

/// The year-end clearing: each hospital's fund_due (with its assessment
/// coefficient) against what it was prepaid.
fn clearing_rows(
    settlement: &Settlement,
    assessment_coefs: &[f64],
    scores: &AssessmentScores,
    prepaid: &BTreeMap<&str, f64>,
) -> Vec<ClearingRow> {
    settlement
        .hospitals
        .iter()
        .zip(assessment_coefs)
        .map(|(h, &coef)| {
            let fund_due = round_cents(h.fund_due);
            let paid = round_cents(prepaid.get(h.hospital.as_str()).copied().unwrap_or(0.0));
            ClearingRow {
                hospital: h.hospital.clone(),
                score: scores.get(&h.hospital),
                assessment_coef: coef,
                fund_due,
                prepaid: paid,
                clearing: round_cents(fund_due - paid),
            }
        })
        .collect()
}

/// Hospitals' assessment scores (考核得分), 0–100.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AssessmentScores {
    /// Each hospital's score.
    pub by_hospital: BTreeMap<String, f64>,
}

impl AssessmentScores {
    /// A hospital's score, when it has one.
    pub fn get(&self, hospital: &str) -> Option<f64> {
        self.by_hospital.get(hospital).copied()
    }

    /// Scores from pairs, refusing what [`read_scores_csv`] refuses (the
    /// position is the pair's index from 0).
    pub fn from_pairs<S: AsRef<str>>(pairs: impl IntoIterator<Item = (S, f64)>) -> Result<Self, ScoresCsvError> {
        let mut by_hospital = BTreeMap::new();
        for (i, (hospital, score)) in pairs.into_iter().enumerate() {
            insert_score(&mut by_hospital, hospital.as_ref().trim(), score, i as u64)?;
        }
        Ok(AssessmentScores { by_hospital })
    }
}

fn insert_score(map: &mut BTreeMap<String, f64>, hospital: &str, score: f64, line: u64) -> Result<(), ScoresCsvError> {
    let err = |message: String| ScoresCsvError { line: Some(line), message };
    if hospital.is_empty() {
        return Err(err("hospital: empty".into()));
    }
    if !(score.is_finite() && (0.0..=100.0).contains(&score)) {
        return Err(err(format!("hospital {hospital}: score {score} is not a number in [0, 100]")));
    }
    if map.insert(hospital.to_string(), score).is_some() {
        return Err(err(format!("hospital {hospital} is listed twice")));
    }
    Ok(())
}

/// A scores file that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct ScoresCsvError {
    /// The line to blame (1 is the header), when one is.
    pub line: Option<u64>,
    /// What is wrong there.
    pub message: String,
}

/// Reads assessment scores from a CSV `hospital, score`. A score that is not
/// a finite number in [0, 100], or a hospital listed twice, is refused naming
/// the line.
pub fn read_scores_csv(input: impl Read) -> Result<AssessmentScores, ScoresCsvError> {
    let err = |line: Option<u64>, message: String| ScoresCsvError { line, message };
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers = reader.headers().map_err(|e| err(None, e.to_string()))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().trim_start_matches('\u{feff}') == name)
            .ok_or_else(|| err(Some(1), format!("no column {name} (a scores file has hospital, score)")))
    };
    let (c_hospital, c_score) = (col("hospital")?, col("score")?);
    let mut by_hospital = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| err(e.position().map(|p| p.line()), e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let hospital = record.get(c_hospital).unwrap_or("").trim();
        let text = record.get(c_score).unwrap_or("").trim();
        let score = match crate::case::parse_number(text) {
            Ok(Some(v)) => v,
            _ => {
                return Err(err(
                    Some(line),
                    format!("hospital {hospital}: score {:?} is not a number in [0, 100]", crate::codes::for_message(text)),
                ))
            }
        };
        insert_score(&mut by_hospital, hospital, score, line)?;
    }
    Ok(AssessmentScores { by_hospital })
}
