//! DRG indicators against the reference tables of ../shared/testdata/report:
//! the shared points period with the reference weights, every table exact.

use std::fs::{self, File};
use std::io::BufReader;

use drg_conformance::{compare_exact_csv, shared_dir};
use drg_core::points::read_weights_csv;
use drg_core::report::{drgs_csv, hospitals_csv, scheme_csv, Indicators, ReportReader};

#[test]
fn the_indicator_tables_agree_with_the_reference_row_by_row() {
    let shared = shared_dir();
    let weights = read_weights_csv(File::open(shared.join("testdata/points/expected/weights.csv")).unwrap()).unwrap();
    let period = shared.join("testdata/points/period.csv");
    let mut reader = ReportReader::new(BufReader::new(File::open(&period).unwrap())).unwrap();
    let mut indicators = Indicators::new(&weights, false);
    let mut problems = Vec::new();
    let summary = reader
        .read_all(None, 1, &mut |row| indicators.add(row), &mut |line, m| problems.push(format!("line {line}: {m}")))
        .unwrap();
    assert_eq!(summary.rows, 20_000);
    assert!(problems.is_empty(), "the shared period has no unreadable value: {problems:?}");
    let report = indicators.finish(None);
    assert!(report.unweighted.is_empty(), "every DRG of the period has a weight: {:?}", report.unweighted);

    let expected_dir = shared.join("testdata/report/expected");
    let mut failures = Vec::new();
    for (name, actual) in
        [("drgs.csv", drgs_csv(&report)), ("hospitals.csv", hospitals_csv(&report)), ("scheme.csv", scheme_csv(&report))]
    {
        let expected = fs::read_to_string(expected_dir.join(name)).unwrap();
        let diffs = compare_exact_csv(&actual, &expected);
        if !diffs.is_empty() {
            failures.push(format!("{name}: {} rows differ:\n    {}", diffs.len(), diffs[..diffs.len().min(30)].join("\n    ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
