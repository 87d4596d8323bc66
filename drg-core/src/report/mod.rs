//! DRG indicators (specs/report.md): per DRG (with its mortality risk
//! level), per hospital or department (入组率, DRG 组数, 总权重, CMI,
//! 费用/时间消耗指数, 低风险组死亡率) and for the scheme (RIV, CV).
//!
//! Rows are added one at a time to an [`Indicators`] accumulator, which keeps
//! one cell per hospital (or department) and DRG, never the rows: memory grows
//! with hospitals × DRGs, not with the input. Means are sums in input order
//! divided by counts, as the spec says; standard deviations (the cost CV and
//! the RIV's sums of squares) are accumulated with Welford's update, which
//! agrees with the two-pass formula to about 1e-15 relative — far below the
//! 4 printed decimals — without a second pass over the rows.
//!
//! ```
//! use drg_core::points::{read_weights_csv};
//! use drg_core::report::{Indicators, ReportRow};
//! use drg_core::Status;
//!
//! let weights = read_weights_csv("drg,n,kept,avg_cost,weight,base_points,unstable\nGC25,2,2,10000,1.2,120,false\n*,2,2,8000,1,100,false\n".as_bytes()).unwrap();
//! let mut indicators = Indicators::new(&weights, false);
//! let row = |cost: f64| ReportRow { hospital: "H1", status: Status::Grouped, drg: Some("GC25"),
//!                                   total_cost: Some(cost), los_days: Some(5), ..ReportRow::default() };
//! indicators.add(&row(9000.0));
//! indicators.add(&row(11000.0));
//! let report = indicators.finish(None);
//! assert_eq!(report.drgs[0].avg_cost, Some(10000.0));
//! assert_eq!(report.hospitals[0].cmi, Some(1.2));
//! assert_eq!(report.scheme.group_rate, Some(1.0));
//! ```

mod html;
mod read;
mod table;

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use crate::points::{fixed, Weights};
use crate::Status;

pub use html::report_html;
pub use read::{is_death, ReadSummary, ReportInputError, ReportReader};
pub use table::{drgs_table, hospitals_table, scheme_table, table_csv, TableCell, TableColumn};

/// 死亡风险分级: the mortality risk level of a DRG.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Risk {
    /// 低风险: mortality 0, or a z-score below −1.
    Low,
    /// 中低风险: z-score from −1 to below 0.
    MidLow,
    /// 中高风险: z-score from 0 to below 1.
    MidHigh,
    /// 高风险: z-score of 1 or more.
    High,
}

impl Risk {
    /// `low`, `mid-low`, `mid-high` or `high`, as drgs.csv prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::MidLow => "mid-low",
            Risk::MidHigh => "mid-high",
            Risk::High => "high",
        }
    }

    /// The level's Chinese name (低风险, 中低风险, 中高风险, 高风险).
    pub fn chinese(self) -> &'static str {
        match self {
            Risk::Low => "低风险",
            Risk::MidLow => "中低风险",
            Risk::MidHigh => "中高风险",
            Risk::High => "高风险",
        }
    }
}

/// One input row as the indicators see it. Costs and stays are given as read;
/// which of them count (a cost above 0, a stay of at least 1 day) is decided
/// here.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReportRow<'a> {
    /// The hospital (医疗机构) of the row.
    pub hospital: &'a str,
    /// Used only by a report by department; an empty dept is a department
    /// of its own.
    pub dept: &'a str,
    /// The row's grouping status.
    pub status: Status,
    /// The DRG of a `grouped` row (a grouped row without one is not grouped).
    pub drg: Option<&'a str>,
    /// 离院方式 is 死亡 (discharge 5).
    pub death: bool,
    /// Total cost, as read (only a cost above 0 counts).
    pub total_cost: Option<f64>,
    /// Length of stay in days, as read (only a stay of at least 1 day counts).
    pub los_days: Option<i64>,
}

