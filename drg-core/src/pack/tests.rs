//! Loader tests on tiny hand-made packs; the helpers serve the grouper's tests too.

use serde_json::{json, Value};

use super::*;

/// cc.tsv of the tiny packs: S1 is an MCC (table t1), S2 a CC (t2), S3 an MCC
/// (t3) and a CC (t4) at once.
pub(crate) const CC_TSV: &str = "code\tlevel\texclusion_table\nS1\tMCC\tt1\nS2\tCC\tt2\nS3\tMCC\tt3\nS3\tCC\tt4\n";
/// P1 excludes table t1 (so S1 is no MCC with P1) and t4.
pub(crate) const EXCL_TSV: &str = "principal_code\texclusion_table\nP1\tt1\nP1\tt4\nP2\tt9\n";
pub(crate) const OR_TSV: &str = "code\tname\nOR1\tAn operating-room procedure\n";
pub(crate) const DX_TSV: &str =
    "code\tname\nP1\tPrincipal one\nP2\tPrincipal two\nS1\tSecondary one\nS2\tSecondary two\nS3\tSecondary three\nR1\tHead injury\nR2\tChest injury\nR3\tLeg injury\n";
pub(crate) const PROC_TSV: &str = "code\tname\nOR1\tAn operating-room procedure\nN1\tA non-OR procedure\n";
/// OLD1 → OLD2 → P2 is a chain; L1 → L2 → L1 a cycle.
pub(crate) const DX_MAP_TSV: &str = "from\tto\nOLD1\tOLD2\nOLD2\tP2\nL1\tL2\nL2\tL1\nP1\tP1\n";
pub(crate) const PROC_MAP_TSV: &str = "from\tto\nOLDPROC\tOR1\n";

/// The lists and maps every tiny pack has.
pub(crate) fn lists() -> Value {
    json!({
        "P": ["P1", "P2"],
        "P1": ["P1"],
        "P2": ["P2", "P2"],
        "S": ["S1", "S2", "S3"],
        "S2": ["S2"],
        "R": ["R1", "R2", "R3"],
        "OR": ["OR1"],
        "N": ["N1"]
    })
}

pub(crate) fn maps() -> Value {
    json!({"regions": {"R1": "head", "R2": "chest", "R3": "leg", "S1": "head"}})
}

/// A tiny pack with these MDCs; `pack.json` is built from them.
pub(crate) fn pack_json(mdcs: Value) -> Value {
    json!({"format": "drgpack/1", "id": "tiny", "name": "Tiny", "mdcs": mdcs, "lists": lists(), "maps": maps()})
}

/// Loads a tiny pack from its pack.json and the standard TSVs, with `replace`
/// overriding (or, with `None`, removing) files.
pub(crate) fn load_with(json: &Value, replace: &[(&str, Option<&str>)]) -> Result<Pack, PackError> {
    let json_text = json.to_string();
    let mut files: Vec<(&str, &str)> = vec![
        ("pack.json", json_text.as_str()),
        ("cc.tsv", CC_TSV),
        ("cc_exclusions.tsv", EXCL_TSV),
        ("or_procedures.tsv", OR_TSV),
        ("codes/diagnoses.tsv", DX_TSV),
        ("codes/procedures.tsv", PROC_TSV),
        ("codes/diagnosis_map.tsv", DX_MAP_TSV),
        ("codes/procedure_map.tsv", PROC_MAP_TSV),
    ];
    for (name, content) in replace {
        files.retain(|(n, _)| n != name);
        if let Some(c) = content {
            files.push((name, c));
        }
    }
    Pack::from_files("tiny", files)
}

