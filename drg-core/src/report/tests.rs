use super::*;
use crate::points::read_weights_csv;

fn weights() -> Weights {
    read_weights_csv(
        "drg,n,kept,avg_cost,weight,base_points,unstable\nA1,1,1,100,0.5,50,false\nB1,1,1,300,1.5,150,false\n*,2,2,200,1,100,false\n"
            .as_bytes(),
    )
    .unwrap()
}

fn row<'a>(hospital: &'a str, drg: &'a str, cost: f64, los: i64, death: bool) -> ReportRow<'a> {
    ReportRow {
        hospital,
        status: Status::Grouped,
        drg: Some(drg),
        death,
        total_cost: Some(cost),
        los_days: Some(los),
        ..ReportRow::default()
    }
}

#[test]
fn hospital_indexes_cmi_and_group_rate() {
    let w = weights();
    let mut ind = Indicators::new(&w, false);
    ind.add(&row("H2", "A1", 100.0, 2, false));
    ind.add(&row("H2", "A1", 300.0, 4, false));
    ind.add(&row("H1", "A1", 200.0, 3, false));
    ind.add(&row("H1", "B1", 600.0, 0, true));
    ind.add(&row("H1", "C9", -5.0, 1, false)); // no weight, no cost
    ind.add(&ReportRow { hospital: "H1", status: Status::Invalid, ..ReportRow::default() });
    ind.add(&ReportRow { hospital: "H1", status: Status::Ungroupable, ..ReportRow::default() });
    ind.add(&ReportRow { hospital: "H1", status: Status::Grouped, drg: None, ..ReportRow::default() });
    let r = ind.finish(None);
    assert_eq!(r.drgs.iter().map(|d| d.drg.as_str()).collect::<Vec<_>>(), ["A1", "B1", "C9"]);
    let a1 = &r.drgs[0];
    assert_eq!((a1.cases, a1.avg_cost, a1.avg_los), (3, Some(200.0), Some(3.0)));
    // sd of 100, 300, 200 is sqrt(20000/3).
    assert!((a1.cost_cv.unwrap() - (20000.0f64 / 3.0).sqrt() / 200.0).abs() < 1e-15);
    assert_eq!(r.drgs[1].avg_los, None, "a stay of 0 days is left out");
    assert_eq!(r.drgs[2].avg_cost, None, "a cost not above 0 is left out");
    assert_eq!(r.unweighted.get("C9"), Some(&1));

    let h1 = &r.hospitals[0];
    assert_eq!(h1.hospital, "H1");
    assert_eq!((h1.cases, h1.valid, h1.grouped), (6, 5, 3));
    assert_eq!(h1.group_rate, Some(0.6));
    assert_eq!(h1.drg_count, 3);
    assert_eq!(h1.total_weight, 2.0);
    assert_eq!(h1.cmi, Some(1.0));
    // A1: 1 × 200/200, B1: 1 × 600/600 → 1.
    assert_eq!(h1.cost_index, Some(1.0));
    let h2 = &r.hospitals[1];
    assert_eq!(h2.cost_index, Some(1.0));
    assert_eq!(h2.time_index, Some(1.0));
    assert_eq!(h2.cmi, Some(0.5));
    assert_eq!(r.scheme.grouped, 5);
    assert_eq!(r.scheme.group_rate, Some(5.0 / 7.0));
    // Costs 100, 300, 200 (A1) and 600 (B1): within 20000, total 140000.
    assert!((r.scheme.riv_cost.unwrap() - (1.0 - 20000.0 / 140000.0)).abs() < 1e-12);
}

#[test]
fn risk_levels() {
    let m = |v: &[(&str, u64, u64)]| -> Mortality { v.iter().map(|(k, d, c)| (k.to_string(), (*d, *c))).collect() };
    let g = grade_risk(&m(&[("A", 0, 10), ("B", 1, 10), ("C", 2, 20)]));
    assert_eq!((g["A"], g["B"], g["C"]), (Risk::Low, Risk::MidLow, Risk::MidLow), "the same mortality everywhere");
    let g = grade_risk(&m(&[("A", 0, 10), ("B", 1, 10)]));
    assert_eq!(g["B"], Risk::MidLow, "one DRG with deaths");
    // ln m: ln .01, ln .1, ln .1, ln 1 → z = −√2, 0, 0, √2 (mean ln .1, sd ln10/√2).
    let g = grade_risk(&m(&[("A", 1, 100), ("B", 1, 10), ("C", 2, 20), ("D", 5, 5)]));
    assert_eq!((g["A"], g["B"], g["C"], g["D"]), (Risk::Low, Risk::MidHigh, Risk::MidHigh, Risk::High));
}

