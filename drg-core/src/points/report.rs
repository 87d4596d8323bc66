//! The report files of point calculation, with the columns, row order and
//! decimals of specs/points.md, and reading a weights table back.

use std::collections::BTreeMap;
use std::io::Read;

use super::{CaseScore, ClearingRow, DrgWeight, MonthlyRow, PerDiemRate, PerDiemRates, PointsCase, Settlement, Weights};

/// `x` with `decimals` decimals, rounded half away from zero on its shortest
/// decimal form: the digits that print for it, which a person checking by
/// hand rounds (so 11037.785, stored as 11037.78499…, gives 11037.79).
///
/// ```
/// use drg_core::points::fixed;
/// assert_eq!(fixed(0.125, 2), "0.13");
/// assert_eq!(fixed(-0.125, 2), "-0.13");
/// assert_eq!(fixed(2.675, 2), "2.68");
/// assert_eq!(fixed(1.0, 4), "1.0000");
/// assert_eq!(fixed(-0.0001, 2), "0.00");
/// ```
pub fn fixed(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    // `Display` for f64 prints the shortest digits that read back to the same
    // number, never in exponent form.
    let mut exact = x.abs().to_string();
    if !exact.contains('.') {
        exact.push_str(".0");
    }
    let (int_part, frac_part) = exact.split_once('.').expect("a decimal point");
    let mut digits: Vec<u8> =
        int_part.bytes().chain(frac_part.bytes().chain(std::iter::repeat(b'0')).take(decimals)).collect();
    let next = frac_part.as_bytes().get(decimals).copied().unwrap_or(b'0');
    if next >= b'5' {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, b'1');
                break;
            }
            i -= 1;
            if digits[i] == b'9' {
                digits[i] = b'0';
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let int_len = digits.len() - decimals;
    let mut out = String::with_capacity(digits.len() + 2);
    if x < 0.0 && digits.iter().any(|&d| d != b'0') {
        out.push('-');
    }
    out.push_str(std::str::from_utf8(&digits[..int_len]).expect("digits"));
    if decimals > 0 {
        out.push('.');
        out.push_str(std::str::from_utf8(&digits[int_len..]).expect("digits"));
    }
    out
}

fn csv_text(rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.write_record(&row).expect("write to memory");
    }
    String::from_utf8(w.into_inner().expect("write to memory")).expect("UTF-8")
}

fn weight_row(drg: &str, w: &DrgWeight) -> Vec<String> {
    vec![
        drg.to_string(),
        w.n.to_string(),
        w.kept.to_string(),
        fixed(w.avg_cost, 2),
        fixed(w.weight, 6),
        fixed(w.base_points, 4),
        w.unstable.to_string(),
    ]
}

/// weights.csv: `drg, n, kept, avg_cost, weight, base_points, unstable`, by
/// DRG code, then the overall line (drg `*`).
pub fn weights_csv(weights: &Weights) -> String {
    let header = ["drg", "n", "kept", "avg_cost", "weight", "base_points", "unstable"].map(String::from).to_vec();
    csv_text(
        std::iter::once(header)
            .chain(weights.drgs.iter().map(|(d, w)| weight_row(d, w)))
            .chain(std::iter::once(weight_row("*", &weights.overall))),
    )
}

/// case_points.csv: `id, hospital, drg, category, base_points, coef, points`,
/// in input order.
pub fn case_points_csv(scored: &[(PointsCase, CaseScore)]) -> String {
    let header = case_points_header().map(String::from).to_vec();
    csv_text(std::iter::once(header).chain(scored.iter().map(|(case, s)| case_points_row(case, s).to_vec())))
}

/// The header of case_points.csv (for writers that stream its rows).
pub fn case_points_header() -> [&'static str; 7] {
    ["id", "hospital", "drg", "category", "base_points", "coef", "points"]
}

/// One row of case_points.csv, as [`case_points_csv`] prints it.
pub fn case_points_row(case: &PointsCase, s: &CaseScore) -> [String; 7] {
    [
        case.id.clone(),
        case.hospital.clone(),
        s.drg.clone().unwrap_or_default(),
        s.category.as_str().to_string(),
        fixed(s.base_points, 4),
        fixed(s.coef, 4),
        fixed(s.points, 4),
    ]
}

