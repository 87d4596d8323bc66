//! Reading cases from CSV and JSON (specs/cases.md).
//!
//! Readers never stop at a bad row: a row that cannot be read becomes a
//! [`CaseRow`] whose `case` is an error with the line and the reason, so that
//! the output keeps one row per input row. Only a failure to read the input at
//! all (an I/O error, a header without the required columns) is fatal.

use std::io::{BufRead, Read};

use serde_json::Value;

use crate::case::{Case, Field};
use crate::columns::{CodeList, ColumnMap, ColumnPlan, ColumnsError, Target, Understood, WideList};

mod rows;
pub use rows::CsvRows;

/// A row that could not be read as a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// The row's id, when it could be read.
    pub id: String,
    /// `line 12: age_years: "abc" is not a number`.
    pub reason: String,
}

/// One input row.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseRow {
    /// The line the row starts on (1 is the CSV header), or the item number of
    /// a JSON array.
    pub line: u64,
    /// The case, or why the row could not be read.
    pub case: Result<Case, RowError>,
    /// The values of the input's unknown columns, in [`CsvCases::extra_columns`] order.
    pub extra: Vec<String>,
}

/// A failure to read the input as a whole. The place (file, line, column,
/// sheet) is kept as fields; the message (`Display`) is built from them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The input cannot be read.
    #[error("{0}")]
    Io(#[source] std::io::Error),
    /// The CSV cannot be read (a syntax the reader refuses).
    #[error("{message}")]
    #[non_exhaustive]
    Csv {
        /// The line the failing record starts on, when the reader knows it.
        line: Option<u64>,
        /// What the CSV reader said.
        message: String,
    },
    /// A line, header or field past [`CsvLimits`], or an unterminated quote:
    /// the message names the line and shows at most a short prefix.
    #[error("{}", limit_message(.line, .what, .limit, .prefix, .truncated))]
    #[non_exhaustive]
    Limit {
        /// The line the row starts on (for an unterminated quote, the line
        /// the quote opens on).
        line: u64,
        /// What grew past its limit.
        what: LimitKind,
        /// The limit in bytes (none for an unterminated quote, which has no
        /// size limit of its own).
        limit: Option<usize>,
        /// The first bytes of the row, as text (invalid UTF-8 replaced).
        prefix: String,
        /// Whether the row goes on past `prefix`.
        truncated: bool,
    },
    /// Not even a header line.
    #[error("the input is empty: a CSV of cases starts with a header line")]
    Empty,
    /// A required column is missing.
    #[error("the header has no column {missing} (it has: {found})")]
    #[non_exhaustive]
    MissingColumns {
        /// The missing columns.
        missing: String,
        /// The header's columns.
        found: String,
    },
    /// Two columns with one name.
    #[error("the header names column {0:?} twice")]
    DuplicateColumn(String),
    /// Not UTF-8 (and not read as GBK).
    #[error("the input is not valid UTF-8 ({}); convert it first (HIS exports are often GBK: iconv -f GBK -t UTF-8)", encoding_detail(.file, .column, .byte, .detail))]
    #[non_exhaustive]
    Encoding {
        /// The file, when one was opened by name.
        file: Option<String>,
        /// The header's column (1-based) that is not UTF-8.
        column: Option<usize>,
        /// The offset in the file of the first byte that is not UTF-8, and
        /// that byte.
        byte: Option<(usize, u8)>,
        /// What else is known (an encoding the bytes read as).
        detail: String,
    },
    /// JSON that cannot be read as cases.
    #[error("{}{message}", json_place(.part))]
    #[non_exhaustive]
    Json {
        /// The part of the input that could not be read, when one was.
        part: Option<JsonPart>,
        /// Where JSON stopped parsing, when it did: the 1-based line and
        /// column the parser (and the message) counts, from the part's first
        /// non-blank character.
        at: Option<(u64, u64)>,
        /// Why (the JSON parser's message names the place too).
        message: String,
    },
    /// An Excel workbook that cannot be read.
    #[error("{}{message}", xlsx_place(.file, .sheet))]
    #[non_exhaustive]
    Xlsx {
        /// The workbook file, when one was named.
        file: Option<String>,
        /// The sheet, when the failure is in one.
        sheet: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A header that cannot be read unambiguously (specs/columns.md).
    #[error("{0}")]
    Columns(#[from] ColumnsError),
}

/// What grew past its [`CsvLimits`] (or [`MAX_LINE_BYTES`] for JSONL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitKind {
    /// A row (the header line when `header`); `open_quote` is the line of a
    /// quote still open when the row reached the limit.
    #[non_exhaustive]
    Row {
        /// The header line, not a row of cases.
        header: bool,
        /// The line a quote open at the limit was opened on.
        open_quote: Option<u64>,
    },
    /// One field of a row (or of the header line).
    #[non_exhaustive]
    Field {
        /// The header line, not a row of cases.
        header: bool,
        /// The field's number (1-based).
        field: usize,
    },
    /// A quote that the input ends inside.
    UnterminatedQuote,
    /// A line of JSONL.
    JsonLine,
}

/// The part of a JSON input [`InputError::Json`] could not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonPart {
    /// The array holding every case.
    Array,
    /// The first object (read for its keys).
    FirstObject,
}

fn json_place(part: &Option<JsonPart>) -> &'static str {
    match part {
        Some(JsonPart::Array) => "the JSON array: ",
        Some(JsonPart::FirstObject) => "the first object: ",
        None => "",
    }
}

fn xlsx_place(file: &Option<String>, sheet: &Option<String>) -> String {
    let mut place = String::new();
    if let Some(file) = file {
        place.push_str(file);
        place.push_str(": ");
    }
    if let Some(sheet) = sheet {
        place.push_str(&format!("sheet {sheet:?}: "));
    }
    place
}

fn encoding_detail(file: &Option<String>, column: &Option<usize>, byte: &Option<(usize, u8)>, detail: &str) -> String {
    let mut text = String::new();
    if let Some(file) = file {
        text.push_str(&format!("{file}: "));
    }
    if let Some(column) = column {
        text.push_str(&format!("header, column {column}: "));
    }
    if let Some((at, value)) = byte {
        text.push_str(&format!("not UTF-8 (byte {at} is 0x{value:02X})."));
    }
    text.push_str(detail);
    text
}

fn limit_message(line: &u64, what: &LimitKind, limit: &Option<usize>, prefix: &str, truncated: &bool) -> String {
    let start = format!("{prefix:?}{}", if *truncated { "…" } else { "" });
    let limit = limit.unwrap_or(0);
    let row = |header: bool| if header { "the header line" } else { "a row" };
    match *what {
        LimitKind::Row { header, open_quote } => {
            let quote = open_quote.map_or(String::new(), |q| format!(" (a quote opened on line {q} is perhaps never closed)"));
            format!("line {line}: {} longer than {limit} bytes, starting {start}{quote}; drg refuses rows that long", row(header))
        }
        LimitKind::Field { header, field } => format!(
            "line {line}: field {field} of {} is longer than {limit} bytes (the row starts {start}); drg refuses fields that long",
            row(header)
        ),
        LimitKind::UnterminatedQuote => format!(
            "line {line}: a quote opened here is never closed (the row starts {start}); every line after it would be read as one field, so the input is refused"
        ),
        LimitKind::JsonLine => format!("line {line}: a line longer than {limit} bytes, starting {start}; drg refuses lines that long"),
    }
}

impl InputError {
    /// An error of the csv crate, read back into a variant: an input past
    /// [`CsvLimits`] (raised by [`GuardedCsv`] through the reader) becomes
    /// [`InputError::Limit`], an I/O failure [`InputError::Io`], anything
    /// else [`InputError::Csv`]. Kept out of the public API, so that the csv
    /// crate's types are not part of it.
    pub(crate) fn from_csv(e: csv::Error) -> InputError {
        let line = e.position().map(csv::Position::line);
        let message = e.to_string();
        match e.into_kind() {
            csv::ErrorKind::Io(io) => InputError::from(io),
            _ => InputError::Csv { line, message },
        }
    }

    /// JSON that stopped parsing (`e`) in `part` of the input.
    pub(crate) fn json(part: Option<JsonPart>, e: &serde_json::Error) -> InputError {
        let at = (e.line() > 0).then(|| (e.line() as u64, e.column() as u64));
        InputError::Json { part, at, message: e.to_string() }
    }

    /// An Excel workbook named as standard input.
    pub(crate) fn xlsx_from_stdin() -> InputError {
        InputError::Xlsx { file: None, sheet: None, message: "an Excel workbook is read from a file, not from standard input".into() }
    }

    /// JSON given to a command that reads tables only.
    pub(crate) fn json_refused() -> InputError {
        InputError::Json { part: None, at: None, message: "this command reads a CSV or an .xlsx workbook, not JSON".into() }
    }

    /// A header column (0-based `index`) that is not UTF-8.
    pub(crate) fn header_encoding(index: usize, e: std::str::Utf8Error) -> InputError {
        InputError::Encoding { file: None, column: Some(index + 1), byte: None, detail: e.to_string() }
    }

    /// The line of the input to blame (1 is a CSV's header line), when the
    /// error names one.
    pub fn line(&self) -> Option<u64> {
        match self {
            InputError::Csv { line, .. } => *line,
            InputError::Limit { line, .. } => Some(*line),
            InputError::Json { at, .. } => at.map(|(line, _)| line),
            InputError::Encoding { column: Some(_), .. } => Some(1),
            _ => None,
        }
    }

    /// The file to blame, when the error names one (a workbook, a file that
    /// is not UTF-8).
    pub fn file(&self) -> Option<&str> {
        match self {
            InputError::Encoding { file, .. } | InputError::Xlsx { file, .. } => file.as_deref(),
            _ => None,
        }
    }
}

/// The overrun [`GuardedCsv`] raises through the csv reader (as the source of
/// an [`std::io::Error`]), read back by [`InputError::from_csv`].
#[derive(Clone, Debug)]
struct Overrun {
    line: u64,
    what: LimitKind,
    limit: Option<usize>,
    prefix: String,
    truncated: bool,
}

impl std::fmt::Display for Overrun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&limit_message(&self.line, &self.what, &self.limit, &self.prefix, &self.truncated))
    }
}

impl std::error::Error for Overrun {}

impl From<Overrun> for InputError {
    fn from(o: Overrun) -> Self {
        InputError::Limit { line: o.line, what: o.what, limit: o.limit, prefix: o.prefix, truncated: o.truncated }
    }
}

impl From<std::io::Error> for InputError {
    fn from(e: std::io::Error) -> Self {
        match e.get_ref().and_then(|inner| inner.downcast_ref::<Overrun>()) {
            Some(overrun) => overrun.clone().into(),
            None => InputError::Io(e),
        }
    }
}

