//! Per-diem care and the year: policy checks, classification, scoring,
//! scores files, overflow.

use super::*;

const CATEGORIES: &str = r#"
[perdiem]
[[perdiem.categories]]
code = "PSY"
diagnoses = ["f20", "F3"]
segments = [[60, 1.0], [180, 0.85], [1e308, 0.7]]
[[perdiem.categories]]
code = "REH"
depts = ["康复医学科"]
segments = [[90, 1.0], [1e308, 0.9]]
"#;

fn refused(toml: &str) -> String {
    Policy::from_toml(toml, "p.toml").unwrap_err().to_string()
}

#[test]
fn bad_perdiem_and_assessment_sections_are_refused_naming_the_key() {
    let seg = |s: &str| format!("[perdiem]\n[[perdiem.categories]]\ncode = \"A\"\ndepts = [\"x\"]\nsegments = {s}\n");
    assert!(refused(&seg("[[60, 1.0], [30, 0.5], [1e308, 0.5]]")).contains("perdiem.categories[0].segments (A): last days not strictly ascending (30 after 60)"));
    assert!(refused(&seg("[[60, 1.0], [180, 0.5]]")).contains("must cover every day"));
    assert!(refused(&seg("[[60, 0.0], [1e308, 0.5]]")).contains("perdiem.categories[0].segments[0] (A): the share 0 is outside (0, 1]"));
    assert!(refused(&seg("[[60, 1.5], [1e308, 0.5]]")).contains("the share 1.5 is outside (0, 1]"));
    assert!(refused("[perdiem]\ncategories = []").contains("perdiem.categories: needs at least one category"));
    let twice = format!("{}\n[[perdiem.categories]]\ncode = \"A\"\ndiagnoses = [\"C\"]\nsegments = [[1e308, 1.0]]\n", seg("[[1e308, 1.0]]"));
    assert!(refused(&twice).contains("perdiem.categories[1].code: A is listed twice"));
    assert!(refused("[perdiem]\n[[perdiem.categories]]\ncode = \"A\"\nsegments = [[1e308, 1.0]]").contains("needs depts or diagnoses"));
    assert!(refused("[perdiem]\n[[perdiem.categories]]\ncode = \"A\"\ndepts = [\"x\"]\nsegmnts = []").contains("segmnts"));
    assert!(refused("[assessment]\nthresholds = [[70.0, 1.0], [90.0, 1.05]]").contains("assessment.thresholds: not sorted by strictly descending min score (90 after 70)"));
    assert!(refused("[assessment]\nthresholds = [[90.0, 0.0]]").contains("assessment.thresholds[0]"));
    assert!(refused("[assessment]\nthresholds = [[90.0, 1.0]]\ndefualt = 1").contains("defualt"));
    assert!(refused("[settlement]\nprovisional_point_value = -1").contains("settlement.provisional_point_value"));
    // Without the new sections nothing changes.
    assert_eq!(Policy::from_toml("", "p").unwrap().perdiem, None);
}

fn facts<'a>(dept: &'a str, dx: &'a str, los: i64) -> CareFacts<'a> {
    CareFacts { invalid: false, los_days: Some(los), dept: Some(dept), diagnoses: Some(dx) }
}

#[test]
fn a_case_is_per_diem_by_dept_and_principal_diagnosis_before_its_drg() {
    let p = Policy::from_toml(CATEGORIES, "p").unwrap();
    let m = p.perdiem_match(&facts("", " f20.000|I10", 200)).unwrap();
    assert_eq!((m.code.as_str(), m.by_diagnosis.as_deref(), m.by_dept.as_deref()), ("PSY", Some("F20"), None));
    // The principal diagnosis only; format characters and spaces in the dept are ignored.
    assert_eq!(p.perdiem_match(&facts("", "I10|F20.000", 200)), None);
    let m = p.perdiem_match(&facts(" \u{200b}康复医学科 ", "S32.000", 20)).unwrap();
    assert_eq!((m.code.as_str(), m.by_dept.as_deref()), ("REH", Some("康复医学科")));
    // First category in policy order wins.
    assert_eq!(p.perdiem_match(&facts("康复医学科", "F32.000", 20)).unwrap().code, "PSY");
    assert_eq!(p.perdiem_match(&facts("", "F20.000", 0)), None, "no day");
    assert_eq!(p.perdiem_match(&CareFacts { invalid: true, ..facts("", "F20.000", 10) }), None);
    let why = p.perdiem.as_ref().unwrap().explain(&facts("内科", "I10", 10));
    assert_eq!(why.len(), 2);
    assert!(why[0].contains("principal diagnosis I10 starts with none of f20, F3"), "{why:?}");
    assert!(why[1].contains("dept 内科 is not one of 康复医学科"), "{why:?}");
}

