#![no_main]
//! The guarded CSV reader of drg-core (issue 15: row, header and field
//! limits, unterminated quotes) against the csv crate on the same bytes,
//! with small limits so that the fuzzer reaches them: every record the
//! guarded reader gives is the csv crate's record, within the limits; it
//! only ever stops early with one of its own messages, never a panic.
use drg_core::io::{csv_reader, CsvLimits};
use libfuzzer_sys::fuzz_target;

const LIMITS: CsvLimits = CsvLimits { header_bytes: 64, line_bytes: 96, field_bytes: 40 };

fn own_message(e: &csv::Error) -> bool {
    let m = e.to_string();
    (m.starts_with("line ") && (m.contains("drg refuses") || m.contains("a quote opened here is never closed"))) || m.contains("UTF-8")
}

fuzz_target!(|data: &[u8]| {
    let mut guarded = csv_reader(data, LIMITS);
    let mut raw = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(data);
    match guarded.byte_headers() {
        Err(e) => {
            assert!(own_message(&e), "{e}");
            return;
        }
        Ok(header) => {
            assert_eq!(Some(header), raw.byte_headers().ok());
            assert!(header.as_slice().len() <= LIMITS.header_bytes);
        }
    }
    let (mut g, mut r) = (csv::ByteRecord::new(), csv::ByteRecord::new());
    loop {
        match guarded.read_byte_record(&mut g) {
            Err(e) => {
                assert!(own_message(&e), "{e}");
                // The message quotes the row's start, which may itself say
                // "never closed" (the fuzzer found that): look at the
                // message's own words only.
                let m = e.to_string();
                let own = m.split_once(": ").map_or("", |(_, rest)| rest);
                if own.starts_with("a quote opened here is never closed") {
                    assert!(data.contains(&b'"'));
                }
                return;
            }
            Ok(more) => {
                assert_eq!(raw.read_byte_record(&mut r).ok(), Some(more), "the guarded reader ends where csv does");
                if !more {
                    return;
                }
                assert_eq!(g, r);
                assert!(g.as_slice().len() <= LIMITS.line_bytes);
                assert!(g.iter().all(|field| field.len() <= LIMITS.field_bytes));
            }
        }
    }
});
