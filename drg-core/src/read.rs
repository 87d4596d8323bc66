//! Opening a file of cases, whatever its shape: the one entry point every
//! command and binding uses (specs/cases.md, specs/columns.md).
//!
//! ```no_run
//! use drg_core::read::{open_cases, ReadOptions};
//!
//! let mut source = open_cases("export.xlsx", &ReadOptions::default())?;
//! for row in source.rows() {
//!     let row = row?;
//!     match row.case {
//!         Ok(case) => println!("{} {:?} {:?}", case.id, case.diagnoses, row.warnings),
//!         Err(e) => println!("{}: {}", e.id, e.reason),
//!     }
//! }
//! # Ok::<(), drg_core::io::InputError>(())
//! ```
//!
//! A path is read as CSV (UTF-8, or GBK with [`TextEncoding::Gbk`]), JSON
//! (one object a line, or an array) or an Excel workbook, by its extension or
//! its first bytes; headers are understood by [`crate::columns`] (aliases,
//! wide code columns, a [`ColumnMap`]); a header that cannot be read
//! unambiguously is refused before any row.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use crate::case::Case;
use crate::columns::{CodeList, ColumnMap, ColumnPlan, Understood};
use crate::io::{CsvCases, CsvLayout, InputError, JsonCases, JsonPart, Record, RecordBatch, RowError};
use crate::xlsx::XlsxRows;

/// The text encoding of a CSV or JSON input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TextEncoding {
    /// UTF-8 (the default; a BOM is skipped).
    #[default]
    Utf8,
    /// GBK / GB18030, common in HIS exports.
    Gbk,
}

/// The format of an input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InputKind {
    /// By the file's extension, else its first bytes.
    #[default]
    Auto,
    /// CSV with a header line.
    Csv,
    /// JSON: one object per line, or an array of objects.
    Json,
    /// An Excel workbook (.xlsx).
    Xlsx,
}

/// How to read a file of cases.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// The format: CSV, JSON, Excel, or guessed from the name (the default).
    pub kind: InputKind,
    /// The worksheet of a workbook (default: the first).
    pub sheet: Option<String>,
    /// The text encoding of a CSV or JSON file.
    pub encoding: TextEncoding,
    /// A user's own column names (`--columns MAP.toml`).
    pub columns: Option<Arc<ColumnMap>>,
}

/// One row read, whatever the format.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadRow {
    /// The line (CSV, JSONL), item (JSON array) or sheet row (Excel).
    pub line: u64,
    /// The case, or why the row could not be read.
    pub case: Result<Case, RowError>,
    /// The carried-through columns: name and value as text.
    pub extra: Vec<(String, String)>,
    /// Reading warnings, to add to the result's.
    pub warnings: Vec<String>,
}

/// Cases from a file: records (CSV, Excel) read by one [`CsvLayout`], or JSON
/// objects.
#[allow(clippy::large_enum_variant)] // one per input, not per row
pub enum CaseSource {
    /// CSV or Excel rows.
    Records(RecordSource),
    /// JSON objects.
    Json(JsonCases<Box<dyn BufRead>>),
}

/// CSV or Excel rows as raw records with the layout that reads them (so that
/// a caller may parse them on other threads).
pub struct RecordSource {
    layout: CsvLayout,
    inner: Records,
}

enum Records {
    Csv(CsvCases<Box<dyn BufRead>>),
    /// A CSV whose rows need not be whole cases ([`open_records`]).
    Plain(crate::io::CsvRows<Box<dyn BufRead>>),
    Xlsx(XlsxRows),
}

impl RecordSource {
    /// How the header was understood; it turns records into cases.
    pub fn layout(&self) -> &CsvLayout {
        &self.layout
    }

    /// Reads the next record; false at the end.
    pub fn read_record(&mut self, record: &mut Record) -> Result<bool, InputError> {
        match &mut self.inner {
            Records::Csv(c) => c.read_record(record),
            Records::Plain(c) => c.read(record),
            Records::Xlsx(x) => x.read_record(record),
        }
    }

