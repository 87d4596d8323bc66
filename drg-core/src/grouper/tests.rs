//! Evaluation tests: every expression key, the evaluation order, validation,
//! translation and the explain trail, on tiny hand-made packs.

use std::sync::Arc;

use serde_json::{json, Value};

use super::*;
use crate::case::Sex;
use crate::pack::tests::{load, pack_json, single_rule_pack};

fn case(dx: &[&str], procs: &[&str]) -> Case {
    Case {
        id: "c1".into(),
        sex: Some(Sex::Male),
        age_years: Some(40),
        age_days: Some(40 * 365),
        los_days: Some(5),
        discharge: Some("1".into()),
        diagnoses: dx.iter().map(|s| s.to_string()).collect(),
        procedures: procs.iter().map(|s| s.to_string()).collect(),
        ..Case::default()
    }
}

/// Whether `expr` holds for `c` (the tiny pack groups to T19 exactly then),
/// checked on both the fast and the explain path.
fn holds(expr: Value, c: &Case) -> bool {
    let grouper = Grouper::new(Arc::new(single_rule_pack(expr.clone())));
    let fast = grouper.group(c);
    let explained = grouper.explain(c);
    assert_eq!(fast.status, explained.status, "explain differs for {expr}");
    assert_ne!(fast.status, Status::Invalid, "{:?}", fast.reason);
    fast.status == Status::Grouped
}

#[test]
fn constants_all_any_not() {
    let c = case(&["P1"], &[]);
    assert!(holds(json!(true), &c));
    assert!(!holds(json!(false), &c));
    assert!(holds(json!({"all": []}), &c), "empty all is true");
    assert!(!holds(json!({"any": []}), &c), "empty any is false");
    assert!(holds(json!({"all": [true, {"pdx_in": "P1"}]}), &c));
    assert!(!holds(json!({"all": [true, false]}), &c));
    assert!(holds(json!({"any": [false, {"pdx_in": "P1"}]}), &c));
    assert!(holds(json!({"not": false}), &c));
    assert!(!holds(json!({"not": {"pdx_in": "P"}}), &c));
}

/// The compiled rules take an MDC's guard as true once it held: a guard
/// tested again deeper in the rule, or negated, gives the tree's answer.
#[test]
fn a_guard_tested_again_in_its_rule() {
    let c = case(&["P1"], &["N1"]);
    assert!(!holds(json!({"all": [{"pdx_in": "P"}, {"not": {"pdx_in": "P"}}]}), &c));
    assert!(holds(json!({"all": [{"pdx_in": "P"}, {"any": [false, {"pdx_in": "P"}]}]}), &c));
    assert!(!holds(json!({"all": [{"pdx_in": "S"}, {"not": {"pdx_in": "S"}}]}), &c));
    assert!(holds(json!({"all": [{"pproc_in": "N"}, {"not": {"all": [{"pproc_in": "N"}, {"pdx_in": "S"}]}}]}), &c));
    assert!(!holds(json!({"all": [{"pproc_in": "N"}, {"all": [{"pproc_in": "N"}, {"pdx_in": "S"}]}]}), &c));
}

#[test]
fn diagnosis_list_tests() {
    let c = case(&["P1", "S2", "R1"], &[]);
    assert!(holds(json!({"pdx_in": "P"}), &c));
    assert!(!holds(json!({"pdx_in": "S"}), &c));
    assert!(holds(json!({"dx_any_in": "S"}), &c));
    assert!(holds(json!({"dx_any_in": "P1"}), &c), "dx_any_in includes the principal");
    assert!(holds(json!({"sdx_any_in": "S2"}), &c));
    assert!(!holds(json!({"sdx_any_in": "P1"}), &c), "sdx_any_in skips the principal");
    assert!(holds(json!({"sdx_any_in": "P1"}), &case(&["P1", "P1"], &[])), "a repeated code is data");
    assert!(!holds(json!({"dx_any_in": "OR"}), &c));
}

#[test]
fn procedure_list_tests() {
    let c = case(&["P1"], &["N1", "OR1"]);
    assert!(holds(json!({"pproc_in": "N"}), &c));
    assert!(!holds(json!({"pproc_in": "OR"}), &c));
    assert!(!holds(json!({"pproc_in": "$or_procedures"}), &c));
    assert!(holds(json!({"proc_any_in": "$or_procedures"}), &c));
    assert!(holds(json!({"sproc_any_in": "OR"}), &c));
    assert!(!holds(json!({"sproc_any_in": "N"}), &c));
    let none = case(&["P1"], &[]);
    assert!(!holds(json!({"pproc_in": "N"}), &none), "no procedure: pproc_in is false");
    assert!(!holds(json!({"proc_any_in": "N"}), &none));
    assert!(holds(json!({"not": {"proc_any_in": "N"}}), &none));
}

#[test]
fn codes_are_normalised_before_they_are_tested() {
    let c = case(&["  p1 ", "ｓ２"], &["or1"]);
    assert!(holds(json!({"all": [{"pdx_in": "P1"}, {"sdx_any_in": "S2"}, {"pproc_in": "OR"}]}), &c));
}

#[test]
fn mcc_and_cc_with_exclusions() {
    // S1 is an MCC of table t1; P1 excludes t1, P2 does not.
    assert!(holds(json!({"has_mcc": true}), &case(&["P2", "S1"], &[])));
    assert!(!holds(json!({"has_mcc": true}), &case(&["P1", "S1"], &[])));
    // Only secondary diagnoses count: S1 as the principal is no MCC.
    assert!(!holds(json!({"has_mcc": true}), &case(&["S1", "P2"], &[])));
    // S2 is a CC; has_cc looks at CC rows only and has_mcc at MCC rows only.
    assert!(holds(json!({"has_cc": true}), &case(&["P1", "S2"], &[])));
    assert!(!holds(json!({"has_mcc": true}), &case(&["P1", "S2"], &[])));
    assert!(!holds(json!({"has_cc": true}), &case(&["P2", "S1"], &[])));
    // S3 is an MCC (t3) and a CC (t4); P1 excludes t4 only.
    assert!(holds(json!({"has_mcc": true}), &case(&["P1", "S3"], &[])));
    assert!(!holds(json!({"has_cc": true}), &case(&["P1", "S3"], &[])));
    assert!(holds(json!({"has_cc": true}), &case(&["P2", "S3"], &[])));
    // One excluded MCC and one that is not.
    assert!(holds(json!({"has_mcc": true}), &case(&["P1", "S1", "S3"], &[])));
    // "CC or MCC" as the spec writes it; and has_mcc: false.
    let cc_or_mcc = json!({"any": [{"has_mcc": true}, {"has_cc": true}]});
    assert!(holds(cc_or_mcc.clone(), &case(&["P2", "S1"], &[])));
    assert!(!holds(cc_or_mcc, &case(&["P1", "S1"], &[])));
    assert!(holds(json!({"has_mcc": false}), &case(&["P1", "S1"], &[])));
}

