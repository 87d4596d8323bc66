//! The bundled rule packs in Python: `drg.packs()` and `drg.PACKS_NOTICE`.

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The rule packs bundled with drg, national schemes first: a list of dicts
/// with `id, name, description, counts (mdc, adrg, drg), provenance,
/// default`. Each opens by its id: `drg.Grouper("wuhan-2022")`. They are
/// conversions, not official releases: check results against your region's
/// own grouper (`drg.PACKS_NOTICE`).
#[pyfunction]
fn packs(py: Python<'_>) -> PyResult<Vec<Bound<'_, PyDict>>> {
    drg_packs::bundled()
        .iter()
        .map(|p| {
            let d = PyDict::new(py);
            d.set_item("id", p.id)?;
            d.set_item("name", p.name)?;
            d.set_item("description", p.description)?;
            let counts = PyDict::new(py);
            counts.set_item("mdc", p.counts.mdc)?;
            counts.set_item("adrg", p.counts.adrg)?;
            counts.set_item("drg", p.counts.drg)?;
            d.set_item("counts", counts)?;
            d.set_item("provenance", p.provenance)?;
            d.set_item("default", p.id == drg_packs::DEFAULT_PACK)?;
            Ok(d)
        })
        .collect()
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(packs, m)?)?;
    m.add("PACKS_NOTICE", drg_packs::NOTICE)?;
    m.add("DEFAULT_PACK", drg_packs::DEFAULT_PACK)?;
    Ok(())
}
