//! Properties that must hold for any input (proptest).

use std::sync::Arc;

use drg_core::codes::{normalize_code, split_codes};
use drg_core::parallel::par_map;
use drg_core::points::{self, PointsCase, Policy};
use drg_core::{Case, Grouper, Pack, Sex, Status};
use proptest::prelude::*;

/// Codes of the demo pack and junk, in any spelling.
fn code() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "K35.800", "E11.900", "K65.000", "J18.900", "J96.000", "J44.100", "I10.x05", "I21.900", "R57.000",
            "I50.900", "P07.100", "P59.900", "P22.000", "K80.100", "C34.900", "N18.500", "A41.900",
        ])
        .prop_map(String::from),
        prop::sample::select(vec!["47.0901", "51.2300", "36.0700", "32.4100", "99.0400"]).prop_map(String::from),
        "[a-zA-Z0-9. xX+*-]{0,12}",
        any::<String>(),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(code(), 0..8),
        prop::collection::vec(code(), 0..4),
        prop::option::of(prop_oneof![Just(Sex::Male), Just(Sex::Female)]),
        prop::option::of(-2i64..110),
        prop::option::of(-2i64..40_000),
        prop::option::of(-10.0f64..5000.0),
        prop::option::of(-1i64..200),
    )
        .prop_map(|(diagnoses, procedures, sex, age_years, age_days, weight_g, los_days)| Case {
            id: "p".into(),
            sex,
            age_years,
            age_days,
            weight_g,
            los_days,
            diagnoses,
            procedures,
            ..Case::default()
        })
}

fn grouper() -> &'static Grouper {
    static GROUPER: std::sync::OnceLock<Grouper> = std::sync::OnceLock::new();
    GROUPER.get_or_init(|| Grouper::new(Arc::new(Pack::demo())))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn normalisation_never_panics_and_is_idempotent(text in any::<String>()) {
        if let Some(once) = normalize_code(&text) {
            let twice = normalize_code(&once).map(|c| c.into_owned());
            prop_assert_eq!(twice.as_deref(), Some(once.as_ref()));
        }
        for code in split_codes(&text) {
            let again = normalize_code(&code).map(|c| c.into_owned());
            prop_assert_eq!(again.as_deref(), Some(code.as_str()));
        }
    }

    #[test]
    fn a_result_is_a_drg_of_the_pack_or_a_status_without_one(c in case()) {
        let g = grouper();
        let r = g.group(&c);
        match r.status {
            Status::Grouped => {
                let drg = r.drg.expect("a grouped case has a DRG");
                prop_assert!(g.pack().drg_name(drg).is_some());
                prop_assert!(r.mdc.is_some() && r.adrg.is_some() && r.reason.is_none());
            }
            _ => {
                prop_assert!(r.drg.is_none() && r.drg_name.is_none());
                prop_assert!(r.reason.is_some());
            }
        }
        let explained = g.explain(&c);
        prop_assert_eq!((r.status, r.drg), (explained.status, explained.drg));
    }

    #[test]
    fn grouping_is_deterministic_and_independent_of_threads(cases in prop::collection::vec(case(), 1..60)) {
        let g = grouper();
        let key = |c: &Case| {
            let r = g.group(c);
            (r.status, r.mdc.map(String::from), r.drg.map(String::from), r.reason, r.warnings)
        };
        let one = par_map(&cases, 1, key);
        prop_assert_eq!(&one, &par_map(&cases, 4, key));
        prop_assert_eq!(&one, &par_map(&cases, 0, key));
        prop_assert_eq!(&one, &cases.iter().map(key).collect::<Vec<_>>());
    }

    #[test]
    fn points_are_finite_and_not_negative(
        history in prop::collection::vec((0usize..4, 1.0f64..200_000.0), 1..80),
        period in prop::collection::vec((0usize..5, 0.0f64..500_000.0, 0usize..4), 1..40),
    ) {
        let drgs = ["A19", "B15", "C13", "D11", "ZZ99"];
        let policy = Policy::default();
        let history: Vec<PointsCase> = history.iter().enumerate().map(|(i, &(d, cost))| PointsCase {
            id: i.to_string(), hospital: "H1".into(), hospital_level: Some("2".into()),
            drg: Some(drgs[d].into()), total_cost: Some(cost), self_pay: Some(0.0),
        }).collect();
        let calibration = points::calibrate(&policy, &history).unwrap();
        for (i, &(d, cost, level)) in period.iter().enumerate() {
            let case = PointsCase {
                id: i.to_string(), hospital: "H".into(), hospital_level: Some(level.to_string()),
                drg: (d < 4).then(|| drgs[d].to_string()), total_cost: Some(cost), self_pay: None,
            };
            let s = points::score(&policy, &calibration.weights, &case).unwrap();
            prop_assert!(s.points.is_finite() && s.points >= 0.0, "{:?}", s);
        }
    }

    #[test]
    fn the_fund_pays_out_the_pool(
        period in prop::collection::vec((0usize..6, 1.0f64..300_000.0, 0.0f64..1.0), 1..60),
        budget in 0.0f64..5e7,
        share in 0.0f64..=1.0,
    ) {
        let mut policy = Policy::default();
        policy.settlement.budget = budget;
        policy.settlement.share_ratio = share;
        let history: Vec<PointsCase> = (0..30).map(|i| PointsCase {
            id: i.to_string(), hospital: "H".into(), hospital_level: None,
            drg: Some(["A19", "B15", "C13"][i % 3].into()), total_cost: Some(1000.0 + i as f64 * 500.0), self_pay: None,
        }).collect();
        let calibration = points::calibrate(&policy, &history).unwrap();
        let scored: Vec<_> = period.iter().enumerate().map(|(i, &(h, cost, own))| {
            let case = PointsCase {
                id: i.to_string(), hospital: format!("H{h}"), hospital_level: Some("3".into()),
                drg: Some(["A19", "B15", "C13", "X"][i % 4].into()), total_cost: Some(cost), self_pay: Some(cost * own),
            };
            let s = points::score(&policy, &calibration.weights, &case).unwrap();
            (case, s)
        }).collect();
        let settlement = points::settle(&policy, &scored).unwrap();
        let due: f64 = settlement.hospitals.iter().map(|h| h.fund_due).sum();
        let pool = settlement.period.pool;
        prop_assert!((due - pool).abs() <= 1e-6 * pool.abs().max(1.0), "Σ fund_due {} ≠ pool {}", due, pool);
        prop_assert_eq!(settlement.hospitals.iter().map(|h| h.cases).sum::<u64>(), period.len() as u64);
    }
}
