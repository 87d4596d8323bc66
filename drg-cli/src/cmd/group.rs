//! `drg group`: cases in, results out, streaming and in parallel.
//!
//! The reading thread splits the input into raw records and checks their
//! ids; worker threads parse, group and format whole batches (the reading
//! thread too, when each worker has enough waiting); one writer puts the
//! batches back in input order. A fixed number of batches is in flight at
//! any time, so memory does not grow with the input.

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use drg_core::ids::DuplicateIds;
use drg_core::io::{push_csv_field, push_csv_joined, push_csv_record, CsvLayout, InputError, JsonCaseRow, JsonCases, RecordBatch};
use drg_core::read::{self, CaseSource, RecordSource};
use drg_core::{GroupResult, Grouper, Status};

use std::fs::File;
use std::path::Path;

use std::process::ExitCode;

use drg_core::GroupOptions;

use super::columns::{read_options, show};
use super::{load_pack, output_error, refuse_overwriting_inputs, Outcome};
use crate::args::{GroupArgs, OutputFormat};

/// `drg group`.
pub fn command(args: GroupArgs) -> Outcome {
    let options = read_options(&args.read)?;
    if args.dry_run {
        return show(&args.input, &options);
    }
    let pack = load_pack(&args.pack)?;
    let pack_label = format!("{} ({})", pack.info().name, pack.info().id);
    let grouper = Grouper::with_options(Arc::new(pack), GroupOptions { translate_codes: args.translate_codes });
    let source = read::open_cases(&args.input, &options).map_err(|e| format!("{}: {e}", args.input))?;
    if !args.quiet {
        for note in source.plan().map(|p| p.second_aliases()).unwrap_or_default() {
            eprintln!("drg group: note: {note}");
        }
    }
    // An Excel workbook is written from the CSV results once they are all
    // there (the writer streams them in constant memory).
    let xlsx_out = match (&args.output, args.format) {
        (Some(path), _) if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx")) => Some(path.clone()),
        (Some(path), OutputFormat::Xlsx) => Some(path.clone()),
        (None, OutputFormat::Xlsx) => return Err("--format xlsx needs -o FILE.xlsx".into()),
        _ => None,
    };
    if let Some(path) = &args.output {
        // Creating the output truncates it: it must not be the input.
        refuse_overwriting_inputs(path, &[Path::new(&args.input)])?;
    }
    let part = xlsx_out.as_ref().map(|p| p.with_extension("xlsx.part.csv"));
    let out: Box<dyn Write + Send> = match (&part, &args.output) {
        (Some(path), _) | (None, Some(path)) => Box::new(File::create(path).map_err(|e| format!("{}: {e}", path.display()))?),
        (None, None) => Box::new(std::io::stdout()),
    };
    // 0 keeps its meaning here (one thread groups, the reading one); an
    // absurd count is clamped by the rule all interfaces share.
    let threads = match args.threads {
        None => drg_core::parallel::default_threads(),
        Some(requested) => {
            let (threads, note) = drg_core::parallel::resolve_threads(requested);
            if let (Some(note), false) = (note, args.quiet) {
                eprintln!("drg group: note: {note}");
            }
            if requested == 0 { 0 } else { threads }
        }
    };
    // A progress line when a person watches: standard error is a terminal.
    let progress = (!args.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .then(|| (args.input != "-").then(|| std::fs::metadata(&args.input).ok().map(|m| m.len())).flatten());
    let format = if xlsx_out.is_some() { OutputFormat::Csv } else { args.format };
    let settings = Settings { format, explain: args.explain, threads, progress };
    let (tally, seconds) = run(&grouper, source, out, &settings).map_err(|e| format!("{}: {e}", args.input))?;
    if let (Some(xlsx), Some(part)) = (&xlsx_out, &part) {
        let written = drg_core::xlsx::csv_to_xlsx(part, xlsx, "results");
        let _ = std::fs::remove_file(part);
        written.map_err(|e| format!("{}: {e}", xlsx.display()))?;
    }
    if !args.quiet {
        eprintln!("drg group: {} with {pack_label}", tally.summary(seconds));
    }
    Ok(ExitCode::SUCCESS)
}

/// Rows per batch: large enough to amortise the hand-offs, small enough to
/// keep memory flat.
pub(crate) const BATCH_ROWS: usize = 2048;

/// A batch also ends once its rows hold this many bytes, so that a file of
/// very long rows (up to drg_core's row limit) does not multiply its memory
/// by the rows in flight.
pub(crate) const BATCH_BYTES: usize = 8 << 20;

/// The columns every result row has, in order.
pub const RESULT_COLUMNS: [&str; 8] = ["id", "status", "mdc", "adrg", "drg", "drg_name", "reason", "warnings"];

#[derive(Clone, Debug)]
pub struct Settings {
    pub format: OutputFormat,
    pub explain: bool,
    pub threads: usize,
    /// Show a progress line on standard error; with the input's size in
    /// bytes when known, for the share done and the time left.
    pub progress: Option<Option<u64>>,
}

/// The progress line: rows, rate, and with a known input size the share done
/// and the time left.
pub fn progress_line(rows: u64, seconds: f64, bytes_read: u64, total_bytes: Option<u64>) -> String {
    let rate = if seconds > 0.0 { rows as f64 / seconds } else { 0.0 };
    let mut line = format!("{rows} rows, {rate:.0} rows/s");
    if let Some(total) = total_bytes.filter(|&t| t > 0) {
        let done = (bytes_read as f64 / total as f64).min(1.0);
        line.push_str(&format!(", {:.0}%", done * 100.0));
        if done > 0.0 {
            let left = (seconds * (1.0 - done) / done).round() as u64;
            line.push_str(&format!(", {}:{:02} left", left / 60, left % 60));
        }
    }
    line
}

/// How many rows ended how.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    pub cases: u64,
    pub grouped: u64,
    pub ungroupable: u64,
    pub ambiguous: u64,
    pub invalid: u64,
    /// Rows whose id an earlier row had.
    pub duplicate_ids: u64,
}

