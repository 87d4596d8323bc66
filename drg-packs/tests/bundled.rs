//! The bundled packs: the same files as ../shared/rulepacks, open by name,
//! their counts are those of their pack.json, and the rule for choosing a pack.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use drg_packs::PackSource;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn shared_packs() -> PathBuf {
    let dir = workspace().join("../shared/rulepacks");
    assert!(dir.join("NOTICE.md").is_file(), "../shared/rulepacks is missing beside the workspace");
    dir
}

/// (pack, file) → stored file, from rulepacks/manifest.tsv.
fn manifest() -> BTreeMap<(String, String), String> {
    let text = std::fs::read_to_string(workspace().join("rulepacks/manifest.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            ((f[0].to_string(), f[1].to_string()), f[2].to_string())
        })
        .collect()
}

fn files_under(dir: &Path, base: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, base, out);
        } else {
            out.push(path.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/"));
        }
    }
}

#[test]
fn every_shared_pack_is_bundled_file_for_file_byte_for_byte() {
    let manifest = manifest();
    let shared = shared_packs();
    let mut expected = 0;
    let mut differ = vec![];
    for entry in std::fs::read_dir(&shared).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.join("pack.json").is_file() {
            continue;
        }
        let id = dir.file_name().unwrap().to_string_lossy().to_string();
        assert!(drg_packs::find(&id).is_some(), "{id} is in ../shared/rulepacks but not bundled");
        let mut files = vec![];
        files_under(&dir, &dir, &mut files);
        for file in files {
            expected += 1;
            let Some(stored) = manifest.get(&(id.clone(), file.clone())) else {
                differ.push(format!("{id}/{file}: not in rulepacks/manifest.tsv"));
                continue;
            };
            let ours = std::fs::read(workspace().join("rulepacks").join(stored)).unwrap();
            if ours != std::fs::read(dir.join(&file)).unwrap() {
                differ.push(format!("{id}/{file}: stored as {stored}, which differs"));
            }
        }
    }
    assert!(differ.is_empty(), "run scripts/import-rulepacks.py:\n{}", differ.join("\n"));
    assert_eq!(manifest.len(), expected, "rulepacks/manifest.tsv lists files that ../shared/rulepacks does not have");
    assert_eq!(drg_packs::bundled().len(), 27);
    let notice = std::fs::read_to_string(shared.join("NOTICE.md")).unwrap();
    assert_eq!(drg_packs::NOTICE, notice, "rulepacks/NOTICE.md is the shared one");
}

/// The `counts` of the pack's own pack.json.
fn declared_counts(id: &str) -> (usize, usize, usize) {
    let stored = &manifest()[&(id.to_string(), "pack.json".to_string())];
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(workspace().join("rulepacks").join(stored)).unwrap()).unwrap();
    let n = |k: &str| json["counts"][k].as_u64().unwrap_or_else(|| panic!("{id}: counts.{k}")) as usize;
    (n("mdc"), n("adrg"), n("drg"))
}

/// Opens every bundled pack by id and compares its counts with its
/// pack.json's; `adrg_too`: the ADRG count as well, and no load warning.
fn check_opens_with_its_counts(adrg_too: bool) {
    let mut wrong = vec![];
    for bundled in drg_packs::bundled() {
        let id = bundled.id;
        let pack = drg_packs::open(id).unwrap_or_else(|e| panic!("{id}: {e}"));
        let info = pack.info();
        assert_eq!(info.id, id);
        assert_eq!(bundled.counts, info.counts, "{id}: the listing's counts are the pack's");
        let c = info.counts;
        let (mdc, adrg, drg) = declared_counts(id);
        let differs = c.mdc != mdc || c.drg != drg || (adrg_too && (c.adrg != adrg || !info.warnings.is_empty()));
        if differs {
            wrong.push(format!("{id}: read {c}, pack.json says {mdc} MDC, {adrg} ADRG, {drg} DRG; warnings {:?}", info.warnings));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_pack_opens_by_name_with_the_mdc_and_drg_counts_of_its_pack_json() {
    check_opens_with_its_counts(false);
}

/// specs/rulepack.md: ambiguous (QY) entries are not ADRGs in `counts`.
#[test]
fn every_pack_opens_by_name_with_all_the_counts_of_its_pack_json() {
    check_opens_with_its_counts(true);
}

#[test]
fn an_argument_is_a_path_if_it_exists_else_an_id() {
    assert!(matches!(drg_packs::parse("wuhan-2022").unwrap(), PackSource::Bundled(p) if p.id == "wuhan-2022"));
    assert!(matches!(drg_packs::parse("demo").unwrap(), PackSource::Demo));
    // An existing path wins over an id.
    let dir = std::env::temp_dir().join(format!("drg-packs-test-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("chs-drg-1.1")).unwrap();
    let inside = dir.join("chs-drg-1.1");
    assert!(matches!(drg_packs::parse(&inside).unwrap(), PackSource::Path(p) if p == inside));
    // An empty directory is then refused as a pack, naming what is missing.
    let e = drg_packs::open(&inside).unwrap_err();
    assert!(e.to_string().contains("pack.json"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
    // A name with a separator is never an id.
    let e = drg_packs::parse("./wuhan-2022").unwrap_err();
    assert!(e.to_string().contains("no such file or directory"), "{e}");
    assert!(!e.to_string().contains("bundled"), "{e}");
    // An unknown id lists the ids.
    let e = drg_packs::parse("wuhan-2099").unwrap_err().to_string();
    assert!(e.starts_with("wuhan-2099: ") && e.contains("chs-drg-2.0") && e.contains("demo"), "{e}");
}

#[test]
fn the_default_is_the_argument_then_drg_pack_then_chs_drg_2_0() {
    // The only test of this binary that touches the environment.
    std::env::remove_var("DRG_PACK");
    assert_eq!(drg_packs::resolve(None).unwrap().to_string(), "chs-drg-2.0");
    std::env::set_var("DRG_PACK", "");
    assert_eq!(drg_packs::resolve(None).unwrap().to_string(), "chs-drg-2.0");
    std::env::set_var("DRG_PACK", "chs-drg-1.0");
    assert_eq!(drg_packs::resolve(None).unwrap().to_string(), "chs-drg-1.0");
    assert_eq!(drg_packs::resolve(Some("wuhan-2022".as_ref())).unwrap().to_string(), "wuhan-2022");
    assert_eq!(drg_packs::open_or_default(None).unwrap().info().id, "chs-drg-1.0");
    std::env::set_var("DRG_PACK", "no-such-pack");
    let e = drg_packs::resolve(None).unwrap_err().to_string();
    assert!(e.contains("no-such-pack") && e.contains("$DRG_PACK"), "{e}");
    std::env::remove_var("DRG_PACK");
    assert_eq!(drg_packs::open_or_default(None).unwrap().info().id, "chs-drg-2.0");
    assert_eq!(drg_packs::open("demo").unwrap().info().id, drg_core::Pack::demo().info().id);
}

#[test]
fn every_pack_says_it_is_a_conversion() {
    for p in drg_packs::bundled() {
        assert!(p.provenance.contains("not an official release"), "{}: {}", p.id, p.provenance);
        assert!(p.provenance.contains("OpenDRG"), "{}: {}", p.id, p.provenance);
    }
    assert!(drg_packs::NOTICE.contains("Apache License 2.0"));
    assert!(drg_packs::OPENDRG_LICENSE.contains("Apache License"));
}