impl Default for ReportRow<'_> {
    fn default() -> Self {
        ReportRow { hospital: "", dept: "", status: Status::Invalid, drg: None, death: false, total_cost: None, los_days: None }
    }
}

/// A count, a sum in input order, and Welford's running mean and sum of
/// squared deviations.
#[derive(Clone, Copy, Debug, Default)]
struct Moments {
    n: u64,
    sum: f64,
    mean: f64,
    m2: f64,
}

impl Moments {
    fn add(&mut self, x: f64) {
        self.n += 1;
        self.sum += x;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// Σ x / n (`None` without values).
    fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }

    /// Population sd / mean.
    fn cv(&self) -> Option<f64> {
        let mean = self.mean()?;
        ratio((self.m2 / self.n as f64).max(0.0).sqrt(), mean)
    }
}

fn ratio(num: f64, den: f64) -> Option<f64> {
    (den != 0.0).then(|| num / den)
}

fn count_ratio(num: u64, den: u64) -> Option<f64> {
    (den != 0).then(|| num as f64 / den as f64)
}

fn cost_counts(cost: Option<f64>) -> Option<f64> {
    cost.filter(|c| c.is_finite() && *c > 0.0)
}

fn los_counts(los: Option<i64>) -> Option<f64> {
    los.filter(|d| *d >= 1).map(|d| d as f64)
}

#[derive(Clone, Debug)]
struct DrgAcc {
    code: Box<str>,
    /// Its RW in the weights table, looked up once.
    weight: Option<f64>,
    cases: u64,
    deaths: u64,
    cost: Moments,
    los: Moments,
}

#[derive(Clone, Debug, Default)]
struct UnitAcc {
    hospital: Box<str>,
    dept: Box<str>,
    cases: u64,
    valid: u64,
    grouped: u64,
    weighted: u64,
    total_weight: f64,
}

#[derive(Clone, Copy, Debug, Default)]
struct Cell {
    cases: u64,
    deaths: u64,
    cost_n: u64,
    cost_sum: f64,
    los_n: u64,
    los_sum: f64,
}

/// The accumulator of specs/report.md: add every row, then [`finish`](Self::finish).
///
/// ```
/// use drg_core::report::{Indicators, ReportRow};
/// use drg_core::Status;
///
/// let weights = drg_core::points::read_weights_csv(
///     "drg,n,kept,avg_cost,weight,base_points,unstable\n\
///      GC23,10,10,8000,0.8,80,false\n\
///      *,10,10,10000,1,100,false\n".as_bytes(),
/// )
/// .unwrap();
/// let mut indicators = Indicators::new(&weights, false);
/// for (hospital, cost) in [("H1", 7000.0), ("H1", 9000.0), ("H2", 8000.0)] {
///     indicators.add(&ReportRow {
///         hospital,
///         status: Status::Grouped,
///         drg: Some("GC23"),
///         total_cost: Some(cost),
///         los_days: Some(5),
///         ..ReportRow::default()
///     });
/// }
/// let report = indicators.finish(None);
/// assert_eq!(report.scheme.cases, 3);
/// assert_eq!(report.hospitals[0].cmi, Some(0.8));
/// assert_eq!(report.hospitals[1].cost_index, Some(1.0));
/// ```
pub struct Indicators<'w> {
    weights: &'w Weights,
    by_dept: bool,
    drg_index: FxHashMap<Box<str>, u32>,
    drgs: Vec<DrgAcc>,
    unit_index: FxHashMap<Box<str>, u32>,
    units: Vec<UnitAcc>,
    /// Keyed by unit << 32 | drg.
    cells: FxHashMap<u64, Cell>,
    key: String,
    cases: u64,
    valid: u64,
    grouped: u64,
    all_cost: Moments,
    all_los: Moments,
    unweighted: BTreeMap<String, u64>,
}

