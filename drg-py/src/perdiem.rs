//! `drg.points.run` with per-diem care and the year (specs/perdiem.md): the
//! per-diem categories, bed-day points, assessment coefficients, monthly
//! pre-settlement and clearing. Only translates columns; every rule is in
//! `drg_core::points`.

use std::path::PathBuf;

use drg_core::points::{self, AssessmentScores, CareFacts, Ledger, PerDiemStay, Policy, SettlementItem};
use pyo3::prelude::*;
use pyo3::types::{PyAny, PyDict, PyString};

use crate::columns::{cells, list_column, points_cases, settlement_columns, table};
use crate::errors::PointsError;

/// Every points error of this module goes through here (one place to change
/// the exception class).
fn fail(message: impl Into<String>) -> PyErr {
    PointsError::new_err(message.into())
}

/// What decides whether each case is per-diem, and its month, from the
/// columns `invalid`, `los_days`, `dept`, `diagnoses`, `discharge_date`.
struct Care {
    invalid: Vec<bool>,
    los_days: Vec<Option<i64>>,
    dept: Vec<Option<String>>,
    diagnoses: Vec<Option<String>>,
    months: Option<Vec<points::Month>>,
}

fn text_of(v: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    if v.is_none() {
        return Ok(None);
    }
    if !v.is_instance_of::<PyString>() {
        if let Ok(f) = v.extract::<f64>() {
            if f.is_nan() {
                return Ok(None);
            }
        }
    }
    Ok(Some(v.str()?.to_string()).filter(|s| !s.trim().is_empty()))
}

fn care_columns(columns: &Bound<'_, PyDict>, n: usize, what: &str) -> PyResult<Care> {
    let prefix = format!("{what}: ");
    let list = |name: &str| list_column(columns, name, Some(n), &prefix);
    let texts = |name: &str| -> PyResult<Vec<Option<String>>> {
        match list(name)? {
            None => Ok(vec![None; n]),
            Some(v) => v.iter().map(text_of).collect(),
        }
    };
    let invalid = match list("invalid")? {
        None => vec![false; n],
        Some(v) => v.iter().map(|x| x.is_truthy()).collect::<PyResult<_>>()?,
    };
    let los_days = texts("los_days")?
        .into_iter()
        .map(|t| t.and_then(|t| drg_core::case::parse_whole(&t).ok().flatten()))
        .collect();
    let months = match list("discharge_date")? {
        None => None,
        Some(v) => Some(
            v.iter()
                .enumerate()
                .map(|(i, x)| {
                    let t = text_of(x)?.unwrap_or_default();
                    points::parse_discharge_date(&t).map_err(|e| fail(format!("{what}: row {i}: {e}")))
                })
                .collect::<PyResult<Vec<_>>>()?,
        ),
    };
    Ok(Care { invalid, los_days, dept: texts("dept")?, diagnoses: texts("diagnoses")?, months })
}

impl Care {
    fn stay(&self, policy: &Policy, i: usize) -> Option<PerDiemStay> {
        policy.perdiem.as_ref()?;
        policy.perdiem_stay(&CareFacts {
            invalid: self.invalid[i],
            los_days: self.los_days[i],
            dept: self.dept[i].as_deref(),
            diagnoses: self.diagnoses[i].as_deref(),
        })
    }
}

/// All steps of specs/points.md and perdiem.md on columns: the four reports
/// of `_points_run`, plus `perdiem` (with a `[perdiem]` policy) and `monthly`
/// and `clearing` (when the period has `discharge_date`), and the rows left
/// out ("skipped": (step, row, reason)). `scores` maps hospital → score.
#[pyfunction]
#[pyo3(signature = (policy_path, history, period, scores=None))]
pub fn _points_year<'py>(
    py: Python<'py>,
    policy_path: PathBuf,
    history: &Bound<'py, PyDict>,
    period: &Bound<'py, PyDict>,
    scores: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let policy = Policy::load(&policy_path).map_err(crate::errors::policy)?;
    let scores = assessment_scores(&policy, scores)?;
    let history_cases = points_cases(history)?;
    let history_care = care_columns(history, history_cases.len(), "history")?;
    let period_cases = points_cases(period)?;
    let period_care = care_columns(period, period_cases.len(), "period")?;

    let items = history_cases.iter().enumerate().map(|(i, c)| (c, history_care.stay(&policy, i)));
    let (calibration, rates) = points::calibrate_stays(&policy, items).map_err(|e| fail(e.to_string()))?;
    let mut skipped: Vec<(String, usize, String)> = calibration
        .skipped
        .iter()
        .filter(|(_, s)| *s != points::Skip::NotGrouped)
        .map(|(i, s)| ("calibration".to_string(), *i, s.to_string()))
        .collect();
    let (scored, year) = score_and_settle(&policy, &calibration.weights, &rates, &period_cases, &period_care, &scores, &mut skipped)?;
    let settlement = &year.settlement;

    let out = PyDict::new(py);
    out.set_item("weights", weights_columns(py, &calibration.weights)?)?;
    out.set_item("case_points", case_points_columns(py, &scored)?)?;
    let (hospitals, period_line) = settlement_columns(py, settlement)?;
    out.set_item("settlement", hospitals)?;
    out.set_item("period", period_line)?;
    if policy.perdiem.is_some() {
        out.set_item("perdiem", perdiem_columns(py, &rates)?)?;
    }
    if let (Some(monthly), Some(clearing)) = (&year.monthly, &year.clearing) {
        out.set_item("monthly", monthly_columns(py, monthly)?)?;
        out.set_item("clearing", clearing_columns(py, clearing)?)?;
    }
    out.set_item("skipped", skipped)?;
    Ok(out)
}

