//! The duplicate-id check alone (docs/performance.md, "Memory: the
//! duplicate-id check"): N distinct ids like bench.sh's ("C0123-45"), then
//! every tenth of them again. Prints the time per id of each phase and how
//! many runs were written. For instruction counts run it under callgrind:
//!
//!     valgrind --tool=callgrind --toggle-collect='drg_core::ids::DuplicateIds::check' \
//!         target/release/duplicate_ids 1000000
//!
//! and divide the total by the number of checks it prints.
//!
//! Usage: `duplicate_ids [N [MEMORY_BUDGET_BYTES]]` (N defaults to 1,000,000).

use std::time::Instant;

use drg_core::ids::{DuplicateIds, DEFAULT_MEMORY_BUDGET};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().map_or(1_000_000, |a| a.parse().expect("N: a number of ids"));
    let budget: usize = args.next().map_or(DEFAULT_MEMORY_BUDGET, |a| a.parse().expect("a budget in bytes"));
    let mut ids = DuplicateIds::with_memory_budget(budget);
    let id = |i: u64| format!("C{:04}-{}", i % 10_000, i / 10_000);

    let names: Vec<String> = (0..n).map(id).collect();
    let started = Instant::now();
    for (line, name) in names.iter().enumerate() {
        assert_eq!(ids.check(name.as_bytes(), line as u64)?, None, "{name} is new");
    }
    let new_ns = started.elapsed().as_secs_f64() * 1e9 / n as f64;

    let again: Vec<u64> = (0..n).step_by(10).collect();
    let started = Instant::now();
    for &i in &again {
        assert_eq!(ids.check(names[i as usize].as_bytes(), n + i)?, Some(i), "{} is a duplicate", names[i as usize]);
    }
    let dup_ns = started.elapsed().as_secs_f64() * 1e9 / again.len().max(1) as f64;
    println!("{n} new ids: {new_ns:.0} ns an id; {} duplicates: {dup_ns:.0} ns an id; {} checks", again.len(), n + again.len() as u64);
    println!("{ids:?}");
    Ok(())
}