/// Per DRG over the whole input (a row of drgs.csv).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct DrgIndicators {
    /// The DRG code.
    pub drg: String,
    /// Grouped cases in the DRG.
    pub cases: u64,
    /// Those of them who died (discharge 5).
    pub deaths: u64,
    /// `deaths / cases`.
    pub mortality: f64,
    /// The DRG's mortality risk level (specs/report.md).
    pub risk: Risk,
    /// Mean total cost of the cases with a cost above 0.
    pub avg_cost: Option<f64>,
    /// Mean length of stay of the cases with a stay of at least 1 day.
    pub avg_los: Option<f64>,
    /// Coefficient of variation of the cost (sd / mean).
    pub cost_cv: Option<f64>,
}

/// Per hospital, or per hospital and department (a row of hospitals.csv).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct UnitIndicators {
    /// The hospital.
    pub hospital: String,
    /// `Some` in a report by department.
    pub dept: Option<String>,
    /// Every row of the unit, valid or not.
    pub cases: u64,
    /// Rows that are not `invalid`.
    pub valid: u64,
    /// Rows grouped into a DRG.
    pub grouped: u64,
    /// `grouped / valid` (入组率).
    pub group_rate: Option<f64>,
    /// Distinct DRGs the unit's cases fall in.
    pub drg_count: u64,
    /// Sum of the weights (RW) of its grouped cases with a weight.
    pub total_weight: f64,
    /// Case-mix index: `total_weight` / grouped cases with a weight.
    pub cmi: Option<f64>,
    /// Cost index (费用消耗指数): its costs against the region's, DRG by DRG.
    pub cost_index: Option<f64>,
    /// Time index (时间消耗指数): its stays against the region's, DRG by DRG.
    pub time_index: Option<f64>,
    /// Cases in low-risk DRGs.
    pub low_risk_cases: u64,
    /// Deaths among them.
    pub low_risk_deaths: u64,
    /// `low_risk_deaths / low_risk_cases` (低风险组死亡率).
    pub low_risk_mortality: Option<f64>,
}

/// The scheme as a whole (scheme.csv).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SchemeIndicators {
    /// Every row.
    pub cases: u64,
    /// Rows grouped into a DRG.
    pub grouped: u64,
    /// `grouped / valid`.
    pub group_rate: Option<f64>,
    /// Distinct DRGs with a grouped case.
    pub drgs_used: u64,
    /// Reduction in variance of the cost by the grouping.
    pub riv_cost: Option<f64>,
    /// Reduction in variance of the length of stay.
    pub riv_los: Option<f64>,
    /// DRGs whose cost CV is above 1.
    pub drgs_cv_over_1: u64,
}

/// The three tables.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Report {
    /// By DRG code (byte order).
    pub drgs: Vec<DrgIndicators>,
    /// By hospital, then department.
    pub hospitals: Vec<UnitIndicators>,
    /// The scheme as a whole.
    pub scheme: SchemeIndicators,
    /// Whether `hospitals` is by hospital and department.
    pub by_dept: bool,
    /// Grouped rows in a DRG the weights table has no weight for: their
    /// count by DRG. They count everywhere but in total_weight and CMI.
    pub unweighted: BTreeMap<String, u64>,
}

/// Deaths and cases by DRG: what risk levels are graded on.
pub type Mortality = BTreeMap<String, (u64, u64)>;

impl<'w> Indicators<'w> {
    /// An empty accumulator; `by_dept` reports by hospital and department.
    pub fn new(weights: &'w Weights, by_dept: bool) -> Self {
        Indicators {
            weights,
            by_dept,
            drg_index: FxHashMap::default(),
            drgs: Vec::new(),
            unit_index: FxHashMap::default(),
            units: Vec::new(),
            cells: FxHashMap::default(),
            key: String::new(),
            cases: 0,
            valid: 0,
            grouped: 0,
            all_cost: Moments::default(),
            all_los: Moments::default(),
            unweighted: BTreeMap::new(),
        }
    }

