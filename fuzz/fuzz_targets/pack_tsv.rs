#![no_main]
//! The pack loader on any TSV files (with the demo pack's pack.json): the
//! input is split at 0xFF bytes into the TSV files, in `demo_files()` order
//! (cc.tsv, cc_exclusions.tsv, or_procedures.tsv, the vocabularies, the
//! code maps).
use drg_fuzz::{demo_files, group_all};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parts: Vec<String> = data.split(|&b| b == 0xFF).map(|p| String::from_utf8_lossy(p).into_owned()).collect();
    // Every file but pack.json, in demo_files() order, takes the next part.
    let files = demo_files();
    let mut tsv = 0;
    let files = files.iter().map(|(name, content)| {
        if *name == "pack.json" {
            return (*name, content.as_str());
        }
        tsv += 1;
        (*name, parts.get(tsv - 1).map_or(content.as_str(), String::as_str))
    });
    if let Ok(pack) = drg_core::Pack::from_files("fuzz", files) {
        group_all(pack, drg_fuzz::SAMPLE_CSV.as_bytes());
    }
});