    /// Refills `batch` with the next rows, reusing its memory: at most
    /// `max_rows`, stopping once they hold `max_bytes` bytes of cells (a
    /// batch of long rows is no bigger in memory than one of short rows).
    /// True when the batch stopped full (more rows may follow), false at the
    /// end of the input. On a failure the rows read before it stay in the
    /// batch, to be handled before the error is.
    ///
    /// The batch is parsed elsewhere, on any thread, with [`Self::layout`]:
    ///
    /// ```no_run
    /// use drg_core::io::RecordBatch;
    /// use drg_core::read::{open_cases, CaseSource, ReadOptions};
    ///
    /// let CaseSource::Records(mut source) = open_cases("cases.csv", &ReadOptions::default())? else { return Ok(()) };
    /// let mut batch = RecordBatch::new();
    /// let (mut case, mut extra, mut warnings) = (drg_core::Case::default(), Vec::new(), Vec::new());
    /// loop {
    ///     let more = source.read_batch(&mut batch, 2048, 8 << 20)?;
    ///     for record in batch.records() {
    ///         match source.layout().parse_row(record, &mut case, &mut extra, &mut warnings) {
    ///             Ok(()) => println!("line {}: {}", record.line(), case.id),
    ///             Err(e) => println!("{}", e.reason),
    ///         }
    ///     }
    ///     if !more {
    ///         break;
    ///     }
    /// }
    /// # Ok::<(), drg_core::io::InputError>(())
    /// ```
    pub fn read_batch(&mut self, batch: &mut RecordBatch, max_rows: usize, max_bytes: usize) -> Result<bool, InputError> {
        batch.fill(max_rows, max_bytes, |record| self.read_record(record))
    }

    /// The column holding the cases.md field `name` under its name, an
    /// alias or the mapping file's name; else the column whose header is
    /// written exactly `name` (a column no field names, such as the
    /// `status` and `drg` of grouped results).
    pub fn column(&self, name: &str) -> Option<usize> {
        let plan = self.layout.plan();
        plan.columns
            .iter()
            .position(|c| matches!(&c.understood, Understood::Field { target, .. } if target.name() == name))
            .or_else(|| plan.columns.iter().position(|c| c.header == name))
    }

    /// The columns of the diagnoses in their order: the `diagnoses` column,
    /// or the wide diagnosis columns (principal first).
    pub fn diagnosis_columns(&self) -> Vec<usize> {
        if let Some(c) = self.column("diagnoses") {
            return vec![c];
        }
        let plan = self.layout.plan();
        plan.wide.iter().filter(|w| w.list == CodeList::Diagnoses).flat_map(|w| w.order.iter().copied()).collect()
    }

    /// Whether the header has every column a case needs to be grouped
    /// ([`crate::io::REQUIRED_COLUMNS`]).
    pub fn has_case_columns(&self) -> bool {
        crate::io::REQUIRED_COLUMNS.iter().all(|f| self.layout.plan().has(*f))
    }

    /// How many columns the header has.
    pub fn width(&self) -> usize {
        self.layout.plan().columns.len()
    }

    /// How far the reader is in a CSV input, in bytes (for a progress line).
    pub fn is_xlsx(&self) -> bool {
        matches!(self.inner, Records::Xlsx(_))
    }
}

impl CaseSource {
    /// Every row, parsed.
    pub fn rows(&mut self) -> impl Iterator<Item = Result<ReadRow, InputError>> + '_ {
        let mut record = Record::new();
        std::iter::from_fn(move || match self {
            CaseSource::Records(r) => match r.read_record(&mut record) {
                Err(e) => Some(Err(e)),
                Ok(false) => None,
                Ok(true) => {
                    let (mut case, mut extra, mut warnings) = (Case::default(), Vec::new(), Vec::new());
                    let line = record.line();
                    let read = r.layout.parse_row(&record, &mut case, &mut extra, &mut warnings);
                    let extra = r.layout.extra_columns().iter().cloned().zip(extra).collect();
                    Some(Ok(ReadRow { line, case: read.map(|()| case), extra, warnings }))
                }
            },
            CaseSource::Json(j) => j.next().map(|row| {
                row.map(|row| ReadRow {
                    line: row.line,
                    case: row.case,
                    extra: row
                        .extra
                        .into_iter()
                        .map(|(k, v)| {
                            let text = match v {
                                serde_json::Value::String(s) => s,
                                serde_json::Value::Null => String::new(),
                                other => other.to_string(),
                            };
                            (k, text)
                        })
                        .collect(),
                    warnings: row.warnings,
                })
            }),
        })
    }

    /// The column plan of a records source (`None` for JSON, whose keys are
    /// read object by object).
    pub fn plan(&self) -> Option<&ColumnPlan> {
        match self {
            CaseSource::Records(r) => Some(r.layout.plan()),
            CaseSource::Json(_) => None,
        }
    }
}