/// perdiem.csv: `category, name, n, kept, days, daily_cost, avg_los,
/// bedday_points`, one row per category with kept cases, in policy order.
pub fn perdiem_csv(rates: &PerDiemRates) -> String {
    let header = ["category", "name", "n", "kept", "days", "daily_cost", "avg_los", "bedday_points"].map(String::from).to_vec();
    csv_text(std::iter::once(header).chain(rates.rates.iter().map(|r| {
        vec![
            r.category.clone(),
            r.name.clone(),
            r.n.to_string(),
            r.kept.to_string(),
            r.days.to_string(),
            fixed(r.daily_cost, 2),
            fixed(r.avg_los, 2),
            fixed(r.bedday_points, 4),
        ]
    })))
}

/// monthly.csv: `month, hospital, cases, points, fund_item_cost, prepay`, by
/// month then hospital.
pub fn monthly_csv(rows: &[MonthlyRow]) -> String {
    let header = ["month", "hospital", "cases", "points", "fund_item_cost", "prepay"].map(String::from).to_vec();
    csv_text(std::iter::once(header).chain(rows.iter().map(|r| {
        vec![
            r.month.to_string(),
            r.hospital.clone(),
            r.cases.to_string(),
            fixed(r.points, 4),
            fixed(r.fund_item_cost, 2),
            fixed(r.prepay, 2),
        ]
    })))
}

/// clearing.csv: `hospital, score, assessment_coef, fund_due, prepaid,
/// clearing`, by hospital. The score prints as the shortest decimal that
/// reads back as it (90.0 → `90`), empty when the hospital has none.
pub fn clearing_csv(rows: &[ClearingRow]) -> String {
    let header = ["hospital", "score", "assessment_coef", "fund_due", "prepaid", "clearing"].map(String::from).to_vec();
    csv_text(std::iter::once(header).chain(rows.iter().map(|r| {
        vec![
            r.hospital.clone(),
            r.score.map(|s| s.to_string()).unwrap_or_default(),
            fixed(r.assessment_coef, 4),
            fixed(r.fund_due, 2),
            fixed(r.prepaid, 2),
            fixed(r.clearing, 2),
        ]
    })))
}

/// Reads a per-diem table in the format [`perdiem_csv`] writes (to score
/// with a published table instead of calibrating).
pub fn read_perdiem_csv(input: impl Read) -> Result<PerDiemRates, WeightsCsvError> {
    let err = |line: Option<u64>, message: String| WeightsCsvError { line, message };
    let mut reader = csv::Reader::from_reader(input);
    let headers = reader.headers().map_err(|e| err(None, e.to_string()))?.clone();
    let col = |name: &str| {
        headers.iter().position(|h| h.trim().trim_start_matches('\u{feff}') == name).ok_or_else(|| {
            err(Some(1), format!("no column {name} (a per-diem table has category, name, n, kept, days, daily_cost, avg_los, bedday_points)"))
        })
    };
    let cols = [col("category")?, col("name")?, col("n")?, col("kept")?, col("days")?, col("daily_cost")?, col("avg_los")?, col("bedday_points")?];
    let mut rates = PerDiemRates::default();
    for record in reader.records() {
        let record = record.map_err(|e| err(e.position().map(|p| p.line()), e.to_string()))?;
        let line = record.position().map(|p| p.line());
        let field = |i: usize| record.get(cols[i]).unwrap_or("").trim();
        let names = ["category", "name", "n", "kept", "days", "daily_cost", "avg_los", "bedday_points"];
        let number = |i: usize| -> Result<f64, WeightsCsvError> {
            field(i).parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0).ok_or_else(|| err(line, format!("{}: {:?} is not a number of 0 or more", names[i], field(i))))
        };
        let count = |i: usize| -> Result<u64, WeightsCsvError> {
            field(i).parse::<u64>().map_err(|_| err(line, format!("{}: {:?} is not a count", names[i], field(i))))
        };
        let category = field(0).to_string();
        if category.is_empty() {
            return Err(err(line, "category: empty".into()));
        }
        if rates.get(&category).is_some() {
            return Err(err(line, format!("category {category} is listed twice")));
        }
        rates.rates.push(PerDiemRate {
            category,
            name: field(1).to_string(),
            n: count(2)?,
            kept: count(3)?,
            days: count(4)?,
            daily_cost: number(5)?,
            avg_los: number(6)?,
            bedday_points: number(7)?,
        });
    }
    Ok(rates)
}