impl Tally {
    fn add(&mut self, status: Status) {
        self.cases += 1;
        match status {
            Status::Grouped => self.grouped += 1,
            Status::Ungroupable => self.ungroupable += 1,
            Status::Ambiguous => self.ambiguous += 1,
            Status::Invalid => self.invalid += 1,
        }
    }

    fn merge(&mut self, other: Tally) {
        self.cases += other.cases;
        self.grouped += other.grouped;
        self.ungroupable += other.ungroupable;
        self.ambiguous += other.ambiguous;
        self.invalid += other.invalid;
        self.duplicate_ids += other.duplicate_ids;
    }

    /// The one-line summary printed at the end.
    pub fn summary(&self, seconds: f64) -> String {
        let rate = if seconds > 0.0 { self.cases as f64 / seconds } else { 0.0 };
        let duplicates = match self.duplicate_ids {
            0 => String::new(),
            n => format!(" ({n} with an id already seen: see their warnings)"),
        };
        format!(
            "{} cases: {} grouped, {} ungroupable, {} ambiguous, {} invalid{duplicates}; {:.2} s, {:.0} cases/s",
            self.cases, self.grouped, self.ungroupable, self.ambiguous, self.invalid, seconds, rate
        )
    }
}

enum Batch {
    Csv(RecordBatch, Duplicates),
    Json(Vec<JsonCaseRow>, Duplicates),
}

/// (row in the batch, its warning: the line where its id was first seen).
type Duplicates = Vec<(usize, String)>;

