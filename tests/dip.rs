//! DIP against the reference results of ../shared/testdata/dip: the run from
//! history (`expected/`) and with the published catalogue
//! (`expected-published/`), row by row; and the properties of dip.md.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use drg_conformance::dip_support::compare_dip_csv;
use drg_conformance::shared_dir;
use drg_core::dip::{self, CatalogueBuilder, Dip, DipPolicy, DipStatus, KeyMaker};
use drg_core::io::CsvCases;
use drg_core::{Case, Pack};

/// The rows of a case file: the case, or why it could not be read (with its id).
fn read_rows(path: &Path) -> Vec<Result<Case, (String, String)>> {
    let file = fs::File::open(path).unwrap();
    CsvCases::new(std::io::BufReader::new(file))
        .unwrap()
        .map(|row| row.unwrap().case.map_err(|e| (e.id, e.reason)))
        .collect()
}

fn pack() -> Arc<Pack> {
    Arc::new(Pack::open(shared_dir().join("rulepacks/chs-drg-1.1")).unwrap())
}

fn build(policy: &DipPolicy, keys: &KeyMaker, history: &[Result<Case, (String, String)>]) -> dip::Catalogue {
    let mut builder = CatalogueBuilder::new(policy);
    for case in history.iter().flatten() {
        let Some(cost) = case.total_cost.filter(|&c| c > 0.0) else { continue };
        if let Ok(k) = keys.keys(case) {
            builder.add(&k, cost);
        }
    }
    builder.finish().unwrap()
}

/// groups.csv, case_points.csv, settlement.csv and period.csv of a period.
fn run_period(dip: &Dip, period: &[Result<Case, (String, String)>]) -> ([String; 4], drg_core::points::Settlement) {
    let mut groups = format!("{}\n", dip::groups_header().join(",")).into_bytes();
    let mut points = format!("{}\n", dip::case_points_header().join(",")).into_bytes();
    let mut scored = Vec::new();
    for row in period {
        match row {
            Err((id, reason)) => dip::write_groups_row(&mut groups, id, &dip::DipGrouping::invalid(reason.clone())),
            Ok(case) => {
                let (g, s) = dip.group_and_score(case);
                dip::write_groups_row(&mut groups, &case.id, &g);
                if let Some(s) = s {
                    let hospital = case.hospital.clone().unwrap_or_default();
                    dip::write_case_points_row(&mut points, &case.id, &hospital, g.group_code(), &s);
                    assert!(s.points >= 0.0 && s.score >= 0.0, "{}: negative score or points", case.id);
                    scored.push((hospital, case.total_cost.unwrap(), case.self_pay.unwrap_or(0.0), s.points));
                }
            }
        }
    }
    let settlement = dip::settle(&dip.policy, scored.iter().map(|(h, c, s, p)| (h.as_str(), *c, *s, *p))).unwrap();
    let text = |w: Vec<u8>| String::from_utf8(w).unwrap();
    (
        [
            text(groups),
            text(points),
            drg_core::points::settlement_csv(&settlement),
            drg_core::points::period_csv(&settlement),
        ],
        settlement,
    )
}

fn check(dir: &Path, produced: &[(&str, &str)]) {
    let mut failures = Vec::new();
    for (name, actual) in produced {
        let expected = fs::read_to_string(dir.join(name)).unwrap();
        let diffs = compare_dip_csv(actual, &expected);
        if !diffs.is_empty() {
            failures.push(format!(
                "{}/{name}: {} differences, first:\n    {}",
                dir.display(),
                diffs.len(),
                diffs[..diffs.len().min(30)].join("\n    ")
            ));
        } else {
            eprintln!("{}/{name}: every row agrees", dir.display());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn assert_fund_due_is_the_pool(settlement: &drg_core::points::Settlement) {
    let fund_due: f64 = settlement.hospitals.iter().map(|h| h.fund_due).sum();
    let gap = (fund_due - settlement.period.pool).abs();
    assert!(gap < 1e-3, "Σ fund_due = pool: they differ by {gap} yuan");
}

#[test]
fn the_run_from_history_agrees_on_every_row_of_every_file() {
    let dir = shared_dir().join("testdata/dip");
    let policy = DipPolicy::load(dir.join("policy.toml")).unwrap();
    let keys = KeyMaker::new(pack(), &policy);
    let catalogue = build(&policy, &keys, &read_rows(&dir.join("history.csv")));
    let catalogue_text = dip::catalogue_csv(&catalogue);
    let dip = Dip::new(policy, keys, catalogue);
    let ([groups, points, settlement_text, period], settlement) = run_period(&dip, &read_rows(&dir.join("period.csv")));
    check(
        &dir.join("expected"),
        &[
            ("catalogue.csv", &catalogue_text),
            ("groups.csv", &groups),
            ("case_points.csv", &points),
            ("settlement.csv", &settlement_text),
            ("period.csv", &period),
        ],
    );
    assert_fund_due_is_the_pool(&settlement);
}

#[test]
fn the_run_with_the_published_catalogue_agrees_on_every_row_of_every_file() {
    let dir = shared_dir().join("testdata/dip");
    let policy = DipPolicy::load(dir.join("policy.toml")).unwrap();
    let keys = KeyMaker::new(pack(), &policy);
    let file = fs::File::open(dir.join("expected/catalogue.csv")).unwrap();
    let catalogue = dip::read_catalogue_csv(file).unwrap();
    let dip = Dip::new(policy, keys, catalogue);
    let ([groups, points, settlement_text, period], settlement) = run_period(&dip, &read_rows(&dir.join("period.csv")));
    check(
        &dir.join("expected-published"),
        &[("groups.csv", &groups), ("case_points.csv", &points), ("settlement.csv", &settlement_text), ("period.csv", &period)],
    );
    assert_fund_due_is_the_pool(&settlement);
}

/// Grouping does not depend on the order of the procedures nor on
/// duplicates: every period case, with its procedures reversed and repeated,
/// falls into the same group with the same severity.
#[test]
fn grouping_is_independent_of_procedure_order_and_duplicates() {
    let dir = shared_dir().join("testdata/dip");
    let policy = DipPolicy::load(dir.join("policy.toml")).unwrap();
    let keys = KeyMaker::new(pack(), &policy);
    let catalogue = dip::read_catalogue_csv(fs::File::open(dir.join("expected/catalogue.csv")).unwrap()).unwrap();
    let dip = Dip::new(policy, keys, catalogue);
    let mut checked = 0;
    for case in read_rows(&dir.join("period.csv")).into_iter().flatten() {
        let g = dip.group(&case);
        let mut shuffled = case.clone();
        shuffled.procedures.reverse();
        shuffled.procedures.extend(case.procedures.iter().rev().cloned());
        shuffled.procedures.rotate_left(case.procedures.len().min(1));
        let h = dip.group(&shuffled);
        assert_eq!((g.status, g.group_code(), g.severity), (h.status, h.group_code(), h.severity), "{}", case.id);
        if g.status != DipStatus::Invalid && !case.procedures.is_empty() {
            checked += 1;
        }
    }
    assert!(checked > 1000, "only {checked} cases with procedures");
}
