//! `drg points`: calibration, scoring and settlement from CSV files.
//!
//! This module only reads and writes files; every rule is in
//! `drg_core::points`.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use drg_core::case::{parse_number, parse_whole, Field};
use drg_core::columns::{hospital_level_code, lenient_number, ColumnPlan, Understood};
use drg_core::io::{csv_reader, CsvLayout, CsvLimits, GuardedCsv};
use drg_core::points::{self, CaseScore, PointsCase, Policy, Skip, Weights};
use drg_core::{Grouper, Status};

use super::{load_pack, refuse_overwriting_inputs, Outcome};
use crate::args::{PackChoice, PointsCommand, PolicyArg, WeightsSource};

/// Cases of a history or period file, with the line of each.
pub struct PointsInput {
    pub cases: Vec<PointsCase>,
    pub lines: Vec<u64>,
    /// How many rows were grouped with the pack (no status/drg given).
    pub grouped_here: u64,
}

/// One row of a case file as point calculation reads it: the case, and what
/// decides whether it is per-diem (specs/perdiem.md §1) and its month.
#[derive(Default)]
pub struct CaseRow {
    pub case: PointsCase,
    pub line: u64,
    pub invalid: bool,
    pub los_days: Option<i64>,
    pub dept: String,
    pub diagnoses: String,
    /// The discharge month, when the file has a discharge_date column.
    pub month: Option<points::Month>,
}

impl CaseRow {
    /// The per-diem stay of this row under `policy`.
    pub fn stay(&self, policy: &Policy) -> Option<points::PerDiemStay> {
        policy.perdiem.as_ref()?;
        policy.perdiem_stay(&points::CareFacts {
            invalid: self.invalid,
            los_days: self.los_days,
            dept: Some(&self.dept),
            diagnoses: Some(&self.diagnoses),
        })
    }
}

/// Reads a case CSV for point calculation row by row. When the file has a
/// `status` column, `status` and `drg` are used as given (an empty status is
/// a case that was not grouped); a file without one is grouped with the pack
/// `grouper` gives. Rows that cannot be used are reported on standard error
/// and left out; a bad discharge date refuses the file.
pub struct CaseReader {
    shown: String,
    reader: csv::Reader<GuardedCsv<BufReader<File>>>,
    width: usize,
    c_id: usize,
    c_hospital: usize,
    c_cost: usize,
    c_level: Option<usize>,
    c_self_pay: Option<usize>,
    c_los: Option<usize>,
    c_dept: Option<usize>,
    c_diagnoses: Option<usize>,
    c_date: Option<usize>,
    result_columns: Option<(usize, usize)>,
    layout: Option<CsvLayout>,
    group_with: Option<Grouper>,
    record: csv::ByteRecord,
    /// How many rows were grouped with the pack.
    pub grouped_here: u64,
}

fn field_text(record: &csv::ByteRecord, i: usize) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(&record[i]) {
        Ok(t) => std::borrow::Cow::Borrowed(t.trim()),
        Err(_) => std::borrow::Cow::Owned(String::from_utf8_lossy(&record[i]).trim().to_string()),
    }
}

fn set_text(slot: &mut String, text: &str) {
    slot.clear();
    slot.push_str(text);
}

/// Sets an optional text (`None` when empty), reusing the slot's memory.
fn set_option(slot: &mut Option<String>, text: Option<&str>) {
    match text.filter(|t| !t.is_empty()) {
        None => *slot = None,
        Some(t) => match slot {
            Some(s) => set_text(s, t),
            None => *slot = Some(t.to_string()),
        },
    }
}

impl CaseReader {
    pub fn open(path: &Path) -> Result<CaseReader, String> {
        let shown = path.display().to_string();
        let file = File::open(path).map_err(|e| format!("{shown}: {e}"))?;
        // The reader every case file goes through: rows, headers and fields past
        // drg_core's limits, and an unterminated quote, are refused with the line.
        let mut reader = csv_reader(BufReader::with_capacity(1 << 20, file), CsvLimits::default());
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
        let result_columns = col("status").zip(col("drg"));
        let layout = CsvLayout::from_header(&header).ok();
        if result_columns.is_none() && layout.is_none() {
            return Err(format!(
                "{shown}: needs status and drg columns (grouped cases), or the case columns id, sex, age_years and diagnoses to group them"
            ));
        }
        Ok(CaseReader {
            width: names.len(),
            c_id,
            c_hospital,
            c_cost,
            c_level: col("hospital_level"),
            c_self_pay: col("self_pay"),
            c_los: col("los_days"),
            c_dept: col("dept"),
            c_diagnoses: col("diagnoses"),
            c_date: col("discharge_date"),
            result_columns,
            layout,
            group_with: None,
            record: csv::ByteRecord::new(),
            grouped_here: 0,
            shown,
            reader,
        })
    }

