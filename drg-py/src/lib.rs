//! The native part of the Python package `drg` (imported as `drg._drg`).
//!
//! It converts Python values to drg-core cases and results, and releases the
//! GIL while grouping. The Python layer (`python/drg/`) adds the DataFrame and
//! Arrow methods on top; neither adds a rule of its own.

mod report;
mod perdiem;
mod dip;
mod read;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use drg_core::case::{Case, Field, FieldError};
use drg_core::parallel::par_map;
use drg_core::points::{self, PointsCase, Policy};
use drg_core::{GroupOptions, GroupResult as CoreResult, Pack};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString};

mod errors;
use errors::{guard, CaseError, PackError, PointsError};

/// The result of grouping one case.
#[pyclass(frozen, get_all, skip_from_py_object, module = "drg")]
#[derive(Clone)]
struct GroupResult {
    /// The case's id.
    id: String,
    /// "grouped", "ungroupable", "ambiguous" or "invalid".
    status: String,
    mdc: Option<String>,
    adrg: Option<String>,
    drg: Option<String>,
    drg_name: Option<String>,
    /// Why a case is invalid, ungroupable or ambiguous.
    reason: Option<String>,
    /// Unknown codes and the like.
    warnings: Vec<String>,
    /// With explain=True: the rules tried, one line each ("✓"/"✗", indented).
    trace: Vec<String>,
}

impl GroupResult {
    fn from_core(id: &str, r: &CoreResult<'_>) -> Self {
        GroupResult {
            id: id.to_string(),
            status: r.status.as_str().to_string(),
            mdc: r.mdc.map(str::to_string),
            adrg: r.adrg.map(str::to_string),
            drg: r.drg.map(str::to_string),
            drg_name: r.drg_name.map(str::to_string),
            reason: r.reason.clone(),
            warnings: r.warnings.clone(),
            trace: r.trace.iter().map(|s| s.to_string()).collect(),
        }
    }
}

#[pymethods]
impl GroupResult {
    /// The result as a dict of its fields.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("id", &self.id)?;
        d.set_item("status", &self.status)?;
        d.set_item("mdc", &self.mdc)?;
        d.set_item("adrg", &self.adrg)?;
        d.set_item("drg", &self.drg)?;
        d.set_item("drg_name", &self.drg_name)?;
        d.set_item("reason", &self.reason)?;
        d.set_item("warnings", &self.warnings)?;
        d.set_item("trace", &self.trace)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let place = [&self.mdc, &self.adrg, &self.drg].iter().filter_map(|x| x.as_deref()).collect::<Vec<_>>().join("/");
        match &self.reason {
            Some(reason) => format!("<GroupResult {} {} {place} ({reason})>", self.id, self.status),
            None => format!("<GroupResult {} {} {place}>", self.id, self.status),
        }
    }
}

/// Remembers ids to report duplicates: the row where each id was first seen
/// (drg_core::ids, in memory: the rows are in memory anyway).
struct SeenIds(drg_core::ids::DuplicateIds);

impl Default for SeenIds {
    fn default() -> Self {
        SeenIds(drg_core::ids::DuplicateIds::in_memory())
    }
}

impl SeenIds {
    /// The warning of a row whose id an earlier row had.
    fn check(&mut self, id: &str, row: usize) -> Option<String> {
        let first = self.0.check(id.as_bytes(), row as u64).expect("an in-memory check reads no file");
        first.map(|first| format!("duplicate id: also in row {first}"))
    }
}