/// `has_mcc` and `has_cc` against cc.tsv read the plain way, on every list
/// of up to four diagnoses from a few codes: with a cc.tsv of one row a code
/// (the grouper keeps it as one word a code) and with a code of two rows
/// (the pack's rows by code).
#[test]
fn complications_agree_with_cc_tsv_read_plainly() {
    use crate::pack::tests::{load_with, pack_json, EXCL_TSV};
    // (code, level, table) as cc.tsv has them; EXCL_TSV: P1 excludes t1 and
    // t4, P2 excludes t9.
    let one_row_each: &[(&str, &str, &str)] = &[("S1", "MCC", "t1"), ("S2", "CC", "t2"), ("S3", "CC", "t4"), ("P2", "MCC", "t2")];
    let two_rows = &[("S1", "MCC", "t1"), ("S2", "CC", "t2"), ("S3", "MCC", "t3"), ("S3", "CC", "t4"), ("P2", "CC", "t1")][..];
    let excluded = |principal: &str, table: &str| EXCL_TSV.lines().any(|l| l == format!("{principal}\t{table}"));
    let codes = ["P1", "P2", "S1", "S2", "S3", "X9"];
    for rows in [one_row_each, two_rows] {
        let tsv: String = std::iter::once("code\tlevel\texclusion_table\n".to_string())
            .chain(rows.iter().map(|(c, l, t)| format!("{c}\t{l}\t{t}\n")))
            .collect();
        for level in ["MCC", "CC"] {
            let when = if level == "MCC" { json!({"has_mcc": true}) } else { json!({"has_cc": true}) };
            let when = pack_json(json!([{"code": "MDCT", "name": "Test", "when": when,
                "adrgs": [{"code": "T1", "name": "T", "when": true, "drgs": [{"code": "T19", "name": "T", "when": true}]}]}]));
            let grouper = Grouper::new(Arc::new(load_with(&when, &[("cc.tsv", Some(&tsv))]).unwrap()));
            let mut dx: Vec<&str> = Vec::new();
            for n in 1..=4u32 {
                for k in 0..codes.len().pow(n) {
                    dx.clear();
                    dx.extend((0..n).map(|i| codes[k / codes.len().pow(i) % codes.len()]));
                    let expected = dx[1..].iter().any(|s| rows.iter().any(|&(c, l, t)| c == *s && l == level && !excluded(dx[0], t)));
                    let c = case(&dx, &[]);
                    assert_eq!(grouper.group(&c).status == Status::Grouped, expected, "{level} of {dx:?} with cc.tsv {rows:?}");
                    assert_eq!(grouper.explain(&c).status == Status::Grouped, expected, "explained: {level} of {dx:?}");
                }
            }
        }
    }
}

#[test]
fn sex_discharge_and_department() {
    let mut c = case(&["P1"], &[]);
    assert!(holds(json!({"sex": "M"}), &c));
    assert!(!holds(json!({"sex": "F"}), &c));
    assert!(holds(json!({"discharge_in": ["1", "5"]}), &c));
    assert!(!holds(json!({"discharge_in": ["5"]}), &c));
    c.discharge = None;
    assert!(!holds(json!({"discharge_in": ["1"]}), &c), "missing is false");
    assert!(holds(json!({"not": {"discharge_in": ["1"]}}), &c));
    assert!(!holds(json!({"dept_in": ["ICU"]}), &c));
    c.dept = Some("ICU".into());
    assert!(holds(json!({"dept_in": ["CCU", "ICU"]}), &c));
}

#[test]
fn distinct_values_of_a_map() {
    // R1 head, R2 chest, R3 leg, S1 head; all diagnoses count, principal included.
    let rule = json!({"distinct_values_ge": {"map": "regions", "min": 2}});
    assert!(holds(rule.clone(), &case(&["R1", "R2"], &[])));
    assert!(!holds(rule.clone(), &case(&["R1", "S1"], &[])), "two codes, one region");
    assert!(!holds(rule.clone(), &case(&["R1", "R1", "P1"], &[])));
    assert!(holds(rule, &case(&["P1", "S1", "R3"], &[])));
    assert!(holds(json!({"distinct_values_ge": {"map": "regions", "min": 0}}), &case(&["P1"], &[])));
    assert!(holds(json!({"distinct_values_ge": {"map": "regions", "min": 3}}), &case(&["R1", "R2", "R3"], &[])));
}

#[test]
fn every_numeric_field_and_operator() {
    let mut c = case(&["P1", "S1", "S2"], &["OR1"]);
    c.icu_hours = Some(12.5);
    c.weight_g = Some(3000.0);
    let cases: [(&str, f64); 8] = [
        ("age_years", 40.0),
        ("age_days", 14600.0),
        ("weight_g", 3000.0),
        ("los_days", 5.0),
        ("icu_hours", 12.5),
        ("sdx_count", 2.0),
        ("proc_count", 1.0),
        ("dx_count", 3.0),
    ];
    for (field, v) in cases {
        let t = |op: &str, n: f64| holds(json!({ field: { op: n } }), &c);
        assert!(t("eq", v) && !t("eq", v + 1.0), "{field} eq");
        assert!(t("ne", v + 1.0) && !t("ne", v), "{field} ne");
        assert!(t("lt", v + 1.0) && !t("lt", v), "{field} lt");
        assert!(t("le", v) && !t("le", v - 1.0), "{field} le");
        assert!(t("gt", v - 1.0) && !t("gt", v), "{field} gt");
        assert!(t("ge", v) && !t("ge", v + 1.0), "{field} ge");
        assert!(holds(json!({ field: {"ge": v, "le": v} }), &c), "{field}: several comparisons all hold");
        assert!(!holds(json!({ field: {"ge": v, "lt": v} }), &c), "{field}: one fails");
    }
}

