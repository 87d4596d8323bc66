//! Per-diem care and the year (specs/perdiem.md) against the reference
//! results of ../shared/testdata/perdiem, through drg-core.

use std::fs;

use drg_conformance::{points_tolerance, shared_dir};
use drg_core::points::{self, AssessmentScores, CareFacts, Ledger, PerDiemStay, PointsCase, Policy, SettlementItem};

/// A case of history.csv or period.csv with what per-diem care needs.
struct Row {
    case: PointsCase,
    invalid: bool,
    los_days: Option<i64>,
    dept: String,
    diagnoses: String,
    discharge_date: String,
}

fn read_rows(path: &std::path::Path) -> Vec<Row> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (id, hospital, level, status, drg, cost, self_pay) =
        (col("id"), col("hospital"), col("hospital_level"), col("status"), col("drg"), col("total_cost"), col("self_pay"));
    let (los, dept, dx, date) = (col("los_days"), col("dept"), col("diagnoses"), col("discharge_date"));
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            Row {
                case: PointsCase {
                    id: r[id].to_string(),
                    hospital: r[hospital].to_string(),
                    hospital_level: Some(r[level].to_string()),
                    drg: (&r[status] == "grouped").then(|| r[drg].to_string()),
                    total_cost: r[cost].parse().ok(),
                    self_pay: r[self_pay].parse().ok(),
                },
                invalid: &r[status] == "invalid",
                los_days: r[los].parse().ok(),
                dept: r[dept].to_string(),
                diagnoses: r[dx].to_string(),
                discharge_date: r[date].to_string(),
            }
        })
        .collect()
}

fn stay(policy: &Policy, row: &Row) -> Option<PerDiemStay> {
    policy.perdiem_stay(&CareFacts {
        invalid: row.invalid,
        los_days: row.los_days,
        dept: Some(&row.dept),
        diagnoses: Some(&row.diagnoses),
    })
}

/// The tolerance of a column of the new files, beyond points.md's: money
/// 0.01, points and coefficients 1e-4, days and counts exact.
fn tolerance(column: &str) -> Option<f64> {
    match column {
        "days" => Some(0.0),
        "bedday_points" | "assessment_coef" | "avg_los" | "score" => Some(1e-4),
        "daily_cost" | "prepaid" | "clearing" => Some(0.01 + 1e-9),
        _ => points_tolerance(column),
    }
}

/// Row-by-row comparison, as `compare_points_csv` with [`tolerance`].
pub fn compare(actual: &str, expected: &str) -> Vec<String> {
    drg_conformance::compare_csv_within(actual, expected, tolerance)
}

#[test]
fn the_reference_year_agrees_on_every_row_of_every_file() {
    let dir = shared_dir().join("testdata/perdiem");
    let policy = Policy::load(dir.join("policy.toml")).unwrap();
    let scores = points::read_scores_csv(fs::File::open(dir.join("scores.csv")).unwrap()).unwrap();
    let history = read_rows(&dir.join("history.csv"));
    let period = read_rows(&dir.join("period.csv"));

    let (calibration, rates) = points::calibrate_stays(&policy, history.iter().map(|r| (&r.case, stay(&policy, r)))).unwrap();
    let mut ledger = Ledger::new();
    let mut scored = Vec::new();
    for row in &period {
        let s = points::score_stay(&policy, &calibration.weights, &rates, &row.case, stay(&policy, row)).unwrap();
        let month = points::parse_discharge_date(&row.discharge_date).unwrap();
        ledger.add(&SettlementItem { month: Some(month), ..SettlementItem::of(&row.case, &s) });
        scored.push((row.case.clone(), s));
    }
    let year = ledger.settle(&policy, &scores).unwrap();

    let produced = [
        ("weights.csv", points::weights_csv(&calibration.weights)),
        ("perdiem.csv", points::perdiem_csv(&rates)),
        ("case_points.csv", points::case_points_csv(&scored)),
        ("settlement.csv", points::settlement_csv(&year.settlement)),
        ("period.csv", points::period_csv(&year.settlement)),
        ("monthly.csv", points::monthly_csv(year.monthly.as_deref().unwrap())),
        ("clearing.csv", points::clearing_csv(year.clearing.as_deref().unwrap())),
    ];
    let mut failures = Vec::new();
    for (name, actual) in produced {
        let expected = fs::read_to_string(dir.join("expected").join(name)).unwrap();
        let diffs = compare(&actual, &expected);
        if !diffs.is_empty() {
            failures.push(format!("{name}: {} differences, first:\n    {}", diffs.len(), diffs[..diffs.len().min(20)].join("\n    ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The printed clearing adds up exactly.
    for c in year.clearing.as_deref().unwrap() {
        assert_eq!(points::fixed(c.fund_due - c.prepaid, 2), points::fixed(c.clearing, 2), "{}", c.hospital);
    }
    // Without scores every hospital gets the default coefficient.
    let plain = ledger.settle(&policy, &AssessmentScores::default()).unwrap();
    assert!(plain.assessment_coefs.iter().all(|&c| c == 1.0));
}
