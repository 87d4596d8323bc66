#![no_main]
//! Point calculation with extreme numbers (issue 15): policy values and
//! costs drawn from the whole range of f64 (1e305, subnormals, huge
//! multiples, zero) through calibration, scoring and settlement, and the
//! CSV writers of every report. Never a panic. (That every number reaching an
//! output is finite is issue 15 item 10, the points owner's: its check is
//! in the `policy` target and the points tests.)
use drg_core::points::{self, PointsCase, Policy};
use libfuzzer_sys::fuzz_target;

fn numbers(data: &[u8]) -> impl Iterator<Item = f64> + '_ {
    data.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap()))
}

fuzz_target!(|data: &[u8]| {
    let mut n = numbers(data).map(|x| if x.is_finite() { x.abs() } else { 1.0 });
    let mut next = |default: f64| n.next().unwrap_or(default);
    let (scale, trim_k, m1, m2, budget, share, prepay, level) =
        (next(100.0), next(3.0), next(3.0), next(2.0), next(1e6), next(0.85).min(1.0), next(0.9).min(1.0), next(0.9));
    let text = format!(
        "[calibration]\ntrim = \"sd\"\ntrim_k = {trim_k:?}\nmin_cases = 1\nscale = {scale:?}\n\
         [scoring]\nhigh_multiples = [[100.0, {m1:?}], [1e308, {m2:?}]]\nlow_ratio = 0.4\n\
         [coefficients]\nlevel = {{ \"1\" = {level:?} }}\n\
         [settlement]\nbudget = {budget:?}\nshare_ratio = {share:?}\nprepay_ratio = {prepay:?}\n"
    );
    let Ok(policy) = Policy::from_toml(&text, "fuzz.toml") else { return };
    let mut cases = Vec::new();
    for i in 0..12 {
        let cost = next(1000.0 + i as f64);
        cases.push(PointsCase {
            id: i.to_string(),
            hospital: format!("H{}", i % 3),
            hospital_level: Some(((i % 3) + 1).to_string()),
            drg: (i % 4 != 3).then(|| ["A19", "B15", "C13"][i % 3].to_string()),
            total_cost: Some(cost),
            self_pay: Some(next(cost / 5.0)),
        });
    }
    let Ok(calibration) = points::calibrate(&policy, &cases) else { return };
    let _ = points::weights_csv(&calibration.weights);
    let scored: Vec<_> =
        cases.iter().filter_map(|c| points::score(&policy, &calibration.weights, c).ok().map(|s| (c.clone(), s))).collect();
    let _ = points::case_points_csv(&scored);
    if let Ok(settlement) = points::settle(&policy, &scored) {
        let _ = points::settlement_csv(&settlement);
        let _ = points::period_csv(&settlement);
    }
});
