//! `drg points` with per-diem care and the year (specs/perdiem.md), end to end.

use std::path::PathBuf;
use std::process::{Command, Output};

fn drg() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_drg"));
    cmd.env_remove("DRG_PACK");
    cmd
}

fn data() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/perdiem");
    assert!(dir.join("policy.toml").is_file(), "../shared/testdata/perdiem is missing beside the workspace");
    dir
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("drg-perdiem-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `drg points run` on the reference data, with `policy` and `scores`.
fn run(dir: &std::path::Path, policy: &std::path::Path, period: &std::path::Path, scores: Option<&std::path::Path>) -> Output {
    let mut cmd = drg();
    cmd.args(["points", "run", "--policy"]).arg(policy).arg("--history").arg(data().join("history.csv")).arg("--period").arg(period);
    if let Some(s) = scores {
        cmd.arg("--scores").arg(s);
    }
    cmd.arg("--out-dir").arg(dir).output().unwrap()
}

#[test]
fn run_reproduces_every_reference_file() {
    let dir = temp_dir("run");
    let out = run(&dir, &data().join("policy.toml"), &data().join("period.csv"), Some(&data().join("scores.csv")));
    assert!(out.status.success(), "{}", stderr(&out));
    let mut failures = Vec::new();
    for name in ["weights.csv", "perdiem.csv", "case_points.csv", "settlement.csv", "period.csv", "monthly.csv", "clearing.csv"] {
        let actual = std::fs::read_to_string(dir.join(name)).unwrap();
        let expected = std::fs::read_to_string(data().join("expected").join(name)).unwrap();
        let diffs = drg_conformance::compare_points_csv(&actual, &expected);
        if !diffs.is_empty() {
            failures.push(format!("{name}: {} differences:\n  {}", diffs.len(), diffs[..diffs.len().min(20)].join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn steps_one_by_one_with_published_tables() {
    let dir = temp_dir("steps");
    let policy = data().join("policy.toml");
    let (weights, perdiem) = (dir.join("weights.csv"), dir.join("perdiem.csv"));
    let out = drg()
        .args(["points", "calibrate", "--policy"]).arg(&policy).arg("--history").arg(data().join("history.csv"))
        .arg("-o").arg(&weights).arg("--perdiem-output").arg(&perdiem).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let same = |a: &std::path::Path, name: &str| {
        let diffs = drg_conformance::compare_points_csv(&std::fs::read_to_string(a).unwrap(), &std::fs::read_to_string(data().join("expected").join(name)).unwrap());
        assert!(diffs.is_empty(), "{name}: {}", diffs.join("\n"));
    };
    same(&weights, "weights.csv");
    same(&perdiem, "perdiem.csv");
    // From the printed (rounded) tables the numbers agree to 1e-4 relative:
    // a bed-day rate rounded to 4 places is multiplied by up to hundreds of days.
    let close = |a: &std::path::Path, name: &str| {
        let read = |text: String| -> Vec<Vec<String>> {
            csv::Reader::from_reader(text.as_bytes()).records().map(|r| r.unwrap().iter().map(String::from).collect()).collect()
        };
        let (actual, expected) = (read(std::fs::read_to_string(a).unwrap()), read(std::fs::read_to_string(data().join("expected").join(name)).unwrap()));
        assert_eq!(actual.len(), expected.len(), "{name}");
        let mut diffs = Vec::new();
        for (ra, re) in actual.iter().zip(&expected) {
            for (x, y) in ra.iter().zip(re) {
                let same = match (x.parse::<f64>(), y.parse::<f64>()) {
                    (Ok(x), Ok(y)) => (x - y).abs() <= 0.01f64.max(1e-4 * y.abs()),
                    _ => x == y,
                };
                if !same {
                    diffs.push(format!("{}: {x}, expected {y}", ra[0]));
                }
            }
        }
        assert!(diffs.is_empty(), "{name}: {} differences:\n{}", diffs.len(), diffs[..diffs.len().min(20)].join("\n"));
    };
    // Scoring with a weights table needs the per-diem table too.
    let out = drg().args(["points", "score", "--policy"]).arg(&policy).arg("--weights").arg(&weights).arg("--period").arg(data().join("period.csv")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--perdiem"), "{}", stderr(&out));
    let case_points = dir.join("case_points.csv");
    let out = drg().args(["points", "score", "--policy"]).arg(&policy).arg("--weights").arg(&weights).arg("--perdiem").arg(&perdiem)
        .arg("--period").arg(data().join("period.csv")).arg("-o").arg(&case_points).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    close(&case_points, "case_points.csv");
    let settle = dir.join("settle");
    let out = drg().args(["points", "settle", "--policy"]).arg(&policy).arg("--weights").arg(&weights).arg("--perdiem").arg(&perdiem)
        .arg("--period").arg(data().join("period.csv")).arg("--scores").arg(data().join("scores.csv")).arg("--out-dir").arg(&settle).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    for name in ["settlement.csv", "period.csv", "monthly.csv", "clearing.csv"] {
        close(&settle.join(name), name);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_scores_dates_and_policies_are_refused_naming_the_place() {
    let dir = temp_dir("bad");
    let policy = data().join("policy.toml");
    let refused = |out: Output, needle: &str| {
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(needle), "expected {needle:?} in: {}", stderr(&out));
    };
    let scores = dir.join("scores.csv");
    std::fs::write(&scores, "hospital,score\nH001,90\nH002,70\nH001,80\n").unwrap();
    refused(run(&dir.join("o1"), &policy, &data().join("period.csv"), Some(&scores)), "scores.csv: line 4: hospital H001 is listed twice");
    std::fs::write(&scores, "hospital,score\nH001,101\n").unwrap();
    refused(run(&dir.join("o2"), &policy, &data().join("period.csv"), Some(&scores)), "line 2: hospital H001: score 101");
    // A bad discharge date refuses the run, naming its line.
    let period = dir.join("period.csv");
    let text = std::fs::read_to_string(data().join("period.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[3] = lines[3].replace(",2025-", ",2025-02-30x");
    lines[3] = format!("{},2025-02-30", lines[3].rsplit_once(',').unwrap().0);
    std::fs::write(&period, lines.join("\n") + "\n").unwrap();
    refused(run(&dir.join("o3"), &policy, &period, None), "period.csv line 4: discharge_date \"2025-02-30\" does not exist");
    // --scores needs an [assessment].
    let plain = dir.join("plain.toml");
    std::fs::write(&plain, "[settlement]\nbudget = 1000\n").unwrap();
    refused(run(&dir.join("o4"), &plain, &data().join("period.csv"), Some(&data().join("scores.csv"))), "no [assessment] section");
    // Policies breaking the rules, by key.
    let base = std::fs::read_to_string(&policy).unwrap();
    for (from, to, needle) in [
        ("segments = [[60, 1.0], [180, 0.85], [1e308, 0.7]]", "segments = [[180, 1.0], [60, 0.85], [1e308, 0.7]]", "perdiem.categories[0].segments (PSY): last days not strictly ascending"),
        ("segments = [[30, 1.0], [1e308, 0.8]]", "segments = [[30, 1.0], [365, 0.8]]", "perdiem.categories[1].segments (HOS): the last segment ends at day 365"),
        ("segments = [[90, 1.0], [1e308, 0.9]]", "segments = [[90, 1.0], [1e308, 1.2]]", "perdiem.categories[2].segments[1] (REH): the share 1.2 is outside (0, 1]"),
        ("code = \"REH\"", "code = \"PSY\"", "perdiem.categories[2].code: PSY is listed twice"),
        ("thresholds = [[90.0, 1.05], [70.0, 1.0], [0.0, 0.9]]", "thresholds = [[70.0, 1.0], [90.0, 1.05], [0.0, 0.9]]", "assessment.thresholds: not sorted"),
    ] {
        let bad = dir.join("bad.toml");
        assert!(base.contains(from), "{from}");
        std::fs::write(&bad, base.replace(from, to)).unwrap();
        refused(run(&dir.join("o5"), &bad, &data().join("period.csv"), None), needle);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn without_discharge_dates_no_year_files_and_empty_statuses_keep_their_cost() {
    let dir = temp_dir("nodates");
    // Results only (no case columns), one row with an empty status: it is an
    // ungrouped case with its cost (issue 15 item 11), not dropped.
    let period = dir.join("period.csv");
    std::fs::write(&period, "id,hospital,hospital_level,total_cost,self_pay,status,drg\nP1,H001,3,3506.98,0,,\nP2,H001,3,10000,1000,grouped,ES21\n").unwrap();
    let out = run(&dir.join("out"), &data().join("policy.toml"), &period, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let case_points = std::fs::read_to_string(dir.join("out/case_points.csv")).unwrap();
    assert!(case_points.contains("P1,H001,,ungrouped,0.0000,1.0000,15.6815"), "{case_points}");
    let settlement = std::fs::read_to_string(dir.join("out/settlement.csv")).unwrap();
    assert!(settlement.contains("H001,2,"), "{settlement}");
    assert!(settlement.contains(",13506.98,"), "the cost of both cases: {settlement}");
    assert!(!dir.join("out/monthly.csv").exists() && !dir.join("out/clearing.csv").exists());
    assert!(dir.join("out/perdiem.csv").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_overflowing_scale_is_refused_not_printed_as_inf() {
    let dir = temp_dir("overflow");
    let policy = dir.join("p.toml");
    let base = std::fs::read_to_string(data().join("policy.toml")).unwrap();
    std::fs::write(&policy, base.replace("scale = 100.0", "scale = 1e305")).unwrap();
    let out = run(&dir.join("out"), &policy, &data().join("period.csv"), None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("beyond the largest number"), "{}", stderr(&out));
    for name in ["settlement.csv", "period.csv"] {
        assert!(!dir.join("out").join(name).exists(), "{name} written");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn explain_says_why_a_case_is_or_is_not_per_diem() {
    let policy = data().join("policy.toml");
    let explain = |case: &str| {
        let out = drg().args(["explain", "--policy"]).arg(&policy).args(["--case", case]).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let psy = explain(r#"{"id":"P","sex":"1","age_years":40,"los_days":200,"diagnoses":"F20.000"}"#);
    assert!(psy.contains("per-diem category PSY (any dept, principal diagnosis starting with F20), 200 days"), "{psy}");
    let reh = explain(r#"{"id":"R","sex":"1","age_years":40,"los_days":30,"dept":"康复医学科","diagnoses":"I63.900"}"#);
    assert!(reh.contains("per-diem category REH (dept 康复医学科, any diagnosis)"), "{reh}");
    let drg_case = explain(r#"{"id":"D","sex":"1","age_years":40,"los_days":5,"dept":"内科","diagnoses":"I10.x00"}"#);
    assert!(drg_case.contains("not per-diem category PSY: principal diagnosis I10.x00 starts with none of F20"), "{drg_case}");
    assert!(drg_case.contains("not per-diem category REH: dept 内科 is not one of 康复医学科"), "{drg_case}");
}