    /// Whether the file has a discharge_date column (the year's tables).
    pub fn has_dates(&self) -> bool {
        self.c_date.is_some()
    }

    /// Reads the next usable row into `row` (reusing its memory); `false` at
    /// the end.
    pub fn next_into(&mut self, row: &mut CaseRow, grouper: &mut dyn FnMut() -> Result<Grouper, String>) -> Result<bool, String> {
        let shown = &self.shown;
        loop {
            if !self.reader.read_byte_record(&mut self.record).map_err(|e| format!("{shown}: {e}"))? {
                return Ok(false);
            }
            let record = &self.record;
            let line = record.position().map_or(0, |p| p.line());
            if record.len() != self.width {
                eprintln!("{shown} line {line}: expected {} fields, found {}; row left out", self.width, record.len());
                continue;
            }
            let number = |i: Option<usize>, field: Field| -> Option<f64> {
                let i = i?;
                let raw = field_text(record, i);
                match parse_number(&raw).or_else(|e| lenient_number(field, &raw).map(Some).ok_or(e)) {
                    Ok(v) => v,
                    Err(e) => {
                        eprintln!("{shown} line {line}: {}: {e}; taken as missing", field.name());
                        None
                    }
                }
            };
            row.line = line;
            set_text(&mut row.case.id, &field_text(record, self.c_id));
            set_text(&mut row.case.hospital, &field_text(record, self.c_hospital));
            let level = self.c_level.map(|i| field_text(record, i));
            set_option(&mut row.case.hospital_level, level.as_deref().map(|l| hospital_level_code(l).unwrap_or(l)));
            row.case.total_cost = number(Some(self.c_cost), Field::TotalCost);
            row.case.self_pay = number(self.c_self_pay, Field::SelfPay);
            row.los_days = match self.c_los.map(|i| parse_whole(&field_text(record, i))) {
                None | Some(Ok(None)) => None,
                Some(Ok(v)) => v,
                Some(Err(e)) => {
                    eprintln!("{shown} line {line}: los_days: {e}; taken as missing");
                    None
                }
            };
            set_text(&mut row.dept, self.c_dept.map(|i| field_text(record, i)).as_deref().unwrap_or(""));
            set_text(&mut row.diagnoses, self.c_diagnoses.map(|i| field_text(record, i)).as_deref().unwrap_or(""));
            row.month = match self.c_date {
                None => None,
                Some(i) => Some(points::parse_discharge_date(&field_text(record, i)).map_err(|e| format!("{shown} line {line}: {e}"))?),
            };
            match self.result_columns {
                Some((c_status, c_drg)) => {
                    let status = field_text(record, c_status);
                    row.invalid = status == "invalid";
                    let drg = (status == "grouped").then(|| field_text(record, c_drg));
                    set_option(&mut row.case.drg, drg.as_deref());
                }
                None => {
                    let layout = self.layout.as_ref().expect("checked at open");
                    if self.group_with.is_none() {
                        self.group_with = Some(grouper()?);
                    }
                    self.grouped_here += 1;
                    let parsed = layout.parse(record);
                    let grouper = self.group_with.as_ref().expect("just set");
                    row.invalid = true;
                    row.case.drg = parsed.case.ok().and_then(|case| {
                        let r = grouper.group(&case);
                        row.invalid = r.status == Status::Invalid;
                        (r.status == Status::Grouped).then(|| r.drg.unwrap_or_default().to_string())
                    });
                }
            }
            return Ok(true);
        }
    }
}

/// Reads a case CSV for point calculation (see [`CaseReader`]). Rows that
/// cannot be used are reported on standard error and left out.
// Kept for the commands that share this reader (DIP); `drg points` streams.
#[allow(dead_code)]
pub fn read_cases(path: &Path, grouper: &mut dyn FnMut() -> Result<Grouper, String>) -> Result<PointsInput, String> {
    read_history(path, &Policy::default(), grouper).map(|(input, _)| input)
}

