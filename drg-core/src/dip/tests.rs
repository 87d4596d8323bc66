use super::*;

const POLICY: &str = r#"
[dip]
core_min_cases = 15
comprehensive_min_cases = 5
trim = "sd"
trim_k = 3.0
scale = 1000.0
severity = true
severity_min_cases = 5
high_ratio = 2.0
low_ratio = 0.5
ungrouped_factor = 1.0
ignore_procedures = ["99.1800", "93.9600"]
base_groups = []

[coefficients]
level = { "1" = 0.85, "2" = 0.92, "3" = 1.0 }
hospital = { "H001" = 1.05 }

[settlement]
budget = 360000000.00
share_ratio = 0.85
prepay_ratio = 0.9
"#;

fn refused(from: &str, to: &str) -> String {
    assert!(POLICY.contains(from), "{from}");
    DipPolicy::from_toml(&POLICY.replace(from, to), "p.toml").unwrap_err().to_string()
}

#[test]
fn the_reference_policy_loads() {
    let p = DipPolicy::from_toml(POLICY, "p.toml").unwrap();
    assert_eq!(p.dip.core_min_cases, 15);
    assert_eq!(p.dip.ignore_procedures, vec!["99.1800", "93.9600"]);
    assert_eq!(p.coefficient("X", "H001", Some("3")), 1.05);
    assert_eq!(p.coefficient("X", "H002", Some("2")), 0.92);
    assert_eq!(p.coefficient("X", "H002", None), 1.0);
}

#[test]
fn bad_policies_are_refused_naming_the_key() {
    let cases = [
        ("low_ratio = 0.5", "low_ratio = 2.0", "low_ratio"),
        ("high_ratio = 2.0", "high_ratio = 0", "high_ratio"),
        ("scale = 1000.0", "scale = -1.0", "scale"),
        ("trim = \"sd\"", "trim = \"iqr\"", "iqr"),
        ("trim_k = 3.0", "trim_k = 0.5", "trim_k"),
        ("ungrouped_factor = 1.0", "ungrouped_factor = -1.0", "ungrouped_factor"),
        ("share_ratio = 0.85", "share_ratio = 1.5", "share_ratio"),
        ("prepay_ratio = 0.9", "prepay_ratio = -0.1", "prepay_ratio"),
        ("core_min_cases = 15", "core_min_cases = 0", "core_min_cases"),
        ("core_min_cases = 15", "core_min_cases = 1.5", "core_min_cases"),
        ("severity = true", "severity = 1", "severity"),
        ("severity_min_cases = 5\n", "", "severity_min_cases"),
        ("base_groups = []", "base_groups = []\ncolour = 1", "colour"),
        ("budget = 360000000.00\n", "", "budget"),
        ("hospital = { \"H001\" = 1.05 }", "hospital = { \"H001\" = 1.05 }\nassessment = 1", "assessment"),
    ];
    for (from, to, named) in cases {
        let message = refused(from, to);
        assert!(message.starts_with("p.toml"), "{message}");
        assert!(message.contains(named), "{to:?}: {message}");
    }
}

fn case(id: &str, dx: &[&str], procs: &[&str]) -> Case {
    Case {
        id: id.into(),
        sex: Some(crate::Sex::Male),
        age_years: Some(40),
        diagnoses: dx.iter().map(|s| s.to_string()).collect(),
        procedures: procs.iter().map(|s| s.to_string()).collect(),
        ..Case::default()
    }
}

#[test]
fn keys_of_a_case() {
    let policy = DipPolicy::from_toml(POLICY, "p").unwrap();
    let keys = KeyMaker::new(Arc::new(Pack::demo()), &policy);
    let k = keys.keys(&case("1", &["K35.800x001"], &["47.0901", "99.1800", "47.0901"])).unwrap();
    assert_eq!((k.dx4.as_str(), k.dx3.as_str()), ("K35.8", "K35"));
    assert_eq!(k.procs, vec!["47.0901"]);
    assert_eq!(k.core_key, "K35.8:47.0901");
    let k = keys.keys(&case("1", &["i10.x05"], &["99.1800"])).unwrap();
    assert_eq!((k.core_key.as_str(), k.comprehensive_key.as_str()), ("I10.x", "I10#C"));
    let k = keys.keys(&case("1", &["C80.000x002+G13.1*"], &[])).unwrap();
    assert_eq!(k.dx4, "C80.0");
    let k = keys.keys(&case("1", &["A17+G01*"], &["b", "a"])).unwrap();
    assert_eq!((k.dx4.as_str(), k.dx3.as_str(), k.core_key.as_str()), ("A17", "A17", "A17:A+B"));
    assert_eq!(k.treatment, Treatment::Procedure);
    assert!(keys.keys(&case("1", &[], &[])).is_err());
}

