//! Helpers for the conformance tests: where ../shared is, and how to compare
//! results with its reference files.

pub mod dip_support;
pub mod shape_support;

use std::collections::HashMap;
use std::path::PathBuf;

/// `../shared` beside the workspace. Tests fail (never skip) without it: CI
/// always has it, and a silent skip would hide a broken checkout.
pub fn shared_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    assert!(
        dir.join("README.md").is_file(),
        "the reference material is missing: expected it at {} (clone the project beside shared/)",
        dir.display()
    );
    dir.canonicalize().expect("shared dir")
}

/// One row of a reference `expected.csv`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    pub status: String,
    pub mdc: String,
    pub adrg: String,
    pub drg: String,
}

/// Reads `expected.csv` (`id,status,mdc,adrg,drg`) by id.
pub fn read_expected(path: &std::path::Path) -> HashMap<String, Expected> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    let (id, status, mdc, adrg, drg) = (col("id"), col("status"), col("mdc"), col("adrg"), col("drg"));
    let mut out = HashMap::new();
    for rec in reader.records() {
        let rec = rec.unwrap();
        out.insert(
            rec[id].to_string(),
            Expected {
                status: rec[status].to_string(),
                mdc: rec[mdc].to_string(),
                adrg: rec[adrg].to_string(),
                drg: rec[drg].to_string(),
            },
        );
    }
    out
}

/// Compares results (id, status, mdc, adrg, drg) with the reference: status and
/// DRG always, MDC and ADRG where the reference has them. Returns one line per
/// difference, and the ids missing on either side.
pub fn differences(
    expected: &HashMap<String, Expected>,
    actual: &[(String, String, String, String, String)],
) -> Vec<String> {
    let mut diffs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (id, status, mdc, adrg, drg) in actual {
        seen.insert(id.as_str());
        let Some(e) = expected.get(id) else {
            diffs.push(format!("{id}: not in expected.csv"));
            continue;
        };
        let differs = e.status != *status
            || e.drg != *drg
            || (!e.mdc.is_empty() && e.mdc != *mdc)
            || (!e.adrg.is_empty() && e.adrg != *adrg);
        if differs {
            diffs.push(format!(
                "{id}: expected {} {}/{}/{}, got {status} {mdc}/{adrg}/{drg}",
                e.status, e.mdc, e.adrg, e.drg
            ));
        }
    }
    let mut missing: Vec<&String> = expected.keys().filter(|id| !seen.contains(id.as_str())).collect();
    missing.sort();
    diffs.extend(missing.into_iter().map(|id| format!("{id}: no result")));
    diffs
}

/// Panics with the differing ids (all of them) and the first details.
pub fn assert_agreement(what: &str, total: usize, diffs: &[String]) {
    if diffs.is_empty() {
        eprintln!("{what}: {total} of {total} cases agree");
        return;
    }
    let ids: Vec<&str> = diffs.iter().map(|d| d.split(':').next().unwrap_or("")).collect();
    panic!(
        "{what}: {} of {total} cases differ from the reference.\nids: {}\nfirst differences:\n  {}",
        diffs.len(),
        ids.join(" "),
        diffs.iter().take(40).cloned().collect::<Vec<_>>().join("\n  ")
    );
}

/// The tolerance of a numeric column of the points reports (specs/points.md,
/// "Numbers"): 1e-4 for points and ratios, 0.01 yuan for money; counts exact.
pub fn points_tolerance(column: &str) -> Option<f64> {
    match column {
        "n" | "kept" | "cases" => Some(0.0),
        "points" | "base_points" | "weight" | "coef" | "point_value" => Some(1e-4),
        "avg_cost" | "self_pay" | "cost" | "revenue" | "fund_due" | "prepay" | "balance" | "fund_item_cost"
        | "budget" | "pool" => Some(0.01 + 1e-9),
        _ => None,
    }
}

/// Compares two points reports row by row: same header, same number of rows,
/// text columns equal, numeric columns within [`points_tolerance`]. Returns one
/// line per difference.
pub fn compare_points_csv(actual: &str, expected: &str) -> Vec<String> {
    compare_csv_within(actual, expected, points_tolerance)
}

/// Compares two reports row by row as [`compare_points_csv`] does, with the
/// numeric tolerance of each column given by `tolerance` (None: text equal).
pub fn compare_csv_within(actual: &str, expected: &str, tolerance: impl Fn(&str) -> Option<f64>) -> Vec<String> {
    compare_csv_by(actual, expected, |col, av, ev| within(tolerance(col), av, ev))
}

/// Whether two cells agree: as numbers within `tolerance` (when given and
/// both are numbers), else as text.
pub fn within(tolerance: Option<f64>, actual: &str, expected: &str) -> bool {
    match tolerance {
        Some(tol) => match (actual.parse::<f64>(), expected.parse::<f64>()) {
            (Ok(x), Ok(y)) => (x - y).abs() <= tol,
            _ => actual == expected,
        },
        None => actual == expected,
    }
}

/// Compares two reports row by row: same header, same number of rows, and
/// each cell agreeing by `same(column, actual, expected)`. Returns one line
/// per difference.
pub fn compare_csv_by(actual: &str, expected: &str, same: impl Fn(&str, &str, &str) -> bool) -> Vec<String> {
    let read = |text: &str| -> (Vec<String>, Vec<Vec<String>>) {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let header = r.headers().unwrap().iter().map(String::from).collect();
        let rows = r.records().map(|rec| rec.unwrap().iter().map(String::from).collect()).collect();
        (header, rows)
    };
    let (ah, arows) = read(actual);
    let (eh, erows) = read(expected);
    if ah != eh {
        return vec![format!("header {ah:?}, expected {eh:?}")];
    }
    let mut diffs = Vec::new();
    if arows.len() != erows.len() {
        diffs.push(format!("{} rows, expected {}", arows.len(), erows.len()));
    }
    for (i, (a, e)) in arows.iter().zip(&erows).enumerate() {
        for ((col, av), ev) in eh.iter().zip(a).zip(e) {
            if !same(col, av, ev) {
                diffs.push(format!("row {} ({}), {col}: {av}, expected {ev}", i + 1, a.first().map_or("", |s| s.as_str())));
            }
        }
    }
    diffs
}

/// Compares two CSV tables exactly, row by row (specs/report.md prints every
/// number with fixed decimals, so text equality is the test). Returns one
/// line per differing row, showing both, and any missing or extra rows.
pub fn compare_exact_csv(actual: &str, expected: &str) -> Vec<String> {
    let rows = |text: &str| -> Vec<String> { text.lines().map(str::to_string).collect() };
    let (a, e) = (rows(actual), rows(expected));
    let mut diffs = Vec::new();
    for i in 0..a.len().max(e.len()) {
        match (a.get(i), e.get(i)) {
            (Some(x), Some(y)) if x == y => {}
            (Some(x), Some(y)) => diffs.push(format!("line {}: got      {x}\n    line {}: expected {y}", i + 1, i + 1)),
            (Some(x), None) => diffs.push(format!("line {}: extra row {x}", i + 1)),
            (None, Some(y)) => diffs.push(format!("line {}: missing row {y}", i + 1)),
            (None, None) => unreachable!(),
        }
    }
    diffs
}