#[test]
fn comparisons_on_missing_fields_are_false_and_their_negation_true() {
    let mut c = case(&["P1"], &[]);
    c.los_days = None;
    c.icu_hours = None;
    c.weight_g = None;
    for field in ["los_days", "icu_hours", "weight_g"] {
        for op in ["lt", "le", "gt", "ge", "eq", "ne"] {
            assert!(!holds(json!({ field: { op: 0 } }), &c), "{field} {op}");
            assert!(holds(json!({"not": { field: { op: 0 } }}), &c), "not {field} {op}");
        }
    }
    // A birth weight of 0 or less counts as missing.
    for w in [0.0, -5.0] {
        c.weight_g = Some(w);
        assert!(!holds(json!({"weight_g": {"lt": 1500}}), &c), "weight {w}");
        assert!(!holds(json!({"weight_g": {"le": 0}}), &c), "weight {w}");
    }
    // The counts are never missing.
    let bare = case(&["P1"], &[]);
    assert!(holds(json!({"sdx_count": {"eq": 0}}), &bare));
    assert!(holds(json!({"proc_count": {"eq": 0}}), &bare));
    assert!(holds(json!({"dx_count": {"eq": 1}}), &bare));
}

/// The pack of the evaluation-order tests:
/// MDCA (pdx P1) — A1 (pproc OR) with DRG A11 on MCC only, `if_no_drg: continue`;
///                 A2 (pproc OR) with DRG A21 on CC only (stop);
/// MDCB (pdx P1) — B1 ambiguous when proc N;
///                 B2 entered twice: by sdx S, and by dx R; DRG B29;
/// MDCC (pdx P) — C1 always, DRGs C11 on MCC, C15 otherwise.
fn order_pack() -> Pack {
    load(&pack_json(json!([
        {"code": "MDCA", "name": "A", "when": {"pdx_in": "P1"}, "adrgs": [
            {"code": "A1", "name": "A one", "when": {"pproc_in": "OR"}, "if_no_drg": "continue",
             "drgs": [{"code": "A11", "name": "A one MCC", "when": {"has_mcc": true}}]},
            {"code": "A2", "name": "A two", "when": {"pproc_in": "OR"},
             "drgs": [{"code": "A21", "name": "A two CC", "when": {"has_cc": true}}]}
        ]},
        {"code": "MDCB", "name": "B", "when": {"pdx_in": "P1"}, "adrgs": [
            {"code": "B1", "name": "B ambiguous", "when": {"proc_any_in": "N"}, "ambiguous": true},
            {"code": "B2", "name": "B two", "when": {"sdx_any_in": "S"}, "drgs": [{"code": "B29", "name": "B two", "when": true}]},
            {"code": "B2", "name": "B two", "when": {"dx_any_in": "R"}, "drgs": [{"code": "B29", "name": "B two", "when": true}]}
        ]},
        {"code": "MDCC", "name": "C", "when": {"pdx_in": "P"}, "adrgs": [
            {"code": "C1", "name": "C one", "when": true, "drgs": [
                {"code": "C11", "name": "C one MCC", "when": {"has_mcc": true}},
                {"code": "C15", "name": "C one", "when": true}
            ]}
        ]}
    ])))
}

fn group_in_order_pack(dx: &[&str], procs: &[&str]) -> (Status, Option<String>, Option<String>, Option<String>) {
    let grouper = Grouper::new(Arc::new(order_pack()));
    let r = grouper.group(&case(dx, procs));
    (r.status, r.mdc.map(String::from), r.adrg.map(String::from), r.drg.map(String::from))
}

fn s(x: &str) -> Option<String> {
    Some(x.to_string())
}

#[test]
fn evaluation_order_continue_stop_ambiguous_and_repeated_adrgs() {
    use Status::*;
    // A1 holds with an MCC.
    assert_eq!(group_in_order_pack(&["P1", "S3"], &["OR1"]), (Grouped, s("MDCA"), s("A1"), s("A11")));
    // A1 has no DRG for it and says continue; A2 takes it with a CC.
    assert_eq!(group_in_order_pack(&["P1", "S2"], &["OR1"]), (Grouped, s("MDCA"), s("A2"), s("A21")));
    // Neither: A2 says stop, so the case is ungroupable in MDCA/A2 and MDCB is never tried.
    assert_eq!(group_in_order_pack(&["P1"], &["OR1"]), (Ungroupable, s("MDCA"), s("A2"), None));
    // No ADRG of MDCA holds: an MDC match alone decides nothing, MDCB is next.
    assert_eq!(group_in_order_pack(&["P1"], &["N1"]), (Ambiguous, s("MDCB"), s("B1"), None));
    // B2's first entry (sdx S) and its second (dx R) lead to the same DRG.
    assert_eq!(group_in_order_pack(&["P1", "S2"], &[]), (Grouped, s("MDCB"), s("B2"), s("B29")));
    assert_eq!(group_in_order_pack(&["P1", "R1"], &[]), (Grouped, s("MDCB"), s("B2"), s("B29")));
    // Nothing in MDCA or MDCB: on to MDCC.
    assert_eq!(group_in_order_pack(&["P1"], &[]), (Grouped, s("MDCC"), s("C1"), s("C15")));
    assert_eq!(group_in_order_pack(&["P2", "S1"], &[]), (Grouped, s("MDCC"), s("C1"), s("C11")));
    // No MDC at all.
    assert_eq!(group_in_order_pack(&["R1"], &[]), (Ungroupable, None, None, None));
}

#[test]
fn reasons_and_names_of_results() {
    let grouper = Grouper::new(Arc::new(order_pack()));
    let r = grouper.group(&case(&["P1"], &["OR1"]));
    assert_eq!(r.reason.as_deref(), Some("ADRG A2 matched but none of its DRGs"));
    assert_eq!((r.mdc_name, r.adrg_name, r.drg_name), (Some("A"), Some("A two"), None));
    let r = grouper.group(&case(&["R1"], &[]));
    assert_eq!(r.reason.as_deref(), Some("no MDC gave a result for principal diagnosis R1"));
    let r = grouper.group(&case(&["P1"], &["N1"]));
    assert_eq!(r.reason.as_deref(), Some("ADRG B1 is an ambiguous group"));
    let r = grouper.group(&case(&["P2", "S1"], &[]));
    assert_eq!((r.drg, r.drg_name, r.reason), (Some("C11"), Some("C one MCC"), None));
}

