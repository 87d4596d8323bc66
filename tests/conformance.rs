//! Agreement with the reference grouping of ../shared/testdata, case by case.

use std::fs::File;
use std::io::BufReader;
use std::sync::Arc;

use drg_conformance::{assert_agreement, differences, read_expected, shared_dir};
use drg_core::io::CsvCases;
use drg_core::{GroupResult, Grouper, Pack};

/// How the pack is opened.
#[derive(Clone, Copy)]
enum From {
    Directory,
    /// Compiled to a file first, then opened from it.
    CompiledFile,
}

fn open(scheme: &str, from: From) -> Pack {
    let dir = shared_dir().join("rulepacks").join(scheme);
    match from {
        From::Directory => Pack::open(&dir).unwrap_or_else(|e| panic!("{e}")),
        From::CompiledFile => {
            let bytes = Pack::open(&dir).unwrap_or_else(|e| panic!("{e}")).to_bytes();
            let file = std::env::temp_dir().join(format!("drg-conformance-{}-{scheme}.drgpack", std::process::id()));
            std::fs::write(&file, bytes).unwrap();
            let pack = Pack::open(&file).unwrap_or_else(|e| panic!("{e}"));
            std::fs::remove_file(&file).unwrap();
            pack
        }
    }
}

fn group_file(scheme: &str, explain: bool) -> (usize, Vec<String>) {
    group_file_from(scheme, explain, From::Directory)
}

fn group_file_from(scheme: &str, explain: bool, from: From) -> (usize, Vec<String>) {
    let shared = shared_dir();
    let pack = open(scheme, from);
    let grouper = Grouper::new(Arc::new(pack));
    let input = File::open(shared.join("testdata").join(scheme).join("cases.csv")).unwrap();
    let mut actual = Vec::new();
    for row in CsvCases::new(BufReader::new(input)).unwrap() {
        let row = row.unwrap();
        let (id, result) = match &row.case {
            Ok(case) => (case.id.clone(), grouper.group_with(case, explain)),
            Err(e) => (e.id.clone(), GroupResult::invalid(e.reason.clone())),
        };
        if explain && result.status != drg_core::Status::Invalid {
            assert!(!result.trace.is_empty(), "{id}: explain gave no trail");
        }
        let s = |x: Option<&str>| x.unwrap_or("").to_string();
        actual.push((id, result.status.to_string(), s(result.mdc), s(result.adrg), s(result.drg)));
    }
    let expected = read_expected(&shared.join("testdata").join(scheme).join("expected.csv"));
    (expected.len(), differences(&expected, &actual))
}

#[test]
fn chs_drg_1_1_agrees_on_every_case() {
    let (total, diffs) = group_file("chs-drg-1.1", false);
    assert_agreement("chs-drg-1.1", total, &diffs);
}

#[test]
fn chs_drg_1_0_agrees_on_every_case() {
    let (total, diffs) = group_file("chs-drg-1.0", false);
    assert_agreement("chs-drg-1.0", total, &diffs);
}

#[test]
fn chs_drg_2_0_agrees_on_every_case() {
    let (total, diffs) = group_file("chs-drg-2.0", false);
    assert_agreement("chs-drg-2.0", total, &diffs);
}

/// Zhejiang's scheme needs `retry_ungroupable` (specs/rulepack.md, step 3).
#[test]
fn zhejiang_2022_agrees_on_every_case() {
    let (total, diffs) = group_file("zhejiang-2022", false);
    assert_agreement("zhejiang-2022", total, &diffs);
}

#[test]
fn compiled_packs_agree_on_every_case_of_every_scheme() {
    for scheme in ["chs-drg-1.1", "chs-drg-1.0", "chs-drg-2.0", "zhejiang-2022"] {
        let (total, diffs) = group_file_from(scheme, false, From::CompiledFile);
        assert_agreement(&format!("{scheme}, compiled"), total, &diffs);
    }
}

/// The explain path evaluates the same rules; it must reach the same groups.
#[test]
fn explaining_does_not_change_results() {
    let (total, diffs) = group_file("chs-drg-1.0", true);
    assert_agreement("chs-drg-1.0 with explain", total, &diffs);
    // The retries of Zhejiang's scheme and the `if_no_adrg` stops of 2.0 are
    // explained too.
    let (total, diffs) = group_file("zhejiang-2022", true);
    assert_agreement("zhejiang-2022 with explain", total, &diffs);
}

/// Every pack of ../shared/rulepacks loads with the strict loader, and the
/// counts it read are the ones its pack.json declares.
#[test]
fn every_shared_pack_loads_and_its_counts_match() {
    let dir = shared_dir().join("rulepacks");
    let mut ids: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("pack.json").is_file())
        .collect();
    ids.sort();
    assert!(ids.len() >= 27, "expected the 27 packs of ../shared/rulepacks, found {}", ids.len());
    let mut problems = Vec::new();
    for path in &ids {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let pack = match Pack::open(path) {
            Ok(pack) => pack,
            Err(e) => {
                problems.push(format!("{name}: refused: {e}"));
                continue;
            }
        };
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path.join("pack.json")).unwrap()).unwrap();
        let declared = &json["counts"];
        let c = pack.info().counts;
        let read = [("mdc", c.mdc), ("adrg", c.adrg), ("drg", c.drg)];
        for (key, n) in read {
            if declared[key].as_u64() != Some(n as u64) {
                problems.push(format!("{name}: counts.{key} says {}, read {n}", declared[key]));
            }
        }
        if !pack.info().warnings.is_empty() {
            problems.push(format!("{name}: warnings {:?}", pack.info().warnings));
        }
        if pack.info().id != name {
            problems.push(format!("{name}: id {}", pack.info().id));
        }
    }
    assert!(problems.is_empty(), "{} of {} packs:\n  {}", problems.len(), ids.len(), problems.join("\n  "));
    eprintln!("{} packs load, counts as declared", ids.len());
}

#[test]
fn national_packs_report_their_counts() {
    let shared = shared_dir();
    for (scheme, adrg, drg) in [("chs-drg-1.1", 376, 628), ("chs-drg-1.0", 376, 618), ("chs-drg-2.0", 409, 634)] {
        let pack = Pack::open(shared.join("rulepacks").join(scheme)).unwrap();
        let info = pack.info();
        assert_eq!(info.id, scheme);
        assert_eq!((info.counts.mdc, info.counts.adrg, info.counts.drg), (26, adrg, drg));
        assert!(info.warnings.is_empty(), "{:?}", info.warnings);
    }
}
