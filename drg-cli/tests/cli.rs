//! The `drg` binary, end to end.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// `drg` with the demo pack chosen explicitly (`DRG_PACK=demo`): these tests
/// were written for it. A test may still set `DRG_PACK` or `--pack`.
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

/// Runs `cmd` with `stdin` written on its own thread while the output is
/// read: written first, an input larger than what drg holds in flight would
/// wait on drg while drg waits on its full output pipe.
fn run_with_stdin(cmd: &mut Command, stdin: &str) -> Output {
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.as_bytes().to_vec();
    let writer = std::thread::spawn(move || pipe.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// CSV output as rows of column → value.
fn parse_csv(out: &[u8]) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_reader(out);
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| headers.iter().zip(r.unwrap().iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect())
        .collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("drg-cli-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The issue's "done when": the national 1.1 scheme through the binary, every
/// case agreeing with the reference on status and DRG.
#[test]
fn group_chs_drg_1_1_agrees_with_the_reference() {
    let dir = temp_dir("conformance");
    let out = dir.join("out.csv");
    let status = drg()
        .args(["group", "--pack"])
        .arg(shared().join("rulepacks/chs-drg-1.1"))
        .arg(shared().join("testdata/chs-drg-1.1/cases.csv"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", text(&status.stderr));
    let summary = text(&status.stderr);
    assert!(summary.contains("50000 cases"), "{summary}");

    let rows = parse_csv(&std::fs::read(&out).unwrap());
    assert_eq!(rows.len(), 50_000, "one result row per input row");
    let mut expected = csv::Reader::from_path(shared().join("testdata/chs-drg-1.1/expected.csv")).unwrap();
    let expected: HashMap<String, (String, String)> = expected
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), (r[1].to_string(), r[4].to_string()))
        })
        .collect();
    let differing: Vec<&str> = rows
        .iter()
        .filter(|r| expected.get(&r["id"]) != Some(&(r["status"].clone(), r["drg"].clone())))
        .map(|r| r["id"].as_str())
        .collect();
    assert!(differing.is_empty(), "{} cases differ: {}", differing.len(), differing.join(" "));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_readme_example_runs_on_the_demo_pack() {
    let out = drg().args(["group"]).arg(workspace().join("examples/cases.csv")).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows = parse_csv(&out.stdout);
    assert_eq!(rows.len(), 15);
    let header: Vec<String> = csv::Reader::from_reader(&out.stdout[..]).headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, ["id", "status", "mdc", "adrg", "drg", "drg_name", "reason", "warnings"]);
    let by_id: HashMap<&str, &HashMap<String, String>> = rows.iter().map(|r| (r["id"].as_str(), r)).collect();
    assert_eq!(by_id["D002"]["drg"], "GC23");
    assert_eq!(by_id["D013"]["status"], "invalid");
    assert!(by_id["D013"]["reason"].starts_with("line 14: sex:"), "{}", by_id["D013"]["reason"]);
    assert_eq!(by_id["D015"]["status"], "ungroupable");
    assert_eq!(by_id["D012"]["warnings"], "unknown diagnosis code Z99.999");
    assert!(text(&out.stderr).contains("15 cases: 12 grouped, 1 ungroupable, 0 ambiguous, 2 invalid"));
}

#[test]
fn bad_rows_keep_their_place_and_say_why() {
    let input = "id,sex,age_years,diagnoses,note\n\
                 1,1,30,K35.800,a\n\
                 2,1,thirty,K35.800,b\n\
                 3,1\n\
                 4,9,30,K35.800,d\n\
                 5,1,30,,e\n\
                 6,2,40,J18.900,f\n";
    let out = run_with_stdin(drg().args(["group", "--threads", "3", "-"]), input);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows = parse_csv(&out.stdout);
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str()).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5", "6"], "one row per input row, in input order");
    assert_eq!(rows[1]["reason"], "line 3: age_years: \"thirty\" is not a number");
    assert_eq!(rows[2]["reason"], "line 4: expected 5 fields, found 2");
    assert!(rows[3]["reason"].starts_with("line 5: sex: \"9\""));
    assert_eq!(rows[4]["reason"], "diagnoses: none given");
    assert_eq!(rows[5]["status"], "grouped");
    assert_eq!(rows[0]["note"], "a", "unknown columns are carried through");
    assert_eq!(rows[5]["note"], "f");
}

