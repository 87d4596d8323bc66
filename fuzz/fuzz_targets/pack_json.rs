#![no_main]
//! The pack loader on any pack.json (with the demo pack's TSV files): a
//! refusal or a pack, never a panic; a loaded pack groups a case.
use drg_fuzz::{demo_files, group_all};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|json: &str| {
    let files = demo_files();
    let with_json = files.iter().map(|(n, c)| (*n, if *n == "pack.json" { json } else { c.as_str() }));
    if let Ok(pack) = drg_core::Pack::from_files("fuzz", with_json) {
        group_all(pack, drg_fuzz::SAMPLE_CSV.as_bytes());
    }
});