/// [`read_cases`] with each case's per-diem stay under `policy`.
pub fn read_history(
    path: &Path,
    policy: &Policy,
    grouper: &mut dyn FnMut() -> Result<Grouper, String>,
) -> Result<(PointsInput, Vec<Option<points::PerDiemStay>>), String> {
    let mut reader = CaseReader::open(path)?;
    let mut input = PointsInput { cases: Vec::new(), lines: Vec::new(), grouped_here: 0 };
    let mut stays = Vec::new();
    let mut row = CaseRow::default();
    while reader.next_into(&mut row, grouper)? {
        stays.push(row.stay(policy));
        input.cases.push(row.case.clone());
        input.lines.push(row.line);
    }
    input.grouped_here = reader.grouped_here;
    Ok((input, stays))
}

/// Calibrates from a history file, reporting the rows left out by line.
// Kept for the commands that share this reader (DIP); `drg points` streams.
#[allow(dead_code)]
pub fn calibrate(policy: &Policy, history: &Path, input: &PointsInput) -> Result<Weights, String> {
    calibrate_stays(policy, history, input, &[]).map(|(w, _)| w)
}

/// [`calibrate`] with per-diem care: `stays` holds each case's per-diem stay
/// (empty: no case is per-diem).
pub fn calibrate_stays(
    policy: &Policy,
    history: &Path,
    input: &PointsInput,
    stays: &[Option<points::PerDiemStay>],
) -> Result<(Weights, points::PerDiemRates), String> {
    let items = input.cases.iter().enumerate().map(|(i, c)| (c, stays.get(i).copied().flatten()));
    let (calibration, rates) = points::calibrate_stays(policy, items).map_err(|e| format!("{}: {e}", history.display()))?;
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
    if let Some(perdiem) = &policy.perdiem {
        let priced: Vec<String> =
            rates.rates.iter().map(|r| format!("{} {} points/day", r.category, points::fixed(r.bedday_points, 4))).collect();
        eprintln!(
            "drg points: per-diem: {} history cases, {} of {} categories priced ({})",
            stays.iter().flatten().count(),
            rates.rates.len(),
            perdiem.categories.len(),
            priced.join(", ")
        );
    }
    Ok((calibration.weights, rates))
}

/// Scores every case of a period; a case that cannot be scored is reported
/// by line and left out (of the case points and of settlement).
// Kept for the commands that share this reader (DIP); `drg points` streams.
#[allow(dead_code)]
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

/// Reads a per-diem table (perdiem.csv).
pub fn read_perdiem(path: &Path) -> Result<points::PerDiemRates, String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    points::read_perdiem_csv(BufReader::new(file)).map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads assessment scores (`hospital, score`); the policy must have an
/// `[assessment]` section.
pub fn read_scores(policy: &Policy, path: Option<&Path>) -> Result<points::AssessmentScores, String> {
    let Some(path) = path else { return Ok(points::AssessmentScores::default()) };
    if policy.assessment.is_none() {
        return Err(format!("--scores {}: the policy has no [assessment] section to turn scores into coefficients", path.display()));
    }
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    points::read_scores_csv(BufReader::new(file)).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes `text` to `path`, or to standard output without one.
pub fn write_or_print(path: Option<&PathBuf>, text: &str) -> Result<(), String> {
    match path {
        Some(p) => write(p, text),
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|e| super::output_error("writing the output", e))
        }
    }
}

fn load_policy(arg: &PolicyArg) -> Result<points::Policy, String> {
    points::Policy::load(&arg.policy).map_err(|e| e.to_string())
}

/// What scoring needs: the DRG weights and the per-diem bed-day points.
struct Tables {
    weights: Weights,
    rates: points::PerDiemRates,
}

/// The tables from a history file (calibrated here) or from published ones.
fn tables_from(
    policy: &points::Policy,
    source: &WeightsSource,
    perdiem: Option<&Path>,
    grouper: &mut dyn FnMut() -> Result<Grouper, String>,
) -> Result<Tables, String> {
    match (&source.history, &source.weights) {
        (Some(history), _) => {
            let (input, stays) = read_history(history, policy, grouper)?;
            let (weights, rates) = calibrate_stays(policy, history, &input, &stays)?;
            Ok(Tables { weights, rates })
        }
        (None, Some(weights)) => {
            let weights = read_weights(weights)?;
            let rates = match perdiem {
                Some(p) => read_perdiem(p)?,
                None if policy.perdiem.is_some() => {
                    return Err("the policy has per-diem categories: give their bed-day points with --perdiem PERDIEM.csv (from `drg points calibrate --perdiem-output`), or --history".into())
                }
                None => points::PerDiemRates::default(),
            };
            Ok(Tables { weights, rates })
        }
        (None, None) => Err("give --history or --weights".into()),
    }
}

