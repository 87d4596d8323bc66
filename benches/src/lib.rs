//! Shared helpers of the benchmarks: where ../shared is, and its cases.

use std::path::PathBuf;

use drg_core::io::CsvCases;
use drg_core::Case;

/// `../shared` beside the workspace.
pub fn shared_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    assert!(dir.join("README.md").is_file(), "the benchmarks need ../shared beside the checkout ({})", dir.display());
    dir
}

/// The readable cases of a shared test file, parsed.
pub fn shared_cases(scheme: &str) -> Vec<Case> {
    let path = shared_dir().join("testdata").join(scheme).join("cases.csv");
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    CsvCases::new(std::io::BufReader::new(file))
        .expect("a case CSV")
        .filter_map(|row| row.ok().and_then(|r| r.case.ok()))
        .collect()
}
