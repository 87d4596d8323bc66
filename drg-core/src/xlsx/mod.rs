//! Excel workbooks: reading a sheet of cases as records, writing results
//! (specs/columns.md, "Formats").
//!
//! Reading streams the sheet's XML with a scanner of our own ([`scan`]:
//! tags found with memchr over the inflating zip entry; the workbook's
//! small parts are read with quick-xml) on a thread of its own, handing records over in
//! batches: no cell is held beyond its row, and a row's cells share one
//! reused buffer (no string per cell). Only the workbook's shared-string
//! table is held whole, as cells point into it by index. Each Excel row
//! becomes a [`Record`] read by the same [`CsvLayout`] as a CSV row,
//! so that every alias, wide column and value spelling works alike. Number
//! cells are marked with [`crate::io::NUMBER_CELL_MARK`] (a code in one gets
//! a warning), boolean cells with [`crate::io::BOOLEAN_CELL_MARK`] (a field
//! holding one is invalid); date-formatted number cells become
//! `YYYY-MM-DD` (in the workbook's 1900 or 1904 date system).
//!
//! Before any part is read, the zip directory is checked: a file that is
//! not a zip, or whose parts inflate out of all proportion (a zip bomb), is
//! refused with a clear message.
//!
//! [`CsvLayout`]: crate::io::CsvLayout

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver};

use quick_xml::events::{BytesStart, Event};

use crate::io::{InputError, Record, BOOLEAN_CELL_MARK, NUMBER_CELL_MARK};

mod scan;
use scan::{Scanner, Token};

/// Excel's own limits: 1,048,576 rows, 16,384 columns.
const MAX_ROWS: u32 = 1_048_576;
const MAX_COLUMNS: u32 = 16_384;
/// A part of the workbook larger than this (inflated) must not inflate more
/// than [`MAX_RATIO`] times: real sheets compress 5 to 30 times, zip bombs a
/// thousand.
const BIG_PART: u64 = 64 << 20;
const MAX_RATIO: u64 = 200;
/// No workbook's parts add up to more than this inflated.
const MAX_TOTAL: u64 = 16 << 30;

/// Rows per hand-over from the reading thread.
const BATCH: usize = 1024;

fn xlsx_error(path: &Path, what: impl std::fmt::Display) -> InputError {
    InputError::Xlsx { file: Some(path.display().to_string()), sheet: None, message: what.to_string() }
}

/// Checks a workbook's zip directory: a zip at all, and no part inflating out
/// of proportion.
pub fn check_workbook<R: Read + Seek>(reader: R, path: &Path) -> Result<(), InputError> {
    let mut zip = zip::ZipArchive::new(reader)
        .map_err(|e| xlsx_error(path, format!("not an .xlsx workbook (it is not a zip file: {e})")))?;
    let mut total = 0u64;
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|e| xlsx_error(path, format!("a damaged workbook: {e}")))?;
        let (size, packed) = (entry.size(), entry.compressed_size().max(1));
        total = total.saturating_add(size);
        if size > BIG_PART && size / packed > MAX_RATIO {
            return Err(xlsx_error(
                path,
                format!(
                    "part {} inflates from {packed} to {size} bytes ({}×): refused as a zip bomb",
                    entry.name(),
                    size / packed
                ),
            ));
        }
    }
    if total > MAX_TOTAL {
        return Err(xlsx_error(path, format!("its parts inflate to {total} bytes: refused as a zip bomb")));
    }
    Ok(())
}

/// The rows of one worksheet, as records: the header first, then one record
/// a row (wholly empty rows skipped), each with its Excel row number as line.
pub struct XlsxRows {
    header: Vec<String>,
    rx: Receiver<Result<Vec<Record>, InputError>>,
    pending: std::vec::IntoIter<Record>,
    /// The sheet read.
    pub sheet: String,
}

type Archive = zip::ZipArchive<BufReader<File>>;
type HeaderTx = std::sync::mpsc::SyncSender<Result<(String, Vec<String>), InputError>>;
type RowsTx = std::sync::mpsc::SyncSender<Result<Vec<Record>, InputError>>;

