//! `drg.pack_diff`: the tallies of drg-core's `diff` module over two
//! groupings that Python made with `Grouper._group_columns`.

use std::collections::HashMap;

use drg_core::diff::{case_weight, DrgWeights, Grouping, PackDiff};
use drg_core::Status;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::columns::{cells, table};

fn status(text: &str) -> PyResult<Status> {
    Ok(match text {
        "grouped" => Status::Grouped,
        "ungroupable" => Status::Ungroupable,
        "ambiguous" => Status::Ambiguous,
        "invalid" => Status::Invalid,
        other => return Err(crate::errors::input(format!("unknown status {other:?}"))),
    })
}

type Column = Vec<Option<String>>;

/// One side's result columns: status, mdc, adrg, drg.
fn side<'a>(cols: &'a [Column; 4], i: usize) -> PyResult<Grouping<'a>> {
    Ok(Grouping {
        status: status(cols[0][i].as_deref().unwrap_or(""))?,
        mdc: cols[1][i].as_deref(),
        adrg: cols[2][i].as_deref(),
        drg: cols[3][i].as_deref(),
    })
}

/// Tallies two groupings of the same rows. Returns a dict of column dicts:
/// `cases` (changed, mdc_changed, old_weight, new_weight), `transitions`,
/// `hospitals`, and `summary` (a dict of counts).
#[pyfunction]
#[pyo3(signature = (hospital, old, new, weights_old=None, weights_new=None))]
fn _pack_diff_tables<'py>(
    py: Python<'py>,
    hospital: Vec<Option<String>>,
    old: [Column; 4],
    new: [Column; 4],
    weights_old: Option<HashMap<String, f64>>,
    weights_new: Option<HashMap<String, f64>>,
) -> PyResult<Bound<'py, PyDict>> {
    let n = hospital.len();
    if old.iter().chain(&new).any(|c| c.len() != n) {
        return Err(crate::errors::input("pack_diff: columns of different lengths"));
    }
    let to_map = |w: Option<HashMap<String, f64>>| w.map(|w| w.into_iter().collect::<DrgWeights>());
    let (weights_old, weights_new) = (to_map(weights_old), to_map(weights_new));
    let mut diff = PackDiff::new();
    let (mut changed, mut mdc_changed, mut w_old_col, mut w_new_col) = (vec![], vec![], vec![], vec![]);
    for (i, hospital) in hospital.iter().enumerate() {
        let (g_old, g_new) = (side(&old, i)?, side(&new, i)?);
        let (w_old, w_new) = (case_weight(weights_old.as_ref(), &g_old), case_weight(weights_new.as_ref(), &g_new));
        let change = diff.add(hospital.as_deref().unwrap_or(""), &g_old, &g_new, w_old, w_new);
        changed.push(change.group_changed);
        mdc_changed.push(change.mdc_changed);
        w_old_col.push(w_old);
        w_new_col.push(w_new);
    }
    let out = PyDict::new(py);
    let cases = PyDict::new(py);
    cases.set_item("changed", changed)?;
    cases.set_item("mdc_changed", mdc_changed)?;
    if weights_old.is_some() || weights_new.is_some() {
        cases.set_item("old_weight", w_old_col)?;
        cases.set_item("new_weight", w_new_col)?;
    }
    out.set_item("cases", cases)?;
    let names = ["old", "new", "cases", "share_of_old", "share_of_all"];
    let transitions = table(py, &names, diff.transitions(), |r| Ok(cells!(py; r.old, r.new, r.cases, r.share_of_old, r.share_of_all)))?;
    out.set_item("transitions", transitions)?;
    let names = ["hospital", "cases", "weighted_old", "weighted_new", "cmi_old", "cmi_new", "cmi_change"];
    let hospitals = table(py, &names, diff.hospitals(), |r| {
        Ok(cells!(py; r.hospital, r.cases, r.weighted_old, r.weighted_new, r.cmi_old, r.cmi_new, r.change))
    })?;
    out.set_item("hospitals", hospitals)?;
    let s = diff.summary();
    let summary = PyDict::new(py);
    for (k, v) in [
        ("cases", s.cases),
        ("grouped_old", s.grouped_old),
        ("grouped_new", s.grouped_new),
        ("changed", s.group_changed),
        ("mdc_changed", s.mdc_changed),
        ("became_ungroupable", s.became_ungroupable),
        ("became_ambiguous", s.became_ambiguous),
        ("lost_group", s.lost_group),
    ] {
        summary.set_item(k, v)?;
    }
    out.set_item("summary", summary)?;
    Ok(out)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_pack_diff_tables, m)?)
}
