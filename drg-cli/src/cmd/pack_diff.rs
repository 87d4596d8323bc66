//! `drg pack diff OLD NEW CASES`: every case grouped under two packs in one
//! streaming pass; the tallies are drg-core's [`PackDiff`].
//!
//! It runs on `drg group`'s pipeline ([`drg_core::parallel::ordered_pipeline`]):
//! the reading thread takes raw records in batches; worker threads parse,
//! group under both packs, write their rows of cases.csv and tally; one
//! writer writes the batches in input order and merges the tallies. A fixed
//! number of batches is in flight, so memory is flat in the input size.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use drg_core::diff::{case_weight, CaseChange, DrgWeights, Grouping, PackDiff};
use drg_core::io::{push_csv_field, InputError, RecordBatch};
use drg_core::parallel::Feeder;
use drg_core::read::RecordSource;
use drg_core::{Case, GroupResult, Grouper};

use super::Outcome;
use crate::args::{PackChoice, PackDiffArgs};

/// `drg pack diff`.
pub fn command(args: PackDiffArgs) -> Outcome {
    let open = |arg: &std::ffi::OsStr| super::load_pack(&PackChoice { pack: Some(arg.to_os_string()) });
    let old = Grouper::new(Arc::new(open(&args.old)?));
    let new = Grouper::new(Arc::new(open(&args.new)?));
    let weights_old = args.weights_old.as_deref().map(read_weights).transpose()?;
    let weights_new = args.weights_new.as_deref().map(read_weights).transpose()?;
    let weighted = weights_old.is_some() || weights_new.is_some();
    std::fs::create_dir_all(&args.out_dir).map_err(|e| format!("{}: {e}", args.out_dir.display()))?;
    let create = |name: &str| {
        let path = args.out_dir.join(name);
        File::create(&path).map(|f| BufWriter::with_capacity(1 << 20, f)).map_err(|e| format!("{}: {e}", path.display()))
    };
    let started = Instant::now();
    let mut cases = open_records(&args)?;
    let layout = cases.layout().clone();
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);

    let mut out = create("cases.csv")?;
    out.write_all(cases_header(weighted).as_bytes()).map_err(|e| e.to_string())?;

    let mut diff = PackDiff::new();
    let mut bad_rows = 0u64;
    let (read, written) = drg_core::parallel::ordered_pipeline(
        threads,
        || (Case::default(), Vec::new()),
        |(case, extra), records: RecordBatch, give_back| {
            let mut part = PackDiff::new();
            let mut rows = Vec::with_capacity(records.len() * 96);
            let mut bad = Vec::new();
            for record in records.records() {
                let parsed = layout.parse_into(record, case, extra);
                let (id, hospital, reason, r_old, r_new) = match &parsed {
                    Ok(()) => (case.id.as_str(), case.hospital.as_deref().unwrap_or(""), "", old.group(case), new.group(case)),
                    Err(e) => {
                        bad.push(e.reason.clone());
                        let invalid = || GroupResult::invalid(e.reason.clone());
                        (e.id.as_str(), "", e.reason.as_str(), invalid(), invalid())
                    }
                };
                let (g_old, g_new) = (Grouping::from(&r_old), Grouping::from(&r_new));
                let (w_old, w_new) = (case_weight(weights_old.as_ref(), &g_old), case_weight(weights_new.as_ref(), &g_new));
                let change = part.add(hospital, &g_old, &g_new, w_old, w_new);
                write_row(&mut rows, [id, hospital], [&g_old, &g_new], change, weighted.then_some((w_old, w_new)), reason);
            }
            give_back(records);
            (rows, part, bad)
        },
        |(bytes, part, bad): (Vec<u8>, PackDiff, Vec<String>)| -> std::io::Result<()> {
            out.write_all(&bytes)?;
            diff.merge(part);
            for message in bad {
                bad_rows += 1;
                if bad_rows <= 20 && !args.quiet {
                    eprintln!("drg pack diff: {}: {message}", args.cases);
                }
            }
            Ok(())
        },
        |feeder| feed(&mut cases, feeder),
    );
    written.map_err(|e| format!("cases.csv: {e}"))?;
    read.map_err(|e| format!("{}: {e}", args.cases))?;
    out.flush().map_err(|e| format!("cases.csv: {e}"))?;

    write_transitions(create("transitions.csv")?, &diff)?;
    if weighted {
        write_hospitals(create("hospitals.csv")?, &diff)?;
    }
    print_summary(&args, &diff, [&old, &new], bad_rows, weighted, started);
    Ok(ExitCode::SUCCESS)
}

/// Sends the cases' records to the workers in batches, until the end of the
/// file, a failure to read it (the rows before it are sent first), or the
/// writer's failure.
fn feed(cases: &mut RecordSource, feeder: &mut Feeder<'_, RecordBatch, RecordBatch>) -> Result<(), InputError> {
    loop {
        let mut batch = feeder.spare().unwrap_or_default();
        let read = cases.read_batch(&mut batch, super::group::BATCH_ROWS, super::group::BATCH_BYTES);
        if !batch.is_empty() && !feeder.send(batch) {
            return Ok(());
        }
        if !read? {
            return Ok(());
        }
    }
}

/// The cases' rows: a CSV or an .xlsx workbook; JSON is refused.
fn open_records(args: &PackDiffArgs) -> Result<RecordSource, String> {
    let options = super::columns::read_options(&args.read)?;
    match drg_core::read::open_cases(&args.cases, &options).map_err(|e| format!("{}: {e}", args.cases))? {
        drg_core::read::CaseSource::Records(records) => Ok(records),
        drg_core::read::CaseSource::Json(_) => Err(format!("{}: pack diff reads a CSV or an .xlsx workbook, not JSON", args.cases)),
    }
}