    fn unit(&mut self, hospital: &str, dept: &str) -> u32 {
        self.key.clear();
        self.key.push_str(hospital);
        if self.by_dept {
            // A separator no hospital id holds keeps ("A", "BC") and ("AB", "C") apart.
            self.key.push('\u{0}');
            self.key.push_str(dept);
        }
        if let Some(&i) = self.unit_index.get(self.key.as_str()) {
            return i;
        }
        let i = self.units.len() as u32;
        self.unit_index.insert(self.key.as_str().into(), i);
        self.units.push(UnitAcc {
            hospital: hospital.into(),
            dept: if self.by_dept { dept.into() } else { "".into() },
            ..UnitAcc::default()
        });
        i
    }

    fn drg(&mut self, code: &str) -> u32 {
        if let Some(&i) = self.drg_index.get(code) {
            return i;
        }
        let i = self.drgs.len() as u32;
        self.drg_index.insert(code.into(), i);
        let weight = self.weights.drgs.get(code).map(|w| w.weight);
        self.drgs.push(DrgAcc { code: code.into(), weight, cases: 0, deaths: 0, cost: Moments::default(), los: Moments::default() });
        i
    }

    /// Adds one row.
    pub fn add(&mut self, row: &ReportRow<'_>) {
        let u = self.unit(row.hospital, row.dept);
        self.cases += 1;
        let unit = &mut self.units[u as usize];
        unit.cases += 1;
        if row.status == Status::Invalid {
            return;
        }
        self.valid += 1;
        unit.valid += 1;
        let Some(code) = row.drg.filter(|d| row.status == Status::Grouped && !d.is_empty()) else {
            return;
        };
        self.grouped += 1;
        unit.grouped += 1;
        let d = self.drg(code);
        let unit = &mut self.units[u as usize];
        let drg = &mut self.drgs[d as usize];
        match drg.weight {
            Some(w) => {
                unit.weighted += 1;
                unit.total_weight += w;
            }
            None => match self.unweighted.get_mut(code) {
                Some(n) => *n += 1,
                None => {
                    self.unweighted.insert(code.to_string(), 1);
                }
            },
        }
        let cell = self.cells.entry((u64::from(u) << 32) | u64::from(d)).or_default();
        drg.cases += 1;
        cell.cases += 1;
        if row.death {
            drg.deaths += 1;
            cell.deaths += 1;
        }
        if let Some(c) = cost_counts(row.total_cost) {
            drg.cost.add(c);
            self.all_cost.add(c);
            cell.cost_n += 1;
            cell.cost_sum += c;
        }
        if let Some(l) = los_counts(row.los_days) {
            drg.los.add(l);
            self.all_los.add(l);
            cell.los_n += 1;
            cell.los_sum += l;
        }
    }

    /// Deaths and cases by DRG so far: a benchmark to grade another input's
    /// risk levels on (`--risk-from`).
    pub fn mortality(&self) -> Mortality {
        self.drgs.iter().map(|d| (d.code.to_string(), (d.deaths, d.cases))).collect()
    }

    /// The three tables. Risk levels are graded on this input, or on
    /// `risk_from` (deaths and cases by DRG of a benchmark set) when given.
    pub fn finish(self, risk_from: Option<&Mortality>) -> Report {
        let mut order: Vec<u32> = (0..self.drgs.len() as u32).collect();
        order.sort_unstable_by(|a, b| self.drgs[*a as usize].code.as_bytes().cmp(self.drgs[*b as usize].code.as_bytes()));
        let own;
        let grading = match risk_from {
            Some(m) => m,
            None => {
                own = self.drgs.iter().map(|d| (d.code.to_string(), (d.deaths, d.cases))).collect::<Mortality>();
                &own
            }
        };
        let levels = grade_risk(grading);
        let risk: Vec<Risk> = self.drgs.iter().map(|d| levels.get(&*d.code).copied().unwrap_or(Risk::Low)).collect();
        let drgs = self.drg_table(&order, &risk);
        let hospitals = self.unit_table(&order, &risk);
        let scheme = self.scheme_line(&order, &drgs);
        Report { drgs, hospitals, scheme, by_dept: self.by_dept, unweighted: self.unweighted }
    }

