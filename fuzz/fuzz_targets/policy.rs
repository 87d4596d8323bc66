#![no_main]
//! The points policy loader on any TOML; a policy it accepts scores and
//! settles a small period into finite numbers (or refuses an overflow), with
//! Σ fund_due = pool when the assessment coefficient is 1.
use drg_core::points::{self, PointsCase, Policy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(policy) = Policy::from_toml(text, "fuzz.toml") else { return };
    let case = |id: &str, drg: Option<&str>, hospital: &str, level: &str, cost: f64| PointsCase {
        id: id.into(),
        hospital: hospital.into(),
        hospital_level: Some(level.into()),
        drg: drg.map(String::from),
        total_cost: Some(cost),
        self_pay: Some(cost * 0.2),
    };
    let history: Vec<PointsCase> = (0..40)
        .map(|i| case(&i.to_string(), Some(["A19", "B15", "C13"][i % 3]), "H1", "2", 1000.0 + (i * 37 % 500) as f64 * 20.0))
        .collect();
    let Ok(calibration) = points::calibrate(&policy, &history) else { return };
    let period = [case("p1", Some("A19"), "H1", "1", 50_000.0), case("p2", Some("B15"), "H2", "3", 100.0), case("p3", None, "H2", "9", 3000.0)];
    let mut scored = Vec::new();
    for c in &period {
        match points::score(&policy, &calibration.weights, c) {
            Ok(s) => scored.push((c.clone(), s)),
            // Points beyond the largest number are refused, never inf.
            Err(points::Skip::Overflow(_)) => return,
            Err(e) => panic!("{e}"),
        }
    }
    for (_, s) in &scored {
        assert!(s.points.is_finite() && s.points >= 0.0, "points {s:?}");
    }
    if let Ok(settlement) = points::settle(&policy, &scored) {
        for h in &settlement.hospitals {
            assert!(h.revenue.is_finite() && h.fund_due.is_finite() && h.prepay.is_finite(), "{h:?}");
        }
        if policy.assessment_coefficient(None) != 1.0 {
            return;
        }
        let due: f64 = settlement.hospitals.iter().map(|h| h.fund_due).sum();
        let pool = settlement.period.pool;
        assert!((due - pool).abs() <= 1e-6 * pool.abs().max(1.0), "Σ fund_due {due} ≠ pool {pool}");
    }
});
