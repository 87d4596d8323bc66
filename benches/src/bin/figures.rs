//! Prints the in-process figures of the speed targets, one `name value unit`
//! line each, for scripts/bench.sh:
//!
//! - `group_one_thread`: `Grouper::group` on one thread over the shared
//!   50,000-case mix, cases already parsed (cases/s);
//! - `group_calls`: the calls of `Grouper::group` made, to divide an
//!   instruction count by (`valgrind --tool=callgrind
//!   --toggle-collect='drg_core::grouper::Grouper::group' figures`);
//! - `open_dir` / `open_file`: opening CHS-DRG 1.1 from its directory and from a
//!   compiled file (ms, best of several).
//!
//! Usage: figures [COMPILED_PACK_FILE]
//!
//! `DRG_FIGURES_SCHEME=chs-drg-2.0` (a pack of ../shared/rulepacks with
//! cases in ../shared/testdata) measures another scheme than 1.1.

use std::sync::Arc;
use std::time::Instant;

use drg_benches::{shared_cases, shared_dir};
use drg_core::{Grouper, Pack};

fn best_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let scheme = std::env::var("DRG_FIGURES_SCHEME").unwrap_or_else(|_| "chs-drg-1.1".into());
    let dir = shared_dir().join("rulepacks").join(&scheme);
    let pack = Pack::open(&dir).expect("the national pack");
    let grouper = Grouper::new(Arc::new(pack));
    let cases = shared_cases(&scheme);

    // Warm up, then time whole passes over the mix.
    let mut grouped = 0usize;
    for case in &cases {
        grouped += grouper.group(case).drg.is_some() as usize;
    }
    let passes = 10;
    let t = Instant::now();
    for _ in 0..passes {
        for case in &cases {
            grouped += std::hint::black_box(grouper.group(std::hint::black_box(case))).drg.is_some() as usize;
        }
    }
    let rate = (passes * cases.len()) as f64 / t.elapsed().as_secs_f64();
    println!("group_one_thread {rate:.0} cases/s");
    // For instruction counts (callgrind, collecting only inside
    // `Grouper::group`): how many calls the warm-up and the passes made.
    println!("group_calls {} calls", (passes + 1) * cases.len());
    std::hint::black_box(grouped);

    println!("open_dir {:.1} ms", best_ms(5, || drop(Pack::open(&dir).unwrap())));
    if let Some(file) = std::env::args().nth(1) {
        println!("open_file {:.1} ms", best_ms(20, || drop(Pack::open(&file).unwrap())));
    }
}