#[test]
fn many_rows_stay_in_order_across_threads() {
    let mut input = String::from("id,sex,age_years,diagnoses,procedures\n");
    for i in 0..20_000 {
        let dx = ["K35.800", "J18.900|J96.000", "I10.x05", "N18.500", "K80.100|I50.900"][i % 5];
        input.push_str(&format!("{i},{},{},{dx},\n", 1 + i % 2, 20 + i % 60));
    }
    let single = run_with_stdin(drg().args(["group", "--threads", "1", "-"]), &input);
    let multi = run_with_stdin(drg().args(["group", "--threads", "4", "-"]), &input);
    assert!(single.status.success() && multi.status.success());
    assert_eq!(single.stdout, multi.stdout, "results do not depend on the thread count");
    let rows = parse_csv(&multi.stdout);
    assert_eq!(rows.len(), 20_000);
    assert!(rows.iter().enumerate().all(|(i, r)| r["id"] == i.to_string()));
}

#[test]
fn jsonl_in_and_out() {
    let input = "{\"id\": \"a\", \"sex\": \"男\", \"age_years\": 30, \"diagnoses\": [\"k35.800\"], \"procedures\": \"47.0901\", \"ward\": 7}\n\
                 not json\n\
                 [1, 2]\n";
    let out = run_with_stdin(drg().args(["group", "--format", "jsonl", "-"]), input);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["drg"], "GC25");
    assert_eq!(lines[0]["ward"], 7, "unknown keys are carried through");
    assert_eq!(lines[1]["status"], "invalid");
    assert!(lines[1]["reason"].as_str().unwrap().starts_with("line 2: not valid JSON"));
    assert_eq!(lines[2]["reason"], "line 3: expected a JSON object");

    // A JSON array, to CSV.
    let out = run_with_stdin(drg().args(["group", "-"]), "[{\"id\": \"b\", \"sex\": 2, \"age_years\": 60, \"diagnoses\": \"J18.900\"}]");
    let rows = parse_csv(&out.stdout);
    assert_eq!(rows[0]["drg"], "ES25");
}

