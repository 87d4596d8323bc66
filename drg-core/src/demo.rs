//! The built-in demonstration pack, so that `drg` runs on a fresh clone with
//! no pack at hand. It is hand-written, small, and not for payment.

/// (path inside the pack, content) of every file of the demo pack.
pub(crate) const FILES: &[(&str, &str)] = &[
    ("pack.json", include_str!("../demo-pack/pack.json")),
    ("cc.tsv", include_str!("../demo-pack/cc.tsv")),
    ("cc_exclusions.tsv", include_str!("../demo-pack/cc_exclusions.tsv")),
    ("or_procedures.tsv", include_str!("../demo-pack/or_procedures.tsv")),
    ("codes/diagnoses.tsv", include_str!("../demo-pack/codes/diagnoses.tsv")),
    ("codes/procedures.tsv", include_str!("../demo-pack/codes/procedures.tsv")),
    ("codes/diagnosis_map.tsv", include_str!("../demo-pack/codes/diagnosis_map.tsv")),
    ("codes/procedure_map.tsv", include_str!("../demo-pack/codes/procedure_map.tsv")),
];