#[test]
fn validation_of_required_fields() {
    let grouper = Grouper::new(Arc::new(single_rule_pack(json!(true))));
    let reason = |c: &Case| {
        let r = grouper.group(c);
        assert_eq!(r.status, Status::Invalid, "{c:?}");
        assert!(r.mdc.is_none() && r.drg.is_none());
        r.reason.unwrap()
    };
    let good = case(&["P1"], &[]);
    assert_eq!(grouper.group(&good).status, Status::Grouped);

    let mut c = good.clone();
    c.sex = None;
    assert_eq!(reason(&c), "sex: missing");
    let mut c = good.clone();
    c.age_years = None;
    assert_eq!(reason(&c), "age_years: missing");
    c.age_years = Some(-1);
    assert_eq!(reason(&c), "age_years: -1 is negative");
    let mut c = good.clone();
    c.age_years = Some(0);
    c.age_days = None;
    assert_eq!(reason(&c), "age_days: missing (required when age_years is 0)");
    // A newborn (age_years 0, age_days ≤ 28) needs a birth weight above 0.
    c.age_days = Some(28);
    assert!(reason(&c).starts_with("weight_g: missing"));
    c.weight_g = Some(0.0);
    assert!(reason(&c).starts_with("weight_g: missing"));
    c.weight_g = Some(3200.0);
    assert_eq!(grouper.group(&c).status, Status::Grouped);
    c.weight_g = None;
    c.age_days = Some(29);
    assert_eq!(grouper.group(&c).status, Status::Grouped, "29 days is no newborn");
    // Diagnoses that normalise to nothing.
    let c = case(&[" ", "-"], &[]);
    assert_eq!(reason(&c), "diagnoses: none given");
    // Every problem is named.
    let mut c = case(&[], &[]);
    c.id = String::new();
    c.sex = None;
    assert_eq!(reason(&c), "id: missing; sex: missing; diagnoses: none given");
}

#[test]
fn unknown_codes_are_warnings_and_still_take_part() {
    let grouper = Grouper::new(Arc::new(single_rule_pack(json!({"dx_count": {"eq": 2}}))));
    let r = grouper.group(&case(&["P1", "ZZ9.999"], &["N1", "OR1", "99.99"]));
    assert_eq!(r.status, Status::Grouped);
    assert_eq!(r.warnings, vec!["unknown diagnosis code ZZ9.999", "unknown procedure code 99.99"]);
    // A procedure code given as a diagnosis is unknown as a diagnosis.
    let r = grouper.group(&case(&["P1", "N1"], &[]));
    assert_eq!(r.warnings, vec!["unknown diagnosis code N1"]);
}

#[test]
fn items_that_are_no_code_leave_no_gap_and_no_warning_twice() {
    // An unknown code before an item that is no code at all: each code is
    // counted once and warned of once, grouping or explaining.
    let grouper = Grouper::new(Arc::new(single_rule_pack(json!({"dx_count": {"eq": 3}}))));
    let c = case(&["P1", "ZZ9.999", " ", "P1"], &["99.99", "-", "N1"]);
    for r in [grouper.group(&c), grouper.explain(&c)] {
        assert_eq!(r.status, Status::Grouped);
        assert_eq!(r.warnings, vec!["unknown diagnosis code ZZ9.999", "unknown procedure code 99.99"]);
    }
    let c = case(&["P1", " ", "ZZ9.999"], &[]);
    assert_eq!(grouper.group(&c).warnings, vec!["unknown diagnosis code ZZ9.999"]);
    assert_eq!(grouper.group(&case(&["P1", "-"], &[])).status, Status::Ungroupable, "two items, one code");
}

#[test]
fn translation_follows_chains_and_leaves_cycles() {
    let pack = Arc::new(single_rule_pack(json!({"all": [{"pdx_in": "P2"}, {"pproc_in": "OR"}]})));
    let c = case(&["old1"], &["OLDPROC"]);
    let plain = Grouper::new(pack.clone());
    assert_eq!(plain.group(&c).status, Status::Ungroupable, "translation is off by default");
    let translating = Grouper::with_options(pack, GroupOptions { translate_codes: true });
    let r = translating.group(&c);
    assert_eq!(r.status, Status::Grouped, "OLD1 → OLD2 → P2, OLDPROC → OR1");
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let r = translating.explain(&c);
    assert_eq!(r.trace[0].text, "code OLD1 translated to P2");
    let r = translating.group(&case(&["L1"], &[]));
    assert_eq!(r.status, Status::Ungroupable);
    assert!(r.warnings.iter().any(|w| w.contains("L1") && w.contains("loops")), "{:?}", r.warnings);
}

#[test]
fn the_trail_says_what_held_and_why() {
    let grouper = Grouper::new(Arc::new(order_pack()));
    let r = grouper.explain(&case(&["P1", "S1", "S3"], &["OR1"]));
    assert_eq!(r.drg, Some("A11"));
    let text = r.trace_text();
    let expected = "\
✓ MDC MDCA A
  ✓ principal diagnosis P1 Principal one is in P1
  ✓ ADRG A1 A one
    ✓ principal procedure OR1 An operating-room procedure is in OR
    ✓ DRG A11 A one MCC
      ✓ has MCC: secondary diagnosis S3 Secondary three is an MCC (exclusion table t3), not excluded by principal diagnosis P1
";
    assert_eq!(text, expected);

    let r = grouper.explain(&case(&["P1", "S1"], &["OR1"]));
    let text = r.trace_text();
    assert!(text.contains("✗ has MCC: every MCC is excluded by principal diagnosis P1 (S1 by table t1)"), "{text}");
    assert!(text.contains("no DRG of ADRG A1 holds; it says continue"), "{text}");
    assert!(text.contains("✗ has CC: no secondary diagnosis is a CC"), "{text}");
    assert_eq!(r.status, Status::Ungroupable);

    let r = grouper.explain(&case(&["R1", "R2"], &[]));
    let text = r.trace_text();
    assert!(text.contains("✗ MDC MDCA A\n  ✗ principal diagnosis R1 Head injury is not in P1\n"), "{text}");
    assert!(grouper.group(&case(&["R1"], &[])).trace.is_empty(), "no trail unless asked");
}