/// The columns a CSV must have: without them no row could be grouped.
pub const REQUIRED_COLUMNS: [Field; 4] = [Field::Id, Field::Sex, Field::AgeYears, Field::Diagnoses];

/// Cases from a CSV with a header line naming the columns of specs/cases.md.
/// Column order is free; unknown columns are kept in [`CaseRow::extra`].
pub struct CsvCases<R: Read> {
    rows: CsvRows<R>,
    layout: CsvLayout,
    record: Record,
}

/// One raw row of a CSV or a worksheet: its cells as bytes and the line it
/// starts on. A reader fills it; a [`CsvLayout`] reads it as a case, on any
/// thread. Its memory is reused from row to row.
///
/// The cells are kept in one buffer, one separator byte between two cells,
/// so that a plain CSV line is its own buffer: it is copied in one go and
/// only its commas are noted (see `io/rows.rs`).
#[derive(Clone, Debug, Default)]
pub struct Record {
    /// The cells, each but the last followed by one byte that is not in it.
    bytes: Vec<u8>,
    /// Where each cell ends in `bytes`; the next starts one byte later.
    ends: Vec<usize>,
    line: u64,
    byte: u64,
    /// Every byte of `bytes` is known to be ASCII: the plain CSV reader
    /// saw it on its way through the line, so the row needs no UTF-8
    /// check of its own (false when unknown).
    ascii: bool,
}

/// Records are equal by their cells and place; what is known of their
/// bytes is not part of them.
impl PartialEq for Record {
    fn eq(&self, other: &Record) -> bool {
        (&self.bytes, &self.ends, self.line, self.byte) == (&other.bytes, &other.ends, other.line, other.byte)
    }
}

impl Eq for Record {}

impl Record {
    /// An empty record.
    pub fn new() -> Self {
        Record::default()
    }

    /// A record of these cells (line 0: not read from a file).
    pub fn from_cells<I: IntoIterator<Item = T>, T: AsRef<[u8]>>(cells: I) -> Self {
        let mut record = Record::new();
        for cell in cells {
            record.push_cell(cell.as_ref());
        }
        record
    }

    /// How many cells it has.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether it has no cell.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The cell in column `i` (from 0), if there is one.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.span(i).map(|(start, end)| &self.bytes[start..end])
    }

    /// The cells in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).map(|i| &self[i])
    }

    /// The line it starts on (a CSV's line, 1 being the header; a sheet's
    /// row number), 0 when unknown.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The byte of a CSV input it starts at (0 for a worksheet's row): how
    /// far the reading is, for a progress line.
    pub fn byte(&self) -> u64 {
        self.byte
    }

    /// An empty record with room for `bytes` bytes in `cells` cells.
    pub(crate) fn with_capacity(bytes: usize, cells: usize) -> Self {
        Record { bytes: Vec::with_capacity(bytes), ends: Vec::with_capacity(cells), line: 0, byte: 0, ascii: false }
    }

    /// Where cell `i` is in [`Self::bytes`].
    #[inline]
    pub(crate) fn span(&self, i: usize) -> Option<(usize, usize)> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] + 1 };
        Some((start, end))
    }

    /// Every cell's bytes, with the bytes between them.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether its bytes are known to be all ASCII (see [`Self::text`]).
    #[inline]
    pub(crate) fn is_ascii(&self) -> bool {
        self.ascii
    }

    /// [`Self::bytes`] as text, when they are UTF-8: checked here unless
    /// the reader already saw that they are all ASCII.
    #[inline]
    pub(crate) fn text(&self) -> Option<&str> {
        if self.ascii {
            // SAFETY: `ascii` is set only by `set_plain_line`, for a line
            // whose every byte `scan_line` saw below 0x80, and every other
            // change of `bytes` clears it; ASCII is UTF-8.
            Some(unsafe { std::str::from_utf8_unchecked(&self.bytes) })
        } else {
            std::str::from_utf8(&self.bytes).ok()
        }
    }

    /// Where each cell ends in [`Self::bytes`]; the next starts one byte
    /// later.
    #[inline]
    pub(crate) fn ends(&self) -> &[usize] {
        &self.ends
    }

    /// Empties it, for a row starting on `line`, at `byte` of the input.
    pub(crate) fn start(&mut self, line: u64, byte: u64) {
        self.bytes.clear();
        self.ends.clear();
        self.ascii = false;
        self.line = line;
        self.byte = byte;
    }

    /// Adds a cell at the end.
    pub(crate) fn push_cell(&mut self, cell: &[u8]) {
        self.ascii = false;
        if !self.ends.is_empty() {
            self.bytes.push(b',');
        }
        self.bytes.extend_from_slice(cell);
        self.ends.push(self.bytes.len());
    }

    /// A record of the csv crate's, with its position.
    pub(crate) fn copy_csv(&mut self, record: &csv::ByteRecord) {
        let at = record.position().map_or((0, 0), |p| (p.line(), p.byte()));
        self.start(at.0, at.1);
        for cell in record {
            self.push_cell(cell);
        }
    }

    /// Scans the CSV line at the start of `rest` (see [`scan_line`]),
    /// noting its commas as the cells' ends; [`Self::set_plain_line`] then
    /// makes it the record when it holds no quote.
    pub(crate) fn scan_line(&mut self, rest: &[u8]) -> LineScan {
        self.ends.clear();
        scan_line(rest, &mut self.ends)
    }

    /// Makes it the cells of the line `scan` found at the start of `rest`,
    /// which holds no quote: the line copied as it is, its commas (noted
    /// by the scan) the cells' ends.
    pub(crate) fn set_plain_line(&mut self, rest: &[u8], scan: &LineScan) {
        let line = &rest[..scan.len];
        self.bytes.clear();
        self.bytes.extend_from_slice(line);
        self.ends.push(line.len());
        // `text` trusts this flag without a check (see its SAFETY note).
        debug_assert!(!scan.ascii || line.is_ascii(), "a scan of another line");
        self.ascii = scan.ascii;
    }
}

/// A streaming reader's buffer made ready for more input: the unread bytes
/// `buf[*start..*end]` move to the front, the buffer doubles (up to `max`
/// bytes) when they fill it, and one read goes after them. The bytes read (0
/// at the end of the input), or `None` when the unread bytes fill `max`.
/// The CSV reader (`io/rows.rs`) and the sheet scanner (`xlsx/scan.rs`)
/// both stream through such a buffer.
pub(crate) fn refill(input: &mut impl Read, buf: &mut Vec<u8>, start: &mut usize, end: &mut usize, max: usize) -> std::io::Result<Option<usize>> {
    buf.copy_within(*start..*end, 0);
    *end -= *start;
    *start = 0;
    if *end == buf.len() {
        if buf.len() >= max {
            return Ok(None);
        }
        buf.resize(buf.len().saturating_mul(2).min(max), 0);
    }
    let n = read_retrying(input, &mut buf[*end..])?;
    *end += n;
    Ok(Some(n))
}

/// `input.read(buf)`, read again while it is interrupted (a signal came
/// before any byte did), as `read_exact` does.
pub(crate) fn read_retrying(input: &mut (impl Read + ?Sized), buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match input.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            read => return read,
        }
    }
}

/// What [`scan_line`] found in the line at the start of its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LineScan {
    /// The line's length: up to its line end, else all the bytes.
    pub len: usize,
    /// Whether a line end (`\n` or `\r`) ends it.
    pub ended: bool,
    /// Whether it holds a quote (then its commas may be inside a field).
    pub quote: bool,
    /// Whether its bytes are all ASCII.
    pub ascii: bool,
}

/// Scans `bytes` up to the first `\n` or `\r` in one pass, pushing every
/// comma's offset to `ends` and noting quotes and non-ASCII bytes: a row is
/// mostly short cells, for which a search call per comma costs more than
/// the comma, and a pass for the line end, another for a quote, another for
/// the commas and another for UTF-8 cost more than the one. Sixteen bytes at
/// a time where SSE2 is part of the target (every x86-64 processor), eight
/// elsewhere.
#[inline]
fn scan_line(bytes: &[u8], ends: &mut Vec<usize>) -> LineScan {
    #[cfg(target_arch = "x86_64")]
    return scan_line_sse2(bytes, ends);
    #[cfg(not(target_arch = "x86_64"))]
    return scan_line_words(bytes, ends);
}

/// [`scan_line`] sixteen bytes at a time: one comparison and one mask tell
/// the commas of a block, one more whether it holds anything rarer (a byte
/// below `#`, which a line end and a quote are, or a non-ASCII byte); a
/// row of 110 bytes took about 660 instructions eight bytes at a time, and
/// the reading thread is the one every row waits for.
#[cfg(target_arch = "x86_64")]
fn scan_line_sse2(bytes: &[u8], ends: &mut Vec<usize>) -> LineScan {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};
    let mut base = 0;
    let (mut quotes, mut high) = (0u32, 0u32);
    let mut line_end = None;
    let mut padded = [0u8; 16];
    while base < bytes.len() {
        let left = bytes.len() - base;
        // The block's bytes, and how far its masks shift so that bit i is
        // the byte at base + i: near the end, the last sixteen bytes (those
        // before `base` shifted out), or a short input padded with zeros
        // (which are neither commas, quotes, line ends nor above ASCII).
        let (block, shift): (&[u8], usize) = if left >= 16 {
            (&bytes[base..base + 16], 0)
        } else if bytes.len() >= 16 {
            (&bytes[bytes.len() - 16..], 16 - left)
        } else {
            padded[..left].copy_from_slice(&bytes[base..]);
            (&padded[..], 0)
        };
        // SAFETY: SSE2 is part of every x86-64 target, and `block` holds
        // the sixteen bytes the unaligned load reads.
        let (v, commas, rare) = unsafe {
            let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
            let commas = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b',' as i8)));
            // A signed comparison: bytes from 0x80 up are negative, below `#`.
            let rare = _mm_movemask_epi8(_mm_cmplt_epi8(v, _mm_set1_epi8(b'#' as i8)));
            (v, commas, rare)
        };
        let mask = |m: i32| (m as u32) >> shift;
        // The bits of the bytes before the first line end (all of them
        // without one).
        let mut before = u32::MAX;
        if mask(rare) != 0 {
            // SAFETY: as above, on the block already loaded.
            let (line_ends, quote, above) = unsafe {
                let line_ends = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8)), _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\r' as i8)));
                (_mm_movemask_epi8(line_ends), _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8))), _mm_movemask_epi8(v))
            };
            let line_ends = mask(line_ends);
            before = (line_ends & line_ends.wrapping_neg()).wrapping_sub(1);
            quotes |= mask(quote) & before;
            high |= mask(above) & before;
            if line_ends != 0 {
                line_end = Some(base + line_ends.trailing_zeros() as usize);
            }
        }
        let mut found = mask(commas) & before;
        while found != 0 {
            ends.push(base + found.trailing_zeros() as usize);
            found &= found - 1;
        }
        if line_end.is_some() {
            break;
        }
        base += 16;
    }
    let len = line_end.unwrap_or(bytes.len());
    LineScan { len, ended: line_end.is_some(), quote: quotes != 0, ascii: high == 0 }
}