#[test]
fn by_department_and_zero_denominators() {
    let w = weights();
    let mut ind = Indicators::new(&w, true);
    ind.add(&ReportRow { dept: "内科", ..row("H1", "A1", 100.0, 2, false) });
    ind.add(&ReportRow { dept: "", ..row("H1", "A1", 100.0, 2, false) });
    ind.add(&ReportRow { hospital: "H0", status: Status::Invalid, ..ReportRow::default() });
    let r = ind.finish(None);
    let keys: Vec<(&str, &str)> = r.hospitals.iter().map(|h| (h.hospital.as_str(), h.dept.as_deref().unwrap())).collect();
    assert_eq!(keys, [("H0", ""), ("H1", ""), ("H1", "内科")]);
    let h0 = &r.hospitals[0];
    assert_eq!((h0.group_rate, h0.cmi, h0.cost_index, h0.low_risk_mortality), (None, None, None, None));
    let csv = hospitals_csv(&r);
    assert!(csv.starts_with("hospital,dept,cases,"), "{csv}");
    assert!(csv.contains("\nH0,,1,0,0,,0,0.0000,,,,0,0,\n"), "{csv}");
}

#[test]
fn risk_from_a_benchmark() {
    let w = weights();
    let mut bench = Indicators::new(&w, false);
    for (drg, deaths, cases) in [("A1", 1, 100), ("B1", 1, 10), ("C1", 2, 20), ("D1", 5, 5)] {
        for i in 0..cases {
            bench.add(&row("X", drg, 1.0, 1, i < deaths));
        }
    }
    let benchmark = bench.mortality();
    let mut ind = Indicators::new(&w, false);
    ind.add(&row("H", "A1", 1.0, 1, true));
    ind.add(&row("H", "D1", 1.0, 1, false));
    ind.add(&row("H", "Z9", 1.0, 1, true));
    let r = ind.finish(Some(&benchmark));
    let risks: Vec<Risk> = r.drgs.iter().map(|d| d.risk).collect();
    assert_eq!(risks, [Risk::Low, Risk::High, Risk::Low], "Z9 is absent from the benchmark: low");
    assert_eq!((r.hospitals[0].low_risk_cases, r.hospitals[0].low_risk_deaths), (2, 2));
}

#[test]
fn reading_reports_bad_values_by_line_and_keeps_the_row() {
    let input = "id,hospital,dept,discharge,los_days,total_cost,status,drg\n\
                 1,H1,,5,3,100,grouped,A1\n\
                 2,H1,,1,x,abc,grouped,A1\n\
                 3,H1,,死亡,2,300,grouped,\n\
                 4,H1\n\
                 5,H1,,1,2,50,weird,A1\n";
    let mut reader = ReportReader::new(input.as_bytes()).unwrap();
    assert!(!reader.needs_grouper());
    let w = weights();
    let mut ind = Indicators::new(&w, false);
    let mut problems = Vec::new();
    let summary = reader.read_all(None, 1, &mut |r| ind.add(r), &mut |line, m| problems.push(format!("{line}: {m}"))).unwrap();
    assert_eq!(summary.rows, 5);
    assert_eq!(
        problems,
        [
            "3: los_days: \"x\" is not a number; left out of time figures",
            "3: total_cost: \"abc\" is not a number; left out of cost figures",
            "4: grouped with an empty drg; counted as not grouped",
            "5: expected 8 fields, found 2; counted as an invalid case",
            "6: status: \"weird\" is not one of grouped, ungroupable, ambiguous, invalid; counted as not grouped",
        ]
    );
    let r = ind.finish(None);
    let h = &r.hospitals[0];
    assert_eq!((h.cases, h.valid, h.grouped), (5, 4, 2));
    assert_eq!((r.drgs[0].cases, r.drgs[0].deaths, r.drgs[0].avg_cost), (2, 1, Some(100.0)));
}

#[test]
fn a_file_without_results_is_grouped_with_the_pack() {
    let input = "id,hospital,sex,age_years,diagnoses,procedures,total_cost,los_days\n\
                 1,H1,1,30,K35.800,47.0901,9000,5\n\
                 2,H1,3,30,K35.800,47.0901,9000,5\n";
    let mut reader = ReportReader::new(input.as_bytes()).unwrap();
    assert!(reader.needs_grouper());
    let w = weights();
    let mut ind = Indicators::new(&w, false);
    let err = reader.read_all(None, 1, &mut |r| ind.add(r), &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, read::ReportInputError::NeedsPack));
    let grouper = crate::Grouper::new(std::sync::Arc::new(crate::Pack::demo()));
    let summary = reader.read_all(Some(&grouper), 2, &mut |r| ind.add(r), &mut |_, _| {}).unwrap();
    assert_eq!(summary.grouped_here, 2);
    let r = ind.finish(None);
    assert_eq!((r.scheme.cases, r.scheme.grouped, r.hospitals[0].valid), (2, 1, 1));
    assert_eq!(r.drgs[0].drg, "GC25");
}

#[test]
fn the_page_escapes_what_it_shows() {
    let w = weights();
    let mut ind = Indicators::new(&w, false);
    ind.add(&row("<H&1>", "A1", 100.0, 2, false));
    let html = report_html(&ind.finish(None), "t<\"");
    assert!(html.contains("&lt;H&amp;1&gt;") && !html.contains("<H&1>"));
    assert!(html.contains(r#"id="chart-cmi-cost""#) && html.contains("技术难度高 · 费用偏低"));
    assert!(!html.contains("http://") && !html.contains("https://"), "no network");
}