#[test]
fn explain_prints_the_trail() {
    let out = drg()
        .args(["explain", "--case", r#"{"id": "x", "sex": 1, "age_years": 30, "diagnoses": ["K35.800", "E11.900"], "procedures": ["47.0901"]}"#])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let trail = text(&out.stdout);
    assert!(trail.contains("✓ MDC MDCG"), "{trail}");
    assert!(trail.contains("✓ has CC: secondary diagnosis E11.900 2型糖尿病 is a CC"), "{trail}");
    assert!(trail.trim_end().ends_with("=> grouped MDCG / GC2 / GC23 阑尾切除术，伴一般并发症或合并症"), "{trail}");

    let out = drg()
        .args(["explain", "--input"])
        .arg(workspace().join("examples/cases.csv"))
        .args(["--id", "D015"])
        .output()
        .unwrap();
    let trail = text(&out.stdout);
    assert!(trail.contains("=> ungroupable"), "{trail}");
    assert!(trail.contains("warning: unknown diagnosis code N18.500"), "{trail}");

    let out = drg().args(["explain", "--case", "{not json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not valid JSON"));
}

#[test]
fn code_lookup_and_search() {
    let out = drg().args(["code", "lookup", "ｋ３５．８００", "51.2300"]).output().unwrap();
    assert!(out.status.success());
    let s = text(&out.stdout);
    assert!(s.contains("K35.800\tdiagnosis\t急性阑尾炎，其他未特指"), "{s}");
    assert!(s.contains("51.2300\tprocedure\t腹腔镜下胆囊切除术"), "{s}");
    assert!(s.contains("operating-room procedure"), "{s}");

    let out = drg().args(["code", "lookup", "NOPE1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "an unknown code is a failed lookup");

    let out = drg().args(["code", "search", "胆囊"]).output().unwrap();
    let s = text(&out.stdout);
    assert!(s.contains("K80.100\tdiagnosis") && s.contains("51.2300\tprocedure"), "{s}");
}

#[test]
fn pack_from_the_environment_and_pack_check() {
    let out = drg()
        .env("DRG_PACK", shared().join("rulepacks/chs-drg-1.0"))
        .args(["code", "lookup", "I10.x05"])
        .output()
        .unwrap();
    assert!(text(&out.stdout).contains("MDCF.dx"), "$DRG_PACK is used: {}", text(&out.stdout));

    let out = drg().args(["pack", "check"]).arg(shared().join("rulepacks/chs-drg-1.1")).output().unwrap();
    assert!(out.status.success());
    let s = text(&out.stdout);
    assert!(s.contains("chs-drg-1.1\tCHS-DRG 1.1") && s.contains("26 MDC, 376 ADRG, 628 DRG"), "{s}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_broken_pack_is_refused_with_file_and_place() {
    let dir = temp_dir("broken-pack");
    let pack = dir.join("pack");
    copy_dir(&workspace().join("drg-core/demo-pack"), &pack);
    let cc = pack.join("cc.tsv");
    let mut text_cc = std::fs::read_to_string(&cc).unwrap();
    text_cc.push_str("X99.900\tSEVERE\t3\n");
    std::fs::write(&cc, text_cc).unwrap();

    let out = drg().args(["pack", "check"]).arg(&pack).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("cc.tsv (line 15)") && err.contains("SEVERE"), "{err}");

    let out = drg().args(["group", "--pack"]).arg(&pack).arg(workspace().join("examples/cases.csv")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cc.tsv (line 15)"));
    assert!(out.stdout.is_empty());

    std::fs::remove_file(pack.join("or_procedures.tsv")).unwrap();
    let out = drg().args(["pack", "check"]).arg(&pack).output().unwrap();
    assert!(text(&out.stderr).contains("or_procedures.tsv: missing"), "{}", text(&out.stderr));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_header_without_required_columns_is_an_error() {
    let out = run_with_stdin(drg().args(["group", "-"]), "id,diagnoses\n1,K35.800\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no column sex, age_years"), "{}", text(&out.stderr));
}

#[test]
fn an_empty_or_header_only_input_gives_a_header_only_output() {
    let out = run_with_stdin(drg().args(["group", "--input-format", "csv", "-"]), "id,sex,age_years,diagnoses\n");
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "id,status,mdc,adrg,drg,drg_name,reason,warnings\n");
    let out = run_with_stdin(drg().args(["group", "--input-format", "jsonl", "--format", "jsonl", "-"]), "");
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
}

fn points_dir() -> PathBuf {
    shared().join("testdata/points")
}

#[test]
fn points_run_reproduces_the_four_reference_files() {
    let out_dir = temp_dir("points-run");
    let out = drg()
        .args(["points", "run", "--policy"])
        .arg(points_dir().join("policy.toml"))
        .arg("--history")
        .arg(points_dir().join("history.csv"))
        .arg("--period")
        .arg(points_dir().join("period.csv"))
        .arg("--out-dir")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("point value 238.442104 yuan/point"), "{}", text(&out.stderr));
    for name in ["weights.csv", "case_points.csv", "settlement.csv", "period.csv"] {
        let actual = std::fs::read_to_string(out_dir.join(name)).unwrap();
        let expected = std::fs::read_to_string(points_dir().join("expected").join(name)).unwrap();
        let diffs = drg_conformance::compare_points_csv(&actual, &expected);
        assert!(diffs.is_empty(), "{name}: {}", diffs.join("\n"));
    }
    std::fs::remove_dir_all(out_dir).unwrap();
}

#[test]
fn points_steps_one_by_one_with_a_weights_table() {
    let dir = temp_dir("points-steps");
    let policy = points_dir().join("policy.toml");
    let weights = dir.join("weights.csv");
    let out = drg().args(["points", "calibrate", "--policy"]).arg(&policy).arg("--history").arg(points_dir().join("history.csv")).arg("-o").arg(&weights).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Scoring from the (rounded) table agrees with the reference on every category.
    let out = drg().args(["points", "score", "--policy"]).arg(&policy).arg("--weights").arg(&weights).arg("--period").arg(points_dir().join("period.csv")).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let scored = parse_csv(&out.stdout);
    let expected = parse_csv(&std::fs::read(points_dir().join("expected/case_points.csv")).unwrap());
    assert_eq!(scored.len(), expected.len());
    for (a, e) in scored.iter().zip(&expected) {
        assert_eq!((&a["id"], &a["category"], &a["drg"]), (&e["id"], &e["category"], &e["drg"]));
        let (pa, pe): (f64, f64) = (a["points"].parse().unwrap(), e["points"].parse().unwrap());
        assert!((pa - pe).abs() <= 1e-3 * pe.max(1.0), "{}: {pa} vs {pe}", a["id"]);
    }

    let settle_dir = dir.join("settle");
    let out = drg().args(["points", "settle", "--policy"]).arg(&policy).arg("--weights").arg(&weights).arg("--period").arg(points_dir().join("period.csv")).arg("--out-dir").arg(&settle_dir).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let period = parse_csv(&std::fs::read(settle_dir.join("period.csv")).unwrap());
    let value: f64 = period[0]["point_value"].parse().unwrap();
    assert!((value - 238.442104).abs() < 1e-3, "{value}");
    assert_eq!(parse_csv(&std::fs::read(settle_dir.join("settlement.csv")).unwrap()).len(), 8);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn points_rows_without_a_usable_cost_are_reported_by_line() {
    let dir = temp_dir("points-bad-rows");
    let history = dir.join("history.csv");
    std::fs::write(
        &history,
        "id,hospital,hospital_level,total_cost,self_pay,status,drg\n\
         h1,H1,3,1000,100,grouped,GC25\n\
         h2,H1,3,,100,grouped,GC25\n\
         h3,H1,3,-5,0,grouped,GC25\n\
         h4,H1,3,abc,0,grouped,GC25\n\
         h5,H1,3,3000,100,ungroupable,\n",
    )
    .unwrap();
    let out = drg().args(["points", "calibrate", "--policy"]).arg(points_dir().join("policy.toml")).arg("--history").arg(&history).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("line 3: total_cost is missing; left out of calibration"), "{err}");
    assert!(err.contains("line 4: total_cost -5 is not above 0; left out of calibration"), "{err}");
    assert!(err.contains("line 5: total_cost: \"abc\" is not a number"), "{err}");
    assert!(err.contains("1 used, 1 not grouped"), "{err}");
    let weights = parse_csv(&out.stdout);
    assert_eq!(weights.len(), 2, "GC25 and the overall line");
    assert_eq!((weights[0]["drg"].as_str(), weights[0]["n"].as_str(), weights[0]["avg_cost"].as_str()), ("GC25", "1", "1000.00"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn points_period_without_results_is_grouped_with_the_pack() {
    let dir = temp_dir("points-group");
    let period = dir.join("period.csv");
    // The example cases carry no status/drg: they are grouped with the demo pack.
    std::fs::copy(workspace().join("examples/cases.csv"), &period).unwrap();
    let weights = dir.join("weights.csv");
    std::fs::write(&weights, "drg,n,kept,avg_cost,weight,base_points,unstable\nGC25,9,9,9000.00,0.900000,90.0000,false\n*,99,99,10000.00,1.000000,100.0000,false\n").unwrap();
    let out = drg().args(["points", "score", "--policy"]).arg(points_dir().join("policy.toml")).arg("--weights").arg(&weights).arg("--period").arg(&period).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows = parse_csv(&out.stdout);
    assert_eq!(rows.len(), 15);
    let d001 = rows.iter().find(|r| r["id"] == "D001").unwrap();
    assert_eq!((d001["drg"].as_str(), d001["category"].as_str()), ("GC25", "normal"));
    let d002 = rows.iter().find(|r| r["id"] == "D002").unwrap();
    // GC23 has no base points here: it is priced as ungrouped and keeps its
    // code, so that the missing price shows (points.md §2, issue 15 item 12).
    assert_eq!((d002["drg"].as_str(), d002["category"].as_str()), ("GC23", "ungrouped"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_bad_policy_is_refused_naming_the_key() {
    let dir = temp_dir("bad-policy");
    let policy = dir.join("policy.toml");
    std::fs::write(&policy, "[settlement]\nshare_ratio = 1.2\n").unwrap();
    let out = drg().args(["points", "calibrate", "--policy"]).arg(&policy).arg("--history").arg(points_dir().join("history.csv")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("settlement.share_ratio: 1.2 is outside [0, 1]"), "{}", text(&out.stderr));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_compiled_pack_groups_like_its_directory_and_damage_is_refused() {
    let dir = temp_dir("compile");
    let file = dir.join("chs-drg-1.0.drgpack");
    let out = drg().args(["pack", "compile"]).arg(shared().join("rulepacks/chs-drg-1.0")).arg("-o").arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("chs-drg-1.0 (26 MDC, 376 ADRG, 618 DRG)"), "{}", text(&out.stdout));

    let cases = shared().join("testdata/chs-drg-1.0/cases.csv");
    let from_dir = drg().args(["group", "-q", "--pack"]).arg(shared().join("rulepacks/chs-drg-1.0")).arg(&cases).output().unwrap();
    let from_file = drg().args(["group", "-q", "--pack"]).arg(&file).arg(&cases).output().unwrap();
    assert!(from_file.status.success(), "{}", text(&from_file.stderr));
    assert_eq!(from_dir.stdout, from_file.stdout, "the same results, row for row");

    let bytes = std::fs::read(&file).unwrap();
    let truncated = dir.join("truncated.drgpack");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let out = drg().args(["pack", "check"]).arg(&truncated).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("truncated.drgpack: truncated"), "{}", text(&out.stderr));
    let mut corrupted = bytes.clone();
    corrupted[bytes.len() - 100] ^= 1;
    std::fs::write(&truncated, &corrupted).unwrap();
    let out = drg().args(["group", "--pack"]).arg(&truncated).arg(&cases).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("corrupted: the checksum does not match"), "{}", text(&out.stderr));
    std::fs::remove_dir_all(dir).unwrap();
}

// Hostile input: whatever the file holds, `drg group` gives a clear error or
// one row per input row.

/// Groups `input` (raw bytes) from standard input; the output rows.
fn group_bytes(args: &[&str], input: &[u8]) -> (Output, Vec<HashMap<String, String>>) {
    let mut child = drg().arg("group").args(args).arg("-").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let bytes = input.to_vec();
    let writer = std::thread::spawn(move || { let _ = stdin.write_all(&bytes); });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let rows = if out.status.success() { parse_csv(&out.stdout) } else { vec![] };
    (out, rows)
}

#[test]
fn hostile_empty_input_bom_and_crlf() {
    let (out, _) = group_bytes(&[], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("the input is empty"), "{}", text(&out.stderr));

    let (out, rows) = group_bytes(&[], "\u{feff}id,sex,age_years,diagnoses\r\n1,1,30,K35.800\r\n2,2,40,J18.900\r\n".as_bytes());
    assert!(out.status.success());
    assert_eq!(rows.iter().map(|r| r["drg"].as_str()).collect::<Vec<_>>(), ["GU15", "ES25"]);
}

#[test]
fn hostile_gbk_is_refused_by_name_or_read_when_asked() {
    // 男/女 and a Chinese department in GBK.
    let gbk: &[u8] = b"id,sex,age_years,dept,diagnoses\n1,\xc4\xd0,30,\xcd\xe2\xbf\xc6,K35.800\n2,\xc5\xae,40,\xc4\xda\xbf\xc6,J18.900\n";
    let (out, _) = group_bytes(&[], gbk);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("not UTF-8") && err.contains("GBK") && err.contains("--encoding gbk"), "{err}");
    let (out, rows) = group_bytes(&["--encoding", "gbk"], gbk);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(rows.iter().map(|r| r["drg"].as_str()).collect::<Vec<_>>(), ["GU15", "ES25"]);
}

#[test]
fn hostile_huge_fields_and_many_codes() {
    let mut input = b"id,sex,age_years,diagnoses\n".to_vec();
    input.extend_from_slice(b"big,1,30,");
    input.extend(std::iter::repeat(b'K').take(10 << 20));
    input.extend_from_slice(b"\nmany,1,30,K35.800|");
    input.extend_from_slice(vec!["E11.900"; 10_000].join("|").as_bytes());
    input.extend_from_slice(b"\nbigid,1,30,K35.800\n");
    let (out, rows) = group_bytes(&[], &input);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["status"], "ungroupable");
    assert!(rows[0]["reason"].len() < 200 && rows[0]["reason"].ends_with("(10485760 bytes)"), "a short reason");
    assert_eq!(rows[1]["drg"], "GU13", "10,000 secondary diagnoses, one of them a CC");
    assert!(out.stdout.len() < 10_000, "no field is copied whole into the output");
}

#[test]
fn hostile_nul_bytes_and_odd_numbers() {
    let input = "id,sex,age_years,diagnoses\n\
                 nul,1,30,K35.800\0\n\
                 big,1,1e999,K35.800\n\
                 neg,1,-1,K35.800\n\
                 nan,1,NaN,K35.800\n\
                 wide,1,３０,K35.800\n\
                 inf,1,inf,K35.800\n";
    let (out, rows) = group_bytes(&[], input.as_bytes());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let status: Vec<&str> = rows.iter().map(|r| r["status"].as_str()).collect();
    assert_eq!(status, ["grouped", "invalid", "invalid", "invalid", "grouped", "invalid"]);
    assert_eq!(rows[0]["drg"], "GU15", "a NUL inside a code is dropped");
    assert!(rows[1]["reason"].contains("\"1e999\" is not a number"));
    assert_eq!(rows[2]["reason"], "age_years: -1 is negative");
}

#[test]
fn hostile_duplicate_ids_are_reported_and_kept() {
    let input = "id,sex,age_years,diagnoses\na,1,30,K35.800\nb,1,30,K35.800\na,2,40,J18.900\n";
    let (out, rows) = group_bytes(&[], input.as_bytes());
    assert!(out.status.success());
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2]["warnings"], "duplicate id: also on line 2");
    assert_eq!(rows[2]["drg"], "ES25", "the duplicate is still grouped");
    assert!(text(&out.stderr).contains("1 with an id already seen"), "{}", text(&out.stderr));
}

#[test]
fn hostile_packs() {
    let dir = temp_dir("hostile-packs");
    // An expression nested 10,000 deep is refused (the JSON reader's depth
    // limit), not a stack overflow.
    let deep = dir.join("deep");
    copy_dir(&workspace().join("drg-core/demo-pack"), &deep);
    let mut json = String::from("true");
    for _ in 0..10_000 {
        json = format!("{{\"not\": {json}}}");
    }
    let pack = std::fs::read_to_string(deep.join("pack.json")).unwrap();
    let pack = pack.replacen(r#""when": {"pdx_in": "MDCE.dx"}"#, &format!(r#""when": {json}"#), 1);
    std::fs::write(deep.join("pack.json"), pack).unwrap();
    let out = drg().args(["pack", "check"]).arg(&deep).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("deep/pack.json (line ") && err.contains("recursion limit"), "{err}");

    // A pack path that is a file; a pack file that cannot be read.
    let out = drg().args(["pack", "check"]).arg(workspace().join("README.md")).output().unwrap();
    assert!(text(&out.stderr).contains("README.md: is a file, but neither a pack directory nor a compiled pack"));
    let unreadable = dir.join("unreadable");
    copy_dir(&workspace().join("drg-core/demo-pack"), &unreadable);
    std::fs::remove_file(unreadable.join("cc.tsv")).unwrap();
    std::fs::create_dir(unreadable.join("cc.tsv")).unwrap();
    let out = drg().args(["pack", "check"]).arg(&unreadable).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cc.tsv: is not a regular file"), "{}", text(&out.stderr));
    std::fs::remove_dir_all(dir).unwrap();
}