/// What a path holds, by its extension, else its first bytes.
pub fn detect_kind(path: &str, start: &[u8]) -> InputKind {
    if let Some(kind) = kind_by_extension(path) {
        return kind;
    }
    if start.starts_with(b"PK\x03\x04") {
        return InputKind::Xlsx;
    }
    let text = start.strip_prefix("\u{feff}".as_bytes()).unwrap_or(start);
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | Some(b'[') => InputKind::Json,
        _ => InputKind::Csv,
    }
}

fn kind_by_extension(path: &str) -> Option<InputKind> {
    let ext = Path::new(path).extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "xlsx" | "xlsm" => Some(InputKind::Xlsx),
        "json" | "jsonl" | "ndjson" => Some(InputKind::Json),
        "csv" | "tsv" | "txt" => Some(InputKind::Csv),
        _ => None,
    }
}

/// Opens a text input (a path, or `-` for standard input) as UTF-8: GBK is
/// decoded with [`TextEncoding::Gbk`]; otherwise an input whose first
/// megabyte is not UTF-8 is refused, naming the encoding it looks like. (A
/// GBK file can pass for UTF-8 cell by cell — 女 in GBK is Ů in UTF-8 — so
/// the check is made on the whole start of the file, not per cell.)
pub fn open_text(path: &str, encoding: TextEncoding) -> Result<Box<dyn BufRead>, InputError> {
    let mut raw: Box<dyn Read> = if path == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(File::open(path).map_err(|e| InputError::Io(std::io::Error::new(e.kind(), format!("{path}: {e}"))))?)
    };
    if encoding == TextEncoding::Gbk {
        let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new().encoding(Some(encoding_rs::GB18030)).build(raw);
        return Ok(Box::new(BufReader::with_capacity(1 << 20, decoded)));
    }
    // The first read (up to a megabyte) is checked, then read again by
    // the buffered reader; past it, a reader that reads more than the
    // buffer holds (the CSV reader) is given the bytes straight from the
    // source, not copied through the buffer.
    let mut head = vec![0; CHECKED_BYTES];
    let n = crate::io::read_retrying(&mut raw, &mut head)?;
    head.truncate(n);
    if let Err(e) = std::str::from_utf8(&head) {
        // A sequence cut at the end of the buffer is not an error.
        if e.error_len().is_some() {
            let at = e.valid_up_to();
            let (_, _, gbk_errors) = encoding_rs::GB18030.decode(&head);
            let guess = if gbk_errors {
                ""
            } else {
                " It reads as GBK (GB18030), common in HIS exports: give --encoding gbk, or convert it (iconv -f GBK -t UTF-8)."
            };
            return Err(InputError::Encoding { file: Some(path.to_string()), column: None, byte: Some((at, head[at])), detail: guess.to_string() });
        }
    }
    Ok(Box::new(BufReader::with_capacity(TEXT_BUFFER_BYTES, ReadAgain { head, at: 0, rest: raw })))
}

/// The start of a text input checked for UTF-8 (one read of at most this).
const CHECKED_BYTES: usize = 1 << 20;

/// The buffer of a text input: for the readers that read a line at a time
/// (JSON lines); the CSV reader reads more than this at once, which the
/// buffer then passes through.
const TEXT_BUFFER_BYTES: usize = 64 << 10;

/// A source whose first bytes were read already: those bytes, then the rest
/// of the source.
struct ReadAgain {
    head: Vec<u8>,
    /// How much of `head` was read again.
    at: usize,
    rest: Box<dyn Read>,
}

impl Read for ReadAgain {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.head.len() {
            return self.rest.read(buf);
        }
        let n = buf.len().min(self.head.len() - self.at);
        buf[..n].copy_from_slice(&self.head[self.at..self.at + n]);
        self.at += n;
        if self.at == self.head.len() {
            // Read again: its memory goes.
            (self.head, self.at) = (Vec::new(), 0);
        }
        Ok(n)
    }
}