/// [`scan_line`] eight bytes at a time, in a `u64`.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn scan_line_words(bytes: &[u8], ends: &mut Vec<usize>) -> LineScan {
    let mut chunks = bytes.chunks_exact(8);
    let mut base = 0;
    let (mut quotes, mut high) = (0u64, 0u64);
    let mut line_end = None;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        // The bits of the bytes before the first line end (all of them
        // without one).
        let mut before = !0;
        // A byte below `#` (a line end, a quote; a space too) or not ASCII
        // is rare: most words have none, and are only searched for commas.
        // (A borrow of the subtraction flags bytes only above a flagged one.)
        let rare = bytes_below(word, b'#') | word & HIGH_BITS;
        if rare != 0 {
            let line_ends = bytes_equal(word, b'\n') | bytes_equal(word, b'\r');
            before = (line_ends & line_ends.wrapping_neg()).wrapping_sub(1);
            quotes |= bytes_equal(word, b'"') & before;
            high |= word & HIGH_BITS & before;
            if line_ends != 0 {
                line_end = Some(base + line_ends.trailing_zeros() as usize / 8);
            }
        }
        let mut found = bytes_equal(word, b',') & before;
        while found != 0 {
            ends.push(base + found.trailing_zeros() as usize / 8);
            found &= found - 1;
        }
        if line_end.is_some() {
            break;
        }
        base += 8;
    }
    if line_end.is_none() {
        for (i, &b) in chunks.remainder().iter().enumerate() {
            match b {
                b'\n' | b'\r' => {
                    line_end = Some(base + i);
                    break;
                }
                b',' => ends.push(base + i),
                b'"' => quotes = 1,
                _ => high |= u64::from(b & 0x80),
            }
        }
    }
    let len = line_end.unwrap_or(bytes.len());
    LineScan { len, ended: line_end.is_some(), quote: quotes != 0, ascii: high == 0 }
}

/// A byte's bit 0 in every byte of a word, for spreading a byte over a word.
const ONES: u64 = 0x0101_0101_0101_0101;

/// Bit 7 of every byte of a word: the bits the word tests below set.
pub(crate) const HIGH_BITS: u64 = ONES * 0x80;

/// The eight bytes of `bytes` from `base` on as a little-endian word (the
/// first byte lowest), and a mask of bit 7 of those that are in `bytes`.
/// Past the end, the word holds zero bytes.
#[inline(always)]
pub(crate) fn word_at(bytes: &[u8], base: usize) -> (u64, u64) {
    if let Some(chunk) = bytes.get(base..base + 8) {
        return (u64::from_le_bytes(chunk.try_into().unwrap_or_default()), HIGH_BITS);
    }
    let missing = 8 * (base + 8 - bytes.len()) as u32;
    let word = match bytes.len().checked_sub(8) {
        // The last eight bytes, those before `base` shifted out.
        Some(last) => u64::from_le_bytes(bytes[last..].try_into().unwrap_or_default()) >> missing,
        None => bytes[base..].iter().rev().fold(0, |word, &b| word << 8 | u64::from(b)),
    };
    (word, HIGH_BITS >> missing)
}

/// Whether some byte of `word` is below `n` (at most 0x80): bit 7 set in
/// the result then, and only then (a borrow may flag a byte above the first
/// such byte too, so the result tells whether, not which).
#[inline(always)]
pub(crate) fn bytes_below(word: u64, n: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(n)) & !word & HIGH_BITS
}

/// The bytes of `word` equal to `c`: bit 7 of each such byte set, and no
/// other bit (exact: no carry crosses from one byte into the next).
#[inline(always)]
pub(crate) fn bytes_equal(word: u64, c: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let t = word ^ (u64::from(c) * ONES);
    !(((t & LOW7) + LOW7) | t | LOW7)
}

/// Bit 7 of each byte of `word` (of ASCII bytes) that is in `lo..=hi`, and
/// no other bit (exact: a byte below 0x80 plus at most 0x80 carries into no
/// other byte).
#[inline(always)]
pub(crate) fn bytes_within(word: u64, lo: u8, hi: u8) -> u64 {
    let from_lo = word.wrapping_add(ONES * u64::from(0x80 - lo));
    let above_hi = word.wrapping_add(ONES * u64::from(0x7f - hi));
    from_lo & !above_hi & HIGH_BITS
}

impl std::ops::Index<usize> for Record {
    type Output = [u8];

    #[inline]
    fn index(&self, i: usize) -> &[u8] {
        let (start, end) = self.span(i).unwrap_or_else(|| panic!("no cell {i} in a record of {} cells", self.len()));
        &self.bytes[start..end]
    }
}

/// Rows read at once by one reader, to be parsed elsewhere (see
/// [`crate::read::RecordSource::read_batch`]). Refilling a batch reuses
/// the memory of its records.
#[derive(Debug, Default)]
pub struct RecordBatch {
    records: Vec<Record>,
    len: usize,
}

impl RecordBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// The rows read, in input order.
    pub fn records(&self) -> &[Record] {
        &self.records[..self.len]
    }

    /// How many rows it holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds no row.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Empties the batch, then reads rows with `read_record` until it holds
    /// `max_rows` rows or at least `max_bytes` bytes of cells: true when it
    /// stopped full (more rows may follow), false at the end of the input.
    /// On a failure, the rows read before it stay in the batch.
    pub(crate) fn fill(
        &mut self,
        max_rows: usize,
        max_bytes: usize,
        mut read_record: impl FnMut(&mut Record) -> Result<bool, InputError>,
    ) -> Result<bool, InputError> {
        self.len = 0;
        let mut bytes = 0;
        while self.len < max_rows.max(1) && bytes < max_bytes {
            if self.len == self.records.len() {
                // Room for a usual row, so that a new batch's rows do not
                // grow their buffers step by step.
                self.records.push(Record::with_capacity(256, 16));
            }
            if !read_record(&mut self.records[self.len])? {
                return Ok(false);
            }
            bytes += self.records[self.len].bytes().len();
            self.len += 1;
        }
        Ok(true)
    }
}

/// What the header of a case CSV says: which field each column holds. It turns
/// a raw record into a [`CaseRow`], on any thread.
///
/// Headers are read by [`crate::columns`]: cases.md's names, the aliases of
/// specs/columns.md (`病案号`, `JBDM`…), wide code columns, and a user's
/// [`ColumnMap`]. Excel rows come through here too, as records.
#[derive(Clone, Debug)]
pub struct CsvLayout {
    /// What each input column is used for.
    columns: Vec<ColumnUse>,
    extra_names: Vec<String>,
    id_column: usize,
    /// Wide code lists: their columns in order.
    wide: Vec<WideList>,
    has_level: bool,
    plan: ColumnPlan,
}

/// Declares [`ColumnUse`], with a variant a field named as [`Field`]'s, its
/// [`ColumnUse::field`], and [`read_cell`]'s arm for each: the fields are
/// listed once, in the one invocation below.
macro_rules! column_uses {
    ($($field:ident)*) => {
        /// What a column is used for: one of the fields, or not a field.
        /// Flat, so that reading a cell takes one jump through a table (a
        /// `Field(Field)` variant takes two: see [`read_cell`]).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        enum ColumnUse {
            $($field,)*
            /// `discharge_date`: carried through, its value written `YYYY-MM-DD`.
            Date,
            /// One code of a wide list: read after the other columns, in the list's order.
            Wide,
            Extra,
        }

        impl ColumnUse {
            /// The use of a field's column.
            fn field(field: Field) -> ColumnUse {
                match field {
                    $(Field::$field => ColumnUse::$field,)*
                }
            }
        }

        /// One cell into `case` or `extra`, by what its column is used for;
        /// `MARKS`: whether it may carry an Excel cell mark (else it is known
        /// to be ASCII).
        ///
        /// One dispatch a cell: each field has an arm of its own, in which
        /// [`read_field`] (and so [`Case::set_cell`]) sees a constant field
        /// and keeps only that field's code. A `ColumnUse::Field(field)`
        /// variant compiled to two jumps through tables, the column's then
        /// the field's, with the field spilled for the error between them.
        #[inline(always)]
        fn read_cell<const MARKS: bool>(column: ColumnUse, text: &str, case: &mut Case, extra: &mut Vec<String>, row: &mut RowNotes) {
            match column {
                $(ColumnUse::$field => read_field::<MARKS>(Field::$field, text, case, row),)*
                ColumnUse::Extra => extra.push(unmarked(text).to_string()),
                ColumnUse::Date => read_date(text, extra, &mut row.problem),
                ColumnUse::Wide => {}
            }
        }
    };
}

column_uses!(Id Hospital HospitalLevel Sex AgeYears AgeDays WeightG LosDays Discharge Dept DischargeDate IcuHours TotalCost SelfPay Diagnoses Procedures);

/// Marks an Excel number cell in a code column (`99.1` for `99.10`): the row
/// gets [`crate::columns::CODE_AS_NUMBER`]. A private-use character no export
/// holds.
pub const NUMBER_CELL_MARK: char = '\u{E000}';
/// Marks an Excel boolean cell: in a field it makes the row invalid.
pub const BOOLEAN_CELL_MARK: char = '\u{E001}';

impl CsvLayout {
    /// Reads a header record.
    pub fn from_header(header: &Record) -> Result<Self, InputError> {
        Self::from_header_with(header, None)
    }

    /// Reads a header record with a user's own names.
    pub fn from_header_with(header: &Record, map: Option<&ColumnMap>) -> Result<Self, InputError> {
        Self::from_header_bytes(header, map)
    }

    fn from_header_bytes(header: &Record, map: Option<&ColumnMap>) -> Result<Self, InputError> {
        if header.is_empty() || (header.len() == 1 && header[0].trim_ascii().is_empty()) {
            return Err(InputError::Empty);
        }
        let mut names = Vec::with_capacity(header.len());
        for (i, raw) in header.iter().enumerate() {
            let name = std::str::from_utf8(raw).map_err(|e| InputError::header_encoding(i, e))?;
            names.push(name);
        }
        Self::from_names(&names, map)
    }

    /// Reads a header given as names (an Excel row, a frame's columns, a JSON
    /// object's keys). Refuses an ambiguous header or one without the
    /// required fields, naming the columns.
    pub fn from_names<S: AsRef<str>>(names: &[S], map: Option<&ColumnMap>) -> Result<Self, InputError> {
        let layout = Self::from_names_unchecked(names, map)?;
        let missing: Vec<&str> = REQUIRED_COLUMNS.iter().filter(|f| !layout.plan.has(**f)).map(|f| f.name()).collect();
        if !missing.is_empty() {
            let found: Vec<&str> = layout.plan.columns.iter().map(|c| c.header.as_str()).take(50).collect();
            let n = layout.plan.columns.len();
            let more = if n > 50 { format!(", … ({n} in all)") } else { String::new() };
            return Err(InputError::MissingColumns { missing: missing.join(", "), found: format!("{}{more}", found.join(", ")) });
        }
        Ok(layout)
    }

