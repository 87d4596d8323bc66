//! Reading a file of cases in chunks and working on each chunk on every
//! core, in input order: what `drg dip` and `drg points` share.
//!
//! It runs on `drg group`'s pipeline ([`drg_core::parallel::ordered_pipeline`]):
//! the reading thread splits the input into raw records (or JSON rows);
//! the records are parsed, grouped and scored by the workers (and by the
//! reading thread, when each worker has enough waiting), and the results
//! taken in input order by one sink. A fixed number of chunks is in
//! flight at any time, so memory does not grow with the input.

use std::io::BufRead;
use std::time::{Duration, Instant};

use drg_core::io::{CsvLayout, InputError, JsonCaseRow, JsonCases, Record, RecordBatch, RowError};
use drg_core::parallel::Feeder;
use drg_core::read::{self, CaseSource, ReadOptions, RecordSource};
use drg_core::Case;

use super::group::progress_line;
use crate::args::CaseFileArgs;

/// Rows one worker takes at a time.
pub const CHUNK_ROWS: usize = 2048;

/// A chunk of the input: raw records (parsed by the worker) or JSON rows.
pub enum Chunk<'a> {
    Records(&'a [Record], &'a CsvLayout),
    Json(&'a [JsonCaseRow]),
}

impl Chunk<'_> {
    /// Calls `f` with every row's line and case (or why it cannot be read).
    pub fn each(&self, mut f: impl FnMut(u64, Result<&Case, &RowError>)) {
        match self {
            Chunk::Records(records, layout) => {
                let (mut case, mut extra) = (Case::default(), Vec::new());
                for record in *records {
                    let line = record.line();
                    match layout.parse_into(record, &mut case, &mut extra) {
                        Ok(()) => f(line, Ok(&case)),
                        Err(e) => f(line, Err(&e)),
                    }
                }
            }
            Chunk::Json(rows) => {
                for row in *rows {
                    f(row.line, row.case.as_ref());
                }
            }
        }
    }

    /// The raw records of a records chunk (empty for JSON).
    pub fn records(&self) -> &[Record] {
        match self {
            Chunk::Records(records, _) => records,
            Chunk::Json(_) => &[],
        }
    }
}

/// Where the rows come from. (A records source is ten times the size of a
/// JSON reader: boxed, so that `Rows` is not as large for both.)
enum Rows {
    Records(Box<RecordSource>),
    Json(JsonCases<Box<dyn BufRead>>),
}

/// A chunk read, on its way to the workers.
enum Batch {
    Records(RecordBatch),
    Json(Vec<JsonCaseRow>),
}

/// A case file being read: its name, its rows, how far it is.
pub struct CaseInput {
    pub name: String,
    rows: Rows,
    threads: usize,
    /// (started, the input's size, last shown) when a progress line is shown.
    progress: Option<(Instant, Option<u64>, Instant)>,
    /// Rows read so far.
    pub read: u64,
}

/// The drg-core reading options and worker threads of a command's arguments.
fn settings(options: &CaseFileArgs) -> Result<(ReadOptions, usize), String> {
    let read = super::columns::read_options(&options.read)?;
    let threads = match options.threads {
        None | Some(0) => drg_core::parallel::default_threads(),
        Some(n) => drg_core::parallel::resolve_threads(n).0,
    };
    Ok((read, threads))
}

impl CaseInput {
    /// Opens a file of whole cases (CSV, JSON or Excel; [`read::open_cases`]).
    pub fn open_cases(name: &str, options: &CaseFileArgs) -> Result<CaseInput, String> {
        let (read_options, threads) = settings(options)?;
        let rows = match read::open_cases(name, &read_options).map_err(|e| format!("{name}: {e}"))? {
            CaseSource::Records(r) => Rows::Records(Box::new(r)),
            CaseSource::Json(j) => Rows::Json(j),
        };
        Ok(Self::new(name, rows, threads, options.quiet))
    }

    /// Opens a file whose rows need not be whole cases (CSV or Excel;
    /// [`read::open_records`]).
    pub fn open_records(name: &str, options: &CaseFileArgs) -> Result<CaseInput, String> {
        let (read_options, threads) = settings(options)?;
        let source = read::open_records(name, &read_options).map_err(|e| format!("{name}: {e}"))?;
        Ok(Self::new(name, Rows::Records(Box::new(source)), threads, options.quiet))
    }