/// The header of cases.csv; the weight columns only when weights are given.
fn cases_header(weighted: bool) -> String {
    let mut header = String::from("id,hospital,old_status,old_mdc,old_adrg,old_drg,new_status,new_mdc,new_adrg,new_drg,changed,mdc_changed");
    if weighted {
        header.push_str(",old_weight,new_weight");
    }
    header.push_str(",reason\n");
    header
}

/// transitions.csv: one row per (old, new) pair with its share of the old
/// group and of all cases.
fn write_transitions(mut t: BufWriter<File>, diff: &PackDiff) -> Result<(), String> {
    let w = |t: &mut BufWriter<File>, line: String| t.write_all(line.as_bytes()).map_err(|e| format!("transitions.csv: {e}"));
    w(&mut t, "old,new,cases,share_of_old,share_of_all\n".into())?;
    for row in diff.transitions() {
        w(&mut t, format!("{},{},{},{:.6},{:.6}\n", row.old, row.new, row.cases, row.share_of_old, row.share_of_all))?;
    }
    t.flush().map_err(|e| format!("transitions.csv: {e}"))?;
    Ok(())
}

/// hospitals.csv (only with weights): each hospital's weighted sums and case
/// mix index under both packs.
fn write_hospitals(file: BufWriter<File>, diff: &PackDiff) -> Result<(), String> {
    let mut h = csv::Writer::from_writer(file);
    let f = |x: Option<f64>| x.map(|v| format!("{v:.4}")).unwrap_or_default();
    h.write_record(["hospital", "cases", "weighted_old", "weighted_new", "cmi_old", "cmi_new", "cmi_change"]).map_err(|e| e.to_string())?;
    for row in diff.hospitals() {
        h.write_record([
            row.hospital.clone(),
            row.cases.to_string(),
            row.weighted_old.to_string(),
            row.weighted_new.to_string(),
            f(row.cmi_old),
            f(row.cmi_new),
            f(row.change),
        ])
        .map_err(|e| format!("hospitals.csv: {e}"))?;
    }
    h.flush().map_err(|e| format!("hospitals.csv: {e}"))?;
    Ok(())
}

/// The summary on stdout: counts of each kind of change, the largest
/// transitions and what was written.
fn print_summary(args: &PackDiffArgs, diff: &PackDiff, [old, new]: [&Grouper; 2], bad_rows: u64, weighted: bool, started: Instant) {
    let s = diff.summary();
    let seconds = started.elapsed().as_secs_f64();
    let pct = |n: u64| if s.cases == 0 { 0.0 } else { n as f64 * 100.0 / s.cases as f64 };
    let (o, n) = (old.pack().info(), new.pack().info());
    println!("{} cases: {} ({}) -> {} ({})", s.cases, o.id, o.name, n.id, n.name);
    println!("  grouped:                 {:>9} -> {}", s.grouped_old, s.grouped_new);
    println!("  DRG (or status) changed: {:>9}  {:.2}%", s.group_changed, pct(s.group_changed));
    println!("  MDC changed:             {:>9}  {:.2}%  (grouped under both)", s.mdc_changed, pct(s.mdc_changed));
    println!("  became ungroupable:      {:>9}  {:.2}%", s.became_ungroupable, pct(s.became_ungroupable));
    println!("  became QY (ambiguous):   {:>9}  {:.2}%", s.became_ambiguous, pct(s.became_ambiguous));
    println!("  unreadable rows:         {bad_rows:>9}");
    let top: Vec<String> =
        diff.transitions().into_iter().filter(|t| t.old != t.new).take(5).map(|t| format!("{} -> {} ({})", t.old, t.new, t.cases)).collect();
    if !top.is_empty() {
        println!("  largest changes: {}", top.join(", "));
    }
    println!(
        "  wrote {}/cases.csv, transitions.csv{}; {seconds:.2} s, {:.0} cases/s",
        args.out_dir.display(),
        if weighted { ", hospitals.csv" } else { "" },
        s.cases as f64 / seconds.max(1e-9)
    );
}

/// One row of cases.csv: id and hospital, both groupings, what changed, the
/// weights when given, and why a row could not be read.
fn write_row(
    out: &mut Vec<u8>,
    [id, hospital]: [&str; 2],
    groupings: [&Grouping<'_>; 2],
    change: CaseChange,
    weights: Option<(Option<f64>, Option<f64>)>,
    reason: &str,
) {
    push_csv_field(out, id.as_bytes());
    out.push(b',');
    push_csv_field(out, hospital.as_bytes());
    for g in groupings {
        out.push(b',');
        out.extend_from_slice(g.status.as_str().as_bytes());
        for code in [g.mdc, g.adrg, g.drg] {
            out.push(b',');
            push_csv_field(out, code.unwrap_or("").as_bytes());
        }
    }
    let word = |x: bool| if x { &b",true"[..] } else { &b",false"[..] };
    out.extend_from_slice(word(change.group_changed));
    out.extend_from_slice(word(change.mdc_changed));
    if let Some((old, new)) = weights {
        for w in [old, new] {
            out.push(b',');
            if let Some(w) = w {
                out.extend_from_slice(w.to_string().as_bytes());
            }
        }
    }
    out.push(b',');
    push_csv_field(out, reason.as_bytes());
    out.push(b'\n');
}

fn read_weights(path: &Path) -> Result<DrgWeights, String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let weights = drg_core::points::read_weights_csv(file).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(weights.drgs.into_iter().map(|(drg, w)| (drg, w.weight)).collect())
}