    /// [`CsvLayout::from_names`] without requiring any field (a JSON object
    /// may leave any key out; a row without an id has an empty one).
    pub fn from_names_unchecked<S: AsRef<str>>(names: &[S], map: Option<&ColumnMap>) -> Result<Self, InputError> {
        let plan = ColumnPlan::from_headers(names, map)?;
        let mut columns = Vec::with_capacity(plan.columns.len());
        let mut extra_names = Vec::new();
        for c in &plan.columns {
            let used = match &c.understood {
                Understood::Field { target: Target::Field(f), .. } => ColumnUse::field(*f),
                Understood::Field { target: Target::DischargeDate, .. } => {
                    extra_names.push("discharge_date".to_string());
                    ColumnUse::Date
                }
                Understood::Wide { .. } => ColumnUse::Wide,
                Understood::SecondAlias { .. } | Understood::Carried => {
                    extra_names.push(c.header.clone());
                    ColumnUse::Extra
                }
            };
            columns.push(used);
        }
        // Without an id column (a JSON object without one), ids are empty.
        let id_column = columns.iter().position(|c| *c == ColumnUse::Id).unwrap_or(usize::MAX);
        let has_level = columns.contains(&ColumnUse::HospitalLevel);
        let wide = plan.wide.clone();
        Ok(CsvLayout { columns, extra_names, id_column, wide, has_level, plan })
    }

    /// How each header was understood (for `drg columns` and summaries).
    pub fn plan(&self) -> &ColumnPlan {
        &self.plan
    }

    /// The names of the input's unknown columns, carried through.
    pub fn extra_columns(&self) -> &[String] {
        &self.extra_names
    }

    /// The raw id of a record, trimmed (empty when the record has none).
    pub fn id_of<'r>(&self, rec: &'r Record) -> &'r [u8] {
        rec.get(self.id_column).unwrap_or(b"").trim_ascii()
    }

    /// Reads one record as a case; a record that cannot be read becomes an
    /// error naming its line.
    pub fn parse(&self, rec: &Record) -> CaseRow {
        let mut case = Case::default();
        let mut extra = Vec::with_capacity(self.extra_names.len());
        let line = rec.line();
        match self.parse_into(rec, &mut case, &mut extra) {
            Ok(()) => CaseRow { line, case: Ok(case), extra },
            Err(e) => CaseRow { line, case: Err(e), extra },
        }
    }

    /// Reads one record into `case` and `extra` (the unknown columns' values),
    /// reusing their memory: every field the header names is set. A record
    /// that cannot be read is an error naming its line (`extra` is still
    /// filled, with empty values for a record of the wrong length).
    pub fn parse_into(&self, rec: &Record, case: &mut Case, extra: &mut Vec<String>) -> Result<(), RowError> {
        self.parse_row(rec, case, extra, &mut Vec::new())
    }

    /// [`CsvLayout::parse_into`], also giving the row's reading warnings (a
    /// code Excel stored as a number, a hospital level that is no level).
    pub fn parse_row(&self, rec: &Record, case: &mut Case, extra: &mut Vec<String>, warnings: &mut Vec<String>) -> Result<(), RowError> {
        let fail = |reason: String| {
            let id = rec.get(self.id_column).map(|b| String::from_utf8_lossy(b).trim().to_string()).unwrap_or_default();
            let line = rec.line();
            RowError { id, reason: format!("line {line}: {reason}") }
        };
        extra.clear();
        if rec.len() != self.columns.len() {
            extra.resize(self.extra_names.len(), String::new());
            return Err(fail(format!("expected {} fields, found {}", self.columns.len(), rec.len())));
        }
        let mut row = RowNotes::default();
        self.read_cells(rec, case, extra, &mut row);
        self.read_wide_lists(rec, case, &mut row);
        self.reading_warnings(case, row.number_code, warnings);
        match row.problem {
            Some(reason) => Err(fail(reason)),
            None => Ok(()),
        }
    }

    /// Every column but the wide code columns: fields into `case`, carried
    /// columns and the discharge date into `extra`.
    #[inline]
    fn read_cells(&self, rec: &Record, case: &mut Case, extra: &mut Vec<String>, row: &mut RowNotes) {
        // The whole record checked as UTF-8 at once (the common case; no
        // check at all when the reader saw it was ASCII): the cells are then
        // slices of it, as the bytes between them are ASCII. Otherwise each
        // cell is checked alone, to name the bad one.
        match rec.text() {
            // An Excel cell mark is not ASCII: the cells of an ASCII row
            // are read without looking for one.
            Some(whole) if rec.is_ascii() => self.read_text_cells::<true>(rec, whole, case, extra, row),
            Some(whole) => self.read_text_cells::<false>(rec, whole, case, extra, row),
            None => {
                let bytes = rec.bytes();
                let mut next = 0;
                for (i, (column, &end)) in self.columns.iter().zip(rec.ends()).enumerate() {
                    let start = next;
                    next = end + 1;
                    let raw = &bytes[start..end];
                    match std::str::from_utf8(raw) {
                        Ok(text) => read_cell::<true>(*column, text, case, extra, row),
                        Err(_) => {
                            row.problem.get_or_insert_with(|| {
                                format!("column {} is not valid UTF-8 (a GBK export? convert it to UTF-8)", i + 1)
                            });
                            if matches!(column, ColumnUse::Extra | ColumnUse::Date) {
                                extra.push(String::from_utf8_lossy(raw).into_owned());
                            }
                        }
                    }
                }
            }
        }
    }

    /// [`Self::read_cells`] for a record whose bytes are the text `whole`;
    /// `ASCII`: whether the reader saw that they are all ASCII (then no
    /// cell carries an Excel cell mark, which is not ASCII).
    #[inline(always)]
    fn read_text_cells<const ASCII: bool>(&self, rec: &Record, whole: &str, case: &mut Case, extra: &mut Vec<String>, row: &mut RowNotes) {
        debug_assert!(!ASCII || rec.is_ascii());
        // As many cells as columns (parse_row checked); each cell starts one
        // byte after the one before ends.
        let mut next = 0;
        for (column, &end) in self.columns.iter().zip(rec.ends()) {
            let start = next;
            next = end + 1;
            if ASCII {
                let raw = &whole.as_bytes()[start..end];
                // SAFETY: `ASCII` is true only for a record that
                // `Record::is_ascii` says is all ASCII, and any run of
                // ASCII bytes is UTF-8. (Slicing the `str` looked for a
                // char boundary at both ends of every cell.)
                let text = unsafe { std::str::from_utf8_unchecked(raw) };
                read_cell::<false>(*column, text, case, extra, row);
            } else {
                read_cell::<true>(*column, &whole[start..end], case, extra, row);
            }
        }
    }

    /// The wide code columns, each list in its columns' order (principal
    /// diagnosis first).
    #[inline]
    fn read_wide_lists(&self, rec: &Record, case: &mut Case, row: &mut RowNotes) {
        for w in &self.wide {
            let list = match w.list {
                CodeList::Diagnoses => &mut case.diagnoses,
                CodeList::Procedures => &mut case.procedures,
            };
            list.clear();
            let mut principal_empty = false;
            for &i in &w.order {
                let text = std::str::from_utf8(&rec[i]).unwrap_or("");
                let text = match text.strip_prefix(NUMBER_CELL_MARK) {
                    Some(t) => {
                        row.number_code = true;
                        t
                    }
                    None => text,
                };
                let before = list.len();
                list.extend(crate::codes::split_codes(text));
                principal_empty |= Some(i) == w.principal && list.len() == before;
            }
            // An empty principal cell before other codes would move one of
            // them into its place; with no code at all the case has no
            // diagnosis, as with an empty `diagnoses` column (invalid when
            // grouped, and still priced by DIP and points as ungrouped).
            if principal_empty && !list.is_empty() {
                row.problem.get_or_insert_with(|| "diagnoses: principal diagnosis missing".to_string());
            }
        }
    }

    /// The warnings of a row that was read: a code Excel stored as a number,
    /// a hospital level that is no level.
    #[inline]
    fn reading_warnings(&self, case: &Case, number_code: bool, warnings: &mut Vec<String>) {
        if number_code {
            warnings.push(crate::columns::CODE_AS_NUMBER.to_string());
        }
        if self.has_level {
            if let Some(level) = case.hospital_level.as_deref().filter(|l| !matches!(*l, "1" | "2" | "3")) {
                warnings.push(format!("hospital_level: {:?} is not a level (1, 2, 3, 一级 … 三级甲等): kept as written", crate::codes::for_message(level)));
            }
        }
    }
}

/// One field cell into `case` (see [`read_cell`]).
#[inline(always)]
fn read_field<const MARKS: bool>(field: Field, text: &str, case: &mut Case, row: &mut RowNotes) {
    let text = if MARKS && text.as_bytes().first() == Some(&0xEE) { marked(text, field, &mut row.number_code, &mut row.problem) } else { text };
    if let Err(e) = case.set_cell(field, text) {
        row.problem.get_or_insert_with(|| e.to_string());
    }
}

/// What reading one row noted on the way: a code cell Excel stored as a
/// number, and the first reason the row cannot be read.
#[derive(Default)]
struct RowNotes {
    number_code: bool,
    problem: Option<String>,
}

/// A `discharge_date` cell, carried in `extra` as `YYYY-MM-DD`; a cell that
/// is no date is carried as written and makes the row invalid.
fn read_date(text: &str, extra: &mut Vec<String>, problem: &mut Option<String>) {
    let text = unmarked(text).trim();
    match crate::columns::parse_date(text) {
        Some(date) => extra.push(date),
        None => {
            if !text.is_empty() {
                problem.get_or_insert_with(|| format!("discharge_date: {:?} is not a date (YYYY-MM-DD)", text));
            }
            extra.push(text.to_string());
        }
    }
}

/// A cell's text without an Excel cell mark.
fn unmarked(text: &str) -> &str {
    text.strip_prefix(NUMBER_CELL_MARK).or_else(|| text.strip_prefix(BOOLEAN_CELL_MARK)).unwrap_or(text)
}

/// A field cell carrying an Excel cell mark: a number in a code field is
/// noted, a boolean is a problem.
fn marked<'t>(text: &'t str, field: Field, number_code: &mut bool, problem: &mut Option<String>) -> &'t str {
    if let Some(t) = text.strip_prefix(NUMBER_CELL_MARK) {
        if matches!(field, Field::Diagnoses | Field::Procedures) {
            *number_code = true;
        }
        return t;
    }
    if let Some(t) = text.strip_prefix(BOOLEAN_CELL_MARK) {
        problem.get_or_insert_with(|| format!("{}: a TRUE/FALSE cell is not accepted here", field.name()));
        return t;
    }
    text
}