/// Sets a case field from a Python value: None, str, int, float (NaN is
/// missing), a numpy number, or for the code fields a list of codes.
fn set_value(case: &mut Case, field: Field, v: &Bound<'_, PyAny>) -> Result<(), FieldError> {
    let err = |message: String| FieldError { field: field.name(), message };
    if v.is_none() {
        return case.set_field(field, "");
    }
    if v.is_instance_of::<PyBool>() {
        return Err(err("a boolean is not accepted here".into()));
    }
    if v.is_instance_of::<PyString>() {
        let s: String = v.extract().map_err(|e: PyErr| err(e.to_string()))?;
        return case.set_field(field, &s);
    }
    if v.is_instance_of::<PyInt>() {
        let i: i64 = v.extract().map_err(|_| err(format!("{v} is out of range")))?;
        return case.set_number(field, i as f64);
    }
    if v.is_instance_of::<PyFloat>() {
        return case.set_number(field, v.extract::<f64>().map_err(|e| err(e.to_string()))?);
    }
    let type_name = v.get_type().name().map(|n| n.to_string()).unwrap_or_default();
    // pandas' missing values other than NaN.
    if type_name == "NAType" || type_name == "NaTType" {
        return case.set_field(field, "");
    }
    if matches!(field, Field::Diagnoses | Field::Procedures) {
        if let Ok(items) = v.try_iter() {
            let mut joined = String::new();
            for item in items {
                let item = item.map_err(|e| err(e.to_string()))?;
                if item.is_none() {
                    continue;
                }
                if let Ok(f) = item.extract::<f64>() {
                    if f.is_nan() && !item.is_instance_of::<PyString>() {
                        continue;
                    }
                }
                let code: String = item.extract().map_err(|_| err(format!("{item} is not a code string")))?;
                joined.push_str(&code);
                joined.push('|');
            }
            return case.set_field(field, &joined);
        }
    }
    match v.extract::<f64>() {
        Ok(f) => case.set_number(field, f),
        Err(_) => Err(err(format!("a value of type {type_name} is not accepted here"))),
    }
}

/// Reads a dict (any mapping) as a case; unknown keys are ignored.
fn case_from_mapping(d: &Bound<'_, PyAny>) -> Result<Case, String> {
    let dict = d.cast::<PyDict>().map_err(|_| format!("expected a dict, found {}", type_name(d)))?;
    let mut case = Case::default();
    for (key, value) in dict.iter() {
        let Ok(key) = key.extract::<String>() else { continue };
        if let Some(field) = Field::from_name(&key) {
            set_value(&mut case, field, &value).map_err(|e| e.to_string())?;
        }
    }
    Ok(case)
}

fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

