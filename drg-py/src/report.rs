//! `drg.report`: the DRG indicators of specs/report.md on columns. Rows are
//! read with the same conversions as grouping (`set_value`); every figure
//! comes from `drg_core::report`.

use drg_core::case::{Case, Field};
use drg_core::points::read_weights_csv;
use drg_core::report::{Indicators, Mortality, Report, ReportRow};
use drg_core::Status;

use pyo3::prelude::*;
use pyo3::IntoPyObjectExt;
use pyo3::types::{PyDict, PyList, PyString};

use crate::set_value;

/// The one place report errors become Python exceptions.
fn error(message: impl Into<String>) -> PyErr {
    crate::errors::input(message)
}

/// A text cell: None, NaN and pandas' missing values are missing.
fn text_of(v: &Bound<'_, PyAny>) -> Option<String> {
    if v.is_none() {
        return None;
    }
    if v.is_instance_of::<PyString>() {
        return v.extract::<String>().ok();
    }
    if v.extract::<f64>().is_ok_and(f64::is_nan) {
        return None;
    }
    let type_name = v.get_type().name().map(|n| n.to_string()).unwrap_or_default();
    if type_name == "NAType" || type_name == "NaTType" {
        return None;
    }
    v.str().ok().map(|s| s.to_string())
}

/// Adds every row of `columns` (lists of equal length, keyed by field name,
/// plus `status` and `drg`) to `indicators`; unreadable values go to
/// `problems` as (what, row, reason).
fn add_rows(
    what: &str,
    columns: &Bound<'_, PyDict>,
    indicators: &mut Indicators<'_>,
    problems: &mut Vec<(String, usize, String)>,
) -> PyResult<()> {
    let mut n = None;
    let mut get = |name: &str| -> PyResult<Option<Bound<'_, PyList>>> {
        let Some(v) = columns.get_item(name)? else { return Ok(None) };
        let list = v.cast_into::<PyList>().map_err(|_| error(format!("{what}: column {name} must be a list")))?;
        match n {
            None => n = Some(list.len()),
            Some(len) if len != list.len() => {
                return Err(error(format!("{what}: column {name} has {} values, expected {len}", list.len())))
            }
            _ => {}
        }
        Ok(Some(list))
    };
    let fields = [Field::Hospital, Field::Dept, Field::Discharge, Field::LosDays, Field::TotalCost];
    let mut lists = Vec::new();
    for f in fields {
        lists.push((f, get(f.name())?));
    }
    let (status, drg) = (get("status")?, get("drg")?);
    let (Some(status), Some(drg)) = (status, drg) else {
        return Err(error(format!("{what}: needs status and drg columns (group the cases first)")));
    };
    let mut case = Case::default();
    for i in 0..status.len() {
        for (field, list) in &lists {
            let Some(list) = list else { continue };
            if let Err(e) = set_value(&mut case, *field, &list.get_item(i)?) {
                let figures = match field {
                    Field::LosDays => "; left out of time figures",
                    Field::TotalCost => "; left out of cost figures",
                    _ => "; taken as missing",
                };
                problems.push((what.to_string(), i, format!("{e}{figures}")));
                let _ = case.set_field(*field, "");
            }
        }
        let status_text = text_of(&status.get_item(i)?);
        let drg_text = text_of(&drg.get_item(i)?).map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
        let status = match status_text.as_deref().map(str::trim) {
            Some("grouped") => {
                if drg_text.is_none() {
                    problems.push((what.to_string(), i, "grouped with an empty drg; counted as not grouped".into()));
                }
                Status::Grouped
            }
            Some("ungroupable") => Status::Ungroupable,
            Some("ambiguous") => Status::Ambiguous,
            Some("invalid") => Status::Invalid,
            other => {
                problems.push((
                    what.to_string(),
                    i,
                    format!("status: {:?} is not one of grouped, ungroupable, ambiguous, invalid; counted as not grouped", other.unwrap_or("")),
                ));
                Status::Ungroupable
            }
        };
        indicators.add(&ReportRow {
            hospital: case.hospital.as_deref().unwrap_or(""),
            dept: case.dept.as_deref().unwrap_or(""),
            status,
            drg: drg_text.as_deref(),
            death: drg_core::report::is_death(case.discharge.as_deref()),
            total_cost: case.total_cost,
            los_days: case.los_days,
        });
    }
    Ok(())
}

fn table<'py>(py: Python<'py>, names: &[&str], rows: Vec<Vec<Bound<'py, PyAny>>>) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (j, name) in names.iter().enumerate() {
        d.set_item(name, PyList::new(py, rows.iter().map(|r| &r[j]))?)?;
    }
    Ok(d)
}

