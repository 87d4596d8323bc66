//! The three report tables as columns: their names, order and the decimals
//! each prints with, in one place. The CSV files (`drgs_csv` …) render them
//! as text; the bindings hand the unrounded cells to their own tables
//! (Python: DataFrames).

use super::{Report, UnitIndicators};

/// One cell of a report table, unrounded.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum TableCell<'r> {
    /// A code, name or level.
    Text(&'r str),
    /// A count of cases or groups.
    Count(u64),
    /// A number that always has a value.
    Number(f64),
    /// A ratio or mean that is empty when its denominator is 0.
    Ratio(Option<f64>),
}

/// One column of a report table.
#[derive(Clone, Debug, PartialEq)]
pub struct TableColumn<'r> {
    /// The column's name in the CSV header.
    pub name: &'static str,
    /// The decimals a number of this column is printed with in the CSV.
    pub decimals: usize,
    /// The cells, one per row.
    pub cells: Vec<TableCell<'r>>,
}

impl TableCell<'_> {
    /// The cell as the CSV prints it, with `decimals` for a number.
    pub fn to_csv(&self, decimals: usize) -> String {
        match self {
            TableCell::Text(t) => t.to_string(),
            TableCell::Count(n) => n.to_string(),
            TableCell::Number(x) => crate::points::fixed(*x, decimals),
            TableCell::Ratio(x) => x.map(|v| crate::points::fixed(v, decimals)).unwrap_or_default(),
        }
    }
}

fn column<'r, T>(name: &'static str, decimals: usize, rows: &'r [T], cell: impl Fn(&'r T) -> TableCell<'r>) -> TableColumn<'r> {
    TableColumn { name, decimals, cells: rows.iter().map(cell).collect() }
}

/// drgs.csv as columns: `drg, cases, deaths, mortality, risk, avg_cost,
/// avg_los, cost_cv`.
pub fn drgs_table(report: &Report) -> Vec<TableColumn<'_>> {
    use TableCell::*;
    let d = &report.drgs;
    vec![
        column("drg", 0, d, |r| Text(&r.drg)),
        column("cases", 0, d, |r| Count(r.cases)),
        column("deaths", 0, d, |r| Count(r.deaths)),
        column("mortality", 4, d, |r| Number(r.mortality)),
        column("risk", 0, d, |r| Text(r.risk.as_str())),
        column("avg_cost", 2, d, |r| Ratio(r.avg_cost)),
        column("avg_los", 2, d, |r| Ratio(r.avg_los)),
        column("cost_cv", 4, d, |r| Ratio(r.cost_cv)),
    ]
}

/// hospitals.csv as columns (with `dept` after `hospital` in a report by
/// department).
pub fn hospitals_table(report: &Report) -> Vec<TableColumn<'_>> {
    use TableCell::*;
    let h: &[UnitIndicators] = &report.hospitals;
    let mut columns = vec![column("hospital", 0, h, |r| Text(&r.hospital))];
    if report.by_dept {
        columns.push(column("dept", 0, h, |r| Text(r.dept.as_deref().unwrap_or(""))));
    }
    columns.extend([
        column("cases", 0, h, |r| Count(r.cases)),
        column("valid", 0, h, |r| Count(r.valid)),
        column("grouped", 0, h, |r| Count(r.grouped)),
        column("group_rate", 4, h, |r| Ratio(r.group_rate)),
        column("drg_count", 0, h, |r| Count(r.drg_count)),
        column("total_weight", 4, h, |r| Number(r.total_weight)),
        column("cmi", 4, h, |r| Ratio(r.cmi)),
        column("cost_index", 4, h, |r| Ratio(r.cost_index)),
        column("time_index", 4, h, |r| Ratio(r.time_index)),
        column("low_risk_cases", 0, h, |r| Count(r.low_risk_cases)),
        column("low_risk_deaths", 0, h, |r| Count(r.low_risk_deaths)),
        column("low_risk_mortality", 4, h, |r| Ratio(r.low_risk_mortality)),
    ]);
    columns
}

/// scheme.csv as columns (one row): `cases, grouped, group_rate, drgs_used,
/// riv_cost, riv_los, drgs_cv_over_1`.
pub fn scheme_table(report: &Report) -> Vec<TableColumn<'_>> {
    use TableCell::*;
    let s = std::slice::from_ref(&report.scheme);
    vec![
        column("cases", 0, s, |r| Count(r.cases)),
        column("grouped", 0, s, |r| Count(r.grouped)),
        column("group_rate", 4, s, |r| Ratio(r.group_rate)),
        column("drgs_used", 0, s, |r| Count(r.drgs_used)),
        column("riv_cost", 4, s, |r| Ratio(r.riv_cost)),
        column("riv_los", 4, s, |r| Ratio(r.riv_los)),
        column("drgs_cv_over_1", 0, s, |r| Count(r.drgs_cv_over_1)),
    ]
}

/// A table as CSV text: the header, then each row with its columns' decimals.
pub fn table_csv(columns: &[TableColumn<'_>]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(columns.iter().map(|c| c.name)).expect("write to memory");
    let rows = columns.first().map_or(0, |c| c.cells.len());
    for i in 0..rows {
        w.write_record(columns.iter().map(|c| c.cells[i].to_csv(c.decimals))).expect("write to memory");
    }
    String::from_utf8(w.into_inner().expect("write to memory")).expect("UTF-8")
}