/// Scores a period row by row: each scored case goes to `case_points` (when
/// given) and into the settlement's ledger; a case that cannot be scored is
/// reported by line and left out. Memory stays flat in the period's size.
fn score_period(
    policy: &Policy,
    tables: &Tables,
    period: &Path,
    grouper: &mut dyn FnMut() -> Result<Grouper, String>,
    mut case_points: Option<&mut dyn std::io::Write>,
) -> Result<(points::Ledger, bool), String> {
    let mut reader = CaseReader::open(period)?;
    let mut out = case_points.as_mut().map(|w| csv::Writer::from_writer(&mut **w));
    let write_err = |e: csv::Error| format!("case points: {e}");
    if let Some(out) = out.as_mut() {
        out.write_record(points::case_points_header()).map_err(write_err)?;
    }
    let mut ledger = points::Ledger::new();
    let mut row = CaseRow::default();
    while reader.next_into(&mut row, grouper)? {
        match points::score_stay(policy, &tables.weights, &tables.rates, &row.case, row.stay(policy)) {
            Ok(s) => {
                if let Some(out) = out.as_mut() {
                    // case_points_row's fields, without copying the texts.
                    let c = &row.case;
                    for field in [c.id.as_str(), c.hospital.as_str(), s.drg.as_deref().unwrap_or(""), s.category.as_str()] {
                        out.write_field(field).map_err(write_err)?;
                    }
                    for x in [s.base_points, s.coef, s.points] {
                        out.write_field(points::fixed(x, 4)).map_err(write_err)?;
                    }
                    out.write_record(None::<&[u8]>).map_err(write_err)?;
                }
                ledger.add(&points::SettlementItem { month: row.month, ..points::SettlementItem::of(&row.case, &s) });
            }
            Err(skip) => eprintln!("{} line {}: {skip}; not scored, left out of settlement", period.display(), row.line),
        }
    }
    if let Some(out) = out.as_mut() {
        out.flush().map_err(|e| format!("case points: {e}"))?;
    }
    Ok((ledger, reader.has_dates()))
}

fn settle_into(
    policy: &points::Policy,
    ledger: &points::Ledger,
    scores: &points::AssessmentScores,
    out_dir: &Path,
) -> Result<(), String> {
    let year = ledger.settle(policy, scores).map_err(|e| e.to_string())?;
    let settlement = &year.settlement;
    write(&out_dir.join("settlement.csv"), &points::settlement_csv(settlement))?;
    write(&out_dir.join("period.csv"), &points::period_csv(settlement))?;
    if let (Some(monthly), Some(clearing)) = (&year.monthly, &year.clearing) {
        write(&out_dir.join("monthly.csv"), &points::monthly_csv(monthly))?;
        write(&out_dir.join("clearing.csv"), &points::clearing_csv(clearing))?;
    }
    let p = &settlement.period;
    eprintln!(
        "drg points: {} cases, {} points, pool {} yuan, point value {} yuan/point, {} hospitals",
        ledger.cases(),
        points::fixed(p.points, 4),
        points::fixed(p.pool, 2),
        points::fixed(p.point_value, 6),
        settlement.hospitals.len()
    );
    Ok(())
}

fn create_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))
}

fn create_file(path: &Path) -> Result<std::io::BufWriter<File>, String> {
    File::create(path).map(|f| std::io::BufWriter::with_capacity(1 << 20, f)).map_err(|e| format!("{}: {e}", path.display()))
}