/// Groups every row of `input` and writes one result row for each to `out`.
pub fn run(
    grouper: &Grouper,
    source: CaseSource,
    out: Box<dyn Write + Send>,
    settings: &Settings,
) -> Result<(Tally, f64), String> {
    let started = Instant::now();
    let (csv_reader, json_reader, extra_columns) = match source {
        CaseSource::Json(reader) => (None, Some(reader), Vec::new()),
        CaseSource::Records(reader) => {
            let extra = reader.layout().extra_columns().to_vec();
            (Some(reader), None, extra)
        }
    };
    let layout: Option<CsvLayout> = csv_reader.as_ref().map(|r| r.layout().clone());
    // How far the reader is in the input, for the progress line.
    let bytes_read = AtomicU64::new(0);
    let progress = settings.progress.map(|total| (total, &bytes_read, started));
    // A batch's rows come as one chunk of ~200 kB, written as it is: the
    // buffer holds the header, and passes a chunk larger than itself
    // through instead of copying it.
    let mut out = std::io::BufWriter::with_capacity(32 << 10, out);
    let mut tally = Tally::default();
    let mut last_shown = Instant::now();
    out.write_all(&header_bytes(settings, &extra_columns)).map_err(|e| output_error("writing the output", e))?;
    let (read_result, written) = drg_core::parallel::ordered_pipeline(
        settings.threads,
        Scratch::default,
        |scratch, batch, give_back| group_batch(grouper, layout.as_ref(), batch, settings, scratch, give_back),
        |(bytes, part): (Vec<u8>, Tally)| -> std::io::Result<()> {
            out.write_all(&bytes)?;
            tally.merge(part);
            if let Some((total, bytes_read, started)) = progress {
                if last_shown.elapsed() >= Duration::from_millis(250) {
                    last_shown = Instant::now();
                    let line = progress_line(tally.cases, started.elapsed().as_secs_f64(), bytes_read.load(Ordering::Relaxed), total);
                    eprint!("\r{line:<60}");
                }
            }
            Ok(())
        },
        |feeder| feed(csv_reader, json_reader, feeder, &bytes_read),
    );
    if progress.is_some() {
        eprint!("\r{:<60}\r", "");
    }
    let written = written.and_then(|()| out.flush());
    // A closed output first: reading stops early then, and that is no
    // error of the input.
    written.map_err(|e| output_error("writing the output", e))?;
    read_result.map_err(|e| format!("reading the input: {e}"))?;
    Ok((tally, started.elapsed().as_secs_f64()))
}

/// What the reader hands a worker.
type Feeder<'a> = drg_core::parallel::Feeder<'a, Batch, RecordBatch>;

/// Reads the input in batches of raw records (CSV, Excel) or parsed JSON
/// rows, checking ids for duplicates on the way, and sends them to the
/// workers.
fn feed(
    csv_reader: Option<RecordSource>,
    json_reader: Option<JsonCases<Box<dyn BufRead>>>,
    feeder: &mut Feeder<'_>,
    bytes_read: &AtomicU64,
) -> Result<(), InputError> {
    let mut ids = DuplicateIds::new();
    if let Some(mut reader) = csv_reader {
        loop {
            let mut batch = feeder.spare().unwrap_or_default();
            let read = reader.read_batch(&mut batch, BATCH_ROWS, BATCH_BYTES);
            if let Some(last) = batch.records().last() {
                bytes_read.store(last.byte(), Ordering::Relaxed);
            }
            let mut duplicates = Duplicates::new();
            for (i, r) in batch.records().iter().enumerate() {
                if let Some(warning) = ids.warning(reader.layout().id_of(r), r.line())? {
                    duplicates.push((i, warning));
                }
            }
            note_spill(&mut ids);
            if !batch.is_empty() && !feeder.send(Batch::Csv(batch, duplicates)) {
                return Ok(());
            }
            if !read? {
                return Ok(());
            }
        }
    }
    if let Some(reader) = json_reader {
        let mut batch = Vec::with_capacity(BATCH_ROWS);
        let mut duplicates = Duplicates::new();
        for row in reader {
            let row = match row {
                Ok(row) => row,
                Err(e) => {
                    // The rows read before the failure are written first.
                    if !batch.is_empty() {
                        feeder.send(Batch::Json(batch, duplicates));
                    }
                    return Err(e);
                }
            };
            let id = match &row.case {
                Ok(case) => case.id.as_str(),
                Err(e) => e.id.as_str(),
            };
            if let Some(warning) = ids.warning(id.trim().as_bytes(), row.line)? {
                duplicates.push((batch.len(), warning));
            }
            note_spill(&mut ids);
            batch.push(row);
            if batch.len() == BATCH_ROWS
                && !feeder.send(Batch::Json(std::mem::take(&mut batch), std::mem::take(&mut duplicates)))
            {
                return Ok(());
            }
        }
        if !batch.is_empty() {
            feeder.send(Batch::Json(batch, duplicates));
        }
    }
    Ok(())
}