fn id_of(d: &Bound<'_, PyAny>) -> String {
    d.cast::<PyDict>()
        .ok()
        .and_then(|dict| dict.get_item("id").ok().flatten())
        .filter(|v| !v.is_none())
        .and_then(|v| v.str().ok().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Groups discharges into CHS-DRG groups with one rule pack.
///
/// Grouper(pack=None, translate_codes=False): `pack` is the id of a bundled
/// pack (drg.packs()) or a pack directory or compiled file; without it,
/// $DRG_PACK, else chs-drg-2.0.
#[pyclass(frozen, subclass, module = "drg")]
struct Grouper {
    inner: Arc<drg_core::Grouper>,
}

impl Grouper {
    /// Groups parsed cases with the GIL released, on every core.
    fn group_parsed(&self, py: Python<'_>, cases: Vec<(String, Result<Case, String>)>, explain: bool) -> Vec<GroupResult> {
        let grouper = Arc::clone(&self.inner);
        let mut results = py.detach(move || {
            par_map(&cases, 0, |(id, case)| match case {
                Ok(case) => GroupResult::from_core(&case.id, &grouper.group_with(case, explain)),
                Err(reason) => GroupResult::from_core(id, &CoreResult::invalid(reason.clone())),
            })
        });
        let mut seen = SeenIds::default();
        for (row, r) in results.iter_mut().enumerate() {
            if let Some(warning) = seen.check(&r.id, row) {
                r.warnings.push(warning);
            }
        }
        results
    }

    /// `_group_columns`, inside its guard.
    fn group_columns<'py>(
        &self,
        py: Python<'py>,
        columns: &Bound<'py, PyDict>,
        n_rows: usize,
        explain: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let mut inputs: Vec<(Field, Bound<'py, PyList>)> = Vec::new();
        for (key, values) in columns.iter() {
            let name: String = key.extract()?;
            let Some(field) = Field::from_name(&name) else { continue };
            let values = values.cast_into::<PyList>().map_err(|_| CaseError::new_err(format!("column {name} must be a list")))?;
            if values.len() != n_rows {
                return Err(CaseError::new_err(format!("column {name} has {} values, expected {n_rows}", values.len())));
            }
            inputs.push((field, values));
        }
        // Without a single case column, n_rows is only a number (an empty
        // frame with a RangeIndex of 10**12 has it): nothing backs it, and
        // every row would be invalid. Refused, before any memory is taken
        // for it.
        if inputs.is_empty() && n_rows > 0 {
            return Err(errors::input(format!(
                "none of the case columns ({}) is there; {n_rows} rows cannot be grouped",
                drg_core::io::REQUIRED_COLUMNS.map(|f| f.name()).join(", ")
            )));
        }
        // Rows go through in chunks: memory stays flat and is reused, and the
        // GIL is released while each chunk is grouped on every core.
        const CHUNK: usize = 16_384;
        let grouper = &*self.inner;
        let mut strings: HashMap<&str, Py<PyAny>> = HashMap::new();
        let mut seen = SeenIds::default();
        let names = ["status", "mdc", "adrg", "drg", "drg_name", "reason", "warnings", "trace"];
        // The capacity only once the columns showed the rows exist.
        let mut out: Vec<Vec<Py<PyAny>>> = names.iter().map(|_| Vec::with_capacity(n_rows)).collect();
        let mut start = 0;
        while start < n_rows {
            let end = (start + CHUNK).min(n_rows);
            let mut cases: Vec<Result<Case, String>> = (start..end).map(|_| Ok(Case::default())).collect();
            for (field, values) in &inputs {
                for (slot, i) in cases.iter_mut().zip(start..end) {
                    if let Ok(case) = slot {
                        if let Err(e) = set_value(case, *field, &values.get_item(i)?) {
                            *slot = Err(format!("row {i}: {e}"));
                        }
                    }
                }
            }
            let mut results: Vec<CoreResult<'_>> = py.detach(|| {
                par_map(&cases, 0, |case| match case {
                    Ok(case) => grouper.group_with(case, explain),
                    Err(reason) => CoreResult::invalid(reason.clone()),
                })
            });
            for (i, (r, case)) in results.iter_mut().zip(&cases).enumerate() {
                if let Some(warning) = case.as_ref().ok().and_then(|c| seen.check(&c.id, start + i)) {
                    r.warnings.push(warning);
                }
            }
            for r in &results {
                let codes = [Some(r.status.as_str()), r.mdc, r.adrg, r.drg, r.drg_name];
                for (column, value) in out.iter_mut().zip(codes) {
                    column.push(match value {
                        None => py.None(),
                        Some(text) => strings.entry(text).or_insert_with(|| PyString::new(py, text).into_any().unbind()).clone_ref(py),
                    });
                }
                out[5].push(r.reason.as_deref().into_pyobject(py)?.into_any().unbind());
                out[6].push(PyString::new(py, &r.warnings_joined()).into_any().unbind());
                if explain {
                    out[7].push(PyString::new(py, r.trace_text().trim_end()).into_any().unbind());
                }
            }
            start = end;
        }
        let dict = PyDict::new(py);
        for (name, values) in names.iter().zip(out) {
            if *name != "trace" || explain {
                dict.set_item(name, PyList::new(py, values)?)?;
            }
        }
        Ok(dict)
    }
}

#[pymethods]
impl Grouper {
    #[new]
    #[pyo3(signature = (pack=None, translate_codes=false))]
    fn new(pack: Option<PathBuf>, translate_codes: bool) -> PyResult<Self> {
        guard(|| {
            let pack = drg_packs::open_or_default(pack.as_deref().map(|p| p.as_os_str())).map_err(errors::pack)?;
            let inner = drg_core::Grouper::with_options(Arc::new(pack), GroupOptions { translate_codes });
            Ok(Grouper { inner: Arc::new(inner) })
        })
    }

