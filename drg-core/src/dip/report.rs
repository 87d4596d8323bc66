//! The DIP report files (dip.md §2–§4): columns, row order and decimals.
//! settlement.csv and period.csv are points.md's ([`crate::points::settlement_csv`],
//! [`crate::points::period_csv`]).

use super::{Catalogue, DipGroup, DipGrouping, DipScore};
use crate::points::fixed;

/// The header of groups.csv.
pub fn groups_header() -> [&'static str; 5] {
    ["id", "status", "group", "severity", "reason"]
}

/// The header of case_points.csv.
pub fn case_points_header() -> [&'static str; 7] {
    ["id", "hospital", "group", "category", "score", "coef", "points"]
}

/// catalogue.csv: one row per priced group by code, then the overall row.
pub fn catalogue_csv(catalogue: &Catalogue) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "group", "kind", "dx", "procedures", "treatment", "n", "kept", "avg_cost", "score", "coef_0", "coef_1", "coef_2",
    ])
    .expect("write to memory");
    let row = |g: &DipGroup| {
        vec![
            g.code.clone(),
            g.kind.as_str().to_string(),
            g.dx.clone(),
            g.procedures.clone(),
            g.treatment.clone(),
            g.n.to_string(),
            g.kept.to_string(),
            fixed(g.avg_cost, 2),
            fixed(g.score, 4),
            fixed(g.coef[0], 4),
            fixed(g.coef[1], 4),
            fixed(g.coef[2], 4),
        ]
    };
    for g in catalogue.groups.values() {
        w.write_record(row(g)).expect("write to memory");
    }
    let o = &catalogue.overall;
    let one = fixed(1.0, 4);
    w.write_record([
        "*".to_string(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        o.n.to_string(),
        o.kept.to_string(),
        fixed(o.avg_cost, 2),
        fixed(o.score, 4),
        one.clone(),
        one.clone(),
        one,
    ])
    .expect("write to memory");
    String::from_utf8(w.into_inner().expect("write to memory")).expect("UTF-8")
}

/// One row of groups.csv, `id, status, group, severity, reason`, appended
/// to `out` with its line end (fields quoted as the csv crate quotes them).
pub fn write_groups_row(out: &mut Vec<u8>, id: &str, g: &DipGrouping<'_>) {
    let severity = g.severity.map(|s| [b'0' + s]);
    crate::io::push_csv_record(
        out,
        [
            id.as_bytes(),
            g.status.as_str().as_bytes(),
            g.group_code().as_bytes(),
            severity.as_ref().map_or(&b""[..], |s| &s[..]),
            g.reason.as_deref().unwrap_or("").as_bytes(),
        ],
    );
}

/// [`fixed`] without its string work for the usual case: a number whose
/// scaled fraction is clearly not a half rounds the same on its shortest
/// digits as on its exact value, so plain integer rounding gives the same
/// text. Near a half, or for large numbers, it is [`fixed`] itself.
pub(crate) fn fixed_fast(x: f64, decimals: u32) -> String {
    let scale = 10f64.powi(decimals as i32);
    let y = x.abs() * scale;
    if y.is_nan() || y >= 1e9 || (y.fract() - 0.5).abs() < 1e-4 || decimals > 6 {
        return fixed(x, decimals as usize);
    }
    let n = y.round() as u64;
    let unit = 10u64.pow(decimals);
    let (int, frac) = (n / unit, n % unit);
    let sign = if x < 0.0 && n != 0 { "-" } else { "" };
    if decimals == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac:0width$}", width = decimals as usize)
    }
}

/// One row of case_points.csv, `id, hospital, group, category, score, coef,
/// points`, appended to `out` with its line end.
pub fn write_case_points_row(out: &mut Vec<u8>, id: &str, hospital: &str, group: &str, s: &DipScore) {
    crate::io::push_csv_record(
        out,
        [
            id.as_bytes(),
            hospital.as_bytes(),
            group.as_bytes(),
            s.category.as_str().as_bytes(),
            fixed_fast(s.score, 4).as_bytes(),
            fixed_fast(s.coef, 4).as_bytes(),
            fixed_fast(s.points, 4).as_bytes(),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn fixed_fast_prints_what_fixed_prints(x in -1e6f64..1e7, d in 0u32..7) {
            prop_assert_eq!(fixed_fast(x, d), fixed(x, d as usize));
        }

        #[test]
        fn fixed_fast_on_printed_decimals(n in 0u64..100_000_000, d in 0u32..5) {
            let x = n as f64 / 10f64.powi(d as i32 + 1);
            prop_assert_eq!(fixed_fast(x, d), fixed(x, d as usize));
        }
    }
}
