//! `drg group` and `drg columns` on a hospital export (examples/his_export.csv):
//! Chinese headers, wide code columns, value spellings, .xlsx out and in.

use std::process::Command;

fn drg() -> Command {
    Command::new(env!("CARGO_BIN_EXE_drg"))
}

fn example() -> String {
    format!("{}/../examples/his_export.csv", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn an_export_groups_in_one_command_and_round_trips_through_xlsx() {
    let out = drg().args(["group", "-q", &example()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // discharge_date is a field of cases.md, so it is read, not carried through.
    assert_eq!(lines[0], "id,status,mdc,adrg,drg,drg_name,reason,warnings,主要诊断名称");
    assert_eq!(lines.len(), 4);
    // The first row groups as the same case written with cases.md's names.
    let dir = std::env::temp_dir().join(format!("drg-columns-cli-plain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plain = dir.join("plain.csv");
    std::fs::write(
        &plain,
        "id,hospital,hospital_level,sex,age_years,los_days,discharge,dept,total_cost,self_pay,diagnoses,procedures\n\
         ZY20250301001,H001,3,1,30,5,1,普外科,12345.60,1800,K35.301|E11.900,47.0900x001\n",
    )
    .unwrap();
    let out = drg().args(["group", "-q"]).arg(&plain).output().unwrap();
    let plain_text = String::from_utf8(out.stdout).unwrap();
    let plain_row = plain_text.lines().nth(1).unwrap();
    assert!(plain_row.contains(",grouped,"), "{plain_row}");
    assert_eq!(lines[1], format!("{plain_row},急性化脓性阑尾炎"));
    std::fs::remove_dir_all(&dir).ok();

    let dir = std::env::temp_dir().join(format!("drg-columns-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let book = dir.join("results.xlsx");
    let out = drg().args(["group", "-q", &example(), "-o", book.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The workbook reads back, row for row, as the CSV results.
    let mut rows = drg_core::xlsx::XlsxRows::open(&book, None).unwrap();
    assert_eq!(rows.header().join(","), lines[0]);
    let mut record = drg_core::io::Record::new();
    for line in &lines[1..] {
        assert!(rows.read_record(&mut record).unwrap());
        let cells: Vec<String> = record.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&cells).unwrap();
        assert_eq!(String::from_utf8(w.into_inner().unwrap()).unwrap().trim_end(), *line);
    }
    assert!(!rows.read_record(&mut record).unwrap());
    assert!(!dir.join("results.xlsx.part.csv").exists(), "the temporary CSV is removed");
    let out = drg().args(["group", "--format", "xlsx", &example()]).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("-o FILE.xlsx"));
}

#[test]
fn columns_shows_how_each_header_is_understood() {
    let out = drg().args(["columns", &example()]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("病案号") && text.contains("id (alias)"), "{text}");
    assert!(text.contains("diagnoses wide, family D1, other 2"), "{text}");
    assert!(text.contains("diagnoses = 主要诊断编码 + 其他诊断编码1 + 其他诊断编码2"), "{text}");
    let dry = drg().args(["group", "--dry-run", &example()]).output().unwrap();
    assert_eq!(dry.stdout, text.as_bytes());
}

#[test]
fn an_ambiguous_header_is_refused_before_any_output() {
    let dir = std::env::temp_dir().join(format!("drg-columns-amb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("x.csv");
    std::fs::write(&path, "病案号,性别,年龄,diagnoses,主要诊断编码\n1,男,30,K35.800,K35.800\n").unwrap();
    let out = drg().args(["group", path.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("diagnoses") && err.contains("主要诊断编码"), "{err}");
    let map = dir.join("bad.toml");
    std::fs::write(&map, "[columns]\nid = \"性别\"\n").unwrap();
    let out = drg().args(["group", "--columns", map.to_str().unwrap(), path.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("columns.id"), "{}", String::from_utf8_lossy(&out.stderr));
}
