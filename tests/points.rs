//! Point calculation against the reference results of ../shared/testdata/points.

use std::fs;

use drg_conformance::{compare_points_csv, shared_dir};
use drg_core::points::{self, PointsCase, Policy};

/// Reads a grouped case file (history.csv, period.csv) as point calculation
/// sees it.
fn read_cases(path: &std::path::Path) -> Vec<PointsCase> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (id, hospital, level, status, drg, cost, self_pay) =
        (col("id"), col("hospital"), col("hospital_level"), col("status"), col("drg"), col("total_cost"), col("self_pay"));
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            PointsCase {
                id: r[id].to_string(),
                hospital: r[hospital].to_string(),
                hospital_level: Some(r[level].to_string()),
                drg: (&r[status] == "grouped").then(|| r[drg].to_string()),
                total_cost: r[cost].parse().ok(),
                self_pay: r[self_pay].parse().ok(),
            }
        })
        .collect()
}

#[test]
fn the_reference_run_agrees_on_every_row_of_every_file() {
    let dir = shared_dir().join("testdata/points");
    let policy = Policy::load(dir.join("policy.toml")).unwrap();
    let history = read_cases(&dir.join("history.csv"));
    let period = read_cases(&dir.join("period.csv"));

    let calibration = points::calibrate(&policy, &history).unwrap();
    let scored: Vec<_> = period
        .into_iter()
        .map(|c| {
            let s = points::score(&policy, &calibration.weights, &c).unwrap();
            (c, s)
        })
        .collect();
    let settlement = points::settle(&policy, &scored).unwrap();

    let produced = [
        ("weights.csv", points::weights_csv(&calibration.weights)),
        ("case_points.csv", points::case_points_csv(&scored)),
        ("settlement.csv", points::settlement_csv(&settlement)),
        ("period.csv", points::period_csv(&settlement)),
    ];
    let mut failures = Vec::new();
    for (name, actual) in produced {
        let expected = fs::read_to_string(dir.join("expected").join(name)).unwrap();
        let diffs = compare_points_csv(&actual, &expected);
        if !diffs.is_empty() {
            failures.push(format!("{name}: {} differences, first:\n    {}", diffs.len(), diffs[..diffs.len().min(20)].join("\n    ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    let fund_due: f64 = settlement.hospitals.iter().map(|h| h.fund_due).sum();
    let gap = (fund_due - settlement.period.pool).abs();
    assert!(gap < 1e-3, "Σ fund_due = pool: they differ by {gap} yuan");
}