    /// Groups one case, a dict with the field names of specs/cases.md.
    /// `diagnoses`/`procedures` may be lists or "|"-joined strings. Raises
    /// CaseError when a field cannot be read; a case that lacks what grouping
    /// needs is a result with status "invalid".
    #[pyo3(signature = (case, explain=false))]
    fn group(&self, case: &Bound<'_, PyAny>, explain: bool) -> PyResult<GroupResult> {
        guard(|| {
            let parsed = case_from_mapping(case).map_err(CaseError::new_err)?;
            Ok(GroupResult::from_core(&parsed.id, &self.inner.group_with(&parsed, explain)))
        })
    }

    /// Groups an iterable of dicts on every core (the GIL is released), one
    /// result per item in order. An item that cannot be read is an "invalid"
    /// result naming the item, never an exception.
    #[pyo3(signature = (cases, explain=false))]
    fn group_many(&self, py: Python<'_>, cases: &Bound<'_, PyAny>, explain: bool) -> PyResult<Vec<GroupResult>> {
        guard(|| {
            let mut parsed = Vec::new();
            // An error of the iterable itself (not iterable, or raising while
            // it yields) is the caller's own: it goes through unchanged.
            for (i, item) in cases.try_iter()?.enumerate() {
                let item = item?;
                let case = case_from_mapping(&item).map_err(|e| format!("item {i}: {e}"));
                parsed.push((id_of(&item), case));
            }
            Ok(self.group_parsed(py, parsed, explain))
        })
    }

    /// Groups columns (a dict of equal-length lists named as the case
    /// fields) and returns the result columns as a dict of lists. Used by
    /// group_frame and group_arrow.
    #[pyo3(signature = (columns, n_rows, explain=false))]
    fn _group_columns<'py>(
        &self,
        py: Python<'py>,
        columns: &Bound<'py, PyDict>,
        n_rows: usize,
        explain: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        guard(|| self.group_columns(py, columns, n_rows, explain))
    }

    /// The pack's id, name, description, counts and load warnings.
    fn pack_info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let info = self.inner.pack().info();
        let d = PyDict::new(py);
        d.set_item("id", &info.id)?;
        d.set_item("name", &info.name)?;
        d.set_item("description", &info.description)?;
        let counts = PyDict::new(py);
        counts.set_item("mdc", info.counts.mdc)?;
        counts.set_item("adrg", info.counts.adrg)?;
        counts.set_item("drg", info.counts.drg)?;
        d.set_item("counts", counts)?;
        d.set_item("source", &info.source)?;
        d.set_item("warnings", &info.warnings)?;
        Ok(d)
    }

    /// The name of a diagnosis or procedure code, in any spelling; None if
    /// the pack does not know it.
    fn code_name(&self, code: &str) -> Option<String> {
        self.inner.pack().code_name(code).map(str::to_string)
    }

    fn __repr__(&self) -> String {
        let info = self.inner.pack().info();
        format!("<drg.Grouper {} ({})>", info.id, info.counts)
    }
}

/// Compiles a pack (a drgpack/1 directory) into one file that opens in
/// milliseconds; Grouper(path) accepts either. Raises PackError.
#[pyfunction]
fn compile_pack(pack: PathBuf, output: PathBuf) -> PyResult<()> {
    guard(|| {
        let compiled = Pack::open(&pack).map_err(errors::pack)?;
        std::fs::write(&output, compiled.to_bytes()).map_err(|e| PackError::new_err(format!("{}: {e}", output.display())))
    })
}

/// A code in its canonical spelling ("ｋ３５．８００" → "K35.800"); None for
/// an empty item or the placeholder "-".
#[pyfunction]
fn normalize_code(code: &str) -> Option<String> {
    drg_core::codes::normalize_code(code).map(|c| c.into_owned())
}