    fn new(name: &str, rows: Rows, threads: usize, quiet: bool) -> CaseInput {
        // A progress line when a person watches: standard error is a terminal.
        let progress = (!quiet && std::io::IsTerminal::is_terminal(&std::io::stderr())).then(|| {
            let size = (name != "-").then(|| std::fs::metadata(name).ok().map(|m| m.len())).flatten();
            (Instant::now(), size, Instant::now())
        });
        CaseInput { name: name.to_string(), rows, threads: threads.max(1), progress, read: 0 }
    }

    /// The records source (its columns), for a file read as records.
    pub fn records(&self) -> Option<&RecordSource> {
        match &self.rows {
            Rows::Records(r) => Some(r),
            Rows::Json(_) => None,
        }
    }

    /// Reads the next chunk into `records` (a records file) or a new list
    /// (JSON): the chunk (`None` when it is empty) and whether more rows
    /// may follow. On a failure the rows read before it are given with it.
    fn next_chunk(&mut self, records: Option<RecordBatch>) -> (Option<Batch>, Result<bool, InputError>) {
        let (batch, more) = match &mut self.rows {
            Rows::Records(reader) => {
                let mut records = records.unwrap_or_default();
                // Chunks of exactly CHUNK_ROWS rows, whatever their size: each
                // chunk's result is folded by the sink as one.
                let more = reader.read_batch(&mut records, CHUNK_ROWS, usize::MAX);
                (Batch::Records(records), more)
            }
            Rows::Json(reader) => {
                let mut rows = Vec::with_capacity(CHUNK_ROWS);
                let mut more = Ok(false);
                for row in reader.by_ref() {
                    match row {
                        Ok(row) => rows.push(row),
                        Err(e) => {
                            more = Err(e);
                            break;
                        }
                    }
                    if rows.len() == CHUNK_ROWS {
                        more = Ok(true);
                        break;
                    }
                }
                (Batch::Json(rows), more)
            }
        };
        let (n, bytes) = match &batch {
            Batch::Records(r) => (r.len(), r.records().last().map_or(0, Record::byte)),
            Batch::Json(r) => (r.len(), 0),
        };
        self.read += n as u64;
        self.show_progress(bytes);
        ((n > 0).then_some(batch), more)
    }

    /// The progress line, at most four times a second.
    fn show_progress(&mut self, bytes: u64) {
        if let Some((started, total, shown)) = &mut self.progress {
            if shown.elapsed() >= Duration::from_millis(250) {
                *shown = Instant::now();
                let line = progress_line(self.read, started.elapsed().as_secs_f64(), bytes, *total);
                eprint!("\r{line:<60}");
            }
        }
    }

    /// Reads the file chunk by chunk ([`CHUNK_ROWS`] rows); `work` runs on
    /// every core, a chunk at a time, and `sink` takes the results in input
    /// order (on another thread than the reading one). An error of `sink`
    /// stops reading and is the outcome; a failure to read is the outcome
    /// once the rows before it went through `sink`.
    pub fn process<R: Send>(
        &mut self,
        work: impl Fn(&Chunk<'_>) -> R + Sync,
        sink: impl FnMut(R) -> Result<(), String> + Send,
    ) -> Result<(), String> {
        let layout = self.records().map(|r| r.layout().clone());
        let layout = layout.as_ref();
        let (read, sunk) = drg_core::parallel::ordered_pipeline(
            self.threads,
            || (),
            |(), batch: Batch, give_back: &dyn Fn(RecordBatch)| match batch {
                Batch::Records(records) => {
                    let layout = layout.expect("records come with their layout");
                    let done = work(&Chunk::Records(records.records(), layout));
                    // The reader refills these records; if it has finished, they go.
                    give_back(records);
                    done
                }
                Batch::Json(rows) => work(&Chunk::Json(&rows)),
            },
            sink,
            |feeder| self.feed(feeder),
        );
        if self.progress.is_some() {
            eprint!("\r{:<60}\r", "");
        }
        // The sink's error first: reading stops early then.
        sunk?;
        read.map_err(|e| format!("{}: {e}", self.name))
    }

    /// Sends every chunk of the file to the workers, until its end, a
    /// failure to read, or the sink's failure.
    fn feed(&mut self, feeder: &mut Feeder<'_, Batch, RecordBatch>) -> Result<(), InputError> {
        loop {
            let (batch, more) = self.next_chunk(feeder.spare());
            if let Some(batch) = batch {
                if !feeder.send(batch) {
                    return Ok(());
                }
            }
            if !more? {
                return Ok(());
            }
        }
    }
}
