#![no_main]
//! The pack loader on any TSV files (with the demo pack's pack.json): the
//! input is split at 0xFF bytes into cc.tsv, cc_exclusions.tsv,
//! or_procedures.tsv, the vocabularies and the code maps.
use drg_fuzz::{demo_files, group_all};
use libfuzzer_sys::fuzz_target;

const TSVS: [&str; 7] = [
    "cc.tsv",
    "cc_exclusions.tsv",
    "or_procedures.tsv",
    "codes/diagnoses.tsv",
    "codes/procedures.tsv",
    "codes/diagnosis_map.tsv",
    "codes/procedure_map.tsv",
];

fuzz_target!(|data: &[u8]| {
    let parts: Vec<String> = data.split(|&b| b == 0xFF).map(|p| String::from_utf8_lossy(p).into_owned()).collect();
    let files = demo_files();
    let files = files.iter().map(|(name, content)| {
        let replaced = TSVS.iter().position(|t| t == name).and_then(|i| parts.get(i));
        (*name, replaced.map_or(content.as_str(), String::as_str))
    });
    if let Ok(pack) = drg_core::Pack::from_files("fuzz", files) {
        group_all(pack, drg_fuzz::SAMPLE_CSV.as_bytes());
    }
});
