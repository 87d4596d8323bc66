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
        Some(p) => Pack::open(&p).map_err(|e| crate::errors::pack(e))?,
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

fn list<'py, T: IntoPyObject<'py> + Clone>(py: Python<'py>, values: &[T]) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, values.iter().cloned())
}

fn catalogue_columns<'py>(py: Python<'py>, c: &Catalogue) -> PyResult<Bound<'py, PyDict>> {
    let groups: Vec<&dip::DipGroup> = c.groups.values().collect();
    let d = PyDict::new(py);
    let text = |f: &dyn Fn(&dip::DipGroup) -> String, star: &str| -> Vec<String> {
        groups.iter().map(|g| f(g)).chain(std::iter::once(star.to_string())).collect()
    };
    d.set_item("group", list(py, &text(&|g| g.code.clone(), "*"))?)?;
    d.set_item("kind", list(py, &text(&|g| g.kind.as_str().to_string(), ""))?)?;
    d.set_item("dx", list(py, &text(&|g| g.dx.clone(), ""))?)?;
    d.set_item("procedures", list(py, &text(&|g| g.procedures.clone(), ""))?)?;
    d.set_item("treatment", list(py, &text(&|g| g.treatment.clone(), ""))?)?;
    let o = &c.overall;
    let count = |f: &dyn Fn(&dip::DipGroup) -> u64, star: u64| -> Vec<u64> { groups.iter().map(|g| f(g)).chain([star]).collect() };
    d.set_item("n", list(py, &count(&|g| g.n, o.n))?)?;
    d.set_item("kept", list(py, &count(&|g| g.kept, o.kept))?)?;
    let number = |f: &dyn Fn(&dip::DipGroup) -> f64, star: f64| -> Vec<f64> { groups.iter().map(|g| f(g)).chain([star]).collect() };
    d.set_item("avg_cost", list(py, &number(&|g| g.avg_cost, o.avg_cost))?)?;
    d.set_item("score", list(py, &number(&|g| g.score, o.score))?)?;
    for l in 0..3 {
        d.set_item(format!("coef_{l}"), list(py, &number(&|g| g.coef[l], 1.0))?)?;
    }
    Ok(d)
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
    let groups = PyDict::new(py);
    groups.set_item("id", PyList::new(py, rows.iter().map(|r| r.id.as_str()))?)?;
    groups.set_item("status", PyList::new(py, rows.iter().map(|r| r.status))?)?;
    groups.set_item("group", PyList::new(py, rows.iter().map(|r| r.group.as_deref()))?)?;
    groups.set_item("severity", PyList::new(py, rows.iter().map(|r| r.severity))?)?;
    groups.set_item("reason", PyList::new(py, rows.iter().map(|r| r.reason.as_deref()))?)?;
    Ok(groups)
}

/// The "case_points" report: one row per scored case (dip.md §4).
fn points_columns<'py>(py: Python<'py>, scored: &[(&Row, &dip::DipScore, &Case)]) -> PyResult<Bound<'py, PyDict>> {
    let points = PyDict::new(py);
    points.set_item("id", PyList::new(py, scored.iter().map(|(r, _, _)| r.id.as_str()))?)?;
    points.set_item("hospital", PyList::new(py, scored.iter().map(|(r, _, _)| r.hospital.as_str()))?)?;
    points.set_item("group", PyList::new(py, scored.iter().map(|(r, _, _)| r.group.as_deref()))?)?;
    points.set_item("category", PyList::new(py, scored.iter().map(|(_, s, _)| s.category.as_str()))?)?;
    points.set_item("score", PyList::new(py, scored.iter().map(|(_, s, _)| s.score))?)?;
    points.set_item("coef", PyList::new(py, scored.iter().map(|(_, s, _)| s.coef))?)?;
    points.set_item("points", PyList::new(py, scored.iter().map(|(_, s, _)| s.points))?)?;
    Ok(points)
}

/// The settlement (dip.md §5): one row per hospital, and the period's line.
fn settlement_columns<'py>(py: Python<'py>, settlement: &drg_core::points::Settlement) -> PyResult<(Bound<'py, PyDict>, Bound<'py, PyDict>)> {
    let h = &settlement.hospitals;
    let hospitals = PyDict::new(py);
    hospitals.set_item("hospital", PyList::new(py, h.iter().map(|h| h.hospital.as_str()))?)?;
    hospitals.set_item("cases", PyList::new(py, h.iter().map(|h| h.cases))?)?;
    for (name, f) in [
        ("points", (|h: &drg_core::points::HospitalSettlement| h.points) as fn(&_) -> f64),
        ("self_pay", |h| h.self_pay),
        ("cost", |h| h.cost),
        ("revenue", |h| h.revenue),
        ("fund_due", |h| h.fund_due),
        ("prepay", |h| h.prepay),
        ("balance", |h| h.balance),
    ] {
        hospitals.set_item(name, PyList::new(py, h.iter().map(f))?)?;
    }
    let p = &settlement.period;
    let period_line = PyDict::new(py);
    for (name, v) in [
        ("points", p.points),
        ("self_pay", p.self_pay),
        ("fund_item_cost", p.fund_item_cost),
        ("budget", p.budget),
        ("pool", p.pool),
        ("point_value", p.point_value),
    ] {
        period_line.set_item(name, PyList::new(py, [v])?)?;
    }
    Ok((hospitals, period_line))
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