/// Tells the user, once, that the ids could not be written to the temporary
/// directory (the check goes on in memory).
fn note_spill(ids: &mut DuplicateIds) {
    if let Some(note) = ids.take_spill_note() {
        eprintln!("drg group: note: {note}");
    }
}

fn header_bytes(settings: &Settings, extra_columns: &[String]) -> Vec<u8> {
    if settings.format == OutputFormat::Jsonl {
        return Vec::new();
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = RESULT_COLUMNS.to_vec();
    if settings.explain {
        header.push("trace");
    }
    header.extend(extra_columns.iter().map(String::as_str));
    w.write_record(&header).expect("write to memory");
    w.into_inner().expect("write to memory")
}

/// What a worker reuses from row to row.
#[derive(Default)]
struct Scratch {
    /// The row being grouped and the next, read ahead (see `group_batch`).
    rows: [RowScratch; 2],
    /// The size of this worker's last batch of results: the next one's
    /// buffer starts that large (a buffer that grows copies what it holds).
    last_out: usize,
    group_cells: GroupCells,
}

/// The cells `mdc,adrg,drg,drg_name` of grouped results, written once for
/// each group a worker meets and copied from then on: checking the four
/// for quotes and appending them one by one took about a third of a row's
/// formatting. A group is known by where its DRG code lives in the pack (the
/// grouper's pack outlives the worker): each DRG of a pack is one entry of
/// one ADRG of one MDC, so its code's place also tells its MDC and ADRG.
#[derive(Default)]
struct GroupCells {
    by_drg: rustc_hash::FxHashMap<usize, Box<[u8]>>,
}

impl GroupCells {
    /// Appends the four cells of `mdc`, `adrg`, `drg` and `name` to `out`.
    #[inline]
    fn push(&mut self, out: &mut Vec<u8>, [mdc, adrg, drg, name]: [&str; 4]) {
        match self.by_drg.get(&(drg.as_ptr() as usize)) {
            Some(cells) => out.extend_from_slice(cells),
            None => {
                let mut cells = Vec::new();
                push_csv_record(&mut cells, [mdc, adrg, drg, name].map(str::as_bytes));
                cells.pop(); // the record's line end
                out.extend_from_slice(&cells);
                self.by_drg.insert(drg.as_ptr() as usize, cells.into_boxed_slice());
            }
        }
    }
}

/// One row read: its case, its extra columns and its reading warnings.
#[derive(Default)]
struct RowScratch {
    case: drg_core::Case,
    extra: Vec<String>,
    warnings: Vec<String>,
}

impl AsRef<drg_core::Case> for RowScratch {
    fn as_ref(&self) -> &drg_core::Case {
        &self.case
    }
}

impl RowScratch {
    fn read(&mut self, layout: &CsvLayout, record: &drg_core::io::Record) -> Result<(), drg_core::io::RowError> {
        self.warnings.clear();
        layout.parse_row(record, &mut self.case, &mut self.extra, &mut self.warnings)
    }
}

fn group_batch(
    grouper: &Grouper,
    layout: Option<&CsvLayout>,
    batch: Batch,
    settings: &Settings,
    scratch: &mut Scratch,
    give_back: &dyn Fn(RecordBatch),
) -> (Vec<u8>, Tally) {
    let extra_names = layout.map(|l| l.extra_columns()).unwrap_or(&[]);
    let mut out = RowWriter::new(settings, extra_names, scratch.last_out, &mut scratch.group_cells);
    let mut out_duplicates = 0u64;
    // The warning of a row whose id an earlier row had.
    let mut duplicate_of = |duplicates: &Duplicates, next: &mut usize, row: usize, result: &mut GroupResult<'_>| {
        if let Some((_, warning)) = duplicates.get(*next).filter(|d| d.0 == row) {
            *next += 1;
            result.warnings.push(warning.clone());
            out_duplicates += 1;
        }
    };
    match batch {
        Batch::Csv(records, duplicates) => {
            let layout = layout.expect("a CSV batch comes with its layout");
            let mut next = 0;
            // Each row is read one row ahead of its grouping, so that what
            // its codes need is loading meanwhile.
            let rows = records.records();
            grouper.read_ahead(
                &mut scratch.rows,
                rows.len(),
                |row, slot| slot.read(layout, &rows[row]),
                |row, RowScratch { case, extra, warnings }, read| {
                    // (The result is built in place, not moved through a
                    // tuple with the id: that copied it, a call to memcpy.)
                    let mut error_id = None;
                    let mut result = match read {
                        Ok(()) => grouper.group_with(case, settings.explain),
                        Err(drg_core::io::RowError { id, reason }) => {
                            error_id = Some(id);
                            GroupResult::invalid(reason)
                        }
                    };
                    result.warnings.append(warnings);
                    duplicate_of(&duplicates, &mut next, row, &mut result);
                    out.csv_extra(error_id.as_ref().unwrap_or(&case.id), &result, extra);
                },
            );
            // The reader refills these records; if it has finished, they go.
            give_back(records);
        }
        Batch::Json(rows, duplicates) => {
            let mut next = 0;
            for (i, row) in rows.iter().enumerate() {
                // (What the next case's codes need loads meanwhile.)
                if let Some(Ok(next_case)) = rows.get(i + 1).map(|next| &next.case) {
                    grouper.prefetch(next_case);
                }
                let (id, mut result) = match &row.case {
                    Ok(case) => (case.id.as_str(), grouper.group_with(case, settings.explain)),
                    Err(e) => (e.id.as_str(), GroupResult::invalid(e.reason.clone())),
                };
                result.warnings.extend(row.warnings.iter().cloned());
                duplicate_of(&duplicates, &mut next, i, &mut result);
                out.json_extra(id, &result, &row.extra);
            }
        }
    }
    let (bytes, mut tally) = out.finish();
    scratch.last_out = bytes.len();
    tally.duplicate_ids = out_duplicates;
    (bytes, tally)
}

