#![no_main]
//! drg-core's CSV reader ([`CsvRows`]: plain rows cut from its own buffer,
//! the rest through the csv crate behind the limit guard; issue 15's row,
//! header and field limits, unterminated quotes) against the csv crate on
//! the same bytes, with small limits so that the fuzzer reaches them: every
//! record it gives is the csv crate's record, within the limits; it only
//! ever stops early with one of its own messages, never a panic.
use drg_core::io::{CsvLimits, CsvRows, Record};
use libfuzzer_sys::fuzz_target;

const LIMITS: CsvLimits = CsvLimits { header_bytes: 64, line_bytes: 96, field_bytes: 40 };

fn own_message(m: &str) -> bool {
    (m.starts_with("line ") && (m.contains("drg refuses") || m.contains("a quote opened here is never closed"))) || m.contains("UTF-8")
}

fn cells(record: &Record) -> Vec<&[u8]> {
    record.iter().collect()
}

fuzz_target!(|data: &[u8]| {
    let mut rows = CsvRows::new(data, LIMITS);
    let mut raw = csv::ReaderBuilder::new().flexible(true).has_headers(false).from_reader(data);
    let (mut g, mut r) = (Record::new(), csv::ByteRecord::new());
    let mut first = true;
    loop {
        match rows.read(&mut g) {
            Err(e) => {
                let m = e.to_string();
                assert!(own_message(&m), "{m}");
                // The message quotes the row's start, which may itself say
                // "never closed" (the fuzzer found that): look at the
                // message's own words only.
                let own = m.split_once(": ").map_or("", |(_, rest)| rest);
                if own.starts_with("a quote opened here is never closed") {
                    assert!(data.contains(&b'"'));
                }
                return;
            }
            Ok(more) => {
                assert_eq!(raw.read_byte_record(&mut r).ok(), Some(more), "drg's reader ends where csv does");
                if !more {
                    return;
                }
                assert_eq!(cells(&g), r.iter().collect::<Vec<_>>());
                // drg places a row on the line of its first byte; the csv
                // crate's position is where the row before it ended.
                let at = r.position().map_or(0, |p| p.byte()) as usize;
                let start = at + data[at..].iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
                assert_eq!(g.line(), 1 + data[..start].iter().filter(|&&b| b == b'\n').count() as u64);
                assert_eq!(g.byte(), start as u64);
                let limit = if first { LIMITS.header_bytes } else { LIMITS.line_bytes };
                assert!(g.iter().map(|c| c.len() + 1).sum::<usize>() <= limit + 1);
                assert!(g.iter().all(|field| field.len() <= LIMITS.field_bytes));
                first = false;
            }
        }
    }
});
