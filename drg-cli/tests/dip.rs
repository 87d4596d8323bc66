//! `drg dip`, end to end: the reference runs of ../shared/testdata/dip through
//! the binary, file by file, and refusals of bad catalogues and policies.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use drg_conformance::dip_support::compare_dip_csv;

fn drg() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_drg"));
    cmd.env_remove("DRG_PACK");
    cmd
}

fn shared() -> PathBuf {
    drg_conformance::shared_dir()
}

fn dip_dir() -> PathBuf {
    shared().join("testdata/dip")
}

fn pack() -> PathBuf {
    shared().join("rulepacks/chs-drg-1.1")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("drg-cli-dip-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str], paths: &[(&str, &Path)]) -> Output {
    let mut cmd = drg();
    cmd.args(args);
    for (flag, path) in paths {
        cmd.arg(flag).arg(path);
    }
    cmd.output().unwrap()
}

fn assert_same_files(out_dir: &Path, expected_dir: &Path, names: &[&str]) {
    let mut failures = Vec::new();
    for name in names {
        let actual = std::fs::read_to_string(out_dir.join(name)).unwrap();
        let expected = std::fs::read_to_string(expected_dir.join(name)).unwrap();
        let diffs = compare_dip_csv(&actual, &expected);
        if !diffs.is_empty() {
            failures.push(format!("{name}: {} differences:\n  {}", diffs.len(), diffs[..diffs.len().min(30)].join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn dip_run_from_history_reproduces_the_five_reference_files() {
    let out_dir = temp_dir("run");
    let d = dip_dir();
    let out = run(
        &["dip", "run"],
        &[
            ("--policy", &d.join("policy.toml")),
            ("--history", &d.join("history.csv")),
            ("--period", &d.join("period.csv")),
            ("--pack", &pack()),
            ("--out-dir", &out_dir),
        ],
    );
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("history: 59"), "{stderr}");
    assert!(stderr.contains("point value 24.064508 yuan/point"), "{stderr}");
    // P0402000137 has no total_cost. (Its line is not checked: CsvCases
    // numbers the lines of a CRLF file one short, as `drg group` does.)
    assert!(stderr.contains(": total_cost missing or not above 0"), "{stderr}");
    assert_eq!(stderr.matches("total_cost missing or not above 0").count(), 83, "{stderr}");
    let names = ["catalogue.csv", "groups.csv", "case_points.csv", "settlement.csv", "period.csv"];
    assert_same_files(&out_dir, &d.join("expected"), &names);
    std::fs::remove_dir_all(out_dir).unwrap();
}

#[test]
fn dip_run_with_a_published_catalogue_reproduces_the_reference() {
    let out_dir = temp_dir("published");
    let d = dip_dir();
    let out = run(
        &["dip", "run", "--quiet"],
        &[
            ("--policy", &d.join("policy.toml")),
            ("--catalogue", &d.join("expected/catalogue.csv")),
            ("--period", &d.join("period.csv")),
            ("--pack", &pack()),
            ("--out-dir", &out_dir),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!out_dir.join("catalogue.csv").exists());
    assert_same_files(&out_dir, &d.join("expected-published"), &["groups.csv", "case_points.csv", "settlement.csv", "period.csv"]);
    std::fs::remove_dir_all(out_dir).unwrap();
}

#[test]
fn dip_build_then_group_jsonl_and_gbk() {
    let dir = temp_dir("build-group");
    let d = dip_dir();
    let catalogue = dir.join("catalogue.csv");
    let out = run(
        &["dip", "build", "--quiet"],
        &[("--policy", &d.join("policy.toml")), ("--history", &d.join("history.csv")), ("--pack", &pack()), ("-o", &catalogue)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let diffs = compare_dip_csv(&std::fs::read_to_string(&catalogue).unwrap(), &std::fs::read_to_string(d.join("expected/catalogue.csv")).unwrap());
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));

    // JSONL input, a bad row among good ones.
    let cases = dir.join("cases.jsonl");
    std::fs::write(
        &cases,
        concat!(
            r#"{"id":"a","sex":"1","age_years":40,"diagnoses":"L27.201|T01.301"}"#, "\n",
            r#"{"id":"b","sex":"1","age_years":"forty","diagnoses":"L27.201"}"#, "\n",
            r#"{"id":"c","sex":"1","age_years":78,"diagnoses":"Z94.100|O00.112|P70.400x002","procedures":"86.7400x026|99.1800"}"#, "\n",
        ),
    )
    .unwrap();
    let out = run(&["dip", "group"], &[("--policy", &d.join("policy.toml")), ("--catalogue", &catalogue), ("--pack", &pack())]);
    assert!(!out.status.success(), "no cases given");
    let mut cmd = drg();
    cmd.args(["dip", "group", "--policy"]).arg(d.join("policy.toml")).arg("--catalogue").arg(&catalogue).arg("--pack").arg(pack()).arg(&cases);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    assert_eq!(rows[0], "id,status,group,severity,reason");
    assert_eq!(rows[1], "a,core,L27.2,1,");
    assert!(rows[2].starts_with("b,invalid,,,") && rows[2].contains("age_years"), "{}", rows[2]);
    assert_eq!(rows[3], "c,core,Z94.1:86.7400x026,1,");

    // GBK CSV with a Chinese column is read with --encoding gbk, refused without.
    let (gbk, _, _) = encoding_rs::GBK.encode("id,sex,age_years,diagnoses,dept\na,1,40,L27.201|T01.301,皮肤科\n");
    let gbk_path = dir.join("gbk.csv");
    std::fs::write(&gbk_path, &gbk).unwrap();
    let mut cmd = drg();
    cmd.args(["dip", "group", "--encoding", "gbk", "--policy"]).arg(d.join("policy.toml")).arg("--catalogue").arg(&catalogue).arg("--pack").arg(pack()).arg(&gbk_path);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().nth(1), Some("a,core,L27.2,1,"));
    let mut cmd = drg();
    cmd.args(["dip", "group", "--policy"]).arg(d.join("policy.toml")).arg("--catalogue").arg(&catalogue).arg("--pack").arg(pack()).arg(&gbk_path);
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("GBK"), "{}", text(&out.stderr));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_catalogues_and_policies_are_refused_with_the_file_and_place() {
    let dir = temp_dir("refusals");
    let d = dip_dir();
    let expected = std::fs::read_to_string(d.join("expected/catalogue.csv")).unwrap();
    let mut lines: Vec<String> = expected.lines().map(String::from).collect();
    lines[3] = lines[3].replacen("comprehensive", "kernel", 1);
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let out = run(
        &["dip", "run"],
        &[("--policy", &d.join("policy.toml")), ("--catalogue", &bad), ("--period", &d.join("period.csv")), ("--out-dir", &dir)],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("bad.csv: line 4: kind"), "{stderr}");

    let policy = std::fs::read_to_string(d.join("policy.toml")).unwrap().replace("low_ratio = 0.5", "low_ratio = 3.0");
    let bad_policy = dir.join("policy.toml");
    std::fs::write(&bad_policy, policy).unwrap();
    let out = run(&["dip", "build"], &[("--policy", &bad_policy), ("--history", &d.join("history.csv"))]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("policy.toml: dip.low_ratio"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn dip_explain_says_why() {
    let d = dip_dir();
    let mut cmd = drg();
    cmd.args(["dip", "explain", "--policy"]).arg(d.join("policy.toml")).arg("--catalogue").arg(d.join("expected/catalogue.csv")).arg("--pack").arg(pack());
    cmd.args(["--case", r#"{"id":"x","sex":"1","age_years":60,"total_cost":9000,"hospital_level":"3","diagnoses":"C15.900|J18.900","procedures":""}"#]);
    let out = cmd.output().unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("comprehensive group C15#C"), "{stdout}");
    assert!(stdout.contains("=> comprehensive C15#C"), "{stdout}");
}