/// Formats result rows of one batch.
struct RowWriter<'a> {
    format: OutputFormat,
    /// The names of the CSV input's unknown columns.
    extra_names: &'a [String],
    explain: bool,
    /// The CSV rows of the batch.
    csv: Vec<u8>,
    json: Vec<u8>,
    tally: Tally,
    group_cells: &'a mut GroupCells,
}

impl<'a> RowWriter<'a> {
    /// A writer whose buffer starts with room for `expected` bytes (at
    /// least 64 a row).
    fn new(settings: &Settings, extra_names: &'a [String], expected: usize, group_cells: &'a mut GroupCells) -> Self {
        // (A little more than the last batch, which the next one may pass.)
        let buffer = Vec::with_capacity((expected + expected / 16).max(BATCH_ROWS * 64));
        let (csv, json) = match settings.format {
            OutputFormat::Csv | OutputFormat::Xlsx => (buffer, Vec::new()),
            OutputFormat::Jsonl => (Vec::new(), buffer),
        };
        RowWriter {
            format: settings.format,
            extra_names,
            explain: settings.explain,
            csv,
            json,
            tally: Tally::default(),
            group_cells,
        }
    }

    /// A row whose extra values are CSV cells.
    fn csv_extra(&mut self, id: &str, r: &GroupResult<'_>, extra: &[String]) {
        self.tally.add(r.status);
        match self.format {
            // An Excel workbook is made from the CSV rows.
            OutputFormat::Csv | OutputFormat::Xlsx => {
                // The fixed columns written directly: status is one of four
                // words, the codes and names come from the pack, so only
                // their quoting is checked; warnings are joined in place.
                let out = &mut self.csv;
                push_csv_field(out, id.as_bytes());
                out.push(b',');
                out.extend_from_slice(r.status.as_str().as_bytes());
                if let (Some(mdc), Some(adrg), Some(drg), Some(name)) = (r.mdc, r.adrg, r.drg, r.drg_name) {
                    out.push(b',');
                    self.group_cells.push(out, [mdc, adrg, drg, name]);
                } else {
                    for field in [r.mdc, r.adrg, r.drg, r.drg_name] {
                        out.push(b',');
                        push_csv_field(out, field.unwrap_or("").as_bytes());
                    }
                }
                out.push(b',');
                push_csv_field(out, r.reason.as_deref().unwrap_or("").as_bytes());
                out.push(b',');
                push_csv_joined(out, &r.warnings, "; ");
                if self.explain {
                    out.push(b',');
                    push_csv_field(out, r.trace_text().trim_end().as_bytes());
                }
                for value in extra {
                    out.push(b',');
                    push_csv_field(out, value.as_bytes());
                }
                out.push(b'\n');
            }
            OutputFormat::Jsonl => {
                let extra: Vec<(String, serde_json::Value)> =
                    self.extra_names.iter().cloned().zip(extra.iter().map(|v| v.clone().into())).collect();
                self.json_line(id, r, &extra);
            }
        }
    }

