//! Properties of per-diem care and the year (specs/perdiem.md), for any input
//! (proptest).

use drg_core::points::{self, paid_days, AssessmentScores, Ledger, Month, Policy, SettlementItem};
use proptest::prelude::*;

/// Segments as a policy may write them: ascending last days, shares in
/// (0, 1], the last covering every day.
fn segments() -> impl Strategy<Value = Vec<(f64, f64)>> {
    (prop::collection::btree_set(1u32..400, 0..4), prop::collection::vec(0.01f64..=1.0, 4)).prop_map(|(lasts, shares)| {
        let mut s: Vec<(f64, f64)> = lasts.into_iter().zip(&shares).map(|(l, &sh)| (l as f64, sh)).collect();
        s.push((1e308, shares[3]));
        s
    })
}

fn item() -> impl Strategy<Value = (u8, f64, f64, f64, u8)> {
    // hospital, points, total cost, self-pay share, month
    (0u8..5, 0.0f64..5_000.0, 0.0f64..200_000.0, 0.0f64..1.0, 1u8..=12)
}

fn ledger_of(items: &[(u8, f64, f64, f64, u8)]) -> Ledger {
    let names: Vec<String> = (0..5).map(|h| format!("H{h:03}")).collect();
    let mut ledger = Ledger::new();
    for &(h, p, cost, share, m) in items {
        ledger.add(&SettlementItem {
            hospital: &names[h as usize],
            points: p,
            total_cost: cost,
            self_pay: cost * share,
            month: Some(Month { year: 2025, month: m }),
        });
    }
    ledger
}

proptest! {
    #[test]
    fn paid_days_never_exceed_the_stay_and_never_decrease(segs in segments(), los in 0i64..2000) {
        let (now, next) = (paid_days(&segs, los), paid_days(&segs, los + 1));
        prop_assert!(now <= los as f64 + 1e-9, "{now} paid days for a stay of {los}");
        prop_assert!(next >= now, "{next} paid days for {} days, {now} for {los}", los + 1);
        prop_assert!(now >= 0.0);
    }

    #[test]
    fn with_every_assessment_coefficient_1_fund_due_adds_up_to_the_pool(
        items in prop::collection::vec(item(), 1..60),
        budget in 0.0f64..5_000_000.0,
        scores in prop::collection::vec(0.0f64..=100.0, 5),
    ) {
        prop_assume!(items.iter().map(|i| i.1).sum::<f64>() > 1.0);
        let policy = Policy::from_toml(
            &format!("[settlement]\nbudget = {budget}\n[assessment]\nthresholds = [[90.0, 1.0], [0.0, 1.0]]\n"),
            "p",
        ).unwrap();
        let scores = AssessmentScores::from_pairs(scores.iter().enumerate().map(|(h, &s)| (format!("H{h:03}"), s))).unwrap();
        let year = ledger_of(&items).settle(&policy, &scores).unwrap();
        let due: f64 = year.settlement.hospitals.iter().map(|h| h.fund_due).sum();
        let pool = year.settlement.period.pool;
        prop_assert!((due - pool).abs() <= 1e-6 * pool.abs().max(1.0), "Σ fund_due {due}, pool {pool}");
    }

    #[test]
    fn monthly_prepay_by_claims_is_the_prepay_ratio_of_the_fund_item_cost(
        items in prop::collection::vec(item(), 1..60),
        ratio in 0.0f64..=1.0,
    ) {
        prop_assume!(items.iter().map(|i| i.1).sum::<f64>() > 1.0);
        let policy = Policy::from_toml(&format!("[settlement]\nprepay_ratio = {ratio}\n"), "p").unwrap();
        let year = ledger_of(&items).settle(&policy, &AssessmentScores::default()).unwrap();
        let monthly = year.monthly.unwrap();
        let prepay: f64 = monthly.iter().map(|m| m.prepay).sum();
        let fund: f64 = monthly.iter().map(|m| m.fund_item_cost).sum();
        // Each month's prepay is rounded to the cent: at most half a cent apart each.
        prop_assert!((prepay - ratio * fund).abs() <= 0.005 * monthly.len() as f64 + 1e-6, "Σ prepay {prepay}, ratio × Σ {}", ratio * fund);
        prop_assert!((fund - year.settlement.period.fund_item_cost).abs() <= 1e-6 * fund.abs().max(1.0));
        // The clearing adds up as printed.
        for c in year.clearing.unwrap() {
            prop_assert_eq!(points::fixed(c.fund_due - c.prepaid, 2), points::fixed(c.clearing, 2));
        }
    }
}