impl<R: Read> CsvCases<R> {
    /// Reads the header of `input`, with the default [`CsvLimits`].
    pub fn new(input: R) -> Result<Self, InputError> {
        Self::with_options(input, CsvLimits::default(), None)
    }

    /// Reads the header of `input`; a header, line or field past `limits`
    /// or an unterminated quote makes reading fail (see [`GuardedCsv`]).
    pub fn with_limits(input: R, limits: CsvLimits) -> Result<Self, InputError> {
        Self::with_options(input, limits, None)
    }

    /// Reads the header with a user's own names too (`--columns MAP.toml`).
    pub fn with_map(input: R, map: Option<&ColumnMap>) -> Result<Self, InputError> {
        Self::with_options(input, CsvLimits::default(), map)
    }

    /// Reads the header of `input` under `limits`, with a user's own names
    /// from `map`.
    pub fn with_options(input: R, limits: CsvLimits, map: Option<&ColumnMap>) -> Result<Self, InputError> {
        let mut rows = CsvRows::new(input, limits);
        let mut header = Record::new();
        rows.read(&mut header)?;
        let layout = CsvLayout::from_header_bytes(&header, map)?;
        Ok(CsvCases { rows, layout, record: Record::new() })
    }

    /// What the header says: which field each column holds.
    pub fn layout(&self) -> &CsvLayout {
        &self.layout
    }

    /// The names of the input's unknown columns, carried through.
    pub fn extra_columns(&self) -> &[String] {
        self.layout.extra_columns()
    }

    /// Reads the next raw record into `record` (false at the end), for callers
    /// that parse records elsewhere with [`CsvLayout::parse`].
    pub fn read_record(&mut self, record: &mut Record) -> Result<bool, InputError> {
        self.rows.read(record)
    }

    /// Refills `batch` with the next rows: at most `max_rows`, stopping once
    /// they hold `max_bytes` bytes of cells. True when the batch stopped
    /// full, false at the end of the input; on a failure the rows read
    /// before it stay in the batch.
    pub fn read_batch(&mut self, batch: &mut RecordBatch, max_rows: usize, max_bytes: usize) -> Result<bool, InputError> {
        batch.fill(max_rows, max_bytes, |record| self.read_record(record))
    }

    /// The next row, `None` at the end.
    pub fn next_row(&mut self) -> Option<Result<CaseRow, InputError>> {
        match self.rows.read(&mut self.record) {
            Ok(false) => None,
            Err(e) => Some(Err(e)),
            Ok(true) => Some(Ok(self.layout.parse(&self.record))),
        }
    }
}

impl<R: Read> Iterator for CsvCases<R> {
    type Item = Result<CaseRow, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_row()
    }
}

/// The largest header line drg reads: room for a million columns of short
/// names (a real case file has a few dozen columns).
pub const MAX_HEADER_BYTES: usize = 16 << 20;
/// The largest row drg reads, quotes and line breaks inside quotes included.
/// A real discharge row is at most a few kB; this leaves room for a row with
/// a 10 MB field.
pub const MAX_LINE_BYTES: usize = 32 << 20;
/// The largest field drg reads (10,000 codes take about 100 kB).
pub const MAX_FIELD_BYTES: usize = 16 << 20;
/// How much of an input a message may show.
const PREFIX_BYTES: usize = 32;

/// The sizes past which a CSV input is refused (the whole input, naming the
/// line: past these sizes a file is not a case file, and reading on would
/// only hold more of it in memory).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvLimits {
    /// The first row (the header), in bytes.
    pub header_bytes: usize,
    /// Any other row, in bytes.
    pub line_bytes: usize,
    /// One field, in bytes (quotes included).
    pub field_bytes: usize,
}

impl Default for CsvLimits {
    fn default() -> Self {
        CsvLimits { header_bytes: MAX_HEADER_BYTES, line_bytes: MAX_LINE_BYTES, field_bytes: MAX_FIELD_BYTES }
    }
}

/// A CSV reader (flexible field counts, a header row) over `input` guarded by
/// `limits`: what every case file of drg was read with before
/// [`CsvRows`], which the tests hold it to.
#[cfg(test)]
pub(crate) fn csv_reader<R: Read>(input: R, limits: CsvLimits) -> csv::Reader<GuardedCsv<R>> {
    csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(GuardedCsv::new(input, limits))
}

/// Where [`GuardedCsv`] is in the CSV syntax: the states of the csv crate's
/// parser that matter for where rows and fields end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Syntax {
    StartField,
    InField,
    InQuotes,
    QuoteInQuotes,
}

/// A reader that follows the CSV syntax byte by byte as the csv crate does,
/// and makes reading fail (an [`std::io::Error`] of kind `InvalidData` whose
/// message names the line) when a row or field grows past its [`CsvLimits`],
/// or when the input ends inside a quoted field: the csv crate would
/// otherwise take every row after an unterminated quote as one field, and
/// hold a row of any size in memory. Rows before the failure are read.
pub struct GuardedCsv<R> {
    inner: R,
    limits: CsvLimits,
    syntax: Syntax,
    /// The line being read (1-based, counting every `\n`, as the csv crate
    /// does).
    line: u64,
    /// The line the current row starts on.
    row_line: u64,
    /// The line where the open quote, if any, was opened.
    quote_line: u64,
    row_bytes: usize,
    field_bytes: usize,
    field: usize,
    header: bool,
    /// The first bytes of the current row, for messages.
    prefix: Vec<u8>,
    /// The error to give at the next read, once the bytes before it are read.
    failed: Option<Overrun>,
}

impl<R: Read> GuardedCsv<R> {
    /// Guards the rest of an input, from the start of a row on `line`
    /// (the header when `header`).
    pub(crate) fn resuming(inner: R, limits: CsvLimits, line: u64, header: bool) -> Self {
        GuardedCsv { line, row_line: line, header, ..Self::new(inner, limits) }
    }

    /// Guards `inner` with `limits`.
    pub fn new(inner: R, limits: CsvLimits) -> Self {
        GuardedCsv {
            inner,
            limits,
            syntax: Syntax::StartField,
            line: 1,
            row_line: 1,
            quote_line: 0,
            row_bytes: 0,
            field_bytes: 0,
            field: 1,
            header: true,
            prefix: Vec::with_capacity(PREFIX_BYTES),
            failed: None,
        }
    }

    /// The overrun `what` of the current row (starting on `line`).
    fn overrun(&self, line: u64, what: LimitKind, limit: Option<usize>) -> Overrun {
        let prefix = String::from_utf8_lossy(&self.prefix).into_owned();
        Overrun { line, what, limit, prefix, truncated: self.row_bytes > self.prefix.len() }
    }

    fn end_row(&mut self) {
        self.header = false;
        self.row_bytes = 0;
        self.field_bytes = 0;
        self.field = 1;
        self.prefix.clear();
        self.row_line = self.line;
    }

    /// Follows the syntax over `bytes`; the number of bytes that are fine, and
    /// the error at the first byte that is not.
    fn scan(&mut self, bytes: &[u8]) -> (usize, Option<Overrun>) {
        let mut row_limit = if self.header { self.limits.header_bytes } else { self.limits.line_bytes };
        let mut i = 0;
        while i < bytes.len() {
            let rest = &bytes[i..];
            let quoted = self.syntax == Syntax::InQuotes;
            // Up to the next byte that can end a row or open or close a
            // quote, only the counts change (and, outside quotes, commas
            // start fields): such a run is counted at once. A run that might
            // cross a limit goes byte by byte, to stop at the byte that does.
            let run = if quoted { memchr::memchr2(b'"', b'\n', rest) } else { memchr::memchr3(b'"', b'\n', b'\r', rest) };
            let run = run.unwrap_or(rest.len());
            let fits = self.row_bytes + run <= row_limit && self.field_bytes + run <= self.limits.field_bytes;
            if run > 0 && fits && self.syntax != Syntax::QuoteInQuotes {
                self.count_run(&rest[..run], quoted);
                i += run;
                continue;
            }
            for (j, &b) in rest[..run.max(1)].iter().enumerate() {
                if let Some(overrun) = self.step(b, &mut row_limit) {
                    return (i + j, Some(overrun));
                }
            }
            i += run.max(1);
        }
        (bytes.len(), None)
    }

    /// Counts a run of bytes holding no quote and no line end (outside quotes,
    /// no carriage return either) that crosses no limit: what [`Self::step`]
    /// would do byte by byte.
    fn count_run(&mut self, run: &[u8], quoted: bool) {
        if self.prefix.len() < PREFIX_BYTES {
            let shown = (PREFIX_BYTES - self.prefix.len()).min(run.len());
            self.prefix.extend_from_slice(&run[..shown]);
        }
        self.row_bytes += run.len();
        if quoted {
            self.field_bytes += run.len();
            return;
        }
        match memchr::memrchr(b',', run) {
            None => {
                self.field_bytes += run.len();
                self.syntax = Syntax::InField;
            }
            Some(last) => {
                self.field += run.iter().filter(|&&b| b == b',').count();
                self.field_bytes = run.len() - last - 1;
                self.syntax = if last + 1 == run.len() { Syntax::StartField } else { Syntax::InField };
            }
        }
    }

    /// Follows the syntax over one byte; the error if it crosses a limit.
    fn step(&mut self, b: u8, row_limit: &mut usize) -> Option<Overrun> {
        if self.row_bytes == 0 && (b == b'\n' || b == b'\r') {
            // A blank line (or the \n of a \r\n) between rows.
            if b == b'\n' {
                self.line += 1;
                self.row_line = self.line;
            }
            return None;
        }
        if self.prefix.len() < PREFIX_BYTES {
            self.prefix.push(b);
        }
        self.row_bytes += 1;
        self.field_bytes += 1;
        let mut row_ends = false;
        match (self.syntax, b) {
            (_, b'\n') if self.syntax == Syntax::InQuotes => self.line += 1,
            (Syntax::InQuotes, b'"') => self.syntax = Syntax::QuoteInQuotes,
            (Syntax::InQuotes, _) => {}
            (Syntax::StartField, b'"') => {
                self.syntax = Syntax::InQuotes;
                self.quote_line = self.line;
            }
            (Syntax::QuoteInQuotes, b'"') => self.syntax = Syntax::InQuotes,
            (_, b',') => {
                self.syntax = Syntax::StartField;
                self.field += 1;
                self.field_bytes = 0;
            }
            (_, b'\n') => {
                self.line += 1;
                row_ends = true;
            }
            (_, b'\r') => row_ends = true,
            _ => self.syntax = Syntax::InField,
        }
        if row_ends {
            self.syntax = Syntax::StartField;
            self.end_row();
            *row_limit = self.limits.line_bytes;
            return None;
        }
        let header = self.header;
        if self.row_bytes > *row_limit {
            let quoted = self.syntax == Syntax::InQuotes || self.syntax == Syntax::QuoteInQuotes;
            let what = LimitKind::Row { header, open_quote: quoted.then_some(self.quote_line) };
            return Some(self.overrun(self.row_line, what, Some(*row_limit)));
        }
        if self.field_bytes > self.limits.field_bytes {
            let what = LimitKind::Field { header, field: self.field };
            return Some(self.overrun(self.row_line, what, Some(self.limits.field_bytes)));
        }
        None
    }
}

