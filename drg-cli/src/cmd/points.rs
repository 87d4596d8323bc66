//! `drg points`: calibration, scoring and settlement from CSV files.
//!
//! This module only reads and writes files; every rule is in
//! `drg_core::points`.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use drg_core::case::{parse_number, Field};
use drg_core::columns::{hospital_level_code, lenient_number, ColumnPlan, Understood};
use drg_core::io::CsvLayout;
use drg_core::points::{self, CaseScore, PointsCase, Policy, Skip, Weights};
use drg_core::{Grouper, Status};

use super::{load_pack, Outcome};
use crate::args::{PackChoice, PointsCommand, PolicyArg, WeightsSource};

/// Cases of a history or period file, with the line of each.
pub struct PointsInput {
    pub cases: Vec<PointsCase>,
    pub lines: Vec<u64>,
    /// How many rows were grouped with the pack (no status/drg given).
    pub grouped_here: u64,
}

/// Reads a case CSV for point calculation. Rows with `status` and `drg` are
/// taken as grouped; other rows are grouped with the pack `grouper` gives.
/// Rows that cannot be used are reported on standard error and left out.
pub fn read_cases(path: &Path, grouper: &mut dyn FnMut() -> Result<Grouper, String>) -> Result<PointsInput, String> {
    let shown = path.display().to_string();
    let file = File::open(path).map_err(|e| format!("{shown}: {e}"))?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(BufReader::with_capacity(1 << 20, file));
    let header = reader.byte_headers().map_err(|e| format!("{shown}: {e}"))?.clone();
    let names: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let n = String::from_utf8_lossy(n);
            let n = if i == 0 { n.trim_start_matches('\u{feff}').to_string() } else { n.to_string() };
            n.trim().to_string()
        })
        .collect();
    // Headers are understood as every reader understands them (aliases such
    // as 病案号 and 住院总费用, specs/columns.md); result columns by name.
    let plan = ColumnPlan::from_headers(&names, None).map_err(|e| format!("{shown}: {e}"))?;
    let col = |name: &str| {
        plan.columns
            .iter()
            .position(|c| matches!(&c.understood, Understood::Field { target, .. } if target.name() == name))
            .or_else(|| names.iter().position(|n| n == name))
    };
    let (c_id, c_hospital, c_cost) = match (col("id"), col("hospital"), col("total_cost")) {
        (Some(a), Some(b), Some(c)) => (a, b, c),
        _ => return Err(format!("{shown}: needs the columns id, hospital and total_cost (it has: {})", names.join(", "))),
    };
    let (c_level, c_self_pay) = (col("hospital_level"), col("self_pay"));
    let result_columns = col("status").zip(col("drg"));
    let layout = CsvLayout::from_header(&header).ok();
    if result_columns.is_none() && layout.is_none() {
        return Err(format!(
            "{shown}: needs status and drg columns (grouped cases), or the case columns id, sex, age_years and diagnoses to group them"
        ));
    }
    let mut group_with: Option<Grouper> = None;
    let mut input = PointsInput { cases: Vec::new(), lines: Vec::new(), grouped_here: 0 };
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).map_err(|e| format!("{shown}: {e}"))? {
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != names.len() {
            eprintln!("{shown} line {line}: expected {} fields, found {}; row left out", names.len(), record.len());
            continue;
        }
        let text = |i: usize| String::from_utf8_lossy(&record[i]).trim().to_string();
        let number = |i: Option<usize>, field: Field| -> Option<f64> {
            let i = i?;
            let raw = text(i);
            match parse_number(&raw).or_else(|e| lenient_number(field, &raw).map(Some).ok_or(e)) {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("{shown} line {line}: {}: {e}; taken as missing", field.name());
                    None
                }
            }
        };
        let given_status = result_columns.map(|(s, _)| text(s)).filter(|s| !s.is_empty());
        let drg = match given_status {
            Some(status) => result_columns.map(|(_, d)| text(d)).filter(|d| status == "grouped" && !d.is_empty()),
            None => {
                let Some(layout) = layout.as_ref() else {
                    eprintln!("{shown} line {line}: no status, and no case columns to group it with; taken as not grouped");
                    input.cases.push(PointsCase { id: text(c_id), hospital: text(c_hospital), ..Default::default() });
                    input.lines.push(line);
                    continue;
                };
                if group_with.is_none() {
                    group_with = Some(grouper()?);
                }
                input.grouped_here += 1;
                let row = layout.parse(&record);
                let grouper = group_with.as_ref().expect("just set");
                row.case.ok().and_then(|case| {
                    let r = grouper.group(&case);
                    (r.status == Status::Grouped).then(|| r.drg.unwrap_or_default().to_string())
                })
            }
        };
        input.cases.push(PointsCase {
            id: text(c_id),
            hospital: text(c_hospital),
            hospital_level: c_level
                .map(text)
                .filter(|l| !l.is_empty())
                .map(|l| hospital_level_code(&l).map_or(l, str::to_string)),
            drg,
            total_cost: number(Some(c_cost), Field::TotalCost),
            self_pay: number(c_self_pay, Field::SelfPay),
        });
        input.lines.push(line);
    }
    Ok(input)
}