#[test]
fn the_trail_describes_every_leaf() {
    let mut c = case(&["R1", "R2", "S1"], &[]);
    c.weight_g = None;
    let rule = json!({"all": [
        {"distinct_values_ge": {"map": "regions", "min": 2}},
        {"age_years": {"ge": 18, "lt": 65}},
        {"not": {"weight_g": {"lt": 1500}}},
        {"sex": "M"},
        {"discharge_in": ["1", "5"]},
        {"any": [{"sdx_any_in": "S"}]}
    ]});
    let grouper = Grouper::new(Arc::new(single_rule_pack(rule)));
    let text = grouper.explain(&c).trace_text();
    for line in [
        "✓ all of:",
        "✓ the diagnoses give 2 distinct regions value(s) [head, chest], 2 needed",
        "✓ age_years is 40 (rule: ≥ 18 and < 65)",
        "✓ not:",
        "✗ weight_g is missing (rule: < 1500)",
        "✓ sex is M (rule: M)",
        "✓ discharge type 1 is one of [1, 5]",
        "✓ secondary diagnosis S1 Secondary one is in S",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}

#[test]
fn grouper_is_send_and_sync_and_shares_its_pack() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Grouper>();
    assert_send_sync::<Pack>();
    let grouper = Grouper::new(Arc::new(order_pack()));
    let results: Vec<Option<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| grouper.group(&case(&["P2", "S1"], &[])).drg.map(String::from)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(results.iter().all(|d| d.as_deref() == Some("C11")));
}

#[test]
fn demo_pack_examples() {
    let grouper = Grouper::new(Arc::new(Pack::demo()));
    let mut c = case(&["K35.800", "E11.900"], &["47.0901"]);
    assert_eq!(grouper.group(&c).drg, Some("GC23"));
    // Peritonitis (K65.000) is excluded as a CC by appendicitis.
    c.diagnoses = vec!["K35.800".into(), "K65.000".into()];
    assert_eq!(grouper.group(&c).drg, Some("GC25"));
    // A newborn of 1,800 g.
    let mut n = case(&["P07.100"], &[]);
    n.age_years = Some(0);
    n.age_days = Some(3);
    n.weight_g = Some(1800.0);
    assert_eq!(grouper.group(&n).drg, Some("PS29"));
}

/// `read_ahead` reads each row once, one row ahead of its use, and gives
/// each row its own case and its own read result, in order: grouping
/// through it is grouping each case in turn.
#[test]
fn read_ahead_uses_each_row_once_in_order_after_reading_the_next() {
    let grouper = Grouper::new(Arc::new(Pack::demo()));
    let rows: Vec<Result<Case, String>> = vec![
        Ok(case(&["K35.800", "E11.900"], &["47.0901"])),
        Err("row 1 cannot be read".into()),
        Ok(case(&["K35.800", "K65.000"], &[])),
        Ok(Case { age_years: Some(0), age_days: Some(3), weight_g: Some(1800.0), ..case(&["P07.100"], &[]) }),
        Err("row 4 cannot be read".into()),
        Ok(case(&["ZZZ"], &[])),
    ];
    let rows: Vec<Result<Case, String>> =
        rows.into_iter().enumerate().map(|(i, r)| r.map(|c| Case { id: format!("c{i}"), ..c })).collect();
    let expected: Vec<_> = rows
        .iter()
        .map(|r| r.as_ref().map(|c| (c.id.clone(), grouper.group(c).drg.map(str::to_string))).map_err(Clone::clone))
        .collect();
    for n in 0..=rows.len() {
        let mut log = Vec::new();
        let mut got = Vec::new();
        let mut slots = [Case::default(), Case::default()];
        let log = std::cell::RefCell::new(&mut log);
        grouper.read_ahead(
            &mut slots,
            n,
            |row, slot: &mut Case| {
                log.borrow_mut().push(format!("read {row}"));
                let read = rows[row].clone()?;
                *slot = read;
                Ok(())
            },
            |row, slot, read: Result<(), String>| {
                log.borrow_mut().push(format!("use {row}"));
                got.push(read.map(|()| (slot.id.clone(), grouper.group(slot).drg.map(str::to_string))));
            },
        );
        assert_eq!(got, expected[..n], "{n} rows");
        let mut order: Vec<String> = (0..n.min(1)).map(|_| "read 0".to_string()).collect();
        for row in 0..n {
            if row + 1 < n {
                order.push(format!("read {}", row + 1));
            }
            order.push(format!("use {row}"));
        }
        assert_eq!(**log.borrow(), order, "{n} rows");
    }
}

/// MDCA (pdx P1, `if_no_adrg: stop`) — A1 on pproc OR;
/// MDCB (pdx P) — B1 always.
fn stop_pack(stop: bool) -> Pack {
    load(&pack_json(json!([
        {"code": "MDCA", "name": "A", "when": {"pdx_in": "P1"}, "if_no_adrg": if stop { "stop" } else { "continue" }, "adrgs": [
            {"code": "A1", "name": "A one", "when": {"pproc_in": "OR"}, "drgs": [{"code": "A19", "name": "A", "when": true}]}
        ]},
        {"code": "MDCB", "name": "B", "when": {"pdx_in": "P"}, "adrgs": [
            {"code": "B1", "name": "B one", "when": true, "drgs": [{"code": "B19", "name": "B", "when": true}]}
        ]}
    ])))
}

#[test]
fn if_no_adrg_stop_makes_the_case_ungroupable_in_that_mdc() {
    let stopping = Grouper::new(Arc::new(stop_pack(true)));
    let r = stopping.group(&case(&["P1"], &["N1"]));
    assert_eq!((r.status, r.mdc, r.adrg, r.drg), (Status::Ungroupable, Some("MDCA"), None, None));
    assert_eq!(r.reason.as_deref(), Some("MDC MDCA matched but none of its ADRGs (the MDC says stop)"));
    assert_eq!(r.mdc_name, Some("A"));
    let explained = stopping.explain(&case(&["P1"], &["N1"]));
    assert_eq!((explained.status, explained.mdc), (Status::Ungroupable, Some("MDCA")));
    assert!(explained.trace_text().contains("no ADRG of MDC MDCA holds; it says stop (if_no_adrg)"), "{}", explained.trace_text());
    assert!(!explained.trace_text().contains("MDC MDCB"), "MDCB is never tried");
    // An ADRG of it holds: as before.
    assert_eq!(stopping.group(&case(&["P1"], &["OR1"])).drg, Some("A19"));
    // The MDC does not hold: on to the next.
    assert_eq!(stopping.group(&case(&["P2"], &[])).drg, Some("B19"));
    // With "continue" (the default) the next MDC takes it.
    let going_on = Grouper::new(Arc::new(stop_pack(false)));
    assert_eq!(going_on.group(&case(&["P1"], &["N1"])).drg, Some("B19"));
}

