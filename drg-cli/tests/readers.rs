//! Every command that reads cases reads hospital exports (specs/columns.md):
//! `drg dip run`, `drg points run` and `drg report` on the shared test data
//! rewritten at test time as an .xlsx with Chinese headers and wide code
//! columns, and as a GBK CSV with the 病案首页 field codes, thousands
//! separators and units, write the same files as from the original CSV.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use drg_conformance::dip_support::compare_dip_csv;
use drg_conformance::shape_support::{gbk_front_page_export, xlsx_export, Table};
use drg_conformance::{compare_exact_csv, points_tolerance, shared_dir};

fn drg() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_drg"));
    cmd.env_remove("DRG_PACK");
    cmd
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("drg-readers-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The shapes of one original file: (.xlsx, GBK CSV) in `dir`.
fn shapes_of(original: &Path, dir: &Path) -> (PathBuf, PathBuf) {
    let table = Table::read(original);
    let stem = original.file_stem().unwrap().to_string_lossy();
    let (xlsx, gbk) = (dir.join(format!("{stem}.xlsx")), dir.join(format!("{stem}-gbk.csv")));
    xlsx_export(&table, &xlsx);
    gbk_front_page_export(&table, &gbk);
    (xlsx, gbk)
}

/// Runs `args` and panics with its standard error when it fails.
fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{:?}: {}", cmd, String::from_utf8_lossy(&out.stderr));
}

/// Runs `drg <command> run` with the policy of `data`, a (history, period)
/// pair of inputs, the command's own `options` and `extra`, writing to `out`,
/// which it returns.
fn run_over_history(command: &str, data: &Path, options: &[&OsStr], (history, period): (&Path, &Path), out: PathBuf, extra: &[&str]) -> PathBuf {
    run(drg()
        .args([command, "run", "--quiet", "--policy"])
        .arg(data.join("policy.toml"))
        .arg("--history")
        .arg(history)
        .arg("--period")
        .arg(period)
        .args(options)
        .arg("--out-dir")
        .arg(&out)
        .args(extra));
    out
}

/// Compares the files `names` of two output directories with `compare`,
/// listing every difference.
fn assert_same(what: &str, actual: &Path, expected: &Path, names: &[&str], compare: fn(&str, &str) -> Vec<String>) {
    let mut failures = Vec::new();
    for name in names {
        let a = std::fs::read_to_string(actual.join(name)).unwrap_or_else(|e| panic!("{what}: {name}: {e}"));
        let e = std::fs::read_to_string(expected.join(name)).unwrap();
        let diffs = compare(&a, &e);
        if !diffs.is_empty() {
            failures.push(format!("{what}: {name}: {} differences:\n  {}", diffs.len(), diffs[..diffs.len().min(20)].join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn dip_run_reads_excel_and_gbk_exports_as_the_original_csv() {
    let data = shared_dir().join("testdata/dip");
    let pack = shared_dir().join("rulepacks/chs-drg-1.1");
    let dir = temp_dir("dip");
    let (history_xlsx, history_gbk) = shapes_of(&data.join("history.csv"), &dir);
    let (period_xlsx, period_gbk) = shapes_of(&data.join("period.csv"), &dir);
    let options = [OsStr::new("--pack"), pack.as_os_str()];
    let dip_run = |history: &Path, period: &Path, out: &str, extra: &[&str]| {
        run_over_history("dip", &data, &options, (history, period), dir.join(out), extra)
    };
    let original = dip_run(&data.join("history.csv"), &data.join("period.csv"), "original", &[]);
    let xlsx = dip_run(&history_xlsx, &period_xlsx, "xlsx", &["--sheet", "结算清单"]);
    let gbk = dip_run(&history_gbk, &period_gbk, "gbk", &["--encoding", "gbk"]);
    let names = ["catalogue.csv", "groups.csv", "case_points.csv", "settlement.csv", "period.csv"];
    // The reason of an invalid row names its line, which a CRLF CSV numbers
    // differently from a sheet: reasons are compared as given or not.
    assert_same("xlsx", &xlsx, &original, &names, compare_dip_csv);
    assert_same("gbk", &gbk, &original, &names, compare_dip_csv);
    std::fs::remove_dir_all(dir).unwrap();
}

fn same_points(actual: &str, expected: &str) -> Vec<String> {
    // Exactly the same text is expected; the tolerance only shows the size
    // of a difference should one appear.
    if actual == expected {
        return Vec::new();
    }
    let mut diffs = drg_conformance::compare_csv_within(actual, expected, points_tolerance);
    diffs.insert(0, "the files differ".into());
    diffs
}

#[test]
fn points_run_with_per_diem_and_dates_reads_excel_and_gbk_exports_as_the_original_csv() {
    let data = shared_dir().join("testdata/perdiem");
    let dir = temp_dir("perdiem");
    let (history_xlsx, history_gbk) = shapes_of(&data.join("history.csv"), &dir);
    let (period_xlsx, period_gbk) = shapes_of(&data.join("period.csv"), &dir);
    let scores = data.join("scores.csv");
    let options = [OsStr::new("--scores"), scores.as_os_str()];
    let points_run = |history: &Path, period: &Path, out: &str, extra: &[&str]| {
        run_over_history("points", &data, &options, (history, period), dir.join(out), extra)
    };
    let original = points_run(&data.join("history.csv"), &data.join("period.csv"), "original", &[]);
    let xlsx = points_run(&history_xlsx, &period_xlsx, "xlsx", &[]);
    let gbk = points_run(&history_gbk, &period_gbk, "gbk", &["--encoding", "gbk"]);
    let names = ["weights.csv", "perdiem.csv", "case_points.csv", "settlement.csv", "period.csv", "monthly.csv", "clearing.csv"];
    assert_same("xlsx", &xlsx, &original, &names, same_points);
    assert_same("gbk", &gbk, &original, &names, same_points);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn report_reads_excel_and_gbk_exports_as_the_original_csv() {
    let shared = shared_dir();
    let period = shared.join("testdata/points/period.csv");
    let weights = shared.join("testdata/points/expected/weights.csv");
    let dir = temp_dir("report");
    let (xlsx, gbk) = shapes_of(&period, &dir);
    let report = |input: &Path, out: &str, extra: &[&str]| {
        let out = dir.join(out);
        run(drg().args(["report", "--pack", "demo", "--by", "dept", "--weights"]).arg(&weights).arg("--out-dir").arg(&out).args(extra).arg(input));
        out
    };
    let original = report(&period, "original", &[]);
    let from_xlsx = report(&xlsx, "xlsx", &[]);
    let from_gbk = report(&gbk, "gbk", &["--encoding", "gbk"]);
    let names = ["drgs.csv", "hospitals.csv", "scheme.csv"];
    assert_same("xlsx", &from_xlsx, &original, &names, compare_exact_csv);
    assert_same("gbk", &from_gbk, &original, &names, compare_exact_csv);
    std::fs::remove_dir_all(dir).unwrap();
}
