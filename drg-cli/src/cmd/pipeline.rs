//! Reading a file of cases in batches and working on each batch on every
//! core, in input order: what `drg dip` and `drg points` share.
//!
//! As in `drg group`, the reading thread only splits the input into raw
//! records (or JSON rows); the records are parsed, grouped and scored by the
//! workers (`drg_core::parallel`), and the results taken in input order by
//! one sink. Reading the next batch overlaps the work on the last one, and
//! at most two batches are held at any time, so memory does not grow with
//! the input.

use std::io::BufRead;
use std::sync::mpsc::{channel, sync_channel};
use std::time::Instant;

use drg_core::io::{CsvLayout, InputError, JsonCaseRow, JsonCases, RowError};
use drg_core::read::{self, CaseSource, ReadOptions, RecordSource};
use drg_core::Case;

use super::group::progress_line;
use crate::args::CaseFileArgs;

/// Rows read before a batch is handed to the workers.
const BATCH_ROWS: usize = 32 * 1024;
/// Rows one worker takes at a time.
pub const CHUNK_ROWS: usize = 2048;

/// A share of a batch: raw records (parsed by the worker) or JSON rows.
pub enum Chunk<'a> {
    Records(&'a [csv::ByteRecord], &'a CsvLayout),
    Json(&'a [JsonCaseRow]),
}

impl Chunk<'_> {
    /// Calls `f` with every row's line and case (or why it cannot be read).
    pub fn each(&self, mut f: impl FnMut(u64, Result<&Case, &RowError>)) {
        match self {
            Chunk::Records(records, layout) => {
                let (mut case, mut extra) = (Case::default(), Vec::new());
                for record in *records {
                    let line = record.position().map_or(0, |p| p.line());
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
    pub fn records(&self) -> &[csv::ByteRecord] {
        match self {
            Chunk::Records(records, _) => records,
            Chunk::Json(_) => &[],
        }
    }
}

/// Where the rows come from.
enum Rows {
    Records(RecordSource),
    Json(JsonCases<Box<dyn BufRead>>),
}

/// A batch read, on its way to the workers.
enum Batch {
    Records(Vec<csv::ByteRecord>),
    Json(Vec<JsonCaseRow>),
}

/// A case file being read: its name, its rows, how far it is.
pub struct CaseInput {
    pub name: String,
    rows: Rows,
    threads: usize,
    /// (started, the input's size) when a progress line is shown.
    progress: Option<(Instant, Option<u64>)>,
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
            CaseSource::Records(r) => Rows::Records(r),
            CaseSource::Json(j) => Rows::Json(j),
        };
        Ok(Self::new(name, rows, threads, options.quiet))
    }

    /// Opens a file whose rows need not be whole cases (CSV or Excel;
    /// [`read::open_records`]).
    pub fn open_records(name: &str, options: &CaseFileArgs) -> Result<CaseInput, String> {
        let (read_options, threads) = settings(options)?;
        let source = read::open_records(name, &read_options).map_err(|e| format!("{name}: {e}"))?;
        Ok(Self::new(name, Rows::Records(source), threads, options.quiet))
    }

    fn new(name: &str, rows: Rows, threads: usize, quiet: bool) -> CaseInput {
        // A progress line when a person watches: standard error is a terminal.
        let progress = (!quiet && std::io::IsTerminal::is_terminal(&std::io::stderr())).then(|| {
            let size = (name != "-").then(|| std::fs::metadata(name).ok().map(|m| m.len())).flatten();
            (Instant::now(), size)
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

    /// Reads the next batch; `None` at the end.
    fn next_batch(&mut self, reuse: Option<Vec<csv::ByteRecord>>) -> Result<Option<Batch>, InputError> {
        let batch = match &mut self.rows {
            Rows::Records(reader) => {
                let mut records = reuse.unwrap_or_default();
                let mut n = 0;
                while n < BATCH_ROWS {
                    if n == records.len() {
                        records.push(csv::ByteRecord::with_capacity(256, 16));
                    }
                    if !reader.read_record(&mut records[n])? {
                        break;
                    }
                    n += 1;
                }
                records.truncate(n);
                Batch::Records(records)
            }
            Rows::Json(reader) => {
                let mut rows = Vec::with_capacity(BATCH_ROWS);
                for row in reader.by_ref() {
                    rows.push(row?);
                    if rows.len() == BATCH_ROWS {
                        break;
                    }
                }
                Batch::Json(rows)
            }
        };
        let (n, bytes) = match &batch {
            Batch::Records(r) => (r.len(), r.last().and_then(|r| r.position()).map_or(0, |p| p.byte())),
            Batch::Json(r) => (r.len(), 0),
        };
        self.read += n as u64;
        if let Some((started, total)) = &self.progress {
            let line = progress_line(self.read, started.elapsed().as_secs_f64(), bytes, *total);
            eprint!("\r{line:<60}");
        }
        Ok((n > 0).then_some(batch))
    }

    /// Reads the file batch by batch; `work` runs on every core, one chunk
    /// of [`CHUNK_ROWS`] rows at a time, and `sink` takes the results in
    /// input order (on another thread than the reading one). An error of
    /// `sink` stops reading and is the outcome.
    pub fn process<R: Send>(
        &mut self,
        work: impl Fn(&Chunk<'_>) -> R + Sync,
        mut sink: impl FnMut(R) -> Result<(), String> + Send,
    ) -> Result<(), String> {
        let layout = self.records().map(|r| r.layout().clone());
        let threads = self.threads;
        let (batch_tx, batch_rx) = sync_channel::<Batch>(1);
        let (pool_tx, pool_rx) = channel::<Vec<csv::ByteRecord>>();
        let outcome = std::thread::scope(|scope| {
            let layout = layout.as_ref();
            let work = &work;
            let sink = &mut sink;
            let worker = scope.spawn(move || -> Result<(), String> {
                for batch in batch_rx {
                    let results = match &batch {
                        Batch::Records(records) => {
                            let layout = layout.expect("records come with their layout");
                            let chunks: Vec<Chunk<'_>> = records.chunks(CHUNK_ROWS).map(|c| Chunk::Records(c, layout)).collect();
                            drg_core::parallel::par_map(&chunks, threads, work)
                        }
                        Batch::Json(rows) => {
                            let chunks: Vec<Chunk<'_>> = rows.chunks(CHUNK_ROWS).map(Chunk::Json).collect();
                            drg_core::parallel::par_map(&chunks, threads, work)
                        }
                    };
                    for r in results {
                        sink(r)?;
                    }
                    if let Batch::Records(records) = batch {
                        let _ = pool_tx.send(records);
                    }
                }
                Ok(())
            });
            let mut read_error = None;
            loop {
                match self.next_batch(pool_rx.try_recv().ok()) {
                    Ok(Some(batch)) => {
                        if batch_tx.send(batch).is_err() {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        read_error = Some(e);
                        break;
                    }
                }
            }
            drop(batch_tx);
            let worked = worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            // The sink's error first: reading stops early then.
            worked?;
            match read_error {
                Some(e) => Err(format!("{}: {e}", self.name)),
                None => Ok(()),
            }
        });
        if self.progress.is_some() {
            eprint!("\r{:<60}\r", "");
        }
        outcome
    }
}