/// MDCA (pdx P) — A1 on pproc OR, DRG A11 with an MCC only (stop);
/// MDCB (pdx P2) — B1 on pproc N; the pack retries with each other procedure.
fn retry_pack(retry: bool) -> Pack {
    let mut json = pack_json(json!([
        {"code": "MDCA", "name": "A", "when": {"pdx_in": "P"}, "adrgs": [
            {"code": "A1", "name": "A one", "when": {"all": [{"pproc_in": "OR"}, {"proc_count": {"eq": 1}}]},
             "drgs": [{"code": "A11", "name": "A MCC", "when": {"has_mcc": true}}]}
        ]},
        {"code": "MDCB", "name": "B", "when": {"pdx_in": "P2"}, "adrgs": [
            {"code": "B1", "name": "B one", "when": {"pproc_in": "N"}, "drgs": [{"code": "B19", "name": "B", "when": true}]}
        ]}
    ]));
    if retry {
        json["retry_ungroupable"] = json!("each_other_procedure");
    }
    load(&json)
}

#[test]
fn retry_ungroupable_tries_each_other_procedure_alone_in_order() {
    let g = Grouper::new(Arc::new(retry_pack(true)));
    // P2 with N1 first: B1 groups at once, no retry.
    let r = g.group(&case(&["P2"], &["N1", "OR1"]));
    assert_eq!((r.status, r.drg), (Status::Grouped, Some("B19")));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    // P2 with OR1 then N1: no MDC with both (A1 wants one procedure, B1 a
    // principal N); alone, N1 groups in B1, with the spec's warning.
    let r = g.group(&case(&["P2"], &["OR1", "N1"]));
    assert_eq!((r.status, r.mdc, r.adrg, r.drg), (Status::Grouped, Some("MDCB"), Some("B1"), Some("B19")));
    assert_eq!(r.warnings, vec!["grouped on procedure N1 alone: the case gave no group with principal procedure OR1"]);
    assert_eq!(r.reason, None);
    // The first attempt that is not "no MDC" stands, even ungroupable: with
    // N9, OR1, N1 and no MCC: N9 alone gives nothing, OR1 alone enters A1
    // and finds no DRG there; N1 is never tried.
    let r = g.group(&case(&["P2"], &["N9", "OR1", "N1"]));
    assert_eq!((r.status, r.mdc, r.adrg, r.drg), (Status::Ungroupable, Some("MDCA"), Some("A1"), None));
    assert_eq!(r.reason.as_deref(), Some("ADRG A1 matched but none of its DRGs"));
    assert_eq!(r.warnings.last().unwrap(), "grouped on procedure OR1 alone: the case gave no group with principal procedure N9");
    // Every attempt fails: the original result, without a warning.
    let r = g.group(&case(&["P1"], &["N1", "N1"]));
    assert_eq!((r.status, r.mdc), (Status::Ungroupable, None));
    assert!(r.reason.unwrap().starts_with("no MDC gave a result"));
    assert!(r.warnings.is_empty());
    // One procedure: no retry.
    assert_eq!(g.group(&case(&["P2"], &["OR1"])).status, Status::Ungroupable);
    // Without the field, no retry.
    let plain = Grouper::new(Arc::new(retry_pack(false)));
    let r = plain.group(&case(&["P2"], &["OR1", "N1"]));
    assert_eq!((r.status, r.mdc), (Status::Ungroupable, None));
    // Codes are shown normalised, whatever their spelling.
    let r = g.group(&case(&["p2"], &["or1", "n1"]));
    assert_eq!(r.warnings, vec!["grouped on procedure N1 alone: the case gave no group with principal procedure OR1"]);
}

#[test]
fn the_trail_shows_each_retry_attempt() {
    let g = Grouper::new(Arc::new(retry_pack(true)));
    let c = case(&["P2", "S1"], &["OR1", "N9", "N1"]);
    let fast = g.group(&c);
    let r = g.explain(&c);
    assert_eq!((r.status, r.drg, &r.warnings), (fast.status, fast.drg, &fast.warnings));
    let text = r.trace_text();
    let first = text.find("✗ retry_ungroupable: evaluated again with procedure N9 alone, which gives no result").expect(&text);
    let second = text.find("✓ retry_ungroupable: evaluated again with procedure N1 alone, which gives a result").expect(&text);
    assert!(first < second, "{text}");
    // Each attempt's rules stand below it, one level deeper.
    assert!(text[second..].contains("\n  ✓ MDC MDCB B\n"), "{text}");
    assert!(text[second..].contains("principal procedure N1 A non-OR procedure is in N"), "{text}");
    assert!(text[first..second].contains("principal procedure N9 is not in N"), "{text}");
}