/// Reads point-calculation cases from columns: id, hospital, hospital_level,
/// drg (None when not grouped), total_cost, self_pay.
fn points_cases(columns: &Bound<'_, PyDict>) -> PyResult<Vec<PointsCase>> {
    let column = |name: &str| -> PyResult<Option<Bound<'_, PyList>>> {
        match columns.get_item(name)? {
            None => Ok(None),
            Some(v) => Ok(Some(v.cast_into::<PyList>().map_err(|_| PointsError::new_err(format!("column {name} must be a list")))?)),
        }
    };
    let text = |v: Bound<'_, PyAny>| -> PyResult<Option<String>> {
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
    };
    let number = |v: Bound<'_, PyAny>| -> Option<f64> {
        if v.is_none() || v.is_instance_of::<PyBool>() {
            return None;
        }
        let f = match v.extract::<f64>() {
            Ok(f) => f,
            Err(_) => v.extract::<String>().ok()?.trim().parse().ok()?,
        };
        f.is_finite().then_some(f)
    };
    let ids = column("id")?.ok_or_else(|| PointsError::new_err("the cases need an id column"))?;
    let n = ids.len();
    let get = |name: &str| -> PyResult<Vec<Bound<'_, PyAny>>> {
        match column(name)? {
            Some(list) if list.len() == n => Ok(list.iter().collect()),
            Some(list) => Err(PointsError::new_err(format!("column {name} has {} values, expected {n}", list.len()))),
            None => Ok(vec![]),
        }
    };
    let (hospital, level, drg, cost, self_pay) = (get("hospital")?, get("hospital_level")?, get("drg")?, get("total_cost")?, get("self_pay")?);
    let mut cases = Vec::with_capacity(n);
    fn at<'py>(v: &[Bound<'py, PyAny>], i: usize) -> Option<Bound<'py, PyAny>> {
        v.get(i).cloned()
    }
    for i in 0..n {
        cases.push(PointsCase {
            id: text(ids.get_item(i)?)?.unwrap_or_default(),
            hospital: at(&hospital, i).map(text).transpose()?.flatten().unwrap_or_default(),
            hospital_level: at(&level, i).map(text).transpose()?.flatten(),
            drg: at(&drg, i).map(text).transpose()?.flatten(),
            total_cost: at(&cost, i).and_then(number),
            self_pay: at(&self_pay, i).and_then(number),
        });
    }
    Ok(cases)
}

fn columns<'py>(py: Python<'py>, names: &[&str], rows: Vec<Vec<Py<PyAny>>>) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (j, name) in names.iter().enumerate() {
        let values: Vec<&Py<PyAny>> = rows.iter().map(|r| &r[j]).collect();
        d.set_item(name, PyList::new(py, values)?)?;
    }
    Ok(d)
}

/// All three steps of specs/points.md on columns (see points_cases). Returns
/// a dict of the four reports as dicts of columns, and the rows left out
/// ("skipped": (step, row, reason)).
#[pyfunction]
fn _points_run<'py>(
    py: Python<'py>,
    policy_path: PathBuf,
    history: &Bound<'py, PyDict>,
    period: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyDict>> {
    guard(|| points_run(py, policy_path, history, period))
}

