//! `POST /v1/group/batch`: many cases in, their results streamed out.
//!
//! The body is read whole (it is bounded by the body limit), then cut into
//! chunks that worker threads read and group at once (one per core), while
//! one thread writes the results in input order and sends them chunk by
//! chunk; so a client that sends all before it reads never stalls, and one
//! large batch uses every core.
//!
//! Three bodies are taken, told apart by their first character:
//! - a JSON array (`[`): a JSON array of results;
//! - NDJSON (`{`): one case a line, NDJSON results;
//! - anything else is CSV with a header line (or `Content-Type: text/csv`):
//!   read by drg-core's reading layer ([`drg_core::io::CsvCases`] with the
//!   column plan of [`drg_core::columns`]), so Chinese headers, aliases and
//!   one column per code work as in `drg group`; NDJSON results, unknown
//!   columns carried as strings.
//!
//! Rows that cannot be read are `invalid` results with their line and
//! reason, as in `drg group`; ids seen before get a warning.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use drg_core::io::{CsvCases, CsvLayout, JsonCases, RecordBatch};
use drg_core::parallel::Feeder;
use drg_core::{Case, GroupResult, Grouper, Status};
use serde_json::{json, Value};

use crate::api::{flag, query, read_body, ApiError};
use crate::Shared;

/// Cases per chunk: each chunk is read and grouped by one worker, then
/// written and sent as a piece.
const CHUNK_CASES: usize = 1024;

/// What a batch body is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Array,
    Ndjson,
    Csv,
}

fn shape_of(headers: &HeaderMap, body: &[u8]) -> Shape {
    let csv_declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/csv"));
    let text = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        _ if csv_declared => Shape::Csv,
        Some(b'[') => Shape::Array,
        Some(b'{') | None => Shape::Ndjson,
        Some(_) => Shape::Csv,
    }
}

