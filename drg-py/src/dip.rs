//! DIP (specs/dip.md) for Python: the native half of `drg.dip`. Columns in
//! (dicts of equal-length lists named as the case fields), columns out; the
//! GIL is released while cases are keyed, grouped and scored on every core.

use std::path::PathBuf;
use std::sync::Arc;

use drg_core::case::{Case, Field};
use drg_core::dip::{self, Catalogue, CatalogueBuilder, Dip, DipPolicy, KeyMaker};
use drg_core::parallel::par_map;
use drg_core::Pack;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::columns::{cells, settlement_columns, table};
use crate::errors::DipError;

/// Every DIP error goes through here, so that its class changes in one place.
fn dip_error(message: impl Into<String>) -> PyErr {
    DipError::new_err(message.into())
}

/// Adds the DIP functions and `DipError` to the native module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_dip_build, m)?)?;
    m.add_function(wrap_pyfunction!(_dip_run, m)?)?;
    m.add_function(wrap_pyfunction!(_dip_explain, m)?)?;
    Ok(())
}

fn open_pack(pack: Option<PathBuf>) -> PyResult<Arc<Pack>> {
    let path = pack.or_else(|| std::env::var_os("DRG_PACK").filter(|v| !v.is_empty()).map(PathBuf::from));
    let pack = match path {
        Some(p) => Pack::open(&p).map_err(crate::errors::pack)?,
        None => Pack::demo(),
    };
    Ok(Arc::new(pack))
}

fn load(policy: &PathBuf, pack: Option<PathBuf>) -> PyResult<(DipPolicy, KeyMaker)> {
    let policy = DipPolicy::load(policy).map_err(|e| crate::errors::core(drg_core::dip::DipError::Policy(e)))?;
    let keys = KeyMaker::new(open_pack(pack)?, &policy);
    Ok((policy, keys))
}

/// Cases from columns; a row that cannot be read is `Err` naming its row.
fn cases_from_columns(columns: &Bound<'_, PyDict>, n_rows: usize) -> PyResult<Vec<Result<Case, String>>> {
    let mut cases: Vec<Result<Case, String>> = (0..n_rows).map(|_| Ok(Case::default())).collect();
    for (key, values) in columns.iter() {
        let name: String = key.extract()?;
        let Some(field) = Field::from_name(&name) else { continue };
        let values = values.cast_into::<PyList>().map_err(|_| dip_error(format!("column {name} must be a list")))?;
        if values.len() != n_rows {
            return Err(dip_error(format!("column {name} has {} values, expected {n_rows}", values.len())));
        }
        for (i, slot) in cases.iter_mut().enumerate() {
            if let Ok(case) = slot {
                if let Err(e) = crate::set_value(case, field, &values.get_item(i)?) {
                    *slot = Err(format!("row {i}: {e}"));
                }
            }
        }
    }
    Ok(cases)
}

fn catalogue_from_history(py: Python<'_>, policy: &DipPolicy, keys: &KeyMaker, history: &[Result<Case, String>]) -> PyResult<Catalogue> {
    let keyed = py.detach(|| {
        par_map(history, 0, |case| {
            let case = case.as_ref().ok()?;
            let cost = case.total_cost.filter(|&c| c > 0.0 && c.is_finite())?;
            keys.keys(case).ok().map(|k| (k, cost))
        })
    });
    let mut builder = CatalogueBuilder::new(policy);
    for (k, cost) in keyed.iter().flatten() {
        builder.add(k, *cost);
    }
    builder.finish().map_err(|e| dip_error(format!("history: {e}")))
}

/// The catalogue's report: one row per DIP group, and `*` for all.
fn catalogue_columns<'py>(py: Python<'py>, c: &Catalogue) -> PyResult<Bound<'py, PyDict>> {
    let names = ["group", "kind", "dx", "procedures", "treatment", "n", "kept", "avg_cost", "score", "coef_0", "coef_1", "coef_2"];
    let o = &c.overall;
    table(py, &names, c.groups.values().map(Some).chain([None]), |g| {
        Ok(match g {
            Some(g) => cells!(py; g.code.as_str(), g.kind.as_str(), g.dx.as_str(), g.procedures.as_str(), g.treatment.as_str(),
                g.n, g.kept, g.avg_cost, g.score, g.coef[0], g.coef[1], g.coef[2]),
            None => cells!(py; "*", "", "", "", "", o.n, o.kept, o.avg_cost, o.score, 1.0, 1.0, 1.0),
        })
    })
}

/// The catalogue built from history columns (dip.md §2), as columns.
#[pyfunction]
#[pyo3(signature = (policy, history, n_rows, pack=None))]
fn _dip_build<'py>(
    py: Python<'py>,
    policy: PathBuf,
    history: &Bound<'py, PyDict>,
    n_rows: usize,
    pack: Option<PathBuf>,
) -> PyResult<Bound<'py, PyDict>> {
    let (policy, keys) = load(&policy, pack)?;
    let history = cases_from_columns(history, n_rows)?;
    let catalogue = catalogue_from_history(py, &policy, &keys, &history)?;
    catalogue_columns(py, &catalogue)
}