#[test]
fn age_days_must_agree_with_age_years() {
    let grouper = Grouper::new(Arc::new(single_rule_pack(json!(true))));
    let status = |years: i64, days: Option<i64>| {
        let mut c = case(&["P1"], &[]);
        c.age_years = Some(years);
        c.age_days = days;
        c.weight_g = Some(3000.0);
        grouper.group(&c)
    };
    // The bounds of specs/cases.md: 365 × years ≤ days < 366 × (years + 1).
    for (years, days) in [(30, 10950), (30, 11345), (0, 0), (0, 365), (1, 365), (1, 731), (88, 32460)] {
        assert_eq!(status(years, Some(days)).status, Status::Grouped, "{years} years, {days} days");
    }
    for (years, days) in [(30, 5), (30, 10949), (30, 11346), (0, 366), (1, 364), (1, 732), (2, 0)] {
        let r = status(years, Some(days));
        assert_eq!(r.status, Status::Invalid, "{years} years, {days} days");
        assert!(r.reason.as_deref().unwrap().starts_with(&format!("age_days: {days} disagrees with age_years {years}")), "{:?}", r.reason);
    }
    assert_eq!(status(30, Some(5)).reason.as_deref(), Some("age_days: 5 disagrees with age_years 30 (expected 10950 to 11345)"));
    // age_days stays optional from one year on.
    assert_eq!(status(30, None).status, Status::Grouped);
    // Ages no reader gives (they stop at 9e15) but a Rust caller may set:
    // no overflow, and no day count agrees. (The first is the age whose
    // day bounds, worked out in 64 bits, wrap around to 144 and 5e16.)
    for years in [50_539_024_859_478_224, i64::MAX / 365 + 1, i64::MAX] {
        for days in [0, 10_000, i64::MAX] {
            let r = status(years, Some(days));
            assert_eq!(r.status, Status::Invalid, "{years} years, {days} days");
            assert!(r.reason.as_deref().unwrap().starts_with(&format!("age_days: {days} disagrees with age_years {years} (expected {}", 365 * i128::from(years))), "{:?}", r.reason);
        }
    }
    // Where 366 days a year no longer fit an i64 but 365 do, the days from
    // 365 a year on agree.
    let years = i64::MAX / 366;
    assert_eq!(status(years, Some(365 * years)).status, Status::Grouped);
    assert_eq!(status(years, Some(i64::MAX)).status, Status::Grouped);
    assert_eq!(status(years, Some(365 * years - 1)).status, Status::Invalid);
}
/// `write_json_line` writes what serialising `to_json` with the extra keys
/// added would: the one rendering of `drg group --format jsonl`, the C ABI's
/// callers and `drg serve`.
#[test]
fn json_lines_are_to_json_with_the_extra_keys() {
    let grouper = Grouper::new(Arc::new(Pack::demo()));
    let extra = vec![
        ("ward".to_string(), json!("3B \"east\"\n")),
        ("status".to_string(), json!("kept out: the result's own")),
        ("n".to_string(), json!([1, 2.5, null, {"a": true}])),
        ("trace".to_string(), json!("only without a trail")),
    ];
    let mut weird = GroupResult::invalid("bad \"sex\"\t\u{1}");
    weird.warnings = vec!["a; b".into(), "中文 \\ x".into()];
    let grouped = case(&["K35.800", "E11.900"], &["47.0901"]);
    for explain in [false, true] {
        for result in [grouper.group_with(&grouped, explain), weird.clone()] {
            let mut expected = result.to_json("id \"1\"");
            let object = expected.as_object_mut().unwrap();
            for (k, v) in &extra {
                object.entry(k.clone()).or_insert_with(|| v.clone());
            }
            let mut line = Vec::new();
            result.write_json_line("id \"1\"", &extra, &mut line);
            let mut want = serde_json::to_vec(&expected).unwrap();
            want.push(b'\n');
            assert_eq!(String::from_utf8(line).unwrap(), String::from_utf8(want).unwrap());
        }
    }
}

#[test]
fn groupers_over_one_pack_share_its_index_and_a_cloned_pack_builds_its_own() {
    let pack = Arc::new(Pack::demo());
    let first = Grouper::new(Arc::clone(&pack));
    let second = Grouper::with_options(Arc::clone(&pack), GroupOptions::default());
    assert!(Arc::ptr_eq(&first.index, &second.index));
    assert!(Arc::ptr_eq(&first.index, &first.clone().index));
    let copy = Grouper::new(Arc::new(Pack::clone(&pack)));
    assert!(!Arc::ptr_eq(&first.index, &copy.index));
    let appendicitis = case(&["K35.800"], &[]);
    assert_eq!(copy.group(&appendicitis).drg, first.group(&appendicitis).drg);
}

/// The cases of ../shared/testdata/`scheme` (the readable ones), or `None`
/// without ../shared beside the checkout.
fn shared_cases(scheme: &str) -> Option<Vec<Case>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata").join(scheme).join("cases.csv");
    let file = std::fs::File::open(path).ok()?;
    let rows = crate::io::CsvCases::new(std::io::BufReader::new(file)).expect("a case CSV");
    Some(rows.filter_map(|row| row.ok().and_then(|r| r.case.ok())).collect())
}

