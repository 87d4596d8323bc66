//! Criterion benchmarks of the engine: `cargo bench -p drg-benches`.
//! (scripts/bench.sh prints the figures against their targets.)

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use drg_benches::{shared_cases, shared_dir};
use drg_core::codes::{normalize_code, split_codes};
use drg_core::parallel::par_map;
use drg_core::points::{self, DrgWeight, PointsCase, Policy, Weights};
use drg_core::{Grouper, Pack};

fn grouping(c: &mut Criterion) {
    let pack = Pack::open(shared_dir().join("rulepacks/chs-drg-1.1")).expect("the national pack");
    let grouper = Grouper::new(Arc::new(pack));
    let cases = shared_cases("chs-drg-1.1");

    let mut g = c.benchmark_group("group");
    let one = &cases[3];
    g.throughput(Throughput::Elements(1));
    g.bench_function("one case", |b| b.iter(|| black_box(grouper.group(black_box(one)))));
    g.bench_function("one case, explained", |b| b.iter(|| black_box(grouper.explain(black_box(one)))));
    g.throughput(Throughput::Elements(cases.len() as u64));
    g.sample_size(10);
    g.bench_function("the 1.1 mix, one thread", |b| {
        b.iter(|| cases.iter().filter(|c| grouper.group(c).drg.is_some()).count())
    });
    g.bench_function("the 1.1 mix, every core", |b| {
        b.iter(|| par_map(&cases, 0, |c| grouper.group(c).drg.is_some()).len())
    });
    g.finish();
}

fn opening(c: &mut Criterion) {
    let dir = shared_dir().join("rulepacks/chs-drg-1.1");
    let bytes = Pack::open(&dir).unwrap().to_bytes();
    let file = std::env::temp_dir().join(format!("drg-bench-{}.drgpack", std::process::id()));
    std::fs::write(&file, &bytes).unwrap();

    let mut g = c.benchmark_group("open chs-drg-1.1");
    g.sample_size(10);
    g.bench_function("from its directory", |b| b.iter(|| black_box(Pack::open(&dir).unwrap())));
    g.bench_function("from a compiled file", |b| b.iter(|| black_box(Pack::open(&file).unwrap())));
    g.finish();
    std::fs::remove_file(file).ok();
}

fn codes(c: &mut Criterion) {
    let mut g = c.benchmark_group("codes");
    g.bench_function("normalise a clean code", |b| b.iter(|| black_box(normalize_code(black_box("K35.800x001")))));
    g.bench_function("normalise a typed code", |b| b.iter(|| black_box(normalize_code(black_box(" ｋ３５．８００X001 ")))));
    g.bench_function("split a field", |b| {
        b.iter(|| black_box(split_codes(black_box("I10.x05|E11.900|K35.800x001|J18.900、N18.500"))))
    });
    g.finish();
}

fn scoring(c: &mut Criterion) {
    let policy = Policy::default();
    let w = |avg: f64| DrgWeight { n: 100, kept: 98, avg_cost: avg, weight: avg / 10_000.0, base_points: avg / 100.0, unstable: false };
    let weights = Weights {
        drgs: (0..600).map(|i| (format!("D{i:03}9"), w(2000.0 + i as f64 * 100.0))).collect(),
        overall: w(10_000.0),
    };
    let case = PointsCase {
        id: "c".into(),
        hospital: "H1".into(),
        hospital_level: Some("2".into()),
        drg: Some("D3009".into()),
        total_cost: Some(40_000.0),
        self_pay: Some(5_000.0),
    };
    let cases: Vec<PointsCase> = (0..20_000).map(|i| PointsCase { id: i.to_string(), ..case.clone() }).collect();
    let mut g = c.benchmark_group("points");
    g.bench_function("score one case", |b| b.iter(|| black_box(points::score(&policy, &weights, black_box(&case)))));
    g.sample_size(20);
    g.bench_function("score and settle 20,000 cases", |b| {
        b.iter_batched(
            || cases.clone(),
            |cases| {
                let scored: Vec<_> = cases.into_iter().map(|c| { let s = points::score(&policy, &weights, &c).unwrap(); (c, s) }).collect();
                points::settle(&policy, &scored).unwrap()
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, grouping, opening, codes, scoring);
criterion_main!(benches);