/// Opens a file of cases (`-`: standard input, CSV or JSON) with `options`.
/// Fails before any row for a file that cannot be opened, a header that is
/// ambiguous or lacks the required fields, or a workbook that cannot be read.
pub fn open_cases(path: &str, options: &ReadOptions) -> Result<CaseSource, InputError> {
    let map = options.columns.as_deref();
    let kind = match options.kind {
        InputKind::Auto if kind_by_extension(path) == Some(InputKind::Xlsx) => InputKind::Xlsx,
        InputKind::Auto if path != "-" => {
            let mut start = [0u8; 4];
            let n = File::open(path).and_then(|mut f| f.read(&mut start)).unwrap_or(0);
            match detect_kind(path, &start[..n]) {
                InputKind::Xlsx => InputKind::Xlsx,
                _ => InputKind::Auto,
            }
        }
        k => k,
    };
    if kind == InputKind::Xlsx {
        if path == "-" {
            return Err(InputError::xlsx_from_stdin());
        }
        let rows = XlsxRows::open(Path::new(path), options.sheet.as_deref())?;
        let layout = CsvLayout::from_names(rows.header(), map)?;
        return Ok(CaseSource::Records(RecordSource { layout, inner: Records::Xlsx(rows) }));
    }
    let mut input = open_text(path, options.encoding)?;
    let json = match kind {
        InputKind::Json => true,
        InputKind::Csv => false,
        _ => match kind_by_extension(path) {
            Some(k) => k == InputKind::Json,
            None => detect_kind("", input.fill_buf()?) == InputKind::Json,
        },
    };
    if json {
        return Ok(CaseSource::Json(JsonCases::new(input)?.with_map(options.columns.clone())));
    }
    let cases = CsvCases::with_map(input, map)?;
    let layout = cases.layout().clone();
    Ok(CaseSource::Records(RecordSource { layout, inner: Records::Csv(cases) }))
}

/// The text of a raw cell as every reader reads it: trimmed, without the
/// marks the Excel reader puts on number and boolean cells, and lossy for
/// bytes that are not UTF-8 (a reader that needs to report those checks
/// `std::str::from_utf8` itself).
pub fn cell_text(raw: &[u8]) -> std::borrow::Cow<'_, str> {
    let unmarked = |t: &str| -> String { t.trim_start_matches([crate::io::NUMBER_CELL_MARK, crate::io::BOOLEAN_CELL_MARK]).trim().to_string() };
    match std::str::from_utf8(raw) {
        Ok(t) if raw.first() == Some(&0xEE) => std::borrow::Cow::Owned(unmarked(t)),
        Ok(t) => std::borrow::Cow::Borrowed(t.trim()),
        Err(_) => std::borrow::Cow::Owned(unmarked(&String::from_utf8_lossy(raw))),
    }
}

/// Opens a file whose rows need not be whole cases (grouped results for
/// point calculation and indicators, which need only a few columns): CSV
/// (UTF-8 or GBK) or an Excel workbook, its header understood as
/// [`open_cases`] understands it, but without requiring the columns a case
/// needs to be grouped (see [`RecordSource::has_case_columns`]). A JSON
/// input is refused: its keys are read object by object, not as columns.
pub fn open_records(path: &str, options: &ReadOptions) -> Result<RecordSource, InputError> {
    let map = options.columns.as_deref();
    let kind = match options.kind {
        InputKind::Auto if path != "-" => {
            let mut start = [0u8; 4];
            let n = File::open(path).and_then(|mut f| f.read(&mut start)).unwrap_or(0);
            match detect_kind(path, &start[..n]) {
                InputKind::Xlsx => InputKind::Xlsx,
                InputKind::Json => InputKind::Json,
                _ => InputKind::Auto,
            }
        }
        k => k,
    };
    match kind {
        InputKind::Xlsx => {
            if path == "-" {
                return Err(InputError::xlsx_from_stdin());
            }
            let rows = XlsxRows::open(Path::new(path), options.sheet.as_deref())?;
            let layout = CsvLayout::from_names_unchecked(rows.header(), map)?;
            Ok(RecordSource { layout, inner: Records::Xlsx(rows) })
        }
        InputKind::Json => Err(InputError::json_refused()),
        _ => {
            let mut input = open_text(path, options.encoding)?;
            if options.kind == InputKind::Auto && detect_kind("", input.fill_buf()?) == InputKind::Json {
                return Err(InputError::json_refused());
            }
            let mut reader = crate::io::CsvRows::new(input, crate::io::CsvLimits::default());
            let mut header = Record::new();
            reader.read(&mut header)?;
            if header.is_empty() || (header.len() == 1 && header[0].trim_ascii().is_empty()) {
                return Err(InputError::Empty);
            }
            let mut names = Vec::with_capacity(header.len());
            for (i, raw) in header.iter().enumerate() {
                let name = std::str::from_utf8(raw).map_err(|e| InputError::header_encoding(i, e))?;
                names.push(name.to_string());
            }
            let layout = CsvLayout::from_names_unchecked(&names, map)?;
            Ok(RecordSource { layout, inner: Records::Plain(reader) })
        }
    }
}

