//! `drg group`'s duplicate-id check past its memory budget: every id is
//! checked, the ids written out go to `$TMPDIR`, and a temporary directory
//! that cannot be written keeps them in memory with a note, never skips them.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// More distinct ids than the CLI's default budget holds in memory (about
/// 260,000 of this length): the first ones are on disk by the end.
const DISTINCT: usize = 300_000;

fn input() -> Vec<u8> {
    let mut csv = b"id,sex,age_years,diagnoses\n".to_vec();
    for i in 0..DISTINCT {
        writeln!(csv, "D{i:07},1,30,K35.800").unwrap();
    }
    // Line 2 is the first case; line i + 2 is case i.
    csv.extend_from_slice(b"D0000000,2,40,J18.900\n");
    csv.extend_from_slice(b" D0150000 ,2,40,J18.900\n");
    csv.extend_from_slice(b"D0299999,2,40,J18.900\n");
    csv.extend_from_slice(b"D9999999,2,40,J18.900\n");
    csv
}

fn group(tmpdir: &std::path::Path, input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_drg"))
        .args(["group", "--pack", "demo", "-"])
        .env("TMPDIR", tmpdir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    out
}

/// Each row's warnings, by id, for the rows with any.
fn warnings(out: &Output) -> Vec<(String, String)> {
    let mut reader = csv::Reader::from_reader(&out.stdout[..]);
    let headers = reader.headers().unwrap().clone();
    let (id, warnings) = (headers.iter().position(|h| h == "id").unwrap(), headers.iter().position(|h| h == "warnings").unwrap());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), DISTINCT + 4, "one result row per input row");
    rows.iter().filter(|r| !r[warnings].is_empty()).map(|r| (r[id].to_string(), r[warnings].to_string())).collect()
}

fn expected() -> Vec<(String, String)> {
    [("D0000000", 2), ("D0150000", 150_002), ("D0299999", 300_001)]
        .map(|(id, line)| (id.to_string(), format!("duplicate id: also on line {line}")))
        .to_vec()
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("drg-dupids-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_duplicate_of_an_id_written_out_to_disk_is_found() {
    let tmp = scratch_dir("spill");
    let out = group(&tmp, &input());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(warnings(&out), expected());
    assert!(stderr.contains("(3 with an id already seen"), "{stderr}");
    assert!(!stderr.contains("note"), "nothing to note: {stderr}");
    // The temporary files had no name and are gone with the process.
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn an_unwritable_temporary_directory_keeps_the_ids_in_memory_and_says_so() {
    let missing = scratch_dir("missing").join("not-there");
    let out = group(&missing, &input());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(warnings(&out), expected(), "every id still checked");
    let note = format!("drg group: note: the duplicate-id check could not write to {}", missing.display());
    assert_eq!(stderr.matches(&note).count(), 1, "said once: {stderr}");
    assert!(stderr.contains("ids are kept in memory instead"), "{stderr}");
}
