//! `drg dip`: the DIP catalogue, groups, case points and settlement from
//! case files (specs/dip.md).
//!
//! Files are read as `drg group` reads them (`drg_core::read`: CSV, JSONL or
//! .xlsx, GBK, HIS column names, a bad row reported and the rest going on)
//! and in batches (`super::pipeline`): each batch is grouped and scored on
//! every core, written out and forgotten, so memory does not grow with the
//! period. Every rule is in `drg_core::dip`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use drg_core::dip::{self, CaseKeys, Catalogue, CatalogueBuilder, Dip, DipGrouping, DipPolicy, DipStatus, KeyMaker};
use drg_core::points;

use super::explain::read_case_json;
use super::pipeline::{CaseInput, Chunk, CHUNK_ROWS};
use super::{load_pack, Outcome};
use crate::args::{CaseFileArgs, DipCommand, PackChoice};

fn load_policy(path: &Path) -> Result<DipPolicy, String> {
    DipPolicy::load(path).map_err(|e| e.to_string())
}

fn key_maker(pack: &PackChoice, policy: &DipPolicy) -> Result<KeyMaker, String> {
    Ok(KeyMaker::new(Arc::new(load_pack(pack)?), policy))
}

/// How the rows of a file ended, for the summary on standard error.
#[derive(Default)]
struct Summary {
    rows: u64,
    /// Rows that could not be read or are invalid (cases.md).
    invalid: u64,
    /// Codes outside the pack's vocabularies.
    unknown_codes: u64,
}

/// Builds the catalogue from a history file (dip.md §2).
fn build_catalogue(policy: &DipPolicy, keys: &KeyMaker, history: &str, options: &CaseFileArgs) -> Result<Catalogue, String> {
    let started = Instant::now();
    let mut input = CaseInput::open_cases(history, options)?;
    let mut builder = CatalogueBuilder::new(policy);
    let mut summary = Summary::default();
    let mut ignored = 0u64;
    input.process(
        |chunk| {
            let mut out: Vec<(CaseKeys, f64)> = Vec::with_capacity(CHUNK_ROWS);
            let (mut rows, mut invalid, mut unknown) = (0u64, 0u64, 0u64);
            chunk.each(|_, case| {
                rows += 1;
                let Ok(case) = case else {
                    invalid += 1;
                    return;
                };
                match keys.keys(case) {
                    Ok(k) => {
                        unknown += k.warnings.len() as u64;
                        match case.total_cost {
                            Some(c) if c > 0.0 && c.is_finite() => out.push((k, c)),
                            _ => {}
                        }
                    }
                    Err(_) => invalid += 1,
                }
            });
            (out, rows, invalid, unknown)
        },
        |(out, rows, invalid, unknown)| {
            summary.rows += rows;
            summary.invalid += invalid;
            summary.unknown_codes += unknown;
            ignored += rows - out.len() as u64;
            for (k, c) in &out {
                builder.add(k, *c);
            }
            Ok(())
        },
    )?;
    let used = builder.cases();
    let catalogue = builder.finish().map_err(|e| format!("{history}: {e}"))?;
    if !options.quiet {
        eprintln!("history: {used} used, {ignored} ignored");
        let cores = catalogue.groups.values().filter(|g| g.kind == dip::GroupKind::Core).count();
        eprintln!(
            "drg dip: catalogue: {} groups ({cores} core, {} comprehensive), overall average {} yuan; {} rows invalid, {} unknown codes; {:.2} s",
            catalogue.groups.len(),
            catalogue.groups.len() - cores,
            points::fixed(catalogue.overall.avg_cost, 2),
            summary.invalid,
            summary.unknown_codes,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(catalogue)
}

fn read_catalogue(path: &Path) -> Result<Catalogue, String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    dip::read_catalogue_csv(std::io::BufReader::new(file)).map_err(|e| format!("{}: {e}", path.display()))
}

fn create(path: &Path) -> Result<BufWriter<Box<dyn Write + Send>>, String> {
    let file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 20, Box::new(file)))
}

fn output(path: Option<&PathBuf>) -> Result<BufWriter<Box<dyn Write + Send>>, String> {
    match path {
        Some(p) => create(p),
        None => Ok(BufWriter::with_capacity(1 << 20, Box::new(std::io::stdout()))),
    }
}

fn write_all(out: &mut impl Write, bytes: &[u8], what: &str) -> Result<(), String> {
    out.write_all(bytes).map_err(|e| format!("{what}: {e}"))
}

fn header(fields: &[&str]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(fields).expect("write to memory");
    w.into_inner().expect("write to memory")
}