/// The fast path (compiled rules, guard masks) and the explain path (the
/// rule trees, every MDC and ADRG tried) give the same result, trail aside,
/// on every shared test case with its own pack, and on a sample of them with
/// every shared pack, with and without code translation.
#[test]
fn the_fast_path_agrees_with_the_explain_path_on_the_shared_cases() {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    let schemes = ["chs-drg-1.0", "chs-drg-1.1", "chs-drg-2.0", "zhejiang-2022"];
    let Some(sets) = schemes.iter().map(|s| shared_cases(s)).collect::<Option<Vec<_>>>() else {
        eprintln!("skipped: no ../shared/testdata beside the checkout");
        return;
    };
    let mut packs: Vec<_> = std::fs::read_dir(shared.join("rulepacks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("pack.json").is_file())
        .collect();
    packs.sort();
    for dir in &packs {
        let pack = Arc::new(Pack::open(dir).unwrap());
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        for translate_codes in [false, true] {
            let grouper = Grouper::with_options(Arc::clone(&pack), GroupOptions { translate_codes });
            for (scheme, cases) in schemes.iter().zip(&sets) {
                let take = if *scheme == name { cases.len() } else { 1_000 };
                for c in cases.iter().take(take) {
                    let fast = grouper.group(c);
                    let explained = GroupResult { trace: Vec::new(), ..grouper.explain(c) };
                    assert_eq!(fast, explained, "pack {name}, case {} of {scheme}, translate {translate_codes}", c.id);
                }
            }
        }
    }
}

/// specs/cases.md's validation written out plainly, check by check, as the
/// reference the bitwise rules of `problems` are held to.
fn validation_as_the_spec_reads(case: &Case, n_diagnoses: usize) -> Option<String> {
    let mut problems: Vec<String> = Vec::new();
    // `trim().is_empty()`, without trimming both ends of every id first.
    if case.id.chars().all(char::is_whitespace) {
        problems.push("id: missing".into());
    }
    if case.sex.is_none() {
        problems.push("sex: missing".into());
    }
    match case.age_years {
        None => problems.push("age_years: missing".into()),
        Some(a) if a < 0 => problems.push(format!("age_years: {a} is negative")),
        Some(0) if case.age_days.is_none() => {
            problems.push("age_days: missing (required when age_years is 0)".into())
        }
        _ => {}
    }
    match case.age_days {
        Some(d) if d < 0 => problems.push(format!("age_days: {d} is negative")),
        // The two ages must tell the same age (specs/cases.md): at least 365
        // days a year, fewer than 366 days a year to the next birthday.
        Some(d) if case.age_years.is_some_and(|y| y >= 0 && (d < 365 * y || d >= 366 * (y + 1))) => {
            let y = case.age_years.unwrap_or_default();
            problems.push(format!(
                "age_days: {d} disagrees with age_years {y} (expected {} to {})",
                365 * y,
                366 * (y + 1) - 1
            ))
        }
        Some(d) if d <= 28 && case.age_years == Some(0) && !case.weight_g.is_some_and(|w| w > 0.0) => {
            problems.push("weight_g: missing (required for a newborn, age_days ≤ 28)".into())
        }
        _ => {}
    }
    if let Some(d) = case.los_days.filter(|&d| d < 0) {
        problems.push(format!("los_days: {d} is negative"));
    }
    if n_diagnoses == 0 {
        problems.push("diagnoses: none given".into());
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// Validation agrees with the spec written out plainly, message for
/// message, over every combination of the fields it looks at (the edges of
/// each rule among them).
#[test]
fn validation_agrees_with_the_spec_written_out() {
    let ids = ["C1", "", " ", " C1", "\u{3000}", "\u{3000}x", "\t", "é"];
    let years = [None, Some(-1), Some(0), Some(1), Some(2), Some(80)];
    let days = [None, Some(-1), Some(0), Some(28), Some(29), Some(364), Some(365), Some(366), Some(400), Some(730), Some(731), Some(732), Some(29_300)];
    let weights = [None, Some(0.0), Some(-5.0), Some(3_000.0)];
    let stays = [None, Some(-1), Some(0), Some(7)];
    let (mut valid, mut invalid) = (0, 0);
    for id in ids {
        for sex in [None, Some(Sex::Male)] {
            for &age_years in &years {
                for &age_days in &days {
                    for &weight_g in &weights {
                        for &los_days in &stays {
                            for n in [0, 1] {
                                let c = Case { id: id.into(), sex, age_years, age_days, weight_g, los_days, ..Case::default() };
                                let expected = validation_as_the_spec_reads(&c, n);
                                assert_eq!(super::validate(&c, n), expected, "{c:?}, {n} diagnoses");
                                if expected.is_none() { valid += 1 } else { invalid += 1 }
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(valid > 0 && invalid > 0, "{valid} valid, {invalid} invalid");
}

/// A pack whose rules take each shortcut of the fast path and its edges:
/// MDC rules with negated items on the principal codes (answered by the MDC
/// masks, some holding without a code), ADRGs without a guard that require
/// tests on any code (skipped by their bits), and DRGs chosen by
/// complications, fixed, or by their rules.
fn shortcut_pack() -> Pack {
    let drg = |code: &str, when: Value| json!({"code": code, "name": "D", "when": when});
    load(&pack_json(json!([
        {"code": "MDCA", "name": "A", "when": {"all": [
            {"not": {"any": [{"pdx_in": "S"}, {"all": [{"pproc_in": "OR"}, {"not": {"pproc_in": "N"}}]}]}},
            {"pdx_in": "P"}]},
         "adrgs": [
            {"code": "A1", "name": "A", "when": {"all": [{"proc_count": {"gt": 0}}, {"proc_any_in": "OR"}, {"sdx_any_in": "S"}]},
             "if_no_drg": "continue",
             "drgs": [drg("A11", json!({"has_mcc": true})), drg("A13", json!({"any": [{"has_mcc": true}, {"has_cc": true}]}))]},
            {"code": "A2", "name": "A", "when": {"all": [{"pdx_in": "P1"}, {"dx_any_in": "R"}]},
             "drgs": [drg("A21", json!({"not": {"has_cc": true}})), drg("A23", json!({"has_mcc": true}))]},
            {"code": "A3", "name": "A", "when": {"all": [{"sproc_any_in": "N"}, {"not": {"dx_any_in": "R"}}]},
             "drgs": [drg("A31", json!({"all": [{"has_mcc": true}, {"sex": "M"}]})), drg("A35", json!(true))]},
            {"code": "A4", "name": "A", "when": true, "if_no_drg": "continue", "drgs": [drg("A41", json!(false))]},
            {"code": "A5", "name": "A", "when": {"pdx_in": "P2"}, "drgs": [drg("A51", json!({"has_cc": true})), drg("A55", json!(true))]}]},
        {"code": "MDCB", "name": "B", "when": {"not": {"pdx_in": "P1"}},
         "adrgs": [
            {"code": "B1", "name": "B", "when": {"dx_any_in": "R"}, "drgs": [drg("B11", json!({"not": {"not": {"has_cc": true}}}))]},
            {"code": "B2", "name": "B", "when": {"not": {"pproc_in": "OR"}}, "drgs": [drg("B29", json!(true))]}]},
        {"code": "MDCC", "name": "C", "when": {"not": {"not": {"pproc_in": "N"}}},
         "adrgs": [{"code": "C1", "name": "C", "when": true, "drgs": [drg("C19", json!(true))]}]}
    ])))
}

/// On every combination of a few principal and secondary diagnoses,
/// procedures and sexes, the fast path gives what the explain path (the rule
/// trees, every MDC, ADRG and DRG tried) gives, trail aside.
#[test]
fn the_shortcuts_agree_with_the_rule_trees_on_generated_cases() {
    let grouper = Grouper::new(Arc::new(shortcut_pack()));
    let principals = ["P1", "P2", "S1", "R1", "X9"];
    // (With P1, S3 is an MCC found before the CC S2: "has a CC" is asked
    // after a pass for the MCC stopped early.)
    let secondaries: [&[&str]; 10] =
        [&[], &["S1"], &["S2"], &["S3"], &["R2"], &["S1", "S2"], &["R3", "S3"], &["X8", "S2", "R1"], &["S3", "S2", "R2"], &["S2", "S3", "R1"]];
    let procedures: [&[&str]; 7] = [&[], &["OR1"], &["N1"], &["OR1", "N1"], &["N1", "OR1"], &["Y7"], &["Y7", "N1", "OR1"]];
    let mut outcomes = std::collections::HashSet::new();
    for pdx in principals {
        for sdx in secondaries {
            for procs in procedures {
                for sex in [Sex::Male, Sex::Female] {
                    let dx: Vec<&str> = std::iter::once(pdx).chain(sdx.iter().copied()).collect();
                    let c = Case { sex: Some(sex), ..case(&dx, procs) };
                    let fast = grouper.group(&c);
                    let explained = GroupResult { trace: Vec::new(), ..grouper.explain(&c) };
                    assert_eq!(fast, explained, "{dx:?} {procs:?} {sex:?}");
                    outcomes.insert(fast.drg.or(fast.adrg).or(fast.mdc).unwrap_or("none"));
                }
            }
        }
    }
    // Most ends are reached, so the comparison tells something.
    assert!(outcomes.len() >= 12, "{outcomes:?}");
}
