//! Conformance through the BUNDLED packs (opened by id, compiled into drg),
//! not the ../shared directories; and every other bundled pack groups cases
//! drawn from its own lists without an error.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::sync::Arc;

use drg_conformance::{assert_agreement, differences, read_expected, shared_dir};
use drg_core::io::CsvCases;
use drg_core::{Case, GroupResult, Grouper, Sex, Status};

/// Groups testdata/<scheme>/cases.csv with the bundled pack of that id and
/// compares with expected.csv.
fn agree_through_the_bundled_pack(scheme: &str) {
    let pack = drg_packs::open(scheme).unwrap_or_else(|e| panic!("{e}"));
    assert!(pack.info().source.contains("bundled"), "{scheme} was opened from {}", pack.info().source);
    let grouper = Grouper::new(Arc::new(pack));
    let testdata = shared_dir().join("testdata").join(scheme);
    let input = File::open(testdata.join("cases.csv")).unwrap();
    let mut actual = Vec::new();
    for row in CsvCases::new(BufReader::new(input)).unwrap() {
        let row = row.unwrap();
        let (id, result) = match &row.case {
            Ok(case) => (case.id.clone(), grouper.group(case)),
            Err(e) => (e.id.clone(), GroupResult::invalid(e.reason.clone())),
        };
        let s = |x: Option<&str>| x.unwrap_or("").to_string();
        actual.push((id, result.status.to_string(), s(result.mdc), s(result.adrg), s(result.drg)));
    }
    let expected = read_expected(&testdata.join("expected.csv"));
    let diffs = differences(&expected, &actual);
    assert_agreement(&format!("{scheme} (bundled)"), expected.len(), &diffs);
}

#[test]
fn bundled_chs_drg_1_1_agrees_on_every_case() {
    agree_through_the_bundled_pack("chs-drg-1.1");
}

#[test]
fn bundled_chs_drg_1_0_agrees_on_every_case() {
    agree_through_the_bundled_pack("chs-drg-1.0");
}

#[test]
fn bundled_chs_drg_2_0_agrees_on_every_case() {
    agree_through_the_bundled_pack("chs-drg-2.0");
}

#[test]
fn bundled_zhejiang_2022_agrees_on_every_case() {
    agree_through_the_bundled_pack("zhejiang-2022");
}

/// The packs with reference test data; the others get synthetic cases.
const WITH_TESTDATA: [&str; 4] = ["chs-drg-2.0", "chs-drg-1.1", "chs-drg-1.0", "zhejiang-2022"];

/// A small deterministic generator (xorshift), so that a failure repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
    /// A code of a list picked at random.
    fn code(&mut self, lists: &[Vec<String>]) -> String {
        let list = self.pick(lists);
        self.pick(list).clone()
    }
}

/// The named lists of a bundled pack's pack.json (from rulepacks/), split
/// into diagnosis and procedure lists by their suffix.
fn own_lists(id: &str) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rulepacks");
    let manifest = std::fs::read_to_string(root.join("manifest.tsv")).unwrap();
    let stored = manifest
        .lines()
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .find(|f| f.len() == 4 && f[0] == id && f[1] == "pack.json")
        .unwrap_or_else(|| panic!("{id}: no pack.json in rulepacks/manifest.tsv"))[2]
        .to_string();
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root.join(stored)).unwrap()).unwrap();
    let (mut dx, mut proc) = (vec![], vec![]);
    for (name, codes) in json["lists"].as_object().unwrap() {
        let codes: Vec<String> = codes.as_array().unwrap().iter().filter_map(|c| c.as_str().map(str::to_string)).collect();
        if codes.is_empty() {
            continue;
        }
        if name.ends_with(".dx") || name.contains("dx") {
            dx.push(codes);
        } else if name.ends_with(".proc") || name.contains("proc") {
            proc.push(codes);
        }
    }
    (dx, proc)
}

/// `n` cases of a pack: principal diagnosis and procedures from its own
/// lists, secondary diagnoses from any list, ages and sexes mixed.
pub fn synthetic_cases(id: &str, n: usize) -> Vec<Case> {
    let (dx, proc) = own_lists(id);
    assert!(!dx.is_empty() && !proc.is_empty(), "{id}: no diagnosis or procedure lists");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ id.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64)));
    (0..n)
        .map(|i| {
            let mut diagnoses = vec![rng.code(&dx)];
            for _ in 0..rng.next() % 3 {
                diagnoses.push(rng.code(&dx));
            }
            let procedures = (0..rng.next() % 3).map(|_| rng.code(&proc)).collect();
            let newborn = rng.next().is_multiple_of(10);
            Case {
                id: format!("{id}-{i}"),
                sex: Some(if rng.next().is_multiple_of(2) { Sex::Male } else { Sex::Female }),
                age_years: Some(if newborn { 0 } else { 1 + (rng.next() % 90) as i64 }),
                age_days: newborn.then(|| 1 + (rng.next() % 27) as i64),
                weight_g: newborn.then(|| 1500.0 + (rng.next() % 3000) as f64),
                los_days: Some(1 + (rng.next() % 30) as i64),
                diagnoses,
                procedures,
                ..Case::default()
            }
        })
        .collect()
}

#[test]
fn every_other_bundled_pack_groups_cases_from_its_own_lists() {
    let mut report = BTreeMap::new();
    for bundled in drg_packs::bundled().iter().filter(|p| !WITH_TESTDATA.contains(&p.id)) {
        let grouper = Grouper::new(Arc::new(drg_packs::open(bundled.id).unwrap()));
        let cases = synthetic_cases(bundled.id, 300);
        let mut tally: BTreeMap<String, usize> = BTreeMap::new();
        for case in &cases {
            let r = grouper.group(case);
            assert!(r.status != Status::Invalid, "{}: {} is invalid: {:?}", bundled.id, case.id, r.reason);
            if r.status == Status::Grouped {
                let drg = r.drg.unwrap();
                assert!(grouper.pack().drg_name(drg).is_some(), "{}: {drg} has no name", bundled.id);
            }
            *tally.entry(r.status.to_string()).or_default() += 1;
        }
        assert!(tally.get("grouped").copied().unwrap_or(0) >= 100, "{}: too few cases grouped: {tally:?}", bundled.id);
        report.insert(bundled.id, tally);
    }
    assert_eq!(report.len(), 23);
    eprintln!("{report:#?}");
}