/// `drg points`.
pub fn command(command: PointsCommand) -> Outcome {
    use points::weights_csv;
    check_outputs(&command)?;
    match command {
        PointsCommand::Run { policy, history, period, out_dir, scores, pack } => {
            let policy = load_policy(&policy)?;
            let scores = read_scores(&policy, scores.as_deref())?;
            let mut grouper = lazy_grouper(pack);
            let source = WeightsSource { history: Some(history), weights: None };
            let tables = tables_from(&policy, &source, None, &mut grouper)?;
            create_dir(&out_dir)?;
            write(&out_dir.join("weights.csv"), &weights_csv(&tables.weights))?;
            if policy.perdiem.is_some() {
                write(&out_dir.join("perdiem.csv"), &points::perdiem_csv(&tables.rates))?;
            }
            let path = out_dir.join("case_points.csv");
            let mut file = create_file(&path)?;
            let (ledger, _) = score_period(&policy, &tables, &period, &mut grouper, Some(&mut file))?;
            std::io::Write::flush(&mut file).map_err(|e| format!("{}: {e}", path.display()))?;
            settle_into(&policy, &ledger, &scores, &out_dir)?;
        }
        PointsCommand::Calibrate { policy, history, output, perdiem_output, pack } => {
            let policy = load_policy(&policy)?;
            let source = WeightsSource { history: Some(history), weights: None };
            let tables = tables_from(&policy, &source, None, &mut lazy_grouper(pack))?;
            match (&perdiem_output, policy.perdiem.is_some()) {
                (Some(path), true) => write(path, &points::perdiem_csv(&tables.rates))?,
                (Some(_), false) => return Err("--perdiem-output: the policy has no [perdiem] section".into()),
                (None, true) => eprintln!("drg points: the per-diem bed-day points are not written: give --perdiem-output PERDIEM.csv"),
                (None, false) => {}
            }
            write_or_print(output.as_ref(), &weights_csv(&tables.weights))?;
        }
        PointsCommand::Score { policy, weights, perdiem, period, output, pack } => {
            let policy = load_policy(&policy)?;
            let mut grouper = lazy_grouper(pack);
            let tables = tables_from(&policy, &weights, perdiem.as_deref(), &mut grouper)?;
            match output {
                Some(path) => {
                    let mut file = create_file(&path)?;
                    score_period(&policy, &tables, &period, &mut grouper, Some(&mut file))?;
                    std::io::Write::flush(&mut file).map_err(|e| format!("{}: {e}", path.display()))?;
                }
                None => {
                    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
                    score_period(&policy, &tables, &period, &mut grouper, Some(&mut stdout))?;
                    std::io::Write::flush(&mut stdout).map_err(|e| super::output_error("writing the output", e))?;
                }
            }
        }
        PointsCommand::Settle { policy, weights, perdiem, period, out_dir, scores, pack } => {
            let policy = load_policy(&policy)?;
            let scores = read_scores(&policy, scores.as_deref())?;
            let mut grouper = lazy_grouper(pack);
            let tables = tables_from(&policy, &weights, perdiem.as_deref(), &mut grouper)?;
            let (ledger, _) = score_period(&policy, &tables, &period, &mut grouper, None)?;
            create_dir(&out_dir)?;
            settle_into(&policy, &ledger, &scores, &out_dir)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The pack is loaded only when a file has rows to group.
fn lazy_grouper(choice: PackChoice) -> impl FnMut() -> Result<Grouper, String> {
    move || Ok(Grouper::new(Arc::new(load_pack(&choice)?)))
}

/// Refuses a command whose outputs include one of its inputs (through links
/// too): the input would be lost.
fn check_outputs(command: &PointsCommand) -> Result<(), String> {
    let in_dir = |dir: &Path, files: &[&str]| -> Vec<PathBuf> { files.iter().map(|f| dir.join(f)).collect() };
    let (policy, mut inputs, outputs): (&Path, Vec<&Path>, Vec<PathBuf>) = match command {
        PointsCommand::Run { policy, history, period, out_dir, scores, .. } => (
            &policy.policy,
            [history, period].into_iter().chain(scores).map(PathBuf::as_path).collect(),
            in_dir(
                out_dir,
                &["weights.csv", "perdiem.csv", "case_points.csv", "settlement.csv", "period.csv", "monthly.csv", "clearing.csv"],
            ),
        ),
        PointsCommand::Calibrate { policy, history, output, perdiem_output, .. } => {
            (&policy.policy, vec![history.as_path()], output.iter().chain(perdiem_output).cloned().collect())
        }
        PointsCommand::Score { policy, weights, perdiem, period, output, .. } => (
            &policy.policy,
            weights.history.iter().chain(&weights.weights).chain(perdiem).chain([period]).map(PathBuf::as_path).collect(),
            output.iter().cloned().collect(),
        ),
        PointsCommand::Settle { policy, weights, perdiem, period, out_dir, scores, .. } => (
            &policy.policy,
            weights.history.iter().chain(&weights.weights).chain(perdiem).chain([period]).chain(scores).map(PathBuf::as_path).collect(),
            in_dir(out_dir, &["settlement.csv", "period.csv", "monthly.csv", "clearing.csv"]),
        ),
    };
    inputs.push(policy);
    for output in &outputs {
        refuse_overwriting_inputs(output, &inputs)?;
    }
    Ok(())
}