#[test]
fn a_published_catalogue_with_a_bad_row_is_refused_with_its_line() {
    let head = "group,kind,dx,procedures,treatment,n,kept,avg_cost,score,coef_0,coef_1,coef_2\n";
    let good = "A03.9,core,A03.9,,C,57,54,45275.93,1974.3899,0.8061,1.0248,1.3223\n";
    let star = "*,,,,,57,54,22931.61,1000.0000,1.0000,1.0000,1.0000\n";
    assert!(read_catalogue_csv(format!("{head}{good}{star}").as_bytes()).is_ok());
    for (bad, says) in [
        ("A04#C,other,A04,,C,5,5,1.0,1.0,1,1,1\n", "kind"),
        ("A04#C,comprehensive,A04,,C,5,5,1.0,-1.0,1,1,1\n", "negative"),
        ("A03.9,core,A03.9,,C,57,54,45275.93,1974.3899,0.8061,1.0248,1.3223\n", "twice"),
        ("A04#C,comprehensive,A04,,C,5,5,1.0,inf,1,1,1\n", "finite"),
    ] {
        let e = read_catalogue_csv(format!("{head}{good}{bad}{star}").as_bytes()).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.to_string().contains(says), "{e}");
    }
    let e = read_catalogue_csv(format!("{head}{good}").as_bytes()).unwrap_err();
    assert!(e.to_string().contains("overall"), "{e}");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const PROCS: [&str; 6] = ["47.0901", "99.1800", "93.9600", "45.9100", "43.7x00x001", "87.0200"];

    fn small_policy() -> DipPolicy {
        DipPolicy::from_toml(&POLICY.replace("core_min_cases = 15", "core_min_cases = 3").replace("comprehensive_min_cases = 5", "comprehensive_min_cases = 1"), "p").unwrap()
    }

    proptest! {
        /// The keys of a case do not depend on the order of its procedures
        /// nor on duplicates.
        #[test]
        fn keys_ignore_procedure_order_and_duplicates(
            picks in proptest::collection::vec(0..PROCS.len(), 0..6),
            rotate in 0usize..6,
            repeat in 0usize..3,
        ) {
            let keys = KeyMaker::new(Arc::new(Pack::demo()), &small_policy());
            let procs: Vec<&str> = picks.iter().map(|&i| PROCS[i]).collect();
            let mut shuffled: Vec<&str> = procs.iter().rev().copied().collect();
            for _ in 0..repeat {
                shuffled.extend(procs.iter().copied());
            }
            if !shuffled.is_empty() {
                let r = rotate % shuffled.len();
                shuffled.rotate_left(r);
            }
            let mut a = keys.keys(&case("1", &["K35.800x001", "E11.900"], &procs)).unwrap();
            let mut b = keys.keys(&case("1", &["K35.800x001", "E11.900"], &shuffled)).unwrap();
            // Vocabulary warnings are one per code as given, repeats included.
            a.warnings.clear();
            b.warnings.clear();
            prop_assert_eq!(a, b);
        }

        /// Scores, coefficients and points are never negative, and the fund
        /// owes the hospitals exactly the pool.
        #[test]
        fn scores_are_never_negative_and_fund_due_sums_to_the_pool(
            history in proptest::collection::vec((0..PROCS.len(), 0usize..3, 1.0f64..100_000.0), 1..80),
            period in proptest::collection::vec((0..PROCS.len(), 0usize..3, 0.0f64..300_000.0, 0.0f64..1.0), 1..60),
            budget in 0.0f64..5_000_000.0,
        ) {
            let policy = {
                let mut p = small_policy();
                p.settlement.budget = budget;
                p
            };
            let keys = KeyMaker::new(Arc::new(Pack::demo()), &policy);
            let dx = ["K35.800x001", "I10.x05", "J18.900"];
            let mut builder = CatalogueBuilder::new(&policy);
            for &(p, d, cost) in &history {
                builder.add(&keys.keys(&case("h", &[dx[d]], &[PROCS[p]])).unwrap(), cost);
            }
            let catalogue = builder.finish().unwrap();
            for g in catalogue.groups.values() {
                prop_assert!(g.score >= 0.0 && g.coef.iter().all(|&c| c >= 0.0), "{:?}", g);
            }
            let dip = Dip::new(policy.clone(), keys, catalogue);
            let hospitals = ["H1", "H2", "H3"];
            let mut scored = Vec::new();
            for (i, &(p, d, cost, share)) in period.iter().enumerate() {
                let mut c = case("p", &[dx[d]], &[PROCS[p]]);
                c.total_cost = Some(cost);
                c.hospital_level = Some("2".into());
                let (_, s) = dip.group_and_score(&c);
                if let Some(s) = s {
                    prop_assert!(s.score >= 0.0 && s.points >= 0.0, "{:?}", s);
                    scored.push((hospitals[i % 3], cost, cost * share, s.points));
                }
            }
            if let Ok(settlement) = settle(&policy, scored.iter().copied()) {
                let due: f64 = settlement.hospitals.iter().map(|h| h.fund_due).sum();
                prop_assert!((due - settlement.period.pool).abs() <= 1e-6 * settlement.period.pool.abs().max(1.0));
            }
        }
    }
}
