//! Comparing DIP reports with the reference (specs/dip.md, points.md "Numbers").

use crate::{compare_csv_by, points_tolerance, within};

/// The tolerance of a DIP column: points.md's, and 1e-4 for scores and
/// coefficients; `reason` only empty or not (its text is free).
pub fn compare_dip_csv(actual: &str, expected: &str) -> Vec<String> {
    compare_csv_by(actual, expected, |col, av, ev| match col {
        "reason" => av.is_empty() == ev.is_empty(),
        "score" | "coef_0" | "coef_1" | "coef_2" => within(Some(1e-4 + 1e-9), av, ev),
        other => within(points_tolerance(other), av, ev),
    })
}