/// The assessment scores given as hospital → score; only with a policy that
/// has an `[assessment]` section.
fn assessment_scores(policy: &Policy, scores: Option<&Bound<'_, PyDict>>) -> PyResult<AssessmentScores> {
    Ok(match scores {
        None => AssessmentScores::default(),
        Some(_) if policy.assessment.is_none() => {
            return Err(fail("scores: the policy has no [assessment] section to turn scores into coefficients"))
        }
        Some(d) => {
            let pairs = d.iter().map(|(k, v)| Ok((k.str()?.to_string(), v.extract::<f64>()?))).collect::<PyResult<Vec<_>>>()?;
            AssessmentScores::from_pairs(pairs).map_err(|e| fail(format!("scores: {e}")))?
        }
    })
}

/// Scores the period's cases (per diem where the policy has it) and settles
/// the year; a case that cannot be scored is added to `skipped`.
#[allow(clippy::type_complexity)]
fn score_and_settle<'c>(
    policy: &Policy,
    weights: &points::Weights,
    rates: &points::PerDiemRates,
    period_cases: &'c [points::PointsCase],
    period_care: &Care,
    scores: &AssessmentScores,
    skipped: &mut Vec<(String, usize, String)>,
) -> PyResult<(Vec<(&'c points::PointsCase, points::CaseScore)>, points::YearSettlement)> {
    let mut ledger = Ledger::new();
    let mut scored = Vec::with_capacity(period_cases.len());
    for (i, case) in period_cases.iter().enumerate() {
        match points::score_stay(policy, weights, rates, case, period_care.stay(policy, i)) {
            Ok(s) => {
                let month = period_care.months.as_ref().map(|m| m[i]);
                ledger.add(&SettlementItem { month, ..SettlementItem::of(case, &s) });
                scored.push((case, s));
            }
            Err(skip) => skipped.push(("scoring".into(), i, skip.to_string())),
        }
    }
    let year = ledger.settle(policy, scores).map_err(|e| fail(e.to_string()))?;
    Ok((scored, year))
}

/// The "weights" report: one row per DRG, and `*` for all.
fn weights_columns<'py>(py: Python<'py>, w: &points::Weights) -> PyResult<Bound<'py, PyDict>> {
    let names = ["drg", "n", "kept", "avg_cost", "weight", "base_points", "unstable"];
    let drgs = w.drgs.iter().map(|(d, x)| (d.as_str(), x)).chain(std::iter::once(("*", &w.overall)));
    table(py, &names, drgs, |(d, x)| Ok(cells!(py; d, x.n, x.kept, x.avg_cost, x.weight, x.base_points, x.unstable)))
}

/// The "case_points" report: one row per scored case.
fn case_points_columns<'py>(py: Python<'py>, scored: &[(&points::PointsCase, points::CaseScore)]) -> PyResult<Bound<'py, PyDict>> {
    let names = ["id", "hospital", "drg", "category", "base_points", "coef", "points"];
    table(py, &names, scored, |(c, s)| {
        Ok(cells!(py; c.id.as_str(), c.hospital.as_str(), s.drg.as_deref(), s.category.as_str(), s.base_points, s.coef, s.points))
    })
}

/// The "perdiem" report: one row per per-diem category's rate.
fn perdiem_columns<'py>(py: Python<'py>, rates: &points::PerDiemRates) -> PyResult<Bound<'py, PyDict>> {
    let names = ["category", "name", "n", "kept", "days", "daily_cost", "avg_los", "bedday_points"];
    table(py, &names, &rates.rates, |r| {
        Ok(cells!(py; r.category.as_str(), r.name.as_str(), r.n, r.kept, r.days, r.daily_cost, r.avg_los, r.bedday_points))
    })
}

/// The "monthly" report: one row per month and hospital.
fn monthly_columns<'py>(py: Python<'py>, monthly: &[points::MonthlyRow]) -> PyResult<Bound<'py, PyDict>> {
    let names = ["month", "hospital", "cases", "points", "fund_item_cost", "prepay"];
    table(py, &names, monthly, |m| Ok(cells!(py; m.month.to_string(), m.hospital.as_str(), m.cases, m.points, m.fund_item_cost, m.prepay)))
}

/// The "clearing" report: one row per hospital.
fn clearing_columns<'py>(py: Python<'py>, clearing: &[points::ClearingRow]) -> PyResult<Bound<'py, PyDict>> {
    let names = ["hospital", "score", "assessment_coef", "fund_due", "prepaid", "clearing"];
    table(py, &names, clearing, |c| Ok(cells!(py; c.hospital.as_str(), c.score, c.assessment_coef, c.fund_due, c.prepaid, c.clearing)))
}