/// What one chunk of a period gives.
#[derive(Default)]
struct PeriodChunk {
    groups: Vec<u8>,
    case_points: Vec<u8>,
    /// (hospital, total_cost, self_pay, points) of each scored case.
    scored: Vec<(String, f64, f64, f64)>,
    /// Lines whose total_cost is missing or not above 0.
    no_cost: Vec<u64>,
    /// Why rows could not be read (they are `invalid`, without points).
    unreadable: Vec<String>,
    statuses: [u64; 4],
    unknown_codes: u64,
}

fn status_index(s: DipStatus) -> usize {
    match s {
        DipStatus::Core => 0,
        DipStatus::Comprehensive => 1,
        DipStatus::Ungrouped => 2,
        DipStatus::Invalid => 3,
    }
}

/// Groups (and with `score`, scores) one chunk of a period.
fn period_chunk(dip: &Dip, chunk: &Chunk<'_>, score: bool) -> PeriodChunk {
    let mut out = PeriodChunk::default();
    let mut groups = Vec::with_capacity(CHUNK_ROWS * 40);
    let mut points = Vec::with_capacity(if score { CHUNK_ROWS * 64 } else { 0 });
    chunk.each(|line, case| {
        let case = match case {
            Err(e) => {
                out.statuses[3] += 1;
                let g = DipGrouping::invalid(e.reason.clone());
                dip::write_groups_row(&mut groups, &e.id, &g);
                if score {
                    out.unreadable.push(e.reason.clone());
                }
                let _ = line;
                return;
            }
            Ok(case) => case,
        };
        let (g, s) = if score { dip.group_and_score(case) } else { (dip.group(case), None) };
        out.statuses[status_index(g.status)] += 1;
        out.unknown_codes += g.warnings().len() as u64;
        dip::write_groups_row(&mut groups, &case.id, &g);
        if !score {
            return;
        }
        match s {
            Some(s) => {
                let hospital = case.hospital.as_deref().unwrap_or("");
                dip::write_case_points_row(&mut points, &case.id, hospital, g.group_code(), &s);
                out.scored.push((hospital.to_string(), case.total_cost.unwrap_or(0.0), case.self_pay.unwrap_or(0.0), s.points));
            }
            None => out.no_cost.push(line),
        }
    });
    out.groups = groups;
    out.case_points = points;
    out
}

fn status_summary(statuses: &[u64; 4], unknown_codes: u64) -> String {
    format!(
        "{} core, {} comprehensive, {} ungrouped, {} invalid; {unknown_codes} codes outside the pack's vocabularies",
        statuses[0], statuses[1], statuses[2], statuses[3]
    )
}

/// `drg dip group`.
fn group(dip: &Dip, cases: &str, output_path: Option<&PathBuf>, options: &CaseFileArgs) -> Result<(), String> {
    let started = Instant::now();
    let mut input = CaseInput::open_cases(cases, options)?;
    let what = output_path.map_or("standard output".to_string(), |p| p.display().to_string());
    let mut out = output(output_path)?;
    write_all(&mut out, &header(&dip::groups_header()), &what)?;
    let (mut statuses, mut unknown) = ([0u64; 4], 0u64);
    input.process(
        |chunk| period_chunk(dip, chunk, false),
        |r| {
            for (a, b) in statuses.iter_mut().zip(r.statuses) {
                *a += b;
            }
            unknown += r.unknown_codes;
            write_all(&mut out, &r.groups, &what)
        },
    )?;
    out.flush().map_err(|e| format!("{what}: {e}"))?;
    if !options.quiet {
        let seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "drg dip group: {} cases: {}; {seconds:.2} s, {:.0} cases/s",
            input.read,
            status_summary(&statuses, unknown),
            input.read as f64 / seconds.max(1e-9)
        );
    }
    Ok(())
}