impl XlsxRows {
    /// Opens `path` and reads `sheet` (default: the first worksheet). Fails
    /// for a file that is not a workbook, a missing sheet, or a sheet without
    /// a header row.
    pub fn open(path: &Path, sheet: Option<&str>) -> Result<XlsxRows, InputError> {
        let file = File::open(path).map_err(|e| xlsx_error(path, e))?;
        check_workbook(BufReader::new(file), path)?;
        let file = File::open(path).map_err(|e| xlsx_error(path, e))?;
        let zip = zip::ZipArchive::new(BufReader::with_capacity(1 << 16, file))
            .map_err(|e| xlsx_error(path, format!("not an .xlsx workbook (it is not a zip file: {e})")))?;
        let shown = path.to_path_buf();
        let wanted = sheet.map(str::to_string);
        let (tx, rx) = sync_channel(4);
        let (header_tx, header_rx) = sync_channel(1);
        std::thread::Builder::new()
            .name("xlsx-reader".into())
            .spawn(move || {
                let mut zip = zip;
                let failed = catch(|| read_workbook(&mut zip, wanted.as_deref(), &shown, &header_tx, &tx));
                let failure = match failed {
                    Ok(Ok(())) => return,
                    Ok(Err(e)) => e,
                    Err(m) => xlsx_error(&shown, m),
                };
                // Before the header, `open` waits for it; after, the rows'
                // reader does.
                if let Err(std::sync::mpsc::SendError(Err(failure))) = header_tx.send(Err(failure)) {
                    let _ = tx.send(Err(failure));
                }
            })
            .map_err(|e| xlsx_error(path, e))?;
        let (name, header) = match header_rx.recv() {
            Ok(Ok(h)) => h,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(xlsx_error(path, "the workbook could not be read")),
        };
        Ok(XlsxRows { header, rx, pending: Vec::new().into_iter(), sheet: name })
    }

    /// The header row's texts.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Reads the next row into `record`; false at the end.
    pub fn read_record(&mut self, record: &mut Record) -> Result<bool, InputError> {
        loop {
            if let Some(next) = self.pending.next() {
                *record = next;
                return Ok(true);
            }
            match self.rx.recv() {
                Ok(Ok(batch)) => self.pending = batch.into_iter(),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(false),
            }
        }
    }
}

/// Runs `f`, turning a panic while reading (a bug meeting a malformed
/// workbook) into an error message rather than a crash.
fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| {
        let what = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
        format!("a malformed workbook ({what})")
    })
}

/// A part of the workbook as a streaming XML reader, `None` when absent.
fn part<'a>(zip: &'a mut Archive, name: &str, path: &Path) -> Result<Option<quick_xml::Reader<BufReader<zip::read::ZipFile<'a>>>>, InputError> {
    let Some(entry) = part_entry(zip, name, path)? else { return Ok(None) };
    let mut reader = quick_xml::Reader::from_reader(BufReader::with_capacity(1 << 16, entry));
    reader.trim_text(false).check_end_names(false);
    Ok(Some(reader))
}

/// A part of the workbook as its inflating bytes, `None` when absent.
fn part_entry<'a>(zip: &'a mut Archive, name: &str, path: &Path) -> Result<Option<zip::read::ZipFile<'a>>, InputError> {
    let index = match zip.index_for_name(name) {
        Some(i) => i,
        // Some writers differ in case ("xl/SharedStrings.xml").
        None => match (0..zip.len()).find(|&i| zip.name_for_index(i).is_some_and(|n| n.eq_ignore_ascii_case(name))) {
            Some(i) => i,
            None => return Ok(None),
        },
    };
    zip.by_index(index).map(Some).map_err(|e| xlsx_error(path, format!("part {name}: {e}")))
}

fn xml_error(path: &Path, part: &str, e: impl std::fmt::Display) -> InputError {
    xlsx_error(path, format!("part {part} is not well-formed XML: {e}"))
}

/// An attribute's value by local name, its entities decoded (taken as
/// written when one is malformed). The attributes are split by the sheet
/// scanner's [`scan::attributes`]: one reading of a start tag for every
/// part of the workbook.
fn attribute_text(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    let (_, raw) = scan::attributes(e.attributes_raw()).find(|(key, _)| *key == name)?;
    let mut text = Vec::with_capacity(raw.len());
    if scan::unescape_into(raw, &mut text).is_err() {
        text = raw.to_vec();
    }
    Some(String::from_utf8_lossy(&text).into_owned())
}