#[test]
fn a_200_day_psychiatric_stay_and_a_category_without_history() {
    let p = Policy::from_toml(&format!("{CATEGORIES}\n[coefficients]\nhospital = {{ H1 = 1.05 }}"), "p").unwrap();
    let weights = Weights {
        drgs: BTreeMap::new(),
        overall: DrgWeight { n: 1, kept: 1, avg_cost: 10_000.0, weight: 1.0, base_points: 100.0, unstable: true },
    };
    let rates = PerDiemRates {
        rates: vec![PerDiemRate { category: "PSY".into(), name: String::new(), n: 1, kept: 1, days: 10, daily_cost: 400.0, avg_los: 10.0, bedday_points: 4.0 }],
    };
    let case = PointsCase { id: "c".into(), hospital: "H1".into(), total_cost: Some(80_000.0), ..Default::default() };
    let s = score_stay(&p, &weights, &rates, &case, Some(PerDiemStay { category: 0, los_days: 200 })).unwrap();
    assert_eq!((s.drg.as_deref(), s.category, s.base_points, s.coef), (Some("PSY"), Category::PerDiem, 4.0 * 176.0, 1.05));
    // REH has no bed-day points: ungrouped, keeping its code.
    let s = score_stay(&p, &weights, &rates, &case, Some(PerDiemStay { category: 1, los_days: 20 })).unwrap();
    assert_eq!((s.drg.as_deref(), s.category, s.points), (Some("REH"), Category::Ungrouped, 800.0));
}

#[test]
fn scores_files_are_refused_naming_the_line() {
    let read = |text: &str| read_scores_csv(text.as_bytes());
    let s = read("hospital,score\nH1,90.0\nH2,58\n").unwrap();
    assert_eq!(s.get("H2"), Some(58.0));
    assert_eq!(read("hospital,score\nH1,90\nH1,80\n").unwrap_err().to_string(), "line 3: hospital H1 is listed twice");
    assert!(read("hospital,score\nH1,100.5\n").unwrap_err().to_string().starts_with("line 2: hospital H1: score 100.5"));
    assert!(read("hospital,score\nH1,NaN\n").unwrap_err().to_string().starts_with("line 2:"));
    assert!(read("hospital,score\nH1,inf\n").unwrap_err().to_string().starts_with("line 2:"));
    assert!(read("hospital,score\nH1,-1\n").unwrap_err().to_string().starts_with("line 2:"));
    assert!(read("hospital\nH1\n").unwrap_err().to_string().contains("no column score"));
    let p = Policy::from_toml("[assessment]\nthresholds = [[90.0, 1.05], [70.0, 1.0], [0.0, 0.9]]\ndefault = 0.95", "p").unwrap();
    assert_eq!(
        [Some(90.0), Some(89.9), Some(70.0), Some(0.0), None].map(|s| p.assessment_coefficient(s)),
        [1.05, 1.0, 1.0, 0.9, 0.95]
    );
    assert_eq!(Policy::default().assessment_coefficient(Some(10.0)), 1.0);
}

#[test]
fn discharge_dates_in_every_accepted_form_and_none_that_does_not_exist() {
    for (text, month) in [("2025-03-01", "2025-03"), ("2025/3/9", "2025-03"), ("20251231", "2025-12"), ("2025年1月5日", "2025-01"), ("2024-02-29T10:00:00", "2024-02")] {
        assert_eq!(parse_discharge_date(text).unwrap().to_string(), month, "{text}");
    }
    for bad in ["", "2025-13-01", "2025-02-29", "2025-04-31", "25-03-01", "2025-03", "yesterday", "2025-03-01 noon"] {
        assert!(parse_discharge_date(bad).is_err(), "{bad}");
    }
}

#[test]
fn overflowing_numbers_are_refused_never_printed() {
    // issue 15 item 10: scale = 1e305 makes inf base points.
    let p = Policy::from_toml("[calibration]\nscale = 1e305", "p").unwrap();
    let case = |id: &str, drg: &str, cost: f64| PointsCase { id: id.into(), hospital: "H".into(), drg: Some(drg.into()), total_cost: Some(cost), ..Default::default() };
    let mut history: Vec<PointsCase> = (0..3000).map(|i| case(&i.to_string(), "A", 1.0)).collect();
    history.push(case("b", "B", 1e7));
    let err = calibrate(&p, &history).unwrap_err().to_string();
    assert!(err.starts_with("calibration.scale: 1000000000") && err.contains("DRG B overflow"), "{err}");
    // Costs that add up past the largest number.
    let history = [case("a", "A", 1e308), case("b", "A", 1e308)];
    assert!(matches!(calibrate(&Policy::default(), &history), Err(PointsError::Overflow(_))));
    // A case whose points overflow is refused (its caller names the line).
    let w = calibrate(&Policy::default(), &[case("a", "A", 1e-300)]).unwrap().weights;
    assert!(matches!(score(&Policy::default(), &w, &case("x", "A", 1e308)), Err(Skip::Overflow(_))));
    // Settlement sums.
    let mut ledger = Ledger::new();
    for _ in 0..2 {
        ledger.add(&SettlementItem { hospital: "H", points: 1e308, total_cost: 1.0, self_pay: 0.0, month: None });
    }
    assert!(matches!(ledger.settle(&Policy::default(), &AssessmentScores::default()), Err(PointsError::Overflow(_))));
}
