#![no_main]
//! Code normalisation never panics, and is idempotent.

use drg_core::codes::{normalize_code, split_codes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Some(once) = normalize_code(text) {
        let twice = normalize_code(&once).expect("a normalised code stays a code");
        assert_eq!(once, twice, "normalisation is idempotent");
    }
    for code in split_codes(text) {
        assert_eq!(normalize_code(&code).as_deref(), Some(code.as_str()));
    }
});