fn tables<'py>(py: Python<'py>, r: &Report) -> PyResult<Bound<'py, PyDict>> {
    fn any<'py, T: IntoPyObject<'py>>(py: Python<'py>, v: T) -> PyResult<Bound<'py, PyAny>> {
        v.into_bound_py_any(py)
    }
    let drgs = r
        .drgs
        .iter()
        .map(|d| {
            Ok(vec![
                any(py, d.drg.as_str())?,
                any(py, d.cases)?,
                any(py, d.deaths)?,
                any(py, d.mortality)?,
                any(py, d.risk.as_str())?,
                any(py, d.avg_cost)?,
                any(py, d.avg_los)?,
                any(py, d.cost_cv)?,
            ])
        })
        .collect::<PyResult<Vec<_>>>()?;
    let mut unit_names = vec!["hospital"];
    if r.by_dept {
        unit_names.push("dept");
    }
    unit_names.extend([
        "cases",
        "valid",
        "grouped",
        "group_rate",
        "drg_count",
        "total_weight",
        "cmi",
        "cost_index",
        "time_index",
        "low_risk_cases",
        "low_risk_deaths",
        "low_risk_mortality",
    ]);
    let units = r
        .hospitals
        .iter()
        .map(|h| {
            let mut row = vec![any(py, h.hospital.as_str())?];
            if let Some(d) = &h.dept {
                row.push(any(py, d.as_str())?);
            }
            row.extend([
                any(py, h.cases)?,
                any(py, h.valid)?,
                any(py, h.grouped)?,
                any(py, h.group_rate)?,
                any(py, h.drg_count)?,
                any(py, h.total_weight)?,
                any(py, h.cmi)?,
                any(py, h.cost_index)?,
                any(py, h.time_index)?,
                any(py, h.low_risk_cases)?,
                any(py, h.low_risk_deaths)?,
                any(py, h.low_risk_mortality)?,
            ]);
            Ok(row)
        })
        .collect::<PyResult<Vec<_>>>()?;
    let s = &r.scheme;
    let scheme = vec![vec![
        any(py, s.cases)?,
        any(py, s.grouped)?,
        any(py, s.group_rate)?,
        any(py, s.drgs_used)?,
        any(py, s.riv_cost)?,
        any(py, s.riv_los)?,
        any(py, s.drgs_cv_over_1)?,
    ]];
    let out = PyDict::new(py);
    out.set_item("drgs", table(py, &["drg", "cases", "deaths", "mortality", "risk", "avg_cost", "avg_los", "cost_cv"], drgs)?)?;
    out.set_item("hospitals", table(py, &unit_names, units)?)?;
    out.set_item(
        "scheme",
        table(py, &["cases", "grouped", "group_rate", "drgs_used", "riv_cost", "riv_los", "drgs_cv_over_1"], scheme)?,
    )?;
    Ok(out)
}

/// The three tables of specs/report.md from columns (see `add_rows`) and a
/// weights table as CSV text. Returns {"drgs", "hospitals", "scheme"} as dicts
/// of columns (unrounded numbers, None for an empty ratio), "unweighted"
/// ({drg: rows}), "problems" ([(what, row, reason)]) and "html" (report.html).
#[pyfunction]
#[pyo3(signature = (columns, weights_csv, by_dept=false, risk_from=None, title="DataFrame"))]
fn _report<'py>(
    py: Python<'py>,
    columns: &Bound<'py, PyDict>,
    weights_csv: &str,
    by_dept: bool,
    risk_from: Option<&Bound<'py, PyDict>>,
    title: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let weights = read_weights_csv(weights_csv.as_bytes()).map_err(|e| error(format!("weights: {e}")))?;
    let mut problems = Vec::new();
    let benchmark: Option<Mortality> = match risk_from {
        Some(cols) => {
            let mut bench = Indicators::new(&weights, false);
            add_rows("risk_from", cols, &mut bench, &mut problems)?;
            Some(bench.mortality())
        }
        None => None,
    };
    let mut indicators = Indicators::new(&weights, by_dept);
    add_rows("cases", columns, &mut indicators, &mut problems)?;
    let report = indicators.finish(benchmark.as_ref());
    let out = tables(py, &report)?;
    out.set_item("unweighted", report.unweighted.clone())?;
    out.set_item("problems", problems)?;
    out.set_item("html", drg_core::report::report_html(&report, title))?;
    Ok(out)
}

/// Registers the report functions in the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_report, m)?)
}