    /// A row whose extra values are JSON values.
    fn json_extra(&mut self, id: &str, r: &GroupResult<'_>, extra: &[(String, serde_json::Value)]) {
        match self.format {
            OutputFormat::Jsonl => {
                self.tally.add(r.status);
                self.json_line(id, r, extra);
            }
            // A CSV header is written before the first JSON object is read, so
            // unknown keys of JSON input are not carried into CSV output.
            OutputFormat::Csv | OutputFormat::Xlsx => self.csv_extra(id, r, &[]),
        }
    }

    fn json_line(&mut self, id: &str, r: &GroupResult<'_>, extra: &[(String, serde_json::Value)]) {
        r.write_json_line(id, extra, &mut self.json);
    }

    fn finish(self) -> (Vec<u8>, Tally) {
        let bytes = match self.format {
            OutputFormat::Csv | OutputFormat::Xlsx => self.csv,
            OutputFormat::Jsonl => self.json,
        };
        (bytes, self.tally)
    }
}

#[cfg(test)]
mod tests {
    use super::{progress_line, GroupCells};

    /// The cells come out as the four fields written one by one would, the
    /// second time from memory, and each group keeps its own.
    #[test]
    fn group_cells_are_the_fields_as_written_one_by_one() {
        let one = ["MDCB", "BV2", "BV23", "神经肌肉接头及肌肉病，伴并发症或合并症"];
        let quoted = ["MDCX", "X,1", "X\"11", "a, \"b\""];
        let written = |group: [&str; 4]| if group == one { "MDCB,BV2,BV23,神经肌肉接头及肌肉病，伴并发症或合并症" } else { r#"MDCX,"X,1","X""11","a, ""b""""# };
        let mut cells = GroupCells::default();
        for group in [one, quoted, one, quoted] {
            let mut out = Vec::new();
            cells.push(&mut out, group);
            assert_eq!(String::from_utf8(out).unwrap(), written(group));
        }
        assert_eq!(cells.by_drg.len(), 2);
    }

    #[test]
    fn the_progress_line() {
        assert_eq!(progress_line(500_000, 1.0, 50, Some(100)), "500000 rows, 500000 rows/s, 50%, 0:01 left");
        assert_eq!(progress_line(10, 2.0, 0, None), "10 rows, 5 rows/s");
        assert_eq!(progress_line(0, 0.0, 0, Some(0)), "0 rows, 0 rows/s");
        assert_eq!(progress_line(1, 90.0, 25, Some(100)), "1 rows, 0 rows/s, 25%, 4:30 left");
    }
}