/// How a file's header is understood, without reading its rows (for
/// `drg columns`): the plan even when required fields are missing.
pub fn plan_of(path: &str, options: &ReadOptions) -> Result<ColumnPlan, InputError> {
    let map = options.columns.as_deref();
    let mut start = [0u8; 4];
    let n = if path == "-" { 0 } else { File::open(path).and_then(|mut f| f.read(&mut start)).unwrap_or(0) };
    let kind = match options.kind {
        InputKind::Auto => detect_kind(path, &start[..n]),
        k => k,
    };
    let names: Vec<String> = match kind {
        InputKind::Xlsx => XlsxRows::open(Path::new(path), options.sheet.as_deref())?.header().to_vec(),
        InputKind::Json => {
            let mut input = open_text(path, options.encoding)?;
            let mut line = String::new();
            input.read_line(&mut line)?;
            let value: serde_json::Value = serde_json::from_str(line.trim().trim_start_matches('\u{feff}').trim_start_matches('['))
                .or_else(|_| serde_json::from_str(line.trim().trim_start_matches('[').trim_end_matches([',', ']'])))
                .map_err(|e| InputError::json(Some(JsonPart::FirstObject), &e))?;
            value.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
        }
        _ => {
            let input = open_text(path, options.encoding)?;
            let mut reader = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(input);
            let header = reader.byte_headers().map_err(InputError::from_csv)?;
            header.iter().map(|h| String::from_utf8_lossy(h).into_owned()).collect()
        }
    };
    Ok(ColumnPlan::from_headers(&names, map)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checked start and the rest of a source read back as the source,
    /// whatever the sizes of the reads.
    #[test]
    fn a_source_read_again_is_the_source() {
        let source: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        for head_len in [0, 1, 999, 10_000] {
            for read_len in [1, 7, 1000, 4096, 20_000] {
                let (head, rest) = source.split_at(head_len);
                let mut again = ReadAgain { head: head.to_vec(), at: 0, rest: Box::new(std::io::Cursor::new(rest.to_vec())) };
                let mut back = Vec::new();
                let mut buf = vec![0; read_len];
                loop {
                    let n = again.read(&mut buf).unwrap();
                    if n == 0 {
                        break;
                    }
                    back.extend_from_slice(&buf[..n]);
                }
                assert_eq!(back, source, "head {head_len}, reads of {read_len}");
            }
        }
    }

    /// A CSV longer than the checked start is read whole: every row, in
    /// order; a byte that is not UTF-8 past the start is the error of its
    /// row only.
    #[test]
    fn a_csv_past_its_checked_start_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.csv");
        let rows = 3 * CHECKED_BYTES / 100;
        let mut text = String::from("id,sex,age_years,los_days,diagnoses,procedures\n");
        for i in 0..rows {
            text.push_str(&format!("C{i:08},1,40,5,K35.800|I10.x00|E11.900|J18.900|N39.000,47.0900\n"));
        }
        let mut bytes = text.into_bytes();
        // A GBK byte in the diagnoses of a row two megabytes in.
        let bad_row = rows * 2 / 3;
        let id = format!("C{bad_row:08},");
        let at = bytes.windows(id.len()).position(|w| w == id.as_bytes()).unwrap() + 20;
        bytes[at] = 0xC5;
        std::fs::write(&path, &bytes).unwrap();
        let mut source = open_cases(path.to_str().unwrap(), &ReadOptions::default()).unwrap();
        let read: Vec<ReadRow> = source.rows().map(|r| r.unwrap()).collect();
        assert_eq!(read.len(), rows);
        for (i, row) in read.iter().enumerate() {
            match &row.case {
                Ok(case) => assert_eq!((i != bad_row, case.id.as_str()), (true, format!("C{i:08}").as_str())),
                Err(e) => assert_eq!((i, e.id.as_str()), (bad_row, format!("C{i:08}").as_str()), "{}", e.reason),
            }
        }
    }
}