impl<R: Read> Read for GuardedCsv<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(overrun) = &self.failed {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, overrun.clone()));
        }
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            if matches!(self.syntax, Syntax::InQuotes) {
                self.failed = Some(self.overrun(self.quote_line, LimitKind::UnterminatedQuote, None));
                return self.read(buf);
            }
            return Ok(0);
        }
        let (fine, failure) = self.scan(&buf[..n]);
        if let Some(overrun) = failure {
            self.failed = Some(overrun);
            if fine == 0 {
                return self.read(buf);
            }
        }
        Ok(fine)
    }
}

/// Whether a CSV field must be quoted: it holds a comma, a quote, a carriage
/// return or a line feed (the csv crate's rule with its default settings, so
/// that rows written here and by the csv crate are the same bytes).
#[inline]
pub fn csv_needs_quotes(field: &[u8]) -> bool {
    // The four bytes are all below `-` (0x2d), and most fields (codes,
    // numbers, ids, Chinese names) have no byte that low: eight bytes at a
    // time tell that for a few instructions, where a test of each byte
    // against four took about five a byte.
    has_byte_below_dash(field) && field.iter().any(|&b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
}

/// Whether `bytes` has a byte below `-` (0x2d), eight at a time with
/// [`bytes_below`]. Words may overlap, which a test for any such byte allows: the last word
/// ends at the last byte, and four to seven bytes are two halves of one
/// word (no copy into a padded word, which costs a call of `memcpy`).
#[inline]
fn has_byte_below_dash(bytes: &[u8]) -> bool {
    let below = |x: u64| bytes_below(x, b'-') != 0;
    let n = bytes.len();
    if n >= 8 {
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let mut words = bytes.chunks_exact(8);
        let mut found = false;
        for chunk in &mut words {
            found |= below(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        if !words.remainder().is_empty() {
            found |= below(word(n - 8));
        }
        found
    } else if n >= 4 {
        let half = |at: usize| u64::from(u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes")));
        below(half(0) | half(n - 4) << 32)
    } else {
        bytes.iter().any(|&b| b < b'-')
    }
}

/// Appends `field` to `out` as one CSV field, quoted (with doubled inner
/// quotes) only when [`csv_needs_quotes`] says so.
#[inline(always)]
pub fn push_csv_field(out: &mut Vec<u8>, field: &[u8]) {
    if csv_needs_quotes(field) {
        push_quoted(out, field);
    } else {
        out.extend_from_slice(field);
    }
}

/// Appends `fields` to `out` as one CSV line, each quoted only when
/// [`csv_needs_quotes`] says so, ended by `\n` (as the csv crate writes).
pub fn push_csv_record<'f>(out: &mut Vec<u8>, fields: impl IntoIterator<Item = &'f [u8]>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_csv_field(out, field);
    }
    out.push(b'\n');
}

/// `field` quoted, inner quotes doubled.
#[inline(never)]
pub(crate) fn push_quoted(out: &mut Vec<u8>, field: &[u8]) {
    out.reserve(field.len() + 2);
    out.push(b'"');
    for part in field.split_inclusive(|&b| b == b'"') {
        out.extend_from_slice(part);
        if part.last() == Some(&b'"') {
            out.push(b'"');
        }
    }
    out.push(b'"');
}

/// Appends several texts as one CSV field, each after the first preceded by
/// `separator` (the warnings of a result, joined by `; `), quoted when the
/// joined text needs it, without joining them in a new string first.
pub fn push_csv_joined(out: &mut Vec<u8>, parts: &[String], separator: &str) {
    let needs = csv_needs_quotes(separator.as_bytes()) && parts.len() > 1 || parts.iter().any(|p| csv_needs_quotes(p.as_bytes()));
    if needs {
        push_quoted(out, parts.join(separator).as_bytes());
        return;
    }
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(separator.as_bytes());
        }
        out.extend_from_slice(part.as_bytes());
    }
}

/// Cases from JSON: one object a line (JSONL), or one array of objects.
///
/// Unknown keys are kept in [`JsonCaseRow::extra`].
pub struct JsonCases<R: BufRead> {
    source: JsonSource<R>,
    map: Option<std::sync::Arc<ColumnMap>>,
}

enum JsonSource<R> {
    Lines { input: R, line: u64, buf: Vec<u8> },
    Array { items: std::vec::IntoIter<Value>, index: u64 },
}

/// One JSON input row: the case (or why it could not be read) and the
/// object's unknown keys.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonCaseRow {
    /// The line (JSONL) or the 1-based item number (array).
    pub line: u64,
    /// The case, or why the object could not be read.
    pub case: Result<Case, RowError>,
    /// The object's unknown keys with their values.
    pub extra: Vec<(String, Value)>,
    /// Reading warnings (a hospital level that is no level…).
    pub warnings: Vec<String>,
}

impl<R: BufRead> JsonCases<R> {
    /// Reads JSONL, or a JSON array when the input's first non-blank character
    /// is `[` (the array is read whole).
    pub fn new(mut input: R) -> Result<Self, InputError> {
        let starts_array = loop {
            let buf = input.fill_buf()?;
            if buf.is_empty() {
                break false;
            }
            let skip = buf
                .iter()
                .take_while(|&&b| b.is_ascii_whitespace())
                .count()
                .max(if buf.starts_with("\u{feff}".as_bytes()) { 3 } else { 0 });
            if skip == 0 {
                break buf[0] == b'[';
            }
            let n = skip.min(buf.len());
            input.consume(n);
        };
        if starts_array {
            let mut text = String::new();
            input
                .read_to_string(&mut text)
                .map_err(|e| InputError::Encoding { file: None, column: None, byte: None, detail: e.to_string() })?;
            let items: Vec<Value> = serde_json::from_str(&text).map_err(|e| InputError::json(Some(JsonPart::Array), &e))?;
            Ok(JsonCases { source: JsonSource::Array { items: items.into_iter(), index: 0 }, map: None })
        } else {
            Ok(JsonCases { source: JsonSource::Lines { input, line: 0, buf: Vec::new() }, map: None })
        }
    }

    /// Reads keys with a user's own names too (`--columns MAP.toml`).
    pub fn with_map(mut self, map: Option<std::sync::Arc<ColumnMap>>) -> Self {
        self.map = map;
        self
    }
}

fn json_row(line: u64, where_: &str, value: Result<Value, String>, map: Option<&ColumnMap>) -> JsonCaseRow {
    let fail = |id: String, reason: String| JsonCaseRow {
        line,
        case: Err(RowError { id, reason: format!("{where_} {line}: {reason}") }),
        extra: vec![],
        warnings: vec![],
    };
    let value = match value {
        Ok(v) => v,
        Err(e) => return fail(String::new(), e),
    };
    let Value::Object(object) = value else {
        return fail(String::new(), "expected a JSON object".into());
    };
    // Keys that are all cases.md names (or unknown lower-case keys) take the
    // direct path; aliases and wide keys go through the column plan.
    let plain = map.is_none()
        && object.keys().all(|k| Field::from_name(k).is_some() || (k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit()) && k != "discharge_date"));
    if plain {
        return match Case::from_json_object(&object) {
            Ok((case, extra)) => JsonCaseRow { line, case: Ok(case), extra, warnings: vec![] },
            Err(e) => fail(crate::case::json_id(&object), e.to_string()),
        };
    }
    aliased_json_row(line, where_, &object, map).unwrap_or_else(|reason| fail(crate::case::json_id(&object), reason))
}

/// A JSON object whose keys are aliases or wide code keys: read as a one-row
/// table through [`CsvLayout`], so that JSON and CSV understand the same names.
fn aliased_json_row(line: u64, where_: &str, object: &serde_json::Map<String, Value>, map: Option<&ColumnMap>) -> Result<JsonCaseRow, String> {
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    let layout = CsvLayout::from_names_unchecked(&keys, map).map_err(|e| e.to_string())?;
    let mut record = Record::new();
    record.start(line, 0);
    for (key, value) in object {
        let text = match value {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => format!("{BOOLEAN_CELL_MARK}{b}"),
            Value::Array(items) => {
                let mut joined = String::new();
                for item in items {
                    match item {
                        Value::String(s) => {
                            joined.push_str(s);
                            joined.push('|');
                        }
                        Value::Null => {}
                        other => return Err(format!("{key}: {} is not a code string", crate::case::json_kind(other))),
                    }
                }
                joined
            }
            Value::Object(_) => return Err(format!("{key}: an object is not accepted here")),
        };
        record.push_cell(text.as_bytes());
    }
    let (mut case, mut extra, mut warnings) = (Case::default(), Vec::new(), Vec::new());
    let read = layout.parse_row(&record, &mut case, &mut extra, &mut warnings);
    let names = layout.extra_columns();
    let extra: Vec<(String, Value)> = names
        .iter()
        .zip(extra)
        .map(|(name, text)| {
            let original = object.get(name).filter(|_| name != "discharge_date").cloned();
            (name.clone(), original.unwrap_or(Value::String(text)))
        })
        .collect();
    let case = read.map(|()| case).map_err(|mut e| {
        let prefix = format!("line {line}: ");
        e.reason = format!("{where_} {line}: {}", e.reason.strip_prefix(&prefix).unwrap_or(&e.reason));
        e
    });
    Ok(JsonCaseRow { line, case, extra, warnings })
}

