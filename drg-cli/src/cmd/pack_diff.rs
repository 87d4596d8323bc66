//! `drg pack diff OLD NEW CASES`: every case grouped under two packs in one
//! streaming pass; the tallies are drg-core's [`PackDiff`].
//!
//! The reading thread takes raw records in batches; each batch is split
//! between the worker threads, which parse, group under both packs, write
//! their rows of cases.csv and tally; the batch's rows are written in input
//! order and the tallies merged. Memory holds one batch, whatever the input.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use drg_core::diff::{case_weight, DrgWeights, Grouping, PackDiff};
use drg_core::{Case, GroupResult, Grouper};

use super::Outcome;
use crate::args::{PackChoice, PackDiffArgs};

/// Rows per batch and thread.
const ROWS_PER_THREAD: usize = 4096;

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
    let options = super::columns::read_options(&args.read)?;
    let mut cases = match drg_core::read::open_cases(&args.cases, &options).map_err(|e| format!("{}: {e}", args.cases))? {
        drg_core::read::CaseSource::Records(records) => records,
        drg_core::read::CaseSource::Json(_) => return Err(format!("{}: pack diff reads a CSV or an .xlsx workbook, not JSON", args.cases)),
    };
    let layout = cases.layout().clone();
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);

    let mut out = create("cases.csv")?;
    let mut header = String::from("id,hospital,old_status,old_mdc,old_adrg,old_drg,new_status,new_mdc,new_adrg,new_drg,changed,mdc_changed");
    if weighted {
        header.push_str(",old_weight,new_weight");
    }
    header.push_str(",reason\n");
    out.write_all(header.as_bytes()).map_err(|e| e.to_string())?;

    let mut diff = PackDiff::new();
    let mut batch: Vec<csv::ByteRecord> = Vec::new();
    let mut bad_rows = 0u64;
    loop {
        let mut n = 0;
        while n < ROWS_PER_THREAD * threads {
            if batch.len() == n {
                batch.push(csv::ByteRecord::new());
            }
            if !cases.read_record(&mut batch[n]).map_err(|e| format!("{}: {e}", args.cases))? {
                break;
            }
            n += 1;
        }
        if n == 0 {
            break;
        }
        let shares: Vec<&[csv::ByteRecord]> = batch[..n].chunks(n.div_ceil(threads)).collect();
        let done = drg_core::parallel::par_map(&shares, threads, |&share| {
            let mut part = PackDiff::new();
            let mut rows = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::with_capacity(share.len() * 96));
            let mut case = Case::default();
            let mut extra = Vec::new();
            let mut bad = Vec::new();
            for record in share {
                let parsed = layout.parse_into(record, &mut case, &mut extra);
                let (id, hospital, reason, r_old, r_new) = match &parsed {
                    Ok(()) => (case.id.as_str(), case.hospital.as_deref().unwrap_or(""), "", old.group(&case), new.group(&case)),
                    Err(e) => {
                        bad.push(e.reason.clone());
                        let invalid = || GroupResult::invalid(e.reason.clone());
                        (e.id.as_str(), "", e.reason.as_str(), invalid(), invalid())
                    }
                };
                let (g_old, g_new) = (Grouping::from(&r_old), Grouping::from(&r_new));
                let (w_old, w_new) = (case_weight(weights_old.as_ref(), &g_old), case_weight(weights_new.as_ref(), &g_new));
                let change = part.add(hospital, &g_old, &g_new, w_old, w_new);
                // Borrowed fields: no allocation per row but the weights' text.
                fn s(x: Option<&str>) -> &str {
                    x.unwrap_or("")
                }
                let b = |x: bool| if x { "true" } else { "false" };
                let weight_text = |w: Option<f64>| w.map(|w| w.to_string()).unwrap_or_default();
                let weights = if weighted { [weight_text(w_old), weight_text(w_new)] } else { Default::default() };
                let fields = [
                    id,
                    hospital,
                    g_old.status.as_str(),
                    s(g_old.mdc),
                    s(g_old.adrg),
                    s(g_old.drg),
                    g_new.status.as_str(),
                    s(g_new.mdc),
                    s(g_new.adrg),
                    s(g_new.drg),
                    b(change.group_changed),
                    b(change.mdc_changed),
                ];
                let row = fields.into_iter().chain(weights.iter().take(if weighted { 2 } else { 0 }).map(String::as_str)).chain([reason]);
                rows.write_record(row).expect("writing to memory");
            }
            (rows.into_inner().expect("writing to memory"), part, bad)
        });
        for (bytes, part, bad) in done {
            out.write_all(&bytes).map_err(|e| format!("cases.csv: {e}"))?;
            diff.merge(part);
            for message in bad {
                bad_rows += 1;
                if bad_rows <= 20 && !args.quiet {
                    eprintln!("drg pack diff: {}: {message}", args.cases);
                }
            }
        }
    }
    out.flush().map_err(|e| format!("cases.csv: {e}"))?;

    let mut t = create("transitions.csv")?;
    let w = |t: &mut BufWriter<File>, line: String| t.write_all(line.as_bytes()).map_err(|e| format!("transitions.csv: {e}"));
    w(&mut t, "old,new,cases,share_of_old,share_of_all\n".into())?;
    for row in diff.transitions() {
        w(&mut t, format!("{},{},{},{:.6},{:.6}\n", row.old, row.new, row.cases, row.share_of_old, row.share_of_all))?;
    }
    t.flush().map_err(|e| format!("transitions.csv: {e}"))?;
    if weighted {
        let mut h = csv::Writer::from_writer(create("hospitals.csv")?);
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
    }

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
    Ok(ExitCode::SUCCESS)
}

fn read_weights(path: &Path) -> Result<DrgWeights, String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let weights = drg_core::points::read_weights_csv(file).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(weights.drgs.into_iter().map(|(drg, w)| (drg, w.weight)).collect())
}
