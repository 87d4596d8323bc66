#![no_main]
//! The JSON / JSONL case reader on any bytes, every row grouped and explained.
use drg_core::io::JsonCases;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let grouper = drg_fuzz::demo_grouper();
    let Ok(rows) = JsonCases::new(data) else { return };
    for row in rows {
        let Ok(row) = row else { return };
        if let Ok(case) = &row.case {
            let fast = grouper.group(case);
            let explained = grouper.explain(case);
            assert_eq!(fast.status, explained.status);
            assert_eq!(fast.drg, explained.drg);
        }
    }
});