impl<R: BufRead> Iterator for JsonCases<R> {
    type Item = Result<JsonCaseRow, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.source {
            JsonSource::Array { items, index } => {
                let item = items.next()?;
                *index += 1;
                Some(Ok(json_row(*index, "item", Ok(item), self.map.as_deref())))
            }
            JsonSource::Lines { input, line, buf } => loop {
                let map = self.map.as_deref();
                buf.clear();
                // One byte more than a line may have, to tell a line at the
                // limit from a longer one without holding the longer one.
                match (&mut *input).take(MAX_LINE_BYTES as u64 + 1).read_until(b'\n', buf) {
                    Ok(0) => return None,
                    Ok(_) => {}
                    Err(e) => return Some(Err(e.into())),
                }
                *line += 1;
                if buf.len() > MAX_LINE_BYTES && buf.last() != Some(&b'\n') {
                    let prefix = String::from_utf8_lossy(&buf[..PREFIX_BYTES]).into_owned();
                    let what = LimitKind::JsonLine;
                    return Some(Err(InputError::Limit { line: *line, what, limit: Some(MAX_LINE_BYTES), prefix, truncated: true }));
                }
                let text = match std::str::from_utf8(buf) {
                    Ok(t) => t,
                    Err(_) => {
                        return Some(Ok(json_row(*line, "line", Err("not valid UTF-8 (a GBK export? convert it to UTF-8)".into()), map)))
                    }
                };
                let text = text.trim_start_matches('\u{feff}').trim();
                if text.is_empty() {
                    continue;
                }
                if map.is_none() {
                    if let Some((case, extra)) = crate::case::plain_json_case(text) {
                        return Some(Ok(JsonCaseRow { line: *line, case: Ok(case), extra, warnings: vec![] }));
                    }
                }
                let value = serde_json::from_str::<Value>(text).map_err(|e| format!("not valid JSON: {e}"));
                return Some(Ok(json_row(*line, "line", value, map)));
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::case::Sex;

    /// A read interrupted by a signal is made again; any other error is
    /// the caller's, and a refill takes what the read gave.
    #[test]
    fn interrupted_reads_are_made_again() {
        /// Interrupted `interruptions` times, then `result`.
        struct Flaky {
            interruptions: usize,
            result: Option<std::io::ErrorKind>,
        }
        impl Read for Flaky {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.interruptions > 0 {
                    self.interruptions -= 1;
                    return Err(std::io::ErrorKind::Interrupted.into());
                }
                match self.result {
                    Some(kind) => Err(kind.into()),
                    None => {
                        buf[..3].copy_from_slice(b"a,b");
                        Ok(3)
                    }
                }
            }
        }
        let mut buf = [0u8; 8];
        assert_eq!(read_retrying(&mut Flaky { interruptions: 3, result: None }, &mut buf).unwrap(), 3);
        let failed = read_retrying(&mut Flaky { interruptions: 2, result: Some(std::io::ErrorKind::BrokenPipe) }, &mut buf);
        assert_eq!(failed.unwrap_err().kind(), std::io::ErrorKind::BrokenPipe);
        let (mut buf, mut start, mut end) = (vec![0u8; 8], 0, 0);
        let read = refill(&mut Flaky { interruptions: 1, result: None }, &mut buf, &mut start, &mut end, 64).unwrap();
        assert_eq!((read, &buf[..end]), (Some(3), &b"a,b"[..]));
    }

    /// [`scan_line`] byte by byte, a pass for each thing it finds.
    fn scan_line_by_bytes(bytes: &[u8]) -> (LineScan, Vec<usize>) {
        let end = bytes.iter().position(|&b| b == b'\n' || b == b'\r');
        let line = &bytes[..end.unwrap_or(bytes.len())];
        let commas: Vec<usize> = (0..line.len()).filter(|&i| line[i] == b',').collect();
        let scan = LineScan { len: line.len(), ended: end.is_some(), quote: line.contains(&b'"'), ascii: line.is_ascii() };
        (scan, commas)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// The one pass of `scan_line`, eight or sixteen bytes at a time,
        /// finds what a pass over the bytes for each thing finds, wherever
        /// the line end falls in a block and however short the last block.
        #[test]
        fn scan_line_finds_what_each_pass_finds(data in prop::collection::vec(prop::sample::select(vec![b'a', b'a', b'a', b'a', b'a', b',', b'"', b'\r', b'\n', 0xC3, 0x80, b'7', 0, b' ']), 0..70)) {
            let (want, commas) = scan_line_by_bytes(&data);
            // Each way of scanning the target can take (the one it takes
            // first): sixteen bytes at a time on x86-64, eight anywhere.
            type Scan = fn(&[u8], &mut Vec<usize>) -> LineScan;
            for way in [scan_line as Scan, scan_line_words] {
                let mut ends = vec![99];
                let scan = way(&data, &mut ends);
                prop_assert_eq!(scan, want);
                prop_assert_eq!(&ends[1..], &commas[..]);
            }
        }
    }

    #[test]
    fn csv_fields_are_written_as_the_csv_crate_writes_them() {
        let fields = ["", "plain", "a,b", "say \"hi\"", "two\nlines", "cr\r", "\"", "急性阑尾炎", "x;y", " spaced "];
        let mut w = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
        w.write_record(fields).unwrap();
        let expected = w.into_inner().unwrap();
        let mut out = Vec::new();
        push_csv_record(&mut out, fields.iter().map(|f| f.as_bytes()));
        assert_eq!(String::from_utf8(out).unwrap(), String::from_utf8(expected).unwrap());
        for parts in [vec![], vec!["one".to_string()], vec!["a".into(), "b,c".into()], vec!["x\"y".into(), "z".into()]] {
            let mut out = Vec::new();
            push_csv_joined(&mut out, &parts, "; ");
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([parts.join("; "), "end".into()]).unwrap();
            let expected = w.into_inner().unwrap();
            assert_eq!(expected.strip_suffix(b",end\n").unwrap(), &out[..], "{parts:?}");
        }
    }

    #[test]
    fn each_of_the_four_bytes_anywhere_in_a_field_of_any_length_needs_quotes() {
        for len in 0..=24 {
            let plain = vec![b'-'; len];
            assert!(!csv_needs_quotes(&plain), "{len} dashes");
            for at in 0..len {
                for special in [b',', b'"', b'\r', b'\n'] {
                    let mut field = plain.clone();
                    field[at] = special;
                    assert!(csv_needs_quotes(&field), "{:?}", String::from_utf8_lossy(&field));
                }
            }
        }
    }

    proptest::proptest! {
        /// The word-at-a-time test says what a test of each byte says, for
        /// fields of any length with the four bytes anywhere.
        #[test]
        fn a_field_needs_quotes_when_a_byte_does(
            field in proptest::collection::vec(proptest::prop_oneof![
                proptest::prelude::any::<u8>(),
                proptest::sample::select(vec![b',', b'"', b'\r', b'\n', b'-', b',' + 1, b'"' - 1, 0, 0x80, 0xff]),
            ], 0..40),
        ) {
            let expected = field.iter().any(|&b| matches!(b, b',' | b'"' | b'\r' | b'\n'));
            proptest::prop_assert_eq!(csv_needs_quotes(&field), expected);
        }
    }

    /// Cells for [`cells_go_to_their_fields_in_any_column_order`]: good and
    /// bad values of every kind of field, Excel's cell marks, non-ASCII.
    const CELLS: [&str; 18] = [
        "", "1", "2", "30", "7.5", "-3", "M", "女", "K35.800|E11.900", "a41.9x001，I10", "三级甲等", "死亡", "H1", " 12 ", "x", "2025-03-01", "\u{E000}99.1", "\u{E001}1",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Every field's column, in any order, reads into its own field: each
        /// row (into one case reused row after row, as `drg group` does) is
        /// what `Case::set_field` gives cell by cell into a new case, with
        /// the same first problem and the Excel number-code warning.
        #[test]
        fn cells_go_to_their_fields_in_any_column_order(
            fields in Just(Field::ALL.into_iter().filter(|f| *f != Field::DischargeDate).collect::<Vec<_>>()).prop_shuffle(),
            rows in prop::collection::vec(prop::collection::vec(prop::sample::select(CELLS.to_vec()), 15), 1..4),
        ) {
            let header: Vec<&str> = fields.iter().map(|f| f.name()).collect();
            let mut input = header.join(",");
            for row in &rows {
                input.push('\n');
                input.push_str(&row.join(","));
            }
            let mut cases = CsvCases::new(input.as_bytes()).unwrap();
            let layout = cases.layout().clone();
            let (mut record, mut case, mut extra, mut warnings) = (Record::new(), Case::default(), Vec::new(), Vec::new());
            for (i, row) in rows.iter().enumerate() {
                prop_assert!(cases.read_record(&mut record).unwrap());
                warnings.clear();
                let read = layout.parse_row(&record, &mut case, &mut extra, &mut warnings);
                let mut want = Case::default();
                let mut problem = None;
                let mut number_code = false;
                for (&field, &cell) in fields.iter().zip(row) {
                    let codes = matches!(field, Field::Diagnoses | Field::Procedures);
                    let text = if let Some(t) = cell.strip_prefix(BOOLEAN_CELL_MARK) {
                        problem.get_or_insert_with(|| format!("{}: a TRUE/FALSE cell is not accepted here", field.name()));
                        t
                    } else if let Some(t) = cell.strip_prefix(NUMBER_CELL_MARK) {
                        number_code |= codes;
                        t
                    } else {
                        cell
                    };
                    if let Err(e) = want.set_field(field, text) {
                        problem.get_or_insert_with(|| e.to_string());
                    }
                }
                match (read, problem) {
                    (Ok(()), None) => prop_assert_eq!(&case, &want, "row {}: {:?}", i, row),
                    (Err(e), Some(p)) => prop_assert_eq!(e.reason, format!("line {}: {p}", i + 2)),
                    (read, problem) => prop_assert!(false, "row {}: {:?} read as {:?}, expected {:?}", i, row, read, problem),
                }
                prop_assert_eq!(warnings.contains(&crate::columns::CODE_AS_NUMBER.to_string()), number_code);
            }
        }
    }

    #[test]
    fn csv_rows_with_free_column_order_and_extras() {
        let input = "\u{feff}diagnoses,ward,id,sex,age_years\nK35.800|E11.900,3B,1,男,30\n";
        let mut cases = CsvCases::new(input.as_bytes()).unwrap();
        assert_eq!(cases.extra_columns(), ["ward"]);
        let row = cases.next().unwrap().unwrap();
        assert_eq!(row.line, 2);
        let case = row.case.unwrap();
        assert_eq!(case.id, "1");
        assert_eq!(case.sex, Some(Sex::Male));
        assert_eq!(case.diagnoses, vec!["K35.800", "E11.900"]);
        assert_eq!(row.extra, vec!["3B"]);
        assert!(cases.next().is_none());
    }

    #[test]
    fn bad_rows_are_reported_with_their_line() {
        let input = "id,sex,age_years,diagnoses\n1,1,30,K35.800\n2,1,abc,K35.800\n3,1\n4,1,30,\"K35.800\"\n";
        let rows: Vec<CaseRow> = CsvCases::new(input.as_bytes()).unwrap().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 4);
        assert!(rows[0].case.is_ok());
        let e = rows[1].case.as_ref().unwrap_err();
        assert_eq!(e.id, "2");
        assert_eq!(e.reason, "line 3: age_years: \"abc\" is not a number");
        let e = rows[2].case.as_ref().unwrap_err();
        assert_eq!(e.id, "3");
        assert_eq!(e.reason, "line 4: expected 4 fields, found 2");
        assert!(rows[3].case.is_ok());
    }