/// `POST /v1/group/batch[?pack=ID&explain=true]`.
pub(crate) async fn batch(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    let params = query(&uri, &["pack", "explain"])?;
    let explain = flag(&params, "explain")?;
    let pack_index = match params.get("pack") {
        None => 0,
        Some(_) => {
            let (id, _) = shared.grouper(params.get("pack").map(String::as_str))?;
            shared.packs.iter().position(|(p, _)| p == id).expect("found above")
        }
    };
    let batch_slot = Arc::clone(&shared.batch_slots).acquire_owned().await.expect("the semaphore is never closed");
    let bytes = read_body(&shared, &headers, body).await?;
    let shape = shape_of(&headers, &bytes);
    // An array is parsed whole, and a CSV header read, here: so that a
    // malformed one is a 400 rather than a broken stream.
    let input = tokio::task::spawn_blocking(move || Input::open(shape, bytes))
        .await
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error reading the batch"))??;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let deadline = std::time::Instant::now() + shared.options.timeout;
    let worker = Arc::clone(&shared);
    let watcher_tx = tx.clone();
    let handle = tokio::task::spawn_blocking(move || {
        let _batch_slot = batch_slot;
        stream_batch(&worker, pack_index, input, explain, deadline, &tx)
    });
    // A panic in the worker ends the stream with an error line rather than
    // a cut connection with no reason.
    tokio::spawn(async move {
        if handle.await.is_err() {
            let line = error_line("internal error: the batch could not be finished (see the service's log)", 500);
            let _ = watcher_tx.send(Ok(Bytes::from(line))).await;
        }
    });
    let content_type = if shape == Shape::Array { "application/json" } else { "application/x-ndjson" };
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// A batch body, ready to be cut into chunks.
enum Input {
    Array(JsonCases<std::io::Cursor<Bytes>>),
    Ndjson { body: Bytes, at: usize, lines_before: u64 },
    Csv(Box<CsvCases<std::io::Cursor<Bytes>>>),
}

/// Cases to read and group: the work of one worker.
enum Chunk {
    /// Items already parsed (a JSON array).
    Rows(Vec<drg_core::io::JsonCaseRow>),
    /// Whole NDJSON lines, the first being line `lines_before + 1` of the body.
    Lines { text: Bytes, lines_before: u64 },
    Records(RecordBatch),
}

impl Input {
    fn open(shape: Shape, body: Bytes) -> Result<Input, ApiError> {
        Ok(match shape {
            Shape::Array => Input::Array(JsonCases::new(std::io::Cursor::new(body)).map_err(|e| ApiError::input("the batch", &e))?),
            Shape::Ndjson => Input::Ndjson { body, at: 0, lines_before: 0 },
            Shape::Csv => Input::Csv(Box::new(
                CsvCases::with_map(std::io::Cursor::new(body), None).map_err(|e| ApiError::input("the batch (CSV)", &e))?,
            )),
        })
    }

    fn layout(&self) -> Option<&CsvLayout> {
        match self {
            Input::Csv(c) => Some(c.layout()),
            _ => None,
        }
    }

    /// Sends every chunk to the workers; `Err` for input that cannot be read
    /// on (it ends the batch with an error line after the chunks before).
    fn feed(&mut self, feeder: &mut Feeder<'_, Chunk, RecordBatch>) -> Result<(), String> {
        loop {
            let records = feeder.spare();
            match self.next_chunk(records) {
                None => return Ok(()),
                Some(Err(e)) => return Err(e),
                Some(Ok(chunk)) => {
                    if !feeder.send(chunk) {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// The next chunk (CSV records read into `records` when given); `Err`
    /// for input that cannot be read on: the rows of its chunk go with it.
    fn next_chunk(&mut self, records: Option<RecordBatch>) -> Option<Result<Chunk, String>> {
        match self {
            Input::Array(items) => {
                let mut rows = Vec::with_capacity(CHUNK_CASES);
                for row in items.by_ref().take(CHUNK_CASES) {
                    match row {
                        Ok(r) => rows.push(r),
                        Err(e) => return Some(Err(format!("reading the batch: {e}"))),
                    }
                }
                (!rows.is_empty()).then_some(Ok(Chunk::Rows(rows)))
            }
            Input::Ndjson { body, at, lines_before } => {
                if *at >= body.len() {
                    return None;
                }
                // CHUNK_CASES lines on, then on to a line that starts with `{`
                // (each chunk is read on its own: a chunk starting with a
                // blank line or a `[` would be read differently).
                let bytes = &body[..];
                let (mut end, mut lines) = (*at, 0u64);
                while end < bytes.len() {
                    let next = bytes[end..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| end + i + 1);
                    end = next;
                    lines += 1;
                    if lines as usize >= CHUNK_CASES && bytes.get(end) == Some(&b'{') {
                        break;
                    }
                }
                let chunk = Chunk::Lines { text: body.slice(*at..end), lines_before: *lines_before };
                *at = end;
                *lines_before += lines;
                Some(Ok(chunk))
            }
            Input::Csv(cases) => {
                let mut records = records.unwrap_or_default();
                if let Err(e) = cases.read_batch(&mut records, CHUNK_CASES, usize::MAX) {
                    return Some(Err(format!("reading the batch: {e}")));
                }
                (!records.is_empty()).then_some(Ok(Chunk::Records(records)))
            }
        }
    }
}

/// One case read and grouped, waiting to be written.
struct Grouped<'g> {
    line: u64,
    id: String,
    result: GroupResult<'g>,
    extra: Vec<(String, Value)>,
}

/// Reads and groups one chunk (on a worker thread), giving a chunk's
/// records back to the reader once read.
fn work<'g>(
    grouper: &'g Grouper,
    layout: Option<&CsvLayout>,
    chunk: Chunk,
    explain: bool,
    give_back: &dyn Fn(RecordBatch),
) -> Result<Vec<Grouped<'g>>, String> {
    let mut out = Vec::with_capacity(CHUNK_CASES);
    let mut json_row = |row: drg_core::io::JsonCaseRow, lines_before: u64| {
        let line = row.line + lines_before;
        let (id, mut result) = match row.case {
            Ok(case) => {
                let result = grouper.group_with(&case, explain);
                (case.id, result)
            }
            Err(e) => {
                // The reason names the line within the chunk.
                let local = format!("line {}: ", row.line);
                let reason = match e.reason.strip_prefix(&local) {
                    Some(rest) if lines_before > 0 => format!("line {line}: {rest}"),
                    _ => e.reason,
                };
                (e.id, GroupResult::invalid(reason))
            }
        };
        result.warnings.extend(row.warnings);
        out.push(Grouped { line, id, result, extra: row.extra });
    };
    match chunk {
        Chunk::Rows(rows) => rows.into_iter().for_each(|r| json_row(r, 0)),
        Chunk::Lines { text, lines_before } => {
            for row in JsonCases::new(std::io::Cursor::new(text)).map_err(|e| format!("reading the batch: {e}"))? {
                let row = row.map_err(|e| format!("reading the batch: {e}"))?;
                json_row(row, lines_before);
            }
        }
        Chunk::Records(records) => {
            let layout = layout.expect("CSV records come with their layout");
            let names = layout.extra_columns();
            let (mut case, mut extra, mut warnings) = (Case::default(), Vec::new(), Vec::new());
            for record in records.records() {
                warnings.clear();
                let line = record.line();
                let (id, mut result) = match layout.parse_row(record, &mut case, &mut extra, &mut warnings) {
                    Ok(()) => (case.id.clone(), grouper.group_with(&case, explain)),
                    Err(e) => (e.id, GroupResult::invalid(e.reason)),
                };
                result.warnings.append(&mut warnings);
                let extra = names.iter().cloned().zip(extra.drain(..).map(Value::String)).collect();
                out.push(Grouped { line, id, result, extra });
            }
            give_back(records);
        }
    }
    Ok(out)
}

/// Why writing a batch stopped before its end.
enum Stop {
    /// The client went away.
    Gone,
    /// A chunk could not be read: the batch ends with this error line.
    Unreadable(String),
    /// The deadline passed: the batch ends with a 503 line.
    Timeout,
}

fn stream_batch(
    shared: &Shared,
    pack_index: usize,
    mut input: Input,
    explain: bool,
    deadline: std::time::Instant,
    tx: &tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    let (pack_id, grouper) = &shared.packs[pack_index];
    let layout = input.layout().cloned();
    let mut writer = ResultWriter::new(matches!(input, Input::Array(_)));
    let send = |out: &mut Vec<u8>, tally: &mut Vec<(Status, u64)>| -> bool {
        shared.metrics.cases(pack_id, tally.drain(..));
        tx.blocking_send(Ok(Bytes::from(std::mem::take(out)))).is_ok()
    };
    let (read, written) = drg_core::parallel::ordered_pipeline(
        drg_core::parallel::default_threads(),
        || (),
        |(), chunk, give_back| work(grouper, layout.as_ref(), chunk, explain, give_back),
        |grouped| -> Result<(), Stop> {
            writer.write(grouped.map_err(Stop::Unreadable)?);
            if !send(&mut writer.out, &mut writer.tally) {
                return Err(Stop::Gone);
            }
            if std::time::Instant::now() > deadline {
                return Err(Stop::Timeout);
            }
            Ok(())
        },
        |feeder| input.feed(feeder),
    );
    match written.err().map_or_else(|| read.err().map(Stop::Unreadable), Some) {
        None => {}
        Some(Stop::Gone) => return,
        Some(Stop::Timeout) => {
            let _ = tx.blocking_send(Ok(Bytes::from(timeout_end(shared, writer.rows, writer.array))));
            return;
        }
        Some(Stop::Unreadable(e)) => writer.out.extend_from_slice(&error_line(&e, 400)),
    }
    if writer.array {
        writer.out.push(b']');
    }
    send(&mut writer.out, &mut writer.tally);
}

/// The results of a batch as they are sent: a JSON array or NDJSON, each
/// id checked against the ids before it.
struct ResultWriter {
    array: bool,
    /// The batch is in memory already: so are its ids.
    first_seen: drg_core::ids::DuplicateIds,
    out: Vec<u8>,
    line_buf: Vec<u8>,
    tally: Vec<(Status, u64)>,
    rows: usize,
}

impl ResultWriter {
    fn new(array: bool) -> Self {
        let mut out = Vec::with_capacity(CHUNK_CASES * 256);
        if array {
            out.push(b'[');
        }
        let first_seen = drg_core::ids::DuplicateIds::in_memory();
        ResultWriter { array, first_seen, out, line_buf: Vec::with_capacity(512), tally: Vec::new(), rows: 0 }
    }

    /// Writes a chunk's results.
    fn write(&mut self, grouped: Vec<Grouped<'_>>) {
        for Grouped { line, id, mut result, extra } in grouped {
            if let Some(warning) = self.first_seen.warning(id.trim().as_bytes(), line).expect("an in-memory check reads no file") {
                result.warnings.push(warning);
            }
            count(&mut self.tally, result.status);
            if self.array {
                if self.rows > 0 {
                    self.out.push(b',');
                }
                self.line_buf.clear();
                result.write_json_line(&id, &extra, &mut self.line_buf);
                self.out.extend_from_slice(&self.line_buf[..self.line_buf.len() - 1]);
            } else {
                result.write_json_line(&id, &extra, &mut self.out);
            }
            self.rows += 1;
        }
    }
}

/// Counts one case under its status for the metrics.
fn count(tally: &mut Vec<(Status, u64)>, status: Status) {
    match tally.iter_mut().find(|(s, _)| *s == status) {
        Some((_, n)) => *n += 1,
        None => tally.push((status, 1)),
    }
}

/// The end of a response cut off by the timeout: a 503 error line, as the
/// array's last element when the body is an array.
fn timeout_end(shared: &Shared, rows: usize, array: bool) -> Vec<u8> {
    let message = format!(
        "the batch was not finished within the timeout of {} ms: {rows} cases were grouped, the rest were not",
        shared.options.timeout.as_millis()
    );
    let mut end = error_line(&message, 503);
    if array {
        end = [b",".as_slice(), &end[..end.len() - 1], b"]"].concat();
    }
    end
}

pub(crate) fn error_line(message: &str, status: u16) -> Vec<u8> {
    let mut line = serde_json::to_vec(&json!({"error": message, "status": status})).expect("JSON to memory");
    line.push(b'\n');
    line
}
