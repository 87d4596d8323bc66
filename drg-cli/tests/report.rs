//! `drg report` end to end: the reference tables through the binary, a file
//! grouped on the fly, departments, a benchmark for risk levels, bad input.

use std::path::PathBuf;
use std::process::Command;

use drg_conformance::compare_exact_csv;

/// drg with the demo pack: these tests' cases are written for it (the
/// default, chs-drg-2.0, takes K35.800, a 2.0 gray code, as ungroupable).
fn drg() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_drg"));
    cmd.env("DRG_PACK", "demo");
    cmd
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn shared() -> PathBuf {
    let dir = workspace().join("../shared");
    assert!(dir.join("README.md").is_file(), "../shared is missing beside the workspace");
    dir
}

fn out_dir(name: &str) -> PathBuf {
    let dir = workspace().join("target/test-report").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn weights() -> PathBuf {
    shared().join("testdata/points/expected/weights.csv")
}

fn period() -> PathBuf {
    shared().join("testdata/points/period.csv")
}

fn read(dir: &std::path::Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn report_writes_the_reference_tables_and_the_page() {
    let dir = out_dir("reference");
    let out = drg().arg("report").arg("--weights").arg(weights()).arg(period()).arg("--out-dir").arg(&dir).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("20000 cases, 19385 grouped"), "{stderr}");
    let mut failures = Vec::new();
    for name in ["drgs.csv", "hospitals.csv", "scheme.csv"] {
        let expected = std::fs::read_to_string(shared().join("testdata/report/expected").join(name)).unwrap();
        let diffs = compare_exact_csv(&read(&dir, name), &expected);
        if !diffs.is_empty() {
            failures.push(format!("{name}:\n    {}", diffs[..diffs.len().min(30)].join("\n    ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let html = read(&dir, "report.html");
    for needle in [r#"id="chart-cmi-cost""#, r#"id="chart-group-rate""#, r#"id="chart-low-risk""#, r#"id="chart-cv""#, r#"id="worst-cv""#, "H008"] {
        assert!(html.contains(needle), "report.html lacks {needle}");
    }
    assert_eq!(html.matches(r#"class="hospital-point""#).count(), 8);
}

#[test]
fn cases_without_results_are_grouped_with_the_pack_and_unweighted_drgs_reported() {
    let dir = out_dir("grouped-here");
    let out = drg()
        .arg("report")
        .arg("--weights")
        .arg(weights())
        .args(["--by", "dept"])
        .arg(workspace().join("examples/cases.csv"))
        .arg("--out-dir")
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("15 rows grouped with"), "{stderr}");
    assert!(stderr.contains("4 grouped rows are in 4 DRGs without a weight") && stderr.contains("EB11 FM35 HC23 PS29"), "{stderr}");
    // The demo pack's DRGs are national codes; those the period never
    // priced are named.
    let scheme = read(&dir, "scheme.csv");
    assert!(scheme.starts_with("cases,grouped,group_rate,drgs_used,riv_cost,riv_los,drgs_cv_over_1\n15,12,"), "{scheme}");
    let hospitals = read(&dir, "hospitals.csv");
    assert!(hospitals.starts_with("hospital,dept,cases,valid,grouped,"), "{hospitals}");
    let cases: u64 = hospitals.lines().skip(1).map(|l| l.split(',').nth(2).unwrap().parse::<u64>().unwrap()).sum();
    assert_eq!(cases, 15, "every row counts once: {hospitals}");
}

#[test]
fn risk_levels_from_a_benchmark_file() {
    let dir = out_dir("risk-from");
    let bench = dir.with_extension("bench.csv");
    std::fs::create_dir_all(bench.parent().unwrap()).unwrap();
    // One DRG of the period with deaths; every other DRG is absent and so low.
    std::fs::write(&bench, "id,hospital,discharge,status,drg\n1,X,5,grouped,AB19\n2,X,1,grouped,AB19\n").unwrap();
    let out = drg()
        .arg("report")
        .arg("--weights")
        .arg(weights())
        .arg("--risk-from")
        .arg(&bench)
        .arg(period())
        .arg("--out-dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let drgs = read(&dir, "drgs.csv");
    let levels: Vec<(&str, &str)> = drgs.lines().skip(1).map(|l| {
        let f: Vec<&str> = l.split(',').collect();
        (f[0], f[4])
    }).collect();
    assert!(levels.iter().all(|(d, r)| if *d == "AB19" { *r == "mid-low" } else { *r == "low" }), "{drgs}");
}

#[test]
fn a_bad_weights_table_and_a_file_without_cases_are_refused() {
    let dir = out_dir("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("weights.csv");
    std::fs::write(&bad, "drg,weight\nA,1\n").unwrap();
    let out = drg().arg("report").arg("--weights").arg(&bad).arg(period()).arg("--out-dir").arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no column n"), "{}", String::from_utf8_lossy(&out.stderr));

    let cases = dir.join("cases.csv");
    std::fs::write(&cases, "id,hospital,total_cost\n1,H,100\n").unwrap();
    let out = drg().arg("report").arg("--weights").arg(weights()).arg(&cases).arg("--out-dir").arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("neither status and drg columns"), "{stderr}");
}