pub(crate) fn load(json: &Value) -> Pack {
    load_with(json, &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// One MDC whose `when` is `expr`, one ADRG and one DRG that always hold: the
/// case groups to T19 exactly when `expr` holds.
pub(crate) fn single_rule_pack(expr: Value) -> Pack {
    load(&pack_json(json!([{
        "code": "MDCT", "name": "Test", "when": expr,
        "adrgs": [{"code": "T1", "name": "T", "when": true, "drgs": [{"code": "T19", "name": "T", "when": true}]}]
    }])))
}

fn refused(json: &Value) -> PackError {
    load_with(json, &[]).expect_err("the pack should be refused")
}

fn one_mdc(when: Value) -> Value {
    pack_json(json!([{"code": "MDCT", "name": "Test", "when": when,
        "adrgs": [{"code": "T1", "name": "T", "when": true, "drgs": [{"code": "T19", "name": "T", "when": true}]}]}]))
}

#[test]
fn a_good_tiny_pack_loads_and_reports_itself() {
    let pack = single_rule_pack(json!(true));
    let info = pack.info();
    assert_eq!(info.id, "tiny");
    assert_eq!(info.name, "Tiny");
    assert_eq!(info.counts, Counts { mdc: 1, adrg: 1, drg: 1 });
    assert!(info.warnings.is_empty());
    assert_eq!(pack.drg_name("T19"), Some("T"));
    assert_eq!(pack.code_name("p1"), Some("Principal one"));
    assert_eq!(pack.code_name("N1"), Some("A non-OR procedure"));
}

#[test]
fn the_demo_pack_loads() {
    let pack = Pack::demo();
    assert_eq!(pack.info().id, "drg-demo");
    assert_eq!(pack.info().counts, Counts { mdc: 5, adrg: 15, drg: 35 });
    assert!(pack.info().warnings.is_empty(), "{:?}", pack.info().warnings);
}

#[test]
fn unknown_format_is_refused() {
    let mut json = one_mdc(json!(true));
    json["format"] = json!("drgpack/2");
    let e = refused(&json);
    assert_eq!(e.file, "tiny/pack.json");
    assert_eq!(e.key(), Some("$.format"));
    json.as_object_mut().unwrap().remove("format");
    assert_eq!(refused(&json).key(), Some("$.format"));
}

#[test]
fn a_missing_file_is_refused_by_name() {
    for name in ["pack.json", "cc.tsv", "cc_exclusions.tsv", "or_procedures.tsv", "codes/diagnoses.tsv", "codes/procedures.tsv"] {
        let e = load_with(&one_mdc(json!(true)), &[(name, None)]).expect_err(name);
        assert_eq!(e.file, format!("tiny/{name}"));
        assert!(e.message.contains("missing"), "{e}");
    }
    // The translation maps are optional: without them nothing is translated.
    let pack = load_with(&one_mdc(json!(true)), &[("codes/diagnosis_map.tsv", None), ("codes/procedure_map.tsv", None)]).unwrap();
    assert!(pack.dx_translation.is_empty());
}

#[test]
fn undefined_list_and_map_names_are_refused_with_their_path() {
    let e = refused(&one_mdc(json!({"all": [{"pdx_in": "P"}, {"sdx_any_in": "NOPE"}]})));
    assert_eq!(e.file, "tiny/pack.json");
    assert_eq!(e.key(), Some("$.mdcs[0].when.all[1].sdx_any_in"));
    assert!(e.message.contains("NOPE"), "{e}");

    let e = refused(&one_mdc(json!({"distinct_values_ge": {"map": "nope", "min": 2}})));
    assert_eq!(e.key(), Some("$.mdcs[0].when.distinct_values_ge.map"));
}

#[test]
fn unknown_keys_and_operators_are_refused() {
    let e = refused(&one_mdc(json!({"pdx_is": "P"})));
    assert_eq!(e.key(), Some("$.mdcs[0].when.pdx_is"));
    assert!(e.message.contains("unknown expression key"), "{e}");

    let e = refused(&one_mdc(json!({"age_years": {"gte": 3}})));
    assert_eq!(e.key(), Some("$.mdcs[0].when.age_years.gte"));
    assert!(e.message.contains("unknown operator"), "{e}");

    let e = refused(&one_mdc(json!({"age_years": {"ge": "3"}})));
    assert!(e.message.contains("expected a number"), "{e}");
}

#[test]
fn an_object_with_more_than_one_key_is_refused() {
    let e = refused(&one_mdc(json!({"pdx_in": "P", "sex": "M"})));
    assert_eq!(e.key(), Some("$.mdcs[0].when"));
    assert!(e.message.contains("exactly one key"), "{e}");
    let e = refused(&one_mdc(json!({})));
    assert!(e.message.contains("exactly one key"), "{e}");
}

#[test]
fn a_drg_code_under_two_adrgs_is_refused() {
    let json = pack_json(json!([{"code": "MDCT", "name": "T", "when": true, "adrgs": [
        {"code": "T1", "name": "a", "when": true, "drgs": [{"code": "T19", "name": "x", "when": true}]},
        {"code": "T2", "name": "b", "when": true, "drgs": [{"code": "T19", "name": "x", "when": true}]}
    ]}]));
    let e = refused(&json);
    assert_eq!(e.key(), Some("$.mdcs[0].adrgs[1].drgs[0].code"));
    assert!(e.message.contains("T19") && e.message.contains("T1"), "{e}");
}

#[test]
fn a_repeated_adrg_may_reuse_its_drg_codes() {
    let json = pack_json(json!([{"code": "MDCT", "name": "T", "when": true, "adrgs": [
        {"code": "T1", "name": "a", "when": {"pdx_in": "P1"}, "drgs": [{"code": "T19", "name": "x", "when": true}]},
        {"code": "T1", "name": "a", "when": {"pdx_in": "P2"}, "drgs": [{"code": "T19", "name": "x", "when": true}]}
    ]}]));
    let pack = load(&json);
    assert_eq!(pack.info().counts, Counts { mdc: 1, adrg: 1, drg: 1 });
}

#[test]
fn tsv_rows_with_the_wrong_number_of_fields_are_refused_by_line() {
    let e = load_with(&one_mdc(json!(true)), &[("cc.tsv", Some("code\tlevel\texclusion_table\nS1\tMCC\tt1\nS2\tCC\n"))]).unwrap_err();
    assert_eq!(e.file, "tiny/cc.tsv");
    assert_eq!(e.line(), Some(3));
    assert!(e.message.contains("expected 3"), "{e}");

    let e = load_with(&one_mdc(json!(true)), &[("codes/diagnoses.tsv", Some("code\tname\nP1\tx\ty\n"))]).unwrap_err();
    assert_eq!((e.file.as_str(), e.line()), ("tiny/codes/diagnoses.tsv", Some(2)));

    let e = load_with(&one_mdc(json!(true)), &[("or_procedures.tsv", Some(""))]).unwrap_err();
    assert!(e.message.contains("header"), "{e}");
}

#[test]
fn a_level_other_than_mcc_or_cc_is_refused() {
    let e = load_with(&one_mdc(json!(true)), &[("cc.tsv", Some("code\tlevel\texclusion_table\nS1\tMCC\tt1\nS2\tmajor\tt2\n"))]).unwrap_err();
    assert_eq!((e.file.as_str(), e.line()), ("tiny/cc.tsv", Some(3)));
    assert!(e.message.contains("major"), "{e}");
}

#[test]
fn tsv_files_may_have_crlf_a_bom_and_blank_lines() {
    let cc = "\u{feff}code\tlevel\texclusion_table\r\nS1\tMCC\tt1\r\n\r\nS2\tCC\tt2\r\n";
    let pack = load_with(&one_mdc(json!(true)), &[("cc.tsv", Some(cc))]).unwrap();
    let s1 = pack.lookup("S1").unwrap();
    assert_eq!(s1.cc, vec![(CcLevel::Mcc, "t1")]);
}

#[test]
fn duplicate_codes_inside_a_list_are_ignored() {
    let pack = single_rule_pack(json!({"pdx_in": "P2"}));
    assert_eq!(pack.lookup("P2").unwrap().lists, vec!["P", "P2"]);
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let mut expr = json!(true);
    for _ in 0..(MAX_DEPTH + 2) {
        expr = json!({"not": expr});
    }
    let e = refused(&one_mdc(expr));
    assert!(e.message.contains("nest"), "{e}");
}

#[test]
fn counts_that_differ_are_a_warning_not_a_refusal() {
    let mut json = one_mdc(json!(true));
    json["counts"] = json!({"mdc": 1, "adrg": 1, "drg": 7});
    let pack = load(&json);
    assert_eq!(pack.info().warnings.len(), 1);
    assert!(pack.info().warnings[0].contains("$.counts.drg"), "{:?}", pack.info().warnings);
    json["counts"] = json!({"mdc": "one"});
    assert_eq!(refused(&json).key(), Some("$.counts.mdc"));
}

#[test]
fn malformed_json_is_refused_with_line_and_column() {
    let e = load_with(&json!(null), &[("pack.json", Some("{\n  \"format\": \"drgpack/1\",\n  oops\n}"))]).unwrap_err();
    assert_eq!(e.file, "tiny/pack.json");
    assert_eq!(e.line(), Some(3), "{e}");
    assert!(matches!(e.location, Some(super::Location::Line { column: Some(_), .. })), "{e}");
}

#[test]
fn missing_rule_fields_are_refused_with_their_path() {
    let json = pack_json(json!([{"code": "MDCT", "name": "T", "adrgs": []}]));
    assert_eq!(refused(&json).key(), Some("$.mdcs[0].when"));
    let json = pack_json(json!([{"code": "MDCT", "name": "T", "when": true, "adrgs": [{"code": "T1", "name": "a", "when": true}]}]));
    assert_eq!(refused(&json).key(), Some("$.mdcs[0].adrgs[0].drgs"));
    let json = pack_json(json!([{"code": "MDCT", "name": "T", "when": true,
        "adrgs": [{"code": "T1", "name": "a", "when": true, "if_no_drg": "skip", "drgs": []}]}]));
    assert_eq!(refused(&json).key(), Some("$.mdcs[0].adrgs[0].if_no_drg"));
}

#[test]
fn an_ambiguous_adrg_needs_no_drgs() {
    let json = pack_json(json!([{"code": "MDCT", "name": "T", "when": true,
        "adrgs": [{"code": "TQY", "name": "ambiguous", "when": true, "ambiguous": true}]}]));
    let pack = load(&json);
    assert!(pack.mdcs()[0].adrgs[0].ambiguous);
}

#[test]
fn a_pack_path_that_is_a_file_or_absent_is_refused() {
    let e = Pack::open(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap_err();
    assert!(e.message.contains("is a file, but neither a pack directory nor a compiled pack"), "{e}");
    let e = Pack::open("/no/such/pack").unwrap_err();
    assert_eq!(e.file, "/no/such/pack");
    assert!(e.message.contains("cannot open"), "{e}");
}

#[test]
fn lookup_tells_what_the_pack_knows_of_a_code() {
    let pack = single_rule_pack(json!(true));
    let s3 = pack.lookup("s3").unwrap();
    assert_eq!(s3.code, "S3");
    assert_eq!(s3.diagnosis_name, Some("Secondary three"));
    assert_eq!(s3.cc, vec![(CcLevel::Mcc, "t3"), (CcLevel::Cc, "t4")]);
    assert_eq!(s3.lists, vec!["S"]);
    let p1 = pack.lookup("P1").unwrap();
    assert_eq!(p1.excludes_tables, vec!["t1", "t4"]);
    assert_eq!(p1.translates_to, None, "a code mapped to itself is not translated");
    assert_eq!(pack.lookup("OLD1").unwrap().translates_to, Some(Ok("P2")));
    assert_eq!(pack.lookup("L1").unwrap().translates_to, Some(Err(())));
    assert!(pack.lookup("OR1").unwrap().or_procedure);
    let unknown = pack.lookup("zz9").unwrap();
    assert_eq!((unknown.code.as_str(), unknown.diagnosis_name), ("ZZ9", None));
    assert!(pack.lookup(" - ").is_none());
}

#[test]
fn search_finds_names_and_code_prefixes() {
    let pack = Pack::demo();
    let hits = pack.search("阑尾");
    assert!(hits.iter().any(|h| h.code == "K35.800" && h.vocabulary == Vocabulary::Diagnosis));
    assert!(hits.iter().any(|h| h.code == "47.0901" && h.vocabulary == Vocabulary::Procedure));
    let first_proc = hits.iter().position(|h| h.vocabulary == Vocabulary::Procedure).unwrap();
    assert!(hits[..first_proc].iter().all(|h| h.vocabulary == Vocabulary::Diagnosis));
    let by_code = pack.search("i21");
    assert_eq!(by_code.iter().map(|h| h.code).collect::<Vec<_>>(), vec!["I21.000", "I21.900"]);
    assert!(pack.search("  ").is_empty());
}

#[test]
fn a_compiled_pack_reads_back_the_same() {
    let pack = load(&pack_json(json!([{"code": "MDCT", "name": "T", "when": {"all": [{"pdx_in": "P"}, {"not": {"sex": "F"}}]},
        "adrgs": [{"code": "T1", "name": "a", "when": {"any": [{"distinct_values_ge": {"map": "regions", "min": 2}},
                      {"age_days": {"le": 28, "ge": 0}}, {"discharge_in": ["5"]}, {"dept_in": ["ICU"]}]},
                   "if_no_drg": "continue", "drgs": [{"code": "T11", "name": "x", "when": {"has_mcc": true}}]},
                  {"code": "TQY", "name": "q", "when": {"sproc_any_in": "OR"}, "ambiguous": true}]}])));
    let bytes = pack.to_bytes();
    let back = Pack::from_bytes(&bytes, "tiny.drgpack").unwrap();
    assert_eq!(back.info().id, pack.info().id);
    assert_eq!(back.info().counts, pack.info().counts);
    assert_eq!(back.info().source, "tiny.drgpack");
    assert_eq!(back.to_bytes(), bytes, "encoding is deterministic and lossless");
    for code in ["P1", "S3", "OLD1", "L1", "OR1", "R2", "ZZ"] {
        assert_eq!(back.lookup(code), pack.lookup(code), "{code}");
    }
    assert_eq!(back.search("Secondary"), pack.search("Secondary"));
    assert_eq!(back.mdcs()[0].adrgs[0].when, pack.mdcs()[0].adrgs[0].when);
}

#[test]
fn damaged_compiled_packs_are_refused() {
    let bytes = Pack::demo().to_bytes();
    let refused = |b: &[u8]| Pack::from_bytes(b, "demo.drgpack").unwrap_err().to_string();
    assert!(refused(&bytes[..bytes.len() - 10]).contains("truncated"));
    assert!(refused(&bytes[..12]).contains("truncated"));
    assert!(refused(b"PK\x03\x04 a zip").contains("not a compiled drg pack"));
    let mut other_version = bytes.clone();
    other_version[8] = 99;
    assert!(refused(&other_version).contains("format 99; this drg reads format 2"));
    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    assert!(refused(&flipped).contains("checksum"));
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(refused(&longer).contains("after the end"));
    // Damage behind a correct checksum (a crafted file) is still refused.
    let mut crafted = bytes.clone();
    crafted[24] = 0xff;
    crafted[25] = 0xff;
    let crc = crc32fast::hash(&crafted[24..]).to_le_bytes();
    crafted[12..16].copy_from_slice(&crc);
    assert!(refused(&crafted).contains("corrupted"));
}

#[test]
fn a_code_without_a_row_is_in_no_list() {
    // Codes interned after the list codes, and the grouper's id of an
    // unknown code (`CodeId::MAX`), are past the rows: their row is empty,
    // wherever a row's start would overflow.
    let pack = Pack::demo();
    let lists = &pack.lists;
    let listed = (0..pack.codes.len() as CodeId).find(|&id| lists.row(id).iter().any(|&w| w != 0)).expect("a listed code");
    assert_eq!(lists.row(listed).len(), lists.width as usize);
    let past = (lists.rows.len() / lists.width as usize) as CodeId;
    for id in [past, past + 1, CodeId::MAX - 1, CodeId::MAX] {
        assert_eq!(lists.row(id), &[] as &[u64], "code id {id}");
        assert!(!lists.contains(ListId(0), id) && !lists.any_contains(ListId(0), &[id]), "code id {id}");
    }
}

/// A pack.json with one MDC holding `adrgs`.
fn with_adrgs(adrgs: Value) -> Value {
    pack_json(json!([{"code": "MDCT", "name": "T", "when": true, "adrgs": adrgs}]))
}

fn t1(drgs: Value) -> Value {
    json!({"code": "T1", "name": "T", "when": true, "drgs": drgs})
}

#[test]
fn an_unknown_key_is_refused_at_every_level_naming_its_path() {
    let drg = json!({"code": "T19", "name": "T", "when": true});
    let mut top = with_adrgs(json!([t1(json!([drg]))]));
    top["retry"] = json!("each_other_procedure");
    let e = refused(&top);
    assert_eq!(e.key(), Some("$.retry"), "{e}");
    assert!(e.message.contains("unknown key \"retry\""), "{e}");

    let mut counts = with_adrgs(json!([t1(json!([drg]))]));
    counts["counts"] = json!({"mdc": 1, "adrgs": 1});
    assert_eq!(refused(&counts).key(), Some("$.counts.adrgs"));

    let mdc = pack_json(json!([{"code": "MDCT", "name": "T", "when": true, "if_no_drg": "continue", "adrgs": [t1(json!([drg]))]}]));
    assert_eq!(refused(&mdc).key(), Some("$.mdcs[0].if_no_drg"));

    let adrg = with_adrgs(json!([{"code": "T1", "name": "T", "when": true, "if_no_adrg": "stop", "drgs": [drg]}]));
    assert_eq!(refused(&adrg).key(), Some("$.mdcs[0].adrgs[0].if_no_adrg"));

    let drg_level = with_adrgs(json!([t1(json!([drg, {"code": "T15", "name": "T", "when": true, "weight": 1.2}]))]));
    assert_eq!(refused(&drg_level).key(), Some("$.mdcs[0].adrgs[0].drgs[1].weight"));
}

#[test]
fn if_no_adrg_and_retry_values_are_checked() {
    let drg = json!({"code": "T19", "name": "T", "when": true});
    for (value, stop) in [("stop", true), ("continue", false)] {
        let json = pack_json(json!([{"code": "MDCT", "name": "T", "when": true, "if_no_adrg": value, "adrgs": [t1(json!([drg]))]}]));
        assert_eq!(load(&json).mdcs()[0].stop_if_no_adrg, stop);
    }
    assert!(!load(&with_adrgs(json!([t1(json!([drg]))]))).mdcs()[0].stop_if_no_adrg, "default: continue");
    let json = pack_json(json!([{"code": "MDCT", "name": "T", "when": true, "if_no_adrg": "halt", "adrgs": []}]));
    let e = refused(&json);
    assert_eq!(e.key(), Some("$.mdcs[0].if_no_adrg"));
    assert!(e.message.contains("\"stop\" or \"continue\""), "{e}");

    let mut json = with_adrgs(json!([t1(json!([drg]))]));
    assert_eq!(load(&json).retry(), Retry::Never);
    json["retry_ungroupable"] = json!("each_other_procedure");
    assert_eq!(load(&json).retry(), Retry::EachOtherProcedure);
    json["retry_ungroupable"] = json!("every_procedure");
    assert_eq!(refused(&json).key(), Some("$.retry_ungroupable"));
    json["retry_ungroupable"] = json!(true);
    assert_eq!(refused(&json).key(), Some("$.retry_ungroupable"));
}

#[test]
fn counts_count_distinct_codes_and_not_ambiguous_entries() {
    let drg = |c: &str| json!({"code": c, "name": "T", "when": true});
    let mut json = with_adrgs(json!([
        t1(json!([drg("T11"), drg("T13")])),
        {"code": "T1", "name": "T again", "when": true, "drgs": [drg("T11")]},
        {"code": "T2", "name": "T", "when": true, "drgs": [drg("T29")]},
        {"code": "TQY", "name": "QY", "when": true, "ambiguous": true}
    ]));
    json["counts"] = json!({"mdc": 1, "adrg": 2, "drg": 3});
    let pack = load(&json);
    assert_eq!(pack.info().counts, Counts { mdc: 1, adrg: 2, drg: 3 });
    assert!(pack.info().warnings.is_empty(), "{:?}", pack.info().warnings);
    // Counting the QY entry or the repeated entry is now a difference.
    json["counts"] = json!({"mdc": 1, "adrg": 4, "drg": 4});
    let warnings = &load(&json).info().warnings.clone();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].contains("$.counts.adrg") && warnings[0].contains("says 4, but the pack has 2"), "{warnings:?}");
}

#[test]
fn duplicate_mdc_adrg_and_drg_codes_are_refused_by_name() {
    let drg = |c: &str| json!({"code": c, "name": "T", "when": true});
    let mdc = |code: &str, adrg: &str, d: &str| {
        json!({"code": code, "name": "T", "when": true, "adrgs": [{"code": adrg, "name": "A", "when": true, "drgs": [drg(d)]}]})
    };
    let e = refused(&pack_json(json!([mdc("MDCT", "T1", "T19"), mdc("MDCT", "T2", "T29")])));
    assert_eq!(e.key(), Some("$.mdcs[1].code"));
    assert!(e.message.contains("MDC MDCT is listed twice (first at $.mdcs[0])"), "{e}");

    let e = refused(&pack_json(json!([mdc("MDCT", "T1", "T19"), mdc("MDCU", "T1", "T19")])));
    assert_eq!(e.key(), Some("$.mdcs[1].adrgs[0].code"));
    assert!(e.message.contains("ADRG T1 is already in MDC MDCT"), "{e}");

    let e = refused(&with_adrgs(json!([t1(json!([drg("T11"), drg("T13"), drg("T11")]))])));
    assert_eq!(e.key(), Some("$.mdcs[0].adrgs[0].drgs[2].code"));
    assert!(e.message.contains("DRG T11 is listed twice"), "{e}");

    // Alternative entries of one ADRG in its MDC stay allowed (specs/rulepack.md).
    load(&with_adrgs(json!([t1(json!([drg("T11")])), t1(json!([drg("T11"), drg("T13")]))])));
}

#[test]
fn codes_longer_than_the_c_interface_holds_are_refused() {
    let fits = "T".repeat(MAX_CODE_BYTES);
    let long = "T".repeat(MAX_CODE_BYTES + 1);
    let drg = |c: &str| json!({"code": c, "name": "T", "when": true});
    load(&pack_json(json!([{"code": fits, "name": "T", "when": true, "adrgs": [t1(json!([drg(&fits)]))]}])));
    let e = refused(&pack_json(json!([{"code": long, "name": "T", "when": true, "adrgs": []}])));
    assert_eq!(e.key(), Some("$.mdcs[0].code"));
    assert!(e.message.contains("16 bytes long; codes are at most 15 bytes"), "{e}");
    let e = refused(&with_adrgs(json!([{"code": long, "name": "T", "when": true, "drgs": []}])));
    assert_eq!(e.key(), Some("$.mdcs[0].adrgs[0].code"));
    let e = refused(&with_adrgs(json!([t1(json!([drg(&long)]))])));
    assert_eq!(e.key(), Some("$.mdcs[0].adrgs[0].drgs[0].code"));
    // Bytes, not characters: 6 CJK characters are 18 bytes.
    let e = refused(&pack_json(json!([{"code": "编码太长了啊", "name": "T", "when": true, "adrgs": []}])));
    assert!(e.message.contains("18 bytes long"), "{e}");
}

#[test]
fn compiled_packs_keep_if_no_adrg_and_retry_and_refuse_format_1() {
    let mut json = pack_json(json!([{"code": "MDCT", "name": "T", "when": true, "if_no_adrg": "stop",
        "adrgs": [t1(json!([{"code": "T19", "name": "T", "when": true}]))]}]));
    json["retry_ungroupable"] = json!("each_other_procedure");
    let pack = load(&json);
    let bytes = pack.to_bytes();
    let back = Pack::from_bytes(&bytes, "tiny.drgpack").unwrap();
    assert!(back.mdcs()[0].stop_if_no_adrg);
    assert_eq!(back.retry(), Retry::EachOtherProcedure);
    assert_eq!(back.to_bytes(), bytes);

    let mut old = bytes.clone();
    old[8..12].copy_from_slice(&1u32.to_le_bytes());
    let e = Pack::from_bytes(&old, "old.drgpack").unwrap_err();
    assert!(e.message.contains("compiled with pack file format 1; this drg reads format 2"), "{e}");
    assert!(e.message.contains("drg pack compile"), "{e}");
}

/// A pack directory on disk, removed when dropped.
struct PackDir(std::path::PathBuf);

impl PackDir {
    fn new(tag: &str) -> PackDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "drg-pack-test-{}-{tag}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let json = single_rule_json().to_string();
        for (name, text) in [
            ("pack.json", json.as_str()),
            ("cc.tsv", CC_TSV),
            ("cc_exclusions.tsv", EXCL_TSV),
            ("or_procedures.tsv", OR_TSV),
            ("codes/diagnoses.tsv", DX_TSV),
            ("codes/procedures.tsv", PROC_TSV),
        ] {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        PackDir(dir)
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.0.join(name)
    }
}

impl Drop for PackDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn single_rule_json() -> Value {
    one_mdc(json!(true))
}

#[test]
fn a_pack_directory_on_disk_loads() {
    let dir = PackDir::new("good");
    Pack::open(&dir.0).unwrap_or_else(|e| panic!("{e}"));
}

#[cfg(unix)]
#[test]
fn a_pack_file_that_is_a_device_or_fifo_is_refused_not_read() {
    let dir = PackDir::new("device");
    std::fs::remove_file(dir.path("cc.tsv")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path("cc.tsv")).unwrap();
    // /dev/zero is outside the pack: refused as a link that leaves it.
    let e = Pack::open(&dir.0).unwrap_err();
    assert!(e.file.ends_with("cc.tsv") && e.message.contains("leaves the pack"), "{e}");

    let dir = PackDir::new("fifo");
    std::fs::remove_file(dir.path("cc.tsv")).unwrap();
    let made = std::process::Command::new("mkfifo").arg(dir.path("cc.tsv")).status().unwrap();
    assert!(made.success());
    let e = Pack::open(&dir.0).unwrap_err();
    assert!(e.file.ends_with("cc.tsv") && e.message.contains("not a regular file"), "{e}");

    let dir = PackDir::new("subdir");
    std::fs::remove_file(dir.path("cc.tsv")).unwrap();
    std::fs::create_dir(dir.path("cc.tsv")).unwrap();
    let e = Pack::open(&dir.0).unwrap_err();
    assert!(e.message.contains("not a regular file"), "{e}");

    // A compiled pack "file" that is a device or FIFO is refused too.
    let e = Pack::open("/dev/zero").unwrap_err();
    assert!(e.message.contains("neither a directory nor a regular file"), "{e}");
    let fifo = dir.path("pack.fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let e = Pack::open(&fifo).unwrap_err();
    assert!(e.message.contains("neither a directory nor a regular file"), "{e}");
}

#[cfg(unix)]
#[test]
fn links_that_leave_the_pack_are_refused_and_links_inside_it_followed() {
    let outside = PackDir::new("outside");
    let dir = PackDir::new("links");
    std::fs::remove_file(dir.path("cc.tsv")).unwrap();
    std::os::unix::fs::symlink(outside.path("cc.tsv"), dir.path("cc.tsv")).unwrap();
    let e = Pack::open(&dir.0).unwrap_err();
    assert!(e.message.contains("is a link that leaves the pack"), "{e}");

    // A relative link climbing out, and a linked directory outside.
    std::fs::remove_file(dir.path("cc.tsv")).unwrap();
    std::fs::copy(outside.path("cc.tsv"), dir.path("cc.tsv")).unwrap();
    std::fs::remove_dir_all(dir.path("codes")).unwrap();
    std::os::unix::fs::symlink(outside.path("codes"), dir.path("codes")).unwrap();
    let e = Pack::open(&dir.0).unwrap_err();
    assert!(e.file.ends_with("codes/diagnoses.tsv") && e.message.contains("leaves the pack"), "{e}");

    // Inside the pack, a link is followed.
    std::fs::remove_file(dir.path("codes")).unwrap();
    std::fs::create_dir(dir.path("codes")).unwrap();
    std::fs::create_dir(dir.path("shared")).unwrap();
    std::fs::copy(outside.path("codes/diagnoses.tsv"), dir.path("shared/diagnoses.tsv")).unwrap();
    std::fs::copy(outside.path("codes/procedures.tsv"), dir.path("codes/procedures.tsv")).unwrap();
    std::os::unix::fs::symlink("../shared/diagnoses.tsv", dir.path("codes/diagnoses.tsv")).unwrap();
    Pack::open(&dir.0).unwrap_or_else(|e| panic!("{e}"));

    // A dangling link is not taken for a missing optional file.
    std::os::unix::fs::symlink("nowhere.tsv", dir.path("codes/diagnosis_map.tsv")).unwrap();
    let e = Pack::open(&dir.0).unwrap_err();
    assert!(e.message.contains("dangling"), "{e}");
}

#[test]
fn a_pack_file_above_the_size_limit_is_refused() {
    let dir = PackDir::new("big");
    // Sparse: costs no disk space, and is refused before it is read.
    let file = std::fs::OpenOptions::new().write(true).open(dir.path("or_procedures.tsv")).unwrap();
    file.set_len(MAX_FILE_BYTES + 1).unwrap();
    let e = Pack::open(&dir.0).unwrap_err();
    assert!(e.file.ends_with("or_procedures.tsv") && e.message.contains("larger than 64 MiB"), "{e}");
    // Exactly at the limit is read (and then refused for what it holds, NULs).
    file.set_len(MAX_FILE_BYTES).unwrap();
    let e = Pack::open(&dir.0).unwrap_err();
    assert!(!e.message.contains("larger than"), "{e}");
}

#[test]
fn an_ambiguous_adrg_with_drgs_is_refused() {
    let json = with_adrgs(json!([{"code": "TQY", "name": "QY", "when": true, "ambiguous": true, "drgs": []}]));
    load(&json);
    let json = with_adrgs(json!([{"code": "TQY", "name": "QY", "when": true, "ambiguous": true,
        "drgs": [{"code": "TQY9", "name": "x", "when": true}]}]));
    assert_eq!(refused(&json).key(), Some("$.mdcs[0].adrgs[0].drgs"));
}
