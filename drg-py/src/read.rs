//! Reading hospital exports from Python: `drg.read_cases` and the column
//! plan `Grouper.group_frame` uses for aliased and wide column names
//! (specs/columns.md). Everything is decided by drg-core's reading layer.

use std::path::PathBuf;
use std::sync::Arc;

use drg_core::columns::{ColumnMap, ColumnPlan, Understood};
use drg_core::read::{open_cases, InputKind, ReadOptions, TextEncoding};
use drg_core::Case;
use pyo3::prelude::*;
use pyo3::IntoPyObjectExt;
use pyo3::types::{PyDict, PyList};


/// The one place a reading error becomes a Python exception.
fn read_error(message: impl std::fmt::Display) -> PyErr {
    crate::errors::input(message.to_string())
}

fn load_map(columns: Option<PathBuf>) -> PyResult<Option<Arc<ColumnMap>>> {
    columns.map(|p| ColumnMap::load(&p).map(Arc::new).map_err(read_error)).transpose()
}

/// How column names are understood: {"fields": {field: header},
/// "wide": {list: [headers in order]}, "principal": {list: header}}.
#[pyfunction]
#[pyo3(signature = (names, columns=None))]
pub fn _column_plan<'py>(py: Python<'py>, names: Vec<String>, columns: Option<PathBuf>) -> PyResult<Bound<'py, PyDict>> {
    let map = load_map(columns)?;
    let plan = ColumnPlan::from_headers(&names, map.as_deref()).map_err(read_error)?;
    let fields = PyDict::new(py);
    for c in &plan.columns {
        if let Understood::Field { target, .. } = &c.understood {
            fields.set_item(target.name(), &c.header)?;
        }
    }
    let wide = PyDict::new(py);
    let principal = PyDict::new(py);
    for w in &plan.wide {
        let headers: Vec<&str> = w.order.iter().map(|&i| plan.columns[i].header.as_str()).collect();
        wide.set_item(w.list.name(), headers)?;
        if let Some(p) = w.principal {
            principal.set_item(w.list.name(), &plan.columns[p].header)?;
        }
    }
    let out = PyDict::new(py);
    out.set_item("fields", fields)?;
    out.set_item("wide", wide)?;
    out.set_item("principal", principal)?;
    Ok(out)
}

/// The cases.md columns of a read case, as Python values.
fn case_values(py: Python<'_>, case: &Case) -> PyResult<Vec<Py<PyAny>>> {
    fn obj<'py, T: IntoPyObject<'py>>(py: Python<'py>, v: T) -> PyResult<Py<PyAny>> {
        v.into_py_any(py)
    }
    let codes = |list: &[String]| if list.is_empty() { None } else { Some(list.join("|")) };
    Ok(vec![
        obj(py, case.id.as_str())?,
        obj(py, case.hospital.as_deref())?,
        obj(py, case.hospital_level.as_deref())?,
        obj(py, case.sex.map(|s| if s == drg_core::Sex::Male { "1" } else { "2" }))?,
        obj(py, case.age_years)?,
        obj(py, case.age_days)?,
        obj(py, case.weight_g)?,
        obj(py, case.los_days)?,
        obj(py, case.discharge.as_deref())?,
        obj(py, case.dept.as_deref())?,
        obj(py, case.icu_hours)?,
        obj(py, case.total_cost)?,
        obj(py, case.self_pay)?,
        obj(py, codes(&case.diagnoses))?,
        obj(py, codes(&case.procedures))?,
    ])
}

const CASE_COLUMNS: [&str; 15] = [
    "id", "hospital", "hospital_level", "sex", "age_years", "age_days", "weight_g", "los_days", "discharge", "dept",
    "icu_hours", "total_cost", "self_pay", "diagnoses", "procedures",
];

/// Reads a file of cases (CSV, JSONL, .xlsx) into columns named as in
/// cases.md: a dict of lists, then the carried-through columns, and
/// `read_error` (None, or why the row could not be read).
#[pyfunction]
#[pyo3(signature = (path, sheet=None, encoding=None, columns=None))]
pub fn _read_cases<'py>(
    py: Python<'py>,
    path: PathBuf,
    sheet: Option<String>,
    encoding: Option<String>,
    columns: Option<PathBuf>,
) -> PyResult<Bound<'py, PyDict>> {
    let encoding = match encoding.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("utf-8") | Some("utf8") => TextEncoding::Utf8,
        Some("gbk") | Some("gb18030") | Some("gb2312") => TextEncoding::Gbk,
        Some(other) => return Err(read_error(format!("encoding {other:?}: give utf-8 or gbk"))),
    };
    let options = ReadOptions { kind: InputKind::Auto, sheet, encoding, columns: load_map(columns)? };
    let shown = path.display().to_string();
    let mut source = open_cases(&path.to_string_lossy(), &options).map_err(|e| read_error(format!("{shown}: {e}")))?;
    let mut out: Vec<Vec<Py<PyAny>>> = CASE_COLUMNS.iter().map(|_| Vec::new()).collect();
    let mut extra_names: Vec<String> = Vec::new();
    let mut extra: Vec<Vec<Py<PyAny>>> = Vec::new();
    let mut errors: Vec<Py<PyAny>> = Vec::new();
    for (n, row) in source.rows().enumerate() {
        let row = row.map_err(|e| read_error(format!("{shown}: {e}")))?;
        let (values, error) = match &row.case {
            Ok(case) => (case_values(py, case)?, None),
            Err(e) => {
                let blank = Case { id: e.id.clone(), ..Case::default() };
                (case_values(py, &blank)?, Some(e.reason.clone()))
            }
        };
        for (column, v) in out.iter_mut().zip(values) {
            column.push(v);
        }
        for (name, value) in &row.extra {
            let i = match extra_names.iter().position(|n| n == name) {
                Some(i) => i,
                None => {
                    extra_names.push(name.clone());
                    extra.push((0..n).map(|_| py.None()).collect());
                    extra_names.len() - 1
                }
            };
            extra[i].push(value.into_pyobject(py)?.into_any().unbind());
        }
        for column in &mut extra {
            if column.len() == n {
                column.push(py.None());
            }
        }
        errors.push(error.into_pyobject(py)?.into_any().unbind());
    }
    let dict = PyDict::new(py);
    for (name, values) in CASE_COLUMNS.iter().zip(out) {
        dict.set_item(name, PyList::new(py, values)?)?;
    }
    for (name, values) in extra_names.iter().zip(extra) {
        if !dict.contains(name)? {
            dict.set_item(name, PyList::new(py, values)?)?;
        }
    }
    dict.set_item("read_error", PyList::new(py, errors)?)?;
    Ok(dict)
}
