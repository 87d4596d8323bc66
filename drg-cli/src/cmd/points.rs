//! `drg points`: calibration, scoring and settlement from case files.
//!
//! This module only reads and writes files; every rule is in
//! `drg_core::points`. Case files are read through `drg_core::read` (CSV,
//! GBK, .xlsx, HIS column names, `--columns`) in batches scored on every
//! core (`super::pipeline`).

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use drg_core::case::{parse_number, parse_whole, Field};
use drg_core::columns::{hospital_level_code, lenient_number};
use drg_core::io::{CsvLayout, Record};
use drg_core::points::{self, CaseScore, PointsCase, Policy, Skip, Weights};
use drg_core::read::{cell_text, RecordSource};
use drg_core::{Grouper, Status};

use super::pipeline::{CaseInput, Chunk};
use super::{load_pack, refuse_overwriting_inputs, Outcome};
use crate::args::{CaseFileArgs, PackChoice, PointsCommand, PolicyArg, WeightsSource};

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

/// Where the columns point calculation reads are in a case file, found as
/// every reader finds them (aliases such as 病案号 and 住院总费用, a mapping
/// file; specs/columns.md); `status` and `drg` by name.
#[derive(Clone)]
struct PointsColumns {
    width: usize,
    id: usize,
    hospital: usize,
    cost: usize,
    level: Option<usize>,
    self_pay: Option<usize>,
    los: Option<usize>,
    dept: Option<usize>,
    /// The diagnoses: one `diagnoses` column, or wide columns in order.
    diagnoses: Vec<usize>,
    date: Option<usize>,
    results: Option<(usize, usize)>,
}

impl PointsColumns {
    fn of(source: &RecordSource, shown: &str) -> Result<PointsColumns, String> {
        let col = |name: &str| source.column(name);
        let (id, hospital, cost) = match (col("id"), col("hospital"), col("total_cost")) {
            (Some(a), Some(b), Some(c)) => (a, b, c),
            _ => {
                let names: Vec<&str> = source.layout().plan().columns.iter().map(|c| c.header.as_str()).collect();
                return Err(format!("{shown}: needs the columns id, hospital and total_cost (it has: {})", names.join(", ")));
            }
        };
        let results = col("status").zip(col("drg"));
        if results.is_none() && !source.has_case_columns() {
            return Err(format!(
                "{shown}: needs status and drg columns (grouped cases), or the case columns id, sex, age_years and diagnoses to group them"
            ));
        }
        Ok(PointsColumns {
            width: source.width(),
            id,
            hospital,
            cost,
            level: col("hospital_level"),
            self_pay: col("self_pay"),
            los: col("los_days"),
            dept: col("dept"),
            diagnoses: source.diagnosis_columns(),
            date: col("discharge_date"),
            results,
        })
    }

    /// Reads `record` into `row` (reusing its memory). A value that cannot
    /// be read is noted in `notes` and taken as missing; a row of the wrong
    /// length is noted and left out (`Ok(false)`); a bad discharge date
    /// refuses the file.
    fn read(&self, record: &Record, group: Option<(&CsvLayout, &Grouper)>, row: &mut CaseRow, notes: &mut Vec<String>) -> Result<bool, String> {
        let line = record.line();
        row.line = line;
        if record.len() != self.width {
            notes.push(format!("line {line}: expected {} fields, found {}; row left out", self.width, record.len()));
            return Ok(false);
        }
        let text = |i: usize| cell_text(&record[i]);
        let mut number = |i: Option<usize>, field: Field| -> Option<f64> {
            let raw = text(i?);
            match parse_number(&raw).or_else(|e| lenient_number(field, &raw).map(Some).ok_or(e)) {
                Ok(v) => v,
                Err(e) => {
                    notes.push(format!("line {line}: {}: {e}; taken as missing", field.name()));
                    None
                }
            }
        };
        row.case.total_cost = number(Some(self.cost), Field::TotalCost);
        row.case.self_pay = number(self.self_pay, Field::SelfPay);
        row.los_days = match self.los.map(|i| lenient_whole(Field::LosDays, &text(i))) {
            None | Some(Ok(None)) => None,
            Some(Ok(v)) => v,
            Some(Err(e)) => {
                notes.push(format!("line {line}: los_days: {e}; taken as missing"));
                None
            }
        };
        set_text(&mut row.case.id, &text(self.id));
        set_text(&mut row.case.hospital, &text(self.hospital));
        let level = self.level.map(text);
        set_option(&mut row.case.hospital_level, level.as_deref().map(|l| hospital_level_code(l).unwrap_or(l)));
        set_text(&mut row.dept, self.dept.map(text).as_deref().unwrap_or(""));
        row.diagnoses.clear();
        for &i in &self.diagnoses {
            let t = text(i);
            if !t.is_empty() {
                if !row.diagnoses.is_empty() {
                    row.diagnoses.push('|');
                }
                row.diagnoses.push_str(&t);
            }
        }
        row.month = match self.date {
            None => None,
            Some(i) => Some(points::parse_discharge_date(&text(i)).map_err(|e| format!("line {line}: {e}"))?),
        };
        match (self.results, group) {
            (Some((c_status, c_drg)), _) => {
                let status = text(c_status);
                row.invalid = status == "invalid";
                let drg = (status == "grouped").then(|| text(c_drg));
                set_option(&mut row.case.drg, drg.as_deref());
            }
            (None, Some((layout, grouper))) => {
                let parsed = layout.parse(record);
                row.invalid = true;
                row.case.drg = parsed.case.ok().and_then(|case| {
                    let r = grouper.group(&case);
                    row.invalid = r.status == Status::Invalid;
                    (r.status == Status::Grouped).then(|| r.drg.unwrap_or_default().to_string())
                });
            }
            (None, None) => unreachable!("a file without results is grouped"),
        }
        Ok(true)
    }
}

