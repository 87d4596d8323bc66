//! Columns in and out of the points functions (`_points_year`): a dict of
//! equal-length lists read as cases, and rows written back as a dict of
//! columns. One place for both, so that every table reads and writes alike.

use drg_core::points::{PointsCase, Settlement};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyString};

use crate::errors::PointsError;

/// The values of column `name` of `columns`, if it is there; `prefix` starts
/// the error message ("history: "). With `n`, a column of another length is
/// refused.
pub(crate) fn list_column<'py>(
    columns: &Bound<'py, PyDict>,
    name: &str,
    n: Option<usize>,
    prefix: &str,
) -> PyResult<Option<Vec<Bound<'py, PyAny>>>> {
    let Some(values) = columns.get_item(name)? else { return Ok(None) };
    let list = values.cast_into::<PyList>().map_err(|_| PointsError::new_err(format!("{prefix}column {name} must be a list")))?;
    if let Some(n) = n {
        if list.len() != n {
            return Err(PointsError::new_err(format!("{prefix}column {name} has {} values, expected {n}", list.len())));
        }
    }
    Ok(Some(list.iter().collect()))
}

/// A code or name cell: None for a missing value, a whole float as its
/// digits (an id read by pandas as 1001.0 is "1001").
fn code_text(v: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    if v.is_none() {
        return Ok(None);
    }
    if let Ok(f) = v.extract::<f64>() {
        if f.is_nan() {
            return Ok(None);
        }
        if !v.is_instance_of::<PyString>() && f.fract() == 0.0 {
            return Ok(Some((f as i64).to_string()));
        }
    }
    Ok(Some(v.str()?.to_string()).filter(|s| !s.is_empty()))
}

/// A money cell: a finite number, or None.
fn money(v: &Bound<'_, PyAny>) -> Option<f64> {
    if v.is_none() || v.is_instance_of::<PyBool>() {
        return None;
    }
    let f = match v.extract::<f64>() {
        Ok(f) => f,
        Err(_) => v.extract::<String>().ok()?.trim().parse().ok()?,
    };
    f.is_finite().then_some(f)
}

/// Reads point-calculation cases from columns: id, hospital, hospital_level,
/// drg (None when not grouped), total_cost, self_pay.
pub(crate) fn points_cases(columns: &Bound<'_, PyDict>) -> PyResult<Vec<PointsCase>> {
    let ids = list_column(columns, "id", None, "")?.ok_or_else(|| PointsError::new_err("the cases need an id column"))?;
    let n = ids.len();
    let get = |name: &str| -> PyResult<Vec<Bound<'_, PyAny>>> { Ok(list_column(columns, name, Some(n), "")?.unwrap_or_default()) };
    let (hospital, level, drg, cost, self_pay) = (get("hospital")?, get("hospital_level")?, get("drg")?, get("total_cost")?, get("self_pay")?);
    let text = |v: &[Bound<'_, PyAny>], i: usize| -> PyResult<Option<String>> { v.get(i).map(code_text).transpose().map(Option::flatten) };
    let mut cases = Vec::with_capacity(n);
    for i in 0..n {
        cases.push(PointsCase {
            id: text(&ids, i)?.unwrap_or_default(),
            hospital: text(&hospital, i)?.unwrap_or_default(),
            hospital_level: text(&level, i)?,
            drg: text(&drg, i)?,
            total_cost: cost.get(i).and_then(money),
            self_pay: self_pay.get(i).and_then(money),
        });
    }
    Ok(cases)
}

/// The values of one output row as Python objects, in column order:
/// `cells!(py; a, b, c)` (each value anything PyO3 converts).
macro_rules! cells {
    ($py:expr; $($value:expr),* $(,)?) => {
        vec![$(pyo3::IntoPyObjectExt::into_bound_py_any($value, $py)?),*]
    };
}
pub(crate) use cells;

/// A report as a dict of columns named `names` (in that order): one row per
/// item of `items`, its values given by `row` in the same order.
pub(crate) fn table<'py, T>(
    py: Python<'py>,
    names: &[&str],
    items: impl IntoIterator<Item = T>,
    row: impl Fn(T) -> PyResult<Vec<Bound<'py, PyAny>>>,
) -> PyResult<Bound<'py, PyDict>> {
    let rows = items.into_iter().map(row).collect::<PyResult<Vec<_>>>()?;
    let d = PyDict::new(py);
    for (j, name) in names.iter().enumerate() {
        d.set_item(name, PyList::new(py, rows.iter().map(|r| &r[j]))?)?;
    }
    Ok(d)
}

/// The "settlement" report (one row per hospital) and the "period" line of
/// a settlement, as DRG points and DIP both give them.
pub(crate) fn settlement_columns<'py>(py: Python<'py>, settlement: &Settlement) -> PyResult<(Bound<'py, PyDict>, Bound<'py, PyDict>)> {
    let names = ["hospital", "cases", "points", "self_pay", "cost", "revenue", "fund_due", "prepay", "balance"];
    let hospitals = table(py, &names, &settlement.hospitals, |h| {
        Ok(cells!(py; h.hospital.as_str(), h.cases, h.points, h.self_pay, h.cost, h.revenue, h.fund_due, h.prepay, h.balance))
    })?;
    let p = &settlement.period;
    let names = ["points", "self_pay", "fund_item_cost", "budget", "pool", "point_value"];
    let period = table(py, &names, [p], |p| Ok(cells!(py; p.points, p.self_pay, p.fund_item_cost, p.budget, p.pool, p.point_value)))?;
    Ok((hospitals, period))
}