/// `drg dip run`: the period grouped, scored and settled into `out_dir`.
fn run(dip: &Dip, period: &str, out_dir: &Path, options: &CaseFileArgs) -> Result<(), String> {
    let started = Instant::now();
    let mut input = CaseInput::open_cases(period, options)?;
    let (groups_path, points_path) = (out_dir.join("groups.csv"), out_dir.join("case_points.csv"));
    let mut groups = create(&groups_path)?;
    let mut case_points = create(&points_path)?;
    let (groups_name, points_name) = (groups_path.display().to_string(), points_path.display().to_string());
    write_all(&mut groups, &header(&dip::groups_header()), &groups_name)?;
    write_all(&mut case_points, &header(&dip::case_points_header()), &points_name)?;
    let mut totals = dip::DipLedger::default();
    let (mut statuses, mut unknown, mut no_cost) = ([0u64; 4], 0u64, 0u64);
    input.process(
        |chunk| period_chunk(dip, chunk, true),
        |r| {
            for (a, b) in statuses.iter_mut().zip(r.statuses) {
                *a += b;
            }
            unknown += r.unknown_codes;
            for line in &r.no_cost {
                no_cost += 1;
                // Reported line by line, but not without end on a broken file.
                if no_cost <= 100 {
                    eprintln!("period line {line}: total_cost missing or not above 0");
                }
            }
            for reason in &r.unreadable {
                no_cost += 1;
                if no_cost <= 100 {
                    eprintln!("period {reason}; invalid, no points");
                }
            }
            for (hospital, cost, self_pay, pts) in &r.scored {
                totals.add(hospital, *cost, *self_pay, *pts);
            }
            write_all(&mut groups, &r.groups, &groups_name)?;
            write_all(&mut case_points, &r.case_points, &points_name)
        },
    )?;
    if no_cost > 100 {
        eprintln!("period: {} more rows without points (total_cost missing or not above 0, or unreadable)", no_cost - 100);
    }
    groups.flush().map_err(|e| format!("{groups_name}: {e}"))?;
    case_points.flush().map_err(|e| format!("{points_name}: {e}"))?;
    let settlement = totals.settle(&dip.policy).map_err(|e| format!("{period}: {e}"))?;
    write_file(&out_dir.join("settlement.csv"), &points::settlement_csv(&settlement))?;
    write_file(&out_dir.join("period.csv"), &points::period_csv(&settlement))?;
    if !options.quiet {
        let seconds = started.elapsed().as_secs_f64();
        let p = &settlement.period;
        eprintln!(
            "drg dip run: {} cases: {}; {} scored, {} points, pool {} yuan, point value {} yuan/point, {} hospitals; {seconds:.2} s, {:.0} cases/s",
            input.read,
            status_summary(&statuses, unknown),
            input.read - no_cost,
            points::fixed(p.points, 4),
            points::fixed(p.pool, 2),
            points::fixed(p.point_value, 6),
            settlement.hospitals.len(),
            input.read as f64 / seconds.max(1e-9)
        );
    }
    Ok(())
}

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn warn_policy(dip: &Dip, quiet: bool) {
    if !quiet {
        for w in dip.warnings() {
            eprintln!("drg dip: warning: {w}");
        }
    }
}

/// `drg dip`.
pub fn command(command: DipCommand) -> Outcome {
    match command {
        DipCommand::Build { policy, history, output: out_path, pack, input } => {
            let policy = load_policy(&policy.policy)?;
            let keys = key_maker(&pack, &policy)?;
            let catalogue = build_catalogue(&policy, &keys, &history, &input)?;
            let what = out_path.as_ref().map_or("standard output".to_string(), |p| p.display().to_string());
            let mut out = output(out_path.as_ref())?;
            write_all(&mut out, dip::catalogue_csv(&catalogue).as_bytes(), &what)?;
            out.flush().map_err(|e| format!("{what}: {e}"))?;
            warn_policy(&Dip::new(policy, keys, catalogue), input.quiet);
        }
        DipCommand::Group { policy, catalogue, output: out_path, pack, input, cases } => {
            let policy = load_policy(&policy.policy)?;
            let catalogue = read_catalogue(&catalogue)?;
            let dip = Dip::new(policy.clone(), key_maker(&pack, &policy)?, catalogue);
            warn_policy(&dip, input.quiet);
            group(&dip, &cases, out_path.as_ref(), &input)?;
        }
        DipCommand::Run { policy, source, period, out_dir, pack, input } => {
            let policy = load_policy(&policy.policy)?;
            let keys = key_maker(&pack, &policy)?;
            std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
            let catalogue = match (&source.history, &source.catalogue) {
                (Some(history), _) => {
                    let catalogue = build_catalogue(&policy, &keys, history, &input)?;
                    write_file(&out_dir.join("catalogue.csv"), &dip::catalogue_csv(&catalogue))?;
                    catalogue
                }
                (None, Some(path)) => read_catalogue(path)?,
                (None, None) => return Err("give --history or --catalogue".into()),
            };
            let dip = Dip::new(policy, keys, catalogue);
            warn_policy(&dip, input.quiet);
            run(&dip, &period, &out_dir, &input)?;
        }
        DipCommand::Explain { policy, catalogue, pack, case, json } => {
            let policy = load_policy(&policy.policy)?;
            let catalogue = read_catalogue(&catalogue)?;
            let dip = Dip::new(policy.clone(), key_maker(&pack, &policy)?, catalogue);
            let case = read_case_json(&case)?;
            let explanation = dip.explain(&case);
            if json {
                println!("{}", explanation.to_json(&case.id));
            } else {
                println!("case {}", case.id);
                for line in &explanation.lines {
                    println!("  {line}");
                }
                println!(
                    "=> {} {}",
                    explanation.status,
                    explanation.group.as_deref().unwrap_or("")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