    /// The DRG table, in code order.
    fn drg_table(&self, order: &[u32], risk: &[Risk]) -> Vec<DrgIndicators> {
        order
            .iter()
            .map(|&i| {
                let d = &self.drgs[i as usize];
                DrgIndicators {
                    drg: d.code.to_string(),
                    cases: d.cases,
                    deaths: d.deaths,
                    mortality: d.deaths as f64 / d.cases as f64,
                    risk: risk[i as usize],
                    avg_cost: d.cost.mean(),
                    avg_los: d.los.mean(),
                    cost_cv: d.cost.cv(),
                }
            })
            .collect()
    }

    /// The hospital (or department) table, sorted by hospital and department.
    fn unit_table(&self, order: &[u32], risk: &[Risk]) -> Vec<UnitIndicators> {
        let sums = self.unit_sums(order, risk);
        let mut hospitals: Vec<UnitIndicators> = self
            .units
            .iter()
            .zip(&sums)
            .map(|(u, s)| UnitIndicators {
                hospital: u.hospital.to_string(),
                dept: self.by_dept.then(|| u.dept.to_string()),
                cases: u.cases,
                valid: u.valid,
                grouped: u.grouped,
                group_rate: count_ratio(u.grouped, u.valid),
                drg_count: s.drg_count,
                total_weight: u.total_weight,
                cmi: (u.weighted > 0).then(|| u.total_weight / u.weighted as f64),
                cost_index: (s.cost_den > 0).then(|| s.cost_num / s.cost_den as f64),
                time_index: (s.los_den > 0).then(|| s.los_num / s.los_den as f64),
                low_risk_cases: s.low_cases,
                low_risk_deaths: s.low_deaths,
                low_risk_mortality: count_ratio(s.low_deaths, s.low_cases),
            })
            .collect();
        hospitals.sort_by(|a, b| {
            a.hospital.as_bytes().cmp(b.hospital.as_bytes()).then_with(|| {
                a.dept.as_deref().unwrap_or("").as_bytes().cmp(b.dept.as_deref().unwrap_or("").as_bytes())
            })
        });
        hospitals
    }

    /// Each unit's sums over its (unit, DRG) cells: the cost and time
    /// indexes' numerators and denominators, the low-risk cases and deaths.
    fn unit_sums(&self, order: &[u32], risk: &[Risk]) -> Vec<UnitSums> {
        // Cells by unit, then DRG code: every hospital's sums run in one
        // fixed order.
        let mut rank = vec![0u32; self.drgs.len()];
        for (r, &i) in order.iter().enumerate() {
            rank[i as usize] = r as u32;
        }
        let mut cells: Vec<(u32, u32, Cell)> =
            self.cells.iter().map(|(k, c)| ((k >> 32) as u32, (k & 0xffff_ffff) as u32, *c)).collect();
        cells.sort_unstable_by_key(|(u, d, _)| (*u, rank[*d as usize]));
        let mut sums: Vec<UnitSums> = (0..self.units.len()).map(|_| UnitSums::default()).collect();
        for (u, d, c) in &cells {
            let s = &mut sums[*u as usize];
            let drg = &self.drgs[*d as usize];
            s.drg_count += 1;
            if c.cost_n > 0 {
                if let Some(region) = drg.cost.mean() {
                    let n = c.cost_n as f64;
                    s.cost_num += n * ((c.cost_sum / n) / region);
                    s.cost_den += c.cost_n;
                }
            }
            if c.los_n > 0 {
                if let Some(region) = drg.los.mean() {
                    let n = c.los_n as f64;
                    s.los_num += n * ((c.los_sum / n) / region);
                    s.los_den += c.los_n;
                }
            }
            if risk[*d as usize] == Risk::Low {
                s.low_cases += c.cases;
                s.low_deaths += c.deaths;
            }
        }
        sums
    }

