#![no_main]
//! `drg_group_json` of the C ABI on any string: a JSON result or NULL with an
//! error, never a crash.
use std::ffi::{CStr, CString};

use libfuzzer_sys::fuzz_target;

/// The demo grouper, opened once (as an address: handles are shared freely).
fn grouper() -> *const drg::drg_grouper {
    static GROUPER: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *GROUPER.get_or_init(|| drg::drg_grouper_open_demo() as usize) as *const drg::drg_grouper
}

fuzz_target!(|text: &[u8]| {
    let Ok(json) = CString::new(text) else { return };
    let grouper = grouper();
    for explain in [0, 1] {
        let out = unsafe { drg::drg_group_json(grouper, json.as_ptr(), explain) };
        if out.is_null() {
            assert!(!drg::drg_last_error().is_null(), "a NULL result comes with an error");
        } else {
            let result = unsafe { CStr::from_ptr(out) }.to_str().expect("UTF-8");
            let value: serde_json::Value = serde_json::from_str(result).expect("a JSON result");
            assert!(value["status"].is_string());
            unsafe { drg::drg_string_free(out) };
        }
    }
});