/// A relationship's target as a part name: relative to `xl/`, or absolute.
fn part_name(target: &str) -> String {
    let target = target.replace('\\', "/");
    match target.strip_prefix('/') {
        Some(absolute) => absolute.to_string(),
        None => format!("xl/{}", target.trim_start_matches("./")),
    }
}

/// What the workbook part says: its sheets (name, part) in order, the date
/// system, and where the shared strings and styles are.
struct Book {
    sheets: Vec<(String, String)>,
    date1904: bool,
    shared_strings: String,
    styles: String,
}

fn read_book(zip: &mut Archive, path: &Path) -> Result<Book, InputError> {
    // Relationship id → (type, part).
    let mut relations: Vec<(String, String, String)> = Vec::new();
    let rels = "xl/_rels/workbook.xml.rels";
    if let Some(mut xml) = part(zip, rels, path)? {
        let mut buf = Vec::new();
        loop {
            match xml.read_event_into(&mut buf).map_err(|e| xml_error(path, rels, e))? {
                Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"Relationship" => {
                    let id = attribute_text(&e, b"Id").unwrap_or_default();
                    let kind = attribute_text(&e, b"Type").unwrap_or_default();
                    let target = attribute_text(&e, b"Target").unwrap_or_default();
                    relations.push((id, kind, part_name(&target)));
                }
                Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
    }
    let of_kind = |suffix: &str, default: &str| {
        relations.iter().find(|(_, kind, _)| kind.ends_with(suffix)).map_or_else(|| default.to_string(), |(_, _, p)| p.clone())
    };
    let shared_strings = of_kind("/sharedStrings", "xl/sharedStrings.xml");
    let styles = of_kind("/styles", "xl/styles.xml");
    let name = "xl/workbook.xml";
    let mut xml = part(zip, name, path)?.ok_or_else(|| xlsx_error(path, "not an .xlsx workbook (it has no xl/workbook.xml)"))?;
    let mut buf = Vec::new();
    let (mut sheets, mut date1904) = (Vec::new(), false);
    loop {
        match xml.read_event_into(&mut buf).map_err(|e| xml_error(path, name, e))? {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                b"workbookPr" => {
                    date1904 = attribute_text(&e, b"date1904").is_some_and(|v| matches!(v.as_str(), "1" | "true"));
                }
                b"sheet" => {
                    let sheet = attribute_text(&e, b"name").unwrap_or_default();
                    let id = attribute_text(&e, b"id").unwrap_or_default();
                    let target = relations.iter().find(|(rid, _, _)| *rid == id);
                    // A chart sheet or a dialog sheet holds no cells.
                    if let Some((_, kind, part)) = target {
                        if kind.ends_with("/worksheet") {
                            sheets.push((sheet, part.clone()));
                        }
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(Book { sheets, date1904, shared_strings, styles })
}

/// The shared-string table: one text per `<si>` (rich-text runs joined,
/// phonetic guides left out).
fn read_shared_strings(zip: &mut Archive, name: &str, path: &Path) -> Result<Vec<String>, InputError> {
    let Some(mut xml) = part(zip, name, path)? else { return Ok(Vec::new()) };
    let mut strings = Vec::new();
    let mut buf = Vec::new();
    let (mut current, mut in_t, mut in_phonetic) = (String::new(), false, 0u32);
    loop {
        match xml.read_event_into(&mut buf).map_err(|e| xml_error(path, name, e))? {
            Event::Start(e) => match e.local_name().as_ref() {
                b"si" => current.clear(),
                b"t" => in_t = true,
                b"rPh" => in_phonetic += 1,
                _ => {}
            },
            Event::Empty(e) if e.local_name().as_ref() == b"si" => strings.push(String::new()),
            Event::End(e) => match e.local_name().as_ref() {
                b"si" => strings.push(std::mem::take(&mut current)),
                b"t" => in_t = false,
                b"rPh" => in_phonetic = in_phonetic.saturating_sub(1),
                _ => {}
            },
            Event::Text(t) if in_t && in_phonetic == 0 => {
                current.push_str(&t.unescape().map_err(|e| xml_error(path, name, e))?);
            }
            Event::CData(t) if in_t && in_phonetic == 0 => current.push_str(&String::from_utf8_lossy(&t)),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(strings)
}

/// For each cell style (`s="N"`), whether its number format shows a date
/// or time.
fn read_date_styles(zip: &mut Archive, name: &str, path: &Path) -> Result<Vec<bool>, InputError> {
    let Some(mut xml) = part(zip, name, path)? else { return Ok(Vec::new()) };
    let mut custom: Vec<(u32, bool)> = Vec::new();
    let mut styles = Vec::new();
    let mut buf = Vec::new();
    let mut in_cell_xfs = false;
    loop {
        match xml.read_event_into(&mut buf).map_err(|e| xml_error(path, name, e))? {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                b"numFmt" => {
                    let id = attribute_text(&e, b"numFmtId").and_then(|v| v.parse().ok());
                    let code = attribute_text(&e, b"formatCode").unwrap_or_default();
                    if let Some(id) = id {
                        custom.push((id, is_date_format(&code)));
                    }
                }
                b"cellXfs" => in_cell_xfs = true,
                b"xf" if in_cell_xfs => {
                    let id: u32 = attribute_text(&e, b"numFmtId").and_then(|v| v.parse().ok()).unwrap_or(0);
                    let date = custom.iter().find(|(c, _)| *c == id).map_or_else(|| is_date_builtin(id), |(_, d)| *d);
                    styles.push(date);
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == b"cellXfs" => in_cell_xfs = false,
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(styles)
}

/// Excel's built-in date and time formats (14–22, 45–47).
fn is_date_builtin(id: u32) -> bool {
    matches!(id, 14..=22 | 45..=47)
}

/// Whether a custom number format shows a date or time: a `d m y h s`
/// outside quotes, brackets and escapes, in its first section.
fn is_date_format(code: &str) -> bool {
    let (mut escaped, mut quoted, mut brackets) = (false, false, 0u32);
    for c in code.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' | '_' => escaped = true,
            '"' => quoted = !quoted,
            _ if quoted => {}
            ';' => return false,
            '[' => brackets += 1,
            ']' => brackets = brackets.saturating_sub(1),
            'd' | 'D' | 'm' | 'M' | 'y' | 'Y' | 'h' | 'H' | 's' | 'S' if brackets == 0 => return true,
            _ => {}
        }
    }
    false
}

fn read_workbook(zip: &mut Archive, wanted: Option<&str>, path: &Path, header_tx: &HeaderTx, tx: &RowsTx) -> Result<(), InputError> {
    let book = read_book(zip, path)?;
    let names: Vec<&str> = book.sheets.iter().map(|(n, _)| n.as_str()).collect();
    let (name, sheet_part) = match wanted {
        Some(s) => book
            .sheets
            .iter()
            .find(|(n, _)| n == s)
            .ok_or_else(|| xlsx_error(path, format!("no sheet {s:?} (it has: {})", names.join(", "))))?,
        None => book.sheets.first().ok_or_else(|| xlsx_error(path, "the workbook has no sheet"))?,
    };
    let strings = read_shared_strings(zip, &book.shared_strings, path)?;
    let dates = read_date_styles(zip, &book.styles, path)?;
    let entry = part_entry(zip, sheet_part, path)?.ok_or_else(|| xlsx_error(path, format!("sheet {name:?}: its part {sheet_part} is missing")))?;
    let sheet = SheetReader { strings: &strings, dates: &dates, date1904: book.date1904, path, name, part: sheet_part };
    sheet.read(&mut Scanner::new(entry), header_tx, tx)
}

/// What kind of value a cell's `t` attribute says it holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CellType {
    Number,
    Shared,
    Boolean,
    Error,
    IsoDate,
    Formula,
    Inline,
}

struct SheetReader<'a> {
    strings: &'a [String],
    dates: &'a [bool],
    date1904: bool,
    path: &'a Path,
    name: &'a str,
    part: &'a str,
}

/// The cells of the row being read: their texts one after another in
/// `text`, each a (column, start, end) in `cells`.
#[derive(Default)]
struct RowCells {
    text: Vec<u8>,
    cells: Vec<(u32, u32, u32)>,
    /// Per column of the record: (start, end) in `text`.
    slots: Vec<(u32, u32)>,
}

/// The cell being read: column, type, date style; and where its value text
/// comes from.
#[derive(Default)]
struct OpenCell {
    cell: Option<(u32, CellType, bool)>,
    value: Vec<u8>,
    in_value: bool,
    in_inline_text: bool,
    in_phonetic: u32,
    has_inline: bool,
    has_value: bool,
}

impl OpenCell {
    /// A start tag inside a cell: `<v>`, `<is>`, and inside `<is>` its `<t>`
    /// and `<rPh>` (phonetic text, left out).
    fn start_value(&mut self, name: &[u8], empty: bool) {
        match name {
            b"v" if self.cell.is_some() && !empty => {
                // A formula's cached value, or the value: the last one read counts.
                self.value.clear();
                (self.in_value, self.has_value, self.has_inline) = (true, true, false);
            }
            b"is" if self.cell.is_some() && !empty => {
                self.value.clear();
                (self.has_inline, self.has_value) = (true, false);
            }
            b"t" if self.has_inline && !empty => self.in_inline_text = true,
            b"rPh" if self.has_inline && !empty => self.in_phonetic += 1,
            _ => {}
        }
    }
}

impl SheetReader<'_> {
    fn error(&self, what: impl std::fmt::Display) -> InputError {
        InputError::Xlsx { file: Some(self.path.display().to_string()), sheet: Some(self.name.to_string()), message: what.to_string() }
    }

    fn read(&self, xml: &mut Scanner<impl Read>, header_tx: &HeaderTx, tx: &RowsTx) -> Result<(), InputError> {
        let mut row = RowCells::default();
        let mut header: Option<usize> = None;
        let mut batch: Vec<Record> = Vec::with_capacity(BATCH);
        let (mut row_index, mut col_index) = (0u32, 0u32);
        let mut open = OpenCell { value: Vec::with_capacity(256), ..OpenCell::default() };
        let mut in_sheet_data = false;
        while let Some(token) = xml.next_token().map_err(|e| xml_error(self.path, self.part, e))? {
            match token {
                Token::Start { name, attributes, empty } => match name {
                    b"sheetData" => in_sheet_data = !empty,
                    b"row" if in_sheet_data => {
                        if !row.cells.is_empty() {
                            // A row without its end tag.
                            if !self.flush(&mut row, row_index, &mut header, &mut batch, header_tx, tx)? {
                                return Ok(());
                            }
                        }
                        self.row_number(attributes, &mut row_index)?;
                        col_index = 0;
                        if empty {
                            row_index += 1;
                        }
                    }
                    b"c" if in_sheet_data => {
                        let (kind, date) = self.cell_attributes(attributes, &mut row_index, &mut col_index)?;
                        if empty {
                            col_index += 1;
                        } else {
                            open.cell = Some((col_index, kind, date));
                            open.value.clear();
                            (open.has_inline, open.has_value) = (false, false);
                        }
                    }
                    name => open.start_value(name, empty),
                },
                Token::Text(t) if open.in_value || (open.in_inline_text && open.in_phonetic == 0) => {
                    scan::unescape_into(t, &mut open.value).map_err(|e| xml_error(self.path, self.part, e))?
                }
                Token::CData(t) if open.in_value || (open.in_inline_text && open.in_phonetic == 0) => open.value.extend_from_slice(t),
                Token::End { name } => match name {
                    b"v" => open.in_value = false,
                    b"t" => open.in_inline_text = false,
                    b"rPh" => open.in_phonetic = open.in_phonetic.saturating_sub(1),
                    b"c" => {
                        if let Some((col, kind, date)) = open.cell.take() {
                            self.end_cell(&mut row, (col, kind, date), open.has_inline, open.has_value, &open.value)?;
                            col_index = col + 1;
                        }
                        (open.in_value, open.in_inline_text, open.in_phonetic) = (false, false, 0);
                    }
                    b"row" => {
                        if !self.flush(&mut row, row_index, &mut header, &mut batch, header_tx, tx)? {
                            return Ok(());
                        }
                        row_index += 1;
                        col_index = 0;
                    }
                    b"sheetData" => break,
                    _ => {}
                },
                Token::Text(_) | Token::CData(_) => {}
            }
        }
        self.finish(row, row_index, header, batch, header_tx, tx)
    }

    /// A `<row>`'s number from its `r` attribute, when it has one, into
    /// `row_index` (0-based); a row beyond Excel's limit is an error.
    fn row_number(&self, attributes: &[u8], row_index: &mut u32) -> Result<(), InputError> {
        if let Some((_, r)) = scan::attributes(attributes).find(|(name, _)| *name == b"r") {
            *row_index = parse_number(r).filter(|r| *r >= 1).map(|r| r - 1).ok_or_else(|| {
                self.error(format!("a row numbered {:?}", String::from_utf8_lossy(r)))
            })?;
        }
        if *row_index >= MAX_ROWS {
            return Err(self.error(format!("row {} is beyond Excel's limit of {MAX_ROWS} rows", *row_index as u64 + 1)));
        }
        Ok(())
    }

    /// A `<c>`'s attributes: its reference (into `row_index` and
    /// `col_index`), its type and whether its style is a date; a cell beyond
    /// Excel's limits is an error.
    fn cell_attributes(&self, attributes: &[u8], row_index: &mut u32, col_index: &mut u32) -> Result<(CellType, bool), InputError> {
        let (mut kind, mut date) = (CellType::Number, false);
        for (name, value) in scan::attributes(attributes) {
            match name {
                b"r" => {
                    let (r, c) = cell_reference(value)
                        .ok_or_else(|| self.error(format!("a cell reference {:?}", String::from_utf8_lossy(value))))?;
                    if c >= MAX_COLUMNS || r >= MAX_ROWS {
                        return Err(self.error(format!(
                            "a cell at row {}, column {} is beyond Excel's limits",
                            r as u64 + 1,
                            c as u64 + 1
                        )));
                    }
                    *col_index = c;
                    *row_index = r;
                }
                b"t" => {
                    kind = match value {
                        b"s" => CellType::Shared,
                        b"b" => CellType::Boolean,
                        b"e" => CellType::Error,
                        b"d" => CellType::IsoDate,
                        b"str" => CellType::Formula,
                        b"inlineStr" => CellType::Inline,
                        _ => CellType::Number,
                    }
                }
                b"s" => {
                    date = parse_number(value).and_then(|s| self.dates.get(s as usize).copied()).unwrap_or(false);
                }
                _ => {}
            }
        }
        if *col_index >= MAX_COLUMNS {
            return Err(self.error(format!("a cell in row {} is beyond Excel's limit of {MAX_COLUMNS} columns", *row_index + 1)));
        }
        Ok((kind, date))
    }

    /// A `</c>`: the cell's text appended to the row, when it has any.
    fn end_cell(&self, row: &mut RowCells, (col, kind, date): (u32, CellType, bool), has_inline: bool, has_value: bool, value: &[u8]) -> Result<(), InputError> {
        let start = row.text.len();
        if has_inline {
            row.text.extend_from_slice(value);
        } else if has_value {
            self.cell_text(kind, date, value, &mut row.text)?;
        }
        if row.text.len() > start {
            row.cells.push((col, start as u32, row.text.len() as u32));
        }
        Ok(())
    }

    /// The end of the sheet: the last row when its end tag is missing, the
    /// check that there was a header, and the last batch sent.
    fn finish(
        &self,
        mut row: RowCells,
        row_index: u32,
        mut header: Option<usize>,
        mut batch: Vec<Record>,
        header_tx: &HeaderTx,
        tx: &RowsTx,
    ) -> Result<(), InputError> {
        if !row.cells.is_empty() && !self.flush(&mut row, row_index, &mut header, &mut batch, header_tx, tx)? {
            return Ok(());
        }
        if header.is_none() {
            return Err(xlsx_error(self.path, format!("sheet {:?} has no header row (it is empty)", self.name)));
        }
        if !batch.is_empty() {
            let _ = tx.send(Ok(batch));
        }
        Ok(())
    }

    /// A cell's `<v>` as text: shared strings looked up, numbers in their
    /// shortest decimal form (marked), dates as `YYYY-MM-DD` (with the time
    /// when there is one), booleans marked, errors empty.
    fn cell_text(&self, kind: CellType, date: bool, v: &[u8], out: &mut Vec<u8>) -> Result<(), InputError> {
        use std::io::Write;
        let text = std::str::from_utf8(v).map_err(|_| self.error("a cell value is not UTF-8"))?;
        match kind {
            CellType::Shared => {
                let found = text.trim().parse::<usize>().ok().and_then(|i| self.strings.get(i));
                let s = found.ok_or_else(|| self.error(format!("a cell names shared string {text:?}, which the workbook does not have")))?;
                out.extend_from_slice(s.as_bytes());
            }
            CellType::Boolean => {
                let mut mark = [0u8; 4];
                out.extend_from_slice(BOOLEAN_CELL_MARK.encode_utf8(&mut mark).as_bytes());
                out.extend_from_slice(if text.trim() != "0" { b"TRUE" } else { b"FALSE" });
            }
            CellType::Error => {}
            CellType::IsoDate | CellType::Inline => out.extend_from_slice(v),
            CellType::Number | CellType::Formula => match text.trim().parse::<f64>() {
                Ok(f) if date && kind == CellType::Number => match crate::columns::excel_serial_date(f, self.date1904) {
                    Some(d) => out.extend_from_slice(d.as_bytes()),
                    None => write!(out, "{NUMBER_CELL_MARK}{}", Shortest(f)).expect("writing to memory"),
                },
                Ok(f) if !text.trim().is_empty() => write!(out, "{NUMBER_CELL_MARK}{}", Shortest(f)).expect("writing to memory"),
                // A formula's text result, or a number cell that is not one.
                _ => out.extend_from_slice(v),
            },
        }
        Ok(())
    }

    /// Hands a finished row over: the first non-empty one is the header, the
    /// others become records. False when the reader has gone.
    fn flush(
        &self,
        row: &mut RowCells,
        row_index: u32,
        header: &mut Option<usize>,
        batch: &mut Vec<Record>,
        header_tx: &HeaderTx,
        tx: &RowsTx,
    ) -> Result<bool, InputError> {
        let blank = row.cells.iter().all(|&(_, s, e)| std::str::from_utf8(&row.text[s as usize..e as usize]).is_ok_and(|t| t.trim().is_empty()));
        if blank {
            row.cells.clear();
            row.text.clear();
            return Ok(true);
        }
        let width = match header {
            Some(w) => *w,
            None => row.cells.iter().map(|c| c.0 as usize + 1).max().unwrap_or(0),
        };
        let used = row.cells.iter().map(|c| c.0 as usize + 1).max().unwrap_or(0);
        let columns = width.max(used);
        row.slots.clear();
        row.slots.resize(columns, (0, 0));
        for &(c, s, e) in &row.cells {
            row.slots[c as usize] = (s, e);
        }
        match header {
            None => {
                let names: Vec<String> = row
                    .slots
                    .iter()
                    .map(|&(s, e)| {
                        String::from_utf8_lossy(&row.text[s as usize..e as usize]).trim_start_matches([NUMBER_CELL_MARK, BOOLEAN_CELL_MARK]).to_string()
                    })
                    .collect();
                *header = Some(width);
                if header_tx.send(Ok((self.name.to_string(), names))).is_err() {
                    return Ok(false);
                }
            }
            Some(_) => {
                let mut record = Record::with_capacity(row.text.len() + columns, columns);
                record.start(u64::from(row_index) + 1, 0);
                for &(s, e) in &row.slots {
                    record.push_cell(&row.text[s as usize..e as usize]);
                }
                batch.push(record);
                if batch.len() == BATCH && tx.send(Ok(std::mem::replace(batch, Vec::with_capacity(BATCH)))).is_err() {
                    return Ok(false);
                }
            }
        }
        row.cells.clear();
        row.text.clear();
        Ok(true)
    }
}

/// A whole number in ASCII digits.
fn parse_number(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || bytes.len() > 9 {
        return None;
    }
    bytes.iter().try_fold(0u32, |n, &b| b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0')))
}

/// `B3` → (row 2, column 1), both from 0.
fn cell_reference(reference: &[u8]) -> Option<(u32, u32)> {
    let letters = reference.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    if letters == 0 || letters > 3 {
        return None;
    }
    let column = reference[..letters].iter().fold(0u32, |n, b| n * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1));
    let row = parse_number(&reference[letters..]).filter(|r| *r >= 1)?;
    Some((row - 1, column - 1))
}

/// The shortest decimal text of a number: `30` for 30.0, `99.1` for 99.1.
struct Shortest(f64);

impl std::fmt::Display for Shortest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.fract() == 0.0 && self.0.abs() < 1e15 {
            write!(f, "{}", self.0 as i64)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// Writes rows of text to a one-sheet workbook in constant memory: the header
/// in bold and frozen, every cell as text (codes keep their spelling).
pub struct XlsxWriter {
    workbook: rust_xlsxwriter::Workbook,
    row: u32,
    bold: rust_xlsxwriter::Format,
}

fn write_error(e: rust_xlsxwriter::XlsxError) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

impl XlsxWriter {
    /// A workbook whose sheet is named `sheet`, with this header row.
    pub fn new<S: AsRef<str>>(sheet: &str, header: &[S]) -> std::io::Result<XlsxWriter> {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let bold = rust_xlsxwriter::Format::new().set_bold();
        {
            let ws = workbook.add_worksheet_with_constant_memory();
            ws.set_name(sheet).map_err(write_error)?;
            ws.set_freeze_panes(1, 0).map_err(write_error)?;
            for (c, h) in header.iter().enumerate() {
                ws.write_string_with_format(0, c as u16, h.as_ref(), &bold).map_err(write_error)?;
            }
        }
        Ok(XlsxWriter { workbook, row: 1, bold })
    }

    /// Appends one row. Past Excel's 1,048,576 rows it is an error.
    pub fn write_row<S: AsRef<str>>(&mut self, cells: &[S]) -> std::io::Result<()> {
        if self.row >= MAX_ROWS {
            return Err(std::io::Error::other("more than 1,048,576 rows do not fit in one Excel sheet: write CSV instead"));
        }
        let ws = self.workbook.worksheet_from_index(0).map_err(write_error)?;
        for (c, v) in cells.iter().enumerate() {
            let v = v.as_ref();
            if !v.is_empty() {
                ws.write_string(self.row, c as u16, v).map_err(write_error)?;
            }
        }
        self.row += 1;
        Ok(())
    }

    /// Writes the workbook to `path`.
    pub fn save(mut self, path: &Path) -> std::io::Result<()> {
        let _ = &self.bold;
        self.workbook.save(path).map_err(write_error)
    }
}

/// Converts a CSV file (results, say) into a workbook at `path`.
pub fn csv_to_xlsx(csv_path: &Path, path: &Path, sheet: &str) -> std::io::Result<()> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_path(csv_path).map_err(std::io::Error::other)?;
    let header: Vec<String> = reader.headers().map_err(std::io::Error::other)?.iter().map(str::to_string).collect();
    let mut writer = XlsxWriter::new(sheet, &header)?;
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(std::io::Error::other)? {
        writer.write_row(&record.iter().collect::<Vec<_>>())?;
    }
    writer.save(path)
}

#[cfg(test)]
mod tests {
    use quick_xml::events::BytesStart;

    use super::attribute_text;

    /// The small parts' attributes (sheet names, relationship ids, number
    /// formats) are read as the sheet's are: by local name, either quote,
    /// entities decoded.
    #[test]
    fn an_attribute_is_found_by_local_name_and_decoded() {
        let e = BytesStart::from_content(r#"sheet name="A&amp;B &#x41;" sheetId='2' r:id="rId3" bad="&zz; x""#, 5);
        assert_eq!(attribute_text(&e, b"name").as_deref(), Some("A&B A"));
        assert_eq!(attribute_text(&e, b"sheetId").as_deref(), Some("2"));
        assert_eq!(attribute_text(&e, b"id").as_deref(), Some("rId3"));
        assert_eq!(attribute_text(&e, b"bad").as_deref(), Some("&zz; x"), "a malformed entity is taken as written");
        assert_eq!(attribute_text(&e, b"Target"), None);
        let date1904 = BytesStart::from_content(r#"workbookPr date1904="1""#, 10);
        assert_eq!(attribute_text(&date1904, b"date1904").as_deref(), Some("1"));
    }
}