    /// The scheme's own line: group rate, DRGs used, RIV of cost and stay.
    fn scheme_line(&self, order: &[u32], drgs: &[DrgIndicators]) -> SchemeIndicators {
        let riv = |all: &Moments, within: f64| -> Option<f64> {
            (all.n > 0 && all.m2 > 0.0).then(|| 1.0 - within / all.m2)
        };
        let within_cost: f64 = order.iter().map(|&i| self.drgs[i as usize].cost.m2).sum();
        let within_los: f64 = order.iter().map(|&i| self.drgs[i as usize].los.m2).sum();
        SchemeIndicators {
            cases: self.cases,
            grouped: self.grouped,
            group_rate: count_ratio(self.grouped, self.valid),
            drgs_used: drgs.len() as u64,
            riv_cost: riv(&self.all_cost, within_cost),
            riv_los: riv(&self.all_los, within_los),
            drgs_cv_over_1: drgs.iter().filter(|d| d.cost_cv.is_some_and(|cv| cv > 1.0)).count() as u64,
        }
    }
}

/// One unit's sums over its cells (see `Indicators::unit_sums`).
#[derive(Default)]
struct UnitSums {
    drg_count: u64,
    cost_num: f64,
    cost_den: u64,
    los_num: f64,
    los_den: u64,
    low_cases: u64,
    low_deaths: u64,
}

/// The risk level of every DRG of `mortality` (deaths, cases by DRG), by the
/// z-score of its log mortality among the DRGs with deaths (specs/report.md).
pub fn grade_risk(mortality: &Mortality) -> BTreeMap<String, Risk> {
    let with_deaths: Vec<(&str, u64, u64)> =
        mortality.iter().filter(|(_, (d, c))| *d > 0 && *c > 0).map(|(k, (d, c))| (k.as_str(), *d, *c)).collect();
    let mut out: BTreeMap<String, Risk> = mortality.keys().map(|k| (k.clone(), Risk::Low)).collect();
    let (_, d0, c0) = match with_deaths.first() {
        Some(first) => *first,
        None => return out,
    };
    // The same mortality everywhere, compared exactly (d_a × c_b = d_b × c_a).
    let all_same = with_deaths.iter().all(|(_, d, c)| u128::from(*d) * u128::from(c0) == u128::from(d0) * u128::from(*c));
    if with_deaths.len() < 2 || all_same {
        for (k, _, _) in &with_deaths {
            out.insert(k.to_string(), Risk::MidLow);
        }
        return out;
    }
    let logs: Vec<f64> = with_deaths.iter().map(|(_, d, c)| (*d as f64 / *c as f64).ln()).collect();
    let n = logs.len() as f64;
    let mu = logs.iter().sum::<f64>() / n;
    let sigma = (logs.iter().map(|x| (x - mu) * (x - mu)).sum::<f64>() / n).sqrt();
    for ((k, _, _), x) in with_deaths.iter().zip(&logs) {
        let z: f64 = fixed((x - mu) / sigma, 9).parse().expect("a number prints as one");
        let level = if z < -1.0 {
            Risk::Low
        } else if z < 0.0 {
            Risk::MidLow
        } else if z < 1.0 {
            Risk::MidHigh
        } else {
            Risk::High
        };
        out.insert(k.to_string(), level);
    }
    out
}

/// drgs.csv: `drg, cases, deaths, mortality, risk, avg_cost, avg_los, cost_cv`.
pub fn drgs_csv(report: &Report) -> String {
    table_csv(&drgs_table(report))
}

/// hospitals.csv (with a `dept` column after `hospital` in a report by
/// department).
pub fn hospitals_csv(report: &Report) -> String {
    table_csv(&hospitals_table(report))
}

/// scheme.csv: `cases, grouped, group_rate, drgs_used, riv_cost, riv_los, drgs_cv_over_1`.
pub fn scheme_csv(report: &Report) -> String {
    table_csv(&scheme_table(report))
}

#[cfg(test)]
mod tests;
