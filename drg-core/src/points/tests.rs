use super::*;

fn case(id: &str, hospital: &str, level: &str, drg: Option<&str>, cost: f64, self_pay: f64) -> PointsCase {
    PointsCase {
        id: id.into(),
        hospital: hospital.into(),
        hospital_level: Some(level.into()),
        drg: drg.map(String::from),
        total_cost: Some(cost),
        self_pay: Some(self_pay),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9 * b.abs().max(1.0)
}

/// A table with DRG A (avg 1,000, 50 points) and B (avg 4,000, 200 points)
/// over an overall average of 2,000, at scale 100.
fn table() -> Weights {
    let w = |avg: f64| DrgWeight { n: 10, kept: 10, avg_cost: avg, weight: avg / 2000.0, base_points: avg / 20.0, unstable: false };
    Weights {
        drgs: [("A".to_string(), w(1000.0)), ("B".to_string(), w(4000.0))].into_iter().collect(),
        overall: DrgWeight { n: 20, kept: 20, avg_cost: 2000.0, weight: 1.0, base_points: 100.0, unstable: false },
    }
}

#[test]
fn policy_defaults_are_the_spec_s() {
    let p = Policy::from_toml("", "empty").unwrap();
    assert_eq!(p, Policy::default());
    assert_eq!(p.calibration.trim, Trim::Sd);
    assert_eq!((p.calibration.trim_k, p.calibration.min_cases, p.calibration.scale), (3.0, 5, 100.0));
    assert_eq!(p.scoring.high_multiples, vec![(100.0, 3.0), (300.0, 2.0), (1e308, 1.5)]);
    assert_eq!((p.scoring.low_ratio, p.scoring.ungrouped_factor), (0.4, 1.0));
    assert_eq!(p.coefficients.level["2"], 0.92);
    assert_eq!((p.settlement.budget, p.settlement.share_ratio, p.settlement.prepay_ratio), (0.0, 0.85, 0.9));
    // Integers are numbers too.
    let p = Policy::from_toml("[settlement]\nbudget = 1000\n[scoring]\nhigh_multiples = [[100, 3]]", "ints").unwrap();
    assert_eq!(p.settlement.budget, 1000.0);
}

#[test]
fn bad_policies_are_refused_naming_the_key() {
    let refused = |toml: &str| Policy::from_toml(toml, "p.toml").unwrap_err().to_string();
    assert!(refused("[scoring]\nlow_ratoi = 0.3").contains("low_ratoi"));
    assert!(refused("[scorin]\nlow_ratio = 0.3").contains("scorin"));
    assert!(refused("[calibration]\nmin_cases = \"five\"").contains("min_cases"));
    assert!(refused("[calibration]\ntrim = \"iqr\"").contains("iqr"));
    assert_eq!(refused("[settlement]\nbudget = -1.0"), "p.toml: settlement.budget: -1 is negative");
    assert_eq!(refused("[settlement]\nshare_ratio = 1.5"), "p.toml: settlement.share_ratio: 1.5 is outside [0, 1]");
    assert_eq!(refused("[settlement]\nprepay_ratio = -0.1"), "p.toml: settlement.prepay_ratio: -0.1 is outside [0, 1]");
    assert_eq!(refused("[scoring]\nlow_ratio = 2"), "p.toml: scoring.low_ratio: 2 is outside [0, 1]");
    assert_eq!(
        refused("[scoring]\nhigh_multiples = [[300.0, 2.0], [100.0, 3.0]]"),
        "p.toml: scoring.high_multiples: not sorted by max (100 after 300)"
    );
    assert!(refused("[scoring]\nhigh_multiples = []").contains("scoring.high_multiples"));
    assert!(refused("[coefficients]\nlevel = { \"1\" = -0.5 }").contains("coefficients.level.1"));
    assert!(refused("[calibration]\nscale = 0").contains("calibration.scale"));
    assert!(refused("not toml at all [").starts_with("p.toml: "));
}

#[test]
fn coefficients_base_group_then_hospital_then_level() {
    let mut p = Policy::default();
    p.scoring.base_groups = vec!["A".into()];
    p.coefficients.hospital.insert("H9".into(), 1.05);
    assert_eq!(p.coefficient("A", "H9", Some("1")), 1.0, "a base group pays alike everywhere");
    assert_eq!(p.coefficient("B", "H9", Some("1")), 1.05, "the hospital's own coefficient overrides its level");
    assert_eq!(p.coefficient("B", "H1", Some("1")), 0.85);
    assert_eq!(p.coefficient("B", "H1", Some("2")), 0.92);
    assert_eq!(p.coefficient("B", "H1", Some("7")), 1.0, "an unknown level");
    assert_eq!(p.coefficient("B", "H1", None), 1.0);
}

#[test]
fn calibration_trims_by_sd_and_weighs_by_the_overall_average() {
    let mut history: Vec<PointsCase> =
        (0..20).map(|i| case(&format!("a{i}"), "H1", "3", Some("A"), 1000.0 + (i % 2) as f64, 0.0)).collect();
    history.push(case("outlier", "H1", "3", Some("A"), 100_000.0, 0.0));
    history.push(case("b1", "H1", "3", Some("B"), 3000.0, 0.0));
    history.push(case("u", "H1", "3", None, 5000.0, 0.0));
    history.push(PointsCase { total_cost: None, ..case("nc", "H1", "3", Some("B"), 0.0, 0.0) });
    history.push(case("neg", "H1", "3", Some("B"), -5.0, 0.0));
    history.push(case("zero", "H1", "3", Some("B"), 0.0, 0.0));
    let p = Policy::default();
    let cal = calibrate(&p, &history).unwrap();
    let a = &cal.weights.drgs["A"];
    assert_eq!((a.n, a.kept), (21, 20), "the outlier is beyond mean + 3 sd");
    assert!(close(a.avg_cost, 1000.5));
    // A DRG with one case keeps it, and is unstable.
    let b = &cal.weights.drgs["B"];
    assert_eq!((b.n, b.kept, b.avg_cost, b.unstable), (1, 1, 3000.0, true));
    let overall = (1000.5 * 20.0 + 3000.0) / 21.0;
    assert!(close(cal.weights.overall_avg(), overall), "case-weighted over all kept costs");
    assert!(close(a.weight, 1000.5 / overall) && close(a.base_points, 100.0 * 1000.5 / overall));
    assert_eq!((cal.weights.overall.n, cal.weights.overall.kept), (22, 21));
    let skipped: Vec<(usize, String)> = cal.skipped.iter().map(|(i, s)| (*i, s.to_string())).collect();
    assert_eq!(
        skipped,
        vec![
            (22, "not grouped".into()),
            (23, "total_cost is missing".into()),
            (24, "total_cost -5 is not above 0".into()),
            (25, "total_cost 0 is not above 0".into())
        ]
    );

    let mut none = p.clone();
    none.calibration.trim = Trim::None;
    let cal = calibrate(&none, &history).unwrap();
    assert_eq!(cal.weights.drgs["A"].kept, 21, "trim = none keeps every cost");
}

#[test]
fn an_empty_history_is_an_error() {
    assert_eq!(calibrate(&Policy::default(), &[]), Err(PointsError::EmptyHistory));
    let ungrouped = [case("x", "H1", "3", None, 100.0, 0.0)];
    assert_eq!(calibrate(&Policy::default(), &ungrouped), Err(PointsError::EmptyHistory));
}

#[test]
fn category_boundaries() {
    let p = Policy::default(); // A: 50 points → multiple 3.0; B: 200 points → 2.0
    let w = table();
    let s = |drg: &str, cost: f64| score(&p, &w, &case("c", "H1", "3", Some(drg), cost, 0.0)).unwrap();

    // Exactly at the high multiple: high, with nothing above the multiple.
    let at = s("A", 3000.0);
    assert_eq!(at.category, Category::High);
    assert!(close(at.points, 50.0));
    let above = s("A", 4000.0);
    assert_eq!(above.category, Category::High);
    assert!(close(above.points, 50.0 + 50.0 * (4.0 - 3.0)));
    assert_eq!(s("A", 2999.99).category, Category::Normal);
    // B's base points (200) take the second multiple (2.0).
    assert_eq!(s("B", 8000.0).category, Category::High);
    assert_eq!(s("B", 7999.0).category, Category::Normal);

    // Exactly at low_ratio: low, paid by the ratio.
    let low = s("A", 400.0);
    assert_eq!(low.category, Category::Low);
    assert!(close(low.points, 50.0 * 0.4));
    assert_eq!(s("A", 400.01).category, Category::Normal);
    let normal = s("A", 1000.0);
    assert_eq!((normal.category, normal.points, normal.coef), (Category::Normal, 50.0, 1.0));
}

#[test]
fn high_cases_use_the_coefficient_on_the_base_only() {
    let p = Policy::default();
    let c = case("c", "H1", "1", Some("A"), 5000.0, 0.0);
    let s = score(&p, &table(), &c).unwrap();
    assert_eq!(s.coef, 0.85);
    assert!(close(s.points, 50.0 * 0.85 + 50.0 * (5.0 - 3.0)));
    // Low cases are paid by the ratio alone, whatever the coefficient.
    let s = score(&p, &table(), &case("c", "H1", "1", Some("A"), 100.0, 0.0)).unwrap();
    assert!(close(s.points, 50.0 * 0.1));
}

#[test]
fn no_high_multiple_reaches_means_no_high_case() {
    let mut p = Policy::default();
    p.scoring.high_multiples = vec![(100.0, 3.0)];
    let s = score(&p, &table(), &case("c", "H1", "3", Some("B"), 100_000.0, 0.0)).unwrap();
    assert_eq!(s.category, Category::Normal, "B has 200 points, above every max");
}

#[test]
fn ungrouped_cases_and_unknown_drgs() {
    let mut p = Policy::default();
    p.scoring.ungrouped_factor = 0.5;
    for drg in [None, Some("ZZ99")] {
        let s = score(&p, &table(), &case("c", "H1", "1", drg, 3000.0, 0.0)).unwrap();
        // A DRG without base points stays visible (points.md §2).
        assert_eq!((s.category, s.drg.as_deref(), s.base_points, s.coef), (Category::Ungrouped, drg, 0.0, 1.0));
        assert!(close(s.points, 3000.0 / 2000.0 * 100.0 * 0.5));
    }
    let no_cost = PointsCase { total_cost: None, ..case("c", "H1", "1", Some("A"), 0.0, 0.0) };
    assert_eq!(score(&p, &table(), &no_cost), Err(Skip::NoCost));
}

fn settle_with_budget(budget: f64) -> Settlement {
    let mut p = Policy::default();
    p.settlement.budget = budget;
    let w = table();
    let cases = vec![
        case("1", "H2", "3", Some("A"), 1000.0, 200.0),
        case("2", "H1", "3", Some("B"), 4000.0, 500.0),
        case("3", "H1", "1", None, 2000.0, 100.0),
    ];
    let scored: Vec<(PointsCase, CaseScore)> = cases.into_iter().map(|c| { let s = score(&p, &w, &c).unwrap(); (c, s) }).collect();
    settle(&p, &scored).unwrap()
}

#[test]
fn settlement_with_a_surplus() {
    // A = (1000-200) + (4000-500) + (2000-100) = 6200 ≤ B = 10,000.
    let s = settle_with_budget(10_000.0);
    let t = &s.period;
    assert!(close(t.fund_item_cost, 6200.0) && close(t.self_pay, 800.0));
    assert!(close(t.pool, 6200.0 + 0.85 * 3800.0), "hospitals keep their share of the surplus");
    assert!(close(t.points, 50.0 + 200.0 + 100.0));
    assert!(close(t.point_value, (t.pool + 800.0) / 350.0));
    assert_eq!(s.hospitals.iter().map(|h| h.hospital.as_str()).collect::<Vec<_>>(), ["H1", "H2"], "by hospital id");
    let fund_due: f64 = s.hospitals.iter().map(|h| h.fund_due).sum();
    assert!(close(fund_due, t.pool), "Σ fund_due = pool");
    let h1 = &s.hospitals[0];
    assert_eq!(h1.cases, 2);
    assert!(close(h1.revenue, 300.0 * t.point_value));
    assert!(close(h1.prepay, h1.fund_due * 0.9));
    assert!(close(h1.balance, h1.revenue - 6000.0));
}

#[test]
fn settlement_with_a_deficit() {
    // A = 6200 > B = 5000: the fund carries only its share of the overspend.
    let s = settle_with_budget(5000.0);
    assert!(close(s.period.pool, 5000.0 + 0.15 * 1200.0));
    let fund_due: f64 = s.hospitals.iter().map(|h| h.fund_due).sum();
    assert!(close(fund_due, s.period.pool), "Σ fund_due = pool");
}

#[test]
fn a_period_without_points_cannot_be_settled() {
    assert_eq!(settle(&Policy::default(), &[]), Err(PointsError::NoPoints));
}

#[test]
fn reports_have_the_spec_s_columns_and_decimals() {
    let w = table();
    let text = weights_csv(&w);
    assert_eq!(
        text,
        "drg,n,kept,avg_cost,weight,base_points,unstable\n\
         A,10,10,1000.00,0.500000,50.0000,false\n\
         B,10,10,4000.00,2.000000,200.0000,false\n\
         *,20,20,2000.00,1.000000,100.0000,false\n"
    );
    assert_eq!(read_weights_csv(text.as_bytes()).unwrap(), w, "a weights table reads back");

    let s = settle_with_budget(10_000.0);
    let period = period_csv(&s);
    assert!(period.starts_with("points,self_pay,fund_item_cost,budget,pool,point_value\n350.0000,800.00,6200.00,10000.00,9430.00,"));
    assert!(settlement_csv(&s).starts_with("hospital,cases,points,self_pay,cost,revenue,fund_due,prepay,balance\nH1,2,300.0000,600.00,6000.00,"));
}

#[test]
fn weights_tables_that_cannot_be_read() {
    let bad = |text: &str| read_weights_csv(text.as_bytes()).unwrap_err().to_string();
    assert!(bad("drg,n,kept\n").contains("no column avg_cost"));
    assert!(bad("drg,n,kept,avg_cost,weight,base_points,unstable\nA,1,1,x,1,1,false\n").starts_with("line 2: avg_cost"));
    assert!(bad("drg,n,kept,avg_cost,weight,base_points,unstable\nA,1,1,10,1,1,maybe\n").contains("unstable"));
    assert!(bad("drg,n,kept,avg_cost,weight,base_points,unstable\nA,1,1,10,1,1,false\n").contains("no overall line"));
    assert!(bad("drg,n,kept,avg_cost,weight,base_points,unstable\nA,1,1,10,1,1,false\nA,1,1,10,1,1,false\n").contains("twice"));
}

#[test]
fn rounding_is_half_away_from_zero() {
    assert_eq!(fixed(0.5, 0), "1");
    assert_eq!(fixed(1.5, 0), "2");
    assert_eq!(fixed(2.5, 0), "3");
    assert_eq!(fixed(-2.5, 0), "-3");
    assert_eq!(fixed(0.125, 2), "0.13");
    assert_eq!(fixed(0.375, 2), "0.38");
    assert_eq!(fixed(9.995, 2), "10.00", "the printed 9.995, not the binary 9.99499…");
    assert_eq!(fixed(11037.785, 2), "11037.79");
    assert_eq!(fixed(1e-7, 4), "0.0000");
    assert_eq!(fixed(1e21, 2), "1000000000000000000000.00");
    assert_eq!(fixed(99.9999999, 4), "100.0000");
    assert_eq!(fixed(238.4421044090434, 6), "238.442104");
    assert_eq!(fixed(-330925.834, 2), "-330925.83");
    assert_eq!(fixed(0.0, 2), "0.00");
}