/// Groups (and with `score`, scores and settles) period columns with a
/// catalogue built from history columns or read from CSV text. Returns the
/// reports as dicts of columns, and "warnings".
#[pyfunction]
#[pyo3(signature = (policy, period, n_rows, history=None, history_rows=0, catalogue_csv=None, pack=None, score=true))]
#[allow(clippy::too_many_arguments)]
fn _dip_run<'py>(
    py: Python<'py>,
    policy: PathBuf,
    period: &Bound<'py, PyDict>,
    n_rows: usize,
    history: Option<&Bound<'py, PyDict>>,
    history_rows: usize,
    catalogue_csv: Option<String>,
    pack: Option<PathBuf>,
    score: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let (policy, keys) = load(&policy, pack)?;
    let out = PyDict::new(py);
    let catalogue = match (history, catalogue_csv) {
        (Some(h), _) => {
            let history = cases_from_columns(h, history_rows)?;
            let c = catalogue_from_history(py, &policy, &keys, &history)?;
            out.set_item("catalogue", catalogue_columns(py, &c)?)?;
            c
        }
        (None, Some(text)) => dip::read_catalogue_csv(text.as_bytes()).map_err(|e| dip_error(format!("catalogue: {e}")))?,
        (None, None) => return Err(dip_error("give a history or a catalogue")),
    };
    let dip = Dip::new(policy, keys, catalogue);
    let mut warnings: Vec<String> = dip.warnings();
    let cases = cases_from_columns(period, n_rows)?;
    let given_ids = given_ids(period, n_rows)?;
    let rows = group_rows(py, &dip, &cases, &given_ids, score);
    out.set_item("groups", groups_columns(py, &rows)?)?;
    if score {
        let mut scored = Vec::new();
        for (i, (r, case)) in rows.iter().zip(&cases).enumerate() {
            match (&r.score, case) {
                (Some(s), Ok(case)) => scored.push((r, s, case)),
                _ => warnings.push(format!("period row {i}: total_cost missing or not above 0 (or the row cannot be read); no points")),
            }
        }
        out.set_item("case_points", points_columns(py, &scored)?)?;
        let settlement = dip::settle(
            &dip.policy,
            scored.iter().map(|(r, s, c)| (r.hospital.as_str(), c.total_cost.unwrap_or(0.0), c.self_pay.unwrap_or(0.0), s.points)),
        )
        .map_err(|e| dip_error(format!("period: {e}")))?;
        let (hospitals, period_line) = settlement_columns(py, &settlement)?;
        out.set_item("settlement", hospitals)?;
        out.set_item("period", period_line)?;
    }
    out.set_item("warnings", warnings)?;
    Ok(out)
}

/// The period's ids as given, for rows that cannot be read.
fn given_ids(period: &Bound<'_, PyDict>, n_rows: usize) -> PyResult<Vec<String>> {
    Ok(match period.get_item("id")? {
        Some(values) => {
            let values = values.cast_into::<PyList>().map_err(|_| dip_error("column id must be a list"))?;
            values.iter().map(|v| if v.is_none() { String::new() } else { v.str().map(|s| s.to_string()).unwrap_or_default() }).collect()
        }
        None => vec![String::new(); n_rows],
    })
}

/// One period row as the reports show it: grouped (dip.md §3) and, when
/// asked, scored (§4).
struct Row {
    id: String,
    status: &'static str,
    group: Option<String>,
    severity: Option<u8>,
    reason: Option<String>,
    hospital: String,
    score: Option<dip::DipScore>,
}

/// Groups (and with `score`, scores) the period's rows in parallel, without
/// the GIL; a row that cannot be read is invalid under its given id.
fn group_rows(py: Python<'_>, dip: &Dip, cases: &[Result<Case, String>], given_ids: &[String], score: bool) -> Vec<Row> {
    py.detach(|| {
        let indexed: Vec<(usize, &Result<Case, String>)> = cases.iter().enumerate().collect();
        par_map(&indexed, 0, |&(i, case)| match case {
            Err(reason) => Row {
                id: given_ids.get(i).cloned().unwrap_or_default(),
                status: "invalid",
                group: None,
                severity: None,
                reason: Some(reason.clone()),
                hospital: String::new(),
                score: None,
            },
            Ok(case) => {
                let (g, s) = if score { dip.group_and_score(case) } else { (dip.group(case), None) };
                Row {
                    id: case.id.clone(),
                    status: g.status.as_str(),
                    group: g.group.map(|g| g.code.clone()),
                    severity: g.severity,
                    reason: g.reason.clone(),
                    hospital: case.hospital.clone().unwrap_or_default(),
                    score: s,
                }
            }
        })
    })
}

/// The "groups" report: one row per period row.
fn groups_columns<'py>(py: Python<'py>, rows: &[Row]) -> PyResult<Bound<'py, PyDict>> {
    let names = ["id", "status", "group", "severity", "reason"];
    table(py, &names, rows, |r| Ok(cells!(py; r.id.as_str(), r.status, r.group.as_deref(), r.severity, r.reason.as_deref())))
}

/// The "case_points" report: one row per scored case (dip.md §4).
fn points_columns<'py>(py: Python<'py>, scored: &[(&Row, &dip::DipScore, &Case)]) -> PyResult<Bound<'py, PyDict>> {
    let names = ["id", "hospital", "group", "category", "score", "coef", "points"];
    table(py, &names, scored, |(r, s, _)| {
        Ok(cells!(py; r.id.as_str(), r.hospital.as_str(), r.group.as_deref(), s.category.as_str(), s.score, s.coef, s.points))
    })
}

/// One case (a dict) explained against a catalogue given as CSV text: the
/// JSON of `drg dip explain --json`, as a string.
#[pyfunction]
#[pyo3(signature = (policy, catalogue_csv, case, pack=None))]
fn _dip_explain(policy: PathBuf, catalogue_csv: String, case: &Bound<'_, PyAny>, pack: Option<PathBuf>) -> PyResult<String> {
    let (policy, keys) = load(&policy, pack)?;
    let catalogue = dip::read_catalogue_csv(catalogue_csv.as_bytes()).map_err(|e| dip_error(format!("catalogue: {e}")))?;
    let case = crate::case_from_mapping(case).map_err(crate::errors::input)?;
    let dip = Dip::new(policy, keys, catalogue);
    Ok(dip.explain(&case).to_json(&case.id).to_string())
}
