#![no_main]
//! The CSV case reader on any bytes, every row grouped and explained with the
//! demo pack: one result per row, never a panic.
use drg_fuzz::{demo_grouper, group_rows};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    group_rows(demo_grouper(), data);
});