    #[test]
    fn a_crlf_file_names_each_row_by_its_own_line() {
        // A Windows export, with a blank line and a quoted field over two
        // lines: each reason names the line the row starts on.
        let input = "id,sex,age_years,diagnoses\r\n1,1,30,K35.800\r\n\r\n2,7,30,K35.800\r\n3,1,\"3\r\n0\",K35.800\r\n4,1,x,K35.800\r\n";
        let rows: Vec<CaseRow> = CsvCases::new(input.as_bytes()).unwrap().map(Result::unwrap).collect();
        let reasons: Vec<String> = rows.iter().map(|r| r.case.as_ref().err().map_or(String::new(), |e| e.reason.clone())).collect();
        assert!(rows[0].case.is_ok());
        assert!(reasons[1].starts_with("line 4: sex:"), "{reasons:?}");
        assert!(reasons[2].starts_with("line 5: age_years:"), "{reasons:?}");
        assert!(reasons[3].starts_with("line 7: age_years:"), "{reasons:?}");
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4, 5, 7]);
    }

    #[test]
    fn invalid_utf8_is_a_bad_row_not_a_crash() {
        let mut input = b"id,sex,age_years,diagnoses\n1,1,30,".to_vec();
        input.extend_from_slice(&[0xB8, 0xDF]);
        input.extend_from_slice(b"\n2,1,30,K35.800\n");
        let rows: Vec<CaseRow> = CsvCases::new(&input[..]).unwrap().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].case.as_ref().unwrap_err().reason.contains("UTF-8"));
        assert!(rows[1].case.is_ok());
    }

    /// Excel's cell marks are read in a row that is not ASCII, from a
    /// sheet (cells pushed one by one) or from a CSV line, whichever way
    /// the row's cells are read.
    #[test]
    fn excel_cell_marks_are_read_in_a_row_that_is_not_ascii() {
        let layout = CsvLayout::from_names(&["id", "sex", "age_years", "diagnoses"], None).unwrap();
        let read = |rec: &Record| {
            let (mut case, mut extra, mut warnings) = (Case::default(), Vec::new(), Vec::new());
            layout.parse_row(rec, &mut case, &mut extra, &mut warnings).unwrap();
            (case.age_years, case.diagnoses, warnings)
        };
        let want = (Some(30), vec!["99.1".to_string()], vec![crate::columns::CODE_AS_NUMBER.to_string()]);
        assert_eq!(read(&Record::from_cells(["1", "1", "\u{E000}30", "\u{E000}99.1"])), want);
        let data = "id,sex,age_years,diagnoses\n1,1,\u{E000}30,\u{E000}99.1\n";
        let mut rows = CsvRows::new(data.as_bytes(), CsvLimits::default());
        let mut rec = Record::new();
        assert!(rows.read(&mut rec).unwrap() && rows.read(&mut rec).unwrap());
        assert_eq!(read(&rec), want);
    }

    #[test]
    fn a_header_without_required_columns_is_refused() {
        let err = CsvCases::new("id,sex,diagnoses\n".as_bytes()).err().unwrap();
        assert_eq!(err.to_string(), "the header has no column age_years (it has: id, sex, diagnoses)");
        assert!(matches!(CsvCases::new("id,id,sex,age_years,diagnoses\n".as_bytes()), Err(InputError::Columns(_))));
    }

    #[test]
    fn jsonl_and_arrays() {
        let input = "{\"id\": \"1\", \"sex\": 1, \"age_years\": 30, \"diagnoses\": [\"K35.800\"], \"x\": 5}\n\nnot json\n[1]\n";
        let rows: Vec<JsonCaseRow> = JsonCases::new(input.as_bytes()).unwrap().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].case.as_ref().unwrap().diagnoses, vec!["K35.800"]);
        assert_eq!(rows[0].extra, vec![("x".to_string(), serde_json::json!(5))]);
        assert!(rows[1].case.as_ref().unwrap_err().reason.starts_with("line 3: not valid JSON"));
        assert_eq!(rows[2].case.as_ref().unwrap_err().reason, "line 4: expected a JSON object");

        let input = " [{\"id\": \"a\", \"diagnoses\": \"K35.800|I10.X05\"}, {\"id\": 7, \"sex\": true}]";
        let rows: Vec<JsonCaseRow> = JsonCases::new(input.as_bytes()).unwrap().map(Result::unwrap).collect();
        assert_eq!(rows[0].case.as_ref().unwrap().diagnoses, vec!["K35.800", "I10.x05"]);
        let e = rows[1].case.as_ref().unwrap_err();
        assert_eq!(e.id, "7");
        assert!(e.reason.starts_with("item 2: sex:"), "{}", e.reason);
    }

    fn read_all(input: &[u8], limits: CsvLimits) -> (usize, Option<String>) {
        let mut rows = 0;
        let Ok(cases) = CsvCases::with_limits(input, limits) else {
            return (0, CsvCases::with_limits(input, limits).err().map(|e| e.to_string()));
        };
        for row in cases {
            match row {
                Ok(_) => rows += 1,
                Err(e) => return (rows, Some(e.to_string())),
            }
        }
        (rows, None)
    }

    #[test]
    fn an_unterminated_quote_is_refused_naming_its_line() {
        let mut input = String::from("id,sex,age_years,diagnoses\n");
        for i in 0..100 {
            if i == 50 {
                input.push_str("51,1,30,\"K35.800\n");
            } else {
                input.push_str(&format!("{},1,30,K35.800\n", i + 1));
            }
        }
        let (rows, error) = read_all(input.as_bytes(), CsvLimits::default());
        assert_eq!(rows, 50);
        let error = error.expect("refused");
        assert!(error.starts_with("line 52: a quote opened here is never closed"), "{error}");
        // Quotes that close, quotes inside a field and doubled quotes are fine.
        let input = "id,sex,age_years,diagnoses\n1,1,30,\"K35.800\n|E11.900\"\n2,1,30,K3\"5\n3,1,30,\"K\"\"35\"\n";
        assert_eq!(read_all(input.as_bytes(), CsvLimits::default()), (3, None));
    }

    #[test]
    fn rows_headers_and_fields_past_the_limits_are_refused_with_a_short_prefix() {
        let limits = CsvLimits { header_bytes: 64, line_bytes: 100, field_bytes: 50 };
        let header = "id,sex,age_years,diagnoses\n";
        let long_header = format!("id,sex,age_years,diagnoses,{}\n", "x".repeat(100));
        let (rows, error) = read_all(long_header.as_bytes(), limits);
        assert_eq!(rows, 0);
        let error = error.unwrap();
        assert!(error.starts_with("line 1: the header line longer than 64 bytes, starting \"id,sex,age_years,diagnoses,xxxxx\"…"), "{error}");
        assert!(error.len() < 200, "{error}");

        let input = format!("{header}1,1,30,K35.800\n\r\n2,1,30,{}\n3,1,30,K35.800\n", "K".repeat(60));
        let (rows, error) = read_all(input.as_bytes(), limits);
        assert_eq!(rows, 1);
        let error = error.unwrap();
        assert!(error.starts_with("line 4: field 4 of a row is longer than 50 bytes"), "{error}");

        let input = format!("{header}1,1,30,K35.800\n2,1,30,{}\n", "K35.800|".repeat(5).repeat(3).replace('|', ","));
        let (rows, error) = read_all(input.as_bytes(), limits);
        assert_eq!(rows, 1);
        assert!(error.unwrap().starts_with("line 3: a row longer than 100 bytes, starting \"2,1,30,K35.800,"));

        // A quote left open: the row grows to the limit, and the message says
        // where the quote opened.
        let input = format!("{header}1,1,30,K35.800\n2,1,\"30,K35.800\n{}", "3,1,30,K35.800\n".repeat(20));
        let (_, error) = read_all(input.as_bytes(), CsvLimits { field_bytes: 1000, ..limits });
        let error = error.unwrap();
        assert!(error.contains("line 3: a row longer than 100 bytes") && error.contains("a quote opened on line 3"), "{error}");

        // Rows at the limits are read.
        let input = format!("{header}1,1,30,{}\n", "K".repeat(50));
        assert_eq!(read_all(input.as_bytes(), limits), (1, None));
    }

    #[test]
    fn a_refused_input_keeps_its_place_as_fields() {
        let limits = CsvLimits { header_bytes: 64, line_bytes: 100, field_bytes: 50 };
        let input = format!("id,sex,age_years,diagnoses\n1,1,30,K35.800\n2,1,30,{}\n", "K".repeat(60));
        let e = CsvCases::with_limits(input.as_bytes(), limits).unwrap().find_map(Result::err).expect("refused");
        let message = e.to_string();
        let InputError::Limit { line, what, limit, prefix, truncated } = &e else { panic!("{e:?}") };
        assert_eq!((*line, *what, *limit), (3, LimitKind::Field { header: false, field: 4 }, Some(50)));
        assert!(prefix.starts_with("2,1,30,KKK") && *truncated, "{prefix:?}");
        assert!(message.starts_with("line 3: field 4 of a row is longer than 50 bytes (the row starts \"2,1,30,KKK"), "{message}");
        assert_eq!(crate::Error::from(e).line(), Some(3));

        let e = CsvCases::new("id,sex,age_years,diagnoses\n1,1,\"30\n".as_bytes()).unwrap().find_map(Result::err).expect("refused");
        assert!(matches!(e, InputError::Limit { line: 2, what: LimitKind::UnterminatedQuote, limit: None, .. }), "{e:?}");

        let e = JsonCases::new("[{\"id\": \"1\"},\n{\"id\":".as_bytes()).err().expect("refused");
        assert!(matches!(e, InputError::Json { part: Some(JsonPart::Array), at: Some((2, 6)), .. }), "{e:?}");
        assert!(e.to_string().starts_with("the JSON array: EOF while parsing"), "{e}");

        let mut header = b"id,sex,age_years,".to_vec();
        header.extend_from_slice(&[0xB8, 0xDF, b'\n']);
        let e = CsvCases::new(&header[..]).err().expect("refused");
        assert!(matches!(e, InputError::Encoding { column: Some(4), .. }), "{e:?}");
        assert_eq!(e.line(), Some(1));
        assert!(e.to_string().starts_with("the input is not valid UTF-8 (header, column 4: invalid utf-8"), "{e}");
    }

    #[test]
    fn jsonl_lines_past_the_limit_are_refused() {
        let mut input = b"{\"id\": \"1\"}\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_LINE_BYTES + 10));
        let mut rows = JsonCases::new(&input[..]).unwrap();
        assert!(rows.next().unwrap().is_ok());
        let error = rows.next().unwrap().unwrap_err().to_string();
        assert!(error.starts_with("line 2: a line longer than") && error.len() < 200, "{error}");
    }
}