/// Calibrates from a history file, reporting the rows left out by line.
pub fn calibrate(policy: &Policy, history: &Path, input: &PointsInput) -> Result<Weights, String> {
    let calibration = points::calibrate(policy, &input.cases).map_err(|e| format!("{}: {e}", history.display()))?;
    let mut not_grouped = 0;
    for (i, skip) in &calibration.skipped {
        match skip {
            Skip::NotGrouped => not_grouped += 1,
            other => eprintln!("{} line {}: {other}; left out of calibration", history.display(), input.lines[*i]),
        }
    }
    eprintln!(
        "drg points: history {}: {} cases, {} used, {} not grouped (ignored), {} DRGs priced, overall average {}",
        history.display(),
        input.cases.len(),
        calibration.weights.overall.n,
        not_grouped,
        calibration.weights.drgs.len(),
        points::fixed(calibration.weights.overall_avg(), 2)
    );
    Ok(calibration.weights)
}

/// Scores every case of a period; a case that cannot be scored is reported
/// by line and left out (of the case points and of settlement).
pub fn score_all(policy: &Policy, weights: &Weights, period: &Path, input: PointsInput) -> Vec<(PointsCase, CaseScore)> {
    let mut scored = Vec::with_capacity(input.cases.len());
    for (case, line) in input.cases.into_iter().zip(input.lines) {
        match points::score(policy, weights, &case) {
            Ok(s) => scored.push((case, s)),
            Err(skip) => eprintln!("{} line {line}: {skip}; not scored, left out of settlement", period.display()),
        }
    }
    scored
}

pub fn read_weights(path: &Path) -> Result<Weights, String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    points::read_weights_csv(BufReader::new(file)).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes `text` to `path`, or to standard output without one.
pub fn write_or_print(path: Option<&PathBuf>, text: &str) -> Result<(), String> {
    match path {
        Some(p) => write(p, text),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

fn load_policy(arg: &PolicyArg) -> Result<points::Policy, String> {
    points::Policy::load(&arg.policy).map_err(|e| e.to_string())
}

/// The weights from a history file (calibrated here) or a weights table.
fn weights_from(
    policy: &points::Policy,
    source: &WeightsSource,
    grouper: &mut dyn FnMut() -> Result<Grouper, String>,
) -> Result<points::Weights, String> {
    match (&source.history, &source.weights) {
        (Some(history), _) => {
            let input = read_cases(history, grouper)?;
            calibrate(policy, history, &input)
        }
        (None, Some(weights)) => read_weights(weights),
        (None, None) => Err("give --history or --weights".into()),
    }
}

fn settle_into(policy: &points::Policy, scored: &[Scored], out_dir: &Path) -> Result<(), String> {
    let settlement = points::settle(policy, scored).map_err(|e| e.to_string())?;
    write(&out_dir.join("settlement.csv"), &points::settlement_csv(&settlement))?;
    write(&out_dir.join("period.csv"), &points::period_csv(&settlement))?;
    let p = &settlement.period;
    eprintln!(
        "drg points: {} cases, {} points, pool {} yuan, point value {} yuan/point, {} hospitals",
        scored.len(),
        points::fixed(p.points, 4),
        points::fixed(p.pool, 2),
        points::fixed(p.point_value, 6),
        settlement.hospitals.len()
    );
    Ok(())
}

/// The policy, the weights (from history or a table) and the period's cases
/// scored with them: what `run`, `score` and `settle` share.
fn score_period(
    policy: &PolicyArg,
    weights: &WeightsSource,
    period: &Path,
    pack: PackChoice,
) -> Result<(points::Policy, points::Weights, Vec<Scored>), String> {
    let policy = load_policy(policy)?;
    let mut grouper = lazy_grouper(pack);
    let weights = weights_from(&policy, weights, &mut grouper)?;
    let input = read_cases(period, &mut grouper)?;
    let scored = score_all(&policy, &weights, period, input);
    Ok((policy, weights, scored))
}

type Scored = (points::PointsCase, points::CaseScore);

fn create_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))
}

/// `drg points`.
pub fn command(command: PointsCommand) -> Outcome {
    use points::{case_points_csv, weights_csv};
    match command {
        PointsCommand::Run { policy, history, period, out_dir, pack } => {
            let source = WeightsSource { history: Some(history), weights: None };
            let (policy, weights, scored) = score_period(&policy, &source, &period, pack)?;
            create_dir(&out_dir)?;
            write(&out_dir.join("weights.csv"), &weights_csv(&weights))?;
            write(&out_dir.join("case_points.csv"), &case_points_csv(&scored))?;
            settle_into(&policy, &scored, &out_dir)?;
        }
        PointsCommand::Calibrate { policy, history, output, pack } => {
            let policy = load_policy(&policy)?;
            let source = WeightsSource { history: Some(history), weights: None };
            let weights = weights_from(&policy, &source, &mut lazy_grouper(pack))?;
            write_or_print(output.as_ref(), &weights_csv(&weights))?;
        }
        PointsCommand::Score { policy, weights, period, output, pack } => {
            let (_, _, scored) = score_period(&policy, &weights, &period, pack)?;
            write_or_print(output.as_ref(), &case_points_csv(&scored))?;
        }
        PointsCommand::Settle { policy, weights, period, out_dir, pack } => {
            let (policy, _, scored) = score_period(&policy, &weights, &period, pack)?;
            create_dir(&out_dir)?;
            settle_into(&policy, &scored, &out_dir)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The pack is loaded only when a file has rows to group.
fn lazy_grouper(choice: PackChoice) -> impl FnMut() -> Result<Grouper, String> {
    move || Ok(Grouper::new(Arc::new(load_pack(&choice)?)))
}