/// settlement.csv: one row per hospital, by hospital id.
pub fn settlement_csv(settlement: &Settlement) -> String {
    let header = ["hospital", "cases", "points", "self_pay", "cost", "revenue", "fund_due", "prepay", "balance"]
        .map(String::from)
        .to_vec();
    csv_text(std::iter::once(header).chain(settlement.hospitals.iter().map(|h| {
        vec![
            h.hospital.clone(),
            h.cases.to_string(),
            fixed(h.points, 4),
            fixed(h.self_pay, 2),
            fixed(h.cost, 2),
            fixed(h.revenue, 2),
            fixed(h.fund_due, 2),
            fixed(h.prepay, 2),
            fixed(h.balance, 2),
        ]
    })))
}

/// period.csv: `points, self_pay, fund_item_cost, budget, pool, point_value`.
pub fn period_csv(settlement: &Settlement) -> String {
    let p = &settlement.period;
    csv_text([
        ["points", "self_pay", "fund_item_cost", "budget", "pool", "point_value"].map(String::from).to_vec(),
        vec![
            fixed(p.points, 4),
            fixed(p.self_pay, 2),
            fixed(p.fund_item_cost, 2),
            fixed(p.budget, 2),
            fixed(p.pool, 2),
            fixed(p.point_value, 6),
        ],
    ])
}

/// A weights table that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct WeightsCsvError {
    /// The line to blame (1 is the header), when one is.
    pub line: Option<u64>,
    /// What is wrong there.
    pub message: String,
}

/// Reads a weights table in the format [`weights_csv`] writes (a region's own
/// table, say). Its overall line (drg `*`) is required: it gives the overall
/// average that prices ungrouped cases.
pub fn read_weights_csv(input: impl Read) -> Result<Weights, WeightsCsvError> {
    let err = |line: Option<u64>, message: String| WeightsCsvError { line, message };
    // Guarded like every CSV drg reads: a row or field past the limits, or an
    // unterminated quote, is refused with its line.
    let mut reader = csv::Reader::from_reader(crate::io::GuardedCsv::new(input, crate::io::CsvLimits::default()));
    let headers = reader.headers().map_err(|e| err(None, e.to_string()))?.clone();
    let col = |name: &str| {
        headers.iter().position(|h| h.trim().trim_start_matches('\u{feff}') == name).ok_or_else(|| {
            err(Some(1), format!("no column {name} (a weights table has drg, n, kept, avg_cost, weight, base_points, unstable)"))
        })
    };
    let (c_drg, c_n, c_kept, c_avg, c_weight, c_bp, c_unstable) =
        (col("drg")?, col("n")?, col("kept")?, col("avg_cost")?, col("weight")?, col("base_points")?, col("unstable")?);
    let mut drgs = BTreeMap::new();
    let mut overall = None;
    for record in reader.records() {
        let record = record.map_err(|e| err(e.position().map(|p| p.line()), e.to_string()))?;
        let line = record.position().map(|p| p.line());
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        let number = |i: usize, name: &str| -> Result<f64, WeightsCsvError> {
            field(i).parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| err(line, format!("{name}: {:?} is not a number", field(i))))
        };
        let count = |i: usize, name: &str| -> Result<u64, WeightsCsvError> {
            field(i).parse::<u64>().map_err(|_| err(line, format!("{name}: {:?} is not a count", field(i))))
        };
        let unstable = match field(c_unstable) {
            "true" => true,
            "false" => false,
            other => return Err(err(line, format!("unstable: {other:?} is neither true nor false"))),
        };
        let w = DrgWeight {
            n: count(c_n, "n")?,
            kept: count(c_kept, "kept")?,
            avg_cost: number(c_avg, "avg_cost")?,
            weight: number(c_weight, "weight")?,
            base_points: number(c_bp, "base_points")?,
            unstable,
        };
        if w.avg_cost <= 0.0 {
            return Err(err(line, format!("avg_cost: {} is not above 0", w.avg_cost)));
        }
        let drg = field(c_drg).to_string();
        if drg == "*" {
            overall = Some(w);
        } else if drg.is_empty() {
            return Err(err(line, "drg: empty".into()));
        } else if drgs.insert(drg.clone(), w).is_some() {
            return Err(err(line, format!("drg {drg} is listed twice")));
        }
    }
    let overall = overall.ok_or_else(|| err(None, "no overall line (drg *): it gives the overall average cost".into()))?;
    Ok(Weights { drgs, overall })
}