/// `_points_run`, inside its guard.
fn points_run<'py>(
    py: Python<'py>,
    policy_path: PathBuf,
    history: &Bound<'py, PyDict>,
    period: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyDict>> {
    let policy = Policy::load(&policy_path).map_err(errors::policy)?;
    let history = points_cases(history)?;
    let period = points_cases(period)?;
    let calibration = points::calibrate(&policy, &history).map_err(errors::core)?;
    let mut skipped: Vec<(String, usize, String)> = calibration
        .skipped
        .iter()
        .filter(|(_, s)| *s != points::Skip::NotGrouped)
        .map(|(i, s)| ("calibration".to_string(), *i, s.to_string()))
        .collect();
    let mut scored = Vec::with_capacity(period.len());
    for (i, case) in period.into_iter().enumerate() {
        match points::score(&policy, &calibration.weights, &case) {
            Ok(s) => scored.push((case, s)),
            Err(skip) => skipped.push(("scoring".into(), i, skip.to_string())),
        }
    }
    let settlement = points::settle(&policy, &scored).map_err(errors::core)?;

    let obj = |v: Bound<'py, PyAny>| v.unbind();
    let w = &calibration.weights;
    let weight_rows = w
        .drgs
        .iter()
        .map(|(d, x)| (d.as_str(), x))
        .chain(std::iter::once(("*", &w.overall)))
        .map(|(d, x)| {
            Ok(vec![
                obj(d.into_pyobject(py)?.into_any()),
                obj(x.n.into_pyobject(py)?.into_any()),
                obj(x.kept.into_pyobject(py)?.into_any()),
                obj(x.avg_cost.into_pyobject(py)?.into_any()),
                obj(x.weight.into_pyobject(py)?.into_any()),
                obj(x.base_points.into_pyobject(py)?.into_any()),
                obj(PyBool::new(py, x.unstable).to_owned().into_any()),
            ])
        })
        .collect::<PyResult<Vec<_>>>()?;
    let case_rows = scored
        .iter()
        .map(|(c, s)| {
            Ok(vec![
                obj(c.id.as_str().into_pyobject(py)?.into_any()),
                obj(c.hospital.as_str().into_pyobject(py)?.into_any()),
                obj(s.drg.as_deref().into_pyobject(py)?.into_any()),
                obj(s.category.as_str().into_pyobject(py)?.into_any()),
                obj(s.base_points.into_pyobject(py)?.into_any()),
                obj(s.coef.into_pyobject(py)?.into_any()),
                obj(s.points.into_pyobject(py)?.into_any()),
            ])
        })
        .collect::<PyResult<Vec<_>>>()?;
    let hospital_rows = settlement
        .hospitals
        .iter()
        .map(|h| {
            Ok(vec![
                obj(h.hospital.as_str().into_pyobject(py)?.into_any()),
                obj(h.cases.into_pyobject(py)?.into_any()),
                obj(h.points.into_pyobject(py)?.into_any()),
                obj(h.self_pay.into_pyobject(py)?.into_any()),
                obj(h.cost.into_pyobject(py)?.into_any()),
                obj(h.revenue.into_pyobject(py)?.into_any()),
                obj(h.fund_due.into_pyobject(py)?.into_any()),
                obj(h.prepay.into_pyobject(py)?.into_any()),
                obj(h.balance.into_pyobject(py)?.into_any()),
            ])
        })
        .collect::<PyResult<Vec<_>>>()?;
    let p = &settlement.period;
    let period_row = vec![[p.points, p.self_pay, p.fund_item_cost, p.budget, p.pool, p.point_value]
        .iter()
        .map(|v| Ok(obj(v.into_pyobject(py)?.into_any())))
        .collect::<PyResult<Vec<_>>>()?];

    let out = PyDict::new(py);
    out.set_item("weights", columns(py, &["drg", "n", "kept", "avg_cost", "weight", "base_points", "unstable"], weight_rows)?)?;
    out.set_item("case_points", columns(py, &["id", "hospital", "drg", "category", "base_points", "coef", "points"], case_rows)?)?;
    out.set_item(
        "settlement",
        columns(py, &["hospital", "cases", "points", "self_pay", "cost", "revenue", "fund_due", "prepay", "balance"], hospital_rows)?,
    )?;
    out.set_item("period", columns(py, &["points", "self_pay", "fund_item_cost", "budget", "pool", "point_value"], period_row)?)?;
    out.set_item("skipped", skipped)?;
    Ok(out)
}

mod diff;
mod packs;

#[pymodule]
fn _drg(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", drg_core::VERSION)?;
    m.add_class::<Grouper>()?;
    m.add_class::<GroupResult>()?;
    m.add_function(wrap_pyfunction!(normalize_code, m)?)?;
    m.add_function(wrap_pyfunction!(compile_pack, m)?)?;
    m.add_function(wrap_pyfunction!(_points_run, m)?)?;
    report::register(m)?;
    m.add_function(wrap_pyfunction!(perdiem::_points_year, m)?)?;
    dip::register(m)?;
    m.add_function(wrap_pyfunction!(read::_read_cases, m)?)?;
    m.add_function(wrap_pyfunction!(read::_column_plan, m)?)?;
    packs::register(m)?;
    diff::register(m)?;
    Ok(())
}