/// A whole number as exports write it (`12`, `12天`).
fn lenient_whole(field: Field, text: &str) -> Result<Option<i64>, String> {
    match parse_whole(text) {
        Ok(v) => Ok(v),
        Err(e) => match lenient_number(field, text) {
            Some(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => Ok(Some(v as i64)),
            _ => Err(e),
        },
    }
}

/// A case file for point calculation: read in batches on every core
/// (`super::pipeline`), its columns found once.
pub struct CaseReader {
    input: CaseInput,
    columns: PointsColumns,
    /// The pack's grouper, for a file without results.
    grouper: Option<Grouper>,
}

impl CaseReader {
    /// Opens a case file (CSV, GBK, .xlsx). When the file has `status` and
    /// `drg` columns they are used as given (an empty status is a case that
    /// was not grouped); a file without them is grouped with the pack
    /// `grouper` gives.
    pub fn open(path: &Path, options: &CaseFileArgs, grouper: &mut dyn FnMut() -> Result<Grouper, String>) -> Result<CaseReader, String> {
        let shown = path.display().to_string();
        let input = CaseInput::open_records(&shown, options)?;
        let source = input.records().expect("opened as records");
        let columns = PointsColumns::of(source, &shown)?;
        let grouper = if columns.results.is_none() { Some(grouper()?) } else { None };
        Ok(CaseReader { input, columns, grouper })
    }

    /// Whether the file has a discharge_date column (the year's tables).
    pub fn has_dates(&self) -> bool {
        self.columns.date.is_some()
    }

    /// How many rows were grouped with the pack.
    pub fn grouped_here(&self) -> u64 {
        if self.grouper.is_some() { self.input.read } else { 0 }
    }

    /// Reads every row: `each` folds a chunk's usable rows into an `A` on
    /// every core (a chunk at a time, its row's memory reused); `sink`
    /// takes the `A`s in input order. The notes of unreadable values are
    /// printed by line, in order.
    fn process<A: Default + Send>(
        &mut self,
        each: impl Fn(&mut A, &CaseRow) + Sync,
        mut sink: impl FnMut(A) -> Result<(), String> + Send,
    ) -> Result<(), String> {
        let shown = self.input.name.clone();
        let columns = &self.columns;
        let grouper = self.grouper.as_ref();
        self.input.process(
            |chunk| -> Result<(Vec<String>, A), String> {
                let group = match (chunk, grouper) {
                    (Chunk::Records(_, layout), Some(g)) => Some((*layout, g)),
                    _ => None,
                };
                let (mut notes, mut acc, mut row) = (Vec::new(), A::default(), CaseRow::default());
                for record in chunk.records() {
                    if columns.read(record, group, &mut row, &mut notes)? {
                        each(&mut acc, &row);
                    }
                }
                Ok((notes, acc))
            },
            |done| {
                let (notes, acc) = done.map_err(|e| format!("{shown} {e}"))?;
                for note in notes {
                    eprintln!("{shown} {note}");
                }
                sink(acc)
            },
        )
    }
}

/// The cases of a history file with each one's per-diem stay under
/// `policy`; rows that cannot be used are reported on standard error and
/// left out.
pub fn read_history(
    path: &Path,
    policy: &Policy,
    options: &CaseFileArgs,
    grouper: &mut dyn FnMut() -> Result<Grouper, String>,
) -> Result<(PointsInput, Vec<Option<points::PerDiemStay>>), String> {
    let mut reader = CaseReader::open(path, options, grouper)?;
    let mut input = PointsInput { cases: Vec::new(), lines: Vec::new(), grouped_here: 0 };
    let mut stays = Vec::new();
    type Rows = Vec<(PointsCase, u64, Option<points::PerDiemStay>)>;
    reader.process(
        |rows: &mut Rows, row| rows.push((row.case.clone(), row.line, row.stay(policy))),
        |rows| {
            for (case, line, stay) in rows {
                input.cases.push(case);
                input.lines.push(line);
                stays.push(stay);
            }
            Ok(())
        },
    )?;
    input.grouped_here = reader.grouped_here();
    Ok((input, stays))
}

/// Calibrates from a history file with per-diem care, reporting the rows
/// left out by line: `stays` holds each case's per-diem stay (empty: no
/// case is per-diem).
pub fn calibrate_stays(
    policy: &Policy,
    history: &Path,
    input: &PointsInput,
    stays: &[Option<points::PerDiemStay>],
    quiet: bool,
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
    if quiet {
        return Ok((calibration.weights, rates));
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
    options: &CaseFileArgs,
    grouper: &mut dyn FnMut() -> Result<Grouper, String>,
) -> Result<Tables, String> {
    match (&source.history, &source.weights) {
        (Some(history), _) => {
            let (input, stays) = read_history(history, policy, options, grouper)?;
            let (weights, rates) = calibrate_stays(policy, history, &input, &stays, options.quiet)?;
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

/// What one chunk of a period gives: its rows of case_points.csv, the
/// settlement items of its scored cases, and why the others were not scored.
#[derive(Default)]
struct ScoredChunk {
    case_points: Option<csv::Writer<Vec<u8>>>,
    /// (hospital, points, total_cost, self_pay, month) of each scored case.
    items: Vec<(String, f64, f64, f64, Option<points::Month>)>,
    not_scored: Vec<String>,
}

/// Appends a row of case_points.csv (the fields of `case_points_row`,
/// without copying the texts).
fn case_points_row(out: &mut Option<csv::Writer<Vec<u8>>>, case: &PointsCase, s: &CaseScore) {
    let w = out.get_or_insert_with(|| csv::Writer::from_writer(Vec::with_capacity(super::pipeline::CHUNK_ROWS * 64)));
    for field in [case.id.as_str(), case.hospital.as_str(), s.drg.as_deref().unwrap_or(""), s.category.as_str()] {
        w.write_field(field).expect("write to memory");
    }
    for x in [s.base_points, s.coef, s.points] {
        w.write_field(points::fixed(x, 4)).expect("write to memory");
    }
    w.write_record(None::<&[u8]>).expect("write to memory");
}

/// Scores a period in chunks on every core: each scored case goes to
/// `case_points` (when given) and into the settlement's ledger, in input
/// order; a case that cannot be scored is reported by line and left out.
/// Memory stays flat in the period's size.
fn score_period(
    policy: &Policy,
    tables: &Tables,
    period: &Path,
    options: &CaseFileArgs,
    grouper: &mut dyn FnMut() -> Result<Grouper, String>,
    case_points: Option<&mut (dyn std::io::Write + Send)>,
) -> Result<(points::Ledger, bool), String> {
    let mut reader = CaseReader::open(period, options, grouper)?;
    let write_err = |e: std::io::Error| format!("case points: {e}");
    let mut out = case_points;
    if let Some(out) = out.as_mut() {
        let mut header = csv::Writer::from_writer(Vec::new());
        header.write_record(points::case_points_header()).expect("write to memory");
        out.write_all(&header.into_inner().expect("write to memory")).map_err(write_err)?;
    }
    let write_rows = out.is_some();
    let shown = period.display().to_string();
    let mut ledger = points::Ledger::new();
    reader.process(
        |chunk: &mut ScoredChunk, row| match points::score_stay(policy, &tables.weights, &tables.rates, &row.case, row.stay(policy)) {
            Ok(s) => {
                if write_rows {
                    case_points_row(&mut chunk.case_points, &row.case, &s);
                }
                let item = points::SettlementItem::of(&row.case, &s);
                chunk.items.push((row.case.hospital.clone(), item.points, item.total_cost, item.self_pay, row.month));
            }
            Err(skip) => chunk.not_scored.push(format!("{shown} line {}: {skip}; not scored, left out of settlement", row.line)),
        },
        |chunk| {
            for message in &chunk.not_scored {
                eprintln!("{message}");
            }
            for (hospital, points, total_cost, self_pay, month) in &chunk.items {
                ledger.add(&points::SettlementItem { hospital, points: *points, total_cost: *total_cost, self_pay: *self_pay, month: *month });
            }
            match (out.as_mut(), chunk.case_points) {
                (Some(out), Some(rows)) => out.write_all(&rows.into_inner().expect("write to memory")).map_err(write_err),
                _ => Ok(()),
            }
        },
    )?;
    if let Some(out) = out.as_mut() {
        out.flush().map_err(write_err)?;
    }
    Ok((ledger, reader.has_dates()))
}

fn settle_into(
    policy: &points::Policy,
    ledger: &points::Ledger,
    scores: &points::AssessmentScores,
    out_dir: &Path,
    quiet: bool,
) -> Result<(), String> {
    let year = ledger.settle(policy, scores).map_err(|e| e.to_string())?;
    let settlement = &year.settlement;
    write(&out_dir.join("settlement.csv"), &points::settlement_csv(settlement))?;
    write(&out_dir.join("period.csv"), &points::period_csv(settlement))?;
    if let (Some(monthly), Some(clearing)) = (&year.monthly, &year.clearing) {
        write(&out_dir.join("monthly.csv"), &points::monthly_csv(monthly))?;
        write(&out_dir.join("clearing.csv"), &points::clearing_csv(clearing))?;
    }
    if quiet {
        return Ok(());
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
        PointsCommand::Run { policy, history, period, out_dir, scores, pack, input } => {
            let policy = load_policy(&policy)?;
            let scores = read_scores(&policy, scores.as_deref())?;
            let mut grouper = lazy_grouper(pack);
            let source = WeightsSource { history: Some(history), weights: None };
            let tables = tables_from(&policy, &source, None, &input, &mut grouper)?;
            create_dir(&out_dir)?;
            write(&out_dir.join("weights.csv"), &weights_csv(&tables.weights))?;
            if policy.perdiem.is_some() {
                write(&out_dir.join("perdiem.csv"), &points::perdiem_csv(&tables.rates))?;
            }
            let path = out_dir.join("case_points.csv");
            let mut file = create_file(&path)?;
            let (ledger, _) = score_period(&policy, &tables, &period, &input, &mut grouper, Some(&mut file))?;
            std::io::Write::flush(&mut file).map_err(|e| format!("{}: {e}", path.display()))?;
            settle_into(&policy, &ledger, &scores, &out_dir, input.quiet)?;
        }
        PointsCommand::Calibrate { policy, history, output, perdiem_output, pack, input } => {
            let policy = load_policy(&policy)?;
            let source = WeightsSource { history: Some(history), weights: None };
            let tables = tables_from(&policy, &source, None, &input, &mut lazy_grouper(pack))?;
            match (&perdiem_output, policy.perdiem.is_some()) {
                (Some(path), true) => write(path, &points::perdiem_csv(&tables.rates))?,
                (Some(_), false) => return Err("--perdiem-output: the policy has no [perdiem] section".into()),
                (None, true) => eprintln!("drg points: the per-diem bed-day points are not written: give --perdiem-output PERDIEM.csv"),
                (None, false) => {}
            }
            write_or_print(output.as_ref(), &weights_csv(&tables.weights))?;
        }
        PointsCommand::Score { policy, weights, perdiem, period, output, pack, input } => {
            let policy = load_policy(&policy)?;
            let mut grouper = lazy_grouper(pack);
            let tables = tables_from(&policy, &weights, perdiem.as_deref(), &input, &mut grouper)?;
            match output {
                Some(path) => {
                    let mut file = create_file(&path)?;
                    score_period(&policy, &tables, &period, &input, &mut grouper, Some(&mut file))?;
                    std::io::Write::flush(&mut file).map_err(|e| format!("{}: {e}", path.display()))?;
                }
                None => {
                    let mut stdout = std::io::BufWriter::new(std::io::stdout());
                    score_period(&policy, &tables, &period, &input, &mut grouper, Some(&mut stdout))?;
                    std::io::Write::flush(&mut stdout).map_err(|e| super::output_error("writing the output", e))?;
                }
            }
        }
        PointsCommand::Settle { policy, weights, perdiem, period, out_dir, scores, pack, input } => {
            let policy = load_policy(&policy)?;
            let scores = read_scores(&policy, scores.as_deref())?;
            let mut grouper = lazy_grouper(pack);
            let tables = tables_from(&policy, &weights, perdiem.as_deref(), &input, &mut grouper)?;
            let (ledger, _) = score_period(&policy, &tables, &period, &input, &mut grouper, None)?;
            create_dir(&out_dir)?;
            settle_into(&policy, &ledger, &scores, &out_dir, input.quiet)?;
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
