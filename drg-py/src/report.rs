//! `drg.report`: the DRG indicators of specs/report.md on columns. Rows are
//! read with the same conversions as grouping (`set_value`); every figure
//! comes from `drg_core::report`.

use drg_core::case::{Case, Field};
use drg_core::points::read_weights_csv;
use drg_core::report::{drgs_table, hospitals_table, scheme_table, Indicators, Mortality, Report, ReportRow, TableCell, TableColumn};
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

/// A drg-core report table as a dict of columns (unrounded numbers, None
/// for an empty ratio).
fn table<'py>(py: Python<'py>, columns: &[TableColumn<'_>]) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for c in columns {
        let values = c
            .cells
            .iter()
            .map(|cell| match cell {
                TableCell::Text(t) => (*t).into_bound_py_any(py),
                TableCell::Count(n) => (*n).into_bound_py_any(py),
                TableCell::Number(x) => (*x).into_bound_py_any(py),
                TableCell::Ratio(x) => (*x).into_bound_py_any(py),
                _ => Err(crate::errors::InternalError::new_err("a report cell of a kind drg-py does not know")),
            })
            .collect::<PyResult<Vec<_>>>()?;
        d.set_item(c.name, PyList::new(py, values)?)?;
    }
    Ok(d)
}

fn tables<'py>(py: Python<'py>, r: &Report) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("drgs", table(py, &drgs_table(r))?)?;
    out.set_item("hospitals", table(py, &hospitals_table(r))?)?;
    out.set_item("scheme", table(py, &scheme_table(r))?)?;
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
