//! `drg report`: DRG indicators from a case file (CSV, GBK or .xlsx, read
//! through `drg_core::read` as every command reads cases). Reads and writes
//! files only; every figure is computed by `drg_core::report`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use drg_core::report::{self, Indicators, Mortality, ReportReader};
use drg_core::{Grouper, Status};

use drg_core::read::ReadOptions;

use super::columns::read_options;
use super::{load_pack, Failure, Outcome};
use crate::args::{PackChoice, ReportArgs, ReportBy};
use crate::cmd::points::{read_weights, write};

/// Reads one case file into `indicators`, grouping it with the pack when it
/// has no results; unreadable values are reported on standard error by line.
fn read_into(
    input: &str,
    options: &ReadOptions,
    pack: &PackChoice,
    threads: usize,
    indicators: &mut Indicators<'_>,
) -> Result<(), Failure> {
    let source = drg_core::read::open_records(input, options).map_err(|e| format!("{input}: {e}"))?;
    let mut reader = ReportReader::from_records(source).map_err(|e| drg_core::Error::from(e).in_file(input))?;
    let grouper = if reader.needs_grouper() { Some(Grouper::new(Arc::new(load_pack(pack)?))) } else { None };
    let summary = reader
        .read_all(grouper.as_ref(), threads, &mut |row| indicators.add(row), &mut |line, message| {
            eprintln!("{input} line {line}: {message}")
        })
        .map_err(|e| drg_core::Error::from(e).in_file(input))?;
    if let Some(g) = &grouper {
        eprintln!("drg report: {input}: {} rows grouped with {} ({})", summary.grouped_here, g.pack().info().name, g.pack().info().id);
    }
    if summary.problems > 0 {
        eprintln!("drg report: {input}: {} values could not be read (above, by line)", summary.problems);
    }
    Ok(())
}

/// `drg report`.
pub fn command(args: ReportArgs) -> Outcome {
    let weights = read_weights(&args.weights)?;
    let options = read_options(&args.read)?;
    let threads = args.threads.unwrap_or(0);
    let by_dept = args.by == ReportBy::Dept;
    let benchmark: Option<Mortality> = match &args.risk_from {
        Some(path) => {
            let mut bench = Indicators::new(&weights, false);
            read_into(&path.display().to_string(), &options, &args.pack, threads, &mut bench)?;
            Some(bench.mortality())
        }
        None => None,
    };
    let mut indicators = Indicators::new(&weights, by_dept);
    read_into(&args.input, &options, &args.pack, threads, &mut indicators)?;
    let report = indicators.finish(benchmark.as_ref());

    std::fs::create_dir_all(&args.out_dir).map_err(|e| format!("{}: {e}", args.out_dir.display()))?;
    let out = |name: &str| args.out_dir.join(name);
    write(&out("drgs.csv"), &report::drgs_csv(&report))?;
    write(&out("hospitals.csv"), &report::hospitals_csv(&report))?;
    write(&out("scheme.csv"), &report::scheme_csv(&report))?;
    let title = if args.input == "-" {
        "standard input".to_string()
    } else {
        Path::new(&args.input).file_name().map_or(args.input.clone(), |n| n.to_string_lossy().into_owned())
    };
    write(&out("report.html"), &report::report_html(&report, &title))?;

    if !report.unweighted.is_empty() {
        let n: u64 = report.unweighted.values().sum();
        let drgs: Vec<&str> = report.unweighted.keys().map(String::as_str).collect();
        eprintln!(
            "drg report: {n} grouped rows are in {} DRGs without a weight in {} (left out of total_weight and CMI): {}",
            drgs.len(),
            args.weights.display(),
            drgs.join(" ")
        );
    }
    let s = &report.scheme;
    eprintln!(
        "drg report: {} cases, {} {}, group rate {}, {} DRGs, RIV {}; {} written",
        s.cases,
        s.grouped,
        Status::Grouped,
        s.group_rate.map_or("-".into(), |r| drg_core::points::fixed(r, 4)),
        s.drgs_used,
        s.riv_cost.map_or("-".into(), |r| drg_core::points::fixed(r, 4)),
        args.out_dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
