//! The native part of the Python package `drg` (imported as `drg._drg`).
//!
//! It converts Python values to drg-core cases and results, and releases the
//! GIL while grouping. The Python layer (`python/drg/`) adds the DataFrame and
//! Arrow methods on top; neither adds a rule of its own.

mod report;
mod perdiem;
mod dip;
mod read;
mod frame;
mod columns;

use std::path::PathBuf;
use std::sync::Arc;

use drg_core::case::{Case, Field, FieldError};
use drg_core::parallel::par_map;
use drg_core::{GroupOptions, GroupResult as CoreResult, Pack};
use pyo3::prelude::*;
use pyo3::types::PyDict;

mod errors;
use errors::{guard, CaseError, PackError};

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

/// Sets a case field from a Python value (see `frame::cell_of_python`).
fn set_value(case: &mut Case, field: Field, v: &Bound<'_, PyAny>) -> Result<(), FieldError> {
    frame::cell_of_python(field, v)?.apply(case, field)
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
        // The rows are in memory already: so are their ids.
        let mut seen = drg_core::ids::DuplicateIds::in_memory().counting_rows();
        for (row, r) in results.iter_mut().enumerate() {
            if let Some(warning) = seen.warning(r.id.as_bytes(), row as u64).expect("an in-memory check reads no file") {
                r.warnings.push(warning);
            }
        }
        results
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

    /// Groups columns (a dict named as the case fields, each a list of
    /// values or a tuple of Arrow arrays/streams, the chunks of the column)
    /// and returns the result columns as a dict of `ResultColumn`s (Arrow
    /// string arrays). Used by group_frame, group_arrow and pack_diff.
    #[pyo3(signature = (columns, n_rows, explain=false))]
    fn _group_columns<'py>(
        &self,
        py: Python<'py>,
        columns: &Bound<'py, PyDict>,
        n_rows: usize,
        explain: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        guard(|| frame::group_columns(py, &self.inner, columns, n_rows, explain))
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

mod diff;
mod packs;

#[pymodule]
fn _drg(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", drg_core::VERSION)?;
    m.add_class::<Grouper>()?;
    m.add_class::<GroupResult>()?;
    m.add_class::<frame::ResultColumn>()?;
    m.add_function(wrap_pyfunction!(normalize_code, m)?)?;
    m.add_function(wrap_pyfunction!(compile_pack, m)?)?;
    report::register(m)?;
    m.add_function(wrap_pyfunction!(perdiem::_points_year, m)?)?;
    dip::register(m)?;
    m.add_function(wrap_pyfunction!(read::_read_cases, m)?)?;
    m.add_function(wrap_pyfunction!(read::_column_plan, m)?)?;
    packs::register(m)?;
    diff::register(m)?;
    Ok(())
}
